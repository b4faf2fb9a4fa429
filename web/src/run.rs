//! Running the real programs in the lab: a [`RunSession`] holds a machine
//! that runs pagelab's own init, sh and echo for xv6-riscv on pagelab's RISC-V CPU
//! (`pagelab_core::riscv::run::Runner`). What the programs do (fork, exec,
//! sbrk, exit, wait) is added to the lab's timeline as they do it, so every
//! other panel shows it. Nothing here touches `web_sys`: it is tested on the host.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use pagelab_core::cpu::rv64::Op as Inst;
use pagelab_core::cpu::x86::{Att, stores_last};
use pagelab_core::scheme::SchemeKind;
use pagelab_core::trace::{Event, event_text};

use crate::select::AccessChoice;
use pagelab_core::lab::{Fs, Op, Preset};
use pagelab_core::mem::Sim;
use pagelab_core::port::Kernel as _;
use pagelab_core::riscv::run::{Record, RecordKind, RunCounts, RunStop};
use pagelab_core::{riscv, x86};

/// Instructions one Run (or a typed line) may take before the lab stops and
/// says so: a program that never waits cannot freeze the tab.
pub const RUN_BUDGET: u64 = 2_000_000;

/// The most operations one command adds to the timeline: a program that
/// forks and exits without end stops there (each operation is replayed by
/// the lab, and the page draws only after the command).
pub const MAX_RUN_OPS: usize = 200;

/// Instructions in one slice of a continuous run ([`RunCommand::Slice`]):
/// the page draws between slices, and Pause takes effect at the next.
pub const SLICE: u64 = 200_000;

/// The longest line a learner may send at once (xv6's console holds 128
/// bytes of input, the newline included).
pub const MAX_LINE: usize = 127;

/// What to do with the running programs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunCommand {
    /// Boot a new xv6-riscv machine and run init until it waits (sh's prompt).
    Start,
    /// Type a line at the console (a newline is added), then run until every process waits.
    Type(String),
    /// Type a line at the console without running: step or run to see what it makes.
    TypeOnly(String),
    /// Type ^D (end of input, as xv6's consoleintr takes it), then run until
    /// every process waits: sh reads nothing, exits, and init starts another.
    EndOfInput,
    /// Run one instruction.
    Instruction,
    /// Run to the next trip into the kernel (a system call, a fault, the timer).
    ToTrap,
    /// Run until every process waits, none is left, or [`RUN_BUDGET`] instructions.
    Run,
    /// Run at most [`SLICE`] instructions (a continuous run is slices one after another).
    Slice,
    /// Record each fetch, load and store's TLB work (slow; for stepping).
    ShowAccesses(bool),
    /// Stop running the programs (the timeline stays).
    Stop,
}

/// A machine running the real programs, beside the lab.
///
/// The run only goes forward: copies of the lab's state share it (stepping
/// back on the timeline shows earlier steps, but the programs go on from
/// where they are).
#[derive(Clone)]
pub struct RunSession {
    runner: Rc<RefCell<AnyRunner>>,
    /// How many of the runner's operations are on the lab's timeline.
    pub applied: usize,
    /// Why the last command stopped.
    pub stop: Option<RunStop>,
    /// True while each access is recorded.
    pub show_accesses: bool,
    /// The preset the programs run on.
    pub preset: Preset,
    /// Commands carried out so far (a view redraws when it changes).
    pub commands: u64,
    /// The instruction the last one-instruction step ran: its address, the
    /// bytes its fetch may read from there, and whether it stores.
    stepped: Option<(u64, u64, bool)>,
    /// How many trips into the kernel there were before the last command.
    since: usize,
    /// The files the lab had uploaded when the programs started, as the
    /// operations that put them in the file system: the timeline's first
    /// operations, before the runner's own.
    files: Vec<Op>,
    /// The last command stopped at [`MAX_RUN_OPS`] operations.
    capped: bool,
}

impl fmt::Debug for RunSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunSession").field("applied", &self.applied).field("stop", &self.stop).finish_non_exhaustive()
    }
}

/// The running machine: xv6-riscv's or xv6-public's.
#[derive(Clone, Debug)]
enum AnyRunner {
    /// xv6-riscv on the RV64 hart.
    Riscv(Box<riscv::run::Runner<Sim>>),
    /// xv6-public on the 32-bit x86 CPU.
    X86(Box<x86::run::Runner<Sim>>),
}

