//! `duel stats` and `duel export` run as a user would, on logs written the way the
//! TUI writes them, with no config file and no API key.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common;
use common::cli::run;

/// `duel ARGS` as `common::cli::duel` runs it, 1000 columns wide so that the tests
/// read whole sentences; a test of the wrapping sets its own `COLUMNS`.
fn duel(home: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = common::cli::duel(home, args);
    cmd.env("COLUMNS", "1000");
    cmd
}
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
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
            "failed_left_out",
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
        out.contains(",\"question 0, with \"\"quotes\"\"\nand a line\",,,,,,\n"),
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
        err.contains("left out 3 votes on the offline demo models (`--demo` shows those)"),
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
fn export_reads_the_logs_it_is_given_and_says_on_stderr_what_it_left_out() {
    let home = tempfile::tempdir().expect("tempdir");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/votes.jsonl");
    let (code, out, err) = run(&mut duel(
        home.path(),
        &["export", "--format", "dpo", example],
    ));
    assert_eq!(code, 0, "{err}");
    let pairs = out.lines().count();
    assert!(pairs > 300, "{pairs} pairs");
    assert!(
        out.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "stdout holds only the data"
    );
    assert!(
        err.contains(&format!("{pairs} preference pairs ("))
            && err.contains("examples/votes.jsonl"),
        "{err}"
    );
    let (code, _, err) = run(&mut duel(
        home.path(),
        &["export", "--format", "csv", "no-such-log.jsonl"],
    ));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no-such-log.jsonl: no such vote log"), "{err}");
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
    assert!(!err.contains("where a side failed"), "{err}");

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

/// A vote on `item` of `run`, `a` shown as A: `winner` is the model that won (None: a
/// tie). qwen answers at length, ernie briefly.
fn run_vote(
    n: u32,
    (run, item): (&str, u32),
    (a, b): (&str, &str),
    winner: Option<&str>,
    judge: &str,
) -> Value {
    let v = match winner {
        Some(w) if w == a => "a",
        Some(_) => "b",
        None => "tie",
    };
    let mut r = vote(n, a, b, v, judge, !judge.starts_with("llm:"));
    r["run"] = json!(run);
    r["item"] = json!(item.to_string());
    for side in ["a", "b"] {
        let long = r[side]["model"] == "qwen-plus";
        r[side]["answer"] = json!(if long {
            "a long and careful answer"
        } else {
            "brief"
        });
    }
    r
}

/// A model judge's vote: `verdicts` as it wrote them, the vote their combination.
fn judged(n: u32, item: u32, (a, b): (&str, &str), verdicts: [&str; 2], judge: &str) -> Value {
    let winner = match verdicts {
        ["A", "B"] => Some(a),
        ["B", "A"] => Some(b),
        _ => None,
    };
    let mut r = run_vote(n, ("r1", item), (a, b), winner, judge);
    r["verdicts"] = json!(verdicts);
    r["reason"] = json!("because");
    r
}

const E: &str = "ernie-4.5";
const Q: &str = "qwen-plus";

/// Ten items of run r1 judged by alice, by llm:gpt-4o and by llm:first, which always
/// picks the answer shown first.
fn agreement_votes() -> Vec<Value> {
    // Who won each item, for alice and for gpt-4o (None: a tie).
    let alice = [E, E, E, E, Q, Q, "", E, Q, ""];
    let gpt = [E, E, E, Q, Q, Q, "", "", E, E];
    fn won(w: &str) -> Option<&str> {
        (!w.is_empty()).then_some(w)
    }
    let mut votes = Vec::new();
    for i in 0..10u32 {
        // Each judge is shown the two models in its own order.
        let shown = |flip: bool| if flip { (Q, E) } else { (E, Q) };
        votes.push(run_vote(
            i,
            ("r1", i),
            shown(i % 2 == 1),
            won(alice[i as usize]),
            "alice",
        ));
        let (a, b) = shown(i % 2 == 0);
        let verdicts = match (i, gpt[i as usize]) {
            // Flips with the order: a tie.
            (6, _) => ["A", "A"],
            (7, _) => ["C", "C"],
            (_, w) if w == a => ["A", "B"],
            _ => ["B", "A"],
        };
        votes.push(judged(100 + i, i, (a, b), verdicts, "llm:gpt-4o"));
        votes.push(judged(
            200 + i,
            i,
            shown(i % 3 == 0),
            ["A", "A"],
            "llm:first",
        ));
    }
    // alice's earlier vote on item 0, later in the log: her latest one counts.
    let mut early = run_vote(300, ("r1", 0), (E, Q), Some(Q), "alice");
    early["time"] = json!("2026-11-22T09:00:00.000Z");
    votes.push(early);
    votes
}

#[test]
fn stats_agreement_matches_hand_computed_kappa() {
    let home = tempfile::tempdir().expect("tempdir");
    write_log(&data_log(home.path()), &agreement_votes(), "");
    let (code, out, err) = run(&mut duel(
        home.path(),
        &["stats", "--agreement", "--json", "--bootstrap", "50"],
    ));
    assert_eq!(code, 0, "stderr: {err}");
    let json: Value = serde_json::from_str(&out).expect("JSON");
    let pairs = json["agreement"].as_array().expect("agreement");
    let judges: Vec<&Value> = pairs.iter().map(|p| &p["judges"]).collect();
    assert_eq!(
        judges,
        [
            &json!(["alice", "llm:first"]),
            &json!(["alice", "llm:gpt-4o"]),
            &json!(["llm:first", "llm:gpt-4o"])
        ]
    );
    // alice against gpt-4o, who won each item (E ernie, Q qwen, T tie):
    //   alice  E E E E Q Q T E Q T
    //   gpt    E E E Q Q Q T T E E
    // Same on items 0 1 2 4 5 6: observed 6/10.
    // alice: E 5, Q 3, T 2; gpt: E 5, Q 3, T 2. Chance = .5·.5 + .3·.3 + .2·.2 = .38.
    // kappa = (.6 − .38) / (1 − .38) = .22 / .62 = 0.3548387…
    // Without ties (items 0 1 2 3 4 5 8): same on 5 of 7.
    let gpt = &pairs[1];
    assert_eq!(gpt["items"], 10);
    let f = |v: &Value| v.as_f64().expect("a number");
    assert!((f(&gpt["agree"]) - 0.6).abs() < 1e-9, "{gpt}");
    assert!((f(&gpt["agree_no_ties"]) - 5.0 / 7.0).abs() < 1e-9, "{gpt}");
    assert!((f(&gpt["kappa"]) - 0.22 / 0.62).abs() < 1e-9, "{gpt}");
    assert!(f(&gpt["kappa_low"]) <= f(&gpt["kappa"]) && f(&gpt["kappa"]) <= f(&gpt["kappa_high"]));
    // llm:first says tie on all ten: alice's ties (2 of 10) agree, which is all that
    // chance gives; kappa is undefined (a judge that never varies). No item without
    // a tie.
    let first = &pairs[0];
    assert!((f(&first["agree"]) - 0.2).abs() < 1e-9, "{first}");
    assert_eq!(first["kappa"], Value::Null, "{first}");
    assert_eq!(first["agree_no_ties"], Value::Null);
    let mut keys: Vec<&str> = gpt
        .as_object()
        .expect("entry")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "agree",
            "agree_no_ties",
            "items",
            "judges",
            "kappa",
            "kappa_high",
            "kappa_low"
        ]
    );

    // gpt-4o keeps its verdict on 9 of 10 (item 6 flips); its 8 decisive votes went
    // to ernie 5 times, to qwen (the longer answer) 3 times.
    assert_eq!(
        json["judges_consistency"],
        json!([
            {"judge": "llm:first", "pairs": 10, "consistent": 0.0, "longer_preferred": null},
            {"judge": "llm:gpt-4o", "pairs": 10, "consistent": 0.9, "longer_preferred": 0.375}
        ])
    );
    // Seeded: the same intervals every time.
    let (_, again, _) = run(&mut duel(
        home.path(),
        &["stats", "--agreement", "--json", "--bootstrap", "50"],
    ));
    assert_eq!(out, again);

    let (code, text, err) = run(&mut duel(home.path(), &["stats", "--agreement"]));
    assert_eq!(code, 0, "stderr: {err}");
    let row = text
        .lines()
        .find(|l| l.starts_with("alice vs llm:gpt-4o"))
        .expect(&text);
    let cells: Vec<&str> = row
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells[..5],
        ["alice vs llm:gpt-4o", "10", "60%", "71% of 7", "0.35"],
        "{text}"
    );
    assert!(
        text.contains("Note: alice vs llm:gpt-4o: only 10 common items"),
        "{text}"
    );
    assert!(
        text.contains("Note: llm:first: keeps its verdict on only 0% of pairs"),
        "{text}"
    );
    assert!(text.contains("alice (person)"), "{text}");
    assert!(text.contains("GPT-4 agreed with people on 66%"), "{text}");
}

