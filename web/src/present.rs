//! How the core's results are labelled and grouped for display: frame
//! kinds with a letter, a colour class and words; runs of frames for the
//! compact frame map; what a step changed. No `web_sys` here.

use std::collections::BTreeSet;

use pagelab_core::lab::Step;
use pagelab_core::lab::view::{FrameState, RegionKind};
use pagelab_core::trace::{Event, Owner};

/// What a frame is used for, as the map shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FrameKind {
    /// The kernel image (below `end`).
    Kernel,
    /// On the free list.
    Free,
    /// A user page.
    User,
    /// A page-table page of a process.
    PageTable,
    /// A page-table root (x86: page directory).
    PageDir,
    /// A kernel stack (a process's, or one made at boot).
    KernelStack,
    /// A shared page.
    Shared,
    /// A trapframe or a temporary copy of an exec argument (RISC-V).
    Other,
    /// The kernel's own page table.
    KernelPageTable,
}

impl FrameKind {
    /// Every kind, in legend order.
    pub const ALL: [FrameKind; 9] = [
        FrameKind::Free,
        FrameKind::User,
        FrameKind::Shared,
        FrameKind::PageDir,
        FrameKind::PageTable,
        FrameKind::KernelStack,
        FrameKind::Other,
        FrameKind::KernelPageTable,
        FrameKind::Kernel,
    ];

    /// The kind of a frame.
    #[must_use]
    pub fn of(state: FrameState) -> FrameKind {
        match state {
            FrameState::Kernel => FrameKind::Kernel,
            FrameState::Free => FrameKind::Free,
            FrameState::Owned { owner } => match owner {
                Owner::User { .. } => FrameKind::User,
                Owner::PageTable { .. } => FrameKind::PageTable,
                Owner::PageDir { .. } => FrameKind::PageDir,
                Owner::KernelStack { .. } | Owner::BootStack { .. } => FrameKind::KernelStack,
                Owner::Trapframe { .. } | Owner::ArgCopy { .. } => FrameKind::Other,
                Owner::Shared { .. } => FrameKind::Shared,
                Owner::KernelPageTable => FrameKind::KernelPageTable,
            },
        }
    }

    /// The letter printed in the frame's cell (colour is never the only sign).
    #[must_use]
    pub fn letter(self) -> &'static str {
        match self {
            FrameKind::Kernel => "K",
            FrameKind::Free => "·",
            FrameKind::User => "U",
            FrameKind::PageTable => "T",
            FrameKind::PageDir => "D",
            FrameKind::KernelStack => "S",
            FrameKind::Shared => "M",
            FrameKind::Other => "F",
            FrameKind::KernelPageTable => "P",
        }
    }

    /// The CSS class of the cell.
    #[must_use]
    pub fn class(self) -> &'static str {
        match self {
            FrameKind::Kernel => "fk-kernel",
            FrameKind::Free => "fk-free",
            FrameKind::User => "fk-user",
            FrameKind::PageTable => "fk-pt",
            FrameKind::PageDir => "fk-pd",
            FrameKind::KernelStack => "fk-kstack",
            FrameKind::Shared => "fk-shared",
            FrameKind::Other => "fk-other",
            FrameKind::KernelPageTable => "fk-kpt",
        }
    }

    /// Words for the legend (x86 names for the root; `riscv` switches them).
    #[must_use]
    pub fn words(self, riscv: bool) -> &'static str {
        match self {
            FrameKind::Kernel => "kernel image (below end)",
            FrameKind::Free => "free (on the kalloc free list)",
            FrameKind::User => "user page",
            FrameKind::PageTable => "page table",
            FrameKind::PageDir if riscv => "page-table root (satp)",
            FrameKind::PageDir => "page directory (cr3)",
            FrameKind::KernelStack => "kernel stack",
            FrameKind::Shared => "shared page",
            FrameKind::Other if riscv => "trapframe or exec argument copy",
            FrameKind::Other => "other",
            FrameKind::KernelPageTable => "kernel page table",
        }
    }
}

