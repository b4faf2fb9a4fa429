//! The wasm exports in a real browser (headless Chromium through
//! wasm-bindgen-test-runner): draw widgets into elements, call the API with
//! JS values, and read what comes back.
#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use pagelab_widgets::js;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

fn host() -> Element {
    let doc = web_sys::window().and_then(|w| w.document()).expect("a document");
    let el = doc.create_element("div").expect("a div");
    doc.body().expect("a body").append_child(&el).expect("appended");
    el
}

fn text(root: &Element, sel: &str) -> String {
    root.query_selector(sel).ok().flatten().and_then(|e| e.text_content()).unwrap_or_default()
}

fn get(v: &JsValue, path: &[&str]) -> JsValue {
    path.iter().fold(v.clone(), |v, k| Reflect::get(&v, &(*k).into()).unwrap_or(JsValue::UNDEFINED))
}

fn options(pairs: &[(&str, &str)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), &(*v).into());
    }
    o.into()
}

#[wasm_bindgen_test]
async fn a_translate_widget_draws_the_fields() {
    let el = host();
    let mut h =
        js::render(el.clone().into(), "translate".into(), options(&[("address", "0x00403abc")]), JsValue::UNDEFINED)
            .expect("drawn");
    assert_eq!(h.error(), None);
    yew::scheduler::flush().await;
    // 0x00403abc: PDX 1, PTX 3, offset 0xabc.
    assert_eq!(text(&el, "[data-field=\"PDX\"] .fhex"), "0x1");
    assert_eq!(text(&el, "[data-field=\"PTX\"] .fhex"), "0x3");
    assert_eq!(text(&el, "[data-field=\"offset\"] .fhex"), "0xabc");
    h.destroy();
    assert_eq!(el.child_element_count(), 0);
}

#[wasm_bindgen_test]
async fn bad_settings_draw_a_message_in_that_element_only() {
    let good = host();
    let bad = host();
    let _g = js::render(good.clone().into(), "frames".into(), JsValue::UNDEFINED, JsValue::NULL).expect("drawn");
    let b = js::render(bad.clone().into(), "walk".into(), options(&[("address", "0x0"), ("step", "x")]), JsValue::NULL)
        .expect("drawn");
    yew::scheduler::flush().await;
    assert_eq!(b.error().as_deref(), Some("step=\"x\" is not a step: write a whole number (0 = just booted) or last"));
    assert!(text(&bad, ".pl-error").contains("<pagelab-walk> cannot be shown: step=\"x\""));
    // The default frames widget: the story on xv6-public, 224 MB = 57,344 frames.
    assert!(text(&good, ".summary").starts_with("57344 frames"), "{}", text(&good, ".summary"));
    // Not an element, not a widget: thrown errors.
    let e = js::render(JsValue::from_str("#x"), "walk".into(), JsValue::UNDEFINED, JsValue::UNDEFINED).err();
    assert!(
        e.and_then(|e| e.dyn_into::<js_sys::Error>().ok())
            .is_some_and(|e| String::from(e.message()).contains("element"))
    );
}

#[wasm_bindgen_test]
fn the_api_returns_plain_objects_and_errors_with_line_and_column() {
    let d = js::decompose("x86".into(), JsValue::from_f64(4_209_340.0)).expect("decomposed");
    assert_eq!(get(&d, &["index", "PDX"]).as_f64(), Some(1.0));
    assert_eq!(get(&d, &["address"]).as_string().as_deref(), Some("0x00403abc"));
    let e = js::run("userinit\n\nfork 1 2\n".into()).expect_err("a mistake");
    // `fork` takes one pid: the extra word is at column 8 of line 3.
    assert_eq!(get(&e, &["line"]).as_f64(), Some(3.0));
    assert_eq!(get(&e, &["column"]).as_f64(), Some(8.0));
    assert!(e.is_instance_of::<js_sys::Error>());
    let r = js::run("userinit\nfork 1\n".into()).expect("ran");
    assert_eq!(get(&r, &["steps", "1", "result", "value"]).as_f64(), Some(2.0));
    assert!(get(&r, &["steps", "1", "result", "error"]).is_null());
}
