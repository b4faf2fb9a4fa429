use pagelab_core::lab::summary::plural;
use pagelab_core::port::Port;
use pagelab_core::scheme::SchemeKind;
use yew::prelude::*;

use super::{ChangedMark, InlineNotice};
use crate::hooks::use_lab;
use crate::present::{addr_digits, hex};
use crate::state::{Action, Where};

/// Whose table a TLB entry was walked from, in words.
fn whose(k: &dyn pagelab_core::port::Kernel, root: u64) -> String {
    if root == k.kernel_root().as_u64() {
        return "the kernel's table".into();
    }
    match k.procs().live().find(|p| p.root.as_u64() == root) {
        Some(p) => format!("pid {}'s table", p.pid),
        None => "a table that has been freed".into(),
    }
}

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
    let counts = lab.full().steps().get(cur.wrapping_sub(1)).filter(|_| cur > 0).map(|s| s.counts.tlb);
    let skip = k.skip_flush();
    let tlbs = k.tlbs();
    let Some(tlb) = tlbs.first() else { return html! {} };
    let entries: Vec<(usize, &pagelab_core::tlb::TlbEntry)> =
        tlb.slots().iter().enumerate().filter_map(|(i, s)| s.as_ref().map(|e| (i, e))).collect();
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
    let select = |pa: u64| {
        let lab = lab.clone();
        Callback::from(move |_| lab.dispatch(Action::SelectFrame(Some(pa))))
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
            if entries.is_empty() {
                <p id="tlb-empty">{ format!("Empty: none of its {} slots holds a translation (a flush emptied it, or nothing was accessed since).", tlb.slots().len()) }</p>
            } else {
                <p id="tlb-use">{ format!("{} of {} slots in use. A fill takes the lowest empty slot, then the slots in turn.", entries.len(), tlb.slots().len()) }</p>
                <div class="tablewrap" tabindex="0" role="region" aria-label="TLB slots (the table scrolls sideways)">
                <table id="tlb-table">
                    <caption class="sr-only">{ "The TLB's slots in use" }</caption>
                    <thead><tr>
                        <th scope="col">{ "slot" }</th><th scope="col">{ "page" }</th><th scope="col">{ "frame" }</th>
                        <th scope="col">{ "table now" }</th><th scope="col">{ "bits" }</th><th scope="col">{ "walked from" }</th>
                    </tr></thead>
                    <tbody>
                        for (i, e) in entries.iter() {
                            {{
                                let leaf = e.entries.last().copied().unwrap_or(0);
                                let now = k.translate(
                                    k.procs().live().find(|p| p.root == e.root).map(|p| p.pid),
                                    e.va.as_u64(),
                                    pagelab_core::scheme::Access::USER_READ,
                                ).ok().and_then(|t| t.outcome.ok()).map(|m| m.frame);
                                let stale = now != Some(e.frame);
                                let holder = match k.kmem().owner(e.frame.as_u64()) {
                                    Some(o) => format!("; the slot's frame is now: {o}"),
                                    None => "; the slot's frame is free".to_string(),
                                };
                                let now_text = match now {
                                    Some(f) if f == e.frame => "says the same".to_string(),
                                    Some(f) => format!("STALE: maps frame {}{holder}", hex(f.as_u64(), digits)),
                                    None => format!("STALE: maps nothing here{holder}"),
                                };
                                html! {
                                    <tr data-slot={i.to_string()} class={classes!(stale.then_some("stale"))}>
                                        <td class="mono">{ i }</td>
                                        <td class="mono">{ hex(e.va.as_u64(), digits) }</td>
                                        <td><button class="addr" onclick={select(e.frame.as_u64())} aria-label={format!("{}: choose this frame in the frame map", hex(e.frame.as_u64(), digits))}>{ hex(e.frame.as_u64(), digits) }</button></td>
                                        <td class="now">{ now_text }</td>
                                        <td class="mono">{ info.scheme.flag_names(leaf).replace("PTE_", "").replace('|', " ") }</td>
                                        <td>{ whose(k, e.root.as_u64()) }</td>
                                    </tr>
                                }
                            }}
                        }
                    </tbody>
                </table>
                </div>
            }
            if tlbs.len() > 1 {
                <p class="help">{ format!("{}: the lab runs every process on CPU 0, so their TLBs stay empty.", if tlbs.len() == 2 { "CPU 1".to_string() } else { format!("CPUs 1–{}", tlbs.len() - 1) }) }</p>
            }
            <p class="sr-only">{ plural(entries.len() as u64, "translation", "translations") }{ " cached." }</p>
        </section>
    }
}
