//! The scenario language: errors with their positions, canonical printing,
//! round trips, and the built-in scenarios replayed.

#![cfg(not(target_arch = "wasm32"))]

use pagelab_core::addr::{PGSIZE, PhysAddr, VirtAddr};
use pagelab_core::lab::quiz::{ACCESS_NAMES, Arg, Ask, Asks, Ends};
use pagelab_core::lab::scenario::{
    self, MAX_FILE_BYTES, MAX_LINE_BYTES, MAX_OPS, ParseError, event_text, parse, print, print_op,
};
use pagelab_core::lab::{Comments, Lab, LayoutOverride, Op, Preset, Scenario};
use pagelab_core::scheme::SchemeKind;
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::{Event, Owner, TraceEvent};
use proptest::prelude::*;

fn err(text: &str) -> ParseError {
    match parse(text) {
        Ok(s) => panic!("{text:?} parsed: {s:?}"),
        Err(e) => e,
    }
}

/// Each bad input, where its error is, and words the message must contain.
#[test]
fn errors_have_exact_positions() {
    let cases: &[(&str, u32, u32, &str)] = &[
        // Unknown operation, named with the known ones.
        ("userinit\nfrok 1\n", 2, 1, "unknown operation `frok`; the known ones are: preset, shm, userinit"),
        // Keywords are lowercase.
        ("FORK 1", 1, 1, "write `fork`, not `FORK`"),
        // Missing argument: reported just after the last word.
        ("fork", 1, 5, "fork takes one argument: fork PID"),
        ("  sbrk 1   # grow", 1, 9, "sbrk takes two arguments: sbrk PID N"),
        ("exec 1", 1, 7, "exec PID PATH [ARG ...]"),
        ("write 1 0x1000", 1, 15, "write PID VA"),
        // Extra argument: at the first one too many.
        ("fork 1 2", 1, 8, "too many arguments: fork takes one argument"),
        ("userinit now", 1, 10, "userinit takes no arguments"),
        ("read 1 0 1 1", 1, 12, "read PID VA LEN"),
        ("fetch 1", 1, 8, "fetch takes two arguments: fetch PID VA"),
        ("pipe", 1, 5, "pipe takes one argument: pipe PID"),
        ("pipeclose 1", 1, 12, "pipeclose takes two arguments: pipeclose PID ID"),
        ("fetch 1 0x1000 4", 1, 16, "too many arguments: fetch takes two arguments"),
        // Bad numbers.
        ("fork one", 1, 6, "`one` is not a number"),
        ("fork 0x", 1, 6, "`0x` is not a number"),
        ("fork 1e3", 1, 6, "`1e3` is not a number"),
        ("fork +1", 1, 6, "`+1` is not a number"),
        ("fork \"1\"", 1, 6, "not a quoted string"),
        // Overflow.
        ("fork 4294967296", 1, 6, "too large for a pid (at most 4294967295)"),
        ("read 1 0x10000000000000000 1", 1, 8, "too large for an address"),
        ("read 1 0 99999999999999999999", 1, 10, "too large for a length"),
        ("sbrk 1 9223372036854775808", 1, 8, "too large for sbrk's N"),
        ("sbrk 1 -9223372036854775809", 1, 8, "too small for sbrk's N"),
        ("openshmem 1 0x8000000000000000", 1, 13, "too large for a shared-memory id"),
        ("failalloc -1", 1, 11, "a count cannot be negative"),
        // Negative pid.
        ("kill -3", 1, 6, "a pid cannot be negative"),
        // Strings.
        ("exec 1 \"a\\qb\"", 1, 10, "unknown escape \\q"),
        ("exec 1 \"a\\x4g\"", 1, 10, "\\x needs exactly two hex digits"),
        ("exec 1 \"a\\x4", 1, 10, "\\x needs exactly two hex digits"),
        ("exec 1 sh \"abc", 1, 11, "unterminated string"),
        ("exec 1 sh \"abc\\", 1, 11, "unterminated string"),
        ("exec 1 sh \"a\"b", 1, 14, "a closing quote must be followed by a space"),
        ("exec 1 sh a\"b\"", 1, 12, "a quote inside a word"),
        ("exec 1 \"\"", 1, 8, "the path cannot be empty"),
        ("execv 2 \"\" sh", 1, 9, "the path cannot be empty"),
        ("file \"\\xff\" AA==", 1, 6, "a path must be UTF-8"),
        // Bytes.
        ("write 4 0x3000 256", 1, 16, "256 is too large for a byte (at most 255)"),
        ("write 4 0x3000 1 0x100", 1, 18, "too large for a byte"),
        ("write 4 0x3000 hello", 1, 16, "to write text, quote it (\"hello\")"),
        ("write 4 0x3000 \"a\" \"b\"", 1, 20, "either one quoted string or numbers"),
        ("write 4 0x3000 65 \"b\"", 1, 19, "either one quoted string or numbers"),
        // Base64.
        ("file /x aGk!", 1, 12, "not valid base64: byte '!'"),
        ("file /x aGk", 1, 9, "not valid base64"),
        ("file /x aGk=aGk=", 1, 12, "not valid base64"),
        // Header lines.
        ("userinit\npreset x86", 2, 1, "`preset` must come before the first operation (line 1)"),
        ("fork 1\n\n shm note", 3, 2, "`shm` must come before the first operation (line 1)"),
        ("preset x86\npreset riscv", 2, 1, "`preset` is given twice (first on line 1)"),
        ("shm lab\n# again\nshm lab", 3, 1, "`shm` is given twice (first on line 1)"),
        ("preset xv7", 1, 8, "unknown preset `xv7`; the presets are xv6-public"),
        ("shm both", 1, 5, "unknown shm mode `both`"),
        ("shm NOTE", 1, 5, "keywords are lowercase: write `note`"),
        ("preset", 1, 7, "preset takes a name, optional symbols and TLB options: preset NAME"),
        // TLB options: the column of the bad value, or of the word.
        ("preset xv6-public tlb=0", 1, 23, "tlb takes a number of entries from 1 to 4096"),
        (
            "preset xv6-public noflush=lcr3",
            1,
            27,
            "unknown flush `lcr3`; the ones to leave out are growproc, trampoline",
        ),
        ("preset xv6-public tlb=8 tlb=9", 1, 25, "`tlb` is given twice"),
        ("preset xv6-riscv noflush=growproc", 1, 8, "noflush=growproc is xv6-public's"),
        ("failalloc Off", 1, 11, "write `off`"),
        ("failalloc", 1, 10, "failalloc N or failalloc off"),
        // A quoted keyword.
        ("\"fork\" 1", 1, 1, "expected an operation name"),
        // Columns count characters, not bytes.
        ("exec 1 \"é\" \"\\z\"", 1, 13, "unknown escape \\z"),
        ("\t\tfork  x", 1, 9, "`x` is not a number"),
    ];
    for &(text, line, col, msg) in cases {
        let e = err(text);
        assert_eq!((e.line, e.col), (line, col), "{text:?}: {e}");
        assert!(e.message.contains(msg), "{text:?}: message {:?} lacks {msg:?}", e.message);
    }
    assert!(cases.len() >= 15);
}

