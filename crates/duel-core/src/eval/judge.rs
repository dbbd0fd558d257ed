//! A model as judge (SPEC §8, `duel judge`): the pairwise prompt it is sent, the
//! verdict and short reason read from its answer, and the record of every verdict it
//! gave (`judgments.jsonl` in the run's folder), from which a stopped judging resumes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::agreement::both_orders;
use super::pairs::{Pair, PairKey};
use crate::domain::Verdict;
use crate::domain::{Finish, Role, Vote};
use crate::votes::record::timestamp;
use crate::votes::{Ballot, SideRecord, Stamp, VoteRecord, log};

/// The built-in pairwise prompt. Its placeholders are filled in one pass, so an
/// answer that happens to contain `{answer_b}` is left as written.
pub const DEFAULT_TEMPLATE: &str = "\
You are an impartial judge. Compare the two answers below to the user's question and \
decide which one answers it better: consider how well it follows the instructions, \
its correctness, helpfulness, relevance and depth. If a reference answer is given, \
check both answers against it. The order in which the answers appear must not \
influence you, nor must their length or any name. Give a short explanation of at \
most three sentences, then your final verdict on a line of its own in exactly this \
form: [[A]] if answer A is better, [[B]] if answer B is better, [[C]] for a tie.

[Question]
{prompt}

[Reference answer]
{reference}

[Answer A]
{answer_a}
[End of answer A]

[Answer B]
{answer_b}
[End of answer B]";

/// What `{reference}` says for an item without one.
const NO_REFERENCE: &str = "(none given)";

/// The longest reason kept in a vote record, in characters.
const REASON_CHARS: usize = 400;

/// The file of every verdict, in the run's folder.
pub const JUDGMENTS_FILE: &str = "judgments.jsonl";

/// An order that gave no verdict this many times is given up.
pub const MAX_UNPARSED: usize = 2;

/// `template` filled for `pair`, shown in `order` (1: the pair's first model as A;
/// 2: swapped).
pub fn prompt(template: &str, pair: &Pair, order: u8) -> String {
    let (a, b) = match order {
        1 => (&pair.answers[0], &pair.answers[1]),
        _ => (&pair.answers[1], &pair.answers[0]),
    };
    let question = question(pair);
    let reference = pair.item.reference.as_deref().unwrap_or(NO_REFERENCE);
    fill(
        template,
        &[
            ("{prompt}", &question),
            ("{answer_a}", &a.answer),
            ("{answer_b}", &b.answer),
            ("{reference}", reference),
        ],
    )
}

/// The question as the judge sees it: the prompt, or a whole conversation leading to
/// it, one `Role: text` paragraph per message.
fn question(pair: &Pair) -> String {
    match pair.item.messages.as_slice() {
        [only] => only.content.clone(),
        messages => messages
            .iter()
            .map(|m| {
                let who = match m.role {
                    Role::System => "System",
                    Role::User => "User",
                    Role::Assistant => "Assistant",
                };
                format!("{who}: {}", m.content)
            })
            .collect::<Vec<_>>()
            .join("\n\n"),
    }
}

