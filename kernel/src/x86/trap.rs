//! Trap frames, the kernel's own traps, and loads that may fault (x86).

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::hw::rcr2;
use super::mmu::T_PGFLT;

/// Layout of the trap frame built on the stack by the hardware and by
/// trapasm.S, and passed to enter_user (xv6-public: `struct trapframe`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    // registers as pushed by pusha
    /// Saved by pushal.
    pub edi: u32,
    /// Saved by pushal.
    pub esi: u32,
    /// Saved by pushal.
    pub ebp: u32,
    /// useless & ignored (pushal's copy of esp)
    pub oesp: u32,
    /// Saved by pushal.
    pub ebx: u32,
    /// Saved by pushal.
    pub edx: u32,
    /// Saved by pushal; the probe stub's address.
    pub ecx: u32,
    /// Saved by pushal; the system call number and return value.
    pub eax: u32,
    // rest of trap frame
    /// Segment registers, saved by alltraps.
    pub gs: u32,
    /// Saved by alltraps.
    pub fs: u32,
    /// Saved by alltraps.
    pub es: u32,
    /// Saved by alltraps.
    pub ds: u32,
    /// The vector, pushed by vectorN.
    pub trapno: u32,
    // below here defined by x86 hardware
    /// Error code: pushed by the CPU, or 0 by vectorN.
    pub err: u32,
    /// Where the trap happened (pushed by the CPU).
    pub eip: u32,
    /// Code segment; its low two bits are the privilege level the trap came from.
    pub cs: u32,
    /// Flags.
    pub eflags: u32,
    // below here only when crossing rings, such as from user to kernel
    /// The user stack pointer (only when crossing rings).
    pub esp: u32,
    /// The user stack segment (only when crossing rings).
    pub ss: u32,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 76);
const _: () = assert!(core::mem::offset_of!(TrapFrame, cs) == 60);

// Safety: these match the definitions in trapasm.S.
unsafe extern "C" {
    /// Return to user mode through `tf`; returns at the next trap from user mode (trapasm.S).
    pub fn enter_user(tf: *mut TrapFrame);
    /// Load the byte at `va` in kernel mode; -1 if it faulted (trapasm.S).
    fn probe_load(va: u32) -> i32;
    /// The load instruction in probe_load, and where probe_load returns from.
    fn probe_load_insn();
    fn probe_load_done();
    /// Store the byte `value` at `va` in kernel mode; 0, or -1 if it faulted (trapasm.S).
    fn probe_store(va: u32, value: u32) -> i32;
    /// The store instruction in probe_store, and where it returns from after a fault.
    fn probe_store_insn();
    fn probe_store_done();
}

/// The last fault a probe took: address and error code.
static PROBE_FAULTED: AtomicBool = AtomicBool::new(false);
/// The faulting address (CR2).
static PROBE_CR2: AtomicU32 = AtomicU32::new(0);
/// The error code.
static PROBE_ERR: AtomicU32 = AtomicU32::new(0);

/// Load the byte at `va` in kernel mode through whatever page directory is
/// in CR3, or store `store` there (and return it); a page fault comes back
/// as (faulting address, error code).
///
/// # Safety
/// A store must not hit memory anything else relies on at this moment: the
/// caller stores only where the core's translate says it faults, or into a
/// frame it owns for the moment (a user page, a trapframe, a kernel stack),
/// and puts the byte back afterwards.
pub unsafe fn kernel_probe(va: u32, store: Option<u8>) -> Result<u8, (u32, u32)> {
    PROBE_FAULTED.store(false, Ordering::SeqCst);
    let v = match store {
        // Safety: probe_load reads one byte; if the address is not mapped the
        // page fault is caught by kernel_trap, which resumes at probe_load_done.
        None => unsafe { probe_load(va) as u8 },
        Some(b) => {
            // Safety: as for the load; the caller vouches for the store.
            unsafe { probe_store(va, u32::from(b)) };
            b
        }
    };
    if PROBE_FAULTED.load(Ordering::SeqCst) {
        Err((PROBE_CR2.load(Ordering::SeqCst), PROBE_ERR.load(Ordering::SeqCst)))
    } else {
        Ok(v)
    }
}

/// A trap taken in kernel mode (alltraps calls it). The only ones expected
/// are page faults in probe_load and probe_store: record the fault and make
/// the probe return -1.
/// Anything else is a kernel bug: report it and fail.
///
/// # Safety
/// `tf` must point to the trapframe alltraps built on the stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kernel_trap(tf: *mut TrapFrame) {
    // Safety: alltraps passes the frame it just pushed; nothing else refers to it.
    let tf = unsafe { &mut *tf };
    let resume = if tf.eip == probe_load_insn as *const () as u32 {
        Some(probe_load_done as *const () as u32)
    } else if tf.eip == probe_store_insn as *const () as u32 {
        Some(probe_store_done as *const () as u32)
    } else {
        None
    };
    if let (T_PGFLT, Some(resume)) = (tf.trapno, resume) {
        PROBE_CR2.store(rcr2(), Ordering::SeqCst);
        PROBE_ERR.store(tf.err, Ordering::SeqCst);
        PROBE_FAULTED.store(true, Ordering::SeqCst);
        tf.eax = u32::MAX;
        tf.eip = resume;
        return;
    }
    kprintln!(
        "kernel trap {} err {:#x} at eip {:#x} (cr2 {:#x})",
        tf.trapno,
        tf.err,
        tf.eip,
        if tf.trapno == T_PGFLT { rcr2() } else { 0 }
    );
    panic!("unexpected trap in the kernel");
}
