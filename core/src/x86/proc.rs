//! xv6-public's `proc.c` and `exec.c`: processes and the system calls that
//! change memory.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::vm::{pa32, va32};
use super::{KERNBASE, MAXARG, X86Kernel};
use crate::addr::{PGROUNDUP, PGSIZE, PhysAddr};
use crate::elf::{self, ElfClass, ElfError};
use crate::mem::Hal;
use crate::port::{
    ExecError, ForkError, MachineInfo, PortState, Reject, SbrkError, SegmentProblem, SysError, SysRet, Xv6Port,
};
use crate::proc::{ArgString, Image, ProcState, UserRegs};
use crate::scheme::X86;
use crate::scheme::x86::{PTE_ADDR, PTE_P, PTE_U, PTE_W};
use crate::shm::{self, ShmHost};
use crate::trace::{Event, Owner, Trace};
use crate::{OrPanic, Panic, VmFail};

const PG: u32 = PGSIZE as u32;

impl<H: Hal> X86Kernel<H> {
    /// Write `v` at offset `off` of `pid`'s trapframe (at the top of its kernel stack).
    ///
    /// # Errors
    /// A [`Panic`] if the kernel stack is not in RAM.
    pub(crate) fn set_tf(&mut self, pid: u32, off: u32, v: u32) -> Result<(), Panic> {
        let kstack = self.st.ptable.get(pid).map_or(0, |p| p.kstack);
        self.st.hw.write_word(super::tf::of(kstack) + u64::from(off), 4, u64::from(v)).or_panic("trapframe")
    }

    /// The word at offset `off` of `pid`'s trapframe.
    ///
    /// # Errors
    /// A [`Panic`] if the kernel stack is not in RAM.
    pub(crate) fn tf(&self, pid: u32, off: u32) -> Result<u32, Panic> {
        let kstack = self.st.ptable.get(pid).map_or(0, |p| p.kstack);
        self.st.hw.read_word(super::tf::of(kstack) + u64::from(off), 4).map(|v| v as u32).or_panic("trapframe")
    }

    /// Look in the process table for an UNUSED slot. If found, change state
    /// to EMBRYO, give it a pid and a kernel stack (xv6: `allocproc`).
    /// Returns the slot, or why it failed.
    fn allocproc(&mut self, tr: &mut Trace) -> Result<usize, ForkError> {
        tr.call("allocproc", String::new, |tr| {
            let Some(slot) = self.st.ptable.free_slot() else {
                tr.fail("allocproc: no UNUSED slot");
                return Err(ForkError::NoFreeSlot);
            };
            let pid = self.st.ptable.nextpid;
            self.st.ptable.nextpid += 1;
            {
                let p = &mut self.st.ptable.procs[slot];
                p.state = ProcState::Embryo;
                p.pid = pid;
            }
            let Some(kstack) = self.kalloc(tr, Owner::KernelStack { pid }) else {
                self.st.ptable.procs[slot].state = ProcState::Unused;
                return Err(ForkError::OutOfMemory);
            };
            let p = &mut self.st.ptable.procs[slot];
            p.kstack = u64::from(kstack);
            p.killed = false;
            p.image = None;
            p.shm.clear();
            p.holes.clear();
            p.shm_copies.clear();
            tr.note(|| format!("pid {pid} gets slot {slot} and a kernel stack at {kstack:#x}"));
            Ok(slot)
        })
    }

    /// Free what allocproc gave a slot that never became a process.
    fn unalloc(&mut self, tr: &mut Trace, slot: usize) -> Result<(), Panic> {
        let k = pa32(PhysAddr::new(self.st.ptable.procs[slot].kstack));
        self.kfree(tr, k)?;
        let p = &mut self.st.ptable.procs[slot];
        p.kstack = 0;
        p.state = ProcState::Unused;
        Ok(())
    }

