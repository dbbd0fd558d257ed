//! `duel report RUN`: which one, how sure, how right, how fast, at what price, for one
//! run (SPEC §10). Every figure comes from a part that stands on its own: the votes'
//! [`Report`] (ratings and the decision, people and each model judge apart), the run's
//! checks, its answers' outcomes (speed, failures, cost). This module sets them side
//! by side and says in plain words what they support, never more than the intervals.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::cost::{Cost, Prices};
use crate::eval::check::rates::{PairTest, PassRate};
use crate::eval::check::record::ChecksReport;
use crate::eval::outcomes::{ModelSummary, Outcomes};
use crate::eval::run::Run;
use crate::votes::decide::{self, Decision};
use crate::votes::log;
use crate::votes::rating::Leaderboard;
use crate::votes::report::{self, Query as VotesQuery, Report, ReportError};
use crate::votes::{VoteRecord, category};

/// What `duel report` is asked.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// The run, as the user named it (`last`, an id, a prefix, a name).
    pub run: String,
    /// Only the items (and votes) of this category.
    pub category: Option<String>,
    pub prices: Prices,
    /// Bootstrap rounds for the ratings' intervals.
    pub rounds: u32,
    /// A team's store to read the run's votes from.
    pub store: Option<std::sync::Arc<dyn crate::store::Store>>,
}

/// The report on one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub run: String,
    pub name: Option<String>,
    pub suite: String,
    /// Items counted (of the category, where one is asked).
    pub items: usize,
    pub category: Option<String>,
    /// What costs are in; `None` when no model has a price.
    pub currency: Option<String>,
    /// Votes on the run's pairs: by people, and by model judges.
    pub people_votes: usize,
    pub judge_votes: usize,
    pub models: Vec<ModelLine>,
    pub pairs: Vec<PairLine>,
    pub categories: Vec<CategoryLine>,
    /// What the evidence supports, sentence by sentence.
    pub verdict: Vec<String>,
}

/// One model of the run.
#[derive(Clone, Debug, Serialize)]
pub struct ModelLine {
    pub model: String,
    /// From people's votes.
    pub people: Option<Rating>,
    /// From each model judge's votes, judge by judge.
    pub judges: Vec<JudgeRating>,
    /// Items passed of those graded, where the suite has checks.
    pub checks: Option<PassRate>,
    pub cost_per_item: Option<Cost>,
    pub cost_run: Option<Cost>,
    pub cost_per_1000: Option<Cost>,
    /// Answered, failures by kind, median TTFT and tok/s, p90 total time.
    pub speed: ModelSummary,
}

/// A rating with its 95 % interval (none for too few votes) and its battles.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rating {
    pub rating: f64,
    pub interval: Option<(f64, f64)>,
    pub battles: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JudgeRating {
    pub judge: String,
    pub rating: Rating,
}

/// Whose votes a pair's decision rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Voters {
    #[serde(rename = "people")]
    People,
    #[serde(rename = "model judges")]
    ModelJudges,
}

impl Voters {
    /// As a sentence names them.
    pub fn as_str(self) -> &'static str {
        match self {
            Voters::People => "people",
            Voters::ModelJudges => "the model judges",
        }
    }
}

/// Two models of the run side by side.
#[derive(Clone, Debug, Serialize)]
pub struct PairLine {
    pub a: String,
    pub b: String,
    /// Whose votes decide: people's, or the model judges' where no person voted.
    pub by: Voters,
    pub decision: Option<Decision>,
    pub checks: Option<PairTest>,
    /// a's cost per item over b's.
    pub cost_ratio: Option<f64>,
}

/// One category, shortly: who leads there and how the checks went.
#[derive(Clone, Debug, Serialize)]
pub struct CategoryLine {
    pub category: String,
    pub items: usize,
    pub decision: Option<Decision>,
    pub checks: Vec<PassRate>,
}

