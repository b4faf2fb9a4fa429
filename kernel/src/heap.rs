//! The kernel's heap: the core allocates its process table, its frame
//! owners and its temporary vectors here (`alloc`).
//!
//! A deliberately simple allocator: block sizes are powers of two from 16
//! bytes to 1 MB, each with its own free list; a block that is freed goes on
//! its list and is reused by the next request of the same size. New blocks
//! are cut from a fixed region in `.bss`, inside the kernel image (below the
//! symbol `end`), so the core never hands these pages out as free memory.
//! Nothing is ever given back to the region: fine for a kernel that runs one
//! short scenario, and easy to read.
//!
//! The kernel runs on one CPU with interrupts off, so nothing can enter the
//! allocator twice at the same time.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;

/// Bytes in the heap region.
pub const HEAP_SIZE: usize = 512 << 10;
/// Smallest block: 2^4 = 16 bytes.
const MIN_SHIFT: usize = 4;
/// Largest block: 2^20 = 1 MB.
const MAX_SHIFT: usize = 20;
/// Number of size classes.
const NCLASS: usize = MAX_SHIFT - MIN_SHIFT + 1;

/// The region new blocks are cut from.
#[repr(C, align(4096))]
struct Region(UnsafeCell<[u8; HEAP_SIZE]>);

/// The allocator's bookkeeping.
struct State {
    /// Offset of the first byte never handed out.
    next: usize,
    /// Head of each size class's free list (0: empty). A free block holds
    /// the address of the next free block of its class in its first word.
    free: [usize; NCLASS],
    /// Bytes in blocks now in use.
    in_use: usize,
    /// The most bytes ever in use at once.
    peak: usize,
}

/// The kernel heap (the `#[global_allocator]`).
pub struct Heap {
    /// Where blocks come from.
    region: Region,
    /// The bookkeeping.
    state: UnsafeCell<State>,
}

// Safety: the kernel is single-threaded with interrupts off (see the module
// documentation), so the cells are never accessed from two places at once.
unsafe impl Sync for Heap {}

/// The one heap.
#[global_allocator]
static HEAP: Heap = Heap {
    region: Region(UnsafeCell::new([0; HEAP_SIZE])),
    state: UnsafeCell::new(State { next: 0, free: [0; NCLASS], in_use: 0, peak: 0 }),
};

/// The size class (log2 of the block size) for `layout`, or None if too big.
fn class_of(layout: Layout) -> Option<usize> {
    let need = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
    let shift = need.next_power_of_two().trailing_zeros() as usize;
    (shift <= MAX_SHIFT).then_some(shift)
}

// Safety: alloc returns null or a block of at least layout.size() bytes,
// aligned to layout.align(), that no other live allocation overlaps; dealloc
// takes back only what alloc gave, with the same layout.
unsafe impl GlobalAlloc for Heap {
    /// A block for `layout`, or null when the region is used up.
    ///
    /// # Safety
    /// `layout` has a non-zero size (GlobalAlloc's contract).
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(shift) = class_of(layout) else { return ptr::null_mut() };
        let size = 1usize << shift;
        // Safety: single-threaded, interrupts off: no other reference to the state exists now.
        let st = unsafe { &mut *self.state.get() };
        let c = shift - MIN_SHIFT;
        let block = if st.free[c] != 0 {
            let b = st.free[c];
            // Safety: b is a free block of this class, which holds the next one in its first word.
            st.free[c] = unsafe { ptr::read(b as *const usize) };
            b as *mut u8
        } else {
            // Blocks are aligned to their size (at most a page), which covers layout.align().
            let base = self.region.0.get() as usize;
            let start = (base + st.next).next_multiple_of(size.min(4096));
            if start + size > base + HEAP_SIZE {
                return ptr::null_mut();
            }
            st.next = start + size - base;
            start as *mut u8
        };
        st.in_use += size;
        st.peak = st.peak.max(st.in_use);
        block
    }

    /// Put the block back on its size class's free list.
    ///
    /// # Safety
    /// `p` came from `alloc` with this same `layout` and is not used any more.
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        let Some(shift) = class_of(layout) else { return };
        // Safety: single-threaded, interrupts off: no other reference to the state exists now.
        let st = unsafe { &mut *self.state.get() };
        let c = shift - MIN_SHIFT;
        // Safety: p is a block of this class that the caller no longer uses; its first word is ours.
        unsafe { ptr::write(p as *mut usize, st.free[c]) };
        st.free[c] = p as usize;
        st.in_use -= 1 << shift;
    }
}

/// Bytes of the region cut so far, and the most ever in use at once.
pub fn usage() -> (usize, usize) {
    // Safety: single-threaded, interrupts off: nothing allocates while we read.
    let st = unsafe { &*HEAP.state.get() };
    (st.next, st.peak)
}
