//! The commands without the TUI, run as a user would: `ask`, `models`, `init`, and
//! config errors.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use crate::common;
use common::cli::{duel, run};
use common::config::two_models;
use common::server::{MockServer, Reply, openai_stream};

const KEY: &str = "sk-test-planted-cli-key";

fn two_server_config(home: &Path, a: &str, b: &str) -> String {
    let path = home.join("config.toml");
    let toml = two_models(a, b)
        .both(r#"api_key_env = "DUEL_CLI_KEY""#)
        .toml();
    std::fs::write(&path, toml).expect("write config");
    path.to_string_lossy().into_owned()
}

#[test]
fn ask_prints_both_answers_and_exits_0() {
    let a = MockServer::start(vec![Reply::sse(&openai_stream(
        &["Hello ", "from A"],
        3,
        2,
    ))]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(&["B ", "says 你好"], 3, 2))]);
    let home = tempfile::tempdir().expect("tempdir");
    let config = two_server_config(home.path(), &a.url(), &b.url());
    let (code, out, err) =
        run(duel(home.path(), &["--config", &config, "ask", "hi"]).env("DUEL_CLI_KEY", KEY));
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("A · alpha"), "{out}");
    assert!(out.contains("Hello from A"), "{out}");
    assert!(out.contains("B says 你好"), "{out}");
    assert!(out.contains("[stop"), "{out}");
    assert!(!out.contains(KEY) && !err.contains(KEY));
}

#[test]
fn ask_json_has_both_sides_and_reads_the_prompt_from_stdin() {
    let a = MockServer::start(vec![Reply::sse(&openai_stream(&["4"], 5, 1))]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(&["four"], 5, 1))]);
    let home = tempfile::tempdir().expect("tempdir");
    let config = two_server_config(home.path(), &a.url(), &b.url());
    let mut child = duel(home.path(), &["--config", &config, "ask", "--json", "-"])
        .env("DUEL_CLI_KEY", KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"what is 2+2?")
        .expect("write prompt");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(json["prompt"], "what is 2+2?");
    assert_eq!(json["a"]["model"], "alpha");
    assert_eq!(json["a"]["answer"], "4");
    assert_eq!(json["b"]["answer"], "four");
    assert_eq!(json["a"]["finish"], "stop");
    assert_eq!(json["a"]["output_tokens"], 1);
    assert!(
        json["a"].get("history").is_none(),
        "ask --json has no history"
    );
    assert!(json["a"]["ttft_ms"].is_u64());
    let sent = a.requests()[0].json();
    assert_eq!(
        sent["messages"]
            .as_array()
            .expect("messages")
            .last()
            .expect("prompt")["content"],
        "what is 2+2?"
    );
}

