//! Running the real user programs on xv6-riscv: the RV64 hart
//! ([`crate::cpu::rv64::Hart`]) driven by the shared runner
//! ([`crate::run::Runner`]).
//!
//! Each process's user registers live where xv6 keeps them: in its
//! trapframe page (`struct trapframe`: `epc` at 24, register `xN` at
//! `32 + 8·N`). A trap saves the hart there; returning to user space loads
//! it back. So fork's copy of the trapframe gives the child the parent's
//! registers (with a0 = 0), and exec's commit sets `epc`, `sp`, `a0` and
//! `a1` as xv6-riscv's exec does. A system call takes its number from a7
//! and its arguments from a0..a5; `usertrap` moves `epc` past the `ecall`.
//!
//! ```text
//! Runner::boot(layout) -> userinit        type_input("echo hello world\n")
//! run(budget): pick a runnable process -> usertrapret -> run its hart
//!   ecall   -> usertrap -> syscall (fork, exec, read, write, ...) -> a0
//!   fault   -> usertrap: "unexpected scause", the process is killed
//!   timer   -> usertrap -> yield: the next process in slot order runs
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{KERNBASE, RiscvKernel, RiscvLayout, TRAMPOLINE, TRAPFRAME};
use crate::Panic;
use crate::cpu::rv64::{Hart, Inst, Stop};
use crate::lab::Fs;
use crate::mem::{Hal, PhysMem, Sim};
use crate::port::Reject;
use crate::programs;
use crate::run::syscall::user_copy;
pub use crate::run::syscall::{MAXPATH, SYSCALL_NAMES};
pub use crate::run::usermem::{ProcMem, UserFault};
pub use crate::run::{
    CONSOLE, Chan, Console, DEFAULT_SLICE, File, FileKind, INPUT_BUF_SIZE, Machine, NFILE, NOFILE, Record, RecordKind,
    RunCounts, RunProc, RunStop, Trap, UserTrap,
};
use crate::scheme::{Access, Sv39};
use crate::shm::ShmMode;
use crate::sys::Port;
use crate::trace::Trace;

/// A machine running the real programs on xv6-riscv.
pub type Runner<H> = crate::run::Runner<RiscvKernel<H>>;

/// Offset of `epc` in xv6-riscv's `struct trapframe`.
const TF_EPC: u64 = 24;

/// Offset of register `x[r]` (1 to 31) in `struct trapframe` (`ra` at 40 … `t6` at 280).
#[must_use]
pub const fn tf_reg(r: usize) -> u64 {
    32 + 8 * r as u64
}

/// a7, the system call's number.
const A7: usize = 17;

impl<H: Hal> RiscvKernel<H> {
    /// The trapframe page of `pid`.
    fn trapframe(&self, pid: u32) -> Result<u64, Reject> {
        let p = self.st.ptable.get(pid).ok_or(Reject::NoSuchProcess { pid })?;
        Ok(p.trapframe.as_u64())
    }

    /// The word at `off` in `pid`'s trapframe.
    fn tf_word(&self, pid: u32, off: u64) -> Result<u64, Reject> {
        let tf = self.trapframe(pid)?;
        self.st.hw.read_word(tf + off, 8).map_err(|e| Panic(format!("trapframe: {e}")).into())
    }

    /// Write `v` at `off` in `pid`'s trapframe, and keep `struct proc`'s registers in step.
    fn set_tf_word(&mut self, pid: u32, off: u64, v: u64) -> Result<(), Reject> {
        let tf = self.trapframe(pid)?;
        self.st.hw.write_word(tf + off, 8, v).map_err(|e| Panic(format!("trapframe: {e}")))?;
        self.sync_regs(pid)
    }

    /// Copy `epc`, `sp`, `a0` and `a1` from `pid`'s trapframe into `struct proc`'s registers.
    fn sync_regs(&mut self, pid: u32) -> Result<(), Reject> {
        let get = |off: u64| self.tf_word(pid, off);
        let regs =
            crate::proc::UserRegs { pc: get(TF_EPC)?, sp: get(tf_reg(2))?, a0: get(tf_reg(10))?, a1: get(tf_reg(11))? };
        if let Some(p) = self.st.ptable.get_mut(pid) {
            p.regs = regs;
        }
        Ok(())
    }

