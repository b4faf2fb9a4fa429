use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::LabContext;

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

/// How long a selection must stay unchanged before the address bar shows it.
pub const SETTLE_MS: i32 = 300;

/// The address bar's write not made yet.
#[derive(Default)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // read only in the browser
struct Pending {
    /// Which write is the latest: an earlier one finds it changed and does nothing.
    ticket: u32,
    /// A write is waiting.
    waiting: bool,
    /// It adds a history entry (a new lab) rather than replacing the current one.
    push: bool,
}

/// Keep the address bar's fragment equal to the lab, and open a link pasted
/// into the address bar (or reached with the browser's Back button) with `open`. Each
/// change replaces the current history entry, but a new lab adds one.
///
/// The link is worked out (the scenario printed and compressed) and written
/// in a task of its own after the next frame is drawn, so that a click is on
/// screen without waiting for it; a change made before that task runs
/// replaces it. A change of the selection alone (an address being typed)
/// is written once it has settled for [`SETTLE_MS`]: the browser's history
/// write costs several milliseconds, too much for every keystroke. A write
/// still waiting when the browser moves to another entry (Back, Forward) is
/// dropped, so that it can never land on that entry.
#[hook]
pub fn use_url_sync(lab: LabContext, open: Callback<String>) {
    // The fragment last written, so that our own writes are not read back.
    let written: Rc<RefCell<String>> = use_mut_ref(String::new);
    // The write not made yet.
    let pending: Rc<RefCell<Pending>> = use_mut_ref(Pending::default);
    {
        let pending = pending.clone();
        let written = written.clone();
        // Predict mode's progress is in the link too: each attempt's standing and hints.
        let quiz = lab.quiz.as_ref().map(|q| {
            (q.seed, q.auto_from, q.attempts.iter().map(|a| (a.status, a.hints, a.answer.clone())).collect::<Vec<_>>())
        });
        let machine = (lab.full_lab(), lab.view_lab(), lab.len(), lab.current(), lab.generation);
        // The machine, step and exercise progress last seen: a change of the
        // selection alone (an address being typed) waits to settle.
        let last_seen = use_mut_ref(|| None);
        let deps = (machine, lab.selection.clone(), quiz);
        // The lab before a new one (from the menu or a built-in scenario) stays
        // in the browser's history: Back returns to it.
        let seen_generation = use_mut_ref(|| lab.generation);
        let generation = lab.generation;
        let lab = lab.clone();
        use_effect_with(deps, move |(machine, _, quiz)| {
            let seen = (machine.clone(), quiz.clone());
            let settle = last_seen.borrow().as_ref() == Some(&seen);
            *last_seen.borrow_mut() = Some(seen);
            let new_lab = *seen_generation.borrow() != generation;
            *seen_generation.borrow_mut() = generation;
            #[cfg(target_arch = "wasm32")]
            if let Some(w) = web_sys::window() {
                use wasm_bindgen::JsCast;
                use wasm_bindgen::closure::Closure;
                let (ticket, push) = {
                    let mut p = pending.borrow_mut();
                    p.ticket = p.ticket.wrapping_add(1);
                    p.waiting = true;
                    p.push |= new_lab;
                    (p.ticket, p.push)
                };
                let pending_in = pending.clone();
                // The entry this write is for, by its fragment now.
                let entry = w.location().hash().unwrap_or_default();
                let write = Closure::once_into_js(move || {
                    let Some(w) = web_sys::window() else { return };
                    {
                        let mut p = pending_in.borrow_mut();
                        // A later change (or a move to another entry) took this write's place.
                        if p.ticket != ticket || !p.waiting {
                            return;
                        }
                        *p = Pending { ticket, ..Pending::default() };
                    }
                    // The browser has moved to another entry (Back, then Forward at once)
                    // and not yet said so with `hashchange`, which comes after `popstate`:
                    // this write belongs to the entry left, and would overwrite the new one's link.
                    if w.location().hash().unwrap_or_default() != entry {
                        return;
                    }
                    // A link that could not be opened stays in the address bar until the lab changes.
                    if lab.link_refused {
                        return;
                    }
                    let want = format!("#{}", lab.fragment());
                    *written.borrow_mut() = want.clone();
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
                });
                let wait = if settle && !push { SETTLE_MS } else { 0 };
                // After the next frame: the timer is set from an animation-frame callback.
                let after_frame = Closure::once_into_js(move || {
                    if let Some(w) = web_sys::window() {
                        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(write.unchecked_ref(), wait);
                    }
                });
                let _ = w.request_animation_frame(after_frame.unchecked_ref());
            }
            #[cfg(not(target_arch = "wasm32"))]
            let _ = (new_lab, settle, pending, written, lab);
        });
    }
    {
        use_effect_with((), move |()| {
            #[cfg(target_arch = "wasm32")]
            {
                use wasm_bindgen::JsCast;
                use wasm_bindgen::closure::Closure;
                let listener = Closure::<dyn Fn()>::new(move || {
                    let Some(w) = web_sys::window() else { return };
                    // The entry has changed: a write still waiting belongs to the one left.
                    pending.borrow_mut().waiting = false;
                    let hash = w.location().hash().unwrap_or_default();
                    if hash != *written.borrow() {
                        *written.borrow_mut() = hash.clone();
                        open.emit(hash);
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
                let _ = (open, written, pending);
                || ()
            }
        });
    }
}
