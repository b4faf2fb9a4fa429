//! Reading a widget's attributes: every value is untrusted text from a page
//! author, so each is checked here and a mistake becomes one plain sentence
//! naming the element, the attribute and what it accepts. Nothing here
//! panics, whatever the text.

use std::collections::BTreeMap;

use pagelab_core::lab::{Preset, scenario};
use pagelab_core::scheme::SchemeKind;
use pagelab_web::input;
use pagelab_web::select::AccessChoice;

/// The kinds of widget, one per custom element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `<pagelab-translate>`: an address cut into its fields, and optionally walked.
    Translate,
    /// `<pagelab-exec>`: the stack and address space exec builds for a program and its arguments.
    Exec,
    /// `<pagelab-walk>`: one address walked in one process of a scenario.
    Walk,
    /// `<pagelab-frames>`: the frame map and kalloc's free list at a step.
    Frames,
    /// `<pagelab-shm>`: the shared pages at a step and who maps them.
    Shm,
    /// `<pagelab-tlb>`: the TLB of the CPU a step ran on, and what the step's accesses did with it.
    Tlb,
    /// `<pagelab-lab>`: a small lab running a scenario.
    Lab,
    /// `<pagelab-quiz>`: questions to answer before seeing what xv6 does.
    Quiz,
    /// `<pagelab-run>`: a program really run by xv6's sh on pagelab's CPU, to its exit.
    Run,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 9] =
        [Kind::Translate, Kind::Exec, Kind::Walk, Kind::Frames, Kind::Shm, Kind::Tlb, Kind::Lab, Kind::Quiz, Kind::Run];

    /// The short name (`translate`, …), as `pagelab.render` takes it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Kind::Translate => "translate",
            Kind::Exec => "exec",
            Kind::Walk => "walk",
            Kind::Frames => "frames",
            Kind::Shm => "shm",
            Kind::Tlb => "tlb",
            Kind::Lab => "lab",
            Kind::Quiz => "quiz",
            Kind::Run => "run",
        }
    }

    /// The element's tag name.
    #[must_use]
    pub fn tag(self) -> String {
        format!("pagelab-{}", self.name())
    }

    /// The kind named `name` (`walk` or `pagelab-walk`; case ignored).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Kind> {
        let n = name.trim().to_ascii_lowercase();
        let n = n.strip_prefix("pagelab-").unwrap_or(&n);
        Kind::ALL.into_iter().find(|k| k.name() == n)
    }

    /// The attributes the element takes.
    #[must_use]
    pub fn attributes(self) -> &'static [&'static str] {
        match self {
            Kind::Translate => &["address", "scheme", "scenario", "step", "pid", "access", "fixed"],
            Kind::Exec | Kind::Run => &["program", "args", "machine"],
            Kind::Walk => &["scenario", "step", "pid", "address", "access"],
            Kind::Frames | Kind::Shm | Kind::Tlb | Kind::Lab => &["scenario", "step"],
            Kind::Quiz => &["set", "scenario", "seed", "student", "questions"],
        }
    }
}

/// Attributes every HTML element may carry; widgets ignore them.
/// (HTML's global attributes, ARIA's `role` and `aria-*`, `data-*`, and the
/// `on…` event handler attributes.)
fn is_global_attribute(name: &str) -> bool {
    matches!(
        name,
        "id" | "class"
            | "style"
            | "title"
            | "lang"
            | "dir"
            | "hidden"
            | "slot"
            | "tabindex"
            | "part"
            | "exportparts"
            | "is"
            | "role"
            | "inert"
            | "nonce"
            | "accesskey"
            | "autofocus"
            | "autocapitalize"
            | "autocorrect"
            | "contenteditable"
            | "draggable"
            | "enterkeyhint"
            | "inputmode"
            | "popover"
            | "spellcheck"
            | "translate"
            | "writingsuggestions"
            | "itemid"
            | "itemprop"
            | "itemref"
            | "itemscope"
            | "itemtype"
            | "xml:lang"
    ) || name.starts_with("data-")
        || name.starts_with("aria-")
        || name.strip_prefix("on").is_some_and(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_lowercase()))
}

