//! xv6-riscv's `vm.c`: the kernel page table, user page tables and copying
//! between them.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{KERNBASE, KSTACK, PLIC, PLIC_SIZE, RiscvKernel, TRAMPOLINE, UART0, VIRTIO0};
use crate::OrPanic as _;
use crate::addr::{PGROUNDDOWN, PGROUNDUP, PGSIZE, PhysAddr, VirtAddr};
use crate::mem::Hal;
use crate::scheme::sv39::{MAXVA, PA2PTE, PTE_FLAGS, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, PTE2PA};
use crate::scheme::{SchemeKind, Sv39};
use crate::trace::{Event, Owner, Trace};
use crate::walk;
use crate::{Panic, VmFail};

fn perm_names(perm: u64) -> String {
    SchemeKind::Sv39.flag_names(perm)
}

impl<H: Hal> RiscvKernel<H> {
    /// Take a free frame for `owner` (xv6: `kalloc`); None when memory has run out.
    pub(crate) fn kalloc(&mut self, tr: &mut Trace, owner: Owner) -> Option<u64> {
        self.st.kalloc(tr, owner).map(PhysAddr::as_u64)
    }

    /// Give frame `pa` back (xv6: `kfree`).
    pub(crate) fn kfree(&mut self, tr: &mut Trace, pa: u64) -> Result<(), Panic> {
        self.st.kfree(tr, PhysAddr::new(pa))
    }

    /// Read the entry at physical address `pte`.
    pub(crate) fn rd(&self, pte: u64) -> Result<u64, Panic> {
        walk::read_entry::<Sv39>(&self.st.hw, pte)
    }

    /// Write `new` to the level-`level` entry at `pte`, which maps `va`.
    pub(crate) fn wr(&mut self, tr: &mut Trace, level: u32, pte: u64, va: u64, new: u64) -> Result<(), Panic> {
        walk::write_entry::<Sv39>(&mut self.st.hw, tr, level, pte, va, new)
    }

    /// Make a direct-map page table for the kernel (xv6: `kvmmake`).
    ///
    /// # Errors
    /// xv6's panics (`kalloc`, `kvmmap`) if memory runs out at boot.
    pub fn kvmmake(&mut self, tr: &mut Trace) -> Result<u64, Panic> {
        tr.call("kvmmake", String::new, |tr| {
            let Some(kpgtbl) = self.kalloc(tr, Owner::KernelPageTable) else {
                return Err(Panic("kalloc".into()));
            };
            self.st.hw.fill(kpgtbl, PGSIZE, 0).or_panic("kvmmake")?;
            let etext = self.layout.etext;
            let top = self.layout.phystop;
            let tramp = self.layout.trampoline;
            // uart registers
            self.kvmmap(tr, kpgtbl, UART0, UART0, PGSIZE, PTE_R | PTE_W)?;
            // virtio mmio disk interface
            self.kvmmap(tr, kpgtbl, VIRTIO0, VIRTIO0, PGSIZE, PTE_R | PTE_W)?;
            // PLIC
            self.kvmmap(tr, kpgtbl, PLIC, PLIC, PLIC_SIZE, PTE_R | PTE_W)?;
            // map kernel text executable and read-only.
            self.kvmmap(tr, kpgtbl, KERNBASE, KERNBASE, etext - KERNBASE, PTE_R | PTE_X)?;
            // map kernel data and the physical RAM we'll make use of.
            self.kvmmap(tr, kpgtbl, etext, etext, top - etext, PTE_R | PTE_W)?;
            // map the trampoline for trap entry/exit to the highest virtual address in the kernel.
            self.kvmmap(tr, kpgtbl, TRAMPOLINE, tramp, PGSIZE, PTE_R | PTE_X)?;
            // allocate and map a kernel stack for each process.
            self.proc_mapstacks(tr, kpgtbl)?;
            Ok(kpgtbl)
        })
    }

    /// Allocate a page for each process's kernel stack. Map it high in
    /// memory, followed by an invalid guard page (xv6: `proc_mapstacks`).
    fn proc_mapstacks(&mut self, tr: &mut Trace, kpgtbl: u64) -> Result<(), Panic> {
        tr.call("proc_mapstacks", String::new, |tr| {
            for p in 0..self.layout.nproc {
                let Some(pa) = self.kalloc(tr, Owner::BootStack { slot: p }) else {
                    return Err(Panic("kalloc".into()));
                };
                let va = KSTACK(u64::from(p));
                self.kvmmap(tr, kpgtbl, va, pa, PGSIZE, PTE_R | PTE_W)?;
            }
            Ok(())
        })
    }

