//! The JS API's logic, as plain Rust values: `pagelab.decompose`,
//! `pagelab.translate`, `pagelab.run` and `pagelab.builtins` convert these
//! to plain JS objects (serde-wasm-bindgen) and [`Problem`]s to thrown
//! `Error`s.
//!
//! Addresses, physical addresses and page-table entries come back as hex
//! strings (`"0x00403abc"`), because Sv39's 64-bit values do not fit in a
//! JS number; field values, indexes, offsets, counts and pids are numbers.

use std::collections::BTreeMap;

use pagelab_core::lab::scenario::{self, event_text, print_op};
use pagelab_core::lab::{Lab, Preset, Step};
use pagelab_core::scheme::{FaultKind, FieldRole, SchemeKind};
use pagelab_core::trace::{Counts, Event, TraceEvent};
use pagelab_web::present::{addr_digits, bits, hex};
use pagelab_web::select::AccessChoice;
use serde::Serialize;

use crate::options::{self, PidChoice, Source, short};
use crate::source::{self, AtStep, Problem};

/// An address as JS gave it.
#[derive(Clone, Debug, PartialEq)]
pub enum AddrArg {
    /// A number (must be a whole number from 0 to 2^53 − 1).
    Number(f64),
    /// Text: `0x403abc` (hex), `4209340` (decimal) or `#4209340` (decimal).
    Text(String),
}

/// Read an API address for `scheme`.
///
/// # Errors
/// Not a whole non-negative number, not hex or decimal text, or wider than the scheme's addresses.
pub fn parse_address(a: &AddrArg, scheme: SchemeKind) -> Result<u64, Problem> {
    let v = match a {
        AddrArg::Number(x) => number_address(*x)?,
        AddrArg::Text(t) => {
            let t = t.trim();
            let hexed = t.starts_with("0x") || t.starts_with("0X");
            let dec = t.strip_prefix('#').unwrap_or(t);
            if !hexed && !dec.is_empty() && dec.chars().all(|c| c.is_ascii_digit() || c == '_') {
                pagelab_web::input::parse_address(&format!("#{dec}"), SchemeKind::Sv39)
            } else if hexed {
                pagelab_web::input::parse_address(t, SchemeKind::Sv39)
            } else {
                Err(format!(
                    "\"{}\" is not an address: write hex with 0x (\"0x403abc\") or decimal (\"4209340\")",
                    short(t, 40)
                ))
            }
            .map_err(Problem::plain)?
        }
    };
    scheme.decompose(v).map_err(|e| Problem::plain(e.to_string()))?;
    Ok(v)
}

/// A message of the widgets' own checks in the words of the JS API, where
/// there is no element: `call` (`quiz`, `the walk widget`) for the element,
/// options for its attributes, the scenario text for the scenario inside it.
#[must_use]
pub fn api_words(message: &str, kind: options::Kind, call: &str) -> String {
    let tag = format!("<{}>", kind.tag());
    message
        .replace(&format!("{tag} has no attribute"), &format!("{call} has no option"))
        .replace("set=, scenario= or a scenario inside it", "set, scenario or text")
        .replace("a scenario= attribute and a scenario inside it", "a scenario and text")
        .replace("the scenario inside the element", "the scenario text")
        .replace(&tag, call)
}

/// [`api_words`] for a problem (its line and column kept).
#[must_use]
pub fn api_problem(p: Problem, kind: options::Kind, call: &str) -> Problem {
    Problem { message: api_words(&p.message, kind, call), ..p }
}

/// A JS number as JavaScript writes it (`Infinity`, `NaN`; Rust would say `inf`).
#[must_use]
pub fn js_number(x: f64) -> String {
    match x {
        v if v.is_nan() => String::from("NaN"),
        v if v == f64::INFINITY => String::from("Infinity"),
        v if v == f64::NEG_INFINITY => String::from("-Infinity"),
        v => format!("{v}"),
    }
}

/// An address given as a JS number: a whole number from 0 to 2^53 − 1.
///
/// # Errors
/// Any other number.
pub fn number_address(x: f64) -> Result<u64, Problem> {
    if !x.is_finite() || x.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&x) {
        return Err(Problem::plain(format!(
            "the address {} is not a whole number from 0 to 2^53 − 1; pass larger addresses as a hex string or a BigInt",
            js_number(x)
        )));
    }
    Ok(x as u64)
}

/// An address given to `render` as a number or a BigInt, as an attribute
/// writes it (`0x…`, since bare digits in an attribute are hex); text is
/// an attribute already and is kept as it is.
///
/// # Errors
/// A number that is not a whole number from 0 to 2^53 − 1.
pub fn address_attribute(a: &AddrArg) -> Result<String, Problem> {
    match a {
        AddrArg::Number(x) => Ok(format!("{:#x}", number_address(*x)?)),
        AddrArg::Text(t) => Ok(t.clone()),
    }
}

/// One field of an address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldOut {
    /// `PDX`, `PTX`, `L2`, …, `offset`, `sign extension`.
    pub name: &'static str,
    /// Highest bit.
    pub hi: u32,
    /// Lowest bit.
    pub lo: u32,
    /// The value (at most 25 bits: a safe JS number).
    pub value: u64,
    /// The value in hex.
    pub hex: String,
    /// The bits, grouped by four.
    pub binary: String,
    /// `index`, `offset` or `sign-extension`.
    pub role: &'static str,
    /// For an index: the level of its table (0 = last).
    pub level: Option<u32>,
}

/// An address cut into its fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecompositionOut {
    /// `x86`, `sv39` or `sv32`.
    pub scheme: &'static str,
    /// The address, in hex.
    pub address: String,
    /// The fields, most significant first.
    pub fields: Vec<FieldOut>,
    /// The index fields by name (`{PDX: 1, PTX: 3}`).
    pub index: BTreeMap<&'static str, u64>,
    /// The offset in the page.
    pub offset: u64,
}

