//! RISC-V Sv39 paging as xv6-riscv uses it (`riscv.h`).
//!
//! ```text
//!  63      39 38    30 29    21 20    12 11        0
//! +----------+--------+--------+--------+-----------+
//! | must copy|   L2   |   L1   |   L0   |  offset   |
//! |  bit 38  | 9 bits | 9 bits | 9 bits |  12 bits  |
//! +----------+--------+--------+--------+-----------+
//!
//! A page-table entry (64 bits):
//!
//!  63    54 53                    10 9  8 7 6 5 4 3 2 1 0
//! +--------+------------------------+----+-+-+-+-+-+-+-+-+
//! |reserved|  physical page number  |RSW |D|A|G|U|X|W|R|V|
//! +--------+------------------------+----+-+-+-+-+-+-+-+-+
//! ```
//!
//! An entry with V set and none of R, W, X points to the next table; any of
//! R, W, X makes it a leaf that maps memory.

use super::{Access, AccessKind, FaultKind, FlagBits, Flags, Mode, Scheme, SchemeKind, named_bits};
use serde::{Deserialize, Serialize};

/// Valid.
pub const PTE_V: u64 = 1 << 0;
/// Readable.
pub const PTE_R: u64 = 1 << 1;
/// Writable.
pub const PTE_W: u64 = 1 << 2;
/// Executable.
pub const PTE_X: u64 = 1 << 3;
/// User can access.
pub const PTE_U: u64 = 1 << 4;
/// Global mapping.
pub const PTE_G: u64 = 1 << 5;
/// Accessed (set by the hardware).
pub const PTE_A: u64 = 1 << 6;
/// Dirty (set by the hardware).
pub const PTE_D: u64 = 1 << 7;

/// Index bits per level.
pub const PXMASK: u64 = 0x1FF;
/// One beyond the highest virtual address xv6-riscv uses: `1 << (9 + 9 + 9 + 12 - 1)`.
///
/// xv6 stays below bit 38 so it never needs addresses with the high bits set.
pub const MAXVA: u64 = 1 << (9 + 9 + 9 + 12 - 1);

/// Shift of the index for `level` (xv6: `PXSHIFT`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PXSHIFT(level: u32) -> u32 {
    12 + 9 * level
}

/// The 9-bit index of `va` at `level` (xv6: `PX(level, va)`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PX(level: u32, va: u64) -> u64 {
    (va >> PXSHIFT(level)) & PXMASK
}

/// Entry bits for physical address `pa` (xv6: `PA2PTE`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PA2PTE(pa: u64) -> u64 {
    (pa >> 12) << 10
}

/// Physical address in entry `pte` (xv6: `PTE2PA`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PTE2PA(pte: u64) -> u64 {
    (pte >> 10) << 12
}

/// Flag bits of entry `pte` (xv6: `PTE_FLAGS`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PTE_FLAGS(pte: u64) -> u64 {
    pte & 0x3FF
}

bitflags::bitflags! {
    /// The flag bits of a RISC-V entry (Sv39 and Sv32), by xv6's names.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub struct RvFlags: u64 {
        /// `PTE_V`
        const V = PTE_V;
        /// `PTE_R`
        const R = PTE_R;
        /// `PTE_W`
        const W = PTE_W;
        /// `PTE_X`
        const X = PTE_X;
        /// `PTE_U`
        const U = PTE_U;
        /// `PTE_G`
        const G = PTE_G;
        /// `PTE_A`
        const A = PTE_A;
        /// `PTE_D`
        const D = PTE_D;
    }
}

const PAIRS: [(RvFlags, Flags); 8] = [
    (RvFlags::V, Flags::VALID),
    (RvFlags::R, Flags::READ),
    (RvFlags::W, Flags::WRITE),
    (RvFlags::X, Flags::EXEC),
    (RvFlags::U, Flags::USER),
    (RvFlags::G, Flags::GLOBAL),
    (RvFlags::A, Flags::ACCESSED),
    (RvFlags::D, Flags::DIRTY),
];