/// `--attach` twice: the image and the text file go to a vision model as its parts; a
/// model that takes no images is refused before anything is sent to it, naming it; the
/// JSON names the files by reference, and each is kept once in the data dir.
#[test]
fn ask_attach_sends_each_file_and_names_it_by_reference() {
    let a = MockServer::start(vec![Reply::sse(&openai_stream(&["a chart"], 9, 2))]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(&["never"], 9, 1))]);
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("config.toml");
    let toml = two_models(&a.url(), &b.url())
        .both(r#"api_key_env = "DUEL_CLI_KEY""#)
        .toml();
    std::fs::write(&config, format!("{toml}input = [\"text\"]\n")).expect("write config");
    let chart = home.path().join("chart.png");
    std::fs::write(&chart, common::files::PNG).expect("write png");
    let notes = home.path().join("notes.md");
    std::fs::write(&notes, "ship it\n").expect("write notes");
    let args = [
        "--config",
        config.to_str().expect("utf-8"),
        "ask",
        "--json",
        "--attach",
        chart.to_str().expect("utf-8"),
        "--attach",
        notes.to_str().expect("utf-8"),
        "what is this?",
    ];
    let (code, out, err) = run(duel(home.path(), &args).env("DUEL_CLI_KEY", KEY));
    assert_eq!(code, 1, "one side refused: {err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    let sha = json["attachments"][0]["sha256"].as_str().expect("sha256");
    assert_eq!(
        json["attachments"][0],
        serde_json::json!({"name": "chart.png", "media_type": "image/png", "bytes": common::files::PNG.len(), "sha256": sha})
    );
    assert_eq!(json["attachments"][1]["name"], "notes.md");
    assert_eq!(json["attachments"][1]["media_type"], "text/markdown");
    let kept = std::fs::read(home.path().join("data/attachments").join(sha)).expect("kept");
    assert_eq!(kept, common::files::PNG, "the same bytes, kept by SHA-256");

    assert_eq!(json["a"]["answer"], "a chart");
    let content = &a.requests()[0].json()["messages"][0]["content"];
    assert_eq!(content[0]["type"], "text");
    assert_eq!(
        content[0]["text"],
        "--- file: notes.md ---\nship it\n--- end of notes.md ---\n\nwhat is this?"
    );
    let url = content[1]["image_url"]["url"].as_str().expect("a data URL");
    assert!(
        url.starts_with("data:image/png;base64,iVBORw0KGgo"),
        "{url}"
    );

    assert_eq!(json["b"]["finish"], "error");
    let refused = json["b"]["error"].as_str().expect("an error");
    assert!(
        refused.contains("beta takes no images: chart.png was not sent"),
        "{refused}"
    );
    assert!(b.requests().is_empty(), "nothing was sent to beta");
}

/// What cannot be attached stops `duel ask` before anything is sent, with the path
/// and the reason, exit 2.
#[test]
fn ask_attach_refuses_what_cannot_be_attached_before_sending() {
    let a = MockServer::start(vec![Reply::sse(&openai_stream(&["x"], 1, 1))]);
    let home = tempfile::tempdir().expect("tempdir");
    let config = two_server_config(home.path(), &a.url(), &a.url());
    let empty = home.path().join("empty.txt");
    std::fs::write(&empty, "").expect("write");
    let cut = home.path().join("cut.png");
    std::fs::write(&cut, &common::files::PNG[..40]).expect("write");
    let cases = [
        (home.path().join("nowhere.png"), "nowhere.png: no such file"),
        (empty, "empty.txt: empty (0 bytes)"),
        (home.path().to_path_buf(), "a directory, not a file"),
        (cut, "looks like a PNG image but is not a whole one"),
    ];
    for (path, says) in cases {
        let path = path.to_str().expect("utf-8");
        let (code, _, err) = run(duel(
            home.path(),
            &["--config", &config, "ask", "--attach", path, "hi"],
        )
        .env("DUEL_CLI_KEY", KEY));
        assert_eq!(code, 2, "{path}: {err}");
        assert!(err.contains(says), "{path}: {err}");
    }
    assert!(a.requests().is_empty(), "nothing was sent");
}

#[test]
fn ask_exits_1_when_one_side_fails_and_says_why() {
    let a = MockServer::start(vec![Reply::sse(&openai_stream(&["fine"], 1, 1))]);
    let b = MockServer::start(vec![Reply::json(
        401,
        r#"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}"#,
    )]);
    let home = tempfile::tempdir().expect("tempdir");
    let config = two_server_config(home.path(), &a.url(), &b.url());
    let (code, out, _) =
        run(duel(home.path(), &["--config", &config, "ask", "hi"]).env("DUEL_CLI_KEY", KEY));
    assert_eq!(code, 1);
    assert!(out.contains("fine"));
    assert!(out.contains("Incorrect API key provided."), "{out}");
    assert!(
        out.contains("DUEL_CLI_KEY"),
        "the hint names the env var: {out}"
    );
    assert!(!out.contains(KEY));
}

#[test]
fn ask_exits_1_when_a_stream_ends_without_a_finish_reason() {
    // llama.cpp's server when another request interrupts the running one: [DONE]
    // after half an answer, no chunk with a finish_reason.
    let a = MockServer::start(vec![Reply::sse(&openai_stream(&["whole"], 1, 1))]);
    let b = MockServer::start(vec![Reply::sse(&[
        common::server::openai_chunk("half an"),
        "[DONE]".into(),
    ])]);
    let home = tempfile::tempdir().expect("tempdir");
    let config = two_server_config(home.path(), &a.url(), &b.url());
    let (code, out, _) = run(
        duel(home.path(), &["--config", &config, "ask", "--json", "hi"]).env("DUEL_CLI_KEY", KEY),
    );
    assert_eq!(code, 1, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(json["a"]["finish"], "stop");
    assert_eq!(json["b"]["finish"], "error");
    assert_eq!(json["b"]["answer"], "half an");
    assert_eq!(
        json["b"]["error"],
        "answer cut off: the stream ended before a finish_reason"
    );
}

#[test]
fn ask_gives_an_estimate_flagged_as_such_where_the_server_sent_no_usage() {
    let no_usage = || {
        Reply::sse(&[
            common::server::openai_chunk("one "),
            common::server::openai_chunk("two"),
            common::server::openai_finish_chunk("stop"),
            "[DONE]".into(),
        ])
    };
    let (a, b) = (
        MockServer::start(vec![no_usage()]),
        MockServer::start(vec![no_usage()]),
    );
    let home = tempfile::tempdir().expect("tempdir");
    let config = two_server_config(home.path(), &a.url(), &b.url());
    let (code, out, _) = run(
        duel(home.path(), &["--config", &config, "ask", "--json", "hi"]).env("DUEL_CLI_KEY", KEY),
    );
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(json["a"]["output_tokens"], serde_json::Value::Null);
    assert_eq!(
        json["a"]["output_tokens_estimate"],
        serde_json::json!({"tokens": 2, "from": "chunks"})
    );
    let (_, out, _) =
        run(duel(home.path(), &["--config", &config, "ask", "hi"]).env("DUEL_CLI_KEY", KEY));
    assert!(out.contains("≈2 tok (estimated from chunks)"), "{out}");
}

/// The cost of each answer from the usage its server sent: cached input at its price,
/// reasoning at its own; a model without a price costs `—`, never 0.
#[test]
fn ask_shows_what_each_answer_cost_from_the_usage_the_server_sent() {
    let usage = serde_json::json!({
        "choices": [],
        "usage": {
            "prompt_tokens": 1000,
            "completion_tokens": 500,
            "prompt_tokens_details": {"cached_tokens": 800},
            "completion_tokens_details": {"reasoning_tokens": 300}
        }
    });
    let a = MockServer::start(vec![Reply::sse(&[
        common::server::openai_chunk("priced"),
        common::server::openai_finish_chunk("stop"),
        usage.to_string(),
        "[DONE]".into(),
    ])]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(&["free?"], 5, 1))]);
    let home = tempfile::tempdir().expect("tempdir");
    // alpha has a price, beta none.
    let priced = |a: &MockServer, b: &MockServer| {
        let toml = two_models(&a.url(), &b.url())
            .both(r#"api_key_env = "DUEL_CLI_KEY""#)
            .toml()
            .replace(
                "name = \"alpha\"\nprovider = \"left\"\n",
                "name = \"alpha\"\nprovider = \"left\"\nprice = { input = 0.8, output = 2.0, cached_input = 0.16, reasoning = 8.0, currency = \"CNY\" }\n",
            );
        let config = home.path().join("config.toml");
        std::fs::write(&config, toml).expect("write config");
        config.to_string_lossy().into_owned()
    };
    let config = priced(&a, &b);
    let (code, out, err) = run(
        duel(home.path(), &["--config", &config, "ask", "--json", "hi"]).env("DUEL_CLI_KEY", KEY),
    );
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(json["a"]["cached_input_tokens"], 800);
    assert_eq!(json["a"]["reasoning_tokens"], 300);
    // 200 × 0.8 + 800 × 0.16 + 200 × 2.0 + 300 × 8.0 = 3,088 per million.
    let amount = json["cost"]["a"]["amount"].as_f64().expect("a's cost");
    assert!((amount - 0.003_088).abs() < 1e-12, "{out}");
    assert_eq!(json["cost"]["a"]["estimated"], false);
    assert_eq!(json["cost"]["currency"], "CNY");
    assert_eq!(
        json["cost"]["b"],
        serde_json::Value::Null,
        "no price: unknown"
    );

    let a = MockServer::start(vec![Reply::sse(&openai_stream(&["priced"], 1000, 500))]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(&["free?"], 5, 1))]);
    let config = priced(&a, &b);
    let (code, out, err) =
        run(duel(home.path(), &["--config", &config, "ask", "hi"]).env("DUEL_CLI_KEY", KEY));
    assert_eq!(code, 0, "{err}");
    // 1,000 × 0.8 + 500 × 2.0 = 1,800 per million.
    assert!(out.contains(" · ¥0.0018]"), "{out}");
    assert!(out.contains(" · —]"), "{out}");
}

