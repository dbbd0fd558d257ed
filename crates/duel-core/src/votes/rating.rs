//! The leaderboard maths of SPEC §6: Bradley–Terry ratings as LMArena computes them,
//! with seeded bootstrap intervals, per-model counts, the pairwise win-fraction
//! matrix, and the judge's bias towards one side.
//!
//! **The fit.** Each vote between two different models is a battle; `a`/`b` is a win,
//! `tie` and `both_bad` give each side half a win. The Bradley–Terry strengths θ
//! (natural-log odds) maximise Σ wᵢⱼ·log σ(θᵢ − θⱼ) − λ/2·Σθᵢ², where wᵢⱼ counts i's
//! wins (plus half ties) over j. The fit is Newton's method with a backtracking line
//! search on that strictly concave objective, working on the aggregated pair counts
//! (one cell per pair of models, never per battle), so its cost does not grow with
//! the number of votes. The tiny Gaussian prior (λ = [`PRIOR`], a standard deviation
//! of 10 in θ, about 1,700 rating points) moves a normal fit by far less than a
//! rating point, yet keeps a model that never won finite instead of drifting to −∞,
//! and makes every Newton system positive definite even for a disconnected log.
//! Ratings are 1000 + 400·log₁₀(odds): 400 points per factor of 10 in odds, with the
//! mean over the models at 1000.
//!
//! **The intervals.** Each bootstrap round resamples the battle list with replacement
//! (the same size, i.e. a multinomial draw of counts per cell), refits starting from
//! the full fit, and is shifted onto the full fit's scale by the battle-weighted mean
//! difference (ratings are defined up to a shift; this keeps one barely-played
//! model's swings out of everyone else's interval); the 95% interval
//! is the 2.5th and 97.5th percentile (linear interpolation, numpy's default) of a
//! model's ratings over the rounds where it had battles. Every round has its own
//! generator seeded from the round number ([`super::bootstrap`]), so the result is the same on
//! every run and on any number of threads.

use std::collections::HashMap;

use serde::Serialize;

use super::bootstrap::{in_parallel, percentile, resample};
use super::solver::{Convex, Tolerance, newton};
use crate::domain::Vote;

/// The L2 prior on θ (a Gaussian with standard deviation 1/√λ = 10).
const PRIOR: f64 = 0.01;
/// Rounds when `--bootstrap` is not given.
pub const DEFAULT_ROUNDS: u32 = 1000;
/// Below this many battles a rating is marked as a rough guess.
pub const FEW_BATTLES: u32 = 10;
/// Below this many battles a model gets no interval at all: resampling a handful of
/// votes only replays them (one vote gives the same rating in every round, "±0").
pub const MIN_INTERVAL_BATTLES: u32 = 5;
/// The mean rating over the models.
const MEAN_RATING: f64 = 1000.0;

/// Rating points per unit of θ: 400 per factor of 10 in odds.
pub(crate) fn scale() -> f64 {
    400.0 / std::f64::consts::LN_10
}

/// The outcome of one battle, seen from the pair's lower model index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    LowWins = 0,
    HighWins = 1,
    Tie = 2,
}

/// Model names, each given an index the first time it is met.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Names {
    list: Vec<String>,
    index: HashMap<String, usize>,
}

impl Names {
    /// The index of `name`, given it now if it has none.
    pub(crate) fn intern(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        self.list.push(name.to_owned());
        self.index.insert(name.to_owned(), self.list.len() - 1);
        self.list.len() - 1
    }

    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl std::ops::Index<usize> for Names {
    type Output = String;

    fn index(&self, i: usize) -> &String {
        &self.list[i]
    }
}

/// Votes collected for rating: models by name, battles as cells of the pair counts,
/// and the side counts for position bias.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    names: Names,
    /// Unordered pairs (low, high) of model indices that have met, low < high.
    pairs: Vec<(usize, usize)>,
    pair_index: HashMap<(usize, usize), usize>,
    /// One entry per battle: `pair * 3 + outcome`, the list the bootstrap resamples.
    battles: Vec<u32>,
    /// Battles per cell (`pair * 3 + outcome`).
    counts: Vec<u32>,
    a_wins: u32,
    b_wins: u32,
    votes: usize,
}

