//! `<pagelab-lab>`: a small lab on a scenario: step back and forward, choose
//! a process, translate an address in it. It is the web lab's own state and
//! translate panel, without the address bar (a page may hold several).

use pagelab_core::lab::scenario::print_op;
use pagelab_web::components::Translate;
use pagelab_web::hooks::{ProvideLab, use_lab};
use pagelab_web::select::short;
use pagelab_web::state::{Action, LabState};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::Same;

/// Props of [`MiniLab`].
#[derive(Properties, PartialEq)]
pub struct LabProps {
    /// The lab to start from.
    pub state: Same<LabState>,
}

/// The small lab: its own state, provided to the panels inside.
#[component]
pub fn MiniLab(props: &LabProps) -> Html {
    let start = props.state.clone();
    let lab = use_reducer(move || (*start).clone());
    html! {
        <ProvideLab {lab}>
            <div class="pl-lab">
                <Nav />
                <Procs />
                <Translate />
            </div>
        </ProvideLab>
    }
}

/// Back, forward, the step menu, and what the step did.
#[component]
fn Nav() -> Html {
    let lab = use_lab();
    let n = lab.len();
    let cur = lab.current();
    let preset = lab.full().scenario().preset;
    let label = |i: usize| {
        if i == 0 {
            "boot".to_string()
        } else {
            lab.full().steps().get(i - 1).map_or_else(String::new, |s| short(&print_op(&s.op), 50))
        }
    };
    let step = lab.step(cur);
    // Back to step 0 or Forward to the last step disables the button pressed:
    // the focus goes to the other one, as in the lab, not to the page.
    let back_ref = use_node_ref();
    let fwd_ref = use_node_ref();
    let refocus = pagelab_web::hooks::use_refocus(cur, n);
    let go = |a: Action, to: Option<NodeRef>| {
        let lab = lab.clone();
        let refocus = refocus.clone();
        Callback::from(move |_: MouseEvent| {
            *refocus.borrow_mut() = to.clone();
            lab.dispatch(a.clone());
        })
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
    html! {
        <div class="lab-nav">
            <p class="pl-caption"><span class="pl-what">{ "lab" }</span>{ format!(" · {} · {n} operations", preset.name()) }</p>
            <div class="tlnav" role="group" aria-label="Step through the scenario">
                <button class="back" ref={back_ref.clone()} onclick={go(Action::Back, (cur == 1).then(|| fwd_ref.clone()))} disabled={cur == 0}><span aria-hidden="true">{ "← " }</span>{ "Back" }</button>
                <span class="step-pos" aria-live="polite">{ format!("Step {cur} of {n}") }</span>
                <button class="forward" ref={fwd_ref.clone()} onclick={go(Action::Forward, (cur + 1 == n).then(|| back_ref.clone()))} disabled={cur >= n}>{ "Forward" }<span aria-hidden="true">{ " →" }</span></button>
                <select class="jump" onchange={on_jump} aria-label="Go to step">
                    for i in 0..=n {
                        <option value={i.to_string()} selected={i == cur}>{ format!("{i}: {}", label(i)) }</option>
                    }
                </select>
            </div>
            if let Some(s) = step {
                <p class="step-line">
                    <code>{ if cur == 0 { "boot".to_string() } else { label(cur) } }</code>
                    if cur > 0 {
                        { match &s.result.error { Some(e) => format!(" → -1 ({e})"), None => format!(" → {}", s.result.value) } }
                    }
                    { format!(". Pages {}. Free afterwards: {}.", s.counts, s.nfree) }
                </p>
            }
        </div>
    }
}

/// The processes at this step; choosing one picks the page table to translate in.
#[component]
fn Procs() -> Html {
    let lab = use_lab();
    let k = lab.lab().kernel();
    let procs: Vec<(u32, String, String, u64)> =
        k.procs().live().map(|p| (p.pid, p.name.clone(), p.state.to_string(), p.sz)).collect();
    let sel = lab.selection.pid;
    html! {
        <div class="tablewrap" tabindex="0" role="region" aria-label="The processes (the table scrolls sideways)">
            <table class="ptable">
                <caption>{ if procs.is_empty() { "No processes at this step." } else { "Processes at this step (choose one to translate in its page table)" } }</caption>
                <thead><tr><th scope="col">{ "pid" }</th><th scope="col">{ "name" }</th><th scope="col">{ "state" }</th><th scope="col">{ "sz" }</th></tr></thead>
                <tbody>
                    for (pid, name, state, sz) in procs.iter() {
                        <tr class={classes!((Some(*pid) == sel).then_some("selected"))}>
                            <td>
                                <button class="pick" data-pid={pid.to_string()} aria-label={format!("Choose pid {pid}")} aria-pressed={if Some(*pid) == sel { "true" } else { "false" }}
                                    onclick={ let lab = lab.clone(); let pid = *pid; Callback::from(move |_| lab.dispatch(Action::SelectPid(pid))) }>
                                    { pid }
                                </button>
                            </td>
                            <td>{ name.clone() }</td>
                            <td>{ state.clone() }</td>
                            <td class="mono">{ format!("{sz:#x}") }</td>
                        </tr>
                    }
                </tbody>
            </table>
        </div>
    }
}
