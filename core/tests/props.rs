//! Property tests: random operation sequences never panic and never leak or
//! double-free; addresses round-trip through their fields; translate agrees
//! with a plain map of what was mapped; random program files never break exec.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use pagelab_core::addr::{PGSIZE, VirtAddr};
use pagelab_core::kalloc::{Kmem, KmemConfig};
use pagelab_core::lab::view::{audit, usage};
use pagelab_core::lab::{Lab, Op, Preset};
use pagelab_core::mem::{PhysMem, SimMem};
use pagelab_core::port::{Reject, SysError};
use pagelab_core::proc::ProcState;
use pagelab_core::programs;
use pagelab_core::scheme::{Access, AccessKind, Mode, Scheme, SchemeKind, Sv32, Sv39, X86};
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::{Event, Owner, Trace};
use pagelab_core::walk;
use proptest::prelude::*;

/// An operation with its process chosen by position among the live ones.
#[derive(Clone, Debug)]
enum Act {
    Fork(usize),
    Exec(usize, usize, usize),
    Sbrk(usize, i64),
    Exit(usize),
    Wait(usize),
    Kill(usize),
    Open(usize, i64),
    Close(usize, i64),
    Read(usize, u64),
    Write(usize, u64, u8),
    Fail(u64),
    Cpu(u32),
}

fn act() -> impl Strategy<Value = Act> {
    let who = 0usize..8;
    prop_oneof![
        3 => who.clone().prop_map(Act::Fork),
        2 => (who.clone(), 0usize..3, 0usize..5).prop_map(|(w, p, n)| Act::Exec(w, p, n)),
        3 => (who.clone(), prop_oneof![-20_000i64..40_000, Just(-0x4000), Just(1 << 30)]).prop_map(|(w, n)| Act::Sbrk(w, n)),
        2 => who.clone().prop_map(Act::Exit),
        2 => who.clone().prop_map(Act::Wait),
        1 => who.clone().prop_map(Act::Kill),
        2 => (who.clone(), 1i64..5).prop_map(|(w, id)| Act::Open(w, id)),
        2 => (who.clone(), 1i64..5).prop_map(|(w, id)| Act::Close(w, id)),
        1 => (who.clone(), 0u64..0x1_0000).prop_map(|(w, va)| Act::Read(w, va)),
        1 => (who.clone(), 0u64..0x1_0000, any::<u8>()).prop_map(|(w, va, b)| Act::Write(w, va, b)),
        1 => (0u64..30).prop_map(Act::Fail),
        1 => (0u32..4).prop_map(Act::Cpu),
    ]
}

fn to_op(lab: &Lab, a: &Act) -> Option<Op> {
    let live: Vec<u32> = lab.kernel().procs().live().map(|p| p.pid).collect();
    let pick = |i: usize| live[i % live.len()];
    let progs = ["/init", "/sh", "/echo"];
    Some(match *a {
        Act::Fork(w) => Op::Fork { pid: pick(w) },
        Act::Exec(w, p, n) => Op::Exec {
            pid: pick(w),
            path: progs[p].into(),
            argv: (0..n).map(|i| format!("arg{i}").repeat(i + 1).into_bytes()).collect(),
        },
        Act::Sbrk(w, n) => Op::Sbrk { pid: pick(w), n },
        Act::Exit(w) => Op::Exit { pid: pick(w) },
        Act::Wait(w) => Op::Wait { pid: pick(w) },
        Act::Kill(w) => Op::Kill { pid: pick(w) },
        Act::Open(w, id) => Op::OpenShm { pid: pick(w), id },
        Act::Close(w, id) => Op::CloseShm { pid: pick(w), id },
        Act::Read(w, va) => Op::Read { pid: pick(w), va, len: 3 },
        Act::Write(w, va, b) => Op::Write { pid: pick(w), va, bytes: vec![b, b] },
        Act::Fail(n) => Op::FailAlloc { after: Some(n) },
        Act::Cpu(c) => Op::Cpu { cpu: c },
    })
}

