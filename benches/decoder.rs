//! Decoder throughput: the bytes of an SSE answer to text deltas, for OpenAI-style
//! (`data:` chunks) and Anthropic-style (named events) streams of 20,000 tokens, fed in
//! 16 KiB reads. Baselines from the same run: finding the event boundaries alone
//! (memchr), and the SSE framing without JSON. Run with `cargo bench --bench decoder`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use divan::counter::BytesCount;
use duel::config::{Endpoint, WireKind};
use duel::provider::{Sink, StreamEvent, anthropic, openai, sse};
use futures_util::{StreamExt, stream};
use tokio::sync::mpsc;

fn main() {
    divan::main();
}

const TOKENS: usize = 20_000;
const READ: usize = 16 * 1024;

fn openai_body() -> Vec<u8> {
    let mut body = String::new();
    for i in 0..TOKENS {
        body.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"qwen-plus\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"tok{i} \"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    // As servers end an answer: the finish reason, then usage, then the marker.
    body.push_str("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"qwen-plus\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    body.push_str("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":20000}}\n\ndata: [DONE]\n\n");
    body.into_bytes()
}

fn anthropic_body() -> Vec<u8> {
    let mut body = String::from(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    );
    for i in 0..TOKENS {
        body.push_str(&format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"tok{i} \"}}}}\n\n"
        ));
    }
    body.push_str("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":20000}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    body.into_bytes()
}

fn reads(body: &[u8]) -> Vec<Bytes> {
    body.chunks(READ).map(Bytes::copy_from_slice).collect()
}

fn body_stream(
    reads: Vec<Bytes>,
) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    stream::iter(reads.into_iter().map(Ok))
}

fn endpoint(kind: WireKind) -> Endpoint {
    Endpoint {
        idle_timeout: Duration::from_secs(60),
        ..Endpoint::new(kind, "http://127.0.0.1:1/v1")
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
}

/// Text deltas `decode` produced; checks that every token came through.
fn texts(mut rx: mpsc::UnboundedReceiver<StreamEvent>) -> usize {
    let mut n = 0;
    while let Ok(event) = rx.try_recv() {
        n += usize::from(matches!(event, StreamEvent::Text(_)));
    }
    assert_eq!(n, TOKENS);
    n
}

const KINDS: [&str; 2] = ["openai", "anthropic"];

fn body(kind: &str) -> Vec<u8> {
    match kind {
        "openai" => openai_body(),
        _ => anthropic_body(),
    }
}

/// Baseline: find every blank line that ends an event, nothing else.
#[divan::bench(args = KINDS, sample_count = 20)]
fn baseline_event_boundaries(bencher: divan::Bencher, kind: &str) {
    let reads = reads(&body(kind));
    let len = reads.iter().map(Bytes::len).sum::<usize>();
    bencher.counter(BytesCount::new(len)).bench(|| {
        let events: usize = reads
            .iter()
            .map(|r| memchr::memmem::find_iter(r, b"\n\n").count())
            .sum();
        assert!(events >= TOKENS - TOKENS / 100);
        events
    });
}

/// The SSE framing duel uses (size guard, UTF-8, eventsource-stream), no JSON.
#[divan::bench(args = KINDS, sample_count = 20)]
fn sse_framing(bencher: divan::Bencher, kind: &str) {
    let reads = reads(&body(kind));
    let len = reads.iter().map(Bytes::len).sum::<usize>();
    let rt = runtime();
    bencher.counter(BytesCount::new(len)).bench(|| {
        rt.block_on(async {
            let events = sse::events(body_stream(reads.clone()), Duration::from_secs(60));
            let n = events.count().await;
            assert!(n > TOKENS);
            n
        })
    });
}

/// The whole decoder: bytes in, text deltas out.
#[divan::bench(args = KINDS, sample_count = 20)]
fn decode_to_text_deltas(bencher: divan::Bencher, kind: &str) {
    let reads = reads(&body(kind));
    let len = reads.iter().map(Bytes::len).sum::<usize>();
    let rt = runtime();
    bencher.counter(BytesCount::new(len)).bench(|| {
        rt.block_on(async {
            let (tx, rx) = mpsc::unbounded_channel();
            let mut sink = Sink::new(tx);
            let result = match kind {
                "openai" => {
                    let endpoint = endpoint(WireKind::OpenAi);
                    openai::decode(
                        body_stream(reads.clone()),
                        "text/event-stream",
                        &endpoint,
                        &mut sink,
                    )
                    .await
                }
                _ => {
                    let endpoint = endpoint(WireKind::Anthropic);
                    anthropic::decode(
                        body_stream(reads.clone()),
                        "text/event-stream",
                        &endpoint,
                        &mut sink,
                    )
                    .await
                }
            };
            assert!(result.is_ok(), "{result:?}");
            drop(sink);
            texts(rx)
        })
    });
}
