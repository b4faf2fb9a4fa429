//! Printing on the serial line: `kprint!` and `kprintln!`, like xv6's `cprintf`.

use core::fmt;

/// The serial console (x86: COM1; RISC-V: the virt machine's 16550 UART).
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            crate::arch::uart::putc(b);
        }
        Ok(())
    }
}

/// Print raw bytes (what a user program writes to fd 1).
pub fn write_bytes(bytes: &[u8]) {
    for &b in bytes {
        crate::arch::uart::putc(b);
    }
}

/// Print formatted text on the serial console.
macro_rules! kprint {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = write!($crate::console::Console, $($arg)*);
    }};
}

/// Print formatted text and a newline on the serial console.
macro_rules! kprintln {
    () => { kprint!("\n") };
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::console::Console, $($arg)*);
    }};
}
