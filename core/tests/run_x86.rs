//! The real programs running on xv6-public: initcode, init, sh, echo and
//! deep executed instruction by instruction by the 32-bit x86 CPU, every
//! access through the TLB and the two-level walk, system calls on `int $64`
//! reaching the kernel's operations, registers in the trapframe at the top
//! of each kernel stack.
//!
//! The expected values are worked out from user/README.md (what each
//! program prints, its footprint, the ABI: arguments on the user stack,
//! `exit()` and `wait()` without arguments) and from xv6-public's code
//! (exec's stack, `trap()`'s message, what fork, exec and wait allocate
//! and free), not from pagelab's output.

mod common;

use common::{
    assert_a_pipe_takes_a_page, assert_blank_line_echo_alone_and_cd, assert_printf_writes_a_byte_at_a_time,
    assert_the_timer_changes_nothing, assert_trips_match_steps, out, procs, tlb_work_of_one_instruction,
};
use pagelab_core::lab::scenario::{STORY_X86, parse};
use pagelab_core::lab::{Fs, Op};
use pagelab_core::mem::Sim;
use pagelab_core::port::Kernel;
use pagelab_core::programs;
use pagelab_core::run::{Chan, RecordKind, RunStop};
use pagelab_core::shm::ShmMode;
use pagelab_core::sys::{Port, ProcState};
use pagelab_core::trace::Trace;
use pagelab_core::x86::run::Runner;
use pagelab_core::x86::{X86Kernel, X86Layout};

/// Frames free right after boot, before the first process: a kernel booted on its own.
fn free_after_boot() -> u64 {
    let layout = X86Layout::xv6_public();
    let hw = Sim::new(0, u64::from(layout.phystop));
    let init = programs::initcode(Port::Xv6Public).to_vec();
    let k = X86Kernel::boot(layout, hw, init, ShmMode::Lab, &mut Trace::counting_only()).unwrap();
    k.kmem().nfree()
}

/// A runner booted into sh, which waits for a line.
fn at_prompt(fs: Fs) -> Runner<Sim> {
    let mut r = Runner::boot_with(X86Layout::xv6_public(), fs).unwrap();
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    r
}

/// Page-table pages of a process under xv6-public's `setupkvm` with 224 MB
/// (the story's count): the page directory, 64 tables for the kernel half,
/// and one table for user memory below 4 MB.
const PT_PAGES: u64 = 66;

#[test]
fn boot_runs_init_which_starts_sh_which_waits_for_a_line() {
    let before = free_after_boot();
    let r = at_prompt(Fs::builtin(Port::Xv6Public));
    assert_eq!(out(&r), "init: starting sh\n$ ");
    // The whole console as xv6-public prints it under QEMU (CPUS := 2):
    // mpmain on CPU 1 (started by startothers), then on CPU 0; the first
    // forkret's iinit prints mkfs's superblock (FSSIZE 1000, 200 inodes,
    // LOGSIZE 30 from block 2; 200 / 8 + 1 = 26 inode blocks from 32, the
    // bitmap at 58; 1000 - 59 = 941 data blocks).
    assert_eq!(
        String::from_utf8_lossy(r.output()),
        "cpu1: starting 1\ncpu0: starting 0\n\
         sb: size 1000 nblocks 941 ninodes 200 nlog 30 logstart 2 inodestart 32 bmap start 58\n\
         init: starting sh\n$ "
    );
    assert_eq!(
        procs(&r),
        vec![(1, "init".to_string(), ProcState::Sleeping), (2, "sh".to_string(), ProcState::Sleeping)]
    );
    assert_eq!(r.proc_state(1).unwrap().chan, Some(Chan::Child));
    assert_eq!(r.proc_state(2).unwrap().chan, Some(Chan::Console));
    // init: kernel stack, page tables, one page of program, guard, stack.
    // sh: kernel stack, page tables, two pages of program, guard, stack.
    let init = 1 + PT_PAGES + 3;
    let sh = 1 + PT_PAGES + 4;
    assert_eq!(r.kernel().kmem().nfree(), before - init - sh);
    // A successful exec returns 0 on x86; init's fds 0-2 are the console.
    let calls: Vec<&str> =
        r.records().iter().filter(|c| c.kind != RecordKind::Schedule).take(25).map(|c| c.text.as_str()).collect();
    assert_eq!(
        calls[..7],
        [
            "userinit() = 1",
            "exec(\"/init\", [\"/init\"]) = 0",
            "open(\"console\", 0x2) = -1",
            "mknod(\"console\", 1, 1) = 0",
            "open(\"console\", 0x2) = 0",
            "dup(0) = 1",
            "dup(0) = 2",
        ]
    );
    // printf(1, "init: starting sh\n") as xv6's printf does it: 18 writes of
    // one byte, from putc's `c` on init's stack (page 0x2000 to 0x3000).
    assert_printf_writes_a_byte_at_a_time(&calls[7..], 18, 0x2000..0x3000);
    // wait takes no argument on xv6-public.
    assert!(r.records().iter().any(|c| c.pid == Some(1) && c.text == "wait(): sleeps until a child exits"));
    let c = r.counts();
    assert!(c.instructions > 100 && c.tlb_hits > c.instructions && c.tlb_misses > 0, "{c:?}");
}

