//! End to end: the real binary in a pseudo-terminal, against loopback servers that
//! speak the OpenAI streaming format.

use std::time::Duration;

use crate::common;
use common::config::two_models;
use common::server::{MockServer, Reply, Step, openai_chunk, openai_stream, sse_event};
use common::tui::{SIZES, Sandbox, Tui};
use duel::domain::Vote;
use duel::votes;

const WAIT: Duration = Duration::from_secs(15);

/// A config with two models, each on its own loopback server.
fn config(a_url: &str, b_url: &str) -> String {
    two_models(a_url, b_url)
        .sections("[arena]\njudge = \"pty-judge\"\n")
        .left("api_key_env = \"DUEL_TEST_LEFT_KEY\"\nidle_timeout_secs = 2")
        .right("api_key_env = \"DUEL_TEST_RIGHT_KEY\"\nidle_timeout_secs = 2")
        .model_ids()
        .toml()
}

/// The binary on a config with two models on two loopback servers, keys set.
fn spawn_pair(sandbox: &Sandbox, toml: &str, args: &[&str]) -> Tui {
    spawn_pair_sized(sandbox, toml, args, (common::tui::ROWS, common::tui::COLS))
}

/// `spawn_pair` on a terminal of (rows, columns).
fn spawn_pair_sized(sandbox: &Sandbox, toml: &str, args: &[&str], size: (u16, u16)) -> Tui {
    let config = sandbox.write_config(toml);
    let mut all = vec!["--config", config.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let mut cmd = sandbox.command(&all);
    cmd.env("DUEL_TEST_LEFT_KEY", "sk-test-left");
    cmd.env("DUEL_TEST_RIGHT_KEY", "sk-test-right");
    Tui::spawn_sized(cmd, size.0, size.1)
}

/// Types `prompt`, sends it, and waits until both panes are done.
fn ask_and_wait(tui: &mut Tui, prompt: &str) {
    tui.type_text(prompt);
    tui.send(b"\r");
    tui.wait_until("both answers done", WAIT, |s| {
        s.matches(" done ").count() == 2
    });
}

#[test]
fn prompt_streams_into_both_panes_and_the_vote_lands_on_disk() {
    let a = MockServer::start(vec![Reply::sse(&openai_stream(
        &["Alpha says ", "hello ", "你好世界"],
        11,
        5,
    ))]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(
        &["Beta ", "answers ", "too 👍"],
        11,
        3,
    ))]);
    let sandbox = Sandbox::new();
    let mut tui = spawn_pair(&sandbox, &config(&a.url(), &b.url()), &[]);

    tui.wait_for("A · alpha", WAIT);
    tui.wait_for("B · beta", WAIT);
    tui.type_text("hi there");
    tui.send(b"\r");
    tui.wait_for("Alpha says hello 你好世界", WAIT);
    tui.wait_for("Beta answers too 👍", WAIT);
    tui.wait_until("both panes done", WAIT, |s| {
        s.matches(" done ").count() == 2
    });
    assert!(
        tui.screen().contains("› hi there"),
        "the prompt shows in the panes"
    );

    // Alt+1: A is better.
    tui.send(b"\x1b1");
    tui.wait_for("vote saved: A is better", WAIT);

    let (records, skipped) =
        votes::log::read(&sandbox.data_dir().join("votes.jsonl")).expect("read the vote log");
    assert!(skipped.is_empty());
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.vote, Vote::A);
    assert_eq!(record.prompt, "hi there");
    assert_eq!(record.judge, "pty-judge");
    assert_eq!(record.turn, 1);
    assert_eq!(record.a.model, "alpha");
    assert_eq!(record.a.model_id, "alpha-1");
    assert_eq!(record.a.answer, "Alpha says hello 你好世界");
    assert_eq!(record.b.answer, "Beta answers too 👍");
    assert_eq!(record.a.output_tokens, Some(5));
    assert!(
        !serde_json::to_string(record)
            .expect("json")
            .contains("sk-test")
    );

    // The conversation was saved too.
    let conversations = sandbox.data_dir().join("conversations");
    let saved: Vec<_> = std::fs::read_dir(&conversations)
        .expect("conversations dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(saved.len(), 1);

    // Each side got the prompt with its own key.
    let sent = &a.requests()[0];
    assert_eq!(sent.header("authorization"), Some("Bearer sk-test-left"));
    assert_eq!(sent.json()["model"], "alpha-1");
    assert_eq!(
        b.requests()[0].header("authorization"),
        Some("Bearer sk-test-right")
    );

    tui.send(b"\x11"); // Ctrl+Q
    assert_eq!(tui.wait_exit(WAIT), 0);
    assert_restored(&tui);
}

