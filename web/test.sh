#!/usr/bin/env bash
# Tests of the web lab and the widgets: the state, input, link, widget-option
# and API logic on the host, then the components and the widgets' wasm exports
# in headless Chromium (wasm-bindgen-test-runner drives chromedriver;
# it passes --headless, --no-sandbox and --disable-dev-shm-usage itself).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

if [ "${WEB_TEST_SKIP_HOST:-0}" != 1 ]; then
  echo "== web: host tests (state, input, links; widgets' options, API, machines)"
  cargo test -p pagelab-web -p pagelab-widgets
fi

echo "== web: component tests in headless Chromium"
rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
command -v wasm-bindgen-test-runner >/dev/null || { echo "web/test.sh: wasm-bindgen-test-runner is not installed (cargo install wasm-bindgen-cli@0.2.130)" >&2; exit 1; }
command -v wasm-pack >/dev/null || { echo "web/test.sh: wasm-pack is not installed (scripts/setup.sh test installs it)" >&2; exit 1; }
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}"
# wasm-pack drives the same runner; --mode no-install: it uses the wasm-bindgen on PATH and downloads nothing.
for crate in web web/widgets; do
  wasm-pack test --headless --chrome --chromedriver "$CHROMEDRIVER" --mode no-install "$crate"
done
