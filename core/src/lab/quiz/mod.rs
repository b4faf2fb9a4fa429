//! Predict, then check: questions about a scenario's steps, whose answers
//! come from the machine itself.
//!
//! A scenario may hold `ask` lines (see [`Ask`]). Each one is asked before
//! the operation that follows it is revealed, and is about what that
//! operation does or leaves behind; an `ask` line after the last operation
//! is about the final machine. An argument written `?` is chosen by a seed,
//! so one text gives every student a variant of the same exercise:
//!
//! ```
//! use pagelab_core::lab::quiz::{self, answer};
//! use pagelab_core::lab::scenario::parse;
//!
//! let set = parse("userinit\nask sp 1\nask guard 1\nexec 1 /init\n").unwrap();
//! let quiz = quiz::build(&set, 7).unwrap();
//! // init's stack on xv6-public: "/init\0" at 0x2ff8, then five words below
//! // it (the fake return PC, argc, argv, argv[0], argv's null): sp = 0x2fe4.
//! let v = answer::grade(&quiz.questions[0], "0x2fe4").unwrap();
//! assert!(v.right);
//! let v = answer::grade(&quiz.questions[1], "0x1000 PTE_P|PTE_U").unwrap();
//! assert!(!v.right); // the guard page keeps PTE_P and PTE_W; exec cleared PTE_U
//! ```
//!
//! [`build`] replays the scenario and makes each [`Question`]: its prompt,
//! the [`Expected`] answer, why it is so (pointing at the event or field
//! that decides it) and hints. [`answer::grade`] reads what a learner typed
//! and says whether it is right, and if not, what was expected and why.

pub mod answer;
mod make;
pub mod sets;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::Serialize;

use super::{Op, Scenario};
use crate::scheme::{Access, AccessKind, Mode};

/// An argument of an `ask` line: given, or `?` for the seed to choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arg<T> {
    /// Written out.
    Given(T),
    /// `?`: the seed chooses.
    Any,
}

impl<T: Copy> Arg<T> {
    /// The value, if given.
    #[must_use]
    pub fn given(self) -> Option<T> {
        match self {
            Arg::Given(v) => Some(v),
            Arg::Any => None,
        }
    }
}

/// What a `translate` question whose address or access is `?` must end in:
/// the seed picks among those that do, so that every student of a set gets a
/// question of the same kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ends {
    /// Either: a mapped address or a fault.
    #[default]
    Any,
    /// A physical address (`mapped`).
    Mapped,
    /// A fault (`fault`).
    Fault,
}

impl Ends {
    /// The word after the access on an `ask translate` line (none for [`Ends::Any`]).
    #[must_use]
    pub fn word(self) -> Option<&'static str> {
        match self {
            Ends::Any => None,
            Ends::Mapped => Some("mapped"),
            Ends::Fault => Some("fault"),
        }
    }
}

/// The accesses a `translate` question may check, as the widgets name them.
pub const ACCESS_NAMES: [(&str, Access); 5] = [
    ("user-read", Access::USER_READ),
    ("user-write", Access::USER_WRITE),
    ("user-exec", Access::USER_EXEC),
    ("kernel-read", Access::KERNEL_READ),
    ("kernel-write", Access::KERNEL_WRITE),
];

/// The name of an access (`user-read`).
#[must_use]
pub fn access_name(a: Access) -> &'static str {
    match (a.mode, a.kind) {
        (Mode::User, AccessKind::Read) => "user-read",
        (Mode::User, AccessKind::Write) => "user-write",
        (Mode::User, AccessKind::Execute) => "user-exec",
        (Mode::Kernel, AccessKind::Read) => "kernel-read",
        (Mode::Kernel, AccessKind::Write) => "kernel-write",
        (Mode::Kernel, AccessKind::Execute) => "kernel-exec",
    }
}

/// The access named `s` (`user-read`; `user-execute` also reads).
#[must_use]
pub fn access_of(s: &str) -> Option<Access> {
    let s = if s == "user-execute" { "user-exec" } else { s };
    ACCESS_NAMES.iter().find(|(n, _)| *n == s).map(|(_, a)| *a)
}

