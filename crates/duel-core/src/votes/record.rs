//! The vote record of SPEC §5, field for field.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{Answer, AnswerState, Finish, Message, ModelRef, ProviderError, Usage, Vote};
use crate::domain::{Verdict, read_verdicts};

pub const SCHEMA: u32 = 1;

/// One side of a turn as logged: which model answered, what it was sent before this
/// turn's prompt, and how its answer went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SideRecord {
    pub model: String,
    pub provider: String,
    pub model_id: String,
    /// Absent only in `duel ask --json`, which has no history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Message>>,
    pub answer: String,
    pub reasoning: Option<String>,
    pub finish: Finish,
    pub error: Option<String>,
    pub ttft_ms: Option<u64>,
    pub total_ms: Option<u64>,
    pub input_tokens: Option<u64>,
    /// The provider's count; null when it sent none.
    pub output_tokens: Option<u64>,
    /// duel's estimate where the provider sent no count, and how it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_estimate: Option<TokenEstimate>,
    /// Of the input, the tokens read from the provider's prompt cache, where it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_tokens: Option<u64>,
    /// Of the output, the reasoning tokens, where the provider said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
}

impl SideRecord {
    /// The side as the vote record and the conversation file store it, with what it
    /// was sent before the prompt where the record keeps that.
    pub fn of(answer: &Answer, history: Option<Vec<Message>>) -> Self {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            model: answer.model.name.clone(),
            provider: answer.model.provider.clone(),
            model_id: answer.model.model_id.clone(),
            history,
            answer: answer.text.clone(),
            reasoning: (!answer.reasoning.is_empty()).then(|| answer.reasoning.clone()),
            finish: answer.finish(),
            error: match &answer.state {
                AnswerState::Failed(e) => Some(e.to_string()),
                _ => None,
            },
            ttft_ms: answer.ttft().map(ms),
            total_ms: answer.ended.map(|end| ms(end - answer.started)),
            input_tokens: answer.usage.input_tokens,
            output_tokens: answer.reported_tokens(),
            output_tokens_estimate: match answer.reported_tokens() {
                None if answer.deltas > 0 => Some(TokenEstimate::from_chunks(answer.deltas)),
                _ => None,
            },
            cached_input_tokens: answer.usage.cached_input_tokens,
            reasoning_tokens: answer.usage.reasoning_tokens,
        }
    }

    /// The answer this record saved, sent with `system`; its times are laid out from
    /// `base`.
    pub fn to_answer(&self, system: Option<String>, base: Instant) -> Answer {
        let at = |ms: Option<u64>| ms.map(|ms| base + Duration::from_millis(ms));
        let state = match (self.finish, &self.error) {
            (Finish::Error, error) => AnswerState::Failed(ProviderError::from_display(
                error.as_deref().unwrap_or("the answer failed"),
            )),
            (Finish::Cancelled, _) => AnswerState::Stopped,
            (finish, _) => AnswerState::Done(finish),
        };
        let model = ModelRef {
            name: self.model.clone(),
            provider: self.provider.clone(),
            model_id: self.model_id.clone(),
            demo: self.provider == "demo",
            system,
        };
        let mut answer = Answer::new(model, 0, base);
        answer.text = self.answer.clone();
        answer.reasoning = self.reasoning.clone().unwrap_or_default();
        answer.state = state;
        answer.usage = Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cached_input_tokens: self.cached_input_tokens,
            reasoning_tokens: self.reasoning_tokens,
        };
        answer.deltas = self
            .output_tokens
            .or(self.output_tokens_estimate.as_ref().map(|e| e.tokens))
            .unwrap_or(0);
        answer.first_token = at(self.ttft_ms);
        answer.ended = at(self.total_ms).or(Some(base));
        answer
    }

    /// A side for tests: `model` answered `answer` and ended with `finish`, nothing
    /// else known.
    #[cfg(any(test, feature = "test-support"))]
    pub fn sample(model: &str, answer: &str, finish: Finish) -> Self {
        Self {
            model: model.into(),
            provider: "p".into(),
            model_id: model.into(),
            history: None,
            answer: answer.into(),
            reasoning: None,
            finish,
            error: None,
            ttft_ms: None,
            total_ms: None,
            input_tokens: None,
            output_tokens: None,
            output_tokens_estimate: None,
            cached_input_tokens: None,
            reasoning_tokens: None,
        }
    }

    /// One of `duel --demo`'s built-in offline models answered.
    pub fn is_demo(&self) -> bool {
        self.provider == "demo" && crate::config::DEMO_MODELS.contains(&self.model.as_str())
    }

    /// The answer ended on its own (`stop`, or cut at the length limit) with no error:
    /// something a judge could weigh against the other side.
    pub fn whole(&self) -> bool {
        self.error.is_none() && matches!(self.finish, Finish::Stop | Finish::Length)
    }
}

