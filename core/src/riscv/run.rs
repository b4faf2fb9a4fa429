//! Running the real user programs on xv6-riscv: a user-mode hart
//! ([`crate::cpu::rv64::Hart`]) whose every fetch, load and store goes
//! through the TLB and the page walk ([`super::usermem`]), traps into the
//! kernel's operations (`usertrap`, `syscall` in [`super::syscall`]), a
//! round-robin scheduler with a time slice counted in instructions, and the
//! console.
//!
//! Each process's user registers live where xv6 keeps them: in its
//! trapframe page (`struct trapframe`: `epc` at 24, register `xN` at
//! `32 + 8·N`). A trap saves the hart there; returning to user space loads
//! it back. So fork's copy of the trapframe gives the child the parent's
//! registers (with a0 = 0), and exec's commit sets `epc`, `sp`, `a0` and
//! `a1` as xv6-riscv's exec does.
//!
//! ```text
//! Runner::boot(layout) -> userinit        type_input("echo hello world\n")
//! run(budget): pick a runnable process -> usertrapret -> run its hart
//!   ecall   -> usertrap -> syscall (fork, exec, read, write, ...) -> a0
//!   fault   -> usertrap: "unexpected scause", the process is killed
//!   timer   -> usertrap -> yield: the next process in slot order runs
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::RiscvKernel;
use super::RiscvLayout;
use super::usermem::{ProcMem, UserFault, tlb_of};
use crate::Panic;
use crate::addr::PhysAddr;
use crate::cpu::rv64::{Hart, Inst, Stop};
use crate::lab::{Fs, Op};
use crate::mem::{Hal, Sim};
use crate::port::{Kernel, Reject, Xv6Port};
use crate::programs;
use crate::scheme::{Access, Sv39};
use crate::shm::ShmMode;
use crate::sys::{Port, ProcState};
use crate::trace::{Counts, Trace, TraceEvent};

/// Offset of `epc` in xv6-riscv's `struct trapframe`.
const TF_EPC: u64 = 24;

/// Offset of register `x[r]` (1 to 31) in `struct trapframe` (`ra` at 40 … `t6` at 280).
#[must_use]
pub const fn tf_reg(r: usize) -> u64 {
    32 + 8 * r as u64
}

/// Instructions a process runs before the timer interrupts it (xv6's
/// timer fires every million cycles; pagelab counts instructions).
pub const DEFAULT_SLICE: u64 = 100_000;

/// Open files in the whole system (xv6: `NFILE`).
pub const NFILE: usize = 100;
/// Open files per process (xv6: `NOFILE`).
pub const NOFILE: usize = 16;
/// The console's major device number (xv6: `CONSOLE`).
pub const CONSOLE: i16 = 1;
/// Bytes of the console's input buffer (xv6: `INPUT_BUF_SIZE`).
pub const INPUT_BUF_SIZE: u32 = 128;

/// What an open file refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A device node (xv6: `FD_DEVICE`); major 1 is the console.
    Device {
        /// Major device number.
        major: i16,
    },
    /// A file of the (read-only) file system (xv6: `FD_INODE`).
    Inode {
        /// Its path, normalized.
        path: String,
    },
}

/// An entry of the system's open-file table (xv6: `struct file`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// Descriptors (of any process) that refer to it.
    pub refs: u32,
    /// What it is.
    pub kind: FileKind,
    /// Opened for reading.
    pub readable: bool,
    /// Opened for writing.
    pub writable: bool,
    /// Read offset (files only).
    pub off: u64,
}

/// What a sleeping process waits for (xv6: its `chan`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chan {
    /// A line of console input (`consoleread`).
    Console,
    /// A child's exit (`wait`).
    Child,
    /// The tick count reaching this value (`sleep`).
    Ticks(u64),
}

/// What the runner keeps per process beside the kernel's `struct proc`:
/// the descriptor table, what it sleeps on, its exit status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunProc {
    /// Descriptor → index in the open-file table (xv6: `ofile`).
    pub ofile: [Option<usize>; NOFILE],
    /// What it sleeps on, if it sleeps.
    pub chan: Option<Chan>,
    /// Its exit status, once it has exited (xv6: `xstate`).
    pub xstate: i32,
    /// Instructions it has retired.
    pub instret: u64,
}

/// The console (xv6: `cons`): what was printed, and the input ring with
/// its read, write (end of the last whole line) and edit indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Console {
    /// Everything written to the console, typed input echoed included.
    pub out: Vec<u8>,
    /// The input ring.
    pub buf: [u8; INPUT_BUF_SIZE as usize],
    /// Read index.
    pub r: u32,
    /// Write index: input up to here can be read.
    pub w: u32,
    /// Edit index: input typed so far.
    pub e: u32,
}

