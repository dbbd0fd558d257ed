//! `duel stats --html FILE`: one self-contained page to share with a team: the
//! leaderboard, the intervals as an SVG chart, the win matrix as a heat map, position
//! bias, the filters in force and, when given, the style-control figures and a run's
//! checks. Inline CSS and SVG only: no script, font or address to fetch, so it opens
//! without a network.
//! Everything that comes from the log is escaped.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use super::plot::{Axis, READING, label};
use super::style::signed;
use super::{TOO_FEW, decide, fixed, headline, position_line, thousands};
use crate::commands::report::Part;
use crate::cost::Prices;
use crate::eval::check::record::ChecksReport;
use crate::eval::verdict::RunReport;
use crate::text::sanitize;
use crate::votes::decide::Decision;
use crate::votes::rating::{FEW_BATTLES, Leaderboard, Matrix, PositionBias};

/// (model, rating, ci_low, ci_high); the bounds `None` for too few votes.
pub type StyleModel = (String, f64, Option<f64>, Option<f64>);
/// (feature, value, ci_low, ci_high); `None` for a feature that never varied.
pub type StyleCoefficient = (String, Option<f64>, Option<f64>, Option<f64>);

/// The style-controlled figures, when `--style-control` computed them: each model's
/// rating with style held equal, and each style feature's coefficient (log odds per
/// normalised unit; `None` for a feature that never varied).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StyleFigures {
    /// Best first.
    pub models: Vec<StyleModel>,
    pub coefficients: Vec<StyleCoefficient>,
}

impl StyleFigures {
    /// From any rows of those shapes, e.g. a fit's models and coefficients mapped to
    /// tuples.
    pub fn new<M, B, C>(
        models: impl IntoIterator<Item = (M, f64, B, B)>,
        coefficients: impl IntoIterator<Item = (C, Option<f64>, Option<f64>, Option<f64>)>,
    ) -> Self
    where
        M: Into<String>,
        B: Into<Option<f64>>,
        C: Into<String>,
    {
        StyleFigures {
            models: models
                .into_iter()
                .map(|(m, r, l, h)| (m.into(), r, l.into(), h.into()))
                .collect(),
            coefficients: coefficients
                .into_iter()
                .map(|(c, v, l, h)| (c.into(), v, l, h))
                .collect(),
        }
    }
}

/// What the page shows.
pub struct Page<'a> {
    pub board: &'a Leaderboard,
    /// The log or logs read, as the headline names them.
    pub source: &'a str,
    /// The filters in force, in words (`None`: every vote).
    pub filters: Option<&'a str>,
    /// Votes in the logs before the filters.
    pub total: usize,
    /// `--style-control`'s figures, shown in a section of their own when given.
    pub style: Option<StyleFigures>,
    /// "Enough to decide?" for the top two models or `--pair`, as the text says it.
    pub decision: Option<&'a Decision>,
    /// `--checks`: the run's pass rates, in a section of their own.
    pub checks: Option<&'a ChecksReport>,
    /// When the page was made, for its footer.
    pub made: &'a str,
}

/// The logs as a shared page names them: by file name, since a full path would tell
/// everyone the reader's folders (and user name).
pub(super) fn source_of(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths
        .iter()
        .map(|p| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect();
    match names.as_slice() {
        [one] => one.clone(),
        few if few.len() <= 3 => few.join(", "),
        many => format!("{} logs", many.len()),
    }
}

/// `s` safe as HTML text and inside a quoted attribute, control characters made
/// visible first.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in sanitize(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --dim: #656d76;
  --line: #d0d7de; --bar: #0969da; --top: #1a7f37; --rough: #9a6700; --self: #eaeef2; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --bg: #0d1117; --dim: #8d96a0; --line: #30363d;
    --bar: #58a6ff; --top: #3fb950; --rough: #d29922; --self: #21262d; }
}
body { font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif; color: var(--fg);
  background: var(--bg); max-width: 62rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin-top: 2.2rem; border-bottom: 1px solid var(--line); }