impl VoteRecord {
    /// A vote on `duel --demo`'s offline models: never part of a real leaderboard.
    pub fn is_demo(&self) -> bool {
        self.a.is_demo() || self.b.is_demo()
    }

    /// A vote for tests: `judge` voted `vote` on `a` against `b`, both answering "x"
    /// from an empty history, not blind, on no run.
    #[cfg(any(test, feature = "test-support"))]
    pub fn sample(a: &str, b: &str, vote: Vote, judge: &str) -> Self {
        let side = |model: &str| SideRecord {
            history: Some(Vec::new()),
            ..SideRecord::sample(model, "x", Finish::Stop)
        };
        Self {
            schema: 1,
            id: Uuid::new_v4(),
            time: "2026-11-23T18:53:46.123Z".into(),
            conversation: Uuid::new_v4(),
            turn: 1,
            attempt: 1,
            vote,
            blind: false,
            judge: judge.into(),
            prompt: "p".into(),
            attachments: Vec::new(),
            a: side(a),
            b: side(b),
            run: None,
            item: None,
            category: None,
            reason: None,
            verdicts: None,
        }
    }

    /// A side failed, was stopped or was filtered: the vote stays in the log, but it
    /// says nothing about which model answers better, so ratings, bias, agreement and
    /// the DPO export leave it out unless asked to keep it.
    pub fn failed(&self) -> bool {
        !self.a.whole() || !self.b.whole()
    }
}

/// A token count duel estimated, and from what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEstimate {
    pub tokens: u64,
    /// `chunks`: one per streamed text chunk (most servers send about a token each).
    pub from: String,
}

impl TokenEstimate {
    pub fn from_chunks(chunks: u64) -> Self {
        Self {
            tokens: chunks,
            from: "chunks".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoteRecord {
    pub schema: u32,
    pub id: Uuid,
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    pub conversation: Uuid,
    /// Counts user prompts from 1.
    pub turn: u32,
    /// Which pair of answers of the turn was judged: 1 for the first, 2 after one
    /// regenerate, … Older records lack it and mean 1. (conversation, turn, attempt)
    /// names one pair of answers, which gets at most one vote.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    pub vote: Vote,
    pub blind: bool,
    pub judge: String,
    pub prompt: String,
    /// The files sent with the prompt, by reference: never their content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
    pub a: SideRecord,
    pub b: SideRecord,
    /// The batch run (SPEC §8) whose pair this vote judged; absent for a chat turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The suite item of that run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The item's category, when the suite gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A model judge's short reason for its verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A model judge's raw verdict in each order (`A`, `B` or `C` for a tie), the
    /// first with `a` shown as A, the second with the answers swapped. A list with a
    /// verdict that cannot be read reads as none.
    #[serde(
        default,
        deserialize_with = "read_verdicts",
        skip_serializing_if = "Option::is_none"
    )]
    pub verdicts: Option<Vec<Verdict>>,
}

/// What a record gets from where it is made rather than from the vote: its id and
/// when it was cast.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stamp {
    pub id: Uuid,
    pub at: jiff::Timestamp,
}

impl Stamp {
    /// A fresh id and the wall clock: for the commands, not for the pure update.
    pub fn now() -> Self {
        Self {
            id: Uuid::new_v4(),
            at: jiff::Timestamp::now(),
        }
    }
}

/// What a vote on a batch run's pair says of its suite item.
#[derive(Clone, Copy, Debug)]
pub struct RunItem<'a> {
    pub id: &'a str,
    pub category: Option<&'a str>,
    /// The item's last user message, which the pair answered.
    pub prompt: &'a str,
    /// The files that message attaches.
    pub attachments: &'a [crate::attachment::Attachment],
}

/// A vote before it is cast: the pair of answers it is about, in whatever setting
/// (a chat turn, a batch run's pair). Every place that writes a vote builds its
/// record here; `cast` adds the vote, who cast it and the schema, id and time.
#[derive(Clone, Debug, PartialEq)]
pub struct Ballot {
    conversation: Uuid,
    turn: u32,
    attempt: u32,
    blind: bool,
    prompt: String,
    attachments: Vec<crate::attachment::Attachment>,
    sides: [SideRecord; 2],
    run: Option<String>,
    item: Option<String>,
    category: Option<String>,
    reason: Option<String>,
    verdicts: Option<Vec<Verdict>>,
}

