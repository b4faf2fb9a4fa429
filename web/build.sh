#!/usr/bin/env bash
# Build the web lab into dist/ with Trunk, without downloading anything but
# crates and npm packages: `web/build.sh [--release]`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# binaryen 132 (wasm-opt) from npm, first on PATH; Debian's older wasm-opt cannot read Rust 1.95's wasm.
if [ ! -x e2e/node_modules/.bin/wasm-opt ]; then
  (cd e2e && npm ci --no-audit --no-fund)
fi
export PATH="$root/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"

for tool in trunk wasm-bindgen; do
  command -v "$tool" >/dev/null || { echo "web/build.sh: $tool is not installed (see shared TOOLCHAIN.md)" >&2; exit 1; }
done
case "$(wasm-bindgen --version)" in *0.2.130*) ;; *) echo "web/build.sh: wasm-bindgen 0.2.130 is needed" >&2; exit 1 ;; esac
rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# Trunk runs cargo --offline: fetch the crates first (a no-op when they are there).
cargo fetch --target wasm32-unknown-unknown >/dev/null 2>&1 || cargo fetch

# opt-level "z" for the wasm (the workspace's release profile says "s"): 9% less
# to download (223 vs 244 KiB gzip), and steps still take well under half a second.
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-z}"
trunk build "$@"
ls -l dist/
