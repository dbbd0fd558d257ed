//! `duel export`: the vote log as a dataset. Needs no config file, provider or API key.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

use super::{load, without_demo};
use crate::cli::ExportArgs;
use crate::say;
use crate::text::sanitize;
use crate::votes::VoteRecord;
use crate::votes::export::{self, Format};
use crate::votes::log::FILE_NAME;

/// `duel export`: the data dir's log in `args.format`, to `--out` or stdout.
pub fn export(args: &ExportArgs, data_dir: &Path) -> anyhow::Result<u8> {
    let path = data_dir.join(FILE_NAME);
    let loaded = load(std::slice::from_ref(&path), false)?;
    let records: Vec<VoteRecord> = without_demo(loaded.records)
        .into_iter()
        .filter(|r| !args.blind_only || r.blind)
        .collect();
    let written = match &args.out {
        Some(out) => {
            let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
            let mut writer = BufWriter::new(file);
            let n = export::write(&records, args.format, args.include_failed, &mut writer)
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
        None if args.format == Format::Csv && io::stdout().is_terminal() => {
            let mut table = Vec::new();
            let n = export::write(&records, args.format, args.include_failed, &mut table)?;
            io::stdout()
                .lock()
                .write_all(sanitize(&String::from_utf8_lossy(&table)).as_bytes())?;
            n
        }
        None => {
            let mut writer = BufWriter::new(io::stdout().lock());
            match export::write(&records, args.format, args.include_failed, &mut writer).and_then(
                |n| {
                    writer.flush()?;
                    Ok(n)
                },
            ) {
                Ok(n) => n,
                // A reader that stopped early (`| head`) is not a failure.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(0),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let n = written.records;
    let what = match args.format {
        Format::Dpo => format!(
            "{n} preference pairs ({} ties and both-bad votes left out)",
            written.undecided
        ),
        Format::Arena => format!("{n} battles"),
        Format::Csv => format!("{n} rows"),
    };
    match &args.out {
        Some(out) => say!("wrote {what} to {}", out.display()),
        None if records.is_empty() => say!("no votes yet in {}", path.display()),
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
