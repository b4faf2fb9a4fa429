//! `<pagelab-quiz>`: questions about xv6 to answer in a course's notes, each
//! with its hints, its check and, once answered, what xv6 did and why. Each
//! answer is also sent to the page as a `pagelab-answer` event, so a course
//! page can collect them.

use pagelab_core::lab::quiz::Form;
use pagelab_web::quiz::{QuizRun, Status};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::Same;
use crate::prepare::QuizPrepared;
use pagelab_web::components::inline;
use pagelab_web::dom::now_ms;

/// Props of [`QuizWidget`].
#[derive(Properties, PartialEq)]
pub struct QuizProps {
    /// The questions.
    pub prepared: Same<QuizPrepared>,
}

/// Tell the page about an answer: a `pagelab-answer` event, bubbling out of
/// the widget's shadow root, with the verdict in `detail`.
fn announce(at: &NodeRef, run: &QuizRun, i: usize) {
    #[cfg(target_arch = "wasm32")]
    {
        use serde::Serialize;
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Detail<'a> {
            set: String,
            seed: String,
            student: Option<&'a str>,
            question: usize,
            step: usize,
            ask: String,
            answer: &'a str,
            result: &'static str,
            right: bool,
            hints: usize,
            expected: &'a str,
            message: &'a str,
        }
        let (q, a) = (&run.questions[i], &run.attempts[i]);
        let d = Detail {
            set: pagelab_web::quiz::set_name(&run.source),
            // As a string: a seed may be larger than a JS number holds exactly.
            seed: run.seed.to_string(),
            student: run.student.as_deref(),
            question: q.number,
            step: q.step + 1,
            ask: q.ask.to_string(),
            answer: &a.answer,
            result: a.status.word(),
            right: a.status == Status::Right,
            hints: a.hints,
            expected: &q.answer,
            message: &a.message,
        };
        let Some(el) = at.cast::<web_sys::Element>() else { return };
        let Ok(detail) = d.serialize(&serde_wasm_bindgen::Serializer::json_compatible()) else { return };
        let init = web_sys::CustomEventInit::new();
        init.set_bubbles(true);
        init.set_composed(true);
        init.set_detail(&detail);
        if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict("pagelab-answer", &init) {
            let _ = el.dispatch_event(&ev);
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (at, run, i);
}

/// The labels of an answer's boxes (none: one box).
fn boxes(form: &Form) -> Vec<String> {
    match form {
        Form::Fields { names } => names.clone(),
        Form::Pages => {
            ["user pages allocated", "user pages freed", "page-table pages allocated", "page-table pages freed"]
                .iter()
                .map(|s| (*s).to_string())
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Where the page keeps a quiz's progress: this page's path and a hash of
/// the questions (their set, machine, seed, student and prompts), so that
/// a changed quiz starts afresh.
fn storage_key(p: &QuizPrepared) -> String {
    // FNV-1a, 64 bits: a stable name, not a secret.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |t: &str| {
        for b in t.bytes().chain([0u8]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(&p.label);
    eat(&p.preset);
    eat(&p.run.seed.to_string());
    eat(p.run.student.as_deref().unwrap_or(""));
    for q in p.run.questions.iter() {
        eat(&q.prompt);
    }
    format!("pagelab-quiz:{}:{h:016x}", page_path())
}

/// The page's path (`/notes/week5.html`).
fn page_path() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    String::new()
}

/// The progress kept under `key` (the browser's local storage), if any.
fn load(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()?.local_storage().ok()??.get_item(key).ok()?
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = key;
        None
    }
}

/// Keep `value` under `key`; a page whose storage is off (a sandboxed
/// frame, say) keeps nothing.
fn save(key: &str, value: &str) {
    #[cfg(target_arch = "wasm32")]
    if let Some(st) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = st.set_item(key, value);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (key, value);
}

/// The quiz: every question, each answered on its own. What the learner
/// has answered is kept in the browser for this page, so a reload goes on
/// where they were; the log downloads as JSON or CSV.
#[component]
pub fn QuizWidget(props: &QuizProps) -> Html {
    let key = storage_key(&props.prepared);
    let start = props.prepared.run.clone();
    let first_key = key.clone();
    // The progress kept for this quiz, read once, when the widget is made.
    let run = use_state(move || {
        let mut r = start.clone();
        match load(&first_key).map(|code| r.restore(&code)) {
            Some(Ok(())) => r,
            // A fresh quiz starts now: the log's start and its first answer's seconds count from here.
            _ => QuizRun { started_ms: now_ms(), ..start },
        }
    });
    {
        let key = key.clone();
        use_effect_with((*run).clone(), move |r| {
            if r.attempts.iter().any(|a| a.settled() || a.hints > 0) {
                save(&key, &r.progress());
            }
        });
    }
    // Each question's message about an answer that cannot be read, until that question is answered.
    let error = use_state(std::collections::BTreeMap::<usize, String>::new);
    let root = use_node_ref();
    // What takes the focus after the next render (a selector inside the widget): the verdict once a question is
    // settled, the answer box once the last hint is out, so the keyboard never falls back to the page's start.
    let focus = use_mut_ref(|| None::<String>);
    {
        let (focus, root) = (focus.clone(), root.clone());
        use_effect(move || {
            if let Some(sel) = focus.borrow_mut().take() {
                #[cfg(target_arch = "wasm32")]
                if let Some(el) = root
                    .cast::<web_sys::Element>()
                    .and_then(|r| r.query_selector(&sel).ok().flatten())
                    .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
                {
                    let _ = el.focus();
                }
                #[cfg(not(target_arch = "wasm32"))]
                let _ = (sel, &root);
            }
        });
    }
    let p = &props.prepared;
    let sc = run.score();
    let (json, csv) = (run.log_json(&p.preset), run.log_csv(&p.preset));
    let stem = pagelab_web::quiz::log_stem(&run);
    let dl_json = {
        let stem = stem.clone();
        Callback::from(move |_: MouseEvent| {
            pagelab_web::dom::download(&format!("{stem}.json"), "application/json", &json)
        })
    };
    let dl_csv =
        Callback::from(move |_: MouseEvent| pagelab_web::dom::download(&format!("{stem}.csv"), "text/csv", &csv));
    let before = |step: usize| match p.ops.get(step) {
        Some(op) => format!("before step {}: {op}", step + 1),
        None => String::from("about the machine at the end"),
    };
    let items: Html = run
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let a = &run.attempts[i];
            let labels = boxes(&q.form);
            let n = labels.len().max(1);
            let refs: Vec<NodeRef> = (0..n).map(|_| NodeRef::default()).collect();
            let id = |s: &str| format!("pl-q{}-{s}", q.number);
            let verdict_sel = format!("#{}", id("verdict"));
            let on_check = {
                let (run, error, refs, root) = (run.clone(), error.clone(), refs.clone(), root.clone());
                let (focus, sel) = (focus.clone(), verdict_sel.clone());
                // Each box's name and where it is, for a box left empty.
                let names = labels.clone();
                let at: Vec<String> = (0..labels.len()).map(|k| format!("#{}", id(&format!("answer-{k}")))).collect();
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    let parts: Vec<String> =
                        refs.iter().filter_map(|r| r.cast::<HtmlInputElement>()).map(|el| el.value()).collect();
                    if let Some(k) = parts.iter().position(|x| x.trim().is_empty()).filter(|_| parts.len() > 1) {
                        let mut m = (*error).clone();
                        m.insert(i, pagelab_web::quiz::empty_box(&names, k));
                        error.set(m);
                        // The empty box takes the focus, to be filled in.
                        *focus.borrow_mut() = at.get(k).cloned();
                        return;
                    }
                    let mut next = (*run).clone();
                    match next.answer(i, &parts.join(" "), now_ms()) {
                        Ok(()) => {
                            *focus.borrow_mut() = Some(sel.clone());
                            {
                            let mut m = (*error).clone();
                            m.remove(&i);
                            error.set(m);
                        }
                            announce(&root, &next, i);
                            run.set(next);
                        }
                        Err(message) => {
                            let mut m = (*error).clone();
                            m.insert(i, message);
                            error.set(m);
                            run.set(next);
                        }
                    }
                })
            };
            let on_yes_no = |yes: bool| {
                let (run, error, root) = (run.clone(), error.clone(), root.clone());
                let (focus, sel) = (focus.clone(), verdict_sel.clone());
                Callback::from(move |_: MouseEvent| {
                    let mut next = (*run).clone();
                    if next.answer(i, if yes { "yes" } else { "no" }, now_ms()).is_ok() {
                        *focus.borrow_mut() = Some(sel.clone());
                        {
                            let mut m = (*error).clone();
                            m.remove(&i);
                            error.set(m);
                        }
                        announce(&root, &next, i);
                        run.set(next);
                    }
                })
            };
            let first_box = format!(
                "#{}",
                if matches!(q.form, Form::YesNo) {
                    id("yes")
                } else if labels.is_empty() {
                    id("answer")
                } else {
                    id("answer-0")
                }
            );
            let on_hint = {
                let (run, focus, sel, last) = (run.clone(), focus.clone(), first_box, a.hints + 1 >= q.hints.len());
                Callback::from(move |_: MouseEvent| {
                    let mut next = (*run).clone();
                    if next.hint(i) {
                        if last {
                            // The button is about to be disabled: the answer box takes the focus.
                            *focus.borrow_mut() = Some(sel.clone());
                        }
                        run.set(next);
                    }
                })
            };
            let on_give_up = {
                let (run, error, root) = (run.clone(), error.clone(), root.clone());
                let (focus, sel) = (focus.clone(), verdict_sel.clone());
                Callback::from(move |_: MouseEvent| {
                    let mut next = (*run).clone();
                    next.give_up(i, now_ms());
                    *focus.borrow_mut() = Some(sel.clone());
                    {
                            let mut m = (*error).clone();
                            m.remove(&i);
                            error.set(m);
                        }
                    announce(&root, &next, i);
                    run.set(next);
                })
            };
            let err = error.get(&i).cloned();
            html! {
                <li class={classes!("pl-question", a.settled().then_some("pl-settled"))} data-question={q.number.to_string()} data-kind={q.ask.kind()}>
                    <p class="pl-qpos">{ format!("Question {} — {}", q.number, before(q.step)) }</p>
                    <p class="pl-prompt" id={id("prompt")}>{ inline(&q.prompt) }</p>
                    if a.settled() {
                        { verdict(&id("verdict"), a.status, &a.answer, &a.message) }
                    } else {
                        <form class="pl-qform" onsubmit={on_check} aria-labelledby={id("prompt")}>
                            if matches!(q.form, Form::YesNo) {
                                <button type="button" class="pl-yes" id={id("yes")} onclick={on_yes_no(true)}>{ "Yes" }</button>
                                <button type="button" class="pl-no" onclick={on_yes_no(false)}>{ "No" }</button>
                            } else if labels.is_empty() {
                                <label for={id("answer")}>{ "Your answer" }</label>
                                <input id={id("answer")} class="pl-answer" ref={refs[0].clone()} type="text" autocomplete="off"
                                    spellcheck="false" aria-describedby={format!("{} {}", id("how"), id("error"))}
                                    aria-invalid={if err.is_some() { "true" } else { "false" }} />
                            } else {
                                <span class="pl-boxes">
                                    for (k, l) in labels.iter().enumerate() {
                                        <span class="pl-box">
                                            <label for={id(&format!("answer-{k}"))}>{ l.clone() }</label>
                                            <input id={id(&format!("answer-{k}"))} ref={refs[k].clone()} type="text" size="7"
                                                autocomplete="off" spellcheck="false" aria-describedby={id("how")} />
                                        </span>
                                    }
                                </span>
                            }
                            <p class="help" id={id("how")}>{ q.how.clone() }</p>
                            <span class="pl-qbtns">
                                if !matches!(q.form, Form::YesNo) {
                                    <button type="submit" class="pl-check">{ "Check" }</button>
                                }
                                <button type="button" class="pl-hint" onclick={on_hint} disabled={a.hints >= q.hints.len()}>
                                    { if a.hints < q.hints.len() { format!("Hint ({} of {})", a.hints + 1, q.hints.len()) } else { "No more hints".to_string() } }
                                </button>
                                <button type="button" class="pl-giveup" onclick={on_give_up}>{ "Give up" }</button>
                            </span>
                            <p class="error-inline" id={id("error")} role="alert">{ inline(&err.unwrap_or_default()) }</p>
                        </form>
                    }
                    if a.hints > 0 {
                        <ol class="pl-hints" aria-label="Hints">
                            for h in q.hints.iter().take(a.hints) { <li>{ h.clone() }</li> }
                        </ol>
                    }
                </li>
            }
        })
        .collect();
    html! {
        <div class="pl-quiz" ref={root}>
            <p class="pl-caption">
                <span class="pl-what">{ "predict, then check" }</span>
                { format!(" · {} · {} · seed {}", p.label, p.preset, run.seed) }
                if let Some(w) = &run.student { { format!(" · student {w}") } }
            </p>
            <p class="pl-score" aria-live="polite">
                { format!("{} right of {} ({} wrong, {} given up)", sc.right, sc.total, sc.wrong, sc.gave_up) }
            </p>
            <ol class="pl-questions">{ items }</ol>
            <p class="pl-log">
                <button type="button" class="pl-log-json" onclick={dl_json}>{ "Download your answers (JSON)" }</button>
                <button type="button" class="pl-log-csv" onclick={dl_csv}>{ "Download your answers (CSV)" }</button>
                <span class="help">{ " Your answers are kept in this browser for this page: a reload goes on where you were." }</span>
            </p>
        </div>
    }
}

/// A settled question: right, wrong or given up, with the reason.
fn verdict(id: &str, status: Status, answer: &str, message: &str) -> Html {
    let (tag, class) = match status {
        Status::Right => ("✓ Right", "pl-right"),
        Status::Wrong => ("✗ Wrong", "pl-wrong"),
        _ => ("Given up", "pl-gaveup"),
    };
    html! {
        <div class={classes!("pl-verdict", class)} id={id.to_string()} tabindex="-1">
            <p><strong class="pl-vtag">{ tag }</strong>
                if !answer.is_empty() { { " — you answered " }<code>{ answer.to_string() }</code> }
            </p>
            <p class="pl-vmsg">{ inline(message) }</p>
        </div>
    }
}
