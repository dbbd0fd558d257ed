//! What `duel stats` finds in the vote logs, as one value: the logs read and what was
//! left out of them, the filters in force, the judges and categories, the leaderboard
//! (ratings, position bias, matrix), and each section asked for (style control, judge
//! agreement with its doubts, the decision, per-category boards). Every view of it —
//! the text, `--plot`, `--html`, `--json` — only renders a [`Report`]; none computes.
//!
//! [`Report::build`] is where the rules live: a vote on a failed side is no battle
//! (left out of every figure unless asked to keep it), a model judge's vote says
//! nothing about position, the filters keep a judge's, blind, a run's or a category's
//! votes. A later section (checks, cost) is one more field here, built beside the
//! others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::VoteRecord;
use super::category::{self, CategoryBoard};
use super::decide::{self, Decision};
use super::log::{self, MergeError, Skipped};
use super::rating::{Leaderboard, Matrix, ModelStats, PositionBias, Tally};
use super::style_control::{StyleControl, StyleVotes};
use crate::cost::{Cost, Prices};
use crate::domain::Vote;
use crate::eval::check::record::ChecksReport;
use crate::eval::run::Run;
use crate::eval::trust::{self, Consistency, JudgeAgreement, JudgeDoubt, Trust};

/// What a report is asked for: the logs, the filters and the sections.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub logs: Vec<PathBuf>,
    /// The user named the logs: a missing one is an error, not an empty log.
    pub named: bool,
    /// Leave out votes on the offline demo models (the default log, read without
    /// `--demo`).
    pub without_demo: bool,
    /// Keep the votes where a side failed (`--include-failed`).
    pub include_failed: bool,
    pub judge: Option<String>,
    pub blind_only: bool,
    /// A run's name or id, as the user gave it.
    pub run: Option<String>,
    pub category: Option<String>,
    /// Bootstrap rounds.
    pub rounds: u32,
    pub matrix: bool,
    pub agreement: bool,
    pub style_control: bool,
    pub by_category: bool,
    /// `--pair A,B`, empty for the top two.
    pub pair: Vec<String>,
    /// `--checks`: the run's pass rates beside its votes (needs `run`).
    pub checks: bool,
    /// The models' prices, for what their answers cost per battle won; none: no cost.
    pub prices: Prices,
    /// A team's store to read the votes from instead of `logs` (never the demo's).
    pub store: Option<std::sync::Arc<dyn crate::store::Store>>,
}

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Logs(#[from] MergeError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The user's mistake, in words: a wrong `--pair`, `--checks` without a run.
    #[error("{0}")]
    Usage(String),
    /// A run's answers or checks could not be read for `--checks`.
    #[error("reading the checks of run {run}: {source}")]
    Checks { run: String, source: std::io::Error },
}

/// Votes per judge, most first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JudgeCount {
    pub judge: String,
    pub votes: usize,
}

/// The logs read, and what was left out before any filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Read {
    pub logs: Vec<PathBuf>,
    /// Unreadable lines, with their log.
    pub skipped: Vec<(PathBuf, Skipped)>,
    /// Copies of a record met in an earlier log, counted once.
    pub duplicates: usize,
    /// Votes on the offline demo models, left out of the default log.
    pub demo_left_out: usize,
    /// The votes the filters chose from (after the demo rule, before the failed one).
    pub votes: usize,
    /// Votes where a side failed, left out (0 with `--include-failed`).
    pub failed_left_out: usize,
    /// Every judge in the logs, most votes first.
    pub judges: Vec<JudgeCount>,
    /// Every category of the votes kept by the failed rule.
    pub categories: BTreeSet<String>,
}

/// `--run`: what the user asked for, and the run id it filters on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunFilter {
    pub asked: String,
    pub id: String,
    /// Why no run of that name is in the data dir, when no vote is on it either
    /// (most likely a typo).
    #[serde(skip)]
    pub unknown: Option<String>,
}

/// The filters in force.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Filters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub blind_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

impl Filters {
    pub fn any(&self) -> bool {
        self.judge.is_some() || self.blind_only || self.run.is_some() || self.category.is_some()
    }

