//! `duel store init|push|status`: the team's PostgreSQL store.

use std::path::Path;

use serde::Serialize;

use super::{UsageError, print_json, print_rows};
use crate::cli::StoreAction;
use crate::config::Config;
use crate::text::thousands;
use duel_store::{Postgres, VERSION};

pub fn store(config: &Config, action: &StoreAction, data_dir: &Path) -> anyhow::Result<u8> {
    let Some(url) = &config.store.url else {
        return Err(UsageError(format!(
            "no [store] url in {}: votes and runs are files in {}; set one to share them \
             (see the README, \"A team on one store\")",
            config
                .path
                .as_ref()
                .map_or_else(|| "the config".to_owned(), |p| p.display().to_string()),
            data_dir.display()
        ))
        .into());
    };
    let store = crate::store::postgres(url)?;
    let told = |e: duel_core::store::StoreError| hint(&store, e);
    match action {
        StoreAction::Init { .. } => {
            let (before, after) = store.init().map_err(told)?;
            let shown = store.shown();
            match (before, after) {
                (0, v) => println!("{shown}: schema created (version {v})"),
                (b, a) if b < a => println!("{shown}: schema upgraded from version {b} to {a}"),
                (_, v) => println!("{shown}: schema already at version {v}; nothing to do"),
            }
            Ok(0)
        }
        StoreAction::Push { .. } => {
            // `--data-dir` is the global one by now.
            let pushed = store.push(data_dir).map_err(told)?;
            println!("pushed {} to {}:", data_dir.display(), store.shown());
            let row = |what: &str, [read, new]: [usize; 2]| {
                vec![
                    format!("  {what}"),
                    format!("{} read", thousands(read)),
                    format!("{} new", thousands(new)),
                ]
            };
            let rows = vec![
                row("votes", pushed.votes),
                row("conversations", pushed.conversations),
                row("runs", pushed.runs),
                row("answers", pushed.answers),
                row("checks", pushed.checks),
            ];
            print_rows(&mut std::io::stdout().lock(), &rows)?;
            Ok(0)
        }
        StoreAction::Status { json, .. } => status(&store, *json).map_err(told),
    }
}

#[derive(Serialize)]
struct Status {
    url: String,
    schema: i32,
    knows: i32,
    #[serde(flatten)]
    counts: duel_store::Counts,
}

fn status(store: &Postgres, json: bool) -> Result<u8, duel_core::store::StoreError> {
    let schema = store.version()?;
    let counts = if schema == VERSION {
        Some(store.counts()?)
    } else {
        None
    };
    if json {
        let status = Status {
            url: store.shown(),
            schema,
            knows: VERSION,
            counts: counts.unwrap_or_default(),
        };
        return print_json(&status).map_err(|e| std::io::Error::other(e.to_string()).into());
    }
    let mut rows = vec![
        vec!["store".to_owned(), store.shown()],
        vec![
            "schema".to_owned(),
            match schema {
                0 => "none yet: run `duel store init`".to_owned(),
                v if v < VERSION => {
                    format!("version {v}; this duel needs {VERSION}: run `duel store init`")
                }
                v if v > VERSION => {
                    format!("version {v}, newer than this duel knows ({VERSION}): upgrade duel")
                }
                v => format!("version {v}"),
            },
        ],
    ];
    if let Some(c) = counts {
        let n = |x: i64| thousands(usize::try_from(x).unwrap_or(0));
        rows.push(vec![
            "votes".into(),
            format!(
                "{} (and {} on the demo models)",
                n(c.votes),
                n(c.demo_votes)
            ),
        ]);
        rows.push(vec!["conversations".into(), n(c.conversations)]);
        rows.push(vec![
            "runs".into(),
            format!(
                "{} ({} answers, {} checks)",
                n(c.runs),
                n(c.answers),
                n(c.checks)
            ),
        ]);
        rows.push(vec![
            "reviewing".into(),
            format!("{} pairs held by reviewers now", n(c.leases)),
        ]);
    }
    print_rows(&mut std::io::stdout().lock(), &rows)?;
    Ok(0)
}

/// A refused password gets told where duel looks for one.
fn hint(store: &Postgres, e: duel_core::store::StoreError) -> anyhow::Error {
    let text = e.to_string();
    if text.contains("password authentication failed")
        || (!store.has_password() && text.contains("password"))
    {
        anyhow::anyhow!(
            "{text} (duel reads the password from {} or ~/.pgpass)",
            duel_store::PASSWORD_VAR
        )
    } else {
        anyhow::Error::new(e)
    }
}
