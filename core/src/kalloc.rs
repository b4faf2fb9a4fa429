//! The physical page allocator (xv6: `kalloc.c`).
//!
//! As in xv6, the free list lives inside the free pages themselves: the
//! first word of each free page holds a pointer to the next one. On x86 that
//! pointer is a kernel virtual address (`P2V(pa)`, 4 bytes); on RISC-V it is
//! the physical address (8 bytes), since the kernel maps RAM one-to-one.
//! Frames are handed out from the head of the list, so the last page freed
//! is the first allocated — after `freerange` that is the highest page of
//! RAM.
//!
//! Alongside the list, the allocator remembers who each allocated frame
//! belongs to. xv6 does not, but the lab needs it to draw the frame map and
//! to prove that nothing leaks.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::OrPanic as _;
use crate::Panic;
use crate::addr::{PGROUNDUP, PGSIZE, PhysAddr};
use crate::mem::{FreeRun, PhysMem};
use crate::trace::{Event, Owner, Trace};

/// How a port stores its free list and junk-fills pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmemConfig {
    /// Bytes in a `next` pointer (4 on x86, 8 on RISC-V).
    pub ptr_bytes: u64,
    /// Added to a physical address to get the kernel virtual address stored in the list
    /// (`KERNBASE` on x86, 0 on RISC-V).
    pub kva_offset: u64,
    /// First physical address kfree accepts (`V2P(end)`: just past the kernel image).
    pub end: u64,
    /// One past the last physical address kfree accepts (`PHYSTOP`).
    pub phystop: u64,
    /// Byte kfree fills a page with ("to catch dangling refs"): 1 in both ports.
    pub free_junk: u8,
    /// Byte kalloc fills a page with, if any (RISC-V: 5; x86: none).
    pub alloc_junk: Option<u8>,
}

/// The allocator's state (xv6: `struct kmem`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kmem {
    cfg: KmemConfig,
    /// Physical address of the first free page, 0 when the list is empty.
    freelist: u64,
    nfree: u64,
    owners: BTreeMap<u64, Owner>,
    /// Fault injection: fail the kalloc call after this many more succeed.
    fail_after: Option<u64>,
}

impl Kmem {
    /// An allocator with an empty free list.
    ///
    /// # Panics
    /// If `cfg.end` is 0: physical page 0 cannot be on a list that 0 ends.
    #[must_use]
    pub fn new(cfg: KmemConfig) -> Kmem {
        assert!(cfg.end >= PGSIZE, "kinit: end must be above page 0");
        Kmem { cfg, freelist: 0, nfree: 0, owners: BTreeMap::new(), fail_after: None }
    }

    /// Its configuration.
    #[must_use]
    pub fn config(&self) -> &KmemConfig {
        &self.cfg
    }

    /// Physical address of the head of the free list, if any.
    #[must_use]
    pub fn head(&self) -> Option<u64> {
        (self.freelist != 0).then_some(self.freelist)
    }

    /// Pages on the free list (kept as a counter; [`Kmem::countfree`] walks the list).
    #[must_use]
    pub fn nfree(&self) -> u64 {
        self.nfree
    }

    /// Who owns the allocated frame at `pa`, if it is allocated.
    #[must_use]
    pub fn owner(&self, pa: u64) -> Option<Owner> {
        self.owners.get(&pa).copied()
    }