/// `pagelab.decompose(scheme, address)`.
///
/// # Errors
/// An unknown scheme or a bad address.
pub fn decompose(scheme: &str, address: &AddrArg) -> Result<DecompositionOut, Problem> {
    let scheme = options::parse_scheme(scheme).map_err(Problem::plain)?;
    let va = parse_address(address, scheme)?;
    decomposition(scheme, va)
}

fn decomposition(scheme: SchemeKind, va: u64) -> Result<DecompositionOut, Problem> {
    let d = scheme.decompose(va).map_err(|e| Problem::plain(e.to_string()))?;
    let mut index = BTreeMap::new();
    let fields = d
        .fields
        .iter()
        .map(|f| {
            let (role, level) = match f.role {
                FieldRole::SignExtension => ("sign-extension", None),
                FieldRole::Index(l) => {
                    index.insert(f.name, f.value);
                    ("index", Some(l))
                }
                FieldRole::Offset => ("offset", None),
            };
            FieldOut {
                name: f.name,
                hi: f.hi,
                lo: f.lo,
                value: f.value,
                hex: format!("{:#x}", f.value),
                binary: bits(f.value, f.hi, f.lo),
                role,
                level,
            }
        })
        .collect();
    Ok(DecompositionOut { scheme: scheme.name(), address: hex(va, digits(scheme)), fields, index, offset: d.offset() })
}

/// Hex digits for this scheme's addresses.
fn digits(scheme: SchemeKind) -> usize {
    addr_digits(scheme == SchemeKind::Sv39)
}

/// What `pagelab.translate` was asked.
#[derive(Clone, Debug, PartialEq)]
pub struct TranslateReq {
    /// A built-in scenario's name, or scenario text.
    pub scenario: Option<String>,
    /// Or a machine (booted, with pid 1 made by userinit).
    pub machine: Option<String>,
    /// The step (None: the last).
    pub step: Option<usize>,
    /// Whose page table.
    pub pid: PidChoice,
    /// The address.
    pub address: AddrArg,
    /// The access (`user-read` when not given).
    pub access: Option<String>,
}

/// One entry read by the walk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalkStepOut {
    /// Level of the table (root = highest).
    pub level: u32,
    /// The index field's name (`PDX`, `L2`, …).
    pub field: &'static str,
    /// The index.
    pub index: u64,
    /// The table's physical address.
    pub table: String,
    /// The entry's physical address.
    pub entry_address: String,
    /// The entry's value.
    pub entry: String,
    /// The flag bits set, by name (`PTE_P`, `PTE_W`, …).
    pub flags: Vec<&'static str>,
    /// The next table, or the frame for the last entry.
    pub points_to: String,
    /// True if this entry maps the page.
    pub leaf: bool,
}

/// Why the hardware refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultOut {
    /// The level of the entry that stopped the walk.
    pub level: Option<u32>,
    /// `not_present`, `not_user`, `read_only`, …
    pub kind: FaultKind,
    /// x86: the page-fault error code; RISC-V: scause.
    pub code: u64,
    /// Plain words.
    pub text: String,
}

/// A whole translation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TranslationOut {
    /// The machine's preset.
    pub preset: &'static str,
    /// The step of the scenario.
    pub step: usize,
    /// The process (null: the kernel's page table).
    pub pid: Option<u32>,
    /// The access checked (`user-read`, …).
    pub access: String,
    /// The address cut into fields.
    pub decomposition: DecompositionOut,
    /// The root of the table (cr3 / satp's page).
    pub root: String,
    /// The entries read, root first.
    pub steps: Vec<WalkStepOut>,
    /// True when the access is allowed.
    pub ok: bool,
    /// The physical address, when allowed.
    pub pa: Option<String>,
    /// Why not, when refused.
    pub fault: Option<FaultOut>,
}

/// The machine a translate request names.
fn machine_of(req: &TranslateReq) -> Result<AtStep, Problem> {
    let source = match (&req.scenario, &req.machine) {
        (Some(_), Some(_)) => return Err(Problem::plain("give scenario or machine, not both")),
        (None, None) => {
            return Err(Problem::plain(
                "give a scenario (a built-in name like \"story-x86\", or scenario text) or a machine (\"xv6-public\")",
            ));
        }
        (Some(s), None) if s.trim().is_empty() => {
            return Err(Problem::plain(
                "the scenario is empty: give a built-in scenario's name (\"story-x86\") or scenario text",
            ));
        }
        (Some(s), None) => match scenario::builtin(s.trim()) {
            Some(_) => Source::builtin(s)?,
            None => Source::inline(s, "the scenario")?,
        },
        (None, Some(m)) => {
            let p = options::parse_machine(m).map_err(Problem::plain)?;
            Source { text: format!("preset {}\nuserinit\n", p.name()), label: format!("the machine {}", p.name()) }
        }
    };
    source::at_step(&source, req.step)
}

/// `pagelab.translate({scenario | machine, step, pid, address, access})`.
///
/// # Errors
/// A bad scenario, step, pid, access or address.
pub fn translate(req: &TranslateReq) -> Result<TranslationOut, Problem> {
    let access = match &req.access {
        Some(a) => options::parse_access(a).map_err(Problem::plain)?,
        None => AccessChoice::UserRead,
    };
    let at = machine_of(req)?;
    let scheme = at.lab.kernel().info().scheme;
    let va = parse_address(&req.address, scheme)?;
    let pid = source::pick_pid(&at, req.pid)?;
    let t = at.lab.kernel().translate(pid, va, access.access()).map_err(|e| Problem::plain(e.to_string()))?;
    let d = digits(scheme);
    let entry_digits = if scheme == SchemeKind::Sv39 { 16 } else { 8 };
    let steps = t
        .steps
        .iter()
        .map(|s| WalkStepOut {
            level: s.level,
            field: s.field,
            index: s.index,
            table: hex(s.table.as_u64(), d),
            entry_address: hex(s.entry_addr.as_u64(), d),
            entry: hex(s.entry, entry_digits),
            flags: s.flags.iter().filter(|b| b.set).map(|b| b.name).collect(),
            points_to: hex(s.points_to.as_u64(), d),
            leaf: s.leaf,
        })
        .collect();
    let (ok, pa, fault) = match &t.outcome {
        Ok(m) => (true, Some(hex(m.pa.as_u64(), d)), None),
        Err(f) => (false, None, Some(FaultOut { level: f.level, kind: f.kind, code: f.code, text: f.text.clone() })),
    };
    Ok(TranslationOut {
        preset: at.scenario.preset.name(),
        step: at.step,
        pid,
        access: access.label().replace(' ', "-"),
        decomposition: decomposition(scheme, va)?,
        root: hex(t.root.as_u64(), d),
        steps,
        ok,
        pa,
        fault,
    })
}

