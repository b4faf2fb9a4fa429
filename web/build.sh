#!/usr/bin/env bash
# Build the site into dist/ without downloading anything but crates and npm
# packages: `web/build.sh [--release]`.
#   dist/index.html + its wasm, JS, CSS   the web lab (Trunk, from index.html)
#   dist/widgets/                         the widgets for course notes: pagelab-widgets.js (ES module),
#                                         pagelab-widgets-loader.js (classic loader), pagelab-widgets-core.js
#                                         and pagelab-widgets-core_bg.wasm (wasm-bindgen --target web),
#                                         pagelab-widgets.css
#   dist/notes.html, dist/notes.css       the example course-notes page
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

# The widgets: the pagelab-widgets crate through wasm-bindgen --target web (and
# wasm-opt for a release), next to the hand-written module that defines the elements.
release=0
for a in "$@"; do [ "$a" = --release ] && release=1; done
profile=debug
cargo_flags=(--offline)
if [ "$release" = 1 ]; then profile=release; cargo_flags+=(--release); fi
cargo build -p pagelab-widgets --lib --target wasm32-unknown-unknown "${cargo_flags[@]}"
target_dir="$(cargo metadata --format-version 1 --no-deps --offline | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
out=dist/widgets
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name pagelab-widgets-core \
  "$target_dir/wasm32-unknown-unknown/$profile/pagelab_widgets.wasm"
if [ "$release" = 1 ]; then
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$out/pagelab-widgets-core_bg.wasm" -o "$out/pagelab-widgets-core_bg.wasm"
fi
cp web/widgets/js/pagelab-widgets.js web/widgets/js/pagelab-widgets-loader.js web/widgets/static/pagelab-widgets.css "$out/"
cp web/notes.html dist/notes.html
cp web/static/notes.css web/static/notes.js dist/
ls -l dist/ dist/widgets/
