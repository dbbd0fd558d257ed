//! Frame time of the whole screen (both panes, input, status) with a long transcript
//! in each pane: while a token streams in at the bottom, and after a scroll keypress.
//! The same frames with 10 KB transcripts are the baseline: a frame should cost what
//! is visible, not the transcript's length. And a token's frame as the chat's loop
//! makes it (painted over the last frame, sent as escape codes) against the same
//! frame drawn whole by ratatui's `Terminal`. Run with `cargo bench --bench frame`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

mod common;

use common::{SIZES, sample_answer};
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use duel::app::state::{Setup, State};
use duel::app::{Effect, Msg, update};
use duel::config::{demo_config, parse_str};
use duel::domain::{Finish, Side, StreamEvent};
use duel::theme::Theme;
use duel::ui::{Canvas, ViewCache, draw, paint};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

fn main() {
    divan::main();
}

/// A 160×48 screen whose two panes hold `len` bytes of answer each, streamed in as
/// 1 KB deltas with a frame after each; with `finished`, both answers have ended.
struct Screen {
    state: State,
    cache: ViewCache,
    terminal: Terminal<TestBackend>,
    theme: Theme,
    generations: [u64; 2],
}

impl Screen {
    fn new(len: usize, finished: bool) -> Self {
        let config = demo_config(&parse_str("", None).expect("built-in config"));
        let pair = [config.models[0].clone(), config.models[1].clone()];
        let state = State::new(&config, pair, "/nonexistent".into(), Setup::default());
        let mut screen = Self {
            state,
            cache: ViewCache::default(),
            terminal: Terminal::new(TestBackend::new(160, 48)).expect("terminal"),
            theme: Theme::default(),
            generations: [0; 2],
        };
        for c in "compare these".chars() {
            screen.key(KeyCode::Char(c));
        }
        for effect in update(
            &mut screen.state,
            Msg::Key(press(KeyCode::Enter)),
            Instant::now(),
        ) {
            if let Effect::Start {
                side, generation, ..
            } = effect
            {
                screen.generations[side.index()] = generation;
            }
        }
        let answer = sample_answer(len);
        let mut rest = answer.as_str();
        while !rest.is_empty() {
            let mut cut = rest.len().min(1024);
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            for side in Side::BOTH {
                screen.stream(side, StreamEvent::Text(rest[..cut].to_owned()));
            }
            rest = &rest[cut..];
            screen.frame();
        }
        if finished {
            for side in Side::BOTH {
                screen.stream(side, StreamEvent::Finish(Finish::Stop));
            }
        }
        screen.frame();
        screen
    }

    fn key(&mut self, code: KeyCode) {
        update(&mut self.state, Msg::Key(press(code)), Instant::now());
    }

    fn stream(&mut self, side: Side, event: StreamEvent) {
        let msg = Msg::Stream {
            side,
            generation: self.generations[side.index()],
            event,
            pieces: 1,
        };
        update(&mut self.state, msg, Instant::now());
    }

    /// The `n`th token of prose in each pane: paragraphs of 60 tokens.
    fn prose_token(&mut self, n: usize) {
        let token = if n.is_multiple_of(60) {
            "\n\ntoken"
        } else {
            " token"
        };
        for side in Side::BOTH {
            self.stream(side, StreamEvent::Text(token.into()));
        }
    }

    /// The frame as the chat's loop makes it: painted over the last, the rows it
    /// painted compared and sent as escape codes.
    fn paint_over(&mut self, canvas: &mut Canvas, out: &mut CrosstermBackend<std::io::Sink>) {
        let retained = canvas.retained();
        let painted = paint(
            canvas.scene(),
            &self.state,
            &self.theme,
            &mut self.cache,
            retained,
        );
        self.state.screen = painted.screen;
        canvas.show(out, &painted.damage).expect("show");
    }

    fn frame(&mut self) {
        let Self {
            state,
            cache,
            terminal,
            theme,
            ..
        } = self;
        terminal
            .draw(|frame| state.screen = draw(frame, state, theme, cache))
            .expect("draw");
    }
}

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// A token arrives in each pane, then the frame is drawn (the view follows the bottom).
#[divan::bench(args = SIZES, sample_count = 20)]
fn token_then_frame(bencher: divan::Bencher, len: usize) {
    let mut screen = Screen::new(len, false);
    bencher.bench_local(|| {
        for side in Side::BOTH {
            screen.stream(side, StreamEvent::Text(" token".into()));
        }
        screen.frame();
    });
}

/// Page Up (and back down, to stay in the transcript) in a finished conversation.
#[divan::bench(args = SIZES, sample_count = 20)]
fn scroll_key_then_frame(bencher: divan::Bencher, len: usize) {
    let mut screen = Screen::new(len, true);
    let mut up = true;
    bencher.bench_local(|| {
        screen.key(if up {
            KeyCode::PageUp
        } else {
            KeyCode::PageDown
        });
        up = !up;
        screen.frame();
    });
}

/// What the terminal is sent, as escape codes; nothing kept.
fn escape_codes() -> CrosstermBackend<std::io::Sink> {
    CrosstermBackend::new(std::io::sink())
}

/// Baseline: a token of prose (paragraphs of 60) arrives in each pane, and ratatui's
/// `Terminal` draws the frame whole and sends what changed (what the loop did before
/// it painted over).
#[divan::bench(args = SIZES, sample_count = 20)]
fn token_then_whole_frame_sent(bencher: divan::Bencher, len: usize) {
    let mut screen = Screen::new(len, false);
    let viewport = Viewport::Fixed(Rect::new(0, 0, 160, 48));
    let mut terminal =
        Terminal::with_options(escape_codes(), TerminalOptions { viewport }).expect("terminal");
    let mut tokens = 0;
    bencher.bench_local(|| {
        tokens += 1;
        screen.prose_token(tokens);
        let Screen {
            state,
            cache,
            theme,
            ..
        } = &mut screen;
        terminal
            .draw(|frame| state.screen = draw(frame, state, theme, cache))
            .expect("draw");
    });
}

/// A token of prose arrives in each pane, and the frame is painted over the last and
/// sent, as the chat's loop does.
#[divan::bench(args = SIZES, sample_count = 20)]
fn token_then_frame_painted_over(bencher: divan::Bencher, len: usize) {
    let mut screen = Screen::new(len, false);
    let mut canvas = Canvas::new(Rect::new(0, 0, 160, 48));
    let mut out = escape_codes();
    screen.paint_over(&mut canvas, &mut out);
    let mut tokens = 0;
    bencher.bench_local(|| {
        tokens += 1;
        screen.prose_token(tokens);
        screen.paint_over(&mut canvas, &mut out);
    });
}
