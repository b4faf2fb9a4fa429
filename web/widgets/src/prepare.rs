//! The work before a widget is drawn: read its attributes, replay its
//! scenario, pick its process, read its address. Everything that can go
//! wrong goes wrong here, as a [`Problem`] the widget shows instead.

use std::collections::BTreeMap;

use pagelab_core::lab::{Op, Preset, Scenario, scenario};
use pagelab_core::scheme::SchemeKind;
use pagelab_core::shm::ShmMode;
use pagelab_web::input;
use pagelab_web::machines::Machines;
use pagelab_web::select::AccessChoice;
use pagelab_web::state::LabState;

use pagelab_core::lab::quiz::{self, sets};
use pagelab_web::quiz::{QuizRun, Source as QuizSource};

use crate::options::{self, Config, ExecCfg, Kind, MAX_WIDGET_OPS, QuizCfg, QuizFrom, Source, WalkAt, short};
use crate::source::{self, AtStep, Problem};

/// A machine to walk in, with the process and access chosen.
#[derive(Clone, Debug)]
pub struct WalkIn {
    /// The scenario at its step.
    pub at: AtStep,
    /// Whose page table (None: the kernel's).
    pub pid: Option<u32>,
    /// The access checked.
    pub access: AccessChoice,
}

/// Everything a widget draws, worked out.
#[derive(Clone, Debug)]
pub enum Prepared {
    /// `<pagelab-translate>`.
    Translate {
        /// The scheme.
        scheme: SchemeKind,
        /// The first address, as written (it reads correctly).
        address: String,
        /// Where to walk it, if anywhere.
        walk: Option<WalkIn>,
        /// No field to type another address.
        fixed: bool,
    },
    /// `<pagelab-exec>`.
    Exec {
        /// The settings.
        cfg: ExecCfg,
        /// The machine just after the exec (pid 3 runs the program).
        at: AtStep,
    },
    /// `<pagelab-walk>`.
    Walk {
        /// Where.
        walk: WalkIn,
        /// The address.
        va: u64,
    },
    /// `<pagelab-frames>`.
    Frames(AtStep),
    /// `<pagelab-shm>`.
    Shm(AtStep),
    /// `<pagelab-tlb>`.
    Tlb(AtStep),
    /// `<pagelab-lab>`.
    Lab(Box<LabState>),
    /// `<pagelab-quiz>`.
    Quiz(Box<QuizPrepared>),
    /// `<pagelab-run>`.
    Run(Box<RunPrepared>),
}

/// A `<pagelab-run>`'s run, done: the line sh ran, and what it made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunPrepared {
    /// The machine.
    pub preset: Preset,
    /// The line typed at sh.
    pub line: String,
    /// The whole console, from init's first line to sh's next prompt.
    pub console: String,
    /// What the command printed (the console between the line and the next prompt).
    pub output: String,
    /// The process operations the command made, as a scenario writes them.
    pub ops: Vec<String>,
    /// Faults that killed a process, in words.
    pub faults: Vec<String>,
    /// Counts of the command's run (user instructions, system calls, TLB work).
    pub counts: pagelab_core::riscv::run::RunCounts,
    /// Free frames at the prompt before the command, and after it.
    pub nfree: (u64, u64),
    /// Why the run stopped, in words.
    pub stop: String,
}

