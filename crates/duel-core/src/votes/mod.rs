//! The vote log (SPEC §5): the record, and the append-only file that holds them.

mod bootstrap;
pub mod category;
pub mod decide;
pub mod export;
pub mod language;
pub mod log;
pub mod rating;
pub mod record;
pub mod report;
mod solver;
pub mod style;
pub mod style_control;

pub use record::{Ballot, RunItem, SideRecord, Stamp, TokenEstimate, VoteRecord};
