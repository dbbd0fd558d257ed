//! Running a provider against a loopback server and reading what it streamed.

use std::time::Duration;

use duel::config::ModelSpec;
use duel::provider::{
    self, ChatRequest, Finish, Message, Provider, ProviderError, RetryPolicy, StreamEvent, Usage,
};

/// Short waits so that three attempts stay well under a second.
pub const FAST_RETRY: RetryPolicy = RetryPolicy {
    max_retries: 2,
    first_backoff: Duration::from_millis(10),
    max_wait: Duration::from_millis(50),
};

/// Streams one answer with fast retries, through a provider of its own; every event
/// it produced, in order.
pub async fn run(model: &ModelSpec, messages: Vec<Message>) -> Vec<StreamEvent> {
    run_with(provider::build(model).as_ref(), model, messages).await
}

/// `run` through a given provider.
pub async fn run_with(
    provider: &dyn Provider,
    model: &ModelSpec,
    messages: Vec<Message>,
) -> Vec<StreamEvent> {
    let req = ChatRequest::for_model(model, messages);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    provider::stream_with(provider, &req, tx, FAST_RETRY).await;
    let mut events = Vec::new();
    while let Ok(event) = rx.try_recv() {
        events.push(event);
    }
    events
}

/// The answer text, joined.
pub fn text(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// The reasoning text, joined.
pub fn reasoning(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Reasoning(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// The last usage reported.
pub fn usage(events: &[StreamEvent]) -> Option<Usage> {
    events.iter().rev().find_map(|e| match e {
        StreamEvent::Usage(u) => Some(*u),
        _ => None,
    })
}

/// Fails the test unless the answer ended exactly once, with its last event.
pub fn assert_one_end(events: &[StreamEvent]) {
    let ends = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::Finish(_) | StreamEvent::Error(_)))
        .count();
    assert_eq!(ends, 1, "{events:?}");
    assert!(
        matches!(
            events.last(),
            Some(StreamEvent::Finish(_) | StreamEvent::Error(_))
        ),
        "the answer does not end with Finish or Error: {events:?}"
    );
}

/// How the answer ended; fails the test if it ended in an error.
pub fn finish(events: &[StreamEvent]) -> Finish {
    match events.last() {
        Some(StreamEvent::Finish(finish)) => *finish,
        other => panic!("expected a Finish last, got {other:?} in {events:?}"),
    }
}

/// The error that ended the answer; fails the test if it ended well.
pub fn error(events: &[StreamEvent]) -> &ProviderError {
    match events.last() {
        Some(StreamEvent::Error(err)) => err,
        other => panic!("expected an Error last, got {other:?} in {events:?}"),
    }
}