/// The text in a frame's cell: the kind's letter and whose it is (`U3`:
/// a user page of pid 3; `M25`: shared page 25).
#[must_use]
pub fn cell_text(state: FrameState) -> String {
    let kind = FrameKind::of(state);
    match state {
        FrameState::Owned { owner: Owner::Shared { id } } => format!("{}{id}", kind.letter()),
        FrameState::Owned { owner } => match owner.pid() {
            Some(pid) => format!("{}{pid}", kind.letter()),
            None => kind.letter().to_string(),
        },
        _ => kind.letter().to_string(),
    }
}

/// Words for one frame: "frame 0xdfbc000: user page of pid 3".
#[must_use]
pub fn frame_words(pa: u64, state: FrameState) -> String {
    match state {
        FrameState::Kernel => format!("frame {pa:#x}: kernel image"),
        FrameState::Free => format!("frame {pa:#x}: free"),
        FrameState::Owned { owner } => format!("frame {pa:#x}: {owner}"),
    }
}

/// One cell of the frame map: a single frame, or a run of like frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The first frame.
    pub pa: u64,
    /// Frames in the cell (1 for a single frame).
    pub count: u64,
    /// What they are (for a run: all the same kind, free or kernel image).
    pub kind: FrameKind,
    /// The state of the first frame.
    pub state: FrameState,
}

/// The frame map's cells. Runs of the kernel image become one cell; with
/// `compact`, so do runs of free frames (at least `min_run` long). Every
/// allocated frame keeps its own cell.
#[must_use]
pub fn cells(frames: &[(u64, FrameState)], compact: bool, min_run: u64) -> Vec<Cell> {
    let mut out: Vec<Cell> = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        let (pa, st) = frames[i];
        let kind = FrameKind::of(st);
        let runnable = kind == FrameKind::Kernel || (compact && kind == FrameKind::Free);
        let mut j = i + 1;
        if runnable {
            while j < frames.len() && FrameKind::of(frames[j].1) == kind {
                j += 1;
            }
        }
        let len = (j - i) as u64;
        if runnable && len >= min_run {
            out.push(Cell { pa, count: len, kind, state: st });
            i = j;
        } else {
            out.push(Cell { pa, count: 1, kind, state: st });
            i += 1;
        }
    }
    out
}

/// CSS class and a short tag for a region (the tag is the non-colour sign).
#[must_use]
pub fn region_look(kind: RegionKind) -> (&'static str, &'static str) {
    match kind {
        RegionKind::Text => ("rg-text", "TEXT"),
        RegionKind::Data => ("rg-data", "DATA"),
        RegionKind::Initcode => ("rg-text", "CODE"),
        RegionKind::Guard => ("rg-guard", "GUARD"),
        RegionKind::Stack => ("rg-stack", "STACK"),
        RegionKind::Heap => ("rg-heap", "HEAP"),
        RegionKind::Shared => ("rg-shared", "SHARED"),
        RegionKind::Hole => ("rg-hole", "HOLE"),
        RegionKind::Trapframe => ("rg-kernel", "TRAPFRAME"),
        RegionKind::Trampoline => ("rg-kernel", "TRAMPOLINE"),
        RegionKind::Kernel => ("rg-kernel", "KERNEL"),
    }
}

/// Frames a step allocated and freed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// kalloc'd in the step (and still in use at its end, or not).
    pub allocated: BTreeSet<u64>,
    /// kfree'd in the step.
    pub freed: BTreeSet<u64>,
}

/// What step `s` changed in physical memory.
#[must_use]
pub fn changes(s: &Step) -> Changes {
    let mut c = Changes::default();
    for e in &s.events {
        match &e.event {
            Event::Kalloc { pa, .. } => {
                c.allocated.insert(pa.as_u64());
            }
            Event::Kfree { pa, .. } => {
                c.freed.insert(pa.as_u64());
            }
            _ => {}
        }
    }
    c
}

