//! Shared memory: one frame in several processes, freed once when the last
//! user lets go; and what the note's code does instead.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use pagelab_core::lab::view::{audit, mappers};
use pagelab_core::lab::{Lab, Op, Preset};
use pagelab_core::port::{ShmError, SysError};
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::{Event, Owner};

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// pid 3 is a child of sh. Its image: on x86 sh's 2 pages, guard, stack (sz = 0x4000);
/// on RISC-V sh's 2 text pages and its data page, guard, stack (sz = 0x5000).
fn ready(preset: Preset, mode: ShmMode) -> Lab {
    let mut lab = Lab::new(preset, mode);
    for op in [
        Op::Userinit,
        Op::Exec { pid: 1, path: "/init".into(), argv: words(&["/init"]) },
        Op::Fork { pid: 1 },
        Op::Exec { pid: 2, path: "/sh".into(), argv: words(&["sh"]) },
        Op::Fork { pid: 2 },
    ] {
        lab.apply(op).unwrap();
    }
    lab
}

fn ok(lab: &mut Lab, op: Op) -> i64 {
    let s = lab.apply(op.clone()).unwrap_or_else(|e| panic!("{op:?}: {e}"));
    assert_eq!(s.result.error, None, "{op:?}");
    s.result.value
}

fn shared_frames(lab: &Lab) -> Vec<u64> {
    lab.kernel().kmem().owners().filter(|(_, o)| matches!(o, Owner::Shared { .. })).map(|(pa, _)| pa).collect()
}

#[test]
fn two_processes_share_one_frame_and_it_is_freed_once() {
    for (preset, sz) in [(Preset::Xv6PublicTiny, 0x4000u64), (Preset::Xv6RiscvTiny, 0x5000)] {
        let mut lab = ready(preset, ShmMode::Lab);
        let free = lab.kernel().kmem().nfree();
        // Mapped at PGROUNDUP(sz); sz grows by a page.
        let at = sz;
        assert_eq!(ok(&mut lab, Op::OpenShm { pid: 3, id: 25 }), at as i64, "{preset}");
        assert_eq!(lab.kernel().procs().get(3).unwrap().sz, sz + 0x1000);
        ok(&mut lab, Op::Write { pid: 3, va: at, bytes: vec![10] });
        // fork shares the page: the child maps the same frame.
        let child = ok(&mut lab, Op::Fork { pid: 3 }) as u32;
        let frames = shared_frames(&lab);
        assert_eq!(frames.len(), 1);
        let who: Vec<(u32, u64)> = mappers(lab.kernel(), frames[0]).iter().map(|m| (m.pid, m.va)).collect();
        assert_eq!(who, vec![(3, at), (child, at)], "{preset}");
        assert_eq!(lab.kernel().shm().pages[0].refs, 2);
        // Opening it again returns the same address.
        assert_eq!(ok(&mut lab, Op::OpenShm { pid: child, id: 25 }), at as i64);
        // A byte written by the child is read by the parent.
        ok(&mut lab, Op::Write { pid: child, va: at, bytes: vec![11] });
        let s = lab.apply(Op::Read { pid: 3, va: at, len: 1 }).unwrap();
        assert_eq!(s.result.bytes, vec![11]);
        // Closing in one process keeps the frame for the other.
        let step = lab.apply(Op::CloseShm { pid: child, id: 25 }).unwrap();
        assert_eq!(step.counts.user_free, 0);
        assert_eq!(lab.kernel().procs().get(child).unwrap().sz, sz, "the child's sz shrinks back");
        assert!(audit(lab.kernel()).is_empty(), "{:?}", audit(lab.kernel()));
        // The parent exits with the page open: exit lets go, and it was the last user.
        ok(&mut lab, Op::Exit { pid: child });
        let step = lab.apply(Op::Exit { pid: 3 }).unwrap().clone();
        let frees: Vec<u64> = step
            .events
            .iter()
            .filter_map(|e| match e.event {
                Event::Kfree { pa, owner: Owner::Shared { id: 25 } } => Some(pa.as_u64()),
                _ => None,
            })
            .collect();
        assert_eq!(frees, frames, "{preset}: freed exactly once, by the last user");
        assert!(shared_frames(&lab).is_empty());
        assert_eq!(lab.kernel().shm().used().count(), 0);
        ok(&mut lab, Op::Wait { pid: 2 });
        assert!(audit(lab.kernel()).is_empty(), "{:?}", audit(lab.kernel()));
        // pid 3 was waited for; its child went to init, which waits for it.
        ok(&mut lab, Op::Wait { pid: 1 });
        let free_after = lab.kernel().kmem().nfree();
        // Everything pid 3 and its child held is back, less what pid 3 had before
        // (pid 3 existed when `free` was taken).
        let before_pid3 = free;
        assert!(free_after > before_pid3, "{preset}");
        assert!(audit(lab.kernel()).is_empty(), "{:?}", audit(lab.kernel()));
    }
}

