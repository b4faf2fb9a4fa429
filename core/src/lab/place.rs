//! What lives at a virtual address, in one process's page table or the
//! kernel's: a region of the process (text, the guard page, the heap),
//! nothing (above `sz`), the kernel's map of RAM, device space, a kernel
//! stack. The lab says it beside a translation, and beside a fault, with
//! what xv6 does next.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

use super::view::{Region, RegionKind, regions};
use crate::addr::PGSIZE;
use crate::port::{Kernel, Port};
use crate::scheme::{Mode, Scheme};
use crate::trace::Owner;

/// What is at an address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Place {
    /// A region of the process's own memory (text, data, guard page, stack,
    /// heap, a shared page; on RISC-V also the trapframe and trampoline).
    Region {
        /// The region.
        region: Region,
    },
    /// In the process's part of the address space, at or above its size: nothing is mapped.
    AboveSz {
        /// The process's size.
        sz: u64,
        /// Where the kernel's part starts (x86: KERNBASE; RISC-V: the trapframe).
        limit: u64,
    },
    /// The kernel's map of RAM. x86: `KERNBASE ≤ va < KERNBASE + PHYSTOP`,
    /// `V2P(va) = va − KERNBASE`; RISC-V: `KERNBASE ≤ va < PHYSTOP`, the
    /// direct map, where `pa = va`.
    KernelRam {
        /// The physical address.
        pa: u64,
        /// True in the kernel's text and read-only data (x86: KERNLINK up to
        /// `data`, mapped without PTE_W; RISC-V: below `etext`, mapped R-X).
        text: bool,
        /// Whose the frame is, if kalloc handed it out (a kernel stack, a
        /// page table, a user page seen through the kernel's map).
        owner: Option<Owner>,
    },
    /// x86: the first megabyte of physical memory, `KERNBASE ≤ va < KERNLINK`
    /// (I/O space such as the VGA buffer; `V2P(va) = va − KERNBASE`).
    KernelLow {
        /// The physical address.
        pa: u64,
    },
    /// Device registers, mapped one to one (`pa = va`).
    Device {
        /// Which device space.
        name: &'static str,
    },
    /// RISC-V, the kernel's page table: a process slot's kernel stack.
    KernelStack {
        /// The slot.
        slot: u64,
    },
    /// RISC-V, the kernel's page table: the unmapped page between the
    /// trampoline and kernel stack 0.
    GuardUnderTrampoline,
    /// RISC-V, the kernel's page table: the unmapped page below a kernel stack.
    KernelStackGuard {
        /// The slot whose stack is above it.
        slot: u64,
    },
    /// RISC-V, the kernel's page table: the trampoline page at the top.
    Trampoline,
    /// RISC-V, the kernel's page table: the CLINT's registers, which xv6 does not map.
    Clint,
    /// The user part of the kernel's own page table (it maps no user memory),
    /// or a kernel address where nothing is mapped.
    Unmapped,
    /// RISC-V: an address Sv39 could translate but xv6 never uses (at or above MAXVA).
    AboveMaxva,
    /// RISC-V: bits 63–39 are not all copies of bit 38, so Sv39 refuses the address outright.
    NotSignExtended,
    /// x86: wider than 32 bits, so not an address the 32-bit MMU can be given at all.
    Beyond32Bits,
}

/// What is at `va` in `pid`'s page table (`None`: the kernel's own).
#[must_use]
pub fn place(k: &dyn Kernel, pid: Option<u32>, va: u64) -> Place {
    place_of(k, pid, va, true)
}

