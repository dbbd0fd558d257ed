//! The `anthropic` wire kind against a loopback server, through the retrying driver.

use std::time::{Duration, Instant};

use crate::common;
use common::events::{assert_one_end, error, finish, reasoning, run, text, usage};
use common::server::{MockServer, Reply, Step};
use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::provider::{ErrorKind, Finish, Message, Role, StreamEvent, Usage};
use serde_json::{Value, json};

const TEST_KEY: &str = "sk-ant-test-not-a-real-key";

fn endpoint(base_url: String) -> Endpoint {
    common::models::endpoint(WireKind::Anthropic, base_url, Some(TEST_KEY))
}

fn model(endpoint: Endpoint) -> ModelSpec {
    common::models::model("claude", "claude-mock-1", endpoint)
}

async fn run_against(server: &MockServer) -> Vec<StreamEvent> {
    run(
        &model(endpoint(server.url())),
        vec![Message::new(Role::User, "hi")],
    )
    .await
}

// ---- Anthropic stream builders -------------------------------------------------

/// One named event: `event: {name}` then `data: {data}` and a blank line.
fn event(name: &str, data: Value) -> Vec<u8> {
    format!("event: {name}\ndata: {data}\n\n").into_bytes()
}

fn message_start(input: u64) -> Vec<u8> {
    event(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": "msg_mock", "type": "message", "role": "assistant", "content": [],
            "model": "claude-mock-1", "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": input, "output_tokens": 1}
        }}),
    )
}

fn block_start(index: u32, kind: &str) -> Vec<u8> {
    let block = match kind {
        "thinking" => json!({"type": "thinking", "thinking": ""}),
        _ => json!({"type": "text", "text": ""}),
    };
    event(
        "content_block_start",
        json!({"type": "content_block_start", "index": index, "content_block": block}),
    )
}

fn delta(index: u32, delta: Value) -> Vec<u8> {
    event(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": index, "delta": delta}),
    )
}

fn text_delta(index: u32, text: &str) -> Vec<u8> {
    delta(index, json!({"type": "text_delta", "text": text}))
}

fn block_stop(index: u32) -> Vec<u8> {
    event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    )
}

fn message_delta(stop_reason: &str, output: u64) -> Vec<u8> {
    event(
        "message_delta",
        json!({"type": "message_delta",
               "delta": {"stop_reason": stop_reason, "stop_sequence": null},
               "usage": {"output_tokens": output}}),
    )
}

fn message_stop() -> Vec<u8> {
    event("message_stop", json!({"type": "message_stop"}))
}

fn ping() -> Vec<u8> {
    event("ping", json!({"type": "ping"}))
}

