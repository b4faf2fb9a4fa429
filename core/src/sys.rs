//! What a system call gives back and every way it can fail, apart from the
//! code that makes them, so that every layer can name them: the ELF reader and
//! the process table below the ports, the ports, the lab and the CLI above.
//!
//! Two kinds of "no" are kept apart:
//! - a [`Reject`] means the lab will not run the operation at all (no such
//!   process, xv6 would panic, `wait` would sleep forever): nothing happens;
//! - a [`SysError`] is xv6's own failure: the system call ran, undid its
//!   partial work, and returned -1. It is a step in the timeline, with its
//!   trace.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::Serialize;

use crate::Panic;
use crate::elf::ElfError;
use crate::scheme::SchemeKind;
use crate::walk::Fault;

/// A process slot's state (xv6: `enum procstate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProcState {
    /// The slot is free.
    Unused,
    /// Being created by `allocproc`.
    Embryo,
    /// Blocked (waiting for a child, say).
    Sleeping,
    /// Ready to run.
    Runnable,
    /// Running on a CPU.
    Running,
    /// Exited, waiting for its parent to `wait`.
    Zombie,
}

impl fmt::Display for ProcState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProcState::Unused => "unused",
            ProcState::Embryo => "embryo",
            ProcState::Sleeping => "sleeping",
            ProcState::Runnable => "runnable",
            ProcState::Running => "running",
            ProcState::Zombie => "zombie",
        })
    }
}

/// The lab will not run this operation; nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reject {
    /// No live process has this pid.
    NoSuchProcess {
        /// The pid asked for.
        pid: u32,
    },
    /// The process cannot run (it is a zombie, say).
    NotRunnable {
        /// The pid.
        pid: u32,
        /// Its state.
        state: ProcState,
    },
    /// The first process exists already, or does not exist yet.
    Init {
        /// Plain words.
        why: String,
    },
    /// The call would sleep and nothing in the lab could wake it.
    WouldBlock {
        /// Plain words.
        why: String,
    },
    /// xv6 would panic here.
    Panic {
        /// The panic message.
        message: String,
    },
    /// The note's shared-memory code would corrupt the kernel here.
    NoteRefuses {
        /// What would go wrong.
        why: String,
    },
    /// An argument is out of range.
    BadArgument {
        /// Plain words.
        why: String,
    },
    /// A user access in init faulted: xv6 kills init, and init's exit panics.
    InitFault {
        /// The faulting address.
        va: u64,
        /// The access: "load", "store" or "instruction fetch".
        what: &'static str,
        /// Why it faulted, and what is there.
        why: String,
    },
    /// Replaying the scenario so far has taken more work than a page may
    /// ask for (see `lab::WORK_BUDGET`).
    TooMuchWork {
        /// Frames allocated plus frames freed, up to this operation.
        work: u64,
        /// The limit.
        budget: u64,
    },
}

impl From<Panic> for Reject {
    fn from(p: Panic) -> Reject {
        Reject::Panic { message: p.0 }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::NoSuchProcess { pid } => write!(f, "there is no process with pid {pid}"),
            Reject::NotRunnable { pid, state } => {
                write!(f, "pid {pid} is {state}: it cannot make system calls")
            }
            Reject::Init { why } | Reject::WouldBlock { why } | Reject::BadArgument { why } => f.write_str(why),
            Reject::Panic { message } => write!(f, "xv6 would panic here (\"{message}\"), so the lab stops before it"),
            Reject::NoteRefuses { why } => write!(f, "the note's code would corrupt the kernel here: {why}"),
            Reject::InitFault { va, what, why } => write!(
                f,
                "the {} at {va:#x} faults ({why}); xv6 kills the faulting process, and pid 1 is init: its exit panics (\"init exiting\"), so the lab stops before it. To watch a fault kill a process, make the access in another one (fork pid 1 first if there is none)",
                what
            ),
            Reject::TooMuchWork { work, budget } => write!(
                f,
                "by this operation the scenario has allocated and freed {work} frames, more than the {budget} a link, a widget or the JS API may ask for (so that no page freezes); run it with `pagelab run`, which has no limit, or make it shorter"
            ),
        }
    }
}

/// Why fork failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForkError {
    /// All NPROC slots are taken.
    NoFreeSlot,
    /// kalloc ran out part-way; everything taken so far was given back.
    OutOfMemory,
}

/// What is wrong with one program header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentProblem {
    /// `memsz < filesz`.
    MemszBelowFilesz,
    /// `vaddr + memsz` wraps around.
    AddressWraps,
    /// `vaddr` is not page aligned.
    NotPageAligned,
    /// The bytes to load lie beyond the end of the file.
    BeyondFile,
    /// The segment reaches into the kernel's part of the address space.
    BeyondUserSpace,
    /// The segment ends at address 0 (no bytes at 0), so the grow call
    /// returns the new size 0, which exec takes for a failure.
    EndsAtZero,
}

