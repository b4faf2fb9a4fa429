//! The notes' story (boot → init → exec init → fork sh → exec sh → fork →
//! the child's malloc grows the heap → exec echo → exit → wait), checked
//! step by step against page counts and frame addresses worked out by hand
//! from xv6's code. The derivations are in the comments.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use pagelab_core::addr::PGSIZE;
use pagelab_core::lab::view::{audit, usage};
use pagelab_core::lab::{Lab, Op, Preset};
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::{Counts, Event, Owner, TlbCounts};

fn argv(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

fn story(heap: i64) -> Vec<Op> {
    vec![
        Op::Userinit,
        // initcode calls exec("/init", {"/init", 0}).
        Op::Exec { pid: 1, path: "/init".into(), argv: argv(&["/init"]) },
        Op::Fork { pid: 1 },
        // init calls exec("sh", {"sh", 0}).
        Op::Exec { pid: 2, path: "sh".into(), argv: argv(&["sh"]) },
        // sh forks a child for the command line,
        Op::Fork { pid: 2 },
        // whose parsecmd calls malloc, whose morecore asks sbrk for 4096 units.
        Op::Sbrk { pid: 3, n: heap },
        Op::Exec { pid: 3, path: "echo".into(), argv: argv(&["echo", "hello", "world"]) },
        Op::Exit { pid: 3 },
        Op::Wait { pid: 2 },
    ]
}

/// (user alloc, user free, page-table alloc, page-table free, kstack alloc, kstack free, other alloc, other free)
fn c(v: [u64; 8]) -> Counts {
    Counts {
        user_alloc: v[0],
        user_free: v[1],
        pt_alloc: v[2],
        pt_free: v[3],
        kstack_alloc: v[4],
        kstack_free: v[5],
        other_alloc: v[6],
        other_free: v[7],
        tlb: TlbCounts::default(),
    }
}

/// TLB flushes in each step of the story, worked out from where xv6 flushes.
/// The story makes no user loads or stores, so there are no hits or misses.
///
/// xv6-public flushes when it loads CR3: `switchuvm` (the scheduler, exec's
/// commit, growproc) and `switchkvm` (a process exits and the scheduler takes over):
/// - userinit: no switch (pid 1 is made, not run): 0;
/// - exec(init): the scheduler runs pid 1, then exec switches to the new table: 2;
/// - fork: pid 1 is running, fork loads nothing: 0;
/// - exec(sh) in pid 2: pid 1 gives up the CPU (sched → the scheduler's
///   switchkvm), the scheduler's switchuvm for pid 2, exec's: 3;
/// - fork of sh: 0;
/// - sbrk in pid 3: pid 2 gives up the CPU (switchkvm), the scheduler's
///   switchuvm for pid 3, growproc's switchuvm: 3;
/// - exec(echo) in pid 3, which is running: exec's switchuvm: 1;
/// - exit: sched() → the scheduler's switchkvm: 1;
/// - wait in pid 2: the scheduler runs pid 2: 1.
const X86_FLUSHES: [u64; 9] = [0, 2, 0, 3, 0, 3, 1, 1, 1];

/// xv6-riscv flushes with `sfence.vma` in the trampoline, twice a pass
/// (before and after its satp write): `uservec` as a process traps into
/// the kernel, `userret` as one returns to user space. A process the
/// scheduler picks is in the kernel (a new one starts in forkret): before
/// its system call it returns to user space and traps back. Passes:
/// - userinit: no process has run yet: 0;
/// - exec(init): pid 1 first returns to user space (forkret's userret),
///   traps in with exec (uservec) and returns in the new image: 3;
/// - fork: pid 1 traps in (uservec) and returns (userret): 2;
/// - exec(sh): pid 1 traps in (the timer), pid 2 first returns, traps in
///   with exec and returns: 4;
/// - fork of sh: pid 2 is running: in and out, 2;
/// - sbrk in pid 3: pid 2 traps in (the timer), pid 3 first returns, in, out: 4;
/// - exec(echo) in pid 3, which is running: in and out, 2;
/// - exit: pid 3 traps in and never returns: 1;
/// - wait: pid 2 sleeps in wait in the kernel; woken, it returns: 1.
const RISCV_PASSES: [u64; 9] = [0, 3, 2, 4, 2, 4, 2, 1, 1];

fn run(preset: Preset, heap: i64, expect: &[Counts]) -> Lab {
    let flushes =
        if preset.port() == pagelab_core::port::Port::Xv6Public { X86_FLUSHES } else { RISCV_PASSES.map(|p| 2 * p) };
    let mut lab = Lab::new(preset, ShmMode::Lab);
    let free0 = lab.kernel().kmem().nfree();
    for (i, (op, want)) in story(heap).into_iter().zip(expect).enumerate() {
        let step = lab.apply(op.clone()).unwrap_or_else(|e| panic!("step {i} {op:?}: {e}"));
        assert_eq!(step.result.error, None, "step {i} {op:?}");
        let tlb = TlbCounts { flushes: flushes[i], ..TlbCounts::default() };
        assert_eq!(step.counts, Counts { tlb, ..*want }, "{preset} step {i} {op:?}: {}", step.counts);
        assert!(audit(lab.kernel()).is_empty(), "{preset} step {i}: {:?}", audit(lab.kernel()));
        // countfree agrees with the allocator's counter, and with the pages counted.
        assert_eq!(lab.kernel().kmem().countfree(lab.kernel().mem()), lab.kernel().kmem().nfree());
    }
    // pid 1 (init) and pid 2 (sh) are left; everything pid 3 held is back.
    let live: Vec<u32> = lab.kernel().procs().live().map(|p| p.pid).collect();
    assert_eq!(live, vec![1, 2]);
    let used = free0 - lab.kernel().kmem().nfree();
    let held: u64 = live
        .iter()
        .map(|&pid| {
            let u = usage(lab.kernel(), pid);
            u.user + u.tables
        })
        .sum();
    // x86 adds a kernel stack per process; RISC-V a trapframe.
    assert_eq!(used, held + 2, "{preset}");
    lab
}

/// xv6-public with 224 MB. Every process's page directory maps the kernel:
/// KERNBASE..KERNBASE+PHYSTOP is 224 MB = 56 page tables of 4 MB, DEVSPACE
/// to 4 GB is 32 MB = 8 more, so setupkvm takes 1 + 64 = 65 pages, and the
/// user pages below 4 MB need one more page table: 66 page-table pages.
#[test]
fn story_on_xv6_public() {
    let expect = [
        // userinit: kstack (allocproc), setupkvm 65, inituvm: 1 page + its table.
        c([1, 0, 66, 0, 1, 0, 0, 0]),
        // exec init: setupkvm 65 + 1 table; init is 1 page, then guard + stack;
        // freevm of initcode's image: 1 page, 66 tables.
        c([3, 1, 66, 66, 0, 0, 0, 0]),
        // fork: kstack, copyuvm = setupkvm + 3 copied pages + 1 table.
        c([3, 0, 66, 0, 1, 0, 0, 0]),
        // exec sh: sh needs 2 pages, + guard + stack; the 3 copied pages go.
        c([4, 3, 66, 66, 0, 0, 0, 0]),
        // fork of sh: its 4 pages copied.
        c([4, 0, 66, 0, 1, 0, 0, 0]),
        // sbrk(32768): 8 pages, in the same page table.
        c([8, 0, 0, 0, 0, 0, 0, 0]),
        // exec echo: 1 page + guard + stack; the old 4 + 8 go.
        c([3, 12, 66, 66, 0, 0, 0, 0]),
        // exit frees nothing on xv6-public: the zombie keeps its memory...
        c([0, 0, 0, 0, 0, 0, 0, 0]),
        // ...until its parent waits: kstack, then freevm.
        c([0, 3, 0, 66, 0, 1, 0, 0]),
    ];
    let lab = run(Preset::Xv6Public, 32768, &expect);
    // Boot: frames from PGROUNDUP(V2P(end)) = 0x116000 up to PHYSTOP are 57344 - 278 = 57066;
    // kvmalloc takes 65 and startothers one boot stack for the second CPU.
    assert_eq!(lab.boot_step().nfree, 57066 - 65 - 1);
}

#[test]
fn first_frames_come_from_the_top_of_memory_on_xv6_public() {
    let mut lab = Lab::new(Preset::Xv6Public, ShmMode::Lab);
    let step = lab.apply(Op::Userinit).unwrap();
    // Every event, the folded loops opened up again.
    let kallocs: Vec<(u64, Owner)> = pagelab_core::trace::expand(&step.events)
        .filter_map(|e| match e.event {
            Event::Kalloc { pa, owner } => Some((pa.as_u64(), owner)),
            _ => None,
        })
        .collect();
    // kinit2 freed 4 MB..PHYSTOP upward, so the list starts at PHYSTOP - 4096
    // and goes down one page at a time.
    let top = 0x0E00_0000 - PGSIZE;
    assert_eq!(kallocs[0], (top, Owner::KernelStack { pid: 1 }));
    assert_eq!(kallocs[1], (top - PGSIZE, Owner::PageDir { pid: 1 }));
    // setupkvm's first mapping (I/O space at KERNBASE) makes the table for PDX 512.
    assert_eq!(kallocs[2], (top - 2 * PGSIZE, Owner::PageTable { pid: 1 }));
    // 64 kernel tables in all; then inituvm's page and the table for PDX 0.
    assert_eq!(kallocs.len(), 1 + 1 + 64 + 2);
    assert_eq!(kallocs[66], (top - 66 * PGSIZE, Owner::User { pid: 1 }));
    assert_eq!(kallocs[67], (top - 67 * PGSIZE, Owner::PageTable { pid: 1 }));
    let p = lab.kernel().procs().get(1).unwrap();
    assert_eq!(p.root.as_u64(), top - PGSIZE);
    assert_eq!((p.sz, p.regs.pc, p.regs.sp), (PGSIZE, 0, PGSIZE));
}

/// xv6-public with 2 MB: setupkvm maps KERNBASE..+2 MB with one table and
/// DEVSPACE with 8, so 1 + 1 + 8 = 10 pages, 11 with the user table.
#[test]
fn story_on_xv6_public_tiny() {
    let expect = [
        c([1, 0, 11, 0, 1, 0, 0, 0]),
        c([3, 1, 11, 11, 0, 0, 0, 0]),
        c([3, 0, 11, 0, 1, 0, 0, 0]),
        c([4, 3, 11, 11, 0, 0, 0, 0]),
        c([4, 0, 11, 0, 1, 0, 0, 0]),
        c([8, 0, 0, 0, 0, 0, 0, 0]),
        c([3, 12, 11, 11, 0, 0, 0, 0]),
        c([0, 0, 0, 0, 0, 0, 0, 0]),
        c([0, 3, 0, 11, 0, 1, 0, 0]),
    ];
    let lab = run(Preset::Xv6PublicTiny, 32768, &expect);
    // 512 frames, 278 below end; kpgdir 10; one boot stack.
    assert_eq!(lab.boot_step().nfree, 512 - 278 - 10 - 1);
}

/// Pages per step of the story on xv6-riscv, full-size or tiny (the same: no
/// process table there depends on the size of RAM). As xv6-riscv's user.ld
/// links them, init and echo are a text page and a data page, sh two text
/// pages and a data page; exec adds a guard page and a stack page.
fn riscv_story() -> [Counts; 9] {
    [
        // userinit: trapframe, proc_pagetable 3, uvmfirst: 1 page + 2 tables.
        c([1, 0, 5, 0, 0, 0, 1, 0]),
        // exec init: 1 argument page; proc_pagetable 3 + 2 for the user half; init's
        // text and data pages, guard, stack; the old image: 1 page, 5 tables.
        c([4, 1, 5, 5, 0, 0, 1, 1]),
        // fork: trapframe + 3 tables, uvmcopy: 4 pages + 2 tables.
        c([4, 0, 5, 0, 0, 0, 1, 0]),
        // exec sh: 2 text pages and a data page, + guard + stack; init's 4 go.
        c([5, 4, 5, 5, 0, 0, 1, 1]),
        c([5, 0, 5, 0, 0, 0, 1, 0]),
        // malloc's header is 16 bytes on RV64: morecore asks for 65536 bytes, 16 pages
        // from 0x5000, all under the L0 table that maps 0..2 MB.
        c([16, 0, 0, 0, 0, 0, 0, 0]),
        // exec echo hello world: 3 argument pages; echo's text and data pages, guard,
        // stack; the old image: sh's 5 pages and the 16 of the heap.
        c([4, 21, 5, 5, 0, 0, 3, 3]),
        // exit frees nothing; wait's freeproc frees the trapframe and the image.
        c([0, 0, 0, 0, 0, 0, 0, 0]),
        c([0, 4, 0, 5, 0, 0, 0, 1]),
    ]
}

/// xv6-riscv: a process's table has a root, an L1 and an L0 for the
/// trampoline and trapframe at the top (3 pages), and an L1 and an L0 for
/// the user pages at the bottom (2 more). sys_exec copies each argument into
/// a page of its own and frees them after exec ("other" pages), and each
/// process has a trapframe page.
#[test]
fn story_on_xv6_riscv() {
    let lab = run(Preset::Xv6Riscv, 65536, &riscv_story());
    // kinit frees PGROUNDUP(end) = 0x80022000 .. PHYSTOP: 32768 - 34 pages.
    // kvmmake: root; UART0 and VIRTIO0 share an L1 and an L0; PLIC's 64 MB
    // (xv6-riscv since July 2024; 4 MB before) needs 32 L0s; KERNBASE..PHYSTOP
    // needs an L1 and 64 L0s; the trampoline an L1 and an L0, which also holds
    // all 64 kernel stacks (64 pages). Then main's virtio_disk_init takes three
    // pages for the disk's rings (desc, avail, used).
    assert_eq!(lab.boot_step().nfree, 32768 - 34 - (1 + 2 + 32 + 65 + 2) - 64 - 3);
    // main runs kvminithart on each of the 3 harts QEMU starts (CPUS := 3 in
    // the Makefile): sfence.vma before and after its satp write, on each.
    let per_cpu: Vec<u32> = (0..3)
        .map(|c| {
            let n =
                lab.boot_step().events.iter().filter(|e| matches!(e.event, Event::TlbFlush { cpu, .. } if cpu == c));
            n.count() as u32
        })
        .collect();
    assert_eq!(per_cpu, [2, 2, 2]);
    let rings: Vec<&str> = lab
        .boot_step()
        .events
        .iter()
        .filter(|e| matches!(e.event, Event::Kalloc { owner: Owner::DiskRing, .. }))
        .map(|e| e.func)
        .collect();
    assert_eq!(rings, ["virtio_disk_init"; 3]);
}

#[test]
fn echo_argv_and_the_guard_page_on_xv6_riscv() {
    let lab = run(Preset::Xv6RiscvTiny, 65536, &riscv_story());
    // pid 2 is sh: exec("sh") left sz = 5 pages (2 text, data, guard, stack), the guard at 0x3000.
    let sh = lab.kernel().procs().get(2).unwrap();
    assert_eq!(sh.sz, 5 * PGSIZE);
    let t = lab.kernel().translate(Some(2), 0x3000, pagelab_core::scheme::Access::USER_READ).unwrap();
    let f = t.outcome.unwrap_err();
    assert_eq!(f.kind, pagelab_core::scheme::FaultKind::NotUser);
    // A load page fault: scause 13.
    assert_eq!(f.code, 13);
    // V|R|W, no U.
    assert_eq!(t.steps[2].entry & 0x3ff, 0x7);
}
