//! The 32-bit x86 CPU: instructions against results worked out by hand
//! from the Intel manual's definitions, the flags against Rust's own
//! overflowing arithmetic, every instruction of the project's x86 programs
//! (counted as llvm-objdump counts them), the real initcode run to its
//! system calls, the real echo run to exit printing its arguments,
//! random bytes run as code without a panic, and the decode cache
//! changing nothing: the same accesses and results as decoding afresh, and
//! code written over run as written.

#![cfg(not(target_arch = "wasm32"))]

mod flat;

use flat::{Fault, Flat};

use pagelab_core::cpu::x86::UserMem;
use pagelab_core::cpu::x86::{Att, Cpu, DecodeCache, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, Stop, eflags};
use pagelab_core::programs;
use pagelab_core::sys::Port;
use proptest::prelude::*;

/// Run the one instruction `code` at 0x100 with registers `regs` (and
/// flags `fl`) set first. Memory is 16 KiB: text below 0x1000, data above;
/// the stack pointer starts at 0x3000.
fn run_with(code: &[u8], regs: &[(usize, u32)], fl: u32) -> (Cpu, Result<(), Stop<Fault>>, Flat) {
    let mut mem = Flat::new(0x4000, 0x1000);
    mem.bytes[0x100..0x100 + code.len()].copy_from_slice(code);
    let mut c = Cpu::new(0x100, 0x3000);
    for &(r, v) in regs {
        c.regs[r] = v;
    }
    c.eflags |= fl;
    let res = c.step(&mut mem);
    (c, res, mem)
}

fn run(code: &[u8], regs: &[(usize, u32)]) -> Cpu {
    let (c, res, _) = run_with(code, regs, 0);
    assert_eq!(res, Ok(()), "{code:02x?}");
    c
}

/// (CF, ZF, SF, OF) of a CPU.
fn flags(c: &Cpu) -> (bool, bool, bool, bool) {
    (c.flag(eflags::CF), c.flag(eflags::ZF), c.flag(eflags::SF), c.flag(eflags::OF))
}

#[test]
fn arithmetic_sets_the_flags_the_manual_defines() {
    // add eax, ebx (01 d8): 0xffffffff + 1 wraps to 0 with a carry.
    let c = run(&[0x01, 0xd8], &[(EAX, u32::MAX), (EBX, 1)]);
    assert_eq!((c.regs[EAX], flags(&c)), (0, (true, true, false, false)));
    // 0x7fffffff + 1 overflows into the sign bit, no carry.
    let c = run(&[0x01, 0xd8], &[(EAX, 0x7fff_ffff), (EBX, 1)]);
    assert_eq!((c.regs[EAX], flags(&c)), (0x8000_0000, (false, false, true, true)));
    // sub eax, ebx (29 d8): 0 - 1 borrows.
    let c = run(&[0x29, 0xd8], &[(EAX, 0), (EBX, 1)]);
    assert_eq!((c.regs[EAX], flags(&c)), (u32::MAX, (true, false, true, false)));
    // 0x80000000 - 1 overflows (most negative minus one).
    let c = run(&[0x29, 0xd8], &[(EAX, 0x8000_0000), (EBX, 1)]);
    assert_eq!((c.regs[EAX], flags(&c)), (0x7fff_ffff, (false, false, false, true)));
    // cmp al, 5 (3c 05) with al = 3: below, and only the flags change.
    let c = run(&[0x3c, 0x05], &[(EAX, 0x1234_5603)]);
    assert_eq!((c.regs[EAX], flags(&c)), (0x1234_5603, (true, false, true, false)));
    // inc ecx (41) keeps the carry a previous instruction left.
    let (c, ..) = run_with(&[0x41], &[(ECX, u32::MAX)], eflags::CF);
    assert_eq!((c.regs[ECX], flags(&c)), (0, (true, true, false, false)));
    // xor eax, eax (31 c0): zero, carry and overflow cleared.
    let (c, ..) = run_with(&[0x31, 0xc0], &[(EAX, 77)], eflags::CF | eflags::OF);
    assert_eq!((c.regs[EAX], flags(&c)), (0, (false, true, false, false)));
    // neg eax (f7 d8): -5, with a carry because the operand was not 0.
    let c = run(&[0xf7, 0xd8], &[(EAX, 5)]);
    assert_eq!((c.regs[EAX], c.flag(eflags::CF)), (-5i32 as u32, true));
    // adc eax, 0 (83 d0 00) adds the carry.
    let (c, ..) = run_with(&[0x83, 0xd0, 0x00], &[(EAX, 41)], eflags::CF);
    assert_eq!(c.regs[EAX], 42);
}

