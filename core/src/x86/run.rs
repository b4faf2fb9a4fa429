//! Running the real user programs on xv6-public: the 32-bit x86 CPU
//! ([`crate::cpu::x86::Cpu`]) driven by the shared runner
//! ([`crate::run::Runner`]).
//!
//! Each process's user registers live where xv6-public keeps them: in its
//! `struct trapframe` at the top of its kernel stack ([`super::tf`]). A
//! trap (`alltraps`) saves the CPU there; `trapret` loads it back. fork
//! copies the parent's trapframe and sets the child's eax to 0; exec sets
//! eip to the entry and esp below argc, argv and a fake return address.
//!
//! A system call is `int $64`: `syscall` takes the number from eax and each
//! argument from the user stack (`fetchint(tf->esp + 4 + 4*n)`, which
//! refuses an address at or above `sz`), and puts the result in eax. The
//! kernel reads and writes user memory through its own view of the
//! process's pages, after `argptr` has checked that the block lies below
//! `sz`; it needs no `PTE_U` (it runs at CPL 0), so only the user's own
//! accesses go through the TLB with user checks.
//!
//! A trap xv6 does not expect from user code (a page fault, trap 14; a
//! divide error, 0; an invalid opcode, 6; a general-protection fault, 13)
//! makes `trap()` print `pid N NAME: trap T err E on cpu C eip 0x.. addr
//! 0x..--kill proc`, and the process exits.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use iced_x86::Instruction;

use super::tf;
use super::{X86Kernel, X86Layout};
use crate::Panic;
use crate::addr::{PGSIZE, PhysAddr, VirtAddr};
use crate::cpu::x86::{Cpu, DecodeCache, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, Stop, UserMem, eflags};
use crate::lab::Fs;
use crate::mem::{Hal, PhysMem, Sim};
use crate::port::Reject;
use crate::programs;
use crate::run::usermem::{ProcMem, UserFault};
use crate::run::{Machine, Trap};
use crate::scheme::{Access, X86};
use crate::shm::ShmMode;
use crate::sys::Port;
use crate::trace::Trace;

/// A machine running the real programs on xv6-public.
pub type Runner<H> = crate::run::Runner<X86Kernel<H>>;

/// The trapframe slot of each of the CPU's registers (`pushal`'s order).
const REG_SLOTS: [(usize, u32); 7] =
    [(EDI, tf::EDI), (ESI, tf::ESI), (EBP, tf::EBP), (EBX, tf::EBX), (EDX, tf::EDX), (ECX, tf::ECX), (EAX, tf::EAX)];

/// `int3`'s vector: its gate has DPL 0 in xv6-public's IDT, so from user
/// mode it is a general-protection fault with error code `8·3 + 2`.
const T_BRKPT: u32 = 3;

impl<H: Hal> X86Kernel<H> {
    /// `pid`'s page directory and size.
    fn image_of(&self, pid: u32) -> Result<(PhysAddr, u64), Reject> {
        let p = self.st.ptable.get(pid).ok_or(Reject::NoSuchProcess { pid })?;
        Ok((p.root, p.sz))
    }

    /// Copy eip, esp and eax from `pid`'s trapframe into `struct proc`'s registers.
    fn sync_regs(&mut self, pid: u32) -> Result<(), Reject> {
        let (eip, esp, eax) = (self.tf(pid, tf::EIP)?, self.tf(pid, tf::ESP)?, self.tf(pid, tf::EAX)?);
        if let Some(p) = self.st.ptable.get_mut(pid) {
            p.regs.pc = u64::from(eip);
            p.regs.sp = u64::from(esp);
            p.regs.a0 = u64::from(eax);
        }
        Ok(())
    }

