//! The commands that run without the TUI, one module each; what two of them share
//! (streaming one answer, aligned tables, reading vote logs) lives here.

mod ask;
mod batch;
mod chat;
mod check;
mod export;
mod history;
mod init;
mod judge;
mod models;
mod progress;
mod report;
mod review;
mod runs;
mod stats;
mod store;
mod summary;
mod themes;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use tokio::sync::mpsc;

use crate::app::State;
use crate::cli::Cli;
use crate::config::{Config, ModelSpec};
use crate::domain::{Answer, StreamEvent};
use crate::provider::{self, ChatRequest};
use crate::say;
use crate::text::{sanitize, width};
use crate::theme::{self, Theme};
use crate::votes::log::{self, DEMO_FILE_NAME, MergeError, Merged, Skipped};

pub use ask::ask;
pub use batch::batch;
pub use chat::chat;
pub use check::check;
pub use export::export;
pub use history::history;
pub use init::init;
pub use judge::judge;
pub use models::models;
pub use report::report;
pub use review::review;
pub use runs::runs;
pub use stats::{html, plot, stats};
pub use store::store;
pub use themes::themes;

/// A command used the wrong way (exit 2, as SPEC §1 says for usage errors).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Streams one prompt to one model to the end, outside the TUI; a wait before a retry
/// is said on stderr, so no command sits silent through a long Retry-After.
pub async fn answer(model: &ModelSpec, request: ChatRequest) -> Answer {
    let mut answer = Answer::new(model.model_ref(), 0, Instant::now());
    let provider = provider::build(model);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let drive = provider::stream(&*provider, &request, tx);
    let collect = async {
        while let Some(event) = rx.recv().await {
            if let StreamEvent::Retry(retry) = &event {
                say!("{}: {retry}", sanitize(&model.name));
            }
            answer.apply(event, 1, Instant::now());
        }
    };
    tokio::join!(drive, collect);
    answer
}

/// The pair to compare: `--a`/`--b` over `[pair]`; names must be configured models.
pub fn pair(
    config: &Config,
    a: Option<&str>,
    b: Option<&str>,
) -> Result<[ModelSpec; 2], UsageError> {
    let find = |flag: &str, name: &str| {
        config
            .require_model(flag, name)
            .cloned()
            .map_err(UsageError)
    };
    Ok([
        find("--a", a.unwrap_or(&config.pair.a))?,
        find("--b", b.unwrap_or(&config.pair.b))?,
    ])
}

/// `--theme` over `ui.theme` for a TUI; an unknown theme is a usage error, said
/// before the terminal is touched.
fn terminal_theme(cli: &Cli, config: &Config) -> Result<(String, Theme), UsageError> {
    let name = cli.global.theme.as_deref().unwrap_or(&config.ui.theme);
    theme::load(name, crate::config::config_dir().as_deref())
        .map(|theme| (name.to_owned(), theme))
        .map_err(|e| UsageError(e.to_string()))
}

/// Votes a TUI could not write are never silently dropped: they go to stderr, to
/// keep, and duel exits 1.
fn unsaved_votes(state: &State, votes_path: &Path) -> Option<anyhow::Result<u8>> {
    if state.unsaved.is_empty() {
        return None;
    }
    say!(
        "{} could not be written to {}; here they are, one JSON line each:",
        crate::text::count(state.unsaved.len(), "vote", "votes"),
        votes_path.display()
    );
    for record in &state.unsaved {
        match serde_json::to_string(record) {
            Ok(line) => eprintln!("{line}"),
            Err(e) => return Some(Err(e.into())),
        }
    }
    Some(Ok(1))
}

/// Where a TUI's votes go, in words: the store's URL, or the log's path.
fn saved_to(store: &dyn duel_core::store::Store, votes_path: &Path) -> String {
    if store.is_local() {
        votes_path.display().to_string()
    } else {
        store.describe()
    }
}