/// One question to ask, as an `ask` line says it.
///
/// `PID`, `VA`, `ACCESS` and `ID` may each be `?`. The question is about
/// the state after the operation that follows the line (its pages, its free
/// count, the stack exec built), or about the final machine for a line after
/// the last operation.
///
/// ```text
/// ask fields VA                  the fields of VA (PDX | PTX | offset; L2 | L1 | L0 | offset)
/// ask entry PID VA LEVEL         the physical address of the entry the walk reads at LEVEL
///                                (a number, or PDX, PTX, L2, L1, L0)
/// ask translate PID VA ACCESS [mapped|fault]
///                                the physical address reached, or the fault: level and why
///                                (ACCESS: user-read, user-write, user-exec, kernel-read, kernel-write;
///                                with `?`, `mapped` or `fault` says which the seed must pick)
/// ask pages                      user pages and page-table pages the operation allocates and frees
/// ask free                       the free count after it
/// ask kalloc                     the frame its first kalloc hands out
/// ask head                       the frame at the head of the free list after it
/// ask sp PID      ask argc PID   ask sz PID      after exec or sbrk
/// ask word PID VA                the value of a stack word
/// ask guard PID                  the guard page's address and flags
/// ask changed PID                the pages the operation maps or unmaps in PID's table
/// ask child                      how many user pages a fork gives the child
/// ask shmframe ID  ask shmrefs ID  ask shmfreed ID   a shared page's frame, its count,
///                                whether the operation frees it
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ask {
    /// The fields of an address.
    Fields {
        /// The address.
        va: Arg<u64>,
    },
    /// The physical address of the entry the walk reads at one level.
    Entry {
        /// Whose page table.
        pid: Arg<u32>,
        /// The address walked.
        va: Arg<u64>,
        /// The level (root = the highest).
        level: u32,
    },
    /// Where an access ends: a physical address, or a fault.
    Translate {
        /// Whose page table.
        pid: Arg<u32>,
        /// The address.
        va: Arg<u64>,
        /// The access checked.
        access: Arg<Access>,
        /// What a `?` must lead to.
        #[serde(skip_serializing_if = "is_any")]
        ends: Ends,
    },
    /// Pages the operation allocates and frees, user and page-table apart.
    Pages,
    /// The free count after the operation.
    Free,
    /// The frame the operation's first kalloc hands out.
    Kalloc,
    /// The free list's head after the operation.
    Head,
    /// The stack pointer exec leaves.
    Sp {
        /// Who.
        pid: Arg<u32>,
    },
    /// argc.
    Argc {
        /// Who.
        pid: Arg<u32>,
    },
    /// The value of a word on the stack exec built.
    Word {
        /// Who.
        pid: Arg<u32>,
        /// The word's address.
        va: Arg<u64>,
    },
    /// The guard page: its address and its flags.
    Guard {
        /// Who.
        pid: Arg<u32>,
    },
    /// The process's size.
    Sz {
        /// Who.
        pid: Arg<u32>,
    },
    /// The pages the operation maps or unmaps in a process's table.
    Changed {
        /// Whose table.
        pid: Arg<u32>,
    },
    /// The user pages fork gives the child.
    Child,
    /// The frame of a shared page.
    ShmFrame {
        /// The shared page's id.
        id: Arg<i64>,
    },
    /// A shared page's reference count.
    ShmRefs {
        /// The shared page's id.
        id: Arg<i64>,
    },
    /// Whether the operation frees a shared page's frame.
    ShmFreed {
        /// The shared page's id.
        id: Arg<i64>,
    },
}

/// The word after `ask` for each kind, in the order of [`Ask`]'s grammar.
pub const ASK_KINDS: [&str; 17] = [
    "fields",
    "entry",
    "translate",
    "pages",
    "free",
    "kalloc",
    "head",
    "sp",
    "argc",
    "word",
    "guard",
    "sz",
    "changed",
    "child",
    "shmframe",
    "shmrefs",
    "shmfreed",
];