    fn keep(&self, r: &VoteRecord) -> bool {
        self.judge.as_ref().is_none_or(|j| &r.judge == j)
            && (!self.blind_only || r.blind)
            && self
                .run
                .as_ref()
                .is_none_or(|run| r.run.as_ref() == Some(&run.id))
            && self
                .category
                .as_deref()
                .is_none_or(|c| category::matches(r, c))
    }
}

/// Judge agreement (`--agreement`): the figures, and what in them gives doubt.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Agreement {
    pub trust: Trust,
    pub doubts: Vec<JudgeDoubt>,
}

/// Everything `duel stats` reports; see the module's documentation.
#[derive(Clone, Debug)]
pub struct Report {
    pub read: Read,
    pub filters: Filters,
    /// The votes left after the filters, which every figure below is made of.
    pub votes: usize,
    /// Votes per judge among those.
    pub judges: Vec<JudgeCount>,
    pub board: Leaderboard,
    /// `--matrix` was asked for (the board always has the matrix; the page draws it).
    pub matrix: bool,
    /// The top two, or `--pair`: how likely the first is better, and the votes that
    /// would settle it.
    pub decision: Option<Decision>,
    /// The decision is `--pair`'s, not the top two's.
    pub pair_asked: bool,
    pub style_control: Option<StyleControl>,
    pub agreement: Option<Agreement>,
    pub by_category: Option<Vec<CategoryBoard>>,
    /// `--checks`: the run's checks summed up (SPEC §9).
    pub checks: Option<ChecksReport>,
    /// Where models have prices: what each one's answers in these battles cost, and
    /// per battle won, in the board's order.
    pub spend: Option<Vec<Spend>>,
    /// The currency `spend` is in.
    pub currency: Option<String>,
}

/// What a model's answers in the battles counted cost, and per battle won (a tie or
/// both-bad counts half a win, as in the ratings).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spend {
    pub model: String,
    pub battles: usize,
    pub won: f64,
    /// `None` for a model without a price.
    pub cost: Option<Cost>,
    pub per_win: Option<Cost>,
}

/// What each of `models` spent in `records`, at `prices`.
fn spend(records: &[VoteRecord], models: &[String], prices: &Prices) -> Vec<Spend> {
    models
        .iter()
        .map(|model| {
            let mut battles = 0;
            let mut won = 0.0;
            let mut costs = Vec::new();
            for r in records {
                for (side, record) in [(Vote::A, &r.a), (Vote::B, &r.b)] {
                    if record.model != *model {
                        continue;
                    }
                    battles += 1;
                    won += match r.vote {
                        v if v == side => 1.0,
                        Vote::Tie | Vote::BothBad => 0.5,
                        _ => 0.0,
                    };
                    let sent = || {
                        let history = record.history.iter().flatten();
                        r.prompt.chars().count()
                            + history.map(|m| m.content.chars().count()).sum::<usize>()
                    };
                    costs.push(prices.of_side(record, sent));
                }
            }
            let cost = Cost::sum(costs);
            Spend {
                model: model.clone(),
                battles,
                won,
                cost,
                per_win: cost.filter(|_| won > 0.0).map(|c| Cost {
                    amount: c.amount / won,
                    ..c
                }),
            }
        })
        .collect()
}

impl Report {
    /// Reads `query`'s logs and computes what it asks for; `data_dir` resolves `--run`
    /// against the runs there.
    pub fn build(query: &Query, data_dir: &Path) -> Result<Self, ReportError> {
        Self::build_keeping(query, data_dir).map(|(report, _)| report)
    }

