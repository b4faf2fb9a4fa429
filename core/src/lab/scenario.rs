//! The scenario language: a machine, a shared-memory mode and one operation
//! per line, as text for instructors, autograders, links and tests.
//!
//! ```text
//! # Comments start with '#' (outside quotes) and run to the end of the line.
//! preset xv6-public          # optional, before any operation (default xv6-public)
//! shm lab                    # optional, before any operation (default lab)
//! userinit
//! execv 1 /init init         # explicit argv: {"init"}; `exec 1 /init` gives {"/init"}
//! fork 1
//! exec 2 sh                  # sh-style: argv = {"sh"}
//! write 2 0x3000 "hi\n"
//! ```
//!
//! [`parse`] reads the text, reporting the first mistake with its line and
//! column; [`print`] writes the canonical form, which [`parse`] reads back
//! to the same [`Scenario`]. [`builtins`] lists the scenarios that come with
//! the lab, and [`event_text`] turns a trace event into one line of text.
//!
//! The grammar, one line at a time (words are separated by spaces or tabs):
//!
//! ```text
//! preset NAME [SYMBOL=ADDR ...]   xv6-public, xv6-public-tiny, xv6-riscv, xv6-riscv-tiny,
//!                                 or x86, x86-tiny, riscv, riscv-tiny (case ignored);
//!                                 SYMBOL: end, data (x86), etext, trampoline (RISC-V),
//!                                 to match a particular kernel build's kernel.sym
//! shm lab|note
//! userinit
//! fork PID          exit PID          wait PID          kill PID
//! exec PID PATH [ARG ...]         argv = {PATH, ARG, ...}
//! execv PID PATH [ARGV0 ARG ...]  argv exactly as given (may be empty)
//! sbrk PID N                      N may be negative
//! openshmem PID ID  closeshmem PID ID      ID may be negative (the lab rejects it)
//! read PID VA LEN
//! write PID VA "TEXT"             or: write PID VA BYTE [BYTE ...]   (each 0..=255)
//! fetch PID VA                    an instruction fetch at VA (execute access)
//! pipe PID                        pipe's page: kalloc (the pipe's number is the lowest free)
//! pipeclose PID ID                the last end of pipe ID closed: its page freed
//! file PATH BASE64                standard base64 with padding; "" for an empty file
//! failalloc N | failalloc off
//! ask KIND [ARG ...]              a question asked before the next operation
//!                                 is revealed (see the quiz module's `Ask`)
//! ```
//!
//! - Keywords (operation names, `lab`, `note`, `off`) are lowercase.
//! - Numbers are decimal (`42`) or hex (`0x2a`, `0X2A`); a leading `-` only
//!   where a negative value makes sense (sbrk's N, shared-memory IDs). PIDs
//!   fit in u32, VA and LEN in u64, N and ID in i64, failalloc's N in u64.
//! - A string (PATH, ARG, TEXT) is a bare word, or double-quoted with the
//!   escapes `\\ \" \n \t \r \0` and `\xNN` (exactly two hex digits) for any
//!   byte. A quoted string may hold spaces, `#` and any UTF-8 text. Paths
//!   must be non-empty UTF-8; arguments may be any bytes.
//! - Limits: [`MAX_OPS`] operations, [`MAX_LINE_BYTES`] per line,
//!   [`MAX_FILE_BYTES`] per file (decoded).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;

use super::quiz::{self, ASK_KINDS, Arg, Ask};
use super::{LayoutOverride, Op, Preset, Scenario};
use crate::scheme::Access;
use crate::shm::ShmMode;
pub use crate::trace::{bytes_literal, event_text, quote};

/// The most operations a scenario may have.
pub const MAX_OPS: usize = 10_000;

/// The longest line, in bytes (2 MiB: room for a [`MAX_FILE_BYTES`] file in base64).
pub const MAX_LINE_BYTES: usize = 2 << 20;

/// The largest file a `file` line may add, in bytes after decoding (1 MiB).
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// The keywords that start a line, in the order the grammar lists them.
pub const KEYWORDS: [&str; 21] = [
    "preset",
    "shm",
    "userinit",
    "fork",
    "exec",
    "execv",
    "sbrk",
    "exit",
    "wait",
    "kill",
    "openshmem",
    "closeshmem",
    "read",
    "write",
    "fetch",
    "pipe",
    "pipeclose",
    "file",
    "failalloc",
    "cpu",
    "ask",
];

/// What is wrong with a scenario's text, and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParseError {
    /// Line, from 1.
    pub line: u32,
    /// Column in characters of the line, from 1. A missing argument is
    /// reported at the column just after the last word of the line.
    pub col: u32,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.col, self.message)
    }
}

impl core::error::Error for ParseError {}

/// One word of a line.
struct Token<'a> {
    /// Column of its first character.
    col: u32,
    /// Column just after its last character.
    end: u32,
    /// Written in double quotes.
    quoted: bool,
    /// The word as written (with its quotes, if any).
    raw: &'a str,
    /// Its bytes, escapes decoded.
    bytes: Vec<u8>,
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Errors of one line: knows the line number.
#[derive(Clone, Copy)]
struct At {
    line: u32,
}

