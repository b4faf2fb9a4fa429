//! The user programs the lab ships: pagelab's own `initcode`, `init`, `sh`,
//! `echo` and `deep` (it recurses until its stack runs into the guard page),
//! built from `user/` for both ports (see `user/README.md`).
//! They follow xv6's user ABI, with footprints like xv6's own: on x86,
//! `init` and `echo` fit in one page and `sh` needs two.

use crate::sys::Port;

/// x86 `initcode` (a flat binary, copied to address 0 by userinit).
pub static X86_INITCODE: &[u8] = include_bytes!("../programs/x86/initcode");
/// x86 `init` (ELF32).
pub static X86_INIT: &[u8] = include_bytes!("../programs/x86/init");
/// x86 `sh` (ELF32).
pub static X86_SH: &[u8] = include_bytes!("../programs/x86/sh");
/// x86 `echo` (ELF32).
pub static X86_ECHO: &[u8] = include_bytes!("../programs/x86/echo");
/// x86 `deep` (ELF32).
pub static X86_DEEP: &[u8] = include_bytes!("../programs/x86/deep");
/// RISC-V `initcode` (a flat binary).
pub static RISCV_INITCODE: &[u8] = include_bytes!("../programs/riscv/initcode");
/// RISC-V `init` (ELF64).
pub static RISCV_INIT: &[u8] = include_bytes!("../programs/riscv/init");
/// RISC-V `sh` (ELF64).
pub static RISCV_SH: &[u8] = include_bytes!("../programs/riscv/sh");
/// RISC-V `echo` (ELF64).
pub static RISCV_ECHO: &[u8] = include_bytes!("../programs/riscv/echo");
/// RISC-V `deep` (ELF64).
pub static RISCV_DEEP: &[u8] = include_bytes!("../programs/riscv/deep");

/// The first program for `port`.
#[must_use]
pub fn initcode(port: Port) -> &'static [u8] {
    match port {
        Port::Xv6Public => X86_INITCODE,
        Port::Xv6Riscv => RISCV_INITCODE,
    }
}

/// The programs in the root directory of `port`'s file system: (path, bytes).
#[must_use]
pub fn builtin(port: Port) -> [(&'static str, &'static [u8]); 4] {
    match port {
        Port::Xv6Public => [("/init", X86_INIT), ("/sh", X86_SH), ("/echo", X86_ECHO), ("/deep", X86_DEEP)],
        Port::Xv6Riscv => [("/init", RISCV_INIT), ("/sh", RISCV_SH), ("/echo", RISCV_ECHO), ("/deep", RISCV_DEEP)],
    }
}
