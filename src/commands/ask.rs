//! `duel ask`: one prompt to both models, both answers printed.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use super::{UsageError, answer};
use crate::attachment::{Attachment, Store};
use crate::cli::AskArgs;
use crate::config::ModelSpec;
use crate::cost::{Cost, Prices, Tokens};
use crate::domain::{Answer, AnswerState, Message, Role};
use crate::provider::ChatRequest;
use crate::text::sanitize;
use crate::votes::SideRecord;

#[derive(Serialize)]
struct AskOutput<'a> {
    prompt: &'a str,
    /// The files sent with the prompt, by reference.
    #[serde(skip_serializing_if = "<[Attachment]>::is_empty")]
    attachments: &'a [Attachment],
    a: SideRecord,
    b: SideRecord,
    /// Present where a model has a price.
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<Costs<'a>>,
}

/// What each answer cost, in the report currency; `null` for a model without a price.
#[derive(Serialize)]
struct Costs<'a> {
    currency: &'a str,
    a: Option<Cost>,
    b: Option<Cost>,
}

/// The files of `--attach`, read and kept in the data dir, before anything is sent;
/// a file that cannot be attached is a usage error that says why.
fn attachments(paths: &[PathBuf], data_dir: &Path) -> anyhow::Result<Vec<Attachment>> {
    let store = Store::new(data_dir);
    paths
        .iter()
        .map(|path| {
            store.attach(path).map_err(|e| {
                if e.of_the_file() {
                    UsageError(format!("--attach {e}")).into()
                } else {
                    anyhow::Error::new(e)
                }
            })
        })
        .collect()
}

/// `duel ask`: both answers at once; exit 0 when both succeeded, 1 when either failed.
pub async fn ask(
    a: &ModelSpec,
    b: &ModelSpec,
    args: &AskArgs,
    prices: &Prices,
    data_dir: &Path,
) -> anyhow::Result<u8> {
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
    let attached = attachments(&args.attach, data_dir)?;
    let request = |model: &ModelSpec| {
        let message = Message::new(Role::User, prompt.clone()).with_attachments(attached.clone());
        ChatRequest::for_model(model, vec![message]).with_files(Store::new(data_dir))
    };
    let (answer_a, answer_b) = tokio::join!(answer(a, request(a)), answer(b, request(b)));
    let failed = [&answer_a, &answer_b]
        .iter()
        .any(|ans| matches!(ans.state, AnswerState::Failed(_)));

    let cost_of = |answer: &Answer| {
        prices.cost(
            &answer.model.name,
            &Tokens::of_answer(answer, || prompt.chars().count()),
        )
    };
    let mut out = io::stdout().lock();
    if args.json {
        let output = AskOutput {
            prompt: &prompt,
            attachments: &attached,
            a: SideRecord::of(&answer_a, None),
            b: SideRecord::of(&answer_b, None),
            cost: prices.currency.as_deref().map(|currency| Costs {
                currency,
                a: cost_of(&answer_a),
                b: cost_of(&answer_b),
            }),
        };
        serde_json::to_writer(&mut out, &output)?;
        writeln!(out)?;
    } else {
        // Model output is shown inert, on a terminal or in a file that a terminal
        // shows later (`cat answer.txt`); `--raw` writes the answer as it was sent.
        for (label, ans) in [("A", &answer_a), ("B", &answer_b)] {
            let cost = prices.currency.is_some().then(|| prices.show(cost_of(ans)));
            write_plain(&mut out, label, ans, cost.as_deref(), args.raw)?;
        }
    }
    Ok(u8::from(failed))
}

/// One answer as text: a header, the answer, and a line of figures (its cost where a
/// model has a price).
fn write_plain(
    out: &mut impl Write,
    label: &str,
    ans: &Answer,
    cost: Option<&str>,
    raw: bool,
) -> io::Result<()> {
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
            "[{} · TTFT {} · {tokens} · total {}{}]",
            record.finish.as_str(),
            ms(record.ttft_ms),
            ms(record.total_ms),
            cost.map(|c| format!(" · {c}")).unwrap_or_default()
        )?,
    }
    writeln!(out)
}
