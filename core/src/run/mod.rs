//! Running the real user programs, on either port: a user-mode CPU whose
//! every fetch, load and store goes through the TLB and the page walk
//! ([`usermem`]), traps into the kernel's operations (the trap handler,
//! `syscall` in [`syscall`]), a round-robin scheduler with a time slice
//! counted in instructions, the open files and the console.
//!
//! What differs between the ports is a [`Machine`]: the CPU, where the
//! trap saves its registers (xv6-riscv's trapframe page, xv6-public's
//! `struct trapframe` at the top of the kernel stack), how a system call
//! finds its number and arguments (a7 and a0..a5; eax and the user stack),
//! how the kernel reaches user memory, and what the trap handler prints
//! when it kills a process. [`crate::riscv::run`] and [`crate::x86::run`]
//! are the two machines.
//!
//! ```text
//! Runner::boot(layout) -> userinit        type_input("echo hello world\n")
//! run(budget): pick a runnable process -> return to user space -> run its CPU
//!   ecall / int $64 -> trap -> syscall (fork, exec, read, write, ...) -> a0 / eax
//!   fault           -> trap: xv6's message, the process is killed
//!   timer           -> trap -> yield: the next process in slot order runs
//! ```

pub mod syscall;
pub mod transcript;
pub mod usermem;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::Panic;
use crate::addr::PhysAddr;
use crate::lab::{Fs, Op};
use crate::mem::PhysMem;
use crate::port::{Kernel, Reject, Xv6Port};
use crate::scheme::Scheme;
use crate::shm::ShmHost;
use crate::sys::ProcState;
use crate::trace::{Counts, Trace, TraceEvent};
use usermem::{ProcMem, UserFault, tlb_of};

/// A trap out of user code, as the runner handles it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trap {
    /// A system call (`ecall`, `int $64`).
    Syscall,
    /// An access the MMU refused: a page fault.
    Fault(UserFault),
    /// Any other trap, which xv6 does not expect from user code: it kills the process.
    Kill {
        /// scause (RISC-V) or the trap number (x86).
        code: u64,
        /// x86's error code (0 on RISC-V).
        err: u64,
        /// stval; None on x86, whose handler prints what cr2 holds.
        tval: Option<u64>,
        /// Plain words.
        what: String,
    },
}

