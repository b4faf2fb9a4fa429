//! xv6-public's `vm.c`: page directories, page tables and user memory.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{KERNBASE, X86Kernel, X86Layout};
use crate::OrPanic as _;
use crate::addr::{PGROUNDDOWN, PGROUNDUP, PGSIZE, PhysAddr, VirtAddr};
use crate::mem::Hal;
use crate::scheme::X86;
use crate::scheme::x86::{NPDENTRIES, PDX, PGADDR, PTE_ADDR, PTE_FLAGS, PTE_P, PTE_U, PTE_W, PTX};
use crate::trace::{Event, Owner, Trace};
use crate::walk;
use crate::{Panic, VmFail};

const PG: u32 = PGSIZE as u32;

/// PGROUNDUP on a `uint`: it wraps to 0 above the last page, as C's does.
fn pgroundup(a: u32) -> u32 {
    PGROUNDUP(u64::from(a)) as u32
}

fn pgrounddown(a: u32) -> u32 {
    PGROUNDDOWN(u64::from(a)) as u32
}

/// Owner of page-table pages made for `pid` (or for the kernel's own table).
pub(crate) fn table_owner(pid: Option<u32>) -> Owner {
    pid.map_or(Owner::KernelPageTable, |pid| Owner::PageTable { pid })
}

/// A physical address as xv6-public's 32-bit `uint`. Every frame and table
/// of the x86 machine lies below PHYSTOP (at most 0xE000000), so a wider
/// address here is a broken invariant, never silent truncation.
pub(crate) fn pa32(pa: PhysAddr) -> u32 {
    match pa.to_u32() {
        Some(a) => a,
        None => panic!("x86: physical address {pa} does not fit 32 bits"),
    }
}

/// A user virtual address or size as xv6-public's `uint`. User space ends
/// at KERNBASE, so a wider value here is a broken invariant.
pub(crate) fn va32(a: u64) -> u32 {
    match u32::try_from(a) {
        Ok(v) => v,
        Err(_) => panic!("x86: user address {a:#x} does not fit 32 bits"),
    }
}

impl<H: Hal> X86Kernel<H> {
    /// Take a free frame for `owner` (xv6: `kalloc`), as a 32-bit address; None when memory has run out.
    pub(crate) fn kalloc(&mut self, tr: &mut Trace, owner: Owner) -> Option<u32> {
        self.st.kalloc(tr, owner).map(pa32)
    }

    /// Give frame `pa` back (xv6: `kfree`).
    pub(crate) fn kfree(&mut self, tr: &mut Trace, pa: u32) -> Result<(), Panic> {
        self.st.kfree(tr, PhysAddr::from(pa))
    }

    /// Read the entry at physical address `pte`.
    pub(crate) fn rd(&self, pte: u32) -> Result<u32, Panic> {
        Ok(walk::read_entry::<X86>(&self.st.hw, u64::from(pte))? as u32)
    }

    /// Write `new` to the level-`level` entry at `pte`, which maps `va`.
    pub(crate) fn wr(&mut self, tr: &mut Trace, level: u32, pte: u32, va: u32, new: u32) -> Result<(), Panic> {
        walk::write_entry::<X86>(&mut self.st.hw, tr, level, u64::from(pte), u64::from(va), u64::from(new))
    }

    /// Return the address of the PTE in page table `pgdir` that corresponds to
    /// virtual address `va`. If `alloc` names an owner, create any required
    /// page table pages for it.
    ///
    /// # Errors
    /// A [`Panic`] if the directory holds a large-page entry or points outside RAM.
    pub fn walkpgdir(
        &mut self,
        tr: &mut Trace,
        pgdir: u32,
        va: u32,
        alloc: Option<Owner>,
    ) -> Result<Option<u32>, Panic> {
        tr.quiet("walkpgdir", |tr| {
            let (root, va) = (PhysAddr::from(pgdir), VirtAddr::new(u64::from(va)));
            let r = walk::walk::<X86>(&mut self.st.hw, &mut self.st.kmem, tr, root, va, alloc)?;
            Ok(r.map(pa32))
        })
    }

