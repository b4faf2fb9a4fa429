#!/usr/bin/env python3
"""A toy xv6 "kernel" that runs pagelab's user programs on the Unicorn CPU emulator.

Optional development aid, not used by build.sh or check.sh. It needs the
`unicorn` package from PyPI (pip install unicorn). It implements just enough
of xv6's exec, fork, wait, exit, sbrk and console I/O, with xv6's stack layout
and system call conventions on each architecture, to check that the binaries
really follow the ABI:

  xv6emu.py --arch x86 --dir core/programs/x86 echo hello world
  xv6emu.py --arch riscv --dir core/programs/riscv --input 'echo hi\\n' --eof --boot

--boot starts the way xv6 does: the flat initcode at address 0, which execs
/init, which starts sh. -t prints every system call. Console input comes from
--input (backslash escapes allowed); when it runs out, reading blocks and the
emulation stops, unless --eof makes the console return end-of-file instead.
Exit status: 0 if every process ended or all of them are idle, 1 on a fault.
"""

import argparse
import os
import sys

from unicorn import (
    UC_ARCH_RISCV,
    UC_ARCH_X86,
    UC_HOOK_INTR,
    UC_HOOK_MEM_INVALID,
    UC_MODE_32,
    UC_MODE_RISCV64,
    UC_PROT_ALL,
    UC_PROT_EXEC,
    UC_PROT_NONE,
    UC_PROT_READ,
    UC_PROT_WRITE,
    Uc,
    UcError,
)
from unicorn import riscv_const as rv
from unicorn import x86_const as x86

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from elf import load_segments  # noqa: E402

PAGE = 4096
NAMES = {
    1: "fork", 2: "exit", 3: "wait", 4: "pipe", 5: "read", 6: "kill", 7: "exec", 8: "fstat",
    9: "chdir", 10: "dup", 11: "getpid", 12: "sbrk", 13: "sleep", 14: "uptime", 15: "open",
    16: "write", 17: "mknod", 18: "unlink", 19: "link", 20: "mkdir", 21: "close",
}
NOFILE = 16
MAXARG = 32


def pgup(a):
    return (a + PAGE - 1) & ~(PAGE - 1)


class Stop(Exception):
    pass


class Arch:
    def __init__(self, name):
        self.name = name
        if name == "x86":
            self.uc_args = (UC_ARCH_X86, UC_MODE_32)
            self.word = 4
            self.regs = [x86.UC_X86_REG_EAX, x86.UC_X86_REG_EBX, x86.UC_X86_REG_ECX, x86.UC_X86_REG_EDX,
                         x86.UC_X86_REG_ESI, x86.UC_X86_REG_EDI, x86.UC_X86_REG_EBP, x86.UC_X86_REG_ESP,
                         x86.UC_X86_REG_EIP, x86.UC_X86_REG_EFLAGS]
            self.pc, self.sp, self.ret = x86.UC_X86_REG_EIP, x86.UC_X86_REG_ESP, x86.UC_X86_REG_EAX
            self.machine, self.elfclass = 3, 1
        else:
            self.uc_args = (UC_ARCH_RISCV, UC_MODE_RISCV64)
            self.word = 8
            self.regs = [getattr(rv, f"UC_RISCV_REG_X{i}") for i in range(1, 32)] + [rv.UC_RISCV_REG_PC]
            self.pc, self.sp, self.ret = rv.UC_RISCV_REG_PC, rv.UC_RISCV_REG_SP, rv.UC_RISCV_REG_A0
            self.args_regs = [rv.UC_RISCV_REG_A0 + i for i in range(6)]
            self.machine, self.elfclass = 243, 2


class Proc:
    def __init__(self, kernel, pid, parent):
        self.k, self.pid, self.parent = kernel, pid, parent
        self.uc, self.sz, self.name = None, 0, "?"
        self.fds = [None] * NOFILE
        self.children, self.zombie, self.status = [], False, 0
        self.pending = None

    # --- memory ---------------------------------------------------------
    def new_space(self):
        uc = Uc(*self.k.arch.uc_args)
        uc.hook_add(UC_HOOK_INTR, self.k.on_trap, self)
        uc.hook_add(UC_HOOK_MEM_INVALID, self.k.on_fault, self)
        return uc

    def read_word(self, addr):
        return int.from_bytes(self.uc.mem_read(addr, self.k.arch.word), "little")

    def read_str(self, addr, limit=4096):
        out = bytearray()
        while len(out) < limit:
            b = self.uc.mem_read(addr + len(out), 1)[0]
            if b == 0:
                return bytes(out)
            out.append(b)
        raise Stop(f"pid {self.pid}: unterminated string at {addr:#x}")

    def arg(self, n):
        if self.k.arch.name == "x86":
            # The stub was called: [esp] is its return address, arguments follow.
            esp = self.uc.reg_read(x86.UC_X86_REG_ESP)
            return int.from_bytes(self.uc.mem_read(esp + 4 + 4 * n, 4), "little")
        return self.uc.reg_read(self.k.arch.args_regs[n])

    def sarg(self, n):
        v = self.arg(n)
        bits = 8 * self.k.arch.word
        return v - (1 << bits) if v >> (bits - 1) else v


