//! Enough to decide? For two models: how likely the first is the better one (from the
//! leaderboard's bootstrap), whether the votes settle it (by the one rule the ranks
//! count by: one interval wholly above the other), and if not, about how many more
//! votes would.

use serde::Serialize;

use super::rating::{Leaderboard, Matrix, ModelStats};
use crate::text::sanitize;

/// z for a two-sided 95 % interval.
const Z_95: f64 = 1.959_963_985;
/// z for 80 % power: the votes needed are those after which, four times in five, the
/// two 95 % intervals would no longer overlap.
const Z_POWER: f64 = 0.841_621_234;

/// What the votes say about `a` against `b`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub a: String,
    pub b: String,
    /// The higher rated of the two.
    pub ahead: String,
    /// P(a is better than b), from the bootstrap; None when they never both played in
    /// a round.
    pub prob_a_better: Option<f64>,
    /// Votes between the two of them.
    pub battles: u32,
    /// a's head-to-head win rate (a tie counts half); None before they met.
    pub win_rate: Option<f64>,
    /// One's 95 % interval lies wholly above the other's: [`Leaderboard::settled`],
    /// the rule ranks are counted by, so two models of the same rank are never settled.
    pub settled: bool,
    /// About how many more votes, in the same mix of pairs as now, would settle it if
    /// the ratings hold (none when settled, when either model has no interval yet, or
    /// when the two rate the same).
    pub more_votes: Option<u64>,
}

/// The pair to decide on: `given` (`--pair A,B`) as given (spaces around a name do
/// not count), else the two best-rated models; `None` with fewer than two. A wrong
/// `--pair` is the user's mistake, said in words.
pub fn pair(board: &Leaderboard, given: &[String]) -> Result<Option<Decision>, String> {
    let wanted: Vec<&str> = given.iter().map(|name| name.trim()).collect();
    match wanted.as_slice() {
        [] => Ok(match board.models.as_slice() {
            [first, second, ..] => Some(decide(board, &first.model, &second.model)),
            _ => None,
        }),
        [a, b] if a.is_empty() || b.is_empty() => {
            Err("--pair takes two model names, like --pair qwen-plus,ernie-4.5".into())
        }
        [a, b] if a == b => Err(format!("--pair {a},{b}: name two different models")),
        [a, b] => {
            for name in [a, b] {
                if board.model(name).is_none() {
                    let known: Vec<String> =
                        board.models.iter().map(|m| sanitize(&m.model)).collect();
                    return Err(format!(
                        "--pair: {} has no votes here (models: {})",
                        sanitize(name),
                        known.join(", ")
                    ));
                }
            }
            Ok(Some(decide(board, a, b)))
        }
        _ => Err("--pair takes two model names, like --pair qwen-plus,ernie-4.5".into()),
    }
}

/// The decision between `a` and `b` on `board`.
pub fn decide(board: &Leaderboard, a: &str, b: &str) -> Decision {
    let (battles, win_rate) = head_to_head(&board.matrix, a, b);
    let settled = board.settled(a, b);
    let (x, y) = (board.model(a), board.model(b));
    let ahead = match (x, y) {
        (Some(x), Some(y)) if y.rating > x.rating => b,
        _ => a,
    };
    let all: u64 = board
        .models
        .iter()
        .map(|m| u64::from(m.battles))
        .sum::<u64>()
        / 2;
    Decision {
        a: a.to_owned(),
        b: b.to_owned(),
        ahead: ahead.to_owned(),
        prob_a_better: board.prob_better(a, b),
        battles,
        win_rate,
        settled,
        more_votes: match (x, y) {
            (Some(x), Some(y)) if !settled => {
                scale_needed(x, y).map(|k| ((all as f64 * k).ceil() as u64).saturating_sub(all))
            }
            _ => None,
        },
    }
}

/// By what factor every pair's votes must grow for the intervals of `x` and `y` to part
/// four times in five, if the ratings hold. An interval narrows as 1/√votes, so the
/// gap must clear both facing half-intervals, plus 0.84 standard errors of the gap
/// itself for 80 % power. None without both intervals or without a gap.
fn scale_needed(x: &ModelStats, y: &ModelStats) -> Option<f64> {
    let (upper, lower) = if x.rating >= y.rating { (x, y) } else { (y, x) };
    let ((upper_low, _), (_, lower_high)) = (upper.interval()?, lower.interval()?);
    let gap = upper.rating - lower.rating;
    if gap < 1e-9 {
        return None;
    }
    let (u, l) = (upper.rating - upper_low, lower_high - lower.rating);
    let se = (u * u + l * l).sqrt() / Z_95;
    let root = (u + l + Z_POWER * se) / gap;
    Some((root * root).max(1.0))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Vote;
    use crate::votes::rating::Tally;

    /// qwen-plus against ernie-4.5, each count `times` over.
    fn board(a_wins: usize, b_wins: usize, ties: usize, times: usize) -> Leaderboard {
        let mut t = Tally::new();
        for (vote, n) in [(Vote::A, a_wins), (Vote::B, b_wins), (Vote::Tie, ties)] {
            for _ in 0..n * times {
                t.add("qwen-plus", "ernie-4.5", vote);
            }
        }
        t.leaderboard(500)
    }

    #[test]
    fn a_close_pair_needs_more_votes_and_a_clear_one_is_settled() {
        let close = decide(&board(33, 27, 0, 1), "qwen-plus", "ernie-4.5");
        assert_eq!(close.battles, 60);
        assert_eq!(close.win_rate, Some(0.55));
        assert_eq!(close.ahead, "qwen-plus");
        assert!(!close.settled);
        let more = close.more_votes.unwrap();
        let p = close.prob_a_better.unwrap();
        assert!((0.7..0.95).contains(&p), "{p}");
        // With that many more votes at the same rate the intervals part; with half as
        // many they do not yet.
        let times = |votes: u64| (votes as f64 / 60.0).round() as usize;
        let grown = board(33, 27, 0, times(60 + more));
        assert!(grown.settled("qwen-plus", "ernie-4.5"), "{more}");
        let half = board(33, 27, 0, times(60 + more / 2));
        assert!(!half.settled("qwen-plus", "ernie-4.5"), "{more}");

        let clear = decide(&board(80, 20, 10, 1), "qwen-plus", "ernie-4.5");
        assert!(clear.settled);
        assert_eq!(clear.more_votes, None);
        assert!(clear.prob_a_better.unwrap() > 0.999);
        let reversed = decide(&board(80, 20, 10, 1), "ernie-4.5", "qwen-plus");
        assert!(reversed.prob_a_better.unwrap() < 0.001);
        assert_eq!(reversed.win_rate, Some(25.0 / 110.0));
        assert_eq!(reversed.ahead, "qwen-plus");

        let even = decide(&board(10, 10, 0, 1), "qwen-plus", "ernie-4.5");
        assert_eq!((even.settled, even.more_votes), (false, None));
        let strangers = decide(&board(10, 10, 0, 1), "qwen-plus", "glm-4");
        assert_eq!((strangers.battles, strangers.win_rate), (0, None));
    }
}
