#!/usr/bin/env bash
# The walkers of core/benches/walkers.rs, counted rather than timed: the
# instructions and first-level data-cache read misses per lookup, under
# valgrind's cachegrind (its simulated caches), for each walker and as a
# ratio to the minimal walk of its scheme. Unlike a time, these do not move
# with the machine's load. Each walker is run for 0 and for 4 passes of its
# 66,560 lookups, and the difference is divided by 4 · 66,560, so building
# the tables does not count.
#
#   scripts/walk-instructions.sh        (in make perf; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
    echo "valgrind is not installed (Debian: apt-get install valgrind): no instruction counts"
    exit 0
fi
exe=$(cargo bench -q -p pagelab-core --bench walkers --no-run --message-format=json |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "walkers" and m.get("executable"):
        print(m["executable"])')
passes=4
# Instructions and D1 read misses of one run of walker $1 for $2 passes.
counts() {
    WALKERS_COUNT="$1:$2" valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null "$exe" 2>&1 >/dev/null |
        python3 -c 'import re, sys
text = sys.stdin.read()
refs = re.search(r"I\s+refs:\s+([\d,]+)", text).group(1)
d1 = re.search(r"D1\s+misses:\s+[\d,]+\s+\(\s*([\d,]+) rd", text).group(1)
print(refs.replace(",", ""), d1.replace(",", ""))'
}
echo "instructions and D1 read misses per lookup (cachegrind), and the instructions' ratio to the minimal walk:"
WALKERS_COUNT=list "$exe" | while IFS= read -r name; do
    read -r i0 d0 < <(counts "$name" 0)
    read -r i1 d1 < <(counts "$name" "$passes")
    echo "$name|$i0|$d0|$i1|$d1"
done | python3 -c 'import sys
n = 4 * 66560
base = {}
for line in sys.stdin:
    name, i0, d0, i1, d1 = line.rstrip("\n").split("|")
    ins, miss = (int(i1) - int(i0)) / n, (int(d1) - int(d0)) / n
    scheme = name.split(":")[0]
    base.setdefault(scheme, ins)
    print(f"  {ins:7.1f} instr  {miss:5.2f} misses  {ins / base[scheme]:5.2f}x  {name}")'
