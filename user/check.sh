#!/usr/bin/env bash
# Reproducibility check: rebuilds the user programs into a temporary directory
# and compares them byte for byte with the committed copies in core/programs.
# Exits non-zero, naming each file that differs, if anything does not match.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
committed="$here/../core/programs"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$here/build.sh" "$tmp"

status=0
for arch in x86 riscv; do
    for prog in initcode init sh echo deep; do
        rel="$arch/$prog"
        if [ ! -f "$committed/$rel" ]; then
            echo "MISSING core/programs/$rel"
            status=1
        elif ! cmp -s "$tmp/$rel" "$committed/$rel"; then
            echo "DIFFERS core/programs/$rel ($(cmp "$tmp/$rel" "$committed/$rel" 2>&1 | head -n1))"
            status=1
        else
            echo "ok      core/programs/$rel"
        fi
    done
done

if [ "$status" -ne 0 ]; then
    echo "check.sh: the committed programs do not match a fresh build" >&2
else
    echo "check.sh: all 10 programs are identical to a fresh build"
fi
exit "$status"
