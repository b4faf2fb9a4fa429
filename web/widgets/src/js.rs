//! The wasm exports (wasm32 only): what `js/pagelab-widgets.js` calls.
//!
//! Every argument comes from page code and is checked: a wrong type or value
//! is a thrown JS `Error` with a plain message (and `line` and `column` for a
//! mistake in a scenario), never a panic.

use std::collections::BTreeMap;

use js_sys::{Object, Reflect};
use pagelab_core::lab::scenario;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_sys::Element;
use yew::AppHandle;

use crate::api::{self, AddrArg, TranslateReq};
use crate::options::{self, Kind};
use crate::prepare::prepare;
use crate::source::Problem;
use crate::view::{Same, Widget, WidgetProps};

/// A thrown `Error` for a problem, with `line` and `column` when it has them.
fn error(p: &Problem) -> JsValue {
    let e = js_sys::Error::new(&p.message);
    if let (Some(l), Some(c)) = (p.line, p.column) {
        let _ = Reflect::set(&e, &"line".into(), &JsValue::from(l));
        let _ = Reflect::set(&e, &"column".into(), &JsValue::from(c));
    }
    e.into()
}

fn plain(message: impl Into<String>) -> JsValue {
    error(&Problem::plain(message))
}

/// A Rust value as a plain JS object (null for None, arrays for lists).
fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| plain(format!("pagelab could not convert its answer: {e}")))
}

/// An address from JS: a number, a BigInt or a string.
fn addr_arg(v: &JsValue, what: &str) -> Result<AddrArg, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(AddrArg::Text(s));
    }
    if let Some(x) = v.as_f64() {
        return Ok(AddrArg::Number(x));
    }
    if v.is_bigint() {
        let b = js_sys::BigInt::from(v.clone());
        let text = b.to_string(16).map_err(|_| plain(format!("{what}: this BigInt cannot be read")))?;
        let text = String::from(text);
        if text.starts_with('-') {
            return Err(plain(format!("{what}: an address cannot be negative")));
        }
        return Ok(AddrArg::Text(format!("0x{text}")));
    }
    Err(plain(format!("{what} must be a number, a BigInt or a string like \"0x403abc\"")))
}

/// A string argument.
fn string_arg(v: &JsValue, what: &str) -> Result<String, JsValue> {
    v.as_string().ok_or_else(|| plain(format!("{what} must be a string")))
}

/// A property of an options object (undefined and null: absent).
fn prop(obj: &JsValue, name: &str) -> Result<Option<JsValue>, JsValue> {
    if obj.is_undefined() || obj.is_null() {
        return Ok(None);
    }
    let v = Reflect::get(obj, &name.into()).map_err(|_| plain(format!("the option {name} cannot be read")))?;
    Ok(if v.is_undefined() || v.is_null() { None } else { Some(v) })
}

