//! The answer-only walk (`walk::lookup`) and the walk that records every
//! step for display (`walk::translate`) give the same answer for every
//! address of random page tables, faults included; and both agree with a
//! minimal walk written here from the architecture manuals, for the
//! addresses that end in a 4 KiB page: where it lands, and whether the
//! access is allowed (or which fault it raises).

#![cfg(not(target_arch = "wasm32"))]

use pagelab_core::addr::{PhysAddr, VirtAddr};
use pagelab_core::mem::{PhysMem, SimMem};
use pagelab_core::scheme::{Access, AccessKind, FaultKind, Mode, Scheme, SchemeKind, Sv32, Sv39, X86};
use pagelab_core::walk::{Mapped, lookup, translate};
use proptest::prelude::*;

/// RAM: 8 table pages from 0x10000, so that an entry can also point below
/// or above RAM (a table outside RAM).
const BASE: u64 = 0x10000;
const PAGES: u64 = 8;

/// One entry of a random table: 0; a pointer to table page `k` (outside
/// RAM when `k` is 8 or more) as the kernel makes one, or as a valid leaf
/// with random other flags, or with random low flag bits; or any word at all.
#[derive(Clone, Copy, Debug)]
enum Entry {
    Zero,
    Table(u64),
    Leaf(u64, u64),
    To(u64, u64),
    Any(u64),
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        1 => Just(Entry::Zero),
        3 => (0u64..10).prop_map(Entry::Table),
        3 => (0u64..10, any::<u64>()).prop_map(|(k, f)| Entry::Leaf(k, f)),
        2 => (0u64..10, any::<u64>()).prop_map(|(k, f)| Entry::To(k, f)),
        1 => any::<u64>().prop_map(Entry::Any),
    ]
}

/// The entry's value in scheme `S`'s format (x86: address | flags; RISC-V: PPN << 10 | flags).
fn encode<S: Scheme>(e: Entry) -> u64 {
    let mask = if S::ENTRY_BYTES == 4 { 0xffff_ffff } else { u64::MAX };
    match e {
        Entry::Zero => 0,
        Entry::Any(v) => v & mask,
        Entry::Table(k) => S::table_entry(BASE + k * 0x1000) & mask,
        // x86: present plus random flags; RISC-V: valid and readable plus random flags.
        Entry::Leaf(k, f) => {
            encode::<S>(Entry::To(k, if S::KIND == pagelab_core::scheme::SchemeKind::X86 { f | 1 } else { f | 3 }))
        }
        Entry::To(k, f) => {
            let pa = BASE + k * 0x1000;
            let v = if S::KIND == pagelab_core::scheme::SchemeKind::X86 {
                pa | (f & 0xfff)
            } else {
                (pa >> 12) << 10 | (f & 0x3ff)
            };
            v & mask
        }
    }
}

fn access() -> impl Strategy<Value = Access> {
    (0usize..3, any::<bool>()).prop_map(|(k, user)| Access {
        kind: [AccessKind::Read, AccessKind::Write, AccessKind::Execute][k],
        mode: if user { Mode::User } else { Mode::Kernel },
    })
}

/// Tables: entries 0 to 3 of each of the 8 pages. Addresses pick indices
/// 0 to 4 at each level (4: an entry never written, so zero).
/// An address to try: indices (root level first), offset, high bits, access.
type Probe = ([u64; 3], u64, u64, Access);

fn case() -> impl Strategy<Value = (Vec<Entry>, Vec<Probe>)> {
    (
        prop::collection::vec(entry(), (PAGES * 4) as usize),
        prop::collection::vec(([0u64..5, 0u64..5, 0u64..5], 0u64..0x1000, any::<u64>(), access()), 1..40),
    )
}

fn memory<S: Scheme>(entries: &[Entry]) -> SimMem {
    let mut mem = SimMem::new(BASE, PAGES * 0x1000);
    for (i, e) in entries.iter().enumerate() {
        let (page, idx) = (i as u64 / 4, i as u64 % 4);
        mem.write_word(BASE + page * 0x1000 + idx * S::ENTRY_BYTES, S::ENTRY_BYTES, encode::<S>(*e)).unwrap();
    }
    mem
}

/// A virtual address from indices, root level first, and the page offset;
/// `high` decides the bits above the scheme's width (sometimes non-canonical).
fn va_of<S: Scheme>(idx: [u64; 3], off: u64, high: u64) -> u64 {
    let mut va = off;
    for (i, level) in (0..S::LEVELS).rev().enumerate() {
        va |= idx[i] << (12 + level * (if S::ENTRY_BYTES == 4 { 10 } else { 9 }));
    }
    if S::ENTRY_BYTES == 8 && high.is_multiple_of(4) {
        va |= high << 39;
    }
    va
}

