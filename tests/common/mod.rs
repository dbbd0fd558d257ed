//! Helpers shared by the integration tests.

// Each test binary uses a different part of these helpers.
#![allow(dead_code)]

pub mod cli;
pub mod config;
pub mod events;
pub mod models;
pub mod props;
pub mod runs;
pub mod server;
pub mod tui;