#[test]
fn a_hung_model_times_out_in_its_pane_while_the_other_finishes() {
    let a = MockServer::start(vec![Reply::sse(&openai_stream(&["Fine ", "answer"], 4, 2))]);
    let b = MockServer::start(vec![Reply::raw(200, "text/event-stream", vec![Step::Hang])]);
    let sandbox = Sandbox::new();
    let mut tui = spawn_pair(&sandbox, &config(&a.url(), &b.url()), &[]);
    tui.wait_for("A · alpha", WAIT);
    tui.type_text("go");
    tui.send(b"\r");
    tui.wait_until("A done and B timed out", WAIT, |s| {
        s.contains("Fine answer") && s.contains(" done ") && s.contains("timed out")
    });
    // Both ended, so the turn can be voted on: B failed, A is better.
    tui.send(b"\x1b1");
    tui.wait_for("vote saved", WAIT);
    let (records, _) = votes::log::read(&sandbox.data_dir().join("votes.jsonl")).expect("log");
    assert_eq!(records[0].b.finish, duel::provider::Finish::Error);
    assert!(
        records[0]
            .b
            .error
            .as_deref()
            .unwrap_or("")
            .contains("timed out")
    );
    tui.send(b"\x03"); // Ctrl+C with nothing streaming quits
    assert_eq!(tui.wait_exit(WAIT), 0);
    assert_restored(&tui);
}

#[test]
fn missing_keys_are_explained_in_the_panes_on_first_run() {
    let sandbox = Sandbox::new();
    // No config file and no keys: the built-in Qwen-vs-ERNIE pair.
    let mut tui = Tui::spawn(sandbox.command(&[]));
    tui.wait_for("DASHSCOPE_API_KEY", WAIT);
    tui.wait_for("QIANFAN_API_KEY", WAIT);
    tui.wait_for("duel --demo", WAIT);
    tui.send(b"\x11");
    assert_eq!(tui.wait_exit(WAIT), 0);
}

#[test]
fn a_broken_config_exits_2_before_the_screen_changes() {
    let sandbox = Sandbox::new();
    let config = sandbox.write_config("[pair]\na = \"x\"\nb = = 1\n");
    let mut tui = Tui::spawn(sandbox.command(&["--config", config.to_str().expect("path")]));
    assert_eq!(tui.wait_exit(WAIT), 2);
    let screen = tui.screen();
    assert!(
        screen.contains("config.toml:3:"),
        "names file and line: {screen}"
    );
    tui.with_screen(|s| assert!(!s.alternate_screen()));
}

#[test]
fn the_demo_runs_offline() {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command(&["--demo"]);
    cmd.env("DUEL_DEMO_DELAY_MS", "1");
    let mut tui = Tui::spawn(cmd);
    tui.wait_for("offline demo", WAIT);
    ask_and_wait(&mut tui, "What is Rust?");
    tui.send(b"\x1b"); // Esc: browse mode
    tui.wait_for("BROWSE", WAIT);
    tui.send(b"3");
    tui.wait_for("vote saved to demo-votes.jsonl: a tie (turn 1)", WAIT);
    tui.send(b"q");
    assert_eq!(tui.wait_exit(WAIT), 0);
    // The demo's vote is kept apart: the real log and leaderboard never see it.
    let data = sandbox.data_dir();
    let (demo, _) = votes::log::read(&data.join(votes::log::DEMO_FILE_NAME)).expect("log");
    assert_eq!(demo.len(), 1);
    assert!(demo[0].is_demo());
    assert!(!data.join(votes::log::FILE_NAME).exists());
}

/// The terminal is back to normal: main screen, cursor visible, mouse reporting and
/// bracketed paste off.
fn assert_restored(tui: &Tui) {
    tui.with_screen(|screen| {
        assert!(!screen.alternate_screen(), "the alternate screen is left");
        assert!(!screen.hide_cursor(), "the cursor is shown again");
        assert!(!screen.bracketed_paste(), "bracketed paste is off");
        assert_eq!(
            screen.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse reporting is off"
        );
    });
    // Every synchronized frame that began also ended: a terminal left in mode 2026
    // would stop painting.
    let output = tui.output();
    let count = |marker: &[u8]| {
        output
            .windows(marker.len())
            .filter(|w| *w == marker)
            .count()
    };
    let (begun, ended) = (count(b"\x1b[?2026h"), count(b"\x1b[?2026l"));
    assert!(ended >= begun, "{begun} frames begun, {ended} ended");
}

