//! The PostgreSQL store against a real server (`duel_store::testing`): schema
//! migrations, push by id, the same votes read back as from a file, team review with
//! leases, and what an unreachable store or a wrong password says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use duel_core::conversation::ConversationFile;
use duel_core::domain::{Finish, Vote};
use duel_core::eval::pairs::PairKey;
use duel_core::eval::run::{AnswerRecord, Run, RunInfo};
use duel_core::store::{Files, Leases, Store, StoreError};
use duel_core::votes::{SideRecord, VoteRecord};
use duel_store::testing::server;
use duel_store::{Postgres, Target, VERSION};

fn vote(a: &str, b: &str, judge: &str) -> VoteRecord {
    VoteRecord::sample(a, b, Vote::A, judge)
}

fn run_vote(run: &str, pair: &str, judge: &str) -> VoteRecord {
    let (item, models) = pair.split_once('\u{1f}').expect("item, models");
    let (a, b) = models.split_once('\u{1f}').expect("two models");
    VoteRecord {
        run: Some(run.into()),
        item: Some(item.into()),
        ..vote(a, b, judge)
    }
}

/// A data dir with 3 votes, a conversation and a run of 2 answers and no checks.
fn data_dir(dir: &Path) -> Vec<VoteRecord> {
    let votes = vec![
        vote("qwen-plus", "ernie-4.5", "alice"),
        vote("ernie-4.5", "qwen-plus", "bob"),
        vote("qwen-plus", "deepseek-chat", "alice"),
    ];
    Files::new(dir).append_votes(&votes).unwrap();
    let conversation = ConversationFile {
        schema: 1,
        id: uuid::Uuid::new_v4(),
        created: "2026-12-01T10:00:00.000Z".into(),
        updated: "2026-12-01T10:05:00.000Z".into(),
        blind: true,
        turns: Vec::new(),
    };
    duel_core::conversation::save(dir, &conversation).unwrap();
    let run = Run::create(
        dir,
        RunInfo {
            id: "r1".into(),
            name: Some("pilot".into()),
            suite: "suite.txt".into(),
            suite_sha256: String::new(),
            models: vec!["qwen-plus".into(), "ernie-4.5".into()],
            settings: Default::default(),
            created: "2026-12-01T09:00:00.000Z".into(),
        },
    )
    .unwrap();
    run.keep_suite(b"What is 2+2?\n").unwrap();
    for model in ["qwen-plus", "ernie-4.5"] {
        run.append(&AnswerRecord {
            item: "1".into(),
            attachments: Vec::new(),
            side: SideRecord::sample(model, "4", Finish::Stop),
        })
        .unwrap();
    }
    votes
}

#[test]
fn init_creates_the_schema_from_empty_and_from_the_previous_version_and_twice_is_no_change() {
    let Some(server) = server() else { return };
    let (_, empty) = server.fresh("init");
    assert_eq!(empty.version().unwrap(), 0);
    // Before init, every command is told what to do.
    let err = empty.votes(false).unwrap_err().to_string();
    assert!(err.contains("run `duel store init`"), "{err}");
    assert_eq!(empty.init().unwrap(), (0, VERSION));
    assert_eq!(
        empty.init().unwrap(),
        (VERSION, VERSION),
        "init twice changes nothing"
    );

    let (_, older) = server.fresh("upgrade");
    assert_eq!(older.migrate_to(VERSION - 1).unwrap(), (0, VERSION - 1));
    older.append_votes(&[vote("a", "b", "x")]).unwrap_err();
    let fresh_store = server.store(&older_url(server, &older));
    let err = fresh_store.votes(false).unwrap_err().to_string();
    assert!(err.contains("to upgrade it"), "{err}");
    assert_eq!(fresh_store.init().unwrap(), (VERSION - 1, VERSION));
    fresh_store.append_votes(&[vote("a", "b", "x")]).unwrap();
    assert_eq!(fresh_store.votes(false).unwrap().records.len(), 1);
}

/// The URL of a store's database, to open a second store (with nothing cached) on it.
fn older_url(server: &duel_store::testing::Server, store: &Postgres) -> String {
    let shown = store.shown();
    let name = shown.rsplit('/').next().unwrap_or_default();
    server.url_of(name)
}

