//! The RV64IMC hart: each instruction against results worked out by hand
//! from the ISA manual, the encodings against llvm-objdump's reading of the
//! project's own programs, the real initcode run to its first system call,
//! and random bytes run as code without a panic.

#![cfg(not(target_arch = "wasm32"))]

mod flat;

use flat::{Fault, Flat};

use pagelab_core::cpu::rv64::{A0, A7, Hart, Illegal, Op, Stop, UserMem as _, decode};
use pagelab_core::programs;
use proptest::prelude::*;

/// Run the one instruction `word` (2 or 4 bytes, little-endian) at `pc` with
/// registers `regs` set first; memory is 8 KiB (text page, data page).
fn run(word: u32, pc: u64, regs: &[(usize, u64)]) -> (Hart, Result<(), Stop<Fault>>, Flat) {
    let mut mem = Flat::with_code(&[0; 4096], 8192);
    mem.bytes[pc as usize..pc as usize + 4].copy_from_slice(&word.to_le_bytes());
    let mut h = Hart::new(pc, 0x1800);
    for &(r, v) in regs {
        h.x[r] = v;
    }
    let res = h.step(&mut mem);
    (h, res, mem)
}

// Registers by number, as the ISA manual names them.
const RA: usize = 1;
const SP: usize = 2;
const S0: usize = 8;
const A1: usize = 11;
const A2: usize = 12;
const A3: usize = 13;
const A5: usize = 15;
const S2: usize = 18;
const S3: usize = 19;

#[test]
fn integer_instructions_compute_what_the_manual_says() {
    // addi s2, a0, -1
    assert_eq!(run(0xfff5_0913, 0, &[(A0, 5)]).0.x[S2], 4);
    assert_eq!(run(0xfff5_0913, 0, &[(A0, 0)]).0.x[S2], u64::MAX);
    // lui a0, 0x80000: the 32-bit value sign-extends.
    assert_eq!(run(0x8000_0537, 0, &[]).0.x[A0], 0xffff_ffff_8000_0000);
    // auipc s3, 0 at 0x20.
    assert_eq!(run(0x0000_0997, 0x20, &[]).0.x[S3], 0x20);
    // slli a0, a0, 63 (RV64: six shift bits).
    assert_eq!(run(0x03f5_1513, 0, &[(A0, 1)]).0.x[A0], 1 << 63);
    // sraiw a0, a0, 1: the low word 0x80000000 shifts to 0xc0000000, sign-extended.
    assert_eq!(run(0x4015_551b, 0, &[(A0, 0x1_8000_0000)]).0.x[A0], 0xffff_ffff_c000_0000);
    // subw a3, a2, a3: 0 - 1 on 32 bits is -1, sign-extended.
    assert_eq!(run(0x40d6_06bb, 0, &[(A2, 0), (A3, 1)]).0.x[A3], u64::MAX);
    // x0 stays 0: addi zero, zero, 5.
    let (h, ..) = run(0x0050_0013, 0, &[]);
    assert_eq!(h.x[0], 0);
    assert_eq!((h.pc, h.instret), (4, 1));
}

