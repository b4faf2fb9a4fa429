//! A process's memory as its user code sees it: every fetch, load and store
//! of the CPU ([`crate::cpu::rv64`], [`crate::cpu::x86`]) goes through this
//! CPU's TLB and, on a miss, the walk of the process's page table (Sv39,
//! or x86's two levels), with the permission checks of user mode: on
//! RISC-V `PTE_U` and `PTE_X`, `PTE_R` or `PTE_W`; on x86 `PTE_P` and
//! `PTE_U`, and `PTE_W` for a store (32-bit paging has no execute bit).
//!
//! Nothing here records an event per access: the TLB's hits, misses and
//! fills are only counted (in a counting-only [`Trace`]), so that running a
//! program costs a lookup per access, not an allocation. A refused access
//! comes back as a [`UserFault`] for `usertrap`.

use crate::addr::{PGSIZE, PhysAddr, VirtAddr};
use crate::mem::PhysMem;
use crate::scheme::{Access, AccessKind, FaultKind, Scheme, SchemeKind};
use crate::tlb::Tlb;
use crate::trace::Trace;
use crate::walk::{self, Fault, OnCpu};

/// A user access the MMU refused: where, what kind, and why (x86: a page
/// fault, trap 14, with `fault.code` its error code and `va` what cr2 holds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFault {
    /// The faulting virtual address (RISC-V: `stval`).
    pub va: u64,
    /// The access that was refused.
    pub access: Access,
    /// Why, with the code the hardware reports (`scause`).
    pub fault: Fault,
}

/// The memory of one process, reached through CPU `cpu`'s TLB and the page
/// table at `root` (what satp or CR3 holds while the process runs in user
/// mode), walked as scheme `S` walks it.
pub struct ProcMem<'a, M: PhysMem, S: Scheme> {
    /// Physical memory.
    pub mem: &'a mut M,
    /// The CPU and its TLB.
    pub on: OnCpu<'a>,
    /// The process's page-table root.
    pub root: PhysAddr,
    /// Where the TLB's events are counted (a counting-only trace).
    pub counts: &'a mut Trace,
    /// The page and frame of the last translation of each kind of access
    /// (fetch, load, store), while the TLB has not changed since: a TLB
    /// hit that skips the lookup. Emptied by any walk or fault.
    memo: [Option<(u64, u64)>; 3],
    /// TLB hits served from `memo` (not in `counts`).
    pub memo_hits: u64,
    /// Every access looks in the TLB itself (its events go to `counts`,
    /// which then records them): "show each access".
    pub show: bool,
    scheme: core::marker::PhantomData<S>,
}

/// The code of an access to memory that is not RAM, by access: RISC-V's
/// access-fault scause; on x86 a protection page fault from user mode.
/// Contract: total.
fn access_fault_code(scheme: SchemeKind, kind: AccessKind) -> u64 {
    match (scheme, kind) {
        (SchemeKind::X86, AccessKind::Write) => 7,
        (SchemeKind::X86, _) => 5,
        (_, AccessKind::Execute) => 1,
        (_, AccessKind::Read) => 5,
        (_, AccessKind::Write) => 7,
    }
}

