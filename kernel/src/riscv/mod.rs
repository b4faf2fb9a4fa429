//! The RISC-V machine: xv6-riscv's Sv39 paging under `qemu-system-riscv64 -machine virt`.
//!
//! Boot (entry.S): every hart starts at 0x80000000 in machine mode; hart 0
//! takes the boot stack and calls [`start`], which hands all traps to
//! supervisor mode and `mret`s into [`riscv_main`] with paging off. There
//! the core boots: `kinit`, `kvmmake`, then `kvminithart`, which writes satp
//! — from then on the MMU walks the page table the core built.
//!
//! User mode goes through the trampoline page (trampoline.S), as in
//! xv6-riscv: `userret` loads the process's satp and `sret`s; `uservec`
//! saves the registers in the trapframe and puts the kernel's satp back.

pub mod hw;
pub mod uart;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::arch::global_asm;

use pagelab_core::addr::{PGROUNDUP, PGSIZE};
use pagelab_core::lab::{LayoutOverride, Preset};
use pagelab_core::mem::{Cpu as _, PhysMem as _};
use pagelab_core::port::Kernel;
use pagelab_core::programs;
use pagelab_core::riscv::{KERNBASE, KSTACK, RiscvKernel, TRAMPOLINE, TRAPFRAME, UART0};
use pagelab_core::scheme::Sv39;
use pagelab_core::scheme::sv39::MAXVA;
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::Trace;
use pagelab_core::walk::Translation;

use pagelab_core::cpu::rv64::Hart;
use pagelab_core::lab::Fs;
use pagelab_core::run::{Machine as CoreMachine, Trap as RunTrap, UserCpu, hardware_fault};
use pagelab_core::scheme::{Access, AccessKind, Mode};
use pagelab_core::sys::Port;

use crate::lab::{self, HwFault, Machine, Remap, Sample, Trap, TrapKind};
use hw::{DirectMap, MAKE_SATP, csrr, csrw};

pub use uart::exit_qemu;

global_asm!(include_str!("entry.S"));
global_asm!(include_str!("trampoline.S"));

// Safety: these match the linker script (link/riscv.ld), entry.S and trampoline.S.
unsafe extern "C" {
    /// End of kernel text (linker script).
    static etext: u8;
    /// First byte after the kernel image (linker script).
    static end: u8;
    /// The trampoline page and the code in it (trampoline.S).
    static trampoline: u8;
    fn uservec();
    fn userret();
    fn userret_nofence();
    fn tprobe();
    /// entry.S.
    fn kernelvec();
    fn enter_user(satp: u64, userret: u64, trapframe: u64);
    fn user_trap_return();
    static user_probe_stub: u8;
    static user_probe_store: u8;
    static user_probe_stub_end: u8;
}

/// `struct trapframe` (xv6-riscv's proc.h): the kernel's page table.
const TF_KERNEL_SATP: u64 = 0;
// kernel_sp (8) is written by enter_user in entry.S.
/// The kernel code uservec jumps to.
const TF_KERNEL_TRAP: u64 = 16;
/// The saved user pc.
const TF_EPC: u64 = 24;
/// The kernel's hart id (tp).
const TF_KERNEL_HARTID: u64 = 32;
/// Register a0 (a1 and a7 follow the same layout).
const TF_A0: u64 = 112;
/// Register a1.
const TF_A1: u64 = 120;
/// Register a7: the system call number.
const TF_A7: u64 = 168;
/// `sizeof(struct trapframe)`.
const TF_SIZE: usize = 288;

/// sstatus: the previous mode was supervisor (clear: sret goes to user mode).
const SSTATUS_SPP: u64 = 1 << 8;
/// sstatus: interrupts on after sret (kept clear: no interrupts here).
const SSTATUS_SPIE: u64 = 1 << 5;

/// scause: breakpoint (ebreak).
const SCAUSE_BREAKPOINT: u64 = 3;
/// scause: ecall from user mode.
const SCAUSE_ECALL_U: u64 = 8;
/// scause: instruction page fault.
const SCAUSE_INSN_PAGE_FAULT: u64 = 12;
/// scause: load page fault.
const SCAUSE_LOAD_PAGE_FAULT: u64 = 13;
/// scause: store/AMO page fault.
const SCAUSE_STORE_PAGE_FAULT: u64 = 15;

