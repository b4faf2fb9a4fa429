//! The real programs running on xv6-riscv: initcode, init, sh and echo
//! executed instruction by instruction by the RV64 hart, every access
//! through the TLB and the page walk, system calls reaching the kernel's
//! operations.
//!
//! The expected values are worked out from user/README.md (what each
//! program prints and which system calls it makes) and from xv6-riscv's
//! code (what its console echoes, what usertrap prints, how many frames a
//! process holds), not from pagelab's output.

mod common;

use common::{
    assert_a_pipe_takes_a_page, assert_blank_line_echo_alone_and_cd, assert_printf_writes_a_byte_at_a_time,
    assert_the_timer_changes_nothing, assert_trips_match_steps, out, procs, tlb_work_of_one_instruction,
};
use pagelab_core::lab::scenario::{STORY_RISCV, parse};
use pagelab_core::lab::{Fs, Op};
use pagelab_core::mem::Sim;
use pagelab_core::port::Kernel;
use pagelab_core::programs;
use pagelab_core::riscv::run::{Chan, RecordKind, RunStop, Runner};
use pagelab_core::riscv::{KERNBASE, RiscvKernel, RiscvLayout};
use pagelab_core::shm::ShmMode;
use pagelab_core::sys::{Port, ProcState};
use pagelab_core::trace::Trace;

/// Frames free right after boot, before the first process: a kernel booted on its own.
fn free_after_boot() -> u64 {
    let layout = RiscvLayout::xv6_riscv();
    let hw = Sim::new(KERNBASE, layout.phystop - KERNBASE);
    let init = programs::initcode(Port::Xv6Riscv).to_vec();
    let k = RiscvKernel::boot(layout, hw, init, ShmMode::Lab, &mut Trace::counting_only()).unwrap();
    k.kmem().nfree()
}

/// A runner booted into sh, which waits for a line.
fn at_prompt(fs: Fs) -> Runner<Sim> {
    let mut r = Runner::boot_with(RiscvLayout::xv6_riscv(), fs).unwrap();
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    r
}

/// Page-table pages of a process whose user memory is below 2 MB: the
/// root, an L1 and an L0 table for the bottom, and an L1 and an L0 table
/// for the trampoline and trapframe at the top.
const PT_PAGES: u64 = 5;

#[test]
fn boot_runs_init_which_starts_sh_which_waits_for_a_line() {
    let before = free_after_boot();
    let r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    // init prints its line on fd 1, sh its prompt on fd 2: both the console.
    assert_eq!(out(&r), "init: starting sh\n$ ");
    // The whole console as xv6-riscv prints it under QEMU (CPUS := 3):
    // main's banner on hart 0, then harts 2 and 1 (in either order there).
    assert_eq!(
        String::from_utf8_lossy(r.output()),
        "\nxv6 kernel is booting\n\nhart 2 starting\nhart 1 starting\ninit: starting sh\n$ "
    );
    assert_eq!(
        procs(&r),
        vec![(1, "init".to_string(), ProcState::Sleeping), (2, "sh".to_string(), ProcState::Sleeping)]
    );
    assert_eq!(r.proc_state(1).unwrap().chan, Some(Chan::Child));
    // The scheduler ran pid 1, then pid 2 once init slept in wait.
    let runs: Vec<Option<u32>> = r.records().iter().filter(|c| c.kind == RecordKind::Schedule).map(|c| c.pid).collect();
    assert_eq!(runs, [Some(1), Some(2)]);
    assert_eq!(r.proc_state(2).unwrap().chan, Some(Chan::Console));
    // init: trapframe, page tables, text, data, guard, stack. sh: trapframe,
    // page tables, two text pages, data, guard, stack (README's footprints).
    let init = 1 + PT_PAGES + 4;
    let sh = 1 + PT_PAGES + 5;
    assert_eq!(r.kernel().kmem().nfree(), before - init - sh);
    // init's fds 0-2 are the console: open fails, mknod, open, dup, dup.
    let calls: Vec<&str> =
        r.records().iter().filter(|c| c.kind != RecordKind::Schedule).take(25).map(|c| c.text.as_str()).collect();
    assert_eq!(
        calls[..7],
        [
            "userinit() = 1",
            "exec(\"/init\", [\"/init\"]) = 1",
            "open(\"console\", 0x2) = -1",
            "mknod(\"console\", 1, 0) = 0",
            "open(\"console\", 0x2) = 0",
            "dup(0) = 1",
            "dup(0) = 2",
        ]
    );
    // printf("init: starting sh\n"), as xv6's printf does it: 18 writes of
    // one byte each, from putc's `c` on init's stack (0x3000 to 0x4000).
    assert_printf_writes_a_byte_at_a_time(&calls[7..], 18, 0x3000..0x4000);
    let c = r.counts();
    assert!(c.instructions > 100 && c.tlb_hits > c.instructions && c.tlb_misses > 0, "{c:?}");
}

