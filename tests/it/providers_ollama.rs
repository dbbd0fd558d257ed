//! What only the `ollama` wire kind (native `/api/chat`, NDJSON) does: an error line
//! that says to pull the model, CRLF lines and a last line without a newline.
//! Everything every kind does is a row of `wire_kinds.rs`.

use crate::common;
use common::events::{error, finish, run, text};
use common::server::{MockServer, Reply, Step};
use common::wire::Wire;
use common::wire::ollama::{MODEL, chunk, done};
use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::provider::{ErrorKind, Finish, Message, Role, StreamEvent};

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

/// A 200 NDJSON reply: each line in its own write, a few milliseconds apart.
fn ndjson<S: AsRef<str>>(lines: &[S]) -> Reply {
    let wire = Wire(WireKind::Ollama);
    wire.stream(lines.iter().map(|l| wire.frame(l.as_ref())).collect())
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
