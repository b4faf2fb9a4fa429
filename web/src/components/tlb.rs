use pagelab_core::lab::summary::plural;
use pagelab_core::lab::view::{TlbRow, tlb_rows};
use pagelab_core::port::Port;
use pagelab_core::scheme::SchemeKind;
use yew::prelude::*;

use super::{ChangedMark, InlineNotice};
use crate::hooks::use_lab;
use crate::present::{addr_digits, hex, tlb_now_text, tlb_whose};
use crate::state::{Action, Where};

/// CPU 0's TLB at this step: each cached translation, and whether the page
/// table still says the same.
#[component]
pub fn TlbPanel() -> Html {
    let lab = use_lab();
    let l = lab.lab();
    let k = l.kernel();
    let info = k.info();
    let riscv = info.scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let cur = lab.current();
    let changed = lab.changed_now().tlb;
    let counts = cur.checked_sub(1).and_then(|i| lab.full().steps().get(i)).map(|s| s.counts.tlb);
    let skip = k.skip_flush();
    let tlbs = k.tlbs();
    let Some(tlb) = tlbs.first() else { return html! {} };
    let rows = tlb_rows(k, 0);
    let whatif = !skip.is_none();
    let switch_label = if info.port == Port::Xv6Public {
        "Leave out growproc's switchuvm (no CR3 reload after sbrk)"
    } else {
        "Leave out the trampoline's sfence.vma (uservec and userret)"
    };
    let toggle = {
        let lab = lab.clone();
        Callback::from(move |e: Event| {
            let i: web_sys::HtmlInputElement = e.target_unchecked_into();
            lab.dispatch(Action::SetNoFlush(i.checked()));
        })
    };
    let select = {
        let lab = lab.clone();
        Callback::from(move |pa: u64| lab.dispatch(Action::SelectFrame(Some(pa))))
    };
    let how = if info.port == Port::Xv6Public {
        "xv6-public flushes it whenever it loads CR3: in switchuvm (the scheduler, exec, growproc) and switchkvm."
    } else {
        "xv6-riscv flushes it with sfence.vma in kvminithart and in the trampoline: uservec on every trap into the kernel, userret on every return to user space."
    };
    html! {
        <section class={classes!("panel", "tlbp", changed.then_some("changed"))} id="panel-tlb" aria-labelledby="tlb-h">
            <h2 id="tlb-h" tabindex="-1">{ "TLB of CPU 0" }<ChangedMark on={changed} step={cur} /></h2>
            <p class="help">
                { "The MMU keeps the translations it walked here and uses them again without reading the page table. A user load or store looks here first: a hit reads no page-table entry; a miss walks the table and fills a slot. Changing the page table does not change this list: only a flush empties it. " }
                { how }
            </p>
            <div class="whatif-switch">
                <input type="checkbox" id="noflush" checked={whatif} onchange={toggle} aria-describedby="noflush-help tlb-notice" />
                <label for="noflush">{ switch_label }</label>
                <p class="help" id="noflush-help">{ "What-if: replays every step of this timeline with that flush left out (the preset line's noflush=), and stays at this step. Clear it to replay with xv6's flush." }</p>
                <InlineNotice at={Where::Tlb} id="tlb-notice" />
            </div>
            if skip.growproc {
                <p class="whatif" id="tlb-whatif">{ "What-if (noflush=growproc): this machine's growproc returns without switchuvm, so after sbrk the TLB keeps the old translations. Real xv6-public reloads CR3 there." }</p>
            }
            if skip.trampoline {
                <p class="whatif" id="tlb-whatif">{ "What-if (noflush=trampoline): this machine's uservec and userret write satp without sfence.vma, so translations survive traps and process switches. Real xv6-riscv flushes there." }</p>
            }
            if let Some(c) = counts {
                <p id="tlb-counts"><strong>{ format!("Step {cur}: ") }</strong>{ c.to_string() }</p>
            }
            if rows.is_empty() {
                <p id="tlb-empty">{ format!("Empty: none of its {} slots holds a translation (a flush emptied it, or nothing was accessed since).", tlb.slots().len()) }</p>
            } else {
                <p id="tlb-use">{ format!("{} of {} slots in use. A fill takes the lowest empty slot, then the slots in turn.", rows.len(), tlb.slots().len()) }</p>
                <TlbTable rows={rows.clone()} {digits} id="tlb-table" on_frame={Some(select)} />
            }
            if tlbs.len() > 1 {
                <p class="help">{ format!("{}: the lab runs every process on CPU 0, so their TLBs stay empty.", if tlbs.len() == 2 { "CPU 1".to_string() } else { format!("CPUs 1–{}", tlbs.len() - 1) }) }</p>
            }
            <p class="sr-only">{ plural(rows.len() as u64, "translation", "translations") }{ " cached." }</p>
        </section>
    }
}

/// Props of [`TlbTable`].
#[derive(Properties, PartialEq)]
pub struct TlbTableProps {
    /// The slots in use.
    pub rows: Vec<TlbRow>,
    /// Hex digits of an address.
    pub digits: usize,
    /// The table's id.
    #[prop_or_default]
    pub id: Option<AttrValue>,
    /// Called with a frame when its button is pressed (none: the frame is plain text).
    #[prop_or_default]
    pub on_frame: Option<Callback<u64>>,
}

/// A TLB's slots in use: page, frame, what the table says now (STALE where
/// it differs), the cached bits and whose table the walk read.
#[component]
pub fn TlbTable(props: &TlbTableProps) -> Html {
    let digits = props.digits;
    html! {
        <div class="tablewrap" tabindex="0" role="region" aria-label="TLB slots (the table scrolls sideways)">
            <table id={props.id.clone()} class="tlbtable">
                <caption class="sr-only">{ "The TLB's slots in use" }</caption>
                <thead><tr>
                    <th scope="col">{ "slot" }</th><th scope="col">{ "page" }</th><th scope="col">{ "frame" }</th>
                    <th scope="col">{ "table now" }</th><th scope="col">{ "bits" }</th><th scope="col">{ "walked from" }</th>
                </tr></thead>
                <tbody>
                    for r in props.rows.iter() {
                        <tr data-slot={r.slot.to_string()} class={classes!(r.stale.then_some("stale"))}>
                            <td class="mono">{ r.slot }</td>
                            <td class="mono">{ hex(r.page.as_u64(), digits) }</td>
                            <td class="mono">{
                                match &props.on_frame {
                                    Some(cb) => {
                                        let (cb, pa) = (cb.clone(), r.frame.as_u64());
                                        html! {
                                            <button class="addr" onclick={Callback::from(move |_| cb.emit(pa))}
                                                aria-label={format!("{}: choose this frame in the frame map", hex(pa, digits))}>{ hex(pa, digits) }</button>
                                        }
                                    }
                                    None => html! { { hex(r.frame.as_u64(), digits) } },
                                }
                            }</td>
                            <td class="now">{ tlb_now_text(r, digits) }</td>
                            <td class="mono">{ r.bits.clone() }</td>
                            <td>{ tlb_whose(r) }</td>
                        </tr>
                    }
                </tbody>
            </table>
        </div>
    }
}
