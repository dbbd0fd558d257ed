//! Wrapping text to a pane's width with real display widths (CJK, emoji), in styled
//! spans for the screen.

use duel_core::text::width;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;

/// Wraps one logical line of styled spans to `width` cells: breaks after spaces
/// where it can, between wide (CJK) characters, and inside a word only when the word
/// alone is wider than the line. Spaces at a break are dropped.
///
/// Only the line being laid out is held as cells, so wrapping one enormous paragraph
/// costs memory for a line, not for the paragraph.
pub(crate) fn wrap_spans(spans: &[Span<'_>], width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut cells = graphemes(spans).peekable();
    if cells.peek().is_none() {
        return vec![Line::default()];
    }
    let mut lines = Vec::new();
    // The cells from the start of the line being laid out.
    let mut window: Vec<Cell<'_>> = Vec::new();
    let mut used = 0;
    loop {
        // Enough to tell where the line ends: a cell past its width (after the first),
        // or the end of the text.
        while !(used > width && window.len() >= 2) {
            let Some(cell) = cells.next() else { break };
            used += cell.width;
            window.push(cell);
        }
        let more = cells.peek().is_some();
        if window.is_empty() {
            break;
        }
        let end = line_end(&window, 0, width);
        // Trailing spaces at a break do not show; leading ones of the next line neither.
        let after = end < window.len() || more;
        let mut visible_end = end;
        while visible_end > 0 && after && window[visible_end - 1].text == " " {
            visible_end -= 1;
        }
        lines.push(to_line(&window[..visible_end]));
        window.drain(..end);
        if !after {
            break;
        }
        loop {
            if window.is_empty() {
                match cells.next_if(|c| c.text == " ") {
                    Some(_) => continue,
                    None => break,
                }
            }
            if window[0].text != " " {
                break;
            }
            window.remove(0);
        }
        used = window.iter().map(|c| c.width).sum();
        if window.is_empty() && cells.peek().is_none() {
            break;
        }
    }
    lines
}

/// Wraps plain text (with newlines) in one style.
pub fn wrap_text(text: &str, style: Style, width: usize) -> Vec<Line<'static>> {
    text.split('\n')
        .flat_map(|line| wrap_spans(&[Span::styled(line, style)], width))
        .collect()
}

/// A note (an error, its hint, a notice) wrapped to `width`, every line after the
/// first hanging under its text: past its leading spaces and a marker such as `✗ `,
/// so a wrapped line never starts at the margin as if it were a note of its own.
pub fn wrap_note(text: &str, style: Style, width: usize) -> Vec<Line<'static>> {
    let hang = hanging_indent(text);
    if hang == 0 || hang * 2 > width {
        return wrap_text(text, style, width);
    }
    let pad = " ".repeat(hang);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for paragraph in text.split('\n') {
        let mut rest = paragraph;
        loop {
            let first = lines.is_empty();
            let room = if first { width } else { width - hang };
            let Some(mut line) = wrap_spans(&[Span::styled(rest, style)], room)
                .into_iter()
                .next()
            else {
                break;
            };
            // The line is a prefix of `rest`, less the spaces dropped at its break.
            let taken: usize = line.spans.iter().map(|s| s.content.len()).sum();
            if !first {
                line.spans.insert(0, Span::styled(pad.clone(), style));
            }
            lines.push(line);
            rest = rest[taken..].trim_start_matches(' ');
            if rest.is_empty() {
                break;
            }
        }
    }
    lines
}

/// Where a note's text starts: its leading spaces, and a one-symbol marker (`✗ `,
/// `↻ `, `⚠ `, `✓ `) after them.
fn hanging_indent(text: &str) -> usize {
    let line = text.lines().next().unwrap_or_default();
    let body = line.trim_start_matches(' ');
    let lead = line.len() - body.len();
    let marker = body
        .split_once(' ')
        .filter(|(m, _)| m.graphemes(true).count() == 1 && !m.chars().any(char::is_alphanumeric))
        .map_or(0, |(m, _)| width(m) + 1);
    lead + marker
}

struct Cell<'a> {
    text: &'a str,
    style: Style,
    width: usize,
}

