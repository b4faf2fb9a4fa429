//! sh: the shell, with the command language of xv6's shell.
//!
//! Prompt with "$ " on fd 2, read a line from fd 0, and run it. `cd DIR` is
//! done by the shell itself (a child changing directory would not affect
//! its parent); any other line is parsed and run in a child, and the shell
//! waits for it. A line is a list of pipelines:
//!
//! ```text
//! line     = pipeline { ("&" | ";") [line] }      a & b   a ; b
//! pipeline = command [ "|" pipeline ]              a | b | c
//! command  = "(" line ")" { redir } | word { word | redir }
//! redir    = "<" word | ">" word | ">>" word
//! ```
//!
//! The child parses the line into a tree of commands that it allocates with
//! `malloc`, on purpose: as in xv6's shell, that first allocation makes the
//! child's heap grow by `MIN_GROW` header units (8 pages on x86, 16 on
//! RISC-V) just before it runs, and usually execs, the command.

#![no_std]
#![no_main]

use core::mem::size_of;
use core::ptr::{addr_of_mut, null_mut};

use ulib::umalloc::zalloc;
use ulib::{Arg, O_CREATE, O_RDONLY, O_RDWR, O_WRONLY, exit, fprintf, putc_each, sys, wait};

/// Longest line read, newline and NUL included: xv6's sh reads into a
/// 100-byte buffer, and the rest of a longer line is read as the next one.
const LINE_MAX: usize = 100;
/// Most words one command may have (the program name included).
const MAX_ARGS: usize = 10;

/// Characters that separate words.
const SPACE: &[u8] = b" \t\r\n\x0b";
/// Characters that are tokens by themselves.
const SYMBOLS: &[u8] = b"<|>&;()";

/// The line being read. Static, so it costs no stack; the child gets a copy
/// through fork and parses it in place.
static mut LINE: [u8; LINE_MAX] = [0; LINE_MAX];

/// What kind of command a node of the tree is.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
enum Kind {
    /// Run a program.
    Exec = 1,
    /// Run a command with one file descriptor redirected.
    Redir,
    /// Two commands joined by a pipe.
    Pipe,
    /// Two commands, one after the other.
    List,
    /// A command in the background.
    Back,
}

/// Every node starts with its kind; the rest depends on it.
#[repr(C)]
struct Cmd {
    kind: Kind,
}

/// A program and its words. `eargv[i]` is where word `i` ends: the parser
/// writes the NULs there only once the whole line is parsed.
#[repr(C)]
struct ExecCmd {
    kind: Kind,
    argv: [*mut u8; MAX_ARGS],
    eargv: [*mut u8; MAX_ARGS],
}

/// `cmd` with `fd` closed and the file opened in its place.
#[repr(C)]
struct RedirCmd {
    kind: Kind,
    cmd: *mut Cmd,
    file: *mut u8,
    efile: *mut u8,
    mode: i32,
    fd: i32,
}

/// Two commands: `left | right`, or `left ; right`.
#[repr(C)]
struct PairCmd {
    kind: Kind,
    left: *mut Cmd,
    right: *mut Cmd,
}

/// `cmd &`.
#[repr(C)]
struct BackCmd {
    kind: Kind,
    cmd: *mut Cmd,
}

/// Says what went wrong on fd 2 and ends the process: xv6's sh's `panic`,
/// with its words (`syntax`, `fork`, `pipe`, ...).
fn die(msg: &[u8]) -> ! {
    // xv6's sh prints it with fprintf: a byte a write.
    putc_each(2, msg);
    exit(1)
}

/// A zeroed node of type `T`, from the heap.
fn node<T>() -> *mut T {
    let p = unsafe { zalloc(size_of::<T>()) } as *mut T;
    if p.is_null() {
        die(b"sh: out of memory\n");
    }
    p
}

