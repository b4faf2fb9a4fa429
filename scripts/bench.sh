#!/usr/bin/env bash
# Time the core's benchmark workloads natively and as wasm (wasm32-wasip1 under
# Node's V8, the engine Chromium uses), and print a table with the ratio.
# Each figure is the median of several runs, per iteration.
# For the full criterion report: cargo bench -p pagelab-core
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p pagelab-core --example bench
cargo build -q --release -p pagelab-core --example bench --target wasm32-wasip1
native=$(./target/release/examples/bench)
wasm=$(node --no-warnings scripts/run-wasi.mjs target/wasm32-wasip1/release/examples/bench.wasm)
echo "| workload | native (µs) | wasm (µs) | wasm / native |"
echo "|---|---:|---:|---:|"
paste <(echo "$native") <(echo "$wasm") | awk -F'\t' '{ printf "| %s | %.1f | %.1f | %.2f |\n", $1, $3, $6, $6 / $3 }'
echo
echo "native: $(rustc --version) on $(uname -m); wasm: Node $(node --version) (V8)"