#[test]
fn multiply_divide_and_shift() {
    // mul edi (f7 e7): 0x80000000 · 4 = 2^33: edx = 2, eax = 0, CF = OF = 1.
    let c = run(&[0xf7, 0xe7], &[(EAX, 0x8000_0000), (EDI, 4)]);
    assert_eq!((c.regs[EDX], c.regs[EAX], c.flag(eflags::CF), c.flag(eflags::OF)), (2, 0, true, true));
    // imul eax, ecx, 10 (6b c1 0a): -3 · 10.
    let c = run(&[0x6b, 0xc1, 0x0a], &[(ECX, -3i32 as u32)]);
    assert_eq!((c.regs[EAX], c.flag(eflags::CF)), (-30i32 as u32, false));
    // div esi (f7 f6): 7 / 2 = 3 remainder 1.
    let c = run(&[0xf7, 0xf6], &[(EDX, 0), (EAX, 7), (ESI, 2)]);
    assert_eq!((c.regs[EAX], c.regs[EDX]), (3, 1));
    // By zero: a divide error, nothing changed, eip still at the div.
    let (c, res, _) = run_with(&[0xf7, 0xf6], &[(EDX, 0), (EAX, 7), (ESI, 0)], 0);
    assert_eq!(res, Err(Stop::DivideError));
    assert_eq!((c.regs[EAX], c.eip, c.instret), (7, 0x100, 0));
    // A quotient too big for eax: 2^32 / 1.
    assert_eq!(run_with(&[0xf7, 0xf6], &[(EDX, 1), (EAX, 0), (ESI, 1)], 0).1, Err(Stop::DivideError));
    // idiv esi (f7 fe): -7 / 2 = -3 remainder -1 (truncates toward zero).
    let c = run(&[0xf7, 0xfe], &[(EDX, u32::MAX), (EAX, -7i32 as u32), (ESI, 2)]);
    assert_eq!((c.regs[EAX], c.regs[EDX]), (-3i32 as u32, u32::MAX));
    // sar eax, 4 (c1 f8 04) copies the sign; shr eax, 1 (d1 e8) does not.
    assert_eq!(run(&[0xc1, 0xf8, 0x04], &[(EAX, 0x8000_0000)]).regs[EAX], 0xf800_0000);
    let c = run(&[0xd1, 0xe8], &[(EAX, 0x8000_0001)]);
    assert_eq!((c.regs[EAX], c.flag(eflags::CF), c.flag(eflags::OF)), (0x4000_0000, true, true));
    // shl ecx, cl (d3 e1) by 31: bit 0 to bit 31; the last bit out (bit 1) is the carry.
    let c = run(&[0xd3, 0xe1], &[(ECX, 0x0000_001f)]);
    assert_eq!((c.regs[ECX], c.flag(eflags::CF)), (0x8000_0000, true));
}

#[test]
fn moves_reach_registers_bytes_and_memory() {
    // mov ah, 0x12 (b4 12): only bits 15..8 of eax.
    assert_eq!(run(&[0xb4, 0x12], &[(EAX, 0xaabb_ccdd)]).regs[EAX], 0xaabb_12dd);
    // movzx ecx, word [0x1000] (0f b7 0d 00 10 00 00) and movsx eax, byte [ebx] (0f be 03).
    let mut mem = Flat::new(0x4000, 0x1000);
    mem.bytes[0x1000..0x1004].copy_from_slice(&[0xfe, 0xff, 0x11, 0x22]);
    mem.bytes[0x100..0x10a].copy_from_slice(&[0x0f, 0xb7, 0x0d, 0x00, 0x10, 0x00, 0x00, 0x0f, 0xbe, 0x03]);
    let mut c = Cpu::new(0x100, 0x3000);
    c.regs[EBX] = 0x1000;
    c.step(&mut mem).unwrap();
    c.step(&mut mem).unwrap();
    assert_eq!((c.regs[ECX], c.regs[EAX], c.eip), (0xfffe, 0xffff_fffe, 0x10a));
    // lea eax, [ebx + ecx·4 + 0x10] (8d 44 8b 10): no memory touched.
    assert_eq!(run(&[0x8d, 0x44, 0x8b, 0x10], &[(EBX, 0x100), (ECX, 3)]).regs[EAX], 0x11c);
    // mov [esp + 4], eax (89 44 24 04) stores; into text it faults with nothing changed.
    let (_, res, mem) = run_with(&[0x89, 0x44, 0x24, 0x04], &[(EAX, 0xdead_beef)], 0);
    assert_eq!((res, mem.word(0x3004)), (Ok(()), 0xdead_beef));
    let (c, res, _) = run_with(&[0x89, 0x44, 0x24, 0x04], &[(ESP, 0x200)], 0);
    assert_eq!((res, c.eip), (Err(Stop::Fault(Fault('w', 0x204))), 0x100));
    // setb ch (0f 92 c5) and sete al (0f 94 c0).
    let (c, ..) = run_with(&[0x0f, 0x92, 0xc5], &[(ECX, 0xffff_ffff)], eflags::CF);
    assert_eq!(c.regs[ECX], 0xffff_01ff);
    assert_eq!(run(&[0x0f, 0x94, 0xc0], &[(EAX, 0xffff_ffff)]).regs[EAX], 0xffff_ff00);
}