/// Rejects that are fine: the operation was not possible, or xv6 itself would
/// panic for a reason a user can cause.
fn acceptable(r: &Reject) -> bool {
    match r {
        Reject::Panic { message } => {
            // exit/kill of init, and fork after xv6-public's sbrk-to-zero quirk.
            message == "init exiting" || message == "copyuvm: page not present"
        }
        Reject::NoteRefuses { .. } => false,
        _ => true,
    }
}

/// Exit every process but init, then let init wait for all of them.
fn wind_down(lab: &mut Lab) {
    loop {
        let running: Vec<u32> =
            lab.kernel().procs().live().filter(|p| p.pid != 1 && p.state != ProcState::Zombie).map(|p| p.pid).collect();
        let Some(&pid) = running.first() else { break };
        lab.apply(Op::Exit { pid }).unwrap();
    }
    // Orphans went to init; zombies whose parent is a zombie wait for it.
    for _ in 0..200 {
        let zombies: Vec<(u32, Option<u32>)> =
            lab.kernel().procs().live().filter(|p| p.state == ProcState::Zombie).map(|p| (p.pid, p.parent)).collect();
        if zombies.is_empty() {
            break;
        }
        let mut progressed = false;
        for (_, parent) in zombies {
            if let Some(pp) = parent
                && lab.kernel().procs().get(pp).is_some_and(|p| p.state != ProcState::Zombie)
                && lab.apply(Op::Wait { pid: pp }).is_ok()
            {
                progressed = true;
            }
        }
        assert!(progressed, "stuck winding down");
    }
}

fn run_random(preset: Preset, acts: &[Act]) {
    let mut lab = Lab::new(preset, ShmMode::Lab);
    let boot_free = lab.kernel().kmem().nfree();
    lab.apply(Op::Userinit).unwrap();
    lab.apply(Op::Exec { pid: 1, path: "/init".into(), argv: vec![b"/init".to_vec()] }).unwrap();
    for a in acts {
        let Some(op) = to_op(&lab, a) else { continue };
        match lab.apply(op.clone()) {
            // xv6-public's own window: after sbrk(-sz) growproc skips
            // switchuvm, and a store through the stale TLB slot can land in a
            // free frame (or one kalloc gave to someone else) and break kfree's
            // list or a page table, as it would in xv6. The books
            // cannot balance after that, so the run ends there.
            Ok(step)
                if step
                    .events
                    .iter()
                    .any(|e| matches!(&e.event, Event::Defect { text } if text.contains(" lands in "))) =>
            {
                return;
            }
            Ok(_) => {}
            Err(r) => assert!(acceptable(&r), "{preset}: {op:?} was refused: {r}"),
        }
        let problems = audit(lab.kernel());
        assert!(problems.is_empty(), "{preset} after {op:?}: {problems:?}");
    }
    lab.apply(Op::FailAlloc { after: None }).unwrap();
    // A process that sbrk'd to exactly 0 on x86 cannot fork but can exit.
    wind_down(&mut lab);
    let problems = audit(lab.kernel());
    assert!(problems.is_empty(), "{preset} at the end: {problems:?}");
    // Only init is left: every page not free is init's (or its kernel stack / trapframe).
    let live: Vec<u32> = lab.kernel().procs().live().map(|p| p.pid).collect();
    assert_eq!(live, vec![1]);
    let u = usage(lab.kernel(), 1);
    assert_eq!(boot_free - lab.kernel().kmem().nfree(), u.user + u.tables + 1, "{preset}: lost some free pages");
    assert_eq!(lab.kernel().kmem().countfree(lab.kernel().mem()), lab.kernel().kmem().nfree());
    // Shared pages left are those init itself has open.
    let init_shm = lab.kernel().procs().get(1).unwrap().shm.len();
    assert_eq!(lab.kernel().shm().used().count(), init_shm);
}

/// Cases for the operation sequences: 48, or `PAGELAB_CASES` for a deeper run.
fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("PAGELAB_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases: n, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn random_operations_never_leak_on_x86(acts in prop::collection::vec(act(), 1..40)) {
        run_random(Preset::Xv6PublicTiny, &acts);
    }

    #[test]
    fn random_operations_never_leak_on_riscv(acts in prop::collection::vec(act(), 1..40)) {
        run_random(Preset::Xv6RiscvTiny, &acts);
    }
}

