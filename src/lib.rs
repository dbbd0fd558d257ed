//! duel: send every prompt to two language models at once, stream both answers side
//! by side, and vote which is better.

pub mod cli;
pub mod commands;
pub mod run;
pub mod store;
pub mod terminal;

pub use duel_core::{attachment, config, conversation, cost, domain, request, text, votes};
pub use duel_providers as provider;
pub use duel_tui::{app, theme, ui};

/// Evaluation at scale: the pure parts (suites, runs, pairs, the judge, agreement)
/// and the batch runner that sends the requests.
pub mod eval {
    pub use duel_core::eval::*;
    pub use duel_providers::{batch, limit};
}

/// Prints one line on stderr, `duel: ` first, with whatever came from files or
/// servers in it (names, paths, error bodies) made inert by `text::sanitize`.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        eprintln!("duel: {}", $crate::text::sanitize(&format!($($arg)*)))
    };
}
