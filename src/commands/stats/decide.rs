//! The text of "Enough to decide?" under the leaderboard: for the top two models, or
//! `--pair A,B`, how likely the first is the better one and how many more votes would
//! settle it. The decision comes from `votes::decide`; this only prints it.

use std::fmt::Write as _;

use super::count;
use crate::text::sanitize;
use crate::votes::decide::Decision;
use crate::votes::rating::Leaderboard;

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
