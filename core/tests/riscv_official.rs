//! The RV64IMC hart against RISC-V's own instruction tests (riscv-tests:
//! isa/rv64ui, rv64um, rv64uc), built by `scripts/riscv-tests.sh` with
//! pagelab's environment (`scripts/riscv-tests/riscv_test.h`, `link.ld`).
//!
//! The test is ignored unless asked for (the script runs it with
//! `--ignored` and `RISCV_TESTS_BUILD` naming the directory of built
//! tests). Nothing of riscv-tests is in this repository.
//!
//! Each test is an ELF file: its read-execute segment becomes text, its
//! read-write one data, in the flat memory the CPU tests share. The hart runs
//! from the entry point until `ecall` (or a budget of steps); the test passed
//! if a7 = 93 (exit) and a0 = 0, and failed with case `a0 >> 1` if a0 is odd
//! (the environment header's convention). Anything else — a fault, an
//! illegal instruction, a breakpoint, the budget running out — is a failure
//! too, reported with the pc and the last case number (gp).
//!
//! Every test of the three suites runs but `rv64ui/fence_i`, which rewrites
//! its own code and needs `fence.i` (Zifencei; the hart decodes no such
//! instruction and its text is read-only). The tests that need CSRs or a
//! trap handler are in other suites (rv64mi, rv64si), which are not run.
//! `rv64ui/ma_data` runs: it accepts misaligned loads and stores done in one
//! piece, which is what the hart does (it passes each access whole to
//! `UserMem`, which reads any address in range).

#![cfg(not(target_arch = "wasm32"))]

mod flat;

use flat::{Fault, Flat};
use pagelab_core::cpu::rv64::{A0, A7, Hart, Stop, UserMem};
use pagelab_core::elf::{ELF_PROG_FLAG_EXEC, ELF_PROG_FLAG_WRITE, ELF_PROG_LOAD, ElfClass, summary};

/// The register riscv-tests keeps the case number in (TESTNUM).
const GP: usize = 3;
/// Steps before a test counts as looping (the longest takes a few thousand).
const BUDGET: u64 = 1_000_000;
/// Tests that store into their own text, which riscv-tests' environment maps
/// read-write-execute: rvc keeps the data its c.sw/c.sd cases write inside
/// its code (to put a 4-byte instruction across a page boundary).
const WRITES_ITS_TEXT: &[&str] = &["rv64uc-rvc"];

/// The flat memory, with stores into text allowed for [`WRITES_ITS_TEXT`].
struct Mem {
    flat: Flat,
    text_writable: bool,
}

impl UserMem for Mem {
    type Fault = Fault;
    fn fetch16(&mut self, va: u64) -> Result<u16, Fault> {
        self.flat.fetch16(va)
    }
    fn load(&mut self, va: u64, n: u8) -> Result<u64, Fault> {
        self.flat.load(va, n)
    }
    fn store(&mut self, va: u64, n: u8, v: u64) -> Result<(), Fault> {
        if self.text_writable && va.checked_add(u64::from(n)).is_some_and(|end| end <= self.flat.text_end) {
            let at = va as usize;
            self.flat.bytes[at..at + usize::from(n)].copy_from_slice(&v.to_le_bytes()[..usize::from(n)]);
            return Ok(());
        }
        self.flat.store(va, n, v)
    }
}

/// Load `file` (an ELF64 RISC-V executable): text is its executable segment
/// up to the page boundary after it, data the writable segment after that.
/// Returns the memory and the entry point.
fn load(file: &[u8]) -> Result<(Flat, u64), String> {
    let elf = summary(file, ElfClass::Elf64).map_err(|e| format!("{e:?}"))?;
    if elf.header.machine != 243 {
        return Err(format!("e_machine {} is not RISC-V", elf.header.machine));
    }
    let segs: Vec<_> = elf.phdrs.iter().filter(|p| p.kind == ELF_PROG_LOAD && p.memsz > 0).collect();
    let text_end = segs
        .iter()
        .filter(|p| p.flags & ELF_PROG_FLAG_EXEC != 0)
        .map(|p| (p.vaddr + p.memsz).next_multiple_of(4096))
        .max()
        .ok_or("no executable segment")?;
    for p in &segs {
        let writable = p.flags & ELF_PROG_FLAG_WRITE != 0;
        if writable == (p.vaddr < text_end) {
            return Err(format!(
                "segment at {:#x} ({}) is on the wrong side of text's end {text_end:#x}",
                p.vaddr,
                p.flags_text()
            ));
        }
    }
    let size = segs.iter().map(|p| p.vaddr + p.memsz).max().unwrap_or(0).next_multiple_of(4096) + 4096;
    let mut mem = Flat::new(size as usize, text_end);
    for p in &segs {
        let (at, off, n) = (p.vaddr as usize, p.offset as usize, p.filesz as usize);
        let bytes = file.get(off..off + n).ok_or("segment outside the file")?;
        mem.bytes[at..at + n].copy_from_slice(bytes);
    }
    Ok((mem, elf.header.entry))
}

