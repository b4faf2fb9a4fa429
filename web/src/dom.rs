//! The few things the page does to the document itself: bring a panel into
//! sight, put the cursor in a field, copy text. Outside a browser (host
//! tests) they do nothing.

#[cfg(target_arch = "wasm32")]
thread_local! {
    /// The step and changed panels last cycled through, and the panel shown last.
    static SHOWN: std::cell::RefCell<(String, usize)> = const { std::cell::RefCell::new((String::new(), 0)) };
}

/// Bring the next panel marked `.changed` into sight, in page order (the
/// first one again after the last; the first one first after the step
/// changes), and move the keyboard focus to its heading. Returns the
/// panel's heading text, or `None` if no panel changed.
pub fn show_next_changed() -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        let doc = web_sys::window()?.document()?;
        let list = doc.query_selector_all(".panel.changed").ok()?;
        let mut panels = Vec::new();
        for i in 0..list.length() {
            if let Some(e) = list.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                panels.push(e);
            }
        }
        if panels.is_empty() {
            return None;
        }
        let step = doc.get_element_by_id("step-pos").and_then(|e| e.text_content()).unwrap_or_default();
        let ids: Vec<String> = panels.iter().map(web_sys::Element::id).collect();
        let key = format!("{step}|{}", ids.join(","));
        let at = SHOWN.with(|s| {
            let mut s = s.borrow_mut();
            let at = if s.0 == key { (s.1 + 1) % panels.len() } else { 0 };
            *s = (key, at);
            at
        });
        let next = &panels[at];
        let opts = web_sys::ScrollIntoViewOptions::new();
        opts.set_block(web_sys::ScrollLogicalPosition::Start);
        next.scroll_into_view_with_scroll_into_view_options(&opts);
        let heading = next.query_selector("h2").ok().flatten();
        if let Some(h) = heading.as_ref().and_then(|h| h.clone().dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = h.focus_with_options(&{
                let o = web_sys::FocusOptions::new();
                o.set_prevent_scroll(true);
                o
            });
        }
        heading.and_then(|h| h.text_content())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        None
    }
}

/// The element with `id`, as a `T`, if there is one.
#[cfg(target_arch = "wasm32")]
fn by_id<T: wasm_bindgen::JsCast>(id: &str) -> Option<T> {
    use wasm_bindgen::JsCast as _;
    web_sys::window()?.document()?.get_element_by_id(id)?.dyn_into::<T>().ok()
}

/// Put the keyboard focus on the element with `id` and bring it into
/// sight; a text field's text is selected, so that typing replaces it.
pub fn focus(id: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(e) = scroll_and_focus(id, web_sys::ScrollLogicalPosition::Center)
            && let Ok(i) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(e)
        {
            i.select();
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = id;
}

/// Scroll the element with `id` to `block` of the window and focus it; the element, if found.
#[cfg(target_arch = "wasm32")]
fn scroll_and_focus(id: &str, block: web_sys::ScrollLogicalPosition) -> Option<web_sys::HtmlElement> {
    let e = by_id::<web_sys::HtmlElement>(id)?;
    let opts = web_sys::ScrollIntoViewOptions::new();
    opts.set_block(block);
    e.scroll_into_view_with_scroll_into_view_options(&opts);
    let _ = e.focus();
    Some(e)
}

/// Bring the element with `id` to the top of the window (below the sticky
/// step bar: the page's scroll padding) and put the keyboard focus on it:
/// for a heading whose panel a control elsewhere just changed.
pub fn show_at_top(id: &str) {
    #[cfg(target_arch = "wasm32")]
    let _ = scroll_and_focus(id, web_sys::ScrollLogicalPosition::Start);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = id;
}

/// Put the keyboard focus on the first of `ids` that is on the page, where
/// it is (no scrolling: for a control that replaces the one just pressed).
pub fn focus_first_of(ids: &[&str]) {
    #[cfg(target_arch = "wasm32")]
    if let Some(e) = ids.iter().find_map(|id| by_id::<web_sys::HtmlElement>(id)) {
        let _ = e.focus();
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = ids;
}

/// If the keyboard focus is on a disabled element, or has fallen to the
/// page itself (the browser moves it there from a disabled or removed
/// element when it next draws), put it on `to`, without scrolling; else
/// leave it where it is.
pub fn refocus_if_lost(to: &yew::NodeRef) {
    #[cfg(target_arch = "wasm32")]
    {
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        // Inside a widget's shadow root the document sees only the host: look in.
        let mut active = doc.active_element();
        while let Some(inner) = active.as_ref().and_then(web_sys::Element::shadow_root).and_then(|r| r.active_element())
        {
            active = Some(inner);
        }
        let lost = match (active, doc.body()) {
            (None, _) => true,
            (Some(a), Some(b)) => {
                AsRef::<web_sys::Node>::as_ref(&b).is_same_node(Some(a.as_ref()))
                    || a.matches(":disabled").unwrap_or(false)
            }
            (Some(a), None) => a.matches(":disabled").unwrap_or(false),
        };
        if lost && let Some(e) = to.cast::<web_sys::HtmlElement>() {
            let _ = e.focus();
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = to;
}

/// Put `text` on the clipboard (where the browser allows it).
pub fn copy(text: &str) {
    #[cfg(target_arch = "wasm32")]
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = text;
}

/// Where this site's widgets module is: the page's folder + `widgets/pagelab-widgets.js`.
#[must_use]
pub fn widgets_url() -> String {
    let href = href();
    let page = href.split(['#', '?']).next().unwrap_or("");
    let folder = page.rfind('/').map_or("", |i| &page[..=i]);
    format!("{folder}widgets/pagelab-widgets.js")
}

/// The page's address (for "copy link").
#[must_use]
pub fn href() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        String::new()
    }
}

/// Go to the fragment `#frag` (a new history entry): the lab opens it as a link pasted into the address bar.
pub fn set_hash(frag: &str) {
    #[cfg(target_arch = "wasm32")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(frag);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = frag;
}

/// Open or close the `<details>` element with `id`, and focus its summary.
pub fn toggle_details(id: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        if let Some(d) = by_id::<web_sys::HtmlDetailsElement>(id) {
            d.set_open(!d.open());
            if let Some(s) =
                d.query_selector("summary").ok().flatten().and_then(|s| s.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = s.focus();
            }
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = id;
}

/// Offer `text` as a file called `name` (of type `mime`) to download.
pub fn download(name: &str, mime: &str, text: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type(mime);
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else { return };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
        let doc = web_sys::window().and_then(|w| w.document());
        if let Some(a) = doc
            .as_ref()
            .and_then(|d| d.create_element("a").ok())
            .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        {
            a.set_href(&url);
            a.set_download(name);
            a.click();
        }
        let _ = web_sys::Url::revoke_object_url(&url);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (name, mime, text);
}

/// The time now, in milliseconds since 1970 (0 off the browser).
#[must_use]
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

thread_local! {
    static QUIZ_FOCUS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Note that the learner is answering with the keyboard in the quiz: the next
/// question (or the button that shows the step) should get the focus.
pub fn want_quiz_focus() {
    QUIZ_FOCUS.with(|f| f.set(true));
}

/// Whether the focus should move to the quiz's next control (and forget it).
#[must_use]
pub fn take_quiz_focus() -> bool {
    QUIZ_FOCUS.with(|f| f.replace(false))
}
