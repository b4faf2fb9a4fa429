//! Loops folded: when a group of events repeats with every address and
//! number moving by the same amount each time (allocuvm's kalloc, mappages
//! and entry write for each page), the trace keeps the first two times and an
//! [`Event::Repeat`] saying how many more times it happened. Nothing is lost:
//! [`expand`] gives back every event, and a time is only folded after it has
//! been checked to be exactly what [`nth`] would make of it.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;

use super::{Event, TraceEvent};
use crate::addr::{PhysAddr, VirtAddr};

/// The longest group folded (allocuvm's is 3 events a page: kalloc, mappages, entry).
pub const MAX_PERIOD: usize = 4;

/// `b` moved on `k` more times by `b − a`.
fn prog(a: u64, b: u64, k: u64) -> u64 {
    b.wrapping_add(b.wrapping_sub(a).wrapping_mul(k))
}

/// [`prog`] for a 32-bit field, if it stays in range.
///
/// In 64-bit arithmetic (128-bit multiplication is a library call in
/// wasm32, and this runs for every entry a folded loop stands for): a step
/// times `k` that overflows 64 bits is far out of the 32-bit range anyway.
fn prog32(a: u32, b: u32, k: u64) -> Option<u32> {
    let step = i64::from(b) - i64::from(a);
    let moved = match i64::try_from(k) {
        Ok(k) => step.checked_mul(k)?,
        Err(_) if step == 0 => 0,
        Err(_) => return None,
    };
    u32::try_from(i64::from(b).checked_add(moved)?).ok()
}

fn pa(a: PhysAddr, b: PhysAddr, k: u64) -> PhysAddr {
    PhysAddr::new(prog(a.as_u64(), b.as_u64(), k))
}

fn va(a: VirtAddr, b: VirtAddr, k: u64) -> VirtAddr {
    VirtAddr::new(prog(a.as_u64(), b.as_u64(), k))
}

/// A text as its pieces: plain text, each followed by the `0x…` number
/// after it (with the number's digits as written), if any.
struct Pieces<'a> {
    s: &'a str,
    at: usize,
    done: bool,
}

fn pieces(s: &str) -> Pieces<'_> {
    Pieces { s, at: 0, done: false }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = (&'a str, Option<(u64, &'a str)>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // A byte scan: this runs for every event a loop adds (to check that
        // it fits the fold), so no searcher is set up and the digits are
        // read as they are counted.
        let b = self.s.as_bytes();
        let start = self.at;
        let mut i = start;
        while i + 1 < b.len() {
            if b[i] != b'0' || b[i + 1] != b'x' {
                i += 1;
                continue;
            }
            let (mut n, mut digits) = (0u64, 0usize);
            while let Some(d) = b.get(i + 2 + digits).and_then(|c| char::from(*c).to_digit(16)) {
                n = n.wrapping_shl(4) | u64::from(d);
                digits += 1;
            }
            if digits > 0 && digits <= 16 {
                // Both ends are ASCII ('0', 'x', hex digits): char boundaries.
                let lit = &self.s[i + 2..i + 2 + digits];
                self.at = i + 2 + digits;
                return Some((&self.s[start..i], Some((n, lit))));
            }
            i += 2;
        }
        self.done = true;
        Some((&self.s[start..], None))
    }
}

