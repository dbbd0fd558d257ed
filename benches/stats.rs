//! `duel stats` on a large log: 100,000 votes among 12 models, 1000 bootstrap rounds,
//! plain and with style control (`--style-control`). Run with `cargo bench --bench stats`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use duel::domain::Vote;
use duel::votes::rating::Tally;
use duel::votes::style_control::{Style, StyleVotes};
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

/// The votes of [`synthetic`] with a style per side: each model has its own typical
/// length (200 to 860 tokens, each answer 0.3× to 1.7× of it) and Markdown habits, and
/// the judge leans towards the longer answer, so no two votes have the same features.
fn synthetic_styled(votes: usize) -> Vec<(String, String, Vote, Style, Style)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let names: Vec<String> = (0..MODELS).map(|i| format!("model-{i:02}")).collect();
    let style = |rng: &mut Xoshiro256PlusPlus, model: usize| {
        let scale = 0.3 + 1.4 * rng.random::<f64>();
        Style {
            tokens: ((200 + 60 * model) as f64 * scale) as u64,
            headers: rng.random_range(0..(1 + model as u32 % 4)),
            lists: rng.random_range(0..(2 + model as u32 % 7)),
            bold: rng.random_range(0..(1 + model as u32 % 5)),
        }
    };
    (0..votes)
        .map(|_| {
            let i = rng.random_range(0..MODELS);
            let j = (i + rng.random_range(1..MODELS)) % MODELS;
            let (a, b) = (style(&mut rng, i), style(&mut rng, j));
            let length = (a.tokens as f64 - b.tokens as f64) / (a.tokens + b.tokens + 1) as f64;
            let logit = 40.0 * (j as f64 - i as f64) / 400.0 * std::f64::consts::LN_10 + length;
            let p = 1.0 / (1.0 + (-logit).exp());
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
            (names[i].clone(), names[j].clone(), vote, a, b)
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

/// `--style-control`: the style-controlled fit with 1000 bootstrap rounds on 100,000
/// votes whose features are all distinct (the plain leaderboard above is the yardstick).
#[divan::bench(sample_count = 10)]
fn style_control_100k_votes_1000_rounds(bencher: divan::Bencher) {
    let votes = synthetic_styled(100_000);
    bencher.bench(|| {
        let mut styled = StyleVotes::new();
        for (a, b, vote, sa, sb) in &votes {
            styled.add(a, b, *vote, *sa, *sb);
        }
        divan::black_box(styled.fit(1000))
    });
}

/// The plain leaderboard on the same styled votes, for a like-for-like ratio.
#[divan::bench(sample_count = 10)]
fn plain_on_styled_100k_votes_1000_rounds(bencher: divan::Bencher) {
    let votes = synthetic_styled(100_000);
    bencher.bench(|| {
        let mut tally = Tally::new();
        for (a, b, vote, _, _) in &votes {
            tally.add(a, b, *vote);
        }
        divan::black_box(tally.leaderboard(1000))
    });
}

/// The style-controlled point fit alone.
#[divan::bench(sample_count = 10)]
fn style_control_100k_votes_no_bootstrap(bencher: divan::Bencher) {
    let votes = synthetic_styled(100_000);
    bencher.bench(|| {
        let mut styled = StyleVotes::new();
        for (a, b, vote, sa, sb) in &votes {
            styled.add(a, b, *vote, *sa, *sb);
        }
        divan::black_box(styled.fit(0))
    });
}
