//! `duel stats` and `duel export` run as a user would, on logs written the way the
//! TUI writes them, with no config file and no API key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::cli::{duel, run};
use serde_json::{Value, json};

fn side(model: &str, answer: &str) -> Value {
    json!({
        "model": model, "provider": "dashscope", "model_id": model,
        "history": [{"role": "system", "content": "Be brief."}],
        "answer": answer, "reasoning": null, "finish": "stop", "error": null,
        "ttft_ms": 312, "total_ms": 4200, "input_tokens": 20, "output_tokens": 512
    })
}

/// A record as SPEC §5 spells it; `n` makes the id, so tests can share records.
fn vote(n: u32, a: &str, b: &str, vote: &str, judge: &str, blind: bool) -> Value {
    json!({
        "schema": 1, "id": format!("00000000-0000-4000-8000-{n:012}"),
        "time": "2026-11-23T18:53:46.123Z",
        "conversation": "11111111-1111-4111-8111-111111111111", "turn": 1,
        "vote": vote, "blind": blind, "judge": judge,
        "prompt": format!("question {n}, with \"quotes\"\nand a line"),
        "a": side(a, &format!("{a} says {n}")), "b": side(b, &format!("{b} says {n}"))
    })
}

fn write_log(path: &Path, records: &[Value], extra: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let mut file = std::fs::File::create(path).expect("create log");
    for r in records {
        writeln!(file, "{r}").expect("write");
    }
    file.write_all(extra.as_bytes()).expect("write");
}

/// 30 votes, per 6: qwen (always side A) wins 3, loses 1, ties 1 and gets a
/// both-bad; alice casts 20 of them, bob 10 blind ones.
fn standard_votes() -> Vec<Value> {
    (0..30)
        .map(|n| {
            let (v, judge, blind) = match n % 6 {
                0 => ("a", "alice", false),
                1 => ("tie", "alice", false),
                2 => ("both_bad", "bob", true),
                3 => ("b", "bob", true),
                _ => ("a", "alice", false),
            };
            vote(n, "qwen-plus", "ernie-4.5", v, judge, blind)
        })
        .collect()
}

fn data_log(home: &Path) -> PathBuf {
    home.join("data").join("votes.jsonl")
}

#[test]
fn stats_json_has_the_spec_shape_and_reports_skipped_lines() {
    let home = tempfile::tempdir().expect("tempdir");
    write_log(
        &data_log(home.path()),
        &standard_votes(),
        "{\"schema\":1,\"id\"\n",
    );
    // A broken config file must not matter: stats reads only the log.
    std::fs::write(home.path().join("bad.toml"), "[[models]\n").expect("config");
    let (code, out, err) = run(
        duel(home.path(), &["stats", "--json", "--bootstrap", "200"])
            .env("DUEL_CONFIG", home.path().join("bad.toml")),
    );
    assert_eq!(code, 0, "stderr: {err}");
    assert!(err.contains("votes.jsonl:31: skipped"), "{err}");
    let json: Value = serde_json::from_str(&out).expect("JSON");
    let keys: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    // serde_json's map sorts its keys.
    assert_eq!(
        keys,
        [
            "judges",
            "models",
            "position_bias",
            "skipped_lines",
            "votes"
        ]
    );
    assert_eq!(json["votes"], 30);
    assert_eq!(json["skipped_lines"], 1);
    let models = json["models"].as_array().expect("models");
    assert_eq!(models.len(), 2);
    let qwen = &models[0];
    let fields: Vec<&str> = qwen
        .as_object()
        .expect("model")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = [
        "model", "rating", "ci_low", "ci_high", "rank", "battles", "wins", "ties", "losses",
        "win_rate",
    ];
    expected.sort_unstable();
    assert_eq!(fields, expected);
    // Printed in SPEC §6's order.
    let at = |key: &str| out.find(&format!("\"{key}\"")).expect(key);
    assert!(at("votes") < at("skipped_lines") && at("skipped_lines") < at("models"));
    assert!(
        at("rating") < at("ci_low") && at("ci_high") < at("rank") && at("losses") < at("win_rate")
    );
    assert_eq!(qwen["model"], "qwen-plus");
    assert_eq!(qwen["battles"], 30);
    assert_eq!(qwen["wins"], 15);
    assert_eq!(qwen["ties"], 10);
    assert_eq!(qwen["losses"], 5);
    assert_eq!(qwen["win_rate"], 0.5);
    assert_eq!(qwen["rank"], 1);
    // (15 + 10/2) / 30 = 2/3: a gap of 400·log10(2), centred on 1000.
    let gap =
        qwen["rating"].as_f64().expect("rating") - models[1]["rating"].as_f64().expect("rating");
    assert!((gap - 400.0 * 2f64.log10()).abs() < 0.1, "{gap}");
    let bias = &json["position_bias"];
    assert_eq!(bias["a_wins"], 15);
    assert_eq!(bias["b_wins"], 5);
    assert_eq!(bias["a_rate"], 0.75);
    assert!(bias["ci_low"].as_f64().expect("low") > 0.5);
    assert_eq!(
        json["judges"],
        json!([{"judge": "alice", "votes": 20}, {"judge": "bob", "votes": 10}])
    );
    // Seeded: the same output on every run.
    let (_, again, _) = run(&mut duel(
        home.path(),
        &["stats", "--json", "--bootstrap", "200"],
    ));
    assert_eq!(out, again);
}

