//! A user-mode RV64IMC hart: the instruction set the project's RISC-V
//! programs (initcode, init, sh, echo) are compiled for (`riscv64gc`, of
//! which they use the integer, multiply and compressed instructions).
//!
//! [`decode`] turns the bits at `pc` into an [`Inst`] (a compressed
//! instruction becomes the 32-bit one it stands for, so the hart executes one
//! set); [`Hart::step`] fetches, decodes and executes one instruction through
//! [`UserMem`], which the lab implements with its TLB and page walk in user
//! mode. Anything the hart does not implement stops it with
//! [`Stop::Illegal`], never a panic.

use core::fmt;

/// Registers by ABI name, for disassembly.
const NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2",
    "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
];

/// The ABI name of register `r` (`"a0"` for 10); `"?"` past 31.
#[must_use]
pub fn reg_name(r: usize) -> &'static str {
    NAMES.get(r).copied().unwrap_or("?")
}

/// Register a0 (a system call's first argument and its result).
pub const A0: usize = 10;
/// Register a7 (the system call number, in xv6-riscv).
pub const A7: usize = 17;
/// The stack pointer.
pub const SP: usize = 2;

/// An integer operation of the ALU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    /// `add`.
    Add,
    /// `sub`.
    Sub,
    /// Shift left.
    Sll,
    /// Set if less than, signed.
    Slt,
    /// Set if less than, unsigned.
    Sltu,
    /// `xor`.
    Xor,
    /// Shift right, logical.
    Srl,
    /// Shift right, arithmetic.
    Sra,
    /// `or`.
    Or,
    /// `and`.
    And,
    /// Multiply, low bits.
    Mul,
    /// Multiply, high bits, signed × signed.
    Mulh,
    /// Multiply, high bits, signed × unsigned.
    Mulhsu,
    /// Multiply, high bits, unsigned × unsigned.
    Mulhu,
    /// Divide, signed.
    Div,
    /// Divide, unsigned.
    Divu,
    /// Remainder, signed.
    Rem,
    /// Remainder, unsigned.
    Remu,
}

/// A branch's comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less than, signed.
    Lt,
    /// Greater or equal, signed.
    Ge,
    /// Less than, unsigned.
    Ltu,
    /// Greater or equal, unsigned.
    Geu,
}

/// One decoded instruction. The fields are named as in the ISA manual:
/// `rd` the destination register, `rs1` and `rs2` the sources (0–31), `imm`
/// and `off` the immediates, sign-extended to 64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // the fields, described above
pub enum Op {
    /// `rd = imm` (imm already shifted left 12).
    Lui { rd: u8, imm: i64 },
    /// `rd = pc + imm`.
    Auipc { rd: u8, imm: i64 },
    /// `rd = pc + len; pc += off`.
    Jal { rd: u8, off: i64 },
    /// `rd = pc + len; pc = (rs1 + off) & !1`.
    Jalr { rd: u8, rs1: u8, off: i64 },
    /// `if rs1 cond rs2 { pc += off }`.
    Branch { cond: Cond, rs1: u8, rs2: u8, off: i64 },
    /// `rd = mem[rs1 + off]`, `bytes` wide, sign-extended if `signed`.
    Load { bytes: u8, signed: bool, rd: u8, rs1: u8, off: i64 },
    /// `mem[rs1 + off] = rs2`, `bytes` wide.
    Store { bytes: u8, rs1: u8, rs2: u8, off: i64 },
    /// `rd = rs1 alu imm`; `word`: on the low 32 bits, sign-extended (`addiw`).
    Imm { alu: Alu, word: bool, rd: u8, rs1: u8, imm: i64 },
    /// `rd = rs1 alu rs2`; `word` as above (`addw`, `mulw`).
    Reg { alu: Alu, word: bool, rd: u8, rs1: u8, rs2: u8 },
    /// A memory fence: nothing to do on one hart.
    Fence,
    /// A system call.
    Ecall,
    /// A breakpoint.
    Ebreak,
}