#[test]
fn ask_with_a_missing_key_names_the_env_var() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, out, _) = run(&mut duel(home.path(), &["ask", "hi"]));
    assert_eq!(code, 1);
    // Said once, not "missing API key: no API key: set …".
    assert!(
        out.contains("[error: missing API key: set DASHSCOPE_API_KEY]"),
        "{out}"
    );
    assert!(out.contains("QIANFAN_API_KEY"), "{out}");
    assert!(!out.contains("no API key"), "{out}");
}

#[test]
fn ask_says_on_stderr_what_it_waits_for_under_a_429() {
    let a = MockServer::start(vec![
        Reply::json(429, r#"{"error":{"message":"slow down"}}"#).with_header("retry-after", "1"),
        Reply::sse(&openai_stream(&["late but here"], 3, 2)),
    ]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(&["at once"], 3, 2))]);
    let home = tempfile::tempdir().expect("tempdir");
    let config = two_server_config(home.path(), &a.url(), &b.url());
    let (code, out, err) =
        run(duel(home.path(), &["--config", &config, "ask", "hi"]).env("DUEL_CLI_KEY", KEY));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("late but here"), "{out}");
    assert!(
        err.contains("alpha: rate limited (HTTP 429), retrying in 1 s (2 of 3)"),
        "{err}"
    );
}

