//! Making questions: replay the scenario, and at each `ask` line read the
//! answer off the machine, with the reason and the hints.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::sets::Seeded;
use super::{Arg, Ask, Asks, Ends, Evidence, Expected, Form, Question, Quiz, QuizError, answer};
use crate::addr::PGSIZE;
use crate::lab::summary::{plural, run_text};
use crate::lab::view::{self, RegionKind, StackRole};
use crate::lab::{Lab, Op, Scenario, Step};
use crate::port::{Kernel, Port};
use crate::scheme::{Access, AccessKind, FaultKind, FieldRole, Mode, SchemeKind};
use crate::trace::{Counts, Event, Owner, expand_numbers, rfind};

/// How an address is typed, for the page.
pub(super) const HOW_ADDRESS: &str = "An address: hex (0x1a2b or 1a2b), or decimal with # in front (#6699).";
/// How a size in bytes is typed.
pub(super) const HOW_SIZE: &str = "A size in bytes: hex (0x1a2b or 1a2b), or decimal with # in front (#6699).";
/// How a count is typed.
pub(super) const HOW_COUNT: &str = "A number: decimal (12), or hex with 0x in front (0xc).";

/// What the machine was like just before the operation a question is about.
struct Before {
    head: Option<u64>,
    nfree: u64,
    /// Shared pages in use: id → (refs, frame).
    shm: BTreeMap<i32, (i32, u64)>,
    /// Each live process's sz.
    sz: BTreeMap<u32, u64>,
}

impl Before {
    fn of(lab: &Lab) -> Before {
        let k = lab.kernel();
        Before {
            head: k.kmem().head(),
            nfree: k.kmem().nfree(),
            shm: k.shm().used().map(|p| (p.id, (p.refs, p.pa))).collect(),
            sz: k.procs().live().map(|p| (p.pid, p.sz)).collect(),
        }
    }
}

/// Everything a question is made from.
struct Ctx<'a> {
    lab: &'a Lab,
    k: &'a dyn Kernel,
    scheme: SchemeKind,
    port: Port,
    /// The operation the question is about, and its index; `None` after the last one.
    step: Option<(usize, &'a Step)>,
    before: &'a Before,
}

/// A question before it is numbered.
struct Made {
    prompt: String,
    how: String,
    form: Form,
    expected: Expected,
    answer: String,
    why: String,
    hints: Vec<String>,
    evidence: Evidence,
}

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

pub(super) fn build_with(s: &Scenario, seed: u64, lenient: bool) -> Result<Quiz, QuizError> {
    let bare = |message: String| QuizError { step: None, ask: None, message };
    let mut lab = Lab::with_layout(s.preset, s.layout.clone(), s.shm)
        .map_err(|r| bare(format!("the preset line makes a machine that cannot boot: {r}")))?;
    let mut rng = Seeded::new(seed);
    let mut questions = Vec::new();
    let mut chosen = Asks::new();
    for i in 0..=s.ops.len() {
        let asks = s.asks.get(&i).map_or(&[][..], Vec::as_slice);
        let before = Before::of(&lab);
        if let Some(op) = s.ops.get(i) {
            lab.apply(op.clone()).map_err(|r| QuizError {
                step: Some(i),
                ask: None,
                message: format!("operation {} was refused: {r}", i + 1),
            })?;
        }
        for a in asks {
            let fail = |message: String| QuizError { step: Some(i), ask: Some(a.to_string()), message };
            let step = lab.steps().get(i).map(|st| (i, &**st));
            if a.needs_step() && step.is_none() {
                if lenient {
                    continue;
                }
                return Err(fail(format!(
                    "ask {} is about what an operation does, and no operation follows it",
                    a.kind()
                )));
            }
            let k = lab.kernel();
            let cx = Ctx { lab: &lab, k, scheme: k.info().scheme, port: k.info().port, step, before: &before };
            let taken = chosen.get(&i).map_or(&[][..], Vec::as_slice);
            let made = choose(&cx, *a, &mut rng, taken).and_then(|c| make(&cx, c).map(|m| (c, m)));
            let (concrete, m) = match made {
                Ok(x) => x,
                Err(_) if lenient => continue,
                Err(e) => return Err(fail(e)),
            };
            chosen.entry(i).or_default().push(concrete);
            questions.push(Question {
                number: questions.len() + 1,
                step: i,
                ask: concrete,
                scheme: cx.scheme,
                prompt: m.prompt,
                how: m.how,
                form: m.form,
                expected: m.expected,
                answer: m.answer,
                why: m.why,
                hints: m.hints,
                evidence: m.evidence,
            });
        }
    }
    let mut scenario = s.clone();
    scenario.asks = chosen;
    Ok(Quiz { seed, scenario, questions })
}

// ---- choosing `?` ----

/// The process a question is about when its pid is `?`: the child of a
/// fork, else the process that made the call (for a line after the last
/// operation: that of the last operation).
fn focus(cx: &Ctx<'_>) -> Option<u32> {
    let steps = cx.lab.steps();
    let st = match cx.step {
        Some((_, st)) => st,
        None => steps.last()?,
    };
    let pid = match st.op {
        Op::Fork { .. } if st.result.error.is_none() => u32::try_from(st.result.value).ok(),
        Op::Userinit if st.result.error.is_none() => u32::try_from(st.result.value).ok(),
        _ => st.op.pid(),
    }?;
    cx.k.procs().get(pid).map(|p| p.pid)
}

fn pick<T: Copy>(rng: &mut Seeded, v: &[T]) -> Option<T> {
    if v.is_empty() { None } else { Some(v[rng.below(v.len() as u64) as usize]) }
}

/// An address in `pid`'s space for the seed to ask about: a page of one of
/// its regions (or just above sz), chosen evenly among them, at a word offset.
/// With `mapped_only`, only pages the process has mapped.
fn any_address(cx: &Ctx<'_>, pid: u32, rng: &mut Seeded, mapped_only: bool) -> Option<u64> {
    let regions = view::regions(cx.k, pid);
    let mut spans: Vec<(u64, u64)> = regions
        .iter()
        .filter(|r| {
            matches!(
                r.kind,
                RegionKind::Text
                    | RegionKind::Data
                    | RegionKind::Initcode
                    | RegionKind::Guard
                    | RegionKind::Stack
                    | RegionKind::Heap
                    | RegionKind::Shared
            )
        })
        .map(|r| (r.start, r.end))
        .collect();
    if !mapped_only {
        let sz = cx.k.procs().get(pid)?.sz;
        let above = sz.div_ceil(PGSIZE) * PGSIZE;
        if above + PGSIZE <= cx.k.info().user_limit {
            spans.push((above, above + PGSIZE));
        }
    }
    let (start, end) = pick(rng, &spans)?;
    let pages = (end - start) / PGSIZE;
    let page = start + rng.below(pages.max(1)) * PGSIZE;
    Some(page + rng.below(PGSIZE / 4) * 4)
}

fn any_shm_id(cx: &Ctx<'_>, rng: &mut Seeded, with_before: bool) -> Option<i64> {
    let mut ids: Vec<i64> = cx.k.shm().used().map(|p| i64::from(p.id)).collect();
    if with_before {
        ids.extend(cx.before.shm.keys().map(|&id| i64::from(id)));
        ids.sort_unstable();
        ids.dedup();
    }
    pick(rng, &ids)
}

/// How many times the seed picks an address and an access for a `translate`
/// question that must end `mapped` or `fault` before it gives up.
const CHOOSE_TRIES: u32 = 64;

