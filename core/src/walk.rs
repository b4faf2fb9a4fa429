//! The one page-table walker, generic over the scheme.
//!
//! [`walk`] is what xv6's `walkpgdir` (x86) and `walk` (RISC-V) do: follow
//! the tables from the root down to the last level, optionally allocating
//! missing tables, and return the address of the last-level entry.
//! [`translate`] is what the MMU does: the same descent, read-only, with the
//! permission checks, reporting every step for display.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use arrayvec::ArrayVec;
use core::marker::PhantomData;
use serde::Serialize;

use crate::OrPanic as _;
use crate::Panic;
use crate::addr::{PGSIZE, PhysAddr, VirtAddr};
use crate::kalloc::Kmem;
use crate::mem::PhysMem;
use crate::scheme::{Access, AccessKind, FaultKind, FlagBits, Mode, Scheme, SchemeKind};
use crate::tlb::{Serve, Tlb, TlbEntry};
use crate::trace::{Event, Owner, Trace};

/// Address of entry `index` in the table at `table`.
#[must_use]
pub fn entry_addr<S: Scheme>(table: u64, index: u64) -> u64 {
    table + index * S::ENTRY_BYTES
}

/// Read the entry at `addr`.
///
/// # Errors
/// A [`Panic`] if the entry is not in RAM (only a corrupted table can point there).
pub fn read_entry<S: Scheme>(mem: &(impl PhysMem + ?Sized), addr: u64) -> Result<u64, Panic> {
    mem.read_word(addr, S::ENTRY_BYTES).or_panic("walk")
}

/// Write `new` to the entry at `addr` of the table at `level`, recording old → new.
///
/// # Errors
/// A [`Panic`] if the entry is not in RAM.
pub fn write_entry<S: Scheme>(
    mem: &mut impl PhysMem,
    tr: &mut Trace,
    level: u32,
    addr: u64,
    va: u64,
    new: u64,
) -> Result<(), Panic> {
    let old = read_entry::<S>(mem, addr)?;
    replace_entry::<S>(mem, tr, level, addr, va, old, new)
}

/// [`write_entry`] for a caller that has just read the entry (`old`).
///
/// # Errors
/// A [`Panic`] if the entry is not in RAM.
pub fn replace_entry<S: Scheme>(
    mem: &mut impl PhysMem,
    tr: &mut Trace,
    level: u32,
    addr: u64,
    va: u64,
    old: u64,
    new: u64,
) -> Result<(), Panic> {
    mem.write_word(addr, S::ENTRY_BYTES, new).or_panic("walk")?;
    let table = addr & !(PGSIZE - 1);
    let index = ((addr - table) / S::ENTRY_BYTES) as u32;
    tr.pte_write(level, table, index, va & !(S::level_size(level) - 1), old, new);
    Ok(())
}

/// Map a run of pages whose last-level entries are consecutive in one table
/// (the inner loop of `mappages`): entry `i` from `addr` gets `first + i·step`
/// and maps `va + i·PGSIZE`. Each entry is read first; at the first one
/// already valid, the entries before it are written and its virtual address
/// is returned (`mappages: remap`). The trace gets the same entry writes as
/// one [`write_entry`] per page; memory gets them in one `write_words`.
///
/// # Errors
/// A [`Panic`] if the run is not in RAM.
#[allow(clippy::too_many_arguments)]
pub fn map_run<S: Scheme>(
    mem: &mut impl PhysMem,
    tr: &mut Trace,
    addr: u64,
    va: u64,
    pages: u64,
    first: u64,
    step: u64,
) -> Result<Option<u64>, Panic> {
    /// Entries handled at a time (small buffers: a one-page mappages stays cheap).
    const BLOCK: u64 = 32;
    let n = S::ENTRY_BYTES;
    let table = addr & !(PGSIZE - 1);
    // Never past the end of the table.
    let pages = pages.min((PGSIZE - (addr - table)) / n);
    let index = ((addr - table) / n) as u32;
    let mut done = 0;
    // A block's entries, read in one piece, and their values (zeroed once
    // for the run, not per block: each block overwrites what it uses).
    let mut raw = [0u8; (BLOCK * 8) as usize];
    let mut olds = [0u64; BLOCK as usize];
    while done < pages {
        let len = BLOCK.min(pages - done);
        let at = addr + done * n;
        let mut ok = len;
        if let Some(b) = mem.uniform(at, len * n) {
            // Every entry of the block is that byte repeated (a fresh table: 0).
            let mut w = [0u8; 8];
            w[..n as usize].fill(b);
            let e = u64::from_le_bytes(w);
            olds[..len as usize].fill(e);
            if e & S::VALID != 0 {
                ok = 0;
            }
        } else {
            mem.read(at, &mut raw[..(len * n) as usize]).or_panic("walk")?;
            for (i, (old, b)) in olds.iter_mut().zip(raw.chunks_exact(n as usize)).take(len as usize).enumerate() {
                let mut w = [0u8; 8];
                w[..b.len()].copy_from_slice(b);
                *old = u64::from_le_bytes(w);
                if *old & S::VALID != 0 {
                    ok = i as u64;
                    break;
                }
            }
        }
        let new = first.wrapping_add(done.wrapping_mul(step));
        let va_at = va + done * PGSIZE;
        tr.pte_write_run(0, table, index + done as u32, va_at, PGSIZE, &olds[..ok as usize], new, step);
        if ok < len {
            mem.write_words(addr, n, first, step, done + ok).or_panic("walk")?;
            return Ok(Some(va_at + ok * PGSIZE));
        }
        done += len;
    }
    // Every entry of the run in one write (the blocks read do not overlap the
    // entries written): a whole table of them is stored as its first entry and step.
    mem.write_words(addr, n, first, step, pages).or_panic("walk")?;
    Ok(None)
}

