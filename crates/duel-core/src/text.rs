//! Text from models is data: neutralise control characters once, as it arrives, and
//! measure it with real display widths (CJK, emoji); counts in words.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Spaces a tab becomes.
const TAB: &str = "    ";

/// Makes model output inert: escape and control characters become visible symbols
/// (ESC shows as `␛`, so `ESC[2J` is just text), carriage returns and bidi overrides
/// vanish, tabs become spaces. Newlines stay. Works per character, so a sequence
/// split across two deltas is neutralised just the same.
pub fn sanitize(input: &str) -> String {
    if !input.chars().any(needs_care) {
        return input.to_owned();
    }
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str(TAB),
            '\r' => {}
            // C0 controls and DEL: their Unicode "control picture".
            '\0'..='\x1f' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
            '\x7f' => out.push('\u{2421}'),
            // C1 controls (8-bit CSI, OSC, …) have no picture.
            '\u{80}'..='\u{9f}' => out.push('\u{fffd}'),
            // Bidi embeddings, overrides and isolates could reorder what the pane shows.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c => out.push(c),
        }
    }
    out
}

fn needs_care(c: char) -> bool {
    c != '\n' && (c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
}

/// Display width of a string in terminal cells.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `n` and the noun that goes with it: "1 vote", "2 votes", "1,000 votes".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// `n` with its thousands grouped: `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Cuts `s` to at most `max` cells, ending with `…` when it was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = width(g);
        if used + w + 1 > max {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_takes_the_noun_that_goes_with_it() {
        assert_eq!(count(1, "vote", "votes"), "1 vote");
        assert_eq!(count(0, "vote", "votes"), "0 votes");
        assert_eq!(count(2, "pair", "pairs"), "2 pairs");
        assert_eq!(count(1000, "vote", "votes"), "1,000 votes");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn escape_sequences_become_inert_text() {
        let s = sanitize("a\x1b[2Jb\x1b]0;title\x07c\u{9b}31m");
        assert!(!s.contains('\x1b') && !s.contains('\x07') && !s.contains('\u{9b}'));
        assert_eq!(s, "a␛[2Jb␛]0;title␇c\u{fffd}31m");
    }

    #[test]
    fn tabs_newlines_returns_backspaces_and_bidi() {
        assert_eq!(sanitize("a\tb\r\nc\x08d"), "a    b\nc␈d");
        assert_eq!(sanitize("x\u{202e}y\u{2066}z"), "xyz");
        assert_eq!(sanitize("plain 中文 👍"), "plain 中文 👍");
    }

    #[test]
    fn truncate_respects_wide_characters() {
        assert_eq!(truncate("hello", 10), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        assert_eq!(truncate("你好世界", 5), "你好…");
    }
}
