//! `duel runs`: the batch runs of the data dir, oldest first, with how far each got
//! and how many votes its pairs have. Needs no config file.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::{load, print_json, print_rows};
use crate::cli::RunsArgs;
use crate::cost::{Cost, Prices};
use crate::domain::Finish;
use crate::eval::check::rates::PassRate;
use crate::eval::check::record::ChecksReport;
use crate::eval::outcomes::Outcomes;
use crate::eval::run::Run;
use crate::say;
use crate::votes::VoteRecord;
use crate::votes::log::{DEMO_FILE_NAME, FILE_NAME};
use duel_core::store::Store;

#[derive(Serialize)]
struct RunRow {
    id: String,
    name: Option<String>,
    suite: String,
    models: Vec<String>,
    created: String,
    /// None when the run's copy of its suite cannot be read.
    items: Option<usize>,
    /// (item, model) answers that came back.
    answered: usize,
    /// (item, model) answers whose every attempt failed so far.
    failed: usize,
    votes: usize,
    /// Votes by judge (people and `llm:` model judges).
    votes_by_judge: BTreeMap<String, usize>,
    /// Per model, items passed of those graded on the suite's checks; empty for a
    /// suite without checks.
    checks: Vec<PassRate>,
    /// Per model, in `models`' order, what its answers cost in `currency`; `null`
    /// for a model without a price. Absent when no model has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<Vec<Option<Cost>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
}

/// `duel runs`; under `demo` only the runs of the demo models. `prices`: the config's,
/// where one could be read (the runs need none).
pub fn runs(
    args: &RunsArgs,
    data_dir: &Path,
    demo: bool,
    prices: &Prices,
    team: Option<Arc<dyn Store>>,
) -> anyhow::Result<u8> {
    if demo {
        say!("offline demo: the runs of the demo models (without --demo, all of them)");
    }
    if let Some(store) = &team {
        // The team's runs, copied here (their answers and checks brought up to date).
        for info in store.runs()? {
            duel_store::pull_run(&**store, data_dir, &info.id)?;
        }
    }
    let runs: Vec<Run> = Run::list(data_dir)?
        .into_iter()
        .filter(|run| !demo || run.is_demo())
        .collect();
    // Votes on runs of the offline demo models go to their own log.
    let mut votes = load(
        &[data_dir.join(FILE_NAME), data_dir.join(DEMO_FILE_NAME)],
        false,
    )?
    .records;
    if let Some(store) = &team {
        // The team's votes instead of this machine's (the demo's stay here).
        votes.retain(VoteRecord::is_demo);
        votes.extend(store.votes(false)?.records);
    }
    let mut by_run: HashMap<&str, BTreeMap<String, usize>> = HashMap::new();
    for v in &votes {
        if let Some(run) = &v.run {
            *by_run
                .entry(run.as_str())
                .or_default()
                .entry(v.judge.clone())
                .or_default() += 1;
        }
    }
    let rows: Vec<RunRow> = runs
        .iter()
        .map(|run| {
            let votes = by_run.remove(run.info.id.as_str()).unwrap_or_default();
            row(run, votes, prices)
        })
        .collect();

    if args.json {
        return print_json(&rows);
    }
    let mut out = io::stdout().lock();
    if rows.is_empty() {
        writeln!(
            out,
            "no {}runs yet in {}; start one with `{} batch SUITE`",
            if demo { "demo " } else { "" },
            data_dir.display(),
            crate::config::duel_command(demo)
        )?;
        return Ok(0);
    }
    print_rows(&mut out, &table(&rows, prices))?;
    Ok(0)
}

/// How far `run` got: its answers back and failed, and its votes by judge.
fn row(run: &Run, votes_by_judge: BTreeMap<String, usize>, prices: &Prices) -> RunRow {
    let (answers, _) = run.answers().unwrap_or_default();
    let mut answered = HashSet::new();
    let mut tried = HashSet::new();
    for a in &answers {
        let key = (a.item.as_str(), a.side.model.as_str());
        tried.insert(key);
        if !matches!(a.side.finish, Finish::Error | Finish::Cancelled) {
            answered.insert(key);
        }
    }
    let items = run.items().ok();
    let checks = items
        .as_ref()
        .filter(|items| items.iter().any(|i| !i.checks.list.is_empty()))
        .and_then(|items| ChecksReport::of(run, items, 0, None).ok())
        .map(|report| report.models)
        .unwrap_or_default();
    let cost = prices.currency.as_ref().map(|_| {
        let tally = Outcomes::of(items.as_deref().unwrap_or_default(), &answers);
        let names = run.info.models.iter().map(String::as_str);
        tally
            .summaries(names, prices)
            .into_iter()
            .map(|m| m.cost)
            .collect()
    });
    RunRow {
        checks,
        cost,
        currency: prices.currency.clone(),
        id: run.info.id.clone(),
        name: run.info.name.clone(),
        suite: run.info.suite.display().to_string(),
        models: run.info.models.clone(),
        created: run.info.created.clone(),
        items: items.map(|items| items.len()),
        answered: answered.len(),
        failed: tried.len() - answered.len(),
        votes: votes_by_judge.values().sum(),
        votes_by_judge,
    }
}

/// Each model's checks passed, in the models' order: `4/5, 3/5`; `—` without checks.
fn passed(rates: &[PassRate]) -> String {
    if rates.is_empty() {
        return "—".into();
    }
    rates
        .iter()
        .map(|m| format!("{}/{}", m.passed, m.graded))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows as the table shows them, a header first; a COST column where models have
/// prices.
fn table(rows: &[RunRow], prices: &Prices) -> Vec<Vec<String>> {
    let mut table = vec![
        [
            "ID", "NAME", "SUITE", "MODELS", "ITEMS", "ANSWERED", "FAILED", "VOTES", "PASSED",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in rows {
        let wanted = r.items.map(|n| n * r.models.len());
        let mut row = vec![
            r.id.clone(),
            r.name.clone().unwrap_or_else(|| "—".into()),
            r.suite.clone(),
            r.models.join(", "),
            r.items.map_or_else(|| "?".into(), |n| n.to_string()),
            match wanted {
                Some(w) => format!("{}/{w}", r.answered),
                None => r.answered.to_string(),
            },
            r.failed.to_string(),
            r.votes.to_string(),
            passed(&r.checks),
        ];
        if let Some(costs) = &r.cost {
            let shown: Vec<String> = costs.iter().map(|c| prices.show(*c)).collect();
            row.push(shown.join(", "));
        }
        table.push(row);
    }
    if prices.currency.is_some() {
        table[0].push("COST".into());
    }
    table
}
