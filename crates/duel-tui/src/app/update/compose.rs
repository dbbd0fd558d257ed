//! Compose mode: the input, sending a prompt, and recalling earlier ones.

use std::time::Instant;

use ratatui_textarea::CursorMove;

use crate::app::msg::Effect;
use crate::app::state::{Mode, Scroll, State, StatusKind, new_input};
use duel_core::attachment::{Attachment, Store};
use duel_core::domain::{Answer, Message, Role, Side, Turn};
use duel_core::request::ChatRequest;

/// Pasted text is typed as-is, newlines included: it never sends.
pub(super) fn paste(state: &mut State, text: &str) {
    if state.mode == Mode::Browse {
        state.mode = Mode::Compose;
    }
    state
        .input
        .insert_str(text.replace("\r\n", "\n").replace('\r', "\n"));
}

/// Sends the input to both sides at the same moment.
pub(super) fn send(state: &mut State, now: Instant) -> Vec<Effect> {
    let prompt = state.input_text().trim_end().to_owned();
    if prompt.trim().is_empty() {
        return Vec::new();
    }
    let attached = state.attached.clone();
    let effects = send_prompt(state, prompt, attached, now);
    if !effects.is_empty() {
        state.recall = None;
        state.input = new_input();
        state.attached.clear();
    }
    effects
}

/// Starts a turn: `prompt`, with the files `attached`, goes to both sides at the same
/// moment.
pub(super) fn send_prompt(
    state: &mut State,
    prompt: String,
    attached: Vec<Attachment>,
    now: Instant,
) -> Vec<Effect> {
    if state.streaming() {
        state.set_status(
            StatusKind::Warning,
            "still answering: wait for both, or press Esc to stop them",
        );
        return Vec::new();
    }
    let mut effects = Vec::with_capacity(2);
    let answers = Side::BOTH.map(|side| {
        let spec = state.side(side).model.clone();
        let mut messages = state.history(side);
        messages.push(Message::new(Role::User, prompt.clone()).with_attachments(attached.clone()));
        let request =
            ChatRequest::for_model(&spec, messages).with_files(Store::new(&state.data_dir));
        let generation = state.next_generation;
        state.next_generation += 1;
        let answer = Answer::new(spec.model_ref(), generation, now);
        effects.push(Effect::Start {
            side,
            generation,
            model: Box::new(spec),
            request: Box::new(request),
        });
        answer
    });
    state
        .turns
        .push(Turn::new(prompt.clone(), state.wall_time(), answers).with_attachments(attached));
    if state.prompt_history.last() != Some(&prompt) {
        state.prompt_history.push(prompt);
    }
    state.status = None;
    for side in &mut state.sides {
        side.scroll = Scroll::Follow;
    }
    effects
}

pub(super) fn clear_draft(state: &mut State) {
    let draft = state.input_text();
    if state.prompt_history.last() != Some(&draft) {
        state.prompt_history.push(draft);
    }
    state.input = new_input();
    state.recall = None;
    state.set_status(
        StatusKind::Info,
        "draft cleared (Up brings it back) · Ctrl+C again quits",
    );
}

pub(super) fn recall_older(state: &mut State) {
    let Some(last) = state.prompt_history.len().checked_sub(1) else {
        return;
    };
    let index = match &state.recall {
        None => {
            state.recall = Some((last, state.input_text()));
            last
        }
        Some((0, _)) => return,
        Some((i, _)) => i - 1,
    };
    if let Some((i, _)) = &mut state.recall {
        *i = index;
    }
    set_input(state, state.prompt_history[index].clone());
}

pub(super) fn recall_newer(state: &mut State) {
    let Some((index, draft)) = state.recall.clone() else {
        return;
    };
    if index + 1 < state.prompt_history.len() {
        state.recall = Some((index + 1, draft));
        set_input(state, state.prompt_history[index + 1].clone());
    } else {
        state.recall = None;
        set_input(state, draft);
    }
}

pub(super) fn set_input(state: &mut State, text: String) {
    state.input = new_input();
    state.input.insert_str(text);
    state.input.move_cursor(CursorMove::Bottom);
    state.input.move_cursor(CursorMove::End);
}
