//! Popups over the panes: the model and theme picker, and the help.

use crate::ui::Paint;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use crate::app::picker::{Picker, PickerItem, PickerKind};
use crate::app::state::State;
use crate::theme::Theme;
use crate::ui::keys;
use duel_core::text::{sanitize, truncate};

pub(super) fn draw_picker(
    buf: &mut Buffer,
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
        PickerKind::File => " Attach a file to the next prompt ".to_owned(),
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(theme.border_focused))
        .title(title)
        .title_bottom(Line::styled(
            if picker.kind == PickerKind::File {
                keys::files_hints()
            } else {
                keys::picker_hints()
            },
            Style::default().fg(theme.dim),
        ))
        .style(Style::default().bg(theme.bg).fg(theme.fg));
    let inner = block.inner(popup);
    clear_popup(buf, popup);
    buf.render_widget(block, popup);
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
        lines.push(item_line(
            &picker.items[index],
            row == picker.selected,
            room,
            theme,
        ));
    }
    if picker.shown.is_empty() {
        let none = if picker.kind == PickerKind::File {
            "  no match here: Enter attaches the path as typed"
        } else {
            "  no match"
        };
        lines.push(Line::styled(none, Style::default().fg(theme.dim)));
    }
    buf.render_widget(Paragraph::new(lines), inner);
}

/// One item of the picker: its name (highlighted when selected), its detail dimmed,
/// a warning (a missing key) after it; cut to `room` cells.
fn item_line(item: &PickerItem, selected: bool, room: usize, theme: &Theme) -> Line<'static> {
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
    if line.width() > room {
        Line::from(Span::styled(truncate(&line.to_string(), room), base))
    } else {
        line
    }
}

/// Clears the cells under a popup, and the wide character (CJK, emoji) that a row
/// left of it would otherwise stretch across its left border: a terminal draws a
/// wide character over two cells, so the border cell it covers would never show.
fn clear_popup(buf: &mut Buffer, popup: Rect) {
    buf.render_widget(Clear, popup);
    let Some(left) = popup.x.checked_sub(1) else {
        return;
    };
    for y in popup.top()..popup.bottom() {
        if let Some(cell) = buf.cell_mut((left, y))
            && duel_core::text::width(cell.symbol()) > 1
        {
            cell.set_symbol(" ");
        }
    }
}

/// Every key of compose and browse mode, from the keymap: side by side where the
/// screen is wide enough, else the mode the user is in.
pub(super) fn draw_help(buf: &mut Buffer, area: Rect, state: &State, theme: &Theme) {
    // A review has one set of keys: one section.
    let sections = if state.review.is_some() { 1 } else { 2 };
    let width = if sections == 2 && area.width >= keys::HELP_WIDTH {
        keys::HELP_WIDTH
    } else {
        area.width.min(keys::ONE_SECTION_WIDTH)
    };
    let lines = keys::help_lines(state, theme, usize::from(width.saturating_sub(2)));
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    clear_popup(buf, popup);
    buf.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(Style::default().fg(theme.border_focused))
                .title(" Keys ")
                .title_bottom(Line::styled(
                    " any key closes this help ",
                    Style::default().fg(theme.dim),
                ))
                .style(Style::default().bg(theme.bg)),
        ),
        popup,
    );
}
