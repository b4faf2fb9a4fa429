//! Reading program files the way xv6's `exec` does.
//!
//! The bytes are parsed by the [`elf`] crate; the order of the checks is
//! xv6's: the header (and its magic number) first, before any page table is
//! made, then one program header at a time inside the loading loop, so a
//! broken table fails after `setupkvm` as it does in xv6.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::Serialize;

use elf::endian::LittleEndian;
use elf::file::{Class, FileHeader, parse_ident};
use elf::parse::ParseAt;
use elf::segment::ProgramHeader;

/// `PT_LOAD`: a segment to load.
pub const ELF_PROG_LOAD: u32 = 1;
/// Segment flag: executable.
pub const ELF_PROG_FLAG_EXEC: u32 = 1;
/// Segment flag: writable.
pub const ELF_PROG_FLAG_WRITE: u32 = 2;
/// Segment flag: readable.
pub const ELF_PROG_FLAG_READ: u32 = 4;

/// 32-bit or 64-bit ELF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ElfClass {
    /// ELF32 (xv6-public's programs).
    Elf32,
    /// ELF64 (xv6-riscv's programs).
    Elf64,
}

impl ElfClass {
    /// Size of the file header xv6 reads (`sizeof(struct elfhdr)`).
    #[must_use]
    pub fn header_size(self) -> u64 {
        match self {
            ElfClass::Elf32 => 52,
            ElfClass::Elf64 => 64,
        }
    }
    /// Size of one program header (`sizeof(struct proghdr)`).
    #[must_use]
    pub fn phdr_size(self) -> u64 {
        match self {
            ElfClass::Elf32 => 32,
            ElfClass::Elf64 => 56,
        }
    }
}

/// What is wrong with a program file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ElfError {
    /// Shorter than an ELF header.
    TooShort {
        /// File length.
        len: u64,
        /// Bytes xv6 reads for the header.
        need: u64,
    },
    /// The first four bytes are not `\x7fELF`.
    BadMagic {
        /// What they are.
        found: [u8; 4],
    },
    /// A 64-bit file on a 32-bit machine or the other way round.
    WrongClass {
        /// What the machine loads.
        expected: ElfClass,
    },
    /// Big-endian, or an unknown class or byte order.
    Unsupported {
        /// The parser's words.
        detail: String,
    },
    /// A program header lies (partly) beyond the end of the file.
    PhdrOutside {
        /// Which header.
        index: u16,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::TooShort { len, need } => {
                write!(f, "the file is {len} bytes long, shorter than an ELF header ({need} bytes)")
            }
            ElfError::BadMagic { found } => write!(
                f,
                "not an ELF file: it starts with {:02x} {:02x} {:02x} {:02x}, not 7f 45 4c 46 (\"\\x7fELF\")",
                found[0], found[1], found[2], found[3]
            ),
            ElfError::WrongClass { expected: ElfClass::Elf32 } => f.write_str(
                "this is a 64-bit ELF file; xv6-public loads 32-bit ones (xv6 checks only the magic number and would misread it)",
            ),
            ElfError::WrongClass { expected: ElfClass::Elf64 } => f.write_str(
                "this is a 32-bit ELF file; xv6-riscv loads 64-bit ones (xv6 checks only the magic number and would misread it)",
            ),
            ElfError::Unsupported { detail } => write!(f, "the ELF header cannot be read: {detail}"),
            ElfError::PhdrOutside { index } => {
                write!(f, "program header {index} lies beyond the end of the file")
            }
        }
    }
}

/// The parts of the ELF header exec uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ElfHeader {
    /// 32 or 64 bit.
    pub class: ElfClass,
    /// `e_machine` (3 = x86, 243 = RISC-V).
    pub machine: u16,
    /// Entry point.
    pub entry: u64,
    /// File offset of the program header table.
    pub phoff: u64,
    /// Number of program headers.
    pub phnum: u16,
}

/// One program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Phdr {
    /// `p_type` (1 = `PT_LOAD`).
    pub kind: u32,
    /// File offset of the segment.
    pub offset: u64,
    /// Virtual address to load it at.
    pub vaddr: u64,
    /// Bytes in the file.
    pub filesz: u64,
    /// Bytes in memory (the rest is zero: bss).
    pub memsz: u64,
    /// `p_flags`: 1 execute, 2 write, 4 read.
    pub flags: u32,
}

impl Phdr {
    /// "R-X"-style flags.
    #[must_use]
    pub fn flags_text(&self) -> String {
        format!(
            "{}{}{}",
            if self.flags & ELF_PROG_FLAG_READ != 0 { 'R' } else { '-' },
            if self.flags & ELF_PROG_FLAG_WRITE != 0 { 'W' } else { '-' },
            if self.flags & ELF_PROG_FLAG_EXEC != 0 { 'X' } else { '-' }
        )
    }
}

/// Name of an `e_machine` value.
#[must_use]
pub fn machine_name(m: u16) -> &'static str {
    match m {
        3 => "x86 (i386)",
        62 => "x86-64",
        243 => "RISC-V",
        40 => "ARM",
        183 => "AArch64",
        _ => "another machine",
    }
}

