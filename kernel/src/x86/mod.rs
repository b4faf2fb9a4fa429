//! The x86 machine: xv6-public's two-level paging under `qemu-system-i386`.
//!
//! Boot (entry.S): QEMU's Multiboot loader jumps to `entry` at 1 MB with
//! paging off; `entrypgdir` maps the first 4 MB both at 0 and at KERNBASE
//! with 4 MB pages, and [`x86_main`] runs in the high half. It sets up the
//! serial port, flat segments with a TSS, and the IDT, then boots the core:
//! `kinit1`, then `kvmalloc`, whose `switchkvm` writes CR3 — from then on the
//! MMU walks the page directory the core built — then `kinit2`.

pub mod hw;
pub mod mmu;
pub mod trap;
pub mod uart;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::arch::global_asm;

use pagelab_core::addr::PGROUNDUP;
use pagelab_core::lab::{LayoutOverride, Preset};
use pagelab_core::port::Kernel;
use pagelab_core::programs;
use pagelab_core::scheme::X86 as X86Scheme;
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::Trace;
use pagelab_core::walk::Translation;
use pagelab_core::x86::{DEVSPACE, KERNBASE, KERNLINK, KSTACKSIZE, X86Kernel};

use pagelab_core::cpu::x86::Cpu as CoreCpu;
use pagelab_core::lab::Fs;
use pagelab_core::run::{Machine as CoreMachine, Trap as RunTrap, UserCpu, hardware_fault};
use pagelab_core::scheme::{Access, AccessKind, Mode};
use pagelab_core::sys::Port;

use crate::lab::{self, HwFault, Machine, Sample, Trap, TrapKind};
use hw::{DirectMap, lcr3, p2v, rcr2, rcr3};
use mmu::{T_BRKPT, T_PGFLT, T_SYSCALL, TaskState, UCODE_SEL, UDATA_SEL};
use trap::{TrapFrame, enter_user};

pub use uart::exit_qemu;

global_asm!(include_str!("entry.S"), options(att_syntax));
global_asm!(include_str!("trapasm.S"), options(att_syntax));
global_asm!(include_str!("mem.S"), options(att_syntax));

// Safety: these match the linker script (link/x86.ld) and trapasm.S.
unsafe extern "C" {
    /// End of kernel text and read-only data (linker script).
    static data: u8;
    /// First byte after the kernel image (linker script).
    static end: u8;
    /// The boot page directory (entry.S): the first 4 MB at 0 and at KERNBASE.
    static entrypgdir: u8;
    /// The user probe stub (trapasm.S).
    static user_probe_stub: u8;
    static user_probe_store: u8;
    static user_probe_stub_end: u8;
}

/// The value the Multiboot loader leaves in eax.
const MULTIBOOT_MAGIC: u32 = 0x2bad_b002;

/// The machine: the core's xv6-public kernel over real RAM, and the TSS.
pub struct X86 {
    /// The core's kernel.
    k: X86Kernel<DirectMap>,
    /// The task state segment: esp0 is set before each entry to user mode.
    tss: &'static mut TaskState,
}

/// The trapframe at the top of the kernel stack `kstack`, where the CPU
/// starts pushing when it takes a trap from user mode (its kernel address).
fn tf_of(kstack: u64) -> *mut TrapFrame {
    (p2v(kstack) + KSTACKSIZE as usize - size_of::<TrapFrame>()) as *mut TrapFrame
}

/// Run the process whose kernel stack is `kstack` in user mode from the
/// trapframe at the top of that stack until its next trap, and return the
/// trapframe the trap left (xv6: `trapret` … `alltraps`).
///
/// # Safety
/// The trapframe holds user segments and the process's registers, and CR3
/// holds the process's page directory.
unsafe fn user_mode(tss: &mut TaskState, kstack: u64) -> TrapFrame {
    tss.set_esp0((p2v(kstack) + KSTACKSIZE as usize) as u32);
    let tf = tf_of(kstack);
    // Safety: tf is the trapframe at the top of the kernel stack, as the
    // caller vouches; the TSS sends the next trap to the same stack, where
    // alltraps writes the trapframe again and returns here.
    unsafe {
        enter_user(tf);
        tf.read()
    }
}

/// QEMU's CPU running user code for the core's runner: it enters user mode
/// from the process's trapframe (the same `struct trapframe` the core
/// keeps at the top of its kernel stack) and reports the trap.
pub struct RealCpu {
    /// The task state segment: esp0 is set before each entry to user mode.
    tss: &'static mut TaskState,
}