#[test]
fn the_tui_turns_mouse_and_paste_modes_and_synchronized_frames_on() {
    let sandbox = Sandbox::new();
    let mut tui = Tui::spawn(sandbox.command(&["--demo"]));
    tui.wait_for("offline demo", WAIT);
    tui.with_screen(|screen| {
        assert!(screen.bracketed_paste());
        assert_ne!(screen.mouse_protocol_mode(), vt100::MouseProtocolMode::None);
    });
    // Frames are drawn as synchronized updates, so a terminal paints each one whole.
    let output = tui.output();
    assert!(output.windows(8).any(|w| w == b"\x1b[?2026h"));

    tui.send(b"\x11");
    assert_eq!(tui.wait_exit(WAIT), 0);
    assert_restored(&tui);
}

#[test]
fn sigterm_leaves_cleanly_and_restores_the_terminal() {
    let sandbox = Sandbox::new();
    let mut tui = Tui::spawn(sandbox.command(&["--demo"]));
    tui.wait_for("offline demo", WAIT);
    tui.with_screen(|s| assert!(s.alternate_screen()));
    tui.signal("TERM");
    assert_eq!(tui.wait_exit(WAIT), 0);
    assert_restored(&tui);
}

#[test]
fn sigint_idle_or_streaming_restores_the_terminal_and_exits_130() {
    for streaming in [false, true] {
        let sandbox = Sandbox::new();
        let mut cmd = sandbox.command(&["--demo"]);
        // Slow enough that the answers are still streaming when the signal comes.
        cmd.env("DUEL_DEMO_DELAY_MS", "50");
        let mut tui = Tui::spawn(cmd);
        tui.wait_for("offline demo", WAIT);
        if streaming {
            tui.type_text("keep going");
            tui.send(b"\r");
            tui.wait_for("streaming", WAIT);
        }
        tui.signal("INT");
        assert_eq!(tui.wait_exit(WAIT), 130, "streaming: {streaming}");
        assert_restored(&tui);
    }
}

#[test]
fn a_flooding_server_is_cut_at_the_limit_while_typing_stays_live() {
    // Pane A's server sends one-character chunks without end, as fast as duel reads.
    let a = MockServer::start(vec![Reply::raw(
        200,
        "text/event-stream",
        vec![Step::Flood(sse_event(&openai_chunk("x")).repeat(256))],
    )]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(&["calm ", "answer"], 2, 2))]);
    let sandbox = Sandbox::new();
    let mut tui = spawn_pair(&sandbox, &config(&a.url(), &b.url()), &[]);
    tui.wait_for("A · alpha", WAIT);
    tui.type_text("flood me");
    tui.send(b"\r");
    tui.type_text("typed during the flood");
    tui.wait_for("typed during the flood", WAIT);
    tui.wait_for("calm answer", WAIT);
    // A debug build reads 2 MiB of one-character events slowly on a loaded machine.
    tui.wait_until("pane A cut at the limit", 4 * WAIT, |s| {
        s.contains(" cut off ")
    });
    tui.wait_for("limit of 2 MiB per", WAIT);
    // The answer is capped at 2 MiB: memory stays bounded, far below what an
    // endless stream would take.
    let peak = tui.peak_memory_mb();
    assert!(peak < 400, "peak RSS {peak} MB");
    tui.send(b"\x11");
    assert_eq!(tui.wait_exit(WAIT), 0);
    let saved = std::fs::read_dir(sandbox.data_dir().join("conversations"))
        .expect("saved")
        .next()
        .expect("one file")
        .expect("entry")
        .path();
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(saved).expect("read")).expect("JSON");
    let answer = file["turns"][0]["a"]["answer"].as_str().expect("answer");
    assert_eq!(answer.len(), 2 * 1024 * 1024, "kept up to the limit");
    assert_eq!(file["turns"][0]["a"]["finish"], "error");
}

#[test]
fn a_panic_restores_the_terminal() {
    for (switch, why) in [("1", "on the main thread"), ("task", "in a task")] {
        let sandbox = Sandbox::new();
        let mut cmd = sandbox.command(&["--demo"]);
        cmd.env("DUEL_DEBUG_PANIC", switch);
        let mut tui = Tui::spawn(cmd);
        assert_eq!(tui.wait_exit(WAIT), 101, "{why}");
        assert_restored(&tui);
        let screen = tui.screen();
        let crash = sandbox.data_dir().join("duel-crash.log");
        assert!(
            screen.contains("duel: internal error, sorry: DUEL_DEBUG_PANIC is set; details in"),
            "{why}: one line says what happened and where the details are:\n{screen}"
        );
        assert!(
            !screen.contains("backtrace"),
            "{why}: no backtrace on screen:\n{screen}"
        );
        let report = std::fs::read_to_string(&crash).expect("the crash report");
        assert!(report.contains("DUEL_DEBUG_PANIC is set"), "{report}");
    }
}

