//! `duel stats`: the leaderboard from the vote log(s). Needs no config file, provider
//! or API key.

mod agreement;
mod category;
mod decide;
pub mod html;
pub mod plot;
mod style;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use super::{layout, load, reading_demo, without_demo};
use crate::cli::{Global, StatsArgs};
use crate::eval::run::Run;
use crate::eval::trust::{self, Consistency, JudgeAgreement};
use crate::say;
use crate::text::sanitize;
use crate::text::width;
pub(crate) use crate::text::{count, thousands};
use crate::votes::VoteRecord;
use crate::votes::decide::Decision;
use crate::votes::log;
use crate::votes::rating::{
    FEW_BATTLES, Leaderboard, MIN_INTERVAL_BATTLES, Matrix, ModelStats, PositionBias, Tally,
};
use crate::votes::style_control::StyleControl;

/// Votes per judge, most first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct JudgeCount {
    pub judge: String,
    pub votes: usize,
}

fn judges(records: &[VoteRecord]) -> Vec<JudgeCount> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in records {
        *counts.entry(&r.judge).or_default() += 1;
    }
    let mut judges: Vec<JudgeCount> = counts
        .into_iter()
        .map(|(judge, votes)| JudgeCount {
            judge: judge.to_owned(),
            votes,
        })
        .collect();
    judges.sort_by(|x, y| y.votes.cmp(&x.votes).then_with(|| x.judge.cmp(&y.judge)));
    judges
}

/// The leaderboard of `records` with `rounds` bootstrap rounds.
pub(crate) fn leaderboard(records: &[VoteRecord], rounds: u32) -> Leaderboard {
    let mut tally = Tally::new();
    for r in records {
        // A model judge saw both arrangements: its vote says nothing about position.
        if r.verdicts.is_some() {
            tally.add_unplaced(&r.a.model, &r.b.model, r.vote);
        } else {
            tally.add(&r.a.model, &r.b.model, r.vote);
        }
    }
    tally.leaderboard(rounds)
}

/// SPEC §6's JSON, with `judges`, (on `--matrix`) `matrix`, (on `--agreement`)
/// SPEC §8's `agreement` and `judges_consistency`, and (on `--style-control`) SPEC §8's
/// `style_control` added.
#[derive(Serialize)]
struct StatsJson<'a> {
    votes: usize,
    skipped_lines: usize,
    /// Votes where a side failed, left out (0 with `--include-failed`).
    failed_left_out: usize,
    models: &'a [ModelStats],
    position_bias: &'a PositionBias,
    judges: &'a [JudgeCount],
    #[serde(skip_serializing_if = "Option::is_none")]
    matrix: Option<&'a Matrix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agreement: Option<&'a [JudgeAgreement]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    judges_consistency: Option<&'a [Consistency]>,
    /// The top two models, or `--pair`: how likely the first is better, and the votes
    /// that would settle it.
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<&'a Decision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by_category: Option<&'a [category::CategoryBoard]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    style_control: Option<&'a StyleControl>,
}

/// The run `--run` names: resolved against the data dir's runs when it names one
/// there, else taken as a run id as it is, so logs pooled from other machines filter
/// too. Returns the id and how to name it to the user.
fn run_filter(data_dir: &Path, wanted: &str, records: &[VoteRecord]) -> (String, String) {
    match Run::find(data_dir, wanted) {
        Ok(run) if run.info.id == wanted => (run.info.id, sanitize(wanted)),
        Ok(run) => {
            let label = format!("{} ({})", sanitize(wanted), sanitize(&run.info.id));
            (run.info.id, label)
        }
        Err(why) => {
            if !records.iter().any(|r| r.run.as_deref() == Some(wanted)) {
                say!("no vote here is on a run {wanted:?}, and the data dir has none such: {why}");
            }
            (wanted.to_owned(), sanitize(wanted))
        }
    }
}

