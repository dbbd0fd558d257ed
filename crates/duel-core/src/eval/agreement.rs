//! How far to trust a judge (SPEC §8, `duel stats --agreement`): a model judge's
//! verdict in its fixed form, the two orders of one pair made into one vote (a verdict
//! that flips with the order is a tie, MT-bench's conservative rule), and agreement
//! between two judges: with ties, without ties, and Cohen's kappa with a bootstrap 95 %
//! interval.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use crate::domain::Verdict;

/// One vote from a pair judged in both orders: `first` with the answers as A and B,
/// `second` with them swapped (as the judge wrote it, before swapping back). A verdict
/// that does not survive the swap is a tie.
pub fn both_orders(first: Verdict, second: Verdict) -> Verdict {
    if first == second.swapped() {
        first
    } else {
        Verdict::Tie
    }
}

/// How two judges agree on the items both judged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Agreement {
    pub items: usize,
    /// The share of items with the same verdict, ties included.
    pub agree: f64,
    /// The same among items where neither judge said tie; `None` without such items.
    pub agree_no_ties: Option<f64>,
    /// `None` when a judge gave one verdict on every item: agreement beyond chance is
    /// undefined when one side never varies (see `constant`).
    pub kappa: Option<f64>,
    /// The bootstrap 95 % interval of kappa, over the rounds where it is defined.
    pub kappa_low: Option<f64>,
    pub kappa_high: Option<f64>,
    /// The one verdict the first and the second judge gave on every item, if either did.
    #[serde(skip)]
    pub constant: [Option<Verdict>; 2],
    /// The items where neither said tie: what `agree_no_ties` is a share of.
    #[serde(skip)]
    pub decided: usize,
}

/// Bootstrap rounds for kappa's interval.
const ROUNDS: usize = 1000;

/// Agreement over `pairs` (each item's verdict by the first judge and by the second),
/// with a seeded bootstrap so the interval is the same on every run. None without items.
pub fn agreement(pairs: &[(Verdict, Verdict)], seed: u64) -> Option<Agreement> {
    if pairs.is_empty() {
        return None;
    }
    let same = pairs.iter().filter(|(a, b)| a == b).count();
    let decided: Vec<_> = pairs
        .iter()
        .filter(|(a, b)| *a != Verdict::Tie && *b != Verdict::Tie)
        .collect();
    let agree_no_ties = (!decided.is_empty())
        .then(|| decided.iter().filter(|(a, b)| a == b).count() as f64 / decided.len() as f64);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sample = Vec::with_capacity(pairs.len());
    let constant = [
        constant(pairs.iter().map(|(a, _)| *a)),
        constant(pairs.iter().map(|(_, b)| *b)),
    ];
    let whole = kappa(pairs);
    let mut kappas: Vec<f64> = Vec::new();
    if whole.is_some() {
        kappas = (0..ROUNDS)
            .filter_map(|_| {
                sample.clear();
                sample.extend((0..pairs.len()).map(|_| pairs[rng.random_range(0..pairs.len())]));
                kappa(&sample)
            })
            .collect();
        kappas.sort_by(f64::total_cmp);
    }
    let at = |share: usize| {
        (!kappas.is_empty()).then(|| kappas[(kappas.len() * share / 1000).min(kappas.len() - 1)])
    };
    Some(Agreement {
        items: pairs.len(),
        agree: same as f64 / pairs.len() as f64,
        agree_no_ties,
        kappa: whole,
        kappa_low: at(25),
        kappa_high: (!kappas.is_empty())
            .then(|| kappas[(kappas.len() * 975 / 1000).saturating_sub(1)]),
        constant,
        decided: decided.len(),
    })
}

/// The verdict every one of `verdicts` is, if they are all one.
fn constant(mut verdicts: impl Iterator<Item = Verdict>) -> Option<Verdict> {
    let first = verdicts.next()?;
    verdicts.all(|v| v == first).then_some(first)
}

