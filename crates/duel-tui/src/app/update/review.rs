//! `duel review`: voting on the pair shown, and moving through the queue.

use uuid::Uuid;

use super::vote::write_unsaved;
use crate::app::msg::Effect;
use crate::app::review_session::Mark;
use crate::app::state::{State, StatusKind};
use duel_core::domain::Vote;
use duel_core::votes::Ballot;

/// Casts a vote on the pair shown. It is confirmed, and the names revealed, only once
/// the record is on disk.
pub(super) fn vote(state: &mut State, vote: Vote) -> Vec<Effect> {
    let stamp = super::vote::stamp(state);
    let judge = state.judge.clone();
    let Some(review) = &mut state.review else {
        return Vec::new();
    };
    let cursor = review.cursor;
    let Some(entry) = review.queue.entries.get(cursor) else {
        return Vec::new();
    };
    match review.marks[cursor] {
        Mark::Voted(_) => {
            state.set_status(StatusKind::Warning, "already voted on this pair · n: next");
            return Vec::new();
        }
        Mark::Saving { .. } => {
            state.set_status(
                StatusKind::Warning,
                "already voted on this pair (not on disk yet)",
            );
            return Vec::new();
        }
        Mark::Open | Mark::Skipped => {}
    }
    let record = Ballot::run_pair(
        entry.conversation,
        &review.queue.run,
        entry.item.run_item(),
        entry.shown.clone(),
    )
    .cast(vote, &judge, stamp);
    review.marks[cursor] = Mark::Saving {
        vote,
        record: record.id,
    };
    state.set_status(
        StatusKind::Info,
        format!("saving vote: {}…", vote.describe()),
    );
    // Earlier votes whose write failed go along in the same write.
    state.unsaved.push(record);
    write_unsaved(state).into_iter().collect()
}

/// Records reached the disk (or did not): the pairs they judged count as voted, and
/// the one shown reveals its names.
pub(super) fn on_votes_saved(
    state: &mut State,
    ids: &[Uuid],
    result: Result<(), String>,
) -> Vec<Effect> {
    state.writing.retain(|id| !ids.contains(id));
    if let Err(e) = result {
        super::vote::not_saved(state, &e);
        return Vec::new();
    }
    state.unsaved.retain(|r| !ids.contains(&r.id));
    let Some(review) = &mut state.review else {
        return Vec::new();
    };
    let mut shown = None;
    for (i, mark) in review.marks.iter_mut().enumerate() {
        if let Mark::Saving { vote, record } = *mark
            && ids.contains(&record)
        {
            *mark = Mark::Voted(vote);
            if i == review.cursor {
                shown = Some(vote);
            }
        }
    }
    let Some(vote) = shown else {
        return Vec::new();
    };
    let left = review.left();
    let run = review.queue.run.clone();
    if let Some(turn) = state.turns.first_mut() {
        turn.vote = Some(vote);
    }
    state.revealed = true;
    let names = state.sides.each_ref().map(|s| s.model.name.clone());
    let next = if left == 0 {
        format!("every pair of run {run} has your vote · q quits")
    } else {
        "n next".to_owned()
    };
    state.set_status(
        StatusKind::Success,
        format!(
            "✓ vote saved: {} — A was {}, B was {} · {next}",
            vote.describe(),
            names[0],
            names[1]
        ),
    );
    Vec::new()
}

/// `n`, Enter: on to the next pair without a vote, coming round to the skipped ones.
pub(super) fn next(state: &mut State) {
    let Some(review) = &mut state.review else {
        return;
    };
    let count = review.marks.len();
    let cursor = review.cursor;
    let found = (1..count)
        .map(|step| (cursor + step) % count)
        .find(|&i| review.marks[i].open());
    match found {
        Some(i) => {
            review.cursor = i;
            if i < cursor {
                let skipped = review.skipped();
                state.set_status(
                    StatusKind::Info,
                    format!("round again: the pairs still without your vote ({skipped} skipped)"),
                );
            }
            state.show_pair();
        }
        None if review.mark().open() => {
            state.set_status(StatusKind::Info, "this is the last pair without your vote");
        }
        None => {
            let run = review.queue.run.clone();
            state.set_status(
                StatusKind::Success,
                format!("every pair of run {run} has your vote · q quits"),
            );
        }
    }
}

/// `p`: back to the pair before, voted or not.
pub(super) fn previous(state: &mut State) {
    let Some(review) = &mut state.review else {
        return;
    };
    if review.cursor == 0 {
        state.set_status(StatusKind::Info, "this is the first pair of the queue");
        return;
    }
    review.cursor -= 1;
    state.show_pair();
}

/// `x`: passes the pair for now (it comes back), and goes on.
pub(super) fn skip(state: &mut State) {
    let Some(review) = &mut state.review else {
        return;
    };
    let cursor = review.cursor;
    if !review.mark().open() {
        state.set_status(StatusKind::Warning, "already voted on this pair · n: next");
        return;
    }
    review.marks[cursor] = Mark::Skipped;
    next(state);
    if state.review.as_ref().is_some_and(|r| r.cursor == cursor) {
        state.set_status(
            StatusKind::Info,
            "skipped; it is the only pair left without your vote",
        );
    } else if state.status.is_none() {
        state.set_status(
            StatusKind::Info,
            "skipped: it comes back when the queue comes round",
        );
    }
}
