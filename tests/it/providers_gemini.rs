//! The `gemini` wire kind against a loopback server, through the retrying driver.

use std::time::{Duration, Instant};

use crate::common;
use common::events::{FAST_RETRY, assert_one_end, error, finish, reasoning, run, text, usage};
use common::server::{MockServer, Reply, Step};
use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::provider::{
    self, ChatRequest, ErrorKind, Finish, Message, RetryPolicy, Role, StreamEvent, Usage,
};
use serde_json::{Value, json};

const TEST_KEY: &str = "AIza-test-not-a-real-key";

fn endpoint(base_url: String) -> Endpoint {
    common::models::endpoint(WireKind::Gemini, base_url, Some(TEST_KEY))
}

fn model(endpoint: Endpoint) -> ModelSpec {
    common::models::model("gemini", "gemini-mock-1", endpoint)
}

async fn run_against(server: &MockServer) -> Vec<StreamEvent> {
    run(
        &model(endpoint(server.url())),
        vec![Message::new(Role::User, "hi")],
    )
    .await
}

// ---- Gemini stream builders ----------------------------------------------------

/// One chunk: `parts` as (text, is_thought), an optional finishReason and usage.
fn chunk(parts: &[(&str, bool)], finish: Option<&str>, usage: Option<Value>) -> Value {
    let parts: Vec<Value> = parts
        .iter()
        .map(|(text, thought)| {
            if *thought {
                json!({"text": text, "thought": true})
            } else {
                json!({"text": text})
            }
        })
        .collect();
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(reason) = finish {
        candidate["finishReason"] = json!(reason);
    }
    let mut chunk = json!({
        "candidates": [candidate],
        "modelVersion": "gemini-mock-1",
        "responseId": "resp-mock"
    });
    if let Some(usage) = usage {
        chunk["usageMetadata"] = usage;
    }
    chunk
}

fn text_chunk(text: &str) -> Value {
    chunk(&[(text, false)], None, None)
}

fn usage_metadata(prompt: u64, candidates: u64, thoughts: Option<u64>) -> Value {
    let mut usage = json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts.unwrap_or(0)
    });
    if let Some(thoughts) = thoughts {
        usage["thoughtsTokenCount"] = json!(thoughts);
    }
    usage
}

/// A whole answer: a chunk per piece, the last carrying STOP and the usage.
fn answer(pieces: &[&str], prompt: u64, candidates: u64) -> Vec<Value> {
    let (last, rest) = pieces.split_last().expect("at least one piece");
    let mut chunks: Vec<Value> = rest.iter().map(|p| text_chunk(p)).collect();
    chunks.push(chunk(
        &[(last, false)],
        Some("STOP"),
        Some(usage_metadata(prompt, candidates, None)),
    ));
    chunks
}

/// `data: {chunk}` framed the way Gemini frames it: CRLF line endings.
fn crlf(chunk: &Value) -> Vec<u8> {
    format!("data: {chunk}\r\n\r\n").into_bytes()
}

/// A 200 event stream sending each chunk in its own write, a few milliseconds apart.
fn sse(chunks: &[Value]) -> Reply {
    writes(chunks.iter().map(crlf).collect())
}

fn writes(writes: Vec<Vec<u8>>) -> Reply {
    let mut steps = Vec::new();
    for (i, bytes) in writes.into_iter().enumerate() {
        if i > 0 {
            steps.push(Step::Sleep(Duration::from_millis(2)));
        }
        steps.push(Step::Write(bytes));
    }
    Reply::raw(200, "text/event-stream", steps)
}

fn error_body(code: u16, status: &str, message: &str, details: Value) -> String {
    json!({"error": {"code": code, "message": message, "status": status, "details": details}})
        .to_string()
}

fn bad_key_body() -> String {
    error_body(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        json!([{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"}
        }]),
    )
}

// ---- Tests ---------------------------------------------------------------------

#[tokio::test]
async fn streams_text_with_usage_and_stop() {
    let server = MockServer::start(vec![sse(&answer(&["Hello", ", ", "world!"], 8, 4))]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "Hello, world!");
    assert_eq!(
        usage(&events),
        Some(Usage {
            input_tokens: Some(8),
            output_tokens: Some(4)
        })
    );
    assert_eq!(finish(&events), Finish::Stop);
    assert_one_end(&events);
}

