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

    /// Read a little-endian word of `bytes` (4 or 8) bytes if that can be
    /// done at once, with no call and no error to build: `None` says only
    /// "ask [`PhysMem::read_word`]", which also answers outside RAM. A walk
    /// reads its entries this way first (see [`crate::walk::descend`]).
    #[inline(always)]
    fn peek_word(&self, pa: u64, bytes: u64) -> Option<u64> {
        self.read_word(pa, bytes).ok()
    }

    /// The byte that every one of the `len` bytes at `pa` holds, if that is
    /// known at once (a page still stored as one repeated byte); `None` says
    /// only "read them", which also answers outside RAM. A run of
    /// `mappages` checks a fresh, zeroed page table this way.
    fn uniform(&self, pa: u64, len: u64) -> Option<u8> {
        let _ = (pa, len);
        None
    }

    /// Write a little-endian word of `bytes` (4 or 8) bytes.
    ///
    /// # Errors
    /// [`MemError`] outside RAM.
    fn write_word(&mut self, pa: u64, bytes: u64, v: u64) -> Result<(), MemError> {
        self.write(pa, &v.to_le_bytes()[..bytes as usize])
    }

    /// Write `count` consecutive little-endian words of `bytes` bytes from
    /// `pa`: `first`, `first + step`, `first + 2·step`, … (a run of
    /// page-table entries mapping consecutive frames).
    ///
    /// # Errors
    /// [`MemError`] if the run leaves RAM; the words before that are written.
    fn write_words(&mut self, pa: u64, bytes: u64, first: u64, step: u64, count: u64) -> Result<(), MemError> {
        write_each(self, pa, bytes, first, step, count)
    }

    /// Put a run of pages on a free list as kfree does, in increasing
    /// order: fill each with the junk byte, then write at its start the
    /// pointer [`FreeRun::next`] (the old head, then the page before it).
    ///
    /// # Errors
    /// [`MemError`] if a page is outside RAM; the pages before it are done.
    fn push_pages(&mut self, run: &FreeRun) -> Result<(), MemError> {
        push_each(self, run)
    }
}

/// [`PhysMem::write_words`] a word at a time.
fn write_each<M: PhysMem + ?Sized>(
    m: &mut M,
    pa: u64,
    bytes: u64,
    first: u64,
    step: u64,
    count: u64,
) -> Result<(), MemError> {
    for i in 0..count {
        m.write_word(pa + i * bytes, bytes, first.wrapping_add(i.wrapping_mul(step)))?;
    }
    Ok(())
}

/// [`PhysMem::push_pages`] a page at a time, as kfree does.
fn push_each<M: PhysMem + ?Sized>(m: &mut M, run: &FreeRun) -> Result<(), MemError> {
    for i in 0..run.pages {
        let pa = run.first + i * PGSIZE;
        m.fill(pa, PGSIZE, run.junk)?;
        m.write_word(pa, run.ptr_bytes, run.next(i))?;
    }
    Ok(())
}

/// Pages put on kfree's list in increasing order (`freerange`), for [`PhysMem::push_pages`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreeRun {
    /// The first page.
    pub first: u64,
    /// How many pages.
    pub pages: u64,
    /// The byte each page is filled with.
    pub junk: u8,
    /// Bytes in a list pointer (4 or 8).
    pub ptr_bytes: u64,
    /// The pointer stored in the first page (the list's old head).
    pub first_next: u64,
    /// Added to a page's address to make the pointer to it (x86's `P2V`).
    pub offset: u64,
}

