//! Rendering. `draw` is pure: it reads the state and theme and paints a frame.

pub mod draw;
pub mod keys;
pub mod markdown;

pub use draw::{ViewCache, draw};