    /// The physical address of user address `va` as the kernel reaches it
    /// through the page table at `root` (CPL 0: `PTE_P`, and `PTE_W` for a
    /// write; no `PTE_U`). xv6-public's kernel uses the process's own
    /// addresses, so the MMU sets the accessed bit of the entries it walks,
    /// and the dirty bit for a write. (The bits end as on the real machine;
    /// the TLB's counts leave these kernel accesses out.)
    /// Contract: None, and no bit set, if the page is not mapped.
    fn kernel_reach(&mut self, tr: &mut Trace, root: PhysAddr, va: u64, write: bool) -> Result<Option<u64>, Reject> {
        let access = if write { Access::KERNEL_WRITE } else { Access::KERNEL_READ };
        let t = crate::walk::translate::<X86>(&self.st.hw, root, VirtAddr::new(va), access);
        let Ok(m) = &t.outcome else { return Ok(None) };
        let pa = m.pa.as_u64();
        crate::walk::set_accessed::<X86>(&mut self.st.hw, tr, &t)?;
        Ok(Some(pa))
    }

    /// True if `[va, va + n)` lies below `pid`'s size (the check of `argptr` and `fetchint`).
    fn below_sz(&self, pid: u32, va: u64, n: u64) -> bool {
        self.st.ptable.get(pid).is_some_and(|p| va < p.sz && va.checked_add(n).is_some_and(|e| e <= p.sz))
    }
}

impl<H: Hal> Machine for X86Kernel<H> {
    type Cpu = Cpu;
    type Decode = DecodeCache;
    type Walk = X86;
    const TRAP: &'static str = "trap";
    const EXIT_STATUS: bool = false;
    const PTR: u64 = 4;

    /// Contract: eip, widened.
    fn pc(cpu: &Cpu) -> u64 {
        u64::from(cpu.eip)
    }

    /// Contract: `int $64` leaves eip past it (a trap); every other stop
    /// is a fault, with eip at the instruction.
    fn step<M: PhysMem>(
        cpu: &mut Cpu,
        decode: Option<&mut DecodeCache>,
        mem: &mut ProcMem<'_, M, X86>,
    ) -> Result<(), Trap> {
        let done = match decode {
            Some(cache) => cpu.step_cached(mem, cache),
            None => cpu.step(mem),
        };
        match done {
            Ok(()) => Ok(()),
            Err(Stop::Syscall) => Err(Trap::Syscall),
            Err(Stop::Fault(f)) => Err(Trap::Fault(f)),
            Err(Stop::DivideError) => Err(Trap::Kill {
                code: 0,
                err: 0,
                tval: None,
                what: format!("divide error at {:#x}: division by zero, or a quotient too big", cpu.eip),
            }),
            Err(Stop::Illegal(i)) => {
                Err(Trap::Kill { code: u64::from(i.trapno), err: u64::from(i.err), tval: None, what: i.to_string() })
            }
            Err(Stop::Breakpoint) => {
                // The int3 faults (its gate is for the kernel only): eip stays at it.
                cpu.eip = cpu.eip.wrapping_sub(1);
                cpu.instret = cpu.instret.saturating_sub(1);
                Err(Trap::Kill {
                    code: 13,
                    err: u64::from(8 * T_BRKPT + 2),
                    tval: None,
                    what: format!(
                        "int3 at {:#x}: the breakpoint gate is for the kernel only: a general-protection fault",
                        cpu.eip
                    ),
                })
            }
        }
    }

    /// `T_PGFLT` with the error code the MMU pushed (P, W, U).
    const BSIZE: u64 = 512;

