//! A team on one store (SPEC §12), as users meet it: `duel store init|push|status`
//! run as a user would against a real PostgreSQL server, the leaderboard read from
//! the store equal to the one read from the same votes in a file, a vote cast while
//! the store is down kept in the local log and pushed once later, and a team review
//! driven through `update` (leases in, effects out).

use std::path::Path;
use std::time::Instant;

use crate::common;
use crate::review::{model, press};
use common::cli::{duel, run};
use common::config::in_memory;
use common::runs::{Item, make_run};
use duel::app::review_session::Team;
use duel::app::state::{State, StatusKind};
use duel::app::{Effect, Msg, update};
use duel::domain::Vote;
use duel::eval::queue::load;
use duel::store::{Kept, keep_votes};
use duel::votes::VoteRecord;
use duel_core::store::{Files, Store, TeamProgress};
use duel_store::testing::{own, server};

/// A config whose only section is the store at `url`.
fn store_config(home: &Path, url: &str) -> String {
    let path = home.join("store.toml");
    std::fs::write(&path, format!("[store]\nurl = \"{url}\"\n")).unwrap();
    path.to_string_lossy().into_owned()
}

fn votes(n: usize) -> Vec<VoteRecord> {
    let models = ["qwen-plus", "ernie-4.5", "deepseek-chat", "glm-4"];
    (0..n)
        .map(|i| {
            let a = models[i % 4];
            let b = models[(i / 4 + i + 1) % 4];
            let b = if a == b { models[(i + 2) % 4] } else { b };
            let vote = [Vote::A, Vote::B, Vote::Tie, Vote::A][i % 4];
            VoteRecord::sample(a, b, vote, ["alice", "bob"][i % 2])
        })
        .collect()
}

