//! Provider failures, classified so that every wire kind reports them the same way.

use std::fmt;
use std::time::Duration;

/// What went wrong, in the user's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// No key in the environment variable the provider needs.
    MissingKey,
    /// The server refused the key.
    Auth,
    /// Too many requests; worth retrying later.
    RateLimit,
    /// Balance or quota used up; retrying will not help.
    Quota,
    /// The provider's content filter refused the prompt or the answer.
    Filtered,
    /// Unknown model or endpoint.
    NotFound,
    /// The conversation is longer than the model accepts.
    ContextTooLong,
    /// The server rejected the request as malformed.
    BadRequest,
    /// The provider failed on its side (5xx, overloaded).
    Server,
    /// No byte arrived within the idle timeout.
    Timeout,
    /// Could not connect, or the connection broke.
    Network,
    /// The stream ended before its end marker.
    CutOff,
    /// The stream closed without a word of answer and without saying why.
    NoAnswer,
    /// The stream was not in the expected format.
    Malformed,
    /// The server sent the request elsewhere (duel never follows: a POST would be
    /// re-sent as a GET, or the prompt sent on to a host nobody configured).
    Redirected,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 15] = [
        ErrorKind::MissingKey,
        ErrorKind::Auth,
        ErrorKind::RateLimit,
        ErrorKind::Quota,
        ErrorKind::Filtered,
        ErrorKind::NotFound,
        ErrorKind::ContextTooLong,
        ErrorKind::BadRequest,
        ErrorKind::Server,
        ErrorKind::Timeout,
        ErrorKind::Network,
        ErrorKind::CutOff,
        ErrorKind::NoAnswer,
        ErrorKind::Malformed,
        ErrorKind::Redirected,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::MissingKey => "missing API key",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::RateLimit => "rate limited",
            ErrorKind::Quota => "quota exhausted",
            ErrorKind::Filtered => "blocked by content filter",
            ErrorKind::NotFound => "model not found",
            ErrorKind::ContextTooLong => "conversation too long",
            ErrorKind::BadRequest => "request rejected",
            ErrorKind::Server => "server error",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Network => "network error",
            ErrorKind::CutOff => "answer cut off",
            ErrorKind::NoAnswer => "no answer",
            ErrorKind::Malformed => "malformed stream",
            ErrorKind::Redirected => "redirected",
        }
    }
}

/// A provider failure: its kind, the provider's own message, and a hint for the user.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: None,
            status: None,
            retry_after: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        self.retry_after = wait;
        self
    }

    /// Failures that may succeed when sent again (only ever before any text arrived).
    pub fn retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::RateLimit | ErrorKind::Server | ErrorKind::Network
        )
    }
}

impl fmt::Display for ProviderError {
    /// One line: the kind, the HTTP status when there was one, the provider's message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.label())?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ProviderError {}

impl ProviderError {
    /// Reads back an error as `Display` wrote it (a saved conversation keeps only
    /// the text): `label (HTTP status): message`.
    pub fn from_display(text: &str) -> Self {
        let Some(kind) = ErrorKind::ALL
            .into_iter()
            .find(|k| text.starts_with(k.label()))
        else {
            return Self::new(ErrorKind::Server, text);
        };
        let rest = &text[kind.label().len()..];
        let (status, rest) = match rest.strip_prefix(" (HTTP ").and_then(|r| r.split_once(')')) {
            Some((code, rest)) => (code.parse().ok(), rest),
            None => (None, rest),
        };
        let mut error = Self::new(kind, rest.strip_prefix(": ").unwrap_or(rest));
        error.status = status;
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_reads_back_from_its_display() {
        for error in [
            ProviderError::new(ErrorKind::Auth, "Incorrect API key (see docs): x").with_status(401),
            ProviderError::new(ErrorKind::CutOff, "the stream ended before [DONE]"),
            ProviderError::new(ErrorKind::Timeout, ""),
        ] {
            let back = ProviderError::from_display(&error.to_string());
            assert_eq!(
                (back.kind, back.status, back.message),
                (error.kind, error.status, error.message)
            );
        }
    }
}