.dim, .note, footer { color: var(--dim); }
.note { font-size: .9rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { padding: .3rem .65rem; border-bottom: 1px solid var(--line); text-align: left; }
th { font-weight: 600; font-size: .8rem; letter-spacing: .03em; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
dl { display: grid; grid-template-columns: max-content auto; gap: .15rem 1rem; }
dt { color: var(--dim); }
dd { margin: 0; }
svg { display: block; max-width: 100%; height: auto; }
svg text { fill: var(--fg); font: 12px system-ui, sans-serif; }
svg .axis text { fill: var(--dim); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .ci { stroke: var(--bar); stroke-width: 3; stroke-linecap: round; }
svg .top .ci { stroke: var(--top); }
svg .rough .ci { stroke: var(--rough); stroke-dasharray: 4 3; }
svg .point { fill: var(--fg); }
svg .even { stroke: var(--dim); stroke-dasharray: 3 3; }
.legend { font-size: .9rem; color: var(--dim); }
.legend svg { display: inline; vertical-align: middle; margin: 0 .3rem 0 1rem; }
.legend svg:first-child { margin-left: 0; }
table.heat td { text-align: center; min-width: 4.2rem; font-variant-numeric: tabular-nums; }
table.heat td small { display: block; font-size: .7rem; opacity: .75; }
table.heat td.self { background: var(--self); }
table.heat th.row { text-align: right; }
.scale { display: inline-block; width: 12rem; height: .8rem; vertical-align: middle;
  border: 1px solid var(--line);
  background: linear-gradient(to right, rgb(230,97,1), rgb(247,247,247), rgb(33,102,172)); }
footer { margin-top: 3rem; font-size: .85rem; border-top: 1px solid var(--line); padding-top: .5rem; }
";

/// The whole page. Pure, so tests can read it.
pub fn page(p: &Page<'_>) -> String {
    let board = p.board;
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>duel leaderboard</title>\n",
    );
    let _ = writeln!(html, "<style>{STYLE}</style>\n</head>\n<body>");
    html.push_str("<h1>duel leaderboard</h1>\n");
    let _ = writeln!(
        html,
        "<p class=\"dim\">{}</p>",
        escape(&headline(board, p.source))
    );
    html.push_str(&facts(p));

    html.push_str("<h2>Ratings</h2>\n");
    if board.models.is_empty() {
        html.push_str("<p>No battles between two different models yet.</p>\n");
    } else {
        html.push_str(&table(board));
        let rows: Vec<Row> = board
            .models
            .iter()
            .map(|m| Row {
                name: label(m),
                rating: m.rating,
                interval: m.interval(),
                class: match m.rank {
                    _ if m.battles < FEW_BATTLES => "rough",
                    1 => "top",
                    _ => "",
                },
            })
            .collect();
        let _ = writeln!(
            html,
            "<p class=\"note\">The dot is the rating, the bar its 95% interval. {}</p>",
            escape(READING)
        );
        html.push_str(LEGEND);
        html.push_str(&intervals_svg(&rows));
    }

    if let Some(decision) = p.decision {
        html.push_str("<h2>Enough to decide?</h2>\n<div class=\"decision\">\n");
        // The text's own sentences, so the page never says more or less than it.
        for line in decide::render(decision, board).lines().skip(1) {
            let _ = writeln!(html, "<p>{}</p>", escape(line.trim()));
        }
        html.push_str("</div>\n");
    }

    html.push_str("<h2>Who beats whom</h2>\n");
    if board.models.len() < 2 {
        html.push_str("<p>No pairs yet.</p>\n");
    } else {
        html.push_str(&heat_map(&board.matrix));
    }

    html.push_str("<h2>Position bias</h2>\n");
    html.push_str(&bias(&board.position_bias));

    if let Some(style) = &p.style {
        html.push_str(&style_section(style, board));
    }

    if let Some(checks) = p.checks {
        html.push_str(&checks_section(checks));
    }

    let _ = writeln!(
        html,
        "<footer>Made by <code>duel stats --html</code> on {}. Ratings are a \
         Bradley–Terry fit on the Elo scale (400 points per factor of 10 in odds, mean \
         1000); ties and both-bad votes count half a win for each side. Intervals are the \
         2.5th to 97.5th percentile over {} bootstrap rounds; rank is 1 + the number of \
         models whose interval lies wholly above.</footer>\n</body>\n</html>",
        escape(p.made),
        board.rounds
    );
    html
}

/// `duel report --html`: the run's report as one page, with the same sections as the
/// text (a table or paragraphs each, the verdict first). Everything that comes
/// from the run or the log is escaped.
pub fn report_page(report: &RunReport, prices: &Prices) -> String {
    let title = escape(report.name.as_deref().unwrap_or(&report.run));
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>duel report: {title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Which one? Run {title}</h1>\n"
    );
    let _ = writeln!(
        html,
        "<p class=\"dim\">{} · {} items{} · {} votes by people, {} by model judges</p>",
        escape(&report.suite),
        report.items,
        report
            .category
            .as_ref()
            .map(|c| format!(" of category {}", escape(c)))
            .unwrap_or_default(),
        report.people_votes,
        report.judge_votes
    );
    // The text's own sections, the verdict first.
    let mut sections = crate::commands::report::sections(report, prices);
    if let Some(last) = sections.pop() {
        sections.insert(0, last);
    }
    for section in sections {
        let _ = writeln!(html, "<h2>{}</h2>", escape(&section.heading));
        match section.part {
            Part::Table(rows) => {
                html.push_str("<table class=\"board\">\n");
                for (i, row) in rows.iter().enumerate() {
                    let cell = if i == 0 { "th" } else { "td" };
                    html.push_str("<tr>");
                    for value in row {
                        let _ = write!(html, "<{cell}>{}</{cell}>", escape(value));
                    }
                    html.push_str("</tr>\n");
                }
                html.push_str("</table>\n");
            }
            Part::Lines(lines) => {
                for line in lines {
                    let _ = writeln!(html, "<p>{}</p>", escape(&line));
                }
            }
        }
    }
    let _ = writeln!(
        html,
        "<footer>Made by <code>duel report</code> on {}. Ratings are a Bradley–Terry fit \
         with 95% bootstrap intervals; pass rates have 95% Wilson intervals; the paired \
         test on checks is the exact McNemar test; costs are the recorded tokens at the \
         configured prices.</footer>\n</body>\n</html>",
        escape(&now())
    );
    html
}

/// The votes, where they come from, and the filters in force.
fn facts(p: &Page<'_>) -> String {
    let mut html = String::from("<dl>\n");
    let votes = match p.filters {
        Some(_) => format!(
            "{} of the {} in the logs",
            thousands(p.board.votes),
            thousands(p.total)
        ),
        None => thousands(p.board.votes),
    };
    let _ = writeln!(html, "<dt>Votes</dt><dd class=\"votes\">{votes}</dd>");
    let _ = writeln!(html, "<dt>Read from</dt><dd>{}</dd>", escape(p.source));
    let _ = writeln!(
        html,
        "<dt>Filters</dt><dd>{}</dd>",
        p.filters.map_or_else(
            || "none: every vote".to_owned(),
            |f| format!("only {}", escape(f))
        )
    );
    let _ = writeln!(
        html,
        "<dt>Intervals</dt><dd>95%, from {} bootstrap rounds</dd>",
        thousands(p.board.rounds as usize)
    );
    html.push_str("</dl>\n");
    html
}

fn table(board: &Leaderboard) -> String {
    let mut html = String::from(
        "<table class=\"board\">\n<thead><tr><th class=\"num\">RANK</th><th>MODEL</th>\
         <th class=\"num\">RATING</th><th class=\"num\">95% CI</th>\
         <th class=\"num\">BATTLES</th><th class=\"num\">WINS</th><th class=\"num\">TIES</th>\
         <th class=\"num\">LOSSES</th><th class=\"num\">WIN RATE</th></tr></thead>\n<tbody>\n",
    );
    for m in &board.models {
        let _ = writeln!(
            html,
            "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{:.0}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{:.1}%</td></tr>",
            m.rank,
            escape(&label(m)),
            m.rating.round(),
            span(m.interval()),
            thousands(m.battles as usize),
            thousands(m.wins as usize),
            thousands(m.ties as usize),
            thousands(m.losses as usize),
            100.0 * m.win_rate
        );
    }
    html.push_str("</tbody>\n</table>\n");
    if board.models.iter().any(|m| m.battles < FEW_BATTLES) {
        let _ = writeln!(
            html,
            "<p class=\"note\">* fewer than {FEW_BATTLES} battles: a rough rating with a wide \
             interval</p>"
        );
    }
    html
}

/// An interval as the page's tables show it, `990–1071`, or `too few votes`.
fn span(interval: Option<(f64, f64)>) -> String {
    match interval {
        Some((low, high)) => format!("{:.0}–{:.0}", low.round(), high.round()),
        None => TOO_FEW.to_owned(),
    }
}

/// What the colours and marks of the interval charts mean.
const LEGEND: &str = "<p class=\"legend\">\
<svg width=\"28\" height=\"10\"><g class=\"top\"><line class=\"ci\" x1=\"3\" x2=\"25\" y1=\"5\" y2=\"5\" style=\"stroke:var(--top);stroke-width:3\"/></g></svg>rank 1 (no model settled above it)\
<svg width=\"28\" height=\"10\"><line x1=\"3\" x2=\"25\" y1=\"5\" y2=\"5\" style=\"stroke:var(--bar);stroke-width:3\"/></svg>a lower rank\
<svg width=\"28\" height=\"10\"><line x1=\"3\" x2=\"25\" y1=\"5\" y2=\"5\" style=\"stroke:var(--rough);stroke-width:3;stroke-dasharray:4 3\"/></svg>fewer than 10 battles\
<svg width=\"14\" height=\"10\"><circle cx=\"7\" cy=\"5\" r=\"4\" style=\"fill:var(--fg)\"/></svg>the rating; alone: too few votes for an interval</p>\n";

/// One bar of an interval chart.
struct Row {
    name: String,
    rating: f64,
    interval: Option<(f64, f64)>,
    /// `top`, `rough` or nothing: the bar's colour.
    class: &'static str,
}

/// Pixels of the SVG charts.
const CHART_WIDTH: f64 = 760.0;
const ROW_HEIGHT: f64 = 26.0;

/// Ratings and intervals as an SVG chart, a row per model on a shared axis.
fn intervals_svg(rows: &[Row]) -> String {
    let points: Vec<(f64, f64, f64)> = rows
        .iter()
        .map(|r| {
            let (low, high) = r.interval.unwrap_or((r.rating, r.rating));
            (r.rating, low, high)
        })
        .collect();
    let axis = Axis::of(&points, 8);
    // Room for the names at about 7.5 pixels a cell, within reason.
    let widest = rows
        .iter()
        .map(|r| crate::text::width(&r.name))
        .max()
        .unwrap_or(0);
    let left = (widest as f64 * 7.5 + 16.0).clamp(80.0, 260.0);
    let right = CHART_WIDTH - 56.0;
    let height = ROW_HEIGHT * rows.len() as f64 + 40.0;
    let x = |v: f64| axis.position(v, left, right);
    let mut svg = format!(
        "<svg class=\"intervals\" viewBox=\"0 0 {CHART_WIDTH} {height}\" width=\"{CHART_WIDTH}\" \
         height=\"{height}\" role=\"img\" aria-label=\"Ratings with 95% intervals\">\n<g class=\"axis\">\n"
    );
    let bottom = ROW_HEIGHT * rows.len() as f64 + 8.0;
    for &t in &axis.ticks {
        let _ = writeln!(
            svg,
            "<line class=\"grid\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"4\" y2=\"{bottom:.1}\"/>\
             <text x=\"{0:.1}\" y=\"{1:.1}\" text-anchor=\"middle\">{t:.0}</text>",
            x(t),
            bottom + 16.0
        );
    }
    svg.push_str("</g>\n");
    for (i, r) in rows.iter().enumerate() {
        let y = ROW_HEIGHT * i as f64 + ROW_HEIGHT / 2.0 + 4.0;
        let name = escape(&r.name);
        // Too few votes for an interval: the dot alone.
        let bar = r.interval.map_or_else(String::new, |(low, high)| {
            format!(
                "<line class=\"ci\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>",
                x(low),
                x(high)
            )
        });
        let interval = match r.interval {
            Some(_) => format!("95% interval {}", span(r.interval)),
            None => TOO_FEW.to_owned(),
        };
        let _ = writeln!(
            svg,
            "<g class=\"row {class}\"><title>{name}: {rating:.0}, {interval}</title>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\">{name}</text>{bar}\
             <circle class=\"point\" cx=\"{cx:.1}\" cy=\"{y:.1}\" r=\"4.5\"/>\
             <text x=\"{vx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\">{rating:.0}</text></g>",
            class = r.class,
            rating = r.rating.round(),
            tx = left - 10.0,
            ty = y + 4.0,
            cx = x(r.rating),
            vx = CHART_WIDTH - 4.0,
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The colour of a win fraction: orange for losing, pale at even, blue for winning
/// (a scale that reads for the colour-blind too), and a text colour that shows on it.
fn heat(fraction: f64) -> (String, &'static str) {
    const LOSS: [f64; 3] = [230.0, 97.0, 1.0];
    const EVEN: [f64; 3] = [247.0, 247.0, 247.0];
    const WIN: [f64; 3] = [33.0, 102.0, 172.0];
    let f = fraction.clamp(0.0, 1.0);
    let (from, to, t) = if f < 0.5 {
        (LOSS, EVEN, f * 2.0)
    } else {
        (EVEN, WIN, (f - 0.5) * 2.0)
    };
    let c: Vec<u8> = (0..3)
        .map(|i| (from[i] + (to[i] - from[i]) * t).round() as u8)
        .collect();
    let luminance = 0.299 * f64::from(c[0]) + 0.587 * f64::from(c[1]) + 0.114 * f64::from(c[2]);
    let text = if luminance > 140.0 { "#111" } else { "#fff" };
    (format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]), text)
}

fn heat_map(matrix: &Matrix) -> String {
    let names: Vec<String> = matrix.models.iter().map(|m| escape(m)).collect();
    let mut html = String::from(
        "<p class=\"note\">How often the row's model beat the column's (a tie counts half), \
         with the battles between them below; blank where two models never met.</p>\n\
         <table class=\"heat\">\n<thead><tr><th></th>",
    );
    for name in &names {
        let _ = write!(html, "<th>{name}</th>");
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for (r, row_name) in names.iter().enumerate() {
        let _ = write!(html, "<tr><th class=\"row\">{row_name}</th>");
        for (c, col_name) in names.iter().enumerate() {
            let fraction = matrix
                .win_fraction
                .get(r)
                .and_then(|row| row.get(c).copied());
            let battles = matrix
                .battles
                .get(r)
                .and_then(|row| row.get(c).copied())
                .unwrap_or(0);
            match fraction.flatten() {
                _ if r == c => html.push_str("<td class=\"self\"></td>"),
                Some(f) => {
                    let (bg, fg) = heat(f);
                    let _ = write!(
                        html,
                        "<td style=\"background:{bg};color:{fg}\" title=\"{row_name} against \
                         {col_name}: {pct:.0}% of {battles} battles\">{pct:.0}%<small>{battles}</small></td>",
                        pct = 100.0 * f
                    );
                }
                None => html.push_str("<td class=\"never\"></td>"),
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str(
        "</tbody>\n</table>\n<p class=\"note\">0% <span class=\"scale\"></span> 100%</p>\n",
    );
    html
}

/// The position-bias sentence, and the share of A wins against an even split.
fn bias(b: &PositionBias) -> String {
    let mut html = format!("<p>{}</p>\n", escape(&position_line(b)));
    let (Some(rate), Some(low), Some(high)) = (b.a_rate, b.ci_low, b.ci_high) else {
        return html;
    };
    let (left, right) = (40.0, 440.0);
    let x = |f: f64| left + f.clamp(0.0, 1.0) * (right - left);
    let _ = writeln!(
        html,
        "<svg class=\"bias\" viewBox=\"0 0 480 56\" width=\"480\" height=\"56\" role=\"img\" \
         aria-label=\"Share of decisive votes won by side A\">\
         <line class=\"grid\" x1=\"{left}\" x2=\"{right}\" y1=\"20\" y2=\"20\"/>\
         <line class=\"even\" x1=\"{mid:.1}\" x2=\"{mid:.1}\" y1=\"6\" y2=\"34\"/>\
         <g class=\"row\"><line class=\"ci\" x1=\"{x1:.1}\" x2=\"{x2:.1}\" y1=\"20\" y2=\"20\"/>\
         <circle class=\"point\" cx=\"{cx:.1}\" cy=\"20\" r=\"4.5\"/></g>\
         <g class=\"axis\"><text x=\"{left}\" y=\"50\" text-anchor=\"middle\">B always</text>\
         <text x=\"{mid:.1}\" y=\"50\" text-anchor=\"middle\">50%</text>\
         <text x=\"{right}\" y=\"50\" text-anchor=\"middle\">A always</text></g></svg>",
        mid = x(0.5),
        x1 = x(low),
        x2 = x(high),
        cx = x(rate),
    );
    html
}

/// `--checks`: is the answer right? The same table and sentences as the text.
fn checks_section(report: &ChecksReport) -> String {
    let mut html = format!(
        "<h2>Checks on run {}</h2>\n<p class=\"note\">Items passed of those graded, with a \
         95% Wilson interval; a check that could not run is an error, counted apart.</p>\n",
        escape(&report.run)
    );
    let rows = crate::commands::check::rows(report);
    html.push_str("<table class=\"checks\">\n<thead><tr>");
    // The figures (PASSED to ERRORS) align right.
    let class = |i: usize| {
        if (1..6).contains(&i) {
            " class=\"num\""
        } else {
            ""
        }
    };
    for (i, head) in rows[0].iter().enumerate() {
        let _ = write!(html, "<th{}>{}</th>", class(i), escape(head));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for row in &rows[1..] {
        html.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let _ = write!(html, "<td{}>{}</td>", class(i), escape(cell));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n");
    for pair in &report.pairs {
        let _ = writeln!(
            html,
            "<p>{}</p>",
            escape(&crate::commands::check::pair_sentence(pair))
        );
    }
    if !report.by_category.is_empty() {
        html.push_str("<ul class=\"categories\">\n");
        for category in &report.by_category {
            let _ = writeln!(
                html,
                "<li>{}</li>",
                escape(&crate::commands::check::category_line(category))
            );
        }
        html.push_str("</ul>\n");
    }
    html
}

fn style_section(style: &StyleFigures, plain: &Leaderboard) -> String {
    let mut html = String::from(
        "<h2>With style held equal</h2>\n<p class=\"note\">LMArena's style control: answer \
         length, headers, list items and bold fitted beside the ratings. A model that gains \
         here was held back by its answers' style; one that loses was carried by it.</p>\n",
    );
    if style.models.is_empty() {
        html.push_str("<p>No battles between two different models to fit.</p>\n");
    } else {
        html.push_str(
            "<table class=\"style\">\n<thead><tr><th>MODEL</th><th class=\"num\">RATING</th>\
             <th class=\"num\">95% CI</th><th class=\"num\">PLAIN</th>\
             <th class=\"num\">CHANGE</th></tr></thead>\n<tbody>\n",
        );
        for (model, rating, low, high) in &style.models {
            let before = plain.models.iter().find(|m| &m.model == model);
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td class=\"num\">{:.0}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(model),
                rating.round(),
                span(low.zip(*high)),
                before.map_or("—".to_owned(), |m| format!("{:.0}", m.rating.round())),
                before.map_or("—".to_owned(), |m| signed(rating - m.rating)),
            );
        }
        html.push_str("</tbody>\n</table>\n");
        let rows: Vec<Row> = style
            .models
            .iter()
            .map(|(model, rating, low, high)| Row {
                name: sanitize(model).replace('\n', " "),
                rating: *rating,
                interval: low.zip(*high),
                class: "",
            })
            .collect();
        html.push_str(&intervals_svg(&rows));
    }
    if !style.coefficients.is_empty() {
        html.push_str(
            "<p>What style is worth, in log odds of winning per normalised unit (one standard \
             deviation of (A − B) / (A + B + 1) over these votes):</p>\n<ul class=\"coefficients\">\n",
        );
        for (feature, value, low, high) in &style.coefficients {
            let feature = escape(feature);
            let line = match (value, low, high) {
                (Some(v), Some(l), Some(h)) => {
                    let verdict = if *l > 0.0 || *h < 0.0 {
                        "excludes 0"
                    } else {
                        "includes 0: could be chance"
                    };
                    format!(
                        "<b>{feature}</b>: {} (95% interval {} to {}, {verdict})",
                        fixed(*v, 2, true),
                        fixed(*l, 2, true),
                        fixed(*h, 2, true)
                    )
                }
                _ => format!(
                    "<b>{feature}</b>: never differs between the two answers in these votes, \
                     so it is left out"
                ),
            };
            let _ = writeln!(html, "<li>{line}</li>");
        }
        html.push_str("</ul>\n");
    }
    html
}

/// Writes `html` to `path` whole or not at all: a temp file beside it, synced, then
/// renamed over it.
pub fn write(path: &Path, html: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let name = path
        .file_name()
        .map_or_else(|| "page".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4()));
    let written = File::create(&temp).and_then(|mut file| {
        file.write_all(html.as_bytes())?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| fs::rename(&temp, path)) {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    // The rename itself is durable only once the directory is synced.
    if let Ok(dir) = File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Now, as the page's footer says it.
pub(super) fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("a\x1b[2Jb"), "a␛[2Jb");
    }

    #[test]
    fn the_heat_scale_runs_from_orange_through_pale_to_blue() {
        assert_eq!(heat(0.0), ("#e66101".to_owned(), "#fff"));
        assert_eq!(heat(0.5), ("#f7f7f7".to_owned(), "#111"));
        assert_eq!(heat(1.0), ("#2166ac".to_owned(), "#fff"));
    }
}