impl UserCpu<X86Kernel<DirectMap>> for RealCpu {
    fn run_user(&mut self, k: &mut X86Kernel<DirectMap>, pid: u32, cpu: &mut CoreCpu) -> RunTrap {
        CoreMachine::save_cpu(k, pid, cpu, 0, 0).expect("trapret: no trapframe");
        let p = k.st.ptable.get(pid).expect("trapret: no such pid");
        assert_eq!(u64::from(rcr3()), p.root.as_u64(), "trapret: CR3 is not the process's page directory");
        // Safety: save_cpu has just written pid's trapframe with user
        // segments, and CR3 holds pid's page directory (checked above).
        let tf = unsafe { user_mode(self.tss, p.kstack) };
        CoreMachine::load_cpu(k, pid, cpu).expect("alltraps: no trapframe");
        match tf.trapno {
            T_SYSCALL => RunTrap::Syscall,
            T_PGFLT => {
                let va = u64::from(rcr2());
                // 32-bit paging has no execute bit: a fetch faults as a read
                // (error code bit 1 clear); say "fetch" if cr2 is the instruction's.
                let kind = if tf.err & 2 != 0 {
                    AccessKind::Write
                } else if (u64::from(tf.eip)..u64::from(tf.eip) + 15).contains(&va) {
                    AccessKind::Execute
                } else {
                    AccessKind::Read
                };
                let access = Access { kind, mode: Mode::User };
                RunTrap::Fault(hardware_fault(k, pid, va, access, u64::from(tf.err)))
            }
            n => RunTrap::Kill {
                code: u64::from(n),
                err: u64::from(tf.err),
                tval: Some(u64::from(rcr2())),
                what: format!("trap {n} from user mode at eip {:#x}", tf.eip),
            },
        }
    }
}

/// Run `f` with a trace that only counts (for core calls outside the scenario's steps).
fn quiet<R>(f: impl FnOnce(&mut Trace) -> R) -> R {
    f(&mut Trace::counting_only())
}

impl X86 {
    /// Where `pid`'s trapframe lives: at the top of its kernel stack, where
    /// the CPU starts pushing when it takes a trap from user mode.
    fn tf(&self, pid: u32) -> *mut TrapFrame {
        tf_of(self.k.st.ptable.get(pid).expect("tf: pid").kstack)
    }

    /// A copy of `pid`'s trapframe.
    fn read_tf(&self, pid: u32) -> TrapFrame {
        // Safety: the kernel stack page belongs to pid (allocproc) and is mapped by the direct map.
        unsafe { self.tf(pid).read() }
    }

    /// Replace `pid`'s trapframe.
    fn write_tf(&mut self, pid: u32, tf: TrapFrame) {
        // Safety: as for read_tf; nobody holds a reference into that page.
        unsafe { self.tf(pid).write(tf) }
    }

    /// A trapframe for entering user mode at `eip` with stack `esp` (xv6: userinit's tf setup).
    fn fresh_tf(eip: u32, esp: u32) -> TrapFrame {
        let ds = u32::from(UDATA_SEL);
        TrapFrame {
            cs: u32::from(UCODE_SEL),
            ds,
            es: ds,
            fs: ds,
            gs: ds,
            ss: ds,
            // Interrupts stay off in user mode too: nothing here takes one.
            eflags: 0x2,
            eip,
            esp,
            ..TrapFrame::default()
        }
    }

    /// Run `pid`'s page directory on the MMU, as the scheduler's switchuvm does.
    fn switch_to(&mut self, pid: u32) {
        if self.k.st.cur() != Some(pid) {
            quiet(|tr| self.k.switchuvm(tr, pid));
        }
    }
}

impl Machine for X86 {
    fn kernel(&self) -> &dyn Kernel {
        &self.k
    }

    fn kernel_mut(&mut self) -> &mut dyn Kernel {
        &mut self.k
    }

    fn preset_line(&self) -> String {
        format!("preset {} data={:#x} end={:#x}", self.k.layout.name, self.k.layout.data, self.k.layout.end)
    }

    fn start_user(&mut self, pid: u32) {
        let r = self.k.st.ptable.get(pid).expect("start_user: pid").regs;
        self.write_tf(pid, X86::fresh_tf(r.pc as u32, r.sp as u32));
    }

    fn resume_user(&mut self, pid: u32) -> Trap {
        self.switch_to(pid);
        let kstack = self.k.st.ptable.get(pid).expect("resume_user: pid").kstack;
        // Safety: pid's trapframe holds user segments (start_user, or the
        // trap that came back), and CR3 holds pid's page directory (switch_to).
        let tf = unsafe { user_mode(self.tss, kstack) };
        let kind = match tf.trapno {
            T_SYSCALL => TrapKind::Syscall,
            T_PGFLT => TrapKind::PageFault { va: u64::from(rcr2()), code: u64::from(tf.err) },
            T_BRKPT => TrapKind::Breakpoint,
            n => TrapKind::Other { cause: u64::from(n) },
        };
        Trap { kind, pc: u64::from(tf.eip) }
    }

