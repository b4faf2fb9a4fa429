//! initcode: the first user program. The kernel's userinit copies these bytes
//! to virtual address 0 of the first process and starts it at address 0.
//!
//! It does one thing: exec("/init", {"/init", 0}), as xv6's initcode.S does
//! (argv[0] is the path string itself). Should that ever return, it
//! keeps calling exit. The code is pure assembly, position-dependent (linked
//! at 0), and build.sh keeps only its raw bytes, like xv6's own initcode.

#![no_std]
#![no_main]

// Pulls in ulib's panic handler; none of its code survives the link.
extern crate ulib;

#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".pushsection .text.initcode,\"ax\",@progbits",
    ".globl start",
    "start:",
    // exec(path, argv) with the cdecl layout the kernel expects on x86:
    // [esp] = (unused) return address, [esp+4] = path, [esp+8] = argv.
    "pushl $argv",
    "pushl $path",
    "pushl $0",
    "movl ${exec}, %eax",
    "int $64",
    // exec only comes back on failure: give up, for good.
    "2:",
    "movl ${exit}, %eax",
    "int $64",
    "jmp 2b",
    "path:",
    ".asciz \"/init\"",
    ".balign 4, 0",
    "argv:",
    ".long path",
    ".long 0",
    ".popsection",
    exec = const ulib::sys::nr::EXEC,
    exit = const ulib::sys::nr::EXIT,
    options(att_syntax),
);

#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".pushsection .text.initcode,\"ax\",@progbits",
    // Full-size instructions and 4-byte argv words, as xv6-riscv builds its
    // initcode.S (-march=rv64g): the same 52 bytes, so userinit loads as
    // many. The kernel reads argv a doubleword at a time: the first is the
    // path's address (the upper word is argv's 0), the second lies past the
    // end, in the rest of the page, which uvmfirst zeroed.
    ".option push",
    ".option norelax",
    ".option norvc",
    ".globl start",
    "start:",
    // exec(path, argv): arguments in a0 and a1, call number in a7.
    "lla a0, path",
    "lla a1, argv",
    "li a7, {exec}",
    "ecall",
    // exec only comes back on failure: give up, for good (with exec's -1
    // still in a0 as exit's status, as in xv6).
    "2:",
    "li a7, {exit}",
    "ecall",
    "j 2b",
    "path:",
    ".asciz \"/init\"",
    ".balign 4, 0",
    "argv:",
    ".word path",
    ".word 0",
    ".option pop",
    ".popsection",
    exec = const ulib::sys::nr::EXEC,
    exit = const ulib::sys::nr::EXIT,
);
