//! What the kernel does, the same on both machines.
//!
//! The run is a fixed scenario of core calls, exactly what the command-line
//! runner replays from `kernel/scenario.txt`:
//!
//! ```text
//! userinit                      the first process, running initcode
//! exec 1 /init                  made by initcode's own exec system call, in user mode
//! fork 1                        → pid 2
//! exec 2 echo hello world       (what sh would do)  — then: print, check the MMU, run echo in user mode
//! exit 2                        made by echo's exit system call
//! wait 1
//! fork 1                        → pid 3
//! sbrk 3 32768                  — then: print, check the heap through the MMU
//! exit 3
//! wait 1                        free pages must equal those before the first fork
//! ```
//!
//! Each step prints the lines `pagelab run --quiet` prints for it (the
//! operation, the pages allocated and freed, the free count); `show:`
//! blocks print `vmprint` and `stack_text` as `pagelab show` does; `check:`
//! lines compare the hardware with the core; `user:` lines tell what the
//! user programs did. The last line is the verdict, `pagelab-kernel: PASS`
//! or `pagelab-kernel: FAIL`, and QEMU's exit code says the same.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use pagelab_core::addr::{PGROUNDDOWN, PGSIZE};
use pagelab_core::lab::scenario::{bytes_literal, print_op};
use pagelab_core::lab::{Fs, Op, view};
use pagelab_core::port::{Kernel, Port, Reject, SysRet};
use pagelab_core::scheme::Access;
use pagelab_core::trace::{Counts, Owner, Trace};
use pagelab_core::walk::Translation;

/// Fault messages of the experiment need no words about the page.
fn view_about(_: &dyn Kernel, _: u32, _: u64) -> String {
    String::new()
}

/// Why user mode came back to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// A system call (x86 `int $64`, RISC-V `ecall`).
    Syscall,
    /// A page fault: the address (CR2 / stval) and the code (error code / scause).
    PageFault {
        /// Faulting address.
        va: u64,
        /// x86: the error code; RISC-V: scause.
        code: u64,
    },
    /// A breakpoint (x86 `int3`, RISC-V `ebreak`): the probe stub is done.
    Breakpoint,
    /// Anything else (trap number / scause).
    Other {
        /// x86: the trap number; RISC-V: scause.
        cause: u64,
    },
}

/// A trap from user mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    /// What happened.
    pub kind: TrapKind,
    /// The user pc at the trap.
    pub pc: u64,
}

/// An address to probe, and how.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// The virtual address.
    pub va: u64,
    /// What lies there, in a few words.
    pub what: &'static str,
    /// Also load it in kernel mode (false for device memory, where a load is not harmless).
    pub kernel: bool,
    /// Also store to it (only where the core says the store faults, or lands in a
    /// page the kernel may scribble on for a moment).
    pub store: bool,
}

impl Sample {
    /// A sample to load in user and kernel mode.
    pub fn new(va: u64, what: &'static str) -> Sample {
        Sample { va, what, kernel: true, store: false }
    }

    /// Store to it too.
    pub fn store(self) -> Sample {
        Sample { store: true, ..self }
    }
}

/// A page fault the hardware raised for a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HwFault {
    /// The faulting address (CR2 / stval).
    pub va: u64,
    /// x86: the error code; RISC-V: scause.
    pub code: u64,
}

