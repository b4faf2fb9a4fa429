//! Predict, then check: every kind of question on both machines, its answer
//! worked out by hand from xv6's code (the comments show how), a right answer
//! marked right, a wrong one marked wrong with the reason that decides it,
//! and answers that cannot be read refused in plain words.

use pagelab_core::lab::quiz::answer::{self, AnswerError, Verdict};
use pagelab_core::lab::quiz::sets::{self, SETS, student_seed};
use pagelab_core::lab::quiz::{self, Expected, Question, Quiz};
use pagelab_core::lab::scenario::parse;

fn build(text: &str) -> Quiz {
    quiz::build(&parse(text).unwrap(), 0).unwrap_or_else(|e| panic!("{e}"))
}

fn grade(q: &Question, a: &str) -> Verdict {
    answer::grade(q, a).unwrap_or_else(|e| panic!("question {} ({}): {a:?} unreadable: {e}", q.number, q.ask))
}

fn right(q: &Question, a: &str) {
    let v = grade(q, a);
    assert!(v.right, "question {} ({}): {a:?} should be right: {}", q.number, q.ask, v.message);
    assert!(v.message.starts_with("Right"), "{}", v.message);
}

/// `a` is wrong, and the message says what decides it (`because`).
fn wrong(q: &Question, a: &str, because: &str) {
    let v = grade(q, a);
    assert!(!v.right, "question {} ({}): {a:?} should be wrong", q.number, q.ask);
    assert!(v.message.starts_with("Not right"), "{}", v.message);
    assert!(v.message.contains(because), "question {} ({}): {:?} lacks {because:?}", q.number, q.ask, v.message);
}

fn addr(q: &Question) -> u64 {
    match q.expected {
        Expected::Address { value } => value,
        ref e => panic!("question {} ({}): {e:?} is not an address", q.number, q.ask),
    }
}

fn count(q: &Question) -> u64 {
    match q.expected {
        Expected::Count { value } => value,
        ref e => panic!("question {} ({}): {e:?} is not a count", q.number, q.ask),
    }
}

// xv6-public as its Makefile runs it. Boot: kinit1 frees V2P(end) rounded up,
// 0x116000, to 4 MB (746 pages); kvmalloc and startothers take 66 of them
// from the top of that range; kinit2 then frees 4 MB..PHYSTOP (0xe000000)
// upward, so the head is 0xdfff000 and 746 − 66 + 56320 = 57000 are free.
const X86_STORY: &str = "\
preset xv6-public
ask pages
ask kalloc
ask free
userinit
ask pages
ask sp 1
ask argc 1
ask word 1 0x2ff8
ask word 1 0x2fec
ask guard 1
ask head
ask entry 1 0x2fe4 1
ask entry 1 0x2fe4 0
ask translate 1 0x2fe4 user-write
ask translate 1 0x1000 user-read
ask translate 1 0x3000 user-read
ask translate 1 0x400000 user-read
exec 1 /init
ask child
ask kalloc
ask free
fork 1
ask sz 2
ask changed 2
sbrk 2 0x1800
ask changed 2
ask sz 2
sbrk 2 -0x1000
ask fields 0x2fcc
ask fields 0x80100000
";