#[test]
fn echo_hello_world_prints_it_and_gives_every_frame_back() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Public));
    let free = r.kernel().kmem().nfree();
    r.type_input("echo hello world\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert_eq!(out(&r), "init: starting sh\n$ echo hello world\nhello world\n$ ");
    assert_eq!(
        procs(&r),
        vec![(1, "init".to_string(), ProcState::Sleeping), (2, "sh".to_string(), ProcState::Sleeping)]
    );
    let texts: Vec<&str> = r.records().iter().filter(|c| c.pid == Some(3)).map(|c| c.text.as_str()).collect();
    // malloc's sbrk: 4096 headers of 8 bytes, from sh's size 0x4000 (2
    // pages, guard, stack). exec's strings: "echo" at 0x2ff8, "hello" at
    // 0x2ff0, "world" at 0x2fe8 (each rounded down to 4 below the last),
    // in echo's one page, guard and stack (sz 0x3000).
    assert!(texts.contains(&"sbrk(32768) = 16384"), "{texts:?}");
    assert!(texts.contains(&"exec(\"echo\", [\"echo\", \"hello\", \"world\"]) = 0"), "{texts:?}");
    // xv6-public's echo prints with printf(1, "%s%s", ...): "hello world\n"
    // is 12 one-byte writes from putc's frame on echo's stack page (0x2000).
    let writes: Vec<&str> = texts.iter().copied().filter(|t| t.starts_with("write(")).collect();
    assert_printf_writes_a_byte_at_a_time(&writes, 12, 0x2000..0x3000);
    // exit takes no argument on xv6-public; sh's wait() returns 3.
    assert_eq!(texts.last(), Some(&"exit()"));
    assert!(r.records().iter().any(|c| c.pid == Some(2) && c.text == "wait() = 3"));
    assert_eq!(r.kernel().kmem().nfree(), free);
    // A second command runs the same way, as pid 4.
    r.clear_output();
    r.type_input("echo a  bb\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert_eq!(out(&r), "echo a  bb\na bb\n$ ");
    assert_eq!(r.kernel().kmem().nfree(), free);
}

#[test]
fn an_orphan_is_reaped_by_init_which_says_zombie_as_xv6_publics_init() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Public));
    let free = r.kernel().kmem().nfree();
    // sh's child (pid 3) forks echo (pid 4) for `&` and exits at once, so
    // echo is handed to init; xv6-public's init.c prints `zombie!` for it.
    r.type_input("echo hi &\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    let console = out(&r);
    assert_eq!(console.matches("zombie!\n").count(), 1, "{console:?}");
    assert!(console.find("hi\n") < console.find("zombie!\n"), "{console:?}");
    assert!(r.records().iter().any(|c| c.pid == Some(1) && c.text == "wait() = 4"));
    assert_eq!(r.kernel().kmem().nfree(), free);
}

#[test]
fn sh_forks_for_a_blank_line_echo_alone_prints_nothing_and_cd_keeps_spaces() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Public));
    let want = [
        "fork() = 3",
        "sbrk(32768) = 16384",
        "exit()",
        "wait() = 3",
        "fork() = 4",
        "sbrk(32768) = 16384",
        "exec(\"echo\", [\"echo\"]) = 0",
        "exit()",
        "wait() = 4",
        "chdir(\" /\") = -1",
    ];
    assert_blank_line_echo_alone_and_cd(&mut r, &want);
}