/// Pages allocated and freed by one step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CountsOut {
    /// User pages allocated (shared pages included).
    pub user_alloc: u64,
    /// User pages freed.
    pub user_free: u64,
    /// Page-table pages allocated (roots included).
    pub pt_alloc: u64,
    /// Page-table pages freed.
    pub pt_free: u64,
    /// Kernel stacks allocated.
    pub kstack_alloc: u64,
    /// Kernel stacks freed.
    pub kstack_free: u64,
    /// Other pages allocated (trapframes, exec argument copies).
    pub other_alloc: u64,
    /// Other pages freed.
    pub other_free: u64,
    /// All pages allocated.
    pub allocated: u64,
    /// All pages freed.
    pub freed: u64,
    /// In words: "allocated: 8 user pages; freed: nothing".
    pub text: String,
    /// What the TLB did: hits, misses, fills and flushes.
    pub tlb: TlbOut,
}

/// What the TLB did during a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlbOut {
    /// Lookups that found the page (no walk).
    pub hits: u64,
    /// Lookups that walked the table.
    pub misses: u64,
    /// Translations cached.
    pub fills: u64,
    /// Flushes.
    pub flushes: u64,
    /// "TLB: 2 hits, 1 miss, 1 fill, 1 flush".
    pub text: String,
}

impl From<Counts> for CountsOut {
    fn from(c: Counts) -> CountsOut {
        CountsOut {
            user_alloc: c.user_alloc,
            user_free: c.user_free,
            pt_alloc: c.pt_alloc,
            pt_free: c.pt_free,
            kstack_alloc: c.kstack_alloc,
            kstack_free: c.kstack_free,
            other_alloc: c.other_alloc,
            other_free: c.other_free,
            allocated: c.allocated(),
            freed: c.freed(),
            text: c.to_string(),
            tlb: TlbOut {
                hits: c.tlb.hits,
                misses: c.tlb.misses,
                fills: c.tlb.fills,
                flushes: c.tlb.flushes,
                text: c.tlb.to_string(),
            },
        }
    }
}

/// What a system call returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultOut {
    /// The value user code sees (-1 on failure).
    pub value: i64,
    /// Why it failed (null if it did not).
    pub error: Option<String>,
    /// Bytes read by a `read` operation.
    pub bytes: Vec<u8>,
}

/// One event of a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventOut {
    /// Call depth (0 = the operation itself).
    pub depth: u16,
    /// The xv6 function it happened in.
    pub func: &'static str,
    /// `call`, `kalloc`, `kfree`, `pte_write`, `copyout`, `load_root`, …
    pub kind: &'static str,
    /// One line of text, as the lab shows it.
    pub text: String,
    /// The frame, for kalloc and kfree.
    pub pa: Option<String>,
    /// The virtual address, for entry writes, copies, loads and faults.
    pub va: Option<String>,
    /// Whose frame, for kalloc and kfree ("user page of pid 3").
    pub owner: Option<String>,
}

fn event_out(e: &TraceEvent, scheme: SchemeKind) -> EventOut {
    let d = digits(scheme);
    let (kind, pa, va, owner) = match &e.event {
        Event::Call { .. } => ("call", None, None, None),
        Event::Kalloc { pa, owner } => ("kalloc", Some(pa.as_u64()), None, Some(owner.to_string())),
        Event::KallocFailed => ("kalloc_failed", None, None, None),
        Event::Kfree { pa, owner } => ("kfree", Some(pa.as_u64()), None, Some(owner.to_string())),
        Event::FreeRange { .. } => ("free_range", None, None, None),
        Event::PteWrite { va, .. } => ("pte_write", None, Some(va.as_u64()), None),
        Event::CopyPage { to, va, .. } => ("copy_page", Some(to.as_u64()), Some(va.as_u64()), None),
        Event::Load { va, pa, .. } => ("load", Some(pa.as_u64()), Some(va.as_u64()), None),
        Event::Copyout { va, .. } => ("copyout", None, Some(va.as_u64()), None),
        Event::Copyin { va, .. } => ("copyin", None, Some(va.as_u64()), None),
        Event::LoadRoot { root, .. } => ("load_root", Some(root.as_u64()), None, None),
        Event::TlbFlush { .. } => ("tlb_flush", None, None, None),
        Event::TlbHit { va, pa, .. } => ("tlb_hit", Some(pa.as_u64()), Some(va.as_u64()), None),
        Event::TlbMiss { va, .. } => ("tlb_miss", None, Some(va.as_u64()), None),
        Event::TlbFill { va, frame, .. } => ("tlb_fill", Some(frame.as_u64()), Some(va.as_u64()), None),
        Event::TlbDrop { va, .. } => ("tlb_drop", None, Some(va.as_u64()), None),
        Event::PageFault { va, .. } => ("page_fault", None, Some(va.as_u64()), None),
        Event::Note { .. } => ("note", None, None, None),
        Event::Fail { .. } => ("fail", None, None, None),
        Event::Defect { .. } => ("defect", None, None, None),
        // Not seen through the API: its events are expanded first.
        Event::Repeat { .. } => ("repeat", None, None, None),
    };
    EventOut {
        depth: e.depth,
        func: e.func,
        kind,
        text: event_text(e, scheme),
        pa: pa.map(|p| hex(p, d)),
        va: va.map(|v| hex(v, d)),
        owner,
    }
}

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepOut {
    /// The step's number (the first operation is step 1).
    pub index: usize,
    /// The operation, as a scenario line (`fork 1`).
    pub op: String,
    /// The process that made the call, if any.
    pub pid: Option<u32>,
    /// What it returned.
    pub result: ResultOut,
    /// Pages allocated and freed.
    pub counts: CountsOut,
    /// Free pages afterwards.
    pub nfree: u64,
    /// What happened, in order.
    pub events: Vec<EventOut>,
    /// Events only counted, not kept.
    pub elided: u64,
}

