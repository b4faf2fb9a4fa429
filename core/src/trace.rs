//! The event trace: what happened inside an operation, in order, and in
//! which xv6 function.
//!
//! Every function of the core that does something a learner should see
//! reports it here: kalloc and kfree of which frame and for whom, each
//! page-table entry written (old → new), bytes copied out to a user page,
//! page-table switches and TLB flushes, and xv6's own messages. Long runs of
//! similar entry writes (setupkvm maps 57,344 pages) are folded into one event
//! with a count.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use alloc::format;
use core::fmt::Write as _;

use crate::addr::{PhysAddr, VirtAddr};
use crate::scheme::SchemeKind;

mod fold;
pub use fold::{MAX_PERIOD, expand, expand_kinds, expand_numbers, expanded_len, fits, nth, rfind, sum_over};

/// Who owns an allocated frame, and what for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Owner {
    /// A user page (text, data, stack, guard, heap) of a process.
    User {
        /// The process.
        pid: u32,
    },
    /// A page-table page (not the root) of a process.
    PageTable {
        /// The process.
        pid: u32,
    },
    /// The root of a process's page table (x86: page directory).
    PageDir {
        /// The process.
        pid: u32,
    },
    /// A process's kernel stack (x86 allocates it in `allocproc`).
    KernelStack {
        /// The process.
        pid: u32,
    },
    /// A process's trapframe page (RISC-V).
    Trapframe {
        /// The process.
        pid: u32,
    },
    /// A temporary copy of one `exec` argument (RISC-V `sys_exec`).
    ArgCopy {
        /// The process.
        pid: u32,
    },
    /// A shared-memory page.
    Shared {
        /// The shared page's id.
        id: i32,
    },
    /// The kernel's own page table (the root and its tables), built at boot.
    KernelPageTable,
    /// A kernel stack made at boot: another CPU's boot stack (x86) or a process slot's stack (RISC-V).
    BootStack {
        /// The CPU or process slot it belongs to.
        slot: u32,
    },
    /// One of the virtio disk's three rings (xv6-riscv's `virtio_disk_init`: desc, avail, used).
    DiskRing,
    /// The page that holds a pipe (`pipealloc`): its lock, counts and buffer.
    Pipe {
        /// The pipe's number.
        id: u32,
    },
}

impl Owner {
    /// The process this frame belongs to, if any.
    #[must_use]
    pub fn pid(self) -> Option<u32> {
        match self {
            Owner::User { pid }
            | Owner::PageTable { pid }
            | Owner::PageDir { pid }
            | Owner::KernelStack { pid }
            | Owner::Trapframe { pid }
            | Owner::ArgCopy { pid } => Some(pid),
            Owner::Shared { .. }
            | Owner::KernelPageTable
            | Owner::BootStack { .. }
            | Owner::DiskRing
            | Owner::Pipe { .. } => None,
        }
    }

    /// Which count this frame falls in.
    #[must_use]
    pub fn class(self) -> PageClass {
        match self {
            Owner::User { .. } | Owner::Shared { .. } => PageClass::User,
            Owner::PageTable { .. } | Owner::PageDir { .. } | Owner::KernelPageTable => PageClass::PageTable,
            Owner::KernelStack { .. } | Owner::BootStack { .. } => PageClass::KernelStack,
            Owner::Trapframe { .. } | Owner::ArgCopy { .. } | Owner::DiskRing | Owner::Pipe { .. } => PageClass::Other,
        }
    }

    /// The owner in words, in the names of `scheme`'s port: the root of a
    /// process's table is xv6-public's page directory, but xv6-riscv's root
    /// page table (`p->pagetable`).
    #[must_use]
    pub fn text(self, scheme: SchemeKind) -> String {
        match self {
            Owner::PageDir { pid } if scheme != SchemeKind::X86 => format!("root page table of pid {pid}"),
            // Not a process's: x86 startothers' stack for another CPU, or RISC-V procinit's for a process slot.
            Owner::BootStack { slot } if scheme == SchemeKind::X86 => {
                format!("boot stack of CPU {slot} (startothers made it; no process's)")
            }
            Owner::BootStack { slot } => format!("kernel stack of process slot {slot} (made at boot)"),
            o => o.to_string(),
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::User { pid } => write!(f, "user page of pid {pid}"),
            Owner::PageTable { pid } => write!(f, "page-table page of pid {pid}"),
            Owner::PageDir { pid } => write!(f, "page directory (root) of pid {pid}"),
            Owner::KernelStack { pid } => write!(f, "kernel stack of pid {pid}"),
            Owner::Trapframe { pid } => write!(f, "trapframe of pid {pid}"),
            Owner::ArgCopy { pid } => write!(f, "exec argument copy for pid {pid}"),
            Owner::Shared { id } => write!(f, "shared page {id}"),
            Owner::KernelPageTable => f.write_str("kernel page table"),
            Owner::BootStack { slot } => write!(f, "kernel stack {slot} (made at boot)"),
            Owner::DiskRing => f.write_str("virtio disk ring"),
            Owner::Pipe { id } => write!(f, "the page of pipe {id}"),
        }
    }
}

