//! Page-table walkers side by side, on one workload, timed by one loop.
//!
//! The workload (fixed seed): 4096 distinct 4 KiB pages at random virtual
//! page numbers below 2^31 (x86) or 2^38 (Sv39), mapped to distinct random
//! frames between 16 MiB and 4 GiB; 65,536 lookups at random offsets in
//! those pages, shuffled; 1,024 probes of unmapped pages, which must fail.
//! Every walker is checked against the expected physical addresses before
//! it is timed. Each one then runs the same loop over the same addresses.
//!
//! Walkers:
//! - a minimal hand-written walk over a `Vec` (two-level x86, three-level Sv39);
//! - pagelab's answer-only walk (`walk::lookup`) and its recording walk
//!   (`walk::translate`, every step kept for display), over the simulated RAM,
//!   on tables built by the core's own `mappages`;
//! - peers: rust-osdev `x86_64` (`OffsetPageTable::translate_addr`, four-level
//!   x86-64 paging) and arceos `page_table_multiarch` (`PageTable64::query`
//!   with Sv39's three levels);
//! - two dependent loads from a `Vec` (the memory floor of a two-level walk).
//!
//! `cargo bench -p pagelab-core --bench walkers` prints criterion's times;
//! the last lines give ns per lookup and the ratio to the minimal walk,
//! from rounds in which every walker of a scheme runs once, in turn.
//! `scripts/walk-instructions.sh` counts each walker's instructions and
//! cache misses per lookup under cachegrind, through [`count`].

use criterion::measurement::WallTime;
use criterion::{Criterion, criterion_group};
use pagelab_core::addr::{PhysAddr, VirtAddr};
use pagelab_core::mem::Sim;
use pagelab_core::riscv::{RiscvKernel, RiscvLayout};
use pagelab_core::scheme::{Access, Scheme, Sv39, X86};
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::{Owner, Trace};
use pagelab_core::walk;
use pagelab_core::x86::{X86Kernel, X86Layout};
use std::collections::HashSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

const PAGES: usize = 4096;
const LOOKUPS: usize = 65_536;
const MISSES: usize = 1024;

/// splitmix64: a fixed, seeded sequence (no crate needed for a benchmark's input).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The pages (vpn → frame), the lookups (va, expected pa; none for a miss), shuffled.
struct Workload {
    map: Vec<(u64, u64)>,
    probes: Vec<(u64, Option<u64>)>,
}

fn workload(va_bits: u32, seed: u64) -> Workload {
    let mut rng = Rng(seed);
    let mut vpns = HashSet::new();
    let mut frames = HashSet::new();
    let mut map = Vec::new();
    while map.len() < PAGES {
        let vpn = rng.below(1 << (va_bits - 12));
        let frame = (16 << 20 >> 12) + rng.below((4u64 << 30 >> 12) - (16 << 20 >> 12));
        if vpns.insert(vpn) && frames.insert(frame) {
            map.push((vpn, frame));
        }
    }
    let mut probes: Vec<(u64, Option<u64>)> = (0..LOOKUPS)
        .map(|_| {
            let (vpn, frame) = map[rng.below(PAGES as u64) as usize];
            let off = rng.below(4096);
            (vpn << 12 | off, Some(frame << 12 | off))
        })
        .collect();
    while probes.len() < LOOKUPS + MISSES {
        let vpn = rng.below(1 << (va_bits - 12));
        if !vpns.contains(&vpn) {
            probes.push((vpn << 12 | rng.below(4096), None));
        }
    }
    for i in (1..probes.len()).rev() {
        probes.swap(i, rng.below(i as u64 + 1) as usize);
    }
    Workload { map, probes }
}

/// The one loop every walker runs: the sum of the addresses found (misses count 1).
#[inline(always)]
fn run(probes: &[(u64, Option<u64>)], mut f: impl FnMut(u64) -> Option<u64>) -> u64 {
    let mut sum = 0u64;
    for &(va, _) in probes {
        sum = sum.wrapping_add(f(black_box(va)).unwrap_or(1));
    }
    sum
}

/// Check `f` against the expected addresses before timing it.
fn verify(name: &str, w: &Workload, f: &mut impl FnMut(u64) -> Option<u64>) {
    for &(va, want) in &w.probes {
        assert_eq!(f(va), want, "{name}: {va:#x}");
    }
}

