//! Rendering. `draw` is pure: it reads the state and theme and paints a frame.

pub mod draw;

pub use draw::{ViewCache, draw};
