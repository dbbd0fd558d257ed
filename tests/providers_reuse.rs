//! Providers live as long as the app: turns after the first go out on the first
//! turn's connection, and ERNIE's token is fetched once, not once a turn.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::keepalive::{KeepAliveServer, Seen};
use common::server::openai_stream;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use duel::app::state::{Setup, State};
use duel::app::{Msg, run};
use duel::config::{self, Endpoint, LoadOptions, ModelSpec, WireKind};
use duel::provider::{self, ChatRequest, Finish, Message, Providers, Role, StreamEvent};
use duel::theme::Theme;
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

/// An OpenAI-compatible server that answers every request with "ok".
fn openai_server() -> KeepAliveServer {
    let body: String = openai_stream(&["o", "k"], 3, 1)
        .iter()
        .map(|event| format!("data: {event}\n\n"))
        .collect();
    KeepAliveServer::start(
        Box::new(move |_| (200, "text/event-stream", body.clone())),
        Duration::ZERO,
    )
}

fn openai_model(server: &KeepAliveServer) -> ModelSpec {
    let endpoint = common::models::endpoint(
        WireKind::OpenAi,
        format!("{}/v1", server.url()),
        Some("sk-test-reuse"),
    );
    common::models::model("reused", "mock-model", endpoint)
}

/// One turn the way the run loop sends it: the provider from the registry, the
/// answer through `provider::stream`. The answer's finish.
async fn turn(provider: &dyn provider::Provider, model: &ModelSpec, turn: usize) -> Finish {
    let messages = (0..=turn)
        .flat_map(|i| {
            [
                Message::new(Role::User, format!("question {i}")),
                Message::new(Role::Assistant, "ok"),
            ]
        })
        .take(2 * turn + 1)
        .collect();
    let req = ChatRequest::for_model(model, messages);
    let (tx, mut rx) = mpsc::unbounded_channel();
    provider::stream(provider, &req, tx).await;
    let mut last = None;
    while let Ok(event) = rx.try_recv() {
        last = Some(event);
    }
    match last {
        Some(StreamEvent::Finish(finish)) => finish,
        other => panic!("the turn did not finish: {other:?}"),
    }
}

fn ports(seen: &[Seen]) -> Vec<u16> {
    seen.iter().map(|s| s.peer_port).collect()
}

#[tokio::test]
async fn three_turns_share_the_first_turns_connection() {
    let server = openai_server();
    let model = openai_model(&server);
    let mut providers = Providers::new();
    for i in 0..3 {
        let provider = providers.get(&model);
        assert_eq!(turn(provider.as_ref(), &model, i).await, Finish::Stop);
    }
    let ports = ports(&server.seen());
    assert_eq!(ports.len(), 3);
    assert!(
        ports.iter().all(|&p| p == ports[0]),
        "turns 2 and 3 should reuse turn 1's connection: {ports:?}"
    );
}

#[tokio::test]
async fn a_provider_built_per_turn_connects_anew_each_time() {
    // The control: the server tells connections apart, so the test above means what
    // it says.
    let server = openai_server();
    let model = openai_model(&server);
    for i in 0..2 {
        let provider = provider::build(&model);
        assert_eq!(turn(provider.as_ref(), &model, i).await, Finish::Stop);
    }
    let ports = ports(&server.seen());
    assert_eq!(ports.len(), 2);
    assert_ne!(ports[0], ports[1]);
}

#[tokio::test]
async fn the_registry_keeps_one_provider_per_model_and_rebuilds_a_changed_one() {
    let server = openai_server();
    let model = openai_model(&server);
    let mut providers = Providers::new();
    let first = providers.get(&model);
    assert!(Arc::ptr_eq(&first, &providers.get(&model)));
    let mut other = model.clone();
    other.name = "other".into();
    assert!(!Arc::ptr_eq(&first, &providers.get(&other)));
    let mut moved = model.clone();
    moved.endpoint.base_url = format!("{}/v2", server.url());
    assert!(!Arc::ptr_eq(&first, &providers.get(&moved)));
}

const ERNIE_SK_ENV: &str = "DUEL_TEST_REUSE_ERNIE_SK";
const ERNIE_PATH: &str = "completions_pro";