#[test]
fn blind_mode_shows_no_name_on_screen_before_the_vote() {
    let a = MockServer::start(vec![Reply::sse(&openai_stream(
        &["First ", "answer"],
        2,
        2,
    ))]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(
        &["Second ", "answer"],
        2,
        2,
    ))]);
    let sandbox = Sandbox::new();
    let mut tui = spawn_pair(&sandbox, &config(&a.url(), &b.url()), &["--blind"]);
    tui.wait_for("Model A", WAIT);
    tui.type_text("who?");
    tui.send(b"\r");
    tui.wait_for("First answer", WAIT);
    tui.wait_for("Second answer", WAIT);
    tui.wait_until("both panes done", WAIT, |s| {
        s.matches(" done ").count() == 2
    });
    let screen = tui.screen();
    for name in ["alpha", "beta", "left", "right"] {
        assert!(
            !screen.contains(name),
            "{name} shows before the vote:\n{screen}"
        );
    }
    tui.send(b"\x1b3");
    tui.wait_for("vote saved: a tie", WAIT);
    let screen = tui.screen();
    assert!(
        screen.contains("alpha") && screen.contains("beta"),
        "revealed after the vote:\n{screen}"
    );
    let (records, _) = votes::log::read(&sandbox.data_dir().join("votes.jsonl")).expect("log");
    assert!(records[0].blind);
    assert_eq!(records[0].vote, Vote::Tie);
    tui.send(b"\x11");
    assert_eq!(tui.wait_exit(WAIT), 0);
}

#[test]
fn a_vote_that_cannot_be_written_is_never_dropped() {
    let sandbox = Sandbox::new();
    // A directory where the log should be: every write fails.
    std::fs::create_dir_all(sandbox.data_dir().join(votes::log::DEMO_FILE_NAME))
        .expect("block the log");
    let mut cmd = sandbox.command(&["--demo"]);
    cmd.env("DUEL_DEMO_DELAY_MS", "1");
    let mut tui = Tui::spawn(cmd);
    tui.wait_for("offline demo", WAIT);
    ask_and_wait(&mut tui, "keep my vote");
    tui.send(b"\x1b2");
    tui.wait_for("vote NOT saved yet", WAIT);
    tui.send(b"\x11");
    assert_eq!(
        tui.wait_exit(WAIT),
        1,
        "quitting with an unwritten vote is a failure"
    );
    let screen = tui.screen();
    assert!(screen.contains("could not be written"), "{screen}");
    assert!(
        screen.contains("\"vote\":\"b\""),
        "the record itself is printed: {screen}"
    );
}

/// Everything both panes hold, screen by screen from the top (browse mode, the
/// panes scrolled together a page at a time until the screen stops changing).
/// Call it in browse mode.
fn every_screen_from_the_top(tui: &mut Tui) -> String {
    tui.send(b"S");
    tui.wait_for("SYNC", WAIT);
    tui.send(b"g");
    std::thread::sleep(Duration::from_millis(300));
    let mut screens = vec![tui.screen()];
    for _ in 0..30 {
        tui.send(b"\x1b[6~"); // PageDown
        std::thread::sleep(Duration::from_millis(200));
        let screen = tui.screen();
        if screens.last() == Some(&screen) {
            break;
        }
        screens.push(screen);
    }
    screens.join("\n")
}

#[test]
fn a_blind_demo_names_neither_model_before_the_vote_and_both_reason() {
    for (rows, cols) in SIZES {
        let sandbox = Sandbox::new();
        let mut cmd = sandbox.command(&["--demo", "--blind"]);
        cmd.env("DUEL_DEMO_DELAY_MS", "0");
        let mut tui = Tui::spawn_sized(cmd, rows, cols);
        tui.wait_for("Model A", WAIT);
        ask_and_wait(&mut tui, "Why is the sky blue?");
        tui.send(b"\x1b"); // Esc: browse mode
        tui.wait_for("BROWSE", WAIT);
        let seen = every_screen_from_the_top(&mut tui);
        for name in ["demo-brisk", "demo-thoughtful", "brisk", "thoughtful"] {
            assert!(
                !seen.contains(name),
                "{name} shows before the vote at {cols}×{rows}:\n{seen}"
            );
        }
        let top = seen.split('\n').take(usize::from(rows)).collect::<Vec<_>>();
        let top = top.join("\n");
        assert_eq!(
            top.matches("▸ thought for").count(),
            2,
            "both demo models reason at {cols}×{rows}:\n{top}"
        );
        tui.send(b"3");
        tui.wait_for("vote saved", WAIT);
        tui.send(b"q");
        assert_eq!(tui.wait_exit(WAIT), 0);
    }
}

