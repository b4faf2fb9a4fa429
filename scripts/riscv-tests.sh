#!/usr/bin/env bash
# Run riscv-tests' user-mode integer ISA tests (isa/rv64ui, rv64um, rv64uc)
# on pagelab's RV64IMC hart.
#
#   scripts/riscv-tests.sh <riscv-tests checkout> [build dir]
#
# Builds each test with our own environment header and linker script
# (scripts/riscv-tests/) — the checkout's env/ is not used — into the build
# directory (a temporary one by default), then runs core/tests/riscv_official.rs
# on them. Needs gcc's or clang's preprocessor, llvm-mc and rust-lld.
# Nothing built here belongs in the repository.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${1:?usage: $0 <riscv-tests checkout> [build dir]}"
src="$(cd "$src" && pwd)"
out="${2:-$(mktemp -d -t pagelab-rvt.XXXXXX)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

cpp_cmd=()
if command -v clang >/dev/null; then cpp_cmd=(clang -E); elif command -v gcc >/dev/null; then cpp_cmd=(gcc -E); else cpp_cmd=(cpp); fi
mc="${LLVM_MC:-$(command -v llvm-mc || true)}"
lld="${RUST_LLD:-$(find "$(rustc --print sysroot)" -name rust-lld -type f | head -n 1)}"
[ -x "$mc" ] || { echo "llvm-mc not found (set LLVM_MC)" >&2; exit 1; }
[ -x "$lld" ] || { echo "rust-lld not found (set RUST_LLD)" >&2; exit 1; }

# Tests the hart cannot run, and why (see core/tests/riscv_official.rs).
skip() {
  case "$1" in
    rv64ui/fence_i) echo "rewrites its own code and needs fence.i (Zifencei), which the hart does not decode" ;;
    *) return 1 ;;
  esac
}

: >"$out/SKIPPED"
built=0
for suite in rv64ui rv64um rv64uc; do
  case "$suite" in
    rv64uc) attr=+m,+c ;;
    *) attr=+m,-c ;;
  esac
  for s in "$src/isa/$suite"/*.S; do
    t="$(basename "$s" .S)"
    if why="$(skip "$suite/$t")"; then
      echo "$suite-$t: $why" >>"$out/SKIPPED"
      continue
    fi
    name="$suite-$t"
    "${cpp_cmd[@]}" -P -x assembler-with-cpp -nostdinc -D__riscv_xlen=64 -D__riscv \
      -I "$here/riscv-tests" -I "$src/isa/macros/scalar" "$s" -o "$out/$name.s"
    # llvm-mc (before LLVM 17) does not lengthen a conditional branch whose
    # target is out of its ±4 KiB reach, as GNU as does; the tests' checks
    # `bne x, y, fail` jump to the end of long files. Write each as GNU as
    # would: the opposite branch over a `j fail` (jal reaches ±1 MiB).
    perl -pi -e 's/\bbne\s+([^;,]+?)\s*,\s*([^;,]+?)\s*,\s*fail\b/$n++; "beq $1, $2, .Lnear_fail_$n; j fail; .Lnear_fail_$n:"/ge' "$out/$name.s"
    "$mc" -triple=riscv64 -mattr="$attr,-relax" -filetype=obj "$out/$name.s" -o "$out/$name.o"
    "$lld" -flavor gnu -T "$here/riscv-tests/link.ld" --no-relax -o "$out/$name" "$out/$name.o"
    rm -f "$out/$name.s" "$out/$name.o"
    built=$((built + 1))
  done
done
echo "built $built tests into $out"
[ -s "$out/SKIPPED" ] && sed 's/^/skipped /' "$out/SKIPPED"

cd "$here/.."
RISCV_TESTS_BUILD="$out" cargo test -p pagelab-core --test riscv_official -- --include-ignored --nocapture