fn exec_cmd() -> *mut Cmd {
    let c = node::<ExecCmd>();
    unsafe { (*c).kind = Kind::Exec };
    c.cast()
}

fn redir_cmd(cmd: *mut Cmd, file: *mut u8, efile: *mut u8, mode: i32, fd: i32) -> *mut Cmd {
    let c = node::<RedirCmd>();
    unsafe { *c = RedirCmd { kind: Kind::Redir, cmd, file, efile, mode, fd } };
    c.cast()
}

fn pair_cmd(kind: Kind, left: *mut Cmd, right: *mut Cmd) -> *mut Cmd {
    let c = node::<PairCmd>();
    unsafe { *c = PairCmd { kind, left, right } };
    c.cast()
}

fn back_cmd(cmd: *mut Cmd) -> *mut Cmd {
    let c = node::<BackCmd>();
    unsafe { *c = BackCmd { kind: Kind::Back, cmd } };
    c.cast()
}

/// The line being parsed: the next character to look at, and the end.
struct Cursor {
    at: *mut u8,
    end: *mut u8,
}

impl Cursor {
    fn byte(&self) -> u8 {
        if self.at < self.end { unsafe { *self.at } } else { 0 }
    }

    fn skip_space(&mut self) {
        while self.at < self.end && SPACE.contains(&self.byte()) {
            self.at = unsafe { self.at.add(1) };
        }
    }

    /// Skips blanks; true if the next character is one of `toks`.
    fn peek(&mut self, toks: &[u8]) -> bool {
        self.skip_space();
        self.at < self.end && self.byte() != 0 && toks.contains(&self.byte())
    }

    /// The next token: a symbol (`+` for `>>`), `a` for a word (its bounds
    /// in `word`), or 0 at the end of the line.
    fn token(&mut self, word: &mut (*mut u8, *mut u8)) -> u8 {
        self.skip_space();
        let start = self.at;
        let c = self.byte();
        let tok = match c {
            0 => 0,
            b'>' if unsafe { start.add(1) } < self.end && unsafe { *start.add(1) } == b'>' => {
                self.at = unsafe { self.at.add(2) };
                b'+'
            }
            _ if SYMBOLS.contains(&c) => {
                self.at = unsafe { self.at.add(1) };
                c
            }
            _ => {
                while self.at < self.end
                    && self.byte() != 0
                    && !SPACE.contains(&self.byte())
                    && !SYMBOLS.contains(&self.byte())
                {
                    self.at = unsafe { self.at.add(1) };
                }
                b'a'
            }
        };
        *word = (start, self.at);
        self.skip_space();
        tok
    }
}

/// `line = pipeline { ("&" | ";") [line] }`
fn parse_line(cur: &mut Cursor) -> *mut Cmd {
    let mut cmd = parse_pipe(cur);
    let mut w = (null_mut(), null_mut());
    while cur.peek(b"&") {
        cur.token(&mut w);
        cmd = back_cmd(cmd);
    }
    if cur.peek(b";") {
        cur.token(&mut w);
        cmd = pair_cmd(Kind::List, cmd, parse_line(cur));
    }
    cmd
}

/// `pipeline = command [ "|" pipeline ]`
fn parse_pipe(cur: &mut Cursor) -> *mut Cmd {
    let mut cmd = parse_exec(cur);
    if cur.peek(b"|") {
        let mut w = (null_mut(), null_mut());
        cur.token(&mut w);
        cmd = pair_cmd(Kind::Pipe, cmd, parse_pipe(cur));
    }
    cmd
}

/// Wraps `cmd` in each redirection that follows.
fn parse_redirs(mut cmd: *mut Cmd, cur: &mut Cursor) -> *mut Cmd {
    let mut w = (null_mut(), null_mut());
    while cur.peek(b"<>") {
        let tok = cur.token(&mut w);
        if cur.token(&mut w) != b'a' {
            die(b"missing file for redirection\n");
        }
        cmd = match tok {
            b'<' => redir_cmd(cmd, w.0, w.1, O_RDONLY, 0),
            b'>' => redir_cmd(cmd, w.0, w.1, O_WRONLY | O_CREATE, 1),
            // `>>`: xv6 has no append mode; like its shell, write from the start.
            _ => redir_cmd(cmd, w.0, w.1, O_WRONLY | O_CREATE, 1),
        };
    }
    cmd
}

