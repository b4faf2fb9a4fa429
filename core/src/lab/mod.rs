//! The lab: a machine preset plus a list of operations. Replaying the list
//! gives every state, so undo, links and the timeline all come from it.
//!
//! ```
//! use pagelab_core::lab::{Lab, Op, Preset};
//! use pagelab_core::shm::ShmMode;
//!
//! let mut lab = Lab::new(Preset::Xv6Public, ShmMode::Lab);
//! lab.apply(Op::Userinit).unwrap();
//! let step = lab.apply(Op::Exec { pid: 1, path: "/init".into(), argv: vec![b"init".to_vec()] }).unwrap();
//! // exec of init: 3 user pages (text, guard, stack) allocated, the initcode page freed.
//! assert_eq!((step.counts.user_alloc, step.counts.user_free), (3, 1));
//! ```

pub mod scenario;
pub mod view;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::Serialize;

use crate::kernel::{Kernel, Port, Reject, SysRet};
use crate::mem::Sim;
use crate::programs;
use crate::riscv::{RiscvKernel, RiscvLayout};
use crate::shm::ShmMode;
use crate::trace::{Counts, Event, Trace, TraceEvent};
use crate::x86::{X86Kernel, X86Layout};

/// A machine to start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// xv6-public on x86: 224 MB, 2 CPUs.
    Xv6Public,
    /// xv6-public with 2 MB of RAM (a frame map that fits on a screen).
    Xv6PublicTiny,
    /// xv6-riscv: 128 MB.
    Xv6Riscv,
    /// xv6-riscv with 2 MB of RAM.
    Xv6RiscvTiny,
}

impl Preset {
    /// All presets.
    pub const ALL: [Preset; 4] = [Preset::Xv6Public, Preset::Xv6PublicTiny, Preset::Xv6Riscv, Preset::Xv6RiscvTiny];

    /// Name used in scenarios and links.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Preset::Xv6Public => "xv6-public",
            Preset::Xv6PublicTiny => "xv6-public-tiny",
            Preset::Xv6Riscv => "xv6-riscv",
            Preset::Xv6RiscvTiny => "xv6-riscv-tiny",
        }
    }

    /// The preset with this name (also `x86`, `riscv`, `x86-tiny`, `riscv-tiny`).
    #[must_use]
    pub fn from_name(s: &str) -> Option<Preset> {
        let s = s.to_ascii_lowercase();
        Preset::ALL.into_iter().find(|p| p.name() == s).or(match s.as_str() {
            "x86" => Some(Preset::Xv6Public),
            "x86-tiny" => Some(Preset::Xv6PublicTiny),
            "riscv" | "sv39" => Some(Preset::Xv6Riscv),
            "riscv-tiny" => Some(Preset::Xv6RiscvTiny),
            _ => None,
        })
    }

    /// Which xv6.
    #[must_use]
    pub fn port(self) -> Port {
        match self {
            Preset::Xv6Public | Preset::Xv6PublicTiny => Port::Xv6Public,
            Preset::Xv6Riscv | Preset::Xv6RiscvTiny => Port::Xv6Riscv,
        }
    }

    /// A sentence for a menu.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Preset::Xv6Public => "xv6-public (x86, two-level paging), 224 MB as in its Makefile",
            Preset::Xv6PublicTiny => "xv6-public (x86) with 2 MB of RAM: few enough frames to see them all",
            Preset::Xv6Riscv => "xv6-riscv (RISC-V Sv39, three levels), 128 MB as in its Makefile",
            Preset::Xv6RiscvTiny => "xv6-riscv (Sv39) with 2 MB of RAM: few enough frames to see them all",
        }
    }

    /// Boot a simulated machine.
    ///
    /// # Panics
    /// Only if a preset's layout is broken (a bug, covered by tests).
    #[must_use]
    pub fn boot(self, shm: ShmMode, tr: &mut Trace) -> Box<dyn Kernel + Send> {
        match self.port() {
            Port::Xv6Public => {
                let layout = if self == Preset::Xv6Public { X86Layout::xv6_public() } else { X86Layout::tiny() };
                let hw = Sim::new(0, u64::from(layout.phystop));
                let init = programs::initcode(Port::Xv6Public).to_vec();
                Box::new(X86Kernel::boot(layout, hw, init, shm, tr).expect("preset boots"))
            }
            Port::Xv6Riscv => {
                let layout = if self == Preset::Xv6Riscv { RiscvLayout::xv6_riscv() } else { RiscvLayout::tiny() };
                let base = crate::riscv::KERNBASE;
                let hw = Sim::new(base, layout.phystop - base);
                let init = programs::initcode(Port::Xv6Riscv).to_vec();
                Box::new(RiscvKernel::boot(layout, hw, init, shm, tr).expect("preset boots"))
            }
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One operation of a scenario: a system call made by a process, or a change to the lab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Make the first process.
    Userinit,
    /// `pid` forks.
    Fork {
        /// Who.
        pid: u32,
    },
    /// `pid` calls exec(path, argv).
    Exec {
        /// Who.
        pid: u32,
        /// The program's path.
        path: String,
        /// The arguments, `argv[0]` first.
        argv: Vec<Vec<u8>>,
    },
    /// `pid` calls sbrk(n).
    Sbrk {
        /// Who.
        pid: u32,
        /// Bytes to grow (negative: shrink).
        n: i64,
    },
    /// `pid` exits.
    Exit {
        /// Who.
        pid: u32,
    },
    /// `pid` waits for a child.
    Wait {
        /// Who.
        pid: u32,
    },
    /// `pid` is killed.
    Kill {
        /// Who.
        pid: u32,
    },
    /// `pid` calls openshmem(id).
    OpenShm {
        /// Who.
        pid: u32,
        /// The shared page's id.
        id: i64,
    },
    /// `pid` calls closeshmem(id).
    CloseShm {
        /// Who.
        pid: u32,
        /// The shared page's id.
        id: i64,
    },
    /// User code in `pid` loads `len` bytes at `va`.
    Read {
        /// Who.
        pid: u32,
        /// Where.
        va: u64,
        /// How many bytes.
        len: u64,
    },
    /// User code in `pid` stores `bytes` at `va`.
    Write {
        /// Who.
        pid: u32,
        /// Where.
        va: u64,
        /// What.
        bytes: Vec<u8>,
    },
    /// Put a program file in the file system.
    File {
        /// Its path.
        path: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// Make the kalloc call after `after` more successful ones fail (None: stop).
    FailAlloc {
        /// Successful calls before the failing one.
        after: Option<u64>,
    },
}

impl Op {
    /// The process making the call, if any.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        match self {
            Op::Fork { pid }
            | Op::Exec { pid, .. }
            | Op::Sbrk { pid, .. }
            | Op::Exit { pid }
            | Op::Wait { pid }
            | Op::Kill { pid }
            | Op::OpenShm { pid, .. }
            | Op::CloseShm { pid, .. }
            | Op::Read { pid, .. }
            | Op::Write { pid, .. } => Some(*pid),
            Op::Userinit | Op::File { .. } | Op::FailAlloc { .. } => None,
        }
    }
}