/// `a` with every `?` chosen by the seed.
fn choose(cx: &Ctx<'_>, a: Ask, rng: &mut Seeded, taken: &[Ask]) -> Result<Ask, String> {
    let pid_of = |p: Arg<u32>| -> Result<u32, String> {
        match p {
            Arg::Given(p) => Ok(p),
            Arg::Any => focus(cx).ok_or_else(|| String::from("there is no process here for `?` to choose")),
        }
    };
    let no_va = || String::from("the process has no pages for `?` to choose from");
    Ok(match a {
        Ask::Fields { va } => {
            let va = match va {
                Arg::Given(v) => v,
                Arg::Any => match focus(cx) {
                    Some(p) => any_address(cx, p, rng, false).ok_or_else(no_va)?,
                    None => rng.below(0x8000_0000 / 4) * 4,
                },
            };
            Ask::Fields { va: Arg::Given(va) }
        }
        Ask::Entry { pid, va, level } => {
            let pid = pid_of(pid)?;
            let va = match va {
                Arg::Given(v) => v,
                Arg::Any => any_address(cx, pid, rng, true).ok_or_else(no_va)?,
            };
            Ask::Entry { pid: Arg::Given(pid), va: Arg::Given(va), level }
        }
        Ask::Translate { pid, va, access, ends } => {
            let pid = pid_of(pid)?;
            // With `mapped` or `fault`, pick again until the walk ends so (the
            // first pick is the one made without them).
            let mut tries = 0;
            loop {
                let va = match va {
                    Arg::Given(v) => v,
                    Arg::Any => any_address(cx, pid, rng, false).ok_or_else(no_va)?,
                };
                let access = match access {
                    Arg::Given(a) => a,
                    Arg::Any => pick(rng, &[Access::USER_READ, Access::USER_WRITE, Access::USER_EXEC])
                        .unwrap_or(Access::USER_READ),
                };
                let mapped = || cx.k.translate(Some(pid), va, access).is_ok_and(|t| t.outcome.is_ok());
                let fits = match ends {
                    Ends::Any => true,
                    Ends::Mapped => mapped(),
                    Ends::Fault => !mapped(),
                };
                if fits {
                    break Ask::Translate {
                        pid: Arg::Given(pid),
                        va: Arg::Given(va),
                        access: Arg::Given(access),
                        ends: Ends::Any,
                    };
                }
                tries += 1;
                if tries == CHOOSE_TRIES {
                    return Err(format!(
                        "`?` found no {} in pid {pid} in {CHOOSE_TRIES} picks",
                        if ends == Ends::Mapped {
                            "address and access that map"
                        } else {
                            "address and access that fault"
                        }
                    ));
                }
            }
        }
        Ask::Word { pid, va } => {
            let pid = pid_of(pid)?;
            let va = match va {
                Arg::Given(v) => v,
                Arg::Any => {
                    // Padding words are dull: ask about the others, and not twice in a row.
                    let all = view::stack_words(cx.k, pid);
                    let asked: Vec<u64> = taken
                        .iter()
                        .filter_map(|a| match a {
                            Ask::Word { pid: Arg::Given(p), va: Arg::Given(v) } if *p == pid => Some(*v),
                            _ => None,
                        })
                        .collect();
                    let fresh: Vec<u64> = all
                        .iter()
                        .filter(|w| !matches!(w.role, StackRole::Padding) && !asked.contains(&w.va))
                        .map(|w| w.va)
                        .collect();
                    let words: Vec<u64> = if fresh.is_empty() { all.iter().map(|w| w.va).collect() } else { fresh };
                    pick(rng, &words).ok_or_else(|| format!("pid {pid} has no stack built by exec"))?
                }
            };
            Ask::Word { pid: Arg::Given(pid), va: Arg::Given(va) }
        }
        Ask::Sp { pid } => Ask::Sp { pid: Arg::Given(pid_of(pid)?) },
        Ask::Argc { pid } => Ask::Argc { pid: Arg::Given(pid_of(pid)?) },
        Ask::Guard { pid } => Ask::Guard { pid: Arg::Given(pid_of(pid)?) },
        Ask::Sz { pid } => Ask::Sz { pid: Arg::Given(pid_of(pid)?) },
        Ask::Changed { pid } => Ask::Changed { pid: Arg::Given(pid_of(pid)?) },
        Ask::ShmFrame { id } | Ask::ShmRefs { id } | Ask::ShmFreed { id } => {
            let freed = matches!(a, Ask::ShmFreed { .. });
            let id = match id {
                Arg::Given(v) => v,
                Arg::Any => any_shm_id(cx, rng, freed).ok_or_else(|| String::from("no shared page is in use here"))?,
            };
            match a {
                Ask::ShmFrame { .. } => Ask::ShmFrame { id: Arg::Given(id) },
                Ask::ShmRefs { .. } => Ask::ShmRefs { id: Arg::Given(id) },
                _ => Ask::ShmFreed { id: Arg::Given(id) },
            }
        }
        Ask::Pages | Ask::Free | Ask::Kalloc | Ask::Head | Ask::Child => a,
    })
}

// ---- making each kind ----

fn make(cx: &Ctx<'_>, a: Ask) -> Result<Made, String> {
    let g = |x: Arg<u32>| x.given().unwrap_or(0);
    let gv = |x: Arg<u64>| x.given().unwrap_or(0);
    match a {
        Ask::Fields { va } => fields(cx, gv(va)),
        Ask::Entry { pid, va, level } => entry(cx, g(pid), gv(va), level),
        Ask::Translate { pid, va, access, .. } => {
            translate(cx, g(pid), gv(va), access.given().unwrap_or(Access::USER_READ))
        }
        Ask::Pages => pages(cx),
        Ask::Free => free(cx),
        Ask::Kalloc => kalloc(cx),
        Ask::Head => head(cx),
        Ask::Sp { pid } => sp(cx, g(pid)),
        Ask::Argc { pid } => argc(cx, g(pid)),
        Ask::Word { pid, va } => word(cx, g(pid), gv(va)),
        Ask::Guard { pid } => guard(cx, g(pid)),
        Ask::Sz { pid } => sz(cx, g(pid)),
        Ask::Changed { pid } => changed(cx, g(pid)),
        Ask::Child => child(cx),
        Ask::ShmFrame { id } => shm_frame(cx, id.given().unwrap_or(0)),
        Ask::ShmRefs { id } => shm_refs(cx, id.given().unwrap_or(0)),
        Ask::ShmFreed { id } => shm_freed(cx, id.given().unwrap_or(0)),
    }
}

/// "After this exec" / "After step 3" / "Now": the time a question is about.
fn when(cx: &Ctx<'_>) -> String {
    match cx.step {
        Some((i, st)) => format!("After step {} ({})", i + 1, crate::lab::scenario::print_op(&st.op)),
        None => String::from("Now"),
    }
}

fn the_step<'a>(cx: &Ctx<'a>) -> Result<(usize, &'a Step), String> {
    cx.step.ok_or_else(|| String::from("no operation follows"))
}

fn live<'a>(cx: &Ctx<'a>, pid: u32) -> Result<&'a crate::proc::Proc, String> {
    cx.k.procs().get(pid).ok_or_else(|| format!("there is no pid {pid} at this point"))
}

