//! exec: the stack words for several argument lists, the guard page, and
//! every way exec can fail, each leaving the process as it was. Expected
//! stacks are worked out by hand from xv6's exec (see the comments).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use pagelab_core::addr::PGSIZE;
use pagelab_core::lab::view::{StackRole, audit, stack_words};
use pagelab_core::lab::{Lab, Op, Preset};
use pagelab_core::port::{ExecError, SegmentProblem, SysError};
use pagelab_core::programs;
use pagelab_core::scheme::{Access, FaultKind};
use pagelab_core::shm::ShmMode;

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// A lab where pid 3 is a child of sh, ready to exec.
fn ready(preset: Preset) -> Lab {
    let mut lab = Lab::new(preset, ShmMode::Lab);
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

fn exec(lab: &mut Lab, pid: u32, path: &str, argv: Vec<Vec<u8>>) -> Result<i64, SysError> {
    let step = lab.apply(Op::Exec { pid, path: path.into(), argv }).unwrap();
    match &step.result.error {
        None => Ok(step.result.value),
        Some(e) => Err(e.clone()),
    }
}

fn values(lab: &Lab, pid: u32) -> Vec<(u64, u64)> {
    stack_words(lab.kernel(), pid).iter().map(|w| (w.va, w.value)).collect()
}

#[test]
fn x86_stack_with_no_arguments() {
    let mut lab = ready(Preset::Xv6PublicTiny);
    exec(&mut lab, 3, "/echo", vec![]).unwrap();
    // echo is one page, so the guard is 0x1000, the stack 0x2000, sp starts at 0x3000.
    // ustack = {0xffffffff, argc 0, argv = 0x3000 - 4, NULL}; sp = 0x3000 - 16.
    assert_eq!(values(&lab, 3), vec![(0x2ff0, 0xffff_ffff), (0x2ff4, 0), (0x2ff8, 0x2ffc), (0x2ffc, 0)]);
    let p = lab.kernel().procs().get(3).unwrap();
    assert_eq!((p.sz, p.regs.sp, p.regs.pc), (0x3000, 0x2ff0, programs_entry_x86()));
}

fn programs_entry_x86() -> u64 {
    // The entry point read from echo's ELF header (e_entry, bytes 24..28).
    u64::from(u32::from_le_bytes(programs::X86_ECHO[24..28].try_into().unwrap()))
}

#[test]
fn x86_stack_for_echo_hello_world() {
    let mut lab = ready(Preset::Xv6PublicTiny);
    exec(&mut lab, 3, "echo", words(&["echo", "hello", "world"])).unwrap();
    // "echo\0" (5): (0x3000 - 5) & ~3 = 0x2ff8; "hello\0" (6): 0x2ff2 & ~3 = 0x2ff0;
    // "world\0" (6): 0x2fea & ~3 = 0x2fe8. ustack[2] = 0x2fe8 - 4*4 = 0x2fd8;
    // sp = 0x2fe8 - (3 + 3 + 1) * 4 = 0x2fcc.
    let want = vec![
        (0x2fcc, 0xffff_ffff),
        (0x2fd0, 3),
        (0x2fd4, 0x2fd8),
        (0x2fd8, 0x2ff8),
        (0x2fdc, 0x2ff0),
        (0x2fe0, 0x2fe8),
        (0x2fe4, 0),
        (0x2fe8, u64::from(u32::from_le_bytes(*b"worl"))),
        (0x2fec, u64::from(u32::from_le_bytes(*b"d\0\0\0"))),
        (0x2ff0, u64::from(u32::from_le_bytes(*b"hell"))),
        (0x2ff4, u64::from(u32::from_le_bytes(*b"o\0\0\0"))),
        (0x2ff8, u64::from(u32::from_le_bytes(*b"echo"))),
        (0x2ffc, 0),
    ];
    assert_eq!(values(&lab, 3), want);
    let roles: Vec<StackRole> = stack_words(lab.kernel(), 3).into_iter().map(|w| w.role).collect();
    assert_eq!(roles[0], StackRole::FakeReturnPc);
    assert_eq!(roles[1], StackRole::Argc);
    assert_eq!(roles[2], StackRole::ArgvPointer);
    assert_eq!(roles[5], StackRole::Argv { index: 2 });
    assert_eq!(roles[6], StackRole::ArgvEnd);
    assert_eq!(roles[8], StackRole::Text { index: 2, text: "d\\0".into(), padding: 2 });
    assert_eq!(roles[12], StackRole::Text { index: 0, text: "\\0".into(), padding: 3 });
    assert!(stack_words(lab.kernel(), 3)[0].sp);
}

#[test]
fn x86_stack_with_lengths_not_a_multiple_of_four() {
    let mut lab = ready(Preset::Xv6PublicTiny);
    exec(&mut lab, 3, "echo", words(&["a", "bcdefgh"])).unwrap();
    // "a\0": (0x3000 - 2) & ~3 = 0x2ffc; "bcdefgh\0" (8): 0x2ff4.
    // argv = 0x2ff4 - 3*4 = 0x2fe8; sp = 0x2ff4 - 6*4 = 0x2fdc.
    let want = vec![
        (0x2fdc, 0xffff_ffff),
        (0x2fe0, 2),
        (0x2fe4, 0x2fe8),
        (0x2fe8, 0x2ffc),
        (0x2fec, 0x2ff4),
        (0x2ff0, 0),
        (0x2ff4, u64::from(u32::from_le_bytes(*b"bcde"))),
        (0x2ff8, u64::from(u32::from_le_bytes(*b"fgh\0"))),
        (0x2ffc, u64::from(u32::from_le_bytes(*b"a\0\0\0"))),
    ];
    assert_eq!(values(&lab, 3), want);
}

#[test]
fn riscv_stack_for_echo_hello_world() {
    let mut lab = ready(Preset::Xv6RiscvTiny);
    assert_eq!(exec(&mut lab, 3, "echo", words(&["echo", "hello", "world"])), Ok(3));
    // xv6-riscv's echo is a text page at 0 (R-X) and a data page at 0x1000 (RW), so
    // uvmalloc's stack pages are the guard at 0x2000 and the stack at 0x3000: sp = 0x4000.
    // "echo\0": 0x3ffb, down to a multiple of 16: 0x3ff0; "hello\0": 0x3fea -> 0x3fe0;
    // "world\0": 0x3fda -> 0x3fd0; the pointer array (4 * 8 bytes): 0x3fd0 - 32 = 0x3fb0.
    let le = |b: &[u8]| {
        let mut a = [0u8; 8];
        a[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(a)
    };
    let want = vec![
        (0x3fb0, 0x3ff0),
        (0x3fb8, 0x3fe0),
        (0x3fc0, 0x3fd0),
        (0x3fc8, 0),
        (0x3fd0, le(b"world")),
        (0x3fd8, 0),
        (0x3fe0, le(b"hello")),
        (0x3fe8, 0),
        (0x3ff0, le(b"echo")),
        (0x3ff8, 0),
    ];
    assert_eq!(values(&lab, 3), want);
    let p = lab.kernel().procs().get(3).unwrap();
    // main(argc, argv): a0 = argc, a1 = sp; sz = 4 pages.
    assert_eq!((p.regs.a0, p.regs.a1, p.regs.sp, p.sz), (3, 0x3fb0, 0x3fb0, 0x4000));
}

#[test]
fn the_guard_page_is_present_without_the_user_bit() {
    // echo's image: x86, one RWX page, so the guard is at 0x1000 and the stack at 0x2000;
    // RISC-V, a text and a data page, so the guard is at 0x2000 and the stack at 0x3000.
    for (preset, guard) in [(Preset::Xv6PublicTiny, 0x1000u64), (Preset::Xv6RiscvTiny, 0x2000)] {
        let mut lab = ready(preset);
        exec(&mut lab, 3, "echo", words(&["echo"])).unwrap();
        let k = lab.kernel();
        let user = k.translate(Some(3), guard + 0xff8, Access::USER_READ).unwrap();
        assert_eq!(user.outcome.unwrap_err().kind, FaultKind::NotUser, "{preset}");
        let stack = k.translate(Some(3), guard + PGSIZE + 0xff8, Access::USER_WRITE).unwrap();
        assert!(stack.outcome.is_ok(), "{preset}");
        // A user store into the guard page faults and xv6 kills the process.
        let step = lab.apply(Op::Write { pid: 3, va: guard + 0xffc, bytes: vec![1] }).unwrap();
        assert!(matches!(step.result.error, Some(SysError::Access(_))), "{preset}");
        let p = lab.kernel().procs().get(3).unwrap();
        assert_eq!(p.state, pagelab_core::proc::ProcState::Zombie);
    }
}

fn free_and_step(lab: &mut Lab, op: Op) -> (u64, u64, SysError) {
    let before = lab.kernel().kmem().nfree();
    let step = lab.apply(op).unwrap();
    let err = step.result.error.clone().expect("the call fails");
    assert_eq!(step.counts.allocated(), step.counts.freed(), "everything taken is given back");
    assert!(audit(lab.kernel()).is_empty(), "{:?}", audit(lab.kernel()));
    (before, lab.kernel().kmem().nfree(), err)
}

/// A test of the error exec returned.
type Check = Box<dyn Fn(&ExecError) -> bool>;

#[test]
fn failed_exec_leaves_the_process_as_it_was() {
    for preset in [Preset::Xv6PublicTiny, Preset::Xv6RiscvTiny] {
        let mut lab = ready(preset);
        let before = lab.kernel().procs().get(3).unwrap().clone();
        let x86 = preset == Preset::Xv6PublicTiny;
        let ours: &[u8] = if x86 { programs::X86_ECHO } else { programs::RISCV_ECHO };
        let other: &[u8] = if x86 { programs::RISCV_ECHO } else { programs::X86_ECHO };
        // Program headers start at e_phoff; patch the first one.
        let phoff = if x86 {
            u32::from_le_bytes(ours[28..32].try_into().unwrap()) as usize
        } else {
            u64::from_le_bytes(ours[32..40].try_into().unwrap()) as usize
        };
        let (filesz_at, memsz_at, vaddr_at, off_at) = if x86 {
            (phoff + 16, phoff + 20, phoff + 8, phoff + 4)
        } else {
            (phoff + 32, phoff + 40, phoff + 16, phoff + 8)
        };
        let patch = |at: usize, v: u64| {
            let mut f = ours.to_vec();
            if x86 {
                f[at..at + 4].copy_from_slice(&(v as u32).to_le_bytes());
            } else {
                f[at..at + 8].copy_from_slice(&v.to_le_bytes());
            }
            f
        };
        let cases: Vec<(Vec<u8>, Check)> = vec![
            (b"#!/bin/sh\necho hi\n".repeat(4), Box::new(|e| matches!(e, ExecError::Elf { .. }))),
            (ours[..20].to_vec(), Box::new(|e| matches!(e, ExecError::Elf { .. }))),
            (other.to_vec(), Box::new(|e| matches!(e, ExecError::Elf { .. }))),
            (
                patch(memsz_at, 0),
                Box::new(|e| matches!(e, ExecError::Segment { problem: SegmentProblem::MemszBelowFilesz, .. })),
            ),
            (
                {
                    // Nothing to load and nothing to map, at 0: allocuvm/uvmalloc returns
                    // the new size 0, which exec reads as its failure.
                    let mut f = patch(memsz_at, 0);
                    let g = patch(filesz_at, 0);
                    let w = if x86 { 4 } else { 8 };
                    f[filesz_at..filesz_at + w].copy_from_slice(&g[filesz_at..filesz_at + w]);
                    f
                },
                Box::new(|e| matches!(e, ExecError::Segment { problem: SegmentProblem::EndsAtZero, .. })),
            ),
            (
                patch(vaddr_at, 0x10),
                Box::new(|e| matches!(e, ExecError::Segment { problem: SegmentProblem::NotPageAligned, .. })),
            ),
            (
                patch(off_at, 0x10_0000),
                Box::new(|e| matches!(e, ExecError::Segment { problem: SegmentProblem::BeyondFile, .. })),
            ),
            (
                {
                    // One byte short of the segment's end: readi returns less than asked.
                    let rd = |at: usize| {
                        if x86 {
                            u64::from(u32::from_le_bytes(ours[at..at + 4].try_into().unwrap()))
                        } else {
                            u64::from_le_bytes(ours[at..at + 8].try_into().unwrap())
                        }
                    };
                    let end = rd(off_at) + rd(filesz_at);
                    ours[..end as usize - 1].to_vec()
                },
                Box::new(|e| matches!(e, ExecError::Segment { problem: SegmentProblem::BeyondFile, .. })),
            ),
        ];
        for (i, (file, ok)) in cases.into_iter().enumerate() {
            let path = format!("/bad{i}");
            lab.apply(Op::File { path: path.clone(), bytes: file }).unwrap();
            let (b, a, err) = free_and_step(&mut lab, Op::Exec { pid: 3, path, argv: words(&["bad"]) });
            assert_eq!(b, a, "{preset} case {i}");
            match err {
                SysError::Exec(e) => assert!(ok(&e), "{preset} case {i}: {e:?}"),
                e => panic!("{preset} case {i}: {e:?}"),
            }
            assert_eq!(lab.kernel().procs().get(3).unwrap(), &before, "{preset} case {i}");
        }
        let (b, a, err) = free_and_step(&mut lab, Op::Exec { pid: 3, path: "/nosuch".into(), argv: vec![] });
        assert_eq!(b, a);
        assert!(matches!(err, SysError::Exec(ExecError::NotFound { .. })));
    }
}

#[test]
fn too_many_and_too_long_arguments() {
    for preset in [Preset::Xv6PublicTiny, Preset::Xv6RiscvTiny] {
        let mut lab = ready(preset);
        // sys_exec takes MAXARG - 1 = 31 arguments.
        let many: Vec<Vec<u8>> = (0..32).map(|i| format!("a{i}").into_bytes()).collect();
        let (b, a, err) = free_and_step(&mut lab, Op::Exec { pid: 3, path: "echo".into(), argv: many.clone() });
        assert_eq!(b, a);
        assert_eq!(err, SysError::Exec(ExecError::TooManyArgs { given: 32, max: 31 }));
        assert_eq!(exec(&mut lab, 3, "echo", many[..31].to_vec()).map(|_| ()), Ok(()), "{preset}");
        lab.apply(Op::Exit { pid: 3 }).unwrap();
        lab.apply(Op::Wait { pid: 2 }).unwrap();
        lab.apply(Op::Fork { pid: 2 }).unwrap();
        // Arguments that do not fit in the stack page.
        let big = vec![vec![b'x'; 3000], vec![b'y'; 3000]];
        let (b, a, err) = free_and_step(&mut lab, Op::Exec { pid: 4, path: "echo".into(), argv: big });
        assert_eq!(b, a);
        assert_eq!(err, SysError::Exec(ExecError::StackOverflow), "{preset}");
        if preset == Preset::Xv6RiscvTiny {
            // fetchstr copies at most a page.
            let (b, a, err) =
                free_and_step(&mut lab, Op::Exec { pid: 4, path: "echo".into(), argv: vec![vec![b'z'; 4096]] });
            assert_eq!(b, a);
            assert_eq!(err, SysError::Exec(ExecError::ArgTooLong { index: 0, len: 4096 }));
        }
    }
}

#[test]
fn running_out_of_memory_anywhere_in_exec_or_fork_is_undone() {
    let exec = || Op::Exec { pid: 3, path: "echo".into(), argv: words(&["echo", "x"]) };
    for preset in [Preset::Xv6PublicTiny, Preset::Xv6RiscvTiny] {
        // How many pages each call takes when memory is plenty: with `failalloc n`, the kalloc after the first n
        // fails, so the call must fail for every n below that count and succeed from it on.
        let takes = |op: Op| {
            let mut lab = ready(preset);
            let s = lab.apply(op).unwrap();
            assert!(s.result.error.is_none());
            s.counts.allocated()
        };
        let (exec_pages, fork_pages) = (takes(exec()), takes(Op::Fork { pid: 3 }));
        assert!(exec_pages >= 4 && fork_pages >= 4, "{preset}: exec takes {exec_pages}, fork {fork_pages}");
        for n in 0..=exec_pages.max(fork_pages) + 1 {
            let mut lab = ready(preset);
            let free = lab.kernel().kmem().nfree();
            lab.apply(Op::FailAlloc { after: Some(n) }).unwrap();
            let step = lab.apply(exec()).unwrap();
            if n < exec_pages {
                // xv6-riscv's sys_exec first copies each of the 2 arguments into a page of its own: a kalloc
                // failing there is before exec runs.
                let want = if preset == Preset::Xv6RiscvTiny && n < 2 {
                    ExecError::NoArgPage { index: n as usize }
                } else {
                    ExecError::OutOfMemory
                };
                assert_eq!(step.result.error, Some(SysError::Exec(want)), "{preset} n={n}");
                assert_eq!(lab.kernel().kmem().nfree(), free, "{preset} n={n}");
            } else {
                assert_eq!(step.result.error, None, "{preset} n={n}: exec takes {exec_pages} pages");
            }
            assert!(audit(lab.kernel()).is_empty(), "{preset} n={n}: {:?}", audit(lab.kernel()));
            let mut lab = ready(preset);
            let free = lab.kernel().kmem().nfree();
            lab.apply(Op::FailAlloc { after: Some(n) }).unwrap();
            let step = lab.apply(Op::Fork { pid: 3 }).unwrap();
            if n < fork_pages {
                assert_eq!(step.result.value, -1, "{preset} fork n={n}");
                assert_eq!(lab.kernel().kmem().nfree(), free, "{preset} fork n={n}");
            } else {
                assert_eq!(step.result.error, None, "{preset} fork n={n}: fork takes {fork_pages} pages");
            }
            assert!(audit(lab.kernel()).is_empty(), "{preset} fork n={n}: {:?}", audit(lab.kernel()));
            let mut lab = ready(preset);
            lab.apply(Op::FailAlloc { after: Some(n) }).unwrap();
            let step = lab.apply(Op::Sbrk { pid: 3, n: 20 * PGSIZE as i64 }).unwrap();
            // 20 heap pages and at most one new page table: short of n + 1 pages, sbrk fails and gives back
            // what it took.
            if n < 20 {
                assert_eq!(step.result.value, -1, "{preset} sbrk n={n}");
                assert_eq!(step.counts.allocated(), step.counts.freed(), "{preset} sbrk n={n}");
            } else if n > 21 {
                assert_eq!(step.result.error, None, "{preset} sbrk n={n}");
            }
            assert!(audit(lab.kernel()).is_empty(), "{preset} sbrk n={n}: {:?}", audit(lab.kernel()));
        }
    }
}

#[test]
fn fork_copies_every_page_into_new_frames() {
    // pid 3 is sh's child. x86: 4 pages (sh's 2, guard, stack), the stack at 0x3000;
    // RISC-V: 5 pages (sh's 2 text pages and its data page, guard, stack), the stack at 0x4000.
    for (preset, pages) in [(Preset::Xv6PublicTiny, 4u64), (Preset::Xv6RiscvTiny, 5)] {
        let mut lab = ready(preset);
        let word = (pages - 1) * PGSIZE + 0xff0;
        lab.apply(Op::Write { pid: 3, va: word, bytes: b"parent".to_vec() }).unwrap();
        let child = lab.apply(Op::Fork { pid: 3 }).unwrap().result.value as u32;
        let k = lab.kernel();
        for va in (0..pages).map(|i| i * PGSIZE) {
            let a = k.translate(Some(3), va, Access::KERNEL_READ).unwrap();
            let b = k.translate(Some(child), va, Access::KERNEL_READ).unwrap();
            // Compare the leaf entries: same flags, different frames, same bytes.
            let (ea, eb) = (a.steps.last().unwrap().entry, b.steps.last().unwrap().entry);
            assert_eq!(ea & 0x3ff, eb & 0x3ff, "{preset} {va:#x}");
            let (fa, fb) = (a.steps.last().unwrap().points_to.as_u64(), b.steps.last().unwrap().points_to.as_u64());
            assert_ne!(fa, fb, "{preset} {va:#x}");
            let mut pa = vec![0u8; PGSIZE as usize];
            let mut pb = vec![0u8; PGSIZE as usize];
            k.mem().read(fa, &mut pa).unwrap();
            k.mem().read(fb, &mut pb).unwrap();
            assert_eq!(pa, pb, "{preset} {va:#x}");
        }
        // A write in the child is not seen by the parent.
        lab.apply(Op::Write { pid: child, va: word, bytes: b"child!".to_vec() }).unwrap();
        let s = lab.apply(Op::Read { pid: 3, va: word, len: 6 }).unwrap();
        assert_eq!(s.result.bytes, b"parent");
        let s = lab.apply(Op::Read { pid: child, va: word, len: 6 }).unwrap();
        assert_eq!(s.result.bytes, b"child!");
    }
}

#[test]
fn addresses_out_of_range_fault() {
    let mut lab = ready(Preset::Xv6PublicTiny);
    // Beyond 32 bits on x86: the walk cannot even start.
    let t = lab.kernel().translate(Some(3), 1 << 32, Access::USER_READ).unwrap();
    assert_eq!(t.outcome.unwrap_err().kind, FaultKind::BadAddress);
    // A kernel address from user mode: present, but no user bit.
    let t = lab.kernel().translate(Some(3), 0x8010_0000, Access::USER_READ).unwrap();
    assert_eq!(t.outcome.unwrap_err().kind, FaultKind::NotUser);
    // Reading it kills the process (a page fault in user mode).
    let s = lab.apply(Op::Read { pid: 3, va: 0x8010_0000, len: 1 }).unwrap();
    assert!(matches!(s.result.error, Some(SysError::Access(_))));
    let mut lab = ready(Preset::Xv6RiscvTiny);
    let t = lab.kernel().translate(Some(3), 1 << 40, Access::USER_READ).unwrap();
    assert_eq!(t.outcome.unwrap_err().kind, FaultKind::BadAddress);
    let s = lab.apply(Op::Write { pid: 3, va: u64::MAX, bytes: vec![1] }).unwrap();
    assert!(matches!(s.result.error, Some(SysError::Access(_))));
    assert!(audit(lab.kernel()).is_empty());
}

#[test]
fn a_fetch_needs_the_user_bit_and_on_riscv_the_execute_bit() {
    // pid 3 (sh's child) on x86: sh's 2 pages in one RWX segment, the
    // guard page at 0x2000, the stack at 0x3000. 32-bit paging has no
    // execute bit: the stack runs, the guard page (no PTE_U) faults.
    // On RISC-V: text at 0 and 0x1000 (R-X), data at 0x2000 (RW-), guard
    // at 0x3000, stack at 0x4000 (RW-): only the text runs.
    for (preset, runs, faults) in [
        (Preset::Xv6PublicTiny, vec![0, 0x1ffc, 0x3000], vec![(0x2000, FaultKind::NotUser)]),
        (
            Preset::Xv6RiscvTiny,
            vec![0, 0x1000],
            vec![(0x2000, FaultKind::NotExecutable), (0x3000, FaultKind::NotUser), (0x4000, FaultKind::NotExecutable)],
        ),
    ] {
        let mut lab = ready(preset);
        for va in runs {
            let s = lab.apply(Op::Fetch { pid: 3, va }).unwrap();
            assert_eq!(s.result.error, None, "{preset} {va:#x}");
        }
        for (va, kind) in faults {
            let mut lab = ready(preset);
            let free = lab.kernel().kmem().nfree();
            let s = lab.apply(Op::Fetch { pid: 3, va }).unwrap();
            match &s.result.error {
                Some(SysError::Access(a)) => assert_eq!((a.fault.kind, a.va), (kind, va), "{preset} {va:#x}"),
                e => panic!("{preset} {va:#x}: {e:?}"),
            }
            // Killed: a zombie that keeps its memory until sh waits. The fault
            // is at the address jumped to, so the trap's eip (sepc) is it.
            assert_eq!(lab.kernel().procs().get(3).unwrap().state, pagelab_core::proc::ProcState::Zombie);
            assert_eq!(lab.kernel().procs().get(3).unwrap().regs.pc, va, "{preset}");
            assert_eq!(lab.kernel().kmem().nfree(), free);
            lab.apply(Op::Wait { pid: 2 }).unwrap();
            assert!(audit(lab.kernel()).is_empty(), "{:?}", audit(lab.kernel()));
        }
    }
}

#[test]
fn a_pipe_is_a_page_from_kalloc_until_pipeclose() {
    for preset in [Preset::Xv6PublicTiny, Preset::Xv6RiscvTiny] {
        let mut lab = ready(preset);
        let free = lab.kernel().kmem().nfree();
        // kalloc hands out the head of the free list: the pipe's page is it.
        let head = lab.kernel().kmem().head().unwrap();
        let s = lab.apply(Op::Pipe { pid: 3 }).unwrap();
        assert_eq!((s.result.value, s.nfree), (0, free - 1), "{preset}");
        assert_eq!(lab.kernel().kmem().owner(head), Some(pagelab_core::trace::Owner::Pipe { id: 0 }));
        assert!(audit(lab.kernel()).is_empty(), "{:?}", audit(lab.kernel()));
        // The lowest free number each time.
        assert_eq!(lab.apply(Op::Pipe { pid: 2 }).unwrap().result.value, 1);
        lab.apply(Op::PipeClose { pid: 3, id: 0 }).unwrap();
        assert_eq!(lab.apply(Op::Pipe { pid: 3 }).unwrap().result.value, 0);
        assert!(lab.apply(Op::PipeClose { pid: 3, id: 7 }).is_err(), "{preset}: no pipe 7");
        for id in [0, 1] {
            lab.apply(Op::PipeClose { pid: 3, id }).unwrap();
        }
        assert_eq!(lab.kernel().kmem().nfree(), free, "{preset}");
        assert!(audit(lab.kernel()).is_empty(), "{:?}", audit(lab.kernel()));
    }
}
