//! `duel stats --plot` and `--html`: the terminal chart as plain text for a few
//! boards, and the shared page checked for its numbers, its escaping and for anything
//! it would fetch; then both through the binary as a user runs them.

use std::io::Write;
use std::time::Duration;

use crate::common;
use common::cli::{duel, run};
use common::tui::{COLS, Sandbox, Tui};
use duel::commands::html::{self, Page, StyleFigures};
use duel::commands::plot::chart;
use duel::domain::Vote;
use duel::text::width;
use duel::votes::rating::{Leaderboard, Tally};
use serde_json::{Value, json};

/// `a` against `b`: `a_wins`, `b_wins` and `ties` votes, sides taking turns.
fn battles(tally: &mut Tally, a: &str, b: &str, a_wins: u32, b_wins: u32, ties: u32) {
    let votes = std::iter::repeat_n(Vote::A, a_wins as usize)
        .chain(std::iter::repeat_n(Vote::B, b_wins as usize))
        .chain(std::iter::repeat_n(Vote::Tie, ties as usize));
    for (i, vote) in votes.enumerate() {
        if i % 2 == 0 {
            tally.add(a, b, vote);
        } else {
            let flipped = match vote {
                Vote::A => Vote::B,
                Vote::B => Vote::A,
                other => other,
            };
            tally.add(b, a, flipped);
        }
    }
}

fn two_models() -> Leaderboard {
    let mut tally = Tally::new();
    battles(&mut tally, "qwen-plus", "ernie-4.5", 21, 9, 6);
    tally.leaderboard(200)
}

/// Six models close enough that their intervals overlap, one with few battles.
fn many_models() -> Leaderboard {
    let names = [
        "qwen-plus",
        "deepseek-chat",
        "ernie-4.5",
        "glm-4-plus",
        "moonshot-v1-8k",
        "doubao-pro",
    ];
    let mut tally = Tally::new();
    for (i, a) in names.iter().enumerate().take(5) {
        for (j, b) in names.iter().enumerate().take(5).skip(i + 1) {
            let edge = u32::try_from(j - i).unwrap();
            battles(&mut tally, a, b, 9 + edge, 8, 3);
        }
    }
    battles(&mut tally, names[5], names[0], 2, 3, 1);
    battles(&mut tally, names[5], names[2], 1, 2, 0);
    tally.leaderboard(200)
}

fn cjk_models() -> Leaderboard {
    let mut tally = Tally::new();
    battles(&mut tally, "通义千问-max", "文心一言 4.5", 14, 10, 4);
    battles(&mut tally, "文心一言 4.5", "gpt-4o", 12, 12, 4);
    battles(&mut tally, "通义千问-max", "gpt-4o", 15, 9, 2);
    tally.leaderboard(200)
}

/// The chart's plain text, every line checked to fit `columns`.
fn plot(board: &Leaderboard, columns: usize) -> String {
    let text = chart(board, columns).plain();
    for line in text.lines() {
        assert!(
            width(line) <= columns,
            "{} > {columns}: {line:?}",
            width(line)
        );
    }
    assert!(!text.contains('\x1b'), "{text}");
    text
}

#[test]
fn plot_two_models() {
    insta::assert_snapshot!(plot(&two_models(), 80));
}

#[test]
fn plot_many_models_with_overlapping_intervals() {
    insta::assert_snapshot!(plot(&many_models(), 80));
}

