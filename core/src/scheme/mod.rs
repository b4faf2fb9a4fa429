//! Paging schemes: how a virtual address is cut into table indexes and how a
//! table entry is laid out.
//!
//! A scheme is a trait of constants ([`Scheme`]) with the derived values
//! computed in the trait and checked at compile time; one generic walker
//! ([`crate::walk`]) loops over its levels. Three schemes are provided:
//!
//! | scheme | levels | index bits | entry | used by |
//! |---|---|---|---|---|
//! | [`X86`]  | 2 | 10 \| 10 | `u32` | xv6-public |
//! | [`Sv39`] | 3 | 9 \| 9 \| 9 | `u64` | xv6-riscv |
//! | [`Sv32`] | 2 | 10 \| 10 | `u32` | RISC-V 32-bit |
//!
//! Levels are numbered as xv6-riscv numbers them: level 0 is the last table
//! (the one whose entries map pages), the root is level `LEVELS - 1`.

pub mod sv32;
pub mod sv39;
pub mod words;
pub mod x86;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

pub use sv32::Sv32;
pub use sv39::Sv39;
pub use x86::X86;

/// A machine word that holds one page-table entry: `u32` or `u64`.
pub trait PteWord: Copy + Eq + fmt::Debug + 'static {
    /// Size of the entry in memory.
    const BYTES: u64;
    /// Widen to `u64`.
    fn to_u64(self) -> u64;
    /// Narrow from `u64`, dropping high bits as a C cast would.
    fn from_u64(v: u64) -> Self;
}

impl PteWord for u32 {
    const BYTES: u64 = 4;
    fn to_u64(self) -> u64 {
        u64::from(self)
    }
    fn from_u64(v: u64) -> Self {
        v as u32
    }
}

impl PteWord for u64 {
    const BYTES: u64 = 8;
    fn to_u64(self) -> u64 {
        self
    }
    fn from_u64(v: u64) -> Self {
        v
    }
}

bitflags::bitflags! {
    /// Arch-neutral meaning of an entry's flag bits, for display and checks.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub struct Flags: u16 {
        /// The entry is in use (x86 `PTE_P`, RISC-V `PTE_V`).
        const VALID = 1 << 0;
        /// Loads are allowed (implied by `PTE_P` on x86).
        const READ = 1 << 1;
        /// Stores are allowed.
        const WRITE = 1 << 2;
        /// Instruction fetch is allowed (implied by `PTE_P` on 32-bit x86).
        const EXEC = 1 << 3;
        /// User mode may use the page.
        const USER = 1 << 4;
        /// The mapping is global (kept in the TLB across address-space switches).
        const GLOBAL = 1 << 5;
        /// The hardware has used the entry.
        const ACCESSED = 1 << 6;
        /// The hardware has written the page.
        const DIRTY = 1 << 7;
        /// The entry maps a large page instead of pointing to a table.
        const HUGE = 1 << 8;
    }
}

/// One named flag bit of an entry and whether it is set, for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FlagBit {
    /// xv6's name, e.g. `PTE_W`.
    pub name: &'static str,
    /// Bit number in the entry.
    pub bit: u32,
    /// Whether the bit is set.
    pub set: bool,
}

/// The named flag bits of an entry, in the scheme's order: the entry and
/// the scheme's table of names, read out as [`FlagBit`]s when asked. A walk
/// that records its steps for display makes one per level, and this needs
/// no allocation. Serializes as a list of [`FlagBit`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FlagBits {
    /// The entry.
    entry: u64,
    /// The scheme's names, with their bit numbers.
    table: &'static [(&'static str, u32)],
}

impl FlagBits {
    /// Each named bit, in order, with whether the entry has it.
    pub fn iter(&self) -> impl Iterator<Item = FlagBit> + '_ {
        let e = self.entry;
        self.table.iter().map(move |&(name, bit)| FlagBit { name, bit, set: e >> bit & 1 == 1 })
    }

    /// How many bits the scheme names.
    #[must_use]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True if the scheme names none (never, for xv6's).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

impl core::fmt::Debug for FlagBits {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for FlagBits {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// What kind of memory access is being translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessKind {
    /// A load.
    Read,
    /// A store.
    Write,
    /// An instruction fetch.
    Execute,
}

/// Which privilege mode makes the access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// User mode (ring 3 / U-mode).
    User,
    /// Kernel mode (ring 0 / S-mode).
    Kernel,
}

/// A memory access: kind and mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Access {
    /// Load, store or fetch.
    pub kind: AccessKind,
    /// User or kernel.
    pub mode: Mode,
}

