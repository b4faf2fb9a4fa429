//! Links: the whole lab in the address bar's fragment (`#...`), so a copied
//! link restores it exactly and no server is needed.
//!
//! The fragment is `#lab=DATA&step=N&pid=P&va=HEX&acc=ur&frame=HEX`: DATA is
//! the scenario in the core's text form ([`scenario::print`], comments
//! included), compressed with deflate and written in base64url without
//! padding; the other parts are optional. A built-in scenario, unchanged,
//! is named instead: `#b=story-x86&step=3`. Reading a link checks every part
//! and says what is wrong.
//!
//! Predict mode adds `quiz=1&auto=K&seed=S` (questions from the scenario's
//! `ask` lines, and made for each operation from index K on), `who=ID` (a
//! student id, base64url) and `qa=CODE` (the attempts so far). A built-in
//! exercise set, unchanged, is named: `#set=quiz-story-x86&seed=5&step=2&qa=…`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use pagelab_core::lab::quiz::sets;
use pagelab_core::lab::scenario;
use pagelab_core::lab::{Preset, ReplayError, Scenario};
use pagelab_core::port::SkipFlush;

use crate::machines::Machines;
use crate::select::{AccessChoice, Selection, short};

/// The most bytes a link's scenario may decompress to (4 MiB: a 1 MiB file in base64 and more).
const MAX_TEXT: usize = 4 << 20;

/// Predict mode, as a link holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkQuiz {
    /// The built-in set, if the lab is one unchanged.
    pub set: Option<String>,
    /// The seed.
    pub seed: u64,
    /// The student id the seed came from, if any.
    pub student: Option<String>,
    /// Operations from this index on get questions made for their kind.
    pub auto_from: usize,
    /// The operations the running programs made (`[from, to)`), asked nothing about.
    pub quiet: Vec<(usize, usize)>,
    /// The attempts so far ([`crate::quiz::QuizRun::progress`]).
    pub progress: Option<String>,
}

/// What a link holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkState {
    /// The scenario (preset, operations and comments).
    pub scenario: Scenario,
    /// The built-in scenario it is, if it is one unchanged (the link then names it).
    pub builtin: Option<String>,
    /// The step shown (0 = just booted).
    pub step: usize,
    /// The selection (an address only if the learner typed one).
    pub selection: Selection,
    /// True if the learner chose the access (else it follows the address).
    pub access_set: bool,
    /// True if the translate panel walks the kernel's own page table (`table=kernel`).
    pub kernel_table: bool,
    /// Predict mode, if it is on.
    pub quiz: Option<LinkQuiz>,
    /// The flushes the scenario's words were written for, when a what-if
    /// replays it with others (`told=`): the story then says so.
    pub told: Option<SkipFlush>,
}

/// The scenario last parsed for a link (its name, and the set's seed),
/// kept because the link is worked out again after every step: parsing
/// shm-test each time took 0.7 ms in the browser.
type Parsed = Option<((String, u64), Option<std::rc::Rc<Scenario>>)>;

thread_local! {
    static LAST_BUILTIN: std::cell::RefCell<Parsed> = const { std::cell::RefCell::new(None) };
    static LAST_SET: std::cell::RefCell<Parsed> = const { std::cell::RefCell::new(None) };
}

/// `make()` parsed, or the scenario `last` holds for the same `key`.
fn parsed(
    last: &'static std::thread::LocalKey<std::cell::RefCell<Parsed>>,
    key: (&str, u64),
    make: impl FnOnce() -> Option<Scenario>,
) -> Option<std::rc::Rc<Scenario>> {
    last.with(|l| {
        let mut l = l.borrow_mut();
        match &*l {
            Some(((name, seed), sc)) if name == key.0 && *seed == key.1 => sc.clone(),
            _ => {
                let sc = make().map(std::rc::Rc::new);
                *l = Some(((key.0.to_string(), key.1), sc.clone()));
                sc
            }
        }
    })
}

/// The built-in scenario `name`, if `sc` is exactly it.
fn is_builtin(name: &str, sc: &Scenario) -> bool {
    parsed(&LAST_BUILTIN, (name, 0), || scenario::builtin(name).and_then(|t| scenario::parse(t).ok()))
        .is_some_and(|b| *b == *sc)
}

