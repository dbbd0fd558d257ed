//! Drawing: reads the state and the theme, never changes them. Wrapped transcript
//! lines are memoised per answer and width in a `ViewCache`, so a frame costs what is
//! visible plus what changed, not the whole history.

use ratatui::Frame;
use ratatui::buffer::Cell;
use ratatui::style::Style;

use crate::app::state::{Screen, State};
use crate::theme::Theme;
use crate::ui::layout::draw_too_small;
pub use crate::ui::layout::{Areas, MIN_HEIGHT, MIN_WIDTH, areas};
pub use crate::ui::pane::ViewCache;
use crate::ui::pane::draw_pane;
use crate::ui::popup::{draw_help, draw_picker};
use crate::ui::status::{draw_input, draw_status, status_height};
use duel_core::domain::Side;

/// Draws the whole screen. Returns the layout it drew, for `update` to read.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme, cache: &mut ViewCache) -> Screen {
    let area = frame.area();
    // One blank cell in the theme's colours, copied everywhere: a styled Block would
    // look each cell up by its position.
    let mut ground = Cell::EMPTY;
    ground.set_style(Style::default().bg(theme.bg).fg(theme.fg));
    frame.buffer_mut().content.fill(ground);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(frame, area, theme);
        return Screen::default();
    }
    if let Some(review) = &state.review {
        return crate::ui::review_screen::draw_review(frame, area, state, review, theme, cache);
    }
    let areas = areas(
        area,
        state.layout,
        state.input.lines().len(),
        status_height(state, theme, area.width),
    );
    let panes = Side::BOTH.map(|side| {
        draw_pane(
            frame,
            areas.panes[side.index()],
            state,
            side,
            theme,
            cache,
            Some(&[]),
        )
    });
    draw_input(frame, areas.input, state, theme);
    draw_status(frame, areas.status, state, theme);
    if let Some(picker) = &state.picker {
        draw_picker(frame, area, picker, state, theme);
    }
    if state.show_help {
        draw_help(frame, area, state, theme);
    }
    Screen { panes }
}
