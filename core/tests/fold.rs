//! Folded loops lose nothing: whatever a trace records, `expand` of the
//! folded events is exactly what a trace that does not fold keeps; and a
//! loop over pages (sbrk of many pages) is kept in a few events.

#![cfg(not(target_arch = "wasm32"))]

use pagelab_core::lab::{Lab, Op, Preset};
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::{Event, Owner, Trace, TraceEvent, expand, expand_kinds, expanded_len, sum_over};
use proptest::prelude::*;

/// One thing a kernel function records, with numbers that can move.
#[derive(Clone, Debug)]
enum Act {
    Kalloc(u64, u32),
    Kfree(u64, u32),
    Pte(u64, u32, u64, u64),
    Note(u64),
    Call(Vec<Act>),
}

/// `act` as it would be the `k`-th time round a loop moving by `d`.
fn moved(act: &Act, k: u64, d: u64) -> Act {
    let m = |x: u64| x.wrapping_add(k.wrapping_mul(d));
    match act {
        Act::Kalloc(pa, pid) => Act::Kalloc(m(*pa), *pid),
        Act::Kfree(pa, pid) => Act::Kfree(m(*pa), *pid),
        Act::Pte(t, i, va, new) => Act::Pte(*t, i.wrapping_add(k as u32), m(*va), m(*new)),
        Act::Note(x) => Act::Note(m(*x)),
        Act::Call(body) => Act::Call(body.iter().map(|a| moved(a, k, d)).collect()),
    }
}

fn record(tr: &mut Trace, act: &Act) {
    match act {
        Act::Kalloc(pa, pid) => tr.kalloc(*pa, Owner::User { pid: *pid }),
        Act::Kfree(pa, pid) => tr.kfree(*pa, Owner::User { pid: *pid }),
        Act::Pte(t, i, va, new) => tr.pte_write(0, *t, *i, *va, 0, *new),
        Act::Note(x) => tr.note(|| format!("page {x:#x} is ready")),
        Act::Call(body) => {
            let first = body.first().map_or(0, |a| if let Act::Kalloc(pa, _) = a { *pa } else { 0 });
            tr.call("mappages", || format!("va={first:#x}, size=0x1000"), |tr| body.iter().for_each(|a| record(tr, a)));
        }
    }
}

fn act() -> impl Strategy<Value = Act> {
    let leaf = prop_oneof![
        (0u64..8, 1u32..3).prop_map(|(p, pid)| Act::Kalloc(0x10_0000 + p * 0x1000, pid)),
        (0u64..8, 1u32..3).prop_map(|(p, pid)| Act::Kfree(0x10_0000 + p * 0x1000, pid)),
        (0u64..2, 0u32..8, 0u64..8).prop_map(|(t, i, v)| Act::Pte(
            0x8000 + t * 0x1000,
            i,
            v * 0x1000,
            0x20_0007 + v * 0x1000
        )),
        (0u64..4).prop_map(Act::Note),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| prop::collection::vec(inner, 1..3).prop_map(Act::Call))
}

/// A program: pieces that are single acts, or loops of a body moved by a stride.
fn program() -> impl Strategy<Value = Vec<Act>> {
    let piece = prop_oneof![
        act().prop_map(|a| vec![a]),
        (prop::collection::vec(act(), 1..4), 0u64..40, prop_oneof![Just(0x1000u64), Just(0), Just(0x2000)]).prop_map(
            |(body, times, d)| (0..times).flat_map(|k| body.iter().map(move |a| moved(a, k, d))).collect::<Vec<_>>()
        ),
    ];
    prop::collection::vec(piece, 1..6).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn expanding_gives_back_every_event(prog in program()) {
        let (mut folded, mut plain) = (Trace::new(), Trace::new().unfolded());
        for a in &prog {
            record(&mut folded, a);
            record(&mut plain, a);
        }
        let back: Vec<TraceEvent> = expand(folded.events()).map(|e| e.into_owned()).collect();
        prop_assert_eq!(&back, &plain.events().to_vec());
        prop_assert_eq!(expanded_len(folded.events()), plain.events().len());
        prop_assert!(folded.events().len() <= plain.events().len());
        // Sums over kinds need no opening up: the same as over every event kept unfolded.
        let kinds = |e: &Event| match e {
            Event::Kalloc { .. } => 1,
            Event::Kfree { .. } => 1 << 20,
            Event::PteWrite { count, .. } => u64::from(*count) << 40,
            _ => 0,
        };
        prop_assert_eq!(sum_over(folded.events(), kinds), plain.events().iter().map(|e| kinds(&e.event)).sum::<u64>());
        // Opening up only some kinds gives those events of the unfolded trace, in order (texts aside).
        let keep = |e: &Event| matches!(e, Event::Kalloc { .. } | Event::PteWrite { .. });
        let some: Vec<TraceEvent> = expand_kinds(folded.events(), keep).map(|e| e.into_owned()).collect();
        let want: Vec<&TraceEvent> = plain.events().iter().filter(|e| keep(&e.event)).collect();
        prop_assert_eq!(some.iter().collect::<Vec<_>>(), want);
    }
}

