//! Control registers, and physical memory as the kernel sees it: the core's
//! [`PhysMem`] and [`Cpu`] on real hardware.
//!
//! The core's kvmmake maps RAM one-to-one, so a physical address is also the
//! kernel's virtual address for it, with paging on or off.

use core::arch::asm;

use pagelab_core::mem::{Cpu, MemError, PhysMem};
use pagelab_core::riscv::KERNBASE;

/// Read a control and status register.
macro_rules! csrr {
    ($csr:literal) => {{
        let v: u64;
        // Safety: reading a CSR changes nothing.
        unsafe { core::arch::asm!(concat!("csrr {}, ", $csr), out(reg) v, options(nomem, nostack)) };
        v
    }};
}
pub(crate) use csrr;

/// Write a control and status register.
///
/// The caller's `unsafe` block says why the write is sound.
macro_rules! csrw {
    ($csr:literal, $v:expr) => {
        core::arch::asm!(concat!("csrw ", $csr, ", {}"), in(reg) $v, options(nostack))
    };
}
pub(crate) use csrw;

/// satp's mode field for Sv39 (xv6: `SATP_SV39`).
pub const SATP_SV39: u64 = 8 << 60;

/// The satp value for the page table at `pagetable` (xv6: `MAKE_SATP`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
pub fn MAKE_SATP(pagetable: u64) -> u64 {
    SATP_SV39 | (pagetable >> 12)
}

/// Flush the whole TLB (xv6: `sfence_vma`).
pub fn sfence_vma() {
    // Safety: forgetting cached translations is always allowed.
    unsafe { asm!("sfence.vma zero, zero", options(nostack)) };
}

/// RAM from KERNBASE to PHYSTOP, at its own addresses.
pub struct DirectMap {
    /// One past the last byte of RAM the core may use.
    phystop: u64,
}

impl DirectMap {
    /// RAM from KERNBASE to `phystop`.
    pub fn new(phystop: u64) -> DirectMap {
        DirectMap { phystop }
    }

    /// Ok if `[pa, pa+len)` is RAM.
    fn check(&self, pa: u64, len: u64) -> Result<(), MemError> {
        match pa.checked_add(len) {
            Some(end) if pa >= KERNBASE && end <= self.phystop => Ok(()),
            _ => Err(MemError { pa, len }),
        }
    }
}

impl PhysMem for DirectMap {
    fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), MemError> {
        self.check(pa, buf.len() as u64)?;
        // Safety: [pa, pa+len) is RAM, at its own address whether paging is on or off.
        unsafe { core::ptr::copy(pa as *const u8, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    fn write(&mut self, pa: u64, data: &[u8]) -> Result<(), MemError> {
        self.check(pa, data.len() as u64)?;
        // Safety: as for read. The core writes only pages it owns (page tables,
        // trapframes, user pages, free pages), never the kernel image below `end`.
        unsafe { core::ptr::copy(data.as_ptr(), pa as *mut u8, data.len()) };
        Ok(())
    }

    fn fill(&mut self, pa: u64, len: u64, byte: u8) -> Result<(), MemError> {
        self.check(pa, len)?;
        // Safety: as for write.
        unsafe { core::ptr::write_bytes(pa as *mut u8, byte, len as usize) };
        Ok(())
    }

    fn copy(&mut self, dst: u64, src: u64, len: u64) -> Result<(), MemError> {
        self.check(src, len)?;
        self.check(dst, len)?;
        // Safety: as for read and write; ptr::copy allows overlap (memmove).
        unsafe { core::ptr::copy(src as *const u8, dst as *mut u8, len as usize) };
        Ok(())
    }
}

impl Cpu for DirectMap {
    fn load_root(&mut self, root: u64) {
        sfence_vma();
        // Safety: the core loads only its kernel page table (kvminithart),
        // which maps the kernel's text, data and stack at their own addresses.
        unsafe { csrw!("satp", MAKE_SATP(root)) };
        sfence_vma();
    }

    fn flush_tlb(&mut self) {
        sfence_vma();
    }

    fn set_user_root(&mut self, _root: u64) {
        // As in xv6-riscv: satp gets the process's table only in userret, in
        // the trampoline, on the way out to user mode (see Riscv::resume_user).
    }
}