/// The classes pages are counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageClass {
    /// User pages (including shared pages).
    User,
    /// Page-table pages (including roots).
    PageTable,
    /// Kernel stacks.
    KernelStack,
    /// Trapframes and temporary copies.
    Other,
}

/// Pages allocated and freed by one operation, by class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// User pages allocated.
    pub user_alloc: u64,
    /// User pages freed.
    pub user_free: u64,
    /// Page-table pages (and roots) allocated.
    pub pt_alloc: u64,
    /// Page-table pages (and roots) freed.
    pub pt_free: u64,
    /// Kernel stacks allocated.
    pub kstack_alloc: u64,
    /// Kernel stacks freed.
    pub kstack_free: u64,
    /// Other pages (trapframes, argument copies) allocated.
    pub other_alloc: u64,
    /// Other pages freed.
    pub other_free: u64,
    /// TLB lookups and flushes.
    #[serde(default)]
    pub tlb: TlbCounts,
}

/// What the TLBs did during an operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlbCounts {
    /// Lookups that found the page.
    pub hits: u64,
    /// Lookups that walked the table.
    pub misses: u64,
    /// Translations cached.
    pub fills: u64,
    /// Flushes.
    pub flushes: u64,
}

impl fmt::Display for TlbCounts {
    /// "TLB: 2 hits, 1 miss, 1 fill, 1 flush".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TLB: {}, {}, {}, {}",
            plural(self.hits, "hit", "hits"),
            plural(self.misses, "miss", "misses"),
            plural(self.fills, "fill", "fills"),
            plural(self.flushes, "flush", "flushes")
        )
    }
}

impl Counts {
    /// The lines `pagelab run` (and the kernel, beside it) prints under a
    /// step: the pages allocated and freed, what the TLB did (when it did
    /// anything), and the free count.
    #[must_use]
    pub fn step_lines(&self, nfree: u64) -> String {
        let tlb = if self.tlb == TlbCounts::default() { String::new() } else { alloc::format!("  {}\n", self.tlb) };
        alloc::format!("  {self}\n{tlb}  free pages: {nfree}\n")
    }

    /// Count `n` pages of `class`, allocated or freed.
    pub(crate) fn bump(&mut self, class: PageClass, alloc: bool, n: u64) {
        let slot = match (class, alloc) {
            (PageClass::User, true) => &mut self.user_alloc,
            (PageClass::User, false) => &mut self.user_free,
            (PageClass::PageTable, true) => &mut self.pt_alloc,
            (PageClass::PageTable, false) => &mut self.pt_free,
            (PageClass::KernelStack, true) => &mut self.kstack_alloc,
            (PageClass::KernelStack, false) => &mut self.kstack_free,
            (PageClass::Other, true) => &mut self.other_alloc,
            (PageClass::Other, false) => &mut self.other_free,
        };
        *slot += n;
    }

    /// All pages allocated.
    #[must_use]
    pub fn allocated(&self) -> u64 {
        self.user_alloc + self.pt_alloc + self.kstack_alloc + self.other_alloc
    }

    /// All pages freed.
    #[must_use]
    pub fn freed(&self) -> u64 {
        self.user_free + self.pt_free + self.kstack_free + self.other_free
    }
}

impl fmt::Display for Counts {
    /// "allocated: 1 user page + 1 page-table page; freed: nothing".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn part(out: &mut Vec<String>, n: u64, one: &str, many: &str) {
            if n > 0 {
                out.push(alloc::format!("{n} {}", if n == 1 { one } else { many }));
            }
        }
        for (label, alloc) in [("allocated", true), ("freed", false)] {
            let mut v = Vec::new();
            let (u, p, k, o) = if alloc {
                (self.user_alloc, self.pt_alloc, self.kstack_alloc, self.other_alloc)
            } else {
                (self.user_free, self.pt_free, self.kstack_free, self.other_free)
            };
            part(&mut v, u, "user page", "user pages");
            part(&mut v, p, "page-table page", "page-table pages");
            part(&mut v, k, "kernel stack", "kernel stacks");
            part(&mut v, o, "other page", "other pages");
            if alloc {
                write!(f, "{label}: ")?;
            } else {
                write!(f, "; {label}: ")?;
            }
            if v.is_empty() {
                f.write_str("nothing")?;
            } else {
                f.write_str(&v.join(" + "))?;
            }
        }
        Ok(())
    }
}