#[test]
fn a_redirection_to_the_console_fails_as_xv6_publics_create_finds_a_device() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Public));
    // `> console` opens with O_WRONLY|O_CREATE; xv6-public's create returns 0
    // for a name that is not a plain file, so open fails and sh says so.
    r.type_input("echo hi > console\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert!(out(&r).ends_with("echo hi > console\nopen console failed\n$ "), "{:?}", out(&r));
    assert!(r.records().iter().any(|c| c.pid == Some(3) && c.text == "open(\"console\", 0x201) = -1"));
}

#[test]
fn a_pipe_takes_a_page_until_both_its_ends_are_closed() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Public));
    assert_a_pipe_takes_a_page(&mut r, pagelab_core::lab::Preset::Xv6Public);
}

#[test]
fn sh_ends_a_line_it_cannot_parse_with_xv6s_words() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Public));
    // xv6's MAXARGS is 10, and argv's last slot is its 0: 9 words are too many.
    r.type_input("echo a b c d e f g h\necho a b c d e f g h i\necho )\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    let want = "a b c d e f g h\n$ too many args\n$ leftovers: )\n\nsyntax\n$ ";
    assert!(out(&r).ends_with(want), "{:?}", out(&r));
}

#[test]
fn the_run_makes_the_process_operations_of_the_built_in_story() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Public));
    r.type_input("echo hello world\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    let story = parse(STORY_X86).unwrap();
    assert_eq!(r.ops(), story.ops.as_slice());
}

#[test]
fn each_operation_of_the_run_allocates_and_frees_as_the_storys_step() {
    use pagelab_core::lab::Lab;
    use pagelab_core::lab::view::stack_words;
    let story = parse(STORY_X86).unwrap();
    let lab = Lab::from_scenario(&story).unwrap();
    let mut r = Runner::boot(X86Layout::xv6_public()).unwrap();
    assert_eq!(r.run(u64::MAX), RunStop::WaitingForInput);
    r.type_input("echo hello world\n");
    loop {
        assert_eq!(r.run_to_trap(1_000_000), RunStop::Trap);
        if r.records().last().unwrap().text.starts_with("exec(\"echo\"") {
            break;
        }
    }
    // exec returns to echo's main (entry 0) with esp below the strings:
    // fake return address, argc, argv, then argv[0..3] and 0 (7 words under 0x2fe8).
    let (pid, cpu) = r.current().unwrap();
    assert_eq!((pid, cpu.eip, cpu.regs[pagelab_core::cpu::x86::ESP]), (3, 0, 0x2fe8 - 7 * 4));
    let exec_step = story.ops.iter().position(|o| matches!(o, Op::Exec { pid: 3, .. })).unwrap();
    let at_exec = lab.prefix(exec_step + 1);
    let words = stack_words(r.kernel(), 3);
    assert!(!words.is_empty());
    assert_eq!(words, stack_words(at_exec.kernel(), 3));
    assert_eq!(r.run(u64::MAX), RunStop::WaitingForInput);
    assert_trips_match_steps(&r, &lab);
}

#[test]
fn deep_runs_into_the_guard_page_and_is_killed_with_xv6_publics_message() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Public));
    let free = r.kernel().kmem().nfree();
    r.type_input("deep\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    // deep is one page (README: end 0x1e4): guard at 0x1000, stack at 0x2000.
    let f = &r.faults()[0];
    assert_eq!((f.pid, f.scause, f.err), (3, 14, 7), "{f:?}");
    // Error code 7: the page is present (P), the access a write (W) from user mode (U).
    assert!((0x1000..0x2000).contains(&f.stval), "{:#x}", f.stval);
    assert!(f.what.contains("no user bit"), "{}", f.what);
    let o = out(&r);
    assert!(o.contains("deep: depth 1, a kilobyte of stack from 0x2"), "{o}");
    let msg = format!("pid 3 deep: trap 14 err 7 on cpu 0 eip {:#x} addr {:#x}--kill proc\n$ ", f.pc, f.stval);
    assert!(o.ends_with(&msg), "{o}");
    let trap = r.records().iter().find(|c| matches!(c.kind, RecordKind::Fault { .. })).unwrap();
    assert!(trap.events.iter().any(|e| matches!(e.event, pagelab_core::trace::Event::PageFault { code: 7, .. })));
    assert_eq!(procs(&r).len(), 2);
    assert_eq!(r.kernel().kmem().nfree(), free);
}