/// The built-in exercise set `name` for `seed`, if `sc` is exactly it.
fn is_set(name: &str, seed: u64, sc: &Scenario) -> bool {
    parsed(&LAST_SET, (name, seed), || sets::set_text(name, seed).and_then(|t| scenario::parse(&t).ok()))
        .is_some_and(|b| *b == *sc)
}

/// The fragment (without `#`) that opens scenario `text` (a learner's or an
/// instructor's own, pasted into the lab) at its last step, as [`encode`]
/// writes a lab made of it.
///
/// # Errors
/// Where the text does not read (`line L, column C: …`), or that it is too long for a link.
pub fn for_text(text: &str) -> Result<String, String> {
    if text.len() > MAX_TEXT {
        return Err(format!("the scenario is {} bytes; a link holds at most {MAX_TEXT}", text.len()));
    }
    let sc = scenario::parse(text).map_err(|e| e.to_string())?;
    Ok(format!("lab={}&step={}", packed(&sc), sc.ops.len()))
}

/// A scenario as a link holds it: printed ([`scenario::print`], comments
/// included), deflated, in base64url.
fn packed(sc: &Scenario) -> String {
    B64.encode(miniz_oxide::deflate::compress_to_vec(scenario::print(sc).as_bytes(), 9))
}

/// The fragment (without `#`) for a lab state.
#[must_use]
pub fn encode(s: &LinkState) -> String {
    let set = s.quiz.as_ref().and_then(|q| q.set.as_deref().filter(|n| is_set(n, q.seed, &s.scenario)));
    let mut out = match (set, s.builtin.as_deref().filter(|n| is_builtin(n, &s.scenario))) {
        (Some(name), _) => format!("set={name}&step={}", s.step),
        (None, Some(name)) => format!("b={name}&step={}", s.step),
        (None, None) => format!("lab={}&step={}", packed(&s.scenario), s.step),
    };
    if let Some(q) = &s.quiz {
        if set.is_none() {
            out.push_str(&format!("&quiz=1&auto={}", q.auto_from));
        }
        if !q.quiet.is_empty() {
            let ranges: Vec<String> = q.quiet.iter().map(|(a, b)| format!("{a}-{b}")).collect();
            out.push_str(&format!("&quiet={}", ranges.join(",")));
        }
        out.push_str(&format!("&seed={}", q.seed));
        if let Some(w) = &q.student {
            out.push_str(&format!("&who={}", B64.encode(w.as_bytes())));
        }
        if let Some(p) = q.progress.as_deref().filter(|p| !p.is_empty()) {
            out.push_str(&format!("&qa={p}"));
        }
    }
    if let Some(pid) = s.selection.pid {
        out.push_str(&format!("&pid={pid}"));
    }
    if let Some(va) = s.selection.address {
        out.push_str(&format!("&va={va:x}"));
    }
    if s.kernel_table {
        out.push_str("&table=kernel");
    }
    if s.access_set {
        out.push_str(&format!("&acc={}", s.selection.access.code()));
    }
    if let Some(f) = s.selection.frame {
        out.push_str(&format!("&frame={f:x}"));
    }
    if let Some(t) = s.told.filter(|t| *t != s.scenario.layout.noflush) {
        let names = t.names();
        out.push_str(&format!("&told={}", if names.is_empty() { String::from("xv6") } else { names.join("+") }));
    }
    out
}

fn hex(value: &str, what: &str) -> Result<u64, String> {
    if value.is_empty() || value.len() > 16 || !value.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("the link's {what} `{}` is not a hex number", shorten(value)));
    }
    u64::from_str_radix(value, 16).map_err(|_| format!("the link's {what} is not a hex number"))
}

fn shorten(s: &str) -> String {
    short(s, 24)
}

/// Read a fragment (with or without its `#`) and replay its scenario.
/// `Ok(None)` for an empty one.
///
/// A link whose operations cannot run is refused here with the reason, and
/// the machines built are returned with it. All at once: the page opens a
/// link with [`read`] and a [`crate::machines::Replay`] in slices.
///
/// # Errors
/// Plain words saying what is wrong with the link.
pub fn decode(fragment: &str) -> Result<Option<(LinkState, Machines)>, String> {
    let Some(ls) = read(fragment)? else { return Ok(None) };
    let machines = Machines::replay(&ls.scenario).map_err(|e| replay_error(&e))?;
    Ok(Some((ls, machines)))
}

