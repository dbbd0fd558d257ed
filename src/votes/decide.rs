//! Enough to decide? For two models: how likely the first is the better one (from the
//! leaderboard's bootstrap), and how many more votes between them would settle it at
//! their current head-to-head win rate.

use serde::Serialize;

use super::rating::{Leaderboard, Matrix};

/// z for a two-sided 95 % interval.
const Z_95: f64 = 1.959_963_985;
/// z for 80 % power: the votes needed are those after which, four times in five, the
/// 95 % interval of the win rate would exclude an even split.
const Z_POWER: f64 = 0.841_621_234;

/// What the votes say about `a` against `b`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub a: String,
    pub b: String,
    /// P(a is better than b), from the bootstrap; None when they never both played in
    /// a round.
    pub prob_a_better: Option<f64>,
    /// Votes between the two of them.
    pub battles: u32,
    /// a's head-to-head win rate (a tie counts half); None before they met.
    pub win_rate: Option<f64>,
    /// The 95 % interval of the head-to-head win rate already excludes an even split.
    pub settled: bool,
    /// More votes between them that would settle it at this win rate (none when
    /// settled, when they never met or when the split is exactly even).
    pub more_votes: Option<u64>,
}

/// The decision between `a` and `b` on `board`.
pub fn decide(board: &Leaderboard, a: &str, b: &str) -> Decision {
    let (battles, win_rate) = head_to_head(&board.matrix, a, b);
    let settled = win_rate.is_some_and(|p| separated(p, battles));
    Decision {
        a: a.to_owned(),
        b: b.to_owned(),
        prob_a_better: board.prob_better(a, b),
        battles,
        win_rate,
        settled,
        more_votes: match win_rate {
            Some(p) if !settled => votes_needed(p).map(|n| n.saturating_sub(u64::from(battles))),
            _ => None,
        },
    }
}

/// Votes between `a` and `b`, and a's share of them (ties half).
fn head_to_head(matrix: &Matrix, a: &str, b: &str) -> (u32, Option<f64>) {
    let row = matrix.models.iter().position(|m| m == a);
    let column = matrix.models.iter().position(|m| m == b);
    match (row, column) {
        (Some(r), Some(c)) => (matrix.battles[r][c], matrix.win_fraction[r][c]),
        _ => (0, None),
    }
}

/// Whether `n` votes at win rate `p` put the 95 % Wilson interval (the one duel shows
/// for position bias) off an even split: the score test, |p − ½| > z·½/√n.
fn separated(p: f64, n: u32) -> bool {
    n > 0 && (p - 0.5).abs() > Z_95 * 0.5 / f64::from(n).sqrt()
}

/// How many votes in all, at a true win rate `p`, make the 95 % interval exclude an
/// even split four times in five (the usual sample size for a one-sample proportion
/// score test at 80 % power). None for an even split: no number of votes will do.
pub fn votes_needed(p: f64) -> Option<u64> {
    let gap = (p - 0.5).abs();
    if gap < 1e-9 || !(0.0..=1.0).contains(&p) {
        return None;
    }
    // The Wilson interval excludes ½ exactly when |p̂ − ½| > z·½/√n (the score test),
    // so ½'s variance on the interval's side and p's on the power's.
    let n = (Z_95 * 0.5 + Z_POWER * (p * (1.0 - p)).sqrt()).powi(2) / (gap * gap);
    Some(n.ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Vote;
    use crate::votes::rating::Tally;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn the_votes_needed_separate_the_pair_four_times_in_five_in_simulation() {
        let mut rng = StdRng::seed_from_u64(7);
        for p in [0.55, 0.6, 0.7, 0.35] {
            let n = votes_needed(p).unwrap();
            let trials = 4000;
            let separated_runs = (0..trials)
                .filter(|_| {
                    let wins = (0..n).filter(|_| rng.random::<f64>() < p).count();
                    let rate = wins as f64 / n as f64;
                    separated(rate, n as u32) && (rate > 0.5) == (p > 0.5)
                })
                .count();
            let power = separated_runs as f64 / f64::from(trials);
            // Counts are whole numbers, so the power wobbles a little around 80 %.
            assert!(
                (0.76..=0.87).contains(&power),
                "p = {p}: {n} votes separate {power:.3} of runs"
            );
        }
        assert_eq!(votes_needed(0.5), None);
        // 55 % against 45 %: (1.96 · 0.5 + 0.84 · √0.2475)² / 0.05² ≈ 782.3.
        assert_eq!(votes_needed(0.55), Some(783));
    }

    fn board(a_wins: usize, b_wins: usize, ties: usize) -> Leaderboard {
        let mut t = Tally::new();
        for (vote, n) in [(Vote::A, a_wins), (Vote::B, b_wins), (Vote::Tie, ties)] {
            for _ in 0..n {
                t.add("qwen-plus", "ernie-4.5", vote);
            }
        }
        t.leaderboard(500)
    }

    #[test]
    fn a_close_pair_needs_more_votes_and_a_clear_one_is_settled() {
        let close = decide(&board(33, 27, 0), "qwen-plus", "ernie-4.5");
        assert_eq!(close.battles, 60);
        assert_eq!(close.win_rate, Some(0.55));
        assert!(!close.settled);
        assert_eq!(close.more_votes, Some(783 - 60));
        let p = close.prob_a_better.unwrap();
        assert!((0.7..0.95).contains(&p), "{p}");

        let clear = decide(&board(80, 20, 10), "qwen-plus", "ernie-4.5");
        assert!(clear.settled);
        assert_eq!(clear.more_votes, None);
        assert!(clear.prob_a_better.unwrap() > 0.999);
        let reversed = decide(&board(80, 20, 10), "ernie-4.5", "qwen-plus");
        assert!(reversed.prob_a_better.unwrap() < 0.001);
        assert_eq!(reversed.win_rate, Some(25.0 / 110.0));

        let even = decide(&board(10, 10, 0), "qwen-plus", "ernie-4.5");
        assert_eq!((even.settled, even.more_votes), (false, None));
        let strangers = decide(&board(10, 10, 0), "qwen-plus", "glm-4");
        assert_eq!((strangers.battles, strangers.win_rate), (0, None));
    }
}