impl At {
    fn err<T>(self, col: u32, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError { line: self.line, col, message: visible(&message.into()) })
    }
}

/// `text` with control characters and invisible ones (a byte-order mark, a
/// no-break space, zero-width characters) written as escapes, so a message
/// that quotes the input shows what is there and cannot drive a terminal.
#[must_use]
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control()
            || matches!(c, '\u{a0}' | '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
        {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Split a line into words, decoding quoted strings; also return the
/// comment at its end (the text after `#`), if there is one.
fn tokenize(at: At, line: &str) -> Result<(Vec<Token<'_>>, Option<&str>), ParseError> {
    let mut toks = Vec::new();
    let mut comment = None;
    let mut it = line.char_indices().peekable();
    let mut col: u32 = 0; // column of the character last taken from `it`
    loop {
        // Skip blanks.
        while let Some(&(_, c)) = it.peek() {
            if c == ' ' || c == '\t' {
                it.next();
                col += 1;
            } else {
                break;
            }
        }
        let Some(&(start, c)) = it.peek() else { break };
        if c == '#' {
            comment = Some(&line[start + 1..]);
            break;
        }
        let start_col = col + 1;
        if c == '"' {
            it.next();
            col += 1;
            let mut bytes = Vec::new();
            let end_byte = loop {
                let Some((i, c)) = it.next() else {
                    return at.err(start_col, "unterminated string: the closing \" is missing");
                };
                col += 1;
                match c {
                    '"' => break i + 1,
                    '\\' => {
                        let esc_col = col;
                        let Some((_, e)) = it.next() else {
                            return at.err(start_col, "unterminated string: the closing \" is missing");
                        };
                        col += 1;
                        match e {
                            '\\' => bytes.push(b'\\'),
                            '"' => bytes.push(b'"'),
                            'n' => bytes.push(b'\n'),
                            't' => bytes.push(b'\t'),
                            'r' => bytes.push(b'\r'),
                            '0' => bytes.push(0),
                            'x' => {
                                let mut v = 0u8;
                                for _ in 0..2 {
                                    let d = it.peek().and_then(|&(_, h)| h.to_digit(16));
                                    let Some(d) = d else {
                                        return at.err(esc_col, "\\x needs exactly two hex digits (\\x00 to \\xff)");
                                    };
                                    it.next();
                                    col += 1;
                                    v = v * 16 + d as u8;
                                }
                                bytes.push(v);
                            }
                            other => {
                                return at.err(
                                    esc_col,
                                    format!(
                                        "unknown escape \\{other}: the escapes are \\\\ \\\" \\n \\t \\r \\0 and \\xNN"
                                    ),
                                );
                            }
                        }
                    }
                    c => {
                        let mut buf = [0u8; 4];
                        bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                }
            };
            if let Some(&(_, next)) = it.peek()
                && next != ' '
                && next != '\t'
                && next != '#'
            {
                return at.err(col + 1, "a closing quote must be followed by a space");
            }
            toks.push(Token { col: start_col, end: col + 1, quoted: true, raw: &line[start..end_byte], bytes });
        } else {
            let mut end_byte = line.len();
            while let Some(&(i, c)) = it.peek() {
                if c == ' ' || c == '\t' || c == '#' {
                    end_byte = i;
                    break;
                }
                if c == '"' {
                    return at.err(col + 1, "a quote inside a word: put the whole argument in quotes (\"...\")");
                }
                it.next();
                col += 1;
            }
            let raw = &line[start..end_byte];
            toks.push(Token { col: start_col, end: col + 1, quoted: false, raw, bytes: raw.as_bytes().to_vec() });
        }
    }
    Ok((toks, comment))
}

/// A comment's text as kept: without the one space after `#`, and without
/// trailing blanks.
fn comment_line(c: &str) -> String {
    let c = c.strip_prefix(' ').unwrap_or(c);
    String::from(c.trim_end())
}

/// Comment lines gathered for the next operation, without blank lines at
/// either end.
fn trimmed(mut lines: Vec<String>) -> Vec<String> {
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let first = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
    lines.drain(..first);
    lines
}

/// What a number may be.
struct NumKind {
    /// How to name it in messages ("a pid").
    what: &'static str,
    min: i128,
    max: i128,
}

const PID: NumKind = NumKind { what: "a pid", min: 0, max: u32::MAX as i128 };
const ADDR: NumKind = NumKind { what: "an address", min: 0, max: u64::MAX as i128 };
const LEN: NumKind = NumKind { what: "a length", min: 0, max: u64::MAX as i128 };
const BYTE: NumKind = NumKind { what: "a byte", min: 0, max: 255 };
const COUNT: NumKind = NumKind { what: "a count", min: 0, max: u64::MAX as i128 };
const CPU: NumKind = NumKind { what: "a CPU number", min: 0, max: u32::MAX as i128 };
const SIGNED: NumKind = NumKind { what: "sbrk's N", min: i64::MIN as i128, max: i64::MAX as i128 };
const SHM_ID: NumKind = NumKind { what: "a shared-memory id", min: i64::MIN as i128, max: i64::MAX as i128 };
const LEVEL: NumKind = NumKind { what: "a level", min: 0, max: 2 };

fn number(at: At, tok: &Token<'_>, kind: &NumKind) -> Result<i128, ParseError> {
    let what = kind.what;
    if tok.quoted {
        return at.err(tok.col, format!("expected {what}, a number, not a quoted string"));
    }
    let text = tok.raw;
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (radix, digits) = match rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        Some(d) => (16, d),
        None => (10, rest),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return at.err(
            tok.col,
            format!("expected {what}: `{text}` is not a number (write it in decimal like 42 or in hex like 0x2a)"),
        );
    }
    // At most u64::MAX in magnitude; i128 then holds every value.
    let mut mag: u64 = 0;
    for c in digits.chars() {
        let d = u64::from(c.to_digit(radix).unwrap_or(0));
        mag = match mag.checked_mul(u64::from(radix)).and_then(|m| m.checked_add(d)) {
            Some(m) => m,
            None => return at.err(tok.col, format!("{text} is too large for {what} (at most {})", kind.max)),
        };
    }
    let v = if neg { -i128::from(mag) } else { i128::from(mag) };
    if neg && kind.min == 0 && mag != 0 {
        return at.err(tok.col, format!("{what} cannot be negative"));
    }
    if v > kind.max {
        return at.err(tok.col, format!("{text} is too large for {what} (at most {})", kind.max));
    }
    if v < kind.min {
        return at.err(tok.col, format!("{text} is too small for {what} (at least {})", kind.min));
    }
    Ok(v)
}

fn pid(at: At, tok: &Token<'_>) -> Result<u32, ParseError> {
    Ok(number(at, tok, &PID)? as u32)
}
fn u64_of(at: At, tok: &Token<'_>, kind: &NumKind) -> Result<u64, ParseError> {
    Ok(number(at, tok, kind)? as u64)
}
fn i64_of(at: At, tok: &Token<'_>, kind: &NumKind) -> Result<i64, ParseError> {
    Ok(number(at, tok, kind)? as i64)
}

fn path(at: At, tok: &Token<'_>) -> Result<String, ParseError> {
    if tok.bytes.is_empty() {
        return at.err(tok.col, "the path cannot be empty");
    }
    match String::from_utf8(tok.bytes.clone()) {
        Ok(s) => Ok(s),
        Err(_) => at.err(tok.col, "a path must be UTF-8 text; use \\xNN escapes only for whole UTF-8 characters"),
    }
}

fn base64_file(at: At, tok: &Token<'_>) -> Result<Vec<u8>, ParseError> {
    let b = &tok.bytes;
    if b.len() > MAX_FILE_BYTES.div_ceil(3) * 4 {
        return at.err(tok.col, format!("the file is too large: at most {MAX_FILE_BYTES} bytes (1 MiB)"));
    }
    // Columns inside a bare word count its characters up to the bad byte
    // (which may sit inside a character of several bytes).
    let col_of = |off: usize| {
        if tok.quoted {
            tok.col
        } else {
            tok.col.saturating_add(to_u32(tok.raw.char_indices().take_while(|(i, c)| i + c.len_utf8() <= off).count()))
        }
    };
    match BASE64.decode(b) {
        Ok(v) if v.len() > MAX_FILE_BYTES => {
            at.err(tok.col, format!("the file is too large: at most {MAX_FILE_BYTES} bytes (1 MiB)"))
        }
        Ok(v) => Ok(v),
        Err(e) => {
            use base64::DecodeError as D;
            let (off, why) = match e {
                D::InvalidByte(off, b) => (off, format!("byte {} is not a base64 character", show_byte(b))),
                D::InvalidLastSymbol(off, b) => {
                    (off, format!("the last character {} has bits that do not belong to the data", show_byte(b)))
                }
                D::InvalidLength(n) => (0, format!("its length ({n} characters without padding) is impossible")),
                D::InvalidPadding => (0, String::from("its '=' padding is wrong (standard base64 pads to 4)")),
            };
            at.err(col_of(off), format!("not valid base64: {why}"))
        }
    }
}

fn show_byte(b: u8) -> String {
    if (0x21..=0x7e).contains(&b) { format!("'{}'", b as char) } else { format!("0x{b:02x}") }
}

/// The expected form of each keyword's line.
fn usage(kw: &str) -> &'static str {
    match kw {
        "preset" => {
            "preset takes a name, optional symbols and TLB options: preset NAME [end=ADDR] [data=ADDR] [etext=ADDR] [trampoline=ADDR] [tlb=N] [noflush=growproc|trampoline]"
        }
        "shm" => "shm takes one argument: shm lab|note",
        "userinit" => "userinit takes no arguments",
        "fork" => "fork takes one argument: fork PID",
        "exit" => "exit takes one argument: exit PID",
        "wait" => "wait takes one argument: wait PID",
        "kill" => "kill takes one argument: kill PID",
        "exec" => "exec takes a pid, a path and optional arguments: exec PID PATH [ARG ...]",
        "execv" => "execv takes a pid, a path and the whole argv: execv PID PATH [ARGV0 ARG ...]",
        "sbrk" => "sbrk takes two arguments: sbrk PID N",
        "openshmem" => "openshmem takes two arguments: openshmem PID ID",
        "closeshmem" => "closeshmem takes two arguments: closeshmem PID ID",
        "read" => "read takes three arguments: read PID VA LEN",
        "write" => "write takes a pid, an address and the bytes: write PID VA \"TEXT\" or write PID VA BYTE ...",
        "fetch" => "fetch takes two arguments: fetch PID VA",
        "pipe" => "pipe takes one argument: pipe PID",
        "pipeclose" => "pipeclose takes two arguments: pipeclose PID ID",
        "file" => "file takes two arguments: file PATH BASE64",
        "failalloc" => "failalloc takes one argument: failalloc N or failalloc off",
        "cpu" => "cpu takes one argument: cpu N (the CPU the next operations run on, from 0)",
        "ask" => "ask takes a kind and its arguments, for example: ask fields 0x2fcc, ask pages, ask sp 1",
        _ => "",
    }
}

/// Check the number of arguments: at least `min`, at most `max`.
fn arity(at: At, kw: &str, toks: &[Token<'_>], min: usize, max: usize) -> Result<(), ParseError> {
    let n = toks.len() - 1;
    if n < min {
        let last = &toks[toks.len() - 1];
        return at.err(last.end, format!("missing argument: {}", usage(kw)));
    }
    if n > max {
        return at.err(toks[max + 1].col, format!("too many arguments: {}", usage(kw)));
    }
    Ok(())
}

/// The `name=ADDR` words after a preset's name: kernel symbols to override.
fn layout_of(at: At, p: Preset, name: &Token<'_>, rest: &[Token<'_>]) -> Result<LayoutOverride, ParseError> {
    let mut l = LayoutOverride::default();
    for t in rest {
        let Some((key, value)) = t.raw.split_once('=').filter(|_| !t.quoted) else {
            return at
                .err(t.col, "expected a symbol as name=ADDR (end, data, etext or trampoline), tlb=N or noflush=SITE");
        };
        let vcol = t.col + to_u32(key.chars().count() + 1);
        if key == "noflush" {
            let mut skip = l.noflush;
            if !skip.set(value) {
                let sites: Vec<&str> = crate::port::SkipFlush::SITES.iter().map(|(n, _)| *n).collect();
                return at
                    .err(vcol, format!("unknown flush `{value}`; the ones to leave out are {}", sites.join(", ")));
            }
            if skip == l.noflush {
                return at.err(t.col, format!("`noflush={value}` is given twice"));
            }
            l.noflush = skip;
            continue;
        }
        if key == "tlb" {
            if l.tlb.is_some() {
                return at.err(t.col, "`tlb` is given twice");
            }
            match value.parse::<u32>() {
                Ok(n) if (1..=crate::tlb::MAX_ENTRIES).contains(&n) => l.tlb = Some(n),
                _ => {
                    return at
                        .err(vcol, format!("tlb takes a number of entries from 1 to {}", crate::tlb::MAX_ENTRIES));
                }
            }
            continue;
        }
        let vt = Token {
            col: t.col + to_u32(key.chars().count() + 1),
            end: t.end,
            quoted: false,
            raw: value,
            bytes: value.as_bytes().to_vec(),
        };
        let v = u64_of(at, &vt, &ADDR)?;
        let slot = match key {
            "end" => &mut l.end,
            "data" => &mut l.data,
            "etext" => &mut l.etext,
            "trampoline" => &mut l.trampoline,
            _ => {
                return at.err(
                    t.col,
                    format!(
                        "unknown symbol `{key}`; the symbols are end, data (x86), etext and trampoline (RISC-V); the TLB options are tlb and noflush"
                    ),
                );
            }
        };
        if slot.is_some() {
            return at.err(t.col, format!("`{key}` is given twice"));
        }
        *slot = Some(v);
    }
    if let Err(r) = l.check(p) {
        return at.err(name.col, format!("{r}"));
    }
    Ok(l)
}

/// Where a header line was seen.
struct Headers {
    preset: Option<u32>,
    shm: Option<u32>,
    first_op: Option<u32>,
}

/// Read a scenario, keeping its comments (see [`Comments`](super::Comments)).
///
/// # Errors
/// The first mistake, with its line and column.
pub fn parse(text: &str) -> Result<Scenario, ParseError> {
    let mut s = Scenario::new(Preset::Xv6Public, ShmMode::Lab);
    let mut h = Headers { preset: None, shm: None, first_op: None };
    let mut nasks = 0usize;
    // Comment lines since the last operation or header line.
    let mut pending: Vec<String> = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let at = At { line: to_u32(i + 1) };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.len() > MAX_LINE_BYTES {
            return at.err(1, format!("the line is too long: at most {MAX_LINE_BYTES} bytes (2 MiB)"));
        }
        let (toks, comment) = tokenize(at, line)?;
        let Some(first) = toks.first() else {
            match comment {
                Some(c) => pending.push(comment_line(c)),
                // A blank line ends a paragraph.
                None if !pending.is_empty() => pending.push(String::new()),
                None => {}
            }
            continue;
        };
        if let Some(c) = comment {
            pending.push(comment_line(c));
        }
        if first.quoted {
            return at.err(first.col, "expected an operation name, not a quoted string");
        }
        let kw = first.raw;
        if !KEYWORDS.contains(&kw) {
            let lower = kw.to_ascii_lowercase();
            if KEYWORDS.contains(&lower.as_str()) {
                return at.err(first.col, format!("keywords are lowercase: write `{lower}`, not `{kw}`"));
            }
            return at.err(first.col, format!("unknown operation `{kw}`; the known ones are: {}", KEYWORDS.join(", ")));
        }
        match kw {
            "preset" | "shm" => {
                arity(at, kw, &toks, 1, if kw == "preset" { 7 } else { 1 })?;
                if let Some(l) = h.first_op {
                    return at.err(first.col, format!("`{kw}` must come before the first operation (line {l})"));
                }
                let seen = if kw == "preset" { &mut h.preset } else { &mut h.shm };
                if let Some(l) = seen {
                    return at.err(first.col, format!("`{kw}` is given twice (first on line {l})"));
                }
                *seen = Some(at.line);
                let intro = trimmed(core::mem::take(&mut pending));
                if !intro.is_empty() {
                    if !s.comments.intro.is_empty() {
                        s.comments.intro.push(String::new());
                    }
                    s.comments.intro.extend(intro);
                }
                let arg = &toks[1];
                let name = core::str::from_utf8(&arg.bytes).unwrap_or("");
                if kw == "preset" {
                    let Some(p) = Preset::from_name(name) else {
                        let known: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
                        return at.err(
                            arg.col,
                            format!(
                                "unknown preset `{}`; the presets are {} (or x86, x86-tiny, riscv, riscv-tiny)",
                                arg.raw,
                                known.join(", ")
                            ),
                        );
                    };
                    s.preset = p;
                    s.layout = layout_of(at, p, arg, &toks[2..])?;
                } else {
                    s.shm = match name {
                        "lab" => ShmMode::Lab,
                        "note" => ShmMode::Note,
                        _ if name.eq_ignore_ascii_case("lab") || name.eq_ignore_ascii_case("note") => {
                            return at.err(
                                arg.col,
                                format!("keywords are lowercase: write `{}`", name.to_ascii_lowercase()),
                            );
                        }
                        _ => return at.err(arg.col, format!("unknown shm mode `{}`; it is `lab` or `note`", arg.raw)),
                    };
                }
                continue;
            }
            _ => {}
        }
        if kw == "ask" {
            if nasks >= quiz::MAX_QUESTIONS {
                return at.err(first.col, format!("too many questions: a set asks at most {}", quiz::MAX_QUESTIONS));
            }
            let a = ask_of(at, &toks, s.preset)?;
            h.first_op.get_or_insert(at.line);
            s.asks.entry(s.ops.len()).or_default().push(a);
            nasks += 1;
            continue;
        }
        if s.ops.len() >= MAX_OPS {
            return at.err(first.col, format!("too many operations: a scenario has at most {MAX_OPS}"));
        }
        let op = op_of(at, kw, &toks)?;
        h.first_op.get_or_insert(at.line);
        let lines = trimmed(core::mem::take(&mut pending));
        if !lines.is_empty() {
            s.comments.ops.insert(s.ops.len(), lines);
        }
        s.ops.push(op);
    }
    Ok(s)
}

