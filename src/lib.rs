//! duel: send every prompt to two language models at once, stream both answers side
//! by side, and vote which is better.

pub mod config;
pub mod provider;
pub mod theme;