    /// `build`, and the votes every figure was made of (after the filters).
    pub fn build_keeping(
        query: &Query,
        data_dir: &Path,
    ) -> Result<(Self, Vec<VoteRecord>), ReportError> {
        let (mut merged, logs) = match &query.store {
            Some(store) => (store.votes(false)?, vec![PathBuf::from(store.describe())]),
            None => (log::merge(&query.logs, query.named)?, query.logs.clone()),
        };
        let demo_left_out = if query.without_demo {
            merged.without_demo()
        } else {
            0
        };
        let mut records = merged.records;
        let votes = records.len();
        let all_judges = judges(&records);
        // A vote on a failed side is no battle: left out of every figure below
        // (ratings, bias, agreement, the decision, each view of them) unless asked to
        // keep it.
        if !query.include_failed {
            records.retain(|r| !r.failed());
        }
        let failed_left_out = votes - records.len();
        let filters = Filters {
            judge: query.judge.clone(),
            blind_only: query.blind_only,
            run: query
                .run
                .as_deref()
                .map(|wanted| run_filter(data_dir, wanted, &records)),
            category: query.category.clone(),
        };
        let categories = records.iter().flat_map(category::of).collect();
        records.retain(|r| filters.keep(r));

        let board = leaderboard(&records, query.rounds);
        let decision = decide::pair(&board, &query.pair).map_err(ReportError::Usage)?;
        let agreement = query.agreement.then(|| {
            let trust = trust::trust(&records);
            let doubts = trust.doubts();
            Agreement { trust, doubts }
        });
        let checks = match (&query.run, query.checks) {
            (Some(wanted), true) => Some(run_checks(data_dir, wanted)?),
            (None, true) => {
                return Err(ReportError::Usage(
                    "--checks reads a run's checks: give --run RUN".into(),
                ));
            }
            _ => None,
        };
        let models: Vec<String> = board.models.iter().map(|m| m.model.clone()).collect();
        let spend = query
            .prices
            .currency
            .is_some()
            .then(|| spend(&records, &models, &query.prices));
        let report = Self {
            checks,
            spend,
            currency: query.prices.currency.clone(),
            read: Read {
                logs,
                skipped: merged.skipped,
                duplicates: merged.duplicates,
                demo_left_out,
                votes,
                failed_left_out,
                judges: all_judges,
                categories,
            },
            filters,
            votes: records.len(),
            judges: judges(&records),
            matrix: query.matrix,
            decision,
            pair_asked: !query.pair.is_empty(),
            style_control: query
                .style_control
                .then(|| StyleVotes::of(&records).fit(query.rounds)),
            agreement,
            by_category: query
                .by_category
                .then(|| category::boards(&records, query.rounds)),
            board,
        };
        Ok((report, records))
    }
}

/// The checks of the run `wanted` names.
fn run_checks(data_dir: &Path, wanted: &str) -> Result<ChecksReport, ReportError> {
    let run = Run::find(data_dir, wanted).map_err(ReportError::Usage)?;
    let items = run
        .items()
        .map_err(|e| ReportError::Usage(format!("run {}: {e}", run.info.id)))?;
    ChecksReport::of(&run, &items, 0, None).map_err(|source| ReportError::Checks {
        run: run.info.id.clone(),
        source,
    })
}

/// The run `wanted` names: resolved against the data dir's runs when it names one
/// there, else taken as a run id as it is, so logs pooled from other machines filter
/// too.
fn run_filter(data_dir: &Path, wanted: &str, records: &[VoteRecord]) -> RunFilter {
    let (id, unknown) = match Run::find(data_dir, wanted) {
        Ok(run) => (run.info.id, None),
        Err(why) => {
            let on_a_vote = records.iter().any(|r| r.run.as_deref() == Some(wanted));
            (wanted.to_owned(), (!on_a_vote).then_some(why))
        }
    };
    RunFilter {
        asked: wanted.to_owned(),
        id,
        unknown,
    }
}

/// Votes per judge of `records`, most first.
pub fn judges(records: &[VoteRecord]) -> Vec<JudgeCount> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in records {
        *counts.entry(&r.judge).or_default() += 1;
    }
    let mut judges: Vec<JudgeCount> = counts
        .into_iter()
        .map(|(judge, votes)| JudgeCount {
            judge: judge.to_owned(),
            votes,
        })
        .collect();
    judges.sort_by(|x, y| y.votes.cmp(&x.votes).then_with(|| x.judge.cmp(&y.judge)));
    judges
}

/// The leaderboard of `records` with `rounds` bootstrap rounds.
pub fn leaderboard(records: &[VoteRecord], rounds: u32) -> Leaderboard {
    let mut tally = Tally::new();
    for r in records {
        // A model judge saw both arrangements: its vote says nothing about position.
        if r.verdicts.is_some() {
            tally.add_unplaced(&r.a.model, &r.b.model, r.vote);
        } else {
            tally.add(&r.a.model, &r.b.model, r.vote);
        }
    }
    tally.leaderboard(rounds)
}