#[test]
fn the_stack_calls_and_jumps() {
    // push 0x12345678 (68 ...): esp down by 4, the word at the new esp.
    let (c, _, mem) = run_with(&[0x68, 0x78, 0x56, 0x34, 0x12], &[], 0);
    assert_eq!((c.regs[ESP], mem.word(0x2ffc)), (0x2ffc, 0x1234_5678));
    // call +0x10 (e8 10 00 00 00) at 0x100: the return address 0x105 pushed, eip 0x115.
    let (c, _, mem) = run_with(&[0xe8, 0x10, 0, 0, 0], &[], 0);
    assert_eq!((c.eip, c.regs[ESP], mem.word(0x2ffc)), (0x115, 0x2ffc, 0x105));
    // ret 8 (c2 08 00): pop eip, then 8 more bytes.
    let mut mem = Flat::new(0x4000, 0x1000);
    mem.bytes[0x100..0x103].copy_from_slice(&[0xc2, 0x08, 0x00]);
    mem.bytes[0x3000..0x3004].copy_from_slice(&0x250u32.to_le_bytes());
    let mut c = Cpu::new(0x100, 0x3000);
    c.step(&mut mem).unwrap();
    assert_eq!((c.eip, c.regs[ESP]), (0x250, 0x300c));
    // leave (c9): esp = ebp, then pop ebp.
    let mut mem = Flat::new(0x4000, 0x1000);
    mem.bytes[0x100] = 0xc9;
    mem.bytes[0x3800..0x3804].copy_from_slice(&0x3900u32.to_le_bytes());
    let mut c = Cpu::new(0x100, 0x3000);
    c.regs[EBP] = 0x3800;
    c.step(&mut mem).unwrap();
    assert_eq!((c.regs[ESP], c.regs[EBP]), (0x3804, 0x3900));
    // jmp [0x3000 + eax·4] (ff 24 85 00 30 00 00): a jump table, as sh's.
    let mut mem = Flat::new(0x4000, 0x1000);
    mem.bytes[0x100..0x107].copy_from_slice(&[0xff, 0x24, 0x85, 0x00, 0x30, 0x00, 0x00]);
    mem.bytes[0x3008..0x300c].copy_from_slice(&0x777u32.to_le_bytes());
    let mut c = Cpu::new(0x100, 0x3f00);
    c.regs[EAX] = 2;
    c.step(&mut mem).unwrap();
    assert_eq!(c.eip, 0x777);
    // cmp eax, 1 (83 f8 01) with eax = -1, then jl +5 (7c 05): taken (signed);
    // jb +5 (72 05): not taken (0xffffffff is not below 1 unsigned).
    for (jcc, want) in [(0x7c, 0x10a), (0x72, 0x105)] {
        let mut mem = Flat::new(0x4000, 0x1000);
        mem.bytes[0x100..0x105].copy_from_slice(&[0x83, 0xf8, 0x01, jcc, 0x05]);
        let mut c = Cpu::new(0x100, 0x3000);
        c.regs[EAX] = u32::MAX;
        c.step(&mut mem).unwrap();
        c.step(&mut mem).unwrap();
        assert_eq!(c.eip, want, "{jcc:#x}");
    }
}

#[test]
fn rep_stosb_fills_and_keeps_its_progress_on_a_fault() {
    // cld; rep stosb (fc f3 aa): ecx bytes of al from edi up.
    let mut mem = Flat::new(0x4000, 0x1000);
    mem.bytes[0x100..0x103].copy_from_slice(&[0xfc, 0xf3, 0xaa]);
    let mut c = Cpu::new(0x100, 0x3000);
    (c.regs[EAX], c.regs[EDI], c.regs[ECX]) = (0x5a, 0x2000, 5);
    c.step(&mut mem).unwrap();
    c.step(&mut mem).unwrap();
    assert_eq!(&mem.bytes[0x1fff..0x2006], &[0, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0]);
    assert_eq!((c.regs[EDI], c.regs[ECX], c.eip), (0x2005, 0, 0x103));
    // Running off the end of memory: the bytes before the end are kept, and
    // ecx and edi say where it stopped; eip stays at the rep stosb.
    let mut c = Cpu::new(0x101, 0x3000);
    (c.regs[EDI], c.regs[ECX]) = (0x3ffe, 4);
    assert_eq!(c.step(&mut mem), Err(Stop::Fault(Fault('w', 0x4000))));
    assert_eq!((c.regs[EDI], c.regs[ECX], c.eip), (0x4000, 2, 0x101));
}

