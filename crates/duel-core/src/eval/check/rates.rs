//! Pass rates that never overstate (SPEC §9): per model, items passed of those graded
//! with a Wilson 95 % interval; per pair, on the items both were graded on, the items
//! only one passed and the exact McNemar p-value. A check that could not run leaves
//! its item ungraded, counted apart: never a pass, never a fail.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// The normal quantile of a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval of `passed` of `graded` at 95 %; `None` for no items.
pub fn wilson(passed: u64, graded: u64) -> Option<(f64, f64)> {
    if graded == 0 {
        return None;
    }
    let n = graded as f64;
    let p = passed as f64 / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// The exact (binomial) McNemar test's two-sided p-value for `b` items only the first
/// passed and `c` only the second: the chance of a split at least this uneven if
/// neither model were better. 1 when no item tells them apart.
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    // Σ_{i ≤ min(b, c)} C(n, i) / 2^n, in logs so that a large n does not underflow.
    let ln2 = std::f64::consts::LN_2;
    let mut ln_choose = 0.0;
    let mut tail = 0.0;
    for i in 0..=b.min(c) {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        tail += (ln_choose - n as f64 * ln2).exp();
    }
    (2.0 * tail).min(1.0)
}

/// One item's grade for one model: passed or not (`None`: a check could not run),
/// its weighted score, and the types of the checks that failed.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemGrade {
    pub item: String,
    pub model: String,
    pub category: Option<String>,
    pub passed: Option<bool>,
    pub score: f64,
    pub failed: Vec<String>,
}

/// A model's pass rate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PassRate {
    pub model: String,
    pub passed: u64,
    pub graded: u64,
    /// Items left ungraded because a check could not run.
    pub errors: u64,
    pub rate: Option<f64>,
    /// Wilson 95 %: `[low, high]`; `None` for no graded item.
    pub interval: Option<(f64, f64)>,
    /// The mean weighted score of the graded items.
    pub score: Option<f64>,
    /// Failed checks by type.
    pub failures: BTreeMap<String, u64>,
}

/// Two models on the items both were graded on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairTest {
    pub a: String,
    pub b: String,
    pub items: u64,
    pub only_a: u64,
    pub only_b: u64,
    pub p_value: f64,
}

/// Every model's pass rate, in `models`' order.
pub fn pass_rates(grades: &[ItemGrade], models: &[String]) -> Vec<PassRate> {
    models
        .iter()
        .map(|model| {
            let mine: Vec<&ItemGrade> = grades.iter().filter(|g| &g.model == model).collect();
            let graded: Vec<&&ItemGrade> = mine.iter().filter(|g| g.passed.is_some()).collect();
            let passed = graded.iter().filter(|g| g.passed == Some(true)).count() as u64;
            let n = graded.len() as u64;
            let mut failures = BTreeMap::new();
            for failed in mine.iter().flat_map(|g| &g.failed) {
                *failures.entry(failed.clone()).or_insert(0) += 1;
            }
            PassRate {
                model: model.clone(),
                passed,
                graded: n,
                errors: mine.len() as u64 - n,
                rate: (n > 0).then(|| passed as f64 / n as f64),
                interval: wilson(passed, n),
                score: (n > 0).then(|| graded.iter().map(|g| g.score).sum::<f64>() / n as f64),
                failures,
            }
        })
        .collect()
}

