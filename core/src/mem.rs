//! Physical memory and the CPU hooks, behind traits.
//!
//! The core never touches memory directly: every page-table entry, every
//! free-list pointer and every byte of a user page is read and written
//! through [`PhysMem`]. The web lab and the tests use [`SimMem`], a simulated
//! RAM; the bare-metal kernel implements the trait over its direct map. The
//! two instructions that tell the MMU about a change (load a new root, flush
//! the TLB) go through [`Cpu`].

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::addr::PGSIZE;

/// An access outside the machine's RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemError {
    /// First byte of the access.
    pub pa: u64,
    /// Its length.
    pub len: u64,
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "physical address {:#x} ({} bytes) is not in RAM", self.pa, self.len)
    }
}

/// Physical memory, byte-addressed by physical address.
pub trait PhysMem {
    /// Copy `buf.len()` bytes at `pa` into `buf`.
    ///
    /// # Errors
    /// [`MemError`] if any byte is outside RAM.
    fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), MemError>;

    /// Copy `data` to `pa`.
    ///
    /// # Errors
    /// [`MemError`] if any byte is outside RAM; nothing is written then.
    fn write(&mut self, pa: u64, data: &[u8]) -> Result<(), MemError>;

    /// Set `len` bytes at `pa` to `byte` (C's `memset`).
    ///
    /// # Errors
    /// [`MemError`] if any byte is outside RAM; nothing is written then.
    fn fill(&mut self, pa: u64, len: u64, byte: u8) -> Result<(), MemError>;

    /// Copy `len` bytes from `src` to `dst` (C's `memmove`).
    ///
    /// # Errors
    /// [`MemError`] if any byte of either range is outside RAM.
    fn copy(&mut self, dst: u64, src: u64, len: u64) -> Result<(), MemError> {
        let mut buf = vec![0u8; len as usize];
        self.read(src, &mut buf)?;
        self.write(dst, &buf)
    }

    /// Read a little-endian word of `bytes` (4 or 8) bytes.
    ///
    /// # Errors
    /// [`MemError`] outside RAM.
    fn read_word(&self, pa: u64, bytes: u64) -> Result<u64, MemError> {
        let mut b = [0u8; 8];
        self.read(pa, &mut b[..bytes as usize])?;
        Ok(u64::from_le_bytes(b))
    }

    /// Write a little-endian word of `bytes` (4 or 8) bytes.
    ///
    /// # Errors
    /// [`MemError`] outside RAM.
    fn write_word(&mut self, pa: u64, bytes: u64, v: u64) -> Result<(), MemError> {
        self.write(pa, &v.to_le_bytes()[..bytes as usize])
    }
}

/// The instructions that tell the MMU about page-table changes.
pub trait Cpu {
    /// Make the page table at `root` the one the MMU walks
    /// (x86: `lcr3`; RISC-V: `w_satp(MAKE_SATP(root))`).
    fn load_root(&mut self, root: u64);
    /// Forget cached translations (x86: reloading CR3; RISC-V: `sfence.vma`).
    fn flush_tlb(&mut self);
    /// Make `root` the page table used when the CPU next returns to user
    /// mode. On x86 that is CR3 itself (the kernel is mapped in every
    /// process's table); on RISC-V xv6 switches satp only in the trampoline,
    /// on the way out to user space, so a real kernel may defer it.
    fn set_user_root(&mut self, root: u64) {
        self.load_root(root);
    }
}

/// Everything the core needs from a machine: memory and the MMU hooks.
pub trait Hal: PhysMem + Cpu {}
impl<T: PhysMem + Cpu> Hal for T {}

/// One simulated page, stored compactly while its bytes are uniform.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Page {
    /// Every byte is `fill`, except the first eight, which are `head` if set.
    /// A free page (junk, then a `next` pointer at offset 0) stays this small.
    Uniform { fill: u8, head: Option<[u8; 8]> },
    /// Arbitrary contents, shared between copies of the memory until one of
    /// them writes (a copy of a machine costs only its changed pages).
    Bytes(Arc<[u8; PGSIZE as usize]>),
}

