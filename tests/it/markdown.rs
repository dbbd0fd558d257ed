//! Markdown answers as a pane shows them: one snapshot per element, the half-finished
//! shapes of a streaming answer, tables in narrow panes, every built-in theme, and
//! lines that never overflow the width.

use duel::theme::{self, Theme};
use duel::ui::markdown::render;
use ratatui::style::{Color, Modifier};
use ratatui::text::Line;

fn text(lines: &[Line<'_>]) -> String {
    // Trailing spaces are code-block padding; the snapshot shows the words.
    lines
        .iter()
        .map(|l| l.to_string().trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn show(md: &str, width: usize) -> String {
    let lines = render(md, width, &Theme::default());
    assert_fits(&lines, width, md);
    text(&lines)
}

fn assert_fits(lines: &[Line<'_>], width: usize, md: &str) {
    for line in lines {
        assert!(
            line.width() <= width,
            "{} cells > {width}: {:?}\nfrom {md:?}",
            line.width(),
            line.to_string()
        );
    }
}

/// The first span whose text contains `needle`.
fn span_with<'a>(lines: &'a [Line<'static>], needle: &str) -> &'a ratatui::text::Span<'static> {
    lines
        .iter()
        .flat_map(|l| l.spans.iter())
        .find(|s| s.content.contains(needle))
        .unwrap_or_else(|| panic!("no span with {needle:?} in {:?}", text(lines)))
}

#[test]
fn headings() {
    insta::assert_snapshot!(show(
        "# Top\n\nText.\n\n## Second level\n\n### Third\n\n#### Fourth\n\nSetext\n======\n",
        40
    ));
    let theme = Theme::default();
    let lines = render("# Top\n\n## Second", 40, &theme);
    let top = span_with(&lines, "Top");
    assert_eq!(top.style.fg, Some(theme.heading));
    assert!(
        top.style
            .add_modifier
            .contains(Modifier::BOLD | Modifier::UNDERLINED)
    );
    let second = span_with(&lines, "Second");
    assert!(second.style.add_modifier.contains(Modifier::BOLD));
    assert!(!second.style.add_modifier.contains(Modifier::UNDERLINED));
}

#[test]
fn emphasis_strong_strikethrough_and_inline_code() {
    let md =
        "Plain *italic* **bold** ***both*** ~~struck~~ and `inline code` in a sentence that wraps.";
    insta::assert_snapshot!(show(md, 30));
    let theme = Theme::default();
    let lines = render(md, 80, &theme);
    let has = |needle, m| span_with(&lines, needle).style.add_modifier.contains(m);
    assert!(has("italic", Modifier::ITALIC));
    assert!(has("bold", Modifier::BOLD));
    assert!(has("both", Modifier::BOLD | Modifier::ITALIC));
    assert!(has("struck", Modifier::CROSSED_OUT));
    assert_eq!(
        span_with(&lines, "inline code").style.bg,
        Some(theme.code_bg)
    );
    // Without a background colour (NO_COLOR), backticks mark the code.
    let plain = render("a `b` c", 80, &Theme::plain("plain"));
    assert_eq!(text(&plain), "a `b` c");
}

#[test]
fn links_show_their_address_when_it_differs() {
    let md = "See [the docs](https://docs.rs/ratatui) or <https://example.com>, \
              mail <me@example.com>, and ![a cat](cat.png).";
    insta::assert_snapshot!(show(md, 40));
    let theme = Theme::default();
    let lines = render(md, 80, &theme);
    let link = span_with(&lines, "the docs");
    assert_eq!(link.style.fg, Some(theme.link));
    assert_eq!(
        span_with(&lines, "(https://docs.rs/ratatui)").style.fg,
        Some(theme.dim)
    );
}

#[test]
fn block_quotes_have_a_gutter() {
    insta::assert_snapshot!(show(
        "> A quote that is long enough to wrap in a narrow pane.\n>\n> Second paragraph.\n>> Nested quote.\n\n> [!WARNING]\n> Mind the gap.\n\nAfter.",
        30
    ));
    let theme = Theme::default();
    let lines = render("> quoted", 40, &theme);
    assert_eq!(span_with(&lines, "quoted").style.fg, Some(theme.dim));
}

#[test]
fn nested_lists_wrap_with_hanging_indents() {
    let md = "- A first item that is long enough to wrap onto a second line\n\
              - Second\n  - Nested item that also wraps because it is long\n    1. Numbered deeper still, wrapping too\n    2. Two\n  - Back\n- Third\n\n\
              3. Starts at three\n4. Four with a second paragraph:\n\n   Indented paragraph in the item.\n\n\
              - [x] done task that wraps onto another line\n- [ ] open task\n";
    insta::assert_snapshot!(show(md, 32));
}

#[test]
fn horizontal_rule_spans_the_width() {
    let out = show("above\n\n---\n\nbelow", 24);
    assert_eq!(out, format!("above\n\n{}\n\nbelow", "─".repeat(24)));
}

#[test]
fn tables() {
    let md = "| Crate | Version | Why |\n|:--|--:|:-:|\n| ratatui | 0.30 | drawing |\n| syntect | 5.3 | colours |\n| x | 1 |\n";
    insta::assert_snapshot!(show(md, 60));
    let theme = Theme::default();
    let lines = render(md, 60, &theme);
    assert!(
        span_with(&lines, "Crate")
            .style
            .add_modifier
            .contains(Modifier::BOLD)
    );
    assert!(
        !span_with(&lines, "ratatui")
            .style
            .add_modifier
            .contains(Modifier::BOLD)
    );
}

#[test]
fn a_cjk_table_lines_up_by_display_width() {
    let md = "| 名前 | 説明 | 絵 |\n|---|---|---|\n| 東京 | 日本の首都です | 🗼 |\n| Paris | la capitale | 🥐🥖 |\n";
    let out = show(md, 50);
    insta::assert_snapshot!(out);
    let widths: Vec<usize> = out.lines().map(duel::text::width).collect();
    assert!(widths.iter().all(|&w| w == widths[0]), "{widths:?}");
}

#[test]
fn a_long_table_shrinks_to_a_narrow_pane() {
    let md = "| Option | Default | Meaning |\n|---|---|---|\n\
              | `connect_timeout` | 10 s | How long to wait for the connection before giving up on the provider |\n\
              | `idle_timeout` | 60 s | Longest silence in a stream |\n\
              | n | 1 | 中文也要正确地换行 |\n";
    insta::assert_snapshot!("table_at_60", show(md, 60));
    insta::assert_snapshot!("table_at_40", show(md, 40));
    // Too narrow for readable columns: each row as "header: value" lines.
    insta::assert_snapshot!("table_at_24", show(md, 24));
}

#[test]
fn code_blocks_are_highlighted_and_cut_not_wrapped() {
    let md = "```rust\nfn main() {\n    println!(\"a long line that is cut at the edge of the pane\");\n}\n```\n\n    indented code\n\n```nosuchlang\nplain text\n```\n";
    insta::assert_snapshot!(show(md, 40));
    let theme = Theme::default();
    let lines = render(md, 40, &theme);
    let keyword = span_with(&lines, "fn");
    assert!(
        matches!(keyword.style.fg, Some(Color::Rgb(..))),
        "{keyword:?}"
    );
    assert_eq!(keyword.style.bg, Some(theme.code_bg));
    // Every code line is padded to the width, so the block reads as a block.
    for line in &lines[..5] {
        assert_eq!(line.width(), 40, "{line:?}");
    }
    // An unknown language and "none" are plain, in the foreground colour.
    assert_eq!(span_with(&lines, "plain text").style.fg, Some(theme.fg));
    let none = Theme {
        syntax: "none".into(),
        ..Theme::default()
    };
    let lines = render(md, 40, &none);
    assert_eq!(span_with(&lines, "fn main").style.fg, Some(none.fg));
    // An unknown syntax theme falls back to a bundled one.
    let odd = Theme {
        syntax: "no-such-theme".into(),
        ..Theme::default()
    };
    let lines = render(md, 40, &odd);
    assert!(matches!(
        span_with(&lines, "fn").style.fg,
        Some(Color::Rgb(..))
    ));
}

#[test]
fn streaming_a_half_finished_code_block() {
    let answer = "Here is the fix:\n\n```python\ndef greet(name):\n    return f\"hi {name}\"\n\nprint(greet(\"duel\"))\n```\n\nThat is all.";
    // Every prefix renders, fits, and the fenced part is a code block while open.
    for end in (0..=answer.len()).filter(|&i| answer.is_char_boundary(i)) {
        let lines = render(&answer[..end], 30, &Theme::default());
        assert_fits(&lines, 30, &answer[..end]);
    }
    let open = answer.find("print").unwrap();
    insta::assert_snapshot!(show(&answer[..open + 5], 30));
    let lines = render(&answer[..open + 5], 30, &Theme::default());
    let def = span_with(&lines, "def");
    assert_eq!(def.style.bg, Some(Theme::default().code_bg));
}

#[test]
fn streaming_table_rows_and_dangling_markers() {
    let table = "| a | b |\n|---|---|\n| 1 | one |\n| 2 | tw";
    insta::assert_snapshot!(show(table, 30));
    insta::assert_snapshot!(
        "dangling",
        show("Some **bold that never ends\n\n- item *half\n1. ", 30)
    );
}

#[test]
fn model_output_is_sanitised_first() {
    let out = show("# Title\x1b[2J\n\n`code\x07` and text\x1b]0;x\x07", 40);
    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out}");
    assert!(out.contains("␛[2J"), "{out}");
}

#[test]
fn raw_html_shows_as_text() {
    insta::assert_snapshot!(show(
        "<details>\n<summary>More</summary>\n\nInside.\n\n</details>\n\nA<br>B",
        40
    ));
}

/// An answer that uses a bit of everything.
const SAMPLE: &str = "# Plan\n\nSome **bold**, *italic*, `code`, [a link](https://x.y).\n\n\
    > Quoted 中文 👍\n\n- one\n  - two\n- [x] three\n\n| k | v |\n|---|---|\n| 名前 | 🎉 |\n\n\
    ```rust\nlet x = 1; // 注释\n```\n\n---\n";

#[test]
fn every_built_in_theme_renders_a_sample_answer() {
    let syntect_themes = syntect::highlighting::ThemeSet::load_defaults();
    let names: Vec<String> = theme::list(None).into_iter().map(|t| t.name).collect();
    assert!(names.len() >= 6, "{names:?}");
    for name in names {
        let theme = theme::load_with(&name, None, false).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            syntect_themes.themes.contains_key(&theme.syntax),
            "{name}: syntax {:?} is not a bundled syntect theme",
            theme.syntax
        );
        for width in [1, 20, 80] {
            let lines = render(SAMPLE, width, &theme);
            assert_fits(&lines, width, SAMPLE);
            assert!(
                text(&lines).replace('\n', "").contains("Plan"),
                "{name} at {width}"
            );
        }
        let lines = render(SAMPLE, 80, &theme);
        // The code is highlighted in this theme's syntax colours.
        assert!(matches!(
            span_with(&lines, "let").style.fg,
            Some(Color::Rgb(..))
        ));
        let no_color = theme::load_with(&name, None, true).unwrap();
        let lines = render(SAMPLE, 80, &no_color);
        for span in lines.iter().flat_map(|l| &l.spans) {
            assert!(
                span.style.fg.is_none_or(|c| c == Color::Reset)
                    && span.style.bg.is_none_or(|c| c == Color::Reset),
                "{name} with NO_COLOR: {span:?}"
            );
        }
    }
}

/// A small deterministic generator, so a failure names a seed that repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn every_line_fits_every_width() {
    const PIECES: &[&str] = &[
        "word ",
        "longerwordwithoutanyspacesatall ",
        "中文字符 ",
        "日本語のテキスト",
        "👍🎉 ",
        "👨‍👩‍👧 ",
        "e\u{301} ",
        "**bold** ",
        "*it* ",
        "`code 中` ",
        "[link](https://example.com/a/long/path) ",
        "\n\n",
        "\n",
        "\n- ",
        "\n  - ",
        "\n1. ",
        "\n> ",
        "\n>> ",
        "\n# ",
        "\n### ",
        "\n```rust\nfn 中() { let s = \"👍👍👍👍👍👍👍👍👍\"; }\n",
        "\n```\n",
        "\n    indented 中文 code\n",
        "\n| a | 中文 | 👍 |\n|---|:-:|--:|\n| x | 很长的中文单元格内容 | y |\n",
        "| more | cells |\n",
        "\n---\n",
        "\t",
        "- [ ] task ",
    ];
    let theme = Theme::default();
    for seed in 1..=60u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let len = 5 + rng.next() % 40;
        let md: String = (0..len).map(|_| rng.pick(PIECES)).collect();
        for width in 1..=80 {
            let lines = render(&md, width, &theme);
            assert_fits(&lines, width, &md);
        }
    }
}

#[test]
fn an_answer_drawn_in_a_pane() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::widgets::{Block, Paragraph};

    let theme = Theme::default();
    let mut terminal = Terminal::new(TestBackend::new(42, 22)).unwrap();
    terminal
        .draw(|frame| {
            let area = frame.area();
            let block = Block::bordered();
            let lines = render(SAMPLE, usize::from(block.inner(area).width), &theme);
            frame.render_widget(Paragraph::new(lines).block(block), area);
        })
        .unwrap();
    insta::assert_snapshot!(terminal.backend());
}