/// `$e` with `$r` bound to the runner, whichever port it is.
macro_rules! each {
    ($any:expr, $r:ident => $e:expr) => {
        match $any {
            AnyRunner::Riscv($r) => $e,
            AnyRunner::X86($r) => $e,
        }
    };
}

/// The CPU of the process in user mode, for the panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuView {
    /// The process.
    pub pid: u32,
    /// Its program counter (pc, eip).
    pub pc: u64,
    /// The instructions it has retired.
    pub instret: u64,
    /// Its registers by name, with their values in hex.
    pub regs: Vec<(String, String)>,
}

/// What the panel shows of a session (copied out, so a view holds no borrow).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunView {
    /// The console's text, as a terminal would show it (backspaces applied).
    pub console: String,
    /// Counts so far.
    pub counts: RunCounts,
    /// The process in user mode and its registers, if one is.
    pub current: Option<CpuView>,
    /// The next instruction (address, disassembly), if a process is in user mode.
    pub next: Option<(u64, String)>,
    /// The latest trips into the kernel, oldest first: (pid, text, a fault?).
    pub recent: Vec<(Option<u32>, String, bool)>,
    /// Faults that killed processes, in words.
    pub faults: Vec<String>,
    /// True if sh (or anything) waits for a line.
    pub waiting_for_input: bool,
    /// True once the machine has stopped for good (a kernel panic, or no process left).
    pub ended: bool,
    /// Free frames on the running machine.
    pub nfree: u64,
    /// While each access is recorded: what the last stretch of user code's
    /// accesses did in the TLB, one line each (at most [`ACCESS_LINES`]).
    pub accesses: Vec<String>,
}

/// How many lines of TLB work the panel lists.
pub const ACCESS_LINES: usize = 40;

/// How many trips into the kernel the panel lists.
pub const RECENT: usize = 10;

impl RunSession {
    /// Boot `preset` and make the first process.
    ///
    /// # Errors
    /// Why it cannot: the machine does not boot.
    pub fn boot(preset: Preset) -> Result<RunSession, String> {
        RunSession::boot_with(preset, Vec::new())
    }

    /// Boot `preset` with `files` (path, bytes) in its file system beside
    /// the built-in programs (a file at a built-in's path replaces it), and
    /// make the first process. The files go first on the run's timeline.
    ///
    /// # Errors
    /// Why it cannot: the machine does not boot.
    pub fn boot_with(preset: Preset, files: Vec<(String, Vec<u8>)>) -> Result<RunSession, String> {
        let over = Default::default();
        let mut fs = Fs::builtin(preset.port());
        for (path, bytes) in &files {
            fs.files.insert(Fs::normalize(path), bytes.clone());
        }
        let runner = match preset {
            Preset::Xv6Riscv | Preset::Xv6RiscvTiny => {
                riscv::run::Runner::boot_with(preset.riscv_layout(&over), fs).map(|r| AnyRunner::Riscv(Box::new(r)))
            }
            Preset::Xv6Public | Preset::Xv6PublicTiny => {
                x86::run::Runner::boot_with(preset.x86_layout(&over), fs).map(|r| AnyRunner::X86(Box::new(r)))
            }
        }
        .map_err(|r| format!("the machine did not boot: {r}"))?;
        let files = files.into_iter().map(|(path, bytes)| Op::File { path, bytes }).collect();
        Ok(RunSession {
            runner: Rc::new(RefCell::new(runner)),
            applied: 0,
            stop: None,
            show_accesses: false,
            preset,
            commands: 0,
            stepped: None,
            since: 0,
            files,
            capped: false,
        })
    }