/// The address, in the TRAMPOLINE page, of `sym` in the trampoline section
/// (xv6: `TRAMPOLINE + (uservec - trampoline)`).
fn tramp(sym: usize) -> u64 {
    TRAMPOLINE + (sym - &raw const trampoline as usize) as u64
}

/// The machine: the core's xv6-riscv kernel over real RAM.
pub struct Riscv {
    /// The core's kernel.
    k: RiscvKernel<DirectMap>,
    /// The what-if `noflush=trampoline` on the real MMU: uservec and userret
    /// write satp without `sfence.vma`.
    nofence: bool,
}

/// The trapframe word after xv6's fields that tells uservec to leave out
/// `sfence.vma` (trampoline.S: `TF_NOFENCE`).
const TF_NOFENCE: u64 = TF_SIZE as u64;
/// Its value for the what-if ("nofence"); kalloc's junk bytes never match it.
const NOFENCE: u64 = 0x0065_636e_6566_6f6e;

/// The physical address of `pid`'s trapframe page (also its kernel address).
fn trapframe_of(k: &RiscvKernel<DirectMap>, pid: u32) -> u64 {
    k.st.ptable.get(pid).expect("trapframe: pid").trapframe.as_u64()
}

/// Read `pid`'s trapframe word at `off`.
fn tf_read(k: &RiscvKernel<DirectMap>, pid: u32, off: u64) -> u64 {
    k.st.hw.read_word(trapframe_of(k, pid) + off, 8).expect("trapframe in RAM")
}

/// Write `pid`'s trapframe word at `off`.
fn tf_write(k: &mut RiscvKernel<DirectMap>, pid: u32, off: u64, v: u64) {
    let tf = trapframe_of(k, pid);
    k.st.hw.write_word(tf + off, 8, v).expect("trapframe in RAM");
}

/// Run `pid` in user mode from its trapframe until it traps (xv6:
/// `usertrapret`, `userret` … `uservec`); returns scause, stval and sepc.
/// The trapframe then holds the user registers; its saved pc is not yet
/// written (usertrap's first line). `nofence` is the what-if without the
/// trampoline's `sfence.vma`.
fn user_mode(k: &mut RiscvKernel<DirectMap>, pid: u32, nofence: bool) -> (u64, u64, u64) {
    let root = k.st.ptable.get(pid).expect("resume_user: pid").root.as_u64();
    let tf = trapframe_of(k, pid);
    // What uservec needs to come back (xv6: usertrapret).
    tf_write(k, pid, TF_KERNEL_SATP, csrr!("satp"));
    tf_write(k, pid, TF_KERNEL_TRAP, user_trap_return as *const () as u64);
    tf_write(k, pid, TF_KERNEL_HARTID, 0);
    let epc = tf_read(k, pid, TF_EPC);
    let sstatus = csrr!("sstatus") & !(SSTATUS_SPP | SSTATUS_SPIE);
    // Safety: stvec points at uservec in the trampoline page, mapped in
    // both tables; sret goes to user mode (SPP clear) with interrupts off,
    // at the process's saved pc.
    unsafe {
        csrw!("stvec", tramp(uservec as *const () as usize));
        csrw!("sstatus", sstatus);
        csrw!("sepc", epc);
    }
    // The what-if leaves out the trampoline's sfence.vma both ways: userret_nofence
    // on the way out, the trapframe's mark for uservec on the way in.
    let (ret, mark) =
        if nofence { (userret_nofence as *const () as usize, NOFENCE) } else { (userret as *const () as usize, 0) };
    let was = tf_read(k, pid, TF_NOFENCE);
    tf_write(k, pid, TF_NOFENCE, mark);
    // Safety: userret or userret_nofence (at its TRAMPOLINE address)
    // loads the process's table, whose trapframe page is `tf`, restores
    // the user registers from it and srets; uservec returns here through
    // user_trap_return on this stack, with the kernel's satp back.
    unsafe { enter_user(MAKE_SATP(root), tramp(ret), tf) };
    tf_write(k, pid, TF_NOFENCE, was);
    // Safety: kernelvec reports unexpected traps in the kernel.
    unsafe { csrw!("stvec", kernelvec as *const () as u64) };
    (csrr!("scause"), csrr!("stval"), csrr!("sepc"))
}

