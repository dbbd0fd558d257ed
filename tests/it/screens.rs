//! What the screen shows, as snapshots of ratatui's TestBackend: while streaming,
//! after a vote, with an error in one pane, with CJK and emoji.

use std::time::{Duration, Instant};

use crate::common;
use common::config::in_memory;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use duel::app::state::{Scroll, Setup, State};
use duel::app::{Effect, Msg, update};
use duel::config::{Endpoint, Layout, ModelSpec, WireKind};
use duel::domain::{ErrorKind, Finish, ProviderError, Side, StreamEvent, Usage};
use duel::theme::Theme;
use duel::ui::{Canvas, ViewCache, draw, paint};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn model(name: &str, env: &str) -> ModelSpec {
    let endpoint = Endpoint {
        api_key_env: Some(env.into()),
        ..Endpoint::new(WireKind::OpenAi, "https://example.invalid/v1")
    };
    ModelSpec::new(name, "dashscope", name, endpoint)
}

/// A state whose clock is under the test's control.
struct Scene {
    state: State,
    t0: Instant,
    gens: [u64; 2],
    /// Kept across renders, as the run loop keeps it across frames.
    cache: ViewCache,
    /// A terminal painted over frame after frame, as the run loop paints it, with a
    /// cache of its own.
    screen: Option<(Canvas, Emulator, ViewCache)>,
}

impl Scene {
    fn new(layout: Layout) -> Self {
        Self::with_setup(layout, Setup::default())
    }

