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
            // A character that does not show between quotes is named.
            let shown = match c {
                ' ' => String::from("a space"),
                '\t' => String::from("a tab"),
                c if c.is_whitespace() || c.is_control() => format!("the character U+{:04X}", u32::from(c)),
                c => format!("`{c}`"),
            };
            return Err(format!("{what}: {shown} is not {kind}{hint}"));
        };
        v = v
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or_else(|| format!("{what}: the number is too large (more than 64 bits)"))?;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_character_that_is_not_a_digit_is_named_so_that_it_shows() {
        assert_eq!(digits("8z", 16, "an answer", "").unwrap_err(), "an answer: `z` is not a hex digit (0-9, a-f)");
        assert_eq!(
            digits("87 f", 16, "an answer", "").unwrap_err(),
            "an answer: a space is not a hex digit (0-9, a-f)"
        );
        assert_eq!(digits("8\t7", 10, "n", "").unwrap_err(), "n: a tab is not a decimal digit (0-9)");
        assert_eq!(
            digits("8\u{a0}7", 10, "n", "").unwrap_err(),
            "n: the character U+00A0 is not a decimal digit (0-9)"
        );
        assert_eq!(digits("1_000", 10, "n", ""), Ok(1000));
    }
}