#[test]
fn stats_merges_logs_by_id_and_filters_by_judge_and_blind() {
    let home = tempfile::tempdir().expect("tempdir");
    let votes = standard_votes();
    let (one, two) = (home.path().join("one.jsonl"), home.path().join("two.jsonl"));
    write_log(&one, &votes[..20], "");
    write_log(&two, &votes[10..], "");
    let (one, two) = (one.to_string_lossy(), two.to_string_lossy());
    let json = |extra: &[&str]| {
        let mut args = vec!["stats", "--json", "--bootstrap", "50", &one, &two];
        args.extend(extra);
        let (code, out, err) = run(&mut duel(home.path(), &args));
        assert_eq!(code, 0, "stderr: {err}");
        serde_json::from_str::<Value>(&out).expect("JSON")
    };
    assert_eq!(json(&[])["votes"], 30);
    let bob = json(&["--judge", "bob"]);
    assert_eq!(bob["votes"], 10);
    assert_eq!(bob["judges"], json!([{"judge": "bob", "votes": 10}]));
    assert_eq!(json(&["--blind-only"])["votes"], 10);
    assert_eq!(json(&["--judge", "alice", "--blind-only"])["votes"], 0);
    let matrix = json(&["--matrix"]);
    assert_eq!(
        matrix["matrix"]["models"],
        json!(["qwen-plus", "ernie-4.5"])
    );
    let fraction = matrix["matrix"]["win_fraction"][0][1]
        .as_f64()
        .expect("met");
    assert!((fraction - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(matrix["matrix"]["battles"][0][1], 30);
    assert_eq!(matrix["matrix"]["win_fraction"][0][0], Value::Null);
}

#[test]
fn stats_prints_a_leaderboard_and_the_side_bias() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut votes = standard_votes();
    votes.push(vote(99, "glm-4", "qwen-plus", "a", "alice", false));
    write_log(&data_log(home.path()), &votes, "");
    let (code, out, err) = run(&mut duel(home.path(), &["stats", "--matrix"]));
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        out.contains("31 votes, 31 battles between 3 models"),
        "{out}"
    );
    assert!(out.contains("RANK  MODEL"), "{out}");
    assert!(out.contains("glm-4 *"), "{out}");
    assert!(out.contains("fewer than 10 battles"), "{out}");
    assert!(
        out.contains("Position bias: A won 76% of 21 decisive votes"),
        "{out}"
    );
    assert!(out.contains("you favour side A"), "{out}");
    assert!(out.contains("Votes per judge: alice 21, bob 10"), "{out}");
    assert!(out.contains("Pairwise win fraction"), "{out}");
}

