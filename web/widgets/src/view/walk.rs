//! `<pagelab-translate>` and `<pagelab-walk>`: an address cut into its
//! fields, and the MMU's walk through a process's page table.

use pagelab_core::scheme::{Decomposition, SchemeKind, words};
use pagelab_core::walk::Translation;
use pagelab_web::components::inline;
use pagelab_web::input::{self, address_rule};
use pagelab_web::present::{addr_digits, bits, field_class, hex, table_name};
use pagelab_web::select::AccessChoice;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::{Same, caption};
use crate::prepare::WalkIn;

/// The fields of an address, each with its bits, hex and decimal value.
fn fields_view(d: &Decomposition) -> Html {
    html! {
        <div class="fields" aria-label="The address cut into its fields">
            for f in d.fields.iter() {
                <div class={classes!("field", field_class(f.role))} data-field={f.name}>
                    <div class="fname">{ f.name }<span class="frange">{ format!(" bits {}–{}", f.hi, f.lo) }</span></div>
                    <div class="fbits">{ bits(f.value, f.hi, f.lo) }</div>
                    <div class="fval"><span class="fhex">{ format!("{:#x}", f.value) }</span>{ " = " }<span class="fdec">{ f.value }</span></div>
                </div>
            }
        </div>
    }
}

/// The walk, entry by entry, and where it ends.
fn walk_view(t: &Translation, access: AccessChoice, owner: &str) -> Html {
    let scheme = t.scheme;
    let riscv = scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let entry_digits = if riscv { 16 } else { 8 };
    let reg = if riscv {
        format!("satp → root table at {}, {owner}", hex(t.root.as_u64(), digits))
    } else {
        format!("cr3 = {} → {owner}", hex(t.root.as_u64(), digits))
    };
    html! {
        <ol class="walk" aria-label="The page-table walk, step by step">
            <li class="wstep root">{ reg }</li>
            for s in t.steps.iter() {
                <li class={classes!("wstep", if s.leaf || s.level == 0 { "leaf" } else { "dir" })} data-level={s.level.to_string()}>
                    <div>
                        <strong>{ format!("{}[{} = {}]", table_name(scheme, s.level), s.field, s.index) }</strong>
                        { format!(" entry at {} (= {} + {} × {})", hex(s.entry_addr.as_u64(), digits), hex(s.table.as_u64(), digits), s.index, scheme.entry_bytes()) }
                    </div>
                    <div>
                        { "value " }<code class="pte">{ hex(s.entry, entry_digits) }</code>{ " " }
                        for b in s.flags.iter() {
                            <span class={classes!("flag", if b.set { "on" } else { "off" })}>
                                { if b.set { b.name.to_string() } else { format!("no {}", b.name.trim_start_matches("PTE_")) } }
                            </span>
                        }
                    </div>
                    <div class="pteword">{ words::entry_words(scheme, s.entry, s.level) }</div>
                    if s.entry & 1 != 0 {
                        <div class="to">{
                            if s.leaf { format!("→ frame {}", hex(s.points_to.as_u64(), digits)) }
                            else { format!("→ next table at {}", hex(s.points_to.as_u64(), digits)) }
                        }</div>
                    }
                </li>
            }
            {
                match &t.outcome {
                    Ok(m) => html! {
                        <li class="wstep result ok">
                            <strong>{ "physical address" }</strong>
                            { format!(" = frame {} | offset {:#x} = ", hex(m.frame.as_u64(), digits), m.offset) }
                            <code class="pa">{ hex(m.pa.as_u64(), digits) }</code>
                            { format!(" ({} allowed)", access.label()) }
                        </li>
                    },
                    Err(f) => html! {
                        <li class="wstep result fault">
                            <strong>{ "fault: " }</strong>
                            <span class="fault-text">{ f.text.clone() }</span>
                            { format!(" ({} {:#x}): a {} here traps.", if riscv { "scause" } else { "error code" }, f.code, access.label()) }
                        </li>
                    },
                }
            }
        </ol>
    }
}

/// Whose table a walk uses, in words.
fn owner_words(pid: Option<u32>) -> String {
    match pid {
        Some(p) => format!("the page table of pid {p}"),
        None => "the kernel's page table".into(),
    }
}