/// QEMU's hart running user code for the core's runner: it enters user mode
/// through the trampoline from the process's trapframe page (the core's, in
/// xv6-riscv's layout) and reports the trap.
pub struct RealHart;

impl UserCpu<RiscvKernel<DirectMap>> for RealHart {
    fn run_user(&mut self, k: &mut RiscvKernel<DirectMap>, pid: u32, cpu: &mut Hart) -> RunTrap {
        CoreMachine::save_cpu(k, pid, cpu, 0, 0).expect("usertrapret: no trapframe");
        let (scause, stval, sepc) = user_mode(k, pid, false);
        // usertrap: p->trapframe->epc = r_sepc() (the runner steps past an ecall).
        tf_write(k, pid, TF_EPC, sepc);
        CoreMachine::load_cpu(k, pid, cpu).expect("usertrap: no trapframe");
        let kind = match scause {
            SCAUSE_ECALL_U => return RunTrap::Syscall,
            SCAUSE_INSN_PAGE_FAULT => AccessKind::Execute,
            SCAUSE_LOAD_PAGE_FAULT => AccessKind::Read,
            SCAUSE_STORE_PAGE_FAULT => AccessKind::Write,
            other => {
                return RunTrap::Kill {
                    code: other,
                    err: 0,
                    tval: Some(stval),
                    what: format!("scause {other:#x} from user mode at pc {sepc:#x}"),
                };
            }
        };
        RunTrap::Fault(hardware_fault(k, pid, stval, Access { kind, mode: Mode::User }, scause))
    }
}

impl Riscv {
    /// The physical address of `pid`'s trapframe page (also its kernel address).
    fn trapframe(&self, pid: u32) -> u64 {
        trapframe_of(&self.k, pid)
    }

    /// Read the trapframe word at `off`.
    fn tf_get(&self, pid: u32, off: u64) -> u64 {
        tf_read(&self.k, pid, off)
    }

    /// Write the trapframe word at `off`.
    fn tf_set(&mut self, pid: u32, off: u64, v: u64) {
        tf_write(&mut self.k, pid, off, v);
    }

    /// A supervisor-mode load of the byte at `va` with `root`'s table in satp,
    /// or a store of `store` there, run from the trampoline page; `sum` lets
    /// it touch user pages.
    ///
    /// # Safety
    /// A store must not hit memory anything else relies on at this moment
    /// (see `x86::trap::kernel_probe`).
    unsafe fn tprobe(&self, root: u64, va: u64, sum: bool, store: Option<u8>) -> Result<u8, HwFault> {
        let mut out = [0u64; 3];
        let at = tramp(tprobe as *const () as usize) as usize;
        // Safety: `at` is tprobe's address in the TRAMPOLINE page, code with
        // this signature (trampoline.S).
        let f: unsafe extern "C" fn(u64, u64, u64, *mut [u64; 3], u64) = unsafe { core::mem::transmute(at) };
        let flags = u64::from(sum) | u64::from(store.is_some()) << 1;
        // Safety: every table the core makes maps the trampoline page at
        // TRAMPOLINE; called there, tprobe switches satp, loads one byte,
        // catches a fault through its own stvec, and puts the kernel's satp
        // and stvec back before it writes `out` and returns.
        // The caller vouches for a store.
        unsafe { f(MAKE_SATP(root), va, flags, &raw mut out, u64::from(store.unwrap_or(0))) };
        match (out[1], store) {
            (0, Some(b)) => Ok(b),
            (0, None) => Ok(out[0] as u8),
            (code, _) => Err(HwFault { va: out[2], code }),
        }
    }
}

impl Machine for Riscv {
    fn kernel(&self) -> &dyn Kernel {
        &self.k
    }

    fn kernel_mut(&mut self) -> &mut dyn Kernel {
        &mut self.k
    }

    fn preset_line(&self) -> String {
        let l = &self.k.layout;
        format!("preset {} etext={:#x} trampoline={:#x} end={:#x}", l.name, l.etext, l.trampoline, l.end)
    }

    fn start_user(&mut self, _pid: u32) {
        // The core keeps epc, sp, a0 and a1 in the trapframe page itself (userinit, exec).
    }

