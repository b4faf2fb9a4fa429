//! xv6-public: the 32-bit x86 port.
//!
//! [`vm`] holds the functions of `vm.c`, [`proc`] those of `proc.c` and
//! `exec.c`. Addresses the kernel keeps are physical here; xv6 keeps kernel
//! virtual addresses (`P2V(pa)`), which the trace shows where xv6 would print
//! them. [`run`] runs the real user programs on the x86 CPU.

pub mod proc;
pub mod run;
pub mod vm;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::Serialize;

use crate::Panic;
use crate::addr::PGSIZE;
use crate::kalloc::{Kmem, KmemConfig};
use crate::mem::Hal;
use crate::port::{MachineInfo, Port, PortState};
use crate::scheme::SchemeKind;
use crate::shm::ShmMode;
use crate::trace::{Event, Owner, Trace};

/// First kernel virtual address (xv6: `KERNBASE`).
pub const KERNBASE: u32 = 0x8000_0000;
/// Start of extended memory (xv6: `EXTMEM`).
pub const EXTMEM: u32 = 0x0010_0000;
/// Address where the kernel is linked (xv6: `KERNLINK`).
pub const KERNLINK: u32 = KERNBASE + EXTMEM;
/// Other devices are at high addresses (xv6: `DEVSPACE`).
pub const DEVSPACE: u32 = 0xFE00_0000;
/// xv6-public's top of physical memory (xv6: `PHYSTOP`, 224 MB).
pub const PHYSTOP: u32 = 0x0E00_0000;
/// Maximum number of processes (xv6: `NPROC`).
pub const NPROC: u32 = 64;
/// Maximum exec arguments (xv6: `MAXARG`).
pub const MAXARG: u32 = 32;
/// Size of a per-process kernel stack (xv6: `KSTACKSIZE`).
pub const KSTACKSIZE: u32 = 4096;

/// xv6-public's `struct trapframe` (`x86.h`): what `alltraps` pushes at the
/// top of the process's kernel stack, byte offsets of each 32-bit slot.
pub mod tf {
    /// `%edi` (the registers as `pushal` leaves them: edi first).
    pub const EDI: u32 = 0;
    /// `%esi`.
    pub const ESI: u32 = 4;
    /// `%ebp`.
    pub const EBP: u32 = 8;
    /// The `%esp` `pushal` saw (useless, ignored).
    pub const OESP: u32 = 12;
    /// `%ebx`.
    pub const EBX: u32 = 16;
    /// `%edx`.
    pub const EDX: u32 = 20;
    /// `%ecx`.
    pub const ECX: u32 = 24;
    /// `%eax`: the system call's number, then its result.
    pub const EAX: u32 = 28;
    /// `%gs` (16 bits and padding).
    pub const GS: u32 = 32;
    /// `%fs`.
    pub const FS: u32 = 36;
    /// `%es`.
    pub const ES: u32 = 40;
    /// `%ds`.
    pub const DS: u32 = 44;
    /// The trap number.
    pub const TRAPNO: u32 = 48;
    /// The error code (pushed by the CPU, or 0 by the vector).
    pub const ERR: u32 = 52;
    /// `%eip` at the trap.
    pub const EIP: u32 = 56;
    /// `%cs`.
    pub const CS: u32 = 60;
    /// `%eflags`.
    pub const EFLAGS: u32 = 64;
    /// The user's `%esp`.
    pub const ESP: u32 = 68;
    /// The user's `%ss`.
    pub const SS: u32 = 72;
    /// `sizeof(struct trapframe)`.
    pub const SIZE: u32 = 76;
    /// User code segment selector (`(SEG_UCODE << 3) | DPL_USER`).
    pub const UCODE: u32 = (3 << 3) | 3;
    /// User data segment selector (`(SEG_UDATA << 3) | DPL_USER`).
    pub const UDATA: u32 = (4 << 3) | 3;
    /// Interrupts enabled (`FL_IF`).
    pub const FL_IF: u32 = 0x200;