impl Tally {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one vote. A vote between a model and itself is no battle (it says
    /// nothing about strength) but still counts for position bias.
    pub fn add(&mut self, model_a: &str, model_b: &str, vote: Vote) {
        match vote {
            Vote::A => self.a_wins += 1,
            Vote::B => self.b_wins += 1,
            Vote::Tie | Vote::BothBad => {}
        }
        self.add_unplaced(model_a, model_b, vote);
    }

    /// Counts a vote that was not cast on one arrangement of the two answers (a model
    /// judge asked in both orders): a battle, but nothing about position bias.
    pub fn add_unplaced(&mut self, model_a: &str, model_b: &str, vote: Vote) {
        self.votes += 1;
        if model_a == model_b {
            return;
        }
        let (a, b) = (self.names.intern(model_a), self.names.intern(model_b));
        let (low, high, a_is_low) = if a < b { (a, b, true) } else { (b, a, false) };
        let pair = match self.pair_index.get(&(low, high)) {
            Some(&p) => p,
            None => {
                self.pairs.push((low, high));
                self.counts.extend([0, 0, 0]);
                self.pair_index.insert((low, high), self.pairs.len() - 1);
                self.pairs.len() - 1
            }
        };
        let outcome = match (vote, a_is_low) {
            (Vote::A, true) | (Vote::B, false) => Outcome::LowWins,
            (Vote::A, false) | (Vote::B, true) => Outcome::HighWins,
            (Vote::Tie | Vote::BothBad, _) => Outcome::Tie,
        };
        let cell = pair * 3 + outcome as usize;
        self.counts[cell] += 1;
        self.battles.push(u32::try_from(cell).unwrap_or(u32::MAX));
    }

    /// Votes counted, including those between a model and itself.
    pub fn votes(&self) -> usize {
        self.votes
    }

    /// Battles between two different models.
    pub fn battles(&self) -> usize {
        self.battles.len()
    }

    /// The whole leaderboard with `rounds` bootstrap rounds.
    pub fn leaderboard(&self, rounds: u32) -> Leaderboard {
        let n = self.names.len();
        let fit = fit(n, &self.pairs, &self.counts, &vec![0.0; n]);
        let point = to_ratings(&fit);
        let samples = self.bootstrap(&fit, rounds);

        let mut models: Vec<ModelStats> = (0..n)
            .map(|i| {
                let mut mine: Vec<f64> = samples.iter().filter_map(|round| round[i]).collect();
                mine.sort_by(f64::total_cmp);
                let (wins, ties, losses) = self.record_of(i);
                let battles = wins + ties + losses;
                let ci = interval(&mine, battles);
                ModelStats {
                    model: self.names[i].clone(),
                    rating: point[i],
                    ci_low: ci.map(|(low, _)| low),
                    ci_high: ci.map(|(_, high)| high),
                    rank: 0,
                    battles,
                    wins,
                    ties,
                    losses,
                    win_rate: f64::from(wins) / f64::from(battles.max(1)),
                }
            })
            .collect();
        let bounds: Vec<Option<(f64, f64)>> = models.iter().map(ModelStats::interval).collect();
        for m in &mut models {
            m.rank = rank(m.interval(), &bounds);
        }
        // Best first; `order` keeps each row's model index for the matrix.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&x, &y| {
            models[y]
                .rating
                .total_cmp(&models[x].rating)
                .then_with(|| models[x].model.cmp(&models[y].model))
        });
        let models: Vec<ModelStats> = order.iter().map(|&i| models[i].clone()).collect();
        Leaderboard {
            votes: self.votes,
            rounds,
            matrix: self.matrix(&order),
            models,
            position_bias: PositionBias::new(self.a_wins, self.b_wins),
            samples,
            names: self.names.clone(),
        }
    }

    /// Wins, ties and losses of model `i` over all its battles.
    fn record_of(&self, i: usize) -> (u32, u32, u32) {
        let (mut wins, mut ties, mut losses) = (0, 0, 0);
        for (p, &(low, high)) in self.pairs.iter().enumerate() {
            let [lw, hw, t] = [0, 1, 2].map(|o| self.counts[p * 3 + o]);
            if low == i {
                (wins, losses) = (wins + lw, losses + hw);
            } else if high == i {
                (wins, losses) = (wins + hw, losses + lw);
            } else {
                continue;
            }
            ties += t;
        }
        (wins, ties, losses)
    }

    fn matrix(&self, order: &[usize]) -> Matrix {
        let n = order.len();
        let mut win_fraction = vec![vec![None; n]; n];
        let mut battles = vec![vec![0; n]; n];
        let position: HashMap<usize, usize> =
            order.iter().enumerate().map(|(row, &i)| (i, row)).collect();
        for (p, &(low, high)) in self.pairs.iter().enumerate() {
            let [lw, hw, t] = [0, 1, 2].map(|o| self.counts[p * 3 + o]);
            let total = lw + hw + t;
            if total == 0 {
                continue;
            }
            let (r, c) = (position[&low], position[&high]);
            let half = f64::from(t) / 2.0;
            win_fraction[r][c] = Some((f64::from(lw) + half) / f64::from(total));
            win_fraction[c][r] = Some((f64::from(hw) + half) / f64::from(total));
            battles[r][c] = total;
            battles[c][r] = total;
        }
        Matrix {
            models: order.iter().map(|&i| self.names[i].clone()).collect(),
            win_fraction,
            battles,
        }
    }

    /// Ratings of every round, `None` for a model with no battle in that round.
    fn bootstrap(&self, start: &[f64], rounds: u32) -> Vec<Vec<Option<f64>>> {
        if self.battles.is_empty() {
            return Vec::new();
        }
        in_parallel(rounds, |r| self.round(start, r))
    }

    fn round(&self, start: &[f64], round: u32) -> Vec<Option<f64>> {
        let counts = resample(&self.battles, self.counts.len(), round);
        let mut battles = vec![0u32; self.names.len()];
        for (p, &(low, high)) in self.pairs.iter().enumerate() {
            let n: u32 = counts[p * 3..p * 3 + 3].iter().sum();
            battles[low] += n;
            battles[high] += n;
        }
        let theta = fit(self.names.len(), &self.pairs, &counts, start);
        aligned(&theta, start, &battles)
    }
}

