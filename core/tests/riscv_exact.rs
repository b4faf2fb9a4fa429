//! xv6-riscv, exactly: the story as the shell runs it (init's exec, sh's exec,
//! then `echo hello world`, `echo` and `echo a bb ccc dddd`, each as sh does:
//! fork, malloc's sbrk, exec, exit, wait), checked against what xv6-riscv
//! itself would print: the pgtbl lab's `vmprint` byte for byte, sp, sz, the
//! stack words, and the free count after every step.
//!
//! The expected values come from a small model of xv6-riscv written here
//! from its code, not from pagelab's: kalloc takes the head of a LIFO free
//! list (`kalloc.c`); `kinit` frees `PGROUNDUP(end)..PHYSTOP` upward, so the
//! head is the top page; and each function takes and gives back pages in
//! the order its code does (the comments on the model name them). The model
//! knows nothing of pagelab: it only counts frames.

use pagelab_core::addr::PGSIZE;
use pagelab_core::lab::scenario::parse;
use pagelab_core::lab::view::{stack_words, vmprint};
use pagelab_core::lab::{Lab, Op};

/// xv6-riscv's memlayout: PHYSTOP = KERNBASE + 128 MB; the trampoline page is
/// the kernel text page at `trampoline` (0x80007000 in the preset).
const PHYSTOP: u64 = 0x8800_0000;
const TRAMPOLINE_PA: u64 = 0x8000_7000;

// PTE bits (riscv.h).
const V: u64 = 1;
const R: u64 = 2;
const W: u64 = 4;
const X: u64 = 8;
const U: u64 = 16;

/// PA2PTE(pa) | flags.
fn pte(pa: u64, flags: u64) -> u64 {
    ((pa >> 12) << 10) | flags
}

/// The free list: the last page pushed is the first one kalloc hands out.
struct FreeList(Vec<u64>);

impl FreeList {
    /// `kinit`: `freerange(end, PHYSTOP)` kfrees each page from PGROUNDUP(end) up.
    fn kinit(end: u64) -> FreeList {
        let start = end.div_ceil(PGSIZE) * PGSIZE;
        FreeList((start..PHYSTOP).step_by(PGSIZE as usize).collect())
    }
    fn kalloc(&mut self) -> u64 {
        self.0.pop().expect("memory left")
    }
    fn kfree(&mut self, pa: u64) {
        self.0.push(pa);
    }
    fn nfree(&self) -> u64 {
        self.0.len() as u64
    }
}

/// A process as the model sees it: its trapframe, its page table's pages and
/// its user pages (va, frame, flags), lowest first.
#[derive(Clone)]
struct Proc {
    trapframe: u64,
    root: u64,
    /// The L1 and L0 tables on the way to the trampoline (L2 index 255).
    top: (u64, u64),
    /// The L1 and L0 tables for the user pages at the bottom (L2 index 0), once made.
    bottom: Option<(u64, u64)>,
    pages: Vec<(u64, u64, u64)>,
}

impl Proc {
    /// `proc_pagetable`: `uvmcreate` (the root), then mapping TRAMPOLINE walks
    /// down and allocates an L1 and an L0 table; TRAPFRAME shares them.
    fn pagetable(f: &mut FreeList, trapframe: u64) -> Proc {
        let root = f.kalloc();
        let top = (f.kalloc(), f.kalloc());
        Proc { trapframe, root, top, bottom: None, pages: Vec::new() }
    }

    /// `uvmalloc`/`uvmcopy`/`uvmfirst` for one page: kalloc the page, then
    /// `mappages`, whose walk allocates the bottom L1 and L0 on the first page.
    fn map(&mut self, f: &mut FreeList, va: u64, flags: u64) {
        let mem = f.kalloc();
        if self.bottom.is_none() {
            self.bottom = Some((f.kalloc(), f.kalloc()));
        }
        self.pages.push((va, mem, flags));
    }

