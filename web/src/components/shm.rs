use pagelab_core::lab::summary::plural;
use pagelab_core::lab::view::mappers;
use pagelab_core::scheme::SchemeKind;
use pagelab_core::shm::ShmMode;
use yew::prelude::*;

use super::ChangedMark;
use crate::hooks::use_lab_by;
use crate::present::{addr_digits, hex};
use crate::state::Action;

/// The shared pages: each one's id, frame and reference count, and which
/// processes map it where (openshmem and closeshmem, from the notes' lab report).
#[component]
pub fn SharedMemory() -> Html {
    let lab = use_lab_by(|l| (l.full_lab(), l.view_lab(), l.current()));
    let l = lab.lab();
    let k = l.kernel();
    let riscv = k.info().scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let note = k.shm_mode() == ShmMode::Note;
    let pages: Vec<_> = k.shm().pages.iter().copied().filter(|p| p.id != 0 || p.refs != 0).collect();
    let current = lab.current();
    let changed = lab.changed_now().shm;
    let select = |pa: u64| {
        let lab = lab.clone();
        Callback::from(move |_| lab.dispatch(Action::SelectFrame(Some(pa))))
    };
    html! {
        <section class={classes!("panel", "shm", changed.then_some("changed"))} id="panel-shm" aria-labelledby="shm-h">
            <h2 id="shm-h" tabindex="-1">{ "Shared memory" }<ChangedMark on={changed} step={current} /></h2>
            <p class="help">
                { "openshmem(id) maps shared page id at PGROUNDUP(sz) and grows sz by a page; closeshmem(id) unmaps it. The count says how many processes have it open. These two calls are not xv6's: neither xv6-public nor xv6-riscv shares memory between processes. They are the shared-memory extension of a course lab the study notes describe (a 64-entry table of shared pages with reference counts). " }
                if note {
                    { "This lab runs the note's own shared-memory code (shm note): its DEFECT lines say where it goes wrong." }
                } else {
                    { "This lab runs pagelab's correct version: fork shares open pages, and the frame is freed when its last user lets go." }
                }
            </p>
            if pages.is_empty() {
                <p id="shm-none">{ "No shared page is open at this step." }</p>
            } else {
                <div class="tablewrap" tabindex="0" role="region" aria-label="Shared pages (the table scrolls sideways)">
                <table id="shm-table">
                    <caption>{ "Shared pages in use (the note's shmemtable)" }</caption>
                    <thead><tr>
                        <th scope="col">{ "id" }</th><th scope="col">{ "frame" }</th><th scope="col">{ "count" }</th>
                        <th scope="col">{ "mapped by" }</th>
                    </tr></thead>
                    <tbody>
                        for p in pages.iter() {
                            {{
                                let who = mappers(k, p.pa);
                                html! {
                                    <tr key={p.id} data-id={p.id.to_string()}>
                                        <td class="mono">{ p.id }</td>
                                        <td><button class="addr" onclick={select(p.pa)} aria-label={format!("{}: choose this frame in the frame map", hex(p.pa, digits))}>{ hex(p.pa, digits) }</button></td>
                                        <td class="count">{ p.refs }</td>
                                        <td class="who">
                                            if who.is_empty() {
                                                { "no process" }
                                            } else {
                                                { format!("{}: ", plural(who.len() as u64, "process", "processes")) }
                                                { who.iter().map(|m| format!("pid {} at {}", m.pid, hex(m.va, digits))).collect::<Vec<_>>().join(", ") }
                                            }
                                        </td>
                                    </tr>
                                }
                            }}
                        }
                    </tbody>
                </table>
                </div>
            }
        </section>
    }
}