/// The report on `query.run`, from the data dir's runs and vote log.
pub fn build(data_dir: &Path, query: &Query) -> Result<RunReport, ReportError> {
    let run = Run::find(data_dir, &query.run).map_err(ReportError::Usage)?;
    let id = run.info.id.clone();
    let all_items = run
        .items()
        .map_err(|e| ReportError::Usage(format!("run {id}: {e}")))?;
    let wanted = query.category.as_deref().map(str::to_lowercase);
    let in_category = |c: &Option<String>| {
        wanted
            .as_ref()
            .is_none_or(|w| c.as_deref().is_some_and(|c| c.to_lowercase() == *w))
    };
    let items: Vec<_> = all_items
        .into_iter()
        .filter(|i| in_category(&i.category))
        .collect();
    if items.is_empty() {
        return Err(ReportError::Usage(match &query.category {
            Some(c) => format!("run {id} has no item of category {c:?}"),
            None => format!("run {id} has no items"),
        }));
    }
    let (answers, _) = run.answers().map_err(|source| ReportError::Checks {
        run: id.clone(),
        source,
    })?;
    let models = run.info.models.clone();

    // The votes on this run's pairs, in the log its models write to.
    let votes_query = VotesQuery {
        logs: vec![data_dir.join(log::file_name(run.is_demo()))],
        store: query.store.clone().filter(|_| !run.is_demo()),
        named: false,
        without_demo: !run.is_demo(),
        run: Some(id.clone()),
        category: query.category.clone(),
        rounds: query.rounds,
        ..VotesQuery::default()
    };
    let (_, records) = Report::build_keeping(&votes_query, data_dir)?;
    let (people, judges): (Vec<VoteRecord>, Vec<VoteRecord>) = records
        .into_iter()
        .partition(|r| !r.judge.starts_with("llm:"));
    let people_board = report::leaderboard(&people, query.rounds);
    let judge_names: BTreeSet<String> = judges.iter().map(|r| r.judge.clone()).collect();
    let judge_boards: Vec<(String, Leaderboard)> = judge_names
        .into_iter()
        .map(|judge| {
            let own: Vec<VoteRecord> = judges
                .iter()
                .filter(|r| r.judge == judge)
                .cloned()
                .collect();
            let board = report::leaderboard(&own, query.rounds);
            (judge, board)
        })
        .collect();

    let checks = items
        .iter()
        .any(|i| !i.checks.list.is_empty())
        .then(|| ChecksReport::of(&run, &items, 0, None))
        .transpose()
        .map_err(|source| ReportError::Checks {
            run: id.clone(),
            source,
        })?;

    let speeds =
        Outcomes::of(&items, &answers).summaries(models.iter().map(String::as_str), &query.prices);
    let lines: Vec<ModelLine> = speeds
        .into_iter()
        .map(|speed| {
            let rating_in = |board: &Leaderboard| {
                board
                    .models
                    .iter()
                    .find(|m| m.model == speed.model)
                    .map(|m| Rating {
                        rating: m.rating,
                        interval: m.interval(),
                        battles: m.battles,
                    })
            };
            let cost_run = speed.cost;
            let per = |n: f64| {
                cost_run.filter(|_| speed.answered > 0).map(|c| Cost {
                    amount: c.amount * n / speed.answered as f64,
                    ..c
                })
            };
            ModelLine {
                model: speed.model.clone(),
                people: rating_in(&people_board),
                judges: judge_boards
                    .iter()
                    .filter_map(|(judge, board)| {
                        Some(JudgeRating {
                            judge: judge.clone(),
                            rating: rating_in(board)?,
                        })
                    })
                    .collect(),
                checks: checks
                    .as_ref()
                    .and_then(|c| c.models.iter().find(|m| m.model == speed.model).cloned()),
                cost_per_item: per(1.0),
                cost_run,
                cost_per_1000: per(1000.0),
                speed,
            }
        })
        .collect();

    // Whose votes decide: people's where there are any, else the model judges'.
    let (deciding, by) = if people.is_empty() {
        (
            report::leaderboard(&judges, query.rounds),
            Voters::ModelJudges,
        )
    } else {
        (people_board, Voters::People)
    };
    let mut pairs = Vec::new();
    for (i, a) in models.iter().enumerate() {
        for b in &models[i + 1..] {
            let cost = |m: &str| {
                lines
                    .iter()
                    .find(|l| l.model == m)
                    .and_then(|l| l.cost_per_item)
            };
            pairs.push(PairLine {
                a: a.clone(),
                b: b.clone(),
                by,
                decision: decide::pair(&deciding, &[a.clone(), b.clone()])
                    .ok()
                    .flatten(),
                checks: checks.as_ref().and_then(|c| {
                    c.pairs
                        .iter()
                        .find(|p| (&p.a, &p.b) == (a, b) || (&p.a, &p.b) == (b, a))
                        .cloned()
                }),
                cost_ratio: match (cost(a), cost(b)) {
                    (Some(x), Some(y)) if y.amount > 0.0 => Some(x.amount / y.amount),
                    _ => None,
                },
            });
        }
    }

    let categories = if query.category.is_some() {
        Vec::new()
    } else {
        category_lines(
            &items,
            checks.as_ref(),
            &people,
            &judges,
            &models,
            query.rounds,
        )
    };
    let mut report = RunReport {
        run: id,
        name: run.info.name.clone(),
        suite: run.info.suite.display().to_string(),
        items: items.len(),
        category: query.category.clone(),
        currency: query.prices.currency.clone(),
        people_votes: people.len(),
        judge_votes: judges.len(),
        models: lines,
        pairs,
        categories,
        verdict: Vec::new(),
    };
    report.verdict = verdict(&report);
    Ok(report)
}

