use pagelab_core::lab::Op;
use pagelab_core::lab::scenario::{event_text, print_op};
use pagelab_core::scheme::SchemeKind;
use pagelab_core::trace::Event as TraceEv;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::hooks::{use_details, use_lab_by};
use crate::present::{FOLD_ABOVE, TraceNode, trace_tree};
use crate::state::{Action, SharedLab, short};

/// Children of a node shown before "show more".
const PAGE: usize = 200;

/// The CSS class of an event line, by what happened.
fn event_class(e: &TraceEv) -> &'static str {
    match e {
        TraceEv::Call { .. } => "ev-call",
        TraceEv::Kalloc { .. } => "ev-kalloc",
        TraceEv::KallocFailed | TraceEv::Fail { .. } | TraceEv::PageFault { .. } => "ev-fail",
        TraceEv::Kfree { .. } | TraceEv::FreeRange { .. } => "ev-kfree",
        TraceEv::PteWrite { .. } => "ev-pte",
        TraceEv::Copyout { .. } | TraceEv::Copyin { .. } | TraceEv::Load { .. } | TraceEv::CopyPage { .. } => "ev-copy",
        TraceEv::LoadRoot { .. } | TraceEv::TlbFlush { .. } => "ev-switch",
        TraceEv::TlbHit { .. } | TraceEv::TlbMiss { .. } | TraceEv::TlbFill { .. } | TraceEv::TlbDrop { .. } => {
            "ev-tlb"
        }
        TraceEv::Note { .. } => "ev-note",
        TraceEv::Defect { .. } => "ev-defect",
        TraceEv::Repeat { .. } => "ev-repeat",
    }
}

/// Props of the trace's components: the step's events and some of its nodes.
#[derive(Properties, PartialEq)]
struct NodesProps {
    /// The machine holding every step's record.
    full: SharedLab,
    /// The step (0: boot).
    step: usize,
    /// The nodes to draw.
    nodes: Vec<TraceNode>,
}

/// The events of step `step` of `full`.
fn events_of(full: &SharedLab, step: usize) -> &[pagelab_core::trace::TraceEvent] {
    if step == 0 { &full.boot_step().events } else { full.steps().get(step - 1).map_or(&[], |s| &s.events) }
}

/// A list of trace nodes, the first [`PAGE`] at first, more on demand.
#[component]
fn Nodes(props: &NodesProps) -> Html {
    let limit = use_state(|| PAGE);
    let more = {
        let limit = limit.clone();
        Callback::from(move |_| limit.set(*limit + PAGE))
    };
    let events = events_of(&props.full, props.step);
    let scheme = props.full.kernel().info().scheme;
    let step = props.step;
    let line = |i: usize| {
        let ev = &events[i];
        html! {
            <li class={classes!("ev", event_class(&ev.event))} key={format!("{step}-e{i}")}>
                <span class="func">{ ev.func }</span>
                <span class="etext">{ event_text(ev, scheme) }</span>
            </li>
        }
    };
    html! {
        <>
            for node in props.nodes.iter().take(*limit) {
                {
                    match node {
                        TraceNode::Event(i) => line(*i),
                        // Keyed by step and event, so that a fold's open state belongs to its own call, not to
                        // whatever call sat at the same place in the step shown before.
                        TraceNode::Run { first, len, label } => html! {
                            <li class="ev run" key={format!("{}-r{first}", props.step)}>
                                <FoldedRun full={props.full.clone()} step={props.step} first={*first} len={*len} label={label.clone()} {scheme} />
                            </li>
                        },
                        TraceNode::Call { at, .. } => html! {
                            <CallNode key={format!("{}-c{at}", props.step)} full={props.full.clone()} step={props.step} node={node.clone()} />
                        },
                    }
                }
            }
            if props.nodes.len() > *limit {
                <li key="more"><button class="more" onclick={more}>{ format!("Show {} more of {}", PAGE.min(props.nodes.len() - *limit), props.nodes.len() - *limit) }</button></li>
            }
        </>
    }
}