#[test]
fn error_display_and_json() {
    let e = err("userinit\n  fork x\n");
    assert_eq!(e.to_string(), format!("line 2, column 8: {}", e.message));
    let j: serde_json::Value = serde_json::to_value(&e).unwrap();
    assert_eq!(j["line"], 2);
    assert_eq!(j["col"], 8);
    assert_eq!(j["message"], e.message.as_str());
}

#[test]
fn limits_are_errors() {
    let mut many = String::new();
    for _ in 0..MAX_OPS {
        many.push_str("fork 1\n");
    }
    assert_eq!(parse(&many).unwrap().ops.len(), MAX_OPS);
    many.push_str("fork 1\n");
    let e = err(&many);
    assert_eq!((e.line, e.col), (MAX_OPS as u32 + 1, 1));
    assert!(e.message.contains("too many operations"), "{e}");

    let long = format!("exec 1 sh {}", "a".repeat(MAX_LINE_BYTES));
    let e = err(&long);
    assert_eq!((e.line, e.col), (1, 1));
    assert!(e.message.contains("too long"), "{e}");

    // A file of exactly MAX_FILE_BYTES fits on a line; one byte more does not.
    let b64 = |n: usize| print_op(&Op::File { path: "/big".into(), bytes: vec![7; n] });
    let ok = b64(MAX_FILE_BYTES);
    assert!(ok.len() <= MAX_LINE_BYTES);
    assert_eq!(parse(&ok).unwrap().ops, vec![Op::File { path: "/big".into(), bytes: vec![7; MAX_FILE_BYTES] }]);
    let e = err(&b64(MAX_FILE_BYTES + 1));
    assert_eq!((e.line, e.col), (1, 11));
    assert!(e.message.contains("too large"), "{e}");
}

