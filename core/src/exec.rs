//! The steps of `exec` both ports take alike, before their own (xv6-public's
//! `exec.c` and xv6-riscv's differ in the order of the segment checks and in
//! how the stack is built, so those stay in each port's `proc.rs`).

use alloc::format;

use crate::elf::{ElfClass, ElfHeader, machine_name, read_header};
use crate::sys::{ExecError, SysError, SysRet};
use crate::trace::Trace;

/// What exec does when its file is not found: xv6-public prints a line
/// (`exec: fail`), xv6-riscv returns -1 and prints nothing.
pub(crate) enum Missing {
    /// The line xv6 prints.
    Prints(&'static str),
    /// pagelab's words for the failure.
    Fails(&'static str),
}

/// The first steps of exec, the same in both ports: find the file, read
/// and check its header, and note (as xv6 does not) a program built for
/// another machine. `missing` is the port's own message for a missing file.
///
/// # Errors
/// The failed exec, after recording xv6's message in the trace.
pub(crate) fn header<'f>(
    tr: &mut Trace,
    path: &str,
    file: Option<&'f [u8]>,
    class: ElfClass,
    machine: u16,
    missing: Missing,
) -> Result<(&'f [u8], ElfHeader), SysRet> {
    let Some(file) = file else {
        match missing {
            Missing::Prints(text) => tr.printed(text),
            Missing::Fails(text) => tr.fail(text),
        }
        return Err(SysRet::err(SysError::Exec(ExecError::NotFound { path: path.into() })));
    };
    let eh = match read_header(file, class) {
        Ok(h) => h,
        Err(error) => {
            tr.fail(format!("exec: {error}"));
            return Err(SysRet::err(SysError::Exec(ExecError::Elf { error })));
        }
    };
    if eh.machine != machine {
        tr.note(|| {
            format!("this file is for {}; xv6 does not check e_machine and loads it anyway", machine_name(eh.machine))
        });
    }
    Ok((file, eh))
}
