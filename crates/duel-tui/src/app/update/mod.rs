//! The pure heart of the app: `update(state, msg, now) -> effects`. No IO happens
//! here, and no clock is read: the run loop carries out the effects and feeds their
//! results back as `Msg`s. Keys become actions through the one keymap
//! (`super::keymap`); each domain's actions live in a module of their own.

pub mod attach;
mod browse;
mod compose;
mod pickers;
mod review;
mod scroll;
mod vote;

use std::time::Instant;

use crossterm::event::{KeyEvent, KeyEventKind};

use super::keymap::{self, Action, KeyMode};
use super::msg::{Effect, Msg};
use super::state::{Mode, Scroll, State, StatusKind};
use duel_core::config::Layout;
use duel_core::domain::{AnswerState, Side, StreamEvent};

pub fn update(state: &mut State, msg: Msg, now: Instant) -> Vec<Effect> {
    state.now = now;
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => on_key(state, key, now),
        Msg::Key(_) | Msg::Tick => Vec::new(),
        // A review has no input to paste into.
        Msg::Paste(_) if state.review.is_some() => Vec::new(),
        Msg::Paste(text) => {
            compose::paste(state, &text);
            Vec::new()
        }
        Msg::Mouse(mouse) => {
            scroll::on_mouse(state, mouse);
            Vec::new()
        }
        // The next frame lays the screen out anew and reports it.
        Msg::Resize(..) => Vec::new(),
        Msg::Stream {
            side,
            generation,
            event,
            pieces,
        } => on_stream(state, side, generation, event, pieces, now),
        Msg::Leased(result) => review::on_leased(state, result),
        Msg::VotesSaved { ids, result } if state.review.is_some() => {
            review::on_votes_saved(state, &ids, result)
        }
        Msg::VotesSaved { ids, result } => vote::on_votes_saved(state, &ids, result),
        Msg::ConversationSaved(result) => {
            if let Err(e) = result {
                state.set_status(StatusKind::Error, format!("conversation not saved: {e}"));
            }
            Vec::new()
        }
        Msg::Terminate => quit(state),
        Msg::Problem(text) => {
            state.set_status(StatusKind::Error, text);
            Vec::new()
        }
        Msg::Attached { path, result } => {
            attach::on_attached(state, path, result);
            Vec::new()
        }
        Msg::Listed { dir, entries } => {
            attach::on_listed(state, &dir, entries);
            Vec::new()
        }
    }
}

fn on_key(state: &mut State, key: KeyEvent, now: Instant) -> Vec<Effect> {
    let files = state
        .picker
        .as_ref()
        .is_some_and(|p| p.kind == super::picker::PickerKind::File);
    let mode = if files {
        KeyMode::Files
    } else if state.picker.is_some() {
        KeyMode::Picker
    } else if state.show_help {
        KeyMode::Help
    } else {
        state.mode.into()
    };
    let action = keymap::action(mode, &key, state.streaming());
    if action == Some(Action::Quit) {
        state.picker = None;
        state.show_help = false;
        return quit(state);
    }
    // A note on the last action does not outlive the next one ("already voted");
    // an error stays until something replaces it.
    if state
        .status
        .as_ref()
        .is_some_and(|s| s.kind != StatusKind::Error)
    {
        state.status = None;
    }
    match mode {
        KeyMode::Picker => pickers::picker_key(state, key, action, now),
        KeyMode::Files => attach::files_key(state, key, action),
        KeyMode::Help => {
            // Any key closes the help; Ctrl+C goes on to do what it does.
            state.show_help = false;
            action.map_or_else(Vec::new, |action| act(state, action, key, now))
        }
        KeyMode::Compose | KeyMode::Browse | KeyMode::Review => match action {
            Some(action) => act(state, action, key, now),
            None if mode == KeyMode::Compose => {
                state.input.input(key);
                Vec::new()
            }
            None => Vec::new(),
        },
    }
}

