//! The workloads measured by `benches/core.rs` (criterion, native) and by
//! `examples/bench.rs` (the same code compiled to wasm, for the ratio).

use pagelab_core::lab::scenario;
use pagelab_core::lab::{Lab, Op, Preset};
use pagelab_core::mem::Sim;
use pagelab_core::scheme::Access;
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::{Owner, Trace};
use pagelab_core::x86::{X86Kernel, X86Layout};

/// A lab after the notes' story on `preset` (pid 1 init, pid 2 sh).
pub fn after_story(preset: Preset) -> Lab {
    let text =
        if preset.port() == pagelab_core::port::Port::Xv6Public { scenario::STORY_X86 } else { scenario::STORY_RISCV };
    let mut s = scenario::parse(text).expect("builtin parses");
    s.preset = preset;
    Lab::from_scenario(&s).expect("builtin replays")
}

/// The whole story from boot.
pub fn story(preset: Preset) -> usize {
    after_story(preset).steps().len()
}

/// 1000 translations of user addresses in sh's table (the walk, as the MMU does it).
pub fn translate(lab: &Lab) -> u64 {
    let mut sum = 0;
    for i in 0..1000u64 {
        let va = (i * 0x1234) % 0x4000;
        let t = lab.kernel().translate(Some(2), va, Access::USER_READ).expect("pid 2 exists");
        if let Ok(m) = t.outcome {
            sum += m.pa.as_u64();
        }
    }
    sum
}

/// fork, then exit and wait, so the lab ends as it started.
pub fn fork_cycle(lab: &mut Lab) {
    let child = lab.apply(Op::Fork { pid: 2 }).expect("fork").result.value as u32;
    lab.apply(Op::Exit { pid: child }).expect("exit");
    lab.apply(Op::Wait { pid: 2 }).expect("wait");
}

/// fork, exec echo hello world in the child, exit, wait.
pub fn exec_cycle(lab: &mut Lab) {
    let child = lab.apply(Op::Fork { pid: 2 }).expect("fork").result.value as u32;
    let argv = vec![b"echo".to_vec(), b"hello".to_vec(), b"world".to_vec()];
    lab.apply(Op::Exec { pid: child, path: "echo".into(), argv }).expect("exec");
    lab.apply(Op::Exit { pid: child }).expect("exit");
    lab.apply(Op::Wait { pid: 2 }).expect("wait");
}

/// sbrk(112 MiB) then sbrk(-112 MiB) in sh, every event recorded and each
/// step summed up as the lab does (the heavy step of a link that asks too much).
pub fn heavy_sbrk(lab: &mut Lab) {
    lab.apply(Op::Sbrk { pid: 2, n: 117_440_512 }).expect("grows");
    lab.apply(Op::Sbrk { pid: 2, n: -117_440_512 }).expect("shrinks");
}

/// A booted xv6-public kernel with a fresh, empty page directory for mappages.
pub fn x86_kernel() -> (X86Kernel<Sim>, u32) {
    let layout = X86Layout::xv6_public();
    let hw = Sim::new(0, u64::from(layout.phystop));
    let mut tr = Trace::counting_only();
    let mut k = X86Kernel::boot(layout, hw, Vec::new(), ShmMode::Lab, &mut tr).expect("boots");
    let pgdir = k.st.kalloc(&mut tr, Owner::PageDir { pid: 1 }).and_then(|pa| pa.to_u32()).expect("a page below 4 GB");
    use pagelab_core::mem::PhysMem;
    k.st.hw.fill(u64::from(pgdir), 4096, 0).expect("in RAM");
    (k, pgdir)
}

/// mappages of 64 pages (one page table), then clear them again.
pub fn mappages_64(k: &mut X86Kernel<Sim>, pgdir: u32) {
    let mut tr = Trace::counting_only();
    k.mappages(&mut tr, pgdir, 0x40_0000, 64 * 4096, 0x10_0000, 0x6, Owner::PageTable { pid: 1 }).expect("maps");
    // Clear the entries (the frames were never kalloc'd, so nothing to free).
    use pagelab_core::mem::PhysMem;
    for i in 0..64u32 {
        let pte = k.walkpgdir(&mut tr, pgdir, 0x40_0000 + i * 4096, None).expect("ok").expect("table");
        k.st.hw.write_word(u64::from(pte), 4, 0).expect("in RAM");
    }
}