#[test]
fn int_64_is_a_system_call_and_other_traps_stop_the_cpu() {
    // int $64 (cd 40): stops past the int, counted as retired.
    let (c, res, _) = run_with(&[0xcd, 0x40], &[(EAX, 7)], 0);
    assert_eq!((res, c.eip, c.instret, c.regs[EAX]), (Err(Stop::Syscall), 0x102, 1, 7));
    // int3 (cc): a breakpoint.
    assert_eq!(run_with(&[0xcc], &[], 0).1, Err(Stop::Breakpoint));
    // int $0x80 is not xv6's system call gate; hlt is privileged.
    for (code, word) in [(&[0xcd, 0x80][..], "int $128"), (&[0xf4][..], "privileged")] {
        let (c, res, _) = run_with(code, &[], 0);
        let Err(Stop::Illegal(ill)) = res else { panic!("{code:02x?}: {res:?}") };
        assert!(ill.to_string().contains(word) && ill.to_string().ends_with("at 0x100"), "{ill}");
        assert_eq!((c.eip, c.instret), (0x100, 0));
    }
    // Bytes that are no instruction (0f 0b is ud2, which this CPU does not run; 0f ff is nothing).
    let (_, res, _) = run_with(&[0x0f, 0xff], &[], 0);
    assert!(matches!(res, Err(Stop::Illegal(_))), "{res:?}");
}

#[test]
fn an_instruction_across_a_page_boundary_fetches_the_next_page_only_if_it_needs_it() {
    // A 5-byte mov at 0xffd: bytes in two pages; with only one page of
    // text, the fetch of the second page faults.
    let mut mem = Flat::new(0x4000, 0x1000);
    mem.bytes[0xffd..0x1000].copy_from_slice(&[0xb8, 0x01, 0x02]);
    let c = Cpu::new(0xffd, 0x3000);
    assert_eq!(c.fetch(&mut mem).err(), Some(Stop::Fault(Fault('x', 0x1000))));
    // With two pages of text it runs.
    mem.text_end = 0x2000;
    mem.bytes[0x1000..0x1002].copy_from_slice(&[0x03, 0x04]);
    let mut c = Cpu::new(0xffd, 0x3000);
    c.step(&mut mem).unwrap();
    assert_eq!(c.regs[EAX], 0x0403_0201);
    // A 1-byte nop as the last byte of the only text page runs without
    // touching the next page.
    let mut mem = Flat::new(0x4000, 0x1000);
    mem.bytes[0xfff] = 0x90;
    let mut c = Cpu::new(0xfff, 0x3000);
    c.step(&mut mem).unwrap();
    assert_eq!(c.eip, 0x1000);
}

/// An ELF32 file's section `.text`: (file offset, size, address).
fn text_of(elf: &[u8]) -> (usize, usize, u32) {
    let u16_at = |o: usize| usize::from(u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()));
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) = (u32_at(0x20), u16_at(0x2e), u16_at(0x30), u16_at(0x32));
    let sh = |i: usize| shoff + i * shentsize;
    let strtab = u32_at(sh(shstrndx) + 16);
    (0..shnum)
        .find(|&i| elf[strtab + u32_at(sh(i))..].starts_with(b".text\0"))
        .map(|i| (u32_at(sh(i) + 16), u32_at(sh(i) + 20), u32_at(sh(i) + 12) as u32))
        .expect("a .text section")
}

/// Load an ELF32 file's segments into flat memory (text first, so the
/// text limit is the end of the first executable segment); returns the entry.
fn load_elf(elf: &[u8], mem: &mut Flat) -> u32 {
    let u16_at = |o: usize| usize::from(u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()));
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u32_at(0x1c), u16_at(0x2a), u16_at(0x2c));
    mem.text_end = 0;
    for k in 0..phnum {
        let p = phoff + k * phentsize;
        if u32_at(p) != 1 {
            continue;
        }
        let (off, va, filesz, memsz, fl) =
            (u32_at(p + 4), u32_at(p + 8), u32_at(p + 16), u32_at(p + 20), u32_at(p + 24));
        mem.bytes[va..va + filesz].copy_from_slice(&elf[off..off + filesz]);
        if fl & 1 != 0 {
            mem.text_end = mem.text_end.max((va + memsz) as u64);
        }
    }
    u32_at(0x18) as u32
}

#[test]
fn every_instruction_of_the_x86_programs_runs_here() {
    // llvm-objdump -d counts 206, 1199 and 325 instructions; 8, 12 and 2 of
    // them are int $64, and 16, 16 and 2 are int3 (Rust's padding after calls
    // that never return).
    for (name, want, syscalls, breaks) in [("init", 206, 8, 16), ("sh", 1199, 12, 16), ("echo", 325, 2, 2)] {
        let elf = programs::builtin(Port::Xv6Public).iter().find(|(n, _)| n[1..] == *name).expect(name).1;
        let (off, size, addr) = text_of(elf);
        let mut mem = Flat::new(0x1_0000, 0x1_0000);
        mem.bytes[addr as usize..addr as usize + size].copy_from_slice(&elf[off..off + size]);
        let (mut at, mut n, mut ints, mut int3s) = (addr, 0, 0, 0);
        while at < addr + size as u32 {
            let c = Cpu::new(at, 0x8000);
            let i = c.fetch(&mut mem).unwrap_or_else(|e| panic!("{name} at {at:#x}: {e:?}"));
            // Run it on a scratch CPU: whatever it does, it is no instruction this CPU refuses.
            let mut scratch = c;
            (scratch.regs[ECX], scratch.regs[ESI], scratch.regs[EDI]) = (1, 0x9000, 0xa000);
            let mut m2 = Flat::new(0x1_0000, 0x1_0000);
            m2.bytes.copy_from_slice(&mem.bytes);
            m2.text_end = 0;
            match scratch.exec(&i, &mut m2) {
                Err(Stop::Illegal(e)) => panic!("{name}: {e}"),
                Err(Stop::Syscall) => ints += 1,
                Err(Stop::Breakpoint) => int3s += 1,
                _ => {}
            }
            at += i.len() as u32;
            n += 1;
        }
        assert_eq!((n, ints, int3s), (want, syscalls, breaks), "{name}");
    }
}