/// Why a link's scenario cannot be replayed, in plain words.
#[must_use]
pub fn replay_error(e: &ReplayError) -> String {
    format!("the scenario in the link cannot be replayed: {e}")
}

/// The scenario text of a link's `lab=` part: base64url, raw deflate, UTF-8.
///
/// # Errors
/// What is wrong with the data, in plain words.
fn unpacked(data: &str) -> Result<String, String> {
    let packed = B64.decode(data.trim_end_matches('=')).map_err(|_| {
        "the link's lab data is damaged: it is not valid base64url, perhaps cut short or changed when copied"
            .to_string()
    })?;
    let raw = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_TEXT).map_err(|e| {
        if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
            format!(
                "the link's lab is too large: its scenario is more than {} MiB of text, more than the lab opens",
                MAX_TEXT >> 20
            )
        } else {
            "the link's lab data is damaged: it does not decompress, perhaps cut short or edited".to_string()
        }
    })?;
    String::from_utf8(raw).map_err(|_| "the link's lab data is not text".to_string())
}

/// The machine a link names, where that can be told even of a link that
/// does not open: a built-in scenario's or exercise set's preset, or the
/// preset line of the scenario in its `lab=` part (text that decompresses
/// but does not parse or replay). `None` when it names none: a link with no
/// preset line is xv6-public's.
#[must_use]
pub fn machine_named(fragment: &str) -> Option<Preset> {
    let f = fragment.strip_prefix('#').unwrap_or(fragment);
    f.split('&').find_map(|part| {
        let (key, value) = part.split_once('=')?;
        let text = match key {
            "b" => scenario::builtin(value)?.to_string(),
            "set" => sets::set_text(value, 0)?,
            "lab" => unpacked(value).ok()?,
            _ => return None,
        };
        let line = text.lines().map(str::trim).find(|l| l.starts_with("preset "))?;
        Preset::from_name(line.split_whitespace().nth(1)?)
    })
}

