//! The judge's verdict on one pair of answers.

use serde::{Deserialize, Serialize};

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
    /// Every vote, in the order of the keys 1..4 that cast them.
    pub const ALL: [Vote; 4] = [Vote::A, Vote::B, Vote::Tie, Vote::BothBad];

    /// The vote the keys 1..4 cast.
    pub fn from_digit(c: char) -> Option<Self> {
        Vote::ALL.into_iter().find(|v| v.digit() == c)
    }

    /// The key that casts it.
    pub fn digit(self) -> char {
        match self {
            Vote::A => '1',
            Vote::B => '2',
            Vote::Tie => '3',
            Vote::BothBad => '4',
        }
    }

    /// The vote in a word or two, as a key hint says it: "A", "tie".
    pub fn short(self) -> &'static str {
        match self {
            Vote::A => "A",
            Vote::B => "B",
            Vote::Tie => "tie",
            Vote::BothBad => "both bad",
        }
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
