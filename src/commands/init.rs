//! `duel init`: the starter config file.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Context;

use crate::config;
use crate::say;

/// `duel init`: writes the starter config; never overwrites one.
pub fn init(explicit: Option<PathBuf>) -> anyhow::Result<u8> {
    let path = match explicit {
        Some(p) => p,
        None => config::config_dir()
            .context("cannot tell where the config directory is; pass --config FILE")?
            .join("config.toml"),
    };
    if path.exists() {
        say!(
            "{} already exists; not overwritten (remove it first to start over)",
            path.display()
        );
        return Ok(1);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(config::EXAMPLE.as_bytes())?;
    file.sync_all()?;
    let mut out = io::stdout().lock();
    writeln!(out, "wrote {}", path.display())?;
    writeln!(
        out,
        "next: set the API keys it names (e.g. DASHSCOPE_API_KEY, QIANFAN_API_KEY), then run `duel`"
    )?;
    Ok(0)
}