#[test]
fn shm_errors_are_typed() {
    // The first shared page goes at the child of sh's sz: 0x4000 on x86, 0x5000 on RISC-V.
    for (preset, sz) in [(Preset::Xv6PublicTiny, 0x4000u64), (Preset::Xv6RiscvTiny, 0x5000)] {
        shm_errors_on(preset, sz);
    }
}

fn shm_errors_on(preset: Preset, sz: u64) {
    let mut lab = ready(preset, ShmMode::Lab);
    let s = lab.apply(Op::CloseShm { pid: 3, id: 7 }).unwrap();
    assert_eq!(s.result.error, Some(SysError::Shm(ShmError::NotOpen)));
    let s = lab.apply(Op::OpenShm { pid: 3, id: 0 }).unwrap();
    assert_eq!(s.result.error, Some(SysError::Shm(ShmError::BadId { id: 0 })));
    let s = lab.apply(Op::OpenShm { pid: 3, id: 1 << 40 }).unwrap();
    assert_eq!(s.result.error, Some(SysError::Shm(ShmError::BadId { id: 1 << 40 })));
    // 64 distinct ids fill the table (the tiny machine has room for them).
    for id in 1..=64 {
        ok(&mut lab, Op::OpenShm { pid: 3, id });
    }
    let s = lab.apply(Op::OpenShm { pid: 3, id: 65 }).unwrap();
    assert_eq!(s.result.error, Some(SysError::Shm(ShmError::TableFull)));
    assert!(lab.apply(Op::OpenShm { pid: 99, id: 1 }).is_err(), "no such process");
    // Closing one in the middle leaves a hole; fork copes with it.
    ok(&mut lab, Op::CloseShm { pid: 3, id: 10 });
    assert!(lab.kernel().procs().get(3).unwrap().holes.contains(&(sz + 9 * 0x1000)), "{preset}");
    let child = ok(&mut lab, Op::Fork { pid: 3 }) as u32;
    assert!(audit(lab.kernel()).is_empty(), "{:?}", audit(lab.kernel()));
    // sbrk shrinking over shared pages closes them first.
    ok(&mut lab, Op::Sbrk { pid: child, n: -(30 * 0x1000) });
    assert!(audit(lab.kernel()).is_empty(), "{:?}", audit(lab.kernel()));
}

#[test]
fn the_notes_code_leaks_the_page_and_copies_it_on_fork() {
    let mut lab = ready(Preset::Xv6PublicTiny, ShmMode::Note);
    assert_eq!(ok(&mut lab, Op::OpenShm { pid: 3, id: 25 }), 0x4000);
    let frame = shared_frames(&lab)[0];
    let step = lab.apply(Op::Fork { pid: 3 }).unwrap().clone();
    assert!(step.events.iter().any(|e| matches!(e.event, Event::Defect { .. })), "fork copies the shared page");
    let child = step.result.value as u32;
    // The child's page at 0x4000 is a private copy, not the shared frame.
    assert_eq!(mappers(lab.kernel(), frame).len(), 1);
    // The child opens it again: mapped at PGROUNDUP(sz) = 0x5000 this time.
    assert_eq!(ok(&mut lab, Op::OpenShm { pid: child, id: 25 }), 0x5000);
    ok(&mut lab, Op::CloseShm { pid: child, id: 25 });
    let step = lab.apply(Op::CloseShm { pid: 3, id: 25 }).unwrap().clone();
    // n_access reached 0: the entry is reused, the frame is never freed.
    assert_eq!(step.counts.user_free, 0);
    assert!(step.events.iter().any(|e| matches!(&e.event, Event::Defect { text } if text.contains("never kfree"))));
    assert_eq!(lab.kernel().shm().used().count(), 0);
    let problems = audit(lab.kernel());
    assert!(problems.iter().any(|p| p.contains("leaked")), "{problems:?}");
}
