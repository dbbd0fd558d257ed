//! The conformance table of the wire kinds: every row is one scenario (what the server
//! sends, what the events must be), run for every kind through one harness against a
//! loopback server and the retrying driver. A kind's peculiarities live in its dialect
//! (`common/wire.rs`), not in a copy of the row; a row a kind cannot have (ERNIE
//! streams no reasoning) is marked "-" in the printed table. A new scenario is one
//! row; a new kind is one dialect. What is about one kind alone stays in
//! `providers_<kind>.rs`.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;

use crate::common;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::events::{FAST_RETRY, assert_one_end, error, finish, reasoning, text, usage};
use common::files;
use common::models::KINDS;
use common::server::{MockServer, Reply, Step};
use common::wire::{Failure, KEY, Wire};
use duel::attachment::{Attachment, Input, Store};
use duel::config::{ModelSpec, WireKind};
use duel::provider::{
    self, ChatRequest, ErrorKind, Finish, Message, Retry, RetryPolicy, Role, StreamEvent, Usage,
};
use serde_json::json;

/// What a row did for one kind.
enum Cell {
    Ran,
    /// The scenario does not exist for the kind.
    NotApplicable,
}

type Row = (&'static str, fn(Wire) -> BoxFuture<'static, Cell>);

macro_rules! rows {
    ($($row:ident),* $(,)?) => {
        &[$((stringify!($row), |wire| Box::pin($row(wire)))),*]
    };
}

const ROWS: &[Row] = rows![
    streams_text_in_order_with_usage_and_stop,
    streams_reasoning_before_the_answer,
    maps_the_kinds_finish_reasons,
    sends_the_request_the_kind_expects,
    sends_only_what_is_set,
    a_bad_key_names_the_env_var_and_never_the_key,
    a_missing_key_fails_before_any_request,
    a_rate_limit_is_retried_after_its_wait_and_announced,
    a_huge_retry_after_is_clamped_not_a_panic,
    a_failure_before_text_is_sent_again,
    gives_up_after_three_server_errors,
    a_non_json_error_page_is_shown_shortened,
    an_unknown_model_is_named,
    errors_no_retry_can_fix_are_classified_and_not_retried,
    a_stream_cut_after_text_is_not_sent_again,
    an_end_marker_without_a_finish_reason_is_a_cut_answer,
    a_stream_that_sends_nothing_says_so_in_plain_words,
    skips_lines_that_are_not_json,
    a_stream_of_only_garbage_is_malformed,
    invalid_utf8_keeps_the_answer_that_came_before_it,
    an_error_inside_the_stream_after_text_ends_the_answer,
    an_error_inside_the_stream_before_text_is_retried,
    a_silent_server_times_out,
    a_server_that_never_answers_times_out,
    a_refused_connection_is_a_network_error,
    utf8_split_across_writes_arrives_intact,
    a_redirect_is_named_with_its_host_and_never_followed,
    a_server_that_never_stops_is_cut_at_the_answer_limit,
    a_page_that_is_not_a_stream_is_malformed,
    a_whole_json_answer_is_accepted,
    turns_reuse_the_connection_of_the_first,
    sends_an_image_and_a_text_file_as_the_kind_spells_them,
    sends_a_pdf_as_a_document_or_as_its_text,
    an_image_to_a_model_that_takes_none_is_refused_before_sending,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_passes_every_row() {
    let cells = ROWS.iter().flat_map(|&(name, row)| {
        KINDS.map(|kind| async move {
            // A row that hangs (a server never cut off) fails instead of the run.
            let cell = tokio::time::timeout(Duration::from_secs(20), row(Wire(kind)));
            let outcome =
                tokio::spawn(async move { cell.await.expect("the row ended in 20 s") }).await;
            (name, kind, outcome)
        })
    });
    // A few at a time: the rows that time out measure time.
    let outcomes: Vec<_> = futures_util::stream::iter(cells)
        .buffered(12)
        .collect()
        .await;

    let mut table = format!("\n{:<64}", "row");
    for kind in KINDS {
        table.push_str(&format!("{:<10}", kind.as_str()));
    }
    let mut failures = Vec::new();
    for row in outcomes.chunks(KINDS.len()) {
        table.push_str(&format!("\n{:<64}", row[0].0));
        for (name, kind, outcome) in row {
            let cell = match outcome {
                Ok(Cell::Ran) => "ok",
                Ok(Cell::NotApplicable) => "-",
                Err(err) => {
                    failures.push(format!("{name} × {}: {}", kind.as_str(), panic_text(err)));
                    "FAILED"
                }
            };
            table.push_str(&format!("{cell:<10}"));
        }
    }
    println!("{table}");
    assert!(failures.is_empty(), "{table}\n\n{}", failures.join("\n\n"));
}

fn panic_text(err: &tokio::task::JoinError) -> String {
    if !err.is_panic() {
        return err.to_string();
    }
    format!("{err:?}")
}

// ---- The harness ---------------------------------------------------------------

fn ask() -> Vec<Message> {
    vec![Message::new(Role::User, "hi")]
}

/// One answer of `model`, with fast retries; fails the row if a secret shows.
async fn run_model(wire: Wire, model: &ModelSpec, messages: Vec<Message>) -> Vec<StreamEvent> {
    run_policy(wire, model, messages, FAST_RETRY).await
}

async fn run_policy(
    wire: Wire,
    model: &ModelSpec,
    messages: Vec<Message>,
    policy: RetryPolicy,
) -> Vec<StreamEvent> {
    run_request(wire, model, ChatRequest::for_model(model, messages), policy).await
}

async fn run_request(
    wire: Wire,
    model: &ModelSpec,
    req: ChatRequest,
    policy: RetryPolicy,
) -> Vec<StreamEvent> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    provider::stream_with(provider::build(model).as_ref(), &req, tx, policy).await;
    let mut events = Vec::new();
    while let Ok(event) = rx.try_recv() {
        events.push(event);
    }
    let mut shown = format!("{events:?}");
    if let Some(StreamEvent::Error(err)) = events.last() {
        shown.push_str(&format!(
            "{err} {}",
            err.hint.as_deref().unwrap_or_default()
        ));
    }
    for secret in wire.secrets() {
        assert!(!shown.contains(secret), "a secret leaked: {shown}");
    }
    events
}

