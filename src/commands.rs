//! The commands that run without the TUI: `ask`, `models`, `init`.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::cli::{AskArgs, HistoryArgs, ModelsArgs};
use crate::config::{self, Config, ModelSpec};
use crate::conversation;
use crate::domain::{Answer, AnswerState, Message, Role};
use crate::provider::{self, ChatRequest};
use crate::say;
use crate::text::sanitize;
use crate::votes::SideRecord;

/// A command used the wrong way (exit 2, as SPEC §1 says for usage errors).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Streams one prompt to one model to the end, outside the TUI.
pub async fn answer(model: &ModelSpec, messages: Vec<Message>) -> Answer {
    let request = ChatRequest::for_model(model, messages);
    let mut answer = Answer::new(model.model_ref(), 0, Instant::now());
    let provider = provider::build(model);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let drive = provider::stream(&*provider, &request, tx);
    let collect = async {
        while let Some(event) = rx.recv().await {
            answer.apply(event, 1, Instant::now());
        }
    };
    tokio::join!(drive, collect);
    answer
}

#[derive(Serialize)]
struct AskOutput<'a> {
    prompt: &'a str,
    a: SideRecord,
    b: SideRecord,
}

/// `duel ask`: both answers at once; exit 0 when both succeeded, 1 when either failed.
pub async fn ask(a: &ModelSpec, b: &ModelSpec, args: &AskArgs) -> anyhow::Result<u8> {
    let prompt = if args.prompt == "-" {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .context("reading the prompt from standard input")?;
        text
    } else {
        args.prompt.clone()
    };
    if prompt.trim().is_empty() {
        return Err(UsageError(
            "the prompt is empty: give it as an argument, or `-` and pipe it in".into(),
        )
        .into());
    }
    let messages = || vec![Message::new(Role::User, prompt.clone())];
    let (answer_a, answer_b) = tokio::join!(answer(a, messages()), answer(b, messages()));
    let failed = [&answer_a, &answer_b]
        .iter()
        .any(|ans| matches!(ans.state, AnswerState::Failed(_)));

    let mut out = io::stdout().lock();
    if args.json {
        let output = AskOutput {
            prompt: &prompt,
            a: SideRecord::of(&answer_a, None),
            b: SideRecord::of(&answer_b, None),
        };
        serde_json::to_writer(&mut out, &output)?;
        writeln!(out)?;
    } else {
        // Model output is shown inert, on a terminal or in a file that a terminal
        // shows later (`cat answer.txt`); `--raw` writes the answer as it was sent.
        for (label, ans) in [("A", &answer_a), ("B", &answer_b)] {
            write_plain(&mut out, label, ans, args.raw)?;
        }
    }
    Ok(u8::from(failed))
}

fn write_plain(out: &mut impl Write, label: &str, ans: &Answer, raw: bool) -> io::Result<()> {
    let shown = |s: &str| sanitize(s);
    writeln!(
        out,
        "━━ {label} · {} ({}) ━━",
        shown(&ans.model.name),
        shown(&ans.model.provider)
    )?;
    if !ans.reasoning.is_empty() {
        writeln!(
            out,
            "[reasoning: {} characters; --json includes it]",
            ans.reasoning.chars().count()
        )?;
    }
    if !ans.text.is_empty() {
        let text = ans.text.trim_end();
        if raw {
            writeln!(out, "{text}")?;
        } else {
            writeln!(out, "{}", shown(text))?;
        }
    }
    let record = SideRecord::of(ans, None);
    let ms = |v: Option<u64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v} ms"));
    // The same figure the TUI's footer shows: the provider's count, else ≈ an estimate.
    let tokens = match (&record.output_tokens, &record.output_tokens_estimate) {
        (Some(t), _) => format!("{t} tok"),
        (None, Some(estimate)) => format!(
            "≈{} tok (estimated from {})",
            estimate.tokens, estimate.from
        ),
        (None, None) => "— tok".to_owned(),
    };
    match &ans.state {
        AnswerState::Failed(e) => {
            writeln!(out, "[error: {}]", shown(&e.to_string()))?;
            if let Some(hint) = &e.hint {
                writeln!(out, "[hint: {}]", shown(hint))?;
            }
        }
        _ => writeln!(
            out,
            "[{} · TTFT {} · {tokens} · total {}]",
            record.finish.as_str(),
            ms(record.ttft_ms),
            ms(record.total_ms)
        )?,
    }
    writeln!(out)
}

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
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &rows)?;
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

/// Prints rows as aligned columns (display widths, so CJK lines up).
fn print_rows(out: &mut impl Write, table: &[Vec<String>]) -> io::Result<()> {
    // Names, URLs and errors come from files and servers: never terminal control.
    let table: Vec<Vec<String>> = table
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| sanitize(cell).replace('\n', " "))
                .collect()
        })
        .collect();
    let columns = table[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            table
                .iter()
                .map(|r| crate::text::width(&r[c]))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &table {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < columns {
                line.push_str(&" ".repeat(widths[c] - crate::text::width(cell) + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// A tiny request: is the model reachable with this key?
async fn check(model: &ModelSpec) -> CheckResult {
    let started = Instant::now();
    let mut tiny = model.clone();
    tiny.max_tokens = Some(16);
    let answer = answer(
        &tiny,
        vec![Message::new(Role::User, "Reply with the word: ok")],
    )
    .await;
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

#[derive(Serialize)]
struct HistoryRow {
    id: String,
    time: String,
    model_a: String,
    model_b: String,
    turns: usize,
    votes: usize,
    blind: bool,
    first_prompt: String,
}

/// `duel history`: saved conversations, newest first.
pub fn history(data_dir: &Path, args: &HistoryArgs) -> anyhow::Result<u8> {
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
        .map(|c| {
            let last = c.turns.last();
            HistoryRow {
                id: c.id.to_string(),
                time: c.updated.clone(),
                model_a: last.map(|t| t.a.model.clone()).unwrap_or_default(),
                model_b: last.map(|t| t.b.model.clone()).unwrap_or_default(),
                turns: c.turns.len(),
                votes: c.turns.iter().filter(|t| t.vote.is_some()).count(),
                blind: c.blind,
                first_prompt: c
                    .turns
                    .first()
                    .map(|t| t.prompt.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(0);
    }
    if rows.is_empty() {
        writeln!(
            out,
            "no saved conversations yet in {}",
            data_dir.join(conversation::DIR_NAME).display()
        )?;
        return Ok(0);
    }
    let mut table = vec![
        ["ID", "TIME", "A", "B", "TURNS", "VOTES", "FIRST PROMPT"]
            .map(String::from)
            .to_vec(),
    ];
    for r in &rows {
        let time = r.time.get(..16).unwrap_or(&r.time).replace('T', " ");
        let prompt = sanitize(&r.first_prompt).replace('\n', " ");
        table.push(vec![
            r.id.get(..8).unwrap_or(&r.id).to_owned(),
            time,
            r.model_a.clone(),
            r.model_b.clone(),
            r.turns.to_string(),
            r.votes.to_string(),
            crate::text::truncate(&prompt, 50),
        ]);
    }
    print_rows(&mut out, &table)?;
    writeln!(
        out,
        "\nreopen one with: duel --resume ID (or --resume for the latest)"
    )?;
    Ok(0)
}

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