/// Return the address of the last-level entry for `va` in the table rooted at
/// `root`. If `alloc` names an owner, create any missing page-table pages for
/// it; otherwise return `None` where a table is missing. Also `None` when
/// kalloc runs out.
///
/// The caller names this walk (`walkpgdir` or `walk`) in the trace.
///
/// # Errors
/// A [`Panic`] for a large-page entry on the way down (xv6 never makes one in
/// a process's table) or a table outside RAM.
pub fn walk<S: Scheme>(
    mem: &mut impl PhysMem,
    kmem: &mut Kmem,
    tr: &mut Trace,
    root: PhysAddr,
    va: VirtAddr,
    alloc: Option<Owner>,
) -> Result<Option<PhysAddr>, Panic> {
    let va = va.as_u64();
    let mut table = root.as_u64();
    for level in (1..S::LEVELS).rev() {
        let pte = entry_addr::<S>(table, S::index(va, level));
        let e = read_entry::<S>(mem, pte)?;
        if e & S::VALID != 0 {
            if S::is_leaf(e, level) {
                return Err(Panic(format!("walk: {va:#x} is under a large-page entry at level {level}")));
            }
            table = S::pte_pa(e);
        } else {
            let Some(owner) = alloc else { return Ok(None) };
            let Some(new) = kmem.kalloc(mem, tr, owner).map(PhysAddr::as_u64) else {
                return Ok(None);
            };
            // Make sure all those valid bits are zero.
            mem.fill(new, PGSIZE, 0).or_panic("walk")?;
            write_entry::<S>(mem, tr, level, pte, va, S::table_entry(new))?;
            table = new;
        }
    }
    Ok(Some(PhysAddr::new(entry_addr::<S>(table, S::index(va, 0)))))
}

/// One step of a translation: the entry read at one level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WalkStep {
    /// Level (root = `LEVELS - 1`, last = 0).
    pub level: u32,
    /// Name of the index field (`PDX`, `L1`, …).
    pub field: &'static str,
    /// The index.
    pub index: u64,
    /// The table the entry is in.
    pub table: PhysAddr,
    /// The entry's physical address (`table + index * entry size`).
    pub entry_addr: PhysAddr,
    /// The entry's value.
    pub entry: u64,
    /// Its flag bits by name.
    pub flags: FlagBits,
    /// The address the entry holds (next table, or the frame for a leaf).
    pub points_to: PhysAddr,
    /// True if this entry maps memory (ends the walk).
    pub leaf: bool,
}

/// Where a translation ended up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mapped {
    /// The physical address.
    pub pa: PhysAddr,
    /// Start of the frame (or large page) holding it.
    pub frame: PhysAddr,
    /// Offset within it.
    pub offset: u64,
    /// Size of the page that maps it.
    pub page_size: u64,
}

/// Why a translation failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// Level of the entry that stopped the walk, if one did.
    pub level: Option<u32>,
    /// What went wrong.
    pub kind: FaultKind,
    /// x86: the page-fault error code; RISC-V: `scause`.
    pub code: u64,
    /// Plain words.
    pub text: String,
}

/// The most levels of any scheme (Sv39's three), so the most steps of a walk.
pub const MAX_LEVELS: usize = 3;

/// A whole translation, step by step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Translation {
    /// The scheme.
    pub scheme: SchemeKind,
    /// The virtual address.
    pub va: VirtAddr,
    /// The access checked.
    pub access: Access,
    /// The root (CR3 / satp's page).
    pub root: PhysAddr,
    /// The entries read, root first: one per level at most, held in place
    /// (a walk that only displays allocates nothing for its steps).
    pub steps: ArrayVec<WalkStep, MAX_LEVELS>,
    /// The result.
    pub outcome: Result<Mapped, Fault>,
}