/// The operation on a line whose first word is the keyword `kw`.
fn op_of(at: At, kw: &str, t: &[Token<'_>]) -> Result<Op, ParseError> {
    Ok(match kw {
        "userinit" => {
            arity(at, kw, t, 0, 0)?;
            Op::Userinit
        }
        "fork" | "exit" | "wait" | "kill" => {
            arity(at, kw, t, 1, 1)?;
            let pid = pid(at, &t[1])?;
            match kw {
                "fork" => Op::Fork { pid },
                "exit" => Op::Exit { pid },
                "wait" => Op::Wait { pid },
                _ => Op::Kill { pid },
            }
        }
        "exec" | "execv" => {
            arity(at, kw, t, 2, usize::MAX)?;
            let pid = pid(at, &t[1])?;
            let path = path(at, &t[2])?;
            let first = if kw == "exec" { 2 } else { 3 };
            let argv = t[first..].iter().map(|a| a.bytes.clone()).collect();
            Op::Exec { pid, path, argv }
        }
        "sbrk" => {
            arity(at, kw, t, 2, 2)?;
            Op::Sbrk { pid: pid(at, &t[1])?, n: i64_of(at, &t[2], &SIGNED)? }
        }
        "openshmem" | "closeshmem" => {
            arity(at, kw, t, 2, 2)?;
            let (pid, id) = (pid(at, &t[1])?, i64_of(at, &t[2], &SHM_ID)?);
            if kw == "openshmem" { Op::OpenShm { pid, id } } else { Op::CloseShm { pid, id } }
        }
        "read" => {
            arity(at, kw, t, 3, 3)?;
            Op::Read { pid: pid(at, &t[1])?, va: u64_of(at, &t[2], &ADDR)?, len: u64_of(at, &t[3], &LEN)? }
        }
        "pipe" => {
            arity(at, kw, t, 1, 1)?;
            Op::Pipe { pid: pid(at, &t[1])? }
        }
        "pipeclose" => {
            arity(at, kw, t, 2, 2)?;
            Op::PipeClose { pid: pid(at, &t[1])?, id: pid(at, &t[2])? }
        }
        "fetch" => {
            arity(at, kw, t, 2, 2)?;
            Op::Fetch { pid: pid(at, &t[1])?, va: u64_of(at, &t[2], &ADDR)? }
        }
        "write" => {
            arity(at, kw, t, 3, usize::MAX)?;
            let pid = pid(at, &t[1])?;
            let va = u64_of(at, &t[2], &ADDR)?;
            let bytes = if t[3].quoted {
                if let Some(extra) = t.get(4) {
                    return at.err(extra.col, "write takes either one quoted string or numbers, not both");
                }
                t[3].bytes.clone()
            } else {
                let mut v = Vec::with_capacity(t.len() - 3);
                for b in &t[3..] {
                    if b.quoted {
                        return at.err(b.col, "write takes either one quoted string or numbers, not both");
                    }
                    let is_num =
                        b.raw.strip_prefix('-').unwrap_or(b.raw).chars().next().is_some_and(|c| c.is_ascii_digit());
                    if !is_num {
                        return at.err(
                            b.col,
                            format!(
                                "expected a byte (0 to 255) or one quoted string: to write text, quote it (\"{}\")",
                                b.raw
                            ),
                        );
                    }
                    v.push(number(at, b, &BYTE)? as u8);
                }
                v
            };
            Op::Write { pid, va, bytes }
        }
        "file" => {
            arity(at, kw, t, 2, 2)?;
            Op::File { path: path(at, &t[1])?, bytes: base64_file(at, &t[2])? }
        }
        "failalloc" => {
            arity(at, kw, t, 1, 1)?;
            let a = &t[1];
            if !a.quoted && a.raw == "off" {
                Op::FailAlloc { after: None }
            } else if !a.quoted && a.raw.eq_ignore_ascii_case("off") {
                return at.err(a.col, "keywords are lowercase: write `off`");
            } else {
                Op::FailAlloc { after: Some(u64_of(at, a, &COUNT)?) }
            }
        }
        "cpu" => {
            arity(at, kw, t, 1, 1)?;
            Op::Cpu { cpu: number(at, &t[1], &CPU)? as u32 }
        }
        _ => return at.err(1, format!("unknown operation `{kw}`")),
    })
}

/// What each kind of `ask` takes, for messages.
fn ask_usage(kind: &str) -> &'static str {
    match kind {
        "fields" => "ask fields VA",
        "entry" => "ask entry PID VA LEVEL (LEVEL: a number, or PDX, PTX, L2, L1, L0)",
        "translate" => {
            "ask translate PID VA ACCESS [mapped|fault] (ACCESS: user-read, user-write, user-exec, kernel-read, kernel-write; `mapped` or `fault`: what a `?` must lead to)"
        }
        "word" => "ask word PID VA",
        "sp" | "argc" | "guard" | "sz" | "changed" => match kind {
            "sp" => "ask sp PID",
            "argc" => "ask argc PID",
            "guard" => "ask guard PID",
            "sz" => "ask sz PID",
            _ => "ask changed PID",
        },
        "shmframe" => "ask shmframe ID",
        "shmrefs" => "ask shmrefs ID",
        "shmfreed" => "ask shmfreed ID",
        "pages" => "ask pages (no arguments)",
        "free" => "ask free (no arguments)",
        "kalloc" => "ask kalloc (no arguments)",
        "head" => "ask head (no arguments)",
        _ => "ask child (no arguments)",
    }
}