#[test]
fn a_schema_newer_than_this_duel_is_refused_and_left_alone() {
    let Some(server) = server() else { return };
    let (url, store) = server.fresh("newer");
    store.init().unwrap();
    store
        .block_for_test("INSERT INTO duel_schema (version) VALUES (99)")
        .unwrap();
    let again = server.store(&url);
    let err = again.init().unwrap_err().to_string();
    assert!(
        err.contains("schema version 99, newer than this duel knows"),
        "{err}"
    );
    assert!(err.contains("upgrade duel"), "{err}");
    assert!(again.votes(false).is_err());
    assert_eq!(again.version().unwrap(), 99, "nothing was changed");
}

#[test]
fn push_copies_by_id_so_twice_changes_nothing() {
    let Some(server) = server() else { return };
    let (_, store) = server.fresh("push");
    store.init().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let votes = data_dir(dir.path());

    let first = store.push(dir.path()).unwrap();
    assert_eq!(first.votes, [3, 3]);
    assert_eq!(first.conversations, [1, 1]);
    assert_eq!(first.runs, [1, 1]);
    assert_eq!(first.answers, [2, 2]);
    let counts = store.counts().unwrap();

    let second = store.push(dir.path()).unwrap();
    assert_eq!(second.votes, [3, 0]);
    assert_eq!(second.conversations, [1, 0]);
    assert_eq!(second.runs, [1, 0]);
    assert_eq!(second.answers, [2, 0]);
    assert_eq!(
        store.counts().unwrap(),
        counts,
        "push twice changes nothing"
    );
    assert_eq!(counts.votes, 3);

    // What went in comes out: the same records, in the same order.
    assert_eq!(store.votes(false).unwrap().records, votes);
    let (info, suite) = store.run("r1").unwrap().unwrap();
    assert_eq!(info.name.as_deref(), Some("pilot"));
    assert_eq!(suite, b"What is 2+2?\n");
    assert_eq!(
        store.answers("r1").unwrap(),
        Run::open(dir.path(), "r1").unwrap().answers().unwrap().0
    );

    // A run pulled onto another machine's data dir is the same run.
    let other = tempfile::tempdir().unwrap();
    let pulled = duel_store::pull_run(&store, other.path(), "r1")
        .unwrap()
        .unwrap();
    assert_eq!(pulled.items().unwrap().len(), 1);
    assert_eq!(pulled.answers().unwrap().0.len(), 2);
}

#[test]
fn the_store_reads_back_the_votes_a_file_holds_in_the_same_order() {
    let Some(server) = server() else { return };
    let (_, store) = server.fresh("same");
    store.init().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = Files::new(dir.path());
    let votes: Vec<VoteRecord> = (0..2_500)
        .map(|i| {
            vote(
                &format!("m{}", i % 7),
                &format!("m{}", (i + 3) % 7),
                "alice",
            )
        })
        .collect();
    files.append_votes(&votes).unwrap();
    store.append_votes(&votes).unwrap();
    assert_eq!(
        store.votes(false).unwrap().records,
        files.votes(false).unwrap().records
    );
    assert!(
        store.votes(true).unwrap().records.is_empty(),
        "no demo votes"
    );
}

/// Reviewers, each a thread with a store of its own, lease and vote until nothing is
/// left; returns the votes per pair.
fn review_together(
    server: &'static duel_store::testing::Server,
    url: &str,
    reviewers: usize,
    per_item: u32,
) -> HashMap<String, Vec<String>> {
    let mut threads = Vec::new();
    for r in 0..reviewers {
        let store = server.store(url);
        threads.push(std::thread::spawn(move || {
            let judge = format!("reviewer-{r}");
            let mut voted = Vec::new();
            while let Some(pair) = store.grant("r1", &judge, per_item, 600, &[]).unwrap() {
                store
                    .append_votes(&[run_vote("r1", &pair, &judge)])
                    .unwrap();
                voted.push(pair);
            }
            (judge, voted)
        }));
    }
    let mut by_pair: HashMap<String, Vec<String>> = HashMap::new();
    for thread in threads {
        let (judge, voted) = thread.join().unwrap();
        for pair in voted {
            by_pair.entry(pair).or_default().push(judge.clone());
        }
    }
    by_pair
}

fn pairs(n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| PairKey::new("r1", &i.to_string(), "qwen-plus", "ernie-4.5").within_run())
        .collect()
}

