//! System call stubs, one tiny assembly function per xv6 system call.
//!
//! x86 (xv6-public): the stubs are ordinary cdecl functions. The caller has
//! pushed the arguments on the user stack, so the stub only loads the call
//! number into eax and traps with `int 64` (T_SYSCALL); the kernel fetches the
//! arguments from the user stack at esp+4, esp+8, ... and returns in eax.
//!
//! RISC-V (xv6-riscv): the arguments are already in a0..a5 under the standard
//! calling convention, so the stub puts the number in a7 and runs `ecall`; the
//! result comes back in a0.
//!
//! Each stub lives in its own section so that `--gc-sections` drops the ones a
//! program never calls.

/// The xv6 system call numbers (identical on both architectures).
pub mod nr {
    pub const FORK: u32 = 1;
    pub const EXIT: u32 = 2;
    pub const WAIT: u32 = 3;
    pub const PIPE: u32 = 4;
    pub const READ: u32 = 5;
    pub const KILL: u32 = 6;
    pub const EXEC: u32 = 7;
    pub const FSTAT: u32 = 8;
    pub const CHDIR: u32 = 9;
    pub const DUP: u32 = 10;
    pub const GETPID: u32 = 11;
    pub const SBRK: u32 = 12;
    pub const SLEEP: u32 = 13;
    pub const UPTIME: u32 = 14;
    pub const OPEN: u32 = 15;
    pub const WRITE: u32 = 16;
    pub const MKNOD: u32 = 17;
    pub const UNLINK: u32 = 18;
    pub const LINK: u32 = 19;
    pub const MKDIR: u32 = 20;
    pub const CLOSE: u32 = 21;
}

macro_rules! stubs {
    ($($name:ident = $num:ident;)*) => {
        $(
            #[cfg(target_arch = "x86")]
            core::arch::global_asm!(
                concat!(".pushsection .text.usys.", stringify!($name), ",\"ax\",@progbits"),
                concat!(".globl ", stringify!($name)),
                concat!(".type ", stringify!($name), ",@function"),
                concat!(stringify!($name), ":"),
                "mov eax, {n}",
                "int 64",
                "ret",
                concat!(".size ", stringify!($name), ", . - ", stringify!($name)),
                ".popsection",
                n = const nr::$num,
            );
            #[cfg(target_arch = "riscv64")]
            core::arch::global_asm!(
                concat!(".pushsection .text.usys.", stringify!($name), ",\"ax\",@progbits"),
                concat!(".globl ", stringify!($name)),
                concat!(".type ", stringify!($name), ",@function"),
                concat!(stringify!($name), ":"),
                "li a7, {n}",
                "ecall",
                "ret",
                concat!(".size ", stringify!($name), ", . - ", stringify!($name)),
                ".popsection",
                n = const nr::$num,
            );
        )*
    };
}

stubs! {
    fork = FORK;
    exit = EXIT;
    wait = WAIT;
    pipe = PIPE;
    read = READ;
    kill = KILL;
    exec = EXEC;
    fstat = FSTAT;
    chdir = CHDIR;
    dup = DUP;
    getpid = GETPID;
    sbrk = SBRK;
    sleep = SLEEP;
    uptime = UPTIME;
    open = OPEN;
    write = WRITE;
    mknod = MKNOD;
    unlink = UNLINK;
    link = LINK;
    mkdir = MKDIR;
    close = CLOSE;
}

unsafe extern "C" {
    pub fn fork() -> i32;
    /// x86: `exit(void)`, the status does not exist yet in xv6-public.
    #[cfg(target_arch = "x86")]
    pub fn exit() -> !;
    /// RISC-V: `exit(int status)`.
    #[cfg(target_arch = "riscv64")]
    pub fn exit(status: i32) -> !;
    /// x86: `wait(void)`, returns the pid of a dead child or -1.
    #[cfg(target_arch = "x86")]
    pub fn wait() -> i32;
    /// RISC-V: `wait(int *status)`; a null pointer means "don't care".
    #[cfg(target_arch = "riscv64")]
    pub fn wait(status: *mut i32) -> i32;
    pub fn pipe(fds: *mut i32) -> i32;
    pub fn read(fd: i32, buf: *mut u8, n: i32) -> i32;
    pub fn kill(pid: i32) -> i32;
    pub fn exec(path: *const u8, argv: *const *const u8) -> i32;
    pub fn fstat(fd: i32, st: *mut u8) -> i32;
    pub fn chdir(path: *const u8) -> i32;
    pub fn dup(fd: i32) -> i32;
    pub fn getpid() -> i32;
    /// Grows (or shrinks) the heap by `n` bytes; returns the old break or -1.
    pub fn sbrk(n: i32) -> *mut u8;
    pub fn sleep(ticks: i32) -> i32;
    pub fn uptime() -> i32;
    pub fn open(path: *const u8, mode: i32) -> i32;
    pub fn write(fd: i32, buf: *const u8, n: i32) -> i32;
    /// xv6 declares major and minor as `short`; they are passed here as full
    /// ints so that the upper half of each argument slot is well defined.
    pub fn mknod(path: *const u8, major: i32, minor: i32) -> i32;
    pub fn unlink(path: *const u8) -> i32;
    pub fn link(old: *const u8, new: *const u8) -> i32;
    pub fn mkdir(path: *const u8) -> i32;
    pub fn close(fd: i32) -> i32;
}