impl From<RvFlags> for Flags {
    fn from(f: RvFlags) -> Flags {
        PAIRS.iter().filter(|(a, _)| f.contains(*a)).fold(Flags::empty(), |n, (_, b)| n | *b)
    }
}

impl From<Flags> for RvFlags {
    /// `HUGE` has no bit of its own on RISC-V: a leaf above level 0 is a large page.
    fn from(n: Flags) -> RvFlags {
        PAIRS.iter().filter(|(_, b)| n.contains(*b)).fold(RvFlags::empty(), |f, (a, _)| f | *a)
    }
}

/// An Sv39 page-table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pte(pub u64);

impl Pte {
    /// An entry mapping `pa` with `flags`.
    #[must_use]
    pub fn new(pa: u64, flags: RvFlags) -> Pte {
        Pte(PA2PTE(pa) | flags.bits())
    }
    /// The physical address in the entry.
    #[must_use]
    pub fn addr(self) -> u64 {
        PTE2PA(self.0)
    }
    /// The flag bits.
    #[must_use]
    pub fn flags(self) -> RvFlags {
        RvFlags::from_bits_truncate(self.0)
    }
}

pub(super) const BITS: &[(&str, u32)] =
    &[("PTE_V", 0), ("PTE_R", 1), ("PTE_W", 2), ("PTE_X", 3), ("PTE_U", 4), ("PTE_G", 5), ("PTE_A", 6), ("PTE_D", 7)];

/// RISC-V's leaf test: any of R, W, X.
pub(super) fn rv_is_leaf(e: u64) -> bool {
    e & (PTE_R | PTE_W | PTE_X) != 0
}

/// RISC-V's checks at the end of a walk, shared by Sv39 and Sv32: only the
/// entry the walk stopped at counts (those it went through were valid and
/// not leaves, and RISC-V reads no permission from them).
///
/// `superpage_mask` has the physical address bits that a leaf at its level
/// must have clear (0 at level 0).
#[inline]
pub(super) fn rv_check(leaf: u64, access: Access, superpage_mask: u64) -> Result<(), FaultKind> {
    if leaf & PTE_V == 0 {
        return Err(FaultKind::NotPresent);
    }
    if leaf & PTE_W != 0 && leaf & PTE_R == 0 {
        return Err(FaultKind::Reserved);
    }
    if !rv_is_leaf(leaf) {
        return Err(FaultKind::NoLeaf);
    }
    if superpage_mask != 0 && PTE2PA(leaf) & superpage_mask != 0 {
        return Err(FaultKind::MisalignedSuperpage);
    }
    match access.mode {
        Mode::User if leaf & PTE_U == 0 => return Err(FaultKind::NotUser),
        Mode::Kernel if leaf & PTE_U != 0 => return Err(FaultKind::KernelTouchedUser),
        _ => {}
    }
    match access.kind {
        AccessKind::Read if leaf & PTE_R == 0 => Err(FaultKind::NotReadable),
        AccessKind::Write if leaf & PTE_W == 0 => Err(FaultKind::ReadOnly),
        AccessKind::Execute if leaf & PTE_X == 0 => Err(FaultKind::NotExecutable),
        _ => Ok(()),
    }
}

/// RISC-V Sv39: 9 | 9 | 9 | 12, 8-byte entries, 56-bit physical addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sv39;

