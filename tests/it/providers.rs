//! The `openai` wire kind against a loopback server, through the retrying driver.

use std::time::{Duration, Instant};

use crate::common;
use common::events::{assert_one_end, error, finish, reasoning, run, text, usage};
use common::server::{
    MockServer, Reply, Step, ollama_reasoning_chunk, openai_chunk, openai_finish_chunk,
    openai_reasoning_chunk, openai_stream, openai_usage_chunk, sse_event,
};
use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::provider::{ErrorKind, Finish, Message, Retry, Role, StreamEvent, Usage};
use serde_json::json;

const TEST_KEY: &str = "sk-test-not-a-real-key";

fn endpoint(base_url: String) -> Endpoint {
    common::models::endpoint(WireKind::OpenAi, base_url, Some(TEST_KEY))
}

fn model(endpoint: Endpoint) -> ModelSpec {
    common::models::model("test-model", "mock-model-1", endpoint)
}

fn ask(prompt: &str) -> Vec<Message> {
    vec![Message::new(Role::User, prompt)]
}

/// Runs one answer for `model` and returns every event it produced.
async fn run_against(server: &MockServer) -> Vec<StreamEvent> {
    run(&model(endpoint(format!("{}/v1", server.url()))), ask("hi")).await
}

fn usage_of(input: u64, output: u64) -> Usage {
    Usage {
        input_tokens: Some(input),
        output_tokens: Some(output),
    }
}

#[tokio::test]
async fn streams_text_in_order_with_usage_and_stop() {
    let server = MockServer::start(vec![Reply::sse(&openai_stream(
        &["Hello", ", ", "world", "!"],
        9,
        4,
    ))]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "Hello, world!");
    assert_eq!(usage(&events), Some(usage_of(9, 4)));
    assert_eq!(finish(&events), Finish::Stop);
    assert_one_end(&events);
}

#[tokio::test]
async fn sends_the_request_the_provider_expects() {
    let server = MockServer::start(vec![Reply::sse(&openai_stream(&["ok"], 1, 1))]);
    let mut endpoint = endpoint(format!("{}/v1/", server.url()));
    endpoint.headers = vec![("X-DashScope-WorkSpace".into(), "ws-1".into())];
    let mut model = model(endpoint);
    model.system = Some("You are terse.".into());
    model.temperature = Some(0.25);
    model.max_tokens = Some(256);
    model.extra.insert("enable_thinking".into(), json!(false));
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
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TEST_KEY}").as_str())
    );
    assert_eq!(request.header("x-dashscope-workspace"), Some("ws-1"));
    assert!(
        request
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json"))
    );
    assert_eq!(
        request.json(),
        json!({
            "model": "mock-model-1",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "你好"},
                {"role": "assistant", "content": "你好！"},
                {"role": "user", "content": "继续"}
            ],
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.25,
            "max_tokens": 256,
            "enable_thinking": false
        })
    );
}

