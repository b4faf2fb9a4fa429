//! A user-mode 32-bit x86 CPU for the project's xv6-public programs.
//!
//! It decodes with `iced-x86` and runs the integer subset that 32-bit
//! user code compiled for xv6 uses: moves, the stack, calls and jumps, the
//! arithmetic and logic instructions with their flags, multiply and divide,
//! shifts, `setcc`/`cmovcc`, `cld`/`std` and the string moves and stores
//! with `rep`. Segments are flat (xv6-public's user segments start at 0).
//!
//! Every fetch, load and store goes through a [`UserMem`], which the lab
//! backs with its TLB and page walk. `int $64` (xv6's `T_SYSCALL`) stops
//! the CPU for a system call; anything the CPU does not run stops it with
//! a message naming the instruction and its address, never a panic.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use iced_x86::{Decoder, DecoderError, DecoderOptions, Instruction, MemorySize, Mnemonic, OpKind, Register};

pub use super::rv64::UserMem;

/// `%eax`'s number in [`Cpu::regs`] (the system call number and result).
pub const EAX: usize = 0;
/// `%ecx`.
pub const ECX: usize = 1;
/// `%edx`.
pub const EDX: usize = 2;
/// `%ebx`.
pub const EBX: usize = 3;
/// `%esp`, the stack pointer.
pub const ESP: usize = 4;
/// `%ebp`, the frame pointer.
pub const EBP: usize = 5;
/// `%esi`.
pub const ESI: usize = 6;
/// `%edi`.
pub const EDI: usize = 7;

/// The interrupt vector of xv6-public's system calls (`T_SYSCALL`).
pub const T_SYSCALL: u8 = 64;

/// The longest x86 instruction, in bytes.
const MAX_LEN: usize = 15;

/// EFLAGS bits this CPU keeps.
pub mod eflags {
    /// Carry.
    pub const CF: u32 = 1 << 0;
    /// Parity of the low byte.
    pub const PF: u32 = 1 << 2;
    /// Carry out of bit 3.
    pub const AF: u32 = 1 << 4;
    /// Zero.
    pub const ZF: u32 = 1 << 6;
    /// Sign.
    pub const SF: u32 = 1 << 7;
    /// Direction of the string instructions (set: downwards).
    pub const DF: u32 = 1 << 10;
    /// Overflow.
    pub const OF: u32 = 1 << 11;
    /// Interrupts enabled: always set in user mode (xv6's `FL_IF`).
    pub const IF: u32 = 1 << 9;
    /// Bit 1 always reads 1.
    pub const RESERVED: u32 = 1 << 1;
}

/// Bytes at `eip` that are no instruction this CPU runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Illegal {
    /// Where.
    pub eip: u32,
    /// What, in words (`hlt: a privileged instruction`).
    pub what: String,
    /// The trap a CPU takes for it: 6 (`T_ILLOP`, an invalid opcode: bytes
    /// that are no instruction, or one this CPU does not run) or 13
    /// (`T_GPFLT`, a general-protection fault: a privileged instruction,
    /// an `int` the user may not call, a null segment).
    pub trapno: u32,
    /// The error code pushed with it (a general-protection fault for `int $n`: `8·n + 2`).
    pub err: u32,
}

impl fmt::Display for Illegal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {:#x}", self.what, self.eip)
    }
}

/// Why the CPU stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop<F> {
    /// `int $64`: a system call (`%eax` its number, the arguments on the
    /// user stack above the return address). As the CPU does for a trap,
    /// `eip` is already past the `int`.
    Syscall,
    /// `int3` (`eip` past it).
    Breakpoint,
    /// A fetch, load or store was refused; `eip` and the registers are as
    /// before the instruction (a `rep` string instruction keeps the
    /// iterations it finished, as the CPU does).
    Fault(F),
    /// Division by zero, or a quotient too big (trap 0, `T_DIVIDE`).
    DivideError,
    /// Bytes this CPU does not run, or may not in user mode.
    Illegal(Illegal),
}

/// Entries of a [`DecodeCache`] (a power of two).
const CACHE_ENTRIES: usize = 2048;

/// One decoded instruction and the bytes it was decoded from.
#[derive(Clone, Copy)]
struct Decoded {
    /// Its address.
    eip: u32,
    /// The bytes the decoder was given when it decoded it (0: an empty entry).
    len: u8,
    /// Those bytes (from `bytes[0]`, at `eip`).
    bytes: [u8; MAX_LEN + 1],
    /// What iced made of them.
    inst: Instruction,
}

// 2,048 entries of 64 bytes: 128 KiB.
const _: () = assert!(core::mem::size_of::<Decoded>() == 64);

impl Decoded {
    /// No instruction.
    fn empty() -> Decoded {
        Decoded { eip: 0, len: 0, bytes: [0; MAX_LEN + 1], inst: Instruction::default() }
    }
}

/// Decoded instructions for [`Cpu::step_cached`], so that code run again
/// is not decoded again: most of the x86 CPU's time was iced's decoder.
///
/// Contract: nothing a learner sees changes. The CPU still fetches every
/// instruction's bytes through [`UserMem`] as [`Cpu::step`] does (the same
/// halves at the same addresses in the same order, so the TLB's hits,
/// misses and fills, the faults and their walks are the same); only the
/// decoding of bytes equal to those an entry was decoded from at the same
/// `eip` is skipped. The entry is checked against the bytes just fetched,
/// never trusted on its address alone: code written over, a page mapped
/// elsewhere, another process's program at the same address all decode
/// afresh. So one cache may serve every process of a machine. It is a
/// direct-mapped table of 2,048 entries indexed by `eip` (128 KiB,
/// allocated at the first step, none after); a clone copies it.
#[derive(Clone, Default)]
pub struct DecodeCache {
    /// The entries (empty until the first step).
    table: Vec<Decoded>,
    /// Instructions decoded into it.
    decoded: u64,
    /// Instructions run from it without decoding.
    reused: u64,
}

impl DecodeCache {
    /// An empty cache (it allocates its table at the first step).
    #[must_use]
    pub fn new() -> DecodeCache {
        DecodeCache::default()
    }

    /// Instructions decoded into it so far.
    #[must_use]
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    /// Instructions run from it without decoding so far.
    #[must_use]
    pub fn reused(&self) -> u64 {
        self.reused
    }

    /// Instructions it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.table.iter().filter(|e| e.len != 0).count()
    }

    /// True if it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry for `eip`, the table made at the first call.
    fn entry(&mut self, eip: u32) -> &mut Decoded {
        if self.table.is_empty() {
            self.table = alloc::vec![Decoded::empty(); CACHE_ENTRIES];
        }
        &mut self.table[eip as usize & (CACHE_ENTRIES - 1)]
    }
}

impl fmt::Debug for DecodeCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DecodeCache({} instructions, {} decoded, {} reused)", self.len(), self.decoded, self.reused)
    }
}

