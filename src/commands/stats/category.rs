//! Categories: a suite item's own `category`, and the prompt's language (`chinese`,
//! `english`, `other`), so that "Qwen wins on Chinese, loses on code" is one command.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::{count, layout, leaderboard, rank_cells, thousands};
use crate::text::sanitize;
use crate::votes::VoteRecord;
use crate::votes::language;
use crate::votes::rating::ModelStats;

/// The categories a vote is in: its item's, if any, and its prompt's language.
pub(super) fn of(record: &VoteRecord) -> Vec<String> {
    let language = language::category(&record.prompt);
    match &record.category {
        Some(own) if own.eq_ignore_ascii_case(language) => vec![own.clone()],
        Some(own) => vec![own.clone(), language.to_owned()],
        None => vec![language.to_owned()],
    }
}

/// Whether `record` is in category `wanted` (case does not matter).
pub(super) fn matches(record: &VoteRecord, wanted: &str) -> bool {
    of(record).iter().any(|c| c.eq_ignore_ascii_case(wanted))
}

/// One category's leaderboard.
#[derive(Serialize)]
pub(super) struct CategoryBoard {
    pub category: String,
    pub votes: usize,
    pub models: Vec<ModelStats>,
}

/// A leaderboard per category, the most voted first.
pub(super) fn boards(records: &[VoteRecord], rounds: u32) -> Vec<CategoryBoard> {
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

/// The boards as compact tables, one after the other.
pub(super) fn render(boards: &[CategoryBoard]) -> String {
    let mut text = String::new();
    for board in boards {
        let _ = writeln!(
            text,
            "\n{} · {}",
            sanitize(&board.category),
            count(board.votes, "vote", "votes")
        );
        if board.models.is_empty() {
            text.push_str("  no battles between two different models\n");
            continue;
        }
        let mut rows = vec![
            ["RANK", "MODEL", "RATING", "95% CI", "BATTLES", "WIN RATE"]
                .map(String::from)
                .to_vec(),
        ];
        for m in &board.models {
            let mut row = rank_cells(m).to_vec();
            row.extend([
                thousands(m.battles as usize),
                format!("{:.1}%", 100.0 * m.win_rate),
            ]);
            rows.push(row);
        }
        text.push_str(&layout(&rows, &|c| c == 1));
    }
    text
}
