//! The TLB: each CPU's cache of translations, as the hardware xv6 runs on
//! keeps one.
//!
//! A user load or store looks here first. A hit uses the cached entry and
//! reads no page-table entry; a miss walks the table, checks the access,
//! sets the accessed (and dirty) bits, and fills an entry. Nothing in the
//! TLB changes when a page-table entry changes: only a flush empties it.
//! On x86 loading CR3 (`lcr3` in `switchuvm` and `switchkvm`) flushes it;
//! on RISC-V `sfence.vma` does (in `kvminithart`, and in the trampoline on
//! the way into and out of the kernel). So between a change to a table and
//! the next flush, the CPU may still use the old translation.
//!
//! pagelab's model, stated so a learner can work it by hand:
//! - a fixed number of entries (64 unless the preset line says `tlb=N`),
//!   any entry can hold any page (fully associative);
//! - a fill replaces the entry for the same page if there is one, else
//!   takes the lowest empty slot, else replaces slots in turn from slot 0
//!   (round robin: the oldest fill goes first);
//! - only an access that is allowed is cached; a hit whose cached bits do
//!   not allow the access faults and the entry is dropped (x86 drops it;
//!   pagelab does the same on RISC-V);
//! - a store through an entry whose dirty bit is clear walks again, to set
//!   the dirty bit, and refills the entry;
//! - xv6 uses no global pages, PCIDs or ASIDs, so a flush empties every entry.
//!
//! Real TLBs are set-associative with pseudo-LRU replacement, and split
//! instruction and data entries; those details change which entry goes
//! first, never whether a stale entry can be used before a flush.

use alloc::vec;
use alloc::vec::Vec;
use serde::Serialize;

use crate::addr::{PhysAddr, VirtAddr};
use crate::scheme::{Access, AccessKind, FaultKind, Scheme};

/// What a hit on an entry does for an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serve {
    /// The MMU uses the cached translation: no walk.
    Use,
    /// A store through an entry whose dirty bit is clear: the MMU walks again to set it.
    DirtyWalk,
    /// The cached bits refuse the access: it faults, and the entry is dropped.
    Refuse(FaultKind),
}

/// Entries in a TLB unless the preset line says otherwise (a typical
/// x86 level-1 data TLB holds 64 translations of 4 KiB pages).
pub const DEFAULT_ENTRIES: u32 = 64;

/// The most entries a preset may ask for.
pub const MAX_ENTRIES: u32 = 4096;

/// One cached translation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlbEntry {
    /// The first virtual address of the page.
    pub va: VirtAddr,
    /// The page's size (4 KiB, or a large page).
    pub page_size: u64,
    /// The frame it maps to.
    pub frame: PhysAddr,
    /// The page-table entries the walk read, root first, as they were after
    /// it set the accessed and dirty bits: the permissions a hit checks.
    pub entries: Vec<u64>,
    /// The table the walk started from (CR3 / satp's page).
    pub root: PhysAddr,
}

impl TlbEntry {
    /// True if `va` lies in this entry's page.
    #[must_use]
    pub fn covers(&self, va: u64) -> bool {
        va.wrapping_sub(self.va.as_u64()) < self.page_size
    }

    /// The physical address of `va` through this entry.
    #[must_use]
    pub fn pa_of(&self, va: u64) -> PhysAddr {
        self.frame + (va - self.va.as_u64())
    }

    /// What a hit on this entry does for `access`, by scheme `S`'s checks
    /// on the cached entries.
    #[must_use]
    pub fn serve<S: Scheme>(&self, access: Access) -> Serve {
        match S::check(&self.entries, access) {
            Err(kind) => Serve::Refuse(kind),
            Ok(()) if access.kind == AccessKind::Write && self.entries.last().is_some_and(|l| l & S::DIRTY == 0) => {
                Serve::DirtyWalk
            }
            Ok(()) => Serve::Use,
        }
    }
}

/// One CPU's TLB.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tlb {
    slots: Vec<Option<TlbEntry>>,
    /// The slot the next fill replaces when no slot is empty.
    next: usize,
}

impl Tlb {
    /// An empty TLB of `entries` slots (at least one).
    #[must_use]
    pub fn new(entries: u32) -> Tlb {
        Tlb { slots: vec![None; entries.max(1) as usize], next: 0 }
    }

