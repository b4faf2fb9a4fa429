use pagelab_core::lab::quiz::{Form, Question, sets};
use pagelab_core::lab::scenario::print_op;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::InlineNotice;
use super::story::inline;
use crate::dom;
use crate::hooks::use_lab;
use crate::quiz::{QuizRun, Status, set_name};
use crate::state::{Action, LabState, Where};

/// The words for a settled attempt: never colour alone.
fn status_words(s: Status) -> &'static str {
    match s {
        Status::Right => "✓ Right",
        Status::Wrong => "✗ Wrong",
        Status::GaveUp => "Given up",
        Status::Open => "Not answered yet",
    }
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Right => "right",
        Status::Wrong => "wrong",
        Status::GaveUp => "gaveup",
        Status::Open => "open",
    }
}

/// The labels of the inputs an answer takes (one input when empty).
fn inputs_of(form: &Form) -> Vec<String> {
    match form {
        Form::Fields { names } => names.clone(),
        Form::Pages => vec![
            "User pages allocated".into(),
            "User pages freed".into(),
            "Page-table pages allocated".into(),
            "Page-table pages freed".into(),
        ],
        _ => Vec::new(),
    }
}

/// The answer box an error about the open question is about: the box whose
/// label the message names before a colon (`page-table pages allocated:
/// \`abc\` is not a number`), if any.
fn box_named(message: &str, labels: &[String]) -> Option<usize> {
    // ASCII case only: the labels are ASCII, and Unicode's case tables would
    // add 9 KiB of gzip to the page.
    let m = message.to_ascii_lowercase();
    labels.iter().position(|l| m.contains(&format!("{}:", l.to_ascii_lowercase())))
}

/// Props of [`QuestionForm`].
#[derive(Properties, PartialEq)]
struct QuestionProps {
    /// The question's index.
    index: usize,
    /// The question.
    question: Question,
    /// Hints shown so far.
    hints: usize,
    /// The step the question is asked before (from 1), and its operation.
    before: String,
    /// Its position: "Question 3 of 24".
    position: String,
    /// The box the last error was about, marked invalid.
    bad: Option<usize>,
}

/// One open question: the prompt, the answer's inputs, Check, Hint and Give up.
#[component]
fn QuestionForm(props: &QuestionProps) -> Html {
    let lab = use_lab();
    let q = &props.question;
    let labels = inputs_of(&q.form);
    let yes_no = matches!(q.form, Form::YesNo);
    let refs: Vec<NodeRef> =
        use_memo(labels.len().max(1), |n| (0..*n).map(|_| NodeRef::default()).collect::<Vec<_>>()).to_vec();
    let i = props.index;
    let onsubmit = {
        let lab = lab.clone();
        let refs = refs.clone();
        let labels = labels.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let parts: Vec<String> =
                refs.iter().filter_map(|r| r.cast::<HtmlInputElement>()).map(|el| el.value()).collect();
            let text = if parts.len() > 1 {
                // Each field's value, so an empty one is missed rather than shifting the rest.
                if let Some(k) = parts.iter().position(|p| p.trim().is_empty()) {
                    lab.dispatch(Action::Fail(Where::Quiz, crate::quiz::empty_box(&labels, k)));
                    // Focus goes to the empty box, to fill it in.
                    if let Some(el) = refs[k].cast::<web_sys::HtmlElement>() {
                        let _ = el.focus();
                    }
                    return;
                }
                parts.join(" ")
            } else {
                parts.into_iter().next().unwrap_or_default()
            };
            dom::want_quiz_focus();
            lab.dispatch(Action::Answer { question: i, text, now_ms: dom::now_ms() });
        })
    };
    let answer_yes_no = |yes: bool| {
        let lab = lab.clone();
        Callback::from(move |_| {
            let text = if yes { "yes" } else { "no" };
            dom::want_quiz_focus();
            lab.dispatch(Action::Answer { question: i, text: text.into(), now_ms: dom::now_ms() });
        })
    };
    let hint = {
        let lab = lab.clone();
        let last = props.hints + 1 >= q.hints.len();
        Callback::from(move |_| {
            lab.dispatch(Action::Hint(i));
            if last {
                // The hint button is about to be disabled: the answer box takes the focus.
                focus_answer();
            }
        })
    };
    let give_up = {
        let lab = lab.clone();
        Callback::from(move |_| {
            dom::want_quiz_focus();
            lab.dispatch(Action::GiveUp { question: i, now_ms: dom::now_ms() });
        })
    };
    let more_hints = props.hints < q.hints.len();
    // When the learner answered the question before with the keyboard, the
    // next one's first box takes the focus.
    use_effect_with(i, |_| {
        if dom::take_quiz_focus() {
            focus_answer();
        }
    });
    html! {
        <div class="question" id="question" data-question={q.number.to_string()} data-kind={q.ask.kind()}>
            <p class="qpos" id="q-pos">{ format!("{} — before {}", props.position, props.before) }</p>
            <p class="prompt" id="q-prompt">{ inline(&q.prompt) }</p>
            <form id="answer-form" onsubmit={onsubmit} aria-describedby="q-how" novalidate=true>
                if yes_no {
                    <div class="yesno" role="group" aria-labelledby="q-prompt">
                        <button type="button" id="answer-yes" onclick={answer_yes_no(true)}>{ "Yes" }</button>
                        <button type="button" id="answer-no" onclick={answer_yes_no(false)}>{ "No" }</button>
                    </div>
                } else if labels.is_empty() {
                    <label for="answer" class="alabel">{ "Your answer" }</label>
                    <input id="answer" ref={refs[0].clone()} type="text" autocomplete="off" spellcheck="false"
                        aria-describedby="q-prompt q-how quiz-notice" />
                } else {
                    <div class="answer-boxes" role="group" aria-labelledby="q-prompt">
                        for (k, l) in labels.iter().enumerate() {
                            <span class="abox">
                                <label for={format!("answer-{k}")}>{ l.clone() }</label>
                                <input id={format!("answer-{k}")} ref={refs[k].clone()} type="text" autocomplete="off"
                                    aria-invalid={(props.bad == Some(k)).then_some("true")}
                                    spellcheck="false" size="8" aria-describedby={if k == 0 { "q-prompt q-how quiz-notice" } else { "q-how quiz-notice" }} />
                            </span>
                        }
                    </div>
                }
                <p class="help" id="q-how">{ q.how.clone() }</p>
                <div class="qbtns">
                    if !yes_no {
                        <button type="submit" id="answer-check">{ "Check" }</button>
                    }
                    <button type="button" id="answer-hint" onclick={hint} disabled={!more_hints}>
                        { if more_hints { format!("Hint ({} of {})", props.hints + 1, q.hints.len()) } else { "No more hints".to_string() } }
                    </button>
                    <button type="button" id="answer-giveup" onclick={give_up}>{ "Give up and show the answer" }</button>
                </div>
            </form>
            // Always there while the question is open, so a screen reader announces each new hint.
            <ol class="hints" id="hints" aria-label="Hints" aria-live="polite">
                for h in q.hints.iter().take(props.hints) {
                    <li>{ h.clone() }</li>
                }
            </ol>
        </div>
    }
}

