//! `<pagelab-frames>` (the frame map and kalloc's free list),
//! `<pagelab-shm>` (the shared pages and who maps them) and `<pagelab-tlb>`
//! (the TLBs at a step).

use pagelab_core::lab::view::{FrameState, frame_runs, frame_state, mappers, tlb_rows};
use pagelab_core::scheme::SchemeKind;
use pagelab_core::trace::{Event, event_text};
use pagelab_web::cells::CellLook;
use pagelab_web::components::TlbTable;
use pagelab_web::present::{
    FOLD_IN_USE_AT, FrameKind, MapCells, addr_digits, changes, fold_in_use, hex, map_cells, summary_tail,
};
use yew::prelude::*;

use super::{Same, caption};
use crate::source::AtStep;

/// Above this many frames, runs of free frames are folded into one cell.
const COMPACT_ABOVE: u64 = 1024;

/// Free-list entries shown.
const FREELIST_SHOWN: usize = 8;

/// Props of the scenario-at-a-step widgets.
#[derive(Properties, PartialEq)]
pub struct AtProps {
    /// The scenario at its step.
    pub at: Same<AtStep>,
}

/// The frame map, the free list, and what the step allocated and freed.
#[component]
pub fn FramesWidget(props: &AtProps) -> Html {
    let at = &props.at;
    let k = at.lab.kernel();
    let info = k.info();
    let riscv = info.scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let MapCells { total, compact, cells: cs, counts } = map_cells(&frame_runs(k), COMPACT_ABOVE);
    let ch = at.lab.steps().last().filter(|_| at.step > 0).map(|s| changes(s)).unwrap_or_default();
    // As in the lab: on a big machine, many frames in use in a row that are alike are one cell.
    let cs = if compact {
        fold_in_use(cs, FOLD_IN_USE_AT, |pa| (ch.allocated.contains(pa), ch.freed.contains(pa)))
    } else {
        cs
    };
    let step_counts = at.lab.steps().last().filter(|_| at.step > 0).map(|s| s.counts.to_string());
    let nfree = k.kmem().nfree();
    let head = k.kmem().freelist(k.mem(), FREELIST_SHOWN);
    html! {
        <div class="pl-frames">
            { caption("physical memory", at) }
            <p class="pl-sub summary">
                { format!("{total} frames of 4 KiB from {} to PHYSTOP {}: ", hex(info.ram_base, digits), hex(info.phystop, digits)) }
                <strong class="nfree">{ format!("{nfree} free") }</strong>
                { summary_tail(total, nfree, &counts) }
                if compact { { format!(" Runs of free frames are folded into one cell, and so are {FOLD_IN_USE_AT} or more frames in use in a row that are alike.") } }
            </p>
            if let Some(c) = step_counts {
                <p class="pl-sub step-counts">{ format!("This step {c}.") }</p>
            }
            <ul class="legend" aria-label="Legend of the frame map">
                for kind in FrameKind::ALL.into_iter().filter(|k| counts.contains_key(k)) {
                    <li><span class={classes!("cell", kind.class())} aria-hidden="true">{ kind.letter() }</span>
                        { format!(" {} ({})", kind.words(riscv), counts.get(&kind).copied().unwrap_or(0)) }</li>
                }
                if !ch.allocated.is_empty() || !ch.freed.is_empty() {
                    <li><span class="cell fk-user new" aria-hidden="true">{ "U+" }</span>{ " allocated in this step" }</li>
                    <li><span class="cell fk-free gone" aria-hidden="true">{ "·−" }</span>{ " freed in this step" }</li>
                }
            </ul>
            <div class={classes!("framemap", compact.then_some("compact"))} role="list" aria-label="Frame map" tabindex="0">
                for c in cs.iter() {
                    {{
                        // Named as the lab names its cells: the text shown first, then the frame or run.
                        let look = CellLook {
                            cell: *c,
                            new: ch.allocated.contains(c.pa),
                            gone: ch.freed.contains(c.pa),
                            active: false,
                            mine: None,
                        };
                        let label = look.label(riscv);
                        html! {
                            <span role="listitem" class={look.class()} title={label.clone()} aria-label={label}
                                data-pa={hex(c.pa, digits)}>{ look.text() }</span>
                        }
                    }}
                }
            </div>
            <p class="freelist">
                <strong>{ "kmem.freelist" }</strong>
                { " → " }
                { head.iter().map(|pa| hex(*pa, digits)).collect::<Vec<_>>().join(" → ") }
                { if nfree as usize > head.len() { format!(" → … ({nfree} frames in all)") } else { " → 0".to_string() } }
            </p>
        </div>
    }
}