/// A decoded instruction and its encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inst {
    /// What it does.
    pub op: Op,
    /// Its bytes: 2 (compressed) or 4.
    pub len: u8,
    /// Its bits as fetched (16 or 32 of them).
    pub bits: u32,
}

/// Why an encoding is not an instruction this hart runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Illegal {
    /// The bits.
    pub bits: u32,
    /// Their length: 2 or 4 bytes.
    pub len: u8,
}

fn sext(v: u32, bits: u32) -> i64 {
    let s = 64 - bits;
    ((u64::from(v) << s) as i64) >> s
}

fn bits(v: u32, hi: u32, lo: u32) -> u32 {
    (v >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// Decode the instruction whose first 16 bits are `lo` (and, for a 32-bit
/// one, whose next 16 are `hi`). Returns the instruction or why not.
///
/// # Errors
/// [`Illegal`] for anything outside RV64IMC's user-mode integer instructions.
pub fn decode(lo: u16, hi: u16) -> Result<Inst, Illegal> {
    if lo & 3 != 3 {
        let bits = u32::from(lo);
        return decode_c(lo).map(|op| Inst { op, len: 2, bits }).ok_or(Illegal { bits, len: 2 });
    }
    let w = u32::from(lo) | (u32::from(hi) << 16);
    decode32(w).map(|op| Inst { op, len: 4, bits: w }).ok_or(Illegal { bits: w, len: 4 })
}

fn decode32(w: u32) -> Option<Op> {
    let rd = bits(w, 11, 7) as u8;
    let rs1 = bits(w, 19, 15) as u8;
    let rs2 = bits(w, 24, 20) as u8;
    let f3 = bits(w, 14, 12);
    let f7 = bits(w, 31, 25);
    let imm_i = sext(w >> 20, 12);
    let imm_s = sext((bits(w, 31, 25) << 5) | bits(w, 11, 7), 12);
    let imm_b =
        sext((bits(w, 31, 31) << 12) | (bits(w, 7, 7) << 11) | (bits(w, 30, 25) << 5) | (bits(w, 11, 8) << 1), 13);
    let imm_u = sext(w & 0xffff_f000, 32);
    let imm_j =
        sext((bits(w, 31, 31) << 20) | (bits(w, 19, 12) << 12) | (bits(w, 20, 20) << 11) | (bits(w, 30, 21) << 1), 21);
    Some(match w & 0x7f {
        0x37 => Op::Lui { rd, imm: imm_u },
        0x17 => Op::Auipc { rd, imm: imm_u },
        0x6f => Op::Jal { rd, off: imm_j },
        0x67 if f3 == 0 => Op::Jalr { rd, rs1, off: imm_i },
        0x63 => {
            let cond = match f3 {
                0 => Cond::Eq,
                1 => Cond::Ne,
                4 => Cond::Lt,
                5 => Cond::Ge,
                6 => Cond::Ltu,
                7 => Cond::Geu,
                _ => return None,
            };
            Op::Branch { cond, rs1, rs2, off: imm_b }
        }
        0x03 => {
            let (bytes, signed) = match f3 {
                0 => (1, true),
                1 => (2, true),
                2 => (4, true),
                3 => (8, true),
                4 => (1, false),
                5 => (2, false),
                6 => (4, false),
                _ => return None,
            };
            Op::Load { bytes, signed, rd, rs1, off: imm_i }
        }
        0x23 if f3 <= 3 => Op::Store { bytes: 1 << f3, rs1, rs2, off: imm_s },
        0x13 | 0x1b => {
            let word = w & 0x7f == 0x1b;
            // Shift amounts: 6 bits (RV64), 5 for the word forms.
            let shamt = i64::from(bits(w, 25, 20));
            let (alu, imm) = match (f3, word) {
                (0, _) => (Alu::Add, imm_i),
                (2, false) => (Alu::Slt, imm_i),
                (3, false) => (Alu::Sltu, imm_i),
                (4, false) => (Alu::Xor, imm_i),
                (6, false) => (Alu::Or, imm_i),
                (7, false) => (Alu::And, imm_i),
                (1, _) if bits(w, 31, 26) == 0 && (!word || shamt < 32) => (Alu::Sll, shamt),
                (5, _) if bits(w, 31, 26) == 0 && (!word || shamt < 32) => (Alu::Srl, shamt),
                (5, _) if bits(w, 31, 26) == 0x10 && (!word || shamt < 32) => (Alu::Sra, shamt),
                _ => return None,
            };
            Op::Imm { alu, word, rd, rs1, imm }
        }
        0x33 | 0x3b => {
            let word = w & 0x7f == 0x3b;
            let alu = match (f7, f3) {
                (0, 0) => Alu::Add,
                (0x20, 0) => Alu::Sub,
                (0, 1) => Alu::Sll,
                (0, 2) if !word => Alu::Slt,
                (0, 3) if !word => Alu::Sltu,
                (0, 4) if !word => Alu::Xor,
                (0, 5) => Alu::Srl,
                (0x20, 5) => Alu::Sra,
                (0, 6) if !word => Alu::Or,
                (0, 7) if !word => Alu::And,
                (1, 0) => Alu::Mul,
                (1, 1) if !word => Alu::Mulh,
                (1, 2) if !word => Alu::Mulhsu,
                (1, 3) if !word => Alu::Mulhu,
                (1, 4) => Alu::Div,
                (1, 5) => Alu::Divu,
                (1, 6) => Alu::Rem,
                (1, 7) => Alu::Remu,
                _ => return None,
            };
            Op::Reg { alu, word, rd, rs1, rs2 }
        }
        0x0f if f3 == 0 => Op::Fence,
        0x73 if w == 0x0000_0073 => Op::Ecall,
        0x73 if w == 0x0010_0073 => Op::Ebreak,
        _ => return None,
    })
}

/// The 32-bit instruction a compressed one stands for (RV64C, no floating point).
fn decode_c(h: u16) -> Option<Op> {
    let h = u32::from(h);
    let q = h & 3;
    let f3 = bits(h, 15, 13);
    // The "prime" registers: x8–x15.
    let rdp = (bits(h, 4, 2) + 8) as u8;
    let rs1p = (bits(h, 9, 7) + 8) as u8;
    let rd = bits(h, 11, 7) as u8;
    let rs2 = bits(h, 6, 2) as u8;
    let imm6 = sext((bits(h, 12, 12) << 5) | bits(h, 6, 2), 6);
    Some(match (q, f3) {
        (0, 0) => {
            // c.addi4spn: nzuimm[5:4|9:6|2|3]
            let imm = (bits(h, 12, 11) << 4) | (bits(h, 10, 7) << 6) | (bits(h, 6, 6) << 2) | (bits(h, 5, 5) << 3);
            if imm == 0 {
                return None; // 0x0000 and the reserved forms
            }
            Op::Imm { alu: Alu::Add, word: false, rd: rdp, rs1: 2, imm: i64::from(imm) }
        }
        (0, 2) => {
            let off = (bits(h, 12, 10) << 3) | (bits(h, 6, 6) << 2) | (bits(h, 5, 5) << 6);
            Op::Load { bytes: 4, signed: true, rd: rdp, rs1: rs1p, off: i64::from(off) }
        }
        (0, 3) => {
            let off = (bits(h, 12, 10) << 3) | (bits(h, 6, 5) << 6);
            Op::Load { bytes: 8, signed: true, rd: rdp, rs1: rs1p, off: i64::from(off) }
        }
        (0, 6) => {
            let off = (bits(h, 12, 10) << 3) | (bits(h, 6, 6) << 2) | (bits(h, 5, 5) << 6);
            Op::Store { bytes: 4, rs1: rs1p, rs2: rdp, off: i64::from(off) }
        }
        (0, 7) => {
            let off = (bits(h, 12, 10) << 3) | (bits(h, 6, 5) << 6);
            Op::Store { bytes: 8, rs1: rs1p, rs2: rdp, off: i64::from(off) }
        }
        // c.addi (c.nop when rd is 0)
        (1, 0) => Op::Imm { alu: Alu::Add, word: false, rd, rs1: rd, imm: imm6 },
        (1, 1) if rd != 0 => Op::Imm { alu: Alu::Add, word: true, rd, rs1: rd, imm: imm6 },
        (1, 2) => Op::Imm { alu: Alu::Add, word: false, rd, rs1: 0, imm: imm6 },
        (1, 3) if rd == 2 => {
            // c.addi16sp: nzimm[9|4|6|8:7|5]
            let imm = sext(
                (bits(h, 12, 12) << 9)
                    | (bits(h, 6, 6) << 4)
                    | (bits(h, 5, 5) << 6)
                    | (bits(h, 4, 3) << 7)
                    | (bits(h, 2, 2) << 5),
                10,
            );
            if imm == 0 {
                return None;
            }
            Op::Imm { alu: Alu::Add, word: false, rd: 2, rs1: 2, imm }
        }
        (1, 3) => {
            if imm6 == 0 {
                return None;
            }
            Op::Lui { rd, imm: imm6 << 12 }
        }
        (1, 4) => {
            let shamt = i64::from((bits(h, 12, 12) << 5) | bits(h, 6, 2));
            match bits(h, 11, 10) {
                0 => Op::Imm { alu: Alu::Srl, word: false, rd: rs1p, rs1: rs1p, imm: shamt },
                1 => Op::Imm { alu: Alu::Sra, word: false, rd: rs1p, rs1: rs1p, imm: shamt },
                2 => Op::Imm { alu: Alu::And, word: false, rd: rs1p, rs1: rs1p, imm: imm6 },
                _ => {
                    let (alu, word) = match (bits(h, 12, 12), bits(h, 6, 5)) {
                        (0, 0) => (Alu::Sub, false),
                        (0, 1) => (Alu::Xor, false),
                        (0, 2) => (Alu::Or, false),
                        (0, 3) => (Alu::And, false),
                        (1, 0) => (Alu::Sub, true),
                        (1, 1) => (Alu::Add, true),
                        _ => return None,
                    };
                    Op::Reg { alu, word, rd: rs1p, rs1: rs1p, rs2: rdp }
                }
            }
        }
        (1, 5) => Op::Jal { rd: 0, off: cj_offset(h) },
        (1, 6) | (1, 7) => {
            // c.beqz / c.bnez: offset[8|4:3|7:6|2:1|5]
            let off = sext(
                (bits(h, 12, 12) << 8)
                    | (bits(h, 11, 10) << 3)
                    | (bits(h, 6, 5) << 6)
                    | (bits(h, 4, 3) << 1)
                    | (bits(h, 2, 2) << 5),
                9,
            );
            let cond = if f3 == 6 { Cond::Eq } else { Cond::Ne };
            Op::Branch { cond, rs1: rs1p, rs2: 0, off }
        }
        (2, 0) => {
            let shamt = i64::from((bits(h, 12, 12) << 5) | bits(h, 6, 2));
            Op::Imm { alu: Alu::Sll, word: false, rd, rs1: rd, imm: shamt }
        }
        (2, 2) if rd != 0 => {
            let off = (bits(h, 12, 12) << 5) | (bits(h, 6, 4) << 2) | (bits(h, 3, 2) << 6);
            Op::Load { bytes: 4, signed: true, rd, rs1: 2, off: i64::from(off) }
        }
        (2, 3) if rd != 0 => {
            let off = (bits(h, 12, 12) << 5) | (bits(h, 6, 5) << 3) | (bits(h, 4, 2) << 6);
            Op::Load { bytes: 8, signed: true, rd, rs1: 2, off: i64::from(off) }
        }
        (2, 4) => match (bits(h, 12, 12), rd, rs2) {
            // c.jr through x0 is reserved; c.mv to x0 (rs2 != 0) is a HINT,
            // run below as the add it expands to, which changes nothing.
            (0, 0, 0) => return None,
            (0, _, 0) => Op::Jalr { rd: 0, rs1: rd, off: 0 },
            (0, _, _) => Op::Reg { alu: Alu::Add, word: false, rd, rs1: 0, rs2 },
            (1, 0, 0) => Op::Ebreak,
            (1, _, 0) => Op::Jalr { rd: 1, rs1: rd, off: 0 },
            _ => Op::Reg { alu: Alu::Add, word: false, rd, rs1: rd, rs2 },
        },
        (2, 6) => {
            let off = (bits(h, 12, 9) << 2) | (bits(h, 8, 7) << 6);
            Op::Store { bytes: 4, rs1: 2, rs2, off: i64::from(off) }
        }
        (2, 7) => {
            let off = (bits(h, 12, 10) << 3) | (bits(h, 9, 7) << 6);
            Op::Store { bytes: 8, rs1: 2, rs2, off: i64::from(off) }
        }
        _ => return None,
    })
}

/// c.j's offset: [11|4|9:8|10|6|7|3:1|5].
fn cj_offset(h: u32) -> i64 {
    sext(
        (bits(h, 12, 12) << 11)
            | (bits(h, 11, 11) << 4)
            | (bits(h, 10, 9) << 8)
            | (bits(h, 8, 8) << 10)
            | (bits(h, 7, 7) << 6)
            | (bits(h, 6, 6) << 7)
            | (bits(h, 5, 3) << 1)
            | (bits(h, 2, 2) << 5),
        12,
    )
}

/// `a alu b` on 64 bits.
fn alu64(alu: Alu, a: u64, b: u64) -> u64 {
    let (sa, sb) = (a as i64, b as i64);
    match alu {
        Alu::Add => a.wrapping_add(b),
        Alu::Sub => a.wrapping_sub(b),
        Alu::Sll => a << (b & 63),
        Alu::Slt => u64::from(sa < sb),
        Alu::Sltu => u64::from(a < b),
        Alu::Xor => a ^ b,
        Alu::Srl => a >> (b & 63),
        Alu::Sra => (sa >> (b & 63)) as u64,
        Alu::Or => a | b,
        Alu::And => a & b,
        Alu::Mul => a.wrapping_mul(b),
        Alu::Mulh => ((i128::from(sa) * i128::from(sb)) >> 64) as u64,
        Alu::Mulhsu => ((i128::from(sa) * i128::from(b)) >> 64) as u64,
        Alu::Mulhu => ((u128::from(a) * u128::from(b)) >> 64) as u64,
        // Division by zero gives all ones (the quotient) or the dividend (the
        // remainder); the one overflow, MIN / -1, gives MIN and 0.
        Alu::Div if b == 0 => u64::MAX,
        Alu::Div => sa.wrapping_div(sb) as u64,
        Alu::Divu if b == 0 => u64::MAX,
        Alu::Divu => a / b,
        Alu::Rem if b == 0 => a,
        Alu::Rem => sa.wrapping_rem(sb) as u64,
        Alu::Remu if b == 0 => a,
        Alu::Remu => a % b,
    }
}

/// `a alu b` on the low 32 bits, the result sign-extended (the `w` forms).
/// Shifts use 5 bits of shift; the rest is the 64-bit operation on the
/// operands extended from 32 bits (signed for `divw`/`remw`, unsigned for
/// `divuw`/`remuw`), whose low 32 bits are the 32-bit result, overflow and
/// division by zero included.
fn alu32(alu: Alu, a: u64, b: u64) -> u64 {
    let (a32, b32) = (a as u32, b as u32);
    let r = match alu {
        Alu::Sll => a32 << (b32 & 31),
        Alu::Srl => a32 >> (b32 & 31),
        Alu::Sra => ((a32 as i32) >> (b32 & 31)) as u32,
        Alu::Div | Alu::Rem => alu64(alu, a32 as i32 as u64, b32 as i32 as u64) as u32,
        Alu::Divu | Alu::Remu => alu64(alu, u64::from(a32), u64::from(b32)) as u32,
        _ => alu64(alu, a, b) as u32,
    };
    r as i32 as i64 as u64
}

/// How the hart reaches memory: user-mode fetches, loads and stores at
/// virtual addresses, each checked and translated (the lab: its TLB, then
/// the page walk with xv6's permission checks). `F` is what a refused access
/// reports (a page fault with its walk).
pub trait UserMem {
    /// What a refused access reports.
    type Fault;
    /// The 16 bits at `va` (instructions are fetched in halves: a 4-byte one
    /// may straddle two pages).
    ///
    /// # Errors
    /// The fault, if the page is not mapped executable for the user.
    fn fetch16(&mut self, va: u64) -> Result<u16, Self::Fault>;
    /// `bytes` (1, 2, 4 or 8) little-endian bytes at `va`.
    ///
    /// # Errors
    /// The fault, if the page is not mapped readable for the user.
    fn load(&mut self, va: u64, bytes: u8) -> Result<u64, Self::Fault>;
    /// Store the low `bytes` of `v` at `va`.
    ///
    /// # Errors
    /// The fault, if the page is not mapped writable for the user.
    fn store(&mut self, va: u64, bytes: u8, v: u64) -> Result<(), Self::Fault>;
}

/// Why the hart stopped before finishing an instruction (`pc` is left at it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop<F> {
    /// `ecall`: a system call for the kernel (a7 its number); `pc` is at the
    /// `ecall` (xv6's `syscall` adds 4 to the saved pc).
    Ecall,
    /// `ebreak`.
    Breakpoint,
    /// A fetch, load or store was refused.
    Fault(F),
    /// The bits at `pc` are no instruction this hart runs.
    Illegal(Illegal),
}

/// A hart's user registers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hart {
    /// x0–x31 (x0 always reads 0).
    pub x: [u64; 32],
    /// The program counter.
    pub pc: u64,
    /// Instructions retired.
    pub instret: u64,
}

