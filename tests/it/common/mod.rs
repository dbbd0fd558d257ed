//! Helpers shared by the integration tests.

// Not every helper is used by every group of tests.
#![allow(dead_code)]

pub mod cli;
pub mod config;
pub mod events;
pub mod files;
pub mod models;
pub mod props;
pub mod runs;
pub mod server;
pub mod tui;
pub mod wire;