impl Scheme for Sv39 {
    type Entry = u64;
    const KIND: SchemeKind = SchemeKind::Sv39;
    const LEVELS: u32 = 3;
    const INDEX_BITS: u32 = 9;
    const INDEX_NAMES: &'static [&'static str] = &["L2", "L1", "L0"];
    const VALID: u64 = PTE_V;
    const PA_BITS: u32 = 56;
    const ACCESSED: u64 = PTE_A;
    const DIRTY: u64 = PTE_D;
    const TABLES_GET_ACCESSED: bool = false;

    fn pte_pa(e: u64) -> u64 {
        // Bits 63..54 are reserved; the PPN is bits 53..10.
        PTE2PA(e & ((1 << 54) - 1))
    }
    fn pa_bits(pa: u64) -> u64 {
        PA2PTE(pa)
    }
    fn pte_flags(e: u64) -> u64 {
        PTE_FLAGS(e)
    }
    fn is_leaf(e: u64, _level: u32) -> bool {
        rv_is_leaf(e)
    }
    fn table_entry(pa: u64) -> u64 {
        PA2PTE(pa) | PTE_V
    }
    fn flag_bits(e: u64) -> FlagBits {
        named_bits(e, BITS)
    }
    fn flags(e: u64) -> Flags {
        RvFlags::from_bits_truncate(e).into()
    }
    #[inline]
    fn check_end(_through: u64, last: u64, level: u32, access: Access) -> Result<(), FaultKind> {
        rv_check(last, access, (Self::level_size(level) - 1) & !0xFFF)
    }
    fn check_va(va: u64) -> Result<(), FaultKind> {
        // Bits 63..39 must all equal bit 38.
        let top = (va as i64) >> 38;
        if top == 0 || top == -1 { Ok(()) } else { Err(FaultKind::BadAddress) }
    }
}

const _: () = {
    assert!(Sv39::VA_BITS == 39);
    assert!(Sv39::ENTRIES * Sv39::ENTRY_BYTES == crate::addr::PGSIZE);
    assert!(MAXVA == 1 << 38);
};

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn px_matches_riscv_h() {
        // TRAMPOLINE = MAXVA - PGSIZE = 0x3f_ffff_f000: every index is 511 except L2 = 255.
        let trampoline = MAXVA - 4096;
        assert_eq!(trampoline, 0x3f_ffff_f000);
        assert_eq!((PX(2, trampoline), PX(1, trampoline), PX(0, trampoline)), (255, 511, 511));
        assert_eq!(PA2PTE(0x8000_0000), 0x2000_0000);
        assert_eq!(PTE2PA(0x2000_0000 | 0x1f), 0x8000_0000);
        assert_eq!(PTE_FLAGS(0x2000_001f), 0x1f);
    }

    #[test]
    fn checks_follow_the_privileged_spec() {
        let ptr = PA2PTE(0x8000_1000) | PTE_V;
        let text = PA2PTE(0x8000_2000) | PTE_V | PTE_R | PTE_X | PTE_U;
        assert_eq!(Sv39::check(&[ptr, ptr, text], Access::USER_EXEC), Ok(()));
        assert_eq!(Sv39::check(&[ptr, ptr, text], Access::USER_WRITE), Err(FaultKind::ReadOnly));
        assert_eq!(Sv39::check(&[ptr, ptr, text], Access::KERNEL_READ), Err(FaultKind::KernelTouchedUser));
        let guard = PA2PTE(0x8000_3000) | PTE_V | PTE_R | PTE_W;
        assert_eq!(Sv39::check(&[ptr, ptr, guard], Access::USER_READ), Err(FaultKind::NotUser));
        assert_eq!(Sv39::check(&[ptr, ptr, ptr], Access::KERNEL_READ), Err(FaultKind::NoLeaf));
        let wo = PA2PTE(0x8000_3000) | PTE_V | PTE_W;
        assert_eq!(Sv39::check(&[ptr, ptr, wo], Access::KERNEL_WRITE), Err(FaultKind::Reserved));
        // A 2 MB leaf at level 1 must be 2 MB aligned.
        let big = PA2PTE(0x8000_1000) | PTE_V | PTE_R;
        assert_eq!(Sv39::check(&[ptr, big], Access::KERNEL_READ), Err(FaultKind::MisalignedSuperpage));
        let big = PA2PTE(0x8020_0000) | PTE_V | PTE_R;
        assert_eq!(Sv39::check(&[ptr, big], Access::KERNEL_READ), Ok(()));
    }

    #[test]
    fn only_sign_extended_addresses_translate() {
        assert_eq!(Sv39::check_va(MAXVA - 1), Ok(()));
        assert_eq!(Sv39::check_va(0xffff_ffc0_0000_0000), Ok(()));
        assert_eq!(Sv39::check_va(MAXVA), Err(FaultKind::BadAddress));
    }
}