#[test]
fn grammar_details() {
    let s = parse(
        "# a comment\r\n\
         \r\n\
         preset RISCV-tiny  # case does not matter for presets\n\
         shm note\n\
         userinit\n\
         exec 1 /init init extra\n\
         execv 1 /init\n\
         execv 1 /init \"\" \"two words\"\n\
         exec 1 \"/my prog\" \"#not a comment\" # a comment\n\
         sbrk 1 -0x1000\n\
         openshmem 1 -5\n\
         closeshmem 1 0X1f\n\
         read 1 0xFFFFFFFFFFFFFFFF 18446744073709551615\n\
         write 1 0 \"hi\\n\\t\\\\\\\"\\0\\x7f\\r\"\n\
         write 1 0 0 255 0xff -0\n\
         fetch 1 0X10\n\
         pipe 1\n\
         pipeclose 1 0\n\
         file /x \"\"\n\
         file /y aGk=\n\
         failalloc 0\n\
         failalloc off\n\
         \tkill\t4",
    )
    .unwrap();
    assert_eq!((s.preset, s.shm), (Preset::Xv6RiscvTiny, ShmMode::Note));
    let b = |s: &str| s.as_bytes().to_vec();
    assert_eq!(
        s.ops,
        vec![
            Op::Userinit,
            Op::Exec { pid: 1, path: "/init".into(), argv: vec![b("/init"), b("init"), b("extra")] },
            Op::Exec { pid: 1, path: "/init".into(), argv: vec![] },
            Op::Exec { pid: 1, path: "/init".into(), argv: vec![b(""), b("two words")] },
            Op::Exec { pid: 1, path: "/my prog".into(), argv: vec![b("/my prog"), b("#not a comment")] },
            Op::Sbrk { pid: 1, n: -4096 },
            Op::OpenShm { pid: 1, id: -5 },
            Op::CloseShm { pid: 1, id: 31 },
            Op::Read { pid: 1, va: u64::MAX, len: u64::MAX },
            Op::Write { pid: 1, va: 0, bytes: b"hi\n\t\\\"\0\x7f\r".to_vec() },
            Op::Write { pid: 1, va: 0, bytes: vec![0, 255, 255, 0] },
            Op::Fetch { pid: 1, va: 16 },
            Op::Pipe { pid: 1 },
            Op::PipeClose { pid: 1, id: 0 },
            Op::File { path: "/x".into(), bytes: vec![] },
            Op::File { path: "/y".into(), bytes: b("hi") },
            Op::FailAlloc { after: Some(0) },
            Op::FailAlloc { after: None },
            Op::Kill { pid: 4 },
        ]
    );
    // Defaults, and an empty text.
    assert_eq!(parse("").unwrap(), Scenario::new(Preset::Xv6Public, ShmMode::Lab));
    assert_eq!(parse("\n  # nothing\n\t\n").unwrap(), Scenario::new(Preset::Xv6Public, ShmMode::Lab));
    // Extreme numbers.
    assert_eq!(parse("sbrk 0 -9223372036854775808").unwrap().ops, vec![Op::Sbrk { pid: 0, n: i64::MIN }]);
    assert_eq!(parse("fork 4294967295").unwrap().ops, vec![Op::Fork { pid: u32::MAX }]);
    // Arbitrary bytes in arguments, UTF-8 in paths.
    let s = parse("exec 1 \"\\xc3\\xa9t\\xc3\\xa9\" \"\\xff\\x00\"").unwrap();
    assert_eq!(s.ops, vec![Op::Exec { pid: 1, path: "été".into(), argv: vec![b("été"), vec![0xff, 0]] }]);
    let s = parse("exec 1 été").unwrap();
    assert_eq!(s.ops, vec![Op::Exec { pid: 1, path: "été".into(), argv: vec![b("été")] }]);
}

#[test]
fn canonical_printing() {
    let s = Scenario {
        comments: Comments::default(),
        asks: Default::default(),
        preset: Preset::Xv6Riscv,
        layout: LayoutOverride::default(),
        shm: ShmMode::Note,
        ops: vec![
            Op::Userinit,
            Op::Exec { pid: 1, path: "/init".into(), argv: vec![b"init".to_vec()] },
            Op::Fork { pid: 1 },
            Op::Exec { pid: 2, path: "sh".into(), argv: vec![b"sh".to_vec()] },
            Op::Exec {
                pid: 3,
                path: "echo".into(),
                argv: vec![b"echo".to_vec(), b"hello".to_vec(), b"world".to_vec()],
            },
            Op::Exec { pid: 3, path: "echo".into(), argv: vec![] },
            Op::Exec {
                pid: 3,
                path: "my prog".into(),
                argv: vec![b"my prog".to_vec(), b"".to_vec(), b"a\"b\\c#d".to_vec(), vec![0, 1, b'\n', 0x80, 0xff]],
            },
            Op::Exec { pid: 3, path: "/é".into(), argv: vec![b"x".to_vec()] },
            Op::Sbrk { pid: 3, n: -8192 },
            Op::OpenShm { pid: 3, id: 25 },
            Op::CloseShm { pid: 3, id: -1 },
            Op::Read { pid: 3, va: 0x4000, len: 1 },
            Op::Write { pid: 3, va: 16384, bytes: vec![10] },
            Op::Write { pid: 3, va: 0x4000, bytes: b"hi\n".to_vec() },
            Op::Write { pid: 3, va: 0x4000, bytes: b"say \"x\"\t\\".to_vec() },
            Op::Write { pid: 3, va: 0x4000, bytes: vec![] },
            Op::Write { pid: 3, va: 0x4000, bytes: vec![0x41, 0, 0xff] },
            Op::Fetch { pid: 3, va: 4096 },
            Op::Pipe { pid: 3 },
            Op::PipeClose { pid: 3, id: 2 },
            Op::File { path: "/hi".into(), bytes: b"hi".to_vec() },
            Op::File { path: "/empty".into(), bytes: vec![] },
            Op::FailAlloc { after: Some(3) },
            Op::FailAlloc { after: None },
            Op::Wait { pid: 2 },
            Op::Exit { pid: 3 },
            Op::Kill { pid: 4 },
        ],
    };
    let expected = r#"preset xv6-riscv
shm note
userinit
execv 1 /init init
fork 1
exec 2 sh
exec 3 echo hello world
execv 3 echo
exec 3 "my prog" "" "a\"b\\c#d" "\0\x01\n\x80\xff"
execv 3 "/\xc3\xa9" x
sbrk 3 -8192
openshmem 3 25
closeshmem 3 -1
read 3 0x4000 1
write 3 0x4000 0x0a
write 3 0x4000 "hi\n"
write 3 0x4000 "say \"x\"\t\\"
write 3 0x4000 ""
write 3 0x4000 0x41 0x00 0xff
fetch 3 0x1000
pipe 3
pipeclose 3 2
file /hi aGk=
file /empty ""
failalloc 3
failalloc off
wait 2
exit 3
kill 4
"#;
    assert_eq!(print(&s), expected);
    assert_eq!(parse(expected).unwrap(), s);
    // Printing what was parsed gives the canonical form.
    let messy = "  fork   0x10 # sixteen\nexecv 1 sh sh\nsbrk 1 0x1000\nwrite 1 4096 \"\\x41\"\n";
    assert_eq!(
        print(&parse(messy).unwrap()),
        "preset xv6-public\nshm lab\n\n# sixteen\nfork 16\nexec 1 sh\nsbrk 1 4096\nwrite 1 0x1000 \"A\"\n"
    );
}

