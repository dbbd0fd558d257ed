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
    pub output_tokens: Option<u64>,
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
    pub vote: Vote,
    pub blind: bool,
    pub judge: String,
    pub prompt: String,
    pub a: SideRecord,
    pub b: SideRecord,
}

/// Now, as the record's `time` field spells it.
pub fn timestamp(at: jiff::Timestamp) -> String {
    format!("{at:.3}")
}