impl Ballot {
    /// Pair `attempt` of `turn` of a chat `conversation`; each side carries what it
    /// was sent before the turn's `prompt`.
    pub fn turn(
        conversation: Uuid,
        turn: u32,
        attempt: u32,
        prompt: &str,
        sides: [SideRecord; 2],
    ) -> Self {
        Self {
            conversation,
            turn,
            attempt,
            blind: false,
            prompt: prompt.to_owned(),
            attachments: Vec::new(),
            sides,
            run: None,
            item: None,
            category: None,
            reason: None,
            verdicts: None,
        }
    }

    /// The pair of batch run `run` for a suite item (its id, category and prompt),
    /// logged under `conversation` as its first turn. Blind: a run's pair is only ever
    /// judged before its names show.
    pub fn run_pair(
        conversation: Uuid,
        run: &str,
        item: RunItem<'_>,
        sides: [SideRecord; 2],
    ) -> Self {
        Self {
            blind: true,
            run: Some(run.to_owned()),
            item: Some(item.id.to_owned()),
            category: item.category.map(str::to_owned),
            attachments: item.attachments.to_vec(),
            ..Self::turn(conversation, 1, 1, item.prompt, sides)
        }
    }

    /// The files sent with the prompt.
    pub fn attachments(self, attachments: Vec<crate::attachment::Attachment>) -> Self {
        Self {
            attachments,
            ..self
        }
    }

    /// Whether the names were hidden when the vote was cast.
    pub fn blind(self, blind: bool) -> Self {
        Self { blind, ..self }
    }

    /// A model judge's short reason, and its raw verdict in each order.
    pub fn judged(self, reason: String, verdicts: [Verdict; 2]) -> Self {
        Self {
            reason: Some(reason),
            verdicts: Some(verdicts.to_vec()),
            ..self
        }
    }

    /// The record of `vote`, cast by `judge`.
    pub fn cast(self, vote: Vote, judge: &str, stamp: Stamp) -> VoteRecord {
        let [a, b] = self.sides;
        VoteRecord {
            schema: SCHEMA,
            id: stamp.id,
            time: timestamp(stamp.at),
            conversation: self.conversation,
            turn: self.turn,
            attempt: self.attempt,
            vote,
            blind: self.blind,
            judge: judge.to_owned(),
            prompt: self.prompt,
            attachments: self.attachments,
            a,
            b,
            run: self.run,
            item: self.item,
            category: self.category,
            reason: self.reason,
            verdicts: self.verdicts,
        }
    }
}

/// The attempt of a record or turn that does not say: the first answers.
pub(crate) fn first_attempt() -> u32 {
    1
}