    fn resume_user(&mut self, pid: u32) -> Trap {
        let (scause, stval, sepc) = user_mode(&mut self.k, pid, self.nofence);
        // xv6's usertrap: save the user pc, and step past an ecall.
        self.tf_set(pid, TF_EPC, if scause == SCAUSE_ECALL_U { sepc + 4 } else { sepc });
        let kind = match scause {
            SCAUSE_ECALL_U => TrapKind::Syscall,
            SCAUSE_INSN_PAGE_FAULT | SCAUSE_LOAD_PAGE_FAULT | SCAUSE_STORE_PAGE_FAULT => {
                TrapKind::PageFault { va: stval, code: scause }
            }
            SCAUSE_BREAKPOINT => TrapKind::Breakpoint,
            cause => TrapKind::Other { cause },
        };
        Trap { kind, pc: sepc }
    }

    fn syscall_num(&mut self, pid: u32) -> u64 {
        self.tf_get(pid, TF_A7)
    }

    fn syscall_arg(&mut self, pid: u32, n: usize) -> Option<u64> {
        (n < 6).then(|| self.tf_get(pid, TF_A0 + 8 * n as u64))
    }

    fn syscall_return(&mut self, pid: u32, value: i64) {
        self.tf_set(pid, TF_A0, value as u64);
    }

    fn user_probe(&mut self, pid: u32, pc: u64, va: u64, value: u8) -> Result<u8, HwFault> {
        // Keep the trapframe as the core left it: the probe borrows it.
        let tf = self.trapframe(pid);
        let mut saved = [0u8; TF_SIZE];
        self.k.st.hw.read(tf, &mut saved).expect("trapframe in RAM");
        self.tf_set(pid, TF_EPC, pc);
        self.tf_set(pid, TF_A1, va);
        self.tf_set(pid, TF_A0, u64::from(value));
        let trap = self.resume_user(pid);
        let a0 = self.tf_get(pid, TF_A0);
        self.k.st.hw.write(tf, &saved).expect("trapframe in RAM");
        match trap.kind {
            TrapKind::Breakpoint => Ok(a0 as u8),
            TrapKind::PageFault { va, code } => Err(HwFault { va, code }),
            other => panic!("user probe: unexpected trap {other:?} at {:#x}", trap.pc),
        }
    }

    fn kernel_probe(&mut self, pid: Option<u32>, va: u64, store: Option<u8>) -> Result<u8, HwFault> {
        let root = match pid {
            Some(pid) => self.k.st.ptable.get(pid).expect("kernel_probe: pid").root.as_u64(),
            None => self.k.kernel_pagetable,
        };
        // Safety: lab.rs stores only where the core says the store faults, or
        // into a user page, trapframe or kernel stack, and puts the byte back.
        unsafe { self.tprobe(root, va, false, store) }
    }

    fn kernel_read_user(&mut self, pid: u32, va: u64) -> Result<u8, HwFault> {
        let root = self.k.st.ptable.get(pid).expect("kernel_read_user: pid").root.as_u64();
        // Safety: a load.
        unsafe { self.tprobe(root, va, true, None) }
    }

    fn write_phys(&mut self, pa: u64, bytes: &[u8]) {
        self.k.st.hw.write(pa, bytes).expect("write_phys: outside RAM");
        // Safety: fence.i only makes instruction fetch see the stores above.
        unsafe { core::arch::asm!("fence.i") };
    }

    fn probe_stub(&self) -> (&'static [u8], u64) {
        let (start, store, stop) = (
            &raw const user_probe_stub as usize,
            &raw const user_probe_store as usize,
            &raw const user_probe_stub_end as usize,
        );
        // Safety: the stub's bytes lie between two labels of entry.S's .rodata.
        let bytes = unsafe { core::slice::from_raw_parts(start as *const u8, stop - start) };
        (bytes, (store - start) as u64)
    }

    fn user_samples(&self) -> Vec<Sample> {
        vec![
            Sample::new(TRAPFRAME, "TRAPFRAME"),
            Sample::new(TRAMPOLINE, "TRAMPOLINE").store(),
            Sample::new(MAXVA, "MAXVA: not sign-extended"),
            Sample::new(0xffff_ffc0_0000_0000, "sign-extended, unmapped"),
        ]
    }