#[test]
fn stats_json_carries_every_agreement_doubt_the_text_prints() {
    let home = tempfile::tempdir().expect("tempdir");
    write_log(&data_log(home.path()), &agreement_votes(), "");
    let args = ["stats", "--agreement", "--bootstrap", "50"];
    let (code, text, err) = run(&mut duel(home.path(), &args));
    assert_eq!(code, 0, "stderr: {err}");
    let (code, out, err) = run(&mut duel(home.path(), &[&args[..], &["--json"]].concat()));
    assert_eq!(code, 0, "stderr: {err}");
    let json: Value = serde_json::from_str(&out).expect("JSON");
    let doubts = json["agreement_doubts"]
        .as_array()
        .expect("agreement_doubts");
    let notes: Vec<&str> = text.lines().filter(|l| l.starts_with("Note: ")).collect();
    assert!(notes.len() >= 3, "{text}");
    assert_eq!(doubts.len(), notes.len(), "{text}\n{out}");
    // One doubt per note, in the text's order, about the same judges.
    for (doubt, note) in doubts.iter().zip(&notes) {
        let who: Vec<&str> = doubt["judges"]
            .as_array()
            .expect("judges")
            .iter()
            .map(|j| j.as_str().expect("a name"))
            .collect();
        assert!(
            note.starts_with(&format!("Note: {}: ", who.join(" vs "))),
            "{note}: {doubt}"
        );
    }
    let kinds: Vec<&str> = doubts
        .iter()
        .map(|d| d["doubt"].as_str().expect("kind"))
        .collect();
    assert!(kinds.contains(&"few_items"), "{out}");
    assert!(kinds.contains(&"kappa_undefined"), "{out}");
    assert!(kinds.contains(&"follows_position"), "{out}");
    let few = doubts
        .iter()
        .find(|d| d["doubt"] == "few_items" && d["judges"] == json!(["alice", "llm:gpt-4o"]))
        .expect("alice vs gpt-4o: few items");
    assert_eq!(few["items"], 10);
    assert!(
        text.contains("Note: alice vs llm:gpt-4o: only 10 common items"),
        "{text}"
    );
    let first = doubts
        .iter()
        .find(|d| d["doubt"] == "follows_position")
        .expect("llm:first follows the position");
    assert_eq!(first["judges"], json!(["llm:first"]));
    assert_eq!(first["consistent"], 0.0);
    // People's taste for length, which the text sets beside the model judges'.
    assert_eq!(json["people_longer_preferred"][0]["judge"], "alice");
}

