//! xv6-riscv: the RV64 port with Sv39 paging.
//!
//! [`vm`] holds the functions of `vm.c`, [`proc`] those of `proc.c` and
//! `exec.c`, as in the xv6-riscv of 2024 (the README says what that means and
//! how the 2022 and 2025 versions differ). The kernel maps
//! RAM one-to-one, so kernel addresses are physical addresses. [`run`]
//! runs the real user programs on the RV64 hart, with the runner both ports
//! share ([`crate::run`]: [`crate::run::usermem`] is their memory through
//! the TLB, [`crate::run::syscall`] their system calls).

pub mod proc;
pub mod run;
pub mod vm;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::Serialize;

use crate::OrPanic as _;
use crate::Panic;
use crate::addr::PGSIZE;
use crate::kalloc::{Kmem, KmemConfig};
use crate::mem::Hal;
use crate::port::{MachineInfo, Port, PortState, Xv6Port as _};
use crate::scheme::SchemeKind;
use crate::scheme::sv39::MAXVA;
use crate::shm::ShmMode;
use crate::trace::{Event, Owner, Trace};

/// qemu puts UART registers here in physical memory.
pub const UART0: u64 = 0x1000_0000;
/// virtio mmio interface.
pub const VIRTIO0: u64 = 0x1000_1000;
/// qemu puts the core-local interruptor (CLINT, the timer) here. xv6 uses
/// it only from machine mode, where there is no paging, so kvmmake does not
/// map it (it did until late 2020).
pub const CLINT: u64 = 0x0200_0000;
/// The CLINT's size in memlayout.h.
pub const CLINT_SIZE: u64 = 0x1_0000;
/// qemu puts the platform-level interrupt controller (PLIC) here.
pub const PLIC: u64 = 0x0c00_0000;
/// How much of the PLIC kvmmake maps: 64 MB, up to UART0, since xv6-riscv's
/// July 2024 change (it was 4 MB before, which took 30 fewer level-0
/// tables).
pub const PLIC_SIZE: u64 = 0x400_0000;
/// Where the kernel's RAM starts (the kernel expects qemu's -kernel to load it here).
pub const KERNBASE: u64 = 0x8000_0000;
/// xv6-riscv's top of RAM: 128 MB after KERNBASE.
pub const PHYSTOP: u64 = KERNBASE + 128 * 1024 * 1024;
/// The trampoline page, at the highest address in both user and kernel space.
pub const TRAMPOLINE: u64 = MAXVA - PGSIZE;
/// The trapframe page, just below the trampoline in user space.
pub const TRAPFRAME: u64 = TRAMPOLINE - PGSIZE;
/// Maximum number of processes.
pub const NPROC: u32 = 64;
/// CPUs, as xv6-riscv's Makefile starts QEMU (`CPUS := 3`).
pub const NCPU: u32 = 3;
/// Maximum exec arguments.
pub const MAXARG: u32 = 32;

/// Kernel stack of process slot `p`, beneath the trampoline, each with an
/// invalid guard page below it (xv6: `KSTACK(p)`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn KSTACK(p: u64) -> u64 {
    TRAMPOLINE - (p + 1) * 2 * PGSIZE
}

/// A memory layout for xv6-riscv.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RiscvLayout {
    /// Preset name.
    pub name: String,
    /// Top of RAM.
    pub phystop: u64,
    /// End of kernel text (the symbol `etext`; page aligned).
    pub etext: u64,
    /// Physical address of the trampoline code page in the kernel image.
    pub trampoline: u64,
    /// First address after the kernel image (the symbol `end`).
    pub end: u64,
    /// Process slots.
    pub nproc: u32,
}

impl RiscvLayout {
    /// xv6-riscv as its Makefile runs it: 128 MB, the kernel of a typical gcc
    /// build (`etext` = 0x80008000, `trampoline` = 0x80007000,
    /// `end` = 0x80021d60; your build's `kernel.sym` may differ a little).
    #[must_use]
    pub fn xv6_riscv() -> RiscvLayout {
        RiscvLayout {
            name: "xv6-riscv".into(),
            phystop: PHYSTOP,
            etext: 0x8000_8000,
            trampoline: 0x8000_7000,
            end: 0x8002_1d60,
            nproc: NPROC,
        }
    }

    /// The same layout with only 2 MB of RAM: a frame map that fits on a screen.
    #[must_use]
    pub fn tiny() -> RiscvLayout {
        RiscvLayout { name: "xv6-riscv-tiny".into(), phystop: KERNBASE + 0x20_0000, ..RiscvLayout::xv6_riscv() }
    }
}