/// Cohen's kappa: agreement beyond what the two judges' own verdict rates would give
/// by chance. `None` without items, or when either judge gave one verdict throughout:
/// then chance already explains all that judge does (kappa would be 0, or 0/0 when
/// both gave the same one), which says nothing about how well the two agree.
pub fn kappa(pairs: &[(Verdict, Verdict)]) -> Option<f64> {
    let n = pairs.len() as f64;
    if n == 0.0
        || constant(pairs.iter().map(|(a, _)| *a)).is_some()
        || constant(pairs.iter().map(|(_, b)| *b)).is_some()
    {
        return None;
    }
    let observed = pairs.iter().filter(|(a, b)| a == b).count() as f64 / n;
    let chance: f64 = [Verdict::A, Verdict::B, Verdict::Tie]
        .iter()
        .map(|v| {
            let first = pairs.iter().filter(|(a, _)| a == v).count() as f64 / n;
            let second = pairs.iter().filter(|(_, b)| b == v).count() as f64 / n;
            first * second
        })
        .sum();
    Some((observed - chance) / (1.0 - chance))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{A, B, Tie};

    #[test]
    fn a_verdict_that_flips_with_the_order_is_a_tie() {
        // The judge sees (x, y) then (y, x); "x better" reads A then B.
        assert_eq!(both_orders(A, B), A);
        assert_eq!(both_orders(B, A), B);
        // Always the first position: not to be trusted on this pair.
        assert_eq!(both_orders(A, A), Tie);
        assert_eq!(both_orders(Tie, Tie), Tie);
        assert_eq!(both_orders(A, Tie), Tie);
    }

    #[test]
    fn kappa_matches_a_hand_computed_table() {
        // 10 items: both A ×4, both B ×2, both tie ×1, A/B ×1, B/tie ×1, tie/A ×1.
        let mut pairs = vec![(A, A); 4];
        pairs.extend([(B, B), (B, B), (Tie, Tie), (A, B), (B, Tie), (Tie, A)]);
        // Observed 7/10. First judge: A 5, B 3, tie 2; second: A 5, B 3, tie 2.
        // Chance = .5·.5 + .3·.3 + .2·.2 = .38; kappa = (.7 − .38) / .62.
        let got = kappa(&pairs).unwrap();
        assert!((got - 0.32 / 0.62).abs() < 1e-12, "{got}");
        let agreement = agreement(&pairs, 7).unwrap();
        assert_eq!(agreement.items, 10);
        assert!((agreement.agree - 0.7).abs() < 1e-12);
        // Without ties: (A,A)×4, (B,B)×2, (A,B): 6 of 7.
        assert!((agreement.agree_no_ties.unwrap() - 6.0 / 7.0).abs() < 1e-12);
        let (low, k, high) = (
            agreement.kappa_low.unwrap(),
            agreement.kappa.unwrap(),
            agreement.kappa_high.unwrap(),
        );
        assert!(low <= k && k <= high);
        assert_eq!(agreement.constant, [None, None]);
        assert_eq!(agreement, super::agreement(&pairs, 7).unwrap(), "seeded");
    }

    #[test]
    fn perfect_and_chance_agreement_are_one_and_about_zero() {
        let perfect = [(A, A), (B, B), (Tie, Tie), (A, A)];
        assert!((kappa(&perfect).unwrap() - 1.0).abs() < 1e-12);
        // Independent judges: every combination once.
        let independent: Vec<_> = [A, B, Tie]
            .iter()
            .flat_map(|&a| [A, B, Tie].map(move |b| (a, b)))
            .collect();
        assert!(kappa(&independent).unwrap().abs() < 1e-12);
        assert_eq!(agreement(&[], 1), None);
        assert_eq!(agreement(&[(Tie, A)], 1).unwrap().agree_no_ties, None);
    }

    #[test]
    fn kappa_is_undefined_when_a_judge_never_varies() {
        // The second judge says tie throughout: kappa would be 0.00 "0.00 to 0.00",
        // which looks precise and means nothing.
        let one_sided = [(A, Tie), (B, Tie), (Tie, Tie), (A, Tie)];
        assert_eq!(kappa(&one_sided), None);
        let found = agreement(&one_sided, 3).unwrap();
        assert_eq!(
            (found.kappa, found.kappa_low, found.kappa_high),
            (None, None, None)
        );
        assert_eq!(found.constant, [None, Some(Tie)]);
        // Both always A: 0/0, not 1.
        assert_eq!(kappa(&[(A, A), (A, A)]), None);
        assert_eq!(
            agreement(&[(A, A)], 1).unwrap().constant,
            [Some(A), Some(A)]
        );
    }
}