/// One 32-bit CPU's user registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cpu {
    /// `%eax` … `%edi`, in the CPU's numbering ([`EAX`] … [`EDI`]).
    pub regs: [u32; 8],
    /// The instruction pointer.
    pub eip: u32,
    /// The flags ([`eflags`]).
    pub eflags: u32,
    /// Instructions retired.
    pub instret: u64,
}

impl Default for Cpu {
    fn default() -> Cpu {
        Cpu { regs: [0; 8], eip: 0, eflags: eflags::IF | eflags::RESERVED, instret: 0 }
    }
}

/// A register's place: its number, width in bytes, and whether it is the
/// second byte (`%ah` … `%bh`).
fn reg_place(r: Register) -> Option<(usize, u8, bool)> {
    use Register as R;
    Some(match r {
        R::EAX => (0, 4, false),
        R::ECX => (1, 4, false),
        R::EDX => (2, 4, false),
        R::EBX => (3, 4, false),
        R::ESP => (4, 4, false),
        R::EBP => (5, 4, false),
        R::ESI => (6, 4, false),
        R::EDI => (7, 4, false),
        R::AX => (0, 2, false),
        R::CX => (1, 2, false),
        R::DX => (2, 2, false),
        R::BX => (3, 2, false),
        R::SP => (4, 2, false),
        R::BP => (5, 2, false),
        R::SI => (6, 2, false),
        R::DI => (7, 2, false),
        R::AL => (0, 1, false),
        R::CL => (1, 1, false),
        R::DL => (2, 1, false),
        R::BL => (3, 1, false),
        R::AH => (0, 1, true),
        R::CH => (1, 1, true),
        R::DH => (2, 1, true),
        R::BH => (3, 1, true),
        _ => return None,
    })
}

/// All ones in the low `w` bytes.
fn mask(w: u8) -> u32 {
    if w >= 4 { u32::MAX } else { (1u32 << (8 * u32::from(w))) - 1 }
}

/// The sign bit of a `w`-byte value.
fn sign(w: u8) -> u32 {
    1u32 << (8 * u32::from(w) - 1)
}

/// `v`'s low `w` bytes, sign-extended.
fn sext(v: u32, w: u8) -> i32 {
    let s = 32 - 8 * u32::from(w);
    ((v << s) as i32) >> s
}

/// The width in bytes of a memory operand this CPU runs.
fn mem_width(m: MemorySize) -> Option<u8> {
    use MemorySize as M;
    match m {
        M::UInt8 | M::Int8 => Some(1),
        M::UInt16 | M::Int16 | M::WordOffset => Some(2),
        M::UInt32 | M::Int32 | M::DwordOffset => Some(4),
        _ => None,
    }
}

/// The instruction's name as a learner reads it (`hlt`, `mov`), as GNU
/// objdump names it in AT&T syntax (without a size suffix).
fn name(i: &Instruction) -> Cow<'static, str> {
    mnemonic_name(i.mnemonic()).unwrap_or(Cow::Borrowed("(an instruction this CPU does not know)"))
}

impl Cpu {
    /// A CPU that starts at `eip` with the stack pointer at `esp`.
    #[must_use]
    pub fn new(eip: u32, esp: u32) -> Cpu {
        let mut c = Cpu { eip, ..Cpu::default() };
        c.regs[ESP] = esp;
        c
    }

    /// True if the flag `f` ([`eflags`]) is set.
    #[must_use]
    pub fn flag(&self, f: u32) -> bool {
        self.eflags & f != 0
    }

    fn set_flag(&mut self, f: u32, on: bool) {
        if on {
            self.eflags |= f;
        } else {
            self.eflags &= !f;
        }
    }

    /// The instruction at `eip`, fetched (in aligned 16-bit halves: 4
    /// bytes, then 8, then 15 while the decoder needs more; never past the
    /// page it starts on unless it really goes on into the next) and decoded.
    ///
    /// # Errors
    /// A refused fetch, or bytes that are no instruction.
    pub fn fetch<M: UserMem>(&self, mem: &mut M) -> Result<Instruction, Stop<M::Fault>> {
        self.fetch_in(mem, None).map(|(i, _)| i)
    }

    /// [`Cpu::fetch`], skipping the decoder where `known` (the cache's
    /// entry for `eip`, if any) already decoded the same bytes; an
    /// instruction decoded here is kept in `known`.
    ///
    /// Contract: the fetches are [`Cpu::fetch`]'s, call for call. Each round
    /// fetches the same bytes it would without a cache, then compares
    /// everything fetched so far with the bytes `known` was decoded from:
    /// equal bytes at the same `eip` decode the same (iced's decoder
    /// depends on nothing else), so if the entry's decoder needed more
    /// bytes at this many, the next round fetches them, and at the count
    /// it decoded from, its instruction is the answer. A byte that differs
    /// (code written over, another program, a page mapped elsewhere) sends
    /// this and every later round to the decoder. True with the
    /// instruction if it is `known`'s.
    fn fetch_in<M: UserMem>(
        &self,
        mem: &mut M,
        known: Option<&mut Decoded>,
    ) -> Result<(Instruction, bool), Stop<M::Fault>> {
        let start = u64::from(self.eip);
        let to_page_end = (0x1000 - (start & 0xfff)) as usize;
        // The bytes fetched, little-endian (byte k in bits 8k to 8k + 7): no
        // array written a byte at a time and read whole, which stalled.
        let mut buf = 0u128;
        let mut have = 0usize;
        let mut same = known.as_deref().is_some_and(|k| k.len != 0 && k.eip == self.eip);
        // As few bytes as the instruction needs (most take at most four), and
        // the next page only if the instruction goes on into it.
        // Read from a constant, not from an array built on the stack for
        // each instruction: copying that array into the loop's iterator
        // stalled the CPU on every cached step.
        const ROUNDS: [usize; 4] = [4, 8, MAX_LEN, MAX_LEN];
        for (round, &w) in ROUNDS.iter().enumerate() {
            // The last round goes on into the next page.
            let want = if round < 3 { w.min(to_page_end) } else { w };
            if want > have {
                fill(mem, start, &mut buf, have, want)?;
                have = want;
            }
            if same && let Some(k) = known.as_deref() {
                let len = usize::from(k.len);
                if have <= len && same_bytes(buf, u128::from_le_bytes(k.bytes), have) {
                    if have == len {
                        return Ok((k.inst, true));
                    }
                    // The decoder wanted more of these same bytes.
                    continue;
                }
                same = false;
            }
            let bytes = buf.to_le_bytes();
            let mut d = Decoder::with_ip(32, &bytes[..have], start, DecoderOptions::NONE);
            let i = d.decode();
            if !i.is_invalid() {
                if let Some(k) = known {
                    *k = Decoded { eip: self.eip, len: have as u8, bytes, inst: i };
                }
                return Ok((i, false));
            }
            if d.last_error() != DecoderError::NoMoreBytes {
                break;
            }
        }
        let bytes: String = buf.to_le_bytes()[..have.min(4)].iter().map(|b| format!("{b:02x} ")).collect();
        Err(Stop::Illegal(Illegal {
            eip: self.eip,
            what: format!("no x86 instruction (bytes {}…)", bytes.trim_end()),
            trapno: 6,
            err: 0,
        }))
    }