impl Page {
    fn byte(&self, off: usize) -> u8 {
        match self {
            Page::Uniform { fill, head } => match head {
                Some(h) if off < 8 => h[off],
                _ => *fill,
            },
            Page::Bytes(b) => b[off],
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8; PGSIZE as usize] {
        if let Page::Uniform { fill, head } = *self {
            let mut b = Arc::new([fill; PGSIZE as usize]);
            if let Some(h) = head {
                Arc::make_mut(&mut b)[..8].copy_from_slice(&h);
            }
            *self = Page::Bytes(b);
        }
        match self {
            // A page shared with another copy is copied here, before the write.
            Page::Bytes(b) => Arc::make_mut(b),
            Page::Uniform { .. } => unreachable!("just materialised"),
        }
    }

    fn write(&mut self, off: usize, data: &[u8]) {
        match self {
            Page::Uniform { fill, head } if off + data.len() <= 8 => {
                let h = head.get_or_insert([*fill; 8]);
                h[off..off + data.len()].copy_from_slice(data);
            }
            _ => self.bytes_mut()[off..off + data.len()].copy_from_slice(data),
        }
    }
}

/// Pages per chunk of the page list (a chunk is shared between copies of
/// the memory until one of them changes a page in it).
const CHUNK: usize = 256;

/// Simulated RAM from `base` to `base + size`.
///
/// Pages are kept compact while their contents are uniform, so a machine
/// with xv6-public's 224 MB costs a few kilobytes until pages are really
/// written (page tables and user pages). A copy of the memory shares
/// everything with the original (the list of pages in chunks, and each
/// written page) until one of them writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimMem {
    base: u64,
    npages: usize,
    chunks: Vec<Arc<[Page; CHUNK]>>,
}

impl SimMem {
    /// RAM from `base` (page-aligned) for `size` bytes (a multiple of the page size), all zero.
    ///
    /// # Panics
    /// If `base` or `size` is not page-aligned (a broken preset, not user input).
    #[must_use]
    pub fn new(base: u64, size: u64) -> SimMem {
        assert!(base.is_multiple_of(PGSIZE) && size.is_multiple_of(PGSIZE), "SimMem: unaligned RAM");
        let npages = (size / PGSIZE) as usize;
        let zero: Arc<[Page; CHUNK]> = Arc::new(core::array::from_fn(|_| Page::Uniform { fill: 0, head: None }));
        SimMem { base, npages, chunks: vec![zero; npages.div_ceil(CHUNK)] }
    }

    /// Page `i` (from 0) of RAM.
    #[inline(always)]
    fn page(&self, i: usize) -> &Page {
        &self.chunks[i / CHUNK][i % CHUNK]
    }

    /// Where a word of `n` bytes at `pa` lies, as (page, offset), if it lies
    /// inside one page of RAM (every page-table entry does).
    #[inline(always)]
    fn word_place(&self, pa: u64, n: usize) -> Option<(usize, usize)> {
        let off = pa.checked_sub(self.base)?;
        let (page, at) = ((off / PGSIZE) as usize, (off % PGSIZE) as usize);
        (n <= 8 && at + n <= PGSIZE as usize && page < self.npages).then_some((page, at))
    }

    /// Page `i`, to change: its chunk is copied first if another copy of the memory shares it.
    fn page_mut(&mut self, i: usize) -> &mut Page {
        &mut Arc::make_mut(&mut self.chunks[i / CHUNK])[i % CHUNK]
    }

    /// First byte of RAM.
    #[must_use]
    pub fn base(&self) -> u64 {
        self.base
    }

    /// One past the last byte of RAM.
    #[must_use]
    pub fn end(&self) -> u64 {
        self.base + self.npages as u64 * PGSIZE
    }

    /// Pages whose bytes are stored in full (for measuring the simulation's cost).
    #[must_use]
    pub fn materialised_pages(&self) -> usize {
        (0..self.npages).filter(|&i| matches!(self.page(i), Page::Bytes(_))).count()
    }

    fn check(&self, pa: u64, len: u64) -> Result<(), MemError> {
        match pa.checked_add(len) {
            Some(end) if pa >= self.base && end <= self.end() => Ok(()),
            _ => Err(MemError { pa, len }),
        }
    }