pub use pagelab_web::present::MAX_WIDGET_OPS;

/// The most bytes of scenario text a widget or the API takes.
pub const MAX_SCENARIO_BYTES: usize = 256 * 1024;

/// The default scenario of the scenario widgets.
pub const DEFAULT_SCENARIO: &str = "story-x86";

/// A scenario's text and how to name it in messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The scenario language text.
    pub text: String,
    /// `the built-in scenario story-x86` or `the scenario inside the element`.
    pub label: String,
}

impl Source {
    /// The built-in scenario `name`.
    ///
    /// # Errors
    /// There is none of that name.
    pub fn builtin(name: &str) -> Result<Source, String> {
        let name = name.trim();
        match scenario::builtin(name) {
            Some(t) => Ok(Source { text: t.to_string(), label: format!("the built-in scenario {name}") }),
            None => Err(format!(
                "there is no built-in scenario called \"{}\"; the built-in ones are {}",
                short(name, 40),
                scenario::builtins().iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// Scenario text written by the author.
    ///
    /// # Errors
    /// The text is longer than [`MAX_SCENARIO_BYTES`].
    pub fn inline(text: &str, label: &str) -> Result<Source, String> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(format!(
                "{label} is {} bytes; a widget takes at most {MAX_SCENARIO_BYTES} bytes of scenario",
                text.len()
            ));
        }
        Ok(Source { text: text.to_string(), label: label.to_string() })
    }
}

/// Which page table a walk uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidChoice {
    /// The process of the last operation at or before the step (else the newest live one).
    Auto,
    /// This process.
    Pid(u32),
    /// The kernel's own page table.
    Kernel,
}

/// A machine to walk in: a scenario at a step, a process and an access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkAt {
    /// The scenario.
    pub source: Source,
    /// The step (None: the last).
    pub step: Option<usize>,
    /// Whose page table.
    pub pid: PidChoice,
    /// The access checked.
    pub access: AccessChoice,
}

/// `<pagelab-translate>`'s settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranslateCfg {
    /// The scheme (from the scenario's machine when one is given).
    pub scheme: Option<SchemeKind>,
    /// The first address, as written.
    pub address: String,
    /// Also walk the address in this machine.
    pub walk: Option<WalkAt>,
    /// No field to type another address.
    pub fixed: bool,
}

/// `<pagelab-exec>`'s settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecCfg {
    /// The machine.
    pub preset: Preset,
    /// The program's path.
    pub program: String,
    /// The argument line as written.
    pub args_text: String,
    /// argv: the program's name, then the arguments.
    pub argv: Vec<Vec<u8>>,
}

/// `<pagelab-walk>`'s settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkCfg {
    /// Where to walk.
    pub at: WalkAt,
    /// The address, as written.
    pub address: String,
}

/// A scenario at a step (`<pagelab-frames>`, `<pagelab-shm>`, `<pagelab-lab>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepCfg {
    /// The scenario.
    pub source: Source,
    /// The step (None: the last).
    pub step: Option<usize>,
}

/// Where a quiz widget's questions come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuizFrom {
    /// A built-in exercise set, by name.
    Set(String),
    /// A scenario: its `ask` lines, or (with none) questions made for each operation.
    Scenario(Source),
}

/// Which questions a quiz widget shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pick {
    /// Question numbers (from 1).
    pub numbers: Vec<usize>,
    /// Kinds of question (`sp`, `guard`, …).
    pub kinds: Vec<String>,
}

impl Pick {
    /// True if no choice was made: every question is shown.
    #[must_use]
    pub fn all(&self) -> bool {
        self.numbers.is_empty() && self.kinds.is_empty()
    }
}