fn fields(cx: &Ctx<'_>, va: u64) -> Result<Made, String> {
    let d = cx.scheme.decompose(va).map_err(|e| format!("{va:#x} cannot be cut into fields here: {e}"))?;
    let parts: Vec<&crate::scheme::Field> = d.fields.iter().filter(|f| f.role != FieldRole::SignExtension).collect();
    let names: Vec<String> = parts.iter().map(|f| String::from(f.name)).collect();
    let value_text = |f: &crate::scheme::Field| {
        if f.role == FieldRole::Offset { hex(f.value) } else { f.value.to_string() }
    };
    let answer: Vec<String> = parts.iter().map(|f| value_text(f)).collect();
    let layout: Vec<String> = parts.iter().map(|f| format!("{} (bits {}–{})", f.name, f.hi, f.lo)).collect();
    let formulas: Vec<String> = parts
        .iter()
        .map(|f| {
            let mask = (1u64 << f.width()) - 1;
            if f.lo == 0 {
                format!("{} = va & {mask:#x}", f.name)
            } else {
                format!("{} = (va >> {}) & {mask:#x}", f.name, f.lo)
            }
        })
        .collect();
    let bits: Vec<String> = parts.iter().map(|f| format!("{:0w$b}", f.value, w = f.width() as usize)).collect();
    let each: Vec<String> = parts.iter().map(|f| format!("{} = {}", f.name, value_text(f))).collect();
    let top = parts.first().map_or(0, |f| f.hi);
    Ok(Made {
        prompt: format!("Cut the virtual address {va:#x} into its fields: {}.", names.join(", ")),
        how: String::from(
            "One number per field, most significant first. Decimal (12), or hex with 0x in front (0xabc).",
        ),
        form: Form::Fields { names: names.clone() },
        expected: Expected::Fields { fields: parts.iter().map(|f| (String::from(f.name), f.value)).collect() },
        answer: answer.join(" "),
        why: format!(
            "Bits {top}–0 of {va:#x} are {}; cut as {}, that gives {}.",
            bits.join(" "),
            layout.join(", "),
            each.join(", ")
        ),
        hints: alloc::vec![
            format!("{} cuts the address as {}.", cx.scheme.name(), layout.join(" | ")),
            format!("{}.", formulas.join("; ")),
            format!("In binary, bits {top}–0 of {va:#x} are {}.", bits.join(" ")),
        ],
        evidence: Evidence::Bits { va },
    })
}

/// The name of the table at `level` (`page directory`, `page table`, `L1 table`).
fn table_word(scheme: SchemeKind, level: u32) -> String {
    match (scheme, level) {
        (SchemeKind::X86, 1) => String::from("page directory"),
        (SchemeKind::X86, _) => String::from("page table"),
        (_, l) => format!("L{l} table"),
    }
}

fn entry(cx: &Ctx<'_>, pid: u32, va: u64, level: u32) -> Result<Made, String> {
    live(cx, pid)?;
    let t = cx.k.translate(Some(pid), va, Access::USER_READ).map_err(|r| r.to_string())?;
    let idx = t.steps.iter().position(|s| s.level == level).ok_or_else(|| {
        let stop = t.steps.last().map_or(String::from("at once"), |s| format!("at the {} entry", s.field));
        format!("the walk of {va:#x} in pid {pid} stops {stop}, before it reads a level-{level} entry")
    })?;
    let st = &t.steps[idx];
    let n = cx.scheme.entry_bytes();
    let from = if idx == 0 {
        let reg = if cx.scheme == SchemeKind::X86 { "cr3" } else { "satp" };
        format!("pid {pid}'s {}, whose address {reg} holds", table_word(cx.scheme, level))
    } else {
        let up = &t.steps[idx - 1];
        format!("the {} the {} entry above, {:#x}, points to", table_word(cx.scheme, level), up.field, up.entry)
    };
    Ok(Made {
        prompt: format!(
            "pid {pid}'s page table translates {va:#x}. At which physical address is the {} entry the walk reads (level {level})?",
            st.field
        ),
        how: String::from(HOW_ADDRESS),
        form: Form::Address,
        expected: Expected::Address { value: st.entry_addr.as_u64() },
        answer: hex(st.entry_addr.as_u64()),
        why: format!(
            "The table is at {:#x} ({from}); {} of {va:#x} is {}, and each entry is {n} bytes: {:#x} + {} × {n} = {:#x}.",
            st.table.as_u64(),
            st.field,
            st.index,
            st.table.as_u64(),
            st.index,
            st.entry_addr.as_u64()
        ),
        hints: alloc::vec![
            format!("An entry's address is its table's address + index × {n} (entries are {n} bytes here)."),
            format!("The table this entry is in starts at {:#x}.", st.table.as_u64()),
            format!("The index, {} of {va:#x}, is {}.", st.field, st.index),
        ],
        evidence: Evidence::Walk { pid, va },
    })
}

/// What an access needs of the entries, in words.
/// For a permission fault (the entries are all present), every reason that
/// holds, with its bit: each bit the access needs and the walk's entries lack
/// (the leaf on RISC-V; either entry on x86, which needs them in both).
fn missing_bits(
    scheme: SchemeKind,
    entries: &[u64],
    access: Access,
    kind: FaultKind,
) -> Vec<(&'static str, &'static str)> {
    use crate::scheme::{sv39, x86};
    let permission =
        matches!(kind, FaultKind::NotUser | FaultKind::ReadOnly | FaultKind::NotExecutable | FaultKind::NotReadable);
    let Some(&leaf) = entries.last() else { return Vec::new() };
    if !permission {
        return Vec::new();
    }
    let user = access.mode == Mode::User;
    let mut out = Vec::new();
    match scheme {
        SchemeKind::X86 => {
            let all = entries.iter().fold(u64::MAX, |a, e| a & e);
            if user && all & u64::from(x86::PTE_U) == 0 {
                out.push(("no-user", "PTE_U"));
            }
            if access.kind == AccessKind::Write && all & u64::from(x86::PTE_W) == 0 {
                out.push(("read-only", "PTE_W"));
            }
        }
        SchemeKind::Sv39 | SchemeKind::Sv32 => {
            if user && leaf & sv39::PTE_U == 0 {
                out.push(("no-user", "PTE_U"));
            }
            let (bit, word, name) = match access.kind {
                AccessKind::Read => (sv39::PTE_R, "no-read", "PTE_R"),
                AccessKind::Write => (sv39::PTE_W, "read-only", "PTE_W"),
                AccessKind::Execute => (sv39::PTE_X, "no-exec", "PTE_X"),
            };
            if leaf & bit == 0 {
                out.push((word, name));
            }
        }
    }
    out
}

fn needs(scheme: SchemeKind, access: Access) -> String {
    let mut v: Vec<&str> = Vec::new();
    match scheme {
        SchemeKind::X86 => {
            v.push("PTE_P in both entries");
            if access.mode == Mode::User {
                v.push("PTE_U in both");
            }
            if access.kind == AccessKind::Write {
                v.push("PTE_W in both (xv6 turns on CR0.WP, so even the kernel needs it)");
            }
        }
        _ => {
            v.push("PTE_V at every level");
            v.push(match access.kind {
                AccessKind::Read => "PTE_R in the leaf",
                AccessKind::Write => "PTE_W in the leaf",
                AccessKind::Execute => "PTE_X in the leaf",
            });
            v.push(if access.mode == Mode::User {
                "PTE_U in the leaf"
            } else {
                "no PTE_U in the leaf (the kernel may not touch user pages)"
            });
        }
    }
    format!("A {} needs {}.", access, v.join(", "))
}