#[test]
fn stats_on_no_votes_says_so_and_exits_0() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, out, _) = run(&mut duel(home.path(), &["stats"]));
    assert_eq!(code, 0);
    assert!(out.contains("No votes yet"), "{out}");
    let (code, out, _) = run(&mut duel(home.path(), &["stats", "--json"]));
    assert_eq!(code, 0);
    let json: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["votes"], 0);
    assert_eq!(json["models"], json!([]));
    let (code, _, err) = run(&mut duel(home.path(), &["stats", "missing.jsonl"]));
    assert_eq!(code, 1);
    assert!(err.contains("missing.jsonl: no such vote log"), "{err}");
}

#[test]
fn export_writes_each_format() {
    let home = tempfile::tempdir().expect("tempdir");
    write_log(&data_log(home.path()), &standard_votes(), "not json\n");

    let (code, out, err) = run(&mut duel(home.path(), &["export", "--format", "dpo"]));
    assert_eq!(code, 0, "stderr: {err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 20);
    // Vote 0 is for A, vote 3 the first for B; ties and both-bad are left out.
    assert_eq!(lines[0]["chosen"][0]["content"], "qwen-plus says 0");
    assert_eq!(lines[0]["rejected"][0]["content"], "ernie-4.5 says 0");
    assert_eq!(lines[1]["chosen"][0]["content"], "ernie-4.5 says 3");
    assert_eq!(lines[1]["rejected"][0]["content"], "qwen-plus says 3");
    assert_eq!(
        lines[1]["prompt"][1]["content"],
        "question 3, with \"quotes\"\nand a line"
    );
    assert_eq!(lines[0]["prompt"][0]["role"], "system");

    let file = home.path().join("battles.json");
    let (code, _, err) = run(&mut duel(
        home.path(),
        &[
            "export",
            "--format",
            "arena",
            "--blind-only",
            "--out",
            &file.to_string_lossy(),
        ],
    ));
    assert_eq!(code, 0, "stderr: {err}");
    assert!(err.contains("wrote 10 battles"), "{err}");
    let battles: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("array");
    assert_eq!(battles.len(), 10);
    assert!(battles.iter().all(|b| b["anony"] == true));
    assert_eq!(battles[0]["winner"], "tie (bothbad)");
    assert_eq!(battles[1]["winner"], "model_b");
    // What FastChat's `elo_analysis.py --category english --style-control` reads:
    // every style element an int or a dict of ints.
    assert_eq!(battles[0]["language"], "English");
    let meta = battles[0]["conv_metadata"]
        .as_object()
        .expect("conv_metadata");
    let mut keys: Vec<&str> = meta.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "bold_count_a",
            "bold_count_b",
            "header_count_a",
            "header_count_b",
            "list_count_a",
            "list_count_b",
            "sum_assistant_a_tokens",
            "sum_assistant_b_tokens",
            "turns",
        ]
    );
    assert_eq!(meta["sum_assistant_b_tokens"], 512);
    assert_eq!(meta["bold_count_a"], json!({"**": 0, "__": 0}));
    assert_eq!(meta["list_count_b"], json!({"ordered": 0, "unordered": 0}));
    assert_eq!(meta["header_count_a"].as_object().expect("dict").len(), 6);

    let (code, out, _) = run(&mut duel(home.path(), &["export", "--format", "csv"]));
    assert_eq!(code, 0);
    assert!(
        out.starts_with("id,time,conversation,turn,attempt,vote,"),
        "{out}"
    );
    assert!(
        out.contains(",\"question 0, with \"\"quotes\"\"\nand a line\",,,,,\n"),
        "{out}"
    );
}