/// One answer from a server answering the chat with `chat`.
async fn answer(wire: Wire, chat: Vec<Reply>) -> (Vec<StreamEvent>, MockServer) {
    let server = wire.serve(chat);
    let events = run_model(wire, &wire.model(&server.url()), ask()).await;
    (events, server)
}

fn chats(wire: Wire, server: &MockServer) -> usize {
    wire.chat_requests(server).len()
}

fn usage_of(input: u64, output: u64) -> Option<Usage> {
    Some(Usage {
        input_tokens: Some(input),
        output_tokens: Some(output),
        ..Default::default()
    })
}

/// The final error, checked against a failure's class, status and words.
fn assert_failure(events: &[StreamEvent], failure: &Failure) {
    let err = error(events);
    assert_eq!(err.kind, failure.kind, "{err:?}");
    assert_eq!(err.status, failure.status, "{err:?}");
    if let Some(message) = &failure.message {
        assert_eq!(&err.message, message);
    }
}

fn retries(events: &[StreamEvent]) -> Vec<&Retry> {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Retry(r) => Some(r),
            _ => None,
        })
        .collect()
}

// ---- The rows --------------------------------------------------------------------

async fn streams_text_in_order_with_usage_and_stop(wire: Wire) -> Cell {
    let reply = wire.stream(wire.answer(&["Hello", ", ", "world", "!"], 9, 4));
    let (events, _server) = answer(wire, vec![reply]).await;
    assert_eq!(text(&events), "Hello, world!");
    assert_eq!(usage(&events), usage_of(9, 4));
    assert_eq!(finish(&events), Finish::Stop);
    assert_one_end(&events);
    Cell::Ran
}

async fn streams_reasoning_before_the_answer(wire: Wire) -> Cell {
    let Some(writes) = wire.reasoning_answer() else {
        return Cell::NotApplicable;
    };
    let (events, _server) = answer(wire, vec![wire.stream(writes)]).await;
    assert_eq!(reasoning(&events), "Let me think.");
    assert_eq!(text(&events), "Answer.");
    let first_text = events
        .iter()
        .position(|e| matches!(e, StreamEvent::Text(_)));
    let last_reasoning = events
        .iter()
        .rposition(|e| matches!(e, StreamEvent::Reasoning(_)));
    assert!(last_reasoning < first_text, "reasoning comes first");
    // Gemini counts its thoughts apart (`thoughtsTokenCount`, in the output as well);
    // the other kinds' fixtures send no such count.
    let thoughts = (wire.0 == WireKind::Gemini).then_some(40);
    let expected = usage_of(8, 42).map(|u| Usage {
        reasoning_tokens: thoughts,
        ..u
    });
    assert_eq!(usage(&events), expected);
    assert_eq!(finish(&events), Finish::Stop);
    Cell::Ran
}