impl Ask {
    /// The word after `ask`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Ask::Fields { .. } => "fields",
            Ask::Entry { .. } => "entry",
            Ask::Translate { .. } => "translate",
            Ask::Pages => "pages",
            Ask::Free => "free",
            Ask::Kalloc => "kalloc",
            Ask::Head => "head",
            Ask::Sp { .. } => "sp",
            Ask::Argc { .. } => "argc",
            Ask::Word { .. } => "word",
            Ask::Guard { .. } => "guard",
            Ask::Sz { .. } => "sz",
            Ask::Changed { .. } => "changed",
            Ask::Child => "child",
            Ask::ShmFrame { .. } => "shmframe",
            Ask::ShmRefs { .. } => "shmrefs",
            Ask::ShmFreed { .. } => "shmfreed",
        }
    }

    /// True if the question is about what an operation does, so it needs one after it.
    #[must_use]
    pub fn needs_step(&self) -> bool {
        matches!(
            self,
            Ask::Pages | Ask::Free | Ask::Kalloc | Ask::Head | Ask::Changed { .. } | Ask::Child | Ask::ShmFreed { .. }
        )
    }

    /// True if no argument is `?`.
    #[must_use]
    pub fn is_concrete(&self) -> bool {
        match *self {
            Ask::Fields { va } => va != Arg::Any,
            Ask::Entry { pid, va, .. } | Ask::Word { pid, va } => pid != Arg::Any && va != Arg::Any,
            Ask::Translate { pid, va, access, .. } => pid != Arg::Any && va != Arg::Any && access != Arg::Any,
            Ask::Sp { pid } | Ask::Argc { pid } | Ask::Guard { pid } | Ask::Sz { pid } | Ask::Changed { pid } => {
                pid != Arg::Any
            }
            Ask::ShmFrame { id } | Ask::ShmRefs { id } | Ask::ShmFreed { id } => id != Arg::Any,
            Ask::Pages | Ask::Free | Ask::Kalloc | Ask::Head | Ask::Child => true,
        }
    }
}

/// For serde: leave [`Ends::Any`] out.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_any(e: &Ends) -> bool {
    *e == Ends::Any
}

/// `?` or the value.
struct Show<T>(Arg<T>);

impl fmt::Display for Show<u32> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Arg::Given(v) => write!(f, "{v}"),
            Arg::Any => f.write_str("?"),
        }
    }
}

impl fmt::Display for Show<u64> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Arg::Given(v) => write!(f, "{v:#x}"),
            Arg::Any => f.write_str("?"),
        }
    }
}

impl fmt::Display for Show<i64> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Arg::Given(v) => write!(f, "{v}"),
            Arg::Any => f.write_str("?"),
        }
    }
}

impl fmt::Display for Show<Access> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Arg::Given(a) => f.write_str(access_name(a)),
            Arg::Any => f.write_str("?"),
        }
    }
}

impl fmt::Display for Ask {
    /// The `ask` line, as the scenario language reads it back (no newline).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ask {}", self.kind())?;
        match *self {
            Ask::Fields { va } => write!(f, " {}", Show(va)),
            Ask::Entry { pid, va, level } => write!(f, " {} {} {level}", Show(pid), Show(va)),
            Ask::Translate { pid, va, access, ends } => {
                write!(f, " {} {} {}", Show(pid), Show(va), Show(access))?;
                match ends.word() {
                    Some(w) => write!(f, " {w}"),
                    None => Ok(()),
                }
            }
            Ask::Word { pid, va } => write!(f, " {} {}", Show(pid), Show(va)),
            Ask::Sp { pid } | Ask::Argc { pid } | Ask::Guard { pid } | Ask::Sz { pid } | Ask::Changed { pid } => {
                write!(f, " {}", Show(pid))
            }
            Ask::ShmFrame { id } | Ask::ShmRefs { id } | Ask::ShmFreed { id } => write!(f, " {}", Show(id)),
            Ask::Pages | Ask::Free | Ask::Kalloc | Ask::Head | Ask::Child => Ok(()),
        }
    }
}

/// A scenario's questions: for each operation index, the `ask` lines before
/// it (index `ops.len()`: after the last operation).
pub type Asks = BTreeMap<usize, Vec<Ask>>;

