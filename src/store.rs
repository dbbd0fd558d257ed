//! Which store a command uses (SPEC §12): the config's `[store] url`, else the data
//! dir's files. The offline demo never touches a team's store: its votes and runs stay
//! in the data dir.

pub use duel_core::store::{Kept, keep_votes};

use std::path::Path;
use std::sync::Arc;

use duel_core::config::Config;
use duel_core::store::{Files, Store, StoreError};
use duel_store::{Postgres, Target};

use crate::commands::UsageError;

/// The store of `config`, or the data dir's files (always under `--demo`).
pub fn open(config: &Config, data_dir: &Path, demo: bool) -> Result<Arc<dyn Store>, UsageError> {
    Ok(team(config, demo)?.unwrap_or_else(|| Arc::new(Files::new(data_dir))))
}

/// The PostgreSQL store at `url`; a URL it cannot read is a usage error.
pub fn postgres(url: &str) -> Result<Postgres, UsageError> {
    Target::new(url)
        .and_then(Postgres::new)
        .map_err(|e| UsageError(format!("[store] {e}")))
}

/// The run `wanted` names. With a team's store, from the store's runs, copied into
/// the data dir (its answers and checks brought up to date), so every command reads
/// it as a folder; else the data dir's.
pub fn find_run(
    team: Option<&dyn Store>,
    data_dir: &Path,
    wanted: &str,
) -> Result<duel_core::eval::run::Run, String> {
    let Some(store) = team else {
        return duel_core::eval::run::Run::find(data_dir, wanted);
    };
    let runs = store.runs().map_err(|e| e.to_string())?;
    if runs.is_empty() {
        // A run this machine made and has not pushed yet is still found.
        return duel_core::eval::run::Run::find(data_dir, wanted).map_err(|_| {
            format!(
                "no runs in {} yet; start one with `duel batch SUITE`, or copy this machine's with `duel store push`",
                store.describe()
            )
        });
    }
    let infos: Vec<&duel_core::eval::run::RunInfo> = runs.iter().collect();
    let id = match duel_core::eval::run::pick(&infos, wanted) {
        Ok(i) => runs[i].id.clone(),
        Err(why) => {
            return duel_core::eval::run::Run::find(data_dir, wanted).map_err(|_| why);
        }
    };
    duel_store::pull_run(store, data_dir, &id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("run {id} left the store while it was read"))
}

/// The team's store of `config`, where there is one: never under `--demo`.
pub fn team(config: &Config, demo: bool) -> Result<Option<Arc<dyn Store>>, UsageError> {
    match (&config.store.url, demo) {
        (Some(url), false) => Ok(Some(Arc::new(postgres(url)?.with_review(config.review)))),
        _ => Ok(None),
    }
}

/// Copies a run into the team's store — what it is, its suite, its answers and checks,
/// each by what it holds, so again is no change — in batches (one statement per 5,000
/// answers, not a round trip each). A demo run stays in the data dir. When the store
/// cannot take it, says so: the run is kept here, for `duel store push`.
pub fn share_run(team: Option<&dyn Store>, run: &duel_core::eval::run::Run) {
    let Some(store) = team.filter(|_| !run.is_demo()) else {
        return;
    };
    let copy = || -> Result<(), StoreError> {
        store.save_run(&run.info, &run.suite_copy()?)?;
        store.append_answers(&run.info.id, &run.answers()?.0)?;
        store.append_checks(&run.info.id, &run.checks()?.0)
    };
    let shared = copy();
    if let Err(e) = shared {
        crate::say!(
            "warning: run {} is in the data dir but not in the store ({e}); `duel store push` copies it",
            run.info.id
        );
    }
}
