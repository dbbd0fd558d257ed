//! Where everything goes on the screen, and the smallest screen duel lays out.

use crate::ui::Paint;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout as Split, Rect};
use ratatui::style::Style;
use ratatui::widgets::Paragraph;

use crate::theme::Theme;
use crate::ui::wrap::wrap_text;
use duel_core::config::Layout;

/// Where everything goes on the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    pub panes: [Rect; 2],
    pub input: Rect,
    pub status: Rect,
}

/// Splits the screen: the two panes, the input box below them, the status line last
/// (`status_height` rows: more than one when the status wraps above the keys).
pub fn areas(area: Rect, layout: Layout, input_lines: usize, status_height: u16) -> Areas {
    // The input grows with its text, up to a third of the screen.
    let max_input = (area.height / 3).max(3);
    let input_height = (input_lines as u16 + 2).clamp(3, max_input);
    let [panes, input, status] = Split::vertical([
        Constraint::Min(3),
        Constraint::Length(input_height),
        Constraint::Length(status_height),
    ])
    .areas(area);
    let halves = match layout {
        Layout::Columns => Split::horizontal([Constraint::Ratio(1, 2); 2]),
        Layout::Rows => Split::vertical([Constraint::Ratio(1, 2); 2]),
    };
    let [a, b] = halves.areas(panes);
    Areas {
        panes: [a, b],
        input,
        status,
    }
}

/// The smallest screen duel lays out; below it says so instead.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;

pub(super) fn draw_too_small(buf: &mut Buffer, area: Rect, theme: &Theme) {
    let text = format!(
        "terminal too small: {}×{}, duel needs {MIN_WIDTH}×{MIN_HEIGHT}",
        area.width, area.height
    );
    let lines = wrap_text(
        &text,
        Style::default().fg(theme.warning),
        usize::from(area.width),
    );
    buf.render_widget(Paragraph::new(lines), area);
}
