//! The style-controlled fit's design: the votes as rows (one per distinct pair and
//! standardised features, with three outcome cells like the plain fit's pairs), and
//! the objective over them that [`newton`] minimises.

use std::collections::HashMap;
use std::ops::Range;

use super::super::bootstrap::resample;
use super::super::rating::aligned;
use super::super::solver::{Convex, Tolerance, newton};
use super::{Battle, K, REG, StyleVotes};

/// The full fit: a line search at every step, and a last step far below anything
/// printed.
pub(super) const FULL: Tolerance = Tolerance {
    gradient: 1e-9,
    moved: 1e-12,
    last_step: 1e-7,
    trusted_step: 0.0,
};

/// A bootstrap round starts next to its optimum, from the full fit: pure Newton steps
/// while they are under 0.1 in log odds (17 rating points) and the gradient shrinks,
/// which needs no value, so no logarithm per row; and a step under 10⁻³ (0.17
/// points) is the last, leaving an error of about its square (a ten-thousandth of a
/// point). Most rounds take two passes over the rows.
pub(super) const ROUND: Tolerance = Tolerance {
    gradient: 1e-9,
    moved: 1e-12,
    last_step: 1e-3,
    trusted_step: 0.1,
};

/// The rows of one pair of models (low < high), or of self-battles (`None`), in a run.
type Group = (Option<(usize, usize)>, Range<usize>);

/// The votes as the fit's rows: one per distinct (pair, standardised features), each
/// with three cells (low model wins, high model wins, tie) like the plain fit's pairs.
pub(super) struct Design {
    models: usize,
    pub(super) groups: Vec<Group>,
    /// Standardised features per row, seen from the low model's side.
    pub(super) x: Vec<[f64; K]>,
    /// Votes per cell, `row * 3 + outcome`.
    pub(super) counts: Vec<u32>,
    /// One cell per vote, the list the bootstrap resamples.
    pub(super) battles: Vec<u32>,
    /// Whether each feature differs anywhere (a feature that never does is left out).
    pub(super) varies: [bool; K],
    /// Whether each feature differs within a pair of models (see [`Coefficient::tied_to_models`]).
    pub(super) within: [bool; K],
}

/// How each feature's difference is standardised over the votes: minus its mean, over
/// its population standard deviation; a feature that never varies is left at 0.
struct Standard {
    varies: [bool; K],
    mean: [f64; K],
    sd: [f64; K],
}

impl Standard {
    fn of(battles: &[Battle]) -> Self {
        let n = battles.len() as f64;
        let mut standard = Self {
            varies: [false; K],
            mean: [0.0; K],
            sd: [0.0; K],
        };
        for k in 0..K {
            let first = battles[0].diff[k];
            let mean = battles.iter().map(|b| b.diff[k]).sum::<f64>() / n;
            let var = battles
                .iter()
                .map(|b| (b.diff[k] - mean).powi(2))
                .sum::<f64>()
                / n;
            standard.mean[k] = mean;
            standard.sd[k] = var.sqrt();
            standard.varies[k] = battles.iter().any(|b| b.diff[k] != first) && standard.sd[k] > 0.0;
        }
        standard
    }

    fn apply(&self, diff: &[f64; K]) -> [f64; K] {
        std::array::from_fn(|k| {
            if self.varies[k] {
                (diff[k] - self.mean[k]) / self.sd[k]
            } else {
                0.0
            }
        })
    }
}

/// Whether a feature ever differs between two votes of the same pair of models (seen
/// from the same side), or in a vote of a model against itself. If not, it only ever
/// changes with the pair, and the fit can barely tell it from the models' strengths.
fn within_pairs(battles: &[Battle]) -> [bool; K] {
    let mut first_seen: HashMap<(usize, usize), [f64; K]> = HashMap::new();
    let mut within = [false; K];
    for b in battles {
        let Some((a, b_)) = b.models else {
            within = std::array::from_fn(|k| within[k] || b.diff[k] != 0.0);
            continue;
        };
        let (key, d) = if a < b_ {
            ((a, b_), b.diff)
        } else {
            ((b_, a), b.diff.map(|v| -v))
        };
        let seen = first_seen.entry(key).or_insert(d);
        within = std::array::from_fn(|k| within[k] || seen[k] != d[k]);
    }
    within
}

/// A row's key: the pair (low, high; `usize::MAX` twice for self-battles) and its
/// standardised features' bits.
type Key = (usize, usize, [u64; K]);

/// A distinct row: its key and its standardised features.
type KeyedRow = (Key, [f64; K]);

