//! What only the `ernie` wire kind (Baidu's legacy wenxinworkshop API) does: its access
//! token (traded, cached, refreshed, refused), the history and settings it accepts,
//! its keys' env vars, its safety signals. Everything every kind does is a row of
//! `wire_kinds.rs`. Here the n-th request gets the n-th reply across all paths, so
//! each test scripts the token reply and the chat replies in order.

use std::sync::Arc;

use crate::common;
use common::events::{FAST_RETRY, assert_one_end, finish, text, usage};
use common::server::{MockServer, Recorded, Reply};
use common::wire::ernie::{chat_path, chunk, error_reply};
use common::wire::ernie_token_reply as token_reply;
use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::provider::{
    self, ChatRequest, ErrorKind, Finish, Message, Provider, ProviderError, Role, StreamEvent,
    Usage,
};
use serde_json::json;

const AK: &str = "ernieAkNotReal0123";
const SK: &str = "ernieSkNotReal4567";
const TOKEN: &str = "24.tokNotReal89abcdef.2592000.1700000000.282335-12345678";
const TOKEN_2: &str = "24.tokNotRealSecond.2592000.1700000000.282335-12345678";
const PATH: &str = "completions_pro";

/// A whole answer: one event per sentence, then the `is_end` event with the totals.
fn stream(sentences: &[&str], prompt: u64, completion: u64) -> Reply {
    let mut events: Vec<String> = sentences
        .iter()
        .enumerate()
        .map(|(i, s)| chunk(i as u64, s, false, prompt, i as u64 + 1))
        .collect();
    events.push(chunk(sentences.len() as u64, "", true, prompt, completion));
    Reply::sse(&events)
}

// --- running an answer ---

/// An endpoint whose keys are in env vars unique to `tag` (tests run in parallel).
fn endpoint(server: &MockServer, tag: &str) -> Endpoint {
    let ak = format!("DUEL_TEST_ERNIE_AK_{tag}");
    let sk = format!("DUEL_TEST_ERNIE_SK_{tag}");
    // SAFETY: these variable names are unique to one test; no other code touches them.
    unsafe {
        std::env::set_var(&ak, AK);
        std::env::set_var(&sk, SK);
    }
    Endpoint {
        api_key_env: Some(ak),
        secret_key_env: Some(sk),
        ..common::models::endpoint(WireKind::Ernie, server.url(), None)
    }
}

fn model(endpoint: Endpoint) -> ModelSpec {
    ModelSpec::new("ernie-4.0", "ernie", PATH, endpoint)
}

fn ask() -> Vec<Message> {
    vec![Message::new(Role::User, "你好")]
}

async fn run_with(
    provider: &dyn Provider,
    model: &ModelSpec,
    messages: Vec<Message>,
) -> Vec<StreamEvent> {
    let req = ChatRequest::for_model(model, messages);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    provider::stream_with(provider, &req, tx, FAST_RETRY).await;
    let mut events = Vec::new();
    while let Ok(event) = rx.try_recv() {
        events.push(event);
    }
    let shown = format!("{events:?}");
    for secret in [AK, SK, TOKEN, TOKEN_2] {
        assert!(!shown.contains(secret), "a secret leaked: {shown}");
    }
    events
}

async fn run(model: &ModelSpec, messages: Vec<Message>) -> Vec<StreamEvent> {
    let provider = provider::build(model);
    run_with(provider.as_ref(), model, messages).await
}

async fn run_against(server: &MockServer, tag: &str) -> Vec<StreamEvent> {
    run(&model(endpoint(server, tag)), ask()).await
}

/// The final error, checked to carry no key, secret or token in any form shown.
fn error(events: &[StreamEvent]) -> &ProviderError {
    let err = match events.last() {
        Some(StreamEvent::Error(err)) => err,
        other => panic!("expected an Error last, got {other:?} in {events:?}"),
    };
    let shown = format!("{err} {} {err:?}", err.hint.as_deref().unwrap_or_default());
    for secret in [AK, SK, TOKEN, TOKEN_2] {
        assert!(!shown.contains(secret), "a secret leaked: {shown}");
    }
    err
}

fn is_token_request(request: &Recorded) -> bool {
    request.path.starts_with("/oauth/2.0/token?")
}

fn chat_requests(server: &MockServer) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| !is_token_request(r))
        .collect()
}

// --- tests ---