/// An x86 ELF with one segment (flags R+X) at address 0 holding the headers and `code`, entered at `code` (0x54).
fn elf_with_text(code: &[u8]) -> Vec<u8> {
    let entry = 52 + 32;
    let mut f = Vec::new();
    f.extend_from_slice(b"\x7fELF\x01\x01\x01\x00");
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&3u16.to_le_bytes()); // EM_386
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&(entry as u32).to_le_bytes());
    f.extend_from_slice(&52u32.to_le_bytes()); // e_phoff
    f.extend_from_slice(&0u32.to_le_bytes()); // e_shoff
    f.extend_from_slice(&0u32.to_le_bytes());
    for h in [52u16, 32, 1, 40, 0, 0] {
        f.extend_from_slice(&h.to_le_bytes());
    }
    let size = (entry + code.len()) as u32;
    for v in [1u32, 0, 0, 0, size, size, 5, 0x1000] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    assert_eq!(f.len(), entry);
    f.extend_from_slice(code);
    f
}

fn fs_with(path: &str, file: Vec<u8>) -> Fs {
    let mut fs = Fs::builtin(Port::Xv6Public);
    fs.files.insert(path.into(), file);
    fs
}

/// `write(1, %esp, 1)` of the byte `c` pushed first: push c; mov %esp,%eax;
/// push $1; push %eax; push $1; push $0 (the fake return address); mov $16,%eax; int $64.
fn write_byte(c: u8) -> Vec<u8> {
    vec![0x6a, c, 0x89, 0xe0, 0x6a, 1, 0x50, 0x6a, 1, 0x6a, 0, 0xb8, 16, 0, 0, 0, 0xcd, 0x40]
}

/// `mov $2,%eax; int $64`: exit().
const EXIT: [u8; 7] = [0xb8, 2, 0, 0, 0, 0xcd, 0x40];

#[test]
fn a_store_to_text_succeeds_because_exec_maps_every_page_writable() {
    // xv6-public's exec maps each segment with allocuvm's PTE_W|PTE_U,
    // whatever the ELF's flags say (here R+X): the store goes through.
    // call 1f; 1: pop %ebx (0x59); movb $'X', 0x1d(%ebx) (the '?' at 0x76);
    // write(1, 0x76, 1); exit().
    let mut code = vec![0xe8, 0, 0, 0, 0, 0x5b, 0xc6, 0x43, 0x1d, b'X'];
    code.extend([0x6a, 1, 0x8d, 0x43, 0x1d, 0x50, 0x6a, 1, 0x6a, 0, 0xb8, 16, 0, 0, 0, 0xcd, 0x40]);
    code.extend(EXIT);
    assert_eq!(0x54 + code.len(), 0x76);
    code.push(b'?');
    let mut r = at_prompt(fs_with("/wtext", elf_with_text(&code)));
    r.type_input("wtext\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert_eq!(out(&r), "init: starting sh\n$ wtext\nX$ ");
    assert!(r.faults().is_empty());
}

/// Run `code` as `/name` from sh and return the console output after the prompt line.
fn run_code(name: &str, code: &[u8]) -> (Runner<Sim>, String) {
    let mut r = at_prompt(fs_with(&format!("/{name}"), elf_with_text(code)));
    r.type_input(&format!("{name}\n"));
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    let o = out(&r);
    let rest = o.strip_prefix(&format!("init: starting sh\n$ {name}\n")).unwrap_or(&o).to_string();
    (r, rest)
}

#[test]
fn the_kernel_reading_a_user_page_sets_its_accessed_bit() {
    // sbrk(4096); write(1, the new page, 1); exit(). allocuvm maps the new
    // page PTE_P|PTE_W|PTE_U, nothing set by the MMU. xv6-public's kernel
    // reads the byte through the process's own page directory, so the MMU
    // sets PTE_A in its entry (and no PTE_D: a read).
    let mut code = vec![0x68, 0, 0x10, 0, 0, 0x6a, 0, 0xb8, 12, 0, 0, 0, 0xcd, 0x40];
    code.extend([0x6a, 1, 0x50, 0x6a, 1, 0x6a, 0, 0xb8, 16, 0, 0, 0, 0xcd, 0x40]);
    code.extend(EXIT);
    let (r, _) = run_code("touch", &code);
    let write = r.records().iter().find(|c| c.pid == Some(3) && c.text.starts_with("write(")).expect("the write");
    assert_eq!(write.text, "write(1, 0x3000, 1) = 1");
    let sets: Vec<(u64, u64)> = write
        .events
        .iter()
        .filter_map(|e| match e.event {
            pagelab_core::trace::Event::PteWrite { level: 0, va, old, new, .. } if va.as_u64() == 0x3000 => {
                Some((old, new))
            }
            _ => None,
        })
        .collect();
    assert_eq!(sets.len(), 1, "{sets:?}");
    let (old, new) = sets[0];
    assert_eq!((old & 0xfff, new & 0xfff), (0x007, 0x027));
}

#[test]
fn a_negative_count_fails_in_argptr() {
    // write(1, 0, -1); exit(). xv6-public's sys_write takes its buffer with
    // argptr(1, &p, n), which refuses a negative size: -1, nothing written.
    let mut code = vec![0x6a, 0xff, 0x6a, 0, 0x6a, 1, 0x6a, 0, 0xb8, 16, 0, 0, 0, 0xcd, 0x40];
    code.extend(EXIT);
    let (r, o) = run_code("neg", &code);
    assert_eq!(o, "$ ");
    let w: Vec<&str> = r
        .records()
        .iter()
        .filter(|c| c.pid == Some(3) && c.text.starts_with("write("))
        .map(|c| c.text.as_str())
        .collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].ends_with("= -1"), "{w:?}");
}

