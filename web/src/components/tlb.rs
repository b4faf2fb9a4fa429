use pagelab_core::lab::summary::plural;
use pagelab_core::lab::view::{TlbRow, tlb_rows};
use pagelab_core::port::Port;
use pagelab_core::scheme::SchemeKind;
use yew::prelude::*;

use super::{ChangedMark, InlineNotice};
use crate::hooks::use_lab_by;
use crate::present::{addr_digits, drops_text, hex, tlb_now_text, tlb_whose};
use crate::state::{Action, Where};

/// Each CPU's TLB at this step: each cached translation, and whether the
/// page table still says the same; which process runs on each CPU, and a
/// choice of the CPU the next operations run on.
#[component]
pub fn TlbPanel() -> Html {
    let lab = use_lab_by(|l| (l.full_lab(), l.view_lab(), l.current()));
    let l = lab.lab();
    let k = l.kernel();
    let info = k.info();
    let riscv = info.scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let cur = lab.current();
    let n = lab.len();
    let changed = lab.changed_now().tlb;
    let counts = cur.checked_sub(1).and_then(|i| lab.full().steps().get(i)).map(|s| s.counts.tlb);
    let skip = k.skip_flush();
    let tlbs = k.tlbs();
    let here = k.cpu() as usize;
    let running = k.running();
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
        "xv6-public flushes a CPU's TLB whenever that CPU loads CR3: in switchuvm (the scheduler, exec, growproc) and switchkvm."
    } else {
        "xv6-riscv flushes a CPU's TLB with sfence.vma in kvminithart and in the trampoline: uservec on every trap into the kernel, userret on every return to user space, each twice (before its satp write and after it)."
    };
    // Keep the first ids for CPU 0, so a link or a test finds them as before.
    let id = |base: &str, cpu: usize| if cpu == 0 { base.to_string() } else { format!("{base}-{cpu}") };
    html! {
        <section class={classes!("panel", "tlbp", changed.then_some("changed"))} id="panel-tlb" aria-labelledby="tlb-h">
            <h2 id="tlb-h" tabindex="-1">{ if tlbs.len() > 1 { "TLBs, one per CPU" } else { "TLB" } }<ChangedMark on={changed} step={cur} /></h2>
            <p class="help">
                { "The MMU keeps the translations it walked here and uses them again without reading the page table. A user load or store looks in its CPU's TLB first: a hit reads no page-table entry; a miss walks the table and fills a slot. Changing the page table does not change this list: only a flush empties it, and only on the CPU that flushes. " }
                { how }
            </p>
            if tlbs.len() > 1 {
                <div class="cpu-choice" id="cpu-choice" role="group" aria-labelledby="cpu-choice-h" aria-describedby="cpu-help">
                    <span id="cpu-choice-h">{ "Run the next operations on:" }</span>
                    for c in 0..tlbs.len() {
                        <button type="button" class="pick" id={format!("cpu-{c}")} aria-pressed={if c == here { "true" } else { "false" }}
                            onclick={ let lab = lab.clone(); Callback::from(move |_: MouseEvent| if c != here { lab.dispatch(Action::SetCpu(c as u32)) }) }>
                            { format!("CPU {c}") }
                        </button>
                    }
                    <p class="help" id="cpu-help">
                        { "Choosing another CPU adds a step (cpu N) to the timeline. A process running on another CPU moves to this one when it next runs: it yields there first." }
                        if cur < n {
                            <strong>{ format!(" You are looking at step {cur} of {n}: choosing here {}; the browser's Back brings them back.", drops_text(cur, n)) }</strong>
                        }
                    </p>
                </div>
            }
            if lab.run.is_some() {
                <p class="help" id="tlb-run-note">{ "The programs are running: this panel shows the timeline's machine, replayed from its steps, so it has only the TLB work of the kernel's own flushes and of the steps' loads and stores. The programs' own fetches, loads and stores, and the slots they fill, are on the Run panel (record each access to see them)." }</p>
            }
            <div class="whatif-switch">
                <input type="checkbox" id="noflush" checked={whatif} onchange={toggle} aria-describedby="noflush-help tlb-notice" />
                <label for="noflush">{ switch_label }</label>
                <p class="help" id="noflush-help">{ "What-if: replays every step of this timeline with that flush left out (the preset line's noflush=), and stays at this step. Clear it to replay with xv6's flush. The Run panel's programs run with xv6's flushes only: ticking this stops them, and Boot and run init starts a machine without the what-if." }</p>
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
            for (c, tlb) in tlbs.iter().enumerate() {
                <div class={classes!("cpu-tlb", (c == here).then_some("here"))} id={id("tlb-cpu", c)} data-cpu={c.to_string()}>
                    <h3>
                        { format!("CPU {c}") }
                        if c == here && tlbs.len() > 1 { <span class="tag">{ "operations run here" }</span> }
                    </h3>
                    <p class="runs">{
                        match running.get(c).copied().flatten() {
                            Some(pid) => format!("Runs pid {pid}: its page table is loaded."),
                            None => "Runs no process: its scheduler is on the kernel's page table.".to_string(),
                        }
                    }</p>
                    { slots(k, c, tlb.slots().len(), digits, &id, &select) }
                </div>
            }
        </section>
    }
}