    /// Switch the hardware page table register to the kernel's page table,
    /// and enable paging (xv6: `kvminithart`).
    pub fn kvminithart(&mut self, tr: &mut Trace) {
        tr.call("kvminithart", String::new, |tr| {
            // sfence.vma before (earlier page-table writes finish) and after
            // (stale entries go) the satp write.
            self.st.hw.flush_tlb();
            self.st.tlb_flush(tr);
            self.st.hw.load_root(self.kernel_pagetable);
            tr.push(Event::LoadRoot { root: PhysAddr::new(self.kernel_pagetable), pid: None });
            self.st.hw.flush_tlb();
            self.st.tlb_flush(tr);
        });
        self.st.set_cur(None);
    }

    /// Return the address of the PTE in page table `pagetable` that
    /// corresponds to virtual address `va`. If `alloc` names an owner,
    /// create any required page-table pages (xv6: `walk`).
    ///
    /// # Errors
    /// xv6's panic `walk` for `va >= MAXVA`.
    pub fn walk(
        &mut self,
        tr: &mut Trace,
        pagetable: u64,
        va: u64,
        alloc: Option<Owner>,
    ) -> Result<Option<u64>, Panic> {
        if va >= MAXVA {
            return Err(Panic("walk".into()));
        }
        tr.quiet("walk", |tr| {
            let (root, va) = (PhysAddr::new(pagetable), VirtAddr::new(va));
            Ok(walk::walk::<Sv39>(&mut self.st.hw, &mut self.st.kmem, tr, root, va, alloc)?.map(PhysAddr::as_u64))
        })
    }

    /// Look up a virtual address, return the physical address, or `None`
    /// if not mapped. Can only be used to look up user pages (xv6: `walkaddr`).
    ///
    /// # Errors
    /// A [`Panic`] for a corrupted table.
    pub fn walkaddr(&mut self, tr: &mut Trace, pagetable: u64, va: u64) -> Result<Option<u64>, Panic> {
        if va >= MAXVA {
            return Ok(None);
        }
        let Some(pte) = self.walk(tr, pagetable, va, None)? else { return Ok(None) };
        let e = self.rd(pte)?;
        if e & PTE_V == 0 || e & PTE_U == 0 {
            return Ok(None);
        }
        Ok(Some(PTE2PA(e)))
    }

    /// Add a mapping to the kernel page table. Only used when booting
    /// (xv6: `kvmmap`).
    ///
    /// # Errors
    /// xv6's panic `kvmmap` if mappages fails.
    pub fn kvmmap(&mut self, tr: &mut Trace, kpgtbl: u64, va: u64, pa: u64, sz: u64, perm: u64) -> Result<(), Panic> {
        let args = || format!("kpgtbl, va {va:#x}, pa {pa:#x}, sz {sz:#x}, {}", perm_names(perm));
        match tr.call("kvmmap", args, |tr| self.mappages(tr, kpgtbl, va, sz, pa, perm, Owner::KernelPageTable)) {
            Ok(()) => Ok(()),
            Err(VmFail::Remap { .. }) => Err(Panic("mappages: remap".into())),
            Err(VmFail::Panic(p)) => Err(p),
            Err(_) => Err(Panic("kvmmap".into())),
        }
    }