#[test]
fn four_reviewers_on_500_pairs_vote_each_once_and_lose_none() {
    let Some(server) = server() else { return };
    let (url, store) = server.fresh("team");
    store.init().unwrap();
    store.offer("r1", &pairs(500)).unwrap();
    let by_pair = review_together(server, &url, 4, 1);
    assert_eq!(by_pair.len(), 500, "every pair was voted");
    assert!(
        by_pair.values().all(|judges| judges.len() == 1),
        "none twice"
    );
    assert_eq!(store.counts().unwrap().votes, 500, "no vote lost");
    assert_eq!(
        store.counts().unwrap().leases,
        0,
        "every lease ended with its vote"
    );
    let team = store.team("r1", "reviewer-0").unwrap();
    assert_eq!((team.pairs, team.left), (500, 0));
}

#[test]
fn with_per_item_2_each_pair_gets_two_different_reviewers() {
    let Some(server) = server() else { return };
    let (url, store) = server.fresh("overlap");
    store.init().unwrap();
    store.offer("r1", &pairs(500)).unwrap();
    let by_pair = review_together(server, &url, 4, 2);
    assert_eq!(by_pair.len(), 500);
    for (pair, judges) in &by_pair {
        assert_eq!(judges.len(), 2, "{pair}: {judges:?}");
        assert_ne!(judges[0], judges[1], "{pair}: two different people");
    }
    assert_eq!(store.counts().unwrap().votes, 1_000);
}

#[test]
fn a_vanished_reviewer_s_pair_returns_after_the_lease_and_a_restart_gets_its_own_back() {
    let Some(server) = server() else { return };
    let (url, store) = server.fresh("expiry");
    store.init().unwrap();
    store.offer("r1", &pairs(1)).unwrap();
    let alice = server.store(&url);
    let held = alice
        .grant("r1", "alice", 1, 1, &[])
        .unwrap()
        .expect("a pair");
    // Alice's process is gone (a kill -9 ends nothing in the store): her pair is hers
    // until the lease runs out.
    drop(alice);
    let bob = server.store(&url);
    assert_eq!(bob.grant("r1", "bob", 1, 600, &[]).unwrap(), None);
    let team = bob.team("r1", "bob").unwrap();
    assert_eq!(team.others, ["alice"]);
    assert_eq!(team.left, 1);
    // Alice back before it runs out gets the same pair again.
    let alice = server.store(&url);
    assert_eq!(
        alice.grant("r1", "alice", 1, 1, &[]).unwrap(),
        Some(held.clone())
    );
    std::thread::sleep(Duration::from_millis(1_300));
    assert_eq!(
        bob.grant("r1", "bob", 1, 600, &[]).unwrap(),
        Some(held.clone())
    );
    // A skip gives it back at once.
    bob.release("r1", &held, "bob").unwrap();
    let carol = server.store(&url);
    assert_eq!(carol.grant("r1", "carol", 1, 600, &[]).unwrap(), Some(held));
}

#[test]
fn an_unreachable_store_is_said_so_and_a_wrong_password_never_shows_the_password() {
    let Some(server) = server() else { return };
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut target = Target::new(&format!("postgres://duel@127.0.0.1:{port}/duel")).unwrap();
    target.set_password_for_test("planted-secret-Zq81");
    let down = Postgres::new(target).unwrap();
    let err = down.append_votes(&[vote("a", "b", "x")]).unwrap_err();
    assert!(matches!(err, StoreError::Unreachable(_)), "{err:?}");
    let text = format!("{err} {err:?} {down:?}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("planted-secret-Zq81"), "{text}");

    let mut wrong = Target::new(&server.url).unwrap();
    wrong.set_password_for_test("planted-secret-Zq81");
    let wrong = Postgres::new(wrong).unwrap();
    let err = wrong.votes(false).unwrap_err();
    let text = format!("{err} {err:?} {wrong:?}");
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(!text.contains("planted-secret-Zq81"), "{text}");
}

#[test]
fn a_store_is_used_and_let_go_inside_async_code_of_either_runtime() {
    let Some(server) = server() else { return };
    let (url, store) = server.fresh("async");
    store.init().unwrap();
    drop(store);
    let runtimes = [
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap(),
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    ];
    for (i, runtime) in runtimes.iter().enumerate() {
        runtime.block_on(async {
            // As `duel batch` and `duel judge` do: built, used and dropped in a task.
            let store = server.store(&url);
            store.append_votes(&[vote("a", "b", "x")]).unwrap();
            assert_eq!(store.votes(false).unwrap().records.len(), i + 1);
        });
    }
}