#[test]
fn a_big_sbrk_is_a_few_events_and_loses_none() {
    // sbrk(4 MiB) on xv6-public: 1024 pages, each kalloc + mappages + its entry.
    let mut lab = Lab::new(Preset::Xv6Public, ShmMode::Lab);
    lab.apply(Op::Userinit).unwrap();
    let st = lab.apply(Op::Sbrk { pid: 1, n: 4 << 20 }).unwrap();
    let kallocs: Vec<u64> = expand(&st.events)
        .filter_map(|e| match e.event {
            Event::Kalloc { pa, owner: Owner::User { pid: 1 } } => Some(pa.as_u64()),
            _ => None,
        })
        .collect();
    // By hand: 1024 user pages, from the head of the free list down, one page at a time.
    assert_eq!(kallocs.len(), 1024);
    assert!(kallocs.windows(2).all(|w| w[1] == w[0] - 0x1000));
    assert_eq!(st.counts.user_alloc, 1024);
    assert!(st.events.len() < 40, "{} events kept", st.events.len());
    assert!(st.events.iter().any(|e| matches!(e.event, Event::Repeat { period: 3, .. })));
}

#[test]
fn an_entry_write_that_grows_inside_a_time_stops_the_fold() {
    // Five times [entry 2k, kalloc], then a time whose entry write grows into
    // a run of two (entries 10 and 11) before its kalloc: that time is not
    // like the others, so it must stay as it happened.
    let acts = |tr: &mut Trace| {
        for k in 0..6u64 {
            tr.pte_write(0, 0x8000, 2 * k as u32, 0x2000 * k, 0, 0x20_0007 + 0x2000 * k);
            if k == 5 {
                tr.pte_write(0, 0x8000, 11, 0x2000 * k + 0x1000, 0, 0x20_0007 + 0x2000 * k + 0x1000);
            }
            tr.kalloc(0x10_0000 + 0x1000 * k, Owner::User { pid: 1 });
        }
    };
    let (mut folded, mut plain) = (Trace::new(), Trace::new().unfolded());
    acts(&mut folded);
    acts(&mut plain);
    let back: Vec<TraceEvent> = expand(folded.events()).map(|e| e.into_owned()).collect();
    assert_eq!(back, plain.events());
    // The last time's entry write is the run of two, worked by hand.
    assert!(matches!(plain.events()[10].event, Event::PteWrite { index: 10, count: 2, .. }));
    assert!(folded.events().len() < plain.events().len(), "the first five times fold");
}

#[test]
fn a_loop_of_calls_folds_into_a_line_of_the_function_that_loops() {
    // Inside "freevm", five calls of "kfree_page", each with one kfree: the
    // marker is freevm's own line (depth and name of freevm's events), not
    // a line inside the last call.
    let mut tr = Trace::new();
    tr.call("freevm", String::new, |tr| {
        tr.note(|| String::from("freevm's own line"));
        for k in 0..5u64 {
            let pa = 0x10_0000 + 0x1000 * k;
            tr.call("kfree_page", || format!("pa={pa:#x}"), |tr| tr.kfree(pa, Owner::User { pid: 1 }));
        }
    });
    let ev = tr.events();
    let own = ev.iter().find(|e| matches!(e.event, Event::Note { .. })).unwrap();
    let marker = ev.iter().find(|e| matches!(e.event, Event::Repeat { .. })).unwrap();
    assert_eq!((marker.depth, marker.func), (own.depth, own.func));
    assert!(matches!(marker.event, Event::Repeat { period: 2, times: 3 }));
    assert_eq!(expanded_len(ev), 1 + 1 + 5 * 2);
}

#[test]
fn numbers_written_otherwise_than_hex_with_0x_lose_nothing() {
    // Each note as the k-th time round a loop: numbers that `{:#x}` would write
    // differently (leading zeros, capitals, more than 16 digits, "0x" with no
    // digits, a number glued to the next word) must come back exactly as written.
    let texts: [fn(u64) -> String; 6] = [
        |k| format!("at 0x{:04x} now", 0x10 + k),
        |k| format!("at {:#X} now", 0xa0 + k),
        |k| format!("at 0x{:017x} now", k),
        |k| format!("0x then 0x{:x}", 0x1000 * (k + 1)),
        |k| format!("0x{:x}0xg{k}", k + 1),
        |k| format!("ends with 0x{:x}", (u64::MAX - 2).wrapping_add(k)),
    ];
    for text in texts {
        let (mut folded, mut plain) = (Trace::new(), Trace::new().unfolded());
        for k in 0..6 {
            folded.note(|| text(k));
            plain.note(|| text(k));
        }
        let back: Vec<TraceEvent> = expand(folded.events()).map(|e| e.into_owned()).collect();
        assert_eq!(back, plain.events().to_vec(), "{}", text(0));
    }
    // Written as {:#x} writes them, the six fold into the first two and a Repeat.
    let (mut folded, mut plain) = (Trace::new(), Trace::new().unfolded());
    for k in 0..6u64 {
        folded.note(|| format!("page {:#x} of 0x40", 0x1000 * k));
        plain.note(|| format!("page {:#x} of 0x40", 0x1000 * k));
    }
    assert_eq!(folded.events().len(), 3);
    assert!(matches!(folded.events()[2].event, Event::Repeat { period: 1, times: 4 }));
    let back: Vec<TraceEvent> = expand(folded.events()).map(|e| e.into_owned()).collect();
    assert_eq!(back, plain.events().to_vec());
}