/// A scenario run to its end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunOut {
    /// The machine.
    pub preset: &'static str,
    /// Its paging scheme.
    pub scheme: &'static str,
    /// Free pages just after boot.
    pub nfree_at_boot: u64,
    /// Every operation's step.
    pub steps: Vec<StepOut>,
}

fn step_out(index: usize, s: &Step, scheme: SchemeKind) -> StepOut {
    StepOut {
        index,
        op: print_op(&s.op),
        pid: s.op.pid(),
        result: ResultOut {
            value: s.result.value,
            error: s.result.error.as_ref().map(ToString::to_string),
            bytes: s.result.bytes.clone(),
        },
        counts: s.counts.into(),
        nfree: s.nfree,
        events: pagelab_core::trace::expand(&s.events).map(|e| event_out(&e, scheme)).collect(),
        elided: s.elided,
    }
}

/// `pagelab.run(text)`: run a scenario (at most [`options::MAX_WIDGET_OPS`] operations).
///
/// # Errors
/// A mistake in the text (with line and column) or a refused operation (with its line).
pub fn run(text: &str) -> Result<RunOut, Problem> {
    let src = Source::inline(text, "the scenario")?;
    let sc = source::parse(&src.text, &src.label, options::MAX_WIDGET_OPS)?;
    let lab: Lab = source::replay_at(&sc, sc.ops.len(), &src.text, &src.label)?;
    let scheme = lab.kernel().info().scheme;
    Ok(RunOut {
        preset: sc.preset.name(),
        scheme: scheme.name(),
        nfree_at_boot: lab.boot_step().nfree,
        steps: lab.steps().iter().enumerate().map(|(i, s)| step_out(i + 1, s, scheme)).collect(),
    })
}

/// A built-in scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuiltinOut {
    /// Its name (`story-x86`, …).
    pub name: &'static str,
    /// Its machine.
    pub preset: &'static str,
    /// Its number of operations.
    pub operations: usize,
    /// Its text.
    pub text: &'static str,
}

/// `pagelab.builtins()`.
#[must_use]
pub fn builtins() -> Vec<BuiltinOut> {
    scenario::builtins()
        .iter()
        .map(|(name, text)| {
            let sc = scenario::parse(text).ok();
            BuiltinOut {
                name,
                preset: sc.as_ref().map_or(Preset::Xv6Public, |s| s.preset).name(),
                operations: sc.map_or(0, |s| s.ops.len()),
                text,
            }
        })
        .collect()
}

/// A question, as `pagelab.quiz` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionOut {
    /// Its number in the set (from 1), as `pagelab.check` takes it.
    pub number: usize,
    /// The operation it is asked before (from 1); one more than the operations for the final machine.
    pub step: usize,
    /// Where it stands, in words (`before step 3: exec 1 /init /init`).
    pub before: String,
    /// Its kind (`fields`, `sp`, …).
    pub kind: &'static str,
    /// Its `ask` line, with every `?` chosen.
    pub ask: String,
    /// The question, in words.
    pub prompt: String,
    /// How to write the answer.
    pub how: String,
    /// Which inputs it takes.
    pub form: pagelab_core::lab::quiz::Form,
    /// How many hints it has.
    pub hint_count: usize,
    /// The answer (only with `answers: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Why (only with `answers: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The hints (only with `answers: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hints: Option<Vec<String>>,
}

/// `pagelab.quiz(options)`: a set's questions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuizOut {
    /// The set's name (a built-in's, `scenario` for ask lines, `auto` for made questions).
    pub set: String,
    /// What the questions are about.
    pub label: String,
    /// The seed, as text (it may not fit a JS number).
    pub seed: String,
    /// The student id the seed came from.
    pub student: Option<String>,
    /// The machine.
    pub preset: String,
    /// The questions chosen.
    pub questions: Vec<QuestionOut>,
}

/// The questions of a quiz's settings (the widget's attributes).
///
/// # Errors
/// A mistake in the settings, the set or the scenario.
pub fn quiz(q: &options::QuizCfg, answers: bool) -> Result<QuizOut, Problem> {
    let p = crate::prepare::quiz_questions(q)?;
    let before = |step: usize| match p.ops.get(step) {
        Some(op) => format!("before step {}: {op}", step + 1),
        None => String::from("after the last step"),
    };
    let questions = p
        .run
        .questions
        .iter()
        .map(|x| QuestionOut {
            number: x.number,
            step: x.step + 1,
            before: before(x.step),
            kind: x.ask.kind(),
            ask: x.ask.to_string(),
            prompt: x.prompt.clone(),
            how: x.how.clone(),
            form: x.form.clone(),
            hint_count: x.hints.len(),
            answer: answers.then(|| x.answer.clone()),
            why: answers.then(|| x.why.clone()),
            hints: answers.then(|| x.hints.clone()),
        })
        .collect();
    Ok(QuizOut {
        set: pagelab_web::quiz::set_name(&p.run.source),
        label: p.label.clone(),
        seed: p.run.seed.to_string(),
        student: p.run.student.clone(),
        preset: p.preset.clone(),
        questions,
    })
}

/// One part of a checked answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartOut {
    /// What it is (`PDX`, `user pages allocated`, `value`, …).
    pub name: String,
    /// Whether it is right.
    pub right: bool,
    /// What was given, as read.
    pub given: String,
    /// What xv6 has.
    pub expected: String,
}

