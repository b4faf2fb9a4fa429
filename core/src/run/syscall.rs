//! xv6's system calls as the running programs make them: `syscall` takes
//! the number from the caller's saved registers (a7; eax) and the arguments
//! from a0..a5 (xv6-riscv's `argraw`) or from the user stack (xv6-public's
//! `fetchint(esp + 4 + 4·n)`), as `argint`, `argaddr`, `argptr` and
//! `argstr` do; reaches user memory as each kernel does (xv6-riscv's
//! `copyin`, `copyout`, `copyinstr`: a software walk of the page table, not
//! the TLB; xv6-public: inside `sz`, through the kernel's own view of the
//! process's pages), and calls the kernel's operations
//! ([`crate::port::Kernel`]) for fork, exec, sbrk, exit, wait and kill. The
//! files are the console, pipes, and one directory of files: the programs
//! exec loads, and those `open` creates.
//! Both ports number the system calls alike.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{CONSOLE, Chan, File, FileKind, Machine, Outcome, PIPESIZE, Runner};
use crate::VmFail;
use crate::addr::PGSIZE;
use crate::lab::{Fs, Op};
use crate::port::{Kernel, Reject};
use crate::sys::ProcState;

/// Longest path a system call takes (xv6: `MAXPATH`).
pub const MAXPATH: u64 = 128;

/// Longest name in a directory (xv6: `DIRSIZ`).
const DIRSIZ: usize = 14;

/// xv6's `open` flags (`fcntl.h`).
const O_WRONLY: i32 = 0x001;
const O_RDWR: i32 = 0x002;
const O_CREATE: i32 = 0x200;

/// The system calls by number (xv6's `syscall.h`), index = number.
pub const SYSCALL_NAMES: [&str; 22] = [
    "?", "fork", "exit", "wait", "pipe", "read", "kill", "exec", "fstat", "chdir", "dup", "getpid", "sbrk", "sleep",
    "uptime", "open", "write", "mknod", "unlink", "link", "mkdir", "close",
];

/// `struct stat`'s `type` values (`stat.h`).
const T_FILE: u16 = 2;
const T_DEVICE: u16 = 3;

/// Why a system call stopped early: an argument could not be fetched
/// (the call returns -1, as xv6's `if(argint(0, &n) < 0) return -1;`),
/// or the kernel panicked.
pub(crate) enum SysFail {
    /// An argument could not be fetched.
    Arg,
    /// The kernel panicked, or the process is gone.
    Reject(Reject),
}

impl From<Reject> for SysFail {
    fn from(r: Reject) -> SysFail {
        SysFail::Reject(r)
    }
}

/// A failed copy to or from user memory is -1; a kernel panic goes up.
/// Contract: only [`VmFail::Panic`] becomes an error.
pub(crate) fn user_copy<T>(r: Result<T, VmFail>) -> Result<Option<T>, Reject> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(VmFail::Panic(p)) => Err(p.into()),
        Err(_) => Ok(None),
    }
}

impl<K: Machine> Runner<K> {
    /// The raw value of argument `n` of `pid`'s system call (xv6-riscv:
    /// `argraw`, a0..a5; xv6-public: `fetchint(tf->esp + 4 + 4*n)`).
    fn argraw(&mut self, pid: u32, n: usize) -> Result<u64, SysFail> {
        self.k.argraw(&mut self.tr, pid, n)?.ok_or(SysFail::Arg)
    }

    /// Argument `n` as a C `int` (xv6: `argint`).
    fn argint(&mut self, pid: u32, n: usize) -> Result<i32, SysFail> {
        Ok(self.argraw(pid, n)? as i32)
    }

    /// Argument `n` as a user address, not checked (copyin and copyout check) (xv6-riscv: `argaddr`).
    fn argaddr(&mut self, pid: u32, n: usize) -> Result<u64, SysFail> {
        self.argraw(pid, n)
    }

    /// Argument `n` as a pointer to `size` bytes (xv6-public: `argptr`,
    /// which refuses a block that is not inside the process's size).
    fn argptr(&mut self, pid: u32, n: usize, size: u64) -> Result<u64, SysFail> {
        let addr = self.argaddr(pid, n)?;
        if self.k.argptr(pid, addr, size) { Ok(addr) } else { Err(SysFail::Arg) }
    }

