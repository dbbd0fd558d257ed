//! How far to trust a judge, from the vote log (SPEC §8, `duel stats --agreement`):
//! every two judges compared on the pairs both voted on, and each model judge's
//! position consistency and taste for longer answers. The maths only; `duel stats`
//! prints it.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use serde::Serialize;

use super::agreement::{Agreement, agreement};
use super::pairs::PairKey;
use crate::domain::Verdict;
use crate::domain::Vote;
use crate::votes::VoteRecord;

/// A model judge signs its votes `llm:MODEL`.
pub const MODEL_JUDGE_PREFIX: &str = "llm:";

/// The seed of kappa's bootstrap, so the same log always gives the same interval.
const SEED: u64 = 0x6475_656c;

pub fn is_model_judge(judge: &str) -> bool {
    judge.starts_with(MODEL_JUDGE_PREFIX)
}

/// How two judges agree on the pairs both voted on (SPEC §8's `agreement` entry).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JudgeAgreement {
    pub judges: [String; 2],
    #[serde(flatten)]
    pub agreement: Agreement,
    /// Why `kappa` is null, when it is: which judge gave one verdict throughout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kappa_undefined: Option<String>,
}

/// Why kappa is undefined for `judges` whose verdicts `constant` were one throughout,
/// in words: "llm:first said tie on every common item".
fn undefined_because(judges: &[String; 2], constant: [Option<Verdict>; 2]) -> Option<String> {
    let word = |v: Verdict| match v {
        Verdict::A | Verdict::B => "the same model",
        Verdict::Tie => "tie",
    };
    let said: Vec<String> = judges
        .iter()
        .zip(constant)
        .filter_map(|(judge, v)| Some(format!("{judge} said {} on every common item", word(v?))))
        .collect();
    (!said.is_empty()).then(|| said.join(" and "))
}

/// A model judge's own reliability (SPEC §8's `judges_consistency` entry).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Consistency {
    pub judge: String,
    /// The pairs it judged with both orders' verdicts readable.
    pub pairs: usize,
    /// The share of those whose verdict survives swapping the answers; null without pairs.
    pub consistent: Option<f64>,
    /// The share of its decisive votes between answers of different length that the
    /// longer answer won; null without such votes.
    pub longer_preferred: Option<f64>,
    #[serde(skip)]
    pub length: LengthPreference,
}

/// Decisive votes between answers of different length, and how many the longer won.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LengthPreference {
    pub longer: usize,
    pub decisive: usize,
}

impl LengthPreference {
    pub fn rate(self) -> Option<f64> {
        (self.decisive > 0).then(|| self.longer as f64 / self.decisive as f64)
    }

    /// Counts `records`' votes: length is the answer's characters.
    pub fn of<'a>(records: impl IntoIterator<Item = &'a VoteRecord>) -> Self {
        let mut out = Self::default();
        for r in records {
            let (a, b) = (r.a.answer.chars().count(), r.b.answer.chars().count());
            let a_won = match r.vote {
                Vote::A => true,
                Vote::B => false,
                Vote::Tie | Vote::BothBad => continue,
            };
            if a != b {
                out.decisive += 1;
                if a_won == (a > b) {
                    out.longer += 1;
                }
            }
        }
        out
    }
}

/// Everything `--agreement` reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trust {
    /// Every two judges with common items: people first, then model judges, by name.
    pub agreement: Vec<JudgeAgreement>,
    /// Every model judge with a vote here, by name.
    pub consistency: Vec<Consistency>,
    /// Each person's length preference over their votes here (the latest on each pair
    /// of a run), to set beside the model judges'.
    pub people: Vec<(String, LengthPreference)>,
}