/// `duel stats --json`: SPEC §6's object, with `judges`, (on `--matrix`) `matrix`,
/// (on `--agreement`) SPEC §8's `agreement` and `judges_consistency`, (on
/// `--style-control`) `style_control`, (on `--pair`) `decision` and (on
/// `--by-category`) `by_category`. Past those, a field appears only when it says
/// something, as the text's lines do: `filters` (with the votes they chose from, and
/// the judges and categories in the logs), `duplicates`, `demo_left_out`, and on
/// `--agreement` `agreement_doubts` (the notes under its tables) and
/// `people_longer_preferred`.
#[derive(Serialize)]
struct Json<'a> {
    votes: usize,
    skipped_lines: usize,
    failed_left_out: usize,
    models: &'a [ModelStats],
    position_bias: &'a PositionBias,
    judges: &'a [JudgeCount],
    #[serde(skip_serializing_if = "Option::is_none")]
    matrix: Option<&'a Matrix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agreement: Option<&'a [JudgeAgreement]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    judges_consistency: Option<&'a [Consistency]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agreement_doubts: Option<&'a [JudgeDoubt]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    people_longer_preferred: Option<Vec<PersonLength<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<&'a Decision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by_category: Option<&'a [CategoryBoard]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    style_control: Option<&'a StyleControl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<&'a ChecksReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spend: Option<&'a [Spend]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filters: Option<FiltersJson<'a>>,
    #[serde(skip_serializing_if = "is_zero")]
    duplicates: usize,
    #[serde(skip_serializing_if = "is_zero")]
    demo_left_out: usize,
}

#[derive(Serialize)]
struct FiltersJson<'a> {
    #[serde(flatten)]
    filters: &'a Filters,
    /// The votes the filters chose from.
    votes_read: usize,
    judges_in_logs: &'a [JudgeCount],
    categories_in_logs: &'a BTreeSet<String>,
}