/// Read a fragment (with or without its `#`) without replaying it.
/// `Ok(None)` for an empty one.
///
/// # Errors
/// Plain words saying what is wrong with the link (its scenario's
/// operations are not run here: see [`decode`]).
pub fn read(fragment: &str) -> Result<Option<LinkState>, String> {
    let f = fragment.strip_prefix('#').unwrap_or(fragment);
    if f.is_empty() {
        return Ok(None);
    }
    let mut data = None;
    let mut builtin = None;
    let mut set = None;
    let mut quiz_on = false;
    let mut auto_from = None;
    let mut quiet = None;
    let mut told = None;
    let mut seed = None;
    let mut student = None;
    let mut progress = None;
    let mut step = None;
    let mut access_set = false;
    let mut kernel_table = false;
    let mut sel = Selection::default();
    let mut seen: Vec<&str> = Vec::new();
    for part in f.split('&') {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        if !key.is_empty() {
            if seen.contains(&key) {
                return Err(format!(
                    "the link gives its {}= part twice, so it is not clear which one is meant",
                    shorten(key)
                ));
            }
            seen.push(key);
        }
        match key {
            "lab" => data = Some(value),
            "b" => builtin = Some(value),
            "set" => set = Some(value),
            "quiz" => {
                if value != "1" {
                    return Err(format!("the link's quiz part is `{}`, not 1", shorten(value)));
                }
                quiz_on = true;
            }
            "auto" => {
                auto_from = Some(value.parse::<usize>().map_err(|_| {
                    format!("the link's auto part `{}` is not a step number (0, 1, 2 and so on)", shorten(value))
                })?);
            }
            "quiet" => quiet = Some(quiet_ranges(value)?),
            "seed" => seed = Some(sets::parse_seed(value).map_err(|e| format!("in the link's seed= part, {e}"))?),
            "who" => {
                let raw = B64
                    .decode(value.trim_end_matches('='))
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .filter(|w| w.chars().count() <= 200)
                    .ok_or_else(|| String::from("the link's student id (who=) is damaged"))?;
                student = Some(raw);
            }
            "qa" => progress = Some(value.to_string()),
            "told" => {
                let mut t = SkipFlush::default();
                if value != "xv6" {
                    for name in value.split('+') {
                        if !t.set(name) {
                            return Err(format!(
                                "the link's told part `{}` is not xv6 or flushes like growproc+trampoline",
                                shorten(value)
                            ));
                        }
                    }
                }
                told = Some(t);
            }
            "step" => {
                step = Some(value.parse::<usize>().map_err(|_| {
                    format!("the link's step `{}` is not a step number (0, 1, 2 and so on)", shorten(value))
                })?);
            }
            "pid" => {
                sel.pid = Some(
                    value.parse::<u32>().map_err(|_| format!("the link's pid `{}` is not a pid", shorten(value)))?,
                );
            }
            "va" => sel.address = Some(hex(value, "address")?),
            "acc" => {
                sel.access = AccessChoice::from_code(value).ok_or_else(|| {
                    format!("the link's access `{}` is not one of ur, uw, ux, kr, kw", shorten(value))
                })?;
                access_set = true;
            }
            "frame" => sel.frame = Some(hex(value, "frame")?),
            "table" if value == "kernel" => kernel_table = true,
            "table" => {
                return Err(format!(
                    "the link's table `{}` is not `kernel` (leave table= out for the process's own)",
                    shorten(value)
                ));
            }
            "" => {}
            other => return Err(format!("the link has a part the lab does not know: `{}`", shorten(other))),
        }
    }
    let named: Vec<&str> = [(data.is_some(), "a lab="), (builtin.is_some(), "a b="), (set.is_some(), "a set=")]
        .iter()
        .filter(|x| x.0)
        .map(|x| x.1)
        .collect();
    if named.len() > 1 {
        return Err(format!("the link has both {} part: it names one lab, not two", named.join(" and ")));
    }
    let text = match (data, builtin) {
        _ if set.is_some() => {
            let name = set.unwrap_or_default();
            sets::set_text(name, seed.unwrap_or(0)).ok_or_else(|| {
                let names: Vec<&str> = sets::SETS.iter().map(|(n, _)| *n).collect();
                format!(
                    "the link names the exercise set `{}`, but there is none by that name (they are {})",
                    shorten(name),
                    names.join(", ")
                )
            })?
        }
        (Some(_), Some(_)) => return Err("the link has both a lab= and a b= part: it names one lab, not two".into()),
        (None, Some(name)) => match scenario::builtin(name) {
            Some(t) => t.to_string(),
            None => {
                let names: Vec<&str> = scenario::builtins().iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "the link names the built-in scenario `{}`, but there is none by that name (they are {})",
                    shorten(name),
                    names.join(", ")
                ));
            }
        },
        (Some(data), None) => unpacked(data)?,
        (None, None) => return Err("the link has no lab= part, so there is no lab in it".into()),
    };
    let scenario = scenario::parse(&text)
        .map_err(|e| format!("the scenario in the link has a mistake: {e}\n{}", excerpt(&text, e.line)))?;
    let n = scenario.ops.len();
    // A built-in story, a set or an exercise without a step opens at its beginning; any other lab at its end.
    let step = step.unwrap_or(if builtin.is_some() || set.is_some() || quiz_on { 0 } else { n });
    if step > n {
        let steps = if n == 1 { "step" } else { "steps" };
        return Err(format!("the link asks for step {step}, but its scenario has only {n} {steps}"));
    }
    let builtin = builtin.map(String::from);
    if !quiz_on && set.is_none() && (seed.is_some() || progress.is_some() || auto_from.is_some() || quiet.is_some()) {
        return Err("the link has a seed=, auto=, quiet= or qa= part but no quiz: add quiz=1 or name a set".into());
    }
    let quiet = quiet.unwrap_or_default();
    if let Some(&(_, b)) = quiet.last()
        && b > n
    {
        return Err(format!("the link's quiet= part goes to operation {b}, but the lab has {n}"));
    }
    let quiz = (quiz_on || set.is_some()).then(|| LinkQuiz {
        set: set.map(String::from),
        seed: seed.unwrap_or(0),
        student,
        auto_from: auto_from.unwrap_or(n).min(n),
        quiet,
        progress,
    });
    Ok(Some(LinkState { scenario, builtin, step, selection: sel, access_set, kernel_table, quiz, told }))
}

/// A link's `quiet=` part: `from-to` ranges of operations, comma-separated,
/// each non-empty and after the one before.
fn quiet_ranges(value: &str) -> Result<Vec<(usize, usize)>, String> {
    let bad = || format!("the link's quiet part `{}` is not ranges like 14-19,22-30", shorten(value));
    let mut out: Vec<(usize, usize)> = Vec::new();
    for part in value.split(',') {
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        let (a, b) = (a.parse::<usize>().map_err(|_| bad())?, b.parse::<usize>().map_err(|_| bad())?);
        if a >= b || out.last().is_some_and(|l| l.1 > a) {
            return Err(bad());
        }
        out.push((a, b));
    }
    Ok(out)
}