    /// The pointer-sized word at user address `addr`, if it lies below `sz`
    /// and can be read (xv6-riscv: `fetchaddr`; xv6-public: `fetchint`).
    fn fetchaddr(&mut self, pid: u32, addr: u64) -> Result<Option<u64>, Reject> {
        let sz = self.k.state().ptable.get(pid).ok_or(Reject::NoSuchProcess { pid })?.sz;
        let w = K::PTR;
        if addr >= sz || addr.wrapping_add(w) > sz {
            return Ok(None);
        }
        let bytes = self.k.user_in(&mut self.tr, pid, addr, w)?;
        Ok(bytes.map(|b| b.iter().rev().fold(0u64, |w, &x| (w << 8) | u64::from(x))))
    }

    /// The NUL-terminated string at `addr`, at most `max` bytes with its NUL (xv6: `fetchstr`).
    fn fetchstr(&mut self, pid: u32, addr: u64, max: u64) -> Result<Option<Vec<u8>>, Reject> {
        self.k.user_str(&mut self.tr, pid, addr, max)
    }

    /// Argument `n` as a string of at most `max` bytes (xv6: `argstr`).
    fn argstr(&mut self, pid: u32, n: usize, max: u64) -> Result<Option<Vec<u8>>, SysFail> {
        let addr = self.argaddr(pid, n)?;
        Ok(self.fetchstr(pid, addr, max)?)
    }

    /// Argument `n` as an open descriptor: (fd, index in the file table) (xv6: `argfd`).
    fn argfd(&mut self, pid: u32, n: usize) -> Result<Option<(usize, usize)>, SysFail> {
        let fd = self.argint(pid, n)?;
        let Ok(fd) = usize::try_from(fd) else { return Ok(None) };
        Ok(self.procs.get(&pid).and_then(|p| p.ofile.get(fd).copied().flatten()).map(|f| (fd, f)))
    }

    /// Give open file `f` the lowest free descriptor of `pid` (xv6: `fdalloc`).
    fn fdalloc(&mut self, pid: u32, f: usize) -> Option<usize> {
        let p = self.procs.get_mut(&pid)?;
        let fd = p.ofile.iter().position(Option::is_none)?;
        p.ofile[fd] = Some(f);
        Some(fd)
    }

    /// A free entry of the file table, holding `file` (xv6: `filealloc`).
    fn filealloc(&mut self, file: File) -> Option<usize> {
        let i = self.files.iter().position(Option::is_none)?;
        self.files[i] = Some(file);
        Some(i)
    }

    /// Run `pid`'s system call (xv6: `syscall`): its number, name, arguments
    /// in words, and what it does to the caller.
    ///
    /// # Errors
    /// A [`Reject`] when the kernel panics (init exiting, say).
    pub(crate) fn syscall(&mut self, pid: u32) -> Result<(u64, &'static str, String, Outcome), Reject> {
        let num = self.k.syscall_num(pid)?;
        let name = SYSCALL_NAMES.get(num as usize).copied().filter(|n| *n != "?").unwrap_or("?");
        match self.dispatch(pid, num, name) {
            Ok((args, out)) => Ok((num, name, args, out)),
            Err(SysFail::Arg) => {
                self.tr.fail(format!("{name}: an argument could not be fetched; it returns -1"));
                Ok((num, name, String::from("?"), Outcome::Return(-1)))
            }
            Err(SysFail::Reject(r)) => Err(r),
        }
    }

