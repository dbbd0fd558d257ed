//! A judge's verdict on one pair (A, B or a tie), as the log and a model judge spell it.

use serde::{Deserialize, Serialize};

use super::Vote;

/// A judge's verdict on one pair, as A, B and tie; `both_bad` counts as a tie, as it
/// does in the ratings. The log and `judgments.jsonl` spell it `A`, `B`, `C` (a tie).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum Verdict {
    A,
    B,
    Tie,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::A, Verdict::B, Verdict::Tie];

    pub fn of(vote: Vote) -> Self {
        match vote {
            Vote::A => Verdict::A,
            Vote::B => Verdict::B,
            Vote::Tie | Vote::BothBad => Verdict::Tie,
        }
    }

    /// The vote that says this verdict.
    pub fn vote(self) -> Vote {
        match self {
            Verdict::A => Vote::A,
            Verdict::B => Vote::B,
            Verdict::Tie => Vote::Tie,
        }
    }

    /// The same verdict with the two answers' places swapped.
    pub fn swapped(self) -> Self {
        match self {
            Verdict::A => Verdict::B,
            Verdict::B => Verdict::A,
            Verdict::Tie => Verdict::Tie,
        }
    }

    /// As the log keeps it: `A`, `B`, `C` for a tie.
    pub fn letter(self) -> &'static str {
        match self {
            Verdict::A => "A",
            Verdict::B => "B",
            Verdict::Tie => "C",
        }
    }

    /// As a model judge writes it: `[[A]]`, `[[B]]`, `[[C]]`.
    pub fn mark(self) -> &'static str {
        match self {
            Verdict::A => "[[A]]",
            Verdict::B => "[[B]]",
            Verdict::Tie => "[[C]]",
        }
    }

    /// The verdict a model judge wrote in its answer: `[[A]]`, `[[B]]` or `[[C]]`.
    /// None when it wrote none, or more than one kind.
    pub fn parse(text: &str) -> Option<Self> {
        let found: Vec<Verdict> = Self::ALL
            .into_iter()
            .filter(|v| text.contains(v.mark()))
            .collect();
        match found.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// A verdict as the log keeps it: its letter, or (as older records may) its mark.
    pub fn read(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|v| v.letter() == raw)
            .or_else(|| Self::parse(raw))
    }
}

impl From<Verdict> for &'static str {
    fn from(verdict: Verdict) -> Self {
        verdict.letter()
    }
}

impl TryFrom<String> for Verdict {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Self::read(&raw).ok_or_else(|| format!("not a verdict: {raw:?} (A, B or C)"))
    }
}

/// The raw verdicts of a vote record, read leniently: a list with one that cannot be
/// read is none at all, and the vote itself is kept.
pub fn read_verdicts<'de, D>(d: D) -> Result<Option<Vec<Verdict>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let raw: Option<Vec<String>> = Option::deserialize(d)?;
    Ok(raw.and_then(|list| list.iter().map(|v| Verdict::read(v)).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{A, B, Tie};

    #[test]
    fn a_verdict_is_read_from_its_fixed_form_only() {
        assert_eq!(Verdict::parse("B is clearer. [[B]]"), Some(B));
        assert_eq!(Verdict::parse("Equal. [[C]]"), Some(Tie));
        assert_eq!(Verdict::parse("[[A]] ... so [[A]]"), Some(A));
        assert_eq!(Verdict::parse("A, I think"), None);
        assert_eq!(Verdict::parse("[[A]] or maybe [[B]]"), None);
    }

    #[test]
    fn a_verdict_is_spelt_and_read_in_one_place() {
        for v in Verdict::ALL {
            assert_eq!(Verdict::read(v.letter()), Some(v));
            assert_eq!(Verdict::read(v.mark()), Some(v));
            assert_eq!(Verdict::parse(v.mark()), Some(v));
            assert_eq!(
                Verdict::parse(v.letter()),
                None,
                "a judge must write the mark"
            );
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{}\"", v.letter()));
            assert_eq!(serde_json::from_str::<Verdict>(&json).unwrap(), v);
            assert_eq!(Verdict::of(v.vote()), v);
        }
        assert_eq!(
            [A, B, Tie].map(Verdict::letter),
            ["A", "B", "C"],
            "as the log has always spelt them"
        );
        assert_eq!(Verdict::read(" C\n"), Some(Tie));
        assert_eq!(Verdict::read("tie"), None);
        assert!(serde_json::from_str::<Verdict>("\"?\"").is_err());
        assert_eq!(
            serde_json::to_string(&None::<Verdict>).unwrap(),
            "null",
            "a judgment without a verdict"
        );
    }
}
