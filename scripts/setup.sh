#!/usr/bin/env bash
# Install what pagelab needs, skipping whatever is already there.
#
#   scripts/setup.sh serve   what `make serve` needs: the Rust toolchain and its
#                            wasm target, wasm-bindgen, trunk, wasm-opt (npm)
#   scripts/setup.sh test    all of the above, plus every Rust target, wasm-pack,
#                            Chromium and its driver, QEMU, and the e2e test tools
#
# A fresh Debian machine needs only rustup, Node/npm and Python. Nothing is
# downloaded from GitHub: Rust pieces come from rustup and crates.io, Chromium
# and QEMU from Debian, wasm-opt and Playwright from npm.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-test}"

TOOLCHAIN=1.95.0
WASM_BINDGEN=0.2.130
TRUNK=0.21.14
WASM_PACK=0.15.1
TARGETS_SERVE=(wasm32-unknown-unknown)
TARGETS_TEST=(wasm32-unknown-unknown wasm32-wasip1 i586-unknown-linux-gnu i686-unknown-linux-gnu
  riscv64gc-unknown-none-elf riscv32imac-unknown-none-elf x86_64-unknown-none)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Rust -------------------------------------------------------------------
if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1; then
  say "installing Rust $TOOLCHAIN"
  rustup toolchain install "$TOOLCHAIN" --profile minimal -c rustfmt -c clippy
fi
for c in rustfmt clippy; do
  rustup component list --toolchain "$TOOLCHAIN" --installed 2>/dev/null | grep -q "^$c" ||
    rustup component add --toolchain "$TOOLCHAIN" "$c"
done
if [ "$what" = serve ]; then targets=("${TARGETS_SERVE[@]}"); else targets=("${TARGETS_TEST[@]}"); fi
installed=$(rustup target list --toolchain "$TOOLCHAIN" --installed)
missing=()
for t in "${targets[@]}"; do grep -qx "$t" <<<"$installed" || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "adding Rust targets: ${missing[*]}"
  rustup target add --toolchain "$TOOLCHAIN" "${missing[@]}"
fi

# --- cargo-installed tools (pinned) -----------------------------------------
export PATH="$HOME/.cargo/bin:$PATH"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN (about 4 minutes)"
  cargo +"$TOOLCHAIN" install wasm-bindgen-cli@"$WASM_BINDGEN"
fi
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK" ]; then
  say "installing trunk $TRUNK (about 6 minutes)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo +"$TOOLCHAIN" install --locked trunk@"$TRUNK"
fi

if [ "$what" = test ] && [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK" ]; then
  say "installing wasm-pack $WASM_PACK (about 2 minutes)"
  cargo +"$TOOLCHAIN" install --locked wasm-pack@"$WASM_PACK"
fi

# --- npm tools: wasm-opt (binaryen) and, for tests, playwright-core ----------
if [ -f e2e/package-lock.json ]; then
  if [ ! -d e2e/node_modules ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
    say "installing e2e/ npm packages"
    (cd e2e && npm ci --no-audit --no-fund)
  fi
fi

# The mirror this machine's apt takes Debian release $1 from: the first URI of
# an enabled deb822 stanza (*.sources) or one-line source (deb URI SUITE ...)
# whose suite is the release itself.
debian_mirror() {
  local rel="$1" f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk -v rel="$rel" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uri = ""; ok = 0; on = 1; deb = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split(substr($i, 6), a, " "); uri = a[1] }
          if ($i ~ /^Suites:/) { n = split(substr($i, 8), s, " "); for (j = 1; j <= n; j++) if (s[j] == rel) ok = 1 }
          if ($i ~ /^Types:.*(^|[ :])deb( |$)/) deb = 1
          if ($i ~ /^Enabled: *(no|false)/) on = 0
        }
        if (ok && on && deb && uri != "") { print uri; exit }
      }' "$f"
  done
  # grep says 2 when a file named is missing (a machine with only .sources
  # files has no sources.list): that is no answer, not a failure.
  { grep -hsE "^deb +(\[[^]]*\] +)?[^ ]+ +$rel( |$)" /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true; } |
    sed -E 's/^deb +(\[[^]]*\] +)?([^ ]+).*/\2/'
} 2>/dev/null

# --- Debian packages (tests only) --------------------------------------------
if [ "$what" = test ]; then
  apt_missing=()
  [ -x /usr/bin/chromium ] || apt_missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || apt_missing+=(chromium-driver)
  if [ ${#apt_missing[@]} -gt 0 ]; then
    say "installing ${apt_missing[*]} from Debian"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${apt_missing[@]}"
  fi
  if ! command -v qemu-system-i386 >/dev/null || ! command -v qemu-system-riscv64 >/dev/null; then
    say "installing QEMU from Debian"
    as_root apt-get update -qq
    # This machine kind ships qemu-utils from bookworm-backports; take QEMU from there too
    # so the two agree, and fall back to the release's own QEMU elsewhere.
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    if [ -n "$codename" ] && dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null | grep -q bpo; then
      if ! grep -rqs -- "$codename-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        # The backports suite lives beside the release on the machine's own mirror.
        mirror=$(debian_mirror "$codename" | head -n 1)
        if [ -z "$mirror" ]; then
          echo "setup: no apt source for Debian $codename found, to add $codename-backports beside it" >&2
          exit 1
        fi
        echo "deb $mirror $codename-backports main" |
          as_root tee /etc/apt/sources.list.d/pagelab-backports.list >/dev/null
        as_root apt-get update -qq
      fi
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
        -t "$codename-backports" qemu-system-x86 qemu-system-misc
    else
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
        qemu-system-x86 qemu-system-misc
    fi
  fi
fi

# Trunk builds offline: fetch every crate first.
cargo +"$TOOLCHAIN" fetch --locked -q 2>/dev/null || cargo +"$TOOLCHAIN" fetch -q
say "ready ($what)"