/// Something that happened inside an operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Event {
    /// An xv6 function was called, with its arguments as xv6 names them.
    Call {
        /// The function.
        func: &'static str,
        /// Its arguments, e.g. `pgdir=0x8dffe000, oldsz=0x0, newsz=0x2000`.
        args: String,
    },
    /// `kalloc` handed out a frame.
    Kalloc {
        /// The frame.
        pa: PhysAddr,
        /// What it is for.
        owner: Owner,
    },
    /// `kalloc` found the free list empty and returned 0.
    KallocFailed,
    /// `kfree` put a frame back on the free list.
    Kfree {
        /// The frame.
        pa: PhysAddr,
        /// What it was used for.
        owner: Owner,
    },
    /// `freerange` put a run of frames on the free list (at boot).
    FreeRange {
        /// First frame freed.
        first: PhysAddr,
        /// Last frame freed (it ends up at the head of the list).
        last: PhysAddr,
        /// Frames freed.
        count: u64,
    },
    /// Page-table entries were written: `count` consecutive entries of one table.
    PteWrite {
        /// Level of the table (0 = last level).
        level: u32,
        /// The table's frame.
        table: PhysAddr,
        /// Index of the first entry written.
        index: u32,
        /// Virtual address the first entry translates.
        va: VirtAddr,
        /// Its old value.
        old: u64,
        /// Its new value.
        new: u64,
        /// Entries written in this run.
        count: u32,
        /// Difference between consecutive entries' virtual addresses.
        va_step: u64,
        /// Difference between consecutive new values.
        new_step: u64,
    },
    /// A whole page was copied (copyuvm's `memmove`).
    CopyPage {
        /// Source frame.
        from: PhysAddr,
        /// Destination frame.
        to: PhysAddr,
        /// User virtual address of the page.
        va: VirtAddr,
    },
    /// Bytes of a program file were read into a user page (loaduvm / loadseg).
    Load {
        /// User virtual address.
        va: VirtAddr,
        /// Physical address written.
        pa: PhysAddr,
        /// Offset in the file.
        file_off: u64,
        /// Bytes read.
        len: u64,
    },
    /// Bytes were copied to user memory (copyout), e.g. exec's argument strings.
    Copyout {
        /// User virtual address.
        va: VirtAddr,
        /// The bytes.
        #[serde(serialize_with = "crate::json_bytes::one")]
        bytes: Vec<u8>,
    },
    /// Bytes were copied from user memory (copyin).
    Copyin {
        /// User virtual address.
        va: VirtAddr,
        /// The bytes.
        #[serde(serialize_with = "crate::json_bytes::one")]
        bytes: Vec<u8>,
    },
    /// The MMU was pointed at a page table (x86 CR3 / RISC-V satp).
    LoadRoot {
        /// The root's frame.
        root: PhysAddr,
        /// The process whose table it is, or none for the kernel's own.
        pid: Option<u32>,
    },
    /// A CPU's TLB was flushed: every cached translation is gone.
    TlbFlush {
        /// The CPU.
        cpu: u32,
        /// How many translations it held.
        dropped: u32,
    },
    /// A TLB lookup found the page: the MMU uses the cached entry and reads
    /// no page-table entry.
    TlbHit {
        /// The CPU.
        cpu: u32,
        /// The address looked up.
        va: VirtAddr,
        /// The slot that held it.
        slot: u32,
        /// Where the cached entry sends the address.
        pa: PhysAddr,
    },
    /// A TLB lookup did not find the page (or found it with the dirty bit
    /// clear for a store): the MMU walks the table.
    TlbMiss {
        /// The CPU.
        cpu: u32,
        /// The address looked up.
        va: VirtAddr,
        /// True when the page was cached but a store needs its dirty bit set.
        dirty: bool,
    },
    /// The walk's translation was cached.
    TlbFill {
        /// The CPU.
        cpu: u32,
        /// The slot.
        slot: u32,
        /// The page's first virtual address.
        va: VirtAddr,
        /// Its frame.
        frame: PhysAddr,
        /// The page whose translation this one pushed out, if any.
        evicted: Option<VirtAddr>,
    },
    /// A cached translation was dropped because the access faulted on it.
    TlbDrop {
        /// The CPU.
        cpu: u32,
        /// The slot.
        slot: u32,
        /// The page.
        va: VirtAddr,
    },
    /// A page fault, as the trap handler sees it.
    PageFault {
        /// Faulting virtual address.
        va: VirtAddr,
        /// x86 error code or RISC-V scause.
        code: u64,
        /// Plain-words reason.
        reason: String,
    },
    /// An explanation in plain words.
    Note {
        /// The text.
        text: String,
    },
    /// A failure: a message xv6 itself prints (`allocuvm out of memory`), or
    /// a call failing, in pagelab's words (`fork: copyuvm failed; …`).
    Fail {
        /// The text.
        text: String,
        /// True if the text is what xv6 prints on the console.
        #[serde(default, skip_serializing_if = "core::ops::Not::not")]
        printed: bool,
    },
    /// The note's shared-memory code does something wrong here.
    Defect {
        /// What goes wrong, in plain words.
        text: String,
    },
    /// The `period` events before this one happened `times` more times, each
    /// time with every address and number moved by as much as from their
    /// first time to their second (a loop over pages, folded; [`expand`]
    /// gives every event back).
    Repeat {
        /// Events in the group that repeats.
        period: u16,
        /// Times it happened after the two kept.
        times: u32,
    },
}