/// setupkvm and freevm of a whole xv6-public kernel half (65 pages, 65,536 entries).
pub fn setupkvm(k: &mut X86Kernel<Sim>) {
    let mut tr = Trace::counting_only();
    let d = k.setupkvm(&mut tr, Some(1)).expect("memory");
    k.freevm(&mut tr, d).expect("frees");
}

/// The 32-bit x86 CPU over plain memory (no page tables): a counting loop
/// of `n` times three instructions (`add %ecx,%eax`, `dec %ecx`, `jne`), run
/// to its `int $64`, decoding each instruction afresh, or with `cache`'s
/// decoded instructions. Returns the instructions retired.
pub fn x86_loop(n: u32, mut cache: Option<&mut pagelab_core::cpu::x86::DecodeCache>) -> u64 {
    use pagelab_core::cpu::x86::{Cpu, Stop, UserMem};
    struct Plain(Vec<u8>);
    impl UserMem for Plain {
        type Fault = u64;
        fn fetch16(&mut self, va: u64) -> Result<u16, u64> {
            let i = usize::try_from(va).map_err(|_| va)?;
            Ok(u16::from_le_bytes([self.0.get(i).copied().unwrap_or(0), self.0.get(i + 1).copied().unwrap_or(0)]))
        }
        fn load(&mut self, va: u64, _: u8) -> Result<u64, u64> {
            Err(va)
        }
        fn store(&mut self, va: u64, _: u8, _: u64) -> Result<(), u64> {
            Err(va)
        }
    }
    // mov $n,%ecx; loop: add %ecx,%eax; dec %ecx; jne loop; int $64
    let mut code = vec![0xb9];
    code.extend_from_slice(&n.to_le_bytes());
    code.extend_from_slice(&[0x01, 0xc8, 0x49, 0x75, 0xfb, 0xcd, 0x40]);
    let mut mem = Plain(code);
    let mut c = Cpu::new(0, 0);
    loop {
        let done = match cache.as_deref_mut() {
            Some(cache) => c.step_cached(&mut mem, cache),
            None => c.step(&mut mem),
        };
        match done {
            Ok(()) => {}
            Err(Stop::Syscall) => return c.instret,
            Err(e) => panic!("the loop stopped: {e:?}"),
        }
    }
}

/// The RV64 hart over plain memory (no page tables): a counting loop of
/// `n` times three instructions (`c.addi`, `c.addi`, `c.bnez`), run to its
/// `ecall`. Returns the instructions retired. What each instruction costs
/// to fetch, decode and execute, before any page walk.
pub fn hart_loop(n: u16) -> u64 {
    use pagelab_core::cpu::rv64::{Hart, Stop, UserMem};
    struct Plain(Vec<u8>);
    impl UserMem for Plain {
        type Fault = u64;
        fn fetch16(&mut self, va: u64) -> Result<u16, u64> {
            let i = usize::try_from(va).map_err(|_| va)?;
            self.0.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]])).ok_or(va)
        }
        fn load(&mut self, va: u64, _: u8) -> Result<u64, u64> {
            Err(va)
        }
        fn store(&mut self, va: u64, _: u8, _: u64) -> Result<(), u64> {
            Err(va)
        }
    }
    // li a1, n (addi a1, zero, n); loop: c.addi a0, 1; c.addi a1, -1; c.bnez a1, loop; ecall
    let mut code = (0x0000_0593u32 | (u32::from(n & 0x7ff) << 20)).to_le_bytes().to_vec();
    for h in [0x0505u16, 0x15fd, 0xfdf5, 0x0073, 0x0000] {
        code.extend_from_slice(&h.to_le_bytes());
    }
    let mut mem = Plain(code);
    let mut h = Hart::new(0, 0);
    loop {
        match h.step(&mut mem) {
            Ok(()) => {}
            Err(Stop::Ecall) => return h.instret,
            Err(e) => panic!("the loop stopped: {e:?}"),
        }
    }
}

