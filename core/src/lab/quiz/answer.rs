//! Reading a learner's answer and saying whether it is right.
//!
//! Answers use the lab's notations: addresses in hex (`0x2fe4`, or bare
//! `2fe4`) or decimal with `#` (`#12260`); counts in decimal (`12`) or hex
//! with `0x`; flags by name (`PTE_P|PTE_W`, `P W`) or as a number. Anything
//! that cannot be read gives an [`AnswerError`] in plain words; nothing
//! here panics, whatever the text.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::Serialize;

use super::{Expected, Question};
use crate::addr::PGSIZE;
use crate::scheme::{FaultKind, SchemeKind};

/// The most characters an answer may have.
pub const MAX_ANSWER: usize = 4096;

/// The most pages a range in an answer may cover.
const MAX_RANGE_PAGES: u64 = 1 << 16;

/// Why an answer could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AnswerError {
    /// What is wrong with it, in plain words, and how to write it.
    pub message: String,
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for AnswerError {}

fn unreadable<T>(message: impl Into<String>) -> Result<T, AnswerError> {
    Err(AnswerError { message: message.into() })
}

/// One part of an answer with several (a field, a count, the flags).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Part {
    /// What it is (`PTX`, `user pages freed`, `flags`).
    pub name: String,
    /// Whether it is right.
    pub right: bool,
    /// What the learner gave.
    pub given: String,
    /// What is right.
    pub expected: String,
}

/// The verdict on an answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// True if every part is right.
    pub right: bool,
    /// The parts, for answers with several.
    pub parts: Vec<Part>,
    /// What to tell the learner: right, or what was expected and why.
    pub message: String,
}

/// Why a translation faults, as a word in answers: (word, fault, other words read the same).
pub const REASONS: [(&str, FaultKind, &[&str]); 11] = [
    (
        "not-present",
        FaultKind::NotPresent,
        &["present", "notpresent", "pte_p", "pte_v", "p", "v", "valid", "invalid", "unmapped"],
    ),
    ("no-user", FaultKind::NotUser, &["pte_u", "u", "user", "nouser", "not-user"]),
    ("user-page", FaultKind::KernelTouchedUser, &["sum", "userpage", "kernel-user"]),
    ("read-only", FaultKind::ReadOnly, &["pte_w", "w", "readonly", "no-write", "write"]),
    ("no-exec", FaultKind::NotExecutable, &["pte_x", "x", "noexec", "exec", "execute", "not-executable"]),
    ("no-read", FaultKind::NotReadable, &["pte_r", "r", "noread", "read", "not-readable"]),
    ("reserved", FaultKind::Reserved, &[]),
    ("no-leaf", FaultKind::NoLeaf, &["noleaf"]),
    ("misaligned", FaultKind::MisalignedSuperpage, &[]),
    ("outside-ram", FaultKind::TableOutsideRam, &["access-fault"]),
    ("bad-address", FaultKind::BadAddress, &["address", "badaddress", "non-canonical"]),
];

/// The word for `kind` in answers.
#[must_use]
pub fn reason_word(kind: FaultKind) -> &'static str {
    REASONS.iter().find(|r| r.1 == kind).map_or("not-present", |r| r.0)
}

/// The reasons `scheme`'s MMU gives for a user page most often, for the
/// page's help. x86 has no read, execute or supervisor-access bit, so its
/// are `not-present, no-user, read-only`; RISC-V's add `user-page` (the
/// kernel touched a user page without `SUM`), `no-exec` and `no-read`.
#[must_use]
pub fn reason_list(scheme: SchemeKind) -> String {
    let usual: &[FaultKind] = match scheme {
        SchemeKind::X86 => &[FaultKind::NotPresent, FaultKind::NotUser, FaultKind::ReadOnly],
        SchemeKind::Sv39 | SchemeKind::Sv32 => &[
            FaultKind::NotPresent,
            FaultKind::NotUser,
            FaultKind::KernelTouchedUser,
            FaultKind::ReadOnly,
            FaultKind::NotExecutable,
            FaultKind::NotReadable,
        ],
    };
    usual.iter().map(|k| reason_word(*k)).collect::<Vec<_>>().join(", ")
}