    /// The system call `num` (`name`) of `pid`: its arguments in words
    /// and what it does to the caller.
    fn dispatch(&mut self, pid: u32, num: u64, name: &'static str) -> Result<(String, Outcome), SysFail> {
        Ok(match num {
            1 => (String::new(), self.sys_fork(pid)?),
            2 if K::EXIT_STATUS => {
                let status = self.argint(pid, 0)?;
                (format!("{status}"), self.sys_exit(pid, status)?)
            }
            2 => (String::new(), self.sys_exit(pid, 0)?),
            3 if K::EXIT_STATUS => {
                let addr = self.argaddr(pid, 0)?;
                (format!("{addr:#x}"), self.sys_wait(pid, addr)?)
            }
            3 => (String::new(), self.sys_wait(pid, 0)?),
            5 | 16 => {
                let (fd, n) = (self.argint(pid, 0)?, self.argint(pid, 2)?);
                // xv6-public's argptr refuses a negative size; xv6-riscv's argaddr checks nothing.
                if n < 0 && K::NEGATIVE_SIZE_FAILS {
                    return Err(SysFail::Arg);
                }
                let addr = self.argptr(pid, 1, u64::try_from(n).unwrap_or(0))?;
                let out = if num == 5 { self.sys_read(pid, addr, n)? } else { self.sys_write(pid, addr, n)? };
                (format!("{fd}, {addr:#x}, {n}"), out)
            }
            6 => {
                let target = self.argint(pid, 0)?;
                (format!("{target}"), self.sys_kill(pid, target)?)
            }
            7 => self.sys_exec(pid)?,
            8 => {
                let fd = self.argint(pid, 0)?;
                let addr = self.argptr(pid, 1, K::stat(0, 0, 0, 0, 0).len() as u64)?;
                (format!("{fd}, {addr:#x}"), self.sys_fstat(pid, addr)?)
            }
            9 => {
                let path = self.argstr(pid, 0, MAXPATH)?;
                let ok = path.as_deref().is_some_and(|p| Fs::normalize(&String::from_utf8_lossy(p)) == "/");
                (quote(path.as_deref()), Outcome::Return(if ok { 0 } else { -1 }))
            }
            10 => {
                let fd = self.argint(pid, 0)?;
                (format!("{fd}"), Outcome::Return(self.sys_dup(pid)?))
            }
            11 => (String::new(), Outcome::Return(i64::from(pid))),
            12 => {
                let n = self.argint(pid, 0)?;
                (format!("{n}"), self.sys_sbrk(pid, n)?)
            }
            13 => {
                let n = self.argint(pid, 0)?;
                (format!("{n}"), self.sys_sleep(pid, n))
            }
            14 => (String::new(), Outcome::Return(self.counts.ticks as i64)),
            15 => {
                let omode = self.argint(pid, 1)?;
                let path = self.argstr(pid, 0, MAXPATH)?;
                let r = match &path {
                    Some(p) => self.sys_open(pid, p, omode)?,
                    None => -1,
                };
                (format!("{}, {omode:#x}", quote(path.as_deref())), Outcome::Return(r))
            }
            17 => {
                let (major, minor) = (self.argint(pid, 1)? as i16, self.argint(pid, 2)? as i16);
                let path = self.argstr(pid, 0, MAXPATH)?;
                let r = match &path {
                    Some(p) => self.sys_mknod(p, major, minor),
                    None => -1,
                };
                (format!("{}, {major}, {minor}", quote(path.as_deref())), Outcome::Return(r))
            }
            21 => {
                let fd = self.argint(pid, 0)?;
                let r = match self.argfd(pid, 0)? {
                    Some((fd, f)) => {
                        if let Some(p) = self.procs.get_mut(&pid) {
                            p.ofile[fd] = None;
                        }
                        self.fileclose(pid, f)?;
                        0
                    }
                    None => -1,
                };
                (format!("{fd}"), Outcome::Return(r))
            }
            4 => {
                let addr = self.argptr(pid, 0, 8)?;
                (format!("{addr:#x}"), Outcome::Return(self.sys_pipe(pid, addr)?))
            }
            18..=20 => {
                // unlink, link, mkdir: the runner's file system is one directory of files.
                let first = self.argraw(pid, 0)?;
                self.tr.note(|| format!("{name}: pagelab's file system does not do this yet; it returns -1"));
                (format!("{first:#x}, …"), Outcome::Return(-1))
            }
            _ => {
                let pname = self.k.state().ptable.get(pid).map(|p| p.name.clone()).unwrap_or_default();
                let msg = format!("{pid} {pname}: unknown sys call {}\n", num as i32);
                self.cons.out.extend_from_slice(msg.as_bytes());
                self.tr.printed(msg.trim_end());
                (String::new(), Outcome::Return(-1))
            }
        })
    }