/// Props of [`FoldedRun`].
#[derive(Properties, PartialEq)]
struct RunProps {
    full: SharedLab,
    step: usize,
    first: usize,
    len: usize,
    label: AttrValue,
    scheme: SchemeKind,
}

/// A run of like events folded into one line; opening it shows them.
#[component]
fn FoldedRun(props: &RunProps) -> Html {
    let (open, ontoggle) = use_details(false);
    let nodes: Vec<TraceNode> = (props.first..props.first + props.len).map(TraceNode::Event).collect();
    html! {
        <details class="fold" {ontoggle} open={*open}>
            <summary>{ props.label.clone() }</summary>
            if *open {
                <ul class="events"><Nodes full={props.full.clone()} step={props.step} {nodes} /></ul>
            }
        </details>
    }
}

/// Props of [`CallNode`].
#[derive(Properties, PartialEq)]
struct CallProps {
    full: SharedLab,
    step: usize,
    node: TraceNode,
}

/// A call and what happened inside it; a call with many events starts folded
/// into one line that says what it allocated, freed and wrote.
#[component]
fn CallNode(props: &CallProps) -> Html {
    let TraceNode::Call { at, children, events: n, kallocs, kfrees, entries } = &props.node else {
        return html! {};
    };
    let (open, ontoggle) = use_details(*n <= FOLD_ABOVE);
    let events = events_of(&props.full, props.step);
    let scheme = props.full.kernel().info().scheme;
    let ev = &events[*at];
    let mut inside = Vec::new();
    if *kallocs > 0 {
        inside.push(format!("{kallocs} kalloc"));
    }
    if *kfrees > 0 {
        inside.push(format!("{kfrees} kfree"));
    }
    if *entries > 0 {
        inside.push(format!("{entries} {}", if *entries == 1 { "entry written" } else { "entries written" }));
    }
    let what = if inside.is_empty() { String::new() } else { format!(" — {}", inside.join(", ")) };
    html! {
        <li class="ev ev-call">
            if children.is_empty() {
                <span class="func">{ ev.func }</span><span class="etext">{ event_text(ev, scheme) }</span>
            } else {
                <details class="callnode" {ontoggle} open={*open}>
                    <summary>
                        <span class="func">{ ev.func }</span>
                        <span class="etext">{ event_text(ev, scheme) }</span>
                        <span class="callsum">{ format!("{what} ({} {})", n, if *n == 1 { "event" } else { "events" }) }</span>
                    </summary>
                    if *open {
                        <ul class="events"><Nodes full={props.full.clone()} step={props.step} nodes={children.clone()} /></ul>
                    }
                </details>
            }
        </li>
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
}

/// The events of one step, in order, each under the xv6 function it
/// happened in; long calls and runs of like events start folded. A
/// component of its own so that typing elsewhere does not redraw it.
#[component]
fn StepEvents(props: &StepEventsProps) -> Html {
    let nodes = {
        let full = props.full.clone();
        use_memo((props.full.clone(), props.step, props.len), move |(_, step, _)| trace_tree(events_of(&full, *step)))
    };
    html! {
        <ul class="events" id="events" aria-label="What happened, in order, in which xv6 function">
            <Nodes full={props.full.clone()} step={props.step} nodes={(*nodes).clone()} />
        </ul>
    }
}

/// Every step, with the current one's events; back, forward, jump.
#[component]
pub fn Timeline() -> Html {
    let lab = use_lab_by(|l| {
        (l.full_lab(), l.view_lab(), l.current(), l.len(), l.quiz.is_some(), {
            let h = l.hidden();
            (h.question, h.entries)
        })
    });
    let n = lab.len();
    let cur = lab.current();
    let ops: Vec<String> = lab.full().steps().iter().map(|s| short(&print_op(&s.op), 60)).collect();
    // What each step's call returned, in words after its arrow (exit does not return).
    let results: Vec<(String, bool)> = lab
        .full()
        .steps()
        .iter()
        .map(|s| match (&s.result.error, &s.op) {
            (Some(_), _) => (" → -1 (failed)".to_string(), true),
            (None, Op::Exit { .. }) => (" (does not return)".to_string(), false),
            (None, _) => (format!(" → {}", s.result.value), false),
        })
        .collect();
    let defects = lab.defects().to_vec();
    let flushed: Vec<bool> = lab.full().steps().iter().map(|s| s.counts.tlb.flushes > 0).collect();
    let step = lab.step(cur);
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
    let label = |i: usize| if i == 0 { "boot (the machine starts)".to_string() } else { ops[i - 1].clone() };
    let later = n.saturating_sub(cur);
    // In predict mode, what later steps return is not shown before they are.
    let predicting = lab.quiz.is_some();
    let hidden = lab.hidden();
    let hide_events = hidden.entries;
    html! {
        <section class="panel timeline" id="panel-timeline" aria-labelledby="tl-h">
            <h2 id="tl-h" tabindex="-1">{ "Timeline" }</h2>
            <div class="tlnav">
                <label for="jump">{ "Go to step" }</label>
                // Not keyed, unlike the steps below: with keyed options the chosen one is another
                // element after each step, and Chromium then laid the page out three times a step.
                <select id="jump" onchange={on_jump}>
                    for i in 0..=n {
                        <option value={i.to_string()} selected={i == cur}>
                            { format!("{i}: {}{}", label(i), if defects.contains(&i) { " (DEFECT)" } else { "" }) }
                        </option>
                    }
                </select>
            </div>
            if later > 0 {
                <p class="warn">{
                    if later == 1 {
                        format!("Step {n} is still here: Forward shows it. Running a new operation now would drop it.")
                    } else {
                        format!("Steps {} to {n} are still here: Forward shows them. Running a new operation now would drop them.", cur + 1)
                    }
                }</p>
            }
            if n > 20 {
                <p class="help">{ "With the keyboard, use n and p, or Go to step: only the current step's button is a tab stop." }</p>
            }
            // Keyed by step: a new step is added at the end, and the others are not rewritten
            // (Yew matches a list without keys from its end, so every step's text moved by one).
            <ol class="steps" start="0" id="steps">
                for i in 0..=n {
                    <li key={i} class={classes!((i == cur).then_some("current"), (i > cur).then_some("later"), (i > 0 && results[i - 1].1).then_some("failed"), defects.contains(&i).then_some("defect"))}>
                        <button class="stepbtn" onclick={goto(i)} tabindex={if n > 20 && i != cur { "-1" } else { "0" }} aria-current={if i == cur { "step" } else { "false" }}>
                            <span class="sno">{ i }</span>{ " " }<code>{ label(i) }</code>
                            if i > 0 && !(predicting && i > cur) {
                                <span class="sret">{ results[i - 1].0.clone() }</span>
                            }
                            if defects.contains(&i) {
                                <span class="defect-tag">{ " DEFECT" }</span>
                            }
                            if i > 0 && flushed[i - 1] {
                                <span class="flush-tag" title="The TLB was flushed in this step">{ " TLB flushed" }</span>
                            }
                        </button>
                    </li>
                }
            </ol>
            if let Some(s) = step {
                <div class="stepdetail" id="step-detail">
                    <h3>{ format!("Step {cur}: {}, event by event", label(cur)) }</h3>
                    <p class="help">{ "Each line is one thing xv6 did, under the function that did it. Long calls and runs of like events are folded into one line: open them to see every event. A loop over pages shows its first two times, then how many more times it went round." }</p>
                    // An open question about a walk: the step's entry writes would answer it.
                    if let (true, Some(q)) = (hide_events, hidden.question) {
                        <p id="step-events-hidden">{ format!("Its events are shown once you answer question {q}: the entries it wrote would give the answer away.") }</p>
                    } else {
                        <StepEvents full={lab.full_lab()} len={n} step={cur} />
                    }
                    if s.elided > 0 {
                        <p>{ format!("{} were only counted, not kept.", pagelab_core::lab::summary::plural(s.elided, "more event", "more events")) }</p>
                    }
                </div>
            }
        </section>
    }
}
