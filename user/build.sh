#!/usr/bin/env bash
# Builds pagelab's xv6 user programs for both architectures.
#
#   user/build.sh OUTDIR
#
# writes OUTDIR/x86/{initcode,init,sh,echo,deep} and OUTDIR/riscv/{initcode,init,sh,echo,deep}.
# initcode is a flat binary (raw bytes, linked at 0); the others are ELF files.
#
# Needs only the pinned Rust toolchain (rust-toolchain.toml at the repository
# root), its rust-lld, the two rustup targets below, and python3 (to cut the
# flat initcode out of its ELF). The output does not depend on where the
# repository is checked out.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
cd "$here"

x86=i586-unknown-linux-gnu
riscv=riscv64gc-unknown-none-elf

# Flags from the environment would silently replace the ones in
# .cargo/config.toml (or change the code), so drop them.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER \
    RUSTC_WORKSPACE_WRAPPER CARGO_INCREMENTAL CARGO_BUILD_TARGET
for v in $(env | sed -n 's/^\(CARGO_PROFILE_[A-Z0-9_]*\|CARGO_TARGET_[A-Z0-9_]*_RUSTFLAGS\|CARGO_TARGET_[A-Z0-9_]*_LINKER\)=.*/\1/p'); do
    unset "$v"
done
export CARGO_TARGET_DIR="$here/target"

installed="$(rustup target list --installed)"
for t in "$x86" "$riscv"; do
    if ! grep -qx "$t" <<<"$installed"; then
        rustup target add "$t"
    fi
done

# Paths seen by rustc are relative to this directory already; remapping makes
# sure no absolute checkout path can end up in a binary either.
remap="--remap-path-prefix=${here//\\/\\\\}=/pagelab/user"
remap="${remap//\"/\\\"}"
cargo build --release --locked --quiet \
    --target "$x86" --target "$riscv" \
    --config "target.$x86.rustflags=[\"$remap\"]" \
    --config "target.$riscv.rustflags=[\"$remap\"]"

for pair in "x86:$x86" "riscv:$riscv"; do
    arch="${pair%%:*}"
    triple="${pair#*:}"
    bin="$CARGO_TARGET_DIR/$triple/release"
    mkdir -p "$out/$arch"
    for prog in init sh echo deep; do
        cp "$bin/$prog" "$out/$arch/$prog.tmp"
        chmod 0644 "$out/$arch/$prog.tmp"
        mv "$out/$arch/$prog.tmp" "$out/$arch/$prog"
    done
    python3 "$here/tools/elf.py" flat "$bin/initcode" "$out/$arch/initcode"
done
