//! The `ollama` wire kind (native `/api/chat`, NDJSON) against a loopback server,
//! through the retrying driver.

use std::time::{Duration, Instant};

use crate::common;
use common::events::{assert_one_end, error, finish, reasoning, run, text, usage};
use common::server::{MockServer, Reply, Step};
use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::provider::{ErrorKind, Finish, Message, Role, StreamEvent, Usage};
use serde_json::json;

/// The pause between NDJSON lines, so each arrives in its own read.
const LINE_GAP: Duration = Duration::from_millis(3);

const MODEL: &str = "qwen3:8b";

// --- Ollama's stream shapes (PROVIDERS.md §5a) ---

fn chunk(content: &str) -> String {
    json!({
        "model": MODEL,
        "created_at": "2026-08-04T08:52:19.385406455-07:00",
        "message": {"role": "assistant", "content": content},
        "done": false
    })
    .to_string()
}

fn thinking(text: &str) -> String {
    json!({
        "model": MODEL,
        "created_at": "2026-08-04T08:52:19.385406455-07:00",
        "message": {"role": "assistant", "content": "", "thinking": text},
        "done": false
    })
    .to_string()
}

fn done(reason: &str, prompt: u64, eval: u64) -> String {
    json!({
        "model": MODEL,
        "created_at": "2026-08-04T08:52:20.1-07:00",
        "message": {"role": "assistant", "content": ""},
        "done": true,
        "done_reason": reason,
        "total_duration": 4883583458u64,
        "load_duration": 1334875,
        "prompt_eval_count": prompt,
        "prompt_eval_duration": 342546000,
        "eval_count": eval,
        "eval_duration": 4535599000u64
    })
    .to_string()
}

fn stream(pieces: &[&str], prompt: u64, eval: u64) -> Vec<String> {
    let mut lines: Vec<String> = pieces.iter().map(|p| chunk(p)).collect();
    lines.push(done("stop", prompt, eval));
    lines
}

/// A 200 NDJSON reply: each line in its own write, a few milliseconds apart.
fn ndjson<S: AsRef<str>>(lines: &[S]) -> Reply {
    let mut steps = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            steps.push(Step::Sleep(LINE_GAP));
        }
        steps.push(Step::Write(format!("{}\n", line.as_ref()).into_bytes()));
    }
    Reply::raw(200, "application/x-ndjson", steps)
}

// --- running an answer ---

fn endpoint(base_url: String) -> Endpoint {
    common::models::endpoint(WireKind::Ollama, base_url, None)
}

fn model(endpoint: Endpoint) -> ModelSpec {
    ModelSpec::new("local-qwen", "ollama", MODEL, endpoint)
}

async fn run_against(server: &MockServer) -> Vec<StreamEvent> {
    run(
        &model(endpoint(server.url())),
        vec![Message::new(Role::User, "hi")],
    )
    .await
}

// --- tests ---

#[tokio::test]
async fn streams_text_with_usage_and_stop() {
    let server = MockServer::start(vec![ndjson(&stream(
        &["The", " sky", " is blue."],
        26,
        282,
    ))]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "The sky is blue.");
    assert_eq!(
        usage(&events),
        Some(Usage {
            input_tokens: Some(26),
            output_tokens: Some(282)
        })
    );
    assert_eq!(finish(&events), Finish::Stop);
    assert_one_end(&events);
}