/// Fewer common items than this leave kappa's interval too wide to act on.
pub const FEW_ITEMS: usize = 50;
/// A kappa interval reaching below this: fair agreement at best (Landis and Koch).
pub const LOW_KAPPA: f64 = 0.4;
/// A model judge that keeps its verdict across the swap less often than this follows
/// the position more than the answers (MT-bench's GPT-4: about 65 %).
pub const LOW_CONSISTENCY: f64 = 0.6;
/// The longer answer winning this share of decisive votes or more (or the shorter
/// one, the same share): a taste for length, not quality.
pub const STRONG_LENGTH: f64 = 0.7;
/// Fewer decisive votes than this say nothing about a taste for length.
pub const MIN_LENGTH_VOTES: usize = 10;

/// A reason to doubt a judge, or what two judges' agreement shows: what the notes
/// under `duel stats --agreement` say, and its `--json` `agreement_doubts`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "doubt", rename_all = "snake_case")]
pub enum Doubt {
    /// Kappa is undefined: a judge gave one verdict throughout (`why`, in words), so
    /// chance explains all its verdicts. Said alone: nothing else of the pair counts.
    KappaUndefined { why: String },
    /// Only `items` common items (fewer than [`FEW_ITEMS`]): a wide interval.
    FewItems { items: usize },
    /// Kappa's interval reaches down to `kappa_low`, below [`LOW_KAPPA`].
    LowKappa { kappa_low: f64 },
    /// A model judge keeps its verdict on only `consistent` of the pairs when the
    /// answers swap places (below [`LOW_CONSISTENCY`]).
    FollowsPosition { consistent: f64 },
    /// The longer answer won `longer_won` of `decisive` votes ([`STRONG_LENGTH`] or more).
    RewardsLength { longer_won: f64, decisive: usize },
    /// The shorter answer won `shorter_won` of `decisive` votes.
    RewardsBrevity { shorter_won: f64, decisive: usize },
}

/// A doubt and whom it is about: two judges (their agreement) or one model judge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JudgeDoubt {
    pub judges: Vec<String>,
    #[serde(flatten)]
    pub doubt: Doubt,
}

impl Doubt {
    /// What two judges' agreement gives to doubt.
    pub fn of_pair(p: &JudgeAgreement) -> Vec<Self> {
        if let Some(why) = &p.kappa_undefined {
            return vec![Self::KappaUndefined { why: why.clone() }];
        }
        let mut doubts = Vec::new();
        if p.agreement.items < FEW_ITEMS {
            doubts.push(Self::FewItems {
                items: p.agreement.items,
            });
        }
        if let Some(kappa_low) = p.agreement.kappa_low.filter(|&low| low < LOW_KAPPA) {
            doubts.push(Self::LowKappa { kappa_low });
        }
        doubts
    }

    /// What a model judge's own consistency and taste for length give to doubt.
    pub fn of_judge(m: &Consistency) -> Vec<Self> {
        let mut doubts = Vec::new();
        if let Some(consistent) = m.consistent.filter(|&s| s < LOW_CONSISTENCY) {
            doubts.push(Self::FollowsPosition { consistent });
        }
        let decisive = m.length.decisive;
        if let Some(rate) = m.length.rate()
            && decisive >= MIN_LENGTH_VOTES
        {
            if rate >= STRONG_LENGTH {
                doubts.push(Self::RewardsLength {
                    longer_won: rate,
                    decisive,
                });
            } else if rate <= 1.0 - STRONG_LENGTH {
                doubts.push(Self::RewardsBrevity {
                    shorter_won: 1.0 - rate,
                    decisive,
                });
            }
        }
        doubts
    }
}

impl Trust {
    /// Every doubt: the pairs' first, in their order, then the model judges'.
    pub fn doubts(&self) -> Vec<JudgeDoubt> {
        let pairs = self.agreement.iter().flat_map(|p| {
            Doubt::of_pair(p).into_iter().map(|doubt| JudgeDoubt {
                judges: p.judges.to_vec(),
                doubt,
            })
        });
        let judges = self.consistency.iter().flat_map(|m| {
            Doubt::of_judge(m).into_iter().map(|doubt| JudgeDoubt {
                judges: vec![m.judge.clone()],
                doubt,
            })
        });
        pairs.chain(judges).collect()
    }
}