    /// Create PTEs for virtual addresses starting at `va` that refer to
    /// physical addresses starting at `pa`. `va` and `size` might not be
    /// page-aligned. New page-table pages belong to `owner` (xv6: `mappages`).
    ///
    /// # Errors
    /// [`VmFail::OutOfMemory`] if walk couldn't allocate a needed page-table
    /// page; [`VmFail::Remap`] (xv6: `panic("mappages: remap")`).
    pub fn mappages(
        &mut self,
        tr: &mut Trace,
        pagetable: u64,
        va: u64,
        size: u64,
        pa: u64,
        perm: u64,
        owner: Owner,
    ) -> Result<(), VmFail> {
        tr.call(
            "mappages",
            || format!("pagetable={pagetable:#x}, va={va:#x}, size={size:#x}, pa={pa:#x}, perm={}", perm_names(perm)),
            |tr| {
                if size == 0 {
                    return Err(VmFail::Panic(Panic("mappages: size".into())));
                }
                let mut a = PGROUNDDOWN(va);
                let last = PGROUNDDOWN(va + size - 1);
                let mut pa = pa;
                // A leaf table at a time: walk finds (or makes) the table of the
                // first page; the next pages under the same level-1 entry have
                // the next entries.
                loop {
                    let pte = match self.walk(tr, pagetable, a, Some(owner))? {
                        Some(pte) => pte,
                        None => return Err(VmFail::OutOfMemory),
                    };
                    let left = (last - a) / PGSIZE + 1;
                    let run = left.min(512 - ((a >> 12) & 511));
                    let first = PA2PTE(pa) | perm | PTE_V;
                    if let Some(va) = walk::map_run::<Sv39>(&mut self.st.hw, tr, pte, a, run, first, PA2PTE(PGSIZE))? {
                        return Err(VmFail::Remap { va });
                    }
                    if run == left {
                        break;
                    }
                    a += run * PGSIZE;
                    pa += run * PGSIZE;
                }
                Ok(())
            },
        )
    }

    /// Remove `npages` of mappings starting from `va`. `va` must be
    /// page-aligned. The mappings must exist. Optionally free the physical
    /// memory (xv6: `uvmunmap`).
    ///
    /// # Errors
    /// xv6's panics (`uvmunmap: not aligned`, `walk`, `not mapped`, `not a leaf`).
    pub fn uvmunmap(
        &mut self,
        tr: &mut Trace,
        pagetable: u64,
        va: u64,
        npages: u64,
        do_free: bool,
    ) -> Result<(), Panic> {
        tr.call(
            "uvmunmap",
            || format!("pagetable={pagetable:#x}, va={va:#x}, npages={npages}, do_free={}", u8::from(do_free)),
            |tr| {
                if !va.is_multiple_of(PGSIZE) {
                    return Err(Panic("uvmunmap: not aligned".into()));
                }
                let mut a = va;
                while a < va + npages * PGSIZE {
                    let Some(pte) = self.walk(tr, pagetable, a, None)? else {
                        return Err(Panic("uvmunmap: walk".into()));
                    };
                    let e = self.rd(pte)?;
                    if e & PTE_V == 0 {
                        return Err(Panic("uvmunmap: not mapped".into()));
                    }
                    if PTE_FLAGS(e) == PTE_V {
                        return Err(Panic("uvmunmap: not a leaf".into()));
                    }
                    if do_free {
                        self.kfree(tr, PTE2PA(e))?;
                    }
                    self.wr(tr, 0, pte, a, 0)?;
                    a += PGSIZE;
                }
                Ok(())
            },
        )
    }

    /// Create an empty user page table for `pid` (xv6: `uvmcreate`).
    ///
    /// # Errors
    /// [`VmFail::OutOfMemory`] (xv6 returns 0); a panic if the page is not RAM.
    pub fn uvmcreate(&mut self, tr: &mut Trace, pid: u32) -> Result<u64, VmFail> {
        tr.call("uvmcreate", String::new, |tr| {
            let Some(pt) = self.kalloc(tr, Owner::PageDir { pid }) else {
                return Err(VmFail::OutOfMemory);
            };
            self.st.hw.fill(pt, PGSIZE, 0).or_panic("uvmcreate")?;
            Ok(pt)
        })
    }

    /// Load the user initcode into address 0 of `pagetable`, for the very
    /// first process. `src.len()` must be less than a page (xv6: `uvmfirst`).
    ///
    /// # Errors
    /// xv6's panic `uvmfirst: more than a page`.
    pub fn uvmfirst(&mut self, tr: &mut Trace, pagetable: u64, src: &[u8], pid: u32) -> Result<(), Panic> {
        tr.call(
            "uvmfirst",
            || format!("pagetable={pagetable:#x}, sz={:#x}", src.len()),
            |tr| {
                if src.len() as u64 >= PGSIZE {
                    return Err(Panic("uvmfirst: more than a page".into()));
                }
                let Some(mem) = self.kalloc(tr, Owner::User { pid }) else {
                    return Err(Panic("uvmfirst: out of memory".into()));
                };
                self.st.hw.fill(mem, PGSIZE, 0).or_panic("uvmfirst")?;
                self.mappages(tr, pagetable, 0, PGSIZE, mem, PTE_W | PTE_R | PTE_X | PTE_U, Owner::PageTable { pid })
                    .or_panic("uvmfirst")?;
                self.st.hw.write(mem, src).or_panic("uvmfirst")?;
                tr.push(Event::Load {
                    va: VirtAddr::new(0),
                    pa: PhysAddr::new(mem),
                    file_off: 0,
                    len: src.len() as u64,
                });
                Ok(())
            },
        )
    }