/// `<pagelab-quiz>`'s settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuizCfg {
    /// The questions' source.
    pub from: QuizFrom,
    /// The seed that chooses every `?`.
    pub seed: u64,
    /// The student id the seed came from, if any.
    pub student: Option<String>,
    /// Which questions to show.
    pub pick: Pick,
}

/// The most questions one widget lists by number.
const MAX_PICK: usize = 500;

/// `questions="1,3-5,sp,guard"`: numbers, ranges and kinds of question.
///
/// # Errors
/// A part that is none of these.
pub fn parse_pick(s: &str) -> Result<Pick, String> {
    let mut p = Pick::default();
    for part in s.split([',', ' ']).map(str::trim).filter(|x| !x.is_empty()) {
        if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (a.trim().parse::<usize>(), b.trim().parse::<usize>());
            match (a, b) {
                (Ok(a), Ok(b)) if a >= 1 && a <= b && b - a < MAX_PICK => p.numbers.extend(a..=b),
                _ => {
                    return Err(format!(
                        "questions=\"{}\": `{}` is not a range of question numbers like 2-5",
                        short(s, 40),
                        short(part, 20)
                    ));
                }
            }
        } else if let Ok(n) = part.parse::<usize>() {
            if n == 0 {
                return Err(format!("questions=\"{}\": questions are numbered from 1", short(s, 40)));
            }
            p.numbers.push(n);
        } else if pagelab_core::lab::quiz::ASK_KINDS.contains(&part.to_ascii_lowercase().as_str()) {
            p.kinds.push(part.to_ascii_lowercase());
        } else {
            return Err(format!(
                "questions=\"{}\": `{}` is not a question number, a range (2-5) or a kind ({})",
                short(s, 40),
                short(part, 20),
                pagelab_core::lab::quiz::ASK_KINDS.join(", ")
            ));
        }
        if p.numbers.len() > MAX_PICK {
            return Err(format!("questions=\"{}\" lists too many questions (at most {MAX_PICK})", short(s, 40)));
        }
    }
    Ok(p)
}

/// A widget's settings, read from its attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Config {
    /// `<pagelab-translate>`.
    Translate(TranslateCfg),
    /// `<pagelab-exec>`.
    Exec(ExecCfg),
    /// `<pagelab-walk>`.
    Walk(WalkCfg),
    /// `<pagelab-frames>`.
    Frames(StepCfg),
    /// `<pagelab-shm>`.
    Shm(StepCfg),
    /// `<pagelab-tlb>`.
    Tlb(StepCfg),
    /// `<pagelab-lab>`.
    Lab(StepCfg),
    /// `<pagelab-quiz>`.
    Quiz(QuizCfg),
    /// `<pagelab-run>`.
    Run(RunCfg),
}

/// `<pagelab-run>`'s settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunCfg {
    /// The machine.
    pub preset: Preset,
    /// The line typed at sh: the program, then its arguments.
    pub line: String,
}

pub use pagelab_web::select::short;

/// The access named `s`: `user-read` (or `ur`), `user-write`, `user-exec`, `kernel-read`, `kernel-write`.
///
/// # Errors
/// Any other name.
pub fn parse_access(s: &str) -> Result<AccessChoice, String> {
    let t = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    let found = AccessChoice::ALL.into_iter().find(|a| a.code() == t || a.label().replace(' ', "-") == t);
    let found = found.or(match t.as_str() {
        "user-exec" | "user-execute" | "user-fetch" => Some(AccessChoice::UserExec),
        _ => None,
    });
    found.ok_or_else(|| {
        format!(
            "access=\"{}\" is not an access: use user-read, user-write, user-exec, kernel-read or kernel-write",
            short(s, 30)
        )
    })
}

/// The scheme named `s`: `x86`, `sv39` or `sv32` (case ignored).
///
/// # Errors
/// Any other name.
pub fn parse_scheme(s: &str) -> Result<SchemeKind, String> {
    SchemeKind::from_name(s.trim())
        .ok_or_else(|| format!("scheme=\"{}\" is not a paging scheme: use x86, sv39 or sv32", short(s, 30)))
}

