//! `duel batch`, `duel runs` and `duel judge`, run as a user would against loopback
//! servers that answer each request by what it asks: every item answered by every
//! model, each answer on disk as it finishes, a run killed with SIGKILL resumed by
//! asking only for what is missing, a 429 storm ridden out, a cut stream never sent
//! again; judges whose verdicts follow known rules, both orders, resume.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common;
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

    /// A config of `models`, each (name, provider); `urls` gives each provider's
    /// server, and every provider gets `provider_lines`.
    fn config_on(
        &self,
        urls: &[(&str, &str)],
        models: &[(&str, &str)],
        provider_lines: &str,
    ) -> String {
        let mut toml = format!(
            "[pair]\na = \"{}\"\nb = \"{}\"\n\n[arena]\njudge = \"alice\"\n",
            models[0].0, models[1].0
        );
        for (p, url) in urls {
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

    /// `models` on `url`, every provider with `provider_lines`.
    fn config(&self, url: &str, models: &[(&str, &str)], provider_lines: &str) -> String {
        let providers: BTreeSet<&str> = models.iter().map(|(_, p)| *p).collect();
        let urls: Vec<(&str, &str)> = providers.into_iter().map(|p| (p, url)).collect();
        self.config_on(&urls, models, provider_lines)
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

/// The answers alpha and beta gave, from a run made by `duel batch` on an echo server.
fn answered_run(home: &Home, items: usize) -> MockServer {
    let answers = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let config = home.config(&answers.url(), &PAIR, "");
    let suite = home.suite("suite.jsonl", &numbered_suite(items));
    let (code, _, err) = run(&mut home.duel(&config, &["batch", &suite, "--name", "pilot"]));
    assert_eq!(code, 0, "{err}");
    answers
}

/// A judge server whose verdict is `rule(answer A, answer B, question)`.
fn judge_server(rule: impl Fn(&str, &str, &str) -> String + Send + Sync + 'static) -> MockServer {
    MockServer::respond(move |r, _| {
        let (_, prompt) = asked(r);
        let between = |start: &str, end: &str| {
            let from = prompt.find(start).unwrap() + start.len();
            let to = prompt[from..].find(end).unwrap() + from;
            prompt[from..to].trim().to_owned()
        };
        let a = between("[Answer A]", "[End of answer A]");
        let b = between("[Answer B]", "[End of answer B]");
        let question = between("[Question]", "[Reference answer]");
        let text = rule(&a, &b, &question);
        Reply::sse(&openai_stream(&[&text], 300, 20))
    })
}

/// A config with alpha and beta on the answer server and `judge` on its own.
fn judge_config(home: &Home, answers: &MockServer, judge: &MockServer) -> String {
    home.config_on(
        &[
            ("left", &answers.url()),
            ("right", &answers.url()),
            ("bench", &judge.url()),
        ],
        &[("alpha", "left"), ("beta", "right"), ("judge", "bench")],
        "",
    )
}

/// The vote log's records.
fn votes(home: &Home) -> Vec<Value> {
    std::fs::read_to_string(home.path().join("data").join("votes.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_consistent_judge_votes_every_pair_in_both_orders_and_a_second_run_asks_nothing() {
    let home = Home::new();
    let answers = answered_run(&home, 4);
    // Prefers alpha's answer wherever it is shown.
    let judge = judge_server(|a, b, _| {
        let pick = if a.starts_with("alpha") {
            "A"
        } else if b.starts_with("alpha") {
            "B"
        } else {
            "C"
        };
        format!("The answer that says alpha is clearer.\n\n[[{pick}]]")
    });
    let config = judge_config(&home, &answers, &judge);
    let (code, out, err) =
        run(&mut home.duel(&config, &["judge", "pilot", "--with", "judge", "--json"]));
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["pairs"], 4);
    assert_eq!(summary["judged"], 4);
    assert_eq!(summary["wins"]["alpha"], 4);
    assert_eq!(summary["ties"], 0);
    assert_eq!(judge.requests().len(), 8, "each pair in both orders");

    let votes = votes(&home);
    assert_eq!(votes.len(), 4);
    for v in &votes {
        assert_eq!(v["judge"], "llm:judge");
        assert_eq!(v["vote"], "a", "alpha is a, the run's first model");
        assert_eq!(v["a"]["model"], "alpha");
        assert_eq!(v["verdicts"], serde_json::json!(["A", "B"]));
        assert_eq!(v["reason"], "The answer that says alpha is clearer.");
        assert_eq!(v["blind"], true);
        assert!(v["run"].as_str().unwrap().starts_with("suite-"));
        assert!(v["item"].as_str().unwrap().starts_with('q'));
    }
    // The items asked in the second order really were swapped.
    let shown_first: BTreeSet<bool> = judge
        .requests()
        .iter()
        .map(|r| asked(r).1.contains("[Answer A]\nalpha"))
        .collect();
    assert_eq!(shown_first.len(), 2, "alpha shown as A and as B");

    // In the ratings, but no evidence of position bias: both orders were asked.
    let (_, out, _) = run(&mut home.duel(&config, &["stats", "--json"]));
    let stats: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stats["models"][0]["model"], "alpha");
    assert_eq!(stats["models"][0]["wins"], 4);
    assert_eq!(stats["position_bias"]["a_wins"], 0);

    let (_, out, _) = run(&mut home.duel(&config, &["runs", "--json"]));
    let runs: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(runs[0]["votes"], 4);
    assert_eq!(
        runs[0]["votes_by_judge"],
        serde_json::json!({"llm:judge": 4})
    );

    let (code, out, err) = run(&mut home.duel(&config, &["judge", "last", "--with", "judge"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("judged 4 of 4 pairs"), "{out}");
    assert_eq!(judge.requests().len(), 8, "nothing asked again");
}

#[test]
fn a_judge_that_always_prefers_the_first_position_gives_only_ties() {
    let home = Home::new();
    let answers = answered_run(&home, 3);
    let judge = judge_server(|_, _, _| "The first one. [[A]]".into());
    let config = judge_config(&home, &answers, &judge);
    let (code, out, err) = run(&mut home.duel(&config, &["judge", "pilot", "--with", "judge"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("ties 3 (3 of them from a verdict that flipped with the order)"),
        "{out}"
    );
    for v in votes(&home) {
        assert_eq!(v["vote"], "tie");
        assert_eq!(v["verdicts"], serde_json::json!(["A", "A"]));
    }
}

#[test]
fn an_answer_without_a_verdict_is_asked_once_more_then_given_up() {
    let home = Home::new();
    let answers = answered_run(&home, 2);
    // question 1: no verdict the first time it is asked in each order, then one.
    // question 2: never a verdict.
    let seen = std::sync::Mutex::new(BTreeSet::new());
    let judge = judge_server(move |a, _, question| {
        let first_time = seen.lock().unwrap().insert(format!("{question}|{a}"));
        match (question, first_time) {
            ("question 1", true) | ("question 2", _) => "Both are fine, I think.".into(),
            _ => "Tie. [[C]]".into(),
        }
    });
    let config = judge_config(&home, &answers, &judge);
    let (code, out, err) =
        run(&mut home.duel(&config, &["judge", "pilot", "--with", "judge", "--json"]));
    assert_eq!(code, 1, "a pair could not be judged: {err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["judged"], 1);
    assert_eq!(summary["given_up"], 1);
    assert_eq!(
        summary["unparsed"], 6,
        "question 1 once in each order, question 2 twice in each"
    );
    assert_eq!(judge.requests().len(), 8, "every order asked at most twice");
    let judgments =
        std::fs::read_to_string(home.answers_file().with_file_name("judgments.jsonl")).unwrap();
    let unparsed = judgments
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).unwrap()["verdict"].is_null())
        .count();
    assert_eq!(
        unparsed, 6,
        "every answer without a verdict is kept as such"
    );

    // Given up means given up: the same command asks nothing more.
    let before = judge.requests().len();
    let (_, out, _) =
        run(&mut home.duel(&config, &["judge", "pilot", "--with", "judge", "--json"]));
    let again: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(again["given_up"], 1);
    assert_eq!(judge.requests().len(), before);
}

#[test]
fn a_judging_that_failed_midway_asks_only_for_the_missing_orders_next_time() {
    let home = Home::new();
    let answers = answered_run(&home, 3);
    // The judge's server refuses every request about question 2 the first time.
    let failing = MockServer::respond(|r, _| {
        if asked(r).1.contains("[Question]\nquestion 2") {
            Reply::json(400, r#"{"error":{"message":"bad request"}}"#)
        } else {
            Reply::sse(&openai_stream(&["[[C]]"], 1, 1))
        }
    });
    let config = judge_config(&home, &answers, &failing);
    let (code, out, _) =
        run(&mut home.duel(&config, &["judge", "pilot", "--with", "judge", "--json"]));
    assert_eq!(code, 1);
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (summary["judged"].as_u64(), summary["failed"].as_u64()),
        (Some(2), Some(2))
    );

    let judge_ok = judge_server(|a, _, _| {
        let pick = if a.starts_with("alpha") { "A" } else { "B" };
        format!("[[{pick}]]")
    });
    let config = judge_config(&home, &answers, &judge_ok);
    let (code, out, err) =
        run(&mut home.duel(&config, &["judge", "pilot", "--with", "judge", "--json"]));
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["judged"], 3);
    assert_eq!(judge_ok.requests().len(), 2, "only question 2's two orders");
    assert_eq!(votes(&home).len(), 3);
}

#[test]
fn the_example_suite_runs_offline_through_the_demo_models() {
    let home = Home::new();
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/suite.jsonl");
    let mut cmd = duel(home.path(), &["--demo", "batch", suite, "--json"]);
    cmd.env("DUEL_DEMO_DELAY_MS", "0");
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["items"], 8);
    assert_eq!(summary["asked"], 16);
}

/// `duel --demo CMD …` with the demo answering at once.
fn demo(home: &Home, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--demo"];
    all.extend_from_slice(args);
    let mut cmd = duel(home.path(), &all);
    cmd.env("DUEL_DEMO_DELAY_MS", "0");
    run(&mut cmd)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

#[test]
fn the_offline_loop_leads_somewhere_every_reader_reads_the_demo_log_and_says_so() {
    let home = Home::new();
    let suite = home.suite(
        "mini.jsonl",
        "{\"id\": \"q1\", \"prompt\": \"What is Rust?\"}\n{\"id\": \"q2\", \"prompt\": \"用一句话解释所有权\"}\n",
    );
    let (code, out, err) = demo(&home, &["batch", &suite, "--name", "mini"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("next: `duel --demo review "),
        "the hint names --demo: {out}"
    );
    assert!(out.contains("`duel --demo stats --run "), "{out}");
    for judge in ["demo-brisk", "demo-thoughtful"] {
        let (code, out, err) = demo(&home, &["judge", "last", "--with", judge]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("`duel --demo stats --run "), "{out}");
    }
    assert!(
        !home.path().join("data/votes.jsonl").exists(),
        "the real log is untouched"
    );

    let (code, out, err) = demo(&home, &["stats", "--run", "mini", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        first_line(&err).contains("offline demo: reading demo-votes.jsonl"),
        "the first line says which log: {err}"
    );
    let stats: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stats["votes"], 4, "two pairs, two judges: {out}");

    let (code, out, err) = demo(&home, &["stats", "--agreement", "--json"]);
    assert_eq!(code, 0, "{err}");
    let stats: Value = serde_json::from_str(&out).unwrap();
    let agreement = stats["agreement"].as_array().unwrap();
    assert_eq!(
        agreement.len(),
        1,
        "the two judges share the run's pairs: {out}"
    );
    assert_eq!(agreement[0]["items"], 2);

    // A run of the demo models is found in the demo log even without --demo.
    let (code, out, err) = run(&mut duel(
        home.path(),
        &["stats", "--run", "mini", "--json"],
    ));
    assert_eq!(code, 0, "{err}");
    let stats: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stats["votes"], 4, "{err}");

    let (code, out, err) = demo(&home, &["export", "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 5, "a header and four votes: {out}");
    assert!(
        first_line(&err).contains("offline demo: reading demo-votes.jsonl"),
        "{err}"
    );

    let (code, out, err) = demo(&home, &["runs"]);
    assert_eq!(code, 0, "{err}");
    assert!(first_line(&err).contains("offline demo:"), "{err}");
    let row = out.lines().find(|l| l.contains("mini")).unwrap_or_default();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[cells.len() - 2..],
        ["4", "—"],
        "four votes, no checks: {out}"
    );

    let (code, _, err) = demo(&home, &["history"]);
    assert_eq!(code, 0, "{err}");
    assert!(first_line(&err).contains("offline demo:"), "{err}");
}

#[test]
fn a_template_of_one_s_own_is_what_the_judge_gets_and_one_without_an_answer_is_refused() {
    let home = Home::new();
    let answers = answered_run(&home, 2);
    let judge =
        judge_server(|a, _, _| format!("[[{}]]", if a.starts_with("alpha") { "A" } else { "B" }));
    let config = judge_config(&home, &answers, &judge);
    let broken = home.suite(
        "broken.txt",
        "Which is better, {answer_a}? [[A]] or [[B]]\n{prompt}",
    );
    let (code, _, err) = run(&mut home.duel(
        &config,
        &["judge", "pilot", "--with", "judge", "--template", &broken],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("lacks {answer_b}"), "{err}");
    assert!(judge.requests().is_empty(), "nothing sent");

    let own = home.suite(
        "judge.txt",
        "OUR HOUSE RULES\n[Question]\n{prompt}\n\n[Reference answer]\n{reference}\n\n\
         [Answer A]\n{answer_a}\n[End of answer A]\n\n[Answer B]\n{answer_b}\n[End of answer B]\n\
         Say [[A]], [[B]] or [[C]].",
    );
    let (code, _, err) = run(&mut home.duel(
        &config,
        &["judge", "pilot", "--with", "judge", "--template", &own],
    ));
    assert_eq!(code, 0, "{err}");
    let requests = judge.requests();
    assert_eq!(requests.len(), 4);
    assert!(requests.iter().all(|r| {
        asked(r)
            .1
            .starts_with("OUR HOUSE RULES\n[Question]\nquestion ")
    }));
}

#[test]
fn a_missing_key_is_named_before_anything_is_sent_or_any_run_made() {
    let server = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let home = Home::new();
    let config = home.config(&server.url(), &PAIR, "");
    let suite = home.suite("suite.txt", "one\ntwo\n");
    let mut cmd = home.duel(&config, &["batch", &suite]);
    cmd.env_remove("DUEL_BATCH_KEY");
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("alpha needs DUEL_BATCH_KEY; beta needs DUEL_BATCH_KEY, not set"),
        "{err}"
    );
    assert!(server.requests().is_empty());
    assert!(!home.runs_dir().exists());
}

#[test]
fn an_item_s_own_system_message_stands_in_for_the_model_s() {
    let server = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let home = Home::new();
    let config = home.config(&server.url(), &PAIR, "");
    // The models have a system prompt of their own, which the item replaces.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("[defaults]\nsystem = \"Be helpful.\"\n{text}"),
    )
    .unwrap();
    let suite = home.suite(
        "suite.jsonl",
        r#"{"id": "s", "messages": [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "hello"}]}
{"id": "plain", "prompt": "hi"}
"#,
    );
    let (code, _, err) = run(&mut home.duel(&config, &["batch", &suite]));
    assert_eq!(code, 0, "{err}");
    for r in server.requests() {
        let body = r.json();
        let systems: Vec<&str> = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "system")
            .map(|m| m["content"].as_str().unwrap())
            .collect();
        let expected = if asked(&r).1 == "hello" {
            "Answer in French."
        } else {
            "Be helpful."
        };
        assert_eq!(systems, [expected], "one system message: {body}");
    }
    let answers = home.answers();
    let own = answers.iter().find(|a| a["item"] == "s").unwrap();
    assert_eq!(own["history"][0]["content"], "Answer in French.");
}

/// A grader that answers a verdict, except on question 3, where it answers prose.
fn grader_server() -> MockServer {
    MockServer::respond(|r, _| {
        let (_, prompt) = asked(r);
        let text = if prompt.contains("question 3") {
            "I would rather not say."
        } else {
            "{\"pass\": true, \"score\": 1, \"reason\": \"fine\"}"
        };
        Reply::sse(&openai_stream(&[text], 10, 5))
    })
}

#[test]
fn checks_grade_stored_answers_once_and_a_grader_that_answers_garbage_is_an_error() {
    let home = Home::new();
    let answers = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let grader = grader_server();
    let config = judge_config(&home, &answers, &grader);
    let suite = home.suite(
        "suite.jsonl",
        concat!(
            "{\"defaults\": {\"assert\": [{\"type\": \"finish\"}]}}\n",
            "{\"id\": \"q1\", \"prompt\": \"question 1\", \"assert\": [{\"type\": \"icontains\", \"value\": \"ALPHA\"}]}\n",
            "{\"id\": \"q2\", \"prompt\": \"question 2\", \"assert\": [{\"type\": \"contains\", \"value\": \"says\"}]}\n",
            "{\"id\": \"q3\", \"prompt\": \"question 3\", \"assert\": [{\"type\": \"llm-rubric\", \"value\": \"answers the question\"}]}\n",
            "{\"id\": \"q4\", \"prompt\": \"question 4\", \"assert\": [{\"type\": \"regex\", \"value\": \"^beta\"}]}\n",
        ),
    );
    // duel batch grades each answer's checks as it is saved; the rubric waits for a
    // grader.
    let (code, out, err) = run(&mut home.duel(&config, &["batch", &suite, "--json"]));
    assert_eq!(code, 0, "{err}");
    let batch: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(batch["checks"]["graded_now"], 14, "{out}");

    let (code, out, err) =
        run(&mut home.duel(&config, &["check", "last", "--grader", "judge", "--json"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 checks to grade"), "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    // batch and check agree on the same run, and stats shows the same beside the votes.
    assert_eq!(batch["checks"]["models"], report["models"]);
    assert_eq!(batch["checks"]["pairs"], report["pairs"]);
    let (code, out, err) =
        run(&mut home.duel(&config, &["stats", "--run", "last", "--checks", "--json"]));
    assert_eq!(code, 0, "{err}");
    let stats: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stats["checks"]["models"], report["models"]);
    assert_eq!(stats["checks"]["pairs"], report["pairs"]);
    // The page has the same section: the table and the pair's sentence.
    let page = home.path().join("page.html");
    let page_arg = page.to_string_lossy();
    let (code, _, err) = run(&mut home.duel(
        &config,
        &["stats", "--run", "last", "--checks", "--html", &page_arg],
    ));
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&page).unwrap();
    assert!(page.contains("<h2>Checks on run "), "{page}");
    assert!(
        page.contains("<td>alpha</td><td class=\"num\">2/3</td><td class=\"num\">67%</td>"),
        "{page}"
    );
    assert!(
        page.contains("alpha vs beta: on 3 items graded for both, only alpha passed 1, only beta passed 1; McNemar exact p = 1.000 (could be chance)"),
        "{page}"
    );
    let model = |i: usize| &report["models"][i];
    assert_eq!(model(0)["model"], "alpha");
    // q1 and q2 pass for alpha, q4 fails; q3's grader never gave a verdict: an error,
    // never a pass or a fail.
    assert_eq!(
        (model(0)["passed"].as_u64(), model(0)["graded"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(model(0)["errors"], 1);
    assert_eq!(model(0)["failures"]["regex"], 1);
    assert_eq!(
        (model(1)["passed"].as_u64(), model(1)["graded"].as_u64()),
        (Some(2), Some(3))
    );
    let interval = model(0)["interval"].as_array().unwrap();
    assert!(
        (interval[0].as_f64().unwrap() - 0.2077).abs() < 1e-3,
        "{interval:?}"
    );
    let pair = &report["pairs"][0];
    assert_eq!(
        (
            pair["items"].as_u64(),
            pair["only_a"].as_u64(),
            pair["only_b"].as_u64()
        ),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(pair["p_value"], 1.0);
    // Garbage is asked once more, then given up: two requests per model for q3.
    assert_eq!(grader.requests().len(), 4);

    // Nothing changed: nothing is graded or asked again.
    let (code, _, err) = run(&mut home.duel(&config, &["check", "last", "--grader", "judge"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 checks to grade"), "{err}");
    assert_eq!(grader.requests().len(), 4);
    let lines = std::fs::read_to_string(
        home.runs_dir()
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join("checks.jsonl"),
    )
    .unwrap();
    assert_eq!(
        lines.lines().count(),
        16,
        "one line per item, model and check"
    );

    // A type that is none is a usage error, not a silent nothing.
    let (code, _, err) = run(&mut home.duel(&config, &["check", "last", "--only", "contians"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("--only \"contians\" is no check type"),
        "{err}"
    );

    // For CI: a model under the floor exits 1 and says which.
    let (code, out, _) = run(&mut home.duel(
        &config,
        &["check", "last", "--grader", "judge", "--fail-under", "0.7"],
    ));
    assert_eq!(code, 1);
    assert!(out.contains("below 70%: alpha, beta (exit 1)"), "{out}");
    let (code, _, _) = run(&mut home.duel(
        &config,
        &["check", "last", "--grader", "judge", "--fail-under", "0.6"],
    ));
    assert_eq!(code, 0);
}

/// With `[check] grader`, `duel batch` grades the rubrics too, once every answer is
/// in, and `duel check` uses the same grader: nothing is asked twice. `--grader` on
/// batch overrides the config.
#[test]
fn batch_grades_rubrics_with_the_configured_grader_and_check_agrees() {
    let home = Home::new();
    let answers = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let grader = grader_server();
    let config = judge_config(&home, &answers, &grader);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("[check]\ngrader = \"judge\"\n{text}")).unwrap();
    let suite = home.suite(
        "suite.jsonl",
        concat!(
            "{\"id\": \"q1\", \"prompt\": \"question 1\", \"assert\": [{\"type\": \"llm-rubric\", \"value\": \"answers\"}, {\"type\": \"contains\", \"value\": \"says\"}]}\n",
            "{\"id\": \"q2\", \"prompt\": \"question 2\", \"assert\": [{\"type\": \"llm-rubric\", \"value\": \"answers\"}]}\n",
        ),
    );
    let (code, out, err) = run(&mut home.duel(&config, &["batch", &suite, "--json"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("grading 4 llm-rubric checks with judge"),
        "{err}"
    );
    let batch: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(batch["checks"]["graded_now"], 6, "{out}");
    assert_eq!(batch["checks"]["models"][0]["passed"], 2, "{out}");
    assert_eq!(grader.requests().len(), 4);
    let (code, out, err) = run(&mut home.duel(&config, &["check", "last", "--json"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 checks to grade"), "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(batch["checks"]["models"], report["models"]);
    assert_eq!(grader.requests().len(), 4, "nothing asked twice");

    // Another grader on the command line grades the rubrics again, for itself.
    let (code, out, err) = run(&mut home.duel(
        &config,
        &[
            "batch", &suite, "--name", "again", "--grader", "alpha", "--json",
        ],
    ));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("with alpha"), "{err}");
    let again: Value = serde_json::from_str(&out).unwrap();
    // alpha echoes the prompt: no verdict in it, asked twice, then an error.
    assert_eq!(again["checks"]["models"][0]["errors"], 2, "{out}");
    assert_eq!(grader.requests().len(), 4);
}

/// Gives alpha a price of 1,000 per million tokens in and out, in `currency`; beta
/// stays without one.
fn price_alpha(config: &str, currency: &str) {
    let text = std::fs::read_to_string(config).unwrap().replace(
        "name = \"alpha\"\nprovider = \"left\"\n",
        &format!("name = \"alpha\"\nprovider = \"left\"\nprice = {{ input = 1000, output = 1000, currency = \"{currency}\" }}\n"),
    );
    std::fs::write(config, text).unwrap();
}

/// A `cost` check grades the answer's cost at today's prices: under the threshold it
/// passes, over it fails, and for a model without a price it cannot run (an error,
/// never a pass). A corrected price grades it again.
#[test]
fn a_cost_check_uses_the_configured_price_and_an_unpriced_model_is_an_error() {
    let home = Home::new();
    let answers = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let grader = grader_server();
    let config = judge_config(&home, &answers, &grader);
    price_alpha(&config, "CNY");
    // The echo server counts 7 in and 2 out: 7 × 1,000 + 2 × 1,000 per million = 0.009.
    let suite = home.suite(
        "suite.jsonl",
        concat!(
            "{\"id\": \"cheap\", \"prompt\": \"question 1\", \"assert\": [{\"type\": \"cost\", \"threshold\": 0.01}]}\n",
            "{\"id\": \"dear\", \"prompt\": \"question 2\", \"assert\": [{\"type\": \"cost\", \"threshold\": 0.005}]}\n",
        ),
    );
    let (code, out, err) = run(&mut home.duel(&config, &["batch", &suite, "--json"]));
    assert_eq!(code, 0, "{err}");
    let batch: Value = serde_json::from_str(&out).unwrap();
    let alpha = &batch["checks"]["models"][0];
    assert_eq!(
        (alpha["passed"].as_u64(), alpha["graded"].as_u64()),
        (Some(1), Some(2)),
        "{out}"
    );
    assert_eq!(alpha["failures"]["cost"], 1, "{out}");
    let beta = &batch["checks"]["models"][1];
    assert_eq!(
        (beta["graded"].as_u64(), beta["errors"].as_u64()),
        (Some(0), Some(2)),
        "{out}"
    );

    // A tenth of the input price: 7 × 100 + 2 × 1,000 = 0.0027, under 0.005. `duel
    // check` grades the cost again at the new price.
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("input = 1000,", "input = 100,"),
    )
    .unwrap();
    let (code, out, err) = run(&mut home.duel(&config, &["check", "last", "--json"]));
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["models"][0]["passed"], 2, "{out}");
}

/// What a run's answers cost shows in the batch summary (the run, and per 1,000
/// items) and in `duel runs`; a model without a price shows `—`.
#[test]
fn the_batch_summary_and_runs_show_what_the_answers_cost() {
    let home = Home::new();
    let answers = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let grader = grader_server();
    let config = judge_config(&home, &answers, &grader);
    price_alpha(&config, "USD");
    let suite = home.suite("suite.txt", "question 1\nquestion 2\n");
    // 7 in and 2 out an answer at 1,000 per million: $0.009 each, $0.018 for two.
    let (code, out, err) = run(&mut home.duel(&config, &["batch", &suite, "--json"]));
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["currency"], "USD");
    let cost = summary["models"][0]["cost"]["amount"].as_f64().unwrap();
    assert!((cost - 0.018).abs() < 1e-12, "{out}");
    assert_eq!(summary["models"][1]["cost"], Value::Null, "{out}");
    let (code, out, err) = run(&mut home.duel(&config, &["batch", &suite, "--name", "again"]));
    assert_eq!(code, 0);
    // The progress line of each item says what each answer cost.
    let line = err.lines().find(|l| l.starts_with("[1/2]")).unwrap();
    assert!(
        line.contains("alpha ok 2 tok") && line.contains(" $0.0090"),
        "{line}"
    );
    // beta's answer has no price: `—` after its figures, wherever it comes in the line.
    assert!(line.contains("beta ok 2 tok"), "{line}");
    assert!(line.ends_with(" —") || line.contains(" — · "), "{line}");
    let header = out.lines().find(|l| l.starts_with("MODEL")).unwrap();
    let words: Vec<&str> = header.split_whitespace().collect();
    assert!(words.ends_with(&["COST", "PER", "1,000", "ITEMS"]), "{out}");
    let alpha = out.lines().find(|l| l.starts_with("alpha")).unwrap();
    assert!(
        alpha.contains("$0.018") && alpha.ends_with("$9.00"),
        "{out}"
    );
    let beta = out.lines().find(|l| l.starts_with("beta")).unwrap();
    assert!(
        beta.split_whitespace().rev().take(2).all(|w| w == "—"),
        "{out}"
    );

    let (code, out, err) = run(&mut home.duel(&config, &["runs"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().next().unwrap().ends_with("COST"), "{out}");
    assert!(out.contains("$0.018, —"), "{out}");
    let (_, out, _) = run(&mut home.duel(&config, &["runs", "--json"]));
    let runs: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(runs[0]["currency"], "USD");
    assert_eq!(runs[0]["cost"][1], Value::Null);
}

#[test]
fn the_example_checks_suite_runs_offline_through_the_demo_models() {
    let home = Home::new();
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/checks.jsonl");
    let (code, _, err) = demo(&home, &["batch", suite]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = demo(&home, &["check", "last", "--json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    for i in 0..2 {
        let model = &report["models"][i];
        // The rubric has no grader: that item is an error, the other four are graded.
        assert_eq!(model["graded"], 4, "{out}");
        assert_eq!(model["errors"], 1, "{out}");
    }
    // Per category: the facts items (capital, zh-capital, year) and the format one.
    let facts = report["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "facts")
        .unwrap();
    assert_eq!(facts["models"][0]["graded"], 3, "{out}");
    // duel runs shows the same.
    let (code, out, err) = demo(&home, &["runs", "--json"]);
    assert_eq!(code, 0, "{err}");
    let runs: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(runs[0]["checks"], report["models"], "{out}");
}

#[test]
fn a_check_killed_with_sigkill_asks_the_grader_only_for_what_is_missing() {
    let home = Home::new();
    let answers = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    // A grader slow enough to be killed midway.
    let slow = MockServer::respond(|_, _| {
        let mut reply = Reply::sse(&openai_stream(&["{\"pass\": true}"], 10, 5));
        reply
            .steps
            .insert(0, Step::Sleep(Duration::from_millis(100)));
        reply
    });
    let config = judge_config(&home, &answers, &slow);
    let suite: String = (1..=6)
        .map(|i| format!("{{\"id\": \"q{i}\", \"prompt\": \"question {i}\", \"assert\": [{{\"type\": \"llm-rubric\", \"value\": \"good\"}}]}}\n"))
        .collect();
    let suite = home.suite("suite.jsonl", &suite);
    let (code, _, err) = run(&mut home.duel(&config, &["batch", &suite]));
    assert_eq!(code, 0, "{err}");
    let run_dir = home
        .runs_dir()
        .read_dir()
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let graded = || {
        std::fs::read_to_string(run_dir.join("checks.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter(|l| serde_json::from_str::<Value>(l).is_ok())
            .count()
    };
    let mut child = home
        .duel(&config, &["check", "last", "--grader", "judge"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while graded() < 4 {
        assert!(Instant::now() < deadline, "no checks were graded");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = graded();
    assert!((4..12).contains(&kept), "{kept}");

    let fresh =
        MockServer::respond(|_, _| Reply::sse(&openai_stream(&["{\"pass\": true}"], 10, 5)));
    let config = judge_config(&home, &answers, &fresh);
    let (code, _, err) = run(&mut home.duel(&config, &["check", "last", "--grader", "judge"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{} checks to grade", 12 - kept)),
        "{err}"
    );
    assert_eq!(
        fresh.requests().len(),
        12 - kept,
        "each missing check asked once"
    );
    assert_eq!(graded(), 12);
}

/// `duel report` on the shipped example run, judged by a demo model: every part is
/// there, within 80 columns, the same figures in `--json`, a page that escapes what it
/// shows, and a category of its own with `--category`.
#[test]
fn the_report_on_the_example_run_answers_which_one_in_80_columns() {
    let home = Home::new();
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/checks.jsonl");
    assert_eq!(demo(&home, &["batch", suite]).0, 0);
    assert_eq!(demo(&home, &["check", "last"]).0, 0);
    let (code, _, err) = demo(&home, &["judge", "last", "--with", "demo-thoughtful"]);
    assert_eq!(code, 0, "{err}");

    let mut cmd = duel(home.path(), &["--demo", "report", "last"]);
    cmd.env("COLUMNS", "80").env("NO_COLOR", "1");
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    for heading in [
        "Preference: rating (95% interval), from people and each model judge",
        "Checks: items passed of those graded",
        "Speed and failures",
        "Pairs",
        "By category",
        "What the evidence supports",
    ] {
        assert!(out.lines().any(|l| l == heading), "{heading}:\n{out}");
    }
    assert!(
        out.contains("0 votes by people, 5 votes by model judges"),
        "{out}"
    );
    assert!(out.contains("LLM:DEMO-THOUGHTFUL"), "{out}");
    // Five votes settle nothing: the words claim no winner.
    assert!(
        out.contains("demo-brisk and demo-thoughtful are not decided by preference yet"),
        "{out}"
    );
    assert!(!out.contains("is preferred"), "{out}");
    assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
    assert!(!out.contains('\u{1b}'), "plain text: {out:?}");

    let (code, out, _) = demo(&home, &["report", "last", "--json"]);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["items"], 5);
    assert_eq!(report["judge_votes"], 5);
    assert_eq!(report["models"][0]["checks"]["graded"], 4, "{out}");
    assert_eq!(report["pairs"][0]["by"], "model judges");
    assert!(report["verdict"].as_array().unwrap().len() >= 2, "{out}");

    let page = home.path().join("report.html");
    let page_arg = page.to_string_lossy();
    let (code, _, err) = demo(&home, &["report", "last", "--html", &page_arg]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&page).unwrap();
    assert!(
        page.contains("<h2>What the evidence supports</h2>"),
        "{page}"
    );
    assert!(page.contains("<th>LLM:DEMO-THOUGHTFUL</th>"), "{page}");
    assert!(
        !page.contains("<script") && !page.contains("http"),
        "self-contained"
    );

    let (code, out, _) = demo(&home, &["report", "last", "--category", "FACTS", "--json"]);
    assert_eq!(code, 0);
    let facts: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(facts["items"], 3);
    let (code, _, err) = demo(&home, &["report", "last", "--category", "poetry"]);
    assert_eq!(code, 2);
    assert!(err.contains("no item of category \"poetry\""), "{err}");
}

/// A model named like markup shows as text on the report's page, never as markup.
#[test]
fn the_report_page_escapes_a_hostile_model_name() {
    let home = Home::new();
    let answers = MockServer::respond(|r, _| echo(r, Duration::ZERO));
    let hostile = "<img src=x onerror=alert(1)>&";
    let config = home.config_on(
        &[("left", &answers.url()), ("right", &answers.url())],
        &[(hostile, "left"), ("beta", "right")],
        "",
    );
    let suite = home.suite("suite.txt", "question 1\n");
    let (code, _, err) = run(&mut home.duel(&config, &["batch", &suite]));
    assert_eq!(code, 0, "{err}");
    let page = home.path().join("report.html");
    let page_arg = page.to_string_lossy();
    let (code, _, err) = run(&mut home.duel(&config, &["report", "last", "--html", &page_arg]));
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&page).unwrap();
    assert!(!page.contains("<img"), "{page}");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;&amp;"),
        "{page}"
    );
}

/// `duel report` fed whole runs and vote logs, and its words read: where nothing is
/// decided it says so, where people prefer one model and the checks the other it says
/// both, and where one model is preferred, passes more checks and costs less it says
/// that. The suite's check (`icontains "short"`) passes every answer of `aa` and no
/// answer of `bbb` (see `common::runs::answer_text`) unless the scenario checks
/// nothing that tells them apart.
#[test]
fn the_report_s_words_follow_the_evidence_in_three_runs() {
    use common::runs::make_run_of;
    // (scenario, votes for aa, votes for bbb, the check, the words expected)
    let cases = [
        (
            "undecided",
            2,
            2,
            r#"{"type": "icontains", "value": "answer"}"#,
            "aa and bbb are not decided by preference yet",
        ),
        (
            "disagree",
            20,
            70,
            r#"{"type": "icontains", "value": "short"}"#,
            "bbb is preferred by people (p = 1.00) but aa passes more checks (p = 0.00)",
        ),
        (
            "better-and-cheaper",
            70,
            20,
            r#"{"type": "icontains", "value": "short"}"#,
            "aa is preferred by people (p = 1.00) and passes more checks (p = 0.00), at 0.5× the cost of bbb: the better and the cheaper.",
        ),
    ];
    for (scenario, for_aa, for_bbb, check, expected) in cases {
        let home = Home::new();
        let data = home.path().join("data");
        let ids: Vec<String> = (0..12).map(|i| format!("q{i}")).collect();
        let suite: String = ids
            .iter()
            .map(|id| {
                format!(
                    "{{\"id\": \"{id}\", \"prompt\": \"question {id}\", \"assert\": [{check}]}}\n"
                )
            })
            .collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        make_run_of(&data, "run-1", &suite, &id_refs, &["aa", "bbb"], &[]);
        let votes: String = (0..for_aa + for_bbb)
            .map(|n| {
                let item = &ids[n % ids.len()];
                let side = |model: &str| {
                    serde_json::json!({
                        "model": model, "provider": "mylab", "model_id": format!("{model}-1"),
                        "answer": common::runs::answer_text(model, item), "reasoning": null,
                        "finish": "stop", "error": null, "ttft_ms": 300, "total_ms": 1200,
                        "input_tokens": 12, "output_tokens": 40
                    })
                };
                let record = serde_json::json!({
                    "schema": 1, "id": format!("00000000-0000-4000-8000-{n:012}"),
                    "time": "2026-11-29T10:00:00.000Z",
                    "conversation": "11111111-1111-4111-8111-111111111111", "turn": 1,
                    "vote": if n < for_aa { "a" } else { "b" }, "blind": true,
                    "judge": "alice", "prompt": format!("question {item}"),
                    "a": side("aa"), "b": side("bbb"), "run": "run-1", "item": item
                });
                format!("{record}\n")
            })
            .collect();
        std::fs::write(data.join("votes.jsonl"), votes).unwrap();
        // aa costs half what bbb does.
        let config = home.path().join("priced.toml");
        std::fs::write(
            &config,
            concat!(
                "[[models]]\nname = \"aa\"\nprovider = \"ollama\"\n",
                "price = { input = 1, output = 1, currency = \"CNY\" }\n\n",
                "[[models]]\nname = \"bbb\"\nprovider = \"ollama\"\n",
                "price = { input = 2, output = 2, currency = \"CNY\" }\n",
            ),
        )
        .unwrap();
        let config = config.to_string_lossy();
        let (code, _, err) = run(&mut home.duel(&config, &["check", "run-1"]));
        assert_eq!(code, 0, "{scenario}: {err}");
        let (code, out, err) = run(&mut home.duel(&config, &["report", "run-1", "--json"]));
        assert_eq!(code, 0, "{scenario}: {err}");
        let report: Value = serde_json::from_str(&out).unwrap();
        let words = report["verdict"][0].as_str().unwrap();
        assert!(
            words.starts_with(expected) || words == expected,
            "{scenario}: {words}"
        );
        if scenario == "undecided" {
            assert!(
                !words.contains("is preferred") && !words.contains("passes more"),
                "{words}"
            );
        }
    }
}

/// A suite item's `attach` list (paths relative to the suite) goes to both models with
/// its prompt, kept once in the data dir; a file that cannot be attached is named
/// with the suite's file and line before anything is sent.
#[test]
fn a_suite_item_s_files_go_to_both_models_and_a_missing_one_is_named_by_line() {
    let server = MockServer::respond(|_, _| Reply::sse(&openai_stream(&["seen"], 7, 1)));
    let home = Home::new();
    let config = home.config(&server.url(), &PAIR, "");
    std::fs::create_dir(home.path().join("img")).unwrap();
    let chart = home.path().join("img").join("chart.png");
    std::fs::write(&chart, common::files::PNG).unwrap();
    std::fs::write(home.path().join("spec.md"), "ship it\n").unwrap();

    let bad = home.suite(
        "bad.jsonl",
        "{\"prompt\": \"fine\"}\n{\"prompt\": \"look\", \"attach\": [\"img/gone.png\"]}\n",
    );
    let (code, _, err) = run(&mut home.duel(&config, &["batch", &bad]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.jsonl:2: attach: "), "{err}");
    assert!(err.contains("gone.png: no such file"), "{err}");
    assert!(server.requests().is_empty(), "nothing was sent");

    let suite = home.suite(
        "suite.jsonl",
        "{\"id\": \"chart\", \"prompt\": \"what is it?\", \"attach\": [\"img/chart.png\", \"spec.md\"]}\n",
    );
    let (code, _, err) = run(&mut home.duel(&config, &["batch", &suite]));
    assert_eq!(code, 0, "{err}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "both models");
    for request in &requests {
        let content = &request.json()["messages"][0]["content"];
        assert_eq!(
            content[0]["text"],
            "--- file: spec.md ---\nship it\n--- end of spec.md ---\n\nwhat is it?"
        );
        let url = content[1]["image_url"]["url"].as_str().unwrap();
        assert!(
            url.starts_with("data:image/png;base64,iVBORw0KGgo"),
            "{url}"
        );
    }
    let (kept, _) = duel::attachment::read(&chart).unwrap();
    let copy = std::fs::read(home.path().join("data/attachments").join(&kept.sha256)).unwrap();
    assert_eq!(copy, common::files::PNG, "kept once in the data dir");
    // The run's answers name the files by reference.
    for answer in home.answers() {
        assert_eq!(answer["attachments"][0]["sha256"], kept.sha256.as_str());
        assert_eq!(answer["attachments"][1]["name"], "spec.md");
    }
}

/// A judge of an item with an image: a judge that takes images is sent it with the
/// judging prompt; one that takes none is told the prompt had it. The judge's votes
/// name the file.
#[test]
fn a_judge_is_sent_the_item_s_image_or_told_of_it() {
    let home = Home::new();
    let answers = MockServer::respond(|_, _| Reply::sse(&openai_stream(&["a dot"], 7, 1)));
    let judge = MockServer::respond(|_, _| Reply::sse(&openai_stream(&["Same.\n\n[[C]]"], 9, 3)));
    std::fs::write(home.path().join("chart.png"), common::files::PNG).unwrap();
    let config = judge_config(&home, &answers, &judge);
    std::fs::write(
        &config,
        std::fs::read_to_string(&config).unwrap()
            + "\n[[models]]\nname = \"text-judge\"\nprovider = \"bench\"\ninput = [\"text\"]\n",
    )
    .unwrap();
    let suite = home.suite(
        "suite.jsonl",
        "{\"id\": \"c\", \"prompt\": \"what is it?\", \"attach\": [\"chart.png\"]}\n",
    );
    let batch = ["batch", &suite, "--name", "pics", "--models", "alpha,beta"];
    let (code, _, err) = run(&mut home.duel(&config, &batch));
    assert_eq!(code, 0, "{err}");

    let (code, _, err) = run(&mut home.duel(&config, &["judge", "pics", "--with", "judge"]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&mut home.duel(&config, &["judge", "pics", "--with", "text-judge"]));
    assert_eq!(code, 0, "{err}");
    let requests = judge.requests();
    assert_eq!(requests.len(), 4, "each judge, both orders");
    let content = |i: usize| requests[i].json()["messages"][0]["content"].clone();
    // The vision judge: the judging prompt, then the image.
    let seen = content(0);
    assert!(seen[0]["text"].as_str().unwrap().contains("what is it?"));
    assert!(
        seen[1]["image_url"]["url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    // The text-only judge: told, in plain text.
    let told = content(2);
    let told = told.as_str().expect("plain text");
    assert!(
        told.starts_with(
            "[The user's prompt came with an image you cannot see: chart.png. Judge the answers on what you can check.]"
        ),
        "{told}"
    );
    let votes = votes(&home);
    assert_eq!(votes.len(), 2);
    for vote in votes {
        assert_eq!(vote["attachments"][0]["name"], "chart.png");
    }
}