    fn user_regs(cpu: &Cpu) -> Vec<(&'static str, u64)> {
        let names = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
        let mut v: Vec<(&'static str, u64)> = names.iter().zip(cpu.regs).map(|(&n, r)| (n, u64::from(r))).collect();
        v.push(("eip", u64::from(cpu.eip)));
        v
    }

    fn page_fault(f: &UserFault) -> (u64, u64) {
        (14, f.fault.code)
    }

    /// `alltraps`: the segment registers and `pushal`'s eight words go
    /// below what the CPU pushed (error code, eip, cs, eflags, esp, ss).
    fn save_cpu(&mut self, pid: u32, cpu: &Cpu, trapno: u64, err: u64) -> Result<(), Reject> {
        let kstack = self.st.ptable.get(pid).ok_or(Reject::NoSuchProcess { pid })?.kstack;
        // pushal pushes the esp it started with: just above itself, at &tf->gs (kernel virtual).
        let oesp = X86Layout::p2v((tf::of(kstack) + u64::from(tf::GS)) as u32);
        let mut words: Vec<(u32, u32)> = REG_SLOTS.iter().map(|&(r, off)| (off, cpu.regs[r])).collect();
        words.extend([
            (tf::OESP, oesp),
            (tf::GS, 0),
            (tf::FS, 0),
            (tf::ES, tf::UDATA),
            (tf::DS, tf::UDATA),
            (tf::TRAPNO, trapno as u32),
            (tf::ERR, err as u32),
            (tf::EIP, cpu.eip),
            (tf::CS, tf::UCODE),
            (tf::EFLAGS, cpu.eflags),
            (tf::ESP, cpu.regs[ESP]),
            (tf::SS, tf::UDATA),
        ]);
        for (off, v) in words {
            self.set_tf(pid, off, v)?;
        }
        self.sync_regs(pid)
    }

    /// `trapret`: `popal`, the segments, and `iret` to eip, cs, eflags, esp, ss.
    fn load_cpu(&self, pid: u32, cpu: &mut Cpu) -> Result<(), Reject> {
        for &(r, off) in &REG_SLOTS {
            cpu.regs[r] = self.tf(pid, off)?;
        }
        cpu.regs[ESP] = self.tf(pid, tf::ESP)?;
        cpu.eip = self.tf(pid, tf::EIP)?;
        cpu.eflags = self.tf(pid, tf::EFLAGS)? | eflags::RESERVED;
        Ok(())
    }

    /// Nothing: eip is past the `int` already, as the CPU leaves a trap.
    fn syscall_trap(&mut self, _pid: u32) -> Result<(), Reject> {
        Ok(())
    }

    /// The scheduler's `switchkvm` after `swtch` comes back to it.
    fn sched(&mut self, tr: &mut Trace) {
        self.switchkvm(tr);
    }

    /// `syscall`: `num = curproc->tf->eax`.
    fn syscall_num(&mut self, pid: u32) -> Result<u64, Reject> {
        Ok(u64::from(self.tf(pid, tf::EAX)?))
    }

    /// `curproc->tf->eax = syscalls[num]()`.
    fn set_return(&mut self, pid: u32, v: i64) -> Result<(), Reject> {
        self.set_tf(pid, tf::EAX, v as u32)?;
        self.sync_regs(pid)
    }

    /// `argint(n)`: `fetchint(tf->esp + 4 + 4*n)` (skipping the return address).
    fn argraw(&mut self, tr: &mut Trace, pid: u32, n: usize) -> Result<Option<u64>, Reject> {
        let esp = self.tf(pid, tf::ESP)?;
        let at = u64::from(esp.wrapping_add(4).wrapping_add(4 * n as u32));
        // fetchint: `if(addr >= curproc->sz || addr+4 > curproc->sz) return -1`,
        // then the kernel reads the word.
        if !self.below_sz(pid, at, 4) {
            return Ok(None);
        }
        let b = self.user_in(tr, pid, at, 4)?;
        Ok(b.map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))))
    }

    /// `argptr`: `if((uint)i >= curproc->sz || (uint)i+size > curproc->sz) return -1`.
    fn argptr(&self, pid: u32, addr: u64, n: u64) -> bool {
        // argptr first refuses a negative size.
        i32::try_from(n).is_ok() && self.below_sz(pid, addr, n)
    }

    /// The kernel reads `*(char *)va` through the process's page table: below `sz`.
    fn user_in(&mut self, tr: &mut Trace, pid: u32, va: u64, len: u64) -> Result<Option<Vec<u8>>, Reject> {
        if len > 0 && !self.below_sz(pid, va, len) {
            return Ok(None);
        }
        let (root, _) = self.image_of(pid)?;
        self.user_in_at(tr, root, va, len)
    }

    /// The kernel writes through the process's page table: below `sz`.
    fn user_out(&mut self, tr: &mut Trace, pid: u32, va: u64, bytes: &[u8]) -> Result<bool, Reject> {
        if !bytes.is_empty() && !self.below_sz(pid, va, bytes.len() as u64) {
            return Ok(false);
        }
        let (root, _) = self.image_of(pid)?;
        let mut done = 0usize;
        while done < bytes.len() {
            let a = va + done as u64;
            let n = ((PGSIZE - (a & (PGSIZE - 1))) as usize).min(bytes.len() - done);
            let Some(pa) = self.kernel_reach(tr, root, a, true)? else { return Ok(false) };
            self.st.hw.write(pa, &bytes[done..done + n]).map_err(|e| Panic(format!("user_out: {e}")))?;
            done += n;
        }
        Ok(true)
    }

    /// `fetchstr`: the bytes from `va` to the first NUL, which must come
    /// before `sz` (xv6-public sets no other limit; `max` is not used).
    fn user_str(&mut self, tr: &mut Trace, pid: u32, va: u64, _max: u64) -> Result<Option<Vec<u8>>, Reject> {
        let (root, sz) = self.image_of(pid)?;
        let mut s = Vec::new();
        let mut a = va;
        while a < sz {
            let n = (PGSIZE - (a & (PGSIZE - 1))).min(sz - a);
            let Some(chunk) = self.user_in_at(tr, root, a, n)? else { return Ok(None) };
            if let Some(end) = chunk.iter().position(|&c| c == 0) {
                s.extend_from_slice(&chunk[..end]);
                return Ok(Some(s));
            }
            s.extend_from_slice(&chunk);
            a += n;
        }
        Ok(None)
    }

    /// `struct stat`: type (short), dev (int), ino (uint), nlink (short), size (uint): 20 bytes.
    fn stat(dev: i32, ino: u32, ty: u16, nlink: u16, size: u64) -> Vec<u8> {
        let mut st = alloc::vec![0u8; 20];
        st[0..2].copy_from_slice(&ty.to_le_bytes());
        st[4..8].copy_from_slice(&dev.to_le_bytes());
        st[8..12].copy_from_slice(&ino.to_le_bytes());
        st[12..14].copy_from_slice(&nlink.to_le_bytes());
        st[16..20].copy_from_slice(&(size as u32).to_le_bytes());
        st
    }

    const EXEC_MISSING: &'static str = "exec: fail\n";
    const CREATE_OPENS_DEVICES: bool = false;
    const NEGATIVE_SIZE_FAILS: bool = true;

    /// startothers starts the other CPUs in turn, each printing from mpmain
    /// before the next is started, then the boot CPU's own mpmain prints;
    /// the first process's forkret then reads the superblock (iinit). Its
    /// figures are those mkfs gives xv6-public's fs.img (FSSIZE 1000 blocks,
    /// 200 inodes, a 30-block log from block 2, 26 inode blocks from 32, the
    /// bitmap at 58, 941 data blocks): pagelab keeps its files in a directory
    /// of its own, but prints what xv6 prints.
    fn boot_banner(&self) -> String {
        let mut s = String::new();
        for c in (1..self.layout.ncpu).chain(0..1) {
            s.push_str(&format!("cpu{c}: starting {c}\n"));
        }
        s.push_str("sb: size 1000 nblocks 941 ninodes 200 nlog 30 logstart 2 inodestart 32 bmap start 58\n");
        s
    }

    /// trap()'s `cprintf("pid %d %s: trap %d err %d on cpu %d eip 0x%x addr 0x%x--kill proc\n", ...)`.
    fn trap_message(&self, pid: u32, code: u64, err: u64, tval: u64, pc: u64) -> String {
        let name = self.st.ptable.get(pid).map(|p| p.name.clone()).unwrap_or_default();
        let cpu = self.st.cpu;
        format!("pid {pid} {name}: trap {code} err {err} on cpu {cpu} eip {pc:#x} addr {tval:#x}--kill proc\n")
    }
}