    /// `pid`'s page-table root.
    fn root_of(&self, pid: u32) -> Result<u64, Reject> {
        Ok(self.st.ptable.get(pid).ok_or(Reject::NoSuchProcess { pid })?.root.as_u64())
    }
}

impl<H: Hal> Machine for RiscvKernel<H> {
    type Cpu = Hart;
    type Decode = ();
    type Walk = Sv39;
    const TRAP: &'static str = "usertrap";
    const EXIT_STATUS: bool = true;
    const PTR: u64 = 8;

    /// Contract: the hart's pc.
    fn pc(cpu: &Hart) -> u64 {
        cpu.pc
    }

    /// Contract: an `ecall` leaves pc at it; an instruction the hart lacks
    /// is scause 2 with its bits in stval, `ebreak` scause 3.
    fn step<M: PhysMem>(cpu: &mut Hart, _: Option<&mut ()>, mem: &mut ProcMem<'_, M, Sv39>) -> Result<(), Trap> {
        match cpu.step(mem) {
            Ok(()) => Ok(()),
            Err(Stop::Ecall) => Err(Trap::Syscall),
            Err(Stop::Fault(f)) => Err(Trap::Fault(f)),
            Err(Stop::Illegal(i)) => Err(Trap::Kill {
                code: 2,
                err: 0,
                tval: Some(u64::from(i.bits)),
                what: format!(
                    "illegal instruction: {} ({}-byte instruction {:#0w$x} at {:#x})",
                    illegal_why(i.bits, i.len),
                    i.len,
                    i.bits,
                    cpu.pc,
                    w = 2 + 2 * usize::from(i.len)
                ),
            }),
            Err(Stop::Breakpoint) => Err(Trap::Kill {
                code: 3,
                err: 0,
                tval: Some(0),
                what: format!("ebreak at {:#x}: a breakpoint, which xv6 does not expect", cpu.pc),
            }),
        }
    }

    /// scause (12, 13, 15) as the walk reports it; no error code.
    const BSIZE: u64 = 1024;

