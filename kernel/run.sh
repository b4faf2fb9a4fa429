#!/usr/bin/env bash
# Boot a kernel by hand: kernel/run.sh x86|riscv [--gdb] [--broken]
#
# Builds the kernel if needed, prints the QEMU command and runs it; the
# kernel's output comes on this terminal (Ctrl-C stops QEMU). With --gdb,
# QEMU waits for a debugger (-s -S: gdb server on localhost:1234, CPU
# stopped before the first instruction) and the gdb commands are printed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

arch= gdb= variant=
for a in "$@"; do
    case $a in
        x86 | riscv) arch=$a ;;
        --gdb) gdb=1 ;;
        --broken) variant=broken ;;
        *) arch= ; break ;;
    esac
done
if [ -z "$arch" ]; then
    echo "usage: kernel/run.sh x86|riscv [--gdb] [--broken]" >&2
    exit 2
fi

ensure_qemu "$arch"
"$ROOT/kernel/build.sh" ${variant:+--$variant} "$arch" >&2
image=$(kernel_image "$arch" "$variant")
qemu_cmd "$arch" "$image"
[ -z "$gdb" ] || QEMU_CMD+=(-s -S)

echo "+ ${QEMU_CMD[*]}"
if [ -n "$gdb" ]; then
    case $arch in
        x86)
            cat <<GDB
QEMU waits for gdb. In another terminal:
    gdb $image \\
        -ex 'target remote localhost:1234' \\
        -ex 'break x86_main' -ex 'continue'
(gdb reads the 32-bit ELF and sets the i386 architecture itself. The CPU
starts in the BIOS; 'break *_start' stops at entry, with paging still off.)
GDB
            ;;
        riscv)
            cat <<GDB
QEMU waits for gdb. In another terminal (Debian: apt-get install gdb-multiarch):
    gdb-multiarch $image \\
        -ex 'set architecture riscv:rv64' \\
        -ex 'target remote localhost:1234' \\
        -ex 'break riscv_main' -ex 'continue'
(The CPU stops at 0x1000, QEMU's reset vector, which jumps to _entry at 0x80000000.)
GDB
            ;;
    esac
fi
exec "${QEMU_CMD[@]}"
