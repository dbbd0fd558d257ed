//! `duel export`: the vote log as a dataset. Needs no config file, provider or API key.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use super::{demo_left_out, load, reading_demo};
use crate::cli::ExportArgs;
use crate::say;
use crate::text::sanitize;
use crate::votes::VoteRecord;
use crate::votes::export::{self, Format};
use crate::votes::log;
use duel_core::store::Store;

/// `duel export`: the logs named (default: the data dir's, the demo's own under
/// `demo`) in `args.format`, to `--out` or stdout. What is said about the export goes
/// to stderr, so stdout holds only the data.
pub fn export(
    args: &ExportArgs,
    data_dir: &Path,
    demo: bool,
    team: Option<Arc<dyn Store>>,
) -> anyhow::Result<u8> {
    let format = Format::from(args.format);
    let named = !args.logs.is_empty();
    let paths = if named {
        args.logs.clone()
    } else {
        reading_demo(demo);
        vec![data_dir.join(log::file_name(demo))]
    };
    let mut loaded = match team.filter(|_| !named) {
        Some(store) => store.votes(false)?,
        None => load(&paths, named)?,
    };
    if !named && !demo {
        demo_left_out(loaded.without_demo());
    }
    let records = loaded.records;
    let records: Vec<VoteRecord> = records
        .into_iter()
        .filter(|r| !args.blind_only || r.blind)
        .collect();
    let written = match &args.out {
        Some(out) => {
            let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
            let mut writer = BufWriter::new(file);
            let n = export::write(&records, format, args.include_failed, &mut writer)
                .and_then(|n| writer.flush().map(|()| n))
                .with_context(|| format!("writing {}", out.display()))?;
            writer
                .into_inner()
                .map_err(io::IntoInnerError::into_error)?
                .sync_all()?;
            n
        }
        // A flat table on a terminal shows its cells inert: names and answers come from
        // logs anyone may have written. Into a file or pipe the data stays exact.
        None if format == Format::Csv && io::stdout().is_terminal() => {
            let mut table = Vec::new();
            let n = export::write(&records, format, args.include_failed, &mut table)?;
            io::stdout()
                .lock()
                .write_all(sanitize(&String::from_utf8_lossy(&table)).as_bytes())?;
            n
        }
        None => {
            let mut writer = BufWriter::new(io::stdout().lock());
            match export::write(&records, format, args.include_failed, &mut writer).and_then(|n| {
                writer.flush()?;
                Ok(n)
            }) {
                Ok(n) => n,
                // A reader that stopped early (`| head`) is not a failure.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(0),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let n = written.records;
    let what = match format {
        Format::Dpo => format!(
            "{n} preference pairs ({} ties and both-bad votes left out)",
            written.undecided
        ),
        Format::Arena => format!("{n} battles"),
        Format::Csv => format!("{n} rows"),
    };
    match &args.out {
        Some(out) => say!("wrote {what} to {}", out.display()),
        None if !records.is_empty() => say!("{what} from {}", source(&paths)),
        None if records.is_empty() => say!("no votes yet in {}", source(&paths)),
        None => {}
    }
    if written.failed > 0 {
        let votes = if written.failed == 1 { "vote" } else { "votes" };
        say!(
            "left out {} {votes} where a side failed or was stopped (--include-failed keeps them)",
            written.failed
        );
    }
    Ok(0)
}

/// The logs read, as the user named them.
fn source(paths: &[std::path::PathBuf]) -> String {
    match paths {
        [one] => one.display().to_string(),
        many => format!("{} logs", many.len()),
    }
}