/// sh sleeps in read until a line comes. Typed, the line wakes it: its read
/// goes on in the kernel (it trapped in when it went to sleep) and returns
/// through userret, two sfence.vma, which the read's own record counts, so
/// that the counts are whole while sh runs in user mode again.
#[test]
fn a_woken_read_counts_its_return_to_user_space() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    r.type_input("e\n");
    r.run_to_trap(1_000_000);
    let read = r.records().iter().rev().find(|c| c.text.starts_with("read(0, ")).expect("a read");
    assert!(read.text.ends_with(", 1) = 1"), "{}", read.text);
    assert_eq!((read.pid, read.counts.tlb.flushes), (Some(2), 2));
    assert_eq!(r.current().map(|(pid, _)| pid), Some(2), "sh runs in user mode");
}

#[test]
fn a_sleeping_process_does_not_run() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    let n = r.counts().instructions;
    assert_eq!(r.run(1_000), RunStop::WaitingForInput);
    assert_eq!(r.step_instruction(), RunStop::WaitingForInput);
    assert_eq!(r.counts().instructions, n);
    // Input without a newline is not a line yet: sh goes on sleeping.
    r.type_input("ech");
    assert_eq!(r.run(1_000), RunStop::WaitingForInput);
    assert_eq!(r.counts().instructions, n);
    assert_eq!(out(&r), "init: starting sh\n$ ech");
}

#[test]
fn echo_hello_world_prints_it_and_gives_every_frame_back() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    let free = r.kernel().kmem().nfree();
    r.type_input("echo hello world\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    // The console echoes the typed line, echo prints its arguments, sh prompts again.
    assert_eq!(out(&r), "init: starting sh\n$ echo hello world\nhello world\n$ ");
    // sh's child was pid 3; it is reaped, init and sh are back asleep.
    assert_eq!(
        procs(&r),
        vec![(1, "init".to_string(), ProcState::Sleeping), (2, "sh".to_string(), ProcState::Sleeping)]
    );
    let forks: Vec<(Option<u32>, Option<i64>)> = r
        .records()
        .iter()
        .filter_map(|c| match c.kind {
            RecordKind::Syscall { name: "fork", ret, .. } => Some((c.pid, ret)),
            _ => None,
        })
        .collect();
    assert_eq!(forks, [(Some(1), Some(2)), (Some(2), Some(3))]);
    // echo wrote "hello", " ", "world", "\n" as pid 3 and exited with 0.
    let writes: Vec<(u32, Option<i64>)> = r
        .records()
        .iter()
        .filter(|c| c.pid == Some(3))
        .filter_map(|c| match c.kind {
            RecordKind::Syscall { name: "write", ret, .. } => Some((3, ret)),
            _ => None,
        })
        .collect();
    assert_eq!(writes, [(3, Some(5)), (3, Some(1)), (3, Some(5)), (3, Some(1))]);
    assert!(r.records().iter().any(|c| c.pid == Some(3) && c.text == "exit(0)"));
    // malloc's first sbrk in the child: 4096 headers of 16 bytes, from sh's size 0x5000.
    assert!(r.records().iter().any(|c| c.pid == Some(3) && c.text == "sbrk(65536) = 20480"));
    // Every frame pid 3 took (its copy of sh, the heap, echo) is free again.
    assert_eq!(r.kernel().kmem().nfree(), free);
    // A second command runs the same way, as pid 4.
    r.clear_output();
    r.type_input("echo a  bb\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert_eq!(out(&r), "echo a  bb\na bb\n$ ");
    assert!(r.ops().contains(&Op::Exec {
        pid: 4,
        path: "echo".into(),
        argv: vec![b"echo".to_vec(), b"a".to_vec(), b"bb".to_vec()]
    }));
    assert_eq!(r.kernel().kmem().nfree(), free);
}

#[test]
fn the_run_makes_the_process_operations_of_the_built_in_story() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    r.type_input("echo hello world\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    let story = parse(STORY_RISCV).unwrap();
    assert_eq!(r.ops(), story.ops.as_slice());
}

#[test]
fn end_of_file_ends_sh_and_init_starts_another() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    let free = r.kernel().kmem().nfree();
    // ^D: sh's read returns 0, sh exits, init's wait returns 2, a new sh is pid 3.
    r.type_input("\x04");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert_eq!(out(&r), "init: starting sh\n$ \x04init: starting sh\n$ ");
    assert_eq!(
        procs(&r),
        vec![(1, "init".to_string(), ProcState::Sleeping), (3, "sh".to_string(), ProcState::Sleeping)]
    );
    assert_eq!(r.kernel().kmem().nfree(), free);
}