/// Every placeholder replaced by its value, in one pass over `template`.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        match values.iter().find(|(name, _)| tail.starts_with(name)) {
            Some((name, value)) => {
                out.push_str(value);
                rest = &tail[name.len()..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The judge's explanation: its answer without the verdict marks, on one line, cut
/// to a few sentences' length.
pub fn reason(text: &str) -> String {
    let mut plain = text.to_owned();
    for verdict in Verdict::ALL {
        plain = plain.replace(verdict.mark(), "");
    }
    let words: Vec<&str> = plain.split_whitespace().collect();
    let joined = words.join(" ");
    let trimmed = joined
        .trim_end_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != ')')
        .trim_end_matches(|c: char| c == ':' || c.is_whitespace());
    if trimmed.chars().count() <= REASON_CHARS {
        return trimmed.to_owned();
    }
    let cut: String = trimmed.chars().take(REASON_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// One answer of the judge, as `judgments.jsonl` keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Judgment {
    /// `llm:MODEL`.
    pub judge: String,
    pub item: String,
    /// The pair's models in the run's order; `order` 1 showed the first as A.
    pub models: [String; 2],
    pub order: u8,
    /// `A`, `B` or `C`; null when the answer held no verdict (or the request failed).
    pub verdict: Option<Verdict>,
    /// What the judge wrote.
    pub text: String,
    pub finish: Finish,
    pub error: Option<String>,
    pub time: String,
}

impl Judgment {
    /// The judge answered but gave no verdict in the fixed form.
    pub fn unparsed(&self) -> bool {
        self.verdict.is_none() && self.error.is_none()
    }
}

/// What a judge has said so far about each order of each pair of a run. An order
/// keeps its meaning from the run's order of models (`Judgment::models`), whatever
/// order `PairKey` keeps the names in.
#[derive(Debug, Default)]
pub struct Record {
    /// The verdict of each (pair, order), the first one given.
    pub verdicts: HashMap<(PairKey, u8), (Verdict, String)>,
    /// How many answers of each (pair, order) held no verdict.
    pub unparsed: HashMap<(PairKey, u8), usize>,
}

pub fn judgments_path(run_dir: &Path) -> PathBuf {
    run_dir.join(JUDGMENTS_FILE)
}

/// Reads what `judge` said in the run `run` (whose folder is `run_dir`).
pub fn record(run_dir: &Path, run: &str, judge: &str) -> io::Result<Record> {
    let (lines, _) = log::read_jsonl::<Judgment>(&judgments_path(run_dir))?;
    let mut record = Record::default();
    for j in lines.into_iter().filter(|j| j.judge == judge) {
        let key = (
            PairKey::new(run, &j.item, &j.models[0], &j.models[1]),
            j.order,
        );
        if let Some(verdict) = j.verdict {
            record.verdicts.entry(key).or_insert((verdict, j.text));
        } else if j.unparsed() {
            *record.unparsed.entry(key).or_insert(0) += 1;
        }
    }
    Ok(record)
}

/// What a judging did, and what `duel judge` prints at the end (`--json`: as JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub run: String,
    pub judge: String,
    /// Pairs the run has ready to judge.
    pub pairs: usize,
    /// Pairs with this judge's vote, before and after this judging.
    pub judged_before: usize,
    pub judged: usize,
    /// Requests sent to the judge by this judging.
    pub asked: usize,
    /// Among the votes this judging cast: verdicts per model (wins), ties, and ties
    /// that came from a verdict flipping with the order.
    pub wins: BTreeMap<String, usize>,
    pub ties: usize,
    pub flipped: usize,
    /// Answers of the judge that held no verdict (each such order is asked once more).
    pub unparsed: usize,
    /// Pairs given up: an order twice without a verdict.
    pub given_up: usize,
    /// Requests that failed (asked again by the next `duel judge`).
    pub failed: usize,
    /// Pairs still waiting for an answer from `duel batch`.
    pub waiting: usize,
    pub stopped: bool,
    /// A run of the offline demo models (its votes go to the demo's log).
    pub demo: bool,
}

/// An order of a pair: 1 shows the pair's first model as A, 2 the second.
pub type Order = u8;

/// Both orders, in the order they are asked.
const ORDERS: [Order; 2] = [1, 2];

/// A pair still without this judge's vote: each order's verdict so far (with the
/// judge's text), and how many answers of each held no verdict.
#[derive(Clone, Debug)]
pub struct Open {
    pub pair: Pair,
    known: [Option<(Verdict, String)>; 2],
    tries: [usize; 2],
}

impl Open {
    /// The orders still without a verdict.
    fn missing(&self) -> impl Iterator<Item = Order> + '_ {
        ORDERS
            .into_iter()
            .filter(|&order| self.known[slot(order)].is_none())
    }

    fn decided(&self) -> bool {
        self.missing().next().is_none()
    }

    /// Both orders' verdicts, once both have one, and the text of the first.
    fn verdicts(&self) -> Option<([Verdict; 2], &str)> {
        match &self.known {
            [Some((first, text)), Some((second, _))] => Some(([*first, *second], text)),
            _ => None,
        }
    }
}

