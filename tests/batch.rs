//! `duel batch` and `duel runs`, run as a user would against loopback servers that
//! answer each request by what it asks: every item answered by every model, each
//! answer on disk as it finishes, a run killed with SIGKILL resumed by asking only
//! for what is missing, a 429 storm ridden out, a cut stream never sent again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::cli::{duel, run};
use common::server::{MockServer, Recorded, Reply, Step, openai_chunk, openai_stream, sse_event};
use serde_json::Value;

const KEY: &str = "sk-test-planted-batch-key";

/// The prompt (last message) and model of a chat request.
fn asked(request: &Recorded) -> (String, String) {
    let body = request.json();
    let messages = body["messages"].as_array().unwrap();
    (
        body["model"].as_str().unwrap().to_owned(),
        messages.last().unwrap()["content"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// An answer that says who answered what: `alpha says: <prompt>`, after `delay`.
fn echo(request: &Recorded, delay: Duration) -> Reply {
    let (model, prompt) = asked(request);
    let mut reply = Reply::sse(&openai_stream(&[&format!("{model} says: "), &prompt], 7, 2));
    reply.steps.insert(0, Step::Sleep(delay));
    reply
}

/// A sandboxed home with a config of `models` (each a name and provider table name)
/// on `url`, every provider with `provider_lines`.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn config(&self, url: &str, models: &[(&str, &str)], provider_lines: &str) -> String {
        let mut toml = format!(
            "[pair]\na = \"{}\"\nb = \"{}\"\n\n[arena]\njudge = \"alice\"\n",
            models[0].0, models[1].0
        );
        let providers: BTreeSet<&str> = models.iter().map(|(_, p)| *p).collect();
        for p in providers {
            toml += &format!(
                "\n[providers.{p}]\nkind = \"openai\"\nbase_url = \"{url}/v1\"\napi_key_env = \"DUEL_BATCH_KEY\"\n{provider_lines}\n"
            );
        }
        for (name, provider) in models {
            toml += &format!("\n[[models]]\nname = \"{name}\"\nprovider = \"{provider}\"\n");
        }
        let path = self.path().join("config.toml");
        std::fs::write(&path, toml).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn suite(&self, name: &str, text: &str) -> String {
        let path = self.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn duel(&self, config: &str, args: &[&str]) -> std::process::Command {
        let mut cmd = duel(self.path(), &[&["--config", config], args].concat());
        cmd.env("DUEL_BATCH_KEY", KEY);
        cmd
    }

    fn runs_dir(&self) -> PathBuf {
        self.path().join("data").join("runs")
    }

    /// The one run's answers file.
    fn answers_file(&self) -> PathBuf {
        let runs: Vec<_> = std::fs::read_dir(self.runs_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(runs.len(), 1, "{runs:?}");
        runs[0].join("answers.jsonl")
    }

    /// How many answers are on disk so far.
    fn answered(&self) -> usize {
        if self.runs_dir().exists() {
            self.answers().len()
        } else {
            0
        }
    }

    /// The whole lines of the answers file (a line torn by a kill is left out).
    fn answers(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.answers_file()).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

const PAIR: [(&str, &str); 2] = [("alpha", "left"), ("beta", "right")];

fn numbered_suite(n: usize) -> String {
    (1..=n)
        .map(|i| format!("{{\"id\": \"q{i}\", \"prompt\": \"question {i}\"}}\n"))
        .collect()
}

#[test]
fn every_item_is_answered_by_both_models_and_each_answer_is_saved() {
    let server = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let home = Home::new();
    let config = home.config(&server.url(), &PAIR, "");
    let suite = home.suite(
        "suite.jsonl",
        r#"{"id": "cap", "category": "knowledge", "prompt": "capital of France?", "reference": "Paris"}
{"prompt": "2 + 2?"}
{"id": "chat", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello!"}, {"role": "user", "content": "plan my day"}]}
"#,
    );
    let (code, out, err) = run(&mut home.duel(&config, &["batch", &suite, "--json"]));
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["items"], 3);
    assert_eq!(summary["asked"], 6);
    for (i, name) in ["alpha", "beta"].iter().enumerate() {
        let m = &summary["models"][i];
        assert_eq!(m["model"], *name);
        assert_eq!(
            (m["answered"].as_u64(), m["failed"].as_u64()),
            (Some(3), Some(0))
        );
        assert_eq!(m["output_tokens"], 6, "the provider's counts, summed");
    }
    // Not a terminal: one plain line per item, once both its answers are in.
    assert_eq!(err.matches("] item ").count(), 3, "{err}");
    assert!(err.contains("item cap: "), "{err}");

    assert_eq!(server.requests().len(), 6);
    let answers = home.answers();
    assert_eq!(answers.len(), 6);
    let prompts = [
        ("cap", "capital of France?"),
        ("2", "2 + 2?"),
        ("chat", "plan my day"),
    ];
    for (item, prompt) in prompts {
        for model in ["alpha", "beta"] {
            let line = answers
                .iter()
                .find(|a| a["item"] == item && a["model"] == model)
                .unwrap_or_else(|| panic!("no answer of {model} to {item}"));
            assert_eq!(line["answer"], format!("{model} says: {prompt}"));
            assert_eq!(line["finish"], "stop");
        }
    }
    let chat = answers.iter().find(|a| a["item"] == "chat").unwrap();
    assert_eq!(
        chat["history"].as_array().unwrap().len(),
        2,
        "what came before the prompt is the answer's history"
    );

    // `duel runs` counts the run; the same command again has nothing to ask.
    let (code, out, _) = run(&mut home.duel(&config, &["runs", "--json"]));
    assert_eq!(code, 0);
    let runs: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(runs[0]["items"], 3);
    assert_eq!(runs[0]["answered"], 6);
    assert_eq!(runs[0]["failed"], 0);
    assert_eq!(runs[0]["models"], serde_json::json!(["alpha", "beta"]));
    let (code, _, err) = run(&mut home.duel(&config, &["batch", &suite]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already has every answer"), "{err}");
    assert_eq!(server.requests().len(), 6, "nothing sent again");
}

#[test]
fn a_bad_suite_line_is_named_before_anything_is_sent() {
    let server = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let home = Home::new();
    let config = home.config(&server.url(), &PAIR, "");
    let suite = home.suite(
        "suite.jsonl",
        "{\"prompt\": \"fine\"}\n{\"prompt\": \"fine too\"}\n{\"prompt\": 42}\n",
    );
    let (code, _, err) = run(&mut home.duel(&config, &["batch", &suite]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("suite.jsonl:3:"), "{err}");
    assert!(server.requests().is_empty());
    assert!(!home.runs_dir().exists(), "no run is started");
}

#[test]
fn several_models_answer_every_item_once_each() {
    let server = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let home = Home::new();
    let three = [("alpha", "left"), ("beta", "right"), ("gamma", "right")];
    let config = home.config(&server.url(), &three, "");
    let suite = home.suite("suite.txt", "one\n\ntwo\n");
    let (code, out, err) = run(&mut home.duel(
        &config,
        &["batch", &suite, "--models", "alpha,beta,gamma", "--json"],
    ));
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["models"].as_array().unwrap().len(), 3);
    let sent: BTreeSet<(String, String)> = server.requests().iter().map(asked).collect();
    assert_eq!(sent.len(), 6, "each item once per model, never twice");
    assert_eq!(server.requests().len(), 6);
    let (code, _, err) = run(&mut home.duel(
        &config,
        &["--a", "alpha", "batch", &suite, "--models", "alpha,beta"],
    ));
    assert_eq!(code, 2);
    assert!(err.contains("either --a/--b or --models"), "{err}");
}

#[test]
fn a_run_killed_with_sigkill_resumes_asking_only_for_what_is_missing() {
    let slow = MockServer::respond(|r, _| echo(r, Duration::from_millis(120)));
    let home = Home::new();
    let config = home.config(&slow.url(), &PAIR, "");
    let suite = home.suite("suite.jsonl", &numbered_suite(12));
    let mut child = home
        .duel(&config, &["batch", &suite, "--concurrency", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while home.answered() < 7 {
        assert!(Instant::now() < deadline, "no answers arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let kept: BTreeSet<(String, String)> = home
        .answers()
        .iter()
        .map(|a| {
            (
                a["model"].as_str().unwrap().to_owned(),
                a["answer"]
                    .as_str()
                    .unwrap()
                    .split(": ")
                    .nth(1)
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    assert!(kept.len() >= 7 && kept.len() < 24, "{}", kept.len());

    // The same command again, against a fresh server that counts what it is asked.
    let fresh = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let config = home.config(&fresh.url(), &PAIR, "");
    let (code, out, err) = run(&mut home.duel(&config, &["batch", &suite, "--json"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{} of 24 answers are missing", 24 - kept.len())),
        "{err}"
    );
    let sent: Vec<(String, String)> = fresh.requests().iter().map(asked).collect();
    let all: BTreeSet<(String, String)> = ["alpha", "beta"]
        .iter()
        .flat_map(|m| (1..=12).map(move |i| (m.to_string(), format!("question {i}"))))
        .collect();
    let missing: BTreeSet<(String, String)> = all.difference(&kept).cloned().collect();
    assert_eq!(
        sent.len(),
        missing.len(),
        "each missing answer asked once: {sent:?}"
    );
    assert_eq!(sent.into_iter().collect::<BTreeSet<_>>(), missing);
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["models"][0]["answered"], 12);
    assert_eq!(summary["models"][1]["answered"], 12);
    assert_eq!(summary["asked"], missing.len());
}

#[test]
fn ctrl_c_stops_cleanly_and_keeps_every_finished_answer() {
    let slow = MockServer::respond(|r, _| echo(r, Duration::from_millis(150)));
    let home = Home::new();
    let config = home.config(&slow.url(), &PAIR, "");
    let suite = home.suite("suite.jsonl", &numbered_suite(20));
    let child = home
        .duel(&config, &["batch", &suite, "--concurrency", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while home.answered() < 3 {
        assert!(Instant::now() < deadline, "no answers arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(err.contains("duel batch --resume"), "{err}");
    let text = std::fs::read_to_string(home.answers_file()).unwrap();
    let kept = text.lines().count();
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "every kept line whole"
    );
    assert!(kept < 40);

    let (code, out, err) = run(&mut home.duel(&config, &["batch", "--resume", "last", "--json"]));
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["asked"], 40 - kept);
}

#[test]
fn a_429_storm_holds_back_the_provider_until_retry_after_and_every_item_is_answered() {
    // The first six requests are refused with Retry-After: 1.
    let server = MockServer::respond(|r, index| {
        if index < 6 {
            Reply::json(
                429,
                r#"{"error":{"message":"slow down","type":"rate_limit"}}"#,
            )
            .with_header("retry-after", "1")
        } else {
            echo(r, Duration::ZERO)
        }
    });
    let home = Home::new();
    let config = home.config(&server.url(), &PAIR, "rpm = 600\n");
    let suite = home.suite("suite.jsonl", &numbered_suite(6));
    let (code, out, err) = run(&mut home.duel(&config, &["batch", &suite, "--json"]));
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    for m in summary["models"].as_array().unwrap() {
        assert_eq!(
            (m["answered"].as_u64(), m["failed"].as_u64()),
            (Some(6), Some(0)),
            "{m}"
        );
    }
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        12 + 6,
        "each refused request sent once more"
    );
    // Once the client has had a 429, no request to that provider starts before its
    // Retry-After passed (requests already on their way arrive within milliseconds).
    for (i, refused) in requests.iter().enumerate().take(6) {
        let model = asked(refused).0;
        for later in &requests[i + 1..] {
            let gap = later.at.saturating_duration_since(refused.at);
            assert!(
                asked(later).0 != model
                    || gap < Duration::from_millis(300)
                    || gap >= Duration::from_millis(950),
                "{model}: a request {gap:?} after a 429 that asked for 1 s"
            );
        }
    }
    assert_eq!(home.answers().len(), 12);
}

#[test]
fn a_stream_cut_after_text_is_recorded_as_failed_and_never_sent_again() {
    let server = MockServer::respond(|r, _| {
        let (_, prompt) = asked(r);
        if prompt == "question 2" {
            // Text, then the connection closes without the end of the stream.
            Reply::raw(
                200,
                "text/event-stream",
                vec![Step::Write(sse_event(&openai_chunk("half an ans")))],
            )
        } else {
            echo(r, Duration::ZERO)
        }
    });
    let home = Home::new();
    let config = home.config(&server.url(), &PAIR, "");
    let suite = home.suite("suite.jsonl", &numbered_suite(3));
    let (code, out, err) = run(&mut home.duel(&config, &["batch", &suite]));
    assert_eq!(code, 1, "an answer failed: {err}");
    let cut: Vec<_> = server
        .requests()
        .iter()
        .filter(|r| asked(r).1 == "question 2")
        .cloned()
        .collect();
    assert_eq!(cut.len(), 2, "one request per model, none sent again");
    assert!(out.contains("2/3"), "{out}");
    assert!(out.contains("answer cut off"), "{out}");
    let answers = home.answers();
    let failed: Vec<_> = answers.iter().filter(|a| a["finish"] == "error").collect();
    assert_eq!(failed.len(), 2);
    assert_eq!(
        failed[0]["answer"], "half an ans",
        "the partial answer is kept"
    );
}
