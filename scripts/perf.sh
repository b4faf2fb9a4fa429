#!/usr/bin/env bash
# Every figure of issue 13's table, measured here, each under the command that
# gives it: the site's bytes and load times, the lab's latency and memory in
# headless Chromium, the core natively and as wasm, the walkers side by side,
# and the command-line runner's time and memory on long files.
#
#   scripts/perf.sh            (make perf)
#
# Medians from one run; nothing here is a test (no figure fails a build).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '\n$ %s\n' "$*"; }

say "web/build.sh --release"
web/build.sh --release > /dev/null

say "node e2e/measure.mjs --runs 5    # bytes on first load (gzip -9) and cold loads"
node e2e/measure.mjs --runs 5

say "twiggy top target/wasm32-unknown-unknown/release/pagelab-web.wasm   # what the lab's wasm is made of"
# twiggy 0.7.0, pinned; installed on first use (this script is not part of make test).
command -v twiggy >/dev/null || cargo install -q twiggy --version 0.7.0 --locked
python3 scripts/wasm-parts.py target/wasm32-unknown-unknown/release/pagelab-web.wasm

say "node e2e/perf.mjs                # latency, memory, heavy links, in the browser"
node e2e/perf.mjs

say "scripts/bench.sh                 # the core's workloads natively and as wasm (V8)"
scripts/bench.sh

say "cargo bench -p pagelab-core --bench walkers   # translate: pagelab beside a minimal walk and two peer crates"
cargo bench -q -p pagelab-core --bench walkers 2>/dev/null | sed -n '/^ns per lookup/,$p'

say "scripts/walk-instructions.sh     # the same walkers counted under cachegrind: instructions and cache misses per lookup"
scripts/walk-instructions.sh

say "pagelab run on long files        # the command-line runner's time and peak memory (GNU time)"
cargo build -q --release -p pagelab-core --features cli
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import sys
d = sys.argv[1]
with open(f"{d}/pairs1000.txt", "w") as f:
    f.write("preset xv6-public\nuserinit\n")
    for _ in range(1000):
        f.write("sbrk 1 117440512\nsbrk 1 -117440512\n")
with open(f"{d}/ops10000.txt", "w") as f:
    f.write("preset xv6-public\nuserinit\nfork 1\n")
    for i in range(3332):
        f.write("sbrk 2 8192\nwrite 2 0x1000 0x41\nsbrk 2 -8192\n")
PY
for args in "pairs1000.txt --quiet" "ops10000.txt --quiet" "ops10000.txt" "ops10000.txt --format json"; do
    set -- $args
    file=$1; shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "  %e s, peak %M KB" ./target/release/pagelab run "$tmp/$file" "$@" > "$tmp/out" 2> "$tmp/time" || true
    else
        { TIMEFORMAT="  %R s (install GNU time for the peak memory)"; time ./target/release/pagelab run "$tmp/$file" "$@" > "$tmp/out"; } 2> "$tmp/time" || true
    fi
    printf '  pagelab run %s %s: %s bytes out,%s\n' "$file" "$*" "$(wc -c < "$tmp/out")" "$(tail -1 "$tmp/time" | sed 's/^ *//; s/^/ /')"
done
