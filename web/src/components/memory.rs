use std::collections::BTreeMap;
use std::rc::Rc;

use pagelab_core::addr::PGSIZE;
use pagelab_core::lab::view::{
    FrameBytes, FrameState, frame_bytes, frame_runs, frame_state, kernel_mappers, mappers, table_frame_entries,
};
use pagelab_core::scheme::SchemeKind;
use pagelab_core::trace::Owner;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use pagelab_core::lab::summary::plural;
use pagelab_core::lab::view::table_entries;

use super::{ChangedMark, InlineNotice};
use crate::cells::CellLook;
#[cfg(target_arch = "wasm32")]
use crate::cells::{CellDom, reconcile};
use crate::hooks::{use_details, use_lab_by};
use crate::present::{
    Cell, Changes, FOLD_IN_USE_AT, FrameKind, FrameSet, MapCells, addr_digits, cell_shown, changes, fold_in_use,
    frame_words, hex, map_cells, state_words, summary_tail,
};
use crate::state::{Action, LabState, Where};

/// Above this many frames the map folds runs of free frames.
const COMPACT_ABOVE: u64 = 2048;

/// What the memory panel draws, worked out once per change of the lab.
#[derive(PartialEq)]
struct MapData {
    /// Frames of RAM.
    total: u64,
    cells: Vec<Cell>,
    compact: bool,
    counts: BTreeMap<FrameKind, u64>,
    by_owner: BTreeMap<Owner, Vec<u64>>,
    changes: Changes,
}

/// The map data, compared by identity (it is rebuilt only when the lab changes).
#[derive(Clone)]
struct MapRef(Rc<MapData>);

impl PartialEq for MapRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The frame map's cells as the document holds them.
#[cfg(target_arch = "wasm32")]
type Drawn = Vec<(CellLook, web_sys::Element)>;
/// Outside a browser (host builds) nothing is drawn.
#[cfg(not(target_arch = "wasm32"))]
type Drawn = Vec<(CellLook, ())>;

/// The document's side of [`reconcile`]: cells are `div`s of the map.
#[cfg(target_arch = "wasm32")]
struct MapDom {
    map: web_sys::Element,
    doc: web_sys::Document,
    riscv: bool,
}

#[cfg(target_arch = "wasm32")]
impl CellDom<web_sys::Element> for MapDom {
    fn insert(&mut self, look: &CellLook, before: Option<&web_sys::Element>) -> web_sys::Element {
        // createElement fails only for a name that is not valid, and "div" is.
        let e = self.doc.create_element("div").expect("createElement: div");
        e.set_id(&look.id());
        e.set_class_name(&look.class());
        let _ = e.set_attribute("role", "option");
        let _ = e.set_attribute("aria-label", &look.label(self.riscv));
        // An option's aria-selected is "false" unless it says otherwise: only the chosen cell carries it.
        if look.active {
            let _ = e.set_attribute("aria-selected", "true");
        }
        e.set_text_content(Some(&look.text()));
        let _ = self.map.insert_before(&e, before.map(AsRef::as_ref));
        e
    }
    /// Many cells from one piece of HTML, parsed into a fragment (one call),
    /// read back from it element by element, and moved into the map in one
    /// call: a heavy sbrk makes thousands of cells, and one call per
    /// attribute of each spent most of the step in calls into the browser.
    fn insert_run(&mut self, looks: &[CellLook], before: Option<&web_sys::Element>) -> Vec<web_sys::Element> {
        let one_by_one = |me: &mut Self| looks.iter().map(|look| me.insert(look, before)).collect();
        if looks.len() < 2 {
            return one_by_one(self);
        }
        let mut html = String::with_capacity(looks.len() * 160);
        for look in looks {
            look.write_html(self.riscv, &mut html);
        }
        // Parsed as the map's own content.
        let parsed = self.doc.create_range().ok().and_then(|r| {
            r.select_node_contents(&self.map).ok()?;
            r.create_contextual_fragment(&html).ok()
        });
        let Some(fragment) = parsed else {
            return one_by_one(self);
        };
        let mut made = Vec::with_capacity(looks.len());
        let mut at = fragment.first_element_child();
        while let Some(e) = at {
            at = e.next_element_sibling();
            made.push(e);
        }
        // The fragment holds exactly the cells asked for (the HTML is ours);
        // were it otherwise, nothing of it is in the map yet.
        if made.len() != looks.len() || self.map.insert_before(&fragment, before.map(AsRef::as_ref)).is_err() {
            return one_by_one(self);
        }
        made
    }
    fn remove(&mut self, cell: web_sys::Element) {
        cell.remove();
    }
    fn set_class(&mut self, cell: &web_sys::Element, class: &str) {
        cell.set_class_name(class);
    }
    fn set_label(&mut self, cell: &web_sys::Element, label: &str) {
        let _ = cell.set_attribute("aria-label", label);
    }
    fn set_text(&mut self, cell: &web_sys::Element, text: &str) {
        cell.set_text_content(Some(text));
    }
    fn set_active(&mut self, cell: &web_sys::Element, active: bool) {
        if active {
            let _ = cell.set_attribute("aria-selected", "true");
        } else {
            let _ = cell.remove_attribute("aria-selected");
        }
    }
}

