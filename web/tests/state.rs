//! The lab state and its reducer, run on the host. Expected values are
//! worked out by hand from xv6 (see the comments), not read back from the
//! code under test.
#![cfg(not(target_arch = "wasm32"))]

use pagelab_core::lab::ParagraphKind;
use pagelab_core::lab::view::{FrameState, frames, mappers, stack_words};
use pagelab_core::lab::{Op, Preset};
use pagelab_core::port::SkipFlush;
use pagelab_core::scheme::SchemeKind;
use pagelab_core::trace::{Event, Owner};
use pagelab_web::state::{AccessChoice, Action, Call, EXAMPLE_ADDRESS, LabState, Where, dropped_text, open_link};

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
        Some(n) if n.is_error() => n.text.clone(),
        other => panic!("expected an error, got {other:?}"),
    }
}

fn info_of(s: &LabState) -> String {
    match &s.notice {
        Some(n) if !n.is_error() => n.text.clone(),
        other => panic!("expected information, got {other:?}"),
    }
}

fn is_info(s: &LabState) -> bool {
    s.notice.as_ref().is_some_and(|n| !n.is_error())
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
fn opens_on_xv6_public_with_pid_1_and_an_address_that_translates() {
    let s = LabState::default();
    assert_eq!(s.scenario().preset, Preset::Xv6Public);
    assert_eq!((s.len(), s.current()), (1, 1));
    assert_eq!(s.selection.pid, Some(1));
    // userinit sets tf->eip = 0: the address shown is initcode's first instruction,
    // in the one user page userinit mapped, so a user read of it translates.
    assert!(s.address_auto);
    assert_eq!((s.selection.address, s.address_text.as_str()), (Some(0), "0x00000000"));
    assert_eq!(s.selection.access, AccessChoice::UserRead);
    let t = s.lab().kernel().translate(Some(1), 0, AccessChoice::UserRead.access()).unwrap();
    assert!(t.outcome.is_ok());
    // The example address of the README: 0000 0000 01|00 0000 0011|1010 1011 1100:
    // PDX 1, PTX 3, offset 0xabc.
    let s = act(s, Action::SetAddress(EXAMPLE_ADDRESS.into()));
    assert!(!s.address_auto);
    let d = SchemeKind::X86.decompose(s.selection.address.unwrap()).unwrap();
    assert_eq!((d.index(1), d.index(0), d.offset()), (Some(1), Some(3), 0xabc));
    // xv6-public: 224 MB = 57,344 frames.
    assert_eq!(frames(s.lab().kernel()).len(), 57_344);
}

#[test]
fn echo_hello_world_builds_the_stack_of_the_notes() {
    let s = story_prefix(Preset::Xv6PublicTiny);
    let s = exec(s, "echo", "hello world");
    assert!(is_info(&s), "{:?}", s.notice);
    // Its message is next to the exec form.
    assert_eq!(s.notice.as_ref().map(|n| n.at), Some(Where::Exec));
    // The address follows the step: echo's sp, 0x2fcc (see below).
    assert_eq!(s.selection.address, Some(0x2fcc));
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
    // A story opens at its beginning: the machine just booted, no process.
    assert_eq!((s.len(), s.current()), (9, 0));
    assert_eq!(s.lab().kernel().procs().live().count(), 0);
    let s = act(s, Action::Goto(9));
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
    let before = s.generation;
    let s = call(s, Call::Fork);
    assert_eq!((s.len(), s.current()), (4, 4));
    assert_eq!(
        s.generation,
        before + 1,
        "a lab that dropped steps is a new one: the one before keeps its history entry"
    );
    assert!(info_of(&s).contains("Steps 4 to 9 were dropped"), "{}", info_of(&s));
    // The new child is pid 3 again: xv6 hands out pids in order.
    assert_eq!(s.selection.pid, Some(3));
    // A refused operation at an earlier step drops nothing.
    let s = act(s, Action::Goto(2));
    let s = act(s, Action::Run(Op::Fork { pid: 42 }));
    assert!(error_of(&s).contains("no process with pid 42"));
    assert_eq!((s.len(), s.current()), (4, 2));
    assert_eq!(s.generation, before + 1, "nothing dropped, no new history entry");
    // At the last step nothing is dropped: the same lab, one step longer.
    let s = act(s, Action::Goto(4));
    let s = act(s, Action::SelectPid(1));
    let s = call(s, Call::Fork);
    assert_eq!((s.len(), s.generation), (5, before + 1));
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
    assert!(info_of(&s).contains("returned 16384"));
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
    assert!(info_of(&s).contains("the byte 42"));
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
        (open_link("#lab=%%%"), "could not be opened", false),
    ];
    assert!(cases.len() >= 20);
    for (action, words, step) in cases {
        let what = format!("{action:?}");
        let s = base.reduce_with(action);
        let e = error_of(&s);
        assert!(e.contains(words), "{what}: message {e:?} lacks {words:?}");
        if !what.starts_with("Opened") {
            assert_eq!(s.len(), n + usize::from(step), "{what}");
            // The machine is as it was: the same free pages and processes.
            let fresh = story_prefix(Preset::Xv6PublicTiny);
            assert_eq!(s.lab().kernel().kmem().nfree(), fresh.lab().kernel().kmem().nfree(), "{what}");
            assert_eq!(s.lab().kernel().procs().live().count(), fresh.lab().kernel().procs().live().count(), "{what}");
        }
        // And the lab still works.
        let s = call(s, Call::Sbrk("4096".into()));
        assert!(is_info(&s), "{what}: after it, {:?}", s.notice);
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
    let s = act(s, Action::Goto(21));
    let s = act(s, Action::SelectPid(4));
    let s = act(s, Action::SetAddress("0x4000".into()));
    let s = act(s, Action::SetAccess(AccessChoice::UserWrite));
    let s = act(s, Action::SelectFrame(Some(0x1000)));
    let f = s.fragment();
    let t = act(LabState::new(Preset::Xv6RiscvTiny), open_link(&format!("#{f}")));
    assert_eq!(t.notice, None);
    assert_eq!(t.scenario(), s.scenario());
    assert_eq!((t.current(), t.len()), (21, s.len()));
    assert_eq!(t.selection, s.selection);
    assert_eq!(t.fragment(), f);
    // A built-in is named, not spelt out, and an address that only follows
    // the step stays out of the link.
    let story = act(LabState::default(), Action::LoadBuiltin("story-x86".into()));
    let story = act(story, Action::Goto(7));
    assert_eq!(story.fragment(), "b=story-x86&step=7&pid=3");
    // A lab changed by the learner is spelt out, comments and all.
    let changed = call(story, Call::Fork);
    assert!(changed.fragment().starts_with("lab="));
    let back = act(LabState::default(), open_link(&changed.fragment()));
    assert_eq!(back.scenario(), changed.scenario());
    assert!(back.scenario_text().contains("# The child runs exec(\"echo\", argv)"));
}

#[test]
fn a_link_opened_from_the_address_bar_is_not_a_new_lab() {
    // A new lab from the menu or a built-in counts (the page keeps the lab
    // before it in the browser's history); a link reached with Back or
    // Forward, or pasted, does not: the page must not add an entry for it,
    // which would drop the entries after it.
    let s = LabState::default();
    let g0 = s.generation;
    let story = act(s, Action::LoadBuiltin("story-x86".into()));
    assert_eq!(story.generation, g0 + 1);
    let riscv = act(story, Action::NewLab(Preset::Xv6Riscv));
    assert_eq!(riscv.generation, g0 + 2);
    let back = act(riscv, open_link("#b=story-x86&step=7"));
    assert_eq!((back.current(), back.len(), back.generation), (7, 9, g0 + 2));
    let empty = act(back, open_link(""));
    assert_eq!((empty.len(), empty.generation), (1, g0 + 2));
    let bad = act(empty, open_link("#lab=AAAA"));
    assert!(error_of(&bad).contains("could not be opened"));
    assert_eq!(bad.generation, g0 + 2);
}

#[test]
fn a_link_names_a_pid_that_is_not_there_or_a_part_twice() {
    // story-riscv at step 7: pids 1, 2 and 3 (the child that exec'd echo).
    let t = LabState::opened(pagelab_web::link::decode("b=story-riscv&step=7&pid=77"));
    assert_eq!((t.len(), t.current(), t.selection.pid), (9, 7, Some(3)));
    assert!(info_of(&t).contains("no process 77 at step 7: the lab shows pid 3 instead"), "{}", info_of(&t));
    let t = LabState::opened(pagelab_web::link::decode("b=story-riscv&step=3&step=5"));
    assert!(error_of(&t).contains("gives its step= part twice, so it is not clear which"), "{}", error_of(&t));
}

#[test]
fn a_bad_link_over_an_open_lab_leaves_it_as_it_was() {
    let s = act(LabState::default(), Action::LoadBuiltin("story-riscv".into()));
    let s = act(s, Action::Goto(7));
    let t = act(s, open_link("#b=story-riscv&step=99"));
    let e = error_of(&t);
    assert!(e.contains("could not be opened") && e.contains("still here"), "{e}");
    assert_eq!((t.scenario().preset, t.len(), t.current()), (Preset::Xv6Riscv, 9, 7));
    assert!(t.link_refused, "the address bar keeps the link to mend");
    // Opening the page with it: there is no lab yet, so a clean one, of the
    // machine the link names (story-riscv's).
    let link = "b=story-riscv&step=99";
    let clean = pagelab_web::link::machine_named(link).unwrap_or(Preset::Xv6Public);
    let first = LabState::opened_or(pagelab_web::link::decode(link), clean);
    assert!(error_of(&first).contains("Here is a clean lab of xv6-riscv instead"), "{}", error_of(&first));
    assert_eq!((first.scenario().preset, first.len()), (Preset::Xv6Riscv, 1));
    // Without a machine to go by: xv6-public's.
    let first = LabState::opened(pagelab_web::link::decode("lab=***"));
    assert!(error_of(&first).contains("Here is a clean lab of xv6-public instead"), "{}", error_of(&first));
    assert_eq!((first.scenario().preset, first.len()), (Preset::Xv6Public, 1));
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
    let s = act(LabState::default(), Action::SetAddress("0x00403abc".into()));
    let s = act(s, Action::SetAddress("0x1_0000_0000".into()));
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
    // 5 steps to pid 3, openshmem + store + printf, 10 forks, 6 steps per child, 10 waits, read, close.
    assert_eq!(s.len(), 90);
    // Loading keeps a machine every 6 steps (90 steps, at most 16 copies).
    assert_eq!(s.cached_steps(), (0..90).step_by(6).collect::<Vec<_>>());
    let mut s = act(s, Action::Goto(90));
    for k in (0..90).rev() {
        s = act(s, Action::Back);
        assert_eq!(s.current(), k);
        assert!(s.cached_steps().len() <= 16, "{:?}", s.cached_steps());
    }
    // Step 89 is the parent's read: the tenth child stored 10 + 10 = 20.
    let s = act(s, Action::Goto(89));
    let last = s.step(90).unwrap();
    assert_eq!(last.result.value, 0);
    let read = s.step(89).unwrap();
    assert_eq!(read.result.bytes, vec![20]);
    // Step 21 (child 0 stored 11) is the same machine as a replay from boot.
    let s = act(s, Action::Goto(21));
    let fresh = s.full().prefix(21);
    assert_eq!(frames(s.lab().kernel()), frames(fresh.kernel()));
}

#[test]
fn the_story_is_told_step_by_step() {
    let s = act(LabState::default(), Action::LoadBuiltin("story-x86".into()));
    assert_eq!(s.current(), 0);
    // Step 0: the story's introduction; no process, so the kernel's table and a
    // kernel read of KERNLINK (0x80100000), where the kernel's text starts.
    assert!(s.narrative(0)[0].text.starts_with("The notes' story on xv6-public"));
    assert_eq!((s.selection.pid, s.selection.address), (None, Some(0x8010_0000)));
    assert_eq!(s.selection.access, AccessChoice::KernelRead);
    let says = |s: &LabState, k: usize| s.narrative(k).iter().any(|p| p.kind == ParagraphKind::NotesSay);
    // Every step the notes count has a "the notes say" line: where they differ
    // (page tables left out, frees at exit, no wait) and where they agree (sbrk's 8 pages).
    let differ: Vec<usize> = (1..=9).filter(|&k| says(&s, k)).collect();
    assert_eq!(differ, (1..=9).collect::<Vec<_>>());
    // Forward follows the step: the process it is about is chosen, the
    // address follows it.
    let mut s = s;
    for _ in 0..7 {
        s = act(s, Action::Forward);
    }
    assert_eq!(s.current(), 7);
    assert_eq!(s.selection.pid, Some(3));
    assert_eq!((s.selection.address, s.selection.access), (Some(0x2fcc), AccessChoice::UserRead));
    // The panels marked are those of the step shown.
    assert_eq!(s.changed_now(), s.changed(7));
    // fork (step 3) chooses the child.
    let s3 = act(s.clone(), Action::Goto(3));
    assert_eq!(s3.selection.pid, Some(2));
    // What step 6 (sbrk) changed: the processes (sz), pid 3's table, memory.
    let c = s.changed(6);
    assert!(c.procs && c.space && c.memory && !c.shm, "{c:?}");
    // exit (step 8) frees nothing: only the process table changes.
    let c = s.changed(8);
    assert!(c.procs && !c.memory, "{c:?}");
}

#[test]
fn next_defect_goes_through_the_notes_code() {
    let s = act(LabState::default(), Action::LoadBuiltin("shm-test-note".into()));
    // The note's fork copies the shared page (steps 9 to 18, one per child); its
    // closeshmem clears the entry without a flush (each child's 5th step,
    // 18 + 6i + 5, and the parent's, step 90).
    let mut want: Vec<usize> = (9..=18).collect();
    want.extend((0..10).map(|i| 18 + 6 * i + 5));
    want.push(90);
    assert_eq!(s.defects(), want.as_slice());
    let s = act(s, Action::NextDefect);
    assert_eq!(s.current(), 9);
    let s = act(s, Action::Goto(90));
    let s = act(s, Action::NextDefect);
    assert_eq!(s.current(), 9);
    assert!(info_of(&s).contains("back to the first one"));
    // pagelab's own shared memory has no DEFECT line.
    let s = act(s, Action::LoadBuiltin("shm-test".into()));
    assert!(s.defects().is_empty());
    let s = act(s, Action::NextDefect);
    assert!(error_of(&s).contains("no DEFECT line"));
}

#[test]
fn errors_sit_next_to_their_control_and_go_after_a_success() {
    let s = LabState::default();
    let s = act(s, Action::GotoFrame("0xfffffff0000".into()));
    assert_eq!(s.notice.as_ref().map(|n| (n.at, n.is_error())), Some((Where::Frames, true)));
    // The next thing that works clears it.
    let s = act(s, Action::GotoFrame("0x1000".into()));
    assert_eq!(s.notice, None);
    assert_eq!(s.selection.frame, Some(0x1000));
    // On x86 a kernel virtual address (as a free page's next pointer holds one) goes to its frame,
    // V2P: 0x8dffe123 − KERNBASE (0x80000000) = 0xdffe123, in frame 0xdffe000, and says so.
    let s = act(s, Action::GotoFrame("0x8dffe123".into()));
    assert_eq!(s.selection.frame, Some(0xdff_e000));
    assert!(s.notice.as_ref().is_some_and(|n| !n.is_error() && n.text.contains("V2P(0x8dffe123)")), "{:?}", s.notice);
    let s = act(s, Action::Forward);
    assert_eq!(s.notice.as_ref().map(|n| n.at), Some(Where::Steps));
    let s = act(s, Action::SetAddress("0x10".into()));
    assert_eq!(s.notice, None);
    let s = call(s, Call::Sbrk("x".into()));
    assert_eq!(s.notice.as_ref().map(|n| n.at), Some(Where::Form("sbrk")));
    let s = call(s, Call::Wait);
    assert_eq!(s.notice.as_ref().map(|n| n.at), Some(Where::Calls));
    let s = call(s, Call::Exec { path: "".into(), args: "".into() });
    assert_eq!(s.notice.as_ref().map(|n| n.at), Some(Where::Exec));
    // What an operation did stays while the learner looks around at that step.
    let s = call(s, Call::Fork);
    assert!(is_info(&s));
    let s = act(s, Action::SetAddress("0x20".into()));
    assert!(is_info(&s));
    // Plural words: one step or several.
    assert_eq!(dropped_text(8, 9), " Step 9 was dropped.");
    assert_eq!(dropped_text(3, 9), " Steps 4 to 9 were dropped.");
    assert_eq!(pagelab_web::present::drops_text(8, 9), "drops step 9");
    assert_eq!(pagelab_web::present::drops_text(3, 9), "drops steps 4 to 9");
    assert_eq!(dropped_text(9, 9), "");
}

#[test]
fn the_shared_pages_panel_is_marked_when_who_maps_them_changes() {
    let s = act(LabState::default(), Action::LoadBuiltin("shm-test".into()));
    // Step 6: openshmem; 9: the first fork shares the open page with the child; 19 and 23:
    // child 0's openshmem and closeshmem; 24: its exit; 90: the parent's closeshmem.
    for k in [6, 9, 19, 23, 24, 90] {
        let t = act(s.clone(), Action::Goto(k));
        assert!(t.changed_now().shm, "step {k}");
    }
    // Step 22 is a load (printf's): nothing about the shared page changes.
    assert!(!act(s.clone(), Action::Goto(22)).changed_now().shm);
    // The story never opens a shared page: its forks leave the panel alone.
    let s = act(LabState::default(), Action::LoadBuiltin("story-x86".into()));
    let t = act(s, Action::Goto(3));
    assert!(!t.changed_now().shm);
}

#[test]
fn the_what_if_switch_replays_the_timeline_without_growprocs_flush() {
    // tlb-noflush-x86 step 8: pid 2 stores at 0x1010 through the slot that
    // outlived sbrk(-4096): a hit, no fault, and the view follows the store.
    let s = act(LabState::default(), Action::LoadBuiltin("tlb-noflush-x86".into()));
    let s = act(s, Action::Goto(8));
    assert_eq!(s.selection.address, Some(0x1010));
    assert_eq!(s.selection.access, AccessChoice::UserWrite);
    let last = s.full().steps().last().unwrap();
    assert_eq!((last.result.error.is_none(), last.counts.tlb.hits), (true, 1));
    assert!(!s.changed_now().tlb, "a hit changes no slot");
    // Turn xv6's flush back on: every step is replayed, the lab stays at step 8,
    // and there the store faults (a miss, then the walk finds nothing).
    // Turn xv6's flush back on: every step is replayed. Now the first store
    // after sbrk(-4096) (step 6) misses, the walk finds nothing, and xv6
    // kills pid 2; its fork (step 7) cannot run, so the timeline ends at 6.
    let s = act(s, Action::SetNoFlush(false));
    assert_eq!((s.current(), s.len()), (6, 6));
    let info = info_of(&s);
    assert!(info.contains("with growproc's switchuvm") && info.contains("ends at step 6"), "{info}");
    assert!(!s.full().scenario().layout.noflush.growproc);
    let last = s.full().steps().last().unwrap();
    assert!(last.result.error.is_some());
    assert_eq!((last.counts.tlb.hits, last.counts.tlb.misses), (0, 1));
    // And the what-if again: the six steps replay without the flush, and the store hits.
    let s = act(s, Action::SetNoFlush(true));
    assert!(s.full().scenario().layout.noflush.growproc);
    assert_eq!(s.len(), 6);
    assert_eq!(s.full().steps().last().unwrap().counts.tlb.hits, 1);
}

#[test]
fn on_xv6_riscv_the_what_if_leaves_out_the_trampolines_sfence() {
    // tlb-riscv step 6: the store after sbrk(-4096) faults, because uservec
    // flushed the TLB before growproc ran (a miss, then the walk finds nothing).
    let s = act(LabState::default(), Action::LoadBuiltin("tlb-riscv".into()));
    let s = act(s, Action::Goto(6));
    let last = s.full().steps().last().unwrap();
    assert_eq!((last.result.error.is_some(), last.counts.tlb.misses), (true, 1));
    // Without the trampoline's sfence.vma, slot 0 survives sbrk and the store hits.
    let s = act(s, Action::SetNoFlush(true));
    assert!(s.full().scenario().layout.noflush.trampoline);
    assert_eq!(s.current(), 6);
    let last = s.full().steps().last().unwrap();
    assert_eq!((last.result.error.is_none(), last.counts.tlb.hits), (true, 1));
    assert!(info_of(&s).contains("without the trampoline's sfence.vma"));
    // The story's words were written with xv6's flushes: the link says so
    // (told=xv6), and the lab it opens knows it too, so the story warns.
    assert_eq!(s.narrative_flush, Some(SkipFlush::default()));
    let f = s.fragment();
    assert!(f.contains("&told=xv6"), "{f}");
    let back = act(LabState::default(), open_link(&f));
    assert_eq!(back.narrative_flush, Some(SkipFlush::default()));
    assert!(back.full().scenario().layout.noflush.trampoline);
    // Without the what-if there is nothing to tell.
    let plain = act(LabState::default(), Action::LoadBuiltin("tlb-riscv".into()));
    assert!(!plain.fragment().contains("told="));
    let bad = act(LabState::default(), open_link(&f.replace("told=xv6", "told=tlb")));
    assert!(error_of(&bad).contains("told part `tlb`"), "{}", error_of(&bad));
}

#[test]
fn choosing_a_cpu_is_a_step_and_a_missing_cpu_is_refused() {
    // tlb-smp-x86 step 9: pid 2 on CPU 0 stores through the slot that
    // outlived its sbrk(-4096), into the frame kalloc gave pid 1 on CPU 1.
    let s = act(LabState::default(), Action::LoadBuiltin("tlb-smp-x86".into()));
    let s = act(s, Action::Goto(9));
    let k = s.lab().kernel();
    assert_eq!((k.cpu(), k.running()), (0, &[Some(2), Some(1)][..]));
    let d = s.full().steps()[8]
        .events
        .iter()
        .any(|e| matches!(&e.event, Event::Defect { text } if text.contains("user page of pid 1")));
    assert!(d);
    // Choosing CPU 1 here drops the later steps and adds `cpu 1` as step 10.
    let t = act(s.clone(), Action::SetCpu(1));
    assert_eq!((t.len(), t.current()), (10, 10));
    assert_eq!(t.full().steps().last().unwrap().op, Op::Cpu { cpu: 1 });
    assert_eq!(t.lab().kernel().cpu(), 1);
    assert!(info_of(&t).contains("the next operations run on CPU 1; pid 1 is running there"), "{}", info_of(&t));
    assert!(t.changed_now().tlb, "the panel shows another CPU as the one operations run on");
    // xv6-public has two CPUs: CPU 2 is refused next to the TLB panel, and nothing changes.
    let u = act(t.clone(), Action::SetCpu(2));
    assert!(error_of(&u).contains("2 CPUs"), "{}", error_of(&u));
    assert_eq!(u.notice.as_ref().map(|n| n.at), Some(Where::Tlb));
    assert_eq!((u.len(), u.lab().kernel().cpu()), (10, 1));
}

#[test]
fn a_link_that_asks_for_too_much_work_is_refused_with_a_message() {
    // Ten pairs of sbrk(112 MiB) / sbrk(-112 MiB) run one by one in the lab
    // (each is bounded by RAM), then shared: opening that link would replay
    // about 580,000 frames of work, past WORK_BUDGET (250,000).
    let mut s = LabState::default();
    for _ in 0..10 {
        s = act(s, Action::Run(Op::Sbrk { pid: 1, n: 117_440_512 }));
        s = act(s, Action::Run(Op::Sbrk { pid: 1, n: -117_440_512 }));
    }
    assert_eq!(s.len(), 21);
    let f = s.fragment();
    assert!(f.len() < 200, "a short link: {f}");
    let before = act(LabState::default(), Action::LoadBuiltin("story-x86".into()));
    let t = act(before, open_link(&format!("#{f}")));
    let e = error_of(&t);
    assert!(e.contains("more than the 250000") && e.contains("pagelab run"), "{e}");
    // As for any link that cannot be opened over a lab: the lab stays as it was.
    assert_eq!((t.scenario().preset, t.len()), (Preset::Xv6Public, 9));
}

/// Running the real programs: init boots into sh, a typed line runs echo,
/// and the lab's timeline follows what they do, step by step.
#[test]
fn the_real_programs_run_and_the_timeline_follows_them() {
    use pagelab_core::lab::scenario::{STORY_RISCV, parse};
    use pagelab_web::run::RunCommand;
    let s = act(LabState::new(Preset::Xv6Riscv), Action::RunPrograms(RunCommand::Start));
    let view = s.run.as_ref().expect("running").view();
    assert_eq!(view.console, "\nxv6 kernel is booting\n\nhart 2 starting\nhart 1 starting\ninit: starting sh\n$ ");
    assert!(view.waiting_for_input);
    // init sleeps in wait, sh in read: the process table shows the running
    // machine's states (the lab's own machine knows only the operations).
    let states = s.run.as_ref().expect("running").proc_states();
    assert_eq!(states, [(1, "sleeping".to_string()), (2, "sleeping".to_string())]);
    // The lab's machine and the running one agree on every free frame.
    assert_eq!(s.full().kernel().kmem().nfree(), view.nfree);
    assert_eq!(s.current(), s.len());
    let s = act(s, Action::RunPrograms(RunCommand::Type("echo hello world".into())));
    let view = s.run.as_ref().expect("running").view();
    assert!(view.console.ends_with("$ echo hello world\nhello world\n$ "), "{}", view.console);
    assert_eq!(s.full().kernel().kmem().nfree(), view.nfree);
    // xv6-riscv runs sfence.vma twice in uservec and twice in userret: with
    // no timer tick, each system call is one trip in and one trip out (a
    // call that sleeps goes out into another process), so four a call.
    assert_eq!(view.counts.ticks, 0);
    assert_eq!(view.counts.tlb_flushes, 4 * view.counts.syscalls);
    // The timeline is the built-in story's, operation for operation.
    assert_eq!(s.full().scenario().ops, parse(STORY_RISCV).expect("the story").ops);
    assert!(info_of(&s).contains("type a line"), "{}", info_of(&s));
}

/// A command sh cannot find: its child's exec fails, and that is a step of
/// the timeline too (sys_exec took a page for the argument and gave it back),
/// between malloc's sbrk and the child's exit.
#[test]
fn a_failed_exec_of_the_programs_is_on_the_timeline() {
    use pagelab_web::run::RunCommand;
    let s = act(LabState::new(Preset::Xv6RiscvTiny), Action::RunPrograms(RunCommand::Start));
    let n = s.len();
    let s = act(s, Action::RunPrograms(RunCommand::Type("nosuchcmd".into())));
    let view = s.run.as_ref().expect("running").view();
    assert!(view.console.ends_with("$ nosuchcmd\nexec nosuchcmd failed\n$ "), "{}", view.console);
    let ops: Vec<Op> = s.full().scenario().ops[n..].to_vec();
    assert_eq!(
        ops,
        [
            Op::Fork { pid: 2 },
            Op::Sbrk { pid: 3, n: 65536 },
            Op::Exec { pid: 3, path: "nosuchcmd".into(), argv: vec![b"nosuchcmd".to_vec()] },
            Op::Exit { pid: 3 },
            Op::Wait { pid: 2 },
        ]
    );
    let exec = &s.full().steps()[n + 2];
    assert!(exec.result.error.is_some());
    assert_eq!((exec.counts.other_alloc, exec.counts.other_free), (1, 1), "one argument page, taken and given back");
    assert_eq!(s.full().kernel().kmem().nfree(), view.nfree);
}

/// A system call run by hand while the programs run makes the timeline no
/// longer theirs: they stop at once, and the message says so.
#[test]
fn a_call_by_hand_stops_the_programs_with_a_message() {
    use pagelab_web::run::RunCommand;
    let s = act(LabState::new(Preset::Xv6RiscvTiny), Action::RunPrograms(RunCommand::Start));
    let n = s.len();
    let s = act(s, Action::Run(Op::Fork { pid: 1 }));
    assert!(s.run.is_none());
    assert_eq!(s.len(), n + 1);
    assert!(info_of(&s).contains("The programs were stopped"), "{}", info_of(&s));
}

/// Back or Forward (a link opened) while the programs run: the link holds
/// their timeline, not the machine, and the page says the programs stopped.
#[test]
fn a_link_opened_while_programs_run_says_they_stopped() {
    use pagelab_web::run::RunCommand;
    let s = act(LabState::new(Preset::Xv6RiscvTiny), Action::RunPrograms(RunCommand::Start));
    let s = act(s, Action::RunPrograms(RunCommand::Type("echo one".into())));
    let link = s.fragment();
    let back = act(s, open_link("#b=story-riscv&step=0"));
    assert!(back.run.is_none());
    assert!(
        back.notice.as_ref().is_some_and(|n| n.at == Where::Page && n.text.contains("have stopped")),
        "{:?}",
        back.notice
    );
    // Forward: the run's own timeline, without the machine that made it.
    let fwd = act(back, open_link(&format!("#{link}")));
    assert!(fwd.run.is_none());
    // No programs were running when Forward came, so nothing is said of them.
    assert!(!fwd.notice.as_ref().is_some_and(|n| n.text.contains("have stopped")), "{:?}", fwd.notice);
    // A link opened with no run says nothing of programs either.
    let plain = act(LabState::new(Preset::Xv6RiscvTiny), open_link("#b=story-riscv&step=0"));
    assert!(!plain.notice.as_ref().is_some_and(|n| n.text.contains("have stopped")));
}

/// Type only, then step: the line waits in the console's buffer until the
/// learner steps; run to the next trap, one trap at a time, shows sh's read
/// returning each character, and its fork.
#[test]
fn a_line_typed_only_runs_trap_by_trap() {
    use pagelab_web::run::RunCommand;
    let s = act(LabState::new(Preset::Xv6RiscvTiny), Action::RunPrograms(RunCommand::Start));
    let n = s.len();
    let mut s = act(s, Action::RunPrograms(RunCommand::TypeOnly("echo hi".into())));
    assert_eq!(s.len(), n, "nothing ran");
    assert!(info_of(&s).contains("nothing has run yet"));
    // sh reads one byte a time (read(0, buf, 1)): 8 reads for "echo hi\n", then it forks.
    let mut trips = 0;
    while s.len() == n && trips < 20 {
        s = act(s, Action::RunPrograms(RunCommand::ToTrap));
        trips += 1;
    }
    assert_eq!(s.full().scenario().ops.last(), Some(&Op::Fork { pid: 2 }));
    assert_eq!(trips, 9, "7 characters and the newline read one at a time, then fork");
}

#[test]
fn a_changed_timeline_stops_the_run_and_x86_runs_its_own_programs() {
    use pagelab_web::run::RunCommand;
    let s = act(LabState::new(Preset::Xv6RiscvTiny), Action::RunPrograms(RunCommand::Start));
    let n = s.len();
    // The learner forks by hand: the timeline is no longer the run's, and
    // the programs stop at once.
    let s = call(s, Call::Fork);
    assert_eq!(s.len(), n + 1);
    assert!(s.run.is_none());
    assert!(info_of(&s).contains("The programs were stopped"), "{}", info_of(&s));
    let s = act(s, Action::RunPrograms(RunCommand::Type("echo hi".into())));
    assert!(error_of(&s).contains("no programs are running"), "{}", error_of(&s));
    assert_eq!(s.len(), n + 1);
    // xv6-public runs its programs on the x86 CPU: the timeline is the x86 story's.
    use pagelab_core::lab::scenario::{STORY_X86, parse};
    let x = act(LabState::new(Preset::Xv6Public), Action::RunPrograms(RunCommand::Start));
    let x = act(x, Action::RunPrograms(RunCommand::Type("echo hello world".into())));
    let view = x.run.as_ref().expect("running").view();
    assert!(view.console.ends_with("$ echo hello world\nhello world\n$ "), "{}", view.console);
    assert_eq!(x.full().scenario().ops, parse(STORY_X86).expect("the story").ops);
    assert_eq!(x.full().kernel().kmem().nfree(), view.nfree);
}

/// deep recurses until its stack reaches the guard page: the fault kills
/// it, and the lab shows the step of its exit with the faulting access in
/// the translate panel (the guard page's entry has no user bit).
#[test]
fn deep_faults_on_the_guard_page_and_the_lab_shows_that_access() {
    use pagelab_core::scheme::FaultKind;
    use pagelab_web::run::RunCommand;
    let s = act(LabState::new(Preset::Xv6Riscv), Action::RunPrograms(RunCommand::Start));
    let s = act(s, Action::RunPrograms(RunCommand::Type("deep".into())));
    let view = s.run.as_ref().expect("running").view();
    // exec gives deep one stack page (0x3000–0x3fff: its image takes the two
    // pages below the guard page at 0x2000). Each call takes 1056 bytes
    // (1 KiB and its saved registers): three fit below argv and main's frame.
    let depths: Vec<&str> = view.console.lines().filter(|l| l.starts_with("deep: depth")).collect();
    assert_eq!(depths.len(), 3, "{}", view.console);
    assert!(depths.iter().all(|l| l.contains("from 0x3")), "{depths:?}");
    // xv6-riscv's usertrap: a store page fault (scause 15) kills pid 3 (sh's child).
    assert!(view.console.contains("usertrap(): unexpected scause 0xf pid=3"), "{}", view.console);
    assert!(view.console.ends_with("$ "));
    // The lab shows the step where pid 3 exits, its store into the guard page
    // chosen. On the timeline that step is the store itself: replayed, it
    // faults and kills pid 3 the same way (a link keeps that, not an exit).
    assert_eq!((s.selection.pid, s.selection.access), (Some(3), AccessChoice::UserWrite));
    let va = s.selection.address.expect("an address");
    assert_eq!(s.full().scenario().ops.get(s.current() - 1), Some(&Op::Write { pid: 3, va, bytes: vec![0] }));
    let step = &s.full().steps()[s.current() - 1];
    assert!(step.result.error.is_some(), "the replayed store faults");
    assert!(s.full().kernel().procs().get(3).is_none_or(|p| p.state == pagelab_core::proc::ProcState::Zombie));
    assert_eq!(va & !0xfff, 0x2000);
    let t = s.lab().kernel().translate(Some(3), va, s.selection.access.access()).expect("pid 3 is there");
    let fault = t.outcome.expect_err("the guard page refuses the user");
    assert_eq!((fault.level, fault.kind), (Some(0), FaultKind::NotUser));
    assert_eq!(view.faults.len(), 1);
    assert!(
        info_of(&s)
            .contains(&format!("A fault killed pid 3: the translate panel shows the walk of its store at {va:#x}")),
        "{}",
        info_of(&s)
    );
}

#[test]
fn a_link_to_a_step_opens_with_what_that_step_changed() {
    // Step 3 of both stories is `fork 1`: a new process (the table) and its frames (memory).
    for (fragment, pid) in [("b=story-x86&step=3&pid=2", 2), ("b=story-riscv&step=3&pid=1", 1)] {
        let s = LabState::opened(pagelab_web::link::decode(fragment));
        assert_eq!(s.current(), 3, "{fragment}");
        assert!(s.changed_now().memory && s.changed_now().procs, "{fragment}: {:?}", s.changed_now());
        // The same as stepping there by hand.
        let before = LabState::opened(pagelab_web::link::decode(&fragment.replace("step=3", "step=2")));
        let by_hand = act(act(before, Action::Forward), Action::SelectPid(pid));
        assert_eq!(s.changed_now(), by_hand.changed_now(), "{fragment}");
    }
}

#[test]
fn a_refused_link_stays_in_the_address_bar_until_the_lab_changes() {
    let s = LabState::opened(Err("the link's lab data is damaged".into()));
    assert!(s.link_refused, "the page keeps the link it could not open");
    assert!(error_of(&s).contains("This link could not be opened: the link's lab data is damaged."));
    let s = call(s, Call::Fork);
    assert!(!s.link_refused, "a change writes the lab's own link");
    assert!(!LabState::opened(Ok(None)).link_refused);
}

/// An upload at the path of a file already there replaces it, and says so:
/// in place of the built-in program, then of the upload before it; a new
/// path is just added.
#[test]
fn an_upload_says_which_file_it_replaces() {
    use pagelab_core::programs::{RISCV_DEEP, RISCV_ECHO};
    let up =
        |s: LabState, name: &str, bytes: &[u8]| act(s, Action::Upload { name: name.into(), bytes: bytes.to_vec() });
    let s = up(LabState::new(Preset::Xv6RiscvTiny), "echo", RISCV_DEEP);
    assert!(info_of(&s).starts_with("/echo added in place of the built-in /echo ("), "{}", info_of(&s));
    let s = up(s, "echo", RISCV_ECHO);
    assert!(info_of(&s).starts_with("/echo added in place of the /echo ("), "{}", info_of(&s));
    let s = up(s, "mine", RISCV_ECHO);
    assert!(info_of(&s).starts_with("/mine added ("), "{}", info_of(&s));
}

/// A program the learner uploaded goes on the machine "Boot and run init"
/// starts: sh finds it by its path, and the timeline begins with the upload,
/// so that a link replays the run. (Here deep, uploaded as /mine: it runs
/// into its guard page as the built-in deep does.)
#[test]
fn an_uploaded_program_runs_under_sh() {
    use pagelab_core::programs::RISCV_DEEP;
    use pagelab_web::run::RunCommand;
    let s =
        act(LabState::new(Preset::Xv6RiscvTiny), Action::Upload { name: "mine".into(), bytes: RISCV_DEEP.to_vec() });
    let s = act(s, Action::RunPrograms(RunCommand::Start));
    let s = act(s, Action::RunPrograms(RunCommand::Type("mine".into())));
    let view = s.run.as_ref().expect("running").view();
    assert!(view.console.contains("usertrap(): unexpected scause 0xf pid=3"), "{}", view.console);
    let ops = &s.full().scenario().ops;
    assert_eq!(ops[0], Op::File { path: "/mine".into(), bytes: RISCV_DEEP.to_vec() });
    assert_eq!(ops[1], Op::Userinit);
    assert!(ops.iter().any(|o| matches!(o, Op::Exec { pid: 3, path, .. } if path == "mine")), "{ops:?}");
    // The run goes on following the timeline, and a link replays it all.
    let s = act(s, Action::RunPrograms(RunCommand::Type("echo hi".into())));
    assert!(s.run.as_ref().expect("still running").view().console.ends_with("hi\n$ "));
    let again = act(LabState::default(), open_link(&format!("#{}", s.fragment())));
    assert_eq!(again.full().scenario().ops, s.full().scenario().ops);
}

/// A program uploaded while the programs run goes on their machine too:
/// they go on (sh, asleep in read, takes the next line), the timeline gets
/// its file line at that point, and a link replays it all.
#[test]
fn an_upload_while_the_programs_run_joins_them() {
    use pagelab_core::programs::RISCV_ECHO;
    use pagelab_web::run::RunCommand;
    let s = act(LabState::new(Preset::Xv6RiscvTiny), Action::RunPrograms(RunCommand::Start));
    let n = s.len();
    let s = act(s, Action::Upload { name: "shout".into(), bytes: RISCV_ECHO.to_vec() });
    assert!(s.run.is_some(), "the programs go on: {:?}", s.notice);
    assert!(info_of(&s).contains("on the running machine too"), "{}", info_of(&s));
    assert_eq!(s.len(), n + 1);
    assert_eq!(s.full().scenario().ops[n], Op::File { path: "/shout".into(), bytes: RISCV_ECHO.to_vec() });
    let s = act(s, Action::RunPrograms(RunCommand::Type("shout hello".into())));
    let view = s.run.as_ref().expect("still running").view();
    assert!(view.console.ends_with("$ shout hello\nhello\n$ "), "{}", view.console);
    assert_eq!(s.full().kernel().kmem().nfree(), view.nfree);
    let again = act(LabState::default(), open_link(&format!("#{}", s.fragment())));
    assert_eq!(again.full().scenario().ops, s.full().scenario().ops);
}

/// ^D at sh's prompt: its read returns nothing, sh exits (status 0), init's
/// wait returns it and init starts a new sh (fork, exec), which prompts.
#[test]
fn end_of_input_ends_sh_and_init_starts_another() {
    use pagelab_web::run::RunCommand;
    let s = act(LabState::new(Preset::Xv6RiscvTiny), Action::RunPrograms(RunCommand::Start));
    let n = s.len();
    let s = act(s, Action::RunPrograms(RunCommand::EndOfInput));
    let view = s.run.as_ref().expect("running").view();
    // The kernel's boot messages once; init starts sh twice.
    assert_eq!(
        view.console,
        "\nxv6 kernel is booting\n\nhart 2 starting\nhart 1 starting\ninit: starting sh\n$ init: starting sh\n$ ",
        "{}",
        view.console
    );
    let ops = s.full().scenario().ops[n..].to_vec();
    assert_eq!(
        ops,
        [
            Op::Exit { pid: 2 },
            Op::Wait { pid: 1 },
            Op::Fork { pid: 1 },
            Op::Exec { pid: 3, path: "sh".into(), argv: vec![b"sh".to_vec()] },
        ]
    );
    assert_eq!(s.full().kernel().kmem().nfree(), view.nfree);
}

/// A program that never lets every process wait (here echo uploaded as /sh:
/// init starts it, it exits at once, init starts another, for ever) stops
/// each command after MAX_RUN_OPS operations on the timeline, and says so;
/// Run goes on from there.
#[test]
fn programs_that_never_wait_stop_after_a_bounded_number_of_steps() {
    use pagelab_core::programs::RISCV_ECHO;
    use pagelab_web::run::{MAX_RUN_OPS, RunCommand};
    let s = act(LabState::new(Preset::Xv6RiscvTiny), Action::Upload { name: "sh".into(), bytes: RISCV_ECHO.to_vec() });
    let s = act(s, Action::RunPrograms(RunCommand::Start));
    // The upload and userinit (made as the machine boots), then MAX_RUN_OPS operations of the programs.
    let n = s.len();
    assert_eq!(n, MAX_RUN_OPS + 2);
    assert!(info_of(&s).contains(&format!("Stopped after {MAX_RUN_OPS} operations")), "{}", info_of(&s));
    // init forks, the child execs /sh (echo, which prints nothing) and exits, init reaps it: again and again.
    let ops = &s.full().scenario().ops;
    assert!(ops.iter().filter(|o| matches!(o, Op::Exec { path, .. } if path == "sh")).count() > 10);
    let s = act(s, Action::RunPrograms(RunCommand::Run));
    assert_eq!(s.len(), n + MAX_RUN_OPS);
}