/// The rows of the screen's last `n` lines joined by spaces, runs of spaces as one:
/// a status that wraps reads as one line.
fn last_lines_flat(screen: &str, n: usize) -> String {
    let lines: Vec<&str> = screen.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_regenerated_turn_keeps_each_attempts_vote_on_screen_on_disk_and_in_history() {
    for (rows, cols) in SIZES {
        let sandbox = Sandbox::new();
        let mut cmd = sandbox.command(&["--demo"]);
        cmd.env("DUEL_DEMO_DELAY_MS", "0");
        let mut tui = Tui::spawn_sized(cmd, rows, cols);
        tui.wait_for("offline demo", WAIT);
        ask_and_wait(&mut tui, "Why is the sky blue?");
        tui.send(b"\x1b"); // Esc: browse mode
        tui.wait_for("BROWSE", WAIT);
        tui.send(b"1");
        tui.wait_until("the first vote saved", WAIT, |s| {
            last_lines_flat(s, 3).contains("A is better (turn 1)")
        });
        tui.send(b"r");
        // The conversation is saved once both answers of the new attempt have ended.
        let conversations = sandbox.data_dir().join("conversations");
        tui.wait_until("the second attempt done and saved", WAIT, |s| {
            let saved = std::fs::read_dir(&conversations)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .any(|text| text.contains("\"attempt\": 2"));
            saved && s.matches(" done ").count() == 2
        });
        tui.send(b"2");
        tui.wait_until("the second vote saved, naming its attempt", WAIT, |s| {
            last_lines_flat(s, 3).contains("B is better (turn 1, attempt 2)")
        });
        let seen = every_screen_from_the_top(&mut tui);
        assert!(
            seen.contains("✓ voted: A (demo-brisk)"),
            "attempt 1 keeps its vote at {cols}×{rows}:\n{seen}"
        );
        assert!(
            seen.contains("✓ voted: B ("),
            "attempt 2 shows its vote at {cols}×{rows}:\n{seen}"
        );
        tui.send(b"q");
        assert_eq!(tui.wait_exit(WAIT), 0);
        let goodbye = tui.screen();
        assert!(
            goodbye.contains("2 votes in the last conversation"),
            "every attempt's vote counts: {goodbye}"
        );

        let (demo, _) =
            votes::log::read(&sandbox.data_dir().join(votes::log::DEMO_FILE_NAME)).expect("log");
        let attempts: Vec<u32> = demo.iter().map(|r| r.attempt).collect();
        assert_eq!(attempts, [1, 2]);
        let (code, out, err) = common::cli::run(&mut common::cli::duel(
            sandbox.path(),
            &["history", "--json"],
        ));
        assert_eq!(code, 0, "{err}");
        let rows: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(rows[0]["votes"], 2, "{out}");
    }
}

#[test]
fn a_blind_reveal_is_never_cut() {
    for (rows, cols) in SIZES {
        let sandbox = Sandbox::new();
        let mut cmd = sandbox.command(&["--demo", "--blind"]);
        cmd.env("DUEL_DEMO_DELAY_MS", "0");
        let mut tui = Tui::spawn_sized(cmd, rows, cols);
        tui.wait_for("Model A", WAIT);
        ask_and_wait(&mut tui, "Why is the sky blue?");
        tui.send(b"\x1b1");
        tui.wait_for("vote saved", WAIT);
        std::thread::sleep(Duration::from_millis(200));
        let status = last_lines_flat(&tui.screen(), 3);
        let whole = [
            "A was demo-brisk, B was demo-thoughtful",
            "A was demo-thoughtful, B was demo-brisk",
        ];
        assert!(
            whole.iter().any(|w| status.contains(w)),
            "the reveal is cut at {cols}×{rows}: {status}\n{}",
            tui.screen()
        );
        tui.send(b"\x11");
        assert_eq!(tui.wait_exit(WAIT), 0);
    }
}

#[test]
fn a_demo_battle_hides_the_names() {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command(&["--demo", "--battle"]);
    cmd.env("DUEL_DEMO_DELAY_MS", "1");
    let mut tui = Tui::spawn(cmd);
    tui.wait_for("Battle: two models drawn at random", WAIT);
    assert!(!tui.screen().contains("demo-"), "{}", tui.screen());
    tui.send(b"\x11");
    assert_eq!(tui.wait_exit(WAIT), 0);
}

/// Claude's Messages stream, as Anthropic sends it: named events, `message_stop` last.
fn anthropic_stream(pieces: &[&str]) -> Vec<u8> {
    let mut out = String::new();
    let mut event = |name: &str, data: serde_json::Value| {
        out.push_str(&format!("event: {name}\ndata: {data}\n\n"));
    };
    event(
        "message_start",
        serde_json::json!({"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "claude-mock",
        "stop_reason": null, "usage": {"input_tokens": 12, "output_tokens": 1}}}),
    );
    event(
        "content_block_start",
        serde_json::json!({"type": "content_block_start", "index": 0,
        "content_block": {"type": "text", "text": ""}}),
    );
    for piece in pieces {
        event(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": piece}}),
        );
    }
    event(
        "content_block_stop",
        serde_json::json!({"type": "content_block_stop", "index": 0}),
    );
    event(
        "message_delta",
        serde_json::json!({"type": "message_delta",
        "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 6}}),
    );
    event("message_stop", serde_json::json!({"type": "message_stop"}));
    out.into_bytes()
}

/// Gemini's `alt=sse` stream: CRLF framing, the end is EOF after a `finishReason`.
fn gemini_stream(pieces: &[&str]) -> Vec<u8> {
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        let mut candidate = serde_json::json!({"content": {"parts": [{"text": piece}], "role": "model"}, "index": 0});
        if i + 1 == pieces.len() {
            candidate["finishReason"] = "STOP".into();
        }
        let chunk = serde_json::json!({"candidates": [candidate],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 4, "totalTokenCount": 9}});
        out.push_str(&format!("data: {chunk}\r\n\r\n"));
    }
    out.into_bytes()
}

