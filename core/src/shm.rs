//! Shared memory, after the OS-lab report in the notes (seed 004): a table of
//! 64 shared pages, `openshmem(id)` maps page `id` at `PGROUNDUP(sz)` and
//! grows `sz`, `closeshmem(id)` unmaps it, and each page counts its users.
//!
//! Two versions run here:
//! - [`ShmMode::Lab`], pagelab's: a shared frame is freed exactly once,
//!   when its last user lets go — by closing it, exiting, calling exec or
//!   shrinking over it — and fork shares it with the child;
//! - [`ShmMode::Note`], what the note's code does, with each of its defects
//!   named in the trace as it happens: it never frees a page whose count
//!   reaches 0, fork copies the page instead of sharing it, exit frees it
//!   while others still use it, `closeshmem` trusts `proc->shmemaddr`,
//!   and a failed `mappages` returns with the lock held.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::addr::{PGROUNDUP, PGSIZE};
use crate::proc::{ProcTable, ShmMapping};
use crate::sys::{Reject, ShmError, SysError, SysRet};
use crate::trace::{Owner, Trace};
use crate::{OrPanic, Panic, VmFail};

/// Entries in the table (the note's `NSHPAGE`).
pub const NSHPAGE: usize = 64;

/// Which shared-memory code runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShmMode {
    /// pagelab's correct version.
    #[default]
    Lab,
    /// The note's code, defects and all.
    Note,
}

impl ShmMode {
    /// Name used in scenarios.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ShmMode::Lab => "lab",
            ShmMode::Note => "note",
        }
    }
}

/// One entry (the note's `struct shpage`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShmPage {
    /// The page's id; 0 marks a free entry.
    pub id: i32,
    /// Processes that have it open (the note's `n_access`).
    pub refs: i32,
    /// Physical address of the frame.
    pub pa: u64,
}

/// The table (the note's `shmemtable`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShmTable {
    /// The entries.
    pub pages: Vec<ShmPage>,
    /// Note mode only: a call returned with the table's lock held, so the
    /// next call would spin forever.
    pub lock_held: bool,
}

impl Default for ShmTable {
    fn default() -> Self {
        ShmTable::new()
    }
}

impl ShmTable {
    /// An empty table.
    #[must_use]
    pub fn new() -> ShmTable {
        ShmTable { pages: alloc::vec![ShmPage::default(); NSHPAGE], lock_held: false }
    }

    /// Index of the entry for `id`.
    #[must_use]
    pub fn find(&self, id: i32) -> Option<usize> {
        self.pages.iter().position(|p| p.id == id)
    }

    /// Entries in use.
    pub fn used(&self) -> impl Iterator<Item = &ShmPage> {
        self.pages.iter().filter(|p| p.id != 0)
    }
}

/// The state the shared-memory code reads and changes. Every port has it:
/// `port.rs` implements this for every [`crate::port::Xv6Port`].
pub trait ShmState {
    /// The shared-memory table.
    fn shm_table(&mut self) -> &mut ShmTable;
    /// Which shared-memory code runs.
    fn shm_mode_of(&self) -> ShmMode;
    /// The process table.
    fn ptable_mut(&mut self) -> &mut ProcTable;
    /// kalloc a zeroed frame for shared page `id`.
    ///
    /// # Errors
    /// The frame cannot be written.
    fn shm_kalloc(&mut self, tr: &mut Trace, id: i32) -> Result<Option<u64>, Panic>;
    /// kfree a frame.
    ///
    /// # Errors
    /// kfree's panics.
    fn shm_kfree(&mut self, tr: &mut Trace, pa: u64) -> Result<(), Panic>;
    /// Who owns frame `pa`.
    fn frame_owner(&self, pa: u64) -> Option<Owner>;
}