#[test]
fn a_missing_program_fails_exec_and_sh_says_so() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    r.type_input("nosuch x\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert!(out(&r).ends_with("nosuch x\nexec nosuch failed\n$ "), "{:?}", out(&r));
    // xv6-riscv's runcmd breaks out of its switch after the message and exits 0.
    assert!(r.records().iter().any(|c| c.pid == Some(3) && c.text == "exit(0)"));
}

#[test]
fn an_orphan_is_reaped_by_init_which_says_nothing_as_xv6_riscvs_init() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    let free = r.kernel().kmem().nfree();
    // sh's child (pid 3) forks echo (pid 4) for `&` and exits at once, so
    // echo is handed to init; xv6-riscv's init.c reaps it with no message.
    r.type_input("echo hi &\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    let console = out(&r);
    assert_eq!(console.matches("hi\n").count(), 1, "{console:?}");
    assert_eq!(console.replacen("hi\n", "", 1), "init: starting sh\n$ echo hi &\n$ ");
    let init: Vec<&str> = r.records().iter().filter(|c| c.pid == Some(1)).map(|c| c.text.as_str()).collect();
    let reaped = init.iter().position(|t| *t == "wait(0x0) = 4").expect("init reaps pid 4");
    assert!(init[reaped + 1..].iter().all(|t| t.starts_with("wait(")), "{init:?}");
    assert_eq!(r.kernel().kmem().nfree(), free);
}

#[test]
fn sh_forks_for_a_blank_line_echo_alone_prints_nothing_and_cd_keeps_spaces() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    let want = [
        "fork() = 3",
        "sbrk(65536) = 20480",
        "exit(1)",
        "wait(0x0) = 3",
        "fork() = 4",
        "sbrk(65536) = 20480",
        "exec(\"echo\", [\"echo\"]) = 1",
        "exit(0)",
        "wait(0x0) = 4",
        "chdir(\" /\") = -1",
    ];
    assert_blank_line_echo_alone_and_cd(&mut r, &want);
}

#[test]
fn a_pipe_takes_a_page_until_both_its_ends_are_closed() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    assert_a_pipe_takes_a_page(&mut r, pagelab_core::lab::Preset::Xv6Riscv);
}

#[test]
fn sh_ends_a_line_it_cannot_parse_with_xv6s_words() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    // xv6's MAXARGS is 10, and argv's last slot is its 0: 9 words are too many.
    r.type_input("echo a b c d e f g h\necho a b c d e f g h i\necho )\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    let want = "a b c d e f g h\n$ too many args\n$ leftovers: )\n\nsyntax\n$ ";
    assert!(out(&r).ends_with(want), "{:?}", out(&r));
}

/// An RV64 ELF with one R+X segment at address 0 holding the headers and `code`, entered at `code`.
fn elf_with_text(code: &[u8]) -> Vec<u8> {
    let entry = 64 + 56;
    let mut f = Vec::new();
    f.extend_from_slice(b"\x7fELF\x02\x01\x01\x00");
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&(entry as u64).to_le_bytes());
    f.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    f.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    f.extend_from_slice(&0u32.to_le_bytes());
    for h in [64u16, 56, 1, 64, 0, 0] {
        f.extend_from_slice(&h.to_le_bytes());
    }
    let size = (entry + code.len()) as u64;
    f.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f.extend_from_slice(&5u32.to_le_bytes()); // R + X
    for v in [0u64, 0, 0, size, size, 0x1000] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    assert_eq!(f.len(), entry);
    f.extend_from_slice(code);
    f
}