/// `pagelab.check(options, number, answer)`: an answer checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckOut {
    /// The question's number.
    pub number: usize,
    /// Its `ask` line.
    pub ask: String,
    /// False if the answer could not be read (then `right` is false and `message` says why).
    pub readable: bool,
    /// Whether the answer is right.
    pub right: bool,
    /// `right`, `wrong` or `unreadable`.
    pub result: &'static str,
    /// What the lab says: right, or what was expected and why, or why the answer cannot be read.
    pub message: String,
    /// The right answer.
    pub expected: String,
    /// Why it is the right answer.
    pub why: String,
    /// Each part (empty when unreadable).
    pub parts: Vec<PartOut>,
}

/// Check `answer` to question `number` of a quiz's settings.
///
/// # Errors
/// A mistake in the settings, or no such question among those chosen.
pub fn check(q: &options::QuizCfg, number: usize, answer: &str) -> Result<CheckOut, Problem> {
    let p = crate::prepare::quiz_questions(q)?;
    let Some(x) = p.run.questions.iter().find(|x| x.number == number) else {
        let nums: Vec<String> = p.run.questions.iter().map(|x| x.number.to_string()).collect();
        return Err(Problem::plain(format!(
            "{} has no question {number} among those chosen (they are {})",
            p.label,
            short(&nums.join(", "), 80)
        )));
    };
    let base = |readable: bool, right: bool, message: String, parts: Vec<PartOut>| CheckOut {
        number,
        ask: x.ask.to_string(),
        readable,
        right,
        result: if !readable {
            "unreadable"
        } else if right {
            "right"
        } else {
            "wrong"
        },
        message,
        expected: x.answer.clone(),
        why: x.why.clone(),
        parts,
    };
    Ok(match pagelab_core::lab::quiz::answer::grade(x, answer) {
        Ok(v) => base(
            true,
            v.right,
            v.message,
            v.parts
                .into_iter()
                .map(|p| PartOut { name: p.name, right: p.right, given: p.given, expected: p.expected })
                .collect(),
        ),
        Err(e) => base(false, false, e.message, Vec::new()),
    })
}

/// What `pagelab.runPrograms` was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramsReq {
    /// The machine's name (None: xv6-riscv).
    pub machine: Option<String>,
    /// The lines typed at sh, in order: each run until every process waits;
    /// but when `steps` is more than 0 the last line is only typed, and the
    /// steps run it.
    pub lines: Vec<String>,
    /// Instructions to step one at a time after the lines.
    pub steps: u64,
}

/// The most lines `pagelab.runPrograms` types.
pub const MAX_LINES: usize = 20;
/// The most instructions `pagelab.runPrograms` steps one at a time.
pub const MAX_STEPS: u64 = 10_000;

/// One instruction stepped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SteppedOut {
    /// The process that ran it.
    pub pid: u32,
    /// Its address.
    pub pc: String,
    /// It, disassembled.
    pub instruction: String,
}

/// A trip into the kernel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TripOut {
    /// The process (none for userinit).
    pub pid: Option<u32>,
    /// In words: `write(1, 0x3fe0, 5) = 5`.
    pub text: String,
}

/// `pagelab.runPrograms`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgramsOut {
    /// The machine.
    pub machine: &'static str,
    /// The console, from init's first line on.
    pub console: String,
    /// The process operations the programs made, as a scenario writes them (`pagelab.run` replays them).
    pub operations: Vec<String>,
    /// Faults that killed processes, in words.
    pub faults: Vec<String>,
    /// Counts.
    pub counts: pagelab_core::riscv::run::RunCounts,
    /// Every trip into the kernel but scheduler switches.
    pub trips: Vec<TripOut>,
    /// The instructions stepped one at a time after the lines.
    pub stepped: Vec<SteppedOut>,
    /// Why the run stopped, in words.
    pub stop: String,
    /// Free frames at the end.
    pub nfree: u64,
}