/// Control-`x` (xv6: `C(x)`).
const fn ctrl(x: u8) -> u8 {
    x - b'@'
}

impl Console {
    fn new() -> Console {
        Console { out: Vec::new(), buf: [0; INPUT_BUF_SIZE as usize], r: 0, w: 0, e: 0 }
    }

    /// One typed character (xv6: `consoleintr`): line editing, echo, and a
    /// whole line (or ^D, or a full buffer) made readable.
    /// Contract: never fails; characters past a full buffer are dropped.
    pub fn consoleintr(&mut self, c: u8) {
        match c {
            c if c == ctrl(b'U') => {
                while self.e != self.w && self.buf[(self.e.wrapping_sub(1) % INPUT_BUF_SIZE) as usize] != b'\n' {
                    self.e = self.e.wrapping_sub(1);
                    self.out.extend_from_slice(b"\x08 \x08");
                }
            }
            0x08 | 0x7f if self.e != self.w => {
                self.e = self.e.wrapping_sub(1);
                self.out.extend_from_slice(b"\x08 \x08");
            }
            0x08 | 0x7f => {}
            0 => {}
            c if self.e.wrapping_sub(self.r) < INPUT_BUF_SIZE => {
                let c = if c == b'\r' { b'\n' } else { c };
                self.out.push(c);
                self.buf[(self.e % INPUT_BUF_SIZE) as usize] = c;
                self.e = self.e.wrapping_add(1);
                if c == b'\n' || c == ctrl(b'D') || self.e.wrapping_sub(self.r) == INPUT_BUF_SIZE {
                    self.w = self.e;
                }
            }
            _ => {}
        }
    }

    /// True if a read would find input (or end of file).
    #[must_use]
    pub fn readable(&self) -> bool {
        self.r != self.w
    }
}

/// Why [`Runner::run`] stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunStop {
    /// It ran the instructions it was given.
    Budget,
    /// [`Runner::run_to_trap`]: a trip into the kernel has been made.
    Trap,
    /// Every live process sleeps, and some wait for console input: type some.
    WaitingForInput,
    /// Every live process sleeps on something nothing will ever wake.
    Deadlock,
    /// No process is left.
    NoProcess,
    /// The kernel panicked (init exited, say); the machine has stopped.
    Panic {
        /// xv6's message.
        message: String,
    },
}

/// What a [`Record`] is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// A system call (`ret` None while it sleeps, or if it never returns: exit, a killed caller).
    Syscall {
        /// Its number (a7).
        num: u64,
        /// xv6's name for it (`"?"` if none).
        name: &'static str,
        /// What it returned in a0.
        ret: Option<i64>,
    },
    /// A trap that kills the process (a page fault, an illegal instruction, ebreak).
    Fault {
        /// scause.
        scause: u64,
        /// stval.
        stval: u64,
        /// sepc.
        sepc: u64,
    },
    /// The timer interrupted the process: it yields.
    Timer,
    /// User code ran (recorded only when each access is shown): the TLB's
    /// hits, misses and fills of its fetches, loads and stores.
    User {
        /// Instructions it retired.
        instructions: u64,
    },
    /// The first process was made.
    Userinit,
    /// The scheduler switched to a process (not a trap of its own).
    Schedule,
    /// The kernel panicked (init exited, say): the machine stops.
    Panic,
}

/// One trip into the kernel, with what the kernel did.
#[derive(Clone, Debug)]
pub struct Record {
    /// The process that trapped (none for `userinit`).
    pub pid: Option<u32>,
    /// Instructions retired (all processes) when it happened.
    pub at: u64,
    /// What it was.
    pub kind: RecordKind,
    /// In words: `write(1, 0x1f88, 18) = 18`.
    pub text: String,
    /// The kernel's events (empty when recording is off).
    pub events: Vec<TraceEvent>,
    /// Pages and TLB work it did.
    pub counts: Counts,
    /// Free frames afterwards.
    pub nfree: u64,
}

/// A killed process's fault, in plain words (also in [`Runner::faults`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserTrap {
    /// The process.
    pub pid: u32,
    /// scause (2 illegal instruction, 3 breakpoint, 12/13/15 page faults).
    pub scause: u64,
    /// Where it was (sepc).
    pub pc: u64,
    /// stval: the faulting address, or the instruction's bits.
    pub stval: u64,
    /// Plain words: what went wrong.
    pub what: String,
}

/// Counts of a run (in JSON, with camelCase names: `tlbHits`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunCounts {
    /// Instructions retired by user code (an `ecall` counts).
    pub instructions: u64,
    /// System calls made.
    pub syscalls: u64,
    /// User accesses the TLB served.
    pub tlb_hits: u64,
    /// User accesses that walked the page table.
    pub tlb_misses: u64,
    /// TLB flushes (every trip through the trampoline makes two).
    pub tlb_flushes: u64,
    /// Timer interrupts (xv6's `ticks`).
    pub ticks: u64,
}

