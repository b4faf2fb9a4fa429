//! The port interface: what each port of xv6 writes ([`Xv6Port`], its state
//! in [`PortState`]) and what both offer the lab, written once (the
//! [`Kernel`] trait; "kernel" as in xv6's, not the `kernel/` crate that
//! boots on QEMU). The results of
//! system calls and the errors each one can return are in [`crate::sys`]
//! (and named here too).

use alloc::string::String;
use alloc::vec::Vec;

use crate::OrPanic as _;
use crate::addr::{PhysAddr, VirtAddr};
use crate::kalloc::Kmem;
use crate::mem::Hal;
use crate::mem::PhysMem;
use crate::proc::ProcTable;
use crate::scheme::Access;
use crate::scheme::Scheme;
use crate::shm::{ShmHost, ShmMode, ShmState, ShmTable};
use crate::tlb::Tlb;
use crate::trace::Trace;
use crate::walk::Translation;
use serde::{Deserialize, Serialize};

pub use crate::sys::{
    AccessError, ExecError, ForkError, MachineInfo, Port, Reject, SbrkError, SegmentProblem, ShmError, SysError, SysRet,
};

/// Both ports, as the lab drives them.
pub trait Kernel {
    /// Facts about the machine.
    fn info(&self) -> &MachineInfo;
    /// The process table.
    fn procs(&self) -> &ProcTable;
    /// The page allocator.
    fn kmem(&self) -> &Kmem;
    /// Physical memory.
    fn mem(&self) -> &dyn PhysMem;
    /// The shared-memory table.
    fn shm(&self) -> &ShmTable;
    /// Which shared-memory code runs.
    fn shm_mode(&self) -> ShmMode;
    /// The kernel's own page-table root.
    fn kernel_root(&self) -> PhysAddr;
    /// The pid whose page table the MMU of the CPU operations run on uses now (none: the kernel's).
    fn current(&self) -> Option<u32>;
    /// Each CPU's TLB.
    fn tlbs(&self) -> &[Tlb];
    /// The CPU operations run on now (0 unless a `cpu` operation moved them).
    fn cpu(&self) -> u32;
    /// Each CPU's running process, if any.
    fn running(&self) -> &[Option<u32>];
    /// Run the next operations on CPU `cpu`.
    ///
    /// # Errors
    /// [`Reject::BadArgument`] if the machine has no such CPU.
    fn set_cpu(&mut self, tr: &mut Trace, cpu: u32) -> Result<SysRet, Reject>;
    /// The flushes this machine leaves out (a what-if; none on xv6 itself).
    fn skip_flush(&self) -> SkipFlush;
    /// Give every CPU an empty TLB of `entries` entries and leave out the
    /// flushes `skip` names.
    fn configure_tlb(&mut self, entries: u32, skip: SkipFlush);

