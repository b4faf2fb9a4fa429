//! Opening a link in slices: read it, boot its machine, then replay its
//! operations a few milliseconds at a time, so that the page draws its
//! progress between slices and the tab stays responsive however long the
//! link is. The state machine here is plain Rust (tested on the host); the
//! page drives it from timers ([`crate::components::LabProvider`]).

use pagelab_core::lab::summary::plural;
use pagelab_core::lab::{Budget, WORK_BUDGET};

use crate::link::{self, LinkState};
use crate::machines::Replay;
use crate::state::OpenedLink;

/// How far an opening has got, for the page to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The machine being booted (`Preset::describe`).
    pub machine: &'static str,
    /// True once it has booted.
    pub booted: bool,
    /// Operations replayed so far.
    pub done: usize,
    /// Operations in the link.
    pub total: usize,
    /// Frames allocated plus freed so far, and the most a link may ask for.
    pub work: Budget,
}

impl Progress {
    /// The progress in plain words.
    #[must_use]
    pub fn text(&self) -> String {
        if !self.booted {
            return format!("Starting {} …", self.machine);
        }
        format!(
            "Replaying the link: step {} of {} ({} allocated or freed so far; a link may ask for at most {}).",
            self.done,
            self.total,
            plural(self.work.work, "frame", "frames"),
            WORK_BUDGET
        )
    }
}

/// A link being opened.
#[derive(Debug)]
pub enum Opening {
    /// Its scenario is being replayed.
    Replaying {
        /// What the link says.
        link: Box<LinkState>,
        /// The replay so far.
        replay: Box<Replay>,
    },
    /// Finished: what the link opens, until taken.
    Done(Box<Option<OpenedLink>>),
}

impl Opening {
    /// Start opening `fragment`: it is read now (a link that does not read
    /// is finished at once, with the reason); its scenario is replayed by
    /// [`Opening::advance`].
    #[must_use]
    pub fn new(fragment: &str) -> Opening {
        match link::read(fragment) {
            Ok(Some(ls)) => {
                let replay = Box::new(Replay::new(ls.scenario.clone()));
                Opening::Replaying { link: Box::new(ls), replay }
            }
            Ok(None) => Opening::Done(Box::new(Some(Ok(None)))),
            Err(e) => Opening::Done(Box::new(Some(Err(e)))),
        }
    }

    /// Work until `now()` passes `deadline` (at least one piece of work:
    /// the boot, or one operation). True while there is more to do.
    pub fn advance(&mut self, now: &dyn Fn() -> f64, deadline: f64) -> bool {
        let Opening::Replaying { replay, .. } = self else { return false };
        loop {
            match replay.advance(1) {
                Ok(true) if now() < deadline => {}
                Ok(true) => return true,
                Ok(false) => break,
                Err(e) => {
                    *self = Opening::Done(Box::new(Some(Err(link::replay_error(&e)))));
                    return false;
                }
            }
        }
        let Opening::Replaying { link, replay } = core::mem::replace(self, Opening::Done(Box::new(None))) else {
            return false;
        };
        let opened = replay.finish().map(|m| Some((*link, m))).map_err(|e| link::replay_error(&e));
        *self = Opening::Done(Box::new(Some(opened)));
        false
    }

    /// How far it has got (`None` once finished).
    #[must_use]
    pub fn progress(&self) -> Option<Progress> {
        match self {
            Opening::Replaying { link, replay } => Some(Progress {
                machine: link.scenario.preset.describe(),
                booted: replay.booted(),
                done: replay.done(),
                total: replay.total(),
                work: replay.work(),
            }),
            Opening::Done(_) => None,
        }
    }

    /// What the link opens, once finished (taken: a second call gets `None`).
    pub fn take(&mut self) -> Option<OpenedLink> {
        match self {
            Opening::Done(o) => o.take(),
            Opening::Replaying { .. } => None,
        }
    }
}

/// Milliseconds of work per slice: the page draws between slices.
pub const SLICE_MS: f64 = 12.0;

