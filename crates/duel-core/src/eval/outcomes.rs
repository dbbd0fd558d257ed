//! The figures per model of a run's answers (answered, failed by kind, median time
//! to first token and speed, the slowest answers, tokens in and out, cost where models
//! have prices), from the latest answer of each item: `duel batch`'s summary and
//! `duel report` read them.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::cost::{Cost, Prices, Tokens};
use crate::domain::Finish;
use crate::eval::run::AnswerRecord;
use crate::eval::suite::Item;
use crate::votes::SideRecord;

/// The latest outcome of each (item, model), reduced to what the summary needs.
#[derive(Default)]
pub struct Outcomes {
    latest: HashMap<(String, String), Outcome>,
}

struct Outcome {
    /// The failure's kind, as its message begins ("rate limited"); none for an answer.
    failed: Option<String>,
    ttft_ms: Option<u64>,
    total_ms: Option<u64>,
    tokens_per_sec: Option<f64>,
    input_tokens: u64,
    output_tokens: u64,
    /// What the answer was billed for, for its cost.
    tokens: Tokens,
}

/// One model's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelSummary {
    pub model: String,
    /// Items with an answer (cut at the length limit or filtered included).
    pub answered: usize,
    /// Items whose latest attempt failed.
    pub failed: usize,
    /// Failures by kind.
    pub failures: BTreeMap<String, usize>,
    pub ttft_ms_median: Option<u64>,
    /// Output tokens a second after the first token, median over answers.
    pub tokens_per_sec_median: Option<f64>,
    /// The time nine answers in ten took at most (nearest rank).
    pub total_ms_p90: Option<u64>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// What the answers cost, in the report currency; `None` without a price.
    pub cost: Option<Cost>,
}

impl Outcomes {
    /// Every answer of a run to an item of `items` (an answer to an item the suite no
    /// longer has is not the run's any more).
    pub fn of(items: &[Item], answers: &[AnswerRecord]) -> Self {
        let by_id: HashMap<&str, &Item> = items.iter().map(|i| (i.id.as_str(), i)).collect();
        let mut outcomes = Outcomes::default();
        for answer in answers {
            if let Some(item) = by_id.get(answer.item.as_str()) {
                outcomes.add(item, &answer.side);
            }
        }
        outcomes
    }

    /// Takes in an answer to `item`; a finished answer is never replaced by a failure.
    pub fn add(&mut self, item: &Item, side: &SideRecord) {
        let tokens = Tokens::of(side, || item.sent_chars());
        let item = item.id.as_str();
        let failed = matches!(side.finish, Finish::Error | Finish::Cancelled).then(|| {
            let error = side.error.as_deref().unwrap_or("stopped");
            kind_of(error).to_owned()
        });
        let key = (item.to_owned(), side.model.clone());
        if failed.is_some() && self.latest.get(&key).is_some_and(|o| o.failed.is_none()) {
            return;
        }
        let answer_tokens = tokens;
        let tokens = side
            .output_tokens
            .or(side.output_tokens_estimate.as_ref().map(|e| e.tokens))
            .unwrap_or(0);
        let tokens_per_sec = match (side.ttft_ms, side.total_ms) {
            (Some(first), Some(total)) if total > first + 50 && tokens > 0 => {
                Some(tokens as f64 * 1000.0 / (total - first) as f64)
            }
            _ => None,
        };
        self.latest.insert(
            key,
            Outcome {
                failed,
                ttft_ms: side.ttft_ms,
                total_ms: side.total_ms,
                tokens_per_sec,
                input_tokens: side.input_tokens.unwrap_or(0),
                output_tokens: tokens,
                tokens: answer_tokens,
            },
        );
    }