/// An event with where it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEvent {
    /// Call depth (0 = the operation itself).
    pub depth: u16,
    /// The xv6 function it happened in.
    pub func: &'static str,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// Collects the events of one operation.
#[derive(Clone, Debug)]
pub struct Trace {
    events: Vec<TraceEvent>,
    stack: Vec<&'static str>,
    cap: usize,
    elided: u64,
    counts: Counts,
    record: bool,
    /// The loop being folded: the index of its [`Event::Repeat`] and its period.
    folding: Option<(usize, usize)>,
    /// False: loops are kept as they happened (see [`Trace::unfolded`]).
    fold: bool,
    /// Events recorded, folded ones included (the cap counts these, so a
    /// long loop costs no more time than before it was folded).
    stood: usize,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}

impl Trace {
    /// Events recorded per operation (a folded loop counts every time it
    /// stands for) before the rest are only counted: enough for every event
    /// of any one operation of the presets, so that a step's summary and
    /// marks count every page (the largest, a sbrk of all of xv6-public's
    /// free memory, records about 230,000).
    pub const DEFAULT_CAP: usize = 250_000;

    /// [`Trace::DEFAULT_CAP`] for an operation of a scenario replayed from a
    /// link, a widget or the JS API ([`crate::lab::Lab::apply_within`]): a
    /// link of heavy steps is replayed, or refused, within a second.
    pub const REPLAY_CAP: usize = 20_000;

    /// A trace that records events.
    #[must_use]
    pub fn new() -> Trace {
        Trace {
            events: Vec::new(),
            stack: Vec::new(),
            cap: Self::DEFAULT_CAP,
            elided: 0,
            counts: Counts::default(),
            record: true,
            folding: None,
            fold: true,
            stood: 0,
        }
    }

    /// A trace that only counts pages (for benchmarks and fast replays).
    #[must_use]
    pub fn counting_only() -> Trace {
        Trace { record: false, ..Trace::new() }
    }

    /// A trace that keeps every time of a loop (no [`Event::Repeat`]): what
    /// [`expand`] gives back from a folded one.
    #[must_use]
    pub fn unfolded(mut self) -> Trace {
        self.fold = false;
        self
    }

    /// Keep at most `cap` events.
    #[must_use]
    pub fn with_cap(mut self, cap: usize) -> Trace {
        self.cap = cap;
        self
    }

    /// The events so far.
    #[must_use]
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// Events dropped because the trace was full.
    #[must_use]
    pub fn elided(&self) -> u64 {
        self.elided
    }

    /// Pages allocated and freed so far.
    #[must_use]
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Take the events and counts, leaving the trace empty.
    pub fn take(&mut self) -> (Vec<TraceEvent>, Counts, u64) {
        self.folding = None;
        self.stood = 0;
        let out = (core::mem::take(&mut self.events), self.counts, self.elided);
        self.counts = Counts::default();
        self.elided = 0;
        out
    }