#[test]
fn a_judge_that_always_picks_the_first_answer_only_ever_ties() {
    let home = tempfile::tempdir().expect("tempdir");
    write_log(&data_log(home.path()), &agreement_votes(), "");
    let (code, out, err) = run(&mut duel(
        home.path(),
        &["stats", "--json", "--agreement", "--judge", "llm:first"],
    ));
    assert_eq!(code, 0, "stderr: {err}");
    let json: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["votes"], 10);
    for model in json["models"].as_array().expect("models") {
        assert_eq!(model["battles"], 10, "{model}");
        assert_eq!(model["ties"], 10, "{model}");
    }
    assert_eq!(json["agreement"], json!([]));
    assert_eq!(json["judges_consistency"][0]["consistent"], 0.0);
    let (_, text, _) = run(&mut duel(
        home.path(),
        &["stats", "--agreement", "--judge", "llm:first"],
    ));
    assert!(
        text.contains("--judge llm:first keeps one judge's votes"),
        "{text}"
    );
}

#[test]
fn stats_without_shared_items_says_how_to_get_some() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut votes: Vec<Value> = (0..5)
        .map(|i| run_vote(i, ("r1", i), (E, Q), Some(E), "alice"))
        .collect();
    votes.extend((5..10).map(|i| judged(i, i, (Q, E), ["A", "B"], "llm:gpt-4o")));
    // A chat vote is on no run's pair.
    votes.push(vote(20, E, Q, "a", "llm:gpt-4o", false));
    write_log(&data_log(home.path()), &votes, "");
    let (code, text, err) = run(&mut duel(home.path(), &["stats", "--agreement"]));
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        text.contains("no two judges voted on the same pair of a run"),
        "{text}"
    );
    assert!(text.contains("duel review RUN"), "{text}");
    assert!(text.contains("duel judge RUN --with MODEL"), "{text}");
    let (_, out, _) = run(&mut duel(home.path(), &["stats", "--agreement", "--json"]));
    let json: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["agreement"], json!([]));
    assert_eq!(json["judges_consistency"][0]["pairs"], 5);
    let (_, out, _) = run(&mut duel(home.path(), &["stats", "--json"]));
    assert!(!out.contains("\"agreement\""), "only when asked: {out}");
}

#[test]
fn stats_filters_by_run_and_category() {
    let home = tempfile::tempdir().expect("tempdir");
    let nightly = "20261129-nightly-7f3a";
    let run_dir = home.path().join("data").join("runs").join(nightly);
    std::fs::create_dir_all(&run_dir).expect("run dir");
    std::fs::write(
        run_dir.join("run.json"),
        json!({
            "id": nightly, "name": "nightly", "suite": "suite.jsonl", "suite_sha256": "",
            "models": [Q, E], "settings": {}, "created": "2026-11-29T10:00:00.000Z"
        })
        .to_string(),
    )
    .expect("run.json");
    let mut votes = Vec::new();
    // The nightly run: qwen wins all six, four coding items and two math ones.
    for i in 0..6 {
        let mut r = run_vote(i, (nightly, i), (Q, E), Some(Q), "alice");
        r["category"] = json!(if i < 4 { "coding" } else { "math" });
        votes.push(r);
    }
    // Run r2 from another machine (not in this data dir): ernie wins three coding items.
    for i in 0..3 {
        let mut r = run_vote(10 + i, ("r2", i), (Q, E), Some(E), "bob");
        r["category"] = json!("coding");
        votes.push(r);
    }
    // Two chat votes.
    votes.push(vote(20, Q, E, "tie", "alice", false));
    votes.push(vote(21, Q, E, "a", "alice", false));
    write_log(&data_log(home.path()), &votes, "");

    let stats = |extra: &[&str]| {
        let mut args = vec!["stats", "--json", "--bootstrap", "20"];
        args.extend(extra);
        let (code, out, err) = run(&mut duel(home.path(), &args));
        assert_eq!(code, 0, "stderr: {err}");
        (serde_json::from_str::<Value>(&out).expect("JSON"), err)
    };
    let qwen = |json: &Value| {
        let models = json["models"].as_array().expect("models");
        let q = models.iter().find(|m| m["model"] == Q).expect("qwen");
        (q["battles"].clone(), q["wins"].clone(), q["losses"].clone())
    };
    assert_eq!(stats(&[]).0["votes"], 11);
    for name in ["nightly", "2026112", nightly, "last"] {
        let (json, _) = stats(&["--run", name]);
        assert_eq!(json["votes"], 6, "--run {name}");
        assert_eq!(qwen(&json), (json!(6), json!(6), json!(0)), "--run {name}");
    }
    let (r2, err) = stats(&["--run", "r2"]);
    assert_eq!(qwen(&r2), (json!(3), json!(0), json!(3)));
    assert!(err.is_empty(), "{err}");
    let (coding, _) = stats(&["--category", "coding"]);
    assert_eq!(qwen(&coding), (json!(7), json!(4), json!(3)));
    let (math, _) = stats(&["--run", "nightly", "--category", "math", "--matrix"]);
    assert_eq!(math["votes"], 2);
    assert_eq!(math["matrix"]["battles"][0][1], 2);
    let (bob, _) = stats(&["--category", "coding", "--judge", "bob"]);
    assert_eq!(bob["votes"], 3);
    let (none, err) = stats(&["--run", "nope"]);
    assert_eq!(none["votes"], 0);
    assert!(err.contains("no vote here is on a run \"nope\""), "{err}");

    let (_, text, _) = run(&mut duel(home.path(), &["stats", "--run", "nightly"]));
    assert!(
        text.contains(&format!("(only run nightly ({nightly}): 6 of 11 votes)")),
        "{text}"
    );
    let (_, text, _) = run(&mut duel(home.path(), &["stats", "--category", "Coding"]));
    assert!(
        text.contains("(only category Coding: 7 of 11 votes)"),
        "case does not matter: {text}"
    );
    let (_, text, _) = run(&mut duel(home.path(), &["stats", "--category", "poetry"]));
    assert!(
        text.contains("None of the 11 votes is left after the filter (category poetry)"),
        "{text}"
    );
    assert!(
        text.contains("Categories in these logs: coding, english, math."),
        "the items' categories and the prompts' languages: {text}"
    );
}

