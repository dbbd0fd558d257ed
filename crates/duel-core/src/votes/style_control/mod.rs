//! Ratings with style held equal: LMArena's "style control" (SPEC §8).
//!
//! **The features.** For each vote, per side: the answer's tokens and its Markdown
//! headers, list items and bold spans (counted as [`super::style`] counts them for
//! `duel export --format arena`). Each feature enters as the normalised difference
//! (a − b) / (a + b + 1) between side A and side B, then standardised over the votes
//! (minus its mean, over its population standard deviation), exactly as FastChat's
//! `preprocess_for_style` builds them. One unit of a coefficient is one standard
//! deviation of that normalised difference.
//!
//! **The fit.** A Bradley–Terry model with the features beside the strengths: side A
//! wins with probability σ(θ_A − θ_B + β·x), ties counting half a win each, fitted
//! jointly for θ and β by the same Newton solver as the plain fit
//! ([`super::solver::newton`]). The penalty is LMArena's: ½·0.5·‖(r, β)‖² on the strengths
//! in log₁₀ odds (r = θ / ln 10) and on the coefficients, so the figures agree with
//! FastChat's `compute_style_control` on the same battles; on a log of a few hundred
//! votes it moves a rating by well under a point. The ratings reported are the
//! strengths alone, on the plain fit's scale (mean 1000): each model's rating were
//! both answers alike in length and Markdown.
//!
//! Votes with the same pair and the same features are one row (the outcomes of a
//! row add up like the plain fit's pair counts), and a vote between a model and
//! itself, which says nothing about strength but something about style, informs the
//! coefficients only.
//!
//! **The intervals.** As the plain fit's: each round resamples the votes with
//! replacement (its own seeded generator), refits from the full fit, is aligned on it
//! by the battle-weighted shift, and the 95% interval is the 2.5th and 97.5th
//! percentile over the rounds; the coefficients' intervals likewise (they need no
//! alignment). A round is solved as `design::ROUND` says: to a ten-thousandth of a rating
//! point, mostly in two passes over the rows.
//!
//! **What cannot be fitted.** A feature that never differs between the two answers
//! in these votes (no answer has a header, say) has no coefficient: it is left out
//! of the fit, and its value and interval are `None`. Without a battle between two
//! different models there is nothing to fit at all.

mod design;

use serde::Serialize;

use super::bootstrap::{in_parallel, percentile};
use super::rating::{self, Names, rank, to_ratings};
use super::solver::newton;
use super::style::{answer_tokens, markdown_counts};
use super::{SideRecord, VoteRecord};
use crate::domain::Vote;
use design::{Design, FULL};

/// The features, in the order of the coefficients: SPEC §8's names.
pub const FEATURES: [&str; 4] = ["length", "headers", "lists", "bold"];
const K: usize = FEATURES.len();

/// LMArena's L2 penalty (FastChat's `reg`), on strengths in log₁₀ odds and on the
/// style coefficients alike.
const REG: f64 = 0.5;

/// One side's style as LMArena's style control reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// The answer's tokens: the provider's count, else duel's, else an estimate.
    pub tokens: u64,
    /// Headers `#`…`######` outside code blocks.
    pub headers: u32,
    /// Ordered and unordered list items outside code blocks.
    pub lists: u32,
    /// Bold spans (`**…**`, `__…__`) outside code blocks.
    pub bold: u32,
}

impl Style {
    /// The style of a side's answer, counted as `duel export --format arena` counts it
    /// into FastChat's `conv_metadata`.
    pub fn of(side: &SideRecord) -> Self {
        let counts = markdown_counts(&side.answer);
        let h = counts.headers;
        Self {
            tokens: answer_tokens(side),
            headers: h.h1 + h.h2 + h.h3 + h.h4 + h.h5 + h.h6,
            lists: counts.lists.ordered + counts.lists.unordered,
            bold: counts.bold.stars + counts.bold.underscores,
        }
    }

    fn features(&self) -> [f64; K] {
        [
            self.tokens as f64,
            f64::from(self.headers),
            f64::from(self.lists),
            f64::from(self.bold),
        ]
    }
}