/// `duel stats`; `global` gives `--plot` the theme; `demo`: the demo's own log.
pub fn stats(args: &StatsArgs, data_dir: &Path, global: &Global, demo: bool) -> anyhow::Result<u8> {
    let named = !args.logs.is_empty();
    // A run of the demo models has its votes in the demo's log, `--demo` or not.
    let demo = demo
        || !named
            && args
                .run
                .as_deref()
                .and_then(|wanted| Run::find(data_dir, wanted).ok())
                .is_some_and(|run| run.is_demo());
    let paths = if named {
        args.logs.clone()
    } else {
        vec![data_dir.join(log::file_name(demo))]
    };
    if !named {
        reading_demo(demo);
    }
    let mut loaded = load(&paths, named)?;
    if !named && !demo {
        loaded.records = without_demo(loaded.records);
    }
    let total = loaded.records.len();
    let all_judges = judges(&loaded.records);
    // A vote on a failed side is no battle: left out of every figure below (ratings,
    // bias, agreement, the decision, each view of them) unless asked to keep it.
    let before_failed = loaded.records.len();
    if !args.include_failed {
        loaded.records.retain(|r| !r.failed());
    }
    let failed_left_out = before_failed - loaded.records.len();
    let run = args
        .run
        .as_deref()
        .map(|wanted| run_filter(data_dir, wanted, &loaded.records));
    let categories: BTreeSet<String> = loaded.records.iter().flat_map(category::of).collect();
    let records: Vec<VoteRecord> = loaded
        .records
        .into_iter()
        .filter(|r| args.judge.as_ref().is_none_or(|j| &r.judge == j))
        .filter(|r| !args.blind_only || r.blind)
        .filter(|r| {
            run.as_ref()
                .is_none_or(|(id, _)| r.run.as_ref() == Some(id))
        })
        .filter(|r| {
            args.category
                .as_deref()
                .is_none_or(|c| category::matches(r, c))
        })
        .collect();
    let board = leaderboard(&records, args.bootstrap);
    let judges = judges(&records);
    let trust = args.agreement.then(|| trust::trust(&records));
    let decision = decide::pair(&board, &args.pair).map_err(super::UsageError)?;
    let columns = columns();
    let by_category = args
        .by_category
        .then(|| category::boards(&records, args.bootstrap));
    let style = args
        .style_control
        .then(|| style::fit(&records, args.bootstrap));
    let run_label = run.map(|(_, label)| label);
    let filters = filters(args, run_label.as_deref());

    if let Some(path) = &args.html {
        let page = html::Page {
            board: &board,
            source: &html::source_of(&paths),
            filters: filters.as_deref(),
            total,
            style: style.as_ref().map(|s| {
                html::StyleFigures::new(
                    s.models
                        .iter()
                        .map(|m| (m.model.as_str(), m.rating, m.ci_low, m.ci_high)),
                    s.coefficients
                        .iter()
                        .map(|c| (c.feature, c.value, c.ci_low, c.ci_high)),
                )
            }),
            decision: decision.as_ref(),
            made: &html::now(),
        };
        html::write(path, &html::page(&page))
            .with_context(|| format!("writing {}", path.display()))?;
        say!("wrote the page to {}", path.display());
    }

    let mut out = io::stdout().lock();
    if args.json {
        let json = StatsJson {
            votes: board.votes,
            skipped_lines: loaded.skipped_lines,
            failed_left_out,
            models: &board.models,
            position_bias: &board.position_bias,
            judges: &judges,
            matrix: args.matrix.then_some(&board.matrix),
            agreement: trust.as_ref().map(|t| t.agreement.as_slice()),
            judges_consistency: trust.as_ref().map(|t| t.consistency.as_slice()),
            // SPEC §6's shape stays as it is unless a pair is asked for.
            decision: decision.as_ref().filter(|_| !args.pair.is_empty()),
            by_category: by_category.as_deref(),
            style_control: style.as_ref(),
        };
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
        return Ok(0);
    }
    let text = if records.is_empty() {
        let mut text = empty_message(filters.as_deref(), &paths, total, &categories, args);
        if let Some(judge) = args.judge.as_deref()
            && !all_judges.iter().any(|j| j.judge == judge)
        {
            let list: Vec<String> = all_judges
                .iter()
                .map(|j| {
                    format!(
                        "{} ({})",
                        sanitize(&j.judge),
                        count(j.votes, "vote", "votes")
                    )
                })
                .collect();
            if list.is_empty() {
                text.push_str("No judge has a vote in these logs.\n");
            } else {
                let _ = writeln!(
                    text,
                    "No vote here is by judge {}. Judges in these logs: {}.",
                    sanitize(judge),
                    list.join(", ")
                );
            }
        }
        if failed_left_out > 0 {
            text.push_str(&failed_line(failed_left_out));
        }
        text
    } else {
        let mut text = String::new();
        let source = match paths.as_slice() {
            [one] => one.display().to_string(),
            many => format!("{} logs", many.len()),
        };
        let _ = writeln!(text, "{}", headline(&board, &source));
        if let Some(filters) = &filters {
            let _ = writeln!(
                text,
                "(only {filters}: {} of {})",
                thousands(records.len()),
                count(total, "vote", "votes")
            );
        }
        if failed_left_out > 0 {
            text.push_str(&failed_line(failed_left_out));
        }
        if loaded.duplicates > 0 {
            let _ = writeln!(
                text,
                "({} across the logs counted once)",
                count(loaded.duplicates, "duplicate record", "duplicate records")
            );
        }
        if loaded.skipped_lines > 0 {
            let _ = writeln!(
                text,
                "({} skipped; see the warnings above)",
                count(loaded.skipped_lines, "unreadable line", "unreadable lines")
            );
        }
        text.push('\n');
        text.push_str(&render(&board, &judges, args.matrix));
        if args.plot {
            text.push('\n');
            text.push_str(&plot::for_stdout(&board, global, columns));
            if !board.models.is_empty() {
                text.push_str(&plot::reading(&board));
            }
        }
        if let Some(decision) = &decision {
            text.push('\n');
            text.push_str(&decide::render(decision, &board));
        }
        if let Some(style) = &style {
            text.push('\n');
            text.push_str(&style::render(style, &board));
        }
        if let Some(boards) = &by_category {
            text.push_str(&category::render(boards));
        }
        if let Some(trust) = &trust {
            text.push('\n');
            text.push_str(&agreement::render(trust, args.judge.as_deref()));
        }
        text
    };
    write!(out, "{}", wrap_prose(&text, columns))?;
    Ok(0)
}