/// Now, as the record's `time` field spells it.
pub fn timestamp(at: jiff::Timestamp) -> String {
    format!("{at:.3}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn stamp() -> Stamp {
        Stamp {
            id: Uuid::from_u128(7),
            at: "2026-11-23T18:53:46.123456Z".parse().unwrap(),
        }
    }

    fn sides() -> [SideRecord; 2] {
        let mut a = SideRecord::sample("x", "X's answer", Finish::Stop);
        a.history = Some(vec![Message::new(Role::System, "be brief")]);
        let mut b = SideRecord::sample("y", "Y's answer", Finish::Length);
        b.history = Some(Vec::new());
        [a, b]
    }

    fn item() -> RunItem<'static> {
        RunItem {
            id: "math-2",
            category: Some("reasoning"),
            prompt: "the question",
            attachments: &[],
        }
    }

    #[test]
    fn a_chat_vote_is_the_record_the_chat_wrote_before() {
        let conversation = Uuid::from_u128(1);
        let [a, b] = sides();
        // The literal duel-tui's vote wrote, for the turn's third attempt.
        let before = VoteRecord {
            schema: SCHEMA,
            id: stamp().id,
            time: timestamp(stamp().at),
            conversation,
            turn: 2,
            attempt: 3,
            vote: Vote::BothBad,
            blind: true,
            judge: "alice".into(),
            prompt: "why?".into(),
            attachments: Vec::new(),
            a,
            b,
            run: None,
            item: None,
            category: None,
            reason: None,
            verdicts: None,
        };
        let built = Ballot::turn(conversation, 2, 3, "why?", sides())
            .blind(true)
            .cast(Vote::BothBad, "alice", stamp());
        assert_eq!(built, before);
        assert_eq!(built.time, "2026-11-23T18:53:46.123Z");
        let open = Ballot::turn(conversation, 1, 1, "p", sides()).cast(Vote::A, "alice", stamp());
        assert!(!open.blind, "a chat turn shows its names unless told");
    }

    #[test]
    fn a_run_s_pair_voted_in_review_or_by_a_model_is_the_record_written_before() {
        let conversation = Uuid::from_u128(2);
        let [a, b] = sides();
        // The literal duel review wrote.
        let review = VoteRecord {
            schema: SCHEMA,
            id: stamp().id,
            time: timestamp(stamp().at),
            conversation,
            turn: 1,
            attempt: 1,
            vote: Vote::B,
            blind: true,
            judge: "bob".into(),
            prompt: item().prompt.to_owned(),
            attachments: Vec::new(),
            a,
            b,
            run: Some("r1".into()),
            item: Some("math-2".into()),
            category: Some("reasoning".into()),
            reason: None,
            verdicts: None,
        };
        let ballot = Ballot::run_pair(conversation, "r1", item(), sides());
        assert_eq!(ballot.clone().cast(Vote::B, "bob", stamp()), review);
        assert_eq!(review.prompt, "the question");
        // duel judge's: the same, with its reason and both orders' verdicts.
        let judge = VoteRecord {
            vote: Vote::Tie,
            judge: "llm:m".into(),
            reason: Some("Both hold.".into()),
            verdicts: Some(vec![Verdict::A, Verdict::A]),
            ..review
        };
        let built = ballot
            .judged("Both hold.".into(), [Verdict::A, Verdict::A])
            .cast(Vote::Tie, "llm:m", stamp());
        assert_eq!(built, judge);
    }

    #[test]
    fn a_judge_s_verdicts_are_written_as_letters_and_an_unreadable_list_reads_as_none() {
        let record = Ballot::run_pair(Uuid::nil(), "r1", item(), sides())
            .judged("r".into(), [Verdict::Tie, Verdict::B])
            .cast(Vote::Tie, "llm:m", stamp());
        let mut line = serde_json::to_value(&record).unwrap();
        assert_eq!(line["verdicts"], serde_json::json!(["C", "B"]));
        assert_eq!(
            serde_json::from_value::<VoteRecord>(line.clone()).unwrap(),
            record
        );
        line["verdicts"] = serde_json::json!(["[[A]]", " B "]);
        let read: VoteRecord = serde_json::from_value(line.clone()).unwrap();
        assert_eq!(read.verdicts, Some(vec![Verdict::A, Verdict::B]));
        line["verdicts"] = serde_json::json!(["A", "?"]);
        let read: VoteRecord = serde_json::from_value(line.clone()).unwrap();
        assert_eq!(
            (read.verdicts, read.vote),
            (None, Vote::Tie),
            "the vote is kept"
        );
        line.as_object_mut().unwrap().remove("verdicts");
        let read: VoteRecord = serde_json::from_value(line).unwrap();
        assert_eq!(read.verdicts, None);
        let chat = Ballot::turn(Uuid::nil(), 1, 1, "p", sides()).cast(Vote::A, "alice", stamp());
        let written = serde_json::to_value(&chat).unwrap();
        for absent in ["run", "item", "category", "reason", "verdicts"] {
            assert!(written.get(absent).is_none(), "{absent} written");
        }
    }

    #[test]
    fn a_record_without_an_attempt_is_the_first_attempt() {
        let line = r#"{"schema":1,"id":"6f1c2a52-2c1e-4a57-9a4e-0b8f1c8f2d11","time":"2026-11-23T18:53:46.123Z","conversation":"0b0b6f0e-8d1c-4d2e-9c55-1d5f3f1b7a10","turn":2,"vote":"a","blind":false,"judge":"alice","prompt":"p","a":{"model":"m","provider":"p","model_id":"m","answer":"x","reasoning":null,"finish":"stop","error":null,"ttft_ms":null,"total_ms":null,"input_tokens":null,"output_tokens":null},"b":{"model":"n","provider":"p","model_id":"n","answer":"y","reasoning":null,"finish":"stop","error":null,"ttft_ms":null,"total_ms":null,"input_tokens":null,"output_tokens":null}}"#;
        let record: VoteRecord = serde_json::from_str(line).unwrap();
        assert_eq!(record.attempt, 1);
        let written = serde_json::to_value(&record).unwrap();
        assert_eq!(written["attempt"], 1, "written out always");
    }
}