#[tokio::test]
async fn passes_thought_parts_as_reasoning_and_counts_thought_tokens() {
    let server = MockServer::start(vec![sse(&[
        chunk(
            &[("Let me think…", true)],
            None,
            Some(usage_metadata(8, 0, Some(40))),
        ),
        chunk(&[(" Still thinking.", true), ("Hel", false)], None, None),
        chunk(
            &[("lo", false)],
            Some("STOP"),
            Some(usage_metadata(8, 2, Some(40))),
        ),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(reasoning(&events), "Let me think… Still thinking.");
    assert_eq!(text(&events), "Hello");
    assert_eq!(
        usage(&events),
        Some(Usage {
            input_tokens: Some(8),
            output_tokens: Some(42)
        })
    );
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn sends_the_request_gemini_expects() {
    let server = MockServer::start(vec![sse(&answer(&["ok"], 1, 1))]);
    let mut endpoint = endpoint(format!("{}/", server.url()));
    endpoint.headers = vec![("x-goog-user-project".into(), "proj-1".into())];
    let mut model = model(endpoint);
    model.system = Some("You are terse.".into());
    model.temperature = Some(0.25);
    model.top_p = Some(0.9);
    model.max_tokens = Some(256);
    model.extra.insert(
        "generationConfig".into(),
        json!({"thinkingConfig": {"includeThoughts": true, "thinkingBudget": 1024}}),
    );
    model.extra.insert(
        "safetySettings".into(),
        json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]),
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
    assert_eq!(
        request.path,
        "/v1beta/models/gemini-mock-1:streamGenerateContent?alt=sse"
    );
    assert_eq!(request.header("x-goog-api-key"), Some(TEST_KEY));
    assert_eq!(request.header("x-goog-user-project"), Some("proj-1"));
    assert_eq!(request.header("authorization"), None);
    assert!(
        !request.path.contains(TEST_KEY),
        "the key stays out of the URL"
    );
    assert!(
        request
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json"))
    );
    assert_eq!(
        request.json(),
        json!({
            "systemInstruction": {"parts": [{"text": "You are terse."}]},
            "contents": [
                {"role": "user", "parts": [{"text": "你好"}]},
                {"role": "model", "parts": [{"text": "你好！"}]},
                {"role": "user", "parts": [{"text": "继续"}]}
            ],
            "generationConfig": {
                "temperature": 0.25,
                "topP": 0.9,
                "maxOutputTokens": 256,
                "thinkingConfig": {"includeThoughts": true, "thinkingBudget": 1024}
            },
            "safetySettings": [
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}
            ]
        })
    );
}

#[tokio::test]
async fn sends_only_contents_when_nothing_is_set() {
    let server = MockServer::start(vec![sse(&answer(&["ok"], 1, 1))]);
    let mut endpoint = endpoint(format!("{}/v1beta", server.url()));
    endpoint.api_key = None;
    endpoint.api_key_env = None;
    let mut model = model(endpoint);
    model.model_id = "models/gemini-mock-2".into();
    run(&model, vec![Message::new(Role::User, "hi")]).await;
    let request = &server.requests()[0];
    assert_eq!(
        request.path,
        "/v1beta/models/gemini-mock-2:streamGenerateContent?alt=sse"
    );
    assert_eq!(request.header("x-goog-api-key"), None);
    assert_eq!(
        request.json(),
        json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    );
}

#[tokio::test]
async fn maps_finish_reasons_after_text() {
    for (reason, expected) in [
        ("MAX_TOKENS", Finish::Length),
        ("SAFETY", Finish::Filtered),
        ("RECITATION", Finish::Filtered),
        ("PROHIBITED_CONTENT", Finish::Filtered),
        ("OTHER", Finish::Stop),
    ] {
        let server = MockServer::start(vec![sse(&[
            text_chunk("partial"),
            chunk(&[], Some(reason), None),
        ])]);
        let events = run_against(&server).await;
        assert_eq!(text(&events), "partial");
        assert_eq!(finish(&events), expected, "finishReason {reason}");
    }
}

#[tokio::test]
async fn a_bad_key_is_a_400_named_as_auth_and_never_shows_the_key() {
    const VAR: &str = "DUEL_TEST_KEY_GEMINI_AUTH";
    // SAFETY: the variable name is unique to this test; no other code reads or writes it.
    unsafe { std::env::set_var(VAR, TEST_KEY) };
    let server = MockServer::start(vec![Reply::json(400, &bad_key_body())]);
    let mut endpoint = endpoint(server.url());
    endpoint.api_key = None;
    endpoint.api_key_env = Some(VAR.into());
    let events = run(&model(endpoint), vec![Message::new(Role::User, "hi")]).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.status, Some(400));
    assert_eq!(
        err.message,
        "API key not valid. Please pass a valid API key."
    );
    let hint = err.hint.as_deref().unwrap_or_default();
    assert!(hint.contains(VAR), "hint names the env var: {hint}");
    let shown = format!("{err} {hint} {err:?} {events:?}");
    assert!(!shown.contains(TEST_KEY), "the key leaked: {shown}");
    assert_eq!(server.requests().len(), 1, "auth errors are not retried");
    assert_eq!(
        server.requests()[0].header("x-goog-api-key"),
        Some(TEST_KEY)
    );
}

#[tokio::test]
async fn classifies_http_errors() {
    let cases = [
        (
            400,
            "INVALID_ARGUMENT",
            "Invalid JSON payload received.",
            ErrorKind::BadRequest,
        ),
        (
            400,
            "INVALID_ARGUMENT",
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            ErrorKind::ContextTooLong,
        ),
        (
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers.",
            ErrorKind::Auth,
        ),
        (
            404,
            "NOT_FOUND",
            "models/gemini-mock-1 is not found for API version v1beta",
            ErrorKind::NotFound,
        ),
    ];
    for (code, status, message, expected) in cases {
        let server = MockServer::start(vec![Reply::json(
            code,
            &error_body(code, status, message, json!([])),
        )]);
        let events = run_against(&server).await;
        let err = error(&events);
        assert_eq!((err.kind, err.status), (expected, Some(code)), "{message}");
        assert_eq!(err.message, message);
        assert_eq!(server.requests().len(), 1, "{status} is not retried");
        if expected == ErrorKind::NotFound {
            let hint = err.hint.as_deref().unwrap_or_default();
            assert!(
                hint.contains("gemini-mock-1") && hint.contains(&server.url()),
                "{hint}"
            );
        }
    }
}

#[tokio::test]
async fn retries_resource_exhausted_after_its_retry_delay_then_answers() {
    let server = MockServer::start(vec![
        Reply::json(
            429,
            &error_body(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details.",
                json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.02s"}]),
            ),
        )
        // The body's RetryInfo wins over the header: waiting 60 s would fail the test.
        .with_header("retry-after", "60"),
        sse(&answer(&["second ", "time"], 2, 2)),
    ]);
    let model = model(endpoint(server.url()));
    let req = ChatRequest::for_model(&model, vec![Message::new(Role::User, "hi")]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let patient = RetryPolicy {
        max_wait: Duration::from_secs(30),
        ..FAST_RETRY
    };
    let started = Instant::now();
    provider::stream_with(provider::build(&model).as_ref(), &req, tx, patient).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let mut events = Vec::new();
    while let Ok(event) = rx.try_recv() {
        events.push(event);
    }
    assert_eq!(text(&events), "second time");
    assert_eq!(finish(&events), Finish::Stop);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn gives_up_after_three_unavailable_replies() {
    let server = MockServer::start(vec![Reply::json(
        503,
        &error_body(
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
            json!([]),
        ),
    )]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(err.status, Some(503));
    assert_eq!(
        err.message,
        "The model is overloaded. Please try again later."
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_stream_cut_after_text_is_not_sent_again() {
    let server = MockServer::start(vec![sse(&[
        text_chunk("The first half"),
        text_chunk(" and then"),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "The first half and then");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::CutOff);
    assert!(err.message.contains("finishReason"), "{}", err.message);
    assert_eq!(server.requests().len(), 1, "no re-send after text");
}

#[tokio::test]
async fn skips_data_that_is_not_json() {
    let mut writes_: Vec<Vec<u8>> = answer(&["one ", "two ", "three"], 3, 3)
        .iter()
        .map(crlf)
        .collect();
    writes_.insert(1, b"data: {not json\r\n\r\n".to_vec());
    writes_.insert(3, b"data: <html>\r\n\r\n".to_vec());
    let server = MockServer::start(vec![writes(writes_)]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "one two three");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn a_stream_of_only_garbage_is_malformed() {
    let server = MockServer::start(vec![writes(vec![
        b"data: garbage\r\n\r\n".to_vec(),
        b"data: more garbage\r\n\r\n".to_vec(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(error(&events).kind, ErrorKind::Malformed);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_blocked_answer_with_no_text_says_why() {
    let server = MockServer::start(vec![sse(&[chunk(
        &[],
        Some("SAFETY"),
        Some(usage_metadata(8, 0, None)),
    )])]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Filtered);
    assert!(err.message.contains("SAFETY"), "{}", err.message);
    assert_eq!(server.requests().len(), 1, "a block is not retried");
}

#[tokio::test]
async fn a_blocked_prompt_is_filtered_with_its_reason() {
    let server = MockServer::start(vec![sse(&[json!({
        "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}
        ]},
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
        "modelVersion": "gemini-mock-1"
    })])]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Filtered);
    assert_eq!(err.message, "prompt blocked: SAFETY");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_raw_json_error_inside_the_stream_is_reported() {
    let raw = "{\n  \"error\": {\n    \"code\": 500,\n    \"message\": \"An internal error has occurred.\",\n    \"status\": \"INTERNAL\"\n  }\n}\n";
    let server = MockServer::start(vec![writes(vec![
        crlf(&text_chunk("Some text")),
        raw.as_bytes().to_vec(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "Some text");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(err.message, "An internal error has occurred.");
    assert_eq!(server.requests().len(), 1, "never re-sent after text");
}

#[tokio::test]
async fn an_error_chunk_inside_the_stream_is_reported() {
    let server = MockServer::start(vec![sse(&[
        text_chunk("Some text"),
        json!({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "Some text");
    assert_eq!(error(&events).kind, ErrorKind::Server);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let server = MockServer::start(vec![Reply::raw(
        200,
        "text/event-stream",
        vec![Step::Write(crlf(&text_chunk("Hello"))), Step::Hang],
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
async fn a_server_that_stays_open_after_the_finish_still_finishes() {
    let server = MockServer::start(vec![Reply::raw(
        200,
        "text/event-stream",
        vec![
            Step::Write(crlf(&chunk(&[("Done", false)], Some("STOP"), None))),
            Step::Hang,
        ],
    )]);
    let mut endpoint = endpoint(server.url());
    endpoint.idle_timeout = Duration::from_millis(200);
    let events = run(&model(endpoint), vec![Message::new(Role::User, "hi")]).await;
    assert_eq!(text(&events), "Done");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn chinese_split_across_writes_arrives_intact() {
    let event = crlf(&chunk(&[("你好，世界", false)], Some("STOP"), None));
    let at = event
        .windows(3)
        .position(|w| w == "好".as_bytes())
        .expect("the character is in the event");
    let steps = vec![
        Step::Write(event[..at + 1].to_vec()),
        Step::Sleep(Duration::from_millis(10)),
        Step::Write(event[at + 1..at + 2].to_vec()),
        Step::Sleep(Duration::from_millis(10)),
        Step::Write(event[at + 2..].to_vec()),
    ];
    let server = MockServer::start(vec![Reply::raw(200, "text/event-stream", steps)]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "你好，世界");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn crlf_framing_split_between_cr_and_lf_works() {
    // Every event cut right after each CR, so the LF of each CRLF starts the next read.
    let mut bytes = Vec::new();
    for chunk in answer(&["Hello", " there"], 3, 2) {
        bytes.extend(crlf(&chunk));
    }
    let mut steps = Vec::new();
    let mut start = 0;
    for (at, byte) in bytes.iter().enumerate() {
        if *byte == b'\r' {
            steps.push(Step::Write(bytes[start..=at].to_vec()));
            steps.push(Step::Sleep(Duration::from_millis(2)));
            start = at + 1;
        }
    }
    steps.push(Step::Write(bytes[start..].to_vec()));
    let server = MockServer::start(vec![Reply::raw(200, "text/event-stream", steps)]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "Hello there");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn a_missing_key_fails_before_any_request() {
    let server = MockServer::start(vec![sse(&answer(&["never"], 1, 1))]);
    let mut endpoint = endpoint(server.url());
    endpoint.api_key = None;
    endpoint.api_key_env = Some("DUEL_TEST_GEMINI_KEY_NEVER_SET".into());
    let events = run(&model(endpoint), vec![Message::new(Role::User, "hi")]).await;
    assert_eq!(error(&events).kind, ErrorKind::MissingKey);
    assert_eq!(server.requests().len(), 0);
}

#[tokio::test]
async fn a_json_array_answer_is_accepted() {
    let body = Value::Array(answer(&["whole ", "answer"], 2, 2)).to_string();
    let server = MockServer::start(vec![Reply::json(200, &body)]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "whole answer");
    assert_eq!(finish(&events), Finish::Stop);
}