#[test]
fn traps_other_than_page_faults_kill_with_their_trap_numbers() {
    // xor %ecx,%ecx; div %ecx: a divide error (trap 0) at 0x56. No page
    // fault has happened, so cr2 still holds 0.
    let (r, o) = run_code("div", &[0x31, 0xc9, 0xf7, 0xf1]);
    assert_eq!(o, "pid 3 div: trap 0 err 0 on cpu 0 eip 0x56 addr 0x0--kill proc\n$ ");
    assert_eq!((r.faults()[0].scause, r.faults()[0].pc), (0, 0x56));
    // int $0x30: its gate has DPL 0, a general-protection fault, error code 0x30·8 + 2.
    let (_, o) = run_code("gp", &[0xcd, 0x30]);
    assert_eq!(o, "pid 3 gp: trap 13 err 386 on cpu 0 eip 0x54 addr 0x0--kill proc\n$ ");
    // int3: the same for vector 3; eip stays at the int3.
    let (_, o) = run_code("bpt", &[0xcc]);
    assert_eq!(o, "pid 3 bpt: trap 13 err 26 on cpu 0 eip 0x54 addr 0x0--kill proc\n$ ");
    // hlt: privileged at CPL 3, a general-protection fault with error code 0.
    let (_, o) = run_code("hlt", &[0xf4]);
    assert_eq!(o, "pid 3 hlt: trap 13 err 0 on cpu 0 eip 0x54 addr 0x0--kill proc\n$ ");
    // ud2: an invalid opcode, trap 6.
    let (r, o) = run_code("ud", &[0x0f, 0x0b]);
    assert_eq!(o, "pid 3 ud: trap 6 err 0 on cpu 0 eip 0x54 addr 0x0--kill proc\n$ ");
    assert_eq!(procs(&r).len(), 2);
}