/// The hooks each port writes for the shared-memory code: its address-space
/// top, and how it maps, finds and clears an entry and flushes the TLB.
pub trait ShmHost: ShmState {
    /// Highest address a user page may end at.
    fn user_top(&self) -> u64;
    /// mappages(pgdir, va, PGSIZE, pa, user read/write).
    ///
    /// # Errors
    /// mappages's failures.
    fn shm_map(&mut self, tr: &mut Trace, pid: u32, va: u64, pa: u64) -> Result<(), VmFail>;
    /// Find the last-level entry for `va` without allocating: its value, or None if there is no table.
    ///
    /// # Errors
    /// The walk's panics.
    fn shm_pte(&mut self, tr: &mut Trace, pid: u32, va: u64) -> Result<Option<u64>, Panic>;
    /// Write 0 to the entry for `va` (whose table exists).
    ///
    /// # Errors
    /// The walk's panics.
    fn shm_clear(&mut self, tr: &mut Trace, pid: u32, va: u64) -> Result<(), Panic>;
    /// Flush the TLB if `pid`'s table is the current one.
    fn shm_flush(&mut self, tr: &mut Trace, pid: u32);
    /// Physical address in an entry, if it is valid.
    fn pte_target(&self, pte: u64) -> Option<u64>;
    /// The present user pages of `pid` below `top`: (virtual, physical), in order.
    ///
    /// # Errors
    /// The walk's panics.
    fn mapped_user_pages(&mut self, tr: &mut Trace, pid: u32, top: u64) -> Result<Vec<(u64, u64)>, Panic>;
    /// Where the port's freeing of a whole image stops looking for pages:
    /// xv6-public's `freevm` clears everything below KERNBASE, xv6-riscv's
    /// `uvmfree` everything below `sz`.
    fn image_top(&self, pid: u32) -> u64;
}

// What each mode does at xv6's events. The ports call these hooks at the
// same points of fork, exec, sbrk, exit and wait, and hold no mode branches.

/// What fork's copy needs from the shared-memory state (see [`before_fork`]).
#[derive(Debug, Default)]
pub(crate) struct ForkShare {
    /// Pages the child maps to the parent's frame instead of copying (lab mode).
    pub share: Vec<u64>,
    /// Holes below sz that the copy skips (lab mode).
    pub skip: Vec<u64>,
    /// The note's private copies of shared pages the child will hold (note mode).
    pub copies: Vec<ShmMapping>,
}

/// Before fork copies `parent`'s memory with `copier` (copyuvm or uvmcopy):
/// refuse, before anything changes, a copy that would panic on a missing page
/// (`<copier>: page not present`), and say what the copy does with shared pages.
///
/// # Errors
/// The copy's panic, or the walk's.
pub(crate) fn before_fork<H: ShmHost>(
    h: &mut H,
    tr: &mut Trace,
    copier: &str,
    parent: &crate::proc::Proc,
) -> Result<ForkShare, Reject> {
    let mut out = ForkShare::default();
    if h.shm_mode_of() == ShmMode::Lab {
        out.share = parent.shm.iter().map(|m| m.va).collect();
        out.skip = parent.holes.clone();
    }
    let pages = h.mapped_user_pages(tr, parent.pid, parent.sz)?;
    let mut a = 0u64;
    while a < parent.sz {
        if !out.skip.contains(&a) && !pages.iter().any(|&(va, _)| va == a) {
            return Err(Panic(format!("{copier}: page not present")).into());
        }
        a += PGSIZE;
    }
    if h.shm_mode_of() == ShmMode::Note {
        out.copies = note_fork_copies(tr, copier, parent, &pages, |pa| h.frame_owner(pa));
    }
    Ok(out)
}

/// After fork made `child`: in lab mode it holds a reference to each of the parent's shared pages.
pub(crate) fn after_fork<H: ShmHost>(h: &mut H, parent: u32, child: u32) {
    if h.shm_mode_of() == ShmMode::Lab {
        share_with_child(h, parent, child);
    }
}

/// Before exec frees `pid`'s old image, or wait frees a zombie's: lab mode
/// closes its shared pages (`why` says which call), note mode names what
/// freeing them does and refuses a double free.
///
/// # Errors
/// The note's refusals; the walk's panics.
pub(crate) fn before_free_image<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, why: &str) -> Result<(), Reject> {
    match h.shm_mode_of() {
        ShmMode::Lab => Ok(detach_all(h, tr, pid, why)?),
        ShmMode::Note => {
            let top = h.image_top(pid);
            let pages = h.mapped_user_pages(tr, pid, top)?;
            note_check_frees(h, tr, pid, &pages)
        }
    }
}