async fn maps_the_kinds_finish_reasons(wire: Wire) -> Cell {
    for &(reason, expected) in wire.finishes() {
        let mut writes = wire.opening(5);
        writes.push(wire.text("partial"));
        writes.extend(wire.end(reason, 5, 1));
        let (events, _server) = answer(wire, vec![wire.stream(writes)]).await;
        assert_eq!(text(&events), "partial");
        assert_eq!(finish(&events), expected, "finish reason {reason}");
    }
    Cell::Ran
}

async fn sends_the_request_the_kind_expects(wire: Wire) -> Cell {
    let server = wire.serve(vec![wire.success(&["ok"])]);
    let mut model = wire.model(&server.url());
    // A trailing slash on the base URL changes nothing.
    model.endpoint.base_url.push('/');
    model.endpoint.headers = vec![("x-duel-test".into(), "yes".into())];
    model.system = Some("You are terse.".into());
    model.temperature = Some(0.25);
    model.top_p = Some(0.9);
    model.max_tokens = Some(256);
    for (name, value) in wire.extra() {
        model.extra.insert(name.into(), value);
    }
    let history = vec![
        Message::new(Role::User, "你好"),
        Message::new(Role::Assistant, "你好！"),
        Message::new(Role::User, "继续"),
    ];
    let events = run_model(wire, &model, history).await;
    assert_eq!(finish(&events), Finish::Stop);

    let expected = wire.full_request();
    let requests = wire.chat_requests(&server);
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, expected.path);
    for (name, value) in &expected.headers {
        assert_eq!(request.header(name), value.as_deref(), "header {name}");
    }
    assert!(
        request
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json"))
    );
    assert!(!request.path.contains(KEY), "the key stays out of the URL");
    assert_eq!(request.json(), expected.body);
    Cell::Ran
}

async fn sends_only_what_is_set(wire: Wire) -> Cell {
    let server = wire.serve(vec![wire.success(&["ok"])]);
    let mut model = wire.model(&server.url());
    if wire.key_optional() {
        model.endpoint.api_key = None;
        model.endpoint.api_key_env = None;
    }
    let events = run_model(wire, &model, ask()).await;
    assert_eq!(finish(&events), Finish::Stop);
    let expected = wire.minimal_request();
    let request = &wire.chat_requests(&server)[0];
    assert_eq!(request.path, expected.path);
    for (name, value) in &expected.headers {
        assert_eq!(request.header(name), value.as_deref(), "header {name}");
    }
    assert_eq!(request.json(), expected.body);
    Cell::Ran
}

async fn a_bad_key_names_the_env_var_and_never_the_key(wire: Wire) -> Cell {
    let bad_key = wire.bad_key();
    let server = MockServer::start(vec![bad_key.reply.clone()]);
    let mut model = wire.model(&server.url());
    if wire.0 != WireKind::Ernie {
        model.endpoint.api_key = None;
        model.endpoint.api_key_env = Some(wire.key_var());
    }
    let events = run_model(wire, &model, ask()).await;
    assert_failure(&events, &bad_key);
    let err = error(&events);
    let hint = err.hint.as_deref().unwrap_or_default();
    assert!(
        hint.contains(&wire.key_var()),
        "hint names the env var: {hint}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "auth errors are not retried");
    assert!(wire.sent_key(&requests[0]), "{:?}", requests[0]);
    Cell::Ran
}

async fn a_missing_key_fails_before_any_request(wire: Wire) -> Cell {
    if wire.0 == WireKind::Ollama {
        return Cell::NotApplicable;
    }
    let server = wire.serve(vec![wire.success(&["never"])]);
    let mut model = wire.model(&server.url());
    let var = format!("DUEL_TEST_WIRE_NEVER_SET_{}", wire.name().to_uppercase());
    model.endpoint.api_key = None;
    model.endpoint.api_key_env = Some(var.clone());
    let events = run_model(wire, &model, ask()).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::MissingKey);
    assert!(err.message.contains(&var), "{}", err.message);
    if wire.0 != WireKind::Ernie {
        let hint = err.hint.as_deref().unwrap_or_default();
        assert!(
            hint.contains(&format!("export {var}=")) && hint.contains("duel --demo"),
            "{hint}"
        );
    }
    assert!(server.requests().is_empty());
    Cell::Ran
}