/// Bring the map's cells in the document to `want`; when the chosen cell
/// is new (`reveal`), scroll the map (not the page) so that it is in sight:
/// the map scrolls on its own, and arrow keys may choose a cell below its edge.
#[cfg(target_arch = "wasm32")]
fn draw_cells(map_ref: &NodeRef, drawn: &mut Drawn, want: &[CellLook], riscv: bool, reveal: bool) {
    let Some(map) = map_ref.cast::<web_sys::Element>() else { return };
    let Some(doc) = map.owner_document() else { return };
    reconcile(drawn, want, riscv, &mut MapDom { map: map.clone(), doc, riscv });
    if !reveal {
        return;
    }
    let Some((_, cell)) = drawn.iter().find(|(l, _)| l.active) else { return };
    // The part of the map its cells are seen in: inside its border.
    let top = map.get_bounding_client_rect().top() + f64::from(map.client_top());
    let bottom = top + f64::from(map.client_height());
    let cell = cell.get_bounding_client_rect();
    if cell.top() < top {
        map.set_scroll_top(map.scroll_top() - (top - cell.top()).ceil() as i32);
    } else if cell.bottom() > bottom {
        map.set_scroll_top(map.scroll_top() + (cell.bottom() - bottom).ceil() as i32);
    }
}

/// Outside a browser there is no document to draw in.
#[cfg(not(target_arch = "wasm32"))]
fn draw_cells(_: &NodeRef, _: &mut Drawn, _: &[CellLook], _: bool, _: bool) {}

/// The frame map's cell an event happened in, if any.
fn cell_of(e: &MouseEvent) -> Option<web_sys::Element> {
    e.target_dyn_into::<web_sys::Element>()?.closest(".cell").ok().flatten()
}

/// Props of [`FrameMap`].
#[derive(Properties, PartialEq)]
struct FrameMapProps {
    data: MapRef,
    active: Option<u64>,
    selected: Option<u64>,
    riscv: bool,
    /// The chosen process and the frames it owns or maps.
    mine: Option<(u32, Rc<FrameSet>)>,
    dispatch: UseReducerDispatcher<LabState>,
}

