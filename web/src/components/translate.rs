use pagelab_core::lab::place::{Place, after_fault, place};
use pagelab_core::lab::summary::plural;
use pagelab_core::lab::view::{TlbView, tlb_view};
use pagelab_core::scheme::{FaultKind, SchemeKind, words};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::inline;
use crate::hooks::use_lab;
use crate::input::address_rule;
use crate::present::{addr_digits, bits, field_class, hex, table_name};
use crate::state::{AccessChoice, Action};

/// What Sv39 makes of an address's top bits, when there is something to say:
/// bits 63..39 must copy bit 38, and xv6 stays below MAXVA = 2^38.
fn sv39_rule(va: u64) -> Option<String> {
    let b38 = va >> 38 & 1;
    let top = va >> 39;
    let copies = if b38 == 1 { (1u64 << 25) - 1 } else { 0 };
    if top != copies {
        Some(format!(
            "Sv39 translates 39-bit addresses: bits 63–39 must all be copies of bit 38. Here bit 38 is {b38}, but bits 63–39 are {top:#x}, not {copies:#x}: the MMU refuses the address with a page fault before it reads any table. xv6 itself only uses addresses below MAXVA = 0x4000000000 (2^38), one bit less than Sv39 allows, so it never needs the copies."
        ))
    } else if b38 == 1 {
        Some(
            "Sv39 accepts this address (bits 63–39 copy bit 38, which is 1), but it is at or above MAXVA = 0x4000000000: xv6 never maps anything there (its walk() panics for such an address).".to_string(),
        )
    } else {
        None
    }
}