fn slot(order: Order) -> usize {
    usize::from(order - 1)
}

/// What one answer of the judge did to its order.
#[derive(Clone, Debug, PartialEq)]
pub enum Answered {
    Verdict(Verdict),
    /// The request failed: asked again by the next judging.
    Failed(String),
    /// No verdict, for the first time: ask the order once more.
    AskAgain,
    /// No verdict a second time: the order, and so its pair, is given up.
    GivenUp,
}

/// One answer taken in: the line for `judgments.jsonl`, what it did, and whether its
/// pair now has both verdicts (and so its vote, from `Judging::vote`).
#[derive(Clone, Debug)]
pub struct Took {
    pub judgment: Judgment,
    pub answered: Answered,
    pub decided: bool,
}

/// A model judge at work on one run: the pairs still open, what each answer of the
/// judge decides, and the summary so far. Pure: the caller sends the requests and
/// writes the files.
#[derive(Debug)]
pub struct Judging {
    pub open: Vec<Open>,
    pub summary: Summary,
}

impl Judging {
    /// `judge`'s judging of run `run`'s `ready` pairs: those it `voted` on are done,
    /// those with an order it gave up on (`said`) are given up, the rest open with
    /// what it said of them before.
    pub fn new(
        judge: &str,
        run: &str,
        ready: Vec<Pair>,
        voted: &HashSet<PairKey>,
        said: &Record,
    ) -> Self {
        let mut summary = Summary {
            run: run.to_owned(),
            judge: judge.to_owned(),
            pairs: ready.len(),
            ..Summary::default()
        };
        let mut open = Vec::new();
        for pair in ready {
            let key = pair.key(run);
            if voted.contains(&key) {
                summary.judged_before += 1;
                continue;
            }
            let at = |order| (key.clone(), order);
            let pair = Open {
                known: ORDERS.map(|order| said.verdicts.get(&at(order)).cloned()),
                tries: ORDERS.map(|order| said.unparsed.get(&at(order)).copied().unwrap_or(0)),
                pair,
            };
            if pair.tries.iter().any(|&n| n >= MAX_UNPARSED) && !pair.decided() {
                summary.given_up += 1;
                continue;
            }
            open.push(pair);
        }
        summary.judged = summary.judged_before;
        Self { open, summary }
    }

    /// The open pairs judged in both orders before a stop: each needs only its vote.
    pub fn decided(&self) -> Vec<usize> {
        (0..self.open.len())
            .filter(|&i| self.open[i].decided())
            .collect()
    }

    /// The first round of requests: every order still without a verdict. The pairs
    /// already decided leave the open ones (their votes cast first, by `decided`).
    pub fn first_round(&mut self) -> Vec<(usize, Order)> {
        self.open.retain(|o| !o.decided());
        self.open
            .iter()
            .enumerate()
            .flat_map(|(i, o)| o.missing().map(move |order| (i, order)))
            .collect()
    }

    /// Takes in the judge's `answer` to open pair `i` shown in `order`, given `at`.
    pub fn take(
        &mut self,
        i: usize,
        order: Order,
        answer: &SideRecord,
        at: jiff::Timestamp,
    ) -> Took {
        self.summary.asked += 1;
        let verdict = match answer.error {
            None => Verdict::parse(&answer.answer),
            Some(_) => None,
        };
        let o = &mut self.open[i];
        let judgment = Judgment {
            judge: self.summary.judge.clone(),
            item: o.pair.item.id.clone(),
            models: o.pair.models.clone(),
            order,
            verdict,
            text: answer.answer.clone(),
            finish: answer.finish,
            error: answer.error.clone(),
            time: timestamp(at),
        };
        let slot = slot(order);
        let answered = match (verdict, &answer.error) {
            (Some(v), _) => {
                o.known[slot] = Some((v, answer.answer.clone()));
                Answered::Verdict(v)
            }
            (None, Some(e)) => {
                self.summary.failed += 1;
                Answered::Failed(e.clone())
            }
            (None, None) => {
                self.summary.unparsed += 1;
                o.tries[slot] += 1;
                if o.tries[slot] < MAX_UNPARSED {
                    Answered::AskAgain
                } else {
                    // Counted once per pair, when its first order is given up.
                    if o.tries[1 - slot] < MAX_UNPARSED {
                        self.summary.given_up += 1;
                    }
                    Answered::GivenUp
                }
            }
        };
        Took {
            judgment,
            answered,
            decided: o.decided(),
        }
    }