    /// Create PTEs for virtual addresses starting at `va` that refer to
    /// physical addresses starting at `pa`. `va` and `size` might not be
    /// page-aligned. New page-table pages belong to `owner`.
    ///
    /// # Errors
    /// [`VmFail::OutOfMemory`] if a page table could not be allocated;
    /// [`VmFail::Remap`] (xv6: `panic("remap")`) if a page is mapped already.
    pub fn mappages(
        &mut self,
        tr: &mut Trace,
        pgdir: u32,
        va: u32,
        size: u32,
        pa: u32,
        perm: u32,
        owner: Owner,
    ) -> Result<(), VmFail> {
        tr.call(
            "mappages",
            || {
                format!(
                    "pgdir={:#x}, va={va:#x}, size={size:#x}, pa={pa:#x}, perm={}",
                    X86Layout::p2v(pgdir),
                    crate::scheme::SchemeKind::X86.flag_names(u64::from(perm))
                )
            },
            |tr| {
                let mut a = pgrounddown(va);
                let last = pgrounddown(va.wrapping_add(size).wrapping_sub(1));
                let mut pa = pa;
                // A page table at a time: walkpgdir finds (or makes) the table of
                // the first page; the next pages under the same directory entry
                // have the next entries (mappages changes no directory entry there).
                loop {
                    let pte = match self.walkpgdir(tr, pgdir, a, Some(owner))? {
                        Some(pte) => pte,
                        None => return Err(VmFail::OutOfMemory),
                    };
                    let left = last.wrapping_sub(a) / PG + 1;
                    let run = left.min(1024 - PTX(a));
                    let first = u64::from(pa | perm | PTE_P);
                    let remap = walk::map_run::<X86>(
                        &mut self.st.hw,
                        tr,
                        u64::from(pte),
                        u64::from(a),
                        u64::from(run),
                        first,
                        u64::from(PG),
                    )?;
                    if let Some(va) = remap {
                        return Err(VmFail::Remap { va });
                    }
                    if run == left {
                        break;
                    }
                    a = a.wrapping_add(run * PG);
                    pa = pa.wrapping_add(run * PG);
                }
                Ok(())
            },
        )
    }

    /// Set up the kernel part of a page table: a new page directory with
    /// every [`X86Kernel::kmap`] mapping. Returns its physical address.
    ///
    /// # Errors
    /// [`VmFail::OutOfMemory`] when memory runs out (after freeing what it
    /// made; xv6 returns 0); a panic for a layout xv6 refuses (`PHYSTOP too high`).
    pub fn setupkvm(&mut self, tr: &mut Trace, pid: Option<u32>) -> Result<u32, VmFail> {
        tr.call("setupkvm", String::new, |tr| {
            let root_owner = pid.map_or(Owner::KernelPageTable, |pid| Owner::PageDir { pid });
            let Some(pgdir) = self.kalloc(tr, root_owner) else {
                return Err(VmFail::OutOfMemory);
            };
            self.st.hw.fill(u64::from(pgdir), PGSIZE, 0).or_panic("setupkvm")?;
            if X86Layout::p2v(self.layout.phystop) > super::DEVSPACE {
                return Err(Panic("PHYSTOP too high".into()).into());
            }
            for k in self.kmap() {
                let size = k.phys_end.wrapping_sub(k.phys_start);
                match self.mappages(tr, pgdir, k.virt, size, k.phys_start, k.perm, table_owner(pid)) {
                    Err(VmFail::OutOfMemory) => {
                        self.freevm(tr, pgdir)?;
                        return Err(VmFail::OutOfMemory);
                    }
                    r => r.or_panic("setupkvm")?,
                }
            }
            Ok(pgdir)
        })
    }

    /// Allocate one page table for the machine for use by the scheduler
    /// (xv6: `kvmalloc`), and switch to it.
    ///
    /// # Errors
    /// A [`Panic`] if memory runs out at boot.
    pub fn kvmalloc(&mut self, tr: &mut Trace) -> Result<(), Panic> {
        let pgdir = match self.setupkvm(tr, None) {
            Err(VmFail::OutOfMemory) => return Err(Panic("kvmalloc: out of memory".into())),
            r => r.or_panic("kvmalloc")?,
        };
        self.kpgdir = pgdir;
        self.switchkvm(tr);
        Ok(())
    }