/// Why exec failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExecError {
    /// No file at that path.
    NotFound {
        /// The path.
        path: String,
    },
    /// The file is not a program this machine loads.
    Elf {
        /// What is wrong.
        error: ElfError,
    },
    /// A program header is unusable.
    Segment {
        /// Which one.
        index: u16,
        /// What is wrong with it.
        problem: SegmentProblem,
    },
    /// More arguments than `sys_exec` accepts.
    TooManyArgs {
        /// How many were given.
        given: usize,
        /// The most allowed.
        max: usize,
    },
    /// An argument longer than `sys_exec` copies (RISC-V: one page).
    ArgTooLong {
        /// Which argument.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// The arguments do not fit in the stack page.
    StackOverflow,
    /// kalloc ran out part-way; everything taken so far was given back.
    OutOfMemory,
    /// xv6-riscv's `sys_exec` found no page to copy an argument into: exec never ran.
    NoArgPage {
        /// Which argument.
        index: usize,
    },
}

/// Why sbrk failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SbrkError {
    /// kalloc ran out part-way; the pages taken so far were given back.
    OutOfMemory,
    /// The new size would reach the kernel's part of the address space.
    BeyondUserSpace,
    /// xv6-public's growproc mistakes a new size of 0 for failure: the pages
    /// were freed but sbrk returns -1 and `sz` is not updated.
    ShrankToZero,
}

/// Why a shared-memory call failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShmError {
    /// Ids are positive numbers (the note's table uses 0 for a free slot).
    BadId {
        /// The id given.
        id: i64,
    },
    /// This process does not have that page open.
    NotOpen,
    /// All 64 entries of the table are in use.
    TableFull,
    /// kalloc ran out.
    OutOfMemory,
    /// No room left below the kernel's part of the address space.
    NoRoom,
}

/// Why a user read or write failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessError {
    /// The page fault, as the trap handler saw it.
    pub fault: Fault,
    /// The faulting address.
    pub va: u64,
}

/// A system call's failure, by call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "call", content = "error", rename_all = "snake_case")]
pub enum SysError {
    /// fork returned -1.
    Fork(ForkError),
    /// exec returned -1.
    Exec(ExecError),
    /// sbrk returned -1.
    Sbrk(SbrkError),
    /// wait returned -1: no children.
    Wait,
    /// openshmem/closeshmem failed.
    Shm(ShmError),
    /// A user access faulted; xv6 kills the process.
    Access(AccessError),
    /// pipe returned -1: kalloc found no page for the pipe.
    Pipe,
}

impl SysError {
    /// True for a load or store that faulted: the call did not fail and
    /// return -1; the trap handler killed the process.
    #[must_use]
    pub fn kills(&self) -> bool {
        matches!(self, SysError::Access(_))
    }
}

impl fmt::Display for ForkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForkError::NoFreeSlot => f.write_str("all process slots (NPROC) are in use"),
            ForkError::OutOfMemory => f.write_str("out of memory; the pages taken so far were given back"),
        }
    }
}

impl fmt::Display for SegmentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SegmentProblem::MemszBelowFilesz => "its memory size is smaller than its file size",
            SegmentProblem::AddressWraps => "its end address wraps around",
            SegmentProblem::NotPageAligned => "its address is not a multiple of the page size",
            SegmentProblem::BeyondFile => "its bytes lie beyond the end of the file",
            SegmentProblem::BeyondUserSpace => "it reaches into the kernel's part of memory",
            SegmentProblem::EndsAtZero => {
                "it ends at address 0, so growing the process to it returns the new size 0, which exec takes for a failure"
            }
        })
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::NotFound { path } => write!(f, "there is no file {path:?}"),
            ExecError::Elf { error } => write!(f, "{error}"),
            ExecError::Segment { index, problem } => write!(f, "program header {index}: {problem}"),
            ExecError::TooManyArgs { given, max } => {
                write!(f, "{given} arguments, but sys_exec takes at most {max} (MAXARG - 1)")
            }
            ExecError::ArgTooLong { index, len } => {
                write!(f, "argument {index} is {len} bytes; sys_exec copies at most a page")
            }
            ExecError::StackOverflow => {
                // x86's copyout fails on the guard page; xv6-riscv's exec checks sp against the stack's base first.
                f.write_str("the arguments do not fit in the one-page stack: they would reach the guard page below it")
            }
            ExecError::OutOfMemory => f.write_str("out of memory; the new image was freed, the old one kept"),
            ExecError::NoArgPage { index } => write!(
                f,
                "out of memory before exec ran: sys_exec's kalloc for argument {index}'s copy returned 0; the copies made so far are freed, and the old image is untouched"
            ),
        }
    }
}

