//! What a reaction may be (API.md "Message lifecycle"): one emoji, a single grapheme cluster
//! of Unicode emoji (skin tones, keycaps, flags and ZWJ sequences included), or a short name
//! `:[a-z0-9_+-]{1,32}:`. Pure; no Unicode tables beyond the emoji blocks.

/// Longest emoji sequence accepted, in characters (the longest in Unicode 15 has 10).
const MAX_SEQUENCE: usize = 16;

const ZWJ: char = '\u{200D}';
const VS16: char = '\u{FE0F}';
const KEYCAP: char = '\u{20E3}';

/// Whether `s` may name a reaction.
pub fn is_reaction(s: &str) -> bool {
    is_short_name(s) || is_emoji(s)
}

fn is_short_name(s: &str) -> bool {
    let Some(name) = s.strip_prefix(':').and_then(|s| s.strip_suffix(':')) else { return false };
    (1..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_+-".contains(&b))
}

fn is_emoji(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() || chars.len() > MAX_SEQUENCE {
        return false;
    }
    // Flags: two regional indicators.
    if chars.iter().all(|&c| is_regional_indicator(c)) {
        return chars.len() == 2;
    }
    // Keycaps: 0-9, # or * with an optional VS16, then the enclosing keycap.
    if let [base, rest @ ..] = chars.as_slice() {
        if (base.is_ascii_digit() || *base == '#' || *base == '*')
            && matches!(rest, [KEYCAP] | [VS16, KEYCAP])
        {
            return true;
        }
    }
    // Pictographs joined by ZWJ, each with an optional VS16 and skin tone; a tag sequence
    // (subdivision flags) may close the last one.
    chars.split(|&c| c == ZWJ).all(is_pictograph_with_modifiers)
}

fn is_pictograph_with_modifiers(part: &[char]) -> bool {
    let Some((&base, mut rest)) = part.split_first() else { return false };
    if !is_pictograph(base) {
        return false;
    }
    if let [VS16, tail @ ..] = rest {
        rest = tail;
    }
    if let [tone, tail @ ..] = rest {
        if is_skin_tone(*tone) {
            rest = tail;
        }
    }
    match rest {
        [] => true,
        [tags @ .., '\u{E007F}'] => {
            !tags.is_empty() && tags.iter().all(|c| ('\u{E0020}'..='\u{E007E}').contains(c))
        }
        _ => false,
    }
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

fn is_skin_tone(c: char) -> bool {
    ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

/// Unicode's Extended_Pictographic ranges, a little wider in the supplementary planes.
fn is_pictograph(c: char) -> bool {
    matches!(c as u32,
        0xA9 | 0xAE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x2199 | 0x21A9..=0x21AA
        | 0x231A..=0x231B | 0x2328 | 0x23CF | 0x23E9..=0x23F3 | 0x23F8..=0x23FA | 0x24C2
        | 0x25AA..=0x25AB | 0x25B6 | 0x25C0 | 0x25FB..=0x25FE | 0x2600..=0x27BF
        | 0x2934..=0x2935 | 0x2B05..=0x2B07 | 0x2B1B..=0x2B1C | 0x2B50 | 0x2B55 | 0x3030
        | 0x303D | 0x3297 | 0x3299 | 0x1F000..=0x1F1E5 | 0x1F200..=0x1F3FA | 0x1F400..=0x1FAFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_emoji_of_every_kind_are_reactions() {
        for ok in [
            "👍",
            "❤️",
            "❤",
            "🎉",
            "👍🏽",
            "👩‍💻",
            "👨‍👩‍👧‍👦",
            "🏳️‍🌈",
            "🇫🇷",
            "1️⃣",
            "#⃣",
            "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
            "🧑🏿‍🚀",
            ":thumbsup:",
            ":+1:",
            ":a:",
            ":party_parrot-2:",
        ] {
            assert!(is_reaction(ok), "{ok}");
        }
    }

    #[test]
    fn text_several_emoji_and_bad_short_names_are_not() {
        let long = format!(":{}:", "a".repeat(33));
        for bad in [
            "",
            "a",
            "ok",
            "👍👍",
            "👍 ",
            " 👍",
            "🇫",
            "🇫🇷🇩🇪",
            "1",
            "‍👍",
            "👍‍",
            "🏽",
            "::",
            ":Thumbs:",
            ":a b:",
            long.as_str(),
            ":x",
            "x:",
            "<script>",
            "%F0%9F%91%8D",
        ] {
            assert!(!is_reaction(bad), "{bad:?}");
        }
    }
}
