//! Reading what a learner types: addresses, numbers and argument lines.
//!
//! Every function here returns a plain-words message for anything it cannot
//! read; none of them panics, whatever the text.
//!
//! The address rule, shown next to the field in the page:
//! - hex: `0x00403abc`, `0X403ABC` or bare hex digits `403abc` (as in xv6's listings);
//! - decimal: a `#` in front, `#4209340`;
//! - `_` may separate digits (`0x8000_0000`); spaces around the address are ignored.

use pagelab_core::scheme::SchemeKind;

/// How addresses are typed, with examples of the scheme's own addresses
/// (x86: a user address; Sv39: xv6-riscv's TRAPFRAME).
#[must_use]
pub fn address_rule(scheme: SchemeKind) -> &'static str {
    match scheme {
        SchemeKind::Sv39 => {
            "Hex: 0x3fffffe000 or 3fffffe000. Decimal: put # in front, #274877898752. _ may separate digits."
        }
        SchemeKind::X86 | SchemeKind::Sv32 => {
            "Hex: 0x403abc or 403abc. Decimal: put # in front, #4209340. _ may separate digits."
        }
    }
}

/// The most bytes an argument line may have.
pub const MAX_ARGLINE: usize = 64 * 1024;

/// The largest file a learner may upload (1 MiB, the scenario language's limit).
pub const MAX_UPLOAD: usize = pagelab_core::lab::scenario::MAX_FILE_BYTES;

/// Digits of `text` in `radix`, `_` allowed between them, as a `u64`.
fn digits(text: &str, radix: u32, what: &str) -> Result<u64, String> {
    let hint = if radix == 16 {
        ". Write decimal numbers with # in front, like #4096"
    } else {
        "; after # come decimal digits only"
    };
    pagelab_core::lab::notation::digits(text, radix, what, hint)
}

/// Read a virtual address for `scheme` by the rule in [`address_rule`].
///
/// # Errors
/// Empty text, a minus sign, a character that is not a digit, or an address
/// wider than the scheme's (x86 and Sv32: 32 bits; Sv39 takes 64-bit values
/// and shows their sign-extension bits).
pub fn parse_address(text: &str, scheme: SchemeKind) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() {
        // Fields easy to read off: x86 and Sv32 index 1 then 3, Sv39 index 1 at each level; offset 0xabc.
        let example = match scheme {
            SchemeKind::X86 | SchemeKind::Sv32 => "0x00403abc",
            SchemeKind::Sv39 => "0x40201abc",
        };
        return Err(format!("type an address, for example {example}"));
    }
    if t.starts_with('-') {
        return Err("an address cannot be negative: addresses count up from 0".into());
    }
    if t.chars().any(char::is_whitespace) {
        return Err("an address is one number: remove the spaces inside it".into());
    }
    // 0b… reads as hex digits, but a learner who types it most likely means binary.
    if let Some(rest) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        let binary = match u64::from_str_radix(rest, 2) {
            Ok(v) if !rest.starts_with('+') => format!(" (in binary, {rest} is {v:#x})"),
            _ => String::new(),
        };
        return Err(format!(
            "{t} looks like binary, which this field does not read{binary}: type the address in hex (0x…) or in decimal after # (#4096). For the hex number {t}, type 0x{t}."
        ));
    }
    let v = if let Some(dec) = t.strip_prefix('#') {
        digits(dec, 10, "decimal address")?
    } else {
        let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
        digits(hex, 16, "hex address")?
    };
    let bits = match scheme {
        SchemeKind::X86 | SchemeKind::Sv32 => 32,
        SchemeKind::Sv39 => 64,
    };
    if bits < 64 && v >> bits != 0 {
        return Err(format!(
            "{v:#x} is wider than {bits} bits: virtual addresses on this machine go from 0x0 to {:#x}",
            (1u64 << bits) - 1
        ));
    }
    Ok(v)
}

