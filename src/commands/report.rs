//! `duel report RUN`: the run's [`RunReport`] as text that fits 80 columns, as one
//! JSON object, or as a page.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use super::{UsageError, print_json, print_rows};
use crate::cli::{Global, ReportArgs};
use crate::cost::{Cost, Prices};
use crate::eval::verdict::{self, Rating, RunReport};
use crate::text::{count, sanitize};
use crate::theme::Theme;
use crate::votes::report::ReportError;

/// The headings of the text's parts, which a terminal shows in the theme's colour
/// (the cost's names its currency after `in `).
const HEADINGS: [&str; 7] = [
    "Preference: rating (95% interval), from people and each model judge",
    "Checks: items passed of those graded",
    "Cost, in ",
    "Speed and failures",
    "Pairs",
    "By category",
    "What the evidence supports",
];

/// `duel report`; `prices`: the config's, where one could be read; `global` gives a
/// terminal the theme's colours (none under `NO_COLOR` or in a pipe).
pub fn report(
    args: &ReportArgs,
    data_dir: &Path,
    global: &Global,
    prices: &Prices,
    team: Option<std::sync::Arc<dyn duel_core::store::Store>>,
) -> anyhow::Result<u8> {
    if let Some(store) = &team {
        // The run's folder (its suite, answers, checks), copied from the store.
        crate::store::find_run(Some(&**store), data_dir, &args.run).map_err(UsageError)?;
    }
    let query = verdict::Query {
        run: args.run.clone(),
        category: args.category.clone(),
        prices: prices.clone(),
        rounds: 1000,
        store: team,
    };
    let report = verdict::build(data_dir, &query).map_err(|e| match e {
        ReportError::Usage(why) => anyhow::Error::new(UsageError(why)),
        other => other.into(),
    })?;
    if let Some(path) = &args.html {
        let page = super::stats::html::report_page(&report, prices);
        super::stats::html::write(path, &page)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        crate::say!("wrote the page to {}", path.display());
    }
    if args.json {
        return print_json(&report);
    }
    let text = super::stats::wrap_prose(&render(&report, prices), super::stats::columns());
    let theme = io::stdout()
        .is_terminal()
        .then(|| super::stats::plot::terminal_theme(global))
        .flatten();
    let text = match &theme {
        Some(theme) => paint_headings(&text, theme),
        None => text,
    };
    write!(io::stdout().lock(), "{text}")?;
    Ok(0)
}