#[test]
fn disassembly_reads_as_gnu_objdump_prints_it() {
    // GNU objdump's AT&T text of every instruction of the three programs
    // (tests/data/x86-objdump.txt, made by objdump itself).
    let want = include_str!("data/x86-objdump.txt");
    let mut checked = 0;
    for (name, elf) in programs::builtin(Port::Xv6Public) {
        let (off, size, addr) = text_of(elf);
        let mut mem = Flat::new(0x1_0000, 0x1_0000);
        mem.bytes[addr as usize..addr as usize + size].copy_from_slice(&elf[off..off + size]);
        let lines = want.lines().filter(|l| l.starts_with(&format!("{} ", &name[1..])));
        let mut at = addr;
        for line in lines {
            let mut parts = line.splitn(3, ' ');
            let (_, where_, text) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
            assert_eq!(u32::from_str_radix(where_, 16).unwrap(), at, "{name}");
            let i = Cpu::new(at, 0).fetch(&mut mem).unwrap();
            let ours = Att(&i).to_string().split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(ours, text, "{name} at {at:#x}");
            at += i.len() as u32;
            checked += 1;
        }
    }
    assert_eq!(checked, 206 + 1199 + 325);
}

#[test]
fn initcode_calls_exec_of_init_then_exit() {
    // xv6-public's initcode: push argv, push "/init", push a fake return
    // address, eax = 7 (SYS_exec), int $64; if exec returns, exit (2).
    let code = programs::initcode(Port::Xv6Public);
    let mut mem = Flat::new(0x2000, 0x1000);
    mem.bytes[..code.len()].copy_from_slice(code);
    let mut c = Cpu::new(0, 0x1000);
    // The stack is the second page here (xv6 has initcode's one page hold both).
    c.regs[ESP] = 0x2000;
    mem.text_end = 0x1000;
    let stop = loop {
        if let Err(s) = c.step(&mut mem) {
            break s;
        }
    };
    assert_eq!((stop, c.regs[EAX], c.instret), (Stop::Syscall, 7, 5));
    let esp = c.regs[ESP];
    let (path, argv) = (mem.word(esp + 4), mem.word(esp + 8));
    assert_eq!(&mem.bytes[path as usize..path as usize + 6], b"/init\0");
    assert_eq!((mem.word(argv), mem.word(argv + 4)), (path, 0));
    // exec "fails": eax = -1, and initcode goes on to exit.
    c.regs[EAX] = u32::MAX;
    assert_eq!(c.step(&mut mem), Ok(()));
    assert_eq!((c.step(&mut mem), c.regs[EAX]), (Err(Stop::Syscall), 2));
}

/// Lay out argv on the stack as xv6-public's exec does (strings, then a
/// fake return address, argc, argv, the pointers, 0); returns esp.
fn push_args(mem: &mut Flat, top: u32, args: &[&str]) -> u32 {
    let mut sp = top;
    let mut ptrs = Vec::new();
    for a in args {
        sp = (sp - (a.len() as u32 + 1)) & !3;
        mem.bytes[sp as usize..sp as usize + a.len()].copy_from_slice(a.as_bytes());
        mem.bytes[sp as usize + a.len()] = 0;
        ptrs.push(sp);
    }
    let n = args.len() as u32;
    let argv = sp - (n + 1) * 4;
    let mut words = vec![u32::MAX, n, argv];
    words.extend(&ptrs);
    words.push(0);
    sp -= words.len() as u32 * 4;
    for (k, w) in words.iter().enumerate() {
        mem.bytes[sp as usize + 4 * k..sp as usize + 4 * k + 4].copy_from_slice(&w.to_le_bytes());
    }
    sp
}