    /// sleep(n): sleep until `n` more ticks have passed (xv6 keeps the
    /// start tick on the kernel stack; pagelab keeps the target tick in the
    /// channel, so a woken sleep returns 0). A killed sleeper returns -1.
    fn sys_sleep(&mut self, pid: u32, n: i32) -> Outcome {
        if let Some(Chan::Ticks(t)) = self.woken
            && self.counts.ticks >= t
        {
            return Outcome::Return(0);
        }
        if self.k.state().ptable.get(pid).is_some_and(|p| p.killed) {
            return Outcome::Return(-1);
        }
        let target = self.counts.ticks.saturating_add(u64::try_from(n).unwrap_or(0));
        if self.counts.ticks >= target { Outcome::Return(0) } else { Outcome::Sleep(Chan::Ticks(target)) }
    }

    /// fork: the kernel copies the process; the child gets a copy of the
    /// descriptors (each file's count grows, xv6's `filedup`).
    fn sys_fork(&mut self, pid: u32) -> Result<Outcome, Reject> {
        let r = self.k.fork(&mut self.tr, pid)?;
        if r.error.is_none() {
            let child = r.value as u32;
            let mut rp = self.procs.get(&pid).cloned().unwrap_or_default();
            for f in rp.ofile.iter().flatten() {
                if let Some(Some(file)) = self.files.get_mut(*f) {
                    file.refs += 1;
                }
            }
            rp.chan = None;
            rp.xstate = 0;
            rp.instret = 0;
            rp.pipe_written = 0;
            self.procs.insert(child, rp);
            self.ops.push(Op::Fork { pid });
        }
        Ok(Outcome::Return(r.value))
    }

    /// exit(status): the kernel makes the process a zombie (init's exit panics).
    fn sys_exit(&mut self, pid: u32, status: i32) -> Result<Outcome, Reject> {
        self.k.exit(&mut self.tr, pid)?;
        self.exited(pid, status)?;
        self.ops.push(Op::Exit { pid });
        Ok(Outcome::Gone)
    }

    /// wait(addr): sleep while children live and none has exited; copy the
    /// zombie's status to `addr` (unless 0) before the kernel frees it.
    fn sys_wait(&mut self, pid: u32, addr: u64) -> Result<Outcome, Reject> {
        let killed = self.k.state().ptable.get(pid).is_some_and(|p| p.killed);
        let zombie = match self.k.state().ptable.zombie_child(pid) {
            Err(Reject::WouldBlock { .. }) if killed => return Ok(Outcome::Return(-1)),
            Err(Reject::WouldBlock { .. }) => return Ok(Outcome::Sleep(Chan::Child)),
            Err(e) => return Err(e),
            Ok(z) => z,
        };
        if let (Some((_, cpid)), true) = (zombie, addr != 0) {
            let status = self.procs.get(&cpid).map_or(0, |p| p.xstate);
            if !self.k.user_out(&mut self.tr, pid, addr, &status.to_le_bytes())? {
                return Ok(Outcome::Return(-1));
            }
        }
        let r = self.k.wait(&mut self.tr, pid)?;
        if let Some((_, cpid)) = zombie {
            self.procs.remove(&cpid);
        }
        self.ops.push(Op::Wait { pid });
        Ok(Outcome::Return(r.value))
    }

    /// kill(pid): the kernel kills the target (it exits at once).
    fn sys_kill(&mut self, pid: u32, target: i32) -> Result<Outcome, Reject> {
        let Ok(t) = u32::try_from(target) else { return Ok(Outcome::Return(-1)) };
        let live = self.k.state().ptable.get(t).is_some_and(|p| p.state != ProcState::Zombie);
        match self.k.kill(&mut self.tr, t) {
            Ok(r) => {
                if live {
                    self.exited(t, -1)?;
                }
                self.ops.push(Op::Kill { pid: t });
                Ok(if t == pid { Outcome::Gone } else { Outcome::Return(r.value) })
            }
            Err(Reject::NoSuchProcess { .. } | Reject::NotRunnable { .. }) => Ok(Outcome::Return(-1)),
            Err(e) => Err(e),
        }
    }