    /// Where allocproc puts the trapframe of the kernel stack at `kstack`
    /// (physical): `kstack + KSTACKSIZE - sizeof *p->tf`.
    #[must_use]
    pub const fn of(kstack: u64) -> u64 {
        kstack + super::KSTACKSIZE as u64 - SIZE as u64
    }
}

/// A memory layout for xv6-public.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct X86Layout {
    /// Preset name.
    pub name: String,
    /// Top of physical memory.
    pub phystop: u32,
    /// Kernel virtual address of the end of kernel text and read-only data (the symbol `data`).
    pub data: u32,
    /// Kernel virtual address of the first byte after the kernel image (the symbol `end`).
    pub end: u32,
    /// CPUs: `startothers` allocates a boot stack for each one but the first.
    pub ncpu: u32,
    /// Process slots.
    pub nproc: u32,
}

impl X86Layout {
    /// xv6-public as its Makefile runs it: 224 MB, 2 CPUs, the kernel of a
    /// typical gcc build (`data` = 0x80108000, `end` = 0x801154a8; your build's
    /// `kernel.sym` may differ by a few pages).
    #[must_use]
    pub fn xv6_public() -> X86Layout {
        X86Layout {
            name: "xv6-public".into(),
            phystop: PHYSTOP,
            data: 0x8010_8000,
            end: 0x8011_54a8,
            ncpu: 2,
            nproc: NPROC,
        }
    }

    /// The same layout with only 2 MB of RAM: a frame map that fits on a screen.
    #[must_use]
    pub fn tiny() -> X86Layout {
        X86Layout { name: "xv6-public-tiny".into(), phystop: 0x0020_0000, ..X86Layout::xv6_public() }
    }

    /// Physical address to kernel virtual address (xv6: `P2V`).
    #[must_use]
    pub fn p2v(pa: u32) -> u32 {
        pa.wrapping_add(KERNBASE)
    }

    /// Kernel virtual address to physical address (xv6: `V2P`).
    #[must_use]
    pub fn v2p(va: u32) -> u32 {
        va.wrapping_sub(KERNBASE)
    }
}

/// One entry of the kernel's mapping table (xv6: `struct kmap`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Kmap {
    /// What it maps, in words.
    pub what: &'static str,
    /// Virtual start.
    pub virt: u32,
    /// Physical start.
    pub phys_start: u32,
    /// Physical end (0 means the top of the 4 GB space).
    pub phys_end: u32,
    /// Permission bits.
    pub perm: u32,
}

/// xv6-public's kernel, over memory `H`.
#[derive(Clone, Debug)]
pub struct X86Kernel<H: Hal> {
    /// What every port keeps: memory, the allocator, the process and shared-memory tables.
    pub st: PortState<H>,
    /// The layout.
    pub layout: X86Layout,
    /// The kernel's own page directory (physical), made by kvmalloc.
    pub kpgdir: u32,
    /// The first program (xv6: `_binary_initcode_start`).
    pub initcode: Vec<u8>,
    info: MachineInfo,
}

impl<H: Hal> X86Kernel<H> {
    /// The kernel's mappings, present in every process (xv6: `kmap[]`).
    #[must_use]
    pub fn kmap(&self) -> [Kmap; 4] {
        let data = self.layout.data;
        [
            Kmap {
                what: "I/O space",
                virt: KERNBASE,
                phys_start: 0,
                phys_end: EXTMEM,
                perm: crate::scheme::x86::PTE_W,
            },
            Kmap {
                what: "kernel text and read-only data",
                virt: KERNLINK,
                phys_start: X86Layout::v2p(KERNLINK),
                phys_end: X86Layout::v2p(data),
                perm: 0,
            },
            Kmap {
                what: "kernel data and free memory",
                virt: data,
                phys_start: X86Layout::v2p(data),
                phys_end: self.layout.phystop,
                perm: crate::scheme::x86::PTE_W,
            },
            Kmap {
                what: "more devices",
                virt: DEVSPACE,
                phys_start: DEVSPACE,
                phys_end: 0,
                perm: crate::scheme::x86::PTE_W,
            },
        ]
    }