#[test]
fn the_address_trap_prints_is_the_last_page_faults() {
    // First run: a load from 0x10000000 (above sz, no page table): not present, user read: err 4.
    // movl 0x10000000, %eax
    let mut r = at_prompt({
        let mut fs = fs_with("/pf", elf_with_text(&[0xa1, 0, 0, 0, 0x10]));
        fs.files.insert("/div".into(), elf_with_text(&[0x31, 0xc9, 0xf7, 0xf1]));
        fs
    });
    r.type_input("pf\ndiv\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    let o = out(&r);
    assert!(o.contains("pid 3 pf: trap 14 err 4 on cpu 0 eip 0x54 addr 0x10000000--kill proc\n"), "{o}");
    // trap() prints rcr2() for any trap: the divide error shows the old address.
    assert!(o.contains("pid 4 div: trap 0 err 0 on cpu 0 eip 0x56 addr 0x10000000--kill proc\n"), "{o}");
}

#[test]
fn fork_gives_the_child_eax_0_from_the_copied_trapframe() {
    // fork(); test %eax,%eax; jnz parent; child: write 'C', exit(); parent: wait(); write 'P'; exit().
    let mut code = vec![0xb8, 1, 0, 0, 0, 0xcd, 0x40, 0x85, 0xc0, 0x75, 25];
    code.extend(write_byte(b'C'));
    code.extend(EXIT);
    code.extend([0xb8, 3, 0, 0, 0, 0xcd, 0x40]);
    code.extend(write_byte(b'P'));
    code.extend(EXIT);
    let (r, o) = run_code("fw", &code);
    assert_eq!(o, "CP$ ");
    let calls: Vec<(Option<u32>, &str)> = r
        .records()
        .iter()
        .filter(|c| matches!(c.pid, Some(3 | 4)) && matches!(c.kind, RecordKind::Syscall { .. }))
        .map(|c| (c.pid, c.text.as_str()))
        .filter(|(_, t)| !t.starts_with("sbrk") && !t.starts_with("exec") && !t.starts_with("write"))
        .collect();
    assert_eq!(
        calls,
        [
            (Some(3), "fork() = 4"),
            (Some(3), "wait(): sleeps until a child exits"),
            (Some(4), "exit()"),
            (Some(3), "wait() = 4"),
            (Some(3), "exit()")
        ]
    );
}

#[test]
fn an_argument_outside_the_process_is_refused_with_minus_1() {
    // write(1, 0x40000000, 1): argptr refuses a buffer at or past sz; then
    // exit() with the stack pointer moved past sz: fetchint is never needed
    // by exit, so it still exits.
    let code = [0x6a, 1, 0x68, 0, 0, 0, 0x40, 0x6a, 1, 0x6a, 0, 0xb8, 16, 0, 0, 0, 0xcd, 0x40];
    let mut code = code.to_vec();
    // mov $0x50000000, %esp; mov $16, %eax; int $64: write with its arguments above sz.
    code.extend([0xbc, 0, 0, 0, 0x50, 0xb8, 16, 0, 0, 0, 0xcd, 0x40]);
    code.extend(EXIT);
    let (r, o) = run_code("far", &code);
    assert_eq!(o, "$ ");
    let writes: Vec<&str> = r
        .records()
        .iter()
        .filter(|c| c.pid == Some(3) && matches!(c.kind, RecordKind::Syscall { name: "write", .. }))
        .map(|c| c.text.as_str())
        .collect();
    assert_eq!(writes, ["write(?) = -1", "write(?) = -1"]);
    assert!(r.records().iter().any(|c| c.pid == Some(3) && c.text == "exit()"));
}

#[test]
fn the_timer_interleaves_processes_without_changing_what_they_do() {
    assert_the_timer_changes_nothing(Runner::boot(X86Layout::xv6_public()).unwrap(), STORY_X86);
}

#[test]
fn the_next_instruction_is_shown_in_att_syntax() {
    let mut r = Runner::boot(X86Layout::xv6_public()).unwrap();
    // initcode at 0: pushl $argv first (README: pushl $argv; pushl $path; pushl $0; mov $7, %eax; int $0x40).
    assert_eq!(r.run(0), RunStop::Budget);
    assert_eq!(r.step_instruction(), RunStop::Budget);
    let (eip, i) = r.next_instruction().unwrap();
    assert_eq!(eip, r.current().unwrap().1.eip);
    assert!(pagelab_core::cpu::x86::Att(&i).to_string().starts_with("push"), "{}", pagelab_core::cpu::x86::Att(&i));
}

/// Code that writes over an instruction it has run, then runs it again:
/// call 1f; 1: pop %ebx (0x59); write(1, &'A', 1) with push $'A' at 0x5a
/// (its immediate at 0x5b); if that byte is 'B', exit(); else movb $'B',
/// 2(%ebx) and jmp back to the push. It prints "AB"; an instruction decoded
/// before the store would print "AA".
fn self_modifying() -> Vec<u8> {
    let mut code = vec![0xe8, 0, 0, 0, 0, 0x5b];
    code.extend(write_byte(b'A'));
    code.extend([0x80, 0x7b, 2, b'B', 0x74, 6, 0xc6, 0x43, 2, b'B', 0xeb, 0xe2]);
    code.extend(EXIT);
    assert_eq!(0x54 + code.len(), 0x78 + EXIT.len());
    code
}

/// Boot, then run `input` at sh, every access shown, with the decode cache
/// or without: the records of every trip and every access, the console,
/// the counts, the faults.
fn run_showing_accesses(fs: Fs, input: &str, slice: u64, decode_cache: bool) -> (String, String, String, String) {
    let mut r = Runner::boot_with(X86Layout::xv6_public(), fs).unwrap();
    r.set_decode_cache(decode_cache);
    r.set_show_accesses(true);
    r.set_slice(slice);
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    r.type_input(input);
    let stop = r.run(1_000_000);
    (format!("{:?}", r.records()), out(&r), format!("{:?} {stop:?}", r.counts()), format!("{:?}", r.faults()))
}

#[test]
fn the_decode_cache_changes_no_access_count_or_output() {
    // sh, echo and the self-modifying program, one after another at the
    // same addresses (one cache serves every process), with the timer
    // switching between them every 50 instructions.
    let fs = fs_with("/smc", elf_with_text(&self_modifying()));
    let input = "echo hello world\nsmc\n";
    let plain = run_showing_accesses(fs.clone(), input, 50, false);
    let cached = run_showing_accesses(fs, input, 50, true);
    assert_eq!(plain.1, "init: starting sh\n$ echo hello world\nsmc\nhello world\n$ AB$ ");
    assert!(plain.0.contains("TlbHit") && plain.0.contains("TlbMiss"), "every access shown");
    assert_eq!(cached.1, plain.1);
    assert_eq!(cached.2, plain.2);
    assert_eq!(cached.3, plain.3);
    assert!(cached.0 == plain.0, "the records differ");
}

#[test]
fn code_written_over_runs_as_written_with_the_decode_cache() {
    let (r, o) = run_code("smc", &self_modifying());
    assert_eq!(o, "AB$ ");
    assert!(r.faults().is_empty());
}

#[cfg(not(target_arch = "wasm32"))]
mod random_code {
    use super::common::a_calm_stop;
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        /// Random bytes run as a program never panic.
        #[test]
        fn random_bytes_as_code_never_panic(code in proptest::collection::vec(any::<u8>(), 4..256)) {
            let mut r = at_prompt(fs_with("/rnd", elf_with_text(&code)));
            r.type_input("rnd\n");
            let stop = r.run(20_000);
            prop_assert!(a_calm_stop(&stop), "{stop:?}");
        }

        /// Random bytes as a program run the same with the decode cache and without.
        #[test]
        fn random_code_runs_the_same_with_the_decode_cache(code in proptest::collection::vec(any::<u8>(), 4..256)) {
            let fs = fs_with("/rnd", elf_with_text(&code));
            let plain = run_showing_accesses(fs.clone(), "rnd\n", 1000, false);
            let cached = run_showing_accesses(fs, "rnd\n", 1000, true);
            prop_assert_eq!(&cached.1, &plain.1);
            prop_assert_eq!(&cached.2, &plain.2);
            prop_assert_eq!(&cached.3, &plain.3);
            prop_assert!(cached.0 == plain.0, "the records differ");
        }
    }
}

