//! xv6-riscv's `proc.c`, `exec.c` and `sys_exec`: processes and the system
//! calls that change memory.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::{MAXARG, RiscvKernel, TRAMPOLINE, TRAPFRAME};
use crate::OrPanic as _;
use crate::addr::{PGROUNDUP, PGSIZE, PhysAddr, VirtAddr};
use crate::elf::{self, ElfClass};
use crate::mem::Hal;
use crate::port::{
    ExecError, ForkError, MachineInfo, PortState, Reject, SbrkError, SegmentProblem, SysError, SysRet, Xv6Port,
};
use crate::proc::{ArgString, Image, ProcState, UserRegs};
use crate::scheme::Sv39;
use crate::scheme::sv39::{PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, PTE2PA};
use crate::shm::{self, ShmHost};
use crate::trace::{Event, Owner, Trace};
use crate::{Panic, VmFail};

/// Offsets in `struct trapframe` of the registers the lab tracks.
const TF_EPC: u64 = 24;
const TF_SP: u64 = 48;
const TF_A0: u64 = 112;
const TF_A1: u64 = 120;
/// `sizeof(struct trapframe)`.
const TF_SIZE: u64 = 288;

/// Permissions for a segment's pages from its ELF flags (xv6: `flags2perm`).
#[must_use]
pub fn flags2perm(flags: u32) -> u64 {
    let mut perm = 0;
    if flags & 0x1 != 0 {
        perm = PTE_X;
    }
    if flags & 0x2 != 0 {
        perm |= PTE_W;
    }
    perm
}

impl<H: Hal> RiscvKernel<H> {
    /// The trampoline's `sfence.vma` around its satp write (in `what`,
    /// uservec or userret), unless the what-if leaves it out.
    /// `before`: the fence ahead of the satp write (so that earlier memory
    /// operations finish under the old table); else the one after it (to
    /// flush the stale entries). The what-if says so once, at the second.
    fn trampoline_sfence(&mut self, tr: &mut Trace, what: &'static str, before: bool) {
        if self.st.skip.trampoline {
            if !before {
                tr.note(|| {
                    format!("what-if: {what} writes satp without sfence.vma, so the TLB keeps its translations")
                });
            }
        } else {
            self.st.hw.flush_tlb();
            self.st.tlb_flush(tr);
        }
    }

    /// Enter the kernel from user space in `pid` (the trampoline's
    /// `uservec`): satp ← the kernel's page table, with `sfence.vma`, so the
    /// process's translations leave the TLB.
    fn uservec(&mut self, tr: &mut Trace, pid: u32) {
        let root = PhysAddr::new(self.kernel_pagetable);
        tr.call(
            "uservec",
            || format!("pid {pid} traps into the kernel"),
            |tr| {
                self.trampoline_sfence(tr, "uservec", true);
                tr.push(Event::LoadRoot { root, pid: None });
                self.trampoline_sfence(tr, "uservec", false);
            },
        );
        self.st.set_cur(None);
        self.set_trapped(Some(pid));
    }

    /// Record which process is in the kernel on its own trap on this CPU.
    fn set_trapped(&mut self, pid: Option<u32>) {
        if let Some(t) = self.trapped.get_mut(self.st.cpu as usize) {
            *t = pid;
        }
    }

    /// Return to user space in `pid`: satp ← its page table, sfence.vma
    /// (done by `userret` in the trampoline).
    fn usertrapret(&mut self, tr: &mut Trace, pid: u32) {
        let Some(root) = self.st.ptable.get(pid).map(|p| p.root.as_u64()) else { return };
        // usertrapret computes satp for the process and jumps to the
        // trampoline's userret, which writes it between two fences.
        tr.call(
            "usertrapret",
            || format!("pid {pid}"),
            |tr| {
                tr.call("userret", String::new, |tr| {
                    self.trampoline_sfence(tr, "userret", true);
                    self.st.hw.set_user_root(root);
                    tr.push(Event::LoadRoot { root: PhysAddr::new(root), pid: Some(pid) });
                    self.trampoline_sfence(tr, "userret", false);
                });
            },
        );
        self.st.set_cur(Some(pid));
        self.set_trapped(None);
    }

