//! `duel stats --plot`: the ratings and their 95% intervals as a horizontal chart, one
//! row per model on a shared rating axis. The chart is built as cells with a colour
//! role each, so the same drawing prints plain (a pipe, `NO_COLOR`) or in the theme's
//! colours on a terminal.

use std::fmt::Write as _;
use std::io::IsTerminal;

use ratatui::style::Color;
use unicode_segmentation::UnicodeSegmentation;

use crate::cli::Global;
use crate::config::{self, LoadOptions};
use crate::say;
use crate::text::{sanitize, width};
use crate::theme::{self, Theme};
use crate::votes::rating::{Leaderboard, ModelStats};

/// The width when stdout is not a terminal.
pub const PIPED_WIDTH: usize = 80;
/// Below this the chart is drawn at this width anyway (and may wrap).
const MIN_WIDTH: usize = 30;
/// The plot area never shrinks below this many cells to make room for names.
const MIN_PLOT: usize = 16;
/// At most one labelled tick per this many cells of axis.
const CELLS_PER_TICK: usize = 8;
/// The legend, which is also the chart's title.
const LEGEND: &str = "● rating  ├─┤ 95% interval";
/// How to read it: the rule of `rating::clearly_above`, which the ranks count by.
pub(super) const READING: &str = "A bar wholly to the right of another is settled above it, \
and a rank counts the bars so placed; bars that overlap are not settled, whatever their ranks.";
/// Under a chart with a model that has no interval.
const LONE_DOT: &str = "A dot without a bar: too few votes for an interval.";

/// What a cell of the chart is, which decides its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Legend,
    Name,
    Axis,
    Interval,
    /// The interval of a model ranked first.
    Top,
    /// The interval of a model with few battles.
    Rough,
    Point,
    Value,
}

impl Role {
    fn color(self, theme: &Theme) -> Color {
        match self {
            Role::Legend => theme.heading,
            Role::Name | Role::Value => theme.fg,
            Role::Axis => theme.dim,
            Role::Interval => theme.pane_a,
            Role::Top => theme.success,
            Role::Rough => theme.warning,
            Role::Point => theme.vote,
        }
    }
}

/// The chart: lines of runs of text, each with its role.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chart {
    pub lines: Vec<Vec<(Role, String)>>,
}

impl Chart {
    /// The chart as plain text, no escape codes.
    pub fn plain(&self) -> String {
        let mut text = String::new();
        for line in &self.lines {
            let joined: String = line.iter().map(|(_, s)| s.as_str()).collect();
            let _ = writeln!(text, "{}", joined.trim_end());
        }
        text
    }

    /// The chart with the theme's colours as SGR escape codes; a role whose colour is
    /// the terminal's own (`reset`, and every role under `NO_COLOR`) gets none.
    pub fn colored(&self, theme: &Theme) -> String {
        let mut text = String::new();
        for line in &self.lines {
            let mut rest = line.len();
            // Trailing blanks would only be painted spaces.
            while rest > 0 && line[rest - 1].1.trim().is_empty() {
                rest -= 1;
            }
            for (role, run) in &line[..rest] {
                match sgr(role.color(theme)) {
                    Some(code) if !run.trim().is_empty() => {
                        let _ = write!(text, "\x1b[{code}m{run}\x1b[39m");
                    }
                    _ => text.push_str(run),
                }
            }
            text.push('\n');
        }
        text
    }
}

/// The foreground SGR parameters of a colour; `None` for the terminal's own.
pub(crate) fn sgr(color: Color) -> Option<String> {
    let basic = |n: u8| Some(n.to_string());
    match color {
        Color::Reset => None,
        Color::Black => basic(30),
        Color::Red => basic(31),
        Color::Green => basic(32),
        Color::Yellow => basic(33),
        Color::Blue => basic(34),
        Color::Magenta => basic(35),
        Color::Cyan => basic(36),
        Color::Gray => basic(37),
        Color::DarkGray => basic(90),
        Color::LightRed => basic(91),
        Color::LightGreen => basic(92),
        Color::LightYellow => basic(93),
        Color::LightBlue => basic(94),
        Color::LightMagenta => basic(95),
        Color::LightCyan => basic(96),
        Color::White => basic(97),
        Color::Indexed(n) => Some(format!("38;5;{n}")),
        Color::Rgb(r, g, b) => Some(format!("38;2;{r};{g};{b}")),
    }
}