/// 40 votes: on 20 Chinese prompts qwen wins 16; on 20 coding items (English
/// prompts) it wins 5.
fn language_and_code_votes() -> Vec<Value> {
    (0..40)
        .map(|n| {
            let mut v = if n < 20 {
                vote(n, Q, E, if n < 16 { "a" } else { "b" }, "alice", true)
            } else {
                vote(n, Q, E, if n < 25 { "a" } else { "b" }, "alice", true)
            };
            if n < 20 {
                v["prompt"] = json!(format!("请用三句话介绍第{n}个城市的历史"));
            } else {
                v["prompt"] = json!(format!("Write a function that parses record {n}"));
                v["category"] = json!("coding");
            }
            v
        })
        .collect()
}

#[test]
fn by_category_shows_who_wins_where_and_category_also_means_the_prompt_s_language() {
    let home = tempfile::tempdir().expect("tempdir");
    write_log(&data_log(home.path()), &language_and_code_votes(), "");
    let (code, text, err) = run(&mut duel(home.path(), &["stats", "--by-category"]));
    assert_eq!(code, 0, "{err}");
    // coding and english hold the same 20 votes, chinese the other 20.
    let block = |name: &str| {
        let start = text
            .find(&format!("\n{name} · 20 votes"))
            .unwrap_or_else(|| panic!("{text}"));
        text[start..]
            .lines()
            .skip(3)
            .take(2)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let chinese = block("chinese");
    assert!(
        chinese.lines().next().unwrap().contains("qwen-plus"),
        "{text}"
    );
    assert!(chinese.contains("80.0%"), "{chinese}");
    let coding = block("coding");
    assert!(
        coding.lines().next().unwrap().contains("ernie-4.5"),
        "{text}"
    );
    assert!(coding.contains("75.0%"), "{coding}");

    let json = |args: &[&str]| -> Value {
        let (code, out, err) = run(&mut duel(
            home.path(),
            &[&["stats", "--json"], args].concat(),
        ));
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).expect("JSON")
    };
    assert_eq!(json(&["--category", "chinese"])["votes"], 20);
    assert_eq!(json(&["--category", "English"])["votes"], 20);
    assert_eq!(json(&["--category", "coding"])["votes"], 20);
    let boards = json(&["--by-category"])["by_category"].clone();
    let names: Vec<&str> = boards
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["category"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["chinese", "coding", "english"]);
}

#[test]
fn the_pair_says_how_likely_and_how_many_more_votes_would_settle_it() {
    let home = tempfile::tempdir().expect("tempdir");
    write_log(&data_log(home.path()), &language_and_code_votes(), "");
    // 21 of 40 for qwen: far from settled.
    let (code, text, _) = run(&mut duel(home.path(), &["stats"]));
    assert_eq!(code, 0);
    assert!(
        text.contains("Enough to decide? qwen-plus against ernie-4.5"),
        "{text}"
    );
    assert!(
        text.contains("Head to head, qwen-plus won 52% of 40 votes"),
        "{text}"
    );
    assert!(
        text.contains("Not settled: their 95% intervals overlap (both rank 1). About "),
        "{text}"
    );
    assert!(
        text.contains("would settle it in qwen-plus's favour if the ratings hold."),
        "{text}"
    );
    let (code, out, _) = run(&mut duel(
        home.path(),
        &[
            "stats",
            "--json",
            "--category",
            "chinese",
            "--pair",
            "ernie-4.5,qwen-plus",
        ],
    ));
    assert_eq!(code, 0);
    let d = &serde_json::from_str::<Value>(&out).expect("JSON")["decision"];
    assert_eq!(d["a"], "ernie-4.5");
    assert_eq!(d["win_rate"], 0.2);
    assert_eq!(d["settled"], true, "4 of 20 is clear at 95%");
    assert!(d["prob_a_better"].as_f64().unwrap() < 0.01, "{d}");
    let (code, _, err) = run(&mut duel(
        home.path(),
        &["stats", "--pair", "qwen-plus,glm-4"],
    ));
    assert_eq!(code, 2);
    assert!(err.contains("glm-4 has no votes here"), "{err}");
}

