//! vm.c's functions called directly: remap is a typed error, copyin and
//! copyinstr read what exec wrote, uva2ka refuses the guard page.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use pagelab_core::VmFail;
use pagelab_core::mem::{PhysMem, Sim};
use pagelab_core::port::Kernel;
use pagelab_core::programs;
use pagelab_core::riscv::{RiscvKernel, RiscvLayout};
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::{Owner, Trace};
use pagelab_core::x86::{X86Kernel, X86Layout};

fn x86() -> X86Kernel<Sim> {
    let l = X86Layout::tiny();
    let hw = Sim::new(0, u64::from(l.phystop));
    X86Kernel::boot(l, hw, programs::X86_INITCODE.to_vec(), ShmMode::Lab, &mut Trace::new()).unwrap()
}

fn riscv() -> RiscvKernel<Sim> {
    let l = RiscvLayout::tiny();
    let hw = Sim::new(0x8000_0000, l.phystop - 0x8000_0000);
    RiscvKernel::boot(l, hw, programs::RISCV_INITCODE.to_vec(), ShmMode::Lab, &mut Trace::new()).unwrap()
}

#[test]
fn mapping_a_mapped_page_is_a_remap_error_on_both_ports() {
    let mut k = x86();
    let mut tr = Trace::new();
    let pgdir = k.setupkvm(&mut tr, Some(9)).unwrap();
    let owner = Owner::PageTable { pid: 9 };
    k.mappages(&mut tr, pgdir, 0x5000, 4096, 0x10_0000, 6, owner).unwrap();
    assert_eq!(k.mappages(&mut tr, pgdir, 0x5000, 4096, 0x10_1000, 6, owner), Err(VmFail::Remap { va: 0x5000 }));
    // A range reaching into the mapped page fails at that page, after
    // writing the entries before it (as xv6's loop does before its panic).
    let mut tr = Trace::new();
    assert_eq!(k.mappages(&mut tr, pgdir, 0x3000, 3 * 4096, 0x10_1000, 6, owner), Err(VmFail::Remap { va: 0x5000 }));
    let writes: Vec<_> = tr
        .events()
        .iter()
        .filter_map(|e| match e.event {
            pagelab_core::trace::Event::PteWrite { level: 0, va, new, count, va_step, new_step, .. } => {
                Some((va.as_u64(), new, count, va_step, new_step))
            }
            _ => None,
        })
        .collect();
    // 0x3000 -> 0x101000 and 0x4000 -> 0x102000, PTE_P|PTE_W|PTE_U = 7: one folded run of 2.
    assert_eq!(writes, vec![(0x3000, 0x10_1007, 2, 0x1000, 0x1000)]);

    let mut r = riscv();
    let pt = r.uvmcreate(&mut tr, 9).unwrap();
    r.mappages(&mut tr, pt, 0x5000, 4096, 0x8010_0000, 0x16, owner).unwrap();
    assert_eq!(r.mappages(&mut tr, pt, 0x5000, 4096, 0x8010_0000, 0x16, owner), Err(VmFail::Remap { va: 0x5000 }));
}

#[test]
fn copyin_and_copyinstr_read_what_exec_wrote() {
    let mut r = riscv();
    let mut tr = Trace::new();
    r.userinit(&mut tr).unwrap();
    let argv = vec![b"echo".to_vec(), b"hello".to_vec()];
    r.exec(&mut tr, 1, "/echo", Some(programs::RISCV_ECHO), &argv).unwrap();
    let p = r.st.ptable.get(1).unwrap().clone();
    let img = p.image.unwrap();
    // argv[1] is "hello", at the address exec recorded.
    let s = r.copyinstr(&mut tr, p.root.as_u64(), img.args[1].va, 100).unwrap();
    assert_eq!(s, b"hello");
    // The argv array: two pointers and a null, little-endian.
    let words = r.copyin(&mut tr, p.root.as_u64(), img.argv, 24).unwrap();
    let ptr = |i: usize| u64::from_le_bytes(words[i * 8..i * 8 + 8].try_into().unwrap());
    assert_eq!((ptr(0), ptr(1), ptr(2)), (img.args[0].va, img.args[1].va, 0));
    // A string with no NUL within the limit, and the guard page, fail.
    assert_eq!(r.copyinstr(&mut tr, p.root.as_u64(), img.args[1].va, 3), Err(VmFail::StringTooLong { max: 3 }));
    assert_eq!(r.copyin(&mut tr, p.root.as_u64(), img.guard, 8), Err(VmFail::NotUserPage { va: img.guard }));
    assert_eq!(r.walkaddr(&mut tr, p.root.as_u64(), img.guard).unwrap(), None);
}