/// `value` in hex with `digits` digits after `0x`.
#[must_use]
pub fn hex(value: u64, digits: usize) -> String {
    format!("0x{value:0digits$x}")
}

/// Hex digits for an address on this machine (8 for 32-bit, 16 for Sv39).
#[must_use]
pub fn addr_digits(riscv: bool) -> usize {
    if riscv { 16 } else { 8 }
}

/// The bits of `value` from `hi` down to `lo`, grouped by four from the right.
#[must_use]
pub fn bits(value: u64, hi: u32, lo: u32) -> String {
    let width = hi - lo + 1;
    let mut s = String::new();
    for i in (0..width).rev() {
        s.push(if value >> i & 1 == 1 { '1' } else { '0' });
        if i % 4 == 0 && i != 0 {
            s.push(' ');
        }
    }
    s
}

/// The CSS class of an address field, by its role (its colour and border
/// style; the field's name is always shown in text too).
#[must_use]
pub fn field_class(role: pagelab_core::scheme::FieldRole) -> &'static str {
    use pagelab_core::scheme::FieldRole;
    match role {
        FieldRole::SignExtension => "fld-sign",
        FieldRole::Index(2) => "fld-2",
        FieldRole::Index(1) => "fld-1",
        FieldRole::Index(_) => "fld-0",
        FieldRole::Offset => "fld-off",
    }
}

/// Name of the table at `level` of a walk, as the learner's notes call it.
#[must_use]
pub fn table_name(scheme: pagelab_core::scheme::SchemeKind, level: u32) -> &'static str {
    use pagelab_core::scheme::SchemeKind;
    match (scheme, level) {
        (SchemeKind::X86, 1) => "page directory (pgdir)",
        (SchemeKind::X86, _) => "page table (pgtab)",
        (_, 2) => "level-2 table (root)",
        (_, 1) => "level-1 table",
        _ => "level-0 table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_fold_free_and_kernel_frames_only() {
        let user = FrameState::Owned { owner: Owner::User { pid: 1 } };
        let mut f = vec![(0, FrameState::Kernel), (0x1000, FrameState::Kernel)];
        for i in 2..10 {
            f.push((i * 0x1000, FrameState::Free));
        }
        f.push((0xa000, user));
        f.push((0xb000, user));
        f.push((0xc000, FrameState::Free));
        let c = cells(&f, true, 2);
        let shape: Vec<(u64, u64, FrameKind)> = c.iter().map(|c| (c.pa, c.count, c.kind)).collect();
        assert_eq!(
            shape,
            vec![
                (0, 2, FrameKind::Kernel),
                (0x2000, 8, FrameKind::Free),
                (0xa000, 1, FrameKind::User),
                (0xb000, 1, FrameKind::User),
                (0xc000, 1, FrameKind::Free),
            ]
        );
        // Not compact: only the kernel image folds.
        assert_eq!(cells(&f, false, 2).len(), f.len() - 1);
    }

    #[test]
    fn cells_name_their_owner() {
        assert_eq!(cell_text(FrameState::Owned { owner: Owner::User { pid: 3 } }), "U3");
        assert_eq!(cell_text(FrameState::Owned { owner: Owner::Shared { id: 25 } }), "M25");
        assert_eq!(cell_text(FrameState::Owned { owner: Owner::KernelPageTable }), "P");
        assert_eq!(cell_text(FrameState::Free), "·");
    }

    #[test]
    fn bits_group_by_four() {
        assert_eq!(bits(0x0abc, 11, 0), "1010 1011 1100");
        assert_eq!(bits(1, 31, 22), "00 0000 0001");
        assert_eq!(bits(3, 21, 12), "00 0000 0011");
    }

    #[test]
    fn every_kind_has_a_distinct_letter() {
        let letters: BTreeSet<&str> = FrameKind::ALL.iter().map(|k| k.letter()).collect();
        assert_eq!(letters.len(), FrameKind::ALL.len());
    }
}
