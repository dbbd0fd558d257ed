//! Property tests for the stream decoders: whatever bytes arrive, however they are
//! cut, nothing panics, every stream ends with exactly one `Finish` or `Error`, and a
//! valid stream decodes the same whether it arrives whole or in pieces.

use std::convert::Infallible;
use std::time::Duration;

use crate::common;
use bytes::Bytes;
use common::events::assert_one_end;
use common::models::KINDS;
use common::server::{MockServer, Reply, Step};
use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::provider::{
    self, ChatRequest, Message, ProviderError, RetryPolicy, Role, StreamEvent, ndjson, sse,
};
use futures_util::{Stream, StreamExt};
use proptest::prelude::*;

const IDLE: Duration = Duration::from_secs(5);

/// This file's runs, from its own fixed seed.
fn config(cases: u32) -> ProptestConfig {
    common::props::config(cases, 0x5eed_d0e1)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn chunked(parts: Vec<Vec<u8>>) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    futures_util::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from(p))))
}

/// `whole` cut at `cuts` (positions, any order, out of range ones wrapped).
fn split(whole: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (whole.len() + 1)).collect();
    at.push(0);
    at.push(whole.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| whole[w[0]..w[1]].to_vec()).collect()
}

type Decoded = Vec<Result<(String, String), String>>;

fn decode_sse(parts: Vec<Vec<u8>>) -> Decoded {
    runtime().block_on(async {
        sse::events(chunked(parts), IDLE)
            .map(|item| {
                item.map(|e| (e.event.to_string(), e.data.to_string()))
                    .map_err(|e: ProviderError| format!("{:?}", e.kind))
            })
            .collect()
            .await
    })
}

fn decode_lines(parts: Vec<Vec<u8>>) -> Vec<Result<String, String>> {
    runtime().block_on(async {
        ndjson::lines(chunked(parts), IDLE)
            .map(|item| item.map_err(|e| format!("{:?}", e.kind)))
            .collect()
            .await
    })
}

/// At most one error, and only as the last item.
fn assert_error_only_last<T: std::fmt::Debug>(items: &[Result<T, String>]) {
    if let Some(at) = items.iter().position(Result::is_err) {
        assert_eq!(at, items.len() - 1, "an item after an error: {items:?}");
    }
}

/// Bytes that are mostly stream syntax, so the decoders get past their first line.
fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just(b"data: ".to_vec()),
        Just(b"data:".to_vec()),
        Just(b"event: error\n".to_vec()),
        Just(b": keep-alive\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n\n".to_vec()),
        Just(b"[DONE]".to_vec()),
        Just("\u{feff}".as_bytes().to_vec()),
        Just("你好".as_bytes().to_vec()),
        Just(b"{\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}".to_vec()),
        Just(b"{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}".to_vec()),
        Just(b"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}]}".to_vec()),
        Just(b"{\"message\":{\"content\":\"x\"},\"done\":false}".to_vec()),
        Just(b"{\"result\":\"x\",\"is_end\":false}".to_vec()),
        Just(b"{\"error\":{\"message\":\"boom\"}}".to_vec()),
        "[ -~]{0,12}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(fragment, 0..24).prop_map(|parts| parts.concat())
}

/// A valid SSE event: an optional name and one or more data lines.
#[derive(Clone, Debug)]
struct SseEvent {
    name: Option<String>,
    data: Vec<String>,
}

fn sse_event() -> impl Strategy<Value = SseEvent> {
    (
        proptest::option::of("[a-z_]{1,8}"),
        // Data lines: any text without line breaks, "你好" and emoji included.
        proptest::collection::vec("[^\r\n]{1,16}", 1..4),
    )
        .prop_map(|(name, data)| SseEvent { name, data })
}

