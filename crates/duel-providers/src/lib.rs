//! The provider layer: one trait every wire kind implements, and the driver that
//! adds retries and the final event (the events themselves are `duel_core::domain`'s);
//! `batch` runs many requests over providers, paced by `limit`.

pub mod anthropic;
mod attach;
pub mod batch;
mod body;
pub mod demo;
pub mod ernie;
pub mod error;
pub mod gemini;
pub mod http;
pub mod limit;
pub mod ndjson;
pub mod ollama;
pub mod openai;
mod registry;
pub mod sse;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;

pub use body::{Ticks, reading_on};
pub use duel_core::domain::{
    ErrorKind, Finish, Message, ProviderError, Retry, Role, StreamEvent, Usage,
};
pub use duel_core::request::ChatRequest;
pub use registry::Providers;

use duel_core::config::{Endpoint, ModelSpec, WireKind};
use wire::Http;

/// Where a wire kind pushes what it decodes. It remembers whether any answer text
/// arrived, which decides whether a failed attempt may be retried, and counts the
/// text against the answer's size limit: past it nothing more is taken and `full`
/// is told, which ends the attempt.
pub struct Sink {
    tx: UnboundedSender<StreamEvent>,
    answered: bool,
    /// Bytes of answer and reasoning text still allowed.
    room: usize,
    full: Arc<Notify>,
    /// The response body the wire kind reads, shared: what it leaves unread after
    /// the answer's end marker is read here once the answer is in.
    rest: Option<body::Rest>,
}

impl Sink {
    pub fn new(tx: UnboundedSender<StreamEvent>) -> Self {
        Self::with_limit(tx, usize::MAX)
    }

    /// A sink that takes at most `limit` bytes of text.
    fn with_limit(tx: UnboundedSender<StreamEvent>, limit: usize) -> Self {
        Self {
            tx,
            answered: false,
            room: limit,
            full: Arc::new(Notify::new()),
            rest: None,
        }
    }

    /// The body of an answer's response, for the wire kind to decode. Its rest (the
    /// chunked terminator, which servers often send in a write of their own after the
    /// end marker) is read after the answer, so the connection goes back to the pool
    /// and the next turn reuses it instead of opening a new one.
    pub fn answer_body(
        &mut self,
        response: reqwest::Response,
    ) -> impl futures_util::Stream<Item = Result<bytes::Bytes, reqwest::Error>> + Send + 'static
    {
        let (body, rest) = body::shared(response.bytes_stream());
        self.rest = Some(rest);
        body
    }

    pub fn text(&mut self, text: &str) {
        if let Some(text) = self.take(text) {
            let _ = self.tx.send(StreamEvent::Text(text.to_owned()));
        }
    }

    pub fn reasoning(&mut self, text: &str) {
        if let Some(text) = self.take(text) {
            let _ = self.tx.send(StreamEvent::Reasoning(text.to_owned()));
        }
    }

    /// The part of `text` that still fits (whole characters); tells `full` once the
    /// limit is reached.
    fn take<'t>(&mut self, text: &'t str) -> Option<&'t str> {
        if text.is_empty() || self.room == 0 {
            return None;
        }
        let mut end = text.len().min(self.room);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.room -= end;
        if end < text.len() || self.room == 0 {
            self.room = 0;
            self.full.notify_one();
        }
        self.answered |= end > 0;
        (end > 0).then(|| &text[..end])
    }

    pub fn usage(&mut self, usage: Usage) {
        let _ = self.tx.send(StreamEvent::Usage(usage));
    }

    /// True once any answer or reasoning text was passed on.
    pub fn answered(&self) -> bool {
        self.answered
    }
}

/// One wire kind. `attempt` sends the request once and pushes what arrives into the
/// sink; it returns how the answer ended, or the error that ended it.
pub trait Provider: Send + Sync {
    fn attempt<'a>(
        &'a self,
        req: &'a ChatRequest,
        sink: &'a mut Sink,
    ) -> BoxFuture<'a, Result<Finish, ProviderError>>;
}

/// Retries allowed for a request that failed before any answer text arrived.
const MAX_RETRIES: u32 = 2;

/// The longest wait before a retry, whatever `Retry-After` asks: a pane should not
/// look frozen for minutes.
pub(crate) const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// How `stream` retries a failure that came before any text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    /// The wait before the first retry when the server names none; doubled each time.
    pub first_backoff: Duration,
    /// The cap on any wait, `Retry-After` included.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: MAX_RETRIES,
            first_backoff: Duration::from_millis(500),
            max_wait: MAX_RETRY_WAIT,
        }
    }
}

impl RetryPolicy {
    fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        backoff(self.first_backoff, attempt, retry_after, self.max_wait)
    }
}