/// The distinct rows in order of first appearance, keyed by pair and features and
/// oriented from the lower model index, and each vote's (row, outcome) cell.
fn keyed_rows(battles: &[Battle], standard: &Standard) -> (Vec<KeyedRow>, Vec<(usize, usize)>) {
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut keys: Vec<KeyedRow> = Vec::new();
    let mut cells = Vec::with_capacity(battles.len());
    for b in battles {
        let mut x = standard.apply(&b.diff);
        let (low, high, score_low) = match b.models {
            Some((a, b_)) if a > b_ => {
                x = x.map(|v| -v);
                (b_, a, 1.0 - b.score_a)
            }
            Some((a, b_)) => (a, b_, b.score_a),
            None => (usize::MAX, usize::MAX, b.score_a),
        };
        // +0.0 and -0.0 are one value.
        let key = (low, high, x.map(|v| (v + 0.0).to_bits()));
        let row = *index.entry(key).or_insert_with(|| {
            keys.push((key, x));
            keys.len() - 1
        });
        let outcome = if score_low == 1.0 {
            0
        } else if score_low == 0.0 {
            1
        } else {
            2
        };
        cells.push((row, outcome));
    }
    (keys, cells)
}

impl Design {
    pub(super) fn new(votes: &StyleVotes) -> Option<Self> {
        if votes.names.is_empty() {
            return None;
        }
        let standard = Standard::of(&votes.battles);
        let within = within_pairs(&votes.battles);
        let (keys, cells) = keyed_rows(&votes.battles, &standard);
        // Rows of one pair next to each other; self-battles (usize::MAX) last.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&r| (keys[r].0.0, keys[r].0.1, r));
        let mut position = vec![0; keys.len()];
        for (to, &from) in order.iter().enumerate() {
            position[from] = to;
        }
        let x: Vec<[f64; K]> = order.iter().map(|&r| keys[r].1).collect();
        let mut groups: Vec<Group> = Vec::new();
        for (at, &r) in order.iter().enumerate() {
            let (low, high, _) = keys[r].0;
            let pair = (low != usize::MAX).then_some((low, high));
            match groups.last_mut() {
                Some((p, rows)) if *p == pair => rows.end = at + 1,
                _ => groups.push((pair, at..at + 1)),
            }
        }
        let mut counts = vec![0u32; x.len() * 3];
        let battles: Vec<u32> = cells
            .iter()
            .map(|&(row, outcome)| {
                let cell = position[row] * 3 + outcome;
                counts[cell] += 1;
                u32::try_from(cell).unwrap_or(u32::MAX)
            })
            .collect();
        Some(Self {
            models: votes.names.len(),
            groups,
            x,
            counts,
            battles,
            varies: standard.varies,
            within,
        })
    }

    /// The rows with a vote under `counts`, as the objective reads them.
    pub(super) fn rows(&self, counts: &[u32]) -> Rows {
        let len = self.x.len();
        let mut rows = Rows {
            models: self.models,
            groups: Vec::with_capacity(self.groups.len()),
            x: vec![[0.0; K]; len],
            wins: vec![0.0; len],
            total: vec![0.0; len],
        };
        let mut kept = 0;
        for (pair, range) in &self.groups {
            let start = kept;
            for r in range.clone() {
                let [lw, hw, t] = [0, 1, 2].map(|o| f64::from(counts[r * 3 + o]));
                let n = lw + hw + t;
                // Written whether or not it is kept: no branch to mispredict on the
                // third of the rows a bootstrap round leaves out.
                rows.x[kept] = self.x[r];
                rows.wins[kept] = lw + t / 2.0;
                rows.total[kept] = n;
                kept += usize::from(n > 0.0);
            }
            if kept > start {
                rows.groups.push((*pair, start..kept));
            }
        }
        rows.x.truncate(kept);
        rows.wins.truncate(kept);
        rows.total.truncate(kept);
        rows
    }

    /// One bootstrap round: the models' aligned ratings (`None` without battles) and
    /// the coefficients.
    pub(super) fn round(&self, full: &[f64], round: u32) -> (Vec<Option<f64>>, [f64; K]) {
        let counts = resample(&self.battles, self.counts.len(), round);
        let rows = self.rows(&counts);
        let theta = newton(&rows, full, ROUND);
        let mut battles = vec![0u32; self.models];
        for (pair, range) in &self.groups {
            if let Some((low, high)) = *pair {
                let n: u32 = counts[range.start * 3..range.end * 3].iter().sum();
                battles[low] += n;
                battles[high] += n;
            }
        }
        let m = self.models;
        let ratings = aligned(&theta[..m], &full[..m], &battles);
        (ratings, std::array::from_fn(|k| theta[m + k]))
    }
}

/// The rows of one fit: the penalised negative log-likelihood over them.
pub(super) struct Rows {
    models: usize,
    pub(super) groups: Vec<Group>,
    x: Vec<[f64; K]>,
    /// The low model's wins plus half the ties.
    wins: Vec<f64>,
    total: Vec<f64>,
}

/// The penalty on variable `i`: REG on log₁₀-odds strengths is REG / ln²10 on θ.
fn penalty(i: usize, models: usize) -> f64 {
    if i < models {
        REG / (std::f64::consts::LN_10 * std::f64::consts::LN_10)
    } else {
        REG
    }
}

