//! `duel stats`: the leaderboard from the vote log(s). Needs no config file, provider
//! or API key. Every figure is the [`Report`] core builds; this module and its own
//! (the text, `--plot`, `--html`, `--json`) only print it.

mod agreement;
mod category;
mod decide;
pub mod html;
pub mod plot;
mod style;

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::path::Path;

use anyhow::Context as _;

use super::{demo_left_out, layout, reading_demo, warn_skipped};
use crate::cli::{Global, StatsArgs};
use std::sync::Arc;

use crate::cost::Prices;
use crate::eval::run::Run;
use crate::say;
use crate::text::sanitize;
use crate::text::width;
pub(crate) use crate::text::{count, thousands};
use crate::votes::log;
use crate::votes::rating::{
    FEW_BATTLES, Leaderboard, MIN_INTERVAL_BATTLES, Matrix, ModelStats, PositionBias,
};
use crate::votes::report::{Filters, JudgeCount, Query, Report, ReportError};
use duel_core::store::Store;

/// `duel stats`; `global` gives `--plot` the theme; `demo`: the demo's own log.
pub fn stats(
    args: &StatsArgs,
    data_dir: &Path,
    global: &Global,
    demo: bool,
    prices: &Prices,
    team: Option<Arc<dyn Store>>,
) -> anyhow::Result<u8> {
    // The logs named on the command line are read as files, store or not.
    let team = team.filter(|_| args.logs.is_empty());
    if let (Some(store), Some(wanted)) = (&team, &args.run) {
        // The run's folder, for its name and `--checks`: copied from the store.
        let _ = crate::store::find_run(Some(&**store), data_dir, wanted);
    }
    let asked = query(args, data_dir, demo);
    // The demo's votes (`--demo`, or a run of the demo models) are never in a store.
    let store = team.filter(|_| asked.without_demo);
    let query = Query {
        prices: prices.clone(),
        store,
        ..asked
    };
    let report = Report::build(&query, data_dir).map_err(|e| match e {
        ReportError::Usage(why) => anyhow::Error::new(super::UsageError(why)),
        other => other.into(),
    })?;
    warn_skipped(&report.read.skipped);
    demo_left_out(report.read.demo_left_out);
    if let Some(run) = &report.filters.run
        && let Some(why) = &run.unknown
    {
        say!(
            "no vote here is on a run {:?}, and the data dir has none such: {why}",
            run.asked
        );
    }
    if let Some(path) = &args.html {
        write_page(&report, path)?;
    }
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(0);
    }
    let columns = columns();
    let text = if report.votes == 0 {
        empty_message(&report)
    } else {
        let mut text = summary(&report);
        if args.plot {
            text.push_str(&plots(&report, global, columns));
        }
        text.push_str(&sections(&report, args.judge.as_deref()));
        text.push_str(&spend(&report, prices));
        text
    };
    write!(out, "{}", wrap_prose(&text, columns))?;
    if let Some(checks) = &report.checks {
        writeln!(out, "\nChecks on run {}:", checks.run)?;
        super::check::print_report(&mut out, checks)?;
    }
    Ok(0)
}

/// Where models have prices: what each one's answers in these battles cost, per
/// battle won.
fn spend(report: &Report, prices: &Prices) -> String {
    let Some(spend) = &report.spend else {
        return String::new();
    };
    let each: Vec<String> = spend
        .iter()
        .map(|s| match s.cost {
            Some(cost) => format!(
                "{} {} a battle won ({} over {}, {} won)",
                sanitize(&s.model),
                prices.show(s.per_win),
                prices.show(Some(cost)),
                count(s.battles, "battle", "battles"),
                s.won
            ),
            None => format!("{} — (no price)", sanitize(&s.model)),
        })
        .collect();
    format!(
        "\nCost per battle won (a tie counts half): {}.\n",
        each.join(" · ")
    )
}

/// `--html FILE`: the report as one page.
fn write_page(report: &Report, path: &Path) -> anyhow::Result<()> {
    let filters = filters(&report.filters);
    let page = html::Page {
        board: &report.board,
        source: &html::source_of(&report.read.logs),
        filters: filters.as_deref(),
        total: report.read.votes,
        style: report.style_control.as_ref().map(|s| {
            html::StyleFigures::new(
                s.models
                    .iter()
                    .map(|m| (m.model.as_str(), m.rating, m.ci_low, m.ci_high)),
                s.coefficients
                    .iter()
                    .map(|c| (c.feature, c.value, c.ci_low, c.ci_high)),
            )
        }),
        decision: report.decision.as_ref(),
        checks: report.checks.as_ref(),
        made: &html::now(),
    };
    html::write(path, &html::page(&page)).with_context(|| format!("writing {}", path.display()))?;
    say!("wrote the page to {}", path.display());
    Ok(())
}

/// What `args` ask of the report: the logs (the named ones, else the data dir's own
/// or, for `--demo` or a run of the demo models, the demo's), the filters, the
/// sections. Says first when it reads the demo's log.
fn query(args: &StatsArgs, data_dir: &Path, demo: bool) -> Query {
    let named = !args.logs.is_empty();
    // A run of the demo models has its votes in the demo's log, `--demo` or not.
    let demo = demo
        || !named
            && args
                .run
                .as_deref()
                .and_then(|wanted| Run::find(data_dir, wanted).ok())
                .is_some_and(|run| run.is_demo());
    let logs = if named {
        args.logs.clone()
    } else {
        reading_demo(demo);
        vec![data_dir.join(log::file_name(demo))]
    };
    Query {
        logs,
        named,
        without_demo: !named && !demo,
        include_failed: args.include_failed,
        judge: args.judge.clone(),
        blind_only: args.blind_only,
        run: args.run.clone(),
        category: args.category.clone(),
        rounds: args.bootstrap,
        matrix: args.matrix,
        agreement: args.agreement,
        style_control: args.style_control,
        by_category: args.by_category,
        pair: args.pair.clone(),
        checks: args.checks,
        prices: Prices::default(),
        store: None,
    }
}

