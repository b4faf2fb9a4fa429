//! Picks the linker script for each program and target.
//!
//! Every program but `initcode` uses `link/<arch>.ld`; `initcode` uses
//! `link/initcode-<arch>.ld` (build.sh then cuts the flat image out of it).

use std::env;

fn main() {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("cargo sets CARGO_CFG_TARGET_ARCH");
    let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let arch = match arch.as_str() {
        "x86" => "x86",
        "riscv64" => "riscv",
        other => panic!("pagelab user programs only exist for x86 and riscv64, not {other}"),
    };
    for prog in ["init", "sh", "echo", "deep"] {
        println!("cargo:rustc-link-arg-bin={prog}=-T{dir}/link/{arch}.ld");
    }
    println!("cargo:rustc-link-arg-bin=initcode=-T{dir}/link/initcode-{arch}.ld");
    println!("cargo:rerun-if-changed=link");
    println!("cargo:rerun-if-changed=build.rs");
}