/// xv6-riscv's kernel, over memory `H`.
#[derive(Clone, Debug)]
pub struct RiscvKernel<H: Hal> {
    /// What every port keeps: memory, the allocator, the process and shared-memory tables.
    pub st: PortState<H>,
    /// The layout.
    pub layout: RiscvLayout,
    /// The kernel's page table (xv6: `kernel_pagetable`).
    pub kernel_pagetable: u64,
    /// The first program (xv6: `initcode[]`).
    pub initcode: Vec<u8>,
    info: MachineInfo,
    /// Per CPU, the process that trapped in through uservec and is still in
    /// the kernel on that trap (its system call runs without another trip).
    trapped: Vec<Option<u32>>,
}

impl<H: Hal> RiscvKernel<H> {
    /// Boot as xv6-riscv's `main` does on hart 0, up to the first process:
    /// `kinit()`, `kvminit()` (with a kernel stack per process slot),
    /// `kvminithart()`.
    ///
    /// # Errors
    /// A [`Panic`] if the layout is impossible (a bug in a preset).
    pub fn boot(
        layout: RiscvLayout,
        hw: H,
        initcode: Vec<u8>,
        shm_mode: ShmMode,
        tr: &mut Trace,
    ) -> Result<Self, Panic> {
        let kmem = Kmem::new(KmemConfig {
            ptr_bytes: 8,
            kva_offset: 0,
            end: layout.end,
            phystop: layout.phystop,
            free_junk: 1,
            alloc_junk: Some(5),
        });
        let info = MachineInfo {
            preset: layout.name.clone(),
            port: Port::Xv6Riscv,
            scheme: SchemeKind::Sv39,
            ram_base: KERNBASE,
            phystop: layout.phystop,
            kernel_start: KERNBASE,
            kernel_end: layout.end,
            user_limit: TRAPFRAME,
            constants: vec![
                ("UART0".into(), UART0),
                ("VIRTIO0".into(), VIRTIO0),
                ("PLIC".into(), PLIC),
                ("KERNBASE".into(), KERNBASE),
                ("PHYSTOP".into(), layout.phystop),
                ("etext".into(), layout.etext),
                ("end".into(), layout.end),
                ("MAXVA".into(), MAXVA),
                ("TRAMPOLINE".into(), TRAMPOLINE),
                ("TRAPFRAME".into(), TRAPFRAME),
                ("KSTACK(0)".into(), KSTACK(0)),
                ("NPROC".into(), u64::from(layout.nproc)),
                ("MAXARG".into(), u64::from(MAXARG)),
                ("PGSIZE".into(), PGSIZE),
            ],
            nproc: layout.nproc,
            maxarg: MAXARG,
        };
        let mut k = RiscvKernel {
            st: PortState::new(hw, kmem, layout.nproc, shm_mode, NCPU),
            kernel_pagetable: 0,
            initcode,
            info,
            layout,
            trapped: alloc::vec![None; NCPU as usize],
        };
        let (end, top) = (k.layout.end, k.layout.phystop);
        tr.call(
            "kinit",
            || format!("freerange({end:#x}, {top:#x})"),
            |tr| k.st.kmem.freerange(&mut k.st.hw, tr, end, top),
        )?;
        tr.call("kvminit", String::new, |tr| {
            let t = k.kvmmake(tr)?;
            k.kernel_pagetable = t;
            Ok::<(), Panic>(())
        })?;
        k.kvminithart(tr);
        // main on every other hart: kvminithart there too (trapinithart and
        // plicinithart allocate nothing).
        for c in 1..NCPU {
            tr.note(|| format!("hart {c} starts: kvminithart turns paging on there"));
            k.on_cpu(c, |k| k.kvminithart(tr));
        }
        for (i, p) in k.st.ptable.procs.iter_mut().enumerate() {
            p.kstack = KSTACK(i as u64);
        }
        // procinit, trapinit, plicinit, binit, iinit and fileinit allocate
        // nothing; the disk driver takes three pages for its rings.
        tr.call("virtio_disk_init", String::new, |tr| k.virtio_disk_init(tr))?;
        tr.push(Event::Note {
            text: format!(
                "booted: {} pages free (the kernel page table, 64 kernel stacks and the disk rings used some)",
                k.st.kmem.nfree()
            ),
        });
        Ok(k)
    }

    /// `virtio_disk_init`'s allocations: a page each for the descriptor
    /// ring, the available ring and the used ring, zeroed.
    ///
    /// # Errors
    /// A [`Panic`] ("virtio disk kalloc") if memory runs out.
    fn virtio_disk_init(&mut self, tr: &mut Trace) -> Result<(), Panic> {
        for ring in ["desc", "avail", "used"] {
            let Some(pa) = self.kalloc(tr, Owner::DiskRing) else {
                return Err(Panic("virtio disk kalloc".into()));
            };
            self.st.hw.fill(pa, PGSIZE, 0).or_panic("virtio_disk_init")?;
            tr.note(|| format!("disk.{ring} = {pa:#x}"));
        }
        Ok(())
    }

    /// Facts about the machine.
    #[must_use]
    pub fn machine_info(&self) -> &MachineInfo {
        &self.info
    }
}