impl<H: Hal> X86Kernel<H> {
    /// `len` bytes at user address `va` through the page table at `root`,
    /// as the kernel reads them (see [`X86Kernel::kernel_reach`]).
    /// Contract: None if a page is not mapped.
    fn user_in_at(&mut self, tr: &mut Trace, root: PhysAddr, va: u64, len: u64) -> Result<Option<Vec<u8>>, Reject> {
        let Ok(size) = usize::try_from(len) else { return Ok(None) };
        let mut out = alloc::vec![0u8; size];
        let mut done = 0u64;
        while done < len {
            let a = va + done;
            let n = (PGSIZE - (a & (PGSIZE - 1))).min(len - done);
            let Some(pa) = self.kernel_reach(tr, root, a, false)? else { return Ok(None) };
            if self.st.hw.read(pa, &mut out[done as usize..(done + n) as usize]).is_err() {
                return Ok(None);
            }
            done += n;
        }
        Ok(Some(out))
    }
}

impl Runner<Sim> {
    /// Boot xv6-public with `layout` over simulated memory, with the
    /// built-in programs (`/init`, `/sh`, `/echo`, `/deep`) and initcode,
    /// and make the first process.
    ///
    /// # Errors
    /// A [`Reject`] if the layout is impossible.
    pub fn boot(layout: X86Layout) -> Result<Runner<Sim>, Reject> {
        Runner::boot_with(layout, Fs::builtin(Port::Xv6Public))
    }