/// The rating axis: from `low` to `high`, with labelled ticks at round numbers.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Axis {
    pub low: f64,
    pub high: f64,
    pub ticks: Vec<f64>,
}

impl Axis {
    /// An axis holding every rating and interval of `models`, with at most
    /// `max_ticks` ticks (at least two).
    pub(super) fn of(models: &[(f64, f64, f64)], max_ticks: usize) -> Axis {
        let (mut low, mut high) = models
            .iter()
            .flat_map(|&(rating, lo, hi)| [rating, lo, hi])
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
                (l.min(x), h.max(x))
            });
        if low > high {
            (low, high) = (1000.0, 1000.0);
        }
        // A board with no spread (one pair, no bootstrap) still needs an axis.
        if high - low < 10.0 {
            let centre = (low + high) / 2.0;
            (low, high) = (centre - 5.0, centre + 5.0);
        }
        let pad = (high - low) * 0.04;
        let (low, high) = (low - pad, high + pad);
        let step = nice((high - low) / max_ticks.max(2) as f64);
        let mut ticks = Vec::new();
        let mut tick = (low / step).ceil() * step;
        while tick <= high {
            ticks.push(tick);
            tick += step;
        }
        Axis { low, high, ticks }
    }

    /// Where `x` falls on an axis `cells` long: 0 to `cells - 1`.
    fn cell(&self, x: f64, cells: usize) -> usize {
        let last = cells.saturating_sub(1);
        let at = (x - self.low) / (self.high - self.low) * last as f64;
        if at.is_finite() {
            (at.round().max(0.0) as usize).min(last)
        } else {
            0
        }
    }

    /// Where `x` falls between `from` and `to` (pixels).
    pub(super) fn position(&self, x: f64, from: f64, to: f64) -> f64 {
        from + (x - self.low) / (self.high - self.low) * (to - from)
    }
}

/// The smallest of 1, 2, 5 × a power of ten at least `x`.
fn nice(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| s >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * power)
}

/// A model's name as a chart shows it: inert, on one line, `*` for few battles.
pub(super) fn label(m: &ModelStats) -> String {
    let name = sanitize(&m.model).replace('\n', " ");
    if m.few_battles() {
        format!("{name} *")
    } else {
        name
    }
}

/// `text` cut to at most `cells` display cells, with `…` where it was cut, and
/// padded with spaces to exactly `cells`. Cuts between graphemes, so a CJK character
/// or an emoji is never split.
fn fit(text: &str, cells: usize) -> String {
    let mut out = String::new();
    if width(text) <= cells {
        out.push_str(text);
    } else if cells > 0 {
        let mut used = 0;
        for g in text.graphemes(true) {
            let w = width(g);
            if used + w > cells - 1 {
                break;
            }
            out.push_str(g);
            used += w;
        }
        out.push('…');
    }
    let pad = cells.saturating_sub(width(&out));
    out.push_str(&" ".repeat(pad));
    out
}