    /// Allocate PTEs and physical memory to grow a process from `oldsz` to
    /// `newsz`, which need not be page aligned. Returns the new size
    /// (xv6: `uvmalloc`).
    ///
    /// # Errors
    /// [`VmFail::OutOfMemory`] after giving back what this call allocated.
    pub fn uvmalloc(
        &mut self,
        tr: &mut Trace,
        pagetable: u64,
        oldsz: u64,
        newsz: u64,
        xperm: u64,
        pid: u32,
    ) -> Result<u64, VmFail> {
        tr.call(
            "uvmalloc",
            || format!("pagetable={pagetable:#x}, oldsz={oldsz:#x}, newsz={newsz:#x}, xperm={}", perm_names(xperm)),
            |tr| {
                if newsz < oldsz {
                    return Ok(oldsz);
                }
                let oldsz = PGROUNDUP(oldsz);
                let mut a = oldsz;
                while a < newsz {
                    let Some(mem) = self.kalloc(tr, Owner::User { pid }) else {
                        self.uvmdealloc(tr, pagetable, a, oldsz)?;
                        return Err(VmFail::OutOfMemory);
                    };
                    self.st.hw.fill(mem, PGSIZE, 0).or_panic("uvmalloc")?;
                    match self.mappages(tr, pagetable, a, PGSIZE, mem, PTE_R | PTE_U | xperm, Owner::PageTable { pid })
                    {
                        Err(VmFail::OutOfMemory) => {
                            self.kfree(tr, mem)?;
                            self.uvmdealloc(tr, pagetable, a, oldsz)?;
                            return Err(VmFail::OutOfMemory);
                        }
                        // xv6-riscv's mappages panics "mappages: remap" itself.
                        Err(VmFail::Remap { .. }) => return Err(Panic("mappages: remap".into()).into()),
                        r => r?,
                    }
                    a += PGSIZE;
                }
                Ok(newsz)
            },
        )
    }

    /// Deallocate user pages to bring the process size from `oldsz` to
    /// `newsz`. `oldsz` and `newsz` need not be page-aligned, nor need
    /// `newsz` be less than `oldsz`. `oldsz` can be larger than the actual
    /// process size. Returns the new process size (xv6: `uvmdealloc`).
    ///
    /// # Errors
    /// uvmunmap's panics.
    pub fn uvmdealloc(&mut self, tr: &mut Trace, pagetable: u64, oldsz: u64, newsz: u64) -> Result<u64, Panic> {
        self.uvmdealloc_holes(tr, pagetable, oldsz, newsz, &[])
    }

    /// [`RiscvKernel::uvmdealloc`], skipping `holes`: pages left unmapped by
    /// closing a shared page (pagelab's shared memory; xv6 has no holes).
    pub(crate) fn uvmdealloc_holes(
        &mut self,
        tr: &mut Trace,
        pagetable: u64,
        oldsz: u64,
        newsz: u64,
        holes: &[u64],
    ) -> Result<u64, Panic> {
        tr.call(
            "uvmdealloc",
            || format!("pagetable={pagetable:#x}, oldsz={oldsz:#x}, newsz={newsz:#x}"),
            |tr| {
                if newsz >= oldsz {
                    return Ok(oldsz);
                }
                if PGROUNDUP(newsz) < PGROUNDUP(oldsz) {
                    let npages = (PGROUNDUP(oldsz) - PGROUNDUP(newsz)) / PGSIZE;
                    self.uvmunmap_holes(tr, pagetable, PGROUNDUP(newsz), npages, holes)?;
                }
                Ok(newsz)
            },
        )
    }