impl FreeRun {
    /// The pointer stored in page `i` of the run: the page before it.
    #[must_use]
    pub fn next(&self, i: u64) -> u64 {
        if i == 0 { self.first_next } else { self.first + (i - 1) * PGSIZE + self.offset }
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
    /// A whole page of little-endian words of `bytes` (4 or 8) bytes that
    /// count up: word `i` is `first + i · step`. One run of `mappages` over
    /// a whole page table writes this, as x86 `setupkvm` does for 63 of the
    /// 64 tables of the kernel part of every page directory. (A step that
    /// does not fit 32 bits is stored as bytes, which keeps a page in 16
    /// bytes: the page list is indexed on every step of a walk.)
    Counting { first: u64, step: u32, bytes: u8 },
    /// Arbitrary contents, shared between copies of the memory until one of
    /// them writes (a copy of a machine costs only its changed pages).
    Bytes(Arc<[u8; PGSIZE as usize]>),
}

impl Page {
    fn bytes_mut(&mut self) -> &mut [u8; PGSIZE as usize] {
        match *self {
            Page::Uniform { fill, head } => {
                let mut b = Arc::new([fill; PGSIZE as usize]);
                if let Some(h) = head {
                    Arc::make_mut(&mut b)[..8].copy_from_slice(&h);
                }
                *self = Page::Bytes(b);
            }
            Page::Counting { first, step, bytes } => {
                let mut b: Arc<[u8; PGSIZE as usize]> = Arc::new([0; PGSIZE as usize]);
                write_counting(&mut Arc::make_mut(&mut b)[..], first, u64::from(step), usize::from(bytes));
                *self = Page::Bytes(b);
            }
            Page::Bytes(_) => {}
        }
        match self {
            // A page shared with another copy is copied here, before the write.
            Page::Bytes(b) => Arc::make_mut(b),
            Page::Uniform { .. } | Page::Counting { .. } => unreachable!("just materialised"),
        }
    }