/// Open `fragment` in slices: after each slice `progress` gets how far it
/// has got (`None` when it has finished), and at the end `done` gets what the
/// link opens. With `first_now`, the first slice runs before this returns
/// (a short link then opens at once); else every slice runs from a timer,
/// after the page has drawn. Setting the returned flag stops the opening
/// (a newer link replaces it).
pub fn drive(
    fragment: &str,
    first_now: bool,
    progress: yew::Callback<Option<Progress>>,
    done: yew::Callback<OpenedLink>,
) -> std::rc::Rc<std::cell::Cell<bool>> {
    let stop = std::rc::Rc::new(std::cell::Cell::new(false));
    let mut opening = Opening::new(fragment);
    let now = || web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now());
    if first_now && !opening.advance(&now, now() + SLICE_MS) {
        progress.emit(None);
        done.emit(opening.take().unwrap_or(Ok(None)));
        return stop;
    }
    progress.emit(opening.progress());
    let stopped = stop.clone();
    wasm_bindgen_futures::spawn_local(async move {
        loop {
            next_task().await;
            if stopped.get() {
                return;
            }
            let more = opening.advance(&now, now() + SLICE_MS);
            progress.emit(opening.progress());
            if !more {
                done.emit(opening.take().unwrap_or(Ok(None)));
                return;
            }
        }
    });
    stop
}

/// A new task: the page draws before it if a frame is due. A message to
/// ourselves rather than a timer, which browsers hold back at least 4 ms
/// once timers nest.
pub(crate) async fn next_task() {
    // Held until the message comes, so that the channel lives until then.
    let channel = web_sys::MessageChannel::new().ok();
    let p = js_sys::Promise::new(&mut |resolve, _| match &channel {
        Some(ch) => {
            ch.port1().set_onmessage(Some(&resolve));
            let _ = ch.port2().post_message(&wasm_bindgen::JsValue::NULL);
        }
        None => {
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback(&resolve);
            }
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    drop(channel);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::LabState;
    use std::cell::Cell;

    /// A clock that moves one unit per call.
    fn ticking() -> impl Fn() -> f64 {
        let t = Cell::new(0.0);
        move || {
            t.set(t.get() + 1.0);
            t.get()
        }
    }

    #[test]
    fn a_story_opens_in_slices_and_ends_as_if_opened_at_once() {
        let now = ticking();
        let mut o = Opening::new("b=story-x86");
        let first = o.progress().expect("replaying");
        assert!(!first.booted);
        assert_eq!(first.done, 0);
        let total = first.total;
        let story = pagelab_core::lab::scenario::builtin("story-x86").unwrap();
        let op_lines = story.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).count() - 2;
        assert_eq!(total, op_lines, "every line but preset and shm is an operation");
        // A deadline already past: each slice does one piece of work (the boot, then one operation).
        let mut slices = 0;
        let mut seen = Vec::new();
        while o.advance(&now, 0.0) {
            slices += 1;
            let p = o.progress().expect("still replaying");
            seen.push(p.done);
        }
        // The boot, then operations 1 .. total-1 (the last slice finishes and takes no progress).
        assert_eq!(slices, total);
        assert_eq!(seen, (0..total).collect::<Vec<_>>());
        let sliced = LabState::opened(o.take().expect("finished"));
        assert!(o.take().is_none());
        let at_once = LabState::opened(link::decode("b=story-x86"));
        assert_eq!(sliced.scenario_text(), at_once.scenario_text());
        assert_eq!(sliced.current(), 0);
        assert_eq!(sliced.fragment(), at_once.fragment());
        assert_eq!(sliced.full().kernel().kmem().nfree(), at_once.full().kernel().kmem().nfree());
    }

    #[test]
    fn a_bad_link_finishes_at_once_with_the_reason() {
        let mut o = Opening::new("b=nonesuch");
        assert!(o.progress().is_none());
        assert!(!o.advance(&ticking(), f64::INFINITY));
        let Some(Err(e)) = o.take() else { panic!("an error") };
        assert!(e.contains("nonesuch"), "{e}");
    }

    #[test]
    fn a_refused_operation_ends_the_opening_with_its_number() {
        // pid 7 does not exist: the second operation is refused.
        let sc = pagelab_core::lab::scenario::parse("preset xv6-public-tiny\nuserinit\nfork 7\n").unwrap();
        let frag = link::encode(&LinkState {
            scenario: sc,
            builtin: None,
            step: 2,
            selection: crate::select::Selection::default(),
            access_set: false,
            kernel_table: false,
            quiz: None,
            told: None,
        });
        let mut o = Opening::new(&frag);
        while o.advance(&ticking(), f64::INFINITY) {}
        let Some(Err(e)) = o.take() else { panic!("an error") };
        assert!(e.contains("operation 2 was refused"), "{e}");
    }
}
