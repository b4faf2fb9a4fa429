//! Views of a machine for display: page-table dumps, the stack exec built,
//! the address space, the frame map, the free list, and an audit that
//! proves every frame is free or owned by exactly one known user.
//!
//! Views read the machine; they never change it. The text forms
//! ([`vmprint`], [`stack_text`]) are shared by the command-line runner and
//! the bare-metal kernel, so that the two can be compared line by line.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;
use serde::Serialize;

use crate::addr::{PGROUNDDOWN, PGROUNDUP, PGSIZE, PhysAddr, VirtAddr};
use crate::elf::{ELF_PROG_FLAG_EXEC, ELF_PROG_FLAG_WRITE};
use crate::mem::PhysMem;
use crate::port::{Kernel, Port};
use crate::proc::{Image, Proc};
use crate::scheme::{Scheme, SchemeKind};
use crate::shm::ShmMode;
use crate::tlb::Serve;
use crate::trace::Owner;
use crate::walk;

/// One valid entry found by walking a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableEntry {
    /// Level of the table holding it.
    pub level: u32,
    /// Index in that table.
    pub index: u64,
    /// The table's frame.
    pub table: u64,
    /// First virtual address it covers.
    pub va: u64,
    /// Its value.
    pub pte: u64,
    /// Address it points to (next table or frame).
    pub pa: u64,
    /// True if it maps memory.
    pub leaf: bool,
}

/// Every valid entry of the table rooted at `root`, depth first. Entries
/// whose address is `>= leaf_limit` are listed but not descended into.
fn walk_all<S: Scheme>(mem: &dyn PhysMem, root: u64, leaf_limit: u64) -> Vec<TableEntry> {
    fn rec<S: Scheme>(
        mem: &dyn PhysMem,
        table: u64,
        level: u32,
        base: u64,
        limit: u64,
        out: &mut Vec<TableEntry>,
        depth: u32,
    ) {
        if depth > S::LEVELS {
            return;
        }
        for index in 0..S::ENTRIES {
            let Ok(pte) = mem.read_word(table + index * S::ENTRY_BYTES, S::ENTRY_BYTES) else { return };
            if pte & S::VALID == 0 {
                continue;
            }
            let va = base | (index << (S::PAGE_SHIFT + S::INDEX_BITS * level));
            // Sv39: addresses with bit 38 set are sign-extended.
            let va = if S::KIND == SchemeKind::Sv39 && va & (1 << 38) != 0 { va | !((1u64 << 39) - 1) } else { va };
            let leaf = S::is_leaf(pte, level);
            let pa = S::pte_pa(pte);
            out.push(TableEntry { level, index, table, va, pte, pa, leaf });
            if !leaf && level > 0 && va < limit {
                rec::<S>(mem, pa, level - 1, va & ((1u64 << 39) - 1), limit, out, depth + 1);
            }
        }
    }
    let mut out = Vec::new();
    rec::<S>(mem, root, S::LEVELS - 1, 0, leaf_limit, &mut out, 0);
    out
}

/// Every valid entry of a table, for the scheme chosen at run time.
#[must_use]
pub fn table_entries(scheme: SchemeKind, mem: &dyn PhysMem, root: PhysAddr, leaf_limit: u64) -> Vec<TableEntry> {
    crate::with_scheme!(scheme, S => walk_all::<S>(mem, root.as_u64(), leaf_limit))
}

fn proc_of(k: &dyn Kernel, pid: u32) -> Option<&Proc> {
    k.procs().get(pid)
}

/// Runs of at least this many like leaf entries in a row are printed by
/// [`vmprint`] as their first and last entry and one line for those between
/// (a process that sbrk'd all of memory has tens of thousands).
pub const VMPRINT_FOLD_AT: usize = 32;

/// How many entries from `es[at]` on are a run: leaves of one table at
/// consecutive indexes, with the same flags (the bits of `flags`) and the
/// address they map moving by the same step each time. At least 1.
fn like_run(es: &[TableEntry], at: usize, flags: u64) -> usize {
    let first = &es[at];
    let Some(second) = es.get(at + 1) else { return 1 };
    let step = second.pa.wrapping_sub(first.pa);
    let mut n = 1;
    while let Some(next) = es.get(at + n) {
        let prev = &es[at + n - 1];
        let alike = next.leaf
            && prev.leaf
            && next.table == prev.table
            && next.level == prev.level
            && next.index == prev.index + 1
            && next.pte & flags == prev.pte & flags
            && next.pa.wrapping_sub(prev.pa) == step;
        if !alike {
            break;
        }
        n += 1;
    }
    n
}

/// The words for a run's step: "pa going down by 0x1000 each time".
fn step_words(first: &TableEntry, second: &TableEntry) -> String {
    let step = second.pa.wrapping_sub(first.pa) as i64;
    match step {
        0 => String::from("all mapping the same pa"),
        s if s > 0 => format!("pa going up by {s:#x} each time"),
        s => format!("pa going down by {:#x} each time", s.unsigned_abs()),
    }
}

/// Print `es` a line each with `line`, but each run of [`VMPRINT_FOLD_AT`]
/// or more like leaves (see [`like_run`], `flags` the bits that must agree)
/// as its first line, `between(run)` for the rest but the last, and the last.
fn print_folded(
    s: &mut String,
    es: &[TableEntry],
    flags: u64,
    line: impl Fn(&mut String, &TableEntry),
    between: impl Fn(&mut String, &[TableEntry]),
) {
    let mut i = 0;
    while i < es.len() {
        let n = if es[i].leaf { like_run(es, i, flags) } else { 1 };
        if n < VMPRINT_FOLD_AT {
            line(s, &es[i]);
            i += 1;
            continue;
        }
        let run = &es[i..i + n];
        line(s, &run[0]);
        between(s, run);
        line(s, &run[n - 1]);
        i += n;
    }
}

