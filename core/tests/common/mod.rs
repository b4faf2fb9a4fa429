//! Helpers the run tests of both ports share (`run_riscv.rs`, `run_x86.rs`).
#![allow(dead_code, reason = "each test file uses some of them")]

use pagelab_core::lab::{Lab, Op, Preset, Scenario};
use pagelab_core::port::Kernel;
use pagelab_core::run::{Machine, RecordKind, RunStop, Runner};
use pagelab_core::sys::ProcState;
use pagelab_core::trace::Counts;

/// The live processes: (pid, name, state).
pub fn procs<K: Machine>(r: &Runner<K>) -> Vec<(u32, String, ProcState)> {
    r.kernel().procs().live().map(|p| (p.pid, p.name.clone(), p.state)).collect()
}

/// The console's output so far, after the kernel's boot messages (see
/// `boot_banner_*` for those, word for word).
pub fn out<K: Machine>(r: &Runner<K>) -> String {
    let all = String::from_utf8_lossy(r.output()).into_owned();
    let banner = r.kernel().boot_banner();
    all.strip_prefix(banner.as_str()).map_or(all.clone(), str::to_string)
}

/// The pages an operation allocated and freed, by kind.
fn pages(c: Counts) -> (u64, u64, u64, u64, u64, u64, u64, u64) {
    (c.user_alloc, c.user_free, c.pt_alloc, c.pt_free, c.kstack_alloc, c.kstack_free, c.other_alloc, c.other_free)
}

/// Each trip of `r` that made one of the story's operations (userinit,
/// fork, exec, sbrk, exit, wait that returned) allocated and freed the
/// pages of the story's step, in order, and left as many frames free.
pub fn assert_trips_match_steps<K: Machine>(r: &Runner<K>, lab: &Lab) {
    let trips: Vec<_> = r
        .records()
        .iter()
        .filter(|c| {
            matches!(
                &c.kind,
                RecordKind::Userinit
                    | RecordKind::Syscall { name: "exit", .. }
                    | RecordKind::Syscall { name: "fork" | "exec" | "sbrk" | "wait", ret: Some(_), .. }
            )
        })
        .collect();
    let steps = lab.steps();
    assert_eq!(trips.len(), steps.len());
    for (trip, step) in trips.iter().zip(steps) {
        assert_eq!(pages(trip.counts), pages(step.counts), "{} vs {:?}", trip.text, step.op);
        assert_eq!(trip.nfree, step.nfree, "{}", trip.text);
    }
}

