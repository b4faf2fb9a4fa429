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
