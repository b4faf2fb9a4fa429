//! The lab: a machine preset plus a list of operations. Replaying the list
//! gives every state, so undo, links and the timeline all come from it.
//!
//! ```
//! use pagelab_core::lab::{Lab, Op, Preset};
//! use pagelab_core::shm::ShmMode;
//!
//! let mut lab = Lab::new(Preset::Xv6Public, ShmMode::Lab);
//! lab.apply(Op::Userinit).unwrap();
//! let step = lab.apply(Op::Exec { pid: 1, path: "/init".into(), argv: vec![b"/init".to_vec()] }).unwrap();
//! // exec of init: 3 user pages (text, guard, stack) allocated, the initcode page freed.
//! assert_eq!((step.counts.user_alloc, step.counts.user_free), (3, 1));
//! ```

pub mod notation;
pub mod place;
pub mod quiz;
pub mod scenario;
pub mod summary;
pub mod view;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use serde::Serialize;

use crate::mem::Sim;
use crate::port::{Kernel, KernelBox, Port, Reject, SkipFlush, SysRet};
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
            Preset::Xv6Public => "xv6-public (x86, two-level paging), 224 MB: its PHYSTOP (memlayout.h)",
            Preset::Xv6PublicTiny => "xv6-public (x86) with 2 MB of RAM: few enough frames to see them all",
            Preset::Xv6Riscv => {
                "xv6-riscv as of 2024 (RISC-V Sv39, three levels), 128 MB as in its Makefile. The 2025 version starts init without initcode, so its frames differ from userinit on (the RISC-V story says how at steps 1 and 2)"
            }
            Preset::Xv6RiscvTiny => "xv6-riscv (Sv39) with 2 MB of RAM: few enough frames to see them all",
        }
    }

    /// The xv6-public layout of an x86 preset, with `over` applied.
    #[must_use]
    pub fn x86_layout(self, over: &LayoutOverride) -> X86Layout {
        let mut l = if self == Preset::Xv6PublicTiny { X86Layout::tiny() } else { X86Layout::xv6_public() };
        if let Some(v) = over.data {
            l.data = v as u32;
        }
        if let Some(v) = over.end {
            l.end = v as u32;
        }
        l
    }

    /// The xv6-riscv layout of a RISC-V preset, with `over` applied.
    #[must_use]
    pub fn riscv_layout(self, over: &LayoutOverride) -> RiscvLayout {
        let mut l = if self == Preset::Xv6RiscvTiny { RiscvLayout::tiny() } else { RiscvLayout::xv6_riscv() };
        if let Some(v) = over.etext {
            l.etext = v;
        }
        if let Some(v) = over.trampoline {
            l.trampoline = v;
        }
        if let Some(v) = over.end {
            l.end = v;
        }
        l
    }

    /// Boot a simulated machine with the preset's layout and `over` applied.
    ///
    /// # Errors
    /// A [`Reject`] if the overrides make an impossible layout.
    pub fn boot(self, over: &LayoutOverride, shm: ShmMode, tr: &mut Trace) -> Result<Box<dyn KernelBox>, Reject> {
        over.check(self)?;
        let mut k: Box<dyn KernelBox> = match self.port() {
            Port::Xv6Public => {
                let layout = self.x86_layout(over);
                let hw = Sim::new(0, u64::from(layout.phystop));
                let init = programs::initcode(Port::Xv6Public).to_vec();
                Box::new(X86Kernel::boot(layout, hw, init, shm, tr)?)
            }
            Port::Xv6Riscv => {
                let layout = self.riscv_layout(over);
                let base = crate::riscv::KERNBASE;
                let hw = Sim::new(base, layout.phystop - base);
                let init = programs::initcode(Port::Xv6Riscv).to_vec();
                Box::new(RiscvKernel::boot(layout, hw, init, shm, tr)?)
            }
        };
        k.configure_tlb(over.tlb.unwrap_or(crate::tlb::DEFAULT_ENTRIES), over.noflush);
        Ok(k)
    }
}