/// A process's page table as text: for RISC-V in the format of the xv6
/// labs' `vmprint`; for x86 a PDX/PTX listing of the user half, with the
/// kernel half summarized. A run of [`VMPRINT_FOLD_AT`] or more like
/// entries shows its first and last, and a line for those between. Empty
/// if there is no such process.
#[must_use]
pub fn vmprint(k: &dyn Kernel, pid: u32) -> String {
    let Some(p) = proc_of(k, pid) else { return String::new() };
    let mut s = String::new();
    match k.info().port {
        Port::Xv6Riscv => {
            let _ = writeln!(s, "page table {:#018x}", p.root);
            let es = table_entries(SchemeKind::Sv39, k.mem(), p.root, u64::MAX);
            let line = |s: &mut String, e: &TableEntry| {
                let dots = " ..".repeat((3 - e.level) as usize);
                let _ = writeln!(s, "{dots}{}: pte {:#018x} pa {:#018x}", e.index, e.pte, e.pa);
            };
            print_folded(&mut s, &es, 0x3ff, line, |s, run| {
                let (first, last) = (&run[0], &run[run.len() - 1]);
                let _ = writeln!(
                    s,
                    "{}{}–{}: {} entries like these two (the same flags, {})",
                    " ..".repeat((3 - first.level) as usize),
                    first.index + 1,
                    last.index - 1,
                    run.len() - 2,
                    step_words(first, &run[1])
                );
            });
        }
        Port::Xv6Public => {
            let limit = k.info().user_limit;
            let _ = writeln!(s, "page directory {:#010x} (pid {pid})", p.root);
            let mut kernel = 0;
            let es: Vec<TableEntry> = table_entries(SchemeKind::X86, k.mem(), p.root, limit)
                .into_iter()
                .filter(|e| {
                    let k_half = e.level == 1 && e.va >= limit;
                    kernel += usize::from(k_half);
                    !k_half
                })
                .collect();
            let line = |s: &mut String, e: &TableEntry| {
                let flags = SchemeKind::X86.flag_names(e.pte);
                if e.level == 1 {
                    let _ = writeln!(s, " PDX {}: pde {:#010x} pa {:#010x} {flags}", e.index, e.pte, e.pa);
                } else {
                    let _ = writeln!(
                        s,
                        "  PTX {}: pte {:#010x} pa {:#010x} {flags} va {:#010x}",
                        e.index, e.pte, e.pa, e.va
                    );
                }
            };
            print_folded(&mut s, &es, 0xfff, line, |s, run| {
                let (first, last) = (&run[0], &run[run.len() - 1]);
                let _ = writeln!(
                    s,
                    "  PTX {}–{}: {} entries like these two (the same flags, {}, va {:#010x}–{:#010x})",
                    first.index + 1,
                    last.index - 1,
                    run.len() - 2,
                    step_words(first, &run[1]),
                    run[1].va,
                    run[run.len() - 2].va
                );
            });
            let _ = writeln!(
                s,
                " PDX 512-1023: {kernel} entries map the kernel's half, through {kernel} page tables of this process's own (setupkvm makes them for every process, all mapping alike)"
            );
        }
    }
    s
}

/// What a word on the stack exec built is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StackRole {
    /// x86: the fake return address, 0xffffffff.
    FakeReturnPc,
    /// x86: argc.
    Argc,
    /// x86: the argv pointer main receives.
    ArgvPointer,
    /// `argv[index]`: the address of argument `index`.
    Argv {
        /// Which argument.
        index: usize,
    },
    /// The null pointer that ends argv.
    ArgvEnd,
    /// Bytes of argument `index`'s string (with its NUL), maybe with padding.
    Text {
        /// Which argument.
        index: usize,
        /// The bytes of the string in this word, as text (`\0` for NUL).
        text: String,
        /// Padding bytes in this word.
        padding: u32,
    },
    /// Only padding (alignment).
    Padding,
}

impl StackRole {
    /// Plain words.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            StackRole::FakeReturnPc => "fake return PC".into(),
            StackRole::Argc => "argc".into(),
            StackRole::ArgvPointer => "argv (pointer to argv[0])".into(),
            StackRole::Argv { index } => format!("argv[{index}]"),
            StackRole::ArgvEnd => "argv[argc] = 0 (end of argv)".into(),
            StackRole::Text { index, text, padding } => {
                if *padding > 0 {
                    format!("argv[{index}] bytes \"{text}\" + {padding} padding")
                } else {
                    format!("argv[{index}] bytes \"{text}\"")
                }
            }
            StackRole::Padding => "padding".into(),
        }
    }
}

/// One word of the stack exec built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StackWord {
    /// Its address.
    pub va: u64,
    /// Its value (little-endian, 4 or 8 bytes).
    pub value: u64,
    /// What it is.
    pub role: StackRole,
    /// True for the word sp points to.
    pub sp: bool,
}

/// The stack of `pid` as exec left it: every word from sp to the top of the
/// stack page. Empty if the process has not called exec (or has no such pid).
#[must_use]
pub fn stack_words(k: &dyn Kernel, pid: u32) -> Vec<StackWord> {
    let Some(p) = proc_of(k, pid) else { return Vec::new() };
    let Some(img) = &p.image else { return Vec::new() };
    let scheme = k.info().scheme;
    if !stack_mapped(k, pid) {
        return Vec::new();
    }
    let w = img.word;
    let mut out = Vec::new();
    let mut va = img.sp;
    let nargs = img.args.len();
    // Where the argv array starts.
    let (argv0, header) = if w == 4 { (img.sp + 12, true) } else { (img.sp, false) };
    while va + w <= img.stack_top {
        let t = walk::translate_dyn(scheme, k.mem(), p.root, VirtAddr::new(va), crate::scheme::Access::USER_READ);
        let value = match t.outcome {
            Ok(m) => k.mem().read_word(m.pa.as_u64(), w).unwrap_or(0),
            Err(_) => 0,
        };
        let role = if header && va == img.sp {
            StackRole::FakeReturnPc
        } else if header && va == img.sp + 4 {
            StackRole::Argc
        } else if header && va == img.sp + 8 {
            StackRole::ArgvPointer
        } else if va >= argv0 && va < argv0 + nargs as u64 * w {
            StackRole::Argv { index: ((va - argv0) / w) as usize }
        } else if va == argv0 + nargs as u64 * w {
            StackRole::ArgvEnd
        } else {
            text_role(img, va, value)
        };
        out.push(StackWord { va, value, role, sp: va == img.sp });
        va += w;
    }
    out
}

fn text_role(img: &Image, va: u64, value: u64) -> StackRole {
    let bytes = value.to_le_bytes();
    for (index, a) in img.args.iter().enumerate() {
        let (s, e) = (a.va, a.va + a.text.len() as u64 + 1);
        if va + img.word > s && va < e {
            let mut text = String::new();
            let mut padding = 0;
            for i in 0..img.word {
                let b = va + i;
                if b >= s && b < e {
                    let c = bytes[i as usize];
                    match c {
                        0 => text.push_str("\\0"),
                        0x20..=0x7e => text.push(c as char),
                        _ => {
                            let _ = write!(text, "\\x{c:02x}");
                        }
                    }
                } else {
                    padding += 1;
                }
            }
            return StackRole::Text { index, text, padding };
        }
    }
    StackRole::Padding
}

/// True if `pid` has an image whose stack page is still mapped (sbrk can
/// shrink a process below its own stack).
#[must_use]
pub fn stack_mapped(k: &dyn Kernel, pid: u32) -> bool {
    let Some(p) = proc_of(k, pid) else { return false };
    let Some(img) = &p.image else { return false };
    let t = walk::translate_dyn(
        k.info().scheme,
        k.mem(),
        p.root,
        VirtAddr::new(img.stack),
        crate::scheme::Access::USER_READ,
    );
    t.outcome.is_ok() && img.stack < p.sz
}

/// The stack as text, one word a line from sp upward (shared with the kernel's serial output).
#[must_use]
pub fn stack_text(k: &dyn Kernel, pid: u32) -> String {
    let Some(p) = proc_of(k, pid) else { return String::new() };
    let Some(img) = &p.image else { return String::new() };
    let width = if img.word == 4 { 10 } else { 18 };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "stack of pid {pid} ({}): sp {:#x}, stack page {:#x}-{:#x}, guard page {:#x}-{:#x}",
        p.name,
        img.sp,
        img.stack,
        img.stack + PGSIZE,
        img.guard,
        img.guard + PGSIZE
    );
    if !stack_mapped(k, pid) {
        let _ = writeln!(s, "the stack page is not mapped any more: sz {:#x} ends below it", p.sz);
    }
    for wd in stack_words(k, pid) {
        let mark = if wd.sp { "  <- sp" } else { "" };
        let _ = writeln!(s, "{:#0width$x}: {:#0width$x}  {}{mark}", wd.va, wd.value, wd.role.describe());
    }
    s
}

