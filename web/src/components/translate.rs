use pagelab_core::scheme::SchemeKind;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::hooks::use_lab;
use crate::input::ADDRESS_RULE;
use crate::present::{addr_digits, bits, field_class, hex, table_name};
use crate::state::{AccessChoice, Action};

/// Type an address, see its fields, and watch the MMU walk the page table.
#[component]
pub fn Translate() -> Html {
    let lab = use_lab();
    let use_kernel = use_state(|| false);
    let l = lab.lab();
    let k = l.kernel();
    let info = k.info().clone();
    let scheme = info.scheme;
    let riscv = scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let kernbase = info.constants.iter().find(|(n, _)| n == "KERNBASE").map_or(0, |(_, v)| *v);
    let procs: Vec<(u32, String)> = k.procs().live().map(|p| (p.pid, p.name.clone())).collect();
    let pid = if *use_kernel { None } else { lab.selection.pid };
    let access = lab.selection.access;
    let va = lab.selection.address;
    let error = lab.address_error.clone();
    let decomposition = va.map(|v| scheme.decompose(v));
    let translation = va.map(|v| k.translate(pid, v, access.access()));
    let root_owner = match pid {
        Some(p) => format!("the page table of pid {p}"),
        None => "the kernel's own page table".to_string(),
    };

    let oninput = {
        let lab = lab.clone();
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            lab.dispatch(Action::SetAddress(i.value()));
        })
    };
    let on_access = {
        let lab = lab.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            if let Some(a) = AccessChoice::from_code(&s.value()) {
                lab.dispatch(Action::SetAccess(a));
            }
        })
    };
    let on_table = {
        let lab = lab.clone();
        let use_kernel = use_kernel.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            let v = s.value();
            if v == "kernel" {
                use_kernel.set(true);
            } else if let Ok(p) = v.parse::<u32>() {
                use_kernel.set(false);
                lab.dispatch(Action::SelectPid(p));
            }
        })
    };

    let fields_view = match &decomposition {
        Some(Ok(d)) => html! {
            <div class="fields" id="fields" aria-label="The address cut into its fields">
                for f in d.fields.iter() {
                    <div class={classes!("field", field_class(f.role))} data-field={f.name}>
                        <div class="fname">{ f.name }<span class="frange">{ format!(" bits {}–{}", f.hi, f.lo) }</span></div>
                        <div class="fbits" aria-label={format!("{} in binary", f.name)}>{ bits(f.value, f.hi, f.lo) }</div>
                        <div class="fval">
                            <span class="fhex">{ format!("{:#x}", f.value) }</span>
                            { " = " }
                            <span class="fdec">{ f.value }</span>
                        </div>
                    </div>
                }
            </div>
        },
        Some(Err(e)) => html! { <p class="error-inline">{ e.to_string() }</p> },
        None => html! {},
    };

    let walk_view = match (&translation, va) {
        (Some(Ok(t)), Some(va)) => {
            let reg = if riscv { "satp" } else { "cr3" };
            html! {
                <>
                <ol class="walk" id="walk" aria-label="The page-table walk, step by step">
                    <li class="wstep">
                        <strong>{ reg }</strong>
                        {
                            if riscv {
                                // xv6-riscv's MAKE_SATP: the mode (8 = Sv39) in the top bits, the root's page number below.
                                format!(" = MAKE_SATP(root) = {} → root table at {}, {}", hex((8u64 << 60) | (t.root.as_u64() >> 12), 16), hex(t.root.as_u64(), digits), root_owner)
                            } else {
                                format!(" = {} → {}", hex(t.root.as_u64(), digits), root_owner)
                            }
                        }
                    </li>
                    for s in t.steps.iter() {
                        <li class={classes!("wstep", if s.leaf || s.level == 0 { "leaf" } else { "dir" })} data-level={s.level.to_string()}>
                            <div>
                                <strong>{ format!("{}[{} = {}]", table_name(scheme, s.level), s.field, s.index) }</strong>
                                { format!(": entry at {} (= {} + {} × {})", hex(s.entry_addr.as_u64(), digits), hex(s.table.as_u64(), digits), s.index, scheme.entry_bytes()) }
                            </div>
                            <div>
                                { "value " }<code class="pte">{ hex(s.entry, if riscv { 16 } else { 8 }) }</code>
                                { " flags " }
                                <span class="flags">
                                    for b in s.flags.iter() {
                                        <span class={classes!("flag", if b.set { "on" } else { "off" })} title={format!("bit {}", b.bit)}>
                                            { if b.set { b.name.to_string() } else { format!("no {}", b.name.trim_start_matches("PTE_")) } }
                                        </span>
                                    }
                                </span>
                            </div>
                            if s.entry & 1 != 0 {
                                <div>{
                                    if s.leaf { format!("→ frame {}", hex(s.points_to.as_u64(), digits)) }
                                    else { format!("→ next table at {}", hex(s.points_to.as_u64(), digits)) }
                                }</div>
                            }
                        </li>
                    }
                    {
                        match &t.outcome {
                            Ok(m) => html! {
                                <li class="wstep result ok" id="walk-result">
                                    <strong>{ "Physical address" }</strong>
                                    { format!(" = frame {} | offset {:#x} = ", hex(m.frame.as_u64(), digits), m.offset) }
                                    <code id="pa">{ hex(m.pa.as_u64(), digits) }</code>
                                    { format!(" ({} allowed)", access.label()) }
                                </li>
                            },
                            Err(f) => html! {
                                <li class="wstep result fault" id="walk-result" role="note">
                                    <strong>{ "Fault: " }</strong>
                                    <span id="fault-text">{ f.text.clone() }</span>
                                    { format!(" ({} {:#x}). A {} here would trap; for a user access xv6 kills the process.",
                                        if riscv { "scause" } else { "error code" }, f.code, access.label()) }
                                </li>
                            },
                        }
                    }
                </ol>
                <>{
                    if riscv {
                        html! { <p class="p2v" id="p2v">{ format!("The kernel's page table maps RAM one-to-one: for KERNBASE {} ≤ va < PHYSTOP {}, the physical address is the virtual address.", hex(kernbase, digits), hex(info.phystop, digits)) }</p> }
                    } else if va >= kernbase {
                        html! { <p class="p2v" id="p2v">{ format!("A kernel address: V2P({}) = va − KERNBASE = {}; P2V(pa) = pa + KERNBASE gives it back.", hex(va, 8), hex(va - kernbase, 8)) }</p> }
                    } else if let Ok(m) = &t.outcome {
                        html! { <p class="p2v" id="p2v">{ format!("The kernel reaches the same byte at P2V({}) = {} (pa + KERNBASE).", hex(m.pa.as_u64(), 8), hex(m.pa.as_u64() + kernbase, 8)) }</p> }
                    } else {
                        html! {}
                    }
                }</>
                </>
            }
        }
        (Some(Err(reject)), _) => html! { <p class="error-inline" id="walk-result">{ reject.to_string() }</p> },
        _ => html! {},
    };

    html! {
        <section class="panel translate" aria-labelledby="tr-h">
            <h2 id="tr-h">{ "Translate an address" }</h2>
            <div class="trform">
                <label for="address">{ "Virtual address" }</label>
                <input id="address" value={lab.address_text.clone()} {oninput} autocomplete="off" spellcheck="false"
                    aria-describedby="address-rule address-error" aria-invalid={if error.is_some() { "true" } else { "false" }} />
                <p class="help" id="address-rule">{ ADDRESS_RULE }</p>
                <p class="error-inline" id="address-error" role="status">{ error.clone().unwrap_or_default() }</p>
                <label for="table">{ "Page table of" }</label>
                <select id="table" onchange={on_table}>
                    for (p, name) in procs.iter() {
                        <option value={p.to_string()} selected={pid == Some(*p)}>{ format!("pid {p} ({name})") }</option>
                    }
                    <option value="kernel" selected={pid.is_none()}>{ "the kernel (kernel page table)" }</option>
                </select>
                <label for="access">{ "Access" }</label>
                <select id="access" onchange={on_access}>
                    for a in AccessChoice::ALL {
                        <option value={a.code()} selected={a == access}>{ a.label() }</option>
                    }
                </select>
            </div>
            if error.is_some() && va.is_some() {
                <p class="help">{ format!("Showing the last address that read correctly, {}.", hex(va.unwrap_or(0), digits)) }</p>
            }
            { fields_view }
            { walk_view }
        </section>
    }
}
