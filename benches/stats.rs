//! `duel stats` on a large log: 100,000 votes among 12 models, 1000 bootstrap rounds.
//! Run with `cargo bench --bench stats`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use duel::domain::Vote;
use duel::votes::rating::Tally;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

fn main() {
    divan::main();
}

const MODELS: usize = 12;

/// Votes drawn from known strengths 40 points apart, with ties and both-bad.
fn synthetic(votes: usize) -> Vec<(String, String, Vote)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let names: Vec<String> = (0..MODELS).map(|i| format!("model-{i:02}")).collect();
    (0..votes)
        .map(|_| {
            let i = rng.random_range(0..MODELS);
            let j = (i + rng.random_range(1..MODELS)) % MODELS;
            let gap = 40.0 * (j as f64 - i as f64);
            let p = 1.0 / (1.0 + 10f64.powf(-gap / 400.0));
            let roll: f64 = rng.random();
            let vote = if roll < 0.1 {
                Vote::Tie
            } else if roll < 0.15 {
                Vote::BothBad
            } else if rng.random::<f64>() < p {
                Vote::A
            } else {
                Vote::B
            };
            (names[i].clone(), names[j].clone(), vote)
        })
        .collect()
}

#[divan::bench(sample_count = 10)]
fn leaderboard_100k_votes_1000_rounds(bencher: divan::Bencher) {
    let votes = synthetic(100_000);
    bencher.bench(|| {
        let mut tally = Tally::new();
        for (a, b, vote) in &votes {
            tally.add(a, b, *vote);
        }
        divan::black_box(tally.leaderboard(1000))
    });
}

/// Baseline in the same run: only counting the votes, no fit.
#[divan::bench(sample_count = 10)]
fn baseline_tally_100k_votes(bencher: divan::Bencher) {
    let votes = synthetic(100_000);
    bencher.bench(|| {
        let mut tally = Tally::new();
        for (a, b, vote) in &votes {
            tally.add(a, b, *vote);
        }
        divan::black_box(tally)
    });
}

/// The point fit alone, without bootstrap rounds.
#[divan::bench(sample_count = 10)]
fn fit_100k_votes_no_bootstrap(bencher: divan::Bencher) {
    let votes = synthetic(100_000);
    bencher.bench(|| {
        let mut tally = Tally::new();
        for (a, b, vote) in &votes {
            tally.add(a, b, *vote);
        }
        divan::black_box(tally.leaderboard(0))
    });
}