    /// Write `slot`'s tracked registers into its trapframe page.
    fn save_regs(&mut self, slot: usize) -> Result<(), Panic> {
        let p = &self.st.ptable.procs[slot];
        let (tf, r) = (p.trapframe.as_u64(), p.regs);
        if tf == 0 {
            return Ok(());
        }
        for (off, v) in [(TF_EPC, r.pc), (TF_SP, r.sp), (TF_A0, r.a0), (TF_A1, r.a1)] {
            self.st.hw.write_word(tf + off, 8, v).or_panic("trapframe")?;
        }
        Ok(())
    }

    /// Create a user page table for a given process, with no user memory,
    /// but with trampoline and trapframe pages (xv6: `proc_pagetable`).
    /// [`VmFail::OutOfMemory`] after freeing what it made (xv6 returns 0).
    fn proc_pagetable(&mut self, tr: &mut Trace, slot: usize) -> Result<u64, VmFail> {
        let (pid, trapframe) = (self.st.ptable.procs[slot].pid, self.st.ptable.procs[slot].trapframe.as_u64());
        tr.call(
            "proc_pagetable",
            || format!("pid {pid}"),
            |tr| {
                // An empty page table.
                let pagetable = self.uvmcreate(tr, pid)?;
                // map the trampoline code (for system call return) at the highest
                // user virtual address. only the supervisor uses it, on the way
                // to/from user space, so not PTE_U.
                let tramp = self.layout.trampoline;
                match self.mappages(tr, pagetable, TRAMPOLINE, PGSIZE, tramp, PTE_R | PTE_X, Owner::PageTable { pid }) {
                    Err(VmFail::OutOfMemory) => {
                        self.uvmfree(tr, pagetable, 0)?;
                        return Err(VmFail::OutOfMemory);
                    }
                    r => r.or_panic("proc_pagetable")?,
                }
                // map the trapframe page just below the trampoline page, for trampoline.S.
                match self.mappages(
                    tr,
                    pagetable,
                    TRAPFRAME,
                    PGSIZE,
                    trapframe,
                    PTE_R | PTE_W,
                    Owner::PageTable { pid },
                ) {
                    Err(VmFail::OutOfMemory) => {
                        self.uvmunmap(tr, pagetable, TRAMPOLINE, 1, false)?;
                        self.uvmfree(tr, pagetable, 0)?;
                        return Err(VmFail::OutOfMemory);
                    }
                    r => r.or_panic("proc_pagetable")?,
                }
                Ok(pagetable)
            },
        )
    }

    /// Free a process's page table, and free the physical memory it refers
    /// to (xv6: `proc_freepagetable`).
    fn proc_freepagetable(&mut self, tr: &mut Trace, pagetable: u64, sz: u64, holes: &[u64]) -> Result<(), Panic> {
        tr.call(
            "proc_freepagetable",
            || format!("pagetable={pagetable:#x}, sz={sz:#x}"),
            |tr| {
                self.uvmunmap(tr, pagetable, TRAMPOLINE, 1, false)?;
                self.uvmunmap(tr, pagetable, TRAPFRAME, 1, false)?;
                self.uvmfree_holes(tr, pagetable, sz, holes)
            },
        )
    }

    /// Free a proc structure and the data hanging from it, including user
    /// pages (xv6: `freeproc`).
    fn freeproc(&mut self, tr: &mut Trace, slot: usize) -> Result<(), Panic> {
        let pid = self.st.ptable.procs[slot].pid;
        tr.call(
            "freeproc",
            || format!("pid {pid}"),
            |tr| {
                let p = self.st.ptable.procs[slot].clone();
                if p.trapframe.as_u64() != 0 {
                    self.kfree(tr, p.trapframe.as_u64())?;
                }
                if p.root.as_u64() != 0 {
                    self.proc_freepagetable(tr, p.root.as_u64(), p.sz, &p.holes)?;
                }
                let q = &mut self.st.ptable.procs[slot];
                q.trapframe = PhysAddr::new(0);
                q.root = PhysAddr::new(0);
                q.sz = 0;
                q.pid = 0;
                q.parent = None;
                q.name.clear();
                q.killed = false;
                q.image = None;
                q.holes.clear();
                q.shm.clear();
                q.shm_copies.clear();
                q.state = ProcState::Unused;
                Ok(())
            },
        )
    }