/// The report over `records` (already filtered as the user asked).
pub fn trust(records: &[VoteRecord]) -> Trust {
    let by_judge = verdicts(records);
    let mut judges: Vec<&str> = by_judge.keys().copied().collect();
    judges.sort_by_key(|j| (is_model_judge(j), *j));
    let mut report = Trust::default();
    for (i, first) in judges.iter().enumerate() {
        for second in &judges[i + 1..] {
            let (x, y) = (&by_judge[first], &by_judge[second]);
            let pairs: Vec<(Verdict, Verdict)> = x
                .iter()
                .filter_map(|(key, a)| Some((*a, *y.get(key)?)))
                .collect();
            let Some(found) = agreement(&pairs, SEED) else {
                continue;
            };
            let judges = [(*first).to_owned(), (*second).to_owned()];
            let kappa_undefined =
                undefined_because(&judges, found.constant).filter(|_| found.kappa.is_none());
            report.agreement.push(JudgeAgreement {
                judges,
                agreement: found,
                kappa_undefined,
            });
        }
    }
    let mut by_name: BTreeMap<&str, Vec<&VoteRecord>> = BTreeMap::new();
    for r in records {
        by_name.entry(&r.judge).or_default().push(r);
    }
    for (judge, votes) in by_name {
        if is_model_judge(judge) {
            report.consistency.push(consistency(judge, &votes));
        } else {
            let length = LengthPreference::of(latest_per_pair(votes));
            report.people.push((judge.to_owned(), length));
        }
    }
    report
}

/// Each judge's verdict on each pair of a run it voted on, turned to the pair's first
/// model by name (`A` = `models[0]` won), whichever model it was shown as A. When a
/// judge voted on a pair more than once, the latest vote counts.
pub fn verdicts(records: &[VoteRecord]) -> BTreeMap<&str, BTreeMap<PairKey, Verdict>> {
    let mut latest: BTreeMap<&str, BTreeMap<PairKey, &VoteRecord>> = BTreeMap::new();
    for r in records {
        let Some(key) = PairKey::of(r) else {
            continue;
        };
        keep_latest(latest.entry(&r.judge).or_default().entry(key), r);
    }
    latest
        .into_iter()
        .map(|(judge, votes)| {
            let turned = votes
                .into_iter()
                .map(|(key, r)| {
                    let verdict = Verdict::of(r.vote);
                    let verdict = if r.a.model == key.models[0] {
                        verdict
                    } else {
                        verdict.swapped()
                    };
                    (key, verdict)
                })
                .collect();
            (judge, turned)
        })
        .collect()
}

/// Puts `r` in the slot unless what is there is newer; at the same time the one met
/// later in the logs wins. A time that cannot be read counts as oldest.
fn keep_latest<'a, K: Ord>(slot: Entry<'_, K, &'a VoteRecord>, r: &'a VoteRecord) {
    let time = |r: &VoteRecord| r.time.parse::<jiff::Timestamp>().ok();
    match slot {
        Entry::Vacant(v) => {
            v.insert(r);
        }
        Entry::Occupied(mut o) => {
            if time(r) >= time(o.get()) {
                o.insert(r);
            }
        }
    }
}

/// One judge's `votes`, only the latest on each pair; a vote outside a run is a pair
/// of its own.
fn latest_per_pair<'a>(votes: impl IntoIterator<Item = &'a VoteRecord>) -> Vec<&'a VoteRecord> {
    let mut latest: BTreeMap<Result<PairKey, uuid::Uuid>, &VoteRecord> = BTreeMap::new();
    for r in votes {
        keep_latest(latest.entry(PairKey::of(r).ok_or(r.id)), r);
    }
    latest.into_values().collect()
}