impl Hart {
    /// A hart that starts at `pc` with the stack pointer at `sp`.
    #[must_use]
    pub fn new(pc: u64, sp: u64) -> Hart {
        let mut h = Hart { pc, ..Hart::default() };
        h.x[SP] = sp;
        h
    }

    fn set(&mut self, rd: u8, v: u64) {
        if rd != 0 {
            self.x[usize::from(rd)] = v;
        }
    }

    fn get(&self, r: u8) -> u64 {
        if r == 0 { 0 } else { self.x[usize::from(r)] }
    }

    /// The instruction at `pc`, fetched and decoded.
    ///
    /// # Errors
    /// A refused fetch, or bits that are no instruction.
    pub fn fetch<M: UserMem>(&self, mem: &mut M) -> Result<Inst, Stop<M::Fault>> {
        let lo = mem.fetch16(self.pc).map_err(Stop::Fault)?;
        let hi = if lo & 3 == 3 { mem.fetch16(self.pc.wrapping_add(2)).map_err(Stop::Fault)? } else { 0 };
        decode(lo, hi).map_err(Stop::Illegal)
    }

    /// Run one instruction. On a stop, `pc` and the registers are as they
    /// were before it (the kernel sees the instruction that trapped).
    ///
    /// # Errors
    /// Why the hart stopped ([`Stop`]).
    pub fn step<M: UserMem>(&mut self, mem: &mut M) -> Result<(), Stop<M::Fault>> {
        let inst = self.fetch(mem)?;
        self.exec(inst, mem)
    }