#[tokio::test]
async fn trades_the_keys_for_a_token_then_streams_sentences() {
    let server = MockServer::start(vec![
        token_reply(TOKEN),
        stream(&["当然可以，", "我是文心一言。"], 5, 420),
    ]);
    let events = run_against(&server, "NORMAL").await;
    assert_eq!(text(&events), "当然可以，我是文心一言。");
    assert_eq!(
        usage(&events),
        Some(Usage {
            input_tokens: Some(5),
            output_tokens: Some(420),
            ..Default::default()
        })
    );
    assert_eq!(finish(&events), Finish::Stop);
    assert_one_end(&events);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(
        requests[0].path,
        format!("/oauth/2.0/token?grant_type=client_credentials&client_id={AK}&client_secret={SK}")
    );
    assert_eq!(requests[1].method, "POST");
    assert_eq!(requests[1].path, chat_path(TOKEN));
    assert_eq!(requests[1].header("authorization"), None);
}

#[tokio::test]
async fn sends_a_history_ernie_accepts() {
    let server = MockServer::start(vec![token_reply(TOKEN), stream(&["好"], 1, 1)]);
    let mut model = model(endpoint(&server, "BODY"));
    model.system = Some("你是xxx公司的AI助手".into());
    model.temperature = Some(0.0);
    model.top_p = Some(0.8);
    model.max_tokens = Some(1024);
    model.extra.insert("penalty_score".into(), json!(1.0));
    let history = vec![
        Message::new(Role::Assistant, "欢迎！"),
        Message::new(Role::User, "你好"),
        Message::new(Role::User, "在吗"),
        Message::new(Role::Assistant, "需要什么帮助"),
        Message::new(Role::Assistant, "请说"),
        Message::new(Role::User, "自我介绍下"),
    ];
    let events = run(&model, history).await;
    assert_eq!(finish(&events), Finish::Stop);

    let chat = &chat_requests(&server)[0];
    assert_eq!(chat.path, chat_path(TOKEN));
    assert!(
        chat.header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json"))
    );
    assert_eq!(
        chat.json(),
        json!({
            "messages": [
                {"role": "user", "content": "你好\n\n在吗"},
                {"role": "assistant", "content": "需要什么帮助\n\n请说"},
                {"role": "user", "content": "自我介绍下"}
            ],
            "system": "你是xxx公司的AI助手",
            "stream": true,
            "temperature": 0.01,
            "top_p": 0.8,
            "max_output_tokens": 1024,
            "penalty_score": 1.0
        })
    );
}

#[tokio::test]
async fn a_temperature_above_one_is_sent_as_one() {
    let server = MockServer::start(vec![token_reply(TOKEN), stream(&["好"], 1, 1)]);
    let mut model = model(endpoint(&server, "HOT"));
    model.temperature = Some(1.3);
    run(&model, ask()).await;
    let body = chat_requests(&server)[0].json();
    assert_eq!(body["temperature"], json!(1.0));
    assert_eq!(body.get("system"), None, "no system prompt, no field");
    assert_eq!(body.get("max_output_tokens"), None);
}

#[tokio::test]
async fn a_refused_secret_key_names_its_var() {
    let server = MockServer::start(vec![Reply::json(
        401,
        r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
    )]);
    let events = run_against(&server, "BADSK").await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Auth);
    let hint = err.hint.as_deref().unwrap_or_default();
    assert!(hint.contains("DUEL_TEST_ERNIE_SK_BADSK"), "{hint}");
}

#[tokio::test]
async fn missing_keys_are_named_before_any_request() {
    let server = MockServer::start(vec![token_reply(TOKEN)]);
    let mut endpoint = endpoint(&server, "MISSING");
    endpoint.api_key_env = Some("DUEL_TEST_ERNIE_AK_NEVER_SET".into());
    endpoint.secret_key_env = Some("DUEL_TEST_ERNIE_SK_NEVER_SET".into());
    let events = run(&model(endpoint.clone()), ask()).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::MissingKey);
    assert!(
        err.message.contains("DUEL_TEST_ERNIE_AK_NEVER_SET")
            && err.message.contains("DUEL_TEST_ERNIE_SK_NEVER_SET"),
        "{}",
        err.message
    );

    // Only the secret key missing: only it is named.
    endpoint.api_key_env = Some("DUEL_TEST_ERNIE_AK_MISSING".into());
    let events = run(&model(endpoint), ask()).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::MissingKey);
    assert!(err.message.contains("DUEL_TEST_ERNIE_SK_NEVER_SET"));
    assert!(!err.message.contains("AK"), "{}", err.message);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn the_token_is_fetched_once_for_two_answers() {
    let server = MockServer::start(vec![
        token_reply(TOKEN),
        stream(&["第一"], 1, 1),
        stream(&["第二"], 1, 1),
    ]);
    let model = model(endpoint(&server, "CACHE"));
    let provider: Arc<dyn Provider> = provider::build(&model);
    let first = run_with(provider.as_ref(), &model, ask()).await;
    let second = run_with(provider.as_ref(), &model, ask()).await;
    assert_eq!(
        (text(&first), text(&second)),
        ("第一".into(), "第二".into())
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests.iter().filter(|r| is_token_request(r)).count(), 1);
    assert!(requests[1..].iter().all(|r| r.path == chat_path(TOKEN)));
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once() {
    let server = MockServer::start(vec![
        token_reply(TOKEN),
        error_reply(111, "Access token expired"),
        token_reply(TOKEN_2),
        stream(&["刷新后"], 1, 1),
    ]);
    let events = run_against(&server, "REFRESH").await;
    assert_eq!(text(&events), "刷新后");
    assert_eq!(finish(&events), Finish::Stop);
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths.len(), 4);
    assert!(paths[0].starts_with("/oauth/2.0/token?") && paths[2].starts_with("/oauth/2.0/token?"));
    assert_eq!(paths[1], chat_path(TOKEN));
    assert_eq!(paths[3], chat_path(TOKEN_2));
}

