//! Flat user memory for the CPU tests (`rv64.rs`, `x86.rs`): text (read and
//! execute) below `text_end`, data (read and write) up to the end of the
//! bytes; any other access faults, saying what it was and where.
// Each test file uses part of this.
#![allow(dead_code)]

use pagelab_core::cpu::rv64::UserMem;

/// The memory.
pub struct Flat {
    /// Every byte from address 0.
    pub bytes: Vec<u8>,
    /// Where text ends (a store below it faults; a fetch at or above it faults).
    pub text_end: u64,
}

/// A refused access: what it was ('x' fetch, 'r' load, 'w' store), and where.
#[derive(Debug, PartialEq, Eq)]
pub struct Fault(pub char, pub u64);

impl Flat {
    /// `size` bytes of zeros, text below `text_end`.
    pub fn new(size: usize, text_end: u64) -> Flat {
        Flat { bytes: vec![0u8; size], text_end }
    }

    /// `code` at address 0 in `size` bytes; text is the pages it takes.
    pub fn with_code(code: &[u8], size: usize) -> Flat {
        let mut m = Flat::new(size, code.len().next_multiple_of(4096) as u64);
        m.bytes[..code.len()].copy_from_slice(code);
        m
    }

    /// The 32-bit little-endian word at `va`.
    pub fn word(&self, va: u32) -> u32 {
        u32::from_le_bytes(self.bytes[va as usize..va as usize + 4].try_into().unwrap())
    }

    fn range(&self, va: u64, n: u64) -> Option<std::ops::Range<usize>> {
        let end = va.checked_add(n)?;
        (end <= self.bytes.len() as u64).then_some(va as usize..end as usize)
    }
}

impl UserMem for Flat {
    type Fault = Fault;
    fn fetch16(&mut self, va: u64) -> Result<u16, Fault> {
        match self.range(va, 2).filter(|_| va + 2 <= self.text_end) {
            Some(r) => Ok(u16::from_le_bytes(self.bytes[r].try_into().unwrap())),
            None => Err(Fault('x', va)),
        }
    }
    fn load(&mut self, va: u64, n: u8) -> Result<u64, Fault> {
        let r = self.range(va, u64::from(n)).ok_or(Fault('r', va))?;
        let mut w = [0u8; 8];
        w[..usize::from(n)].copy_from_slice(&self.bytes[r]);
        Ok(u64::from_le_bytes(w))
    }
    fn store(&mut self, va: u64, n: u8, v: u64) -> Result<(), Fault> {
        if va < self.text_end {
            return Err(Fault('w', va));
        }
        let r = self.range(va, u64::from(n)).ok_or(Fault('w', va))?;
        self.bytes[r].copy_from_slice(&v.to_le_bytes()[..usize::from(n)]);
        Ok(())
    }
}