/// The line `line` (from 1) of `text`, for an error message.
fn excerpt(text: &str, line: u32) -> String {
    let l = text.split('\n').nth(line.saturating_sub(1) as usize).unwrap_or("");
    format!("line {line}: {}", shorten(l))
}

#[cfg(test)]
mod tests {
    /// A scenario pasted into the lab opens as the link the lab would write
    /// for it, at its last step; text that does not read says where.
    #[test]
    fn own_scenario_text_becomes_a_link() {
        let text = "# mine\npreset xv6-riscv-tiny\nuserinit\nfork 1\n";
        let f = super::for_text(text).expect("reads");
        assert!(f.starts_with("lab=") && f.ends_with("&step=2"), "{f}");
        let (ls, _) = super::decode(&f).expect("opens").expect("a lab");
        assert_eq!(ls.scenario, pagelab_core::lab::scenario::parse(text).unwrap());
        assert_eq!(ls.step, 2);
        let e = super::for_text("userinit\n  frob 1\n").unwrap_err();
        assert!(e.contains("line 2, column 3"), "{e}");
    }

    use super::*;
    use pagelab_core::lab::Preset;

    fn story() -> Scenario {
        scenario::parse(scenario::builtin("story-x86").unwrap()).unwrap()
    }

    fn pack(text: &str) -> String {
        B64.encode(miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9))
    }

    #[test]
    fn a_link_round_trips_and_stays_short() {
        let sel =
            Selection { pid: Some(3), address: Some(0x2fcc), access: AccessChoice::UserWrite, frame: Some(0xdfbc000) };
        let s = LinkState {
            scenario: story(),
            builtin: None,
            step: 7,
            selection: sel.clone(),
            access_set: true,
            kernel_table: false,
            quiz: None,
            told: None,
        };
        let f = encode(&s);
        // The whole story with its comments, deflated.
        assert!(f.starts_with("lab="));
        assert!(f.len() < 3000, "the story's link is {} characters", f.len());
        let (back, lab) = decode(&format!("#{f}")).unwrap().unwrap();
        assert_eq!(back, s);
        assert_eq!(lab.len(), 9);
        // The same story named as a built-in: a short link.
        let named = LinkState { builtin: Some("story-x86".into()), ..s.clone() };
        let f = encode(&named);
        assert_eq!(f, "b=story-x86&step=7&pid=3&va=2fcc&acc=uw&frame=dfbc000");
        let (back, _) = decode(&f).unwrap().unwrap();
        assert_eq!(back, named);
        // The translate panel on the kernel's own table: table=kernel, read back.
        let kernel = LinkState {
            kernel_table: true,
            access_set: false,
            selection: Selection { access: AccessChoice::UserRead, ..sel.clone() },
            ..named.clone()
        };
        let f = encode(&kernel);
        assert_eq!(f, "b=story-x86&step=7&pid=3&va=2fcc&table=kernel&frame=dfbc000");
        assert_eq!(decode(&f).unwrap().unwrap().0, kernel);
        assert!(decode("b=story-x86&table=pid3").unwrap_err().contains("the link's table `pid3` is not `kernel`"));
        // A built-in the learner changed is no longer named.
        let mut changed = named.clone();
        changed.scenario.ops.push(pagelab_core::lab::Op::Fork { pid: 2 });
        assert!(encode(&changed).starts_with("lab="));
    }

    #[test]
    fn a_builtin_or_a_set_is_named_however_often_the_link_is_worked_out() {
        // The last parse is kept: asking again, or about another scenario or
        // seed in between, must give the same answers as parsing afresh.
        let s = story();
        let mut changed = s.clone();
        changed.ops.push(pagelab_core::lab::Op::Fork { pid: 2 });
        for _ in 0..2 {
            assert!(is_builtin("story-x86", &s));
            assert!(!is_builtin("story-x86", &changed));
            assert!(!is_builtin("story-riscv", &s));
            assert!(!is_builtin("nonesuch", &s));
        }
        let set = |seed| scenario::parse(&sets::set_text("quiz-exec-x86", seed).unwrap()).unwrap();
        let (one, two) = (set(1), set(2));
        assert_ne!(one, two, "two seeds ask about different programs");
        for _ in 0..2 {
            assert!(is_set("quiz-exec-x86", 1, &one));
            assert!(!is_set("quiz-exec-x86", 2, &one));
            assert!(is_set("quiz-exec-x86", 2, &two));
            assert!(!is_set("quiz-exec-riscv", 2, &two));
        }
    }

    #[test]
    fn empty_fragment_is_no_link() {
        assert!(decode("").unwrap().is_none());
        assert!(decode("#").unwrap().is_none());
    }

    #[test]
    fn a_link_that_does_not_open_still_names_its_machine() {
        // story-riscv's preset line is xv6-riscv's; a bad step does not change that.
        assert_eq!(machine_named("#b=story-riscv&step=-3"), Some(Preset::Xv6Riscv));
        assert_eq!(machine_named("b=story-x86&step=99"), Some(Preset::Xv6Public));
        // A scenario that decompresses but does not parse: its preset line.
        assert_eq!(machine_named(&format!("#lab={}", pack("preset riscv-tiny\nfrob 1\n"))), Some(Preset::Xv6RiscvTiny));
        assert_eq!(
            machine_named(&format!("#lab={}&step=9", pack("preset xv6-riscv\nuserinit\nfork 9\n"))),
            Some(Preset::Xv6Riscv)
        );
        // None named: no preset line, damaged data, an unknown name.
        assert_eq!(machine_named(&format!("#lab={}", pack("userinit\n"))), None);
        assert_eq!(machine_named("#lab=***"), None);
        assert_eq!(machine_named("#b=nope"), None);
    }

    #[test]
    fn bad_links_say_what_is_wrong() {
        let err = |f: &str| decode(f).unwrap_err();
        assert!(err("#lab=***").contains("not valid base64url"));
        assert!(err("#lab=aGVsbG8").contains("does not decompress"));
        assert!(err(&format!("#lab={}", pack("userinit\nfrob 1\n"))).contains("line 2, column 1"));
        assert!(err(&format!("#lab={}", pack("userinit\nfork 9\n"))).contains("no process with pid 9"));
        assert!(err(&format!("#lab={}&step=5", pack("userinit\n"))).contains("only 1 step"));
        assert!(err(&format!("#lab={}&step=x", pack("userinit\n"))).contains("step `x` is not a step number"));
        assert!(
            err(&format!("#lab={}&step=-3", pack("userinit\n"))).contains("step `-3` is not a step number (0, 1, 2")
        );
        assert!(err(&format!("#lab={}&acc=zz", pack("userinit\n"))).contains("access"));
        assert!(err(&format!("#lab={}&va=xyz", pack("userinit\n"))).contains("not a hex number"));
        assert!(err(&format!("#lab={}&pid=-1", pack("userinit\n"))).contains("not a pid"));
        assert!(err("#step=1").contains("no lab= part"));
        assert!(err("#b=nope").contains("none by that name"));
        assert!(err(&format!("#b=story-x86&lab={}", pack("userinit\n"))).contains("both"));
        assert!(err("#hello=1").contains("does not know"));
        // A decompression bomb is refused, not expanded.
        let bomb = B64.encode(miniz_oxide::deflate::compress_to_vec(&vec![b'#'; 8 << 20], 9));
        assert!(err(&format!("#lab={bomb}")).contains("too large: its scenario is more than 4 MiB"));
        // 4 MiB of text opens (here a scenario of comments only, which parses).
        let mut big = String::from("userinit\n");
        big.push_str(&"#\n".repeat(((4 << 20) - big.len() - 3) / 2));
        big.push_str("##\n");
        assert_eq!(big.len(), 4 << 20);
        let packed = B64.encode(miniz_oxide::deflate::compress_to_vec(big.as_bytes(), 9));
        let opened = decode(&format!("#lab={packed}"));
        assert!(opened.as_ref().is_ok_and(Option::is_some), "{:?}", opened.err());
    }

    /// Pieces a fragment is made of, for the property tests below: every key
    /// the reader knows (and one it does not), values good and bad.
    #[cfg(not(target_arch = "wasm32"))]
    fn piece() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let key = prop::sample::select(vec![
            "lab", "b", "set", "quiz", "auto", "seed", "who", "qa", "step", "pid", "va", "acc", "frame", "table", "",
            "zz",
        ]);
        let value = prop_oneof![
            prop::sample::select(vec![
                "1",
                "0",
                "9",
                "story-x86",
                "shm-test",
                "tlb-smp-x86",
                "uw",
                "kr",
                "2fcc",
                "-1",
                "ffffffffffffffffff",
                "18446744073709551616",
                "",
            ])
            .prop_map(String::from),
            "[A-Za-z0-9_=%-]{0,24}",
            "\\PC{0,12}",
        ];
        (key, value).prop_map(|(k, v)| if k.is_empty() { v } else { format!("{k}={v}") })
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]

        /// Whatever is put after the `#`, the link opens or says why, and
        /// the lab it opens is at a step it has.
        #[test]
        fn any_fragment_opens_or_says_why(parts in proptest::collection::vec(piece(), 0..6), hash in proptest::bool::ANY) {
            let f = format!("{}{}", if hash { "#" } else { "" }, parts.join("&"));
            match decode(&f) {
                Ok(Some((ls, lab))) => proptest::prop_assert!(ls.step <= lab.len(), "{f}: step {}", ls.step),
                Ok(None) => proptest::prop_assert!(f.trim_start_matches('#').is_empty() || parts.iter().all(String::is_empty)),
                Err(e) => proptest::prop_assert!(!e.is_empty()),
            }
        }

        /// The story's own link with a few of its characters changed (as a
        /// link copied by hand might be) opens or says why.
        #[test]
        fn a_changed_link_opens_or_says_why(
            edits in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), 0u8..64), 1..4),
            keep in proptest::prelude::any::<proptest::sample::Index>(),
            cut in proptest::bool::weighted(0.25),
        ) {
            let s = LinkState {
                scenario: story(),
                builtin: None,
                step: 7,
                selection: Selection::default(),
                access_set: false,
                kernel_table: false,
                quiz: None,
                told: None,
            };
            let good = encode(&s);
            let (head, payload) = good.split_at("lab=".len());
            let mut p: Vec<u8> = payload.bytes().collect();
            const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            for (at, c) in &edits {
                let i = at.index(p.len());
                p[i] = ALPHABET[usize::from(*c)];
            }
            // Sometimes cut short, as a link pasted in part.
            if cut {
                p.truncate(p.len() - keep.index(p.len() / 4 + 1));
            }
            let f = format!("{head}{}", String::from_utf8(p).expect("base64url is ASCII"));
            match decode(&f) {
                Ok(Some((ls, lab))) => proptest::prop_assert!(ls.step <= lab.len()),
                Ok(None) => proptest::prop_assert!(false, "a lab= link is a link"),
                Err(e) => proptest::prop_assert!(!e.is_empty()),
            }
        }

        /// The story with a few characters of its text changed (an operation's
        /// number, a name, a line break), packed as a link: it replays or says why.
        #[test]
        fn a_changed_scenario_in_a_link_replays_or_says_why(
            edits in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), 0u8..24), 1..4),
            step in 0usize..12,
        ) {
            let mut text: Vec<u8> = scenario::builtin("story-x86").unwrap().bytes().collect();
            const CHARS: &[u8] = b"0123456789 \nabcfkx-=#";
            for (at, c) in &edits {
                let i = at.index(text.len());
                text[i] = CHARS[usize::from(*c) % CHARS.len()];
            }
            let f = format!("lab={}&step={step}", pack(&String::from_utf8(text).expect("ASCII")));
            match decode(&f) {
                Ok(Some((ls, lab))) => proptest::prop_assert!(ls.step == step && step <= lab.len()),
                Ok(None) => proptest::prop_assert!(false, "a lab= link is a link"),
                Err(e) => proptest::prop_assert!(!e.is_empty()),
            }
        }
    }

    #[test]
    fn a_riscv_link_keeps_its_preset() {
        let mut s = Scenario::new(Preset::Xv6RiscvTiny, pagelab_core::shm::ShmMode::Lab);
        s.ops.push(pagelab_core::lab::Op::Userinit);
        let l = LinkState {
            scenario: s.clone(),
            builtin: None,
            step: 1,
            selection: Selection::default(),
            access_set: false,
            kernel_table: false,
            quiz: None,
            told: None,
        };
        let (back, _) = decode(&encode(&l)).unwrap().unwrap();
        assert_eq!(back.scenario, s);
    }
}