#[test]
fn event_lines() {
    let ev = |event: Event| TraceEvent { depth: 1, func: "userinit", event };
    let x86 = SchemeKind::X86;
    assert_eq!(
        event_text(&ev(Event::Kalloc { pa: PhysAddr::new(0xdfff000), owner: Owner::PageDir { pid: 1 } }), x86),
        "kalloc 0xdfff000 (page directory (root) of pid 1)"
    );
    // xv6-riscv calls the root p->pagetable, not a page directory.
    assert_eq!(
        event_text(
            &ev(Event::Kfree { pa: PhysAddr::new(0x87f41000), owner: Owner::PageDir { pid: 3 } }),
            SchemeKind::Sv39
        ),
        "kfree 0x87f41000 (root page table of pid 3)"
    );
    let pte = |count, va_step, new_step| {
        ev(Event::PteWrite {
            level: 0,
            table: PhysAddr::new(0xdffe000),
            index: 0,
            va: VirtAddr::new(0),
            old: 0,
            new: 0xdffd007,
            count,
            va_step,
            new_step,
        })
    };
    assert_eq!(event_text(&pte(1, 0, 0), x86), "pte pgtab 0xdffe000[0] va 0x0: 0x0 -> 0xdffd007 (PTE_P|PTE_W|PTE_U)");
    assert_eq!(
        event_text(&pte(1024, PGSIZE, PGSIZE), x86),
        "pte pgtab 0xdffe000[0..1023] (1024 entries) va 0x0..0x3ff000: 0x0 -> 0xdffd007..0xe3fc007 (PTE_P|PTE_W|PTE_U)"
    );
    assert!(event_text(&pte(1, 0, 0), SchemeKind::Sv39).starts_with("pte L0 0xdffe000[0]"));
    assert_eq!(
        event_text(&ev(Event::Copyout { va: VirtAddr::new(0x2ff4), bytes: b"hello\0".to_vec() }), x86),
        "copyout 0x2ff4: \"hello\\0\""
    );
    assert_eq!(
        event_text(&ev(Event::Copyout { va: VirtAddr::new(0x2fe8), bytes: vec![0xff, 0xff, 0xff, 0xff, 1, 0] }), x86),
        "copyout 0x2fe8: [ff ff ff ff 01 00]"
    );
    assert_eq!(
        event_text(&ev(Event::LoadRoot { root: PhysAddr::new(0x3ff000), pid: None }), x86),
        "cr3 = 0x3ff000: the kernel's page table"
    );
    assert_eq!(event_text(&ev(Event::Call { func: "fork", args: "pid 3".into() }), x86), "fork(pid 3)");
    assert_eq!(event_text(&ev(Event::Defect { text: "leak".into() }), x86), "DEFECT: leak");
}

/// Results of a replayed scenario's steps.
fn results(lab: &Lab) -> Vec<i64> {
    lab.steps().iter().map(|s| s.result.value).collect()
}

#[test]
fn builtins_parse_and_replay() {
    let names: Vec<&str> = scenario::builtins().iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "story-x86",
            "story-riscv",
            "shm-test",
            "shm-test-note",
            "tlb-x86",
            "tlb-noflush-x86",
            "tlb-smp-x86",
            "tlb-riscv"
        ]
    );
    for (name, text) in scenario::builtins() {
        let s = parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let lab = Lab::from_scenario(&s).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(lab.steps().len(), s.ops.len());
        // Operations that fail on purpose: tlb-x86's sbrk(-sz) returns -1
        // (its 5th) and its last store faults once the TLB was flushed (its 9th).
        // tlb-riscv's last store faults too (its 6th). tlb-smp-x86: the
        // sbrk(-sz) (4th) and the last store (14th).
        let failing: &[usize] = match *name {
            "tlb-x86" => &[4, 8],
            "tlb-smp-x86" => &[3, 13],
            "tlb-riscv" => &[5],
            _ => &[],
        };
        for (i, st) in lab.steps().iter().enumerate() {
            let fails = st.result.error.is_some();
            assert_eq!(fails, failing.contains(&i), "{name}: step {i}: {}: {:?}", print_op(&st.op), st.result.error);
        }
        // The canonical form is the same scenario.
        assert_eq!(parse(&print(&s)).unwrap(), s);
        assert_eq!(scenario::builtin(name), Some(*text));
    }
    assert_eq!(scenario::builtin("nope"), None);
}

