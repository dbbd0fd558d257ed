//! An answer rendered as it streams: the blocks that can no longer change are kept.

use pulldown_cmark::{Event, Options, Parser, Tag};
use ratatui::text::{Line, Span};

use super::{Highlights, Renderer};
use crate::text::{sanitize, wrap_spans};
use crate::theme::Theme;

/// A growing answer rendered as it streams: only its last two top-level blocks, which
/// the next token can still change, are rendered again; the lines of the blocks above
/// them are kept. A frame then costs the last blocks, not the whole answer.
#[derive(Default)]
pub struct Streamed {
    width: usize,
    theme: String,
    /// Bytes of the raw answer taken in.
    seen: usize,
    /// The lines of the blocks that can no longer change.
    pub(super) done: Vec<Line<'static>>,
    /// How rendering goes on after `done`.
    start: Start,
    /// The sanitised text from the first block that may still change.
    pub(super) pending: String,
    /// The lines of `pending`.
    live: Vec<Line<'static>>,
    /// Where in `pending` the last block starts when it is a paragraph of one line of
    /// plain text (see `plain`): more plain text only changes its last wrapped line.
    pub(super) tail: Option<usize>,
}

impl Streamed {
    /// Takes in `text`, the answer so far. It must extend the text of the previous call
    /// (an answer only grows); `reset` starts over for another one.
    pub fn update(&mut self, text: &str, width: usize, theme: &Theme, highlights: &mut Highlights) {
        if self.width != width
            || self.theme != theme.name
            || text.len() < self.seen
            || !text.is_char_boundary(self.seen)
        {
            self.reset();
            self.width = width;
            self.theme.clone_from(&theme.name);
        } else if text.len() == self.seen && self.seen > 0 {
            return;
        }
        let new = sanitize(&text[self.seen..]);
        self.seen = text.len();
        if self.grow_tail(&new, width) {
            return;
        }
        self.pending.push_str(&new);
        let mut part = render_part(&self.pending, width, theme, self.start, highlights);
        // The last two blocks stay live: the next line can still join the last block
        // to the one before it (`*` is an empty list item until a second `*` makes it
        // the start of a paragraph that continues the item above). Blocks whose code
        // could not all be highlighted in this render stay live too, so a later render
        // colours them.
        let keep = part
            .starved
            .unwrap_or(usize::MAX)
            .min(part.blocks.len().saturating_sub(2));
        let mut drained = 0;
        if let Some(&(offset, line, start)) = part.blocks.get(keep).filter(|_| keep > 0) {
            self.done.extend(part.lines.drain(..line));
            self.pending.drain(..offset);
            self.start = start;
            drained = offset;
        }
        self.live = part.lines;
        self.tail = part
            .blocks
            .last()
            .filter(|_| part.last_is_paragraph)
            .and_then(|&(offset, ..)| offset.checked_sub(drained))
            .filter(|&offset| {
                let paragraph = &self.pending[offset..];
                let first = paragraph.trim_start_matches(' ').chars().next();
                first.is_some_and(char::is_alphabetic) && paragraph.chars().all(plain)
            });
    }

    /// Takes in `new` text without parsing the answer again when it only extends a
    /// last paragraph of plain text: the lines above the last wrapped one cannot change
    /// (each was ended by a character past the width, which is still there), so only
    /// the last line is wrapped again, and a frame costs the new text, not the
    /// paragraph. False when it does not apply; nothing is changed then.
    fn grow_tail(&mut self, new: &str, width: usize) -> bool {
        // A one-cell pane cuts wide characters: its lines are not the text's suffixes.
        let Some(offset) = self.tail.filter(|_| width >= 2) else {
            return false;
        };
        if !new.chars().all(plain) {
            return false;
        }
        let Some(last) = self.live.last() else {
            return false;
        };
        let Some(style) = last.spans.first().map(|s| s.style) else {
            return false;
        };
        if last.spans.iter().any(|s| s.style != style) {
            return false;
        }
        let shown: String = last.spans.iter().map(|s| s.content.as_ref()).collect();
        let before = self.pending[offset..].trim_matches(' ');
        if shown.is_empty() || !before.ends_with(&shown) {
            return false;
        }
        // The last line starts here, in the paragraph as trimmed.
        let from = before.len() - shown.len();
        let start = self.pending.len() - self.pending[offset..].trim_start_matches(' ').len();
        self.pending.push_str(new);
        let after = self.pending[start..].trim_end_matches(' ');
        let wrapped = wrap_spans(&[Span::styled(&after[from..], style)], width);
        self.live.pop();
        self.live.extend(wrapped);
        true
    }

    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }

    pub fn len(&self) -> usize {
        self.done.len() + self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn lines(&self) -> impl Iterator<Item = &Line<'static>> + Clone {
        self.done.iter().chain(&self.live)
    }
}

/// Where a render begins: after lines already shown or not, and whether a blank line
/// is owed before its first block.
#[derive(Clone, Copy, Default)]
pub(super) struct Start {
    after_lines: bool,
    blank_pending: bool,
}

pub(super) struct Part {
    pub(super) lines: Vec<Line<'static>>,
    /// Each top-level block: its byte offset, its first line, and how a render that
    /// begins with it must start to draw the same lines.
    blocks: Vec<(usize, usize, Start)>,
    /// The first top-level block whose code highlighting ran out of budget.
    starved: Option<usize>,
    /// Whether the last top-level block is a paragraph.
    last_is_paragraph: bool,
}

/// Text that cannot start or end any Markdown construct inside a paragraph's line:
/// appended to one, it stays that paragraph's plain text.
fn plain(c: char) -> bool {
    c == ' '
        || c.is_alphanumeric()
        || matches!(
            c,
            ',' | '.' | ';' | '?' | '\'' | '"' | '(' | ')' | '/' | '%'
        )
        || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
}

/// Renders sanitised `text` as the continuation described by `start`.
pub(super) fn render_part(
    text: &str,
    width: usize,
    theme: &Theme,
    start: Start,
    highlights: &mut Highlights,
) -> Part {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_GFM;
    let mut renderer = Renderer::new(width.max(1), theme, highlights);
    renderer.after_lines = start.after_lines;
    renderer.blank_pending = start.blank_pending;
    let mut blocks = Vec::new();
    let mut starved = None;
    let mut depth = 0usize;
    let mut last_is_paragraph = false;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        if depth == 0 {
            let start = Start {
                after_lines: renderer.after_lines || !renderer.out.is_empty(),
                blank_pending: renderer.blank_pending,
            };
            // From the start of its line: an indented code block's range starts
            // after the indent that makes it one.
            let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
            blocks.push((line_start, renderer.out.len(), start));
            last_is_paragraph = matches!(event, Event::Start(Tag::Paragraph));
        }
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        renderer.event(event);
        if starved.is_none() && renderer.fresh_lines == 0 {
            starved = Some(blocks.len() - 1);
        }
    }
    Part {
        lines: renderer.finish(),
        blocks,
        starved,
        last_is_paragraph,
    }
}