/// One vote as the fit sees it.
#[derive(Clone, Copy, Debug)]
struct Battle {
    /// Model indices; `None` for a model against itself.
    models: Option<(usize, usize)>,
    /// 1 for an A win, 0 for a B win, ½ for a tie or both bad.
    score_a: f64,
    /// (a − b) / (a + b + 1) per feature.
    diff: [f64; K],
}

/// The votes collected for the style-controlled fit.
#[derive(Clone, Debug, Default)]
pub struct StyleVotes {
    names: Names,
    battles: Vec<Battle>,
}

impl StyleVotes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one vote between `model_a` (whose answer had style `a`) and `model_b`.
    pub fn add(&mut self, model_a: &str, model_b: &str, vote: Vote, a: Style, b: Style) {
        let models =
            (model_a != model_b).then(|| (self.names.intern(model_a), self.names.intern(model_b)));
        let score_a = match vote {
            Vote::A => 1.0,
            Vote::B => 0.0,
            Vote::Tie | Vote::BothBad => 0.5,
        };
        let (a, b) = (a.features(), b.features());
        let diff = std::array::from_fn(|k| (a[k] - b[k]) / (a[k] + b[k] + 1.0));
        self.battles.push(Battle {
            models,
            score_a,
            diff,
        });
    }

    /// The votes of `records`, each side's style read off its answer.
    pub fn of(records: &[VoteRecord]) -> Self {
        let mut votes = Self::new();
        for r in records {
            votes.add(
                &r.a.model,
                &r.b.model,
                r.vote,
                Style::of(&r.a),
                Style::of(&r.b),
            );
        }
        votes
    }

    /// Votes counted, a model against itself included.
    pub fn votes(&self) -> usize {
        self.battles.len()
    }

    /// The style-controlled ratings and coefficients with `rounds` bootstrap rounds.
    pub fn fit(&self, rounds: u32) -> StyleControl {
        let Some(design) = Design::new(self) else {
            return StyleControl {
                models: Vec::new(),
                coefficients: FEATURES.map(Coefficient::left_out).to_vec(),
                votes: self.battles.len(),
            };
        };
        let m = self.names.len();
        let full_rows = design.rows(&design.counts);
        let full = newton(&full_rows, &vec![0.0; m + K], FULL);
        let point = to_ratings(&full[..m]);
        let samples = in_parallel(rounds, |r| design.round(&full, r));
        let mut battles = vec![0u32; m];
        for (i, j) in self.battles.iter().filter_map(|b| b.models) {
            battles[i] += 1;
            battles[j] += 1;
        }

        let mut models: Vec<StyleRating> = (0..m)
            .map(|i| {
                let mut mine: Vec<f64> = samples.iter().filter_map(|(s, _)| s[i]).collect();
                mine.sort_by(f64::total_cmp);
                // The plain leaderboard's rule: too few battles, no interval.
                let ci = rating::interval(&mine, battles[i]);
                StyleRating {
                    model: self.names[i].clone(),
                    rating: point[i],
                    ci_low: ci.map(|(low, _)| low),
                    ci_high: ci.map(|(_, high)| high),
                    rank: 0,
                }
            })
            .collect();
        let bounds: Vec<Option<(f64, f64)>> = models.iter().map(StyleRating::interval).collect();
        for s in &mut models {
            s.rank = rank(s.interval(), &bounds);
        }
        models.sort_by(|x, y| {
            y.rating
                .total_cmp(&x.rating)
                .then_with(|| x.model.cmp(&y.model))
        });
        let coefficients = (0..K)
            .map(|k| {
                if !design.varies[k] {
                    return Coefficient::left_out(FEATURES[k]);
                }
                let mut mine: Vec<f64> = samples.iter().map(|(_, beta)| beta[k]).collect();
                mine.sort_by(f64::total_cmp);
                let value = full[m + k];
                let (ci_low, ci_high) = interval(&mine, value);
                Coefficient {
                    feature: FEATURES[k],
                    value: Some(value),
                    ci_low: Some(ci_low),
                    ci_high: Some(ci_high),
                    tied_to_models: !design.within[k],
                }
            })
            .collect();
        StyleControl {
            models,
            coefficients,
            votes: self.battles.len(),
        }
    }
}

