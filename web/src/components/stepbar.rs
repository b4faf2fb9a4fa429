use yew::prelude::*;

use super::InlineNotice;
use crate::hooks::{use_keys, use_lab_by, use_refocus};
use crate::present::{KEYS, describe_op};
use crate::state::{Action, LabState, Where};

/// The title of step `k`: what its operation does, in words.
#[must_use]
pub fn step_title(lab: &LabState, k: usize) -> String {
    if k == 0 {
        return "the machine boots".into();
    }
    match lab.full().steps().get(k - 1) {
        Some(st) => {
            let mut t = describe_op(&st.op, &st.result);
            match &st.result.error {
                Some(e) if e.kills() => t.push_str(" (it faults: the process is killed)"),
                Some(_) => t.push_str(" (it fails)"),
                None => {}
            }
            t
        }
        None => String::new(),
    }
}

/// The step bar: always on screen (it sticks to the top of the window), with
/// back, forward, where the lab is and what the step does, a button that
/// brings what the step changed into sight, "next defect" where the trace
/// has DEFECT lines, and the list of shortcut keys.
#[component]
pub fn StepBar() -> Html {
    let lab = use_lab_by(|l| (l.full_lab(), l.view_lab(), l.current(), l.len(), l.quiz.is_some()));
    use_keys(lab.clone());
    let n = lab.len();
    let cur = lab.current();
    let title = step_title(&lab, cur);
    let changed = lab.changed_now();
    let defects = lab.defects().to_vec();
    // A button pressed into its own end (Forward to the last step, Back to
    // step 0) is disabled by the step it makes, and the focus would fall to
    // the page: after that step is drawn it goes to the other button.
    let back_ref = use_node_ref();
    let fwd_ref = use_node_ref();
    let refocus = use_refocus(cur, n);
    let back = {
        let lab = lab.clone();
        let refocus = refocus.clone();
        let to = fwd_ref.clone();
        Callback::from(move |_| {
            *refocus.borrow_mut() = (cur == 1).then(|| to.clone());
            lab.dispatch(Action::Back);
        })
    };
    let fwd = {
        let lab = lab.clone();
        let to = back_ref.clone();
        Callback::from(move |_| {
            *refocus.borrow_mut() = (cur + 1 == n).then(|| to.clone());
            lab.dispatch(Action::Forward);
        })
    };
    let next_defect = {
        let lab = lab.clone();
        Callback::from(move |_| lab.dispatch(Action::NextDefect))
    };
    let show_changes = Callback::from(move |_| {
        crate::dom::show_next_changed();
    });
    let is_defect = defects.contains(&cur);
    let predicting = lab.quiz.is_some();
    let predict = {
        let lab = lab.clone();
        Callback::from(move |_| {
            if !predicting {
                crate::dom::want_quiz_focus();
            }
            lab.dispatch(Action::Predict { on: !predicting, now_ms: crate::dom::now_ms() });
        })
    };
    html! {
        <nav class="stepbar" id="stepbar" aria-label="Step through the lab">
            <div class="stepnav">
                <button id="back" ref={back_ref} onclick={back} disabled={cur == 0} aria-label="Back: the previous step (key p)" title="Previous step (p or ←)">
                    <span aria-hidden="true">{ "←" }</span><span class="lbl">{ " Back" }</span>
                </button>
                <div class="stepinfo" aria-live="polite" aria-atomic="true">
                    <span id="step-pos">{ format!("Step {cur} of {n}") }</span>
                    <span class="steptitle" id="step-title">
                        if is_defect { <span class="defect-tag">{ "DEFECT" }</span>{ " " } }
                        { title }
                    </span>
                </div>
                <button id="forward" ref={fwd_ref} onclick={fwd} disabled={cur >= n} aria-label="Forward: the next step (key n)" title="Next step (n or →)">
                    <span class="lbl">{ "Forward " }</span><span aria-hidden="true">{ "→" }</span>
                </button>
                <button id="show-changes" onclick={show_changes} disabled={!changed.any()}
                    title="Bring the panels this step changed into sight (c)">
                    { "What changed" }
                </button>
                if !defects.is_empty() {
                    <button id="next-defect" onclick={next_defect} title="The next step whose trace has a DEFECT line (d)">
                        { format!("Next defect ({} of the {n} steps {} one)", defects.len(), if defects.len() == 1 { "has" } else { "have" }) }
                    </button>
                }
                <button id="predict" class="predict" onclick={predict} aria-pressed={if predicting { "true" } else { "false" }}
                    title="Predict mode: before each step is shown, answer questions about what it will do">
                    { if predicting { "Predict: on" } else { "Predict" } }
                </button>
                <details class="keys" id="keys">
                    <summary aria-label="Keys"><span class="klong">{ "Keys" }</span><span class="kshort" aria-hidden="true">{ "?" }</span></summary>
                    <div class="keylist">
                        <p>{ "Shortcut keys (not while typing in a field):" }</p>
                        <ul>
                            for (k, what) in KEYS {
                                <li><kbd>{ k }</kbd>{ " " }{ what }</li>
                            }
                        </ul>
                    </div>
                </details>
            </div>
            <InlineNotice at={Where::Steps} id="steps-notice" />
        </nav>
    }
}