    /// uvmunmap with freeing, in runs between `holes`.
    fn uvmunmap_holes(
        &mut self,
        tr: &mut Trace,
        pagetable: u64,
        va: u64,
        npages: u64,
        holes: &[u64],
    ) -> Result<(), Panic> {
        let end = va + npages * PGSIZE;
        if !holes.iter().any(|&h| h >= va && h < end) {
            return self.uvmunmap(tr, pagetable, va, npages, true);
        }
        let mut start = va;
        let mut a = va;
        while a <= end {
            if a == end || holes.contains(&a) {
                if a > start {
                    self.uvmunmap(tr, pagetable, start, (a - start) / PGSIZE, true)?;
                }
                start = a + PGSIZE;
            }
            a += PGSIZE;
        }
        Ok(())
    }

    /// Recursively free page-table pages. All leaf mappings must already
    /// have been removed (xv6: `freewalk`).
    ///
    /// # Errors
    /// xv6's panic `freewalk: leaf`.
    pub fn freewalk(&mut self, tr: &mut Trace, pagetable: u64) -> Result<(), Panic> {
        tr.call("freewalk", || format!("pagetable={pagetable:#x}"), |tr| self.freewalk_rec(tr, pagetable, 2, 0))
    }

    /// freewalk of the table at `level` whose first entry maps virtual address `base`.
    fn freewalk_rec(&mut self, tr: &mut Trace, pagetable: u64, level: u32, base: u64) -> Result<(), Panic> {
        // there are 2^9 = 512 PTEs in a page table.
        for i in 0..512u64 {
            let at = pagetable + i * 8;
            let pte = self.rd(at)?;
            if pte & PTE_V != 0 && pte & (PTE_R | PTE_W | PTE_X) == 0 {
                // this PTE points to a lower-level page table.
                if level == 0 {
                    return Err(Panic("freewalk: pointer at the last level".into()));
                }
                let va = base + (i << (12 + 9 * level));
                self.freewalk_rec(tr, PTE2PA(pte), level - 1, va)?;
                self.wr(tr, level, at, va, 0)?;
            } else if pte & PTE_V != 0 {
                return Err(Panic("freewalk: leaf".into()));
            }
        }
        self.kfree(tr, pagetable)
    }

    /// Free user memory pages, then free page-table pages (xv6: `uvmfree`).
    ///
    /// # Errors
    /// uvmunmap's and freewalk's panics.
    pub fn uvmfree(&mut self, tr: &mut Trace, pagetable: u64, sz: u64) -> Result<(), Panic> {
        self.uvmfree_holes(tr, pagetable, sz, &[])
    }

    /// [`RiscvKernel::uvmfree`], skipping `holes`.
    pub(crate) fn uvmfree_holes(
        &mut self,
        tr: &mut Trace,
        pagetable: u64,
        sz: u64,
        holes: &[u64],
    ) -> Result<(), Panic> {
        tr.call(
            "uvmfree",
            || format!("pagetable={pagetable:#x}, sz={sz:#x}"),
            |tr| {
                if sz > 0 {
                    self.uvmunmap_holes(tr, pagetable, 0, PGROUNDUP(sz) / PGSIZE, holes)?;
                }
                self.freewalk(tr, pagetable)
            },
        )
    }

