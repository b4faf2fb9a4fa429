//! A run told as plain text, the same wherever it ran: what the CLI's
//! `pagelab programs` prints for pagelab's CPU, and what the bare-metal
//! kernel prints for QEMU's (the kernel's differential test compares the
//! two line for line).
//!
//! ```text
//! run: until sh waits -> waiting for input
//! type: echo hello world
//! run: -> waiting for input
//! syscall: pid 1 exec(0x…, 0x…) = 0          each system call, in order
//! fault: pid 5 trap 0xe err 0x7 addr 0x… eip 0x…  each killed process's trap
//!   (RISC-V in its own words: scause 0xf stval 0x… sepc 0x…)
//! console: $ echo hello world                what the console shows
//! proc: pid 1 init sleeping sz 0x3000         each live process at the end:
//! regs: pid 1 pc 0x… sp 0x… …                 its saved user registers,
//! vmprint: …                                  and its page table
//! free pages: 56743
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::{Machine, RecordKind, RunStop, Runner};
use crate::lab::view;
use crate::port::Kernel;

/// Boot to sh's prompt, type each of `lines` (a newline added) and run
/// until every process waits again, each run made by `run`; then tell
/// what happened ([`transcript`]).
pub fn script<K: Machine>(r: &mut Runner<K>, lines: &[&str], mut run: impl FnMut(&mut Runner<K>) -> RunStop) -> String {
    let mut head = String::new();
    let stop = run(r);
    let _ = writeln!(head, "run: until sh waits -> {}", stop_text(&stop));
    for line in lines {
        let _ = writeln!(head, "type: {}", visible(line.as_bytes()));
        r.type_input(&format!("{line}\n"));
        let stop = run(r);
        let _ = writeln!(head, "run: -> {}", stop_text(&stop));
    }
    head + &transcript(r)
}

/// Why a run stopped, in a few words.
fn stop_text(s: &RunStop) -> String {
    match s {
        RunStop::Budget => String::from("the instruction budget ran out"),
        RunStop::Trap => String::from("a trap"),
        RunStop::WaitingForInput => String::from("waiting for input"),
        RunStop::Deadlock => String::from("every process sleeps for good"),
        RunStop::NoProcess => String::from("no process is left"),
        RunStop::Panic { message } => format!("panic: {message}"),
    }
}

/// `bytes` as text, with anything but printable ASCII as `\xNN`.
fn visible(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| if (0x20..0x7f).contains(&b) { String::from(b as char) } else { format!("\\x{b:02x}") })
        .collect()
}

/// The system calls and faults so far, in order; the console; each live
/// process's state, saved registers and page table; the free frames.
/// Nothing in it depends on how many instructions ran, so a CPU that
/// counts none tells the same story.
#[must_use]
pub fn transcript<K: Machine>(r: &Runner<K>) -> String {
    let mut s = String::new();
    let riscv = r.kernel().info().port == crate::port::Port::Xv6Riscv;
    for rec in r.records() {
        let pid = rec.pid.map_or_else(|| String::from("-"), |p| format!("{p}"));
        match &rec.kind {
            RecordKind::Syscall { .. } => {
                let _ = writeln!(s, "syscall: pid {pid} {}", rec.text);
            }
            RecordKind::Fault { scause, stval, sepc, err } => {
                // Each port's registers by its own names: RISC-V has no error code.
                let _ = if riscv {
                    writeln!(s, "fault: pid {pid} scause {scause:#x} stval {stval:#x} sepc {sepc:#x}")
                } else {
                    writeln!(s, "fault: pid {pid} trap {scause:#x} err {err:#x} addr {stval:#x} eip {sepc:#x}")
                };
            }
            RecordKind::Panic => {
                let _ = writeln!(s, "panic: {}", rec.text);
            }
            _ => {}
        }
    }
    let out = r.output();
    for line in out.split(|&b| b == b'\n') {
        let _ = writeln!(s, "console: {}", visible(line));
    }
    let k: &dyn Kernel = r.kernel();
    let procs: Vec<(u32, String, crate::sys::ProcState, u64)> =
        r.kernel().state().ptable.live().map(|p| (p.pid, p.name.clone(), p.state, p.sz)).collect();
    for (pid, name, state, sz) in procs {
        let _ = writeln!(s, "proc: pid {pid} {name} {state} sz {sz:#x}");
        let mut cpu = K::Cpu::default();
        if r.kernel().load_cpu(pid, &mut cpu).is_ok() {
            let regs: Vec<String> = K::user_regs(&cpu).iter().map(|(n, v)| format!("{n} {v:#x}")).collect();
            let _ = writeln!(s, "regs: pid {pid} {}", regs.join(" "));
        }
        for line in view::vmprint(k, pid).lines() {
            let _ = writeln!(s, "vmprint: {line}");
        }
    }
    let _ = writeln!(s, "free pages: {}", r.kernel().state().kmem.nfree());
    s
}
