//! duel: send every prompt to two language models at once, stream both answers side
//! by side, and vote which is better.

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod conversation;
pub mod provider;
pub mod stats_cmd;
pub mod text;
pub mod theme;
pub mod ui;
pub mod votes;