// ---- minimal walks over a Vec: tables are numbered pages of one vector ----

/// Two-level x86 tables in a `Vec<u32>`: page k of the vector is "physical" page k.
struct MiniX86 {
    mem: Vec<u32>,
}
impl MiniX86 {
    fn new(map: &[(u64, u64)]) -> MiniX86 {
        let mut m = MiniX86 { mem: vec![0; 1024] };
        for &(vpn, frame) in map {
            let (pdx, ptx) = ((vpn >> 10) as usize, (vpn & 0x3ff) as usize);
            if m.mem[pdx] & 1 == 0 {
                let page = m.mem.len() / 1024;
                m.mem.resize(m.mem.len() + 1024, 0);
                m.mem[pdx] = (page as u32) << 12 | 0x7;
            }
            let t = (m.mem[pdx] >> 12) as usize * 1024;
            m.mem[t + ptx] = (frame as u32) << 12 | 0x7;
        }
        m
    }
    #[inline(always)]
    fn walk(&self, va: u64) -> Option<u64> {
        let pde = self.mem[(va >> 22) as usize & 0x3ff];
        if pde & 1 == 0 {
            return None;
        }
        let pte = self.mem[(pde >> 12) as usize * 1024 + ((va >> 12) & 0x3ff) as usize];
        (pte & 1 != 0).then(|| u64::from(pte & !0xfff) | (va & 0xfff))
    }
}

/// Three-level Sv39 tables in a `Vec<u64>`.
struct MiniSv39 {
    mem: Vec<u64>,
}
impl MiniSv39 {
    fn new(map: &[(u64, u64)]) -> MiniSv39 {
        let mut m = MiniSv39 { mem: vec![0; 512] };
        for &(vpn, frame) in map {
            let mut table = 0usize;
            for level in [2u32, 1] {
                let i = table * 512 + ((vpn >> (9 * level)) & 0x1ff) as usize;
                if m.mem[i] & 1 == 0 {
                    let page = m.mem.len() / 512;
                    m.mem.resize(m.mem.len() + 512, 0);
                    m.mem[i] = (page as u64) << 10 | 1;
                }
                table = (m.mem[i] >> 10) as usize;
            }
            m.mem[table * 512 + (vpn & 0x1ff) as usize] = frame << 10 | 0xdf;
        }
        m
    }
    #[inline(always)]
    fn walk(&self, va: u64) -> Option<u64> {
        let mut table = 0usize;
        for level in [2u32, 1, 0] {
            let e = self.mem[table * 512 + ((va >> (12 + 9 * level)) & 0x1ff) as usize];
            if e & 1 == 0 {
                return None;
            }
            if e & 0xe != 0 {
                return Some((e >> 10) << 12 | (va & 0xfff));
            }
            table = (e >> 10) as usize;
        }
        None
    }
}

// ---- pagelab: tables built by the core's own mappages, in simulated RAM ----

fn pagelab_x86(map: &[(u64, u64)]) -> (X86Kernel<Sim>, PhysAddr) {
    let layout = X86Layout::xv6_public();
    let hw = Sim::new(0, u64::from(layout.phystop));
    let mut tr = Trace::counting_only();
    let mut k = X86Kernel::boot(layout, hw, Vec::new(), ShmMode::Lab, &mut tr).expect("boots");
    let pgdir = k.st.kalloc(&mut tr, Owner::PageDir { pid: 1 }).expect("memory");
    use pagelab_core::mem::PhysMem;
    k.st.hw.fill(pgdir.as_u64(), 4096, 0).expect("in RAM");
    let root = pgdir.to_u32().expect("below 4 GiB");
    for &(vpn, frame) in map {
        k.mappages(&mut tr, root, (vpn << 12) as u32, 4096, (frame << 12) as u32, 0x6, Owner::PageTable { pid: 1 })
            .expect("maps");
    }
    (k, pgdir)
}