/// What each machine provides: the core kernel over real memory, user mode, and probes through the MMU.
pub trait Machine {
    /// The core's kernel.
    fn kernel(&self) -> &dyn Kernel;
    /// The core's kernel, to change.
    fn kernel_mut(&mut self) -> &mut dyn Kernel;
    /// The scenario's preset line with this kernel's own symbols (`preset xv6-public data=… end=…`).
    fn preset_line(&self) -> String;
    /// Put `pid`'s registers as userinit or exec left them (the core's `Proc::regs`) into its trapframe.
    fn start_user(&mut self, pid: u32);
    /// Run `pid` in user mode until it traps back into the kernel.
    fn resume_user(&mut self, pid: u32) -> Trap;
    /// The system call number `pid` asked for (x86: eax; RISC-V: a7).
    fn syscall_num(&mut self, pid: u32) -> u64;
    /// System call argument `n` (x86: the word at esp+4+4n on the user stack; RISC-V: register a`n`).
    fn syscall_arg(&mut self, pid: u32, n: usize) -> Option<u64>;
    /// Set the value the system call returns (x86: eax; RISC-V: a0). On RISC-V
    /// [`Machine::resume_user`] has already stepped the saved pc past the ecall, as
    /// xv6's usertrap does, so exec's new pc stands.
    fn syscall_return(&mut self, pid: u32, value: i64);
    /// Run the instructions at `pc` in user mode in `pid`, with the address register
    /// (x86 ecx; RISC-V a1) = `va` and the value register (x86 eax; RISC-V a0) = `value`,
    /// until the breakpoint after them; return the value register, or the page fault.
    fn user_probe(&mut self, pid: u32, pc: u64, va: u64, value: u8) -> Result<u8, HwFault>;
    /// Load the byte at `va` in kernel mode, through `pid`'s page table (None: the kernel's),
    /// or store `store` there (and return it). On RISC-V user pages fault here (sstatus.SUM is clear).
    fn kernel_probe(&mut self, pid: Option<u32>, va: u64, store: Option<u8>) -> Result<u8, HwFault>;
    /// Load the byte at user address `va` in kernel mode, as a system call would
    /// (x86: directly; RISC-V: with sstatus.SUM set).
    fn kernel_read_user(&mut self, pid: u32, va: u64) -> Result<u8, HwFault>;
    /// Write `data` to physical memory at `pa` (through the kernel's direct map), and make
    /// the change visible to instruction fetch.
    fn write_phys(&mut self, pa: u64, data: &[u8]);
    /// The probe stub: a load, a breakpoint, a store, a breakpoint; and the offset of the store.
    fn probe_stub(&self) -> (&'static [u8], u64);
    /// Addresses of this machine to probe in a process, beyond the common ones.
    fn user_samples(&self) -> Vec<Sample>;
    /// Addresses to probe in the kernel's own page table.
    fn kernel_samples(&self) -> Vec<Sample>;
    /// A fault code in words.
    fn fault_text(&self, code: u64) -> String;
    /// Apply the core's model of what the MMU does to the entries of a
    /// successful translation (`walk::set_accessed`: the accessed bit, and the
    /// dirty bit for a store) to the real page table.
    fn set_accessed(&mut self, t: &Translation);
    /// Forget cached translations (x86: reload CR3; RISC-V: sfence.vma).
    fn flush_tlb(&mut self);
    /// The deliberately wrong kernel (feature `broken-stack`): clear PTE_U on `va` in `pid`.
    fn clear_user_bit(&mut self, pid: u32, va: u64);
    /// RISC-V: run the trampoline with (true) or without (false, the what-if
    /// `noflush=trampoline`) its `sfence.vma`. x86 has no such flush.
    fn set_trampoline_fence(&mut self, _on: bool) {}
    /// RISC-V: with satp left alone, store to a kernel page, point its entry
    /// at another frame without `sfence.vma`, store again, then `sfence.vma`
    /// and store a third time; everything is put back. None where the
    /// machine has no such experiment.
    fn remap_without_flush(&mut self) -> Option<Remap> {
        None
    }
}

/// What [`Machine::remap_without_flush`] saw: the bytes at offset 0x10 of
/// the old and the new frame after the store without a flush, and after the
/// store that followed `sfence.vma`.
pub struct Remap {
    /// The kernel address stored to.
    pub va: u64,
    /// The byte's address in the frame the page was mapped to first.
    pub old: u64,
    /// The byte's address in the frame the entry names after the change.
    pub new: u64,
    /// (old, new) after the second store (0x22), before any flush.
    pub before: (u8, u8),
    /// (old, new) after the third store (0x33), after `sfence.vma`.
    pub after: (u8, u8),
}

/// `exit` (xv6's system call numbers, the same in both ports).
const SYS_EXIT: u64 = 2;
/// `exec`.
const SYS_EXEC: u64 = 7;
/// `getpid`.
const SYS_GETPID: u64 = 11;
/// `sbrk`.
const SYS_SBRK: u64 = 12;
/// `write`.
const SYS_WRITE: u64 = 16;

/// How a process's turn in user mode ended.
enum Stop {
    /// It called exec: the new image is left for later.
    Exec,
    /// It called exit.
    Exit,
    /// It faulted and was killed.
    Killed,
}

/// One run of the scenario.
struct Run<'a, M: Machine> {
    /// The machine.
    m: &'a mut M,
    /// The files exec can find.
    fs: Fs,
    /// Steps (core calls) so far.
    steps: usize,
    /// Checks so far, and how many failed.
    checks: u32,
    /// Checks and steps that failed.
    failures: u32,
    /// What user programs wrote to fds 1 and 2.
    console: Vec<u8>,
    /// The user page faults seen (faulting address, code).
    user_faults: Vec<(u64, u64)>,
}

/// The lines `pagelab run --quiet` prints under each step.
fn print_counts(counts: &Counts, nfree: u64) {
    kprint!("{}", counts.step_lines(nfree));
}

/// Copy `len` bytes at user address `va` of `pid` into the kernel, through the
/// core's software walk of the process's table (xv6-riscv's `copyin`).
pub fn copyin(k: &dyn Kernel, pid: u32, va: u64, len: u64) -> Option<Vec<u8>> {
    let mut out = vec![0u8; len as usize];
    let mut done = 0u64;
    while done < len {
        let a = va.checked_add(done)?;
        let t = k.translate(Some(pid), a, Access::USER_READ).ok()?;
        let pa = t.outcome.ok()?.pa.as_u64();
        let n = (PGSIZE - (a % PGSIZE)).min(len - done);
        k.mem().read(pa, &mut out[done as usize..(done + n) as usize]).ok()?;
        done += n;
    }
    Some(out)
}

/// The NUL-terminated string at user address `va`, at most `max` bytes (xv6: `fetchstr`).
pub fn fetchstr(k: &dyn Kernel, pid: u32, va: u64, max: u64) -> Option<Vec<u8>> {
    let mut s = Vec::new();
    for i in 0..max {
        let b = copyin(k, pid, va.checked_add(i)?, 1)?[0];
        if b == 0 {
            return Some(s);
        }
        s.push(b);
    }
    None
}