    fn syscall_num(&mut self, pid: u32) -> u64 {
        u64::from(self.read_tf(pid).eax)
    }

    fn syscall_arg(&mut self, pid: u32, n: usize) -> Option<u64> {
        // xv6's argint: the word at esp + 4 + 4n (above the stub's return address).
        let sp = u64::from(self.read_tf(pid).esp);
        let w = lab::copyin(&self.k, pid, sp + 4 + 4 * n as u64, 4)?;
        Some(u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]])))
    }

    fn syscall_return(&mut self, pid: u32, value: i64) {
        let mut tf = self.read_tf(pid);
        tf.eax = value as u32;
        self.write_tf(pid, tf);
    }

    fn user_probe(&mut self, pid: u32, pc: u64, va: u64, value: u8) -> Result<u8, HwFault> {
        let sp = self.k.st.ptable.get(pid).expect("user_probe: pid").regs.sp as u32;
        let mut tf = X86::fresh_tf(pc as u32, sp);
        tf.ecx = va as u32;
        tf.eax = u32::from(value);
        self.write_tf(pid, tf);
        let trap = self.resume_user(pid);
        match trap.kind {
            TrapKind::Breakpoint => Ok(self.read_tf(pid).eax as u8),
            TrapKind::PageFault { va, code } => Err(HwFault { va, code }),
            other => panic!("user probe: unexpected trap {other:?} at {:#x}", trap.pc),
        }
    }

    fn kernel_probe(&mut self, pid: Option<u32>, va: u64, store: Option<u8>) -> Result<u8, HwFault> {
        let root = match pid {
            Some(pid) => self
                .k
                .st
                .ptable
                .get(pid)
                .expect("kernel_probe: pid")
                .root
                .to_u32()
                .expect("x86: a page directory below 4 GB"),
            None => self.k.kpgdir,
        };
        let old = rcr3();
        // Safety: both tables were made by the core's setupkvm: they map the kernel alike.
        unsafe { lcr3(root) };
        // Safety: lab.rs stores only where the core says the store faults, or
        // into a user page, trapframe or kernel stack, and puts the byte back.
        let r = unsafe { trap::kernel_probe(va as u32, store) };
        // Safety: as above; this puts back the table that was there.
        unsafe { lcr3(old) };
        r.map_err(|(va, code)| HwFault { va: u64::from(va), code: u64::from(code) })
    }

    fn kernel_read_user(&mut self, pid: u32, va: u64) -> Result<u8, HwFault> {
        // xv6-public's kernel reads user memory directly, with the process's page directory loaded.
        self.kernel_probe(Some(pid), va, None)
    }

    fn write_phys(&mut self, pa: u64, bytes: &[u8]) {
        use pagelab_core::mem::PhysMem as _;
        self.k.st.hw.write(pa, bytes).expect("write_phys: outside RAM");
    }

    fn probe_stub(&self) -> (&'static [u8], u64) {
        let (start, store, stop) = (
            &raw const user_probe_stub as usize,
            &raw const user_probe_store as usize,
            &raw const user_probe_stub_end as usize,
        );
        // Safety: the stub's bytes lie between two labels of trapasm.S's .rodata.
        let bytes = unsafe { core::slice::from_raw_parts(start as *const u8, stop - start) };
        (bytes, (store - start) as u64)
    }

    fn user_samples(&self) -> Vec<Sample> {
        vec![
            Sample::new(u64::from(KERNBASE), "KERNBASE (I/O space)"),
            // Read-only for the kernel too: entry.S sets CR0.WP, as xv6-public does.
            Sample::new(u64::from(KERNLINK), "kernel text").store(),
            Sample::new(u64::from(self.k.layout.data), "kernel data"),
            // Device memory: a user load faults; the kernel does not load it.
            Sample { kernel: false, ..Sample::new(u64::from(DEVSPACE), "DEVSPACE") },
        ]
    }

    fn kernel_samples(&self) -> Vec<Sample> {
        let l = &self.k.layout;
        let kstack = self.k.st.ptable.live().next().map_or(0, |p| p.kstack);
        vec![
            Sample::new(u64::from(KERNBASE) + 0x400, "BIOS data area"),
            Sample::new(u64::from(KERNLINK), "kernel text").store(),
            Sample::new(u64::from(l.data), "kernel data"),
            Sample::new(PGROUNDUP(u64::from(l.end)), "first page after end"),
            Sample::new(p2v(kstack) as u64 + 0x10, "pid 1's kernel stack").store(),
            Sample::new(u64::from(KERNBASE + l.phystop) - 1, "last byte below PHYSTOP"),
            Sample::new(u64::from(KERNBASE + l.phystop), "PHYSTOP: unmapped").store(),
            Sample::new(0, "user address 0").store(),
        ]
    }

    fn fault_text(&self, code: u64) -> String {
        let who = if code & 4 != 0 { "user" } else { "kernel" };
        let what = if code & 2 != 0 { "write" } else { "read" };
        let why = if code & 1 != 0 { "protection" } else { "not present" };
        format!("err {code} ({who} {what}, {why})")
    }

    fn set_accessed(&mut self, t: &Translation) {
        quiet(|tr| pagelab_core::walk::set_accessed::<X86Scheme>(&mut self.k.st.hw, tr, t)).expect("entries in RAM");
    }

    fn flush_tlb(&mut self) {
        use pagelab_core::mem::Cpu as _;
        self.k.st.hw.flush_tlb();
    }

    fn clear_user_bit(&mut self, pid: u32, va: u64) {
        let root = self
            .k
            .st
            .ptable
            .get(pid)
            .expect("clear_user_bit: pid")
            .root
            .to_u32()
            .expect("x86: a page directory below 4 GB");
        quiet(|tr| self.k.clearpteu(tr, root, va as u32)).expect("clearpteu");
        use pagelab_core::mem::Cpu as _;
        self.k.st.hw.flush_tlb();
    }
}

