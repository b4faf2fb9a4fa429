//! What one step did, in a learner's words: the pages each xv6 function
//! allocated and freed ("allocuvm: allocated 1 user page (text) + 1
//! page-table page"), and the page-table entries each process gained, lost
//! or changed.
//!
//! A [`Summary`] is worked out from the step's trace and the machine before
//! and after it (see [`Lab::apply`](super::Lab::apply)), so every number in it
//! is one the trace also shows.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::Serialize;

use super::view::{Region, RegionKind, regions};
use crate::addr::PGSIZE;
use crate::port::{Kernel, Port};
use crate::scheme::SchemeKind;
use crate::trace::{Counts, Event, Owner, PageClass, TraceEvent, expand_kinds, expand_numbers};

/// Functions that only do the work of the function that called them: pages
/// they allocate are counted for their caller (`mappages` inside `allocuvm`).
const PLUMBING: [&str; 7] = ["walkpgdir", "walk", "mappages", "kvmmap", "kalloc", "kfree", "MMU"];

/// The pages one call of an xv6 function allocated and freed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FuncPages {
    /// The function and the named functions it was called from, below the
    /// system call itself, outermost first: `["freevm", "deallocuvm"]`.
    pub path: Vec<&'static str>,
    /// Pages allocated and freed, by class.
    pub counts: Counts,
    /// What the user pages allocated are (`text`, `guard page`, `stack`, …), in the order met.
    pub allocated_as: Vec<String>,
    /// How many of the user pages allocated each name of `allocated_as` has.
    #[serde(skip)]
    pub allocated_n: Vec<u64>,
    /// What the user pages freed were.
    pub freed_as: Vec<String>,
    /// How many of the user pages freed each name of `freed_as` has.
    #[serde(skip)]
    pub freed_n: Vec<u64>,
    /// What the other pages (RISC-V trapframes, exec's argument copies) are.
    pub other_as: Vec<String>,
}

impl FuncPages {
    /// The path as the learner reads it: `freevm → deallocuvm`.
    #[must_use]
    pub fn who(&self) -> String {
        self.path.join(" → ")
    }
}

impl fmt::Display for FuncPages {
    /// `allocuvm: allocated 1 user page (text) + 1 page-table page`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        let alloc = pages_text(
            (c.user_alloc, c.pt_alloc, c.kstack_alloc, c.other_alloc),
            (&self.allocated_as, &self.allocated_n),
            &self.other_as,
        );
        let free = pages_text(
            (c.user_free, c.pt_free, c.kstack_free, c.other_free),
            (&self.freed_as, &self.freed_n),
            &self.other_as,
        );
        write!(f, "{}: ", self.who())?;
        match (alloc.is_empty(), free.is_empty()) {
            (false, false) => write!(f, "allocated {alloc}; freed {free}"),
            (false, true) => write!(f, "allocated {alloc}"),
            (true, false) => write!(f, "freed {free}"),
            (true, true) => f.write_str("nothing"),
        }
    }
}

pub use crate::trace::plural;

/// `3 user pages (2 text, stack) + 1 page-table page`, or "" for no pages: the counts (user,
/// page-table, kernel stack and other pages), what the user pages are (each
/// name with how many pages have it), and what the other pages are.
fn pages_text(
    (user, tables, kstacks, other): (u64, u64, u64, u64),
    user_as: (&[String], &[u64]),
    other_as: &[String],
) -> String {
    let mut parts = Vec::new();
    if user > 0 {
        let mut s = plural(user, "user page", "user pages");
        if !user_as.0.is_empty() {
            let named: Vec<String> = user_as
                .0
                .iter()
                .enumerate()
                .map(|(i, name)| match user_as.1.get(i) {
                    // One name for them all needs no count: `8 user pages (heap)`.
                    Some(&n) if n > 1 && user_as.0.len() > 1 => format!("{n} {name}"),
                    _ => name.clone(),
                })
                .collect();
            s.push_str(&format!(" ({})", named.join(", ")));
        }
        parts.push(s);
    }
    if tables > 0 {
        parts.push(plural(tables, "page-table page", "page-table pages"));
    }
    if kstacks > 0 {
        parts.push(plural(kstacks, "kernel stack", "kernel stacks"));
    }
    if other > 0 {
        let mut s = plural(other, "other page", "other pages");
        if !other_as.is_empty() {
            s.push_str(&format!(" ({})", other_as.join(", ")));
        }
        parts.push(s);
    }
    parts.join(" + ")
}