#[test]
fn multiply_and_divide_follow_the_m_extension() {
    // mul a3, a0, a1: the low 64 bits (2^40 * 2^30 = 2^70 leaves none).
    assert_eq!(run(0x02b5_06b3, 0, &[(A0, 0x1_0000_0001), (A1, 3)]).0.x[A3], 0x3_0000_0003);
    assert_eq!(run(0x02b5_06b3, 0, &[(A0, 1 << 40), (A1, 1 << 30)]).0.x[A3], 0);
    // mulhu a0, a0, a5: (2^64 - 1) * 2 = 2^65 - 2, high half 1.
    assert_eq!(run(0x02f5_3533, 0, &[(A0, u64::MAX), (A5, 2)]).0.x[A0], 1);
    // divuw a0, a0, a1: 7 / 2 = 3; by zero, all ones.
    assert_eq!(run(0x02b5_553b, 0, &[(A0, 7), (A1, 2)]).0.x[A0], 3);
    assert_eq!(run(0x02b5_553b, 0, &[(A0, 7), (A1, 0)]).0.x[A0], u64::MAX);
    // div a0, a0, a1: by zero gives -1; MIN / -1 overflows to MIN.
    assert_eq!(run(0x02b5_4533, 0, &[(A0, -7i64 as u64), (A1, 0)]).0.x[A0], u64::MAX);
    assert_eq!(run(0x02b5_4533, 0, &[(A0, i64::MIN as u64), (A1, u64::MAX)]).0.x[A0], i64::MIN as u64);
    assert_eq!(run(0x02b5_4533, 0, &[(A0, -7i64 as u64), (A1, 2)]).0.x[A0], -3i64 as u64);
    // rem a0, a0, a1: by zero gives the dividend; MIN % -1 is 0; -7 % 2 is -1.
    assert_eq!(run(0x02b5_6533, 0, &[(A0, 7), (A1, 0)]).0.x[A0], 7);
    assert_eq!(run(0x02b5_6533, 0, &[(A0, i64::MIN as u64), (A1, u64::MAX)]).0.x[A0], 0);
    assert_eq!(run(0x02b5_6533, 0, &[(A0, -7i64 as u64), (A1, 2)]).0.x[A0], u64::MAX);
}

#[test]
fn loads_and_stores_have_their_width_and_sign() {
    let mut mem = Flat::with_code(&[0; 4096], 8192);
    mem.bytes[0x1000..0x1008].copy_from_slice(&0x8081_8283_f4f5_f6f7u64.to_le_bytes());
    // lb, lbu, lw, lwu a0, 0(a1) with a1 = 0x1000.
    for (word, want) in [
        (0x0005_8503u32, 0xffff_ffff_ffff_fff7u64),
        (0x0005_c503, 0xf7),
        (0x0005_a503, 0xffff_ffff_f4f5_f6f7),
        (0x0005_e503, 0xf4f5_f6f7),
    ] {
        mem.bytes[0..4].copy_from_slice(&word.to_le_bytes());
        let mut h = Hart::new(0, 0x1800);
        h.x[A1] = 0x1000;
        h.step(&mut mem).unwrap();
        assert_eq!(h.x[A0], want, "{word:#x}");
    }
    // c.sdsp ra, 40(sp), then c.ldsp ra, 40(sp) after clearing ra.
    let (h, res, mut mem) = run(0xf406, 0, &[(RA, 0x1234_5678_9abc_def0)]);
    res.unwrap();
    assert_eq!(&mem.bytes[0x1828..0x1830], &0x1234_5678_9abc_def0u64.to_le_bytes());
    mem.bytes[0..2].copy_from_slice(&0x70a2u16.to_le_bytes());
    let mut h = Hart { pc: 0, x: h.x, instret: 0 };
    h.x[RA] = 0;
    h.step(&mut mem).unwrap();
    assert_eq!(h.x[RA], 0x1234_5678_9abc_def0);
    // A store into text faults and changes nothing: pc stays at the store.
    let (h, res, _) = run(0xf406, 0, &[(SP, 0x100)]);
    assert_eq!(res, Err(Stop::Fault(Fault('w', 0x128))));
    assert_eq!((h.pc, h.instret), (0, 0));
}

#[test]
fn jumps_and_branches_go_where_the_offsets_say() {
    // jal ra, +16 at 0x10.
    let (h, ..) = run(0x0100_00ef, 0x10, &[]);
    assert_eq!((h.pc, h.x[RA]), (0x20, 0x14));
    // jalr ra, 86(ra) at 0x2e with ra = 0x2a: to (0x2a + 86) & !1 = 0x80.
    let (h, ..) = run(0x0560_80e7, 0x2e, &[(RA, 0x2a)]);
    assert_eq!((h.pc, h.x[RA]), (0x80, 0x32));
    // bltu a0, a2, 0x48 at 0x10 (echo's first branch): taken when a0 < a2.
    assert_eq!(run(0x02c5_6c63, 0x10, &[(A0, 1), (A2, 2)]).0.pc, 0x48);
    assert_eq!(run(0x02c5_6c63, 0x10, &[(A0, 3), (A2, 2)]).0.pc, 0x14);
    // c.beqz a0 at 0x8e to 0xda; c.bnez a5 at 0x104 back to 0xf6; c.j at 0xca back to 0x90.
    assert_eq!(run(0xc531, 0x8e, &[(A0, 0)]).0.pc, 0xda);
    assert_eq!(run(0xc531, 0x8e, &[(A0, 1)]).0.pc, 0x90);
    assert_eq!(run(0xfbed, 0x104, &[(A5, 1)]).0.pc, 0xf6);
    assert_eq!(run(0xb7d9, 0xca, &[]).0.pc, 0x90);
    // c.jr ra (ret).
    assert_eq!(run(0x8082, 0x40, &[(RA, 0x124)]).0.pc, 0x124);
}

