//! 32-bit x86 paging as xv6-public uses it (`mmu.h`).
//!
//! ```text
//! A virtual address 'la' has a three-part structure as follows:
//!
//! +--------10------+-------10-------+---------12----------+
//! | Page Directory |   Page Table   | Offset within Page  |
//! |      Index     |      Index     |                     |
//! +----------------+----------------+---------------------+
//!  \--- PDX(va) --/ \--- PTX(va) --/
//!
//! A page-directory or page-table entry:
//!
//! 31                          12 11      9 8 7 6 5 4 3 2 1 0
//! +-----------------------------+---------+-+--+-+-+---+---+-+-+-+
//! | physical page number (20)   | (avail) |G|PS|D|A|PCD|PWT|U|W|P|
//! +-----------------------------+---------+-+--+-+-+---+---+-+-+-+
//! ```

use super::{Access, AccessKind, FaultKind, FlagBits, Flags, Mode, Scheme, SchemeKind, named_bits};
use serde::{Deserialize, Serialize};

/// Present.
pub const PTE_P: u32 = 0x001;
/// Writeable.
pub const PTE_W: u32 = 0x002;
/// User.
pub const PTE_U: u32 = 0x004;
/// Write-through.
pub const PTE_PWT: u32 = 0x008;
/// Cache-disable.
pub const PTE_PCD: u32 = 0x010;
/// Accessed (set by the hardware).
pub const PTE_A: u32 = 0x020;
/// Dirty (set by the hardware).
pub const PTE_D: u32 = 0x040;
/// Page size: a page-directory entry that maps a 4 MB page.
pub const PTE_PS: u32 = 0x080;
/// Global.
pub const PTE_G: u32 = 0x100;

/// Entries per page directory.
pub const NPDENTRIES: u32 = 1024;
/// Entries per page table.
pub const NPTENTRIES: u32 = 1024;
/// Offset of PTX in a linear address.
pub const PTXSHIFT: u32 = 12;
/// Offset of PDX in a linear address.
pub const PDXSHIFT: u32 = 22;

/// Page directory index of `va` (xv6: `PDX`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PDX(va: u32) -> u32 {
    (va >> PDXSHIFT) & 0x3FF
}

/// Page table index of `va` (xv6: `PTX`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PTX(va: u32) -> u32 {
    (va >> PTXSHIFT) & 0x3FF
}

/// Build a virtual address from indexes and offset (xv6: `PGADDR`).
///
/// Like the C macro it does not mask its arguments: `PGADDR(1024, 0, 0)` wraps to 0.
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PGADDR(d: u32, t: u32, o: u32) -> u32 {
    d.wrapping_shl(PDXSHIFT) | t.wrapping_shl(PTXSHIFT) | o
}

/// Address in a page-table or page-directory entry (xv6: `PTE_ADDR`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PTE_ADDR(pte: u32) -> u32 {
    pte & !0xFFF
}

/// Flags in a page-table or page-directory entry (xv6: `PTE_FLAGS`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PTE_FLAGS(pte: u32) -> u32 {
    pte & 0xFFF
}

bitflags::bitflags! {
    /// The flag bits of an x86 entry, by xv6's names.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub struct X86Flags: u32 {
        /// `PTE_P`
        const P = PTE_P;
        /// `PTE_W`
        const W = PTE_W;
        /// `PTE_U`
        const U = PTE_U;
        /// `PTE_PWT`
        const PWT = PTE_PWT;
        /// `PTE_PCD`
        const PCD = PTE_PCD;
        /// `PTE_A`
        const A = PTE_A;
        /// `PTE_D`
        const D = PTE_D;
        /// `PTE_PS`
        const PS = PTE_PS;
        /// `PTE_G`
        const G = PTE_G;
    }
}

impl From<X86Flags> for Flags {
    fn from(f: X86Flags) -> Flags {
        let mut n = Flags::empty();
        if f.contains(X86Flags::P) {
            // A present page can be read and, without NX, executed.
            n |= Flags::VALID | Flags::READ | Flags::EXEC;
        }
        for (a, b) in [
            (X86Flags::W, Flags::WRITE),
            (X86Flags::U, Flags::USER),
            (X86Flags::A, Flags::ACCESSED),
            (X86Flags::D, Flags::DIRTY),
            (X86Flags::PS, Flags::HUGE),
            (X86Flags::G, Flags::GLOBAL),
        ] {
            if f.contains(a) {
                n |= b;
            }
        }
        n
    }
}

impl From<Flags> for X86Flags {
    /// READ and EXEC have no bit of their own on 32-bit x86: they come with `PTE_P`.
    fn from(n: Flags) -> X86Flags {
        let mut f = X86Flags::empty();
        for (a, b) in [
            (Flags::VALID, X86Flags::P),
            (Flags::WRITE, X86Flags::W),
            (Flags::USER, X86Flags::U),
            (Flags::ACCESSED, X86Flags::A),
            (Flags::DIRTY, X86Flags::D),
            (Flags::HUGE, X86Flags::PS),
            (Flags::GLOBAL, X86Flags::G),
        ] {
            if n.contains(a) {
                f |= b;
            }
        }
        f
    }
}

/// An x86 page-table or page-directory entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pte(pub u32);

