//! The pure heart of the app: `update(state, msg, now) -> effects`. No IO happens
//! here; the run loop carries out the effects and feeds their results back as `Msg`s.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};
use ratatui_textarea::CursorMove;
use uuid::Uuid;

use super::msg::{Effect, Msg};
use super::picker::{Picker, PickerItem, PickerKind};
use super::state::{Mode, Scroll, SideState, State, StatusKind, new_input};
use crate::config::{KeyStatus, Layout, ModelSpec};
use crate::conversation::{ConversationFile, TurnRecord};
use crate::domain::{Answer, AnswerState, Message, Role, Side, StreamEvent, Turn, Vote};
use crate::provider::ChatRequest;
use crate::votes::record::{SCHEMA, timestamp};
use crate::votes::{SideRecord, VoteRecord};

/// Lines a mouse wheel notch scrolls.
const WHEEL_LINES: usize = 3;

pub fn update(state: &mut State, msg: Msg, now: Instant) -> Vec<Effect> {
    state.now = now;
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => on_key(state, key, now),
        Msg::Key(_) | Msg::Tick => Vec::new(),
        Msg::Paste(text) => {
            if state.mode == Mode::Browse {
                state.mode = Mode::Compose;
            }
            // Pasted text is typed as-is, newlines included: it never sends.
            state
                .input
                .insert_str(text.replace("\r\n", "\n").replace('\r', "\n"));
            Vec::new()
        }
        Msg::Mouse(mouse) => {
            // The wheel scrolls the pane under the pointer, which also takes the focus.
            let (w, h) = state.size;
            let areas = crate::ui::draw::areas(
                ratatui::layout::Rect::new(0, 0, w, h),
                state.layout,
                state.input.lines().len(),
            );
            let at = ratatui::layout::Position::new(mouse.column, mouse.row);
            if let Some(side) = Side::BOTH
                .into_iter()
                .find(|s| areas.panes[s.index()].contains(at))
            {
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
            Vec::new()
        }
        Msg::Resize(w, h) => {
            state.size = (w, h);
            Vec::new()
        }
        Msg::Stream {
            side,
            generation,
            event,
            pieces,
        } => on_stream(state, side, generation, event, pieces, now),
        Msg::VotesSaved { ids, result } => on_votes_saved(state, &ids, result),
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
    }
}

fn on_votes_saved(state: &mut State, ids: &[Uuid], result: Result<(), String>) -> Vec<Effect> {
    state.writing.retain(|id| !ids.contains(id));
    match result {
        Ok(()) => {
            state.unsaved.retain(|r| !ids.contains(&r.id));
            let latest = state
                .turns
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, t)| t.vote.map(|v| (i, v)));
            if let Some((index, vote)) = latest {
                // The demo's votes go to a log of their own: say which.
                let log = if state.demo() {
                    format!(" to {}", state.votes_file)
                } else {
                    String::new()
                };
                let mut text = format!(
                    "✓ vote saved{log}: {} (turn {})",
                    vote.describe(),
                    index + 1
                );
                if state.blind {
                    let names = state.turns[index]
                        .answers
                        .each_ref()
                        .map(|a| a.model.name.as_str());
                    text.push_str(&format!(" — A was {}, B was {}", names[0], names[1]));
                }
                state.set_status(StatusKind::Success, text);
            }
            vec![save_conversation(state)]
        }
        Err(e) => {
            // Cast but not on disk: kept, and written with the next vote or at quit.
            let pending = state.unsaved.len();
            state.set_status(
                StatusKind::Error,
                format!("vote NOT saved yet ({pending} kept in memory, retried with the next vote and at quit): {e}"),
            );
            Vec::new()
        }
    }
}