/// A machine running the real programs: xv6-riscv's kernel, the hart, the
/// scheduler, the open files and the console.
#[derive(Clone, Debug)]
pub struct Runner<H: Hal> {
    /// The kernel (memory, allocator, process table, TLBs).
    pub(super) k: RiscvKernel<H>,
    /// The file system exec and open look in.
    pub(super) fs: Fs,
    /// Device nodes made by mknod: path → (major, minor).
    pub(super) nodes: BTreeMap<String, (i16, i16)>,
    /// The kernel's trace of the trip in progress.
    pub(super) tr: Trace,
    /// Counts the TLB's work for user accesses (records nothing).
    scratch: Trace,
    /// The registers of the process in user mode now.
    hart: Hart,
    /// The process whose registers are in `hart`, if one is in user mode.
    cur: Option<u32>,
    /// Slot of the last process the scheduler ran (round robin goes on after it).
    last_slot: usize,
    /// Instructions left in the current slice.
    slice_left: u64,
    /// Instructions per slice.
    slice: u64,
    /// Per-process state beside `struct proc`.
    pub(super) procs: BTreeMap<u32, RunProc>,
    /// The open-file table (xv6: `ftable`).
    pub(super) files: Vec<Option<File>>,
    /// The console.
    pub(super) cons: Console,
    /// The process operations made, as the lab's scenarios write them.
    pub(super) ops: Vec<Op>,
    /// Each trip into the kernel.
    records: Vec<Record>,
    /// Killed processes' faults.
    faults: Vec<UserTrap>,
    /// Counts.
    pub(super) counts: RunCounts,
    /// Set once the kernel panicked.
    halted: Option<String>,
    /// Record the kernel's events in each [`Record`].
    recording: bool,
    /// Record the TLB's work for each user access too.
    show_accesses: bool,
    /// Trips into the kernel so far (records other than user code).
    trips: u64,
    /// What the system call being run again slept on (it was woken).
    pub(super) woken: Option<Chan>,
}

/// What a system call did to its caller.
pub(super) enum Outcome {
    /// It returns this in a0.
    Return(i64),
    /// It sleeps on this; it runs again from the start when woken.
    Sleep(Chan),
    /// The caller no longer runs (it exited).
    Gone,
}

impl RunCounts {
    /// What was counted after `before` (each count less `before`'s).
    #[must_use]
    pub fn since(self, before: RunCounts) -> RunCounts {
        RunCounts {
            instructions: self.instructions.saturating_sub(before.instructions),
            syscalls: self.syscalls.saturating_sub(before.syscalls),
            tlb_hits: self.tlb_hits.saturating_sub(before.tlb_hits),
            tlb_misses: self.tlb_misses.saturating_sub(before.tlb_misses),
            tlb_flushes: self.tlb_flushes.saturating_sub(before.tlb_flushes),
            ticks: self.ticks.saturating_sub(before.ticks),
        }
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
        let base = super::KERNBASE;
        let hw = Sim::new(base, layout.phystop - base);
        let init = programs::initcode(Port::Xv6Riscv).to_vec();
        let k = RiscvKernel::boot(layout, hw, init, ShmMode::Lab, &mut Trace::counting_only())?;
        Runner::new(k, Fs::builtin(Port::Xv6Riscv))
    }
}

impl<H: Hal> Runner<H> {
    /// A runner over a booted kernel `k` whose exec finds programs in `fs`.
    /// Makes the first process (userinit) unless `k` has one already.
    ///
    /// # Errors
    /// A [`Reject`] from userinit.
    pub fn new(k: RiscvKernel<H>, fs: Fs) -> Result<Runner<H>, Reject> {
        let mut r = Runner {
            k,
            fs,
            nodes: BTreeMap::new(),
            tr: Trace::new(),
            scratch: Trace::counting_only(),
            hart: Hart::default(),
            cur: None,
            last_slot: 0,
            slice_left: DEFAULT_SLICE,
            slice: DEFAULT_SLICE,
            procs: BTreeMap::new(),
            files: alloc::vec![None; NFILE],
            cons: Console::new(),
            ops: Vec::new(),
            records: Vec::new(),
            faults: Vec::new(),
            counts: RunCounts::default(),
            halted: None,
            recording: true,
            show_accesses: false,
            trips: 0,
            woken: None,
        };
        if r.k.st.ptable.initproc.is_none() {
            let ret = r.k.userinit(&mut r.tr)?;
            r.ops.push(Op::Userinit);
            r.finish(None, RecordKind::Userinit, format!("userinit() = {}", ret.value));
        }
        for p in r.k.st.ptable.live() {
            r.procs.entry(p.pid).or_default();
        }
        Ok(r)
    }