impl<'a, M: PhysMem, S: Scheme> ProcMem<'a, M, S> {
    /// The memory of the process whose table is at `root`, through CPU
    /// `on`'s TLB, the TLB's work counted in `counts`.
    /// Contract: never fails; nothing is read until an access.
    pub fn new(mem: &'a mut M, on: OnCpu<'a>, root: PhysAddr, counts: &'a mut Trace) -> ProcMem<'a, M, S> {
        ProcMem { mem, on, root, counts, memo: [None; 3], memo_hits: 0, show: false, scheme: core::marker::PhantomData }
    }

    /// The physical address of `va` for `access`, through the TLB.
    /// Contract: `va` is any address; the result is what
    /// [`walk::tlb_translate`] answers, and the TLB ends as it leaves it. A
    /// repeat of the last access of the same kind to the same page, with
    /// no walk since, is that lookup's hit without the lookup.
    #[inline]
    fn translate(&mut self, va: u64, access: Access) -> Result<u64, UserFault> {
        let k = match access.kind {
            AccessKind::Execute => 0,
            AccessKind::Read => 1,
            AccessKind::Write => 2,
        };
        let page = va & !(PGSIZE - 1);
        if let Some((p, frame)) = self.memo[k]
            && p == page
            && !self.show
        {
            self.memo_hits += 1;
            return Ok(frame | (va & (PGSIZE - 1)));
        }
        let misses = self.counts.counts().tlb.misses;
        let r = walk::tlb_translate::<S>(self.mem, &mut self.on, self.counts, self.root, VirtAddr::new(va), access)
            .map(PhysAddr::as_u64);
        if r.is_err() || self.counts.counts().tlb.misses != misses {
            // A walk may have filled or dropped a slot: no memo can be trusted.
            self.memo = [None; 3];
        }
        match r {
            Ok(pa) => {
                self.memo[k] = Some((page, pa & !(PGSIZE - 1)));
                Ok(pa)
            }
            Err(fault) => Err(UserFault { va, access, fault }),
        }
    }

    /// The fault for a frame that is not in RAM (only a corrupted table leads there).
    fn not_ram(va: u64, access: Access) -> UserFault {
        let kind = FaultKind::TableOutsideRam;
        let text = alloc::format!("{va:#x} translates to memory that is not RAM: an access fault");
        UserFault {
            va,
            access,
            fault: Fault { level: None, kind, code: access_fault_code(S::KIND, access.kind), text },
        }
    }

    /// Read `n` (1 to 8) bytes at `va` for `access`, little-endian; an
    /// access that straddles two pages translates each page.
    /// Contract: returns the bytes as the MMU delivers them, or the first refused address.
    fn read_n(&mut self, va: u64, n: u8, access: Access) -> Result<u64, UserFault> {
        let first = (PGSIZE - (va & (PGSIZE - 1))).min(u64::from(n));
        let pa = self.translate(va, access)?;
        if first == u64::from(n) {
            // A 4- or 8-byte word of the same frame is read in one piece
            // (memory's fast path), then cut to the bytes asked for.
            let off = pa & (PGSIZE - 1);
            let n = u64::from(n);
            let w = if n <= 4 && off + 4 <= PGSIZE {
                4
            } else if off + 8 <= PGSIZE {
                8
            } else {
                n
            };
            let v = self.mem.read_word(pa, w).map_err(|_| Self::not_ram(va, access))?;
            return Ok(if n >= 8 { v } else { v & ((1u64 << (8 * n)) - 1) });
        }
        let mut buf = [0u8; 8];
        let (a, b) = buf[..usize::from(n)].split_at_mut(first as usize);
        self.mem.read(pa, a).map_err(|_| Self::not_ram(va, access))?;
        let va2 = va.wrapping_add(first);
        let pa2 = self.translate(va2, access)?;
        self.mem.read(pa2, b).map_err(|_| Self::not_ram(va2, access))?;
        Ok(u64::from_le_bytes(buf))
    }
}

impl<M: PhysMem, S: Scheme> crate::cpu::rv64::UserMem for ProcMem<'_, M, S> {
    type Fault = UserFault;

    /// An instruction fetch: needs `PTE_X` and `PTE_U` (x86: `PTE_P` and `PTE_U`).
    fn fetch16(&mut self, va: u64) -> Result<u16, UserFault> {
        self.read_n(va, 2, Access::USER_EXEC).map(|v| v as u16)
    }

    /// A load: needs `PTE_R` and `PTE_U` (x86: `PTE_P` and `PTE_U`).
    fn load(&mut self, va: u64, bytes: u8) -> Result<u64, UserFault> {
        self.read_n(va, bytes, Access::USER_READ)
    }

    /// A store: needs `PTE_W` and `PTE_U`. Both pages of a straddling
    /// store are checked before either is written.
    fn store(&mut self, va: u64, bytes: u8, v: u64) -> Result<(), UserFault> {
        let access = Access::USER_WRITE;
        let n = u64::from(bytes);
        let first = (PGSIZE - (va & (PGSIZE - 1))).min(n);
        let pa = self.translate(va, access)?;
        if first == n {
            return self.mem.write_word(pa, n, v).map_err(|_| Self::not_ram(va, access));
        }
        let va2 = va.wrapping_add(first);
        let pa2 = self.translate(va2, access)?;
        let b = v.to_le_bytes();
        self.mem.write(pa, &b[..first as usize]).map_err(|_| Self::not_ram(va, access))?;
        self.mem.write(pa2, &b[first as usize..n as usize]).map_err(|_| Self::not_ram(va2, access))
    }
}

/// A TLB to lend a [`ProcMem`] for CPU `cpu`, from the machine's list.
/// Contract: None if there is no such CPU.
pub fn tlb_of(tlbs: &mut [Tlb], cpu: u32) -> Option<OnCpu<'_>> {
    tlbs.get_mut(cpu as usize).map(|tlb| OnCpu { cpu, tlb })
}
