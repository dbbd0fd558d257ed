//! The proptest settings every property test shares.

use proptest::prelude::ProptestConfig;
use proptest::test_runner::RngSeed;

/// `cases` runs from the fixed `seed`, so a run is repeatable; a longer or different
/// hunt (CI, by hand) sets `PROPTEST_CASES` and `PROPTEST_RNG_SEED`.
pub fn config(cases: u32, seed: u64) -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(cases),
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            default.rng_seed
        } else {
            RngSeed::Fixed(seed)
        },
        // Integration tests have no lib.rs for proptest to file regressions next to;
        // a crash found becomes a unit test instead.
        failure_persistence: None,
        ..default
    }
}