#[test]
fn the_story_on_xv6_public_by_hand() {
    let q = build(X86_STORY).questions;
    assert_eq!(q.len(), 25);
    // userinit: allocproc's kernel stack (the head, 0xdfff000), setupkvm's page
    // directory and 64 page tables (KERNBASE..+224 MB: 56; DEVSPACE..4 GB: 8),
    // inituvm's page and its page table: user 1, page tables 66, 68 pages in all.
    assert_eq!(q[0].expected, Expected::Pages { user_alloc: 1, user_free: 0, pt_alloc: 66, pt_free: 0 });
    right(&q[0], "1 0 66 0");
    wrong(&q[0], "1 0 1 0", "page-table pages allocated: 66, not 1");
    wrong(&q[0], "1 0 1 0", "setupkvm: allocated 65 page-table pages");
    assert_eq!(addr(&q[1]), 0xdfff000);
    right(&q[1], "0xdfff000");
    right(&q[1], "dfff000");
    right(&q[1], "#234876928");
    wrong(&q[1], "0x3ff000", "head of the free list, 0xdfff000");
    assert_eq!(count(&q[2]), 57000 - 68);
    right(&q[2], "56932");
    wrong(&q[2], "56999", "57000 − 68 + 0 = 56932");

    // exec of init. Frames: userinit took 0xdfff000 (kstack), 0xdffe000 (pgdir),
    // 0xdffd000..0xdfbe000 (64 kernel page tables), 0xdfbd000 (initcode) and
    // 0xdfbc000 (its page table). exec's setupkvm takes 0xdfbb000 (pgdir) and 64
    // more down to 0xdf7b000; allocuvm kallocs init's page 0xdf7a000 and then
    // walkpgdir its page table 0xdf79000; the guard 0xdf78000 and the stack
    // 0xdf77000. freevm frees initcode's page, the page tables in PDX order and
    // the page directory 0xdffe000 last: it is the head afterwards.
    assert_eq!(q[3].expected, Expected::Pages { user_alloc: 3, user_free: 1, pt_alloc: 66, pt_free: 66 });
    // "/init\0" (6 bytes): (0x3000 − 6) & ~3 = 0x2ff8; then ustack's 3 + argc + 1 = 5
    // words (fake PC, argc, argv, argv[0], 0): 0x2ff8 − 20 = 0x2fe4.
    assert_eq!(addr(&q[4]), 0x2fe4);
    wrong(&q[4], "0x2fe8", "\"/init\" at 0x2ff8");
    assert_eq!(count(&q[5]), 1);
    // The bytes '/', 'i', 'n', 'i' at 0x2ff8..0x2ffb, little-endian.
    assert_eq!(addr(&q[6]), 0x696e_692f);
    right(&q[6], "0x696e692f");
    wrong(&q[6], "0x2f696e69", "the first byte is the lowest");
    // 0x2fe4 fake PC, 0x2fe8 argc, 0x2fec argv = the address of argv[0], 0x2ff0.
    assert_eq!(addr(&q[7]), 0x2ff0);
    wrong(&q[7], "0x2ff8", "argv: the address of argv[0]");
    // The guard: exec's two pages start at PGROUNDUP(0x28c) = 0x1000; clearpteu
    // leaves PTE_P|PTE_W (0x3).
    assert_eq!(q[8].expected, Expected::Page { va: 0x1000, flags: 0x3 });
    right(&q[8], "0x1000 PTE_P|PTE_W");
    right(&q[8], "1000 p w");
    right(&q[8], "0x1000 0x3");
    wrong(&q[8], "0x1000 PTE_P|PTE_W|PTE_U", "clearpteu clears PTE_U");
    wrong(&q[8], "0x2000 PTE_P|PTE_W", "the page is 0x1000, not 0x2000");
    assert_eq!(addr(&q[9]), 0xdffe000);
    // The walk of 0x2fe4: the page directory 0xdfbb000, PDX 0 → its entry at
    // 0xdfbb000; the page table 0xdf79000, PTX 2 → 0xdf79000 + 2 × 4.
    assert_eq!(addr(&q[10]), 0xdfbb000);
    assert_eq!(addr(&q[11]), 0xdf7_9008);
    wrong(&q[11], "0xdf79002", "each entry is 4 bytes");
    // A user write to the stack reaches frame 0xdf77000 + 0xfe4.
    assert_eq!(q[12].expected, Expected::Translate { pa: Some(0xdf7_7fe4), level: None, reason: None, also: vec![] });
    right(&q[12], "0xdf77fe4");
    wrong(&q[12], "fault PTX no-user", "Not right: the outcome is an address, not a fault.");
    // The guard page: present, no PTE_U: the PTX entry stops a user read.
    assert_eq!(
        q[13].expected,
        Expected::Translate { pa: None, level: Some(0), reason: Some("no-user".into()), also: vec![] }
    );
    right(&q[13], "fault PTX no-user");
    right(&q[13], "fault at PTX PTE_U");
    wrong(&q[13], "fault PDX no-user", "the level is PTX, not PDX");
    wrong(&q[13], "fault PTX not-present", "the reason is no-user, not not-present");
    wrong(&q[13], "0xdf78000", "no user bit");
    // Above sz: PTX 3 of the same page table is empty.
    assert_eq!(
        q[14].expected,
        Expected::Translate { pa: None, level: Some(0), reason: Some("not-present".into()), also: vec![] }
    );
    // 0x400000 is PDX 1, which init's page directory does not have.
    assert_eq!(
        q[15].expected,
        Expected::Translate { pa: None, level: Some(1), reason: Some("not-present".into()), also: vec![] }
    );
    right(&q[15], "fault PDX PTE_P");

    // fork: copyuvm copies init's 3 pages (sz 0x3000). Its first kalloc is the
    // kernel stack: the head, 0xdffe000. kstack + 65 + 3 pages + 1 page table = 70.
    assert_eq!(count(&q[16]), 3);
    assert_eq!(addr(&q[17]), 0xdffe000);
    // Free after init's exec: 56932 − (65 + 1 + 1 + 2) + (1 + 66) = 56930.
    assert_eq!(count(&q[18]), 56930 - 70);
    // sbrk 0x1800: sz 0x3000 + 0x1800 = 0x4800; allocuvm maps 0x3000 and 0x4000.
    assert_eq!(addr(&q[19]), 0x4800);
    assert_eq!(q[20].expected, Expected::PageSet { pages: vec![0x3000, 0x4000] });
    right(&q[20], "0x3000-0x5000");
    right(&q[20], "0x3000, 0x4000");
    wrong(&q[20], "0x3000", "the pages are 0x3000 0x4000, not 0x3000");
    // sbrk −0x1000: sz 0x3800; deallocuvm frees from PGROUNDUP(0x3800) = 0x4000.
    assert_eq!(q[21].expected, Expected::PageSet { pages: vec![0x4000] });
    assert_eq!(addr(&q[22]), 0x3800);
    // 0x2fcc: PDX = 0x2fcc >> 22 = 0, PTX = (0x2fcc >> 12) & 0x3ff = 2, offset 0xfcc.
    assert_eq!(
        q[23].expected,
        Expected::Fields { fields: vec![("PDX".into(), 0), ("PTX".into(), 2), ("offset".into(), 0xfcc)] }
    );
    right(&q[23], "0 2 0xfcc");
    right(&q[23], "PDX=0 PTX=2 offset=0xfcc");
    right(&q[23], "ptx=2, offset=#4044, pdx=0");
    wrong(&q[23], "0 2 0xfc", "the offset is 0xfcc, not 0xfc");
}