fn translate(cx: &Ctx<'_>, pid: u32, va: u64, access: Access) -> Result<Made, String> {
    // A zombie never runs again, but its page table stays until its parent waits: the walk is of that table.
    let who = if live(cx, pid)?.state == crate::proc::ProcState::Zombie {
        format!(
            "pid {pid} is a zombie, but its page table stays until its parent waits. If the MMU walked that table for a {access} at {va:#x}, where would it end"
        )
    } else {
        format!("pid {pid} makes a {access} at {va:#x}. Where does it end")
    };
    let t = cx.k.translate(Some(pid), va, access).map_err(|r| r.to_string())?;
    let walk: Vec<String> = t
        .steps
        .iter()
        .map(|s| {
            let flags = cx.scheme.flag_names(s.entry);
            format!("{} {}: entry {:#x} ({flags})", s.field, s.index, s.entry)
        })
        .collect();
    let levels: Vec<String> = (0..cx.scheme.levels()).rev().map(|l| String::from(cx.scheme.index_name(l))).collect();
    let (expected, answer, outcome) = match &t.outcome {
        Ok(m) => (
            Expected::Translate { pa: Some(m.pa.as_u64()), level: None, reason: None, also: Vec::new() },
            hex(m.pa.as_u64()),
            format!(
                "it maps frame {:#x}, so the access reaches {:#x} + {:#x} = {:#x}",
                m.frame.as_u64(),
                m.frame.as_u64(),
                m.offset,
                m.pa.as_u64()
            ),
        ),
        Err(f) => {
            let reason = answer::reason_word(f.kind);
            let level = f.level.map(|l| cx.scheme.index_name(l));
            let text = match level {
                Some(l) => format!("fault {l} {reason}"),
                None => format!("fault {reason}"),
            };
            let entries: Vec<u64> = t.steps.iter().map(|s| s.entry).collect();
            // The other reasons that hold, with their bits.
            let others: Vec<(&str, &str)> =
                missing_bits(cx.scheme, &entries, access, f.kind).into_iter().filter(|(r, _)| *r != reason).collect();
            let also: Vec<String> = others.iter().map(|(r, _)| String::from(*r)).collect();
            let mut outcome = format!("it faults: {}", f.text);
            if !others.is_empty() {
                outcome.push_str(&format!(
                    ". The entry lacks {} too, which the access also needs, so `{}` is right as well",
                    others.iter().map(|(_, b)| *b).collect::<Vec<_>>().join(" and "),
                    also.join("` or `")
                ));
            }
            (Expected::Translate { pa: None, level: f.level, reason: Some(String::from(reason)), also }, text, outcome)
        }
    };
    let last = t.steps.last();
    Ok(Made {
        prompt: format!("{}, {who}: a physical address, or a fault (at which level, and why)?", when(cx)),
        how: format!(
            "An address (0x...), or: fault LEVEL REASON, with LEVEL one of {} and REASON one of {}.",
            levels.join(", "),
            answer::reason_list(cx.scheme)
        ),
        form: Form::Translate { levels },
        expected,
        answer,
        why: if walk.is_empty() {
            format!("The MMU reads no entry: {outcome}.")
        } else {
            format!("The walk from the root at {:#x}: {}; {outcome}.", t.root.as_u64(), walk.join("; "))
        },
        hints: alloc::vec![
            needs(cx.scheme, access),
            match last {
                Some(s) => format!(
                    "The walk ends at the {} entry, {:#x}: {}.",
                    s.field,
                    s.entry,
                    cx.scheme.flag_names(s.entry)
                ),
                None => String::from("The walk does not even start: look at the address itself."),
            },
            format!("The walk, entry by entry: {}.", walk.join("; ")),
        ],
        evidence: Evidence::Walk { pid, va },
    })
}

/// What an operation does with pages, in a sentence for a first hint.
fn op_hint(op: &Op, port: Port) -> String {
    let x86 = port == Port::Xv6Public;
    String::from(match op {
        Op::Userinit if x86 => {
            "userinit: allocproc takes a kernel stack; setupkvm builds a page directory with the kernel's page tables; inituvm maps one page for initcode."
        }
        Op::Userinit => {
            "userinit: allocproc takes a trapframe and builds a page table holding the trampoline and the trapframe (proc_pagetable); uvmfirst maps one page for initcode."
        }
        Op::Fork { .. } if x86 => {
            "fork: allocproc takes a kernel stack; copyuvm builds the child's page directory (setupkvm) and copies every page below sz into a new frame."
        }
        Op::Fork { .. } => {
            "fork: allocproc takes a trapframe and builds the child's page table (proc_pagetable); uvmcopy copies every page below sz into a new frame."
        }
        Op::Exec { .. } if x86 => {
            "exec builds a new page directory (setupkvm), loads the program's segment, adds the guard page and the stack page, then frees the old page directory and every page in it."
        }
        Op::Exec { .. } => {
            "sys_exec copies each argument into a page of its own; exec builds a new page table (proc_pagetable), loads each segment, adds the guard page and the stack page, then frees the old table and every page in it."
        }
        Op::Sbrk { .. } if x86 => {
            "sbrk calls growproc: allocuvm maps new pages from PGROUNDUP(sz) up to sz + n (deallocuvm unmaps them when n is negative)."
        }
        Op::Sbrk { .. } => {
            "sbrk calls growproc: uvmalloc maps new pages from PGROUNDUP(sz) up to sz + n (uvmdealloc unmaps them when n is negative)."
        }
        Op::Exit { .. } => "exit only makes the process a zombie; its memory stays until the parent's wait.",
        Op::Wait { .. } if x86 => {
            "wait frees a zombie child: kfree of its kernel stack, then freevm frees its user pages and every page table."
        }
        Op::Wait { .. } => {
            "wait frees a zombie child (freeproc): its trapframe, then proc_freepagetable frees its user pages and every page table."
        }
        Op::Kill { .. } => "kill only marks the process killed; it exits the next time it runs in user space.",
        Op::OpenShm { .. } => {
            "openshmem maps the shared page at the process's next shared address; only the first open of an id allocates a frame."
        }
        Op::CloseShm { .. } => "closeshmem unmaps the page; the last close of an id frees its frame.",
        Op::Read { .. } | Op::Write { .. } | Op::Fetch { .. } => {
            "A load, store or instruction fetch allocates nothing; if it faults, xv6 kills the process, which frees nothing until its parent waits."
        }
        Op::Pipe { .. } => {
            "pipe: pipealloc makes two files, then kallocs one page that holds the pipe (its lock, counts and buffer); no page table changes."
        }
        Op::PipeClose { .. } => {
            "pipeclose frees the pipe's page once both of its ends are closed: kfree puts it at the head of the free list."
        }
        Op::File { .. } | Op::FailAlloc { .. } => "This changes the lab, not the machine: no page moves.",
        Op::Cpu { .. } => {
            "Moving to another CPU changes which CPU the next operations run on and whose TLB they use: no page moves, and nothing is flushed."
        }
    })
}

fn pages(cx: &Ctx<'_>) -> Result<Made, String> {
    let (_, st) = the_step(cx)?;
    let c = &st.counts;
    let lines = st.summary.lines();
    let others = c.kstack_alloc + c.kstack_free + c.other_alloc + c.other_free;
    // xv6-public's trapframe is on the kernel stack, and its exec copies no argument pages.
    let aside = match (others > 0, cx.port) {
        (false, _) => "",
        (true, Port::Xv6Public) => " Kernel stacks are counted apart, not here.",
        (true, Port::Xv6Riscv) => " Trapframes and exec's argument copies are counted apart, not here.",
    };
    Ok(Made {
        prompt: format!(
            "Step {} is `{}`. How many user pages and page-table pages will it allocate, and how many will it free?",
            the_step(cx)?.0 + 1,
            crate::lab::scenario::print_op(&st.op)
        ),
        how: String::from(
            "Four numbers: user pages allocated, user pages freed, page-table pages allocated, page-table pages freed (the root counts as a page-table page).",
        ),
        form: Form::Pages,
        expected: Expected::Pages {
            user_alloc: c.user_alloc,
            user_free: c.user_free,
            pt_alloc: c.pt_alloc,
            pt_free: c.pt_free,
        },
        answer: format!("{} {} {} {}", c.user_alloc, c.user_free, c.pt_alloc, c.pt_free),
        why: match &st.op {
            crate::lab::Op::Exit { .. } if lines.is_empty() => {
                // What else the zombie keeps: x86 frees its kernel stack in wait, RISC-V its trapframe.
                let kept = if cx.port == Port::Xv6Public { "kernel stack" } else { "trapframe" };
                format!(
                    "It allocates and frees nothing: exit makes the process a zombie, and its user pages, page tables and {kept} stay until its parent's wait frees them.{aside}"
                )
            }
            _ if lines.is_empty() => format!("It allocates and frees nothing.{aside}"),
            _ => format!("{}.{aside}", lines.join("; ")),
        },
        hints: alloc::vec![
            op_hint(&st.op, cx.port),
            format!("User pages: it allocates {} and frees {}.", c.user_alloc, c.user_free),
            format!("Page-table pages: it allocates {}.", c.pt_alloc),
        ],
        evidence: Evidence::Summary,
    })
}