#[test]
fn the_example_log_in_the_readme_reads_whole() {
    let home = tempfile::tempdir().expect("tempdir");
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/votes.jsonl");
    let (code, out, err) = run(&mut duel(
        home.path(),
        &["stats", log, "--json", "--by-category"],
    ));
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        (json["votes"].as_u64(), json["skipped_lines"].as_u64()),
        (Some(480), Some(0))
    );
    assert_eq!(json["models"].as_array().expect("models").len(), 4);
    assert_eq!(json["by_category"].as_array().expect("categories").len(), 5);
}

/// 600 votes between two equally strong models: "verbose" writes about three times
/// the tokens of "terse", and the judge prefers the longer answer whoever wrote it
/// (log odds 2.5 per unit of (a − b) / (a + b + 1), LMArena's normalised difference).
/// A third of the answers have a bold span, which decides nothing; no answer has a
/// header or a list. Alice casts the even votes, bob (blind) the odd.
fn length_biased_votes() -> Vec<Value> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    (0..600)
        .map(|n| {
            let (a, b) = if n % 2 == 0 {
                ("verbose", "terse")
            } else {
                ("terse", "verbose")
            };
            let mut answer = |model: &str| {
                let typical = if model == "verbose" { 600.0 } else { 200.0 };
                let tokens = (typical * rng.random_range(0.3..1.7)) as u64;
                let bold = if rng.random::<f64>() < 0.33 {
                    " with **bold**"
                } else {
                    ""
                };
                let mut s = side(model, &format!("{model} answers {n}{bold}"));
                s["output_tokens"] = json!(tokens);
                (s, tokens as f64)
            };
            let ((side_a, ta), (side_b, tb)) = (answer(a), answer(b));
            let p = 1.0 / (1.0 + (-2.5 * (ta - tb) / (ta + tb + 1.0)).exp());
            let v = if rng.random::<f64>() < p { "a" } else { "b" };
            let (judge, blind) = if n % 2 == 0 {
                ("alice", false)
            } else {
                ("bob", true)
            };
            let mut record = vote(n, a, b, v, judge, blind);
            record["a"] = side_a;
            record["b"] = side_b;
            record
        })
        .collect()
}

#[test]
fn stats_style_control_holds_style_equal() {
    let home = tempfile::tempdir().expect("tempdir");
    write_log(&data_log(home.path()), &length_biased_votes(), "");
    let json = |extra: &[&str]| {
        let mut args = vec!["stats", "--json", "--bootstrap", "200", "--style-control"];
        args.extend(extra);
        let (code, out, err) = run(&mut duel(home.path(), &args));
        assert_eq!(code, 0, "stderr: {err}");
        serde_json::from_str::<Value>(&out).expect("JSON")
    };
    let all = json(&[]);
    let keys =
        |v: &Value| -> Vec<String> { v.as_object().expect("object").keys().cloned().collect() };
    assert_eq!(keys(&all["style_control"]), ["coefficients", "models"]);
    let style = all["style_control"]["models"].as_array().expect("models");
    assert_eq!(style.len(), 2);
    for m in style {
        assert_eq!(keys(m), ["ci_high", "ci_low", "model", "rank", "rating"]);
    }
    let coefficients = all["style_control"]["coefficients"]
        .as_array()
        .expect("coefficients");
    let features: Vec<&str> = coefficients
        .iter()
        .map(|c| c["feature"].as_str().expect("feature"))
        .collect();
    assert_eq!(features, ["length", "headers", "lists", "bold"]);
    for c in coefficients {
        assert_eq!(keys(c), ["ci_high", "ci_low", "feature", "value"]);
    }

    let find = |list: &Value, name: &str| -> (f64, f64, f64) {
        let m = list
            .as_array()
            .expect("list")
            .iter()
            .find(|m| m["model"] == name)
            .expect(name);
        let f = |k: &str| m[k].as_f64().expect(k);
        (f("rating"), f("ci_low"), f("ci_high"))
    };
    // The plain ratings tell the two apart: the verbose model looks better.
    let (_, verbose_low, _) = find(&all["models"], "verbose");
    let (_, _, terse_high) = find(&all["models"], "terse");
    assert!(verbose_low > terse_high, "{}", all["models"]);
    // With style held equal, each rating lies inside the other's interval.
    let (v, v_low, v_high) = find(&all["style_control"]["models"], "verbose");
    let (t, t_low, t_high) = find(&all["style_control"]["models"], "terse");
    assert!(v_low < t && t < v_high, "{}", all["style_control"]);
    assert!(t_low < v && v < t_high, "{}", all["style_control"]);
    assert!(style.iter().all(|m| m["rank"] == 1));
    // Longer answers win, and the interval leaves out 0; bold decides nothing.
    let length = &coefficients[0];
    assert!(length["value"].as_f64().expect("value") > 0.0, "{length}");
    assert!(length["ci_low"].as_f64().expect("low") > 0.0, "{length}");
    let bold = &coefficients[3];
    assert!(bold["ci_low"].as_f64().expect("low") < 0.0, "{bold}");
    assert!(bold["ci_high"].as_f64().expect("high") > 0.0, "{bold}");
    // Never a header or a list: left out, as nulls.
    for c in &coefficients[1..3] {
        assert_eq!(
            (&c["value"], &c["ci_low"], &c["ci_high"]),
            (&Value::Null, &Value::Null, &Value::Null)
        );
    }

    // The filters apply to it as to the plain ratings.
    let bob = json(&["--judge", "bob"]);
    assert_eq!(bob["votes"], 300);
    assert_ne!(bob["style_control"], all["style_control"]);
    assert_eq!(
        json(&["--blind-only"])["style_control"],
        bob["style_control"]
    );
    let nobody = json(&["--judge", "nobody"]);
    assert_eq!(nobody["style_control"]["models"], json!([]));
    // Without the flag, no such key.
    let (_, plain, _) = run(&mut duel(home.path(), &["stats", "--json"]));
    assert!(!plain.contains("style_control"), "{plain}");

    let (code, text, err) = run(&mut duel(
        home.path(),
        &["stats", "--style-control", "--bootstrap", "200"],
    ));
    assert_eq!(code, 0, "stderr: {err}");
    assert!(text.contains("With style held equal"), "{text}");
    assert!(text.contains("95% CI  PLAIN  CHANGE"), "{text}");
    assert!(text.contains("longer answers win: +"), "{text}");
    assert!(text.contains("excludes 0)"), "{text}");
    assert!(text.contains("includes 0: could be chance)"), "{text}");
    assert!(
        text.contains("headers: never differs between the two answers"),
        "{text}"
    );
    // Bold varies within the pair: nothing is tied to the models.
    assert!(!text.contains("barely tell"), "{text}");
    // The verbose model loses points once its length no longer speaks for it.
    let row = text
        .lines()
        .skip_while(|l| !l.starts_with("With style held equal"))
        .find(|l| l.contains("verbose"))
        .expect("verbose's row");
    let change = row.split_whitespace().last().expect("change");
    assert!(change.starts_with('-'), "{row}");
}