    /// Make the first process (xv6: `userinit`).
    ///
    /// # Errors
    /// A [`Reject`] if it exists already.
    fn userinit(&mut self, tr: &mut Trace) -> Result<SysRet, Reject>;
    /// `pid` calls fork.
    ///
    /// # Errors
    /// A [`Reject`] if `pid` cannot run.
    fn fork(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject>;
    /// `pid` calls exec with the program `file` (None: no such file) at `path`.
    ///
    /// # Errors
    /// A [`Reject`] if `pid` cannot run.
    fn exec(
        &mut self,
        tr: &mut Trace,
        pid: u32,
        path: &str,
        file: Option<&[u8]>,
        argv: &[Vec<u8>],
    ) -> Result<SysRet, Reject>;
    /// `pid` calls sbrk(n).
    ///
    /// # Errors
    /// A [`Reject`] if `pid` cannot run or `n` is not an `int`.
    fn sbrk(&mut self, tr: &mut Trace, pid: u32, n: i64) -> Result<SysRet, Reject>;
    /// `pid` calls exit.
    ///
    /// # Errors
    /// A [`Reject`] if `pid` cannot run, or is init.
    fn exit(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject>;
    /// `pid` calls wait.
    ///
    /// # Errors
    /// A [`Reject`] if it would sleep forever.
    fn wait(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject>;
    /// Kill `pid`; it exits when it next returns to user space, which the lab does at once.
    ///
    /// # Errors
    /// A [`Reject`] if there is no such process, or it is init.
    fn kill(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject>;
    /// `pid` calls openshmem(id).
    ///
    /// # Errors
    /// A [`Reject`] if `pid` cannot run.
    fn openshmem(&mut self, tr: &mut Trace, pid: u32, id: i64) -> Result<SysRet, Reject>;
    /// `pid` calls closeshmem(id).
    ///
    /// # Errors
    /// A [`Reject`] if `pid` cannot run.
    fn closeshmem(&mut self, tr: &mut Trace, pid: u32, id: i64) -> Result<SysRet, Reject>;
    /// User code in `pid` makes `access` to `bytes.len()` bytes at `va`,
    /// through the MMU: a load fills `bytes`, a store writes them. A fault
    /// kills the process, as xv6's trap handler does; `about` names what is
    /// at the faulting address for the fault's message (the lab passes its
    /// `place`), before anything changes.
    ///
    /// # Errors
    /// A [`Reject`] if `pid` cannot run.
    fn user_access(
        &mut self,
        tr: &mut Trace,
        pid: u32,
        va: u64,
        access: Access,
        bytes: &mut [u8],
        about: About<'_>,
    ) -> Result<SysRet, Reject>;
    /// The page allocator, to make it fail on purpose.
    fn kmem_mut(&mut self) -> &mut Kmem;

    /// User code in `pid` loads `len` bytes at `va` (through the MMU).
    ///
    /// # Errors
    /// A [`Reject`] if `pid` cannot run, or `len` is more than 16 pages.
    fn read_user(&mut self, tr: &mut Trace, pid: u32, va: u64, len: u64, about: About<'_>) -> Result<SysRet, Reject> {
        if len > MAX_USER_ACCESS {
            return Err(Reject::BadArgument { why: alloc::format!("read at most {MAX_USER_ACCESS} bytes at a time") });
        }
        let mut buf = alloc::vec![0u8; len as usize];
        self.user_access(tr, pid, va, Access::USER_READ, &mut buf, about)
    }
    /// User code in `pid` stores `bytes` at `va` (through the MMU).
    ///
    /// # Errors
    /// A [`Reject`] if `pid` cannot run, or `bytes` is more than 16 pages.
    fn write_user(
        &mut self,
        tr: &mut Trace,
        pid: u32,
        va: u64,
        bytes: &[u8],
        about: About<'_>,
    ) -> Result<SysRet, Reject> {
        if bytes.len() as u64 > MAX_USER_ACCESS {
            return Err(Reject::BadArgument { why: alloc::format!("write at most {MAX_USER_ACCESS} bytes at a time") });
        }
        let mut buf = bytes.to_vec();
        self.user_access(tr, pid, va, Access::USER_WRITE, &mut buf, about)
    }
    /// User code in `pid` fetches an instruction at `va` (one byte of it,
    /// through the MMU, with execute access).
    ///
    /// # Errors
    /// A [`Reject`] if `pid` cannot run.
    fn fetch_user(&mut self, tr: &mut Trace, pid: u32, va: u64, about: About<'_>) -> Result<SysRet, Reject> {
        self.user_access(tr, pid, va, Access::USER_EXEC, &mut [0u8], about)
    }
    /// Each open pipe's page, by the pipe's number.
    fn pipes(&self) -> &[Option<PhysAddr>];
    /// `pid` calls pipe: once its two files are made, `pipealloc` kallocs
    /// the page that holds the pipe. The value is the pipe's number (the
    /// lowest free one); if kalloc finds no page, pipe returns -1.
    ///
    /// # Errors
    /// A [`Reject`] if there is no process `pid`.
    fn pipealloc(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject>;
    /// The last open end of pipe `id` is closed (in `pid`'s close or exit):
    /// `pipeclose` kfrees its page.
    ///
    /// # Errors
    /// A [`Reject`] if there is no process `pid` or no pipe `id`.
    fn pipeclose(&mut self, tr: &mut Trace, pid: u32, id: u32) -> Result<SysRet, Reject>;
    /// Make the kalloc call after `n` more successful ones fail (None: stop failing).
    fn fail_kalloc_after(&mut self, n: Option<u64>) {
        self.kmem_mut().fail_after(n);
    }

    /// Translate `va` in `pid`'s page table (None: the kernel's), without side effects.
    ///
    /// # Errors
    /// A [`Reject`] if there is no such process.
    fn translate(&self, pid: Option<u32>, va: u64, access: Access) -> Result<Translation, Reject> {
        let root = match pid {
            Some(pid) => self.procs().get(pid).ok_or(Reject::NoSuchProcess { pid })?.root,
            None => self.kernel_root(),
        };
        Ok(crate::walk::translate_dyn(self.info().scheme, self.mem(), root, VirtAddr::new(va), access))
    }
}

/// A [`Kernel`] that can be copied behind a box: the simulated machines
/// are (the lab keeps a copy per step, for stepping back without a replay).
pub trait KernelBox: Kernel + Send {
    /// A copy of the whole machine.
    fn box_clone(&self) -> alloc::boxed::Box<dyn KernelBox>;
}

impl<T: Kernel + Clone + Send + 'static> KernelBox for T {
    fn box_clone(&self) -> alloc::boxed::Box<dyn KernelBox> {
        alloc::boxed::Box::new(self.clone())
    }
}

/// What a caller says is at a faulting user address, for the fault's
/// message: given the machine, the process and the address, words that
/// follow "at 0x… is" ("the guard page (no user bit)"), or nothing. The lab
/// passes its `place`; the kernel layer does not know the lab's regions.
pub type About<'a> = &'a dyn Fn(&dyn Kernel, u32, u64) -> alloc::string::String;

/// The most bytes one user read or write of the lab may move (16 pages).
pub const MAX_USER_ACCESS: u64 = 16 * crate::addr::PGSIZE;

/// The state every port keeps: memory, the allocator, the process and
/// shared-memory tables, and which page table the CPU holds.
#[derive(Clone, Debug)]
pub struct PortState<H> {
    /// Memory and MMU.
    pub hw: H,
    /// The page allocator.
    pub kmem: Kmem,
    /// The process table.
    pub ptable: ProcTable,
    /// The shared-memory table.
    pub shm: ShmTable,
    /// Which shared-memory code runs.
    pub shm_mode: ShmMode,
    /// Each CPU's running process, whose page table is loaded (CR3 or
    /// satp) there, if any (xv6: `cpus[i].proc`).
    pub running: Vec<Option<u32>>,
    /// The CPU the next operation runs on (xv6: `mycpu()`); 0 unless a
    /// scenario's `cpu` line moves it.
    pub cpu: u32,
    /// Each CPU's TLB (see [`crate::tlb`]).
    pub tlbs: Vec<Tlb>,
    /// Flushes xv6 does that this machine leaves out (a what-if).
    pub skip: SkipFlush,
    /// Each open pipe's page, by the pipe's number (the lowest free one is
    /// used next).
    pub pipes: Vec<Option<PhysAddr>>,
}

/// Flushes of xv6's that a what-if machine leaves out, to show what they
/// are for (the preset line's `noflush=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SkipFlush {
    /// xv6-public: `growproc` returns without `switchuvm`, so CR3 is not
    /// reloaded after the process grows or shrinks.
    pub growproc: bool,
    /// xv6-riscv: the trampoline (`uservec` on the way into the kernel,
    /// `userret` on the way out) writes satp without `sfence.vma`.
    pub trampoline: bool,
}

impl SkipFlush {
    /// The names the preset line uses, with what each leaves out.
    pub const SITES: [(&'static str, &'static str); 2] = [
        ("growproc", "xv6-public's growproc returns without switchuvm (no CR3 reload)"),
        ("trampoline", "xv6-riscv's uservec and userret write satp without sfence.vma"),
    ];

    /// True if nothing is left out.
    #[must_use]
    pub fn is_none(self) -> bool {
        self == SkipFlush::default()
    }

    /// The flag of the flush called `name`, if there is one.
    fn flag(&mut self, name: &str) -> Option<&mut bool> {
        match name {
            "growproc" => Some(&mut self.growproc),
            "trampoline" => Some(&mut self.trampoline),
            _ => None,
        }
    }

    /// The names of the flushes left out, in [`SkipFlush::SITES`] order.
    #[must_use]
    pub fn names(self) -> Vec<&'static str> {
        let mut me = self;
        Self::SITES.iter().map(|(n, _)| *n).filter(|n| me.flag(n).is_some_and(|b| *b)).collect()
    }

    /// Leave out the flush called `name`; false if there is none by that name.
    pub fn set(&mut self, name: &str) -> bool {
        self.flag(name).map(|b| *b = true).is_some()
    }
}

impl<H: Hal> PortState<H> {
    /// Take a free frame for `owner` (xv6: `kalloc`); None when memory has run out.
    pub fn kalloc(&mut self, tr: &mut Trace, owner: crate::trace::Owner) -> Option<PhysAddr> {
        self.kmem.kalloc(&mut self.hw, tr, owner)
    }
    /// Give frame `pa` back (xv6: `kfree`).
    ///
    /// # Errors
    /// kfree's panics.
    pub fn kfree(&mut self, tr: &mut Trace, pa: PhysAddr) -> Result<(), crate::Panic> {
        self.kmem.kfree(&mut self.hw, tr, pa)
    }

    /// The state of a machine with `ncpu` CPUs, each with an empty TLB of
    /// [`crate::tlb::DEFAULT_ENTRIES`] entries, and every flush in place.
    pub fn new(hw: H, kmem: Kmem, nproc: u32, shm_mode: ShmMode, ncpu: u32) -> PortState<H> {
        let ncpu = ncpu.max(1) as usize;
        let tlbs = (0..ncpu).map(|_| Tlb::new(crate::tlb::DEFAULT_ENTRIES)).collect();
        PortState {
            hw,
            kmem,
            ptable: ProcTable::new(nproc),
            shm: ShmTable::new(),
            shm_mode,
            running: alloc::vec![None; ncpu],
            cpu: 0,
            tlbs,
            skip: SkipFlush::default(),
            pipes: Vec::new(),
        }
    }

    /// Give every CPU an empty TLB of `entries` entries.
    pub fn set_tlb_entries(&mut self, entries: u32) {
        for t in &mut self.tlbs {
            *t = Tlb::new(entries);
        }
    }

    /// The process running on this CPU (the one the operation runs on), if any.
    #[must_use]
    pub fn cur(&self) -> Option<u32> {
        self.running.get(self.cpu as usize).copied().flatten()
    }

    /// Make `pid` (or nobody) the process running on this CPU.
    pub fn set_cur(&mut self, pid: Option<u32>) {
        if let Some(slot) = self.running.get_mut(self.cpu as usize) {
            *slot = pid;
        }
    }

    /// The CPU other than this one that runs `pid`, if any.
    #[must_use]
    pub fn elsewhere(&self, pid: u32) -> Option<u32> {
        (0..self.running.len() as u32).find(|&c| c != self.cpu && self.running[c as usize] == Some(pid))
    }

    /// Forget `pid` on every CPU (it exited or was freed).
    pub fn forget(&mut self, pid: u32) {
        for r in &mut self.running {
            if *r == Some(pid) {
                *r = None;
            }
        }
    }

    /// Flush this CPU's TLB (the one the operation runs on), as loading CR3
    /// or `sfence.vma` does, and record it.
    pub fn tlb_flush(&mut self, tr: &mut Trace) {
        let cpu = self.cpu;
        if let Some(t) = self.tlbs.get_mut(cpu as usize) {
            let dropped = t.flush() as u32;
            tr.tlb(crate::trace::Event::TlbFlush { cpu, dropped });
        }
    }
}

/// A port of xv6: what each one (`x86/`, `riscv/`) writes for its machine.
///
/// A port keeps its state (memory, allocator, process and shared-memory
/// tables) and implements xv6's operations the way its own `proc.c`,
/// `exec.c` and `trap.c` do them. Everything else the lab drives through
/// [`Kernel`] is written once, in the `impl Kernel for` every `Xv6Port`
/// below: the accessors, `kill`, the shared-memory system calls and a user
/// access with its page fault. A third port (xv6 on Sv32, say) implements
/// this trait and the shared-memory hooks of `shm.rs`, and gets the rest.
pub trait Xv6Port {
    /// The paging scheme (`X86`, `Sv39`).
    type Scheme: Scheme;
    /// Memory and CPU: simulated, or the real machine's.
    type Hw: Hal;

    /// Facts about the machine.
    fn machine(&self) -> &MachineInfo;
    /// The state every port keeps, to read.
    fn state(&self) -> &PortState<Self::Hw>;
    /// The state every port keeps, to change.
    fn state_mut(&mut self) -> &mut PortState<Self::Hw>;
    /// The kernel's own page table (physical address).
    fn kernel_root(&self) -> PhysAddr;

    /// Make `pid` the running process, switching page tables as the scheduler does.
    ///
    /// # Errors
    /// No such process, or it cannot run.
    fn schedule(&mut self, tr: &mut Trace, pid: u32) -> Result<(), Reject>;
    /// `pid` makes a system call: [`Kernel::schedule`] it, then (RISC-V) a
    /// process that was not running returns to user space and traps back in
    /// with its call, each through the trampoline.
    ///
    /// # Errors
    /// As [`Kernel::schedule`].
    fn enter_syscall(&mut self, tr: &mut Trace, pid: u32) -> Result<(), Reject> {
        self.schedule(tr, pid)
    }
    /// Return to user space in `pid` (RISC-V: `usertrapret` loads its table).
    fn enter_user(&mut self, tr: &mut Trace, pid: u32);
    /// What the trap handler prints for a user page fault: the function and the line.
    fn trap_report(&self, pid: u32, va: u64, code: u64) -> (&'static str, String);
    /// `userinit`, inside its trace call.
    ///
    /// # Errors
    /// What [`Kernel::userinit`] returns.
    fn userinit_inner(&mut self, tr: &mut Trace) -> Result<SysRet, Reject>;
    /// `fork`, inside its trace call.
    ///
    /// # Errors
    /// What [`Kernel::fork`] returns.
    fn fork_inner(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject>;
    /// `sys_exec` and `exec`.
    ///
    /// # Errors
    /// What [`Kernel::exec`] returns.
    fn sys_exec(
        &mut self,
        tr: &mut Trace,
        pid: u32,
        path: &str,
        file: Option<&[u8]>,
        argv: &[Vec<u8>],
    ) -> Result<SysRet, Reject>;
    /// `sbrk` (`growproc`), inside its trace call.
    ///
    /// # Errors
    /// What [`Kernel::sbrk`] returns.
    fn sbrk_inner(&mut self, tr: &mut Trace, pid: u32, n: i64) -> Result<SysRet, Reject>;
    /// `exit`.
    ///
    /// # Errors
    /// What [`Kernel::exit`] returns.
    fn exit_inner(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject>;
    /// `wait`.
    ///
    /// # Errors
    /// What [`Kernel::wait`] returns.
    fn wait_inner(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject>;

    /// Run `f` as CPU `cpu` (its flushes, its running process), then come
    /// back to the CPU the operation runs on.
    fn on_cpu<R>(&mut self, cpu: u32, f: impl FnOnce(&mut Self) -> R) -> R
    where
        Self: Sized,
    {
        let here = core::mem::replace(&mut self.state_mut().cpu, cpu);
        let r = f(self);
        self.state_mut().cpu = here;
        r
    }
}

impl<T: Xv6Port> ShmState for T {
    fn shm_table(&mut self) -> &mut ShmTable {
        &mut self.state_mut().shm
    }
    fn shm_mode_of(&self) -> ShmMode {
        self.state().shm_mode
    }
    fn ptable_mut(&mut self) -> &mut ProcTable {
        &mut self.state_mut().ptable
    }
    fn shm_kalloc(&mut self, tr: &mut Trace, id: i32) -> Result<Option<u64>, crate::Panic> {
        let st = self.state_mut();
        let Some(pa) = st.kalloc(tr, crate::trace::Owner::Shared { id }) else { return Ok(None) };
        st.hw.fill(pa.as_u64(), crate::addr::PGSIZE, 0).or_panic("openshmem")?;
        Ok(Some(pa.as_u64()))
    }
    fn shm_kfree(&mut self, tr: &mut Trace, pa: u64) -> Result<(), crate::Panic> {
        self.state_mut().kfree(tr, PhysAddr::new(pa))
    }
    fn frame_owner(&self, pa: u64) -> Option<crate::trace::Owner> {
        self.state().kmem.owner(pa)
    }
}

impl<T: Xv6Port + ShmHost> Kernel for T {
    fn info(&self) -> &MachineInfo {
        self.machine()
    }
    fn procs(&self) -> &ProcTable {
        &self.state().ptable
    }
    fn kmem(&self) -> &Kmem {
        &self.state().kmem
    }
    fn kmem_mut(&mut self) -> &mut Kmem {
        &mut self.state_mut().kmem
    }
    fn pipes(&self) -> &[Option<PhysAddr>] {
        &self.state().pipes
    }
    fn pipealloc(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject> {
        self.state().ptable.get(pid).ok_or(Reject::NoSuchProcess { pid })?;
        let st = self.state_mut();
        let id = st.pipes.iter().position(Option::is_none).unwrap_or(st.pipes.len());
        let got = tr.call("pipealloc", alloc::string::String::new, |tr| {
            st.kalloc(tr, crate::trace::Owner::Pipe { id: id as u32 })
        });
        let Some(pa) = got else {
            return Ok(SysRet::err(SysError::Pipe));
        };
        tr.note(|| alloc::format!("pipealloc: pipe {id} is in frame {:#x}", pa.as_u64()));
        if id == st.pipes.len() {
            st.pipes.push(Some(pa));
        } else {
            st.pipes[id] = Some(pa);
        }
        Ok(SysRet::ok(id as i64))
    }
    fn pipeclose(&mut self, tr: &mut Trace, pid: u32, id: u32) -> Result<SysRet, Reject> {
        self.state().ptable.get(pid).ok_or(Reject::NoSuchProcess { pid })?;
        let st = self.state_mut();
        let Some(pa) = st.pipes.get_mut(id as usize).and_then(Option::take) else {
            return Err(Reject::BadArgument { why: alloc::format!("there is no open pipe {id}") });
        };
        tr.call("pipeclose", || alloc::format!("pipe {id}"), |tr| st.kfree(tr, pa))?;
        Ok(SysRet::ok(0))
    }
    fn tlbs(&self) -> &[Tlb] {
        &self.state().tlbs
    }
    fn skip_flush(&self) -> SkipFlush {
        self.state().skip
    }
    fn configure_tlb(&mut self, entries: u32, skip: SkipFlush) {
        let st = self.state_mut();
        st.set_tlb_entries(entries);
        st.skip = skip;
    }
    fn mem(&self) -> &dyn PhysMem {
        &self.state().hw
    }
    fn shm(&self) -> &ShmTable {
        &self.state().shm
    }
    fn shm_mode(&self) -> ShmMode {
        self.state().shm_mode
    }
    fn current(&self) -> Option<u32> {
        self.state().cur()
    }
    fn cpu(&self) -> u32 {
        self.state().cpu
    }
    fn running(&self) -> &[Option<u32>] {
        &self.state().running
    }
    fn set_cpu(&mut self, tr: &mut Trace, cpu: u32) -> Result<SysRet, Reject> {
        let n = self.state().running.len() as u32;
        if cpu >= n {
            return Err(Reject::BadArgument {
                why: alloc::format!(
                    "{} has {n} CPUs, numbered 0 to {}: there is no CPU {cpu}",
                    self.machine().preset,
                    n - 1
                ),
            });
        }
        self.state_mut().cpu = cpu;
        let who = match self.state().cur() {
            Some(pid) => alloc::format!("pid {pid} is running there"),
            None => "no process is running there: its scheduler is on the kernel's page table".into(),
        };
        tr.note(|| alloc::format!("the next operations run on CPU {cpu}; {who}"));
        Ok(SysRet::ok(0))
    }
    fn kernel_root(&self) -> PhysAddr {
        Xv6Port::kernel_root(self)
    }
    fn exit(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject> {
        self.exit_inner(tr, pid)
    }
    fn wait(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject> {
        self.wait_inner(tr, pid)
    }
    fn kill(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject> {
        // xv6's kill finds a zombie too: it sets its killed flag and returns 0, and nothing else happens.
        if self.state().ptable.get(pid).is_some_and(|p| p.state == crate::proc::ProcState::Zombie) {
            tr.call(
                "kill",
                || alloc::format!("pid={pid}"),
                |tr| {
                    self.state_mut().ptable.mark_killed(pid);
                    tr.note(|| alloc::format!("pid {pid} is already a zombie: kill marks it killed and returns 0"));
                },
            );
            return Ok(SysRet::ok(0));
        }
        self.state().ptable.runnable(pid)?;
        if self.state().ptable.initproc == Some(pid) {
            return Err(crate::Panic("init exiting".into()).into());
        }
        tr.call(
            "kill",
            || alloc::format!("pid={pid}"),
            |tr| {
                self.state_mut().ptable.mark_killed(pid);
                tr.note(|| {
                    alloc::format!("pid {pid} is marked killed; it calls exit when it next returns to user space")
                });
            },
        );
        self.exit_inner(tr, pid)
    }
    fn userinit(&mut self, tr: &mut Trace) -> Result<SysRet, Reject> {
        tr.call("userinit", alloc::string::String::new, |tr| self.userinit_inner(tr))
    }
    fn fork(&mut self, tr: &mut Trace, pid: u32) -> Result<SysRet, Reject> {
        tr.call("fork", || alloc::format!("pid {pid}"), |tr| self.fork_inner(tr, pid))
    }
    fn exec(
        &mut self,
        tr: &mut Trace,
        pid: u32,
        path: &str,
        file: Option<&[u8]>,
        argv: &[Vec<u8>],
    ) -> Result<SysRet, Reject> {
        self.sys_exec(tr, pid, path, file, argv)
    }
    fn sbrk(&mut self, tr: &mut Trace, pid: u32, n: i64) -> Result<SysRet, Reject> {
        tr.call("sbrk", || alloc::format!("n={n}"), |tr| self.sbrk_inner(tr, pid, n))
    }
    fn openshmem(&mut self, tr: &mut Trace, pid: u32, id: i64) -> Result<SysRet, Reject> {
        self.enter_syscall(tr, pid)?;
        let r = crate::shm::open(self, tr, pid, id)?;
        self.enter_user(tr, pid);
        Ok(r)
    }
    fn closeshmem(&mut self, tr: &mut Trace, pid: u32, id: i64) -> Result<SysRet, Reject> {
        self.enter_syscall(tr, pid)?;
        let r = crate::shm::close(self, tr, pid, id)?;
        self.enter_user(tr, pid);
        Ok(r)
    }
    fn user_access(
        &mut self,
        tr: &mut Trace,
        pid: u32,
        va: u64,
        access: Access,
        bytes: &mut [u8],
        about: About<'_>,
    ) -> Result<SysRet, Reject> {
        // A process already running in user mode makes the access at once;
        // another one is scheduled and returns to user space first.
        if self.state().cur() != Some(pid) {
            self.schedule(tr, pid)?;
            self.enter_user(tr, pid);
        }
        let root = self.state().ptable.runnable(pid)?.root;
        let PortState { hw, kmem, tlbs, cpu, .. } = self.state_mut();
        let owner = |pa| kmem.owner(pa);
        let cpu = *cpu;
        let Some(tlb) = tlbs.get_mut(cpu as usize) else { panic!("user_access: no cpu {cpu}") };
        let tlb = crate::walk::OnCpu { cpu, tlb };
        match crate::walk::user_access::<T::Scheme>(hw, owner, tlb, tr, pid, root, VirtAddr::new(va), access, bytes) {
            Ok(()) => {
                let mut ret = SysRet::ok(bytes.len() as i64);
                if access.kind == crate::scheme::AccessKind::Read {
                    ret.bytes = bytes.to_vec();
                }
                Ok(ret)
            }
            Err((a, mut fault)) => {
                // Say which page it is: the guard page, a kernel page, above sz.
                let here = about(&*self, pid, a);
                // A bad address's reason already says what the address is.
                if !here.is_empty() && fault.kind != crate::scheme::FaultKind::BadAddress {
                    fault.text = alloc::format!("{}; {a:#x} is {here}", fault.text);
                }
                // A fetch fault happens at the address jumped to: the pc is there.
                if access.kind == crate::scheme::AccessKind::Execute
                    && let Some(p) = self.state_mut().ptable.get_mut(pid)
                {
                    p.regs.pc = a;
                }
                tr.push(crate::trace::Event::PageFault {
                    va: crate::addr::VirtAddr::new(a),
                    code: fault.code,
                    reason: fault.text.clone(),
                });
                // The trap takes the process into the kernel (RISC-V: uservec
                // switches satp), then the trap handler reports the fault and kills it.
                self.schedule(tr, pid)?;
                let (func, text) = self.trap_report(pid, a, fault.code);
                tr.call(func, alloc::string::String::new, |tr| tr.printed(text));
                if access.kind != crate::scheme::AccessKind::Execute {
                    tr.note(|| {
                        alloc::format!(
                            "a timeline step's {} names no instruction, so the pc in that line is pid {pid}'s last known one; when the Run panel's programs made the access, their console shows the real pc",
                            if access.kind == crate::scheme::AccessKind::Write { "write" } else { "read" }
                        )
                    });
                }
                if self.state().ptable.initproc == Some(pid) {
                    let what = crate::walk::access_words(access.kind);
                    return Err(Reject::InitFault { va: a, what, why: fault.text });
                }
                self.state_mut().ptable.mark_killed(pid);
                self.exit_inner(tr, pid)?;
                Ok(SysRet::err(crate::port::SysError::Access(crate::port::AccessError { fault, va: a })))
            }
        }
    }
}