impl Access {
    /// A user-mode load.
    pub const USER_READ: Access = Access { kind: AccessKind::Read, mode: Mode::User };
    /// A user-mode store.
    pub const USER_WRITE: Access = Access { kind: AccessKind::Write, mode: Mode::User };
    /// A user-mode instruction fetch.
    pub const USER_EXEC: Access = Access { kind: AccessKind::Execute, mode: Mode::User };
    /// A kernel-mode load.
    pub const KERNEL_READ: Access = Access { kind: AccessKind::Read, mode: Mode::Kernel };
    /// A kernel-mode store.
    pub const KERNEL_WRITE: Access = Access { kind: AccessKind::Write, mode: Mode::Kernel };
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::User => "user",
            Mode::Kernel => "kernel",
        };
        let kind = match self.kind {
            AccessKind::Read => "read",
            AccessKind::Write => "write",
            AccessKind::Execute => "execute",
        };
        write!(f, "{mode} {kind}")
    }
}

/// Why the hardware refused a translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The address is not one the scheme can translate (too wide, or not sign-extended on Sv39).
    BadAddress,
    /// An entry on the way has its present/valid bit clear.
    NotPresent,
    /// User mode touched a page without the user bit (a kernel page, or the stack guard page).
    NotUser,
    /// Kernel mode touched a user page (RISC-V without `sstatus.SUM`, as in xv6).
    KernelTouchedUser,
    /// A store to a page without the write bit.
    ReadOnly,
    /// A fetch from a page without the execute bit.
    NotExecutable,
    /// A load from a page without the read bit.
    NotReadable,
    /// The entry's bits are a combination the hardware reserves (RISC-V `W` without `R`).
    Reserved,
    /// A pointer entry where the last level must map a page (RISC-V).
    NoLeaf,
    /// A large page whose physical address is not aligned to its size (RISC-V).
    MisalignedSuperpage,
    /// An entry points to a table that is not in RAM (an access fault, not a page fault).
    TableOutsideRam,
}

impl FaultKind {
    /// A plain-words explanation for a learner.
    #[must_use]
    pub fn explain(self) -> &'static str {
        match self {
            FaultKind::BadAddress => {
                "the address is outside what this paging scheme can translate (Sv39: bits 63–39 must all copy bit 38)"
            }
            FaultKind::NotPresent => "the entry is not present, so nothing is mapped here",
            FaultKind::NotUser => "the page has no user bit (PTE_U): only the kernel may touch it",
            FaultKind::KernelTouchedUser => {
                "in supervisor mode RISC-V refuses pages with the user bit while sstatus.SUM is clear, as xv6 leaves it. xv6's kernel never reaches user pages this way anyway: it runs on its own page table, which maps no user page, so copyout and copyin walk the process's table by hand (walkaddr)"
            }
            FaultKind::ReadOnly => "the page is read-only: the write bit is clear",
            FaultKind::NotExecutable => "the page is not executable: the execute bit is clear",
            FaultKind::NotReadable => "the page is not readable: the read bit is clear",
            FaultKind::Reserved => "the entry has the write bit without the read bit, a combination RISC-V reserves",
            FaultKind::NoLeaf => "the last-level entry points to another table instead of mapping a page",
            FaultKind::MisalignedSuperpage => "a large-page entry whose physical address is not aligned to its size",
            FaultKind::TableOutsideRam => "an entry points to a page table that is not in RAM",
        }
    }
}

/// One field of a decomposed address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Name a learner knows: `PDX`, `PTX`, `L2`, `offset`, …
    pub name: &'static str,
    /// Highest bit of the field (inclusive).
    pub hi: u32,
    /// Lowest bit of the field.
    pub lo: u32,
    /// The field's value.
    pub value: u64,
    /// What the field selects.
    pub role: FieldRole,
}

impl Field {
    /// Number of bits in the field.
    #[must_use]
    pub fn width(&self) -> u32 {
        self.hi - self.lo + 1
    }
}

/// What a field of an address is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "level")]
pub enum FieldRole {
    /// Bits the hardware requires to copy the top index bit (Sv39's bits 63..39).
    SignExtension,
    /// Index into the table at this level.
    Index(u32),
    /// Byte offset within the page.
    Offset,
}

/// An address cut into its fields, most significant first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decomposition {
    /// Which scheme cut it.
    pub scheme: SchemeKind,
    /// The address.
    pub va: u64,
    /// Fields, most significant first; together they cover every bit of the address.
    pub fields: Vec<Field>,
}