/// Type an address, see its fields, and watch the MMU walk the page table.
#[component]
pub fn Translate() -> Html {
    let lab = use_lab();
    let l = lab.lab();
    let k = l.kernel();
    let info = k.info().clone();
    let scheme = info.scheme;
    let riscv = scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let kernbase = info.constants.iter().find(|(n, _)| n == "KERNBASE").map_or(0, |(_, v)| *v);
    let procs: Vec<(u32, String)> = k.procs().live().map(|p| (p.pid, p.name.clone())).collect();
    let pid = lab.table_pid();
    let access = lab.selection.access;
    let va = lab.selection.address;
    let error = lab.address_error.clone();
    let decomposition = va.map(|v| scheme.decompose(v));
    let translation = va.map(|v| k.translate(pid, v, access.access()));
    let here = va.map(|v| place(k, pid, v));
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
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            let v = s.value();
            if v == "kernel" {
                lab.dispatch(Action::UseKernelTable(true));
            } else if let Ok(p) = v.parse::<u32>() {
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
        Some(Err(e)) => html! { <p class="error-inline">{ inline(&e.to_string()) }</p> },
        None => html! {},
    };
    let rule = if riscv { va.and_then(sv39_rule) } else { None };

    // The kernel's view of the same byte, only where it applies.
    let p2v = match (&translation, &here, va) {
        (_, Some(Place::KernelRam { pa, .. } | Place::KernelLow { pa }), Some(v)) if !riscv => Some(format!(
            "A kernel address in the map of RAM: V2P({}) = va − KERNBASE = {}; P2V(pa) = pa + KERNBASE gives it back.",
            hex(v, 8),
            hex(*pa, 8)
        )),
        (Some(Ok(t)), Some(Place::Region { .. }), _) => match &t.outcome {
            Ok(m) if !riscv => Some(format!(
                "The kernel reaches the same byte at P2V({}) = {} (pa + KERNBASE).",
                hex(m.pa.as_u64(), 8),
                hex(m.pa.as_u64() + kernbase, 8)
            )),
            Ok(m) if m.pa.as_u64() >= kernbase && m.pa.as_u64() < info.phystop => Some(format!(
                "The kernel reaches the same byte at {}: its page table maps RAM one to one (KERNBASE to PHYSTOP), so pa = va there.",
                hex(m.pa.as_u64(), digits)
            )),
            _ => None,
        },
        _ => None,
    };

    // A hit that the access may use: then the walk's fault below does not happen now.
    let tlb_serves = va.filter(|_| !access.is_kernel()).is_some_and(|v| {
        matches!(tlb_view(k, pid, v, access.access()), TlbView::Hit { refused: false, dirty_walk: false, .. })
    });
    // What the TLB of the CPU operations run on would do with this access, beside the walk.
    let first = format!("TLB of CPU {} first:", k.cpu());
    let tlb_line = va.filter(|_| !access.is_kernel()).map(|v| {
        let levels = translation.as_ref().and_then(|t| t.as_ref().ok()).map_or(0, |t| t.steps.len());
        match tlb_view(k, pid, v, access.access()) {
            TlbView::Kernel => String::new(),
            TlbView::NotLoaded { running } => format!(
                "{first} pid {}'s table is not the one loaded there ({}). Running it loads its table first, which flushes that TLB, so this access would be a TLB miss and walk the table below.",
                pid.unwrap_or(0),
                running.map_or_else(|| "the kernel's is".to_string(), |r| format!("pid {r}'s is"))
            ),
            TlbView::Hit { slot, frame, refused, dirty_walk, stale, table_frame, .. } => {
                let mut t = format!("{first} slot {slot} holds this page (frame {}), so this access is a TLB hit and the MMU reads no page-table entry; the walk below is what the table itself says.", hex(frame.as_u64(), digits));
                if refused {
                    t.push_str(" But its bits refuse this access: it faults, and the slot is dropped.");
                } else if dirty_walk {
                    t.push_str(" But its dirty bit is clear, so for this store the MMU walks again to set it.");
                }
                if stale {
                    let now = match table_frame {
                        Some(f) if f == frame => "has other bits for this page".to_string(),
                        Some(f) => format!("maps frame {}", hex(f.as_u64(), digits)),
                        None => "maps nothing here".to_string(),
                    };
                    t.push_str(&format!(" STALE: the table now {now}, but the TLB's answer wins until the next flush."));
                }
                t
            }
            TlbView::Miss { .. } if levels == 0 => format!(
                "{first} this page is not cached, so this access is a TLB miss; the address fails the MMU's check before any page-table entry is read (below), so nothing is walked and no slot is filled."
            ),
            TlbView::Miss { slot, evicts } => format!(
                "{first} this page is not cached, so this access is a TLB miss: the MMU reads the {} below and, if the walk allows the access, fills slot {slot}{}.",
                plural(levels as u64, "page-table entry", "page-table entries"),
                evicts.map_or_else(String::new, |e| format!(", pushing out page {}", hex(e.as_u64(), digits)))
            ),
        }
    })
    .filter(|t| !t.is_empty())
    .map(|t| {
        if lab.run.is_some() {
            format!("{t} (This is the timeline's machine, replayed: the running programs' own fetches, loads and stores, with their TLB hits and the accessed and dirty bits they set, are on the Run panel.)")
        } else {
            t
        }
    });

    let live = match (&translation, va) {
        (Some(Ok(t)), Some(v)) => match &t.outcome {
            Ok(m) => format!("{} translates to physical address {}", hex(v, digits), hex(m.pa.as_u64(), digits)),
            Err(f) => format!("{} faults: {}", hex(v, digits), f.text),
        },
        _ => String::new(),
    };

    let walk_view = match (&translation, va) {
        (Some(Ok(t)), Some(_)) => {
            let reg = if riscv { "satp" } else { "cr3" };
            html! {
                <>
                if let Some(t) = &tlb_line {
                    <p class={classes!("tlbline", t.contains("STALE").then_some("stale"))} id="tlb-would">{ t.clone() }</p>
                }
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
                            <div class="pteword">{ words::entry_words(scheme, s.entry, s.level) }</div>
                            if s.entry & 1 != 0 {
                                <div class="pte2pa">{
                                    {
                                        let what = if s.leaf || s.level == 0 { "the frame".to_string() } else { "the next table".to_string() };
                                        let pa = s.points_to.as_u64();
                                        if riscv {
                                            format!("PTE2PA(pte) = (pte >> 10) << 12 = {} → {what}", hex(pa, digits))
                                        } else if s.leaf || s.level == 0 {
                                            format!("PTE_ADDR(pte) = pte & ~0xFFF = {} → {what}", hex(pa, digits))
                                        } else {
                                            format!("PTE_ADDR(pde) = pde & ~0xFFF = {} → {what} (walkpgdir reads it at P2V = {})", hex(pa, digits), hex(pa + kernbase, digits))
                                        }
                                    }
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
                                <li class="wstep result fault" id="walk-result">
                                    <strong>{ "Fault: " }</strong>
                                    <span id="fault-text">{ f.text.clone() }</span>
                                    { format!(" ({} {:#x}).", if riscv { "scause" } else { "error code" }, f.code) }
                                    <div class="after" id="after-fault">
                                        <strong>{ if tlb_serves { "What xv6 would do if the MMU walked (it does not: the TLB hits): " } else { "What xv6 does next: " } }</strong>
                                        {
                                            if f.kind == FaultKind::BadAddress && riscv && access.is_kernel() {
                                                "xv6's own code never makes such an access: walk() panics for va ≥ MAXVA, and copyin and copyout check addresses first.".to_string()
                                            } else {
                                                format!("{}.", after_fault(k, pid, access.access().mode))
                                            }
                                        }
                                    </div>
                                </li>
                            },
                        }
                    }
                </ol>
                <details class="legend" id="flag-legend">
                    <summary>{ "What each flag bit means" }</summary>
                    <p>{ words::leaf_rule(scheme) }</p>
                    <dl>
                        for (name, meaning) in words::bit_meanings(scheme).iter() {
                            <dt><code>{ *name }</code></dt>
                            <dd>{ *meaning }</dd>
                        }
                    </dl>
                </details>
                if let Some(h) = &here {
                    <p class="place" id="place"><strong>{ "What is here: " }</strong>{ h.words(info.port) }{ "." }</p>
                }
                if let Some(text) = p2v {
                    <p class="p2v" id="p2v">{ text }</p>
                }
                </>
            }
        }
        (Some(Err(reject)), _) => {
            html! { <p class="error-inline" id="walk-result">{ inline(&reject.to_string()) }</p> }
        }
        _ => html! {},
    };

    html! {
        <section class="panel translate" id="panel-translate" aria-labelledby="tr-h">
            <h2 id="tr-h" tabindex="-1">{ "Translate an address" }</h2>
            <div class="trform">
                <label for="address">{ "Virtual address" }</label>
                <input id="address" value={lab.address_text.clone()} {oninput} autocomplete="off" spellcheck="false"
                    aria-describedby="address-rule address-error" aria-invalid={if error.is_some() { "true" } else { "false" }} />
                <p class="help" id="address-rule">
                    { address_rule(scheme) }
                    if lab.address_auto { { " Until you type one, the address follows the step." } }
                </p>
                <p class="error-inline" id="address-error" role="status">{ inline(&error.clone().unwrap_or_default()) }</p>
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
            if let Some(r) = rule {
                <p class="rule" id="sv39-rule">{ r }</p>
            }
            { walk_view }
            <p class="sr-only" id="translate-live" aria-live="polite">{ live }</p>
        </section>
    }
}