/// What a right answer is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expected {
    /// An address or a value (`sp`, a frame, an entry's address, a word).
    Address {
        /// The value.
        value: u64,
    },
    /// A count (pages, argc, references).
    Count {
        /// The value.
        value: u64,
    },
    /// The fields of an address, most significant first.
    Fields {
        /// Each field's name and value.
        fields: Vec<(String, u64)>,
    },
    /// Pages allocated and freed.
    Pages {
        /// User pages allocated.
        user_alloc: u64,
        /// User pages freed.
        user_free: u64,
        /// Page-table pages allocated.
        pt_alloc: u64,
        /// Page-table pages freed.
        pt_free: u64,
    },
    /// Where an access ends.
    Translate {
        /// The physical address, when it does not fault.
        pa: Option<u64>,
        /// The level of the entry that stopped the walk, when it faults there.
        level: Option<u32>,
        /// Why it faults: the reason's word (see [`answer::REASONS`]).
        reason: Option<String>,
        /// Other reasons just as true: bits the access needs that the entry
        /// also lacks (a guard page fetched from lacks both PTE_U and PTE_X).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        also: Vec<String>,
    },
    /// A page and the flags of its entry.
    Page {
        /// The page's address.
        va: u64,
        /// The entry's flag bits (the low bits, no frame number).
        flags: u64,
    },
    /// A set of pages.
    PageSet {
        /// The pages, lowest first.
        pages: Vec<u64>,
    },
    /// Yes or no.
    YesNo {
        /// The answer.
        yes: bool,
    },
}

/// How the answer is typed: which inputs a page shows for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Form {
    /// One address (hex, or `#` decimal).
    Address,
    /// One count (decimal, or `0x` hex).
    Count,
    /// One number per field, named.
    Fields {
        /// The fields' names, most significant first.
        names: Vec<String>,
    },
    /// Four counts: user allocated, user freed, page-table allocated, page-table freed.
    Pages,
    /// An address, or `fault LEVEL REASON`.
    Translate {
        /// The levels' names, root first.
        levels: Vec<String>,
    },
    /// An address and flag names.
    Page,
    /// A list of pages (or ranges `A-B`, B not included), or `none`.
    PageSet,
    /// `yes` or `no`.
    YesNo,
}

/// Where the answer shows in the machine: what a page highlights when it reveals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// Event `index` of the step's trace (a kalloc, a kfree, a page-table write).
    Event {
        /// Index in the step's events.
        index: usize,
    },
    /// The walk of an address in a process.
    Walk {
        /// Whose table.
        pid: u32,
        /// The address.
        va: u64,
    },
    /// A word of a process's stack.
    StackWord {
        /// Whose stack.
        pid: u32,
        /// The word's address.
        va: u64,
    },
    /// The bits of an address.
    Bits {
        /// The address.
        va: u64,
    },
    /// The step's summary (pages by function).
    Summary,
    /// The shared-memory table.
    Shm {
        /// The shared page's id.
        id: i64,
    },
    /// A process's regions.
    Regions {
        /// Whose.
        pid: u32,
    },
}

/// One question, ready to ask.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Question {
    /// Its number in the set, from 1.
    pub number: usize,
    /// The operation it is asked before (index from 0); `ops.len()` for the final machine.
    pub step: usize,
    /// What is asked, every `?` chosen.
    pub ask: Ask,
    /// The machine's paging scheme (it names the levels and the flags).
    pub scheme: crate::scheme::SchemeKind,
    /// The question in plain words.
    pub prompt: String,
    /// How to type the answer, in plain words.
    pub how: String,
    /// The inputs it takes.
    pub form: Form,
    /// The right answer.
    pub expected: Expected,
    /// The right answer as a learner would type it.
    pub answer: String,
    /// Why it is so, pointing at what decides it.
    pub why: String,
    /// Hints, each giving away more than the one before.
    pub hints: Vec<String>,
    /// What a page points at when it reveals the answer.
    pub evidence: Evidence,
}

/// A set ready to ask: the scenario and its questions.
#[derive(Clone, Debug, Serialize)]
pub struct Quiz {
    /// The seed that chose every `?`.
    pub seed: u64,
    /// The scenario, its `ask` lines with every `?` chosen.
    pub scenario: Scenario,
    /// The questions, in the order they are asked.
    pub questions: Vec<Question>,
}