/// The code the hardware reports for a fault.
fn fault_code(scheme: SchemeKind, kind: FaultKind, access: Access) -> u64 {
    match scheme {
        SchemeKind::X86 => {
            // Bit 0: the entry was present (a protection fault); bit 1: write; bit 2: user mode.
            let p = u64::from(!matches!(kind, FaultKind::NotPresent | FaultKind::BadAddress));
            let w = u64::from(access.kind == AccessKind::Write);
            let u = u64::from(access.mode == Mode::User);
            p | w << 1 | u << 2
        }
        SchemeKind::Sv39 | SchemeKind::Sv32 => {
            let page_fault = !matches!(kind, FaultKind::TableOutsideRam);
            match (access.kind, page_fault) {
                (AccessKind::Execute, true) => 12,
                (AccessKind::Read, true) => 13,
                (AccessKind::Write, true) => 15,
                (AccessKind::Execute, false) => 1,
                (AccessKind::Read, false) => 5,
                (AccessKind::Write, false) => 7,
            }
        }
    }
}

fn fault(scheme: SchemeKind, level: Option<u32>, kind: FaultKind, access: Access) -> Fault {
    let text = match level {
        Some(l) => ["stopped at the ", scheme.index_name(l), " entry: ", kind.explain()].concat(),
        None if kind == FaultKind::BadAddress && scheme != SchemeKind::Sv39 => {
            String::from("the address is wider than 32 bits: this paging scheme translates 0x0 to 0xffffffff only")
        }
        None => String::from(kind.explain()),
    };
    Fault { level, kind, code: fault_code(scheme, kind, access), text }
}

/// What a walk tells its recorder at each level it reads (see [`descend`]).
pub trait Record {
    /// The entry `e` at `addr` (index `index` of the table at `table`) was read at `level`.
    fn step(&mut self, level: u32, index: u64, table: u64, addr: u64, e: u64, leaf: bool);
    /// Forget every step told so far: the walk starts again from the root.
    fn restart(&mut self);
}

/// The answer-only walk records nothing: this compiles to no code at all.
impl Record for () {
    #[inline(always)]
    fn step(&mut self, _level: u32, _index: u64, _table: u64, _addr: u64, _e: u64, _leaf: bool) {}
    #[inline(always)]
    fn restart(&mut self) {}
}

/// Where an answer-only walk stopped: the level of the entry that stopped it
/// (none: the address itself is bad), and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop {
    /// Level of the entry that stopped the walk, if one did.
    pub level: Option<u32>,
    /// What went wrong.
    pub kind: FaultKind,
}

/// The one descent of the MMU: from the table at `root`, read one entry per
/// level for `va`, telling `rec` each one, until a leaf, an invalid entry or
/// the last level; then check `access` against the entries read. Reads
/// memory only, allocates nothing, and never fails: every way the hardware
/// refuses is a [`Stop`]. [`translate`] is this walk with a recorder of
/// every step (for display); [`lookup`] is this walk recording nothing.
///
/// The walk first reads each entry with [`PhysMem::peek_word`], which makes
/// no call, so the whole descent stays in registers. If a peek does not
/// answer (an entry in a page not stored as bytes, or outside RAM), `rec`
/// is told to [`Record::restart`] and the walk is made again with
/// [`PhysMem::read_word`]: reads change nothing, so the answer and the
/// steps are those of that one walk.
#[inline]
pub fn descend<S: Scheme, R: Record>(
    mem: &(impl PhysMem + ?Sized),
    root: u64,
    va: u64,
    access: Access,
    rec: &mut R,
) -> Result<Mapped, Stop> {
    match attempt::<S, R, _>(&Peek::<_, S>(mem, PhantomData), root, va, access, rec) {
        Ok(answer) => answer,
        Err(Again) => {
            // Overwritten whenever `again` answers `None`.
            let mut stop = Stop { level: None, kind: FaultKind::TableOutsideRam };
            match again::<S, R>(mem, root, va, access, rec, &mut stop) {
                Some(found) => Ok(found.mapped(va)),
                None => Err(stop),
            }
        }
    }
}

/// A mapping in one word that is never zero (so that an `Option` of it is
/// one register): the frame (page-aligned, as every scheme's entry holds
/// it), [`Found::MARK`], and log2 of the page size in the low bits.
#[derive(Clone, Copy)]
struct Found(core::num::NonZeroU64);

impl Found {
    /// A bit below the page offset's top, set in every `Found`.
    const MARK: u64 = 1 << 11;