/// A part of a process's address space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Region {
    /// First address.
    pub start: u64,
    /// One past the last.
    pub end: u64,
    /// What it is.
    pub kind: RegionKind,
    /// Plain words.
    pub label: String,
}

/// Kinds of region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    /// Program text (and data, in xv6-public's single segment).
    Text,
    /// Program data.
    Data,
    /// The first program's single page.
    Initcode,
    /// The stack guard page.
    Guard,
    /// The user stack.
    Stack,
    /// Memory added by sbrk.
    Heap,
    /// A shared page.
    Shared,
    /// A page left unmapped by closing a shared page.
    Hole,
    /// The note's fork: a private copy of a shared page, not the shared frame.
    SharedCopy,
    /// xv6-public: every page below sz, freed by an sbrk that shrank the
    /// process to 0, which growproc took for failure and so kept sz.
    Freed,
    /// RISC-V: the trapframe page.
    Trapframe,
    /// RISC-V: the trampoline page.
    Trampoline,
    /// The kernel's part of every address space.
    Kernel,
}

/// The address space of `pid`, lowest first.
#[must_use]
pub fn regions(k: &dyn Kernel, pid: u32) -> Vec<Region> {
    let Some(p) = proc_of(k, pid) else { return Vec::new() };
    let mut out = Vec::new();
    let top = match (p.freed_below_sz, &p.image) {
        (Some(kept), _) => {
            let kept = PGROUNDUP(kept.min(p.sz));
            out.push(Region {
                start: 0,
                end: kept,
                kind: RegionKind::Freed,
                label: "freed by sbrk, below the sz growproc kept".into(),
            });
            kept
        }
        (None, None) => {
            out.push(Region { start: 0, end: PGSIZE, kind: RegionKind::Initcode, label: "initcode".into() });
            PGSIZE
        }
        (None, Some(img)) => {
            for s in &img.segments {
                let (a, b) = (PGROUNDDOWN(s.vaddr), PGROUNDUP(s.vaddr + s.memsz));
                let (kind, label) = if s.flags & ELF_PROG_FLAG_EXEC != 0 && s.flags & ELF_PROG_FLAG_WRITE != 0 {
                    (RegionKind::Text, format!("text and data ({})", s.flags_text()))
                } else if s.flags & ELF_PROG_FLAG_EXEC != 0 {
                    (RegionKind::Text, format!("text ({})", s.flags_text()))
                } else {
                    (RegionKind::Data, format!("data ({})", s.flags_text()))
                };
                out.push(Region { start: a, end: b, kind, label });
            }
            out.push(Region {
                start: img.guard,
                end: img.guard + PGSIZE,
                kind: RegionKind::Guard,
                label: "guard page (no user bit)".into(),
            });
            out.push(Region { start: img.stack, end: img.stack_top, kind: RegionKind::Stack, label: "stack".into() });
            img.stack_top
        }
    };
    // The note's shared memory keeps no list of a process's shared pages, only
    // proc->shmemaddr: what that page maps says whether it is one.
    let note_page = (k.shm_mode() == ShmMode::Note && p.shmemaddr != 0).then(|| {
        let va = PGROUNDDOWN(p.shmemaddr);
        let t =
            walk::translate_dyn(k.info().scheme, k.mem(), p.root, VirtAddr::new(va), crate::scheme::Access::USER_READ);
        let owner = t.outcome.ok().and_then(|m| k.kmem().owner(m.frame.as_u64()));
        (va, owner)
    });
    // Above the stack: heap pages, shared pages and holes, in address order.
    let mut a = PGROUNDUP(top);
    let mut heap_start = None;
    let end = PGROUNDUP(p.sz);
    // The first page from `from` on that may be other than heap (a shared
    // page, a hole, a private copy, the note's page), or `end`: the pages
    // before it are heap, one run, however many (a sbrk of all of memory).
    let next_other = |from: u64| {
        p.shm
            .iter()
            .map(|m| m.va)
            .chain(p.holes.iter().copied())
            .chain(p.shm_copies.iter().map(|m| m.va))
            .chain(note_page.map(|(va, _)| va))
            .filter(|&v| v >= from && v.is_multiple_of(PGSIZE))
            .min()
            .map_or(end, |v| v.min(end))
    };
    while a < end {
        let shared = p.shm.iter().find(|m| m.va == a).map(|m| m.id).or(match note_page {
            Some((va, Some(Owner::Shared { id }))) if va == a => Some(id),
            _ => None,
        });
        let hole = p.holes.contains(&a) || matches!(note_page, Some((va, None)) if va == a);
        let copy = p.shm_copies.iter().find(|m| m.va == a).map(|m| m.id);
        if shared.is_some() || hole || copy.is_some() {
            if let Some(h) = heap_start.take() {
                out.push(Region { start: h, end: a, kind: RegionKind::Heap, label: "heap (sbrk)".into() });
            }
            let (kind, label) = match (shared, copy) {
                (Some(id), _) => (RegionKind::Shared, format!("shared page {id}")),
                (None, Some(id)) => (RegionKind::SharedCopy, format!("private copy of shared page {id}")),
                (None, None) => (RegionKind::Hole, "hole (a closed shared page)".into()),
            };
            out.push(Region { start: a, end: a + PGSIZE, kind, label });
        } else {
            heap_start.get_or_insert(a);
            a = next_other(a + PGSIZE);
            continue;
        }
        a += PGSIZE;
    }
    if let Some(h) = heap_start {
        out.push(Region { start: h, end, kind: RegionKind::Heap, label: "heap (sbrk)".into() });
    }
    match k.info().port {
        Port::Xv6Public => {
            // setupkvm's kmap: KERNBASE maps all of RAM up to PHYSTOP, and
            // DEVSPACE the devices up to 4 GB; between them, nothing.
            let constant = |n: &str| k.info().constants.iter().find(|(c, _)| c == n).map(|(_, v)| *v);
            let kernbase = k.info().user_limit;
            let phystop = constant("PHYSTOP").unwrap_or(0);
            out.push(Region {
                start: kernbase,
                end: kernbase + phystop,
                kind: RegionKind::Kernel,
                label: "kernel: all of RAM, from KERNBASE to KERNBASE + PHYSTOP (no user bit)".into(),
            });
            if let Some(dev) = constant("DEVSPACE") {
                out.push(Region {
                    start: dev,
                    end: 1 << 32,
                    kind: RegionKind::Kernel,
                    label: "kernel: devices, DEVSPACE and up (no user bit)".into(),
                });
            }
        }
        Port::Xv6Riscv => {
            let tf = crate::riscv::TRAPFRAME;
            out.push(Region { start: tf, end: tf + PGSIZE, kind: RegionKind::Trapframe, label: "trapframe".into() });
            out.push(Region {
                start: crate::riscv::TRAMPOLINE,
                end: crate::riscv::TRAMPOLINE + PGSIZE,
                kind: RegionKind::Trampoline,
                label: "trampoline".into(),
            });
        }
    }
    out
}

/// The state of one physical frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FrameState {
    /// Below the kernel image, on x86 only: 0 to EXTMEM (1 MB), which xv6
    /// maps as I/O space (the BIOS's data, the boot sector, video memory).
    /// Never on the free list.
    Low,
    /// The kernel image: from where it is loaded to `end`.
    Kernel,
    /// On the free list.
    Free,
    /// Allocated.
    Owned {
        /// To whom.
        owner: Owner,
    },
}