/// `pagelab.runPrograms({machine, lines, steps})`: boot (xv6-riscv unless
/// `machine` names another), run init to sh's
/// prompt, type each line (running until every process waits), then step
/// `steps` instructions one at a time (into the last line's work).
///
/// # Errors
/// A machine that does not exist, too many lines or steps, or a line sh cannot be given.
pub fn run_programs(req: &ProgramsReq) -> Result<ProgramsOut, Problem> {
    use pagelab_core::riscv::run::RecordKind;
    use pagelab_web::run::{RunCommand, RunSession};
    let preset = match &req.machine {
        None => pagelab_core::lab::Preset::Xv6Riscv,
        Some(m) => options::parse_machine(m).map_err(Problem::plain)?,
    };
    if req.lines.len() > MAX_LINES {
        return Err(Problem::plain(format!(
            "runPrograms types at most {MAX_LINES} lines; this asks for {}",
            req.lines.len()
        )));
    }
    if req.steps > MAX_STEPS {
        return Err(Problem::plain(format!(
            "runPrograms steps at most {MAX_STEPS} instructions; this asks for {}",
            req.steps
        )));
    }
    let mut s = RunSession::boot(preset).map_err(Problem::plain)?;
    s.command(&RunCommand::Run).map_err(Problem::plain)?;
    for (i, line) in req.lines.iter().enumerate() {
        let last = i + 1 == req.lines.len();
        let typed = if last && req.steps > 0 { s.type_only(line) } else { s.command(&RunCommand::Type(line.clone())) };
        typed.map_err(|e| Problem::plain(format!("line {}: {e}", i + 1)))?;
    }
    let mut stepped = Vec::new();
    // A step with no process in user mode schedules one (or finds none can run).
    let mut idle = 0;
    while (stepped.len() as u64) < req.steps && idle < 2 {
        let before = s.view();
        let Some((pc, instruction)) = before.next.clone() else {
            s.command(&RunCommand::Instruction).map_err(Problem::plain)?;
            idle += 1;
            continue;
        };
        idle = 0;
        let pid = before.current.as_ref().map_or(0, |c| c.pid);
        s.command(&RunCommand::Instruction).map_err(Problem::plain)?;
        stepped.push(SteppedOut { pid, pc: format!("{pc:#x}"), instruction });
    }
    let v = s.view();
    Ok(ProgramsOut {
        machine: preset.name(),
        console: v.console.clone(),
        operations: s.new_ops().iter().map(scenario::print_op).collect(),
        faults: v.faults.clone(),
        counts: v.counts,
        trips: s
            .records()
            .into_iter()
            .filter(|(_, kind, _)| !matches!(kind, RecordKind::Schedule | RecordKind::User { .. }))
            .map(|(pid, _, text)| TripOut { pid, text })
            .collect(),
        stepped,
        stop: s.stop_words(&RunCommand::Run).unwrap_or_default(),
        nfree: v.nfree,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> AddrArg {
        AddrArg::Text(s.into())
    }

    #[test]
    fn addresses_as_numbers_and_text() {
        let x = SchemeKind::X86;
        assert_eq!(parse_address(&AddrArg::Number(4_209_340.0), x), Ok(0x0040_3abc));
        assert_eq!(parse_address(&text("0x00403abc"), x), Ok(0x0040_3abc));
        assert_eq!(parse_address(&text("4209340"), x), Ok(0x0040_3abc));
        assert_eq!(parse_address(&text("#4209340"), x), Ok(0x0040_3abc));
        assert_eq!(parse_address(&text("0xffffffffffffffff"), SchemeKind::Sv39), Ok(u64::MAX));
        let e = |a: AddrArg, s| parse_address(&a, s).unwrap_err().message;
        assert!(e(AddrArg::Number(-1.0), x).contains("not a whole number"));
        assert!(e(AddrArg::Number(1.5), x).contains("not a whole number"));
        assert!(e(AddrArg::Number(f64::NAN), x).contains("not a whole number"));
        assert!(e(AddrArg::Number(f64::INFINITY), x).starts_with("the address Infinity is not"));
        assert!(e(AddrArg::Number(f64::NAN), x).starts_with("the address NaN is not"));
        // render's options are attributes, where bare digits are hex: a number becomes 0x….
        assert_eq!(address_attribute(&AddrArg::Number(12_236.0)).unwrap(), "0x2fcc");
        assert_eq!(address_attribute(&text("2fcc")).unwrap(), "2fcc");
        assert!(address_attribute(&AddrArg::Number(-1.0)).unwrap_err().message.contains("not a whole number"));
        assert!(e(text("403abc"), x).contains("write hex with 0x"));
        assert!(e(text(""), x).contains("write hex with 0x"));
        assert!(e(text("0x100000000"), x).contains("does not fit in 32 bits"));
    }

    #[test]
    fn decompose_gives_the_fields_by_name() {
        // 0x00403abc = 0000000001 | 0000000011 | 1010 1011 1100.
        let d = decompose("x86", &text("0x00403abc")).unwrap();
        assert_eq!(d.address, "0x00403abc");
        assert_eq!(d.index.get("PDX"), Some(&1));
        assert_eq!(d.index.get("PTX"), Some(&3));
        assert_eq!(d.offset, 0xabc);
        assert_eq!(d.fields[2].binary, "1010 1011 1100");
        assert_eq!((d.fields[0].role, d.fields[0].level, d.fields[0].hi, d.fields[0].lo), ("index", Some(1), 31, 22));
        // Sv39: 0x3fffffe000 (the trapframe) = L2 255, L1 511, L0 510, offset 0.
        let d = decompose("SV39", &AddrArg::Number(274_877_898_752.0)).unwrap();
        assert_eq!((d.index["L2"], d.index["L1"], d.index["L0"], d.offset), (255, 511, 510, 0));
        assert_eq!(d.fields[0].name, "sign extension");
        assert!(decompose("mips", &text("0x0")).unwrap_err().message.contains("use x86, sv39 or sv32"));
    }

    fn req(scenario: &str, step: Option<usize>, pid: PidChoice, address: &str, access: Option<&str>) -> TranslateReq {
        TranslateReq {
            scenario: Some(scenario.into()),
            machine: None,
            step,
            pid,
            address: text(address),
            access: access.map(Into::into),
        }
    }

    #[test]
    fn translate_walks_a_process_table() {
        // Step 7 of the story: pid 3 runs echo; 0x2fcc is sp, in its stack page (0x2000).
        let t = translate(&req("story-x86", Some(7), PidChoice::Pid(3), "0x2fcc", None)).unwrap();
        assert!(t.ok);
        assert_eq!((t.steps.len(), t.steps[0].field, t.steps[1].field), (2, "PDX", "PTX"));
        assert_eq!((t.steps[0].index, t.steps[1].index), (0, 2));
        assert_eq!(t.steps[1].flags, vec!["PTE_P", "PTE_W", "PTE_U"]);
        let frame = u64::from_str_radix(t.steps[1].points_to.trim_start_matches("0x"), 16).unwrap();
        assert_eq!(t.pa.as_deref(), Some(hex(frame | 0xfcc, 8).as_str()));
        // The guard page below it has no user bit.
        let g = translate(&req("story-x86", Some(7), PidChoice::Auto, "0x1000", Some("user-write"))).unwrap();
        assert_eq!((g.ok, g.pid, g.fault.as_ref().map(|f| f.kind)), (false, Some(3), Some(FaultKind::NotUser)));
        // x86 error code: present (1) | write (2) | user (4) = 7.
        assert_eq!(g.fault.map(|f| f.code), Some(7));
        // A machine: pid 1 after userinit runs initcode at 0.
        let m = translate(&TranslateReq {
            scenario: None,
            machine: Some("xv6-riscv-tiny".into()),
            step: None,
            pid: PidChoice::Auto,
            address: AddrArg::Number(0.0),
            access: Some("ux".into()),
        })
        .unwrap();
        assert!(m.ok, "{m:?}");
        assert_eq!(m.steps.len(), 3);
        assert_eq!(m.steps[2].flags, vec!["PTE_V", "PTE_R", "PTE_W", "PTE_X", "PTE_U"]);
    }

    #[test]
    fn translate_mistakes() {
        let e = |r: TranslateReq| translate(&r).unwrap_err();
        assert!(e(req("story-x86", Some(12), PidChoice::Auto, "0", None)).message.contains("past the end"));
        assert!(e(req("story-x86", None, PidChoice::Pid(3), "0", None)).message.contains("no process with pid 3"));
        assert!(e(req("story-x86", None, PidChoice::Auto, "0", Some("jump"))).message.contains("not an access"));
        let p = e(req("userinit\nfrobnicate\n", None, PidChoice::Auto, "0", None));
        assert_eq!((p.line, p.column), (Some(2), Some(1)));
        let mut both = req("story-x86", None, PidChoice::Auto, "0", None);
        both.machine = Some("x86".into());
        assert!(e(both).message.contains("not both"));
        // The widgets' words, as the API says them.
        let k = options::Kind::Quiz;
        assert_eq!(
            api_words("<pagelab-quiz> has no attribute \"extra\"; it takes set, scenario", k, "quiz"),
            "quiz has no option \"extra\"; it takes set, scenario"
        );
        assert_eq!(
            api_words("the scenario inside the element: `ask sp 1` needs a step", k, "quiz"),
            "the scenario text: `ask sp 1` needs a step"
        );
        assert_eq!(
            api_words(
                "<pagelab-quiz> takes one source of questions: set=, scenario= or a scenario inside it, not two",
                k,
                "quiz"
            ),
            "quiz takes one source of questions: set, scenario or text, not two"
        );
        // A scenario string that came out empty is refused, not read as a scenario of no steps.
        for blank in ["", "  \n"] {
            assert!(e(req(blank, None, PidChoice::Auto, "0", None)).message.starts_with("the scenario is empty"));
        }
    }

    #[test]
    fn run_gives_steps_events_and_counts() {
        let r = run("preset xv6-public-tiny\nuserinit\nexec 1 /init\nfork 1\nsbrk 2 8192\nread 2 0x4000 1\n").unwrap();
        assert_eq!((r.preset, r.scheme, r.steps.len()), ("xv6-public-tiny", "x86", 5));
        // exec of init: text, guard and stack allocated; the initcode page freed.
        let exec = &r.steps[1];
        assert_eq!(exec.op, "exec 1 /init");
        assert_eq!((exec.counts.user_alloc, exec.counts.user_free), (3, 1));
        assert_eq!(exec.result.value, 0);
        // fork returns the child's pid, 2.
        assert_eq!(r.steps[2].result.value, 2);
        // sbrk(8192): two user pages; it returns the old size, init's 3 pages = 0x3000.
        let sbrk = &r.steps[3];
        assert_eq!((sbrk.result.value, sbrk.counts.user_alloc, sbrk.counts.allocated), (0x3000, 2, 2));
        assert_eq!(sbrk.nfree, exec.nfree - (r.steps[2].counts.allocated - r.steps[2].counts.freed) - 2);
        let kallocs: Vec<&EventOut> = sbrk.events.iter().filter(|e| e.kind == "kalloc").collect();
        assert_eq!(kallocs.len(), 2);
        assert_eq!(kallocs[0].owner.as_deref(), Some("user page of pid 2"));
        assert!(kallocs[0].text.starts_with("kalloc 0x"));
        // sbrk's new pages are zero: the read returns one byte, 0.
        assert_eq!((r.steps[4].result.value, r.steps[4].result.bytes.clone()), (1, vec![0]));
        let e = run("userinit\nfork 1\nfork 7\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(1)));
        assert!(e.message.contains("there is no process with pid 7"));
        let e = run("userinit\nexec\n").unwrap_err();
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn builtins_are_listed_with_their_machines() {
        let b = builtins();
        let names: Vec<(&str, &str, usize)> = b.iter().map(|b| (b.name, b.preset, b.operations)).collect();
        assert_eq!(
            names,
            vec![
                ("story-x86", "xv6-public", 9),
                ("story-riscv", "xv6-riscv", 9),
                // 5 steps to pid 3, 3 for the test's openshmem, store and printf, 10 forks,
                // 6 per child, 10 waits, the final read and the test's closeshmem.
                ("shm-test", "xv6-public", 90),
                ("shm-test-note", "xv6-public", 90),
                // userinit, fork, store, load, sbrk(-4096), store, load, pid 1's load, the store that faults.
                ("tlb-x86", "xv6-public", 9),
                // userinit, fork, sbrk, store, sbrk(-4096), store, fork, store.
                ("tlb-noflush-x86", "xv6-public", 8),
                // userinit, fork, store, sbrk(-4096), cpu 1, sbrk, store, cpu 0, the stale store,
                // cpu 1, load, cpu 0, pid 1's load there, the store that faults.
                ("tlb-smp-x86", "xv6-public", 14),
                // userinit, fork, sbrk, store, sbrk(-4096), the store that faults.
                ("tlb-riscv", "xv6-riscv", 6)
            ]
        );
    }

    fn story_x86() -> options::QuizCfg {
        options::QuizCfg {
            from: options::QuizFrom::Set("quiz-story-x86".into()),
            seed: 0,
            student: None,
            pick: options::Pick::default(),
        }
    }

    #[test]
    fn quiz_lists_questions_and_hides_answers_unless_asked() {
        let q = quiz(&story_x86(), false).unwrap();
        assert_eq!((q.set.as_str(), q.preset.as_str(), q.seed.as_str()), ("quiz-story-x86", "xv6-public", "0"));
        // The set's first lines: ask pages, ask kalloc, ask free (before userinit), then ask pages, sp 1, guard 1.
        let kinds: Vec<&str> = q.questions.iter().take(6).map(|x| x.kind).collect();
        assert_eq!(kinds, ["pages", "kalloc", "free", "pages", "sp", "guard"]);
        assert_eq!((q.questions[4].step, q.questions[4].before.as_str()), (2, "before step 2: exec 1 /init"));
        assert!(q.questions.iter().all(|x| x.answer.is_none() && x.hints.is_none() && x.hint_count >= 2));
        let a = quiz(&story_x86(), true).unwrap();
        // exec /init on xv6-public: sz 0x3000 after the guard and stack pages; "/init\0" (6 bytes) rounds sp to
        // 0x2ff8; then fake pc, argc, argv, argv[0], 0: five words, 0x2ff8 - 20 = 0x2fe4.
        assert_eq!(a.questions[4].answer.as_deref(), Some("0x2fe4"));
        let mut only = story_x86();
        only.pick = options::parse_pick("sp").unwrap();
        let sp = quiz(&only, false).unwrap();
        assert!(sp.questions.iter().all(|x| x.kind == "sp") && sp.questions.len() >= 2);
        assert_eq!(sp.questions[0].number, 5);
    }

    #[test]
    fn check_grades_in_the_labs_notations() {
        let c = story_x86();
        // userinit on xv6-public: setupkvm's page directory + 56 tables for KERNBASE..PHYSTOP + 8 for DEVSPACE = 65,
        // and one more for initcode's page at va 0; one user page (initcode); nothing freed.
        let r = check(&c, 1, "1 0 66 0").unwrap();
        assert!(r.readable && r.right && r.result == "right", "{r:?}");
        assert_eq!(r.parts.len(), 4);
        let r = check(&c, 5, "#12260").unwrap();
        assert!(r.right, "0x2fe4 in decimal: {r:?}");
        let r = check(&c, 5, "0x2fe8").unwrap();
        assert_eq!((r.readable, r.right, r.result, r.expected.as_str()), (true, false, "wrong", "0x2fe4"));
        assert_eq!(r.parts[0].given, "0x2fe8");
        let r = check(&c, 5, "the top").unwrap();
        assert_eq!((r.readable, r.right, r.result), (false, false, "unreadable"));
        assert!(!r.message.is_empty() && r.parts.is_empty());
        // The guard page of init: va 0x1000, PTE_U cleared, so present and writable only.
        assert!(check(&c, 6, "0x1000 PTE_P|PTE_W").unwrap().right);
        assert!(!check(&c, 6, "0x1000 PTE_P|PTE_W|PTE_U").unwrap().right);
        let e = check(&c, 999, "1").unwrap_err();
        assert!(e.message.contains("has no question 999"), "{}", e.message);
    }

    #[test]
    fn run_programs_types_lines_and_steps_instructions() {
        let out =
            run_programs(&ProgramsReq { machine: None, lines: vec!["echo hello world".into()], steps: 0 }).unwrap();
        assert_eq!(out.machine, "xv6-riscv");
        // xv6-riscv's boot messages (main's banner, then harts 2 and 1), then init and sh.
        assert_eq!(
            out.console,
            "\nxv6 kernel is booting\n\nhart 2 starting\nhart 1 starting\ninit: starting sh\n$ echo hello world\nhello world\n$ "
        );
        // The operations are the built-in riscv story's, which pagelab.run replays.
        let story = pagelab_core::lab::scenario::parse(pagelab_core::lab::scenario::STORY_RISCV).unwrap();
        let want: Vec<String> = story.ops.iter().map(scenario::print_op).collect();
        assert_eq!(out.operations, want);
        assert!(out.trips.iter().any(|t| t.pid == Some(3) && t.text.starts_with("exec(\"echo\"")));
        // Too many lines, or an x86 machine: refused with the reason.
        let many = ProgramsReq { machine: None, lines: vec![String::new(); MAX_LINES + 1], steps: 0 };
        assert!(run_programs(&many).unwrap_err().message.contains("at most 20 lines"));
        // xv6-public runs its own programs on the x86 CPU.
        let x86 = ProgramsReq { machine: Some("xv6-public-tiny".into()), lines: vec!["echo hi".into()], steps: 0 };
        assert!(run_programs(&x86).unwrap().console.ends_with("$ echo hi\nhi\n$ "));
        let bad = ProgramsReq { machine: Some("vax".into()), lines: vec![], steps: 0 };
        assert!(run_programs(&bad).unwrap_err().message.contains("is not a machine"));
        let long = ProgramsReq { machine: None, lines: vec!["x".repeat(300)], steps: 0 };
        assert!(run_programs(&long).unwrap_err().message.starts_with("line 1: a line may be at most 127"));
    }

    #[test]
    fn stepping_runs_the_last_line_one_instruction_at_a_time() {
        // "deep" runs to its fault on the guard page.
        let out =
            run_programs(&ProgramsReq { machine: Some("xv6-riscv-tiny".into()), lines: vec!["deep".into()], steps: 0 })
                .unwrap();
        assert_eq!(out.faults.len(), 1, "{:?}", out.faults);
        assert!(out.faults[0].starts_with("pid 3: store at 0x2"), "{:?}", out.faults);
        // Stepped: sh wakes in its read's return (the line is there) and runs on,
        // one instruction at a time, each with its address and disassembly.
        let out = run_programs(&ProgramsReq { machine: None, lines: vec!["echo hi".into()], steps: 5 }).unwrap();
        assert_eq!(out.stepped.len(), 5, "{:?}", out.stepped);
        assert!(out.stepped.iter().all(|s| s.pid == 2), "{:?}", out.stepped);
        assert!(out.stepped.iter().all(|s| s.pc.starts_with("0x") && !s.instruction.is_empty()));
        // With nothing typed, sh sleeps in read: no instruction can be stepped.
        let idle = run_programs(&ProgramsReq { machine: None, lines: vec![], steps: 5 }).unwrap();
        assert!(idle.stepped.is_empty());
        assert!(!out.console.contains("\nhi\n"), "five instructions do not get echo to print");
    }
}
