//! `Trace::pte_write_run` records a run of entry writes exactly as one
//! `Trace::pte_write` per entry would (the same events, folded the same
//! way), whatever came before it in the trace; and `walk::map_run` leaves
//! memory as a loop of single entry writes does.

#![cfg(not(target_arch = "wasm32"))]

use pagelab_core::mem::{PhysMem, SimMem};
use pagelab_core::scheme::X86;
use pagelab_core::trace::Trace;
use pagelab_core::walk;
use proptest::prelude::*;

/// One run: table (0 or 1), first index, va step (a page, or not), first
/// new value, its step, and the old values (0 mostly, sometimes something
/// else). Small indexes and short runs, so that runs often continue one
/// another (or nearly do).
type Run = (u64, u32, bool, u64, u64, Vec<u64>);

fn run() -> impl Strategy<Value = Run> {
    (
        0u64..2,
        0u32..8,
        any::<bool>(),
        prop_oneof![Just(0x10_0000u64), Just(0x10_2000), Just(0x10_3000), 0u64..0x10_0000],
        prop_oneof![Just(0x1000u64), Just(0x400), Just(0), Just(7)],
        prop::collection::vec(prop_oneof![6 => Just(0u64), 1 => Just(2u64), 1 => 0u64..4], 0..5),
    )
}

proptest! {
    #[test]
    fn a_run_records_what_single_writes_record(runs in prop::collection::vec(run(), 1..10)) {
        let mut a = Trace::new();
        let mut b = Trace::new();
        for &(t, index, page_step, new0, new_step, ref olds) in &runs {
            let table = 0x8000 + t * 0x1000;
            let va_step = if page_step { 0x1000 } else { 0x2000 };
            let va = u64::from(index) * va_step;
            a.pte_write_run(0, table, index, va, va_step, olds, new0, new_step);
            for (i, old) in olds.iter().enumerate() {
                let i64_ = i as u64;
                b.pte_write(0, table, index + i as u32, va + i64_ * va_step, *old, new0 + i64_ * new_step);
            }
        }
        prop_assert_eq!(a.events(), b.events());
    }

    #[test]
    fn map_run_writes_what_single_writes_write(index in 0u64..1024, pages in 1u64..1100, busy in prop::option::of(0u64..1100)) {
        // A table at 0x1000 with perhaps one entry already valid (PTE_P).
        let mut m = SimMem::new(0, 0x3000);
        if let Some(k) = busy.filter(|k| index + k < 1024) {
            m.write_word(0x1000 + (index + k) * 4, 4, 0x5001).unwrap();
        }
        let before = m.clone();
        let mut tr = Trace::new();
        let got = walk::map_run::<X86>(&mut m, &mut tr, 0x1000 + index * 4, index << 12, pages, 0x20_0007, 0x1000).unwrap();
        // By hand: entries from `index` get 0x200007 + i·0x1000 up to the
        // table's end or the valid entry, which is the remap returned.
        let room = (1024 - index).min(pages);
        let stop = busy.filter(|k| index + k < 1024 && *k < room);
        let mut want = before;
        for i in 0..stop.unwrap_or(room) {
            want.write_word(0x1000 + (index + i) * 4, 4, 0x20_0007 + i * 0x1000).unwrap();
        }
        prop_assert_eq!(got, stop.map(|k| (index + k) << 12));
        let (mut x, mut y) = (vec![0u8; 0x3000], vec![0u8; 0x3000]);
        m.read(0, &mut x).unwrap();
        want.read(0, &mut y).unwrap();
        prop_assert!(x == y);
    }
}
