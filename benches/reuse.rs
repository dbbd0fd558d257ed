//! Time to first token of a conversation's second turn, with the provider kept from
//! turn 1 (the app's `Providers`: turn 2 goes out on turn 1's connection) and without
//! (a provider built per turn, as before issue 12: a new connection each turn). The
//! loopback server waits `CONNECT_DELAY` before serving a new connection, standing in
//! for the TCP and TLS handshakes with a far server. Run with
//! `cargo bench --bench reuse`; it prints the medians and their ratio.

// The tests' keep-alive server; the bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/common/keepalive.rs"]
mod keepalive;

use std::time::{Duration, Instant};

use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::provider::{self, ChatRequest, Message, Provider, Providers, Role, StreamEvent};
use keepalive::KeepAliveServer;
use tokio::sync::mpsc;

/// What a new connection costs here; a TLS handshake with a server abroad is more.
const CONNECT_DELAY: Duration = Duration::from_millis(80);
const ROUNDS: usize = 15;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let body: String = [
        r#"{"choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        "[DONE]",
    ]
    .iter()
    .map(|event| format!("data: {event}\n\n"))
    .collect();
    let server = KeepAliveServer::start(
        Box::new(move |_| (200, "text/event-stream", body.clone())),
        CONNECT_DELAY,
    );
    let endpoint = Endpoint {
        api_key: Some("sk-bench".into()),
        ..Endpoint::new(WireKind::OpenAi, format!("{}/v1", server.url()))
    };
    let model = ModelSpec::new("bench", "bench", "bench-model", endpoint);

    let mut kept = Vec::new();
    let mut fresh = Vec::new();
    let mut first = Vec::new();
    for _ in 0..ROUNDS {
        // With reuse: one registry for the conversation, as the run loop keeps it.
        let mut providers = Providers::new();
        first.push(ttft(providers.get(&model).as_ref(), &model, 1).await);
        kept.push(ttft(providers.get(&model).as_ref(), &model, 2).await);
        // Without: a provider, and so a client and a connection, per turn.
        ttft(provider::build(&model).as_ref(), &model, 1).await;
        fresh.push(ttft(provider::build(&model).as_ref(), &model, 2).await);
    }
    let (kept, fresh, first) = (median(kept), median(fresh), median(first));
    println!(
        "connect delay {} ms, {ROUNDS} rounds, medians:",
        CONNECT_DELAY.as_millis()
    );
    println!(
        "  turn 1 (a new connection either way)  {:>8.2} ms",
        ms(first)
    );
    println!(
        "  turn 2, provider built per turn        {:>8.2} ms  (baseline)",
        ms(fresh)
    );
    println!(
        "  turn 2, provider kept (Providers)      {:>8.2} ms  ({:.3}x the baseline, {:.0}x faster)",
        ms(kept),
        ms(kept) / ms(fresh),
        ms(fresh) / ms(kept)
    );
}

/// The time from sending turn `turn` to its first answer text.
async fn ttft(provider: &dyn Provider, model: &ModelSpec, turn: usize) -> Duration {
    let mut messages = Vec::new();
    for i in 1..turn {
        messages.push(Message::new(Role::User, format!("question {i}")));
        messages.push(Message::new(Role::Assistant, "Hello"));
    }
    messages.push(Message::new(Role::User, format!("question {turn}")));
    let req = ChatRequest::for_model(model, messages);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let mut first = None;
    let drive = provider::stream(provider, &req, tx);
    let read = async {
        while let Some(event) = rx.recv().await {
            if matches!(event, StreamEvent::Text(_)) && first.is_none() {
                first = Some(started.elapsed());
            }
        }
    };
    tokio::join!(drive, read);
    first.expect("the answer had text")
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1000.0
}
