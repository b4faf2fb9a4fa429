use yew::prelude::*;

use crate::hooks::use_lab;
use crate::state::Action;

/// The status line: what the last operation did, or why it was refused.
#[component]
pub fn NoticeBar() -> Html {
    let lab = use_lab();
    let dismiss = {
        let lab = lab.clone();
        Callback::from(move |_| lab.dispatch(Action::Dismiss))
    };
    // The live regions stay in the page so screen readers announce changes.
    let (error, info) = match &lab.notice {
        Some(n) if n.is_error() => (Some(n.text().to_string()), None),
        Some(n) => (None, Some(n.text().to_string())),
        None => (None, None),
    };
    html! {
        <div class="notices">
            <div id="error" class={classes!("notice", "error", error.is_none().then_some("empty"))} role="alert">
                if let Some(e) = error {
                    <strong>{ "Error: " }</strong>
                    <span id="error-text">{ e }</span>
                    <button class="dismiss" onclick={dismiss.clone()} aria-label="Dismiss the message">{ "×" }</button>
                }
            </div>
            <div id="info" class={classes!("notice", "info", info.is_none().then_some("empty"))} role="status">
                if let Some(i) = info {
                    <span id="info-text">{ i }</span>
                    <button class="dismiss" onclick={dismiss} aria-label="Dismiss the message">{ "×" }</button>
                }
            </div>
        </div>
    }
}
