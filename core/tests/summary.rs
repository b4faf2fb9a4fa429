//! The story told in short: pages by xv6 function, entries by page table,
//! the scenario's comments as paragraphs, and what lives at an address.
//! Expected values are worked out from xv6's code in the comments.

use pagelab_core::lab::place::{Place, kernel_map, place};
use pagelab_core::lab::scenario::{self, parse};
use pagelab_core::lab::summary::mappings_text;
use pagelab_core::lab::view::RegionKind;
use pagelab_core::lab::{Comments, Lab, ParagraphKind};
use pagelab_core::port::Port;
use pagelab_core::scheme::SchemeKind;
use pagelab_core::trace::Owner;

fn story(text: &str) -> Lab {
    Lab::from_scenario(&parse(text).unwrap()).unwrap()
}

#[test]
fn exec_of_init_on_xv6_public_in_short() {
    let lab = story(scenario::STORY_X86);
    let exec = &lab.steps()[1];
    // setupkvm: the page directory, then kmap's four ranges. KERNBASE..KERNBASE+PHYSTOP
    // (224 MB) needs 224/4 = 56 page tables, DEVSPACE..4G (32 MB) 8 more: 1 + 64 = 65.
    // allocuvm(0, 0x178) maps page 0 and needs the first page table; allocuvm(0x1000,
    // 0x3000) maps the guard and stack pages in that same table. freevm(old) frees
    // initcode's page in deallocuvm, then the 65 + 1 tables of the old directory.
    assert_eq!(
        exec.summary.lines(),
        vec![
            "setupkvm: allocated 65 page-table pages",
            "allocuvm: allocated 1 user page (text) + 1 page-table page",
            "allocuvm: allocated 2 user pages (guard page, stack)",
            "freevm → deallocuvm: freed 1 user page (initcode)",
            "freevm: freed 66 page-table pages",
        ]
    );
    assert!(!exec.summary.partial);
    // One page table changed: pid 1's (the new directory replaces the old one).
    // The kernel half: (224 MB + 32 MB) / 4 KB = 65536 entries.
    let m = &exec.summary.mappings;
    assert_eq!(m.len(), 1);
    assert_eq!(
        mappings_text(&m[0], Port::Xv6Public, SchemeKind::X86),
        "pid 1: mapped va 0x0–0xfff (text), va 0x1000–0x1fff (guard page), va 0x2000–0x2fff (stack); \
         unmapped va 0x0–0xfff (initcode); changed va 0x1000 (guard page): −PTE_U; \
         mapped 65536 kernel entries of the kernel half; 66 page-table pages allocated; \
         66 page-table pages freed (with the entries in them)"
    );
}

#[test]
fn fork_sbrk_exit_and_wait_in_short() {
    let lab = story(scenario::STORY_X86);
    let st = lab.steps();
    // fork of the shell (step 5): allocproc's kernel stack; copyuvm makes a directory
    // (setupkvm, 65) and copies sh's 4 user pages (its text spans 2: it ends at 0x100c),
    // which need one user page table.
    assert_eq!(
        st[4].summary.lines(),
        vec![
            "allocproc: allocated 1 kernel stack",
            "copyuvm → setupkvm: allocated 65 page-table pages",
            "copyuvm: allocated 4 user pages (2 text, guard page, stack) + 1 page-table page",
        ]
    );
    // sbrk(32768): growproc → allocuvm maps 8 heap pages from 0x4000; the first 4 MB
    // already has its page table.
    assert_eq!(st[5].summary.lines(), vec!["growproc → allocuvm: allocated 8 user pages (heap)"]);
    assert_eq!(
        mappings_text(&st[5].summary.mappings[0], Port::Xv6Public, SchemeKind::X86),
        "pid 3: mapped va 0x4000–0xbfff (8 pages: heap)"
    );
    // exec of echo frees sh's 4 pages and the 8 heap pages: 12.
    assert_eq!(
        st[6].summary.lines()[3],
        "freevm → deallocuvm: freed 12 user pages (2 text, guard page, stack, 8 heap)"
    );
    // exit frees nothing; wait frees the kernel stack, then freevm.
    assert!(st[7].summary.lines().is_empty());
    assert_eq!(
        st[8].summary.lines(),
        vec![
            "wait: freed 1 kernel stack",
            "freevm → deallocuvm: freed 3 user pages (text, guard page, stack)",
            "freevm: freed 66 page-table pages",
        ]
    );
}

