//! The PostgreSQL store a team shares (SPEC §12): votes, conversations, runs, their
//! answers and checks, and the leases that keep two reviewers off the same pair. It
//! implements duel-core's [`Store`], the seam whose default is the data dir's files.
//!
//! The commands are synchronous, so the store keeps a small runtime of its own and a
//! pool of connections on it; every call blocks until the server has committed.

mod connect;
mod lease;
mod postgres;
mod schema;
#[cfg(feature = "test-support")]
pub mod testing;

pub use connect::{PASSWORD_VAR, Target};
pub use postgres::{Counts, Postgres, Pushed, pull_run};
pub use schema::VERSION;

pub use duel_core::store::{Files, Leases, Store, StoreError, TeamProgress};
