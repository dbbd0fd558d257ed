//! duel: send every prompt to two language models at once, stream both answers side
//! by side, and vote which is better.

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod conversation;
pub mod domain;
pub mod eval;
pub mod provider;
pub mod text;
pub mod theme;
pub mod ui;
pub mod votes;

/// Prints one line on stderr, `duel: ` first, with whatever came from files or
/// servers in it (names, paths, error bodies) made inert by `text::sanitize`.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        eprintln!("duel: {}", $crate::text::sanitize(&format!($($arg)*)))
    };
}