/// The chart of `board`'s ratings, `columns` wide. Pure, so tests can read it.
pub fn chart(board: &Leaderboard, columns: usize) -> Chart {
    let models = &board.models;
    if models.is_empty() {
        return Chart {
            lines: vec![vec![(Role::Legend, "No ratings to plot yet.".to_owned())]],
        };
    }
    let columns = columns.max(MIN_WIDTH);
    let names: Vec<String> = models.iter().map(label).collect();
    let values: Vec<String> = models
        .iter()
        .map(|m| format!("{:.0}", m.rating.round()))
        .collect();
    let value_cells = values.iter().map(|v| width(v)).max().unwrap_or(0);
    let widest = names.iter().map(|n| width(n)).max().unwrap_or(0);
    // name, space, plot, space, value: names give way first, down to a few cells.
    let room = columns.saturating_sub(value_cells + 2);
    let name_cells = widest.min(room.saturating_sub(MIN_PLOT)).max(widest.min(6));
    let plot = room.saturating_sub(name_cells).max(MIN_PLOT);

    let points: Vec<(f64, f64, f64)> = models
        .iter()
        .map(|m| {
            let (low, high) = m.interval().unwrap_or((m.rating, m.rating));
            (m.rating, low, high)
        })
        .collect();
    let axis = Axis::of(&points, plot / CELLS_PER_TICK);
    let tick_cells: Vec<usize> = axis.ticks.iter().map(|&t| axis.cell(t, plot)).collect();

    // The legend over the plot area when it fits there.
    let indent = if name_cells + 1 + width(LEGEND) <= columns {
        name_cells + 1
    } else {
        0
    };
    let mut lines = vec![vec![
        (Role::Axis, " ".repeat(indent)),
        (Role::Legend, LEGEND.to_owned()),
    ]];
    for ((m, name), value) in models.iter().zip(&names).zip(&values) {
        let mut line = vec![
            (Role::Name, fit(name, name_cells)),
            (Role::Axis, " ".into()),
        ];
        line.extend(runs(&bar(m, &axis, &tick_cells, plot)));
        line.push((Role::Axis, " ".into()));
        line.push((
            Role::Value,
            format!("{}{value}", " ".repeat(value_cells - width(value))),
        ));
        lines.push(line);
    }

    let indent = " ".repeat(name_cells + 1);
    let mut rule = vec!['─'; plot];
    for &t in &tick_cells {
        rule[t] = '┬';
    }
    lines.push(vec![
        (Role::Axis, indent.clone()),
        (Role::Axis, rule.into_iter().collect()),
    ]);
    lines.push(vec![
        (Role::Axis, indent),
        (Role::Axis, tick_labels(&axis, &tick_cells, plot)),
    ]);
    Chart { lines }
}

/// A model's row of the plot, `plot` cells: the ticks dotted, its interval as a bar
/// (none when too few votes give one), its rating a dot.
fn bar(m: &ModelStats, axis: &Axis, tick_cells: &[usize], plot: usize) -> Vec<(char, Role)> {
    let mut cells = vec![(' ', Role::Axis); plot];
    for &t in tick_cells {
        cells[t] = ('·', Role::Axis);
    }
    let role = match m.rank {
        _ if m.few_battles() => Role::Rough,
        1 => Role::Top,
        _ => Role::Interval,
    };
    if let Some((low, high)) = m.interval() {
        let (from, to) = (axis.cell(low, plot), axis.cell(high, plot));
        let (from, to) = (from.min(to), from.max(to));
        for cell in &mut cells[from..=to] {
            *cell = ('─', role);
        }
        if to > from {
            cells[from] = ('├', role);
            cells[to] = ('┤', role);
        }
    }
    cells[axis.cell(m.rating, plot)] = ('●', Role::Point);
    cells
}

/// How to read the chart of `board`, as prose to print under it (and to wrap).
pub(super) fn reading(board: &Leaderboard) -> String {
    let mut text = format!("{READING}\n");
    if board.models.iter().any(|m| m.interval().is_none()) {
        text.push_str(LONE_DOT);
        text.push('\n');
    }
    text
}

/// Consecutive cells of one role joined into one run of text.
fn runs(cells: &[(char, Role)]) -> Vec<(Role, String)> {
    let mut runs: Vec<(Role, String)> = Vec::new();
    for &(c, role) in cells {
        match runs.last_mut() {
            Some((last, text)) if *last == role => text.push(c),
            _ => runs.push((role, c.to_string())),
        }
    }
    runs
}