/// Every pair of `models`, on the items both were graded on.
pub fn pair_tests(grades: &[ItemGrade], models: &[String]) -> Vec<PairTest> {
    let by_key: HashMap<(&str, &str), bool> = grades
        .iter()
        .filter_map(|g| Some(((g.model.as_str(), g.item.as_str()), g.passed?)))
        .collect();
    let mut tests = Vec::new();
    for (i, a) in models.iter().enumerate() {
        for b in &models[i + 1..] {
            let (mut items, mut only_a, mut only_b) = (0, 0, 0);
            for g in grades.iter().filter(|g| &g.model == a) {
                let (Some(pa), Some(&pb)) = (g.passed, by_key.get(&(b.as_str(), g.item.as_str())))
                else {
                    continue;
                };
                items += 1;
                only_a += u64::from(pa && !pb);
                only_b += u64::from(pb && !pa);
            }
            tests.push(PairTest {
                a: a.clone(),
                b: b.clone(),
                items,
                only_a,
                only_b,
                p_value: mcnemar_exact(only_a, only_b),
            });
        }
    }
    tests
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-5
    }

    /// Worked by hand: 8 of 10, z = 1.96: centre (0.8 + 0.19208) / 1.38415 = 0.71677,
    /// half 1.95996 · √(0.016 + 0.0096037) / 1.38415 = 0.22657. scipy's
    /// `binomtest(8, 10).proportion_ci(method="wilson")` gives (0.49016, 0.94332),
    /// for 10 of 10 (0.72247, 1), for 0 of 5 (0, 0.43448).
    #[test]
    fn wilson_matches_values_worked_by_hand() {
        let (low, high) = wilson(8, 10).unwrap();
        assert!(close(low, 0.49016) && close(high, 0.94332), "{low} {high}");
        // All passed: the interval still leaves room below 1 (0.72246 for 10 of 10).
        let (low, high) = wilson(10, 10).unwrap();
        assert!(close(low, 0.72246) && close(high, 1.0), "{low} {high}");
        let (low, high) = wilson(0, 5).unwrap();
        assert!(close(low, 0.0) && close(high, 0.43449), "{low} {high}");
        assert_eq!(wilson(0, 0), None);
    }

    /// Worked by hand: b = 1, c = 9: 2 · (C(10,0) + C(10,1)) / 2^10 = 22/1024 =
    /// 0.021484; b = 3, c = 5: 2 · (1 + 8 + 28 + 56) / 256 = 0.726563. scipy's
    /// `binomtest(1, 10).pvalue` = 0.021484375, `binomtest(3, 8)` 0.7265625,
    /// `binomtest(0, 5)` 0.0625.
    #[test]
    fn the_exact_mcnemar_test_matches_values_worked_by_hand() {
        assert!(close(mcnemar_exact(1, 9), 0.021_484_375));
        assert!(close(mcnemar_exact(9, 1), 0.021_484_375));
        assert!(close(mcnemar_exact(3, 5), 0.726_562_5));
        assert_eq!(mcnemar_exact(4, 4), 1.0);
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        assert!(close(mcnemar_exact(0, 5), 0.0625));
        // Thousands of discordant items: no underflow, no NaN; scipy's
        // `binomtest(1000, 2200).pvalue` = 2.1817026e-05.
        let p = mcnemar_exact(1_000, 1_200);
        assert!((p / 2.181_702_6e-5 - 1.0).abs() < 1e-6, "{p}");
    }

    fn grade(item: &str, model: &str, passed: Option<bool>) -> ItemGrade {
        ItemGrade {
            item: item.into(),
            model: model.into(),
            category: None,
            passed,
            score: if passed == Some(true) { 1.0 } else { 0.0 },
            failed: if passed == Some(false) {
                vec!["icontains".into()]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn errors_are_counted_apart_and_pairs_use_the_items_both_were_graded_on() {
        let grades = [
            grade("1", "qwen", Some(true)),
            grade("1", "ernie", Some(false)),
            grade("2", "qwen", Some(true)),
            grade("2", "ernie", None),
            grade("3", "qwen", Some(false)),
            grade("3", "ernie", Some(true)),
        ];
        let models = ["qwen".to_owned(), "ernie".to_owned()];
        let rates = pass_rates(&grades, &models);
        assert_eq!(
            (rates[0].passed, rates[0].graded, rates[0].errors),
            (2, 3, 0)
        );
        assert_eq!(
            (rates[1].passed, rates[1].graded, rates[1].errors),
            (1, 2, 1)
        );
        assert_eq!(rates[1].failures["icontains"], 1);
        let pair = &pair_tests(&grades, &models)[0];
        assert_eq!((pair.items, pair.only_a, pair.only_b), (2, 1, 1));
        assert_eq!(pair.p_value, 1.0);
    }
}