/// Before sbrk frees `pid`'s pages from `from` (page-aligned) up to its sz:
/// lab mode closes the shared pages there and returns their addresses, now
/// holes; note mode names what freeing them does and returns none.
///
/// # Errors
/// The note's refusals; the walk's panics.
pub(crate) fn before_shrink<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, from: u64) -> Result<Vec<u64>, Reject> {
    match h.shm_mode_of() {
        ShmMode::Lab => Ok(detach_from(h, tr, pid, from)?),
        ShmMode::Note => {
            let sz = h.ptable_mut().get(pid).map_or(0, |p| p.sz);
            let pages = h.mapped_user_pages(tr, pid, sz)?;
            let going: Vec<(u64, u64)> = pages.into_iter().filter(|&(v, _)| v >= from).collect();
            note_check_frees(h, tr, pid, &going)?;
            Ok(Vec::new())
        }
    }
}

/// When `pid` exits: lab mode closes its shared pages now; the note's code
/// leaves them until wait frees the image.
///
/// # Errors
/// The walk's panics.
pub(crate) fn on_exit<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32) -> Result<(), Panic> {
    match h.shm_mode_of() {
        ShmMode::Lab => detach_all(h, tr, pid, "exit: the process's shared pages are closed (pagelab)"),
        ShmMode::Note => Ok(()),
    }
}

fn check_lock(t: &ShmTable) -> Result<(), Reject> {
    if t.lock_held {
        return Err(Reject::NoteRefuses {
            why: "an earlier openshmem returned with shmemtable.lock held, so this call would spin on the lock forever"
                .into(),
        });
    }
    Ok(())
}

/// `pid` calls openshmem(id).
pub(crate) fn open<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, id: i64) -> Result<SysRet, Reject> {
    let mode = h.shm_mode_of();
    tr.call(
        "openshmem",
        || format!("id={id}"),
        |tr| match mode {
            ShmMode::Lab => open_lab(h, tr, pid, id),
            ShmMode::Note => open_note(h, tr, pid, id),
        },
    )
}

fn open_lab<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, id: i64) -> Result<SysRet, Reject> {
    let Ok(id) = i32::try_from(id) else {
        return Ok(SysRet::err(SysError::Shm(ShmError::BadId { id })));
    };
    if id <= 0 {
        return Ok(SysRet::err(SysError::Shm(ShmError::BadId { id: id.into() })));
    }
    let p = h.ptable_mut().get(pid).ok_or(Reject::NoSuchProcess { pid })?;
    if let Some(m) = p.shm.iter().find(|m| m.id == id) {
        // A child that got the page from fork, opening it again (as the
        // note's test does): it is the same page, at the same place.
        let va = m.va;
        tr.note(|| format!("pid {pid} has shared page {id} open already (at {va:#x}): openshmem returns that address"));
        return Ok(SysRet::ok(va as i64));
    }
    let va = PGROUNDUP(p.sz);
    if va + PGSIZE > h.user_top() {
        return Ok(SysRet::err(SysError::Shm(ShmError::NoRoom)));
    }
    let (idx, fresh) = match h.shm_table().find(id) {
        Some(i) => (i, false),
        None => {
            let Some(i) = h.shm_table().find(0) else {
                tr.fail("openshmem: no free entry in shmemtable");
                return Ok(SysRet::err(SysError::Shm(ShmError::TableFull)));
            };
            let Some(pa) = h.shm_kalloc(tr, id)? else {
                tr.fail("openshmem: out of memory");
                return Ok(SysRet::err(SysError::Shm(ShmError::OutOfMemory)));
            };
            h.shm_table().pages[i] = ShmPage { id, refs: 0, pa };
            tr.note(|| format!("shared page {id} is new: entry {i} of the table, frame {pa:#x}"));
            (i, true)
        }
    };
    let pa = h.shm_table().pages[idx].pa;
    match h.shm_map(tr, pid, va, pa) {
        Err(VmFail::OutOfMemory) => {
            if fresh {
                h.shm_kfree(tr, pa)?;
                h.shm_table().pages[idx] = ShmPage::default();
            }
            tr.fail("openshmem: out of memory for a page table");
            return Ok(SysRet::err(SysError::Shm(ShmError::OutOfMemory)));
        }
        r => r.or_panic("openshmem")?,
    }
    let refs = {
        let e = &mut h.shm_table().pages[idx];
        e.refs += 1;
        e.refs
    };
    let p = h.ptable_mut().get_mut(pid).ok_or(Reject::NoSuchProcess { pid })?;
    p.shm.push(ShmMapping { id, va });
    p.shmemaddr = va;
    p.sz = va + PGSIZE;
    tr.note(|| {
        format!("pid {pid} maps shared page {id} at {va:#x}; {refs} process(es) use it; sz is now {:#x}", va + PGSIZE)
    });
    Ok(SysRet::ok(va as i64))
}