#[test]
fn riscv_summaries_name_trapframes_and_argument_pages() {
    let lab = story(scenario::STORY_RISCV);
    let st = lab.steps();
    // userinit: allocproc's trapframe; proc_pagetable's root (uvmcreate) and the two
    // lower levels under TRAMPOLINE/TRAPFRAME (L2 index 255, L1 511); uvmfirst's page
    // at 0 needs its own L1 and L0 tables (L2 index 0).
    assert_eq!(
        st[0].summary.lines(),
        vec![
            "allocproc: allocated 1 other page (trapframe)",
            "allocproc → proc_pagetable → uvmcreate: allocated 1 page-table page",
            "allocproc → proc_pagetable: allocated 2 page-table pages",
            "uvmfirst: allocated 1 user page (initcode) + 2 page-table pages",
        ]
    );
    // proc_pagetable maps TRAMPOLINE and TRAPFRAME in the process's own table,
    // without PTE_U: two entries of pid 1's table, not of the kernel's.
    let m = mappings_text(&st[0].summary.mappings[0], Port::Xv6Riscv, SchemeKind::Sv39);
    assert!(
        m.contains("; mapped 2 entries without PTE_U, for the trampoline and trapframe (only the kernel's trap code uses them);"),
        "{m}"
    );
    assert!(!m.contains("kernel entr"), "{m}");
    // exec's argument: sys_exec copies "init" into a page of its own, then frees it.
    assert_eq!(
        st[1].summary.lines()[0],
        "sys_exec: allocated 1 other page (exec argument copy); freed 1 other page (exec argument copy)"
    );
}

#[test]
fn the_story_says_where_the_notes_differ() {
    let s = parse(scenario::STORY_X86).unwrap();
    let says = |i: usize| -> Vec<String> {
        Comments::paragraphs(s.comments.of(i))
            .into_iter()
            .filter(|p| p.kind == ParagraphKind::NotesSay)
            .map(|p| p.text)
            .collect()
    };
    // The introduction is the comment above the preset line.
    assert!(s.comments.intro[0].starts_with("The notes' story on xv6-public"));
    // userinit: the notes count 1 page, xv6 also a kernel stack and 66 page-table pages.
    assert!(says(0)[0].contains("66 page-table pages"), "{:?}", says(0));
    // exit (step 8): the notes free pages at exit; xv6-public frees them in wait.
    assert!(says(7)[0].contains("exit does not call freevm"), "{:?}", says(7));
    // sbrk (step 6): the notes' 8 pages agree with xv6's 32768 / 4096.
    assert!(says(5)[0].contains("xv6 agrees"), "{:?}", says(5));
    // exec of init: the notes call the guard page unmapped; xv6 maps it without PTE_U.
    assert!(says(1)[0].contains("without PTE_U"), "{:?}", says(1));
    let r = parse(scenario::STORY_RISCV).unwrap();
    let sbrk = Comments::paragraphs(r.comments.of(5));
    assert!(sbrk.iter().any(|p| p.kind == ParagraphKind::NotesSay && p.text.contains("16 bytes")));
}