/// Boot `preset`, run init to sh's prompt, type `line`, and run until
/// every process waits again.
///
/// # Errors
/// The machine does not boot, or the line is refused.
pub fn run_line(preset: Preset, line: &str) -> Result<RunPrepared, Problem> {
    use pagelab_web::run::{RunCommand, RunSession};
    let mut s = RunSession::boot(preset).map_err(Problem::plain)?;
    s.command(&RunCommand::Run).map_err(Problem::plain)?;
    let before = s.view();
    let ops_before = s.new_ops().len();
    s.command(&RunCommand::Type(line.to_string())).map_err(Problem::plain)?;
    let after = s.view();
    let typed = format!("{line}\n");
    let rest = after.console.get(before.console.len()..).unwrap_or_default();
    let output = rest.strip_prefix(typed.as_str()).unwrap_or(rest);
    let output = output.strip_suffix("$ ").unwrap_or(output).to_string();
    Ok(RunPrepared {
        preset,
        line: line.to_string(),
        console: after.console.clone(),
        output,
        ops: s.new_ops().iter().skip(ops_before).map(scenario::print_op).collect(),
        faults: after.faults.clone(),
        counts: after.counts.since(before.counts),
        nfree: (before.nfree, after.nfree),
        stop: s.stop_words(&RunCommand::Run).unwrap_or_default(),
    })
}

/// A quiz widget's questions, made.
#[derive(Clone, Debug)]
pub struct QuizPrepared {
    /// The questions shown (a run over them keeps the attempts).
    pub run: QuizRun,
    /// What they are about, for the caption (`the exercise set quiz-story-x86`).
    pub label: String,
    /// The machine.
    pub preset: String,
    /// The scenario's operations, to say which step each question is asked before.
    pub ops: Vec<String>,
}

/// Make the questions of a quiz's settings, and keep those `pick` chooses.
///
/// # Errors
/// The set or scenario cannot be asked, or the choice picks nothing.
pub fn quiz_questions(q: &QuizCfg) -> Result<QuizPrepared, Problem> {
    let (text, label) = match &q.from {
        QuizFrom::Set(name) => (sets::set_text(name, q.seed).unwrap_or_default(), format!("the exercise set {name}")),
        QuizFrom::Scenario(src) => (src.text.clone(), src.label.clone()),
    };
    let mut sc = source::parse(&text, &label, MAX_WIDGET_OPS)?;
    let auto = sc.asks.is_empty();
    if auto {
        for (i, op) in sc.ops.iter().enumerate() {
            let a = quiz::auto_asks(op);
            if !a.is_empty() {
                sc.asks.insert(i, a);
            }
        }
    }
    let built = if auto { quiz::build_lenient(&sc, q.seed) } else { quiz::build(&sc, q.seed) }
        .map_err(|e| Problem::plain(format!("{label}: {e}")))?;
    let total = built.questions.len();
    if let Some(n) = q.pick.numbers.iter().find(|&&n| n > total) {
        return Err(Problem::plain(format!(
            "questions= asks for question {n}, but {label} has {}",
            if total == 1 { String::from("1 question") } else { format!("{total} questions") }
        )));
    }
    let shown: Vec<_> = built
        .questions
        .into_iter()
        .filter(|x| {
            q.pick.all() || q.pick.numbers.contains(&x.number) || q.pick.kinds.iter().any(|k| k == x.ask.kind())
        })
        .collect();
    if shown.is_empty() {
        return Err(Problem::plain(format!("{label} has no question of the kinds questions= names")));
    }
    let source = match &q.from {
        QuizFrom::Set(name) => QuizSource::Builtin(name.clone()),
        QuizFrom::Scenario(_) if auto => QuizSource::Auto,
        QuizFrom::Scenario(_) => QuizSource::Asks,
    };
    let ops = sc.ops.iter().map(scenario::print_op).collect();
    Ok(QuizPrepared {
        run: QuizRun::of_questions(shown, source, q.seed, q.student.clone()),
        label,
        preset: sc.preset.name().to_string(),
        ops,
    })
}

/// The operations before the exec widget's exec: the notes' story up to a
/// child of the shell, pid 3 (init, the shell, a fork).
pub const EXEC_PREFIX: &str = "userinit\nexec 1 /init\nfork 1\nexecv 2 sh sh\nfork 2\n";

/// The pid that runs the exec widget's program.
pub const EXEC_PID: u32 = 3;

fn walk_in(w: &WalkAt) -> Result<WalkIn, Problem> {
    let at = source::at_step(&w.source, w.step)?;
    let pid = source::pick_pid(&at, w.pid)?;
    Ok(WalkIn { at, pid, access: w.access })
}

