//! "Enough to decide?" under the leaderboard: for the top two models, or `--pair A,B`,
//! how likely the first is the better one and how many more votes would settle it.

use std::fmt::Write as _;

use super::count;
use crate::text::sanitize;
use crate::votes::decide::{self, Decision};
use crate::votes::rating::Leaderboard;

/// The pair to decide on: `--pair A,B` as given (spaces around a name do not count),
/// else the two best-rated models.
pub(super) fn pair(board: &Leaderboard, given: &[String]) -> Result<Option<Decision>, String> {
    let wanted: Vec<&str> = given.iter().map(|name| name.trim()).collect();
    match wanted.as_slice() {
        [] => Ok(match board.models.as_slice() {
            [first, second, ..] => Some(decide::decide(board, &first.model, &second.model)),
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
            Ok(Some(decide::decide(board, a, b)))
        }
        _ => Err("--pair takes two model names, like --pair qwen-plus,ernie-4.5".into()),
    }
}

/// The decision in plain sentences; whether it is settled is the decision's own
/// `settled`, the rule the ranks and the chart read too.
pub(super) fn render(d: &Decision, board: &Leaderboard) -> String {
    let (a, b) = (sanitize(&d.a), sanitize(&d.b));
    let ahead = sanitize(&d.ahead);
    let behind = if d.ahead == d.a { &b } else { &a };
    let mut text = String::new();
    let _ = writeln!(text, "Enough to decide? {a} against {b}");
    match d.prob_a_better {
        Some(p) => {
            let _ = writeln!(
                text,
                "  {a} is the better of the two with probability {} (from the bootstrap).",
                percent(p)
            );
        }
        None => {
            let _ = writeln!(text, "  Too few votes to tell which of the two is better.");
        }
    }
    match d.win_rate {
        Some(rate) => {
            let _ = writeln!(
                text,
                "  Head to head, {a} won {} of {} (a tie counts half).",
                percent(rate),
                count(d.battles as usize, "vote", "votes")
            );
        }
        None => {
            let _ = writeln!(
                text,
                "  They have not met head to head yet: `duel --a {a} --b {b}`, or a batch run with both, gives them votes."
            );
        }
    }
    let without: Vec<String> = [&d.a, &d.b]
        .into_iter()
        .filter(|name| board.model(name).is_none_or(|m| m.interval().is_none()))
        .map(|name| sanitize(name))
        .collect();
    let rank = |name: &str| board.model(name).map_or(0, |m| m.rank);
    let verdict = if d.settled {
        format!("Settled in {ahead}'s favour: its 95% interval lies wholly above {behind}'s.")
    } else if !without.is_empty() {
        format!(
            "Not settled: too few votes for an interval on {} yet.",
            without.join(" and ")
        )
    } else {
        let overlap = if rank(&d.a) == rank(&d.b) {
            format!("their 95% intervals overlap (both rank {})", rank(&d.a))
        } else {
            "their 95% intervals overlap".to_owned()
        };
        match d.more_votes {
            Some(more) => format!(
                "Not settled: {overlap}. About {}, in the same mix of pairs as now, would settle it in {ahead}'s favour if the ratings hold.",
                count(more as usize, "more vote", "more votes")
            ),
            None => format!(
                "Not settled: {overlap}, and they rate the same so far: more votes settle it only if one of them is really better."
            ),
        }
    };
    let _ = writeln!(text, "  {verdict}");
    text
}

fn percent(p: f64) -> String {
    // Never 0% or 100% for a probability read off finitely many rounds.
    match p {
        p if p > 0.999 => ">99.9%".into(),
        p if p < 0.001 => "<0.1%".into(),
        p if !(0.01..=0.99).contains(&p) => format!("{:.1}%", 100.0 * p),
        p => format!("{:.0}%", 100.0 * p),
    }
}