/// Changes to a preset's kernel-image symbols, so that the lab matches a
/// particular build of xv6 (or pagelab's own kernel), whose `kernel.sym`
/// gives these addresses. Frame numbers then match that build exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct LayoutOverride {
    /// The symbol `end` (x86: a kernel virtual address; RISC-V: physical).
    pub end: Option<u64>,
    /// x86: the symbol `data` (end of kernel text and read-only data; page aligned).
    pub data: Option<u64>,
    /// RISC-V: the symbol `etext` (page aligned).
    pub etext: Option<u64>,
    /// RISC-V: the physical address of the trampoline page (page aligned).
    pub trampoline: Option<u64>,
    /// Entries in each CPU's TLB (`tlb=N`; none: [`crate::tlb::DEFAULT_ENTRIES`]).
    pub tlb: Option<u32>,
    /// Flushes of xv6's to leave out, to see what they are for (`noflush=SITE`).
    pub noflush: SkipFlush,
}

impl LayoutOverride {
    /// True when nothing is overridden.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == LayoutOverride::default()
    }

    /// Check the overrides make sense for `preset`.
    ///
    /// # Errors
    /// A [`Reject::BadArgument`] saying which one is wrong.
    pub fn check(&self, preset: Preset) -> Result<(), Reject> {
        let bad = |why: String| Err(Reject::BadArgument { why });
        if let Some(n) = self.tlb
            && !(1..=crate::tlb::MAX_ENTRIES).contains(&n)
        {
            return bad(format!("tlb = {n}: a TLB has 1 to {} entries", crate::tlb::MAX_ENTRIES));
        }
        match preset.port() {
            Port::Xv6Public if self.noflush.trampoline => {
                return bad("noflush=trampoline is xv6-riscv's; on xv6-public leave out growproc's".into());
            }
            Port::Xv6Riscv if self.noflush.growproc => {
                return bad(
                    "noflush=growproc is xv6-public's; xv6-riscv's growproc does not flush (the trampoline does: noflush=trampoline)"
                        .into(),
                );
            }
            _ => {}
        }
        let aligned = |v: u64| v.is_multiple_of(crate::addr::PGSIZE);
        match preset.port() {
            Port::Xv6Public => {
                let l = preset.x86_layout(&LayoutOverride::default());
                if self.etext.is_some() || self.trampoline.is_some() {
                    return bad("etext and trampoline are xv6-riscv symbols; xv6-public has data and end".into());
                }
                let kernlink = u64::from(crate::x86::KERNLINK);
                let top = u64::from(crate::x86::KERNBASE) + u64::from(l.phystop);
                let data = self.data.unwrap_or(u64::from(l.data));
                let end = self.end.unwrap_or(u64::from(l.end));
                if self.end.is_some() && self.data.is_none() && end < data {
                    return bad(format!(
                        "end = {end:#x} must be at least data ({data:#x}): the kernel image ends after its text"
                    ));
                }
                if !aligned(data) || data <= kernlink || data > end {
                    return bad(format!(
                        "data = {data:#x} must be page aligned, above KERNLINK ({kernlink:#x}: the kernel has some text) and at most end ({end:#x})"
                    ));
                }
                if end >= top - 128 * crate::addr::PGSIZE {
                    return bad(format!("end = {end:#x} leaves no memory below PHYSTOP"));
                }
            }
            Port::Xv6Riscv => {
                let l = preset.riscv_layout(&LayoutOverride::default());
                if self.data.is_some() {
                    return bad("data is an xv6-public symbol; xv6-riscv has etext, trampoline and end".into());
                }
                let etext = self.etext.unwrap_or(l.etext);
                let tramp = self.trampoline.unwrap_or(l.trampoline);
                let end = self.end.unwrap_or(l.end);
                let base = crate::riscv::KERNBASE;
                if self.end.is_some() && self.etext.is_none() && end < etext {
                    return bad(format!(
                        "end = {end:#x} must be at least etext ({etext:#x}): the kernel image ends after its text"
                    ));
                }
                if !aligned(etext) || etext <= base || etext > end {
                    return bad(format!("etext = {etext:#x} must be page aligned, above KERNBASE and at most end"));
                }
                if !aligned(tramp) || tramp < base || tramp >= etext {
                    return bad(format!("trampoline = {tramp:#x} must be a page of kernel text"));
                }
                if end >= l.phystop - 200 * crate::addr::PGSIZE {
                    return bad(format!("end = {end:#x} leaves too little memory below PHYSTOP"));
                }
            }
        }
        Ok(())
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
        #[serde(serialize_with = "crate::json_bytes::many")]
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
        #[serde(serialize_with = "crate::json_bytes::one")]
        bytes: Vec<u8>,
    },
    /// User code in `pid` jumps to `va`: the CPU fetches an instruction
    /// there (one byte of it, through the MMU, with execute access).
    Fetch {
        /// Who.
        pid: u32,
        /// Where.
        va: u64,
    },
    /// `pid` calls pipe: `pipealloc` kallocs the pipe's page (the lab
    /// keeps no files or descriptors, only the page).
    Pipe {
        /// Who.
        pid: u32,
    },
    /// The last open end of pipe `id` is closed in `pid` (by close, or by
    /// exit closing its files): `pipeclose` kfrees the pipe's page.
    PipeClose {
        /// Who.
        pid: u32,
        /// The pipe's number.
        id: u32,
    },
    /// Put a program file in the file system.
    File {
        /// Its path.
        path: String,
        /// Its bytes.
        #[serde(serialize_with = "crate::json_bytes::one")]
        bytes: Vec<u8>,
    },
    /// Make the kalloc call after `after` more successful ones fail (None: stop).
    FailAlloc {
        /// Successful calls before the failing one.
        after: Option<u64>,
    },
    /// Run the next operations on CPU `cpu` (the lab starts on CPU 0).
    Cpu {
        /// Which CPU, from 0.
        cpu: u32,
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
            | Op::Write { pid, .. }
            | Op::Fetch { pid, .. }
            | Op::Pipe { pid }
            | Op::PipeClose { pid, .. } => Some(*pid),
            Op::Userinit | Op::File { .. } | Op::FailAlloc { .. } | Op::Cpu { .. } => None,
        }
    }
}

