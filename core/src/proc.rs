//! The process table, shared by both ports (xv6: `struct proc`, `ptable`).

use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

use crate::addr::PhysAddr;
use crate::elf::Phdr;
use crate::sys::Reject;

pub use crate::sys::ProcState;

/// The user registers the lab tracks (saved in the trapframe).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UserRegs {
    /// Program counter (x86 `eip`, RISC-V `epc`).
    pub pc: u64,
    /// Stack pointer (x86 `esp`, RISC-V `sp`).
    pub sp: u64,
    /// RISC-V `a0` (exec's return value: argc).
    pub a0: u64,
    /// RISC-V `a1` (argv).
    pub a1: u64,
}

/// One argument string exec put on the stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArgString {
    /// Where it starts.
    pub va: u64,
    /// Its bytes without the terminating NUL.
    #[serde(serialize_with = "crate::json_bytes::one")]
    pub text: Vec<u8>,
}

/// What exec built: the layout the stack and address-space views explain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Image {
    /// The process that ran this exec. A child of fork has its parent's
    /// image: the same pages, copied by fork, stack and all.
    pub pid: u32,
    /// The path exec was given.
    pub path: String,
    /// The loadable segments, in file order.
    pub segments: Vec<Phdr>,
    /// Entry point.
    pub entry: u64,
    /// The guard page (user bit cleared).
    pub guard: u64,
    /// The stack page (the one above the guard).
    pub stack: u64,
    /// Top of the stack (the process size right after exec).
    pub stack_top: u64,
    /// Stack pointer when the program starts.
    pub sp: u64,
    /// Number of arguments.
    pub argc: u64,
    /// Where the argv array starts.
    pub argv: u64,
    /// The argument strings.
    pub args: Vec<ArgString>,
    /// Bytes per word on this machine (4 or 8).
    pub word: u64,
}

/// A shared page a process has open (pagelab's own bookkeeping; see [`crate::shm`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ShmMapping {
    /// The shared page's id.
    pub id: i32,
    /// Where it is mapped in this process.
    pub va: u64,
}

/// A process slot (xv6: `struct proc`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Proc {
    /// Index in the table.
    pub slot: u32,
    /// Process id (0 for an unused slot).
    pub pid: u32,
    /// State.
    pub state: ProcState,
    /// The parent's pid.
    pub parent: Option<u32>,
    /// Size of user memory in bytes.
    pub sz: u64,
    /// Physical address of the page-table root (0 when none).
    pub root: PhysAddr,
    /// The kernel stack (0 when none): on x86 the physical address of its
    /// page, on RISC-V its virtual address in the kernel's table (`KSTACK(slot)`).
    pub kstack: u64,
    /// Physical address of the trapframe page (RISC-V; 0 when none).
    pub trapframe: PhysAddr,
    /// Name (the last part of the path exec was given).
    pub name: String,
    /// Set by kill.
    pub killed: bool,
    /// Saved user registers.
    pub regs: UserRegs,
    /// What the last exec built, if any.
    pub image: Option<Image>,
    /// Shared pages open.
    pub shm: Vec<ShmMapping>,
    /// Pages inside `sz` left unmapped by closing a shared page below the top.
    pub holes: Vec<u64>,
    /// The note's fork only: pages that are private copies of a shared page
    /// (the page's id and where the copy is), so that views can name them.
    pub shm_copies: Vec<ShmMapping>,
    /// The note's `proc->shmemaddr`; like any field of a slot xv6 does not
    /// clear, it keeps its value when the slot is reused.
    pub shmemaddr: u64,
    /// xv6-public's growproc freed every page but kept `sz` (sbrk to exactly
    /// 0): the pages below this size (the `sz` it kept) are gone, and fork
    /// would panic. Pages sbrk maps above it later are heap.
    pub freed_below_sz: Option<u64>,
}

impl Proc {
    /// An unused slot.
    #[must_use]
    pub fn unused(slot: u32) -> Proc {
        Proc {
            slot,
            pid: 0,
            state: ProcState::Unused,
            parent: None,
            sz: 0,
            root: PhysAddr::new(0),
            kstack: 0,
            trapframe: PhysAddr::new(0),
            name: String::new(),
            killed: false,
            regs: UserRegs::default(),
            image: None,
            shm: Vec::new(),
            holes: Vec::new(),
            shm_copies: Vec::new(),
            shmemaddr: 0,
            freed_below_sz: None,
        }
    }