fn graphemes<'a>(spans: &'a [Span<'_>]) -> impl Iterator<Item = Cell<'a>> {
    spans.iter().flat_map(|span| {
        span.content.graphemes(true).map(|g| Cell {
            text: g,
            style: span.style,
            width: width(g),
        })
    })
}

/// The index one past the last cell of the line starting at `start`.
fn line_end(cells: &[Cell<'_>], start: usize, width: usize) -> usize {
    let mut used = 0;
    let mut last_break = None;
    for (i, cell) in cells.iter().enumerate().skip(start) {
        if used + cell.width > width && i > start {
            return match last_break {
                Some(b) if b > start => b,
                _ => i,
            };
        }
        used += cell.width;
        if cell.text == " " || cell.width > 1 {
            // A line may break after a space or a wide character.
            last_break = Some(i + 1);
        } else if i + 1 < cells.len() && cells[i + 1].width > 1 {
            // ... and before a wide character.
            last_break = Some(i + 1);
        }
    }
    cells.len()
}

fn to_line(cells: &[Cell<'_>]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    for cell in cells {
        match spans.last_mut() {
            Some(last) if last.style == cell.style => last.content.to_mut().push_str(cell.text),
            _ => spans.push(Span::styled(cell.text.to_owned(), cell.style)),
        }
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_note_hangs_under_its_text() {
        let error = wrap_note(
            "✗ missing API key: set DASHSCOPE_API_KEY",
            Style::default(),
            24,
        );
        assert_eq!(
            plain(&error),
            ["✗ missing API key: set", "  DASHSCOPE_API_KEY"]
        );
        let hint = wrap_note(
            "  export QIANFAN_API_KEY=… (or try `duel --demo`, which works offline)",
            Style::default(),
            38,
        );
        assert_eq!(
            plain(&hint),
            [
                "  export QIANFAN_API_KEY=… (or try",
                "  `duel --demo`, which works offline)"
            ]
        );
        // No marker, no indent: as plain wrapping.
        assert_eq!(
            plain(&wrap_note("voted A is better", Style::default(), 8)),
            ["voted A", "is", "better"]
        );
    }

    /// Wrapping as it was done with every cell of the text held at once: the
    /// line-at-a-time wrapping must lay out exactly the same lines.
    fn wrap_all_at_once(spans: &[Span<'_>], width: usize) -> Vec<Line<'static>> {
        let width = width.max(1);
        let cells: Vec<Cell<'_>> = graphemes(spans).collect();
        if cells.is_empty() {
            return vec![Line::default()];
        }
        let mut lines = Vec::new();
        let mut start = 0;
        while start < cells.len() {
            let end = line_end(&cells, start, width);
            let mut visible_end = end;
            while visible_end > start && end < cells.len() && cells[visible_end - 1].text == " " {
                visible_end -= 1;
            }
            lines.push(to_line(&cells[start..visible_end]));
            start = end;
            while start < cells.len() && cells[start].text == " " {
                start += 1;
            }
        }
        lines
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 2000,
            rng_seed: proptest::test_runner::RngSeed::Fixed(7),
            failure_persistence: None,
            ..Default::default()
        })]

        #[test]
        fn wrapping_a_line_at_a_time_lays_out_what_wrapping_at_once_did(
            text in "[a b中文👍\\-]{0,80}",
            split in 0usize..80,
            width in 1usize..12,
        ) {
            let at = (0..=split.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
            let spans = [Span::raw(&text[..at]), Span::styled(&text[at..], bold)];
            proptest::prop_assert_eq!(wrap_spans(&spans, width), wrap_all_at_once(&spans, width));
        }
    }

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wraps_at_spaces() {
        let lines = wrap_text("the quick brown fox jumps", Style::default(), 10);
        assert_eq!(plain(&lines), ["the quick", "brown fox", "jumps"]);
    }

    #[test]
    fn breaks_a_word_longer_than_the_line() {
        let lines = wrap_text("abcdefghijkl", Style::default(), 5);
        assert_eq!(plain(&lines), ["abcde", "fghij", "kl"]);
    }

    #[test]
    fn cjk_takes_two_cells_and_breaks_between_characters() {
        let lines = wrap_text("你好世界和平", Style::default(), 5);
        // Five cells hold two wide characters, never two and a half.
        assert_eq!(plain(&lines), ["你好", "世界", "和平"]);
        for line in &lines {
            assert!(line.width() <= 5);
        }
    }

    #[test]
    fn emoji_and_mixed_text_fit_their_width() {
        let lines = wrap_text("ok 👍👍👍 done 中文字", Style::default(), 7);
        for line in &lines {
            assert!(line.width() <= 7, "{line:?} is wider than 7");
        }
        assert_eq!(
            plain(&lines).concat().replace(' ', ""),
            "ok👍👍👍done中文字"
        );
    }

    #[test]
    fn empty_lines_survive() {
        let lines = wrap_text("a\n\nb", Style::default(), 10);
        assert_eq!(plain(&lines), ["a", "", "b"]);
    }

    #[test]
    fn styles_survive_wrapping() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let spans = [Span::styled("bold words ", bold), Span::raw("plain words")];
        let lines = wrap_spans(&spans, 11);
        assert_eq!(plain(&lines), ["bold words", "plain words"]);
        assert_eq!(lines[0].spans[0].style, bold);
        assert_eq!(lines[1].spans[0].style, Style::default());
    }
}