/// Why a set cannot be asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuizError {
    /// The operation the `ask` line stands before (from 0), if the error is in one.
    pub step: Option<usize>,
    /// The `ask` line.
    pub ask: Option<String>,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for QuizError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.ask, self.step) {
            (Some(a), Some(s)) => write!(f, "`{a}` (before operation {}): {}", s + 1, self.message),
            (Some(a), None) => write!(f, "`{a}`: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl core::error::Error for QuizError {}

/// The most questions one set may ask.
pub const MAX_QUESTIONS: usize = 500;

/// Replay `s` and make its questions, `seed` choosing every `?`.
///
/// # Errors
/// A [`QuizError`] if the scenario does not replay, or an `ask` line cannot
/// be asked where it stands (`ask sp 4` where there is no pid 4, `ask kalloc`
/// before an operation that allocates nothing, `ask pages` after the last
/// operation).
pub fn build(s: &Scenario, seed: u64) -> Result<Quiz, QuizError> {
    make::build_with(s, seed, false)
}

/// Like [`build`], but an `ask` line that cannot be asked where it stands is
/// left out instead of failing the set (for questions made automatically).
///
/// # Errors
/// A [`QuizError`] only if the scenario does not replay.
pub fn build_lenient(s: &Scenario, seed: u64) -> Result<Quiz, QuizError> {
    make::build_with(s, seed, true)
}

/// The questions predict mode asks before an operation the learner runs (or
/// a step of a scenario that has no `ask` lines): what it allocates and
/// frees, and what it changes, by the kind of operation.
#[must_use]
pub fn auto_asks(op: &Op) -> Vec<Ask> {
    let any = Arg::Any;
    match op {
        Op::Userinit => alloc::vec![Ask::Pages, Ask::Kalloc, Ask::Free],
        Op::Fork { .. } => alloc::vec![Ask::Child, Ask::Pages, Ask::Kalloc],
        Op::Exec { .. } => alloc::vec![
            Ask::Pages,
            Ask::Sp { pid: any },
            Ask::Argc { pid: any },
            Ask::Guard { pid: any },
            Ask::Word { pid: any, va: Arg::Any }
        ],
        Op::Sbrk { .. } => alloc::vec![Ask::Sz { pid: any }, Ask::Changed { pid: any }, Ask::Free],
        Op::Exit { .. } | Op::Kill { .. } => alloc::vec![Ask::Pages],
        Op::Wait { .. } => alloc::vec![Ask::Pages, Ask::Head],
        Op::OpenShm { id, .. } => {
            alloc::vec![Ask::Kalloc, Ask::Changed { pid: any }, Ask::ShmRefs { id: Arg::Given(*id) }]
        }
        Op::CloseShm { id, .. } => {
            alloc::vec![Ask::ShmFreed { id: Arg::Given(*id) }, Ask::ShmRefs { id: Arg::Given(*id) }]
        }
        Op::Read { pid, va, .. } => alloc::vec![Ask::Translate {
            pid: Arg::Given(*pid),
            va: Arg::Given(*va),
            access: Arg::Given(Access::USER_READ),
            ends: Ends::Any,
        }],
        Op::Write { pid, va, .. } => alloc::vec![Ask::Translate {
            pid: Arg::Given(*pid),
            va: Arg::Given(*va),
            access: Arg::Given(Access::USER_WRITE),
            ends: Ends::Any,
        }],
        Op::Pipe { .. } => alloc::vec![Ask::Kalloc, Ask::Free],
        Op::PipeClose { .. } => alloc::vec![Ask::Head, Ask::Free],
        Op::Fetch { pid, va } => alloc::vec![Ask::Translate {
            pid: Arg::Given(*pid),
            va: Arg::Given(*va),
            access: Arg::Given(Access::USER_EXEC),
            ends: Ends::Any,
        }],
        Op::File { .. } | Op::FailAlloc { .. } | Op::Cpu { .. } => alloc::vec![],
    }
}
