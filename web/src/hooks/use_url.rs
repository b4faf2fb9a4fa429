use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::LabContext;
use crate::state::Action;

/// The address bar's fragment when the page opened (with its `#`), or empty.
#[must_use]
pub fn initial_fragment() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        String::new()
    }
}

/// The lab's link fragment, worked out again only when the lab, the
/// selection or predict mode's progress changes (not on every keystroke elsewhere).
#[hook]
pub fn use_fragment(lab: &LabContext) -> Rc<String> {
    // Predict mode's progress is in the link too: each attempt's standing and hints.
    let quiz = lab.quiz.as_ref().map(|q| {
        (q.seed, q.auto_from, q.attempts.iter().map(|a| (a.status, a.hints, a.answer.clone())).collect::<Vec<_>>())
    });
    let deps = (lab.full_lab(), lab.view_lab(), lab.len(), lab.current(), lab.selection.clone(), quiz);
    let lab = lab.clone();
    use_memo(deps, move |_| lab.fragment())
}

/// Keep the address bar's fragment equal to the lab, and open a link pasted
/// into the address bar (or reached with the browser's Back button). Each
/// change replaces the current history entry, but a new lab adds one.
#[hook]
pub fn use_url_sync(lab: LabContext) {
    // The fragment last written, so that our own writes are not read back.
    let written: Rc<RefCell<String>> = use_mut_ref(String::new);
    {
        let written = written.clone();
        let fragment = use_fragment(&lab);
        // The lab before a new one (from the menu or a built-in scenario) stays
        // in the browser's history: Back returns to it.
        let seen_generation = use_mut_ref(|| lab.generation);
        let generation = lab.generation;
        use_effect_with(fragment, move |fragment| {
            let want = format!("#{fragment}");
            *written.borrow_mut() = want.clone();
            let push = *seen_generation.borrow() != generation;
            *seen_generation.borrow_mut() = generation;
            #[cfg(target_arch = "wasm32")]
            if let Some(w) = web_sys::window() {
                let now = w.location().hash().unwrap_or_default();
                if now != want
                    && let Ok(h) = w.history()
                {
                    let _ = if push {
                        h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&want))
                    } else {
                        h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&want))
                    };
                }
            }
            #[cfg(not(target_arch = "wasm32"))]
            let _ = (want, push);
        });
    }
    {
        let dispatcher = lab.dispatcher();
        use_effect_with((), move |()| {
            #[cfg(target_arch = "wasm32")]
            {
                use wasm_bindgen::JsCast;
                use wasm_bindgen::closure::Closure;
                let listener = Closure::<dyn Fn()>::new(move || {
                    let Some(w) = web_sys::window() else { return };
                    let hash = w.location().hash().unwrap_or_default();
                    if hash != *written.borrow() {
                        *written.borrow_mut() = hash.clone();
                        dispatcher.dispatch(Action::OpenLink(hash));
                    }
                });
                let win = web_sys::window();
                if let Some(w) = &win {
                    let _ = w.add_event_listener_with_callback("hashchange", listener.as_ref().unchecked_ref());
                }
                move || {
                    if let Some(w) = win {
                        let _ = w.remove_event_listener_with_callback("hashchange", listener.as_ref().unchecked_ref());
                    }
                }
            }
            #[cfg(not(target_arch = "wasm32"))]
            {
                let _ = (dispatcher, written, Action::Dismiss);
                || ()
            }
        });
    }
}