    /// Carry out `c` (other than [`RunCommand::Start`] and [`RunCommand::Stop`]).
    ///
    /// # Errors
    /// A line that is too long; nothing runs then.
    pub fn command(&mut self, c: &RunCommand) -> Result<(), String> {
        self.commands += 1;
        let mut guard = self.runner.borrow_mut();
        self.since = each!(&*guard, r => r.records().len());
        let r = &mut *guard;
        // Each command adds at most MAX_RUN_OPS operations to the timeline.
        let limit = each!(&*r, r => r.ops().len()) + MAX_RUN_OPS;
        each!(r, r => r.set_op_limit(Some(limit)));
        self.capped = false;
        let stop = match c {
            RunCommand::Type(line) => {
                check_line(line)?;
                each!(r, r => {
                    r.type_input(line);
                    r.type_input("\n");
                    r.run(RUN_BUDGET)
                })
            }
            RunCommand::EndOfInput => each!(r, r => {
                r.type_input("\u{4}");
                r.run(RUN_BUDGET)
            }),
            RunCommand::TypeOnly(line) => {
                check_line(line)?;
                each!(r, r => {
                    r.type_input(line);
                    r.type_input("\n");
                });
                self.stop = None;
                return Ok(());
            }
            RunCommand::Instruction => {
                self.stepped = match &*r {
                    AnyRunner::Riscv(r) => {
                        r.next_instruction().map(|(pc, i)| (pc, u64::from(i.len), matches!(i.op, Inst::Store { .. })))
                    }
                    // x86 fetches in rounds of 4 and 8 bytes (up to the 15 an
                    // instruction may take): its last fetch may lie past the
                    // instruction's own bytes.
                    AnyRunner::X86(r) => r
                        .next_instruction()
                        .map(|(eip, i)| (u64::from(eip), if i.len() <= 8 { 8 } else { 16 }, stores_last(&i))),
                };
                each!(r, r => r.step_instruction())
            }
            RunCommand::ToTrap => each!(r, r => r.run_to_trap(RUN_BUDGET)),
            RunCommand::Run | RunCommand::Start => each!(r, r => r.run(RUN_BUDGET)),
            RunCommand::Slice => each!(r, r => r.run(SLICE)),
            RunCommand::ShowAccesses(on) => {
                each!(r, r => r.set_show_accesses(*on));
                self.show_accesses = *on;
                return Ok(());
            }
            RunCommand::Stop => return Ok(()),
        };
        self.capped = stop == RunStop::Budget && each!(&*r, r => r.ops().len()) >= limit;
        self.stop = Some(stop);
        Ok(())
    }

    /// Why the last command stopped, in plain words (`c` is that command).
    #[must_use]
    pub fn stop_words(&self, c: &RunCommand) -> Option<String> {
        let stop = self.stop.as_ref()?;
        Some(if self.capped && !matches!(c, RunCommand::Slice) {
            format!(
                "Stopped after {MAX_RUN_OPS} operations on the timeline without every process waiting: press Run to go on."
            )
        } else {
            stop_text(stop, c)
        })
    }

    /// Type `line` and a newline at the console without running anything
    /// (the next step or run reads it).
    ///
    /// # Errors
    /// As for [`RunCommand::Type`].
    pub fn type_only(&mut self, line: &str) -> Result<(), String> {
        self.command(&RunCommand::TypeOnly(line.to_string()))
    }

    /// The operations the programs made that are not on the timeline yet.
    #[must_use]
    pub fn new_ops(&self) -> Vec<Op> {
        let f = self.files.len();
        let mut v = self.files.get(self.applied.min(f)..).map(<[Op]>::to_vec).unwrap_or_default();
        let from = self.applied.saturating_sub(f);
        each!(&*self.runner.borrow(), r => v.extend(r.ops().get(from..).unwrap_or_default().iter().cloned()));
        v
    }

    /// Add a program file to the running machine (see
    /// [`pagelab_core::run::Runner::add_file`]); its `file` operation is
    /// the next of [`RunSession::new_ops`].
    ///
    /// # Errors
    /// Why the file cannot be added.
    pub fn add_file(&self, path: &str, bytes: Vec<u8>) -> Result<(), String> {
        let mut r = self.runner.borrow_mut();
        each!(&mut *r, r => r.add_file(path, bytes)).map_err(|e| e.to_string())
    }

    /// True if `ops` (the lab's timeline) is the operations applied so
    /// far (the files first, then the programs'): the learner has not
    /// changed the timeline since.
    #[must_use]
    pub fn follows(&self, ops: &[Op]) -> bool {
        if ops.len() != self.applied {
            return false;
        }
        let f = self.files.len().min(ops.len());
        if ops[..f] != self.files[..f] {
            return false;
        }
        let rest = &ops[f..];
        let r = self.runner.borrow();
        each!(&*r, r => r.ops().get(..rest.len()) == Some(rest))
    }

