//! The interactive app: state, messages, the pure `update`, and the run loop.

pub mod keymap;
pub mod msg;
pub mod picker;
pub mod review;
pub mod run;
pub mod state;
pub mod update;

pub use msg::{Effect, Msg};
pub use run::{msg_from_event, run};
pub use state::State;
pub use update::update;
