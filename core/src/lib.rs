//! # pagelab-core
//!
//! xv6's memory management as a library: the paging schemes of xv6-public
//! (32-bit x86) and xv6-riscv (Sv39), plus Sv32; the `kalloc` free list;
//! the functions of `vm.c` (`walkpgdir`, `mappages`, `allocuvm`, …); the
//! process operations that use them (`userinit`, `fork`, `exec`, `sbrk`,
//! `exit`, `wait`); shared memory; address translation with faults; and a
//! trace of every step.
//!
//! The crate is `no_std` with `alloc`. Physical memory is reached through
//! [`mem::PhysMem`], so the same code runs over simulated RAM (in the
//! browser and in tests) and over real RAM (in `pagelab-kernel`).
#![no_std]
#![cfg_attr(not(test), warn(missing_docs))]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod addr;
pub mod cpu;
pub mod elf;
mod exec;
pub mod kalloc;
pub mod lab;
pub mod mem;
pub mod port;
pub mod proc;
pub mod programs;
pub mod riscv;
pub mod run;
pub mod scheme;
pub mod shm;
pub mod sys;
pub mod tlb;
pub mod trace;
pub mod walk;
pub mod x86;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use alloc::string::String;
use core::fmt;
use serde::{Deserialize, Serialize};

/// xv6 would call `panic()` here: the message it would print.
///
/// In the lab's own code paths this means a broken invariant (a bug); in
/// the note's shared-memory code it is one of the defects being shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Panic(pub String);

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "panic: {}", self.0)
    }
}

/// A failure met inside an xv6 function, as the panic xv6 would give:
/// `mem.fill(pa, PGSIZE, 0).or_panic("kfree")?` fails with `panic: kfree: …`.
/// A [`VmFail::Panic`] passes through as it is; any other [`VmFail`] is a
/// failure the caller does not expect, named by the caller.
pub(crate) trait OrPanic<T> {
    /// The error, named by the function `func` that met it.
    fn or_panic(self, func: &str) -> Result<T, Panic>;
}

impl<T> OrPanic<T> for Result<T, mem::MemError> {
    fn or_panic(self, func: &str) -> Result<T, Panic> {
        self.map_err(|e| Panic(alloc::format!("{func}: {e}")))
    }
}

impl<T> OrPanic<T> for Result<T, VmFail> {
    fn or_panic(self, func: &str) -> Result<T, Panic> {
        self.map_err(|e| match e {
            VmFail::Panic(p) => p,
            e => Panic(alloc::format!("{func}: {e}")),
        })
    }
}

/// Why a `vm.c` function failed.
///
/// The vm functions of both ports return one of three shapes, by what xv6's
/// C function does when it cannot go on:
/// - it returns 0 or -1 to its caller (`setupkvm`, `mappages`, `allocuvm`,
///   `copyuvm`, `loaduvm`, `copyout`, and xv6-riscv's `uvmcreate`, `uvmalloc`,
///   `uvmcopy`, `copyin`, `copyinstr`):
///   `Result<T, VmFail>`, one variant per reason;
/// - it looks something up and 0 means "nothing there" (`walkpgdir`, `walk`,
///   `walkaddr`, `uva2ka`): `Result<Option<T>, Panic>`;
/// - it can only panic (`freevm`, `deallocuvm`, `clearpteu`, …):
///   `Result<T, Panic>`.
///
/// `?` turns a [`Panic`] into a `VmFail`; the crate's `or_panic` turns a
/// `VmFail` the caller does not expect into the caller's panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmFail {
    /// kalloc returned 0.
    OutOfMemory,
    /// The new size reaches the kernel's part of the address space.
    TooBig,
    /// The page is mapped already (xv6: `panic("remap")`).
    Remap {
        /// The page.
        va: u64,
    },
    /// A user address is not mapped with PTE_U (copyout and copyin return -1).
    NotUserPage {
        /// The page.
        va: u64,
    },
    /// The file ends before the segment's bytes do (loaduvm returns -1 when `readi` comes up short).
    FileTooShort,
    /// No NUL byte within the limit (copyinstr returns -1).
    StringTooLong {
        /// The limit.
        max: u64,
    },
    /// Any other panic.
    Panic(Panic),
}

impl fmt::Display for VmFail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmFail::OutOfMemory => f.write_str("out of memory (kalloc returned 0)"),
            VmFail::TooBig => f.write_str("the size would reach the kernel's part of the address space"),
            VmFail::Remap { va } => write!(f, "panic: remap at va {va:#x}"),
            VmFail::NotUserPage { va } => write!(f, "{va:#x} is not a user page"),
            VmFail::FileTooShort => f.write_str("the file is shorter than the segment"),
            VmFail::StringTooLong { max } => write!(f, "no NUL byte in the first {max} bytes"),
            VmFail::Panic(p) => write!(f, "{p}"),
        }
    }
}

impl From<Panic> for VmFail {
    fn from(p: Panic) -> VmFail {
        VmFail::Panic(p)
    }
}

/// How byte strings appear in the JSON the lab writes: a string when the
/// bytes are UTF-8 text (argv, paths, what a program wrote), otherwise
/// `{"base64": "…"}` (standard base64 with padding). No arrays of numbers.
pub mod json_bytes {
    use alloc::vec::Vec;
    use base64::Engine as _;
    use serde::ser::{SerializeMap, SerializeSeq, Serializer};

    /// Serialize one byte string.
    ///
    /// # Errors
    /// What the serializer returns.
    pub fn one<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        match core::str::from_utf8(bytes) {
            Ok(text) => s.serialize_str(text),
            Err(_) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("base64", &base64::engine::general_purpose::STANDARD.encode(bytes))?;
                m.end()
            }
        }
    }

    /// Serialize a list of byte strings, each as [`one`] does.
    ///
    /// # Errors
    /// What the serializer returns.
    pub fn many<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        struct One<'a>(&'a [u8]);
        impl serde::Serialize for One<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                one(self.0, s)
            }
        }
        let mut seq = s.serialize_seq(Some(list.len()))?;
        for b in list {
            seq.serialize_element(&One(b))?;
        }
        seq.end()
    }
}