    /// `m` in one word.
    fn new(m: &Mapped) -> Found {
        let frame = m.frame.as_u64();
        debug_assert!(frame.is_multiple_of(PGSIZE), "{frame:#x}: an entry holds a page-aligned address");
        // Never zero, for the mark: the fallback is never taken.
        let word = frame | Found::MARK | u64::from(m.page_size.trailing_zeros());
        Found(core::num::NonZeroU64::new(word).unwrap_or(core::num::NonZeroU64::MIN))
    }

    /// The mapping of `va` this word holds.
    fn mapped(self, va: u64) -> Mapped {
        let (frame, size) = (self.0.get() & !(PGSIZE - 1), 1u64 << (self.0.get() & 63));
        let offset = va & (size - 1);
        Mapped { pa: PhysAddr::new(frame | offset), frame: PhysAddr::new(frame), offset, page_size: size }
    }
}

/// A peek that did not answer: the walk must be made again with full reads.
struct Again;

/// [`descend`] again from the start, reading each entry with
/// [`PhysMem::read_word`]: where it found `va`, or `None` with `stop` set.
/// (The answer comes back in one register, so that it meets the first
/// walk's there and not in memory.)
#[cold]
#[inline(never)]
fn again<S: Scheme, R: Record>(
    mem: &(impl PhysMem + ?Sized),
    root: u64,
    va: u64,
    access: Access,
    rec: &mut R,
    stop: &mut Stop,
) -> Option<Found> {
    rec.restart();
    match attempt::<S, R, _>(&Full::<_, S>(mem, PhantomData), root, va, access, rec) {
        Ok(Ok(m)) => Some(Found::new(&m)),
        Ok(Err(s)) | Err(s) => {
            *stop = s;
            None
        }
    }
}

/// How a walk of [`descend`] reads an entry: [`Peek`] on the first try,
/// [`Full`] on the second. (A trait, not a closure: its method is inlined at
/// each level even where a closure's call would not be.)
trait Reader {
    /// Why a read did not answer.
    type Miss;
    /// The entry at `addr`, in a table at `level`.
    fn entry(&self, addr: u64, level: u32) -> Result<u64, Self::Miss>;
}

/// Entries read by [`PhysMem::peek_word`] (no call; [`Again`] where it cannot answer).
struct Peek<'a, M: ?Sized, S>(&'a M, PhantomData<S>);

impl<M: PhysMem + ?Sized, S: Scheme> Reader for Peek<'_, M, S> {
    type Miss = Again;
    #[inline(always)]
    fn entry(&self, addr: u64, _level: u32) -> Result<u64, Again> {
        self.0.peek_word(addr, S::ENTRY_BYTES).ok_or(Again)
    }
}

/// Entries read by [`PhysMem::read_word`] (outside RAM: the walk stops at that level).
struct Full<'a, M: ?Sized, S>(&'a M, PhantomData<S>);

impl<M: PhysMem + ?Sized, S: Scheme> Reader for Full<'_, M, S> {
    type Miss = Stop;
    #[inline(always)]
    fn entry(&self, addr: u64, level: u32) -> Result<u64, Stop> {
        self.0
            .read_word(addr, S::ENTRY_BYTES)
            .map_err(|_| Stop { level: Some(level), kind: FaultKind::TableOutsideRam })
    }
}

/// One walk for [`descend`], reading each entry with `read`: the answer,
/// or the first miss of `read`.
#[inline(always)]
fn attempt<S: Scheme, R: Record, Rd: Reader>(
    read: &Rd,
    root: u64,
    va: u64,
    access: Access,
    rec: &mut R,
) -> Result<Result<Mapped, Stop>, Rd::Miss> {
    if let Err(kind) = S::check_va(va) {
        return Ok(Err(Stop { level: None, kind }));
    }
    // Two or three levels (every scheme's), written out rather than looped:
    // each way out then checks a path of known length, which the compiler
    // keeps in registers. The walk goes on only through a valid entry that
    // is not a leaf.
    const { assert!(S::LEVELS == 2 || S::LEVELS == 3, "a walk of two or three levels") };
    let top = S::LEVELS - 1;
    let e0 = step::<S, R, Rd>(read, root, va, top, rec)?;
    if S::ends_walk(e0, top) {
        return Ok(finish::<S>(u64::MAX, e0, top, va, access));
    }
    if S::LEVELS == 2 {
        let e1 = step::<S, R, Rd>(read, S::pte_pa(e0), va, 0, rec)?;
        return Ok(finish::<S>(e0, e1, 0, va, access));
    }
    let e1 = step::<S, R, Rd>(read, S::pte_pa(e0), va, 1, rec)?;
    if S::ends_walk(e1, 1) {
        return Ok(finish::<S>(e0, e1, 1, va, access));
    }
    let e2 = step::<S, R, Rd>(read, S::pte_pa(e1), va, 0, rec)?;
    Ok(finish::<S>(e0 & e1, e2, 0, va, access))
}

