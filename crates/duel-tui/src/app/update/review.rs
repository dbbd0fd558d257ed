//! `duel review`: voting on the pair shown, and moving through the queue.

use uuid::Uuid;

use super::vote::write_unsaved;
use crate::app::msg::Effect;
use crate::app::review_session::Mark;
use crate::app::state::{State, StatusKind};
use duel_core::domain::Vote;
use duel_core::store::Kept;
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
    result: Result<Kept, String>,
) -> Vec<Effect> {
    state.writing.retain(|id| !ids.contains(id));
    let kept = match result {
        Ok(kept) => kept,
        Err(e) => {
            super::vote::not_saved(state, &e);
            return Vec::new();
        }
    };
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
    if let Some(team) = &mut review.team {
        // The vote's commit ended the lease; the next pair comes from the store.
        team.holding = false;
        team.progress.left = (team.progress.left - 1).max(0);
    }
    let all_voted = review.team.is_none() && review.left() == 0;
    let run = review.queue.run.clone();
    if let Some(turn) = state.turns.first_mut() {
        turn.vote = Some(vote);
    }
    state.revealed = true;
    let names = state.sides.each_ref().map(|s| s.model.name.clone());
    let next = if all_voted {
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
    super::vote::kept_locally(state, &kept, ids.len());
    Vec::new()
}

/// A team review asks the store for its next pair; the one shown, if still held and
/// not voted, is given back first (`skip`).
fn ask_for_pair(state: &mut State, give_back: bool) -> Vec<Effect> {
    let judge = state.judge.clone();
    let Some(review) = &mut state.review else {
        return Vec::new();
    };
    let run = review.queue.run.clone();
    let current = review.current_pair();
    let open = review.mark().open();
    let Some(team) = &mut review.team else {
        return Vec::new();
    };
    if team.asking {
        return Vec::new();
    }
    let mut effects = Vec::new();
    if give_back && open && team.holding {
        if let Some(pair) = current {
            team.passed.push(pair.clone());
            effects.push(Effect::Release {
                run: run.clone(),
                pair,
                judge: judge.clone(),
            });
        }
        team.holding = false;
    }
    team.asking = true;
    effects.push(Effect::Lease {
        run,
        judge,
        passed: team.passed.clone(),
    });
    state.set_status(StatusKind::Info, "asking the store for the next pair…");
    effects
}

/// The store's answer to a lease: the pair to show, or why there is none.
pub(super) fn on_leased(
    state: &mut State,
    result: Result<(Option<String>, duel_core::store::TeamProgress), String>,
) -> Vec<Effect> {
    let Some(review) = &mut state.review else {
        return Vec::new();
    };
    let Some(team) = &mut review.team else {
        return Vec::new();
    };
    team.asking = false;
    match result {
        Err(e) => state.set_status(StatusKind::Error, format!("the store: {e} · n asks again")),
        Ok((None, progress)) => {
            let others = if progress.others.is_empty() {
                String::new()
            } else {
                format!(", held by {}", progress.others.join(", "))
            };
            let left = usize::try_from(progress.left).unwrap_or(0);
            let text = format!(
                "no pair is free for you now ({} left for the team{others}) · n asks again · q quits",
                duel_core::text::count(left, "vote", "votes")
            );
            team.progress = progress;
            state.set_status(StatusKind::Info, text);
        }
        Ok((Some(pair), progress)) => {
            team.progress = progress;
            let entry = review.entry_of(&pair);
            match entry {
                Some(i) => {
                    if let Some(team) = &mut review.team {
                        team.holding = true;
                    }
                    review.cursor = i;
                    state.show_pair();
                    state.set_status(
                        StatusKind::Info,
                        "this pair is yours until you vote or skip",
                    );
                }
                None => {
                    // A pair whose answers this machine has not got: give it back.
                    let run = review.queue.run.clone();
                    let judge = state.judge.clone();
                    if let Some(team) = &mut review.team {
                        team.passed.push(pair.clone());
                    }
                    state.set_status(
                        StatusKind::Warning,
                        "the store offered a pair this machine lacks the answers of · n asks again",
                    );
                    return vec![Effect::Release { run, pair, judge }];
                }
            }
        }
    }
    Vec::new()
}

/// `n`, Enter: on to the next pair without a vote, coming round to the skipped ones;
/// in a team review, the next pair the store leases.
pub(super) fn next(state: &mut State) -> Vec<Effect> {
    if state.review.as_ref().is_some_and(|r| r.team.is_some()) {
        return ask_for_pair(state, false);
    }
    let Some(review) = &mut state.review else {
        return Vec::new();
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
    Vec::new()
}

/// `p`: back to the pair before, voted or not (not in a team review, where each pair
/// shown is one the store leased).
pub(super) fn previous(state: &mut State) {
    let Some(review) = &mut state.review else {
        return;
    };
    if review.team.is_some() {
        state.set_status(
            StatusKind::Info,
            "a team review goes forward, a leased pair at a time · n next",
        );
        return;
    }
    if review.cursor == 0 {
        state.set_status(StatusKind::Info, "this is the first pair of the queue");
        return;
    }
    review.cursor -= 1;
    state.show_pair();
}

/// `x`: passes the pair for now (it comes back; in a team review it goes back to the
/// store for others), and goes on.
pub(super) fn skip(state: &mut State) -> Vec<Effect> {
    let Some(review) = &mut state.review else {
        return Vec::new();
    };
    let cursor = review.cursor;
    if !review.mark().open() {
        state.set_status(StatusKind::Warning, "already voted on this pair · n: next");
        return Vec::new();
    }
    if review.team.is_some() {
        let effects = ask_for_pair(state, true);
        if let Some(review) = &mut state.review {
            review.marks[cursor] = Mark::Skipped;
        }
        return effects;
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
    Vec::new()
}