    /// `proc_freepagetable`: unmap the trampoline and trapframe (nothing
    /// freed), `uvmfree`: `uvmunmap` kfrees the user pages from va 0 up, then
    /// `freewalk` frees each table after the tables below it: the bottom L0,
    /// L1, then the top L0, L1, and the root last.
    fn free_pagetable(&self, f: &mut FreeList) {
        for &(_, pa, _) in &self.pages {
            f.kfree(pa);
        }
        if let Some((l1, l0)) = self.bottom {
            f.kfree(l0);
            f.kfree(l1);
        }
        f.kfree(self.top.1);
        f.kfree(self.top.0);
        f.kfree(self.root);
    }

    /// What `vmprint` prints (the pgtbl lab's format).
    fn vmprint(&self) -> String {
        let mut s = format!("page table {:#018x}\n", self.root);
        let line = |s: &mut String, dots: &str, i: u64, e: u64, pa: u64| {
            s.push_str(&format!("{dots}{i}: pte {e:#018x} pa {pa:#018x}\n"));
        };
        if let Some((l1, l0)) = self.bottom {
            line(&mut s, " ..", 0, pte(l1, V), l1);
            line(&mut s, " .. ..", 0, pte(l0, V), l0);
            for &(va, pa, flags) in &self.pages {
                line(&mut s, " .. .. ..", va / PGSIZE, pte(pa, flags), pa);
            }
        }
        let (l1, l0) = self.top;
        line(&mut s, " ..", 255, pte(l1, V), l1);
        line(&mut s, " .. ..", 511, pte(l0, V), l0);
        // TRAPFRAME (L0 index 510): R|W; TRAMPOLINE (511): R|X; neither has PTE_U.
        line(&mut s, " .. .. ..", 510, pte(self.trapframe, R | W | V), self.trapframe);
        line(&mut s, " .. .. ..", 511, pte(TRAMPOLINE_PA, R | X | V), TRAMPOLINE_PA);
        s
    }

    fn sz(&self) -> u64 {
        self.pages.last().map_or(0, |p| p.0 + PGSIZE)
    }
}

/// A program as xv6-riscv's user.ld links it: text pages (R-X) from 0, then
/// data pages (RW) on the next page boundary.
struct Program {
    text: u64,
    data: u64,
}

/// init and echo: one text page and one data page; sh: two text pages and one data page.
const INIT: Program = Program { text: 1, data: 1 };
const SH: Program = Program { text: 2, data: 1 };
const ECHO: Program = Program { text: 1, data: 1 };

/// `sys_exec` copies each argument into a page of its own (`kalloc` in
/// argument order); `exec` builds a new table (`proc_pagetable`), loads the
/// text (`flags2perm(R|X)` = PTE_X, so R|X|U) and the data (PTE_W: R|W|U)
/// with `uvmalloc`, then the guard (`uvmclear` leaves R|W) and the stack
/// (R|W|U); it frees the old table (`proc_freepagetable`), and `sys_exec`
/// then kfrees the argument pages in order.
fn exec(f: &mut FreeList, p: &mut Proc, prog: &Program, nargs: usize) {
    let args: Vec<u64> = (0..nargs).map(|_| f.kalloc()).collect();
    let mut n = Proc::pagetable(f, p.trapframe);
    let mut va = 0;
    for _ in 0..prog.text {
        n.map(f, va, R | X | U | V);
        va += PGSIZE;
    }
    for _ in 0..prog.data {
        n.map(f, va, R | W | U | V);
        va += PGSIZE;
    }
    n.map(f, va, R | W | V);
    n.map(f, va + PGSIZE, R | W | U | V);
    p.free_pagetable(f);
    for a in args {
        f.kfree(a);
    }
    *p = n;
}

/// `fork`: `allocproc` kallocs the trapframe and makes the table
/// (`proc_pagetable`); `uvmcopy` kallocs and maps each page in va order.
fn fork(f: &mut FreeList, parent: &Proc) -> Proc {
    let tf = f.kalloc();
    let mut c = Proc::pagetable(f, tf);
    for &(va, _, flags) in &parent.pages {
        c.map(f, va, flags);
    }
    c
}

/// `sbrk(n)`: `growproc` → `uvmalloc` maps R|W|U pages above sz (the tables exist).
fn sbrk(f: &mut FreeList, p: &mut Proc, bytes: u64) {
    let sz = p.sz();
    for va in (sz..sz + bytes).step_by(PGSIZE as usize) {
        p.map(f, va, R | W | U | V);
    }
}

