//! deep: calls itself, each call with a kilobyte of stack, until the stack
//! runs out. xv6 gives a process one page of stack with a guard page below
//! it that user code may not touch (its PTE has no user bit): the call that
//! reaches the guard page faults, and the kernel kills the process. Each
//! call first prints its depth and where its kilobyte starts.

#![no_std]
#![no_main]

use ulib::{exit, put, put_uint};

/// One call: a kilobyte of stack, its depth and address printed, then the
/// next call. The frame is read after the call returns, so the compiler
/// can neither drop it nor turn the recursion into a loop.
// It is meant never to return: the stack runs out.
#[allow(unconditional_recursion)]
#[inline(never)]
fn dive(depth: u32) -> u32 {
    let mut frame = [0u8; 1024];
    let at = frame.as_mut_ptr();
    // Safety: `at` points into `frame`, which lives until the end of this call.
    unsafe { core::ptr::write_volatile(at, depth as u8) };
    put(1, b"deep: depth ");
    put_uint(1, depth, 10);
    put(1, b", a kilobyte of stack from 0x");
    put_uint(1, at as usize as u32, 16);
    put(1, b"\n");
    let below = dive(depth + 1);
    // Safety: as above.
    below + u32::from(unsafe { core::ptr::read_volatile(at) })
}

#[unsafe(no_mangle)]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> ! {
    let n = dive(1);
    // Never reached: the stack runs out first.
    put_uint(1, n, 10);
    exit(0)
}
