#!/usr/bin/env bash
# End-to-end tests: build the site (release), serve dist/ on 127.0.0.1, and
# drive headless Chromium through it as a learner would (node --test with
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

# A free port on 127.0.0.1, then a static server there.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory dist >e2e/artifacts/server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null; then break; fi
  sleep 0.1
done

E2E_URL="http://127.0.0.1:$port/" node --test --test-concurrency=1 e2e/*.test.mjs
