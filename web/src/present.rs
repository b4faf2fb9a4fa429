//! How the core's results are labelled and grouped for display: frame
//! kinds with a letter, a colour class and words; runs of frames for the
//! compact frame map; what a step changed. No `web_sys` here.

use std::collections::BTreeMap;

use pagelab_core::addr::PGSIZE;
use pagelab_core::lab::Step;
use pagelab_core::lab::view::{FrameRun, FrameState, RegionKind};
use pagelab_core::trace::{Event, Owner, sum_over};

/// What a frame is used for, as the map shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FrameKind {
    /// Below the kernel image (x86: 0 to EXTMEM, what xv6 maps as I/O space).
    Low,
    /// The kernel image (to `end`).
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
    pub const ALL: [FrameKind; 10] = [
        FrameKind::Free,
        FrameKind::User,
        FrameKind::Shared,
        FrameKind::PageDir,
        FrameKind::PageTable,
        FrameKind::KernelStack,
        FrameKind::Other,
        FrameKind::KernelPageTable,
        FrameKind::Kernel,
        FrameKind::Low,
    ];

    /// The kind of a frame.
    #[must_use]
    pub fn of(state: FrameState) -> FrameKind {
        match state {
            FrameState::Low => FrameKind::Low,
            FrameState::Kernel => FrameKind::Kernel,
            FrameState::Free => FrameKind::Free,
            FrameState::Owned { owner } => match owner {
                Owner::User { .. } => FrameKind::User,
                Owner::PageTable { .. } => FrameKind::PageTable,
                Owner::PageDir { .. } => FrameKind::PageDir,
                Owner::KernelStack { .. } | Owner::BootStack { .. } => FrameKind::KernelStack,
                Owner::Trapframe { .. } | Owner::ArgCopy { .. } | Owner::DiskRing | Owner::Pipe { .. } => {
                    FrameKind::Other
                }
                Owner::Shared { .. } => FrameKind::Shared,
                Owner::KernelPageTable => FrameKind::KernelPageTable,
            },
        }
    }

    /// The letter printed in the frame's cell (colour is never the only sign).
    #[must_use]
    pub fn letter(self) -> &'static str {
        match self {
            FrameKind::Low => "I",
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
            FrameKind::Low => "fk-low",
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
            FrameKind::Low => "I/O space and BIOS, below EXTMEM (never allocated)",
            FrameKind::Kernel => "kernel image (to end)",
            FrameKind::Free => "free (on the kalloc free list)",
            FrameKind::User => "user page",
            FrameKind::PageTable => "page table",
            FrameKind::PageDir if riscv => "page-table root (satp)",
            FrameKind::PageDir => "page directory (cr3)",
            FrameKind::KernelStack => "kernel stack",
            FrameKind::Shared => "shared page",
            FrameKind::Other if riscv => "trapframe, exec argument copy or disk ring",
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
pub fn frame_words(pa: u64, state: FrameState, riscv: bool) -> String {
    format!("frame {pa:#x}: {}", state_words(state, riscv))
}

/// What a frame in `state` is: "user page of pid 3", "free".
#[must_use]
pub fn state_words(state: FrameState, riscv: bool) -> String {
    use pagelab_core::scheme::SchemeKind;
    let scheme = if riscv { SchemeKind::Sv39 } else { SchemeKind::X86 };
    match state {
        FrameState::Low => String::from(
            "below EXTMEM, what xv6 maps as I/O space (BIOS data, boot sector, video memory); kalloc never hands it out",
        ),
        FrameState::Kernel => String::from("kernel image"),
        FrameState::Free => String::from("free"),
        FrameState::Owned { owner } => owner.text(scheme),
    }
}

/// One cell of the frame map: a single frame, or a run of like frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The first frame.
    pub pa: u64,
    /// Frames in the cell (1 for a single frame).
    pub count: u64,
    /// What they are (for a run: all the same kind: free, kernel image, or below it).
    pub kind: FrameKind,
    /// The state of the first frame.
    pub state: FrameState,
}

/// The frame map's cells, from runs of frames
/// ([`pagelab_core::lab::view::frame_runs`]). Runs of the kernel image, and
/// of what lies below it, become one cell each; with `compact`, so do runs
/// of free frames (at least `min_run` long). Every allocated frame keeps its
/// own cell.
#[must_use]
pub fn cells_of_runs(runs: &[FrameRun], compact: bool, min_run: u64) -> Vec<Cell> {
    let mut out = Vec::new();
    for r in runs {
        let kind = FrameKind::of(r.state);
        let runnable = matches!(kind, FrameKind::Kernel | FrameKind::Low) || (compact && kind == FrameKind::Free);
        if runnable && r.count >= min_run {
            out.push(Cell { pa: r.pa, count: r.count, kind, state: r.state });
        } else {
            out.extend((0..r.count).map(|i| Cell { pa: r.pa + i * PGSIZE, count: 1, kind, state: r.state }));
        }
    }
    out
}

/// Frames in use in a row, of one owner and alike in the step shown, from
/// which a compact map draws one cell: a heavy sbrk or a fork of a big
/// process makes thousands of such frames, and a cell each cost the page
/// hundreds of milliseconds to make and lay out. (Fewer, as the 64 kernel
/// page tables xv6-public's setupkvm gives every process, stay a cell each.)
pub const FOLD_IN_USE_AT: u64 = 128;

/// Fold every run of at least `at` single-frame cells in use that follow
/// one another in memory, have the same state, and are alike in `same`
/// (allocated, or freed, in the step shown) into one cell.
#[must_use]
pub fn fold_in_use(cells: Vec<Cell>, at: u64, same: impl Fn(u64) -> (bool, bool)) -> Vec<Cell> {
    let mut out: Vec<Cell> = Vec::with_capacity(cells.len());
    // Where the run being gathered starts in `out`, and its marks.
    let mut run: Option<(usize, (bool, bool))> = None;
    for c in cells {
        let owned = c.count == 1 && matches!(c.state, FrameState::Owned { .. });
        let marks = if owned { same(c.pa) } else { (false, false) };
        // The run so far is the cells from its start to the end of `out`, each one frame.
        let goes_on = run.is_some_and(|(i, m)| {
            owned && m == marks && out[i].state == c.state && out[out.len() - 1].pa + PGSIZE == c.pa
        });
        if !goes_on {
            fold_tail(&mut out, run.take(), at);
            run = owned.then_some((out.len(), marks));
        }
        out.push(c);
    }
    fold_tail(&mut out, run, at);
    out
}

/// Fold the cells of `out` from the run's start into one cell if there are at least `at` of them.
fn fold_tail(out: &mut Vec<Cell>, run: Option<(usize, (bool, bool))>, at: u64) {
    if let Some((i, _)) = run
        && (out.len() - i) as u64 >= at
    {
        let count = (out.len() - i) as u64;
        out.truncate(i + 1);
        out[i].count = count;
    }
}

