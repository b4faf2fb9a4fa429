//! Machines for the widgets: a scenario read, checked and replayed up to a
//! step. Several widgets on a page often show the same scenario, so the
//! machines made are kept (a few, most recently used first) and shared.

use std::cell::RefCell;

use pagelab_core::lab::scenario::{self, print_op};
use pagelab_core::lab::{Lab, Op, Scenario};
use pagelab_web::state::SharedLab;

use crate::options::{MAX_WIDGET_OPS, PidChoice, Source, short};

/// A mistake in what a page author gave: plain words, and where in a
/// scenario's text when it is in one (line and column from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong.
    pub message: String,
    /// The scenario line, if the mistake is in a scenario.
    pub line: Option<u32>,
    /// The column in that line.
    pub column: Option<u32>,
}

impl Problem {
    /// A problem that is not in a scenario's text.
    #[must_use]
    pub fn plain(message: impl Into<String>) -> Problem {
        Problem { message: message.into(), line: None, column: None }
    }
}

impl From<String> for Problem {
    fn from(message: String) -> Problem {
        Problem::plain(message)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A scenario replayed up to a step.
#[derive(Clone, Debug)]
pub struct AtStep {
    /// The scenario (all of it).
    pub scenario: Scenario,
    /// The machine after the first `step` operations (it holds their records).
    pub lab: SharedLab,
    /// The step shown.
    pub step: usize,
    /// How it is named in messages.
    pub label: String,
}

impl AtStep {
    /// Steps in the scenario.
    #[must_use]
    pub fn len(&self) -> usize {
        self.scenario.ops.len()
    }

    /// True when the scenario has no operations.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.scenario.ops.is_empty()
    }
}

/// Read a scenario's text, with at most `max_ops` operations.
///
/// # Errors
/// The first mistake, with its line and column.
pub fn parse(text: &str, label: &str, max_ops: usize) -> Result<Scenario, Problem> {
    let sc = scenario::parse(text).map_err(|e| Problem {
        message: format!("{label} has a mistake on line {}, column {}: {}", e.line, e.col, e.message),
        line: Some(e.line),
        column: Some(e.col),
    })?;
    if sc.ops.len() > max_ops {
        return Err(Problem::plain(format!(
            "{label} has {} operations; a widget or pagelab.run takes at most {max_ops}",
            sc.ops.len()
        )));
    }
    Ok(sc)
}

/// The line (from 1) of operation `index` (from 0) in a scenario's text.
#[must_use]
pub fn line_of_op(text: &str, index: usize) -> Option<u32> {
    let mut seen = 0;
    for (i, line) in text.split('\n').enumerate() {
        let ops = scenario::parse(line).map(|s| s.ops.len()).unwrap_or(0);
        if ops > 0 {
            if seen == index {
                return u32::try_from(i + 1).ok();
            }
            seen += ops;
        }
    }
    None
}

/// Boot `sc`'s machine and run all its operations, keeping a copy of the
/// machine after the first `step` of them.
///
/// # Errors
/// The first operation refused, with its line in `text`.
pub fn replay_at(sc: &Scenario, step: usize, text: &str, label: &str) -> Result<Lab, Problem> {
    let mut lab = Lab::with_layout(sc.preset, sc.layout.clone(), sc.shm)
        .map_err(|e| Problem::plain(format!("{label}: its preset line cannot be used: {e}")))?;
    let mut at = None;
    // A widget or the JS API: no more work than a page may ask for.
    let mut budget = pagelab_core::lab::Budget::page();
    // The operation of the step shown keeps all its events (its summary and marks count every page).
    let shown = step.min(sc.ops.len()).checked_sub(1);
    for (index, op) in sc.ops.iter().enumerate() {
        if index == step {
            at = Some(lab.clone());
        }
        if let Err(reject) = lab.apply_within(op.clone(), &mut budget, Some(index) == shown) {
            let line = line_of_op(text, index);
            let place = line.map_or_else(String::new, |l| format!(" (line {l})"));
            return Err(Problem {
                message: format!(
                    "{label}: operation {} `{}`{place} was refused: {reject}",
                    index + 1,
                    short(&print_op(op), 60)
                ),
                line,
                column: line.map(|_| 1),
            });
        }
    }
    Ok(at.unwrap_or(lab))
}

/// Machines kept: (scenario text, step) → the replay.
const KEEP: usize = 8;

thread_local! {
    static KEPT: RefCell<Vec<(String, usize, AtStep)>> = const { RefCell::new(Vec::new()) };
}

/// The scenario of `source` replayed to `step` (None: the last step),
/// taken from the machines kept when another widget made it already.
///
/// # Errors
/// A mistake in the scenario, a refused operation, or a step past the end.
pub fn at_step(source: &Source, step: Option<usize>) -> Result<AtStep, Problem> {
    let sc = parse(&source.text, &source.label, MAX_WIDGET_OPS)?;
    let n = sc.ops.len();
    let step = step.unwrap_or(n);
    if step > n {
        let ops = if n == 1 { "operation" } else { "operations" };
        return Err(Problem::plain(format!(
            "step={step} is past the end: {} has {n} {ops}, so its steps are 0 to {n}",
            source.label
        )));
    }
    let kept = KEPT.with(|k| {
        let mut k = k.borrow_mut();
        let i = k.iter().position(|(t, s, _)| *t == source.text && *s == step)?;
        let e = k.remove(i);
        let found = e.2.clone();
        k.push(e);
        Some(found)
    });
    if let Some(mut a) = kept {
        a.label.clone_from(&source.label);
        return Ok(a);
    }
    let lab = replay_at(&sc, step, &source.text, &source.label)?;
    let a = AtStep { scenario: sc, lab: SharedLab::new(lab), step, label: source.label.clone() };
    KEPT.with(|k| {
        let mut k = k.borrow_mut();
        if k.len() >= KEEP {
            k.remove(0);
        }
        k.push((source.text.clone(), step, a.clone()));
    });
    Ok(a)
}

/// The process whose page table to use at this step.
///
/// # Errors
/// The pid asked for is not a live process there, or there is none at all.
pub fn pick_pid(at: &AtStep, choice: PidChoice) -> Result<Option<u32>, Problem> {
    let procs = at.lab.kernel().procs();
    let live: Vec<u32> = procs.live().map(|p| p.pid).collect();
    let listed = live.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    match choice {
        PidChoice::Kernel => Ok(None),
        PidChoice::Pid(p) if procs.get(p).is_some() => Ok(Some(p)),
        PidChoice::Pid(p) => Err(Problem::plain(if live.is_empty() {
            format!("there is no process with pid {p} at step {} of {}: there are no processes yet", at.step, at.label)
        } else {
            format!(
                "there is no process with pid {p} at step {} of {}; the processes there are {listed}",
                at.step, at.label
            )
        })),
        PidChoice::Auto => {
            let last = at.scenario.ops[..at.step].iter().rev().find_map(Op::pid).filter(|p| procs.get(*p).is_some());
            last.or_else(|| live.iter().copied().max()).map(Some).ok_or_else(|| {
                Problem::plain(format!(
                    "there are no processes at step {} of {} (run userinit first), so there is no page table but the kernel's: use pid=\"kernel\"",
                    at.step, at.label
                ))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_operations_skip_comments_and_headers() {
        let text = "# a comment\npreset xv6-public-tiny\n\nuserinit\n  fork 1 # the child\nfork 9\n";
        assert_eq!(line_of_op(text, 0), Some(4));
        assert_eq!(line_of_op(text, 1), Some(5));
        assert_eq!(line_of_op(text, 2), Some(6));
        assert_eq!(line_of_op(text, 3), None);
    }

    #[test]
    fn a_refused_operation_names_its_line() {
        let src =
            Source::inline("preset xv6-public-tiny\nuserinit\n\nfork 9\n", "the scenario inside the element").unwrap();
        let e = at_step(&src, None).unwrap_err();
        assert_eq!(
            e.message,
            "the scenario inside the element: operation 2 `fork 9` (line 4) was refused: there is no process with pid 9"
        );
        assert_eq!((e.line, e.column), (Some(4), Some(1)));
    }

    #[test]
    fn a_mistake_in_the_text_has_line_and_column() {
        let src = Source::inline("userinit\n  frob 1\n", "the scenario inside the element").unwrap();
        let e = at_step(&src, None).unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(3)));
        assert!(e.message.starts_with(
            "the scenario inside the element has a mistake on line 2, column 3: unknown operation `frob`"
        ));
    }

    #[test]
    fn steps_past_the_end_and_pids_that_are_not_there() {
        let src = Source::builtin("story-x86").unwrap();
        let e = at_step(&src, Some(10)).unwrap_err();
        assert_eq!(
            e.message,
            "step=10 is past the end: the built-in scenario story-x86 has 9 operations, so its steps are 0 to 9"
        );
        let at = at_step(&src, Some(7)).unwrap();
        // After `exec 3 echo hello world` (step 7): pids 1, 2, 3; the last operation was pid 3's.
        assert_eq!(pick_pid(&at, PidChoice::Auto), Ok(Some(3)));
        assert_eq!(pick_pid(&at, PidChoice::Kernel), Ok(None));
        let e = pick_pid(&at, PidChoice::Pid(9)).unwrap_err();
        assert!(e.message.ends_with("the processes there are 1, 2, 3"), "{}", e.message);
        let boot = at_step(&src, Some(0)).unwrap();
        assert!(pick_pid(&boot, PidChoice::Auto).unwrap_err().message.contains("use pid=\"kernel\""));
        // The same replay is shared: the second ask is the same machine.
        let again = at_step(&src, Some(7)).unwrap();
        assert!(again.lab == at.lab);
        assert_eq!(again.lab.steps().len(), 7);
    }
}