#[test]
fn kernel_addresses_on_xv6_public() {
    // KERNBASE + 1 MB: PDX 512 (0x80100000 >> 22), PTX 256, offset 0.
    let q = build("preset xv6-public\nask fields 0x80100000\n").questions;
    assert_eq!(
        q[0].expected,
        Expected::Fields { fields: vec![("PDX".into(), 512), ("PTX".into(), 256), ("offset".into(), 0)] }
    );
    right(&q[0], "0x200 0x100 0");
    right(&q[0], "512 256 0");
}

// xv6-riscv with `end` = 0x80021d60: kinit frees 0x80022000..PHYSTOP upward;
// kvminit takes 102 page-table pages (the PLIC's 64 MB alone 32 L0s) and 64 kernel stacks and virtio_disk_init
// three rings, from the top: 0x87fff000 down to 0x87f57000. 32565 are free.
const RISCV_STORY: &str = "\
preset xv6-riscv end=0x80021d60
ask pages
ask kalloc
ask free
userinit
ask pages
ask sp 1
ask argc 1
ask word 1 0x3ff0
ask word 1 0x3fe0
ask guard 1
ask head
ask entry 1 0x3fe0 2
ask entry 1 0x3fe0 0
ask translate 1 0x3fe0 user-write
ask translate 1 0x2000 user-read
ask translate 1 0x0 user-write
ask translate 1 0x1000 user-exec
ask translate 1 0x4000 user-read
exec 1 /init
ask child
ask kalloc
ask free
fork 1
ask changed 2
ask sz 2
sbrk 2 6144
ask fields 0x3fffffe000
";