impl Decomposition {
    /// The index at `level`.
    #[must_use]
    pub fn index(&self, level: u32) -> Option<u64> {
        self.fields.iter().find(|f| f.role == FieldRole::Index(level)).map(|f| f.value)
    }
    /// The offset within the page.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.fields.iter().find(|f| f.role == FieldRole::Offset).map_or(0, |f| f.value)
    }
}

/// Why an address could not be cut or put together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AddrError {
    /// The address has bits above what the scheme's addresses hold.
    TooWide {
        /// The address.
        va: u64,
        /// How many bits the scheme's addresses have.
        bits: u32,
    },
    /// A field value does not fit its width.
    FieldTooWide {
        /// The field's name.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The field's width in bits.
        bits: u32,
    },
    /// The number of fields given does not match the scheme.
    WrongFieldCount {
        /// Fields expected.
        expected: usize,
        /// Fields given.
        got: usize,
    },
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrError::TooWide { va, bits } => {
                write!(f, "{va:#x} does not fit in {bits} bits, the width of this scheme's virtual addresses")
            }
            AddrError::FieldTooWide { field, value, bits } => {
                write!(f, "{field} = {value:#x} does not fit in its {bits} bits")
            }
            AddrError::WrongFieldCount { expected, got } => {
                write!(f, "expected {expected} fields, got {got}")
            }
        }
    }
}

/// A paging scheme: constants, derived values and the entry layout.
///
/// Every method works on entries widened to `u64`; `Entry` says how wide
/// they are in memory.
pub trait Scheme: Copy + Default + fmt::Debug + 'static {
    /// Width of an entry in memory.
    type Entry: PteWord;
    /// Which scheme this is, for run-time dispatch.
    const KIND: SchemeKind;
    /// Number of table levels.
    const LEVELS: u32;
    /// Bits of virtual address consumed by each level's index.
    const INDEX_BITS: u32;
    /// Bits of offset within a page.
    const PAGE_SHIFT: u32 = 12;
    /// Names of the index fields, root first (`["PDX", "PTX"]`).
    const INDEX_NAMES: &'static [&'static str];
    /// The present/valid bit.
    const VALID: u64;
    /// Width of a physical address this scheme can express.
    const PA_BITS: u32;
    /// The bit the hardware sets when it uses an entry.
    const ACCESSED: u64;
    /// The bit the hardware sets when it writes a page.
    const DIRTY: u64;
    /// True if the hardware also marks the entries that point to tables (x86), not only leaves.
    const TABLES_GET_ACCESSED: bool;

    /// Bits of virtual address translated by the tables.
    const VA_BITS: u32 = Self::PAGE_SHIFT + Self::LEVELS * Self::INDEX_BITS;
    /// Entries in one table.
    const ENTRIES: u64 = 1 << Self::INDEX_BITS;
    /// Bytes in one entry.
    const ENTRY_BYTES: u64 = <Self::Entry as PteWord>::BYTES;

    /// Physical address an entry points to (xv6: `PTE_ADDR` / `PTE2PA`).
    fn pte_pa(e: u64) -> u64;
    /// The address part of an entry for physical address `pa` (xv6: `PA2PTE`).
    fn pa_bits(pa: u64) -> u64;
    /// The flag bits of an entry (xv6: `PTE_FLAGS`).
    fn pte_flags(e: u64) -> u64;
    /// True if an entry at `level` maps memory rather than pointing to a table.
    fn is_leaf(e: u64, level: u32) -> bool;
    /// The entry that walk writes to link a newly allocated table at `pa`.
    fn table_entry(pa: u64) -> u64;
    /// Each named flag bit of an entry, lowest first.
    fn flag_bits(e: u64) -> FlagBits;
    /// Arch-neutral meaning of an entry's flags.
    fn flags(e: u64) -> Flags;
    /// True if a walk stops at entry `e` of a table at `level`: it is not
    /// valid, or it maps memory (a leaf) rather than pointing to a table.
    #[must_use]
    #[inline(always)]
    fn ends_walk(e: u64, level: u32) -> bool {
        e & Self::VALID == 0 || Self::is_leaf(e, level)
    }
    /// Check an access at the end of a walk: `last` is the entry the walk
    /// stopped at, at `level`; `through` is the AND of the entries it went
    /// through to reach it (each valid and not a leaf), all ones if it
    /// stopped in the root. (x86 asks every level for W and U; RISC-V only
    /// the leaf.)
    ///
    /// # Errors
    /// The kind of fault the hardware would raise.
    fn check_end(through: u64, last: u64, level: u32, access: Access) -> Result<(), FaultKind>;
    /// Check an access against the entries met on a walk (root first, the
    /// one it stopped at last): [`Scheme::check_end`] at the first entry
    /// that ends the walk.
    ///
    /// # Errors
    /// The kind of fault the hardware would raise.
    fn check(path: &[u64], access: Access) -> Result<(), FaultKind> {
        let mut through = u64::MAX;
        for (n, &e) in path.iter().enumerate() {
            let level = (Self::LEVELS as usize).saturating_sub(n + 1) as u32;
            if n + 1 == path.len() || Self::ends_walk(e, level) {
                return Self::check_end(through, e, level, access);
            }
            through &= e;
        }
        Err(FaultKind::NotPresent)
    }
    /// Check a virtual address is one the scheme can translate.
    ///
    /// # Errors
    /// [`FaultKind::BadAddress`] for addresses the hardware refuses outright.
    fn check_va(va: u64) -> Result<(), FaultKind> {
        if Self::VA_BITS < 64 && va >> Self::VA_BITS != 0 { Err(FaultKind::BadAddress) } else { Ok(()) }
    }

    /// The index at `level` of `va` (xv6: `PDX`, `PTX`, `PX(level, va)`).
    #[must_use]
    fn index(va: u64, level: u32) -> u64 {
        (va >> (Self::PAGE_SHIFT + Self::INDEX_BITS * level)) & (Self::ENTRIES - 1)
    }
    /// Bytes mapped by one entry at `level` (4 KiB at level 0).
    #[must_use]
    fn level_size(level: u32) -> u64 {
        1u64 << (Self::PAGE_SHIFT + Self::INDEX_BITS * level)
    }
    /// Name of the index field at `level`.
    #[must_use]
    fn index_name(level: u32) -> &'static str {
        Self::INDEX_NAMES[(Self::LEVELS - 1 - level) as usize]
    }
}