#[test]
fn a_real_model_under_demo_is_named_as_one_the_demo_sets_aside() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = run(&mut duel(
        home.path(),
        &["--demo", "ask", "--a", "qwen-plus", "hi"],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--demo uses only the offline demo models (demo-brisk, demo-thoughtful)"),
        "{err}"
    );
    assert!(!err.contains("does not name a configured model"), "{err}");
}

#[test]
fn each_command_s_help_lists_only_the_flags_that_mean_something_there() {
    let home = tempfile::tempdir().expect("tempdir");
    let help = |command: &str| {
        let (code, out, err) = run(&mut duel(home.path(), &[command, "--help"]));
        assert_eq!(code, 0, "{err}");
        out
    };
    let export = help("export");
    for flag in [
        "--a <MODEL>",
        "--theme",
        "--blind ",
        "--resume",
        "--battle",
        "--bootstrap",
    ] {
        assert!(
            !export.contains(flag),
            "export --help lists {flag}: {export}"
        );
    }
    // The config names a team's store, which export reads the votes from.
    assert!(
        export.contains("--data-dir") && export.contains("--demo") && export.contains("--config"),
        "{export}"
    );
    let stats = help("stats");
    assert!(
        !stats.contains("--a <MODEL>") && !stats.contains("--resume"),
        "{stats}"
    );
    assert!(
        stats.contains("--theme") && stats.contains("--include-failed"),
        "{stats}"
    );
    let ask = help("ask");
    assert!(
        ask.contains("--a <MODEL>") && !ask.contains("--data-dir"),
        "{ask}"
    );
    assert!(!help("history").contains("--config"));
}

#[test]
fn a_command_s_own_flags_mean_what_they_mean_before_it() {
    let home = tempfile::tempdir().expect("tempdir");
    let elsewhere = home.path().join("elsewhere");
    // After the command as before it: the data dir, --demo, the pair.
    let (code, out, err) = run(&mut duel(
        home.path(),
        &[
            "history",
            "--demo",
            "--data-dir",
            elsewhere.to_str().expect("utf-8"),
        ],
    ));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("offline demo"), "{err}");
    assert!(out.contains("elsewhere"), "{out}");
    let (code, out, err) = run(
        duel(home.path(), &["ask", "--demo", "--b", "demo-brisk", "hi"])
            .env("DUEL_DEMO_DELAY_MS", "0"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("B · demo-brisk"), "{out}");
    // A flag given before the command is not overridden by the environment.
    let (code, out, _) = run(duel(
        home.path(),
        &["--data-dir", elsewhere.to_str().expect("utf-8"), "history"],
    )
    .env("DUEL_DATA_DIR", home.path().join("env")));
    assert_eq!(code, 0);
    assert!(out.contains("elsewhere"), "{out}");
}

#[test]
fn an_empty_data_dir_variable_is_as_if_unset() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, out, _) = run(duel(home.path(), &["history"]).env("DUEL_DATA_DIR", ""));
    assert_eq!(code, 0);
    let default = home.path().join(".local/share/duel/conversations");
    assert!(out.contains(&default.display().to_string()), "{out}");
}