/// The machine named `s` (`xv6-public`, `xv6-public-tiny`, `xv6-riscv`, `xv6-riscv-tiny`, or `x86`, `riscv`, …).
///
/// # Errors
/// Any other name.
pub fn parse_machine(s: &str) -> Result<Preset, String> {
    Preset::from_name(s.trim()).ok_or_else(|| {
        format!(
            "machine=\"{}\" is not a machine: use {}",
            short(s, 30),
            Preset::ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
        )
    })
}

/// A step: a whole number, or `last`.
///
/// # Errors
/// Anything else.
pub fn parse_step(s: &str) -> Result<Option<usize>, String> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("last") {
        return Ok(None);
    }
    t.parse::<usize>()
        .map(Some)
        .map_err(|_| format!("step=\"{}\" is not a step: write a whole number (0 = just booted) or last", short(s, 30)))
}

/// A pid, `kernel` (the kernel's page table) or `auto`.
///
/// # Errors
/// Anything else.
pub fn parse_pid(s: &str) -> Result<PidChoice, String> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("auto") {
        return Ok(PidChoice::Auto);
    }
    if t.eq_ignore_ascii_case("kernel") {
        return Ok(PidChoice::Kernel);
    }
    match t.parse::<u32>() {
        Ok(p) if p > 0 => Ok(PidChoice::Pid(p)),
        _ => Err(format!("pid=\"{}\" is not a pid: write a number like 3, or kernel", short(s, 30))),
    }
}

/// A true/false attribute: present and empty, `true`, `yes` or `1` is true; `false`, `no` or `0` is false.
fn parse_flag(name: &str, s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err(format!("{name}=\"{}\" is not true or false", short(s, 30))),
    }
}

/// The scenario of a widget: a built-in one named by `scenario=`, or the
/// text inside the element, or the default.
fn source(tag: &str, attrs: &BTreeMap<String, String>, inline: Option<&str>) -> Result<Source, String> {
    let inline = inline.filter(|t| !t.trim().is_empty());
    match (attrs.get("scenario"), inline) {
        (Some(_), Some(_)) => {
            Err(format!("<{tag}> has a scenario= attribute and a scenario inside it: give one or the other"))
        }
        (Some(name), None) => Source::builtin(name),
        (None, Some(text)) => Source::inline(text, "the scenario inside the element"),
        (None, None) => Source::builtin(DEFAULT_SCENARIO),
    }
}

/// Check every attribute is one the element knows (or a global HTML one).
fn check_names(kind: Kind, attrs: &BTreeMap<String, String>) -> Result<(), String> {
    for name in attrs.keys() {
        let n = name.to_ascii_lowercase();
        if !kind.attributes().contains(&n.as_str()) && !is_global_attribute(&n) {
            return Err(format!(
                "<{}> has no attribute \"{}\"; it takes {}",
                kind.tag(),
                short(name, 30),
                kind.attributes().join(", ")
            ));
        }
    }
    Ok(())
}