fn on_key(state: &mut State, key: KeyEvent, now: Instant) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    if ctrl && key.code == KeyCode::Char('q') {
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

    if state.picker.is_some() {
        return picker_key(state, key, now);
    }
    if state.show_help {
        // Any key closes the help; the quit keys still quit.
        state.show_help = false;
        if !(ctrl && matches!(key.code, KeyCode::Char('q' | 'c'))) {
            return Vec::new();
        }
    }

    // Keys that mean the same in both modes.
    match key.code {
        KeyCode::Char('q') if ctrl => return quit(state),
        KeyCode::Char('c') if ctrl => {
            return if state.streaming() {
                stop(state, now)
            } else if !state.input_text().trim().is_empty() {
                // A long prompt is never lost to one key: the first press clears it
                // (Up brings it back), the next quits.
                clear_draft(state);
                Vec::new()
            } else {
                quit(state)
            };
        }
        KeyCode::Char('n') if ctrl => return new_conversation(state, now),
        KeyCode::Char(c @ '1'..='4') if alt => return vote(state, c),
        KeyCode::F(1) => {
            state.show_help = true;
            return Vec::new();
        }
        KeyCode::Tab | KeyCode::BackTab => {
            state.focus = state.focus.other();
            return Vec::new();
        }
        KeyCode::PageUp => {
            let page = page_size(state);
            scroll_up(state, page);
            return Vec::new();
        }
        KeyCode::PageDown => {
            let page = page_size(state);
            scroll_down(state, page);
            return Vec::new();
        }
        _ => {}
    }

    match state.mode {
        Mode::Compose => compose_key(state, key, now),
        Mode::Browse => browse_key(state, key, now),
    }
}

fn compose_key(state: &mut State, key: KeyEvent, now: Instant) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    match key.code {
        KeyCode::Enter if alt || shift => state.input.insert_newline(),
        KeyCode::Char('j') if ctrl => state.input.insert_newline(),
        KeyCode::Char('p') if ctrl => open_model_picker(state),
        KeyCode::Enter => return send(state, now),
        KeyCode::Esc => {
            if state.streaming() {
                return stop(state, now);
            }
            state.mode = Mode::Browse;
        }
        KeyCode::Up if state.input.cursor().0 == 0 => recall_older(state),
        KeyCode::Down if state.input.cursor().0 + 1 >= state.input.lines().len() => {
            recall_newer(state)
        }
        _ => {
            state.input.input(key);
        }
    }
    Vec::new()
}

fn browse_key(state: &mut State, key: KeyEvent, now: Instant) -> Vec<Effect> {
    match key.code {
        KeyCode::Enter | KeyCode::Esc | KeyCode::Char('i') => state.mode = Mode::Compose,
        KeyCode::Char('q') => return quit(state),
        KeyCode::Char('n') => return new_conversation(state, now),
        KeyCode::Char(c @ '1'..='4') => return vote(state, c),
        KeyCode::Char('?') => state.show_help = true,
        KeyCode::Char('b') => toggle_blind(state),
        KeyCode::Char('r') => return regenerate(state, now),
        KeyCode::Char('s') => return swap(state, now),
        KeyCode::Char('L') => {
            state.layout = match state.layout {
                Layout::Columns => Layout::Rows,
                Layout::Rows => Layout::Columns,
            };
        }
        KeyCode::Char('y') => return copy(state),
        KeyCode::Char('m') => open_model_picker(state),
        KeyCode::Char('t') => open_theme_picker(state),
        KeyCode::Char('e') => {
            state.expand_reasoning = !state.expand_reasoning;
        }
        KeyCode::Char('h') | KeyCode::Left => state.focus = Side::A,
        KeyCode::Char('l') | KeyCode::Right => state.focus = Side::B,
        KeyCode::Char('k') | KeyCode::Up => scroll_up(state, 1),
        KeyCode::Char('j') | KeyCode::Down => scroll_down(state, 1),
        KeyCode::Char('g') | KeyCode::Home => scroll_to(state, Scroll::Top(0)),
        KeyCode::Char('G') | KeyCode::End => scroll_to(state, Scroll::Follow),
        KeyCode::Char('S') => {
            state.sync_scroll = !state.sync_scroll;
            let on = if state.sync_scroll {
                "on: both panes scroll together"
            } else {
                "off"
            };
            state.set_status(StatusKind::Info, format!("sync scroll {on}"));
        }
        _ => {}
    }
    Vec::new()
}

/// `r`: the last turn again, on both sides, replacing it.
fn regenerate(state: &mut State, now: Instant) -> Vec<Effect> {
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
    // A new pair of answers to the same prompt: its own vote, apart from the last's.
    let effects = send_prompt(state, turn.prompt, now);
    if let Some(new) = state.turns.last_mut() {
        new.attempt = turn.attempt + 1;
    }
    state.set_status(StatusKind::Info, "regenerating the last turn on both sides");
    effects
}