/// What a frame map draws of memory: its cells, and how many frames of each kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapCells {
    /// Frames of RAM.
    pub total: u64,
    /// True when runs of free frames are folded (more than `compact_above` frames).
    pub compact: bool,
    /// The cells ([`cells_of_runs`], runs of at least two folded).
    pub cells: Vec<Cell>,
    /// Frames of each kind.
    pub counts: BTreeMap<FrameKind, u64>,
}

/// The frame map of `runs` ([`pagelab_core::lab::view::frame_runs`]), folding
/// runs of free frames when RAM has more than `compact_above` frames.
#[must_use]
pub fn map_cells(runs: &[FrameRun], compact_above: u64) -> MapCells {
    let total: u64 = runs.iter().map(|r| r.count).sum();
    let compact = total > compact_above;
    let mut counts = BTreeMap::new();
    for r in runs {
        *counts.entry(FrameKind::of(r.state)).or_insert(0) += r.count;
    }
    MapCells { total, compact, cells: cells_of_runs(runs, compact, 2), counts }
}

/// The end of a frame map's summary, after "N free": how many frames are in
/// use, how many hold the kernel image and (x86) how many lie below it:
/// ", 610 in use, 22 hold the kernel image, 256 lie below it (I/O space and BIOS)."
#[must_use]
pub fn summary_tail(total: u64, nfree: u64, counts: &BTreeMap<FrameKind, u64>) -> String {
    let kernel = counts.get(&FrameKind::Kernel).copied().unwrap_or(0);
    let low = counts.get(&FrameKind::Low).copied().unwrap_or(0);
    let used = total.saturating_sub(nfree).saturating_sub(kernel).saturating_sub(low);
    if low == 0 {
        format!(", {used} in use, {kernel} hold the kernel image.")
    } else {
        format!(", {used} in use, {kernel} hold the kernel image, {low} lie below it (I/O space and BIOS).")
    }
}

/// The text in a cell of the frame map: a run's letter and length (`·×66`),
/// or the frame's [`cell_text`] marked `+` if the step allocated it and `−`
/// if it freed it.
#[must_use]
pub fn cell_shown(c: &Cell, new: bool, gone: bool) -> String {
    if c.count > 1 && matches!(c.state, FrameState::Owned { .. }) {
        // A folded run of frames in use ([`fold_in_use`]): whose, and the step's mark.
        let mark = if new {
            "+"
        } else if gone {
            "−"
        } else {
            ""
        };
        format!("{}{mark}×{}", cell_text(c.state), c.count)
    } else if c.count > 1 {
        format!("{}×{}", c.kind.letter(), c.count)
    } else if new {
        format!("{}+", cell_text(c.state))
    } else if gone {
        format!("{}−", cell_text(c.state))
    } else {
        cell_text(c.state)
    }
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
        RegionKind::Freed => ("rg-hole", "FREED"),
        RegionKind::SharedCopy => ("rg-copy", "COPY"),
        RegionKind::Trapframe => ("rg-kernel", "TRAPFRAME"),
        RegionKind::Trampoline => ("rg-kernel", "TRAMPOLINE"),
        RegionKind::Kernel => ("rg-kernel", "KERNEL"),
    }
}

/// Frame addresses, sorted and each once: made by collecting and sorting
/// once (a heavy step gives tens of thousands, which a tree would take one
/// insertion at a time), then looked up by binary search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameSet(Vec<u64>);

impl FrameSet {
    /// True if `pa` is in the set.
    #[must_use]
    pub fn contains(&self, pa: u64) -> bool {
        self.0.binary_search(&pa).is_ok()
    }

    /// How many frames it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<u64> for FrameSet {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> FrameSet {
        let mut v: Vec<u64> = iter.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        FrameSet(v)
    }
}

/// Frames a step allocated and freed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// kalloc'd in the step (and still in use at its end, or not).
    pub allocated: FrameSet,
    /// kfree'd in the step.
    pub freed: FrameSet,
}

