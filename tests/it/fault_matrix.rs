//! Every wire kind against every fault, through the real run loop: pane A talks to a
//! failing server, pane B to a healthy one. For each case the app keeps running, B
//! finishes normally, A names the fault, and the turn can still be voted on (the
//! record says `finish: "error"` and carries the error text). Prints one table.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common;
use common::config::in_memory;
use common::models::KINDS;
use common::server::{MockServer, Reply, Step, openai_stream, sse_event};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use duel::app::Msg;
use duel::app::state::{Setup, State};
use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::domain::{AnswerState, ErrorKind, Finish, Side};
use duel::run::run;
use duel::theme::Theme;
use duel::ui::ViewCache;
use duel::votes;
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use tokio::sync::mpsc;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    BadKey,
    RateLimitThenOk,
    ServerError,
    Refused,
    DnsFailure,
    CutMidway,
    Malformed,
    InStreamError,
    Hung,
    Oversized,
    Escapes,
}

const FAULTS: [Fault; 11] = [
    Fault::BadKey,
    Fault::RateLimitThenOk,
    Fault::ServerError,
    Fault::Refused,
    Fault::DnsFailure,
    Fault::CutMidway,
    Fault::Malformed,
    Fault::InStreamError,
    Fault::Hung,
    Fault::Oversized,
    Fault::Escapes,
];

/// What pane A must show: the error label, or None for an answer that succeeds.
fn expected(fault: Fault) -> Option<&'static str> {
    match fault {
        Fault::BadKey => Some("authentication failed"),
        Fault::RateLimitThenOk | Fault::Escapes => None,
        Fault::ServerError => Some("server error"),
        Fault::Refused | Fault::DnsFailure => Some("network error"),
        Fault::CutMidway => Some("answer cut off"),
        Fault::Malformed | Fault::Oversized => Some("malformed stream"),
        // Each kind's in-band error has its own class; any named failure will do.
        Fault::InStreamError => Some(""),
        Fault::Hung => Some("timed out"),
    }
}

const ANSWER: &str = "fine answer";
const ESCAPES: &str = "clear\u{1b}[2J title\u{1b}]0;pwned\u{7} bell\u{7} back\u{8} end";

/// A whole successful answer in the kind's own stream shape.
fn success(kind: WireKind, text: &str) -> Reply {
    let raw = |content_type: &str, body: String| {
        Reply::raw(200, content_type, vec![Step::Write(body.into_bytes())])
    };
    match kind {
        WireKind::OpenAi | WireKind::Demo => Reply::sse(&openai_stream(&[text], 3, 2)),
        WireKind::Anthropic => raw("text/event-stream", anthropic(text, true)),
        WireKind::Gemini => raw("text/event-stream", gemini(text, true)),
        WireKind::Ollama => raw("application/x-ndjson", ollama(text, true)),
        WireKind::Ernie => raw("text/event-stream", ernie(text, true)),
    }
}

/// Some text in the kind's shape, then the connection closes without the end marker.
fn cut(kind: WireKind) -> Reply {
    let (content_type, body) = match kind {
        WireKind::OpenAi | WireKind::Demo => (
            "text/event-stream",
            String::from_utf8_lossy(&sse_event(&openai_stream(&["half"], 1, 1)[0])).into_owned(),
        ),
        WireKind::Anthropic => ("text/event-stream", anthropic("half", false)),
        WireKind::Gemini => ("text/event-stream", gemini("half", false)),
        WireKind::Ollama => ("application/x-ndjson", ollama("half", false)),
        WireKind::Ernie => ("text/event-stream", ernie("half", false)),
    };
    Reply::raw(200, content_type, vec![Step::Write(body.into_bytes())])
}

fn anthropic(text: &str, finished: bool) -> String {
    let mut out = String::new();
    let mut event = |name: &str, data: serde_json::Value| {
        out.push_str(&format!("event: {name}\ndata: {data}\n\n"));
    };
    event(
        "message_start",
        json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "content": [], "model": "c", "usage": {"input_tokens": 3, "output_tokens": 1}}}),
    );
    event(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    );
    event(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
    );
    if finished {
        event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        );
        event(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
        );
        event("message_stop", json!({"type": "message_stop"}));
    }
    out
}

