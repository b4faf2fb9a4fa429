//! `ulib`: the little runtime shared by pagelab's xv6 user programs.
//!
//! There is no libc underneath: only the system call stubs in [`sys`], a few
//! helpers to write strings, the heap allocator in [`umalloc`], and (on x86,
//! where the prebuilt `core` expects libc to supply them) `memcpy`, `memmove`,
//! `memset` and `strlen`.
//!
//! A program defines `#[unsafe(no_mangle)] extern "C" fn main(argc, argv) -> !`,
//! which is also its ELF entry point; it must end with [`exit`].

#![no_std]

pub mod sys;
pub mod umalloc;

#[cfg(target_arch = "x86")]
mod mem;

/// `open` modes (xv6's fcntl.h values).
pub const O_RDONLY: i32 = 0x000;
pub const O_WRONLY: i32 = 0x001;
pub const O_RDWR: i32 = 0x002;
pub const O_CREATE: i32 = 0x200;

/// Ends the process. xv6-public's exit takes no status; xv6-riscv's does.
#[inline(always)]
pub fn exit(status: i32) -> ! {
    #[cfg(target_arch = "x86")]
    {
        let _ = status;
        unsafe { sys::exit() }
    }
    #[cfg(target_arch = "riscv64")]
    unsafe {
        sys::exit(status)
    }
}

/// Waits for any child to exit and returns its pid, or -1 if there is none.
#[inline(always)]
pub fn wait() -> i32 {
    #[cfg(target_arch = "x86")]
    unsafe {
        sys::wait()
    }
    #[cfg(target_arch = "riscv64")]
    unsafe {
        sys::wait(core::ptr::null_mut())
    }
}

/// Writes all of `bytes` to `fd` (a single write; xv6's console and pipes take it whole).
#[inline(never)]
pub fn put(fd: i32, bytes: &[u8]) {
    unsafe {
        sys::write(fd, bytes.as_ptr(), bytes.len() as i32);
    }
}

unsafe extern "C" {
    /// Length of a NUL-terminated string. Provided by [`mem`] on x86 and by
    /// `compiler_builtins` on RISC-V. (A hand-written loop would be turned
    /// into a call to `strlen` by the optimiser anyway.)
    pub fn strlen(s: *const u8) -> usize;
}

/// Writes a NUL-terminated string (without its NUL) to `fd`.
///
/// # Safety
/// `s` must point to a NUL-terminated string.
#[inline(never)]
pub unsafe fn put_cstr(fd: i32, s: *const u8) {
    unsafe {
        sys::write(fd, s, strlen(s) as i32);
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    put(2, b"panic\n");
    exit(1)
}
