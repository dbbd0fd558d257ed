//! The built-in provider presets of SPEC §3. (Filled in by the config work.)
