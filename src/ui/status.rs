//! The prompt box and the status line below it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use crate::app::state::{Mode, State, StatusKind};
use crate::text::{sanitize, truncate};
use crate::theme::Theme;
use crate::ui::keys;

pub(super) fn draw_input(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
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
    if compose {
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(&state.input, inner);
    } else {
        let text: Vec<Line> = state
            .input
            .lines()
            .iter()
            .map(|l| Line::styled(l.clone(), Style::default().fg(theme.dim)))
            .collect();
        frame.render_widget(Paragraph::new(text).block(block), area);
    }
}

pub(super) fn draw_status(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
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
    let (hints, always) = keys::footer_hints(state);
    // Help and quit are never cut: they keep the right end; the status comes next,
    // and the other hints take what room is left, shortened.
    let always = format!(" · {always}");
    let used: usize = spans.iter().map(Span::width).sum();
    let mut room = usize::from(area.width).saturating_sub(used + crate::text::width(&always));
    if let Some(status) = &state.status {
        let color = match status.kind {
            StatusKind::Info => theme.status_fg,
            StatusKind::Success => theme.success,
            StatusKind::Warning => theme.warning,
            StatusKind::Error => theme.error,
        };
        let text = truncate(&sanitize(&status.text).replace('\n', " "), room);
        room = room.saturating_sub(crate::text::width(&text) + 2);
        spans.push(Span::styled(
            text,
            base.fg(color).add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled("  ", base));
    }
    // Whole hints, as many as fit, in order of importance.
    let mut shown = String::new();
    for hint in hints.split(" · ") {
        let next = if shown.is_empty() {
            hint.to_owned()
        } else {
            format!("{shown} · {hint}")
        };
        if crate::text::width(&next) > room {
            break;
        }
        shown = next;
    }
    let (hints, always) = if shown.is_empty() {
        (shown, &always[" ·".len()..])
    } else {
        (shown, always.as_str())
    };
    let pad = usize::from(area.width)
        .saturating_sub(spans.iter().map(Span::width).sum::<usize>())
        .saturating_sub(crate::text::width(&hints) + crate::text::width(always));
    spans.push(Span::styled(" ".repeat(pad), base));
    spans.push(Span::styled(hints, base.fg(theme.dim)));
    spans.push(Span::styled(always.to_owned(), base.fg(theme.fg)));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(base), area);
}