/// A settled question: the answer given, and the verdict with its reason.
fn settled(run: &QuizRun, i: usize) -> Html {
    let q = &run.questions[i];
    let a = &run.attempts[i];
    html! {
        <li class={classes!("verdict", status_class(a.status))} id={format!("verdict-{}", q.number)}>
            <p class="vhead">
                <span class="vtag">{ status_words(a.status) }</span>
                { format!(" Question {}: ", q.number) }{ inline(&q.prompt) }
            </p>
            if !a.answer.is_empty() {
                <p class="vgiven">{ "You answered " }<code>{ a.answer.clone() }</code>
                    if a.hints > 0 { { format!(" (with {} hint{})", a.hints, if a.hints == 1 { "" } else { "s" }) } }
                </p>
            }
            <p class="vmsg">{ inline(&a.message) }</p>
        </li>
    }
}

/// The form that loads a built-in exercise set, for a seed or a student id.
fn set_form(lab: &UseReducerHandle<LabState>) -> Html {
    // The first set on this lab's machine is chosen to begin with.
    let riscv = lab.full().scenario().preset.port() == pagelab_core::sys::Port::Xv6Riscv;
    let first = if riscv { "quiz-story-riscv" } else { "quiz-story-x86" };
    let set_ref = NodeRef::default();
    let seed_ref = NodeRef::default();
    let student_ref = NodeRef::default();
    let start = {
        let lab = lab.clone();
        let (set_ref, seed_ref, student_ref) = (set_ref.clone(), seed_ref.clone(), student_ref.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let val = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let name = set_ref.cast::<web_sys::HtmlSelectElement>().map(|s| s.value()).unwrap_or_default();
            // The set's first question takes the focus.
            dom::want_quiz_focus();
            lab.dispatch(Action::StartSet {
                name,
                seed: val(&seed_ref),
                student: val(&student_ref),
                now_ms: dom::now_ms(),
            });
        })
    };
    html! {
        <details class="sets" id="sets">
            <summary>{ "An exercise set instead" }</summary>
            <form class="setform" id="set-form" onsubmit={start}>
                <label for="set-pick">{ "Set" }</label>
                <select id="set-pick" ref={set_ref} aria-describedby="set-help">
                    for (n, about) in sets::SETS.iter() {
                        <option value={*n} title={*about} selected={*n == first}>{ *n }</option>
                    }
                </select>
                <label for="set-seed">{ "Seed" }</label>
                <input id="set-seed" ref={seed_ref} type="text" inputmode="numeric" size="8" placeholder="0" autocomplete="off" />
                <label for="set-student">{ "or student id" }</label>
                <input id="set-student" ref={student_ref} type="text" size="10" autocomplete="off" />
                <button type="submit" id="set-start">{ "Start the set" }</button>
            </form>
            <ul class="help" id="set-help">
                for (n, about) in sets::SETS {
                    <li><code>{ n }</code>{ ": " }{ about }</li>
                }
            </ul>
            <p class="help">{ "The same seed (or student id) always gives the same questions: share a link or a seed, and everyone gets the same exercise." }</p>
        </details>
    }
}

