use yew::prelude::*;

use crate::components::LabContext;

/// The lab's state and dispatcher, from the [`crate::components::LabProvider`] above.
///
/// # Panics
/// Outside a `LabProvider` (a mistake in the page's layout, never an input).
#[hook]
pub fn use_lab() -> LabContext {
    use_context::<LabContext>().expect("use_lab needs a LabProvider above it")
}
