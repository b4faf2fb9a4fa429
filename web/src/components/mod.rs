//! The page's components. Each reads the lab from the context and sends
//! [`Action`](crate::state::Action)s to the one reducer.

mod app;
mod header;
mod memory;
mod notice;
mod procs;
mod space;
mod timeline;
mod translate;

pub use app::{App, LabProvider};
pub use header::Header;
pub use memory::Memory;
pub use notice::NoticeBar;
pub use procs::Processes;
pub use space::AddressSpace;
pub use timeline::Timeline;
pub use translate::Translate;

use yew::UseReducerHandle;

use crate::state::LabState;

/// The lab as every component sees it: the state and its dispatcher.
pub type LabContext = UseReducerHandle<LabState>;