fn pagelab_sv39(map: &[(u64, u64)]) -> (RiscvKernel<Sim>, PhysAddr) {
    let layout = RiscvLayout::xv6_riscv();
    let base = 0x8000_0000;
    let hw = Sim::new(base, layout.phystop - base);
    let mut tr = Trace::counting_only();
    let mut k = RiscvKernel::boot(layout, hw, Vec::new(), ShmMode::Lab, &mut tr).expect("boots");
    let root = k.st.kalloc(&mut tr, Owner::PageTable { pid: 1 }).expect("memory");
    use pagelab_core::mem::PhysMem;
    k.st.hw.fill(root.as_u64(), 4096, 0).expect("in RAM");
    for &(vpn, frame) in map {
        // PTE_R | PTE_W | PTE_U, as uvmalloc maps a user page.
        k.mappages(&mut tr, root.as_u64(), vpn << 12, 4096, frame << 12, 0x2 | 0x4 | 0x10, Owner::PageTable { pid: 1 })
            .expect("maps");
    }
    (k, root)
}

// ---- peers ----

/// Table pages for the peers, in one host allocation: "physical" address
/// ARENA_PA + k * 4096 is page k of the arena. (Low, so that the arena's
/// host address minus it, the peers' physical-to-virtual offset, does not
/// wrap wherever the host puts the arena: valgrind puts it low.)
const ARENA_PA: u64 = 0x1000;
const ARENA_PAGES: usize = 16_384;
static ARENA: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn arena() -> usize {
    *ARENA.get_or_init(|| {
        let v: Vec<[u8; 4096]> = vec![[0u8; 4096]; ARENA_PAGES];
        Box::leak(v.into_boxed_slice()).as_mut_ptr() as usize
    })
}

fn arena_alloc() -> u64 {
    let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    assert!(k < ARENA_PAGES, "arena full");
    ARENA_PA + k as u64 * 4096
}

mod osdev {
    use super::*;
    use x86_64::structures::paging::{
        FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags, PhysFrame, Size4KiB, Translate,
    };

    struct Frames;
    // Safety: every frame handed out is a fresh, zeroed page of the arena.
    unsafe impl FrameAllocator<Size4KiB> for Frames {
        fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
            Some(PhysFrame::containing_address(x86_64::PhysAddr::new(arena_alloc())))
        }
    }

    pub fn build(map: &[(u64, u64)]) -> OffsetPageTable<'static> {
        let base = arena();
        let offset = x86_64::VirtAddr::new(base as u64 - ARENA_PA);
        let l4 = arena_alloc();
        // Safety: the arena is mapped at `offset` for all of its pages, and l4 is one of them.
        let table = unsafe { &mut *((offset.as_u64() + l4) as *mut PageTable) };
        // Safety: as above: the whole arena is reachable at physical + offset.
        let mut pt = unsafe { OffsetPageTable::new(table, offset) };
        let flags = PageTableFlags::PRESENT | PageTableFlags::WRITABLE | PageTableFlags::USER_ACCESSIBLE;
        for &(vpn, frame) in map {
            let page = Page::<Size4KiB>::containing_address(x86_64::VirtAddr::new(vpn << 12));
            let f = PhysFrame::containing_address(x86_64::PhysAddr::new(frame << 12));
            // Safety: the frame is only a number here; nothing reads or writes it.
            unsafe { pt.map_to(page, f, flags, &mut Frames) }.expect("maps").ignore();
        }
        pt
    }

    #[inline(always)]
    pub fn lookup(pt: &OffsetPageTable<'static>, va: u64) -> Option<u64> {
        pt.translate_addr(x86_64::VirtAddr::new(va)).map(|p| p.as_u64())
    }
}

/// arceos `page_table_multiarch`: its generic walker (`PageTable64`) with
/// Sv39's shape: three levels, 39-bit addresses. On a host that is not
/// RISC-V the crate compiles no `Rv64PTE`, so the entries are its own
/// `X64PTE` (the walk, not the entry format, is what is timed).
mod arceos {
    use super::*;
    use memory_addr::{PhysAddr as Pa, VirtAddr as Va};
    use page_table_entry::x86_64::X64PTE;
    use page_table_multiarch::{MappingFlags, PageSize, PageTable64, PagingHandler, PagingMetaData};