/// Text `b` moved on `k` more times: the same words, each `0x…` number in
/// progression (written as `{:#x}`). `None` if the words differ.
fn text(a: &str, b: &str, k: u64) -> Option<String> {
    if a == b {
        return Some(String::from(b));
    }
    let mut out = String::with_capacity(b.len() + 4);
    let (mut pa_, mut pb) = (pieces(a), pieces(b));
    loop {
        match (pa_.next(), pb.next()) {
            (None, None) => return Some(out),
            (Some((ta, na)), Some((tb, nb))) if ta == tb => {
                out.push_str(tb);
                match (na, nb) {
                    (Some((x, _)), Some((y, _))) => out.push_str(&format!("{:#x}", prog(x, y, k))),
                    (None, None) => {}
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
}

/// True if `z` is what [`text`] makes of `a`, `b` and `k` (without making it).
fn text_fits(a: &str, b: &str, k: u64, z: &str) -> bool {
    if a == b {
        return b == z;
    }
    let (mut pa_, mut pb, mut pz) = (pieces(a), pieces(b), pieces(z));
    loop {
        match (pa_.next(), pb.next(), pz.next()) {
            (None, None, None) => return true,
            (Some((ta, na)), Some((tb, nb)), Some((tz, nz))) if ta == tb && tb == tz => match (na, nb, nz) {
                (None, None, None) => {}
                (Some((x, _)), Some((y, _)), Some((w, lit))) => {
                    // Written as {:#x} writes it: no leading zeros, lower case.
                    let canonical =
                        (lit.len() == 1 || !lit.starts_with('0')) && !lit.bytes().any(|c| c.is_ascii_uppercase());
                    if !canonical || w != prog(x, y, k) {
                        return false;
                    }
                }
                _ => return false,
            },
            _ => return false,
        }
    }
}

/// The text field of an event, if it has one.
fn text_of(e: &Event) -> Option<&str> {
    match e {
        Event::Call { args: t, .. }
        | Event::Note { text: t }
        | Event::Fail { text: t, .. }
        | Event::Defect { text: t }
        | Event::PageFault { reason: t, .. } => Some(t),
        _ => None,
    }
}

/// The text field of an event, taken out (left empty), if it has one.
fn take_text(e: &mut Event) -> Option<String> {
    match e {
        Event::Call { args: t, .. }
        | Event::Note { text: t }
        | Event::Fail { text: t, .. }
        | Event::Defect { text: t }
        | Event::PageFault { reason: t, .. } => Some(core::mem::take(t)),
        _ => None,
    }
}

/// True if `c` is the event `k` times after `b` (see [`nth`]), checked
/// without writing out any text.
pub fn fits(a: &TraceEvent, b: &TraceEvent, k: u64, c: &mut TraceEvent) -> bool {
    if let Some(quick) = fits_quickly(a, b, k, c) {
        return quick;
    }
    let Some(p) = nth_with(a, b, k, false) else { return false };
    // Compare everything but the text with the text taken out, then the text.
    let t = take_text(&mut c.event);
    let same = p == *c;
    let fits_text = match (&t, text_of(&a.event), text_of(&b.event)) {
        (Some(z), Some(x), Some(y)) => text_fits(x, y, k, z),
        (None, None, None) => true,
        _ => false,
    };
    if let Some(t) = t {
        match &mut c.event {
            Event::Call { args: s, .. }
            | Event::Note { text: s }
            | Event::Fail { text: s, .. }
            | Event::Defect { text: s }
            | Event::PageFault { reason: s, .. } => *s = t,
            _ => {}
        }
    }
    same && fits_text
}

/// [`fits`] for the events of a loop over pages (kalloc, kfree, an entry
/// write, a call), without [`fits`]'s moving of `c`'s text out and back:
/// the trace checks every event a loop adds. `None` for other events.
fn fits_quickly(a: &TraceEvent, b: &TraceEvent, k: u64, c: &TraceEvent) -> Option<bool> {
    match (&a.event, &b.event, &c.event) {
        // No text: the event `nth` would make (it allocates nothing), compared whole.
        (Event::Kalloc { .. } | Event::Kfree { .. } | Event::PteWrite { .. }, _, _) => {
            Some(nth_with(a, b, k, false).is_some_and(|p| p == *c))
        }
        // A call: its function, then its arguments' numbers in progression, read in place.
        (Event::Call { func: fa, args: x }, Event::Call { func: fb, args: y }, Event::Call { func: fc, args: z }) => {
            let same_place = a.depth == b.depth && a.func == b.func && c.depth == b.depth && c.func == b.func;
            Some(same_place && fa == fb && fb == fc && text_fits(x, y, k, z))
        }
        _ => None,
    }
}

/// The event `k` times after `b`, where `a` came one time before `b` (every
/// address and number moving by as much as from `a` to `b`), if the two are
/// the same kind of event in the same function.
#[must_use]
pub fn nth(a: &TraceEvent, b: &TraceEvent, k: u64) -> Option<TraceEvent> {
    nth_with(a, b, k, true)
}

/// [`nth`], with its text left empty unless `texts` (for sums that read
/// only addresses and counts).
fn nth_with(a: &TraceEvent, b: &TraceEvent, k: u64, texts: bool) -> Option<TraceEvent> {
    let text = |x: &str, y: &str| if texts { text(x, y, k) } else { Some(String::new()) };
    if a.depth != b.depth || a.func != b.func {
        return None;
    }
    let event = match (&a.event, &b.event) {
        (Event::Call { func: fa, args: x }, Event::Call { func: fb, args: y }) if fa == fb => {
            Event::Call { func: fb, args: text(x, y)? }
        }
        (Event::Kalloc { pa: x, owner: oa }, Event::Kalloc { pa: y, owner: ob }) if oa == ob => {
            Event::Kalloc { pa: pa(*x, *y, k), owner: *ob }
        }
        (Event::Kfree { pa: x, owner: oa }, Event::Kfree { pa: y, owner: ob }) if oa == ob => {
            Event::Kfree { pa: pa(*x, *y, k), owner: *ob }
        }
        (
            Event::PteWrite {
                level: la,
                table: ta,
                index: ia,
                va: va_,
                old: oa,
                new: na,
                count: ca,
                va_step: sa,
                new_step: ma,
            },
            Event::PteWrite {
                level: lb,
                table: tb,
                index: ib,
                va: vb,
                old: ob,
                new: nb,
                count: cb,
                va_step: sb,
                new_step: mb,
            },
        ) if la == lb && ca == cb && sa == sb && ma == mb => Event::PteWrite {
            level: *lb,
            table: pa(*ta, *tb, k),
            index: prog32(*ia, *ib, k)?,
            va: va(*va_, *vb, k),
            old: prog(*oa, *ob, k),
            new: prog(*na, *nb, k),
            count: *cb,
            va_step: *sb,
            new_step: *mb,
        },
        (Event::CopyPage { from: fa, to: ta, va: va_ }, Event::CopyPage { from: fb, to: tb, va: vb }) => {
            Event::CopyPage { from: pa(*fa, *fb, k), to: pa(*ta, *tb, k), va: va(*va_, *vb, k) }
        }
        (
            Event::Load { va: va_, pa: pa_, file_off: fa, len: la },
            Event::Load { va: vb, pa: pb, file_off: fb, len: lb },
        ) => Event::Load {
            va: va(*va_, *vb, k),
            pa: pa(*pa_, *pb, k),
            file_off: prog(*fa, *fb, k),
            len: prog(*la, *lb, k),
        },
        (Event::Copyout { va: va_, bytes: x }, Event::Copyout { va: vb, bytes: y }) if x == y => {
            Event::Copyout { va: va(*va_, *vb, k), bytes: y.clone() }
        }
        (Event::Copyin { va: va_, bytes: x }, Event::Copyin { va: vb, bytes: y }) if x == y => {
            Event::Copyin { va: va(*va_, *vb, k), bytes: y.clone() }
        }
        (Event::LoadRoot { root: ra, pid: pa_ }, Event::LoadRoot { root: rb, pid: pb }) if pa_ == pb => {
            Event::LoadRoot { root: pa(*ra, *rb, k), pid: *pb }
        }
        (Event::TlbFlush { cpu: ca, dropped: da }, Event::TlbFlush { cpu: cb, dropped: db }) if ca == cb => {
            Event::TlbFlush { cpu: *cb, dropped: prog32(*da, *db, k)? }
        }
        (Event::PageFault { va: va_, code: ca, reason: ra }, Event::PageFault { va: vb, code: cb, reason: rb })
            if ca == cb =>
        {
            Event::PageFault { va: va(*va_, *vb, k), code: *cb, reason: text(ra, rb)? }
        }
        (Event::Note { text: x }, Event::Note { text: y }) => Event::Note { text: text(x, y)? },
        (Event::Fail { text: x, printed: p }, Event::Fail { text: y, printed: q }) if p == q => {
            Event::Fail { text: text(x, y)?, printed: *q }
        }
        (Event::Defect { text: x }, Event::Defect { text: y }) => Event::Defect { text: text(x, y)? },
        (Event::Repeat { .. }, _) | (_, Event::Repeat { .. }) => return None,
        // Anything else repeats only as it is.
        (x, y) if x == y => y.clone(),
        _ => return None,
    };
    Some(TraceEvent { depth: b.depth, func: b.func, event })
}

/// Every event of a folded list, in order: the events as they are, and each
/// [`Event::Repeat`] replaced by the times it stands for.
pub fn expand(events: &[TraceEvent]) -> impl Iterator<Item = Cow<'_, TraceEvent>> + '_ {
    expand_with(events, true)
}

/// [`expand`] for sums over addresses and counts: the events a Repeat
/// stands for have no text (call arguments, notes), which is quicker.
pub fn expand_numbers(events: &[TraceEvent]) -> impl Iterator<Item = Cow<'_, TraceEvent>> + '_ {
    expand_with(events, false)
}

/// [`expand_numbers`] of only the events `keep` accepts: `keep` looks at
/// the kind of event alone (as every time of a loop has the same kinds, the
/// times' other events are never worked out). Quicker where a sum reads
/// one kind of a heavy step's hundreds of thousands of events.
pub fn expand_kinds(events: &[TraceEvent], keep: fn(&Event) -> bool) -> impl Iterator<Item = Cow<'_, TraceEvent>> + '_ {
    expand_filtered(events, false, keep)
}

fn expand_with(events: &[TraceEvent], texts: bool) -> impl Iterator<Item = Cow<'_, TraceEvent>> + '_ {
    expand_filtered(events, texts, |_| true)
}

/// (One copy of the expansion for every filter: `keep` is a function pointer.)
fn expand_filtered(
    events: &[TraceEvent],
    texts: bool,
    keep: fn(&Event) -> bool,
) -> impl Iterator<Item = Cow<'_, TraceEvent>> + '_ {
    events.iter().enumerate().flat_map(move |(i, e)| {
        let (period, times) = match e.event {
            Event::Repeat { period, times } => (usize::from(period), u64::from(times)),
            _ => (0, 0),
        };
        let one = (period == 0 && keep(&e.event)).then_some(Cow::Borrowed(e));
        let many = (period > 0 && i >= 2 * period).then(|| {
            let (a, b) = (&events[i - 2 * period..i - period], &events[i - period..i]);
            (1..=times).flat_map(move |k| {
                (0..period)
                    .filter(move |&j| keep(&b[j].event))
                    .filter_map(move |j| nth_with(&a[j], &b[j], k, texts).map(Cow::Owned))
            })
        });
        one.into_iter().chain(many.into_iter().flatten())
    })
}

/// The sum of `f` over every event a folded list stands for, without
/// opening up its loops: each [`Event::Repeat`] adds its times × the sum
/// over one time.
///
/// Contract: `f` reads only what every time of a loop has the same (the
/// kind of event, an entry write's `count`, a page's owner), so that it
/// gives for each time what it gives for the last one kept. Then the sum is
/// `expand_numbers(events).map(|e| f(&e.event)).sum()`, in a few steps
/// rather than one per event.
pub fn sum_over(events: &[TraceEvent], f: fn(&Event) -> u64) -> u64 {
    let mut sum = 0u64;
    for (i, e) in events.iter().enumerate() {
        match e.event {
            Event::Repeat { period, times } if period > 0 => {
                let p = usize::from(period);
                if i >= 2 * p {
                    let once: u64 = events[i - p..i].iter().map(|x| f(&x.event)).sum();
                    sum = sum.wrapping_add(once.wrapping_mul(u64::from(times)));
                }
            }
            _ => sum = sum.wrapping_add(f(&e.event)),
        }
    }
    sum
}

/// How many events a folded list stands for.
#[must_use]
pub fn expanded_len(events: &[TraceEvent]) -> usize {
    events
        .iter()
        .map(|e| match e.event {
            Event::Repeat { period, times } => usize::from(period) * times as usize,
            _ => 1,
        })
        .sum()
}

/// The last event of a folded list that `pred` accepts, with its index in
/// that list (for an event a [`Event::Repeat`] stands for, the Repeat's index).
pub fn rfind(events: &[TraceEvent], pred: impl Fn(&Event) -> bool) -> Option<(usize, TraceEvent)> {
    for (i, e) in events.iter().enumerate().rev() {
        if let Event::Repeat { period, times } = e.event {
            let p = usize::from(period);
            if i >= 2 * p {
                // Every time has the same kinds of event: the last time holds the last match.
                let (a, b) = (&events[i - 2 * p..i - p], &events[i - p..i]);
                if let Some(x) =
                    (0..p).rev().filter_map(|j| nth(&a[j], &b[j], u64::from(times))).find(|x| pred(&x.event))
                {
                    return Some((i, x));
                }
            }
        } else if pred(&e.event) {
            return Some((i, e.clone()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prog32;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_32_bit_field_moves_on_or_leaves_its_range() {
        // The arithmetic done wide, as the definition says: b + (b − a)·k, if it fits 32 bits.
        let wide = |a: u32, b: u32, k: u64| {
            u32::try_from(i128::from(b) + (i128::from(b) - i128::from(a)) * i128::from(k)).ok()
        };
        let values = [0u32, 1, 2, 7, 0x3ff, 0x400, 0x7fff_ffff, 0x8000_0000, u32::MAX - 1, u32::MAX];
        let ks = [0u64, 1, 2, 3, 1023, 1 << 31, 1 << 32, (1 << 33) + 5, i64::MAX as u64, 1 << 63, u64::MAX];
        for &a in &values {
            for &b in &values {
                for &k in &ks {
                    assert_eq!(prog32(a, b, k), wide(a, b, k), "a {a:#x} b {b:#x} k {k:#x}");
                }
            }
        }
        // By hand: entries 5, 6 go on to 6 + 10 = 16; going down from 1, 0 leaves the range.
        assert_eq!(prog32(5, 6, 10), Some(16));
        assert_eq!(prog32(1, 0, 1), None);
    }
}