/// `"(" line ")" { redir }`
fn parse_block(cur: &mut Cursor) -> *mut Cmd {
    let mut w = (null_mut(), null_mut());
    cur.token(&mut w);
    let cmd = parse_line(cur);
    if !cur.peek(b")") {
        die(b"syntax - missing )\n");
    }
    cur.token(&mut w);
    parse_redirs(cmd, cur)
}

/// `word { word | redir }`, or a block.
fn parse_exec(cur: &mut Cursor) -> *mut Cmd {
    if cur.peek(b"(") {
        return parse_block(cur);
    }
    let mut ret = exec_cmd();
    let exec = ret.cast::<ExecCmd>();
    let mut argc = 0;
    ret = parse_redirs(ret, cur);
    let mut w = (null_mut(), null_mut());
    while !cur.peek(b"|)&;") {
        match cur.token(&mut w) {
            0 => break,
            b'a' => {}
            _ => die(b"syntax\n"),
        }
        unsafe {
            (*exec).argv[argc] = w.0;
            (*exec).eargv[argc] = w.1;
        }
        argc += 1;
        // The last slot holds the 0 that ends argv, so 9 words at most.
        if argc >= MAX_ARGS {
            die(b"too many args\n");
        }
        ret = parse_redirs(ret, cur);
    }
    ret
}

/// Writes the NULs that end each word, once the whole line is parsed (a
/// word's end may be the first character of the next token).
fn terminate(cmd: *mut Cmd) {
    if cmd.is_null() {
        return;
    }
    unsafe {
        match (*cmd).kind {
            Kind::Exec => {
                let e = cmd.cast::<ExecCmd>();
                let mut i = 0;
                while !(*e).argv[i].is_null() {
                    *(*e).eargv[i] = 0;
                    i += 1;
                }
            }
            Kind::Redir => {
                let r = cmd.cast::<RedirCmd>();
                terminate((*r).cmd);
                *(*r).efile = 0;
            }
            Kind::Pipe | Kind::List => {
                let p = cmd.cast::<PairCmd>();
                terminate((*p).left);
                terminate((*p).right);
            }
            Kind::Back => terminate((*cmd.cast::<BackCmd>()).cmd),
        }
    }
}

/// The tree of commands for `line` (its first `n` bytes).
fn parse(line: &mut [u8; LINE_MAX], n: usize) -> *mut Cmd {
    let base = line.as_mut_ptr();
    let mut cur = Cursor { at: base, end: unsafe { base.add(n) } };
    let cmd = parse_line(&mut cur);
    if cur.at < cur.end && cur.byte() != 0 {
        unsafe { fprintf(2, b"leftovers: %s\n", &[Arg::Str(cur.at)]) };
        die(b"syntax\n");
    }
    terminate(cmd);
    cmd
}

/// fork, or end the process if there is no room for a child.
fn fork() -> i32 {
    let pid = unsafe { sys::fork() };
    if pid < 0 {
        die(b"fork\n");
    }
    pid
}

