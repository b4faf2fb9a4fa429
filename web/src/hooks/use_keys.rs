use yew::prelude::*;

use super::LabContext;
#[cfg(target_arch = "wasm32")]
use crate::present::{KeyCommand, KeyOwner, key_command, key_owner};
#[cfg(target_arch = "wasm32")]
use crate::state::Action;

/// The page's shortcut keys ([`crate::present::KEYS`]), listened for on the
/// whole document. They do nothing while the learner types in a field or a
/// menu, or holds Ctrl, Alt or Meta; on a checkbox the letters work, and the
/// arrow keys stay the checkbox's.
#[hook]
pub fn use_keys(lab: LabContext) {
    let dispatcher = lab.dispatcher();
    use_effect_with((), move |()| {
        #[cfg(target_arch = "wasm32")]
        {
            use wasm_bindgen::JsCast;
            use wasm_bindgen::closure::Closure;
            let listener = Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
                if e.default_prevented() {
                    return;
                }
                let target = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
                let owner = target.as_ref().map_or(KeyOwner::Page, |el| {
                    let kind = el.get_attribute("type").unwrap_or_default();
                    key_owner(&el.tag_name(), &kind, el.is_content_editable())
                });
                match (owner, target) {
                    (KeyOwner::Typing, Some(el)) => {
                        // Escape leaves the field, so that the keys work again.
                        if e.key() == "Escape" {
                            let _ = el.blur();
                        }
                        return;
                    }
                    (KeyOwner::Control, _) if e.key().starts_with("Arrow") => return,
                    _ => {}
                }
                // ← and → scroll a focused region that is wider than its box
                // (vmprint, the wide tables); n and p still step.
                let sideways = matches!(e.key().as_str(), "ArrowLeft" | "ArrowRight")
                    && e.target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .is_some_and(|el| el.scroll_width() > el.client_width());
                if sideways {
                    return;
                }
                let Some(cmd) = key_command(&e.key(), e.ctrl_key() || e.alt_key() || e.meta_key()) else { return };
                e.prevent_default();
                // A step key pressed in the predict panel (on its "Show step"
                // button, say, which the step replaces): the panel's next
                // control keeps the focus, not the page's body.
                let in_quiz = matches!(cmd, KeyCommand::Forward | KeyCommand::Back)
                    && e.target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .and_then(|el| el.closest("#panel-quiz").ok().flatten())
                        .is_some();
                if in_quiz {
                    crate::dom::want_quiz_focus();
                }
                match cmd {
                    KeyCommand::Forward => dispatcher.dispatch(Action::Forward),
                    KeyCommand::Back => dispatcher.dispatch(Action::Back),
                    KeyCommand::NextDefect => dispatcher.dispatch(Action::NextDefect),
                    KeyCommand::ShowChanges => {
                        crate::dom::show_next_changed();
                    }
                    KeyCommand::Translate => crate::dom::focus("address"),
                    KeyCommand::Exec => crate::dom::focus("program"),
                    KeyCommand::Help => crate::dom::toggle_details("keys"),
                }
            });
            let doc = web_sys::window().and_then(|w| w.document());
            if let Some(d) = &doc {
                let _ = d.add_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(d) = doc {
                    let _ = d.remove_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
                }
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = dispatcher;
            || ()
        }
    });
}