#[test]
fn echo_prints_its_arguments_and_exits() {
    let elf = programs::builtin(Port::Xv6Public).iter().find(|(n, _)| *n == "/echo").expect("echo").1;
    let mut mem = Flat::new(0x3000, 0);
    let entry = load_elf(elf, &mut mem);
    let sp = push_args(&mut mem, 0x3000, &["echo", "hello", "world"]);
    let mut c = Cpu::new(entry, sp);
    let mut writes: Vec<String> = Vec::new();
    let mut calls = Vec::new();
    loop {
        match c.step(&mut mem) {
            Ok(()) => assert!(c.instret < 100_000, "echo runs away"),
            Err(Stop::Syscall) => {
                let arg = |k: u32| mem.word(c.regs[ESP] + 4 + 4 * k);
                calls.push(c.regs[EAX]);
                match c.regs[EAX] {
                    // write(fd, buf, n)
                    16 => {
                        let (fd, buf, n) = (arg(0), arg(1), arg(2));
                        assert_eq!(fd, 1);
                        writes.push(String::from_utf8(mem.bytes[buf as usize..(buf + n) as usize].to_vec()).unwrap());
                        c.regs[EAX] = n;
                    }
                    2 => break,
                    n => panic!("echo made system call {n}"),
                }
            }
            Err(e) => panic!("echo stopped at {:#x}: {e:?}", c.eip),
        }
    }
    // xv6-public's echo: printf(1, "%s%s", argv[i], " " or "\n") for each
    // argument, a write a byte; then exit.
    assert_eq!(writes.concat(), "hello world\n");
    assert!(writes.iter().all(|w| w.len() == 1), "{writes:?}");
    assert_eq!(calls, [[16; 12].as_slice(), &[2]].concat());
}

proptest! {
    #[test]
    fn random_bytes_run_as_code_never_panic(code in prop::collection::vec(any::<u8>(), 64..512), regs in prop::collection::vec(any::<u32>(), 8)) {
        let mut mem = Flat::new(0x4000, 0x1000);
        mem.bytes[..code.len()].copy_from_slice(&code);
        let mut c = Cpu::new(0, 0x3000);
        c.regs.copy_from_slice(&regs);
        c.regs[ESP] = 0x3000;
        for _ in 0..200 {
            let before = c;
            match c.step(&mut mem) {
                Ok(()) => {}
                // A stop that is no trap leaves the CPU as it was (rep keeps its progress).
                Err(Stop::Fault(_) | Stop::DivideError | Stop::Illegal(_)) => {
                    prop_assert_eq!(c.eip, before.eip);
                    break;
                }
                Err(_) => break,
            }
        }
    }

    #[test]
    fn add_and_sub_flags_agree_with_rust(a in any::<u32>(), b in prop_oneof![any::<u32>(), Just(0u32), Just(1), Just(u32::MAX), Just(0x8000_0000)]) {
        let c = run(&[0x01, 0xd8], &[(EAX, a), (EBX, b)]);
        let (r, cf) = a.overflowing_add(b);
        let of = (a as i32).overflowing_add(b as i32).1;
        prop_assert_eq!((c.regs[EAX], flags(&c)), (r, (cf, r == 0, (r as i32) < 0, of)));
        let c = run(&[0x29, 0xd8], &[(EAX, a), (EBX, b)]);
        let (r, cf) = a.overflowing_sub(b);
        let of = (a as i32).overflowing_sub(b as i32).1;
        prop_assert_eq!((c.regs[EAX], flags(&c)), (r, (cf, r == 0, (r as i32) < 0, of)));
        // cmp then each signed and unsigned condition, against Rust's comparisons.
        for (jcc, want) in [(0x72u8, a < b), (0x76, a <= b), (0x7c, (a as i32) < (b as i32)), (0x7e, (a as i32) <= (b as i32)), (0x74, a == b)] {
            let mut mem = Flat::new(0x4000, 0x1000);
            mem.bytes[0x100..0x104].copy_from_slice(&[0x39, 0xd8, jcc, 0x05]);
            let mut c = Cpu::new(0x100, 0x3000);
            (c.regs[EAX], c.regs[EBX]) = (a, b);
            c.step(&mut mem).unwrap();
            c.step(&mut mem).unwrap();
            prop_assert_eq!(c.eip == 0x109, want, "jcc {:#x}", jcc);
        }
    }
}

/// A user memory that lets every access through to `mem`, recording each
/// one and what it returned: ('x' fetch16, 'r' load, 'w' store, address,
/// bytes, value or stored value, refused).
struct Recorded<'a, M: UserMem> {
    mem: &'a mut M,
    log: Vec<(char, u64, u8, u64, bool)>,
}

impl<M: UserMem> UserMem for Recorded<'_, M> {
    type Fault = M::Fault;
    fn fetch16(&mut self, va: u64) -> Result<u16, M::Fault> {
        let r = self.mem.fetch16(va);
        self.log.push(('x', va, 2, r.as_ref().map_or(0, |&v| u64::from(v)), r.is_err()));
        r
    }
    fn load(&mut self, va: u64, n: u8) -> Result<u64, M::Fault> {
        let r = self.mem.load(va, n);
        self.log.push(('r', va, n, *r.as_ref().unwrap_or(&0), r.is_err()));
        r
    }
    fn store(&mut self, va: u64, n: u8, v: u64) -> Result<(), M::Fault> {
        let r = self.mem.store(va, n, v);
        self.log.push(('w', va, n, v, r.is_err()));
        r
    }
}

/// Memory that may be read, written and run anywhere in its bytes, so
/// that code may write over itself.
struct Rwx(Vec<u8>);