fn open_note<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, id: i64) -> Result<SysRet, Reject> {
    check_lock(h.shm_table())?;
    // The note's id is a C int: larger values wrap.
    let id = id as i32;
    let sz = h.ptable_mut().get(pid).ok_or(Reject::NoSuchProcess { pid })?.sz;
    if let Some(i) = h.shm_table().find(id) {
        if id == 0 {
            tr.defect(format!(
                "id 0 matches a free entry (the table marks free entries with id 0): the process maps whatever frame that entry last held ({:#x})",
                h.shm_table().pages[i].pa
            ));
        }
        h.shm_table().pages[i].refs += 1;
        let va = PGROUNDUP(sz);
        let pa = h.shm_table().pages[i].pa;
        return note_map(h, tr, pid, va, pa, sz);
    }
    let Some(i) = h.shm_table().find(0) else {
        return Err(Reject::NoteRefuses {
            why: "the table is full, so pgidx stays -1 and the code writes shmemtable.pages[-1], outside the table"
                .into(),
        });
    };
    h.shm_table().pages[i].id = id;
    let Some(pa) = h.shm_kalloc(tr, id)? else {
        h.shm_table().pages[i].id = 0;
        return Err(Reject::NoteRefuses {
            why: "kalloc returned 0 and the code calls memset on it without checking: a null-pointer write".into(),
        });
    };
    h.shm_table().pages[i].pa = pa;
    let va = PGROUNDUP(sz);
    let r = note_map(h, tr, pid, va, pa, sz)?;
    if r.error.is_none() {
        h.shm_table().pages[i].refs += 1;
    }
    Ok(r)
}

/// The note's mapping step, shared by its two branches.
fn note_map<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, va: u64, pa: u64, sz: u64) -> Result<SysRet, Reject> {
    if va + PGSIZE > h.user_top() {
        return Err(Reject::NoteRefuses { why: "the page would be mapped in the kernel's part of memory".into() });
    }
    match h.shm_map(tr, pid, va, pa) {
        Err(VmFail::OutOfMemory) => {
            tr.defect("mappages failed and openshmem returns -1 without releasing shmemtable.lock");
            h.shm_table().lock_held = true;
            return Ok(SysRet::err(SysError::Shm(ShmError::OutOfMemory)));
        }
        r => r.or_panic("openshmem")?,
    }
    let p = h.ptable_mut().get_mut(pid).ok_or(Reject::NoSuchProcess { pid })?;
    p.shmemaddr = va;
    p.sz = sz + PGSIZE;
    if !sz.is_multiple_of(PGSIZE) {
        tr.defect(format!(
            "sz += PGSIZE gives {:#x}, which ends inside the page mapped at {va:#x}: the code should set sz = PGROUNDUP(sz) + PGSIZE",
            sz + PGSIZE
        ));
    }
    tr.note(|| format!("pid {pid} maps frame {pa:#x} at {va:#x} (proc->shmemaddr = {va:#x})"));
    Ok(SysRet::ok(va as i64))
}

/// The note's fork copies a shared page like any other: name each one
/// `fork_fn` (copyuvm or uvmcopy) copies in a DEFECT line, and return them,
/// with the copies the parent itself has (a copy of a copy is one too).
fn note_fork_copies(
    tr: &mut Trace,
    fork_fn: &str,
    parent: &crate::proc::Proc,
    pages: &[(u64, u64)],
    owner: impl Fn(u64) -> Option<Owner>,
) -> Vec<ShmMapping> {
    let mut copies = parent.shm_copies.clone();
    for &(va, pa) in pages {
        if let Some(Owner::Shared { id }) = owner(pa) {
            tr.defect(format!(
                "{fork_fn} copies shared page {id} (at {va:#x}) like any other page: the child gets a private copy, not the shared frame"
            ));
            copies.retain(|m| m.va != va);
            copies.push(ShmMapping { id, va });
        }
    }
    copies
}