    /// Execute `inst` (the one at `pc`).
    ///
    /// # Errors
    /// As [`Hart::step`].
    pub fn exec<M: UserMem>(&mut self, inst: Inst, mem: &mut M) -> Result<(), Stop<M::Fault>> {
        let next = self.pc.wrapping_add(u64::from(inst.len));
        let mut pc = next;
        match inst.op {
            Op::Lui { rd, imm } => self.set(rd, imm as u64),
            Op::Auipc { rd, imm } => self.set(rd, self.pc.wrapping_add(imm as u64)),
            Op::Jal { rd, off } => {
                pc = self.pc.wrapping_add(off as u64);
                self.set(rd, next);
            }
            Op::Jalr { rd, rs1, off } => {
                pc = self.get(rs1).wrapping_add(off as u64) & !1;
                self.set(rd, next);
            }
            Op::Branch { cond, rs1, rs2, off } => {
                let (a, b) = (self.get(rs1), self.get(rs2));
                let taken = match cond {
                    Cond::Eq => a == b,
                    Cond::Ne => a != b,
                    Cond::Lt => (a as i64) < (b as i64),
                    Cond::Ge => (a as i64) >= (b as i64),
                    Cond::Ltu => a < b,
                    Cond::Geu => a >= b,
                };
                if taken {
                    pc = self.pc.wrapping_add(off as u64);
                }
            }
            Op::Load { bytes, signed, rd, rs1, off } => {
                let v = mem.load(self.get(rs1).wrapping_add(off as u64), bytes).map_err(Stop::Fault)?;
                let v = if signed && bytes < 8 {
                    let s = 64 - 8 * u32::from(bytes);
                    (((v << s) as i64) >> s) as u64
                } else {
                    v
                };
                self.set(rd, v);
            }
            Op::Store { bytes, rs1, rs2, off } => {
                mem.store(self.get(rs1).wrapping_add(off as u64), bytes, self.get(rs2)).map_err(Stop::Fault)?;
            }
            Op::Imm { alu, word, rd, rs1, imm } => {
                let f = if word { alu32 } else { alu64 };
                self.set(rd, f(alu, self.get(rs1), imm as u64));
            }
            Op::Reg { alu, word, rd, rs1, rs2 } => {
                let f = if word { alu32 } else { alu64 };
                self.set(rd, f(alu, self.get(rs1), self.get(rs2)));
            }
            Op::Fence => {}
            Op::Ecall => return Err(Stop::Ecall),
            Op::Ebreak => return Err(Stop::Breakpoint),
        }
        self.pc = pc;
        self.instret += 1;
        Ok(())
    }
}