    /// True for a slot holding a process (anything but unused).
    #[must_use]
    pub fn is_live(&self) -> bool {
        self.state != ProcState::Unused
    }
}

/// The process table (xv6: `ptable`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProcTable {
    /// The slots.
    pub procs: Vec<Proc>,
    /// The next pid to hand out (xv6 starts at 1).
    pub nextpid: u32,
    /// The first process's pid, once made.
    pub initproc: Option<u32>,
}

impl ProcTable {
    /// `nproc` unused slots.
    #[must_use]
    pub fn new(nproc: u32) -> ProcTable {
        ProcTable { procs: (0..nproc).map(Proc::unused).collect(), nextpid: 1, initproc: None }
    }

    /// The first unused slot, as allocproc's scan finds it.
    #[must_use]
    pub fn free_slot(&self) -> Option<usize> {
        self.procs.iter().position(|p| p.state == ProcState::Unused)
    }

    /// The live process with `pid`.
    #[must_use]
    pub fn get(&self, pid: u32) -> Option<&Proc> {
        self.procs.iter().find(|p| p.is_live() && p.pid == pid)
    }

    /// The live process with `pid`, mutably.
    pub fn get_mut(&mut self, pid: u32) -> Option<&mut Proc> {
        self.procs.iter_mut().find(|p| p.is_live() && p.pid == pid)
    }

    /// Slot index of the live process with `pid`.
    #[must_use]
    pub fn slot_of(&self, pid: u32) -> Option<usize> {
        self.procs.iter().position(|p| p.is_live() && p.pid == pid)
    }

    /// Pids of `pid`'s children.
    #[must_use]
    pub fn children(&self, pid: u32) -> Vec<u32> {
        self.procs.iter().filter(|p| p.is_live() && p.parent == Some(pid)).map(|p| p.pid).collect()
    }

    /// Live processes.
    pub fn live(&self) -> impl Iterator<Item = &Proc> {
        self.procs.iter().filter(|p| p.is_live())
    }

    /// Pass `pid`'s children to init (xv6: the loop in `exit`, `reparent`).
    /// Returns the pids passed on.
    pub fn reparent(&mut self, pid: u32) -> Vec<u32> {
        let init = self.initproc;
        let mut moved = Vec::new();
        for c in &mut self.procs {
            if c.is_live() && c.parent == Some(pid) {
                c.parent = init;
                moved.push(c.pid);
            }
        }
        moved
    }

    /// What `wait` finds among `pid`'s children, scanning slots in order as
    /// xv6 does: the first zombie's slot and pid, `None` if there are no
    /// children at all (wait returns -1).
    ///
    /// # Errors
    /// [`Reject::WouldBlock`] if there are children but none has exited.
    pub fn zombie_child(&self, pid: u32) -> Result<Option<(usize, u32)>, Reject> {
        let mut any = false;
        for (slot, c) in self.procs.iter().enumerate() {
            if c.is_live() && c.parent == Some(pid) {
                if c.state == ProcState::Zombie {
                    return Ok(Some((slot, c.pid)));
                }
                any = true;
            }
        }
        if any {
            return Err(Reject::WouldBlock {
                why: alloc::format!("pid {pid} has children but none has exited: wait would sleep until one does"),
            });
        }
        Ok(None)
    }

    /// Mark `pid` killed; a sleeping process is woken so it can notice (xv6: `kill`).
    pub fn mark_killed(&mut self, pid: u32) {
        if let Some(p) = self.get_mut(pid) {
            p.killed = true;
            if p.state == ProcState::Sleeping {
                p.state = ProcState::Runnable;
            }
        }
    }

    /// The live process `pid`, if it can make system calls.
    ///
    /// # Errors
    /// [`Reject::NoSuchProcess`], or [`Reject::NotRunnable`] for a zombie.
    pub fn runnable(&self, pid: u32) -> Result<&Proc, Reject> {
        let p = self.get(pid).ok_or(Reject::NoSuchProcess { pid })?;
        match p.state {
            ProcState::Zombie | ProcState::Embryo | ProcState::Unused => {
                Err(Reject::NotRunnable { pid, state: p.state })
            }
            _ => Ok(p),
        }
    }
}
