use yew::UseReducerHandle;
use yew::prelude::*;

use crate::state::LabState;

/// The lab as every component sees it: the state and its dispatcher.
pub type LabContext = UseReducerHandle<LabState>;

/// The lab's state and dispatcher, from the [`crate::components::LabProvider`] above.
///
/// # Panics
/// Outside a `LabProvider` (a mistake in the page's layout, never an input).
#[hook]
pub fn use_lab() -> LabContext {
    use_context::<LabContext>().expect("use_lab needs a LabProvider above it")
}
