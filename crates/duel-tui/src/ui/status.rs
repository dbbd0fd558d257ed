//! The prompt box and the status line below it.

use crate::ui::Paint;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use crate::app::state::{Mode, State, StatusKind};
use crate::theme::Theme;
use crate::ui::keys;
use crate::ui::wrap::wrap_text;
use duel_core::text::sanitize;

pub(super) fn draw_input(buf: &mut Buffer, area: Rect, state: &State, theme: &Theme) {
    let compose = state.mode == Mode::Compose;
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(if compose {
            theme.border_focused
        } else {
            theme.border
        }))
        .title(Line::styled(
            if compose {
                " Prompt "
            } else {
                " Prompt (browse mode: Enter to type) "
            },
            Style::default().fg(theme.dim),
        ));
    // The files that go with the next prompt, as chips on its top edge.
    let block = crate::app::update::attach::chips(&state.attached)
        .into_iter()
        .fold(block, |block, chip| {
            block.title(Line::styled(
                format!(" {chip} "),
                Style::default().fg(theme.fg).add_modifier(Modifier::BOLD),
            ))
        });
    if compose {
        let inner = block.inner(area);
        buf.render_widget(block, area);
        buf.render_widget(&state.input, inner);
    } else {
        let text: Vec<Line> = state
            .input
            .lines()
            .iter()
            .map(|l| Line::styled(l.clone(), Style::default().fg(theme.dim)))
            .collect();
        buf.render_widget(Paragraph::new(text).block(block), area);
    }
}

/// The most rows a status that does not fit beside the keys wraps onto.
const MOST_STATUS_ROWS: usize = 4;

/// The mode and the badges that begin the key row, the pinned keys (help, quit) that
/// end it, and the status text as it shows.
struct Row {
    spans: Vec<Span<'static>>,
    always: String,
    status: Option<(String, Style)>,
}

impl Row {
    fn of(state: &State, theme: &Theme) -> Self {
        let base = Style::default().bg(theme.status_bg).fg(theme.status_fg);
        let mode = match state.mode {
            Mode::Compose => " COMPOSE ",
            Mode::Browse => " BROWSE ",
            Mode::Review => " REVIEW ",
        };
        let mut spans = vec![Span::styled(
            mode,
            base.add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )];
        if state.names_hidden() {
            let badge = base.fg(theme.warning).add_modifier(Modifier::BOLD);
            spans.push(Span::styled(" BLIND ", badge));
        }
        if state.sync_scroll {
            let badge = base.fg(theme.success).add_modifier(Modifier::BOLD);
            spans.push(Span::styled(" SYNC ", badge));
        }
        spans.push(Span::styled(" ", base));
        let always = keys::pinned_hints(state);
        let status = state.status.as_ref().map(|status| {
            let color = match status.kind {
                StatusKind::Info => theme.status_fg,
                StatusKind::Success => theme.success,
                StatusKind::Warning => theme.warning,
                StatusKind::Error => theme.error,
            };
            (
                sanitize(&status.text).replace('\n', " "),
                base.fg(color).add_modifier(Modifier::BOLD),
            )
        });
        Self {
            spans,
            always: format!(" · {always}"),
            status,
        }
    }

    /// The room between the badges and the pinned keys.
    fn room(&self, width: u16) -> usize {
        let used: usize = self.spans.iter().map(Span::width).sum();
        usize::from(width).saturating_sub(used + duel_core::text::width(&self.always))
    }

    /// The status wrapped onto rows of its own above the keys, where it does not fit
    /// between them: a status is never cut.
    fn status_rows(&self, width: u16) -> Vec<Line<'static>> {
        match &self.status {
            Some((text, style)) if duel_core::text::width(text) > self.room(width) => {
                let mut rows = wrap_text(text, *style, usize::from(width).max(1));
                rows.truncate(MOST_STATUS_ROWS);
                rows
            }
            _ => Vec::new(),
        }
    }
}

/// The rows the status line takes at `width`: one, and more when the status wraps
/// onto rows of its own above the keys.
pub(crate) fn status_height(state: &State, theme: &Theme, width: u16) -> u16 {
    let rows = Row::of(state, theme).status_rows(width).len();
    u16::try_from(rows + 1).unwrap_or(u16::MAX)
}

pub(super) fn draw_status(buf: &mut Buffer, area: Rect, state: &State, theme: &Theme) {
    let base = Style::default().bg(theme.status_bg).fg(theme.status_fg);
    let row = Row::of(state, theme);
    let above = row.status_rows(area.width);
    let keys_row = Rect {
        y: area.y + area.height.saturating_sub(1),
        height: area.height.min(1),
        ..area
    };
    let inline = above.is_empty();
    if !inline {
        let status_area = Rect {
            height: area.height.saturating_sub(1),
            ..area
        };
        buf.render_widget(Paragraph::new(above).style(base), status_area);
    }
    let mut room = row.room(area.width);
    let Row {
        mut spans,
        always,
        status,
    } = row;
    if let (Some((text, style)), true) = (status, inline) {
        room = room.saturating_sub(duel_core::text::width(&text) + 2);
        spans.push(Span::styled(text, style));
        spans.push(Span::styled("  ", base));
    }
    // Whole hints, as many as fit, in order of importance; the vote's spelled out
    // where that fits too.
    let shown = keys::fit_hints(state, room);
    let always = if shown.is_empty() {
        &always[" ·".len()..]
    } else {
        always.as_str()
    };
    let pad = usize::from(area.width)
        .saturating_sub(spans.iter().map(Span::width).sum::<usize>())
        .saturating_sub(duel_core::text::width(&shown) + duel_core::text::width(always));
    spans.push(Span::styled(" ".repeat(pad), base));
    spans.push(Span::styled(shown, base.fg(theme.dim)));
    spans.push(Span::styled(always.to_owned(), base.fg(theme.fg)));
    buf.render_widget(Paragraph::new(Line::from(spans)).style(base), keys_row);
}