    /// Every allocated frame and its owner, by address.
    pub fn owners(&self) -> impl Iterator<Item = (u64, Owner)> + '_ {
        self.owners.iter().map(|(&pa, &o)| (pa, o))
    }

    /// Give the allocated frame at `pa` a new owner (a shared page changing hands).
    pub fn set_owner(&mut self, pa: u64, owner: Owner) {
        if let Some(o) = self.owners.get_mut(&pa) {
            *o = owner;
        }
    }

    /// Make the kalloc call after `n` more successful ones return 0
    /// (to show how each operation undoes its work when memory runs out).
    pub fn fail_after(&mut self, n: Option<u64>) {
        self.fail_after = n;
    }

    /// The pending fault injection, if any.
    #[must_use]
    pub fn pending_failure(&self) -> Option<u64> {
        self.fail_after
    }

    fn pa_to_ptr(&self, pa: u64) -> u64 {
        if pa == 0 { 0 } else { pa + self.cfg.kva_offset }
    }

    fn ptr_to_pa(&self, p: u64) -> u64 {
        if p == 0 { 0 } else { p.wrapping_sub(self.cfg.kva_offset) }
    }

    fn valid_frame(&self, pa: u64) -> bool {
        pa.is_multiple_of(PGSIZE) && pa >= self.cfg.end && pa < self.cfg.phystop
    }

    /// Push `pa` on the free list: junk-fill it and write the old head into it.
    fn push(&mut self, mem: &mut impl PhysMem, pa: u64) -> Result<(), Panic> {
        // Fill with junk to catch dangling refs.
        mem.fill(pa, PGSIZE, self.cfg.free_junk).or_panic("kfree")?;
        let next = self.pa_to_ptr(self.freelist);
        mem.write_word(pa, self.cfg.ptr_bytes, next).or_panic("kfree")?;
        self.freelist = pa;
        self.nfree += 1;
        Ok(())
    }

    /// Free every page in `[PGROUNDUP(start), end)` in increasing order (xv6: `freerange`).
    ///
    /// # Errors
    /// xv6's `kfree` panic if a page is outside `[end, PHYSTOP)`.
    pub fn freerange(&mut self, mem: &mut impl PhysMem, tr: &mut Trace, start: u64, end: u64) -> Result<(), Panic> {
        let first = PGROUNDUP(start);
        // The pages kfree accepts, in increasing order, up to the first it refuses.
        let mut count = 0;
        let mut p = first;
        while p + PGSIZE <= end && self.valid_frame(p) {
            count += 1;
            p += PGSIZE;
        }
        // Each is junk-filled and points at the one freed before it (the old head for the first).
        let next = self.pa_to_ptr(self.freelist);
        let run = FreeRun {
            first,
            pages: count,
            junk: self.cfg.free_junk,
            ptr_bytes: self.cfg.ptr_bytes,
            first_next: next,
            offset: self.cfg.kva_offset,
        };
        mem.push_pages(&run).or_panic("kfree")?;
        if count > 0 {
            self.freelist = p - PGSIZE;
            self.nfree += count;
        }
        if p + PGSIZE <= end {
            return Err(Panic(format!("kfree: {p:#x} outside [end, PHYSTOP)")));
        }
        if count > 0 {
            tr.push(Event::FreeRange {
                first: crate::addr::PhysAddr::new(first),
                last: crate::addr::PhysAddr::new(p - PGSIZE),
                count,
            });
        }
        Ok(())
    }

    /// Free the page at `pa`, which must have come from [`Kmem::kalloc`] (xv6: `kfree`).
    ///
    /// # Errors
    /// xv6's panic `kfree` for an address that is not a page of free memory, and
    /// pagelab's own check for a page that is already free (xv6 would silently
    /// corrupt its list).
    pub fn kfree(&mut self, mem: &mut impl PhysMem, tr: &mut Trace, pa: PhysAddr) -> Result<(), Panic> {
        let pa = pa.as_u64();
        if !self.valid_frame(pa) {
            return Err(Panic(format!("kfree: {pa:#x} is not a page between end and PHYSTOP")));
        }
        let Some(owner) = self.owners.remove(&pa) else {
            return Err(Panic(format!(
                "kfree: {pa:#x} is already free (pagelab's check: xv6 would put it on the list twice)"
            )));
        };
        self.push(mem, pa)?;
        tr.kfree(pa, owner);
        Ok(())
    }

    /// Take the page at the head of the free list for `owner` (xv6: `kalloc`).
    ///
    /// Returns `None` when the list is empty (xv6 returns 0), after recording
    /// [`Event::KallocFailed`].
    pub fn kalloc(&mut self, mem: &mut impl PhysMem, tr: &mut Trace, owner: Owner) -> Option<PhysAddr> {
        let inject = match self.fail_after {
            Some(0) => {
                self.fail_after = None;
                true
            }
            Some(n) => {
                self.fail_after = Some(n - 1);
                false
            }
            None => false,
        };
        let r = self.freelist;
        if r == 0 || inject {
            if inject {
                tr.note(|| "pagelab makes this kalloc fail, as if memory had run out".into());
            }
            tr.push(Event::KallocFailed);
            return None;
        }
        // A broken list (only possible if a page was corrupted) reads as empty.
        let next = match mem.read_word(r, self.cfg.ptr_bytes) {
            Ok(p) => self.ptr_to_pa(p),
            Err(_) => 0,
        };
        if next != 0 && !self.valid_frame(next) {
            tr.fail(format!("kalloc: the free list is corrupt ({next:#x} after {r:#x})"));
            self.freelist = 0;
        } else {
            self.freelist = next;
        }
        self.nfree -= 1;
        if let Some(j) = self.cfg.alloc_junk {
            // Fill with junk (xv6-riscv).
            let _ = mem.fill(r, PGSIZE, j);
        }
        self.owners.insert(r, owner);
        tr.kalloc(r, owner);
        Some(PhysAddr::new(r))
    }

    /// The free list from its head, following the pointers stored in the
    /// pages, as an iterator of physical addresses. It ends at a null pointer,
    /// at a pointer that is not a frame of the free range, or at a read that
    /// fails; it does not stop by itself on a cyclic list (see [`Kmem::countfree`]).
    pub fn free_pages<'a, M: PhysMem + ?Sized>(&'a self, mem: &'a M) -> impl Iterator<Item = u64> + 'a {
        let mut p = self.freelist;
        core::iter::from_fn(move || {
            if p == 0 {
                return None;
            }
            let here = p;
            p = match mem.read_word(p, self.cfg.ptr_bytes) {
                Ok(n) => self.ptr_to_pa(n),
                Err(_) => 0,
            };
            if p != 0 && !self.valid_frame(p) {
                p = 0;
            }
            Some(here)
        })
    }

    /// The free list from its head, at most `limit` entries (physical addresses).
    #[must_use]
    pub fn freelist(&self, mem: &(impl PhysMem + ?Sized), limit: usize) -> Vec<u64> {
        self.free_pages(mem).take(limit).collect()
    }

    /// The most pages a walk of the free list can meet before it must be
    /// going round a cycle: every frame of the free range, and one more.
    fn most_free(&self) -> usize {
        ((self.cfg.phystop - self.cfg.end) / PGSIZE + 1) as usize
    }

    /// Count the pages on the free list by walking it (xv6 usertests: `countfree`).
    ///
    /// Stops after more pages than RAM holds, so a corrupt (cyclic) list still ends.
    #[must_use]
    pub fn countfree(&self, mem: &(impl PhysMem + ?Sized)) -> u64 {
        self.free_pages(mem).take(self.most_free()).count() as u64
    }

    /// Where the free frame `pa` is on the free list (0: the head), walking
    /// no further than it; `None` if the list does not hold it.
    #[must_use]
    pub fn free_position(&self, mem: &(impl PhysMem + ?Sized), pa: u64) -> Option<usize> {
        self.free_pages(mem).take(self.most_free()).position(|p| p == pa)
    }

    /// The value stored in the free page at `pa` as its `next` pointer, as xv6 stores it.
    #[must_use]
    pub fn stored_next(&self, mem: &(impl PhysMem + ?Sized), pa: u64) -> Option<u64> {
        mem.read_word(pa, self.cfg.ptr_bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::SimMem;
    use alloc::vec;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn x86_like() -> (SimMem, Kmem) {
        let cfg = KmemConfig {
            ptr_bytes: 4,
            kva_offset: 0x8000_0000,
            end: 0x0011_5000,
            phystop: 0x0012_0000,
            free_junk: 1,
            alloc_junk: None,
        };
        (SimMem::new(0, 0x0012_0000), Kmem::new(cfg))
    }

    #[test]
    fn last_freed_is_first_allocated_and_next_lives_in_the_page() {
        let (mut m, mut k) = x86_like();
        let mut t = Trace::new();
        // freerange(end, PHYSTOP): 0x115000 .. 0x11f000, 11 pages.
        k.freerange(&mut m, &mut t, 0x0011_4abc, 0x0012_0000).unwrap();
        assert_eq!(k.nfree(), 11);
        assert_eq!(k.countfree(&m), 11);
        assert_eq!(k.head(), Some(0x0011_f000));
        // The head page holds P2V of the next page, junk after it.
        assert_eq!(k.stored_next(&m, 0x0011_f000), Some(0x8011_e000));
        let mut b = [0u8; 2];
        m.read(0x0011_f000 + 4, &mut b).unwrap();
        assert_eq!(b, [1, 1]);
        // The first page freed ends the list with a null pointer.
        assert_eq!(k.stored_next(&m, 0x0011_5000), Some(0));
        let a = k.kalloc(&mut m, &mut t, Owner::User { pid: 1 }).unwrap();
        let b2 = k.kalloc(&mut m, &mut t, Owner::User { pid: 1 }).unwrap();
        assert_eq!((a.as_u64(), b2.as_u64()), (0x0011_f000, 0x0011_e000));
        k.kfree(&mut m, &mut t, a).unwrap();
        assert_eq!(k.head(), Some(a.as_u64()));
        assert_eq!(k.stored_next(&m, a.as_u64()), Some(0x8011_d000));
        assert_eq!(k.countfree(&m), 10);
    }

    #[test]
    fn a_free_frame_has_a_position_from_the_head_and_a_cycle_still_ends() {
        let (mut m, mut k) = x86_like();
        let mut t = Trace::new();
        k.freerange(&mut m, &mut t, 0x0011_5000, 0x0012_0000).unwrap();
        // freerange frees upwards, so the list runs down from 0x11f000: position i holds 0x11f000 - i pages.
        assert_eq!(k.free_position(&m, 0x0011_f000), Some(0));
        assert_eq!(k.free_position(&m, 0x0011_c000), Some(3));
        assert_eq!(k.free_position(&m, 0x0011_5000), Some(10));
        assert_eq!(k.free_position(&m, 0x0011_4000), None, "below end: never on the list");
        let a = k.kalloc(&mut m, &mut t, Owner::User { pid: 1 }).unwrap();
        assert_eq!(k.free_position(&m, a.as_u64()), None, "allocated");
        assert_eq!(k.free_position(&m, 0x0011_5000), Some(9));
        // A corrupt list that points back at its own head: the walks still end.
        m.write_word(0x0011_5000, 4, 0x8011_e000).unwrap();
        assert_eq!(k.countfree(&m), 12, "every frame of the range and one more");
        assert_eq!(k.free_position(&m, 0x0011_4000), None);
        assert_eq!(k.freelist(&m, 3), vec![0x0011_e000, 0x0011_d000, 0x0011_c000]);
    }

    #[test]
    fn kfree_checks_like_xv6_and_catches_double_frees() {
        let (mut m, mut k) = x86_like();
        let mut t = Trace::new();
        k.freerange(&mut m, &mut t, 0x0011_5000, 0x0012_0000).unwrap();
        let a = k.kalloc(&mut m, &mut t, Owner::User { pid: 1 }).unwrap();
        assert!(k.kfree(&mut m, &mut t, a + 4).is_err(), "unaligned");
        assert!(k.kfree(&mut m, &mut t, PhysAddr::new(0x0011_4000)).is_err(), "below end");
        assert!(k.kfree(&mut m, &mut t, PhysAddr::new(0x0012_0000)).is_err(), "at PHYSTOP");
        k.kfree(&mut m, &mut t, a).unwrap();
        assert!(k.kfree(&mut m, &mut t, a).is_err(), "double free");
        assert_eq!(k.countfree(&m), 11);
    }

    #[test]
    fn an_empty_list_and_injected_failures_return_none() {
        let (mut m, mut k) = x86_like();
        let mut t = Trace::new();
        k.freerange(&mut m, &mut t, 0x0011_e000, 0x0012_0000).unwrap();
        k.fail_after(Some(1));
        assert!(k.kalloc(&mut m, &mut t, Owner::User { pid: 1 }).is_some());
        assert!(k.kalloc(&mut m, &mut t, Owner::User { pid: 1 }).is_none());
        assert!(k.kalloc(&mut m, &mut t, Owner::User { pid: 1 }).is_some());
        assert!(k.kalloc(&mut m, &mut t, Owner::User { pid: 1 }).is_none());
        assert_eq!(k.nfree(), 0);
    }
}