    /// Run one instruction.
    ///
    /// # Errors
    /// Why the CPU stopped ([`Stop`]).
    pub fn step<M: UserMem>(&mut self, mem: &mut M) -> Result<(), Stop<M::Fault>> {
        let i = self.fetch(mem)?;
        self.exec(&i, mem)
    }

    /// [`Cpu::step`] with a cache of decoded instructions: the same
    /// fetches, loads and stores, the same result (see [`DecodeCache`]).
    ///
    /// # Errors
    /// As [`Cpu::step`].
    pub fn step_cached<M: UserMem>(&mut self, mem: &mut M, cache: &mut DecodeCache) -> Result<(), Stop<M::Fault>> {
        let (i, reused) = self.fetch_in(mem, Some(cache.entry(self.eip)))?;
        if reused {
            cache.reused += 1;
        } else {
            cache.decoded += 1;
        }
        self.exec(&i, mem)
    }

    /// Execute `i` (the instruction at `eip`). On a fault or an illegal
    /// instruction nothing changes; a system call or breakpoint leaves `eip`
    /// past the `int`.
    ///
    /// # Errors
    /// As [`Cpu::step`].
    pub fn exec<M: UserMem>(&mut self, i: &Instruction, mem: &mut M) -> Result<(), Stop<M::Fault>> {
        // Work on a copy, kept only if the instruction completes (or traps).
        let mut n = *self;
        n.eip = i.next_ip32();
        match n.run(i, mem, self.eip) {
            Ok(()) => {
                n.instret += 1;
                *self = n;
                Ok(())
            }
            Err(s @ (Stop::Syscall | Stop::Breakpoint)) => {
                n.instret += 1;
                *self = n;
                Err(s)
            }
            // A rep string instruction keeps the iterations it finished.
            Err(s @ Stop::Fault(_)) if i.has_rep_prefix() => {
                n.eip = self.eip;
                *self = n;
                Err(s)
            }
            Err(s) => Err(s),
        }
    }

    /// Stop with an illegal instruction `i`, saying `why`.
    /// Contract: trap 6 (invalid opcode), as a CPU without the instruction raises.
    fn illegal<F>(&self, i: &Instruction, at: u32, why: &str) -> Stop<F> {
        Stop::Illegal(Illegal { eip: at, what: format!("{}: {why}", name(i)), trapno: 6, err: 0 })
    }

    /// Stop with a general-protection fault (trap 13, error code `err`) at `i`, saying `why`.
    /// Contract: never fails; `eip` stays at the instruction, as for any fault.
    fn gp<F>(&self, i: &Instruction, at: u32, why: &str, err: u32) -> Stop<F> {
        Stop::Illegal(Illegal { eip: at, what: format!("{}: {why}", name(i)), trapno: 13, err })
    }