/// The frame map: one cell per frame in use, runs of like frames folded; one tab stop, arrow keys move.
#[component]
fn FrameMap(props: &FrameMapProps) -> Html {
    let data = props.data.0.clone();
    let active = props.active;
    let riscv = props.riscv;
    // One listener for the whole map: a click on a cell chooses its frame (the cell's id names it).
    let onclick = {
        let d = props.dispatch.clone();
        Callback::from(move |e: MouseEvent| {
            if let Some(pa) = cell_of(&e).and_then(|c| u64::from_str_radix(c.id().strip_prefix("frame-")?, 16).ok()) {
                d.dispatch(Action::SelectFrame(Some(pa)));
            }
        })
    };
    // A cell's tooltip is its name, set when the pointer comes to it: one attribute
    // less to write for every cell a step adds or changes.
    let onmouseover = Callback::from(|e: MouseEvent| {
        if let Some(c) = cell_of(&e)
            && let Some(label) = c.get_attribute("aria-label")
            && c.get_attribute("title").as_deref() != Some(label.as_str())
        {
            let _ = c.set_attribute("title", &label);
        }
    });
    // Arrow keys move the selection through the map's cells.
    let onkeydown = {
        let d = props.dispatch.clone();
        let data = props.data.0.clone();
        let selected = props.selected;
        Callback::from(move |e: KeyboardEvent| {
            let cells = &data.cells;
            if cells.is_empty() {
                return;
            }
            let at = selected.and_then(|pa| cells.iter().position(|c| pa >= c.pa && pa < c.pa + c.count * PGSIZE));
            // Page Up and Page Down move by 16 cells; Space chooses the cell in focus
            // (the first if none): none of them scrolls the page away from the map.
            let next = match e.key().as_str() {
                "ArrowRight" | "ArrowDown" => at.map_or(0, |i| (i + 1).min(cells.len() - 1)),
                "ArrowLeft" | "ArrowUp" => at.map_or(0, |i| i.saturating_sub(1)),
                "PageDown" => at.map_or(0, |i| (i + 16).min(cells.len() - 1)),
                "PageUp" => at.map_or(0, |i| i.saturating_sub(16)),
                " " | "Enter" => at.unwrap_or(0),
                "Home" => 0,
                "End" => cells.len() - 1,
                _ => return,
            };
            e.prevent_default();
            d.dispatch(Action::SelectFrame(Some(cells[next].pa)));
        })
    };
    // The cells are drawn by `draw_cells`, after this render, outside Yew's diff.
    let map_ref = use_node_ref();
    let drawn = use_mut_ref(Drawn::new);
    // The chosen cell last brought into sight.
    let revealed = use_mut_ref(|| None::<u64>);
    {
        let map_ref = map_ref.clone();
        let looks = (props.data.clone(), active, props.mine.clone());
        use_effect_with(looks, move |(data, active, mine)| {
            let want: Vec<CellLook> = data
                .0
                .cells
                .iter()
                .map(|c| CellLook {
                    cell: *c,
                    new: data.0.changes.allocated.contains(c.pa),
                    gone: data.0.changes.freed.contains(c.pa),
                    active: Some(c.pa) == *active,
                    // A folded run of frames in use is the chosen process's if every frame of it is.
                    mine: mine
                        .as_ref()
                        .filter(|(_, set)| {
                            (c.count == 1 || matches!(c.state, FrameState::Owned { .. }))
                                && (0..c.count).all(|i| set.contains(c.pa + i * PGSIZE))
                        })
                        .map(|(pid, _)| *pid),
                })
                .collect();
            let reveal = *active != *revealed.borrow();
            *revealed.borrow_mut() = *active;
            draw_cells(&map_ref, &mut drawn.borrow_mut(), &want, riscv, reveal && active.is_some());
        });
    }
    html! {
            <div
                ref={map_ref}
                class={classes!("framemap", data.compact.then_some("compact"))}
                id="framemap"
                role="listbox"
                tabindex="0"
                aria-label="Frame map: arrow keys move from frame to frame"
                aria-activedescendant={active.map(|pa| format!("frame-{pa:x}"))}
                {onkeydown}
                {onclick}
                {onmouseover}
            >
            </div>
    }
}

