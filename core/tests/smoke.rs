#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
use pagelab_core::lab::{Lab, Op, Preset};
use pagelab_core::port::Port;
use pagelab_core::shm::ShmMode;

/// The story's operations on every preset: each returns what xv6's system
/// call returns, the machine stays consistent after each, and the shell's
/// child gives back every page it took.
#[test]
fn smoke() {
    for preset in Preset::ALL {
        let mut lab = Lab::new(preset, ShmMode::Lab);
        // sh's size after exec: its program pages, the guard page and the stack page. xv6-public's sh links to
        // two pages (one RWX segment); xv6-riscv's has two text pages and one data page.
        let riscv = preset.port() == Port::Xv6Riscv;
        let sh_sz: i64 = if riscv { 0x5000 } else { 0x4000 };
        // exec's return: xv6-public's exec.c ends with `return 0`; xv6-riscv's returns argc (it lands in a0,
        // main's first argument).
        let argc = |n: i64| if riscv { n } else { 0 };
        let ops: Vec<(Op, i64)> = vec![
            (Op::Userinit, 1),
            (Op::Exec { pid: 1, path: "/init".into(), argv: vec![b"/init".to_vec()] }, argc(1)),
            // fork returns the child's pid in the parent: the next pid.
            (Op::Fork { pid: 1 }, 2),
            (Op::Exec { pid: 2, path: "sh".into(), argv: vec![b"sh".to_vec()] }, argc(1)),
            (Op::Fork { pid: 2 }, 3),
            // sbrk returns the old size: the child's copy of sh's.
            (Op::Sbrk { pid: 3, n: 32768 }, sh_sz),
            (
                Op::Exec {
                    pid: 3,
                    path: "echo".into(),
                    argv: vec![b"echo".to_vec(), b"hello".to_vec(), b"world".to_vec()],
                },
                argc(3),
            ),
            (Op::Exit { pid: 3 }, 0),
            // wait returns the pid of the child it reaped.
            (Op::Wait { pid: 2 }, 3),
        ];
        let mut before_fork = 0;
        for (op, want) in ops {
            if op == (Op::Fork { pid: 2 }) {
                before_fork = lab.kernel().kmem().nfree();
            }
            let s = lab.apply(op.clone()).unwrap_or_else(|e| panic!("{preset}: {op:?}: {e}"));
            assert!(s.result.error.is_none(), "{preset} {op:?}: {:?}", s.result.error);
            assert_eq!(s.result.value, want, "{preset}: what {op:?} returns");
            let problems = pagelab_core::lab::view::audit(lab.kernel());
            assert!(problems.is_empty(), "{preset} after {op:?}: {problems:#?}");
        }
        // Every page the child took (kernel stack, page tables, sh's copy, the heap, echo's image) is free again.
        assert_eq!(lab.kernel().kmem().nfree(), before_fork, "{preset}: pages leaked by fork … wait");
        assert_eq!(lab.kernel().procs().live().count(), 2, "{preset}: init and sh are left");
    }
}

#[test]
fn a_cloned_lab_is_independent() {
    let mut lab = Lab::new(Preset::Xv6PublicTiny, ShmMode::Lab);
    lab.apply(Op::Userinit).unwrap();
    let copy = lab.clone();
    lab.apply(Op::Fork { pid: 1 }).unwrap();
    assert_eq!(copy.steps().len(), 1);
    assert_eq!(copy.kernel().procs().live().count(), 1);
    assert_eq!(lab.kernel().procs().live().count(), 2);
    assert!(copy.kernel().kmem().nfree() > lab.kernel().kmem().nfree());
    // The copy goes on by itself and reaches the same state the original had.
    let mut copy = copy;
    copy.apply(Op::Fork { pid: 1 }).unwrap();
    assert_eq!(copy.kernel().kmem().nfree(), lab.kernel().kmem().nfree());
}

/// The files a lab had put in its file system, apart from the programs it
/// ships: none at first; an upload at a new path, or a built-in's path with
/// other bytes, is one.
#[test]
fn the_files_added_are_those_not_shipped() {
    use pagelab_core::lab::Fs;
    use pagelab_core::programs::{RISCV_DEEP, RISCV_ECHO};
    let mut fs = Fs::builtin(Port::Xv6Riscv);
    assert_eq!(fs.added(Port::Xv6Riscv).count(), 0);
    assert!(Fs::is_builtin(Port::Xv6Riscv, "echo", RISCV_ECHO), "echo, ./echo and /echo are one file");
    assert!(!Fs::is_builtin(Port::Xv6Public, "/echo", RISCV_ECHO), "RISC-V's echo is not x86's");
    fs.files.insert("/mine".into(), RISCV_ECHO.to_vec());
    fs.files.insert("/echo".into(), RISCV_DEEP.to_vec());
    let added: Vec<&str> = fs.added(Port::Xv6Riscv).map(|(p, _)| p.as_str()).collect();
    assert_eq!(added, ["/echo", "/mine"]);
}
