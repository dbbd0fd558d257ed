//! The vote record of SPEC §5, field for field.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::provider::{Finish, Message};

pub const SCHEMA: u32 = 1;

/// Which answer the judge preferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    A,
    B,
    Tie,
    BothBad,
}

impl Vote {
    /// The vote the keys 1..4 cast.
    pub fn from_digit(c: char) -> Option<Self> {
        Some(match c {
            '1' => Vote::A,
            '2' => Vote::B,
            '3' => Vote::Tie,
            '4' => Vote::BothBad,
            _ => return None,
        })
    }

    pub fn describe(self) -> &'static str {
        match self {
            Vote::A => "A is better",
            Vote::B => "B is better",
            Vote::Tie => "a tie",
            Vote::BothBad => "both bad",
        }
    }
}

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
}

impl SideRecord {
    /// One of `duel --demo`'s built-in offline models answered.
    pub fn is_demo(&self) -> bool {
        self.provider == "demo" && crate::config::DEMO_MODELS.contains(&self.model.as_str())
    }
}

impl VoteRecord {
    /// A vote on `duel --demo`'s offline models: never part of a real leaderboard.
    pub fn is_demo(&self) -> bool {
        self.a.is_demo() || self.b.is_demo()
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
    pub a: SideRecord,
    pub b: SideRecord,
}

/// The attempt of a record or turn that does not say: the first answers.
pub fn first_attempt() -> u32 {
    1
}

/// Now, as the record's `time` field spells it.
pub fn timestamp(at: jiff::Timestamp) -> String {
    format!("{at:.3}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_without_an_attempt_is_the_first_attempt() {
        let line = r#"{"schema":1,"id":"6f1c2a52-2c1e-4a57-9a4e-0b8f1c8f2d11","time":"2026-11-23T18:53:46.123Z","conversation":"0b0b6f0e-8d1c-4d2e-9c55-1d5f3f1b7a10","turn":2,"vote":"a","blind":false,"judge":"alice","prompt":"p","a":{"model":"m","provider":"p","model_id":"m","answer":"x","reasoning":null,"finish":"stop","error":null,"ttft_ms":null,"total_ms":null,"input_tokens":null,"output_tokens":null},"b":{"model":"n","provider":"p","model_id":"n","answer":"y","reasoning":null,"finish":"stop","error":null,"ttft_ms":null,"total_ms":null,"input_tokens":null,"output_tokens":null}}"#;
        let record: VoteRecord = serde_json::from_str(line).unwrap();
        assert_eq!(record.attempt, 1);
        let written = serde_json::to_value(&record).unwrap();
        assert_eq!(written["attempt"], 1, "written out always");
    }
}