/// `wait` → `freeproc`: kfree the trapframe, then `proc_freepagetable`.
fn reap(f: &mut FreeList, p: &Proc) {
    f.kfree(p.trapframe);
    p.free_pagetable(f);
}

/// The words exec leaves from sp up: the argv pointers, their null, then
/// each string, pushed from the top of the stack page, each start rounded
/// down to 16 (`sp -= strlen + 1; sp -= sp % 16`); the pointer array below
/// them, also rounded to 16. Little-endian 8-byte words.
fn stack(top: u64, argv: &[&str]) -> (u64, Vec<(u64, u64)>) {
    let mut sp = top;
    let mut at = Vec::new();
    for a in argv {
        sp -= a.len() as u64 + 1;
        sp -= sp % 16;
        at.push(sp);
    }
    let strings_sp = sp;
    sp -= (argv.len() as u64 + 1) * 8;
    sp -= sp % 16;
    let mut mem = vec![0u8; (top - sp) as usize];
    for (i, a) in argv.iter().enumerate() {
        let o = (at[i] - sp) as usize;
        mem[o..o + a.len()].copy_from_slice(a.as_bytes());
        mem[i * 8..i * 8 + 8].copy_from_slice(&at[i].to_le_bytes());
    }
    assert!(sp + (argv.len() as u64 + 1) * 8 <= strings_sp);
    let words = mem
        .chunks(8)
        .enumerate()
        .map(|(i, w)| (sp + 8 * i as u64, u64::from_le_bytes(w.try_into().unwrap())))
        .collect();
    (sp, words)
}

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// Check pagelab against the model after `op`: free count, and for `show`, the
/// process's vmprint, sz and sp.
fn check(lab: &mut Lab, op: Op, model_free: u64, what: &str) {
    let step = lab.apply(op).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(step.result.error, None, "{what}");
    assert_eq!(lab.kernel().kmem().nfree(), model_free, "free pages after {what}");
}

fn show(lab: &Lab, pid: u32, p: &Proc, argv: &[&str], what: &str) {
    let k = lab.kernel();
    assert_eq!(vmprint(k, pid), p.vmprint(), "vmprint of pid {pid} after {what}");
    let proc = k.procs().get(pid).unwrap();
    assert_eq!(proc.sz, p.sz(), "sz after {what}");
    let (sp, want) = stack(p.sz(), argv);
    assert_eq!(proc.regs.sp, sp, "sp after {what}");
    let got: Vec<(u64, u64)> = stack_words(k, pid).iter().map(|w| (w.va, w.value)).collect();
    assert_eq!(got, want, "the stack after {what}");
}