    fn exec_body(
        &mut self,
        tr: &mut Trace,
        pid: u32,
        path: &str,
        file: Option<&[u8]>,
        argv: &[Vec<u8>],
    ) -> Result<SysRet, Reject> {
        let (file, eh) =
            match crate::exec::header(tr, path, file, ElfClass::Elf32, 3, crate::exec::Missing::Prints("exec: fail")) {
                Ok(x) => x,
                Err(failed) => return Ok(failed),
            };
        let pgdir = match self.setupkvm(tr, Some(pid)) {
            Err(VmFail::OutOfMemory) => return Ok(SysRet::err(SysError::Exec(ExecError::OutOfMemory))),
            r => r.or_panic("exec")?,
        };
        // From here on every failure goes to `bad`: free the new page table.
        let fail = |k: &mut Self, tr: &mut Trace, e: ExecError| -> Result<SysRet, Reject> {
            tr.fail(format!("exec: {}", SysError::Exec(e.clone())));
            k.freevm(tr, pgdir)?;
            Ok(SysRet::err(SysError::Exec(e)))
        };
        let mut sz = 0u32;
        let mut segments = Vec::new();
        for i in 0..eh.phnum {
            let ph = match elf::read_phdr(file, &eh, i) {
                Ok(p) => p,
                Err(ElfError::PhdrOutside { index }) => {
                    return fail(self, tr, ExecError::Elf { error: ElfError::PhdrOutside { index } });
                }
                Err(error) => return fail(self, tr, ExecError::Elf { error }),
            };
            if ph.kind != elf::ELF_PROG_LOAD {
                continue;
            }
            let seg = |problem| ExecError::Segment { index: i, problem };
            if ph.memsz < ph.filesz {
                return fail(self, tr, seg(SegmentProblem::MemszBelowFilesz));
            }
            let (vaddr, memsz) = (ph.vaddr as u32, ph.memsz as u32);
            let top = vaddr.wrapping_add(memsz);
            if top < vaddr {
                return fail(self, tr, seg(SegmentProblem::AddressWraps));
            }
            match self.allocuvm(tr, pgdir, sz, top, pid) {
                Err(VmFail::OutOfMemory) => return fail(self, tr, ExecError::OutOfMemory),
                Err(VmFail::TooBig) => return fail(self, tr, seg(SegmentProblem::BeyondUserSpace)),
                r => sz = r.or_panic("exec")?,
            }
            // exec reads allocuvm's 0 as its failure.
            if sz == 0 {
                return fail(self, tr, seg(SegmentProblem::EndsAtZero));
            }
            if vaddr % PG != 0 {
                return fail(self, tr, seg(SegmentProblem::NotPageAligned));
            }
            match self.loaduvm(tr, pgdir, vaddr, file, ph.offset as u32, ph.filesz as u32) {
                Err(VmFail::FileTooShort) => return fail(self, tr, seg(SegmentProblem::BeyondFile)),
                r => r.or_panic("exec")?,
            }
            segments.push(ph);
        }
        // Allocate two pages at the next page boundary. Make the first
        // inaccessible. Use the second as the user stack.
        sz = PGROUNDUP(u64::from(sz)) as u32;
        match self.allocuvm(tr, pgdir, sz, sz.wrapping_add(2 * PG), pid) {
            Err(VmFail::OutOfMemory) => return fail(self, tr, ExecError::OutOfMemory),
            Err(VmFail::TooBig) => return fail(self, tr, ExecError::OutOfMemory),
            r => sz = r.or_panic("exec")?,
        }
        self.clearpteu(tr, pgdir, sz - 2 * PG)?;
        tr.note(|| format!("guard page at {:#x} (PTE_U cleared), stack page at {:#x}", sz - 2 * PG, sz - PG));
        let mut sp = sz;
        // Push argument strings, prepare rest of stack in ustack.
        let mut ustack = vec![0u32; 3 + argv.len() + 1];
        let mut args = Vec::new();
        for (argc, a) in argv.iter().enumerate() {
            if argc >= MAXARG as usize {
                return fail(self, tr, ExecError::TooManyArgs { given: argv.len(), max: MAXARG as usize });
            }
            let len = a.len() as u32 + 1;
            sp = sp.wrapping_sub(len) & !3;
            let mut bytes = a.clone();
            bytes.push(0);
            match self.copyout(tr, pgdir, sp, &bytes) {
                Err(VmFail::NotUserPage { .. }) => return fail(self, tr, ExecError::StackOverflow),
                r => r.or_panic("exec")?,
            }
            ustack[3 + argc] = sp;
            args.push(ArgString { va: u64::from(sp), text: a.clone() });
        }
        let argc = argv.len() as u32;
        ustack[3 + argc as usize] = 0;
        ustack[0] = 0xffff_ffff; // fake return PC
        ustack[1] = argc;
        ustack[2] = sp.wrapping_sub((argc + 1) * 4); // argv pointer
        sp = sp.wrapping_sub((3 + argc + 1) * 4);
        let words: Vec<u8> = ustack.iter().flat_map(|w| w.to_le_bytes()).collect();
        match self.copyout(tr, pgdir, sp, &words) {
            Err(VmFail::NotUserPage { .. }) => return fail(self, tr, ExecError::StackOverflow),
            r => r.or_panic("exec")?,
        }
        // Save program name for debugging.
        let name = path.rsplit('/').next().unwrap_or(path);
        let name: String = name.chars().take(15).collect();
        // Commit to the user image.
        let slot = self.st.ptable.slot_of(pid).ok_or(Reject::NoSuchProcess { pid })?;
        if let Err(r) =
            shm::before_free_image(self, tr, pid, "exec replaces the image: its shared pages are closed first")
        {
            self.freevm(tr, pgdir)?;
            return Err(r);
        }
        let p = &mut self.st.ptable.procs[slot];
        let oldpgdir = pa32(p.root);
        p.root = PhysAddr::from(pgdir);
        p.sz = u64::from(sz);
        p.regs.pc = eh.entry & 0xffff_ffff;
        p.regs.sp = u64::from(sp);
        p.name = name;
        p.holes.clear();
        p.shm_copies.clear();
        p.freed_below_sz = None;
        p.image = Some(Image {
            pid: p.pid,
            path: path.into(),
            segments,
            entry: eh.entry & 0xffff_ffff,
            guard: u64::from(sz - 2 * PG),
            stack: u64::from(sz - PG),
            stack_top: u64::from(sz),
            sp: u64::from(sp),
            argc: u64::from(argc),
            argv: u64::from(ustack[2]),
            args,
            word: 4,
        });
        self.set_tf(pid, super::tf::EIP, eh.entry as u32)?;
        self.set_tf(pid, super::tf::ESP, sp)?;
        tr.note(|| format!("commit: tf->eip = {:#x} (entry), tf->esp = {sp:#x}", eh.entry));
        self.switchuvm(tr, pid);
        self.freevm(tr, oldpgdir)?;
        Ok(SysRet::ok(0))
    }
}

