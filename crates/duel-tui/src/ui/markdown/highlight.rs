//! Code blocks: highlighted with syntect, cut (never wrapped) at the pane's edge.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::mem;
use std::sync::LazyLock;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, HighlightState, Style as SynStyle, ThemeSet};
use syntect::parsing::{ParseState, SyntaxReference, SyntaxSet};
use unicode_segmentation::UnicodeSegmentation;

use super::{MIN_CONTENT, Renderer};
use crate::theme::Theme;
use duel_core::text::width as text_width;

/// Starts a code line's continuation when it is cut at the pane's edge.
const CODE_CONTINUATION: &str = "↪ ";
/// Lines longer than this are not highlighted (syntect is slow on huge lines).
const MAX_HIGHLIGHT_LINE: usize = 4096;

impl Renderer<'_> {
    pub(super) fn code_block(&mut self, lang: &str, code: &str) {
        let width = self.content_width();
        let bg = self.theme.code_bg;
        let base = Style::default().fg(self.theme.fg).bg(bg);
        let label = if lang.is_empty() { "code" } else { lang };
        let label = duel_core::text::truncate(label, width);
        let pad = width - text_width(&label);
        self.push_line(vec![
            Span::styled(label, self.dim().bg(bg).add_modifier(Modifier::ITALIC)),
            Span::styled(" ".repeat(pad), base),
        ]);
        self.code_lines(lang, code, 0);
    }

    /// The rows of a code block's lines from line `from` on (the label above them is
    /// drawn apart). Returns how many rows its last line took: a block still
    /// streaming grows by that line, so a later call from it replaces those rows.
    pub(super) fn code_lines(&mut self, lang: &str, code: &str, from: usize) -> usize {
        let width = self.content_width();
        let bg = self.theme.code_bg;
        let base = Style::default().fg(self.theme.fg).bg(bg);
        let highlighted = highlight(
            code,
            lang,
            from,
            self.theme,
            &mut self.fresh_lines,
            self.highlights,
        );
        let broken = code.ends_with('\n');
        let code = code.strip_suffix('\n').unwrap_or(code);
        if code.is_empty() {
            return 0;
        }
        let continuation = (width >= 2 * MIN_CONTENT).then(|| {
            Span::styled(
                CODE_CONTINUATION,
                self.dim().bg(bg).add_modifier(Modifier::DIM),
            )
        });
        let mut last_rows = 0;
        for (i, line) in code.split('\n').enumerate().skip(from) {
            let pieces: &[(Style, usize)] = match &highlighted {
                Some(lines) => lines.get(i - from).map_or(&[], Vec::as_slice),
                None => &[],
            };
            let plain = [(base, line.len())];
            let pieces = if pieces.is_empty() {
                &plain[..]
            } else {
                pieces
            };
            let rows = cut_code(line, pieces, width, continuation.as_ref(), base);
            last_rows = rows.len();
            for row in rows {
                self.push_line(row);
            }
        }
        // A block ending in a line break has an empty last line, drawn as nothing.
        if broken { 0 } else { last_rows }
    }
}

/// One code line as rows of at most `width` cells: cut, never word-wrapped, each
/// continuation row starting with `continuation`, padded with the code background.
fn cut_code(
    line: &str,
    pieces: &[(Style, usize)],
    width: usize,
    continuation: Option<&Span<'static>>,
    base: Style,
) -> Vec<Vec<Span<'static>>> {
    let mut rows = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    let mut offset = 0;
    for &(style, len) in pieces {
        let end = (offset + len).min(line.len());
        let Some(text) = line.get(offset..end) else {
            break;
        };
        offset = end;
        let w = text_width(text);
        // The common case: the whole piece fits as it is.
        if used + w <= width {
            used += w;
            row.push(Span::styled(text.to_owned(), style));
            continue;
        }
        let mut start = 0;
        for (i, g) in text.grapheme_indices(true) {
            let gw = text_width(g);
            if used + gw > width && used > 0 {
                if i > start {
                    row.push(Span::styled(text[start..i].to_owned(), style));
                }
                pad(&mut row, width - used.min(width), base);
                rows.push(mem::take(&mut row));
                used = 0;
                start = i;
                if let Some(mark) = continuation {
                    used = mark.width();
                    row.push(mark.clone());
                }
            }
            used += gw;
        }
        if start < text.len() {
            row.push(Span::styled(text[start..].to_owned(), style));
        }
    }
    pad(&mut row, width.saturating_sub(used), base);
    rows.push(row);
    rows
}

fn pad(row: &mut Vec<Span<'static>>, cells: usize, style: Style) {
    if cells > 0 {
        row.push(Span::styled(" ".repeat(cells), style));
    }
}

struct Highlighting {
    syntaxes: SyntaxSet,
    themes: ThemeSet,
}

/// syntect's bundled grammars and themes, loaded once on the first code block.
static HIGHLIGHTING: LazyLock<Highlighting> = LazyLock::new(|| Highlighting {
    syntaxes: SyntaxSet::load_defaults_newlines(),
    themes: ThemeSet::load_defaults(),
});

/// A highlighted prefix of a code block: its complete lines and the parser state after them.
struct Highlighted {
    text: String,
    lines: Vec<Vec<(SynStyle, usize)>>,
    state: (HighlightState, ParseState),
}

/// Recent code blocks by syntax theme, language and first line, so a block growing
/// token by token (and the finished blocks above it) is highlighted from its last
/// complete line, not from the top on every render: syntect with the pure-Rust regex
/// engine takes a few hundred microseconds per line. Kept in the view cache, one for
/// both panes, and passed to each render.
#[derive(Default)]
pub struct Highlights {
    blocks: HashMap<u64, Vec<Highlighted>>,
}