/// Refuse a property of `obj` that `call` does not take (a misspelt one would
/// otherwise be ignored without a word).
fn only(obj: &JsValue, allowed: &[&str], call: &str) -> Result<(), JsValue> {
    for key in Object::keys(&Object::from(obj.clone())).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            return Err(plain(format!(
                "{call} has no option {}: its options are {}",
                options::short(&key, 30),
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

/// A whole number ≥ 0 from a number or a string (or "last").
fn step_arg(v: &JsValue) -> Result<Option<usize>, JsValue> {
    if let Some(x) = v.as_f64() {
        if x.is_finite() && x >= 0.0 && x.fract() == 0.0 {
            if x <= 1e9 {
                return Ok(Some(x as usize));
            }
            return Err(plain(format!(
                "step {x} is past the end: a scenario here has at most {} operations, so steps go to {0} at most",
                options::MAX_WIDGET_OPS
            )));
        }
        return Err(plain(format!(
            "step {} is not a step: a whole number (0 = just booted), or \"last\"",
            api::js_number(x)
        )));
    }
    match v.as_string() {
        Some(s) => options::parse_step(&s).map_err(plain),
        None => Err(plain("step must be a whole number or \"last\"")),
    }
}

/// `pagelab.decompose(scheme, address)`.
#[wasm_bindgen]
pub fn decompose(scheme: JsValue, address: JsValue) -> Result<JsValue, JsValue> {
    let scheme = string_arg(&scheme, "the scheme (\"x86\", \"sv39\" or \"sv32\")")?;
    let a = addr_arg(&address, "the address")?;
    to_js(&api::decompose(&scheme, &a).map_err(|p| error(&p))?)
}

/// `pagelab.translate({scenario | machine, step, pid, address, access})`.
#[wasm_bindgen]
pub fn translate(request: JsValue) -> Result<JsValue, JsValue> {
    if !request.is_object() {
        return Err(plain(
            "translate takes an object: {scenario: \"story-x86\", step: 7, pid: 3, address: \"0x2fcc\", access: \"user-read\"}",
        ));
    }
    only(&request, &["scenario", "machine", "step", "pid", "address", "access"], "translate")?;
    let text = |name: &str| -> Result<Option<String>, JsValue> {
        prop(&request, name)?.map(|v| string_arg(&v, name)).transpose()
    };
    let pid = match prop(&request, "pid")? {
        None => options::PidChoice::Auto,
        Some(v) => match v.as_f64() {
            Some(x) => options::parse_pid(&api::js_number(x)).map_err(plain)?,
            None => {
                options::parse_pid(&v.as_string().ok_or_else(|| plain("pid must be a number like 3, or \"kernel\""))?)
                    .map_err(plain)?
            }
        },
    };
    let Some(address) = prop(&request, "address")? else {
        return Err(plain("translate needs an address"));
    };
    let req = TranslateReq {
        scenario: text("scenario")?,
        machine: text("machine")?,
        step: prop(&request, "step")?.map(|v| step_arg(&v)).transpose()?.flatten(),
        pid,
        address: addr_arg(&address, "the address")?,
        access: text("access")?,
    };
    to_js(&api::translate(&req).map_err(|p| error(&p))?)
}

/// `pagelab.run(text)`.
#[wasm_bindgen]
pub fn run(text: JsValue) -> Result<JsValue, JsValue> {
    let t = string_arg(&text, "run's argument (scenario text)")?;
    to_js(&api::run(&t).map_err(|p| error(&p))?)
}

/// `pagelab.runPrograms({machine, lines, steps})`.
#[wasm_bindgen]
pub fn run_programs(request: JsValue) -> Result<JsValue, JsValue> {
    if !request.is_object() {
        return Err(plain(
            "runPrograms takes an object: {machine: \"xv6-riscv\", lines: [\"echo hello world\"], steps: 0}",
        ));
    }
    only(&request, &["machine", "lines", "steps"], "runPrograms")?;
    let machine = prop(&request, "machine")?.map(|v| string_arg(&v, "machine")).transpose()?;
    let lines = match prop(&request, "lines")? {
        None => Vec::new(),
        Some(v) if js_sys::Array::is_array(&v) => {
            let a = js_sys::Array::from(&v);
            if a.length() as usize > api::MAX_LINES {
                return Err(plain(format!("runPrograms types at most {} lines", api::MAX_LINES)));
            }
            a.iter().enumerate().map(|(i, l)| string_arg(&l, &format!("lines[{i}]"))).collect::<Result<Vec<_>, _>>()?
        }
        Some(_) => return Err(plain("lines must be an array of strings, one line for sh each")),
    };
    let steps = match prop(&request, "steps")? {
        None => 0,
        Some(v) => match v.as_f64() {
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= api::MAX_STEPS as f64 => x as u64,
            _ => return Err(plain(format!("steps must be a whole number from 0 to {}", api::MAX_STEPS))),
        },
    };
    to_js(&api::run_programs(&api::ProgramsReq { machine, lines, steps }).map_err(|p| error(&p))?)
}

/// `pagelab.builtins()`.
#[wasm_bindgen]
pub fn builtins() -> Result<JsValue, JsValue> {
    to_js(&api::builtins())
}

/// A quiz's settings from a JS options object (`{set, scenario, text, seed,
/// student, questions}`), and whether `answers: true` was given.
fn quiz_cfg(options: &JsValue) -> Result<(options::QuizCfg, bool), JsValue> {
    if !options.is_object() && !options.is_undefined() && !options.is_null() {
        return Err(plain("the quiz's options must be an object, like {set: \"quiz-shm\", seed: 7}"));
    }
    if options.is_object() {
        only(options, &["set", "scenario", "text", "seed", "student", "questions", "answers"], "quiz")?;
    }
    let answers = match prop(options, "answers")? {
        None => false,
        Some(v) => v.as_bool().ok_or_else(|| plain("the option answers must be true or false"))?,
    };
    let (mut attrs, inline) = attrs_of(Kind::Quiz, options, false)?;
    attrs.remove("answers");
    match options::parse(Kind::Quiz, &attrs, inline.as_deref())
        .map_err(|e| plain(api::api_words(&e, Kind::Quiz, "quiz")))?
    {
        options::Config::Quiz(q) => Ok((q, answers)),
        _ => Err(plain("pagelab could not read the quiz's options")),
    }
}

/// `pagelab.quiz({set | scenario | text, seed | student, questions, answers})`.
#[wasm_bindgen]
pub fn quiz(options: JsValue) -> Result<JsValue, JsValue> {
    let (q, answers) = quiz_cfg(&options)?;
    to_js(&api::quiz(&q, answers).map_err(|p| error(&api::api_problem(p, Kind::Quiz, "quiz")))?)
}

/// `pagelab.check(options, number, answer)`.
#[wasm_bindgen]
pub fn check(options: JsValue, number: JsValue, answer: JsValue) -> Result<JsValue, JsValue> {
    let (q, _) = quiz_cfg(&options)?;
    let n = match number.as_f64() {
        Some(x) if x.is_finite() && x >= 1.0 && x.fract() == 0.0 && x <= 1e9 => x as usize,
        Some(x) => return Err(plain(format!("question {x} is not a question number: they are whole numbers from 1"))),
        None => match number.as_string().map(|s| s.trim().parse::<usize>()) {
            Some(Ok(x)) if x >= 1 => x,
            _ => return Err(plain("the question number must be a whole number from 1")),
        },
    };
    let a = string_arg(&answer, "the answer")?;
    to_js(&api::check(&q, n, &a).map_err(|p| error(&api::api_problem(p, Kind::Quiz, "quiz")))?)
}

/// A widget drawn in an element: `destroy()` removes it; `error` says why it shows a message instead.
#[wasm_bindgen]
pub struct WidgetHandle {
    app: Option<AppHandle<Widget>>,
    mount: Option<Element>,
    error: Option<String>,
}

#[wasm_bindgen]
impl WidgetHandle {
    /// Why the widget shows a message instead of its view (undefined if it does not).
    #[wasm_bindgen(getter)]
    pub fn error(&self) -> Option<String> {
        self.error.clone()
    }

    /// Remove the widget from its element and free it.
    pub fn destroy(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
        if let Some(m) = self.mount.take() {
            m.remove();
        }
    }
}

/// An options object as attributes: strings, numbers and booleans become
/// text; the scenario text goes apart. For an element (`element`), the
/// options are its attributes as they are and `scenario` names a built-in
/// scenario only; through the API, `scenario` may also be scenario text.
fn attrs_of(
    kind: Kind,
    options: &JsValue,
    element: bool,
) -> Result<(BTreeMap<String, String>, Option<String>), JsValue> {
    let mut attrs = BTreeMap::new();
    let mut inline = None;
    if options.is_undefined() || options.is_null() {
        return Ok((attrs, inline));
    }
    if !options.is_object() {
        return Err(plain("the options must be an object, like {address: \"0x2fcc\"}"));
    }
    for pair in Object::entries(&Object::from(options.clone())).iter() {
        let pair = js_sys::Array::from(&pair);
        let key = pair.get(0).as_string().unwrap_or_default();
        let v = pair.get(1);
        let value = if key == "address" && !element && v.as_string().is_none() {
            // A number has no base: as an attribute it is written in hex, with 0x.
            api::address_attribute(&addr_arg(&v, "the option address")?).map_err(|p| error(&p))?
        } else if let Some(s) = v.as_string() {
            s
        } else if let Some(x) = v.as_f64() {
            if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { api::js_number(x) }
        } else if let Some(b) = v.as_bool() {
            b.to_string()
        } else if let Some(n) = v.dyn_ref::<js_sys::BigInt>() {
            // A seed above 2^53 fits a BigInt, not a number.
            n.to_string(10).map(String::from).map_err(|_| plain(format!("the option {key} cannot be read")))?
        } else if v.is_undefined() || v.is_null() {
            continue;
        } else {
            return Err(plain(format!(
                "the option {} must be a string, a number, a BigInt or true/false",
                options::short(&key, 30)
            )));
        };
        if !element && (key == "text" || key == "scenario") && value.trim().is_empty() {
            // Built from a string that came out empty, most likely: refused, not read as no scenario.
            return Err(plain(format!(
                "the option {key} is empty: give {}",
                if key == "text" {
                    "scenario text"
                } else {
                    "a built-in scenario's name (\"story-x86\") or scenario text"
                }
            )));
        }
        if element {
            attrs.insert(key, value);
        } else if key == "text" {
            inline = Some(value);
        } else if key == "scenario" && kind != Kind::Exec && scenario::builtin(value.trim()).is_none() {
            // Through the API, scenario= may also be scenario text.
            inline = Some(value);
        } else {
            attrs.insert(key, value);
        }
    }
    Ok((attrs, inline))
}

/// Draw a widget of `kind` in `target` (a `div` is added inside it). Bad
/// settings draw a message instead, and the handle's `error` says it.
///
/// `element_text` is undefined for `pagelab.render`; for a custom element it
/// is the scenario text inside the element (or null), and `options` are the
/// element's attributes.
#[wasm_bindgen]
pub fn render(
    target: JsValue,
    kind: JsValue,
    options: JsValue,
    element_text: JsValue,
) -> Result<WidgetHandle, JsValue> {
    let target: Element = target.dyn_into().map_err(|_| plain("render needs an element to draw in"))?;
    let kind_name = string_arg(&kind, "the kind of widget")?;
    let kind = Kind::from_name(&kind_name).ok_or_else(|| {
        plain(format!(
            "there is no widget called \"{}\"; the widgets are {}",
            options::short(&kind_name, 30),
            Kind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let element = !element_text.is_undefined();
    let (attrs, mut inline) = attrs_of(kind, &options, element)?;
    if element {
        inline = element_text.as_string();
    }
    // An element's <script type="text/plain"> that is there but empty: a scenario left out by mistake.
    let prepared = if element && inline.as_deref().is_some_and(|t| t.trim().is_empty()) {
        Err(Problem::plain(format!(
            "the <script type=\"text/plain\"> inside <{}> is empty: write a scenario in it, or remove it",
            kind.tag()
        )))
    } else if element {
        prepare(kind, &attrs, inline.as_deref())
    } else {
        prepare(kind, &attrs, inline.as_deref())
            .map_err(|p| api::api_problem(p, kind, &format!("the {} widget", kind.name())))
    };
    let error = prepared.as_ref().err().map(|p| p.message.clone());
    let doc = target.owner_document().ok_or_else(|| plain("the element is not in a document"))?;
    let mount = doc.create_element("div").map_err(|_| plain("pagelab could not make an element"))?;
    mount.set_class_name(if error.is_some() { "pl pl-failed" } else { "pl" });
    target.append_child(&mount).map_err(|_| plain("pagelab could not add its element"))?;
    let props = WidgetProps { tag: kind.tag().into(), drawn: Same::new(prepared) };
    let app = yew::Renderer::<Widget>::with_root_and_props(mount.clone(), props).render();
    Ok(WidgetHandle { app: Some(app), mount: Some(mount), error })
}