    /// Look in the process table for an UNUSED proc. If found, initialize
    /// state required to run in the kernel: a pid, a trapframe page and an
    /// empty user page table (xv6: `allocproc`). Returns the slot, or why
    /// there is none (xv6 returns 0 for both).
    ///
    /// # Errors
    /// A [`Panic`] for a corrupted table.
    fn allocproc(&mut self, tr: &mut Trace) -> Result<Result<usize, ForkError>, Panic> {
        tr.call("allocproc", String::new, |tr| {
            let Some(slot) = self.st.ptable.free_slot() else {
                tr.fail("allocproc: no UNUSED slot");
                return Ok(Err(ForkError::NoFreeSlot));
            };
            let pid = self.st.ptable.nextpid;
            self.st.ptable.nextpid += 1;
            {
                let p = &mut self.st.ptable.procs[slot];
                p.pid = pid;
                p.state = ProcState::Embryo;
                p.killed = false;
                p.image = None;
                p.shm.clear();
                p.holes.clear();
                p.shm_copies.clear();
                p.regs = UserRegs::default();
            }
            // Allocate a trapframe page.
            let Some(tf) = self.kalloc(tr, Owner::Trapframe { pid }) else {
                self.freeproc(tr, slot)?;
                return Ok(Err(ForkError::OutOfMemory));
            };
            self.st.ptable.procs[slot].trapframe = PhysAddr::new(tf);
            // An empty user page table.
            let pt = match self.proc_pagetable(tr, slot) {
                Err(VmFail::OutOfMemory) => {
                    self.freeproc(tr, slot)?;
                    return Ok(Err(ForkError::OutOfMemory));
                }
                r => r.or_panic("allocproc")?,
            };
            self.st.ptable.procs[slot].root = PhysAddr::new(pt);
            tr.note(|| format!("pid {pid} gets slot {slot}, a trapframe at {tf:#x} and a page table at {pt:#x}"));
            Ok(Ok(slot))
        })
    }