/// A run of consecutive pages: `count` pages from `va`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PageRun {
    /// The first page.
    pub va: u64,
    /// Pages in the run.
    pub count: u64,
    /// What they are (`stack`, `heap`, …), if known.
    pub what: String,
}

/// One entry whose flags or frame changed (both old and new valid).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryChange {
    /// The page it maps.
    pub va: u64,
    /// The old value.
    pub old: u64,
    /// The new value.
    pub new: u64,
    /// What the page is, if known.
    pub what: String,
}

/// The last-level entries one page table gained, lost and changed in a step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Mappings {
    /// Whose table: a process, or `None` for the kernel's own page table.
    pub pid: Option<u32>,
    /// User pages newly mapped, as runs.
    pub added: Vec<PageRun>,
    /// User pages unmapped, as runs.
    pub removed: Vec<PageRun>,
    /// Entries rewritten (flags changed, such as `PTE_U` cleared on the guard page).
    pub changed: Vec<EntryChange>,
    /// Entries of the kernel's part written (x86: the kernel half setupkvm maps;
    /// RISC-V: the trampoline and trapframe pages).
    pub kernel_added: u64,
    /// Kernel-part entries cleared.
    pub kernel_removed: u64,
    /// Page-table pages (root included) allocated for this table.
    pub tables_added: u64,
    /// Page-table pages freed with the entries in them.
    pub tables_freed: u64,
}

impl Mappings {
    /// Whose table, in words.
    #[must_use]
    pub fn whose(&self) -> String {
        match self.pid {
            Some(p) => format!("pid {p}"),
            None => "the kernel's page table".into(),
        }
    }

    /// User pages added, in all.
    #[must_use]
    pub fn added_pages(&self) -> u64 {
        self.added.iter().map(|r| r.count).sum()
    }

    /// User pages removed, in all.
    #[must_use]
    pub fn removed_pages(&self) -> u64 {
        self.removed.iter().map(|r| r.count).sum()
    }
}

/// What a step did, summed up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Pages allocated and freed, by the xv6 function that did it, in order.
    pub by_function: Vec<FuncPages>,
    /// Frames `freerange` put on the free list (at boot).
    pub freerange: u64,
    /// Entries written, per page table (processes by pid, the kernel's first).
    pub mappings: Vec<Mappings>,
    /// True if the trace was full, so the lines above miss some events
    /// (the step's page counts are still exact).
    pub partial: bool,
}

/// The process's regions, for naming user pages.
pub type RegionsOf = BTreeMap<u32, Vec<Region>>;

/// The regions of every process in `k` (live or zombie).
#[must_use]
pub fn regions_of(k: &dyn Kernel) -> RegionsOf {
    k.procs().live().map(|p| (p.pid, regions(k, p.pid))).collect()
}

/// A short name for the page at `va` of `pid`: `text`, `guard page`, `stack`, `heap`, `shared page 25`.
fn page_name(regs: &RegionsOf, pid: u32, va: u64) -> &str {
    let Some(r) = regs.get(&pid).and_then(|rs| rs.iter().find(|r| va >= r.start && va < r.end)) else {
        return "";
    };
    match r.kind {
        RegionKind::Text => "text",
        RegionKind::Data => "data",
        RegionKind::Initcode => "initcode",
        RegionKind::Guard => "guard page",
        RegionKind::Stack => "stack",
        RegionKind::Heap => "heap",
        RegionKind::Freed => "freed page",
        RegionKind::Shared | RegionKind::Hole | RegionKind::SharedCopy => &r.label,
        RegionKind::Trapframe => "trapframe",
        RegionKind::Trampoline => "trampoline",
        RegionKind::Kernel => "kernel",
    }
}

/// Add `s` to `v` unless it is empty or there already (a string is made only then).
fn push_distinct(v: &mut Vec<String>, s: &str) {
    if !s.is_empty() && !v.iter().any(|x| x == s) {
        v.push(s.into());
    }
}

/// Count one more page called `s` (not if it is empty): a new name goes at
/// the end of `names` with a count of 1 in `counts`.
fn push_counted(names: &mut Vec<String>, counts: &mut Vec<u64>, s: &str) {
    if s.is_empty() {
        return;
    }
    match names.iter().position(|x| x == s) {
        Some(i) => counts[i] += 1,
        None => {
            names.push(s.into());
            counts.push(1);
        }
    }
}