/// Run the hart from `entry` until it stops; `Ok(())` if the test passed,
/// otherwise why not.
fn run(mem: &mut Mem, entry: u64) -> Result<u64, String> {
    let mut h = Hart::new(entry, 0);
    while h.instret < BUDGET {
        match h.step(mem) {
            Ok(()) => {}
            Err(Stop::Ecall) if h.x[A7] == 93 && h.x[A0] == 0 => return Ok(h.instret),
            Err(Stop::Ecall) if h.x[A7] == 93 && h.x[A0] & 1 == 1 => {
                return Err(format!("case {} failed (exit at pc {:#x})", h.x[A0] >> 1, h.pc));
            }
            Err(stop) => {
                return Err(format!(
                    "stopped by {stop:?} at pc {:#x}, a0 {:#x}, a7 {}, in case {}",
                    h.pc, h.x[A0], h.x[A7], h.x[GP]
                ));
            }
        }
    }
    Err(format!("no exit after {BUDGET} instructions (pc {:#x}, case {})", h.pc, h.x[GP]))
}

#[test]
#[ignore = "needs riscv-tests built: scripts/riscv-tests.sh <riscv-tests checkout> builds them and runs this"]
fn the_hart_passes_riscv_tests() {
    let dir = std::env::var_os("RISCV_TESTS_BUILD")
        .expect("RISCV_TESTS_BUILD names no directory of built tests (scripts/riscv-tests.sh sets it)");
    let dir = std::path::PathBuf::from(dir);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("rv64u") && !n.contains('.'))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no rv64u* tests in {}", dir.display());
    let mut failed = Vec::new();
    for name in &names {
        let file = std::fs::read(dir.join(name)).unwrap();
        let result = load(&file).and_then(|(flat, entry)| {
            run(&mut Mem { flat, text_writable: WRITES_ITS_TEXT.contains(&name.as_str()) }, entry)
        });
        match result {
            Ok(n) => println!("pass {name} ({n} instructions)"),
            Err(why) => {
                println!("FAIL {name}: {why}");
                failed.push(name.clone());
            }
        }
    }
    if let Ok(skipped) = std::fs::read_to_string(dir.join("SKIPPED")) {
        for line in skipped.lines() {
            println!("skip {line}");
        }
    }
    println!("{} passed, {} failed", names.len() - failed.len(), failed.len());
    assert!(failed.is_empty(), "failed: {failed:?}");
}

/// The pass/fail convention read back from hand-assembled exits.
#[test]
fn the_harness_tells_pass_from_fail() {
    let prog = |a0: u32| {
        // addi a0, zero, a0; addi a7, zero, 93; ecall
        let words = [(a0 << 20) | (10 << 7) | 0x13, (93 << 20) | (17 << 7) | 0x13, 0x73];
        let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        Mem { flat: Flat::with_code(&code, 8192), text_writable: false }
    };
    assert_eq!(run(&mut prog(0), 0), Ok(2));
    assert_eq!(run(&mut prog(5), 0), Err("case 2 failed (exit at pc 0x8)".to_string()));
    // An even a0 is no exit of the convention.
    assert!(run(&mut prog(4), 0).unwrap_err().starts_with("stopped by Ecall"));
    // Falling off the code: zeros are an illegal instruction.
    let mut m = Mem { flat: Flat::with_code(&[0x13, 0, 0, 0], 8192), text_writable: false };
    assert!(run(&mut m, 0).unwrap_err().contains("Illegal"));
}
