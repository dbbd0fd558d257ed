//! Writing to a team's PostgreSQL store (SPEC §12): 1,000 answers of a batch run and
//! 1,000 votes, written as duel writes them (a statement per batch, the rows unnested
//! by the server) against the same rows written one round trip each, on one throw-away
//! server on 127.0.0.1 (`.ci/pg-server`), in the same run.
//!
//!   cargo bench --bench store_write

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a bench fails loudly

use std::time::{Duration, Instant};

use duel::domain::{Finish, Message, Role, Vote};
use duel::eval::run::{AnswerRecord, RunInfo};
use duel::votes::{SideRecord, VoteRecord};
use duel_core::store::Store;

const ROWS: usize = 1_000;
const ROUNDS: usize = 5;

fn side(model: &str, item: usize) -> SideRecord {
    SideRecord {
        history: Some(vec![Message::new(Role::System, "Be brief.")]),
        ..SideRecord::sample(
            model,
            &format!("{model}'s answer to item {item}. ").repeat(8),
            Finish::Stop,
        )
    }
}

fn run(id: &str) -> RunInfo {
    RunInfo {
        id: id.into(),
        name: None,
        suite: "suite.jsonl".into(),
        suite_sha256: String::new(),
        models: vec!["qwen-plus".into(), "ernie-4.5".into()],
        settings: Default::default(),
        created: "2026-12-07T10:00:00.000Z".into(),
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let Some(server) = duel_store::testing::server() else {
        eprintln!("no PostgreSQL server: nothing measured");
        return;
    };
    let (_, store) = server.fresh("bench");
    store.init().unwrap();
    let (mut batched, mut single) = (Vec::new(), Vec::new());
    let (mut votes_batched, mut votes_single) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let answers = |round: usize| -> Vec<AnswerRecord> {
            (0..ROWS)
                .map(|i| AnswerRecord {
                    item: format!("{round}-{i}"),
                    attachments: Vec::new(),
                    side: side(["qwen-plus", "ernie-4.5"][i % 2], i),
                })
                .collect()
        };
        let (a, b) = (format!("batched-{round}"), format!("single-{round}"));
        store.save_run(&run(&a), b"").unwrap();
        store.save_run(&run(&b), b"").unwrap();
        let rows = answers(round);
        let start = Instant::now();
        store.append_answers(&a, &rows).unwrap();
        batched.push(start.elapsed());
        let start = Instant::now();
        for row in &rows {
            store.append_answers(&b, std::slice::from_ref(row)).unwrap();
        }
        single.push(start.elapsed());

        let votes: Vec<VoteRecord> = (0..2 * ROWS)
            .map(|_| VoteRecord::sample("qwen-plus", "ernie-4.5", Vote::A, "alice"))
            .collect();
        let start = Instant::now();
        store.append_votes(&votes[..ROWS]).unwrap();
        votes_batched.push(start.elapsed());
        let start = Instant::now();
        for vote in &votes[ROWS..] {
            store.append_votes(std::slice::from_ref(vote)).unwrap();
        }
        votes_single.push(start.elapsed());
    }
    assert_eq!(
        store.counts().unwrap().answers,
        i64::try_from(2 * ROWS * ROUNDS).unwrap()
    );
    let report = |what: &str, batched: Vec<Duration>, single: Vec<Duration>| {
        let (b, s) = (median(batched), median(single));
        println!(
            "{ROWS} {what}: as duel writes them {:.1} ms, one round trip each {:.1} ms ({:.1}x), median of {ROUNDS}",
            b.as_secs_f64() * 1e3,
            s.as_secs_f64() * 1e3,
            s.as_secs_f64() / b.as_secs_f64()
        );
    };
    report("answers", batched, single);
    report("votes", votes_batched, votes_single);
}
