//! `duel history`: the saved conversations.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use super::{print_json, print_rows};
use crate::cli::HistoryArgs;
use crate::conversation;
use crate::say;
use crate::text::sanitize;

#[derive(Serialize)]
struct HistoryRow {
    id: String,
    time: String,
    model_a: String,
    model_b: String,
    turns: usize,
    votes: usize,
    blind: bool,
    /// A conversation with the offline demo models: it reopens only under `--demo`.
    demo: bool,
    first_prompt: String,
}

/// `duel history`: saved conversations, newest first; under `demo` only those with
/// the demo models.
pub fn history(data_dir: &Path, args: &HistoryArgs, demo: bool) -> anyhow::Result<u8> {
    if demo {
        say!("offline demo: the conversations with the demo models (without --demo, all of them)");
    }
    let (conversations, broken) = conversation::list(data_dir).with_context(|| {
        format!(
            "reading {}",
            data_dir.join(conversation::DIR_NAME).display()
        )
    })?;
    for (path, error) in &broken {
        say!("warning: skipped {}: {error}", path.display());
    }
    let rows: Vec<HistoryRow> = conversations
        .iter()
        .filter(|c| !demo || c.is_demo())
        .map(HistoryRow::of)
        .collect();
    if args.json {
        return print_json(&rows);
    }
    let mut out = io::stdout().lock();
    if rows.is_empty() {
        writeln!(
            out,
            "no saved {}conversations yet in {}",
            if demo { "demo " } else { "" },
            data_dir.join(conversation::DIR_NAME).display()
        )?;
        return Ok(0);
    }
    print_rows(&mut out, &table(&rows))?;
    writeln!(
        out,
        "\nreopen one with: duel --resume ID (or --resume for the latest)"
    )?;
    if !demo && rows.iter().any(|r| r.demo) {
        writeln!(
            out,
            "a conversation marked (demo) is with the offline demo models: duel --demo --resume ID"
        )?;
    }
    Ok(0)
}

impl HistoryRow {
    fn of(c: &conversation::ConversationFile) -> Self {
        let last = c.turns.last();
        HistoryRow {
            id: c.id.to_string(),
            time: c.updated.clone(),
            model_a: last.map(|t| t.a.model.clone()).unwrap_or_default(),
            model_b: last.map(|t| t.b.model.clone()).unwrap_or_default(),
            turns: c.turns.len(),
            votes: c.turns.iter().map(conversation::TurnRecord::votes).sum(),
            blind: c.blind,
            demo: c.is_demo(),
            first_prompt: c
                .turns
                .first()
                .map(|t| t.prompt.clone())
                .unwrap_or_default(),
        }
    }
}

/// The rows as the table shows them, a header first: short ids, minutes, one line
/// of the first prompt.
fn table(rows: &[HistoryRow]) -> Vec<Vec<String>> {
    let mut table = vec![
        ["ID", "TIME", "A", "B", "TURNS", "VOTES", "FIRST PROMPT"]
            .map(String::from)
            .to_vec(),
    ];
    for r in rows {
        let time = r.time.get(..16).unwrap_or(&r.time).replace('T', " ");
        let prompt = sanitize(&r.first_prompt).replace('\n', " ");
        let id = r.id.get(..8).unwrap_or(&r.id);
        table.push(vec![
            if r.demo {
                format!("{id} (demo)")
            } else {
                id.to_owned()
            },
            time,
            r.model_a.clone(),
            r.model_b.clone(),
            r.turns.to_string(),
            r.votes.to_string(),
            crate::text::truncate(&prompt, 50),
        ]);
    }
    table
}
