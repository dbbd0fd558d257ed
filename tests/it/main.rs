//! The integration tests, one binary: the real binary, its run loop and its screens
//! against loopback servers, each file a module (see the README's development section).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

mod common;

mod app;
mod cli;
mod config_mutations;
mod durability;
mod eval;
mod fault_matrix;
mod fuzz_decoders;
mod markdown;
mod plot;
mod providers_ernie;
mod providers_gemini;
mod providers_ollama;
mod providers_openai;
mod pty;
mod review;
mod screens;
mod secrets;
mod stats;
mod store;
mod update;
mod wire_kinds;