/// Read a widget's settings from its attributes (names lowercase, as HTML
/// gives them) and the text inside the element, if any.
///
/// # Errors
/// One plain sentence about the first mistake.
pub fn parse(kind: Kind, attrs: &BTreeMap<String, String>, inline: Option<&str>) -> Result<Config, String> {
    let attrs: BTreeMap<String, String> = attrs.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect();
    check_names(kind, &attrs)?;
    let tag = kind.tag();
    let get = |n: &str| attrs.get(n).map(String::as_str);
    let walk_at = |source: Source| -> Result<WalkAt, String> {
        Ok(WalkAt {
            source,
            step: get("step").map(parse_step).transpose()?.flatten(),
            pid: get("pid").map(parse_pid).transpose()?.unwrap_or(PidChoice::Auto),
            access: get("access").map(parse_access).transpose()?.unwrap_or_default(),
        })
    };
    let step_cfg = || -> Result<StepCfg, String> {
        Ok(StepCfg { source: source(&tag, &attrs, inline)?, step: get("step").map(parse_step).transpose()?.flatten() })
    };
    Ok(match kind {
        Kind::Translate => {
            let scheme = get("scheme").map(parse_scheme).transpose()?;
            let has_machine = get("scenario").is_some() || inline.is_some_and(|t| !t.trim().is_empty());
            let walk = if has_machine { Some(walk_at(source(&tag, &attrs, inline)?)?) } else { None };
            if walk.is_none() {
                for n in ["step", "pid", "access"] {
                    if attrs.contains_key(n) {
                        return Err(format!(
                            "<{tag}> has {n}= but no scenario to walk in: add scenario=\"story-x86\" (or another)"
                        ));
                    }
                }
            }
            if scheme == Some(SchemeKind::Sv32) && walk.is_some() {
                return Err(format!(
                    "<{tag}>: no machine in the lab uses sv32, so an sv32 address cannot be walked; remove scenario="
                ));
            }
            TranslateCfg {
                scheme,
                address: get("address").unwrap_or(pagelab_web::state::EXAMPLE_ADDRESS).to_string(),
                walk,
                fixed: get("fixed").map(|v| parse_flag("fixed", v)).transpose()?.unwrap_or(false),
            }
            .into()
        }
        Kind::Exec => {
            let preset = get("machine").map(parse_machine).transpose()?.unwrap_or(Preset::Xv6Public);
            let program = get("program").unwrap_or("echo").trim().to_string();
            if program.is_empty() {
                return Err(format!("<{tag}> has program=\"\": name a program, for example echo"));
            }
            if program.len() > 255 || program.chars().any(char::is_whitespace) {
                return Err(format!(
                    "program=\"{}\" is not a program's path: one word, like echo or /echo (arguments go in args=)",
                    short(&program, 30)
                ));
            }
            let args_text = get("args").unwrap_or("").to_string();
            // As sh passes it: argv[0] is the program as written, path and all.
            let mut argv = vec![program.clone().into_bytes()];
            argv.extend(input::split_args(&args_text).map_err(|e| format!("in args=, {e}"))?);
            Config::Exec(ExecCfg { preset, program, args_text, argv })
        }
        Kind::Run => {
            let preset = get("machine").map(parse_machine).transpose()?.unwrap_or(Preset::Xv6Riscv);
            let program = get("program").unwrap_or("echo").trim().to_string();
            if program.is_empty() || program.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!(
                    "program=\"{}\" is not a program: one word, like echo or deep (arguments go in args=)",
                    short(&program, 30)
                ));
            }
            let args = get("args").unwrap_or("").trim();
            if args.chars().any(char::is_control) {
                return Err("args= may not hold control characters (a newline, a tab)".to_string());
            }
            let line = if args.is_empty() { program } else { format!("{program} {args}") };
            if line.len() > pagelab_web::run::MAX_LINE {
                return Err(format!(
                    "program= and args= make a line of {} bytes; sh reads at most {} (xv6's console holds 128)",
                    pagelab_web::run::byte_count(&line),
                    pagelab_web::run::MAX_LINE
                ));
            }
            Config::Run(RunCfg { preset, line })
        }
        Kind::Walk => {
            let at = walk_at(source(&tag, &attrs, inline)?)?;
            let Some(address) = get("address") else {
                return Err(format!("<{tag}> needs an address= to walk, for example address=\"0x2fcc\""));
            };
            Config::Walk(WalkCfg { at, address: address.to_string() })
        }
        Kind::Frames => Config::Frames(step_cfg()?),
        Kind::Shm => Config::Shm(step_cfg()?),
        Kind::Tlb => Config::Tlb(step_cfg()?),
        Kind::Lab => Config::Lab(step_cfg()?),
        Kind::Quiz => {
            let inline = inline.filter(|t| !t.trim().is_empty());
            let from = match (get("set"), get("scenario"), inline) {
                (Some(_), Some(_), _) | (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                    return Err(format!(
                        "<{tag}> takes one source of questions: set=, scenario= or a scenario inside it, not two"
                    ));
                }
                (Some(name), None, None) => {
                    let name = name.trim();
                    if !pagelab_core::lab::quiz::sets::SETS.iter().any(|(n, _)| *n == name) {
                        return Err(format!(
                            "set=\"{}\" is not an exercise set: the sets are {}",
                            short(name, 40),
                            pagelab_core::lab::quiz::sets::SETS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                        ));
                    }
                    QuizFrom::Set(name.to_string())
                }
                (None, Some(name), None) => QuizFrom::Scenario(Source::builtin(name)?),
                (None, None, Some(text)) => {
                    QuizFrom::Scenario(Source::inline(text, "the scenario inside the element")?)
                }
                (None, None, None) => QuizFrom::Set(String::from("quiz-story-x86")),
            };
            if get("seed").is_some() && get("student").is_some() {
                return Err(format!("<{tag}> takes seed= or student=, not both"));
            }
            if get("student").is_some_and(|s| s.trim().is_empty()) {
                return Err(format!("<{tag}> has student=\"\": give a student id, or leave student= out"));
            }
            let which = if get("student").is_some() { "student" } else { "seed" };
            let (seed, student) = pagelab_web::quiz::seed_from(get("seed").unwrap_or(""), get("student").unwrap_or(""))
                .map_err(|e| format!("in {which}=, {e}"))?;
            let pick = get("questions").map(parse_pick).transpose()?.unwrap_or_default();
            Config::Quiz(QuizCfg { from, seed, student, pick })
        }
    })
}