/// The line that says how many votes on a failed side were left out.
fn failed_line(n: usize) -> String {
    format!(
        "({} where a side failed, was stopped or was filtered left out; --include-failed keeps {})\n",
        count(n, "vote", "votes"),
        if n == 1 { "it" } else { "them" }
    )
}

/// The width stats writes to: `COLUMNS` when set, else the terminal's when stdout is
/// one, else [`plot::PIPED_WIDTH`].
pub(crate) fn columns() -> usize {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    if io::stdout().is_terminal() {
        crossterm::terminal::size().map_or(plot::PIPED_WIDTH, |(w, _)| usize::from(w))
    } else {
        plot::PIPED_WIDTH
    }
}

/// `text` with its prose wrapped at word boundaries to `columns`, each wrapped line
/// keeping its indent (two more on an indented line or after `* `, six after `Note: `). Table rows and
/// chart lines, the lines with a run of two spaces past their indent (prose never has
/// one), are left as they are.
pub(crate) fn wrap_prose(text: &str, columns: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let indent = body.len() - body.trim_start().len();
        let fixed = body.trim_start().contains("  ");
        if fixed || width(body) <= columns {
            out.push_str(line);
            continue;
        }
        let rest = body.trim_start();
        let hang = indent
            + if rest.starts_with("* ") || indent > 0 {
                2
            } else if rest.starts_with("Note: ") {
                6
            } else {
                0
            };
        let mut first = true;
        let room = columns.saturating_sub(hang).max(20);
        let first_room = columns.saturating_sub(indent).max(20);
        let mut current = String::new();
        let mut limit = first_room;
        for word in rest.split(' ') {
            if !current.is_empty() && width(&current) + 1 + width(word) > limit {
                out.push_str(&" ".repeat(if first { indent } else { hang }));
                out.push_str(&current);
                out.push('\n');
                current.clear();
                first = false;
                limit = room;
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        out.push_str(&" ".repeat(if first { indent } else { hang }));
        out.push_str(&current);
        out.push_str(end);
    }
    out
}

/// `x` to `places` decimals, never `-0.00`: a value that rounds to zero is `0.00`;
/// with `sign`, a `+` before a positive one.
pub(crate) fn fixed(x: f64, places: usize, sign: bool) -> String {
    let scale = 10f64.powi(i32::try_from(places).unwrap_or(0));
    let rounded = (x * scale).round() / scale;
    let rounded = if rounded == 0.0 { 0.0 } else { rounded };
    match (sign, rounded) {
        (true, r) if r > 0.0 => format!("+{r:.places$}"),
        (_, r) => format!("{r:.places$}"),
    }
}

/// The filters in force, in words, if any; `run` is how to name `--run`'s run.
fn filters(args: &StatsArgs, run: Option<&str>) -> Option<String> {
    let mut filters = Vec::new();
    if let Some(j) = &args.judge {
        filters.push(format!("judge {}", sanitize(j)));
    }
    if args.blind_only {
        filters.push("blind votes".to_owned());
    }
    if let Some(run) = run {
        filters.push(format!("run {run}"));
    }
    if let Some(c) = &args.category {
        filters.push(format!("category {}", sanitize(c)));
    }
    (!filters.is_empty()).then(|| filters.join(", "))
}

fn empty_message(
    filters: Option<&str>,
    paths: &[PathBuf],
    total: usize,
    categories: &BTreeSet<String>,
    args: &StatsArgs,
) -> String {
    if let (true, Some(filters)) = (total > 0, filters) {
        let mut text = format!("None of the {total} votes is left after the filter ({filters}).\n");
        if args.category.is_some() {
            let known: Vec<String> = categories.iter().map(|c| sanitize(c)).collect();
            if known.is_empty() {
                text.push_str("No vote in these logs has a category.\n");
            } else {
                let _ = writeln!(text, "Categories in these logs: {}.", known.join(", "));
            }
        }
        return text;
    }
    let place = match paths {
        [one] => one.display().to_string(),
        _ => "these logs".to_owned(),
    };
    let duel = crate::config::duel_command(paths.iter().any(|p| p.ends_with(log::DEMO_FILE_NAME)));
    format!(
        "No votes yet in {place}.\n\
         Vote in the TUI (Alt+1…Alt+4 while typing, 1…4 in browse mode), then run `{duel} stats` again.\n"
    )
}

fn headline(board: &Leaderboard, source: &str) -> String {
    let battles: u32 = board.models.iter().map(|m| m.battles).sum::<u32>() / 2;
    format!(
        "Leaderboard from {}: {}, {} between {} (95% intervals from {})",
        sanitize(source),
        count(board.votes, "vote", "votes"),
        count(battles as usize, "battle", "battles"),
        count(board.models.len(), "model", "models"),
        count(board.rounds as usize, "bootstrap round", "bootstrap rounds")
    )
}

/// The text of `duel stats` below the headline: table, notes, position bias, judges,
/// and the matrix when asked. Pure, so tests can read it.
pub(crate) fn render(board: &Leaderboard, judges: &[JudgeCount], matrix: bool) -> String {
    let mut text = String::new();
    if board.models.is_empty() {
        text.push_str("No battles between two different models yet.\n");
    } else {
        text.push_str(&table(board));
    }
    if board.models.iter().any(ModelStats::few_battles) {
        let _ = writeln!(
            text,
            "* fewer than {FEW_BATTLES} battles: a rough rating with a wide interval, or \
             none below {MIN_INTERVAL_BATTLES} (too few votes)"
        );
    }
    text.push('\n');
    let _ = writeln!(text, "{}", position_line(&board.position_bias));
    if judges.len() > 1 {
        let list: Vec<String> = judges
            .iter()
            .map(|j| format!("{} {}", sanitize(&j.judge), thousands(j.votes)))
            .collect();
        let _ = writeln!(text, "Votes per judge: {}", list.join(", "));
    }
    if matrix && !board.models.is_empty() {
        text.push('\n');
        text.push_str(&matrix_table(&board.matrix));
    }
    text
}

fn table(board: &Leaderboard) -> String {
    let header = [
        "RANK", "MODEL", "RATING", "95% CI", "BATTLES", "WINS", "TIES", "LOSSES", "WIN RATE",
    ]
    .map(String::from)
    .to_vec();
    let mut rows = vec![header];
    for m in &board.models {
        let mut row = rank_cells(m).to_vec();
        row.extend([
            thousands(m.battles as usize),
            thousands(m.wins as usize),
            thousands(m.ties as usize),
            thousands(m.losses as usize),
            format!("{:.1}%", 100.0 * m.win_rate),
        ]);
        rows.push(row);
    }
    // Only the model name reads from the left; numbers line up on the right.
    layout(&rows, &|c| c == 1)
}

/// A model's rank, name (`*` when its battles are few), rating and interval, as the
/// leaderboards print them.
fn rank_cells(m: &ModelStats) -> [String; 4] {
    let name = sanitize(&m.model);
    [
        m.rank.to_string(),
        if m.few_battles() {
            format!("{name} *")
        } else {
            name
        },
        format!("{:.0}", m.rating.round()),
        interval_cell(m.rating, m.interval()),
    ]
}

/// An interval as the tables print it, `-48/+63` from the rating, or `too few votes`
/// for a model without one.
pub(crate) fn interval_cell(rating: f64, interval: Option<(f64, f64)>) -> String {
    let rating = rating.round();
    match interval {
        Some((low, high)) => format!(
            "-{:.0}/+{:.0}",
            (rating - low.round()).max(0.0),
            (high.round() - rating).max(0.0)
        ),
        None => TOO_FEW.to_owned(),
    }
}

/// What stands for an interval that the votes are too few to give.
pub(crate) const TOO_FEW: &str = "too few votes";

fn position_line(bias: &PositionBias) -> String {
    let (Some(rate), Some(low), Some(high)) = (bias.a_rate, bias.ci_low, bias.ci_high) else {
        return "Position bias: no decisive (A or B) votes yet.".to_owned();
    };
    let verdict = match bias.favoured() {
        Some(side) => format!("you favour side {side}"),
        None => "no clear side bias".to_owned(),
    };
    format!(
        "Position bias: A won {:.0}% of {} (95% CI {:.0}–{:.0}%): {verdict}.",
        100.0 * rate,
        count(
            (bias.a_wins + bias.b_wins) as usize,
            "decisive vote",
            "decisive votes"
        ),
        100.0 * low,
        100.0 * high
    )
}

fn matrix_table(matrix: &Matrix) -> String {
    let mut text = String::from(
        "Pairwise win fraction (row against column; ties count half; battles in brackets; — never met)\n",
    );
    let names: Vec<String> = matrix.models.iter().map(|m| sanitize(m)).collect();
    let mut rows = vec![
        std::iter::once(String::new())
            .chain(names.iter().cloned())
            .collect::<Vec<_>>(),
    ];
    for (r, name) in names.iter().enumerate() {
        let mut row = vec![name.clone()];
        for c in 0..names.len() {
            row.push(match matrix.win_fraction[r][c] {
                _ if r == c => "·".to_owned(),
                Some(f) => format!("{:.0}% ({})", 100.0 * f, matrix.battles[r][c]),
                None => "—".to_owned(),
            });
        }
        rows.push(row);
    }
    text.push_str(&layout(&rows, &|c| c == 0));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Finish, Vote};
    use crate::votes::SideRecord;
    use crate::votes::log;

    fn side(model: &str) -> SideRecord {
        SideRecord {
            history: Some(Vec::new()),
            ..SideRecord::sample(model, "x", Finish::Stop)
        }
    }

    fn record(a: &str, b: &str, vote: Vote, judge: &str) -> VoteRecord {
        VoteRecord {
            schema: 1,
            id: uuid::Uuid::new_v4(),
            time: "2026-11-23T18:53:46.123Z".into(),
            conversation: uuid::Uuid::new_v4(),
            turn: 1,
            attempt: 1,
            vote,
            blind: judge == "bob",
            judge: judge.into(),
            prompt: "p".into(),
            a: side(a),
            b: side(b),
            run: None,
            item: None,
            category: None,
            reason: None,
            verdicts: None,
        }
    }

    fn write_log(path: &Path, records: &[VoteRecord]) {
        for r in records {
            log::append(path, r).unwrap();
        }
    }

    #[test]
    fn logs_merge_and_count_a_shared_record_once() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (dir.path().join("one.jsonl"), dir.path().join("two.jsonl"));
        let shared = record("x", "y", Vote::A, "alice");
        write_log(&one, &[shared.clone(), record("x", "y", Vote::B, "alice")]);
        write_log(&two, &[record("y", "x", Vote::Tie, "bob"), shared.clone()]);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&two)
            .unwrap()
            .write_all(b"{torn\n")
            .unwrap();
        let loaded = load(&[one, two], true).unwrap();
        assert_eq!(loaded.records.len(), 3);
        assert_eq!(loaded.duplicates, 1);
        assert_eq!(loaded.skipped_lines, 1);
        assert_eq!(
            loaded.records.iter().filter(|r| r.id == shared.id).count(),
            1
        );
        assert!(load(&[dir.path().join("nope.jsonl")], true).is_err());
        assert!(
            load(&[dir.path().join("nope.jsonl")], false)
                .unwrap()
                .records
                .is_empty()
        );
    }

    #[test]
    fn judges_are_counted_most_first() {
        let records = [
            record("x", "y", Vote::A, "bob"),
            record("x", "y", Vote::A, "alice"),
            record("x", "y", Vote::B, "bob"),
        ];
        let j = judges(&records);
        assert_eq!(
            j,
            [
                JudgeCount {
                    judge: "bob".into(),
                    votes: 2
                },
                JudgeCount {
                    judge: "alice".into(),
                    votes: 1
                }
            ]
        );
    }

    #[test]
    fn the_text_marks_few_battles_and_reports_bias_and_judges() {
        let mut records = Vec::new();
        for i in 0..30 {
            let vote = if i % 3 == 0 { Vote::B } else { Vote::A };
            records.push(record("qwen-plus", "ernie-4.5", vote, "alice"));
        }
        records.push(record("tiny", "qwen-plus", Vote::B, "bob"));
        let board = leaderboard(&records, 100);
        let text = render(&board, &judges(&records), true);
        assert!(text.contains("RANK  MODEL"), "{text}");
        assert!(text.contains("tiny *"), "{text}");
        assert!(text.contains("* fewer than 10 battles"), "{text}");
        assert!(
            text.contains("Position bias: A won 65% of 31 decisive votes"),
            "{text}"
        );
        assert!(text.contains("Votes per judge: alice 30, bob 1"), "{text}");
        assert!(text.contains("Pairwise win fraction"), "{text}");
        assert!(text.contains("67% (30)"), "{text}");
    }
}