fn fs_with(path: &str, file: Vec<u8>) -> Fs {
    let mut fs = Fs::builtin(Port::Xv6Riscv);
    fs.files.insert(path.into(), file);
    fs
}

#[test]
fn a_store_to_text_faults_on_the_missing_write_bit_and_kills_the_process() {
    // 0x78: auipc a0, 0 (a0 = 0x78); 0x7c: sw zero, 0(a0); then exit(0), never reached.
    let code = [0x0000_0517u32, 0x0005_2023, 0x0000_0513, 0x0020_0893, 0x0000_0073];
    let code: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut r = at_prompt(fs_with("/wtext", elf_with_text(&code)));
    let free = r.kernel().kmem().nfree();
    r.type_input("wtext\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    // xv6-riscv's usertrap: scause 15 (store page fault), sepc the sw, stval the address.
    assert_eq!(
        out(&r),
        "init: starting sh\n$ wtext\nusertrap(): unexpected scause 0xf pid=3\n            sepc=0x7c stval=0x78\n$ "
    );
    let f = &r.faults()[0];
    assert_eq!((f.pid, f.scause, f.pc, f.stval), (3, 15, 0x7c, 0x78));
    assert!(f.what.contains("write bit"), "{}", f.what);
    assert!(f.what.contains("PTE_X") && !f.what.contains("PTE_W"), "{}", f.what);
    // The trace of the trap has the fault.
    let trap = r.records().iter().find(|c| matches!(c.kind, RecordKind::Fault { .. })).unwrap();
    assert!(trap.events.iter().any(|e| matches!(e.event, pagelab_core::trace::Event::PageFault { code: 15, .. })));
    // sh reaped it; its frames are back.
    assert_eq!(procs(&r).len(), 2);
    assert_eq!(r.kernel().kmem().nfree(), free);
}

#[test]
fn a_jump_to_an_unmapped_page_faults_on_the_fetch_and_the_timeline_replays_it() {
    // 0x78: lui a0, 0x10 (a0 = 0x10000, past the program's 3 pages); 0x7c: jr a0.
    let code = [0x0001_0537u32, 0x0005_0067];
    let code: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut r = at_prompt(fs_with("/jmp", elf_with_text(&code)));
    let free = r.kernel().kmem().nfree();
    r.type_input("jmp\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    // xv6-riscv's usertrap: scause 12 (instruction page fault), sepc and stval the target.
    assert!(out(&r).contains("usertrap(): unexpected scause 0xc pid=3\n            sepc=0x10000 stval=0x10000\n"));
    assert_eq!(r.kernel().kmem().nfree(), free);
    // On the timeline the fetch itself, not an exit: replayed, it faults and kills the same way.
    assert!(r.ops().contains(&Op::Fetch { pid: 3, va: 0x10000 }), "{:?}", r.ops());
    let mut s = pagelab_core::lab::Scenario::new(pagelab_core::lab::Preset::Xv6Riscv, ShmMode::Lab);
    s.ops = r.ops().to_vec();
    let i = s.ops.iter().position(|o| *o == Op::Fetch { pid: 3, va: 0x10000 }).unwrap();
    s.ops.truncate(i + 1);
    let lab = pagelab_core::lab::Lab::from_scenario(&s).unwrap();
    let last = lab.steps().last().unwrap();
    assert!(last.result.error.as_ref().is_some_and(|e| e.kills()), "{:?}", last.result);
    assert_eq!(lab.kernel().procs().get(3).unwrap().state, ProcState::Zombie);
}

#[test]
fn an_instruction_the_hart_lacks_stops_the_process_with_its_name_and_address() {
    // 0x78: rdcycle a0 (csrrs a0, cycle, zero): no CSRs in this hart.
    let code = 0xc000_2573u32.to_le_bytes();
    let mut r = at_prompt(fs_with("/cyc", elf_with_text(&code)));
    r.type_input("cyc\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert!(out(&r).contains("usertrap(): unexpected scause 0x2 pid=3\n            sepc=0x78 stval=0xc0002573\n"));
    let f = &r.faults()[0];
    assert_eq!((f.pid, f.scause, f.pc), (3, 2, 0x78));
    assert!(f.what.contains("0xc0002573") && f.what.contains("0x78"), "{}", f.what);
    assert_eq!(procs(&r).len(), 2);
}

#[test]
fn the_timer_interleaves_processes_without_changing_what_they_do() {
    let r = Runner::boot_with(RiscvLayout::xv6_riscv(), Fs::builtin(Port::Xv6Riscv)).unwrap();
    assert_the_timer_changes_nothing(r, STORY_RISCV);
}

#[test]
fn a_budget_stops_the_run_and_running_on_finishes_it() {
    let mut r = Runner::boot(RiscvLayout::xv6_riscv()).unwrap();
    assert_eq!(r.run(10), RunStop::Budget);
    assert_eq!(r.counts().instructions, 10);
    let (pid, hart) = r.current().unwrap();
    assert_eq!(pid, 1);
    assert!(hart.pc != 0);
    assert!(r.next_instruction().is_some());
    assert_eq!(r.step_instruction(), RunStop::Budget);
    assert_eq!(r.counts().instructions, 11);
    assert_eq!(r.run(u64::MAX), RunStop::WaitingForInput);
    assert_eq!(out(&r), "init: starting sh\n$ ");
    // The records can be taken as they come; the run goes on without them.
    let taken = r.take_records();
    assert_eq!(taken[0].kind, RecordKind::Userinit);
    assert!(r.records().is_empty());
    r.type_input("echo x\n");
    assert_eq!(r.run(u64::MAX), RunStop::WaitingForInput);
    assert!(out(&r).ends_with("echo x\nx\n$ "));
    assert!(r.records().iter().any(|c| c.text == "fork() = 3"));
}

/// `lui a0, upper` (a0 = upper << 12); loop: `sd a0, -8(sp)`; `ld a1, -8(sp)`;
/// `addi a0, a0, -1`; `bnez a0, loop`; then exit(0). All 4-byte instructions.
fn spin(upper: u32) -> Vec<u8> {
    let code = [(upper << 12) | 0x537, 0xfea1_3c23, 0xff81_3583, 0xfff5_0513, 0xfe05_1ae3, 0x513, 0x0020_0893, 0x73];
    elf_with_text(&code.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>())
}

/// TLB lookups (hits, misses) and instructions of running `spin` from sh.
fn spin_counts(upper: u32) -> (u64, u64, u64) {
    let mut r = at_prompt(fs_with("/spin", spin(upper)));
    let before = r.counts();
    r.type_input("spin\n");
    assert_eq!(r.run(u64::MAX), RunStop::WaitingForInput);
    let c = r.counts();
    (c.tlb_hits - before.tlb_hits, c.tlb_misses - before.tlb_misses, c.instructions - before.instructions)
}

#[test]
fn every_access_of_a_loop_is_one_tlb_lookup() {
    // Each time round: 4 instructions, each fetched as two halves, one
    // store and one load: 10 lookups, all hits once the loop runs.
    let (h1, m1, i1) = spin_counts(1);
    let (h2, m2, i2) = spin_counts(4);
    let more = 4096 * 3;
    assert_eq!(i2 - i1, 4 * more);
    assert_eq!(m2, m1);
    assert_eq!(h2 - h1, 10 * more);
}

#[cfg(not(target_arch = "wasm32"))]
mod random_code {
    use super::common::a_calm_stop;
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        /// Random bytes run as a program never panic: sh's child is killed
        /// or exits, or the budget ends the run, or the kernel stops with a
        /// panic message (random code may kill init).
        #[test]
        fn random_bytes_as_code_never_panic(code in proptest::collection::vec(any::<u8>(), 4..256)) {
            let mut r = at_prompt(fs_with("/rnd", elf_with_text(&code)));
            r.type_input("rnd\n");
            let stop = r.run(20_000);
            prop_assert!(a_calm_stop(&stop), "{stop:?}");
        }
    }
}

#[test]
fn run_to_trap_stops_at_each_system_call() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    r.type_input("echo hello world\n");
    // sh's read(0, &c, 1) wakes and returns each of the 17 typed bytes, then sh forks.
    let mut texts = Vec::new();
    for _ in 0..18 {
        assert_eq!(r.run_to_trap(1_000_000), RunStop::Trap);
        texts.push(r.records().last().unwrap().text.clone());
    }
    assert!(texts[..17].iter().all(|t| t.starts_with("read(0, ") && t.ends_with(", 1) = 1")), "{texts:?}");
    assert_eq!(texts[17], "fork() = 3");
}

#[test]
fn showing_each_access_records_the_tlb_work_of_one_instruction() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    r.type_input("x\n");
    // The read returns the "x"; sh is back in user mode just after its ecall.
    assert_eq!(r.run_to_trap(1_000_000), RunStop::Trap);
    let (pid, hart) = r.current().unwrap();
    let pc = hart.pc;
    assert_eq!(pid, 2);
    // The stub's next instruction is `ret` (c.jr ra): one 2-byte fetch, and
    // usertrapret's sfence.vma emptied the TLB, so it misses and fills.
    assert_eq!(r.next_instruction().unwrap().1.to_string(), "jalr zero, 0(ra)");
    let kinds = tlb_work_of_one_instruction(&mut r);
    assert_eq!(kinds, [("miss", pc), ("fill", pc & !0xfff)]);
    let rec = r.records().last().unwrap();
    assert_eq!((rec.counts.tlb.hits, rec.counts.tlb.misses), (0, 1));
}