    fn user_regs(cpu: &Hart) -> Vec<(&'static str, u64)> {
        let mut v: Vec<(&'static str, u64)> = (1..32).map(|r| (crate::cpu::rv64::reg_name(r), cpu.x[r])).collect();
        v.push(("pc", cpu.pc));
        v
    }

    fn trap_path_accessed(&mut self, tr: &mut Trace, pid: u32, uservec: bool) -> Result<(), Reject> {
        let root = self.st.ptable.get(pid).ok_or(Reject::NoSuchProcess { pid })?.root;
        let tf = if uservec { Access::KERNEL_WRITE } else { Access::KERNEL_READ };
        let fetch = Access { kind: crate::scheme::AccessKind::Execute, mode: crate::scheme::Mode::Kernel };
        for (va, access) in [(TRAMPOLINE, fetch), (TRAPFRAME, tf)] {
            let t = crate::walk::translate::<Sv39>(&self.st.hw, root, crate::addr::VirtAddr::new(va), access);
            crate::walk::set_accessed::<Sv39>(&mut self.st.hw, tr, &t)?;
        }
        Ok(())
    }

    fn page_fault(f: &UserFault) -> (u64, u64) {
        (f.fault.code, 0)
    }

    /// The trampoline's `uservec` stores every register; usertrap stores sepc.
    fn save_cpu(&mut self, pid: u32, cpu: &Hart, _trapno: u64, _err: u64) -> Result<(), Reject> {
        let tf = self.trapframe(pid)?;
        let hw = &mut self.st.hw;
        let fail = |e: crate::mem::MemError| Reject::from(Panic(format!("usertrap: trapframe: {e}")));
        hw.write_word(tf + TF_EPC, 8, cpu.pc).map_err(fail)?;
        for r in 1..32 {
            hw.write_word(tf + tf_reg(r), 8, cpu.x[r]).map_err(fail)?;
        }
        self.sync_regs(pid)
    }

    /// The trampoline's `userret`.
    fn load_cpu(&self, pid: u32, cpu: &mut Hart) -> Result<(), Reject> {
        cpu.pc = self.tf_word(pid, TF_EPC)?;
        for r in 1..32 {
            cpu.x[r] = self.tf_word(pid, tf_reg(r))?;
        }
        cpu.x[0] = 0;
        Ok(())
    }

    /// usertrap: `p->trapframe->epc += 4`.
    fn syscall_trap(&mut self, pid: u32) -> Result<(), Reject> {
        let epc = self.tf_word(pid, TF_EPC)?;
        self.set_tf_word(pid, TF_EPC, epc.wrapping_add(4))
    }

    /// Nothing more: `uservec` put the kernel's page table in satp on the way in.
    fn sched(&mut self, _tr: &mut Trace) {}

    /// `syscall`: the number from a7.
    fn syscall_num(&mut self, pid: u32) -> Result<u64, Reject> {
        self.tf_word(pid, tf_reg(A7))
    }

    /// `p->trapframe->a0 = syscalls[num]()`.
    fn set_return(&mut self, pid: u32, v: i64) -> Result<(), Reject> {
        self.set_tf_word(pid, tf_reg(crate::cpu::rv64::A0), v as u64)
    }

    /// `argraw`: a0..a5 of the trapframe; never fails.
    fn argraw(&mut self, _tr: &mut Trace, pid: u32, n: usize) -> Result<Option<u64>, Reject> {
        self.tf_word(pid, tf_reg(crate::cpu::rv64::A0 + n)).map(Some)
    }

    /// xv6-riscv checks each copy, not the pointer.
    fn argptr(&self, _pid: u32, _addr: u64, _n: u64) -> bool {
        true
    }

    /// `copyin`.
    fn user_in(&mut self, tr: &mut Trace, pid: u32, va: u64, len: u64) -> Result<Option<Vec<u8>>, Reject> {
        let root = self.root_of(pid)?;
        user_copy(self.copyin(tr, root, va, len))
    }

    /// `copyout`.
    fn user_out(&mut self, tr: &mut Trace, pid: u32, va: u64, bytes: &[u8]) -> Result<bool, Reject> {
        let root = self.root_of(pid)?;
        Ok(user_copy(self.copyout(tr, root, va, bytes))?.is_some())
    }

    /// `copyinstr`.
    fn user_str(&mut self, tr: &mut Trace, pid: u32, va: u64, max: u64) -> Result<Option<Vec<u8>>, Reject> {
        let root = self.root_of(pid)?;
        user_copy(self.copyinstr(tr, root, va, max))
    }

    /// `struct stat`: dev (int), ino (uint), type (short), nlink (short), size (uint64): 24 bytes.
    fn stat(dev: i32, ino: u32, ty: u16, nlink: u16, size: u64) -> Vec<u8> {
        let mut st = alloc::vec![0u8; 24];
        st[0..4].copy_from_slice(&dev.to_le_bytes());
        st[4..8].copy_from_slice(&ino.to_le_bytes());
        st[8..10].copy_from_slice(&ty.to_le_bytes());
        st[10..12].copy_from_slice(&nlink.to_le_bytes());
        st[16..24].copy_from_slice(&size.to_le_bytes());
        st
    }

    /// main's banner on hart 0, then "hart N starting" from each other hart
    /// once hart 0 has set `started`. The other harts race to print, so
    /// their order varies from boot to boot; pagelab prints the highest first.
    fn boot_banner(&self) -> String {
        let mut s = String::from("\nxv6 kernel is booting\n\n");
        for h in (1..super::NCPU).rev() {
            s.push_str(&format!("hart {h} starting\n"));
        }
        s
    }

    /// usertrap's `printf("usertrap(): unexpected scause ...")`.
    fn trap_message(&self, pid: u32, code: u64, _err: u64, tval: u64, pc: u64) -> String {
        format!("usertrap(): unexpected scause {code:#x} pid={pid}\n            sepc={pc:#x} stval={tval:#x}\n")
    }
}

impl Runner<Sim> {
    /// Boot xv6-riscv with `layout` over simulated memory, with the
    /// built-in programs (`/init`, `/sh`, `/echo`) and initcode, and make
    /// the first process.
    ///
    /// # Errors
    /// A [`Reject`] if the layout is impossible.
    pub fn boot(layout: RiscvLayout) -> Result<Runner<Sim>, Reject> {
        Runner::boot_with(layout, Fs::builtin(Port::Xv6Riscv))
    }