const EXAMPLE_LOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/votes.jsonl");

/// `duel stats ARGS` on the example log, piped at `columns`: exit 0, stdout.
fn example_stats(home: &Path, columns: usize, args: &[&str]) -> String {
    let mut all = vec!["stats", EXAMPLE_LOG];
    all.extend(args);
    let (code, out, err) = run(duel(home, &all).env("COLUMNS", columns.to_string()));
    assert_eq!(code, 0, "duel {all:?}: {err}");
    out
}

/// The side `side` of `record` failed as a missing key makes it fail.
fn failed(mut record: Value, side: &str) -> Value {
    record[side]["finish"] = json!("error");
    record[side]["error"] = json!("QIANFAN_API_KEY is not set");
    record[side]["answer"] = json!("");
    record
}

#[test]
fn a_vote_where_a_side_failed_is_no_battle_in_any_view_unless_asked() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut votes = standard_votes();
    // Both sides failed on a missing key, and a vote was cast anyway.
    votes.push(failed(
        failed(vote(40, "deepseek-chat", "glm-4", "a", "alice", false), "a"),
        "b",
    ));
    votes.push(failed(
        vote(41, "qwen-plus", "glm-4", "a", "alice", false),
        "b",
    ));
    let mut cut = vote(42, "glm-4", "qwen-plus", "b", "bob", true);
    cut["a"]["finish"] = json!("cancelled");
    votes.push(cut);
    write_log(&data_log(home.path()), &votes, "");
    let page = home.path().join("page.html");
    let page_arg = page.to_str().expect("path");

    let (code, text, err) = run(&mut duel(
        home.path(),
        &[
            "stats",
            "--plot",
            "--by-category",
            "--style-control",
            "--agreement",
            "--html",
            page_arg,
        ],
    ));
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains(
            "(3 votes where a side failed, was stopped or was filtered left out; \
             --include-failed keeps them)"
        ),
        "{text}"
    );
    for model in ["glm-4", "deepseek-chat"] {
        assert!(!text.contains(model), "{model} in {text}");
        let html = std::fs::read_to_string(&page).expect("page");
        assert!(!html.contains(model), "{model} in the page");
    }
    assert!(
        text.contains("30 votes, 30 battles between 2 models"),
        "{text}"
    );

    let (_, out, _) = run(&mut duel(
        home.path(),
        &[
            "stats",
            "--json",
            "--by-category",
            "--style-control",
            "--agreement",
        ],
    ));
    let json: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        (json["votes"].as_u64(), json["failed_left_out"].as_u64()),
        (Some(30), Some(3))
    );
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("list")
            .iter()
            .map(|m| m["model"].as_str().expect("model").to_owned())
            .collect()
    };
    assert_eq!(names(&json["models"]), ["qwen-plus", "ernie-4.5"]);
    assert_eq!(names(&json["style_control"]["models"]).len(), 2);
    for board in json["by_category"].as_array().expect("categories") {
        assert!(names(&board["models"]).len() <= 2, "{board}");
    }
    assert_eq!(json["position_bias"]["a_wins"].as_u64(), Some(15));

    // Kept when asked; one battle gives no interval, never a "±0" one.
    let (code, text, err) = run(&mut duel(home.path(), &["stats", "--include-failed"]));
    assert_eq!(code, 0, "{err}");
    assert!(!text.contains("left out"), "{text}");
    let row = text
        .lines()
        .find(|l| l.contains("deepseek-chat"))
        .expect(&text);
    assert!(row.contains("too few votes"), "{row}");
    assert!(!text.contains("-0/+0"), "{text}");
    let (_, out, _) = run(&mut duel(
        home.path(),
        &["stats", "--include-failed", "--json"],
    ));
    let json: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["failed_left_out"].as_u64(), Some(0));
    let deepseek = json["models"]
        .as_array()
        .expect("models")
        .iter()
        .find(|m| m["model"] == "deepseek-chat")
        .expect("deepseek-chat");
    assert_eq!(
        (&deepseek["ci_low"], &deepseek["ci_high"]),
        (&Value::Null, &Value::Null)
    );
}

