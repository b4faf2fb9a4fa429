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

/// Writes each of `bytes` to `fd` with a write of its own, as xv6's printf
/// does: its `putc(fd, c)` is `write(fd, &c, 1)`, the byte in `putc`'s own
/// stack frame.
#[inline(never)]
pub fn putc_each(fd: i32, bytes: &[u8]) {
    for &b in bytes {
        putc(fd, b);
    }
}

/// `write(fd, &c, 1)`, `c` on this function's stack, as xv6's `putc`.
#[inline(never)]
fn putc(fd: i32, c: u8) {
    let c = core::hint::black_box(c);
    unsafe {
        sys::write(fd, &raw const c, 1);
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

/// The digits of numbers printed by [`put_uint`]. Like the `digits` table
/// of xv6's printf.c, it lives in writable data, and, as xv6 links all of
/// its user library into every program, the linker scripts keep ulib's data
/// (`.data.ulib`) in every program, used or not: each program has a data
/// segment, as xv6's do.
#[unsafe(link_section = ".data.ulib")]
#[used]
static mut DIGITS: [u8; 16] = *b"0123456789abcdef";

/// Writes `n` in `base` (2 to 16) to `fd`, a byte a write (for [`fprintf`]).
fn put_uint_each(fd: i32, n: u32, base: u32) {
    let mut buf = [0u8; 32];
    let i = uint_digits(&mut buf, n, base);
    putc_each(fd, &buf[i..]);
}

/// The digits of `n` in `base` at the end of `buf`; returns where they start.
fn uint_digits(buf: &mut [u8; 32], mut n: u32, base: u32) -> usize {
    let mut i = buf.len();
    let digits = unsafe { &*core::ptr::addr_of!(DIGITS) };
    loop {
        i -= 1;
        buf[i] = digits[(n % base) as usize];
        n /= base;
        if n == 0 {
            break;
        }
    }
    i
}

/// Writes `n` in `base` (2 to 16) to `fd`.
#[inline(never)]
pub fn put_uint(fd: i32, n: u32, base: u32) {
    let mut buf = [0u8; 32];
    let i = uint_digits(&mut buf, n, base);
    put(fd, &buf[i..]);
}

/// One argument of [`fprintf`].
#[derive(Clone, Copy)]
pub enum Arg {
    /// For `%d`: a signed number.
    Int(i32),
    /// For `%x` and `%u`: an unsigned number.
    Uint(u32),
    /// For `%p`: an address.
    Ptr(usize),
    /// For `%s`: a NUL-terminated string.
    Str(*const u8),
    /// For `%c`: one byte.
    Char(u8),
}

/// Writes `fmt` to `fd`, each `%d`, `%u`, `%x`, `%p`, `%s` or `%c` replaced
/// by the next of `args` (`%%` is a `%`), like xv6's `fprintf`. A directive
/// without a matching argument, or an unknown one, is written as it is.
///
/// # Safety
/// Every [`Arg::Str`] must point to a NUL-terminated string.
#[inline(never)]
pub unsafe fn fprintf(fd: i32, fmt: &[u8], args: &[Arg]) {
    let mut next = args.iter();
    let mut i = 0;
    while i < fmt.len() {
        let start = i;
        while i < fmt.len() && fmt[i] != b'%' {
            i += 1;
        }
        if i > start {
            putc_each(fd, &fmt[start..i]);
        }
        if i + 1 >= fmt.len() {
            if i < fmt.len() {
                putc_each(fd, b"%");
            }
            break;
        }
        let c = fmt[i + 1];
        i += 2;
        match (c, next.clone().next()) {
            (b'%', _) => putc_each(fd, b"%"),
            (b'd', Some(Arg::Int(n))) => {
                if *n < 0 {
                    putc_each(fd, b"-");
                }
                put_uint_each(fd, n.unsigned_abs(), 10);
            }
            (b'u', Some(Arg::Uint(n))) => put_uint_each(fd, *n, 10),
            (b'x', Some(Arg::Uint(n))) => put_uint_each(fd, *n, 16),
            (b'p', Some(Arg::Ptr(p))) => {
                putc_each(fd, b"0x");
                // A pointer in hex, every digit (8 on x86, 16 on RISC-V).
                let digits = unsafe { &*core::ptr::addr_of!(DIGITS) };
                let mut k = usize::BITS;
                while k > 0 {
                    k -= 4;
                    putc_each(fd, &[digits[(*p >> k) & 15]]);
                }
            }
            (b's', Some(Arg::Str(s))) => unsafe { putc_each(fd, core::slice::from_raw_parts(*s, strlen(*s))) },
            (b'c', Some(Arg::Char(b))) => putc_each(fd, &[*b]),
            _ => {
                putc_each(fd, &[b'%', c]);
                continue;
            }
        }
        if c != b'%' {
            next.next();
        }
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    put(2, b"panic\n");
    exit(1)
}