/// Runs `cmd` in this process; never returns.
fn run(cmd: *mut Cmd) -> ! {
    if cmd.is_null() {
        exit(1);
    }
    unsafe {
        match (*cmd).kind {
            Kind::Exec => {
                let e = cmd.cast::<ExecCmd>();
                let argv = &(*e).argv;
                if argv[0].is_null() {
                    exit(1);
                }
                sys::exec(argv[0], argv.as_ptr() as *const *const u8);
                fprintf(2, b"exec %s failed\n", &[Arg::Str(argv[0])]);
                // xv6's runcmd breaks out of its switch and ends in exit(0).
                exit(0)
            }
            Kind::Redir => {
                let r = cmd.cast::<RedirCmd>();
                sys::close((*r).fd);
                if sys::open((*r).file, (*r).mode) < 0 {
                    fprintf(2, b"open %s failed\n", &[Arg::Str((*r).file)]);
                    exit(1);
                }
                run((*r).cmd)
            }
            Kind::List => {
                let p = cmd.cast::<PairCmd>();
                if fork() == 0 {
                    run((*p).left);
                }
                wait();
                run((*p).right)
            }
            Kind::Pipe => {
                let p = cmd.cast::<PairCmd>();
                let mut fds = [0i32; 2];
                if sys::pipe(fds.as_mut_ptr()) < 0 {
                    die(b"pipe\n");
                }
                // The left side writes into the pipe, the right side reads from it.
                for (side, fd) in [((*p).left, 1), ((*p).right, 0)] {
                    if fork() == 0 {
                        sys::close(fd);
                        sys::dup(fds[fd as usize]);
                        sys::close(fds[0]);
                        sys::close(fds[1]);
                        run(side);
                    }
                }
                sys::close(fds[0]);
                sys::close(fds[1]);
                wait();
                wait();
                exit(0)
            }
            Kind::Back => {
                if fork() == 0 {
                    run((*cmd.cast::<BackCmd>()).cmd);
                }
                exit(0)
            }
        }
    }
}

/// Reads one line into `buf`, NUL-terminated; returns the bytes read (0 at EOF).
fn read_line(buf: &mut [u8; LINE_MAX]) -> usize {
    let mut n = 0;
    while n + 1 < LINE_MAX {
        let mut c = 0u8;
        if unsafe { sys::read(0, &mut c, 1) } < 1 {
            break;
        }
        buf[n] = c;
        n += 1;
        if c == b'\n' || c == b'\r' {
            break;
        }
    }
    buf[n] = 0;
    n
}

/// If the line starts `cd `, changes directory to the rest of it (its last
/// byte, the newline, cut off; spaces kept, as xv6's sh passes `buf+3`
/// as it is) and returns true.
fn builtin_cd(line: &mut [u8; LINE_MAX], n: usize) -> bool {
    if n < 3 || &line[..3] != b"cd " {
        return false;
    }
    line[n - 1] = 0;
    if unsafe { sys::chdir(&line[3]) } < 0 {
        unsafe { fprintf(2, b"cannot cd %s\n", &[Arg::Str(&line[3])]) };
    }
    true
}

/// The prompt. xv6-public's sh prints it with `printf(2, "$ ")`, a write
/// a byte.
#[cfg(target_arch = "x86")]
fn prompt() {
    unsafe { fprintf(2, b"$ ", &[]) };
}

/// The prompt. xv6-riscv's sh writes it whole.
#[cfg(target_arch = "riscv64")]
fn prompt() {
    ulib::put(2, b"$ ");
}

#[unsafe(no_mangle)]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> ! {
    // Make sure fds 0, 1 and 2 are open (on the console), as xv6's shell does.
    loop {
        let fd = unsafe { sys::open(c"console".as_ptr().cast(), O_RDWR) };
        if fd < 0 {
            break;
        }
        if fd >= 3 {
            unsafe { sys::close(fd) };
            break;
        }
    }
    let line = unsafe { &mut *addr_of_mut!(LINE) };
    loop {
        prompt();
        // xv6's getcmd clears the buffer before each line.
        line.fill(0);
        let n = read_line(line);
        if n == 0 {
            exit(0);
        }
        // A blank line is forked and parsed like any other, as in xv6: the
        // child finds no command and exits.
        if builtin_cd(line, n) {
            continue;
        }
        if fork() == 0 {
            run(parse(line, n));
        }
        wait();
    }
}
