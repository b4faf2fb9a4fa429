#!/usr/bin/env bash
# End-to-end tests: build the site (release), serve dist/ on 127.0.0.1 with a
# strict Content-Security-Policy, and drive headless Chromium through the lab
# and the example notes page as a learner would (node --test with
# playwright-core). Screenshots go to e2e/artifacts/. Exits non-zero on failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [ ! -d e2e/node_modules/playwright-core ] || [ ! -x e2e/node_modules/.bin/wasm-opt ]; then
  (cd e2e && npm ci --no-audit --no-fund)
fi
export PATH="$root/e2e/node_modules/.bin:$PATH"

if [ "${E2E_SKIP_BUILD:-0}" != 1 ]; then
  web/build.sh --release
fi
mkdir -p e2e/artifacts

# A static server on a free port of 127.0.0.1 that sends the strict
# Content-Security-Policy (e2e/server.mjs); it prints its URL when ready.
node e2e/server.mjs --dist dist >e2e/artifacts/server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 100); do
  url="$(head -n1 e2e/artifacts/server.log 2>/dev/null || true)"
  case "$url" in http://*) break ;; esac
  sleep 0.1
done
case "$url" in http://*) ;; *) echo "e2e/run.sh: the static server did not start" >&2; cat e2e/artifacts/server.log >&2; exit 1 ;; esac

E2E_URL="$url" node --test --test-concurrency=1 e2e/*.test.mjs