#[test]
fn compressed_instructions_are_the_ones_they_stand_for() {
    // (bits, llvm-objdump's reading, ours: the 32-bit instruction it expands to)
    let cases: [(u16, &str, &str); 20] = [
        (0x7179, "c.addi16sp sp, -48", "addi sp, sp, -48"),
        (0xf406, "c.sdsp ra, 40(sp)", "sd ra, 40(sp)"),
        (0x4589, "c.li a1, 2", "addi a1, zero, 2"),
        (0x8522, "c.mv a0, s0", "add a0, zero, s0"),
        (0x6188, "c.ld a0, 0(a1)", "ld a0, 0(a1)"),
        (0x8082, "c.jr ra", "jalr zero, 0(ra)"),
        (0x1141, "c.addi sp, -16", "addi sp, sp, -16"),
        (0x0800, "c.addi4spn s0, sp, 16", "addi s0, sp, 16"),
        (0x1782, "c.slli a5, 32", "slli a5, a5, 32"),
        (0x910d, "c.srli a0, 35", "srli a0, a0, 35"),
        (0x96ba, "c.add a3, a4", "add a3, a3, a4"),
        (0x8e09, "c.sub a2, a0", "sub a2, a2, a0"),
        (0x70a2, "c.ldsp ra, 40(sp)", "ld ra, 40(sp)"),
        (0x8d4d, "c.or a0, a1", "or a0, a0, a1"),
        (0xe500, "c.sd s0, 8(a0)", "sd s0, 8(a0)"),
        (0x4108, "c.lw a0, 0(a0)", "lw a0, 0(a0)"),
        (0xd036, "c.swsp a3, 32(sp)", "sw a3, 32(sp)"),
        (0x4502, "c.lwsp a0, 0(sp)", "lw a0, 0(sp)"),
        (0x893d, "c.andi a0, 15", "andi a0, a0, 15"),
        (0x69c1, "c.lui s3, 16", "lui s3, 0x10"),
    ];
    for (bits, objdump, ours) in cases {
        let i = decode(bits, 0).unwrap_or_else(|e| panic!("{objdump}: {e:?}"));
        assert_eq!((i.to_string().as_str(), i.len), (ours, 2), "{objdump}");
    }
    // c.xor s0, a0 and c.sw s0, 0(a0), run: s0 ^= a0, then mem[a0] = s0.
    let (h, ..) = run(0x8c29, 0, &[(S0, 0b1100), (A0, 0b1010)]);
    assert_eq!(h.x[S0], 0b0110);
    let (_, res, mem) = run(0xc100, 0, &[(S0, 0xdead_beef), (A0, 0x1100)]);
    res.unwrap();
    assert_eq!(&mem.bytes[0x1100..0x1104], &0xdead_beefu32.to_le_bytes());
}

#[test]
fn compressed_hints_run_as_nothing() {
    // The C extension's HINTs are instructions that change no register: c.mv
    // with rd = x0 and rs2 != x0 is one (only rs2 = x0, where c.jr would jump
    // through x0, is reserved). c.mv zero, a0: funct4 1000, rd 00000,
    // rs2 01010, op 10 = 0b1000_0000_0010_1010 = 0x802a; it expands to
    // add zero, zero, a0 and only moves pc past its 2 bytes.
    let (h, res, _) = run(0x802a, 0x40, &[(A0, 5)]);
    assert_eq!(res, Ok(()));
    assert_eq!((h.pc, h.instret, h.x[0], h.x[A0]), (0x42, 1, 0, 5));
    // c.jr zero (rs2 = 0): 0b1000_0000_0000_0010 = 0x8002, reserved.
    assert_eq!(decode(0x8002, 0), Err(Illegal { bits: 0x8002, len: 2 }));
}