/// Props of [`TranslateWidget`].
#[derive(Properties, PartialEq)]
pub struct TranslateProps {
    /// The scheme.
    pub scheme: SchemeKind,
    /// The first address (it reads).
    pub address: AttrValue,
    /// Where to walk it, if anywhere.
    pub walk: Option<Same<WalkIn>>,
    /// No field to type in.
    pub fixed: bool,
}

/// Type an address, see its fields (and its walk, with a machine).
#[component]
pub fn TranslateWidget(props: &TranslateProps) -> Html {
    let text = use_state(|| props.address.to_string());
    let last_good = use_mut_ref(|| input::parse_address(&props.address, props.scheme).unwrap_or(0));
    let parsed = input::parse_address(&text, props.scheme);
    if let Ok(v) = parsed {
        *last_good.borrow_mut() = v;
    }
    let va = *last_good.borrow();
    let error = parsed.err();
    let oninput = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            text.set(i.value());
        })
    };
    let scheme = props.scheme;
    let d = scheme.decompose(va);
    let walk = props.walk.as_ref().map(|w| {
        let t = w.at.lab.kernel().translate(w.pid, va, w.access.access());
        (w.clone(), t)
    });
    html! {
        <div class="pl-translate">
            if let Some((w, _)) = &walk {
                { caption("translate", &w.at) }
            } else {
                <p class="pl-caption"><span class="pl-what">{ "translate" }</span>{ format!(" · {scheme}") }</p>
            }
            if !props.fixed {
                <label class="addr-row">
                    <span>{ "Virtual address " }</span>
                    // The rule and the message are read with the field, each time it takes the focus (the
                    // widget has a shadow root of its own, so these ids are its own).
                    <input class="addr-in" value={(*text).clone()} {oninput} autocomplete="off" spellcheck="false"
                        aria-describedby="pl-addr-rule pl-addr-error"
                        aria-invalid={if error.is_some() { "true" } else { "false" }} />
                </label>
                <p class="help" id="pl-addr-rule">{ address_rule(props.scheme) }</p>
                <p class="error-inline" id="pl-addr-error" role="status">{ inline(&error.clone().map(|e| format!("{e} (showing {})", hex(va, addr_digits(scheme == SchemeKind::Sv39)))).unwrap_or_default()) }</p>
            } else {
                <p class="addr-fixed">{ "Virtual address " }<code>{ hex(va, addr_digits(scheme == SchemeKind::Sv39)) }</code></p>
            }
            {
                match &d {
                    Ok(d) => fields_view(d),
                    Err(e) => html! { <p class="error-inline">{ inline(&e.to_string()) }</p> },
                }
            }
            {
                match &walk {
                    Some((w, Ok(t))) => html! {
                        <>
                            <p class="pl-sub">{ format!("The walk in {} ({}):", owner_words(w.pid), w.access.label()) }</p>
                            { walk_view(t, w.access, &owner_words(w.pid)) }
                        </>
                    },
                    Some((_, Err(e))) => html! { <p class="error-inline">{ inline(&e.to_string()) }</p> },
                    None => html! {},
                }
            }
        </div>
    }
}

/// Props of [`WalkWidget`].
#[derive(Properties, PartialEq)]
pub struct WalkProps {
    /// Where.
    pub walk: Same<WalkIn>,
    /// The address.
    pub va: u64,
}

/// One address walked in one process's page table.
#[component]
pub fn WalkWidget(props: &WalkProps) -> Html {
    let w = &props.walk;
    let k = w.at.lab.kernel();
    let scheme = k.info().scheme;
    let digits = addr_digits(scheme == SchemeKind::Sv39);
    let owner = owner_words(w.pid);
    html! {
        <div class="pl-walk">
            { caption("page walk", &w.at) }
            <p class="pl-sub">{ format!("{} of ", w.access.label()) }<code class="va">{ hex(props.va, digits) }</code>{ format!(" in {owner}") }</p>
            {
                match scheme.decompose(props.va) {
                    Ok(d) => fields_view(&d),
                    Err(e) => html! { <p class="error-inline">{ inline(&e.to_string()) }</p> },
                }
            }
            {
                match k.translate(w.pid, props.va, w.access.access()) {
                    Ok(t) => walk_view(&t, w.access, &owner),
                    Err(e) => html! { <p class="error-inline">{ inline(&e.to_string()) }</p> },
                }
            }
        </div>
    }
}