/// A port's machine as the runner drives it: its kernel (`Self`), its
/// CPU, and the few places where xv6-riscv and xv6-public differ.
pub trait Machine: Xv6Port + ShmHost + Sized {
    /// The user-mode CPU's registers.
    type Cpu: Clone + core::fmt::Debug + Default;
    /// What the CPU keeps between instructions to run faster, without
    /// changing what they do or what they fetch (x86: its decoded
    /// instructions, [`crate::cpu::x86::DecodeCache`]; RISC-V: nothing).
    type Decode: Clone + core::fmt::Debug + Default;
    /// The paging scheme user accesses are walked with.
    type Walk: Scheme;
    /// The trap handler's name (`usertrap`, `trap`).
    const TRAP: &'static str;
    /// True if `exit` takes a status and `wait` an address (xv6-riscv);
    /// xv6-public's `exit(void)` and `wait(void)` take none.
    const EXIT_STATUS: bool;
    /// Bytes of a user pointer (8, 4).
    const PTR: u64;
    /// Bytes of a file-system block (xv6: `BSIZE`; 512 on xv6-public, 1024
    /// on xv6-riscv): a file holds at most `NDIRECT + NINDIRECT` = 12 +
    /// BSIZE/4 blocks.
    const BSIZE: u64;
    /// The CPU's program counter.
    fn pc(cpu: &Self::Cpu) -> u64;
    /// Run one instruction, with `decode`'s help if there is one (none:
    /// as the CPU runs it alone; the same result either way).
    ///
    /// # Errors
    /// The trap it made.
    fn step<M: PhysMem>(
        cpu: &mut Self::Cpu,
        decode: Option<&mut Self::Decode>,
        mem: &mut ProcMem<'_, M, Self::Walk>,
    ) -> Result<(), Trap>;
    /// The user registers a trap saves, by name, with the program counter
    /// (x86 leaves out eflags: some of its bits are undefined after
    /// arithmetic, and CPUs differ there).
    fn user_regs(cpu: &Self::Cpu) -> Vec<(&'static str, u64)>;
    /// What the MMU does to `pid`'s page table on the way between the kernel
    /// and user mode, beyond the user's own accesses: xv6-riscv's `userret`
    /// and `uservec` run from the trampoline page with the process's table
    /// in satp, so its entry gets the accessed bit, and the trapframe's
    /// entry the accessed bit (userret loads the registers) and the dirty
    /// bit (`uservec` stores them: `uservec` true). Only pagelab's CPU needs
    /// this; a real one's MMU does it. Nothing by default (xv6-public's
    /// trap path runs in the kernel's half, which no view of a process's
    /// table shows).
    ///
    /// # Errors
    /// As [`Machine::save_cpu`].
    fn trap_path_accessed(&mut self, _tr: &mut Trace, _pid: u32, _uservec: bool) -> Result<(), Reject> {
        Ok(())
    }
    /// The trap number and error code of a page fault (RISC-V: scause, 0; x86: 14, the error code).
    fn page_fault(f: &UserFault) -> (u64, u64);
    /// Save `cpu` where the trap into the kernel puts `pid`'s registers,
    /// with the trap's number and error code, and keep `struct proc`'s copy in step.
    ///
    /// # Errors
    /// A [`Reject`] if `pid` is gone or its trapframe is not in RAM.
    fn save_cpu(&mut self, pid: u32, cpu: &Self::Cpu, trapno: u64, err: u64) -> Result<(), Reject>;
    /// Load `cpu` from `pid`'s saved registers (the return to user space).
    ///
    /// # Errors
    /// As [`Machine::save_cpu`].
    fn load_cpu(&self, pid: u32, cpu: &mut Self::Cpu) -> Result<(), Reject>;
    /// The trap handler's work on a system call before `syscall` runs
    /// (xv6-riscv moves the saved pc past the `ecall`; on x86 eip is past
    /// the `int` already). Once per trap: a woken sleeper does not repeat it.
    ///
    /// # Errors
    /// As [`Machine::save_cpu`].
    fn syscall_trap(&mut self, pid: u32) -> Result<(), Reject>;
    /// The process gives up the CPU (it sleeps, or the timer makes it
    /// yield): `sched` switches to the scheduler. xv6-public's scheduler
    /// then loads the kernel's page table (`switchkvm`, a TLB flush), so a
    /// process that runs again reloads its own (`switchuvm`); on xv6-riscv
    /// `uservec` has already put the kernel's table in satp.
    fn sched(&mut self, tr: &mut Trace);
    /// The system call's number (a7, eax).
    ///
    /// # Errors
    /// As [`Machine::save_cpu`].
    fn syscall_num(&mut self, pid: u32) -> Result<u64, Reject>;
    /// Put a system call's result where the caller finds it (a0, eax).
    ///
    /// # Errors
    /// As [`Machine::save_cpu`].
    fn set_return(&mut self, pid: u32, v: i64) -> Result<(), Reject>;
    /// The raw value of argument `n` (None: it could not be fetched).
    ///
    /// # Errors
    /// A [`Reject`] when the kernel panics.
    fn argraw(&mut self, tr: &mut Trace, pid: u32, n: usize) -> Result<Option<u64>, Reject>;
    /// True if `n` bytes at `addr` may be passed to the kernel (xv6-public's
    /// `argptr`: inside the process's size; xv6-riscv checks on each copy).
    fn argptr(&self, pid: u32, addr: u64, n: u64) -> bool;
    /// `len` bytes of `pid`'s memory at `va` as the kernel reads them (None: refused).
    ///
    /// # Errors
    /// A [`Reject`] when the kernel panics.
    fn user_in(&mut self, tr: &mut Trace, pid: u32, va: u64, len: u64) -> Result<Option<Vec<u8>>, Reject>;
    /// Write `bytes` into `pid`'s memory at `va` as the kernel does (false: refused).
    ///
    /// # Errors
    /// A [`Reject`] when the kernel panics.
    fn user_out(&mut self, tr: &mut Trace, pid: u32, va: u64, bytes: &[u8]) -> Result<bool, Reject>;
    /// The NUL-terminated string at `va` (at most `max` bytes with its NUL
    /// on RISC-V; below the process's size on x86), without its NUL.
    ///
    /// # Errors
    /// A [`Reject`] when the kernel panics.
    fn user_str(&mut self, tr: &mut Trace, pid: u32, va: u64, max: u64) -> Result<Option<Vec<u8>>, Reject>;
    /// A `struct stat` as this port lays it out.
    fn stat(dev: i32, ino: u32, ty: u16, nlink: u16, size: u64) -> Vec<u8>;
    /// What the kernel prints on the console as it boots, before the first
    /// process runs a user instruction: xv6-riscv's main (its banner, then
    /// "hart N starting" from each other hart), xv6-public's mpmain on each
    /// CPU and the first forkret's iinit (the superblock line).
    fn boot_banner(&self) -> String;
    /// What the trap handler prints when it kills `pid` for trap `code`
    /// (error code `err`, address `tval`) at `pc`, with its newline.
    fn trap_message(&self, pid: u32, code: u64, err: u64, tval: u64, pc: u64) -> String;
    /// What exec prints on the console when no file has its path: xv6-public's
    /// `cprintf("exec: fail\n")`; xv6-riscv's exec prints nothing.
    const EXEC_MISSING: &'static str = "";
    /// Whether open with O_CREATE opens a device that has the name: xv6-riscv's
    /// `create` returns an existing file or device; xv6-public's only a file,
    /// so its open fails.
    const CREATE_OPENS_DEVICES: bool = true;
    /// Whether read and write fail (-1) for a negative byte count: xv6-public's
    /// `argptr` refuses a negative size; xv6-riscv passes it on, and its
    /// console and pipes then move no byte.
    const NEGATIVE_SIZE_FAILS: bool = false;
}

/// A real CPU that runs user code in pagelab's place: the bare-metal
/// kernel's, whose MMU walks the page tables the core built
/// ([`Runner::run_on`]). pagelab's own CPU is the default ([`Runner::run`]).
pub trait UserCpu<K: Machine> {
    /// Run `pid` in user mode from the registers in `cpu` until it traps,
    /// and say what the trap was.
    ///
    /// Contract: `cpu` holds `pid`'s registers and `pid`'s page table is the
    /// one the MMU uses (the runner has returned to user space); on return
    /// `cpu` holds the registers the trap saved, with the program counter
    /// where the hardware left it (RISC-V: at the `ecall`, as for pagelab's
    /// CPU; the runner's trap handler steps past it).
    fn run_user(&mut self, k: &mut K, pid: u32, cpu: &mut K::Cpu) -> Trap;
}

/// The [`UserFault`] of a page fault a real MMU reported: at `va`, for
/// `access`, with the hardware's code (x86's error code, RISC-V's scause);
/// the plain words come from the core's walk of `pid`'s table.
#[must_use]
pub fn hardware_fault<K: Machine>(k: &K, pid: u32, va: u64, access: crate::scheme::Access, code: u64) -> UserFault {
    let root = k.state().ptable.get(pid).map_or(PhysAddr::new(0), |p| p.root);
    let t = crate::walk::translate::<K::Walk>(&k.state().hw, root, crate::addr::VirtAddr::new(va), access);
    let fault = match t.outcome {
        Err(f) => crate::walk::Fault { code, ..f },
        Ok(m) => crate::walk::Fault {
            level: None,
            kind: crate::scheme::FaultKind::NotPresent,
            code,
            text: format!("the hardware refused it, but the core's walk allows it (to {:#x})", m.pa.as_u64()),
        },
    };
    UserFault { va, access, fault }
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
/// Bytes a pipe holds (xv6: `PIPESIZE`).
pub const PIPESIZE: usize = 512;

/// A pipe (xv6: `struct pipe`): the bytes written and not yet read, and
/// whether each end is still open somewhere.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pipe {
    /// At most [`PIPESIZE`] bytes, oldest first.
    pub data: VecDeque<u8>,
    /// Some descriptor still reads from it.
    pub readopen: bool,
    /// Some descriptor still writes to it.
    pub writeopen: bool,
}

/// What an open file refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A device node (xv6: `FD_DEVICE`); major 1 is the console.
    Device {
        /// Major device number.
        major: i16,
    },
    /// A file of the file system (xv6: `FD_INODE`).
    Inode {
        /// Its path, normalized.
        path: String,
    },
    /// One end of a pipe (xv6: `FD_PIPE`); the file's `readable` and
    /// `writable` say which.
    Pipe {
        /// Index in the runner's pipes.
        pipe: usize,
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
    /// Offset of the next read or write (files only).
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
    /// Bytes in a pipe, or its write end closed (`piperead`).
    PipeRead(usize),
    /// Room in a pipe, or its read end closed (`pipewrite`).
    PipeWrite(usize),
}

impl core::fmt::Display for Chan {
    /// What the sleeper waits for, in words: "sleeps until a child exits".
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Chan::Console => f.write_str("sleeps until a line is typed"),
            Chan::Child => f.write_str("sleeps until a child exits"),
            Chan::Ticks(t) => write!(f, "sleeps until tick {t}"),
            Chan::PipeRead(i) => write!(f, "sleeps until pipe {i} has bytes or no writer"),
            Chan::PipeWrite(i) => write!(f, "sleeps until pipe {i} has room or no reader"),
        }
    }
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
    /// Bytes a pipe write had written when it went to sleep for room (it
    /// goes on from there when woken).
    pub pipe_written: u64,
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
    /// A trap that kills the process (a page fault, an illegal instruction, ebreak;
    /// on x86 also a divide error or a general-protection fault).
    Fault {
        /// scause (x86: the trap number, 14 for a page fault).
        scause: u64,
        /// stval (x86: what cr2 holds, the last faulting address).
        stval: u64,
        /// sepc (x86: eip).
        sepc: u64,
        /// x86's error code (0 on RISC-V).
        err: u64,
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
    /// scause (2 illegal instruction, 3 breakpoint, 12/13/15 page faults);
    /// on x86 the trap number (0 divide error, 6 invalid opcode, 13
    /// general protection, 14 page fault).
    pub scause: u64,
    /// x86's error code (a page fault's P, W and U bits); 0 on RISC-V.
    pub err: u64,
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

/// A machine running the real programs: the kernel `K`, its CPU, the
/// scheduler, the open files and the console.
#[derive(Clone, Debug)]
pub struct Runner<K: Machine> {
    /// The kernel (memory, allocator, process table, TLBs).
    pub(crate) k: K,
    /// The file system exec and open look in.
    pub(crate) fs: Fs,
    /// Device nodes made by mknod: path → (major, minor).
    pub(crate) nodes: BTreeMap<String, (i16, i16)>,
    /// The kernel's trace of the trip in progress.
    pub(crate) tr: Trace,
    /// Counts the TLB's work for user accesses (records nothing).
    scratch: Trace,
    /// The registers of the process in user mode now.
    pub(crate) hart: K::Cpu,
    /// The CPU's cache between instructions, shared by every process (None: off).
    decode: Option<K::Decode>,
    /// The last faulting address (x86's cr2).
    cr2: u64,
    /// The process whose registers are in `hart`, if one is in user mode.
    cur: Option<u32>,
    /// Slot of the last process the scheduler ran (round robin goes on after it).
    last_slot: usize,
    /// Instructions left in the current slice.
    slice_left: u64,
    /// Instructions per slice.
    slice: u64,
    /// Per-process state beside `struct proc`.
    pub(crate) procs: BTreeMap<u32, RunProc>,
    /// The open-file table (xv6: `ftable`).
    pub(crate) files: Vec<Option<File>>,
    /// The pipes, by index.
    pub(crate) pipes: Vec<Option<Pipe>>,
    /// The console.
    pub(crate) cons: Console,
    /// The process operations made, as the lab's scenarios write them.
    pub(crate) ops: Vec<Op>,
    /// Each trip into the kernel.
    records: Vec<Record>,
    /// Killed processes' faults.
    faults: Vec<UserTrap>,
    /// Counts.
    pub(crate) counts: RunCounts,
    /// Set once the kernel panicked.
    halted: Option<String>,
    /// Record the kernel's events in each [`Record`].
    recording: bool,
    /// Record the TLB's work for each user access too.
    show_accesses: bool,
    /// Trips into the kernel so far (records other than user code).
    trips: u64,
    /// What the system call being run again slept on (it was woken).
    pub(crate) woken: Option<Chan>,
    /// A run stops (as [`RunStop::Budget`]) once [`Runner::ops`] has this many.
    op_limit: Option<usize>,
}

/// What a system call did to its caller.
pub(crate) enum Outcome {
    /// It returns this in a0.
    Return(i64),
    /// It sleeps on this; it runs again from the start when woken.
    Sleep(Chan),
    /// The caller no longer runs (it exited).
    Gone,
}

impl<K: Machine> Runner<K> {
    /// A runner over a booted kernel `k` whose exec finds programs in `fs`.
    /// Makes the first process (userinit) unless `k` has one already.
    ///
    /// # Errors
    /// A [`Reject`] from userinit.
    pub fn new(k: K, fs: Fs) -> Result<Runner<K>, Reject> {
        let mut r = Runner {
            k,
            fs,
            nodes: BTreeMap::new(),
            tr: Trace::new(),
            scratch: Trace::counting_only(),
            hart: K::Cpu::default(),
            decode: Some(K::Decode::default()),
            cr2: 0,
            cur: None,
            last_slot: 0,
            slice_left: DEFAULT_SLICE,
            slice: DEFAULT_SLICE,
            procs: BTreeMap::new(),
            files: alloc::vec![None; NFILE],
            pipes: Vec::new(),
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
            op_limit: None,
        };
        if r.k.state().ptable.initproc.is_none() {
            // A machine just booted: what its kernel printed on the way.
            let banner = r.k.boot_banner();
            r.cons.out.extend_from_slice(banner.as_bytes());
            let ret = r.k.userinit(&mut r.tr)?;
            r.ops.push(Op::Userinit);
            r.finish(None, RecordKind::Userinit, format!("userinit() = {}", ret.value));
        }
        for p in r.k.state().ptable.live() {
            r.procs.entry(p.pid).or_default();
        }
        Ok(r)
    }

    /// Make a run stop, as if its instructions were spent ([`RunStop::Budget`]),
    /// once the programs have made `limit` operations in all (see
    /// [`Runner::ops`]); `None`: no limit. The run stops between two trips
    /// into the kernel and goes on from there as if it had not stopped: a
    /// page that follows the operations can draw between them.
    pub fn set_op_limit(&mut self, limit: Option<usize>) {
        self.op_limit = limit;
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

    /// Keep decoded instructions between steps (on by default; off, each
    /// instruction is decoded afresh). Nothing the run does or counts
    /// changes either way: for tests and measurements.
    pub fn set_decode_cache(&mut self, on: bool) {
        self.decode = on.then(K::Decode::default);
    }

    /// The kernel.
    #[must_use]
    pub fn kernel(&self) -> &K {
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

    /// Add a program file at `path` while the programs run (a learner's
    /// upload): exec finds it from now on, and the operations get its
    /// `file` line, so a replay adds it at the same point.
    ///
    /// # Errors
    /// A path that is empty or longer than 255 bytes (as a scenario's `file`).
    pub fn add_file(&mut self, path: &str, bytes: Vec<u8>) -> Result<(), Reject> {
        self.fs.add(path, bytes.clone())?;
        self.ops.push(Op::File { path: String::from(path), bytes });
        Ok(())
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
    pub fn current(&self) -> Option<(u32, &K::Cpu)> {
        self.cur.map(|pid| (pid, &self.hart))
    }

    /// The runner's state of `pid` (descriptors, what it sleeps on).
    #[must_use]
    pub fn proc_state(&self, pid: u32) -> Option<&RunProc> {
        self.procs.get(&pid)
    }

    /// Run one instruction (or the trap it makes), scheduling a process first if none runs.
    pub fn step_instruction(&mut self) -> RunStop {
        self.run(1)
    }

    /// Run until the next trip into the kernel (a system call, a fault, the
    /// timer) has been handled, or [`Runner::run`] would stop first.
    pub fn run_to_trap(&mut self, max_instructions: u64) -> RunStop {
        self.run_until(max_instructions, true, None)
    }

    /// Run user code for at most `max_instructions` instructions: until
    /// then, or until every process sleeps, none is left, or the kernel
    /// panics.
    pub fn run(&mut self, max_instructions: u64) -> RunStop {
        self.run_until(max_instructions, false, None)
    }

    /// Run user code on `cpu` (a real CPU) instead of pagelab's, each trap
    /// handled by this runner's kernel as in [`Runner::run`]: until every
    /// process sleeps, none is left, or the kernel panics. A real CPU
    /// counts no instructions and has no time slice.
    pub fn run_on(&mut self, cpu: &mut dyn UserCpu<K>) -> RunStop {
        self.run_until(u64::MAX, false, Some(cpu))
    }

    /// [`Runner::run`], stopping after the first trip into the kernel if
    /// `to_trap`, with user code run by `real` if given.
    fn run_until(&mut self, max_instructions: u64, to_trap: bool, mut real: Option<&mut dyn UserCpu<K>>) -> RunStop {
        let trips = self.trips;
        if let Some(message) = &self.halted {
            return RunStop::Panic { message: message.clone() };
        }
        let end = self.counts.instructions.saturating_add(max_instructions);
        // Turns of the loop since an instruction last retired (or, on a real
        // CPU, which counts none, since a trap other than a system call):
        // each either runs code or schedules a process, so more than a few
        // per process means sleepers that wake only to sleep again.
        let progress = |r: &Self| (r.counts.instructions, r.counts.syscalls, r.faults.len());
        let (mut idle_turns, mut last) = (0usize, progress(self));
        loop {
            if self.op_limit.is_some_and(|l| self.ops.len() >= l) {
                return RunStop::Budget;
            }
            if progress(self) == last {
                idle_turns += 1;
                if idle_turns > 4 * self.k.state().ptable.procs.len() + 8 {
                    return RunStop::Deadlock;
                }
            } else {
                (idle_turns, last) = (0, progress(self));
            }
            let stop = match (self.cur, real.as_deref_mut()) {
                (None, _) => self.schedule_next(),
                (Some(pid), Some(cpu)) => {
                    let trap = cpu.run_user(&mut self.k, pid, &mut self.hart);
                    self.handle_trap(pid, Some(trap))
                }
                (Some(_), None) if self.counts.instructions >= end => Ok(Some(RunStop::Budget)),
                (Some(pid), None) => self.run_user(pid, end),
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
                        nfree: self.k.state().kmem.nfree(),
                    });
                    self.cons.out.extend_from_slice(format!("panic: {message}\n").as_bytes());
                    return RunStop::Panic { message };
                }
            }
        }
    }

    /// Run `pid`'s CPU until the slice ends, `end` instructions are
    /// retired, or it traps; then handle the trap.
    fn run_user(&mut self, pid: u32, end: u64) -> Result<Option<RunStop>, Reject> {
        let n = self.slice_left.min(end - self.counts.instructions);
        self.k.trap_path_accessed(&mut self.scratch, pid, false)?;
        let root = self.k.state().ptable.get(pid).ok_or(Reject::NoSuchProcess { pid })?.root;
        let st = self.k.state_mut();
        let cpu = st.cpu;
        let on = tlb_of(&mut st.tlbs, cpu).ok_or_else(|| Panic(format!("no cpu {cpu}")))?;
        let mut mem = ProcMem::<_, K::Walk>::new(&mut st.hw, on, root, &mut self.scratch);
        mem.show = self.show_accesses;
        let mut done = 0u64;
        let mut stop = None;
        while done < n {
            match K::step(&mut self.hart, self.decode.as_mut(), &mut mem) {
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
                nfree: self.k.state().kmem.nfree(),
            });
        }
        if stop == Some(Trap::Syscall) {
            // The ecall or int retires.
            self.retire(pid, 1);
        }
        if stop.is_some() || self.slice_left == 0 {
            // A trap, or the timer's: into the kernel through uservec.
            self.k.trap_path_accessed(&mut self.scratch, pid, true)?;
        }
        self.handle_trap(pid, stop)
    }

    /// The trap `pid`'s user code made (None: its slice may have ended),
    /// handled as the kernel does.
    fn handle_trap(&mut self, pid: u32, stop: Option<Trap>) -> Result<Option<RunStop>, Reject> {
        match stop {
            None if self.slice_left == 0 => self.timer(pid).map(|()| None),
            None => Ok(None),
            Some(Trap::Syscall) => self.usertrap_syscall(pid).map(|()| None),
            Some(Trap::Fault(f)) => self.usertrap_fault(pid, &f).map(|()| None),
            Some(Trap::Kill { code, err, tval, what }) => {
                let tval = tval.unwrap_or(self.cr2);
                self.usertrap_kill(pid, code, err, tval, what).map(|()| None)
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

    /// `pid` traps into the kernel with trap `trapno` (error code `err`):
    /// its registers go to its trapframe, and on RISC-V satp to the
    /// kernel's table (`uservec`).
    fn trap_enter(&mut self, pid: u32, trapno: u64, err: u64) -> Result<(), Reject> {
        self.k.save_cpu(pid, &self.hart, trapno, err)?;
        self.k.schedule(&mut self.tr, pid)?;
        self.cur = None;
        if let Some(p) = self.k.state_mut().ptable.get_mut(pid)
            && p.state == ProcState::Running
        {
            p.state = ProcState::Runnable;
        }
        Ok(())
    }

    /// `pid` returns to user space (`usertrapret`, unless the operation
    /// did it already): its registers come back from its trapframe.
    fn trap_return(&mut self, pid: u32) -> Result<(), Reject> {
        if self.k.state().cur() != Some(pid) {
            self.k.enter_user(&mut self.tr, pid);
        }
        self.k.load_cpu(pid, &mut self.hart)?;
        if let Some(p) = self.k.state_mut().ptable.get_mut(pid) {
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
        let nfree = self.k.state().kmem.nfree();
        self.records.push(Record { pid, at: self.counts.instructions, kind, text, events, counts, nfree });
    }

    /// The timer interrupts `pid`: it traps, the tick count grows, and it
    /// yields (xv6: `usertrap` → `yield`); the scheduler picks next.
    fn timer(&mut self, pid: u32) -> Result<(), Reject> {
        // x86: T_IRQ0 + IRQ_TIMER.
        self.trap_enter(pid, 32, 0)?;
        self.counts.ticks += 1;
        self.tr.note(|| format!("timer interrupt: pid {pid} yields (tick {})", self.counts.ticks));
        self.k.sched(&mut self.tr);
        self.finish(Some(pid), RecordKind::Timer, String::from("timer interrupt: yield"));
        self.slice_left = self.slice;
        Ok(())
    }

    /// True if `pid`, asleep on `chan`, would be woken now.
    fn awake(&self, pid: u32, chan: Chan) -> bool {
        let killed = self.k.state().ptable.get(pid).is_some_and(|p| p.killed);
        killed
            || match chan {
                Chan::Console => self.cons.readable(),
                Chan::Child => !matches!(self.k.state().ptable.zombie_child(pid), Err(Reject::WouldBlock { .. })),
                Chan::Ticks(t) => self.counts.ticks >= t,
                Chan::PipeRead(i) => {
                    self.pipes.get(i).and_then(Option::as_ref).is_none_or(|p| !p.data.is_empty() || !p.writeopen)
                }
                Chan::PipeWrite(i) => {
                    self.pipes.get(i).and_then(Option::as_ref).is_none_or(|p| p.data.len() < PIPESIZE || !p.readopen)
                }
            }
    }

    /// The scheduler: the next process after the last one run, in slot
    /// order, that can run; a sleeper whose wait is over runs its system
    /// call again. Returns why nothing can run, if nothing can.
    fn schedule_next(&mut self) -> Result<Option<RunStop>, Reject> {
        let n = self.k.state().ptable.procs.len();
        let mut pick = None;
        for i in 1..=n {
            let slot = (self.last_slot + i) % n;
            let p = &self.k.state().ptable.procs[slot];
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
            if let Some(p) = self.k.state_mut().ptable.get_mut(pid) {
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
        let nfree = self.k.state().kmem.nfree();
        self.records.push(Record { pid: Some(pid), at, kind: RecordKind::Schedule, text, events, counts, nfree });
        Ok(None)
    }

    /// Nothing can run: let time pass for a sleeper on ticks (None: try
    /// again), or say what is awaited.
    fn idle(&mut self) -> Option<RunStop> {
        let live: Vec<(u32, Option<Chan>)> = self
            .k
            .state()
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

    /// The trap handler for a system call (xv6-riscv's `usertrap`,
    /// xv6-public's `trap` for `T_SYSCALL`): save the registers, run the
    /// system call, and return to user space if the caller still runs.
    fn usertrap_syscall(&mut self, pid: u32) -> Result<(), Reject> {
        // x86: T_SYSCALL.
        self.trap_enter(pid, 64, 0)?;
        self.k.syscall_trap(pid)?;
        self.counts.syscalls += 1;
        self.syscall_and_return(pid)
    }

    /// Run `pid`'s system call (its number and arguments in its
    /// trapframe), record it, and return to user space or sleep.
    fn syscall_and_return(&mut self, pid: u32) -> Result<(), Reject> {
        let (num, name, args, outcome) = self.syscall(pid)?;
        let (ret, text) = match outcome {
            Outcome::Return(v) => (Some(v), format!("{name}({args}) = {v}")),
            Outcome::Sleep(c) => (None, format!("{name}({args}): {c}")),
            Outcome::Gone => (None, format!("{name}({args})")),
        };
        if let Outcome::Return(v) = outcome {
            self.k.set_return(pid, v)?;
        }
        let alive = self.k.state().ptable.get(pid).is_some_and(|p| !matches!(p.state, ProcState::Zombie));
        let killed = self.k.state().ptable.get(pid).is_some_and(|p| p.killed);
        if alive && killed {
            // usertrap: a process killed during the call exits on its way out.
            self.k.exit(&mut self.tr, pid)?;
            self.exited(pid, -1)?;
            self.ops.push(Op::Exit { pid });
        }
        if matches!(outcome, Outcome::Sleep(_)) && alive && !killed {
            self.k.sched(&mut self.tr);
        }
        // The return to user space is part of the call's trip (its userret
        // flushes count with the call, before the process runs again).
        if matches!(outcome, Outcome::Return(_)) && alive && !killed {
            self.trap_return(pid)?;
        }
        self.finish(Some(pid), RecordKind::Syscall { num, name, ret }, text);
        match outcome {
            Outcome::Sleep(c) if alive && !killed => {
                if let Some(p) = self.procs.get_mut(&pid) {
                    p.chan = Some(c);
                }
                if let Some(p) = self.k.state_mut().ptable.get_mut(pid) {
                    p.state = ProcState::Sleeping;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// `pid` has exited with `status`: keep it for wait, close its files.
    pub(crate) fn exited(&mut self, pid: u32, status: i32) -> Result<(), Reject> {
        let ofile = self.procs.get(&pid).map(|p| p.ofile).unwrap_or_default();
        for f in ofile.into_iter().flatten() {
            self.fileclose(pid, f)?;
        }
        if let Some(p) = self.procs.get_mut(&pid) {
            p.xstate = status;
            p.ofile = [None; NOFILE];
            p.chan = None;
        }
        if self.cur == Some(pid) {
            self.cur = None;
        }
        Ok(())
    }

    /// Drop a reference to open file `f` (xv6: `fileclose`); the last one
    /// of a pipe's end closes that end (`pipeclose`), and the pipe goes
    /// when both are closed.
    pub(crate) fn fileclose(&mut self, pid: u32, f: usize) -> Result<(), Reject> {
        let Some(Some(file)) = self.files.get_mut(f) else { return Ok(()) };
        file.refs = file.refs.saturating_sub(1);
        if file.refs > 0 {
            return Ok(());
        }
        let mut emptied = None;
        if let FileKind::Pipe { pipe } = file.kind
            && let Some(slot) = self.pipes.get_mut(pipe)
            && let Some(p) = slot
        {
            if file.writable {
                p.writeopen = false;
            } else {
                p.readopen = false;
            }
            if !p.readopen && !p.writeopen {
                *slot = None;
                emptied = Some(pipe as u32);
            }
        }
        self.files[f] = None;
        // pipeclose: with both ends closed, the pipe's page goes back.
        if let Some(id) = emptied {
            self.k.pipeclose(&mut self.tr, pid, id)?;
            self.ops.push(Op::PipeClose { pid, id });
        }
        Ok(())
    }

    /// The trap handler for a refused access (`usertrap`; xv6-public's
    /// `trap` for `T_PGFLT`): xv6 prints its message
    /// ("unexpected scause", "trap 14") and kills the process. The trace
    /// gets the fault and the walk of the faulting address.
    fn usertrap_fault(&mut self, pid: u32, f: &UserFault) -> Result<(), Reject> {
        self.cr2 = f.va;
        let root = self.k.state().ptable.get(pid).map_or(PhysAddr::new(0), |p| p.root);
        let t = crate::walk::translate::<K::Walk>(&self.k.state().hw, root, crate::addr::VirtAddr::new(f.va), f.access);
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
        let (code, err) = K::page_fault(f);
        // On the timeline, the access itself: a replay faults and kills the
        // same way.
        let op = match f.access.kind {
            crate::scheme::AccessKind::Read => Op::Read { pid, va: f.va, len: 1 },
            crate::scheme::AccessKind::Write => Op::Write { pid, va: f.va, bytes: alloc::vec![0] },
            crate::scheme::AccessKind::Execute => Op::Fetch { pid, va: f.va },
        };
        self.usertrap_kill_as(pid, (code, err, f.va), what, op)
    }

    /// The trap handler for a trap it does not expect (scause or trap
    /// number `scause`, error code `err`, stval or cr2 `stval`): print
    /// xv6's message, kill the process, and record `what`.
    fn usertrap_kill(&mut self, pid: u32, scause: u64, err: u64, stval: u64, what: String) -> Result<(), Reject> {
        self.usertrap_kill_as(pid, (scause, err, stval), what, Op::Exit { pid })
    }

    /// [`Runner::usertrap_kill`], with `op` as the timeline's record of it.
    fn usertrap_kill_as(
        &mut self,
        pid: u32,
        (scause, err, stval): (u64, u64, u64),
        what: String,
        op: Op,
    ) -> Result<(), Reject> {
        let sepc = K::pc(&self.hart);
        self.trap_enter(pid, scause, err)?;
        let msg = self.k.trap_message(pid, scause, err, stval, sepc);
        self.cons.out.extend_from_slice(msg.as_bytes());
        self.tr.call(K::TRAP, String::new, |tr| tr.printed(msg.trim_end()));
        self.tr.note(|| what.clone());
        self.faults.push(UserTrap { pid, scause, err, pc: sepc, stval, what: what.clone() });
        self.k.state_mut().ptable.mark_killed(pid);
        let r = self.k.exit(&mut self.tr, pid);
        if r.is_ok() {
            self.exited(pid, -1)?;
            self.ops.push(op);
        }
        self.finish(Some(pid), RecordKind::Fault { scause, stval, sepc, err }, what);
        r.map(|_| ())
    }
}