/// Read a whole number: decimal (`4096`, `-4096`) or hex (`0x1000`, `-0x1000`).
///
/// # Errors
/// Anything else, or a number outside `min..=max`.
pub fn parse_int(text: &str, what: &str, min: i64, max: i64) -> Result<i64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(format!("{what}: type a number"));
    }
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if let Some(d) = rest.strip_prefix('#') {
        let sign = if neg { "-" } else { "" };
        return Err(format!(
            "{what}: a number here is decimal already, so leave out the # (it marks decimal only in address fields): write {sign}{d}"
        ));
    }
    let (radix, body) = match rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        Some(h) => (16, h),
        None => (10, rest),
    };
    if body.is_empty() || !body.chars().all(|c| c == '_' || c.is_digit(radix)) {
        return Err(format!("{what}: `{t}` is not a whole number (write it like 4096, -4096 or 0x1000)"));
    }
    let mag = digits(body, radix, what)?;
    let v = if neg { -i128::from(mag) } else { i128::from(mag) };
    if v < i128::from(min) || v > i128::from(max) {
        return Err(format!("{what}: {t} is out of range ({min} to {max})"));
    }
    // In range of i64 by the check above.
    Ok(v as i64)
}

/// Split an argument line as a shell would: spaces separate arguments;
/// `"..."` and `'...'` keep spaces; outside single quotes `\` takes the next
/// character as it is.
///
/// # Errors
/// An unclosed quote, a `\` at the very end, or a line over [`MAX_ARGLINE`] bytes.
pub fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    if line.len() > MAX_ARGLINE {
        return Err(format!("the argument line is {} bytes; the lab takes at most {MAX_ARGLINE}", line.len()));
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    out.push(std::mem::take(&mut cur).into_bytes());
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("a ' quote is not closed: add the closing '".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => cur.push(c),
                            None => return Err("a \" quote is not closed: add the closing \"".into()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("a \" quote is not closed: add the closing \"".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => cur.push(c),
                    None => return Err("the line ends with \\: a backslash must be followed by a character".into()),
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur.into_bytes());
    }
    Ok(out)
}

/// Check an upload's size before reading it.
///
/// # Errors
/// An empty file, or one over [`MAX_UPLOAD`] bytes.
pub fn check_upload_size(name: &str, size: u64) -> Result<(), String> {
    let name: String = name.chars().take(60).collect();
    if size == 0 {
        return Err(format!("{name} is empty: a program file starts with an ELF header"));
    }
    if size > MAX_UPLOAD as u64 {
        return Err(format!(
            "{name} is {size} bytes; the lab takes program files of at most {MAX_UPLOAD} bytes (1 MiB). Nothing changed."
        ));
    }
    Ok(())
}

/// A file name from an upload, made into a path exec can find: `/` plus the
/// name's letters, digits, `.`, `-` and `_` (others become `_`), at most 64 characters.
#[must_use]
pub fn upload_path(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut clean: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' { c } else { '_' })
        .take(64)
        .collect();
    if clean.is_empty() || clean.chars().all(|c| c == '.') {
        clean = "upload".into();
    }
    format!("/{clean}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_hex_and_decimal() {
        let x = SchemeKind::X86;
        assert_eq!(parse_address("0x00403abc", x), Ok(0x0040_3abc));
        assert_eq!(parse_address("403ABC", x), Ok(0x0040_3abc));
        assert_eq!(parse_address("  0X8000_0000 ", x), Ok(0x8000_0000));
        // 0x403abc = 4 * 1048576 + 0x3abc (15036) = 4209340.
        assert_eq!(parse_address("#4209340", x), Ok(0x0040_3abc));
        assert_eq!(parse_address("0xffffffff", x), Ok(0xffff_ffff));
        assert_eq!(parse_address("0xffffffffffffffff", SchemeKind::Sv39), Ok(u64::MAX));
    }

    #[test]
    fn bad_addresses_say_why() {
        let x = SchemeKind::X86;
        assert!(parse_address("", x).unwrap_err().contains("type an address"));
        assert!(parse_address("   ", x).unwrap_err().contains("type an address"));
        // The example is the machine's own: PDX 1, PTX 3 on x86; L2, L1, L0 all 1 on Sv39
        // (1 << 30 | 1 << 21 | 1 << 12 | 0xabc = 0x40201abc).
        assert!(parse_address("", x).unwrap_err().ends_with("for example 0x00403abc"));
        assert!(parse_address("", SchemeKind::Sv39).unwrap_err().ends_with("for example 0x40201abc"));
        assert!(parse_address("-4", x).unwrap_err().contains("negative"));
        assert!(parse_address("0xzz", x).unwrap_err().contains("`z` is not a hex digit"));
        assert!(parse_address("0x", x).unwrap_err().contains("no digits"));
        assert!(parse_address("#12a", x).unwrap_err().contains("`a` is not a decimal digit"));
        assert!(parse_address("#", x).unwrap_err().contains("no digits"));
        assert!(parse_address("0x100000000", x).unwrap_err().contains("wider than 32 bits"));
        assert!(parse_address("0x1ffffffffffffffff", SchemeKind::Sv39).unwrap_err().contains("too large"));
        assert!(parse_address("12 34", x).unwrap_err().contains("spaces"));
        assert!(parse_address("héllo", x).unwrap_err().contains("not a hex digit"));
        // 0b101 is binary 5, hex 0x5; 0b12 is no binary number; 0x0b101 is hex.
        let e = parse_address("0b101", x).unwrap_err();
        assert!(
            e.contains("looks like binary") && e.contains("(in binary, 101 is 0x5)") && e.ends_with("type 0x0b101."),
            "{e}"
        );
        assert!(!parse_address("0B12", x).unwrap_err().contains("in binary,"));
        assert_eq!(parse_address("0x0b101", x), Ok(0xb101));
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(parse_int("4096", "n", i64::MIN, i64::MAX), Ok(4096));
        assert_eq!(parse_int("-0x1000", "n", i64::MIN, i64::MAX), Ok(-4096));
        assert_eq!(parse_int("+12", "n", 0, 100), Ok(12));
        assert!(parse_int("abc", "sbrk's n", i64::MIN, i64::MAX).unwrap_err().contains("not a whole number"));
        assert!(
            parse_int("#4096", "sbrk's n", i64::MIN, i64::MAX)
                .unwrap_err()
                .ends_with("leave out the # (it marks decimal only in address fields): write 4096")
        );
        assert!(parse_int("-#16", "n", i64::MIN, i64::MAX).unwrap_err().ends_with("write -16"));
        assert!(parse_int("", "n", 0, 1).unwrap_err().contains("type a number"));
        assert!(parse_int("5", "n", 0, 4).unwrap_err().contains("out of range"));
        assert!(parse_int("99999999999999999999", "n", i64::MIN, i64::MAX).unwrap_err().contains("too large"));
        assert!(parse_int("-9223372036854775809", "n", i64::MIN, i64::MAX).unwrap_err().contains("out of range"));
        assert_eq!(parse_int("-9223372036854775808", "n", i64::MIN, i64::MAX), Ok(i64::MIN));
    }

    #[test]
    fn argument_lines_split_like_a_shell() {
        let v = |s: &str| split_args(s).unwrap().into_iter().map(|b| String::from_utf8(b).unwrap()).collect::<Vec<_>>();
        assert_eq!(v("hello world"), ["hello", "world"]);
        assert_eq!(v("  a   b  "), ["a", "b"]);
        assert_eq!(v(r#""hello world" 'it''s' a\ b"#), ["hello world", "its", "a b"]);
        assert_eq!(v(r#""" x"#), ["", "x"]);
        assert!(v("").is_empty());
        assert!(split_args("\"open").unwrap_err().contains("not closed"));
        assert!(split_args("'open").unwrap_err().contains("not closed"));
        assert!(split_args("end\\").unwrap_err().contains("backslash"));
        assert!(split_args(&"a".repeat(MAX_ARGLINE + 1)).unwrap_err().contains("at most"));
    }

    #[test]
    fn upload_names_become_paths() {
        assert_eq!(upload_path("hello.elf"), "/hello.elf");
        assert_eq!(upload_path("C:\\x\\my prog"), "/my_prog");
        assert_eq!(upload_path(".."), "/upload");
        assert_eq!(upload_path(""), "/upload");
    }
}