    /// The access to draw the walk of, as (pid, address, access): the
    /// access that killed a process, if the last trip was such a fault; or,
    /// while each access is recorded, the last access of the instruction
    /// just stepped.
    #[must_use]
    pub fn focus(&self) -> Option<(u32, u64, AccessChoice)> {
        let guard = self.runner.borrow();
        let x86 = matches!(&*guard, AnyRunner::X86(_));
        let records: &[Record] = each!(&*guard, r => r.records());
        let recent = records.get(self.since..).unwrap_or_default();
        // A fault during the last command: the access that killed the process.
        if let Some(rec) = recent.iter().rev().find(|rec| matches!(rec.kind, RecordKind::Fault { .. })) {
            let RecordKind::Fault { scause, stval, sepc, err } = rec.kind else { return None };
            let access = match (x86, scause) {
                // x86: a page fault (trap 14); its error code's bit 1 says a write.
                // 32-bit paging has no execute bit: a fetch fault is at eip itself.
                (true, 14) if err & 2 != 0 => AccessChoice::UserWrite,
                (true, 14) if stval == sepc => AccessChoice::UserExec,
                (true, 14) => AccessChoice::UserRead,
                (false, 12) => AccessChoice::UserExec,
                (false, 15) => AccessChoice::UserWrite,
                (false, 13) => AccessChoice::UserRead,
                _ => return None,
            };
            return Some((rec.pid?, stval, access));
        }
        let last = records.last().filter(|rec| matches!(rec.kind, RecordKind::User { .. }))?;
        if !self.show_accesses {
            return None;
        }
        let (pc, len, store) = self.stepped?;
        let va = last.events.iter().rev().find_map(|e| match e.event {
            Event::TlbHit { va, .. } | Event::TlbMiss { va, .. } => Some(va.as_u64()),
            _ => None,
        })?;
        let access = if (pc..pc + len).contains(&va) {
            AccessChoice::UserExec
        } else if store {
            AccessChoice::UserWrite
        } else {
            AccessChoice::UserRead
        };
        Some((last.pid?, va, access))
    }

    /// Every trip into the kernel so far: (pid, kind, text).
    #[must_use]
    pub fn records(&self) -> Vec<(Option<u32>, RecordKind, String)> {
        each!(&*self.runner.borrow(), r => r.records().iter().map(|r| (r.pid, r.kind.clone(), r.text.clone())).collect())
    }

    /// True if a fault killed a process during the last command.
    #[must_use]
    pub fn faulted(&self) -> bool {
        let r = self.runner.borrow();
        let records: &[Record] = each!(&*r, r => r.records());
        records.get(self.since..).unwrap_or_default().iter().any(|rec| matches!(rec.kind, RecordKind::Fault { .. }))
    }

    /// Each live process's state on the running machine (sleeping in read
    /// or wait, running, runnable): the lab's own machine follows only the
    /// operations, not the sleeps.
    #[must_use]
    pub fn proc_states(&self) -> Vec<(u32, String)> {
        // The process in user mode now (stepped an instruction at a time, say) is running.
        let now = self.running_pid();
        each!(&*self.runner.borrow(), r => r
            .kernel()
            .procs()
            .live()
            .map(|p| (p.pid, if Some(p.pid) == now { String::from("running") } else { p.state.to_string() }))
            .collect())
    }

    /// The pid in user mode now, if any.
    #[must_use]
    pub fn running_pid(&self) -> Option<u32> {
        each!(&*self.runner.borrow(), r => r.current().map(|(p, _)| p))
    }

    /// What the panel shows.
    #[must_use]
    pub fn view(&self) -> RunView {
        let guard = self.runner.borrow();
        let records: &[Record] = each!(&*guard, r => r.records());
        let recent = records
            .iter()
            .filter(|rec| !matches!(rec.kind, RecordKind::User { .. } | RecordKind::Schedule))
            .rev()
            .take(RECENT)
            .map(|rec: &Record| (rec.pid, rec.text.clone(), matches!(rec.kind, RecordKind::Fault { .. })))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let (current, next, scheme) = match &*guard {
            AnyRunner::Riscv(r) => (
                r.current().map(|(pid, h)| CpuView {
                    pid,
                    pc: h.pc,
                    instret: h.instret,
                    regs: REG_NAMES
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (format!("{n} (x{i})"), format!("{:#x}", h.x[i])))
                        .collect(),
                }),
                r.next_instruction().map(|(pc, i)| (pc, i.to_string())),
                SchemeKind::Sv39,
            ),
            AnyRunner::X86(r) => (
                r.current().map(|(pid, c)| {
                    let mut regs: Vec<(String, String)> =
                        X86_REG_NAMES.iter().zip(c.regs).map(|(n, v)| ((*n).to_string(), format!("{v:#x}"))).collect();
                    regs.push(("%eip".to_string(), format!("{:#x}", c.eip)));
                    regs.push(("%eflags".to_string(), format!("{:#x}", c.eflags)));
                    CpuView { pid, pc: u64::from(c.eip), instret: c.instret, regs }
                }),
                r.next_instruction().map(|(eip, i)| (u64::from(eip), Att(&i).to_string())),
                SchemeKind::X86,
            ),
        };
        RunView {
            console: terminal(each!(&*guard, r => r.output())),
            counts: each!(&*guard, r => r.counts()),
            current,
            next,
            recent,
            faults: each!(&*guard, r => r.faults()).iter().map(|f| format!("pid {}: {}", f.pid, f.what)).collect(),
            waiting_for_input: matches!(self.stop, Some(RunStop::WaitingForInput)),
            ended: matches!(self.stop, Some(RunStop::NoProcess | RunStop::Panic { .. } | RunStop::Deadlock)),
            nfree: each!(&*guard, r => r.kernel().kmem().nfree()),
            accesses: match records.iter().rev().find(|rec| !matches!(rec.kind, RecordKind::Schedule)) {
                Some(rec) if self.show_accesses && matches!(rec.kind, RecordKind::User { .. }) => {
                    rec.events.iter().take(ACCESS_LINES).map(|e| event_text(e, scheme)).collect()
                }
                _ => Vec::new(),
            },
        }
    }
}