/// Every frame of RAM with its state, lowest first.
#[must_use]
pub fn frames(k: &dyn Kernel) -> Vec<(u64, FrameState)> {
    let info = k.info();
    let first_free = PGROUNDUP(info.kernel_end);
    let owners: BTreeMap<u64, Owner> = k.kmem().owners().collect();
    let mut out = Vec::new();
    let mut pa = info.ram_base;
    while pa < info.phystop {
        let st = if pa < info.kernel_start {
            FrameState::Low
        } else if pa < first_free {
            FrameState::Kernel
        } else if let Some(&owner) = owners.get(&pa) {
            FrameState::Owned { owner }
        } else {
            FrameState::Free
        };
        out.push((pa, st));
        pa += PGSIZE;
    }
    out
}

/// `count` frames from `pa`, all in one state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FrameRun {
    /// The first frame.
    pub pa: u64,
    /// How many frames.
    pub count: u64,
    /// Their state.
    pub state: FrameState,
}

/// The frames of [`frames`] as runs, lowest first: what lies below the
/// kernel image (x86) and the kernel image as a run each, each allocated
/// frame as a run of its own, and the free frames between them as the
/// longest runs they make. It takes time in proportion
/// to the frames in use, not to the size of RAM (xv6-public has 57,344
/// frames, of which a few hundred are in use).
#[must_use]
pub fn frame_runs(k: &dyn Kernel) -> Vec<FrameRun> {
    let info = k.info();
    let first_free = PGROUNDUP(info.kernel_end).clamp(info.ram_base, info.phystop);
    let start = info.kernel_start.clamp(info.ram_base, first_free);
    let mut out = Vec::new();
    if start > info.ram_base {
        out.push(FrameRun { pa: info.ram_base, count: (start - info.ram_base) / PGSIZE, state: FrameState::Low });
    }
    if first_free > start {
        out.push(FrameRun { pa: start, count: (first_free - start) / PGSIZE, state: FrameState::Kernel });
    }
    // The next frame not yet in a run.
    let mut next = first_free;
    // Owners below the kernel's end count as kernel image, as in `frames`.
    for (pa, owner) in k.kmem().owners().filter(|&(pa, _)| pa >= first_free && pa < info.phystop) {
        if !(pa - info.ram_base).is_multiple_of(PGSIZE) {
            continue;
        }
        if pa > next {
            out.push(FrameRun { pa: next, count: (pa - next) / PGSIZE, state: FrameState::Free });
        }
        out.push(FrameRun { pa, count: 1, state: FrameState::Owned { owner } });
        next = pa + PGSIZE;
    }
    if info.phystop > next {
        out.push(FrameRun { pa: next, count: (info.phystop - next).div_ceil(PGSIZE), state: FrameState::Free });
    }
    out
}

/// The state of the frame that starts at `pa`, as [`frames`] gives it;
/// None if no frame of RAM starts there.
#[must_use]
pub fn frame_state(k: &dyn Kernel, pa: u64) -> Option<FrameState> {
    let info = k.info();
    if pa < info.ram_base || pa >= info.phystop || !(pa - info.ram_base).is_multiple_of(PGSIZE) {
        return None;
    }
    if pa < info.kernel_start {
        return Some(FrameState::Low);
    }
    if pa < PGROUNDUP(info.kernel_end) {
        return Some(FrameState::Kernel);
    }
    Some(k.kmem().owner(pa).map_or(FrameState::Free, |owner| FrameState::Owned { owner }))
}

/// A user mapping of a frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mapping {
    /// The process.
    pub pid: u32,
    /// The virtual address.
    pub va: u64,
    /// The entry.
    pub pte: u64,
}

/// Who maps frame `pa` in the user part of their address space, and where.
/// (On x86 every frame is also mapped in the kernel part, at `P2V(pa)`.)
#[must_use]
pub fn mappers(k: &dyn Kernel, pa: u64) -> Vec<Mapping> {
    leaf_mappings(k, pa, true)
}

/// The leaf entries of every live process's table that map frame `pa`:
/// below the user limit (`user`), or at and above it.
fn leaf_mappings(k: &dyn Kernel, pa: u64, user: bool) -> Vec<Mapping> {
    let scheme = k.info().scheme;
    let limit = k.info().user_limit;
    let mut out = Vec::new();
    for p in k.procs().live() {
        for e in table_entries(scheme, k.mem(), p.root, limit) {
            if e.leaf && (e.va < limit) == user && PGROUNDDOWN(e.pa) == PGROUNDDOWN(pa) {
                out.push(Mapping { pid: p.pid, va: e.va, pte: e.pte });
            }
        }
    }
    out
}

/// Who maps frame `pa` above the user part of their address space, for the
/// kernel's use only: on xv6-riscv the trapframe (TRAPFRAME) and the
/// trampoline (TRAMPOLINE), without PTE_U. Empty on x86, whose kernel half
/// maps every frame (at `P2V(pa)`) in every page directory.
#[must_use]
pub fn kernel_mappers(k: &dyn Kernel, pa: u64) -> Vec<Mapping> {
    if k.info().port != Port::Xv6Riscv {
        return Vec::new();
    }
    leaf_mappings(k, pa, false)
}

/// Every frame a live process uses, as its page table and its proc
/// structure say: (frame, holder).
fn holdings(k: &dyn Kernel) -> (Vec<(u64, String, Owner)>, Vec<String>) {
    let scheme = k.info().scheme;
    let limit = k.info().user_limit;
    let mut held = Vec::new();
    let mut problems = Vec::new();
    for p in k.procs().live() {
        let pid = p.pid;
        if p.root.as_u64() != 0 {
            held.push((p.root.as_u64(), format!("pid {pid}: page-table root"), Owner::PageDir { pid }));
        }
        for e in table_entries(scheme, k.mem(), p.root, limit) {
            if !e.leaf {
                held.push((
                    e.pa,
                    format!("pid {pid}: page table at level {}", e.level.saturating_sub(1)),
                    Owner::PageTable { pid },
                ));
            } else if e.va < limit {
                let owner = match p.shm.iter().find(|m| m.va == e.va) {
                    Some(m) => Owner::Shared { id: m.id },
                    None => Owner::User { pid },
                };
                held.push((e.pa, format!("pid {pid}: user page {:#x}", e.va), owner));
                if e.va >= PGROUNDUP(p.sz) {
                    problems.push(format!("pid {pid} maps {:#x}, above its size {:#x}", e.va, p.sz));
                }
            }
        }
        match k.info().port {
            Port::Xv6Public => {
                if p.kstack != 0 {
                    held.push((p.kstack, format!("pid {pid}: kernel stack"), Owner::KernelStack { pid }));
                }
            }
            Port::Xv6Riscv => {
                if p.trapframe.as_u64() != 0 {
                    held.push((p.trapframe.as_u64(), format!("pid {pid}: trapframe"), Owner::Trapframe { pid }));
                }
            }
        }
    }
    // The kernel's own table and boot stacks.
    let kroot = k.kernel_root();
    held.push((kroot.as_u64(), "kernel page table root".into(), Owner::KernelPageTable));
    for e in table_entries(scheme, k.mem(), kroot, u64::MAX) {
        if !e.leaf {
            held.push((e.pa, "kernel page table".into(), Owner::KernelPageTable));
        }
    }
    (held, problems)
}