#[tokio::test]
async fn ernie_fetches_its_token_once_for_three_turns() {
    let server = KeepAliveServer::start(
        Box::new(|path| {
            if path.starts_with("/oauth/2.0/token") {
                (
                    200,
                    "application/json",
                    r#"{"access_token":"reuse-token-1","expires_in":2592000}"#.into(),
                )
            } else {
                (
                    200,
                    "text/event-stream",
                    "data: {\"result\":\"好\",\"is_end\":true,\"finish_reason\":\"normal\"}\n\n"
                        .into(),
                )
            }
        }),
        Duration::ZERO,
    );
    // SAFETY: the name is this test's own; no other thread reads or writes it.
    unsafe { std::env::set_var(ERNIE_SK_ENV, "reuse-secret-key") };
    let endpoint = Endpoint {
        secret_key_env: Some(ERNIE_SK_ENV.into()),
        ..common::models::endpoint(WireKind::Ernie, server.url(), Some("reuse-api-key"))
    };
    let model = ModelSpec::new("ernie", "ernie", ERNIE_PATH, endpoint);
    let mut providers = Providers::new();
    for i in 0..3 {
        let provider = providers.get(&model);
        assert_eq!(turn(provider.as_ref(), &model, i).await, Finish::Stop);
    }
    let seen = server.seen();
    let tokens = seen
        .iter()
        .filter(|s| s.path.starts_with("/oauth/2.0/token"))
        .count();
    assert_eq!(tokens, 1, "one token for three turns: {seen:?}");
    assert_eq!(seen.len(), 4);
    let ports = ports(&seen);
    assert!(ports.iter().all(|&p| p == ports[0]), "{ports:?}");
}

fn app_config(a: &str, b: &str, dir: &std::path::Path) -> config::Config {
    let path = dir.join("config.toml");
    let provider = |name: &str, url: &str| {
        format!(
            "[providers.{name}]\nkind = \"openai\"\nbase_url = \"{url}/v1\"\napi_key = \"sk-test-headless\"\nidle_timeout_secs = 5\n"
        )
    };
    let toml = format!(
        "[pair]\na = \"alpha\"\nb = \"beta\"\n{}{}[[models]]\nname = \"alpha\"\nprovider = \"left\"\n[[models]]\nname = \"beta\"\nprovider = \"right\"\n",
        provider("left", a),
        provider("right", b)
    );
    std::fs::write(&path, toml).expect("write config");
    config::load(&LoadOptions {
        explicit: Some(path),
    })
    .expect("config loads")
}

fn send_prompt(keys: &mpsc::UnboundedSender<Msg>, text: &str) {
    let key = |code| Msg::Key(KeyEvent::new(code, KeyModifiers::NONE));
    for c in text.chars() {
        keys.send(key(KeyCode::Char(c))).expect("send key");
    }
    keys.send(key(KeyCode::Enter)).expect("send enter");
}

/// Waits (with a deadline) until both servers saw `count` requests.
async fn wait_for_requests(servers: &[&KeepAliveServer], count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while servers.iter().any(|s| s.seen().len() < count) {
        assert!(Instant::now() < deadline, "the requests never came");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_loop_sends_a_second_turn_on_the_first_turns_connections() {
    let (a, b) = (Arc::new(openai_server()), Arc::new(openai_server()));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = app_config(&a.url(), &b.url(), dir.path());
    let pair = ["alpha", "beta"].map(|n| config.model(n).expect("configured").clone());
    let data_dir = dir.path().join("data");
    let state = State::new(&config, pair, data_dir.clone(), Setup::default());
    let (keys, input) = mpsc::unbounded_channel();
    let input = futures_util::stream::unfold(input, |mut rx| async move {
        rx.recv().await.map(|msg| (msg, rx))
    })
    .boxed();
    let mut terminal = Terminal::new(TestBackend::new(100, 24)).expect("terminal");
    let (sa, sb) = (Arc::clone(&a), Arc::clone(&b));
    let driver = tokio::spawn(async move {
        send_prompt(&keys, "first");
        wait_for_requests(&[&sa, &sb], 1).await;
        // Both answers end (and the conversation is saved) before the next prompt.
        let saved = data_dir.join("conversations");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !saved.exists() {
            assert!(Instant::now() < deadline, "turn 1 never ended");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        send_prompt(&keys, "second");
        wait_for_requests(&[&sa, &sb], 2).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let quit = Msg::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL));
        keys.send(quit).expect("quit");
    });
    let state = run(&mut terminal, state, Theme::default(), input)
        .await
        .expect("the app runs");
    driver.await.expect("driver");
    assert_eq!(state.turns.len(), 2);
    for server in [&a, &b] {
        let ports = ports(&server.seen());
        assert_eq!(ports.len(), 2, "{ports:?}");
        assert_eq!(ports[0], ports[1], "turn 2 reuses turn 1's connection");
    }
}