/// A person's taste for length, beside the model judges'.
#[derive(Serialize)]
struct PersonLength<'a> {
    judge: &'a str,
    decisive: usize,
    longer_preferred: Option<f64>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let trust = self.agreement.as_ref();
        Json {
            votes: self.board.votes,
            skipped_lines: self.read.skipped.len(),
            failed_left_out: self.read.failed_left_out,
            models: &self.board.models,
            position_bias: &self.board.position_bias,
            judges: &self.judges,
            matrix: self.matrix.then_some(&self.board.matrix),
            agreement: trust.map(|t| t.trust.agreement.as_slice()),
            judges_consistency: trust.map(|t| t.trust.consistency.as_slice()),
            agreement_doubts: trust.map(|t| t.doubts.as_slice()),
            people_longer_preferred: trust.map(|t| {
                t.trust
                    .people
                    .iter()
                    .map(|(judge, length)| PersonLength {
                        judge,
                        decisive: length.decisive,
                        longer_preferred: length.rate(),
                    })
                    .collect()
            }),
            // SPEC §6's shape stays as it is unless a pair is asked for.
            decision: self.decision.as_ref().filter(|_| self.pair_asked),
            by_category: self.by_category.as_deref(),
            style_control: self.style_control.as_ref(),
            checks: self.checks.as_ref(),
            spend: self.spend.as_deref(),
            currency: self.spend.as_ref().and(self.currency.as_deref()),
            filters: self.filters.any().then(|| FiltersJson {
                filters: &self.filters,
                votes_read: self.read.votes,
                judges_in_logs: &self.read.judges,
                categories_in_logs: &self.read.categories,
            }),
            duplicates: self.read.duplicates,
            demo_left_out: self.read.demo_left_out,
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::domain::{Finish, Vote};

    fn record(a: &str, b: &str, vote: Vote, judge: &str) -> VoteRecord {
        VoteRecord::sample(a, b, vote, judge)
    }

    /// `r` as a model judge's vote whose `verdicts` the log holds as written, read
    /// back as every reader reads them.
    fn judged(r: VoteRecord, verdicts: [&str; 2]) -> VoteRecord {
        let mut line = serde_json::to_value(r).unwrap();
        line["verdicts"] = serde_json::json!(verdicts);
        serde_json::from_value(line).unwrap()
    }

    fn write_log(path: &Path, records: &[VoteRecord]) {
        for r in records {
            log::append(path, r).unwrap();
        }
    }

    #[test]
    fn logs_merge_and_count_a_shared_record_once() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (dir.path().join("one.jsonl"), dir.path().join("two.jsonl"));
        let shared = record("x", "y", Vote::A, "alice");
        write_log(&one, &[shared.clone(), record("x", "y", Vote::B, "alice")]);
        write_log(&two, &[record("y", "x", Vote::Tie, "bob"), shared.clone()]);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&two)
            .unwrap()
            .write_all(b"{torn\n")
            .unwrap();
        let loaded = log::merge(&[one, two], true).unwrap();
        assert_eq!(loaded.records.len(), 3);
        assert_eq!(loaded.duplicates, 1);
        assert_eq!(loaded.skipped.len(), 1);
        assert_eq!(
            loaded.records.iter().filter(|r| r.id == shared.id).count(),
            1
        );
        assert!(log::merge(&[dir.path().join("nope.jsonl")], true).is_err());
        assert!(
            log::merge(&[dir.path().join("nope.jsonl")], false)
                .unwrap()
                .records
                .is_empty()
        );
    }

    #[test]
    fn judges_are_counted_most_first() {
        let records = [
            record("x", "y", Vote::A, "bob"),
            record("x", "y", Vote::A, "alice"),
            record("x", "y", Vote::B, "bob"),
        ];
        let j = judges(&records);
        assert_eq!(
            j,
            [
                JudgeCount {
                    judge: "bob".into(),
                    votes: 2
                },
                JudgeCount {
                    judge: "alice".into(),
                    votes: 1
                }
            ]
        );
    }

    /// alice: 12 votes of x against y (x wins 9, as A 6 times), 3 more where y's side
    /// failed; llm:m: 8 votes, x always shown as A and winning; 4 of alice's on a
    /// `coding` item, 2 with a Chinese prompt.
    fn mixed_log(dir: &Path) -> PathBuf {
        let mut records = Vec::new();
        for i in 0..12 {
            let (a, b, vote) = match i {
                0..6 => ("x", "y", Vote::A),
                6..9 => ("y", "x", Vote::B),
                _ => ("x", "y", Vote::B),
            };
            let mut r = record(a, b, vote, "alice");
            if i < 4 {
                r.category = Some("coding".into());
            }
            if (4..6).contains(&i) {
                r.prompt = "请用中文解释一下快速排序算法的原理".into();
            }
            records.push(r);
        }
        for _ in 0..3 {
            let mut r = record("x", "y", Vote::A, "alice");
            r.b.finish = Finish::Error;
            r.b.error = Some("boom".into());
            records.push(r);
        }
        for _ in 0..8 {
            records.push(judged(record("x", "y", Vote::A, "llm:m"), ["A", "B"]));
        }
        let path = dir.join("votes.jsonl");
        write_log(&path, &records);
        path
    }

    fn query(log: PathBuf) -> Query {
        Query {
            logs: vec![log],
            named: true,
            rounds: 20,
            ..Query::default()
        }
    }

    #[test]
    fn a_report_leaves_out_failed_votes_and_a_model_judge_s_position() {
        let dir = tempfile::tempdir().unwrap();
        let log = mixed_log(dir.path());
        let report = Report::build(&query(log.clone()), dir.path()).unwrap();
        assert_eq!(report.read.votes, 23);
        assert_eq!(report.read.failed_left_out, 3);
        assert_eq!(report.votes, 20);
        assert_eq!(report.board.votes, 20);
        assert_eq!(
            report.read.judges[0].votes, 15,
            "the failed ones are alice's"
        );
        assert_eq!(
            report.judges[0],
            JudgeCount {
                judge: "alice".into(),
                votes: 12
            }
        );
        assert_eq!(report.judges[1].judge, "llm:m");
        // Only alice's votes say anything about position: A won 6 + 3 of her 12.
        let bias = &report.board.position_bias;
        assert_eq!((bias.a_wins, bias.b_wins), (6, 6));
        // The top two, decided; shown in JSON only when `--pair` asks.
        let decision = report.decision.as_ref().expect("two models");
        assert_eq!(decision.ahead, "x");
        let json = serde_json::to_value(&report).unwrap();
        assert!(json.get("decision").is_none(), "{json}");
        assert_eq!(json["failed_left_out"], 3);
        assert!(json.get("filters").is_none(), "{json}");
        assert!(report.agreement.is_none() && report.by_category.is_none());

        let kept = Report::build(
            &Query {
                include_failed: true,
                pair: vec!["y".into(), "x".into()],
                ..query(log)
            },
            dir.path(),
        )
        .unwrap();
        assert_eq!((kept.votes, kept.read.failed_left_out), (23, 0));
        assert_eq!(serde_json::to_value(&kept).unwrap()["decision"]["a"], "y");
    }

    #[test]
    fn a_report_knows_the_categories_and_filters_on_one() {
        let dir = tempfile::tempdir().unwrap();
        let log = mixed_log(dir.path());
        let report = Report::build(
            &Query {
                category: Some("Coding".into()),
                by_category: true,
                ..query(log.clone())
            },
            dir.path(),
        )
        .unwrap();
        let known: Vec<&str> = report.read.categories.iter().map(String::as_str).collect();
        assert_eq!(known, ["chinese", "coding", "english"]);
        assert_eq!(report.votes, 4);
        assert!(report.filters.any());
        let boards = report.by_category.as_ref().expect("asked for");
        assert_eq!(boards[0].category, "coding");
        assert_eq!(boards[0].votes, 4);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["filters"]["category"], "Coding");
        assert_eq!(json["filters"]["votes_read"], 23);
        assert_eq!(json["filters"]["categories_in_logs"][1], "coding");

        let every = Report::build(
            &Query {
                by_category: true,
                ..query(log)
            },
            dir.path(),
        )
        .unwrap();
        let boards = every.by_category.expect("asked for");
        let votes: Vec<(&str, usize)> = boards
            .iter()
            .map(|b| (b.category.as_str(), b.votes))
            .collect();
        assert_eq!(votes, [("english", 18), ("coding", 4), ("chinese", 2)]);
    }

    #[test]
    fn a_report_holds_the_agreement_doubts_and_a_wrong_pair_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut records = Vec::new();
        for item in 0..6 {
            let mut person = record("x", "y", Vote::A, "alice");
            let mut model = record("x", "y", Vote::A, "llm:m");
            for r in [&mut person, &mut model] {
                r.run = Some("r1".into());
                r.item = Some(item.to_string());
            }
            model.vote = Vote::Tie;
            records.push(person);
            // It keeps to the answer shown first: every verdict flips with the order.
            records.push(judged(model, ["A", "A"]));
        }
        let log = dir.path().join("votes.jsonl");
        write_log(&log, &records);
        let report = Report::build(
            &Query {
                agreement: true,
                ..query(log.clone())
            },
            dir.path(),
        )
        .unwrap();
        let agreement = report.agreement.as_ref().expect("asked for");
        assert_eq!(agreement.doubts, agreement.trust.doubts());
        let kinds: Vec<(&[String], &trust::Doubt)> = agreement
            .doubts
            .iter()
            .map(|d| (d.judges.as_slice(), &d.doubt))
            .collect();
        assert!(
            kinds
                .iter()
                .any(|(who, d)| who.len() == 2 && matches!(d, trust::Doubt::KappaUndefined { .. })),
            "{kinds:?}"
        );
        assert!(
            kinds.iter().any(|(who, d)| who == &["llm:m".to_owned()]
                && **d == trust::Doubt::FollowsPosition { consistent: 0.0 }),
            "{kinds:?}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["agreement_doubts"].as_array().unwrap().len(),
            agreement.doubts.len()
        );
        assert_eq!(json["judges_consistency"][0]["judge"], "llm:m");

        let wrong = Report::build(
            &Query {
                pair: vec!["x".into(), "nobody".into()],
                ..query(log)
            },
            dir.path(),
        );
        assert!(matches!(wrong, Err(ReportError::Usage(why)) if why.contains("nobody")));
    }
}
