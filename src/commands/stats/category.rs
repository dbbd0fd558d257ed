//! The text of `duel stats --by-category`: one compact leaderboard per category. The
//! boards come from `votes::category`; this only prints them.

use std::fmt::Write as _;

use super::{count, layout, rank_cells, thousands};
use crate::text::sanitize;
use crate::votes::category::CategoryBoard;

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