/// What step `s` changed in physical memory.
#[must_use]
pub fn changes(s: &Step) -> Changes {
    let (mut allocated, mut freed) = (Vec::new(), Vec::new());
    let kinds = |e: &Event| matches!(e, Event::Kalloc { .. } | Event::Kfree { .. });
    for e in pagelab_core::trace::expand_kinds(&s.events, kinds) {
        match &e.event {
            Event::Kalloc { pa, .. } => allocated.push(pa.as_u64()),
            Event::Kfree { pa, .. } => freed.push(pa.as_u64()),
            _ => {}
        }
    }
    Changes { allocated: allocated.into_iter().collect(), freed: freed.into_iter().collect() }
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

    /// The frame map's cells worked out frame by frame, as the lab did before
    /// [`cells_of_runs`]: the reference the tests hold it to.
    fn cells(frames: &[(u64, FrameState)], compact: bool, min_run: u64) -> Vec<Cell> {
        let mut out: Vec<Cell> = Vec::new();
        let mut i = 0;
        while i < frames.len() {
            let (pa, st) = frames[i];
            let kind = FrameKind::of(st);
            let runnable = matches!(kind, FrameKind::Kernel | FrameKind::Low) || (compact && kind == FrameKind::Free);
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
    fn cells_of_runs_are_the_cells_of_every_frame() {
        use pagelab_core::lab::view::{frame_runs, frames};
        use pagelab_core::lab::{Lab, Preset, scenario};
        use pagelab_core::shm::ShmMode;
        let mut shm = scenario::parse(scenario::SHM_TEST).unwrap();
        shm.ops.truncate(40);
        let labs = [
            Lab::from_scenario(&scenario::parse(scenario::STORY_X86).unwrap()).unwrap(),
            Lab::from_scenario(&shm).unwrap(),
            Lab::new(Preset::Xv6PublicTiny, ShmMode::Lab),
            Lab::new(Preset::Xv6RiscvTiny, ShmMode::Lab),
            Lab::new(Preset::Xv6Riscv, ShmMode::Lab),
        ];
        for lab in &labs {
            let (all, runs) = (frames(lab.kernel()), frame_runs(lab.kernel()));
            for compact in [true, false] {
                for min_run in [1, 2, 3, 64] {
                    assert_eq!(cells_of_runs(&runs, compact, min_run), cells(&all, compact, min_run));
                }
            }
            // The map's summary, against the frames one by one.
            let mut counts = BTreeMap::new();
            for (_, st) in &all {
                *counts.entry(FrameKind::of(*st)).or_insert(0u64) += 1;
            }
            let m = map_cells(&runs, 2048);
            assert_eq!(m.total, all.len() as u64);
            assert_eq!(m.compact, all.len() > 2048);
            assert_eq!(m.cells, cells(&all, m.compact, 2));
            assert_eq!(m.counts, counts);
        }
    }

    #[test]
    fn long_runs_of_like_frames_in_use_fold_and_the_rest_stay_a_cell_each() {
        use pagelab_core::trace::Owner;
        let one = |pa: u64, state: FrameState| Cell { pa, count: 1, kind: FrameKind::of(state), state };
        let user = |pid| FrameState::Owned { owner: Owner::User { pid } };
        let pt = FrameState::Owned { owner: Owner::PageTable { pid: 2 } };
        // 0x1000..: 5 user pages of pid 2, all new but 0x3000; a page table;
        // 4 user pages of pid 3; then a free run of 9 and one more user page
        // of pid 3, next to the run (not to the other pages of pid 3).
        let mut cells: Vec<Cell> = (1..=5).map(|i| one(i * PGSIZE, user(2))).collect();
        cells.push(one(6 * PGSIZE, pt));
        cells.extend((7..=10).map(|i| one(i * PGSIZE, user(3))));
        cells.push(Cell { pa: 11 * PGSIZE, count: 9, kind: FrameKind::Free, state: FrameState::Free });
        cells.push(one(20 * PGSIZE, user(3)));
        let new = |pa: u64| (pa != 3 * PGSIZE, false);
        let got: Vec<(u64, u64)> = fold_in_use(cells.clone(), 2, new).iter().map(|c| (c.pa >> 12, c.count)).collect();
        // Pid 2's pages break at 0x3000 (not new): 0x1000-0x2000 and 0x4000-0x5000 fold.
        assert_eq!(got, [(1, 2), (3, 1), (4, 2), (6, 1), (7, 4), (11, 9), (20, 1)]);
        let got: Vec<(u64, u64)> = fold_in_use(cells.clone(), 4, new).iter().map(|c| (c.pa >> 12, c.count)).collect();
        assert_eq!(got, [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 4), (11, 9), (20, 1)]);
        // Below the lab's threshold nothing of it folds.
        assert_eq!(fold_in_use(cells.clone(), FOLD_IN_USE_AT, new), cells);
        // A folded run says whose it is, its mark and its length.
        let run = Cell { pa: 7 * PGSIZE, count: 4, kind: FrameKind::User, state: user(3) };
        assert_eq!(cell_shown(&run, true, false), "U3+×4");
        assert_eq!(cell_shown(&run, false, false), "U3×4");
    }

    #[test]
    fn the_summary_counts_the_kernel_image_apart_from_what_lies_below_it() {
        use pagelab_core::lab::view::frame_runs;
        use pagelab_core::lab::{Lab, Preset};
        use pagelab_core::shm::ShmMode;
        // xv6-public: the kernel is loaded at EXTMEM (0x100000) and ends at V2P(0x801154a8) = 0x1154a8,
        // rounded up to 0x116000: 0x16000 / 4096 = 22 frames of kernel image, 0x100000 / 4096 = 256 below it.
        let lab = Lab::new(Preset::Xv6Public, ShmMode::Lab);
        let k = lab.kernel();
        let m = map_cells(&frame_runs(k), 2048);
        let nfree = k.kmem().nfree();
        assert_eq!((m.counts.get(&FrameKind::Kernel), m.counts.get(&FrameKind::Low)), (Some(&22), Some(&256)));
        let used = 57344 - nfree - 22 - 256;
        assert_eq!(
            summary_tail(m.total, nfree, &m.counts),
            format!(", {used} in use, 22 hold the kernel image, 256 lie below it (I/O space and BIOS).")
        );
        // The two are cells of their own, not one run.
        assert_eq!(m.cells[0], Cell { pa: 0, count: 256, kind: FrameKind::Low, state: FrameState::Low });
        assert_eq!(m.cells[1], Cell { pa: 0x100000, count: 22, kind: FrameKind::Kernel, state: FrameState::Kernel });
        // xv6-riscv's RAM starts with the kernel: nothing lies below it.
        let lab = Lab::new(Preset::Xv6Riscv, ShmMode::Lab);
        let m = map_cells(&frame_runs(lab.kernel()), 2048);
        assert_eq!(m.counts.get(&FrameKind::Low), None);
        assert!(summary_tail(m.total, lab.kernel().kmem().nfree(), &m.counts).ends_with(" hold the kernel image."));
    }

    #[test]
    fn a_cell_shows_its_run_or_its_change() {
        let user = FrameState::Owned { owner: Owner::User { pid: 3 } };
        let one = Cell { pa: 0x5000, count: 1, kind: FrameKind::User, state: user };
        assert_eq!(cell_shown(&one, false, false), "U3");
        assert_eq!(cell_shown(&one, true, false), "U3+");
        assert_eq!(cell_shown(&one, false, true), "U3−");
        let run = Cell { pa: 0x6000, count: 66, kind: FrameKind::Free, state: FrameState::Free };
        assert_eq!(cell_shown(&run, false, true), "·×66", "a run shows its length, changed or not");
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
        let letters: std::collections::BTreeSet<&str> = FrameKind::ALL.iter().map(|k| k.letter()).collect();
        assert_eq!(letters.len(), FrameKind::ALL.len());
    }
}

/// What an operation does, in a few words, for the step bar and the story:
/// "pid 3 runs exec("echo", {"echo", "hello"})".
#[must_use]
pub fn describe_op(op: &pagelab_core::lab::Op, result: &pagelab_core::port::SysRet) -> String {
    use pagelab_core::lab::Op;
    use pagelab_core::lab::scenario::quote;
    use pagelab_core::lab::summary::plural;
    let ok = result.error.is_none();
    let s = |b: &[u8]| {
        let q = quote(b);
        if q.starts_with('"') { q } else { format!("\"{q}\"") }
    };
    match op {
        Op::Userinit => "userinit makes the first process, pid 1".into(),
        Op::Fork { pid } if ok => format!("pid {pid} forks: the child is pid {}", result.value),
        // The step's title adds " (it fails)".
        Op::Fork { pid } => format!("pid {pid} forks"),
        Op::Exec { pid, path, argv } => {
            let args: Vec<String> = argv.iter().map(|a| s(a)).collect();
            format!("pid {pid} calls exec({}, {{{}}})", s(path.as_bytes()), args.join(", "))
        }
        Op::Sbrk { pid, n } => format!("pid {pid} calls sbrk({n})"),
        Op::Exit { pid } => format!("pid {pid} exits"),
        Op::Wait { pid } if ok => format!("pid {pid} waits, and frees its child pid {}", result.value),
        Op::Wait { pid } => format!("pid {pid} waits"),
        Op::Kill { pid } => format!("pid {pid} is killed"),
        Op::OpenShm { pid, id } => format!("pid {pid} calls openshmem({id})"),
        Op::CloseShm { pid, id } => format!("pid {pid} calls closeshmem({id})"),
        Op::Read { pid, va, len } => format!("pid {pid} loads {} at {va:#x}", plural(*len, "byte", "bytes")),
        Op::Write { pid, va, bytes } => {
            format!("pid {pid} stores {} at {va:#x}", plural(bytes.len() as u64, "byte", "bytes"))
        }
        Op::Fetch { pid, va } => format!("pid {pid} runs the instruction at {va:#x}"),
        Op::Pipe { pid } if ok => format!("pid {pid} calls pipe: its page is pipe {}'s", result.value),
        Op::Pipe { pid } => format!("pid {pid} calls pipe"),
        Op::PipeClose { pid, id } => format!("pid {pid} closes the last end of pipe {id}"),
        Op::File { path, bytes } => {
            format!("the file {path} is added ({})", plural(bytes.len() as u64, "byte", "bytes"))
        }
        Op::FailAlloc { after: Some(n) } => format!("kalloc is set to fail after {n} more"),
        Op::FailAlloc { after: None } => "kalloc stops failing on purpose".into(),
        Op::Cpu { cpu } => format!("the next operations run on CPU {cpu}"),
    }
}

/// What a step's operation gave back, in a sentence, and whether it is an
/// error: a system call's return value, or -1 and why; a user access that
/// faulted kills its process rather than returning; userinit, exit and the
/// lab's own settings return nothing.
#[must_use]
pub fn result_text(op: &pagelab_core::lab::Op, result: &pagelab_core::port::SysRet) -> (bool, String) {
    use pagelab_core::lab::Op;
    match (&result.error, op) {
        // The error's own words end "xv6 kills the process".
        (Some(e), _) if e.kills() => {
            let pid = op.pid().unwrap_or(0);
            (true, format!("It faults. A {e}: pid {pid}."))
        }
        (Some(e), _) => (true, format!("It returned -1: {e}")),
        (None, Op::Userinit) => (false, "userinit returns nothing: pid 1 now exists, ready to run initcode.".into()),
        (None, Op::Exit { .. }) => {
            (false, "exit does not return: the process stays a zombie until its parent waits.".into())
        }
        (None, Op::Pipe { .. }) => {
            (false, "pipe returned 0, with the two file descriptors written to its array.".into())
        }
        (None, Op::PipeClose { .. }) => {
            (false, "Both ends are closed: the pipe's page is back on the free list.".into())
        }
        (None, Op::Read { .. } | Op::Write { .. } | Op::Fetch { .. }) => {
            (false, "The access went through: no fault.".into())
        }
        (None, Op::File { .. } | Op::FailAlloc { .. } | Op::Cpu { .. }) => {
            (false, "This changed the lab only: no system call ran.".into())
        }
        // sbrk returns the old size, an address: in hex too, as the lab writes sizes.
        (None, Op::Sbrk { .. }) => (false, format!("It returned {} ({:#x}).", result.value, result.value)),
        (None, _) => (false, format!("It returned {}.", result.value)),
    }
}

/// What this step's operation did in xv6, in a few sentences, for a step
/// the scenario says nothing about (one the learner ran): what an operation
/// of its kind does ([`explain_op`]), and what happened instead where the
/// step did not go that way (it failed, or sbrk's size wrapped around).
#[must_use]
pub fn explain_step(
    op: &pagelab_core::lab::Op,
    port: pagelab_core::port::Port,
    result: &pagelab_core::port::SysRet,
) -> String {
    use pagelab_core::lab::Op;
    let (alloc, dealloc) = port.growproc_calls();
    match (op, &result.error) {
        (Op::Sbrk { n, .. }, Some(e)) if *n > 0 => format!(
            "sbrk asks growproc for {n} more bytes, and here it cannot give them: {e}. The user pages {alloc} mapped on the way are unmapped and freed again ({dealloc}), but not the page-table pages it took for them: those stay in the process's page table, empty, until the process is freed. The process keeps its size, and sbrk returns -1."
        ),
        // sz is unsigned: sz + n wraps around past sz, and there is nothing to free.
        (Op::Sbrk { n, .. }, None) if *n < 0 && n.unsigned_abs() > result.value.unsigned_abs() => format!(
            "sbrk({n}) asks to give back more than the process has: its size is {} bytes. growproc adds n to the size, an unsigned number, so the sum wraps around to a number above the old size; {dealloc} is asked to shrink to a larger size, frees nothing and returns the old size. The process keeps all its pages, and sbrk returns the old size, {}, as if it had worked.",
            result.value, result.value
        ),
        // Shrunk to nothing: xv6 lets it, and the process cannot run on.
        (Op::Sbrk { n, .. }, None) if *n < 0 && n.unsigned_abs() == result.value.unsigned_abs() => format!(
            "sbrk({n}) gives back all {} bytes of the process: {dealloc} frees and unmaps every user page, its code and its stack among them, and sbrk returns the old size. xv6 lets it happen; but when the process goes back to user mode, nothing is mapped at its program counter any more: fetching its next instruction faults, and the trap handler kills it.",
            result.value
        ),
        (Op::Sbrk { n, .. }, Some(e)) if *n < 0 => format!(
            "sbrk asks growproc to shrink the process by {} bytes, to nothing: {dealloc} frees and unmaps every user page. Then {e}.",
            n.unsigned_abs()
        ),
        // A load, store or fetch that faults returns nothing: the trap handler kills the process.
        (Op::Read { pid, .. } | Op::Write { pid, .. } | Op::Fetch { pid, .. }, Some(e)) if e.kills() => format!(
            "{} Here the MMU raises a {e}: pid {pid} exits at once (its memory stays until its parent's wait).",
            explain_op(op, port)
        ),
        (_, Some(e)) => format!("{} Here: {e}. It returns -1.", explain_op(op, port)),
        _ => explain_op(op, port).to_string(),
    }
}

/// What an operation of this kind does in xv6, in a sentence or two, for a
/// step the scenario says nothing about (one the learner ran).
#[must_use]
pub fn explain_op(op: &pagelab_core::lab::Op, port: pagelab_core::port::Port) -> &'static str {
    use pagelab_core::lab::Op;
    use pagelab_core::port::Port;
    let x86 = port == Port::Xv6Public;
    match op {
        Op::Userinit if x86 => {
            "userinit makes the first process by hand: allocproc gives it a kernel stack, setupkvm a page directory with the kernel's mappings, and inituvm one user page at address 0 holding initcode."
        }
        Op::Userinit => {
            "userinit makes the first process by hand: allocproc gives it a trapframe and a page table with the trampoline and trapframe at the top, and uvmfirst one user page at address 0 holding initcode."
        }
        Op::Fork { .. } if x86 => {
            "fork makes a child: allocproc gives it a process slot and a kernel stack, and copyuvm a new page directory (setupkvm) with a copy of each of the parent's user pages in a frame of its own. (A page from openshmem, pagelab's shared-memory addition, is the exception: the child maps the parent's frame.)"
        }
        Op::Fork { .. } => {
            "fork makes a child: allocproc gives it a process slot, a trapframe and a page table, and uvmcopy copies each of the parent's user pages into a frame of its own. (A page from openshmem, pagelab's shared-memory addition, is the exception: the child maps the parent's frame.)"
        }
        Op::Exec { .. } => {
            "exec builds a whole new address space: the program's segments, then a guard page (no user bit) and a stack page with the arguments on it. Only when all of that worked does it switch to the new page table and free the old one; if anything fails, the old image stays and exec returns -1."
        }
        Op::Sbrk { n, .. } if *n > 0 => {
            "sbrk grows the process: growproc maps new zeroed pages above the old size and returns the old size, where the new memory starts."
        }
        Op::Sbrk { n, .. } if *n < 0 => {
            "sbrk shrinks the process: growproc frees and unmaps the pages above the new size, and returns the old size."
        }
        Op::Sbrk { .. } => "sbrk(0) changes nothing: it returns the process's size.",
        Op::Exit { .. } => "exit makes the process a zombie: its memory stays until its parent calls wait.",
        Op::Wait { .. } if x86 => {
            "wait looks for a child that has exited and frees what it still holds: its kernel stack, its user pages and its page tables. It returns the child's pid, or -1 if there is no child."
        }
        Op::Wait { .. } => {
            "wait looks for a child that has exited and frees what it still holds: its trapframe, its user pages and its page tables (and the kernel stack stays with the process slot). It returns the child's pid, or -1 if there is no child."
        }
        Op::Kill { .. } => {
            "kill marks the process killed; it exits the next time it would return to user space, which the lab does at once."
        }
        Op::OpenShm { .. } => {
            "openshmem(id) maps shared page id at PGROUNDUP(sz) and grows sz by a page; the first process to open an id gets a fresh frame, later ones the same frame."
        }
        Op::CloseShm { .. } => "closeshmem(id) unmaps the shared page; the frame is freed when its last user lets go.",
        Op::Read { .. } => {
            "User code loads bytes: the MMU walks the page table for each page (setting the accessed bit). A fault would kill the process."
        }
        Op::Write { .. } => {
            "User code stores bytes: the MMU walks the page table for each page (setting the accessed and dirty bits). A fault would kill the process."
        }
        Op::Pipe { .. } => {
            "pipe makes two open files, one for reading and one for writing, and kallocs one page for the pipe itself: its lock, its counts and its 512-byte buffer. No page table changes: the pipe is the kernel's, and read and write copy bytes in and out of it."
        }
        Op::PipeClose { .. } => {
            "Closing a pipe's end (with close, or by exit, which closes every open file) marks that end closed; when both ends are, pipeclose kfrees the pipe's page."
        }
        Op::Fetch { .. } if x86 => {
            "User code jumps here, and the CPU fetches the instruction: the MMU walks the page table (setting the accessed bit). 32-bit x86 paging has no execute bit, so any page user code may read, it may run. A fault would kill the process."
        }
        Op::Fetch { .. } => {
            "User code jumps here, and the hart fetches the instruction: the MMU walks the page table (setting the accessed bit), and the page must have PTE_X as well as PTE_U, so a data or stack page faults. A fault would kill the process."
        }
        Op::File { .. } => "A program file is put in the file system, for exec to load.",
        Op::FailAlloc { after: None } => "From here on kalloc fails only when memory really runs out.",
        Op::FailAlloc { .. } => {
            "From here on a kalloc call fails on purpose, to show how each operation undoes its partial work when memory runs out."
        }
        Op::Cpu { .. } => {
            "Each CPU has its own TLB and runs its own process. From here on, operations run on this CPU: a process running on another one moves here first (it yields there, and the scheduler here loads its table). Moving itself flushes nothing."
        }
    }
}

