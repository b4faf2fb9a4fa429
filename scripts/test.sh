#!/usr/bin/env bash
# Every test of the project, in the order that fails fastest. `make test` runs
# scripts/setup.sh first; this script assumes the tools are there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
start=$(date +%s)
step() { printf '\n\033[1m== %s\033[0m (%ss)\n' "$*" "$(($(date +%s) - start))"; }

step "rustfmt"
cargo fmt --all --check
(cd user && cargo fmt --check)

step "clippy (host and wasm32), -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p pagelab-core --all-targets --features cli -- -D warnings
cargo clippy -p pagelab-core -p pagelab-web -p pagelab-widgets --target wasm32-unknown-unknown -- -D warnings

step "cargo test (host)"
cargo test --workspace
cargo test -p pagelab-core --features cli --test cli

step "the core without std: wasm32 and bare metal"
cargo build -p pagelab-core --target wasm32-unknown-unknown
cargo build -p pagelab-core --target riscv64gc-unknown-none-elf
cargo build -p pagelab-core --target x86_64-unknown-none

step "the core's tests as wasm in headless Chromium (wasm-pack)"
wasm-pack test --headless --chrome --chromedriver /usr/bin/chromedriver --mode no-install core

step "benchmarks run (one iteration each)"
cargo bench -p pagelab-core -- --test

step "user programs rebuild byte for byte"
user/check.sh

step "web lab: state and component tests"
web/test.sh

step "web lab: end-to-end tests in headless Chromium"
e2e/run.sh

step "kernels under QEMU, with the differential check"
kernel/test.sh

step "all tests passed"
