//! Scrolling the panes: by line, by page, to an end, together or one at a time.
//! The page size and the pane under the pointer come from the last frame's layout.

use crossterm::event::{MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use crate::app::state::{Scroll, State, Viewport};
use duel_core::domain::Side;

/// Lines a mouse wheel notch scrolls.
const WHEEL_LINES: usize = 3;

pub(super) fn page_size(state: &State) -> usize {
    viewport(state, state.focus).height.saturating_sub(2).max(1)
}

fn viewport(state: &State, side: Side) -> Viewport {
    state.screen.panes[side.index()]
}

/// The first line shown when a pane is scrolled to its bottom.
fn bottom_top(state: &State, side: Side) -> usize {
    let viewport = viewport(state, side);
    viewport.total_lines.saturating_sub(viewport.height)
}

/// The panes a scroll key moves: the focused one, or both when scrolling is synced.
fn scrolled_sides(state: &State) -> Vec<Side> {
    if state.sync_scroll {
        Side::BOTH.to_vec()
    } else {
        vec![state.focus]
    }
}

pub(super) fn scroll_up(state: &mut State, lines: usize) {
    for side in scrolled_sides(state) {
        let bottom_top = bottom_top(state, side);
        let pane = state.side_mut(side);
        let top = match pane.scroll {
            Scroll::Follow => bottom_top,
            Scroll::Top(top) => top.min(bottom_top),
        };
        pane.scroll = Scroll::Top(top.saturating_sub(lines));
    }
}

pub(super) fn scroll_down(state: &mut State, lines: usize) {
    for side in scrolled_sides(state) {
        let bottom_top = bottom_top(state, side);
        let pane = state.side_mut(side);
        if let Scroll::Top(top) = pane.scroll {
            // Reaching the bottom resumes following new text.
            pane.scroll = if top + lines >= bottom_top {
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
    let at = Position::new(mouse.column, mouse.row);
    let Some(side) = Side::BOTH
        .into_iter()
        .find(|&side| viewport(state, side).area.contains(at))
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
