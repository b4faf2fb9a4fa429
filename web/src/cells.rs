//! The frame map's cells, drawn outside Yew's diff. A fork on xv6-public
//! adds about 70 cells to a map of thousands; the map keeps the cells it
//! drew, in address order, and brings them up to date in one pass: a cell
//! that shows the same thing is not touched, a changed cell gets only the
//! attributes that changed, and new cells are made where they belong.
//!
//! What a cell shows is worked out here, free of `web_sys`; the page gives
//! [`reconcile`] the DOM through [`CellDom`] (a host test gives it a list).

use pagelab_core::addr::PGSIZE;

use pagelab_core::lab::view::FrameState;

use crate::present::{Cell, addr_digits, cell_shown, frame_words, hex, state_words};

/// All one cell of the frame map shows: two cells with the same look are
/// drawn alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellLook {
    /// The frame (or run of frames).
    pub cell: Cell,
    /// Allocated in the step shown.
    pub new: bool,
    /// Freed in the step shown.
    pub gone: bool,
    /// The chosen cell.
    pub active: bool,
    /// The chosen process's pid, when it owns or maps this frame.
    pub mine: Option<u32>,
}

impl CellLook {
    /// The cell's id, `frame-<pa in hex>`: how the map's one click listener
    /// knows which frame was clicked, and what `aria-activedescendant` names.
    #[must_use]
    pub fn id(&self) -> String {
        format!("frame-{:x}", self.cell.pa)
    }

    /// The text in the cell ([`cell_shown`]).
    #[must_use]
    pub fn text(&self) -> String {
        cell_shown(&self.cell, self.new, self.gone)
    }

    /// The cell's accessible name. It starts with the cell's own text, so
    /// that what is seen is what is read out.
    #[must_use]
    pub fn label(&self, riscv: bool) -> String {
        let c = &self.cell;
        let shown = self.text();
        let digits = addr_digits(riscv);
        let span =
            || format!("{} frames {}–{}", c.count, hex(c.pa, digits), hex(c.pa + (c.count - 1) * PGSIZE, digits));
        let mut s = match c.state {
            // A folded run of frames in use, all alike: one owner, the same marks.
            FrameState::Owned { .. } if c.count > 1 => {
                format!("{shown}: {}, each a {}", span(), state_words(c.state, riscv))
            }
            _ if c.count > 1 => return format!("{shown}: {}: {}", span(), c.kind.words(riscv)),
            _ => format!("{shown}: {}", frame_words(c.pa, c.state, riscv)),
        };
        if self.new {
            s.push_str(" (allocated in this step)");
        }
        if self.gone {
            s.push_str(" (freed in this step)");
        }
        if let Some(pid) = self.mine {
            s.push_str(&format!(" (used by the chosen process, pid {pid})"));
        }
        s
    }

    /// The cell's class list: its kind, and a class for each mark (the marks
    /// also show as a border and a sign, not by colour alone).
    #[must_use]
    pub fn class(&self) -> String {
        let mut class = format!("cell {}", self.cell.kind.class());
        for (on, name) in [
            (self.cell.count > 1, " run"),
            (self.new, " new"),
            (self.gone, " gone"),
            (self.active, " sel"),
            (self.mine.is_some(), " mine"),
        ] {
            if on {
                class.push_str(name);
            }
        }
        class
    }

    /// The cell as HTML, as [`CellDom::insert`] makes it (for
    /// [`CellDom::insert_run`], which makes many cells in one go).
    pub fn write_html(&self, riscv: bool, out: &mut String) {
        out.push_str("<div id=\"");
        out.push_str(&self.id());
        out.push_str("\" class=\"");
        escape_into(&self.class(), out);
        out.push_str("\" role=\"option\" aria-label=\"");
        escape_into(&self.label(riscv), out);
        out.push('"');
        if self.active {
            out.push_str(" aria-selected=\"true\"");
        }
        out.push('>');
        escape_into(&self.text(), out);
        out.push_str("</div>");
    }
}