    /// Copy the page's bytes from `off` into `out` (which must fit in the page).
    fn read(&self, off: usize, out: &mut [u8]) {
        match self {
            Page::Bytes(b) => out.copy_from_slice(&b[off..off + out.len()]),
            Page::Uniform { fill, head } => {
                out.fill(*fill);
                if let Some(h) = head
                    && off < 8
                {
                    let k = out.len().min(8 - off);
                    out[..k].copy_from_slice(&h[off..off + k]);
                }
            }
            Page::Counting { first, step, bytes } => {
                let n = usize::from(*bytes);
                for (i, b) in out.iter_mut().enumerate() {
                    let at = off + i;
                    let word = first.wrapping_add(((at / n) as u64).wrapping_mul(u64::from(*step)));
                    *b = (word >> (8 * (at % n))) as u8;
                }
            }
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

/// Write little-endian words of `n` bytes (4 or 8, or fewer) counting up
/// from `first` by `step` over the whole of `b`.
fn write_counting(b: &mut [u8], first: u64, step: u64, n: usize) {
    let mut v = first;
    if n == 8 {
        for w in b.chunks_exact_mut(8) {
            w.copy_from_slice(&v.to_le_bytes());
            v = v.wrapping_add(step);
        }
    } else if n == 4 {
        for w in b.chunks_exact_mut(4) {
            w.copy_from_slice(&(v as u32).to_le_bytes());
            v = v.wrapping_add(step);
        }
    } else {
        for w in b.chunks_exact_mut(n) {
            w.copy_from_slice(&v.to_le_bytes()[..n]);
            v = v.wrapping_add(step);
        }
    }
}

/// Pages per chunk of the page list (a chunk is shared between copies of
/// the memory until one of them changes a page in it).
const CHUNK: usize = 256;
/// log2 of [`CHUNK`].
const CHUNK_SHIFT: u32 = CHUNK.trailing_zeros();
/// log2 of [`PGSIZE`].
const PAGE_SHIFT: u32 = PGSIZE.trailing_zeros();
const _: () = assert!(CHUNK.is_power_of_two() && PGSIZE.is_power_of_two());
const _: () = assert!(size_of::<Page>() == 16, "a page of the list is two words");

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
    /// Bytes of RAM (`npages · PGSIZE`).
    size: u64,
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
        SimMem { base, npages, size, chunks: vec![zero; npages.div_ceil(CHUNK)] }
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

    /// [`PhysMem::read_word`] for what its inline path leaves: a uniform
    /// page, a word across pages or of another width, or outside RAM.
    #[cold]
    #[inline(never)]
    fn read_word_slow(&self, pa: u64, bytes: u64) -> Result<u64, MemError> {
        let n = bytes as usize;
        if let Some((page, at)) = self.word_place(pa, n) {
            let mut b = [0u8; 8];
            self.page(page).read(at, &mut b[..n]);
            return Ok(u64::from_le_bytes(b));
        }
        let mut b = [0u8; 8];
        self.read(pa, &mut b[..n.min(8)])?;
        Ok(u64::from_le_bytes(b))
    }

    /// Page `i`, to change: its chunk is copied first if another copy of the memory shares it.
    fn page_mut(&mut self, i: usize) -> &mut Page {
        // `peek_word` counts on this: a page past the end of RAM stays uniform.
        debug_assert!(i < self.npages, "page {i} is past the end of RAM");
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
        self.base + self.size
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
            self.page(page).read(off, &mut buf[start..start + n]);
        }
        Ok(())
    }

    /// An aligned word inside one page whose bytes are stored (every entry
    /// of a page table that has been written): a few instructions. Not a
    /// uniform page, nor a word across pages or of another width.
    #[inline(always)]
    fn peek_word(&self, pa: u64, bytes: u64) -> Option<u64> {
        // Below `base`, `off` wraps around to a huge number, past the last chunk.
        let off = pa.wrapping_sub(self.base);
        let chunk = off >> (PAGE_SHIFT + CHUNK_SHIFT);
        if chunk >= self.chunks.len() as u64 {
            return None;
        }
        // Pages past the end of RAM (in the last chunk) are never written,
        // so never stored as bytes (see `page_mut`): no other bound to check.
        let Page::Bytes(p) = &self.chunks[chunk as usize][(off >> PAGE_SHIFT) as usize & (CHUNK - 1)] else {
            return None;
        };
        // `base` is page-aligned, so the offset in the page is that of `pa`;
        // an aligned word lies inside the page, and for an entry address
        // the compiler knows to be aligned (a table plus index · size) the
        // test of alignment goes away.
        let at = (pa & (PGSIZE - 1)) as usize;
        match bytes {
            4 if pa & 3 == 0 => Some(u64::from(u32::from_le_bytes(*p.get(at..at + 4)?.as_array()?))),
            8 if pa & 7 == 0 => Some(u64::from_le_bytes(*p.get(at..at + 8)?.as_array()?)),
            _ => None,
        }
    }

    /// Bytes inside one page stored as one repeated byte, clear of its head.
    fn uniform(&self, pa: u64, len: u64) -> Option<u8> {
        let off = pa.wrapping_sub(self.base);
        let at = off & (PGSIZE - 1);
        if len == 0 || len > PGSIZE - at || off >= self.size {
            return None;
        }
        match self.page((off >> PAGE_SHIFT) as usize) {
            Page::Uniform { fill, head } if head.is_none() || at >= 8 => Some(*fill),
            _ => None,
        }
    }

    /// A word of 4 or 8 bytes inside a page whose bytes are stored (every
    /// entry of a page table is) is read inline with one look-up of the page;
    /// anything else takes [`SimMem::read_word_slow`].
    #[inline(always)]
    fn read_word(&self, pa: u64, bytes: u64) -> Result<u64, MemError> {
        if let Some(v) = self.peek_word(pa, bytes) {
            return Ok(v);
        }
        self.read_word_slow(pa, bytes)
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

    /// A run inside one page is written with one look-up of the page; a run
    /// that fills a page is stored as its first word and step.
    fn write_words(&mut self, pa: u64, bytes: u64, first: u64, step: u64, count: u64) -> Result<(), MemError> {
        let n = bytes as usize;
        let len = (count as usize).saturating_mul(n);
        match self.word_place(pa, n) {
            // A whole page of entries is kept as its first word and step.
            Some((page, 0)) if (n == 4 || n == 8) && len == PGSIZE as usize && u32::try_from(step).is_ok() => {
                let step = step as u32;
                *self.page_mut(page) = Page::Counting { first, step, bytes: n as u8 };
                Ok(())
            }
            Some((page, at)) if n > 0 && at + len <= PGSIZE as usize => {
                write_counting(&mut self.page_mut(page).bytes_mut()[at..at + len], first, step, n);
                Ok(())
            }
            _ => write_each(self, pa, bytes, first, step, count),
        }
    }

    /// Each page becomes one compact junk page with its pointer, a chunk of the page list at a time.
    fn push_pages(&mut self, run: &FreeRun) -> Result<(), MemError> {
        let FreeRun { first, pages, junk, ptr_bytes, .. } = *run;
        let len = pages.checked_mul(PGSIZE).ok_or(MemError { pa: first, len: u64::MAX })?;
        if first < self.base || !(first - self.base).is_multiple_of(PGSIZE) || ptr_bytes > 8 {
            // Not page-aligned (kfree never does that): the plain way.
            return push_each(self, run);
        }
        self.check(first, len)?;
        let start = ((first - self.base) / PGSIZE) as usize;
        let head = |next: u64| {
            let mut h = [junk; 8];
            h[..ptr_bytes as usize].copy_from_slice(&next.to_le_bytes()[..ptr_bytes as usize]);
            h
        };
        let end = start + pages as usize;
        let mut page = start;
        while page < end {
            let chunk = Arc::make_mut(&mut self.chunks[page / CHUNK]);
            let stop = ((page / CHUNK + 1) * CHUNK).min(end);
            for p in page..stop {
                let next = run.next((p - start) as u64);
                chunk[p % CHUNK] = Page::Uniform { fill: junk, head: Some(head(next)) };
            }
            page = stop;
        }
        Ok(())
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
                if !matches!(self.page(page), Page::Uniform { fill, head: None } if *fill == byte) {
                    *self.page_mut(page) = Page::Uniform { fill: byte, head: None };
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
    fn peek_word(&self, pa: u64, bytes: u64) -> Option<u64> {
        self.mem.peek_word(pa, bytes)
    }
    #[inline(always)]
    fn read_word(&self, pa: u64, bytes: u64) -> Result<u64, MemError> {
        self.mem.read_word(pa, bytes)
    }
    fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), MemError> {
        self.mem.read(pa, buf)
    }
    fn uniform(&self, pa: u64, len: u64) -> Option<u8> {
        self.mem.uniform(pa, len)
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
    fn write_words(&mut self, pa: u64, bytes: u64, first: u64, step: u64, count: u64) -> Result<(), MemError> {
        self.mem.write_words(pa, bytes, first, step, count)
    }
    fn push_pages(&mut self, run: &FreeRun) -> Result<(), MemError> {
        self.mem.push_pages(run)
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
    fn a_run_of_one_repeated_byte_is_known_without_reading_it() {
        let mut m = SimMem::new(0x1000, 4 * PGSIZE);
        // Fresh RAM is zero; a range must lie inside one page of RAM.
        assert_eq!(m.uniform(0x1000, PGSIZE), Some(0));
        assert_eq!(m.uniform(0x1ff0, 0x20), None, "across two pages");
        assert_eq!(m.uniform(0x0ff0, 8), None, "below RAM");
        assert_eq!(m.uniform(0x5000, 8), None, "past RAM");
        assert_eq!(m.uniform(0x1000, 0), None, "nothing to know");
        assert_eq!(m.uniform(0x1008, u64::MAX - 4), None, "a length that would wrap past the page");
        // A freed page: junk, then a next pointer in its first four bytes.
        m.fill(0x2000, PGSIZE, 1).unwrap();
        m.write_word(0x2000, 4, 0x8011_e000).unwrap();
        assert_eq!(m.uniform(0x2000, 8), None, "the head holds the pointer");
        assert_eq!(m.uniform(0x2008, 0x100), Some(1));
        // A page with bytes stored is read, not known.
        m.write_word(0x3100, 4, 7).unwrap();
        assert_eq!(m.uniform(0x3000, 4), None);
        // Sim answers as its memory does.
        let mut s = Sim::new(0, 2 * PGSIZE);
        s.fill(PGSIZE, PGSIZE, 5).unwrap();
        assert_eq!((s.uniform(0, 16), s.uniform(PGSIZE + 16, 16)), (Some(0), Some(5)));
    }

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

    #[test]
    fn words_read_inline_or_not_agree_with_bytes() {
        // Three pages: a chunk with room past the end of RAM.
        let mut m = SimMem::new(0x8000_0000, 3 * PGSIZE);
        m.write(0x8000_0ffc, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        // Stored bytes, inline: 4 and 8 bytes.
        assert_eq!(m.read_word(0x8000_1000, 4).unwrap(), 0x0807_0605);
        assert_eq!(m.read_word(0x8000_0ff8, 8).unwrap(), 0x0403_0201_0000_0000);
        // Across the page boundary, and a width that is not 4 or 8.
        assert_eq!(m.read_word(0x8000_0ffe, 4).unwrap(), 0x0605_0403);
        assert_eq!(m.read_word(0x8000_0ffd, 2).unwrap(), 0x0302);
        // A uniform page, with a head.
        m.write_word(0x8000_2000, 4, 0xdead_beef).unwrap();
        assert_eq!(m.read_word(0x8000_2000, 8).unwrap(), 0xdead_beef);
        // Outside RAM: below it, just past its end (inside the last chunk), far past it.
        for pa in [0x7fff_fff8, 0x8000_3000, 0x8000_3ffc, u64::MAX - 3] {
            assert_eq!(m.read_word(pa, 4), Err(MemError { pa, len: 4 }), "{pa:#x}");
        }
        assert!(m.read_word(0x8000_2ffc, 8).is_err(), "the last word of RAM runs past its end");
    }

    /// A memory with only the trait's plain methods (the bare-metal kernel's way).
    struct Plain(SimMem);
    impl PhysMem for Plain {
        fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), MemError> {
            self.0.read(pa, buf)
        }
        fn write(&mut self, pa: u64, data: &[u8]) -> Result<(), MemError> {
            self.0.write(pa, data)
        }
        fn fill(&mut self, pa: u64, len: u64, byte: u8) -> Result<(), MemError> {
            self.0.fill(pa, len, byte)
        }
    }

    fn bytes(m: &impl PhysMem, pa: u64, len: usize) -> Vec<u8> {
        let mut b = vec![0u8; len];
        m.read(pa, &mut b).unwrap();
        b
    }

    #[test]
    fn pushed_pages_read_back_as_kfree_writes_them() {
        // 600 pages (more than two chunks), from page 3: x86-like 4-byte pointers with P2V.
        let (base, size) = (0x10_0000, 700 * PGSIZE);
        let mut fast = SimMem::new(base, size);
        let mut plain = Plain(SimMem::new(base, size));
        let first = base + 3 * PGSIZE;
        let run = FreeRun { first, pages: 600, junk: 1, ptr_bytes: 4, first_next: 0x8000_5000, offset: 0x8000_0000 };
        fast.push_pages(&run).unwrap();
        plain.push_pages(&run).unwrap();
        assert_eq!(bytes(&fast, base, size as usize), bytes(&plain, base, size as usize));
        // Worked by hand: the first page holds the old head, each later one P2V of the page before it.
        assert_eq!(fast.read_word(first, 4).unwrap(), 0x8000_5000);
        assert_eq!(fast.read_word(first + 599 * PGSIZE, 4).unwrap(), 0x8000_0000 + first + 598 * PGSIZE);
        assert_eq!(bytes(&fast, first + 4, 4), [1, 1, 1, 1]);
        assert_eq!(bytes(&fast, first - PGSIZE, 2), [0, 0], "the page before is untouched");
        assert_eq!(fast.materialised_pages(), 0, "free pages stay compact");
        // RISC-V-like: 8-byte physical pointers.
        let mut r = SimMem::new(0x8000_0000, 4 * PGSIZE);
        let run = FreeRun { first: 0x8000_1000, pages: 3, junk: 1, ptr_bytes: 8, first_next: 0, offset: 0 };
        r.push_pages(&run).unwrap();
        assert_eq!(r.read_word(0x8000_3000, 8).unwrap(), 0x8000_2000);
        assert_eq!(r.read_word(0x8000_1000, 8).unwrap(), 0);
        assert!(r.push_pages(&FreeRun { first: 0x8000_3000, pages: 2, ..run }).is_err(), "past the end of RAM");
    }

    #[test]
    fn a_run_of_words_is_written_as_word_by_word() {
        let mut fast = SimMem::new(0, 3 * PGSIZE);
        let mut plain = Plain(SimMem::new(0, 3 * PGSIZE));
        // Inside one page, and across a page boundary (the plain way).
        for m in [&mut fast as &mut dyn PhysMemDyn, &mut plain] {
            m.words(0x10, 4, 0x0011_f007, 0x1000, 5);
            m.words(0xff8, 8, 0x2000_0c01, 0x400, 3);
        }
        assert_eq!(bytes(&fast, 0, 3 * PGSIZE as usize), bytes(&plain, 0, 3 * PGSIZE as usize));
        assert_eq!(fast.read_word(0x10 + 4 * 4, 4).unwrap(), 0x0011_f007 + 4 * 0x1000);
        assert_eq!(fast.read_word(0x1000, 8).unwrap(), 0x2000_0c01 + 0x400);
        assert!(fast.write_words(3 * PGSIZE - 8, 8, 0, 0, 2).is_err());
    }

    #[test]
    fn a_page_of_counting_words_reads_and_changes_as_its_bytes() {
        // x86: 1024 entries of 4 bytes mapping consecutive frames (setupkvm); RISC-V: 512 of 8.
        let base = 0x10_0000;
        let mut fast = SimMem::new(base, 4 * PGSIZE);
        let mut plain = Plain(SimMem::new(base, 4 * PGSIZE));
        fast.write_words(base, 4, 0x0040_0003, PGSIZE, 1024).unwrap();
        plain.write_words(base, 4, 0x0040_0003, PGSIZE, 1024).unwrap();
        fast.write_words(base + PGSIZE, 8, 0x2000_0001, 0x400, 512).unwrap();
        plain.write_words(base + PGSIZE, 8, 0x2000_0001, 0x400, 512).unwrap();
        assert_eq!(fast.materialised_pages(), 0, "two pages of counting words stay compact");
        assert_eq!(bytes(&fast, base, 4 * PGSIZE as usize), bytes(&plain, base, 4 * PGSIZE as usize));
        // Worked by hand: entry 1023 maps frame 0x400 + 0x3ff = 0x7ff; entry 511 of the other holds 0x2000_0001 + 511 · 0x400;
        // entries 2 and 3 (frames 0x402 and 0x403) make the 8 bytes at offset 8.
        assert_eq!(fast.read_word(base + 1023 * 4, 4).unwrap(), 0x007f_f003);
        assert_eq!(fast.read_word(base + PGSIZE + 511 * 8, 8).unwrap(), 0x2000_0001 + 511 * 0x400);
        // Across two words, and a width the page was not written in.
        assert_eq!(fast.read_word(base + 2, 4).unwrap(), 0x1003_0040);
        assert_eq!(fast.read_word(base + 8, 8).unwrap(), 0x0040_3003_0040_2003);
        // A seeded mix of writes, fills, copies and runs on both memories: every byte stays equal.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % m
        };
        for _ in 0..400 {
            let page = base + next(4) * PGSIZE;
            match next(5) {
                0 => {
                    let n = if next(2) == 0 { 4 } else { 8 };
                    let (first, step) = (next(1 << 40), next(1 << 20));
                    let count = if next(2) == 0 { PGSIZE / n } else { 1 + next(PGSIZE / n - 1) };
                    for m in [&mut fast as &mut dyn PhysMemDyn, &mut plain] {
                        m.words(page, n, first, step, count);
                    }
                }
                1 => {
                    let (at, v) = (next(PGSIZE - 8), next(u64::from(u32::MAX)));
                    fast.write_word(page + at, 4, v).unwrap();
                    plain.write_word(page + at, 4, v).unwrap();
                }
                2 => {
                    let (at, len, b) = (next(PGSIZE), 1 + next(PGSIZE), next(256) as u8);
                    let len = len.min(4 * PGSIZE - (page - base) - at);
                    fast.fill(page + at, len, b).unwrap();
                    plain.fill(page + at, len, b).unwrap();
                }
                3 => {
                    let dst = base + next(4) * PGSIZE;
                    fast.copy(dst, page, PGSIZE).unwrap();
                    plain.copy(dst, page, PGSIZE).unwrap();
                }
                _ => {
                    let at = next(PGSIZE - 8);
                    assert_eq!(fast.read_word(page + at, 8), plain.read_word(page + at, 8));
                }
            }
            assert_eq!(bytes(&fast, base, 4 * PGSIZE as usize), bytes(&plain, base, 4 * PGSIZE as usize));
        }
    }

    /// `write_words` behind a trait object, for the test above.
    trait PhysMemDyn {
        fn words(&mut self, pa: u64, bytes: u64, first: u64, step: u64, count: u64);
    }
    impl<T: PhysMem> PhysMemDyn for T {
        fn words(&mut self, pa: u64, bytes: u64, first: u64, step: u64, count: u64) {
            self.write_words(pa, bytes, first, step, count).unwrap();
        }
    }
}