#[test]
fn settled_is_one_rule_that_matches_the_ranks_in_text_chart_page_and_json() {
    let home = tempfile::tempdir().expect("tempdir");
    let (_, out, _) = run(&mut duel(home.path(), &["stats", EXAMPLE_LOG, "--json"]));
    let json: Value = serde_json::from_str(&out).expect("JSON");
    let models = json["models"].as_array().expect("models").clone();
    let bound = |m: &Value, k: &str| m[k].as_f64().expect(k);
    for x in &models {
        for y in &models {
            if x["model"] == y["model"] {
                continue;
            }
            let pair = format!(
                "{},{}",
                x["model"].as_str().expect("name"),
                y["model"].as_str().expect("name")
            );
            let out = example_stats(home.path(), 80, &["--json", "--pair", &pair]);
            let d = serde_json::from_str::<Value>(&out).expect("JSON")["decision"].clone();
            let apart = bound(x, "ci_low") > bound(y, "ci_high")
                || bound(y, "ci_low") > bound(x, "ci_high");
            assert_eq!(d["settled"].as_bool(), Some(apart), "{pair}: {d}");
            if x["rank"] == y["rank"] {
                assert_eq!(d["settled"], false, "{pair}: same rank, yet settled");
            }
            let text = example_stats(home.path(), 80, &["--pair", &pair]);
            assert_eq!(text.contains("Settled in"), apart, "{pair}: {text}");
            assert!(!text.contains("That settles it"), "{text}");
        }
    }
    // The top two share rank 1: the text under the board must not call it settled.
    let text = example_stats(home.path(), 80, &["--plot"]);
    assert!(text.contains("Not settled"), "{text}");
    assert!(
        text.contains("bars that overlap are not settled, whatever their ranks"),
        "{text}"
    );
    let page = home.path().join("page.html");
    example_stats(home.path(), 80, &["--html", page.to_str().expect("path")]);
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(html.contains("<h2>Enough to decide?</h2>"), "{html}");
    assert!(html.contains("Not settled"), "{html}");
    assert!(html.contains("<p class=\"legend\">"), "{html}");
    assert!(
        !html.contains("cannot yet tell those models apart"),
        "{html}"
    );
}

/// The README's example outputs of `duel stats examples/votes.jsonl …`: each fenced
/// block that starts with such a `$` line, as (arguments, expected lines).
fn readme_examples() -> Vec<(Vec<String>, Vec<String>)> {
    let readme = include_str!("../../README.md");
    let mut found = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```" {
            continue;
        }
        let block: Vec<String> = lines
            .by_ref()
            .take_while(|l| l.trim() != "```")
            .map(str::to_owned)
            .collect();
        let Some(args) = block
            .first()
            .and_then(|l| l.strip_prefix("$ duel stats examples/votes.jsonl"))
        else {
            continue;
        };
        let args = args.split_whitespace().map(str::to_owned).collect();
        found.push((args, block[1..].to_vec()));
    }
    found
}

#[test]
fn the_readme_shows_what_stats_prints_on_the_example_log() {
    let home = tempfile::tempdir().expect("tempdir");
    let examples = readme_examples();
    let shown: Vec<String> = examples.iter().map(|(args, _)| args.join(" ")).collect();
    for wanted in ["--style-control", "--by-category", "--plot", "--pair"] {
        assert!(
            shown.iter().any(|s| s.starts_with(wanted)),
            "no README example of {wanted}: {shown:?}"
        );
    }
    for (args, expected) in &examples {
        if args.iter().any(|a| a == "--html") {
            continue;
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let real = example_stats(home.path(), 80, &args);
        // "…" stands for lines left out; every run of lines between must be real,
        // in order.
        let mut rest = real.as_str();
        for part in expected.split(|l| l == "…") {
            if part.is_empty() {
                continue;
            }
            let part = part.join("\n") + "\n";
            let at = rest.find(&part).unwrap_or_else(|| {
                panic!("README's `stats {args:?}` shows\n{part}\nbut it prints\n{real}")
            });
            rest = &rest[at + part.len()..];
        }
    }
}

#[test]
fn no_negative_zero_anywhere_in_stats() {
    let home = tempfile::tempdir().expect("tempdir");
    let text = example_stats(
        home.path(),
        200,
        &[
            "--style-control",
            "--by-category",
            "--agreement",
            "--matrix",
        ],
    );
    for bad in ["-0.00", "-0%", "-0/", "/+-", " -0 "] {
        assert!(!text.contains(bad), "{bad} in\n{text}");
    }
}

#[test]
fn a_kappa_of_a_judge_that_never_varied_is_undefined_not_zero() {
    let home = tempfile::tempdir().expect("tempdir");
    write_log(&data_log(home.path()), &agreement_votes(), "");
    let (code, out, err) = run(&mut duel(home.path(), &["stats", "--agreement", "--json"]));
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).expect("JSON");
    // llm:first said tie on every item.
    let first = &json["agreement"][0];
    assert_eq!(first["judges"], json!(["alice", "llm:first"]));
    assert_eq!(
        (&first["kappa"], &first["kappa_low"], &first["kappa_high"]),
        (&Value::Null, &Value::Null, &Value::Null),
        "{first}"
    );
    let why = first["kappa_undefined"].as_str().expect("a reason");
    assert!(why.contains("llm:first") && why.contains("tie"), "{why}");
    let (_, text, _) = run(&mut duel(home.path(), &["stats", "--agreement"]));
    let row = text
        .lines()
        .find(|l| l.starts_with("alice vs llm:first"))
        .expect(&text);
    assert!(!row.contains("0.00"), "{row}");
    assert!(row.contains("undefined"), "{row}");
    assert!(
        text.contains("kappa is undefined: llm:first said tie on every common item"),
        "{text}"
    );
}