/// A bootstrap round's strengths `theta` as ratings on the full fit's (`start`'s)
/// scale, `None` for a model without battles in the round.
///
/// Ratings are only defined up to a common shift. Each round is aligned to the full
/// fit, weighting models by their battles, so a barely-played model swinging wildly
/// does not drag every other model's interval along with it.
pub(crate) fn aligned(theta: &[f64], start: &[f64], battles: &[u32]) -> Vec<Option<f64>> {
    let (mut moved, mut weight) = (0.0, 0.0);
    for i in 0..theta.len() {
        moved += f64::from(battles[i]) * (theta[i] - start[i]);
        weight += f64::from(battles[i]);
    }
    let shift = if weight > 0.0 { moved / weight } else { 0.0 };
    let centre = start.iter().sum::<f64>() / start.len() as f64;
    theta
        .iter()
        .zip(battles)
        .map(|(t, &n)| (n > 0).then(|| MEAN_RATING + scale() * (t - shift - centre)))
        .collect()
}

/// θ to ratings, centred so the models average [`MEAN_RATING`].
pub(crate) fn to_ratings(theta: &[f64]) -> Vec<f64> {
    let mean = theta.iter().sum::<f64>() / theta.len().max(1) as f64;
    theta
        .iter()
        .map(|t| MEAN_RATING + scale() * (t - mean))
        .collect()
}

/// The 95% interval of a model's bootstrap ratings (`sorted`) over its `battles`;
/// None when those are too few ([`MIN_INTERVAL_BATTLES`]) or every round gave the same
/// rating (one model won every vote of the pair): then no interval tells anything.
pub(crate) fn interval(sorted: &[f64], battles: u32) -> Option<(f64, f64)> {
    if battles < MIN_INTERVAL_BATTLES || sorted.is_empty() {
        return None;
    }
    let (low, high) = (percentile(sorted, 0.025), percentile(sorted, 0.975));
    (high - low > 1e-6).then_some((low, high))
}

/// The one rule for "settled": `x` is above `y` when x's whole interval lies above
/// y's. A model without an interval is settled against no one. Ranks count it, the
/// decision reads it, and the chart and the page draw it.
pub fn clearly_above(x: Option<(f64, f64)>, y: Option<(f64, f64)>) -> bool {
    matches!((x, y), (Some((x_low, _)), Some((_, y_high))) if x_low > y_high)
}

