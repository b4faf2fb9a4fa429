//! Whether a `<details>` box is open, for content drawn only while it is.

use yew::prelude::*;

/// Whether a `<details>` is open (at first: `initially`), and the `ontoggle`
/// that keeps it so: content costly to draw is drawn only while the box is open.
#[hook]
pub fn use_details(initially: bool) -> (UseStateHandle<bool>, Callback<Event>) {
    let open = use_state(|| initially);
    let ontoggle = {
        let open = open.clone();
        Callback::from(move |e: Event| {
            let d: web_sys::HtmlDetailsElement = e.target_unchecked_into();
            open.set(d.open());
        })
    };
    (open, ontoggle)
}