    /// The body of [`Cpu::exec`], on the copy; `at` is the instruction's address.
    fn run<M: UserMem>(&mut self, i: &Instruction, mem: &mut M, at: u32) -> Result<(), Stop<M::Fault>> {
        use Mnemonic as K;
        match i.memory_segment() {
            Register::None | Register::DS | Register::SS | Register::ES | Register::CS => {}
            _ => {
                return Err(self.gp(
                    i,
                    at,
                    "a segment override (xv6's user segments are flat; %fs and %gs hold null selectors)",
                    0,
                ));
            }
        }
        let m = i.mnemonic();
        match m {
            K::Nop => {}
            K::Mov => {
                let w = self.width(i, 0, at)?;
                let v = self.read(i, 1, w, mem, at)?;
                self.write(i, 0, w, v, mem, at)?;
            }
            K::Movzx | K::Movsx => {
                let (dw, sw) = (self.width(i, 0, at)?, self.width(i, 1, at)?);
                let v = self.read(i, 1, sw, mem, at)?;
                let v = if m == K::Movsx { sext(v, sw) as u32 & mask(dw) } else { v };
                self.write(i, 0, dw, v, mem, at)?;
            }
            K::Lea => {
                let w = self.width(i, 0, at)?;
                let a = self.address(i);
                self.write(i, 0, w, a & mask(w), mem, at)?;
            }
            K::Xchg => {
                let w = self.width(i, 0, at)?;
                let (a, b) = (self.read(i, 0, w, mem, at)?, self.read(i, 1, w, mem, at)?);
                self.write(i, 0, w, b, mem, at)?;
                self.write(i, 1, w, a, mem, at)?;
            }
            K::Push => {
                let w = self.width(i, 0, at)?;
                if w != 4 {
                    return Err(self.illegal(i, at, "a 16-bit push"));
                }
                let v = self.read(i, 0, 4, mem, at)?;
                self.push(v, mem)?;
            }
            K::Pop => {
                let w = self.width(i, 0, at)?;
                if w != 4 {
                    return Err(self.illegal(i, at, "a 16-bit pop"));
                }
                let v = self.pop(mem)?;
                self.write(i, 0, 4, v, mem, at)?;
            }
            K::Leave => {
                self.regs[ESP] = self.regs[EBP];
                self.regs[EBP] = self.pop(mem)?;
            }
            K::Call => {
                let target = self.target(i, mem, at)?;
                let ret = self.eip;
                self.push(ret, mem)?;
                self.eip = target;
            }
            K::Ret => {
                self.eip = self.pop(mem)?;
                if i.op_count() == 1 {
                    self.regs[ESP] = self.regs[ESP].wrapping_add(u32::from(i.immediate16()));
                }
            }
            K::Jmp => self.eip = self.target(i, mem, at)?,
            K::Add | K::Adc | K::Sub | K::Sbb | K::Cmp | K::And | K::Or | K::Xor | K::Test => {
                let w = self.width(i, 0, at)?;
                let a = self.read(i, 0, w, mem, at)?;
                let b = self.read(i, 1, w, mem, at)? & mask(w);
                let carry = u32::from(self.flag(eflags::CF));
                let r = match m {
                    K::Add => self.add(a, b, 0, w),
                    K::Adc => self.add(a, b, carry, w),
                    K::Sub | K::Cmp => self.sub(a, b, 0, w),
                    K::Sbb => self.sub(a, b, carry, w),
                    K::And | K::Test => self.logic(a & b, w),
                    K::Or => self.logic(a | b, w),
                    _ => self.logic(a ^ b, w),
                };
                if !matches!(m, K::Cmp | K::Test) {
                    self.write(i, 0, w, r, mem, at)?;
                }
            }
            K::Inc | K::Dec => {
                let w = self.width(i, 0, at)?;
                let a = self.read(i, 0, w, mem, at)?;
                let cf = self.flag(eflags::CF);
                let r = if m == K::Inc { self.add(a, 1, 0, w) } else { self.sub(a, 1, 0, w) };
                self.set_flag(eflags::CF, cf);
                self.write(i, 0, w, r, mem, at)?;
            }
            K::Neg => {
                let w = self.width(i, 0, at)?;
                let a = self.read(i, 0, w, mem, at)?;
                let r = self.sub(0, a, 0, w);
                self.write(i, 0, w, r, mem, at)?;
            }
            K::Not => {
                let w = self.width(i, 0, at)?;
                let a = self.read(i, 0, w, mem, at)?;
                self.write(i, 0, w, !a & mask(w), mem, at)?;
            }
            K::Shl | K::Sal | K::Shr | K::Sar | K::Rol | K::Ror => {
                let w = self.width(i, 0, at)?;
                let a = self.read(i, 0, w, mem, at)?;
                let count = self.read(i, 1, 1, mem, at)? & 0x1f;
                if count != 0 {
                    let r = self.shift(m, a, count, w);
                    self.write(i, 0, w, r, mem, at)?;
                }
            }
            K::Mul | K::Imul if i.op_count() == 1 => self.widening_mul(i, m == K::Imul, mem, at)?,
            K::Imul => {
                let w = self.width(i, 0, at)?;
                let (a, b) = if i.op_count() == 3 {
                    (self.read(i, 1, w, mem, at)?, self.read(i, 2, w, mem, at)?)
                } else {
                    (self.read(i, 0, w, mem, at)?, self.read(i, 1, w, mem, at)?)
                };
                let full = i64::from(sext(a, w)) * i64::from(sext(b, w));
                let r = (full as u32) & mask(w);
                let fits = i64::from(sext(r, w)) == full;
                self.set_flag(eflags::CF, !fits);
                self.set_flag(eflags::OF, !fits);
                self.write(i, 0, w, r, mem, at)?;
            }
            K::Div | K::Idiv => self.divide(i, m == K::Idiv, mem, at)?,
            K::Cdq => self.regs[EDX] = if self.regs[EAX] & 0x8000_0000 != 0 { u32::MAX } else { 0 },
            K::Cwde => self.regs[EAX] = sext(self.regs[EAX], 2) as u32,
            K::Cld => self.set_flag(eflags::DF, false),
            K::Std => self.set_flag(eflags::DF, true),
            K::Int3 => return Err(Stop::Breakpoint),
            K::Int => {
                if i.immediate8() == T_SYSCALL {
                    // A trap: the CPU has finished the int (eip past it).
                    return Err(Stop::Syscall);
                }
                let n = i.immediate8();
                return Err(self.gp(
                    i,
                    at,
                    &format!(
                        "int ${n}: only int ${T_SYSCALL} (T_SYSCALL) may be called from user mode; the CPU raises a general-protection fault"
                    ),
                    8 * u32::from(n) + 2,
                ));
            }
            K::Movsb | K::Movsw | K::Movsd | K::Stosb | K::Stosw | K::Stosd | K::Lodsb | K::Lodsw | K::Lodsd => {
                self.string(i, mem, at)?;
            }
            _ => match conditional(m) {
                Some((Then::Jump, _, cc)) if i.op_kind(0) == OpKind::NearBranch32 => {
                    if self.holds(cc) {
                        self.eip = i.near_branch32();
                    }
                }
                Some((Then::Set, _, cc)) => {
                    let yes = self.holds(cc);
                    self.write(i, 0, 1, u32::from(yes), mem, at)?;
                }
                Some((Then::Move, _, cc)) => {
                    let w = self.width(i, 0, at)?;
                    // The source is read (and may fault) whether or not it moves.
                    let v = self.read(i, 1, w, mem, at)?;
                    if self.holds(cc) {
                        self.write(i, 0, w, v, mem, at)?;
                    }
                }
                _ if privileged(i.mnemonic()) => return Err(self.gp(i, at, &what_it_is(i), 0)),
                _ => return Err(self.illegal(i, at, &what_it_is(i))),
            },
        }
        Ok(())
    }

    /// The width in bytes of operand `op`.
    fn width<F>(&self, i: &Instruction, op: u32, at: u32) -> Result<u8, Stop<F>> {
        let w = match i.op_kind(op) {
            OpKind::Register => reg_place(i.op_register(op)).map(|p| p.1),
            OpKind::Memory => mem_width(i.memory_size()),
            OpKind::Immediate8 => Some(1),
            OpKind::Immediate16 => Some(2),
            OpKind::Immediate32 | OpKind::Immediate8to32 => Some(4),
            _ => None,
        };
        w.ok_or_else(|| self.illegal(i, at, "an operand this CPU does not run (not an integer register or memory)"))
    }

    /// The memory operand's address: base + index·scale + displacement (flat segments).
    fn address(&self, i: &Instruction) -> u32 {
        let reg = |r: Register| reg_place(r).map_or(0, |(n, ..)| self.regs[n]);
        reg(i.memory_base())
            .wrapping_add(reg(i.memory_index()).wrapping_mul(i.memory_index_scale()))
            .wrapping_add(i.memory_displacement32())
    }

    /// Operand `op`'s value (`w` bytes wide).
    fn read<M: UserMem>(&self, i: &Instruction, op: u32, w: u8, mem: &mut M, at: u32) -> Result<u32, Stop<M::Fault>> {
        Ok(match i.op_kind(op) {
            OpKind::Register => {
                let Some((n, rw, high)) = reg_place(i.op_register(op)) else {
                    return Err(self.illegal(i, at, "a register this CPU does not have in user mode"));
                };
                let v = self.regs[n];
                if high { (v >> 8) & 0xff } else { v & mask(rw) }
            }
            OpKind::Memory => load(mem, self.address(i), w)?,
            OpKind::Immediate8 => u32::from(i.immediate8()),
            OpKind::Immediate16 => u32::from(i.immediate16()),
            OpKind::Immediate32 => i.immediate32(),
            OpKind::Immediate8to32 => i.immediate8to32() as u32,
            _ => return Err(self.illegal(i, at, "an operand this CPU does not run")),
        })
    }

    /// Write `v` (`w` bytes) to operand `op`.
    fn write<M: UserMem>(
        &mut self,
        i: &Instruction,
        op: u32,
        w: u8,
        v: u32,
        mem: &mut M,
        at: u32,
    ) -> Result<(), Stop<M::Fault>> {
        match i.op_kind(op) {
            OpKind::Register => {
                let Some((n, rw, high)) = reg_place(i.op_register(op)) else {
                    return Err(self.illegal(i, at, "a register this CPU does not have in user mode"));
                };
                let r = &mut self.regs[n];
                *r = match (rw, high) {
                    (_, true) => (*r & !0xff00) | ((v & 0xff) << 8),
                    (4, _) => v,
                    _ => (*r & !mask(rw)) | (v & mask(rw)),
                };
            }
            OpKind::Memory => mem.store(u64::from(self.address(i)), w, u64::from(v & mask(w))).map_err(Stop::Fault)?,
            _ => return Err(self.illegal(i, at, "an operand this CPU cannot write")),
        }
        Ok(())
    }