/// `text` with its headings bold, in the theme's heading colour.
fn paint_headings(text: &str, theme: &Theme) -> String {
    let colour = super::stats::plot::sgr(theme.heading)
        .map(|code| format!(";{code}"))
        .unwrap_or_default();
    text.lines()
        .map(|line| {
            let heading = HEADINGS
                .iter()
                .any(|h| line == *h || h.ends_with(' ') && line.starts_with(h));
            if heading {
                format!("\x1b[1{colour}m{line}\x1b[0m\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

/// A rating as the tables show it: `1040 (1010–1071)`, or `1040 (few votes)`.
fn rating(r: Option<&Rating>) -> String {
    match r {
        None => "—".into(),
        Some(r) => match r.interval {
            Some((low, high)) => format!("{:.0} ({:.0}–{:.0})", r.rating, low, high),
            None => format!("{:.0} (few votes)", r.rating),
        },
    }
}

fn percent(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// One part of the report: a heading, then a table (a header row first) or lines.
pub struct Section {
    pub heading: String,
    pub part: Part,
}

pub enum Part {
    Table(Vec<Vec<String>>),
    Lines(Vec<String>),
}

/// The report as text: its head, then each section. Every table stays within 80
/// columns for the names a team uses; prose is wrapped to the terminal by the caller.
pub fn render(report: &RunReport, prices: &Prices) -> String {
    let mut text = head(report);
    for section in sections(report, prices) {
        text.push('\n');
        text.push_str(&section.heading);
        text.push('\n');
        match section.part {
            Part::Table(rows) => {
                let mut out = Vec::new();
                let _ = print_rows(&mut out, &rows);
                text.push_str(&String::from_utf8_lossy(&out));
            }
            Part::Lines(lines) => {
                for line in lines {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
        }
    }
    text
}

/// The run, its suite and items, and the votes on it, in two lines.
pub fn head(report: &RunReport) -> String {
    format!(
        "Run {} · {} · {}{}\n{} by people, {} by model judges\n",
        sanitize(report.name.as_deref().unwrap_or(&report.run)),
        sanitize(&report.suite),
        count(report.items, "item", "items"),
        report
            .category
            .as_ref()
            .map(|c| format!(" of category {}", sanitize(c)))
            .unwrap_or_default(),
        count(report.people_votes, "vote", "votes"),
        count(report.judge_votes, "vote", "votes"),
    )
}

/// The report's parts: four small tables, the pairs, the categories, and what the
/// evidence supports; model names shown inert.
pub fn sections(report: &RunReport, prices: &Prices) -> Vec<Section> {
    let mut sections = Vec::new();
    let mut section = |heading: String, part: Part| sections.push(Section { heading, part });

    // Preference: people, then each model judge apart.
    let judges: Vec<&str> = report
        .models
        .iter()
        .flat_map(|m| m.judges.iter().map(|j| j.judge.as_str()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rows = vec![
        ["MODEL", "PEOPLE"]
            .into_iter()
            .chain(judges.iter().copied())
            .map(|h| sanitize(&h.to_uppercase()))
            .collect::<Vec<_>>(),
    ];
    for m in &report.models {
        let mut row = vec![sanitize(&m.model), rating(m.people.as_ref())];
        for judge in &judges {
            let own = m
                .judges
                .iter()
                .find(|j| j.judge == *judge)
                .map(|j| &j.rating);
            row.push(rating(own));
        }
        rows.push(row);
    }
    section(HEADINGS[0].into(), Part::Table(rows));

    if report.models.iter().any(|m| m.checks.is_some()) {
        let mut rows = vec![
            ["MODEL", "PASSED", "RATE", "95% CI", "ERRORS"]
                .map(String::from)
                .to_vec(),
        ];
        for m in &report.models {
            let c = m.checks.as_ref();
            rows.push(vec![
                sanitize(&m.model),
                c.map_or("—".into(), |c| format!("{}/{}", c.passed, c.graded)),
                c.and_then(|c| c.rate).map_or("—".into(), percent),
                c.and_then(|c| c.interval).map_or("—".into(), |(l, h)| {
                    format!("{}–{}", percent(l), percent(h))
                }),
                c.map_or("—".into(), |c| c.errors.to_string()),
            ]);
        }
        section(HEADINGS[1].into(), Part::Table(rows));
    }

    if let Some(currency) = &report.currency {
        let show = |c: Option<Cost>| prices.show(c);
        let mut rows = vec![
            ["MODEL", "PER ITEM", "THE RUN", "PER 1,000 ITEMS"]
                .map(String::from)
                .to_vec(),
        ];
        for m in &report.models {
            rows.push(vec![
                sanitize(&m.model),
                show(m.cost_per_item),
                show(m.cost_run),
                show(m.cost_per_1000),
            ]);
        }
        section(
            format!("{}{currency} (— : no price)", HEADINGS[2]),
            Part::Table(rows),
        );
    }

    let mut rows = vec![
        [
            "MODEL",
            "ANSWERED",
            "MEDIAN TTFT",
            "TOK/S",
            "P90 TOTAL",
            "FAILED",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for m in &report.models {
        let s = &m.speed;
        let failed = if s.failures.is_empty() {
            "0".to_owned()
        } else {
            let kinds: Vec<String> = s.failures.iter().map(|(k, n)| format!("{n} {k}")).collect();
            format!("{} ({})", s.failed, kinds.join(", "))
        };
        rows.push(vec![
            sanitize(&m.model),
            format!("{}/{}", s.answered, report.items),
            s.ttft_ms_median.map_or("—".into(), |ms| format!("{ms} ms")),
            s.tokens_per_sec_median
                .map_or("—".into(), |t| format!("{t:.1}")),
            s.total_ms_p90
                .map_or("—".into(), |ms| format!("{:.1} s", ms as f64 / 1000.0)),
            failed,
        ]);
    }
    section(HEADINGS[3].into(), Part::Table(rows));

    let mut pairs = Vec::new();
    for p in &report.pairs {
        let mut parts = Vec::new();
        match &p.decision {
            Some(d) if d.battles > 0 => parts.push(format!(
                "P({} better) = {}, {} by {}{}",
                sanitize(&d.a),
                d.prob_a_better.map_or("—".into(), |x| format!("{x:.2}")),
                count(d.battles as usize, "vote", "votes"),
                p.by.as_str(),
                if d.settled {
                    " (settled)".to_owned()
                } else {
                    d.more_votes
                        .map(|n| format!(", about {n} more needed"))
                        .unwrap_or_default()
                }
            )),
            _ => parts.push("no votes yet".into()),
        }
        if let Some(t) = &p.checks {
            parts.push(format!(
                "checks: only {} passed {}, only {} {}, McNemar p = {:.3}",
                sanitize(&t.a),
                t.only_a,
                sanitize(&t.b),
                t.only_b,
                t.p_value
            ));
        }
        if let Some(r) = p.cost_ratio {
            parts.push(format!("cost {r:.2}×"));
        }
        pairs.push(format!(
            "{} vs {}: {}.",
            sanitize(&p.a),
            sanitize(&p.b),
            parts.join("; ")
        ));
    }
    section(HEADINGS[4].into(), Part::Lines(pairs));

    if !report.categories.is_empty() {
        let mut lines = Vec::new();
        for c in &report.categories {
            let lead = match &c.decision {
                Some(d) if d.settled => format!("{} ahead (settled)", sanitize(&d.ahead)),
                Some(d) if d.battles > 0 => format!("{} ahead, not settled", sanitize(&d.ahead)),
                _ => "no votes".into(),
            };
            let checks: Vec<String> = c
                .checks
                .iter()
                .map(|m| format!("{} {}/{}", sanitize(&m.model), m.passed, m.graded))
                .collect();
            lines.push(format!(
                "{} ({}): {}{}.",
                sanitize(&c.category),
                count(c.items, "item", "items"),
                lead,
                if checks.is_empty() {
                    String::new()
                } else {
                    format!("; checks {}", checks.join(", "))
                }
            ));
        }
        section(HEADINGS[5].into(), Part::Lines(lines));
    }

    let verdict = report.verdict.iter().map(|s| sanitize(s)).collect();
    section(HEADINGS[6].into(), Part::Lines(verdict));
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a terminal the headings take the theme's heading colour, bold; nothing else
    /// is painted, and the words stay as they are.
    #[test]
    fn only_the_headings_are_painted() {
        let text = "Run x\n\nPairs\na vs b: no votes yet.\n\nCost, in CNY (— : no price)\n";
        let painted = paint_headings(text, &Theme::default());
        let code = super::super::stats::plot::sgr(Theme::default().heading).unwrap();
        assert!(
            painted.contains(&format!("\x1b[1;{code}mPairs\x1b[0m\n")),
            "{painted:?}"
        );
        assert!(painted.contains(&format!("\x1b[1;{code}mCost, in CNY (— : no price)\x1b[0m")));
        assert!(painted.starts_with("Run x\n"), "{painted:?}");
        assert!(painted.contains("\na vs b: no votes yet.\n"), "{painted:?}");
    }
}
