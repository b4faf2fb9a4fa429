//! The virt machine's 16550 UART (xv6-riscv: `uart.c`, polling only), and
//! QEMU's test device, which ends the emulation.

use pagelab_core::riscv::UART0;

/// Receive holding / transmit holding register.
const THR: u64 = 0;
/// Interrupt enable register.
const IER: u64 = 1;
/// FIFO control register.
const FCR: u64 = 2;
/// Line control register.
const LCR: u64 = 3;
/// Line status register.
const LSR: u64 = 5;
/// LSR: the transmit holding register can take a byte.
const LSR_TX_IDLE: u8 = 1 << 5;

/// The address of UART register `r`.
fn reg(r: u64) -> *mut u8 {
    (UART0 + r) as *mut u8
}

/// No interrupts, 8 data bits, FIFOs on (xv6: `uartinit`, without the baud rate, which QEMU ignores).
pub fn init() {
    // Safety: UART0 is the UART's registers, mapped one-to-one before paging
    // and by the core's kvmmake after.
    unsafe {
        reg(IER).write_volatile(0);
        reg(LCR).write_volatile(3);
        reg(FCR).write_volatile(7);
    }
}

/// Send one byte, waiting (a bounded while) for the transmitter.
pub fn putc(c: u8) {
    for _ in 0..100_000 {
        // Safety: as in init; reading LSR has no side effect.
        if unsafe { reg(LSR).read_volatile() } & LSR_TX_IDLE != 0 {
            break;
        }
    }
    // Safety: as in init.
    unsafe { reg(THR).write_volatile(c) };
}

/// QEMU virt's test device ("sifive_test").
const TEST_DEVICE: u64 = 0x10_0000;

/// End QEMU: the test device exits with status 0 on 0x5555, and with status
/// `code` on `(code << 16) | 0x3333` (1 for a failure).
pub fn exit_qemu(pass: bool) -> ! {
    let v: u32 = if pass { 0x5555 } else { (1 << 16) | 0x3333 };
    // Safety: the test device is not in the kernel's page table, so paging
    // goes off first; the kernel runs at its physical addresses anyway.
    unsafe {
        core::arch::asm!("csrw satp, zero", "sfence.vma zero, zero");
        (TEST_DEVICE as *mut u32).write_volatile(v);
    }
    loop {
        // Safety: wfi only waits.
        unsafe { core::arch::asm!("wfi") };
    }
}