#[tokio::test]
async fn a_token_refused_twice_is_an_auth_error() {
    let server = MockServer::start(vec![
        token_reply(TOKEN),
        error_reply(110, "Access token invalid or no longer valid"),
        token_reply(TOKEN_2),
        error_reply(110, "Access token invalid or no longer valid"),
    ]);
    let events = run_against(&server, "REFUSED").await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.message.contains("110"), "{}", err.message);
    assert!(
        err.hint
            .as_deref()
            .unwrap_or_default()
            .contains("DUEL_TEST_ERNIE_SK_REFUSED"),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 4, "one refresh, no more");
}

#[tokio::test]
async fn need_clear_history_is_a_filtered_input() {
    let unsafe_end = json!({
        "id": "as-1", "object": "chat.completion", "created": 1, "sentence_id": 0,
        "is_end": true, "is_truncated": false, "result": "",
        "need_clear_history": true, "ban_round": -1,
        "usage": {"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 5}
    })
    .to_string();
    let server = MockServer::start(vec![token_reply(TOKEN), Reply::sse(&[unsafe_end])]);
    let events = run_against(&server, "UNSAFE").await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Filtered);
    assert_eq!(err.message, "the input was judged unsafe");
    assert_eq!(chat_requests(&server).len(), 1);
}

#[tokio::test]
async fn a_flagged_sentence_ends_the_answer_as_filtered() {
    let mut flagged: serde_json::Value =
        serde_json::from_str(&chunk(1, "不该显示", false, 5, 4)).expect("json");
    flagged["flag"] = json!(2);
    let server = MockServer::start(vec![
        token_reply(TOKEN),
        Reply::sse(&[chunk(0, "开头。", false, 5, 2), flagged.to_string()]),
    ]);
    let events = run_against(&server, "FLAG").await;
    assert_eq!(text(&events), "开头。");
    assert_eq!(finish(&events), Finish::Filtered);
}

#[tokio::test]
async fn transport_errors_never_show_the_url_with_its_secrets() {
    // An invalid response header makes reqwest fail with an error that names the URL.
    let broken = || Reply::json(200, "{}").with_header("bad header", "x");

    // The token request: its URL carries the API key and the secret key.
    let server = MockServer::start(vec![broken()]);
    let events = run_against(&server, "BROKENTOKEN").await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Network);
    assert_eq!(server.requests().len(), 3, "a network error is retried");

    // The chat request: its URL carries the access token.
    let server = MockServer::start(vec![token_reply(TOKEN), broken()]);
    let events = run_against(&server, "BROKENCHAT").await;
    assert_eq!(error(&events).kind, ErrorKind::Network);
    assert_eq!(chat_requests(&server).len(), 3);
}

#[tokio::test]
async fn the_app_s_provider_registry_fetches_the_token_once_for_three_turns() {
    // The run loop asks `Providers` for a model's provider at every turn.
    let server = MockServer::keep_alive(vec![
        token_reply(TOKEN),
        stream(&["一"], 1, 1),
        stream(&["二"], 1, 1),
        stream(&["三"], 1, 1),
    ]);
    let model = model(endpoint(&server, "REGISTRY"));
    let mut providers = provider::Providers::default();
    let mut answers = Vec::new();
    for _ in 0..3 {
        let provider = providers.get(&model);
        answers.push(text(&run_with(provider.as_ref(), &model, ask()).await));
    }
    assert_eq!(answers, ["一", "二", "三"]);
    let requests = server.requests();
    assert_eq!(requests.iter().filter(|r| is_token_request(r)).count(), 1);
    let ports: std::collections::BTreeSet<u16> = requests.iter().map(|r| r.peer_port).collect();
    assert_eq!(ports.len(), 1, "token and three turns on one connection");
}
