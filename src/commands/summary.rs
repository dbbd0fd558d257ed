//! The figures per model at the end of `duel batch` (`eval::outcomes`, from every
//! answer of the run: those from before a resume as well as this command's), as a
//! table, and one answer in a line.

use std::io::{self, Write};

use super::print_rows;
use crate::cost::{Cost, Prices};
use crate::domain::Finish;
use crate::eval::outcomes::ModelSummary;
use crate::votes::SideRecord;

/// One answer in a few words, for a progress line: `qwen-plus ok 512 tok 1.2 s`.
pub(crate) fn one_line(side: &SideRecord) -> String {
    if let Some(error) = &side.error {
        return format!("{} failed: {error}", side.model);
    }
    let tokens = side
        .output_tokens
        .map(|t| format!("{t} tok"))
        .or_else(|| {
            side.output_tokens_estimate
                .as_ref()
                .map(|e| format!("≈{} tok", e.tokens))
        })
        .unwrap_or_else(|| "— tok".into());
    let total = side
        .total_ms
        .map_or_else(|| "—".into(), |ms| format!("{:.1} s", ms as f64 / 1000.0));
    let finish = match side.finish {
        Finish::Stop => "ok",
        other => other.as_str(),
    };
    format!("{} {finish} {tokens} {total}", side.model)
}

/// The summary as a table, a row per model; where models have prices, what their
/// answers cost and what 1,000 items would.
pub(crate) fn print_table(
    out: &mut impl Write,
    models: &[ModelSummary],
    items: usize,
    prices: &Prices,
) -> io::Result<()> {
    let priced = prices.currency.is_some();
    let mut rows = vec![
        [
            "MODEL",
            "ANSWERED",
            "FAILED",
            "MEDIAN TTFT",
            "TOK/S",
            "TOKENS IN",
            "TOKENS OUT",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for m in models {
        let failed = if m.failures.is_empty() {
            "0".to_owned()
        } else {
            let kinds: Vec<String> = m.failures.iter().map(|(k, n)| format!("{n} {k}")).collect();
            format!("{} ({})", m.failed, kinds.join(", "))
        };
        let mut row = vec![
            m.model.clone(),
            format!("{}/{items}", m.answered),
            failed,
            m.ttft_ms_median
                .map_or_else(|| "—".into(), |ms| format!("{ms} ms")),
            m.tokens_per_sec_median
                .map_or_else(|| "—".into(), |t| format!("{t:.1}")),
            m.input_tokens.to_string(),
            m.output_tokens.to_string(),
        ];
        if priced {
            let per_1000 = m.cost.filter(|_| m.answered > 0).map(|c| Cost {
                amount: c.amount * 1000.0 / m.answered as f64,
                ..c
            });
            row.push(prices.show(m.cost));
            row.push(prices.show(per_1000));
        }
        rows.push(row);
    }
    if priced {
        rows[0].extend(["COST", "PER 1,000 ITEMS"].map(String::from));
    }
    print_rows(out, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_how_each_answer_went() {
        assert_eq!(
            one_line(&SideRecord {
                ttft_ms: Some(100),
                total_ms: Some(1100),
                output_tokens: Some(512),
                ..SideRecord::sample("qwen", "x", Finish::Stop)
            }),
            "qwen ok 512 tok 1.1 s"
        );
        assert_eq!(
            one_line(&SideRecord {
                error: Some("rate limited (HTTP 429)".into()),
                ..SideRecord::sample("ernie", "x", Finish::Error)
            }),
            "ernie failed: rate limited (HTTP 429)"
        );
    }
}