/// [`place`], with the owner of a frame in the kernel's map of RAM looked
/// up only if `owners` (a walk over the whole kernel map needs the kind of
/// each page, not its owner).
fn place_of(k: &dyn Kernel, pid: Option<u32>, va: u64, owners: bool) -> Place {
    let owner = |pa: u64| if owners { k.kmem().owner(pa) } else { None };
    let info = k.info();
    let constant = |name: &str| info.constants.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v);
    match info.port {
        Port::Xv6Public => {
            let kernbase = constant("KERNBASE");
            if va > u64::from(u32::MAX) {
                return Place::Beyond32Bits;
            }
            if va < kernbase {
                return user_place(k, pid, va, kernbase);
            }
            if va < constant("KERNLINK") {
                Place::KernelLow { pa: va - kernbase }
            } else if va < kernbase + info.phystop {
                let pa = va - kernbase;
                Place::KernelRam { pa, text: va < constant("data"), owner: owner(pa & !(PGSIZE - 1)) }
            } else if va >= constant("DEVSPACE") {
                Place::Device { name: "device space (DEVSPACE and up: the I/O APIC and the local APIC)" }
            } else {
                Place::Unmapped
            }
        }
        Port::Xv6Riscv => {
            let maxva = constant("MAXVA");
            let top = (va as i64) >> 38;
            if top != 0 && top != -1 {
                return Place::NotSignExtended;
            }
            if va >= maxva {
                return Place::AboveMaxva;
            }
            if pid.is_some() {
                return user_place(k, pid, va, constant("TRAPFRAME"));
            }
            let (kernbase, etext, trampoline) = (constant("KERNBASE"), constant("etext"), constant("TRAMPOLINE"));
            let page = va & !(PGSIZE - 1);
            let uart = constant("UART0");
            let virtio = constant("VIRTIO0");
            let plic = constant("PLIC");
            if (kernbase..info.phystop).contains(&va) {
                Place::KernelRam { pa: va, text: va < etext, owner: owner(page) }
            } else if page == uart {
                Place::Device { name: "the UART (UART0)" }
            } else if page == virtio {
                Place::Device { name: "the virtio disk (VIRTIO0)" }
            } else if (plic..plic + crate::riscv::PLIC_SIZE).contains(&va) {
                Place::Device { name: "the interrupt controller (PLIC)" }
            } else if (crate::riscv::CLINT..crate::riscv::CLINT + crate::riscv::CLINT_SIZE).contains(&va) {
                Place::Clint
            } else if page == trampoline {
                Place::Trampoline
            } else if page < trampoline {
                // KSTACK(p) = TRAMPOLINE - (p+1)*2*PGSIZE: stack p is `2(p+1)` pages
                // below the trampoline, and the page under it is left unmapped.
                let below = (trampoline - page) / PGSIZE;
                let slots = u64::from(info.nproc);
                let q = below / 2;
                let even = below.is_multiple_of(2);
                if even && q >= 1 && q <= slots {
                    Place::KernelStack { slot: q - 1 }
                } else if !even && q >= 1 && q <= slots {
                    Place::KernelStackGuard { slot: q - 1 }
                } else if below == 1 {
                    Place::GuardUnderTrampoline
                } else {
                    Place::Unmapped
                }
            } else {
                Place::Unmapped
            }
        }
    }
}

/// What is at `va` below `limit`, the start of the kernel's part.
fn user_place(k: &dyn Kernel, pid: Option<u32>, va: u64, limit: u64) -> Place {
    let Some(p) = pid.and_then(|p| k.procs().get(p)) else { return Place::Unmapped };
    let regs = regions(k, p.pid);
    match regs.into_iter().find(|r| va >= r.start && va < r.end) {
        Some(region) if region.kind != RegionKind::Kernel => Place::Region { region },
        _ if va < limit => Place::AboveSz { sz: p.sz, limit },
        _ => Place::Unmapped,
    }
}