    /// Switch the hardware page table register to the kernel-only page table
    /// (xv6: `switchkvm`).
    pub fn switchkvm(&mut self, tr: &mut Trace) {
        tr.quiet("switchkvm", |tr| {
            self.st.hw.load_root(u64::from(self.kpgdir));
            tr.push(Event::LoadRoot { root: PhysAddr::new(u64::from(self.kpgdir)), pid: None });
            self.st.tlb_flush(tr);
        });
        self.st.set_cur(None);
    }

    /// Switch the TSS and the page table register to process `pid`'s
    /// (xv6: `switchuvm`).
    pub fn switchuvm(&mut self, tr: &mut Trace, pid: u32) {
        let Some(root) = self.st.ptable.get(pid).map(|p| p.root) else { return };
        tr.call(
            "switchuvm",
            || format!("pid {pid}"),
            |tr| {
                self.st.hw.load_root(root.as_u64());
                tr.push(Event::LoadRoot { root, pid: Some(pid) });
                self.st.tlb_flush(tr);
            },
        );
        self.st.set_cur(Some(pid));
    }

    /// Load the initcode into address 0 of `pgdir`. `init.len()` must be less than a page.
    ///
    /// # Errors
    /// xv6's panics: `inituvm: more than a page`, or out of memory (which xv6 does not check).
    pub fn inituvm(&mut self, tr: &mut Trace, pgdir: u32, init: &[u8], pid: u32) -> Result<(), Panic> {
        tr.call(
            "inituvm",
            || format!("pgdir={:#x}, sz={:#x}", X86Layout::p2v(pgdir), init.len()),
            |tr| {
                if init.len() as u64 >= PGSIZE {
                    return Err(Panic("inituvm: more than a page".into()));
                }
                let Some(mem) = self.kalloc(tr, Owner::User { pid }) else {
                    return Err(Panic("inituvm: out of memory".into()));
                };
                self.st.hw.fill(u64::from(mem), PGSIZE, 0).or_panic("inituvm")?;
                self.mappages(tr, pgdir, 0, PG, mem, PTE_W | PTE_U, Owner::PageTable { pid }).or_panic("inituvm")?;
                self.st.hw.write(u64::from(mem), init).or_panic("inituvm")?;
                tr.push(Event::Load {
                    va: VirtAddr::new(0),
                    pa: PhysAddr::from(mem),
                    file_off: 0,
                    len: init.len() as u64,
                });
                Ok(())
            },
        )
    }

    /// Load a program segment into `pgdir`. `addr` must be page-aligned and
    /// the pages from `addr` to `addr + sz` must already be mapped. Returns
    ///
    /// # Errors
    /// [`VmFail::FileTooShort`] if `readi` returns fewer bytes (xv6 returns
    /// -1); xv6's panics if `addr` is unaligned or a page is missing.
    pub fn loaduvm(
        &mut self,
        tr: &mut Trace,
        pgdir: u32,
        addr: u32,
        file: &[u8],
        offset: u32,
        sz: u32,
    ) -> Result<(), VmFail> {
        tr.call(
            "loaduvm",
            || format!("pgdir={:#x}, addr={addr:#x}, offset={offset:#x}, sz={sz:#x}", X86Layout::p2v(pgdir)),
            |tr| {
                if !addr.is_multiple_of(PG) {
                    return Err(Panic("loaduvm: addr must be page aligned".into()).into());
                }
                let mut i = 0u32;
                while i < sz {
                    let Some(pte) = self.walkpgdir(tr, pgdir, addr.wrapping_add(i), None)? else {
                        return Err(Panic("loaduvm: address should exist".into()).into());
                    };
                    let pa = PTE_ADDR(self.rd(pte)?);
                    let n = (sz - i).min(PG);
                    // readi: read n bytes at offset+i, or fewer at the end of the file.
                    let start = u64::from(offset) + u64::from(i);
                    let avail = (file.len() as u64).saturating_sub(start);
                    let got = avail.min(u64::from(n));
                    if got > 0 {
                        let s = start as usize;
                        self.st.hw.write(u64::from(pa), &file[s..s + got as usize]).or_panic("loaduvm")?;
                        tr.push(Event::Load {
                            va: VirtAddr::new(u64::from(addr.wrapping_add(i))),
                            pa: PhysAddr::new(u64::from(pa)),
                            file_off: start,
                            len: got,
                        });
                    }
                    if got != u64::from(n) {
                        tr.fail(format!("readi read {got} of {n} bytes: the segment runs past the end of the file"));
                        return Err(VmFail::FileTooShort);
                    }
                    i += PG;
                }
                Ok(())
            },
        )
    }