fn alu_name(alu: Alu, word: bool, imm: bool) -> &'static str {
    match (alu, word, imm) {
        (Alu::Add, false, true) => "addi",
        (Alu::Add, true, true) => "addiw",
        (Alu::Slt, _, true) => "slti",
        (Alu::Sltu, _, true) => "sltiu",
        (Alu::Xor, _, true) => "xori",
        (Alu::Or, _, true) => "ori",
        (Alu::And, _, true) => "andi",
        (Alu::Sll, false, true) => "slli",
        (Alu::Sll, true, true) => "slliw",
        (Alu::Srl, false, true) => "srli",
        (Alu::Srl, true, true) => "srliw",
        (Alu::Sra, false, true) => "srai",
        (Alu::Sra, true, true) => "sraiw",
        (Alu::Add, false, false) => "add",
        (Alu::Add, true, false) => "addw",
        (Alu::Sub, false, _) => "sub",
        (Alu::Sub, true, _) => "subw",
        (Alu::Sll, false, false) => "sll",
        (Alu::Sll, true, false) => "sllw",
        (Alu::Slt, _, false) => "slt",
        (Alu::Sltu, _, false) => "sltu",
        (Alu::Xor, _, false) => "xor",
        (Alu::Srl, false, false) => "srl",
        (Alu::Srl, true, false) => "srlw",
        (Alu::Sra, false, false) => "sra",
        (Alu::Sra, true, false) => "sraw",
        (Alu::Or, _, false) => "or",
        (Alu::And, _, false) => "and",
        (Alu::Mul, false, _) => "mul",
        (Alu::Mul, true, _) => "mulw",
        (Alu::Mulh, _, _) => "mulh",
        (Alu::Mulhsu, _, _) => "mulhsu",
        (Alu::Mulhu, _, _) => "mulhu",
        (Alu::Div, false, _) => "div",
        (Alu::Div, true, _) => "divw",
        (Alu::Divu, false, _) => "divu",
        (Alu::Divu, true, _) => "divuw",
        (Alu::Rem, false, _) => "rem",
        (Alu::Rem, true, _) => "remw",
        (Alu::Remu, false, _) => "remu",
        (Alu::Remu, true, _) => "remuw",
    }
}

