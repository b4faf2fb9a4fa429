#!/usr/bin/env python3
"""Small ELF helper for the pagelab user programs (standard library only).

  elf.py flat IN OUT      write the raw bytes of IN's single PT_LOAD segment
                          (which must start at address 0 and be < 4096 bytes)
                          to OUT: that is how initcode becomes a flat binary.
  elf.py segments FILE..  print each file's PT_LOAD segments and page count
                          (pages = the pages spanned by [0, end of last segment)).
"""

import struct
import sys

PT_LOAD = 1
PAGE = 4096


def load_segments(path):
    """Returns (data, class, machine, entry, [PT_LOAD (offset, vaddr, filesz, memsz, flags)])."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise SystemExit(f"{path}: not an ELF file")
    if data[5] != 1:
        raise SystemExit(f"{path}: not little-endian")
    cls = data[4]
    if cls == 1:
        machine, _, entry, phoff = struct.unpack_from("<HIII", data, 18)
        phentsize, phnum = struct.unpack_from("<HH", data, 42)
        fmt = "<IIIIIIII"  # type offset vaddr paddr filesz memsz flags align
    elif cls == 2:
        machine, _, entry, phoff = struct.unpack_from("<HIQQ", data, 18)
        phentsize, phnum = struct.unpack_from("<HH", data, 54)
        fmt = "<IIQQQQQQ"  # type flags offset vaddr paddr filesz memsz align
    else:
        raise SystemExit(f"{path}: unknown ELF class {cls}")
    loads = []
    for i in range(phnum):
        fields = struct.unpack_from(fmt, data, phoff + i * phentsize)
        if fields[0] != PT_LOAD:
            continue
        if cls == 1:
            _, off, vaddr, _, filesz, memsz, flags, _ = fields
        else:
            _, flags, off, vaddr, _, filesz, memsz, _ = fields
        loads.append((off, vaddr, filesz, memsz, flags))
    return data, cls, machine, entry, loads


def flat(src, dst):
    data, _, _, entry, loads = load_segments(src)
    if len(loads) != 1:
        raise SystemExit(f"{src}: expected exactly one PT_LOAD, found {len(loads)}")
    off, vaddr, filesz, memsz, _ = loads[0]
    if vaddr != 0 or entry != 0:
        raise SystemExit(f"{src}: segment at {vaddr:#x}, entry {entry:#x}; both must be 0")
    if memsz != filesz:
        raise SystemExit(f"{src}: segment has bss ({filesz:#x} in file, {memsz:#x} in memory)")
    if filesz >= PAGE:
        raise SystemExit(f"{src}: {filesz} bytes, must be < {PAGE}")
    with open(dst, "wb") as f:
        f.write(data[off : off + filesz])


def flags_str(flags):
    return "".join(c if flags & bit else "-" for c, bit in (("R", 4), ("W", 2), ("X", 1)))


def segments(paths):
    for path in paths:
        _, cls, _, entry, loads = load_segments(path)
        end = max(v + m for _, v, _, m, _ in loads)
        pages = (end + PAGE - 1) // PAGE
        print(f"{path}: ELF{32 if cls == 1 else 64} entry={entry:#x} end={end:#x} ({end} bytes) pages={pages}")
        for off, vaddr, filesz, memsz, flags in loads:
            print(f"  LOAD off={off:#06x} vaddr={vaddr:#06x} filesz={filesz:#06x} memsz={memsz:#06x} {flags_str(flags)}")


def main(argv):
    if len(argv) == 4 and argv[1] == "flat":
        flat(argv[2], argv[3])
    elif len(argv) >= 3 and argv[1] == "segments":
        segments(argv[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