/// The 2.5th and 97.5th percentiles of `sorted`, or `point` twice without rounds.
fn interval(sorted: &[f64], point: f64) -> (f64, f64) {
    if sorted.is_empty() {
        (point, point)
    } else {
        (percentile(sorted, 0.025), percentile(sorted, 0.975))
    }
}

/// A model's rating with style held equal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StyleRating {
    pub model: String,
    pub rating: f64,
    /// Null, both, when the model's battles are too few for an interval.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub rank: u32,
}

impl StyleRating {
    /// (ci_low, ci_high), when the model has an interval.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.ci_low.zip(self.ci_high)
    }
}

/// A style feature's coefficient: log odds of winning per standard deviation of the
/// feature's normalised difference. `None` for a feature that never varied.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Coefficient {
    pub feature: &'static str,
    pub value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// The feature never differs between two votes of the same pair of models (each
    /// model always writes the same number of headers, say): it moves only with the
    /// pair, so the fit can barely tell it from the models' strengths, and both it and
    /// the ratings come out with wide intervals.
    #[serde(skip)]
    pub tied_to_models: bool,
}

impl Coefficient {
    fn left_out(feature: &'static str) -> Self {
        Self {
            feature,
            value: None,
            ci_low: None,
            ci_high: None,
            tied_to_models: false,
        }
    }

    /// Whether the interval leaves out 0: the data show a preference either way.
    pub fn clear(&self) -> bool {
        match (self.ci_low, self.ci_high) {
            (Some(low), Some(high)) => low > 0.0 || high < 0.0,
            _ => false,
        }
    }
}

/// SPEC §8's `style_control`: ratings with style held equal, best first, and the
/// style coefficients in [`FEATURES`] order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StyleControl {
    pub models: Vec<StyleRating>,
    pub coefficients: Vec<Coefficient>,
    /// Votes fitted (a model against itself included).
    #[serde(skip)]
    pub votes: usize,
}