class Kernel:
    def __init__(self, arch, progdir, console_input, eof, trace, max_syscalls):
        self.arch, self.dir = Arch(arch), progdir
        self.input, self.eof, self.trace = bytearray(console_input), eof, trace
        self.max_syscalls, self.nsyscalls = max_syscalls, 0
        self.nextpid, self.files = 1, set()
        self.sbrks = []  # (pid, name, n, old break)
        self.out = bytearray()

    # --- traps --------------------------------------------------------------
    def on_trap(self, uc, intno, p):
        if self.arch.name == "x86" and intno != 64:
            p.pending = ("fault", f"interrupt {intno}")
        elif self.arch.name == "riscv" and intno != 8:
            p.pending = ("fault", f"exception cause {intno}")
        else:
            p.pending = ("syscall", uc.reg_read(x86.UC_X86_REG_EAX if self.arch.name == "x86" else rv.UC_RISCV_REG_A7))
        uc.emu_stop()

    def on_fault(self, uc, access, addr, size, value, p):
        p.pending = ("fault", f"bad memory access (type {access}) at {addr:#x}")
        return False

    # --- exec ---------------------------------------------------------------
    def load(self, p, path, argv):
        """xv6's exec: returns argc, or -1 leaving p untouched."""
        name = path.decode(errors="replace").lstrip("/")
        file = os.path.join(self.dir, name)
        if "/" in name or not os.path.isfile(file):
            return -1
        uc = p.new_space()
        if name == "initcode":
            with open(file, "rb") as f:
                code = f.read()
            uc.mem_map(0, PAGE, UC_PROT_ALL)
            uc.mem_write(0, code)
            p.uc, p.sz, p.name = uc, PAGE, name
            uc.reg_write(self.arch.pc, 0)
            uc.reg_write(self.arch.sp, PAGE)
            return 0
        data, cls, machine, entry, loads = load_segments(file)
        if cls != self.arch.elfclass or machine != self.arch.machine:
            return -1
        pages = {}
        sz = 0
        for off, vaddr, filesz, memsz, flags in loads:
            if memsz < filesz or vaddr % PAGE:
                return -1
            if self.arch.name == "x86":
                perm = UC_PROT_ALL
            else:
                perm = UC_PROT_READ | (UC_PROT_WRITE if flags & 2 else 0) | (UC_PROT_EXEC if flags & 1 else 0)
            for a in range(vaddr, pgup(vaddr + memsz), PAGE):
                if a in pages:
                    return -1
                pages[a] = perm
            sz = max(sz, vaddr + memsz)
        for a, perm in sorted(pages.items()):
            uc.mem_map(a, PAGE, perm)
        for off, vaddr, filesz, memsz, flags in loads:
            uc.mem_write(vaddr, data[off : off + filesz])
        # Two more pages: an inaccessible guard page, then the stack.
        sz = pgup(sz)
        uc.mem_map(sz, PAGE, UC_PROT_NONE)
        uc.mem_map(sz + PAGE, PAGE, UC_PROT_READ | UC_PROT_WRITE)
        sz += 2 * PAGE
        sp, ptrs, w = sz, [], self.arch.word
        for a in argv:
            sp -= len(a) + 1
            sp = sp & ~3 if self.arch.name == "x86" else sp - sp % 16
            uc.mem_write(sp, a + b"\0")
            ptrs.append(sp)
        if self.arch.name == "x86":
            argvp = sp - (len(argv) + 1) * 4
            ustack = [0xFFFFFFFF, len(argv), argvp] + ptrs + [0]
            sp -= len(ustack) * 4
            uc.mem_write(sp, b"".join(v.to_bytes(4, "little") for v in ustack))
        else:
            sp -= (len(argv) + 1) * w
            sp -= sp % 16
            uc.mem_write(sp, b"".join(v.to_bytes(w, "little") for v in ptrs + [0]))
            # exec's return value (argc) lands in a0 as well.
            uc.reg_write(rv.UC_RISCV_REG_A0, len(argv))
            uc.reg_write(rv.UC_RISCV_REG_A1, sp)
        uc.reg_write(self.arch.pc, entry)
        uc.reg_write(self.arch.sp, sp)
        p.uc, p.sz, p.name = uc, sz, name
        return len(argv)

    # --- processes -----------------------------------------------------------
    def spawn(self, parent):
        p = Proc(self, self.nextpid, parent)
        self.nextpid += 1
        if parent:
            parent.children.append(p)
        return p

    def fork(self, p):
        c = self.spawn(p)
        c.uc, c.sz, c.name, c.fds = c.new_space(), p.sz, p.name, list(p.fds)
        for begin, end, perm in p.uc.mem_regions():
            c.uc.mem_map(begin, end - begin + 1, perm)
            if perm:
                c.uc.mem_write(begin, bytes(p.uc.mem_read(begin, end - begin + 1)))
            else:
                p.uc.mem_protect(begin, end - begin + 1, UC_PROT_READ)
                c.uc.mem_write(begin, bytes(p.uc.mem_read(begin, end - begin + 1)))
                p.uc.mem_protect(begin, end - begin + 1, UC_PROT_NONE)
        for r in self.arch.regs:
            c.uc.reg_write(r, p.uc.reg_read(r))
        c.uc.reg_write(self.arch.ret, 0)
        return c

    def run(self, p):
        """Runs p until it exits (recursively running its children when it waits)."""
        while True:
            p.pending = None
            try:
                p.uc.emu_start(p.uc.reg_read(self.arch.pc), -1 & ((1 << (8 * self.arch.word)) - 1))
            except UcError as e:
                if not p.pending:
                    p.pending = ("fault", str(e))
            if not p.pending:
                p.pending = ("fault", "stopped for no reason")
            kind, what = p.pending
            if kind == "fault":
                raise Stop(f"pid {p.pid} ({p.name}): {what} at pc {p.uc.reg_read(self.arch.pc):#x}")
            self.nsyscalls += 1
            if self.nsyscalls > self.max_syscalls:
                raise Stop(f"stopped after {self.max_syscalls} system calls")
            ret = self.syscall(p, what)
            if ret is None:  # exited
                return
            p.uc.reg_write(self.arch.ret, ret & ((1 << (8 * self.arch.word)) - 1))

    def syscall(self, p, num):
        name = NAMES.get(num, f"sys{num}")
        args = ""
        ret = -1
        if name == "exit":
            p.status = p.sarg(0) if self.arch.name == "riscv" else 0
            p.zombie = True
            for c in p.children:
                c.parent = None
            self.log(p, f"exit({p.status if self.arch.name == 'riscv' else ''})")
            return None
        if name == "fork":
            c = self.fork(p)
            ret = c.pid
        elif name == "wait":
            self.log(p, "wait() ...")
            while True:
                zombies = [c for c in p.children if c.zombie]
                if zombies:
                    c = zombies[0]
                    p.children.remove(c)
                    ret = c.pid
                    if self.arch.name == "riscv" and p.arg(0):
                        p.uc.mem_write(p.arg(0), (c.status & 0xFFFFFFFF).to_bytes(4, "little"))
                    break
                if not p.children:
                    break
                self.run(p.children[0])
        elif name == "exec":
            path = p.read_str(p.arg(0))
            argv, base = [], p.arg(1)
            while len(argv) < MAXARG:
                a = p.read_word(base + self.arch.word * len(argv))
                if a == 0:
                    break
                argv.append(p.read_str(a))
            args = f'"{path.decode()}", {[a.decode() for a in argv]}'
            self.log(p, f"exec({args}) ...")
            ret = self.load(p, path, argv)
            if ret >= 0:
                return ret
        elif name == "sbrk":
            n = p.sarg(0)
            args, ret = str(n), p.sz
            new = p.sz + n
            if n > 0:
                for a in range(pgup(p.sz), pgup(new), PAGE):
                    p.uc.mem_map(a, PAGE, UC_PROT_READ | UC_PROT_WRITE)
            elif n < 0:
                for a in range(pgup(new), pgup(p.sz), PAGE):
                    p.uc.mem_unmap(a, PAGE)
            p.sz = new
            self.sbrks.append((p.pid, p.name, n, ret))
        elif name == "open":
            path, mode = p.read_str(p.arg(0)), p.sarg(1)
            args = f'"{path.decode()}", {mode}'
            if path in self.files and None in p.fds:
                ret = p.fds.index(None)
                p.fds[ret] = path
        elif name == "mknod":
            path = p.read_str(p.arg(0))
            args = f'"{path.decode()}", {p.sarg(1)}, {p.sarg(2)}'
            if path not in self.files:
                self.files.add(path)
                ret = 0
        elif name == "dup":
            fd = p.sarg(0)
            args = str(fd)
            if 0 <= fd < NOFILE and p.fds[fd] and None in p.fds:
                ret = p.fds.index(None)
                p.fds[ret] = p.fds[fd]
        elif name == "close":
            fd = p.sarg(0)
            args = str(fd)
            if 0 <= fd < NOFILE and p.fds[fd]:
                p.fds[fd], ret = None, 0
        elif name == "write":
            fd, buf, n = p.sarg(0), p.arg(1), p.sarg(2)
            if 0 <= fd < NOFILE and p.fds[fd] == b"console" and n >= 0:
                data = bytes(p.uc.mem_read(buf, n))
                self.out += data
                sys.stdout.write(data.decode(errors="replace"))
                sys.stdout.flush()
                args, ret = f"{fd}, {data!r}, {n}", n
            else:
                args = f"{fd}, {buf:#x}, {n}"
        elif name == "read":
            fd, buf, n = p.sarg(0), p.arg(1), p.sarg(2)
            args = f"{fd}, {buf:#x}, {n}"
            if 0 <= fd < NOFILE and p.fds[fd] == b"console" and n >= 0:
                if not self.input and not self.eof:
                    raise Stop(f"idle: pid {p.pid} ({p.name}) waits for console input")
                line = self.input.split(b"\n", 1)[0]
                take = min(n, len(line) + 1, len(self.input))
                p.uc.mem_write(buf, bytes(self.input[:take]))
                del self.input[:take]
                ret = take
        elif name == "chdir":
            args, ret = f'"{p.read_str(p.arg(0)).decode()}"', 0
        elif name == "getpid":
            ret = p.pid
        else:
            raise Stop(f"pid {p.pid} ({p.name}): unsupported system call {name}")
        self.log(p, f"{name}({args}) = {ret:#x}" if name == "sbrk" else f"{name}({args}) = {ret}")
        return ret

    def log(self, p, msg):
        if self.trace:
            sys.stderr.write(f"[{p.pid} {p.name}] {msg}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=["x86", "riscv"], required=True)
    ap.add_argument("--dir", required=True, help="directory holding initcode, init, sh, echo")
    ap.add_argument("--boot", action="store_true", help="start from initcode, as the kernel does")
    ap.add_argument("--input", default="", help="console input (backslash escapes allowed)")
    ap.add_argument("--eof", action="store_true", help="console reads return 0 once the input is used up")
    ap.add_argument("--console", action="store_true", help="the console device node already exists")
    ap.add_argument("-t", "--trace", action="store_true", help="print every system call on stderr")
    ap.add_argument("--max-syscalls", type=int, default=10000)
    ap.add_argument("argv", nargs="*", help="program and arguments to run (without --boot)")
    a = ap.parse_args()
    k = Kernel(a.arch, a.dir, a.input.encode().decode("unicode_escape").encode("latin-1"), a.eof, a.trace,
               a.max_syscalls)
    p = k.spawn(None)
    if a.boot or not a.argv:
        argv = [b"initcode"]
    else:
        argv = [s.encode() for s in a.argv]
        k.files.add(b"console")
        p.fds[0] = p.fds[1] = p.fds[2] = b"console"
    if a.console:
        k.files.add(b"console")
    if k.load(p, argv[0], argv) < 0:
        raise SystemExit(f"cannot exec {argv[0].decode()}")
    code = 0
    try:
        k.run(p)
        msg = "all processes exited"
    except Stop as e:
        msg = str(e)
        code = 1 if "idle" not in msg and "stopped after" not in msg else 0
    for pid, name, n, old in k.sbrks:
        sys.stderr.write(f"xv6emu: sbrk by pid {pid} ({name}): {n} bytes from {old:#x}\n")
    sys.stderr.write(f"xv6emu: {msg}\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