impl From<TranslateCfg> for Config {
    fn from(c: TranslateCfg) -> Config {
        Config::Translate(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn err(kind: Kind, pairs: &[(&str, &str)], inline: Option<&str>) -> String {
        parse(kind, &attrs(pairs), inline).unwrap_err()
    }

    #[test]
    fn kinds_by_name_and_tag() {
        assert_eq!(Kind::from_name("pagelab-walk"), Some(Kind::Walk));
        assert_eq!(Kind::from_name(" Translate "), Some(Kind::Translate));
        assert_eq!(Kind::from_name("pagelab-nope"), None);
        assert_eq!(Kind::Shm.tag(), "pagelab-shm");
    }

    #[test]
    fn defaults() {
        let Config::Translate(t) = parse(Kind::Translate, &attrs(&[]), None).unwrap() else { panic!() };
        assert_eq!((t.scheme, t.address.as_str(), t.walk, t.fixed), (None, "0x00403abc", None, false));
        let Config::Exec(e) = parse(Kind::Exec, &attrs(&[("args", "hello world")]), None).unwrap() else { panic!() };
        assert_eq!(e.preset, Preset::Xv6Public);
        assert_eq!(e.argv, vec![b"echo".to_vec(), b"hello".to_vec(), b"world".to_vec()]);
        let Config::Frames(f) = parse(Kind::Frames, &attrs(&[("id", "x"), ("data-n", "1")]), None).unwrap() else {
            panic!()
        };
        assert_eq!((f.source.label.as_str(), f.step), ("the built-in scenario story-x86", None));
        let Config::Lab(l) = parse(Kind::Lab, &attrs(&[]), Some("\n  userinit\n")).unwrap() else { panic!() };
        assert_eq!(l.source.label, "the scenario inside the element");
        // Whitespace only inside the element is no scenario.
        let Config::Shm(s) =
            parse(Kind::Shm, &attrs(&[("scenario", "shm-test"), ("step", "12")]), Some("  \n ")).unwrap()
        else {
            panic!()
        };
        assert_eq!(s.step, Some(12));
    }

    #[test]
    fn walk_settings() {
        let c = parse(
            Kind::Walk,
            &attrs(&[("scenario", "story-x86"), ("step", "7"), ("pid", "3"), ("address", "0x2fcc"), ("access", "uw")]),
            None,
        )
        .unwrap();
        let Config::Walk(w) = c else { panic!() };
        assert_eq!((w.at.step, w.at.pid, w.at.access), (Some(7), PidChoice::Pid(3), AccessChoice::UserWrite));
        assert_eq!(parse_access("Kernel Read"), Ok(AccessChoice::KernelRead));
        // Every name the message lists is accepted.
        for (name, want) in [
            ("user-read", AccessChoice::UserRead),
            ("user-write", AccessChoice::UserWrite),
            ("user-exec", AccessChoice::UserExec),
            ("kernel-read", AccessChoice::KernelRead),
            ("kernel-write", AccessChoice::KernelWrite),
        ] {
            assert_eq!(parse_access(name), Ok(want), "{name}");
        }
        assert_eq!(parse_pid("kernel"), Ok(PidChoice::Kernel));
        assert_eq!(parse_step("last"), Ok(None));
    }

    /// HTML lets any element carry its global attributes (and ARIA's role):
    /// a widget takes them and ignores them; a misspelt one is still refused.
    #[test]
    fn global_html_attributes_are_allowed() {
        let attrs: BTreeMap<String, String> = [
            ("role", "region"),
            ("aria-label", "Translator"),
            ("inert", ""),
            ("nonce", "abc"),
            ("accesskey", "t"),
            ("autofocus", ""),
            ("onclick", "go()"),
            ("data-x", "1"),
            ("itemprop", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert!(parse(Kind::Translate, &attrs, None).is_ok());
        for name in ["rol", "on", "on-click", "onClick2"] {
            assert!(err(Kind::Translate, &[(name, "1")], None).contains("has no attribute"), "{name}");
        }
    }

    #[test]
    fn mistakes_are_named_plainly() {
        assert!(
            err(Kind::Translate, &[("adress", "0x1")], None).contains("has no attribute \"adress\"; it takes address")
        );
        assert!(err(Kind::Translate, &[("scheme", "arm")], None).contains("use x86, sv39 or sv32"));
        assert!(err(Kind::Translate, &[("pid", "3")], None).contains("no scenario to walk in"));
        assert!(err(Kind::Translate, &[("scheme", "sv32"), ("scenario", "story-x86")], None).contains("sv32"));
        assert!(err(Kind::Walk, &[("scenario", "nope")], None).contains("no built-in scenario called \"nope\""));
        assert!(err(Kind::Walk, &[("step", "seven"), ("address", "0")], None).contains("step=\"seven\" is not a step"));
        assert!(err(Kind::Walk, &[("pid", "-1"), ("address", "0")], None).contains("is not a pid"));
        assert!(err(Kind::Walk, &[("pid", "0"), ("address", "0")], None).contains("is not a pid"));
        assert!(err(Kind::Walk, &[], None).contains("needs an address="));
        assert!(err(Kind::Walk, &[("access", "sideways"), ("address", "0")], None).contains("not an access"));
        assert!(err(Kind::Quiz, &[("student", " ")], None).contains("<pagelab-quiz> has student=\"\""));
        let long = "x".repeat(201);
        assert!(err(Kind::Quiz, &[("student", &long)], None).starts_with("in student=, the student id is too long"));
        assert!(
            err(Kind::Quiz, &[("seed", "0x1g")], None).starts_with("in seed=, the seed `0x1g` is not a whole number")
        );
        assert!(err(Kind::Exec, &[("machine", "pdp11")], None).contains("xv6-public, xv6-public-tiny"));
        assert!(err(Kind::Exec, &[("args", "\"open")], None).contains("in args=, a \" quote is not closed"));
        assert!(err(Kind::Exec, &[("program", "")], None).contains("name a program"));
        assert!(err(Kind::Exec, &[("program", "echo hi")], None).contains("one word"));
        // <pagelab-run>: a line for sh on an xv6-riscv machine.
        let Config::Run(r) = parse(Kind::Run, &attrs(&[("args", " hello world ")]), None).unwrap() else { panic!() };
        assert_eq!((r.preset, r.line.as_str()), (Preset::Xv6Riscv, "echo hello world"));
        let Config::Run(r) = parse(Kind::Run, &attrs(&[("machine", "xv6-public")]), None).unwrap() else { panic!() };
        assert_eq!(r.preset, Preset::Xv6Public);
        assert!(err(Kind::Run, &[("machine", "pdp11")], None).contains("is not a machine"));
        assert!(err(Kind::Run, &[("program", "echo hi")], None).contains("one word"));
        assert!(err(Kind::Run, &[("args", &"x".repeat(200))], None).contains("at most 127"));
        assert!(err(Kind::Run, &[("args", "a\nb")], None).contains("control"));
        assert!(err(Kind::Lab, &[("scenario", "story-x86")], Some("userinit")).contains("one or the other"));
        assert!(err(Kind::Translate, &[("fixed", "maybe")], None).contains("not true or false"));
        let big = "userinit\n".repeat(MAX_SCENARIO_BYTES / 9 + 1);
        assert!(err(Kind::Lab, &[], Some(&big)).contains("at most 262144 bytes"));
        // Long or odd values are shortened, never echoed whole.
        let long = "x".repeat(500);
        assert!(err(Kind::Translate, &[("scheme", &long)], None).len() < 200);
    }

    #[test]
    fn quiz_settings_and_their_mistakes() {
        let Config::Quiz(q) = parse(Kind::Quiz, &attrs(&[]), None).unwrap() else { panic!() };
        assert_eq!((q.from, q.seed, q.student, q.pick.all()), (QuizFrom::Set("quiz-story-x86".into()), 0, None, true));
        let Config::Quiz(q) =
            parse(Kind::Quiz, &attrs(&[("set", "quiz-exec-riscv"), ("seed", "42"), ("questions", "1, 3-5 sp")]), None)
                .unwrap()
        else {
            panic!()
        };
        assert_eq!(q.from, QuizFrom::Set("quiz-exec-riscv".into()));
        assert_eq!(q.seed, 42);
        assert_eq!((q.pick.numbers, q.pick.kinds), (vec![1, 3, 4, 5], vec!["sp".to_string()]));
        // A student id gives the same seed as the command line's --student (FNV-1a of the id).
        let Config::Quiz(q) = parse(Kind::Quiz, &attrs(&[("student", "ada")]), None).unwrap() else { panic!() };
        assert_eq!((q.seed, q.student.as_deref()), (pagelab_core::lab::quiz::sets::student_seed("ada"), Some("ada")));
        let Config::Quiz(q) = parse(Kind::Quiz, &attrs(&[]), Some("userinit\nask free\n")).unwrap() else { panic!() };
        assert!(matches!(q.from, QuizFrom::Scenario(_)));

        assert!(err(Kind::Quiz, &[("set", "quiz-nope")], None).contains("the sets are quiz-story-x86"));
        assert!(err(Kind::Quiz, &[("set", "quiz-shm"), ("scenario", "story-x86")], None).contains("not two"));
        assert!(err(Kind::Quiz, &[("set", "quiz-shm")], Some("userinit")).contains("not two"));
        assert!(
            err(Kind::Quiz, &[("seed", "7"), ("student", "ada")], None).contains("takes seed= or student=, not both")
        );
        assert!(err(Kind::Quiz, &[("seed", "-1")], None).starts_with("in seed=, "));
        assert!(err(Kind::Quiz, &[("questions", "0")], None).contains("numbered from 1"));
        assert!(err(Kind::Quiz, &[("questions", "5-2")], None).contains("not a range"));
        assert!(err(Kind::Quiz, &[("questions", "1-100000")], None).contains("not a range"));
        assert!(err(Kind::Quiz, &[("questions", "stack")], None).contains("a kind (fields, entry"));
        assert!(err(Kind::Quiz, &[("step", "2")], None).contains("has no attribute \"step\""));
    }
}