    fn exec_body(
        &mut self,
        tr: &mut Trace,
        pid: u32,
        path: &str,
        file: Option<&[u8]>,
        argv: &[Vec<u8>],
    ) -> Result<SysRet, Reject> {
        let (file, eh) = match crate::exec::header(
            tr,
            path,
            file,
            ElfClass::Elf64,
            243,
            crate::exec::Missing::Fails("exec: no such file"),
        ) {
            Ok(x) => x,
            Err(failed) => return Ok(failed),
        };
        let slot = self.st.ptable.slot_of(pid).ok_or(Reject::NoSuchProcess { pid })?;
        let pagetable = match self.proc_pagetable(tr, slot) {
            Err(VmFail::OutOfMemory) => return Ok(SysRet::err(SysError::Exec(ExecError::OutOfMemory))),
            r => r.or_panic("exec")?,
        };
        let mut sz = 0u64;
        let fail = |k: &mut Self, tr: &mut Trace, sz: u64, e: ExecError| -> Result<SysRet, Reject> {
            tr.fail(format!("exec: {}", SysError::Exec(e.clone())));
            k.proc_freepagetable(tr, pagetable, sz, &[])?;
            Ok(SysRet::err(SysError::Exec(e)))
        };
        let mut segments = Vec::new();
        // Load program into memory.
        for i in 0..eh.phnum {
            let ph = match elf::read_phdr(file, &eh, i) {
                Ok(p) => p,
                Err(error) => return fail(self, tr, sz, ExecError::Elf { error }),
            };
            if ph.kind != elf::ELF_PROG_LOAD {
                continue;
            }
            let seg = |problem| ExecError::Segment { index: i, problem };
            if ph.memsz < ph.filesz {
                return fail(self, tr, sz, seg(SegmentProblem::MemszBelowFilesz));
            }
            let Some(top) = ph.vaddr.checked_add(ph.memsz) else {
                return fail(self, tr, sz, seg(SegmentProblem::AddressWraps));
            };
            if ph.vaddr % PGSIZE != 0 {
                return fail(self, tr, sz, seg(SegmentProblem::NotPageAligned));
            }
            if top > TRAPFRAME {
                // xv6 would walk() past MAXVA and panic, or map over the trapframe.
                return fail(self, tr, sz, seg(SegmentProblem::BeyondUserSpace));
            }
            match self.uvmalloc(tr, pagetable, sz, top, flags2perm(ph.flags), pid) {
                Err(VmFail::OutOfMemory) => return fail(self, tr, sz, ExecError::OutOfMemory),
                r => sz = r.or_panic("exec")?,
            }
            // exec reads uvmalloc's 0 as its failure.
            if sz == 0 {
                return fail(self, tr, sz, seg(SegmentProblem::EndsAtZero));
            }
            match self.loadseg(tr, pagetable, ph.vaddr, file, ph.offset, ph.filesz) {
                Err(VmFail::FileTooShort) => return fail(self, tr, sz, seg(SegmentProblem::BeyondFile)),
                r => r.or_panic("exec")?,
            }
            segments.push(ph);
        }
        // Allocate two pages at the next page boundary. Make the first
        // inaccessible as a stack guard. Use the second as the user stack.
        sz = PGROUNDUP(sz);
        match self.uvmalloc(tr, pagetable, sz, sz + 2 * PGSIZE, PTE_W, pid) {
            Err(VmFail::OutOfMemory) => return fail(self, tr, sz, ExecError::OutOfMemory),
            r => sz = r.or_panic("exec")?,
        }
        self.uvmclear(tr, pagetable, sz - 2 * PGSIZE)?;
        tr.note(|| format!("guard page at {:#x} (PTE_U cleared), stack page at {:#x}", sz - 2 * PGSIZE, sz - PGSIZE));
        let mut sp = sz;
        let stackbase = sp - PGSIZE;
        // Push argument strings, prepare rest of stack in ustack.
        let mut ustack = vec![0u64; argv.len() + 1];
        let mut args = Vec::new();
        for (argc, a) in argv.iter().enumerate() {
            if argc >= MAXARG as usize {
                return fail(self, tr, sz, ExecError::TooManyArgs { given: argv.len(), max: MAXARG as usize });
            }
            sp -= a.len() as u64 + 1;
            sp -= sp % 16; // riscv sp must be 16-byte aligned
            if sp < stackbase {
                return fail(self, tr, sz, ExecError::StackOverflow);
            }
            let mut s = a.clone();
            s.push(0);
            match self.copyout(tr, pagetable, sp, &s) {
                Err(VmFail::NotUserPage { .. }) => return fail(self, tr, sz, ExecError::StackOverflow),
                r => r.or_panic("exec")?,
            }
            ustack[argc] = sp;
            args.push(ArgString { va: sp, text: a.clone() });
        }
        let argc = argv.len() as u64;
        ustack[argv.len()] = 0;
        // push the array of argv[] pointers.
        sp -= (argc + 1) * 8;
        sp -= sp % 16;
        if sp < stackbase {
            return fail(self, tr, sz, ExecError::StackOverflow);
        }
        let words: Vec<u8> = ustack.iter().flat_map(|w| w.to_le_bytes()).collect();
        match self.copyout(tr, pagetable, sp, &words) {
            Err(VmFail::NotUserPage { .. }) => return fail(self, tr, sz, ExecError::StackOverflow),
            r => r.or_panic("exec")?,
        }
        // Save program name for debugging.
        let name = path.rsplit('/').next().unwrap_or(path);
        let name: String = name.chars().take(15).collect();
        // Commit to the user image.
        if let Err(r) =
            shm::before_free_image(self, tr, pid, "exec replaces the image: its shared pages are closed first")
        {
            self.proc_freepagetable(tr, pagetable, sz, &[])?;
            return Err(r);
        }
        let p = &mut self.st.ptable.procs[slot];
        let (oldpagetable, oldsz, oldholes) = (p.root.as_u64(), p.sz, core::mem::take(&mut p.holes));
        p.shm_copies.clear();
        p.root = PhysAddr::new(pagetable);
        p.sz = sz;
        // arguments to user main(argc, argv): argc is returned in a0.
        p.regs = UserRegs { pc: eh.entry, sp, a0: argc, a1: sp };
        p.name = name;
        p.image = Some(Image {
            pid: p.pid,
            path: path.into(),
            segments,
            entry: eh.entry,
            guard: sz - 2 * PGSIZE,
            stack: sz - PGSIZE,
            stack_top: sz,
            sp,
            argc,
            argv: sp,
            args,
            word: 8,
        });
        self.save_regs(slot)?;
        tr.note(|| format!("commit: epc = {:#x} (entry), sp = a1 = {sp:#x}, a0 = argc = {argc}", eh.entry));
        self.proc_freepagetable(tr, oldpagetable, oldsz, &oldholes)?;
        Ok(SysRet::ok(argc as i64))
    }