/// `s`: the two models change panes for the next prompt; each pane's history stays.
fn swap(state: &mut State, now: Instant) -> Vec<Effect> {
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
fn assign(state: &mut State, side: Side, model: ModelSpec, now: Instant) -> Vec<Effect> {
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
fn copy(state: &mut State) -> Vec<Effect> {
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

fn open_model_picker(state: &mut State) {
    let items = state
        .models
        .iter()
        .map(|m| PickerItem {
            name: m.name.clone(),
            detail: format!("{} · {}", m.provider, m.model_id),
            warning: match m.endpoint.key_status() {
                KeyStatus::Missing(vars) => Some(format!("set {}", vars.join(" and "))),
                _ => None,
            },
        })
        .collect();
    // In blind mode the picker must not tell which model a pane holds.
    let current = if state.names_hidden() {
        String::new()
    } else {
        state.side(state.focus).model.name.clone()
    };
    state.picker = Some(Picker::new(PickerKind::Model, items, &current));
}

fn open_theme_picker(state: &mut State) {
    let items = state
        .themes
        .iter()
        .map(|name| PickerItem {
            name: name.clone(),
            detail: String::new(),
            warning: None,
        })
        .collect();
    state.picker = Some(Picker::new(PickerKind::Theme, items, &state.theme));
}

/// Keys while a picker is open: type to filter, arrows to move, Enter picks, Esc cancels.
fn picker_key(state: &mut State, key: KeyEvent, now: Instant) -> Vec<Effect> {
    let Some(picker) = state.picker.as_mut() else {
        return Vec::new();
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => {
            let picker = state.picker.take();
            if let Some(p) = picker.filter(|p| p.kind == PickerKind::Theme) {
                state.theme = p.original.clone();
                return vec![Effect::SetTheme(p.original)];
            }
            return Vec::new();
        }
        KeyCode::Char('c' | 'q') if ctrl => {
            state.picker = None;
            return quit(state);
        }
        KeyCode::Enter => {
            let chosen = picker.current().map(|i| i.name.clone());
            let kind = picker.kind;
            state.picker = None;
            let Some(name) = chosen else {
                return Vec::new();
            };
            return match kind {
                PickerKind::Model => pick_model(state, &name, now),
                PickerKind::Theme => {
                    state.set_status(StatusKind::Info, format!("theme: {name}"));
                    Vec::new()
                }
            };
        }
        KeyCode::Up => picker.move_by(-1),
        KeyCode::Down | KeyCode::Tab => picker.move_by(1),
        KeyCode::Char('p') if ctrl => picker.move_by(-1),
        KeyCode::Char('n') if ctrl => picker.move_by(1),
        KeyCode::PageUp => picker.move_by(-10),
        KeyCode::PageDown => picker.move_by(10),
        KeyCode::Backspace => picker.backspace(),
        KeyCode::Char(c) if !ctrl => picker.type_char(c),
        _ => {}
    }
    // Moving through themes previews each one.
    match (
        &state.picker,
        state.picker.as_ref().and_then(Picker::current),
    ) {
        (Some(p), Some(item)) if p.kind == PickerKind::Theme && item.name != state.theme => {
            state.theme = item.name.clone();
            vec![Effect::SetTheme(item.name.clone())]
        }
        _ => Vec::new(),
    }
}

fn pick_model(state: &mut State, name: &str, now: Instant) -> Vec<Effect> {
    let Some(model) = state.models.iter().find(|m| m.name == name).cloned() else {
        return Vec::new();
    };
    if state.streaming() {
        state.set_status(
            StatusKind::Warning,
            "still answering: Esc stops, then pick a model",
        );
        return Vec::new();
    }
    let side = state.focus;
    let effects = assign(state, side, model, now);
    if !state.blind {
        state.set_status(
            StatusKind::Info,
            format!("{}: {name} answers from the next prompt on", side.label()),
        );
    }
    effects
}

/// `b`: blind mode for the next conversation; at once when this one has no turns yet.
fn toggle_blind(state: &mut State) {
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

/// Sends the input to both sides at the same moment.
fn send(state: &mut State, now: Instant) -> Vec<Effect> {
    let prompt = state.input_text().trim_end().to_owned();
    if prompt.trim().is_empty() {
        return Vec::new();
    }
    let effects = send_prompt(state, prompt, now);
    if !effects.is_empty() {
        state.recall = None;
        state.input = new_input();
    }
    effects
}

/// Starts a turn: `prompt` goes to both sides at the same moment.
fn send_prompt(state: &mut State, prompt: String, now: Instant) -> Vec<Effect> {
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
        messages.push(Message::new(Role::User, prompt.clone()));
        let request = ChatRequest::for_model(&spec, messages);
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
    state.turns.push(Turn {
        prompt: prompt.clone(),
        attempt: 1,
        time: state.wall_time(),
        answers,
        vote: None,
    });
    if state.prompt_history.last() != Some(&prompt) {
        state.prompt_history.push(prompt);
    }
    state.status = None;
    for side in &mut state.sides {
        side.scroll = Scroll::Follow;
    }
    effects
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
        return vec![save_conversation(state)];
    }
    Vec::new()
}

/// Stops every answer still in flight; what arrived so far stays.
fn stop(state: &mut State, now: Instant) -> Vec<Effect> {
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
        effects.push(save_conversation(state));
    }
    effects
}

fn clear_draft(state: &mut State) {
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

fn quit(state: &mut State) -> Vec<Effect> {
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
    effects.extend(write_unsaved(state));
    effects
}

fn new_conversation(state: &mut State, now: Instant) -> Vec<Effect> {
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

/// Casts a vote on the latest turn whose answers have both ended.
fn vote(state: &mut State, key: char) -> Vec<Effect> {
    let Some(vote) = Vote::from_digit(key) else {
        return Vec::new();
    };
    let Some(index) = state.votable_turn() else {
        let text = if state.turns.is_empty() {
            "nothing to vote on yet: send a prompt first"
        } else {
            "wait until both answers have ended to vote"
        };
        state.set_status(StatusKind::Warning, text);
        return Vec::new();
    };
    if state.turns[index].vote.is_some() {
        state.set_status(
            StatusKind::Warning,
            format!("already voted on turn {}", index + 1),
        );
        return Vec::new();
    }
    let [a, b] = Side::BOTH.map(|side| {
        let history = state.sent_before(index, side);
        SideRecord::of(state.turns[index].answer(side), Some(history))
    });
    let record = VoteRecord {
        schema: SCHEMA,
        id: state.fresh_id(),
        time: timestamp(state.wall_time()),
        conversation: state.conversation,
        turn: turn_number(index),
        attempt: state.turns[index].attempt,
        vote,
        blind: state.names_hidden(),
        judge: state.judge.clone(),
        prompt: state.turns[index].prompt.clone(),
        a,
        b,
    };
    state.turns[index].vote = Some(vote);
    // The vote reveals a blind conversation's names.
    state.revealed = true;
    state.set_status(
        StatusKind::Info,
        format!("saving vote: {}…", vote.describe()),
    );
    // Earlier votes whose write failed go along in the same write.
    state.unsaved.push(record);
    write_unsaved(state).into_iter().collect()
}

/// One write for every cast vote not on disk and not already being written.
fn write_unsaved(state: &mut State) -> Option<Effect> {
    let records: Vec<VoteRecord> = state
        .unsaved
        .iter()
        .filter(|r| !state.writing.contains(&r.id))
        .cloned()
        .collect();
    if records.is_empty() {
        return None;
    }
    state.writing.extend(records.iter().map(|r| r.id));
    Some(Effect::SaveVotes(records))
}

fn turn_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

fn save_conversation(state: &State) -> Effect {
    let turns = state
        .turns
        .iter()
        .enumerate()
        .map(|(i, turn)| TurnRecord {
            turn: turn_number(i),
            attempt: turn.attempt,
            time: timestamp(turn.time),
            prompt: turn.prompt.clone(),
            vote: turn.vote,
            a: SideRecord::of(turn.answer(Side::A), None),
            b: SideRecord::of(turn.answer(Side::B), None),
        })
        .collect();
    Effect::SaveConversation(Box::new(ConversationFile {
        schema: SCHEMA,
        id: state.conversation,
        created: timestamp(state.created),
        updated: timestamp(state.wall_time()),
        blind: state.blind,
        turns,
    }))
}

fn page_size(state: &State) -> usize {
    state
        .side(state.focus)
        .viewport
        .height
        .saturating_sub(2)
        .max(1)
}

/// The panes a scroll key moves: the focused one, or both when scrolling is synced.
fn scrolled_sides(state: &State) -> Vec<Side> {
    if state.sync_scroll {
        Side::BOTH.to_vec()
    } else {
        vec![state.focus]
    }
}

fn scroll_up(state: &mut State, lines: usize) {
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

fn scroll_down(state: &mut State, lines: usize) {
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

fn scroll_to(state: &mut State, scroll: Scroll) {
    for side in scrolled_sides(state) {
        state.side_mut(side).scroll = scroll;
    }
}

fn recall_older(state: &mut State) {
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

fn recall_newer(state: &mut State) {
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

fn set_input(state: &mut State, text: String) {
    state.input = new_input();
    state.input.insert_str(text);
    state.input.move_cursor(CursorMove::Bottom);
    state.input.move_cursor(CursorMove::End);
}