    /// exec(path, argv): fetch the path and each argument as sys_exec does
    /// (at most MAXARG of them, each below sz), find the program, and let
    /// the kernel build the new image.
    fn sys_exec(&mut self, pid: u32) -> Result<(String, Outcome), SysFail> {
        let uargv = self.argaddr(pid, 1)?;
        let Some(path) = self.argstr(pid, 0, MAXPATH)? else {
            return Ok((format!("?, {uargv:#x}"), Outcome::Return(-1)));
        };
        let path = String::from_utf8_lossy(&path).into_owned();
        let mut argv: Vec<Vec<u8>> = Vec::new();
        let words = format!("{path:?}, {uargv:#x}");
        loop {
            if argv.len() >= self.k.machine().maxarg as usize {
                return Ok((words, Outcome::Return(-1)));
            }
            let Some(uarg) = self.fetchaddr(pid, uargv.wrapping_add(K::PTR * argv.len() as u64))? else {
                return Ok((words, Outcome::Return(-1)));
            };
            if uarg == 0 {
                break;
            }
            let Some(s) = self.fetchstr(pid, uarg, PGSIZE)? else {
                return Ok((words, Outcome::Return(-1)));
            };
            argv.push(s);
        }
        let file = self.fs.namei(&path).map(<[u8]>::to_vec);
        if file.is_none() {
            self.cons.out.extend_from_slice(K::EXEC_MISSING.as_bytes());
        }
        let r = self.k.exec(&mut self.tr, pid, &path, file.as_deref(), &argv)?;
        let shown: Vec<String> = argv.iter().map(|a| format!("{:?}", String::from_utf8_lossy(a))).collect();
        let words = format!("{path:?}, [{}]", shown.join(", "));
        // On the timeline whether it worked or not: a failed exec still took
        // and gave back its argument pages (and the lab's step says why it failed).
        self.ops.push(Op::Exec { pid, path, argv });
        Ok((words, Outcome::Return(r.value)))
    }

    /// sbrk(n): the kernel grows or shrinks the process; the old size, or -1.
    fn sys_sbrk(&mut self, pid: u32, n: i32) -> Result<Outcome, Reject> {
        let r = self.k.sbrk(&mut self.tr, pid, i64::from(n))?;
        self.ops.push(Op::Sbrk { pid, n: i64::from(n) });
        Ok(Outcome::Return(r.value))
    }

    /// pipe(fdarray): a pipe, its read end at `fdarray[0]` and its write
    /// end at `fdarray[1]` (two `int`s), or -1 with nothing made.
    fn sys_pipe(&mut self, pid: u32, addr: u64) -> Result<i64, Reject> {
        let end = |readable: bool| File {
            refs: 1,
            kind: FileKind::Pipe { pipe: usize::MAX },
            readable,
            writable: !readable,
            off: 0,
        };
        // pipealloc: two files, then a page for the pipe (the kernel numbers
        // it); then a descriptor for each file, then copyout.
        let f0 = self.filealloc(end(true));
        let f1 = self.filealloc(end(false));
        // xv6's `bad:` path: fileclose each file made (no pipe is behind it yet).
        let (Some(f0), Some(f1)) = (f0, f1) else {
            for f in [f0, f1].into_iter().flatten() {
                self.fileclose(pid, f)?;
            }
            return Ok(-1);
        };
        let r = self.k.pipealloc(&mut self.tr, pid)?;
        self.ops.push(Op::Pipe { pid });
        let Ok(i) = usize::try_from(r.value) else {
            self.fileclose(pid, f0)?;
            self.fileclose(pid, f1)?;
            return Ok(-1);
        };
        for f in [f0, f1] {
            if let Some(file) = self.files[f].as_mut() {
                file.kind = FileKind::Pipe { pipe: i };
            }
        }
        if self.pipes.len() <= i {
            self.pipes.resize_with(i + 1, || None);
        }
        self.pipes[i] = Some(super::Pipe { data: VecDeque::new(), readopen: true, writeopen: true });
        let fd0 = self.fdalloc(pid, f0);
        let fd1 = self.fdalloc(pid, f1);
        let fds = fd0.zip(fd1);
        let copied = match fds {
            Some((a, b)) => {
                let mut words = (a as i32).to_le_bytes().to_vec();
                words.extend_from_slice(&(b as i32).to_le_bytes());
                self.k.user_out(&mut self.tr, pid, addr, &words)?
            }
            None => false,
        };
        if !copied {
            if let Some(p) = self.procs.get_mut(&pid) {
                for fd in [fd0, fd1].into_iter().flatten() {
                    p.ofile[fd] = None;
                }
            }
            self.fileclose(pid, f0)?;
            self.fileclose(pid, f1)?;
            return Ok(-1);
        }
        Ok(0)
    }