    /// Load a program segment into `pagetable` at virtual address `va`. `va`
    /// must be page-aligned and the pages from `va` to `va + sz` must
    /// already be mapped (xv6: `loadseg`). [`VmFail::FileTooShort`] if the
    /// file ends first (xv6 returns -1).
    fn loadseg(
        &mut self,
        tr: &mut Trace,
        pagetable: u64,
        va: u64,
        file: &[u8],
        offset: u64,
        sz: u64,
    ) -> Result<(), VmFail> {
        tr.call(
            "loadseg",
            || format!("pagetable={pagetable:#x}, va={va:#x}, offset={offset:#x}, sz={sz:#x}"),
            |tr| {
                let mut i = 0u64;
                while i < sz {
                    let Some(pa) = self.walkaddr(tr, pagetable, va + i)? else {
                        return Err(Panic("loadseg: address should exist".into()).into());
                    };
                    let n = (sz - i).min(PGSIZE);
                    let start = offset.saturating_add(i);
                    let avail = (file.len() as u64).saturating_sub(start);
                    let got = avail.min(n);
                    if got > 0 {
                        let s = start as usize;
                        self.st.hw.write(pa, &file[s..s + got as usize]).or_panic("loadseg")?;
                        tr.push(Event::Load {
                            va: VirtAddr::new(va + i),
                            pa: crate::addr::PhysAddr::new(pa),
                            file_off: start,
                            len: got,
                        });
                    }
                    if got != n {
                        tr.fail(format!("readi read {got} of {n} bytes: the segment runs past the end of the file"));
                        return Err(VmFail::FileTooShort);
                    }
                    i += PGSIZE;
                }
                Ok(())
            },
        )
    }
}

impl<H: Hal> ShmHost for RiscvKernel<H> {
    fn user_top(&self) -> u64 {
        TRAPFRAME
    }
    fn shm_map(&mut self, tr: &mut Trace, pid: u32, va: u64, pa: u64) -> Result<(), VmFail> {
        let root = self.st.ptable.get(pid).map_or(0, |p| p.root.as_u64());
        self.mappages(tr, root, va, PGSIZE, pa, PTE_W | PTE_R | PTE_U, Owner::PageTable { pid })
    }
    fn shm_pte(&mut self, tr: &mut Trace, pid: u32, va: u64) -> Result<Option<u64>, Panic> {
        let root = self.st.ptable.get(pid).map_or(0, |p| p.root.as_u64());
        match self.walk(tr, root, va, None)? {
            Some(pte) => Ok(Some(self.rd(pte)?)),
            None => Ok(None),
        }
    }
    fn shm_clear(&mut self, tr: &mut Trace, pid: u32, va: u64) -> Result<(), Panic> {
        let root = self.st.ptable.get(pid).map_or(0, |p| p.root.as_u64());
        if let Some(pte) = self.walk(tr, root, va, None)? {
            self.wr(tr, 0, pte, va, 0)?;
        }
        Ok(())
    }
    fn shm_flush(&mut self, tr: &mut Trace, pid: u32) {
        if self.st.cur() == Some(pid) {
            self.st.hw.flush_tlb();
            self.st.tlb_flush(tr);
        }
    }
    fn pte_target(&self, pte: u64) -> Option<u64> {
        (pte & PTE_V != 0).then(|| PTE2PA(pte))
    }
    fn mapped_user_pages(&mut self, tr: &mut Trace, pid: u32, top: u64) -> Result<Vec<(u64, u64)>, Panic> {
        let root = self.st.ptable.get(pid).map_or(0, |p| p.root.as_u64());
        self.user_pages(tr, root, top.min(TRAPFRAME))
    }
    fn image_top(&self, pid: u32) -> u64 {
        self.st.ptable.get(pid).map_or(0, |p| p.sz)
    }
}