impl Place {
    /// One sentence for a learner: what this address is.
    #[must_use]
    pub fn words(&self, port: Port) -> String {
        match self {
            Place::Region { region } => region_words(region, port),
            Place::AboveSz { sz, limit } => format!(
                "above the process's size (sz = {sz:#x}): nothing is mapped from sz up to {limit:#x}; sbrk would grow the process into it"
            ),
            Place::KernelLow { pa } => format!(
                "a kernel page: the first megabyte of physical memory (KERNBASE up to KERNLINK: I/O space such as the VGA buffer), V2P(va) = va − KERNBASE = {pa:#x}"
            ),
            Place::KernelRam { pa, owner: Some(o), .. } => match port {
                Port::Xv6Public => format!(
                    "a kernel page in the kernel's map of physical memory: this frame is the {o} (kalloc handed it out), V2P(va) = va − KERNBASE = {pa:#x}"
                ),
                Port::Xv6Riscv => format!(
                    "the direct map of RAM (KERNBASE to PHYSTOP): this frame is the {o} (kalloc handed it out), pa = va = {pa:#x}"
                ),
            },
            Place::KernelRam { pa, text, owner: None } => match port {
                Port::Xv6Public if *text => format!(
                    "a kernel page: the kernel's code and read-only data (KERNLINK up to data, mapped without PTE_W, so even the kernel cannot write it), V2P(va) = va − KERNBASE = {pa:#x}"
                ),
                Port::Xv6Public => format!(
                    "a kernel page: the kernel's map of physical memory (data up to KERNBASE + PHYSTOP: its data and the free pages kalloc hands out), V2P(va) = va − KERNBASE = {pa:#x}"
                ),
                Port::Xv6Riscv if *text => {
                    format!("kernel text, in the direct map (KERNBASE to etext, mapped R-X): pa = va = {pa:#x}")
                }
                Port::Xv6Riscv => {
                    format!(
                        "the direct map of RAM (KERNBASE to PHYSTOP): the kernel maps RAM one to one, pa = va = {pa:#x}"
                    )
                }
            },
            Place::Device { name } => format!("{name}: mapped one to one, pa = va (no KERNBASE to subtract)"),
            Place::KernelStack { slot } => {
                format!("the kernel stack of process slot {slot} (KSTACK({slot})), made at boot")
            }
            Place::GuardUnderTrampoline => String::from(
                "the unmapped guard page between the trampoline and the kernel stack of slot 0 (KSTACK(0) + PGSIZE): proc_mapstacks leaves every other page below TRAMPOLINE unmapped, so each kernel stack has a guard page on each side",
            ),
            Place::KernelStackGuard { slot } => format!(
                "the unmapped guard page below the kernel stack of slot {slot}: a kernel stack that overflows faults here instead of corrupting its neighbour"
            ),
            Place::Trampoline => String::from(
                "the trampoline page (TRAMPOLINE), mapped at the top of every address space, R-X, no PTE_U",
            ),
            Place::Clint => String::from(
                "the CLINT's registers (CLINT, the timer), which xv6 leaves unmapped: only machine-mode code touches them, and there is no paging in machine mode (kvmmake mapped them until late 2020)",
            ),
            Place::Unmapped => String::from("nothing is mapped here"),
            Place::AboveMaxva => String::from(
                "at or above MAXVA (0x4000000000): Sv39 could translate it, but xv6 never maps it (walk() panics for va ≥ MAXVA)",
            ),
            Place::NotSignExtended => String::from(
                "not an Sv39 address: bits 63–39 must all be copies of bit 38, so the MMU refuses it before any walk",
            ),
            Place::Beyond32Bits => String::from(
                "not a 32-bit address: x86 addresses go from 0x0 to 0xffffffff, so the MMU can never be given it",
            ),
        }
    }
}

/// A region of a process, in words.
fn region_words(r: &Region, port: Port) -> String {
    let span = format!("{:#x}–{:#x}", r.start, r.end - 1);
    match r.kind {
        RegionKind::Text => {
            // "text" or, for a segment both executable and writable, "text and data".
            let what = r.label.split(" (").next().unwrap_or("text");
            match port {
                Port::Xv6Public => format!(
                    "the program's {what} ({span}), loaded by exec; xv6-public maps every user page with PTE_W, so a user store to its code succeeds"
                ),
                Port::Xv6Riscv => format!("the program's {what} ({span}), loaded by exec"),
            }
        }
        RegionKind::Data => format!("the program's data ({span}), loaded by exec"),
        RegionKind::Initcode => format!("initcode's one page ({span}), filled by userinit"),
        RegionKind::Guard => format!(
            "the stack guard page ({span}): exec maps it without PTE_U, so a stack that grows past its page faults here"
        ),
        RegionKind::Stack => format!("the user stack ({span}), where exec put argv"),
        RegionKind::Heap => format!("the heap ({span}), added by sbrk"),
        RegionKind::Shared => format!("{} ({span})", r.label),
        RegionKind::Hole => format!("a hole ({span}) left by closing a shared page"),
        RegionKind::Freed => format!(
            "freed memory ({span}): sbrk shrank the process to 0, deallocuvm freed every user page, and growproc took the new size 0 for failure, so it kept sz"
        ),
        RegionKind::SharedCopy => {
            format!("a {} ({span}): the note's fork copied the page instead of sharing the frame", r.label)
        }
        RegionKind::Trapframe => {
            format!("the trapframe page ({span}): the kernel saves user registers here; mapped without PTE_U")
        }
        RegionKind::Trampoline => {
            format!("the trampoline page ({span}): the code that switches page tables; mapped R-X without PTE_U")
        }
        RegionKind::Kernel => match port {
            Port::Xv6Public => format!("the kernel's half ({span}), mapped without PTE_U"),
            Port::Xv6Riscv => format!("the kernel ({span})"),
        },
    }
}