/// The manuals' rule for an access through `upper` (the entries above the
/// last, each valid and pointing to a table) to the 4 KiB entry `last`:
/// x86 (Intel SDM vol. 3, 4.6, with CR0.WP set as xv6 sets it) asks the
/// directory entry and the table entry for P, U and W alike; RISC-V (the
/// privileged spec, 4.3.2, with SUM clear) reads only the leaf.
fn manual_rule<S: Scheme>(upper: &[u64], last: u64, acc: Access) -> Result<(), FaultKind> {
    let (user, write, exec) = (acc.mode == Mode::User, acc.kind == AccessKind::Write, acc.kind == AccessKind::Execute);
    if S::KIND == SchemeKind::X86 {
        let both = upper.iter().fold(last, |a, e| a & e);
        return match () {
            () if last & 1 == 0 => Err(FaultKind::NotPresent),
            () if user && both & 4 == 0 => Err(FaultKind::NotUser),
            () if write && both & 2 == 0 => Err(FaultKind::ReadOnly),
            () => Ok(()),
        };
    }
    let (v, r, w, x, u) = (last & 1 != 0, last & 2 != 0, last & 4 != 0, last & 8 != 0, last & 16 != 0);
    match () {
        () if !v => Err(FaultKind::NotPresent),
        () if w && !r => Err(FaultKind::Reserved),
        () if !(r || w || x) => Err(FaultKind::NoLeaf),
        () if user && !u => Err(FaultKind::NotUser),
        () if !user && u => Err(FaultKind::KernelTouchedUser),
        () if exec && !x => Err(FaultKind::NotExecutable),
        () if write && !w => Err(FaultKind::ReadOnly),
        () if !exec && !write && !r => Err(FaultKind::NotReadable),
        () => Ok(()),
    }
}

/// The fast and the recording walk agree; and where a plain descent goes
/// through valid table entries inside RAM to a 4 KiB entry, the answer is
/// the manuals' rule for it, and a mapping lands where the descent says.
fn agree<S: Scheme>(entries: &[Entry], probes: &[Probe]) {
    let mem = memory::<S>(entries);
    let root = PhysAddr::new(BASE);
    for &(idx, off, high, acc) in probes {
        let va = va_of::<S>(idx, off, high);
        let fast = lookup::<S>(&mem, root, VirtAddr::new(va), acc);
        let full = translate::<S>(&mem, root, VirtAddr::new(va), acc);
        match (&fast, &full.outcome) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{:?} {va:#x}", S::KIND),
            (Err(stop), Err(f)) => {
                assert_eq!((stop.level, stop.kind), (f.level, f.kind), "{:?} {va:#x}", S::KIND);
            }
            _ => panic!("{:?} {va:#x} {acc:?}: fast {fast:?}, recording {:?}", S::KIND, full.outcome),
        }
        // A minimal descent: follow the index of each level through the entries' addresses.
        let x86 = S::KIND == SchemeKind::X86;
        let canonical = x86 || S::ENTRY_BYTES == 4 || va >> 38 == 0 || va >> 38 == (1 << 26) - 1;
        let mut table = BASE;
        let mut upper = Vec::new();
        for level in (0..S::LEVELS).rev() {
            let Ok(e) = mem.read_word(table + S::index(va, level) * S::ENTRY_BYTES, S::ENTRY_BYTES) else {
                break;
            };
            table = if x86 { e & 0xffff_f000 } else { ((e >> 10) & ((1 << 44) - 1)) << 12 };
            if level == 0 {
                if canonical {
                    let want = manual_rule::<S>(&upper, e, acc);
                    assert_eq!(fast.as_ref().map(|_| ()).map_err(|s| s.kind), want, "{:?} {va:#x} {acc:?}", S::KIND);
                }
                if let Ok(Mapped { pa, .. }) = fast {
                    assert_eq!(pa.as_u64(), table | (va & 0xfff), "{:?} {va:#x}", S::KIND);
                }
                break;
            }
            // Go on only through a valid entry that points to a table (x86: P and not PS; RISC-V: V, no R, W or X).
            let to_table = if x86 { e & 1 != 0 && e & 0x80 == 0 } else { e & 1 != 0 && e & 0xe == 0 };
            if !to_table {
                break;
            }
            upper.push(e);
        }
        assert!(full.steps.len() as u32 <= S::LEVELS);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn fast_and_recording_walks_agree_on_x86((entries, probes) in case()) {
        agree::<X86>(&entries, &probes);
    }

    #[test]
    fn fast_and_recording_walks_agree_on_sv39((entries, probes) in case()) {
        agree::<Sv39>(&entries, &probes);
    }

    #[test]
    fn fast_and_recording_walks_agree_on_sv32((entries, probes) in case()) {
        agree::<Sv32>(&entries, &probes);
    }
}
