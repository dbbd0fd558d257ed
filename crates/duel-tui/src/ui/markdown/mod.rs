//! Model answers as Markdown: styled lines that fit a pane's width. Runs on partial
//! text while an answer streams, so every construct must render sensibly half-finished
//! (an unclosed code fence is a code block until the end, as CommonMark says).

mod highlight;
mod stream;
mod table;

use std::mem;

use pulldown_cmark::{BlockQuoteKind, CodeBlockKind, Event, HeadingLevel, Tag, TagEnd};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;

use crate::theme::Theme;
use crate::ui::wrap::wrap_spans;
use duel_core::text::{sanitize, width as text_width};
pub use highlight::Highlights;
pub use stream::Streamed;
use stream::{Start, render_part};
use table::{MIN_COLUMN, TableBuf};

/// Content keeps at least this many cells; deeper nesting gives up its indent first.
const MIN_CONTENT: usize = 8;
/// Code lines one render highlights from scratch at most (~250 µs each); the rest show
/// plain until a later render, as a huge answer arriving at once would freeze the pane.
const MAX_FRESH_LINES: usize = 200;
/// List bullets by nesting depth.
const BULLETS: [&str; 3] = ["• ", "◦ ", "▪ "];

/// Renders `text` (raw model output; sanitised here) as lines at most `width` cells wide.
/// Code blocks are highlighted afresh: `render_with` keeps them in a cache.
pub fn render(text: &str, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    render_with(text, width, theme, &mut Highlights::default())
}

/// `render`, with code blocks highlighted from (and kept in) `highlights`.
pub fn render_with(
    text: &str,
    width: usize,
    theme: &Theme,
    highlights: &mut Highlights,
) -> Vec<Line<'static>> {
    render_part(&sanitize(text), width, theme, Start::default(), highlights).lines
}

/// What a line inside a block quote or list item starts with.
enum Container {
    Quote,
    Item {
        marker: Span<'static>,
        /// The marker has been shown; later lines get spaces of its width.
        shown: bool,
    },
}

struct List {
    /// The next number of an ordered list.
    next: Option<u64>,
    /// Items hold paragraphs, so they are separated by blank lines.
    loose: bool,
}

struct CodeBuf {
    lang: String,
    text: String,
}

struct Renderer<'t> {
    width: usize,
    theme: &'t Theme,
    highlights: &'t mut Highlights,
    out: Vec<Line<'static>>,
    /// The logical line being built (a paragraph, a heading, a table cell).
    spans: Vec<Span<'static>>,
    styles: Vec<Style>,
    containers: Vec<Container>,
    lists: Vec<List>,
    blank_pending: bool,
    /// Where the link's text starts in `spans`, and where it points.
    links: Vec<(usize, String)>,
    code: Option<CodeBuf>,
    html_block: bool,
    table: Option<TableBuf>,
    /// Code lines this render may still highlight from scratch.
    fresh_lines: usize,
    /// Lines come before this render's (it continues a streamed answer).
    after_lines: bool,
}

impl<'t> Renderer<'t> {
    fn new(width: usize, theme: &'t Theme, highlights: &'t mut Highlights) -> Self {
        Self {
            width,
            theme,
            highlights,
            out: Vec::new(),
            spans: Vec::new(),
            styles: vec![Style::default().fg(theme.fg)],
            containers: Vec::new(),
            lists: Vec::new(),
            blank_pending: false,
            links: Vec::new(),
            code: None,
            html_block: false,
            table: None,
            fresh_lines: MAX_FRESH_LINES,
            after_lines: false,
        }
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        // The parser closes open blocks at the end; this catches anything left over.
        self.flush();
        if let Some(code) = self.code.take() {
            self.code_block(&code.lang, &code.text);
        }
        if let Some(table) = self.table.take() {
            self.table(table);
        }
        self.out
    }

    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_style(&mut self, patch: Style) {
        self.styles.push(self.style().patch(patch));
    }