/// The schemes, for choosing one at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemeKind {
    /// 32-bit x86 two-level paging as xv6-public uses it.
    X86,
    /// RISC-V Sv39 as xv6-riscv uses it.
    Sv39,
    /// RISC-V Sv32.
    Sv32,
}

/// Run `$body` with `$S` bound to the scheme type for `$kind`.
#[macro_export]
#[doc(hidden)]
macro_rules! with_scheme {
    ($kind:expr, $S:ident => $body:expr) => {
        match $kind {
            $crate::scheme::SchemeKind::X86 => {
                type $S = $crate::scheme::X86;
                $body
            }
            $crate::scheme::SchemeKind::Sv39 => {
                type $S = $crate::scheme::Sv39;
                $body
            }
            $crate::scheme::SchemeKind::Sv32 => {
                type $S = $crate::scheme::Sv32;
                $body
            }
        }
    };
}

impl SchemeKind {
    /// All schemes.
    pub const ALL: [SchemeKind; 3] = [SchemeKind::X86, SchemeKind::Sv39, SchemeKind::Sv32];

    /// Short name, as used in scenarios and URLs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SchemeKind::X86 => "x86",
            SchemeKind::Sv39 => "sv39",
            SchemeKind::Sv32 => "sv32",
        }
    }

    /// Parse a short name (`x86`, `sv39`, `sv32`; case does not matter).
    #[must_use]
    pub fn from_name(s: &str) -> Option<SchemeKind> {
        SchemeKind::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(s))
    }

    /// Number of levels.
    #[must_use]
    pub fn levels(self) -> u32 {
        with_scheme!(self, S => S::LEVELS)
    }
    /// Width of a virtual address in bits (the part the tables translate).
    #[must_use]
    pub fn va_bits(self) -> u32 {
        with_scheme!(self, S => S::VA_BITS)
    }
    /// Bytes per entry.
    #[must_use]
    pub fn entry_bytes(self) -> u64 {
        with_scheme!(self, S => S::ENTRY_BYTES)
    }
    /// Name of the index field at `level`.
    #[must_use]
    pub fn index_name(self, level: u32) -> &'static str {
        with_scheme!(self, S => S::index_name(level))
    }
    /// Name of the present/valid bit (`PTE_P` or `PTE_V`).
    #[must_use]
    pub fn valid_name(self) -> &'static str {
        match self {
            SchemeKind::X86 => "PTE_P",
            SchemeKind::Sv39 | SchemeKind::Sv32 => "PTE_V",
        }
    }
    /// Named flag bits of an entry.
    #[must_use]
    pub fn flag_bits(self, e: u64) -> FlagBits {
        with_scheme!(self, S => S::flag_bits(e))
    }
    /// Names of the set flag bits joined by `|`, or `0`.
    #[must_use]
    pub fn flag_names(self, e: u64) -> String {
        // Written straight into one string: every mappages call's arguments name its flags.
        let mut s = String::with_capacity(24);
        for b in self.flag_bits(e).iter().filter(|b| b.set) {
            if !s.is_empty() {
                s.push('|');
            }
            s.push_str(b.name);
        }
        if s.is_empty() {
            s.push('0');
        }
        s
    }
    /// Physical address an entry points to.
    #[must_use]
    pub fn pte_pa(self, e: u64) -> u64 {
        with_scheme!(self, S => S::pte_pa(e))
    }

    /// Cut `va` into its fields.
    ///
    /// # Errors
    /// [`AddrError::TooWide`] if `va` has bits above the scheme's address width
    /// (32 for x86 and Sv32; Sv39 takes any 64-bit value and shows bits 63..39).
    pub fn decompose(self, va: u64) -> Result<Decomposition, AddrError> {
        with_scheme!(self, S => decompose::<S>(va))
    }

    /// Put an address together from field values given most significant first,
    /// in the order [`SchemeKind::decompose`] returns them.
    ///
    /// # Errors
    /// A field that does not fit its width, or the wrong number of fields.
    pub fn compose(self, values: &[u64]) -> Result<u64, AddrError> {
        with_scheme!(self, S => compose::<S>(values))
    }
}

