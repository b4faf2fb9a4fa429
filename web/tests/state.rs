//! The lab state and its reducer, run on the host. Expected values are
//! worked out by hand from xv6 (see the comments), not read back from the
//! code under test.
#![cfg(not(target_arch = "wasm32"))]

use pagelab_core::lab::view::{FrameState, frames, mappers, stack_words};
use pagelab_core::lab::{Op, Preset};
use pagelab_core::scheme::SchemeKind;
use pagelab_core::trace::Owner;
use pagelab_web::state::{AccessChoice, Action, Call, LabState, Notice};

fn act(s: LabState, a: Action) -> LabState {
    s.reduce_with(a)
}

fn call(s: LabState, c: Call) -> LabState {
    s.reduce_with(Action::Call(c))
}

fn exec(s: LabState, path: &str, args: &str) -> LabState {
    call(s, Call::Exec { path: path.into(), args: args.into() })
}

fn error_of(s: &LabState) -> String {
    match &s.notice {
        Some(Notice::Error(e)) => e.clone(),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The notes' story up to the shell's child, pid 3, on `preset`, made
/// through the same actions the page's buttons send.
fn story_prefix(preset: Preset) -> LabState {
    let s = LabState::new(preset);
    assert_eq!(s.selection.pid, Some(1));
    let s = exec(s, "/init", "");
    let s = call(s, Call::Fork);
    assert_eq!(s.selection.pid, Some(2), "fork selects the child");
    let s = exec(s, "sh", "");
    let s = call(s, Call::Fork);
    assert_eq!(s.selection.pid, Some(3));
    s
}

#[test]
fn opens_on_xv6_public_with_pid_1_and_the_example_address() {
    let s = LabState::default();
    assert_eq!(s.scenario().preset, Preset::Xv6Public);
    assert_eq!((s.len(), s.current()), (1, 1));
    assert_eq!(s.selection.pid, Some(1));
    assert_eq!(s.selection.address, Some(0x0040_3abc));
    // 0x00403abc = 0000 0000 01|00 0000 0011|1010 1011 1100: PDX 1, PTX 3, offset 0xabc.
    let d = SchemeKind::X86.decompose(s.selection.address.unwrap()).unwrap();
    assert_eq!((d.index(1), d.index(0), d.offset()), (Some(1), Some(3), 0xabc));
    // xv6-public: 224 MB = 57,344 frames.
    assert_eq!(frames(s.lab().kernel()).len(), 57_344);
}

#[test]
fn echo_hello_world_builds_the_stack_of_the_notes() {
    let s = story_prefix(Preset::Xv6PublicTiny);
    let s = exec(s, "echo", "hello world");
    assert!(matches!(s.notice, Some(Notice::Info(_))), "{:?}", s.notice);
    // Worked out in core/tests/exec.rs from xv6's exec: strings from the top of
    // the stack page 0x3000 down, each aligned to 4; then ustack.
    let le = |b: &[u8; 4]| u64::from(u32::from_le_bytes(*b));
    let want = vec![
        (0x2fcc, 0xffff_ffff),
        (0x2fd0, 3),
        (0x2fd4, 0x2fd8),
        (0x2fd8, 0x2ff8),
        (0x2fdc, 0x2ff0),
        (0x2fe0, 0x2fe8),
        (0x2fe4, 0),
        (0x2fe8, le(b"worl")),
        (0x2fec, le(b"d\0\0\0")),
        (0x2ff0, le(b"hell")),
        (0x2ff4, le(b"o\0\0\0")),
        (0x2ff8, le(b"echo")),
        (0x2ffc, 0),
    ];
    let got: Vec<(u64, u64)> = stack_words(s.lab().kernel(), 3).iter().map(|w| (w.va, w.value)).collect();
    assert_eq!(got, want);
}

#[test]
fn stepping_back_and_forward_rebuilds_each_step() {
    let s = act(LabState::default(), Action::LoadBuiltin("story-x86".into()));
    assert_eq!((s.len(), s.current()), (9, 9));
    // After the story, only pids 1 and 2 are left (wait 2 reaped pid 3).
    assert!(s.lab().kernel().procs().get(3).is_none());
    let s = act(s, Action::Goto(7)); // after `exec 3 echo hello world`
    assert_eq!(s.current(), 7);
    assert_eq!(s.lab().kernel().procs().get(3).map(|p| p.name.clone()), Some("echo".into()));
    let s = act(s, Action::Back); // after sbrk 3 32768: sh's 4 pages + 8 heap pages
    assert_eq!(s.lab().kernel().procs().get(3).map(|p| p.sz), Some(0x4000 + 32768));
    let s = act(s, Action::Forward);
    assert_eq!(s.current(), 7);
    let s = act(s, Action::Goto(0));
    assert_eq!(s.lab().kernel().procs().live().count(), 0);
    let s = act(s, Action::Back);
    assert!(error_of(&s).contains("step 0"));
    let s = act(s, Action::Goto(99));
    assert!(error_of(&s).contains("no step 99"));
    assert_eq!(s.current(), 0, "a bad jump leaves the step shown");
    let s = act(s, Action::Goto(9));
    let s = act(s, Action::Forward);
    assert!(error_of(&s).contains("last step"));
}

#[test]
fn an_operation_at_an_earlier_step_drops_the_later_ones() {
    let s = act(LabState::default(), Action::LoadBuiltin("story-x86".into()));
    let s = act(s, Action::Goto(3)); // after fork 1: pids 1 and 2
    let s = act(s, Action::SelectPid(1));
    let s = call(s, Call::Fork);
    assert_eq!((s.len(), s.current()), (4, 4));
    match &s.notice {
        Some(Notice::Info(t)) => assert!(t.contains("Steps 4 to 9 were dropped"), "{t}"),
        other => panic!("{other:?}"),
    }
    // The new child is pid 3 again: xv6 hands out pids in order.
    assert_eq!(s.selection.pid, Some(3));
    // A refused operation at an earlier step drops nothing.
    let s = act(s, Action::Goto(2));
    let s = act(s, Action::Run(Op::Fork { pid: 42 }));
    assert!(error_of(&s).contains("no process with pid 42"));
    assert_eq!((s.len(), s.current()), (4, 2));
}

#[test]
fn fork_and_sbrk_change_the_frame_map() {
    let users = |s: &LabState| {
        frames(s.lab().kernel())
            .iter()
            .filter(|(_, st)| matches!(st, FrameState::Owned { owner: Owner::User { .. } }))
            .count()
    };
    let s = story_prefix(Preset::Xv6PublicTiny);
    let before = users(&s);
    let nfree = s.lab().kernel().kmem().nfree();
    let s = call(s, Call::Sbrk("8192".into()));
    // Two more user pages for pid 3; its page table exists already.
    assert_eq!(users(&s), before + 2);
    assert_eq!(s.lab().kernel().kmem().nfree(), nfree - 2);
    let s = call(s, Call::Fork);
    // The child copies sh's 4 pages + 2 heap pages: 6 user pages. It also gets a
    // kernel stack and 11 page-table pages: its page directory, one table for
    // its user half, and setupkvm's 9 for the kernel half (one for the 2 MB of
    // RAM at KERNBASE, eight for the 32 MB of device space from 0xfe000000).
    assert_eq!(users(&s), before + 2 + 6);
    assert_eq!(s.lab().kernel().kmem().nfree(), nfree - 2 - (6 + 1 + 11));
}

#[test]
fn shared_memory_is_one_frame_in_two_processes() {
    let s = story_prefix(Preset::Xv6PublicTiny);
    let s = call(s, Call::OpenShm("25".into()));
    // sh's image is 4 pages: openshmem maps page 25 at PGROUNDUP(sz) = 0x4000.
    match &s.notice {
        Some(Notice::Info(t)) => assert!(t.contains("returned 16384"), "{t}"),
        other => panic!("{other:?}"),
    }
    let s = act(s, Action::SelectPid(2));
    let s = call(s, Call::OpenShm("25".into()));
    let k = s.lab().kernel();
    let pa = k.translate(Some(3), 0x4000, AccessChoice::UserRead.access()).unwrap().outcome.unwrap().frame.as_u64();
    let pa2 = k.translate(Some(2), 0x4000, AccessChoice::UserRead.access()).unwrap().outcome.unwrap().frame.as_u64();
    assert_eq!(pa, pa2, "the same frame");
    let who: Vec<(u32, u64)> = mappers(k, pa).iter().map(|m| (m.pid, m.va)).collect();
    assert_eq!(who, vec![(2, 0x4000), (3, 0x4000)]);
    assert_eq!(k.shm().pages[k.shm().find(25).unwrap()].refs, 2);
    let s = call(s, Call::Write { va: "0x4000".into(), bytes: "42".into() });
    let s = act(s, Action::SelectPid(3));
    let s = call(s, Call::Read { va: "4000".into(), len: "1".into() });
    match &s.notice {
        Some(Notice::Info(t)) => assert!(t.contains("the byte 42"), "{t}"),
        other => panic!("{other:?}"),
    }
}

/// Twenty-odd kinds of bad input: each gives a clear message, and the lab
/// keeps its state (and still works afterwards).
#[test]
fn bad_inputs_give_messages_and_keep_the_state() {
    // The reducer is pure, so every case starts from the same state.
    let base = story_prefix(Preset::Xv6PublicTiny);
    let n = base.len();
    let cases: Vec<(Action, &str, bool)> = vec![
        // (action, words the message must hold, whether a step is recorded: xv6 ran the call and returned -1)
        (Action::Call(Call::Sbrk("lots".into())), "not a whole number", false),
        (Action::Call(Call::Sbrk("".into())), "type a number", false),
        (Action::Call(Call::Sbrk("0x7fffffff".into())), "sbrk failed", true),
        (Action::Call(Call::OpenShm("x".into())), "not a whole number", false),
        (Action::Call(Call::OpenShm("0".into())), "not a positive number", true),
        (Action::Call(Call::CloseShm("7".into())), "does not have that shared page open", true),
        (Action::Call(Call::Read { va: "".into(), len: "1".into() }), "type an address", false),
        (Action::Call(Call::Read { va: "0xzz".into(), len: "1".into() }), "not a hex digit", false),
        (Action::Call(Call::Read { va: "0x1000".into(), len: "0".into() }), "out of range", false),
        (Action::Call(Call::Write { va: "0x0".into(), bytes: "".into() }), "type what to write", false),
        (Action::Call(Call::Write { va: "0x0".into(), bytes: "300".into() }), "too large", false),
        (Action::Call(Call::Write { va: "-1".into(), bytes: "1".into() }), "negative", false),
        (Action::Call(Call::Write { va: "0x100000000".into(), bytes: "1".into() }), "wider than 32 bits", false),
        (Action::Call(Call::Exec { path: "nosuch".into(), args: "".into() }), "there is no file", true),
        (Action::Call(Call::Exec { path: "".into(), args: "".into() }), "choose a program", false),
        (Action::Call(Call::Exec { path: "echo".into(), args: "\"open".into() }), "not closed", false),
        (Action::Call(Call::Exec { path: "echo".into(), args: "a ".repeat(32) }), "at most 31", true),
        (Action::Call(Call::Exec { path: "echo".into(), args: "x".repeat(5000) }), "do not fit", true),
        (Action::Call(Call::FailAlloc("soon".into())), "not a whole number", false),
        (Action::Run(Op::Fork { pid: 99 }), "no process with pid 99", false),
        (Action::Run(Op::Exit { pid: 1 }), "init", false),
        (Action::Run(Op::Wait { pid: 3 }), "no children", true),
        (Action::SelectPid(77), "no process with pid 77", false),
        (
            Action::Upload {
                name: "junk.bin".into(),
                bytes: b"not an elf file at all, just words, and more words so that it is longer than a header"
                    .to_vec(),
            },
            "not an ELF file",
            false,
        ),
        (Action::Upload { name: "empty".into(), bytes: Vec::new() }, "is empty", false),
        (Action::Upload { name: "big".into(), bytes: vec![0x7f; (1 << 20) + 1] }, "at most 1048576 bytes", false),
        (Action::GotoFrame("0xfffffff0000".into()), "not in RAM", false),
        (Action::LoadBuiltin("nope".into()), "no built-in scenario", false),
        (Action::OpenLink("#lab=%%%".into()), "could not be opened", false),
    ];
    assert!(cases.len() >= 20);
    for (action, words, step) in cases {
        let what = format!("{action:?}");
        let s = base.reduce_with(action);
        let e = error_of(&s);
        assert!(e.contains(words), "{what}: message {e:?} lacks {words:?}");
        if !what.starts_with("OpenLink") {
            assert_eq!(s.len(), n + usize::from(step), "{what}");
            // The machine is as it was: the same free pages and processes.
            let fresh = story_prefix(Preset::Xv6PublicTiny);
            assert_eq!(s.lab().kernel().kmem().nfree(), fresh.lab().kernel().kmem().nfree(), "{what}");
            assert_eq!(s.lab().kernel().procs().live().count(), fresh.lab().kernel().procs().live().count(), "{what}");
        }
        // And the lab still works.
        let s = call(s, Call::Sbrk("4096".into()));
        assert!(matches!(s.notice, Some(Notice::Info(_))), "{what}: after it, {:?}", s.notice);
    }
}

#[test]
fn faults_kill_the_process_and_say_so() {
    let s = story_prefix(Preset::Xv6PublicTiny);
    let s = exec(s, "echo", "hi");
    // echo is one page: 0x0 text, 0x1000 the guard page, 0x2000 the stack.
    let s = call(s, Call::Write { va: "0x1000".into(), bytes: "1".into() });
    let e = error_of(&s);
    assert!(e.contains("page fault at 0x1000") && e.contains("kills the process"), "{e}");
    assert!(s.lab().kernel().procs().get(3).is_none_or(|p| p.state.to_string() == "zombie"));
    let s = story_prefix(Preset::Xv6PublicTiny);
    let s = call(s, Call::Read { va: "0x00403abc".into(), len: "1".into() });
    assert!(error_of(&s).contains("not present"));
}

#[test]
fn a_link_restores_the_lab_exactly() {
    let s = act(LabState::default(), Action::LoadBuiltin("shm-test".into()));
    let s = act(s, Action::Goto(12));
    let s = act(s, Action::SelectPid(4));
    let s = act(s, Action::SetAddress("0x4000".into()));
    let s = act(s, Action::SetAccess(AccessChoice::UserWrite));
    let s = act(s, Action::SelectFrame(Some(0x1000)));
    let f = s.fragment();
    let t = act(LabState::new(Preset::Xv6RiscvTiny), Action::OpenLink(format!("#{f}")));
    assert_eq!(t.notice, None);
    assert_eq!(t.scenario(), s.scenario());
    assert_eq!((t.current(), t.len()), (12, s.len()));
    assert_eq!(t.selection, s.selection);
    assert_eq!(t.fragment(), f);
    // The story's link is short.
    let story = act(LabState::default(), Action::LoadBuiltin("story-x86".into()));
    assert!(story.fragment().len() < 250, "{}", story.fragment().len());
}

#[test]
fn bad_links_give_a_message_and_a_clean_lab() {
    let s = act(LabState::default(), Action::LoadBuiltin("story-x86".into()));
    let t = act(s, Action::OpenLink("#lab=AAAA&step=3".into()));
    assert!(error_of(&t).contains("could not be opened"));
    assert_eq!((t.scenario().preset, t.len()), (Preset::Xv6Public, 1));
}

#[test]
fn switching_machine_switches_the_vocabulary() {
    let s = act(LabState::default(), Action::NewLab(Preset::Xv6Riscv));
    assert_eq!(s.scheme(), SchemeKind::Sv39);
    let d = s.scheme().decompose(0x0040_3abc).unwrap();
    let names: Vec<&str> = d.fields.iter().map(|f| f.name).collect();
    assert_eq!(names, ["sign extension", "L2", "L1", "L0", "offset"]);
    // A 64-bit address is fine on Sv39 but wider than x86's 32 bits.
    let s = act(s, Action::SetAddress("0x1_0000_0000".into()));
    assert!(s.address_error.is_none());
    let s = act(LabState::default(), Action::SetAddress("0x1_0000_0000".into()));
    assert!(s.address_error.as_deref().unwrap_or("").contains("wider than 32 bits"));
    // The last good address stays selected.
    assert_eq!(s.selection.address, Some(0x0040_3abc));
}

#[test]
fn the_reducer_is_pure_an_old_state_still_shows_what_it_showed() {
    let s0 = story_prefix(Preset::Xv6PublicTiny);
    let (n0, free0, procs0) = (s0.len(), s0.lab().kernel().kmem().nfree(), s0.lab().kernel().procs().live().count());
    // fork of sh (pid 3): 4 user pages + kernel stack + page directory + 10 page tables
    // (1 for the user half, 9 for the kernel half on the tiny machine): 16 frames.
    let s1 = call(s0.clone(), Call::Fork);
    assert_eq!(s1.len(), n0 + 1);
    assert_eq!(s1.lab().kernel().kmem().nfree(), free0 - 4 - 1 - 11);
    // The state it came from is untouched, at its last step too.
    assert_eq!((s0.len(), s0.current()), (n0, n0));
    assert_eq!(s0.lab().kernel().kmem().nfree(), free0);
    assert_eq!(s0.lab().kernel().procs().live().count(), procs0);
    assert_eq!(s0.full().steps().len(), n0);
    // Both go on independently: the old one forks too and gets the same pid.
    let s2 = call(s0.clone(), Call::Fork);
    assert_eq!(s2.lab().kernel().procs().live().map(|p| p.pid).max(), Some(4));
    assert_eq!(s1.lab().kernel().procs().live().map(|p| p.pid).max(), Some(4));
    assert_eq!(s1.len(), n0 + 1);
}

#[test]
fn stepping_back_uses_kept_machines_and_keeps_at_most_sixteen() {
    let s = act(LabState::default(), Action::LoadBuiltin("shm-test".into()));
    assert_eq!(s.len(), 79);
    // Loading keeps a machine every 5 steps (79 steps, at most 16 copies).
    assert_eq!(s.cached_steps(), (0..79).step_by(5).collect::<Vec<_>>());
    let mut s = s;
    for k in (0..79).rev() {
        s = act(s, Action::Back);
        assert_eq!(s.current(), k);
        assert!(s.cached_steps().len() <= 16, "{:?}", s.cached_steps());
    }
    // Step 78 is the parent's read: the tenth child stored 10 + 10 = 20.
    let s = act(s, Action::Goto(78));
    let last = s.step(79).unwrap();
    assert_eq!(last.result.value, 0);
    let read = s.step(78).unwrap();
    assert_eq!(read.result.bytes, vec![20]);
    // Step 12 (child 0 stored 11) is the same machine as a replay from boot.
    let s = act(s, Action::Goto(12));
    let fresh = s.full().prefix(12);
    assert_eq!(frames(s.lab().kernel()), frames(fresh.kernel()));
}