/// One line of a step's trace as the page draws it: an event, a run of
/// like events folded into one line, or a call with what happened inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceNode {
    /// The event at this index.
    Event(usize),
    /// `len` like events from index `first` (same function, same kind):
    /// "kfree 66 page-table pages".
    Run {
        /// The first event.
        first: usize,
        /// How many.
        len: usize,
        /// What they are, in words.
        label: String,
    },
    /// The call event at `at` and what happened inside it.
    Call {
        /// The call event.
        at: usize,
        /// What happened inside.
        children: Vec<TraceNode>,
        /// Events inside, in all.
        events: usize,
        /// Frames allocated inside.
        kallocs: u64,
        /// Frames freed inside.
        kfrees: u64,
        /// Entries written inside (a folded run of entries counts each).
        entries: u64,
    },
}

/// Calls with more events than this start folded.
pub const FOLD_ABOVE: usize = 12;

/// Like events in a row, at least this many, fold into one line.
pub const RUN_MIN: usize = 3;

/// What makes two events alike for folding: same depth, function and kind
/// (and, for kalloc/kfree, the same class of page; for entries, the same level).
fn fold_key(e: &pagelab_core::trace::TraceEvent) -> Option<(u16, &'static str, u8, u8)> {
    use pagelab_core::trace::Event as E;
    let (kind, sub) = match &e.event {
        E::Kalloc { owner, .. } => (1, owner.class() as u8),
        E::Kfree { owner, .. } => (2, owner.class() as u8),
        E::PteWrite { level, .. } => (3, u8::try_from(*level).unwrap_or(u8::MAX)),
        E::Copyout { .. } => (4, 0),
        E::Copyin { .. } => (5, 0),
        E::CopyPage { .. } => (6, 0),
        E::Load { .. } => (7, 0),
        _ => return None,
    };
    Some((e.depth, e.func, kind, sub))
}