/// Votes the store could not take are in the local log: said once more at the end,
/// with what sends them on.
fn kept_locally(state: &State, votes_path: &Path) {
    if state.kept_locally > 0 {
        say!(
            "{} could not reach the store and {} kept in {}: `duel store push` sends them",
            crate::text::count(state.kept_locally, "vote", "votes"),
            if state.kept_locally == 1 { "is" } else { "are" },
            votes_path.display()
        );
    }
}

/// A batch or a judging would only collect "missing API key" failures, item after
/// item: say which keys to set before anything is sent or any run is made.
fn keys_set<'m>(models: impl IntoIterator<Item = &'m ModelSpec>) -> Result<(), UsageError> {
    let missing: Vec<String> = models
        .into_iter()
        .filter_map(|m| match m.endpoint.key_status() {
            crate::config::KeyStatus::Missing(vars) => {
                Some(format!("{} needs {}", m.name, vars.join(" and ")))
            }
            _ => None,
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(UsageError(format!(
        "{}, not set; nothing was sent (see `duel models`)",
        missing.join("; ")
    )))
}

/// Resolves when the user asks a long command to stop: Ctrl+C (SIGINT) or SIGTERM.
async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without signal handlers the default action (ending the process) applies.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}

/// `value` as pretty JSON on stdout, the way every `--json` listing prints.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<u8> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(0)
}

/// Prints rows as aligned columns, every one read from the left.
fn print_rows(out: &mut impl Write, table: &[Vec<String>]) -> io::Result<()> {
    write!(out, "{}", layout(table, &|_| true))
}

/// Aligned columns (display widths, so CJK lines up), `left(c)` saying which read from
/// the left; every cell made inert first (names, URLs and errors come from files and
/// servers) and kept on one line.
pub(crate) fn layout(rows: &[Vec<String>], left: &dyn Fn(usize) -> bool) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| sanitize(cell).replace('\n', " "))
                .collect()
        })
        .collect();
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| width(&r[c])).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in &rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[c] - width(cell));
            if c > 0 {
                line.push_str("  ");
            }
            if left(c) {
                line.push_str(cell);
                line.push_str(&pad);
            } else {
                line.push_str(&pad);
                line.push_str(cell);
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// Unreadable lines warned about one by one; past this, only a count.
const MAX_LINE_WARNINGS: usize = 20;

/// Reads and merges `paths` ([`log::merge`]), warning on stderr about every
/// unreadable line (with file and line number).
pub(crate) fn load(paths: &[PathBuf], named: bool) -> Result<Merged, MergeError> {
    let merged = log::merge(paths, named)?;
    warn_skipped(&merged.skipped);
    Ok(merged)
}

/// Says on stderr which lines of which logs were unreadable, the first
/// [`MAX_LINE_WARNINGS`] one by one.
fn warn_skipped(skipped: &[(PathBuf, Skipped)]) {
    for (path, s) in skipped.iter().take(MAX_LINE_WARNINGS) {
        say!(
            "warning: {}:{}: skipped an unreadable line ({})",
            path.display(),
            s.line,
            s.reason
        );
    }
    if skipped.len() > MAX_LINE_WARNINGS {
        say!(
            "warning: … and {} more unreadable lines skipped",
            skipped.len() - MAX_LINE_WARNINGS
        );
    }
}

/// Under `--demo` a reader says first that what it shows is the demo's own data.
fn reading_demo(demo: bool) {
    if demo {
        say!(
            "offline demo: reading {DEMO_FILE_NAME}, the votes on the demo models (without --demo, duel reads your own {})",
            log::FILE_NAME
        );
    }
}

/// Says how many votes on the offline demo models the default log had, left out
/// ([`Merged::without_demo`]).
fn demo_left_out(n: usize) {
    if n > 0 {
        say!(
            "left out {} on the offline demo models (`--demo` shows those)",
            crate::text::count(n, "vote", "votes")
        );
    }
}