    fn pop_style(&mut self) {
        if self.styles.len() > 1 {
            self.styles.pop();
        }
    }

    fn dim(&self) -> Style {
        Style::default().fg(self.theme.dim)
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => match &mut self.code {
                Some(code) => code.text.push_str(&text),
                None => self
                    .spans
                    .push(Span::styled(text.into_string(), self.style())),
            },
            Event::Code(code) => self.inline_code(&code),
            Event::InlineMath(math) | Event::DisplayMath(math) => self.inline_code(&math),
            Event::Html(html) | Event::InlineHtml(html) => self.html(&html),
            Event::FootnoteReference(name) => self
                .spans
                .push(Span::styled(format!("[^{name}]"), self.dim())),
            // Models mean a newline as a line break (poems, addresses), as chat UIs show it.
            Event::SoftBreak | Event::HardBreak => {
                if self.table.is_some() {
                    self.spans.push(Span::styled(" ", self.style()));
                } else {
                    self.flush();
                }
            }
            Event::Rule => {
                self.start_block();
                let rule = "─".repeat(self.content_width());
                self.push_line(vec![Span::styled(rule, self.dim())]);
                self.blank_pending = true;
            }
            Event::TaskListMarker(done) => {
                let (text, color) = if done {
                    ("[x] ", self.theme.success)
                } else {
                    ("[ ] ", self.theme.dim)
                };
                // The box takes the bullet's place, so wrapped lines hang under the text.
                match self.containers.last_mut() {
                    Some(Container::Item { marker, shown }) if !*shown => {
                        *marker = Span::styled(text, Style::default().fg(color));
                    }
                    _ => self
                        .spans
                        .push(Span::styled(text, Style::default().fg(color))),
                }
            }
        }
    }

    /// A tag opens: a short arm per kind of pulldown-cmark tag, as long as that list.
    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => {
                self.start_block();
                if let (Some(Container::Item { .. }), Some(list)) =
                    (self.containers.last(), self.lists.last_mut())
                {
                    list.loose = true;
                }
            }
            Tag::Heading { level, .. } => {
                self.start_block();
                let style = Style::default()
                    .fg(self.theme.heading)
                    .add_modifier(Modifier::BOLD);
                let marker = "#".repeat(heading_level(level));
                self.spans.push(Span::styled(format!("{marker} "), style));
                let underline = if level == HeadingLevel::H1 {
                    Modifier::UNDERLINED
                } else {
                    Modifier::empty()
                };
                self.push_style(style.add_modifier(underline));
            }
            Tag::BlockQuote(kind) => {
                self.start_block();
                self.containers.push(Container::Quote);
                self.push_style(Style::default().fg(self.theme.dim));
                if let Some(kind) = kind {
                    // GitHub's `> [!NOTE]` alerts: the parser drops the marker, the label stays.
                    let label = match kind {
                        BlockQuoteKind::Note => "Note",
                        BlockQuoteKind::Tip => "Tip",
                        BlockQuoteKind::Important => "Important",
                        BlockQuoteKind::Warning => "Warning",
                        BlockQuoteKind::Caution => "Caution",
                    };
                    let style = self.style().add_modifier(Modifier::BOLD);
                    self.push_line(vec![Span::styled(label, style)]);
                }
            }
            Tag::CodeBlock(kind) => {
                self.start_block();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some(CodeBuf {
                    lang,
                    text: String::new(),
                });
            }
            Tag::HtmlBlock => {
                self.start_block();
                self.html_block = true;
            }
            Tag::List(start) => {
                self.start_block();
                self.lists.push(List {
                    next: start,
                    loose: false,
                });
            }
            Tag::Item => {
                self.flush();
                if self.blank_pending && (self.after_lines || !self.out.is_empty()) {
                    self.blank();
                }
                self.blank_pending = false;
                let depth = self.lists.len().saturating_sub(1);
                let marker = match self.lists.last_mut().and_then(|l| l.next.as_mut()) {
                    Some(n) => {
                        let marker = format!("{n}. ");
                        *n += 1;
                        Span::styled(marker, self.dim())
                    }
                    None => Span::styled(BULLETS[depth % BULLETS.len()], self.dim()),
                };
                self.containers.push(Container::Item {
                    marker,
                    shown: false,
                });
            }
            Tag::Table(aligns) => {
                self.start_block();
                self.table = Some(TableBuf {
                    aligns,
                    ..TableBuf::default()
                });
            }
            Tag::TableHead => {
                if let Some(table) = &mut self.table {
                    table.rows.push(Vec::new());
                }
                self.push_style(Style::default().add_modifier(Modifier::BOLD));
            }
            Tag::TableRow => {
                if let Some(table) = &mut self.table {
                    table.rows.push(Vec::new());
                }
            }
            Tag::TableCell => self.spans.clear(),
            Tag::Emphasis => self.push_style(Style::default().add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.push_style(Style::default().add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => {
                self.push_style(Style::default().add_modifier(Modifier::CROSSED_OUT))
            }
            Tag::Superscript | Tag::Subscript => self.push_style(Style::default()),
            Tag::Link { dest_url, .. } => {
                self.links.push((self.spans.len(), dest_url.into_string()));
                self.push_style(
                    Style::default()
                        .fg(self.theme.link)
                        .add_modifier(Modifier::UNDERLINED),
                );
            }
            Tag::Image { dest_url, .. } => {
                self.spans.push(Span::styled("[image: ", self.dim()));
                // Alt text shows as the link text; the address follows.
                self.links.push((usize::MAX, dest_url.into_string()));
                self.push_style(Style::default().fg(self.theme.link));
            }
            Tag::FootnoteDefinition(name) => {
                self.start_block();
                self.spans
                    .push(Span::styled(format!("[^{name}]: "), self.dim()));
            }
            Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.start_block(),
        }
    }

    /// A tag closes: one arm per kind of tag, as in `start`.
    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::DefinitionList
            | TagEnd::MetadataBlock(_) => self.end_block(),
            TagEnd::Heading(_) => {
                self.pop_style();
                self.end_block();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.pop_style();
                if let Some(i) = self
                    .containers
                    .iter()
                    .rposition(|c| matches!(c, Container::Quote))
                {
                    self.containers.truncate(i);
                }
                self.blank_pending = true;
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    self.code_block(&code.lang, &code.text);
                }
                self.blank_pending = true;
            }
            TagEnd::HtmlBlock => {
                self.html_block = false;
                self.end_block();
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                // A nested list ends inside an item: tight lists stay tight.
                self.blank_pending = self.lists.last().is_none_or(|l| l.loose);
            }
            TagEnd::Item => {
                self.flush();
                if let Some(Container::Item { shown: false, .. }) = self.containers.last() {
                    // An item with nothing in it yet (streaming): its marker alone.
                    self.push_line(Vec::new());
                }
                if let Some(i) = self
                    .containers
                    .iter()
                    .rposition(|c| matches!(c, Container::Item { .. }))
                {
                    self.containers.truncate(i);
                }
            }
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    self.table(table);
                }
                self.blank_pending = true;
            }
            TagEnd::TableHead => {
                self.pop_style();
                if let Some(table) = &mut self.table {
                    table.header_rows = table.rows.len();
                }
            }
            TagEnd::TableRow => {}
            TagEnd::TableCell => {
                let cell = mem::take(&mut self.spans);
                if let Some(row) = self.table.as_mut().and_then(|t| t.rows.last_mut()) {
                    row.push(cell);
                }
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript => self.pop_style(),
            TagEnd::Link => {
                self.pop_style();
                if let Some((start, url)) = self.links.pop() {
                    let shown: String = self.spans[start.min(self.spans.len())..]
                        .iter()
                        .map(|s| s.content.as_ref())
                        .collect();
                    let same = url.is_empty()
                        || shown == url
                        || url.strip_prefix("mailto:") == Some(shown.as_str());
                    if !same {
                        self.spans
                            .push(Span::styled(format!(" ({url})"), self.dim()));
                    }
                }
            }
            TagEnd::Image => {
                self.pop_style();
                let url = self.links.pop().map(|(_, url)| url).unwrap_or_default();
                self.spans.push(Span::styled("]", self.dim()));
                if !url.is_empty() {
                    self.spans
                        .push(Span::styled(format!(" ({url})"), self.dim()));
                }
            }
        }
    }

    fn inline_code(&mut self, code: &str) {
        let style = self.style().bg(self.theme.code_bg);
        if self.theme.code_bg == Color::Reset {
            // Without a background colour, backticks are what marks code.
            self.spans.push(Span::styled(format!("`{code}`"), style));
        } else {
            self.spans.push(Span::styled(code.to_owned(), style));
        }
    }

    /// Raw HTML shows as the text it is.
    fn html(&mut self, html: &str) {
        if !self.html_block {
            self.spans.push(Span::styled(html.to_owned(), self.dim()));
            return;
        }
        for (i, line) in html.split('\n').enumerate() {
            if i > 0 {
                self.flush();
            }
            if !line.is_empty() {
                self.spans.push(Span::styled(line.to_owned(), self.dim()));
            }
        }
    }

    /// Before a block: finish the text before it and leave a blank line after the last.
    fn start_block(&mut self) {
        self.flush();
        if self.blank_pending && (self.after_lines || !self.out.is_empty()) {
            self.blank();
        }
        self.blank_pending = false;
    }

    fn end_block(&mut self) {
        self.flush();
        self.blank_pending = true;
    }

    /// Wraps the logical line built so far under the current gutters and markers.
    fn flush(&mut self) {
        if self.spans.is_empty() || self.table.is_some() {
            return;
        }
        let spans = mem::take(&mut self.spans);
        let width = self.content_width();
        // Most lines are short: no need to split them into graphemes to find out.
        if spans.iter().map(Span::width).sum::<usize>() <= width {
            return self.push_line(spans);
        }
        for line in wrap_spans(&spans, width) {
            self.push_line(line.spans);
        }
    }

    /// A blank line that keeps the block quotes' gutters.
    fn blank(&mut self) {
        let mut spans = Vec::new();
        for container in &self.containers {
            if let Container::Quote = container {
                spans.push(Span::styled("│ ", self.dim()));
            }
        }
        if let Some(last) = spans.last_mut() {
            *last = Span::styled("│", self.dim());
        }
        let mut line = Line::from(spans);
        fit(&mut line, self.width);
        self.out.push(line);
    }

    /// The cells the gutters and markers of the current containers take.
    fn prefix_width(&self) -> usize {
        let full: usize = self
            .containers
            .iter()
            .map(|c| match c {
                Container::Quote => 2,
                Container::Item { marker, .. } => marker.width(),
            })
            .sum();
        full.min(self.width - self.width.min(MIN_CONTENT))
    }

    fn content_width(&self) -> usize {
        (self.width - self.prefix_width()).max(1)
    }

    /// Pushes one output line: the gutters and markers, then `content`.
    fn push_line(&mut self, content: Vec<Span<'static>>) {
        let room = self.prefix_width();
        let mut line = Line::default();
        if !self.containers.is_empty() {
            let dim = self.dim();
            let mut spans = Vec::with_capacity(self.containers.len() + content.len());
            for container in &mut self.containers {
                match container {
                    Container::Quote => spans.push(Span::styled("│ ", dim)),
                    Container::Item { marker, shown } if !*shown => {
                        spans.push(marker.clone());
                        *shown = true;
                    }
                    Container::Item { marker, .. } => {
                        spans.push(Span::raw(" ".repeat(marker.width())));
                    }
                }
            }
            line.spans = spans;
            // Too deep for a narrow pane: the indent gives way, the text keeps its room.
            fit(&mut line, room);
        }
        line.spans.extend(content);
        if self.width < MIN_COLUMN {
            // A one-cell pane cannot show a wide character at all.
            fit(&mut line, self.width);
        }
        self.out.push(line);
    }
}