/// The tick values centred under their ticks; one that would touch its left
/// neighbour is left out.
fn tick_labels(axis: &Axis, cells: &[usize], plot: usize) -> String {
    let mut row = vec![' '; plot];
    let mut free = 0;
    for (&tick, &cell) in axis.ticks.iter().zip(cells) {
        let text: Vec<char> = format!("{tick:.0}").chars().collect();
        let start = cell
            .saturating_sub(text.len() / 2)
            .min(plot.saturating_sub(text.len()));
        if start < free || start + text.len() > plot {
            continue;
        }
        row[start..start + text.len()].copy_from_slice(&text);
        free = start + text.len() + 1;
    }
    row.into_iter().collect()
}

/// The chart for stdout, `columns` wide: in the user's theme on a terminal, plain
/// text otherwise.
pub(super) fn for_stdout(board: &Leaderboard, global: &Global, columns: usize) -> String {
    if !std::io::stdout().is_terminal() {
        return chart(board, columns).plain();
    }
    let chart = chart(board, columns);
    match terminal_theme(global) {
        Some(theme) => chart.colored(&theme),
        None => chart.plain(),
    }
}

/// `--theme`, else the config's `ui.theme`, else the default; `None` under
/// `NO_COLOR`. Stats needs no config, so a broken config or theme only costs the
/// chart its colours, with a warning.
pub(crate) fn terminal_theme(global: &Global) -> Option<Theme> {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return None;
    }
    let name = global.theme.clone().unwrap_or_else(|| {
        config::load(&LoadOptions {
            explicit: global.config.clone(),
        })
        .map_or_else(|_| "default".to_owned(), |c| c.ui.theme)
    });
    match theme::load(&name, config::config_dir().as_deref()) {
        Ok(theme) => Some(theme),
        Err(e) => {
            say!("the chart uses the default colours: {e}");
            Some(Theme::default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers_inside_the_axis() {
        let axis = Axis::of(&[(1000.0, 940.0, 1061.0), (990.0, 930.0, 1050.0)], 6);
        assert!(axis.low < 930.0 && axis.high > 1061.0);
        // 141 points over at most 6 ticks: steps of 20 would make 7.
        assert_eq!(axis.ticks, [950.0, 1000.0, 1050.0]);
        let flat = Axis::of(&[(1000.0, 1000.0, 1000.0)], 4);
        assert!(flat.low < 1000.0 && flat.high > 1000.0 && !flat.ticks.is_empty());
        assert_eq!(nice(0.7), 1.0);
        assert_eq!(nice(13.0), 20.0);
        assert_eq!(nice(30.0), 50.0);
        assert_eq!(nice(100.0), 100.0);
    }

    #[test]
    fn names_are_cut_by_display_width_and_never_split_a_wide_character() {
        assert_eq!(fit("qwen", 6), "qwen  ");
        assert_eq!(fit("qwen-plus-latest", 8), "qwen-pl…");
        // 通义千问 is 8 cells: 5 hold two characters and the ellipsis; in 6 the third
        // character does not fit beside the ellipsis, so a space fills the cell.
        assert_eq!(fit("通义千问", 5), "通义…");
        assert_eq!(fit("通义千问", 6), "通义… ");
        assert_eq!(width(&fit("通义千问", 6)), 6);
    }

    #[test]
    fn colours_come_from_the_theme_and_reset_means_none() {
        let chart = Chart {
            lines: vec![vec![
                (Role::Name, "x".into()),
                (Role::Point, "●".into()),
                (Role::Axis, "   ".into()),
            ]],
        };
        let mut theme = Theme::plain("t");
        assert_eq!(chart.colored(&theme), "x●\n");
        theme.vote = Color::Rgb(1, 2, 3);
        assert_eq!(chart.colored(&theme), "x\x1b[38;2;1;2;3m●\x1b[39m\n");
        theme.vote = Color::LightRed;
        assert_eq!(chart.colored(&theme), "x\x1b[91m●\x1b[39m\n");
    }
}