#[test]
fn showing_each_access_records_the_tlb_work_of_one_instruction() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Public));
    r.type_input("x\n");
    // sh slept in read; the scheduler's switchkvm and switchuvm flushed
    // the TLB. The read returns the "x"; sh is back just after its int $64.
    assert_eq!(r.run_to_trap(1_000_000), RunStop::Trap);
    let (pid, cpu) = r.current().unwrap();
    let eip = u64::from(cpu.eip);
    assert_eq!(pid, 2);
    // The stub's next instruction is `ret` (README: mov $N, %eax; int $0x40; ret).
    let (_, i) = r.next_instruction().unwrap();
    assert_eq!(pagelab_core::cpu::x86::Att(&i).to_string(), "ret");
    let kinds: Vec<(&str, u64)> =
        tlb_work_of_one_instruction(&mut r).into_iter().map(|(k, va)| (k, va & !0xfff)).collect();
    // The CPU first fetches the 4 bytes from eip (enough for a 1-byte ret)
    // in aligned halves: 2 of them, or 3 from an odd eip. The first misses
    // and fills the text page, the others hit. Then ret pops the return
    // address from the stack page (sz 0x4000: the stack is 0x3000), which
    // misses and fills.
    let text = eip & !0xfff;
    let halves = if eip % 2 == 0 { 2 } else { 3 };
    let mut expected = vec![("miss", text), ("fill", text)];
    expected.extend(std::iter::repeat_n(("hit", text), halves - 1));
    expected.extend([("miss", 0x3000), ("fill", 0x3000)]);
    assert_eq!(kinds, expected);
    // The next read returns the "\n" without sleeping. A system call does
    // not reload CR3 on x86 (the kernel runs on the process's page
    // directory), so the TLB keeps its entries: the ret only hits.
    assert_eq!(r.run_to_trap(1_000_000), RunStop::Trap);
    let t = &r.records().last().unwrap().text;
    assert!(t.starts_with("read(0, 0x3") && t.ends_with(", 1) = 1"), "{t}");
    assert_eq!(r.step_instruction(), RunStop::Budget);
    let rec = r.records().last().unwrap();
    assert_eq!(rec.kind, RecordKind::User { instructions: 1 });
    // The same ret at the same eip: its halves and the stack's pop, all hits.
    assert_eq!((rec.counts.tlb.hits, rec.counts.tlb.misses), (halves as u64 + 1, 0));
}

