//! The kernel's half of the differential test: the real init, sh, echo and
//! deep, run by this machine's own CPU (QEMU's) in user mode, with every trap
//! handled by the core's runner — the same system calls, scheduler and
//! console as the lab's, whose CPU is pagelab's.
//!
//! The kernel boots a fresh core over RAM, lets init start sh, types
//! [`LINES`] at it, and prints [`transcript::script`]'s text with each line
//! prefixed `programs: `. `kernel/test.sh` gives the typed lines and the
//! preset line to `pagelab programs` and requires the same text: the same
//! console output, the same system calls in the same order with the same
//! arguments and results, the same faults, the same registers and page
//! tables at the end.

use pagelab_core::lab::Fs;
use pagelab_core::run::transcript;
use pagelab_core::run::{Machine, Runner, UserCpu};

/// What the kernel types at sh: a command, the stack overflow (deep faults
/// on the guard page), a command after it, a pipe into a second shell, and
/// a file written by one command and read by a shell.
pub const LINES: &[&str] =
    &["echo hello world", "deep", "echo a b c", "echo echo piped | sh", "echo echo via a file > cmd", "sh < cmd"];

/// Run the programs on `cpu` over kernel `k`, print the transcript, and
/// say whether every run ended with sh waiting for input again.
pub fn run<K: Machine>(k: K, fs: Fs, cpu: &mut dyn UserCpu<K>) -> bool {
    kprintln!("user programs: the real init and sh on this CPU, each trap handled by the core's runner");
    let mut r = match Runner::new(k, fs) {
        Ok(r) => r,
        Err(e) => {
            kprintln!("programs: FAIL: userinit: {e}");
            return false;
        }
    };
    // The kernel's events per trip are not printed: keep none.
    r.set_recording(false);
    let text = transcript::script(&mut r, LINES, |r| r.run_on(cpu));
    for line in text.lines() {
        kprintln!("programs: {line}");
    }
    let runs = text.lines().filter(|l| l.starts_with("run: "));
    let ok = runs.clone().count() == LINES.len() + 1 && runs.into_iter().all(|l| l.ends_with("waiting for input"));
    if !ok {
        kprintln!("programs: FAIL: a run did not end with sh waiting for input");
    }
    ok
}