/// `?`, or what `f` reads.
fn any_or<T>(
    at: At,
    tok: &Token<'_>,
    f: impl Fn(At, &Token<'_>) -> Result<T, ParseError>,
) -> Result<Arg<T>, ParseError> {
    if !tok.quoted && tok.raw == "?" { Ok(Arg::Any) } else { f(at, tok).map(Arg::Given) }
}

/// The level of an `ask entry` line: a number, or an index field's name.
fn level_of(at: At, tok: &Token<'_>, preset: Preset) -> Result<u32, ParseError> {
    let levels = if preset.port() == crate::port::Port::Xv6Public { 2 } else { 3 };
    let named = match tok.raw.to_ascii_uppercase().as_str() {
        "PDX" => Some((1, 2)),
        "PTX" => Some((0, 2)),
        "L2" => Some((2, 3)),
        "L1" => Some((1, 3)),
        "L0" => Some((0, 3)),
        _ => None,
    };
    let level = match named {
        Some((l, of)) if !tok.quoted => {
            if of != levels {
                let names = if levels == 2 { "PDX (1) or PTX (0)" } else { "L2, L1 or L0" };
                return at.err(tok.col, format!("{} is not a level of {}: its levels are {names}", tok.raw, preset));
            }
            l
        }
        _ => number(at, tok, &LEVEL)? as u32,
    };
    if level >= levels {
        return at.err(tok.col, format!("{preset} has levels 0 to {} (the root is {})", levels - 1, levels - 1));
    }
    Ok(level)
}

/// The question on an `ask` line.
fn ask_of(at: At, t: &[Token<'_>], preset: Preset) -> Result<Ask, ParseError> {
    arity(at, "ask", t, 1, usize::MAX)?;
    let k = &t[1];
    let kind = k.raw;
    if k.quoted || !ASK_KINDS.contains(&kind) {
        let lower = kind.to_ascii_lowercase();
        if !k.quoted && ASK_KINDS.contains(&lower.as_str()) {
            return at.err(k.col, format!("keywords are lowercase: write `{lower}`, not `{kind}`"));
        }
        return at.err(k.col, format!("unknown question `{}`; the kinds are: {}", k.raw, ASK_KINDS.join(", ")));
    }
    let n = match kind {
        "fields" | "sp" | "argc" | "guard" | "sz" | "changed" | "shmframe" | "shmrefs" | "shmfreed" => 1,
        "word" => 2,
        "entry" | "translate" => 3,
        _ => 0,
    };
    let args = &t[2..];
    if args.len() < n {
        return at.err(t[t.len() - 1].end, format!("missing argument: {}", ask_usage(kind)));
    }
    // `translate` may say what a `?` must lead to.
    let optional = usize::from(kind == "translate");
    if args.len() > n + optional {
        return at.err(args[n + optional].col, format!("too many arguments: {}", ask_usage(kind)));
    }
    let pid_arg = |tok: &Token<'_>| any_or(at, tok, pid);
    let va_arg = |tok: &Token<'_>| any_or(at, tok, |at, tok| u64_of(at, tok, &ADDR));
    let id_arg = |tok: &Token<'_>| any_or(at, tok, |at, tok| i64_of(at, tok, &SHM_ID));
    Ok(match kind {
        "fields" => Ask::Fields { va: va_arg(&args[0])? },
        "entry" => {
            Ask::Entry { pid: pid_arg(&args[0])?, va: va_arg(&args[1])?, level: level_of(at, &args[2], preset)? }
        }
        "translate" => {
            let access = any_or(at, &args[2], |at, tok| {
                let name = core::str::from_utf8(&tok.bytes).unwrap_or("");
                match quiz::access_of(name) {
                    Some(a) => Ok::<Access, ParseError>(a),
                    None => at.err(
                        tok.col,
                        format!(
                            "unknown access `{}`; the accesses are user-read, user-write, user-exec, kernel-read and kernel-write",
                            tok.raw
                        ),
                    ),
                }
            })?;
            let ends = match args.get(3) {
                None => quiz::Ends::Any,
                Some(tok) if !tok.quoted && tok.raw == "mapped" => quiz::Ends::Mapped,
                Some(tok) if !tok.quoted && tok.raw == "fault" => quiz::Ends::Fault,
                Some(tok) => {
                    return at
                        .err(tok.col, format!("`{}`: after the access, only `mapped` or `fault` may follow", tok.raw));
                }
            };
            let (pid, va) = (pid_arg(&args[0])?, va_arg(&args[1])?);
            if ends != quiz::Ends::Any && va != quiz::Arg::Any && access != quiz::Arg::Any {
                return at.err(
                    args[3].col,
                    format!(
                        "`{}` tells the seed what to pick, but this question has no `?` for the address or the access",
                        args[3].raw
                    ),
                );
            }
            Ask::Translate { pid, va, access, ends }
        }
        "word" => Ask::Word { pid: pid_arg(&args[0])?, va: va_arg(&args[1])? },
        "sp" => Ask::Sp { pid: pid_arg(&args[0])? },
        "argc" => Ask::Argc { pid: pid_arg(&args[0])? },
        "guard" => Ask::Guard { pid: pid_arg(&args[0])? },
        "sz" => Ask::Sz { pid: pid_arg(&args[0])? },
        "changed" => Ask::Changed { pid: pid_arg(&args[0])? },
        "shmframe" => Ask::ShmFrame { id: id_arg(&args[0])? },
        "shmrefs" => Ask::ShmRefs { id: id_arg(&args[0])? },
        "shmfreed" => Ask::ShmFreed { id: id_arg(&args[0])? },
        "pages" => Ask::Pages,
        "free" => Ask::Free,
        "kalloc" => Ask::Kalloc,
        "head" => Ask::Head,
        _ => Ask::Child,
    })
}

/// One operation as a line of the scenario language (no newline).
#[must_use]
pub fn print_op(op: &Op) -> String {
    match op {
        Op::Userinit => String::from("userinit"),
        Op::Fork { pid } => format!("fork {pid}"),
        Op::Exit { pid } => format!("exit {pid}"),
        Op::Wait { pid } => format!("wait {pid}"),
        Op::Kill { pid } => format!("kill {pid}"),
        Op::Exec { pid, path, argv } => {
            let sh_style = argv.first().is_some_and(|a0| a0.as_slice() == path.as_bytes());
            let (kw, rest) = if sh_style { ("exec", &argv[1..]) } else { ("execv", &argv[..]) };
            let mut s = format!("{kw} {pid} {}", quote(path.as_bytes()));
            for a in rest {
                s.push(' ');
                s.push_str(&quote(a));
            }
            s
        }
        Op::Sbrk { pid, n } => format!("sbrk {pid} {n}"),
        Op::OpenShm { pid, id } => format!("openshmem {pid} {id}"),
        Op::CloseShm { pid, id } => format!("closeshmem {pid} {id}"),
        Op::Read { pid, va, len } => format!("read {pid} {va:#x} {len}"),
        Op::Write { pid, va, bytes } => format!("write {pid} {va:#x} {}", bytes_literal(bytes)),
        Op::Fetch { pid, va } => format!("fetch {pid} {va:#x}"),
        Op::Pipe { pid } => format!("pipe {pid}"),
        Op::PipeClose { pid, id } => format!("pipeclose {pid} {id}"),
        Op::File { path, bytes } => {
            let b64 = if bytes.is_empty() { String::from("\"\"") } else { BASE64.encode(bytes) };
            format!("file {} {b64}", quote(path.as_bytes()))
        }
        Op::FailAlloc { after: Some(n) } => format!("failalloc {n}"),
        Op::FailAlloc { after: None } => String::from("failalloc off"),
        Op::Cpu { cpu } => format!("cpu {cpu}"),
    }
}

/// Comment lines as text: `# line`, or `#` for a blank one.
fn print_comment(out: &mut String, lines: &[String]) {
    for l in lines {
        if l.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str("# ");
            out.push_str(l);
            out.push('\n');
        }
    }
}

/// A scenario in canonical form: the introduction's comment lines, the
/// `preset` and `shm` lines, then one operation per line, each line ending
/// in a newline; an operation with comments gets a blank line and its
/// comment lines before it.
///
/// [`parse`] reads it back to the same scenario, as long as the scenario
/// keeps to what the language can say: paths non-empty, at most [`MAX_OPS`]
/// operations, lines and files within [`MAX_LINE_BYTES`] and [`MAX_FILE_BYTES`],
/// comment lines without a newline, trailing blanks or blank first and last lines.
#[must_use]
pub fn print(s: &Scenario) -> String {
    let mut out = String::new();
    print_comment(&mut out, &s.comments.intro);
    out.push_str(&format!("preset {}", s.preset.name()));
    for (key, v) in
        [("end", s.layout.end), ("data", s.layout.data), ("etext", s.layout.etext), ("trampoline", s.layout.trampoline)]
    {
        if let Some(v) = v {
            out.push_str(&format!(" {key}={v:#x}"));
        }
    }
    if let Some(n) = s.layout.tlb {
        out.push_str(&format!(" tlb={n}"));
    }
    for site in s.layout.noflush.names() {
        out.push_str(&format!(" noflush={site}"));
    }
    out.push_str(&format!("\nshm {}\n", s.shm.name()));
    for (i, op) in s.ops.iter().enumerate() {
        let c = s.comments.of(i);
        if !c.is_empty() {
            out.push('\n');
            print_comment(&mut out, c);
        }
        print_asks(&mut out, s, i);
        out.push_str(&print_op(op));
        out.push('\n');
    }
    print_asks(&mut out, s, s.ops.len());
    out
}

/// The `ask` lines before operation `i`.
fn print_asks(out: &mut String, s: &Scenario, i: usize) {
    for a in s.asks.get(&i).map_or(&[][..], Vec::as_slice) {
        let _ = writeln!(out, "{a}");
    }
}

/// The story of the notes on xv6-public: the shell runs `echo hello world`.
pub static STORY_X86: &str = include_str!("builtins/story-x86.txt");

/// The same story on xv6-riscv.
pub static STORY_RISCV: &str = include_str!("builtins/story-riscv.txt");

/// The note's shared-memory test (ten children) with pagelab's shared-memory code.
pub static SHM_TEST: &str = include_str!("builtins/shm-test.txt");

/// The note's shared-memory test with the note's own code, defects and all.
pub static SHM_TEST_NOTE: &str = include_str!("builtins/shm-test-note.txt");

/// xv6-public's own TLB window: after sbrk(-sz) the freed page's translation stays in the TLB.
pub static TLB_X86: &str = include_str!("builtins/tlb-x86.txt");

/// The exec lecture's question as an experiment: xv6-public without growproc's switchuvm.
pub static TLB_NOFLUSH_X86: &str = include_str!("builtins/tlb-noflush-x86.txt");

/// xv6-public on two CPUs: a stale translation on one CPU reaches a page kalloc gave a process on the other.
pub static TLB_SMP_X86: &str = include_str!("builtins/tlb-smp-x86.txt");

/// xv6-riscv's trampoline flushes on every trap in and out: no window after sbrk.
pub static TLB_RISCV: &str = include_str!("builtins/tlb-riscv.txt");

/// The scenarios that come with the lab, as (name, text).
#[must_use]
pub fn builtins() -> &'static [(&'static str, &'static str)] {
    /// One table, so that each text is in the program once.
    static ALL: [(&str, &str); 8] = [
        ("story-x86", STORY_X86),
        ("story-riscv", STORY_RISCV),
        ("shm-test", SHM_TEST),
        ("shm-test-note", SHM_TEST_NOTE),
        ("tlb-x86", TLB_X86),
        ("tlb-noflush-x86", TLB_NOFLUSH_X86),
        ("tlb-smp-x86", TLB_SMP_X86),
        ("tlb-riscv", TLB_RISCV),
    ];
    &ALL
}

/// The text of the built-in scenario `name`.
#[must_use]
pub fn builtin(name: &str) -> Option<&'static str> {
    builtins().iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
