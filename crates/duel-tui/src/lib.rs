//! duel's terminal interface: the app state, the pure `update` (messages in, effects
//! out), the keymap, themes and the pure draw. It knows no provider: the binary's run
//! loop turns its effects into requests.

pub mod app;
pub mod theme;
pub mod ui;
