//! Picks the linker script for the target: `link/x86.ld` or `link/riscv.ld`.
//!
//! The other flags (static relocation model, the linker) are per-target
//! rustflags set by `kernel/build.sh`, since a build script cannot set them.

use std::env;

fn main() {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("cargo sets CARGO_CFG_TARGET_ARCH");
    let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = match arch.as_str() {
        "x86" => "x86",
        "riscv64" => "riscv",
        // A host build (`cargo build --workspace`): main.rs is then a stub; nothing to link.
        _ => return,
    };
    println!("cargo:rustc-link-arg-bins=-T{dir}/link/{script}.ld");
    println!("cargo:rerun-if-changed=link/{script}.ld");
    println!("cargo:rerun-if-changed=build.rs");
}