/// rank = 1 + the number of models clearly above this one (their lower bound above
/// its upper bound). Two models of the same rank are not settled; two of different
/// ranks need not be either, since each rank counts a model's own betters.
pub fn rank(interval: Option<(f64, f64)>, all: &[Option<(f64, f64)>]) -> u32 {
    let better = all
        .iter()
        .filter(|&&other| clearly_above(other, interval))
        .count();
    1 + u32::try_from(better).unwrap_or(u32::MAX)
}

/// log(1 + eˣ) without overflow.
pub(crate) fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Per pair: (low, high, low's wins + half ties, battles).
fn pair_weights(pairs: &[(usize, usize)], counts: &[u32]) -> Vec<(usize, usize, f64, f64)> {
    pairs
        .iter()
        .enumerate()
        .filter_map(|(p, &(low, high))| {
            let [lw, hw, t] = [0, 1, 2].map(|o| f64::from(counts[p * 3 + o]));
            let n = lw + hw + t;
            (n > 0.0).then_some((low, high, lw + t / 2.0, n))
        })
        .collect()
}

/// The penalised negative log-likelihood: what Newton minimises.
fn objective(weights: &[(usize, usize, f64, f64)], theta: &[f64]) -> f64 {
    let mut f = PRIOR / 2.0 * theta.iter().map(|t| t * t).sum::<f64>();
    for &(i, j, w, n) in weights {
        let d = theta[i] - theta[j];
        // −[w·log σ(d) + (n−w)·log σ(−d)]
        f += w * softplus(-d) + (n - w) * softplus(d);
    }
    f
}

/// The plain fit's objective over its pair weights.
struct PairFit<'a> {
    models: usize,
    weights: &'a [(usize, usize, f64, f64)],
}

impl Convex for PairFit<'_> {
    fn dim(&self) -> usize {
        self.models
    }

    fn eval(&self, theta: &[f64], derivatives: Option<(&mut [f64], &mut [f64])>) -> f64 {
        let f = objective(self.weights, theta);
        let Some((grad, hess)) = derivatives else {
            return f;
        };
        let n = self.models;
        for (g, t) in grad.iter_mut().zip(theta) {
            *g = PRIOR * t;
        }
        hess.fill(0.0);
        for k in 0..n {
            hess[k * n + k] = PRIOR;
        }
        for &(i, j, w, total) in self.weights {
            let p = sigmoid(theta[i] - theta[j]);
            let g = total * p - w;
            grad[i] += g;
            grad[j] -= g;
            let h = total * p * (1.0 - p);
            hess[i * n + i] += h;
            hess[j * n + j] += h;
            hess[i * n + j] -= h;
            hess[j * n + i] -= h;
        }
        f
    }
}

/// Maximum-a-posteriori Bradley–Terry strengths from pair counts, from `start`.
fn fit(n: usize, pairs: &[(usize, usize)], counts: &[u32], start: &[f64]) -> Vec<f64> {
    let weights = pair_weights(pairs, counts);
    let objective = PairFit {
        models: n,
        weights: &weights,
    };
    newton(&objective, start, PLAIN_TOLERANCE)
}

/// The plain fit's stopping rule.
const PLAIN_TOLERANCE: Tolerance = Tolerance {
    gradient: 1e-9,
    moved: 1e-12,
    last_step: 0.0,
    trusted_step: 0.0,
};

/// One row of the leaderboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelStats {
    pub model: String,
    pub rating: f64,
    /// The 95% interval; both null when the battles are too few for one.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub rank: u32,
    /// Battles against a different model.
    pub battles: u32,
    pub wins: u32,
    /// Ties and both-bad votes.
    pub ties: u32,
    pub losses: u32,
    /// wins / battles: a tie counts as a battle but not as a win (nor half of one),
    /// so wins, ties and losses rates add up to 1.
    pub win_rate: f64,
}

impl ModelStats {
    pub fn few_battles(&self) -> bool {
        self.battles < FEW_BATTLES
    }

    /// (ci_low, ci_high), when the model has an interval.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.ci_low.zip(self.ci_high)
    }
}

/// How often each row model beat each column model, in leaderboard order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Matrix {
    pub models: Vec<String>,
    /// Row's wins plus half the ties, over their battles; `None` where they never met.
    pub win_fraction: Vec<Vec<Option<f64>>>,
    pub battles: Vec<Vec<u32>>,
}

/// Among decisive votes (a or b): how often side A won, with a Wilson 95% interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PositionBias {
    pub a_wins: u32,
    pub b_wins: u32,
    /// `None` when there was no decisive vote.
    pub a_rate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