/// The x86 CPU's registers in its numbering, as AT&T syntax names them.
pub const X86_REG_NAMES: [&str; 8] = ["%eax", "%ecx", "%edx", "%ebx", "%esp", "%ebp", "%esi", "%edi"];

/// `n` with its digits in groups of three (`2,000,000`), for the panel's words.
#[must_use]
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Check a line a learner would type at sh.
///
/// # Errors
/// Too long for xv6's console, or holding control characters.
pub fn check_line(line: &str) -> Result<(), String> {
    if line.len() > MAX_LINE {
        return Err(format!(
            "a line may be at most {MAX_LINE} bytes (xv6's console holds 128); this one has {}",
            byte_count(line)
        ));
    }
    if line.chars().any(char::is_control) {
        return Err("type letters, digits and punctuation only (no control characters)".to_string());
    }
    Ok(())
}

/// How many bytes `text` is, in words: `133 bytes (37 characters)` when a
/// character takes more than one byte, else `40`.
#[must_use]
pub fn byte_count(text: &str) -> String {
    let chars = text.chars().count();
    if chars == text.len() { text.len().to_string() } else { format!("{} bytes ({chars} characters)", text.len()) }
}

/// Why a run stopped, in plain words (`c` is the command that ran).
#[must_use]
pub fn stop_text(s: &RunStop, c: &RunCommand) -> String {
    match s {
        RunStop::Budget if matches!(c, RunCommand::Instruction) => "One instruction ran.".to_string(),
        RunStop::Budget if matches!(c, RunCommand::Slice) => {
            format!("{} more instructions ran, and processes still run.", grouped(SLICE))
        }
        RunStop::Budget => format!(
            "Stopped after {} instructions without every process waiting: press Run to go on.",
            grouped(RUN_BUDGET)
        ),
        RunStop::Trap => "Stopped after one trip into the kernel.".to_string(),
        RunStop::WaitingForInput => {
            "Every process is waiting, and one of them (sh) reads the console: type a line.".to_string()
        }
        RunStop::Deadlock => "Every process sleeps on something that nothing will wake.".to_string(),
        RunStop::NoProcess => "No process is left.".to_string(),
        RunStop::Panic { message } => format!("The kernel panicked: {message}. The machine has stopped."),
    }
}

/// The ABI names of the 32 registers (`x0` is `zero`).
pub const REG_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2",
    "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
];

