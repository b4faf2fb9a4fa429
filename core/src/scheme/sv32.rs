//! RISC-V Sv32 paging: two levels of 10 bits, 4-byte entries.
//!
//! ```text
//!  31       22 21       12 11         0
//! +-----------+-----------+------------+
//! |  VPN[1]   |  VPN[0]   |   offset   |
//! +-----------+-----------+------------+
//!
//! A page-table entry (32 bits):
//!
//!  31                        10 9  8 7 6 5 4 3 2 1 0
//! +----------------------------+----+-+-+-+-+-+-+-+-+
//! |   physical page number     |RSW |D|A|G|U|X|W|R|V|
//! +----------------------------+----+-+-+-+-+-+-+-+-+
//! ```
//!
//! The flag bits and their meaning are Sv39's; the physical page number is
//! 22 bits, so physical addresses have 34 bits.

use super::sv39::{BITS, PTE_A, PTE_D, PTE_V, RvFlags, rv_check, rv_is_leaf};
use super::{Access, FaultKind, FlagBits, Flags, Scheme, SchemeKind, named_bits};

/// RISC-V Sv32: 10 | 10 | 12, 4-byte entries, 34-bit physical addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sv32;

impl Scheme for Sv32 {
    type Entry = u32;
    const KIND: SchemeKind = SchemeKind::Sv32;
    const LEVELS: u32 = 2;
    const INDEX_BITS: u32 = 10;
    const INDEX_NAMES: &'static [&'static str] = &["VPN[1]", "VPN[0]"];
    const VALID: u64 = PTE_V;
    const PA_BITS: u32 = 34;
    const ACCESSED: u64 = PTE_A;
    const DIRTY: u64 = PTE_D;
    const TABLES_GET_ACCESSED: bool = false;

    fn pte_pa(e: u64) -> u64 {
        ((e & 0xFFFF_FFFF) >> 10) << 12
    }
    fn pa_bits(pa: u64) -> u64 {
        ((pa >> 12) << 10) & 0xFFFF_FFFF
    }
    fn pte_flags(e: u64) -> u64 {
        e & 0x3FF
    }
    fn is_leaf(e: u64, _level: u32) -> bool {
        rv_is_leaf(e)
    }
    fn table_entry(pa: u64) -> u64 {
        Self::pa_bits(pa) | PTE_V
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
}

const _: () = {
    assert!(Sv32::VA_BITS == 32);
    assert!(Sv32::ENTRIES * Sv32::ENTRY_BYTES == crate::addr::PGSIZE);
};

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn entries_hold_34_bit_addresses() {
        // PPN 0x3FFFFF is the largest: physical address 0x3_FFFF_F000.
        let e = Sv32::pa_bits(0x3_ffff_f000) | PTE_V;
        assert_eq!(e, 0xFFFF_FC01);
        assert_eq!(Sv32::pte_pa(e), 0x3_ffff_f000);
        assert_eq!(Sv32::index(0xC040_1000, 1), 0x301);
        assert_eq!(Sv32::index(0xC040_1000, 0), 0x001);
    }
}
