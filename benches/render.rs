//! Rendering answers: Markdown with code blocks, 10 KB and 1 MB, against plain
//! wrapping of the same text in the same run. Run with `cargo bench --bench render`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

mod common;

use common::{SIZES, sample_answer};
use duel::theme::Theme;
use duel::ui::markdown::{Highlights, render, render_with};
use duel::ui::wrap::wrap_text;
use ratatui::style::Style;

fn main() {
    divan::main();
}

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
    let mut highlights = Highlights::default();
    for _ in 0..(len / 10_000 + 1) {
        render_with(&text, 80, &theme, &mut highlights);
    }
    bencher.bench_local(|| render_with(&text, 80, &theme, &mut highlights));
}

/// Markdown without code blocks: prose, lists, tables only.
#[divan::bench(args = SIZES, sample_count = 10)]
fn markdown_prose_only(bencher: divan::Bencher, len: usize) {
    let text = sample_answer(len).replace("```", "");
    let theme = Theme::default();
    bencher.bench(|| render(&text, 80, &theme));
}
