#!/usr/bin/env python3
"""What a wasm file is made of, by part: twiggy's item sizes (before
wasm-bindgen and wasm-opt, so names are there) summed by crate, and the
crates' own modules for pagelab's. The shipped file is smaller (wasm-opt),
but the shares are what they are.

    python3 scripts/wasm-parts.py FILE.wasm
"""
import collections
import csv
import io
import re
import subprocess
import sys

path = sys.argv[1]
out = subprocess.run(["twiggy", "top", "-n", "1000000", "-f", "csv", path], check=True, capture_output=True, text=True).stdout
parts = collections.Counter()
for row in csv.DictReader(io.StringIO(out)):
    name, size = row["Name"], int(row["ShallowSize"])
    # Not shipped: wasm-bindgen's description section and functions, and the names.
    if name.startswith("custom section") or "subsection" in name or "__wbindgen_describe" in name:
        continue
    if name.startswith("data["):
        parts["data (strings, built-in scenarios, programs)"] += size
        continue
    # A generic impl (<T as crate::Trait>::f) counts for the trait's crate.
    name = re.sub(r"^<&?(?:mut )?[A-Z]\w* as ", "<", name)
    m = re.match(r"^<?&?(?:mut )?([a-z_0-9]+(?:::[a-z_0-9]+)?)", name)
    key = m.group(1) if m else "other (tables, types, imports)"
    if not key.startswith("pagelab_"):
        key = key.split("::")[0]
    parts[key] += size
total = sum(parts.values())
print(f"  {'part':<48} {'bytes':>9} {'share':>6}")
for key, size in parts.most_common(20):
    print(f"  {key:<48} {size:>9} {100 * size / total:>5.1f}%")
rest = total - sum(s for _, s in parts.most_common(20))
print(f"  {'the rest':<48} {rest:>9} {100 * rest / total:>5.1f}%")
print(f"  {'total (before wasm-opt)':<48} {total:>9}")