#[test]
fn the_shell_runs_three_echos_as_xv6_riscv_does() {
    // Two kernel builds: the preset line's `end` is the kernel.sym symbol of the build.
    for end in [0x8002_1d60u64, 0x8002_5123] {
        let text = format!("preset xv6-riscv end={end:#x}\n");
        let mut lab = Lab::from_scenario(&parse(&text).unwrap()).unwrap();
        let mut f = FreeList::kinit(end);
        // kvminit → kvmmake: the root; UART0 and VIRTIO0 (L2 index 0, L1 index 128): an L1
        // and an L0; the PLIC's 64 MB (L1 96 to 127, as xv6-riscv maps it since July 2024):
        // 32 L0s; KERNBASE..PHYSTOP (128 MB): an L1 and 64 L0s; TRAMPOLINE (L2 255): an L1
        // and an L0, which also holds the 64 kernel stacks that proc_mapstacks kallocs; then
        // virtio_disk_init's three rings.
        for _ in 0..(1 + 2 + 32 + 65 + 2) + 64 + 3 {
            f.kalloc();
        }
        assert_eq!(lab.kernel().kmem().nfree(), f.nfree(), "free pages after boot (end {end:#x})");

        // userinit: allocproc's trapframe and table, then uvmfirst's page at 0 (R|W|X|U).
        let tf = f.kalloc();
        let mut init = Proc::pagetable(&mut f, tf);
        init.map(&mut f, 0, R | W | X | U | V);
        check(&mut lab, Op::Userinit, f.nfree(), "userinit");

        // initcode: exec("/init", {"/init", 0}).
        exec(&mut f, &mut init, &INIT, 1);
        check(&mut lab, Op::Exec { pid: 1, path: "/init".into(), argv: words(&["/init"]) }, f.nfree(), "exec of init");
        // Text (0x1b), data (0x17), guard (0x07), stack (0x17); sz 0x4000, sp 0x3fe0.
        assert_eq!(init.sz(), 0x4000);
        show(&lab, 1, &init, &["/init"], "exec of init");
        assert_eq!(lab.kernel().procs().get(1).unwrap().regs.sp, 0x3fe0);

        // init forks; the child execs sh ({"sh", 0}).
        let mut sh = fork(&mut f, &init);
        check(&mut lab, Op::Fork { pid: 1 }, f.nfree(), "fork of init");
        exec(&mut f, &mut sh, &SH, 1);
        check(&mut lab, Op::Exec { pid: 2, path: "sh".into(), argv: words(&["sh"]) }, f.nfree(), "exec of sh");
        assert_eq!(sh.sz(), 0x5000);
        show(&lab, 2, &sh, &["sh"], "exec of sh");

        // Three command lines, each run by the shell: fork, the child's malloc asks
        // for 4096 16-byte headers (sbrk(65536), 16 pages), exec, exit, wait.
        for (i, argv) in [&["echo", "hello", "world"][..], &["echo"][..], &["echo", "a", "bb", "ccc", "dddd"][..]]
            .into_iter()
            .enumerate()
        {
            let pid = 3 + i as u32;
            let what = argv.join(" ");
            let mut child = fork(&mut f, &sh);
            check(&mut lab, Op::Fork { pid: 2 }, f.nfree(), &format!("{what}: fork"));
            sbrk(&mut f, &mut child, 65536);
            check(&mut lab, Op::Sbrk { pid, n: 65536 }, f.nfree(), &format!("{what}: sbrk"));
            exec(&mut f, &mut child, &ECHO, argv.len());
            check(
                &mut lab,
                Op::Exec { pid, path: "echo".into(), argv: words(argv) },
                f.nfree(),
                &format!("{what}: exec"),
            );
            show(&lab, pid, &child, argv, &what);
            // exit frees nothing; the shell's wait frees the child.
            check(&mut lab, Op::Exit { pid }, f.nfree(), &format!("{what}: exit"));
            reap(&mut f, &child);
            check(&mut lab, Op::Wait { pid: 2 }, f.nfree(), &format!("{what}: wait"));
        }
    }
}

#[test]
fn the_models_own_numbers() {
    // The derivations above, by hand, for end = 0x80021d60: kinit frees
    // (0x88000000 - 0x80022000) / 4096 = 32734 pages; boot takes 72 + 64 + 3.
    let mut f = FreeList::kinit(0x8002_1d60);
    assert_eq!(f.nfree(), 32734);
    // The first kalloc is the top page.
    assert_eq!(f.kalloc(), PHYSTOP - PGSIZE);
    // echo hello world: "echo\0" at 0x3ff0, "hello\0" at 0x3fe0, "world\0" at 0x3fd0, the
    // four pointers at 0x3fb0.
    let (sp, w) = stack(0x4000, &["echo", "hello", "world"]);
    assert_eq!(sp, 0x3fb0);
    assert_eq!(&w[..4], &[(0x3fb0, 0x3ff0), (0x3fb8, 0x3fe0), (0x3fc0, 0x3fd0), (0x3fc8, 0)]);
    // echo a bb ccc dddd: strings at 0x3ff0, 0x3fe0, 0x3fd0, 0x3fc0, 0x3fb0; six pointers (48
    // bytes) below: 0x3f80.
    assert_eq!(stack(0x4000, &["echo", "a", "bb", "ccc", "dddd"]).0, 0x3f80);
    // PTE of a text page at 0x87f69000: (0x87f69 << 10) | R|X|U|V = 0x21fda41b.
    assert_eq!(pte(0x87f6_9000, R | X | U | V), 0x21fd_a41b);
}