/// Read the entry for `va` at `level` in the table at `table` with `read` and tell `rec`.
#[inline(always)]
fn step<S: Scheme, R: Record, Rd: Reader>(
    read: &Rd,
    table: u64,
    va: u64,
    level: u32,
    rec: &mut R,
) -> Result<u64, Rd::Miss> {
    let index = S::index(va, level);
    let addr = entry_addr::<S>(table, index);
    let e = read.entry(addr, level)?;
    rec.step(level, index, table, addr, e, e & S::VALID != 0 && S::is_leaf(e, level));
    Ok(e)
}

/// The answer of a walk that stopped at entry `last`, at `level`, after
/// going through entries whose AND is `through` (see
/// [`Scheme::check_end`]): the mapping, or why the hardware refuses `access`.
#[inline(always)]
fn finish<S: Scheme>(through: u64, last: u64, level: u32, va: u64, access: Access) -> Result<Mapped, Stop> {
    match S::check_end(through, last, level, access) {
        Ok(()) => {
            let size = S::level_size(level);
            let frame = S::pte_pa(last);
            let offset = va & (size - 1);
            Ok(Mapped { pa: PhysAddr::new(frame | offset), frame: PhysAddr::new(frame), offset, page_size: size })
        }
        // Every entry before the last is valid (the walk went on through it),
        // so the entry that stopped the walk is the last one read.
        Err(kind) => Err(Stop { level: Some(level), kind }),
    }
}

/// Translate `va` as the MMU would with the table at `root`, checking
/// `access`, and give only the answer: the fast path of [`descend`], with
/// no record and no allocation.
///
/// # Errors
/// Where and why the walk stopped.
#[inline]
pub fn lookup<S: Scheme>(
    mem: &(impl PhysMem + ?Sized),
    root: PhysAddr,
    va: VirtAddr,
    access: Access,
) -> Result<Mapped, Stop> {
    descend::<S, ()>(mem, root.as_u64(), va.as_u64(), access, &mut ())
}

/// The steps of a walk, for display.
struct Steps<S>(ArrayVec<WalkStep, MAX_LEVELS>, core::marker::PhantomData<S>);

impl<S: Scheme> Record for Steps<S> {
    #[inline(always)]
    fn step(&mut self, level: u32, index: u64, table: u64, addr: u64, e: u64, leaf: bool) {
        self.0.push(WalkStep {
            level,
            field: S::index_name(level),
            index,
            table: PhysAddr::new(table),
            entry_addr: PhysAddr::new(addr),
            entry: e,
            flags: S::flag_bits(e),
            points_to: PhysAddr::new(S::pte_pa(e)),
            leaf,
        });
    }
    fn restart(&mut self) {
        self.0.clear();
    }
}

/// Translate `va` as the MMU would with the table at `root`, checking
/// `access`, reporting every step for display: [`descend`] with a recorder.
///
/// Reads memory only; never fails: every way the hardware can refuse is a [`Fault`].
#[must_use]
pub fn translate<S: Scheme>(
    mem: &(impl PhysMem + ?Sized),
    root: PhysAddr,
    va: VirtAddr,
    access: Access,
) -> Translation {
    const { assert!(S::LEVELS as usize <= MAX_LEVELS, "a scheme with more levels than a Translation holds") };
    let mut steps = Steps::<S>(ArrayVec::new(), core::marker::PhantomData);
    let outcome = descend::<S, _>(mem, root.as_u64(), va.as_u64(), access, &mut steps)
        .map_err(|stop| fault(S::KIND, stop.level, stop.kind, access));
    Translation { scheme: S::KIND, va, access, root, steps: steps.0, outcome }
}

/// Set the accessed bit (and the dirty bit for a store) in the entries of a
/// successful translation, as the MMU does on a real access.
///
/// # Errors
/// A [`Panic`] if an entry is not in RAM.
pub fn set_accessed<S: Scheme>(mem: &mut impl PhysMem, tr: &mut Trace, t: &Translation) -> Result<(), Panic> {
    if t.outcome.is_err() {
        return Ok(());
    }
    let va = t.va.as_u64();
    for step in &t.steps {
        if !step.leaf && !S::TABLES_GET_ACCESSED {
            continue;
        }
        let mut e = step.entry | S::ACCESSED;
        if step.leaf && t.access.kind == AccessKind::Write {
            e |= S::DIRTY;
        }
        let now = read_entry::<S>(mem, step.entry_addr.as_u64())?;
        if now | e != now {
            write_entry::<S>(mem, tr, step.level, step.entry_addr.as_u64(), va, now | e)?;
        }
    }
    Ok(())
}