/// `addi rd, rs1, imm` (I-type).
fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    (((imm as u32) & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13
}

const ECALL: u32 = 0x73;
const SP: u32 = 2;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const A7: u32 = 17;

#[test]
fn fork_gives_the_child_a0_0_and_wait_copies_out_its_exit_status() {
    // fork(); if (a0 != 0) goto parent; exit(7);
    // parent: sp -= 16; wait(sp); c = '0' + *(int *)sp; write(1, &c, 1); exit(0)
    let mut code = vec![addi(A7, 0, 1), ECALL];
    // bne a0, zero, +16 (B-type: imm[4:1] in bits 11:8)
    code.push((A0 << 15) | (1 << 12) | (0b1000 << 8) | 0x63);
    code.extend([addi(A0, 0, 7), addi(A7, 0, 2), ECALL]);
    code.extend([addi(SP, SP, -16), addi(A0, SP, 0), addi(A7, 0, 3), ECALL]);
    code.push((SP << 15) | (2 << 12) | (A1 << 7) | 0x03); // lw a1, 0(sp)
    code.push(addi(A1, A1, 48));
    code.push((A1 << 20) | (SP << 15) | (8 << 7) | 0x23); // sb a1, 8(sp)
    code.extend([addi(A0, 0, 1), addi(A1, SP, 8), addi(A2, 0, 1), addi(A7, 0, 16), ECALL]);
    code.extend([addi(A0, 0, 0), addi(A7, 0, 2), ECALL]);
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut r = at_prompt(fs_with("/fw", elf_with_text(&bytes)));
    let free = r.kernel().kmem().nfree();
    r.type_input("fw\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert_eq!(out(&r), "init: starting sh\n$ fw\n7$ ");
    // pid 3 (sh's child, then fw) forked pid 4; the child saw 0 and exited
    // with 7 from the instruction after its ecall; the parent got 4. fw is
    // one text page, then the guard page and the stack: sz = 0x3000; exec
    // puts "fw\0" at 0x2ff0 and argv (2 words) at 0x2fe0; fw takes 16 more.
    let calls: Vec<(Option<u32>, &str)> = r
        .records()
        .iter()
        .filter(|c| matches!(c.pid, Some(3 | 4)) && matches!(c.kind, RecordKind::Syscall { .. }))
        .map(|c| (c.pid, c.text.as_str()))
        .filter(|(_, t)| !t.starts_with("sbrk") && !t.starts_with("exec"))
        .collect();
    assert_eq!(
        calls,
        [
            (Some(3), "fork() = 4"),
            (Some(3), "wait(0x2fd0): sleeps until a child exits"),
            (Some(4), "exit(7)"),
            (Some(3), "wait(0x2fd0) = 4"),
            (Some(3), "write(1, 0x2fd8, 1) = 1"),
            (Some(3), "exit(0)"),
        ]
    );
    assert_eq!(procs(&r).len(), 2);
    assert_eq!(r.kernel().kmem().nfree(), free);
}

#[test]
fn each_operation_of_the_run_allocates_and_frees_as_the_storys_step() {
    use pagelab_core::lab::Lab;
    use pagelab_core::lab::view::stack_words;
    let story = parse(STORY_RISCV).unwrap();
    let lab = Lab::from_scenario(&story).unwrap();
    let mut r = Runner::boot(RiscvLayout::xv6_riscv()).unwrap();
    assert_eq!(r.run(u64::MAX), RunStop::WaitingForInput);
    r.type_input("echo hello world\n");
    // Step to echo's exec and compare the stack it built with the story's.
    loop {
        assert_eq!(r.run_to_trap(1_000_000), RunStop::Trap);
        if r.records().last().unwrap().text.starts_with("exec(\"echo\"") {
            break;
        }
    }
    let exec_step = story.ops.iter().position(|o| matches!(o, Op::Exec { pid: 3, .. })).unwrap();
    let at_exec = lab.prefix(exec_step + 1);
    let words = stack_words(r.kernel(), 3);
    assert!(!words.is_empty());
    assert_eq!(words, stack_words(at_exec.kernel(), 3));
    assert_eq!(r.run(u64::MAX), RunStop::WaitingForInput);
    // The trips that made the story's operations, in order.
    assert_trips_match_steps(&r, &lab);
}

#[test]
fn a_stack_that_grows_past_its_page_faults_on_the_guard_page() {
    // loop: addi sp, sp, -1024; sd zero, 0(sp); j loop
    let code = [addi(SP, SP, -1024), (SP << 15) | (3 << 12) | 0x23, 0xff9f_f06f];
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut r = at_prompt(fs_with("/deep", elf_with_text(&bytes)));
    r.type_input("deep\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    // One text page, the guard at 0x1000, the stack at 0x2000. exec leaves
    // sp at 0x2fe0 ("deep\0" at 0x2ff0, argv below); the fourth store, at
    // 0x2fe0 - 4 * 1024 = 0x1fe0, is in the guard page, which has no PTE_U.
    let f = &r.faults()[0];
    assert_eq!((f.pid, f.scause, f.stval, f.pc), (3, 15, 0x1fe0, 0x7c));
    assert!(f.what.contains("no user bit"), "{}", f.what);
    assert!(out(&r).ends_with("usertrap(): unexpected scause 0xf pid=3\n            sepc=0x7c stval=0x1fe0\n$ "));
}

#[test]
fn sh_redirects_echo_to_the_console_and_to_a_new_file() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    // `> console` opens the existing device (O_CREATE finds it); `> x` creates a file.
    r.type_input("echo hi > console\necho no > x\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert_eq!(out(&r), "init: starting sh\n$ echo hi > console\necho no > x\nhi\n$ $ ");
    // x holds "no\n": a shell reading it runs `no`, which is no program.
    r.type_input("sh < x\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert!(out(&r).ends_with("$ sh < x\n$ exec no failed\n$ $ "), "{:?}", out(&r));
}

#[test]
fn sleep_waits_for_ticks_which_pass_while_every_process_sleeps() {
    // sleep(5); c = '0' + uptime(); write(1, &c, 1); exit(0)
    let mut code = vec![addi(A0, 0, 5), addi(A7, 0, 13), ECALL, addi(A7, 0, 14), ECALL];
    code.extend([addi(A0, A0, 48), addi(SP, SP, -16)]);
    code.push((A0 << 20) | (SP << 15) | 0x23); // sb a0, 0(sp)
    code.extend([addi(A0, 0, 1), addi(A1, SP, 0), addi(A2, 0, 1), addi(A7, 0, 16), ECALL]);
    code.extend([addi(A0, 0, 0), addi(A7, 0, 2), ECALL]);
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut r = at_prompt(fs_with("/nap", elf_with_text(&bytes)));
    let ticks = r.counts().ticks;
    r.type_input("nap\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    // No timer fired (the default slice is long): the idle CPU let 5 ticks pass.
    assert_eq!(ticks, 0);
    assert_eq!(out(&r), "init: starting sh\n$ nap\n5$ ");
    assert_eq!(r.counts().ticks, 5);
}

/// A program that writes 700 bytes, `echo x\n` a hundred times, to fd 1
/// with one `write`, then exits: more than a pipe holds (PIPESIZE 512).
fn blast() -> Vec<u8> {
    // auipc a1, 0; addi a1, a1, 36 (the data after these nine instructions);
    // li a0, 1; li a2, 700; li a7, 16 (write); ecall; li a0, 0; li a7, 2 (exit); ecall.
    let code = [0x597u32, 0x0245_8593, 0x0010_0513, 0x2bc0_0613, 0x0100_0893, 0x73, 0x513, 0x0020_0893, 0x73];
    let mut bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    bytes.extend_from_slice("echo x\n".repeat(100).as_bytes());
    elf_with_text(&bytes)
}

#[test]
fn a_write_bigger_than_the_pipe_sleeps_until_the_reader_makes_room() {
    let mut r = at_prompt(fs_with("/blast", blast()));
    let free = r.kernel().kmem().nfree();
    r.type_input("blast | sh\n");
    assert_eq!(r.run(50_000_000), RunStop::WaitingForInput);
    // The inner sh reads the hundred lines from the pipe, prompting before
    // each (its prompt goes to fd 2, the console), and prompts once more
    // before it reads the end of the pipe; then the outer sh prompts.
    let want = format!("init: starting sh\n$ blast | sh\n{}$ $ ", "$ x\n".repeat(100));
    assert_eq!(out(&r), want);
    // The write filled the pipe, slept, and went on when woken: 700 in all.
    let writes: Vec<&str> = r
        .records()
        .iter()
        .filter(|c| c.text.starts_with("write(1, ") && c.text.contains(", 700)"))
        .map(|c| c.text.as_str())
        .collect();
    assert!(writes.first().is_some_and(|w| w.ends_with("sleeps until pipe 0 has room or no reader")), "{writes:?}");
    assert!(writes.last().is_some_and(|w| w.ends_with(" = 700")), "{writes:?}");
    // Every process but init and sh is gone, with its frames.
    assert_eq!(procs(&r).len(), 2);
    assert_eq!(r.kernel().kmem().nfree(), free);
}

#[test]
fn sh_pipes_and_redirects_through_the_runners_files() {
    let mut r = at_prompt(Fs::builtin(Port::Xv6Riscv));
    for line in ["echo echo piped | sh", "echo echo via a file > cmd", "sh < cmd", "echo x > no/dir"] {
        r.type_input(&format!("{line}\n"));
        assert_eq!(r.run(50_000_000), RunStop::WaitingForInput, "{line}");
    }
    // Each inner sh prompts on the console before each line it reads and
    // before the end of its input; `open` cannot make a file in a directory
    // that does not exist (the root is the only one), and sh says so.
    assert_eq!(
        out(&r),
        "init: starting sh\n$ echo echo piped | sh\n$ piped\n$ $ echo echo via a file > cmd\n$ sh < cmd\n$ via a file\n$ $ echo x > no/dir\nopen no/dir failed\n$ "
    );
    assert!(r.records().iter().any(|c| c.text.starts_with("pipe(") && c.text.ends_with(" = 0")));
    assert!(r.records().iter().any(|c| c.text == "open(\"cmd\", 0x201) = 1"), "O_WRONLY|O_CREATE makes the file");
}

#[test]
fn a_write_to_a_pipe_whose_reader_is_gone_returns_minus_one() {
    // deep never reads its input and is killed on its guard page: the pipe's
    // read end closes with it, and blast's write (700 bytes, more than the
    // pipe holds) fails as xv6's pipewrite does, with -1.
    let mut r = at_prompt(fs_with("/blast", blast()));
    let free = r.kernel().kmem().nfree();
    r.type_input("blast | deep\n");
    assert_eq!(r.run(50_000_000), RunStop::WaitingForInput);
    let last_write = r.records().iter().rev().find(|c| c.text.starts_with("write(1, ") && c.text.contains(", 700)"));
    assert!(last_write.is_some_and(|c| c.text.ends_with(" = -1")), "{last_write:?}");
    assert!(out(&r).contains("usertrap(): unexpected scause 0xf"), "{}", out(&r));
    assert_eq!(procs(&r).len(), 2);
    assert_eq!(r.kernel().kmem().nfree(), free);
}