    /// The function events are attributed to now.
    #[must_use]
    pub fn func(&self) -> &'static str {
        self.stack.last().copied().unwrap_or("")
    }

    /// Record `event` in the current function.
    pub fn push(&mut self, event: Event) {
        if !self.record {
            return;
        }
        if self.stood >= self.cap {
            self.elided += 1;
            return;
        }
        let depth = self.stack.len().saturating_sub(1) as u16;
        let func = self.func();
        self.add(TraceEvent { depth, func, event });
    }

    /// Keep `e`, folding it into the loop it continues (see [`Event::Repeat`]).
    fn add(&mut self, e: TraceEvent) {
        self.events.push(e);
        self.stood += 1;
        if !self.fold {
            return;
        }
        let len = self.events.len();
        if let Some((marker, p)) = self.folding {
            let j = len - marker - 2;
            let times = match self.events[marker].event {
                Event::Repeat { times, .. } => times,
                _ => unreachable!("the fold's marker is a Repeat"),
            };
            let (head, last) = self.events.split_at_mut(len - 1);
            if j < p && fits(&head[marker - 2 * p + j], &head[marker - p + j], u64::from(times) + 1, &mut last[0]) {
                if j + 1 == p {
                    // A whole time more: it is the marker's now.
                    self.events.truncate(marker + 1);
                    if let Event::Repeat { times, .. } = &mut self.events[marker].event {
                        *times += 1;
                    }
                }
                return;
            }
            self.folding = None;
        }
        // Three times of a group in a row, the third as the first two predict: fold the third.
        for p in 1..=MAX_PERIOD {
            if len < 3 * p {
                break;
            }
            let (ab, c) = self.events[len - 3 * p..].split_at_mut(2 * p);
            let starts = (0..p).all(|j| {
                !matches!(ab[j].event, Event::Repeat { .. })
                    && core::mem::discriminant(&ab[j].event) == core::mem::discriminant(&c[j].event)
                    && fits(&ab[j], &ab[p + j], 1, &mut c[j])
            });
            if starts {
                // The marker is a line of the function the loop runs in: a
                // group that starts with a call (at depth d) runs in the
                // function the stack holds at d - 1, not inside that call.
                let b0 = &self.events[len - 2 * p];
                let (depth, func) = match b0.event {
                    Event::Call { .. } if b0.depth > 0 => {
                        (b0.depth - 1, self.stack.get(usize::from(b0.depth) - 1).copied().unwrap_or(b0.func))
                    }
                    _ => (b0.depth, b0.func),
                };
                self.events.truncate(len - p);
                self.events.push(TraceEvent { depth, func, event: Event::Repeat { period: p as u16, times: 1 } });
                self.folding = Some((len - p, p));
                return;
            }
        }
    }

    /// True if the last event belongs to a time of a loop not folded yet
    /// (changing it must stop the fold).
    fn pending(&self) -> bool {
        self.folding.is_some_and(|(marker, _)| self.events.len() > marker + 1)
    }

    /// Run `f` as xv6 function `func`, recording the call with its arguments.
    pub fn call<R>(&mut self, func: &'static str, args: impl FnOnce() -> String, f: impl FnOnce(&mut Trace) -> R) -> R {
        if self.record && self.stood < self.cap {
            let depth = self.stack.len() as u16;
            self.add(TraceEvent { depth, func, event: Event::Call { func, args: args() } });
        }
        self.stack.push(func);
        let r = f(self);
        self.stack.pop();
        r
    }

    /// Run `f` as xv6 function `func` without recording the call itself
    /// (for functions called thousands of times, like `walkpgdir`).
    pub fn quiet<R>(&mut self, func: &'static str, f: impl FnOnce(&mut Trace) -> R) -> R {
        self.stack.push(func);
        let r = f(self);
        self.stack.pop();
        r
    }

    /// Record a frame handed out by kalloc.
    pub fn kalloc(&mut self, pa: u64, owner: Owner) {
        self.counts.bump(owner.class(), true, 1);
        self.push(Event::Kalloc { pa: PhysAddr::new(pa), owner });
    }

    /// Record a TLB event and count it.
    pub fn tlb(&mut self, event: Event) {
        match event {
            Event::TlbHit { .. } => self.counts.tlb.hits += 1,
            Event::TlbMiss { .. } => self.counts.tlb.misses += 1,
            Event::TlbFill { .. } => self.counts.tlb.fills += 1,
            Event::TlbFlush { .. } => self.counts.tlb.flushes += 1,
            _ => {}
        }
        self.push(event);
    }

    /// Record a frame returned by kfree.
    pub fn kfree(&mut self, pa: u64, owner: Owner) {
        self.counts.bump(owner.class(), false, 1);
        self.push(Event::Kfree { pa: PhysAddr::new(pa), owner });
    }

    /// Record an entry write, folding it into the previous event when it continues a run.
    pub fn pte_write(&mut self, level: u32, table: u64, index: u32, va: u64, old: u64, new: u64) {
        if !self.record {
            return;
        }
        let depth = self.stack.len().saturating_sub(1) as u16;
        let func = self.func();
        // A merge changes the last event: a time of a loop not folded yet is then no longer that time.
        let pending = self.pending();
        if let Some(TraceEvent {
            depth: d,
            func: fname,
            event: Event::PteWrite { level: l, table: t, index: i, va: v, old: o, new: n, count, va_step, new_step },
        }) = self.events.last_mut()
            && *d == depth
            && (core::ptr::eq(*fname, func) || *fname == func)
            && *l == level
            && t.as_u64() == table
            && *o == old
            && *i + *count == index
        {
            let c = u64::from(*count);
            let (dv, dn) = (va.wrapping_sub(v.as_u64()), new.wrapping_sub(*n));
            if *count == 1 && dv != 0 {
                *va_step = dv;
                *new_step = dn;
                *count = 2;
                if pending {
                    self.folding = None;
                }
                return;
            }
            if *count > 1 && dv == c.wrapping_mul(*va_step) && dn == c.wrapping_mul(*new_step) {
                *count += 1;
                if pending {
                    self.folding = None;
                }
                return;
            }
        }
        self.push(Event::PteWrite {
            level,
            table: PhysAddr::new(table),
            index,
            va: VirtAddr::new(va),
            old,
            new,
            count: 1,
            va_step: 0,
            new_step: 0,
        });
    }

    /// Record the entry writes of a run in one table, as one [`Trace::pte_write`]
    /// per entry would: entry `i` is at `index + i`, translates
    /// `va + i·va_step` and changes from `olds[i]` to `new + i·new_step`.
    /// Once the trace's last event is a run these entries continue, the rest
    /// with the same old value are added to its count at once.
    #[allow(clippy::too_many_arguments)]
    pub fn pte_write_run(
        &mut self,
        level: u32,
        table: u64,
        index: u32,
        va: u64,
        va_step: u64,
        olds: &[u64],
        new: u64,
        new_step: u64,
    ) {
        if !self.record {
            return;
        }
        let depth = self.stack.len().saturating_sub(1) as u16;
        let func = self.func();
        let mut i = 0usize;
        while i < olds.len() {
            let pending = self.pending();
            let (ix, vi, ni) = (
                index + i as u32,
                va.wrapping_add(i as u64 * va_step),
                new.wrapping_add((i as u64).wrapping_mul(new_step)),
            );
            if let Some(TraceEvent {
                depth: d,
                func: fname,
                event:
                    Event::PteWrite {
                        level: l,
                        table: t,
                        index: first,
                        va: v,
                        old: o,
                        new: n,
                        count,
                        va_step: vs,
                        new_step: ns,
                    },
            }) = self.events.last_mut()
                && *d == depth
                && (core::ptr::eq(*fname, func) || *fname == func)
                && *l == level
                && t.as_u64() == table
                && *count > 1
                && *vs == va_step
                && *ns == new_step
                && *first + *count == ix
                && vi.wrapping_sub(v.as_u64()) == u64::from(*count).wrapping_mul(va_step)
                && ni.wrapping_sub(*n) == u64::from(*count).wrapping_mul(new_step)
            {
                let same = olds[i..].iter().take_while(|&&x| x == *o).count();
                if same > 0 {
                    *count += same as u32;
                    i += same;
                    if pending {
                        self.folding = None;
                    }
                    continue;
                }
            }
            self.pte_write(level, table, ix, vi, olds[i], ni);
            i += 1;
        }
    }

    /// Record a plain-words note.
    pub fn note(&mut self, text: impl FnOnce() -> String) {
        if self.record {
            self.push(Event::Note { text: text() });
        }
    }

    /// Record a call failing, in pagelab's words.
    pub fn fail(&mut self, text: impl Into<String>) {
        self.push(Event::Fail { text: text.into(), printed: false });
    }

    /// Record a failure message as xv6 prints it on the console.
    pub fn printed(&mut self, text: impl Into<String>) {
        self.push(Event::Fail { text: text.into(), printed: true });
    }

    /// Record a defect of the note's code.
    pub fn defect(&mut self, text: impl Into<String>) {
        self.push(Event::Defect { text: text.into() });
    }
}