/// The frame `pid`'s table (none: the kernel's) maps `va` to, whatever the
/// entry's permission bits, and that leaf entry (none if nothing is mapped there).
fn mapped_leaf(k: &dyn Kernel, pid: Option<u32>, va: u64) -> Option<(PhysAddr, u64)> {
    leaf_of(&k.translate(pid, va, crate::scheme::Access::USER_READ).ok()?)
}

/// The frame and leaf entry a walk reached, whatever the access it checked.
fn leaf_of(t: &walk::Translation) -> Option<(PhysAddr, u64)> {
    t.steps.last().filter(|s| s.leaf).map(|s| (s.points_to, s.entry))
}

/// True if a slot caching `cached` (its leaf entry) for `frame` no longer
/// says what the table says (`now`): another frame, or other permission
/// bits (the accessed and dirty bits aside: the MMU sets those itself).
fn slot_is_stale(k: &dyn Kernel, frame: PhysAddr, cached: u64, now: Option<(PhysAddr, u64)>) -> bool {
    let ad = crate::with_scheme!(k.info().scheme, S => S::ACCESSED | S::DIRTY);
    match now {
        Some((f, e)) => f != frame || (e ^ cached) & !ad & 0xfff != 0,
        None => true,
    }
}

/// One slot of a TLB in use, beside what the page table says now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlbRow {
    /// The slot.
    pub slot: u32,
    /// The page's first virtual address.
    pub page: VirtAddr,
    /// The frame the slot maps it to.
    pub frame: PhysAddr,
    /// The cached leaf entry's flags by name, without `PTE_` (`P W U A D`).
    pub bits: String,
    /// Whose table the walk read: `Some(pid)`, or none for the kernel's or a freed one.
    pub pid: Option<u32>,
    /// True if the walk read the kernel's own table.
    pub kernel: bool,
    /// What that table maps the page to now (none: nothing, or the table is gone).
    pub table_frame: Option<PhysAddr>,
    /// True if the table no longer says what the slot says.
    pub stale: bool,
    /// Who holds the slot's frame now (none: it is free).
    pub holder: Option<Owner>,
}

/// The slots in use of CPU `cpu`'s TLB, in slot order.
#[must_use]
pub fn tlb_rows(k: &dyn Kernel, cpu: usize) -> Vec<TlbRow> {
    let Some(tlb) = k.tlbs().get(cpu) else { return Vec::new() };
    let scheme = k.info().scheme;
    let kroot = k.kernel_root();
    tlb.slots()
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_ref().map(|e| (i, e)))
        .map(|(i, e)| {
            let pid = k.procs().live().find(|p| p.root == e.root).map(|p| p.pid);
            let kernel = e.root == kroot;
            let now = if pid.is_some() || kernel { mapped_leaf(k, pid, e.va.as_u64()) } else { None };
            let leaf = e.entries.last().copied().unwrap_or(0);
            let table_frame = now.map(|(f, _)| f);
            TlbRow {
                slot: i as u32,
                page: e.va,
                frame: e.frame,
                bits: scheme.flag_names(e.entries.last().copied().unwrap_or(0)).replace("PTE_", "").replace('|', " "),
                pid,
                kernel,
                table_frame,
                stale: slot_is_stale(k, e.frame, leaf, now),
                holder: k.kmem().owner(e.frame.as_u64()),
            }
        })
        .collect()
}

/// What the TLB of the CPU operations run on would do if `pid` made `access` at `va` now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TlbView {
    /// A kernel access: pagelab puts only user loads and stores through the TLB.
    Kernel,
    /// `pid`'s table is not the one loaded on this CPU: to run it the CPU
    /// switches tables first, and that flushes the TLB, so its access misses.
    NotLoaded {
        /// The process whose table is loaded on this CPU, if any.
        running: Option<u32>,
    },
    /// The page is cached: the MMU uses the slot and reads no table.
    Hit {
        /// The slot.
        slot: u32,
        /// The frame the slot maps the page to.
        frame: PhysAddr,
        /// Where the slot sends `va`.
        pa: PhysAddr,
        /// True if the cached bits refuse the access: it faults and the slot is dropped.
        refused: bool,
        /// True for a store through a slot whose dirty bit is clear: the MMU walks again to set it.
        dirty_walk: bool,
        /// True if the page table no longer says what the slot says.
        stale: bool,
        /// What the table says now: the frame, or none if the walk faults.
        table_frame: Option<PhysAddr>,
    },
    /// Not cached: the access walks the table and, if it is allowed, fills `slot`.
    Miss {
        /// The slot a fill would take.
        slot: u32,
        /// The page whose translation that fill pushes out, if any.
        evicts: Option<VirtAddr>,
    },
}

/// What the TLB of the CPU operations run on ([`Kernel::cpu`]) would do if
/// `pid` (none: the kernel) made `access` at `va` now, beside what the page
/// table says.
#[must_use]
pub fn tlb_view(k: &dyn Kernel, pid: Option<u32>, va: u64, access: crate::scheme::Access) -> TlbView {
    let Some(pid) = pid else { return TlbView::Kernel };
    let Some(tlb) = k.tlbs().get(k.cpu() as usize) else { return TlbView::Kernel };
    // Switching tables flushes, except on a what-if RISC-V without the trampoline's sfence.vma.
    let switch_flushes = !(k.info().port == Port::Xv6Riscv && k.skip_flush().trampoline);
    if k.current() != Some(pid) && switch_flushes {
        return TlbView::NotLoaded { running: k.current() };
    }
    let walked = k.translate(Some(pid), va, access).ok();
    let now = walked.as_ref().and_then(leaf_of);
    let table_frame = now.map(|(f, _)| f);
    match tlb.lookup(va) {
        Some((slot, e)) => {
            let serve = crate::with_scheme!(k.info().scheme, S => e.serve::<S>(access));
            TlbView::Hit {
                slot: slot as u32,
                frame: e.frame,
                pa: e.pa_of(va),
                refused: matches!(serve, Serve::Refuse(_)),
                dirty_walk: serve == Serve::DirtyWalk,
                stale: slot_is_stale(k, e.frame, e.entries.last().copied().unwrap_or(0), now),
                table_frame,
            }
        }
        None => {
            let size = walked.and_then(|t| t.outcome.ok()).map_or(PGSIZE, |m| m.page_size);
            let (slot, evicts) = tlb.slot_for(VirtAddr::new(va & !(size - 1)));
            let evicts = if evicts { tlb.slots()[slot].as_ref().map(|e| e.va) } else { None };
            TlbView::Miss { slot: slot as u32, evicts }
        }
    }
}

