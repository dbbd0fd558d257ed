//! "Enough to decide?" under the leaderboard: for the top two models, or `--pair A,B`,
//! how likely the first is the better one and how many more votes would settle it.

use std::fmt::Write as _;

use crate::text::sanitize;
use crate::votes::decide::{self, Decision};
use crate::votes::rating::Leaderboard;

/// The pair to decide on: `--pair A,B` as given, else the two best-rated models.
pub(super) fn pair(board: &Leaderboard, wanted: &[String]) -> Result<Option<Decision>, String> {
    match wanted {
        [] => Ok(match board.models.as_slice() {
            [first, second, ..] => Some(decide::decide(board, &first.model, &second.model)),
            _ => None,
        }),
        [a, b] if a == b => Err(format!("--pair {a},{b}: name two different models")),
        [a, b] => {
            for name in [a, b] {
                if !board.models.iter().any(|m| &m.model == name) {
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

/// The decision in plain sentences.
pub(super) fn render(d: &Decision) -> String {
    let (a, b) = (sanitize(&d.a), sanitize(&d.b));
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
    let Some(rate) = d.win_rate else {
        let _ = writeln!(
            text,
            "  They have not met head to head yet: `duel --a {a} --b {b}`, or a batch run with both, gives them votes."
        );
        return text;
    };
    let _ = writeln!(
        text,
        "  Head to head, {a} won {} of {} votes (a tie counts half).",
        percent(rate),
        d.battles
    );
    let ahead = if rate > 0.5 { &a } else { &b };
    let _ = writeln!(
        text,
        "  {}",
        match (d.settled, d.more_votes) {
            (true, _) => format!(
                "That settles it in {ahead}'s favour: the 95% interval excludes an even split."
            ),
            (false, Some(more)) => format!(
                "About {more} more votes between them would settle it in {ahead}'s favour, if the rate holds."
            ),
            (false, None) => {
                "An even split so far: more votes settle it only if one of them is really better."
                    .to_owned()
            }
        }
    );
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