/// The wait before retry number `attempt + 1` (counted from 0): what the server asked
/// for, else `first` doubled at each attempt; never longer than `max_wait`. The one
/// formula for the answer driver and for the batch runner.
pub(crate) fn backoff(
    first: Duration,
    attempt: u32,
    retry_after: Option<Duration>,
    max_wait: Duration,
) -> Duration {
    retry_after
        .unwrap_or_else(|| first.saturating_mul(2u32.saturating_pow(attempt)))
        .min(max_wait)
}

/// Runs one answer to its end: retries a failure that came before any text (at most
/// twice, honouring `Retry-After`), never after, and sends exactly one final
/// `Finish` or `Error` event.
pub async fn stream(provider: &dyn Provider, req: &ChatRequest, tx: UnboundedSender<StreamEvent>) {
    stream_with(provider, req, tx, RetryPolicy::default()).await;
}

/// `stream` with a chosen retry policy (tests use short backoffs).
pub async fn stream_with(
    provider: &dyn Provider,
    req: &ChatRequest,
    tx: UnboundedSender<StreamEvent>,
    retry: RetryPolicy,
) {
    let mut sink = Sink::with_limit(tx.clone(), req.max_answer_bytes);
    let full = sink.full.clone();
    let mut attempt = 0;
    let error = loop {
        // A server that streams on past the answer's limit is cut off there: the
        // attempt (and its connection) is dropped.
        let result = tokio::select! {
            result = provider.attempt(req, &mut sink) => result,
            () = full.notified() => Err(too_long(req.max_answer_bytes)),
        };
        match result {
            Ok(finish) => {
                // The answer is in when it says so; the rest of its body only keeps
                // the connection for the next turn.
                let _ = tx.send(StreamEvent::Finish(finish));
                if let Some(rest) = sink.rest.take() {
                    rest.read_to_end().await;
                }
                return;
            }
            Err(err) if err.retryable() && !sink.answered() && attempt < retry.max_retries => {
                let wait = retry.wait(attempt, err.retry_after);
                tracing::info!(kind = ?err.kind, attempt, ?wait, "retrying before any text");
                let _ = tx.send(StreamEvent::Retry(Retry {
                    kind: err.kind,
                    status: err.status,
                    wait,
                    attempt: attempt + 1,
                    of: retry.max_retries,
                }));
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(err) => break err,
        }
    };
    let _ = tx.send(StreamEvent::Error(error));
}

/// The error of an answer cut at its size limit.
fn too_long(limit: usize) -> ProviderError {
    let size = if limit >= 1024 * 1024 && limit.is_multiple_of(1024 * 1024) {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{limit} bytes")
    };
    ProviderError::new(
        ErrorKind::CutOff,
        format!("cut at duel's limit of {size} per answer: the server kept on sending"),
    )
    .with_hint("max_answer_bytes in the model's config raises the limit")
}

/// The provider for a model's endpoint, on a client of its own. Building never fails:
/// a missing key is reported by the first attempt, in the pane. The app keeps its
/// providers in a `Providers` instead, so that turns share connections.
pub fn build(model: &ModelSpec) -> Arc<dyn Provider> {
    with_client(model, http_client(&model.endpoint))
}

/// The provider for a model's endpoint, sending on `client`.
fn with_client(model: &ModelSpec, client: reqwest::Client) -> Arc<dyn Provider> {
    let endpoint = model.endpoint.clone();
    match model.endpoint.kind {
        WireKind::Demo => Arc::new(demo::Demo::new(&model.model_id)),
        WireKind::OpenAi => Arc::new(Http::new(openai::OpenAi::new(endpoint), client)),
        WireKind::Anthropic => Arc::new(Http::new(anthropic::Anthropic::new(endpoint), client)),
        WireKind::Gemini => Arc::new(Http::new(gemini::Gemini::new(endpoint), client)),
        WireKind::Ollama => Arc::new(Http::new(ollama::Ollama::new(endpoint), client)),
        WireKind::Ernie => Arc::new(ernie::Ernie::new(endpoint, client)),
    }
}

/// An HTTP client with the endpoint's connect timeout, no total deadline (a stream
/// is bounded by the endpoint's idle timeout instead).
pub(crate) fn http_client(endpoint: &Endpoint) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(endpoint.connect_timeout)
        // A redirected POST comes back as a GET without the prompt; never follow.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("duel/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_retry_after_wins_up_to_the_cap() {
        let retry = RetryPolicy::default();
        assert_eq!(retry.wait(0, None), Duration::from_millis(500));
        assert_eq!(retry.wait(1, None), Duration::from_secs(1));
        assert_eq!(retry.wait(0, Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(
            retry.wait(0, Some(Duration::from_secs(3600))),
            MAX_RETRY_WAIT
        );
    }
}