    /// Given a parent process's page table, copy its memory into a child's
    /// page table. Copies both the page table and the physical memory.
    /// Pages in `share` are shared, not copied, and `skip` are holes
    /// (pagelab's shared memory) (xv6: `uvmcopy`).
    ///
    /// # Errors
    /// [`VmFail::OutOfMemory`] after freeing any allocated pages (xv6
    /// returns -1); xv6's panics `uvmcopy: pte should exist` /
    /// `uvmcopy: page not present`.
    pub fn uvmcopy(
        &mut self,
        tr: &mut Trace,
        old: u64,
        new: u64,
        sz: u64,
        child: u32,
        share: &[u64],
        skip: &[u64],
    ) -> Result<(), VmFail> {
        tr.call(
            "uvmcopy",
            || format!("old={old:#x}, new={new:#x}, sz={sz:#x}"),
            |tr| {
                let mut i = 0u64;
                let mut done: Vec<u64> = Vec::new();
                // Unmap what was mapped below `upto`. xv6 makes one call over
                // every page below it; with pagelab's shared pages or holes,
                // one call a page (a shared frame is unmapped, not freed).
                let undo = |k: &mut Self, tr: &mut Trace, done: &[u64], upto: u64| -> Result<(), Panic> {
                    if share.is_empty() && skip.is_empty() {
                        return k.uvmunmap(tr, new, 0, upto / PGSIZE, true);
                    }
                    for &va in done {
                        k.uvmunmap(tr, new, va, 1, !share.contains(&va))?;
                    }
                    Ok(())
                };
                while i < sz {
                    if skip.contains(&i) {
                        i += PGSIZE;
                        continue;
                    }
                    let Some(pte) = self.walk(tr, old, i, None)? else {
                        return Err(Panic("uvmcopy: pte should exist".into()).into());
                    };
                    let e = self.rd(pte)?;
                    if e & PTE_V == 0 {
                        return Err(Panic("uvmcopy: page not present".into()).into());
                    }
                    let pa = PTE2PA(e);
                    let flags = PTE_FLAGS(e);
                    let target = if share.contains(&i) {
                        tr.note(|| format!("{i:#x} is a shared page: the child maps the same frame (pagelab)"));
                        pa
                    } else {
                        let Some(mem) = self.kalloc(tr, Owner::User { pid: child }) else {
                            undo(self, tr, &done, i)?;
                            return Err(VmFail::OutOfMemory);
                        };
                        self.st.hw.copy(mem, pa, PGSIZE).or_panic("uvmcopy")?;
                        tr.push(Event::CopyPage {
                            from: PhysAddr::new(pa),
                            to: PhysAddr::new(mem),
                            va: VirtAddr::new(i),
                        });
                        mem
                    };
                    match self.mappages(tr, new, i, PGSIZE, target, flags, Owner::PageTable { pid: child }) {
                        Ok(()) => done.push(i),
                        Err(VmFail::OutOfMemory) => {
                            if target != pa {
                                self.kfree(tr, target)?;
                            }
                            undo(self, tr, &done, i)?;
                            return Err(VmFail::OutOfMemory);
                        }
                        r => r?,
                    }
                    i += PGSIZE;
                }
                Ok(())
            },
        )
    }

    /// Mark a PTE invalid for user access. Used by exec for the user stack
    /// guard page (xv6: `uvmclear`).
    ///
    /// # Errors
    /// xv6's panic `uvmclear`.
    pub fn uvmclear(&mut self, tr: &mut Trace, pagetable: u64, va: u64) -> Result<(), Panic> {
        tr.call(
            "uvmclear",
            || format!("pagetable={pagetable:#x}, va={va:#x}"),
            |tr| {
                let Some(pte) = self.walk(tr, pagetable, va, None)? else {
                    return Err(Panic("uvmclear".into()));
                };
                let e = self.rd(pte)?;
                self.wr(tr, 0, pte, va, e & !PTE_U)
            },
        )
    }

    /// Copy from kernel to user. Copy `src` to virtual address `dstva` in a
    /// given page table (xv6: `copyout`).
    ///
    /// # Errors
    /// [`VmFail::NotUserPage`] (xv6 returns -1); a panic for a corrupted table.
    pub fn copyout(&mut self, tr: &mut Trace, pagetable: u64, dstva: u64, src: &[u8]) -> Result<(), VmFail> {
        tr.call(
            "copyout",
            || format!("pagetable={pagetable:#x}, dstva={dstva:#x}, len={}", src.len()),
            |tr| {
                let mut dstva = dstva;
                let mut done = 0usize;
                while done < src.len() {
                    let va0 = PGROUNDDOWN(dstva);
                    let Some(pa0) = self.walkaddr(tr, pagetable, va0)? else {
                        tr.fail(format!("copyout: {va0:#x} is not a user page"));
                        return Err(VmFail::NotUserPage { va: va0 });
                    };
                    let n = ((PGSIZE - (dstva - va0)) as usize).min(src.len() - done);
                    walked(tr, va0, pa0, dstva);
                    self.st.hw.write(pa0 + (dstva - va0), &src[done..done + n]).or_panic("copyout")?;
                    tr.push(Event::Copyout { va: VirtAddr::new(dstva), bytes: src[done..done + n].to_vec() });
                    done += n;
                    dstva = va0 + PGSIZE;
                }
                Ok(())
            },
        )
    }