#[test]
fn two_panes_on_two_different_wire_kinds() {
    let claude = MockServer::start(vec![Reply::raw(
        200,
        "text/event-stream",
        vec![Step::Write(anthropic_stream(&["Claude ", "says ", "hi"]))],
    )]);
    let gemini = MockServer::start(vec![Reply::raw(
        200,
        "text/event-stream",
        vec![Step::Write(gemini_stream(&["Gemini ", "says ", "你好"]))],
    )]);
    let sandbox = Sandbox::new();
    let config = sandbox.write_config(&format!(
        r#"
[pair]
a = "claude"
b = "gemini"

[providers.anthropic]
base_url = "{}"

[providers.gemini]
base_url = "{}"

[[models]]
name = "claude"
provider = "anthropic"
model = "claude-mock"

[[models]]
name = "gemini"
provider = "gemini"
model = "gemini-mock"
"#,
        claude.url(),
        gemini.url()
    ));
    let mut cmd = sandbox.command(&["--config", config.to_str().expect("utf-8 path")]);
    cmd.env("ANTHROPIC_API_KEY", "sk-ant-test");
    cmd.env("GEMINI_API_KEY", "gm-test");
    let mut tui = Tui::spawn(cmd);
    tui.wait_for("A · claude", WAIT);
    tui.type_text("hello");
    tui.send(b"\r");
    tui.wait_for("Claude says hi", WAIT);
    tui.wait_for("Gemini says 你好", WAIT);
    tui.wait_until("both panes done", WAIT, |s| {
        s.matches(" done ").count() == 2
    });
    tui.send(b"\x1b2");
    tui.wait_for("vote saved: B is better", WAIT);
    let (records, _) = votes::log::read(&sandbox.data_dir().join("votes.jsonl")).expect("log");
    assert_eq!(records[0].a.provider, "anthropic");
    assert_eq!(records[0].a.output_tokens, Some(6));
    assert_eq!(records[0].b.answer, "Gemini says 你好");
    assert_eq!(
        claude.requests()[0].header("x-api-key"),
        Some("sk-ant-test")
    );
    assert!(
        gemini.requests()[0]
            .path
            .contains("gemini-mock:streamGenerateContent?alt=sse")
    );
    tui.send(b"\x11");
    assert_eq!(tui.wait_exit(WAIT), 0);
}