/// The TLB of the CPU making an access.
pub struct OnCpu<'a> {
    /// The CPU.
    pub cpu: u32,
    /// Its TLB.
    pub tlb: &'a mut Tlb,
}

/// Find `va` as the MMU does: in the TLB first; on a miss (or a store
/// through an entry whose dirty bit is clear) walk the table at `root`,
/// set the accessed and dirty bits and cache the translation. A hit whose
/// cached bits refuse the access faults, and the entry is dropped.
///
/// # Errors
/// The fault, as the walk (or the cached entry) gives it.
pub fn tlb_translate<S: Scheme>(
    mem: &mut impl PhysMem,
    on: &mut OnCpu<'_>,
    tr: &mut Trace,
    root: PhysAddr,
    va: VirtAddr,
    access: Access,
) -> Result<PhysAddr, Fault> {
    let (cpu, a) = (on.cpu, va.as_u64());
    // An address the scheme cannot translate is refused before the TLB is
    // looked at, and before any walk.
    if let Err(kind) = S::check_va(a) {
        return Err(fault(S::KIND, None, kind, access));
    }
    let mut dirty = false;
    if let Some((slot, e)) = on.tlb.lookup(a) {
        let slot32 = slot as u32;
        match e.serve::<S>(access) {
            Serve::Refuse(kind) => {
                let level = (0..S::LEVELS).find(|&l| S::level_size(l) == e.page_size).unwrap_or(0);
                let (page, pa) = (e.va, e.pa_of(a));
                on.tlb.invalidate(a);
                tr.tlb(Event::TlbHit { cpu, va, slot: slot32, pa });
                tr.push(Event::TlbDrop { cpu, slot: slot32, va: page });
                return Err(fault(S::KIND, Some(level), kind, access));
            }
            Serve::DirtyWalk => dirty = true,
            Serve::Use => {
                let pa = e.pa_of(a);
                tr.tlb(Event::TlbHit { cpu, va, slot: slot32, pa });
                return Ok(pa);
            }
        }
    }
    tr.tlb(Event::TlbMiss { cpu, va, dirty });
    let t = translate::<S>(mem, root, va, access);
    let m = match &t.outcome {
        Ok(m) => m.clone(),
        Err(f) => {
            if let Some(slot) = on.tlb.invalidate(a) {
                tr.push(Event::TlbDrop { cpu, slot: slot as u32, va: va.page() });
            }
            return Err(f.clone());
        }
    };
    let not_ram = |text: String| {
        let kind = FaultKind::TableOutsideRam;
        Fault { level: None, kind, code: fault_code(S::KIND, kind, access), text }
    };
    set_accessed::<S>(mem, tr, &t).map_err(|p| not_ram(p.0))?;
    let mut entries = Vec::with_capacity(t.steps.len());
    for step in &t.steps {
        entries.push(read_entry::<S>(mem, step.entry_addr.as_u64()).map_err(|p| not_ram(p.0))?);
    }
    let page = VirtAddr::new(a & !(m.page_size - 1));
    let entry = TlbEntry { va: page, page_size: m.page_size, frame: m.frame, entries, root };
    let (slot, old) = on.tlb.fill(entry);
    tr.tlb(Event::TlbFill { cpu, slot: slot as u32, va: page, frame: m.frame, evicted: old.map(|o| o.va) });
    Ok(m.pa)
}

/// A user access in words: "load", "store" or "instruction fetch".
#[must_use]
pub fn access_words(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Read => "load",
        AccessKind::Write => "store",
        AccessKind::Execute => "instruction fetch",
    }
}