#[test]
fn the_story_by_hand() {
    for (text, preset, heap, exec_ret, sh_pages) in [
        // x86: malloc's Header is 8 bytes, so 4096 units = 32768 bytes; exec returns 0;
        // sh's image is one RWX segment of 2 pages, + guard + stack.
        (scenario::STORY_X86, Preset::Xv6Public, 32768u64, [0, 0, 0], 4u64),
        // RV64: a 16-byte Header, 65536 bytes; exec returns argc; sh is 2 text pages
        // and a data page, + guard + stack.
        (scenario::STORY_RISCV, Preset::Xv6Riscv, 65536, [1, 1, 3], 5),
    ] {
        let s = parse(text).unwrap();
        assert_eq!((s.preset, s.shm), (preset, ShmMode::Lab));
        assert_eq!(s.ops[5], Op::Sbrk { pid: 3, n: heap as i64 });
        let lab = Lab::from_scenario(&s).unwrap();
        // userinit makes pid 1; fork returns the next pid; sbrk returns the old
        // size, the size of sh's image; wait returns the child's pid.
        let [e1, e2, e3] = exec_ret;
        assert_eq!(results(&lab), vec![1, e1, 2, e2, 3, (sh_pages * PGSIZE) as i64, e3, 0, 3], "{preset}");
        let st = lab.steps();
        // sbrk maps heap/PGSIZE new user pages and nothing else.
        assert_eq!(st[5].counts.user_alloc, heap / PGSIZE);
        assert_eq!(st[5].counts.freed(), 0);
        assert_eq!(st[5].nfree, st[4].nfree - heap / PGSIZE);
        // exec of echo frees the shell's copy and its heap.
        assert_eq!(st[6].counts.user_free, sh_pages + heap / PGSIZE);
        // exit frees nothing; wait frees what is left of pid 3.
        assert_eq!(st[7].counts.freed(), 0);
        assert!(st[8].counts.freed() > 0);
        assert_eq!(st[8].counts.allocated(), 0);
        // After the wait, memory is as before the shell forked.
        assert_eq!(st[8].nfree, st[3].nfree, "{preset}");
    }
}

#[test]
fn the_shm_test_by_hand() {
    use pagelab_core::lab::view::{FrameState, frames, mappers};
    for (text, mode, child_addr) in
        [(scenario::SHM_TEST, ShmMode::Lab, 0x4000u64), (scenario::SHM_TEST_NOTE, ShmMode::Note, 0x5000)]
    {
        let s = parse(text).unwrap();
        assert_eq!((s.preset, s.shm), (Preset::Xv6Public, mode));
        let lab = Lab::from_scenario(&s).unwrap();
        let st = lab.steps();
        // The note's program order: 5 steps to reach pid 3; openshmem, adr[0] = 10 and
        // its printf; the 10 forks; then each child in turn (openshmem, the load and
        // store of adrs[0] += 1, printf's load, closeshmem, exit); 10 waits; a read of
        // the final value and the parent's closeshmem.
        assert_eq!(st.len(), 5 + 3 + 10 + 10 * 6 + 10 + 2);
        // openshmem in pid 3: PGROUNDUP(sz) of the shell's image = 0x4000.
        assert_eq!(st[5].op, Op::OpenShm { pid: 3, id: 25 });
        assert_eq!(st[5].result.value, 0x4000);
        assert_eq!(st[7].result.bytes, vec![10]);
        for i in 0..10u32 {
            assert_eq!(st[8 + i as usize].op, Op::Fork { pid: 3 });
            assert_eq!(st[8 + i as usize].result.value, i64::from(4 + i));
        }
        // Right after the forks: pagelab's fork shares the page, so the parent and all
        // ten children map the one frame and its count is 11; the note's fork copies
        // it, so only the parent maps it.
        let after_forks = lab.prefix(18);
        let k = after_forks.kernel();
        let shared: Vec<u64> = frames(k)
            .into_iter()
            .filter(|(_, st)| matches!(st, FrameState::Owned { owner: Owner::Shared { id: 25 } }))
            .map(|(pa, _)| pa)
            .collect();
        assert_eq!(shared.len(), 1, "{mode:?}");
        let who: Vec<u32> = mappers(k, shared[0]).iter().map(|m| m.pid).collect();
        let refs = k.shm().pages[k.shm().find(25).unwrap()].refs;
        match mode {
            ShmMode::Lab => {
                assert_eq!(who, (3..=13).collect::<Vec<u32>>());
                assert_eq!(refs, 11);
            }
            ShmMode::Note => {
                assert_eq!(who, vec![3]);
                assert_eq!(refs, 1);
            }
        }
        for i in 0..10u32 {
            let base = 18 + 6 * i as usize;
            let child = 4 + i;
            assert_eq!(st[base].op, Op::OpenShm { pid: child, id: 25 });
            assert_eq!(st[base].result.value, child_addr as i64, "{mode:?} child {i}");
            assert_eq!(st[base + 1].op, Op::Read { pid: child, va: child_addr, len: 1 });
            assert_eq!(st[base + 1].result.bytes, vec![10 + i as u8], "{mode:?} child {i}");
            assert_eq!(st[base + 2].op, Op::Write { pid: child, va: child_addr, bytes: vec![11 + i as u8] });
            assert_eq!(st[base + 3].result.bytes, vec![11 + i as u8], "{mode:?} child {i}");
            assert_eq!(st[base + 4].op, Op::CloseShm { pid: child, id: 25 });
            assert_eq!(st[base + 5].op, Op::Exit { pid: child });
        }
        for i in 0..10 {
            assert_eq!(st[78 + i].op, Op::Wait { pid: 3 });
            assert_eq!(st[78 + i].result.value, 4 + i as i64);
        }
        assert_eq!(st[88].result.bytes, vec![20]);
        let last = &st[89];
        assert_eq!(last.op, Op::CloseShm { pid: 3, id: 25 });
        match mode {
            // The last user lets go: the frame is freed, and memory is back
            // to where it was before openshmem.
            ShmMode::Lab => {
                assert_eq!(last.counts.user_free, 1);
                assert_eq!(last.nfree, st[4].nfree);
            }
            // The note's closeshmem leaks the frame.
            ShmMode::Note => {
                assert_eq!(last.counts.freed(), 0);
                assert_eq!(last.nfree, st[4].nfree - 1);
                assert!(last.events.iter().any(|e| matches!(e.event, Event::Defect { .. })));
            }
        }
    }
}