    fn with_setup(layout: Layout, setup: Setup) -> Self {
        // Env vars nobody sets, so the key status reads "missing" the same everywhere.
        let a = model("qwen-plus", "DUEL_SNAPSHOT_UNSET_A");
        let b = model("ernie-4.5", "DUEL_SNAPSHOT_UNSET_B");
        let mut config = in_memory(vec![a.clone(), b.clone()], "snap");
        config.ui.layout = layout;
        Self {
            state: State::new(&config, [a, b], "/nonexistent".into(), setup),
            t0: Instant::now(),
            gens: [0, 0],
            cache: ViewCache::default(),
            screen: None,
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn send(&mut self, prompt: &str) {
        for c in prompt.chars() {
            let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
            update(&mut self.state, Msg::Key(key), self.t0);
        }
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        let effects = update(&mut self.state, Msg::Key(enter), self.t0);
        for effect in effects {
            if let Effect::Start {
                side, generation, ..
            } = effect
            {
                self.gens[side.index()] = generation;
            }
        }
    }

    fn event(&mut self, side: Side, ms: u64, event: StreamEvent) {
        let msg = Msg::Stream {
            side,
            generation: self.gens[side.index()],
            event,
            pieces: 1,
        };
        self.msg(msg, ms);
    }

    fn msg(&mut self, msg: Msg, ms: u64) {
        let at = self.at(ms);
        update(&mut self.state, msg, at);
    }

    fn text(&mut self, side: Side, ms: u64, text: &str) {
        self.event(side, ms, StreamEvent::Text(text.into()));
    }

    fn finish(&mut self, side: Side, ms: u64, output_tokens: u64) {
        self.event(
            side,
            ms,
            StreamEvent::Usage(Usage {
                input_tokens: Some(10),
                output_tokens: Some(output_tokens),
                ..Default::default()
            }),
        );
        self.event(side, ms, StreamEvent::Finish(Finish::Stop));
    }

    fn render(&mut self, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        let theme = Theme::default();
        terminal
            .draw(|frame| self.state.screen = draw(frame, &self.state, &theme, &mut self.cache))
            .expect("draw");
        terminal.backend().to_string()
    }
}

#[test]
fn first_run_without_keys() {
    let mut scene = Scene::new(Layout::Columns);
    insta::assert_snapshot!(scene.render(80, 20));
}

#[test]
fn streaming() {
    let mut scene = Scene::new(Layout::Columns);
    scene.send("Write a haiku about Rust");
    scene.text(
        Side::A,
        320,
        "Ownership is clear,\nborrowed values come and go",
    );
    scene.text(Side::A, 400, ",\nno data races here.");
    scene.finish(Side::A, 900, 21);
    scene.text(Side::B, 700, "Memory is safe");
    scene.msg(Msg::Tick, 1000);
    insta::assert_snapshot!(scene.render(80, 20));
}

#[test]
fn after_a_vote() {
    let mut scene = Scene::new(Layout::Columns);
    scene.send("2+2?");
    scene.text(Side::A, 100, "4");
    scene.finish(Side::A, 150, 1);
    scene.text(Side::B, 200, "It is 4.");
    scene.finish(Side::B, 260, 4);
    let alt1 = KeyEvent::new(KeyCode::Char('1'), KeyModifiers::ALT);
    let at = scene.at(300);
    let effects = update(&mut scene.state, Msg::Key(alt1), at);
    let ids = effects
        .iter()
        .flat_map(|e| match e {
            Effect::SaveVotes(records) => records.iter().map(|r| r.id).collect(),
            _ => Vec::new(),
        })
        .collect();
    scene.msg(
        Msg::VotesSaved {
            ids,
            result: Ok(duel::store::Kept::Stored),
        },
        310,
    );
    insta::assert_snapshot!(scene.render(80, 16));
}

/// With prices, each pane's footer shows what its latest answer cost and what the
/// conversation has cost that side so far; an unpriced model shows `—`, never 0;
/// while the names are hidden, no cost shows (a price tells models apart).
#[test]
fn a_priced_pane_shows_the_answer_s_cost_and_the_conversation_s() {
    use duel::cost::{Money, Price, Prices};
    let price = Price {
        input: 0.8,
        output: 2.0,
        cached_input: None,
        reasoning: None,
        currency: "CNY".into(),
    };
    let money = Money {
        currency: Some("CNY".into()),
        ..Money::default()
    };
    for blind in [false, true] {
        let mut scene = Scene::with_setup(
            Layout::Columns,
            Setup {
                blind,
                ..Setup::default()
            },
        );
        scene.state.prices = Prices::new([("qwen-plus", &price)], &money);
        for (turn, prompt) in ["first", "second"].into_iter().enumerate() {
            scene.send(prompt);
            let ms = 1000 * turn as u64;
            scene.text(Side::A, ms + 100, "An answer.");
            // 10 in at 0.8 and 500 out at 2.0 per million: ¥0.001008.
            scene.finish(Side::A, ms + 200, 500);
            scene.text(Side::B, ms + 100, "Another.");
            scene.finish(Side::B, ms + 200, 500);
            if blind {
                break;
            }
        }
        let wide = scene.render(200, 20);
        let narrow = scene.render(120, 20);
        if blind {
            assert!(
                !wide.contains('¥') && !wide.contains("conversation"),
                "{wide}"
            );
        } else {
            assert!(wide.contains("· ¥0.0010 (conversation ¥0.0020)"), "{wide}");
            assert!(wide.contains("· — (conversation —)"), "{wide}");
            // Where the long form does not fit, the latest answer's cost still shows.
            assert!(narrow.contains("· 1.2s · ¥0.0010 ┛"), "{narrow}");
        }
    }
}

#[test]
fn an_error_in_one_pane_while_the_other_streams() {
    let mut scene = Scene::new(Layout::Columns);
    scene.send("Hello");
    scene.text(Side::A, 250, "Hi! How can I help you today?");
    scene.event(
        Side::B,
        300,
        StreamEvent::Error(
            ProviderError::new(ErrorKind::Auth, "Incorrect API key provided.")
                .with_status(401)
                .with_hint("check QIANFAN_API_KEY: the server refused the key it holds"),
        ),
    );
    scene.msg(Msg::Tick, 500);
    insta::assert_snapshot!(scene.render(80, 16));
}

#[test]
fn cjk_and_emoji_take_their_real_width() {
    let mut scene = Scene::new(Layout::Columns);
    scene.send("用一句话介绍你自己");
    scene.text(
        Side::A,
        200,
        "我是通义千问，阿里巴巴推出的大语言模型。我可以回答问题、写作和编程。👍",
    );
    scene.finish(Side::A, 600, 30);
    scene.text(
        Side::B,
        300,
        "你好！我是文心一言，百度研发的知识增强大语言模型 🚀🚀",
    );
    scene.finish(Side::B, 700, 25);
    let screen = scene.render(60, 14);
    insta::assert_snapshot!(screen);
}

#[test]
fn rows_layout_stacks_the_panes() {
    let mut scene = Scene::new(Layout::Rows);
    scene.send("ping");
    scene.text(Side::A, 100, "pong");
    scene.finish(Side::A, 120, 1);
    scene.text(Side::B, 100, "pong!");
    scene.finish(Side::B, 130, 2);
    insta::assert_snapshot!(scene.render(60, 18));
}

#[test]
fn escape_sequences_from_a_model_show_as_text() {
    let mut scene = Scene::new(Layout::Columns);
    scene.send("x");
    scene.text(
        Side::A,
        100,
        "clear\x1b[2J\x1b]0;pwned\x07 bell\x07 back\x08",
    );
    scene.finish(Side::A, 120, 1);
    let screen = scene.render(120, 12);
    assert!(
        screen.contains("clear␛[2J␛]0;pwned␇ bell␇ back␈"),
        "{screen}"
    );
}

#[test]
fn help_lists_every_binding() {
    let mut scene = Scene::new(Layout::Columns);
    let f1 = KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE);
    scene.msg(Msg::Key(f1), 0);
    insta::assert_snapshot!(scene.render(90, 24));
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut scene = Scene::new(Layout::Columns);
    scene.send("hello there");
    scene.text(Side::A, 100, "some text 中文 👍 that wraps");
    for (w, h) in [(1, 1), (10, 3), (20, 6), (40, 12), (300, 80)] {
        scene.render(w, h);
    }
}

#[test]
fn blind_mode_hides_every_name_until_the_vote() {
    let setup = Setup {
        blind: true,
        seed: Some(5),
        ..Setup::default()
    };
    let mut scene = Scene::with_setup(Layout::Columns, setup);
    let empty = scene.render(80, 16);
    scene.send("Who are you?");
    scene.text(Side::A, 200, "An assistant.");
    scene.finish(Side::A, 300, 3);
    scene.event(
        Side::B,
        300,
        StreamEvent::Error(
            ProviderError::new(ErrorKind::NotFound, "model ernie-4.5 does not exist")
                .with_status(404)
                .with_hint("check the model id for qianfan"),
        ),
    );
    let before = scene.render(80, 16);
    for screen in [&empty, &before] {
        for name in ["qwen", "ernie", "dashscope", "qianfan", "DUEL_SNAPSHOT"] {
            assert!(
                !screen.contains(name),
                "{name} leaked before the vote:\n{screen}"
            );
        }
    }
    insta::assert_snapshot!("blind_before_vote", before);

    let alt1 = KeyEvent::new(KeyCode::Char('1'), KeyModifiers::ALT);
    scene.msg(Msg::Key(alt1), 400);
    let after = scene.render(80, 16);
    assert!(
        after.contains("qwen-plus") && after.contains("ernie-4.5"),
        "{after}"
    );
    assert!(
        after.contains("does not exist"),
        "the error's details show after the vote"
    );
}

#[test]
fn the_model_picker_marks_missing_keys() {
    let mut scene = Scene::new(Layout::Columns);
    let ctrl_p = KeyEvent::new(KeyCode::Char('p'), KeyModifiers::CONTROL);
    scene.msg(Msg::Key(ctrl_p), 0);
    for c in "qw".chars() {
        scene.msg(
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
            0,
        );
    }
    let screen = scene.render(80, 16);
    assert!(screen.contains("Model for pane A"), "{screen}");
    assert!(screen.contains("⚠ set DUEL_SNAPSHOT_UNSET_A"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_terminal_below_40_by_12_says_it_is_too_small() {
    let mut scene = Scene::new(Layout::Columns);
    let screen = scene.render(39, 12);
    assert!(screen.contains("too small"), "{screen}");
    assert!(!scene.render(40, 12).contains("too small"));
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> Msg {
    Msg::Key(KeyEvent::new(code, modifiers))
}

#[test]
fn a_new_conversation_shows_its_own_prompt() {
    for blind in [false, true] {
        let setup = Setup {
            blind,
            seed: Some(3),
            ..Setup::default()
        };
        let mut scene = Scene::with_setup(Layout::Columns, setup);
        scene.send("alpha");
        scene.text(Side::A, 100, "first answer");
        scene.finish(Side::A, 120, 2);
        scene.text(Side::B, 100, "first answer");
        scene.finish(Side::B, 130, 2);
        assert!(scene.render(80, 16).contains("› alpha"));
        scene.msg(key(KeyCode::Char('n'), KeyModifiers::CONTROL), 200);
        scene.send("beta");
        scene.text(Side::A, 300, "second answer");
        scene.text(Side::B, 300, "second answer");
        let screen = scene.render(80, 16);
        assert!(
            !screen.contains("alpha"),
            "blind {blind}: the old prompt is still shown:\n{screen}"
        );
        assert_eq!(screen.matches("› beta").count(), 2, "{screen}");
    }
}

#[test]
fn after_a_swap_each_answer_names_the_model_that_wrote_it() {
    let mut scene = Scene::new(Layout::Columns);
    scene.send("one");
    scene.text(Side::A, 100, "qwen's answer");
    scene.finish(Side::A, 120, 2);
    scene.text(Side::B, 100, "ernie's answer");
    scene.finish(Side::B, 130, 2);
    let before = scene.render(80, 24);
    assert!(
        !before.contains("answers ┄"),
        "one model per pane: no labels\n{before}"
    );

    scene.msg(key(KeyCode::Esc, KeyModifiers::NONE), 200);
    scene.msg(key(KeyCode::Char('s'), KeyModifiers::NONE), 200);
    scene.msg(key(KeyCode::Enter, KeyModifiers::NONE), 200);
    scene.send("two");
    scene.text(Side::A, 300, "ernie again");
    scene.finish(Side::A, 320, 2);
    scene.text(Side::B, 300, "qwen again");
    scene.finish(Side::B, 330, 2);
    scene.msg(key(KeyCode::Char('1'), KeyModifiers::ALT), 400);
    let screen = scene.render(80, 24);
    insta::assert_snapshot!(screen);
    let pane_a: String = screen
        .lines()
        .map(|l| l.chars().take(41).collect::<String>() + "\n")
        .collect();
    let order: Vec<usize> = [
        "A · ernie-4.5",
        "┄ qwen-plus answers ┄",
        "qwen's answer",
        "┄ ernie-4.5 answers ┄",
        "ernie again",
        "voted: A (ernie-4.5) is better",
    ]
    .iter()
    .map(|s| {
        pane_a
            .find(s)
            .unwrap_or_else(|| panic!("{s:?} missing:\n{pane_a}"))
    })
    .collect();
    assert!(order.is_sorted(), "{order:?}\n{pane_a}");
    // In a narrow pane the vote line wraps rather than losing its end.
    let narrow = scene.render(50, 30);
    assert!(narrow.contains("is better"), "{narrow}");
}

/// Collects what a real terminal backend writes, for a `vt100` parser to replay.
#[derive(Clone, Default)]
struct Written(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Written {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_popup_over_cjk_keeps_its_left_border_on_a_real_terminal() {
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::{TerminalOptions, Viewport};

    let (width, height) = (90, 24);
    let mut scene = Scene::new(Layout::Columns);
    // One ASCII letter first: every wide character then starts on an even column,
    // so one straddles column 5, where the help's left border goes.
    scene.send("x");
    scene.text(Side::A, 100, &format!("x{}", "所有权规则".repeat(30)));
    scene.finish(Side::A, 120, 2);
    let written = Written::default();
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(written.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, width, height)),
        },
    )
    .expect("terminal");
    let theme = Theme::default();
    let mut frame = |scene: &mut Scene| {
        terminal
            .draw(|frame| {
                draw(frame, &scene.state, &theme, &mut scene.cache);
            })
            .expect("draw");
    };
    frame(&mut scene);
    scene.msg(key(KeyCode::F(1), KeyModifiers::NONE), 200);
    frame(&mut scene);

    let size = |n: u16| std::num::NonZeroU16::new(n).expect("a size");
    let mut screen = vt100::Parser::new(size(height), size(width), 0);
    screen.process(&written.0.lock().expect("lock"));
    let column: String = (0..height)
        .map(|row| {
            screen
                .screen()
                .cell(row, 5)
                .map_or(String::new(), |c| c.contents().to_owned())
        })
        .collect();
    // The help's whole left edge shows, top to bottom.
    let edge = column
        .find('╭')
        .zip(column.find('╰'))
        .map(|(top, bottom)| &column[top..bottom]);
    assert!(
        edge.is_some_and(|edge| edge.chars().skip(1).all(|c| c == '│')),
        "column 5 reads {column:?}:\n{}",
        screen.screen().contents()
    );
}

#[test]
fn help_and_quit_always_show_at_80_columns() {
    let mut scene = Scene::new(Layout::Columns);
    let footer = |scene: &mut Scene| scene.render(80, 16).lines().last().unwrap_or("").to_owned();
    let idle = footer(&mut scene);
    assert!(idle.contains("F1 help · Ctrl+Q quit"), "{idle}");
    scene.send("a prompt");
    let streaming = footer(&mut scene);
    assert!(streaming.contains("F1 help · Ctrl+Q quit"), "{streaming}");
    scene.event(
        Side::A,
        100,
        StreamEvent::Retry(duel::provider::Retry {
            kind: ErrorKind::RateLimit,
            status: Some(429),
            wait: Duration::from_secs(2),
            attempt: 1,
            of: 2,
        }),
    );
    let screen = scene.render(120, 16);
    assert!(
        screen.contains("↻ rate limited (HTTP 429), retrying in 2 s (2 of 3)"),
        "{screen}"
    );
    assert!(screen.contains(" retrying "), "the badge: {screen}");
    scene.state.set_status(
        duel::app::state::StatusKind::Warning,
        "a very long status message that would take the whole line and more besides",
    );
    let long = footer(&mut scene);
    assert!(long.contains("F1 help · Ctrl+Q quit"), "{long}");
    scene.msg(key(KeyCode::Esc, KeyModifiers::NONE), 200);
    scene.msg(key(KeyCode::Esc, KeyModifiers::NONE), 200);
    let browse = footer(&mut scene);
    assert!(browse.contains("? help · q quit"), "{browse}");
}

#[test]
fn a_bidi_override_in_a_model_name_never_reaches_the_screen() {
    let mut scene = Scene::new(Layout::Columns);
    scene.state.side_mut(Side::A).model.name = "qwen\u{202e}-plus\u{1b}]0;x\u{7}".into();
    let screen = scene.render(80, 16);
    assert!(screen.contains("A · qwen-plus␛]0;x␇"), "{screen}");
    assert!(
        !screen.contains(['\u{202e}', '\u{1b}', '\u{7}']),
        "{screen:?}"
    );
}

#[test]
fn the_wheel_scrolls_the_pane_the_last_frame_drew_under_the_pointer() {
    use crossterm::event::{MouseEvent, MouseEventKind};
    let mut scene = Scene::new(Layout::Rows);
    scene.send("hello");
    let long: String = (1..=80).map(|i| format!("line {i}\n\n")).collect();
    scene.text(Side::B, 100, &long);
    scene.finish(Side::B, 200, 80);
    scene.render(100, 30);
    let [a, b] = scene.state.screen.panes;
    assert!(a.area.bottom() <= b.area.top(), "stacked: {a:?} {b:?}");
    assert!(
        b.total_lines > b.height,
        "B's transcript is longer than its pane"
    );
    let wheel = |row| {
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollUp,
            column: 10,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    scene.msg(wheel(b.area.top() + 1), 300);
    assert_eq!(scene.state.focus, Side::B);
    assert!(matches!(scene.state.sides[1].scroll, Scroll::Top(_)));
    scene.msg(wheel(a.area.top() + 1), 300);
    assert_eq!(scene.state.focus, Side::A);
}

#[test]
fn help_shows_compose_and_browse_side_by_side_on_a_wide_screen() {
    let mut scene = Scene::new(Layout::Columns);
    scene.msg(key(KeyCode::Esc, KeyModifiers::NONE), 0);
    scene.msg(key(KeyCode::Char('?'), KeyModifiers::NONE), 0);
    insta::assert_snapshot!(scene.render(110, 24));
}

#[test]
fn a_pane_waiting_out_a_rate_limit_says_for_what_and_which_attempt() {
    let mut scene = Scene::new(Layout::Columns);
    scene.send("a prompt");
    scene.event(
        Side::A,
        100,
        StreamEvent::Retry(duel::provider::Retry {
            kind: ErrorKind::RateLimit,
            status: Some(429),
            wait: Duration::from_secs(30),
            attempt: 1,
            of: 2,
        }),
    );
    let wide = scene.render(120, 35);
    assert!(
        wide.contains("↻ rate limited (HTTP 429), retrying in 30 s (2 of 3)"),
        "{wide}"
    );
    let narrow = scene.render(80, 24);
    assert!(narrow.contains("in 30 s (2 of 3)"), "{narrow}");
    assert!(narrow.contains(" retrying "), "the badge: {narrow}");
    // The wait counts down as it passes.
    scene.msg(Msg::Tick, 10_100);
    let later = scene.render(120, 35);
    assert!(later.contains("retrying in 20 s (2 of 3)"), "{later}");
    scene.msg(Msg::Tick, 29_700);
    let last = scene.render(120, 35);
    assert!(last.contains("retrying in 400 ms (2 of 3)"), "{last}");
}

#[test]
fn one_line_of_reasoning_is_one_line() {
    let mut scene = Scene::new(Layout::Columns);
    scene.send("think");
    scene.event(
        Side::A,
        100,
        StreamEvent::Reasoning("Just one thought.".into()),
    );
    scene.text(Side::A, 200, "Done.");
    scene.finish(Side::A, 300, 3);
    let screen = scene.render(120, 35);
    assert!(
        screen.contains("▸ thought for 1 line (e shows it)"),
        "{screen}"
    );
}

/// The screen's last line: the status line.
fn status_line(screen: &str) -> String {
    screen.lines().last().unwrap_or("").to_owned()
}

#[test]
fn the_footer_says_what_each_vote_digit_means_where_it_fits() {
    let mut scene = Scene::new(Layout::Columns);
    scene.send("2+2?");
    scene.text(Side::A, 100, "4");
    scene.finish(Side::A, 150, 1);
    scene.text(Side::B, 200, "It is 4.");
    scene.finish(Side::B, 260, 4);
    scene.state.status = None;
    let compose = status_line(&scene.render(120, 35));
    assert!(
        compose.contains("Alt+1-4 vote: 1 A · 2 B · 3 tie · 4 both bad"),
        "{compose}"
    );
    scene.msg(key(KeyCode::Esc, KeyModifiers::NONE), 300);
    scene.state.status = None;
    for (width, height) in [(80, 24), (120, 35)] {
        let browse = status_line(&scene.render(width, height));
        assert!(
            browse.contains("1-4 vote: 1 A · 2 B · 3 tie · 4 both bad"),
            "{width}×{height}: {browse}"
        );
        assert!(browse.contains("? help · q quit"), "{browse}");
    }
}

/// Pieces an answer streams in: words, CJK, emoji, Markdown that changes what came
/// before it, a code block, line breaks.
const PIECES: &[&str] = &[
    "tok ",
    "word, ",
    "所有权 ",
    "👍 ",
    "**bold** ",
    "`c` ",
    "\n",
    "\n\n",
    "- item\n",
    "# Head\n",
    "```rust\n",
    "let x = 1;\n",
    "```\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n",
    "1. one\n",
];

impl Scene {
    /// A frame painted over the last, the loop's way, on a terminal emulator (`hold`:
    /// the streaming answers held back, as for a key's frame while they are costly);
    /// returns what the terminal shows and how many rows the frame painted.
    fn paint_over(&mut self, width: u16, height: u16, hold: bool) -> (String, usize) {
        let area = ratatui::layout::Rect::new(0, 0, width, height);
        let (canvas, term, cache) = self.screen.get_or_insert_with(|| {
            let mut term = Emulator::new(width, height);
            // As the loop does before its first frame.
            ratatui::backend::Backend::hide_cursor(&mut term.backend).expect("hide");
            (Canvas::new(area), term, ViewCache::default())
        });
        cache.hold_streaming(hold);
        let retained = canvas.retained();
        let painted = paint(
            canvas.scene(),
            &self.state,
            &Theme::default(),
            cache,
            retained,
        );
        self.state.screen = painted.screen;
        canvas
            .show(&mut term.backend, &painted.damage)
            .expect("show");
        (term.screen(), painted.damage.count())
    }

    /// The screen as a fresh cache draws it whole on a fresh terminal emulator.
    fn whole(&mut self, width: u16, height: u16) -> String {
        let mut term = Emulator::new(width, height);
        let viewport = ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, width, height));
        let backend = ratatui::backend::CrosstermBackend::new(term.written.clone());
        let mut terminal = Terminal::with_options(backend, ratatui::TerminalOptions { viewport })
            .expect("terminal");
        let theme = Theme::default();
        let mut cache = ViewCache::default();
        terminal
            .draw(|frame| self.state.screen = draw(frame, &self.state, &theme, &mut cache))
            .expect("draw");
        term.screen()
    }

    fn key(&mut self, code: KeyCode) {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        update(&mut self.state, Msg::Key(key), self.t0);
    }
}

/// A terminal emulator (vt100) fed what crossterm writes: it overwrites a wide
/// character as a real terminal does, which ratatui's TestBackend does not.
struct Emulator {
    written: Written,
    backend: ratatui::backend::CrosstermBackend<Written>,
    parser: vt100::Parser,
}

impl Emulator {
    fn new(width: u16, height: u16) -> Self {
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("a size");
        let written = Written::default();
        Self {
            backend: ratatui::backend::CrosstermBackend::new(written.clone()),
            written,
            parser: vt100::Parser::new(size(height), size(width), 0),
        }
    }

    /// Every cell's text, colours and attributes, a row a line: what the user sees (a
    /// blank written is a blank never written, and shows no foreground colour, bold or
    /// italic; the cursor is hidden).
    fn screen(&mut self) -> String {
        let written = std::mem::take(&mut *self.written.0.lock().expect("lock"));
        self.parser.process(&written);
        let screen = self.parser.screen();
        let (rows, cols) = (screen.size().0.get(), screen.size().1.get());
        let mut out = String::new();
        for row in 0..rows {
            for col in 0..cols {
                let cell = screen.cell(row, col).expect("a cell");
                if cell.is_wide_continuation() {
                    continue;
                }
                let (text, ink) = match cell.contents() {
                    "" | " " => (" ", None),
                    text => (text, Some((cell.fgcolor(), cell.bold(), cell.italic()))),
                };
                out += &format!(
                    "{text}[{ink:?} {:?} {} {}]",
                    cell.bgcolor(),
                    cell.underline(),
                    cell.inverse()
                );
            }
            out.push('\n');
        }
        out
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(21),
        ..Default::default()
    })]

    /// However the answers arrive, in whatever pieces, with frames painted over the
    /// last between them or not, some holding the streaming answers back (a key's
    /// frame while they are costly), with the panes scrolled, the focus moved and the
    /// help opened and closed on the way: what the terminal shows, once a frame brings
    /// the answers up to date, is exactly the screen a fresh cache draws whole from the
    /// whole answers. While they stream and after they end.
    #[test]
    fn the_screen_after_any_chunking_equals_a_whole_render(
        pieces in proptest::collection::vec(0..PIECES.len(), 1..60),
        cuts in proptest::collection::vec(1usize..30, 1..12),
        frames in proptest::collection::vec(0u8..8, 1..12),
        size in proptest::prop_oneof![proptest::strategy::Just((80u16, 24u16)), proptest::strategy::Just((120, 35))],
    ) {
        let text: String = pieces.iter().map(|&i| PIECES[i]).collect();
        let (width, height) = size;
        let mut scene = Scene::new(Layout::Columns);
        scene.send("q");
        let (mut end, mut b_end, mut ms) = (0, 0, 0);
        for (cut, frame) in cuts.iter().cycle().zip(frames.iter().cycle()) {
            let start = end;
            end = (end + cut).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            ms += 10;
            // A takes the text in as it is cut; B in fewer, larger pieces.
            scene.text(Side::A, ms, &text[start..end]);
            if *frame == 1 || end == text.len() {
                scene.text(Side::B, ms, &text[b_end..end]);
                b_end = end;
            }
            let key = match frame {
                4 => Some(KeyCode::PageUp),
                5 => Some(KeyCode::PageDown),
                6 => Some(KeyCode::Tab),
                7 => Some(KeyCode::F(1)),
                _ => None,
            };
            if let Some(key) = key {
                scene.key(key);
            }
            if *frame != 3 {
                scene.paint_over(width, height, *frame == 2);
            }
            if end == text.len() {
                break;
            }
        }
        let (streamed, _) = scene.paint_over(width, height, false);
        proptest::prop_assert_eq!(&streamed, &scene.whole(width, height), "{:?}", text);
        scene.finish(Side::A, ms + 10, 5);
        scene.finish(Side::B, ms + 10, 5);
        let (ended, _) = scene.paint_over(width, height, false);
        proptest::prop_assert_eq!(&ended, &scene.whole(width, height), "{:?}", text);
    }
}

/// A token that lengthens the last line of a pane paints that row, the panes'
/// edges, the prompt and the status line; not the whole screen.
#[test]
fn a_token_paints_the_rows_it_changed() {
    let mut scene = Scene::new(Layout::Columns);
    scene.send("q");
    scene.text(Side::A, 10, "Ownership is clear, borrowed");
    let (_, rows) = scene.paint_over(120, 35, false);
    assert_eq!(rows, 35, "the first frame paints everything");
    scene.text(Side::A, 20, " values");
    let (shown, rows) = scene.paint_over(120, 35, false);
    // The body row, the panes' top and bottom edges, the prompt (3 rows), the status.
    assert_eq!(rows, 1 + 2 + 3 + 1);
    assert_eq!(shown, scene.whole(120, 35));
    scene.msg(Msg::Tick, 30);
    let (_, rows) = scene.paint_over(120, 35, false);
    assert_eq!(rows, 2 + 3 + 1, "a tick paints the edges, not the body");
}
