#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
use pagelab_core::lab::{Lab, Op, Preset};
use pagelab_core::shm::ShmMode;

#[test]
fn smoke() {
    for preset in Preset::ALL {
        let mut lab = Lab::new(preset, ShmMode::Lab);
        let free0 = lab.kernel().kmem().nfree();
        let ops = vec![
            Op::Userinit,
            Op::Exec { pid: 1, path: "/init".into(), argv: vec![b"/init".to_vec()] },
            Op::Fork { pid: 1 },
            Op::Exec { pid: 2, path: "sh".into(), argv: vec![b"sh".to_vec()] },
            Op::Fork { pid: 2 },
            Op::Sbrk { pid: 3, n: 32768 },
            Op::Exec {
                pid: 3,
                path: "echo".into(),
                argv: vec![b"echo".to_vec(), b"hello".to_vec(), b"world".to_vec()],
            },
            Op::Exit { pid: 3 },
            Op::Wait { pid: 2 },
        ];
        for op in ops {
            let s = lab.apply(op.clone()).unwrap_or_else(|e| panic!("{preset}: {op:?}: {e}"));
            println!("{preset} {:?} -> {:?} {}", op, s.result.value, s.counts);
            assert!(s.result.error.is_none(), "{:?}", s.result.error);
            let problems = pagelab_core::lab::view::audit(lab.kernel());
            assert!(problems.is_empty(), "{preset} after {op:?}: {problems:#?}");
        }
        if preset == Preset::Xv6PublicTiny || preset == Preset::Xv6RiscvTiny {
            println!("{}", pagelab_core::lab::view::vmprint(lab.kernel(), 2));
            println!("{}", pagelab_core::lab::view::stack_text(lab.kernel(), 2));
            println!("{:#?}", pagelab_core::lab::view::regions(lab.kernel(), 2));
        }
        println!("free0 {free0} now {}", lab.kernel().kmem().nfree());
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