/// The top of `duel stats`: the headline, what was read and left out, and the
/// leaderboard with its notes.
fn summary(report: &Report) -> String {
    let mut text = String::new();
    let read = &report.read;
    let source = match read.logs.as_slice() {
        [one] => one.display().to_string(),
        many => format!("{} logs", many.len()),
    };
    let _ = writeln!(text, "{}", headline(&report.board, &source));
    if let Some(filters) = filters(&report.filters) {
        let _ = writeln!(
            text,
            "(only {filters}: {} of {})",
            thousands(report.votes),
            count(read.votes, "vote", "votes")
        );
    }
    if read.failed_left_out > 0 {
        text.push_str(&failed_line(read.failed_left_out));
    }
    if read.duplicates > 0 {
        let _ = writeln!(
            text,
            "({} across the logs counted once)",
            count(read.duplicates, "duplicate record", "duplicate records")
        );
    }
    if !read.skipped.is_empty() {
        let _ = writeln!(
            text,
            "({} skipped; see the warnings above)",
            count(read.skipped.len(), "unreadable line", "unreadable lines")
        );
    }
    text.push('\n');
    text.push_str(&render(&report.board, &report.judges, report.matrix));
    text
}

/// `--plot`'s chart and how to read it, to follow the table.
fn plots(report: &Report, global: &Global, columns: usize) -> String {
    let mut text = String::from("\n");
    text.push_str(&plot::for_stdout(&report.board, global, columns));
    if !report.board.models.is_empty() {
        text.push_str(&plot::reading(&report.board));
    }
    text
}

/// The sections under the leaderboard (and the chart): the decision, style control, the boards per
/// category, judge agreement; each when the report has it.
fn sections(report: &Report, only_judge: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(decision) = &report.decision {
        text.push('\n');
        text.push_str(&decide::render(decision, &report.board));
    }
    if let Some(style) = &report.style_control {
        text.push('\n');
        text.push_str(&style::render(style, &report.board));
    }
    if let Some(boards) = &report.by_category {
        text.push_str(&category::render(boards));
    }
    if let Some(agreement) = &report.agreement {
        text.push('\n');
        text.push_str(&agreement::render(
            &agreement.trust,
            &agreement.doubts,
            only_judge,
        ));
    }
    text
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

/// The filters in force, in words, if any.
pub(crate) fn filters(filters: &Filters) -> Option<String> {
    let mut words = Vec::new();
    if let Some(j) = &filters.judge {
        words.push(format!("judge {}", sanitize(j)));
    }
    if filters.blind_only {
        words.push("blind votes".to_owned());
    }
    if let Some(run) = &filters.run {
        if run.id == run.asked {
            words.push(format!("run {}", sanitize(&run.asked)));
        } else {
            words.push(format!(
                "run {} ({})",
                sanitize(&run.asked),
                sanitize(&run.id)
            ));
        }
    }
    if let Some(c) = &filters.category {
        words.push(format!("category {}", sanitize(c)));
    }
    (!words.is_empty()).then(|| words.join(", "))
}

/// What stats says when no vote is left: none yet, or none after the filters (and
/// which judges and categories the logs do have).
fn empty_message(report: &Report) -> String {
    let read = &report.read;
    let mut text = match filters(&report.filters) {
        Some(filters) if read.votes > 0 => {
            let mut text = format!(
                "None of the {} votes is left after the filter ({filters}).\n",
                read.votes
            );
            if report.filters.category.is_some() {
                let known: Vec<String> = read.categories.iter().map(|c| sanitize(c)).collect();
                if known.is_empty() {
                    text.push_str("No vote in these logs has a category.\n");
                } else {
                    let _ = writeln!(text, "Categories in these logs: {}.", known.join(", "));
                }
            }
            text
        }
        _ => no_votes_yet(&read.logs),
    };
    if let Some(judge) = report.filters.judge.as_deref()
        && !read.judges.iter().any(|j| j.judge == judge)
    {
        text.push_str(&no_such_judge(judge, &read.judges));
    }
    if read.failed_left_out > 0 {
        text.push_str(&failed_line(read.failed_left_out));
    }
    text
}

fn no_votes_yet(logs: &[std::path::PathBuf]) -> String {
    let place = match logs {
        [one] => one.display().to_string(),
        _ => "these logs".to_owned(),
    };
    let duel = crate::config::duel_command(logs.iter().any(|p| p.ends_with(log::DEMO_FILE_NAME)));
    format!(
        "No votes yet in {place}.\n\
         Vote in the TUI (Alt+1…Alt+4 while typing, 1…4 in browse mode), then run `{duel} stats` again.\n"
    )
}

fn no_such_judge(judge: &str, judges: &[JudgeCount]) -> String {
    if judges.is_empty() {
        return "No judge has a vote in these logs.\n".to_owned();
    }
    let list: Vec<String> = judges
        .iter()
        .map(|j| {
            format!(
                "{} ({})",
                sanitize(&j.judge),
                count(j.votes, "vote", "votes")
            )
        })
        .collect();
    format!(
        "No vote here is by judge {}. Judges in these logs: {}.\n",
        sanitize(judge),
        list.join(", ")
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
    use crate::domain::Vote;
    use crate::votes::VoteRecord;
    use crate::votes::report::{judges, leaderboard};

    fn record(a: &str, b: &str, vote: Vote, judge: &str) -> VoteRecord {
        VoteRecord::sample(a, b, vote, judge)
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