impl fmt::Display for SbrkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SbrkError::OutOfMemory => "out of memory; the pages taken so far were given back",
            SbrkError::BeyondUserSpace => "the process would reach the kernel's part of the address space",
            SbrkError::ShrankToZero => {
                "the pages were freed, but xv6-public's growproc takes deallocuvm's new size 0 for failure"
            }
        })
    }
}

impl fmt::Display for ShmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShmError::BadId { id } if i32::try_from(*id).is_err() => write!(
                f,
                "shared-memory id {id} does not fit an int (the system call takes an int, -2147483648 to 2147483647)"
            ),
            ShmError::BadId { id } => write!(f, "shared-memory id {id} is not a positive number"),
            ShmError::NotOpen => f.write_str("this process does not have that shared page open"),
            ShmError::TableFull => f.write_str("all 64 shared pages are in use"),
            ShmError::OutOfMemory => f.write_str("out of memory"),
            ShmError::NoRoom => f.write_str("no room left below the kernel's part of the address space"),
        }
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "page fault at {:#x}: {}; xv6 kills the process", self.va, self.fault.text)
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SysError::Fork(e) => write!(f, "fork failed: {e}"),
            SysError::Pipe => f.write_str("pipe failed: out of memory, kalloc has no page for the pipe"),
            SysError::Exec(e) => write!(f, "exec failed: {e}"),
            // Here sbrk did what it was asked but said it failed: the words say so first.
            SysError::Sbrk(SbrkError::ShrankToZero) => f.write_str(
                "sbrk returned -1 although the pages were freed: xv6-public's growproc takes deallocuvm's new size 0 for failure",
            ),
            SysError::Sbrk(e) => write!(f, "sbrk failed: {e}"),
            SysError::Wait => f.write_str("wait returned -1: this process has no children"),
            SysError::Shm(e) => write!(f, "{e}"),
            SysError::Access(a) => write!(f, "{a}"),
        }
    }
}

/// What a system call returned, and why it failed if it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SysRet {
    /// The value user code sees (-1 on failure).
    pub value: i64,
    /// Why it failed.
    pub error: Option<SysError>,
    /// Bytes read, for a user read.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "crate::json_bytes::one")]
    pub bytes: Vec<u8>,
}

impl SysRet {
    /// A success returning `value`.
    #[must_use]
    pub fn ok(value: i64) -> SysRet {
        SysRet { value, error: None, bytes: Vec::new() }
    }
    /// A failure (-1).
    #[must_use]
    pub fn err(e: SysError) -> SysRet {
        SysRet { value: -1, error: Some(e), bytes: Vec::new() }
    }
}

impl fmt::Display for SysRet {
    /// What a system call returned, as the CLI and the kernel print it: `3`, `-1 (why)`, `1, bytes 0x14`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)?;
        if let Some(e) = &self.error {
            write!(f, " ({e})")?;
        }
        if !self.bytes.is_empty() {
            write!(f, ", bytes {}", crate::trace::bytes_literal(&self.bytes))?;
        }
        Ok(())
    }
}

/// Facts about a machine, for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MachineInfo {
    /// Preset name.
    pub preset: String,
    /// Which port.
    pub port: Port,
    /// The paging scheme.
    pub scheme: SchemeKind,
    /// First byte of RAM.
    pub ram_base: u64,
    /// One past the last byte of RAM (PHYSTOP).
    pub phystop: u64,
    /// First byte of the kernel image (physical): x86 EXTMEM (1 MB), where
    /// the boot loader puts the kernel; RISC-V KERNBASE, the start of RAM.
    /// RAM below it (x86: what xv6 maps as I/O space) is never allocated.
    pub kernel_start: u64,
    /// First byte after the kernel image (physical).
    pub kernel_end: u64,
    /// Where the kernel's part of each address space starts (x86: KERNBASE; RISC-V: the trapframe).
    pub user_limit: u64,
    /// Named addresses and constants of the layout, for display (`KERNBASE = 0x80000000`).
    pub constants: Vec<(String, u64)>,
    /// Process slots.
    pub nproc: u32,
    /// Most arguments exec takes (MAXARG).
    pub maxarg: u32,
}

/// Which xv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Port {
    /// xv6-public, 32-bit x86.
    Xv6Public,
    /// xv6-riscv, RV64 Sv39.
    Xv6Riscv,
}

impl Port {
    /// What growproc calls to grow and to shrink a process, in this port's
    /// names: `(allocuvm, deallocuvm)` or `(uvmalloc, uvmdealloc)`.
    #[must_use]
    pub fn growproc_calls(self) -> (&'static str, &'static str) {
        match self {
            Port::Xv6Public => ("allocuvm", "deallocuvm"),
            Port::Xv6Riscv => ("uvmalloc", "uvmdealloc"),
        }
    }
}
