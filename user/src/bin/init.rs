//! init: the first program exec'd by initcode. It gives itself the console as
//! standard input, output and error, then keeps a shell running forever,
//! collecting along the way any orphaned process that gets handed to it.

#![no_std]
#![no_main]

use core::ptr::{addr_of, null};

use ulib::{O_RDWR, exit, fprintf, sys, wait};

/// Device number of the console (major 1; minor unused by xv6).
const CONSOLE: i32 = 1;

/// The console's minor device number in each xv6's init.c.
#[cfg(target_arch = "x86")]
const CONSOLE_MINOR: i32 = 1;
#[cfg(target_arch = "riscv64")]
const CONSOLE_MINOR: i32 = 0;

/// The shell's argv, `{"sh", 0}`: in writable data, like xv6's init.c's `argv`.
static mut SH_ARGV: [*const u8; 2] = [c"sh".as_ptr().cast(), null()];

#[unsafe(no_mangle)]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> ! {
    unsafe {
        // fd 0: the console, creating its device node on first boot.
        if sys::open(c"console".as_ptr().cast(), O_RDWR) < 0 {
            // xv6-public's init.c asks for minor 1, xv6-riscv's for 0.
            sys::mknod(c"console".as_ptr().cast(), CONSOLE, CONSOLE_MINOR);
            sys::open(c"console".as_ptr().cast(), O_RDWR);
        }
        // fds 1 and 2: the same console.
        sys::dup(0);
        sys::dup(0);
    }

    loop {
        unsafe { fprintf(1, b"init: starting sh\n", &[]) };
        let pid = unsafe { sys::fork() };
        if pid < 0 {
            unsafe { fprintf(1, b"init: fork failed\n", &[]) };
            exit(1);
        }
        if pid == 0 {
            unsafe {
                let argv = &*addr_of!(SH_ARGV);
                sys::exec(argv[0], argv.as_ptr());
            }
            unsafe { fprintf(1, b"init: exec sh failed\n", &[]) };
            exit(1);
        }
        // Wait for the shell; orphans reparented to init show up here too.
        loop {
            let who = wait();
            if who == pid || !reaped_other(who) {
                break;
            }
        }
    }
}

/// What each xv6's init.c does when `wait` returns `who`, not the shell:
/// xv6-public's says `zombie!` for an orphan and starts a new shell when
/// there is no child left. True to go on waiting.
#[cfg(target_arch = "x86")]
fn reaped_other(who: i32) -> bool {
    if who < 0 {
        return false;
    }
    unsafe { fprintf(1, b"zombie!\n", &[]) };
    true
}

/// What each xv6's init.c does when `wait` returns `who`, not the shell:
/// xv6-riscv's says nothing for an orphan, and gives up when there is no
/// child left. True to go on waiting.
#[cfg(target_arch = "riscv64")]
fn reaped_other(who: i32) -> bool {
    if who < 0 {
        unsafe { fprintf(1, b"init: wait returned an error\n", &[]) };
        exit(1);
    }
    true
}