impl Pte {
    /// An entry mapping `pa` with `flags`.
    #[must_use]
    pub fn new(pa: u32, flags: X86Flags) -> Pte {
        Pte(PTE_ADDR(pa) | flags.bits())
    }
    /// The physical address in the entry.
    #[must_use]
    pub fn addr(self) -> u32 {
        PTE_ADDR(self.0)
    }
    /// The flag bits.
    #[must_use]
    pub fn flags(self) -> X86Flags {
        X86Flags::from_bits_truncate(self.0)
    }
}

const BITS: &[(&str, u32)] = &[
    ("PTE_P", 0),
    ("PTE_W", 1),
    ("PTE_U", 2),
    ("PTE_PWT", 3),
    ("PTE_PCD", 4),
    ("PTE_A", 5),
    ("PTE_D", 6),
    ("PTE_PS", 7),
    ("PTE_G", 8),
];

/// 32-bit x86 paging: 10 | 10 | 12, 4-byte entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct X86;

impl Scheme for X86 {
    type Entry = u32;
    const KIND: SchemeKind = SchemeKind::X86;
    const LEVELS: u32 = 2;
    const INDEX_BITS: u32 = 10;
    const INDEX_NAMES: &'static [&'static str] = &["PDX", "PTX"];
    const VALID: u64 = PTE_P as u64;
    const PA_BITS: u32 = 32;
    const ACCESSED: u64 = PTE_A as u64;
    const DIRTY: u64 = PTE_D as u64;
    const TABLES_GET_ACCESSED: bool = true;

    fn pte_pa(e: u64) -> u64 {
        u64::from(PTE_ADDR(e as u32))
    }
    fn pa_bits(pa: u64) -> u64 {
        u64::from(PTE_ADDR(pa as u32))
    }
    fn pte_flags(e: u64) -> u64 {
        u64::from(PTE_FLAGS(e as u32))
    }
    fn is_leaf(e: u64, level: u32) -> bool {
        // xv6 turns on CR4.PSE, so a directory entry with PTE_PS maps 4 MB.
        level == 0 || (e as u32 & PTE_PS) != 0
    }
    fn table_entry(pa: u64) -> u64 {
        // walkpgdir: "The permissions here are overly generous, but they can
        // be further restricted by the permissions in the page table entries."
        Self::pa_bits(pa) | u64::from(PTE_P | PTE_W | PTE_U)
    }
    fn flag_bits(e: u64) -> FlagBits {
        named_bits(e, BITS)
    }
    fn flags(e: u64) -> Flags {
        Pte(e as u32).flags().into()
    }
    #[inline]
    fn check_end(through: u64, last: u64, _level: u32, access: Access) -> Result<(), FaultKind> {
        // Both the directory entry and the table entry must allow the access.
        let all = (through & last) as u32;
        if all & PTE_P == 0 {
            return Err(FaultKind::NotPresent);
        }
        if access.mode == Mode::User && all & PTE_U == 0 {
            return Err(FaultKind::NotUser);
        }
        // xv6 sets CR0.WP, so the kernel cannot write read-only pages either.
        if access.kind == AccessKind::Write && all & PTE_W == 0 {
            return Err(FaultKind::ReadOnly);
        }
        Ok(())
    }
}

const _: () = {
    assert!(X86::VA_BITS == 32);
    assert!(X86::ENTRIES == NPDENTRIES as u64);
    assert!(X86::ENTRIES * X86::ENTRY_BYTES == crate::addr::PGSIZE);
};

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn macros_cut_addresses_as_mmu_h() {
        // 0x8010_3abc = 1000 0000 00|01 0000 0011| 1010 1011 1100
        assert_eq!(PDX(0x8010_3abc), 0x200);
        assert_eq!(PTX(0x8010_3abc), 0x103);
        assert_eq!(PGADDR(0x200, 0x103, 0xabc), 0x8010_3abc);
        assert_eq!(PTE_ADDR(0x0dff_f007), 0x0dff_f000);
        assert_eq!(PTE_FLAGS(0x0dff_f007), 0x007);
        // The last user page-directory slot is 511; KERNBASE starts at 512.
        assert_eq!(PDX(0x7fff_ffff), 511);
        assert_eq!(PDX(0x8000_0000), 512);
        // The C macro does not mask: the index past the last one wraps.
        assert_eq!(PGADDR(1024, 0, 0), 0);
    }

    #[test]
    fn flags_convert_both_ways() {
        let f: Flags = X86Flags::from_bits_truncate(PTE_P | PTE_W | PTE_U).into();
        assert_eq!(f, Flags::VALID | Flags::READ | Flags::EXEC | Flags::WRITE | Flags::USER);
        assert_eq!(X86Flags::from(f).bits(), PTE_P | PTE_W | PTE_U);
    }

    #[test]
    fn guard_page_is_present_but_not_user() {
        let guard = u64::from(0x0dfb_e000 | PTE_P | PTE_W);
        let pde = u64::from(0x0dfb_f000 | PTE_P | PTE_W | PTE_U);
        assert_eq!(X86::check(&[pde, guard], Access::USER_READ), Err(FaultKind::NotUser));
        assert_eq!(X86::check(&[pde, guard], Access::KERNEL_WRITE), Ok(()));
        let ro = u64::from(0x1000 | PTE_P);
        assert_eq!(X86::check(&[pde, ro], Access::KERNEL_WRITE), Err(FaultKind::ReadOnly));
        assert_eq!(X86::check(&[pde, 0], Access::KERNEL_READ), Err(FaultKind::NotPresent));
    }
}
