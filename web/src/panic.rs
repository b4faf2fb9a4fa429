//! The panic hook: a panic that slips through is shown in the page, not
//! only in the console, since a panic in wasm stops the lab.

use std::panic;

/// Show panics in the page's `#panic` box and in the console.
pub fn install() {
    panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        web_sys::console::error_1(&format!("pagelab panicked: {msg}").into());
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        if let Some(el) = doc.get_element_by_id("panic") {
            el.set_text_content(Some(&format!(
                "Something went wrong: {msg} — reload the page to start again (the address bar keeps your lab)."
            )));
            let _ = el.remove_attribute("hidden");
        }
    }));
}