    fn kernel_samples(&self) -> Vec<Sample> {
        let l = &self.k.layout;
        vec![
            // A device register: loaded, not compared with memory.
            Sample::new(UART0 + 5, "UART0 line status"),
            Sample::new(KERNBASE, "KERNBASE: kernel text").store(),
            Sample::new(l.trampoline, "trampoline (physical)"),
            Sample::new(l.etext, "etext: kernel data"),
            Sample::new(PGROUNDUP(l.end), "first page after end"),
            Sample::new(l.phystop - 1, "last byte below PHYSTOP"),
            Sample::new(l.phystop, "PHYSTOP: unmapped").store(),
            Sample::new(TRAMPOLINE, "TRAMPOLINE").store(),
            Sample::new(KSTACK(0) + 0x10, "KSTACK(0)").store(),
            Sample::new(KSTACK(0) - PGSIZE, "KSTACK(0) guard page").store(),
            Sample::new(0, "user address 0"),
        ]
    }

    fn fault_text(&self, code: u64) -> String {
        let name = match code {
            5 => "load access fault",
            7 => "store/AMO access fault",
            SCAUSE_INSN_PAGE_FAULT => "instruction page fault",
            SCAUSE_LOAD_PAGE_FAULT => "load page fault",
            SCAUSE_STORE_PAGE_FAULT => "store/AMO page fault",
            _ => "?",
        };
        format!("scause {code} ({name})")
    }

    fn set_accessed(&mut self, t: &Translation) {
        pagelab_core::walk::set_accessed::<Sv39>(&mut self.k.st.hw, &mut Trace::counting_only(), t)
            .expect("entries in RAM");
    }

    fn flush_tlb(&mut self) {
        self.k.st.hw.flush_tlb();
    }

    fn set_trampoline_fence(&mut self, on: bool) {
        self.nofence = !on;
    }

    fn remap_without_flush(&mut self) -> Option<Remap> {
        // Two kernel stacks no process uses (the last two slots): the first
        // one's page is remapped to the second one's frame.
        let n = u64::from(self.k.layout.nproc);
        let va = KSTACK(n - 1) + 0x10;
        let at = |k: &RiscvKernel<DirectMap>, va: u64| {
            let t = k.translate(None, va, pagelab_core::scheme::Access::KERNEL_WRITE).ok()?;
            let pa = t.outcome.ok()?.pa.as_u64();
            Some((pa, t.steps.last()?.entry_addr.as_u64()))
        };
        let (old, pte_addr) = at(&self.k, va)?;
        let (new, _) = at(&self.k, KSTACK(n - 2) + 0x10)?;
        let hw = &mut self.k.st.hw;
        let pte = hw.read_word(pte_addr, 8).ok()?;
        let byte = |hw: &DirectMap, pa: u64| {
            let mut b = [0u8];
            hw.read(pa, &mut b).map(|()| b[0]).unwrap_or(0)
        };
        let (was_old, was_new) = (byte(hw, old), byte(hw, new));
        let store = |b: u8| {
            // Safety: `va` is mapped writable in the kernel's table, to an
            // unused kernel stack's frame or (remapped) to another one's.
            unsafe { core::ptr::write_volatile(va as *mut u8, b) }
        };
        hw::sfence_vma();
        store(0x11);
        // The entry now names the other frame; no sfence.vma.
        let remapped = (pte & !(((1u64 << 44) - 1) << 10)) | ((new >> 12) << 10);
        hw.write_word(pte_addr, 8, remapped).ok()?;
        store(0x22);
        let before = (byte(hw, old), byte(hw, new));
        hw::sfence_vma();
        store(0x33);
        let after = (byte(hw, old), byte(hw, new));
        // Put everything back.
        hw.write_word(pte_addr, 8, pte).ok()?;
        hw::sfence_vma();
        hw.write(old, &[was_old]).ok()?;
        hw.write(new, &[was_new]).ok()?;
        Some(Remap { va, old, new, before, after })
    }

    fn clear_user_bit(&mut self, pid: u32, va: u64) {
        let root = self.k.st.ptable.get(pid).expect("clear_user_bit: pid").root.as_u64();
        self.k.uvmclear(&mut Trace::counting_only(), root, va).expect("uvmclear");
        self.k.st.hw.flush_tlb();
    }
}

