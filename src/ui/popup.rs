//! Popups over the panes: the model and theme picker, and the help.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use crate::app::picker::{Picker, PickerKind};
use crate::app::state::State;
use crate::text::{sanitize, truncate};
use crate::theme::Theme;

pub(super) fn draw_picker(
    frame: &mut Frame,
    area: Rect,
    picker: &Picker,
    state: &State,
    theme: &Theme,
) {
    let width = area.width.saturating_sub(4).min(70);
    let height = area
        .height
        .saturating_sub(4)
        .min(picker.items.len() as u16 + 4)
        .max(5);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let title = match picker.kind {
        PickerKind::Model => format!(" Model for pane {} ", state.focus.label()),
        PickerKind::Theme => " Theme (previewed as you move) ".to_owned(),
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(theme.border_focused))
        .title(title)
        .title_bottom(Line::styled(
            " type to filter · ↑/↓ move · Enter pick · Esc cancel ",
            Style::default().fg(theme.dim),
        ))
        .style(Style::default().bg(theme.bg).fg(theme.fg));
    let inner = block.inner(popup);
    clear_popup(frame, popup);
    frame.render_widget(block, popup);
    let room = usize::from(inner.width);
    let mut lines = vec![Line::from(vec![
        Span::styled("› ", Style::default().fg(theme.border_focused)),
        Span::styled(
            picker.query.clone(),
            Style::default().fg(theme.fg).add_modifier(Modifier::BOLD),
        ),
        Span::styled("▏", Style::default().fg(theme.border_focused)),
    ])];
    let visible = usize::from(inner.height).saturating_sub(1);
    // Keep the selection in view.
    let first = picker.selected.saturating_sub(visible.saturating_sub(1));
    for (row, &index) in picker.shown.iter().enumerate().skip(first).take(visible) {
        let item = &picker.items[index];
        let selected = row == picker.selected;
        let base = if selected {
            Style::default()
                .fg(theme.bg)
                .bg(theme.border_focused)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(theme.fg)
        };
        let mut spans = vec![Span::styled(format!(" {} ", sanitize(&item.name)), base)];
        if !item.detail.is_empty() {
            spans.push(Span::styled(
                format!(" {}", sanitize(&item.detail)),
                Style::default().fg(theme.dim),
            ));
        }
        if let Some(warning) = &item.warning {
            spans.push(Span::styled(
                format!("  ⚠ {warning}"),
                Style::default().fg(theme.warning),
            ));
        }
        let line = Line::from(spans);
        lines.push(if line.width() > room {
            Line::from(Span::styled(truncate(&line.to_string(), room), base))
        } else {
            line
        });
    }
    if picker.shown.is_empty() {
        lines.push(Line::styled("  no match", Style::default().fg(theme.dim)));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Clears the cells under a popup, and the wide character (CJK, emoji) that a row
/// left of it would otherwise stretch across its left border: a terminal draws a
/// wide character over two cells, so the border cell it covers would never show.
fn clear_popup(frame: &mut Frame, popup: Rect) {
    frame.render_widget(Clear, popup);
    let Some(left) = popup.x.checked_sub(1) else {
        return;
    };
    let buffer = frame.buffer_mut();
    for y in popup.top()..popup.bottom() {
        if let Some(cell) = buffer.cell_mut((left, y))
            && crate::text::width(cell.symbol()) > 1
        {
            cell.set_symbol(" ");
        }
    }
}

/// Every binding, in the order of SPEC §4.3, grouped to fit a 24-line terminal.
const HELP: &[(&str, &str)] = &[
    ("Enter", "send to both (browse: back to compose)"),
    ("Alt+Enter, Ctrl+J", "new line"),
    ("Esc", "stop streaming, else browse mode (browse: compose)"),
    (
        "Ctrl+C / Ctrl+Q",
        "stop, else clear the draft, else quit / quit (browse: q)",
    ),
    (
        "Alt+1..4",
        "vote A better / B better / tie / both bad (browse: 1..4)",
    ),
    ("Tab, h / l", "focus the other pane"),
    (
        "PgUp/PgDn, wheel",
        "scroll (browse: j/k, arrows, g top, G bottom)",
    ),
    (
        "Up / Down",
        "earlier prompts (on the first / last input line)",
    ),
    ("Ctrl+P / m", "pick the focused pane's model"),
    ("Ctrl+N / n", "new conversation"),
    (
        "r · s · y",
        "regenerate last turn · swap models · copy answer",
    ),
    (
        "L · t · e · S",
        "layout · theme (live preview) · reasoning · sync scroll",
    ),
    ("b", "blind mode for the next conversation"),
    ("F1 / ?", "this help"),
];

pub(super) fn draw_help(frame: &mut Frame, area: Rect, theme: &Theme) {
    let width = area.width.min(80);
    let height = (HELP.len() as u16 + 4).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let key_style = Style::default()
        .fg(theme.heading)
        .add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!("{key:>18}  "), key_style),
                Span::styled(*what, Style::default().fg(theme.fg)),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::styled(
        "any key closes this help",
        Style::default().fg(theme.dim),
    ));
    clear_popup(frame, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(Style::default().fg(theme.border_focused))
                .title(" Keys ")
                .style(Style::default().bg(theme.bg)),
        ),
        popup,
    );
}