    /// Push a 32-bit word.
    fn push<M: UserMem>(&mut self, v: u32, mem: &mut M) -> Result<(), Stop<M::Fault>> {
        let sp = self.regs[ESP].wrapping_sub(4);
        mem.store(u64::from(sp), 4, u64::from(v)).map_err(Stop::Fault)?;
        self.regs[ESP] = sp;
        Ok(())
    }

    /// Pop a 32-bit word.
    fn pop<M: UserMem>(&mut self, mem: &mut M) -> Result<u32, Stop<M::Fault>> {
        let v = load(mem, self.regs[ESP], 4)?;
        self.regs[ESP] = self.regs[ESP].wrapping_add(4);
        Ok(v)
    }

    /// Where a call or jump goes: its relative target, or the register or
    /// memory word it names.
    fn target<M: UserMem>(&self, i: &Instruction, mem: &mut M, at: u32) -> Result<u32, Stop<M::Fault>> {
        match i.op_kind(0) {
            OpKind::NearBranch32 => Ok(i.near_branch32()),
            OpKind::Register | OpKind::Memory => {
                let w = self.width(i, 0, at)?;
                if w != 4 {
                    return Err(self.illegal(i, at, "a 16-bit jump target"));
                }
                self.read(i, 0, 4, mem, at)
            }
            _ => Err(self.illegal(i, at, "a far call or jump (xv6's user code has one flat segment)")),
        }
    }

    /// Set ZF, SF and PF from a `w`-byte result.
    fn szp(&mut self, r: u32, w: u8) {
        self.set_flag(eflags::ZF, r & mask(w) == 0);
        self.set_flag(eflags::SF, r & sign(w) != 0);
        self.set_flag(eflags::PF, (r as u8).count_ones().is_multiple_of(2));
    }

    /// `a + b + c` on `w` bytes, with the flags.
    fn add(&mut self, a: u32, b: u32, c: u32, w: u8) -> u32 {
        let full = u64::from(a & mask(w)) + u64::from(b & mask(w)) + u64::from(c);
        let r = (full as u32) & mask(w);
        self.set_flag(eflags::CF, full > u64::from(mask(w)));
        self.set_flag(eflags::OF, (a ^ r) & (b ^ r) & sign(w) != 0);
        self.set_flag(eflags::AF, (a ^ b ^ r) & 0x10 != 0);
        self.szp(r, w);
        r
    }

    /// `a - b - c` on `w` bytes, with the flags (CF is the borrow).
    fn sub(&mut self, a: u32, b: u32, c: u32, w: u8) -> u32 {
        let (a, b) = (a & mask(w), b & mask(w));
        let r = a.wrapping_sub(b).wrapping_sub(c) & mask(w);
        self.set_flag(eflags::CF, u64::from(a) < u64::from(b) + u64::from(c));
        self.set_flag(eflags::OF, (a ^ b) & (a ^ r) & sign(w) != 0);
        self.set_flag(eflags::AF, (a ^ b ^ r) & 0x10 != 0);
        self.szp(r, w);
        r
    }

    /// A logical result: CF and OF clear.
    fn logic(&mut self, r: u32, w: u8) -> u32 {
        let r = r & mask(w);
        self.set_flag(eflags::CF, false);
        self.set_flag(eflags::OF, false);
        self.set_flag(eflags::AF, false);
        self.szp(r, w);
        r
    }

    /// A shift or rotate of the `w`-byte `a` by `count` (1 to 31).
    fn shift(&mut self, m: Mnemonic, a: u32, count: u32, w: u8) -> u32 {
        let bits = 8 * u32::from(w);
        let a = a & mask(w);
        let msb = |v: u32| v & sign(w) != 0;
        let (r, cf, of) = match m {
            Mnemonic::Shl | Mnemonic::Sal => {
                let r = if count >= 32 { 0 } else { (a << count) & mask(w) };
                let cf = count <= bits && (u64::from(a) >> (bits - count)) & 1 == 1;
                (r, cf, msb(r) != cf)
            }
            Mnemonic::Shr => {
                let r = a.checked_shr(count).unwrap_or(0);
                (r, (u64::from(a) >> (count - 1)) & 1 == 1, msb(a))
            }
            Mnemonic::Sar => {
                let s = sext(a, w);
                let r = (s >> count.min(31)) as u32 & mask(w);
                (r, (s >> (count - 1).min(31)) & 1 == 1, false)
            }
            Mnemonic::Rol => {
                let c = count % bits;
                let r = if c == 0 { a } else { ((a << c) | (a >> (bits - c))) & mask(w) };
                (r, r & 1 == 1, msb(r) != (r & 1 == 1))
            }
            _ => {
                let c = count % bits;
                let r = if c == 0 { a } else { ((a >> c) | (a << (bits - c))) & mask(w) };
                (r, msb(r), msb(r) != (r & (sign(w) >> 1) != 0))
            }
        };
        self.set_flag(eflags::CF, cf);
        if count == 1 {
            self.set_flag(eflags::OF, of);
        }
        if !matches!(m, Mnemonic::Rol | Mnemonic::Ror) {
            self.szp(r, w);
        }
        r
    }

    /// One-operand `mul` / `imul`: `%edx:%eax = %eax · src` (`%ax = %al · src` for a byte).
    fn widening_mul<M: UserMem>(
        &mut self,
        i: &Instruction,
        signed: bool,
        mem: &mut M,
        at: u32,
    ) -> Result<(), Stop<M::Fault>> {
        let w = self.width(i, 0, at)?;
        let src = self.read(i, 0, w, mem, at)?;
        let a = self.regs[EAX] & mask(w);
        let (lo, hi, overflow) = if signed {
            let full = i64::from(sext(a, w)) * i64::from(sext(src, w));
            let lo = full as u32 & mask(w);
            (lo, (full >> (8 * u32::from(w))) as u32 & mask(w), i64::from(sext(lo, w)) != full)
        } else {
            let full = u64::from(a) * u64::from(src);
            let hi = (full >> (8 * u32::from(w))) as u32 & mask(w);
            (full as u32 & mask(w), hi, hi != 0)
        };
        self.set_pair(w, lo, hi);
        self.set_flag(eflags::CF, overflow);
        self.set_flag(eflags::OF, overflow);
        Ok(())
    }