impl fmt::Display for SchemeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SchemeKind::X86 => "x86 32-bit (two levels: PDX | PTX | offset)",
            SchemeKind::Sv39 => "RISC-V Sv39 (three levels: L2 | L1 | L0 | offset)",
            SchemeKind::Sv32 => "RISC-V Sv32 (two levels: VPN[1] | VPN[0] | offset)",
        })
    }
}

/// The layout of fields for scheme `S`, most significant first.
fn field_layout<S: Scheme>() -> Vec<(&'static str, u32, u32, FieldRole)> {
    let mut v = Vec::new();
    // Sv39 addresses are 64 bits wide, but only 39 are translated; the rest
    // must copy bit 38.
    let width = if S::KIND == SchemeKind::Sv39 { 64 } else { S::VA_BITS };
    if width > S::VA_BITS {
        v.push(("sign extension", width - 1, S::VA_BITS, FieldRole::SignExtension));
    }
    for level in (0..S::LEVELS).rev() {
        let lo = S::PAGE_SHIFT + S::INDEX_BITS * level;
        v.push((S::index_name(level), lo + S::INDEX_BITS - 1, lo, FieldRole::Index(level)));
    }
    v.push(("offset", S::PAGE_SHIFT - 1, 0, FieldRole::Offset));
    v
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 }
}

/// Cut `va` into scheme `S`'s fields.
///
/// # Errors
/// [`AddrError::TooWide`] for addresses wider than the scheme's.
pub fn decompose<S: Scheme>(va: u64) -> Result<Decomposition, AddrError> {
    let layout = field_layout::<S>();
    let top = layout[0].1;
    if top < 63 && va >> (top + 1) != 0 {
        return Err(AddrError::TooWide { va, bits: top + 1 });
    }
    let fields = layout
        .into_iter()
        .map(|(name, hi, lo, role)| Field { name, hi, lo, value: (va >> lo) & mask(hi - lo + 1), role })
        .collect();
    Ok(Decomposition { scheme: S::KIND, va, fields })
}

/// Put scheme `S`'s fields back together into an address.
///
/// # Errors
/// A value wider than its field, or the wrong number of values.
pub fn compose<S: Scheme>(values: &[u64]) -> Result<u64, AddrError> {
    let layout = field_layout::<S>();
    if values.len() != layout.len() {
        return Err(AddrError::WrongFieldCount { expected: layout.len(), got: values.len() });
    }
    let mut va = 0u64;
    for ((name, hi, lo, _), &value) in layout.iter().zip(values) {
        let bits = hi - lo + 1;
        if value & !mask(bits) != 0 {
            return Err(AddrError::FieldTooWide { field: name, value, bits });
        }
        va |= value << lo;
    }
    Ok(va)
}

/// Build the list of named flag bits from a table of `(name, bit)`.
fn named_bits(e: u64, table: &'static [(&'static str, u32)]) -> FlagBits {
    FlagBits { entry: e, table }
}