/// The real init and sh on xv6-riscv (2 MB, so that a copy is cheap),
/// run until sh waits for a line.
pub fn sh_at_prompt() -> pagelab_core::riscv::run::Runner<Sim> {
    let mut r = pagelab_core::riscv::run::Runner::boot(pagelab_core::riscv::RiscvLayout::tiny()).expect("boot");
    r.set_recording(false);
    r.run(u64::MAX);
    r
}

/// The real init and sh on xv6-public (2 MB, so that a copy is cheap),
/// run until sh waits for a line.
pub fn sh_at_prompt_x86() -> pagelab_core::x86::run::Runner<Sim> {
    let mut r = pagelab_core::x86::run::Runner::boot(pagelab_core::x86::X86Layout::tiny()).expect("boot");
    r.set_recording(false);
    r.run(u64::MAX);
    r
}

/// `r` decoding each x86 instruction afresh (as before the decode cache).
pub fn without_decode_cache<K: pagelab_core::run::Machine>(
    mut r: pagelab_core::run::Runner<K>,
) -> pagelab_core::run::Runner<K> {
    r.set_decode_cache(false);
    r
}

/// Type `echo hello world` at sh and run until sh prompts again: sh's
/// fork, the child's sbrk and exec, echo's writes, exit and wait, every
/// user access through the TLB (either port). Returns the instructions retired.
pub fn echo_hello_world<K: pagelab_core::run::Machine>(mut r: pagelab_core::run::Runner<K>) -> u64 {
    let before = r.counts().instructions;
    r.type_input("echo hello world\n");
    r.run(u64::MAX);
    r.counts().instructions - before
}

/// A program that stores and loads a stack word `n` times (`lui a0, n >> 12`;
/// loop: `sd a0, -8(sp)`; `ld a1, -8(sp)`; `addi a0, a0, -1`; `bnez a0,
/// loop`; exit), as `/spin`, with sh waiting for its name.
pub fn spin_at_prompt(n: u32) -> pagelab_core::riscv::run::Runner<Sim> {
    let code = [(n & !0xfff) | 0x537, 0xfea1_3c23, 0xff81_3583, 0xfff5_0513, 0xfe05_1ae3, 0x513, 0x0020_0893, 0x73];
    let code: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    // An ELF64 header and one R+X PT_LOAD at 0 covering the file, entered after the headers.
    let entry = 64u64 + 56;
    let mut f = b"\x7fELF\x02\x01\x01\x00\0\0\0\0\0\0\0\0".to_vec();
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&243u16.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    for v in [entry, 64, 0] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    f.extend_from_slice(&0u32.to_le_bytes());
    for h in [64u16, 56, 1, 64, 0, 0] {
        f.extend_from_slice(&h.to_le_bytes());
    }
    let size = entry + code.len() as u64;
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&5u32.to_le_bytes());
    for v in [0u64, 0, 0, size, size, 0x1000] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    f.extend_from_slice(&code);
    let mut fs = pagelab_core::lab::Fs::builtin(pagelab_core::sys::Port::Xv6Riscv);
    fs.files.insert("/spin".into(), f);
    let mut r =
        pagelab_core::riscv::run::Runner::boot_with(pagelab_core::riscv::RiscvLayout::tiny(), fs).expect("boot");
    r.set_recording(false);
    r.run(u64::MAX);
    r
}

/// Run `/spin` from sh to sh's next prompt; returns the instructions retired.
pub fn spin(r: pagelab_core::riscv::run::Runner<Sim>) -> u64 {
    let mut r = r;
    let before = r.counts().instructions;
    r.type_input("spin\n");
    r.run(u64::MAX);
    r.counts().instructions - before
}