#[test]
fn ask_on_the_demo_models_works_offline() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, out, err) =
        run(duel(home.path(), &["--demo", "ask", "hello"]).env("DUEL_DEMO_DELAY_MS", "0"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("demo-brisk") && out.contains("demo-thoughtful"),
        "{out}"
    );
    assert!(out.contains("hello"));
}

#[test]
fn models_lists_key_status_without_the_key() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, out, _) = run(duel(home.path(), &["models"]).env("DASHSCOPE_API_KEY", KEY));
    assert_eq!(code, 0);
    assert!(out.contains("qwen-plus"));
    assert!(out.contains("https://dashscope.aliyuncs.com/compatible-mode/v1"));
    assert!(out.contains("set (DASHSCOPE_API_KEY)"), "{out}");
    assert!(out.contains("missing: set QIANFAN_API_KEY"), "{out}");
    assert!(!out.contains(KEY));

    let (code, out, _) =
        run(duel(home.path(), &["models", "--json"]).env("DASHSCOPE_API_KEY", KEY));
    assert_eq!(code, 0);
    let rows: serde_json::Value = serde_json::from_str(&out).expect("json");
    let qwen = rows
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["name"] == "qwen-plus")
        .expect("qwen-plus listed");
    assert_eq!(qwen["kind"], "openai");
    assert_eq!(qwen["key_set"], true);
    assert!(!out.contains(KEY));
}

#[test]
fn models_check_reports_each_model_and_fails_when_one_does() {
    let ok = MockServer::start(vec![Reply::sse(&openai_stream(&["ok"], 1, 1))]);
    let bad = MockServer::start(vec![Reply::json(
        404,
        r#"{"error":{"message":"The model does not exist","code":"model_not_found"}}"#,
    )]);
    let home = tempfile::tempdir().expect("tempdir");
    let config = two_server_config(home.path(), &ok.url(), &bad.url());
    let (code, out, _) = run(
        duel(home.path(), &["--config", &config, "models", "--check"]).env("DUEL_CLI_KEY", KEY),
    );
    assert_eq!(code, 1, "{out}");
    let alpha = out
        .lines()
        .find(|l| l.starts_with("alpha"))
        .expect("alpha row");
    assert!(alpha.contains("ok "), "{alpha}");
    let beta = out
        .lines()
        .find(|l| l.starts_with("beta"))
        .expect("beta row");
    assert!(
        beta.contains("FAILED") && beta.contains("does not exist"),
        "{beta}"
    );
}

#[test]
fn init_writes_the_starter_config_once() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, out, _) = run(&mut duel(home.path(), &["init"]));
    assert_eq!(code, 0);
    let path = home.path().join("xdg/duel/config.toml");
    assert!(out.contains("config.toml"));
    let written = std::fs::read_to_string(&path).expect("written");
    assert!(written.contains("qwen-plus") && written.contains("ernie-4.5"));

    std::fs::write(&path, "# mine\n").expect("edit");
    let (code, _, err) = run(&mut duel(home.path(), &["init"]));
    assert_eq!(code, 1);
    assert!(err.contains("not overwritten"));
    assert_eq!(std::fs::read_to_string(&path).expect("kept"), "# mine\n");

    // The written file is what duel then loads.
    std::fs::write(&path, &written).expect("restore");
    let (code, out, err) = run(&mut duel(home.path(), &["models"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.is_empty(),
        "the starter config loads without warnings: {err}"
    );
    assert!(out.contains("ernie-4.5"));
}

#[test]
fn a_config_error_names_file_line_and_column_and_exits_2() {
    let home = tempfile::tempdir().expect("tempdir");
    let path = home.path().join("bad.toml");
    std::fs::write(&path, "[[models]]\nname = \"x\"\nprovider = \"dashscop\"\n").expect("write");
    let (code, _, err) = run(&mut duel(
        home.path(),
        &["--config", path.to_str().expect("path"), "models"],
    ));
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml:3:"), "{err}");
    assert!(err.contains("dashscop"), "{err}");

    let (code, _, err) = run(duel(home.path(), &["models"]).env("DUEL_CONFIG", &path));
    assert_eq!(code, 2, "DUEL_CONFIG is honoured: {err}");
}

#[test]
fn unknown_keys_warn_but_do_not_fail() {
    let home = tempfile::tempdir().expect("tempdir");
    let path = home.path().join("c.toml");
    std::fs::write(&path, "[ui]\ncolour = \"red\"\n").expect("write");
    let (code, _, err) = run(&mut duel(
        home.path(),
        &["--config", path.to_str().expect("path"), "models"],
    ));
    assert_eq!(code, 0);
    assert!(
        err.contains("c.toml:2:1") && err.contains("colour"),
        "{err}"
    );
}

#[test]
fn an_unknown_model_flag_is_a_usage_error() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = run(&mut duel(home.path(), &["--a", "nope", "ask", "hi"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("\"nope\"") && err.contains("qwen-plus"),
        "{err}"
    );
}

#[test]
fn history_lists_saved_conversations_and_themes_lists_themes() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, out, _) = run(&mut duel(home.path(), &["history"]));
    assert_eq!(code, 0);
    assert!(out.contains("no saved conversations"), "{out}");

    // One conversation through the demo, saved by the TUI's own code path.
    let data = home.path().join("data");
    let conversation = duel::conversation::ConversationFile {
        schema: 1,
        id: uuid::Uuid::new_v4(),
        created: "2026-11-23T10:00:00.000Z".into(),
        updated: "2026-11-23T10:05:00.000Z".into(),
        blind: false,
        turns: Vec::new(),
    };
    duel::conversation::save(&data, &conversation).expect("save");
    let (code, out, _) = run(&mut duel(home.path(), &["history", "--json"]));
    assert_eq!(code, 0);
    let rows: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(rows[0]["id"], conversation.id.to_string());

    let (code, out, _) = run(&mut duel(home.path(), &["themes"]));
    assert_eq!(code, 0);
    assert!(out.contains("default") && out.contains("light"), "{out}");
}

