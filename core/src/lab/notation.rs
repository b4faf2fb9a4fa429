//! The lab's notation for numbers a learner types, shared by every place that
//! reads one (the lab's fields, the widgets, exercise answers).

use alloc::format;
use alloc::string::String;

/// The digits of `text` in `radix` (10 or 16), `_` allowed between them, as a
/// `u64`. `what` names the number in messages; `hint` is added to the message
/// for a character that is not a digit (how to write the other base).
///
/// # Errors
/// No digits, a character that is not a digit, or more than 64 bits.
pub fn digits(text: &str, radix: u32, what: &str, hint: &str) -> Result<u64, String> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() {
        return Err(format!("{what}: there are no digits"));
    }
    let mut v: u64 = 0;
    for c in clean.chars() {
        let Some(d) = c.to_digit(radix) else {
            let kind = if radix == 16 { "a hex digit (0-9, a-f)" } else { "a decimal digit (0-9)" };
            return Err(format!("{what}: `{c}` is not {kind}{hint}"));
        };
        v = v
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or_else(|| format!("{what}: the number is too large (more than 64 bits)"))?;
    }
    Ok(v)
}
