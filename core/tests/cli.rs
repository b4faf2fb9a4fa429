//! The `pagelab` command-line runner, run as a program.
#![cfg(feature = "cli")]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use pagelab_core::lab::scenario;

fn pagelab(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pagelab"));
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().expect("pagelab runs");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("pagelab finishes")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}
fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8 errors")
}

/// A scenario file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(text: &str) -> TempFile {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("pagelab-cli-{}-{n}.txt", std::process::id()));
        std::fs::write(&p, text).expect("write temp file");
        TempFile(p)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("UTF-8 path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn builtin_lists_and_prints() {
    let o = pagelab(&["builtin"], None);
    assert!(o.status.success());
    let out = stdout(&o);
    for (name, _) in scenario::builtins() {
        assert!(out.lines().any(|l| l.starts_with(name)), "{name} missing from\n{out}");
    }
    for (name, text) in scenario::builtins() {
        let o = pagelab(&["builtin", name], None);
        assert!(o.status.success());
        assert_eq!(stdout(&o), *text);
    }
    let o = pagelab(&["builtin", "nope"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("story-x86"));
}

#[test]
fn run_text_shows_steps_events_and_counts() {
    let f = TempFile::new(scenario::STORY_X86);
    let o = pagelab(&["run", f.path()], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("preset xv6-public, shm lab\nboot:\n"), "{out}");
    for header in [
        "step 1: userinit  -> 1",
        "step 2: exec 1 /init  -> 0",
        "step 3: fork 1  -> 2",
        "step 5: fork 2  -> 3",
        "step 6: sbrk 3 32768  -> 16384",
        "step 7: exec 3 echo hello world  -> 0",
        "step 9: wait 2  -> 3",
    ] {
        assert!(out.lines().any(|l| l == header), "no {header:?} in\n{out}");
    }
    // Events are indented; echo's arguments are copied out to its stack.
    assert!(out.contains("\n    userinit()\n"), "{out}");
    assert!(out.contains("kalloc 0x"), "{out}");
    assert!(out.contains("copyout 0x") && out.contains("\"hello\\0\""), "{out}");
    assert!(out.contains("  allocated: 8 user pages; freed: nothing\n"), "{out}");
    assert_eq!(out.matches("  free pages: ").count(), 10);
}

#[test]
fn run_quiet_prints_headers_and_counts_only() {
    let o = pagelab(&["run", "--quiet", "builtin:story-riscv"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l == "step 7: exec 3 echo hello world  -> 3"), "{out}");
    // sbrk returns the old size: sh's 2 text pages, data page, guard and stack, 0x5000.
    assert!(out.lines().any(|l| l == "step 6: sbrk 3 65536  -> 20480"), "{out}");
    assert!(!out.contains("\n    "), "events printed:\n{out}");
    let steps = out.lines().filter(|l| l.starts_with("step ")).count();
    assert_eq!(steps, scenario::parse(scenario::STORY_RISCV).unwrap().ops.len());
}

#[test]
fn run_json_is_one_valid_document() {
    for (name, text) in scenario::builtins() {
        let f = TempFile::new(text);
        let o = pagelab(&["run", "--format", "json", f.path()], None);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
        let s = scenario::parse(text).unwrap();
        let steps = v["steps"].as_array().expect("steps");
        assert_eq!(steps.len(), s.ops.len(), "{name}");
        assert_eq!(v["preset"], s.preset.name());
        assert_eq!(v["shm"], s.shm.name());
        assert!(v["boot"]["nfree"].as_u64().unwrap() > 0);
        assert!(v["boot"]["counts"]["pt_alloc"].as_u64().is_some());
        for (i, st) in steps.iter().enumerate() {
            assert_eq!(st["step"], i + 1);
            assert_eq!(st["line"], scenario::print_op(&s.ops[i]));
            assert!(st["op"]["op"].is_string());
            assert!(st["result"]["value"].is_i64());
            assert!(st["nfree"].is_u64());
            assert!(st["events"].is_array());
        }
        assert!(v.get("refused").is_none());
    }
    let o = pagelab(&["run", "--format", "json", "builtin:story-x86"], None);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["steps"][2]["op"], serde_json::json!({"op": "fork", "pid": 1}));
    assert_eq!(v["steps"][2]["result"]["value"], 2);
    let events = v["steps"][2]["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["kind"] == "kalloc"));
    // --quiet leaves the events out.
    let o = pagelab(&["run", "--format", "json", "--quiet", "builtin:shm-test"], None);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // shm-test: 5 steps to reach pid 3, openshmem + write + read, 10 forks, 6 steps
    // for each of the 10 children, 10 waits: the parent's final read is step 89.
    assert_eq!(v["steps"][88]["line"], "read 3 0x4000 1");
    // The byte 20 is UTF-8 (a control character), so it is a one-character string.
    assert_eq!(v["steps"][88]["result"]["bytes"], serde_json::json!("\u{14}"));
    assert!(v["steps"][0].get("events").is_none());
}

#[test]
fn run_reads_standard_input() {
    let o = pagelab(&["run", "--quiet", "-"], Some("userinit\nfork 1\n"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("step 2: fork 1  -> 2\n"));
}

#[test]
fn parse_errors_exit_2_with_file_line_col() {
    let f = TempFile::new("userinit\nfork 1\n  exec 2 \"sh\n");
    for cmd in ["run", "check"] {
        let o = pagelab(&[cmd, f.path()], None);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        assert_eq!(stderr(&o), format!("{}:3:10: unterminated string: the closing \" is missing\n", f.path()));
        assert!(o.stdout.is_empty());
    }
    let o = pagelab(&["run", "-"], Some("fork x"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("<stdin>:1:6: "), "{}", stderr(&o));
    // A file that is not there.
    let o = pagelab(&["run", "/nonexistent/pagelab/scenario.txt"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read"));
}

#[test]
fn refused_operations_exit_1_naming_the_step() {
    let f = TempFile::new("userinit\nfork 1\nfork 7\nfork 1\n");
    let o = pagelab(&["run", f.path()], None);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("step 3 (fork 7) was refused: there is no process with pid 7"), "{err}");
    let out = stdout(&o);
    assert!(out.contains("step 2: fork 1  -> 2\n"));
    assert!(!out.contains("step 4"));
    // JSON: the steps that ran, and the refusal.
    let o = pagelab(&["run", "--format", "json", f.path()], None);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    assert_eq!(v["steps"].as_array().unwrap().len(), 2);
    assert_eq!(v["refused"]["step"], 3);
    assert_eq!(v["refused"]["reject"]["kind"], "no_such_process");
}

#[test]
fn check_prints_the_canonical_form() {
    let o = pagelab(&["check", "-"], Some("# hi\nfork   0x10\nexecv 1 sh sh  # comment\nwrite 1 4096 10\n"));
    assert!(o.status.success());
    // Comments are kept: the first block goes with the first operation (there
    // is no preset line to introduce), an end-of-line comment with its line.
    assert_eq!(
        stdout(&o),
        "preset xv6-public\nshm lab\n\n# hi\nfork 16\n\n# comment\nexec 1 sh\nwrite 1 0x1000 0x0a\n"
    );
}

#[test]
fn decompose_prints_fields() {
    let o = pagelab(&["decompose", "x86", "0x00403004"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let field = |name: &str| out.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name}:\n{out}"));
    let pdx = field("PDX");
    assert!(pdx.contains("bits 31..22") && pdx.contains("0x1 ") && pdx.ends_with("0b0000000001"), "{pdx}");
    let ptx = field("PTX");
    assert!(ptx.contains("bits 21..12") && ptx.contains("0x3 ") && ptx.ends_with("0b0000000011"), "{ptx}");
    let off = field("offset");
    assert!(off.contains("bits 11..0") && off.ends_with("0b000000000100"), "{off}");

    let o = pagelab(&["decompose", "sv39", "4096"], None);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("L0") && l.contains("0x1 ")), "{out}");

    let o = pagelab(&["decompose", "sv32", "0x100000000"], None);
    assert_eq!(o.status.code(), Some(2));
    let o = pagelab(&["decompose", "mips", "0"], None);
    assert_eq!(o.status.code(), Some(2));
    let o = pagelab(&["decompose", "x86", "zero"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn show_prints_inits_table_on_xv6_public_exactly() {
    // Frames by hand. kinit2 frees 4 MB..PHYSTOP upward, so kalloc hands out 0xdfff000 and then down.
    // userinit: allocproc's kernel stack 0xdfff000; setupkvm's page directory 0xdffe000 and its 64 kernel tables
    // (56 for KERNBASE..PHYSTOP, 8 for DEVSPACE) 0xdffd000..0xdfbe000; inituvm's page 0xdfbd000, then walkpgdir's
    // table for PDX 0, 0xdfbc000.
    // exec /init: setupkvm: directory 0xdfbb000, tables 0xdfba000..0xdf7b000; allocuvm for init's one segment:
    // its page 0xdf7a000, then the table for PDX 0, 0xdf79000; allocuvm for two more pages: 0xdf78000 (guard),
    // 0xdf77000 (stack). walkpgdir writes PDEs with PTE_P|PTE_W|PTE_U; clearpteu leaves the guard PTE_P|PTE_W.
    let o = pagelab(&["show", "-", "--pid", "1"], Some("preset xv6-public\nuserinit\nexec 1 /init\n"));
    assert!(o.status.success(), "{}", stderr(&o));
    let want = "\
page directory 0x0dfbb000 (pid 1)
 PDX 0: pde 0x0df79007 pa 0x0df79000 PTE_P|PTE_W|PTE_U
  PTX 0: pte 0x0df7a007 pa 0x0df7a000 PTE_P|PTE_W|PTE_U va 0x00000000
  PTX 1: pte 0x0df78003 pa 0x0df78000 PTE_P|PTE_W va 0x00001000
  PTX 2: pte 0x0df77007 pa 0x0df77000 PTE_P|PTE_W|PTE_U va 0x00002000
 PDX 512-1023: 64 entries map the kernel's half, through 64 page tables of this process's own (setupkvm makes them for every process, all mapping alike)
";
    let out = stdout(&o);
    assert!(out.starts_with(want), "got:\n{out}\nwanted first:\n{want}");
}

#[test]
fn show_prints_a_page_table_and_stack() {
    let o = pagelab(&["show", "builtin:story-x86", "--pid", "2"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("page directory") && out.contains("PDX 0"), "{out}");
    let o = pagelab(&["show", "builtin:story-riscv", "--pid", "1"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("page table 0x"));
    // pid 3 is gone after the wait.
    let o = pagelab(&["show", "builtin:story-x86", "--pid", "3"], None);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn show_prints_inits_table_as_xv6_riscvs_vmprint_does() {
    // With the kernel's `end` at 0x80021d60, kinit frees 0x80022000..0x88000000 and
    // kalloc hands out the top page first. Boot takes 169 pages (102 kernel page-table
    // pages, 64 kernel stacks, 3 disk rings): 0x87fff000 down to 0x87f57000. userinit
    // then takes 7: trapframe 0x87f56000, root 0x87f55000, the trampoline's L1 and L0,
    // initcode's page and its L1 and L0 (down to 0x87f50000). exec takes the argument
    // copy 0x87f4f000, then its new root 0x87f4e000, the trampoline's L1 0x87f4d000 and
    // L0 0x87f4c000 (the trapframe stays 0x87f56000), the text page 0x87f4b000 with
    // its L1 0x87f4a000 and L0 0x87f49000, data 0x87f48000, guard 0x87f47000 and
    // stack 0x87f46000. A PTE is (pa >> 12) << 10 | flags: text R|X|U|V = 0x1b, data
    // and stack R|W|U|V = 0x17, guard R|W|V = 0x07, the trampoline R|X|V = 0x0b, the
    // trapframe R|W|V = 0x07, each table V = 0x01.
    let want = "\
page table 0x0000000087f4e000
 ..0: pte 0x0000000021fd2801 pa 0x0000000087f4a000
 .. ..0: pte 0x0000000021fd2401 pa 0x0000000087f49000
 .. .. ..0: pte 0x0000000021fd2c1b pa 0x0000000087f4b000
 .. .. ..1: pte 0x0000000021fd2017 pa 0x0000000087f48000
 .. .. ..2: pte 0x0000000021fd1c07 pa 0x0000000087f47000
 .. .. ..3: pte 0x0000000021fd1817 pa 0x0000000087f46000
 ..255: pte 0x0000000021fd3401 pa 0x0000000087f4d000
 .. ..511: pte 0x0000000021fd3001 pa 0x0000000087f4c000
 .. .. ..510: pte 0x0000000021fd5807 pa 0x0000000087f56000
 .. .. ..511: pte 0x0000000020001c0b pa 0x0000000080007000
";
    let o = pagelab(&["show", "-", "--pid", "1"], Some("preset xv6-riscv end=0x80021d60\nuserinit\nexec 1 /init\n"));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with(want), "{out}");
    // sz 0x4000: "/init\0" at 0x3ff0, argv[0] and its null below at 0x3fe0.
    assert!(out.contains("sp 0x3fe0, stack page 0x3000-0x4000, guard page 0x2000-0x3000"), "{out}");
}

#[test]
fn run_applies_the_preset_line_symbols() {
    // A kernel image ending later leaves fewer free pages: `run` must boot with
    // the preset line's `end=`, as `show` does (pagelab-kernel relies on it).
    let free = |preset: &str| {
        let o = pagelab(&["run", "--quiet", "-"], Some(&format!("{preset}\nuserinit\n")));
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        let line = out.lines().find(|l| l.starts_with("  free pages: ")).expect("boot's free count").to_string();
        line["  free pages: ".len()..].parse::<u64>().expect("a number")
    };
    // kinit1 frees PGROUNDUP(V2P(end)) up to 4 MB: from 0x116000 (end 0x801154a8) that is 746 pages, from
    // 0x200000 only 512. kvmalloc and startothers take 66 either way, and kinit2 adds 4 MB..224 MB, 56320 pages.
    assert_eq!(free("preset xv6-public"), 746 - 66 + 56320);
    assert_eq!(free("preset xv6-public end=0x80200000"), 512 - 66 + 56320);
    let o = pagelab(&["run", "--quiet", "-"], Some("preset xv6-public end=0x8e000000\nuserinit\n"));
    assert_eq!(o.status.code(), Some(2), "an impossible layout is bad input: {}", stderr(&o));
}

// ---- never a panic: every way the runner can fail ends in one line and a status ----

#[test]
fn a_closed_pipe_ends_with_a_message_not_a_panic() {
    use std::io::{BufRead as _, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_pagelab"))
        .args(["run", "builtin:shm-test"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pagelab runs");
    // Read one line, then close the pipe, as `| head -1` does.
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("a line");
    assert_eq!(first, "preset xv6-public, shm lab\n");
    let o = child.wait_with_output().expect("pagelab finishes");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pagelab: cannot write the output: ") && !err.contains("panicked"), "{err}");
}

#[test]
fn a_full_disk_ends_with_a_message_not_a_panic() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else { return };
    let o = Command::new(env!("CARGO_BIN_EXE_pagelab"))
        .args(["run", "builtin:story-x86"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .expect("pagelab runs");
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(stderr(&o), "pagelab: cannot write the output: No space left on device (os error 28)\n");
}

#[test]
fn a_machine_that_cannot_boot_is_the_preset_lines_fault() {
    // end = 0x80400000 leaves nothing below 4 MB for kinit1, so kvmalloc runs out of memory.
    let text = "preset xv6-public end=0x80400000\nuserinit\n";
    for args in
        [&["show", "-", "--pid", "1"][..], &["run", "-"][..], &["show", "-", "--pid", "1", "--format", "json"][..]]
    {
        let o = pagelab(args, Some(text));
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&o),
            "pagelab: the preset line makes a machine that cannot boot: xv6 would panic here (\"kvmalloc: out of memory\"), so the lab stops before it\n",
            "{args:?}"
        );
    }
}

#[test]
fn standard_input_empty_or_closed_is_an_error() {
    let o = pagelab(&["run", "-"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("standard input is empty or closed"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn an_id_that_does_not_fit_an_int_says_so() {
    let o = pagelab(&["run", "--quiet", "-"], Some("userinit\nopenshmem 1 2147483648\n"));
    assert!(o.status.success(), "{}", stderr(&o));
    // 2147483648 = 2^31, one more than INT_MAX.
    assert!(stdout(&o).contains("-> -1 (shared-memory id 2147483648 does not fit an int"), "{}", stdout(&o));
}

#[test]
fn a_stack_page_sbrk_unmapped_shows_no_words() {
    // init is one page: text 0x0, guard 0x1000, stack 0x2000, sz 0x3000; sbrk(-8192)
    // unmaps the stack and the guard, leaving sz 0x1000.
    let o = pagelab(&["show", "-", "--pid", "1"], Some("userinit\nexecv 1 /init init\nsbrk 1 -8192\n"));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("the stack page is not mapped any more: sz 0x1000 ends below it"), "{out}");
    assert!(!out.contains("argv"), "{out}");
}

#[test]
fn json_has_strings_for_bytes_and_show_has_every_entry() {
    let text = "preset xv6-public-tiny\nuserinit\nexecv 1 /init init\nwrite 1 0x2000 \"hi\"\nread 1 0x2000 2\nexecv 1 /init \"\\xff\"\n";
    let o = pagelab(&["run", "--format", "json", "--quiet", "-"], Some(text));
    assert!(o.status.success(), "{}", stderr(&o));
    // One line of compact JSON.
    assert_eq!(stdout(&o).lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["steps"][1]["op"]["argv"], serde_json::json!(["init"]));
    assert_eq!(v["steps"][2]["op"]["bytes"], "hi");
    assert_eq!(v["steps"][3]["result"]["bytes"], "hi");
    // 0xff is not UTF-8: base64 of [0xff] is "/w==".
    assert_eq!(v["steps"][4]["op"]["argv"], serde_json::json!([{"base64": "/w=="}]));
    // show: pid 1 after exec of /init on x86: a page directory entry (PDX 0) and three
    // page-table entries: text 0x0 (PTE_P|PTE_W|PTE_U), guard 0x1000 (no PTE_U), stack 0x2000.
    let o = pagelab(
        &["show", "-", "--pid", "1", "--format", "json"],
        Some("preset xv6-public-tiny\nuserinit\nexecv 1 /init init\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((v["pid"].as_u64(), v["name"].as_str(), v["sz"].as_str()), (Some(1), Some("init"), Some("0x00003000")));
    let e = v["entries"].as_array().unwrap();
    assert_eq!(e.len(), 4);
    assert_eq!((e[0]["level"].as_u64(), e[0]["leaf"].as_bool()), (Some(1), Some(false)));
    let leaves: Vec<(&str, Vec<&str>)> = e[1..]
        .iter()
        .map(|x| {
            (x["va"].as_str().unwrap(), x["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect())
        })
        .collect();
    assert_eq!(
        leaves,
        vec![
            ("0x00000000", vec!["PTE_P", "PTE_W", "PTE_U"]),
            ("0x00001000", vec!["PTE_P", "PTE_W"]),
            ("0x00002000", vec!["PTE_P", "PTE_W", "PTE_U"]),
        ]
    );
    // argv = {"init", 0}: "init\0" at 0x2ff8, then 3 + argc + 1 = 5 words below: sp = 0x2fe4.
    assert_eq!(v["sp"], "0x00002fe4");
    let stack = v["stack"].as_array().unwrap();
    assert_eq!(stack[0]["va"], "0x00002fe4");
    assert_eq!(stack[0]["role"]["kind"], "fake_return_pc");
    assert_eq!(stack[1]["value"], "0x00000001");
    let kinds: Vec<&str> = v["regions"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    // The kernel's part: all of RAM from KERNBASE, then the devices from DEVSPACE.
    assert_eq!(kinds, ["text", "guard", "stack", "kernel", "kernel"]);
}

// ---- exercise sets: quiz and grade ----

/// init's exec on xv6-public, asked three ways (answers worked out in tests/quiz.rs:
/// sp 0x2fe4, the guard page 0x1000 with PTE_P|PTE_W, 3 user pages allocated).
const SET: &str = "userinit\nask sp 1\nask guard 1\nask pages\nexec 1 /init\n";

#[test]
fn quiz_prints_questions_without_answers_unless_asked() {
    let f = TempFile::new(SET);
    let o = pagelab(&["quiz", f.path()], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("3 questions, seed 0"), "{out}");
    assert!(out.contains("1. (before step 2: exec 1 /init)  ask sp 1"), "{out}");
    assert!(out.contains("what is pid 1's stack pointer"), "{out}");
    assert!(!out.contains("0x2fe4"), "the answer is hidden: {out}");
    let o = pagelab(&["quiz", f.path(), "--answers"], None);
    assert!(stdout(&o).contains("answer: 0x2fe4") && stdout(&o).contains("hint 1:"));
    let o = pagelab(&["quiz", f.path(), "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["questions"].as_array().unwrap().len(), 3);
    assert_eq!(v["questions"][1]["ask"], "ask guard 1");
    assert_eq!(v["questions"][1]["form"]["kind"], "page");
    assert!(v["questions"][0].get("answer").is_none());
    // Built-in sets, and a student's own variant: the same id, the same set.
    let a = pagelab(&["quiz", "builtin:quiz-exec-riscv", "--student", "s1234"], None);
    let b = pagelab(&["quiz", "builtin:quiz-exec-riscv", "--student", "s1234"], None);
    assert!(a.status.success(), "{}", stderr(&a));
    assert_eq!(stdout(&a), stdout(&b));
    assert!(stdout(&a).contains("seed 11837164609382783398"), "FNV-1a of s1234: {}", stdout(&a));
    // In JSON the seed is a string (2^64 − 1 does not fit a JavaScript number), with the student's id.
    let o = pagelab(&["quiz", "builtin:quiz-exec-riscv", "--student", "s1234", "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!((v["seed"].as_str(), v["student"].as_str()), (Some("11837164609382783398"), Some("s1234")));
    // Mistakes: both seeds, a bad seed, a file that asks nothing, a set that cannot be asked.
    let o = pagelab(&["quiz", f.path(), "--seed", "1", "--student", "x"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not both"));
    let o = pagelab(&["quiz", f.path(), "--seed", "3x"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a whole number"));
    // A scenario with no `ask` lines gets predict mode's questions before each
    // operation (quiz::auto_asks): userinit 3, exec 5, fork 3, exec 5, fork 3,
    // sbrk 3, exec 5, exit 1, wait 2 = 30.
    let o = pagelab(&["quiz", "builtin:story-x86", "--format", "json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["questions"].as_array().unwrap().len(), 30);
    assert_eq!((v["set"].as_str(), v["seed"].as_str()), (Some("story-x86"), Some("0")));
    // A built-in's bare name is no file: the message says how to name it.
    let o = pagelab(&["quiz", "quiz-story-x86"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("write builtin:quiz-story-x86"), "{}", stderr(&o));
    let g = TempFile::new("userinit\nask pages\n");
    let o = pagelab(&["quiz", g.path()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no operation follows it"), "{}", stderr(&o));
}

#[test]
fn grade_scores_an_answer_file() {
    let f = TempFile::new(SET);
    let answers =
        TempFile::new(r#"{"seed": 0, "answers": {"1": "0x2fe4", "2": "0x1000 PTE_P|PTE_U", "3": "3 1 sixty 66"}}"#);
    let o = pagelab(&["grade", f.path(), answers.path()], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("score 1 of 3"), "{out}");
    assert!(out.contains("1. right"), "{out}");
    assert!(out.contains("2. wrong: Not right (some parts are): the flags are PTE_P|PTE_W, not PTE_P|PTE_U"), "{out}");
    assert!(out.contains("3. unreadable"), "{out}");
    // A list in question order, null for one left out; JSON out.
    let answers = TempFile::new(r#"{"answers": ["0x2fe4", null, "3 1 66 66"]}"#);
    let o = pagelab(&["grade", f.path(), answers.path(), "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!((v["score"].as_u64(), v["total"].as_u64()), (Some(2), Some(3)));
    assert_eq!(v["questions"][1]["result"], "unanswered");
    assert_eq!(v["questions"][2]["parts"][3]["expected"], "66");
    // That file names no seed or student: seed 0 is used, and the note says so.
    assert!(stderr(&o).contains("names no seed or student: graded with seed 0"), "{}", stderr(&o));
    // Broken answer files are bad input.
    for bad in [r#"{"answers": {"9": "1"}}"#, r#"{"answers": 3}"#, "not json", r#"{"answers": [], "extra": 1}"#] {
        let a = TempFile::new(bad);
        let o = pagelab(&["grade", f.path(), a.path()], None);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stdout(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
}

/// The log the lab downloads for a learner to hand in grades as it is: its
/// answers by question number (an empty one unanswered), its student's id
/// (or seed). The set graded is the one named on the command line; a file
/// for another set gets a note.
#[test]
fn grade_takes_a_downloaded_log_and_names_the_set_it_grades() {
    let f = TempFile::new(SET);
    // The lab's log (web/src/quiz.rs Log): seed as a string, results the learner saw (ignored: graded again).
    let log = r#"{"set": "mine", "seed": "0", "student": null, "preset": "xv6-public", "started": "",
        "right": 3, "total": 3, "questions": [
        {"question": 1, "step": 2, "ask": "ask sp 1", "prompt": "", "result": "right", "answer": "0x2fe4", "expected": "", "hints": 0, "unreadable": 0},
        {"question": 2, "step": 2, "ask": "ask guard 1", "prompt": "", "result": "right", "answer": "0x2000 PTE_P", "expected": "", "hints": 2, "unreadable": 0},
        {"question": 3, "step": 2, "ask": "ask pages", "prompt": "", "result": "open", "answer": "", "expected": "", "hints": 0, "unreadable": 0}]}"#;
    let o = pagelab(&["grade", f.path(), "-", "--format", "json"], Some(log));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    // sp 0x2fe4 is right; the guard page is 0x1000, not 0x2000; the third was left open.
    let results: Vec<&str> = v["questions"].as_array().unwrap().iter().map(|q| q["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["right", "wrong", "unanswered"]);
    // The hints the log says were taken are kept.
    assert_eq!(v["questions"][1]["hints"].as_u64(), Some(2));
    // A question given up in the lab is reported so, not as unanswered; text output names the hints.
    let gave_up = log.replace(r#""result": "open""#, r#""result": "gave_up""#);
    let o = pagelab(&["grade", f.path(), "-"], Some(&gave_up));
    assert!(stdout(&o).contains("3. gave_up: Given up. The answer is 3 1 66 66"), "{}", stdout(&o));
    assert!(stdout(&o).contains("2. wrong (2 hints): "), "{}", stdout(&o));
    // A widget's log of some of the set's questions (questions="1") is graded out of those.
    let some = r#"{"set": "mine", "seed": "0", "questions": [{"question": 1, "result": "right", "answer": "0x2fe4", "hints": 0}]}"#;
    let o = pagelab(&["grade", f.path(), "-"], Some(some));
    assert!(stdout(&o).contains(": score 1 of 1"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("2. "), "{}", stdout(&o));
    assert!(stderr(&o).contains("holds 1 of the set's 3 questions: graded out of those"), "{}", stderr(&o));
    assert_eq!((v["score"].as_u64(), v["seed"].as_str()), (Some(1), Some("0")));
    // The log names the set "mine"; the file graded is named on the command line.
    assert_eq!(v["set"].as_str(), Some(f.path()));
    assert!(stderr(&o).contains("is for the set \"mine\"; graded against"), "{}", stderr(&o));
    // A student's log is graded with the student's own variant.
    let log = r#"{"set": "quiz-exec-riscv", "seed": "11837164609382783398", "student": "s1234", "questions": [{"question": 1, "answer": "1 2 3"}]}"#;
    let o = pagelab(&["grade", "builtin:quiz-exec-riscv", "-", "--format", "json"], Some(log));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!((v["seed"].as_str(), v["student"].as_str()), (Some("11837164609382783398"), Some("s1234")));
    // It holds one question of ten: graded out of that one, with a note and nothing else.
    assert_eq!(v["total"].as_u64(), Some(1));
    assert_eq!(stderr(&o).trim(), "pagelab: note: <stdin> holds 1 of the set's 10 questions: graded out of those");
}

/// `pagelab link` writes the lab's links (web/src/link.rs): a scenario's
/// text deflated, in base64url, then the step; a built-in by its name; a set
/// by its name and seed; predict mode's `quiz=1&auto=K&seed=S`.
#[test]
fn link_writes_the_labs_links() {
    use base64::Engine as _;
    let text = "# mine\npreset xv6-riscv-tiny\nuserinit\nexec 1 /init\nfork 1\n";
    let o = pagelab(&["link", "-", "--step", "2", "--site", "https://example.edu/lab/"], Some(text));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let frag = out.trim().strip_prefix("https://example.edu/lab/#lab=").expect("the site, then the fragment");
    let (data, rest) = frag.split_once('&').expect("a step after the data");
    assert_eq!(rest, "step=2");
    let packed = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(data).expect("base64url");
    let unpacked = miniz_oxide::inflate::decompress_to_vec(&packed).expect("raw deflate");
    // The scenario as the lab prints it (comments kept), so the lab reads it back the same.
    assert_eq!(String::from_utf8(unpacked).unwrap(), scenario::print(&scenario::parse(text).unwrap()));
    // Predict mode on a scenario with no ask lines: questions from operation 0, seed 0, at step 0.
    let o = pagelab(&["link", "-", "--predict"], Some(text));
    assert!(stdout(&o).trim().ends_with("&step=0&quiz=1&auto=0&seed=0"), "{}", stdout(&o));
    let o = pagelab(&["link", "builtin:story-x86", "--step", "4"], None);
    assert_eq!(stdout(&o).trim(), "#b=story-x86&step=4");
    // A set for a student: the seed is FNV-1a of the id, the id in base64url ("ada" is YWRh).
    let o = pagelab(&["link", "builtin:quiz-exec-x86", "--student", "ada"], None);
    let seed = pagelab_core::lab::quiz::sets::student_seed("ada");
    assert_eq!(stdout(&o).trim(), format!("#set=quiz-exec-x86&step=0&seed={seed}&who=YWRh"));
    // Mistakes: a step past the end (2), a scenario that does not replay (1).
    let o = pagelab(&["link", "-", "--step", "4"], Some(text));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("has 3 operations (steps 0 to 3)"), "{}", stderr(&o));
    let o = pagelab(&["link", "-"], Some("userinit\nfork 9\n"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

// ---- found by an adversarial run: usage, help, control bytes ----

#[test]
fn usage_mistakes_are_one_line_and_help_is_output() {
    for args in [
        &["show", "x", "--pid", "-1"][..],
        &["show", "builtin:story-x86"][..],
        &["decompose", "x86", "-1"][..],
        &["frobnicate"][..],
        &[][..],
    ] {
        let o = pagelab(args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{args:?}: {e}");
        assert!(e.starts_with("pagelab: "), "{e}");
    }
    let o = pagelab(&["--help"], None);
    assert!(o.status.success() && stdout(&o).contains("Usage:") && stderr(&o).is_empty());
    assert_eq!(stdout(&pagelab(&["--version"], None)), format!("pagelab {}\n", env!("CARGO_PKG_VERSION")));
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else { return };
    let o = Command::new(env!("CARGO_BIN_EXE_pagelab"))
        .arg("--help")
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .expect("pagelab runs");
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn control_bytes_in_input_never_reach_the_terminal() {
    // In a parse error (a NUL glued to a keyword, a byte-order mark, an escape sequence).
    for (text, shows) in [
        ("userinit\0\n", "`userinit\\u{0}`"),
        ("\u{feff}preset x86\n", "`\\u{feff}preset`"),
        ("userinit\n\x1b[2Jpwned\x07\n", "`\\u{1b}[2Jpwned\\u{7}`"),
    ] {
        let o = pagelab(&["check", "-"], Some(text));
        assert_eq!(o.status.code(), Some(2));
        let e = stderr(&o);
        assert!(e.contains(shows), "{e:?}");
        assert!(!e.bytes().any(|b| b < 0x20 && b != b'\n'), "{e:?}");
    }
    // In output: a program whose path holds an escape sequence, run and shown.
    let echo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/programs/x86/echo")).expect("echo");
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(echo)
    };
    let text = format!("userinit\nfile \"/e\\x1b[31mvil\" {b64}\nexec 1 \"/e\\x1b[31mvil\"\n");
    for args in [&["run", "-"][..], &["show", "-", "--pid", "1"][..]] {
        let o = pagelab(args, Some(&text));
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("e\\x1b[31mvil"), "{args:?}: {out}");
        assert!(!out.bytes().any(|b| b < 0x20 && b != b'\n' && b != b'\t'), "{args:?}");
    }
}

#[test]
fn grade_reads_answers_from_standard_input_and_says_which_seed() {
    let f = TempFile::new(SET);
    let o = pagelab(&["grade", f.path(), "-"], Some(r#"{"answers": ["0x2fe4"]}"#));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("score 1 of 3"));
    let o = pagelab(&["grade", f.path(), "-", "--seed", "5"], Some(r#"{"seed": 3, "answers": []}"#));
    assert!(
        stderr(&o).contains("grading with seed 5 from the command line, not the answer file's 3"),
        "{}",
        stderr(&o)
    );
    let o = pagelab(&["grade", f.path(), "-"], Some("[]"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("it must be an object"), "{}", stderr(&o));
    let o = pagelab(&["grade", f.path(), "-"], Some(r#"{"seed": "x", "answers": []}"#));
    assert!(stderr(&o).contains("\"seed\": the seed `x` is not a whole number"), "{}", stderr(&o));
}

#[test]
fn a_wide_address_on_x86_is_explained_for_x86() {
    let o = pagelab(
        &["run", "--quiet", "-"],
        Some("preset xv6-public-tiny\nuserinit\nexec 1 /init\nfork 1\nread 2 0x100000000 1\n"),
    );
    let out = stdout(&o);
    assert!(out.contains("the address is wider than 32 bits"), "{out}");
    assert!(!out.contains("Sv39") && !out.contains("device space"), "{out}");
}

#[test]
fn kill_of_a_zombie_returns_0_as_in_xv6() {
    // xv6's kill finds the zombie in the table, sets its killed flag and returns 0.
    let o = pagelab(&["run", "--quiet", "-"], Some("userinit\nfork 1\nexit 2\nkill 2\nwait 1\n"));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("step 4: kill 2  -> 0"), "{out}");
    // The zombie is still there for wait to reap.
    assert!(out.contains("step 5: wait 1  -> 2"), "{out}");
}

#[test]
fn programs_types_lines_at_sh_and_prints_what_ran() {
    let o = pagelab(&["programs", "--preset", "xv6-public-tiny", "echo hello world"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "run: until sh waits -> waiting for input");
    assert_eq!(lines[1], "type: echo hello world");
    assert_eq!(lines[2], "run: -> waiting for input");
    // echo's argv as sh built it, and its output (user/README.md).
    assert!(lines.contains(&"syscall: pid 3 exec(\"echo\", [\"echo\", \"hello\", \"world\"]) = 0"), "{out}");
    assert!(lines.contains(&"console: hello world"), "{out}");
    // The same machine as a scenario's preset line with the kernel's symbols.
    let o2 = pagelab(&["programs", "--preset", "preset xv6-public-tiny", "echo hello world"], None);
    assert_eq!(stdout(&o2), out);
}

#[test]
fn programs_refuses_a_bad_preset_or_line() {
    for args in [
        &["programs", "--preset", "xv6-nothing"][..],
        &["programs", "--preset", "xv6-public end=0x1", "echo"][..],
        &["programs", "echo\u{7}bell"][..],
    ] {
        let o = pagelab(args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.starts_with("pagelab: ") && err.lines().count() == 1, "{args:?}: {err}");
    }
    let long = "a".repeat(128);
    let o = pagelab(&["programs", &long], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("127 bytes"), "{}", stderr(&o));
}