fn encode(events: &[SseEvent], newline: &str) -> Vec<u8> {
    let mut out = String::new();
    for event in events {
        if let Some(name) = &event.name {
            out.push_str(&format!("event: {name}{newline}"));
        }
        for line in &event.data {
            out.push_str(&format!("data: {line}{newline}"));
        }
        out.push_str(newline);
    }
    out.into_bytes()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn sse_survives_any_bytes_in_any_chunks(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..12),
    ) {
        assert_error_only_last(&decode_sse(chunks));
    }

    #[test]
    fn sse_survives_stream_like_bytes_cut_anywhere(
        whole in stream_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        assert_error_only_last(&decode_sse(split(&whole, &cuts)));
    }

    #[test]
    fn valid_sse_decodes_the_same_however_it_is_cut(
        events in proptest::collection::vec(sse_event(), 0..6),
        newline in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
    ) {
        let whole = encode(&events, newline);
        let unsplit = decode_sse(vec![whole.clone()]);
        let expected: Decoded = events
            .iter()
            .map(|e| Ok((e.name.clone().unwrap_or_else(|| "message".into()), e.data.join("\n"))))
            .collect();
        prop_assert_eq!(&unsplit, &expected);
        prop_assert_eq!(decode_sse(split(&whole, &cuts)), unsplit);
    }

    #[test]
    fn lines_survive_any_bytes_in_any_chunks(
        whole in prop_oneof![stream_bytes(), proptest::collection::vec(any::<u8>(), 0..256)],
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        assert_error_only_last(&decode_lines(split(&whole, &cuts)));
    }

    #[test]
    fn valid_lines_decode_the_same_however_they_are_cut(
        // A first character that is neither blank nor a BOM, so no line is skipped.
        lines in proptest::collection::vec("[a-z{\"你][^\r\n]{0,20}", 0..8),
        crlf in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
    ) {
        let newline = if crlf { "\r\n" } else { "\n" };
        let whole: Vec<u8> = lines.iter().flat_map(|l| format!("{l}{newline}").into_bytes()).collect();
        let unsplit = decode_lines(vec![whole.clone()]);
        let expected: Vec<Result<String, String>> = lines.iter().cloned().map(Ok).collect();
        prop_assert_eq!(&unsplit, &expected);
        prop_assert_eq!(decode_lines(split(&whole, &cuts)), unsplit);
    }
}

// --- Each wire kind, end to end over a loopback connection ---

fn model(kind: WireKind, base_url: String) -> ModelSpec {
    let endpoint = Endpoint {
        // ERNIE also wants a secret key from the environment; HOME is always set.
        secret_key_env: Some("HOME".into()),
        idle_timeout: IDLE,
        ..common::models::endpoint(kind, base_url, Some("sk-fuzz-not-a-key"))
    };
    common::models::model("fuzz", "fuzz-1", endpoint)
}

/// Runs one answer of `kind` whose body is `parts`, each in its own write.
fn answer(kind: WireKind, content_type: &str, parts: Vec<Vec<u8>>) -> Vec<StreamEvent> {
    let body = Reply::raw(
        200,
        content_type,
        parts.into_iter().map(Step::Write).collect(),
    );
    let mut replies = Vec::new();
    if kind == WireKind::Ernie {
        replies.push(Reply::json(
            200,
            r#"{"access_token":"24.fuzz","expires_in":2592000}"#,
        ));
    }
    replies.push(body);
    let server = MockServer::start(replies);
    let spec = model(kind, server.url());
    runtime().block_on(async {
        let provider = provider::build(&spec);
        let req = ChatRequest::for_model(&spec, vec![Message::new(Role::User, "fuzz")]);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let no_retry = RetryPolicy {
            max_retries: 0,
            first_backoff: Duration::ZERO,
            max_wait: Duration::ZERO,
        };
        provider::stream_with(provider.as_ref(), &req, tx, no_retry).await;
        let mut events = Vec::new();
        while let Ok(event) = rx.try_recv() {
            events.push(event);
        }
        events
    })
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn every_kind_ends_any_body_with_exactly_one_finish_or_error(
        whole in stream_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..4),
        ndjson_type in any::<bool>(),
    ) {
        for kind in KINDS {
            let content_type = if ndjson_type { "application/x-ndjson" } else { "text/event-stream" };
            let events = answer(kind, content_type, split(&whole, &cuts));
            assert_one_end(&events);
        }
    }
}

/// What the fuzzing found: two BOMs at the start made eventsource-stream slice inside
/// the second one and panic.
#[test]
fn a_doubled_bom_is_no_panic() {
    let bom = "\u{feff}".as_bytes();
    assert_error_only_last(&decode_sse(vec![[bom, bom].concat()]));
    assert_error_only_last(&decode_sse(vec![
        bom.to_vec(),
        [bom, b"data: x\n\n"].concat(),
    ]));
    for kind in [WireKind::OpenAi, WireKind::Anthropic, WireKind::Gemini] {
        let events = answer(kind, "text/event-stream", vec![[bom, bom].concat()]);
        assert_one_end(&events);
    }
}
