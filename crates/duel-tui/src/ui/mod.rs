//! Rendering. `draw` is pure: it reads the state and theme and paints a frame.

pub mod draw;
pub mod keys;
mod layout;
pub mod markdown;
mod pane;
mod popup;
mod review_screen;
mod status;
pub mod wrap;

pub use draw::{ViewCache, draw};