impl Rows {
    /// The penalised negative log-likelihood at `p`.
    fn value(&self, p: &[f64]) -> f64 {
        let m = self.models;
        let beta: [f64; K] = std::array::from_fn(|k| p[m + k]);
        let mut f = 0.0;
        for (i, v) in p.iter().enumerate() {
            f += penalty(i, m) / 2.0 * v * v;
        }
        for (pair, range) in &self.groups {
            let base = pair.map_or(0.0, |(i, j)| p[i] - p[j]);
            for r in range.clone() {
                let z = base + dot(&self.x[r], &beta);
                let (w, n) = (self.wins[r], self.total[r]);
                f += w * (-z).max(0.0) + (n - w) * z.max(0.0) + n * log_one_plus(z);
            }
        }
        f
    }

    /// The gradient and Hessian at `p`, and with `VALUE` the value too (else 0): one
    /// pass over the rows, the value costing a logarithm per row. One function on
    /// purpose: the hot loop of every bootstrap round, its accumulators kept in
    /// registers across the chunk.
    fn pass<const VALUE: bool>(&self, p: &[f64], grad: &mut [f64], hess: &mut [f64]) -> f64 {
        let (m, dim) = (self.models, self.models + K);
        let beta: [f64; K] = std::array::from_fn(|k| p[m + k]);
        let mut f = 0.0;
        hess.fill(0.0);
        for (i, v) in p.iter().enumerate() {
            if VALUE {
                f += penalty(i, m) / 2.0 * v * v;
            }
            grad[i] = penalty(i, m) * v;
            hess[i * dim + i] = penalty(i, m);
        }
        let mut g_beta = [0.0; K];
        let mut h_beta = [[0.0; K]; K];
        for (pair, range) in &self.groups {
            let base = pair.map_or(0.0, |(i, j)| p[i] - p[j]);
            let (mut g_pair, mut h_pair, mut h_cross) = (0.0, 0.0, [0.0; K]);
            // In chunks: the exponentials first, then the sums with no call in
            // between, so the accumulators stay in registers.
            let mut z = [0.0; CHUNK];
            let mut e = [0.0; CHUNK];
            for start in range.clone().step_by(CHUNK) {
                let rows = start..(start + CHUNK).min(range.end);
                let len = rows.len();
                for (c, r) in rows.clone().enumerate() {
                    z[c] = base + dot(&self.x[r], &beta);
                }
                for c in 0..len {
                    e[c] = (-z[c].abs()).exp();
                }
                for (c, r) in rows.enumerate() {
                    let (z, e, x) = (z[c], e[c], &self.x[r]);
                    let (w, n) = (self.wins[r], self.total[r]);
                    if VALUE {
                        // As log_one_plus, with e at hand.
                        f += w * (-z).max(0.0) + (n - w) * z.max(0.0) + n * (1.0 + e).ln();
                    }
                    let inv = 1.0 / (1.0 + e);
                    let prob = if z >= 0.0 { inv } else { e * inv };
                    let g = n * prob - w;
                    let h = n * e * inv * inv;
                    g_pair += g;
                    h_pair += h;
                    for k in 0..K {
                        g_beta[k] += g * x[k];
                        let hx = h * x[k];
                        h_cross[k] += hx;
                        for l in k..K {
                            h_beta[k][l] += hx * x[l];
                        }
                    }
                }
            }
            let Some((i, j)) = *pair else { continue };
            grad[i] += g_pair;
            grad[j] -= g_pair;
            hess[i * dim + i] += h_pair;
            hess[j * dim + j] += h_pair;
            hess[i * dim + j] -= h_pair;
            hess[j * dim + i] -= h_pair;
            for (k, h) in h_cross.iter().enumerate() {
                let c = m + k;
                hess[i * dim + c] += h;
                hess[c * dim + i] += h;
                hess[j * dim + c] -= h;
                hess[c * dim + j] -= h;
            }
        }
        for k in 0..K {
            grad[m + k] += g_beta[k];
            for l in k..K {
                hess[(m + k) * dim + m + l] += h_beta[k][l];
                if l != k {
                    hess[(m + l) * dim + m + k] += h_beta[k][l];
                }
            }
        }
        f
    }
}

impl Convex for Rows {
    fn dim(&self) -> usize {
        self.models + K
    }

    fn eval(&self, p: &[f64], derivatives: Option<(&mut [f64], &mut [f64])>) -> f64 {
        match derivatives {
            Some((grad, hess)) => self.pass::<true>(p, grad, hess),
            None => self.value(p),
        }
    }

    fn derivatives(&self, p: &[f64], grad: &mut [f64], hess: &mut [f64]) {
        self.pass::<false>(p, grad, hess);
    }
}

/// ln(1 + e^−|z|), the part of softplus that needs a logarithm. ln of 1 + e rather
/// than ln_1p(e): as exact in absolute terms, which is all a sum needs, and several
/// times faster.
fn log_one_plus(z: f64) -> f64 {
    (1.0 + (-z.abs()).exp()).ln()
}

/// Rows per chunk of a pass.
const CHUNK: usize = 64;

fn dot(x: &[f64; K], beta: &[f64; K]) -> f64 {
    x[0] * beta[0] + x[1] * beta[1] + x[2] * beta[2] + x[3] * beta[3]
}