#[test]
fn paragraphs_items_and_notes_say() {
    let lines: Vec<String> =
        ["One line", "and its next.", "", "- an item", "  going on", "- another", "", "the NOTES say: x"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
    let p = Comments::paragraphs(&lines);
    let got: Vec<(ParagraphKind, &str)> = p.iter().map(|p| (p.kind, p.text.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (ParagraphKind::Text, "One line and its next."),
            (ParagraphKind::Item, "an item going on"),
            (ParagraphKind::Item, "another"),
            (ParagraphKind::NotesSay, "x"),
        ]
    );
}

#[test]
fn what_lives_at_an_address_on_x86() {
    let lab = story(scenario::STORY_X86);
    // Step 7's machine: pid 3 runs echo (text 0x0, guard 0x1000, stack 0x2000, sz 0x3000).
    let at7 = lab.prefix(7);
    let k = at7.kernel();
    let kind = |va: u64| match place(k, Some(3), va) {
        Place::Region { region } => format!("{:?}", region.kind),
        p => format!("{p:?}"),
    };
    assert_eq!(kind(0x1ff0), "Guard");
    assert_eq!(kind(0x2fcc), "Stack");
    // echo's one loadable segment is RWX, and xv6-public's exec maps every user page with PTE_W:
    // the words say so, since a user store there succeeds.
    let text = place(k, Some(3), 0x10).words(Port::Xv6Public);
    assert!(text.starts_with("the program's text and data (0x0–0xfff)") && text.contains("PTE_W"), "{text}");
    assert_eq!(place(k, Some(3), 0x3000), Place::AboveSz { sz: 0x3000, limit: 0x8000_0000 });
    // KERNBASE..KERNBASE+PHYSTOP (0x8e000000): V2P applies. Below KERNLINK (0x80100000)
    // the first megabyte; from KERNLINK up to `data` (0x80108000) the kernel's text.
    assert_eq!(place(k, Some(3), 0x800b_8000), Place::KernelLow { pa: 0xb_8000 });
    assert_eq!(place(k, Some(3), 0x8010_0000), Place::KernelRam { pa: 0x10_0000, text: true, owner: None });
    assert_eq!(place(k, Some(3), 0x8010_8000), Place::KernelRam { pa: 0x10_8000, text: false, owner: None });
    // The top frame of RAM is the first kalloc hands out after kinit2 (the free list runs down
    // from PHYSTOP): allocproc's kernel stack for pid 1. The kernel's map names its owner.
    let top = place(k, Some(3), 0x8dff_ffff);
    assert_eq!(top, Place::KernelRam { pa: 0xdff_ffff, text: false, owner: Some(Owner::KernelStack { pid: 1 }) });
    assert!(
        top.words(Port::Xv6Public).contains("this frame is the kernel stack of pid 1"),
        "{}",
        top.words(Port::Xv6Public)
    );
    // Between the end of RAM's map and DEVSPACE: nothing; DEVSPACE and up: one to one.
    assert_eq!(place(k, Some(3), 0x8e00_0000), Place::Unmapped);
    assert!(matches!(place(k, None, 0xfe00_0000), Place::Device { .. }));
    assert!(matches!(place(k, Some(3), 0xffff_ffff), Place::Device { .. }));
    // The kernel's own page table maps no user memory.
    assert_eq!(place(k, None, 0x1000), Place::Unmapped);
}

#[test]
fn a_process_sbrk_shrank_to_nothing_on_x86_has_nothing_below_its_size() {
    // tlb-x86: pid 2 (initcode's one page, sz 0x1000) calls sbrk(-4096) at step 5.
    // deallocuvm frees the page and returns 0; growproc takes that for failure
    // and keeps sz = 0x1000, but nothing is mapped below it any more.
    let lab = story(scenario::TLB_X86);
    let at4 = lab.prefix(4);
    let before = place(at4.kernel(), Some(2), 0x100);
    assert!(matches!(&before, Place::Region { region } if region.start == 0 && region.end == 0x1000), "{before:?}");
    let at5 = lab.prefix(5);
    let after = place(at5.kernel(), Some(2), 0x100);
    assert!(
        matches!(&after, Place::Region { region } if region.kind == RegionKind::Freed && region.end == 0x1000),
        "{after:?}"
    );
    assert!(after.words(Port::Xv6Public).starts_with("freed memory (0x0–0xfff)"));
    assert_eq!(place(at5.kernel(), Some(2), 0x1000), Place::AboveSz { sz: 0x1000, limit: 0x8000_0000 });
    // sbrk(4096) then grows from the sz growproc kept: allocuvm maps 0x1000, which
    // is heap; below it the pages stay freed.
    let text = format!("{}sbrk 2 4096\n", scenario::print(at5.scenario()));
    let grown = story(&text);
    let heap = place(grown.kernel(), Some(2), 0x1000);
    assert!(matches!(&heap, Place::Region { region } if region.kind == RegionKind::Heap), "{heap:?}");
    let freed = place(grown.kernel(), Some(2), 0x100);
    assert!(
        matches!(&freed, Place::Region { region } if region.kind == RegionKind::Freed && region.end == 0x1000),
        "{freed:?}"
    );
    let last = grown.steps().last().unwrap().summary.lines();
    assert_eq!(last, ["growproc → allocuvm: allocated 1 user page (heap)"]);
}

#[test]
fn what_lives_at_an_address_on_riscv() {
    let lab = story(scenario::STORY_RISCV);
    let k = lab.kernel();
    // The direct map: KERNBASE 0x80000000 up to PHYSTOP 0x88000000; text below etext.
    assert_eq!(place(k, None, 0x8000_1000), Place::KernelRam { pa: 0x8000_1000, text: true, owner: None });
    // PHYSTOP's last frame is the first kalloc (kinit frees RAM upwards, so it heads the list):
    // kvmmake's root of the kernel page table.
    assert_eq!(
        place(k, None, 0x87ff_f000),
        Place::KernelRam { pa: 0x87ff_f000, text: false, owner: Some(Owner::KernelPageTable) }
    );
    assert!(matches!(place(k, None, 0x1000_0000), Place::Device { .. }));
    // TRAMPOLINE = MAXVA - 4096 = 0x3ffffff000; KSTACK(0) = TRAMPOLINE - 2*4096 =
    // 0x3fffffd000, with the unmapped page 0x3fffffc000 under it.
    assert_eq!(place(k, None, 0x3f_ffff_f000), Place::Trampoline);
    assert_eq!(place(k, None, 0x3f_ffff_d000), Place::KernelStack { slot: 0 });
    assert_eq!(place(k, None, 0x3f_ffff_c000), Place::KernelStackGuard { slot: 0 });
    // The page between the trampoline and KSTACK(0), 0x3fffffe000, is unmapped too: a guard above stack 0.
    assert_eq!(place(k, None, 0x3f_ffff_e000), Place::GuardUnderTrampoline);
    assert_eq!(place(k, None, 0x3f_ffff_b000), Place::KernelStack { slot: 1 });
    // MAXVA = 2^38 and up (sign-extended) is never used; bits 63..39 must copy bit 38.
    assert_eq!(place(k, None, 0xffff_ffc0_0000_0000), Place::AboveMaxva);
    assert_eq!(place(k, None, 0x40_0000_0000), Place::NotSignExtended);
}

#[test]
fn the_notes_shared_page_is_named_by_what_shmemaddr_maps() {
    // shm-test-note: child 0 (pid 4) opens page 25 at step 19, at PGROUNDUP(sz) = 0x5000
    // (its private copy of the parent's page sits at 0x4000); its closeshmem at step 23
    // clears the entry at proc->shmemaddr. The note's code keeps no list of shared pages,
    // so the lab reads what shmemaddr maps: the frame of shared page 25.
    let lab = story(scenario::SHM_TEST_NOTE);
    let m = &lab.steps()[22].summary.mappings;
    assert_eq!(m.len(), 1);
    assert_eq!(
        mappings_text(&m[0], Port::Xv6Public, SchemeKind::X86),
        "pid 4: unmapped va 0x5000–0x5fff (shared page 25)"
    );
    let opened = &lab.steps()[18].summary.mappings[0];
    assert_eq!(
        mappings_text(opened, Port::Xv6Public, SchemeKind::X86),
        "pid 4: mapped va 0x5000–0x5fff (shared page 25)"
    );
}

/// A pipe's page is named in the step's summary: pipealloc kallocs it,
/// pipeclose kfrees it when the last end closes (xv6's pipe.c).
#[test]
fn a_pipes_page_is_named() {
    let lab = story("preset xv6-riscv-tiny\nuserinit\npipe 1\npipeclose 1 0\n");
    let st = lab.steps();
    assert_eq!(st[1].summary.lines(), vec!["pipealloc: allocated 1 other page (pipe)"]);
    assert_eq!(st[2].summary.lines(), vec!["pipeclose: freed 1 other page (pipe)"]);
}

/// A failed exec allocates a new image and frees it again: its pages were in
/// no process's address space, so neither the old layout nor the new names
/// them (sh's old image has two text pages; echo's new one would have one).
#[test]
fn a_failed_execs_pages_are_not_named_by_the_old_layout() {
    // After the story's first six steps pid 3 is sh with its heap; an argument of 5000 bytes
    // does not fit below the new stack page's top, so copyout fails on the guard page.
    let text =
        format!("{}exec 3 echo {}\n", scenario::STORY_X86.split("exec 3 echo").next().unwrap(), "A".repeat(5000));
    let lab = story(&text);
    let last = lab.steps().last().unwrap();
    assert!(last.result.error.is_some(), "exec fails");
    let lines = last.summary.lines();
    assert!(lines.iter().any(|l| l == "allocuvm: allocated 2 user pages"), "{lines:?}");
    assert!(lines.iter().all(|l| !l.contains("text") && !l.contains("guard page")), "{lines:?}");
    let m = mappings_text(&last.summary.mappings[0], Port::Xv6Public, SchemeKind::X86);
    assert!(!m.contains("(text)") && !m.contains("(guard page)"), "{m}");
}

/// The kernel's own address space as runs: (first va, end, first pa, pages, bits, runs folded).
fn kernel_rows(lab: &Lab) -> Vec<(u64, u64, u64, u64, String, u64)> {
    kernel_map(lab.kernel()).into_iter().map(|r| (r.va, r.end, r.pa, r.pages, r.bits, r.runs)).collect()
}

#[test]
fn the_kernels_address_space_is_kmap_on_x86() {
    // xv6-public's kmap[]: KERNBASE→0 up to EXTMEM (W); KERNLINK→V2P(KERNLINK) up to
    // data (read-only); data up to KERNBASE+PHYSTOP (W); DEVSPACE (0xfe000000) to 2^32 (W).
    // The layout: data = 0x80108000, PHYSTOP = 0xe000000.
    let lab = story(scenario::STORY_X86);
    let s = |x: &str| x.to_string();
    assert_eq!(
        kernel_rows(&lab),
        vec![
            (0x8000_0000, 0x8010_0000, 0, 0x100, s("P W"), 1),
            (0x8010_0000, 0x8010_8000, 0x10_0000, 8, s("P"), 1),
            (0x8010_8000, 0x8e00_0000, 0x10_8000, (0xe00_0000 - 0x10_8000) / 4096, s("P W"), 1),
            (0xfe00_0000, 0x1_0000_0000, 0xfe00_0000, 0x200_0000 / 4096, s("P W"), 1),
        ]
    );
    let what: Vec<(String, String)> = kernel_map(lab.kernel()).iter().map(|r| r.what(Port::Xv6Public)).collect();
    assert!(what[0].0 == "I/O space" && what[1].1.contains("no PTE_W") && what[3].1.contains("device"), "{what:?}");
}

#[test]
fn the_kernels_address_space_is_kvmmake_on_riscv() {
    // kvmmake: UART0, VIRTIO0 (a page each), the PLIC (64 MB since 2024), KERNBASE to
    // etext (R X; etext = 0x80008000), etext to PHYSTOP (0x88000000, R W), TRAMPOLINE
    // (MAXVA − PGSIZE = 0x3ffffff000 → the trampoline page at 0x80007000, R X);
    // proc_mapstacks: 64 stacks, KSTACK(p) = TRAMPOLINE − 2(p+1)·PGSIZE, R W.
    let lab = story(scenario::STORY_RISCV);
    let rows = kernel_rows(&lab);
    let s = |x: &str| x.to_string();
    assert_eq!(
        rows[..5],
        [
            (0x0c00_0000, 0x1000_0000, 0x0c00_0000, 0x400_0000 / 4096, s("V R W"), 1),
            (0x1000_0000, 0x1000_1000, 0x1000_0000, 1, s("V R W"), 1),
            (0x1000_1000, 0x1000_2000, 0x1000_1000, 1, s("V R W"), 1),
            (0x8000_0000, 0x8000_8000, 0x8000_0000, 8, s("V R X"), 1),
            (0x8000_8000, 0x8800_0000, 0x8000_8000, (0x800_0000 - 0x8000) / 4096, s("V R W"), 1),
        ]
    );
    let trampoline = 0x3f_ffff_f000u64;
    let (va, end, _, pages, bits, runs) = rows[5].clone();
    assert_eq!((va, end, pages, bits.as_str(), runs), (trampoline - 64 * 2 * 4096, trampoline - 4096, 64, "V R W", 64));
    assert_eq!(rows[6], (trampoline, trampoline + 4096, 0x8000_7000, 1, s("V R X"), 1));
    assert_eq!(rows.len(), 7);
    let (name, what) = kernel_map(lab.kernel())[5].what(Port::Xv6Riscv);
    assert!(name == "64 kernel stacks" && what.contains("guard page"), "{what}");
    // memlayout.h's CLINT (0x2000000, 0x10000 bytes) is not in kvmmake's list: the lab says why.
    assert_eq!(place(lab.kernel(), None, 0x200_8000), Place::Clint);
    assert_eq!(place(lab.kernel(), None, 0x201_0000), Place::Unmapped);
    assert!(place(lab.kernel(), None, 0x200_0000).words(Port::Xv6Riscv).contains("machine mode"));
    // A user access in the kernel's own table is a what-if, not a process to kill.
    let next = pagelab_core::lab::place::after_fault(lab.kernel(), None, pagelab_core::scheme::Mode::User);
    assert!(next.contains("no user code runs on the kernel's page table"), "{next}");
}

#[test]
fn a_free_frame_holds_junk_and_the_next_pointer() {
    use pagelab_core::lab::view::frame_bytes;
    // xv6-public's freerange frees upward, so the head of the list is the top frame
    // (PHYSTOP - 4096 = 0xdfff000) and its next is the frame below, stored as P2V:
    // 0x8dffe000, little-endian; kfree filled the rest with 1s.
    let lab = Lab::new(pagelab_core::lab::Preset::Xv6Public, pagelab_core::shm::ShmMode::Lab);
    let k = lab.kernel();
    let top = 0xdff_f000;
    assert_eq!(k.kmem().freelist(k.mem(), 1), vec![top]);
    let b = frame_bytes(k, top).unwrap();
    assert_eq!(b.head, [0x00, 0xe0, 0xff, 0x8d, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert_eq!((b.rest, b.next), (Some(1), Some(0x8dff_e000)));
    // A frame in use is not a free frame: no next pointer. After userinit, initcode's page
    // holds initcode's bytes at its start and zeroes after (inituvm's memset, then memmove).
    let lab = story(scenario::STORY_X86).prefix(1);
    let k = lab.kernel();
    let (pa, _) = k.kmem().owners().find(|(_, o)| *o == Owner::User { pid: 1 }).unwrap();
    let b = frame_bytes(k, pa).unwrap();
    assert_eq!(b.head[..], pagelab_core::programs::X86_INITCODE[..16]);
    assert_eq!((b.rest, b.next), (None, None), "initcode is 44 bytes: bytes 16..44 are not zero");
    assert!(frame_bytes(k, 0xe00_0000).is_none(), "PHYSTOP is past RAM");
    // pagelab holds no kernel code, BIOS data or video memory: those frames show no bytes.
    assert!(frame_bytes(k, 0x10_0000).is_none() && frame_bytes(k, 0xb_8000).is_none());
}

#[test]
fn exec_builds_the_stack_push_by_push() {
    use pagelab_core::lab::view::stack_pushes;
    // xv6-public, step 7: pid 3 runs exec("echo", {"echo", "hello", "world"}) with the
    // stack page at 0x2000, so sp starts at 0x3000. Each string: sp = (sp - (len + 1)) & ~3.
    // "echo": 0x2ffb & ~3 = 0x2ff8; "hello": 0x2ff2 & ~3 = 0x2ff0; "world": 0x2fea & ~3 = 0x2fe8.
    // Then (3 + argc + 1) words of 4 bytes: 0x2fe8 - 28 = 0x2fcc.
    let lab = story(scenario::STORY_X86).prefix(7);
    let pushes = stack_pushes(lab.kernel(), 3);
    let got: Vec<(u64, u64, u64)> = pushes.iter().map(|p| (p.lo, p.hi, p.sp)).collect();
    assert_eq!(
        got,
        vec![(0x2ff8, 0x2ffd, 0x2ff8), (0x2ff0, 0x2ff6, 0x2ff0), (0x2fe8, 0x2fee, 0x2fe8), (0x2fcc, 0x2fe8, 0x2fcc)]
    );
    assert!(pushes[1].what.contains("\"hello\\0\" (6 bytes)"), "{}", pushes[1].what);
    // xv6-riscv, step 7: the stack page is 0x3000, sp starts at 0x4000; each string:
    // sp -= len + 1, then down to 16: "echo" 0x3ffb → 0x3ff0; "hello" 0x3fea → 0x3fe0;
    // "world" 0x3fda → 0x3fd0; the array (argc + 1) × 8 = 32 bytes: 0x3fb0.
    let lab = story(scenario::STORY_RISCV).prefix(7);
    let got: Vec<(u64, u64, u64)> = stack_pushes(lab.kernel(), 3).iter().map(|p| (p.lo, p.hi, p.sp)).collect();
    assert_eq!(
        got,
        vec![(0x3ff0, 0x3ff5, 0x3ff0), (0x3fe0, 0x3fe6, 0x3fe0), (0x3fd0, 0x3fd6, 0x3fd0), (0x3fb0, 0x3fd0, 0x3fb0)]
    );
    assert!(stack_pushes(lab.kernel(), 99).is_empty());
    assert_eq!(stack_pushes(lab.kernel(), 3)[3].what, "the array: argv[0] to argv[2] and the 0 in argv[3]");
}

#[test]
fn a_page_table_frame_lists_its_valid_entries() {
    use pagelab_core::lab::view::table_frame_entries;
    // xv6-public after userinit: pid 1's page directory maps PDX 0 (initcode's page table),
    // KERNBASE..KERNBASE+224 MB (PDX 512..=567: 0x80000000 >> 22 = 512, 224 / 4 = 56 entries)
    // and DEVSPACE..4 GB (0xfe000000 >> 22 = 1016..=1023): 65 of 1024.
    let lab = story(scenario::STORY_X86).prefix(1);
    let k = lab.kernel();
    let (pd, _) = k.kmem().owners().find(|(_, o)| *o == Owner::PageDir { pid: 1 }).unwrap();
    let (n, entries) = table_frame_entries(k, pd).unwrap();
    let idx: Vec<u64> = entries.iter().map(|(i, _)| *i).collect();
    let want: Vec<u64> = std::iter::once(0).chain(512..=567).chain(1016..=1023).collect();
    assert_eq!((n, idx), (1024, want));
    // Its entry 0 points to the page table that maps initcode's one page: entry 0 of that table.
    let pt = entries[0].1 & !0xfff;
    let (_, inner) = table_frame_entries(k, pt).unwrap();
    assert_eq!(inner.len(), 1);
    assert_eq!(inner[0].0, 0);
    // A user page is not a table.
    let (user, _) = k.kmem().owners().find(|(_, o)| *o == Owner::User { pid: 1 }).unwrap();
    assert!(table_frame_entries(k, user).is_none());
}

#[test]
fn a_heavy_sbrk_is_summed_up_page_for_page_and_a_replay_within_a_budget_keeps_less_but_for_its_last_step() {
    // sh (pid 2) at the end of the xv6-riscv story has sz 0x5000. sbrk(64 MB):
    // 64 MB / 4 KB = 16384 heap pages from 0x5000 to 0x4004fff; sz becomes
    // 0x4005000. Its first L0 table covers 0x0-0x1fffff and is there already;
    // the heap reaches into 2 MB blocks 1 to 0x4004fff >> 21 = 32: 32 new L0
    // tables, all under the L1 table of the first gigabyte, which is there.
    let text = format!("{}\nsbrk 2 67108864\n", scenario::STORY_RISCV);
    let mut lab = story(scenario::STORY_RISCV);
    let st = lab.apply(parse(&text).unwrap().ops.last().unwrap().clone()).unwrap().clone();
    assert_eq!((st.elided, st.summary.partial), (0, false));
    assert_eq!(
        st.summary.lines(),
        vec!["growproc → uvmalloc: allocated 16384 user pages (heap) + 32 page-table pages"]
    );
    assert_eq!(
        mappings_text(&st.summary.mappings[0], Port::Xv6Riscv, SchemeKind::Sv39),
        "pid 2: mapped va 0x5000–0x4004fff (16384 pages: heap); 32 page-table pages allocated"
    );
    // The same step as the last of a replay from a link (the step the link shows) keeps every event.
    let replayed = Lab::from_scenario_within(&parse(&text).unwrap(), pagelab_core::lab::Budget::page()).unwrap();
    let last = replayed.steps().last().unwrap();
    assert_eq!((last.elided, last.summary.lines(), &last.counts), (0, st.summary.lines(), &st.counts));
    // Followed by another step, it keeps fewer events, and says so; its counts are still exact.
    let text = format!("{text}sbrk 2 4096\n");
    let replayed = Lab::from_scenario_within(&parse(&text).unwrap(), pagelab_core::lab::Budget::page()).unwrap();
    let heavy = &replayed.steps()[replayed.steps().len() - 2];
    assert!(heavy.elided > 0 && heavy.summary.partial);
    assert_eq!(heavy.counts, st.counts);
    assert_eq!(replayed.steps().last().unwrap().elided, 0);
}

#[test]
fn a_forked_child_has_the_image_its_parents_exec_built() {
    // The story up to its second fork: init (pid 1) and sh (pid 2) ran exec;
    // pid 3 is sh's child and has run nothing: its pages, stack included, are sh's.
    let mut sc = parse(scenario::STORY_RISCV).unwrap();
    sc.ops.truncate(5);
    let lab = Lab::from_scenario(&sc).unwrap();
    let k = lab.kernel();
    let image = |pid| k.procs().get(pid).and_then(|p| p.image.clone()).unwrap();
    assert_eq!((image(1).pid, image(2).pid, image(3).pid), (1, 2, 2));
    assert_eq!((image(3).path.as_str(), image(3).sp), ("sh", image(2).sp));
}