/// Physical memory: the frame map, the free list and who owns what.
#[component]
pub fn Memory() -> Html {
    // `hidden().entries`: answering a question about a walk shows the entries and addresses that map a frame.
    let lab = use_lab_by(|l| {
        (l.full_lab(), l.view_lab(), l.current(), l.len(), l.selection.pid, l.selection.frame, l.hidden().entries)
    });
    let goto_ref = use_node_ref();
    let version = (lab.view_lab(), lab.current(), lab.len());
    let data: Rc<MapData> = {
        let lab = lab.clone();
        use_memo(version, move |_| {
            let l = lab.lab();
            let runs = frame_runs(l.kernel());
            let MapCells { total, compact, cells: cs, counts } = map_cells(&runs, COMPACT_ABOVE);
            let mut by_owner: BTreeMap<Owner, Vec<u64>> = BTreeMap::new();
            for r in &runs {
                if let FrameState::Owned { owner } = r.state {
                    by_owner.entry(owner).or_default().push(r.pa);
                }
            }
            let ch = if lab.current() > 0 {
                lab.step(lab.current()).map(|s| changes(&s)).unwrap_or_default()
            } else {
                Changes::default()
            };
            let cs = if compact {
                fold_in_use(cs, FOLD_IN_USE_AT, |pa| (ch.allocated.contains(pa), ch.freed.contains(pa)))
            } else {
                cs
            };
            MapData { total, cells: cs, compact, counts, by_owner, changes: ch }
        })
    };
    // The table of frames by owner is made only while its box is open (it
    // starts open on a small machine): after the story and forty forks on
    // xv6-public it holds over a thousand buttons, which every step would redraw.
    let (owners_open, on_owners) = use_details(!data.compact);
    {
        let owners_open = owners_open.clone();
        // A machine of the other size: open or close it as its default is.
        use_effect_with(data.compact, move |compact| {
            if *owners_open == *compact {
                owners_open.set(!*compact);
            }
        });
    }
    let mine: Option<(u32, Rc<FrameSet>)> = {
        let pid = lab.selection.pid;
        let set = {
            let lab = lab.clone();
            use_memo((lab.view_lab(), pid), move |(l, pid)| {
                let k = l.kernel();
                let mut set = Vec::new();
                if let Some(p) = pid.and_then(|p| k.procs().get(p)) {
                    // The frames it owns (user pages, page tables, kernel stack) and the frames its table maps (shared pages).
                    for (pa, owner) in k.kmem().owners() {
                        if owner.pid() == Some(p.pid) {
                            set.push(pa);
                        }
                    }
                    for e in table_entries(k.info().scheme, k.mem(), p.root, k.info().user_limit) {
                        if e.leaf && e.va < k.info().user_limit {
                            set.push(e.pa);
                        }
                    }
                }
                set.into_iter().collect::<FrameSet>()
            })
        };
        pid.filter(|_| !set.is_empty()).map(|p| (p, set))
    };
    // Where a chosen free frame is on the free list: a walk of up to every
    // free frame (57,344 on xv6-public), so once per step and choice, not per redraw.
    let sel_free_pos = use_memo((lab.view_lab(), lab.selection.frame), |(l, selected)| {
        let k = l.kernel();
        selected
            .filter(|&pa| matches!(frame_state(k, pa), Some(FrameState::Free)))
            .and_then(|pa| k.kmem().free_position(k.mem(), pa))
    });
    let l = lab.lab();
    let k = l.kernel();
    let info = k.info().clone();
    let riscv = info.scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let kernbase = info.constants.iter().find(|(n, _)| n == "KERNBASE").map_or(0, |(_, v)| *v);
    let nfree = k.kmem().nfree();
    let freelist = k.kmem().freelist(k.mem(), 12);
    let selected = lab.selection.frame;
    let sel_state = selected.and_then(|pa| frame_state(k, pa));
    let sel_maps = selected.map(|pa| mappers(k, pa)).unwrap_or_default();
    let sel_kmaps = selected.map(|pa| kernel_mappers(k, pa)).unwrap_or_default();
    // An open question about a walk: the entries' values would answer it.
    let hide_entries = lab.hidden().entries;
    let sel_bytes = match (selected, sel_state) {
        _ if hide_entries => Some(String::from(
            "Its bytes are shown once the open question is answered (they would give the answer away).",
        )),
        // A frame of RAM whose bytes core does not give: the kernel image or x86's first megabyte.
        (Some(pa), Some(state)) => Some(frame_bytes(k, pa).map_or_else(
            || match state {
                FrameState::Low => String::from(
                    "pagelab keeps no bytes for this frame: it lies below EXTMEM, where a PC has BIOS data and video memory, which pagelab does not model.",
                ),
                _ => String::from(
                    "pagelab keeps no bytes for this frame: it holds part of the kernel image (xv6's code and data), which pagelab models by its size but does not load.",
                ),
            },
            |b| bytes_words(&b, k.kmem().config(), riscv),
        )),
        _ => None,
    };
    // A page-table page: its valid entries, each a way down to the frame it points to.
    let sel_entries = selected.filter(|_| !hide_entries).and_then(|pa| table_frame_entries(k, pa));
    let sel_shared = match sel_state {
        Some(FrameState::Owned { owner: Owner::Shared { id } }) => k.shm().find(id).map(|i| k.shm().pages[i].refs),
        _ => None,
    };

    let select = |pa: u64| {
        let lab = lab.clone();
        Callback::from(move |_| lab.dispatch(Action::SelectFrame(Some(pa))))
    };
    let on_goto = {
        let lab = lab.clone();
        let goto_ref = goto_ref.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let v = goto_ref.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            lab.dispatch(Action::GotoFrame(v));
        })
    };
    let active_cell = selected.and_then(|pa| data.cells.iter().find(|c| pa >= c.pa && pa < c.pa + c.count * PGSIZE));
    let active = active_cell.map(|c| c.pa);
    // A frame of a folded run of frames in use: the run, in words (its name is
    // otherwise only the cell's tooltip, which touch and keyboard users do not get).
    let sel_run = active_cell.filter(|c| c.count > 1 && matches!(c.state, FrameState::Owned { .. })).map(|c| {
        let (new, gone) = (data.changes.allocated.contains(c.pa), data.changes.freed.contains(c.pa));
        let mark = match (new, gone) {
            (true, _) => ", all allocated in this step",
            (_, true) => ", all freed in this step",
            _ => "",
        };
        format!(
            "It is one of a run of {} frames, {}–{}, each a {}{mark}: the map shows them as one cell, {}. Type an address in the frame box to choose another of them.",
            c.count,
            hex(c.pa, digits),
            hex(c.pa + (c.count - 1) * PGSIZE, digits),
            state_words(c.state, riscv),
            cell_shown(c, new, gone)
        )
    });
    let total = data.total;
    let current = lab.current();
    let changed = lab.changed_now().memory;
    html! {
        <section class={classes!("panel", "memory", changed.then_some("changed"))} id="panel-memory" aria-labelledby="mem-h">
            <h2 id="mem-h" tabindex="-1">{ "Physical memory" }<ChangedMark on={changed} step={current} /></h2>
            <p id="mem-summary">
                { format!("{total} frames of 4 KiB from {} to PHYSTOP {}. ", hex(info.ram_base, digits), hex(info.phystop, digits)) }
                <strong id="nfree">{ format!("{nfree} free") }</strong>
                { summary_tail(total, nfree, &data.counts) }
                if data.compact { { format!(" Runs of free frames are folded into one cell, and so are {FOLD_IN_USE_AT} or more frames in use in a row that are alike (one owner, the same mark); every other frame in use has a cell of its own.") } }
            </p>
            <ul class="legend" aria-label="Legend of the frame map">
                // Every kind (a count of 0 says so), but the frames below the kernel only where there are some (x86).
                for kind in FrameKind::ALL.into_iter().filter(|k| *k != FrameKind::Low || data.counts.contains_key(k)) {
                    <li><span class={classes!("cell", kind.class())} aria-hidden="true">{ kind.letter() }</span>
                        { format!(" {} ({})", kind.words(riscv), data.counts.get(&kind).copied().unwrap_or(0)) }</li>
                }
                <li><span class="cell fk-user new" aria-hidden="true">{ "U" }</span>{ " allocated in this step (thick border, +); the number is the pid (or the shared page's id)" }</li>
                <li><span class="cell fk-free gone" aria-hidden="true">{ "·" }</span>{ " freed in this step (dashed border, −)" }</li>
                if let Some((pid, set)) = &mine {
                    <li id="mine-legend"><span class="cell fk-user mine" aria-hidden="true">{ format!("U{pid}") }</span>
                        { format!(" the chosen process, pid {pid}: {} it owns or maps (underlined, double outline)", plural(set.len() as u64, "frame", "frames")) }</li>
                }
            </ul>
            <FrameMap data={MapRef(data.clone())} {active} {selected} {riscv} mine={mine.clone()} dispatch={lab.dispatcher()} />
            <form class="goto" onsubmit={on_goto} aria-label="Go to a frame">
                <label for="goto-frame">{ "Go to the frame holding physical address" }</label>
                <input id="goto-frame" ref={goto_ref} placeholder={hex(info.phystop - PGSIZE, digits)} autocomplete="off" spellcheck="false" />
                <button type="submit" id="goto-run">{ "Go" }</button>
            </form>
            <InlineNotice at={Where::Frames} id="frames-notice" />
            <div class="frameinfo" id="frame-info" aria-live="polite">
                if let (Some(pa), Some(st)) = (selected, sel_state) {
                    <h3>{ frame_words(pa, st, riscv) }</h3>
                    if let Some(run) = &sel_run {
                        <p id="frame-run">{ run.clone() }</p>
                    }
                    if sel_maps.is_empty() && !sel_kmaps.is_empty() {
                        <p id="frame-mappers">{ "Mapped without PTE_U, for the kernel only (the trampoline's code uses it as it enters and leaves the kernel): " }
                            { sel_kmaps.iter().map(|m| mapped_at(m.pid, hex(m.va, digits), (!hide_entries).then(|| hex(m.pte, 16)))).collect::<Vec<_>>().join("; ") }
                            if hide_entries { { MAPPED_AT_HIDDEN } }
                            { ". User code cannot touch it." }
                        </p>
                    } else if sel_maps.is_empty() {
                        <p id="frame-mappers">{ "No process maps it in the user part of its address space." }</p>
                    } else {
                        <p id="frame-mappers">{ "Mapped by: " }
                            { sel_maps.iter().map(|m| mapped_at(m.pid, hex(m.va, digits), (!hide_entries).then(|| hex(m.pte, if riscv { 16 } else { 8 })))).collect::<Vec<_>>().join("; ") }
                            if hide_entries { { MAPPED_AT_HIDDEN } { "." } }
                        </p>
                    }
                    if let Some(words) = &sel_bytes {
                        <p id="frame-bytes">{ words.clone() }</p>
                    }
                    if let Some((n, entries)) = &sel_entries {
                        <p id="frame-entries">
                            { format!("A page-table page: {} of its {n} entries {} valid", entries.len(), if entries.len() == 1 { "is" } else { "are" }) }
                            { if entries.is_empty() { "." } else { ". Choose where one points to go down the table: " } }
                            for (j, (i, e)) in entries.iter().take(8).enumerate() {
                                if j > 0 { { "; " } }
                                { format!("[{i}] {} → ", hex(*e, if riscv { 16 } else { 8 })) }
                                <button key={*i} class="addr" onclick={select(info.scheme.pte_pa(*e))}
                                    aria-label={format!("entry {i} points to {}: choose that frame", hex(info.scheme.pte_pa(*e), digits))}>
                                    { hex(info.scheme.pte_pa(*e), digits) }
                                </button>
                                { format!(" ({})", info.scheme.flag_names(*e)) }
                            }
                            if entries.len() > 8 { { format!("; … {} more.", entries.len() - 8) } }
                        </p>
                    }
                    if let Some(refs) = sel_shared {
                        <p id="frame-refs">{ format!("Shared page: {} {} it open (its reference count).", plural(refs.max(0) as u64, "process", "processes"), if refs == 1 { "has" } else { "have" }) }</p>
                    }
                    if let Some(pos) = *sel_free_pos {
                        <p id="frame-freepos">{
                            if pos == 0 {
                                "It is the head of the free list: the next kalloc returns it.".to_string()
                            } else {
                                format!("On the free list, {} after the head: kalloc hands it out after {}.", plural(pos as u64, "frame", "frames"), plural(pos as u64, "other frame", "other frames"))
                            }
                        }</p>
                    }
                    if !riscv {
                        <p>{ format!("The kernel reaches it at P2V({}) = {}.", hex(pa, 8), hex(pa + kernbase, 8)) }</p>
                    }
                } else {
                    <p>{ "Choose a frame in the map (click it, or focus the map and use the arrow keys), or go to one by address." }</p>
                }
            </div>
            <h3 id="fl-h">{ "The kalloc free list" }</h3>
            <p id="freelist" aria-labelledby="fl-h">
                { "kmem.freelist → " }
                for (i, pa) in freelist.iter().enumerate() {
                    if i > 0 { { " → " } }
                    <button key={*pa} class="addr" onclick={select(*pa)} aria-label={format!("{}: choose this frame", hex(*pa, digits))}>{ hex(*pa, digits) }</button>
                }
                { if nfree as usize > freelist.len() { format!(" → … ({nfree} pages in all)") } else { " → 0".to_string() } }
            </p>
            <details class="owners" open={*owners_open} ontoggle={on_owners}>
                <summary>{ format!("Frames in use, by owner ({})", plural(data.by_owner.len() as u64, "owner", "owners")) }</summary>
                <div class="tablewrap" tabindex="0" role="region" aria-label="Frames in use, by owner (the table scrolls sideways)">
                <table id="owners">
                    <thead><tr><th scope="col">{ "owner" }</th><th scope="col">{ "frames" }</th><th scope="col">{ "where" }</th></tr></thead>
                    <tbody>
                        for (owner, pas) in data.by_owner.iter().filter(|_| *owners_open) {
                            <tr key={owner.to_string()}>
                                <td>{ owner.text(info.scheme) }</td>
                                <td>{ pas.len() }</td>
                                <td class="pas">
                                    for pa in pas.iter().take(8) {
                                        <button key={*pa} class="addr" onclick={select(*pa)} aria-label={format!("{}: choose this frame", hex(*pa, digits))}>{ hex(*pa, digits) }</button>
                                    }
                                    if pas.len() > 8 { { format!(" … {} more", pas.len() - 8) } }
                                </td>
                            </tr>
                        }
                    </tbody>
                </table>
                </div>
            </details>
        </section>
    }
}