#[test]
fn what_is_not_rv64imc_stops_the_hart() {
    // 0x0000 is defined illegal; slliw with a sixth shift bit is reserved;
    // fence.i, csrr and a floating-point load are not this hart's.
    for (lo, hi, len) in
        [(0x0000u16, 0u16, 2u8), (0x151b, 0x0205, 4), (0x100f, 0, 4), (0x2573, 0xc000, 4), (0x2507, 0, 4)]
    {
        let bits = if len == 2 { u32::from(lo) } else { u32::from(lo) | (u32::from(hi) << 16) };
        assert_eq!(decode(lo, hi), Err(Illegal { bits, len }), "{bits:#x}");
    }
    let (h, res, _) = run(0x0000_0000, 0x40, &[]);
    assert_eq!(res, Err(Stop::Illegal(Illegal { bits: 0, len: 2 })));
    assert_eq!(h.pc, 0x40);
    // ecall stops with pc at the ecall.
    let (h, res, _) = run(0x0000_0073, 0x40, &[]);
    assert_eq!((res, h.pc), (Err(Stop::Ecall), 0x40));
}

#[test]
fn branch_and_jump_offsets_match_llvm_objdump() {
    // (pc, bits, mnemonic, target) from llvm-objdump -d --mattr=+m,+c of the
    // project's sh: one of each distinct (mnemonic, offset), in a shuffled order.
    let cases: [(u64, u32, &str, u64); 40] = [
        (0xc86, 0xa0b5, "c.j", 0xcf2),
        (0xc0c, 0x5b51063, "bne", 0xc4c),
        (0x724, 0x2956963, "bltu", 0x756),
        (0xfaa, 0xfee567e3, "bltu", 0xf98),
        (0x97c, 0xf7d78ce3, "beq", 0x8f4),
        (0x174, 0x2957e63, "bgeu", 0x1b0),
        (0xbd2, 0x75c0f63, "beq", 0xc50),
        (0xd94, 0x4d86363, "bltu", 0xdda),
        (0xbb8, 0x2ad4563, "blt", 0xbe2),
        (0x5cc, 0xe511, "c.bnez", 0x5d8),
        (0xe4, 0x1124fa63, "bgeu", 0x1f8),
        (0x6da, 0xcd1d, "c.beqz", 0x718),
        (0x986, 0xfc5e11e3, "bne", 0x948),
        (0xc2a, 0xa8f9, "c.j", 0xd08),
        (0xd36, 0xa91b63, "bne", 0xd4c),
        (0x964, 0xf9d788e3, "beq", 0x8f4),
        (0xbdc, 0x6c59a63, "bne", 0xc50),
        (0xf3c, 0x6d66463, "bltu", 0xfa4),
        (0xe2e, 0xc581, "c.beqz", 0xe36),
        (0x76e, 0x54563, "blt", 0x778),
        (0xce2, 0xa801, "c.j", 0xcf2),
        (0xe70, 0x9450f63, "beq", 0xf0e),
        (0x154, 0xa8b9, "c.j", 0x1b2),
        (0xbf0, 0x4b50663, "beq", 0xc3c),
        (0xc10, 0x55c0063, "beq", 0xc50),
        (0x98c, 0xb7a5, "c.j", 0x8f4),
        (0xe52, 0xe47463, "bgeu", 0xe5a),
        (0xd30, 0xb7d1, "c.j", 0xcf4),
        (0x466, 0xc91d, "c.beqz", 0x49c),
        (0x30a, 0xc90d, "c.beqz", 0x33c),
        (0xf94, 0xe6f763, "bgeu", 0xfa2),
        (0xe0, 0x12048c63, "beq", 0x218),
        (0x430, 0xc849, "c.beqz", 0x4c2),
        (0xa66, 0x2b51463, "bne", 0xa8e),
        (0xa48, 0x125fe63, "bgeu", 0xa64),
        (0x14e, 0xfc951fe3, "bne", 0x12c),
        (0xc28, 0xe585, "c.bnez", 0xc50),
        (0x680, 0x2055263, "bge", 0x6a4),
        (0xc20, 0x35c0863, "beq", 0xc50),
        (0xdba, 0xfcb67de3, "bgeu", 0xd94),
    ];
    for (pc, bits, name, target) in cases {
        let i = decode(bits as u16, (bits >> 16) as u16).unwrap();
        let off = match i.op {
            Op::Branch { off, .. } | Op::Jal { off, .. } => off,
            other => panic!("{name} at {pc:#x} decoded as {other:?}"),
        };
        assert_eq!(pc.wrapping_add(off as u64), target, "{name} at {pc:#x} ({bits:#x})");
        assert_eq!(i.len, if name.starts_with("c.") { 2 } else { 4 }, "{name}");
    }
}