async fn a_rate_limit_is_retried_after_its_wait_and_announced(wire: Wire) -> Cell {
    let (limited, status, wait) = wire.rate_limited();
    let server = wire.serve(vec![limited, wire.success(&["second ", "time"])]);
    let model = wire.model(&server.url());
    // A patient policy: a wrong wait (Gemini's header instead of its body) shows.
    let patient = RetryPolicy {
        max_wait: Duration::from_secs(30),
        ..FAST_RETRY
    };
    let started = Instant::now();
    let events = run_policy(wire, &model, ask(), patient).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(text(&events), "second time");
    assert_eq!(finish(&events), Finish::Stop);
    assert_eq!(chats(wire, &server), 2);
    assert!(
        server.requests().len() <= 3,
        "a token is fetched once at most"
    );
    // The wait is announced, so the pane can say why nothing comes yet.
    let [retry] = retries(&events)[..] else {
        panic!("one retry announced: {events:?}")
    };
    assert_eq!(
        (retry.kind, retry.status, retry.attempt, retry.of),
        (ErrorKind::RateLimit, status, 1, 2)
    );
    assert_eq!(retry.wait, wait);
    Cell::Ran
}

async fn a_huge_retry_after_is_clamped_not_a_panic(wire: Wire) -> Cell {
    let limited = Reply::json(429, r#"{"error":{"message":"slow down"}}"#)
        .with_header("retry-after", "99999999999999999999");
    let (events, _server) = answer(wire, vec![limited, wire.success(&["after all"])]).await;
    assert_eq!(text(&events), "after all");
    let waits: Vec<Duration> = retries(&events).iter().map(|r| r.wait).collect();
    assert_eq!(waits, [FAST_RETRY.max_wait]);
    Cell::Ran
}

async fn a_failure_before_text_is_sent_again(wire: Wire) -> Cell {
    for failure in wire.retried() {
        let (events, server) = answer(wire, vec![failure, wire.success(&["fine"])]).await;
        assert_eq!(text(&events), "fine");
        assert_eq!(finish(&events), Finish::Stop);
        assert_eq!(chats(wire, &server), 2);
    }
    Cell::Ran
}

async fn gives_up_after_three_server_errors(wire: Wire) -> Cell {
    let failure = wire.server_error();
    let (events, server) = answer(wire, vec![failure.reply.clone()]).await;
    assert_failure(&events, &failure);
    assert_eq!(chats(wire, &server), 3);
    Cell::Ran
}

async fn a_non_json_error_page_is_shown_shortened(wire: Wire) -> Cell {
    let page = format!("<html>{}</html>", "Bad Gateway ".repeat(100));
    let reply = Reply::raw(502, "text/html", vec![Step::Write(page.into_bytes())]);
    let (events, server) = answer(wire, vec![reply]).await;
    let err = error(&events);
    assert_eq!((err.kind, err.status), (ErrorKind::Server, Some(502)));
    assert!(
        err.message.starts_with("<html>Bad Gateway"),
        "{}",
        err.message
    );
    assert!(err.message.chars().count() <= 301, "{}", err.message.len());
    assert_eq!(chats(wire, &server), 3);
    Cell::Ran
}

async fn an_unknown_model_is_named(wire: Wire) -> Cell {
    let (failure, _) = wire.not_found("");
    let (events, server) = answer(wire, vec![failure.reply.clone()]).await;
    assert_failure(&events, &failure);
    // The hint says what to do: name the model and this server, or pull the model.
    let hint = error(&events).hint.as_deref().unwrap_or_default();
    for words in wire.not_found(&server.url()).1 {
        assert!(hint.contains(&words), "{hint}");
    }
    assert_eq!(chats(wire, &server), 1, "not retried");
    Cell::Ran
}

async fn errors_no_retry_can_fix_are_classified_and_not_retried(wire: Wire) -> Cell {
    for failure in wire.refusals() {
        let (events, server) = answer(wire, vec![failure.reply.clone()]).await;
        assert_failure(&events, &failure);
        assert_eq!(chats(wire, &server), 1, "{:?} is not retried", failure.kind);
    }
    Cell::Ran
}

async fn a_stream_cut_after_text_is_not_sent_again(wire: Wire) -> Cell {
    let mut writes = wire.opening(5);
    writes.extend([wire.text("The first half"), wire.text(" and then")]);
    let (events, server) = answer(wire, vec![wire.stream(writes)]).await;
    assert_eq!(text(&events), "The first half and then");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::CutOff);
    assert!(err.message.contains(wire.end_marker()), "{}", err.message);
    assert_eq!(chats(wire, &server), 1, "no re-send after text");
    assert_one_end(&events);
    Cell::Ran
}