/// A preset, a shared-memory mode and a list of operations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scenario {
    /// The machine.
    pub preset: Preset,
    /// Which shared-memory code runs.
    pub shm: ShmMode,
    /// The operations, in order.
    pub ops: Vec<Op>,
}

impl Scenario {
    /// An empty scenario.
    #[must_use]
    pub fn new(preset: Preset, shm: ShmMode) -> Scenario {
        Scenario { preset, shm, ops: Vec::new() }
    }
}

/// The files exec can find: the built-in programs and any added ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Fs {
    /// Path → bytes.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Fs {
    /// The root directory of `port`: `/init`, `/sh`, `/echo`.
    #[must_use]
    pub fn builtin(port: Port) -> Fs {
        Fs { files: programs::builtin(port).iter().map(|(p, b)| (String::from(*p), b.to_vec())).collect() }
    }

    /// `path` as xv6's namei resolves it from the root directory: `echo`,
    /// `./echo` and `/echo` are the same file.
    #[must_use]
    pub fn normalize(path: &str) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for c in path.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                c => parts.push(c),
            }
        }
        format!("/{}", parts.join("/"))
    }

    /// The file at `path`.
    #[must_use]
    pub fn namei(&self, path: &str) -> Option<&[u8]> {
        self.files.get(&Fs::normalize(path)).map(Vec::as_slice)
    }
}

/// What one operation did.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// The operation.
    pub op: Op,
    /// What happened inside it, in order.
    pub events: Vec<TraceEvent>,
    /// Events not kept (the trace holds at most [`Trace::DEFAULT_CAP`]).
    pub elided: u64,
    /// Pages allocated and freed, by class.
    pub counts: Counts,
    /// What the system call returned.
    pub result: SysRet,
    /// Free pages afterwards.
    pub nfree: u64,
}

/// Why a scenario could not be replayed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplayError {
    /// Index of the operation that was refused.
    pub index: usize,
    /// Why.
    pub reject: Reject,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "operation {} was refused: {}", self.index + 1, self.reject)
    }
}

/// A running lab.
pub struct Lab {
    scenario: Scenario,
    kernel: Box<dyn Kernel + Send>,
    fs: Fs,
    boot: Step,
    steps: Vec<Step>,
}

impl fmt::Debug for Lab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lab").field("scenario", &self.scenario).field("steps", &self.steps.len()).finish()
    }
}

impl Lab {
    /// A freshly booted machine.
    #[must_use]
    pub fn new(preset: Preset, shm: ShmMode) -> Lab {
        let mut tr = Trace::new();
        let kernel = preset.boot(shm, &mut tr);
        let (events, counts, elided) = tr.take();
        let boot = Step {
            op: Op::FailAlloc { after: None },
            events,
            elided,
            counts,
            result: SysRet::ok(0),
            nfree: kernel.kmem().nfree(),
        };
        Lab { scenario: Scenario::new(preset, shm), kernel, fs: Fs::builtin(preset.port()), boot, steps: Vec::new() }
    }

