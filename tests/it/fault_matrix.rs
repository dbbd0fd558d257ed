//! Every wire kind against every fault, through the real run loop: pane A talks to a
//! failing server, pane B to a healthy one. For each case the app keeps running, B
//! finishes normally, A names the fault, and the turn can still be voted on (the
//! record says `finish: "error"` and carries the error text). Prints one table.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common;
use common::config::in_memory;
use common::models::KINDS;
use common::server::{MockServer, Reply, Step};
use common::wire::Wire;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use duel::app::Msg;
use duel::app::state::{Setup, State};
use duel::config::{ModelSpec, WireKind};
use duel::domain::{AnswerState, ErrorKind, Finish, Side};
use duel::run::run;
use duel::theme::Theme;
use duel::ui::ViewCache;
use duel::votes;
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
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

const ANSWER: &str = "fine answer";
const ESCAPES: &str = "clear\u{1b}[2J title\u{1b}]0;pwned\u{7} bell\u{7} back\u{8} end";

/// The replies pane A's server gives, in order (the last repeats), each in the kind's
/// own dialect (the wire-kind table's fixtures), and what pane A must end with: the
/// kind of error, or None for an answer that succeeds.
fn replies(wire: Wire, fault: Fault) -> (Vec<Reply>, Option<ErrorKind>) {
    // Text first, then the fault: the pane has something to lose.
    let after_text = |more: Vec<Vec<u8>>| {
        let mut writes = wire.opening(3);
        writes.push(wire.text("half"));
        writes.extend(more);
        wire.stream(writes)
    };
    match fault {
        Fault::BadKey => (vec![wire.bad_key().reply], Some(ErrorKind::Auth)),
        Fault::RateLimitThenOk => (vec![wire.rate_limited().0, wire.success(&[ANSWER])], None),
        Fault::ServerError => {
            let failure = wire.server_error();
            (vec![failure.reply], Some(failure.kind))
        }
        Fault::CutMidway => (vec![after_text(Vec::new())], Some(ErrorKind::CutOff)),
        Fault::Malformed => (vec![wire.stream(wire.junk())], Some(ErrorKind::Malformed)),
        Fault::InStreamError => {
            let (bytes, kind, _) = wire.stream_errors().remove(0);
            (vec![after_text(vec![bytes])], Some(kind))
        }
        Fault::Hung => (
            vec![Reply::raw(200, wire.content_type(), vec![Step::Hang])],
            Some(ErrorKind::Timeout),
        ),
        Fault::Oversized => {
            let event = wire.frame(&format!("{{\"junk\":\"{}\"}}", "x".repeat(9 << 20)));
            (vec![wire.stream(vec![event])], Some(ErrorKind::Malformed))
        }
        Fault::Escapes => (vec![wire.success(&[ESCAPES])], None),
        // No server answers these.
        Fault::Refused | Fault::DnsFailure => {
            (vec![Reply::json(500, "{}")], Some(ErrorKind::Network))
        }
    }
}

/// A side's model: the kind's fixture model under its own name, with a short idle
/// timeout (55 cases share two cores; a hung server still ends in 2 s).
fn model(name: &str, wire: Wire, url: &str) -> ModelSpec {
    let mut model = wire.model(url);
    model.name = name.to_owned();
    model.endpoint.idle_timeout = Duration::from_secs(2);
    model
}

struct Outcome {
    kind: WireKind,
    fault: Fault,
    shown: String,
    problems: Vec<String>,
}

/// One case: the real run loop, keys injected, until the vote is on disk.
async fn case(kind: WireKind, fault: Fault, dir: PathBuf) -> Outcome {
    let wire = Wire(kind);
    let (replies, expected) = replies(wire, fault);
    // ERNIE's bad key is its token endpoint's answer: the server says nothing else.
    let failing = if fault == Fault::BadKey {
        MockServer::start(replies)
    } else {
        wire.serve(replies)
    };
    let openai = Wire(WireKind::OpenAi);
    let healthy = openai.serve(vec![openai.success(&["B is ", "fine"])]);
    let a_url = match fault {
        Fault::Refused => common::server::REFUSED.to_owned(),
        Fault::DnsFailure => "http://duel-fault-matrix.invalid".to_owned(),
        _ => failing.url(),
    };
    let a = model("failing", wire, &a_url);
    let b = model("healthy", openai, &healthy.url());
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
    let shown = match (&a_answer.state, expected) {
        (AnswerState::Failed(error), Some(kind)) => {
            if error.kind != kind {
                problems.push(format!("A failed with {error}, expected {kind:?}"));
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
            let failed = expected.is_some();
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