/// The shared pages in use at a step: frame, reference count, who maps them where, and their first bytes.
#[component]
pub fn ShmWidget(props: &AtProps) -> Html {
    let at = &props.at;
    let k = at.lab.kernel();
    let riscv = k.info().scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let pages: Vec<_> = k.shm().used().copied().collect();
    let rows: Vec<(i32, i32, u64, String, Vec<u8>)> = pages
        .iter()
        .map(|p| {
            let who = mappers(k, p.pa)
                .iter()
                .map(|m| format!("pid {} at {}", m.pid, hex(m.va, digits)))
                .collect::<Vec<_>>()
                .join(", ");
            let mut first = vec![0u8; 8];
            if k.mem().read(p.pa, &mut first).is_err() {
                first.clear();
            }
            (p.id, p.refs, p.pa, who, first)
        })
        .collect();
    html! {
        <div class="pl-shm">
            { caption("shared memory", at) }
            <p class="pl-sub">{ format!("Shared-memory code: {} mode. {} shared page{} in use.", k.shm_mode().name(), rows.len(), if rows.len() == 1 { "" } else { "s" }) }</p>
            if rows.is_empty() {
                <p class="none">{ "No shared page is open at this step: openshmem has not been called yet, or every page was closed." }</p>
            } else {
                <div class="tablewrap" tabindex="0" role="region" aria-label="Shared pages (the table scrolls sideways)">
                    <table class="shmtable">
                        <thead><tr>
                            <th scope="col">{ "id" }</th><th scope="col">{ "frame" }</th><th scope="col">{ "open by (refs)" }</th>
                            <th scope="col">{ "mapped by" }</th><th scope="col">{ "first bytes" }</th>
                        </tr></thead>
                        <tbody>
                            for (id, refs, pa, who, first) in rows.iter() {
                                <tr data-id={id.to_string()}>
                                    <td class="id">{ id }</td>
                                    <td class="mono frame">{ hex(*pa, digits) }</td>
                                    <td class="refs">{ refs }</td>
                                    <td class="who">{ if who.is_empty() { "no process".to_string() } else { who.clone() } }</td>
                                    <td class="mono bytes">{ first.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(" ") }</td>
                                </tr>
                            }
                        </tbody>
                    </table>
                </div>
                <p class="help">{
                    match rows.first().and_then(|r| frame_state(k, r.2)) {
                        Some(FrameState::Owned { owner }) => format!("The frame map calls frame {} a {owner}: one frame, mapped into every process that opened it.", hex(rows[0].2, digits)),
                        _ => "One frame per shared page, mapped into every process that opened it.".to_string(),
                    }
                }</p>
            }
        </div>
    }
}

/// The TLB of the CPU a step ran on (and any other CPU's that holds
/// translations): the slots in use beside what the page table says now
/// (STALE where they differ), and what the step's loads and stores did.
#[component]
pub fn TlbWidget(props: &AtProps) -> Html {
    let at = &props.at;
    let k = at.lab.kernel();
    let riscv = k.info().scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let here = k.cpu() as usize;
    let many = k.tlbs().len() > 1;
    // The CPU the step ran on, then any other CPU whose TLB holds something.
    let shown: Vec<(usize, usize)> = (0..k.tlbs().len())
        .filter(|&c| c == here || !k.tlbs()[c].is_empty())
        .map(|c| (c, k.tlbs()[c].slots().len()))
        .collect();
    let step = at.lab.steps().last().filter(|_| at.step > 0);
    let lines: Vec<String> = step
        .map(|s| {
            pagelab_core::trace::expand_numbers(&s.events)
                .filter(|e| {
                    matches!(
                        e.event,
                        Event::TlbHit { .. }
                            | Event::TlbMiss { .. }
                            | Event::TlbFill { .. }
                            | Event::TlbDrop { .. }
                            | Event::TlbFlush { .. }
                            | Event::PageFault { .. }
                            | Event::Defect { .. }
                    )
                })
                .map(|e| event_text(&e, k.info().scheme))
                .collect()
        })
        .unwrap_or_default();
    let skip = k.skip_flush();
    html! {
        <div class="pl-tlb">
            { caption(&format!("the TLB of CPU {here}"), at) }
            if !skip.is_none() {
                <p class="pl-whatif">{ format!("What-if: this machine leaves out xv6's flush in {}.", skip.names().join(" and ")) }</p>
            }
            if let Some(s) = step {
                <p class="pl-sub">{ format!("This step: {}.", s.counts.tlb) }</p>
            }
            if !lines.is_empty() {
                <ul class="pl-tlbev">
                    for l in lines.iter() { <li>{ l.clone() }</li> }
                </ul>
            }
            for (c, size) in shown {
                if many {
                    <p class="pl-sub"><strong>{ format!("CPU {c}") }</strong>{
                        match k.running().get(c).copied().flatten() {
                            Some(pid) => format!(" runs pid {pid}{}.", if c == here { "; this step ran here" } else { "" }),
                            None => format!(" runs no process{}.", if c == here { "; this step ran here" } else { "" }),
                        }
                    }</p>
                }
                { cpu_slots(k, c, size, digits, many) }
            }
        </div>
    }
}

/// CPU `cpu`'s slots in use, or a sentence saying there are none.
fn cpu_slots(k: &dyn pagelab_core::port::Kernel, cpu: usize, size: usize, digits: usize, many: bool) -> Html {
    let rows = tlb_rows(k, cpu);
    let whose = many.then(|| AttrValue::from(format!("CPU {cpu}")));
    html! {
        if rows.is_empty() {
            <p class="none">{ format!("Empty: none of its {size} slots holds a translation (a flush emptied it, or no user load or store ran since).") }</p>
        } else {
            <p class="pl-sub">{ format!("{} of {size} slots in use.", rows.len()) }</p>
            <TlbTable {rows} {digits} {whose} />
        }
    }
}
