//! Rendering answers: Markdown with code blocks, 10 KB and 1 MB, against plain
//! wrapping of the same text in the same run. Run with `cargo bench --bench render`.

use duel::text::wrap_text;
use duel::theme::Theme;
use duel::ui::markdown::render;
use ratatui::style::Style;

fn main() {
    divan::main();
}

/// About `len` bytes of a typical answer: prose, a list, a table, code.
fn sample_answer(len: usize) -> String {
    let chunk = "## Section\n\nSome **bold** prose with `inline code`, a [link](https://example.com) and 中文 text that wraps.\n\n- first item\n- second item with *emphasis*\n  1. nested\n\n| a | b |\n|---|---|\n| 1 | two |\n\n```rust\nfn main() {\n    let x = vec![1, 2, 3];\n    println!(\"{x:?}\");\n}\n```\n\n";
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(&chunk.replace("x = vec", &format!("x{i} = vec")));
        i += 1;
    }
    s
}

const SIZES: [usize; 2] = [10_000, 1_000_000];

/// Baseline: the same text wrapped as plain lines, no Markdown.
#[divan::bench(args = SIZES, sample_count = 10)]
fn baseline_plain_wrap(bencher: divan::Bencher, len: usize) {
    let text = sample_answer(len);
    bencher.bench(|| wrap_text(&text, Style::default(), 80));
}

/// Markdown with highlighted code, once the code blocks are in the highlight cache
/// (the streaming case: each frame re-renders what is already known).
#[divan::bench(args = SIZES, sample_count = 10)]
fn markdown_cached(bencher: divan::Bencher, len: usize) {
    let text = sample_answer(len);
    let theme = Theme::default();
    for _ in 0..(len / 10_000 + 1) {
        render(&text, 80, &theme);
    }
    bencher.bench(|| render(&text, 80, &theme));
}

/// Markdown without code blocks: prose, lists, tables only.
#[divan::bench(args = SIZES, sample_count = 10)]
fn markdown_prose_only(bencher: divan::Bencher, len: usize) {
    let text = sample_answer(len).replace("```", "");
    let theme = Theme::default();
    bencher.bench(|| render(&text, 80, &theme));
}