impl UserMem for Rwx {
    type Fault = u64;
    fn fetch16(&mut self, va: u64) -> Result<u16, u64> {
        self.load(va, 2).map(|v| v as u16)
    }
    fn load(&mut self, va: u64, n: u8) -> Result<u64, u64> {
        let r = usize::try_from(va).ok().filter(|&a| a + usize::from(n) <= self.0.len()).ok_or(va)?;
        let mut w = [0u8; 8];
        w[..usize::from(n)].copy_from_slice(&self.0[r..r + usize::from(n)]);
        Ok(u64::from_le_bytes(w))
    }
    fn store(&mut self, va: u64, n: u8, v: u64) -> Result<(), u64> {
        let r = usize::try_from(va).ok().filter(|&a| a + usize::from(n) <= self.0.len()).ok_or(va)?;
        self.0[r..r + usize::from(n)].copy_from_slice(&v.to_le_bytes()[..usize::from(n)]);
        Ok(())
    }
}

/// Step `c` once, with `cache` if there is one.
fn step_with<M: UserMem>(c: &mut Cpu, mem: &mut M, cache: Option<&mut DecodeCache>) -> Result<(), Stop<M::Fault>> {
    match cache {
        Some(cache) => c.step_cached(mem, cache),
        None => c.step(mem),
    }
}

/// Run echo with `cache` (or none) to its exit, answering its writes;
/// returns every step's result and registers, the accesses, the memory after.
#[allow(clippy::type_complexity)]
fn echo_run(
    mut cache: Option<&mut DecodeCache>,
) -> (Vec<(Result<(), Stop<Fault>>, Cpu)>, Vec<(char, u64, u8, u64, bool)>, Vec<u8>) {
    let elf = programs::builtin(Port::Xv6Public).iter().find(|(n, _)| *n == "/echo").expect("echo").1;
    let mut flat = Flat::new(0x3000, 0);
    let entry = load_elf(elf, &mut flat);
    let sp = push_args(&mut flat, 0x3000, &["echo", "hello", "world"]);
    let mut c = Cpu::new(entry, sp);
    let mut steps = Vec::new();
    let mut mem = Recorded { mem: &mut flat, log: Vec::new() };
    loop {
        let r = step_with(&mut c, &mut mem, cache.as_deref_mut());
        let before = c;
        match &r {
            Ok(()) => assert!(c.instret < 100_000, "echo runs away"),
            Err(Stop::Syscall) if c.regs[EAX] == 16 => c.regs[EAX] = mem.mem.word(c.regs[ESP] + 12),
            Err(Stop::Syscall) if c.regs[EAX] == 2 => {
                steps.push((r, before));
                break;
            }
            Err(e) => panic!("echo stopped at {:#x}: {e:?}", c.eip),
        }
        steps.push((r, before));
    }
    let log = mem.log;
    (steps, log, flat.bytes)
}

#[test]
fn the_decode_cache_makes_the_same_accesses_and_results_as_decoding_afresh() {
    let plain = echo_run(None);
    let mut cache = DecodeCache::new();
    let cold = echo_run(Some(&mut cache));
    assert_eq!(cold.0, plain.0);
    assert_eq!(cold.1, plain.1);
    assert_eq!(cold.2, plain.2);
    // echo's loops ran from the cache, and a second run takes every
    // instruction from it: still the same accesses, registers and memory.
    let steps = plain.0.len() as u64;
    assert!(cache.reused() > 0 && cache.decoded() + cache.reused() == steps, "{cache:?} of {steps}");
    let decoded = cache.decoded();
    let warm = echo_run(Some(&mut cache));
    assert_eq!(warm.0, plain.0);
    assert_eq!(warm.1, plain.1);
    assert_eq!(warm.2, plain.2);
    assert_eq!(cache.decoded(), decoded, "{cache:?}");
}

/// Run the code at `eip` in `mem` once (step by step to `until`), with the
/// cache and without: the same results and accesses; returns the CPU.
fn once_both_ways(mem: &[u8], eip: u32, cache: &mut DecodeCache) -> Cpu {
    let mut plain = Rwx(mem.to_vec());
    let mut c = Cpu::new(eip, 0x1000);
    let mut rec = Recorded { mem: &mut plain, log: Vec::new() };
    let r = c.step(&mut rec);
    let (want, want_log) = ((r, c), rec.log);
    let mut cached = Rwx(mem.to_vec());
    let mut c = Cpu::new(eip, 0x1000);
    let mut rec = Recorded { mem: &mut cached, log: Vec::new() };
    let r = c.step_cached(&mut rec, cache);
    assert_eq!((r, c), want);
    assert_eq!(rec.log, want_log);
    c
}

