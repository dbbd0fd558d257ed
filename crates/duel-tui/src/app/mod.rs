//! The interactive app: state, messages, the keymap and the pure `update` (the loop
//! that runs it is the binary's, which alone knows the providers).

pub mod keymap;
pub mod msg;
pub mod picker;
pub mod review_session;
pub mod state;
pub mod update;

pub use msg::{Effect, Msg};
pub use state::State;
pub use update::update;
