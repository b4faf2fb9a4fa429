use yew::prelude::*;

use super::inline;
use crate::hooks::use_lab_by;
use crate::state::{Action, Where};

/// Props of [`InlineNotice`].
#[derive(Properties, PartialEq)]
pub struct InlineNoticeProps {
    /// Which control's messages this shows.
    pub at: Where,
    /// The element id (tests and `aria-describedby` find it by this).
    pub id: AttrValue,
}

/// The message about one control, right next to it: an error (as an alert)
/// or what the operation did. It stays in the page, empty, so that screen
/// readers announce what appears in it.
#[component]
pub fn InlineNotice(props: &InlineNoticeProps) -> Html {
    let lab = use_lab_by(|l| l.notice.clone());
    let dismiss = {
        let lab = lab.clone();
        Callback::from(move |_| lab.dispatch(Action::Dismiss))
    };
    let mine = lab.notice.as_ref().filter(|n| n.at == props.at);
    let error = mine.filter(|n| n.is_error()).map(|n| n.text().to_string());
    let info = mine.filter(|n| !n.is_error()).map(|n| n.text().to_string());
    html! {
        <div class="inline-notices" id={props.id.clone()}>
            <div class={classes!("notice", "error", error.is_none().then_some("empty"))} role="alert">
                if let Some(e) = error {
                    <strong>{ "Error: " }</strong>
                    <span class="error-text" id="error-text">{ inline(&e) }</span>
                    <button class="dismiss" onclick={dismiss.clone()} aria-label="Dismiss the message">{ "×" }</button>
                }
            </div>
            <div class={classes!("notice", "info", info.is_none().then_some("empty"))} role="status">
                if let Some(i) = info {
                    <span class="info-text" id="info-text">{ inline(&i) }</span>
                    <button class="dismiss" onclick={dismiss} aria-label="Dismiss the message">{ "×" }</button>
                }
            </div>
        </div>
    }
}

/// The messages that belong to no control: a link that could not be opened.
#[component]
pub fn NoticeBar() -> Html {
    html! { <InlineNotice at={Where::Page} id="page-notice" /> }
}