#[test]
fn the_story_on_xv6_riscv_by_hand() {
    let q = build(RISCV_STORY).questions;
    assert_eq!(q.len(), 23);
    // userinit: allocproc's trapframe (the head, 0x87f56000), proc_pagetable's
    // root and the L1 and L0 that map the trampoline; uvmfirst's page and its L1
    // and L0: user 1, page tables 5, 7 pages in all.
    assert_eq!(q[0].expected, Expected::Pages { user_alloc: 1, user_free: 0, pt_alloc: 5, pt_free: 0 });
    assert_eq!(addr(&q[1]), 0x87f5_6000);
    assert_eq!(count(&q[2]), 32565 - 7);
    // exec of init: sys_exec's argument copy 0x87f4f000; the new root 0x87f4e000,
    // L1 0x87f4d000 and L0 0x87f4c000 for the trampoline; text 0x87f4b000 with its
    // L1 0x87f4a000 and L0 0x87f49000; data 0x87f48000, guard 0x87f47000, stack
    // 0x87f46000. The old table's initcode page and 5 tables are freed, then the
    // argument copy last: the head is 0x87f4f000.
    assert_eq!(q[3].expected, Expected::Pages { user_alloc: 4, user_free: 1, pt_alloc: 5, pt_free: 5 });
    // "/init\0": 0x4000 − 6 = 0x3ffa, down to 16: 0x3ff0; argv[0] and its null:
    // 0x3ff0 − 16 = 0x3fe0.
    assert_eq!(addr(&q[4]), 0x3fe0);
    right(&q[4], "0x3fe0");
    wrong(&q[4], "0x3fe8", "sp −= sp % 16");
    assert_eq!(count(&q[5]), 1);
    // "/init\0" and two bytes of padding as one 8-byte word, little-endian.
    assert_eq!(addr(&q[6]), 0x74_696e_692f);
    // argv[0] at sp: the address of "/init".
    assert_eq!(addr(&q[7]), 0x3ff0);
    wrong(&q[7], "0x3fe0", "argv[0]: the address where exec copied \"/init\"");
    // The guard: text at 0, data at 0x1000, guard 0x2000; uvmclear leaves PTE_V|PTE_R|PTE_W.
    assert_eq!(q[8].expected, Expected::Page { va: 0x2000, flags: 0x7 });
    right(&q[8], "0x2000 PTE_V|PTE_R|PTE_W");
    right(&q[8], "0x2000 v r w");
    wrong(&q[8], "0x2000 PTE_V|PTE_R|PTE_W|PTE_U", "uvmclear clears PTE_U");
    assert_eq!(addr(&q[9]), 0x87f4_f000);
    // The walk of 0x3fe0: root 0x87f4e000, L2 0 → 0x87f4e000; L0 table 0x87f49000,
    // L0 index 3 → 0x87f49000 + 3 × 8.
    assert_eq!(addr(&q[10]), 0x87f4_e000);
    assert_eq!(addr(&q[11]), 0x87f4_9018);
    wrong(&q[11], "0x87f4900c", "each entry is 8 bytes");
    assert_eq!(q[12].expected, Expected::Translate { pa: Some(0x87f4_6fe0), level: None, reason: None, also: vec![] });
    // The guard (no PTE_U), the text (no PTE_W), the data (no PTE_X), above sz.
    assert_eq!(
        q[13].expected,
        Expected::Translate { pa: None, level: Some(0), reason: Some("no-user".into()), also: vec![] }
    );
    right(&q[13], "fault L0 no-user");
    assert_eq!(
        q[14].expected,
        Expected::Translate { pa: None, level: Some(0), reason: Some("read-only".into()), also: vec![] }
    );
    right(&q[14], "fault l0 PTE_W");
    wrong(&q[14], "fault L0 no-user", "the reason is read-only, not no-user");
    assert_eq!(
        q[15].expected,
        Expected::Translate { pa: None, level: Some(0), reason: Some("no-exec".into()), also: vec![] }
    );
    assert_eq!(
        q[16].expected,
        Expected::Translate { pa: None, level: Some(0), reason: Some("not-present".into()), also: vec![] }
    );
    // fork: uvmcopy copies text, data, guard, stack; the first kalloc is the
    // trapframe, the head 0x87f4f000. Pages: trapframe 1 + 5 tables + 4 = 10.
    assert_eq!(count(&q[17]), 4);
    assert_eq!(addr(&q[18]), 0x87f4_f000);
    // After exec: 32558 − (1 + 5 + 4) + (1 + 5 + 1) = 32555.
    assert_eq!(count(&q[19]), 32555 - 10);
    // sbrk 6144: sz 0x4000 + 0x1800 = 0x5800: pages 0x4000 and 0x5000.
    assert_eq!(q[20].expected, Expected::PageSet { pages: vec![0x4000, 0x5000] });
    assert_eq!(addr(&q[21]), 0x5800);
    // TRAPFRAME = MAXVA − 2 pages = 0x3fffffe000: L2 255, L1 511, L0 510, offset 0.
    assert_eq!(
        q[22].expected,
        Expected::Fields {
            fields: vec![("L2".into(), 255), ("L1".into(), 511), ("L0".into(), 510), ("offset".into(), 0)]
        }
    );
    right(&q[22], "255 511 510 0");
    right(&q[22], "0xff 0x1ff 0x1fe 0x0");
    wrong(&q[22], "255 511 511 0", "L0 is 510, not 511");
}