    pub struct Sv39Shape;
    impl PagingMetaData for Sv39Shape {
        const LEVELS: usize = 3;
        const PA_MAX_BITS: usize = 56;
        const VA_MAX_BITS: usize = 39;
        type VirtAddr = Va;
        // The host has no such TLB to flush.
        fn flush_tlb(_: Option<Va>) {}
    }

    pub struct Arena;
    impl PagingHandler for Arena {
        fn alloc_frames(num: usize, _align: usize) -> Option<Pa> {
            assert_eq!(num, 1);
            Some(Pa::from(arena_alloc() as usize))
        }
        fn dealloc_frames(_: Pa, _: usize) {}
        fn phys_to_virt(pa: Pa) -> Va {
            Va::from(arena() + (pa.as_usize() - ARENA_PA as usize))
        }
    }

    pub type Table = PageTable64<Sv39Shape, X64PTE, Arena>;

    pub fn build(map: &[(u64, u64)]) -> Table {
        let mut pt = Table::try_new().expect("a root page");
        let flags = MappingFlags::READ | MappingFlags::WRITE | MappingFlags::USER;
        {
            let mut c = pt.cursor();
            for &(vpn, frame) in map {
                c.map(Va::from((vpn << 12) as usize), Pa::from((frame << 12) as usize), PageSize::Size4K, flags)
                    .expect("maps");
            }
        }
        pt
    }

    #[inline(always)]
    pub fn lookup(pt: &Table, va: u64) -> Option<u64> {
        pt.query(Va::from(va as usize)).ok().map(|(pa, _, _)| pa.as_usize() as u64)
    }
}

/// pagelab's answer-only walk (`walk::lookup`) as a lookup.
fn pagelab_lookup<S: Scheme>(mem: &Sim, root: PhysAddr) -> Box<dyn FnMut(u64) -> Option<u64> + '_> {
    Box::new(move |va| walk::lookup::<S>(mem, root, VirtAddr::new(va), Access::USER_READ).ok().map(|m| m.pa.as_u64()))
}

/// pagelab's recording walk (`walk::translate`, every step kept for display) as a lookup.
fn pagelab_translate<S: Scheme>(mem: &Sim, root: PhysAddr) -> Box<dyn FnMut(u64) -> Option<u64> + '_> {
    Box::new(move |va| {
        walk::translate::<S>(mem, root, VirtAddr::new(va), Access::USER_READ).outcome.ok().map(|m| m.pa.as_u64())
    })
}

/// Two dependent loads per lookup: the floor of any two-level walk.
struct Floor {
    a: Vec<u32>,
    b: Vec<u32>,
}

/// Rounds of the summary: in each, every walker of a scheme runs the loop
/// once, in turn, so that all of them meet the machine in the same state.
const ROUNDS: usize = 15;

/// A walker to time, by name.
type Walker<'a> = (&'static str, Box<dyn FnMut(u64) -> Option<u64> + 'a>);