/// Check that every frame is free or owned by exactly one known user, and
/// that the allocator's books agree with the page tables. Returns the
/// problems found (empty: all is well). In note mode, the note's defects
/// show up here.
#[must_use]
pub fn audit(k: &dyn Kernel) -> Vec<String> {
    let info = k.info();
    let mut problems = Vec::new();
    let first = PGROUNDUP(info.kernel_end);
    let total = (info.phystop - first) / PGSIZE;
    // 1. The free list, walked through memory.
    let list = k.kmem().freelist(k.mem(), total as usize + 1);
    let free: BTreeSet<u64> = list.iter().copied().collect();
    if free.len() != list.len() {
        problems.push("the free list holds a frame twice".into());
    }
    if list.len() as u64 != k.kmem().nfree() {
        problems.push(format!("countfree walks {} pages but kmem counts {}", list.len(), k.kmem().nfree()));
    }
    // 2. Free and owned frames split the free range exactly.
    let owners: BTreeMap<u64, Owner> = k.kmem().owners().collect();
    for pa in owners.keys() {
        if free.contains(pa) {
            problems.push(format!("frame {pa:#x} is both free and owned"));
        }
    }
    if free.len() as u64 + owners.len() as u64 != total {
        problems.push(format!("{} free + {} owned frames, but the free range has {total}", free.len(), owners.len()));
    }
    // 3. Every owned frame is held by exactly its owner (shared frames once per user).
    let (held, mut p2) = holdings(k);
    problems.append(&mut p2);
    let mut count: BTreeMap<u64, u32> = BTreeMap::new();
    let boot_stacks = owners.values().filter(|o| matches!(o, Owner::BootStack { .. })).count();
    for (pa, who, expect) in &held {
        *count.entry(*pa).or_default() += 1;
        match owners.get(pa) {
            None if free.contains(pa) => problems.push(format!("{who} is frame {pa:#x}, which is free")),
            None => {}
            Some(o) if o != expect => problems.push(format!("{who} is frame {pa:#x}, which belongs to {o}")),
            Some(_) => {}
        }
    }
    for (pa, owner) in &owners {
        let n = count.get(pa).copied().unwrap_or(0);
        match owner {
            // Made at boot, held by the kernel for good.
            Owner::BootStack { .. } | Owner::DiskRing => {}
            Owner::Shared { id } => {
                let entry = k.shm().find(*id).map(|i| k.shm().pages[i]);
                match entry {
                    Some(e) if e.pa == *pa => {
                        if k.shm_mode() == ShmMode::Lab && i64::from(e.refs) != i64::from(n) {
                            problems.push(format!("shared page {id} counts {} users but {n} map it", e.refs));
                        }
                        if n == 0 && k.shm_mode() == ShmMode::Lab {
                            problems.push(format!("shared page {id} ({pa:#x}) is mapped by no one"));
                        }
                    }
                    _ => problems.push(format!("frame {pa:#x} ({owner}) is not in the shared-memory table: it leaked")),
                }
            }
            // Held by the pipe table until pipeclose.
            Owner::Pipe { id } if k.pipes().get(*id as usize).copied().flatten().map(|p| p.as_u64()) != Some(*pa) => {
                problems.push(format!("frame {pa:#x} ({owner}) is not in the pipe table: it leaked"));
            }
            Owner::Pipe { .. } => {}
            _ if n == 0 => problems.push(format!("frame {pa:#x} ({owner}) is held by no one: it leaked")),
            _ if n > 1 => problems.push(format!("frame {pa:#x} ({owner}) is held {n} times")),
            _ => {}
        }
    }
    let _ = boot_stacks;
    // 4. Every page below sz is mapped, but holes.
    let scheme = info.scheme;
    for p in k.procs().live().filter(|p| p.freed_below_sz.is_none()) {
        let leaves: BTreeSet<u64> = table_entries(scheme, k.mem(), p.root, info.user_limit)
            .into_iter()
            .filter(|e| e.leaf && e.va < info.user_limit)
            .map(|e| e.va)
            .collect();
        let mut a = 0;
        while a < p.sz {
            if !leaves.contains(&a) && !p.holes.contains(&a) {
                problems.push(format!("pid {}: {a:#x} is below sz {:#x} but not mapped", p.pid, p.sz));
                break;
            }
            a += PGSIZE;
        }
    }
    problems
}

/// Pages a process uses, by kind, counted from its page table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// User pages (shared ones included).
    pub user: u64,
    /// Page-table pages, the root included.
    pub tables: u64,
}