/// Saves a conversation of one turn between `a` and `b` (each a model and its
/// provider) in the sandbox's data dir; returns its id's first eight characters.
fn saved_conversation(home: &Path, a: (&str, &str), b: (&str, &str)) -> String {
    let side = |(model, provider): (&str, &str)| {
        serde_json::from_value(serde_json::json!({
            "model": model, "provider": provider, "model_id": model,
            "answer": format!("{model} answered"), "reasoning": null, "finish": "stop",
            "error": null, "ttft_ms": 5, "total_ms": 9, "input_tokens": 3, "output_tokens": 2
        }))
        .expect("a side record")
    };
    let conversation = duel::conversation::ConversationFile {
        schema: 1,
        id: uuid::Uuid::new_v4(),
        created: "2026-11-23T10:00:00.000Z".into(),
        updated: "2026-11-23T10:05:00.000Z".into(),
        blind: false,
        turns: vec![duel::conversation::TurnRecord {
            turn: 1,
            attempt: 1,
            time: "2026-11-23T10:00:00.000Z".into(),
            prompt: "hello".into(),
            attachments: Vec::new(),
            vote: None,
            a: side(a),
            b: side(b),
            earlier: Vec::new(),
        }],
    };
    duel::conversation::save(&home.join("data"), &conversation).expect("save");
    conversation.id.to_string()[..8].to_owned()
}

#[test]
fn a_demo_conversation_reopens_only_under_demo_and_a_real_one_only_without() {
    let home = tempfile::tempdir().expect("tempdir");
    let demo = saved_conversation(
        home.path(),
        ("demo-brisk", "demo"),
        ("demo-thoughtful", "demo"),
    );
    // Without --demo the demo's answers would go to the real pair as their history.
    let (code, _, err) = run(&mut duel(home.path(), &["--resume", &demo]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("`duel --demo --resume {demo}`")),
        "{err}"
    );
    let (code, out, _) = run(&mut duel(home.path(), &["history"]));
    assert_eq!(code, 0);
    assert!(out.contains(&format!("{demo} (demo)")), "{out}");
    assert!(out.contains("duel --demo --resume ID"), "{out}");

    let real = saved_conversation(
        home.path(),
        ("qwen-plus", "dashscope"),
        ("ernie-4.5", "qianfan"),
    );
    let (code, _, err) = run(&mut duel(home.path(), &["--demo", "--resume", &real]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("reopen it without --demo"), "{err}");
    // Each mode's `last` is its own latest conversation: both get as far as the
    // terminal (which the test has not), neither is refused.
    for args in [&["--resume"][..], &["--demo", "--resume"]] {
        let (code, _, err) = run(&mut duel(home.path(), args));
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("needs a terminal"), "{args:?}: {err}");
    }
    let (code, out, err) = run(&mut duel(home.path(), &["--demo", "history"]));
    assert_eq!(code, 0);
    assert!(out.contains(&demo) && !out.contains(&real), "{out}");
    assert!(err.contains("offline demo"), "{err}");
}

