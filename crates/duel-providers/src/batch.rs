//! Many requests to several providers at once, each at its provider's pace: the
//! engine under `duel batch` (every item × model of a suite) and `duel judge` (every
//! pair in both orders).
//!
//! Requests go out grouped by provider. Each provider has a `Limiter` (its `rpm` and
//! `concurrency` from config); all of them share the command's `--concurrency`. A 429
//! holds back every request to that provider until its `Retry-After` has passed, and
//! the request is sent again; any failure after answer text arrived is final (SPEC §3:
//! never re-send a prompt whose answer had begun).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::limit::Limiter;
use crate::{ChatRequest, Provider, Providers, RetryPolicy};
use duel_core::config::ModelSpec;
use duel_core::domain::{Answer, AnswerState, ErrorKind, Message, ProviderError};

/// How often a failure before any text is sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retries {
    /// For a 429: the whole provider waits, so a storm of them is ridden out.
    pub rate_limited: u32,
    /// For a server or network error (SPEC §3: twice).
    pub other: u32,
    /// The wait before the first retry of a server or network error, doubled each
    /// time, and of a 429 that names no `Retry-After`.
    pub backoff: Duration,
    /// The longest wait any `Retry-After` may impose.
    pub max_wait: Duration,
}

impl Default for Retries {
    fn default() -> Self {
        Self {
            rate_limited: 6,
            other: 2,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(120),
        }
    }
}

/// One request: `key` says what it is for, `model` indexes the engine's models.
#[derive(Clone, Debug)]
pub struct Request<K> {
    pub key: K,
    pub model: usize,
    pub messages: Vec<Message>,
    /// Where the messages' attachments are kept; `None` when they have none.
    pub files: Option<duel_core::attachment::Store>,
}

/// A request's final answer, and how many times it was sent.
#[derive(Debug)]
pub struct Done<K> {
    pub key: K,
    pub model: usize,
    pub answer: Answer,
    /// What the model was sent before the prompt (system prompt included), as a vote
    /// record's `history` keeps it.
    pub history: Vec<Message>,
    pub sent: u32,
}

/// Requests under way; dropping it stops them all (an answer in flight is lost and
/// asked for again by a resume).
pub struct Running<K> {
    pub done: mpsc::Receiver<Done<K>>,
    _tasks: JoinSet<()>,
}

/// Sends `requests` to `models`, at most `concurrency` at once overall. Requests for
/// one provider start in the order given. Each final answer arrives on `done`.
pub fn start<K, I>(
    models: &[ModelSpec],
    requests: I,
    concurrency: usize,
    retries: Retries,
) -> Running<K>
where
    K: Send + 'static,
    I: IntoIterator<Item = Request<K>>,
{
    let mut providers = Providers::new();
    let built: Arc<Vec<(ModelSpec, Arc<dyn Provider>)>> = Arc::new(
        models
            .iter()
            .map(|m| (m.clone(), providers.get(m)))
            .collect(),
    );
    let global = Arc::new(Semaphore::new(concurrency.max(1)));
    // Group by provider, keeping the order within each.
    let mut groups: BTreeMap<&str, Vec<Request<K>>> = BTreeMap::new();
    for request in requests {
        groups
            .entry(models[request.model].provider.as_str())
            .or_default()
            .push(request);
    }
    let (tx, done) = mpsc::channel(64);
    let mut tasks = JoinSet::new();
    for (name, requests) in groups {
        // Every model of a provider shares its pace; the first one's settings name it.
        let endpoint = &models[requests[0].model].endpoint;
        let in_flight = endpoint
            .concurrency
            .map_or(concurrency, |n| n as usize)
            .clamp(1, concurrency.max(1));
        let limiter = Arc::new(Limiter::new(endpoint.rpm, in_flight));
        tracing::debug!(provider = name, rpm = ?endpoint.rpm, in_flight, "batch group");
        let built = Arc::clone(&built);
        let global = Arc::clone(&global);
        let tx = tx.clone();
        tasks.spawn(async move {
            stream::iter(requests)
                .for_each_concurrent(in_flight, |request| {
                    let (limiter, global, built, tx) = (&limiter, &global, &built, &tx);
                    async move {
                        let (model, provider) = &built[request.model];
                        let done =
                            send(&**provider, model, request, limiter, global, retries).await;
                        // A closed channel means the command stopped: nothing to do.
                        let _ = tx.send(done).await;
                    }
                })
                .await;
        });
    }
    Running {
        done,
        _tasks: tasks,
    }
}

/// One request to its final answer, retried as `retries` allows while no text came.
async fn send<K>(
    provider: &dyn Provider,
    model: &ModelSpec,
    request: Request<K>,
    limiter: &Limiter,
    global: &Semaphore,
    retries: Retries,
) -> Done<K> {
    let mut chat = ChatRequest::for_model(model, request.messages);
    chat.files = request.files;
    let mut history = chat.history_with_system();
    history.pop();
    let (mut rate_limited, mut other, mut sent) = (0, 0, 0);
    loop {
        let turn = limiter.start().await;
        // The semaphore is never closed, so acquiring only ever waits.
        let Ok(slot) = global.acquire().await else {
            continue;
        };
        sent += 1;
        let answer = once(provider, model, &chat).await;
        drop((slot, turn));
        let again = failed_before_text(&answer).and_then(|err| {
            let wait = |attempt| {
                crate::backoff(retries.backoff, attempt, err.retry_after, retries.max_wait)
            };
            match err.kind {
                ErrorKind::RateLimit if rate_limited < retries.rate_limited => {
                    rate_limited += 1;
                    Some(Again::AfterHold(wait(rate_limited - 1)))
                }
                ErrorKind::Server | ErrorKind::Network if other < retries.other => {
                    other += 1;
                    Some(Again::After(wait(other - 1)))
                }
                _ => None,
            }
        });
        match again {
            None => {
                return Done {
                    key: request.key,
                    model: request.model,
                    answer,
                    history,
                    sent,
                };
            }
            // Every request to the provider waits, this one included (its next turn).
            Some(Again::AfterHold(wait)) => limiter.hold(wait),
            Some(Again::After(wait)) => tokio::time::sleep(wait).await,
        }
        tracing::info!(model = %model.name, sent, "sending again before any text");
    }
}

/// How a request that failed before any text goes again.
enum Again {
    /// A 429: the whole provider waits this long.
    AfterHold(Duration),
    /// A server or network error: this request waits this long.
    After(Duration),
}

/// The error of an answer that failed before a word of it arrived.
fn failed_before_text(answer: &Answer) -> Option<ProviderError> {
    match &answer.state {
        AnswerState::Failed(err)
            if answer.text.is_empty() && answer.reasoning.is_empty() && answer.deltas == 0 =>
        {
            Some(err.clone())
        }
        _ => None,
    }
}

/// One attempt, streamed to its end; retries are the caller's.
async fn once(provider: &dyn Provider, model: &ModelSpec, chat: &ChatRequest) -> Answer {
    let mut answer = Answer::new(model.model_ref(), 0, Instant::now());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let no_retry = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    let drive = crate::stream_with(provider, chat, tx, no_retry);
    let collect = async {
        while let Some(event) = rx.recv().await {
            answer.apply(event, 1, Instant::now());
        }
    };
    tokio::join!(drive, collect);
    answer
}