    /// Every slot, empty or not, in order.
    #[must_use]
    pub fn slots(&self) -> &[Option<TlbEntry>] {
        &self.slots
    }

    /// How many slots hold a translation.
    #[must_use]
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// True if no slot holds a translation.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slot holding a translation of `va`, if one does.
    #[must_use]
    pub fn lookup(&self, va: u64) -> Option<(usize, &TlbEntry)> {
        self.slots.iter().enumerate().find_map(|(i, s)| s.as_ref().filter(|e| e.covers(va)).map(|e| (i, e)))
    }

    /// The slot a fill of the page at `page` would take: the one holding
    /// that page already, else the lowest empty slot, else the next in turn.
    /// The second value is true when that slot holds another page now.
    #[must_use]
    pub fn slot_for(&self, page: VirtAddr) -> (usize, bool) {
        if let Some(i) = self.slots.iter().position(|s| s.as_ref().is_some_and(|e| e.va == page)) {
            return (i, false);
        }
        match self.slots.iter().position(Option::is_none) {
            Some(i) => (i, false),
            None => (self.next, true),
        }
    }

    /// Cache `entry` in the slot [`Tlb::slot_for`] names. Returns the slot
    /// and the translation it pushed out, if any.
    pub fn fill(&mut self, entry: TlbEntry) -> (usize, Option<TlbEntry>) {
        let (slot, evicts) = self.slot_for(entry.va);
        if evicts {
            self.next = (self.next + 1) % self.slots.len();
        }
        let old = self.slots[slot].replace(entry);
        (slot, if evicts { old } else { None })
    }

    /// Drop the translation of `va`'s page, if cached. Returns its slot.
    pub fn invalidate(&mut self, va: u64) -> Option<usize> {
        let i = self.lookup(va)?.0;
        self.slots[i] = None;
        Some(i)
    }

    /// Empty every slot (a full flush). Returns how many translations it dropped.
    pub fn flush(&mut self) -> usize {
        let n = self.len();
        self.slots.iter_mut().for_each(|s| *s = None);
        self.next = 0;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn entry(va: u64, frame: u64) -> TlbEntry {
        TlbEntry {
            va: VirtAddr::new(va),
            page_size: 4096,
            frame: PhysAddr::new(frame),
            entries: vec![7, frame | 7],
            root: PhysAddr::new(0x1000),
        }
    }

    #[test]
    fn fills_take_empty_slots_then_replace_in_turn() {
        let mut t = Tlb::new(2);
        assert_eq!(t.fill(entry(0x0, 0xa000)), (0, None));
        assert_eq!(t.fill(entry(0x1000, 0xb000)), (1, None));
        // Full: slot 0 goes first, then slot 1.
        let (slot, out) = t.fill(entry(0x2000, 0xc000));
        assert_eq!((slot, out.map(|e| e.va.as_u64())), (0, Some(0x0)));
        let (slot, out) = t.fill(entry(0x3000, 0xd000));
        assert_eq!((slot, out.map(|e| e.va.as_u64())), (1, Some(0x1000)));
        // Refilling a cached page keeps its slot and pushes nothing out.
        assert_eq!(t.fill(entry(0x2000, 0xe000)), (0, None));
        assert_eq!(t.lookup(0x2abc).map(|(i, e)| (i, e.pa_of(0x2abc).as_u64())), Some((0, 0xeabc)));
    }

    #[test]
    fn lookup_invalidate_and_flush() {
        let mut t = Tlb::new(4);
        t.fill(entry(0x5000, 0xa000));
        t.fill(entry(0x7000, 0xb000));
        assert_eq!(t.lookup(0x5fff).map(|(i, _)| i), Some(0));
        assert!(t.lookup(0x6000).is_none());
        assert_eq!(t.invalidate(0x5004), Some(0));
        assert_eq!(t.invalidate(0x5004), None);
        // The freed slot is the lowest empty one.
        assert_eq!(t.fill(entry(0x9000, 0xc000)).0, 0);
        assert_eq!(t.flush(), 2);
        assert!(t.is_empty());
        assert_eq!(t.fill(entry(0x9000, 0xc000)).0, 0);
    }
}