#[test]
fn shared_memory_by_hand() {
    // After userinit the head is 0xdfbb000 (userinit's last kalloc took
    // 0xdfbc000, initcode's page table). openshmem's frame is that page; pid 1's
    // sz is 0x1000, so it maps there. The lab's fork shares it (count 2);
    // each close takes one away; the last frees it.
    let q = build(
        "preset xv6-public\nuserinit\nask kalloc\nask changed 1\nopenshmem 1 25\nask shmframe 25\nask shmrefs 25\n\
         fork 1\nask shmfreed 25\ncloseshmem 1 25\n",
    )
    .questions;
    assert_eq!(addr(&q[0]), 0xdfbb000);
    assert_eq!(q[1].expected, Expected::PageSet { pages: vec![0x1000] });
    assert_eq!(addr(&q[2]), 0xdfbb000);
    assert_eq!(count(&q[3]), 2);
    wrong(&q[3], "1", "pid 1, pid 2");
    assert_eq!(q[4].expected, Expected::YesNo { yes: false });
    right(&q[4], "no");
    wrong(&q[4], "yes", "after it the count is 1");
    let q = build("preset xv6-public\nuserinit\nopenshmem 1 25\nask shmfreed 25\nask shmrefs 25\ncloseshmem 1 25\n")
        .questions;
    assert_eq!(q[0].expected, Expected::YesNo { yes: true });
    right(&q[0], "y");
    wrong(&q[0], "no", "the count goes from 1 to 0");
    assert_eq!(count(&q[1]), 0);
}

#[test]
fn unreadable_answers_say_why() {
    let q = build(X86_STORY).questions;
    let cases: &[(usize, &str, &str)] = &[
        (1, "", "nothing is written"),
        (1, "-0x10", "without a sign"),
        (1, "0xzz", "`z` is not a hex digit"),
        (1, "#12a", "`a` is not a decimal digit"),
        (1, "0x1_0000_0000_0000_0000", "too large"),
        (2, "twelve", "`t` is not a decimal digit"),
        (0, "1 0 66", "write four numbers"),
        (8, "0x1000", "then its flags"),
        (8, "0x1000 PTE_Q", "`PTE_Q` is not a flag here"),
        (13, "fault", "at which level"),
        (13, "fault PTX", "add a reason"),
        (13, "fault no-user", "at which level"),
        (13, "fault PTY no-user", "`PTY` is neither a level"),
        (13, "0x1 0x2", "one physical address"),
        (20, "0x3100", "not the start of a page"),
        (20, "0x5000-0x3000", "is empty"),
        (23, "0 2", "write 3 numbers"),
        (23, "PDX=0 PTX=2", "offset is missing"),
        (23, "PDX=0 PDX=0 offset=0", "PDX is given twice"),
        (23, "PGX=0 PTX=2 offset=0", "`PGX` is not a field here"),
    ];
    for (i, a, says) in cases {
        let e: AnswerError = answer::grade(&q[*i], a).expect_err(a);
        assert!(e.message.contains(says), "{a:?}: {:?} lacks {says:?}", e.message);
    }
    let long = "1".repeat(answer::MAX_ANSWER + 1);
    assert!(answer::grade(&q[1], &long).unwrap_err().message.contains("too long"));
    let q = build("preset xv6-public\nuserinit\nopenshmem 1 25\nask shmfreed 25\ncloseshmem 1 25\n").questions;
    assert!(answer::grade(&q[0], "maybe").unwrap_err().message.contains("yes or no"));
}

#[test]
fn sets_that_cannot_be_asked_say_where() {
    let err = |text: &str| quiz::build(&parse(text).unwrap(), 0).unwrap_err().to_string();
    assert!(err("userinit\nask pages\n").contains("no operation follows it"), "{}", err("userinit\nask pages\n"));
    assert!(err("userinit\nask sp 4\nfork 1\n").contains("there is no pid 4"));
    assert!(err("userinit\nfork 1\nask kalloc\nkill 2\n").contains("allocates no page"));
    assert!(err("userinit\nask guard 1\nfork 1\n").contains("no guard page"));
    assert!(err("userinit\nask word 1 0x10\nexec 1 /init\n").contains("is not a word of the stack"));
    assert!(err("userinit\nask shmframe 3\nfork 1\n").contains("not in use"));
    assert!(err("userinit\nfork 1\nask child\nkill 2\n").contains("is not one"));
    assert!(err("userinit\nask entry 1 0x400000 0\nfork 1\n").contains("before it reads a level-0 entry"));
    assert!(err("fork 1\n").contains("operation 1 was refused"));
    assert!(err("userinit\nask shmrefs 2147483648\nfork 1\n").contains("does not fit an int"));
    // The parser checks the words themselves.
    for (text, says) in [
        ("ask\n", "missing argument"),
        ("ask size 1\n", "unknown question `size`"),
        ("ask SP 1\n", "write `sp`"),
        ("ask sp\n", "ask sp PID"),
        ("ask pages 1\n", "too many arguments"),
        ("ask translate 1 0x0 user-jump\n", "unknown access `user-jump`"),
        ("ask entry 1 0x0 L1\n", "not a level of xv6-public"),
        ("preset xv6-riscv\nask entry 1 0x0 3\n", "at most 2"),
        ("ask entry 1 0x0 2\n", "levels 0 to 1"),
        ("ask fields -1\n", "cannot be negative"),
    ] {
        let e = parse(text).unwrap_err();
        assert!(e.message.contains(says), "{text:?}: {e}");
    }
}