fn all_alloc(c: &Counts) -> u64 {
    c.user_alloc + c.pt_alloc + c.kstack_alloc + c.other_alloc
}

fn all_free(c: &Counts) -> u64 {
    c.user_free + c.pt_free + c.kstack_free + c.other_free
}

fn free(cx: &Ctx<'_>) -> Result<Made, String> {
    let (i, st) = the_step(cx)?;
    let (a, f) = (all_alloc(&st.counts), all_free(&st.counts));
    let before = cx.before.nfree;
    Ok(Made {
        prompt: format!(
            "{} pages are free before step {} (`{}`). How many are free after it?",
            before,
            i + 1,
            crate::lab::scenario::print_op(&st.op)
        ),
        how: String::from(HOW_COUNT),
        form: Form::Count,
        expected: Expected::Count { value: st.nfree },
        answer: st.nfree.to_string(),
        why: format!(
            "It allocates {} and frees {} (every kind: {}): {before} − {a} + {f} = {}.",
            plural(a, "page", "pages"),
            plural(f, "page", "pages"),
            match cx.port {
                Port::Xv6Public => "user pages, page tables, kernel stacks",
                Port::Xv6Riscv => "user pages, page tables, trapframes, exec's argument copies, pipes",
            },
            st.nfree
        ),
        hints: alloc::vec![
            String::from("Count every page kalloc hands out and every page kfree takes back, of every kind."),
            op_hint(&st.op, cx.port),
            format!("It allocates {} in all.", plural(a, "page", "pages")),
        ],
        evidence: Evidence::Summary,
    })
}

/// The last free-list event (kalloc or kfree) before step `i`, with its step
/// (`None`: boot).
fn last_list_change(lab: &Lab, i: usize) -> Option<(Option<usize>, Event)> {
    for j in (0..i).rev() {
        if let Some((_, e)) = rfind(&lab.steps()[j].events, |e| matches!(e, Event::Kalloc { .. } | Event::Kfree { .. }))
        {
            return Some((Some(j), e.event));
        }
    }
    rfind(&lab.boot_step().events, |e| {
        matches!(e, Event::Kalloc { .. } | Event::Kfree { .. } | Event::FreeRange { .. })
    })
    .map(|(_, e)| (None, e.event))
}

fn where_(step: Option<usize>) -> String {
    match step {
        Some(j) => format!("step {}", j + 1),
        None => String::from("boot"),
    }
}

fn kalloc(cx: &Ctx<'_>) -> Result<Made, String> {
    let (i, st) = the_step(cx)?;
    let (index, pa, owner) = st
        .events
        .iter()
        .enumerate()
        .find_map(|(n, e)| match e.event {
            Event::Kalloc { pa, owner } => Some((n, pa.as_u64(), owner.text(cx.scheme))),
            _ => None,
        })
        .ok_or_else(|| String::from("this operation allocates no page, so there is no kalloc to ask about"))?;
    let history = match last_list_change(cx.lab, i) {
        Some((j, Event::Kfree { pa: p, owner })) if p.as_u64() == pa => {
            let o = owner.text(cx.scheme);
            format!(
                "It is there because it was the last page freed ({}: kfree of the {o}): kfree pushes a page on the head.",
                where_(j)
            )
        }
        Some((j, Event::Kalloc { pa: p, owner })) => format!(
            "The last kalloc before this step ({}, the {}) took {p:#x}, the head then; the page after it on the list became the head.",
            where_(j),
            owner.text(cx.scheme)
        ),
        _ => String::from(
            "After boot the head is the highest free page: kinit frees pages upward, and each kfree pushes on the head.",
        ),
    };
    let clue = match last_list_change(cx.lab, i) {
        Some((j, Event::Kfree { owner, .. })) => format!(
            "The last change to the list before this step was in {}: a kfree of the {}.",
            where_(j),
            owner.text(cx.scheme)
        ),
        Some((j, Event::Kalloc { owner, .. })) => format!(
            "The last change to the list before this step was in {}: a kalloc for the {}.",
            where_(j),
            owner.text(cx.scheme)
        ),
        _ => String::from("Nothing has been allocated or freed since kinit filled the list."),
    };
    Ok(Made {
        prompt: format!(
            "Step {} is `{}`. Which frame does its first kalloc hand out (it becomes the {owner})?",
            i + 1,
            crate::lab::scenario::print_op(&st.op)
        ),
        how: String::from(HOW_ADDRESS),
        form: Form::Address,
        expected: Expected::Address { value: pa },
        answer: hex(pa),
        why: format!("kalloc returns the head of the free list, {pa:#x}. {history}"),
        hints: alloc::vec![
            String::from(
                "kalloc takes the first page on the free list (kmem.freelist), and kfree puts a page there: last freed, first handed out."
            ),
            clue,
            format!(
                "Before this step, {} pages are free; the list is in the order the pages were freed, newest first.",
                cx.before.nfree
            ),
        ],
        evidence: Evidence::Event { index },
    })
}

fn head(cx: &Ctx<'_>) -> Result<Made, String> {
    let (i, st) = the_step(cx)?;
    let head = cx.k.kmem().head().unwrap_or(0);
    let last = rfind(&st.events, |e| matches!(e, Event::Kalloc { .. } | Event::Kfree { .. }));
    let (why, clue, evidence) = match last {
        Some((n, e)) => match e.event {
            Event::Kfree { pa, owner } => {
                let owner = owner.text(cx.scheme);
                (
                    format!("The step's last kfree (the {owner}) pushed {pa:#x} on the head of the list."),
                    format!("The step's last change to the list is a kfree, of the {owner}."),
                    Evidence::Event { index: n },
                )
            }
            Event::Kalloc { pa, owner } => {
                let owner = owner.text(cx.scheme);
                (
                    format!(
                        "The step's last kalloc (the {owner}) popped {pa:#x}; the page it pointed to, {head:#x}, is the head now."
                    ),
                    format!("The step's last change to the list is a kalloc, for the {owner}."),
                    Evidence::Event { index: n },
                )
            }
            _ => unreachable!("only kalloc and kfree were looked for"),
        },
        None => (
            format!("The step allocates and frees nothing, so the head stays {head:#x}."),
            String::from("This step does not touch the free list."),
            Evidence::Summary,
        ),
    };
    Ok(Made {
        prompt: format!(
            "After step {} (`{}`), which frame is at the head of the free list: the one the next kalloc will return?",
            i + 1,
            crate::lab::scenario::print_op(&st.op)
        ),
        how: String::from(HOW_ADDRESS),
        form: Form::Address,
        expected: Expected::Address { value: head },
        answer: hex(head),
        why,
        hints: alloc::vec![
            String::from("kfree pushes a page on the head of the list; kalloc pops the head."),
            clue,
            format!("Before the step the head was {:#x}.", cx.before.head.unwrap_or(0)),
        ],
        evidence,
    })
}