/// How many user and page-table pages `pid` holds.
#[must_use]
pub fn usage(k: &dyn Kernel, pid: u32) -> Usage {
    let Some(p) = proc_of(k, pid) else { return Usage::default() };
    let limit = k.info().user_limit;
    let mut u = Usage { user: 0, tables: 1 };
    for e in table_entries(k.info().scheme, k.mem(), p.root, limit) {
        if !e.leaf {
            u.tables += 1;
        } else if e.va < limit {
            u.user += 1;
        }
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Lab, Op, Preset};
    use crate::shm::ShmMode;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Every frame of `runs`, one by one.
    fn expand(runs: &[FrameRun]) -> Vec<(u64, FrameState)> {
        runs.iter().flat_map(|r| (0..r.count).map(move |i| (r.pa + i * PGSIZE, r.state))).collect()
    }

    #[test]
    fn frame_runs_are_the_frames_folded() {
        use crate::lab::scenario;
        let mut labs = alloc::vec::Vec::new();
        // Each preset fresh, after its story, and the shared-memory test partway (pages open and freed).
        for preset in Preset::ALL {
            labs.push(Lab::new(preset, ShmMode::Lab));
            let text =
                if preset.port() == crate::port::Port::Xv6Public { scenario::STORY_X86 } else { scenario::STORY_RISCV };
            let mut sc = scenario::parse(text).unwrap();
            sc.preset = preset;
            labs.push(Lab::from_scenario(&sc).unwrap());
        }
        let mut shm = scenario::parse(scenario::SHM_TEST).unwrap();
        shm.ops.truncate(40);
        labs.push(Lab::from_scenario(&shm).unwrap());
        for lab in &labs {
            let k = lab.kernel();
            let all = frames(k);
            let runs = frame_runs(k);
            assert_eq!(expand(&runs), all, "{}", k.info().preset);
            // Runs of one state are as long as they can be: no two free runs touch.
            for w in runs.windows(2) {
                assert_eq!(w[0].pa + w[0].count * PGSIZE, w[1].pa);
                assert!(!(w[0].state == FrameState::Free && w[1].state == FrameState::Free));
            }
            // The kernel image, the free frames and those in use add up to RAM.
            let info = k.info();
            assert_eq!(all.len() as u64, (info.phystop - info.ram_base) / PGSIZE);
            let nfree: u64 = runs.iter().filter(|r| r.state == FrameState::Free).map(|r| r.count).sum();
            assert_eq!(nfree, k.kmem().nfree(), "every free frame is on the free list");
            for &(pa, st) in all.iter().step_by(7).chain(all.last()) {
                assert_eq!(frame_state(k, pa), Some(st));
            }
            assert_eq!(frame_state(k, info.ram_base + 1), None, "not the start of a frame");
            assert_eq!(frame_state(k, info.phystop), None, "past RAM");
            if info.ram_base > 0 {
                assert_eq!(frame_state(k, info.ram_base - PGSIZE), None, "below RAM");
            }
        }
    }

    /// xv6-public after `userinit` and `exec 1 /init` (argv {"/init", 0}).
    fn init_x86() -> Lab {
        let mut lab = Lab::new(Preset::Xv6Public, ShmMode::Lab);
        lab.apply(Op::Userinit).unwrap();
        lab.apply(Op::Exec { pid: 1, path: "/init".into(), argv: alloc::vec![b"/init".to_vec()] }).unwrap();
        lab
    }

    #[test]
    fn inits_address_space_on_xv6_public() {
        let lab = init_x86();
        // init is one page (one RWX segment at 0); exec adds the guard page and the stack page above it.
        let user: Vec<(u64, u64, RegionKind)> = regions(lab.kernel(), 1)
            .into_iter()
            .filter(|r| r.kind != RegionKind::Kernel)
            .map(|r| (r.start, r.end, r.kind))
            .collect();
        assert_eq!(
            user,
            [(0, 0x1000, RegionKind::Text), (0x1000, 0x2000, RegionKind::Guard), (0x2000, 0x3000, RegionKind::Stack)]
        );
        assert!(regions(lab.kernel(), 9).is_empty(), "no such pid: nothing");
    }

    #[test]
    fn vmprint_folds_long_runs_of_like_entries() {
        // userinit (as in the CLI test of `pagelab show`): initcode's page 0xdfbd000 at va 0, its
        // table 0xdfbc000; kalloc hands out the rest from the top down, one frame a page. sbrk(1 MB):
        // 256 pages at va 0x1000-0x100fff, PTX 1 to 256, pa 0xdfbb000 down to 0xdfbb000 - 255 pages =
        // 0xdebc000, all PTE_P|PTE_W|PTE_U: one run, printed as its first entry, a line for the 254
        // between (PTX 2-255, va 0x2000-0xff000) and its last. PTX 0 steps 0x2000 down to PTX 1, so
        // it starts no run and keeps its line.
        let mut lab = Lab::new(Preset::Xv6Public, ShmMode::Lab);
        lab.apply(Op::Userinit).unwrap();
        lab.apply(Op::Sbrk { pid: 1, n: 1 << 20 }).unwrap();
        let text = vmprint(lab.kernel(), 1);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[2..6],
            [
                "  PTX 0: pte 0x0dfbd007 pa 0x0dfbd000 PTE_P|PTE_W|PTE_U va 0x00000000",
                "  PTX 1: pte 0x0dfbb007 pa 0x0dfbb000 PTE_P|PTE_W|PTE_U va 0x00001000",
                "  PTX 2–255: 254 entries like these two (the same flags, pa going down by 0x1000 each time, va 0x00002000–0x000ff000)",
                "  PTX 256: pte 0x0debc007 pa 0x0debc000 PTE_P|PTE_W|PTE_U va 0x00100000",
            ],
            "{text}"
        );
        assert_eq!(lines.len(), 7, "{text}");
        // A run shorter than VMPRINT_FOLD_AT is printed whole: sbrk(4 pages more) there, 4 lines more.
        let mut lab = Lab::new(Preset::Xv6Public, ShmMode::Lab);
        lab.apply(Op::Userinit).unwrap();
        lab.apply(Op::Sbrk { pid: 1, n: 4 * 4096 }).unwrap();
        assert_eq!(vmprint(lab.kernel(), 1).lines().count(), 1 + 1 + 1 + 4 + 1);
    }

    #[test]
    fn heap_runs_are_split_by_shared_pages_and_holes() {
        // init's sz is 0x3000. sbrk(8192): heap 0x3000-0x4fff. openshmem(25) maps its page at
        // PGROUNDUP(sz) = 0x5000 and sz becomes 0x6000; sbrk(4096): heap 0x6000; openshmem(26)
        // at 0x7000; closeshmem(25) leaves a hole at 0x5000 (sz stays); sbrk(4096): heap 0x8000.
        let mut lab = init_x86();
        for op in [
            Op::Sbrk { pid: 1, n: 8192 },
            Op::OpenShm { pid: 1, id: 25 },
            Op::Sbrk { pid: 1, n: 4096 },
            Op::OpenShm { pid: 1, id: 26 },
            Op::CloseShm { pid: 1, id: 25 },
            Op::Sbrk { pid: 1, n: 4096 },
        ] {
            lab.apply(op).unwrap();
        }
        let above: Vec<(u64, u64, RegionKind)> = regions(lab.kernel(), 1)
            .into_iter()
            .filter(|r| r.start >= 0x3000 && r.kind != RegionKind::Kernel)
            .map(|r| (r.start, r.end, r.kind))
            .collect();
        assert_eq!(
            above,
            [
                (0x3000, 0x5000, RegionKind::Heap),
                (0x5000, 0x6000, RegionKind::Hole),
                (0x6000, 0x7000, RegionKind::Heap),
                (0x7000, 0x8000, RegionKind::Shared),
                (0x8000, 0x9000, RegionKind::Heap),
            ]
        );
    }

    #[test]
    fn inits_stack_word_by_word() {
        let lab = init_x86();
        // "/init\0" (6 bytes) at (0x3000 − 6) & ~3 = 0x2ff8; then ustack = {0xffffffff, argc 1, argv 0x2ff0,
        // argv[0] 0x2ff8, 0}: five words from sp = 0x2ff8 − 20 = 0x2fe4. The string's last word holds 't', NUL
        // and two bytes of the zeroed page.
        let got: Vec<(u64, u64, String, bool)> =
            stack_words(lab.kernel(), 1).into_iter().map(|w| (w.va, w.value, w.role.describe(), w.sp)).collect();
        let want = [
            (0x2fe4, 0xffff_ffff, "fake return PC", true),
            (0x2fe8, 1, "argc", false),
            (0x2fec, 0x2ff0, "argv (pointer to argv[0])", false),
            (0x2ff0, 0x2ff8, "argv[0]", false),
            (0x2ff4, 0, "argv[argc] = 0 (end of argv)", false),
            (0x2ff8, u64::from(u32::from_le_bytes(*b"/ini")), "argv[0] bytes \"/ini\"", false),
            (0x2ffc, 0x74, "argv[0] bytes \"t\\0\" + 2 padding", false),
        ];
        let want: Vec<(u64, u64, String, bool)> =
            want.iter().map(|(a, v, r, s)| (*a, *v, String::from(*r), *s)).collect();
        assert_eq!(got, want);
        assert!(stack_mapped(lab.kernel(), 1));
    }

    /// xv6-riscv's proc_pagetable maps the trapframe at TRAPFRAME = MAXVA −
    /// 2 pages = 0x3fffffe000 (PTE_R | PTE_W, so pte = pa >> 12 << 10 | 0x7)
    /// and the trampoline at TRAMPOLINE = 0x3ffffff000 (PTE_R | PTE_X: 0xb),
    /// neither with PTE_U: no user mapping, but the process's table has them.
    #[test]
    fn the_trapframe_and_the_trampoline_are_mapped_for_the_kernel_only() {
        let mut lab = Lab::new(Preset::Xv6RiscvTiny, ShmMode::Lab);
        lab.apply(Op::Userinit).unwrap();
        lab.apply(Op::Fork { pid: 1 }).unwrap();
        let tf = lab.kernel().procs().get(1).unwrap().trapframe.as_u64();
        assert!(mappers(lab.kernel(), tf).is_empty());
        assert_eq!(
            kernel_mappers(lab.kernel(), tf),
            [Mapping { pid: 1, va: 0x3f_ffff_e000, pte: (tf >> 12 << 10) | 0x7 }]
        );
        // The trampoline's one frame (in the kernel image: `trampoline` = 0x80007000
        // in a typical build) is in every process's table.
        let tramp = kernel_mappers(lab.kernel(), 0x8000_7000);
        let who: Vec<(u32, u64, u64)> = tramp.iter().map(|m| (m.pid, m.va, m.pte & 0x3ff)).collect();
        assert_eq!(who, [(1, 0x3f_ffff_f000, 0xb), (2, 0x3f_ffff_f000, 0xb)]);
        // x86: none (its kernel half maps all of RAM).
        let x = init_x86();
        assert!(kernel_mappers(x.kernel(), 0xdf77000).is_empty());
    }

    #[test]
    fn who_maps_a_frame_and_what_a_process_holds() {
        let lab = init_x86();
        // kinit2 frees 4 MB..PHYSTOP upward, so kalloc hands out 0xdfff000 and down: userinit takes 67 pages
        // (kernel stack, directory, 64 kernel tables, initcode's page) and one table for PDX 0, 68 in all; exec
        // then takes 65 for its directory and kernel tables, init's page 0xdf7a000, the table 0xdf79000, the guard
        // 0xdf78000 and the stack 0xdf77000.
        let stack = 0xdf77000;
        assert_eq!(mappers(lab.kernel(), stack), [Mapping { pid: 1, va: 0x2000, pte: stack | 0x7 }]);
        assert_eq!(mappers(lab.kernel(), stack + 0xabc), mappers(lab.kernel(), stack), "any byte of the frame");
        // initcode's page, 0xdfbd000, was freed by exec: nobody maps it, and it is on the free list.
        assert!(mappers(lab.kernel(), 0xdfbd000).is_empty());
        let f: BTreeMap<u64, FrameState> = frames(lab.kernel()).into_iter().collect();
        assert_eq!(f.get(&0xdfbd000), Some(&FrameState::Free));
        assert!(matches!(f.get(&stack), Some(FrameState::Owned { .. })));
        // xv6-public's kernel is loaded at EXTMEM, 1 MB: below it, xv6's "I/O space" (BIOS, boot sector, video).
        assert_eq!(f.get(&0x100000), Some(&FrameState::Kernel), "the kernel image starts at EXTMEM");
        assert_eq!(f.get(&0xff000), Some(&FrameState::Low), "the last frame below EXTMEM");
        assert_eq!(f.get(&0x0), Some(&FrameState::Low));
        assert_eq!(f.values().filter(|s| **s == FrameState::Low).count(), 256, "0x100000 / 4096");
        assert_eq!(frame_state(lab.kernel(), 0xff000), Some(FrameState::Low));
        assert_eq!(frame_state(lab.kernel(), 0x100000), Some(FrameState::Kernel));
        // Three user pages; the directory, PDX 0's table and the 64 kernel tables every process has.
        assert_eq!(usage(lab.kernel(), 1), Usage { user: 3, tables: 66 });
        assert!(audit(lab.kernel()).is_empty());
    }
}