#[test]
fn seeds_choose_the_same_set_every_time() {
    for (name, _) in SETS {
        let a = quiz::build(&parse(&sets::set_text(name, 11).unwrap()).unwrap(), 11).unwrap();
        let b = quiz::build(&parse(&sets::set_text(name, 11).unwrap()).unwrap(), 11).unwrap();
        assert_eq!(a.questions, b.questions, "{name}");
        // Every question of a built-in set has at least two hints, and its own
        // answer grades right.
        for q in &a.questions {
            assert!(q.hints.len() >= 2, "{name} {}: {:?}", q.ask, q.hints);
            right(q, &q.answer);
        }
    }
    // Different seeds give different variants of a generated set.
    let texts: Vec<String> = (0..8).map(|s| sets::set_text("quiz-exec-x86", s).unwrap()).collect();
    assert!(texts.iter().any(|t| *t != texts[0]));
    // `?` chosen by the seed: different seeds, different addresses.
    let s = parse(sets::QUIZ_STORY_X86).unwrap();
    let asks: Vec<String> = (0..8)
        .map(|seed| quiz::build(&s, seed).unwrap().questions.iter().map(|q| q.ask.to_string()).collect())
        .collect();
    assert!(asks.iter().any(|a| *a != asks[0]));
    // A student id is FNV-1a of its bytes: the empty id is the offset basis,
    // "a" is (basis ^ 0x61) × the FNV prime (mod 2^64).
    assert_eq!(student_seed(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(student_seed("a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(student_seed("  a "), student_seed("a"));
    assert_eq!(sets::parse_seed(" 42 "), Ok(42));
    assert!(
        sets::parse_seed("-1").is_err()
            && sets::parse_seed("").is_err()
            && sets::parse_seed("99999999999999999999").is_err()
    );
    // Hex after 0x, as the widget README says: 0x10 is 16, and 2^64 - 1 fits.
    assert_eq!(sets::parse_seed("0x10"), Ok(16));
    assert_eq!(sets::parse_seed("0xffffffffffffffff"), Ok(u64::MAX));
    assert!(sets::parse_seed("0x10000000000000000").unwrap_err().contains("too large"));
    assert!(sets::parse_seed("0x").unwrap_err().contains("not a whole number"));
    assert!(sets::parse_seed("0xg").unwrap_err().contains("hex digits"));
    assert!(sets::parse_seed("1f").unwrap_err().contains("not a whole number"));
}

#[test]
fn the_concrete_set_prints_and_reads_back() {
    // The built set's scenario has every `?` chosen, and reads back the same.
    let s = parse(sets::QUIZ_STORY_RISCV).unwrap();
    let a = quiz::build(&s, 5).unwrap();
    let text = pagelab_core::lab::scenario::print(&a.scenario);
    assert!(text.lines().filter(|l| l.starts_with("ask ")).all(|l| !l.contains('?')), "{text}");
    let b = quiz::build(&parse(&text).unwrap(), 99).unwrap();
    assert_eq!(
        a.questions.iter().map(|q| &q.expected).collect::<Vec<_>>(),
        b.questions.iter().map(|q| &q.expected).collect::<Vec<_>>()
    );
}

/// xv6-public's sbrk to nothing: deallocuvm(pgdir, 0x1000, 0) frees the page and returns 0, and growproc's
/// `if((sz = deallocuvm(...)) == 0) return -1;` takes it for failure before `curproc->sz = sz`, so sz stays
/// 0x1000 with page 0 unmapped. The explanation must say so, not claim 0x1000 − 0x1000 = 0x1000.
#[test]
fn sbrk_to_nothing_on_xv6_public_keeps_sz() {
    let q = build("preset xv6-public\nuserinit\nfork 1\nask sz 2\nask changed 2\nsbrk 2 -4096\n");
    let (sz, changed) = (&q.questions[0], &q.questions[1]);
    assert_eq!(addr(sz), 0x1000);
    assert!(sz.why.contains("takes that 0 for failure") && sz.why.contains("sz stays 0x1000"), "{}", sz.why);
    assert!(!sz.why.contains("0x1000 − 0x1000 = 0x1000"), "{}", sz.why);
    right(changed, "0x0");
    assert!(changed.why.contains("unmaps") && changed.why.contains("Yet sz stays 0x1000"), "{}", changed.why);
    wrong(sz, "0", "takes that 0 for failure");
    // On xv6-riscv growproc stores uvmdealloc's result: sz becomes 0.
    let q = build("preset xv6-riscv\nuserinit\nfork 1\nask sz 2\nsbrk 2 -4096\n");
    assert_eq!(addr(&q.questions[0]), 0);
}

/// The fault reasons a translate question offers are those of the machine's
/// MMU: x86's entries have only P, W and U (xv6-public's mmu.h), so no
/// reason about an execute or read bit; Sv39's have R, W, X, U and the
/// kernel needs SUM to touch a user page (xv6-riscv's riscv.h).
#[test]
fn the_fault_reasons_offered_are_the_machines() {
    let x86 = build(X86_STORY).questions;
    let riscv = build(RISCV_STORY).questions;
    let x86_list = "not-present, no-user, read-only";
    let riscv_list = "not-present, no-user, user-page, read-only, no-exec, no-read";
    assert!(x86[13].how.contains(&format!("REASON one of {x86_list}.")), "{}", x86[13].how);
    assert!(riscv[13].how.contains(&format!("REASON one of {riscv_list}.")), "{}", riscv[13].how);
    let e = answer::grade(&x86[13], "fault PTX").unwrap_err().message;
    assert!(e.ends_with(&format!("add a reason: {x86_list}")), "{e}");
    let e = answer::grade(&riscv[13], "fault L0").unwrap_err().message;
    assert!(e.ends_with(&format!("add a reason: {riscv_list}")), "{e}");
}

/// Explanations speak of the pages each xv6 has: xv6-public's trapframe is
/// on the kernel stack (proc.c allocproc) and its exec copies no argument
/// pages (fetchstr reads user memory in place); xv6-riscv kallocs a
/// trapframe and sys_exec a page for each argument.
#[test]
fn explanations_name_the_pages_each_xv6_has() {
    let x86 = build(X86_STORY).questions;
    let riscv = build(RISCV_STORY).questions;
    // Question 1 of each story: userinit's pages (a kernel stack on x86, a trapframe on RISC-V, counted apart).
    assert!(x86[0].why.ends_with("Kernel stacks are counted apart, not here."), "{}", x86[0].why);
    assert!(
        riscv[0].why.ends_with("Trapframes and exec's argument copies are counted apart, not here."),
        "{}",
        riscv[0].why
    );
    for q in &x86 {
        assert!(!q.why.contains("trapframe") && !q.why.contains("argument cop"), "{}: {}", q.ask, q.why);
    }
    // exit frees nothing in either xv6 (exit only makes a zombie; the parent's
    // wait frees it): the answer says why, with the pages each one keeps.
    // (The stories with one question, before exit.)
    let asked = |text: &str| build(&text.replace("\nexit 3\n", "\nask pages\nexit 3\n")).questions;
    let (x86, riscv) = (asked(pagelab_core::lab::scenario::STORY_X86), asked(pagelab_core::lab::scenario::STORY_RISCV));
    for (qs, kept) in [(&x86, "kernel stack"), (&riscv, "trapframe")] {
        let exit = qs
            .iter()
            .find(|q| q.prompt.contains("`exit ") && matches!(q.expected, Expected::Pages { .. }))
            .expect("a question on exit's pages");
        assert!(
            exit.why.contains("zombie") && exit.why.contains("wait frees") && exit.why.contains(kept),
            "{}",
            exit.why
        );
    }
}

/// Digits whose base the rule decides, and that are right in the other base,
/// are not counted: the learner is told how the lab read them.
#[test]
fn digits_right_in_the_other_base_are_not_counted() {
    // pid 2 after fork, then sbrk(8192): sz 0x1000 (initcode's page) + 0x2000 = 0x3000 = 12288.
    let q = build("preset xv6-public\nuserinit\nfork 1\nsbrk 2 8192\nask sz 2\nexit 2\nask fields 0x1754\nwait 1\n")
        .questions;
    let e = answer::grade(&q[0], "12288").expect_err("decimal digits that are right as decimal");
    assert!(e.message.contains("read as hex here (0x12288)") && e.message.contains("#12288"), "{}", e.message);
    right(&q[0], "#12288");
    right(&q[0], "3000");
    // Bare digits wrong both ways are graded as hex, as before.
    wrong(&q[0], "4096", "it is 0x3000");
    // 0x1754: PDX 0, PTX 1, offset 0x754 (1876). Bare 754 for the offset is read as decimal (0x2f2).
    let e = answer::grade(&q[1], "0 1 754").expect_err("the offset's hex digits");
    assert!(
        e.message.contains("offset: `754` is read as decimal here (0x2f2)") && e.message.contains("0x754"),
        "{}",
        e.message
    );
    let e = answer::grade(&q[1], "PDX=0 PTX=1 offset=754").expect_err("named, too");
    assert!(e.message.contains("0x754"), "{}", e.message);
    right(&q[1], "0 1 0x754");
    right(&q[1], "0 1 1876");
    wrong(&q[1], "0 1 755", "offset is 0x754");
}

/// A fault with two missing bits has two true reasons: both are right.
#[test]
fn every_missing_bit_is_a_right_reason() {
    // xv6-riscv: the child's guard page 0x2000 keeps PTE_V|PTE_R|PTE_W (uvmclear drops PTE_U);
    // a user fetch there needs PTE_U and PTE_X, and both are clear.
    let q = build("preset xv6-riscv\nuserinit\nexec 1 /init\nfork 1\nask translate 2 0x2da4 user-exec\nask translate 2 0x2da4 user-read\nexit 2\nwait 1\n").questions;
    right(&q[0], "fault L0 no-user");
    right(&q[0], "fault L0 no-exec");
    right(&q[0], "fault L0 PTE_X");
    wrong(&q[0], "fault L0 read-only", "the reason is no-user, not read-only");
    wrong(&q[0], "fault L1 no-exec", "level is L0");
    // A load needs PTE_R, which the guard page has: only the user bit is missing.
    right(&q[1], "fault L0 no-user");
    wrong(&q[1], "fault L0 no-read", "reason is no-user, not no-read");
    // xv6-public: kernel text at 0x80100000 is mapped PTE_P only; a user store lacks PTE_U and PTE_W.
    let q = build("preset xv6-public\nuserinit\nask translate 1 0x80100000 user-write\nask translate 1 0x80100000 user-read\nexec 1 /init\n").questions;
    right(&q[0], "fault PTX no-user");
    right(&q[0], "fault PTX read-only");
    right(&q[1], "fault PTX no-user");
    wrong(&q[1], "fault PTX read-only", "the reason is no-user, not read-only");
}

/// `ask translate … mapped` and `… fault`: every seed gets a question of that
/// kind. After exec of sh on xv6-public, pid 2 has text, a guard page, a stack
/// and nothing above sz, so both kinds exist; a plain `?` gives some seeds a
/// fault and others an address. With the address given and the access `?`,
/// `fault` can only be met by the access the page refuses.
#[test]
fn translate_questions_can_ask_for_a_mapped_address_or_a_fault() {
    let text = |ends: &str| {
        format!("preset xv6-public\nuserinit\nexec 1 /init\nfork 1\nask translate 2 ? ?{ends}\nexec 2 sh\n")
    };
    let kinds = |ends: &str| -> Vec<bool> {
        let s = parse(&text(ends)).unwrap();
        (0..40)
            .map(|seed| {
                matches!(quiz::build(&s, seed).unwrap().questions[0].expected, Expected::Translate { pa: Some(_), .. })
            })
            .collect()
    };
    let plain = kinds("");
    assert!(plain.contains(&true) && plain.contains(&false), "{plain:?}");
    assert!(kinds(" mapped").iter().all(|&m| m));
    assert!(kinds(" fault").iter().all(|&m| !m));
    // The first pick is the plain one: a seed that gave a mapped address keeps it with `mapped`.
    let s = parse(&text("")).unwrap();
    let m = parse(&text(" mapped")).unwrap();
    let seed = (0..40).find(|&seed| plain[seed as usize]).unwrap();
    assert_eq!(quiz::build(&s, seed).unwrap().questions[0].ask, quiz::build(&m, seed).unwrap().questions[0].ask);
    // The address given: the stack page (0x3000 after exec of sh) is read and written but, on 32-bit
    // x86 with no NX bit, also run; the guard page (0x2000) faults for every user access.
    let g = parse("preset xv6-public\nuserinit\nexec 1 /init\nfork 1\nexec 2 sh\nask translate 2 0x2000 ? mapped\n")
        .unwrap();
    assert!(quiz::build(&g, 1).unwrap_err().to_string().contains("found no address and access that map"));
    // `mapped` and `fault` need a `?` to act on, and nothing else may follow the access.
    for (line, says) in [
        ("ask translate 2 0x3000 user-read mapped", "has no `?`"),
        ("ask translate 2 ? user-read maybe", "only `mapped` or `fault`"),
        ("ask translate 2 ? user-read fault x", "too many arguments"),
    ] {
        let e = parse(&format!("preset xv6-public\nuserinit\n{line}\nexec 1 /init\n")).unwrap_err();
        assert!(e.message.contains(says), "{line}: {e}");
    }
    // The line prints back as it was written.
    assert!(
        pagelab_core::lab::scenario::print(&parse(&text(" fault")).unwrap()).contains("ask translate 2 ? ? fault\n")
    );
}