    /// The vote on open pair `i`, once both orders have a verdict: `a` is the pair's
    /// first model, shown as A in the first order; a verdict that flips with the
    /// order is a tie. Counted in the summary as cast.
    pub fn vote(&mut self, i: usize, conversation: Uuid, stamp: Stamp) -> Option<VoteRecord> {
        let open = &self.open[i];
        let ([first, second], text) = open.verdicts()?;
        let vote = both_orders(first, second).vote();
        let pair = &open.pair;
        let record = Ballot::run_pair(
            conversation,
            &self.summary.run,
            pair.item.run_item(),
            pair.answers.clone(),
        )
        .judged(reason(text), [first, second])
        .cast(vote, &self.summary.judge, stamp);
        let summary = &mut self.summary;
        match vote {
            Vote::A => *summary.wins.entry(pair.models[0].clone()).or_default() += 1,
            Vote::B => *summary.wins.entry(pair.models[1].clone()).or_default() += 1,
            Vote::Tie | Vote::BothBad => {
                summary.ties += 1;
                summary.flipped += usize::from(first != Verdict::Tie || second != Verdict::Tie);
            }
        }
        summary.judged += 1;
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Message;
    use crate::eval::suite::Item;
    use crate::votes::SideRecord;

    fn side(model: &str, answer: &str) -> SideRecord {
        SideRecord::sample(model, answer, Finish::Stop)
    }

    fn pair(messages: Vec<Message>, reference: Option<&str>) -> Pair {
        Pair {
            item: Item {
                id: "1".into(),
                messages,
                category: None,
                reference: reference.map(Into::into),
                fields: Default::default(),
                checks: Default::default(),
                sources: Vec::new(),
            },
            models: ["x".into(), "y".into()],
            answers: [
                side("x", "X's answer, with {answer_b} in it"),
                side("y", "Y's answer"),
            ],
        }
    }

    #[test]
    fn the_prompt_shows_both_answers_in_the_order_asked_and_fills_once() {
        let p = pair(vec![Message::new(Role::User, "why?")], Some("because"));
        let t = "Q {prompt} R {reference} A {answer_a} B {answer_b} {unknown}";
        assert_eq!(
            prompt(t, &p, 1),
            "Q why? R because A X's answer, with {answer_b} in it B Y's answer {unknown}"
        );
        assert_eq!(
            prompt(t, &p, 2),
            "Q why? R because A Y's answer B X's answer, with {answer_b} in it {unknown}"
        );
        let no_ref = pair(vec![Message::new(Role::User, "why?")], None);
        assert!(prompt(DEFAULT_TEMPLATE, &no_ref, 1).contains("[Reference answer]\n(none given)"));
    }

    #[test]
    fn the_readme_shows_the_built_in_template_as_it_is() {
        assert!(include_str!("../../../../README.md").contains(DEFAULT_TEMPLATE));
    }

    #[test]
    fn a_conversation_is_shown_whole() {
        let p = pair(
            vec![
                Message::new(Role::User, "hi"),
                Message::new(Role::Assistant, "hello"),
                Message::new(Role::User, "plan my day"),
            ],
            None,
        );
        assert!(
            prompt("{prompt}|{answer_a}|{answer_b}", &p, 1)
                .starts_with("User: hi\n\nAssistant: hello\n\nUser: plan my day|")
        );
    }

    #[test]
    fn the_reason_is_the_explanation_without_the_verdict_cut_at_a_word() {
        assert_eq!(
            reason("Answer A is correct;\n B miscounts.\n\nFinal verdict: [[A]]"),
            "Answer A is correct; B miscounts. Final verdict"
        );
        let long = format!("{} [[B]]", "word ".repeat(200));
        let r = reason(&long);
        assert!(
            r.ends_with("word…") && r.chars().count() <= REASON_CHARS + 1,
            "{r}"
        );
    }

    /// Run `r`'s pair of x and y for item `id`.
    fn pair_for(id: &str) -> Pair {
        let mut p = pair(vec![Message::new(Role::User, "why?")], None);
        p.item.id = id.into();
        p
    }

    /// The judge's answer `text`, ended normally.
    fn said(text: &str) -> SideRecord {
        SideRecord::sample("judge", text, Finish::Stop)
    }

    fn at() -> jiff::Timestamp {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    fn stamp() -> Stamp {
        Stamp {
            id: Uuid::from_u128(9),
            at: at(),
        }
    }

    fn fresh(pairs: &[&str]) -> Judging {
        let ready = pairs.iter().map(|id| pair_for(id)).collect();
        Judging::new("llm:j", "r", ready, &HashSet::new(), &Record::default())
    }

    #[test]
    fn both_orders_make_one_vote_the_record_duel_judge_wrote_before() {
        let mut judging = fresh(&["1"]);
        assert_eq!(judging.first_round(), [(0, 1), (0, 2)]);
        let first = judging.take(0, 1, &said("X explains why. [[A]]"), at());
        assert_eq!(first.answered, Answered::Verdict(Verdict::A));
        assert!(!first.decided);
        assert_eq!(
            judging.vote(0, Uuid::nil(), stamp()),
            None,
            "one order only"
        );
        let second = judging.take(0, 2, &said("[[B]]"), at());
        assert!(second.decided);
        assert_eq!(
            second.judgment,
            Judgment {
                judge: "llm:j".into(),
                item: "1".into(),
                models: ["x".into(), "y".into()],
                order: 2,
                verdict: Some(Verdict::B),
                text: "[[B]]".into(),
                finish: Finish::Stop,
                error: None,
                time: "2026-12-01T09:00:00.000Z".into(),
            }
        );
        let conversation = Uuid::from_u128(4);
        let pair = pair_for("1");
        // The literal duel judge wrote: x won in both orders.
        let before = VoteRecord {
            schema: crate::votes::record::SCHEMA,
            id: stamp().id,
            time: timestamp(at()),
            conversation,
            turn: 1,
            attempt: 1,
            vote: Vote::A,
            blind: true,
            judge: "llm:j".into(),
            prompt: pair.item.prompt().to_owned(),
            attachments: Vec::new(),
            a: pair.answers[0].clone(),
            b: pair.answers[1].clone(),
            run: Some("r".into()),
            item: Some("1".into()),
            category: None,
            reason: Some("X explains why.".into()),
            verdicts: Some(vec![Verdict::A, Verdict::B]),
        };
        assert_eq!(judging.vote(0, conversation, stamp()), Some(before));
        let s = &judging.summary;
        assert_eq!((s.asked, s.judged, s.ties, s.flipped), (2, 1, 0, 0));
        assert_eq!(s.wins, BTreeMap::from([("x".to_owned(), 1)]));
    }

    #[test]
    fn a_verdict_that_flips_with_the_order_is_a_tie_and_counted_so() {
        let mut judging = fresh(&["1", "2"]);
        judging.first_round();
        for (i, [first, second]) in [(0, ["[[A]]", "[[A]]"]), (1, ["[[C]]", "[[C]]"])] {
            judging.take(i, 1, &said(first), at());
            assert!(judging.take(i, 2, &said(second), at()).decided);
            let record = judging.vote(i, Uuid::nil(), stamp()).unwrap();
            assert_eq!(record.vote, Vote::Tie);
        }
        let s = &judging.summary;
        assert_eq!(
            (s.ties, s.flipped, s.judged),
            (2, 1, 2),
            "only the A, A flipped"
        );
        assert!(s.wins.is_empty());
    }

    #[test]
    fn an_order_without_a_verdict_is_asked_once_more_then_its_pair_given_up_once() {
        let mut judging = fresh(&["1"]);
        judging.first_round();
        assert_eq!(
            judging.take(0, 1, &said("no idea"), at()).answered,
            Answered::AskAgain
        );
        assert_eq!(
            judging.take(0, 2, &said("[[A]] or [[B]]"), at()).answered,
            Answered::AskAgain
        );
        let again = judging.take(0, 1, &said("still none"), at());
        assert_eq!((again.answered, again.decided), (Answered::GivenUp, false));
        assert_eq!(again.judgment.verdict, None);
        assert!(again.judgment.unparsed());
        assert_eq!(
            judging.take(0, 2, &said("none"), at()).answered,
            Answered::GivenUp
        );
        let s = &judging.summary;
        assert_eq!((s.asked, s.unparsed, s.given_up, s.judged), (4, 4, 1, 0));
    }

    #[test]
    fn a_failed_request_is_counted_and_its_order_stays_to_ask() {
        let mut judging = fresh(&["1"]);
        judging.first_round();
        let mut failed = said("[[A]]");
        failed.finish = Finish::Error;
        failed.error = Some("HTTP 500".into());
        let took = judging.take(0, 1, &failed, at());
        assert_eq!(took.answered, Answered::Failed("HTTP 500".into()));
        assert_eq!(
            took.judgment.verdict, None,
            "a failed answer gives no verdict"
        );
        assert!(!took.judgment.unparsed());
        assert_eq!((judging.summary.failed, judging.summary.unparsed), (1, 0));
        assert_eq!(judging.first_round(), [(0, 1), (0, 2)]);
    }

    #[test]
    fn a_judging_resumes_with_what_was_said_asking_only_the_missing_orders() {
        let run = "r";
        let key = |id: &str| pair_for(id).key(run);
        let mut before = Record::default();
        // 1: voted already. 2: both orders known, vote not written. 3: order 2 known.
        // 4: order 1 twice without a verdict. 5: once without, so asked again.
        before
            .verdicts
            .insert((key("2"), 1), (Verdict::A, "[[A]]".into()));
        before
            .verdicts
            .insert((key("2"), 2), (Verdict::A, "[[A]]".into()));
        before
            .verdicts
            .insert((key("3"), 2), (Verdict::B, "[[B]]".into()));
        before.unparsed.insert((key("4"), 1), MAX_UNPARSED);
        before.unparsed.insert((key("5"), 2), 1);
        let voted = HashSet::from([key("1")]);
        let ready = ["1", "2", "3", "4", "5", "6"].map(pair_for).to_vec();
        let mut judging = Judging::new("llm:j", run, ready, &voted, &before);
        let s = &judging.summary;
        assert_eq!(
            (s.pairs, s.judged_before, s.judged, s.given_up),
            (6, 1, 1, 1)
        );
        let decided = judging.decided();
        assert_eq!(decided.len(), 1);
        let record = judging.vote(decided[0], Uuid::nil(), stamp()).unwrap();
        assert_eq!(
            (record.item.as_deref(), record.vote),
            (Some("2"), Vote::Tie)
        );
        let round: Vec<(&str, Order)> = judging
            .first_round()
            .into_iter()
            .map(|(i, order)| (judging.open[i].pair.item.id.as_str(), order))
            .collect();
        assert_eq!(round, [("3", 1), ("5", 1), ("5", 2), ("6", 1), ("6", 2)]);
        // 5's order 2 has one try left.
        let i = judging
            .open
            .iter()
            .position(|o| o.pair.item.id == "5")
            .unwrap();
        assert_eq!(
            judging.take(i, 2, &said("none"), at()).answered,
            Answered::GivenUp
        );
        assert_eq!(judging.summary.judged, 2);
    }
}
