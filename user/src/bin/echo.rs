//! echo: prints its arguments, separated by single spaces, then a newline
//! (nothing at all when it has none), as each xv6's echo.c.

#![no_std]
#![no_main]

use ulib::exit;

#[unsafe(no_mangle)]
extern "C" fn main(argc: i32, argv: *const *const u8) -> ! {
    for i in 1..argc as usize {
        let last = i + 1 == argc as usize;
        unsafe { say(*argv.add(i), last) };
    }
    exit(0)
}

/// One argument and what follows it. xv6-public's echo prints both with
/// `printf(1, "%s%s", ...)`: a write a byte.
///
/// # Safety
/// `arg` is a NUL-terminated string.
#[cfg(target_arch = "x86")]
unsafe fn say(arg: *const u8, last: bool) {
    use ulib::{Arg, fprintf};
    let after = if last { c"\n" } else { c" " };
    unsafe { fprintf(1, b"%s%s", &[Arg::Str(arg), Arg::Str(after.as_ptr().cast())]) };
}

/// One argument and what follows it. xv6-riscv's echo writes the argument
/// whole, then the space or the newline in a write of its own.
///
/// # Safety
/// `arg` is a NUL-terminated string.
#[cfg(target_arch = "riscv64")]
unsafe fn say(arg: *const u8, last: bool) {
    unsafe { ulib::put_cstr(1, arg) };
    ulib::put(1, if last { b"\n" } else { b" " });
}
