//! duel's domain, with no terminal and no network: messages, answers and votes, the
//! request a side sends, config, the vote log and its ratings, suites, runs and the
//! judge's pure parts. Files are its only IO.

pub mod attachment;
pub mod config;
pub mod conversation;
pub mod cost;
pub mod domain;
pub mod eval;
pub mod request;
pub mod store;
pub mod text;
pub mod votes;
