# kernel/lib.sh: what build.sh, run.sh and test.sh share. Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
# Where build.sh puts the kernels: pagelab-kernel-x86, pagelab-kernel-riscv (and -broken).
KERNEL_OUT=$TARGET_DIR/kernel

# The Rust target of each machine. x86 uses i586 (Pentium): no SSE, which
# nobody enables on this machine, and a 32-bit ELF that Multiboot loads.
triple_of() {
    case $1 in
        x86) echo i586-unknown-linux-gnu ;;
        riscv) echo riscv64gc-unknown-none-elf ;;
        *) echo "unknown machine '$1': x86 or riscv" >&2; return 1 ;;
    esac
}

# The kernel image for a machine: kernel_image x86 [broken]
kernel_image() {
    echo "$KERNEL_OUT/pagelab-kernel-$1${2:+-$2}"
}

qemu_bin() {
    case $1 in x86) echo qemu-system-i386 ;; riscv) echo qemu-system-riscv64 ;; esac
}

# Debian's package for each QEMU.
qemu_package() {
    case $1 in x86) echo qemu-system-x86 ;; riscv) echo qemu-system-misc ;; esac
}

# QEMU's exit status for a pass and for a failure. x86: isa-debug-exit
# exits with (value << 1) | 1 for the values 0x10 and 0x11 the kernel
# writes; RISC-V: the virt test device exits with 0, or with the code (1).
pass_status() { case $1 in x86) echo 33 ;; riscv) echo 0 ;; esac; }
fail_status() { case $1 in x86) echo 35 ;; riscv) echo 1 ;; esac; }

# qemu_cmd ARCH IMAGE: fill the array QEMU_CMD. PHYSTOP is xv6's: 224 MB
# on x86 (so 256 MB of RAM), 128 MB above 0x80000000 on RISC-V.
qemu_cmd() {
    local arch=$1 image=$2
    case $arch in
        x86)
            QEMU_CMD=(qemu-system-i386 -m 256M -smp 1 -display none -serial stdio -no-reboot
                -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$image")
            ;;
        riscv)
            QEMU_CMD=(qemu-system-riscv64 -machine virt -bios none -m 128M -smp 1 -display none
                -serial stdio -no-reboot -kernel "$image")
            ;;
    esac
}

# Install QEMU for ARCH from Debian if it is missing.
ensure_qemu() {
    local bin pkg sudo=
    bin=$(qemu_bin "$1")
    pkg=$(qemu_package "$1")
    command -v "$bin" >/dev/null && return 0
    if ! command -v apt-get >/dev/null; then
        echo "$bin is missing: install QEMU ($pkg on Debian)" >&2
        return 1
    fi
    if [ "$(id -u)" != 0 ]; then
        if sudo -n true 2>/dev/null; then sudo=sudo; else
            echo "$bin is missing: run 'sudo apt-get install -y $pkg'" >&2
            return 1
        fi
    fi
    echo "installing $pkg (for $bin)"
    $sudo apt-get install -y --no-install-recommends "$pkg" ||
        { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends "$pkg"; }
    command -v "$bin" >/dev/null
}
