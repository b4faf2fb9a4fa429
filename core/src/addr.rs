//! Addresses, pages and the rounding macros every xv6 file uses.
//!
//! Both xv6 ports use 4096-byte pages. Addresses are carried as `u64` in both
//! ports so that every scheme compiles on every target (wasm32 included);
//! the x86 port narrows them to `u32` where xv6-public uses `uint`.

use core::fmt;
use serde::{Deserialize, Serialize};

/// Bytes per page (xv6: `PGSIZE`).
pub const PGSIZE: u64 = 4096;
/// Bits of offset within a page (xv6: `PGSHIFT`, `PTXSHIFT` on x86).
pub const PGSHIFT: u32 = 12;

/// Round `sz` up to a multiple of the page size (xv6: `PGROUNDUP`).
///
/// Wraps like C's unsigned arithmetic: `PGROUNDUP(u64::MAX)` is 0.
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PGROUNDUP(sz: u64) -> u64 {
    sz.wrapping_add(PGSIZE - 1) & !(PGSIZE - 1)
}

/// Round `a` down to a multiple of the page size (xv6: `PGROUNDDOWN`).
#[expect(non_snake_case, reason = "xv6's name, which a learner will look for")]
#[must_use]
pub const fn PGROUNDDOWN(a: u64) -> u64 {
    a & !(PGSIZE - 1)
}

/// A physical address: where a byte sits in RAM (or in a device's range).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhysAddr(u64);

/// A virtual address: what a program (or the kernel) uses, translated by the page table.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VirtAddr(u64);

macro_rules! addr_common {
    ($t:ident, $what:literal) => {
        impl $t {
            #[doc = concat!("Make a ", $what, " address from its number.")]
            #[must_use]
            pub const fn new(a: u64) -> Self {
                Self(a)
            }
            /// The address as a number.
            #[must_use]
            pub const fn as_u64(self) -> u64 {
                self.0
            }
            /// The start of the page that holds this address.
            #[must_use]
            pub const fn page(self) -> Self {
                Self(PGROUNDDOWN(self.0))
            }
            /// The offset of this address within its page.
            #[must_use]
            pub const fn page_offset(self) -> u64 {
                self.0 & (PGSIZE - 1)
            }
            /// True when the address is the start of a page.
            #[must_use]
            pub const fn is_page_aligned(self) -> bool {
                self.page_offset() == 0
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({:#x})"), self.0)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:#x}", self.0)
            }
        }
        impl fmt::LowerHex for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }
        impl From<$t> for u64 {
            fn from(a: $t) -> u64 {
                a.0
            }
        }
    };
}
addr_common!(PhysAddr, "physical");

impl PhysAddr {
    /// The address as xv6-public's 32-bit `uint`, or None if it does not fit
    /// (no x86 frame is above 4 GB, so a None there is a broken invariant).
    #[must_use]
    pub const fn to_u32(self) -> Option<u32> {
        if self.0 <= u32::MAX as u64 { Some(self.0 as u32) } else { None }
    }
}

impl From<u32> for PhysAddr {
    fn from(a: u32) -> PhysAddr {
        PhysAddr(u64::from(a))
    }
}

impl core::ops::Add<u64> for PhysAddr {
    type Output = PhysAddr;
    /// The address `n` bytes on (C's unsigned arithmetic: it wraps).
    fn add(self, n: u64) -> PhysAddr {
        PhysAddr(self.0.wrapping_add(n))
    }
}
addr_common!(VirtAddr, "virtual");

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn rounding_matches_xv6_macros() {
        // Worked by hand from the C macros with PGSIZE = 4096.
        assert_eq!(PGROUNDUP(0), 0);
        assert_eq!(PGROUNDUP(1), 4096);
        assert_eq!(PGROUNDUP(4096), 4096);
        assert_eq!(PGROUNDUP(4097), 8192);
        assert_eq!(PGROUNDDOWN(8191), 4096);
        assert_eq!(PGROUNDDOWN(0x8000_1234), 0x8000_1000);
        // C's unsigned wrap-around.
        assert_eq!(PGROUNDUP(u64::MAX), 0);
    }

    #[test]
    fn addresses_print_in_hex() {
        assert_eq!(alloc::format!("{}", PhysAddr::new(0xdfff000)), "0xdfff000");
        assert_eq!(alloc::format!("{:?}", VirtAddr::new(16)), "VirtAddr(0x10)");
        assert_eq!(VirtAddr::new(0x3004).page_offset(), 4);
        assert!(!VirtAddr::new(0x3004).is_page_aligned());
    }
}