/// Each category of the items, the most items first: its decision between the run's
/// first two models (people's votes, else the judges') and its pass rates.
fn category_lines(
    items: &[crate::eval::suite::Item],
    checks: Option<&ChecksReport>,
    people: &[VoteRecord],
    judges: &[VoteRecord],
    models: &[String],
    rounds: u32,
) -> Vec<CategoryLine> {
    let mut names: Vec<(String, usize)> = Vec::new();
    for c in items.iter().filter_map(|i| i.category.clone()) {
        match names.iter_mut().find(|(n, _)| *n == c) {
            Some((_, count)) => *count += 1,
            None => names.push((c, 1)),
        }
    }
    if names.len() < 2 {
        return Vec::new();
    }
    names.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    names
        .into_iter()
        .map(|(name, count)| {
            let of = |records: &[VoteRecord]| -> Vec<VoteRecord> {
                records
                    .iter()
                    .filter(|r| {
                        category::of(r)
                            .iter()
                            .any(|c| c.eq_ignore_ascii_case(&name))
                    })
                    .cloned()
                    .collect()
            };
            let votes = match of(people) {
                own if own.is_empty() => of(judges),
                own => own,
            };
            let board = report::leaderboard(&votes, rounds);
            let decision = match models {
                [a, b, ..] => decide::pair(&board, &[a.clone(), b.clone()]).ok().flatten(),
                _ => None,
            };
            let checks = checks
                .and_then(|c| c.by_category.iter().find(|r| r.category == name))
                .map(|r| r.models.clone())
                .unwrap_or_default();
            CategoryLine {
                category: name,
                items: count,
                decision,
                checks,
            }
        })
        .collect()
}

/// What the evidence supports, in plain words: for each pair, preference (only when
/// the intervals settle it), checks (only under p = 0.05) and cost; then each category
/// where the preference is not decided yet.
pub fn verdict(report: &RunReport) -> Vec<String> {
    let mut sentences: Vec<String> = report.pairs.iter().map(pair_sentence).collect();
    for c in &report.categories {
        if let Some(d) = &c.decision
            && !d.settled
        {
            sentences.push(format!(
                "Not yet decided on {}: {}.",
                c.category,
                more_votes(d)
            ));
        }
    }
    sentences
}

fn more_votes(d: &Decision) -> String {
    match d.more_votes {
        Some(n) => format!("about {n} more votes needed"),
        None if d.battles == 0 => "no votes yet".into(),
        None => "more votes needed".into(),
    }
}