    /// [`Runner::boot`] with exec finding its programs in `fs`.
    ///
    /// # Errors
    /// As [`Runner::boot`].
    pub fn boot_with(layout: X86Layout, fs: Fs) -> Result<Runner<Sim>, Reject> {
        let hw = Sim::new(0, u64::from(layout.phystop));
        let init = programs::initcode(Port::Xv6Public).to_vec();
        let k = X86Kernel::boot(layout, hw, init, ShmMode::Lab, &mut Trace::counting_only())?;
        Runner::new(k, fs)
    }
}

/// User memory read for display: through the page table, without the TLB
/// or the accessed bits, with the user's checks.
struct Peek<'a, M: PhysMem> {
    /// Physical memory.
    mem: &'a M,
    /// The page directory.
    root: PhysAddr,
}

impl<M: PhysMem> UserMem for Peek<'_, M> {
    type Fault = ();

    /// Two bytes at `va`, or () if the user may not fetch them.
    fn fetch16(&mut self, va: u64) -> Result<u16, ()> {
        self.load(va, 2).map(|v| v as u16)
    }

    /// `bytes` bytes at `va`, each page checked for the user (P and U), or ().
    fn load(&mut self, va: u64, bytes: u8) -> Result<u64, ()> {
        let mut b = [0u8; 8];
        for (i, byte) in b.iter_mut().enumerate().take(usize::from(bytes.min(8))) {
            let a = va.wrapping_add(i as u64);
            let m =
                crate::walk::lookup::<X86>(self.mem, self.root, VirtAddr::new(a), Access::USER_EXEC).map_err(|_| ())?;
            let mut one = [0u8];
            self.mem.read(m.pa.as_u64(), &mut one).map_err(|_| ())?;
            *byte = one[0];
        }
        Ok(u64::from_le_bytes(b))
    }

    /// Display never stores: always ().
    fn store(&mut self, _va: u64, _bytes: u8, _v: u64) -> Result<(), ()> {
        Err(())
    }
}

impl<H: Hal> Runner<H> {
    /// The instruction the current process runs next, decoded without
    /// touching the TLB or the accessed bits (for display; [`crate::cpu::x86::Att`] prints it).
    #[must_use]
    pub fn next_instruction(&self) -> Option<(u32, Instruction)> {
        let (pid, cpu) = self.current()?;
        let k = self.kernel();
        let root = k.st.ptable.get(pid)?.root;
        let mut peek = Peek { mem: &k.st.hw, root };
        cpu.fetch(&mut peek).ok().map(|i| (cpu.eip, i))
    }
}