/// A preset, a shared-memory mode and a list of operations, with the
/// comments that tell their story.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scenario {
    /// The machine.
    pub preset: Preset,
    /// Changes to the preset's kernel symbols (usually none).
    pub layout: LayoutOverride,
    /// Which shared-memory code runs.
    pub shm: ShmMode,
    /// The operations, in order.
    pub ops: Vec<Op>,
    /// The comments: the story's introduction and a text for each operation.
    pub comments: Comments,
    /// The questions to ask before each operation (`ask` lines; see [`quiz`]).
    pub asks: quiz::Asks,
}

impl Scenario {
    /// The same scenario with only its first `n` operations (and their
    /// comments and questions).
    #[must_use]
    pub fn prefix(&self, n: usize) -> Scenario {
        let n = n.min(self.ops.len());
        Scenario {
            ops: self.ops[..n].to_vec(),
            comments: self.comments.truncated(n),
            asks: self.asks.range(..n).map(|(k, v)| (*k, v.clone())).collect(),
            ..self.clone()
        }
    }

    /// An empty scenario.
    #[must_use]
    pub fn new(preset: Preset, shm: ShmMode) -> Scenario {
        Scenario {
            preset,
            layout: LayoutOverride::default(),
            shm,
            ops: Vec::new(),
            comments: Comments::default(),
            asks: quiz::Asks::new(),
        }
    }
}

