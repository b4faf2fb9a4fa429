//! The runner with a CPU in pagelab's place (`Runner::run_on`), as the
//! bare-metal kernel drives it with QEMU's CPU, and the transcript both
//! print (`run::transcript`), which `kernel/test.sh` compares.
//!
//! The stand-in CPU here is pagelab's own, run until it traps, with the trap
//! path's accessed and dirty bits set as a real MMU would set them: the
//! transcript must then be the one `Runner::run` gives. What the programs
//! print and which faults they take are worked out from user/README.md and
//! from xv6's trap handlers; the trampoline's and trapframe's entry bits
//! from the RISC-V privileged spec (V 0x1, R 0x2, W 0x4, X 0x8, A 0x40, D 0x80).

use pagelab_core::addr::VirtAddr;
use pagelab_core::port::Xv6Port;
use pagelab_core::riscv::{RiscvLayout, TRAMPOLINE, TRAPFRAME};
use pagelab_core::run::transcript::script;
use pagelab_core::run::usermem::{ProcMem, tlb_of};
use pagelab_core::run::{Machine, RunStop, Runner, Trap, UserCpu};
use pagelab_core::scheme::{Access, Sv39};
use pagelab_core::trace::Trace;
use pagelab_core::x86::X86Layout;

/// A stand-in for the kernel's real CPU: pagelab's own, run until it traps.
struct UntilTrap;

impl<K: Machine> UserCpu<K> for UntilTrap {
    fn run_user(&mut self, k: &mut K, pid: u32, cpu: &mut K::Cpu) -> Trap {
        // What a real MMU does on the way out (userret) and back (uservec).
        k.trap_path_accessed(&mut Trace::counting_only(), pid, false).unwrap();
        let root = k.state().ptable.get(pid).unwrap().root;
        let st = k.state_mut();
        let on = tlb_of(&mut st.tlbs, st.cpu).unwrap();
        let mut counts = Trace::counting_only();
        let mut mem = ProcMem::<_, K::Walk>::new(&mut st.hw, on, root, &mut counts);
        let mut n = 0u64;
        let trap = loop {
            match K::step(cpu, None, &mut mem) {
                Ok(()) => n += 1,
                Err(t) => break t,
            }
            assert!(n < 10_000_000, "pid {pid} ran 10 million instructions without a trap");
        };
        k.trap_path_accessed(&mut Trace::counting_only(), pid, true).unwrap();
        trap
    }
}

const LINES: &[&str] = &["echo hello world", "deep", "echo a b c"];

/// The transcript of `LINES` run by pagelab's CPU, and by the stand-in.
fn both<K: Machine>(boot: impl Fn() -> Runner<K>) -> (String, String) {
    let mine = script(&mut boot(), LINES, |r| r.run(50_000_000));
    let theirs = script(&mut boot(), LINES, |r| r.run_on(&mut UntilTrap));
    (mine, theirs)
}

/// What every transcript of `LINES` must hold, whatever the port.
fn assert_the_story(t: &str, fault: &str) {
    for want in [
        "run: until sh waits -> waiting for input",
        "console: init: starting sh",
        "console: $ echo hello world",
        "console: hello world",
        "console: $ deep",
        "console: $ echo a b c",
        "console: a b c",
    ] {
        assert!(t.lines().any(|l| l == want), "no line {want:?} in:\n{t}");
    }
    assert_eq!(t.lines().filter(|l| l.starts_with("run: ")).count(), 4);
    assert!(t.lines().filter(|l| l.starts_with("run: ")).all(|l| l.ends_with("waiting for input")), "{t}");
    // deep is killed on the guard page: one fault, with the port's trap.
    let faults: Vec<&str> = t.lines().filter(|l| l.starts_with("fault: ")).collect();
    assert_eq!(faults.len(), 1, "{t}");
    assert!(faults[0].starts_with(fault), "{}", faults[0]);
    // At the end: init and sh, each sleeping (in wait and in read).
    let procs: Vec<&str> = t.lines().filter(|l| l.starts_with("proc: ")).collect();
    assert_eq!(procs.len(), 2, "{t}");
    assert!(procs[0].starts_with("proc: pid 1 init sleeping"), "{}", procs[0]);
    assert!(procs[1].starts_with("proc: pid 2 sh sleeping"), "{}", procs[1]);
}

#[test]
fn xv6_riscv_runs_the_same_on_a_cpu_that_only_reports_traps() {
    let (mine, theirs) = both(|| pagelab_core::riscv::run::Runner::boot(RiscvLayout::xv6_riscv()).unwrap());
    assert_eq!(mine, theirs);
    // A store page fault (scause 15) by pid 4, deep, the second command.
    assert_the_story(&mine, "fault: pid 4 scause 0xf stval 0x");
}

#[test]
fn xv6_public_runs_the_same_on_a_cpu_that_only_reports_traps() {
    let (mine, theirs) = both(|| pagelab_core::x86::run::Runner::boot(X86Layout::xv6_public()).unwrap());
    assert_eq!(mine, theirs);
    // Trap 14, error code 7: a user-mode (4) write (2) to a present (1) page.
    assert_the_story(&mine, "fault: pid 4 trap 0xe err 0x7");
}

#[test]
fn run_on_stops_when_every_process_waits_though_no_instruction_is_counted() {
    // run_on stops when every process waits, though the CPU counts no instructions.
    let mut r = pagelab_core::riscv::run::Runner::boot(RiscvLayout::xv6_riscv()).unwrap();
    assert_eq!(r.run_on(&mut UntilTrap), RunStop::WaitingForInput);
    assert_eq!(r.counts().instructions, 0, "a real CPU's instructions are not counted");
    assert!(r.counts().syscalls > 10);
}

/// The low eight bits of the leaf entry that maps `va` in `pid`'s table.
fn leaf_bits(r: &pagelab_core::riscv::run::Runner<pagelab_core::mem::Sim>, pid: u32, va: u64) -> u64 {
    let k = r.kernel();
    let root = k.state().ptable.get(pid).unwrap().root;
    let t = pagelab_core::walk::translate::<Sv39>(&k.state().hw, root, VirtAddr::new(va), Access::KERNEL_READ);
    t.steps.last().unwrap().entry & 0xff
}

#[test]
fn the_trap_path_marks_the_trampoline_accessed_and_the_trapframe_dirty() {
    let mut r = pagelab_core::riscv::run::Runner::boot(RiscvLayout::xv6_riscv()).unwrap();
    // Before anything runs: trampoline V|R|X, trapframe V|R|W, as proc_pagetable maps them.
    assert_eq!(leaf_bits(&r, 1, TRAMPOLINE), 0x0b);
    assert_eq!(leaf_bits(&r, 1, TRAPFRAME), 0x07);
    // One instruction: userret has run (fetched from the trampoline, loaded the trapframe).
    r.step_instruction();
    r.step_instruction();
    assert_eq!(leaf_bits(&r, 1, TRAMPOLINE), 0x4b, "userret's fetches set A");
    assert_eq!(leaf_bits(&r, 1, TRAPFRAME), 0x47, "userret's loads set A, no store yet");
    // Through sh's prompt: uservec has stored registers into the trapframe.
    r.run(1_000_000);
    assert_eq!(leaf_bits(&r, 1, TRAMPOLINE), 0x4b, "nothing stores to the trampoline");
    assert_eq!(leaf_bits(&r, 1, TRAPFRAME), 0xc7, "uservec's stores set D");
}