/// What a frame holds, in short: its first bytes, and the one byte all the
/// others are, if they are (a page kfree junk-filled, a zeroed page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FrameBytes {
    /// The first [`FrameBytes::HEAD`] bytes.
    pub head: Vec<u8>,
    /// The byte every other byte of the page is, if they are all one.
    pub rest: Option<u8>,
    /// For a free frame: the `next` pointer kfree wrote in its first bytes (as xv6 stores it).
    pub next: Option<u64>,
}

impl FrameBytes {
    /// How many bytes [`FrameBytes::head`] shows.
    pub const HEAD: u64 = 16;
}

/// The bytes of the frame at `pa` (page-aligned), or `None` outside RAM and
/// for the frames whose bytes pagelab does not hold: the kernel image and
/// x86's first megabyte (its simulated RAM has no kernel code, BIOS data or
/// video memory in it).
#[must_use]
pub fn frame_bytes(k: &dyn Kernel, pa: u64) -> Option<FrameBytes> {
    if matches!(frame_state(k, pa), None | Some(FrameState::Kernel | FrameState::Low)) {
        return None;
    }
    let mem = k.mem();
    let mut head = alloc::vec![0u8; FrameBytes::HEAD as usize];
    mem.read(pa, &mut head).ok()?;
    let (at, len) = (pa + FrameBytes::HEAD, PGSIZE - FrameBytes::HEAD);
    let rest = mem.uniform(at, len).or_else(|| {
        let mut buf = alloc::vec![0u8; len as usize];
        mem.read(at, &mut buf).ok()?;
        let first = buf[0];
        buf.iter().all(|&b| b == first).then_some(first)
    });
    let next = matches!(frame_state(k, pa), Some(FrameState::Free)).then(|| k.kmem().stored_next(mem, pa)).flatten();
    Some(FrameBytes { head, rest, next })
}

/// One copyout exec makes onto the new stack, in the order it makes them:
/// each argument string (argv[0] first, highest), then the array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StackPush {
    /// First byte written.
    pub lo: u64,
    /// One past the last byte written.
    pub hi: u64,
    /// sp after this push.
    pub sp: u64,
    /// What was written, in plain words.
    pub what: String,
}

/// The pushes exec made to build `pid`'s stack, in order (empty if it has
/// not called exec). xv6 lowers sp by each string's length with its NUL,
/// rounds sp down (x86: to 4 bytes; RISC-V: to 16) and copies the string out
/// there; then the array: on x86 the fake return PC, argc, the argv pointer
/// and argv[] with its 0, on RISC-V argv[] with its 0, rounded down to 16.
#[must_use]
pub fn stack_pushes(k: &dyn Kernel, pid: u32) -> Vec<StackPush> {
    let Some(img) = proc_of(k, pid).and_then(|p| p.image.as_ref()) else { return Vec::new() };
    let mut out: Vec<StackPush> = img
        .args
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let len = a.text.len() as u64 + 1;
            // A long argument is shown by its start.
            let text = String::from_utf8_lossy(&a.text);
            let shown = match text.char_indices().nth(24) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => format!("{text}\\0"),
            };
            StackPush {
                lo: a.va,
                hi: a.va + len,
                sp: a.va,
                what: format!("argv[{i}]'s string \"{shown}\" ({len} bytes)"),
            }
        })
        .collect();
    let n = img.args.len() as u64;
    let argv = match n {
        0 => String::from("argv[0] = 0"),
        1 => String::from("argv[0] and the 0 in argv[1]"),
        _ => format!("argv[0] to argv[{}] and the 0 in argv[{n}]", n - 1),
    };
    let (len, what) = if img.word == 4 {
        ((n + 4) * 4, format!("the array: fake return PC, argc, the argv pointer, then {argv}"))
    } else {
        ((n + 1) * 8, format!("the array: {argv}"))
    };
    out.push(StackPush { lo: img.sp, hi: img.sp + len, sp: img.sp, what });
    out
}

/// The valid entries of the frame at `pa` if it is a page-table page (a
/// process's table or directory, or the kernel's): each as (index, entry),
/// lowest index first, with how many entries the page holds. `None` for any
/// other frame.
#[must_use]
pub fn table_frame_entries(k: &dyn Kernel, pa: u64) -> Option<(u64, Vec<(u64, u64)>)> {
    match frame_state(k, pa)? {
        FrameState::Owned { owner: Owner::PageTable { .. } | Owner::PageDir { .. } | Owner::KernelPageTable } => {}
        _ => return None,
    }
    let scheme = k.info().scheme;
    let (bytes, valid) = crate::with_scheme!(scheme, S => (S::ENTRY_BYTES, S::VALID));
    let n = PGSIZE / bytes;
    let entries = (0..n)
        .filter_map(|i| {
            let e = k.mem().read_word(pa + i * bytes, bytes).ok()?;
            (e & valid != 0).then_some((i, e))
        })
        .collect();
    Some((n, entries))
}