    /// Copy from user to kernel: `len` bytes from virtual address `srcva` in
    /// a given page table (xv6: `copyin`).
    ///
    /// # Errors
    /// [`VmFail::NotUserPage`] (xv6 returns -1); a panic for a corrupted table.
    pub fn copyin(&mut self, tr: &mut Trace, pagetable: u64, srcva: u64, len: u64) -> Result<Vec<u8>, VmFail> {
        tr.call(
            "copyin",
            || format!("pagetable={pagetable:#x}, srcva={srcva:#x}, len={len}"),
            |tr| {
                let mut out = Vec::new();
                let mut srcva = srcva;
                while (out.len() as u64) < len {
                    let va0 = PGROUNDDOWN(srcva);
                    let Some(pa0) = self.walkaddr(tr, pagetable, va0)? else {
                        return Err(VmFail::NotUserPage { va: va0 });
                    };
                    let n = (PGSIZE - (srcva - va0)).min(len - out.len() as u64);
                    walked(tr, va0, pa0, srcva);
                    let mut buf = alloc::vec![0u8; n as usize];
                    self.st.hw.read(pa0 + (srcva - va0), &mut buf).or_panic("copyin")?;
                    tr.push(Event::Copyin { va: VirtAddr::new(srcva), bytes: buf.clone() });
                    out.extend_from_slice(&buf);
                    srcva = va0 + PGSIZE;
                }
                Ok(out)
            },
        )
    }

    /// Copy a null-terminated string from user to kernel, at most `max`
    /// bytes (xv6: `copyinstr`).
    ///
    /// # Errors
    /// [`VmFail::NotUserPage`] or [`VmFail::StringTooLong`] (xv6 returns -1
    /// for both); a panic for a corrupted table.
    pub fn copyinstr(&mut self, tr: &mut Trace, pagetable: u64, srcva: u64, max: u64) -> Result<Vec<u8>, VmFail> {
        tr.call(
            "copyinstr",
            || format!("pagetable={pagetable:#x}, srcva={srcva:#x}, max={max}"),
            |tr| {
                let mut out = Vec::new();
                let mut srcva = srcva;
                let mut left = max;
                while left > 0 {
                    let va0 = PGROUNDDOWN(srcva);
                    let Some(pa0) = self.walkaddr(tr, pagetable, va0)? else {
                        return Err(VmFail::NotUserPage { va: va0 });
                    };
                    let mut n = (PGSIZE - (srcva - va0)).min(left);
                    walked(tr, va0, pa0, srcva);
                    let mut p = pa0 + (srcva - va0);
                    while n > 0 {
                        let mut b = [0u8];
                        self.st.hw.read(p, &mut b).or_panic("copyinstr")?;
                        if b[0] == 0 {
                            return Ok(out);
                        }
                        out.push(b[0]);
                        n -= 1;
                        left -= 1;
                        p += 1;
                    }
                    srcva = va0 + PGSIZE;
                }
                Err(VmFail::StringTooLong { max })
            },
        )
    }

    /// The present user pages below `sz` in `pagetable`: (virtual address, physical address).
    pub(crate) fn user_pages(&mut self, tr: &mut Trace, pagetable: u64, sz: u64) -> Result<Vec<(u64, u64)>, Panic> {
        let mut out = Vec::new();
        let mut a = 0;
        while a < sz {
            if let Some(pte) = self.walk(tr, pagetable, a, None)? {
                let e = self.rd(pte)?;
                if e & PTE_V != 0 {
                    out.push((a, PTE2PA(e)));
                }
                a += PGSIZE;
            } else {
                // No L0 table here: skip to the next 2 MB.
                a = (a | 0x1F_FFFF) + 1;
            }
        }
        Ok(out)
    }
}

/// What copyout, copyin and copyinstr do with a user page, said once a page:
/// the kernel runs on its own page table, so it walks the process's by hand
/// (walkaddr, which wants PTE_V and PTE_U) and reaches the byte for user
/// address `va` through the direct map, at `pa0 + (va - va0)`.
fn walked(tr: &mut Trace, va0: u64, pa0: u64, va: u64) {
    tr.note(|| {
        format!(
            "walkaddr(pagetable, va0 = {va0:#x}) = pa0 {pa0:#x}: the kernel reaches user address {va:#x} at pa0 + (va - va0) = {:#x}",
            pa0 + (va - va0)
        )
    });
}
