//! What a form asks for: a system call or lab operation with its arguments
//! as typed ([`Call`]), and the scenario operation it becomes. Free of
//! `web_sys`, tested on the host.

use pagelab_core::lab::Op;
use pagelab_core::lab::scenario;
use pagelab_core::scheme::SchemeKind;

use crate::input;

/// A system call (or lab operation) asked for from a form, with its
/// arguments as typed; it acts on the selected process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// Make the first process.
    Userinit,
    /// fork().
    Fork,
    /// exit().
    Exit,
    /// wait().
    Wait,
    /// kill(pid).
    Kill,
    /// sbrk(n).
    Sbrk(String),
    /// openshmem(id).
    OpenShm(String),
    /// closeshmem(id).
    CloseShm(String),
    /// A user load of `len` bytes at `va`.
    Read {
        /// The address, by the address rule.
        va: String,
        /// How many bytes.
        len: String,
    },
    /// A user store at `va`.
    Write {
        /// The address, by the address rule.
        va: String,
        /// `"text"` in quotes, or bytes as numbers.
        bytes: String,
    },
    /// exec(path, argv) with argv = {path, args...}, as sh makes it.
    Exec {
        /// The program's path.
        path: String,
        /// The argument line, split like a shell.
        args: String,
    },
    /// Make the kalloc call after N more fail ("off" to stop).
    FailAlloc(String),
}

impl Call {
    /// The operation this call asks for, on process `pid` (the selected
    /// one), reading addresses by `scheme`'s rule.
    ///
    /// # Errors
    /// What is wrong with the input, in words for the form's message.
    pub fn op(self, pid: Option<u32>, scheme: SchemeKind) -> Result<Op, String> {
        match self {
            Call::Userinit => return Ok(Op::Userinit),
            Call::FailAlloc(t) => {
                let t = t.trim();
                if t == "off" {
                    return Ok(Op::FailAlloc { after: None });
                }
                let n = input::parse_int(t, "failalloc's count", 0, i64::MAX)?;
                return Ok(Op::FailAlloc { after: Some(n as u64) });
            }
            _ => {}
        }
        let Some(pid) = pid else {
            return Err("choose a process first (there is none yet: run userinit)".into());
        };
        Ok(match self {
            Call::Fork => Op::Fork { pid },
            Call::Exit => Op::Exit { pid },
            Call::Wait => Op::Wait { pid },
            Call::Kill => Op::Kill { pid },
            Call::Sbrk(n) => Op::Sbrk { pid, n: input::parse_int(&n, "sbrk's n (bytes)", i64::MIN, i64::MAX)? },
            Call::OpenShm(id) => {
                Op::OpenShm { pid, id: input::parse_int(&id, "the shared-memory id", i64::MIN, i64::MAX)? }
            }
            Call::CloseShm(id) => {
                Op::CloseShm { pid, id: input::parse_int(&id, "the shared-memory id", i64::MIN, i64::MAX)? }
            }
            Call::Read { va, len } => {
                let va = input::parse_address(&va, scheme)?;
                let len = input::parse_int(&len, "the number of bytes to read", 1, 4096)? as u64;
                Op::Read { pid, va, len }
            }
            Call::Write { va, bytes } => {
                let va = input::parse_address(&va, scheme)?;
                write_op(pid, va, &bytes)?
            }
            Call::Exec { path, args } => {
                let path = path.trim().to_string();
                if path.is_empty() {
                    return Err("choose a program to exec".into());
                }
                // As sh passes it: argv[0] is the program as typed, path and all.
                let mut argv = vec![path.clone().into_bytes()];
                argv.extend(input::split_args(&args)?);
                Op::Exec { pid, path, argv }
            }
            // Answered above, before a process is needed.
            Call::Userinit => Op::Userinit,
            Call::FailAlloc(_) => Op::FailAlloc { after: None },
        })
    }
}

/// The `write` operation for a byte list typed as in the scenario language.
fn write_op(pid: u32, va: u64, bytes: &str) -> Result<Op, String> {
    let t = bytes.trim();
    if t.is_empty() {
        return Err("type what to write: text in quotes like \"hi\", or bytes like 10 0x41".into());
    }
    if t.contains('\n') {
        return Err("what to write must fit on one line (use \\n for a newline inside quotes)".into());
    }
    let line = format!("write {pid} {va:#x} {t}");
    match scenario::parse(&line) {
        Ok(sc) => match sc.ops.into_iter().next() {
            Some(op @ Op::Write { .. }) => Ok(op),
            _ => Err("type what to write: text in quotes like \"hi\", or bytes like 10 0x41".into()),
        },
        Err(e) => Err(format!("what to write: {}", e.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_need_a_process_except_userinit_and_failalloc() {
        assert_eq!(Call::Userinit.op(None, SchemeKind::X86), Ok(Op::Userinit));
        assert_eq!(Call::FailAlloc(" off ".into()).op(None, SchemeKind::X86), Ok(Op::FailAlloc { after: None }));
        assert_eq!(Call::FailAlloc("3".into()).op(None, SchemeKind::X86), Ok(Op::FailAlloc { after: Some(3) }));
        assert_eq!(
            Call::Fork.op(None, SchemeKind::X86),
            Err("choose a process first (there is none yet: run userinit)".to_string())
        );
        assert_eq!(Call::Fork.op(Some(2), SchemeKind::X86), Ok(Op::Fork { pid: 2 }));
    }

    #[test]
    fn exec_passes_the_path_as_argv0_and_write_reads_the_scenario_bytes() {
        // sh's `/echo a 'b c'` makes exec("/echo", {"/echo", "a", "b c"}).
        let op = Call::Exec { path: " /echo ".into(), args: "a 'b c'".into() }.op(Some(1), SchemeKind::Sv39);
        let argv = vec![b"/echo".to_vec(), b"a".to_vec(), b"b c".to_vec()];
        assert_eq!(op, Ok(Op::Exec { pid: 1, path: "/echo".into(), argv }));
        let op = Call::Write { va: "0x3000".into(), bytes: r#""hi\n""#.into() }.op(Some(1), SchemeKind::Sv39);
        assert_eq!(op, Ok(Op::Write { pid: 1, va: 0x3000, bytes: b"hi\n".to_vec() }));
        let op = Call::Write { va: "0x3000".into(), bytes: "  ".into() }.op(Some(1), SchemeKind::Sv39);
        assert!(op.unwrap_err().starts_with("type what to write"));
        let op = Call::Write { va: "0x3000".into(), bytes: "104 105 10".into() }.op(Some(1), SchemeKind::Sv39);
        assert_eq!(op, Ok(Op::Write { pid: 1, va: 0x3000, bytes: b"hi\n".to_vec() }));
    }
}