#[test]
fn picker_regenerate_swap_and_layout_from_the_keyboard() {
    // The second reply differs, so the test can tell the regenerated answers apart.
    let left = MockServer::start(vec![
        Reply::sse(&openai_stream(&["left answer"], 1, 2)),
        Reply::sse(&openai_stream(&["left again"], 1, 2)),
    ]);
    let right = MockServer::start(vec![
        Reply::sse(&openai_stream(&["right answer"], 1, 2)),
        Reply::sse(&openai_stream(&["right again"], 1, 2)),
    ]);
    let sandbox = Sandbox::new();
    let mut toml = config(&left.url(), &right.url());
    toml.push_str("\n[[models]]\nname = \"gamma\"\nprovider = \"left\"\nmodel = \"gamma-1\"\n");
    let mut tui = spawn_pair(&sandbox, &toml, &[]);
    tui.wait_for("A · alpha", WAIT);

    // Ctrl+P: pick gamma for pane A; the next answer comes from it.
    tui.send(b"\x10");
    tui.wait_for("Model for pane A", WAIT);
    tui.type_text("gam");
    tui.send(b"\r");
    tui.wait_for("A · gamma", WAIT);
    tui.type_text("hello");
    tui.send(b"\r");
    tui.wait_until("both panes done", WAIT, |s| {
        s.matches(" done ").count() == 2
    });
    assert_eq!(left.requests()[0].json()["model"], "gamma-1");
    tui.send(b"\x1b1");
    tui.wait_for("vote saved", WAIT);
    let (records, _) = votes::log::read(&sandbox.data_dir().join("votes.jsonl")).expect("log");
    assert_eq!(records[0].a.model, "gamma");
    assert_eq!(records[0].a.model_id, "gamma-1");

    // Browse mode: r sends the last prompt to both sides again.
    tui.send(b"\x1b");
    tui.wait_for("BROWSE", WAIT);
    tui.send(b"r");
    assert!(left.wait_for_requests(2, WAIT) && right.wait_for_requests(2, WAIT));
    // The same prompt with the same (empty) history: the turn is replaced, not added to.
    assert_eq!(
        left.requests()[1].json()["messages"],
        left.requests()[0].json()["messages"]
    );
    tui.wait_until("both regenerated answers done", WAIT, |s| {
        s.contains("left again") && s.contains("right again") && s.matches(" done ").count() == 2
    });

    // Still in browse mode: s swaps the models between the panes.
    tui.send(b"s");
    tui.wait_for("A · beta", WAIT);
    tui.wait_for("B · gamma", WAIT);

    // L stacks the panes: B's title moves below A's.
    let title_row = |tui: &Tui, title: &str| {
        tui.screen()
            .lines()
            .position(|l| l.contains(title))
            .expect("title on screen")
    };
    assert_eq!(title_row(&tui, "A · beta"), title_row(&tui, "B · gamma"));
    tui.send(b"L");
    tui.wait_until("rows layout", WAIT, |s| {
        let rows: Vec<&str> = s.lines().collect();
        let a = rows.iter().position(|l| l.contains("A · beta"));
        let b = rows.iter().position(|l| l.contains("B · gamma"));
        matches!((a, b), (Some(a), Some(b)) if b > a + 3)
    });
    tui.send(b"q");
    assert_eq!(tui.wait_exit(WAIT), 0);
}

#[test]
fn resume_reopens_both_transcripts_and_the_conversation_goes_on() {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command(&["--demo"]);
    cmd.env("DUEL_DEMO_DELAY_MS", "1");
    let mut tui = Tui::spawn(cmd);
    tui.wait_for("offline demo", WAIT);
    ask_and_wait(&mut tui, "remember this");
    tui.send(b"\x1b1");
    tui.wait_for("vote saved", WAIT);
    tui.send(b"\x11");
    assert_eq!(tui.wait_exit(WAIT), 0);

    let mut cmd = sandbox.command(&["--demo", "--resume", "last"]);
    cmd.env("DUEL_DEMO_DELAY_MS", "1");
    let mut tui = Tui::spawn(cmd);
    // Both transcripts are back, the vote with them (the panes show the bottom).
    tui.wait_until("both transcripts", WAIT, |s| {
        s.matches("You asked: \"remember this\"").count() == 2
            && s.matches("voted: A (demo-brisk) is better").count() == 2
    });
    tui.type_text("and this");
    tui.send(b"\r");
    tui.wait_until("the second turn done", WAIT, |s| {
        s.matches("You asked: \"and this\"").count() == 2 && s.matches(" done ").count() == 2
    });
    tui.send(b"\x1b2");
    tui.wait_for("vote saved", WAIT);
    tui.send(b"\x11");
    assert_eq!(tui.wait_exit(WAIT), 0);
    let demo_log = sandbox.data_dir().join(votes::log::DEMO_FILE_NAME);
    let (records, _) = votes::log::read(&demo_log).expect("log");
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[1].conversation, records[0].conversation,
        "the same conversation went on"
    );
    assert_eq!(records[1].turn, 2);
    let history = records[1].a.history.as_ref().expect("history");
    assert!(
        history.iter().any(|m| m.content == "remember this"),
        "{history:?}"
    );
}

