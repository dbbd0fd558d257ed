//! Categories: a suite item's own `category`, and the prompt's language (`chinese`,
//! `english`, `other`), so that "Qwen wins on Chinese, loses on code" is one command.

use std::collections::BTreeMap;

use serde::Serialize;

use super::rating::ModelStats;
use super::report::leaderboard;
use super::{VoteRecord, language};

/// The categories a vote is in: its item's, if any, and its prompt's language.
pub fn of(record: &VoteRecord) -> Vec<String> {
    let language = language::category(&record.prompt);
    match &record.category {
        Some(own) if own.eq_ignore_ascii_case(language) => vec![own.clone()],
        Some(own) => vec![own.clone(), language.to_owned()],
        None => vec![language.to_owned()],
    }
}

/// Whether `record` is in category `wanted` (case does not matter).
pub fn matches(record: &VoteRecord, wanted: &str) -> bool {
    of(record).iter().any(|c| c.eq_ignore_ascii_case(wanted))
}

/// One category's leaderboard (an entry of `duel stats --json`'s `by_category`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CategoryBoard {
    pub category: String,
    pub votes: usize,
    pub models: Vec<ModelStats>,
}

/// A leaderboard per category, the most voted first.
pub fn boards(records: &[VoteRecord], rounds: u32) -> Vec<CategoryBoard> {
    let mut by: BTreeMap<String, Vec<VoteRecord>> = BTreeMap::new();
    for r in records {
        for c in of(r) {
            by.entry(c).or_default().push(r.clone());
        }
    }
    let mut boards: Vec<CategoryBoard> = by
        .into_iter()
        .map(|(category, votes)| CategoryBoard {
            category,
            votes: votes.len(),
            models: leaderboard(&votes, rounds).models,
        })
        .collect();
    boards.sort_by(|x, y| {
        y.votes
            .cmp(&x.votes)
            .then_with(|| x.category.cmp(&y.category))
    });
    boards
}