fn roundtrip(kind: SchemeKind, va: u64) {
    let d = kind.decompose(va).unwrap();
    let values: Vec<u64> = d.fields.iter().map(|f| f.value).collect();
    assert_eq!(kind.compose(&values).unwrap(), va);
    // The fields tile the address: each starts one bit above the next.
    for w in d.fields.windows(2) {
        assert_eq!(w[0].lo, w[1].hi + 1);
    }
    assert_eq!(d.fields.last().unwrap().lo, 0);
}

proptest! {
    #[test]
    fn addresses_round_trip_through_their_fields(va32 in any::<u32>(), va64 in any::<u64>()) {
        roundtrip(SchemeKind::X86, u64::from(va32));
        roundtrip(SchemeKind::Sv32, u64::from(va32));
        roundtrip(SchemeKind::Sv39, va64);
        prop_assert!(SchemeKind::X86.decompose(u64::from(va32) | 1 << 32).is_err());
    }
}

/// Map random pages with the generic walker, then check translate against a plain map.
fn check_translate<S: Scheme>(maps: &[(u64, u64, u8)], probes: &[(u64, u8)], x86: bool) {
    let base = if x86 { 0 } else { 0x8000_0000 };
    let size = 512 * PGSIZE;
    let mut mem = SimMem::new(base, size);
    let mut k = Kmem::new(KmemConfig {
        ptr_bytes: 8,
        kva_offset: 0,
        end: base + PGSIZE,
        phystop: base + size,
        free_junk: 1,
        alloc_junk: None,
    });
    let mut tr = Trace::counting_only();
    k.freerange(&mut mem, &mut tr, base + PGSIZE, base + size).unwrap();
    let root = k.kalloc(&mut mem, &mut tr, Owner::PageDir { pid: 1 }).unwrap();
    mem.fill(root.as_u64(), PGSIZE, 0).unwrap();
    let mut model: BTreeMap<u64, (u64, u8)> = BTreeMap::new();
    for &(vpage, ppage, perm) in maps {
        let va = vpage * PGSIZE;
        let pa = base + (ppage % 256) * PGSIZE;
        if model.contains_key(&va) {
            continue;
        }
        let Some(pte) =
            walk::walk::<S>(&mut mem, &mut k, &mut tr, root, VirtAddr::new(va), Some(Owner::PageTable { pid: 1 }))
                .unwrap()
        else {
            continue;
        };
        // perm bits: 1 user, 2 write, 4 exec (RISC-V: R is always set).
        let e = if x86 {
            let mut f = 1u64; // PTE_P
            if perm & 2 != 0 {
                f |= 2;
            }
            if perm & 1 != 0 {
                f |= 4;
            }
            S::pa_bits(pa) | f
        } else {
            let mut f = 1u64 | 2; // V | R
            if perm & 2 != 0 {
                f |= 4;
            }
            if perm & 4 != 0 {
                f |= 8;
            }
            if perm & 1 != 0 {
                f |= 16;
            }
            S::pa_bits(pa) | f
        };
        mem.write_word(pte.as_u64(), S::ENTRY_BYTES, e).unwrap();
        model.insert(va, (pa, perm));
    }
    for &(va, kind) in probes {
        let access = Access {
            kind: match kind % 3 {
                0 => AccessKind::Read,
                1 => AccessKind::Write,
                _ => AccessKind::Execute,
            },
            mode: Mode::User,
        };
        let t = walk::translate::<S>(&mem, root, VirtAddr::new(va), access);
        let expect = model.get(&(va & !(PGSIZE - 1))).and_then(|&(pa, perm)| {
            let user = perm & 1 != 0;
            let allowed = match access.kind {
                AccessKind::Read => true,
                AccessKind::Write => perm & 2 != 0,
                AccessKind::Execute => x86 || perm & 4 != 0,
            };
            (user && allowed).then_some(pa | (va & (PGSIZE - 1)))
        });
        assert_eq!(t.outcome.as_ref().ok().map(|m| m.pa.as_u64()), expect, "va {va:#x} {access:?}");
    }
}

