//! What browse mode does to the conversation: regenerate, swap, copy, blind, new.

use std::time::Instant;

use super::compose::send_prompt;
use super::stop;
use crate::app::msg::Effect;
use crate::app::state::{Mode, SideState, State, StatusKind};
use duel_core::config::ModelSpec;
use duel_core::domain::Side;

/// `r`: the last turn again, on both sides, replacing it.
pub(super) fn regenerate(state: &mut State, now: Instant) -> Vec<Effect> {
    if state.streaming() {
        state.set_status(
            StatusKind::Warning,
            "still answering: Esc stops, then r regenerates",
        );
        return Vec::new();
    }
    let Some(turn) = state.turns.pop() else {
        state.set_status(StatusKind::Warning, "nothing to regenerate yet");
        return Vec::new();
    };
    // A new pair of answers to the same prompt, with a vote of its own; the pair it
    // replaces stays in the turn with its vote.
    let before = state.turns.len();
    let effects = send_prompt(state, turn.prompt.clone(), turn.attachments.clone(), now);
    let new = if state.turns.len() > before {
        state.turns.pop()
    } else {
        None
    };
    let Some(new) = new else {
        state.turns.push(turn);
        return effects;
    };
    let mut again = turn.regenerated(new.answers);
    again.time = new.time;
    let attempt = again.attempt;
    state.turns.push(again);
    state.set_status(
        StatusKind::Info,
        format!("regenerating the last turn on both sides: attempt {attempt}"),
    );
    effects
}

/// `s`: the two models change panes for the next prompt; each pane's history stays.
pub(super) fn swap(state: &mut State, now: Instant) -> Vec<Effect> {
    if state.streaming() {
        state.set_status(
            StatusKind::Warning,
            "still answering: Esc stops, then s swaps",
        );
        return Vec::new();
    }
    let [a, b] = [Side::A, Side::B].map(|s| state.side(s).model.clone());
    assign(state, Side::A, b, now);
    let effects = assign(state, Side::B, a, now);
    if !state.blind {
        state.set_status(
            StatusKind::Info,
            "swapped: A and B change models from the next prompt",
        );
    }
    effects
}

/// Puts `model` on `side` for the next prompt. In blind mode the pair changed, so a
/// new blind conversation starts (a coin deals the new pair).
pub(super) fn assign(state: &mut State, side: Side, model: ModelSpec, now: Instant) -> Vec<Effect> {
    *state.side_mut(side) = SideState::new(model);
    if state.blind {
        let effects = new_conversation(state, now);
        state.set_status(
            StatusKind::Info,
            "the models changed: a new blind conversation starts",
        );
        return effects;
    }
    Vec::new()
}

/// `y`: the focused pane's latest answer to the clipboard.
pub(super) fn copy(state: &mut State) -> Vec<Effect> {
    let text = state
        .turns
        .iter()
        .rev()
        .map(|t| &t.answer(state.focus).text)
        .find(|t| !t.is_empty());
    match text {
        Some(text) => {
            let chars = text.chars().count();
            let text = text.clone();
            state.set_status(
                StatusKind::Success,
                format!(
                    "copied {chars} characters of {}'s answer",
                    state.focus.label()
                ),
            );
            vec![Effect::Copy(text)]
        }
        None => {
            state.set_status(StatusKind::Warning, "nothing to copy in this pane yet");
            Vec::new()
        }
    }
}

/// `b`: blind mode for the next conversation; at once when this one has no turns yet.
pub(super) fn toggle_blind(state: &mut State) {
    if state.battle.is_some() {
        state.set_status(StatusKind::Warning, "a battle is always blind");
        return;
    }
    state.blind_next = !state.blind_next;
    let on = if state.blind_next { "on" } else { "off" };
    if state.turns.is_empty() {
        state.begin_conversation();
        state.set_status(StatusKind::Info, format!("blind mode {on}"));
    } else {
        state.set_status(
            StatusKind::Info,
            format!("blind mode {on} from the next conversation (n)"),
        );
    }
}

pub(super) fn new_conversation(state: &mut State, now: Instant) -> Vec<Effect> {
    let effects = if state.streaming() {
        stop(state, now)
    } else {
        Vec::new()
    };
    state.begin_conversation();
    state.mode = Mode::Compose;
    let text = if state.battle.is_some() {
        "new battle: two models drawn at random, names hidden until you vote"
    } else if state.blind {
        "new blind conversation: names hidden until you vote"
    } else {
        "new conversation"
    };
    state.set_status(StatusKind::Info, text);
    effects
}
