#!/usr/bin/env bash
# Every test of the project, in the order that fails fastest. `make test` runs
# scripts/setup.sh first; this script assumes the tools are there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A fresh run never reuses rustc's incremental caches; they only take disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# Headless Chromium, started by chromedriver for the wasm tests, leaves its
# temporary profile (about 60 MB each) behind when the runner stops it. Keep
# those in a directory of this run's own and remove it after each browser step
# and at the end.
scratch="$(mktemp -d "${TMPDIR:-/tmp}/pagelab-test.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
export TMPDIR="$scratch"
tidy() { find "$scratch" -mindepth 1 -maxdepth 1 -name 'org.chromium.Chromium.*' -exec rm -rf {} + 2>/dev/null || true; }
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
tidy

step "benchmarks run (one iteration each)"
cargo bench -p pagelab-core -- --test

step "user programs rebuild byte for byte"
user/check.sh

step "web lab: state and component tests"
# The host tests of web/test.sh ran above with the workspace's.
WEB_TEST_SKIP_HOST=1 web/test.sh
tidy

step "web lab: end-to-end tests in headless Chromium"
e2e/run.sh
tidy

step "kernels under QEMU, with the differential check"
kernel/test.sh

step "all tests passed"