fn heading_level(level: HeadingLevel) -> usize {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Cuts a line's spans to at most `max` cells.
fn fit(line: &mut Line<'static>, max: usize) {
    if line.width() <= max {
        return;
    }
    let mut used = 0;
    let mut keep = Vec::new();
    for span in line.spans.drain(..) {
        let w = span.width();
        if used + w <= max {
            used += w;
            keep.push(span);
            continue;
        }
        let mut cut = String::new();
        for g in span.content.graphemes(true) {
            let gw = text_width(g);
            if used + gw > max {
                break;
            }
            used += gw;
            cut.push_str(g);
        }
        if !cut.is_empty() {
            keep.push(Span::styled(cut, span.style));
        }
        break;
    }
    line.spans = keep;
}

#[cfg(test)]
mod tests {
    use super::table::{fit_columns, longest_word};
    use super::*;

    #[test]
    fn highlighting_a_growing_block_from_the_cache_matches_a_fresh_start() {
        let answer = "```rust\nfn main() {\n    let s = \"/* not a comment\";\n    /* a comment\n    that spans lines */\n    println!(\"{s}\");\n}\n```\n";
        let theme = Theme::default();
        let mut highlights = Highlights::default();
        for end in (0..=answer.len()).filter(|&i| answer.is_char_boundary(i)) {
            let cached = render_with(&answer[..end], 40, &theme, &mut highlights);
            let fresh = render(&answer[..end], 40, &theme);
            assert_eq!(cached, fresh, "{:?}", &answer[..end]);
        }
    }

    #[test]
    fn a_huge_block_is_highlighted_a_slice_per_render() {
        let code: String = (0..MAX_FRESH_LINES + 50)
            .map(|i| format!("let budget_{i} = {i};\n"))
            .collect();
        let answer = format!("```rust\n{code}```\n");
        let theme = Theme::default();
        let coloured = |lines: &[Line<'_>]| {
            lines
                .iter()
                .filter(|l| {
                    l.spans
                        .iter()
                        .any(|s| matches!(s.style.fg, Some(Color::Rgb(..))))
                })
                .count()
        };
        // The language label is coloured too.
        let mut highlights = Highlights::default();
        let first = render_with(&answer, 40, &theme, &mut highlights);
        assert_eq!(coloured(&first), 1 + MAX_FRESH_LINES);
        let second = render_with(&answer, 40, &theme, &mut highlights);
        assert_eq!(coloured(&second), 1 + MAX_FRESH_LINES + 50);
    }

    /// Markdown pieces that start, end and interrupt blocks in every way the renderer
    /// knows, so that random answers made of them cross every kind of block boundary.
    const PIECES: &[&str] = &[
        "# Title\n",
        "Some prose ",
        "中文 and emoji 👍 ",
        "\n",
        "\n\n",
        "- item\n",
        "  - nested\n",
        "1. one\n",
        "2. two\n",
        "- [x] done\n",
        "```rust\n",
        "```\n",
        "fn main() { let x = 1; }\n",
        "    indented code\n",
        "| a | b |\n",
        "|---|---|\n",
        "| 1 | 2 |\n",
        "> a quote\n",
        "> > deeper\n",
        "---\n",
        "***\n",
        "**bold** and *it* ",
        "[a link](https://example.com) ",
        "Setext\n===\n",
        "<div>\nhtml\n</div>\n",
        "text `code` ",
        "*",
        "-",
        "=",
        "|",
        "+ plus\n",
        "~~~\n",
        "3) three\n",
    ];

    /// Streams `text` in pieces `cuts` bytes long, changing width and theme on the
    /// way, and checks that each step draws what rendering the text so far whole draws.
    fn streams_like_a_whole_render(
        text: &str,
        cuts: &[usize],
        widths: &[usize],
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let themes = [Theme::default(), Theme::plain("plain")];
        let mut streamed = Streamed::default();
        let mut highlights = Highlights::default();
        let mut end = 0;
        for (step, cut) in cuts.iter().cycle().enumerate() {
            end = (end + cut).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            let width = widths[step / 7 % widths.len()];
            let theme = &themes[step / 11 % 2];
            streamed.update(&text[..end], width, theme, &mut highlights);
            let whole = render(&text[..end], width, theme);
            let lines: Vec<_> = streamed.lines().cloned().collect();
            proptest::prop_assert_eq!(&lines, &whole, "{:?} at width {}", &text[..end], width);
            if end == text.len() {
                return Ok(());
            }
        }
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(7),
            ..Default::default()
        })]

        /// However an answer arrives, rendering it as it streams draws exactly what
        /// rendering the whole of it at once draws.
        #[test]
        fn a_streamed_render_matches_a_whole_render(
            pieces in proptest::collection::vec(0..PIECES.len(), 0..40),
            cuts in proptest::collection::vec(1usize..40, 1..20),
            width in 8usize..60,
        ) {
            let text: String = pieces.iter().map(|&i| PIECES[i]).collect();
            let theme = Theme::default();
            let mut streamed = Streamed::default();
        let mut highlights = Highlights::default();
            let mut end = 0;
            for cut in cuts.iter().cycle() {
                end = (end + cut).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                streamed.update(&text[..end], width, &theme, &mut highlights);
                let whole = render(&text[..end], width, &theme);
                let lines: Vec<_> = streamed.lines().cloned().collect();
                proptest::prop_assert_eq!(&lines, &whole, "{:?}", &text[..end]);
                if end == text.len() {
                    break;
                }
            }
        }
    }

    /// Words a long paragraph streams in: plain ones (which only grow its last line),
    /// wide and long ones, and a few that end the paragraph or start markup.
    const WORDS: &[&str] = &[
        "tok ",
        "word, ",
        "所有权 ",
        "👍 ",
        "  ",
        "supercalifragilistic ",
        "(a) ",
        "x",
        "1. ",
        "*em* ",
        "`c` ",
        "\n",
        "\n\n",
        "- ",
        "# ",
        "```rust\n",
        "let x = 1;\n",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(11),
            ..Default::default()
        })]

        /// A paragraph that grows by its last line only (and whatever ends it, and a
        /// change of width or theme on the way) draws what rendering it whole draws.
        #[test]
        fn a_growing_paragraph_rewrapped_by_its_last_line_matches_a_whole_render(
            lead in 0usize..3,
            words in proptest::collection::vec(
                proptest::prop_oneof![8 => 0usize..7, 1 => 0..WORDS.len()], 0..120),
            cuts in proptest::collection::vec(1usize..12, 1..20),
            widths in proptest::collection::vec(1usize..50, 1..3),
        ) {
            let text: String = ["", "# Title\n\n", "- item\n\n"][lead].chars()
                .chain(words.iter().flat_map(|&i| WORDS[i].chars()))
                .collect();
            streams_like_a_whole_render(&text, &cuts, &widths)?;
        }
    }

    /// Pieces of code a block streams: tokens, spaces, line breaks, CJK, a line too
    /// long to highlight, and what closes the block.
    const CODE: &[&str] = &[
        "let",
        " ",
        "x",
        " = ",
        "1",
        ";",
        "\n",
        "fn main() {",
        "}",
        "\n\n",
        "    ",
        "中文",
        "\"s\"",
        "// note",
        "#",
        "*",
        "<",
        "\t",
        "```",
        "~~~",
        "`",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(128),
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(12),
            ..Default::default()
        })]

        /// A code block that grows by its last line and new lines below (and whatever
        /// closes it, and a change of width or theme on the way) draws what rendering
        /// it whole draws.
        #[test]
        fn a_growing_code_block_drawn_by_its_last_lines_matches_a_whole_render(
            lead in 0usize..3,
            lang in 0usize..4,
            pieces in proptest::collection::vec(
                proptest::prop_oneof![12 => 0usize..17, 1 => 0..CODE.len()], 0..160),
            cuts in proptest::collection::vec(1usize..16, 1..20),
            widths in proptest::collection::vec(1usize..40, 1..3),
        ) {
            let text: String = ["", "Intro.\n\n", "- item\n\n"][lead].chars()
                .chain(["```rust\n", "```\n", "~~~python\n", "```nosuchlang\n"][lang].chars())
                .chain(pieces.iter().flat_map(|&i| CODE[i].chars()))
                .collect();
            streams_like_a_whole_render(&text, &cuts, &widths)?;
        }
    }

    #[test]
    fn a_long_code_block_stays_on_the_last_lines_path() {
        let theme = Theme::default();
        let mut streamed = Streamed::default();
        let mut highlights = Highlights::default();
        let mut text = String::from("Here:\n\n```rust\nfn main() {\n");
        streamed.update(&text, 30, &theme, &mut highlights);
        assert!(streamed.code.is_some());
        // Fewer lines than one render highlights afresh, so the whole render below
        // colours them all too.
        for i in 0..150 {
            text.push_str(&format!("    let x{i} = {i};"));
            streamed.update(&text, 30, &theme, &mut highlights);
            text.push('\n');
            streamed.update(&text, 30, &theme, &mut highlights);
            // Still open: the next token grows its last line or adds one.
            assert!(streamed.code.is_some());
        }
        let lines: Vec<_> = streamed.lines().cloned().collect();
        assert_eq!(lines, render(&text, 30, &theme));
    }

    #[test]
    fn a_long_paragraph_stays_on_the_last_line_path() {
        let theme = Theme::default();
        let mut streamed = Streamed::default();
        let mut highlights = Highlights::default();
        let mut text = String::from("# Heading\n\nOne");
        streamed.update(&text, 20, &theme, &mut highlights);
        assert!(streamed.tail.is_some());
        for i in 0..500 {
            text.push_str(&format!(" tok{i} 中文"));
            streamed.update(&text, 20, &theme, &mut highlights);
            // Still a paragraph of plain text: the next token grows its last line.
            assert!(streamed.tail.is_some());
        }
        let lines: Vec<_> = streamed.lines().cloned().collect();
        assert_eq!(lines, render(&text, 20, &theme));
    }

    #[test]
    fn a_streamed_render_keeps_finished_blocks() {
        let theme = Theme::default();
        let mut streamed = Streamed::default();
        let mut highlights = Highlights::default();
        let mut text = String::from("# Heading\n\nFirst paragraph.\n\n");
        streamed.update(&text, 40, &theme, &mut highlights);
        text.push_str("Second paragraph, still");
        streamed.update(&text, 40, &theme, &mut highlights);
        // Only the last two blocks are held as text to render again.
        assert_eq!(
            streamed.pending,
            "First paragraph.\n\nSecond paragraph, still"
        );
        assert_eq!(streamed.done.len(), 1);

        // Another answer (shorter text) starts over.
        streamed.update("New", 40, &theme, &mut highlights);
        assert_eq!(streamed.lines().count(), 1);
        // So does another width.
        streamed.update("New answer", 20, &theme, &mut highlights);
        assert_eq!(
            streamed.lines().collect::<Vec<_>>(),
            render("New answer", 20, &theme).iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn columns_share_the_room_and_never_exceed_it() {
        assert_eq!(fit_columns(&[3, 4], 10, MIN_COLUMN), [3, 4]);
        assert_eq!(fit_columns(&[3, 40, 20], 33, MIN_COLUMN), [3, 20, 10]);
        for room in 6..40 {
            let widths = fit_columns(&[1, 9, 30], room, MIN_COLUMN);
            assert_eq!(widths.iter().sum::<usize>(), room.min(40), "{widths:?}");
            assert!(widths.iter().all(|&w| w >= 1), "{widths:?}");
        }
        assert_eq!(
            longest_word(&[Span::raw("ab cdef"), Span::raw("g 中文")]),
            5
        );
    }
}