// ---- property tests ----

fn weird_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => any::<u8>(),
        2 => prop::sample::select(b"\"\\# \t\n\r\0x=/".to_vec()),
        2 => 0x21u8..0x7f,
    ];
    prop::collection::vec(byte, 0..12)
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z/._]{1,10}",
        prop::collection::vec(any::<char>(), 1..6).prop_map(|v| v.into_iter().collect()),
        weird_bytes().prop_filter_map("non-empty UTF-8", |b| String::from_utf8(b).ok().filter(|s| !s.is_empty())),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let pid = any::<u32>();
    prop_oneof![
        Just(Op::Userinit),
        pid.prop_map(|pid| Op::Fork { pid }),
        (pid, path(), prop::collection::vec(weird_bytes(), 0..4)).prop_map(|(pid, path, argv)| Op::Exec {
            pid,
            path,
            argv
        }),
        // sh-style: argv[0] is the path.
        (pid, path(), prop::collection::vec(weird_bytes(), 0..3)).prop_map(|(pid, path, rest)| {
            let mut argv = vec![path.as_bytes().to_vec()];
            argv.extend(rest);
            Op::Exec { pid, path, argv }
        }),
        (pid, any::<i64>()).prop_map(|(pid, n)| Op::Sbrk { pid, n }),
        pid.prop_map(|pid| Op::Exit { pid }),
        pid.prop_map(|pid| Op::Wait { pid }),
        pid.prop_map(|pid| Op::Kill { pid }),
        (pid, any::<i64>()).prop_map(|(pid, id)| Op::OpenShm { pid, id }),
        (pid, any::<i64>()).prop_map(|(pid, id)| Op::CloseShm { pid, id }),
        (pid, any::<u64>(), any::<u64>()).prop_map(|(pid, va, len)| Op::Read { pid, va, len }),
        (pid, any::<u64>(), prop_oneof![weird_bytes(), "[ -~\n\t]{0,12}".prop_map(String::into_bytes)])
            .prop_map(|(pid, va, bytes)| Op::Write { pid, va, bytes }),
        (path(), prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(path, bytes)| Op::File { path, bytes }),
        prop::option::of(any::<u64>()).prop_map(|after| Op::FailAlloc { after }),
        any::<u32>().prop_map(|cpu| Op::Cpu { cpu }),
    ]
}

/// A block of comment lines as the parser keeps them: no trailing blanks, no
/// blank first or last line (blank lines inside are paragraph breaks).
fn comment_block() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[ -~é\t]{0,16}".prop_map(|l| l.trim_end().to_string()), 1..5)
        .prop_filter("no blank first or last line", |v| !v[0].is_empty() && !v[v.len() - 1].is_empty())
}

fn arg<T: std::fmt::Debug + Clone + 'static>(s: impl Strategy<Value = T> + 'static) -> BoxedStrategy<Arg<T>> {
    prop_oneof![1 => Just(Arg::Any), 3 => s.prop_map(Arg::Given)].boxed()
}