/// One call on the stack while reading the trace: its name and a number
/// that tells two calls of the same function apart.
#[derive(Clone, Copy)]
struct Frame {
    func: &'static str,
    id: usize,
}

/// Where each user frame a step touched was mapped: frame → (pid, va) from
/// the entries written (a new mapping for allocated frames, a cleared one for freed ones).
struct FrameVas {
    mapped: PaMap<u64>,
    unmapped: PaMap<u64>,
}

/// A map from frame addresses to values, built by pushing pairs and then
/// sorting once ([`PaMap::sorted`]): a heavy step pushes tens of thousands,
/// which a tree would take one insertion at a time.
struct PaMap<T> {
    pairs: Vec<(u64, T)>,
}

impl<T: Copy> PaMap<T> {
    fn new() -> PaMap<T> {
        PaMap { pairs: Vec::new() }
    }

    fn push(&mut self, pa: u64, v: T) {
        self.pairs.push((pa, v));
    }

    /// Sorted by frame, one value per frame: the first pushed for it
    /// (`keep_last` false) or the last.
    fn sorted(mut self, keep_last: bool) -> PaMap<T> {
        // A stable sort keeps each frame's values in the order pushed.
        self.pairs.sort_by_key(|p| p.0);
        if keep_last {
            self.pairs.reverse();
            // Reversed, each frame's last value comes first; dedup keeps it.
            self.pairs.dedup_by_key(|p| p.0);
            self.pairs.reverse();
        } else {
            self.pairs.dedup_by_key(|p| p.0);
        }
        self
    }

    /// The value for `pa` (after [`PaMap::sorted`]).
    fn get(&self, pa: u64) -> Option<T> {
        self.pairs.binary_search_by_key(&pa, |p| p.0).ok().map(|i| self.pairs[i].1)
    }
}

/// The last-level entries event `e` wrote, one by one: `f(table, va, old, new, n)`.
/// A run in the kernel's part (at or above `limit`) is one call with `n`
/// its length; other runs are opened up, one call (`n` = 1) per entry.
fn leaf_writes(e: &Event, limit: u64, mut f: impl FnMut(u64, u64, u64, u64, u64)) {
    if let Event::PteWrite { level: 0, table, va, old, new, count, va_step, new_step, .. } = e {
        let (table, va) = (table.as_u64(), va.as_u64());
        if va >= limit {
            f(table, va, *old, *new, u64::from(*count));
            return;
        }
        for i in 0..u64::from(*count) {
            f(table, va.wrapping_add(i.wrapping_mul(*va_step)), *old, new.wrapping_add(i.wrapping_mul(*new_step)), 1);
        }
    }
}

fn valid(e: u64) -> bool {
    // PTE_P (x86) and PTE_V (RISC-V) are both bit 0.
    e & 1 != 0
}

/// What the first pass over a step's events gathers for the second.
struct Gathered {
    /// Frame → va, from the leaf entries written.
    vas: FrameVas,
    /// Frame → the owner the trace gave it (its last, for a frame allocated and freed).
    owners: PaMap<Owner>,
    /// The frames the step allocated and then freed again (see [`Gathered::came_and_went`]).
    gone: BTreeSet<u64>,
    /// Per page table, the page-table pages allocated and freed.
    by_table: BTreeMap<Option<u32>, Mappings>,
}

impl Gathered {
    /// True if a step may have allocated frames and freed them again (a
    /// failed exec's new page table and pages, say). Most steps only
    /// allocate or only free (a sbrk of thousands of pages): nothing to
    /// look for then. A folded loop keeps its first time, so the events as
    /// kept tell.
    fn came_and_went(events: &[TraceEvent]) -> bool {
        events.iter().any(|e| matches!(e.event, Event::Kalloc { .. }))
            && events.iter().any(|e| matches!(e.event, Event::Kfree { .. }))
    }