/// `pid` calls closeshmem(id).
pub(crate) fn close<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, id: i64) -> Result<SysRet, Reject> {
    let mode = h.shm_mode_of();
    tr.call(
        "closeshmem",
        || format!("id={id}"),
        |tr| match mode {
            ShmMode::Lab => close_lab(h, tr, pid, id),
            ShmMode::Note => close_note(h, tr, pid, id),
        },
    )
}

fn close_lab<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, id: i64) -> Result<SysRet, Reject> {
    let Ok(id) = i32::try_from(id) else {
        return Ok(SysRet::err(SysError::Shm(ShmError::BadId { id })));
    };
    let p = h.ptable_mut().get(pid).ok_or(Reject::NoSuchProcess { pid })?;
    let Some(m) = p.shm.iter().copied().find(|m| m.id == id) else {
        tr.fail("closeshmem: this process has no shared page with this id");
        return Ok(SysRet::err(SysError::Shm(ShmError::NotOpen)));
    };
    detach(h, tr, pid, m)?;
    Ok(SysRet::ok(0))
}

/// Unmap one shared page from `pid` and drop its reference; free the frame
/// if that was the last one (pagelab's version). If the page was at the top
/// of the address space, `sz` shrinks below it (and below any holes under
/// it); otherwise it leaves a hole that fork and sbrk skip.
pub(crate) fn detach<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, m: ShmMapping) -> Result<(), Panic> {
    h.shm_clear(tr, pid, m.va)?;
    h.shm_flush(tr, pid);
    if let Some(p) = h.ptable_mut().get_mut(pid) {
        p.shm.retain(|x| x.id != m.id);
        if m.va + PGSIZE >= p.sz {
            let mut sz = m.va;
            while sz >= PGSIZE && p.holes.contains(&(sz - PGSIZE)) {
                sz -= PGSIZE;
                p.holes.retain(|&x| x != sz);
            }
            p.sz = sz;
            tr.note(|| format!("the page was at the top of pid {pid}'s memory: sz shrinks to {sz:#x}"));
        } else {
            p.holes.push(m.va);
            tr.note(|| format!("{:#x} stays a hole below sz in pid {pid} (fork and sbrk skip it)", m.va));
        }
    }
    let Some(i) = h.shm_table().find(m.id) else {
        return Err(Panic(format!("closeshmem: shared page {} is not in the table", m.id)));
    };
    let e = &mut h.shm_table().pages[i];
    e.refs -= 1;
    let (refs, pa) = (e.refs, e.pa);
    if refs == 0 {
        h.shm_kfree(tr, pa)?;
        h.shm_table().pages[i] = ShmPage::default();
        tr.note(|| format!("pid {pid} was the last user of shared page {}: its frame {pa:#x} is freed", m.id));
    } else {
        tr.note(|| format!("pid {pid} lets go of shared page {}: {refs} process(es) still use it", m.id));
    }
    Ok(())
}

/// Detach every shared page `pid` has open (exit, exec), pagelab's version.
fn detach_all<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, why: &str) -> Result<(), Panic> {
    let maps = h.ptable_mut().get(pid).map(|p| p.shm.clone()).unwrap_or_default();
    if maps.is_empty() {
        return Ok(());
    }
    tr.call(
        "shmdetach",
        || String::from(why),
        |tr| {
            for m in maps {
                detach(h, tr, pid, m)?;
            }
            Ok(())
        },
    )
}

/// Detach the shared pages at or above `from` (sbrk shrinking over them),
/// pagelab's version. Returns their addresses, now unmapped.
fn detach_from<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, from: u64) -> Result<Vec<u64>, Panic> {
    let maps: Vec<ShmMapping> =
        h.ptable_mut().get(pid).map(|p| p.shm.iter().copied().filter(|m| m.va >= from).collect()).unwrap_or_default();
    for &m in &maps {
        tr.note(|| format!("sbrk shrinks over shared page {} at {:#x}: it is closed first", m.id, m.va));
        detach(h, tr, pid, m)?;
    }
    if let Some(p) = h.ptable_mut().get_mut(pid) {
        p.holes.retain(|&x| x < from);
    }
    Ok(maps.iter().map(|m| m.va).collect())
}