/// An `ask` line's question (levels 0 and 1 exist on every machine).
fn ask() -> impl Strategy<Value = Ask> {
    let pid = || arg(any::<u32>());
    let va = || arg(any::<u64>());
    let id = || arg(any::<i64>());
    let access = arg(prop::sample::select(ACCESS_NAMES.iter().map(|a| a.1).collect::<Vec<_>>()));
    prop_oneof![
        va().prop_map(|va| Ask::Fields { va }),
        (pid(), va(), 0u32..2).prop_map(|(pid, va, level)| Ask::Entry { pid, va, level }),
        (pid(), va(), access, prop::sample::select(vec![Ends::Any, Ends::Mapped, Ends::Fault])).prop_map(
            |(pid, va, access, ends)| {
                // `mapped` and `fault` go only with a `?` for the address or the access.
                let ends = if va == Arg::Any || access == Arg::Any { ends } else { Ends::Any };
                Ask::Translate { pid, va, access, ends }
            }
        ),
        prop::sample::select(vec![Ask::Pages, Ask::Free, Ask::Kalloc, Ask::Head, Ask::Child]),
        pid().prop_map(|pid| Ask::Sp { pid }),
        pid().prop_map(|pid| Ask::Argc { pid }),
        (pid(), va()).prop_map(|(pid, va)| Ask::Word { pid, va }),
        pid().prop_map(|pid| Ask::Guard { pid }),
        pid().prop_map(|pid| Ask::Sz { pid }),
        pid().prop_map(|pid| Ask::Changed { pid }),
        id().prop_map(|id| Ask::ShmFrame { id }),
        id().prop_map(|id| Ask::ShmRefs { id }),
        id().prop_map(|id| Ask::ShmFreed { id }),
    ]
}

fn scenario_strategy() -> impl Strategy<Value = Scenario> {
    (
        prop::sample::select(Preset::ALL.to_vec()),
        prop::sample::select(vec![ShmMode::Lab, ShmMode::Note]),
        prop::collection::vec((op(), prop::option::of(comment_block()), prop::collection::vec(ask(), 0..3)), 0..12),
        prop::option::of(comment_block()),
        prop::collection::vec(ask(), 0..3),
    )
        .prop_map(|(preset, shm, ops, intro, last)| {
            let mut comments = Comments { intro: intro.unwrap_or_default(), ..Comments::default() };
            let mut asks = Asks::new();
            for (i, (_, c, a)) in ops.iter().enumerate() {
                if let Some(c) = c {
                    comments.ops.insert(i, c.clone());
                }
                if !a.is_empty() {
                    asks.insert(i, a.clone());
                }
            }
            if !last.is_empty() {
                asks.insert(ops.len(), last);
            }
            let ops = ops.into_iter().map(|(op, _, _)| op).collect();
            Scenario { preset, layout: LayoutOverride::default(), shm, ops, comments, asks }
        })
}

/// Words a fuzzed line is made of: keywords, numbers and near-misses.
fn token() -> impl Strategy<Value = String> {
    let words: Vec<String> = scenario::KEYWORDS
        .iter()
        .map(|k| (*k).to_string())
        .chain(
            [
                "0",
                "1",
                "-1",
                "0x",
                "0x1f",
                "-0x8000000000000000",
                "18446744073709551616",
                "255",
                "256",
                "\"",
                "\"\"",
                "\"\\",
                "\"\\x",
                "\"\\x4",
                "\"a b\"",
                "#",
                "\\",
                "off",
                "lab",
                "note",
                "x86",
                "aGk=",
                "aGk",
                "=",
                "é",
                "\t",
                "-",
                "?",
                "fields",
                "translate",
                "entry",
                "pages",
                "user-read",
                "PTX",
                "L1",
                "shmrefs",
            ]
            .iter()
            .map(|s| (*s).to_string()),
        )
        .collect();
    prop_oneof![
        3 => prop::sample::select(words),
        1 => "[ -~]{0,6}",
        1 => any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_is_the_same_scenario(s in scenario_strategy()) {
        let text = print(&s);
        let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&back, &s);
        // And the text is canonical.
        prop_assert_eq!(print(&back), text);
    }

    #[test]
    fn each_op_prints_on_one_line(o in op()) {
        let line = print_op(&o);
        prop_assert!(!line.contains('\n') && !line.contains('\r'));
        let s = parse(&line).map_err(|e| TestCaseError::fail(format!("{e}\n{line}")))?;
        prop_assert_eq!(s.ops, vec![o]);
    }

    #[test]
    fn parse_never_panics_on_any_text(text in any::<String>()) {
        if let Err(e) = parse(&text) {
            prop_assert!(e.line >= 1 && e.col >= 1);
        }
    }

    #[test]
    fn parse_never_panics_on_lines_of_tokens(
        lines in prop::collection::vec(prop::collection::vec(token(), 0..6), 0..6),
    ) {
        let text: String = lines.iter().map(|l| l.join(" ") + "\n").collect();
        match parse(&text) {
            // Whatever parses prints canonically and parses back the same.
            Ok(s) => prop_assert_eq!(parse(&print(&s)).unwrap(), s),
            Err(e) => {
                prop_assert!(e.line >= 1 && e.line as usize <= text.split('\n').count());
                let line = text.split('\n').nth(e.line as usize - 1).unwrap();
                prop_assert!(e.col as usize <= line.chars().count() + 1, "{} for {:?}", e, line);
            }
        }
    }
}