/// Predict mode: the question before the next step, the verdicts, the score
/// and the attempt log to download.
#[component]
pub fn QuizPanel() -> Html {
    let lab = use_lab();
    let cur = lab.current();
    let open_now = lab.open_question();
    // After the last question of a step, the button that shows the step takes
    // the focus; when predict mode was just turned on, the panel's heading.
    let on = lab.quiz.is_some();
    // Questions added for an operation the learner ran (whose panel may now be hidden): the first takes the focus.
    let asked = lab.quiz.as_ref().map_or(0, |q| q.questions.len());
    let before_asked = use_mut_ref(|| None::<usize>);
    if on && before_asked.borrow().is_some_and(|b| asked > b) {
        dom::want_quiz_focus();
    }
    *before_asked.borrow_mut() = on.then_some(asked);
    // An answer that did not read: the box it names, if it has several.
    let bad = match (&lab.notice, open_now, &lab.quiz) {
        (Some(n), Some(i), Some(run)) if n.is_error() && n.at == Where::Quiz => {
            run.questions.get(i).and_then(|q| box_named(&n.text, &inputs_of(&q.form)))
        }
        _ => None,
    };
    use_effect_with((open_now, cur, lab.version, on, bad), move |(open, _, _, on, bad)| {
        if *on && dom::take_quiz_focus() {
            if let Some(k) = bad {
                // The box the answer could not be read from, to mend.
                dom::focus(&format!("answer-{k}"));
            } else if open.is_some() {
                // A question the form did not take the focus for (a set started
                // over one whose question had the same place).
                focus_answer();
            } else {
                dom::focus("quiz-h");
                dom::focus("q-reveal");
            }
        }
    });
    // A step kept back until its question is answered: the answer box takes the focus.
    let blocked = lab.predict_blocked;
    let seen_blocked = use_mut_ref(|| blocked);
    use_effect_with(blocked, move |&b| {
        if std::mem::replace(&mut *seen_blocked.borrow_mut(), b) != b {
            focus_answer();
        }
    });
    let body = match &lab.quiz {
        None => return html! {},
        Some(run) => {
            let sc = run.score();
            let preset = lab.full().scenario().preset.name().to_string();
            let off = {
                let lab = lab.clone();
                Callback::from(move |_| {
                    lab.dispatch(Action::Predict { on: false, now_ms: dom::now_ms() });
                    // The panel goes with this button: the step bar's Predict button takes the focus.
                    dom::focus_first_of(&["predict"]);
                })
            };
            let (json, csv) = (run.log_json(&preset), run.log_csv(&preset));
            let stem = crate::quiz::log_stem(run);
            let dl_json = {
                let stem = stem.clone();
                Callback::from(move |_| dom::download(&format!("{stem}.json"), "application/json", &json))
            };
            let dl_csv = Callback::from(move |_| dom::download(&format!("{stem}.csv"), "text/csv", &csv));
            let here = run.at(cur);
            let open = run.open_at(cur);
            let ops = lab.full().scenario().ops.clone();
            let before = |step: usize| match ops.get(step) {
                Some(op) => format!("step {}: {}", step + 1, print_op(op)),
                None => String::from("the end (about the machine as it is)"),
            };
            let forward = {
                let lab = lab.clone();
                Callback::from(move |_| {
                    // The button goes with the step it shows: the next question (or the panel) keeps the focus.
                    dom::want_quiz_focus();
                    lab.dispatch(Action::Forward);
                })
            };
            let next_open = (0..=ops.len()).find_map(|s| run.open_at(s));
            // The answers about the step now shown, to check against what it did.
            let shown: Vec<usize> = if cur > 0 {
                run.at(cur - 1).into_iter().filter(|&i| run.attempts[i].settled()).collect()
            } else {
                Vec::new()
            };
            html! {
                <>
                    <div class="quizhead">
                        <p class="score" id="quiz-score" aria-live="polite">
                            <strong>{ format!("Score: {} right of {}", sc.right, sc.total) }</strong>
                            { format!(" ({} wrong, {} given up, {} to go)", sc.wrong, sc.gave_up, sc.total - sc.right - sc.wrong - sc.gave_up) }
                        </p>
                        <p class="setname" id="quiz-set">
                            { format!("{}, seed {}", set_name(&run.source), run.seed) }
                            if let Some(w) = &run.student { { format!(" (student {w})") } }
                        </p>
                        <div class="qtools">
                            <button id="log-json" onclick={dl_json}>{ "Download the log (JSON)" }</button>
                            <button id="log-csv" onclick={dl_csv}>{ "Download the log (CSV)" }</button>
                            <button id="predict-off" onclick={off}>{ "Turn predict mode off" }</button>
                        </div>
                    </div>
                    if let Some(i) = open {
                        <QuestionForm key={i} index={i} question={run.questions[i].clone()} hints={run.attempts[i].hints}
                            before={before(cur)} position={format!("Question {} of {}", run.questions[i].number, sc.total)} {bad} />
                    } else if !here.is_empty() && cur < ops.len() {
                        <p class="qdone" id="q-done">
                            { format!("You have answered the questions about step {}. ", cur + 1) }
                            <button id="q-reveal" onclick={forward}>{ format!("Show step {}: see what xv6 did", cur + 1) }</button>
                        </p>
                    } else if let Some(j) = next_open {
                        <p class="qdone" id="q-next">{ format!("The next question is asked before step {}: go Forward to reach it.", run.questions[j].step + 1) }</p>
                    } else {
                        <p class="qdone" id="q-all">{ format!("Every question is settled: {} right of {}. Download the log to keep it, or run an operation to be asked about it.", sc.right, sc.total) }</p>
                    }
                    <InlineNotice at={Where::Quiz} id="quiz-notice" />
                    // Always there, so a screen reader announces each verdict as it comes.
                    <ol class="verdicts" id="verdicts" aria-label="Your answers about this step" aria-live="polite">
                        for i in here.iter().copied().filter(|&i| run.attempts[i].settled()) {
                            { settled(run, i) }
                        }
                    </ol>
                    if !shown.is_empty() {
                        <details class="shown" id="shown-verdicts" open=true>
                            <summary>{ format!("What you predicted for step {cur}, shown now: check it against the panels") }</summary>
                            <ol class="verdicts" aria-label={format!("Your answers about step {cur}")}>
                                for i in shown.iter().copied() {
                                    { settled(run, i) }
                                }
                            </ol>
                        </details>
                    }
                    { set_form(&lab) }
                </>
            }
        }
    };
    html! {
        <section class="panel quiz on" id="panel-quiz" aria-labelledby="quiz-h">
            <h2 id="quiz-h" tabindex="-1">{ "Predict, then check" }</h2>
            <p class="help">{ "Before each step is shown, say what it will do; then see what xv6 did. Every answer comes from the machine itself." }</p>
            { body }
        </section>
    }
}