/// With a time slice of 7 instructions, boot, type `echo hello world` and
/// run: the output and the operations are those of a run without the
/// timer (`story`'s), and the timer fired.
pub fn assert_the_timer_changes_nothing<K: Machine>(mut r: Runner<K>, story: &str) {
    r.set_slice(7);
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    r.type_input("echo hello world\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    assert!(r.counts().ticks > 100);
    assert!(r.records().iter().any(|c| c.kind == RecordKind::Timer));
    assert_eq!(out(&r), "init: starting sh\n$ echo hello world\nhello world\n$ ");
    let story = pagelab_core::lab::scenario::parse(story).unwrap();
    assert_eq!(r.ops(), story.ops.as_slice());
}

/// True for the ways a run of random code may stop.
pub fn a_calm_stop(stop: &RunStop) -> bool {
    matches!(stop, RunStop::WaitingForInput | RunStop::Budget | RunStop::Panic { .. } | RunStop::Deadlock)
}

/// Show each access, run one instruction, and return the TLB's events of
/// that stretch of user code: ("miss" / "fill" / "hit", the address), any
/// other event as ("other", 0).
pub fn tlb_work_of_one_instruction<K: Machine>(r: &mut Runner<K>) -> Vec<(&'static str, u64)> {
    use pagelab_core::trace::Event;
    r.set_show_accesses(true);
    assert_eq!(r.step_instruction(), RunStop::Budget);
    let rec = r.records().last().unwrap();
    assert_eq!(rec.kind, RecordKind::User { instructions: 1 });
    rec.events
        .iter()
        .map(|e| match &e.event {
            Event::TlbMiss { va, .. } => ("miss", va.as_u64()),
            Event::TlbFill { va, .. } => ("fill", va.as_u64()),
            Event::TlbHit { va, .. } => ("hit", va.as_u64()),
            _ => ("other", 0),
        })
        .collect()
}

/// `printf` of `n` bytes to fd 1, as xv6's does it: each of `calls` (record
/// texts) is `write(1, ADDR, 1) = 1`, every ADDR the same byte (putc's `c`)
/// inside `stack`, the page of the caller's stack.
pub fn assert_printf_writes_a_byte_at_a_time(calls: &[&str], n: usize, stack: core::ops::Range<u64>) {
    let writes: Vec<u64> = calls
        .iter()
        .map(|c| {
            let a =
                c.strip_prefix("write(1, 0x").and_then(|c| c.strip_suffix(", 1) = 1")).unwrap_or_else(|| panic!("{c}"));
            u64::from_str_radix(a, 16).unwrap()
        })
        .collect();
    assert_eq!(writes.len(), n);
    assert!(writes.iter().all(|&a| a == writes[0] && stack.contains(&a)), "{writes:x?}");
}

/// At sh's prompt, types a blank line, `echo` alone and `cd  /`, and checks
/// the system calls they make (all but reads, writes and sleeps) against
/// `want`. xv6's sh forks for every line but one starting `cd `: the blank
/// line's child mallocs its exec node (sbrk) and exits, as it has no word
/// to run; echo with no arguments (pid 4) writes nothing; `cd  /` is
/// chdir(" /"), which fails. Every frame comes back.
pub fn assert_blank_line_echo_alone_and_cd<K: Machine>(r: &mut Runner<K>, want: &[&str]) {
    let free = r.kernel().kmem().nfree();
    let from = r.records().len();
    r.type_input("\necho\ncd  /\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    let calls: Vec<&str> = r.records()[from..]
        .iter()
        .filter(|c| matches!(c.kind, RecordKind::Syscall { .. }))
        .map(|c| c.text.as_str())
        .filter(|t| !t.starts_with("read(") && !t.starts_with("write(") && !t.contains("sleeps"))
        .collect();
    assert_eq!(calls, want);
    assert!(out(r).ends_with("cannot cd  /\n$ "), "{:?}", out(r));
    assert!(!r.records()[from..].iter().any(|c| c.pid == Some(4) && c.text.starts_with("write(")));
    assert_eq!(r.kernel().kmem().nfree(), free);
}

/// At sh's prompt, runs `echo a | echo b`: xv6's pipealloc kallocs one page
/// for the pipe (after its two files), and pipeclose kfrees it once both
/// ends are closed. The timeline has both, so the lab, replaying the run's
/// operations, takes and gives back the same frames.
pub fn assert_a_pipe_takes_a_page<K: Machine>(r: &mut Runner<K>, preset: Preset) {
    use pagelab_core::trace::{Event, Owner};
    let free = r.kernel().kmem().nfree();
    let from = r.ops().len();
    r.type_input("echo a | echo b\n");
    assert_eq!(r.run(1_000_000), RunStop::WaitingForInput);
    let pipe = r.records().iter().find(|c| c.text.starts_with("pipe(")).expect("sh's pipe");
    let kallocs: Vec<Owner> = pipe
        .events
        .iter()
        .filter_map(|e| match e.event {
            Event::Kalloc { owner, .. } => Some(owner),
            _ => None,
        })
        .collect();
    assert_eq!(kallocs, [Owner::Pipe { id: 0 }]);
    let ops = &r.ops()[from..];
    assert_eq!(ops.iter().filter(|o| matches!(o, Op::Pipe { .. })).count(), 1, "{ops:?}");
    assert_eq!(ops.iter().filter(|o| matches!(o, Op::PipeClose { id: 0, .. })).count(), 1, "{ops:?}");
    assert_eq!(r.kernel().kmem().nfree(), free);
    let mut s = Scenario::new(preset, pagelab_core::shm::ShmMode::Lab);
    s.ops = r.ops().to_vec();
    let lab = Lab::from_scenario(&s).unwrap();
    assert_eq!(lab.kernel().kmem().nfree(), free);
    let at = s.ops.iter().position(|o| matches!(o, Op::Pipe { .. })).unwrap();
    assert_eq!(lab.steps()[at].nfree + 1, lab.steps()[at - 1].nfree, "the pipe's page");
    let close = s.ops.iter().position(|o| matches!(o, Op::PipeClose { .. })).unwrap();
    assert_eq!(lab.steps()[close].nfree, lab.steps()[close - 1].nfree + 1, "given back");
}
