//! Segments, the task state and the interrupt table (xv6-public: `seginit`,
//! `tvinit`/`idtinit`, the TSS part of `switchuvm`).
//!
//! Paging is the core's business; segmentation only has to be flat, with
//! user code and data segments at privilege level 3, and a TSS that tells the
//! CPU which stack to switch to on a trap from user mode.

use alloc::boxed::Box;
use core::arch::asm;

/// Kernel code segment selector (xv6: `SEG_KCODE << 3`).
pub const KCODE_SEL: u16 = 1 << 3;
/// Kernel data segment selector.
pub const KDATA_SEL: u16 = 2 << 3;
/// User code segment selector, with RPL 3.
pub const UCODE_SEL: u16 = (3 << 3) | 3;
/// User data segment selector, with RPL 3.
pub const UDATA_SEL: u16 = (4 << 3) | 3;
/// The TSS's selector.
pub const TSS_SEL: u16 = 5 << 3;

/// System call trap vector (xv6: `T_SYSCALL`).
pub const T_SYSCALL: u32 = 64;
/// Breakpoint (`int3`): the user probe stub says it is done.
pub const T_BRKPT: u32 = 3;
/// Page fault.
pub const T_PGFLT: u32 = 14;

/// A segment descriptor (xv6: `SEG`): flat 4 GB with 4 KB granularity, or a byte-granular system segment.
fn seg(base: u32, limit: u32, access: u8, flags: u8) -> u64 {
    u64::from(limit & 0xffff)
        | u64::from(base & 0x00ff_ffff) << 16
        | u64::from(access) << 40
        | u64::from((limit >> 16) & 0xf) << 48
        | u64::from(flags & 0xf) << 52
        | u64::from(base >> 24) << 56
}

/// The task state segment: only esp0/ss0 (the stack for traps from user
/// mode) and the I/O map base (beyond the limit: no port I/O from user mode) matter.
#[repr(C, align(16))]
pub struct TaskState([u32; 26]);

impl TaskState {
    /// Set the stack the CPU switches to on a trap from user mode (xv6: `ts.esp0`).
    pub fn set_esp0(&mut self, esp0: u32) {
        self.0[1] = esp0;
    }
}

/// The operand of lgdt and lidt.
#[repr(C, packed)]
struct DescriptorTable {
    /// Size in bytes, minus one.
    limit: u16,
    /// Linear address of the table.
    base: u32,
}

/// Load a GDT with flat kernel and user segments and a TSS, reload every
/// segment register, and load the task register. Returns the TSS.
pub fn seginit() -> &'static mut TaskState {
    let mut tss = [0u32; 26];
    tss[2] = u32::from(KDATA_SEL); // ss0
    tss[25] = 0xffff << 16; // iomb: beyond the limit
    let tss: &'static mut TaskState = Box::leak(Box::new(TaskState(tss)));
    let tss_base = core::ptr::from_ref(tss) as u32;
    let gdt: &'static mut [u64; 6] = Box::leak(Box::new([
        0,
        seg(0, 0xfffff, 0x9a, 0xc), // kernel code: present, DPL 0, execute/read; 4 KB units, 32-bit
        seg(0, 0xfffff, 0x92, 0xc), // kernel data: read/write
        seg(0, 0xfffff, 0xfa, 0xc), // user code: DPL 3
        seg(0, 0xfffff, 0xf2, 0xc), // user data: DPL 3
        seg(tss_base, 103, 0x89, 0x0), // 32-bit available TSS, byte granular
    ]));
    let dt = DescriptorTable { limit: 6 * 8 - 1, base: core::ptr::from_ref(gdt) as u32 };
    // Safety: the GDT is leaked (lives forever) and its kernel segments are
    // flat, so reloading the segment registers does not move anything; the
    // far jump reloads CS at the next instruction.
    unsafe {
        asm!(
            "lgdt ({dt})",
            "movw ${kdata}, %ax",
            "movw %ax, %ds",
            "movw %ax, %es",
            "movw %ax, %fs",
            "movw %ax, %gs",
            "movw %ax, %ss",
            "ljmp ${kcode}, $2f",
            "2:",
            "movw ${tss}, %ax",
            "ltr %ax",
            dt = in(reg) &raw const dt,
            kdata = const KDATA_SEL,
            kcode = const KCODE_SEL,
            tss = const TSS_SEL,
            out("eax") _,
            options(att_syntax, preserves_flags),
        );
    }
    tss
}

/// An interrupt or trap gate (xv6: `SETGATE`).
fn gate(offset: u32, dpl: u8, trap: bool) -> u64 {
    let kind: u8 = if trap { 0xf } else { 0xe };
    u64::from(offset & 0xffff)
        | u64::from(KCODE_SEL) << 16
        | u64::from(0x80 | dpl << 5 | kind) << 40
        | u64::from(offset >> 16) << 48
}

// Safety: these match the definitions in trapasm.S.
unsafe extern "C" {
    /// vector0..vector31, from trapasm.S.
    static vectors: [u32; 32];
    /// The system call entry.
    fn vector64();
}

/// Fill and load the IDT (xv6: `tvinit` + `idtinit`): exceptions 0-31 as
/// interrupt gates the kernel alone may raise, except the breakpoint; the
/// system call vector as a trap gate user code may raise with `int $64`.
pub fn idtinit() {
    let idt: &'static mut [u64; 256] = Box::leak(Box::new([0u64; 256]));
    // Safety: `vectors` is a table of 32 addresses in trapasm.S's .rodata.
    let v = unsafe { &vectors };
    for (i, &addr) in v.iter().enumerate() {
        let dpl = if i as u32 == T_BRKPT { 3 } else { 0 };
        idt[i] = gate(addr, dpl, false);
    }
    idt[T_SYSCALL as usize] = gate(vector64 as *const () as u32, 3, true);
    let dt = DescriptorTable { limit: 256 * 8 - 1, base: core::ptr::from_ref(idt) as u32 };
    // Safety: the IDT is leaked (lives forever) and every gate it holds points at a vector in trapasm.S.
    unsafe { asm!("lidt ({})", in(reg) &raw const dt, options(att_syntax, readonly, nostack, preserves_flags)) };
}

/// Mask every interrupt of the two 8259 PICs (xv6: `picinit`): the kernel polls and never takes an interrupt.
pub fn picinit() {
    super::hw::outb(0x21, 0xff);
    super::hw::outb(0xa1, 0xff);
}