async fn an_end_marker_without_a_finish_reason_is_a_cut_answer(wire: Wire) -> Cell {
    let Some((end, message)) = wire.end_without_reason() else {
        return Cell::NotApplicable;
    };
    let mut writes = wire.opening(5);
    writes.extend([wire.text("The first half"), wire.text(" and then")]);
    writes.extend(end);
    let (events, server) = answer(wire, vec![wire.stream(writes)]).await;
    assert_eq!(text(&events), "The first half and then");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::CutOff);
    assert_eq!(err.message, message);
    assert_eq!(chats(wire, &server), 1, "no re-send after text");
    assert_one_end(&events);
    Cell::Ran
}

async fn a_stream_that_sends_nothing_says_so_in_plain_words(wire: Wire) -> Cell {
    for writes in [vec![], wire.preamble()] {
        let (events, _server) = answer(wire, vec![wire.stream(writes)]).await;
        let err = error(&events);
        assert_eq!(err.kind, ErrorKind::NoAnswer, "{err}");
        assert_eq!(
            err.to_string(),
            "no answer: the server closed the stream without sending anything; \
             the prompt may be longer than the model's context"
        );
    }
    Cell::Ran
}

async fn skips_lines_that_are_not_json(wire: Wire) -> Cell {
    let mut writes = wire.opening(3);
    writes.push(wire.text("one "));
    writes.extend(wire.junk());
    writes.push(wire.text("two "));
    writes.extend(wire.junk());
    writes.push(wire.text("three"));
    writes.extend(wire.end(wire.stop(), 3, 3));
    let (events, _server) = answer(wire, vec![wire.stream(writes)]).await;
    assert_eq!(text(&events), "one two three");
    assert_eq!(finish(&events), Finish::Stop);
    Cell::Ran
}

async fn a_stream_of_only_garbage_is_malformed(wire: Wire) -> Cell {
    let garbage = vec![wire.frame("garbage"), wire.frame("more garbage")];
    let (events, server) = answer(wire, vec![wire.stream(garbage)]).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Malformed);
    let hint = err.hint.as_deref().unwrap_or_default();
    assert!(hint.contains(&server.url()), "{err:?}");
    assert_eq!(chats(wire, &server), 1);
    Cell::Ran
}

async fn invalid_utf8_keeps_the_answer_that_came_before_it(wire: Wire) -> Cell {
    // Everything in one write: the valid text and then a broken piece.
    let mut body: Vec<u8> = wire.opening(3).concat();
    body.extend(wire.text("The answer "));
    body.extend(wire.text("so far"));
    let broken = wire.text("BROKEN");
    let at = broken
        .windows(6)
        .position(|w| w == b"BROKEN")
        .expect("the piece is in its chunk");
    body.extend(&broken[..at]);
    body.extend(b"\xFF\xFE");
    body.extend(&broken[at + 6..]);
    let reply = Reply::raw(200, wire.content_type(), vec![Step::Write(body)]);
    let (events, server) = answer(wire, vec![reply]).await;
    assert_eq!(text(&events), "The answer so far");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert!(err.message.contains("not UTF-8"), "{}", err.message);
    assert_eq!(chats(wire, &server), 1);
    Cell::Ran
}