/// Does what a key bound to `action` asks (`key` itself for the few actions that
/// fall back to typing it).
fn act(state: &mut State, action: Action, key: KeyEvent, now: Instant) -> Vec<Effect> {
    match action {
        Action::Send => return compose::send(state, now),
        Action::NewLine => state.input.insert_newline(),
        Action::Stop => return stop(state, now),
        Action::Browse => state.mode = Mode::Browse,
        Action::Compose => state.mode = Mode::Compose,
        Action::ClearOrQuit => {
            // A long prompt is never lost to one key: the first press clears it (Up
            // brings it back), the next quits.
            if state.input_text().trim().is_empty() {
                return quit(state);
            }
            compose::clear_draft(state);
        }
        Action::Quit => return quit(state),
        Action::Vote(vote) if state.review.is_some() => return review::vote(state, vote),
        Action::Vote(vote) => return vote::vote(state, vote),
        Action::NextPair => return review::next(state),
        Action::PreviousPair => review::previous(state),
        Action::SkipPair => return review::skip(state),
        Action::FocusOther => state.focus = state.focus.other(),
        Action::FocusA => state.focus = Side::A,
        Action::FocusB => state.focus = Side::B,
        Action::LineUp => scroll::scroll_up(state, 1),
        Action::LineDown => scroll::scroll_down(state, 1),
        Action::PageUp => scroll::scroll_up(state, scroll::page_size(state)),
        Action::PageDown => scroll::scroll_down(state, scroll::page_size(state)),
        Action::Top => scroll::scroll_to(state, Scroll::Top(0)),
        Action::Bottom => scroll::scroll_to(state, Scroll::Follow),
        // Up and Down move in a prompt of several lines; past its first or last
        // line they bring back earlier prompts.
        Action::RecallOlder if state.input.cursor().0 == 0 => compose::recall_older(state),
        Action::RecallNewer if state.input.cursor().0 + 1 >= state.input.lines().len() => {
            compose::recall_newer(state)
        }
        Action::RecallOlder | Action::RecallNewer => {
            state.input.input(key);
        }
        Action::ModelPicker => pickers::open_model_picker(state),
        Action::ThemePicker => pickers::open_theme_picker(state),
        Action::NewConversation => return browse::new_conversation(state, now),
        Action::Regenerate => return browse::regenerate(state, now),
        Action::Swap => return browse::swap(state, now),
        Action::Copy => return browse::copy(state),
        Action::ToggleLayout => {
            state.layout = match state.layout {
                Layout::Columns => Layout::Rows,
                Layout::Rows => Layout::Columns,
            };
        }
        Action::ToggleBlind => browse::toggle_blind(state),
        Action::ToggleReasoning => state.expand_reasoning = !state.expand_reasoning,
        Action::ToggleSync => {
            state.sync_scroll = !state.sync_scroll;
            let on = if state.sync_scroll {
                "on: both panes scroll together"
            } else {
                "off"
            };
            state.set_status(StatusKind::Info, format!("sync scroll {on}"));
        }
        Action::Help => state.show_help = true,
        Action::AttachFile => return attach::open(state),
        Action::Detach => attach::detach(state, key),
        // The picker's and the path line's own keys act only while they are open.
        Action::PickerMoveUp
        | Action::PickerMoveDown
        | Action::PickerPageUp
        | Action::PickerPageDown
        | Action::PickerErase
        | Action::PickerPick
        | Action::PickerCancel
        | Action::FilesComplete
        | Action::FilesAttach => {}
    }
    Vec::new()
}

fn on_stream(
    state: &mut State,
    side: Side,
    generation: u64,
    event: StreamEvent,
    pieces: u64,
    now: Instant,
) -> Vec<Effect> {
    let Some(turn) = state.turns.last_mut() else {
        return Vec::new();
    };
    let answer = &mut turn.answers[side.index()];
    // Events from a stream that was stopped or replaced are stale.
    if answer.generation != generation || !answer.in_flight() {
        return Vec::new();
    }
    answer.apply(event, pieces, now);
    if turn.ended() {
        // "regenerating …" and the like are over.
        if state
            .status
            .as_ref()
            .is_some_and(|s| s.kind == StatusKind::Info)
        {
            state.status = None;
        }
        return vec![vote::save_conversation(state)];
    }
    Vec::new()
}

/// Stops every answer still in flight; what arrived so far stays.
pub(super) fn stop(state: &mut State, now: Instant) -> Vec<Effect> {
    let Some(turn) = state.turns.last_mut() else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    for side in Side::BOTH {
        let answer = &mut turn.answers[side.index()];
        if answer.in_flight() {
            answer.state = AnswerState::Stopped;
            answer.ended = Some(now);
            answer.version += 1;
            effects.push(Effect::Stop { side });
        }
    }
    if !effects.is_empty() {
        state.set_status(StatusKind::Info, "stopped");
        effects.push(vote::save_conversation(state));
    }
    effects
}

pub(super) fn quit(state: &mut State) -> Vec<Effect> {
    state.quit = true;
    let mut effects: Vec<Effect> = Side::BOTH
        .into_iter()
        .filter(|side| {
            state
                .turns
                .last()
                .is_some_and(|t| t.answer(*side).in_flight())
        })
        .map(|side| Effect::Stop { side })
        .collect();
    // Votes whose write failed get one more try before duel exits.
    effects.extend(vote::write_unsaved(state));
    effects
}