    /// `div` / `idiv`: `%edx:%eax` by the operand (`%ax` by a byte).
    fn divide<M: UserMem>(
        &mut self,
        i: &Instruction,
        signed: bool,
        mem: &mut M,
        at: u32,
    ) -> Result<(), Stop<M::Fault>> {
        let w = self.width(i, 0, at)?;
        let d = self.read(i, 0, w, mem, at)?;
        if d == 0 {
            return Err(Stop::DivideError);
        }
        let bits = 8 * u32::from(w);
        let (eax, edx) = (self.regs[EAX], self.regs[EDX]);
        let dividend: u64 = match w {
            1 => u64::from(eax & 0xffff),
            2 => (u64::from(edx & 0xffff) << 16) | u64::from(eax & 0xffff),
            _ => (u64::from(edx) << 32) | u64::from(eax),
        };
        let (q, r) = if signed {
            // The dividend is twice the operand's width, signed.
            let n = ((dividend << (64 - 2 * bits)) as i64) >> (64 - 2 * bits);
            let dv = i64::from(sext(d, w));
            let q = n / dv;
            if q < i64::from(sext(sign(w), w)) || q > i64::from(mask(w) >> 1) {
                return Err(Stop::DivideError);
            }
            (q as u32 & mask(w), (n % dv) as u32 & mask(w))
        } else {
            let q = dividend / u64::from(d);
            if q > u64::from(mask(w)) {
                return Err(Stop::DivideError);
            }
            (q as u32, (dividend % u64::from(d)) as u32)
        };
        self.set_pair(w, q, r);
        Ok(())
    }

    /// Put a pair of `w`-byte results where `mul` and `div` leave them: the
    /// low (or quotient) in `%al` and the high (or remainder) in `%ah` for a
    /// byte; else in `%ax`/`%eax` and `%dx`/`%edx`.
    fn set_pair(&mut self, w: u8, lo: u32, hi: u32) {
        match w {
            1 => self.regs[EAX] = (self.regs[EAX] & !0xffff) | (hi << 8) | lo,
            2 => {
                self.regs[EAX] = (self.regs[EAX] & !0xffff) | lo;
                self.regs[EDX] = (self.regs[EDX] & !0xffff) | hi;
            }
            _ => {
                self.regs[EAX] = lo;
                self.regs[EDX] = hi;
            }
        }
    }

    /// `movs`, `stos`, `lods`, with or without `rep`: each iteration
    /// finished is kept, as on the CPU, so a fault part-way leaves
    /// `%ecx`, `%esi` and `%edi` at the element that faulted.
    fn string<M: UserMem>(&mut self, i: &Instruction, mem: &mut M, at: u32) -> Result<(), Stop<M::Fault>> {
        use Mnemonic as K;
        if i.has_repe_prefix() && !i.has_rep_prefix() || i.has_repne_prefix() {
            return Err(self.illegal(i, at, "repne with a string move or store"));
        }
        let m = i.mnemonic();
        let w: u8 = match m {
            K::Movsb | K::Stosb | K::Lodsb => 1,
            K::Movsw | K::Stosw | K::Lodsw => 2,
            _ => 4,
        };
        let step = if self.flag(eflags::DF) { 0u32.wrapping_sub(u32::from(w)) } else { u32::from(w) };
        let rep = i.has_rep_prefix();
        loop {
            if rep && self.regs[ECX] == 0 {
                break;
            }
            match m {
                K::Movsb | K::Movsw | K::Movsd => {
                    let v = load(mem, self.regs[ESI], w)?;
                    mem.store(u64::from(self.regs[EDI]), w, u64::from(v)).map_err(Stop::Fault)?;
                    self.regs[ESI] = self.regs[ESI].wrapping_add(step);
                    self.regs[EDI] = self.regs[EDI].wrapping_add(step);
                }
                K::Stosb | K::Stosw | K::Stosd => {
                    mem.store(u64::from(self.regs[EDI]), w, u64::from(self.regs[EAX] & mask(w)))
                        .map_err(Stop::Fault)?;
                    self.regs[EDI] = self.regs[EDI].wrapping_add(step);
                }
                _ => {
                    let v = load(mem, self.regs[ESI], w)?;
                    self.regs[EAX] = (self.regs[EAX] & !mask(w)) | v;
                    self.regs[ESI] = self.regs[ESI].wrapping_add(step);
                }
            }
            if !rep {
                break;
            }
            self.regs[ECX] -= 1;
        }
        Ok(())
    }

    /// Whether condition `cc` (0–15, in the order of [`COND_NAMES`]) holds
    /// on the flags. As in the encoding, bits 3..1 choose the test and bit 0
    /// negates it (`jne` is `je` negated).
    fn holds(&self, cc: u8) -> bool {
        let f = |b| self.flag(b);
        let yes = match cc >> 1 {
            0 => f(eflags::OF),
            1 => f(eflags::CF),
            2 => f(eflags::ZF),
            3 => f(eflags::CF) || f(eflags::ZF),
            4 => f(eflags::SF),
            5 => f(eflags::PF),
            6 => f(eflags::SF) != f(eflags::OF),
            _ => f(eflags::ZF) || f(eflags::SF) != f(eflags::OF),
        };
        yes != (cc & 1 == 1)
    }
}

/// What a conditional instruction does when its condition holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Then {
    /// `jcc`: jump.
    Jump,
    /// `setcc`: set its byte to 1 (else 0).
    Set,
    /// `cmovcc`: move.
    Move,
}

/// The sixteen conditions, in the order of their encoding (the low four
/// bits of `jcc`'s opcode).
const COND_NAMES: [&str; 16] = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

/// Each family's sixteen mnemonics, in the order of [`COND_NAMES`].
const CONDITIONAL: [(Then, &str, [Mnemonic; 16]); 3] = {
    use Mnemonic as K;
    [
        (
            Then::Jump,
            "j",
            [
                K::Jo,
                K::Jno,
                K::Jb,
                K::Jae,
                K::Je,
                K::Jne,
                K::Jbe,
                K::Ja,
                K::Js,
                K::Jns,
                K::Jp,
                K::Jnp,
                K::Jl,
                K::Jge,
                K::Jle,
                K::Jg,
            ],
        ),
        (
            Then::Set,
            "set",
            [
                K::Seto,
                K::Setno,
                K::Setb,
                K::Setae,
                K::Sete,
                K::Setne,
                K::Setbe,
                K::Seta,
                K::Sets,
                K::Setns,
                K::Setp,
                K::Setnp,
                K::Setl,
                K::Setge,
                K::Setle,
                K::Setg,
            ],
        ),
        (
            Then::Move,
            "cmov",
            [
                K::Cmovo,
                K::Cmovno,
                K::Cmovb,
                K::Cmovae,
                K::Cmove,
                K::Cmovne,
                K::Cmovbe,
                K::Cmova,
                K::Cmovs,
                K::Cmovns,
                K::Cmovp,
                K::Cmovnp,
                K::Cmovl,
                K::Cmovge,
                K::Cmovle,
                K::Cmovg,
            ],
        ),
    ]
};