impl<H: Hal> ShmHost for X86Kernel<H> {
    fn user_top(&self) -> u64 {
        u64::from(KERNBASE)
    }
    fn shm_map(&mut self, tr: &mut Trace, pid: u32, va: u64, pa: u64) -> Result<(), VmFail> {
        let root = self.st.ptable.get(pid).map_or(0, |p| pa32(p.root));
        self.mappages(tr, root, va32(va), PG, pa32(PhysAddr::new(pa)), PTE_W | PTE_U, Owner::PageTable { pid })
    }
    fn shm_pte(&mut self, tr: &mut Trace, pid: u32, va: u64) -> Result<Option<u64>, Panic> {
        let root = self.st.ptable.get(pid).map_or(0, |p| pa32(p.root));
        match self.walkpgdir(tr, root, va32(va), None)? {
            Some(pte) => Ok(Some(u64::from(self.rd(pte)?))),
            None => Ok(None),
        }
    }
    fn shm_clear(&mut self, tr: &mut Trace, pid: u32, va: u64) -> Result<(), Panic> {
        let root = self.st.ptable.get(pid).map_or(0, |p| pa32(p.root));
        if let Some(pte) = self.walkpgdir(tr, root, va32(va), None)? {
            self.wr(tr, 0, pte, va32(va), 0)?;
        }
        Ok(())
    }
    fn shm_flush(&mut self, tr: &mut Trace, pid: u32) {
        if self.st.cur() == Some(pid) {
            self.switchuvm(tr, pid);
        }
    }
    fn pte_target(&self, pte: u64) -> Option<u64> {
        (pte as u32 & PTE_P != 0).then(|| u64::from(PTE_ADDR(pte as u32)))
    }
    fn mapped_user_pages(&mut self, tr: &mut Trace, pid: u32, top: u64) -> Result<Vec<(u64, u64)>, Panic> {
        let root = self.st.ptable.get(pid).map_or(0, |p| pa32(p.root));
        let top = va32(top.min(u64::from(KERNBASE)));
        Ok(self.user_pages(tr, root, top)?.into_iter().map(|(v, p)| (u64::from(v), u64::from(p))).collect())
    }
    fn image_top(&self, _pid: u32) -> u64 {
        u64::from(KERNBASE)
    }
}