/// Both orders' raw verdicts of a model judge's vote, when it kept two readable ones.
fn both_verdicts(r: &VoteRecord) -> Option<(Verdict, Verdict)> {
    match r.verdicts.as_deref()? {
        [first, second] => Some((*first, *second)),
        _ => None,
    }
}

/// Position consistency and length preference of one model judge, over its latest
/// vote on each pair that kept both orders' verdicts.
fn consistency(judge: &str, votes: &[&VoteRecord]) -> Consistency {
    let latest = latest_per_pair(votes.iter().copied().filter(|r| both_verdicts(r).is_some()));
    let pairs = latest.len();
    let consistent = latest
        .iter()
        .filter_map(|r| both_verdicts(r))
        .filter(|(first, second)| *first == second.swapped())
        .count();
    let length = LengthPreference::of(latest.iter().copied());
    Consistency {
        judge: judge.to_owned(),
        pairs,
        consistent: (pairs > 0).then(|| consistent as f64 / pairs as f64),
        longer_preferred: length.rate(),
        length,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Finish;
    use crate::votes::SideRecord;

    fn side(model: &str, answer: &str) -> SideRecord {
        SideRecord::sample(model, answer, Finish::Stop)
    }

    /// `judge`'s vote on item `item` of run `r`, `a` shown as A; x answers briefly,
    /// y at length.
    fn vote(judge: &str, item: &str, a: &str, b: &str, vote: Vote) -> VoteRecord {
        let answer = |m: &str| if m == "x" { "short" } else { "much longer" };
        VoteRecord {
            schema: 1,
            id: uuid::Uuid::new_v4(),
            time: "2026-11-30T10:00:00.000Z".into(),
            conversation: uuid::Uuid::new_v4(),
            turn: 1,
            attempt: 1,
            vote,
            blind: true,
            judge: judge.into(),
            prompt: "p".into(),
            attachments: Vec::new(),
            a: side(a, answer(a)),
            b: side(b, answer(b)),
            run: Some("r".into()),
            item: Some(item.into()),
            category: None,
            reason: None,
            verdicts: None,
        }
    }

    /// A model judge's vote whose `verdicts` the log holds as written, read back as
    /// every reader reads them.
    fn judged(item: &str, a: &str, b: &str, v: Vote, verdicts: [&str; 2]) -> VoteRecord {
        let mut line = serde_json::to_value(vote("llm:m", item, a, b, v)).unwrap();
        line["verdicts"] = serde_json::json!(verdicts);
        serde_json::from_value(line).unwrap()
    }

    #[test]
    fn verdicts_are_turned_to_the_first_model_by_name_and_the_latest_counts() {
        let mut late = vote("alice", "1", "x", "y", Vote::B);
        late.time = "2026-11-30T11:00:00.000Z".into();
        let records = vec![
            // y shown as A and winning: x lost.
            vote("alice", "2", "y", "x", Vote::A),
            late,
            // Earlier, though later in the log: does not count.
            vote("alice", "1", "x", "y", Vote::A),
            vote("alice", "3", "y", "x", Vote::BothBad),
            // Not a pair of a run.
            {
                let mut chat = vote("alice", "4", "x", "y", Vote::A);
                chat.run = None;
                chat
            },
        ];
        let found = verdicts(&records);
        let alice: Vec<(&str, Verdict)> = found["alice"]
            .iter()
            .map(|(k, v)| (k.item.as_str(), *v))
            .collect();
        assert_eq!(
            alice,
            [("1", Verdict::B), ("2", Verdict::B), ("3", Verdict::Tie)]
        );
    }

    #[test]
    fn two_judges_are_compared_whichever_side_each_was_shown() {
        let records = vec![
            vote("llm:m", "1", "x", "y", Vote::A),
            vote("bob", "1", "y", "x", Vote::B),
            vote("llm:m", "2", "y", "x", Vote::A),
            vote("bob", "2", "x", "y", Vote::B),
            vote("llm:m", "3", "x", "y", Vote::Tie),
            vote("bob", "3", "x", "y", Vote::A),
            // Only bob: not a common item.
            vote("bob", "4", "x", "y", Vote::A),
        ];
        let report = trust(&records);
        assert_eq!(report.agreement.len(), 1);
        let judges = &report.agreement[0].judges;
        let pair = &report.agreement[0].agreement;
        assert_eq!(
            *judges,
            ["bob".to_owned(), "llm:m".to_owned()],
            "people first"
        );
        assert_eq!(pair.items, 3);
        assert!((pair.agree - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(pair.decided, 2);
        assert_eq!(pair.agree_no_ties, Some(1.0));
        // bob: x x x, m: x y tie over items 1..3: observed 2/3, chance 1·1/3 + 0 = 1/3.
        let kappa = pair.kappa.unwrap();
        assert!((kappa - 0.5).abs() < 1e-12, "{kappa}");
    }

    #[test]
    fn consistency_is_the_share_of_verdicts_that_survive_the_swap() {
        let records = vec![
            judged("1", "x", "y", Vote::A, ["A", "B"]),
            judged("2", "y", "x", Vote::B, ["B", "A"]),
            // A tie in both orders is consistent.
            judged("3", "x", "y", Vote::Tie, ["C", "C"]),
            // Always the first position: a flip, so a tie.
            judged("4", "x", "y", Vote::Tie, ["A", "A"]),
            judged("5", "x", "y", Vote::Tie, ["[[A]]", "C"]),
            // Unreadable or one order only: not counted.
            judged("6", "x", "y", Vote::Tie, ["A", "?"]),
            {
                let mut one = judged("7", "x", "y", Vote::A, ["A", "B"]);
                one.verdicts = Some(vec![Verdict::A]);
                one
            },
        ];
        let report = trust(&records);
        let m = &report.consistency[0];
        assert_eq!(m.judge, "llm:m");
        assert_eq!(m.pairs, 5);
        assert_eq!(m.consistent, Some(3.0 / 5.0));
        assert!(report.people.is_empty());
    }

    #[test]
    fn the_longer_answer_rate_counts_decisive_votes_between_different_lengths() {
        let mut same = judged("5", "x", "x", Vote::A, ["A", "B"]);
        same.b.answer = "other".into(); // as long as "short"
        let records = vec![
            // y is the longer answer.
            judged("1", "x", "y", Vote::B, ["B", "A"]),
            judged("2", "y", "x", Vote::A, ["A", "B"]),
            judged("3", "y", "x", Vote::B, ["B", "A"]),
            judged("4", "x", "y", Vote::Tie, ["C", "C"]),
            same,
            vote("alice", "1", "x", "y", Vote::A),
            vote("alice", "2", "x", "y", Vote::BothBad),
            // Superseded by the vote on item 1 above (same time, met later wins).
            {
                let mut old = vote("alice", "1", "x", "y", Vote::B);
                old.time = "2026-11-29T10:00:00.000Z".into();
                old
            },
        ];
        let report = trust(&records);
        let m = &report.consistency[0];
        assert_eq!(
            m.length,
            LengthPreference {
                longer: 2,
                decisive: 3
            }
        );
        assert_eq!(m.longer_preferred, Some(2.0 / 3.0));
        assert_eq!(
            report.people,
            [(
                "alice".to_owned(),
                LengthPreference {
                    longer: 0,
                    decisive: 1
                }
            )]
        );
        assert_eq!(LengthPreference::default().rate(), None);
    }

    #[test]
    fn a_judge_without_readable_verdicts_has_no_figures() {
        let report = trust(&[vote("llm:m", "1", "x", "y", Vote::A)]);
        let m = &report.consistency[0];
        assert_eq!((m.pairs, m.consistent, m.longer_preferred), (0, None, None));
        assert!(report.agreement.is_empty());
    }
}