    /// [`Runner::boot`] with exec finding its programs in `fs`.
    ///
    /// # Errors
    /// As [`Runner::boot`].
    pub fn boot_with(layout: RiscvLayout, fs: Fs) -> Result<Runner<Sim>, Reject> {
        let hw = Sim::new(KERNBASE, layout.phystop - KERNBASE);
        let init = programs::initcode(Port::Xv6Riscv).to_vec();
        let k = RiscvKernel::boot(layout, hw, init, ShmMode::Lab, &mut Trace::counting_only())?;
        Runner::new(k, fs)
    }
}

impl<H: Hal> Runner<H> {
    /// The instruction the current process runs next, decoded without
    /// touching the TLB or the accessed bits (for display).
    #[must_use]
    pub fn next_instruction(&self) -> Option<(u64, Inst)> {
        let (pid, hart) = self.current()?;
        let k = self.kernel();
        let root = k.st.ptable.get(pid)?.root;
        let pc = hart.pc;
        let half = |va: u64| -> Option<u16> {
            let m =
                crate::walk::lookup::<Sv39>(&k.st.hw, root, crate::addr::VirtAddr::new(va), Access::USER_EXEC).ok()?;
            k.st.hw.read_word(m.pa.as_u64(), 2).ok().map(|v| v as u16)
        };
        let lo = half(pc)?;
        let hi = if lo & 3 == 3 { half(pc.wrapping_add(2))? } else { 0 };
        crate::cpu::rv64::decode(lo, hi).ok().map(|i| (pc, i))
    }
}

/// Why a user instruction is illegal, in plain words, by its kind: a CSR
/// access and a floating-point instruction trap on a real hart under xv6
/// too; anything else is outside what pagelab's RV64IMC hart runs.
fn illegal_why(bits: u32, len: u8) -> &'static str {
    let fp16 = len == 2 && matches!((bits & 3, (bits >> 13) & 7), (0 | 2, 1 | 5));
    let op = bits & 0x7f;
    if len == 4 && op == 0x73 && (bits >> 12) & 7 != 0 {
        "a CSR access from user mode; xv6 opens no CSR to user code (not even the cycle and time counters), so a real hart traps here too"
    } else if fp16 || (len == 4 && matches!(op, 0x07 | 0x27 | 0x43 | 0x47 | 0x4b | 0x4f | 0x53)) {
        "a floating-point instruction; xv6 never turns the FPU on (sstatus.FS stays 0), so a real hart traps here too"
    } else {
        "pagelab's hart runs RV64IMC, the integer, multiply and compressed instructions its programs use, and not this one"
    }
}

#[cfg(test)]
mod tests {
    use super::illegal_why;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn illegal_instructions_are_told_by_kind() {
        // csrr a0, sstatus: SYSTEM (0x73) with funct3 2 (csrrs), csr 0x100.
        assert!(illegal_why(0x1000_2573, 4).starts_with("a CSR access"));
        // ecall's encoding has funct3 0: not a CSR access.
        assert!(!illegal_why(0x0000_0073, 4).starts_with("a CSR access"));
        // fadd.d f0, f0, f0: OP-FP (0x53); fld f0, 0(sp): LOAD-FP (0x07); c.fldsp f0, 0(sp): quadrant 2, funct3 1.
        for (bits, len) in [(0x0200_7053, 4), (0x0001_3007, 4), (0x2002, 2)] {
            assert!(illegal_why(bits, len).starts_with("a floating-point instruction"), "{bits:#x}");
        }
        // amoadd.w (AMO, 0x2f): outside RV64IMC.
        assert!(illegal_why(0x0000_202f, 4).starts_with("pagelab's hart runs RV64IMC"));
    }
}
