//! The text of `duel stats --style-control`: the leaderboard with style held equal,
//! beside the plain one, and what each style feature is worth in plain words. The
//! figures come from `votes::style_control`; this only prints them.

use std::fmt::Write as _;

use super::{count, fixed, interval_cell, layout};
use crate::text::sanitize;
use crate::votes::rating::Leaderboard;
use crate::votes::style_control::{Coefficient, StyleControl};

/// Fewer votes than this leave the style coefficients rough.
const FEW_VOTES: usize = 100;

/// The style-control section: the second leaderboard against `plain`, then the
/// coefficients.
pub(super) fn render(style: &StyleControl, plain: &Leaderboard) -> String {
    let mut text = String::new();
    if style.models.is_empty() {
        text.push_str("Style control: no battles between two different models to fit.\n");
        return text;
    }
    text.push_str(
        "With style held equal (LMArena's style control: answer length, headers, lists \
         and bold fitted beside the ratings)\n",
    );
    text.push_str(&table(style, plain));
    text.push('\n');
    text.push_str(
        "What style is worth, in log odds of winning per normalised unit (one standard \
         deviation of (A − B) / (A + B + 1) over these votes):\n",
    );
    for c in &style.coefficients {
        let _ = writeln!(text, "  {}", coefficient_line(c));
    }
    let tied: Vec<&str> = style
        .coefficients
        .iter()
        .filter(|c| c.tied_to_models && c.value.is_some())
        .map(|c| c.feature)
        .collect();
    if !tied.is_empty() {
        let _ = writeln!(
            text,
            "* {}: the same in every vote of a pair of models here (each model always \
             writes alike), so the fit can barely tell {} from the models' strengths; \
             expect wide intervals on both",
            tied.join(", "),
            if tied.len() == 1 { "it" } else { "them" }
        );
    }
    if style.votes < FEW_VOTES {
        let _ = writeln!(
            text,
            "* only {}: the style figures are rough, read their intervals",
            count(style.votes, "vote", "votes")
        );
    }
    text.push_str(
        "A model that gains here was held back by its answers' style; one that loses was \
         carried by it.\n",
    );
    text
}

fn table(style: &StyleControl, plain: &Leaderboard) -> String {
    let header = ["RANK", "MODEL", "RATING", "95% CI", "PLAIN", "CHANGE"]
        .map(String::from)
        .to_vec();
    let mut rows = vec![header];
    for m in &style.models {
        let before = plain.model(&m.model);
        rows.push(vec![
            m.rank.to_string(),
            sanitize(&m.model),
            format!("{:.0}", m.rating.round()),
            interval_cell(m.rating, m.interval()),
            before.map_or("—".to_owned(), |p| format!("{:.0}", p.rating.round())),
            before.map_or("—".to_owned(), |p| signed(m.rating - p.rating)),
        ]);
    }
    layout(&rows, &|c| c == 1)
}

/// A whole number of rating points with its sign, 0 without one.
pub(super) fn signed(points: f64) -> String {
    let points = points.round();
    if points == 0.0 {
        "0".to_owned()
    } else {
        format!("{points:+.0}")
    }
}

/// What wins on this feature: (more of it, less of it, its unit).
fn words(feature: &str) -> (&'static str, &'static str, &'static str) {
    match feature {
        "length" => ("longer answers", "shorter answers", "length"),
        "headers" => (
            "answers with more headers",
            "answers with fewer headers",
            "header",
        ),
        "lists" => (
            "answers with more list items",
            "answers with fewer list items",
            "list",
        ),
        _ => ("answers with more bold", "answers with less bold", "bold"),
    }
}

/// What a feature counts, in words.
fn words_of(feature: &str) -> &'static str {
    match feature {
        "length" => "answer lengths",
        "headers" => "headers",
        "lists" => "list items",
        _ => "bold spans",
    }
}

/// "longer answers win: +0.21 per normalised length unit (95% CI +0.15 to +0.27,
/// excludes 0)".
pub(super) fn coefficient_line(c: &Coefficient) -> String {
    let (more, less, unit) = words(c.feature);
    let (Some(value), Some(low), Some(high)) = (c.value, c.ci_low, c.ci_high) else {
        return format!(
            "{}: never differs between the two answers in these votes, so it is left out",
            c.feature
        );
    };
    let shown = fixed(value, 2, true);
    let who = match value {
        _ if shown == "0.00" => format!("{} sway nothing either way", words_of(c.feature)),
        v if v > 0.0 => format!("{more} win"),
        _ => format!("{less} win"),
    };
    let verdict = if c.clear() {
        "excludes 0"
    } else {
        "includes 0: could be chance"
    };
    format!(
        "{who}: {shown} per normalised {unit} unit (95% CI {} to {}, {verdict})",
        fixed(low, 2, true),
        fixed(high, 2, true)
    )
}