#[test]
fn stats_prose_wraps_at_word_boundaries_within_the_width() {
    let home = tempfile::tempdir().expect("tempdir");
    let args = ["--style-control", "--pair", "glm-4,ernie-4.5"];
    let narrow = example_stats(home.path(), 80, &args);
    let wide = example_stats(home.path(), 1000, &args);
    let plot = example_stats(home.path(), 80, &["--plot"]);
    for line in narrow.lines().chain(plot.lines()) {
        assert!(
            duel::text::width(line) <= 80,
            "wider than 80: {line:?}\n{narrow}"
        );
    }
    // The same words, none broken in two.
    let words = |t: &str| -> Vec<String> { t.split_whitespace().map(str::to_owned).collect() };
    assert_eq!(words(&narrow), words(&wide));
    assert!(
        narrow.contains("excludes 0") || narrow.contains("includes 0"),
        "{narrow}"
    );
}

#[test]
fn stats_words_are_right_pair_names_are_trimmed_and_an_unknown_judge_lists_the_judges() {
    let home = tempfile::tempdir().expect("tempdir");
    write_log(&data_log(home.path()), &standard_votes(), "");
    let (code, text, err) = run(&mut duel(
        home.path(),
        &["stats", "--pair", "ernie-4.5, qwen-plus"],
    ));
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("Enough to decide? ernie-4.5 against qwen-plus"),
        "{text}"
    );
    let (code, text, err) = run(&mut duel(home.path(), &["stats", "--judge", "dave"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("Judges in these logs: alice (20 votes), bob (10 votes)."),
        "{text}"
    );

    // One vote of each kind: every count says 1 thing, not 1 things.
    let one = tempfile::tempdir().expect("tempdir");
    write_log(
        &data_log(one.path()),
        &[vote(1, "qwen-plus", "ernie-4.5", "tie", "alice", false)],
        "",
    );
    let (code, text, err) = run(&mut duel(
        one.path(),
        &[
            "stats",
            "--by-category",
            "--style-control",
            "--pair",
            "qwen-plus,ernie-4.5",
        ],
    ));
    assert_eq!(code, 0, "{err}");
    for noun in [
        "votes", "battles", "ties", "models", "items", "rounds", "lines",
    ] {
        assert!(!text.contains(&format!(" 1 {noun}")), "1 {noun} in\n{text}");
    }
    assert!(text.contains("1 vote, 1 battle between 2 models"), "{text}");
    // Every table's column headers are upper case.
    for line in text.lines().filter(|l| l.starts_with("RANK")) {
        assert_eq!(line, line.to_uppercase(), "{line}");
    }
}

/// With a config that prices a model, stats says what its answers cost per battle won
/// (ties and both-bad half a win); an unpriced model says so. Without prices, nothing
/// about cost.
#[test]
fn stats_shows_the_cost_per_battle_won_where_a_model_has_a_price() {
    let home = tempfile::tempdir().expect("tempdir");
    write_log(&data_log(home.path()), &standard_votes(), "");
    let config = home.path().join("priced.toml");
    std::fs::write(
        &config,
        concat!(
            "[[models]]\nname = \"qwen-plus\"\nprovider = \"dashscope\"\n",
            "price = { input = 1.0, output = 1.0, currency = \"USD\" }\n\n",
            "[[models]]\nname = \"ernie-4.5\"\nprovider = \"qianfan\"\n",
        ),
    )
    .expect("config");
    let config = config.to_string_lossy();
    // 30 answers of 20 in and 512 out at $1 per million: $0.01596; qwen-plus won 3,
    // tied 1 and shared 1 both-bad of every 6: 20 of 30.
    let (code, out, err) = run(&mut duel(home.path(), &["--config", &config, "stats"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Cost per battle won (a tie counts half): qwen-plus $0.0008 a battle won ($0.016 over 30 battles, 20 won) · ernie-4.5 — (no price)."),
        "{out}"
    );
    let (_, out, _) = run(&mut duel(
        home.path(),
        &["--config", &config, "stats", "--json"],
    ));
    let json: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["currency"], "USD");
    let qwen = json["spend"]
        .as_array()
        .expect("spend")
        .iter()
        .find(|s| s["model"] == "qwen-plus")
        .expect("qwen-plus");
    assert!((qwen["cost"]["amount"].as_f64().unwrap() - 0.015_96).abs() < 1e-12);
    assert_eq!(qwen["won"], 20.0);
    let (_, out, _) = run(&mut duel(home.path(), &["stats"]));
    assert!(!out.contains("Cost per battle"), "{out}");
}