/// The physical address the core's walk gives for `va`, or its fault.
fn core_outcome(t: &Translation) -> Result<u64, HwFault> {
    match &t.outcome {
        Ok(m) => Ok(m.pa.as_u64()),
        Err(f) => Err(HwFault { va: t.va.as_u64(), code: f.code }),
    }
}

impl<M: Machine> Run<'_, M> {
    /// Which xv6.
    fn port(&self) -> Port {
        self.m.kernel().info().port
    }

    /// Count a check and print it.
    fn check(&mut self, ok: bool, what: &str) {
        self.checks += 1;
        if ok {
            kprintln!("check: ok    {what}");
        } else {
            self.failures += 1;
            kprintln!("check: FAIL  {what}");
        }
    }

    /// Run one operation on the core and print it as `pagelab run --quiet` does.
    fn op(&mut self, op: Op) -> Option<SysRet> {
        self.steps += 1;
        let mut tr = Trace::counting_only();
        let k = self.m.kernel_mut();
        let r: Result<SysRet, Reject> = match &op {
            Op::Userinit => k.userinit(&mut tr),
            Op::Fork { pid } => k.fork(&mut tr, *pid),
            Op::Exec { pid, path, argv } => k.exec(&mut tr, *pid, path, self.fs.namei(path), argv),
            Op::Sbrk { pid, n } => k.sbrk(&mut tr, *pid, *n),
            Op::Exit { pid } => k.exit(&mut tr, *pid),
            Op::Wait { pid } => k.wait(&mut tr, *pid),
            Op::Kill { pid } => k.kill(&mut tr, *pid),
            other => Err(Reject::BadArgument { why: format!("the kernel does not run {}", print_op(other)) }),
        };
        let line = print_op(&op);
        match r {
            Ok(ret) => {
                kprintln!("step {}: {line}  -> {ret}", self.steps);
                print_counts(&tr.counts(), self.m.kernel().kmem().nfree());
                Some(ret)
            }
            Err(reject) => {
                kprintln!("step {}: {line}  -> refused: {reject}", self.steps);
                self.failures += 1;
                None
            }
        }
    }

    /// Print `pid`'s page table and stack as `pagelab show --pid PID` prints them.
    fn show(&mut self, pid: u32) {
        kprintln!("show: pid {pid} after step {}", self.steps);
        let k = self.m.kernel();
        kprint!("{}", view::vmprint(k, pid));
        kprintln!();
        kprint!("{}", view::stack_text(k, pid));
        kprintln!("show: end");
    }

    /// Run `pid` in user mode from the registers the core set, serving its
    /// system calls, until it execs, exits or is killed.
    fn run_process(&mut self, pid: u32) -> Stop {
        let (name, regs) = {
            let p = self.m.kernel().procs().get(pid).expect("run_process: no such pid");
            (p.name.clone(), p.regs)
        };
        kprintln!("user: pid {pid} ({name}) enters user mode at pc {:#x}, sp {:#x}", regs.pc, regs.sp);
        self.m.start_user(pid);
        loop {
            let trap = self.m.resume_user(pid);
            match trap.kind {
                TrapKind::Syscall => {
                    if let Some(stop) = self.syscall(pid) {
                        return stop;
                    }
                }
                TrapKind::PageFault { va, code } => {
                    let name = self.m.kernel().procs().get(pid).map(|p| p.name.clone()).unwrap_or_default();
                    kprintln!(
                        "user: pid {pid} {name}: page fault at pc {:#x}: addr {va:#x}, {}--kill proc",
                        trap.pc,
                        self.m.fault_text(code)
                    );
                    self.user_faults.push((va, code));
                    self.op(Op::Kill { pid });
                    return Stop::Killed;
                }
                TrapKind::Breakpoint | TrapKind::Other { .. } => {
                    kprintln!("user: pid {pid}: unexpected trap {:?} at pc {:#x}--kill proc", trap.kind, trap.pc);
                    self.failures += 1;
                    self.op(Op::Kill { pid });
                    return Stop::Killed;
                }
            }
        }
    }

    /// Serve one system call of `pid` (xv6: `syscall`). Returns how the process stopped, if it did.
    fn syscall(&mut self, pid: u32) -> Option<Stop> {
        let num = self.m.syscall_num(pid);
        let word = if self.port() == Port::Xv6Public { 4 } else { 8 };
        match num {
            SYS_WRITE => {
                let (fd, buf, n) = (self.m.syscall_arg(pid, 0), self.m.syscall_arg(pid, 1), self.m.syscall_arg(pid, 2));
                let bytes = match (fd, buf, n) {
                    (Some(1 | 2), Some(buf), Some(n)) if n < 1 << 20 => copyin(self.m.kernel(), pid, buf, n),
                    _ => None,
                };
                match bytes {
                    Some(b) => {
                        crate::console::write_bytes(&b);
                        self.console.extend_from_slice(&b);
                        self.m.syscall_return(pid, b.len() as i64);
                    }
                    None => self.m.syscall_return(pid, -1),
                }
                None
            }
            SYS_GETPID => {
                self.m.syscall_return(pid, i64::from(pid));
                None
            }
            SYS_SBRK => {
                let n = self.m.syscall_arg(pid, 0).map_or(0, |v| i64::from(v as i32));
                let r = self.op(Op::Sbrk { pid, n }).map_or(-1, |r| r.value);
                self.m.syscall_return(pid, r);
                None
            }
            SYS_EXIT => {
                kprintln!("user: pid {pid} calls exit");
                self.op(Op::Exit { pid });
                Some(Stop::Exit)
            }
            SYS_EXEC => {
                let (upath, uargv) = (self.m.syscall_arg(pid, 0), self.m.syscall_arg(pid, 1));
                let k = self.m.kernel();
                let path = upath.and_then(|va| fetchstr(k, pid, va, 128));
                let mut argv = Vec::new();
                let mut ok = path.is_some() && uargv.is_some();
                if let Some(uargv) = uargv {
                    for i in 0..32u64 {
                        let Some(w) = copyin(k, pid, uargv + i * word, word) else {
                            ok = false;
                            break;
                        };
                        let mut b = [0u8; 8];
                        b[..word as usize].copy_from_slice(&w);
                        let uarg = u64::from_le_bytes(b);
                        if uarg == 0 {
                            break;
                        }
                        match fetchstr(k, pid, uarg, PGSIZE) {
                            Some(s) => argv.push(s),
                            None => {
                                ok = false;
                                break;
                            }
                        }
                    }
                }
                let path = match (ok, path) {
                    (true, Some(p)) => String::from_utf8_lossy(&p).into_owned(),
                    _ => {
                        kprintln!("user: pid {pid} calls exec with a bad pointer: -1");
                        self.m.syscall_return(pid, -1);
                        return None;
                    }
                };
                let shown: Vec<String> = argv.iter().map(|a| format!("{:?}", String::from_utf8_lossy(a))).collect();
                kprintln!("user: pid {pid} calls exec({path:?}, [{}])", shown.join(", "));
                let r = self.op(Op::Exec { pid, path, argv });
                match r {
                    Some(r) if r.error.is_none() => Some(Stop::Exec),
                    _ => {
                        self.m.syscall_return(pid, -1);
                        None
                    }
                }
            }
            other => {
                kprintln!("user: pid {pid}: unknown sys call {other}");
                self.m.syscall_return(pid, -1);
                None
            }
        }
    }

    /// The argument strings exec put on the stack, loaded in kernel mode through the MMU.
    fn check_argv(&mut self, pid: u32) {
        let Some(img) = self.m.kernel().procs().get(pid).and_then(|p| p.image.clone()) else { return };
        for (i, a) in img.args.iter().enumerate() {
            let mut want = a.text.clone();
            want.push(0);
            let mut got = Vec::new();
            let mut fault = None;
            for j in 0..want.len() as u64 {
                match self.m.kernel_read_user(pid, a.va + j) {
                    Ok(b) => got.push(b),
                    Err(f) => {
                        fault = Some(f);
                        break;
                    }
                }
            }
            let text = match fault {
                Some(f) => format!("page fault at {:#x}, {}", f.va, self.m.fault_text(f.code)),
                None => bytes_literal(&got),
            };
            self.check(
                got == want,
                &format!(
                    "argv[{i}] at {:#x}: kernel loads through the MMU read {text}, exec wrote {}",
                    a.va,
                    bytes_literal(&want)
                ),
            );
        }
    }

    /// Put the probe stub in the last bytes of the page holding `pid`'s entry point
    /// (a user page the program does not use there). Returns its address and the
    /// bytes it replaced, or None if those bytes are not free.
    fn place_stub(&mut self, pid: u32) -> Option<(u64, u64, Vec<u8>)> {
        let (stub, _) = self.m.probe_stub();
        let img = self.m.kernel().procs().get(pid)?.image.clone()?;
        let va = PGROUNDDOWN(img.entry) + PGSIZE - 32;
        let pa = core_outcome(&self.m.kernel().translate(Some(pid), va, Access::USER_EXEC).ok()?).ok()?;
        let mut old = vec![0u8; stub.len()];
        self.m.kernel().mem().read(pa, &mut old).ok()?;
        if old.iter().any(|&b| b != 0) {
            return None;
        }
        self.m.write_phys(pa, stub);
        Some((va, pa, old))
    }

    /// A marker for the byte at `pa`: write a value it does not have, so a
    /// load that returns it must have reached that very frame.
    fn with_marker(&mut self, pa: u64) -> (u8, u8) {
        let mut b = [0u8];
        let _ = self.m.kernel().mem().read(pa, &mut b);
        let marker = b[0] ^ 0xa5;
        self.m.write_phys(pa, &[marker]);
        (b[0], marker)
    }

    /// True if the frame at `pa` is memory the kernel may scribble on for a moment
    /// (a user page, a trapframe or a kernel stack), not a page table or kernel text.
    fn markable(&self, pa: u64) -> bool {
        matches!(
            self.m.kernel().kmem().owner(PGROUNDDOWN(pa)),
            Some(Owner::User { .. } | Owner::Trapframe { .. } | Owner::KernelStack { .. } | Owner::BootStack { .. })
        )
    }

    /// Compare one load or store through the MMU with the core's translation of the same access.
    fn compare(&mut self, what: &str, va: u64, core: Result<u64, HwFault>, hw: Result<u8, HwFault>, want: Option<u8>) {
        let core_text = match core {
            Ok(pa) => format!("core {pa:#x}"),
            Err(f) => format!("core fault {}", self.m.fault_text(f.code)),
        };
        let (ok, hw_text) = match (core, hw) {
            (Ok(_), Ok(v)) => (want.is_none_or(|w| w == v), format!("mmu {v:#04x}")),
            (Err(c), Err(h)) => {
                (c.code == h.code && h.va == va, format!("mmu fault at {:#x} {}", h.va, self.m.fault_text(h.code)))
            }
            (Ok(_), Err(h)) => (false, format!("mmu fault at {:#x} {}", h.va, self.m.fault_text(h.code))),
            (Err(_), Ok(v)) => (false, format!("mmu {v:#04x}")),
        };
        let expect = match (core, want) {
            (Ok(_), Some(w)) => format!(" (want {w:#04x})"),
            _ => String::new(),
        };
        self.check(ok, &format!("{what} {va:#x}: {core_text}{expect}, {hw_text}"));
    }

    /// One load through the MMU at `va`, in user mode (with the stub at `stub`)
    /// or in kernel mode through `pid`'s table (None: the kernel's), compared
    /// with the core's translate. Where the core names a frame, the load must
    /// return a marker written there (or, for RAM the kernel must not
    /// scribble on, the byte the direct map shows; devices are not compared).
    fn load_check(&mut self, label: &str, pid: Option<u32>, stub: Option<u64>, va: u64) {
        let access = if stub.is_some() { Access::USER_READ } else { Access::KERNEL_READ };
        let core = core_outcome(&self.m.kernel().translate(pid, va, access).expect("translate: pid"));
        let ram = self.m.kernel().info().ram_base..self.m.kernel().info().phystop;
        let probe = |m: &mut M| match stub {
            Some(pc) => m.user_probe(pid.expect("user probes need a process"), pc, va, 0),
            None => m.kernel_probe(pid, va, None),
        };
        let (hw, want) = match core {
            Ok(pa) if self.markable(pa) => {
                let (orig, marker) = self.with_marker(pa);
                let hw = probe(self.m);
                self.m.write_phys(pa, &[orig]);
                (hw, Some(marker))
            }
            Ok(pa) if ram.contains(&pa) => {
                let mut b = [0u8];
                let _ = self.m.kernel().mem().read(pa, &mut b);
                (probe(self.m), Some(b[0]))
            }
            _ => (probe(self.m), None),
        };
        self.compare(label, va, core, hw, want);
    }

    /// One store through the MMU at `va`, like [`Run::load_check`]: a store
    /// that works must land in the frame the core names (read back through
    /// the direct map, then put back). Not tried where the core says it
    /// would land in memory the kernel must not scribble on.
    fn store_check(&mut self, label: &str, pid: Option<u32>, stub: Option<u64>, va: u64) {
        let access = if stub.is_some() { Access::USER_WRITE } else { Access::KERNEL_WRITE };
        let core = core_outcome(&self.m.kernel().translate(pid, va, access).expect("translate: pid"));
        let mut orig = [0u8];
        if let Ok(pa) = core {
            if !self.markable(pa) {
                return;
            }
            let _ = self.m.kernel().mem().read(pa, &mut orig);
        }
        let value = orig[0] ^ 0x5a;
        let hw = match stub {
            Some(pc) => self.m.user_probe(pid.expect("user probes need a process"), pc, va, value),
            None => self.m.kernel_probe(pid, va, Some(value)),
        };
        let hw = match (core, hw) {
            (Ok(pa), Ok(_)) => {
                let mut now = [0u8];
                let _ = self.m.kernel().mem().read(pa, &mut now);
                self.m.write_phys(pa, &orig);
                Ok(now[0])
            }
            (_, hw) => hw,
        };
        self.compare(label, va, core, hw, Some(value));
    }

    /// For a sample of addresses in `pid`: user loads and stores through the
    /// MMU (a stub run in user mode) and kernel loads and stores through the
    /// process's table must agree with the core's `translate`: the same
    /// frame, or a page fault with the same code at the same address.
    fn check_translate(&mut self, pid: u32, samples: &[Sample]) {
        let Some((stub_va, stub_pa, old)) = self.place_stub(pid) else {
            self.check(false, "no free bytes at the end of the text page for the probe stub");
            return;
        };
        let (_, store_off) = self.m.probe_stub();
        kprintln!("probe: stub in pid {pid}'s text page at {stub_va:#x} (restored afterwards)");
        for s in samples {
            let what = s.what;
            self.load_check(&format!("user load    {what:<24}"), Some(pid), Some(stub_va), s.va);
            if s.store {
                self.store_check(&format!("user store   {what:<24}"), Some(pid), Some(stub_va + store_off), s.va);
            }
            if s.kernel {
                self.load_check(&format!("kernel load  {what:<24}"), Some(pid), None, s.va);
                if s.store {
                    self.store_check(&format!("kernel store {what:<24}"), Some(pid), None, s.va);
                }
            }
        }
        self.m.write_phys(stub_pa, &old);
    }

    /// The exec lecture's question on the real MMU: a process stores to its
    /// last heap page (the TLB caches the translation), shrinks by that page,
    /// and stores again. With xv6's flush (x86: growproc's switchuvm
    /// reloads CR3; RISC-V: the trampoline's sfence.vma around each satp
    /// write) the second store faults; without it (the what-if `noflush=`),
    /// the model keeps the translation and the store lands in the freed
    /// frame. Each time the core's TLB model predicts what happens
    /// (`view::tlb_view`) before the hardware does it. On x86 the two must
    /// agree. On RISC-V without the flush QEMU may fault anyway: it empties
    /// its TLB on every satp write that changes the table, which the ISA
    /// does not promise; the check then says so, and
    /// [`Run::check_remap_without_flush`] shows QEMU keeping a stale
    /// translation where satp is not written. Runs on a process of its own
    /// after the scenario, with core calls that print no step, and gives
    /// back every page.
    fn check_stale_tlb(&mut self) {
        let x86 = self.port() == Port::Xv6Public;
        let flush = if x86 { "growproc's switchuvm" } else { "the trampoline's sfence.vma" };
        kprintln!("tlb: the stale-translation experiment (sbrk(-4096) with and without {flush})");
        let free_before = self.m.kernel().kmem().nfree();
        let mut tr = Trace::counting_only();
        let Ok(r) = self.m.kernel_mut().fork(&mut tr, 1) else {
            self.check(false, "tlb: fork for the experiment was refused");
            return;
        };
        let pid = r.value as u32;
        let entries = self.m.kernel().tlbs().first().map_or(64, |t| t.slots().len() as u32);
        for skip in [true, false] {
            let what = if skip { format!("without {flush}") } else { String::from("with xv6's flush") };
            let noflush = pagelab_core::port::SkipFlush { growproc: skip && x86, trampoline: skip && !x86 };
            self.m.kernel_mut().configure_tlb(entries, noflush);
            self.m.set_trampoline_fence(!skip);
            // Grow by a page and store to it: the hardware and the model both cache its translation.
            let Ok(grown) = self.m.kernel_mut().sbrk(&mut tr, pid, PGSIZE as i64) else {
                self.check(false, "tlb: sbrk(4096) was refused");
                return;
            };
            let va = grown.value as u64 + 0x10;
            self.m.flush_tlb();
            let Some((stub_va, stub_pa, old)) = self.place_stub(pid) else {
                self.check(false, "no free bytes at the end of the text page for the probe stub");
                return;
            };
            let (_, store_off) = self.m.probe_stub();
            let first = self.m.user_probe(pid, stub_va + store_off, va, 0x11);
            let _ = self.m.kernel_mut().write_user(&mut tr, pid, va, &[0x11], &view_about);
            let frame = core_outcome(&self.m.kernel().translate(Some(pid), va, Access::USER_WRITE).expect("pid"));
            self.check(first.is_ok() && frame.is_ok(), &format!("tlb {what}: the first store at {va:#x} goes through"));
            // Shrink by that page: the core's growproc frees the frame and clears the entry.
            let _ = self.m.kernel_mut().sbrk(&mut tr, pid, -(PGSIZE as i64));
            // The model's prediction, then the hardware's store.
            let predicted = view::tlb_view(self.m.kernel(), Some(pid), va, Access::USER_WRITE);
            let hw = self.m.user_probe(pid, stub_va + store_off, va, 0x22);
            self.m.write_phys(stub_pa, &old);
            let landed = frame.ok().map(|pa| {
                let mut b = [0u8];
                let _ = self.m.kernel().mem().read(pa, &mut b);
                b[0]
            });
            let (model, agree) = match predicted {
                view::TlbView::Hit { pa, stale: true, .. } if x86 => (
                    format!("model: a TLB hit on the stale slot, the store lands at {:#x}", pa.as_u64()),
                    hw.is_ok() && landed == Some(0x22),
                ),
                // QEMU's write_satp flushes its TLB whenever the table
                // changes, so uservec and userret end the window even
                // without sfence.vma: a fault there is QEMU, not the model.
                view::TlbView::Hit { pa, stale: true, .. } => (
                    format!(
                        "model (the RISC-V ISA): a TLB hit on the stale slot, the store may land at {:#x}",
                        pa.as_u64()
                    ),
                    (hw.is_ok() && landed == Some(0x22)) || hw.is_err(),
                ),
                view::TlbView::Miss { .. } => {
                    (String::from("model: a TLB miss, the walk finds nothing, a fault"), hw.is_err())
                }
                other => (format!("model: {other:?}"), false),
            };
            let hw_text = match hw {
                Ok(_) => {
                    format!("QEMU: the store went through, the freed frame now holds {:#04x}", landed.unwrap_or(0))
                }
                Err(f) if skip && !x86 => format!(
                    "QEMU: page fault at {:#x}, {}: QEMU empties its TLB on every satp write that changes the table, which real RISC-V hardware need not do",
                    f.va,
                    self.m.fault_text(f.code)
                ),
                Err(f) => format!("QEMU: page fault at {:#x}, {}", f.va, self.m.fault_text(f.code)),
            };
            self.check(agree, &format!("tlb {what}: {model}; {hw_text}"));
            // Put things back: a flush on both sides, and the page again for the next round.
            self.m.flush_tlb();
            self.m.set_trampoline_fence(true);
            self.m.kernel_mut().configure_tlb(entries, pagelab_core::port::SkipFlush::default());
        }
        let _ = self.m.kernel_mut().exit(&mut tr, pid);
        let _ = self.m.kernel_mut().wait(&mut tr, 1);
        let free_after = self.m.kernel().kmem().nfree();
        self.check(free_after == free_before, &format!("tlb: the experiment gave back every page ({free_after} free)"));
        self.check_remap_without_flush();
    }

    /// Where satp is not written, QEMU's RISC-V TLB keeps a translation
    /// after its page-table entry changes, as the ISA allows, until
    /// `sfence.vma`: a kernel store after the entry was pointed at another
    /// frame still lands in the old frame, and only after `sfence.vma` in
    /// the new one.
    fn check_remap_without_flush(&mut self) {
        let Some(r) = self.m.remap_without_flush() else { return };
        kprintln!(
            "tlb: kernel page {:#x} remapped from {:#x} to {:#x} in its entry, satp unchanged",
            r.va & !(PGSIZE - 1),
            r.old & !(PGSIZE - 1),
            r.new & !(PGSIZE - 1)
        );
        self.check(
            r.before.0 == 0x22 && r.before.1 != 0x22,
            &format!(
                "tlb without sfence.vma: QEMU's store still lands in the old frame (old {:#04x}, new {:#04x})",
                r.before.0, r.before.1
            ),
        );
        self.check(
            r.after == (0x22, 0x33),
            &format!(
                "tlb after sfence.vma: the store lands in the new frame (old {:#04x}, new {:#04x})",
                r.after.0, r.after.1
            ),
        );
    }

    /// The accessed and dirty bits the hardware sets for a user load or store
    /// at `va` must be those the core's model sets (`walk::set_accessed`, as
    /// the lab's `read` and `write` operations use it): x86 sets A in the
    /// directory entry and the table entry, RISC-V only in the leaf; a store
    /// also sets D in the leaf.
    fn check_accessed(&mut self, pid: u32, va: u64, store: bool) {
        let access = if store { Access::USER_WRITE } else { Access::USER_READ };
        let t = self.m.kernel().translate(Some(pid), va, access).expect("translate: pid");
        let Ok(pa) = core_outcome(&t) else {
            self.check(false, &format!("accessed bits: {va:#x} is not mapped for the access"));
            return;
        };
        let Some((stub_va, stub_pa, old)) = self.place_stub(pid) else {
            self.check(false, "no free bytes at the end of the text page for the probe stub");
            return;
        };
        let (_, store_off) = self.m.probe_stub();
        let word = if self.port() == Port::Xv6Public { 4 } else { 8 };
        let entries: Vec<u64> = t.steps.iter().map(|s| s.entry_addr.as_u64()).collect();
        let read =
            |m: &M| -> Vec<u64> { entries.iter().map(|&e| m.kernel().mem().read_word(e, word).unwrap_or(0)).collect() };
        let mut orig = [0u8];
        let _ = self.m.kernel().mem().read(pa, &mut orig);
        // The hardware's turn: from entries as they are now, with nothing cached.
        self.m.flush_tlb();
        let before = read(self.m);
        let pc = if store { stub_va + store_off } else { stub_va };
        let done = self.m.user_probe(pid, pc, va, orig[0]);
        let hw = read(self.m);
        // The core's turn, from the same entries.
        for (&e, &v) in entries.iter().zip(&before) {
            let bytes = v.to_le_bytes();
            self.m.write_phys(e, &bytes[..word as usize]);
        }
        self.m.flush_tlb();
        self.m.set_accessed(&t);
        let core = read(self.m);
        self.m.write_phys(stub_pa, &old);
        let hex = |v: &[u64]| v.iter().map(|e| format!("{e:#x}")).collect::<Vec<_>>().join(" ");
        let what = if store { "store" } else { "load " };
        self.check(
            done.is_ok() && hw == core,
            &format!(
                "accessed/dirty bits after a user {what} at {va:#x}: entries {} -> mmu {}, core {}",
                hex(&before),
                hex(&hw),
                hex(&core)
            ),
        );
    }

    /// Kernel loads (and some stores) through the kernel's own page table agree with the core's translate.
    fn check_kernel_table(&mut self) {
        for s in self.m.kernel_samples() {
            let what = s.what;
            self.load_check(&format!("kernel table load  {what:<20}"), None, None, s.va);
            if s.store {
                self.store_check(&format!("kernel table store {what:<20}"), None, None, s.va);
            }
        }
    }

    /// The samples for a process: its image, its stack, its guard page, what lies above it, and the machine's own.
    fn samples(&self, pid: u32) -> Vec<Sample> {
        let p = self.m.kernel().procs().get(pid).expect("samples: pid");
        let Some(img) = &p.image else { return Vec::new() };
        let above = PGROUNDDOWN(p.sz + PGSIZE - 1);
        let mut s = vec![Sample::new(img.entry, "text (entry point)").store()];
        for (i, a) in img.args.iter().enumerate().take(3) {
            s.push(Sample::new(a.va, ["argv[0] string", "argv[1] string", "argv[2] string"][i]));
        }
        s.extend([
            Sample::new(img.argv, "argv array"),
            Sample::new(img.sp, "sp").store(),
            Sample::new(img.stack_top - 1, "top byte of the stack"),
            Sample::new(img.guard, "guard page").store(),
            Sample::new(img.guard + PGSIZE - 1, "guard page, last byte"),
        ]);
        if p.sz > img.stack_top {
            s.push(Sample::new(img.stack_top, "heap (sbrk), first byte").store());
            s.push(Sample::new(p.sz - 1, "heap (sbrk), last byte"));
        }
        s.push(Sample::new(above, "above sz: unmapped").store());
        s.push(Sample::new(0x4000_0000, "nothing mapped"));
        s.extend(self.m.user_samples());
        s
    }
}

