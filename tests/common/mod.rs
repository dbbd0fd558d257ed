//! Helpers shared by the integration tests.

// Each test binary uses a different part of these helpers.
#![allow(dead_code)]

pub mod events;
pub mod keepalive;
pub mod models;
pub mod props;
pub mod server;
pub mod tui;
