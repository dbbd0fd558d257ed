//! Secrets: a planted API key reaches the server and nowhere else — not the log at
//! `DUEL_LOG=debug`, the vote log, the conversation files, error messages, `duel
//! models` output or the screen.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::common;
use common::cli::duel;
use common::config::two_models;
use common::server::{MockServer, Reply, openai_stream};
use common::tui::{Sandbox, Tui};

/// The key of the side whose server refuses it.
const PLANTED: &str = "sk-planted-7f3a9c-secret";
/// The key of the side that answers.
const OTHER: &str = "sk-other-b41e07-secret";
const WAIT: Duration = Duration::from_secs(15);

/// A 401 whose message echoes the key back, as some providers and proxies do.
fn refusing_server() -> MockServer {
    let body = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {PLANTED}. Check your key.","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
    );
    MockServer::start(vec![Reply::json(401, &body)])
}

fn answering_server() -> MockServer {
    MockServer::start(vec![Reply::sse(&openai_stream(
        &["Beta ", "answers ", "fine"],
        4,
        3,
    ))])
}

/// Where side A's key comes from.
enum KeySource {
    Env,
    File,
}

fn config(a_url: &str, b_url: &str, source: &KeySource) -> String {
    let a_key = match source {
        KeySource::Env => r#"api_key_env = "DUEL_SECRET_A""#.to_owned(),
        KeySource::File => format!(r#"api_key = "{PLANTED}""#),
    };
    two_models(a_url, b_url)
        .left(&a_key)
        .right(r#"api_key_env = "DUEL_SECRET_B""#)
        .model_ids()
        .toml()
}

/// Everything duel printed or drew, with a label for the failure message.
#[derive(Default)]
struct Seen(Vec<(String, String)>);

impl Seen {
    fn add(&mut self, label: impl Into<String>, text: impl Into<String>) {
        self.0.push((label.into(), text.into()));
    }

    fn assert_no_key(&self) {
        for (label, text) in &self.0 {
            // Pieces too, in case a pane wrapped the key across two rows: one cut
            // cannot break both pieces of a key.
            for piece in [PLANTED, "planted", "7f3a9c", OTHER, "sk-other", "b41e07"] {
                assert!(
                    !text.contains(piece),
                    "{label} shows the key ({piece}):\n{text}"
                );
            }
        }
    }
}

fn run_cli(sandbox: &Sandbox, config: &Path, args: &[&str], seen: &mut Seen) -> Output {
    let output = duel(sandbox.path(), &[])
        .arg("--config")
        .arg(config)
        .args(args)
        .env("DUEL_LOG", "debug")
        .env("DUEL_SECRET_A", PLANTED)
        .env("DUEL_SECRET_B", OTHER)
        .output()
        .expect("run duel");
    let name = args.join(" ");
    seen.add(
        format!("stdout of `duel {name}`"),
        String::from_utf8_lossy(&output.stdout),
    );
    seen.add(
        format!("stderr of `duel {name}`"),
        String::from_utf8_lossy(&output.stderr),
    );
    output
}

/// Runs the CLI commands that touch keys, and returns their outputs by command.
fn run_every_command(sandbox: &Sandbox, config: &Path, seen: &mut Seen) -> Vec<Output> {
    let mut outputs = Vec::new();
    for args in [
        &["ask", "hello"][..],
        &["ask", "--json", "hello"],
        &["models"],
        &["models", "--json"],
        &["models", "--check"],
    ] {
        outputs.push(run_cli(sandbox, config, args, seen));
    }
    // Side A fails: `ask` exits 1 and says why; the check fails too.
    assert_eq!(outputs[0].status.code(), Some(1));
    let ask = String::from_utf8_lossy(&outputs[0].stdout).into_owned()
        + &String::from_utf8_lossy(&outputs[0].stderr);
    assert!(ask.contains("Beta answers fine"), "{ask}");
    assert!(ask.contains("Incorrect API key"), "{ask}");
    assert_eq!(outputs[4].status.code(), Some(1));
    outputs
}

/// A turn and a vote in the TUI.
fn run_tui(sandbox: &Sandbox, config: &Path, seen: &mut Seen) {
    let mut cmd = sandbox.command(&["--config", config.to_str().expect("utf-8 path")]);
    cmd.env("DUEL_LOG", "debug");
    cmd.env("DUEL_SECRET_A", PLANTED);
    cmd.env("DUEL_SECRET_B", OTHER);
    let mut tui = Tui::spawn(cmd);
    tui.wait_for("B · beta", WAIT);
    seen.add("the first screen", tui.screen());
    tui.type_text("hi there");
    tui.send(b"\r");
    // Votes are taken once both answers have ended: the text alone may show first.
    tui.wait_until("B done and A failed", WAIT, |s| {
        s.contains("Beta answers fine") && s.contains("Incorrect") && s.contains(" done ")
    });
    seen.add("the screen after the turn", tui.screen());
    tui.send(b"\x1b2"); // Alt+2: B is better
    tui.wait_for("vote saved", WAIT);
    seen.add("the screen after the vote", tui.screen());
    tui.send(b"\x11"); // Ctrl+Q
    assert_eq!(tui.wait_exit(WAIT), 0);
    seen.add("the screen after quitting", tui.screen());
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("list the data dir") {
            let path = entry.expect("a dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Adds every file of the data dir to `seen`, and checks the ones that must be there.
fn read_data_dir(sandbox: &Sandbox, seen: &mut Seen) {
    let files = files_under(&sandbox.data_dir());
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            f.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(names.iter().any(|n| n == "votes.jsonl"), "{names:?}");
    assert!(names.iter().any(|n| n == "duel.log"), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".json")), "{names:?}");
    for file in files {
        let text =
            String::from_utf8_lossy(&std::fs::read(&file).expect("read a data file")).into_owned();
        if file.ends_with("duel.log") {
            assert!(!text.is_empty(), "DUEL_LOG=debug logged nothing");
        }
        if file.ends_with("votes.jsonl") {
            // The failed side's error is recorded, without the key.
            assert!(text.contains("Incorrect API key"), "{text}");
        }
        seen.add(file.display().to_string(), text);
    }
}

/// Every request to side A carried the planted key, so its absence elsewhere means
/// something.
fn assert_key_was_sent(refusing: &MockServer, answering: &MockServer) {
    let requests = refusing.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {PLANTED}").as_str())
        );
    }
    let requests = answering.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {OTHER}").as_str())
        );
    }
}