impl<H: Hal> Xv6Port for RiscvKernel<H> {
    type Scheme = Sv39;
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
        PhysAddr::new(self.kernel_pagetable)
    }

    /// The scheduler runs `pid`: `swtch` to its kernel thread. Its page table
    /// goes into satp only on the way back to user space (see `usertrapret`).
    /// A process running on another CPU leaves it first: the timer traps it
    /// into the kernel there (`uservec`) and it yields.
    fn schedule(&mut self, tr: &mut Trace, pid: u32) -> Result<(), Reject> {
        self.st.ptable.runnable(pid)?;
        if let Some(other) = self.st.elsewhere(pid) {
            tr.note(|| format!("pid {pid} is running on cpu {other}: a timer interrupt traps it into the kernel there and it yields"));
            self.on_cpu(other, |k| k.uservec(tr, pid));
        }
        let running = self.st.cur();
        if let Some(running) = running {
            // The process in user mode traps into the kernel (a system call,
            // or the timer): uservec switches satp to the kernel's table.
            self.uservec(tr, running);
        }
        // A process that trapped in itself goes on in the kernel: no scheduler runs it.
        let trapped = self.trapped.get(self.st.cpu as usize).copied().flatten() == Some(pid);
        if running != Some(pid) && !trapped {
            tr.note(|| format!("the scheduler runs pid {pid} (in the kernel, on the kernel page table)"));
        }
        Ok(())
    }
    /// A process that was not running is in the kernel (a new one in
    /// forkret, one that yielded in usertrap): it returns to user space
    /// through userret and comes back in through uservec with its call.
    fn enter_syscall(&mut self, tr: &mut Trace, pid: u32) -> Result<(), Reject> {
        let was = self.st.cur();
        // Trapped in already (the programs' own ecall): the call goes on from there.
        let trapped = self.trapped.get(self.st.cpu as usize).copied().flatten() == Some(pid);
        self.schedule(tr, pid)?;
        if was != Some(pid) && !trapped {
            tr.note(|| format!("pid {pid} returns to user space (a new process by way of forkret) and runs until its system call traps back in"));
            self.usertrapret(tr, pid);
            self.uservec(tr, pid);
        }
        Ok(())
    }
    fn userinit_inner(&mut self, tr: &mut Trace) -> Result<SysRet, Reject> {
        if self.st.ptable.initproc.is_some() {
            return Err(Reject::Init { why: "userinit runs once: the first process exists already".into() });
        }
        let Ok(slot) = self.allocproc(tr)? else {
            return Err(Panic("userinit: allocproc failed".into()).into());
        };
        let pid = self.st.ptable.procs[slot].pid;
        self.st.ptable.initproc = Some(pid);
        // allocate one user page and copy initcode's instructions and data into it.
        let root = self.st.ptable.procs[slot].root.as_u64();
        let init = self.initcode.clone();
        self.uvmfirst(tr, root, &init, pid)?;
        let p = &mut self.st.ptable.procs[slot];
        p.sz = PGSIZE;
        // prepare for the very first "return" from kernel to user.
        p.regs = UserRegs { pc: 0, sp: PGSIZE, a0: 0, a1: 0 };
        p.name = "initcode".into();
        p.parent = None;
        p.state = ProcState::Runnable;
        self.save_regs(slot)?;
        tr.note(|| "pid 1 will run initcode at address 0, with sp at the top of that page".to_string());
        Ok(SysRet::ok(i64::from(pid)))
    }
    fn fork_inner(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject> {
        self.enter_syscall(tr, pid)?;
        let parent = self.st.ptable.runnable(pid)?.clone();
        // uvmcopy panics if a page below sz is missing: check before touching anything.
        let fs = shm::before_fork(self, tr, "uvmcopy", &parent)?;
        // Allocate process.
        let slot = match self.allocproc(tr)? {
            Ok(s) => s,
            Err(e) => {
                // fork returns -1 to user space.
                self.usertrapret(tr, pid);
                return Ok(SysRet::err(SysError::Fork(e)));
            }
        };
        let child = self.st.ptable.procs[slot].pid;
        let croot = self.st.ptable.procs[slot].root.as_u64();
        // Copy user memory from parent to child.
        match self.uvmcopy(tr, parent.root.as_u64(), croot, parent.sz, child, &fs.share, &fs.skip) {
            Err(VmFail::OutOfMemory) => {
                self.freeproc(tr, slot)?;
                tr.fail("fork: uvmcopy failed; the child is freed");
                self.usertrapret(tr, pid);
                return Ok(SysRet::err(SysError::Fork(ForkError::OutOfMemory)));
            }
            r => r.or_panic("fork")?,
        }
        // copy saved user registers, and make fork return 0 in the child.
        let ctf = self.st.ptable.procs[slot].trapframe.as_u64();
        self.st.hw.copy(ctf, parent.trapframe.as_u64(), TF_SIZE).or_panic("fork")?;
        {
            let c = &mut self.st.ptable.procs[slot];
            c.sz = parent.sz;
            c.regs = UserRegs { a0: 0, ..parent.regs };
            c.name = parent.name.clone();
            c.image = parent.image.clone();
            c.shm_copies = fs.copies;
            c.parent = Some(pid);
            c.state = ProcState::Runnable;
        }
        self.save_regs(slot)?;
        shm::after_fork(self, pid, child);
        tr.note(|| format!("fork returns {child} in the parent and 0 in the child"));
        self.usertrapret(tr, pid);
        Ok(SysRet::ok(i64::from(child)))
    }
    /// sys_exec: copy each argument into a page of its own, call exec, free the copies.
    fn sys_exec(
        &mut self,
        tr: &mut Trace,
        pid: u32,
        path: &str,
        file: Option<&[u8]>,
        argv: &[Vec<u8>],
    ) -> Result<SysRet, Reject> {
        self.enter_syscall(tr, pid)?;
        tr.call(
            "sys_exec",
            || format!("path={path:?}, {} arguments", argv.len()),
            |tr| {
                let max = MAXARG as usize - 1;
                let mut pages: Vec<u64> = Vec::new();
                let free = |k: &mut Self, tr: &mut Trace, pages: &[u64]| -> Result<(), Panic> {
                    for &pg in pages {
                        k.kfree(tr, pg)?;
                    }
                    Ok(())
                };
                let mut bad = None;
                for (i, a) in argv.iter().enumerate() {
                    if i > max {
                        break;
                    }
                    let Some(pg) = self.kalloc(tr, Owner::ArgCopy { pid }) else {
                        bad = Some(ExecError::NoArgPage { index: i });
                        break;
                    };
                    pages.push(pg);
                    // fetchstr: at most PGSIZE bytes including the terminating 0.
                    if a.len() as u64 >= PGSIZE {
                        bad = Some(ExecError::ArgTooLong { index: i, len: a.len() });
                        break;
                    }
                    let mut s = a.clone();
                    s.push(0);
                    self.st.hw.write(pg, &s).or_panic("sys_exec")?;
                }
                if bad.is_none() && argv.len() > max {
                    bad = Some(ExecError::TooManyArgs { given: argv.len(), max });
                }
                let r = if let Some(e) = bad {
                    tr.fail(format!("sys_exec: {e}"));
                    SysRet::err(SysError::Exec(e))
                } else {
                    tr.call(
                        "exec",
                        || {
                            let args: Vec<String> =
                                argv.iter().map(|a| format!("{:?}", String::from_utf8_lossy(a))).collect();
                            format!("path={path:?}, argv=[{}]", args.join(", "))
                        },
                        |tr| self.exec_body(tr, pid, path, file, argv),
                    )?
                };
                free(self, tr, &pages)?;
                // Back to user space: in the new image, or with -1 in the old one.
                self.usertrapret(tr, pid);
                Ok(r)
            },
        )
    }
    fn sbrk_inner(&mut self, tr: &mut Trace, pid: u32, n: i64) -> Result<SysRet, Reject> {
        let Ok(n) = i32::try_from(n) else {
            return Err(Reject::BadArgument { why: format!("sbrk takes an int: {n} does not fit in 32 bits") });
        };
        self.enter_syscall(tr, pid)?;
        let r = tr.call(
            "growproc",
            || format!("n={n}"),
            |tr| -> Result<SysRet, Reject> {
                let p = self.st.ptable.runnable(pid)?.clone();
                let sz = p.sz;
                // The C code adds an int to a uint64: the int is sign-extended.
                let newsz = sz.wrapping_add(i64::from(n) as u64);
                let result = if n > 0 {
                    match self.uvmalloc(tr, p.root.as_u64(), sz, newsz, PTE_W, pid) {
                        Err(VmFail::OutOfMemory) => return Ok(SysRet::err(SysError::Sbrk(SbrkError::OutOfMemory))),
                        r => r.or_panic("growproc")?,
                    }
                } else if n < 0 {
                    // Pages below sz that are not mapped: holes, and shared pages closed now.
                    let mut holes = p.holes.clone();
                    if newsz < sz {
                        holes.extend(shm::before_shrink(self, tr, pid, PGROUNDUP(newsz))?);
                    }
                    self.uvmdealloc_holes(tr, p.root.as_u64(), sz, newsz, &holes)?
                } else {
                    sz
                };
                if let Some(q) = self.st.ptable.get_mut(pid) {
                    // Closing shared pages may have moved sz and holes; growproc decides sz.
                    q.sz = result;
                    q.holes = p.holes.iter().copied().filter(|&h| h < PGROUNDUP(result)).collect();
                }
                Ok(SysRet::ok(sz as i64))
            },
        )?;
        self.usertrapret(tr, pid);
        Ok(r)
    }
    fn exit_inner(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject> {
        self.st.ptable.runnable(pid)?;
        if self.st.ptable.initproc == Some(pid) {
            return Err(Panic("init exiting".into()).into());
        }
        self.enter_syscall(tr, pid)?;
        tr.call("exit", String::new, |tr| {
            shm::on_exit(self, tr, pid)?;
            // Give any children to init.
            for c in self.st.ptable.reparent(pid) {
                tr.push(Event::Note { text: format!("pid {c} is passed to init (reparent)") });
            }
            let p = self.st.ptable.get_mut(pid).ok_or(Reject::NoSuchProcess { pid })?;
            p.state = ProcState::Zombie;
            tr.note(|| format!("pid {pid} is a zombie: its memory stays until its parent calls wait (freeproc)"));
            self.st.forget(pid);
            Ok(SysRet::ok(0))
        })
    }
    fn wait_inner(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject> {
        self.st.ptable.runnable(pid)?;
        let Some((slot, cpid)) = self.st.ptable.zombie_child(pid)? else {
            self.enter_syscall(tr, pid)?;
            tr.call("wait", String::new, |tr| tr.fail("wait: no children"));
            self.usertrapret(tr, pid);
            return Ok(SysRet::err(SysError::Wait));
        };
        shm::before_free_image(self, tr, cpid, "wait frees the zombie's memory")?;
        // A parent that is not running sleeps in wait, in the kernel: the
        // child's exit woke it, and it goes on there (no trip to user space).
        if self.st.cur() != Some(pid) {
            tr.note(|| format!("pid {pid} was asleep in wait, in the kernel; its child's exit woke it"));
        }
        self.schedule(tr, pid)?;
        let r = tr.call("wait", String::new, |tr| {
            tr.note(|| format!("found zombie child pid {cpid}: freeproc frees its trapframe and its memory"));
            self.freeproc(tr, slot)?;
            Ok::<SysRet, Reject>(SysRet::ok(i64::from(cpid)))
        })?;
        self.usertrapret(tr, pid);
        Ok(r)
    }
    /// What xv6-riscv's usertrap prints for an unexpected scause before killing the process.
    fn trap_report(&self, pid: u32, va: u64, code: u64) -> (&'static str, String) {
        let sepc = self.st.ptable.get(pid).map_or(0, |p| p.regs.pc);
        (
            "usertrap",
            format!("usertrap(): unexpected scause {code:#x} pid={pid}\n            sepc={sepc:#x} stval={va:#x}"),
        )
    }
    /// Return to user space in `pid` before its code runs: satp gets its table.
    fn enter_user(&mut self, tr: &mut Trace, pid: u32) {
        self.usertrapret(tr, pid);
    }
}
