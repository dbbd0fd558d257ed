//! The pairs of a run that can be judged: for every item, every two of the run's
//! models whose answers both came back (`duel review` and `duel judge` go through
//! them), and which of them a judge has already voted on.

use std::collections::{HashMap, HashSet};
use std::io;

use super::run::{AnswerRecord, Run};
use super::suite::Item;
use crate::domain::Finish;
use crate::votes::{SideRecord, VoteRecord};

/// Two models' answers to one item; `models` in the run's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    pub item: Item,
    pub models: [String; 2],
    pub answers: [SideRecord; 2],
}

/// What a run holds to judge.
#[derive(Debug, Default)]
pub struct Pairs {
    /// Items in suite order, then model pairs in the run's order.
    pub ready: Vec<Pair>,
    /// Pairs still missing an answer (or with one that failed): `duel batch --resume`
    /// asks for them.
    pub waiting: usize,
}

/// Names one pair of a run, whichever model was shown as A.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PairKey {
    pub run: String,
    pub item: String,
    /// Sorted by name.
    pub models: [String; 2],
}

impl PairKey {
    pub fn new(run: &str, item: &str, a: &str, b: &str) -> Self {
        let mut models = [a.to_owned(), b.to_owned()];
        models.sort();
        Self {
            run: run.to_owned(),
            item: item.to_owned(),
            models,
        }
    }

    /// The pair within its run as one string (item and the two models), the way a
    /// store names it.
    pub fn within_run(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}",
            self.item, self.models[0], self.models[1]
        )
    }

    /// The pair a vote judged, when it judged one of a run.
    pub fn of(record: &VoteRecord) -> Option<Self> {
        Some(Self::new(
            record.run.as_deref()?,
            record.item.as_deref()?,
            &record.a.model,
            &record.b.model,
        ))
    }
}

impl Pair {
    pub fn key(&self, run: &str) -> PairKey {
        PairKey::new(run, &self.item.id, &self.models[0], &self.models[1])
    }
}

/// The pairs of `run` over its `items`. Where an item's answer was asked for more than
/// once (a failure, then a resume), the last finished one counts.
pub fn pairs(run: &Run, items: &[Item]) -> io::Result<Pairs> {
    let (answers, _) = run.answers()?;
    let mut last: HashMap<(&str, &str), &AnswerRecord> = HashMap::new();
    for answer in &answers {
        if !matches!(answer.side.finish, Finish::Error | Finish::Cancelled) {
            last.insert((answer.item.as_str(), answer.side.model.as_str()), answer);
        }
    }
    let models = &run.info.models;
    let mut out = Pairs::default();
    for item in items {
        for (i, first) in models.iter().enumerate() {
            for second in &models[i + 1..] {
                let found = |model: &str| last.get(&(item.id.as_str(), model)).copied();
                match (found(first), found(second)) {
                    (Some(x), Some(y)) => out.ready.push(Pair {
                        item: item.clone(),
                        models: [first.clone(), second.clone()],
                        answers: [x.side.clone(), y.side.clone()],
                    }),
                    _ => out.waiting += 1,
                }
            }
        }
    }
    Ok(out)
}

/// The vote log for the pairs of a run: `demo-votes.jsonl` for a run of the offline
/// demo models (their votes never reach the real leaderboard), else `votes.jsonl`.
pub fn votes_file(pairs: &[Pair]) -> &'static str {
    let demo = pairs
        .iter()
        .any(|p| p.answers.iter().any(SideRecord::is_demo));
    if demo {
        crate::votes::log::DEMO_FILE_NAME
    } else {
        crate::votes::log::FILE_NAME
    }
}

/// The pairs `judge` has voted on among `records`.
pub fn voted_by(records: &[VoteRecord], judge: &str) -> HashSet<PairKey> {
    records
        .iter()
        .filter(|r| r.judge == judge)
        .filter_map(PairKey::of)
        .collect()
}

/// Whether `judge` sees the pair's second model as A: a fair coin per item, pair and
/// judge, the same every time the judge comes back to it.
pub fn second_shown_first(key: &PairKey, judge: &str) -> bool {
    let seed = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{judge}",
        key.run, key.item, key.models[0], key.models[1]
    );
    use sha2::Digest;
    sha2::Sha256::digest(seed.as_bytes())[0] & 1 == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::run::RunInfo;

    fn item(id: &str) -> Item {
        Item::sample(id)
    }

    fn answer(item: &str, model: &str, text: &str, finish: Finish) -> AnswerRecord {
        AnswerRecord {
            item: item.into(),
            attachments: Vec::new(),
            side: SideRecord::sample(model, text, finish),
        }
    }

    #[test]
    fn every_two_models_with_both_answers_make_a_pair() {
        let dir = tempfile::tempdir().unwrap();
        let run = Run::create(
            dir.path(),
            RunInfo {
                id: "r".into(),
                name: None,
                suite: "s.txt".into(),
                suite_sha256: String::new(),
                models: vec!["x".into(), "y".into(), "z".into()],
                settings: Default::default(),
                created: "2026-11-29T10:00:00.000Z".into(),
            },
        )
        .unwrap();
        for model in ["x", "y", "z"] {
            run.append(&answer("1", model, "ok", Finish::Stop)).unwrap();
        }
        run.append(&answer("2", "x", "ok", Finish::Stop)).unwrap();
        run.append(&answer("2", "y", "first try", Finish::Error))
            .unwrap();
        run.append(&answer("2", "y", "second try", Finish::Stop))
            .unwrap();
        run.append(&answer("2", "z", "cut", Finish::Error)).unwrap();

        let found = pairs(&run, &[item("1"), item("2")]).unwrap();
        let names: Vec<(String, [String; 2])> = found
            .ready
            .iter()
            .map(|p| (p.item.id.clone(), p.models.clone()))
            .collect();
        let pair = |i: &str, a: &str, b: &str| (i.to_owned(), [a.to_owned(), b.to_owned()]);
        assert_eq!(
            names,
            [
                pair("1", "x", "y"),
                pair("1", "x", "z"),
                pair("1", "y", "z"),
                pair("2", "x", "y")
            ]
        );
        assert_eq!(found.ready[3].answers[1].answer, "second try");
        assert_eq!(
            found.waiting, 2,
            "item 2's pairs with z wait for its answer"
        );
    }

    #[test]
    fn votes_on_a_run_of_the_demo_models_stay_out_of_the_real_log() {
        let pair = |model: &str, provider: &str| Pair {
            item: item("1"),
            models: [model.into(), "y".into()],
            answers: [
                SideRecord {
                    provider: provider.into(),
                    ..SideRecord::sample(model, "a", Finish::Stop)
                },
                SideRecord::sample("y", "b", Finish::Stop),
            ],
        };
        assert_eq!(votes_file(&[pair("qwen-plus", "dashscope")]), "votes.jsonl");
        assert_eq!(
            votes_file(&[pair("demo-brisk", "demo")]),
            "demo-votes.jsonl"
        );
    }

    #[test]
    fn the_coin_is_fair_and_the_same_each_time() {
        let heads = (0..2000)
            .filter(|i| second_shown_first(&PairKey::new("run", &i.to_string(), "x", "y"), "alice"))
            .count();
        assert!((900..=1100).contains(&heads), "{heads} of 2000");
        let key = PairKey::new("run", "7", "y", "x");
        assert_eq!(key, PairKey::new("run", "7", "x", "y"));
        assert_eq!(
            second_shown_first(&key, "alice"),
            second_shown_first(&key, "alice")
        );
    }
}
