//! The text of `duel stats --agreement`: how far the judges agree and how far each
//! model judge can be trusted, with a few lines on how to read it. The figures and
//! the doubts come from `eval::trust`; this only prints them.

use std::fmt::Write as _;

use super::{count, fixed, layout, thousands};
use crate::eval::trust::{Doubt, FEW_ITEMS, JudgeAgreement, JudgeDoubt, LengthPreference, Trust};
use crate::text::sanitize;

/// The agreement section of `duel stats`: what `trust` found, or why there is nothing
/// to compare, and the `doubts` ([`Trust::doubts`]) as notes. `only_judge` is the
/// `--judge` filter, which leaves one judge.
pub(super) fn render(trust: &Trust, doubts: &[JudgeDoubt], only_judge: Option<&str>) -> String {
    let mut text = String::new();
    if trust.agreement.is_empty() {
        text.push_str(&nothing_shared(only_judge));
    } else {
        text.push_str(&agreement(&trust.agreement));
        notes(&mut text, doubts.iter().filter(|d| d.judges.len() == 2));
    }
    text.push('\n');
    if trust.consistency.is_empty() {
        text.push_str(
            "No model judge's votes here: `duel judge RUN --with MODEL` has a model judge \
             a run (its votes are signed llm:MODEL).\n",
        );
    } else {
        text.push_str(&model_judges(trust));
        notes(&mut text, doubts.iter().filter(|d| d.judges.len() == 1));
    }
    text
}

/// One `Note:` line per doubt, naming whom it is about.
fn notes<'a>(text: &mut String, doubts: impl Iterator<Item = &'a JudgeDoubt>) {
    for d in doubts {
        let who = sanitize(&names(&d.judges));
        let _ = writeln!(text, "Note: {who}: {}.", note(&d.doubt));
    }
}

/// A doubt in words.
fn note(doubt: &Doubt) -> String {
    match doubt {
        Doubt::KappaUndefined { why } => format!(
            "kappa is undefined: {}, so chance explains all of that judge's verdicts and \
             there is no agreement beyond it to measure",
            sanitize(why)
        ),
        Doubt::FewItems { items } => format!(
            "only {}, so a wide interval (judge {FEW_ITEMS} or more)",
            count(*items, "common item", "common items")
        ),
        Doubt::LowKappa { kappa_low } => format!(
            "kappa may be as low as {}, little agreement beyond chance",
            fixed(*kappa_low, 2, false)
        ),
        Doubt::FollowsPosition { consistent } => format!(
            "keeps its verdict on only {} of pairs when the answers swap places: it \
             follows the position more than the answers",
            percent(*consistent)
        ),
        Doubt::RewardsLength { longer_won, .. } => format!(
            "the longer answer won {} of its decisive votes: it may be rewarding length",
            percent(*longer_won)
        ),
        Doubt::RewardsBrevity { shorter_won, .. } => format!(
            "the shorter answer won {} of its decisive votes: it may be rewarding brevity",
            percent(*shorter_won)
        ),
    }
}

fn nothing_shared(only_judge: Option<&str>) -> String {
    let mut text = String::from(
        "Judge agreement: no two judges voted on the same pair of a run, so there is \
         nothing to compare yet.\n\
         Review a run yourself and let a model judge the same run:\n  \
         duel review RUN\n  \
         duel judge RUN --with MODEL\n\
         then `duel stats --agreement --run RUN`.\n",
    );
    if let Some(judge) = only_judge {
        let _ = writeln!(
            text,
            "(--judge {} keeps one judge's votes only: leave it out to compare judges.)",
            sanitize(judge)
        );
    }
    text
}

/// "alice vs llm:m": whom a row or a note is about.
fn names(judges: &[String]) -> String {
    judges.join(" vs ")
}

fn percent(share: f64) -> String {
    format!("{:.0}%", 100.0 * share)
}

fn agreement(pairs: &[JudgeAgreement]) -> String {
    let mut text = String::from(
        "Judge agreement, on the pairs of a run both judged (each judge's latest vote)\n",
    );
    let header = [
        "JUDGES",
        "ITEMS",
        "AGREE",
        "WITHOUT TIES",
        "KAPPA",
        "95% CI",
    ];
    let mut rows = vec![header.map(String::from).to_vec()];
    for p in pairs {
        rows.push(vec![
            names(&p.judges),
            thousands(p.agreement.items),
            percent(p.agreement.agree),
            match p.agreement.agree_no_ties {
                Some(share) => format!("{} of {}", percent(share), thousands(p.agreement.decided)),
                None => "—".to_owned(),
            },
            p.agreement
                .kappa
                .map_or_else(|| "undefined".to_owned(), |k| fixed(k, 2, false)),
            match (p.agreement.kappa_low, p.agreement.kappa_high) {
                (Some(low), Some(high)) => {
                    format!("{} to {}", fixed(low, 2, false), fixed(high, 2, false))
                }
                _ => "—".to_owned(),
            },
        ]);
    }
    text.push_str(&layout(&rows, &|c| c == 0));
    text.push_str(
        "AGREE counts a tie as a verdict; WITHOUT TIES only the items where neither said tie.\n\
         KAPPA is agreement beyond chance: 0 is chance, 1 perfect, above 0.6 substantial.\n\
         For reference (MT-bench): GPT-4 agreed with people on 66% of pairs with ties and\n\
         over 80% without, about as often as people agree with each other.\n",
    );
    text
}

