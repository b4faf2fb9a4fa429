//! sh: a minimal shell.
//!
//! Prompt with "$ " on fd 2, read a line from fd 0 one byte at a time, and run
//! it: the parent forks and waits, the child splits the line into words and
//! execs the first one. `cd DIR` is handled by the shell itself, since a child
//! changing directory would not affect its parent. No pipes or redirection.
//!
//! The child builds its command in memory from `malloc`, on purpose: as in
//! xv6's shell, that first allocation makes the child's heap grow by
//! `MIN_GROW` header units (8 pages on x86) just before it calls exec.

#![no_std]
#![no_main]

use core::mem::size_of;
use core::ptr::{addr_of_mut, null_mut};

use ulib::umalloc::zalloc;
use ulib::{exit, put, put_cstr, sys, wait};

/// Longest accepted line, newline included (longer input is cut into several
/// lines). 3.75 KiB is generous for a shell, and chosen for pagelab's page
/// footprints: with it, x86 sh spans two pages (code, strings and this buffer
/// pass 4 KiB, as xv6's own sh does), while on RISC-V its whole writable data
/// (this buffer plus the allocator's few words) still fits in one page.
const LINE_MAX: usize = 3840;
/// Most words a command may have (the program name included).
const MAX_ARGS: usize = 10;

/// The line being read. Static, so it costs no stack; the child gets a copy
/// through fork and tokenises it in place.
static mut LINE: [u8; LINE_MAX] = [0; LINE_MAX];

/// A parsed command: its words, null-terminated as exec expects.
#[repr(C)]
struct ExecCmd {
    argv: [*mut u8; MAX_ARGS + 1],
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b)
}

/// Reads one line into `buf`, NUL-terminated; returns the bytes read (0 at EOF).
fn read_line(buf: &mut [u8; LINE_MAX]) -> usize {
    let mut n = 0;
    while n + 1 < LINE_MAX {
        let mut c = 0u8;
        if unsafe { sys::read(0, &mut c, 1) } < 1 {
            break;
        }
        buf[n] = c;
        n += 1;
        if c == b'\n' || c == b'\r' {
            break;
        }
    }
    buf[n] = 0;
    n
}

/// Child side: split the line into words, build the command, exec it.
fn run(line: &mut [u8; LINE_MAX]) -> ! {
    let cmd = unsafe { zalloc(size_of::<ExecCmd>()) } as *mut ExecCmd;
    if cmd.is_null() {
        put(2, b"sh: out of memory\n");
        exit(1);
    }
    let argv = unsafe { &mut (*cmd).argv };
    let mut argc = 0;
    let mut i = 0;
    loop {
        while line[i] != 0 && is_space(line[i]) {
            i += 1;
        }
        if line[i] == 0 {
            break;
        }
        if argc == MAX_ARGS {
            put(2, b"sh: too many arguments\n");
            exit(1);
        }
        argv[argc] = &raw mut line[i];
        argc += 1;
        while line[i] != 0 && !is_space(line[i]) {
            i += 1;
        }
        if line[i] == 0 {
            break;
        }
        line[i] = 0;
        i += 1;
    }
    argv[argc] = null_mut();
    unsafe {
        sys::exec(argv[0], argv.as_ptr() as *const *const u8);
        put(2, b"exec ");
        put_cstr(2, argv[0]);
    }
    put(2, b" failed\n");
    exit(1)
}

/// If the line is `cd DIR`, changes directory and returns true.
fn builtin_cd(line: &mut [u8; LINE_MAX], n: usize) -> bool {
    if n < 3 || &line[..3] != b"cd " {
        return false;
    }
    let mut start = 3;
    while start < n && is_space(line[start]) {
        start += 1;
    }
    let mut end = start;
    while end < n && !is_space(line[end]) {
        end += 1;
    }
    line[end] = 0;
    if unsafe { sys::chdir(&line[start]) } < 0 {
        put(2, b"sh: cannot cd ");
        unsafe { put_cstr(2, &line[start]) };
        put(2, b"\n");
    }
    true
}

#[unsafe(no_mangle)]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> ! {
    let line = unsafe { &mut *addr_of_mut!(LINE) };
    loop {
        put(2, b"$ ");
        let n = read_line(line);
        if n == 0 {
            exit(0);
        }
        if line[..n].iter().all(|&c| is_space(c)) {
            continue;
        }
        if builtin_cd(line, n) {
            continue;
        }
        match unsafe { sys::fork() } {
            0 => run(line),
            pid if pid < 0 => put(2, b"sh: cannot fork\n"),
            _ => {
                wait();
            }
        }
    }
}