    /// Read every event a step's folded list stands for, once.
    fn read(events: &[TraceEvent], scheme: SchemeKind, user_limit: u64) -> Gathered {
        let mut vas = FrameVas { mapped: PaMap::new(), unmapped: PaMap::new() };
        let mut owners: PaMap<Owner> = PaMap::new();
        let mut by_table: BTreeMap<Option<u32>, Mappings> = BTreeMap::new();
        let look = Gathered::came_and_went(events);
        let (mut came, mut went) = (BTreeSet::new(), BTreeSet::new());
        let kinds = |e: &Event| matches!(e, Event::PteWrite { .. } | Event::Kalloc { .. } | Event::Kfree { .. });
        for e in expand_kinds(events, kinds) {
            match &e.event {
                Event::PteWrite { .. } => leaf_writes(&e.event, user_limit, |_, va, old, new, _| {
                    if va >= user_limit {
                        return;
                    }
                    if valid(new) {
                        vas.mapped.push(scheme.pte_pa(new), va);
                    }
                    if valid(old) && !valid(new) {
                        vas.unmapped.push(scheme.pte_pa(old), va);
                    }
                }),
                Event::Kalloc { pa, owner } | Event::Kfree { pa, owner } => {
                    let alloc = matches!(e.event, Event::Kalloc { .. });
                    let pa = pa.as_u64();
                    owners.push(pa, *owner);
                    if let Some(t) = table_of(*owner) {
                        let m = by_table.entry(t).or_insert_with(|| Mappings { pid: t, ..Mappings::default() });
                        if alloc {
                            m.tables_added += 1;
                        } else {
                            m.tables_freed += 1;
                        }
                    }
                    if look {
                        if alloc {
                            came.insert(pa);
                            went.remove(&pa);
                        } else if came.contains(&pa) {
                            went.insert(pa);
                        }
                    }
                }
                _ => {}
            }
        }
        // A frame mapped (or unmapped) twice in a step is named by its first va;
        // a frame allocated and freed in the step keeps its last owner.
        Gathered {
            vas: FrameVas { mapped: vas.mapped.sorted(false), unmapped: vas.unmapped.sorted(false) },
            owners: owners.sorted(true),
            gone: went,
            by_table,
        }
    }
}

/// Whose page table a table frame is: `Some(Some(pid))`, `Some(None)` for
/// the kernel's own, `None` if it is no page table.
fn table_of(owner: Owner) -> Option<Option<u32>> {
    match owner {
        Owner::PageTable { pid } | Owner::PageDir { pid } => Some(Some(pid)),
        Owner::KernelPageTable => Some(None),
        _ => None,
    }
}

/// Add `va` to a list of runs, joining it to the last run when it follows on.
fn add_page(runs: &mut Vec<PageRun>, va: u64, what: &str) {
    if let Some(last) = runs.last_mut()
        && last.va + last.count * PGSIZE == va
        && last.what == what
    {
        last.count += 1;
        return;
    }
    runs.push(PageRun { va, count: 1, what: what.into() });
}