/// "kfree 66 page-table pages", "3 entry writes".
fn run_label(e: &pagelab_core::trace::TraceEvent, n: usize) -> String {
    use pagelab_core::lab::summary::plural;
    use pagelab_core::trace::{Event as E, PageClass};
    let n64 = n as u64;
    let pages = |class: PageClass| match class {
        PageClass::User => plural(n64, "user page", "user pages"),
        PageClass::PageTable => plural(n64, "page-table page", "page-table pages"),
        PageClass::KernelStack => plural(n64, "kernel stack", "kernel stacks"),
        PageClass::Other => plural(n64, "other page", "other pages"),
    };
    let what = match &e.event {
        E::Kalloc { owner, .. } => format!("kalloc {}", pages(owner.class())),
        E::Kfree { owner, .. } => format!("kfree {}", pages(owner.class())),
        E::PteWrite { .. } => format!("{} written", plural(n64, "page-table entry", "page-table entries")),
        E::Copyout { .. } => plural(n64, "copyout", "copyouts"),
        E::Copyin { .. } => plural(n64, "copyin", "copyins"),
        E::CopyPage { .. } => format!("{} copied", plural(n64, "page", "pages")),
        E::Load { .. } => format!("{} from the file", plural(n64, "load", "loads")),
        _ => plural(n64, "event", "events"),
    };
    format!("{}: {what}", e.func)
}

/// The events of a step as a tree of calls, with runs of like events folded.
///
/// A call's events follow it: everything deeper, and its own events at its
/// depth (they carry its name), up to the next call at its depth or an
/// event of its caller.
#[must_use]
pub fn trace_tree(events: &[pagelab_core::trace::TraceEvent]) -> Vec<TraceNode> {
    use pagelab_core::trace::Event as E;
    fn children(
        events: &[pagelab_core::trace::TraceEvent],
        i: &mut usize,
        call: Option<(u16, &str)>,
    ) -> Vec<TraceNode> {
        let mut out: Vec<TraceNode> = Vec::new();
        while *i < events.len() {
            let e = &events[*i];
            let is_call = matches!(e.event, E::Call { .. });
            if let Some((d, f)) = call {
                let inside = e.depth > d || (e.depth == d && !is_call && e.func == f);
                if !inside {
                    break;
                }
            }
            if is_call {
                let at = *i;
                *i += 1;
                let kids = children(events, i, Some((e.depth, e.func)));
                // A folded loop counts as every time it stands for.
                let inner = &events[at + 1..*i];
                let kallocs = sum_over(inner, |e| u64::from(matches!(e, E::Kalloc { .. })));
                let kfrees = sum_over(inner, |e| u64::from(matches!(e, E::Kfree { .. })));
                let entries = sum_over(inner, |e| match e {
                    E::PteWrite { count, .. } => u64::from(*count),
                    _ => 0,
                });
                let n = pagelab_core::trace::expanded_len(&events[at + 1..*i]);
                out.push(TraceNode::Call { at, children: kids, events: n, kallocs, kfrees, entries });
            } else {
                out.push(TraceNode::Event(*i));
                *i += 1;
            }
        }
        fold_runs(events, out)
    }
    let mut i = 0;
    let mut out = Vec::new();
    while i < events.len() {
        let before = i;
        out.extend(children(events, &mut i, None));
        if i == before {
            i += 1;
        }
    }
    out
}

