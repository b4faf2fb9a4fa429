//! echo: prints its arguments, separated by single spaces, then a newline.

#![no_std]
#![no_main]

use ulib::{exit, put, put_cstr};

#[unsafe(no_mangle)]
extern "C" fn main(argc: i32, argv: *const *const u8) -> ! {
    for i in 1..argc as usize {
        unsafe { put_cstr(1, *argv.add(i)) };
        if i + 1 < argc as usize {
            put(1, b" ");
        }
    }
    put(1, b"\n");
    exit(0)
}
