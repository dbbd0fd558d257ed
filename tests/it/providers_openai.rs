//! What the `openai` wire kind meets only in its compatible servers: Moonshot's usage
//! inside the choice, DashScope's null choices, DeepSeek's keep-alives and its
//! `insufficient_system_resource`, Qianfan's safety flag. Everything every kind does is
//! a row of `wire_kinds.rs`.

use std::time::Duration;

use crate::common;
use common::events::{finish, run, text, usage};
use common::server::{
    MockServer, Reply, Step, openai_chunk, openai_finish_chunk, openai_stream, sse_event,
};
use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::provider::{ErrorKind, Finish, Message, Role, StreamEvent, Usage};
use serde_json::json;

fn endpoint(base_url: String) -> Endpoint {
    common::models::endpoint(WireKind::OpenAi, base_url, Some("sk-test-not-a-real-key"))
}

fn model(endpoint: Endpoint) -> ModelSpec {
    common::models::model("test-model", "mock-model-1", endpoint)
}

/// Runs one answer and returns every event it produced.
async fn run_against(server: &MockServer) -> Vec<StreamEvent> {
    let messages = vec![Message::new(Role::User, "hi")];
    run(&model(endpoint(format!("{}/v1", server.url()))), messages).await
}

fn usage_of(input: u64, output: u64) -> Usage {
    Usage {
        input_tokens: Some(input),
        output_tokens: Some(output),
        ..Default::default()
    }
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