async fn an_error_inside_the_stream_after_text_ends_the_answer(wire: Wire) -> Cell {
    for (bytes, kind, message) in wire.stream_errors() {
        let mut writes = wire.opening(5);
        writes.extend([wire.text("Some text"), bytes]);
        let (events, server) = answer(wire, vec![wire.stream(writes)]).await;
        assert_eq!(text(&events), "Some text");
        let err = error(&events);
        assert_eq!(err.kind, kind, "{err:?}");
        assert!(err.message.contains(message), "{}", err.message);
        assert_eq!(chats(wire, &server), 1, "never re-sent after text");
    }
    Cell::Ran
}

async fn an_error_inside_the_stream_before_text_is_retried(wire: Wire) -> Cell {
    let Some(writes) = wire.retried_stream_error() else {
        return Cell::NotApplicable;
    };
    let (events, server) = answer(
        wire,
        vec![wire.stream(writes), wire.success(&["after a retry"])],
    )
    .await;
    assert_eq!(text(&events), "after a retry");
    assert_eq!(finish(&events), Finish::Stop);
    assert_eq!(chats(wire, &server), 2);
    Cell::Ran
}

async fn a_silent_server_times_out(wire: Wire) -> Cell {
    let mut steps: Vec<Step> = wire.opening(3).into_iter().map(Step::Write).collect();
    steps.extend([Step::Write(wire.text("Hello")), Step::Hang]);
    let server = wire.serve(vec![Reply::raw(200, wire.content_type(), steps)]);
    let mut model = wire.model(&server.url());
    model.endpoint.idle_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let events = run_model(wire, &model, ask()).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(text(&events), "Hello");
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.message.contains("0.3 s"), "{}", err.message);
    assert_eq!(chats(wire, &server), 1);
    Cell::Ran
}

async fn a_server_that_never_answers_times_out(wire: Wire) -> Cell {
    // The kernel accepts the connection, but nobody ever reads it or answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let mut model = wire.model(&url);
    model.endpoint.idle_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let events = run_model(wire, &model, ask()).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error(&events).kind, ErrorKind::Timeout);
    Cell::Ran
}

async fn a_refused_connection_is_a_network_error(wire: Wire) -> Cell {
    let model = wire.model(common::server::REFUSED);
    let events = run_model(wire, &model, ask()).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Network);
    assert!(err.message.contains("refused"), "{}", err.message);
    let hint = err.hint.as_deref().unwrap_or_default();
    assert!(hint.contains(&model.endpoint.base_url), "{err:?}");
    for words in wire.refused_hint() {
        assert!(hint.contains(words), "{hint}");
    }
    Cell::Ran
}

async fn utf8_split_across_writes_arrives_intact(wire: Wire) -> Cell {
    let chunk = wire.text("你好，世界");
    let at = chunk
        .windows(3)
        .position(|w| w == "好".as_bytes())
        .expect("the character is in the chunk");
    let mut steps: Vec<Step> = wire.opening(2).into_iter().map(Step::Write).collect();
    steps.extend([
        Step::Write(chunk[..at + 1].to_vec()),
        Step::Sleep(Duration::from_millis(10)),
        Step::Write(chunk[at + 1..at + 2].to_vec()),
        Step::Sleep(Duration::from_millis(10)),
        Step::Write(chunk[at + 2..].to_vec()),
    ]);
    steps.extend(wire.end(wire.stop(), 2, 5).into_iter().map(Step::Write));
    let reply = Reply::raw(200, wire.content_type(), steps);
    let (events, _server) = answer(wire, vec![reply]).await;
    assert_eq!(text(&events), "你好，世界");
    assert_eq!(finish(&events), Finish::Stop);
    Cell::Ran
}