/// The kernel's main function, called by entry.S on the boot stack with paging on.
#[unsafe(no_mangle)]
extern "C" fn x86_main(magic: u32, mbinfo: u32) -> ! {
    uart::init();
    kprintln!();
    kprintln!("pagelab-kernel: x86 (xv6-public paging), booted by Multiboot");
    if magic != MULTIBOOT_MAGIC {
        kprintln!("pagelab-kernel: not booted by a Multiboot loader (eax = {magic:#x})");
        exit_qemu(false);
    }
    // Safety: the Multiboot information lies in low memory, mapped at KERNBASE by entrypgdir.
    let (flags, mem_upper) = unsafe {
        let p = p2v(u64::from(mbinfo)) as *const u32;
        (p.read(), p.add(2).read())
    };
    let ram = if flags & 1 != 0 { (u64::from(mem_upper) + 1024) * 1024 } else { 0 };
    mmu::picinit();
    let tss = mmu::seginit();
    mmu::idtinit();

    // The layout of the preset the command-line runner replays, with this image's own symbols.
    let over = LayoutOverride {
        data: Some(&raw const data as u64),
        end: Some(&raw const end as u64),
        ..LayoutOverride::default()
    };
    if let Err(e) = over.check(Preset::Xv6Public) {
        kprintln!("pagelab-kernel: this image does not fit the preset: {e}");
        exit_qemu(false);
    }
    let layout = Preset::Xv6Public.x86_layout(&over);
    kprintln!("ram: {} MB; PHYSTOP {:#x}; kernel image {:#x}-{:#x}", ram >> 20, layout.phystop, KERNLINK, layout.end);
    if ram < u64::from(layout.phystop) {
        kprintln!("pagelab-kernel: needs RAM up to PHYSTOP ({} MB): run QEMU with -m 256M", layout.phystop >> 20);
        exit_qemu(false);
    }

    let mut tr = Trace::counting_only();
    let boot = |tr: &mut Trace| match X86Kernel::boot(
        layout.clone(),
        DirectMap::new(u64::from(pagelab_core::x86::PHYSTOP)),
        programs::X86_INITCODE.to_vec(),
        ShmMode::Lab,
        tr,
    ) {
        Ok(k) => k,
        Err(p) => panic!("boot: {p}"),
    };
    let k = boot(&mut tr);
    kprintln!(
        "paging: CR3 = {:#x}, the page directory the core's kvmalloc built (entrypgdir retired); {} pages free",
        rcr3(),
        k.st.kmem.nfree()
    );
    assert_eq!(rcr3(), k.kpgdir, "kvmalloc should have loaded kpgdir");
    let mut m = X86 { k, tss };
    let pass = lab::run(&mut m, tr.counts());
    // The differential test: a fresh core over the same RAM, the real programs on QEMU's CPU.
    let X86 { k, tss } = m;
    drop(k);
    // The new free list covers the frames of the old page tables: back to
    // entrypgdir (in the image) first, as at boot.
    // Safety: entrypgdir maps the first 4 MB at KERNBASE, which hold the
    // kernel image with its stack and heap; the core touches nothing above
    // them until its kvmalloc loads the new page directory.
    unsafe { lcr3((&raw const entrypgdir as usize - KERNBASE as usize) as u32) };
    let k = boot(&mut Trace::counting_only());
    let ran = crate::programs::run(k, Fs::builtin(Port::Xv6Public), &mut RealCpu { tss });
    exit_qemu(pass && ran)
}