/// Prepare a widget of `kind` from its attributes and inline text.
///
/// # Errors
/// The first mistake, in plain words.
pub fn prepare(kind: Kind, attrs: &BTreeMap<String, String>, inline: Option<&str>) -> Result<Prepared, Problem> {
    let cfg = options::parse(kind, attrs, inline).map_err(Problem::plain)?;
    let tag = kind.tag();
    Ok(match cfg {
        Config::Translate(t) => {
            let walk = t.walk.as_ref().map(walk_in).transpose()?;
            let machine_scheme = walk.as_ref().map(|w| w.at.lab.kernel().info().scheme);
            let scheme = match (t.scheme, machine_scheme) {
                (Some(a), Some(b)) if a != b => {
                    return Err(Problem::plain(format!(
                        "<{tag}> has scheme=\"{}\", but {} runs on {}: remove scheme= (it follows the machine)",
                        a.name(),
                        walk.as_ref().map_or("the scenario", |w| w.at.label.as_str()),
                        b.name()
                    )));
                }
                (a, b) => b.or(a).unwrap_or(SchemeKind::X86),
            };
            input::parse_address(&t.address, scheme)
                .map_err(|e| Problem::plain(format!("address=\"{}\": {e}", short(&t.address, 40))))?;
            Prepared::Translate { scheme, address: t.address.trim().to_string(), walk, fixed: t.fixed }
        }
        Config::Exec(e) => {
            let mut sc = scenario::parse(EXEC_PREFIX).map_err(|e| Problem::plain(e.to_string()))?;
            sc = Scenario { preset: e.preset, shm: ShmMode::Lab, ..sc };
            sc.ops.push(Op::Exec { pid: EXEC_PID, path: e.program.clone(), argv: e.argv.clone() });
            let text = scenario::print(&sc);
            let src = Source { text, label: format!("exec on {}", e.preset.name()) };
            let at = source::at_step(&src, None)?;
            if let Some(err) = at.lab.steps().last().and_then(|s| s.result.error.as_ref()) {
                return Err(Problem::plain(format!(
                    "program=\"{}\" args=\"{}\": {err}",
                    short(&e.program, 30),
                    short(&e.args_text, 40)
                )));
            }
            Prepared::Exec { cfg: e, at }
        }
        Config::Walk(w) => {
            let walk = walk_in(&w.at)?;
            let scheme = walk.at.lab.kernel().info().scheme;
            let va = input::parse_address(&w.address, scheme)
                .map_err(|e| Problem::plain(format!("address=\"{}\": {e}", short(&w.address, 40))))?;
            Prepared::Walk { walk, va }
        }
        Config::Frames(s) => Prepared::Frames(source::at_step(&s.source, s.step)?),
        Config::Shm(s) => Prepared::Shm(source::at_step(&s.source, s.step)?),
        Config::Tlb(s) => Prepared::Tlb(source::at_step(&s.source, s.step)?),
        Config::Lab(s) => {
            let sc = source::parse(&s.source.text, &s.source.label, MAX_WIDGET_OPS)?;
            let n = sc.ops.len();
            if let Some(k) = s.step.filter(|&k| k > n) {
                return Err(Problem::plain(format!(
                    "step={k} is past the end: {} has {n} operations, so its steps are 0 to {n}",
                    s.source.label
                )));
            }
            let machines = Machines::replay(&sc).map_err(|e| match e.index {
                Some(index) => {
                    let line = source::line_of_op(&s.source.text, index);
                    Problem {
                        message: format!(
                            "{}: operation {}{} was refused: {}",
                            s.source.label,
                            index + 1,
                            line.map_or_else(String::new, |l| format!(" (line {l})")),
                            e.reject
                        ),
                        line,
                        column: line.map(|_| 1),
                    }
                }
                None => Problem::plain(format!("{}: {e}", s.source.label)),
            })?;
            let mut state = LabState::embedded(machines);
            if let Some(k) = s.step {
                state = state.reduce_with(pagelab_web::state::Action::Goto(k));
            }
            Prepared::Lab(Box::new(state))
        }
        Config::Quiz(q) => Prepared::Quiz(Box::new(quiz_questions(&q)?)),
        Config::Run(r) => Prepared::Run(Box::new(run_line(r.preset, &r.line)?)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pagelab_core::lab::view::stack_words;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn exec_builds_the_stack_of_echo_hello_world() {
        let p =
            prepare(Kind::Exec, &attrs(&[("program", "echo"), ("args", "hello world"), ("machine", "x86-tiny")]), None)
                .unwrap();
        let Prepared::Exec { at, .. } = p else { panic!() };
        // From core/tests/exec.rs: sp = 0x2fcc (fake return PC), argc 3 at 0x2fd0, argv at 0x2fd8.
        let w: Vec<(u64, u64)> =
            stack_words(at.lab.kernel(), EXEC_PID).iter().map(|w| (w.va, w.value)).take(3).collect();
        assert_eq!(w, vec![(0x2fcc, 0xffff_ffff), (0x2fd0, 3), (0x2fd4, 0x2fd8)]);
    }

    #[test]
    fn a_failed_exec_is_the_widgets_message() {
        let e = prepare(Kind::Exec, &attrs(&[("program", "nosuch")]), None).unwrap_err();
        assert_eq!(e.message, "program=\"nosuch\" args=\"\": exec failed: there is no file \"nosuch\"");
        let e = prepare(Kind::Exec, &attrs(&[("args", &"a ".repeat(40))]), None).unwrap_err();
        assert!(e.message.contains("at most 31"), "{}", e.message);
    }

    #[test]
    fn translate_follows_the_machine_and_checks_its_address() {
        let p = prepare(Kind::Translate, &attrs(&[("scenario", "story-riscv"), ("address", "0x1000")]), None).unwrap();
        let Prepared::Translate { scheme, walk, .. } = p else { panic!() };
        assert_eq!(scheme, SchemeKind::Sv39);
        // After `wait 2` only pids 1 and 2 are left: wait was pid 2's call.
        assert_eq!(walk.map(|w| w.pid), Some(Some(2)));
        let e = prepare(Kind::Translate, &attrs(&[("scenario", "story-riscv"), ("scheme", "x86")]), None).unwrap_err();
        assert!(e.message.contains("runs on sv39"), "{}", e.message);
        let e = prepare(Kind::Translate, &attrs(&[("address", "0xnope")]), None).unwrap_err();
        assert_eq!(
            e.message,
            "address=\"0xnope\": hex address: `n` is not a hex digit (0-9, a-f). Write decimal numbers with # in front, like #4096"
        );
    }

    #[test]
    fn walk_and_lab() {
        let p = prepare(
            Kind::Walk,
            &attrs(&[("scenario", "story-x86"), ("step", "7"), ("pid", "3"), ("address", "0x2fcc")]),
            None,
        )
        .unwrap();
        let Prepared::Walk { walk, va } = p else { panic!() };
        assert_eq!((walk.pid, va, walk.at.step), (Some(3), 0x2fcc, 7));
        let p = prepare(Kind::Lab, &attrs(&[("step", "1")]), Some("preset x86-tiny\nuserinit\nfork 1\n")).unwrap();
        let Prepared::Lab(s) = p else { panic!() };
        assert_eq!((s.current(), s.len()), (1, 2));
        let e = prepare(Kind::Lab, &attrs(&[]), Some("preset x86-tiny\nuserinit\n\nexit 1\n")).unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("operation 2 (line 4) was refused"), "{}", e.message);
        let e = prepare(Kind::Lab, &attrs(&[("step", "5")]), Some("userinit\n")).unwrap_err();
        assert!(e.message.contains("past the end"));
    }
}