/// Time `walkers` (the minimal walk first) with criterion, one by one; then
/// in [`ROUNDS`] interleaved rounds for the summary: each walker's median
/// ns per lookup, and the median over the rounds of its ratio to the
/// minimal walk of the same round. (This machine's speed drifts from one
/// second to the next; a ratio taken within a round does not.)
fn time_all(g: &mut criterion::BenchmarkGroup<'_, WallTime>, w: &Workload, walkers: &mut [Walker<'_>]) -> Vec<String> {
    for (name, f) in walkers.iter_mut() {
        verify(name, w, f);
        g.bench_function(*name, |b| b.iter(|| run(&w.probes, &mut *f)));
    }
    let n = walkers.len();
    let mut ns = vec![Vec::new(); n];
    let mut ratio = vec![Vec::new(); n];
    for round in 0..ROUNDS {
        let mut this = vec![0.0; n];
        // A different walker goes first in each round.
        for k in 0..n {
            let i = (round + k) % n;
            let t = Instant::now();
            black_box(run(&w.probes, &mut walkers[i].1));
            this[i] = t.elapsed().as_nanos() as f64 / w.probes.len() as f64;
        }
        for i in 0..n {
            ns[i].push(this[i]);
            ratio[i].push(this[i] / this[0]);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (0..n)
        .map(|i| format!("  {:7.2} ns  {:5.2}x  {}", median(&mut ns[i]), median(&mut ratio[i]), walkers[i].0))
        .collect()
}

/// Build each scheme's workload and walkers (the minimal walk first) and
/// hand them to `each` with the scheme's name.
fn with_walkers(each: &mut dyn FnMut(&str, &Workload, &mut [Walker<'_>])) {
    // x86: VAs below 2^31.
    let w = workload(31, 0x9a9e_1ab0);
    let mini = MiniX86::new(&w.map);
    let (k, root) = pagelab_x86(&w.map);
    let osdev = osdev::build(&w.map);
    each(
        "x86",
        &w,
        &mut [
            ("x86: minimal two-level walk (Vec)", Box::new(|va| mini.walk(va))),
            ("x86: pagelab walk::lookup", pagelab_lookup::<X86>(&k.st.hw, root)),
            ("x86: pagelab walk::translate (records steps)", pagelab_translate::<X86>(&k.st.hw, root)),
            ("x86: x86_64 0.15 OffsetPageTable::translate_addr", Box::new(|va| osdev::lookup(&osdev, va))),
        ],
    );

    // Sv39: VAs below 2^38 (xv6-riscv's user half).
    let w = workload(38, 0x5739_0001);
    let mini = MiniSv39::new(&w.map);
    let (k, root) = pagelab_sv39(&w.map);
    let arce = arceos::build(&w.map);
    each(
        "sv39",
        &w,
        &mut [
            ("sv39: minimal three-level walk (Vec)", Box::new(|va| mini.walk(va))),
            ("sv39: pagelab walk::lookup", pagelab_lookup::<Sv39>(&k.st.hw, root)),
            ("sv39: pagelab walk::translate (records steps)", pagelab_translate::<Sv39>(&k.st.hw, root)),
            ("sv39: page_table_multiarch 0.6 PageTable64::query (3 levels)", Box::new(|va| arceos::lookup(&arce, va))),
        ],
    );
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("walkers");
    g.sample_size(20).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    let mut lines = Vec::new();
    with_walkers(&mut |scheme, w, walkers| {
        lines.extend(time_all(&mut g, w, walkers));
        if scheme != "x86" {
            return;
        }
        // The floor answers with a number, not an address: it is timed, not verified.
        let floor = Floor {
            a: (0..1024).map(|i| (i * 7 % 1024) as u32).collect(),
            b: (0..1024 * 1024).map(|i| (i as u32).wrapping_mul(2_654_435_761)).collect(),
        };
        g.bench_function("floor: two dependent loads (Vec)", |b| {
            b.iter(|| {
                let mut sum = 0u64;
                for &(va, _) in &w.probes {
                    let i = floor.a[(black_box(va) >> 22) as usize & 0x3ff] as usize;
                    sum = sum.wrapping_add(u64::from(floor.b[i * 1024 + ((va >> 12) & 0x3ff) as usize]));
                }
                sum
            })
        });
    });
    g.finish();

    println!(
        "\nns per lookup (median of {ROUNDS} interleaved rounds of {} lookups), and the median of the ratio to the minimal walk in the same round:",
        LOOKUPS + MISSES
    );
    for line in lines {
        println!("{line}");
    }
}

/// `WALKERS_COUNT=list` prints the walkers' names; `WALKERS_COUNT=NAME:N`
/// checks walker NAME and runs its loop N times, untimed, for
/// `scripts/walk-instructions.sh` to count the instructions under
/// cachegrind (a figure this machine's noise does not move).
fn count(arg: &str) {
    let (name, passes) = arg.rsplit_once(':').map_or((arg, 0), |(n, p)| (n, p.parse().unwrap_or(0)));
    with_walkers(&mut |_, w, walkers| {
        for (walker, f) in walkers.iter_mut() {
            if name == "list" {
                println!("{walker}");
            } else if *walker == name {
                verify(walker, w, f);
                let sum = (0..passes).fold(0u64, |s, _| s.wrapping_add(run(&w.probes, &mut *f)));
                println!("{walker}: {passes} passes of {} lookups (sum {sum:#x})", w.probes.len());
            }
        }
    });
}

criterion_group!(walker_benches, benches);

fn main() {
    match std::env::var("WALKERS_COUNT") {
        Ok(arg) => count(&arg),
        Err(_) => {
            walker_benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