/// Fold runs of at least [`RUN_MIN`] like events among `nodes`.
fn fold_runs(events: &[pagelab_core::trace::TraceEvent], nodes: Vec<TraceNode>) -> Vec<TraceNode> {
    let mut out: Vec<TraceNode> = Vec::with_capacity(nodes.len());
    let mut j = 0;
    while j < nodes.len() {
        if let TraceNode::Event(first) = nodes[j]
            && let Some(key) = fold_key(&events[first])
        {
            // How many like events a node stands for: 1, or the times of a
            // folded loop of one like event (kfree of each page table, say).
            let like = |x: usize| match events[x].event {
                pagelab_core::trace::Event::Repeat { period: 1, times }
                    if x > 0 && fold_key(&events[x - 1]) == Some(key) =>
                {
                    Some(times as usize)
                }
                _ => (fold_key(&events[x]) == Some(key)).then_some(1),
            };
            let (mut k, mut total) = (j + 1, 1);
            while let Some(TraceNode::Event(x)) = nodes.get(k)
                && let Some(n) = like(*x)
            {
                total += n;
                k += 1;
            }
            if total >= RUN_MIN {
                out.push(TraceNode::Run { first, len: k - j, label: run_label(&events[first], total) });
                j = k;
                continue;
            }
        }
        out.push(nodes[j].clone());
        j += 1;
    }
    out
}

/// A shortcut key of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCommand {
    /// One step forward.
    Forward,
    /// One step back.
    Back,
    /// Bring the next panel the step changed into sight.
    ShowChanges,
    /// Go to the next step with a DEFECT line.
    NextDefect,
    /// Put the cursor in the address field.
    Translate,
    /// Put the cursor in exec's program field.
    Exec,
    /// Show or hide the list of keys.
    Help,
}

/// The shortcut keys, as the page lists them: (keys, what they do).
pub const KEYS: [(&str, &str); 8] = [
    ("n or →", "next step"),
    ("p or ←", "previous step"),
    ("c", "bring what the step changed into sight"),
    ("d", "next step with a DEFECT line"),
    ("t", "type an address to translate"),
    ("e", "run exec"),
    ("?", "show or hide these keys"),
    ("Esc", "leave a text field (then the keys above work again)"),
];

/// The command for a key pressed outside any text field (`key` as the
/// browser names it); `None` for keys the page leaves alone, and for any
/// key pressed with Ctrl, Alt or Meta.
#[must_use]
pub fn key_command(key: &str, modifier: bool) -> Option<KeyCommand> {
    if modifier {
        return None;
    }
    Some(match key {
        "n" | "N" | "ArrowRight" => KeyCommand::Forward,
        "p" | "P" | "ArrowLeft" => KeyCommand::Back,
        "c" | "C" => KeyCommand::ShowChanges,
        "d" | "D" => KeyCommand::NextDefect,
        "t" | "T" => KeyCommand::Translate,
        "e" | "E" => KeyCommand::Exec,
        "?" => KeyCommand::Help,
        _ => return None,
    })
}

/// What a focused element does with the keys, for the page's shortcut keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    /// A field the learner types in (text, a menu, an editable region): it keeps every key.
    Typing,
    /// A control that is not typed in (a checkbox, a radio button, a slider):
    /// it keeps the arrow keys, which some of them use, and lets the letters through.
    Control,
    /// Anything else (a button, a link, the page): the keys are the page's.
    Page,
}

/// Who a key pressed in an element with tag `tag` (upper case, as the DOM
/// gives it) and input `type` (for an `INPUT`) belongs to.
#[must_use]
pub fn key_owner(tag: &str, input_type: &str, editable: bool) -> KeyOwner {
    match tag {
        "TEXTAREA" | "SELECT" => KeyOwner::Typing,
        "INPUT" => match input_type.to_ascii_lowercase().as_str() {
            "checkbox" | "radio" | "range" | "color" | "file" | "button" | "submit" | "reset" | "image" => {
                KeyOwner::Control
            }
            _ => KeyOwner::Typing,
        },
        _ if editable => KeyOwner::Typing,
        _ => KeyOwner::Page,
    }
}

/// Which widget "Embed this view" writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbedKind {
    /// `<pagelab-walk>`: the address, walked in the process at the step.
    Walk,
    /// `<pagelab-frames>`: physical memory at the step.
    Frames,
    /// `<pagelab-shm>`: shared memory at the step.
    Shm,
    /// `<pagelab-lab>`: a small lab opening at the step.
    Lab,
}

impl EmbedKind {
    /// Every kind, for a menu.
    pub const ALL: [EmbedKind; 4] = [EmbedKind::Walk, EmbedKind::Frames, EmbedKind::Shm, EmbedKind::Lab];

    /// The element's name.
    #[must_use]
    pub fn element(self) -> &'static str {
        match self {
            EmbedKind::Walk => "pagelab-walk",
            EmbedKind::Frames => "pagelab-frames",
            EmbedKind::Shm => "pagelab-shm",
            EmbedKind::Lab => "pagelab-lab",
        }
    }

    /// Words for the menu.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            EmbedKind::Walk => "the translation on screen (pagelab-walk)",
            EmbedKind::Frames => "physical memory at this step (pagelab-frames)",
            EmbedKind::Shm => "shared memory at this step (pagelab-shm)",
            EmbedKind::Lab => "a small lab opening at this step (pagelab-lab)",
        }
    }

    /// A short code for ids and values.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            EmbedKind::Walk => "walk",
            EmbedKind::Frames => "frames",
            EmbedKind::Shm => "shm",
            EmbedKind::Lab => "lab",
        }
    }
}

/// What is on screen, for [`embed_snippet`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedView {
    /// The built-in scenario, if the lab is one unchanged.
    pub builtin: Option<String>,
    /// Otherwise, the scenario's text.
    pub text: String,
    /// The step shown.
    pub step: usize,
    /// The process whose table is walked (`None`: the kernel's).
    pub pid: Option<u32>,
    /// The address.
    pub address: u64,
    /// The access, as the widgets name it (`user-read`).
    pub access: &'static str,
    /// Where the widgets' module is (`https://…/widgets/pagelab-widgets.js`).
    pub script: String,
}