    /// Visit `[pa, pa+len)` page by page as (page index, offset in page, start in range, length).
    fn spans(&self, pa: u64, len: u64) -> impl Iterator<Item = (usize, usize, usize, usize)> + use<> {
        let base = self.base;
        let mut done = 0u64;
        core::iter::from_fn(move || {
            if done >= len {
                return None;
            }
            let a = pa + done - base;
            let off = a % PGSIZE;
            let n = (PGSIZE - off).min(len - done);
            let item = ((a / PGSIZE) as usize, off as usize, done as usize, n as usize);
            done += n;
            Some(item)
        })
    }
}

impl PhysMem for SimMem {
    fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), MemError> {
        self.check(pa, buf.len() as u64)?;
        for (page, off, start, n) in self.spans(pa, buf.len() as u64) {
            match self.page(page) {
                Page::Bytes(b) => buf[start..start + n].copy_from_slice(&b[off..off + n]),
                p => {
                    for i in 0..n {
                        buf[start + i] = p.byte(off + i);
                    }
                }
            }
        }
        Ok(())
    }

    /// A word inside one page (every page-table entry is) is read in one
    /// piece: no per-byte work, no span iterator.
    #[inline(always)]
    fn read_word(&self, pa: u64, bytes: u64) -> Result<u64, MemError> {
        let n = bytes as usize;
        if let Some((page, at)) = self.word_place(pa, n) {
            let v = match self.page(page) {
                Page::Bytes(p) => match n {
                    4 => u64::from(u32::from_le_bytes(p[at..at + 4].try_into().expect("4 bytes"))),
                    8 => u64::from_le_bytes(p[at..at + 8].try_into().expect("8 bytes")),
                    _ => {
                        let mut b = [0u8; 8];
                        b[..n].copy_from_slice(&p[at..at + n]);
                        u64::from_le_bytes(b)
                    }
                },
                Page::Uniform { fill, head: None } => u64::from_le_bytes([*fill; 8]),
                // The free list's next pointer at the start of a junk-filled page.
                Page::Uniform { fill, head: Some(h) } => {
                    let mut b = [*fill; 8];
                    for (i, x) in b.iter_mut().enumerate().take(n) {
                        if at + i < 8 {
                            *x = h[at + i];
                        }
                    }
                    u64::from_le_bytes(b)
                }
            };
            return Ok(if n >= 8 { v } else { v & ((1u64 << (8 * n)) - 1) });
        }
        let mut b = [0u8; 8];
        self.read(pa, &mut b[..n.min(8)])?;
        Ok(u64::from_le_bytes(b))
    }

    /// A word inside one page (every page-table entry is) is written in one piece.
    #[inline]
    fn write_word(&mut self, pa: u64, bytes: u64, v: u64) -> Result<(), MemError> {
        let n = bytes as usize;
        if let Some((page, at)) = self.word_place(pa, n) {
            self.page_mut(page).write(at, &v.to_le_bytes()[..n]);
            return Ok(());
        }
        self.write(pa, &v.to_le_bytes()[..n.min(8)])
    }

    fn write(&mut self, pa: u64, data: &[u8]) -> Result<(), MemError> {
        self.check(pa, data.len() as u64)?;
        for (page, off, start, n) in self.spans(pa, data.len() as u64) {
            self.page_mut(page).write(off, &data[start..start + n]);
        }
        Ok(())
    }

    fn fill(&mut self, pa: u64, len: u64, byte: u8) -> Result<(), MemError> {
        self.check(pa, len)?;
        for (page, off, _, n) in self.spans(pa, len) {
            if n as u64 == PGSIZE {
                let want = Page::Uniform { fill: byte, head: None };
                if *self.page(page) != want {
                    *self.page_mut(page) = want;
                }
            } else {
                self.page_mut(page).bytes_mut()[off..off + n].fill(byte);
            }
        }
        Ok(())
    }

    fn copy(&mut self, dst: u64, src: u64, len: u64) -> Result<(), MemError> {
        self.check(src, len)?;
        self.check(dst, len)?;
        // A whole aligned page copies its compact form as it is.
        if len == PGSIZE && (src - self.base).is_multiple_of(PGSIZE) && (dst - self.base).is_multiple_of(PGSIZE) {
            let s = ((src - self.base) / PGSIZE) as usize;
            let d = ((dst - self.base) / PGSIZE) as usize;
            let p = self.page(s).clone();
            *self.page_mut(d) = p;
            return Ok(());
        }
        let mut buf = vec![0u8; len as usize];
        self.read(src, &mut buf)?;
        self.write(dst, &buf)
    }
}

