//! Reading and validating a config file. (Filled in by the config work.)

use std::fmt;
use std::path::PathBuf;

use super::Config;

/// Where to look for the config file.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--config FILE` or `$DUEL_CONFIG`: this file and no other.
    pub explicit: Option<PathBuf>,
}

/// A config file that cannot be used: where, and what was expected.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub path: Option<PathBuf>,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(
                f,
                "{}:{}:{}: {}",
                p.display(),
                self.line,
                self.column,
                self.message
            ),
            None => write!(
                f,
                "built-in config:{}:{}: {}",
                self.line, self.column, self.message
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

pub fn load(_opts: &LoadOptions) -> Result<Config, ConfigError> {
    unimplemented!("config loading")
}