/// Run the scenario on `m`, booted with `boot` counts; print everything; return the verdict.
pub fn run<M: Machine>(m: &mut M, boot: Counts) -> bool {
    let port = m.kernel().info().port;
    let mut r = Run {
        fs: Fs::builtin(port),
        m,
        steps: 0,
        checks: 0,
        failures: 0,
        console: Vec::new(),
        user_faults: Vec::new(),
    };
    kprintln!("pagelab-kernel: {}", r.m.preset_line());
    // The lines `pagelab run --quiet` prints, from here on.
    kprintln!("preset {}, shm lab", r.m.kernel().info().preset);
    kprintln!("boot:");
    print_counts(&boot, r.m.kernel().kmem().nfree());

    // The first process runs initcode in user mode; its exec system call makes step 2.
    r.op(Op::Userinit);
    match r.run_process(1) {
        Stop::Exec => {}
        _ => r.check(false, "initcode should have called exec"),
    }
    let free_before_fork = r.m.kernel().kmem().nfree();

    // What sh does for `echo hello world`: fork, and exec in the child.
    let child = r.op(Op::Fork { pid: 1 }).map_or(0, |ret| ret.value as u32);
    let argv: Vec<Vec<u8>> = ["echo", "hello", "world"].iter().map(|s| s.as_bytes().to_vec()).collect();
    r.op(Op::Exec { pid: child, path: "echo".into(), argv });
    if cfg!(feature = "broken-stack")
        && let Some(img) = r.m.kernel().procs().get(child).and_then(|p| p.image.clone())
    {
        kprintln!("broken-stack: clearing PTE_U on the stack page {:#x} (a deliberately wrong page table)", img.stack);
        r.m.clear_user_bit(child, img.stack);
    }
    r.show(child);
    r.check_argv(child);
    let samples = r.samples(child);
    r.check_translate(child, &samples);
    r.check_kernel_table();

    // echo runs in user mode, reading the stack exec built.
    let stop = r.run_process(child);
    let printed = core::mem::take(&mut r.console);
    r.check(
        matches!(stop, Stop::Exit) && printed == b"hello world\n",
        &format!("echo printed {} through write and exited", bytes_literal(&printed)),
    );
    if let Some(&(va, code)) = r.user_faults.first() {
        kprintln!("user: the program page-faulted at {va:#x} ({})", r.m.fault_text(code));
    }
    r.op(Op::Wait { pid: 1 });

    // fork, sbrk, exit and wait must give back every page.
    let pid = r.op(Op::Fork { pid: 1 }).map_or(0, |ret| ret.value as u32);
    r.op(Op::Sbrk { pid, n: 32768 });
    r.show(pid);
    let heap: Vec<Sample> =
        r.samples(pid).into_iter().filter(|s| s.what.starts_with("heap") || s.what.starts_with("above")).collect();
    r.check_translate(pid, &heap);
    let heap_top = r.m.kernel().procs().get(pid).map_or(0, |p| p.sz);
    if heap_top >= 0x6000 {
        // Two heap pages nothing has touched through the MMU yet.
        r.check_accessed(pid, heap_top - 0x2000, false);
        r.check_accessed(pid, heap_top - 0x3000 + 8, true);
    }
    r.op(Op::Exit { pid });
    r.op(Op::Wait { pid: 1 });
    let free_after = r.m.kernel().kmem().nfree();
    r.check(
        free_after == free_before_fork,
        &format!("free pages after the last wait: {free_after}, before the first fork: {free_before_fork}"),
    );

    r.check_stale_tlb();

    let (heap_cut, heap_peak) = crate::heap::usage();
    kprintln!(
        "heap: {} KB of {} KB cut, {} KB in use at most",
        heap_cut / 1024,
        crate::heap::HEAP_SIZE / 1024,
        heap_peak / 1024
    );
    let pass = r.failures == 0;
    kprintln!(
        "pagelab-kernel: {} ({} checks, {} failed, {} steps)",
        if pass { "PASS" } else { "FAIL" },
        r.checks,
        r.failures,
        r.steps
    );
    pass
}