#[test]
fn store_commands_without_a_store_say_where_to_set_one() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&mut duel(home.path(), &["store", "status"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no [store] url"), "{err}");
    assert!(err.contains("A team on one store"), "{err}");
}

#[test]
fn init_push_and_status_as_a_user_runs_them_and_never_show_the_password() {
    let Some(server) = server() else { return };
    let (url, _) = server.fresh("cli");
    let home = tempfile::tempdir().unwrap();
    let config = store_config(home.path(), &url);
    let data = home.path().join("data");
    Files::new(&data).append_votes(&votes(5)).unwrap();
    let duel_with = |args: &[&str]| {
        let mut cmd = duel(home.path(), &["store"]);
        cmd.args(args)
            .args(["--config", config.as_str()])
            .env("DUEL_STORE_PASSWORD", &server.password);
        run(&mut cmd)
    };
    let mut said = String::new();

    let (code, out, err) = duel_with(&["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("none yet: run `duel store init`"), "{out}");
    said += &(out + &err);

    let (code, out, err) = duel_with(&["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("schema created (version 2)"), "{out}");
    said += &(out + &err);
    let (code, out, err) = duel_with(&["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("already at version 2; nothing to do"), "{out}");
    said += &(out + &err);

    // With the most detailed log asked for, as a user chasing a problem would.
    let mut cmd = duel(home.path(), &["store", "push", "--config", &config]);
    cmd.env("DUEL_STORE_PASSWORD", &server.password)
        .env("DUEL_LOG", "trace");
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("votes          5 read  5 new"), "{out}");
    let log = std::fs::read_to_string(data.join("duel.log")).unwrap_or_default();
    assert!(!log.contains(&server.password), "the log has the password");
    said += &log;
    said += &(out + &err);
    let (code, out, err) = duel_with(&["push"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("votes          5 read  0 new"),
        "twice: no change\n{out}"
    );
    said += &(out + &err);

    let (code, out, err) = duel_with(&["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("schema         version 2"), "{out}");
    assert!(
        out.contains("votes          5 (and 0 on the demo models)"),
        "{out}"
    );
    said += &(out + &err);

    // The wrong password: refused, told where duel looks, the password never shown.
    let mut cmd = duel(home.path(), &["store", "status", "--config", &config]);
    cmd.env("DUEL_STORE_PASSWORD", "planted-wrong-secret-41");
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 1);
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(err.contains("DUEL_STORE_PASSWORD or ~/.pgpass"), "{err}");
    said += &(out + &err);
    assert!(!said.contains(&server.password), "{said}");
    assert!(!said.contains("planted-wrong-secret-41"), "{said}");
    assert!(
        said.contains(&url),
        "the URL, which has no secret, is shown: {said}"
    );
}

#[test]
fn stats_from_the_store_equal_stats_from_the_same_votes_in_a_file() {
    let Some(server) = server() else { return };
    let (url, store) = server.fresh("stats");
    store.init().unwrap();
    let cast = votes(400);
    store.append_votes(&cast).unwrap();

    let files_home = tempfile::tempdir().unwrap();
    Files::new(&files_home.path().join("data"))
        .append_votes(&cast)
        .unwrap();
    let (code, from_file, err) = run(&mut duel(files_home.path(), &["stats", "--json"]));
    assert_eq!(code, 0, "{err}");

    let store_home = tempfile::tempdir().unwrap();
    let config = store_config(store_home.path(), &url);
    let mut cmd = duel(store_home.path(), &["stats", "--json", "--config", &config]);
    cmd.env("DUEL_STORE_PASSWORD", &server.password);
    let (code, from_store, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");

    let file: serde_json::Value = serde_json::from_str(&from_file).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&from_store).unwrap();
    assert_eq!(stored["votes"], 400);
    assert_eq!(file, stored, "the same votes, the same leaderboard");

    // The text says where it read them.
    let mut cmd = duel(store_home.path(), &["stats", "--config", &config]);
    cmd.env("DUEL_STORE_PASSWORD", &server.password);
    let (code, text, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains(&url), "{text}");
}

#[test]
fn a_vote_while_the_store_is_down_stays_in_the_local_log_and_is_pushed_once() {
    let Some(own) = own() else { return };
    let (_, store) = own.server.fresh("down");
    store.init().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let [first, second]: [VoteRecord; 2] = votes(2).try_into().unwrap();

    assert_eq!(
        keep_votes(&store, dir.path(), std::slice::from_ref(&first)),
        Ok(Kept::Stored)
    );
    own.stop();
    // The store killed mid-session: the vote is on disk here, and said to be.
    let kept = keep_votes(&store, dir.path(), std::slice::from_ref(&second)).unwrap();
    let Kept::Local(why) = &kept else {
        panic!("{kept:?}")
    };
    assert!(why.contains("127.0.0.1"), "{why}");
    assert!(!why.contains(&own.server.password), "{why}");
    let local = Files::new(dir.path()).votes(false).unwrap().records;
    assert_eq!(local, std::slice::from_ref(&second));

    own.start();
    let pushed = store.push(dir.path()).unwrap();
    assert_eq!(pushed.votes, [1, 1], "the kept vote went to the store");
    let pushed = store.push(dir.path()).unwrap();
    assert_eq!(pushed.votes, [1, 0], "and counts once");
    assert_eq!(store.votes(false).unwrap().records, [first, second]);
}

const RUN: &str = "team-20261207-100000";

/// A team review of a 3-item run, its first pair leased, as `duel review` starts it
/// on a store.
fn team_review(dir: &Path) -> State {
    let items: Vec<Item> = ["q1", "q2", "q3"]
        .into_iter()
        .map(|id| Item {
            id,
            prompt: "What is 2+2?",
            category: None,
        })
        .collect();
    make_run(dir, RUN, &items, &["alpha", "beta"], &[]);
    let config = in_memory(vec![model("alpha"), model("beta")], "carol");
    let mut state = State::for_review(
        &config,
        load(dir, RUN, "carol").unwrap(),
        dir.into(),
        Some(7),
    );
    state.review.as_mut().unwrap().team = Some(Team {
        holding: true,
        ..Team::default()
    });
    state
}

fn pair(state: &State, item: &str) -> String {
    let review = state.review.as_ref().unwrap();
    review
        .queue
        .entries
        .iter()
        .find(|e| e.item.id == item)
        .unwrap()
        .key
        .within_run()
}

fn status(state: &State) -> (StatusKind, String) {
    let status = state.status.as_ref().unwrap();
    (status.kind, status.text.clone())
}

#[test]
fn a_team_review_shows_leased_pairs_gives_skipped_ones_back_and_says_who_else_reviews() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = team_review(dir.path());
    assert_eq!(crate::review::shown_item(&state), "q1");
    // The footer offers no way back: the pair before may be someone else's now.
    let mut cache = duel::ui::ViewCache::default();
    let screen = crate::review::render(&mut state, &mut cache, 160, 30);
    assert!(
        screen.contains("n next") && !screen.contains("p prev"),
        "{screen}"
    );
    let solo = tempfile::tempdir().unwrap();
    let mut alone = team_review(solo.path());
    alone.review.as_mut().unwrap().team = None;
    let screen = crate::review::render(&mut alone, &mut cache, 160, 30);
    assert!(screen.contains("p prev"), "alone, there is: {screen}");

    // `n` asks the store; the pair it leases is shown, with the team's progress.
    let effects = press(&mut state, 'n');
    assert!(
        matches!(&effects[..], [Effect::Lease { run, judge, passed }]
            if run == RUN && judge == "carol" && passed.is_empty()),
        "{effects:?}"
    );
    let q3 = pair(&state, "q3");
    let team = TeamProgress {
        others: vec!["alice".into(), "bob".into()],
        left: 5,
        pairs: 3,
    };
    update(
        &mut state,
        Msg::Leased(Ok((Some(q3.clone()), team))),
        Instant::now(),
    );
    assert_eq!(crate::review::shown_item(&state), "q3");
    let progress = state.review.as_ref().unwrap().progress();
    assert!(
        progress.contains("team: 5 votes left · also reviewing: alice, bob"),
        "{progress}"
    );

    // `x` gives the pair back to the store at once and asks for another, not it.
    let effects = press(&mut state, 'x');
    assert!(
        matches!(&effects[..], [Effect::Release { pair, .. }, Effect::Lease { passed, .. }]
            if *pair == q3 && *passed == [q3.clone()]),
        "{effects:?}"
    );
    // Nothing free: said, with who holds what.
    let team = TeamProgress {
        others: vec!["alice".into()],
        left: 2,
        pairs: 3,
    };
    update(&mut state, Msg::Leased(Ok((None, team))), Instant::now());
    let (kind, text) = status(&state);
    assert_eq!(kind, StatusKind::Info);
    assert!(
        text.contains("no pair is free for you now (2 votes left for the team, held by alice)"),
        "{text}"
    );

    // `p` does not wander onto a pair someone else may hold.
    press(&mut state, 'p');
    assert!(
        status(&state).1.contains("goes forward"),
        "{:?}",
        status(&state)
    );

    // A store that cannot be asked: said, and `n` asks again.
    press(&mut state, 'n');
    update(
        &mut state,
        Msg::Leased(Err("the store is unreachable: …".into())),
        Instant::now(),
    );
    assert_eq!(status(&state).0, StatusKind::Error);
}

#[test]
fn a_vote_kept_in_the_local_log_says_it_is_not_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = team_review(dir.path());
    let effects = press(&mut state, '1');
    let ids: Vec<_> = effects
        .iter()
        .flat_map(|e| match e {
            Effect::SaveVotes(records) => records.iter().map(|r| r.id).collect(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(ids.len(), 1, "{effects:?}");
    update(
        &mut state,
        Msg::VotesSaved {
            ids,
            result: Ok(Kept::Local(
                "the store is unreachable: connection refused".into(),
            )),
        },
        Instant::now(),
    );
    let (kind, text) = status(&state);
    assert_eq!(kind, StatusKind::Warning);
    assert!(
        text.contains("vote saved to the local log, NOT in the store"),
        "{text}"
    );
    assert!(text.contains("`duel store push` sends it later"), "{text}");
    assert_eq!(state.kept_locally, 1);
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// `duel review RUN` on the store for `judge`, in a terminal of its own machine.
fn reviewer(
    server: &duel_store::testing::Server,
    url: &str,
    judge: &str,
) -> (common::tui::Sandbox, common::tui::Tui) {
    let sandbox = common::tui::Sandbox::new();
    let config = sandbox.write_config(&format!(
        "[store]\nurl = \"{url}\"\n[arena]\njudge = \"{judge}\"\n[review]\nlease_secs = 6\n"
    ));
    let mut cmd = sandbox.command(&["--config", config.to_str().unwrap(), "review", RUN]);
    cmd.env("DUEL_STORE_PASSWORD", &server.password);
    let tui = common::tui::Tui::spawn_sized(cmd, 30, 170);
    (sandbox, tui)
}

#[test]
fn reviewers_on_three_machines_share_a_run_and_a_killed_one_s_pair_comes_back() {
    let Some(server) = server() else { return };
    let (url, store) = server.fresh("pty");
    store.init().unwrap();
    // The lead's machine made the run and pushed it.
    let lead = tempfile::tempdir().unwrap();
    let items: Vec<Item> = [
        ("q1", "What is 2+2?"),
        ("q2", "Name a prime."),
        ("q3", "Say hi."),
    ]
    .into_iter()
    .map(|(id, prompt)| Item {
        id,
        prompt,
        category: None,
    })
    .collect();
    make_run(
        &lead.path().join("data"),
        RUN,
        &items,
        &["alpha", "beta"],
        &[],
    );
    store.push(&lead.path().join("data")).unwrap();

    let (_alice_home, mut alice) = reviewer(server, &url, "alice");
    alice.wait_for("item 1 of 3", WAIT);
    alice.wait_for("team: 3 votes left", WAIT);
    let (_bob_home, bob) = reviewer(server, &url, "bob");
    bob.wait_for("item 2 of 3", WAIT);
    bob.wait_for("also reviewing: alice", WAIT);

    alice.send(b"1");
    alice.wait_for("✓ vote saved", WAIT);
    // Bob's machine dies holding q2; its lease is all that is left of him.
    bob.signal("KILL");
    let (_carol_home, mut carol) = reviewer(server, &url, "carol");
    carol.wait_for("item 3 of 3", WAIT);
    carol.send(b"2");
    carol.wait_for("✓ vote saved", WAIT);
    // q2 comes back to the team once Bob's lease runs out.
    let deadline = Instant::now() + WAIT;
    while !carol.screen().contains("item 2 of 3") {
        assert!(Instant::now() < deadline, "{}", carol.screen());
        carol.send(b"n");
        std::thread::sleep(std::time::Duration::from_millis(700));
    }
    carol.send(b"1");
    carol.wait_for("✓ vote saved", WAIT);
    carol.send(b"q");
    assert_eq!(carol.wait_exit(WAIT), 0);
    alice.send(b"q");
    assert_eq!(alice.wait_exit(WAIT), 0);

    let mut voted: Vec<(String, String)> = store
        .votes(false)
        .unwrap()
        .records
        .into_iter()
        .map(|r| (r.item.unwrap(), r.judge))
        .collect();
    voted.sort();
    assert_eq!(
        voted,
        [
            ("q1".to_owned(), "alice".to_owned()),
            ("q2".to_owned(), "carol".to_owned()),
            ("q3".to_owned(), "carol".to_owned())
        ],
        "every pair voted once, none lost"
    );
    assert_eq!(store.counts().unwrap().leases, 0, "no lease left behind");
}

#[test]
fn a_chat_vote_goes_to_the_store_and_with_the_store_down_to_the_local_log_said_so() {
    use common::server::{MockServer, Reply, openai_stream};
    let Some(own) = own() else { return };
    let (url, store) = own.server.fresh("chat");
    store.init().unwrap();
    let answer = || Reply::sse(&openai_stream(&["An ", "answer"], 5, 2));
    let a = MockServer::keep_alive(vec![answer(), answer()]);
    let b = MockServer::keep_alive(vec![answer(), answer()]);
    let sandbox = common::tui::Sandbox::new();
    let toml = common::config::two_models(&a.url(), &b.url())
        .sections(&format!(
            "[store]\nurl = \"{url}\"\n[arena]\njudge = \"pty-judge\"\n"
        ))
        .left("api_key_env = \"DUEL_TEST_LEFT_KEY\"")
        .right("api_key_env = \"DUEL_TEST_RIGHT_KEY\"")
        .toml();
    let config = sandbox.write_config(&toml);
    let mut cmd = sandbox.command(&["--config", config.to_str().unwrap()]);
    cmd.env("DUEL_TEST_LEFT_KEY", "sk-test-left");
    cmd.env("DUEL_TEST_RIGHT_KEY", "sk-test-right");
    cmd.env("DUEL_STORE_PASSWORD", &own.server.password);
    let mut tui = common::tui::Tui::spawn_sized(cmd, 30, 140);
    let ask = |tui: &mut common::tui::Tui, prompt: &str, answers: usize| {
        tui.type_text(prompt);
        tui.send(b"\r");
        tui.wait_until("both answers done", WAIT, |s| {
            s.matches(" done ").count() == 2 && s.matches("An answer").count() == 2 * answers
        });
    };
    tui.wait_for("A · alpha", WAIT);
    ask(&mut tui, "first", 1);
    tui.send(b"\x1b1");
    tui.wait_for("vote saved: A is better", WAIT);
    assert_eq!(store.votes(false).unwrap().records.len(), 1, "in the store");
    assert!(
        !sandbox.data_dir().join("votes.jsonl").exists(),
        "and not in the local log"
    );

    own.stop();
    ask(&mut tui, "second", 2);
    tui.send(b"\x1b2");
    tui.wait_for("NOT in the store", WAIT);
    let local = Files::new(&sandbox.data_dir())
        .votes(false)
        .unwrap()
        .records;
    assert_eq!(local.len(), 1, "on disk here");
    assert_eq!(local[0].prompt, "second");

    tui.send(b"\x11");
    assert_eq!(tui.wait_exit(WAIT), 0, "{}", tui.screen());
    let said = String::from_utf8_lossy(&tui.output()).into_owned();
    assert!(
        said.contains("could not reach the store"),
        "said at quit: {said}"
    );
    assert!(!said.contains(&own.server.password));

    own.start();
    assert_eq!(store.push(&sandbox.data_dir()).unwrap().votes, [1, 1]);
    assert_eq!(store.votes(false).unwrap().records.len(), 2);
}

/// A config with alpha and beta answering on `answers`, a judge on `judge`, and the
/// store at `url`.
fn team_config(home: &Path, url: &str, answers: &str, judge: &str) -> String {
    let mut toml = format!(
        "[store]\nurl = \"{url}\"\n[pair]\na = \"alpha\"\nb = \"beta\"\n[arena]\njudge = \"lead\"\n"
    );
    for (name, base) in [("alpha", answers), ("beta", answers), ("judge", judge)] {
        toml += &format!(
            "\n[providers.{name}]\nkind = \"openai\"\nbase_url = \"{base}/v1\"\napi_key_env = \"DUEL_TEAM_KEY\"\n\n[[models]]\nname = \"{name}\"\nprovider = \"{name}\"\n"
        );
    }
    let path = home.join("config.toml");
    std::fs::write(&path, toml).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_batch_its_checks_and_a_judge_on_another_machine_go_through_the_store() {
    use common::server::{MockServer, Reply, openai_stream};
    let Some(server) = server() else { return };
    let (url, store) = server.fresh("runs");
    store.init().unwrap();
    let answers = MockServer::respond(|_, _| Reply::sse(&openai_stream(&["4, ", "I say"], 7, 2)));
    let judge = MockServer::respond(|_, _| Reply::sse(&openai_stream(&["[[C]]"], 30, 2)));
    let team = |home: &Path, args: &[&str]| {
        let config = team_config(home, &url, &answers.url(), &judge.url());
        let mut cmd = duel(home, &[&["--config", config.as_str()], args].concat());
        cmd.env("DUEL_TEAM_KEY", "sk-test-team")
            .env("DUEL_STORE_PASSWORD", &server.password);
        run(&mut cmd)
    };
    let suite: String = (1..=30)
        .map(|i| {
            format!(
                "{{\"id\": \"q{i}\", \"prompt\": \"What is 2+2? ({i})\", \"assert\": [{{\"type\": \"contains\", \"value\": \"4\"}}]}}\n"
            )
        })
        .collect();

    // The lead runs the batch: its run, answers and checks reach the store.
    let lead = tempfile::tempdir().unwrap();
    std::fs::write(lead.path().join("suite.jsonl"), &suite).unwrap();
    let suite_path = lead.path().join("suite.jsonl");
    let (code, _, err) = team(
        lead.path(),
        &["batch", suite_path.to_str().unwrap(), "--name", "pilot"],
    );
    assert_eq!(code, 0, "{err}");
    let counts = store.counts().unwrap();
    assert_eq!((counts.runs, counts.answers, counts.checks), (1, 60, 60));

    // A reviewer's machine with an empty data dir: the judge finds the run in the
    // store and its votes go there.
    let reviewer = tempfile::tempdir().unwrap();
    let (code, _, err) = team(reviewer.path(), &["judge", "pilot", "--with", "judge"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(store.counts().unwrap().votes, 30);
    assert!(
        !reviewer.path().join("data").join("votes.jsonl").exists(),
        "the votes went to the store"
    );
    // `duel runs` and `duel report` there read the team's run and votes.
    let (code, out, err) = team(reviewer.path(), &["runs", "--json"]);
    assert_eq!(code, 0, "{err}");
    let runs: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(runs[0]["name"], "pilot");
    assert_eq!(runs[0]["answered"], 60);
    assert_eq!(runs[0]["votes"], 30);
    let third = tempfile::tempdir().unwrap();
    let (code, out, err) = team(third.path(), &["report", "pilot", "--json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report["run"].as_str().map(|r| r.starts_with("suite-")),
        Some(true)
    );
    assert!(out.contains("llm:judge"), "the judge's votes are in: {out}");
}

#[test]
fn a_vote_the_store_refuses_is_kept_in_the_local_log_with_the_reason() {
    let Some(server) = server() else { return };
    // A store no one ran `duel store init` on.
    let (_, store) = server.fresh("refused");
    let dir = tempfile::tempdir().unwrap();
    let kept = keep_votes(&store, dir.path(), &votes(1)).unwrap();
    assert!(
        matches!(&kept, Kept::Local(why) if why.contains("run `duel store init`")),
        "{kept:?}"
    );
    assert_eq!(
        Files::new(dir.path()).votes(false).unwrap().records.len(),
        1
    );
}