/// Props of [`Hideable`].
#[derive(Properties, PartialEq)]
pub struct HideableProps {
    /// Whether to hide the panel.
    pub hidden: bool,
    /// The panel's heading, for the placeholder.
    pub title: AttrValue,
    /// The placeholder's id.
    pub id: AttrValue,
    /// The open question's number.
    pub question: usize,
    /// The panel.
    pub children: Html,
}

/// A panel that predict mode hides while the open question's answer is in it.
#[component]
pub fn Hideable(props: &HideableProps) -> Html {
    if props.hidden {
        let to_q = Callback::from(|_| {
            focus_answer();
        });
        html! {
            <section class="panel hidden-panel" id={props.id.clone()} aria-label={format!("{} (hidden for now)", props.title)}>
                <h2>{ props.title.clone() }</h2>
                <p>
                    { format!("Hidden until you answer question {}: this panel would give the answer away. ", props.question) }
                    <button class="linkish" onclick={to_q}>{ "Go to the question" }</button>
                </p>
            </section>
        }
    } else {
        props.children.clone()
    }
}

/// The open question's first answer control takes the focus: its text box,
/// its first box (several parts), or Yes (a yes-or-no question).
fn focus_answer() {
    for id in ["answer", "answer-0", "answer-yes"] {
        dom::focus(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_about_one_box_names_that_box() {
        let labels = inputs_of(&Form::Pages);
        // The grader's words for a count it could not read: the part's name, a colon, why.
        assert_eq!(box_named("page-table pages allocated: `abc` is not a number", &labels), Some(2));
        assert_eq!(box_named("user pages freed: write it without a sign", &labels), Some(1));
        // A message about the whole answer, or an empty box (the form says which), names none.
        assert_eq!(box_named("write four numbers (user pages allocated, …); 3 are written", &labels), None);
        assert_eq!(box_named("fill in every box: “User pages freed” is empty", &labels), None);
    }
}