/// The simulated MMU's registers: which root it walks, and how often the TLB was flushed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimCpu {
    /// The page-table root last loaded (CR3 / satp), if any.
    pub root: Option<u64>,
    /// TLB flushes so far.
    pub flushes: u64,
}

impl Cpu for SimCpu {
    fn load_root(&mut self, root: u64) {
        self.root = Some(root);
        self.flushes += 1;
    }
    fn flush_tlb(&mut self) {
        self.flushes += 1;
    }
}

/// A simulated machine: RAM and MMU registers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sim {
    /// The RAM.
    pub mem: SimMem,
    /// The MMU registers.
    pub cpu: SimCpu,
}

impl Sim {
    /// A machine with zeroed RAM from `base` for `size` bytes.
    #[must_use]
    pub fn new(base: u64, size: u64) -> Sim {
        Sim { mem: SimMem::new(base, size), cpu: SimCpu::default() }
    }
}

impl PhysMem for Sim {
    #[inline(always)]
    fn read_word(&self, pa: u64, bytes: u64) -> Result<u64, MemError> {
        self.mem.read_word(pa, bytes)
    }
    fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), MemError> {
        self.mem.read(pa, buf)
    }
    fn write(&mut self, pa: u64, data: &[u8]) -> Result<(), MemError> {
        self.mem.write(pa, data)
    }
    #[inline]
    fn write_word(&mut self, pa: u64, bytes: u64, v: u64) -> Result<(), MemError> {
        self.mem.write_word(pa, bytes, v)
    }
    fn fill(&mut self, pa: u64, len: u64, byte: u8) -> Result<(), MemError> {
        self.mem.fill(pa, len, byte)
    }
    fn copy(&mut self, dst: u64, src: u64, len: u64) -> Result<(), MemError> {
        self.mem.copy(dst, src, len)
    }
}

impl Cpu for Sim {
    fn load_root(&mut self, root: u64) {
        self.cpu.load_root(root);
    }
    fn flush_tlb(&mut self) {
        self.cpu.flush_tlb();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn uniform_pages_stay_small_until_written_inside() {
        let mut m = SimMem::new(0, 4 * PGSIZE);
        m.fill(PGSIZE, PGSIZE, 1).unwrap();
        m.write_word(PGSIZE, 4, 0x8dff_e000).unwrap();
        assert_eq!(m.materialised_pages(), 0);
        assert_eq!(m.read_word(PGSIZE, 4).unwrap(), 0x8dff_e000);
        let mut b = [0u8; 3];
        m.read(PGSIZE + 7, &mut b).unwrap();
        // Bytes 7..10: the last byte of the head (fill) and two fill bytes.
        assert_eq!(b, [1, 1, 1]);
        m.write(PGSIZE + 100, &[9]).unwrap();
        assert_eq!(m.materialised_pages(), 1);
        let mut one = [0u8];
        m.read(PGSIZE + 100, &mut one).unwrap();
        assert_eq!(one, [9]);
        m.read(PGSIZE + 2, &mut one).unwrap();
        assert_eq!(one, [0xff]);
    }

    #[test]
    fn accesses_across_pages_and_outside_ram() {
        let mut m = SimMem::new(0x8000_0000, 2 * PGSIZE);
        m.write(0x8000_0ffe, &[1, 2, 3, 4]).unwrap();
        let mut b = [0u8; 4];
        m.read(0x8000_0ffe, &mut b).unwrap();
        assert_eq!(b, [1, 2, 3, 4]);
        assert_eq!(m.read(0x8000_1ffe, &mut b), Err(MemError { pa: 0x8000_1ffe, len: 4 }));
        assert!(m.write(0x7fff_ffff, &[0]).is_err());
        assert!(m.fill(u64::MAX, 2, 0).is_err());
    }
}