#[test]
fn preset_lines_can_override_kernel_symbols() {
    let s = parse("preset xv6-riscv etext=0x80012000 trampoline=0x80011000 end=0x80040000\nuserinit\n").unwrap();
    assert_eq!(s.layout.etext, Some(0x8001_2000));
    assert_eq!(s.layout.trampoline, Some(0x8001_1000));
    assert_eq!(s.layout.end, Some(0x8004_0000));
    assert_eq!(
        print(&s),
        "preset xv6-riscv end=0x80040000 etext=0x80012000 trampoline=0x80011000\nshm lab\nuserinit\n"
    );
    assert_eq!(parse(&print(&s)).unwrap(), s);
    // The frames then start just past the new end.
    let lab = Lab::from_scenario(&s).unwrap();
    assert_eq!(lab.kernel().info().kernel_end, 0x8004_0000);
    // Errors: unknown symbol, a symbol of the other port, a bad value, twice.
    let e = parse("preset x86 foo=1\n").unwrap_err();
    assert_eq!((e.line, e.col), (1, 12));
    let e = parse("preset x86 etext=0x80012000\n").unwrap_err();
    assert!(e.message.contains("xv6-riscv symbols"), "{e}");
    let e = parse("preset x86 end=zz\n").unwrap_err();
    assert_eq!(e.col, 16);
    let e = parse("preset x86 end=0x80200000 end=0x80200000\n").unwrap_err();
    assert!(e.message.contains("twice"), "{e}");
    let e = parse("preset x86 data=0x80108001\n").unwrap_err();
    assert!(e.message.contains("page aligned"), "{e}");
}

/// A scenario from a link, a widget or the JS API may ask for at most
/// `WORK_BUDGET` frames allocated plus freed. On xv6-public the first
/// `sbrk(117440512)` (112 MiB) allocates 28,672 user pages and 28 page
/// tables (one per 4 MiB above the table initcode's page already uses), and
/// `sbrk(-117440512)` frees the 28,672 pages; deallocuvm keeps the tables, so
/// later grows allocate pages only. After operation k (userinit is 0) the
/// work is userinit's (under 100) + 28,700 + 28,672 (k - 1): 229,404 +
/// userinit's after operation 8, 258,076 + userinit's after operation 9,
/// the 5th grow, which is refused.
#[test]
fn a_page_refuses_a_scenario_past_the_work_budget() {
    use pagelab_core::lab::{Budget, WORK_BUDGET};
    use pagelab_core::port::Reject;
    assert_eq!(WORK_BUDGET, 250_000);
    let mut text = String::from("preset xv6-public\nuserinit\n");
    for _ in 0..20 {
        text.push_str("sbrk 1 117440512\nsbrk 1 -117440512\n");
    }
    let s = parse(&text).unwrap();
    let lab = Lab::from_scenario(&s).expect("no limit without a budget");
    let pair: Vec<u64> = lab.steps()[1..3].iter().map(|st| st.counts.allocated() + st.counts.freed()).collect();
    assert_eq!(pair, [28_672 + 28, 28_672]);
    let later: Vec<u64> = lab.steps()[3..5].iter().map(|st| st.counts.allocated() + st.counts.freed()).collect();
    assert_eq!(later, [28_672, 28_672], "the page tables stay: later grows allocate pages only");
    let e = Lab::from_scenario_within(&s, Budget::page()).unwrap_err();
    let init = lab.steps()[0].counts.allocated();
    assert!(init < 100, "{init}");
    // Work after operation k (from 0): init + 28,700 + 28,672 * (k - 1) for k >= 1.
    let work = |k: u64| init + 28_700 + 28_672 * (k - 1);
    let first_over = (1..).find(|&k| work(k) > WORK_BUDGET).unwrap();
    assert_eq!(first_over, 9);
    assert_eq!(e.index, Some(first_over as usize));
    assert_eq!(e.reject, Reject::TooMuchWork { work: work(first_over), budget: WORK_BUDGET });
    assert!(e.to_string().contains("pagelab run"), "{e}");
}

/// Without recording, a lab makes the same steps: the same results, counts
/// and free pages; only the events are gone.
#[test]
fn a_lab_that_does_not_record_counts_the_same() {
    for text in [scenario::STORY_X86, scenario::STORY_RISCV, scenario::SHM_TEST] {
        let s = parse(text).unwrap();
        let full = Lab::from_scenario(&s).unwrap();
        let mut quiet = Lab::with_layout(s.preset, s.layout.clone(), s.shm).unwrap();
        quiet.set_recording(false);
        for op in &s.ops {
            quiet.apply(op.clone()).unwrap();
        }
        for (a, b) in full.steps().iter().zip(quiet.steps()) {
            assert_eq!((&a.result, a.counts, a.nfree), (&b.result, b.counts, b.nfree), "{}", print_op(&a.op));
            assert!(b.events.is_empty() && !a.events.is_empty());
        }
    }
}