/// Machine-mode setup (xv6-riscv: `start.c`): delegate every trap to
/// supervisor mode, let it reach all of memory, and `mret` into [`riscv_main`]
/// in supervisor mode with paging off.
#[unsafe(no_mangle)]
extern "C" fn start() -> ! {
    let mstatus = (csrr!("mstatus") & !(3 << 11)) | (1 << 11); // MPP = supervisor
    // Safety: machine-mode setup before anything else runs; mret jumps to
    // riscv_main on the same stack.
    unsafe {
        csrw!("mstatus", mstatus);
        csrw!("mepc", riscv_main as *const () as u64);
        csrw!("satp", 0u64);
        csrw!("medeleg", 0xffffu64);
        csrw!("mideleg", 0xffffu64);
        csrw!("sie", 0u64);
        // Physical memory protection: supervisor mode may touch everything.
        csrw!("pmpaddr0", 0x3f_ffff_ffff_ffffu64);
        csrw!("pmpcfg0", 0xfu64);
        core::arch::asm!("mret", options(noreturn));
    }
}

/// An unexpected trap in supervisor mode: say what and where, and fail.
#[unsafe(no_mangle)]
extern "C" fn riscv_kernel_trap() -> ! {
    let (scause, sepc, stval) = (csrr!("scause"), csrr!("sepc"), csrr!("stval"));
    kprintln!("kernel trap: scause {scause} sepc {sepc:#x} stval {stval:#x}");
    if (scause == 5 || scause == 7) && stval >= KERNBASE {
        kprintln!("(an access fault in RAM: is QEMU's RAM smaller than PHYSTOP? run it with -m 128M)");
    }
    panic!("unexpected trap in the kernel");
}

/// The kernel's main function, in supervisor mode, paging off.
extern "C" fn riscv_main() -> ! {
    uart::init();
    // Safety: kernelvec reports unexpected traps in the kernel.
    unsafe { csrw!("stvec", kernelvec as *const () as u64) };
    kprintln!();
    kprintln!("pagelab-kernel: RISC-V (xv6-riscv Sv39 paging), booted by qemu -bios none");

    // The layout of the preset the command-line runner replays, with this image's own symbols.
    let over = LayoutOverride {
        etext: Some(&raw const etext as u64),
        trampoline: Some(&raw const trampoline as u64),
        end: Some(&raw const end as u64),
        ..LayoutOverride::default()
    };
    if let Err(e) = over.check(Preset::Xv6Riscv) {
        kprintln!("pagelab-kernel: this image does not fit the preset: {e}");
        exit_qemu(false);
    }
    let layout = Preset::Xv6Riscv.riscv_layout(&over);
    kprintln!(
        "ram: PHYSTOP {:#x}; kernel image {:#x}-{:#x}, etext {:#x}",
        layout.phystop,
        KERNBASE,
        layout.end,
        layout.etext
    );

    let mut tr = Trace::counting_only();
    let phystop = layout.phystop;
    let boot = |tr: &mut Trace| match RiscvKernel::boot(
        layout.clone(),
        DirectMap::new(phystop),
        programs::RISCV_INITCODE.to_vec(),
        ShmMode::Lab,
        tr,
    ) {
        Ok(k) => k,
        Err(p) => panic!("boot: {p}"),
    };
    let k = boot(&mut tr);
    kprintln!(
        "paging: satp = {:#x}, the page table the core's kvmmake built; {} pages free",
        csrr!("satp"),
        k.st.kmem.nfree()
    );
    assert_eq!(csrr!("satp"), MAKE_SATP(k.kernel_pagetable), "kvminithart should have loaded the kernel page table");
    let mut m = Riscv { k, nofence: false };
    let pass = lab::run(&mut m, tr.counts());
    // The differential test: a fresh core over the same RAM, the real programs on QEMU's hart.
    drop(m);
    // The new free list covers the frames of the old page tables: paging
    // off first, as at boot.
    // Safety: with satp 0 the kernel runs on physical addresses, which are
    // the ones it is linked at (the direct map is the identity).
    unsafe { csrw!("satp", 0u64) };
    hw::sfence_vma();
    let k = boot(&mut Trace::counting_only());
    let ran = crate::programs::run(k, Fs::builtin(Port::Xv6Riscv), &mut RealHart);
    exit_qemu(pass && ran)
}
