//! What a model's stream reports, and how an answer ends.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ErrorKind, ProviderError};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Every input token, cached or not.
    pub input_tokens: Option<u64>,
    /// Every output token, reasoning included.
    pub output_tokens: Option<u64>,
    /// Of the input, the tokens the provider read from its prompt cache (billed at
    /// its cached price), where it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_tokens: Option<u64>,
    /// Of the output, the reasoning ("thinking") tokens, where the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
}

/// How an answer ended, as the vote record spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    Stop,
    Length,
    Filtered,
    Error,
    Cancelled,
}

impl Finish {
    pub fn as_str(self) -> &'static str {
        match self {
            Finish::Stop => "stop",
            Finish::Length => "length",
            Finish::Filtered => "filtered",
            Finish::Error => "error",
            Finish::Cancelled => "cancelled",
        }
    }
}

/// Everything a stream reports. A stream ends with exactly one `Finish` or `Error`.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    Text(String),
    Reasoning(String),
    Usage(Usage),
    /// An attempt failed before any text and will be sent again after a wait.
    Retry(Retry),
    Finish(Finish),
    Error(ProviderError),
}

/// A retry about to happen, so the pane can say why it waits.
#[derive(Clone, Debug, PartialEq)]
pub struct Retry {
    /// What failed: its kind and HTTP status.
    pub kind: ErrorKind,
    pub status: Option<u16>,
    pub wait: Duration,
    /// This retry's number, from 1, and how many are allowed.
    pub attempt: u32,
    pub of: u32,
}

impl std::fmt::Display for Retry {
    /// "rate limited (HTTP 429), retrying in 2 s (2 of 3)": the send about to be made,
    /// of how many may be made in all (the first, and each retry).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind.label())?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        let secs = self.wait.as_secs_f64();
        let wait = if secs < 1.0 {
            format!("{} ms", self.wait.as_millis())
        } else {
            format!("{} s", secs.round())
        };
        write!(
            f,
            ", retrying in {wait} ({} of {})",
            self.attempt + 1,
            self.of + 1
        )
    }
}
