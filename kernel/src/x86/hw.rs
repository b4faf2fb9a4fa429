//! The x86 instructions the kernel needs, and physical memory through the
//! kernel's direct map (`P2V`): the core's [`PhysMem`] and [`Cpu`] on real hardware.

use core::arch::asm;

use pagelab_core::mem::{Cpu, MemError, PhysMem};
use pagelab_core::x86::KERNBASE;

/// Write a byte to an I/O port.
pub fn outb(port: u16, v: u8) {
    // Safety: port I/O touches only devices; the ports used are COM1's, the PICs' and debug-exit's.
    unsafe { asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags)) };
}

/// Write a 32-bit word to an I/O port.
pub fn outl(port: u16, v: u32) {
    // Safety: as for outb.
    unsafe { asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags)) };
}

/// Read a byte from an I/O port.
pub fn inb(port: u16) -> u8 {
    let v: u8;
    // Safety: as for outb; reading COM1's line status has no side effect.
    unsafe { asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Stop the CPU until the next interrupt (there is none: forever).
pub fn hlt() {
    // Safety: hlt only waits.
    unsafe { asm!("hlt", options(nomem, nostack)) };
}

/// Load a page directory into CR3 (xv6: `lcr3`): the MMU walks it from now on,
/// and the TLB forgets every translation it cached.
///
/// # Safety
/// `pa` must be a page directory that maps the kernel (its code, stack and
/// data) where they are now, as every table made by the core's setupkvm does.
pub unsafe fn lcr3(pa: u32) {
    // Safety: the caller promises the new table maps the running kernel.
    unsafe { asm!("mov cr3, {}", in(reg) pa, options(nostack, preserves_flags)) };
}

/// The page directory in CR3.
pub fn rcr3() -> u32 {
    let v: u32;
    // Safety: reading CR3 changes nothing.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// The address of the last page fault (CR2).
pub fn rcr2() -> u32 {
    let v: u32;
    // Safety: reading CR2 changes nothing.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Physical address to kernel virtual address (xv6: `P2V`).
pub fn p2v(pa: u64) -> usize {
    (pa + u64::from(KERNBASE)) as usize
}

/// All of RAM below PHYSTOP, reached through the kernel's direct map at KERNBASE.
///
/// Before the core's kvmalloc loads the kernel page directory only the first
/// 4 MB are mapped (by `entrypgdir`), which is all the core touches until then:
/// kinit1 frees only pages below 4 MB, as in xv6.
pub struct DirectMap {
    /// One past the last byte of RAM the core may use.
    phystop: u64,
}

impl DirectMap {
    /// RAM from 0 to `phystop`.
    pub fn new(phystop: u64) -> DirectMap {
        DirectMap { phystop }
    }

    /// Ok if `[pa, pa+len)` is RAM.
    fn check(&self, pa: u64, len: u64) -> Result<(), MemError> {
        match pa.checked_add(len) {
            Some(end) if end <= self.phystop => Ok(()),
            _ => Err(MemError { pa, len }),
        }
    }
}

impl PhysMem for DirectMap {
    fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), MemError> {
        self.check(pa, buf.len() as u64)?;
        // Safety: [pa, pa+len) is RAM below PHYSTOP, mapped at P2V(pa) by the
        // current page directory; buf is ours and cannot overlap kernel-mapped RAM we read.
        unsafe { core::ptr::copy(p2v(pa) as *const u8, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    fn write(&mut self, pa: u64, data: &[u8]) -> Result<(), MemError> {
        self.check(pa, data.len() as u64)?;
        // Safety: as for read. The core writes only pages it owns (page tables,
        // user pages, free pages), never the kernel image below `end`.
        unsafe { core::ptr::copy(data.as_ptr(), p2v(pa) as *mut u8, data.len()) };
        Ok(())
    }

    fn fill(&mut self, pa: u64, len: u64, byte: u8) -> Result<(), MemError> {
        self.check(pa, len)?;
        // Safety: as for write.
        unsafe { core::ptr::write_bytes(p2v(pa) as *mut u8, byte, len as usize) };
        Ok(())
    }

    fn copy(&mut self, dst: u64, src: u64, len: u64) -> Result<(), MemError> {
        self.check(src, len)?;
        self.check(dst, len)?;
        // Safety: as for read and write; ptr::copy allows the ranges to overlap (memmove).
        unsafe { core::ptr::copy(p2v(src) as *const u8, p2v(dst) as *mut u8, len as usize) };
        Ok(())
    }
}

impl Cpu for DirectMap {
    fn load_root(&mut self, root: u64) {
        // Safety: the core loads only tables made by setupkvm (kvmalloc's and
        // the processes'), which all map the kernel as kmap[] says.
        unsafe { lcr3(root as u32) };
    }

    fn flush_tlb(&mut self) {
        // Safety: reloading the same CR3 only empties the TLB.
        unsafe { lcr3(rcr3()) };
    }
}