/// What the MMU does for a user load or store of `bytes.len()` bytes at
/// `va` with the table at `root`: find each page through the TLB (see
/// [`tlb_translate`]) and move the bytes. Returns the faulting address and
/// the fault if a page refuses. `owner` says who owns a frame, so that a
/// store through a stale translation (a free frame, or someone else's) is named.
///
/// # Errors
/// The first faulting address and its fault.
pub fn user_access<S: Scheme>(
    mem: &mut impl PhysMem,
    owner: impl Fn(u64) -> Option<Owner>,
    mut on: OnCpu<'_>,
    tr: &mut Trace,
    pid: u32,
    root: PhysAddr,
    va: VirtAddr,
    access: Access,
    bytes: &mut [u8],
) -> Result<(), (u64, Fault)> {
    let va = va.as_u64();
    let write = access.kind == AccessKind::Write;
    let what = access_words(access.kind);
    let total = bytes.len();
    tr.call(
        "MMU",
        || format!("user {what} of {} at {va:#x}", crate::trace::plural(total as u64, "byte", "bytes")),
        |tr| {
            let mut done = 0usize;
            while done < total {
                let a = va.wrapping_add(done as u64);
                let pa = tlb_translate::<S>(mem, &mut on, tr, root, VirtAddr::new(a), access)
                    .map_err(|f| (a, f))?
                    .as_u64();
                let n = ((PGSIZE - (a & (PGSIZE - 1))) as usize).min(total - done);
                let chunk = &mut bytes[done..done + n];
                let moved = if write { mem.write(pa, chunk) } else { mem.read(pa, chunk) };
                moved.map_err(|e| {
                    let kind = FaultKind::TableOutsideRam;
                    let text = format!("{e}: an access fault");
                    (a, Fault { level: None, kind, code: fault_code(S::KIND, kind, access), text })
                })?;
                let frame = pa & !(PGSIZE - 1);
                match owner(frame) {
                    Some(Owner::User { pid: p }) if p == pid => {}
                    Some(Owner::Shared { .. }) => {}
                    Some(o) if o.pid() == Some(pid) => {
                        tr.defect(format!("this {what} lands in a frame of pid {pid}'s that is not a user page: {o}"));
                    }
                    Some(o) => {
                        tr.defect(format!("this {what} lands in a frame that belongs to someone else: {o}"));
                    }
                    None => tr.defect(format!(
                        "this {what} lands in frame {frame:#x}, which is free: the TLB still held a translation the table no longer has"
                    )),
                }
                let (va, bytes) = (VirtAddr::new(a), chunk.to_vec());
                tr.push(if write {
                    crate::trace::Event::Copyout { va, bytes }
                } else {
                    crate::trace::Event::Copyin { va, bytes }
                });
                done += n;
            }
            Ok(())
        },
    )
}