fn gemini(text: &str, finished: bool) -> String {
    let mut candidate =
        json!({"content": {"parts": [{"text": text}], "role": "model"}, "index": 0});
    if finished {
        candidate["finishReason"] = "STOP".into();
    }
    format!("data: {}\r\n\r\n", json!({"candidates": [candidate]}))
}

fn ollama(text: &str, finished: bool) -> String {
    let mut out = format!(
        "{}\n",
        json!({"model": "m", "message": {"role": "assistant", "content": text}, "done": false})
    );
    if finished {
        out.push_str(&format!(
            "{}\n",
            json!({"model": "m", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop", "prompt_eval_count": 3, "eval_count": 2})
        ));
    }
    out
}

fn ernie(text: &str, finished: bool) -> String {
    let chunk = |result: &str, is_end: bool| json!({"id": "as-1", "object": "chat.completion", "sentence_id": 0, "is_end": is_end, "result": result, "need_clear_history": false, "finish_reason": "normal", "usage": {"prompt_tokens": 3, "completion_tokens": 2}});
    let mut out = format!("data: {}\n\n", chunk(text, false));
    if finished {
        out.push_str(&format!("data: {}\n\n", chunk("", true)));
    }
    out
}

fn ernie_token() -> Reply {
    Reply::json(
        200,
        r#"{"access_token":"24.fault-matrix-token","expires_in":2592000}"#,
    )
}

/// The replies pane A's server gives, in order (the last repeats).
fn replies(kind: WireKind, fault: Fault) -> Vec<Reply> {
    let garbage = |content_type: &str| {
        let body = if content_type == "application/x-ndjson" {
            "not json\n{broken\n<html>oops</html>\n"
        } else {
            "data: not json\n\ndata: {broken\n\ndata: <html>oops</html>\n\n"
        };
        Reply::raw(
            200,
            content_type,
            vec![Step::Write(body.as_bytes().to_vec())],
        )
    };
    let stream_type = if kind == WireKind::Ollama {
        "application/x-ndjson"
    } else {
        "text/event-stream"
    };
    let fault_replies = match fault {
        Fault::BadKey => vec![match kind {
            WireKind::Ernie => Reply::json(
                401,
                r#"{"error":"invalid_client","error_description":"unknown client id"}"#,
            ),
            WireKind::Anthropic => Reply::json(
                401,
                r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
            ),
            WireKind::Gemini => Reply::json(
                401,
                r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#,
            ),
            WireKind::Ollama => Reply::json(401, r#"{"error":"unauthorized"}"#),
            _ => Reply::json(
                401,
                r#"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}"#,
            ),
        }],
        Fault::RateLimitThenOk => vec![
            Reply::json(429, r#"{"error":{"message":"Requests rate limit exceeded"}}"#)
                .with_header("Retry-After", "0"),
            success(kind, ANSWER),
        ],
        Fault::ServerError => vec![Reply::json(500, r#"{"error":{"message":"internal error"}}"#)],
        Fault::CutMidway => vec![cut(kind)],
        Fault::Malformed => vec![garbage(stream_type)],
        Fault::InStreamError => vec![match kind {
            WireKind::Anthropic => Reply::raw(
                200,
                "text/event-stream",
                vec![Step::Write(
                    b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"bad things\"}}\n\n".to_vec(),
                )],
            ),
            WireKind::Gemini => Reply::raw(
                200,
                "text/event-stream",
                vec![Step::Write(
                    b"data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}\r\n\r\n".to_vec(),
                )],
            ),
            WireKind::Ollama => Reply::raw(
                200,
                "application/x-ndjson",
                vec![Step::Write(b"{\"error\":\"model runner has unexpectedly stopped\"}\n".to_vec())],
            ),
            WireKind::Ernie => Reply::json(200, r#"{"error_code":336003,"error_msg":"the number of messages must be odd"}"#),
            _ => Reply::sse(&[json!({"error": {"message": "Output data may contain inappropriate content.", "code": "data_inspection_failed"}}).to_string()]),
        }],
        Fault::Hung => vec![Reply::raw(200, stream_type, vec![Step::Hang])],
        Fault::Oversized => {
            let line = if kind == WireKind::Ollama {
                format!("{{\"junk\":\"{}\"}}\n", "x".repeat(9 * 1024 * 1024))
            } else {
                format!("data: {{\"junk\":\"{}\"}}\n\n", "x".repeat(9 * 1024 * 1024))
            };
            vec![Reply::raw(200, stream_type, vec![Step::Write(line.into_bytes())])]
        }
        Fault::Escapes => vec![success(kind, ESCAPES)],
        // No server answers these.
        Fault::Refused | Fault::DnsFailure => vec![Reply::json(500, "{}")],
    };
    if kind == WireKind::Ernie && fault != Fault::BadKey {
        std::iter::once(ernie_token())
            .chain(fault_replies)
            .collect()
    } else {
        fault_replies
    }
}

fn model(name: &str, kind: WireKind, base_url: String) -> ModelSpec {
    let ernie = kind == WireKind::Ernie;
    let model_id = if ernie {
        "completions_pro".to_owned()
    } else {
        format!("{name}-id")
    };
    let endpoint = Endpoint {
        api_key_env: ernie.then(|| "DUEL_FAULT_MATRIX_AK".to_owned()),
        secret_key_env: ernie.then(|| "DUEL_FAULT_MATRIX_SK".to_owned()),
        // Generous: 55 cases share two cores; a hung server still ends in 2 s.
        idle_timeout: Duration::from_secs(2),
        ..common::models::endpoint(kind, base_url, (!ernie).then_some("sk-fault-matrix"))
    };
    common::models::model(name, &model_id, endpoint)
}

struct Outcome {
    kind: WireKind,
    fault: Fault,
    shown: String,
    problems: Vec<String>,
}

/// One case: the real run loop, keys injected, until the vote is on disk.
async fn case(kind: WireKind, fault: Fault, dir: PathBuf) -> Outcome {
    let failing = MockServer::start(replies(kind, fault));
    let healthy = MockServer::start(vec![Reply::sse(&openai_stream(&["B is ", "fine"], 2, 2))]);
    let a_url = match fault {
        Fault::Refused => common::server::REFUSED.to_owned(),
        Fault::DnsFailure => "http://duel-fault-matrix.invalid".to_owned(),
        _ => failing.url(),
    };
    let a = model("failing", kind, a_url);
    let b = model("healthy", WireKind::OpenAi, healthy.url());
    let config = in_memory(vec![a.clone(), b.clone()], "matrix");
    let state = State::new(&config, [a, b], dir.clone(), Setup::default());
    let (keys, input) = mpsc::unbounded_channel();
    let input = futures_util::stream::unfold(input, |mut rx| async move {
        rx.recv().await.map(|msg| (msg, rx))
    })
    .boxed();
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).expect("terminal");
    let driver = tokio::spawn(drive(keys, dir.clone()));
    let state = run(&mut terminal, state, Theme::default(), input)
        .await
        .expect("the app keeps running");
    let driven = driver.await.expect("driver");

    let mut problems = Vec::new();
    if let Err(e) = driven {
        problems.push(e);
    }
    // The screen the final state draws: the loop's own last frame may lag behind it
    // when 55 cases share two cores (a frame the loop draws is the PTY tests' part).
    terminal
        .draw(|frame| {
            duel::ui::draw(frame, &state, &Theme::default(), &mut ViewCache::default());
        })
        .expect("draw");
    let screen = terminal.backend().to_string();
    let Some(turn) = state.turns.first() else {
        problems.push("no turn".into());
        return Outcome {
            kind,
            fault,
            shown: String::new(),
            problems,
        };
    };
    let b_answer = turn.answer(Side::B);
    if b_answer.text != "B is fine" || b_answer.state != AnswerState::Done(Finish::Stop) {
        problems.push(format!("B did not finish normally: {:?}", b_answer.state));
    }
    let a_answer = turn.answer(Side::A);
    let shown = match (&a_answer.state, expected(fault)) {
        (AnswerState::Failed(error), Some(label)) => {
            if !error.to_string().starts_with(label) {
                problems.push(format!("A failed with {error}, expected {label:?}"));
            }
            // An in-band error must be read as one, not end in a timeout.
            if matches!(error.kind, ErrorKind::Timeout | ErrorKind::Network)
                && fault == Fault::InStreamError
            {
                problems.push(format!("the in-stream error was not recognised: {error}"));
            }
            if !screen.contains(error.kind.label()) {
                problems.push("the pane does not name the fault".into());
            }
            error.to_string()
        }
        (AnswerState::Done(Finish::Stop), None) => {
            if screen.contains('\u{1b}') || screen.contains('\u{7}') {
                problems.push("a control character reached the screen".into());
            }
            if fault == Fault::Escapes && !screen.contains("␛[2J") {
                problems.push("escape sequences are not shown inert".into());
            }
            format!("answered: {}", a_answer.text.escape_debug())
        }
        (other, want) => {
            problems.push(format!("A ended as {other:?}, expected {want:?}"));
            String::new()
        }
    };
    match votes::log::read(&dir.join(votes::log::FILE_NAME)) {
        Ok((records, _)) if records.len() == 1 => {
            let record = &records[0];
            let failed = expected(fault).is_some();
            if failed && (record.a.finish != Finish::Error || record.a.error.is_none()) {
                problems.push("the vote record does not carry the error".into());
            }
        }
        other => problems.push(format!("no vote on disk: {other:?}")),
    }
    Outcome {
        kind,
        fault,
        shown,
        problems,
    }
}

/// Types a prompt, waits until the turn ended (its conversation file appears), votes
/// A, waits for the vote on disk, quits.
async fn drive(keys: mpsc::UnboundedSender<Msg>, dir: PathBuf) -> Result<(), String> {
    let key = |code, modifiers| Msg::Key(KeyEvent::new(code, modifiers));
    for c in "hi".chars() {
        let _ = keys.send(key(KeyCode::Char(c), KeyModifiers::NONE));
    }
    let _ = keys.send(key(KeyCode::Enter, KeyModifiers::NONE));
    let ended = wait_for(&dir.join("conversations"), Duration::from_secs(20)).await;
    if ended {
        let _ = keys.send(key(KeyCode::Char('1'), KeyModifiers::ALT));
        wait_for(&dir.join(votes::log::FILE_NAME), Duration::from_secs(10)).await;
        // Let the confirmation reach the screen.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = keys.send(key(KeyCode::Char('q'), KeyModifiers::CONTROL));
    if ended {
        Ok(())
    } else {
        Err("the turn never ended".into())
    }
}

async fn wait_for(path: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while !path.exists() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_survives_every_fault() {
    // SAFETY: these variables are only read by this test's ERNIE endpoints.
    unsafe {
        std::env::set_var("DUEL_FAULT_MATRIX_AK", "ak-fault-matrix");
        std::env::set_var("DUEL_FAULT_MATRIX_SK", "sk-fault-matrix-secret");
    }
    let root = tempfile::tempdir().expect("tempdir");
    let cases = KINDS.iter().flat_map(|kind| {
        FAULTS.iter().map(|fault| {
            let dir = root.path().join(format!("{}-{fault:?}", kind.as_str()));
            case(*kind, *fault, dir)
        })
    });
    let outcomes = futures_util::future::join_all(cases).await;

    let mut table = String::from("\nkind       fault              result  pane A shows\n");
    let mut failures = 0;
    for o in &outcomes {
        let ok = o.problems.is_empty();
        failures += usize::from(!ok);
        let shown: String = o.shown.chars().take(70).collect();
        table.push_str(&format!(
            "{:<10} {:<18} {:<7} {}{}\n",
            o.kind.as_str(),
            format!("{:?}", o.fault),
            if ok { "ok" } else { "FAILED" },
            shown,
            if ok {
                String::new()
            } else {
                format!("  <- {}", o.problems.join("; "))
            }
        ));
    }
    println!("{table}");
    assert_eq!(failures, 0, "{table}");
    assert_eq!(outcomes.len(), KINDS.len() * FAULTS.len());
}