async fn a_redirect_is_named_with_its_host_and_never_followed(wire: Wire) -> Cell {
    let redirect = Reply::json(302, "").with_header(
        "location",
        "https://login.example.com/sso?token=secret-in-url",
    );
    let (events, server) = answer(
        wire,
        vec![
            redirect,
            Reply::json(404, r#"{"error":{"message":"not here"}}"#),
        ],
    )
    .await;
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
    assert_eq!(chats(wire, &server), 1, "not followed, not retried");
    Cell::Ran
}

async fn a_server_that_never_stops_is_cut_at_the_answer_limit(wire: Wire) -> Cell {
    let mut steps: Vec<Step> = wire.opening(3).into_iter().map(Step::Write).collect();
    steps.push(Step::Flood(wire.text("x").repeat(64)));
    let server = wire.serve(vec![Reply::raw(200, wire.content_type(), steps)]);
    let mut model = wire.model(&server.url());
    model.max_answer_bytes = Some(100_000);
    let events = run_model(wire, &model, ask()).await;
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
    assert_eq!(chats(wire, &server), 1, "never re-sent");
    assert_one_end(&events);
    Cell::Ran
}

async fn a_page_that_is_not_a_stream_is_malformed(wire: Wire) -> Cell {
    let page = Reply::raw(
        200,
        "text/html",
        vec![Step::Write(
            b"<html><body>Please log in</body></html>".to_vec(),
        )],
    );
    let (events, _server) = answer(wire, vec![page]).await;
    let err = error(&events);
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert!(err.message.contains(wire.not_a_stream()), "{}", err.message);
    Cell::Ran
}

async fn a_whole_json_answer_is_accepted(wire: Wire) -> Cell {
    let Some(whole) = wire.whole() else {
        return Cell::NotApplicable;
    };
    let (events, _server) = answer(wire, vec![whole.reply]).await;
    assert_eq!(text(&events), whole.text);
    assert_eq!(reasoning(&events), whole.reasoning);
    assert_eq!(usage(&events), usage_of(3, 2));
    assert_eq!(finish(&events), whole.finish);
    Cell::Ran
}

/// The client ports three turns of one model came from, sent as the app sends them
/// (`reuse`: through one `Providers`), else with a provider built for each turn.
async fn ports_of_three_turns(wire: Wire, reuse: bool) -> Vec<u16> {
    let replies = (1..=3)
        .map(|turn| wire.success(&[&format!("turn {turn}")]))
        .collect();
    let server = wire.serve_keep_alive(replies);
    let model = wire.model(&server.url());
    let mut providers = duel::provider::Providers::default();
    for turn in 1..=3 {
        let events = if reuse {
            let provider = providers.get(&model);
            common::events::run_with(provider.as_ref(), &model, ask()).await
        } else {
            run_model(wire, &model, ask()).await
        };
        assert_eq!(text(&events), format!("turn {turn}"));
    }
    wire.chat_requests(&server)
        .iter()
        .map(|r| r.peer_port)
        .collect()
}

async fn turns_reuse_the_connection_of_the_first(wire: Wire) -> Cell {
    // A finished connection goes back to hyper's pool from its own task; on a machine
    // loaded by the whole suite a turn can be sent before that task ran and open a new
    // one. So three tries of three turns, one of which must keep one connection (a new
    // client each turn, as before, never does).
    let mut tries = Vec::new();
    for _ in 0..3 {
        let ports = ports_of_three_turns(wire, true).await;
        assert_eq!(ports.len(), 3);
        let one = ports.iter().all(|&p| p == ports[0]);
        tries.push(ports);
        if one {
            break;
        }
    }
    let last = tries
        .last()
        .map(|ports| ports.iter().all(|&p| p == ports[0]));
    assert_eq!(last, Some(true), "{tries:?}");
    // What duel did before: a new client each turn, so a new connection each turn.
    let ports = ports_of_three_turns(wire, false).await;
    assert!(ports[0] != ports[1] && ports[1] != ports[2], "{ports:?}");
    Cell::Ran
}

// ---- Attachments (SPEC §11) ------------------------------------------------------

/// `prompt` with `attachments` to `model`, the files kept in `data_dir`.
async fn run_attached(
    wire: Wire,
    model: &ModelSpec,
    prompt: &str,
    attachments: Vec<Attachment>,
    data_dir: &std::path::Path,
) -> Vec<StreamEvent> {
    let message = Message::new(Role::User, prompt).with_attachments(attachments);
    let req = ChatRequest::for_model(model, vec![message]).with_files(Store::new(data_dir));
    run_request(wire, model, req, FAST_RETRY).await
}

/// The messages (Gemini: contents) of the one chat request `server` got; its
/// `Content-Length` is the body's length (the files' base64 is streamed into it).
fn sent_messages(wire: Wire, server: &MockServer) -> serde_json::Value {
    let requests = wire.chat_requests(server);
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request.header("content-length"),
        Some(request.body.len().to_string().as_str())
    );
    let key = if wire.0 == WireKind::Gemini {
        "contents"
    } else {
        "messages"
    };
    request.json()[key].clone()
}