    /// Time slice in instructions (at least 1); the current slice starts anew.
    pub fn set_slice(&mut self, instructions: u64) {
        self.slice = instructions.max(1);
        self.slice_left = self.slice;
    }

    /// Record the kernel's events of each trip (on by default); off, only counts are kept.
    pub fn set_recording(&mut self, on: bool) {
        self.recording = on;
        self.tr = if on { Trace::new() } else { Trace::counting_only() };
    }

    /// Show each access (off by default): every fetch, load and store
    /// looks in the TLB and its hit, miss and fill events go into a
    /// [`RecordKind::User`] record per stretch of user code. Slow: for
    /// stepping an instruction at a time.
    pub fn set_show_accesses(&mut self, on: bool) {
        self.show_accesses = on;
        self.scratch = if on { Trace::new().unfolded() } else { Trace::counting_only() };
    }

    /// The kernel.
    #[must_use]
    pub fn kernel(&self) -> &RiscvKernel<H> {
        &self.k
    }

    /// Everything printed on the console so far.
    #[must_use]
    pub fn output(&self) -> &[u8] {
        &self.cons.out
    }

    /// Forget the console's output so far (typed input still waiting stays).
    pub fn clear_output(&mut self) {
        self.cons.out.clear();
    }

    /// Type `text` at the console, as its interrupt handler receives it
    /// (each character echoed; a line becomes readable at its newline).
    pub fn type_input(&mut self, text: &str) {
        for &c in text.as_bytes() {
            self.cons.consoleintr(c);
        }
    }