/// What is at `va` in `pid`'s address space, in words, for a fault's
/// message (a [`crate::port::About`]).
pub fn about(k: &dyn Kernel, pid: u32, va: u64) -> String {
    place(k, Some(pid), va).words(k.info().port)
}

/// What xv6 does after a fault in `pid` (`None`: a kernel access), in words.
#[must_use]
pub fn after_fault(k: &dyn Kernel, pid: Option<u32>, mode: Mode) -> String {
    let port = k.info().port;
    match (mode, pid) {
        (Mode::User, Some(p)) => {
            let name = k.procs().get(p).map(|p| p.name.clone()).unwrap_or_default();
            let init = k.procs().initproc == Some(p);
            let report = match port {
                Port::Xv6Public => format!("trap() prints \"pid {p} {name}: trap 14 err …--kill proc\" and kills it"),
                Port::Xv6Riscv => format!("usertrap() prints \"usertrap(): unexpected scause … pid={p}\" and kills it"),
            };
            if init {
                format!("xv6 would take a page fault: {report}; pid {p} is init, so its exit panics (\"init exiting\")")
            } else {
                format!("xv6 would take a page fault: {report} (it exits; its parent's wait frees its memory)")
            }
        }
        (Mode::User, None) => String::from(match port {
            Port::Xv6Public => {
                "none: no user code runs on the kernel's own page directory (kpgdir), which the CPU uses only while no process is running, as in the scheduler; a user access in it is a what-if"
            }
            Port::Xv6Riscv => {
                "none: no user code runs on the kernel's page table (satp holds it only while in the kernel), so a user access in it is a what-if"
            }
        }),
        _ => String::from(match port {
            Port::Xv6Public => {
                "a fault in kernel mode: xv6's trap() prints \"unexpected trap 14 from cpu …\" and panics (\"trap\")"
            }
            Port::Xv6Riscv => "a fault in kernel mode: xv6's kerneltrap() panics (\"kerneltrap\")",
        }),
    }
}

/// A run of the kernel's own page table: consecutive pages mapped to
/// consecutive frames with the same permissions (the accessed and dirty
/// bits aside), or the kernel stacks, which [`kernel_map`] folds into one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KernelRun {
    /// First virtual address.
    pub va: u64,
    /// One past the last (x86's device space ends at 2^32).
    pub end: u64,
    /// The frame the first page maps to.
    pub pa: u64,
    /// Pages mapped.
    pub pages: u64,
    /// The permission bits set, by name without `PTE_` (`R W`, `P W`).
    pub bits: String,
    /// What is there (of the run's first page).
    pub place: Place,
    /// How many runs this row stands for: one, or the kernel stacks (one per process slot).
    pub runs: u64,
}

