//! Rendering. `draw` is pure: it reads the state and theme and paints a frame.

mod canvas;
pub mod draw;
pub mod keys;
mod layout;
pub mod markdown;
mod pane;
mod popup;
mod review_screen;
mod status;
pub mod wrap;

pub use canvas::{Canvas, Damage};
pub use draw::{Painted, ViewCache, draw, paint};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{StatefulWidget, Widget};

/// A frame's painting calls on a plain buffer, so one drawing code serves ratatui's
/// `Frame` (snapshots) and the screen the loop keeps between frames (`Canvas`).
pub(crate) trait Paint {
    fn render_widget<W: Widget>(&mut self, widget: W, area: Rect);
    fn render_stateful_widget<W: StatefulWidget>(
        &mut self,
        widget: W,
        area: Rect,
        state: &mut W::State,
    );
}

impl Paint for Buffer {
    fn render_widget<W: Widget>(&mut self, widget: W, area: Rect) {
        widget.render(area, self);
    }

    fn render_stateful_widget<W: StatefulWidget>(
        &mut self,
        widget: W,
        area: Rect,
        state: &mut W::State,
    ) {
        widget.render(area, self, state);
    }
}