impl fmt::Display for Inst {
    /// The instruction in assembler syntax with ABI register names
    /// (`addi sp, sp, -48`, `ld a0, 0(s1)`); branch and jump targets as
    /// offsets from `pc` (`beq a0, zero, pc+12`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = |x: u8| NAMES[usize::from(x) & 31];
        let rel =
            |off: i64| if off < 0 { alloc::format!("pc-{}", off.unsigned_abs()) } else { alloc::format!("pc+{off}") };
        match self.op {
            Op::Lui { rd, imm } => write!(f, "lui {}, {:#x}", r(rd), (imm as u64 >> 12) & 0xf_ffff),
            Op::Auipc { rd, imm } => write!(f, "auipc {}, {:#x}", r(rd), (imm as u64 >> 12) & 0xf_ffff),
            Op::Jal { rd, off } => write!(f, "jal {}, {}", r(rd), rel(off)),
            Op::Jalr { rd, rs1, off } => write!(f, "jalr {}, {off}({})", r(rd), r(rs1)),
            Op::Branch { cond, rs1, rs2, off } => {
                let m = match cond {
                    Cond::Eq => "beq",
                    Cond::Ne => "bne",
                    Cond::Lt => "blt",
                    Cond::Ge => "bge",
                    Cond::Ltu => "bltu",
                    Cond::Geu => "bgeu",
                };
                write!(f, "{m} {}, {}, {}", r(rs1), r(rs2), rel(off))
            }
            Op::Load { bytes, signed, rd, rs1, off } => {
                let m = match (bytes, signed) {
                    (1, true) => "lb",
                    (2, true) => "lh",
                    (4, true) => "lw",
                    (8, _) => "ld",
                    (1, false) => "lbu",
                    (2, false) => "lhu",
                    _ => "lwu",
                };
                write!(f, "{m} {}, {off}({})", r(rd), r(rs1))
            }
            Op::Store { bytes, rs1, rs2, off } => {
                let m = match bytes {
                    1 => "sb",
                    2 => "sh",
                    4 => "sw",
                    _ => "sd",
                };
                write!(f, "{m} {}, {off}({})", r(rs2), r(rs1))
            }
            Op::Imm { alu, word, rd, rs1, imm } => {
                write!(f, "{} {}, {}, {imm}", alu_name(alu, word, true), r(rd), r(rs1))
            }
            Op::Reg { alu, word, rd, rs1, rs2 } => {
                write!(f, "{} {}, {}, {}", alu_name(alu, word, false), r(rd), r(rs1), r(rs2))
            }
            Op::Fence => f.write_str("fence"),
            Op::Ecall => f.write_str("ecall"),
            Op::Ebreak => f.write_str("ebreak"),
        }
    }
}