/// The most operations a widget's scenario may have (so a page of notes stays quick).
pub const MAX_WIDGET_OPS: usize = 1000;

/// Why a lab of `ops` operations cannot be embedded, if it cannot: a widget
/// replays at most [`MAX_WIDGET_OPS`].
#[must_use]
pub fn embed_refusal(ops: usize) -> Option<String> {
    (ops > MAX_WIDGET_OPS).then(|| {
        format!(
            "This lab has {ops} operations, and a widget replays at most {MAX_WIDGET_OPS}: embed a shorter scenario (its first {MAX_WIDGET_OPS} operations, say), or share the link instead."
        )
    })
}

/// The access as the widgets' `access` attribute names it.
#[must_use]
pub fn widget_access(a: crate::state::AccessChoice) -> &'static str {
    use crate::state::AccessChoice as A;
    match a {
        A::UserRead => "user-read",
        A::UserWrite => "user-write",
        A::UserExec => "user-exec",
        A::KernelRead => "kernel-read",
        A::KernelWrite => "kernel-write",
    }
}

/// Text made safe inside an HTML element (`<script type="text/plain">` ends
/// only at `</script`, so that is all that needs care there).
fn script_safe(text: &str) -> String {
    text.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
}

/// What to paste into course notes to show `v` the way the lab shows it
/// now: the line that loads the widgets, then the widget element. A
/// built-in scenario is named; any other goes inside the element as text.
#[must_use]
pub fn embed_snippet(kind: EmbedKind, v: &EmbedView) -> String {
    format!("<script type=\"module\" src=\"{}\"></script>\n{}", v.script.replace('"', "%22"), embed_element(kind, v))
}

/// The widget element alone (see [`embed_snippet`]).
#[must_use]
pub fn embed_element(kind: EmbedKind, v: &EmbedView) -> String {
    let mut attrs = Vec::new();
    if let Some(b) = &v.builtin {
        attrs.push(format!("scenario=\"{b}\""));
    }
    attrs.push(format!("step=\"{}\"", v.step));
    if kind == EmbedKind::Walk {
        attrs.push(format!("pid=\"{}\"", v.pid.map_or_else(|| "kernel".to_string(), |p| p.to_string())));
        attrs.push(format!("address=\"{:#x}\"", v.address));
        attrs.push(format!("access=\"{}\"", v.access));
    }
    let el = kind.element();
    match &v.builtin {
        Some(_) => format!("<{el} {}></{el}>", attrs.join(" ")),
        None => format!(
            "<{el} {}>\n  <script type=\"text/plain\">\n{}  </script>\n</{el}>",
            attrs.join(" "),
            script_safe(&v.text)
        ),
    }
}

#[cfg(test)]
mod story_tests {
    use super::*;
    use pagelab_core::lab::scenario::{self, parse};
    use pagelab_core::lab::{Lab, Op};

