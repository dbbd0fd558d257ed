//! `duel themes`: the built-in and user themes.

use std::io::{self, Write};

use super::print_rows;
use crate::config;

/// `duel themes`: every theme, built-in or the user's, and where it comes from.
pub fn themes() -> anyhow::Result<u8> {
    let dir = config::config_dir();
    let mut out = io::stdout().lock();
    let mut table = vec![["NAME", "KIND", "FROM"].map(String::from).to_vec()];
    for info in crate::theme::list(dir.as_deref()) {
        let kind = if info.dark { "dark" } else { "light" };
        let from = match (&info.path, &info.problem) {
            (_, Some(problem)) => format!("broken: {problem}"),
            (Some(path), None) => path.display().to_string(),
            (None, None) => "built in".to_owned(),
        };
        table.push(vec![info.name, kind.to_owned(), from]);
    }
    print_rows(&mut out, &table)?;
    if let Some(dir) = dir {
        writeln!(
            out,
            "\nadd your own as {}",
            dir.join("themes").join("NAME.toml").display()
        )?;
    }
    Ok(0)
}