#[test]
fn a_conversation_whose_models_are_gone_says_which_and_exits_2() {
    let home = tempfile::tempdir().expect("tempdir");
    let id = saved_conversation(
        home.path(),
        ("qwen-max", "dashscope"),
        ("ernie-4.5", "qianfan"),
    );
    let (code, _, err) = run(&mut duel(home.path(), &["--resume", &id]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("written by qwen-max (A) and ernie-4.5 (B); qwen-max is not configured"),
        "{err}"
    );
    // Naming the pair goes on with it, the history carrying over.
    let (code, _, err) = run(&mut duel(
        home.path(),
        &["--resume", &id, "--a", "qwen-plus"],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("needs a terminal"), "{err}");
}

#[test]
fn resume_of_an_unknown_id_is_a_usage_error() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = run(&mut duel(home.path(), &["--demo", "--resume", "deadbeef"]));
    assert_eq!(code, 2);
    assert!(err.contains("no saved conversations"), "{err}");
}

#[test]
fn resume_of_a_file_that_cannot_be_read_says_which_and_why() {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join("data").join("conversations");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let id = "5a1e0c2b-8f7d-4c3e-9b1a-2d4f6e8a0c1b";
    std::fs::write(dir.join(format!("{id}.json")), "{\"schema\":1,\"id\":").expect("write");
    let (code, _, err) = run(&mut duel(home.path(), &["--demo", "--resume", "5a1e0c2b"]));
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{id}.json cannot be read")), "{err}");
    assert!(!err.contains("no saved conversation"), "{err}");
}

#[test]
fn the_chat_without_a_terminal_exits_2_with_one_clear_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, out, err) = run(&mut duel(home.path(), &["--demo"]));
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(err.contains("duel ask"), "{err}");
}

