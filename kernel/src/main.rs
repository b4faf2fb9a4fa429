//! # pagelab-kernel
//!
//! A small bare-metal kernel that links `pagelab-core` unchanged and lets the
//! emulated hardware walk the page tables the core builds. It boots under
//! QEMU on two machines:
//!
//! - **x86** (`qemu-system-i386`, Multiboot): two-level paging exactly as
//!   xv6-public, KERNBASE 0x80000000, the kernel page directory made by the
//!   core's `kvmalloc`;
//! - **RISC-V** (`qemu-system-riscv64 -machine virt`): Sv39 as xv6-riscv, the
//!   kernel page table made by the core's `kvmmake`, a trampoline page for
//!   the way in and out of user space.
//!
//! What it does is the same on both ([`lab`]): boot the core over real RAM,
//! make the first process and let it run `initcode` in user mode, fork, exec
//! `echo hello world`, print the page table and the stack exactly as the
//! command-line runner prints them, check the hardware against the core's
//! software walk, run `echo` in user mode, and check that fork, sbrk, exit
//! and wait give every page back. The verdict goes to QEMU's exit code.
//!
//! See `kernel/README.md` for how to build, boot and debug it.
#![cfg_attr(any(target_arch = "x86", target_arch = "riscv64"), no_std, no_main)]
#![warn(missing_docs, clippy::missing_docs_in_private_items)]

#[cfg(any(target_arch = "x86", target_arch = "riscv64"))]
extern crate alloc;

#[cfg(any(target_arch = "x86", target_arch = "riscv64"))]
#[macro_use]
mod console;
#[cfg(any(target_arch = "x86", target_arch = "riscv64"))]
mod heap;
#[cfg(any(target_arch = "x86", target_arch = "riscv64"))]
mod lab;
#[cfg(any(target_arch = "x86", target_arch = "riscv64"))]
mod programs;

#[cfg(target_arch = "riscv64")]
mod riscv;
#[cfg(target_arch = "x86")]
mod x86;

/// The machine this build runs on.
#[cfg(target_arch = "x86")]
use x86 as arch;

#[cfg(target_arch = "riscv64")]
use riscv as arch;

/// On a panic: say where, and end QEMU with the failure code.
#[cfg(any(target_arch = "x86", target_arch = "riscv64"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    kprintln!("panic: {}", info);
    kprintln!("pagelab-kernel: FAIL (panic)");
    arch::exit_qemu(false)
}

/// A host build of the workspace compiles this stub instead of the kernel.
#[cfg(not(any(target_arch = "x86", target_arch = "riscv64")))]
fn main() {
    println!("pagelab-kernel is a bare-metal kernel: build it with kernel/build.sh and boot it with kernel/run.sh");
}