    /// Boot as xv6-public's `main` does, up to the first process:
    /// `kinit1(end, P2V(4MB))`, `kvmalloc()`, `startothers()` (a boot stack
    /// per extra CPU), `kinit2(P2V(4MB), P2V(PHYSTOP))`.
    ///
    /// # Errors
    /// A [`Panic`] if the layout is impossible (a bug in a preset).
    pub fn boot(layout: X86Layout, hw: H, initcode: Vec<u8>, shm_mode: ShmMode, tr: &mut Trace) -> Result<Self, Panic> {
        let end_pa = X86Layout::v2p(layout.end);
        let kmem = Kmem::new(KmemConfig {
            ptr_bytes: 4,
            kva_offset: u64::from(KERNBASE),
            end: u64::from(end_pa),
            phystop: u64::from(layout.phystop),
            free_junk: 1,
            alloc_junk: None,
        });
        let info = MachineInfo {
            preset: layout.name.clone(),
            port: Port::Xv6Public,
            scheme: SchemeKind::X86,
            ram_base: 0,
            phystop: u64::from(layout.phystop),
            kernel_start: u64::from(EXTMEM),
            kernel_end: u64::from(end_pa),
            user_limit: u64::from(KERNBASE),
            constants: vec![
                ("KERNBASE".into(), u64::from(KERNBASE)),
                ("KERNLINK".into(), u64::from(KERNLINK)),
                ("EXTMEM".into(), u64::from(EXTMEM)),
                ("PHYSTOP".into(), u64::from(layout.phystop)),
                ("DEVSPACE".into(), u64::from(DEVSPACE)),
                ("data".into(), u64::from(layout.data)),
                ("end".into(), u64::from(layout.end)),
                ("NPROC".into(), u64::from(layout.nproc)),
                ("MAXARG".into(), u64::from(MAXARG)),
                ("PGSIZE".into(), PGSIZE),
            ],
            nproc: layout.nproc,
            maxarg: MAXARG,
        };
        let mut k = X86Kernel {
            st: PortState::new(hw, kmem, layout.nproc, shm_mode, layout.ncpu),
            kpgdir: 0,
            initcode,
            info,
            layout,
        };
        let four_mb = 4 * 1024 * 1024;
        let top1 = four_mb.min(k.layout.phystop);
        tr.call(
            "kinit1",
            || format!("vstart={:#x}, vend={:#x}", k.layout.end, X86Layout::p2v(top1)),
            |tr| k.st.kmem.freerange(&mut k.st.hw, tr, u64::from(end_pa), u64::from(top1)),
        )?;
        tr.call("kvmalloc", String::new, |tr| k.kvmalloc(tr))?;
        tr.call("startothers", String::new, |tr| {
            for cpu in 1..k.layout.ncpu {
                if k.kalloc(tr, Owner::BootStack { slot: cpu }).is_none() {
                    return Err(Panic("startothers: out of memory".into()));
                }
            }
            Ok(())
        })?;
        if k.layout.phystop > four_mb {
            let ps = k.layout.phystop;
            tr.call(
                "kinit2",
                || format!("vstart={:#x}, vend={:#x}", X86Layout::p2v(four_mb), X86Layout::p2v(ps)),
                |tr| k.st.kmem.freerange(&mut k.st.hw, tr, u64::from(four_mb), u64::from(ps)),
            )?;
        }
        tr.push(Event::Note {
            text: format!("booted: {} pages free (the kernel's own page table used some)", k.st.kmem.nfree()),
        });
        Ok(k)
    }

    /// Facts about the machine.
    #[must_use]
    pub fn machine_info(&self) -> &MachineInfo {
        &self.info
    }
}