/// What a frame's bytes say, in plain words: its first bytes, the rest, and
/// for a free frame the junk and the `next` pointer kfree wrote.
fn bytes_words(b: &FrameBytes, cfg: &pagelab_core::kalloc::KmemConfig, riscv: bool) -> String {
    let head: Vec<String> = b.head.iter().map(|x| format!("{x:02x}")).collect();
    let rest = PGSIZE - FrameBytes::HEAD;
    let mut s = format!("Its first {} bytes: {}; ", FrameBytes::HEAD, head.join(" "));
    s.push_str(&match b.rest {
        Some(x) => format!("the other {rest} are all {x:#04x}."),
        None => format!("the other {rest} are not all one byte."),
    });
    if let Some(next) = b.next {
        let n = cfg.ptr_bytes;
        let as_stored = if next == 0 {
            "0 (the end of the list)".to_string()
        } else if cfg.kva_offset != 0 {
            format!("{} (P2V of {})", hex(next, 8), hex(next.wrapping_sub(cfg.kva_offset), 8))
        } else {
            hex(next, addr_digits(riscv))
        };
        s.push_str(&format!(
            " kfree filled the page with {:#04x} (junk, so that a use after free reads nonsense) and wrote in its first {n} bytes, little-endian, the next free frame: {as_stored}, struct run's next. The free list lives in the free frames themselves.",
            cfg.free_junk
        ));
    } else if cfg.alloc_junk.is_none() && b.rest == Some(cfg.free_junk) {
        s.push_str(&format!(
            " xv6-public's kalloc does not clear a page: this is what kfree left in it ({:#04x} everywhere, and the old list pointer in its first {} bytes), not yet written over by its owner.",
            cfg.free_junk, cfg.ptr_bytes
        ));
    } else if let (Some(j), Some(x)) = (cfg.alloc_junk, b.rest)
        && x == j
        && b.head.iter().all(|&h| h == j)
    {
        s.push_str(&format!(
            " That is kalloc's junk ({j:#04x}): nothing has written the page since kalloc handed it out."
        ));
    }
    s
}

/// Said after the processes that map a frame, in place of the addresses
/// they map it at, while an open question is about a walk.
const MAPPED_AT_HIDDEN: &str = " (at which address, and by which entry, is shown once the open question is answered: it would give the answer away)";

/// "pid 2 at va 0x4000 (pte 0x…)", or only "pid 2" while an open question
/// is about a walk (`pte` is `None` then): the frame and the address that
/// maps to it would answer where an address of the process ends up.
fn mapped_at(pid: u32, va: String, pte: Option<String>) -> String {
    match pte {
        Some(p) => format!("pid {pid} at va {va} (pte {p})"),
        None => format!("pid {pid}"),
    }
}