/// The strings exec put on `pid`'s stack, lowest address first: (address, text).
fn strings(words: &[view::StackWord]) -> Vec<(u64, usize, String)> {
    let mut out: Vec<(u64, usize, String)> = Vec::new();
    for w in words {
        if let StackRole::Text { index, text, .. } = &w.role {
            match out.iter_mut().find(|s| s.1 == *index) {
                Some(s) => s.2.push_str(text),
                None => out.push((w.va, *index, text.clone())),
            }
        }
    }
    for s in &mut out {
        if let Some(p) = s.2.find("\\0") {
            s.2.truncate(p);
        }
    }
    out
}

fn stack_of(cx: &Ctx<'_>, pid: u32) -> Result<Vec<view::StackWord>, String> {
    let w = view::stack_words(cx.k, pid);
    if w.is_empty() {
        return Err(format!("pid {pid} has no stack built by exec here"));
    }
    Ok(w)
}

fn sp(cx: &Ctx<'_>, pid: u32) -> Result<Made, String> {
    let p = live(cx, pid)?;
    let words = stack_of(cx, pid)?;
    let x86 = cx.port == Port::Xv6Public;
    let (align, wbytes) = if x86 { (4, 4) } else { (16, 8) };
    let top = p.sz;
    let strs = strings(&words);
    let mut by_index = strs.clone();
    by_index.sort_by_key(|s| s.1);
    let placed: Vec<String> = by_index.iter().map(|s| format!("\"{}\" at {:#x}", s.2, s.0)).collect();
    let low = strs.iter().map(|s| s.0).min().unwrap_or(top);
    let below = ((low - p.regs.sp) / wbytes) as usize;
    let roles: Vec<String> = words.iter().take(below).map(|w| w.role.describe()).collect();
    let rounding = if x86 { "sp = (sp − (strlen + 1)) & ~3" } else { "sp −= strlen + 1; sp −= sp % 16" };
    Ok(Made {
        prompt: format!("{}, what is pid {pid}'s stack pointer, sp?", when(cx)),
        how: String::from(HOW_ADDRESS),
        form: Form::Address,
        expected: Expected::Address { value: p.regs.sp },
        answer: hex(p.regs.sp),
        why: format!(
            "exec starts at the top of the stack page, sz = {top:#x}, and copies each argument down ({rounding}): {}. Below the strings go {} of {wbytes} bytes: {}. That leaves sp = {:#x}.",
            placed.join(", "),
            plural(below as u64, "word", "words"),
            roles.join(", "),
            p.regs.sp
        ),
        hints: alloc::vec![
            format!(
                "The stack page is {:#x}–{top:#x}. exec copies the argument strings first, from the top down, then puts the pointers below them.",
                top - PGSIZE
            ),
            format!(
                "Each string takes strlen + 1 bytes, and sp is rounded down to a multiple of {align} after each: {rounding}."
            ),
            format!(
                "The lowest string starts at {low:#x}; below it go {}: {}.",
                plural(below as u64, "word", "words"),
                roles.join(", ")
            ),
        ],
        evidence: Evidence::StackWord { pid, va: p.regs.sp },
    })
}

fn argc(cx: &Ctx<'_>, pid: u32) -> Result<Made, String> {
    live(cx, pid)?;
    let words = stack_of(cx, pid)?;
    let n = words.iter().filter(|w| matches!(w.role, StackRole::Argv { .. })).count() as u64;
    let mut strs = strings(&words);
    strs.sort_by_key(|s| s.1);
    let list: Vec<String> = strs.iter().map(|s| format!("\"{}\"", s.2)).collect();
    let reg =
        if cx.port == Port::Xv6Public { "the word above the fake return PC" } else { "register a0 (exec returns it)" };
    Ok(Made {
        prompt: format!("{}, what is argc for pid {pid}'s main?", when(cx)),
        how: String::from(HOW_COUNT),
        form: Form::Count,
        expected: Expected::Count { value: n },
        answer: n.to_string(),
        why: format!(
            "argv is {{{}}}: argc counts its strings, argv[0] (the program's name) included, so argc = {n}. main finds it in {reg}.",
            list.join(", ")
        ),
        hints: alloc::vec![
            String::from("argc counts every string in argv, up to the null pointer that ends it."),
            String::from("argv[0] is the program's own name, and it counts."),
        ],
        evidence: Evidence::StackWord { pid, va: live(cx, pid)?.regs.sp },
    })
}

fn word(cx: &Ctx<'_>, pid: u32, va: u64) -> Result<Made, String> {
    let p = live(cx, pid)?;
    let words = stack_of(cx, pid)?;
    let w = words.iter().find(|w| w.va == va).ok_or_else(|| {
        format!(
            "{va:#x} is not a word of the stack exec built (sp {:#x} up to {:#x}, in steps of a word)",
            p.regs.sp, p.sz
        )
    })?;
    let wbytes = if cx.port == Port::Xv6Public { 4 } else { 8 };
    let strs = strings(&words);
    let string_at = |i: usize| strs.iter().find(|s| s.1 == i).map_or((0, String::new()), |s| (s.0, s.2.clone()));
    let bytes: Vec<String> = w.value.to_le_bytes()[..wbytes].iter().map(|b| format!("{b:02x}")).collect();
    let (why, kind_hint, exact_hint) = match &w.role {
        StackRole::FakeReturnPc => (
            String::from(
                "exec puts a fake return address, 0xffffffff, where main's return address would be: main must call exit, never return.",
            ),
            String::from("This is the lowest word exec pushes."),
            String::from("It is the fake return PC."),
        ),
        StackRole::Argc => (
            format!("It is argc, {}.", w.value),
            String::from("It is one of the words exec pushes below the argv array for main's arguments."),
            String::from("It is argc."),
        ),
        StackRole::ArgvPointer => (
            format!("It is main's second argument, argv: the address of argv[0], {:#x}.", w.value),
            String::from("It is one of the words exec pushes below the argv array for main's arguments."),
            String::from("It is argv, the pointer to argv[0]."),
        ),
        StackRole::Argv { index } => {
            let (at, s) = string_at(*index);
            (
                format!("It is argv[{index}]: the address where exec copied \"{s}\", {at:#x}."),
                String::from("It is one of the argv pointers."),
                format!("It is argv[{index}], the address of the string \"{s}\"."),
            )
        }
        StackRole::ArgvEnd => (
            String::from("It is argv[argc], the null pointer that ends argv: 0."),
            String::from("It is in the argv array."),
            String::from("It ends the argv array."),
        ),
        StackRole::Text { index, text, .. } => (
            format!(
                "It holds bytes of argv[{index}]'s string, \"{text}\" (padding is 0): in memory {}; read little-endian, the first byte is the lowest: {:#x}.",
                bytes.join(" "),
                w.value
            ),
            String::from("It holds characters of one of the strings."),
            format!("It holds \"{text}\" of argv[{index}], in memory order; the first byte is the least significant."),
        ),
        StackRole::Padding => (
            String::from("It is padding left by rounding sp down; the stack page starts zeroed, so it is 0."),
            String::from("Rounding sp down leaves some words unused."),
            String::from("It is padding."),
        ),
    };
    Ok(Made {
        prompt: format!("{}, what value is in the {wbytes}-byte word at {va:#x} on pid {pid}'s stack?", when(cx)),
        how: String::from("A value: hex (0x1a2b), or decimal with # in front (#6699)."),
        form: Form::Address,
        expected: Expected::Address { value: w.value },
        answer: hex(w.value),
        why,
        hints: alloc::vec![
            String::from("Draw the stack from the top: the strings first, then the pointers below them, down to sp."),
            kind_hint,
            exact_hint,
        ],
        evidence: Evidence::StackWord { pid, va },
    })
}

/// The flag bits of an entry (everything below the frame number).
fn flag_mask(scheme: SchemeKind) -> u64 {
    if scheme == SchemeKind::X86 { 0xfff } else { 0x3ff }
}

