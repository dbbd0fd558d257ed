//! An answer rendered as it streams: the blocks that can no longer change are kept.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
use ratatui::text::{Line, Span};

use super::table::MIN_COLUMN;
use super::{Highlights, Renderer};
use crate::theme::Theme;
use crate::ui::wrap::wrap_spans;
use duel_core::text::sanitize;

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
    /// The last block when it is a code block still open: more code only changes its
    /// last line and adds lines below it.
    pub(super) code: Option<OpenCode>,
}

/// A fenced code block at the end of an answer, its closing fence not yet streamed.
pub(super) struct OpenCode {
    lang: String,
    /// Where its code starts in `pending` (after the fence line).
    start: usize,
    /// Its last line (the one still growing) and the rows that line takes at the end
    /// of `live`.
    last: usize,
    rows: usize,
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
        if self.grow_tail(&new, width) || self.grow_code(&new, width, theme, highlights) {
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
        self.code = part
            .blocks
            .last()
            .filter(|_| part.last_is_fence && part.starved.is_none())
            .and_then(|&(offset, ..)| offset.checked_sub(drained))
            .and_then(|offset| self.open_code(offset, width, theme, highlights));
    }

    /// The last block, at `offset` in `pending`, as an `OpenCode` if it is a fenced
    /// code block at the left edge whose closing fence cannot have come yet: nothing
    /// after its fence line holds a backtick or a tilde.
    fn open_code(
        &self,
        offset: usize,
        width: usize,
        theme: &Theme,
        highlights: &mut Highlights,
    ) -> Option<OpenCode> {
        let block = &self.pending[offset..];
        if !(block.starts_with("```") || block.starts_with("~~~")) || width < MIN_CODE_WIDTH {
            return None;
        }
        let (fence, code) = block.split_once('\n')?;
        // A lone line break draws nothing yet, but its empty line shows once more
        // comes: the rows above the last line would not be all there.
        if code.contains(['`', '~']) || code == "\n" || spaces_only(last_line(code)) {
            return None;
        }
        let lang = fence
            .trim_start_matches(['`', '~'])
            .trim_start()
            .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
            .next()
            .unwrap_or_default()
            .to_owned();
        let last = code.matches('\n').count();
        let mut renderer = Renderer::new(width, theme, highlights);
        let rows = renderer.code_lines(&lang, code, last);
        // The parser keeps a trailing line of spaces out of the block: only a block
        // whose last line draws as the whole render drew it may grow by that line.
        let drawn = renderer.finish();
        if drawn.len() != rows || !self.live.ends_with(&drawn) {
            return None;
        }
        Some(OpenCode {
            lang,
            start: self.pending.len() - code.len(),
            last,
            rows,
        })
    }

    /// Takes in `new` code for a code block still open without parsing the answer
    /// again: the rows of its lines above the last one cannot change (each line's
    /// highlighting depends only on the lines above it), so the last line's rows are
    /// drawn again and the new lines' rows added. False when it does not apply (the
    /// new text may close the block); nothing is changed then.
    fn grow_code(
        &mut self,
        new: &str,
        width: usize,
        theme: &Theme,
        highlights: &mut Highlights,
    ) -> bool {
        let Some(open) = &self.code else {
            return false;
        };
        if new.contains(['`', '~']) || open.rows > self.live.len() {
            return false;
        }
        // The code grows in place in `pending` (taken back if this does not apply):
        // neither it nor its line count is copied or counted again.
        let before = self.pending.len();
        self.pending.push_str(new);
        let code = &self.pending[open.start..];
        if code == "\n" || spaces_only(last_line(code)) {
            self.pending.truncate(before);
            return false;
        }
        let mut renderer = Renderer::new(width, theme, highlights);
        let rows = renderer.code_lines(&open.lang, code, open.last);
        // Out of highlighting budget: the full render colours what it can.
        if renderer.fresh_lines == 0 {
            self.pending.truncate(before);
            return false;
        }
        let lines = renderer.finish();
        let keep = self.live.len() - open.rows;
        self.live.truncate(keep);
        self.live.extend(lines);
        if let Some(open) = &mut self.code {
            open.last += new.matches('\n').count();
            open.rows = rows;
        }
        true
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
    /// Whether the last top-level block is a fenced code block.
    last_is_fence: bool,
}

/// The line of `code` still growing.
fn last_line(code: &str) -> &str {
    code.rsplit('\n').next().unwrap_or_default()
}

/// A line of spaces alone: at the end of an answer the parser leaves it out of the
/// code block (and trims the line before), until more comes.
fn spaces_only(line: &str) -> bool {
    !line.is_empty() && line.trim_matches(' ').is_empty()
}

/// The narrowest pane a code block grows in without a full render (narrower ones fit
/// their lines to the pane, which a row drawn alone would not).
const MIN_CODE_WIDTH: usize = MIN_COLUMN;

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
    let mut last_is_fence = false;
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
            last_is_fence = matches!(
                event,
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_)))
            );
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
        last_is_fence,
    }
}