    /// Copy `n` bytes from `pid`'s `addr` into the kernel a page at a time,
    /// stopping at the first page that cannot be read.
    fn copyin_upto(&mut self, pid: u32, addr: u64, n: u64) -> Result<Vec<u8>, Reject> {
        let mut out = Vec::new();
        while (out.len() as u64) < n {
            let va = addr.wrapping_add(out.len() as u64);
            let chunk = (PGSIZE - (va & (PGSIZE - 1))).min(n - out.len() as u64);
            let Some(bytes) = self.k.user_in(&mut self.tr, pid, va, chunk)? else { break };
            out.extend_from_slice(&bytes);
        }
        Ok(out)
    }

    /// Copy `bytes` out to `pid`'s `addr` a page at a time; how many were copied.
    fn copyout_upto(&mut self, pid: u32, addr: u64, bytes: &[u8]) -> Result<usize, Reject> {
        let mut done = 0usize;
        while done < bytes.len() {
            let va = addr.wrapping_add(done as u64);
            let chunk = ((PGSIZE - (va & (PGSIZE - 1))) as usize).min(bytes.len() - done);
            if !self.k.user_out(&mut self.tr, pid, va, &bytes[done..done + chunk])? {
                break;
            }
            done += chunk;
        }
        Ok(done)
    }

    /// piperead: sleep while the pipe is empty and its write end open; then
    /// copy out what is there, up to `n` bytes (0 at the end of the data).
    fn piperead(&mut self, pid: u32, i: usize, addr: u64, n: i32) -> Result<Outcome, Reject> {
        let killed = self.k.state().ptable.get(pid).is_some_and(|p| p.killed);
        let Some(p) = self.pipes.get(i).and_then(Option::as_ref) else { return Ok(Outcome::Return(-1)) };
        if p.data.is_empty() && p.writeopen {
            return Ok(if killed { Outcome::Return(-1) } else { Outcome::Sleep(Chan::PipeRead(i)) });
        }
        let take = usize::try_from(n.max(0)).unwrap_or(0).min(p.data.len());
        let bytes: Vec<u8> = p.data.iter().take(take).copied().collect();
        let done = self.copyout_upto(pid, addr, &bytes)?;
        if let Some(Some(p)) = self.pipes.get_mut(i) {
            p.data.drain(..done);
        }
        Ok(Outcome::Return(done as i64))
    }

    /// pipewrite: copy the bytes in as room allows, sleeping while the pipe
    /// is full; -1 if the read end is closed or the writer killed (xv6
    /// returns -1 then, whatever it wrote before).
    fn pipewrite(&mut self, pid: u32, i: usize, addr: u64, n: i32) -> Result<Outcome, Reject> {
        let total = u64::try_from(n).unwrap_or(0);
        let mut done = if matches!(self.woken, Some(Chan::PipeWrite(_))) {
            self.procs.get(&pid).map_or(0, |p| p.pipe_written)
        } else {
            0
        };
        let killed = self.k.state().ptable.get(pid).is_some_and(|p| p.killed);
        let outcome = loop {
            // xv6: while(i < n) { if the read end is closed or the writer killed, -1; ... }
            if done >= total {
                break Outcome::Return(done as i64);
            }
            let Some(p) = self.pipes.get(i).and_then(Option::as_ref) else { break Outcome::Return(-1) };
            if !p.readopen || killed {
                break Outcome::Return(-1);
            }
            let room = (PIPESIZE - p.data.len()) as u64;
            if room == 0 {
                if let Some(rp) = self.procs.get_mut(&pid) {
                    rp.pipe_written = done;
                }
                return Ok(Outcome::Sleep(Chan::PipeWrite(i)));
            }
            let want = room.min(total - done);
            let bytes = self.copyin_upto(pid, addr.wrapping_add(done), want)?;
            let got = bytes.len() as u64;
            if let Some(Some(p)) = self.pipes.get_mut(i) {
                p.data.extend(bytes);
            }
            done += got;
            if got < want {
                // A page could not be read: xv6's copyin fails, and the write ends there.
                break Outcome::Return(done as i64);
            }
        };
        if let Some(rp) = self.procs.get_mut(&pid) {
            rp.pipe_written = 0;
        }
        Ok(outcome)
    }