/// The family, prefix and condition (0–15) of a `jcc`, `setcc` or `cmovcc`.
fn conditional(m: Mnemonic) -> Option<(Then, &'static str, u8)> {
    CONDITIONAL
        .iter()
        .find_map(|(then, prefix, ms)| ms.iter().position(|x| *x == m).map(|cc| (*then, *prefix, cc as u8)))
}

/// True for an instruction user code may not run (CPL 3, IOPL 0): a general-protection fault.
fn privileged(m: Mnemonic) -> bool {
    use Mnemonic as K;
    matches!(m, K::Hlt | K::Cli | K::Sti | K::In | K::Out | K::Insb | K::Insd | K::Outsb | K::Outsd | K::Lgdt | K::Lidt)
}

/// Why an instruction this CPU does not run is refused, in words.
fn what_it_is(i: &Instruction) -> String {
    if privileged(i.mnemonic()) {
        "a privileged instruction (user code runs at CPL 3; the CPU raises a general-protection fault)".to_string()
    } else if is_x87(i) {
        "an x87 floating-point instruction, which pagelab's CPU does not run; real xv6-public leaves the x87 on (CR0.EM clear), so there it would run, and this trap is pagelab's".to_string()
    } else {
        "not in the integer subset pagelab's CPU runs (the instructions its programs use); real xv6-public would not stop here unless the CPU lacks it too".to_string()
    }
}

/// True for an x87 floating-point instruction: iced's mnemonics are in
/// alphabetical order, and those from `f2xm1` to `fyl2xp1` are the x87's
/// (`fld1`, `fadd`, `fstp`, `fxsave`). Compared, not named: iced's table of
/// names is large for a wasm page.
fn is_x87(i: &Instruction) -> bool {
    (Mnemonic::F2xm1..=Mnemonic::Fyl2xp1).contains(&i.mnemonic())
}

/// Fetch bytes `from..to` of the instruction at `start` into `buf` (byte
/// k in bits 8k to 8k + 7), in aligned 16-bit halves.
fn fill<M: UserMem>(mem: &mut M, start: u64, buf: &mut u128, from: usize, to: usize) -> Result<(), Stop<M::Fault>> {
    // Of each half, only the bytes in from..to (the first half may begin a
    // byte before `start + from`, the last end a byte after `start + to`).
    let ones = |n: usize| (1u128 << (8 * n)) - 1;
    let keep = ones(to) & !ones(from);
    let mut a = (start + from as u64) & !1;
    while a < start + to as u64 {
        let half = u128::from(mem.fetch16(a).map_err(Stop::Fault)?);
        let at = if a < start { half >> 8 } else { half << (8 * (a - start)) };
        *buf |= at & keep;
        a += 2;
    }
    Ok(())
}

/// True if the first `n` bytes (at most 16) of `a` and `b` (little-endian)
/// are equal: one comparison (a slice comparison's call to memcmp took a
/// quarter of a cached step).
fn same_bytes(a: u128, b: u128, n: usize) -> bool {
    let keep = if n >= 16 { u128::MAX } else { (1u128 << (8 * n)) - 1 };
    (a ^ b) & keep == 0
}

/// Load `w` bytes at `va`.
fn load<M: UserMem>(mem: &mut M, va: u32, w: u8) -> Result<u32, Stop<M::Fault>> {
    mem.load(u64::from(va), w).map(|v| v as u32).map_err(Stop::Fault)
}

/// True if `i`'s last memory access is a store: it writes its memory
/// operand, pushes (a call pushes its return address) or is a string store.
/// For display: which access to walk after a step.
#[must_use]
pub fn stores_last(i: &Instruction) -> bool {
    use Mnemonic as K;
    match i.mnemonic() {
        K::Push | K::Call | K::Movsb | K::Movsw | K::Movsd | K::Stosb | K::Stosw | K::Stosd => true,
        K::Cmp | K::Test | K::Jmp | K::Pop | K::Lea | K::Ret | K::Leave => false,
        _ => i.op_count() > 0 && i.op_kind(0) == OpKind::Memory,
    }
}

/// GNU objdump's AT&T name for each mnemonic this CPU runs or names.
fn mnemonic_name(m: Mnemonic) -> Option<Cow<'static, str>> {
    use Mnemonic as K;
    if let Some((_, prefix, cc)) = conditional(m) {
        return Some(Cow::Owned(format!("{prefix}{}", COND_NAMES[usize::from(cc)])));
    }
    Some(Cow::Borrowed(match m {
        K::Nop => "nop",
        K::Mov => "mov",
        K::Movzx => "movz",
        K::Movsx => "movs",
        K::Lea => "lea",
        K::Xchg => "xchg",
        K::Push => "push",
        K::Pop => "pop",
        K::Leave => "leave",
        K::Call => "call",
        K::Ret => "ret",
        K::Jmp => "jmp",
        K::Add => "add",
        K::Adc => "adc",
        K::Sub => "sub",
        K::Sbb => "sbb",
        K::Cmp => "cmp",
        K::And => "and",
        K::Or => "or",
        K::Xor => "xor",
        K::Test => "test",
        K::Inc => "inc",
        K::Dec => "dec",
        K::Neg => "neg",
        K::Not => "not",
        K::Shl | K::Sal => "shl",
        K::Shr => "shr",
        K::Sar => "sar",
        K::Rol => "rol",
        K::Ror => "ror",
        K::Mul => "mul",
        K::Imul => "imul",
        K::Div => "div",
        K::Idiv => "idiv",
        K::Cdq => "cltd",
        K::Cwde => "cwtl",
        K::Cld => "cld",
        K::Std => "std",
        K::Int3 => "int3",
        K::Int => "int",
        K::Movsb | K::Movsw | K::Movsd => "movs",
        K::Stosb | K::Stosw | K::Stosd => "stos",
        K::Lodsb | K::Lodsw | K::Lodsd => "lods",
        K::Hlt => "hlt",
        K::Cli => "cli",
        K::Sti => "sti",
        K::In => "in",
        K::Out => "out",
        _ => return None,
    }))
}

/// A register's AT&T name (`%eax`, `%al`).
fn reg_name(r: Register) -> &'static str {
    const NAMES: [[&str; 8]; 3] = [
        ["%eax", "%ecx", "%edx", "%ebx", "%esp", "%ebp", "%esi", "%edi"],
        ["%ax", "%cx", "%dx", "%bx", "%sp", "%bp", "%si", "%di"],
        ["%al", "%cl", "%dl", "%bl", "%ah", "%ch", "%dh", "%bh"],
    ];
    match reg_place(r) {
        Some((n, 4, _)) => NAMES[0][n],
        Some((n, 2, _)) => NAMES[1][n],
        Some((n, _, high)) => NAMES[2][n + if high { 4 } else { 0 }],
        None => match r {
            Register::ES => "%es",
            Register::CS => "%cs",
            Register::SS => "%ss",
            Register::DS => "%ds",
            Register::FS => "%fs",
            Register::GS => "%gs",
            _ => "%?",
        },
    }
}