#[test]
fn code_written_over_at_the_same_eip_runs_as_written() {
    // Each pair: the instruction at 0x7fe, then what is written over it
    // (0x7fe: the fetch takes the halves at 0x7fe and 0x800, then 0x802 and 0x804).
    let cases: [(&[u8], &[u8], u32); 5] = [
        // mov $1,%eax, then mov $2,%eax: the first four bytes differ.
        (&[0xb8, 1, 0, 0, 0], &[0xb8, 2, 0, 0, 0], 2),
        // Only the fifth byte differs: it is fetched in the second round.
        (&[0xb8, 1, 0, 0, 0], &[0xb8, 1, 0, 0, 5], 0x0500_0001),
        // A shorter instruction over a longer one: inc %eax (eax 0 + 1).
        (&[0xb8, 7, 0, 0, 0], &[0x40, 0x90, 0x90, 0x90, 0x90], 1),
        // A longer one over a shorter one: mov $9,%eax over nop.
        (&[0x90, 0x90, 0x90, 0x90, 0x90], &[0xb8, 9, 0, 0, 0], 9),
        // A byte past the instruction, fetched with it (8 bytes from
        // 0x7fe), changes: every byte fetched is compared, so it is decoded
        // again, and the same instruction runs.
        (&[0xb8, 3, 0, 0, 0, 0x90], &[0xb8, 3, 0, 0, 0, 0xcc], 3),
    ];
    for (first, then, eax) in cases {
        let mut mem = vec![0u8; 0x1000];
        let mut cache = DecodeCache::new();
        mem[0x7fe..0x7fe + first.len()].copy_from_slice(first);
        once_both_ways(&mem, 0x7fe, &mut cache);
        assert_eq!((cache.decoded(), cache.reused()), (1, 0));
        // The same bytes again: from the cache.
        once_both_ways(&mem, 0x7fe, &mut cache);
        assert_eq!((cache.decoded(), cache.reused()), (1, 1));
        mem[0x7fe..0x7fe + then.len()].copy_from_slice(then);
        let c = once_both_ways(&mem, 0x7fe, &mut cache);
        assert_eq!(c.regs[EAX], eax, "{then:02x?}");
        assert_eq!((cache.decoded(), cache.reused()), (2, 1), "{then:02x?}");
    }
    // Code that writes over an instruction it runs next: at 0x100 movb
    // $2,0x10a (7 bytes); jmp .+2 (2 bytes); at 0x109 mov $1,%eax, whose
    // immediate (0x10a) the movb sets; jmp back to 0x100.
    let code = [0xc6, 0x05, 0x0a, 0x01, 0, 0, 2, 0xeb, 0x00, 0xb8, 1, 0, 0, 0, 0xeb, 0xf0];
    let mut mem = Rwx(vec![0u8; 0x1000]);
    mem.0[0x100..0x100 + code.len()].copy_from_slice(&code);
    let mut cache = DecodeCache::new();
    let mut c = Cpu::new(0x100, 0x1000);
    for _ in 0..4 {
        c.step_cached(&mut mem, &mut cache).unwrap();
    }
    assert_eq!((c.eip, c.regs[EAX]), (0x100, 2));
    // The movb's immediate becomes 3: the mov cached with 2 runs as the movb left it.
    mem.0[0x106] = 3;
    for _ in 0..4 {
        c.step_cached(&mut mem, &mut cache).unwrap();
    }
    assert_eq!((c.eip, c.regs[EAX]), (0x100, 3));
    // Decoded: the four the first time, then the movb, the mov, and the
    // jmp before it, whose 4 fetched bytes reach the mov's immediate; the
    // last jmp came from the cache.
    assert_eq!((cache.decoded(), cache.reused()), (7, 1));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    /// Random bytes across a page boundary, in memory they may write over,
    /// run for 2,000 steps (from the start again when they leave it, past
    /// a stop): the cache changes no result, register, access or byte.
    #[test]
    fn random_code_runs_the_same_with_the_decode_cache(code in prop::collection::vec(any::<u8>(), 16..512), regs in prop::collection::vec(any::<u32>(), 8)) {
        let start = 0xf80usize;
        let run = |mut cache: Option<&mut DecodeCache>| {
            let mut mem = Rwx(vec![0u8; 0x2000]);
            mem.0[start..start + code.len()].copy_from_slice(&code);
            let mut c = Cpu::new(start as u32, 0x1ff0);
            for (k, r) in regs.iter().enumerate() {
                // Addresses inside the memory (and its code) for half of them.
                c.regs[k] = if k % 2 == 0 { r & 0x1fff } else { *r };
            }
            c.regs[ESP] = 0x1ff0;
            let mut steps = Vec::new();
            let mut rec = Recorded { mem: &mut mem, log: Vec::new() };
            for _ in 0..2000 {
                if !(start..start + code.len()).contains(&(c.eip as usize)) {
                    c.eip = start as u32;
                }
                let r = step_with(&mut c, &mut rec, cache.as_deref_mut());
                if r.is_err() && !matches!(r, Err(Stop::Syscall | Stop::Breakpoint)) {
                    c.eip = c.eip.wrapping_add(1);
                }
                steps.push((r, c));
            }
            let log = rec.log;
            (steps, log, mem.0)
        };
        let plain = run(None);
        let mut cache = DecodeCache::new();
        let cached = run(Some(&mut cache));
        prop_assert_eq!(&cached.0, &plain.0);
        prop_assert_eq!(&cached.1, &plain.1);
        prop_assert_eq!(&cached.2, &plain.2);
    }
}