impl PositionBias {
    pub fn new(a_wins: u32, b_wins: u32) -> Self {
        let n = f64::from(a_wins + b_wins);
        if n == 0.0 {
            return Self {
                a_wins,
                b_wins,
                a_rate: None,
                ci_low: None,
                ci_high: None,
            };
        }
        let (low, high) = wilson(f64::from(a_wins), n);
        Self {
            a_wins,
            b_wins,
            a_rate: Some(f64::from(a_wins) / n),
            ci_low: Some(low),
            ci_high: Some(high),
        }
    }

    /// Whether the interval excludes a fair 50%, and which side it leans to.
    pub fn favoured(&self) -> Option<&'static str> {
        match (self.ci_low, self.ci_high) {
            (Some(low), _) if low > 0.5 => Some("A"),
            (_, Some(high)) if high < 0.5 => Some("B"),
            _ => None,
        }
    }
}

/// The Wilson score interval at 95% for `k` successes in `n` trials.
fn wilson(k: f64, n: f64) -> (f64, f64) {
    const Z: f64 = 1.959_963_984_540_054;
    let p = k / n;
    let z2 = Z * Z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Everything `duel stats` shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Leaderboard {
    pub votes: usize,
    pub rounds: u32,
    /// Best first.
    pub models: Vec<ModelStats>,
    pub matrix: Matrix,
    pub position_bias: PositionBias,
    /// Every bootstrap round's ratings, by model index.
    samples: Vec<Vec<Option<f64>>>,
    names: Names,
}

impl Leaderboard {
    /// The probability that `a` is better than `b`: the share of bootstrap rounds in
    /// which `a` rates higher (an even round counts half), over the rounds where both
    /// played. None without such rounds.
    pub fn prob_better(&self, a: &str, b: &str) -> Option<f64> {
        let (i, j) = (self.names.get(a)?, self.names.get(b)?);
        let (mut above, mut rounds) = (0.0, 0u32);
        for round in &self.samples {
            if let (Some(x), Some(y)) = (round[i], round[j]) {
                rounds += 1;
                above += match x.total_cmp(&y) {
                    std::cmp::Ordering::Greater => 1.0,
                    std::cmp::Ordering::Equal => 0.5,
                    std::cmp::Ordering::Less => 0.0,
                };
            }
        }
        (rounds > 0).then(|| above / f64::from(rounds))
    }

    /// The model named `name`.
    pub fn model(&self, name: &str) -> Option<&ModelStats> {
        self.models.iter().find(|m| m.model == name)
    }

    /// Whether the votes settle which of `a` and `b` is better: one's interval lies
    /// wholly above the other's ([`clearly_above`], the rule ranks count by).
    pub fn settled(&self, a: &str, b: &str) -> bool {
        match (self.model(a), self.model(b)) {
            (Some(a), Some(b)) => {
                clearly_above(a.interval(), b.interval())
                    || clearly_above(b.interval(), a.interval())
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};

    fn tally(votes: &[(&str, &str, Vote, usize)]) -> Tally {
        let mut t = Tally::new();
        for &(a, b, vote, times) in votes {
            for _ in 0..times {
                t.add(a, b, vote);
            }
        }
        t
    }

    fn model<'a>(board: &'a Leaderboard, name: &str) -> &'a ModelStats {
        board
            .models
            .iter()
            .find(|m| m.model == name)
            .expect("model on the board")
    }

    #[test]
    fn two_models_match_the_closed_form() {
        // 70 wins of 100 for x, split over both sides.
        let t = tally(&[
            ("x", "y", Vote::A, 40),
            ("y", "x", Vote::B, 30),
            ("x", "y", Vote::B, 20),
            ("y", "x", Vote::A, 10),
        ]);
        let board = t.leaderboard(200);
        let (x, y) = (model(&board, "x"), model(&board, "y"));
        let expected = 400.0 * (0.7f64 / 0.3).log10();
        assert!(
            (x.rating - y.rating - expected).abs() < 0.1,
            "{} vs {expected}",
            x.rating - y.rating
        );
        assert!(((x.rating + y.rating) / 2.0 - 1000.0).abs() < 1e-6);
        assert_eq!((x.battles, x.wins, x.ties, x.losses), (100, 70, 0, 30));
        assert_eq!((y.wins, y.losses), (30, 70));
        assert!((x.win_rate - 0.7).abs() < 1e-12);
        let (low, high) = x.interval().unwrap();
        assert!(low < x.rating && x.rating < high);
        assert_eq!(board.models[0].model, "x");
    }

    #[test]
    fn ties_and_both_bad_count_half_a_win_each() {
        // x: 30 wins, 40 ties/both-bad, 30 losses → fraction 0.5 → equal ratings.
        let t = tally(&[
            ("x", "y", Vote::A, 30),
            ("x", "y", Vote::B, 30),
            ("x", "y", Vote::Tie, 20),
            ("y", "x", Vote::BothBad, 20),
        ]);
        let board = t.leaderboard(50);
        let x = model(&board, "x");
        assert!((x.rating - 1000.0).abs() < 1e-6, "{}", x.rating);
        assert_eq!((x.wins, x.ties, x.losses), (30, 40, 30));
        // 20 wins + 40 ties of 60 battles: x scores (20 + 40/2)/60 = 2/3, odds 2.
        let t = tally(&[("x", "y", Vote::A, 20), ("x", "y", Vote::Tie, 40)]);
        let board = t.leaderboard(10);
        let gap = model(&board, "x").rating - model(&board, "y").rating;
        assert!((gap - 400.0 * 2f64.log10()).abs() < 0.1, "{gap}");
        assert_eq!(board.matrix.win_fraction[0][1], Some(40.0 / 60.0));
    }

    #[test]
    fn a_model_that_never_wins_stays_finite_and_last() {
        let t = tally(&[
            ("x", "y", Vote::A, 30),
            ("x", "y", Vote::B, 20),
            ("z", "x", Vote::B, 12),
            ("y", "z", Vote::A, 8),
        ]);
        let board = t.leaderboard(100);
        let z = model(&board, "z");
        assert_eq!((z.wins, z.losses), (0, 20));
        assert!(z.rating.is_finite() && z.ci_low.unwrap().is_finite());
        assert_eq!(board.models.last().map(|m| m.model.as_str()), Some("z"));
        let others = board.models.iter().filter(|m| m.model != "z");
        assert!(others.clone().all(|m| m.rating > z.rating + 200.0));
        assert!(z.rating > 0.0, "{}", z.rating);
        let mean = board.models.iter().map(|m| m.rating).sum::<f64>() / 3.0;
        assert!((mean - 1000.0).abs() < 1e-6);
    }

    #[test]
    fn synthetic_strengths_are_recovered() {
        let truth = [("a", 1200.0), ("b", 1100.0), ("c", 1000.0), ("d", 900.0)];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut t = Tally::new();
        for _ in 0..20_000 {
            let i = rng.random_range(0..truth.len());
            let j = (i + rng.random_range(1..truth.len())) % truth.len();
            let p = 1.0 / (1.0 + 10f64.powf((truth[j].1 - truth[i].1) / 400.0));
            let vote = if rng.random::<f64>() < p {
                Vote::A
            } else {
                Vote::B
            };
            t.add(truth[i].0, truth[j].0, vote);
        }
        let board = t.leaderboard(100);
        let names: Vec<&str> = board.models.iter().map(|m| m.model.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        for (name, rating) in truth {
            let m = model(&board, name);
            // Truth averages 1050; the fit is centred on 1000.
            assert!((m.rating - (rating - 50.0)).abs() < 15.0, "{name}: {m:?}");
            let (low, high) = m.interval().unwrap();
            assert!(low < rating - 50.0 && rating - 50.0 < high, "{m:?}");
            assert_eq!(
                m.rank,
                names.iter().position(|n| *n == name).unwrap() as u32 + 1
            );
        }
    }

    #[test]
    fn the_bootstrap_is_reproducible() {
        let t = tally(&[
            ("x", "y", Vote::A, 7),
            ("x", "y", Vote::B, 5),
            ("y", "z", Vote::A, 4),
            ("z", "x", Vote::Tie, 3),
        ]);
        assert_eq!(t.leaderboard(300), t.leaderboard(300));
        assert_ne!(t.leaderboard(300), t.leaderboard(301));
    }

    #[test]
    fn a_barely_played_model_does_not_widen_the_others_intervals() {
        let base = [("x", "y", Vote::A, 120), ("x", "y", Vote::B, 80)];
        let alone = tally(&base).leaderboard(400);
        let mut with_z = base.to_vec();
        with_z.extend([("z", "x", Vote::A, 1), ("y", "z", Vote::B, 1)]);
        let crowded = tally(&with_z).leaderboard(400);
        let width = |b: &Leaderboard| {
            let (low, high) = model(b, "x").interval().unwrap();
            high - low
        };
        assert!(
            width(&crowded) < width(&alone) * 1.15,
            "{} vs {}",
            width(&crowded),
            width(&alone)
        );
        let z = model(&crowded, "z");
        assert!(z.few_battles());
    }

    #[test]
    fn too_few_battles_or_rounds_that_never_vary_give_no_interval() {
        // One vote: every round replays it, which is no interval ("-0/+0").
        let one = tally(&[("x", "y", Vote::A, 1)]).leaderboard(200);
        for m in &one.models {
            assert_eq!((m.ci_low, m.ci_high, m.rank), (None, None, 1), "{m:?}");
        }
        assert!(!one.settled("x", "y"));
        // x always beats y: every resample is the same, however many votes.
        let sweep = tally(&[("x", "y", Vote::A, 30)]).leaderboard(200);
        assert_eq!(model(&sweep, "x").interval(), None);
        // A handful with both outcomes: still under the minimum.
        let few = tally(&[("x", "y", Vote::A, 2), ("x", "y", Vote::B, 2)]).leaderboard(200);
        assert_eq!(model(&few, "y").interval(), None);
        let enough = tally(&[("x", "y", Vote::A, 3), ("x", "y", Vote::B, 3)]).leaderboard(200);
        assert!(model(&enough, "y").interval().is_some());
    }

    #[test]
    fn rank_counts_models_clearly_above() {
        let bounds = [
            Some((1100.0, 1150.0)),
            Some((1050.0, 1120.0)),
            Some((900.0, 1060.0)),
            Some((800.0, 1000.0)),
            None,
        ];
        let ranks: Vec<u32> = bounds.iter().map(|&b| rank(b, &bounds)).collect();
        // 2nd overlaps 1st; 3rd's top (1060) is below only 1st's bottom (1100);
        // 4th's top (1000) is below the bottoms of 1st and 2nd; the last, without an
        // interval, is below no one and lowers no one.
        assert_eq!(ranks, [1, 1, 2, 3, 1]);
    }

    #[test]
    fn position_bias_uses_decisive_votes_and_a_wilson_interval() {
        let t = tally(&[
            ("x", "y", Vote::A, 60),
            ("x", "y", Vote::B, 40),
            ("x", "x", Vote::A, 5),
            ("x", "y", Vote::Tie, 9),
        ]);
        let bias = t.leaderboard(10).position_bias;
        assert_eq!((bias.a_wins, bias.b_wins), (65, 40));
        let rate = bias.a_rate.unwrap();
        assert!((rate - 65.0 / 105.0).abs() < 1e-12);
        // Wilson for 65/105 at 95%: [0.523517, 0.706175].
        assert!((bias.ci_low.unwrap() - 0.523_517).abs() < 1e-6, "{bias:?}");
        assert!((bias.ci_high.unwrap() - 0.706_175).abs() < 1e-6, "{bias:?}");
        assert_eq!(bias.favoured(), Some("A"));
        assert_eq!(PositionBias::new(50, 50).favoured(), None);
        assert_eq!(PositionBias::new(0, 0).a_rate, None);
        assert_eq!(t.votes(), 114);
        assert_eq!(t.battles(), 109);
    }

    #[test]
    fn the_matrix_has_none_where_models_never_met() {
        let t = tally(&[
            ("x", "y", Vote::A, 3),
            ("y", "z", Vote::A, 2),
            ("z", "y", Vote::Tie, 2),
        ]);
        let m = t.leaderboard(10).matrix;
        let at = |r: &str, c: &str| {
            let i = m.models.iter().position(|x| x == r).unwrap();
            let j = m.models.iter().position(|x| x == c).unwrap();
            (m.win_fraction[i][j], m.battles[i][j])
        };
        assert_eq!(at("x", "z"), (None, 0));
        assert_eq!(at("x", "y"), (Some(1.0), 3));
        assert_eq!(at("y", "z"), (Some(0.75), 4));
        assert_eq!(at("z", "y"), (Some(0.25), 4));
        assert_eq!(at("x", "x"), (None, 0));
    }
}