/// A scenario's comments, kept as lines (without the `#` and the one space
/// after it), so that a scenario tells its story step by step and the
/// printer writes the comments back.
///
/// The lines before the `preset` line are the introduction; the lines
/// since the previous operation (and a comment at the end of the
/// operation's own line) belong to an operation. A blank comment line
/// separates paragraphs; a line starting with `- ` is a list item; a
/// paragraph starting with `The notes say:` says where the study notes
/// count differently from xv6 (see [`Comments::paragraphs`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Comments {
    /// The introduction: the lines before the `preset` line.
    pub intro: Vec<String>,
    /// The lines for operation `i` (from 0), for the operations that have some.
    pub ops: BTreeMap<usize, Vec<String>>,
}

/// What a paragraph of a comment is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParagraphKind {
    /// Plain text.
    Text,
    /// One item of a list (its line started with `- `).
    Item,
    /// Where the study notes count differently from xv6 (it started with `The notes say:`).
    NotesSay,
}

/// A paragraph of a comment, its lines joined by spaces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Paragraph {
    /// What it is.
    pub kind: ParagraphKind,
    /// Its text (for [`ParagraphKind::NotesSay`], what follows `The notes say:`;
    /// for an item, what follows `- `).
    pub text: String,
}

/// The words that start a "the notes say" paragraph.
pub const NOTES_SAY: &str = "The notes say:";

impl Comments {
    /// True when there are no comments.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.intro.is_empty() && self.ops.is_empty()
    }

    /// The lines of operation `i` (empty if it has none).
    #[must_use]
    pub fn of(&self, i: usize) -> &[String] {
        self.ops.get(&i).map_or(&[], Vec::as_slice)
    }

    /// Only the comments of the first `n` operations.
    #[must_use]
    pub fn truncated(&self, n: usize) -> Comments {
        Comments { intro: self.intro.clone(), ops: self.ops.range(..n).map(|(k, v)| (*k, v.clone())).collect() }
    }

    /// Lines cut into paragraphs: blank lines separate them, `- ` starts a
    /// list item, and a paragraph starting with [`NOTES_SAY`] (any case) is
    /// what the study notes say.
    #[must_use]
    pub fn paragraphs(lines: &[String]) -> Vec<Paragraph> {
        let mut out: Vec<Paragraph> = Vec::new();
        let mut open = false;
        for line in lines {
            let t = line.trim();
            if t.is_empty() {
                open = false;
                continue;
            }
            if let Some(item) = t.strip_prefix("- ") {
                out.push(Paragraph { kind: ParagraphKind::Item, text: item.trim().to_string() });
                open = true;
                continue;
            }
            if open && let Some(p) = out.last_mut() {
                p.text.push(' ');
                p.text.push_str(t);
                continue;
            }
            let says = t.len() >= NOTES_SAY.len()
                && t.is_char_boundary(NOTES_SAY.len())
                && t[..NOTES_SAY.len()].eq_ignore_ascii_case(NOTES_SAY);
            if says {
                out.push(Paragraph { kind: ParagraphKind::NotesSay, text: t[NOTES_SAY.len()..].trim().to_string() });
            } else {
                out.push(Paragraph { kind: ParagraphKind::Text, text: t.to_string() });
            }
            open = true;
        }
        out
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

    /// True if `bytes` at `path` is the built-in program of `port` there
    /// (`/echo` as the lab ships it), not a file put in the file system.
    #[must_use]
    pub fn is_builtin(port: Port, path: &str, bytes: &[u8]) -> bool {
        let path = Fs::normalize(path);
        programs::builtin(port).iter().any(|(p, b)| *p == path && *b == bytes)
    }

    /// The files put in the file system (uploads, a scenario's `file`
    /// lines) that are not `port`'s built-in programs, by path.
    pub fn added(&self, port: Port) -> impl Iterator<Item = (&String, &Vec<u8>)> {
        self.files.iter().filter(move |(p, b)| !Fs::is_builtin(port, p, b))
    }

    /// Add (or replace) the file at `path` (a scenario's `file` line, an
    /// upload); returns the path as stored.
    ///
    /// # Errors
    /// A path that is empty or longer than 255 bytes.
    pub fn add(&mut self, path: &str, bytes: Vec<u8>) -> Result<String, Reject> {
        if path.is_empty() || path.len() > 255 {
            return Err(Reject::BadArgument { why: "a file needs a path of 1 to 255 characters".into() });
        }
        let p = Fs::normalize(path);
        self.files.insert(p.clone(), bytes);
        Ok(p)
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

/// True for operations that can free user pages (so the pages they free are named).
fn frees_user_pages(op: &Op) -> bool {
    matches!(
        op,
        Op::Exec { .. }
            | Op::Wait { .. }
            | Op::Exit { .. }
            | Op::Kill { .. }
            | Op::CloseShm { .. }
            | Op::Read { .. }
            | Op::Write { .. }
            | Op::Fetch { .. }
            | Op::Sbrk { n: i64::MIN..0, .. }
    )
}

/// What one operation did.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// The operation.
    pub op: Op,
    /// What happened inside it, in order.
    pub events: Vec<TraceEvent>,
    /// Events not kept (the trace holds at most [`Trace::DEFAULT_CAP`], or
    /// [`Trace::REPLAY_CAP`] in a replay within a [`Budget`]).
    pub elided: u64,
    /// Pages allocated and freed, by class.
    pub counts: Counts,
    /// What the system call returned.
    pub result: SysRet,
    /// Free pages afterwards.
    pub nfree: u64,
    /// What it did, summed up by xv6 function and by page table.
    pub summary: summary::Summary,
}

/// Why a scenario could not be replayed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplayError {
    /// Index of the operation that was refused, or `None` if the machine
    /// itself did not boot (the preset line's symbols make it impossible).
    pub index: Option<usize>,
    /// Why.
    pub reject: Reject,
}