fn reason_of(word: &str) -> Option<&'static str> {
    let w = word.to_ascii_lowercase();
    REASONS.iter().find(|r| r.0 == w || r.2.contains(&w.as_str())).map(|r| r.0)
}

/// Digits of `t` in `radix`, `_` allowed between them.
fn digits(t: &str, radix: u32, what: &str) -> Result<u64, AnswerError> {
    let hint = if radix == 16 {
        "; write decimal with # in front, like #4096"
    } else {
        "; write hex with 0x in front, like 0x1000"
    };
    crate::lab::notation::digits(t, radix, what, hint).map_err(|message| AnswerError { message })
}

fn no_sign(t: &str, what: &str) -> Result<(), AnswerError> {
    if t.is_empty() {
        return unreadable(format!("{what}: nothing is written"));
    }
    if t.starts_with('-') || t.starts_with('+') {
        return unreadable(format!("{what}: write it without a sign"));
    }
    Ok(())
}

/// An address or value by the lab's rule: hex (`0x2fe4`, bare `2fe4`) or `#` decimal.
///
/// # Errors
/// Empty text, a sign, a character that is not a digit, more than 64 bits.
pub fn parse_address(text: &str) -> Result<u64, AnswerError> {
    let t = text.trim();
    no_sign(t, "an address")?;
    if let Some(d) = t.strip_prefix('#') {
        return digits(d, 10, "a decimal address");
    }
    let h = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    digits(h, 16, "a hex address")
}

/// A count: decimal (`12`), hex with `0x`, or `#` decimal.
///
/// # Errors
/// As [`parse_address`].
pub fn parse_count(text: &str) -> Result<u64, AnswerError> {
    let t = text.trim();
    no_sign(t, "a number")?;
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return digits(h, 16, "a hex number");
    }
    digits(t.strip_prefix('#').unwrap_or(t), 10, "a number")
}

/// True if `t` is digits 0–9 only (with `_` between them): a number whose
/// base only the lab's rule decides.
fn bare_digits(t: &str) -> bool {
    t.starts_with(|c: char| c.is_ascii_digit()) && t.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// The words of an answer: split at blanks and commas (and `;`).
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';').filter(|w| !w.is_empty()).collect()
}

/// Flags by name or number, for `scheme`: `PTE_P|PTE_W`, `P W`, `p|w|u`, `0x7`.
///
/// # Errors
/// A name the scheme does not have, or an unreadable number.
pub fn parse_flags(scheme: SchemeKind, text: &str) -> Result<u64, AnswerError> {
    let t = text.trim();
    if t.is_empty() {
        return unreadable(
            "the flags: none are written (write them by name, like PTE_P|PTE_W, or as a number, like 0x3)",
        );
    }
    if t.starts_with(|c: char| c.is_ascii_digit() || c == '#') {
        return parse_count(t).map_err(|e| AnswerError { message: format!("the flags: {}", e.message) });
    }
    let bits = scheme.flag_bits(0);
    let mut v = 0u64;
    for name in t.split(|c: char| c == '|' || c == '+' || c.is_whitespace() || c == ',').filter(|w| !w.is_empty()) {
        let up = name.to_ascii_uppercase();
        let full = if up.starts_with("PTE_") { up } else { format!("PTE_{up}") };
        let Some(b) = bits.iter().find(|b| b.name == full) else {
            let known: Vec<&str> = bits.iter().map(|b| b.name).collect();
            return unreadable(format!("the flags: `{name}` is not a flag here; the flags are {}", known.join(", ")));
        };
        v |= 1 << b.bit;
    }
    Ok(v)
}

/// The level a learner names: an index name (`PTX`, `L1`, any case), or a number.
fn parse_level(scheme: SchemeKind, word: &str) -> Result<u32, AnswerError> {
    let levels = scheme.levels();
    for l in 0..levels {
        if word.eq_ignore_ascii_case(scheme.index_name(l)) {
            return Ok(l);
        }
    }
    let names: Vec<&str> = (0..levels).rev().map(|l| scheme.index_name(l)).collect();
    match parse_count(word) {
        Ok(n) if n < u64::from(levels) => Ok(n as u32),
        _ => unreadable(format!("`{word}` is not a level here; the levels are {}", names.join(", "))),
    }
}