    /// The figures of each of `models`, in that order, with costs at `prices`.
    pub fn summaries<'m>(
        &self,
        models: impl IntoIterator<Item = &'m str>,
        prices: &Prices,
    ) -> Vec<ModelSummary> {
        models
            .into_iter()
            .map(|name| {
                let outcomes: Vec<&Outcome> = self
                    .latest
                    .iter()
                    .filter(|((_, model), _)| model == name)
                    .map(|(_, o)| o)
                    .collect();
                let mut failures = BTreeMap::new();
                for kind in outcomes.iter().filter_map(|o| o.failed.as_ref()) {
                    *failures.entry(kind.clone()).or_insert(0) += 1;
                }
                let answered: Vec<&&Outcome> =
                    outcomes.iter().filter(|o| o.failed.is_none()).collect();
                ModelSummary {
                    model: name.to_owned(),
                    answered: answered.len(),
                    failed: outcomes.len() - answered.len(),
                    failures,
                    ttft_ms_median: median(answered.iter().filter_map(|o| o.ttft_ms)),
                    tokens_per_sec_median: median_f64(
                        answered.iter().filter_map(|o| o.tokens_per_sec),
                    ),
                    total_ms_p90: p90(answered.iter().filter_map(|o| o.total_ms)),
                    input_tokens: answered.iter().map(|o| o.input_tokens).sum(),
                    output_tokens: answered.iter().map(|o| o.output_tokens).sum(),
                    cost: Cost::sum(answered.iter().map(|o| prices.cost(name, &o.tokens))),
                }
            })
            .collect()
    }
}

/// An error message's kind: the words before its HTTP status or provider message.
fn kind_of(error: &str) -> &str {
    let end = [error.find(" (HTTP"), error.find(':')]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(error.len());
    error[..end].trim()
}

fn median(values: impl Iterator<Item = u64>) -> Option<u64> {
    let mut v: Vec<u64> = values.collect();
    v.sort_unstable();
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2),
    }
}

/// The 90th percentile of `values`, by nearest rank: the smallest value that at least
/// nine in ten are not above.
fn p90(values: impl Iterator<Item = u64>) -> Option<u64> {
    let mut v: Vec<u64> = values.collect();
    v.sort_unstable();
    let rank = (v.len() * 9).div_ceil(10);
    v.get(rank.checked_sub(1)?).copied()
}

fn median_f64(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(
        model: &str,
        finish: Finish,
        error: Option<&str>,
        ttft: u64,
        tokens: u64,
    ) -> SideRecord {
        SideRecord {
            error: error.map(Into::into),
            ttft_ms: Some(ttft),
            total_ms: Some(ttft + 1000),
            input_tokens: Some(10),
            output_tokens: Some(tokens),
            ..SideRecord::sample(model, "x", finish)
        }
    }

    #[test]
    fn the_latest_outcome_of_each_item_counts_and_an_answer_is_never_undone() {
        let mut tally = Outcomes::default();
        tally.add(
            &Item::sample("1"),
            &side(
                "m",
                Finish::Error,
                Some("rate limited (HTTP 429): slow down"),
                0,
                0,
            ),
        );
        tally.add(&Item::sample("1"), &side("m", Finish::Stop, None, 100, 50));
        tally.add(
            &Item::sample("1"),
            &side("m", Finish::Error, Some("server error (HTTP 500)"), 0, 0),
        );
        tally.add(&Item::sample("2"), &side("m", Finish::Stop, None, 300, 100));
        tally.add(
            &Item::sample("3"),
            &side("m", Finish::Length, None, 200, 200),
        );
        tally.add(
            &Item::sample("4"),
            &side("m", Finish::Error, Some("rate limited (HTTP 429)"), 0, 0),
        );
        tally.add(
            &Item::sample("5"),
            &side(
                "m",
                Finish::Error,
                Some("timed out: no byte for 120 s"),
                0,
                0,
            ),
        );
        let [s] =
            <[ModelSummary; 1]>::try_from(tally.summaries(["m"], &Prices::default())).unwrap();
        assert_eq!((s.answered, s.failed), (3, 2));
        assert_eq!(
            s.failures,
            BTreeMap::from([("rate limited".into(), 1), ("timed out".into(), 1)])
        );
        assert_eq!(s.ttft_ms_median, Some(200));
        assert_eq!(s.tokens_per_sec_median, Some(100.0));
        assert_eq!((s.input_tokens, s.output_tokens), (30, 350));
    }

    #[test]
    fn p90_is_the_nearest_rank() {
        assert_eq!(p90((1..=10).map(|n| n * 100)), Some(900));
        assert_eq!(p90([5].into_iter()), Some(5));
        assert_eq!(p90((1..=20).map(|n| n * 10)), Some(180));
        assert_eq!(p90(std::iter::empty()), None);
    }
}