/// An instruction in AT&T syntax, as GNU objdump prints it (and as xv6's
/// `.asm` files show it): `mov 0x20(%esp),%esi`, `movl $0x0,(%esp)`,
/// `call 0x77`, `jmp *0xe4c(,%eax,4)`, `rep stos %al,%es:(%edi)`.
pub struct Att<'a>(pub &'a Instruction);

impl fmt::Display for Att<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Mnemonic as K;
        let i = self.0;
        let m = i.mnemonic();
        let Some(base) = mnemonic_name(m) else {
            return f.write_str("(an instruction this CPU does not know)");
        };
        let kinds: alloc::vec::Vec<OpKind> = (0..i.op_count()).map(|k| i.op_kind(k)).collect();
        let is_reg = |k: &OpKind| *k == OpKind::Register;
        let has_mem = kinds
            .iter()
            .any(|k| matches!(k, OpKind::Memory | OpKind::MemorySegESI | OpKind::MemoryESEDI | OpKind::MemorySegEDI));
        let shift = matches!(m, K::Shl | K::Sal | K::Shr | K::Sar | K::Rol | K::Ror);
        // Registers that fix the size (a shift's %cl count does not).
        let sized_by_reg = kinds.iter().enumerate().any(|(k, kind)| is_reg(kind) && !(shift && k == 1));
        let suffix = |w: Option<u8>| match w {
            Some(1) => "b",
            Some(2) => "w",
            _ => "l",
        };
        let mut text = base.into_owned();
        match m {
            K::Movzx | K::Movsx => {
                let src = match kinds.get(1) {
                    Some(OpKind::Register) => reg_place(i.op_register(1)).map(|p| p.1),
                    _ => mem_width(i.memory_size()),
                };
                let dst = reg_place(i.op_register(0)).map(|p| p.1);
                text.push_str(suffix(src));
                text.push_str(suffix(dst));
            }
            K::Push | K::Pop | K::Call | K::Jmp | K::Lea => {}
            _ if has_mem && !sized_by_reg => text.push_str(suffix(mem_width(i.memory_size()))),
            _ => {}
        }
        if i.has_rep_prefix()
            && matches!(
                m,
                K::Movsb | K::Movsw | K::Movsd | K::Stosb | K::Stosw | K::Stosd | K::Lodsb | K::Lodsw | K::Lodsd
            )
        {
            text.insert_str(0, "rep ");
        }
        // A shift by an implicit 1 (the d0/d1 forms) shows no count.
        let implicit_one = shift && is_shift_by_one(i);
        let mut ops: alloc::vec::Vec<String> = alloc::vec::Vec::new();
        for k in (0..i.op_count()).rev() {
            if implicit_one && k == 1 {
                continue;
            }
            let indirect = matches!(m, K::Call | K::Jmp) && matches!(i.op_kind(k), OpKind::Register | OpKind::Memory);
            let o = match i.op_kind(k) {
                OpKind::Register => String::from(reg_name(i.op_register(k))),
                OpKind::NearBranch32 => format!("{:#x}", i.near_branch32()),
                OpKind::Immediate8 => format!("${:#x}", i.immediate8()),
                OpKind::Immediate16 => format!("${:#x}", i.immediate16()),
                OpKind::Immediate32 => format!("${:#x}", i.immediate32()),
                OpKind::Immediate8to32 => format!("${:#x}", i.immediate8to32() as u32),
                OpKind::Memory => memory(i),
                OpKind::MemorySegESI => format!("{}:(%esi)", reg_name(i.memory_segment())),
                OpKind::MemoryESEDI => String::from("%es:(%edi)"),
                OpKind::MemorySegEDI => format!("{}:(%edi)", reg_name(i.memory_segment())),
                _ => String::from("?"),
            };
            ops.push(if indirect { format!("*{o}") } else { o });
        }
        if ops.is_empty() { f.write_str(&text) } else { write!(f, "{text:<6} {}", ops.join(",")) }
    }
}

/// Whether a shift is one of the by-one forms (`d0`/`d1` opcodes), which
/// GNU objdump prints without a count.
fn is_shift_by_one(i: &Instruction) -> bool {
    use iced_x86::Code as C;
    matches!(
        i.code(),
        C::Shl_rm8_1
            | C::Shl_rm16_1
            | C::Shl_rm32_1
            | C::Shr_rm8_1
            | C::Shr_rm16_1
            | C::Shr_rm32_1
            | C::Sar_rm8_1
            | C::Sar_rm16_1
            | C::Sar_rm32_1
            | C::Rol_rm8_1
            | C::Rol_rm16_1
            | C::Rol_rm32_1
            | C::Ror_rm8_1
            | C::Ror_rm16_1
            | C::Ror_rm32_1
            | C::Sal_rm8_1
            | C::Sal_rm16_1
            | C::Sal_rm32_1
    )
}

/// A memory operand in AT&T syntax: `disp(base,index,scale)`.
fn memory(i: &Instruction) -> String {
    let (base, index) = (i.memory_base(), i.memory_index());
    let disp = i.memory_displacement32();
    let seg = match i.segment_prefix() {
        Register::None => String::new(),
        r => format!("{}:", reg_name(r)),
    };
    if base == Register::None && index == Register::None {
        return format!("{seg}{disp:#x}");
    }
    let d = match disp as i32 {
        // An encoded displacement of 0 shows (as `0x0(%ebp)`); none shows nothing.
        0 if i.memory_displ_size() == 0 => String::new(),
        v if v < 0 => format!("-{:#x}", v.unsigned_abs()),
        v => format!("{v:#x}"),
    };
    let b = if base == Register::None { "" } else { reg_name(base) };
    if index == Register::None {
        format!("{seg}{d}({b})")
    } else {
        format!("{seg}{d}({b},{},{})", reg_name(index), i.memory_index_scale())
    }
}

#[cfg(test)]
mod tests {
    use super::what_it_is;
    use iced_x86::{Decoder, DecoderOptions};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn said(bytes: &[u8]) -> alloc::string::String {
        what_it_is(&Decoder::with_ip(32, bytes, 0, DecoderOptions::NONE).decode())
    }

    #[test]
    fn refused_instructions_are_told_by_kind() {
        // fld1 (D9 E8) and fadd st, st(1) (D8 C1): x87, which real xv6-public runs.
        assert!(said(&[0xd9, 0xe8]).starts_with("an x87 floating-point instruction"));
        assert!(said(&[0xd8, 0xc1]).starts_with("an x87 floating-point instruction"));
        // hlt (F4): privileged at CPL 3.
        assert!(said(&[0xf4]).starts_with("a privileged instruction"));
        // cpuid (0F A2): neither.
        assert!(said(&[0x0f, 0xa2]).starts_with("not in the integer subset"));
    }
}