#[test]
fn a_csv_export_on_a_terminal_shows_names_from_a_shared_log_inert() {
    let sandbox = Sandbox::new();
    let side = |model: &str| {
        serde_json::json!({
            "model": model, "provider": "p", "model_id": model, "answer": "a",
            "reasoning": null, "finish": "stop", "error": null, "ttft_ms": null,
            "total_ms": null, "input_tokens": null, "output_tokens": null
        })
    };
    let record = serde_json::json!({
        "schema": 1, "id": "00000000-0000-4000-8000-000000000001",
        "time": "2026-11-23T18:53:46.123Z",
        "conversation": "11111111-1111-4111-8111-111111111111", "turn": 1,
        "vote": "a", "blind": false, "judge": "j", "prompt": "p",
        "a": side("evil\u{1b}]0;pwned\u{7}"), "b": side("fine")
    });
    std::fs::create_dir_all(sandbox.data_dir()).expect("mkdir");
    std::fs::write(
        sandbox.data_dir().join(votes::log::FILE_NAME),
        format!("{record}\n"),
    )
    .expect("write the log");
    let mut tui = Tui::spawn(sandbox.command(&["export", "--format", "csv"]));
    assert_eq!(tui.wait_exit(WAIT), 0);
    let screen = tui.screen();
    assert!(screen.contains("evil␛]0;pwned␇"), "{screen}");
    // Nothing that could drive the terminal reached it.
    assert!(
        !tui.output().windows(2).any(|w| w == b"\x1b]"),
        "an OSC was written"
    );
}

#[test]
fn a_rate_limited_pane_says_what_it_waits_for_and_then_answers() {
    for (rows, cols) in SIZES {
        let a = MockServer::start(vec![
            Reply::json(429, r#"{"error": {"message": "slow down"}}"#)
                .with_header("Retry-After", "2"),
            Reply::sse(&openai_stream(&["after the wait"], 1, 3)),
        ]);
        let b = MockServer::start(vec![Reply::sse(&openai_stream(&["at once"], 1, 2))]);
        let sandbox = Sandbox::new();
        let mut tui = spawn_pair_sized(&sandbox, &config(&a.url(), &b.url()), &[], (rows, cols));
        tui.wait_for("A · alpha", WAIT);
        tui.type_text("hi");
        tui.send(b"\r");
        tui.wait_until("the retry in pane A", WAIT, |s| {
            s.contains("↻ rate limited (HTTP 429),")
                && s.contains("(2 of 3)")
                && s.contains(" retrying ")
        });
        tui.wait_for("after the wait", WAIT);
        tui.wait_until("both done", WAIT, |s| s.matches(" done ").count() == 2);
        assert!(
            !tui.screen().contains("(2 of 3)"),
            "the note goes once text comes"
        );
        tui.send(b"\x11");
        assert_eq!(tui.wait_exit(WAIT), 0);
    }
}

/// Ctrl+O, a path, Enter: the PNG shows as a chip above the prompt, goes to both
/// models as an image with the next prompt, is named in both transcripts, and the
/// vote record keeps it by reference (its bytes kept once in the data dir).
#[test]
fn ctrl_o_attaches_a_png_that_goes_to_both_models() {
    use base64::Engine;
    let a = MockServer::start(vec![Reply::sse(&openai_stream(&["A sees a dot"], 9, 3))]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(
        &["B sees one pixel"],
        9,
        3,
    ))]);
    let sandbox = Sandbox::new();
    let png = sandbox.path().join("chart.png");
    std::fs::write(&png, common::files::PNG).expect("write the png");
    let mut tui = spawn_pair(&sandbox, &config(&a.url(), &b.url()), &[]);
    tui.wait_for("A · alpha", WAIT);

    tui.send(b"\x0f"); // Ctrl+O
    tui.wait_for("Attach a file to the next prompt", WAIT);
    tui.type_text(png.to_str().expect("utf-8 path"));
    tui.send(b"\r");
    tui.wait_for("📎 chart.png 67 B", WAIT);
    ask_and_wait(&mut tui, "what is in it?");
    tui.wait_until("the file named in both transcripts", WAIT, |s| {
        s.matches("📎 chart.png · image/png · 67 B").count() == 2
    });
    assert!(
        !tui.screen().contains("📎 chart.png 67 B"),
        "the chip went with the prompt"
    );

    let b64 = base64::engine::general_purpose::STANDARD.encode(common::files::PNG);
    for server in [&a, &b] {
        let sent = server.requests()[0].json();
        let content = &sent["messages"]
            .as_array()
            .expect("messages")
            .last()
            .expect("prompt")["content"];
        assert_eq!(content[0]["text"], "what is in it?");
        assert_eq!(
            content[1]["image_url"]["url"],
            format!("data:image/png;base64,{b64}")
        );
    }

    tui.send(b"\x1b1");
    tui.wait_for("vote saved: A is better", WAIT);
    let (records, _) =
        votes::log::read(&sandbox.data_dir().join("votes.jsonl")).expect("read the vote log");
    let kept = &records[0].attachments[0];
    assert_eq!(
        (kept.name.as_str(), kept.media_type.as_str(), kept.bytes),
        ("chart.png", "image/png", 67)
    );
    let copy = std::fs::read(sandbox.data_dir().join("attachments").join(&kept.sha256))
        .expect("kept in the data dir");
    assert_eq!(copy, common::files::PNG);
}