#[test]
fn plot_cjk_names_line_up_by_display_width() {
    let text = plot(&cjk_models(), 72);
    // Every bar row starts its plot area at the same cell.
    let starts: Vec<usize> = text
        .lines()
        .filter(|l| l.contains('●') && !l.contains("rating"))
        .map(|l| width(&l[..l.find(['├', '●', '·', '─']).unwrap()]))
        .collect();
    assert_eq!(starts.len(), 3, "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn plot_at_a_narrow_width_cuts_names_not_the_chart() {
    let text = plot(&many_models(), 32);
    assert!(text.contains('…'), "a long name is cut: {text}");
    insta::assert_snapshot!(text);
}

#[test]
fn plot_names_are_made_inert() {
    let mut tally = Tally::new();
    battles(&mut tally, "evil\x1b[2J\nname", "ok", 5, 5, 0);
    let text = plot(&tally.leaderboard(50), 60);
    assert!(text.contains("evil␛[2J name"), "{text}");
    assert_eq!(text.lines().count(), 5, "{text}");
}

#[test]
fn plot_of_an_empty_board_says_so() {
    let text = chart(&Tally::new().leaderboard(10), 80).plain();
    assert_eq!(text, "No ratings to plot yet.\n");
}

fn page_of(board: &Leaderboard, style: Option<StyleFigures>) -> String {
    html::page(&Page {
        board,
        source: "votes.jsonl",
        filters: Some("judge alice"),
        total: 50,
        style,
        checks: None,
        decision: None,
        made: "2026-11-29 10:00 UTC",
    })
}

/// Nothing the page would fetch or run.
fn assert_self_contained(page: &str) {
    for needle in [
        "http",
        "src=",
        "@import",
        "<script",
        "url(",
        "<link",
        "@font-face",
    ] {
        assert!(
            !page.to_lowercase().contains(needle),
            "{needle} in the page:\n{page}"
        );
    }
}

#[test]
fn the_page_holds_the_ratings_intervals_win_fractions_and_votes() {
    let board = many_models();
    let page = page_of(&board, None);
    assert_self_contained(&page);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    for m in &board.models {
        let row = format!(
            "<td>{}</td><td class=\"num\">{:.0}</td><td class=\"num\">{}</td>",
            html::escape(&duel::text::sanitize(&m.model)) + if m.battles < 10 { " *" } else { "" },
            m.rating.round(),
            m.interval()
                .map_or("too few votes".to_owned(), |(low, high)| format!(
                    "{:.0}–{:.0}",
                    low.round(),
                    high.round()
                ))
        );
        assert!(page.contains(&row), "no {row} in the page");
        assert!(page.contains(&format!("{:.1}%", 100.0 * m.win_rate)));
    }
    let matrix = &board.matrix;
    let mut cells = 0;
    for (r, row) in matrix.win_fraction.iter().enumerate() {
        for (c, fraction) in row.iter().enumerate() {
            if let Some(f) = fraction.filter(|_| r != c) {
                let cell = format!(
                    "{:.0}%<small>{}</small></td>",
                    100.0 * f,
                    matrix.battles[r][c]
                );
                assert!(page.contains(&cell), "no {cell}");
                cells += 1;
            }
        }
    }
    // doubao-pro met only qwen-plus and ernie-4.5: three blanks in its row, three in
    // its column.
    assert_eq!(cells, 24);
    assert_eq!(page.matches("<td class=\"never\"></td>").count(), 6);
    assert!(page.contains(&format!(
        "<dd class=\"votes\">{} of the 50 in the logs</dd>",
        board.votes
    )));
    assert!(page.contains("only judge alice"));
    assert!(page.contains("Position bias: A won"));
    assert!(page.contains("<svg class=\"intervals\""));
    assert!(page.contains("<svg class=\"bias\""));
    assert!(
        !page.contains("With style held equal"),
        "no style section unless given"
    );
}

#[test]
fn the_page_escapes_what_comes_from_the_log() {
    let mut tally = Tally::new();
    battles(
        &mut tally,
        "<script>alert(1)</script>",
        "a\"b'<img onerror=x>&",
        6,
        4,
        1,
    );
    let page = html::page(&Page {
        board: &tally.leaderboard(50),
        source: "<b>logs</b>",
        filters: Some("judge <i>eve</i>"),
        total: 11,
        style: None,
        checks: None,
        decision: None,
        made: "now",
    });
    assert_self_contained(&page);
    assert!(!page.contains("<script>"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(!page.contains("<b>logs"), "{page}");
    assert!(!page.contains("<i>eve"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("a&quot;b&#39;&lt;img onerror=x&gt;&amp;"));
}

#[test]
fn the_style_figures_show_only_when_given() {
    let board = two_models();
    let style = StyleFigures::new(
        [
            ("qwen-plus", 1031.4, 990.2, 1070.9),
            ("ernie-4.5", 968.6, 929.1, 1009.8),
        ],
        [
            ("length", Some(0.213), Some(0.15), Some(0.27)),
            ("headers", Some(-0.02), Some(-0.09), Some(0.05)),
            ("lists", None, None, None),
        ],
    );
    let page = page_of(&board, Some(style));
    assert_self_contained(&page);
    assert!(page.contains("With style held equal"));
    assert!(
        page.contains(
            "<td>qwen-plus</td><td class=\"num\">1031</td><td class=\"num\">990–1071</td>"
        )
    );
    assert!(page.contains("<b>length</b>: +0.21 (95% interval +0.15 to +0.27, excludes 0)"));
    assert!(page.contains("<b>headers</b>: -0.02 (95% interval -0.09 to +0.05, includes 0"));
    assert!(page.contains("<b>lists</b>: never differs"));
    assert_eq!(page.matches("<svg class=\"intervals\"").count(), 2);
}

fn side(model: &str) -> Value {
    json!({
        "model": model, "provider": "dashscope", "model_id": model, "history": [],
        "answer": format!("{model} says hi"), "reasoning": null, "finish": "stop",
        "error": null
    })
}

/// A log of `votes` as SPEC §5 spells records.
fn write_log(path: &std::path::Path, votes: &[(&str, &str, &str)]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = std::fs::File::create(path).unwrap();
    for (n, (a, b, vote)) in votes.iter().enumerate() {
        let record = json!({
            "schema": 1, "id": format!("00000000-0000-4000-8000-{n:012}"),
            "time": "2026-11-23T18:53:46.123Z",
            "conversation": "11111111-1111-4111-8111-111111111111", "turn": 1,
            "vote": vote, "blind": false, "judge": "alice", "prompt": "question",
            "a": side(a), "b": side(b)
        });
        writeln!(file, "{record}").unwrap();
    }
}

fn known_log(home: &std::path::Path) -> std::path::PathBuf {
    let path = home.join("data").join("votes.jsonl");
    let mut votes = Vec::new();
    for n in 0..40 {
        let vote = ["a", "a", "b", "tie", "a"][n % 5];
        votes.push(match n % 4 {
            0 | 1 => ("qwen-plus", "ernie-4.5", vote),
            2 => ("qwen-plus", "<script>x</script>", vote),
            _ => ("ernie-4.5", "<script>x</script>", vote),
        });
    }
    write_log(&path, &votes);
    path
}

#[test]
fn stats_plot_piped_is_plain_text_after_the_leaderboard() {
    let home = tempfile::tempdir().unwrap();
    known_log(home.path());
    // A theme that does not exist costs nothing when piped: no theme is loaded.
    let (code, out, err) = run(&mut duel(
        home.path(),
        &[
            "stats",
            "--plot",
            "--bootstrap",
            "100",
            "--theme",
            "no-such-theme",
        ],
    ));
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains('\x1b'),
        "escape codes in piped output: {out:?}"
    );
    let table = out.find("RANK  MODEL").unwrap();
    let legend = out.find("● rating  ├─┤ 95% interval").unwrap();
    assert!(table < legend, "{out}");
    assert!(out.contains("<script>x</script>"), "{out}");
    // The chart, then how to read it.
    let chart = out[legend..]
        .split("\nA bar wholly to the right")
        .next()
        .unwrap();
    assert_eq!(chart.lines().count(), 6, "{chart}");
    assert!(out.contains("bars that overlap are not settled"), "{out}");
    for line in chart.lines() {
        assert!(width(line) <= 80, "{line:?}");
    }
}

#[test]
fn stats_html_writes_the_page_and_says_where() {
    let home = tempfile::tempdir().unwrap();
    known_log(home.path());
    let page_path = home.path().join("shared").join("board.html");
    std::fs::create_dir_all(page_path.parent().unwrap()).unwrap();
    std::fs::write(&page_path, "old").unwrap();
    let (code, out, err) = run(&mut duel(
        home.path(),
        &[
            "stats",
            "--json",
            "--matrix",
            "--bootstrap",
            "100",
            "--html",
            page_path.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("wrote the page to {}", page_path.display())),
        "{err}"
    );
    // The JSON on stdout is untouched by the page.
    let json: Value = serde_json::from_str(&out).unwrap();
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert_self_contained(&page);
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains(&format!("<dd class=\"votes\">{}</dd>", json["votes"])));
    // A shared page names the log, not the folders it sits in.
    assert!(
        page.contains("<dt>Read from</dt><dd>votes.jsonl</dd>"),
        "{page}"
    );
    assert!(!page.contains(home.path().to_str().unwrap()), "{page}");
    for m in json["models"].as_array().unwrap() {
        let cells = format!(
            "<td class=\"num\">{:.0}</td><td class=\"num\">{:.0}–{:.0}</td>",
            m["rating"].as_f64().unwrap().round(),
            m["ci_low"].as_f64().unwrap().round(),
            m["ci_high"].as_f64().unwrap().round()
        );
        assert!(page.contains(&cells), "no {cells}");
    }
    let fractions = json["matrix"]["win_fraction"].as_array().unwrap();
    for (r, row) in fractions.iter().enumerate() {
        for (c, f) in row.as_array().unwrap().iter().enumerate() {
            if let (Some(f), true) = (f.as_f64(), r != c) {
                assert!(page.contains(&format!("{:.0}%<small>", 100.0 * f)));
            }
        }
    }
    // No temp file is left beside it.
    let left: Vec<_> = std::fs::read_dir(page_path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("board.html")]);
}

#[test]
fn stats_html_into_a_missing_folder_fails_and_says_why() {
    let home = tempfile::tempdir().unwrap();
    known_log(home.path());
    let page_path = home.path().join("nope").join("board.html");
    let (code, _, err) = run(&mut duel(
        home.path(),
        &[
            "stats",
            "--bootstrap",
            "10",
            "--html",
            page_path.to_str().unwrap(),
        ],
    ));
    assert_ne!(code, 0);
    assert!(err.contains("board.html"), "{err}");
}

const WAIT: Duration = Duration::from_secs(20);

/// `duel stats --plot ARGS` on a terminal, with `env` set; its bytes once it exited.
fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> (Tui, String) {
    let sandbox = Sandbox::new();
    known_log(sandbox.path());
    let mut all = vec!["stats", "--plot", "--bootstrap", "50"];
    all.extend_from_slice(args);
    let mut cmd = sandbox.command(&all);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut tui = Tui::spawn(cmd);
    assert_eq!(tui.wait_exit(WAIT), 0, "{}", tui.screen());
    let raw = String::from_utf8_lossy(&tui.output()).into_owned();
    (tui, raw)
}

#[test]
fn stats_plot_on_a_terminal_paints_in_the_theme_at_its_width() {
    let (tui, raw) = on_a_terminal(&["--theme", "nord"], &[]);
    // nord's vote colour marks the rating, its success colour the leader's interval.
    assert!(raw.contains("\x1b[38;2;235;203;139m●\x1b[39m"), "{raw:?}");
    assert!(raw.contains("\x1b[38;2;163;190;140m├"), "{raw:?}");
    let screen = tui.screen();
    let rule = screen.lines().find(|l| l.contains('┬')).expect("the axis");
    let used = width(rule.trim_end());
    assert!(used > 100 && used <= usize::from(COLS), "{used}: {screen}");
}

#[test]
fn stats_plot_on_a_terminal_under_no_color_is_plain() {
    let (tui, raw) = on_a_terminal(&["--theme", "nord"], &[("NO_COLOR", "1")]);
    assert!(!raw.contains('\x1b'), "{raw:?}");
    assert!(tui.screen().contains("● rating"));
}

#[test]
fn stats_plot_with_a_broken_theme_still_draws_and_says_why() {
    let (tui, raw) = on_a_terminal(&["--theme", "no-such-theme"], &[]);
    assert!(
        raw.contains("\x1b[38;"),
        "the default theme's colours: {raw:?}"
    );
    let screen = tui.screen();
    assert!(
        screen.contains("the chart uses the default colours: unknown theme"),
        "{screen}"
    );
    assert!(screen.contains("RANK  MODEL"), "{screen}");
}

#[test]
fn stats_html_with_style_control_shows_the_style_figures_of_the_json() {
    let home = tempfile::tempdir().unwrap();
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/votes.jsonl");
    let page_path = home.path().join("board.html");
    let (code, out, err) = run(&mut duel(
        home.path(),
        &[
            "stats",
            log,
            "--json",
            "--style-control",
            "--bootstrap",
            "50",
            "--html",
            page_path.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(page.contains("<h2>With style held equal</h2>"), "{page}");
    let first = &json["style_control"]["models"][0];
    let rating = format!("{:.0}", first["rating"].as_f64().unwrap());
    let name = first["model"].as_str().unwrap();
    let section = &page[page.find("With style held equal").unwrap()..];
    assert!(
        section.contains(name) && section.contains(&rating),
        "{name} {rating}: {section}"
    );
}