proptest! {
    #[test]
    fn translate_agrees_with_a_plain_map(
        maps in prop::collection::vec((0u64..2048, 0u64..256, 0u8..8), 0..60),
        probes in prop::collection::vec((0u64..2048 * PGSIZE, any::<u8>()), 1..60),
    ) {
        // Probe mapped pages too, not only random ones.
        let mut probes = probes;
        for &(v, _, _) in maps.iter().take(20) {
            probes.push((v * PGSIZE + 5, 0));
            probes.push((v * PGSIZE + 9, 1));
        }
        check_translate::<X86>(&maps, &probes, true);
        check_translate::<Sv39>(&maps, &probes, false);
        check_translate::<Sv32>(&maps, &probes, false);
    }
}

/// exec of a mangled copy of a real program never panics, never leaks, and
/// leaves the process as it was when it fails.
fn fuzz_exec(preset: Preset, file: Vec<u8>) {
    let mut lab = Lab::new(preset, ShmMode::Lab);
    lab.apply(Op::Userinit).unwrap();
    lab.apply(Op::Exec { pid: 1, path: "/init".into(), argv: vec![b"/init".to_vec()] }).unwrap();
    lab.apply(Op::Fork { pid: 1 }).unwrap();
    lab.apply(Op::File { path: "/fuzz".into(), bytes: file }).unwrap();
    let before = lab.kernel().procs().get(2).unwrap().clone();
    let free = lab.kernel().kmem().nfree();
    let step = lab.apply(Op::Exec { pid: 2, path: "/fuzz".into(), argv: vec![b"fuzz".to_vec()] });
    let step = step.unwrap_or_else(|r| panic!("{preset}: refused: {r}"));
    match &step.result.error {
        Some(SysError::Exec(_)) => {
            assert_eq!(lab.kernel().kmem().nfree(), free, "{preset}");
            assert_eq!(lab.kernel().procs().get(2).unwrap(), &before);
        }
        Some(e) => panic!("{preset}: {e:?}"),
        None => {}
    }
    assert!(audit(lab.kernel()).is_empty(), "{preset}: {:?}", audit(lab.kernel()));
}

fn mangle(orig: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut f = orig.to_vec();
    for &(at, b) in edits {
        let i = at % f.len();
        f[i] = b;
    }
    if let Some(c) = cut {
        f.truncate(c % (orig.len() + 1));
    }
    f
}

proptest! {
    #![proptest_config(cases(96))]

    #[test]
    fn exec_survives_mangled_programs(
        // Edits land mostly in the headers, where they matter.
        edits in prop::collection::vec((prop_oneof![0usize..128, 0usize..8192], any::<u8>()), 0..6),
        cut in prop::option::of(any::<usize>()),
        junk in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        fuzz_exec(Preset::Xv6PublicTiny, mangle(programs::X86_ECHO, &edits, cut));
        fuzz_exec(Preset::Xv6RiscvTiny, mangle(programs::RISCV_ECHO, &edits, cut));
        let mut j = b"\x7fELF".to_vec();
        j.extend_from_slice(&junk);
        fuzz_exec(Preset::Xv6PublicTiny, j.clone());
        fuzz_exec(Preset::Xv6RiscvTiny, j);
    }
}

/// The note's shared-memory code may leak and the lab may refuse steps, but
/// nothing may panic, and the allocator's own books must still balance.
fn run_random_note(preset: Preset, acts: &[Act]) {
    let mut lab = Lab::new(preset, ShmMode::Note);
    lab.apply(Op::Userinit).unwrap();
    lab.apply(Op::Exec { pid: 1, path: "/init".into(), argv: vec![b"/init".to_vec()] }).unwrap();
    for a in acts {
        let Some(op) = to_op(&lab, a) else { continue };
        let _ = lab.apply(op);
        let k = lab.kernel();
        assert_eq!(k.kmem().countfree(k.mem()), k.kmem().nfree(), "{preset}");
    }
}

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn the_notes_code_never_panics(acts in prop::collection::vec(act(), 1..40)) {
        run_random_note(Preset::Xv6PublicTiny, &acts);
        run_random_note(Preset::Xv6RiscvTiny, &acts);
    }
}