    /// Allocate page tables and physical memory to grow a process from
    /// `oldsz` to `newsz`, which need not be page aligned. Returns the new size.
    ///
    /// # Errors
    /// [`VmFail::TooBig`] if `newsz` reaches KERNBASE, [`VmFail::OutOfMemory`]
    /// when kalloc fails (after giving back what this call allocated); xv6
    /// returns 0 for both.
    pub fn allocuvm(&mut self, tr: &mut Trace, pgdir: u32, oldsz: u32, newsz: u32, pid: u32) -> Result<u32, VmFail> {
        tr.call(
            "allocuvm",
            || format!("pgdir={:#x}, oldsz={oldsz:#x}, newsz={newsz:#x}", X86Layout::p2v(pgdir)),
            |tr| {
                if newsz >= KERNBASE {
                    tr.fail("newsz >= KERNBASE: allocuvm returns 0");
                    return Err(VmFail::TooBig);
                }
                if newsz < oldsz {
                    return Ok(oldsz);
                }
                let mut a = pgroundup(oldsz);
                while a < newsz {
                    let Some(mem) = self.kalloc(tr, Owner::User { pid }) else {
                        tr.printed("allocuvm out of memory");
                        self.deallocuvm(tr, pgdir, newsz, oldsz)?;
                        return Err(VmFail::OutOfMemory);
                    };
                    self.st.hw.fill(u64::from(mem), PGSIZE, 0).or_panic("allocuvm")?;
                    match self.mappages(tr, pgdir, a, PG, mem, PTE_W | PTE_U, Owner::PageTable { pid }) {
                        Err(VmFail::OutOfMemory) => {
                            tr.printed("allocuvm out of memory (2)");
                            self.deallocuvm(tr, pgdir, newsz, oldsz)?;
                            self.kfree(tr, mem)?;
                            return Err(VmFail::OutOfMemory);
                        }
                        // xv6-public's mappages panics "remap" itself.
                        Err(VmFail::Remap { .. }) => return Err(Panic("remap".into()).into()),
                        r => r?,
                    }
                    a += PG;
                }
                Ok(newsz)
            },
        )
    }

    /// Deallocate user pages to bring the process size from `oldsz` to
    /// `newsz`. `oldsz` and `newsz` need not be page-aligned, nor need `newsz`
    /// be less than `oldsz`. `oldsz` can be larger than the actual process
    /// size. Returns the new process size.
    ///
    /// # Errors
    /// xv6's panic `kfree` for an entry that maps physical page 0 or memory
    /// outside the free range.
    pub fn deallocuvm(&mut self, tr: &mut Trace, pgdir: u32, oldsz: u32, newsz: u32) -> Result<u32, Panic> {
        tr.call(
            "deallocuvm",
            || format!("pgdir={:#x}, oldsz={oldsz:#x}, newsz={newsz:#x}", X86Layout::p2v(pgdir)),
            |tr| {
                if newsz >= oldsz {
                    return Ok(oldsz);
                }
                let mut a = pgroundup(newsz);
                while a < oldsz {
                    match self.walkpgdir(tr, pgdir, a, None)? {
                        None => {
                            // No page table here: skip to the next page-directory entry.
                            a = PGADDR(PDX(a) + 1, 0, 0).wrapping_sub(PG);
                        }
                        Some(pte) => {
                            let e = self.rd(pte)?;
                            if e & PTE_P != 0 {
                                let pa = PTE_ADDR(e);
                                if pa == 0 {
                                    return Err(Panic("kfree".into()));
                                }
                                self.kfree(tr, pa)?;
                                self.wr(tr, 0, pte, a, 0)?;
                            }
                        }
                    }
                    a = a.wrapping_add(PG);
                    if a == 0 {
                        break;
                    }
                }
                Ok(newsz)
            },
        )
    }