    /// Boot `s.preset` and apply every operation of `s`.
    ///
    /// # Errors
    /// The first operation refused, with its index.
    pub fn from_scenario(s: &Scenario) -> Result<Lab, ReplayError> {
        let mut lab = Lab::new(s.preset, s.shm);
        for (index, op) in s.ops.iter().enumerate() {
            lab.apply(op.clone()).map_err(|reject| ReplayError { index, reject })?;
        }
        Ok(lab)
    }

    /// The scenario so far.
    #[must_use]
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The machine.
    #[must_use]
    pub fn kernel(&self) -> &dyn Kernel {
        self.kernel.as_ref()
    }

    /// The files.
    #[must_use]
    pub fn fs(&self) -> &Fs {
        &self.fs
    }

    /// What booting did.
    #[must_use]
    pub fn boot_step(&self) -> &Step {
        &self.boot
    }

    /// Every operation so far.
    #[must_use]
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Run one operation. On success it becomes a step (also when the system
    /// call itself failed, as xv6 would report: exec of a bad file is a step).
    ///
    /// # Errors
    /// A [`Reject`] when the lab will not run it; the lab is then exactly as before.
    pub fn apply(&mut self, op: Op) -> Result<&Step, Reject> {
        let mut tr = Trace::new();
        let r = self.run(&mut tr, &op);
        match r {
            Ok(result) => {
                let (events, counts, elided) = tr.take();
                self.scenario.ops.push(op.clone());
                self.steps.push(Step { op, events, elided, counts, result, nfree: self.kernel.kmem().nfree() });
                Ok(self.steps.last().expect("just pushed"))
            }
            Err(reject) => {
                let changed = tr.events().iter().any(|e| {
                    matches!(
                        e.event,
                        Event::Kalloc { .. }
                            | Event::Kfree { .. }
                            | Event::PteWrite { .. }
                            | Event::LoadRoot { .. }
                            | Event::Copyout { .. }
                            | Event::Load { .. }
                            | Event::CopyPage { .. }
                    )
                }) || tr.elided() > 0;
                if changed {
                    // The kernel stopped part-way: rebuild the state from the scenario.
                    self.rebuild();
                }
                Err(reject)
            }
        }
    }

    /// Boot again and replay the scenario (after an operation stopped part-way).
    fn rebuild(&mut self) {
        let ops = core::mem::take(&mut self.scenario.ops);
        let mut fresh = Lab::new(self.scenario.preset, self.scenario.shm);
        for op in ops {
            // These all succeeded before, and replay is deterministic.
            let _ = fresh.apply(op);
        }
        *self = fresh;
    }

    fn run(&mut self, tr: &mut Trace, op: &Op) -> Result<SysRet, Reject> {
        let k = self.kernel.as_mut();
        match op {
            Op::Userinit => k.userinit(tr),
            Op::Fork { pid } => k.fork(tr, *pid),
            Op::Exec { pid, path, argv } => {
                let file = self.fs.namei(path);
                k.exec(tr, *pid, path, file, argv)
            }
            Op::Sbrk { pid, n } => k.sbrk(tr, *pid, *n),
            Op::Exit { pid } => k.exit(tr, *pid),
            Op::Wait { pid } => k.wait(tr, *pid),
            Op::Kill { pid } => k.kill(tr, *pid),
            Op::OpenShm { pid, id } => k.openshmem(tr, *pid, *id),
            Op::CloseShm { pid, id } => k.closeshmem(tr, *pid, *id),
            Op::Read { pid, va, len } => k.read_user(tr, *pid, *va, *len),
            Op::Write { pid, va, bytes } => k.write_user(tr, *pid, *va, bytes),
            Op::File { path, bytes } => {
                if path.is_empty() || path.len() > 255 {
                    return Err(Reject::BadArgument { why: "a file needs a path of 1 to 255 characters".into() });
                }
                let p = Fs::normalize(path);
                tr.note(|| format!("{p}: {} bytes added to the file system", bytes.len()));
                self.fs.files.insert(p, bytes.clone());
                Ok(SysRet::ok(0))
            }
            Op::FailAlloc { after } => {
                k.fail_kalloc_after(*after);
                tr.note(|| match after {
                    Some(n) => format!("the kalloc call after {n} more successful ones will fail"),
                    None => "kalloc stops failing on purpose".to_string(),
                });
                Ok(SysRet::ok(0))
            }
        }
    }

    /// A lab with the first `n` operations of this one (for stepping back).
    #[must_use]
    pub fn prefix(&self, n: usize) -> Lab {
        let s = Scenario { ops: self.scenario.ops[..n.min(self.scenario.ops.len())].to_vec(), ..self.scenario.clone() };
        // Every prefix of a replayable scenario replays.
        Lab::from_scenario(&s).unwrap_or_else(|_| Lab::new(s.preset, s.shm))
    }
}
