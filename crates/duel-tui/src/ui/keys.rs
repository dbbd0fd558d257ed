//! The keymap as the screen shows it: the footer's hints, the picker's, and the help.
//! All of it is read from `app::keymap`, so what the screen says is what the keys do.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::keymap::{self, Action, HelpRow, Hint, KeyMode};
use crate::app::state::State;
use crate::theme::Theme;
use duel_core::text::{truncate, width};

/// The footer's pinned hints (help, quit), joined with ` · `: never cut for room.
pub(crate) fn pinned_hints(state: &State) -> String {
    let (_, pinned) = keymap::hints(state.mode.into(), state.streaming());
    join(&pinned)
}

/// The footer's other hints for what the keys do now that fit in `room` cells, joined
/// with ` · `: whole ones, most important first. The vote hint is spelled out ("1 A ·
/// 2 B · …") where that fits beside every hint that shows anyway; while a pair waits
/// for its vote, it comes first, spelled out where it fits at all.
pub(crate) fn fit_hints(state: &State, room: usize) -> String {
    let (cut, _) = keymap::hints(state.mode.into(), state.streaming());
    let waiting = state
        .votable_turn()
        .is_some_and(|i| state.turns[i].vote.is_none());
    let mut cut = cut;
    if state.review.as_ref().is_some_and(|r| r.team.is_some()) {
        // A team review goes forward only: the pair before may be someone else's now.
        let previous = keymap::hint_of(KeyMode::Review, Action::PreviousPair);
        cut.retain(|h| Some(*h) != previous);
    }
    if waiting {
        // A stable sort: the vote first, the others in their order.
        cut.sort_by_key(|h| !h.votes);
    }
    let short: Vec<String> = cut.iter().map(Hint::short).collect();
    let spelled: Vec<String> = cut
        .iter()
        .map(|h| h.spelled_out().unwrap_or_else(|| h.short()))
        .collect();
    let plain = fit(&short, room);
    let wide = fit(&spelled, room);
    let spelled_shows = wide.iter().any(|h| !short.contains(h));
    if spelled_shows && (waiting || wide.len() >= plain.len()) {
        join_strings(&wide)
    } else {
        join_strings(&plain)
    }
}

/// The first hints whose join fits in `room` cells.
fn fit(hints: &[String], room: usize) -> Vec<String> {
    let mut shown: Vec<String> = Vec::new();
    let mut used = 0;
    for hint in hints {
        let more = width(hint) + if shown.is_empty() { 0 } else { 3 };
        if used + more > room {
            break;
        }
        used += more;
        shown.push(hint.clone());
    }
    shown
}

fn join_strings(hints: &[String]) -> String {
    hints.join(" · ")
}

/// The picker's own hints, for its bottom border.
pub(crate) fn picker_hints() -> String {
    let (cut, pinned) = keymap::hints(KeyMode::Picker, false);
    let hints = join(&[cut, pinned].concat());
    format!(" type to filter · {hints} ")
}

/// The path line's own hints, for its bottom border.
pub(crate) fn files_hints() -> String {
    let (cut, pinned) = keymap::hints(KeyMode::Files, false);
    let hints = join(&[cut, pinned].concat());
    format!(" type a path · {hints} ")
}

fn join(hints: &[Hint]) -> String {
    hints
        .iter()
        .map(Hint::short)
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The narrowest a help section is drawn side by side with the other.
const SECTION_WIDTH: usize = 50;

/// The help popup's widest: two sections, the gap between them, and the border.
pub(crate) const HELP_WIDTH: u16 = 2 * SECTION_WIDTH as u16 + 2 + 2;

/// The help popup's widest with one section.
pub(crate) const ONE_SECTION_WIDTH: u16 = 80;

/// The widest list of keys that shares its line with its words.
const KEYS_WIDTH: usize = 18;

/// The help's lines for a popup `room` cells wide inside its border: compose and
/// browse side by side where both fit, else the mode the user is in.
pub(crate) fn help_lines(state: &State, theme: &Theme, room: usize) -> Vec<Line<'static>> {
    let current = KeyMode::from(state.mode);
    let modes = if current == KeyMode::Review {
        vec![current]
    } else if room + 2 >= usize::from(HELP_WIDTH) {
        vec![KeyMode::Compose, KeyMode::Browse]
    } else {
        vec![current]
    };
    let section_width = if modes.len() == 2 {
        (room - 2) / 2
    } else {
        room
    };
    let sections: Vec<Vec<Line<'static>>> = modes
        .iter()
        .map(|&mode| section(mode, theme, section_width))
        .collect();
    let height = sections.iter().map(Vec::len).max().unwrap_or(0);
    (0..height)
        .map(|row| {
            let mut spans = Vec::new();
            for (i, lines) in sections.iter().enumerate() {
                let line = lines.get(row).cloned().unwrap_or_default();
                if i + 1 < sections.len() {
                    let pad = section_width.saturating_sub(line.width()) + 2;
                    spans.extend(line.spans);
                    spans.push(Span::raw(" ".repeat(pad)));
                } else {
                    spans.extend(line.spans);
                }
            }
            Line::from(spans)
        })
        .collect()
}

/// One mode's help: a heading, then a row per binding, keys right-aligned.
fn section(mode: KeyMode, theme: &Theme, room: usize) -> Vec<Line<'static>> {
    let rows = keymap::help(mode);
    let heading = match mode {
        KeyMode::Compose => "compose: typing",
        KeyMode::Browse => "browse: keys act on the panes",
        KeyMode::Review => "review: one blind pair at a time",
        KeyMode::Picker | KeyMode::Help | KeyMode::Files => "",
    };
    let key_style = Style::default()
        .fg(theme.heading)
        .add_modifier(Modifier::BOLD);
    // Keys take what most need; a longer list of keys gets a line of its own, with
    // its words below it.
    let keys_width = rows
        .iter()
        .map(|r| width(&r.keys))
        .filter(|&w| w <= KEYS_WIDTH)
        .max()
        .unwrap_or(0)
        .min(room / 2);
    let indent = " ".repeat(keys_width + 2);
    let mut lines = vec![Line::styled(
        truncate(heading, room),
        Style::default().fg(theme.dim).add_modifier(Modifier::BOLD),
    )];
    for HelpRow { keys, what } in rows {
        let what = Span::styled(
            truncate(what, room.saturating_sub(keys_width + 2)),
            Style::default().fg(theme.fg),
        );
        if width(&keys) > keys_width {
            lines.push(Line::styled(truncate(&keys, room), key_style));
            lines.push(Line::from(vec![Span::raw(indent.clone()), what]));
        } else {
            let pad = " ".repeat(keys_width + 2 - width(&keys));
            lines.push(Line::from(vec![
                Span::styled(keys, key_style),
                Span::raw(pad),
                what,
            ]));
        }
    }
    lines
}