impl ReplayError {
    /// The machine of the preset line did not boot.
    #[must_use]
    pub fn boot(reject: Reject) -> ReplayError {
        ReplayError { index: None, reject }
    }

    /// Operation `index` (from 0) was refused.
    #[must_use]
    pub fn op(index: usize, reject: Reject) -> ReplayError {
        ReplayError { index: Some(index), reject }
    }
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "operation {} was refused: {}", i + 1, self.reject),
            None => write!(f, "the preset line makes a machine that cannot boot: {}", self.reject),
        }
    }
}

/// A running lab.
pub struct Lab {
    scenario: Scenario,
    kernel: Box<dyn KernelBox>,
    fs: Fs,
    boot: Arc<Step>,
    /// Shared between copies of the lab: a step never changes once made
    /// (only a runner forgets its events), so a copy costs a pointer per step.
    steps: Vec<Arc<Step>>,
    /// False: steps keep counts and results but no events (see [`Lab::set_recording`]).
    record: bool,
}

/// The most work a scenario from a link, a widget attribute or the JS API
/// may ask for: frames allocated plus frames freed over all its operations
/// (boot not counted). About a quarter of a second of replay in the browser
/// (a link of heavy steps is refused well within a second of opening); the
/// command-line runner has no limit.
pub const WORK_BUDGET: u64 = 250_000;

/// The work a replay has done so far, against a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Frames allocated plus frames freed so far.
    pub work: u64,
    /// The most allowed (`u64::MAX`: no limit).
    pub limit: u64,
}

impl Budget {
    /// The limit of a page: [`WORK_BUDGET`].
    #[must_use]
    pub fn page() -> Budget {
        Budget { work: 0, limit: WORK_BUDGET }
    }

    /// No limit (the command-line runner, the tests).
    #[must_use]
    pub fn unlimited() -> Budget {
        Budget { work: 0, limit: u64::MAX }
    }

    /// Add a step's work.
    ///
    /// # Errors
    /// [`Reject::TooMuchWork`] once the work is past the limit.
    pub fn charge(&mut self, c: &Counts) -> Result<(), Reject> {
        self.work = self.work.saturating_add(c.allocated() + c.freed());
        if self.work > self.limit {
            return Err(Reject::TooMuchWork { work: self.work, budget: self.limit });
        }
        Ok(())
    }
}