/// Pages and ranges: `0x3000 0x4000`, `0x3000-0x5000` (B not included), `none`.
fn parse_pages(text: &str) -> Result<Vec<u64>, AnswerError> {
    let t = text.trim();
    if ["none", "nothing", "no pages", "-", "0 pages"].iter().any(|n| t.eq_ignore_ascii_case(n)) {
        return Ok(Vec::new());
    }
    if t.is_empty() {
        return unreadable(
            "no pages are written: write page addresses (0x3000 0x4000), a range (0x3000-0x5000), or none",
        );
    }
    let page = |w: &str| -> Result<u64, AnswerError> {
        let v = parse_address(w)?;
        if v % PGSIZE != 0 {
            return unreadable(format!("{v:#x} is not the start of a page (a multiple of 0x1000)"));
        }
        Ok(v)
    };
    let mut out = Vec::new();
    for w in words(t) {
        if let Some((a, b)) = w.split_once('-').filter(|(a, _)| !a.is_empty()) {
            let (a, b) = (page(a)?, page(b)?);
            if b <= a {
                return unreadable(format!(
                    "the range {a:#x}-{b:#x} is empty: the end comes after the start and is not included"
                ));
            }
            if (b - a) / PGSIZE > MAX_RANGE_PAGES {
                return unreadable(format!("the range {a:#x}-{b:#x} is too long: at most {MAX_RANGE_PAGES} pages"));
            }
            out.extend((a..b).step_by(PGSIZE as usize));
        } else {
            out.push(page(w)?);
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn yes_no(text: &str) -> Result<bool, AnswerError> {
    let t = text.trim().to_ascii_lowercase();
    match t.as_str() {
        "yes" | "y" | "true" | "1" => Ok(true),
        "no" | "n" | "false" | "0" => Ok(false),
        _ => unreadable("write yes or no"),
    }
}

fn part(name: impl Into<String>, right: bool, given: impl Into<String>, expected: impl Into<String>) -> Part {
    Part { name: name.into(), right, given: given.into(), expected: expected.into() }
}

/// What part `name` of an answer is and what was given, as a phrase: "the
/// outcome is an address, not a fault", "the flags are PTE_P|PTE_W, not …",
/// "PTX is 2, not 3" (a field keeps its name), "user pages allocated: 3,
/// not 1" (a count).
fn part_is(name: &str, expected: &str, given: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_uppercase()) {
        format!("{name} is {expected}, not {given}")
    } else if name.ends_with("allocated") || name.ends_with("freed") {
        format!("{name}: {expected}, not {given}")
    } else if name.ends_with('s') {
        format!("the {name} are {expected}, not {given}")
    } else {
        format!("the {name} is {expected}, not {given}")
    }
}

/// Grade `text` as the answer to `q`.
///
/// # Errors
/// An [`AnswerError`] when the text cannot be read as this kind of answer.
pub fn grade(q: &Question, text: &str) -> Result<Verdict, AnswerError> {
    if text.chars().count() > MAX_ANSWER {
        return unreadable(format!("the answer is too long: at most {MAX_ANSWER} characters"));
    }
    let scheme = q.scheme;
    let parts: Vec<Part> = match &q.expected {
        Expected::Address { value } => {
            let v = parse_address(text)?;
            let t = text.trim();
            // Bare digits are hex here; the same digits read as decimal may be
            // what the learner meant (a size worked out from a decimal sbrk).
            if v != *value && bare_digits(t) && digits(t, 10, "a number").ok() == Some(*value) {
                return unreadable(format!("`{t}` is read as hex here ({v:#x}). If you meant decimal, write #{t}"));
            }
            alloc::vec![part("value", v == *value, format!("{v:#x}"), format!("{value:#x}"))]
        }
        Expected::Count { value } => {
            let v = parse_count(text)?;
            alloc::vec![part("count", v == *value, v.to_string(), value.to_string())]
        }
        Expected::Fields { fields } => grade_fields(fields, text)?,
        Expected::Pages { user_alloc, user_free, pt_alloc, pt_free } => {
            let w = words(text);
            let names =
                ["user pages allocated", "user pages freed", "page-table pages allocated", "page-table pages freed"];
            if w.len() != 4 {
                return unreadable(format!(
                    "write four numbers ({}); {} written",
                    names.join(", "),
                    if w.len() == 1 { String::from("1 is") } else { format!("{} are", w.len()) }
                ));
            }
            let want = [*user_alloc, *user_free, *pt_alloc, *pt_free];
            let mut v = Vec::new();
            for (i, n) in names.iter().enumerate() {
                let g = parse_count(w[i]).map_err(|e| AnswerError { message: format!("{n}: {}", e.message) })?;
                v.push(part(*n, g == want[i], g.to_string(), want[i].to_string()));
            }
            v
        }
        Expected::Translate { pa, level, reason, also } => {
            grade_translate(scheme, *pa, *level, reason.as_deref(), also, text)?
        }
        Expected::Page { va, flags } => {
            let t = text.trim();
            let (a, rest) = t.split_once(|c: char| c.is_whitespace() || c == ',').unwrap_or((t, ""));
            let g = parse_address(a)?;
            if rest.trim().is_empty() {
                return unreadable("write the page's address, then its flags (for example 0x1000 PTE_P|PTE_W)");
            }
            let f = parse_flags(scheme, rest)?;
            alloc::vec![
                part("page", g == *va, format!("{g:#x}"), format!("{va:#x}")),
                part("flags", f == *flags, scheme.flag_names(f), scheme.flag_names(*flags)),
            ]
        }
        Expected::PageSet { pages } => {
            let g = parse_pages(text)?;
            let show = |v: &[u64]| {
                if v.is_empty() {
                    String::from("none")
                } else {
                    v.iter().map(|p| format!("{p:#x}")).collect::<Vec<_>>().join(" ")
                }
            };
            alloc::vec![part("pages", g == *pages, show(&g), show(pages))]
        }
        Expected::YesNo { yes } => {
            let g = yes_no(text)?;
            let w = |b: bool| if b { "yes" } else { "no" };
            alloc::vec![part("answer", g == *yes, w(g), w(*yes))]
        }
    };
    let right = parts.iter().all(|p| p.right);
    let message = if right {
        format!("Right: {}. {}", q.answer, q.why)
    } else {
        let wrong: Vec<String> = parts
            .iter()
            .filter(|p| !p.right)
            .map(|p| {
                if parts.len() > 1 || !["value", "count", "answer"].contains(&p.name.as_str()) {
                    part_is(&p.name, &p.expected, &p.given)
                } else {
                    format!("it is {}, not {}", p.expected, p.given)
                }
            })
            .collect();
        let some_right = parts.len() > 1 && parts.iter().any(|p| p.right);
        // One part: "it is X, not Y" has said the answer already.
        let whole = if parts.len() > 1 { format!(" The answer is {}.", q.answer) } else { String::new() };
        format!(
            "Not right{}: {}.{whole} {}",
            if some_right { " (some parts are)" } else { "" },
            wrong.join("; "),
            q.why
        )
    };
    Ok(Verdict { right, parts, message })
}

fn grade_fields(fields: &[(String, u64)], text: &str) -> Result<Vec<Part>, AnswerError> {
    let names: Vec<&str> = fields.iter().map(|f| f.0.as_str()).collect();
    let w = words(text);
    let named = w.iter().any(|x| x.contains('=') || x.contains(':'));
    let mut given: Vec<Option<u64>> = alloc::vec![None; fields.len()];
    // Each field's text as written, for the offset's check below.
    let mut raw: Vec<Option<&str>> = alloc::vec![None; fields.len()];
    if named {
        for x in &w {
            let Some((n, v)) = x.split_once(['=', ':']) else {
                return unreadable(format!(
                    "write every field as NAME=VALUE ({}=...), or just the numbers in order",
                    names[0]
                ));
            };
            let Some(i) = names.iter().position(|f| f.eq_ignore_ascii_case(n)) else {
                return unreadable(format!("`{n}` is not a field here; the fields are {}", names.join(", ")));
            };
            raw[i] = Some(v);
            let v = parse_count(v).map_err(|e| AnswerError { message: format!("{}: {}", names[i], e.message) })?;
            if given[i].replace(v).is_some() {
                return unreadable(format!("{} is given twice", names[i]));
            }
        }
        if let Some(i) = given.iter().position(Option::is_none) {
            return unreadable(format!("{} is missing", names[i]));
        }
    } else {
        if w.len() != fields.len() {
            return unreadable(format!(
                "write {} numbers, one per field ({}); {} written",
                fields.len(),
                names.join(", "),
                w.len()
            ));
        }
        for (i, x) in w.iter().enumerate() {
            raw[i] = Some(x);
            given[i] =
                Some(parse_count(x).map_err(|e| AnswerError { message: format!("{}: {}", names[i], e.message) })?);
        }
    }
    // The offset is shown in hex, and bare digits are decimal here: digits
    // that are right read as hex were meant as hex.
    if let Some(i) = names.iter().position(|n| *n == "offset")
        && given[i] != Some(fields[i].1)
        && let Some(t) = raw[i].filter(|t| bare_digits(t))
        && digits(t, 16, "a number").ok() == Some(fields[i].1)
    {
        let v = given[i].unwrap_or_default();
        return unreadable(format!("offset: `{t}` is read as decimal here ({v:#x}). If you meant hex, write 0x{t}"));
    }
    let show = |name: &str, v: u64| if name == "offset" { format!("{v:#x}") } else { v.to_string() };
    Ok(fields
        .iter()
        .zip(given)
        .map(|((n, v), g)| {
            let g = g.unwrap_or(u64::MAX);
            part(n.clone(), g == *v, show(n, g), show(n, *v))
        })
        .collect())
}

fn grade_translate(
    scheme: SchemeKind,
    pa: Option<u64>,
    level: Option<u32>,
    reason: Option<&str>,
    also: &[String],
    text: &str,
) -> Result<Vec<Part>, AnswerError> {
    let w = words(text);
    let Some(first) = w.first() else {
        return unreadable("write the physical address it reaches, or: fault LEVEL REASON");
    };
    let says_fault = first.eq_ignore_ascii_case("fault") || first.eq_ignore_ascii_case("faults");
    let want_outcome = if pa.is_some() { "an address" } else { "a fault" };
    if !says_fault {
        if w.len() > 1 {
            return unreadable("write one physical address, or: fault LEVEL REASON");
        }
        let g = parse_address(first)?;
        return Ok(match pa {
            Some(p) => alloc::vec![part("physical address", g == p, format!("{g:#x}"), format!("{p:#x}"))],
            None => alloc::vec![part("outcome", false, format!("the address {g:#x}"), want_outcome)],
        });
    }
    // fault [at] [level] LEVEL [REASON...]
    let rest: Vec<&str> =
        w[1..].iter().copied().filter(|x| !x.eq_ignore_ascii_case("at") && !x.eq_ignore_ascii_case("level")).collect();
    let mut g_level: Option<u32> = None;
    let mut g_reason: Option<&str> = None;
    for x in &rest {
        if g_level.is_none() && parse_level(scheme, x).is_ok() && reason_of(x).is_none() {
            g_level = parse_level(scheme, x).ok();
        } else if let Some(r) = reason_of(x) {
            if g_reason.replace(r).is_some() {
                return unreadable("give one reason for the fault");
            }
        } else if let Ok(l) = parse_level(scheme, x) {
            g_level = Some(l);
        } else {
            return unreadable(format!(
                "`{x}` is neither a level ({}) nor a reason ({})",
                (0..scheme.levels()).rev().map(|l| scheme.index_name(l)).collect::<Vec<_>>().join(", "),
                reason_list(scheme)
            ));
        }
    }
    if pa.is_some() {
        return Ok(alloc::vec![part("outcome", false, "a fault", want_outcome)]);
    }
    let name = |l: Option<u32>| l.map_or(String::from("(none)"), |l| String::from(scheme.index_name(l)));
    let mut v = alloc::vec![part("outcome", true, "a fault", "a fault")];
    if level.is_some() {
        let Some(gl) = g_level else {
            return unreadable(format!(
                "it faults, but at which level? write the level too, for example: fault {} {}",
                scheme.index_name(0),
                reason.unwrap_or("not-present")
            ));
        };
        v.push(part("level", Some(gl) == level, name(Some(gl)), name(level)));
    }
    let Some(gr) = g_reason else {
        return unreadable(format!("it faults, but why? add a reason: {}", reason_list(scheme)));
    };
    let want = reason.unwrap_or("not-present");
    // A reason just as true as the MMU's own is right too.
    let right = gr == want || also.iter().any(|a| a == gr);
    v.push(part("reason", right, gr, if right { gr } else { want }));
    Ok(v)
}