#[test]
fn a_key_from_the_environment_appears_nowhere_but_the_request() {
    let refusing = refusing_server();
    let answering = answering_server();
    let sandbox = Sandbox::new();
    let config = sandbox.write_config(&config(&refusing.url(), &answering.url(), &KeySource::Env));
    let mut seen = Seen::default();
    run_every_command(&sandbox, &config, &mut seen);
    run_tui(&sandbox, &config, &mut seen);
    read_data_dir(&sandbox, &mut seen);
    assert_key_was_sent(&refusing, &answering);
    seen.assert_no_key();
}

#[test]
fn a_key_written_in_the_config_appears_nowhere_but_the_request() {
    let refusing = refusing_server();
    let answering = answering_server();
    let sandbox = Sandbox::new();
    let config = sandbox.write_config(&config(&refusing.url(), &answering.url(), &KeySource::File));
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
    let mut seen = Seen::default();
    let outputs = run_every_command(&sandbox, &config, &mut seen);
    for output in &outputs {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("chmod 600"),
            "no warning at 0600: {stderr}"
        );
    }
    run_tui(&sandbox, &config, &mut seen);
    read_data_dir(&sandbox, &mut seen);
    assert_key_was_sent(&refusing, &answering);
    seen.assert_no_key();
}

#[test]
fn a_config_holding_a_key_that_others_can_read_is_warned_about_once() {
    let refusing = refusing_server();
    let answering = answering_server();
    let sandbox = Sandbox::new();
    let key_config =
        sandbox.write_config(&config(&refusing.url(), &answering.url(), &KeySource::File));
    std::fs::set_permissions(&key_config, std::fs::Permissions::from_mode(0o644))
        .expect("chmod 644");
    let mut seen = Seen::default();
    for args in [&["models"][..], &["ask", "hello"]] {
        let output = run_cli(&sandbox, &key_config, args, &mut seen);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            stderr.matches("chmod 600").count(),
            1,
            "one warning for `duel {}`: {stderr}",
            args.join(" ")
        );
    }
    seen.assert_no_key();

    // The env-var config has no key in it: no warning, whatever its mode.
    let env_config =
        sandbox.write_config(&config(&refusing.url(), &answering.url(), &KeySource::Env));
    std::fs::set_permissions(&env_config, std::fs::Permissions::from_mode(0o644))
        .expect("chmod 644");
    let output = run_cli(&sandbox, &env_config, &["models"], &mut seen);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("chmod 600"));
}

/// The other wire kinds that send a key in a header, each refusing it with the key
/// echoed in its own error shape.
#[test]
fn every_kind_keeps_an_echoed_key_out_of_its_errors() {
    let cases = [
        (
            "anthropic",
            401,
            format!(
                r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {PLANTED}"}}}}"#
            ),
            "x-api-key",
            PLANTED.to_owned(),
        ),
        (
            "gemini",
            400,
            format!(
                r#"{{"error":{{"code":400,"message":"API key not valid: {PLANTED}","status":"INVALID_ARGUMENT"}}}}"#
            ),
            "x-goog-api-key",
            PLANTED.to_owned(),
        ),
        (
            "ollama",
            401,
            format!(r#"{{"error":"unauthorized: {PLANTED}"}}"#),
            "authorization",
            format!("Bearer {PLANTED}"),
        ),
    ];
    for (kind, status, body, header, sent) in cases {
        let refusing = MockServer::start(vec![Reply::json(status, &body)]);
        let answering = answering_server();
        let sandbox = Sandbox::new();
        let text = config(&refusing.url(), &answering.url(), &KeySource::Env).replacen(
            r#"kind = "openai""#,
            &format!(r#"kind = "{kind}""#),
            1,
        );
        let config = sandbox.write_config(&text);
        let mut seen = Seen::default();
        let ask = run_cli(&sandbox, &config, &["ask", "hello"], &mut seen);
        assert_eq!(ask.status.code(), Some(1), "{kind}");
        run_cli(&sandbox, &config, &["models", "--check"], &mut seen);
        read_votes_and_logs(&sandbox, &mut seen);
        let requests = refusing.requests();
        assert!(!requests.is_empty(), "{kind}");
        for request in &requests {
            assert_eq!(request.header(header), Some(sent.as_str()), "{kind}");
        }
        seen.assert_no_key();
    }
}

/// Adds whatever files the data dir holds (no TUI ran, so there may be only a log).
fn read_votes_and_logs(sandbox: &Sandbox, seen: &mut Seen) {
    if !sandbox.data_dir().exists() {
        return;
    }
    for file in files_under(&sandbox.data_dir()) {
        let text =
            String::from_utf8_lossy(&std::fs::read(&file).expect("read a data file")).into_owned();
        seen.add(file.display().to_string(), text);
    }
}