fn longer(length: LengthPreference) -> String {
    match length.rate() {
        Some(rate) => format!("{} of {}", percent(rate), thousands(length.decisive)),
        None => "—".to_owned(),
    }
}

fn model_judges(trust: &Trust) -> String {
    let mut text = String::from("Model judges (every pair judged in both orders)\n");
    let header = ["JUDGE", "PAIRS", "CONSISTENT", "PREFERS LONGER"];
    let mut rows = vec![header.map(String::from).to_vec()];
    for m in &trust.consistency {
        rows.push(vec![
            m.judge.clone(),
            thousands(m.pairs),
            m.consistent.map_or_else(|| "—".to_owned(), percent),
            longer(m.length),
        ]);
    }
    // People's taste for length, beside the models' for comparison.
    for (person, length) in &trust.people {
        rows.push(vec![
            format!("{person} (person)"),
            "—".to_owned(),
            "—".to_owned(),
            longer(*length),
        ]);
    }
    text.push_str(&layout(&rows, &|c| c == 0));
    text.push_str(
        "CONSISTENT: the share of pairs whose verdict survives swapping which answer is\n\
         shown first (MT-bench's GPT-4: about 65%); a verdict that flips counts as a tie.\n\
         PREFERS LONGER: of the decisive votes between answers of different length, the\n\
         share the longer answer won (50% is no preference).\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::trust::Consistency;

    fn pair(items: usize, kappa_low: f64) -> JudgeAgreement {
        use crate::eval::agreement::Agreement;
        JudgeAgreement {
            judges: ["alice".into(), "llm:m\u{1b}[31m".into()],
            agreement: Agreement {
                items,
                agree: 0.66,
                agree_no_ties: None,
                kappa: Some(0.5),
                kappa_low: Some(kappa_low),
                kappa_high: Some(0.8),
                constant: [None, None],
                decided: 0,
            },
            kappa_undefined: None,
        }
    }

    fn judge(consistent: f64, longer: usize, decisive: usize) -> Consistency {
        let length = LengthPreference { longer, decisive };
        Consistency {
            judge: "llm:m".into(),
            pairs: 20,
            consistent: Some(consistent),
            longer_preferred: length.rate(),
            length,
        }
    }

    #[test]
    fn doubts_are_raised_only_past_the_thresholds() {
        let trusted = Trust {
            agreement: vec![pair(200, 0.55)],
            consistency: vec![judge(0.7, 11, 20)],
            people: vec![],
        };
        let text = render(&trusted, &trusted.doubts(), None);
        assert!(!text.contains("Note:"), "{text}");
        assert!(text.contains("66%"), "{text}");
        assert!(text.contains("0.50  0.55 to 0.80"), "{text}");
        assert!(text.contains("55% of 20"), "{text}");
        assert!(!text.contains('\u{1b}'), "names are sanitised: {text}");

        let doubtful = Trust {
            agreement: vec![pair(12, 0.1)],
            consistency: vec![judge(0.4, 16, 20)],
            people: vec![("bob".into(), LengthPreference::default())],
        };
        let text = render(&doubtful, &doubtful.doubts(), None);
        assert!(text.contains("only 12 common items"), "{text}");
        assert!(text.contains("kappa may be as low as 0.10"), "{text}");
        assert!(text.contains("keeps its verdict on only 40%"), "{text}");
        assert!(text.contains("the longer answer won 80%"), "{text}");
        assert!(text.contains("bob (person)"), "{text}");
        // Few decisive votes: no verdict on length either way.
        let few = Trust {
            consistency: vec![judge(0.9, 0, 9)],
            ..Trust::default()
        };
        let few = render(&few, &few.doubts(), Some("alice"));
        assert!(!few.contains("Note:"), "{few}");
        assert!(
            few.contains("no two judges voted on the same pair"),
            "{few}"
        );
        assert!(
            few.contains("--judge alice keeps one judge's votes"),
            "{few}"
        );
    }
}