/// Sum up a step from its events, the machine after it, and the regions
/// of every process before it (for naming the user pages it freed).
#[must_use]
pub fn summarize(events: &[TraceEvent], elided: u64, after: &dyn Kernel, before: &RegionsOf) -> Summary {
    // Two passes, each opening up the folded loops again rather than keeping
    // them open: a heavy step has hundreds of thousands of events, and
    // memory the wasm grew for them would stay with the page. The first
    // gathers what the second needs to name each page.
    let info = after.info();
    let user_limit = info.user_limit;
    let after_regions = regions_of(after);
    let Gathered { vas, owners, gone, mut by_table } = Gathered::read(events, info.scheme, user_limit);
    let kmem = after.kmem();

    let mut by_function: Vec<FuncPages> = Vec::new();
    let mut index_of: BTreeMap<usize, usize> = BTreeMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut freerange = 0;
    for (i, ev) in expand_numbers(events).enumerate() {
        let d = usize::from(ev.depth);
        match &ev.event {
            Event::Call { func, .. } => {
                stack.truncate(d);
                stack.push(Frame { func, id: i });
            }
            Event::FreeRange { count, .. } => freerange += count,
            Event::Kalloc { pa, owner } | Event::Kfree { pa, owner } => {
                // Pages by function.
                let alloc = matches!(ev.event, Event::Kalloc { .. });
                // The calls this event happened in: the recorded ones above it,
                // then its own function (a call not recorded, like walkpgdir, gets its own number).
                // (Walked without collecting: a heavy step has tens of thousands of these.)
                let own = match stack.get(d) {
                    Some(fr) if fr.func == ev.func => *fr,
                    _ => Frame { func: ev.func, id: usize::MAX - d },
                };
                let chain = || stack[..d.min(stack.len())].iter().copied().chain(core::iter::once(own));
                let named = || chain().skip(1).filter(|fr| !PLUMBING.contains(&fr.func));
                // The outermost call names the line when every call below it is plumbing.
                let first = chain().next().unwrap_or(own);
                let key = named().last().map_or(first.id, |last| last.id);
                let at = *index_of.entry(key).or_insert_with(|| {
                    let path = match named().map(|f| f.func).collect::<Vec<_>>() {
                        p if p.is_empty() => alloc::vec![first.func],
                        p => p,
                    };
                    by_function.push(FuncPages { path, ..FuncPages::default() });
                    by_function.len() - 1
                });
                let line = &mut by_function[at];
                line.counts.bump(owner.class(), alloc, 1);
                match owner {
                    Owner::Trapframe { .. } => push_distinct(&mut line.other_as, "trapframe"),
                    Owner::ArgCopy { .. } => push_distinct(&mut line.other_as, "exec argument copy"),
                    Owner::DiskRing => push_distinct(&mut line.other_as, "virtio disk ring"),
                    Owner::Pipe { .. } => push_distinct(&mut line.other_as, "pipe"),
                    _ => {}
                }
                if owner.class() == PageClass::User {
                    let pa = pa.as_u64();
                    let shared;
                    let what: &str = match (owner, alloc) {
                        // A page this step allocated and freed again (a failed exec's new
                        // image) was in no process's address space: neither layout names it.
                        (Owner::User { .. }, _) if gone.contains(&pa) => "",
                        (Owner::Shared { id }, _) => {
                            shared = format!("shared page {id}");
                            &shared
                        }
                        (Owner::User { pid }, true) => {
                            vas.mapped.get(pa).map_or("", |va| page_name(&after_regions, *pid, va))
                        }
                        (Owner::User { pid }, false) => {
                            vas.unmapped.get(pa).map_or("", |va| page_name(before, *pid, va))
                        }
                        _ => "",
                    };
                    let (names, counts) = if alloc {
                        (&mut line.allocated_as, &mut line.allocated_n)
                    } else {
                        (&mut line.freed_as, &mut line.freed_n)
                    };
                    push_counted(names, counts, what);
                }
            }
            // Entries written, per page table.
            Event::PteWrite { .. } => leaf_writes(&ev.event, user_limit, |table, va, old, new, n| {
                let Some(owner) = owners.get(table).or_else(|| kmem.owner(table)) else { return };
                let Some(t) = table_of(owner) else { return };
                let m = by_table.entry(t).or_insert_with(|| Mappings { pid: t, ..Mappings::default() });
                let kernel_part = va >= user_limit || t.is_none();
                // A table the step made and freed again belonged to no address space the regions describe.
                let t = t.filter(|_| !gone.contains(&table));
                match (valid(old), valid(new)) {
                    (false, true) if kernel_part => m.kernel_added += n,
                    (true, false) if kernel_part => m.kernel_removed += n,
                    (false, true) => {
                        let what = t.map_or("", |pid| page_name(&after_regions, pid, va));
                        add_page(&mut m.added, va, what);
                    }
                    (true, false) => {
                        let what = t.map_or("", |pid| page_name(before, pid, va));
                        add_page(&mut m.removed, va, what);
                    }
                    (true, true) if old != new && !kernel_part => {
                        let what = t.map_or("", |pid| page_name(&after_regions, pid, va)).into();
                        m.changed.push(EntryChange { va, old, new, what });
                    }
                    _ => {}
                }
            }),
            _ => {}
        }
    }

    Summary { by_function, freerange, mappings: by_table.into_values().collect(), partial: elided > 0 }
}

/// The flags an entry change set and cleared: `+PTE_A +PTE_D`, `−PTE_U`.
#[must_use]
pub fn flag_change(scheme: SchemeKind, old: u64, new: u64) -> String {
    let before = scheme.flag_bits(old);
    let after = scheme.flag_bits(new);
    let mut parts = Vec::new();
    for (b, a) in before.iter().zip(after.iter()) {
        if a.set && !b.set {
            parts.push(format!("+{}", a.name));
        } else if b.set && !a.set {
            parts.push(format!("−{}", a.name));
        }
    }
    if scheme.pte_pa(old) != scheme.pte_pa(new) {
        parts.push(format!("frame {:#x} → {:#x}", scheme.pte_pa(old), scheme.pte_pa(new)));
    }
    parts.join(" ")
}