#[cfg(test)]
mod tests {
    use super::design::ROUND;
    use super::*;
    use crate::votes::bootstrap::resample;
    use crate::votes::rating::Tally;
    use crate::votes::solver::Convex;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};

    fn plain(tokens: u64) -> Style {
        Style {
            tokens,
            ..Style::default()
        }
    }

    fn rating<'a>(fit: &'a StyleControl, name: &str) -> &'a StyleRating {
        fit.models
            .iter()
            .find(|m| m.model == name)
            .expect("model in the fit")
    }

    /// Two equally strong models, "long" writing about three times the tokens of
    /// "short"; people prefer the longer answer (log odds 1.2 per unit of normalised
    /// difference), and nothing else.
    fn length_biased(votes: usize) -> Vec<(&'static str, &'static str, Vote, Style, Style)> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let tokens = |rng: &mut Xoshiro256PlusPlus, model: &str| {
            let mean = if model == "long" { 600.0 } else { 200.0 };
            (mean * (0.3 + 1.4 * rng.random::<f64>())) as u64
        };
        let mut out = Vec::new();
        for i in 0..votes {
            let (a, b) = if i % 2 == 0 {
                ("long", "short")
            } else {
                ("short", "long")
            };
            let (ta, tb) = (tokens(&mut rng, a), tokens(&mut rng, b));
            let diff = (ta as f64 - tb as f64) / (ta + tb + 1) as f64;
            let p = 1.0 / (1.0 + (-1.2 * diff).exp());
            let roll: f64 = rng.random();
            let vote = if roll < 0.1 {
                Vote::Tie
            } else if rng.random::<f64>() < p {
                Vote::A
            } else {
                Vote::B
            };
            out.push((a, b, vote, plain(ta), plain(tb)));
        }
        out
    }

    #[test]
    fn style_control_sees_through_a_taste_for_length() {
        let votes = length_biased(3000);
        let mut tally = Tally::new();
        let mut styled = StyleVotes::new();
        for &(a, b, vote, sa, sb) in &votes {
            tally.add(a, b, vote);
            styled.add(a, b, vote, sa, sb);
        }
        let board = tally.leaderboard(200);
        let stat = |name: &str| {
            board
                .models
                .iter()
                .find(|m| m.model == name)
                .expect("on the board")
                .clone()
        };
        let (long, short) = (stat("long"), stat("short"));
        // The plain ratings tell the two apart: the longer writer looks better.
        assert!(
            long.ci_low.unwrap() > short.ci_high.unwrap(),
            "{long:?} {short:?}"
        );

        let fit = styled.fit(200);
        let (long_s, short_s) = (rating(&fit, "long"), rating(&fit, "short"));
        // With style held equal they agree within their intervals.
        assert!(
            long_s.ci_low.unwrap() < short_s.rating && short_s.rating < long_s.ci_high.unwrap(),
            "{long_s:?} {short_s:?}"
        );
        assert!(
            short_s.ci_low.unwrap() < long_s.rating && long_s.rating < short_s.ci_high.unwrap(),
            "{long_s:?} {short_s:?}"
        );
        assert_eq!((long_s.rank, short_s.rank), (1, 1));
        let gap_plain = long.rating - short.rating;
        let gap_styled = long_s.rating - short_s.rating;
        assert!(
            gap_styled.abs() < gap_plain / 3.0,
            "{gap_styled} vs {gap_plain}"
        );
        // The length coefficient is positive and its interval leaves out 0.
        let length = &fit.coefficients[0];
        assert_eq!(length.feature, "length");
        let (value, low) = (
            length.value.expect("fitted"),
            length.ci_low.expect("fitted"),
        );
        assert!(value > 0.0 && low > 0.0 && length.clear(), "{length:?}");
        assert!(length.ci_high.expect("fitted") > value);
        // No Markdown anywhere: those features are left out.
        for c in &fit.coefficients[1..] {
            assert_eq!((c.value, c.ci_low, c.ci_high), (None, None, None), "{c:?}");
            assert!(!c.clear());
        }
        assert_eq!(fit.votes, 3000);
    }

    #[test]
    fn without_style_differences_only_the_penalty_moves_the_plain_fit() {
        // x wins 70 of 100; every answer alike, so no feature varies.
        let mut votes = StyleVotes::new();
        for i in 0..100 {
            let vote = if i < 70 { Vote::A } else { Vote::B };
            votes.add("x", "y", vote, plain(100), plain(100));
        }
        let fit = votes.fit(50);
        assert!(fit.coefficients.iter().all(|c| c.value.is_none()));
        // θx = −θy = t solves 100·σ(2t) − 70 + λ·t = 0 with λ = 0.5 / ln²10 (FastChat's
        // reg on log₁₀ strengths); bisection gives the exact figure.
        let lambda = REG / (std::f64::consts::LN_10 * std::f64::consts::LN_10);
        let (mut lo, mut hi) = (0.0f64, 2.0f64);
        for _ in 0..200 {
            let t = (lo + hi) / 2.0;
            let g = 100.0 / (1.0 + (-2.0 * t).exp()) - 70.0 + lambda * t;
            if g > 0.0 {
                hi = t;
            } else {
                lo = t;
            }
        }
        let expected = 400.0 / std::f64::consts::LN_10 * 2.0 * lo;
        let gap = rating(&fit, "x").rating - rating(&fit, "y").rating;
        assert!((gap - expected).abs() < 1e-6, "{gap} vs {expected}");
        // Far from nothing, but close to the unpenalised 400·log₁₀(7/3).
        assert!((gap - 400.0 * (7.0f64 / 3.0).log10()).abs() < 1.5, "{gap}");
        let mean = fit.models.iter().map(|m| m.rating).sum::<f64>() / 2.0;
        assert!((mean - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn which_side_a_vote_was_on_does_not_matter() {
        let votes = length_biased(400);
        let mut as_cast = StyleVotes::new();
        let mut swapped = StyleVotes::new();
        for &(a, b, vote, sa, sb) in &votes {
            as_cast.add(a, b, vote, sa, sb);
            let flipped = match vote {
                Vote::A => Vote::B,
                Vote::B => Vote::A,
                other => other,
            };
            swapped.add(b, a, flipped, sb, sa);
        }
        let (one, two) = (as_cast.fit(20), swapped.fit(20));
        for m in &one.models {
            let other = rating(&two, &m.model);
            assert!((m.rating - other.rating).abs() < 1e-6, "{m:?} {other:?}");
        }
        let (c1, c2) = (&one.coefficients[0], &two.coefficients[0]);
        assert!((c1.value.unwrap() - c2.value.unwrap()).abs() < 1e-9);
    }

    #[test]
    fn identical_votes_are_one_row_and_self_battles_inform_only_the_style() {
        let mut votes = StyleVotes::new();
        for _ in 0..50 {
            votes.add("x", "y", Vote::A, plain(300), plain(100));
            // The same vote cast with the sides swapped is a row of its own: the
            // standardisation subtracts the mean, so a feature depends on the side.
            votes.add("y", "x", Vote::B, plain(100), plain(300));
            votes.add("x", "y", Vote::B, plain(100), plain(100));
            votes.add("x", "x", Vote::A, plain(500), plain(50));
        }
        let design = Design::new(&votes).expect("battles");
        assert_eq!(design.x.len(), 4, "{:?}", design.x);
        assert_eq!(design.battles.len(), 200);
        assert_eq!(design.counts.iter().sum::<u32>(), 200);
        assert_eq!(design.groups.len(), 2);
        assert_eq!(design.groups[1].0, None);
        let fit = votes.fit(30);
        assert_eq!(fit.models.len(), 2);
        assert!(fit.coefficients[0].value.unwrap() > 0.0);
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut votes = StyleVotes::new();
        let names = ["a", "b", "c"];
        for _ in 0..300 {
            let i = rng.random_range(0..3);
            let j = rng.random_range(0..3);
            let style = |rng: &mut Xoshiro256PlusPlus| Style {
                tokens: rng.random_range(10..900),
                headers: rng.random_range(0..4),
                lists: rng.random_range(0..9),
                bold: rng.random_range(0..5),
            };
            let (sa, sb) = (style(&mut rng), style(&mut rng));
            let vote = [Vote::A, Vote::B, Vote::Tie, Vote::BothBad][rng.random_range(0..4)];
            votes.add(names[i], names[j], vote, sa, sb);
        }
        let design = Design::new(&votes).expect("battles");
        assert!(design.varies.iter().all(|v| *v));
        let rows = design.rows(&design.counts);
        let dim = rows.dim();
        let p: Vec<f64> = (0..dim).map(|_| rng.random::<f64>() - 0.5).collect();
        let (mut grad, mut hess) = (vec![0.0; dim], vec![0.0; dim * dim]);
        let f = rows.eval(&p, Some((&mut grad, &mut hess)));
        assert!((f - rows.eval(&p, None)).abs() < 1e-9);
        let h = 1e-6;
        for i in 0..dim {
            let mut up = p.clone();
            up[i] += h;
            let mut down = p.clone();
            down[i] -= h;
            let numeric = (rows.eval(&up, None) - rows.eval(&down, None)) / (2.0 * h);
            assert!(
                (numeric - grad[i]).abs() < 1e-4,
                "grad {i}: {numeric} vs {}",
                grad[i]
            );
            let (mut g_up, mut g_down) = (vec![0.0; dim], vec![0.0; dim]);
            let mut scratch = vec![0.0; dim * dim];
            rows.eval(&up, Some((&mut g_up, &mut scratch)));
            rows.eval(&down, Some((&mut g_down, &mut scratch)));
            for j in 0..dim {
                let numeric = (g_up[j] - g_down[j]) / (2.0 * h);
                let exact = hess[j * dim + i];
                assert!(
                    (numeric - exact).abs() < 1e-4,
                    "hess {i},{j}: {numeric} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn a_round_is_solved_to_a_ten_thousandth_of_a_point() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut votes = StyleVotes::new();
        let names = ["a", "b", "c", "d"];
        for _ in 0..5000 {
            let i = rng.random_range(0..4);
            let j = (i + rng.random_range(1..4)) % 4;
            let mut style = || Style {
                tokens: rng.random_range(20..1500),
                headers: rng.random_range(0..3),
                lists: rng.random_range(0..6),
                bold: rng.random_range(0..4),
            };
            let (sa, sb) = (style(), style());
            let lean = (sa.tokens as f64 - sb.tokens as f64) / (sa.tokens + sb.tokens) as f64;
            let p = 1.0 / (1.0 + (-(0.3 * (j as f64 - i as f64) + lean)).exp());
            let vote = if rng.random::<f64>() < p {
                Vote::A
            } else {
                Vote::B
            };
            votes.add(names[i], names[j], vote, sa, sb);
        }
        let design = Design::new(&votes).expect("battles");
        let full = newton(&design.rows(&design.counts), &[0.0; 8], FULL);
        for round in 0..20 {
            let counts = resample(&design.battles, design.counts.len(), round);
            let rows = design.rows(&counts);
            let quick = newton(&rows, &full, ROUND);
            let exact = newton(&rows, &full, FULL);
            let off = quick
                .iter()
                .zip(&exact)
                .map(|(q, e)| (q - e).abs())
                .fold(0.0, f64::max);
            // 10⁻⁶ in log odds is 0.00017 rating points.
            assert!(off < 1e-6, "round {round}: {off}");
        }
    }

    #[test]
    fn a_feature_that_moves_only_with_the_pair_is_flagged() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let mut votes = StyleVotes::new();
        // Every answer of x has two headers, y one, z none; lengths vary freely.
        let headers = |m: &str| match m {
            "x" => 2,
            "y" => 1,
            _ => 0,
        };
        for _ in 0..300 {
            let [a, b] = [["x", "y"], ["y", "z"], ["z", "x"], ["y", "x"]][rng.random_range(0..4)];
            let mut style = |m: &str| Style {
                tokens: rng.random_range(50..500),
                headers: headers(m),
                ..Style::default()
            };
            let (sa, sb) = (style(a), style(b));
            let vote = if rng.random::<f64>() < 0.5 {
                Vote::A
            } else {
                Vote::B
            };
            votes.add(a, b, vote, sa, sb);
        }
        let fit = votes.fit(20);
        let [length, headers, ..] = &fit.coefficients[..] else {
            panic!("four coefficients")
        };
        assert!(!length.tied_to_models && length.value.is_some());
        assert!(headers.tied_to_models && headers.value.is_some());
        // A vote of a model against itself with different headers unties it.
        let two = Style {
            headers: 2,
            ..Style::default()
        };
        votes.add("x", "x", Vote::A, two, Style::default());
        assert!(!votes.fit(20).coefficients[1].tied_to_models);
    }

    #[test]
    fn the_bootstrap_is_reproducible() {
        let mut votes = StyleVotes::new();
        for &(a, b, vote, sa, sb) in &length_biased(200) {
            votes.add(a, b, vote, sa, sb);
        }
        assert_eq!(votes.fit(100), votes.fit(100));
        assert_ne!(votes.fit(100), votes.fit(101));
    }

    #[test]
    fn nothing_to_fit_without_two_models() {
        let mut votes = StyleVotes::new();
        let empty = votes.fit(10);
        assert!(empty.models.is_empty());
        assert_eq!(empty.coefficients.len(), 4);
        assert!(empty.coefficients.iter().all(|c| c.value.is_none()));
        votes.add("x", "x", Vote::A, plain(10), plain(20));
        let alone = votes.fit(10);
        assert!(alone.models.is_empty() && alone.votes == 1);
    }

    #[test]
    fn a_style_reads_tokens_and_markdown_as_the_export_does() {
        let side = SideRecord {
            output_tokens: Some(42),
            ..SideRecord::sample(
                "m",
                "# T\n## U\n- a\n1. b\n**x** and __y__\n```\n# no\n```",
                crate::domain::Finish::Stop,
            )
        };
        assert_eq!(
            Style::of(&side),
            Style {
                tokens: 42,
                headers: 2,
                lists: 2,
                bold: 2
            }
        );
    }
}