#[test]
fn sleep_takes_its_argument_from_the_user_stack_and_waits_for_ticks() {
    // sleep(5): push $5; push $0 (the fake return address); mov $13,%eax; int $64.
    let mut code = vec![0x6a, 5, 0x6a, 0, 0xb8, 13, 0, 0, 0, 0xcd, 0x40];
    // uptime(): mov $14,%eax; int $64; then write '0' + ticks: add $0x30,%eax; push %eax;
    // mov %esp,%eax; push $1; push %eax; push $1; push $0; mov $16,%eax; int $64; exit().
    code.extend([0xb8, 14, 0, 0, 0, 0xcd, 0x40, 0x83, 0xc0, 0x30, 0x50]);
    code.extend([0x89, 0xe0, 0x6a, 1, 0x50, 0x6a, 1, 0x6a, 0, 0xb8, 16, 0, 0, 0, 0xcd, 0x40]);
    code.extend(EXIT);
    let (r, o) = run_code("nap", &code);
    // No timer fired (the default slice is long): the idle CPU let 5 ticks pass.
    assert_eq!(o, "5$ ");
    assert_eq!(r.counts().ticks, 5);
    assert!(r.records().iter().any(|c| c.pid == Some(3) && c.text == "sleep(5): sleeps until tick 5"));
    assert!(r.records().iter().any(|c| c.pid == Some(3) && c.text == "sleep(5) = 0"));
}

#[test]
fn a_missing_program_fails_exec_and_end_of_file_ends_sh() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Public));
    let free = r.kernel().kmem().nfree();
    r.type_input("nosuch x\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    // xv6-public's exec prints "exec: fail" when namei finds no file; then sh's message.
    assert!(out(&r).ends_with("nosuch x\nexec: fail\nexec nosuch failed\n$ "), "{:?}", out(&r));
    assert!(r.records().iter().any(|c| c.pid == Some(3) && c.text == "exec(\"nosuch\", [\"nosuch\", \"x\"]) = -1"));
    // ^D: sh's read returns 0, sh exits, init's wait returns 2, a new sh is pid 4.
    r.clear_output();
    r.type_input("\x04");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert_eq!(out(&r), "\x04init: starting sh\n$ ");
    assert_eq!(
        procs(&r),
        vec![(1, "init".to_string(), ProcState::Sleeping), (4, "sh".to_string(), ProcState::Sleeping)]
    );
    assert_eq!(r.kernel().kmem().nfree(), free);
}