fn stream_error(kind: &str, message: &str) -> Vec<u8> {
    event(
        "error",
        json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

/// A whole answer: start, one text block in `pieces`, the stop reason, the end.
fn answer(pieces: &[&str], input: u64, output: u64, stop_reason: &str) -> Vec<Vec<u8>> {
    let mut events = vec![message_start(input), block_start(0, "text"), ping()];
    events.extend(pieces.iter().map(|p| text_delta(0, p)));
    events.extend([
        block_stop(0),
        message_delta(stop_reason, output),
        message_stop(),
    ]);
    events
}

/// A 200 event stream sending each event in its own write, a few milliseconds apart.
fn sse(events: Vec<Vec<u8>>) -> Reply {
    let mut steps = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        if i > 0 {
            steps.push(Step::Sleep(Duration::from_millis(2)));
        }
        steps.push(Step::Write(event));
    }
    Reply::raw(200, "text/event-stream", steps)
}

fn error_body(kind: &str, message: &str) -> String {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_mock"})
        .to_string()
}

// ---- Tests ---------------------------------------------------------------------

#[tokio::test]
async fn streams_text_with_usage_and_stop() {
    let server = MockServer::start(vec![sse(answer(
        &["Hello", ", ", "world", "!"],
        12,
        15,
        "end_turn",
    ))]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "Hello, world!");
    assert_eq!(
        usage(&events),
        Some(Usage {
            input_tokens: Some(12),
            output_tokens: Some(15)
        })
    );
    assert_eq!(finish(&events), Finish::Stop);
    assert_one_end(&events);
}

#[tokio::test]
async fn passes_thinking_as_reasoning_and_ignores_signatures() {
    let server = MockServer::start(vec![sse(vec![
        message_start(20),
        block_start(0, "thinking"),
        delta(
            0,
            json!({"type": "thinking_delta", "thinking": "Let me think"}),
        ),
        delta(
            0,
            json!({"type": "thinking_delta", "thinking": " briefly."}),
        ),
        delta(
            0,
            json!({"type": "signature_delta", "signature": "EqQBCgIYAhIM"}),
        ),
        block_stop(0),
        block_start(1, "text"),
        text_delta(1, "42"),
        block_stop(1),
        message_delta("end_turn", 30),
        message_stop(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(reasoning(&events), "Let me think briefly.");
    assert_eq!(text(&events), "42");
    assert_eq!(usage(&events).and_then(|u| u.output_tokens), Some(30));
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn sends_the_request_the_messages_api_expects() {
    let server = MockServer::start(vec![sse(answer(&["ok"], 1, 1, "end_turn"))]);
    let mut endpoint = endpoint(format!("{}/", server.url()));
    endpoint.headers = vec![("anthropic-beta".into(), "mock-beta".into())];
    let mut model = model(endpoint);
    model.system = Some("You are terse.".into());
    model.temperature = Some(0.25);
    model.top_p = Some(0.9);
    model.extra.insert(
        "thinking".into(),
        json!({"type": "enabled", "budget_tokens": 2048}),
    );
    let history = vec![
        Message::new(Role::User, "你好"),
        Message::new(Role::Assistant, "你好！"),
        Message::new(Role::User, "继续"),
    ];
    let events = run(&model, history).await;
    assert_eq!(finish(&events), Finish::Stop);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(TEST_KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("anthropic-beta"), Some("mock-beta"));
    assert_eq!(request.header("authorization"), None);
    assert!(
        request
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json"))
    );
    assert_eq!(
        request.json(),
        json!({
            "model": "claude-mock-1",
            "max_tokens": 4096,
            "system": "You are terse.",
            "messages": [
                {"role": "user", "content": "你好"},
                {"role": "assistant", "content": "你好！"},
                {"role": "user", "content": "继续"}
            ],
            "stream": true,
            "temperature": 0.25,
            "top_p": 0.9,
            "thinking": {"type": "enabled", "budget_tokens": 2048}
        })
    );
}

#[tokio::test]
async fn sends_the_models_max_tokens_and_no_system_when_unset() {
    let server = MockServer::start(vec![sse(answer(&["ok"], 1, 1, "end_turn"))]);
    let mut model = model(endpoint(server.url()));
    model.max_tokens = Some(300);
    run(&model, vec![Message::new(Role::User, "hi")]).await;
    let body = server.requests()[0].json();
    assert_eq!(body["max_tokens"], json!(300));
    assert_eq!(body.get("system"), None);
}

#[tokio::test]
async fn maps_stop_reasons() {
    for (reason, expected) in [
        ("max_tokens", Finish::Length),
        ("stop_sequence", Finish::Stop),
        ("refusal", Finish::Filtered),
        ("model_context_window_exceeded", Finish::Length),
    ] {
        let server = MockServer::start(vec![sse(answer(&["partial"], 1, 1, reason))]);
        let events = run_against(&server).await;
        assert_eq!(finish(&events), expected, "stop_reason {reason}");
    }
}

#[tokio::test]
async fn a_bad_key_names_the_env_var_and_never_the_key() {
    const VAR: &str = "DUEL_TEST_KEY_ANTHROPIC_AUTH";
    // SAFETY: the variable name is unique to this test; no other code reads or writes it.
    unsafe { std::env::set_var(VAR, TEST_KEY) };
    let server = MockServer::start(vec![Reply::json(
        401,
        &error_body("authentication_error", "invalid x-api-key"),
    )]);
    let mut endpoint = endpoint(server.url());
    endpoint.api_key = None;
    endpoint.api_key_env = Some(VAR.into());
    let events = run(&model(endpoint), vec![Message::new(Role::User, "hi")]).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.status, Some(401));
    assert_eq!(err.message, "invalid x-api-key");
    let hint = err.hint.as_deref().unwrap_or_default();
    assert!(hint.contains(VAR), "hint names the env var: {hint}");
    let shown = format!("{err} {hint} {err:?} {events:?}");
    assert!(!shown.contains(TEST_KEY), "the key leaked: {shown}");
    assert_eq!(server.requests().len(), 1, "auth errors are not retried");
    assert_eq!(server.requests()[0].header("x-api-key"), Some(TEST_KEY));
}

#[tokio::test]
async fn classifies_http_errors() {
    let cases = [
        (403, "permission_error", "no access", ErrorKind::Auth),
        (404, "not_found_error", "model: x", ErrorKind::NotFound),
        (
            400,
            "invalid_request_error",
            "prompt is too long: 210000 tokens > 200000 maximum",
            ErrorKind::ContextTooLong,
        ),
        (
            413,
            "request_too_large",
            "Request exceeds the maximum size",
            ErrorKind::ContextTooLong,
        ),
        (400, "billing_error", "add credits", ErrorKind::Quota),
    ];
    for (status, kind, message, expected) in cases {
        let server = MockServer::start(vec![Reply::json(status, &error_body(kind, message))]);
        let events = run_against(&server).await;
        let err = error(&events);
        assert_eq!((err.kind, err.status), (expected, Some(status)), "{kind}");
        assert_eq!(err.message, message);
        assert_eq!(server.requests().len(), 1, "{kind} is not retried");
        if expected == ErrorKind::NotFound {
            let hint = err.hint.as_deref().unwrap_or_default();
            assert!(
                hint.contains("claude-mock-1") && hint.contains(&server.url()),
                "{hint}"
            );
        }
    }
}

#[tokio::test]
async fn retries_a_rate_limit_then_answers() {
    let server = MockServer::start(vec![
        Reply::json(
            429,
            &error_body(
                "rate_limit_error",
                "Number of requests has exceeded your rate limit",
            ),
        )
        .with_header("retry-after", "0"),
        sse(answer(&["second ", "time"], 2, 2, "end_turn")),
    ]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "second time");
    assert_eq!(finish(&events), Finish::Stop);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn gives_up_after_three_overloaded_replies() {
    let server = MockServer::start(vec![Reply::json(
        529,
        &error_body("overloaded_error", "Overloaded"),
    )]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(err.status, Some(529));
    assert_eq!(err.message, "Overloaded");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_500_is_retried_as_a_server_error() {
    let server = MockServer::start(vec![
        Reply::json(500, &error_body("api_error", "Internal server error")),
        sse(answer(&["fine"], 1, 1, "end_turn")),
    ]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "fine");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_stream_cut_after_text_is_not_sent_again() {
    let server = MockServer::start(vec![sse(vec![
        message_start(5),
        block_start(0, "text"),
        text_delta(0, "The first half"),
        text_delta(0, " and then"),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "The first half and then");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::CutOff);
    assert!(err.message.contains("message_stop"), "{}", err.message);
    assert_eq!(server.requests().len(), 1, "no re-send after text");
}

#[tokio::test]
async fn a_message_stop_without_a_stop_reason_is_a_cut_answer() {
    let server = MockServer::start(vec![sse(vec![
        message_start(5),
        block_start(0, "text"),
        text_delta(0, "The first half"),
        block_stop(0),
        message_stop(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "The first half");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::CutOff);
    assert!(err.message.contains("stop_reason"), "{}", err.message);
}

#[tokio::test]
async fn a_stream_closed_before_any_text_says_nothing_came() {
    for events in [vec![], vec![message_start(5), ping()]] {
        let server = MockServer::start(vec![sse(events)]);
        let events = run_against(&server).await;
        let err = error(&events);
        assert_eq!(err.kind, ErrorKind::NoAnswer, "{err}");
        assert!(err.message.contains("without sending anything"));
    }
}

#[tokio::test]
async fn skips_data_that_is_not_json() {
    let mut events = answer(&["one ", "two ", "three"], 3, 3, "end_turn");
    events.insert(
        4,
        b"event: content_block_delta\ndata: {not json\n\n".to_vec(),
    );
    events.insert(6, b"data: <html>\n\n".to_vec());
    let server = MockServer::start(vec![sse(events)]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "one two three");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn a_stream_of_only_garbage_is_malformed() {
    let server = MockServer::start(vec![sse(vec![
        b"data: garbage\n\n".to_vec(),
        b"data: more garbage\n\n".to_vec(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(error(&events).kind, ErrorKind::Malformed);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_overloaded_error_event_after_text_ends_the_answer() {
    let server = MockServer::start(vec![sse(vec![
        message_start(5),
        block_start(0, "text"),
        text_delta(0, "Some text"),
        stream_error("overloaded_error", "Overloaded"),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "Some text");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(err.message, "Overloaded");
    assert_eq!(server.requests().len(), 1, "never re-sent after text");
}

#[tokio::test]
async fn an_overloaded_error_event_before_text_is_retried() {
    let server = MockServer::start(vec![
        sse(vec![
            message_start(5),
            ping(),
            stream_error("overloaded_error", "Overloaded"),
        ]),
        sse(answer(&["after a retry"], 5, 3, "end_turn")),
    ]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "after a retry");
    assert_eq!(finish(&events), Finish::Stop);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let server = MockServer::start(vec![Reply::raw(
        200,
        "text/event-stream",
        vec![
            Step::Write(message_start(3)),
            Step::Write(block_start(0, "text")),
            Step::Write(text_delta(0, "Hello")),
            Step::Hang,
        ],
    )]);
    let mut endpoint = endpoint(server.url());
    endpoint.idle_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let events = run(&model(endpoint), vec![Message::new(Role::User, "hi")]).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(text(&events), "Hello");
    assert_eq!(error(&events).kind, ErrorKind::Timeout);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn chinese_split_across_writes_arrives_intact() {
    let event = text_delta(0, "你好，世界");
    let at = event
        .windows(3)
        .position(|w| w == "好".as_bytes())
        .expect("the character is in the event");
    let mut steps = vec![
        Step::Write(message_start(2)),
        Step::Write(block_start(0, "text")),
        Step::Write(event[..at + 1].to_vec()),
        Step::Sleep(Duration::from_millis(10)),
        Step::Write(event[at + 1..at + 2].to_vec()),
        Step::Sleep(Duration::from_millis(10)),
        Step::Write(event[at + 2..].to_vec()),
    ];
    steps.extend([block_stop(0), message_delta("end_turn", 5), message_stop()].map(Step::Write));
    let server = MockServer::start(vec![Reply::raw(200, "text/event-stream", steps)]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "你好，世界");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn a_missing_key_fails_before_any_request() {
    let server = MockServer::start(vec![sse(answer(&["never"], 1, 1, "end_turn"))]);
    let mut endpoint = endpoint(server.url());
    endpoint.api_key = None;
    endpoint.api_key_env = Some("DUEL_TEST_ANTHROPIC_KEY_NEVER_SET".into());
    let events = run(&model(endpoint), vec![Message::new(Role::User, "hi")]).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::MissingKey);
    assert!(err.message.contains("DUEL_TEST_ANTHROPIC_KEY_NEVER_SET"));
    assert_eq!(server.requests().len(), 0);
}

#[tokio::test]
async fn a_whole_json_message_is_accepted() {
    let body = json!({
        "id": "msg_mock", "type": "message", "role": "assistant", "model": "claude-mock-1",
        "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "whole"}],
        "stop_reason": "max_tokens",
        "usage": {"input_tokens": 4, "output_tokens": 2}
    });
    let server = MockServer::start(vec![Reply::json(200, &body.to_string())]);
    let events = run_against(&server).await;
    assert_eq!(reasoning(&events), "hmm");
    assert_eq!(text(&events), "whole");
    assert_eq!(finish(&events), Finish::Length);
}