    /// The process operations made so far, as a scenario writes them
    /// (userinit, fork, exec, sbrk, exit, wait, kill): the calls that
    /// returned, not those still asleep.
    #[must_use]
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Every trip into the kernel so far.
    #[must_use]
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Take the records so far, leaving none (for a caller that shows
    /// them as they come, so that a long run does not keep them all).
    pub fn take_records(&mut self) -> Vec<Record> {
        core::mem::take(&mut self.records)
    }

    /// The faults that killed processes.
    #[must_use]
    pub fn faults(&self) -> &[UserTrap] {
        &self.faults
    }

    /// Counts so far.
    #[must_use]
    pub fn counts(&self) -> RunCounts {
        self.counts
    }

    /// The process in user mode now and its registers.
    #[must_use]
    pub fn current(&self) -> Option<(u32, &Hart)> {
        self.cur.map(|pid| (pid, &self.hart))
    }

    /// The runner's state of `pid` (descriptors, what it sleeps on).
    #[must_use]
    pub fn proc_state(&self, pid: u32) -> Option<&RunProc> {
        self.procs.get(&pid)
    }

    /// The instruction the current process runs next, decoded without
    /// touching the TLB or the accessed bits (for display).
    #[must_use]
    pub fn next_instruction(&self) -> Option<(u64, Inst)> {
        let pid = self.cur?;
        let root = self.k.st.ptable.get(pid)?.root;
        let pc = self.hart.pc;
        let half = |va: u64| -> Option<u16> {
            let m = crate::walk::lookup::<Sv39>(&self.k.st.hw, root, crate::addr::VirtAddr::new(va), Access::USER_EXEC)
                .ok()?;
            self.k.st.hw.read_word(m.pa.as_u64(), 2).ok().map(|v| v as u16)
        };
        let lo = half(pc)?;
        let hi = if lo & 3 == 3 { half(pc.wrapping_add(2))? } else { 0 };
        crate::cpu::rv64::decode(lo, hi).ok().map(|i| (pc, i))
    }

    /// Run one instruction (or the trap it makes), scheduling a process first if none runs.
    pub fn step_instruction(&mut self) -> RunStop {
        self.run(1)
    }

    /// Run until the next trip into the kernel (a system call, a fault, the
    /// timer) has been handled, or [`Runner::run`] would stop first.
    pub fn run_to_trap(&mut self, max_instructions: u64) -> RunStop {
        self.run_until(max_instructions, true)
    }

    /// Run user code for at most `max_instructions` instructions: until
    /// then, or until every process sleeps, none is left, or the kernel
    /// panics.
    pub fn run(&mut self, max_instructions: u64) -> RunStop {
        self.run_until(max_instructions, false)
    }

    /// [`Runner::run`], stopping after the first trip into the kernel if `to_trap`.
    fn run_until(&mut self, max_instructions: u64, to_trap: bool) -> RunStop {
        let trips = self.trips;
        if let Some(message) = &self.halted {
            return RunStop::Panic { message: message.clone() };
        }
        let end = self.counts.instructions.saturating_add(max_instructions);
        // Turns of the loop since an instruction last retired: each either
        // runs code or schedules a process, so more than a few per process
        // means sleepers that wake only to sleep again.
        let (mut idle_turns, mut last) = (0usize, self.counts.instructions);
        loop {
            if self.counts.instructions == last {
                idle_turns += 1;
                if idle_turns > 4 * self.k.st.ptable.procs.len() + 8 {
                    return RunStop::Deadlock;
                }
            } else {
                (idle_turns, last) = (0, self.counts.instructions);
            }
            let stop = match self.cur {
                None => self.schedule_next(),
                Some(_) if self.counts.instructions >= end => Ok(Some(RunStop::Budget)),
                Some(pid) => self.run_user(pid, end),
            };
            match stop {
                Ok(None) if to_trap && self.trips > trips => return RunStop::Trap,
                Ok(None) => {}
                Ok(Some(s)) => return s,
                Err(r) => {
                    let message = match r {
                        Reject::Panic { message } => message,
                        other => format!("{other:?}"),
                    };
                    self.halted = Some(message.clone());
                    let (events, counts, _) = self.tr.take();
                    self.records.push(Record {
                        pid: self.cur,
                        at: self.counts.instructions,
                        kind: RecordKind::Panic,
                        text: format!("panic: {message}"),
                        events,
                        counts,
                        nfree: self.k.st.kmem.nfree(),
                    });
                    self.cons.out.extend_from_slice(format!("panic: {message}\n").as_bytes());
                    return RunStop::Panic { message };
                }
            }
        }
    }

    /// Run `pid`'s hart until the slice ends, `end` instructions are
    /// retired, or it traps; then handle the trap.
    fn run_user(&mut self, pid: u32, end: u64) -> Result<Option<RunStop>, Reject> {
        let n = self.slice_left.min(end - self.counts.instructions);
        let root = self.k.st.ptable.get(pid).ok_or(Reject::NoSuchProcess { pid })?.root;
        let st = &mut self.k.st;
        let cpu = st.cpu;
        let on = tlb_of(&mut st.tlbs, cpu).ok_or_else(|| Panic(format!("no cpu {cpu}")))?;
        let mut mem = ProcMem::new(&mut st.hw, on, root, &mut self.scratch);
        mem.show = self.show_accesses;
        let mut done = 0u64;
        let mut stop = None;
        while done < n {
            match self.hart.step(&mut mem) {
                Ok(()) => done += 1,
                Err(s) => {
                    stop = Some(s);
                    break;
                }
            }
        }
        let memo_hits = mem.memo_hits;
        let (events, counts, _) = self.scratch.take();
        self.counts.tlb_hits += counts.tlb.hits + memo_hits;
        self.counts.tlb_misses += counts.tlb.misses;
        self.retire(pid, done);
        if self.show_accesses && !events.is_empty() {
            let text = format!("pid {pid} runs {done} instructions in user mode");
            let at = self.counts.instructions;
            self.records.push(Record {
                pid: Some(pid),
                at,
                kind: RecordKind::User { instructions: done },
                text,
                events,
                counts,
                nfree: self.k.st.kmem.nfree(),
            });
        }
        match stop {
            None if self.slice_left == 0 => self.timer(pid).map(|()| None),
            None => Ok(None),
            Some(Stop::Ecall) => {
                self.retire(pid, 1);
                self.usertrap_syscall(pid).map(|()| None)
            }
            Some(Stop::Fault(f)) => self.usertrap_fault(pid, &f).map(|()| None),
            Some(Stop::Illegal(i)) => {
                let what = format!(
                    "illegal instruction: the hart does not implement the {}-byte instruction {:#0w$x} at {:#x}",
                    i.len,
                    i.bits,
                    self.hart.pc,
                    w = 2 + 2 * usize::from(i.len)
                );
                self.usertrap_kill(pid, 2, u64::from(i.bits), what).map(|()| None)
            }
            Some(Stop::Breakpoint) => {
                let what = format!("ebreak at {:#x}: a breakpoint, which xv6 does not expect", self.hart.pc);
                self.usertrap_kill(pid, 3, 0, what).map(|()| None)
            }
        }
    }

    /// Count `n` retired instructions of `pid`.
    fn retire(&mut self, pid: u32, n: u64) {
        self.counts.instructions += n;
        self.slice_left = self.slice_left.saturating_sub(n);
        if let Some(p) = self.procs.get_mut(&pid) {
            p.instret += n;
        }
    }

    /// The trapframe page of `pid`.
    fn trapframe(&self, pid: u32) -> Result<u64, Reject> {
        let p = self.k.st.ptable.get(pid).ok_or(Reject::NoSuchProcess { pid })?;
        Ok(p.trapframe.as_u64())
    }

    /// Save the hart in `pid`'s trapframe (the trampoline's `uservec`
    /// stores every register; usertrap stores sepc), and keep the
    /// registers the lab shows (`struct proc`'s copy) in step.
    fn save_hart(&mut self, pid: u32) -> Result<(), Reject> {
        let tf = self.trapframe(pid)?;
        let hw = &mut self.k.st.hw;
        let fail = |e: crate::mem::MemError| Reject::from(Panic(format!("usertrap: trapframe: {e}")));
        hw.write_word(tf + TF_EPC, 8, self.hart.pc).map_err(fail)?;
        for r in 1..32 {
            hw.write_word(tf + tf_reg(r), 8, self.hart.x[r]).map_err(fail)?;
        }
        self.sync_regs(pid)
    }

    /// Copy `epc`, `sp`, `a0` and `a1` from `pid`'s trapframe into `struct proc`'s registers.
    pub(super) fn sync_regs(&mut self, pid: u32) -> Result<(), Reject> {
        let tf = self.trapframe(pid)?;
        let get = |off: u64| self.tf_word(tf, off);
        let regs =
            crate::proc::UserRegs { pc: get(TF_EPC)?, sp: get(tf_reg(2))?, a0: get(tf_reg(10))?, a1: get(tf_reg(11))? };
        if let Some(p) = self.k.st.ptable.get_mut(pid) {
            p.regs = regs;
        }
        Ok(())
    }

    /// The word at `off` in the trapframe at `tf`.
    pub(super) fn tf_word(&self, tf: u64, off: u64) -> Result<u64, Reject> {
        self.k.st.hw.read_word(tf + off, 8).map_err(|e| Panic(format!("trapframe: {e}")).into())
    }

    /// Write `v` at `off` in `pid`'s trapframe.
    pub(super) fn set_tf_word(&mut self, pid: u32, off: u64, v: u64) -> Result<(), Reject> {
        let tf = self.trapframe(pid)?;
        self.k.st.hw.write_word(tf + off, 8, v).map_err(|e| Panic(format!("trapframe: {e}")))?;
        self.sync_regs(pid)
    }

    /// Load the hart from `pid`'s trapframe (the trampoline's `userret`).
    fn load_hart(&mut self, pid: u32) -> Result<(), Reject> {
        let tf = self.trapframe(pid)?;
        self.hart.pc = self.tf_word(tf, TF_EPC)?;
        for r in 1..32 {
            self.hart.x[r] = self.tf_word(tf, tf_reg(r))?;
        }
        self.hart.x[0] = 0;
        Ok(())
    }

    /// `pid` traps into the kernel: its registers go to its trapframe,
    /// satp to the kernel's table (`uservec`).
    fn trap_enter(&mut self, pid: u32) -> Result<(), Reject> {
        self.save_hart(pid)?;
        self.k.schedule(&mut self.tr, pid)?;
        self.cur = None;
        if let Some(p) = self.k.st.ptable.get_mut(pid)
            && p.state == ProcState::Running
        {
            p.state = ProcState::Runnable;
        }
        Ok(())
    }

    /// `pid` returns to user space (`usertrapret`, unless the operation
    /// did it already): its registers come back from its trapframe.
    fn trap_return(&mut self, pid: u32) -> Result<(), Reject> {
        if self.k.st.cur() != Some(pid) {
            self.k.enter_user(&mut self.tr, pid);
        }
        self.load_hart(pid)?;
        if let Some(p) = self.k.st.ptable.get_mut(pid) {
            p.state = ProcState::Running;
        }
        self.cur = Some(pid);
        Ok(())
    }

    /// Close the trip in progress: take the trace's events into a record.
    fn finish(&mut self, pid: Option<u32>, kind: RecordKind, text: String) {
        let (events, counts, _) = self.tr.take();
        self.trips += 1;
        self.counts.tlb_flushes += counts.tlb.flushes;
        let events = if self.recording { events } else { Vec::new() };
        let nfree = self.k.st.kmem.nfree();
        self.records.push(Record { pid, at: self.counts.instructions, kind, text, events, counts, nfree });
    }

    /// The timer interrupts `pid`: it traps, the tick count grows, and it
    /// yields (xv6: `usertrap` → `yield`); the scheduler picks next.
    fn timer(&mut self, pid: u32) -> Result<(), Reject> {
        self.trap_enter(pid)?;
        self.counts.ticks += 1;
        self.tr.note(|| format!("timer interrupt: pid {pid} yields (tick {})", self.counts.ticks));
        self.finish(Some(pid), RecordKind::Timer, String::from("timer interrupt: yield"));
        self.slice_left = self.slice;
        Ok(())
    }

    /// True if `pid`, asleep on `chan`, would be woken now.
    fn awake(&self, pid: u32, chan: Chan) -> bool {
        let killed = self.k.st.ptable.get(pid).is_some_and(|p| p.killed);
        killed
            || match chan {
                Chan::Console => self.cons.readable(),
                Chan::Child => !matches!(self.k.st.ptable.zombie_child(pid), Err(Reject::WouldBlock { .. })),
                Chan::Ticks(t) => self.counts.ticks >= t,
            }
    }

    /// The scheduler: the next process after the last one run, in slot
    /// order, that can run; a sleeper whose wait is over runs its system
    /// call again. Returns why nothing can run, if nothing can.
    fn schedule_next(&mut self) -> Result<Option<RunStop>, Reject> {
        let n = self.k.st.ptable.procs.len();
        let mut pick = None;
        for i in 1..=n {
            let slot = (self.last_slot + i) % n;
            let p = &self.k.st.ptable.procs[slot];
            if !matches!(p.state, ProcState::Runnable | ProcState::Running | ProcState::Sleeping) {
                continue;
            }
            let chan = self.procs.get(&p.pid).and_then(|r| r.chan);
            if chan.is_none_or(|c| self.awake(p.pid, c)) {
                pick = Some((slot, p.pid, chan));
                break;
            }
        }
        let Some((slot, pid, chan)) = pick else {
            return Ok(self.idle());
        };
        self.last_slot = slot;
        self.slice_left = self.slice;
        self.k.schedule(&mut self.tr, pid)?;
        if chan.is_some() {
            // Woken: sleep returns inside the system call, which goes on.
            if let Some(p) = self.procs.get_mut(&pid) {
                p.chan = None;
            }
            if let Some(p) = self.k.st.ptable.get_mut(pid) {
                p.state = ProcState::Runnable;
            }
            self.tr.note(|| format!("pid {pid} wakes up"));
            self.woken = chan;
            let r = self.syscall_and_return(pid);
            self.woken = None;
            return r.map(|()| None);
        }
        self.trap_return(pid)?;
        let (events, counts, _) = self.tr.take();
        self.counts.tlb_flushes += counts.tlb.flushes;
        let events = if self.recording { events } else { Vec::new() };
        let text = format!("the scheduler runs pid {pid}");
        let at = self.counts.instructions;
        let nfree = self.k.st.kmem.nfree();
        self.records.push(Record { pid: Some(pid), at, kind: RecordKind::Schedule, text, events, counts, nfree });
        Ok(None)
    }

    /// Nothing can run: let time pass for a sleeper on ticks (None: try
    /// again), or say what is awaited.
    fn idle(&mut self) -> Option<RunStop> {
        let live: Vec<(u32, Option<Chan>)> = self
            .k
            .st
            .ptable
            .live()
            .filter(|p| p.state != ProcState::Zombie)
            .map(|p| (p.pid, self.procs.get(&p.pid).and_then(|r| r.chan)))
            .collect();
        if live.is_empty() {
            return Some(RunStop::NoProcess);
        }
        let first_tick =
            live.iter().filter_map(|(_, c)| if let Some(Chan::Ticks(t)) = c { Some(*t) } else { None }).min();
        if let Some(t) = first_tick
            && t > self.counts.ticks
        {
            // The CPU idles until the first sleeper's tick.
            self.counts.ticks = t;
            return None;
        }
        Some(if live.iter().any(|(_, c)| *c == Some(Chan::Console)) {
            RunStop::WaitingForInput
        } else {
            RunStop::Deadlock
        })
    }

    /// `usertrap` for an `ecall`: save the registers, `epc += 4`, run the
    /// system call, and return to user space if the caller still runs.
    fn usertrap_syscall(&mut self, pid: u32) -> Result<(), Reject> {
        self.trap_enter(pid)?;
        let tf = self.trapframe(pid)?;
        let epc = self.tf_word(tf, TF_EPC)?;
        self.set_tf_word(pid, TF_EPC, epc.wrapping_add(4))?;
        self.counts.syscalls += 1;
        self.syscall_and_return(pid)
    }

    /// Run `pid`'s system call (its number and arguments in its
    /// trapframe), record it, and return to user space or sleep.
    fn syscall_and_return(&mut self, pid: u32) -> Result<(), Reject> {
        let (num, name, args, outcome) = self.syscall(pid)?;
        let (ret, text) = match outcome {
            Outcome::Return(v) => (Some(v), format!("{name}({args}) = {v}")),
            Outcome::Sleep(c) => (None, format!("{name}({args}): sleeps ({c:?})")),
            Outcome::Gone => (None, format!("{name}({args})")),
        };
        if let Outcome::Return(v) = outcome {
            self.set_tf_word(pid, tf_reg(crate::cpu::rv64::A0), v as u64)?;
        }
        let alive = self.k.st.ptable.get(pid).is_some_and(|p| !matches!(p.state, ProcState::Zombie));
        let killed = self.k.st.ptable.get(pid).is_some_and(|p| p.killed);
        if alive && killed {
            // usertrap: a process killed during the call exits on its way out.
            self.k.exit(&mut self.tr, pid)?;
            self.exited(pid, -1);
            self.ops.push(Op::Exit { pid });
        }
        self.finish(Some(pid), RecordKind::Syscall { num, name, ret }, text);
        match outcome {
            Outcome::Return(_) if alive && !killed => self.trap_return(pid),
            Outcome::Sleep(c) if alive && !killed => {
                if let Some(p) = self.procs.get_mut(&pid) {
                    p.chan = Some(c);
                }
                if let Some(p) = self.k.st.ptable.get_mut(pid) {
                    p.state = ProcState::Sleeping;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// `pid` has exited with `status`: keep it for wait, close its files.
    pub(super) fn exited(&mut self, pid: u32, status: i32) {
        let ofile = self.procs.get(&pid).map(|p| p.ofile).unwrap_or_default();
        for f in ofile.into_iter().flatten() {
            self.fileclose(f);
        }
        if let Some(p) = self.procs.get_mut(&pid) {
            p.xstate = status;
            p.ofile = [None; NOFILE];
            p.chan = None;
        }
        if self.cur == Some(pid) {
            self.cur = None;
        }
    }

    /// Drop a reference to open file `f` (xv6: `fileclose`).
    pub(super) fn fileclose(&mut self, f: usize) {
        if let Some(Some(file)) = self.files.get_mut(f) {
            file.refs = file.refs.saturating_sub(1);
            if file.refs == 0 {
                self.files[f] = None;
            }
        }
    }

    /// `usertrap` for a refused access: xv6 prints "unexpected scause" and
    /// kills the process. The trace gets the fault and the walk of the
    /// faulting address.
    fn usertrap_fault(&mut self, pid: u32, f: &UserFault) -> Result<(), Reject> {
        let root = self.k.st.ptable.get(pid).map_or(PhysAddr::new(0), |p| p.root);
        let t = crate::walk::translate::<Sv39>(&self.k.st.hw, root, crate::addr::VirtAddr::new(f.va), f.access);
        let walk: Vec<String> = t
            .steps
            .iter()
            .map(|s| {
                let flags: Vec<&str> = s.flags.iter().filter(|b| b.set).map(|b| b.name).collect();
                format!("{}[{}] = {:#x} ({})", s.field, s.index, s.entry, flags.join(" "))
            })
            .collect();
        let kind = match f.access.kind {
            crate::scheme::AccessKind::Execute => "instruction fetch",
            crate::scheme::AccessKind::Read => "load",
            crate::scheme::AccessKind::Write => "store",
        };
        let what = format!("{kind} at {:#x}: {}; the walk: {}", f.va, f.fault.text, walk.join(", "));
        self.tr.push(crate::trace::Event::PageFault {
            va: crate::addr::VirtAddr::new(f.va),
            code: f.fault.code,
            reason: f.fault.text.clone(),
        });
        self.tr.note(|| format!("the walk of {:#x}: {}", f.va, walk.join(", ")));
        self.usertrap_kill(pid, f.fault.code, f.va, what)
    }

    /// `usertrap` for a trap it does not expect (scause `scause`, stval
    /// `stval`): print xv6's message, kill the process, and record `what`.
    fn usertrap_kill(&mut self, pid: u32, scause: u64, stval: u64, what: String) -> Result<(), Reject> {
        let sepc = self.hart.pc;
        self.trap_enter(pid)?;
        let msg = format!(
            "usertrap(): unexpected scause {scause:#x} pid={pid}\n            sepc={sepc:#x} stval={stval:#x}\n"
        );
        self.cons.out.extend_from_slice(msg.as_bytes());
        self.tr.call("usertrap", String::new, |tr| tr.fail(msg.trim_end()));
        self.tr.note(|| what.clone());
        self.faults.push(UserTrap { pid, scause, pc: sepc, stval, what: what.clone() });
        self.k.st.ptable.mark_killed(pid);
        let r = self.k.exit(&mut self.tr, pid);
        if r.is_ok() {
            self.exited(pid, -1);
            self.ops.push(Op::Exit { pid });
        }
        self.finish(Some(pid), RecordKind::Fault { scause, stval, sepc }, what);
        r.map(|_| ())
    }
}
