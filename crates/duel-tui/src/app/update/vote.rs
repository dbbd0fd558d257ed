//! Votes: casting one, writing every cast vote to disk, and saving the conversation.

use uuid::Uuid;

use crate::app::msg::Effect;
use crate::app::state::{State, StatusKind};
use duel_core::conversation::{AttemptRecord, ConversationFile, TurnRecord};
use duel_core::domain::{Side, Vote};
use duel_core::store::Kept;
use duel_core::votes::record::{SCHEMA, timestamp};
use duel_core::votes::{Ballot, SideRecord, Stamp, VoteRecord};

/// Casts a vote on the latest turn whose answers have both ended.
pub(super) fn vote(state: &mut State, vote: Vote) -> Vec<Effect> {
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
            format!(
                "already voted on {}",
                which(turn_number(index), state.turns[index].attempt)
            ),
        );
        return Vec::new();
    }
    let [a, b] = Side::BOTH.map(|side| {
        let history = state.sent_before(index, side);
        SideRecord::of(state.turns[index].answer(side), Some(history))
    });
    let stamp = stamp(state);
    let turn = &state.turns[index];
    let record = Ballot::turn(
        state.conversation,
        turn_number(index),
        turn.attempt,
        &turn.prompt,
        [a, b],
    )
    .attachments(turn.attachments.clone())
    .blind(state.names_hidden())
    .cast(vote, &state.judge, stamp);
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

/// A new record's id and time, from the state's ids and clock.
pub(super) fn stamp(state: &mut State) -> Stamp {
    Stamp {
        id: state.fresh_id(),
        at: state.wall_time(),
    }
}

/// One write for every cast vote not on disk and not already being written.
pub(super) fn write_unsaved(state: &mut State) -> Option<Effect> {
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

pub(super) fn on_votes_saved(
    state: &mut State,
    ids: &[Uuid],
    result: Result<Kept, String>,
) -> Vec<Effect> {
    state.writing.retain(|id| !ids.contains(id));
    match result {
        Ok(kept) => {
            // The status tells of the latest vote of this write: its turn, its attempt.
            let latest = state
                .unsaved
                .iter()
                .rev()
                .find(|r| ids.contains(&r.id))
                .map(|r| {
                    (
                        r.vote,
                        r.turn,
                        r.attempt,
                        [r.a.model.clone(), r.b.model.clone()],
                    )
                });
            state.unsaved.retain(|r| !ids.contains(&r.id));
            if let Some((vote, turn, attempt, names)) = latest {
                // The demo's votes go to a log of their own: say which.
                let log = if state.demo() {
                    format!(" to {}", state.votes_file)
                } else {
                    String::new()
                };
                let mut text = format!(
                    "✓ vote saved{log}: {} ({})",
                    vote.describe(),
                    which(turn, attempt)
                );
                if state.blind {
                    text.push_str(&format!(" — A was {}, B was {}", names[0], names[1]));
                }
                state.set_status(StatusKind::Success, text);
                kept_locally(state, &kept, ids.len());
            }
            vec![save_conversation(state)]
        }
        Err(e) => {
            not_saved(state, &e);
            Vec::new()
        }
    }
}

/// A vote the store could not take is safe in the local log: the status says so, and
/// what sends it on.
pub(super) fn kept_locally(state: &mut State, kept: &Kept, votes: usize) {
    if let Kept::Local(why) = kept {
        state.kept_locally += votes;
        state.set_status(
            StatusKind::Warning,
            format!(
                "vote saved to the local log, NOT in the store ({why}); `duel store push` sends it later"
            ),
        );
    }
}

/// Cast but not on disk: kept, and written with the next vote or at quit.
pub(super) fn not_saved(state: &mut State, error: &str) {
    let pending = state.unsaved.len();
    state.set_status(
        StatusKind::Error,
        format!("vote NOT saved yet ({pending} kept in memory, retried with the next vote and at quit): {error}"),
    );
}

/// A turn's pair of answers as the status names it: "turn 2", "turn 2, attempt 3".
fn which(turn: u32, attempt: u32) -> String {
    if attempt > 1 {
        format!("turn {turn}, attempt {attempt}")
    } else {
        format!("turn {turn}")
    }
}

pub(super) fn turn_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

pub(super) fn save_conversation(state: &State) -> Effect {
    let turns = state
        .turns
        .iter()
        .enumerate()
        .map(|(i, turn)| TurnRecord {
            turn: turn_number(i),
            attempt: turn.attempt,
            time: timestamp(turn.time),
            prompt: turn.prompt.clone(),
            attachments: turn.attachments.clone(),
            vote: turn.vote,
            a: SideRecord::of(turn.answer(Side::A), None),
            b: SideRecord::of(turn.answer(Side::B), None),
            earlier: turn
                .earlier
                .iter()
                .map(|earlier| AttemptRecord {
                    attempt: earlier.attempt,
                    vote: earlier.vote,
                    a: SideRecord::of(&earlier.answers[0], None),
                    b: SideRecord::of(&earlier.answers[1], None),
                })
                .collect(),
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