/// After fork copied `parent`'s mappings of its shared pages into `child`,
/// take a reference for each (pagelab's version).
fn share_with_child<H: ShmHost>(h: &mut H, parent: u32, child: u32) {
    let (maps, holes) = h.ptable_mut().get(parent).map(|p| (p.shm.clone(), p.holes.clone())).unwrap_or_default();
    for m in &maps {
        if let Some(i) = h.shm_table().find(m.id) {
            h.shm_table().pages[i].refs += 1;
        }
    }
    if let Some(c) = h.ptable_mut().get_mut(child) {
        c.shm = maps;
        c.holes = holes;
    }
}

fn close_note<H: ShmHost>(h: &mut H, tr: &mut Trace, pid: u32, id: i64) -> Result<SysRet, Reject> {
    check_lock(h.shm_table())?;
    let id = id as i32;
    let Some(i) = h.shm_table().find(id) else {
        tr.fail("No shared memory with this ID.");
        return Ok(SysRet::err(SysError::Shm(ShmError::NotOpen)));
    };
    let p = h.ptable_mut().get(pid).ok_or(Reject::NoSuchProcess { pid })?;
    let a = PGROUNDUP(p.shmemaddr);
    let opened = p.shm.iter().any(|m| m.id == id) || p.shmemaddr != 0;
    if !opened {
        tr.defect(
            "closeshmem does not check that this process opened the page: it trusts proc->shmemaddr, which is 0 here",
        );
    }
    let Some(pte) = h.shm_pte(tr, pid, a)? else {
        return Err(Reject::NoteRefuses {
            why: format!("walkpgdir finds no page table for {a:#x} and returns 0; the code writes *pte = 0 through it"),
        });
    };
    let e = &mut h.shm_table().pages[i];
    e.refs -= 1;
    let (refs, pa) = (e.refs, e.pa);
    match h.pte_target(pte) {
        Some(target) if target == pa => {}
        Some(target) => {
            let owner = h.frame_owner(target);
            tr.defect(format!(
                "proc->shmemaddr ({a:#x}) maps frame {target:#x}, not shared page {id}: clearing its entry loses that frame ({}) for good",
                owner.map_or_else(|| String::from("free"), |o| format!("{o}"))
            ));
        }
        None => {}
    }
    h.shm_clear(tr, pid, a)?;
    tr.defect("the entry is cleared without a TLB flush: the CPU may keep using the old translation");
    if let Some(p) = h.ptable_mut().get_mut(pid) {
        p.shm.retain(|m| m.id != id);
    }
    if refs == 0 {
        h.shm_table().pages[i].id = 0;
        tr.defect(format!(
            "n_access reached 0 and the entry is reused, but frame {pa:#x} is never kfree'd: one page leaks"
        ));
    }
    tr.defect("sz is not reduced: the address space keeps a hole where the page was");
    Ok(SysRet::ok(0))
}

/// Note mode: before pages are freed (exit, exec, sbrk), name what goes wrong,
/// and refuse if it would free a frame that is free already or belongs to
/// someone else.
fn note_check_frees<H: ShmHost>(h: &H, tr: &mut Trace, pid: u32, pages: &[(u64, u64)]) -> Result<(), Reject> {
    for &(va, pa) in pages {
        match h.frame_owner(pa) {
            Some(Owner::User { pid: p }) if p == pid => {}
            Some(Owner::Shared { id }) => tr.defect(format!(
                "the page at {va:#x} is shared page {id}, but freevm frees it like any user page: the table still points at frame {pa:#x}, and anyone else who mapped it now uses a free frame"
            )),
            None => {
                return Err(Reject::NoteRefuses {
                    why: format!("frame {pa:#x} (at {va:#x}) is free already: kfree would put it on the free list twice"),
                });
            }
            Some(o) => {
                return Err(Reject::NoteRefuses {
                    why: format!("frame {pa:#x} (at {va:#x}) now belongs to someone else ({o}): kfree would free it under them"),
                });
            }
        }
    }
    Ok(())
}