/// The `.text` section of an ELF64 file: (file offset, size).
fn text_of(elf: &[u8]) -> (usize, usize) {
    let u16_at = |o: usize| usize::from(u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()));
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let sh = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(sh(shstrndx) + 24);
    (0..shnum)
        .find(|&i| elf[strtab + u32_at(sh(i))..].starts_with(b".text\0"))
        .map(|i| (u64_at(sh(i) + 24), u64_at(sh(i) + 32)))
        .expect("a .text section")
}

#[test]
fn every_instruction_of_the_riscv_programs_decodes() {
    // Counted with llvm-objdump -d --mattr=+m,+c: instructions, compressed ones, ecalls.
    for (name, elf, total, compressed, ecalls) in [
        ("init", programs::RISCV_INIT, 217, 112, 8),
        ("sh", programs::RISCV_SH, 1358, 767, 12),
        ("echo", programs::RISCV_ECHO, 65, 40, 2),
    ] {
        let (off, size) = text_of(elf);
        let text = &elf[off..off + size];
        let half = |i: usize| text.get(i..i + 2).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
        let (mut at, mut n, mut c, mut e) = (0, 0, 0, 0);
        while at < size {
            let i = decode(half(at), half(at + 2)).unwrap_or_else(|x| panic!("{name} at {at:#x}: {x:?}"));
            n += 1;
            c += usize::from(i.len == 2);
            e += usize::from(i.to_string() == "ecall");
            at += usize::from(i.len);
        }
        assert_eq!((at, n, c, e), (size, total, compressed, ecalls), "{name}");
    }
}

#[test]
fn initcode_runs_to_exec_of_init() {
    // xv6-riscv's initcode: la a0, init; la a1, argv; li a7, SYS_exec (7); ecall,
    // all 4-byte instructions (built with -march=rv64g): the la's are two each,
    // so the ecall is at 0x14; li a7, SYS_exit; ecall; j take 0x18 to 0x24;
    // "/init\0" is at 0x24 to 0x2a, then argv's two 4-byte words at 0x2c
    // (.p2align 2): 0x34 = 52 bytes, as xv6's.
    let mut mem = Flat::with_code(programs::RISCV_INITCODE, 8192);
    let mut h = Hart::new(0, 4096);
    let stop = loop {
        if let Err(s) = h.step(&mut mem) {
            break s;
        }
    };
    assert_eq!(stop, Stop::Ecall);
    assert_eq!(programs::RISCV_INITCODE.len(), 52);
    assert_eq!((h.x[A7], h.x[A0], h.x[A1], h.instret), (7, 0x24, 0x2c, 5));
    assert_eq!(&mem.bytes[0x24..0x2a], b"/init\0");
    // argv as the kernel reads it, a doubleword at a time: { "/init", 0 }
    // (the upper word of the first is the second .long; the next lies past the end).
    assert_eq!(mem.load(0x2c, 8).unwrap(), 0x24);
    assert_eq!(mem.load(0x34, 8).unwrap(), 0);
    // If exec returned: pc past the ecall, then li a7, SYS_exit (2); ecall.
    h.pc += 4;
    let stop = loop {
        if let Err(s) = h.step(&mut mem) {
            break s;
        }
    };
    assert_eq!((stop, h.x[A7]), (Stop::Ecall, 2));
}