/// Translate with a scheme chosen at run time.
#[must_use]
pub fn translate_dyn(
    scheme: SchemeKind,
    mem: &(impl PhysMem + ?Sized),
    root: PhysAddr,
    va: VirtAddr,
    access: Access,
) -> Translation {
    crate::with_scheme!(scheme, S => translate::<S>(mem, root, va, access))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kalloc::KmemConfig;
    use crate::mem::SimMem;
    use crate::scheme::{Sv39, X86, sv39, x86};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn setup(base: u64, ptr_bytes: u64) -> (SimMem, Kmem, Trace) {
        let mut m = SimMem::new(base, 64 * PGSIZE);
        let mut k = Kmem::new(KmemConfig {
            ptr_bytes,
            kva_offset: 0,
            end: base + PGSIZE,
            phystop: base + 64 * PGSIZE,
            free_junk: 1,
            alloc_junk: None,
        });
        let mut t = Trace::new();
        k.freerange(&mut m, &mut t, base + PGSIZE, base + 64 * PGSIZE).unwrap();
        (m, k, t)
    }

    #[test]
    fn a_run_over_a_table_of_one_repeated_byte_maps_or_stops_as_its_entries_say() {
        let (mut m, _k, mut t) = setup(0, 4);
        // A zeroed table (kalloc'd and cleared): every entry free, the whole run is written.
        let table = 2 * PGSIZE;
        m.fill(table, PGSIZE, 0).unwrap();
        assert_eq!(map_run::<X86>(&mut m, &mut t, table, 0, 100, 0x10_0007, PGSIZE).unwrap(), None);
        assert_eq!(m.read_word(table + 99 * 4, 4).unwrap(), 0x10_0007 + 99 * PGSIZE);
        assert_eq!(m.read_word(table + 100 * 4, 4).unwrap(), 0, "past the run");
        // A table of junk 1s, as kfree leaves a page: each entry reads 0x01010101, PTE_P set,
        // so the first entry is already mapped (mappages: remap) and nothing is written.
        let junk = 3 * PGSIZE;
        m.fill(junk, PGSIZE, 1).unwrap();
        assert_eq!(map_run::<X86>(&mut m, &mut t, junk + 8, 0x2000, 5, 0x10_0007, PGSIZE).unwrap(), Some(0x2000));
        assert_eq!(m.read_word(junk + 8, 4).unwrap(), 0x0101_0101);
    }

    #[test]
    fn x86_walk_allocates_one_table_and_translate_follows_it() {
        let (mut m, mut k, mut t) = setup(0, 4);
        let root = k.kalloc(&mut m, &mut t, Owner::PageDir { pid: 1 }).unwrap();
        m.fill(root.as_u64(), PGSIZE, 0).unwrap();
        assert_eq!(walk::<X86>(&mut m, &mut k, &mut t, root, VirtAddr::new(0x0040_3000), None).unwrap(), None);
        let pte =
            walk::<X86>(&mut m, &mut k, &mut t, root, VirtAddr::new(0x0040_3000), Some(Owner::PageTable { pid: 1 }))
                .unwrap()
                .unwrap();
        // The table came from the head of the list, just below the root.
        let table = root.as_u64() - PGSIZE;
        assert_eq!(pte.as_u64(), table + 3 * 4);
        assert_eq!(m.read_word(root.as_u64() + 4, 4).unwrap(), table | 7);
        m.write_word(pte.as_u64(), 4, 0x0002_0000 | u64::from(x86::PTE_P | x86::PTE_U)).unwrap();
        let tr = translate::<X86>(&m, root, VirtAddr::new(0x0040_3abc), Access::USER_READ);
        assert_eq!(tr.outcome.as_ref().unwrap().pa, PhysAddr::new(0x0002_0abc));
        assert_eq!(tr.steps.len(), 2);
        assert_eq!((tr.steps[0].field, tr.steps[0].index), ("PDX", 1));
        assert_eq!((tr.steps[1].field, tr.steps[1].index), ("PTX", 3));
        let w = translate::<X86>(&m, root, VirtAddr::new(0x0040_3abc), Access::USER_WRITE);
        let f = w.outcome.unwrap_err();
        // Present, write, user: error code 7.
        assert_eq!((f.kind, f.level, f.code), (FaultKind::ReadOnly, Some(0), 7));
        let n = translate::<X86>(&m, root, VirtAddr::new(0x0080_0000), Access::USER_READ);
        let f = n.outcome.unwrap_err();
        assert_eq!((f.kind, f.level, f.code), (FaultKind::NotPresent, Some(1), 4));
    }

    #[test]
    fn a_walk_through_a_page_not_stored_as_bytes_records_each_step_once() {
        // The root is written (stored as bytes); the table it points to is
        // all zeros, so kept compact: the walk is made again with full reads.
        let mut m = SimMem::new(0, 4 * PGSIZE);
        m.write_word(3 * 4, 4, (2 * PGSIZE) | u64::from(x86::PTE_P | x86::PTE_W | x86::PTE_U)).unwrap();
        assert_eq!(m.materialised_pages(), 1);
        let va = VirtAddr::new(0x00c0_3abc);
        let t = translate::<X86>(&m, PhysAddr::new(0), va, Access::USER_READ);
        assert_eq!(t.steps.iter().map(|s| s.field).collect::<Vec<_>>(), ["PDX", "PTX"]);
        assert_eq!(t.steps[1].entry_addr, PhysAddr::new(2 * PGSIZE + 3 * 4));
        let f = t.outcome.unwrap_err();
        assert_eq!((f.kind, f.level), (FaultKind::NotPresent, Some(0)));
        let stop = lookup::<X86>(&m, PhysAddr::new(0), va, Access::USER_READ).unwrap_err();
        assert_eq!(stop, Stop { level: Some(0), kind: FaultKind::NotPresent });
        // A table outside RAM: an access fault at the entry that points there.
        m.write_word(3 * 4, 4, (8 * PGSIZE) | u64::from(x86::PTE_P)).unwrap();
        let t = translate::<X86>(&m, PhysAddr::new(0), va, Access::USER_READ);
        assert_eq!(t.steps.len(), 1);
        assert_eq!(t.outcome.unwrap_err().kind, FaultKind::TableOutsideRam);
    }

    #[test]
    fn sv39_walk_allocates_two_tables() {
        let (mut m, mut k, mut t) = setup(0x8000_0000, 8);
        let root = k.kalloc(&mut m, &mut t, Owner::PageDir { pid: 1 }).unwrap();
        m.fill(root.as_u64(), PGSIZE, 0).unwrap();
        let before = k.nfree();
        let pte = walk::<Sv39>(&mut m, &mut k, &mut t, root, VirtAddr::new(0x1000), Some(Owner::PageTable { pid: 1 }))
            .unwrap()
            .unwrap();
        assert_eq!(before - k.nfree(), 2);
        m.write_word(pte.as_u64(), 8, sv39::PA2PTE(0x8000_5000) | sv39::PTE_V | sv39::PTE_R | sv39::PTE_U).unwrap();
        let tr = translate::<Sv39>(&m, root, VirtAddr::new(0x1010), Access::USER_READ);
        assert_eq!(tr.outcome.unwrap().pa, PhysAddr::new(0x8000_5010));
        let f = translate::<Sv39>(&m, root, VirtAddr::new(0x1010), Access::USER_WRITE).outcome.unwrap_err();
        assert_eq!((f.kind, f.code), (FaultKind::ReadOnly, 15));
        let f = translate::<Sv39>(&m, root, VirtAddr::new(1 << 38), Access::USER_READ).outcome.unwrap_err();
        assert_eq!(f.kind, FaultKind::BadAddress);
    }
}