/// Read and check the header: length, magic number, class.
///
/// # Errors
/// [`ElfError`] saying what is wrong.
pub fn read_header(file: &[u8], expected: ElfClass) -> Result<ElfHeader, ElfError> {
    let need = expected.header_size();
    if (file.len() as u64) < need {
        // xv6 reads sizeof(elf) bytes first; a short read fails before the magic check.
        return Err(ElfError::TooShort { len: file.len() as u64, need });
    }
    let magic = [file[0], file[1], file[2], file[3]];
    if magic != *b"\x7fELF" {
        return Err(ElfError::BadMagic { found: magic });
    }
    let ident = parse_ident::<LittleEndian>(file).map_err(|e| ElfError::Unsupported { detail: format!("{e}") })?;
    let class = match ident.1 {
        Class::ELF32 => ElfClass::Elf32,
        Class::ELF64 => ElfClass::Elf64,
    };
    if class != expected {
        return Err(ElfError::WrongClass { expected });
    }
    let tail = &file[elf::abi::EI_NIDENT..];
    let h = FileHeader::parse_tail(ident, tail).map_err(|e| ElfError::Unsupported { detail: format!("{e}") })?;
    Ok(ElfHeader { class, machine: h.e_machine, entry: h.e_entry, phoff: h.e_phoff, phnum: h.e_phnum })
}

/// Read program header `i`, at `phoff + i * sizeof(proghdr)` as xv6 does
/// (it ignores `e_phentsize`).
///
/// # Errors
/// [`ElfError::PhdrOutside`] if it is not wholly inside the file.
pub fn read_phdr(file: &[u8], h: &ElfHeader, i: u16) -> Result<Phdr, ElfError> {
    let size = h.class.phdr_size();
    let off = u64::from(i).checked_mul(size).and_then(|o| o.checked_add(h.phoff));
    let Some(off) = off.filter(|o| o.checked_add(size).is_some_and(|end| end <= file.len() as u64)) else {
        return Err(ElfError::PhdrOutside { index: i });
    };
    let class = match h.class {
        ElfClass::Elf32 => Class::ELF32,
        ElfClass::Elf64 => Class::ELF64,
    };
    let mut at = off as usize;
    let p =
        ProgramHeader::parse_at(LittleEndian, class, &mut at, file).map_err(|_| ElfError::PhdrOutside { index: i })?;
    Ok(Phdr {
        kind: p.p_type,
        offset: p.p_offset,
        vaddr: p.p_vaddr,
        filesz: p.p_filesz,
        memsz: p.p_memsz,
        flags: p.p_flags,
    })
}

/// A program's header and all its program headers, for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ElfSummary {
    /// The header.
    pub header: ElfHeader,
    /// The program headers that could be read.
    pub phdrs: Vec<Phdr>,
}

/// Read a whole program's headers, for showing an uploaded file before exec.
///
/// # Errors
/// The first problem met.
pub fn summary(file: &[u8], expected: ElfClass) -> Result<ElfSummary, ElfError> {
    let header = read_header(file, expected)?;
    let mut phdrs = Vec::new();
    for i in 0..header.phnum {
        phdrs.push(read_phdr(file, &header, i)?);
    }
    Ok(ElfSummary { header, phdrs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A hand-made ELF32 header with one PT_LOAD at vaddr 0 (offsets worked out from the ELF spec).
    fn tiny_elf32() -> Vec<u8> {
        let mut f = vec![0u8; 52 + 32 + 8];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 1; // ELFCLASS32
        f[5] = 1; // little endian
        f[6] = 1; // version
        f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        f[18..20].copy_from_slice(&3u16.to_le_bytes()); // EM_386
        f[20..24].copy_from_slice(&1u32.to_le_bytes());
        f[24..28].copy_from_slice(&0x10u32.to_le_bytes()); // entry
        f[28..32].copy_from_slice(&52u32.to_le_bytes()); // phoff
        f[40..42].copy_from_slice(&52u16.to_le_bytes());
        f[42..44].copy_from_slice(&32u16.to_le_bytes());
        f[44..46].copy_from_slice(&1u16.to_le_bytes()); // phnum
        let ph = &mut f[52..84];
        ph[0..4].copy_from_slice(&1u32.to_le_bytes());
        ph[4..8].copy_from_slice(&84u32.to_le_bytes());
        ph[16..20].copy_from_slice(&8u32.to_le_bytes());
        ph[20..24].copy_from_slice(&0x20u32.to_le_bytes());
        ph[24..28].copy_from_slice(&7u32.to_le_bytes());
        f
    }

    #[test]
    fn reads_header_and_program_header() {
        let f = tiny_elf32();
        let s = summary(&f, ElfClass::Elf32).unwrap();
        assert_eq!((s.header.entry, s.header.phnum, s.header.machine), (0x10, 1, 3));
        assert_eq!(s.phdrs[0], Phdr { kind: 1, offset: 84, vaddr: 0, filesz: 8, memsz: 0x20, flags: 7 });
        assert_eq!(s.phdrs[0].flags_text(), "RWX");
    }

    #[test]
    fn rejects_what_xv6_rejects_and_what_it_would_misread() {
        let f = tiny_elf32();
        assert_eq!(read_header(&f[..51], ElfClass::Elf32), Err(ElfError::TooShort { len: 51, need: 52 }));
        let mut bad = f.clone();
        bad[0] = 0;
        assert!(matches!(read_header(&bad, ElfClass::Elf32), Err(ElfError::BadMagic { .. })));
        assert_eq!(read_header(&f, ElfClass::Elf64), Err(ElfError::WrongClass { expected: ElfClass::Elf64 }));
        let h = read_header(&f[..60], ElfClass::Elf32).unwrap();
        assert_eq!(read_phdr(&f[..60], &h, 0), Err(ElfError::PhdrOutside { index: 0 }));
        assert_eq!(read_phdr(&f, &h, 1), Err(ElfError::PhdrOutside { index: 1 }));
    }
}