    #[test]
    fn the_exec_trace_folds_to_a_few_lines() {
        let lab = Lab::from_scenario(&parse(scenario::STORY_X86).unwrap()).unwrap();
        let events = &lab.steps()[1].events;
        let tree = trace_tree(events);
        // Top level: the scheduler's switch to pid 1, then exec.
        assert_eq!(tree.len(), 2);
        let TraceNode::Call { at, children, kallocs, kfrees, .. } = &tree[1] else { panic!("{tree:?}") };
        assert_eq!(events[*at].func, "exec");
        // exec allocates 3 user + 66 table pages and frees 1 + 66 (as its counts say).
        assert_eq!((*kallocs, *kfrees), (69, 67));
        // freevm's 66 kfrees of page-table pages fold into one line.
        let freevm = children
            .iter()
            .find_map(|c| match c {
                TraceNode::Call { at, children, .. } if events[*at].func == "freevm" => Some(children),
                _ => None,
            })
            .unwrap();
        let runs: Vec<&str> = freevm
            .iter()
            .filter_map(|c| match c {
                TraceNode::Run { label, .. } => Some(label.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(runs, vec!["freevm: kfree 66 page-table pages"]);
        // Every event is in the tree exactly once.
        fn count(n: &[TraceNode]) -> usize {
            n.iter()
                .map(|x| match x {
                    TraceNode::Event(_) => 1,
                    TraceNode::Run { len, .. } => *len,
                    TraceNode::Call { children, .. } => 1 + count(children),
                })
                .sum()
        }
        assert_eq!(count(&tree), events.len());
    }

    #[test]
    fn ops_in_words() {
        let ok = |v| pagelab_core::port::SysRet::ok(v);
        let exec = Op::Exec { pid: 3, path: "echo".into(), argv: vec![b"echo".to_vec(), b"hi there".to_vec()] };
        assert_eq!(describe_op(&exec, &ok(0)), "pid 3 calls exec(\"echo\", {\"echo\", \"hi there\"})");
        assert_eq!(describe_op(&Op::Fork { pid: 1 }, &ok(2)), "pid 1 forks: the child is pid 2");
        let refused = pagelab_core::port::SysRet::err(pagelab_core::sys::SysError::Fork(
            pagelab_core::sys::ForkError::OutOfMemory,
        ));
        assert_eq!(
            describe_op(&Op::Fork { pid: 1 }, &refused),
            "pid 1 forks",
            "the step's title adds \"(it fails)\" once"
        );
        assert_eq!(describe_op(&Op::Read { pid: 3, va: 0x4000, len: 1 }, &ok(1)), "pid 3 loads 1 byte at 0x4000");
    }

    #[test]
    fn what_a_step_gave_back_in_words() {
        let ok = |v| pagelab_core::port::SysRet::ok(v);
        // userinit is void in both xv6s: no "It returned 1".
        assert_eq!(
            result_text(&Op::Userinit, &ok(1)).1,
            "userinit returns nothing: pid 1 now exists, ready to run initcode."
        );
        assert_eq!(result_text(&Op::Fork { pid: 1 }, &ok(2)), (false, "It returned 2.".to_string()));
        // sbrk's old size, 5 pages: 5 · 4096 = 20480 = 0x5000.
        assert_eq!(result_text(&Op::Sbrk { pid: 2, n: 4096 }, &ok(20480)).1, "It returned 20480 (0x5000).");
        assert!(!result_text(&Op::Write { pid: 2, va: 0x1000, bytes: vec![1] }, &ok(1)).1.contains("returned"));
        // A store that faults kills; it does not return -1.
        let fault =
            pagelab_core::port::SysRet::err(pagelab_core::sys::SysError::Access(pagelab_core::sys::AccessError {
                fault: pagelab_core::walk::Fault {
                    level: Some(0),
                    kind: pagelab_core::scheme::FaultKind::NotUser,
                    code: 15,
                    text: "no user bit".into(),
                },
                va: 0x2000,
            }));
        let (err, text) = result_text(&Op::Write { pid: 3, va: 0x2000, bytes: vec![1] }, &fault);
        assert!(
            err && text.starts_with("It faults. A page fault at 0x2000: ")
                && text.ends_with("kills the process: pid 3."),
            "{text}"
        );
        let refused = pagelab_core::port::SysRet::err(pagelab_core::sys::SysError::Fork(
            pagelab_core::sys::ForkError::NoFreeSlot,
        ));
        assert!(result_text(&Op::Fork { pid: 1 }, &refused).1.starts_with("It returned -1: "));
    }

    #[test]
    fn steps_explained_by_what_happened() {
        use pagelab_core::port::{Port, SysRet};
        use pagelab_core::sys::{SbrkError, SysError};
        // sbrk(-16385) on a 16384-byte process: 16384 - 16385 wraps to 0xffffffff
        // (above 16384), so deallocuvm frees nothing and sbrk returns 16384.
        let wrapped = explain_step(&Op::Sbrk { pid: 2, n: -16385 }, Port::Xv6Public, &SysRet::ok(16384));
        assert!(wrapped.contains("its size is 16384 bytes") && wrapped.contains("deallocuvm"), "{wrapped}");
        assert!(
            wrapped.contains("frees nothing") && !wrapped.contains("frees and unmaps the pages above"),
            "{wrapped}"
        );
        // sbrk(-16384) on the same process shrinks it: the usual words.
        let shrunk = explain_step(&Op::Sbrk { pid: 2, n: -4096 }, Port::Xv6Riscv, &SysRet::ok(16384));
        assert!(shrunk.starts_with("sbrk shrinks the process"), "{shrunk}");
        // sbrk(-16384) on a 16384-byte process gives back everything, text and stack:
        // the process cannot fetch its next instruction.
        let nothing = explain_step(&Op::Sbrk { pid: 2, n: -16384 }, Port::Xv6Riscv, &SysRet::ok(16384));
        assert!(nothing.contains("all 16384 bytes") && nothing.contains("uvmdealloc"), "{nothing}");
        assert!(nothing.contains("faults, and the trap handler kills it"), "{nothing}");
        let refused = SysRet::err(SysError::Sbrk(SbrkError::BeyondUserSpace));
        let grow = explain_step(&Op::Sbrk { pid: 2, n: 2_147_483_647 }, Port::Xv6Public, &refused);
        assert!(
            grow.contains("cannot give them") && grow.contains("returns -1") && !grow.contains("maps new zeroed"),
            "{grow}"
        );
        let grow = explain_step(&Op::Sbrk { pid: 2, n: 4096 }, Port::Xv6Riscv, &refused);
        assert!(grow.contains("uvmalloc"), "{grow}");
    }

    #[test]
    fn keys_only_without_modifiers() {
        assert_eq!(key_command("n", false), Some(KeyCommand::Forward));
        assert_eq!(key_command("ArrowLeft", false), Some(KeyCommand::Back));
        assert_eq!(key_command("n", true), None);
        assert_eq!(key_command("x", false), None);
        // A field typed in keeps the keys; a checkbox only its arrows; a button none.
        assert_eq!(key_owner("INPUT", "", false), KeyOwner::Typing);
        assert_eq!(key_owner("INPUT", "text", false), KeyOwner::Typing);
        assert_eq!(key_owner("INPUT", "Checkbox", false), KeyOwner::Control);
        assert_eq!(key_owner("SELECT", "", false), KeyOwner::Typing);
        assert_eq!(key_owner("BUTTON", "", false), KeyOwner::Page);
        assert_eq!(key_owner("DIV", "", true), KeyOwner::Typing);
    }

    #[test]
    fn embed_names_builtins_and_inlines_other_scenarios() {
        let v = EmbedView {
            builtin: Some("story-x86".into()),
            text: String::new(),
            step: 7,
            pid: Some(3),
            address: 0x2fcc,
            access: "user-read",
            script: "https://example.edu/os/pagelab/widgets/pagelab-widgets.js".into(),
        };
        assert_eq!(
            embed_snippet(EmbedKind::Walk, &v),
            "<script type=\"module\" src=\"https://example.edu/os/pagelab/widgets/pagelab-widgets.js\"></script>\n\
             <pagelab-walk scenario=\"story-x86\" step=\"7\" pid=\"3\" address=\"0x2fcc\" access=\"user-read\"></pagelab-walk>"
        );
        let own = EmbedView { builtin: None, text: "userinit\n# </script> here\n".into(), ..v };
        let s = embed_element(EmbedKind::Frames, &own);
        assert!(s.starts_with("<pagelab-frames step=\"7\">\n  <script type=\"text/plain\">\nuserinit\n"));
        assert!(s.contains("<\\/script> here") && s.ends_with("</script>\n</pagelab-frames>"));
        // In an operation's string the scenario printer has written `<` as \x3c: the
        // text holds no `</` but the element's own end tags, and reads back the same.
        let sc = pagelab_core::lab::scenario::parse("userinit\nwrite 1 0x0 \"</script><img src=x>\"\n").unwrap();
        let text = pagelab_core::lab::scenario::print(&sc);
        let s = embed_element(EmbedKind::Frames, &EmbedView { text: text.clone(), ..own });
        assert_eq!(s.matches("</").count(), 2, "{s}");
        let inner = s.split("<script type=\"text/plain\">\n").nth(1).unwrap().split("  </script>").next().unwrap();
        assert_eq!(pagelab_core::lab::scenario::parse(inner).unwrap(), sc);
        // A lab longer than a widget replays is not embedded.
        assert_eq!(embed_refusal(1000), None);
        assert!(embed_refusal(1104).is_some_and(|t| t.contains("1104 operations") && t.contains("at most 1000")));
    }
}

/// What a TLB slot's page table says now, in words: "says the same", or
/// "STALE: …" with what the table maps and who holds the slot's frame.
#[must_use]
pub fn tlb_now_text(row: &pagelab_core::lab::view::TlbRow, digits: usize) -> String {
    if !row.stale {
        return "says the same".to_string();
    }
    let holder = match &row.holder {
        Some(o) => format!("; the slot's frame is now: {o}"),
        None => "; the slot's frame is free".to_string(),
    };
    match row.table_frame {
        Some(f) if f == row.frame => {
            "STALE: the same frame, but the entry's bits changed (the slot keeps the old ones)".to_string()
        }
        Some(f) => format!("STALE: maps frame {}{holder}", hex(f.as_u64(), digits)),
        None if row.pid.is_none() && !row.kernel => format!("STALE: that table was freed{holder}"),
        None => format!("STALE: maps nothing here{holder}"),
    }
}

/// Whose table a TLB slot was walked from, in words.
#[must_use]
pub fn tlb_whose(row: &pagelab_core::lab::view::TlbRow) -> String {
    match (row.pid, row.kernel) {
        (Some(p), _) => format!("pid {p}'s table"),
        (None, true) => "the kernel's table".to_string(),
        (None, false) => "a table that has been freed".to_string(),
    }
}

/// What running an operation at step `current` of `n` does to the later
/// steps: "drops step 9" or "drops steps 4 to 9" (`current` < `n`).
#[must_use]
pub fn drops_text(current: usize, n: usize) -> String {
    if current + 1 == n { format!("drops step {n}") } else { format!("drops steps {} to {n}", current + 1) }
}