/// Console bytes as a terminal shows them: a backspace moves back one
/// character (xv6 erases with backspace, space, backspace), other control
/// bytes but newline and tab are dropped, and bytes that are not UTF-8 show
/// as U+FFFD.
#[must_use]
pub fn terminal(bytes: &[u8]) -> String {
    let mut out: Vec<char> = Vec::new();
    // Where the cursor is in the current line (a backspace moves it back).
    let mut line_start = 0usize;
    let mut cursor = 0usize;
    for ch in String::from_utf8_lossy(bytes).chars() {
        match ch {
            '\n' => {
                out.push('\n');
                line_start = out.len();
                cursor = line_start;
            }
            '\u{8}' => cursor = cursor.saturating_sub(1).max(line_start),
            c if c.is_control() && c != '\t' => {}
            c => {
                if cursor < out.len() {
                    out[cursor] = c;
                } else {
                    out.push(c);
                }
                cursor += 1;
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_is_told_for_the_command_that_ran() {
        assert_eq!(stop_text(&RunStop::Budget, &RunCommand::Instruction), "One instruction ran.");
        assert!(stop_text(&RunStop::Budget, &RunCommand::Run).contains("after 2,000,000 instructions"));
        assert!(stop_text(&RunStop::Budget, &RunCommand::Slice).starts_with("200,000 more"));
    }

    #[test]
    fn numbers_are_grouped_by_three() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(2_000_000), "2,000,000");
        assert_eq!(grouped(123_456_789), "123,456,789");
    }

    #[test]
    fn the_terminal_applies_backspaces() {
        // xv6 erases a character with BS, space, BS.
        assert_eq!(terminal(b"$ ecoh\x08 \x08\x08 \x08ho hi\nhi\n$ "), "$ echo hi\nhi\n$ ");
        // A backspace never goes above its line.
        assert_eq!(terminal(b"ab\n\x08\x08c"), "ab\nc");
        assert_eq!(terminal(b"\x07bell\x00"), "bell");
    }

    /// What xv6-riscv (3 harts) prints as it boots.
    const RISCV_BOOT: &str = "\nxv6 kernel is booting\n\nhart 2 starting\nhart 1 starting\n";
    /// What xv6-public (2 CPUs) prints as it boots, and its first forkret's superblock line.
    const X86_BOOT: &str = "cpu1: starting 1\ncpu0: starting 0\nsb: size 1000 nblocks 941 ninodes 200 nlog 30 logstart 2 inodestart 32 bmap start 58\n";

    #[test]
    fn init_boots_into_sh_and_echo_prints_its_line() {
        let mut s = RunSession::boot(Preset::Xv6RiscvTiny).expect("boots");
        s.command(&RunCommand::Run).expect("runs");
        assert_eq!(s.stop, Some(RunStop::WaitingForInput));
        // xv6-riscv's main prints its banner, then each other hart (see core's run tests).
        assert_eq!(s.view().console, format!("{RISCV_BOOT}init: starting sh\n$ "));
        s.command(&RunCommand::Type("echo hello world".into())).expect("runs");
        assert_eq!(s.view().console, format!("{RISCV_BOOT}init: starting sh\n$ echo hello world\nhello world\n$ "));
        // userinit, exec init, fork, exec sh (init's child), then sh's fork for the command, exec echo, exit, wait …
        let ops: Vec<String> = s.new_ops().iter().map(pagelab_core::lab::scenario::print_op).collect();
        assert_eq!(ops[0], "userinit");
        assert!(ops.iter().any(|o| o.starts_with("exec") && o.contains("echo") && o.contains("hello")), "{ops:?}");
    }

    #[test]
    fn lines_that_are_too_long_or_hold_control_characters_are_refused() {
        let mut s = RunSession::boot(Preset::Xv6RiscvTiny).expect("boots");
        s.command(&RunCommand::Run).expect("runs");
        let before = s.view();
        let e = s.command(&RunCommand::Type("x".repeat(MAX_LINE + 1))).unwrap_err();
        assert!(e.contains("at most 127 bytes") && e.ends_with("this one has 128"), "{e}");
        // "echo " and 32 crabs of 4 bytes each: 133 bytes in 37 characters.
        let e = s.command(&RunCommand::Type(format!("echo {}", "\u{1f980}".repeat(32)))).unwrap_err();
        assert!(e.ends_with("this one has 133 bytes (37 characters)"), "{e}");
        assert!(s.command(&RunCommand::Type("a\u{7}b".into())).is_err());
        assert_eq!(s.view(), before);
    }

    #[test]
    fn x86_boots_into_sh_and_echo_prints_its_line() {
        let mut s = RunSession::boot(Preset::Xv6PublicTiny).expect("boots");
        s.command(&RunCommand::Run).expect("runs");
        assert_eq!(s.view().console, format!("{X86_BOOT}init: starting sh\n$ "));
        s.command(&RunCommand::TypeOnly("echo hi".into())).expect("typed");
        // sh wakes in its read: its next instruction shows in AT&T syntax, with x86's registers.
        s.command(&RunCommand::Instruction).expect("steps");
        let v = s.view();
        let cpu = v.current.expect("sh is in user mode");
        assert_eq!((cpu.pid, cpu.regs.len()), (2, 10));
        assert_eq!(cpu.regs[4].0, "%esp");
        assert!(v.next.is_some());
        s.command(&RunCommand::Run).expect("runs");
        assert!(s.view().console.ends_with("$ echo hi\nhi\n$ "), "{}", s.view().console);
    }
}