impl Clone for Lab {
    /// A copy of the whole lab, machine included (about a megabyte for
    /// xv6-public; cheaper than replaying).
    fn clone(&self) -> Lab {
        Lab {
            scenario: self.scenario.clone(),
            kernel: self.kernel.box_clone(),
            fs: self.fs.clone(),
            boot: self.boot.clone(),
            steps: self.steps.clone(),
            record: self.record,
        }
    }
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
        Lab::with_layout(preset, LayoutOverride::default(), shm).expect("presets boot")
    }

    /// A freshly booted machine with its kernel symbols changed.
    ///
    /// # Errors
    /// A [`Reject`] if the overrides make an impossible layout.
    pub fn with_layout(preset: Preset, layout: LayoutOverride, shm: ShmMode) -> Result<Lab, Reject> {
        let mut tr = Trace::new();
        let kernel = preset.boot(&layout, shm, &mut tr)?;
        let (events, counts, elided) = tr.take();
        let summary = summary::summarize(&events, elided, kernel.as_ref(), &summary::RegionsOf::new());
        let boot = Step {
            op: Op::FailAlloc { after: None },
            events,
            elided,
            counts,
            result: SysRet::ok(0),
            nfree: kernel.kmem().nfree(),
            summary,
        };
        let scenario = Scenario { layout, ..Scenario::new(preset, shm) };
        Ok(Lab {
            scenario,
            kernel,
            fs: Fs::builtin(preset.port()),
            boot: Arc::new(boot),
            steps: Vec::new(),
            record: true,
        })
    }

    /// Boot `s.preset` and apply every operation of `s`.
    ///
    /// # Errors
    /// The first operation refused, with its index.
    pub fn from_scenario(s: &Scenario) -> Result<Lab, ReplayError> {
        Lab::from_scenario_within(s, Budget::unlimited())
    }

    /// Like [`Lab::from_scenario`], but refuse, at the operation that
    /// crosses it, a scenario whose work goes past `budget` (see [`WORK_BUDGET`]).
    ///
    /// # Errors
    /// The first operation refused, with its index; [`Reject::TooMuchWork`]
    /// for the one that crosses the budget.
    pub fn from_scenario_within(s: &Scenario, mut budget: Budget) -> Result<Lab, ReplayError> {
        let mut lab = Lab::with_layout(s.preset, s.layout.clone(), s.shm).map_err(ReplayError::boot)?;
        for (index, op) in s.ops.iter().enumerate() {
            // The last step is the one shown first: all its events are kept.
            let shown = index + 1 == s.ops.len();
            lab.apply_within(op.clone(), &mut budget, shown).map_err(|reject| ReplayError::op(index, reject))?;
        }
        lab.set_comments(s.comments.clone());
        lab.scenario.asks = s.asks.clone();
        Ok(lab)
    }

    /// Give the lab's operations their comments (those of later operations are dropped).
    pub fn set_comments(&mut self, comments: Comments) {
        self.scenario.comments = comments.truncated(self.scenario.ops.len());
    }

    /// Give the lab its `ask` lines (those after the last operation's place are dropped).
    pub fn set_asks(&mut self, asks: quiz::Asks) {
        let n = self.scenario.ops.len();
        self.scenario.asks = asks.into_iter().filter(|(k, _)| *k <= n).collect();
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
    pub fn boot_step(&self) -> &Arc<Step> {
        &self.boot
    }

    /// Every operation so far.
    #[must_use]
    pub fn steps(&self) -> &[Arc<Step>] {
        &self.steps
    }

    /// Run one operation. On success it becomes a step (also when the system
    /// call itself failed, as xv6 would report: exec of a bad file is a step).
    ///
    /// # Errors
    /// A [`Reject`] when the lab will not run it; the lab is then exactly as before.
    pub fn apply(&mut self, op: Op) -> Result<&Step, Reject> {
        self.apply_capped(op, Trace::DEFAULT_CAP)
    }

    /// [`Lab::apply`], keeping at most `cap` events of the operation.
    fn apply_capped(&mut self, op: Op, cap: usize) -> Result<&Step, Reject> {
        let mut tr = if self.record { Trace::new().with_cap(cap) } else { Trace::counting_only() };
        // The processes' regions before, to name the user pages the operation frees.
        let before =
            if frees_user_pages(&op) { summary::regions_of(self.kernel.as_ref()) } else { summary::RegionsOf::new() };
        let r = self.run(&mut tr, &op);
        match r {
            Ok(result) => {
                let (events, counts, elided) = tr.take();
                let summary = summary::summarize(&events, elided, self.kernel.as_ref(), &before);
                self.scenario.ops.push(op.clone());
                let nfree = self.kernel.kmem().nfree();
                self.steps.push(Arc::new(Step { op, events, elided, counts, result, nfree, summary }));
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
                }) || tr.elided() > 0
                    || !self.record;
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
        let comments = core::mem::take(&mut self.scenario.comments);
        let asks = core::mem::take(&mut self.scenario.asks);
        let s = &self.scenario;
        let Ok(mut fresh) = Lab::with_layout(s.preset, s.layout.clone(), s.shm) else { return };
        fresh.record = self.record;
        for op in ops {
            // These all succeeded before, and replay is deterministic.
            let _ = fresh.apply(op);
        }
        fresh.set_comments(comments);
        fresh.scenario.asks = asks;
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
            Op::Read { pid, va, len } => k.read_user(tr, *pid, *va, *len, &place::about),
            Op::Write { pid, va, bytes } => k.write_user(tr, *pid, *va, bytes, &place::about),
            Op::Fetch { pid, va } => k.fetch_user(tr, *pid, *va, &place::about),
            Op::Pipe { pid } => k.pipealloc(tr, *pid),
            Op::PipeClose { pid, id } => k.pipeclose(tr, *pid, *id),
            Op::File { path, bytes } => {
                let p = self.fs.add(path, bytes.clone())?;
                tr.note(|| format!("{p}: {} bytes added to the file system", bytes.len()));
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
            Op::Cpu { cpu } => k.set_cpu(tr, *cpu),
        }
    }

    /// [`Lab::apply`], charging the step's work to `budget`. It keeps at
    /// most [`Trace::REPLAY_CAP`] events of the step, unless `shown`: the
    /// step a replay shows first (the last of a link, a widget's step)
    /// keeps every event, as [`Lab::apply`] does, so that its summary and
    /// frame marks count every page. One such step a replay keeps its time bounded.
    ///
    /// # Errors
    /// What [`Lab::apply`] refuses, or [`Reject::TooMuchWork`] (the step
    /// stays applied; the replay that asked is expected to stop).
    pub fn apply_within(&mut self, op: Op, budget: &mut Budget, shown: bool) -> Result<&Step, Reject> {
        let cap = if shown { Trace::DEFAULT_CAP } else { Trace::REPLAY_CAP };
        let counts = self.apply_capped(op, cap)?.counts;
        budget.charge(&counts)?;
        Ok(self.steps.last().expect("just applied"))
    }

    /// Record each later operation's events (true, the default), or only
    /// its counts and result (false: for long runs whose events nobody
    /// reads; the steps' summaries are then empty).
    pub fn set_recording(&mut self, on: bool) {
        self.record = on;
    }

    /// Drop the events (and summary) of step `i` (from 0), keeping its
    /// counts and result: a runner that has printed a step gives its memory back.
    pub fn forget_events(&mut self, i: usize) {
        if let Some(st) = self.steps.get_mut(i) {
            let st = Arc::make_mut(st);
            st.events = Vec::new();
            st.summary = summary::Summary::default();
        }
    }

    /// A lab with the first `n` operations of this one (for stepping back).
    #[must_use]
    pub fn prefix(&self, n: usize) -> Lab {
        let s = self.scenario.prefix(n);
        // Every prefix of a replayable scenario replays.
        Lab::from_scenario(&s).unwrap_or_else(|_| Lab::new(s.preset, s.shm))
    }
}
