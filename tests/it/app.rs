//! The whole app without a terminal: the real run loop, real HTTP to loopback
//! servers, keys injected as messages, the screen read from ratatui's TestBackend.

use std::time::{Duration, Instant};

use crate::common;
use common::config::two_models;
use common::server::{MockServer, Reply, Step, openai_stream};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use duel::app::Msg;
use duel::app::state::{Setup, State};
use duel::config::{self, Config, LoadOptions};
use duel::domain::{AnswerState, Side, Vote};
use duel::run::run;
use duel::theme::Theme;
use duel::votes;
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

fn config(a: &str, b: &str, dir: &std::path::Path) -> Config {
    let path = dir.join("config.toml");
    let toml = two_models(a, b)
        .both("api_key = \"sk-test-headless\"\nidle_timeout_secs = 1")
        .toml();
    std::fs::write(&path, toml).expect("write config");
    config::load(&LoadOptions {
        explicit: Some(path),
    })
    .expect("config loads")
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> Msg {
    Msg::Key(KeyEvent::new(code, modifiers))
}

/// Sends the keys of `text`, then Enter.
fn send_prompt(keys: &mpsc::UnboundedSender<Msg>, text: &str) {
    for c in text.chars() {
        keys.send(key(KeyCode::Char(c), KeyModifiers::NONE))
            .expect("send key");
    }
    keys.send(key(KeyCode::Enter, KeyModifiers::NONE))
        .expect("send enter");
}

/// Waits (with a deadline) until `path` exists.
async fn wait_for_file(path: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The app on two loopback servers, driven by `drive` with the key channel; returns
/// the final state, the screen, and the data dir (kept alive by the temp dir).
async fn run_app<F, Fut>(
    a: &MockServer,
    b: &MockServer,
    drive: F,
) -> (State, String, tempfile::TempDir)
where
    F: FnOnce(mpsc::UnboundedSender<Msg>, std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut terminal = Terminal::new(TestBackend::new(100, 24)).expect("terminal");
    let (state, dir, ()) = run_app_on(&mut terminal, a, b, drive).await;
    let screen = terminal.backend().to_string();
    (state, screen, dir)
}

/// `run_app` on a terminal of the test's own; also returns what `drive` returned.
async fn run_app_on<B, F, Fut, T>(
    terminal: &mut Terminal<B>,
    a: &MockServer,
    b: &MockServer,
    drive: F,
) -> (State, tempfile::TempDir, T)
where
    B: ratatui::backend::Backend + duel::run::Frames,
    B::Error: Send + Sync + 'static,
    F: FnOnce(mpsc::UnboundedSender<Msg>, std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(&a.url(), &b.url(), dir.path());
    let data_dir = dir.path().join("data");
    let pair = ["alpha", "beta"].map(|n| config.model(n).expect("configured").clone());
    let state = State::new(&config, pair, data_dir.clone(), Setup::default());
    let (keys, input) = mpsc::unbounded_channel();
    let input = futures_util::stream::unfold(input, |mut rx| async move {
        rx.recv().await.map(|msg| (msg, rx))
    })
    .boxed();
    let driver = tokio::spawn(drive(keys, data_dir));
    let state = run(terminal, state, Theme::default(), input)
        .await
        .expect("the app runs");
    let driven = driver.await.expect("driver");
    (state, dir, driven)
}

/// The saved conversation of a run (there is one).
fn saved_conversation(data_dir: &std::path::Path) -> serde_json::Value {
    let folder = data_dir.join("conversations");
    let entry = std::fs::read_dir(&folder)
        .expect("the conversations dir")
        .next()
        .expect("a conversation file")
        .expect("a dir entry");
    serde_json::from_slice(&std::fs::read(entry.path()).expect("read it")).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_turn_with_a_failing_side_and_a_vote() {
    let a = MockServer::start(vec![Reply::sse(&openai_stream(
        &["Rust ", "is ", "memory-safe."],
        9,
        3,
    ))]);
    // B breaks off mid-answer: the partial text stays and the pane says it was cut.
    let b = MockServer::start(vec![Reply::raw(
        200,
        "text/event-stream",
        vec![Step::Write(
            b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Half an\"}}]}\n\n".to_vec(),
        )],
    )]);
    let (state, screen, dir) = run_app(&a, &b, |keys, data_dir| async move {
        send_prompt(&keys, "Is Rust safe?");
        // The conversation file appears once both sides have ended.
        wait_for_file(&data_dir.join("conversations")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys.send(key(KeyCode::Char('1'), KeyModifiers::ALT))
            .expect("vote");
        wait_for_file(&data_dir.join("votes.jsonl")).await;
        keys.send(key(KeyCode::Char('q'), KeyModifiers::CONTROL))
            .expect("quit");
    })
    .await;
    let data_dir = dir.path().join("data");

    let turn = &state.turns[0];
    assert_eq!(turn.answer(Side::A).text, "Rust is memory-safe.");
    assert_eq!(turn.answer(Side::B).text, "Half an");
    let AnswerState::Failed(error) = &turn.answer(Side::B).state else {
        panic!("B should have failed: {:?}", turn.answer(Side::B).state);
    };
    assert_eq!(error.kind, duel::provider::ErrorKind::CutOff);
    assert_eq!(turn.vote, Some(Vote::A));
    assert_eq!(
        b.requests().len(),
        1,
        "a stream that broke after text is never re-sent"
    );

    assert!(screen.contains("Rust is memory-safe."), "{screen}");
    assert!(screen.contains("answer cut off"), "{screen}");
    // The write was confirmed before duel ended (it may not have reached a frame).
    let status = state.status.as_ref().map_or("", |s| s.text.as_str());
    assert!(status.contains("vote saved"), "{status}");
    assert!(state.unsaved.is_empty());

    let (records, _) = votes::log::read(&data_dir.join("votes.jsonl")).expect("log");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].b.finish, duel::provider::Finish::Error);
    assert_eq!(records[0].b.answer, "Half an");
    assert!(
        records[0]
            .b
            .error
            .as_deref()
            .expect("error text")
            .contains("cut off")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_right_after_a_vote_still_records_it_in_the_conversation() {
    let a = MockServer::start(vec![Reply::sse(&openai_stream(&["Yes."], 4, 1))]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(&["No."], 4, 1))]);
    let (state, _, dir) = run_app(&a, &b, |keys, data_dir| async move {
        send_prompt(&keys, "Quick?");
        wait_for_file(&data_dir.join("conversations")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The vote and the quit arrive together: the write cannot have reported back.
        keys.send(key(KeyCode::Char('2'), KeyModifiers::ALT))
            .expect("vote");
        keys.send(key(KeyCode::Char('q'), KeyModifiers::CONTROL))
            .expect("quit");
    })
    .await;
    let data_dir = dir.path().join("data");
    assert!(state.unsaved.is_empty());
    let (records, _) = votes::log::read(&data_dir.join("votes.jsonl")).expect("log");
    assert_eq!(records.len(), 1);
    // `--resume` must show the turn as voted, or it could be voted on twice.
    let saved = saved_conversation(&data_dir);
    assert!(!saved["turns"][0]["vote"].is_null(), "{saved}");
}

/// Waits (with a deadline) until the saved conversation holds `turns` ended turns.
async fn wait_for_turns(data_dir: &std::path::Path, turns: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let folder = data_dir.join("conversations");
    loop {
        let saved = std::fs::read_dir(&folder)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| std::fs::read(entry.path()).ok())
            .filter_map(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .any(|file| file["turns"].as_array().is_some_and(|t| t.len() >= turns));
        if saved {
            return;
        }
        assert!(Instant::now() < deadline, "{turns} turns never saved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_turn_goes_over_the_connection_of_the_first() {
    let replies = || {
        MockServer::keep_alive(vec![
            Reply::sse(&openai_stream(&["One."], 4, 1)),
            Reply::sse(&openai_stream(&["Two."], 4, 1)),
        ])
    };
    let (a, b) = (replies(), replies());
    let (state, _, _dir) = run_app(&a, &b, |keys, data_dir| async move {
        send_prompt(&keys, "first");
        wait_for_turns(&data_dir, 1).await;
        // As a user reads the answer before typing the next prompt: the body's end
        // (read after the answer shows done) is in by then even on a loaded machine,
        // where the 250 ms the next prompt would wait for it may not be enough.
        tokio::time::sleep(Duration::from_millis(500)).await;
        send_prompt(&keys, "second");
        wait_for_turns(&data_dir, 2).await;
        keys.send(key(KeyCode::Char('q'), KeyModifiers::CONTROL))
            .expect("quit");
    })
    .await;
    assert_eq!(state.turns[1].answer(Side::A).text, "Two.");
    for server in [&a, &b] {
        let ports: Vec<u16> = server.requests().iter().map(|r| r.peer_port).collect();
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[0], ports[1], "a new connection for turn 2");
    }
}

/// A TestBackend that counts how often it is asked its size.
struct Counting {
    inner: TestBackend,
    sizes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ratatui::backend::Backend for Counting {
    type Error = <TestBackend as ratatui::backend::Backend>::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a ratatui::buffer::Cell)>,
    {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<ratatui::layout::Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<ratatui::layout::Position>>(
        &mut self,
        position: P,
    ) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, kind: ratatui::backend::ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(kind)
    }
    fn size(&self) -> Result<ratatui::layout::Size, Self::Error> {
        self.sizes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<ratatui::backend::WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

impl duel::run::Frames for Counting {
    fn begin_frame(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    fn end_frame(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_never_asks_the_terminal_its_size_only_a_resize_changes_it() {
    let pieces: Vec<String> = (0..60).map(|i| format!("word{i} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let a = MockServer::start(vec![Reply::sse(&openai_stream(&pieces, 4, 60))]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(&pieces, 4, 60))]);
    let sizes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let backend = Counting {
        inner: TestBackend::new(100, 24),
        sizes: std::sync::Arc::clone(&sizes),
    };
    let mut terminal = duel::run::fixed_terminal(backend).expect("terminal");
    let asked = std::sync::Arc::clone(&sizes);
    let (state, _dir, before_resize) =
        run_app_on(&mut terminal, &a, &b, |keys, data_dir| async move {
            send_prompt(&keys, "count the words");
            wait_for_turns(&data_dir, 1).await;
            let before_resize = asked.load(std::sync::atomic::Ordering::SeqCst);
            keys.send(Msg::Resize(80, 20)).expect("resize");
            tokio::time::sleep(Duration::from_millis(100)).await;
            keys.send(key(KeyCode::Char('q'), KeyModifiers::CONTROL))
                .expect("quit");
            before_resize
        })
        .await;
    assert!(state.turns[0].answer(Side::A).text.contains("word59"));
    // Once when the terminal was made: every frame of the streamed turn drew without
    // asking the terminal its size. The resize's clear may ask once more.
    assert_eq!(before_resize, 1);
    assert!(sizes.load(std::sync::atomic::Ordering::SeqCst) <= 2);
    assert_eq!(
        terminal.get_frame().area(),
        ratatui::layout::Rect::new(0, 0, 80, 20)
    );
}