    /// read(fd, addr, n): the console (sleeping until a line is typed) or a file.
    fn sys_read(&mut self, pid: u32, addr: u64, n: i32) -> Result<Outcome, SysFail> {
        let Some((_, f)) = self.argfd(pid, 0)? else { return Ok(Outcome::Return(-1)) };
        let Some(file) = self.files[f].clone() else { return Ok(Outcome::Return(-1)) };
        if !file.readable {
            return Ok(Outcome::Return(-1));
        }
        match file.kind {
            FileKind::Device { major: CONSOLE } => Ok(self.consoleread(pid, addr, n)?),
            FileKind::Device { .. } => Ok(Outcome::Return(-1)),
            FileKind::Pipe { pipe } => Ok(self.piperead(pid, pipe, addr, n)?),
            FileKind::Inode { path } => {
                let data = self.fs.namei(&path).map(<[u8]>::to_vec).unwrap_or_default();
                let start = (file.off as usize).min(data.len());
                let len = usize::try_from(n.max(0)).unwrap_or(0).min(data.len() - start);
                if len > 0 && !self.k.user_out(&mut self.tr, pid, addr, &data[start..start + len])? {
                    return Ok(Outcome::Return(-1));
                }
                if let Some(Some(fe)) = self.files.get_mut(f) {
                    fe.off += len as u64;
                }
                Ok(Outcome::Return(len as i64))
            }
        }
    }

    /// The console's read (xv6: `consoleread`): sleep until a line (or ^D)
    /// is in; copy bytes up to `n` or the end of the line. A ^D after some
    /// bytes is kept, so that the next read returns 0.
    fn consoleread(&mut self, pid: u32, mut dst: u64, n: i32) -> Result<Outcome, Reject> {
        let target = i64::from(n);
        let mut n = i64::from(n);
        if n > 0 && !self.cons.readable() {
            if self.k.state().ptable.get(pid).is_some_and(|p| p.killed) {
                return Ok(Outcome::Return(-1));
            }
            return Ok(Outcome::Sleep(Chan::Console));
        }
        while n > 0 && self.cons.readable() {
            let c = self.cons.buf[(self.cons.r % super::INPUT_BUF_SIZE) as usize];
            self.cons.r = self.cons.r.wrapping_add(1);
            if c == 4 {
                if n < target {
                    self.cons.r = self.cons.r.wrapping_sub(1);
                }
                break;
            }
            if !self.k.user_out(&mut self.tr, pid, dst, &[c])? {
                break;
            }
            dst = dst.wrapping_add(1);
            n -= 1;
            if c == b'\n' {
                break;
            }
        }
        Ok(Outcome::Return(target - n))
    }

    /// write(fd, addr, n): the console prints the bytes (xv6:
    /// `consolewrite`; it copies them in a byte at a time, pagelab a page at
    /// a time), stopping at the first byte that is not mapped; a pipe takes
    /// them as it has room; a file gets them at its offset (xv6: `writei`,
    /// which refuses to grow a file past `MAXFILE` blocks).
    fn sys_write(&mut self, pid: u32, addr: u64, n: i32) -> Result<Outcome, SysFail> {
        let Some((_, f)) = self.argfd(pid, 0)? else { return Ok(Outcome::Return(-1)) };
        let Some(file) = self.files[f].clone() else { return Ok(Outcome::Return(-1)) };
        if !file.writable {
            return Ok(Outcome::Return(-1));
        }
        let total = u64::try_from(n).unwrap_or(0);
        match file.kind {
            FileKind::Device { major: CONSOLE } => {
                let bytes = self.copyin_upto(pid, addr, total)?;
                self.cons.out.extend_from_slice(&bytes);
                Ok(Outcome::Return(bytes.len() as i64))
            }
            FileKind::Device { .. } => Ok(Outcome::Return(-1)),
            FileKind::Pipe { pipe } => Ok(self.pipewrite(pid, pipe, addr, n)?),
            FileKind::Inode { path } => {
                let max = (12 + K::BSIZE / 4) * K::BSIZE;
                if file.off.saturating_add(total) > max {
                    return Ok(Outcome::Return(-1));
                }
                let bytes = self.copyin_upto(pid, addr, total)?;
                let Some(data) = self.fs.files.get_mut(&path) else { return Ok(Outcome::Return(-1)) };
                let off = file.off as usize;
                if data.len() < off + bytes.len() {
                    data.resize(off + bytes.len(), 0);
                }
                data[off..off + bytes.len()].copy_from_slice(&bytes);
                if let Some(Some(fe)) = self.files.get_mut(f) {
                    fe.off += bytes.len() as u64;
                }
                Ok(Outcome::Return(if bytes.len() as u64 == total { n.into() } else { -1 }))
            }
        }
    }