#[tokio::test]
async fn passes_thinking_as_reasoning_before_the_answer() {
    let server = MockServer::start(vec![ndjson(&[
        thinking("Rayleigh "),
        thinking("scattering."),
        chunk("Because of scattering."),
        done("stop", 10, 20),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(reasoning(&events), "Rayleigh scattering.");
    assert_eq!(text(&events), "Because of scattering.");
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
async fn sends_the_native_chat_request() {
    let server = MockServer::start(vec![ndjson(&stream(&["ok"], 1, 1))]);
    let mut model = model(endpoint(format!("{}/", server.url())));
    model.system = Some("You are terse.".into());
    model.temperature = Some(0.25);
    model.top_p = Some(0.9);
    model.max_tokens = Some(512);
    model.extra.insert("think".into(), json!(true));
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
    assert_eq!(request.path, "/api/chat");
    assert_eq!(request.header("authorization"), None, "no key, no auth");
    assert_eq!(
        request.json(),
        json!({
            "model": MODEL,
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "你好"},
                {"role": "assistant", "content": "你好！"},
                {"role": "user", "content": "继续"}
            ],
            "stream": true,
            "options": {"temperature": 0.25, "top_p": 0.9, "num_predict": 512},
            "think": true
        })
    );
}

#[tokio::test]
async fn sends_a_bearer_key_only_when_one_is_configured() {
    const KEY: &str = "ollama-proxy-key-not-real";
    let server = MockServer::start(vec![Reply::json(401, r#"{"error":"unauthorized"}"#)]);
    let mut endpoint = endpoint(server.url());
    endpoint.api_key = Some(KEY.into());
    let events = run(&model(endpoint), vec![Message::new(Role::User, "hi")]).await;
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Auth);
    let shown = format!("{err} {} {err:?}", err.hint.as_deref().unwrap_or_default());
    assert!(!shown.contains(KEY), "the key leaked: {shown}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_unknown_model_says_to_pull_it() {
    let server = MockServer::start(vec![Reply::json(
        404,
        &format!(r#"{{"error":"model '{MODEL}' not found"}}"#),
    )]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.status, Some(404));
    assert_eq!(err.message, format!("model '{MODEL}' not found"));
    assert_eq!(
        err.hint.as_deref(),
        Some(format!("ollama pull {MODEL}").as_str())
    );
    assert_eq!(server.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn a_bad_parameter_is_a_bad_request_and_not_retried() {
    let server = MockServer::start(vec![Reply::json(
        400,
        r#"{"error":"\"llama3.2\" does not support thinking"}"#,
    )]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert!(err.message.contains("does not support thinking"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_full_queue_is_retried_then_answers() {
    let server = MockServer::start(vec![
        Reply::json(
            503,
            r#"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#,
        ),
        ndjson(&stream(&["second ", "time"], 2, 2)),
    ]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "second time");
    assert_eq!(finish(&events), Finish::Stop);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn gives_up_after_three_server_errors() {
    let server = MockServer::start(vec![Reply::json(
        500,
        r#"{"error":"llama runner process has terminated"}"#,
    )]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(err.status, Some(500));
    assert_eq!(err.message, "llama runner process has terminated");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_stream_cut_after_text_keeps_it_and_is_not_sent_again() {
    let server = MockServer::start(vec![ndjson(&[chunk("The first half"), chunk(" and then")])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "The first half and then");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::CutOff);
    assert!(err.message.contains("done"), "{}", err.message);
    assert_eq!(server.requests().len(), 1, "no re-send after text");
}

#[tokio::test]
async fn maps_done_reason_length() {
    let server = MockServer::start(vec![ndjson(&[chunk("partial"), done("length", 5, 1)])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "partial");
    assert_eq!(finish(&events), Finish::Length);
}

#[tokio::test]
async fn skips_lines_that_are_not_json() {
    let server = MockServer::start(vec![ndjson(&[
        chunk("one "),
        "{not json".into(),
        chunk("two "),
        "<html>".into(),
        chunk("three"),
        done("stop", 1, 3),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "one two three");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn a_stream_of_only_garbage_is_malformed() {
    let server = MockServer::start(vec![ndjson(&["garbage", "more garbage"])]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert!(
        err.hint
            .as_deref()
            .unwrap_or_default()
            .contains(&server.url()),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn reports_an_error_line_inside_the_stream() {
    let server = MockServer::start(vec![ndjson(&[
        chunk("Some text"),
        r#"{"error":"an error was encountered while running the model: unexpected EOF"}"#.into(),
    ])]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "Some text");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(
        err.message,
        "an error was encountered while running the model: unexpected EOF"
    );
    assert_eq!(server.requests().len(), 1, "no re-send after text");
}

#[tokio::test]
async fn a_not_found_error_line_says_to_pull_the_model() {
    let server = MockServer::start(vec![ndjson(&[format!(
        r#"{{"error":"model '{MODEL}' not found, try pulling it first"}}"#
    )])]);
    let events = run_against(&server).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(
        err.hint.as_deref(),
        Some(format!("ollama pull {MODEL}").as_str())
    );
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let server = MockServer::start(vec![Reply::raw(
        200,
        "application/x-ndjson",
        vec![
            Step::Write(format!("{}\n", chunk("Hello")).into_bytes()),
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
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.message.contains("0.3 s"), "{}", err.message);
}

#[tokio::test]
async fn a_refused_connection_asks_whether_ollama_is_running() {
    let base = common::server::REFUSED.to_owned();
    let events = run(
        &model(endpoint(base.clone())),
        vec![Message::new(Role::User, "hi")],
    )
    .await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Network);
    assert!(err.message.contains("refused"), "{}", err.message);
    let hint = err.hint.as_deref().unwrap_or_default();
    assert!(
        hint.contains("is Ollama running?")
            && hint.contains("ollama serve")
            && hint.contains(&base),
        "{hint}"
    );
}

#[tokio::test]
async fn chinese_split_across_writes_arrives_intact() {
    let line = format!("{}\n", chunk("你好，世界")).into_bytes();
    let at = line
        .windows(3)
        .position(|w| w == "好".as_bytes())
        .expect("the character is in the line");
    let steps = vec![
        Step::Write(line[..at + 1].to_vec()),
        Step::Sleep(Duration::from_millis(10)),
        Step::Write(line[at + 1..at + 2].to_vec()),
        Step::Sleep(Duration::from_millis(10)),
        Step::Write(line[at + 2..].to_vec()),
        Step::Write(format!("{}\n", done("stop", 3, 5)).into_bytes()),
    ];
    let server = MockServer::start(vec![Reply::raw(200, "application/x-ndjson", steps)]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "你好，世界");
    assert_eq!(finish(&events), Finish::Stop);
}

#[tokio::test]
async fn a_last_line_without_a_newline_still_ends_the_answer() {
    let steps = vec![
        Step::Write(format!("{}\r\n", chunk("crlf and ")).into_bytes()),
        Step::Write(done("stop", 1, 2).into_bytes()),
    ];
    let server = MockServer::start(vec![Reply::raw(200, "application/x-ndjson", steps)]);
    let events = run_against(&server).await;
    assert_eq!(text(&events), "crlf and ");
    assert_eq!(finish(&events), Finish::Stop);
}