#[test]
fn an_empty_prompt_is_a_usage_error() {
    let home = tempfile::tempdir().expect("tempdir");
    for prompt in ["-", "  "] {
        let (code, _, err) = run(&mut duel(home.path(), &["--demo", "ask", prompt]));
        assert_eq!(code, 2, "{prompt:?}: {err}");
        assert!(err.contains("the prompt is empty"), "{err}");
    }
}

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    // `duel history --json | head -c 1`: far more than a pipe holds, and the reader
    // gone at once.
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join("data").join("conversations");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let side = serde_json::json!({
        "model": "alpha", "provider": "left", "model_id": "alpha", "answer": "a",
        "reasoning": null, "finish": "stop", "error": null, "ttft_ms": null,
        "total_ms": null, "input_tokens": null, "output_tokens": null
    });
    for n in 0..200 {
        let id = format!("00000000-0000-4000-8000-{n:012}");
        let file = serde_json::json!({
            "schema": 1, "id": id, "created": "2026-11-23T18:53:46Z",
            "updated": "2026-11-23T18:53:46Z", "blind": false,
            "turns": [{"turn": 1, "time": "2026-11-23T18:53:46Z",
                       "prompt": "p".repeat(2000), "vote": null, "a": side, "b": side}]
        });
        std::fs::write(dir.join(format!("{id}.json")), file.to_string()).expect("write");
    }
    for args in [&["history", "--json"][..], &["history"][..]] {
        let mut child = duel(home.path(), args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

#[test]
fn logging_that_cannot_start_says_so_once_and_duel_goes_on() {
    // A log file that cannot be created (a directory in its place: root ignores a
    // read-only data dir, this stops everyone).
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(home.path().join("data").join("duel.log")).expect("mkdir");
    let (code, out, err) = run(duel(home.path(), &["--demo", "ask", "hello"])
        .env("DUEL_LOG", "debug")
        .env("DUEL_DEMO_DELAY_MS", "0"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("demo-brisk"), "{out}");
    assert_eq!(err.matches("logging is off").count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn text_from_files_and_servers_never_drives_the_terminal() {
    // A model named with OSC 0 (window title), OSC 52 (clipboard) and a bidi override,
    // an answer with a screen clear: what a shared config or a hostile server holds.
    let in_toml = r"evil\u001b]0;pwned\u0007\u001b]52;c;cm0gLXJm\u0007\u202e";
    let answer = "clear\u{1b}[2J title\u{1b}]0;pwned\u{7} done";
    let a = MockServer::start(vec![Reply::sse(&openai_stream(&[answer], 1, 1))]);
    let b = MockServer::start(vec![Reply::sse(&openai_stream(&["fine"], 1, 1))]);
    let home = tempfile::tempdir().expect("tempdir");
    let config = two_server_config(home.path(), &a.url(), &b.url());
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text
        .replace("name = \"alpha\"", &format!("name = \"{in_toml}\""))
        .replace("a = \"alpha\"", &format!("a = \"{in_toml}\""));
    std::fs::write(&config, text).expect("config");
    let ask = |extra: &[&str]| {
        let mut args = vec!["--config", &config, "ask"];
        args.extend(extra);
        run(duel(home.path(), &args).env("DUEL_CLI_KEY", KEY))
    };
    let inert = |s: &str| !s.contains(['\u{1b}', '\u{7}', '\u{202e}']);

    let (code, out, err) = ask(&["hi"]);
    assert_eq!(code, 0, "{err}");
    assert!(inert(&out), "ask into a pipe: {out:?}");
    assert!(out.contains("clear␛[2J title␛]0;pwned␇ done"), "{out}");
    let (_, raw, _) = ask(&["--raw", "hi"]);
    assert!(raw.contains(answer), "--raw keeps the bytes: {raw:?}");

    let (code, out, err) = run(&mut duel(home.path(), &["--config", &config, "models"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("evil␛]0;pwned␇"), "{out}");
    assert!(inert(&out), "models: {out:?}");

    // A conversation file someone shared, with that name in it.
    let ask_json = ask(&["--json", "hi"]).1;
    let side: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&ask_json).expect("JSON")["a"].clone();
    let dir = home.path().join("data").join("conversations");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let id = "00000000-0000-4000-8000-000000000001";
    let file = serde_json::json!({
        "schema": 1, "id": id, "created": "2026-11-23T18:53:46Z",
        "updated": "2026-11-23T18:53:46Z", "blind": false,
        "turns": [{"turn": 1, "time": "2026-11-23T18:53:46Z", "prompt": "p\u{1b}]0;x\u{7}",
                   "vote": null, "a": side, "b": side}]
    });
    std::fs::write(dir.join(format!("{id}.json")), file.to_string()).expect("write");
    let (code, out, err) = run(&mut duel(home.path(), &["history"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("evil␛]0;pwned␇"), "{out}");
    assert!(inert(&out), "history: {out:?}");

    // An error naming the model (here: a pair that is not configured) is inert too.
    let (code, _, err) = run(&mut duel(
        home.path(),
        &["--config", &config, "--a", "nope", "ask", "hi"],
    ));
    assert_eq!(code, 2);
    assert!(err.contains("evil␛]0;pwned␇"), "{err}");
    assert!(inert(&err), "stderr: {err:?}");
}

/// The README's vision pair parses, and each model takes what the README says it does.
#[test]
fn the_readme_vision_config_means_what_it_says() {
    use duel::attachment::Input;
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## Images and files in the prompt")
        .nth(1)
        .expect("the README's attachments section");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("its config block");
    let config = duel::config::parse_str(toml, None).expect("the README's config parses");
    let takes = |name: &str| {
        let model = config.model(name).expect("a model of the README");
        [Input::Image, Input::Pdf].map(|i| model.takes(i))
    };
    assert_eq!(takes("qwen-vl-max"), [true, false]);
    assert_eq!(takes("ernie-4.5-vl"), [true, false]);
    assert_eq!(takes("ernie-legacy"), [false, false]);
    assert_eq!(takes("qwen-max"), [false, false]);
}

/// The offline demo names what was attached (it reads none of it).
#[test]
fn ask_on_the_demo_models_names_the_attached_files() {
    let home = tempfile::tempdir().expect("tempdir");
    let chart = home.path().join("chart.png");
    std::fs::write(&chart, common::files::PNG).expect("write png");
    let args = [
        "--demo",
        "ask",
        "--attach",
        chart.to_str().expect("utf-8"),
        "hi",
    ];
    let (code, out, err) = run(duel(home.path(), &args).env("DUEL_DEMO_DELAY_MS", "0"));
    assert_eq!(code, 0, "{err}");
    let named = "You attached **chart.png** (image/png, 67 B): the demo only names them";
    assert_eq!(out.matches(named).count(), 2, "both demo models: {out}");
}