    /// fstat(fd, addr): copy out a `struct stat` (dev, ino, type, nlink, size).
    fn sys_fstat(&mut self, pid: u32, addr: u64) -> Result<Outcome, SysFail> {
        let Some((_, f)) = self.argfd(pid, 0)? else { return Ok(Outcome::Return(-1)) };
        let Some(file) = self.files[f].clone() else { return Ok(Outcome::Return(-1)) };
        let (ty, size) = match &file.kind {
            FileKind::Device { .. } => (T_DEVICE, 0u64),
            FileKind::Inode { path } => (T_FILE, self.fs.namei(path).map_or(0, |d| d.len() as u64)),
            // xv6's filestat: only inodes and devices have a stat.
            FileKind::Pipe { .. } => return Ok(Outcome::Return(-1)),
        };
        let st = K::stat(1, f as u32 + 2, ty, 1, size);
        let ok = self.k.user_out(&mut self.tr, pid, addr, &st)?;
        Ok(Outcome::Return(if ok { 0 } else { -1 }))
    }

    /// dup(fd): a second descriptor for the same open file.
    fn sys_dup(&mut self, pid: u32) -> Result<i64, SysFail> {
        let Some((_, f)) = self.argfd(pid, 0)? else { return Ok(-1) };
        let Some(fd) = self.fdalloc(pid, f) else { return Ok(-1) };
        if let Some(Some(file)) = self.files.get_mut(f) {
            file.refs += 1;
        }
        Ok(fd as i64)
    }

    /// open(path, omode): a device node made by mknod, or a file of the
    /// file system; with O_CREATE a new, empty file (xv6's `create`; an
    /// existing file it opens as it is). The file system is one directory,
    /// the root: a path with a directory in it cannot be created.
    fn sys_open(&mut self, pid: u32, path: &[u8], omode: i32) -> Result<i64, Reject> {
        let path = Fs::normalize(&String::from_utf8_lossy(path));
        let kind = if let Some(&(major, _)) = self.nodes.get(&path) {
            if omode & O_CREATE != 0 && !K::CREATE_OPENS_DEVICES {
                self.tr.note(|| format!("open: create finds {path}, a device, not a file, and fails"));
                return Ok(-1);
            }
            FileKind::Device { major }
        } else if self.fs.namei(&path).is_some() {
            FileKind::Inode { path }
        } else if omode & O_CREATE != 0 && path.len() > 1 && !path[1..].contains('/') && path.len() <= 1 + DIRSIZ {
            self.fs.files.insert(path.clone(), Vec::new());
            FileKind::Inode { path }
        } else {
            if omode & O_CREATE != 0 {
                self.tr.note(|| format!("open: {path} cannot be created: the file system has only the root directory"));
            }
            return Ok(-1);
        };
        if let FileKind::Device { major } = kind
            && !(0..10).contains(&major)
        {
            return Ok(-1);
        }
        let readable = omode & O_WRONLY == 0;
        let writable = omode & (O_WRONLY | O_RDWR) != 0;
        let Some(f) = self.filealloc(File { refs: 1, kind, readable, writable, off: 0 }) else { return Ok(-1) };
        Ok(match self.fdalloc(pid, f) {
            Some(fd) => fd as i64,
            None => {
                self.fileclose(pid, f)?;
                -1
            }
        })
    }

    /// mknod(path, major, minor): a device node, unless the name is taken.
    fn sys_mknod(&mut self, path: &[u8], major: i16, minor: i16) -> i64 {
        let path = Fs::normalize(&String::from_utf8_lossy(path));
        if path == "/" || self.nodes.contains_key(&path) || self.fs.namei(&path).is_some() {
            return -1;
        }
        self.nodes.insert(path, (major, minor));
        0
    }
}

/// A user string for a record: `"console"`, or `?` if it could not be fetched.
fn quote(s: Option<&[u8]>) -> String {
    s.map_or_else(|| String::from("?"), |s| format!("{:?}", String::from_utf8_lossy(s)))
}
