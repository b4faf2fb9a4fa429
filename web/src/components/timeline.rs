use pagelab_core::lab::scenario::{event_text, print_op};
use pagelab_core::trace::Event as TraceEv;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::hooks::use_lab;
use crate::state::{Action, SharedLab, short};

/// Events shown before "show all".
const SHOWN: usize = 300;

/// The class that indents an event by its call depth (classes, not a
/// `style` attribute, which a strict Content-Security-Policy blocks).
const DEPTH: [&str; 9] = ["d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"];

/// The CSS class of an event line, by what happened.
fn event_class(e: &TraceEv) -> &'static str {
    match e {
        TraceEv::Call { .. } => "ev-call",
        TraceEv::Kalloc { .. } => "ev-kalloc",
        TraceEv::KallocFailed | TraceEv::Fail { .. } | TraceEv::PageFault { .. } => "ev-fail",
        TraceEv::Kfree { .. } | TraceEv::FreeRange { .. } => "ev-kfree",
        TraceEv::PteWrite { .. } => "ev-pte",
        TraceEv::Copyout { .. } | TraceEv::Copyin { .. } | TraceEv::Load { .. } | TraceEv::CopyPage { .. } => "ev-copy",
        TraceEv::LoadRoot { .. } | TraceEv::TlbFlush => "ev-switch",
        TraceEv::Note { .. } => "ev-note",
        TraceEv::Defect { .. } => "ev-defect",
    }
}

/// Props of [`StepEvents`]: which step of which timeline.
#[derive(Properties, PartialEq)]
struct StepEventsProps {
    /// The machine holding every step's record.
    full: SharedLab,
    /// Steps in the timeline (the machine above changes in place as steps are added).
    len: usize,
    /// The step (0: boot).
    step: usize,
    /// Show every event, not only the first [`SHOWN`].
    show_all: bool,
}

/// The events of one step, in order, each with the xv6 function it happened in.
/// A component of its own so that typing elsewhere does not redraw it.
#[component]
fn StepEvents(props: &StepEventsProps) -> Html {
    let lab = &props.full;
    let scheme = lab.kernel().info().scheme;
    let events = if props.step == 0 {
        &lab.boot_step().events
    } else {
        match lab.steps().get(props.step - 1) {
            Some(s) => &s.events,
            None => return html! {},
        }
    };
    html! {
        <ul class="events" id="events" aria-label="What happened, in order, in which xv6 function">
            for ev in events.iter().take(if props.show_all { usize::MAX } else { SHOWN }) {
                <li class={classes!("ev", event_class(&ev.event), DEPTH[usize::from(ev.depth.min(8))])}>
                    <span class="func">{ ev.func }</span>
                    <span class="etext">{ event_text(ev, scheme) }</span>
                </li>
            }
        </ul>
    }
}

/// Every step, with its events and page counts; back, forward, jump.
#[component]
pub fn Timeline() -> Html {
    let lab = use_lab();
    let show_all = use_state(|| false);
    let n = lab.len();
    let cur = lab.current();
    let ops: Vec<String> = lab.full().steps().iter().map(|s| short(&print_op(&s.op), 60)).collect();
    let results: Vec<(i64, bool)> =
        lab.full().steps().iter().map(|s| (s.result.value, s.result.error.is_some())).collect();
    let step = lab.step_summary(cur);
    let back = {
        let lab = lab.clone();
        Callback::from(move |_| lab.dispatch(Action::Back))
    };
    let fwd = {
        let lab = lab.clone();
        Callback::from(move |_| lab.dispatch(Action::Forward))
    };
    let on_jump = {
        let lab = lab.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            if let Ok(k) = s.value().parse::<usize>() {
                lab.dispatch(Action::Goto(k));
            }
        })
    };
    let goto = |k: usize| {
        let lab = lab.clone();
        Callback::from(move |_| lab.dispatch(Action::Goto(k)))
    };
    let toggle = {
        let show_all = show_all.clone();
        Callback::from(move |_| show_all.set(!*show_all))
    };
    let label = |i: usize| if i == 0 { "boot (the machine starts)".to_string() } else { ops[i - 1].clone() };
    html! {
        <section class="panel timeline" aria-labelledby="tl-h">
            <h2 id="tl-h">{ "Timeline" }</h2>
            <div class="tlnav" role="group" aria-label="Step through the timeline">
                <button id="back" onclick={back} disabled={cur == 0} aria-label="One step back">{ "← Back" }</button>
                <span id="step-pos" aria-live="polite">{ format!("Step {cur} of {n}") }</span>
                <button id="forward" onclick={fwd} disabled={cur >= n} aria-label="One step forward">{ "Forward →" }</button>
                <label for="jump">{ "Go to step" }</label>
                <select id="jump" onchange={on_jump}>
                    for i in 0..=n {
                        <option value={i.to_string()} selected={i == cur}>{ format!("{i}: {}", label(i)) }</option>
                    }
                </select>
            </div>
            if cur < n {
                <p class="warn">{ format!("Steps {} to {n} are still here: Forward shows them. Running a new operation now would drop them.", cur + 1) }</p>
            }
            if n > 20 {
                <p class="help">{ "With the keyboard, use Back, Forward and Go to step: only the current step's button is a tab stop." }</p>
            }
            <ol class="steps" start="0" id="steps">
                for i in 0..=n {
                    <li class={classes!((i == cur).then_some("current"), (i > cur).then_some("later"), (i > 0 && results[i - 1].1).then_some("failed"))}>
                        <button class="stepbtn" onclick={goto(i)} tabindex={if n > 20 && i != cur { "-1" } else { "0" }} aria-current={if i == cur { "step" } else { "false" }}>
                            <span class="sno">{ i }</span>{ " " }<code>{ label(i) }</code>
                            if i > 0 {
                                <span class="sret">{ if results[i - 1].1 { " → -1 (failed)".to_string() } else { format!(" → {}", results[i - 1].0) } }</span>
                            }
                        </button>
                    </li>
                }
            </ol>
            if let Some(s) = step {
                <div class="stepdetail" id="step-detail">
                    <h3>{ format!("Step {cur}: {}", label(cur)) }</h3>
                    <p id="step-counts"><strong>{ "Pages " }</strong>{ s.counts.to_string() }{ format!(". Free pages afterwards: {}.", s.nfree) }</p>
                    if let Some(e) = &s.result.error {
                        <p class="error-inline" id="step-error">{ format!("It returned -1: {e}") }</p>
                    }
                    <StepEvents full={lab.full_lab()} len={n} step={cur} show_all={*show_all} />
                    if lab.step_events(cur) > SHOWN {
                        <button onclick={toggle}>{ if *show_all { "Show fewer events".to_string() } else { format!("Show all {} events", lab.step_events(cur)) } }</button>
                    }
                    if s.elided > 0 {
                        <p>{ format!("{} more events were only counted, not kept.", s.elided) }</p>
                    }
                </div>
            }
        </section>
    }
}
