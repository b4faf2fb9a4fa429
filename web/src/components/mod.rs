//! The page's components. Each reads the lab from the context and sends
//! [`Action`](crate::state::Action)s to the one reducer.

mod app;
mod header;
mod memory;
mod notice;
mod procs;
mod quiz;
mod run;
mod share;
mod shm;
mod space;
mod stepbar;
mod story;
mod timeline;
mod tlb;
mod translate;

pub use app::{App, LabProvider};
pub use header::Header;
pub use memory::Memory;
pub use notice::{InlineNotice, NoticeBar};
pub use procs::Processes;
pub use quiz::{Hideable, QuizPanel};
pub use run::RunPanel;
pub use share::Share;
pub use shm::SharedMemory;
pub use space::AddressSpace;
pub use stepbar::StepBar;
pub use story::{Story, inline};
pub use timeline::Timeline;
pub use tlb::{TlbPanel, TlbTable};
pub use translate::Translate;

use yew::prelude::*;

pub use crate::hooks::LabContext;

/// Props of [`ChangedMark`].
#[derive(Properties, PartialEq)]
pub struct ChangedMarkProps {
    /// Whether the step changed the panel.
    pub on: bool,
    /// The step.
    pub step: usize,
}

/// The words that mark a panel the step shown changed (with the panel's
/// `changed` class: a coloured edge, never the only sign).
#[component]
pub fn ChangedMark(props: &ChangedMarkProps) -> Html {
    if props.on {
        html! { <span class="changed-badge">{ format!("changed in step {}", props.step) }</span> }
    } else {
        html! {}
    }
}