/// Formats `name=0x..` argument lists for [`Trace::call`].
#[macro_export]
#[doc(hidden)]
macro_rules! args {
    ($($name:literal = $v:expr),* $(,)?) => {{
        let parts: alloc::vec::Vec<alloc::string::String> = alloc::vec![$(alloc::format!(concat!($name, "={:#x}"), $v)),*];
        parts.join(", ")
    }};
}

/// `n` followed by the right form of the noun: `1 page`, `2 pages`.
#[must_use]
pub fn plural(n: u64, one: &str, many: &str) -> String {
    alloc::format!("{n} {}", if n == 1 { one } else { many })
}

// ---- the trace as text ----

/// A string as a scenario word: bare when that reads back the same, else quoted.
///
/// Bare: non-empty and only printable ASCII other than space, `"`, `#`, `\`
/// and `<`. Quoted: printable ASCII kept, `"` and `\` escaped, `\n \t \r
/// \0` by name, and `<` and every other byte as `\xNN` (so that a scenario
/// printed inside an HTML element, as a widget's text, can never hold `</`).
#[must_use]
pub fn quote(bytes: &[u8]) -> String {
    let bare = !bytes.is_empty() && bytes.iter().all(|&b| (0x21..=0x7e).contains(&b) && !b"\"#\\<".contains(&b));
    if bare {
        // Only ASCII, so this cannot fail.
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0 => s.push_str("\\0"),
            0x20..=0x7e if b != b'<' => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    s
}

/// The bytes of a `write` line: a quoted string if every byte is printable
/// ASCII, `\n` or `\t` and at least one is printable (or there are none),
/// else `0x..` numbers (so a lone 10 prints as `0x0a`, not `"\n"`).
#[must_use]
pub fn bytes_literal(bytes: &[u8]) -> String {
    let printable = |b: &u8| (0x20..=0x7e).contains(b);
    if bytes.is_empty()
        || (bytes.iter().any(printable) && bytes.iter().all(|b| printable(b) || *b == b'\n' || *b == b'\t'))
    {
        let q = quote(bytes);
        if q.starts_with('"') { q } else { format!("\"{q}\"") }
    } else {
        let v: Vec<String> = bytes.iter().map(|b| format!("{b:#04x}")).collect();
        v.join(" ")
    }
}

/// Bytes for an event line: text in quotes when it reads as text, else hex.
fn bytes_text(bytes: &[u8]) -> String {
    const SHOW: usize = 64;
    let shown = &bytes[..bytes.len().min(SHOW)];
    let texty = shown.iter().all(|&b| (0x20..=0x7e).contains(&b) || b == 0 || b == b'\n' || b == b'\t');
    let mut s = if texty {
        quote(shown)
    } else {
        let v: Vec<String> = shown.iter().map(|b| format!("{b:02x}")).collect();
        format!("[{}]", v.join(" "))
    };
    if texty && !s.starts_with('"') {
        s = format!("\"{s}\"");
    }
    if bytes.len() > SHOW {
        let _ = write!(s, " ... ({} bytes)", bytes.len());
    }
    s
}

/// Name of the page table at `level`: `pgdir`/`pgtab` on x86, `L2`/`L1`/`L0` on RISC-V.
fn table_name(scheme: SchemeKind, level: u32) -> String {
    match (scheme, level) {
        (SchemeKind::X86, 1) => String::from("pgdir"),
        (SchemeKind::X86, 0) => String::from("pgtab"),
        (_, l) => format!("L{l}"),
    }
}

/// One trace event as a line of text (no indentation, no newline), e.g.
/// `kalloc 0xdfff000 (page directory (root) of pid 1)` or
/// `pte pgtab 0xdffe000[0] va 0x0: 0x0 -> 0xdffd007 (PTE_P|PTE_W|PTE_U)`.
/// Flags are named for `scheme`.
#[must_use]
pub fn event_text(ev: &TraceEvent, scheme: SchemeKind) -> String {
    match &ev.event {
        Event::Call { func, args } => format!("{func}({args})"),
        Event::Kalloc { pa, owner } => format!("kalloc {pa:#x} ({})", owner.text(scheme)),
        Event::KallocFailed => String::from("kalloc: the free list is empty, returns 0"),
        Event::Kfree { pa, owner } => format!("kfree {pa:#x} ({})", owner.text(scheme)),
        Event::FreeRange { first, last, count } => {
            format!("freerange {first:#x}..{last:#x}: {count} frames put on the free list")
        }
        Event::PteWrite { level, table, index, va, old, new, count, va_step, new_step } => {
            let name = table_name(scheme, *level);
            let flags = |e: u64| if e == 0 { String::from("cleared") } else { scheme.flag_names(e) };
            if *count <= 1 {
                format!("pte {name} {table:#x}[{index}] va {va:#x}: {old:#x} -> {new:#x} ({})", flags(*new))
            } else {
                let n = u64::from(*count - 1);
                let last_index = index.saturating_add(*count - 1);
                let last_va = va.as_u64().wrapping_add(n.wrapping_mul(*va_step));
                let new_text = if *new_step == 0 {
                    format!("{new:#x}")
                } else {
                    format!("{new:#x}..{:#x}", new.wrapping_add(n.wrapping_mul(*new_step)))
                };
                format!(
                    "pte {name} {table:#x}[{index}..{last_index}] ({count} entries) va {va:#x}..{last_va:#x}: {old:#x} -> {new_text} ({})",
                    flags(*new)
                )
            }
        }
        Event::CopyPage { from, to, va } => format!("copy page va {va:#x}: {from:#x} -> {to:#x}"),
        Event::Load { va, pa, file_off, len } => {
            format!("load {} from file offset {file_off:#x} to va {va:#x} (pa {pa:#x})", plural(*len, "byte", "bytes"))
        }
        Event::Copyout { va, bytes } => format!("copyout {va:#x}: {}", bytes_text(bytes)),
        Event::Copyin { va, bytes } => format!("copyin {va:#x}: {}", bytes_text(bytes)),
        Event::LoadRoot { root, pid } => {
            let reg = if scheme == SchemeKind::X86 { "cr3" } else { "satp" };
            match pid {
                Some(p) => format!("{reg} = {root:#x}: the page table of pid {p}"),
                None => format!("{reg} = {root:#x}: the kernel's page table"),
            }
        }
        Event::TlbFlush { cpu, dropped } => {
            let how = if scheme == SchemeKind::X86 { "loading cr3 empties it" } else { "sfence.vma" };
            format!(
                "cpu {cpu}: TLB flushed ({how}): {} dropped",
                plural(u64::from(*dropped), "translation", "translations")
            )
        }
        Event::TlbHit { cpu, va, slot, pa } => {
            format!("cpu {cpu}: TLB hit for {va:#x} in slot {slot}: pa {pa:#x}, no walk")
        }
        Event::TlbMiss { cpu, va, dirty: false } => format!("cpu {cpu}: TLB miss for {va:#x}: the MMU walks the table"),
        Event::TlbMiss { cpu, va, dirty: true } => {
            format!("cpu {cpu}: TLB hit for {va:#x}, but the entry's dirty bit is clear: the MMU walks again to set it")
        }
        Event::TlbFill { cpu, slot, va, frame, evicted } => match evicted {
            Some(old) => format!("cpu {cpu}: TLB slot {slot} = {va:#x} -> frame {frame:#x} (replacing {old:#x})"),
            None => format!("cpu {cpu}: TLB slot {slot} = {va:#x} -> frame {frame:#x}"),
        },
        Event::TlbDrop { cpu, slot, va } => format!("cpu {cpu}: TLB slot {slot} ({va:#x}) dropped: the access faulted"),
        Event::PageFault { va, code, reason } => {
            let what = if scheme == SchemeKind::X86 { "error code" } else { "scause" };
            format!("page fault at {va:#x} ({what} {code:#x}): {reason}")
        }
        Event::Note { text } => format!("note: {text}"),
        Event::Fail { text, printed: true } => format!("xv6 prints: {text}"),
        Event::Fail { text, printed: false } => format!("fails: {text}"),
        Event::Defect { text } => format!("DEFECT: {text}"),
        Event::Repeat { period, times } => format!(
            "... {} more times the {} above, each time with every address moved by as much as from the first time to the second",
            times,
            if *period == 1 { String::from("event") } else { format!("{period} events") }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn runs_of_entry_writes_fold_into_one_event() {
        let mut t = Trace::new();
        t.call("mappages", String::new, |t| {
            for i in 0..4u64 {
                t.pte_write(0, 0x1000, i as u32, 0x8000_0000 + i * 4096, 0, (i * 4096) | 3);
            }
            // A different old value breaks the run.
            t.pte_write(0, 0x1000, 4, 0x8000_4000, 7, 0x4003);
        });
        let ev = t.events();
        assert_eq!(ev.len(), 3);
        match &ev[1].event {
            Event::PteWrite { count, va_step, new_step, .. } => {
                assert_eq!((*count, *va_step, *new_step), (4, 4096, 4096));
            }
            e => panic!("unexpected {e:?}"),
        }
        assert_eq!(ev[1].func, "mappages");
        assert_eq!(ev[1].depth, 0);
    }

    #[test]
    fn only_what_xv6_prints_is_said_to_be_printed() {
        let mut t = Trace::new();
        t.call("allocuvm", String::new, |t| t.printed("allocuvm out of memory"));
        t.call("fork", String::new, |t| t.fail("fork: copyuvm failed; the child's kernel stack is freed"));
        let lines: Vec<String> = t.events().iter().map(|e| event_text(e, SchemeKind::X86)).collect();
        assert!(lines.contains(&String::from("xv6 prints: allocuvm out of memory")), "{lines:?}");
        assert!(
            lines.contains(&String::from("fails: fork: copyuvm failed; the child's kernel stack is freed")),
            "{lines:?}"
        );
        // JSON names a printed line so, and leaves the default out.
        let json: Vec<String> = t.events().iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        assert!(json.iter().any(|j| j.contains(r#""printed":true"#)), "{json:?}");
        assert_eq!(json.iter().filter(|j| j.contains("printed")).count(), 1, "{json:?}");
    }

    #[test]
    fn counts_split_user_and_table_pages() {
        let mut t = Trace::counting_only();
        t.kalloc(0x1000, Owner::User { pid: 1 });
        t.kalloc(0x2000, Owner::PageTable { pid: 1 });
        t.kfree(0x3000, Owner::PageDir { pid: 1 });
        assert!(t.events().is_empty());
        let c = t.counts();
        assert_eq!((c.user_alloc, c.pt_alloc, c.pt_free), (1, 1, 1));
        assert_eq!(alloc::format!("{c}"), "allocated: 1 user page + 1 page-table page; freed: 1 page-table page");
    }

    #[test]
    fn a_stack_made_at_boot_is_named_as_no_process_s() {
        // x86: startothers' stack for CPU 1; RISC-V: procinit's kernel stack for process slot 1.
        let o = Owner::BootStack { slot: 1 };
        assert_eq!(o.text(SchemeKind::X86), "boot stack of CPU 1 (startothers made it; no process's)");
        assert_eq!(o.text(SchemeKind::Sv39), "kernel stack of process slot 1 (made at boot)");
    }

    #[test]
    fn a_full_trace_counts_what_it_drops() {
        let mut t = Trace::new().with_cap(2);
        for _ in 0..5 {
            t.push(Event::TlbFlush { cpu: 0, dropped: 0 });
        }
        assert_eq!((t.events().len(), t.elided()), (2, 3));
    }
}
