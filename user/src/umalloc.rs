//! A first-fit heap allocator in the style of Kernighan & Ritchie, as used by
//! xv6's user library.
//!
//! Free blocks form a circular list sorted by address. Every block, free or
//! allocated, starts with a [`Header`]; sizes are counted in header-sized
//! units and include the header itself. When no free block is big enough the
//! heap grows through `sbrk`, never by less than [`MIN_GROW`] units. With an
//! 8-byte header on x86 that is 32 KiB (8 pages); on RISC-V the header is 16
//! bytes (pointer plus padded uint), hence 64 KiB. So the very first `malloc`
//! of a fresh process always moves the break by that much.

use core::mem::size_of;
use core::ptr::{self, null_mut};

use crate::sys;

/// Block header: the next free block (only meaningful while the block is
/// free) and the block size in units. `repr(C)` gives 8 bytes on x86 and 16
/// (8 + 4 + 4 padding) on RISC-V, like xv6's header union.
#[repr(C)]
struct Header {
    next: *mut Header,
    units: u32,
}

/// The heap never grows by less than this many header units.
pub const MIN_GROW: usize = 4096;

/// A zero-sized block that anchors the list before the first `sbrk`.
/// (In `.bss.ulib`: kept in every program, like xv6's umalloc.o; see `DIGITS` in lib.rs.)
#[unsafe(link_section = ".bss.ulib")]
#[used]
static mut ANCHOR: Header = Header { next: null_mut(), units: 0 };
/// Where the next search starts (null until the first `malloc`).
#[unsafe(link_section = ".bss.ulib")]
#[used]
static mut ROVER: *mut Header = null_mut();

/// Returns a block obtained from [`malloc`] to the free list, merging it with
/// its neighbours when they touch.
///
/// # Safety
/// `ap` must come from [`malloc`] and not have been freed already.
pub unsafe fn free(ap: *mut u8) {
    unsafe {
        let blk = (ap as *mut Header).sub(1);
        // Find `p` with p < blk < p.next; at the highest-addressed block the
        // list wraps around, and blk may sit beyond either end.
        let mut p = ROVER;
        while !(blk > p && blk < (*p).next) {
            if p >= (*p).next && (blk > p || blk < (*p).next) {
                break;
            }
            p = (*p).next;
        }
        let after = (*p).next;
        if blk.add((*blk).units as usize) == after {
            (*blk).units += (*after).units;
            (*blk).next = (*after).next;
        } else {
            (*blk).next = after;
        }
        if p.add((*p).units as usize) == blk {
            (*p).units += (*blk).units;
            (*p).next = (*blk).next;
        } else {
            (*p).next = blk;
        }
        ROVER = p;
    }
}

/// Asks the kernel for at least `units` more units and frees them into the list.
unsafe fn grow(units: usize) -> *mut Header {
    let units = if units < MIN_GROW { MIN_GROW } else { units };
    unsafe {
        let mem = sys::sbrk((units * size_of::<Header>()) as i32);
        if mem as isize == -1 {
            return null_mut();
        }
        let blk = mem as *mut Header;
        (*blk).units = units as u32;
        free(blk.add(1) as *mut u8);
        ROVER
    }
}

/// Allocates `nbytes` bytes, or returns null when the heap cannot grow.
///
/// # Safety
/// Single-threaded use only (xv6 processes have one thread).
pub unsafe fn malloc(nbytes: usize) -> *mut u8 {
    let hsize = size_of::<Header>();
    let units = nbytes.div_ceil(hsize) + 1;
    unsafe {
        let mut prev = ROVER;
        if prev.is_null() {
            let anchor = &raw mut ANCHOR;
            (*anchor).next = anchor;
            (*anchor).units = 0;
            ROVER = anchor;
            prev = anchor;
        }
        let mut p = (*prev).next;
        loop {
            if (*p).units as usize >= units {
                if (*p).units as usize == units {
                    (*prev).next = (*p).next;
                } else {
                    // Carve the allocation off the tail of the free block.
                    (*p).units -= units as u32;
                    p = p.add((*p).units as usize);
                    (*p).units = units as u32;
                }
                ROVER = prev;
                return p.add(1) as *mut u8;
            }
            if p == ROVER {
                p = grow(units);
                if p.is_null() {
                    return null_mut();
                }
            }
            prev = p;
            p = (*p).next;
        }
    }
}

/// Like [`malloc`], but the memory is zeroed.
///
/// # Safety
/// As for [`malloc`].
pub unsafe fn zalloc(nbytes: usize) -> *mut u8 {
    unsafe {
        let p = malloc(nbytes);
        if !p.is_null() {
            ptr::write_bytes(p, 0, nbytes);
        }
        p
    }
}