    /// Free a page table and all the physical memory pages in the user part
    /// (xv6: `freevm`).
    ///
    /// # Errors
    /// xv6's panics (`kfree`) for a corrupted table.
    pub fn freevm(&mut self, tr: &mut Trace, pgdir: u32) -> Result<(), Panic> {
        tr.call(
            "freevm",
            || format!("pgdir={:#x}", X86Layout::p2v(pgdir)),
            |tr| {
                if pgdir == 0 {
                    return Err(Panic("freevm: no pgdir".into()));
                }
                self.deallocuvm(tr, pgdir, KERNBASE, 0)?;
                for i in 0..NPDENTRIES {
                    let e = self.rd(pgdir + i * 4)?;
                    if e & PTE_P != 0 {
                        self.kfree(tr, PTE_ADDR(e))?;
                    }
                }
                self.kfree(tr, pgdir)
            },
        )
    }

    /// Clear PTE_U on a page. Used to create an inaccessible page beneath
    /// the user stack (xv6: `clearpteu`).
    ///
    /// # Errors
    /// xv6's panic `clearpteu` if the page has no page table.
    pub fn clearpteu(&mut self, tr: &mut Trace, pgdir: u32, uva: u32) -> Result<(), Panic> {
        tr.call(
            "clearpteu",
            || format!("pgdir={:#x}, uva={uva:#x}", X86Layout::p2v(pgdir)),
            |tr| {
                let Some(pte) = self.walkpgdir(tr, pgdir, uva, None)? else {
                    return Err(Panic("clearpteu".into()));
                };
                let e = self.rd(pte)?;
                self.wr(tr, 0, pte, uva, e & !PTE_U)
            },
        )
    }

    /// Given a parent process's page table, create a copy of it for a child
    /// (xv6: `copyuvm`). Pages in `share` are shared, not copied (pagelab's
    /// shared memory); pages in `skip` are holes left by closing a shared page.
    /// Returns the child's page directory.
    ///
    /// # Errors
    /// [`VmFail::OutOfMemory`] when memory runs out, after freeing the copy
    /// (xv6 returns 0); xv6's panics `copyuvm: pte should exist` /
    /// `copyuvm: page not present`.
    pub fn copyuvm(
        &mut self,
        tr: &mut Trace,
        pgdir: u32,
        sz: u32,
        child: u32,
        share: &[u64],
        skip: &[u64],
    ) -> Result<u32, VmFail> {
        tr.call(
            "copyuvm",
            || format!("pgdir={:#x}, sz={sz:#x}", X86Layout::p2v(pgdir)),
            |tr| {
                let d = self.setupkvm(tr, Some(child))?;
                let mut i = 0u32;
                while i < sz {
                    if skip.contains(&u64::from(i)) {
                        i += PG;
                        continue;
                    }
                    let Some(pte) = self.walkpgdir(tr, pgdir, i, None)? else {
                        return Err(Panic("copyuvm: pte should exist".into()).into());
                    };
                    let e = self.rd(pte)?;
                    if e & PTE_P == 0 {
                        return Err(Panic("copyuvm: page not present".into()).into());
                    }
                    let pa = PTE_ADDR(e);
                    let flags = PTE_FLAGS(e);
                    if share.contains(&u64::from(i)) {
                        tr.note(|| format!("{i:#x} is a shared page: the child maps the same frame (pagelab)"));
                        match self.mappages(tr, d, i, PG, pa, flags, Owner::PageTable { pid: child }) {
                            Err(VmFail::OutOfMemory) => {
                                self.unmap_shared(tr, d, share)?;
                                self.freevm(tr, d)?;
                                return Err(VmFail::OutOfMemory);
                            }
                            r => r.or_panic("copyuvm")?,
                        }
                        i += PG;
                        continue;
                    }
                    let Some(mem) = self.kalloc(tr, Owner::User { pid: child }) else {
                        self.unmap_shared(tr, d, share)?;
                        self.freevm(tr, d)?;
                        return Err(VmFail::OutOfMemory);
                    };
                    self.st.hw.copy(u64::from(mem), u64::from(pa), PGSIZE).or_panic("copyuvm")?;
                    tr.push(Event::CopyPage {
                        from: PhysAddr::new(u64::from(pa)),
                        to: PhysAddr::from(mem),
                        va: VirtAddr::new(u64::from(i)),
                    });
                    match self.mappages(tr, d, i, PG, mem, flags, Owner::PageTable { pid: child }) {
                        Err(VmFail::OutOfMemory) => {
                            self.kfree(tr, mem)?;
                            self.unmap_shared(tr, d, share)?;
                            self.freevm(tr, d)?;
                            return Err(VmFail::OutOfMemory);
                        }
                        r => r.or_panic("copyuvm")?,
                    }
                    i += PG;
                }
                Ok(d)
            },
        )
    }