/// `s` with `&`, `<`, `>` and `"` written as character references (fit for
/// text and for a quoted attribute value), added to `out`.
fn escape_into(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// What [`reconcile`] asks of the document. `E` is a drawn cell.
pub trait CellDom<E> {
    /// Make a cell that shows `look`, and put it before `before` (at the end
    /// of the map if `None`).
    fn insert(&mut self, look: &CellLook, before: Option<&E>) -> E;
    /// Make a cell for each of `looks` (in address order), all of them
    /// before `before`: the cells, in that order. (A step that allocates
    /// thousands of frames makes thousands of cells; the page makes them
    /// from one piece of HTML rather than one call per attribute.)
    fn insert_run(&mut self, looks: &[CellLook], before: Option<&E>) -> Vec<E> {
        looks.iter().map(|look| self.insert(look, before)).collect()
    }
    /// Take a cell out of the map.
    fn remove(&mut self, cell: E);
    /// Set the cell's class list.
    fn set_class(&mut self, cell: &E, class: &str);
    /// Set the cell's accessible name.
    fn set_label(&mut self, cell: &E, label: &str);
    /// Set the cell's text.
    fn set_text(&mut self, cell: &E, text: &str);
    /// Mark the cell chosen (`aria-selected="true"`) or take the mark off.
    fn set_active(&mut self, cell: &E, active: bool);
}

/// Bring the cells `drawn` (in address order, as the map shows them) to
/// `want` (in address order): cells whose frame is no longer in the map are
/// removed, new ones made in their place, and a kept cell whose look changed
/// gets only what changed. `drawn` ends as `want`, with each cell's element.
pub fn reconcile<E>(drawn: &mut Vec<(CellLook, E)>, want: &[CellLook], riscv: bool, dom: &mut impl CellDom<E>) {
    let mut old = std::mem::take(drawn).into_iter().peekable();
    let mut out = Vec::with_capacity(want.len());
    // New cells in a row, all to go before the next drawn cell: made together
    // when anything else is to be done, so no other change comes between.
    let mut new: Vec<CellLook> = Vec::new();
    for look in want {
        // A cell drawn before this one's address is gone from the map.
        if old.peek().is_some_and(|(o, _)| o.cell.pa <= look.cell.pa) {
            flush(&mut new, old.peek().map(|(_, e)| e), &mut out, dom);
        }
        while old.next_if(|(o, _)| o.cell.pa < look.cell.pa).map(|(_, e)| dom.remove(e)).is_some() {}
        match old.next_if(|(o, _)| o.cell.pa == look.cell.pa) {
            Some((was, e)) => {
                if was != *look {
                    update(&was, look, &e, riscv, dom);
                }
                out.push((*look, e));
            }
            None => new.push(*look),
        }
    }
    flush(&mut new, old.peek().map(|(_, e)| e), &mut out, dom);
    for (_, e) in old {
        dom.remove(e);
    }
    *drawn = out;
}

/// Make the cells `new` before `before`, and add them to `out`.
fn flush<E>(new: &mut Vec<CellLook>, before: Option<&E>, out: &mut Vec<(CellLook, E)>, dom: &mut impl CellDom<E>) {
    if !new.is_empty() {
        let made = dom.insert_run(new, before);
        debug_assert_eq!(made.len(), new.len(), "a cell for each look");
        out.extend(new.drain(..).zip(made));
    }
}

/// Write to a drawn cell what differs between its look `was` and `now`.
fn update<E>(was: &CellLook, now: &CellLook, e: &E, riscv: bool, dom: &mut impl CellDom<E>) {
    let class = now.class();
    if class != was.class() {
        dom.set_class(e, &class);
    }
    let label = now.label(riscv);
    if label != was.label(riscv) {
        dom.set_label(e, &label);
    }
    let text = now.text();
    if text != was.text() {
        dom.set_text(e, &text);
    }
    if now.active != was.active {
        dom.set_active(e, now.active);
    }
}

#[cfg(test)]
mod tests {
    use pagelab_core::lab::view::FrameState;
    use pagelab_core::trace::Owner;

    use super::*;
    use crate::present::FrameKind;

    /// A drawn cell in the fake document: its serial number (which cell
    /// object it is) and what it shows.
    #[derive(Clone, Debug, PartialEq)]
    struct Drawn {
        serial: u32,
        class: String,
        label: String,
        text: String,
        active: bool,
    }

    /// A document that is a list of cells, counting what is done to it.
    #[derive(Default)]
    struct Fake {
        cells: Vec<Drawn>,
        made: u32,
        removed: u32,
        writes: u32,
        /// How many cells each [`CellDom::insert_run`] made.
        runs: Vec<usize>,
    }

    impl Fake {
        fn at(&self, serial: u32) -> usize {
            self.cells.iter().position(|c| c.serial == serial).expect("a drawn cell is in the document")
        }
    }

    impl CellDom<u32> for Fake {
        fn insert(&mut self, look: &CellLook, before: Option<&u32>) -> u32 {
            self.made += 1;
            let d = Drawn {
                serial: self.made,
                class: look.class(),
                label: look.label(false),
                text: look.text(),
                active: look.active,
            };
            let i = before.map_or(self.cells.len(), |b| self.at(*b));
            self.cells.insert(i, d);
            self.made
        }
        fn insert_run(&mut self, looks: &[CellLook], before: Option<&u32>) -> Vec<u32> {
            self.runs.push(looks.len());
            looks.iter().map(|look| self.insert(look, before)).collect()
        }
        fn remove(&mut self, cell: u32) {
            self.removed += 1;
            let i = self.at(cell);
            self.cells.remove(i);
        }
        fn set_class(&mut self, cell: &u32, class: &str) {
            self.writes += 1;
            let i = self.at(*cell);
            self.cells[i].class = class.to_string();
        }
        fn set_label(&mut self, cell: &u32, label: &str) {
            self.writes += 1;
            let i = self.at(*cell);
            self.cells[i].label = label.to_string();
        }
        fn set_text(&mut self, cell: &u32, text: &str) {
            self.writes += 1;
            let i = self.at(*cell);
            self.cells[i].text = text.to_string();
        }
        fn set_active(&mut self, cell: &u32, active: bool) {
            self.writes += 1;
            let i = self.at(*cell);
            self.cells[i].active = active;
        }
    }

    fn user(pa: u64, pid: u32) -> CellLook {
        let state = FrameState::Owned { owner: Owner::User { pid } };
        CellLook {
            cell: Cell { pa, count: 1, kind: FrameKind::of(state), state },
            new: false,
            gone: false,
            active: false,
            mine: None,
        }
    }

    fn free_run(pa: u64, count: u64) -> CellLook {
        CellLook {
            cell: Cell { pa, count, kind: FrameKind::Free, state: FrameState::Free },
            new: false,
            gone: false,
            active: false,
            mine: None,
        }
    }

    /// What a fresh map of `want` shows, cell by cell, without serials.
    fn fresh(want: &[CellLook]) -> Vec<(String, String, String, bool)> {
        want.iter().map(|l| (l.class(), l.label(false), l.text(), l.active)).collect()
    }

    fn shown(f: &Fake) -> Vec<(String, String, String, bool)> {
        f.cells.iter().map(|c| (c.class.clone(), c.label.clone(), c.text.clone(), c.active)).collect()
    }

    #[test]
    fn a_fork_adds_its_cells_in_place_and_leaves_the_rest_alone() {
        let mut f = Fake::default();
        let mut drawn = Vec::new();
        let before = vec![user(0x1000, 1), free_run(0x2000, 5), user(0x7000, 1), free_run(0x8000, 8)];
        reconcile(&mut drawn, &before, false, &mut f);
        assert_eq!((f.made, f.removed, f.writes), (4, 0, 0));
        assert_eq!(shown(&f), fresh(&before));

        // The fork takes 0x2000 and 0x3000 out of the first free run (which
        // now starts at 0x4000) and 0x8000 out of the second (now at 0x9000).
        let mut a = user(0x2000, 2);
        a.new = true;
        let mut b = user(0x3000, 2);
        b.new = true;
        let mut c = user(0x8000, 2);
        c.new = true;
        let after = vec![user(0x1000, 1), a, b, free_run(0x4000, 3), user(0x7000, 1), c, free_run(0x9000, 7)];
        reconcile(&mut drawn, &after, false, &mut f);
        assert_eq!(shown(&f), fresh(&after));
        // 0x2000 and 0x8000 were the first frames of runs and are now pages:
        // their cells are kept and rewritten (class, label and text: 3 writes
        // each). 0x3000, 0x4000 and 0x9000 are new cells; nothing is removed.
        assert_eq!((f.made, f.removed, f.writes), (4 + 3, 0, 6));
        assert_eq!(f.cells.iter().map(|c| c.serial).collect::<Vec<_>>(), [1, 2, 5, 6, 3, 4, 7]);
        // New cells in a row are made together: the whole first map, then
        // 0x3000 with 0x4000, then 0x9000.
        assert_eq!(f.runs, [4, 2, 1]);

        // The next step frees 0x3000 (folded into the run, which starts at
        // 0x3000 again) and chooses 0x7000: the marks of the step before go.
        let mut chosen = user(0x7000, 1);
        chosen.active = true;
        let next =
            vec![user(0x1000, 1), user(0x2000, 2), free_run(0x3000, 4), chosen, user(0x8000, 2), free_run(0x9000, 7)];
        let (made, writes) = (f.made, f.writes);
        reconcile(&mut drawn, &next, false, &mut f);
        assert_eq!(shown(&f), fresh(&next));
        // 0x2000 and 0x8000 lose "new": class, label and text. 0x3000 becomes
        // a run: class, label, text. 0x4000's cell goes. 0x7000: class (sel)
        // and aria-selected; its label does not change.
        assert_eq!((f.made - made, f.removed, f.writes - writes), (0, 1, 3 + 3 + 3 + 2));
        assert_eq!(f.cells.iter().map(|c| c.serial).collect::<Vec<_>>(), [1, 2, 5, 3, 4, 7]);
        assert_eq!(
            drawn.iter().map(|(l, _)| l.cell.pa).collect::<Vec<_>>(),
            [0x1000, 0x2000, 0x3000, 0x7000, 0x8000, 0x9000]
        );
    }

    #[test]
    fn a_cell_as_html_says_what_a_cell_made_one_call_at_a_time_says() {
        let mut look = user(0x8dfa_e000, 2);
        look.new = true;
        look.active = true;
        let mut html = String::new();
        look.write_html(false, &mut html);
        let want = format!(
            "<div id=\"frame-8dfae000\" class=\"{}\" role=\"option\" aria-label=\"{}\" aria-selected=\"true\">{}</div>",
            look.class(),
            look.label(false),
            look.text()
        );
        assert_eq!(html, want);
        assert!(html.contains("class=\"cell fk-user new sel\""), "{html}");
        // A run of free frames: no aria-selected, and nothing in it needs escaping.
        html.clear();
        free_run(0x2000, 5).write_html(true, &mut html);
        assert!(html.ends_with(&format!("\">{}</div>", free_run(0x2000, 5).text())) && !html.contains("aria-selected"));
        let mut escaped = String::new();
        escape_into("a<b & \"c\">", &mut escaped);
        assert_eq!(escaped, "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn a_folded_run_of_frames_in_use_is_named_by_its_span_and_owner() {
        let state = FrameState::Owned { owner: Owner::User { pid: 3 } };
        let mut run = CellLook {
            cell: Cell { pa: 0x7000, count: 4, kind: FrameKind::User, state },
            new: true,
            gone: false,
            active: false,
            mine: Some(3),
        };
        assert_eq!(
            run.label(false),
            "U3+×4: 4 frames 0x00007000–0x0000a000, each a user page of pid 3 (allocated in this step) (used by the chosen process, pid 3)"
        );
        assert_eq!(run.class(), "cell fk-user run new mine");
        run.new = false;
        run.mine = None;
        assert_eq!(run.label(false), "U3×4: 4 frames 0x00007000–0x0000a000, each a user page of pid 3");
    }

    /// Property tests: proptest is a dependency of the host tests only.
    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;

        /// A map of up to 24 cells at addresses below 64 pages, each a user
        /// page (of pid 1 or 2) or a free run, with any marks.
        fn maps() -> impl proptest::strategy::Strategy<Value = Vec<CellLook>> {
            use proptest::prelude::*;
            proptest::collection::btree_map(1u64..64, (0u8..3, any::<bool>(), any::<bool>(), any::<bool>()), 0..24)
                .prop_map(|m| {
                    m.into_iter()
                        .map(|(page, (kind, new, active, mine))| {
                            let mut l =
                                if kind == 0 { free_run(page * PGSIZE, 2) } else { user(page * PGSIZE, kind.into()) };
                            l.new = new && kind != 0;
                            l.gone = new && kind == 0;
                            l.active = active;
                            l.mine = mine.then_some(1);
                            l
                        })
                        .collect()
                })
        }

        proptest::proptest! {
            /// Whatever map follows whatever map, the document shows what a fresh
            /// map would, a frame still in the map keeps its cell, and only
            /// frames that came or went are made or removed.
            #[test]
            fn any_map_after_any_map_is_drawn_as_a_fresh_one(steps in proptest::collection::vec(maps(), 1..5)) {
                let mut f = Fake::default();
                let mut drawn: Vec<(CellLook, u32)> = Vec::new();
                for want in &steps {
                    let before: std::collections::BTreeMap<u64, u32> = drawn.iter().map(|(l, e)| (l.cell.pa, *e)).collect();
                    let now: std::collections::BTreeSet<u64> = want.iter().map(|l| l.cell.pa).collect();
                    let (made, removed) = (f.made, f.removed);
                    reconcile(&mut drawn, want, false, &mut f);
                    proptest::prop_assert_eq!(shown(&f), fresh(want));
                    let came = now.iter().filter(|pa| !before.contains_key(pa)).count() as u32;
                    let went = before.keys().filter(|pa| !now.contains(pa)).count() as u32;
                    proptest::prop_assert_eq!((f.made - made, f.removed - removed), (came, went));
                    for (l, e) in &drawn {
                        if let Some(was) = before.get(&l.cell.pa) {
                            proptest::prop_assert_eq!(e, was, "frame {:#x} kept its cell", l.cell.pa);
                        }
                    }
                }
            }
        }
    }
}
