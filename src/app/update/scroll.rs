//! Scrolling the panes: by line, by page, to an end, together or one at a time.

use crossterm::event::{MouseEvent, MouseEventKind};

use crate::app::state::{Scroll, State};
use crate::domain::Side;

/// Lines a mouse wheel notch scrolls.
const WHEEL_LINES: usize = 3;

pub(super) fn page_size(state: &State) -> usize {
    state
        .side(state.focus)
        .viewport
        .height
        .saturating_sub(2)
        .max(1)
}

/// The panes a scroll key moves: the focused one, or both when scrolling is synced.
pub(super) fn scrolled_sides(state: &State) -> Vec<Side> {
    if state.sync_scroll {
        Side::BOTH.to_vec()
    } else {
        vec![state.focus]
    }
}

pub(super) fn scroll_up(state: &mut State, lines: usize) {
    for side in scrolled_sides(state) {
        let side = state.side_mut(side);
        let bottom_top = side
            .viewport
            .total_lines
            .saturating_sub(side.viewport.height);
        let top = match side.scroll {
            Scroll::Follow => bottom_top,
            Scroll::Top(top) => top.min(bottom_top),
        };
        side.scroll = Scroll::Top(top.saturating_sub(lines));
    }
}

pub(super) fn scroll_down(state: &mut State, lines: usize) {
    for side in scrolled_sides(state) {
        let side = state.side_mut(side);
        if let Scroll::Top(top) = side.scroll {
            let bottom_top = side
                .viewport
                .total_lines
                .saturating_sub(side.viewport.height);
            // Reaching the bottom resumes following new text.
            side.scroll = if top + lines >= bottom_top {
                Scroll::Follow
            } else {
                Scroll::Top(top + lines)
            };
        }
    }
}

pub(super) fn scroll_to(state: &mut State, scroll: Scroll) {
    for side in scrolled_sides(state) {
        state.side_mut(side).scroll = scroll;
    }
}

/// The wheel scrolls the pane under the pointer, which also takes the focus.
pub(super) fn on_mouse(state: &mut State, mouse: MouseEvent) {
    let (w, h) = state.size;
    let areas = crate::ui::draw::areas(
        ratatui::layout::Rect::new(0, 0, w, h),
        state.layout,
        state.input.lines().len(),
    );
    let at = ratatui::layout::Position::new(mouse.column, mouse.row);
    let Some(side) = Side::BOTH
        .into_iter()
        .find(|s| areas.panes[s.index()].contains(at))
    else {
        return;
    };
    match mouse.kind {
        MouseEventKind::ScrollUp => {
            state.focus = side;
            scroll_up(state, WHEEL_LINES);
        }
        MouseEventKind::ScrollDown => {
            state.focus = side;
            scroll_down(state, WHEEL_LINES);
        }
        _ => {}
    }
}