/// A run of pages as text: `va 0x2000–0x2fff (stack)`, `va 0x4000–0xbfff (8 pages: heap)`.
#[must_use]
pub fn run_text(r: &PageRun) -> String {
    let last = r.va + r.count * PGSIZE - 1;
    let what = if r.what.is_empty() { String::new() } else { r.what.clone() };
    match (r.count, what.is_empty()) {
        (1, true) => format!("va {:#x}–{last:#x}", r.va),
        (1, false) => format!("va {:#x}–{last:#x} ({what})", r.va),
        (n, true) => format!("va {:#x}–{last:#x} ({n} pages)", r.va),
        (n, false) => format!("va {:#x}–{last:#x} ({n} pages: {what})", r.va),
    }
}

/// One line per page table for what a step did to its entries, e.g.
/// `pid 1: mapped va 0x0–0x2fff (3 pages) …; 57344 entries of the kernel half`.
#[must_use]
pub fn mappings_text(m: &Mappings, port: Port, scheme: SchemeKind) -> String {
    let parts = mappings_parts(m, port, scheme);
    if parts.is_empty() {
        return format!("{}: no entry changed", m.whose());
    }
    format!("{}: {}", m.whose(), parts.join("; "))
}

/// What a step did to one page table's entries, a phrase per kind of
/// change: "mapped va 0x0–0xfff (text)", "changed va 0x1000 (guard page): −PTE_U".
#[must_use]
pub fn mappings_parts(m: &Mappings, port: Port, scheme: SchemeKind) -> Vec<String> {
    let runs = |rs: &[PageRun]| rs.iter().map(run_text).collect::<Vec<_>>().join(", ");
    let mut parts = Vec::new();
    if !m.added.is_empty() {
        parts.push(format!("mapped {}", runs(&m.added)));
    }
    if !m.removed.is_empty() {
        parts.push(format!("unmapped {}", runs(&m.removed)));
    }
    for c in &m.changed {
        let what = if c.what.is_empty() { String::new() } else { format!(" ({})", c.what) };
        parts.push(format!("changed va {:#x}{what}: {}", c.va, flag_change(scheme, c.old, c.new)));
    }
    // A process's own entries that only the kernel uses: on x86 its copy of
    // the kernel half; on RISC-V the trampoline and trapframe, without PTE_U
    // (entries of the process's table, not of the kernel's own).
    let (one, many, kernel_part) = match (m.pid, port) {
        (None, _) => ("kernel entry", "kernel entries", ""),
        (Some(_), Port::Xv6Public) => ("kernel entry", "kernel entries", " of the kernel half"),
        (Some(_), Port::Xv6Riscv) => (
            "entry",
            "entries",
            " without PTE_U, for the trampoline and trapframe (only the kernel's trap code uses them)",
        ),
    };
    if m.kernel_added > 0 {
        parts.push(format!("mapped {}{kernel_part}", plural(m.kernel_added, one, many)));
    }
    if m.kernel_removed > 0 {
        parts.push(format!("cleared {}{kernel_part}", plural(m.kernel_removed, one, many)));
    }
    if m.tables_added > 0 {
        parts.push(format!("{} allocated", plural(m.tables_added, "page-table page", "page-table pages")));
    }
    if m.tables_freed > 0 {
        parts.push(format!(
            "{} freed (with the entries in {})",
            plural(m.tables_freed, "page-table page", "page-table pages"),
            if m.tables_freed == 1 { "it" } else { "them" }
        ));
    }
    parts
}

impl Summary {
    /// The lines of [`FuncPages`] as text, in order.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        if self.freerange > 0 {
            v.push(format!("freerange: put {} on the free list", plural(self.freerange, "frame", "frames")));
        }
        v.extend(self.by_function.iter().map(ToString::to_string));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::PaMap;

    #[test]
    fn a_pa_map_keeps_the_first_or_the_last_value_of_a_frame() {
        let pairs = [(0x3000, 1), (0x1000, 2), (0x3000, 3), (0x2000, 4), (0x1000, 5), (0x3000, 6)];
        let build = |keep_last| {
            let mut m = PaMap::new();
            for (pa, v) in pairs {
                m.push(pa, v);
            }
            m.sorted(keep_last)
        };
        // By hand: 0x1000 got 2 then 5; 0x2000 got 4; 0x3000 got 1, 3, 6.
        let first = build(false);
        assert_eq!([first.get(0x1000), first.get(0x2000), first.get(0x3000)], [Some(2), Some(4), Some(1)]);
        let last = build(true);
        assert_eq!([last.get(0x1000), last.get(0x2000), last.get(0x3000)], [Some(5), Some(4), Some(6)]);
        assert_eq!(first.get(0x4000), None);
        assert_eq!(last.get(0), None);
    }
}
