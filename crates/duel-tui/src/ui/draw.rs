//! Drawing: reads the state and the theme, never changes them. Wrapped transcript
//! lines are memoised per answer and width in a `ViewCache`, so a frame costs what is
//! visible plus what changed, not the whole history; painted over the last frame, it
//! paints only the rows that may have changed.

use ratatui::Frame;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::app::state::{Screen, State};
use crate::theme::Theme;
use crate::ui::canvas::Damage;
use crate::ui::layout::draw_too_small;
pub use crate::ui::layout::{Areas, MIN_HEIGHT, MIN_WIDTH, areas};
pub use crate::ui::pane::ViewCache;
use crate::ui::pane::draw_pane;
use crate::ui::popup::{draw_help, draw_picker};
use crate::ui::status::{draw_input, draw_status, status_height};
use duel_core::domain::Side;

/// Draws the whole screen into a frame of its own. Returns the layout it drew, for
/// `update` to read. The cache is left knowing of no frame to paint over: the frame
/// is ratatui's, not a canvas's.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme, cache: &mut ViewCache) -> Screen {
    let screen = paint(frame.buffer_mut(), state, theme, cache, false).screen;
    cache.laid_out = None;
    screen
}

/// What a frame painted: the layout, for `update` to read, and the rows the terminal
/// must be brought up to date in.
pub struct Painted {
    pub screen: Screen,
    pub damage: Damage,
}

/// What a frame painted over in place must share with the last: the same areas,
/// theme and focus, and nothing on top (a popup, the review screen).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FrameKey {
    areas: Areas,
    theme: String,
    focus: Side,
}

/// Paints the screen into `buf`. With `retained` (`buf` holds the last frame this
/// cache painted) and the same layout, theme and focus as then, it paints only what
/// may have changed: the panes' edges (titles, badges, figures), the body lines that
/// differ from the ones painted, a scrollbar that moved, the prompt and the status
/// line. Anything else paints everything.
pub fn paint(
    buf: &mut Buffer,
    state: &State,
    theme: &Theme,
    cache: &mut ViewCache,
    retained: bool,
) -> Painted {
    let area = buf.area;
    let laid_out = cache.laid_out.take();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        buf.content.fill(ground(theme));
        draw_too_small(buf, area, theme);
        return Painted {
            screen: Screen::default(),
            damage: Damage::all(area),
        };
    }
    if let Some(review) = &state.review {
        buf.content.fill(ground(theme));
        let screen = crate::ui::review_screen::draw_review(buf, area, state, review, theme, cache);
        return Painted {
            screen,
            damage: Damage::all(area),
        };
    }
    let areas = areas(
        area,
        state.layout,
        state.input.lines().len(),
        status_height(state, theme, area.width),
    );
    let key = FrameKey {
        areas,
        theme: theme.name.clone(),
        focus: state.focus,
    };
    let over = retained && laid_out.as_ref() == Some(&key);
    let overlay = state.picker.is_some() || state.show_help;
    // A frame with a popup is painted whole, and so is the one after it.
    cache.laid_out = (!overlay).then_some(key);
    let mut damage = if over {
        Damage::none(area)
    } else {
        buf.content.fill(ground(theme));
        Damage::all(area)
    };
    let panes = Side::BOTH.map(|side| {
        draw_pane(
            buf,
            areas.panes[side.index()],
            state,
            side,
            theme,
            cache,
            Some(&[]),
            over.then_some(&mut damage),
        )
    });
    if over {
        for part in [areas.input, areas.status] {
            fill(buf, part, &ground(theme));
            damage.rows(part.top()..part.bottom());
        }
    }
    draw_input(buf, areas.input, state, theme);
    draw_status(buf, areas.status, state, theme);
    if let Some(picker) = &state.picker {
        draw_picker(buf, area, picker, state, theme);
    }
    if state.show_help {
        draw_help(buf, area, state, theme);
    }
    Painted {
        screen: Screen { panes },
        damage,
    }
}

/// One blank cell in the theme's colours, copied everywhere: a styled Block would
/// look each cell up by its position.
pub(crate) fn ground(theme: &Theme) -> Cell {
    let mut cell = Cell::EMPTY;
    cell.set_style(Style::default().bg(theme.bg).fg(theme.fg));
    cell
}

/// Blanks `rect` (within `buf`) to `cell`, a row at a time.
pub(crate) fn fill(buf: &mut Buffer, rect: Rect, cell: &Cell) {
    let rect = rect.intersection(buf.area);
    for y in rect.top()..rect.bottom() {
        let start = buf.index_of(rect.x, y);
        buf.content[start..start + usize::from(rect.width)].fill(cell.clone());
    }
}
