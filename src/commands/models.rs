//! `duel models`: the configured models, their keys, and optionally a live check.

use std::io::{self, Write};
use std::time::Instant;

use serde::Serialize;

use super::{answer, print_json, print_rows};
use crate::cli::ModelsArgs;
use crate::config::{Config, ModelSpec};
use crate::domain::{AnswerState, Message, Role};
use crate::provider::ChatRequest;

#[derive(Serialize)]
struct ModelRow<'a> {
    name: &'a str,
    provider: &'a str,
    kind: &'a str,
    model_id: &'a str,
    base_url: &'a str,
    key: String,
    key_set: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<CheckResult>,
}

#[derive(Clone, Serialize)]
struct CheckResult {
    ok: bool,
    latency_ms: u64,
    error: Option<String>,
}

/// `duel models`: every configured model with its key status; `--check` pings each.
pub async fn models(config: &Config, args: &ModelsArgs) -> anyhow::Result<u8> {
    let checks: Vec<Option<CheckResult>> = if args.check {
        let pings = config.models.iter().map(check);
        futures_util::future::join_all(pings)
            .await
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![None; config.models.len()]
    };
    let rows: Vec<ModelRow> = config
        .models
        .iter()
        .zip(checks)
        .map(|(m, check)| {
            let status = m.endpoint.key_status();
            ModelRow {
                name: &m.name,
                provider: &m.provider,
                kind: m.endpoint.kind.as_str(),
                model_id: &m.model_id,
                base_url: &m.endpoint.base_url,
                key: status.describe(),
                key_set: status.usable(),
                check,
            }
        })
        .collect();
    let failed = rows.iter().any(|r| r.check.as_ref().is_some_and(|c| !c.ok));
    if args.json {
        print_json(&rows)?;
    } else {
        print_table(&mut io::stdout().lock(), &rows)?;
    }
    Ok(u8::from(failed))
}

fn print_table(out: &mut impl Write, rows: &[ModelRow]) -> io::Result<()> {
    let mut table: Vec<Vec<String>> = vec![
        ["NAME", "PROVIDER", "KIND", "MODEL ID", "BASE URL", "KEY"]
            .map(String::from)
            .to_vec(),
    ];
    let checked = rows.iter().any(|r| r.check.is_some());
    if checked {
        table[0].push("CHECK".into());
    }
    for r in rows {
        let mut row = vec![
            r.name.to_owned(),
            r.provider.to_owned(),
            r.kind.to_owned(),
            r.model_id.to_owned(),
            r.base_url.to_owned(),
            r.key.clone(),
        ];
        if let Some(c) = &r.check {
            row.push(match &c.error {
                None => format!("ok {} ms", c.latency_ms),
                Some(e) => format!("FAILED {} ms: {e}", c.latency_ms),
            });
        }
        table.push(row);
    }
    print_rows(out, &table)
}

/// A tiny request: is the model reachable with this key?
async fn check(model: &ModelSpec) -> CheckResult {
    let started = Instant::now();
    let mut tiny = model.clone();
    tiny.max_tokens = Some(16);
    let request = ChatRequest::for_model(
        &tiny,
        vec![Message::new(Role::User, "Reply with the word: ok")],
    );
    let answer = answer(&tiny, request).await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match answer.state {
        AnswerState::Failed(e) => CheckResult {
            ok: false,
            latency_ms,
            error: Some(e.to_string()),
        },
        _ => CheckResult {
            ok: true,
            latency_ms,
            error: None,
        },
    }
}