/// Past this many cached blocks the cache starts over, which bounds its memory.
const HIGHLIGHTED_KEPT: usize = 4096;

fn cache_key(theme: &str, syntax: &str, first_line: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    (theme, syntax, first_line).hash(&mut hasher);
    hasher.finish()
}

/// Styles and byte lengths for the lines of `code` from line `from` on (up to where
/// `budget`, the lines this render may still highlight afresh, runs out); `None` for
/// plain code.
fn highlight(
    code: &str,
    lang: &str,
    from: usize,
    theme: &Theme,
    budget: &mut usize,
    highlights: &mut Highlights,
) -> Option<Vec<Vec<(Style, usize)>>> {
    if theme.syntax == "none"
        || lang.is_empty()
        || code.split('\n').any(|l| l.len() > MAX_HIGHLIGHT_LINE)
    {
        return None;
    }
    let hl = &*HIGHLIGHTING;
    let syntax = find_syntax(&hl.syntaxes, lang)?;
    let (syn_theme, theme_name) = match hl.themes.themes.get(&theme.syntax) {
        Some(t) => (t, theme.syntax.as_str()),
        None => {
            // An unknown name still highlights, in a built-in of the same lightness.
            let name = if theme.dark {
                "base16-ocean.dark"
            } else {
                "InspiredGitHub"
            };
            (hl.themes.themes.get(name)?, name)
        }
    };

    highlight_cached(
        code,
        from,
        syntax,
        syn_theme,
        theme_name,
        theme,
        budget,
        &mut highlights.blocks,
    )
}

// The parts of one highlighting job, each from a different owner; a struct made for
// this one call would only rename them.
#[allow(clippy::too_many_arguments)]
fn highlight_cached(
    code: &str,
    from: usize,
    syntax: &SyntaxReference,
    syn_theme: &syntect::highlighting::Theme,
    theme_name: &str,
    theme: &Theme,
    budget: &mut usize,
    cache: &mut HashMap<u64, Vec<Highlighted>>,
) -> Option<Vec<Vec<(Style, usize)>>> {
    let hl = &*HIGHLIGHTING;
    let key = code
        .find('\n')
        .map(|i| cache_key(theme_name, &syntax.name, &code[..=i]));
    let cached = key.and_then(|key| {
        let blocks = cache.get_mut(&key)?;
        let i = (0..blocks.len())
            .filter(|&i| code.starts_with(&blocks[i].text))
            .max_by_key(|&i| blocks[i].text.len())?;
        Some(blocks.swap_remove(i))
    });
    let mut entry = cached.unwrap_or_else(|| Highlighted {
        text: String::new(),
        lines: Vec::new(),
        state: HighlightLines::new(syntax, syn_theme).state(),
    });
    // Complete lines extend the cached prefix; an unfinished last one is done apart.
    let rest = &code[entry.text.len()..];
    let (complete, partial) = match rest.rfind('\n') {
        Some(i) => rest.split_at(i + 1),
        None => ("", rest),
    };
    let mut lines = HighlightLines::from_state(syn_theme, entry.state.0, entry.state.1);
    for line in complete.split_inclusive('\n') {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let ranges = lines.highlight_line(line, &hl.syntaxes).ok()?;
        entry
            .lines
            .push(ranges.iter().map(|(s, t)| (*s, t.len())).collect());
        entry.text.push_str(line);
    }
    entry.state = lines.state();
    // Only when every complete line was highlighted: otherwise the budget ran out.
    let partial =
        if partial.is_empty() || *budget == 0 || entry.text.len() + partial.len() < code.len() {
            None
        } else {
            *budget -= 1;
            let (h, p) = entry.state.clone();
            let mut lines = HighlightLines::from_state(syn_theme, h, p);
            // The grammars expect each line to end with a newline.
            let owned = format!("{partial}\n");
            let ranges = lines.highlight_line(&owned, &hl.syntaxes).ok()?;
            Some(
                ranges
                    .iter()
                    .map(|(s, t)| (convert(*s, theme), t.len()))
                    .collect(),
            )
        };
    // Lines above `from` are drawn already: only the rest are converted.
    let out = entry
        .lines
        .iter()
        .skip(from)
        .map(|l| l.iter().map(|&(s, n)| (convert(s, theme), n)).collect())
        .chain(partial)
        .collect();
    if let Some(key) = key.filter(|_| !entry.text.is_empty()) {
        if cache.len() >= HIGHLIGHTED_KEPT {
            cache.clear();
        }
        cache.entry(key).or_default().push(entry);
    }
    Some(out)
}

fn find_syntax<'a>(syntaxes: &'a SyntaxSet, lang: &str) -> Option<&'a SyntaxReference> {
    let lang = lang.to_ascii_lowercase();
    let token = match lang.as_str() {
        "shell" | "console" | "zsh" | "sh" => "bash",
        "c++" => "cpp",
        "golang" => "go",
        "ts" | "typescript" | "tsx" | "jsx" => "js",
        "py3" | "python3" => "py",
        other => other,
    };
    syntaxes
        .find_syntax_by_token(token)
        .filter(|s| s.name != "Plain Text")
}

/// A syntect style as a ratatui one, on the theme's code background.
fn convert(style: SynStyle, theme: &Theme) -> Style {
    let fg = style.foreground;
    let mut out = Style::default()
        .fg(Color::Rgb(fg.r, fg.g, fg.b))
        .bg(theme.code_bg);
    if style.font_style.contains(FontStyle::BOLD) {
        out = out.add_modifier(Modifier::BOLD);
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        out = out.add_modifier(Modifier::ITALIC);
    }
    if style.font_style.contains(FontStyle::UNDERLINE) {
        out = out.add_modifier(Modifier::UNDERLINED);
    }
    out
}