#[test]
fn votes_on_the_demo_models_stay_out_of_the_real_leaderboard() {
    // Votes an older duel --demo wrote into the real log.
    let home = tempfile::tempdir().expect("tempdir");
    let mut records = standard_votes();
    for n in 100..103 {
        let mut demo = vote(n, "demo-brisk", "demo-thoughtful", "a", "alice", false);
        demo["a"]["provider"] = json!("demo");
        demo["b"]["provider"] = json!("demo");
        records.push(demo);
    }
    write_log(&data_log(home.path()), &records, "");
    let (code, out, err) = run(&mut duel(home.path(), &["stats", "--json"]));
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["votes"], 30);
    assert!(!out.contains("demo-brisk"), "{out}");
    assert!(
        err.contains("left out 3 vote(s) on the offline demo models"),
        "{err}"
    );
    // Named explicitly, the demo's own log is read as it is.
    let demo_log = home.path().join("data").join("demo-votes.jsonl");
    write_log(&demo_log, &records[30..], "");
    let (code, out, _) = run(&mut duel(
        home.path(),
        &["stats", "--json", demo_log.to_str().expect("utf-8 path")],
    ));
    assert_eq!(code, 0);
    assert!(out.contains("demo-brisk"), "{out}");
}

#[test]
fn export_dpo_leaves_out_votes_where_a_side_failed_unless_asked() {
    let home = tempfile::tempdir().expect("tempdir");
    let with_b = |mut record: Value, finish: &str, error: Option<&str>| {
        record["b"]["finish"] = json!(finish);
        record["b"]["error"] = json!(error);
        if error.is_some() {
            record["b"]["answer"] = json!("");
        }
        record
    };
    let records = [
        with_b(
            vote(0, "qwen-plus", "ernie-4.5", "a", "alice", false),
            "error",
            Some("HTTP 500: upstream"),
        ),
        with_b(
            vote(1, "qwen-plus", "ernie-4.5", "a", "alice", false),
            "cancelled",
            None,
        ),
        vote(2, "qwen-plus", "ernie-4.5", "b", "alice", false),
        // Cut at the length limit: still a whole answer to learn from.
        with_b(
            vote(3, "qwen-plus", "ernie-4.5", "a", "alice", false),
            "length",
            None,
        ),
        with_b(
            vote(4, "qwen-plus", "ernie-4.5", "b", "alice", false),
            "filtered",
            None,
        ),
    ];
    write_log(&data_log(home.path()), &records, "");

    let (code, out, err) = run(&mut duel(home.path(), &["export", "--format", "dpo"]));
    assert_eq!(code, 0, "stderr: {err}");
    let chosen: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .map(|l| l["chosen"][0]["content"].as_str().expect("text").to_owned())
        .collect();
    assert_eq!(chosen, ["ernie-4.5 says 2", "qwen-plus says 3"]);
    assert!(
        err.contains(
            "duel: left out 3 votes where a side failed or was stopped \
             (--include-failed keeps them)"
        ),
        "{err}"
    );

    let (code, out, err) = run(&mut duel(
        home.path(),
        &["export", "--format", "dpo", "--include-failed"],
    ));
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out.lines().count(), 5);
    assert!(!err.contains("left out"), "{err}");

    // The other formats keep every vote; CSV with each side's error.
    let (_, out, _) = run(&mut duel(home.path(), &["export", "--format", "arena"]));
    let battles: Vec<Value> = serde_json::from_str(&out).expect("array");
    assert_eq!(battles.len(), 5);
    let (_, out, _) = run(&mut duel(home.path(), &["export", "--format", "csv"]));
    assert!(
        out.lines()
            .next()
            .expect("header")
            .contains(",output_tokens_b,error_a,error_b,prompt"),
        "{out}"
    );
    assert!(
        out.contains(",error,312,4200,20,512,,HTTP 500: upstream,"),
        "{out}"
    );
}