#[tokio::test]
async fn sends_no_authorization_when_the_endpoint_needs_no_key() {
    let server = MockServer::start(vec![Reply::sse(&openai_stream(&["ok"], 1, 1))]);
    let mut endpoint = endpoint(format!("{}/v1", server.url()));
    endpoint.api_key = None;
    endpoint.api_key_env = None;
    let events = run(&model(endpoint), ask("hi")).await;
    assert_eq!(finish(&events), Finish::Stop);
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn passes_reasoning_content_and_ollama_reasoning() {
    let server = MockServer::start(vec![Reply::sse(&[
        openai_reasoning_chunk("Let me "),
        ollama_reasoning_chunk("think."),
        openai_chunk("Answer."),
        openai_finish_chunk("stop"),
        "[DONE]".into(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(reasoning(&events), "Let me think.");
    assert_eq!(text(&events), "Answer.");
    let first_text = events
        .iter()
        .position(|e| matches!(e, StreamEvent::Text(_)));
    let last_reasoning = events
        .iter()
        .rposition(|e| matches!(e, StreamEvent::Reasoning(_)));
    assert!(last_reasoning < first_text, "reasoning comes first");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn reads_moonshot_usage_inside_the_choice() {
    let moonshot_end = json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "moonshot-v1-8k",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop",
                     "usage": {"prompt_tokens": 39, "completion_tokens": 211, "total_tokens": 250}}]
    })
    .to_string();
    let server = MockServer::start(vec![Reply::sse(&[
        openai_chunk("月之暗面"),
        moonshot_end,
        "[DONE]".into(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "月之暗面");
    assert_eq!(usage(&events), Some(usage_of(39, 211)));
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn tolerates_null_and_empty_choices() {
    let server = MockServer::start(vec![Reply::sse(&[
        r#"{"choices":[{"delta":{"content":null,"role":"assistant","reasoning_content":""},"index":0,"finish_reason":null}],"usage":null}"#.to_owned(),
        r#"{"choices":null}"#.into(),
        r#"{"choices":[]}"#.into(),
        r#"{"choices":[{"index":0}]}"#.into(),
        openai_chunk("fine"),
        openai_finish_chunk("stop"),
        "[DONE]".into(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "fine");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn ignores_deepseek_keep_alive_comments() {
    let mut steps = vec![
        Step::Write(b": keep-alive\n\n".to_vec()),
        Step::Sleep(Duration::from_millis(5)),
        Step::Write(b": keep-alive\n\n".to_vec()),
    ];
    for event in openai_stream(&["deep", "seek"], 3, 2) {
        steps.push(Step::Write(sse_event(&event)));
    }
    let server = MockServer::start(vec![Reply::raw(200, "text/event-stream", steps)]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "deepseek");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn maps_length_and_content_filter_finish_reasons() {
    for (reason, expected) in [
        ("length", Finish::Length),
        ("content_filter", Finish::Filtered),
        ("sensitive", Finish::Filtered),
    ] {
        let server = MockServer::start(vec![Reply::sse(&[
            openai_chunk("partial"),
            openai_finish_chunk(reason),
            openai_usage_chunk(5, 1),
            "[DONE]".into(),
        ])]);
        let events = run_against(&server).await;
        assert_eq!(finish(&events), expected, "finish_reason {reason}");
    }
}

#[tokio::test]
async fn deepseek_insufficient_resource_is_an_error_that_keeps_the_text_and_is_not_resent() {
    let server = MockServer::start(vec![Reply::sse(&[
        openai_chunk("half an "),
        openai_finish_chunk("insufficient_system_resource"),
        "[DONE]".into(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "half an ");
    let Some(StreamEvent::Error(error)) = events.last() else {
        panic!("an error ends the answer: {events:?}");
    };
    assert_eq!(error.kind, ErrorKind::Server);
    assert!(error.message.contains("insufficient_system_resource"));
    assert_eq!(server.requests().len(), 1, "never re-sent after text");
}

#[tokio::test]
async fn qianfan_safety_flag_two_ends_the_answer_as_filtered() {
    let flagged = json!({
        "id": "as-1", "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop", "flag": 2, "ban_round": -1}]
    })
    .to_string();
    let server = MockServer::start(vec![Reply::sse(&[
        openai_chunk("one "),
        flagged,
        "[DONE]".into(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(finish(&events), Finish::Filtered);
}

#[tokio::test]
async fn auth_error_names_the_env_var_and_never_the_key() {
    const VAR: &str = "DUEL_TEST_KEY_AUTH_ERROR";
    // SAFETY: the variable name is unique to this test; no other code reads or writes it.
    unsafe { std::env::set_var(VAR, TEST_KEY) };
    let server = MockServer::start(vec![Reply::json(
        401,
        r#"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"},"request_id":"r-1"}"#,
    )]);
    let mut endpoint = endpoint(format!("{}/v1", server.url()));
    endpoint.api_key = None;
    endpoint.api_key_env = Some(VAR.into());
    let events = run(&model(endpoint), ask("hi")).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.status, Some(401));
    assert_eq!(err.message, "Incorrect API key provided.");
    let hint = err.hint.as_deref().unwrap_or_default();
    assert!(hint.contains(VAR), "hint names the env var: {hint}");
    let shown = format!("{err} {hint} {err:?}");
    assert!(!shown.contains(TEST_KEY), "the key leaked: {shown}");
    assert_eq!(server.requests().len(), 1, "auth errors are not retried");
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Bearer {TEST_KEY}").as_str())
    );
}

#[tokio::test]
async fn not_found_names_the_model_and_base_url() {
    let server = MockServer::start(vec![Reply::json(
        404,
        r#"{"error":{"message":"The model `mock-model-1` does not exist","code":"model_not_found"}}"#,
    )]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::NotFound);
    let hint = err.hint.as_deref().unwrap_or_default();
    assert!(
        hint.contains("mock-model-1") && hint.contains(&server.url()),
        "{hint}"
    );
}

#[tokio::test]
async fn quota_errors_are_not_retried() {
    let server = MockServer::start(vec![Reply::json(
        429,
        r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
    )]);
    let events = run_against(&server).await;
    assert_eq!(error(&events).kind, ErrorKind::Quota);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn context_too_long_is_classified() {
    let server = MockServer::start(vec![Reply::json(
        400,
        r#"{"error":{"message":"This model's maximum context length is 8192 tokens.","code":"context_length_exceeded"}}"#,
    )]);
    let events = run_against(&server).await;
    assert_eq!(error(&events).kind, ErrorKind::ContextTooLong);
}

#[tokio::test]
async fn retries_a_rate_limit_after_retry_after_then_answers() {
    let server = MockServer::start(vec![
        Reply::json(
            429,
            r#"{"error":{"message":"Requests rate limit exceeded","code":"Throttling.RateQuota"}}"#,
        )
        .with_header("retry-after", "0"),
        Reply::sse(&openai_stream(&["second ", "time"], 2, 2)),
    ]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "second time");
    assert_eq!(finish(&events), Finish::Stop);
    assert_eq!(server.requests().len(), 2);
    // The wait is announced, so the pane can say why nothing comes yet.
    let retries: Vec<&Retry> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Retry(r) => Some(r),
            _ => None,
        })
        .collect();
    let [retry] = retries.as_slice() else {
        panic!("one retry announced: {events:?}")
    };
    assert_eq!(
        (retry.kind, retry.status, retry.attempt, retry.of),
        (ErrorKind::RateLimit, Some(429), 1, 2)
    );
    assert_eq!(retry.wait, Duration::ZERO, "Retry-After: 0");
}

#[tokio::test]
async fn invalid_utf8_keeps_the_answer_that_came_before_it() {
    // Everything in one write: the valid chunks and then a broken one.
    let mut body = Vec::new();
    for piece in ["The answer ", "so far"] {
        body.extend(sse_event(&openai_chunk(piece)));
    }
    body.extend(b"data: {\"choices\":[{\"delta\":{\"content\":\"\xFF\xFE\"}}]}\n\n");
    let server = MockServer::start(vec![Reply::raw(
        200,
        "text/event-stream",
        vec![Step::Write(body)],
    )]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "The answer so far");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert!(err.message.contains("not UTF-8"), "{}", err.message);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_redirect_is_named_with_its_host_and_never_followed() {
    let server = MockServer::start(vec![
        Reply::json(302, "").with_header(
            "location",
            "https://login.example.com/sso?token=secret-in-url",
        ),
        Reply::json(404, r#"{"error":{"message":"not here"}}"#),
    ]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Redirected);
    assert_eq!(err.status, Some(302));
    assert_eq!(
        err.message,
        "the server redirected the request to login.example.com"
    );
    assert!(!err.to_string().contains("secret-in-url"));
    assert!(
        err.hint
            .as_deref()
            .is_some_and(|h| h.contains("base URL may be wrong"))
    );
    assert_eq!(server.requests().len(), 1, "not followed, not retried");
}

#[tokio::test]
async fn a_server_that_never_stops_is_cut_at_the_answer_limit() {
    let server = MockServer::start(vec![Reply::raw(
        200,
        "text/event-stream",
        vec![Step::Flood(sse_event(&openai_chunk("x")).repeat(64))],
    )]);
    let mut model = model(endpoint(format!("{}/v1", server.url())));
    model.max_answer_bytes = Some(100_000);
    let events = run(&model, ask("hi")).await;
    assert_eq!(text(&events).len(), 100_000, "exactly up to the limit");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::CutOff);
    assert!(
        err.message.contains("limit of 100000 bytes per answer"),
        "{}",
        err.message
    );
    assert!(
        err.hint
            .as_deref()
            .is_some_and(|h| h.contains("max_answer_bytes"))
    );
    assert_eq!(server.requests().len(), 1, "never re-sent");
    assert_one_end(&events);
}

#[tokio::test]
async fn a_huge_retry_after_is_clamped_not_a_panic() {
    let server = MockServer::start(vec![
        Reply::json(429, r#"{"error":{"message":"slow down"}}"#)
            .with_header("retry-after", "99999999999999999999"),
        Reply::sse(&openai_stream(&["after all"], 2, 2)),
    ]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "after all");
    let waits: Vec<Duration> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Retry(r) => Some(r.wait),
            _ => None,
        })
        .collect();
    assert_eq!(waits, [common::events::FAST_RETRY.max_wait]);
}

#[tokio::test]
async fn gives_up_after_three_server_errors() {
    let server = MockServer::start(vec![Reply::json(
        500,
        r#"{"error":{"message":"internal error","type":"api_error"}}"#,
    )]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(err.status, Some(500));
    assert_eq!(err.message, "internal error");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn shows_a_non_json_error_body_shortened() {
    let page = format!("<html>{}</html>", "Bad Gateway ".repeat(100));
    let server = MockServer::start(vec![Reply::raw(
        502,
        "text/html",
        vec![Step::Write(page.into_bytes())],
    )]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Server);
    assert!(err.message.starts_with("<html>Bad Gateway"));
    assert!(err.message.chars().count() <= 301, "{}", err.message.len());
}

#[tokio::test]
async fn a_stream_cut_after_text_is_not_sent_again() {
    let server = MockServer::start(vec![Reply::sse(&[
        openai_chunk("The first half"),
        openai_chunk(" and then"),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "The first half and then");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::CutOff);
    assert!(err.message.contains("[DONE]"));
    assert_eq!(server.requests().len(), 1, "no re-send after text");
}

#[tokio::test]
async fn done_without_a_finish_reason_is_a_cut_answer_not_a_finished_one() {
    // llama.cpp's server, when another request interrupts the running one.
    let server = MockServer::start(vec![Reply::sse(&[
        openai_chunk("The first half"),
        openai_chunk(" and then"),
        "[DONE]".into(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "The first half and then");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::CutOff);
    assert_eq!(err.message, "the stream ended before a finish_reason");
    assert_eq!(server.requests().len(), 1, "no re-send after text");
    assert_one_end(&events);
}

#[tokio::test]
async fn a_stream_that_sends_nothing_says_so_in_plain_words() {
    for events in [vec![], vec!["[DONE]".to_owned()]] {
        let server = MockServer::start(vec![Reply::sse(&events)]);
        let events = run_against(&server).await;
        let err = error(&events);
        assert_eq!(err.kind, ErrorKind::NoAnswer, "{err}");
        assert_eq!(
            err.to_string(),
            "no answer: the server closed the stream without sending anything; \
             the prompt may be longer than the model's context"
        );
    }
}

#[tokio::test]
async fn reports_an_error_object_inside_the_stream() {
    let server = MockServer::start(vec![Reply::sse(&[
        openai_chunk("Some text"),
        r#"{"error":{"message":"Output data may contain inappropriate content.","type":"data_inspection_failed","code":"data_inspection_failed"}}"#.into(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "Some text");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Filtered);
    assert_eq!(
        err.message,
        "Output data may contain inappropriate content."
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn skips_lines_that_are_not_json() {
    let server = MockServer::start(vec![Reply::sse(&[
        openai_chunk("one "),
        "{not json".into(),
        openai_chunk("two "),
        "<html>".into(),
        openai_chunk("three"),
        openai_finish_chunk("stop"),
        "[DONE]".into(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "one two three");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn a_stream_of_only_garbage_is_malformed() {
    let server = MockServer::start(vec![Reply::sse(&["garbage", "more garbage"])]);
    let events = run_against(&server).await;
    assert_eq!(error(&events).kind, ErrorKind::Malformed);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let server = MockServer::start(vec![Reply::raw(
        200,
        "text/event-stream",
        vec![Step::Write(sse_event(&openai_chunk("Hello"))), Step::Hang],
    )]);
    let mut endpoint = endpoint(format!("{}/v1", server.url()));
    endpoint.idle_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let events = run(&model(endpoint), ask("hi")).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(text(&events), "Hello");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.message.contains("0.3 s"), "{}", err.message);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // The kernel accepts the connection, but nobody ever reads it or answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut endpoint = endpoint(format!(
        "http://{}/v1",
        listener.local_addr().expect("addr")
    ));
    endpoint.idle_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let events = run(&model(endpoint), ask("hi")).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error(&events).kind, ErrorKind::Timeout);
}

#[tokio::test]
async fn a_refused_connection_is_a_network_error() {
    let base = format!("{}/v1", common::server::REFUSED);
    let events = run(&model(endpoint(base.clone())), ask("hi")).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Network);
    assert!(err.message.contains("refused"), "{}", err.message);
    assert!(
        err.hint.as_deref().unwrap_or_default().contains(&base),
        "{err:?}"
    );
}

#[tokio::test]
async fn chinese_split_across_writes_arrives_intact() {
    let event = sse_event(&openai_chunk("你好，世界"));
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
        Step::Write(sse_event(&openai_finish_chunk("stop"))),
        Step::Write(sse_event("[DONE]")),
    ];
    let server = MockServer::start(vec![Reply::raw(200, "text/event-stream", steps)]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "你好，世界");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn a_missing_key_fails_before_any_request() {
    let server = MockServer::start(vec![Reply::sse(&openai_stream(&["never"], 1, 1))]);
    let mut endpoint = endpoint(format!("{}/v1", server.url()));
    endpoint.api_key = None;
    endpoint.api_key_env = Some("DUEL_TEST_KEY_NEVER_SET".into());
    let events = run(&model(endpoint), ask("hi")).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::MissingKey);
    assert!(err.message.contains("DUEL_TEST_KEY_NEVER_SET"));
    let hint = err.hint.as_deref().unwrap_or_default();
    assert!(hint.contains("export DUEL_TEST_KEY_NEVER_SET=") && hint.contains("duel --demo"));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_json_error_with_status_200_is_still_an_error() {
    let server = MockServer::start(vec![Reply::json(
        200,
        r#"{"error":{"message":"Access denied, please make sure your account is in good standing.","code":"Arrearage"}}"#,
    )]);
    let events = run_against(&server).await;
    assert_eq!(error(&events).kind, ErrorKind::Quota);
}

#[tokio::test]
async fn a_whole_json_answer_is_accepted() {
    let server = MockServer::start(vec![Reply::json(
        200,
        r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"all at once"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":3}}"#,
    )]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "all at once");
    assert_eq!(usage(&events), Some(usage_of(3, 3)));
    assert_eq!(finish(&events), Finish::Stop);
}

#[test]
fn the_mock_server_serves_sync_clients_and_closes_hung_connections_on_drop() {
    use std::io::{Read, Write};

    let server = MockServer::start(vec![
        Reply::json(201, r#"{"ok":true}"#).with_header("x-test", "yes"),
        Reply::raw(
            200,
            "text/plain",
            vec![Step::Write(b"partial".to_vec()), Step::Hang],
        ),
    ]);
    let address = server.url().trim_start_matches("http://").to_owned();
    let request = |body: &str| {
        let mut socket = std::net::TcpStream::connect(&address).expect("connect");
        let head = format!(
            "POST /v1/x?y=1 HTTP/1.1\r\nHost: test\r\nX-Mixed-Case: V\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(head.as_bytes()).expect("write");
        socket
    };

    let mut first = request("{\"a\":1}");
    let mut reply = String::new();
    first.read_to_string(&mut reply).expect("read to close");
    assert!(reply.starts_with("HTTP/1.1 201 "), "{reply}");
    assert!(reply.contains("x-test: yes\r\n") && reply.ends_with("\r\n\r\n{\"ok\":true}"));

    let mut hung = request("second");
    hung.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("set a read timeout");
    let mut head = [0u8; 512];
    let n = hung.read(&mut head).expect("the head arrives");
    assert!(n > 0);
    assert!(server.wait_for_requests(2, Duration::from_secs(1)));

    let recorded = server.requests();
    assert_eq!(recorded[0].method, "POST");
    assert_eq!(recorded[0].path, "/v1/x?y=1");
    assert_eq!(recorded[0].header("x-mixed-case"), Some("V"));
    assert_eq!(recorded[0].json(), json!({"a": 1}));
    assert_eq!(recorded[1].body, "second");

    drop(server);
    let mut rest = Vec::new();
    let closed = hung.read_to_end(&mut rest);
    assert!(
        closed.is_ok(),
        "dropping the server closes the hung connection: {closed:?}"
    );
}

#[tokio::test]
async fn a_page_that_is_not_a_stream_is_malformed() {
    let server = MockServer::start(vec![Reply::raw(
        200,
        "text/html",
        vec![Step::Write(
            b"<html><body>Please log in</body></html>".to_vec(),
        )],
    )]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert!(err.message.contains("text/html"), "{}", err.message);
}

/// The client ports three turns of one model came from, sent as the app sends them
/// (`reuse`: through one `Providers`), else with a provider built for each turn.
async fn ports_of_three_turns(reuse: bool) -> Vec<u16> {
    let replies = (1..=3)
        .map(|turn| Reply::sse(&openai_stream(&[&format!("turn {turn}")], 3, 2)))
        .collect();
    let server = MockServer::keep_alive(replies);
    let model = model(endpoint(server.url()));
    let mut providers = duel::provider::Providers::default();
    for turn in 1..=3 {
        let events = if reuse {
            let provider = providers.get(&model);
            common::events::run_with(provider.as_ref(), &model, ask("hi")).await
        } else {
            run(&model, ask("hi")).await
        };
        assert_eq!(text(&events), format!("turn {turn}"));
    }
    server.requests().iter().map(|r| r.peer_port).collect()
}

#[tokio::test]
async fn turns_two_and_three_reuse_the_connection_of_turn_one() {
    let ports = ports_of_three_turns(true).await;
    assert_eq!(ports.len(), 3);
    assert!(ports.iter().all(|&p| p == ports[0]), "{ports:?}");
    // What duel did before: a new client each turn, so a new connection each turn.
    let ports = ports_of_three_turns(false).await;
    assert!(ports[0] != ports[1] && ports[1] != ports[2], "{ports:?}");
}