impl<H: Hal> Xv6Port for X86Kernel<H> {
    type Scheme = X86;
    type Hw = H;

    fn machine(&self) -> &MachineInfo {
        &self.info
    }

    fn state(&self) -> &PortState<H> {
        &self.st
    }

    fn state_mut(&mut self) -> &mut PortState<H> {
        &mut self.st
    }

    fn kernel_root(&self) -> PhysAddr {
        PhysAddr::from(self.kpgdir)
    }

    /// Make `pid` the running process on this CPU: the scheduler's
    /// `switchuvm` if it is not already. A process running on another CPU
    /// gives it up first: it yields, and that CPU's scheduler loads the
    /// kernel's page table (`switchkvm`). So does the process running here,
    /// if another one is: it sleeps or yields (`sched`), and `swtch` comes
    /// back to this CPU's scheduler, whose `switchkvm` loads CR3 before
    /// `switchuvm` loads it again for `pid`.
    fn schedule(&mut self, tr: &mut Trace, pid: u32) -> Result<(), Reject> {
        self.st.ptable.runnable(pid)?;
        if let Some(other) = self.st.elsewhere(pid) {
            tr.call("yield", || format!("pid {pid} on cpu {other}"), |tr| self.on_cpu(other, |k| k.switchkvm(tr)));
        }
        if let Some(here) = self.st.cur().filter(|&c| c != pid) {
            tr.call("sched", || format!("pid {here} gives up the cpu"), |tr| self.switchkvm(tr));
        }
        if self.st.cur() != Some(pid) {
            tr.call("scheduler", || format!("run pid {pid}"), |tr| self.switchuvm(tr, pid));
        }
        Ok(())
    }
    fn userinit_inner(&mut self, tr: &mut Trace) -> Result<SysRet, Reject> {
        if self.st.ptable.initproc.is_some() {
            return Err(Reject::Init { why: "userinit runs once: the first process exists already".into() });
        }
        let slot = match self.allocproc(tr) {
            Ok(s) => s,
            Err(_) => return Err(Panic("userinit: out of memory?".into()).into()),
        };
        let pid = self.st.ptable.procs[slot].pid;
        self.st.ptable.initproc = Some(pid);
        // xv6-public: `if((p->pgdir = setupkvm()) == 0) panic("userinit: out of memory?");`
        let pgdir = match self.setupkvm(tr, Some(pid)) {
            Err(VmFail::OutOfMemory) => return Err(Panic("userinit: out of memory?".into()).into()),
            r => r.or_panic("userinit")?,
        };
        let init = self.initcode.clone();
        self.inituvm(tr, pgdir, &init, pid)?;
        let p = &mut self.st.ptable.procs[slot];
        p.root = PhysAddr::from(pgdir);
        p.sz = PGSIZE;
        p.regs = UserRegs { pc: 0, sp: PGSIZE, a0: 0, a1: 0 };
        p.name = "initcode".into();
        p.parent = None;
        p.state = ProcState::Runnable;
        // The trapframe of the first "return" to user space: user segments,
        // interrupts on, the stack at the top of the page, eip at 0.
        let kstack = p.kstack;
        self.st.hw.fill(super::tf::of(kstack), u64::from(super::tf::SIZE), 0).or_panic("userinit")?;
        use super::tf::{CS, DS, EFLAGS, ES, ESP, FL_IF, SS, UCODE, UDATA};
        for (off, v) in [(CS, UCODE), (DS, UDATA), (ES, UDATA), (SS, UDATA), (EFLAGS, FL_IF), (ESP, PG)] {
            self.set_tf(pid, off, v)?;
        }
        tr.note(|| "pid 1 runs initcode at address 0; its stack pointer starts at the top of that page".to_string());
        Ok(SysRet::ok(i64::from(pid)))
    }
    fn fork_inner(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject> {
        self.schedule(tr, pid)?;
        let parent = self.st.ptable.runnable(pid)?.clone();
        let sz = va32(parent.sz);
        // copyuvm panics if a page below sz is missing: check before touching anything.
        let fs = shm::before_fork(self, tr, "copyuvm", &parent)?;
        let slot = match self.allocproc(tr) {
            Ok(s) => s,
            Err(e) => return Ok(SysRet::err(SysError::Fork(e))),
        };
        let child = self.st.ptable.procs[slot].pid;
        let d = match self.copyuvm(tr, pa32(parent.root), sz, child, &fs.share, &fs.skip) {
            Err(VmFail::OutOfMemory) => {
                self.unalloc(tr, slot)?;
                tr.fail("fork: copyuvm failed; the child's kernel stack is freed");
                return Ok(SysRet::err(SysError::Fork(ForkError::OutOfMemory)));
            }
            r => r.or_panic("fork")?,
        };
        {
            let c = &mut self.st.ptable.procs[slot];
            c.root = PhysAddr::from(d);
            c.sz = parent.sz;
            c.parent = Some(pid);
            c.regs = parent.regs;
            c.name = parent.name.clone();
            c.image = parent.image.clone();
            c.shm_copies = fs.copies;
            c.freed_below_sz = None;
            c.state = ProcState::Runnable;
        }
        // *np->tf = *curproc->tf; np->tf->eax = 0: the child returns 0.
        let (ptf, ctf) = (super::tf::of(parent.kstack), super::tf::of(self.st.ptable.procs[slot].kstack));
        self.st.hw.copy(ctf, ptf, u64::from(super::tf::SIZE)).or_panic("fork")?;
        self.set_tf(child, super::tf::EAX, 0)?;
        self.st.ptable.procs[slot].regs.a0 = 0;
        shm::after_fork(self, pid, child);
        tr.note(|| format!("fork returns {child} in the parent and 0 in the child"));
        Ok(SysRet::ok(i64::from(child)))
    }
    fn sys_exec(
        &mut self,
        tr: &mut Trace,
        pid: u32,
        path: &str,
        file: Option<&[u8]>,
        argv: &[Vec<u8>],
    ) -> Result<SysRet, Reject> {
        self.schedule(tr, pid)?;
        // sys_exec copies at most MAXARG pointers, the last of which must be 0.
        let max = MAXARG as usize - 1;
        if argv.len() > max {
            tr.call("sys_exec", String::new, |tr| tr.fail(format!("sys_exec: more than {max} arguments")));
            return Ok(SysRet::err(SysError::Exec(ExecError::TooManyArgs { given: argv.len(), max })));
        }
        tr.call(
            "exec",
            || {
                let args: Vec<String> = argv.iter().map(|a| format!("{:?}", String::from_utf8_lossy(a))).collect();
                format!("path={path:?}, argv=[{}]", args.join(", "))
            },
            |tr| self.exec_body(tr, pid, path, file, argv),
        )
    }
    fn sbrk_inner(&mut self, tr: &mut Trace, pid: u32, n: i64) -> Result<SysRet, Reject> {
        let Ok(n) = i32::try_from(n) else {
            return Err(Reject::BadArgument { why: format!("sbrk takes an int: {n} does not fit in 32 bits") });
        };
        self.schedule(tr, pid)?;
        tr.call(
            "growproc",
            || format!("n={n}"),
            |tr| {
                let p = self.st.ptable.runnable(pid)?.clone();
                let sz = va32(p.sz);
                let pgdir = pa32(p.root);
                let newsz = sz.wrapping_add(n as u32);
                // Closing shared pages may move sz and holes; growproc decides sz.
                let holes_before = p.holes.clone();
                let result = if n > 0 {
                    match self.allocuvm(tr, pgdir, sz, newsz, pid) {
                        Err(VmFail::OutOfMemory) => return Ok(SysRet::err(SysError::Sbrk(SbrkError::OutOfMemory))),
                        Err(VmFail::TooBig) => return Ok(SysRet::err(SysError::Sbrk(SbrkError::BeyondUserSpace))),
                        r => r.or_panic("growproc")?,
                    }
                } else if n < 0 {
                    if newsz < sz {
                        shm::before_shrink(self, tr, pid, PGROUNDUP(u64::from(newsz)))?;
                    }
                    let s = self.deallocuvm(tr, pgdir, sz, newsz)?;
                    if s == 0 {
                        tr.fail("growproc: deallocuvm returned 0, which growproc takes for failure");
                        if let Some(p) = self.st.ptable.get_mut(pid) {
                            p.freed_below_sz = Some(u64::from(sz));
                            p.sz = u64::from(sz);
                            p.holes = holes_before;
                        }
                        return Ok(SysRet::err(SysError::Sbrk(SbrkError::ShrankToZero)));
                    }
                    s
                } else {
                    sz
                };
                if let Some(p) = self.st.ptable.get_mut(pid) {
                    p.sz = u64::from(result);
                    p.holes = holes_before.into_iter().filter(|&h| h < PGROUNDUP(p.sz)).collect();
                }
                if self.st.skip.growproc {
                    tr.note(|| {
                        "what-if: growproc returns without switchuvm, so CR3 is not reloaded and the TLB keeps the old translations".to_string()
                    });
                } else {
                    self.switchuvm(tr, pid);
                }
                Ok(SysRet::ok(i64::from(sz)))
            },
        )
    }
    /// exit: the process becomes a zombie; its memory is freed when its parent waits.
    fn exit_inner(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject> {
        self.st.ptable.runnable(pid)?;
        if self.st.ptable.initproc == Some(pid) {
            return Err(Panic("init exiting".into()).into());
        }
        self.schedule(tr, pid)?;
        tr.call("exit", String::new, |tr| {
            shm::on_exit(self, tr, pid)?;
            let init = self.st.ptable.initproc;
            // Pass abandoned children to init.
            for c in &mut self.st.ptable.procs {
                if c.is_live() && c.parent == Some(pid) {
                    c.parent = init;
                    tr.push(Event::Note { text: format!("pid {} is passed to init", c.pid) });
                }
            }
            let p = self.st.ptable.get_mut(pid).ok_or(Reject::NoSuchProcess { pid })?;
            p.state = ProcState::Zombie;
            tr.note(|| {
                format!(
                    "pid {pid} is a zombie: its memory stays until its parent calls wait (xv6-public frees it there)"
                )
            });
            self.switchkvm(tr);
            Ok(SysRet::ok(0))
        })
    }
    /// wait: free a zombie child's kernel stack and memory, return its pid.
    fn wait_inner(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject> {
        self.st.ptable.runnable(pid)?;
        let Some((slot, cpid)) = self.st.ptable.zombie_child(pid)? else {
            self.schedule(tr, pid)?;
            tr.call("wait", String::new, |tr| tr.fail("wait: no children"));
            return Ok(SysRet::err(SysError::Wait));
        };
        let root = pa32(self.st.ptable.procs[slot].root);
        shm::before_free_image(self, tr, cpid, "wait frees the zombie's memory")?;
        self.schedule(tr, pid)?;
        tr.call("wait", String::new, |tr| {
            tr.note(|| format!("found zombie child pid {cpid}: free its kernel stack and its memory"));
            let k = pa32(PhysAddr::new(self.st.ptable.procs[slot].kstack));
            self.kfree(tr, k)?;
            self.freevm(tr, root)?;
            let p = &mut self.st.ptable.procs[slot];
            p.kstack = 0;
            p.root = PhysAddr::new(0);
            p.sz = 0;
            p.pid = 0;
            p.parent = None;
            p.name.clear();
            p.killed = false;
            p.image = None;
            p.state = ProcState::Unused;
            Ok(SysRet::ok(i64::from(cpid)))
        })
    }
    /// What xv6-public's trap handler prints for a user page fault (trap 14) before killing the process.
    fn trap_report(&self, pid: u32, va: u64, code: u64) -> (&'static str, String) {
        let name = self.st.ptable.get(pid).map(|p| p.name.clone()).unwrap_or_default();
        let eip = self.st.ptable.get(pid).map_or(0, |p| p.regs.pc);
        let cpu = self.st.cpu;
        ("trap", format!("pid {pid} {name}: trap 14 err {code} on cpu {cpu} eip {eip:#x} addr {va:#x}--kill proc"))
    }
    /// Nothing to do on x86 before user code runs: CR3 already holds the process's table.
    fn enter_user(&mut self, _tr: &mut Trace, _pid: u32) {}
}