fn guard(cx: &Ctx<'_>, pid: u32) -> Result<Made, String> {
    live(cx, pid)?;
    let g = view::regions(cx.k, pid)
        .into_iter()
        .find(|r| r.kind == RegionKind::Guard)
        .ok_or_else(|| format!("pid {pid} has no guard page here (only exec makes one)"))?;
    let t = cx.k.translate(Some(pid), g.start, Access::KERNEL_READ).map_err(|r| r.to_string())?;
    let leaf = t.steps.last().map_or(0, |s| s.entry);
    let flags = leaf & flag_mask(cx.scheme);
    let names = cx.scheme.flag_names(flags);
    let (clear, user_flag) = if cx.port == Port::Xv6Public { ("clearpteu", "PTE_U") } else { ("uvmclear", "PTE_U") };
    Ok(Made {
        prompt: format!("{}, where is pid {pid}'s guard page, and which flags does its entry have?", when(cx)),
        how: String::from(if cx.port == Port::Xv6Public {
            "The page's address, then every flag its entry has, present bit too: by name (like PTE_P|PTE_W, or just P W) or as one number."
        } else {
            "The page's address, then every flag its entry has, valid bit too: by name (like PTE_V|PTE_R|PTE_W, or just V R W) or as one number."
        }),
        form: Form::Page,
        expected: Expected::Page { va: g.start, flags },
        answer: format!("{:#x} {names}", g.start),
        why: format!(
            "exec maps two pages at the top of the program, PGROUNDUP(sz) = {:#x}, then {clear} clears {user_flag} on the lower one. Its entry {leaf:#x} keeps {names}: mapped, but a user access there faults, so a stack that overflows stops at it. The stack page is {:#x}.",
            g.start, g.end
        ),
        hints: alloc::vec![
            String::from(
                "exec allocates two pages right above the program's last page: the lower is the guard, the upper the stack."
            ),
            format!("The program's pages end at {:#x}.", g.start),
            format!("{clear} clears one flag of the guard page: the one that lets user code touch it."),
        ],
        evidence: Evidence::Walk { pid, va: g.start },
    })
}

/// Why sz stays at `old` when sbrk shrinks a process to nothing.
fn zero_size_quirk(port: Port, old: u64) -> String {
    if port == Port::Xv6Public {
        format!(
            "growproc calls deallocuvm, which frees the pages and returns the new size, 0; growproc takes that 0 for failure and returns −1 before it sets sz. So sz stays {old:#x}, though no page below it is mapped any more."
        )
    } else {
        format!("sbrk fails here (it returns −1), so sz stays {old:#x}.")
    }
}

fn sz(cx: &Ctx<'_>, pid: u32) -> Result<Made, String> {
    let p = live(cx, pid)?;
    let old = cx.before.sz.get(&pid).copied();
    let new = p.sz;
    let op = cx.step.map(|(_, st)| &st.op);
    let why = match (op, old) {
        // sbrk to 0 on xv6-public: deallocuvm returns the new size, 0, which growproc takes for failure.
        (Some(Op::Sbrk { n, .. }), Some(o)) if new == o && *n != 0 && i128::from(o) + i128::from(*n) == 0 => {
            format!("sz was {o:#x} and n = {n} would make it 0. {}", zero_size_quirk(cx.port, o))
        }
        // sz + n wraps around past sz: the shrink frees nothing and returns the old size.
        (Some(Op::Sbrk { n, .. }), Some(o)) if new == o && *n < 0 && n.unsigned_abs() > o => format!(
            "sz was {o:#x}, and n = {n} asks for more than that: sz + n wraps around (sz is unsigned) to a size above sz, so {} frees nothing and sz stays {o:#x}.",
            cx.port.growproc_calls().1
        ),
        (Some(Op::Sbrk { n, .. }), Some(o)) if new == o && *n != 0 => {
            format!("sz was {o:#x}; sbrk({n}) fails here (it returns −1), so growproc never sets sz: it stays {o:#x}.")
        }
        (Some(Op::Sbrk { n, .. }), Some(o)) => format!(
            "sz was {o:#x}; growproc adds n = {n}: {o:#x} {} {:#x} = {new:#x}. sz counts bytes; {} maps whole pages, up to PGROUNDUP(sz).",
            if *n < 0 { "−" } else { "+" },
            n.unsigned_abs(),
            cx.port.growproc_calls().0
        ),
        (Some(Op::Exec { .. }), _) => format!(
            "exec sets sz to the top of the stack: the program's last page rounded up, plus the guard page and the stack page: {new:#x}."
        ),
        (Some(Op::Fork { .. }), None) => format!("The child gets its parent's sz: {new:#x}."),
        (_, Some(o)) if o == new => format!("This step does not change it: sz stays {new:#x}."),
        (_, Some(o)) => format!("sz goes from {o:#x} to {new:#x}."),
        (_, None) => format!("sz is {new:#x}."),
    };
    let first = match op {
        Some(o) => op_hint(o, cx.port),
        None => String::from("sz is the size of the process's user memory, in bytes, from address 0."),
    };
    Ok(Made {
        prompt: format!("{}, what is pid {pid}'s size, sz?", when(cx)),
        how: String::from(HOW_SIZE),
        form: Form::Address,
        expected: Expected::Address { value: new },
        answer: hex(new),
        why,
        hints: alloc::vec![
            first,
            match old {
                Some(o) => format!("Before this step, sz was {o:#x}."),
                None => String::from("The process is new in this step."),
            },
        ],
        evidence: Evidence::Regions { pid },
    })
}

fn changed(cx: &Ctx<'_>, pid: u32) -> Result<Made, String> {
    let (i, st) = the_step(cx)?;
    let m = st.summary.mappings.iter().find(|m| m.pid == Some(pid));
    let mut pages: Vec<u64> = Vec::new();
    let mut said: Vec<String> = Vec::new();
    if let Some(m) = m {
        for r in &m.added {
            pages.extend((0..r.count.min(4096)).map(|n| r.va + n * PGSIZE));
            said.push(format!("maps {}", run_text(r)));
        }
        for r in &m.removed {
            pages.extend((0..r.count.min(4096)).map(|n| r.va + n * PGSIZE));
            said.push(format!("unmaps {}", run_text(r)));
        }
    }
    pages.sort_unstable();
    pages.dedup();
    let old = cx.before.sz.get(&pid).copied();
    let new = cx.k.procs().get(pid).map(|p| p.sz);
    let sizes = match (old, new) {
        (Some(o), Some(n)) if o == n && !pages.is_empty() && matches!(st.op, Op::Sbrk { .. }) => {
            format!("Yet sz stays {o:#x}: {}", zero_size_quirk(cx.port, o))
        }
        (Some(o), Some(n)) if o == n => format!("sz stays {o:#x}."),
        (Some(o), Some(n)) => format!("sz goes from {o:#x} to {n:#x}."),
        _ => String::from("The process is made or freed in this step."),
    };
    let answer = match (pages.first(), pages.last()) {
        (Some(&a), Some(&b)) if (b - a) / PGSIZE + 1 == pages.len() as u64 && pages.len() > 1 => {
            format!("{a:#x}-{:#x}", b + PGSIZE)
        }
        (Some(_), _) => pages.iter().map(|p| hex(*p)).collect::<Vec<_>>().join(" "),
        _ => String::from("none"),
    };
    Ok(Made {
        prompt: format!(
            "Step {} is `{}`. Which pages will it map or unmap in pid {pid}'s page table?",
            i + 1,
            crate::lab::scenario::print_op(&st.op)
        ),
        how: String::from(
            "Page addresses (0x3000 0x4000), or a range A-B for the pages from A up to B, B not included; none if no page changes.",
        ),
        form: Form::PageSet,
        expected: Expected::PageSet { pages: pages.clone() },
        answer,
        why: if said.is_empty() {
            format!("It maps and unmaps no page of pid {pid}. {sizes}")
        } else {
            format!("It {} in pid {pid}'s table. {sizes}", said.join(" and "))
        },
        hints: alloc::vec![
            op_hint(&st.op, cx.port),
            sizes,
            format!("{} change.", plural(pages.len() as u64, "page", "pages")),
        ],
        evidence: Evidence::Summary,
    })
}