proptest! {
    #[test]
    fn random_bytes_run_as_code_never_panic(code in prop::collection::vec(any::<u8>(), 64..512), regs in prop::collection::vec(any::<u64>(), 32)) {
        let mut mem = Flat::with_code(&code, 8192);
        let mut h = Hart::new(0, 0x1800);
        h.x.copy_from_slice(&regs);
        h.x[0] = 0;
        for _ in 0..200 {
            let before = (h.pc, h.instret);
            match h.step(&mut mem) {
                Ok(()) => prop_assert_eq!(h.instret, before.1 + 1),
                Err(_) => {
                    // A stop leaves pc and the count where they were.
                    prop_assert_eq!((h.pc, h.instret), before);
                    break;
                }
            }
            prop_assert_eq!(h.x[0], 0);
        }
    }

    #[test]
    fn word_operations_are_32_bit_operations_sign_extended(a in any::<u64>(), b in prop_oneof![any::<u64>(), Just(0u64), Just(u64::MAX), Just(0xffff_ffff)]) {
        // The reference: Rust's 32-bit arithmetic with the manual's rules
        // for division by zero (all ones, or the dividend) and MIN / -1.
        let (x, y) = (a as u32, b as u32);
        let (sx, sy) = (x as i32, y as i32);
        let cases: [(u32, u32); 8] = [
            (0x00b5_053b, x.wrapping_add(y)),                                    // addw
            (0x00b5_153b, x << (y & 31)),                                        // sllw
            (0x40b5_553b, (sx >> (y & 31)) as u32),                              // sraw
            (0x02b5_053b, x.wrapping_mul(y)),                                    // mulw
            (0x02b5_453b, if y == 0 { u32::MAX } else { sx.wrapping_div(sy) as u32 }), // divw
            (0x02b5_553b, x.checked_div(y).unwrap_or(u32::MAX)),                 // divuw
            (0x02b5_653b, if y == 0 { x } else { sx.wrapping_rem(sy) as u32 }),  // remw
            (0x02b5_753b, x.checked_rem(y).unwrap_or(x)),                        // remuw
        ];
        for (word, want) in cases {
            let (h, res, _) = run(word, 0, &[(A0, a), (A1, b)]);
            prop_assert!(res.is_ok());
            prop_assert_eq!(h.x[A0], want as i32 as i64 as u64, "{:#x}", word);
        }
    }

    #[test]
    fn every_16_and_32_bit_pattern_decodes_or_is_refused(lo in any::<u16>(), hi in any::<u16>()) {
        match decode(lo, hi) {
            Ok(i) => {
                prop_assert_eq!(i.len, if lo & 3 == 3 { 4 } else { 2 });
                prop_assert!(!i.to_string().is_empty());
            }
            Err(e) => prop_assert_eq!(e.len, if lo & 3 == 3 { 4 } else { 2 }),
        }
    }
}

#[test]
fn a_counting_loop_runs_as_assembled_by_hand() {
    // li a1, 1000; loop: c.addi a0, 1; c.addi a1, -1; c.bnez a1, loop; ecall
    // (c.bnez a1, -4 is 111 1 11 011 11 10 1 01 = 0xfdf5, from the manual's CB format.)
    let mut code = Vec::new();
    code.extend_from_slice(&0x3e80_0593u32.to_le_bytes());
    for h in [0x0505u16, 0x15fd, 0xfdf5, 0x0073, 0x0000] {
        code.extend_from_slice(&h.to_le_bytes());
    }
    let mut mem = Flat::with_code(&code, 8192);
    let mut h = Hart::new(0, 0x1800);
    let stop = loop {
        if let Err(s) = h.step(&mut mem) {
            break s;
        }
    };
    assert_eq!(stop, Stop::Ecall);
    // 1 + 3 × 1000 instructions; a0 counted to 1000.
    assert_eq!((h.x[A0], h.x[A1], h.instret, h.pc), (1000, 0, 3001, 10));
}