    /// Clear the entries of shared pages in `pgdir`, so that freevm does not
    /// free frames other processes still use (pagelab's shared memory).
    pub(crate) fn unmap_shared(&mut self, tr: &mut Trace, pgdir: u32, vas: &[u64]) -> Result<(), Panic> {
        for &va in vas {
            if let Some(pte) = self.walkpgdir(tr, pgdir, va32(va), None)?
                && self.rd(pte)? & PTE_P != 0
            {
                self.wr(tr, 0, pte, va32(va), 0)?;
            }
        }
        Ok(())
    }

    /// Map user virtual address to kernel address (xv6: `uva2ka`): the
    /// physical address of the page, if it is present and user-accessible.
    pub fn uva2ka(&mut self, tr: &mut Trace, pgdir: u32, uva: u32) -> Result<Option<u32>, Panic> {
        let Some(pte) = self.walkpgdir(tr, pgdir, uva, None)? else { return Ok(None) };
        let e = self.rd(pte)?;
        if e & PTE_P == 0 || e & PTE_U == 0 {
            return Ok(None);
        }
        Ok(Some(PTE_ADDR(e)))
    }

    /// Copy `bytes` to user address `va` in page table `pgdir` (xv6: `copyout`).
    /// Most useful when `pgdir` is not the current page table.
    ///
    /// # Errors
    /// [`VmFail::NotUserPage`] if a page is missing or not user-accessible
    /// (xv6 returns -1); a panic for a corrupted table.
    pub fn copyout(&mut self, tr: &mut Trace, pgdir: u32, va: u32, bytes: &[u8]) -> Result<(), VmFail> {
        tr.call(
            "copyout",
            || format!("pgdir={:#x}, va={va:#x}, len={}", X86Layout::p2v(pgdir), bytes.len()),
            |tr| {
                let mut va = va;
                let mut done = 0usize;
                while done < bytes.len() {
                    let va0 = pgrounddown(va);
                    let Some(pa0) = self.uva2ka(tr, pgdir, va0)? else {
                        tr.fail(format!("copyout: {va0:#x} is not a user page"));
                        return Err(VmFail::NotUserPage { va: u64::from(va0) });
                    };
                    let n = ((PG - (va - va0)) as usize).min(bytes.len() - done);
                    tr.note(|| {
                        let ka0 = X86Layout::p2v(pa0);
                        format!(
                            "uva2ka(pgdir, va0 = {va0:#x}) = P2V({pa0:#x}) = {ka0:#x}: the kernel writes user address {va:#x} at {ka0:#x} + (va - va0) = {:#x} (physical {:#x})",
                            ka0 + (va - va0),
                            pa0 + (va - va0)
                        )
                    });
                    let pa = u64::from(pa0 + (va - va0));
                    self.st.hw.write(pa, &bytes[done..done + n]).or_panic("copyout")?;
                    tr.push(Event::Copyout { va: VirtAddr::new(u64::from(va)), bytes: bytes[done..done + n].to_vec() });
                    done += n;
                    va = va0.wrapping_add(PG);
                }
                Ok(())
            },
        )
    }

    /// The present user pages below `sz` in `pgdir`: (virtual address, physical address).
    pub(crate) fn user_pages(&mut self, tr: &mut Trace, pgdir: u32, sz: u32) -> Result<Vec<(u32, u32)>, Panic> {
        let mut out = Vec::new();
        let mut a = 0u32;
        while a < sz {
            match self.walkpgdir(tr, pgdir, a, None)? {
                None => a = PGADDR(PDX(a) + 1, 0, 0).wrapping_sub(PG),
                Some(pte) => {
                    let e = self.rd(pte)?;
                    if e & PTE_P != 0 {
                        out.push((a, PTE_ADDR(e)));
                    }
                }
            }
            a = a.wrapping_add(PG);
            if a == 0 {
                break;
            }
        }
        Ok(out)
    }
}