fn child(cx: &Ctx<'_>) -> Result<Made, String> {
    let (i, st) = the_step(cx)?;
    let Op::Fork { pid: parent } = st.op else {
        return Err(String::from("ask child is about a fork, and this operation is not one"));
    };
    let c = u32::try_from(st.result.value)
        .ok()
        .filter(|_| st.result.error.is_none())
        .ok_or_else(|| String::from("this fork fails, so there is no child"))?;
    let n = expand_numbers(&st.events)
        .filter(|e| matches!(e.event, Event::Kalloc { owner: Owner::User { pid }, .. } if pid == c))
        .count() as u64;
    let sz = cx.k.procs().get(c).map_or(0, |p| p.sz);
    let regions: Vec<String> = view::regions(cx.k, parent)
        .iter()
        .filter(|r| r.end <= sz.div_ceil(PGSIZE) * PGSIZE)
        .map(|r| match (r.end - r.start) / PGSIZE {
            1 => r.label.clone(),
            k => format!("{k} {}", r.label),
        })
        .collect();
    Ok(Made {
        prompt: format!("Step {} is `fork {parent}`. How many user pages will the child get?", i + 1),
        how: String::from(HOW_COUNT),
        form: Form::Count,
        expected: Expected::Count { value: n },
        answer: n.to_string(),
        why: format!(
            "{} copies every page from 0 up to the parent's sz, {sz:#x}, each into a new frame: {} ({}).",
            if cx.port == Port::Xv6Public { "copyuvm" } else { "uvmcopy" },
            plural(n, "page", "pages"),
            regions.join(", ")
        ),
        hints: alloc::vec![
            String::from(
                "fork copies the parent's whole user memory, page by page, up to sz: xv6 has no copy-on-write."
            ),
            format!("The parent's sz is {sz:#x}."),
        ],
        evidence: Evidence::Regions { pid: c },
    })
}

fn shm_id(id: i64) -> Result<i32, String> {
    i32::try_from(id).map_err(|_| format!("{id} does not fit an int, so it cannot be a shared page's id"))
}

fn shm_frame(cx: &Ctx<'_>, id: i64) -> Result<Made, String> {
    let i32id = shm_id(id)?;
    let page =
        cx.k.shm().used().find(|p| p.id == i32id).ok_or_else(|| format!("shared page {id} is not in use here"))?;
    let pa = page.pa;
    let first = cx
        .lab
        .steps()
        .iter()
        .enumerate()
        .rev()
        .find(|(_, st)| {
            expand_numbers(&st.events)
                .any(|e| matches!(e.event, Event::Kalloc { pa: p, owner: Owner::Shared { .. } } if p.as_u64() == pa))
        })
        .map(|(j, _)| j);
    let whence = first.map_or(String::new(), |j| format!(" (step {}: kalloc {pa:#x})", j + 1));
    let mappers: Vec<String> = view::mappers(cx.k, pa).iter().map(|m| format!("pid {}", m.pid)).collect();
    Ok(Made {
        prompt: format!("{}, which frame holds shared page {id}?", when(cx)),
        how: String::from(HOW_ADDRESS),
        form: Form::Address,
        expected: Expected::Address { value: pa },
        answer: hex(pa),
        why: format!(
            "The first openshmem of id {id} allocated frame {pa:#x}{whence}; every later openshmem maps that same frame. Now it is mapped by {}.",
            if mappers.is_empty() { String::from("no process") } else { mappers.join(", ") }
        ),
        hints: alloc::vec![
            String::from("Only the first openshmem of an id allocates a frame; the later ones map the same frame."),
            match first {
                Some(j) => format!("Look for the kalloc of a shared page in step {}.", j + 1),
                None => String::from("Look for the kalloc of a shared page."),
            },
        ],
        evidence: Evidence::Shm { id },
    })
}

fn shm_refs(cx: &Ctx<'_>, id: i64) -> Result<Made, String> {
    let i32id = shm_id(id)?;
    let page = cx.k.shm().used().find(|p| p.id == i32id);
    let refs = page.map_or(0, |p| p.refs);
    let mappers: Vec<String> =
        page.map(|p| view::mappers(cx.k, p.pa)).unwrap_or_default().iter().map(|m| format!("pid {}", m.pid)).collect();
    let before = cx.before.shm.get(&i32id).map(|b| b.0);
    let n = u64::try_from(refs).unwrap_or(0);
    Ok(Made {
        prompt: format!("{}, what is shared page {id}'s reference count?", when(cx)),
        how: String::from(HOW_COUNT),
        form: Form::Count,
        expected: Expected::Count { value: n },
        answer: refs.to_string(),
        why: format!(
            "The count is {}: {} map it now ({}).{}",
            refs,
            plural(mappers.len() as u64, "process", "processes"),
            if mappers.is_empty() { String::from("none") } else { mappers.join(", ") },
            match before {
                Some(b) if b != refs => format!(" Before this step it was {b}."),
                _ => String::new(),
            }
        ),
        hints: alloc::vec![
            String::from(
                "openshmem adds one to the count and closeshmem takes one away; in the lab's code fork adds one for the child, and exit closes what the process had open."
            ),
            match before {
                Some(b) => format!("Before this step the count was {b}."),
                None => String::from("The page was not in use before this step."),
            },
        ],
        evidence: Evidence::Shm { id },
    })
}

fn shm_freed(cx: &Ctx<'_>, id: i64) -> Result<Made, String> {
    let (i, st) = the_step(cx)?;
    let i32id = shm_id(id)?;
    let freed = st
        .events
        .iter()
        .enumerate()
        .find(|(_, e)| matches!(e.event, Event::Kfree { owner: Owner::Shared { id: s }, .. } if s == i32id));
    let before = cx.before.shm.get(&i32id).copied();
    let after = cx.k.shm().used().find(|p| p.id == i32id).map(|p| p.refs);
    let why = match (freed, before, after) {
        (Some((_, e)), Some((b, _)), _) => {
            let pa = if let Event::Kfree { pa, .. } = e.event { pa.as_u64() } else { 0 };
            format!("Yes: the count goes from {b} to 0, so the frame {pa:#x} goes back on the free list.")
        }
        (Some((_, e)), None, _) => {
            let pa = if let Event::Kfree { pa, .. } = e.event { pa.as_u64() } else { 0 };
            format!("Yes: the frame {pa:#x} is freed.")
        }
        (None, _, Some(a)) => format!("No: after it the count is {a}, so the frame stays."),
        (None, Some(_), None) => String::from("No frame is freed for it in this step."),
        (None, None, None) => format!("No: shared page {id} is not in use, so there is nothing to free."),
    };
    Ok(Made {
        prompt: format!(
            "Step {} is `{}`. Will it free the frame of shared page {id}?",
            i + 1,
            crate::lab::scenario::print_op(&st.op)
        ),
        how: String::from("yes or no."),
        form: Form::YesNo,
        expected: Expected::YesNo { yes: freed.is_some() },
        answer: String::from(if freed.is_some() { "yes" } else { "no" }),
        why,
        hints: alloc::vec![
            String::from("A shared page's frame is freed when its count drops to 0, and not before."),
            match before {
                Some((b, _)) => format!("Before this step the count is {b}."),
                None => String::from("Before this step the page is not in use."),
            },
        ],
        evidence: match freed {
            Some((n, _)) => Evidence::Event { index: n },
            None => Evidence::Shm { id },
        },
    })
}
