//! The serial port COM1 (xv6-public: `uart.c`), and QEMU's isa-debug-exit device.

use super::hw::{inb, outb, outl};

/// COM1's I/O ports.
const COM1: u16 = 0x3f8;

/// Set COM1 to 9600 baud, 8 data bits, 1 stop bit, no parity, no interrupts (xv6: `uartinit`).
pub fn init() {
    outb(COM1 + 2, 0); // FIFO off
    outb(COM1 + 3, 0x80); // unlock divisor
    outb(COM1, (115_200u32 / 9600) as u8);
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 0x03); // lock divisor, 8 data bits
    outb(COM1 + 4, 0);
    outb(COM1 + 1, 0); // no interrupts: the kernel polls
}

/// Send one byte, waiting (a bounded while) for the transmitter to be ready.
pub fn putc(c: u8) {
    for _ in 0..12_800 {
        if inb(COM1 + 5) & 0x20 != 0 {
            break;
        }
    }
    outb(COM1, c);
}

/// The port of QEMU's `-device isa-debug-exit,iobase=0xf4,iosize=0x04`.
const DEBUG_EXIT: u16 = 0xf4;

/// End QEMU: a write of v to the debug-exit port makes QEMU exit with status
/// `(v << 1) | 1`: 33 for a pass (0x10), 35 for a failure (0x11).
pub fn exit_qemu(pass: bool) -> ! {
    outl(DEBUG_EXIT, if pass { 0x10 } else { 0x11 });
    // Not under QEMU with that device: stop here.
    loop {
        super::hw::hlt();
    }
}