#[test]
fn uva2ka_refuses_the_guard_page_and_copyout_fails_there() {
    let mut k = x86();
    let mut tr = Trace::new();
    k.userinit(&mut tr).unwrap();
    k.exec(&mut tr, 1, "/echo", Some(programs::X86_ECHO), &[b"echo".to_vec()]).unwrap();
    let p = k.st.ptable.get(1).unwrap().clone();
    let img = p.image.unwrap();
    let root = p.root.to_u32().expect("below 4 GB");
    assert_eq!(k.uva2ka(&mut tr, root, img.guard as u32).unwrap(), None);
    let pa = k.uva2ka(&mut tr, root, img.stack as u32).unwrap().unwrap();
    k.copyout(&mut tr, root, img.stack as u32 + 8, b"hi").unwrap();
    let mut b = [0u8; 2];
    k.st.hw.read(u64::from(pa) + 8, &mut b).unwrap();
    assert_eq!(&b, b"hi");
    // Crossing from the stack page down into the guard page fails.
    assert_eq!(k.copyout(&mut tr, root, img.stack as u32 - 1, b"xy"), Err(VmFail::NotUserPage { va: img.guard }));
}

/// Every entry a step writes names the virtual address it translates. A
/// table covers one stretch of addresses from the day it is allocated to the
/// day it is freed, so every entry written in it, set or cleared, must put
/// the table's first entry at the same address: va − index × (bytes an entry
/// covers at that level: 4 KiB × 1024^level on x86, 4 KiB × 512^level on
/// Sv39). freewalk, which clears the tables of a process as it goes, once
/// named its level-1 entries as if the root's index were 0.
#[test]
fn every_entry_written_names_the_address_its_table_covers() {
    use pagelab_core::lab::{Lab, scenario};
    use pagelab_core::trace::{Event, expand};
    use std::collections::BTreeMap;
    for name in ["story-x86", "story-riscv", "shm-test", "tlb-x86", "tlb-smp-x86", "tlb-riscv"] {
        let sc = scenario::parse(scenario::builtin(name).unwrap()).unwrap();
        let lab = Lab::from_scenario(&sc).unwrap();
        let bits = if name.ends_with("riscv") { 9 } else { 10 };
        // table frame → (level, the address its entry 0 translates)
        let mut base: BTreeMap<u64, (u32, u64)> = BTreeMap::new();
        let mut checked = 0;
        for step in lab.steps() {
            for ev in expand(&step.events) {
                match ev.event {
                    Event::Kalloc { pa, .. } | Event::Kfree { pa, .. } => {
                        base.remove(&pa.as_u64());
                    }
                    Event::PteWrite { level, table, index, va, va_step, count, .. } => {
                        let span = 4096u64 << (bits * level);
                        for j in 0..u64::from(count) {
                            let at = va.as_u64() + j * va_step;
                            let first = at.wrapping_sub((u64::from(index) + j) * span);
                            let seen = *base.entry(table.as_u64()).or_insert((level, first));
                            assert_eq!(
                                seen,
                                (level, first),
                                "{name} step {:?}: entry {} of table {table:?} names va {at:#x}",
                                step.op,
                                u64::from(index) + j
                            );
                            checked += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
        assert!(checked > 10, "{name}: {checked} entries");
    }
}

/// xv6-riscv's uvmcopy, out of memory part way, unmaps and frees what it
/// copied with one call: `uvmunmap(new, 0, i / PGSIZE, 1)`, i being the
/// page it could not copy.
#[test]
fn uvmcopy_out_of_memory_unmaps_the_copies_in_one_call() {
    use pagelab_core::lab::{Lab, Op, Preset};
    use pagelab_core::trace::{Event, expand};
    let mut seen = Vec::new();
    for n in 0..16 {
        let mut lab = Lab::new(Preset::Xv6RiscvTiny, ShmMode::Lab);
        lab.apply(Op::Userinit).unwrap();
        // pid 1 grows to 4 pages, so that uvmcopy has 4 to copy.
        lab.apply(Op::Sbrk { pid: 1, n: 3 * 4096 }).unwrap();
        lab.apply(Op::FailAlloc { after: Some(n) }).unwrap();
        let free = lab.kernel().kmem().nfree();
        let st = lab.apply(Op::Fork { pid: 1 }).unwrap().clone();
        let evs: Vec<Event> = expand(&st.events).map(|e| e.event.clone()).collect();
        // Pages the child got: its leaf entries set below 0x4000 (before any undo).
        let copied: u64 = evs
            .iter()
            .take_while(|e| !matches!(e, Event::Call { func: "uvmunmap", .. }))
            .map(|e| match e {
                Event::PteWrite { level: 0, va, new, count, .. } if va.as_u64() < 0x4000 && new & 1 == 1 => {
                    u64::from(*count)
                }
                _ => 0,
            })
            .sum();
        let unmaps: Vec<String> = evs
            .iter()
            .filter_map(|e| match e {
                Event::Call { func: "uvmunmap", args } if args.contains("va=0x0,") => Some(args.clone()),
                _ => None,
            })
            .collect();
        if st.result.error.is_none() {
            break;
        }
        if evs.iter().any(|e| matches!(e, Event::Call { func: "uvmcopy", .. })) && copied < 4 {
            // The first uvmunmap from 0 is uvmcopy's undo (freeproc's come after, from 0 too).
            assert!(unmaps[0].contains(&format!("npages={copied},")), "failalloc {n}: {unmaps:?}");
            seen.push(copied);
        }
        // Nothing leaks: the child is gone.
        assert_eq!(lab.kernel().kmem().nfree(), free, "failalloc {n}");
    }
    // Failures with 0 to 3 pages copied were all seen.
    for k in 0..4 {
        assert!(seen.contains(&k), "{seen:?}");
    }
}