impl KernelRun {
    /// What the run is: a short name, and in words what xv6 maps there and how.
    #[must_use]
    pub fn what(&self, port: Port) -> (String, String) {
        let s = String::from;
        match (&self.place, port) {
            (Place::KernelLow { .. }, _) => (
                s("I/O space"),
                s("the first megabyte of physical memory (KERNBASE up to KERNLINK), V2P(va) = va − KERNBASE"),
            ),
            (Place::KernelRam { text: true, .. }, Port::Xv6Public) => (
                s("kernel text"),
                s(
                    "the kernel's code and read-only data (KERNLINK up to data): no PTE_W, so not even the kernel can write it",
                ),
            ),
            (Place::KernelRam { .. }, Port::Xv6Public) => (
                s("kernel data and free RAM"),
                s(
                    "the kernel's data, then the frames kalloc hands out (data up to KERNBASE + PHYSTOP), V2P(va) = va − KERNBASE",
                ),
            ),
            (Place::KernelRam { text: true, .. }, Port::Xv6Riscv) => {
                (s("kernel text"), s("the kernel's code (KERNBASE up to etext), pa = va: it may be run, not written"))
            }
            (Place::KernelRam { .. }, Port::Xv6Riscv) => (
                s("kernel data and free RAM"),
                s("the kernel's data, then the frames kalloc hands out (etext up to PHYSTOP), pa = va"),
            ),
            (Place::Device { name }, Port::Xv6Riscv) if self.va == crate::riscv::PLIC => (
                s(name),
                format!(
                    "device registers, mapped one to one: pa = va. kvmmake maps {:#x} bytes here ({} MB, up to UART0), as xv6-riscv has since July 2024; before that it mapped 0x400000 (4 MB, 1024 pages)",
                    crate::riscv::PLIC_SIZE,
                    crate::riscv::PLIC_SIZE >> 20
                ),
            ),
            (Place::Device { name }, _) => (s(name), s("device registers, mapped one to one: pa = va")),
            (Place::KernelStack { .. }, _) if self.runs > 1 => (
                format!("{} kernel stacks", self.runs),
                format!(
                    "one page for each of the {} process slots, KSTACK(p) = TRAMPOLINE − 2·(p+1)·PGSIZE (slot 0 highest), each with an unmapped guard page below it; proc_mapstacks takes each frame from kalloc at boot",
                    self.runs
                ),
            ),
            (Place::KernelStack { slot }, _) => (format!("kernel stack {slot}"), self.place.words(port)),
            (Place::Trampoline, _) => (
                s("trampoline"),
                s(
                    "the code that switches page tables on a trap (TRAMPOLINE), at the same address in every process's table too",
                ),
            ),
            (place, _) => (s("other"), place.words(port)),
        }
    }
}

/// True if `a` and `b` name the same part of the kernel's address space
/// (so that one run may hold both): UART0 and VIRTIO0 are neighbours with
/// the same bits, but two devices.
fn same_kind(a: &Place, b: &Place) -> bool {
    match (a, b) {
        (Place::KernelRam { text: x, .. }, Place::KernelRam { text: y, .. }) => x == y,
        (Place::Device { name: x }, Place::Device { name: y }) => x == y,
        (Place::KernelStack { slot: x }, Place::KernelStack { slot: y }) => x == y,
        _ => core::mem::discriminant(a) == core::mem::discriminant(b),
    }
}

/// The kernel's own address space: its page table's mappings as runs,
/// lowest address first, each named after what xv6 maps there (x86:
/// `kmap`; RISC-V: `kvmmake`'s `kvmmap` calls and `proc_mapstacks`).
#[must_use]
pub fn kernel_map(k: &dyn Kernel) -> Vec<KernelRun> {
    let info = k.info();
    let scheme = info.scheme;
    let (ad, perm_mask) = crate::with_scheme!(scheme, S => (S::ACCESSED | S::DIRTY, S::pte_flags(u64::MAX)));
    let mut runs: Vec<KernelRun> = Vec::new();
    // The run being built: its permission bits, for comparing.
    let mut perm = 0u64;
    for e in super::view::table_entries(scheme, k.mem(), k.kernel_root(), u64::MAX).into_iter().filter(|e| e.leaf) {
        let size = crate::with_scheme!(scheme, S => S::level_size(e.level));
        let p = e.pte & perm_mask & !ad;
        let here = place_of(k, None, e.va, false);
        if let Some(r) = runs.last_mut()
            && p == perm
            && r.end == e.va
            && r.pa + (r.end - r.va) == e.pa
            && same_kind(&r.place, &here)
        {
            r.end += size;
            r.pages += size / PGSIZE;
            continue;
        }
        perm = p;
        let bits: alloc::vec::Vec<&str> =
            scheme.flag_bits(p).iter().filter(|b| b.set).map(|b| b.name.trim_start_matches("PTE_")).collect();
        runs.push(KernelRun {
            va: e.va,
            end: e.va + size,
            pa: e.pa,
            pages: size / PGSIZE,
            bits: bits.join(" "),
            place: here,
            runs: 1,
        });
    }
    // One row for the kernel stacks.
    let mut out: Vec<KernelRun> = Vec::new();
    for r in runs {
        if let Some(last) = out.last_mut()
            && matches!(last.place, Place::KernelStack { .. })
            && matches!(r.place, Place::KernelStack { .. })
            && last.bits == r.bits
        {
            last.end = r.end;
            last.pages += r.pages;
            last.runs += 1;
            continue;
        }
        out.push(r);
    }
    out
}
