//! Ids as the API takes them: positive whole numbers that every client's JSON reads exactly.

/// Ids stay within what every client's JSON number can hold exactly: 2^53 - 1.
pub const MAX_ID: u64 = (1 << 53) - 1;

/// A positive whole number: `7` and `"7"` are fine; `0`, `-3`, `1.5`, `abc` are not.
pub fn parse_id(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u64>().ok().filter(|&n| n > 0 && n <= MAX_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_whole_numbers() {
        assert_eq!(parse_id("7"), Some(7));
        assert_eq!(parse_id(" 12 "), Some(12));
        for bad in ["0", "-3", "1.5", "abc", "", "1e3", "99999999999999999999999", "9007199254740992"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
        assert_eq!(parse_id("9007199254740991"), Some(MAX_ID));
    }
}