/// One pair in a sentence.
fn pair_sentence(pair: &PairLine) -> String {
    let voters = pair.by.as_str();
    // Preference: who, when the intervals settle it.
    let preferred = pair.decision.as_ref().filter(|d| d.settled).map(|d| {
        let p_a = d.prob_a_better.unwrap_or(0.5);
        let (who, p) = if d.ahead == d.a {
            (&d.a, p_a)
        } else {
            (&d.b, 1.0 - p_a)
        };
        (who.clone(), p)
    });
    // Checks: who passes more, when the paired test says it is no chance.
    let checked = pair.checks.as_ref().filter(|t| t.items > 0).map(|t| {
        let better = (t.only_a != t.only_b).then(|| {
            if t.only_a > t.only_b {
                t.a.clone()
            } else {
                t.b.clone()
            }
        });
        (better.filter(|_| t.p_value < 0.05), t.p_value)
    });
    let subject = preferred
        .as_ref()
        .map(|(who, _)| who.clone())
        .or_else(|| checked.as_ref().and_then(|(b, _)| b.clone()))
        .unwrap_or_else(|| pair.a.clone());
    let other = if subject == pair.a { &pair.b } else { &pair.a };
    let ratio = pair
        .cost_ratio
        .map(|r| if subject == pair.a { r } else { 1.0 / r });
    let cost = ratio.map(|r| {
        if (r - 1.0).abs() < 0.05 {
            format!("at about the cost of {other}")
        } else {
            format!("at {r:.1}× the cost of {other}")
        }
    });

    let mut parts = Vec::new();
    match &preferred {
        Some((who, p)) => parts.push(format!("{who} is preferred by {voters} (p = {p:.2})")),
        None => match &pair.decision {
            Some(d) => parts.push(format!(
                "{} and {} are not decided by preference yet ({})",
                pair.a,
                pair.b,
                more_votes(d)
            )),
            None => parts.push(format!("no votes yet between {} and {}", pair.a, pair.b)),
        },
    }
    match &checked {
        Some((Some(better), p)) => parts.push(match &preferred {
            Some((who, _)) if who == better => format!("and passes more checks (p = {p:.2})"),
            Some(_) => format!("but {better} passes more checks (p = {p:.2})"),
            None => format!("and {better} passes more checks (p = {p:.2})"),
        }),
        Some((None, p)) => parts.push(format!("the checks do not tell them apart (p = {p:.2})")),
        None => {}
    }
    let mut sentence = parts.join(match &checked {
        Some((Some(_), _)) => " ",
        _ => "; ",
    });
    if let Some(cost) = cost {
        sentence.push_str(&format!(", {cost}"));
    }
    let better_everywhere = preferred.as_ref().is_some_and(|(who, _)| {
        checked
            .as_ref()
            .is_none_or(|(b, _)| b.as_ref().is_none_or(|b| b == who))
    });
    if better_everywhere && ratio.is_some_and(|r| r < 0.95) {
        sentence.push_str(": the better and the cheaper");
    }
    // Model names keep their own case, at the start of a sentence too.
    sentence + "."
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(settled: bool, p_a: f64, battles: u32, more: Option<u64>) -> Decision {
        Decision {
            a: "qwen-plus".into(),
            b: "ernie-4.5".into(),
            ahead: if p_a >= 0.5 { "qwen-plus" } else { "ernie-4.5" }.into(),
            prob_a_better: Some(p_a),
            battles,
            win_rate: Some(p_a),
            settled,
            more_votes: more,
        }
    }

    fn test(only_a: u64, only_b: u64, p_value: f64) -> PairTest {
        PairTest {
            a: "qwen-plus".into(),
            b: "ernie-4.5".into(),
            items: 40,
            only_a,
            only_b,
            p_value,
        }
    }

    fn pair(decision: Option<Decision>, checks: Option<PairTest>, ratio: Option<f64>) -> PairLine {
        PairLine {
            a: "qwen-plus".into(),
            b: "ernie-4.5".into(),
            by: Voters::People,
            decision,
            checks,
            cost_ratio: ratio,
        }
    }

    /// Nothing is settled: the words say so, and claim no winner.
    #[test]
    fn where_nothing_is_decided_the_words_say_so() {
        let s = pair_sentence(&pair(
            Some(decision(false, 0.71, 30, Some(40))),
            Some(test(3, 2, 1.0)),
            Some(1.4),
        ));
        assert_eq!(
            s,
            "qwen-plus and ernie-4.5 are not decided by preference yet (about 40 more votes needed); the checks do not tell them apart (p = 1.00), at 1.4× the cost of ernie-4.5."
        );
        assert!(!s.contains("is preferred") && !s.contains("passes more"));
        let none = pair_sentence(&pair(None, None, None));
        assert_eq!(none, "no votes yet between qwen-plus and ernie-4.5.");
    }

    /// People prefer one, the checks favour the other: both are said, with "but".
    #[test]
    fn where_preference_and_checks_disagree_both_are_said() {
        let s = pair_sentence(&pair(
            Some(decision(true, 0.97, 200, None)),
            Some(test(1, 9, 0.021)),
            Some(1.4),
        ));
        assert_eq!(
            s,
            "qwen-plus is preferred by people (p = 0.97) but ernie-4.5 passes more checks (p = 0.02), at 1.4× the cost of ernie-4.5."
        );
    }

    /// One model is preferred, passes more checks and costs less: said in so many
    /// words. The p-value is for the preferred model, whichever side it is on.
    #[test]
    fn a_model_better_and_cheaper_is_called_so() {
        let s = pair_sentence(&pair(
            Some(decision(true, 0.02, 200, None)),
            Some(test(1, 9, 0.021)),
            Some(2.0),
        ));
        assert_eq!(
            s,
            "ernie-4.5 is preferred by people (p = 0.98) and passes more checks (p = 0.02), at 0.5× the cost of qwen-plus: the better and the cheaper."
        );
    }
}
