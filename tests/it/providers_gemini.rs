//! What only the `gemini` wire kind does: a `models/` id and a `/v1beta` base, blocks
//! (of an answer, of a prompt), an end that is a finishReason and not the end of the
//! body, CRLF framing cut between CR and LF. Everything every kind does is a row of
//! `wire_kinds.rs`.

use std::time::Duration;

use crate::common;
use common::events::{error, finish, run, text};
use common::server::{MockServer, Reply, Step};
use common::wire::gemini::{chunk, usage};
use common::wire::{KEY, Wire};
use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::provider::{ErrorKind, Finish, Message, Role, StreamEvent};
use serde_json::{Value, json};

fn endpoint(base_url: String) -> Endpoint {
    common::models::endpoint(WireKind::Gemini, base_url, Some(KEY))
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

/// `data: {chunk}` framed the way Gemini frames it: CRLF line endings.
fn crlf(chunk: &Value) -> Vec<u8> {
    Wire(WireKind::Gemini).frame(&chunk.to_string())
}

fn sse(chunks: &[Value]) -> Reply {
    Wire(WireKind::Gemini).stream(chunks.iter().map(crlf).collect())
}

#[tokio::test]
async fn sends_only_contents_when_nothing_is_set() {
    let server = MockServer::start(vec![Wire(WireKind::Gemini).success(&["ok"])]);
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
async fn a_blocked_answer_with_no_text_says_why() {
    let server = MockServer::start(vec![sse(&[chunk(
        &[],
        Some("SAFETY"),
        Some(usage(8, 0, None)),
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
async fn crlf_framing_split_between_cr_and_lf_works() {
    // Every event cut right after each CR, so the LF of each CRLF starts the next read.
    let mut bytes = Vec::new();
    for piece in Wire(WireKind::Gemini).answer(&["Hello", " there"], 3, 2) {
        bytes.extend(piece);
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