fn refused_before_sending(wire: Wire, server: &MockServer, events: &[StreamEvent], model: &str) {
    let err = error(events);
    assert_eq!(err.kind, ErrorKind::BadRequest, "{err}");
    assert!(
        err.message
            .contains(&format!("{model} takes no images: chart.png was not sent")),
        "{err}"
    );
    assert!(wire.chat_requests(server).is_empty(), "nothing was sent");
}

async fn sends_an_image_and_a_text_file_as_the_kind_spells_them(wire: Wire) -> Cell {
    let dir = tempfile::tempdir().expect("temp dir");
    let notes = files::kept(dir.path(), "notes.md", b"# Notes\nship it\n");
    let chart = files::kept(dir.path(), "chart.png", files::PNG);
    let server = wire.serve(vec![wire.success(&["ok"])]);
    let model = wire.model(&server.url());
    let events = run_attached(
        wire,
        &model,
        "what is this?",
        vec![notes, chart],
        dir.path(),
    )
    .await;
    if wire.0 == WireKind::Ernie {
        // The legacy API takes text only.
        refused_before_sending(wire, &server, &events, &model.name);
        return Cell::Ran;
    }
    assert_eq!(finish(&events), Finish::Stop);
    let b64 = STANDARD.encode(files::PNG);
    let text = "--- file: notes.md ---\n# Notes\nship it\n--- end of notes.md ---\n\nwhat is this?";
    // Each as the vendor documents it.
    let expected = match wire.0 {
        WireKind::OpenAi | WireKind::Demo => json!([{"role": "user", "content": [
            {"type": "text", "text": text},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{b64}")}},
        ]}]),
        WireKind::Anthropic => json!([{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64}},
            {"type": "text", "text": text},
        ]}]),
        WireKind::Gemini => json!([{"role": "user", "parts": [
            {"inline_data": {"mime_type": "image/png", "data": b64}},
            {"text": text},
        ]}]),
        WireKind::Ollama => json!([{"role": "user", "content": text, "images": [b64]}]),
        WireKind::Ernie => unreachable!("refused above"),
    };
    assert_eq!(sent_messages(wire, &server), expected);
    Cell::Ran
}

async fn sends_a_pdf_as_a_document_or_as_its_text(wire: Wire) -> Cell {
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf = files::pdf("Quarterly revenue grew 12 percent");
    let spec = files::kept(dir.path(), "report.pdf", &pdf);
    let server = wire.serve(vec![wire.success(&["ok"])]);
    let model = wire.model(&server.url());
    let events = run_attached(wire, &model, "summarise", vec![spec], dir.path()).await;
    assert_eq!(finish(&events), Finish::Stop);
    let b64 = STANDARD.encode(&pdf);
    let sent = sent_messages(wire, &server);
    match wire.0 {
        WireKind::Anthropic => assert_eq!(
            sent,
            json!([{"role": "user", "content": [
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64}},
                {"type": "text", "text": "summarise"},
            ]}])
        ),
        WireKind::Gemini => assert_eq!(
            sent,
            json!([{"role": "user", "parts": [
                {"inline_data": {"mime_type": "application/pdf", "data": b64}},
                {"text": "summarise"},
            ]}])
        ),
        // Elsewhere the PDF's text, under a line naming it, in a plain message.
        _ => {
            let content = sent[0]["content"].as_str().expect("plain text content");
            assert!(
                content.starts_with("--- file: report.pdf ---\n"),
                "{content}"
            );
            assert!(
                content.contains("Quarterly revenue grew 12 percent"),
                "{content}"
            );
            assert!(
                content.ends_with("--- end of report.pdf ---\n\nsummarise"),
                "{content}"
            );
        }
    }
    Cell::Ran
}

async fn an_image_to_a_model_that_takes_none_is_refused_before_sending(wire: Wire) -> Cell {
    let dir = tempfile::tempdir().expect("temp dir");
    let chart = files::kept(dir.path(), "chart.png", files::PNG);
    let server = wire.serve(vec![wire.success(&["ok"])]);
    let mut model = wire.model(&server.url());
    model.input = Some(vec![Input::Text]);
    let events = run_attached(wire, &model, "what is this?", vec![chart], dir.path()).await;
    refused_before_sending(wire, &server, &events, &model.name);
    Cell::Ran
}
