//! Evaluation at scale (SPEC §8, issue 13): prompt suites first; batch runs, the
//! review queue and the model judge build on them.

pub mod agreement;
pub mod check;
pub mod judge;
pub mod outcomes;
pub mod pairs;
pub mod queue;
pub mod run;
pub mod suite;
pub mod trust;
pub mod verdict;