/// One CPU's slots in use, or a sentence saying there are none.
fn slots(
    k: &dyn pagelab_core::port::Kernel,
    cpu: usize,
    size: usize,
    digits: usize,
    id: &dyn Fn(&str, usize) -> String,
    select: &Callback<u64>,
) -> Html {
    let rows = tlb_rows(k, cpu);
    let n = rows.len() as u64;
    html! {
        <>
            if rows.is_empty() {
                <p id={id("tlb-empty", cpu)}>{ format!("Empty: none of its {size} slots holds a translation (a flush emptied it, or nothing was accessed since).") }</p>
            } else {
                <p id={id("tlb-use", cpu)}>{ format!("{} of {size} slots in use. A fill takes the lowest empty slot, then the slots in turn.", rows.len()) }</p>
                <TlbTable {rows} {digits} id={AttrValue::from(id("tlb-table", cpu))} on_frame={Some(select.clone())} whose={AttrValue::from(format!("CPU {cpu}"))} />
            }
            <p class="sr-only">{ plural(n, "translation", "translations") }{ format!(" cached on CPU {cpu}.") }</p>
        </>
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
    /// Whose TLB it is, for its label ("CPU 1"); none: the only one shown.
    #[prop_or_default]
    pub whose: Option<AttrValue>,
}

/// A TLB's slots in use: page, frame, what the table says now (STALE where
/// it differs), the cached bits and whose table the walk read.
#[component]
pub fn TlbTable(props: &TlbTableProps) -> Html {
    let digits = props.digits;
    html! {
        <>
        <p class="help scroll-hint" aria-hidden="true">{ "The table is wider than the screen: scroll it sideways for the bits and whose table." }</p>
        <div class="tablewrap" tabindex="0" role="region" aria-label={
            match &props.whose {
                Some(w) => format!("TLB slots of {w} (the table scrolls sideways)"),
                None => "TLB slots (the table scrolls sideways)".to_string(),
            }
        }>
            <table id={props.id.clone()} class="tlbtable">
                <caption class="sr-only">{ "The TLB's slots in use" }</caption>
                // Four columns, two lines in two of them: narrow enough for a
                // panel beside another at 1280 pixels, with 64-bit addresses.
                <thead><tr>
                    <th scope="col">{ "slot" }</th><th scope="col">{ "page → frame" }</th>
                    <th scope="col">{ "table now" }</th><th scope="col">{ "bits; walked from" }</th>
                </tr></thead>
                <tbody>
                    for r in props.rows.iter() {
                        <tr data-slot={r.slot.to_string()} class={classes!(r.stale.then_some("stale"))}>
                            <td class="mono">{ r.slot }</td>
                            <td class="mono">
                                <span class="tlb-page">{ hex(r.page.as_u64(), digits) }</span>
                                <span class="tlb-arrow">{ " → " }</span>
                                <span class="tlb-frame">{
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
                            }</span></td>
                            <td class="now">{ tlb_now_text(r, digits) }</td>
                            <td><span class="mono tlb-bits">{ r.bits.clone() }</span>{ "; " }<span class="tlb-whose">{ tlb_whose(r) }</span></td>
                        </tr>
                    }
                </tbody>
            </table>
        </div>
        </>
    }
}
