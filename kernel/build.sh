#!/usr/bin/env bash
# Build the kernels (release): kernel/build.sh [--broken | --clippy] [x86] [riscv]
#
# With no machine named, builds both. --clippy runs clippy -D warnings for
# the machines' targets instead of building. The images are copied to
# $CARGO_TARGET_DIR/kernel (default target/kernel) as pagelab-kernel-x86 and
# pagelab-kernel-riscv; with --broken, the deliberately wrong kernels
# (feature broken-stack) as pagelab-kernel-x86-broken and -riscv-broken.
# Needs only the toolchain of rust-toolchain.toml with the targets
# i586-unknown-linux-gnu and riscv64gc-unknown-none-elf; downloads nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

variant=
clippy=
arches=()
for a in "$@"; do
    case $a in
        --broken) variant=broken ;;
        --clippy) clippy=1 ;;
        x86 | riscv) arches+=("$a") ;;
        all) arches+=(x86 riscv) ;;
        *) echo "usage: kernel/build.sh [--broken | --clippy] [x86] [riscv]" >&2; exit 2 ;;
    esac
done
[ ${#arches[@]} -gt 0 ] || arches=(x86 riscv)

targets=()
for a in "${arches[@]}"; do
    t=$(triple_of "$a")
    if ! ls "$(rustc --print sysroot)/lib/rustlib/$t/lib/"libcore-*.rlib >/dev/null 2>&1; then
        echo "the Rust target $t is not installed: run 'rustup target add $t' (or 'rustup toolchain install' in the repository)" >&2
        exit 1
    fi
    targets+=(--target "$t")
done

# Per-target flags (a build script cannot set these). Both: a static
# executable at the addresses of the linker script (build.rs passes it).
# x86: link with rust-lld as plain ld, not through cc, and no PIE.
export CARGO_TARGET_I586_UNKNOWN_LINUX_GNU_LINKER=rust-lld
export CARGO_TARGET_I586_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C relocation-model=static -C target-cpu=pentium \
-C linker-flavor=ld.lld -C link-arg=--no-pie -C link-arg=-static -C link-arg=-z -C link-arg=max-page-size=4096 \
-C link-arg=--build-id=none -C link-arg=--gc-sections"
export CARGO_TARGET_RISCV64GC_UNKNOWN_NONE_ELF_RUSTFLAGS="-C relocation-model=static \
-C link-arg=-z -C link-arg=max-page-size=4096 -C link-arg=--build-id=none -C link-arg=--gc-sections"
# RUSTFLAGS from the environment would override the per-target flags.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

features=()
[ -z "$variant" ] || features=(--features broken-stack)
if [ -n "$clippy" ]; then
    cargo clippy --release -p pagelab-kernel "${targets[@]}" --all-features -- -D warnings
    exit
fi
cargo build --release -p pagelab-kernel "${targets[@]}" "${features[@]}"

mkdir -p "$KERNEL_OUT"
for a in "${arches[@]}"; do
    cp "$TARGET_DIR/$(triple_of "$a")/release/pagelab-kernel" "$(kernel_image "$a" "$variant")"
    echo "built $(kernel_image "$a" "$variant")"
done
