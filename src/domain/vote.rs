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
    /// The vote the keys 1..4 cast.
    pub(crate) fn from_digit(c: char) -> Option<Self> {
        Some(match c {
            '1' => Vote::A,
            '2' => Vote::B,
            '3' => Vote::Tie,
            '4' => Vote::BothBad,
            _ => return None,
        })
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Vote::A => "A is better",
            Vote::B => "B is better",
            Vote::Tie => "a tie",
            Vote::BothBad => "both bad",
        }
    }
}
