//! The loop: terminal events and stream events become `Msg`s for `update`; effects
//! are carried out here; the screen is redrawn at most once a frame, only when
//! something changed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEventKind};
use futures_util::{Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::JoinHandle;

use crate::app::msg::{Effect, Msg};
use crate::app::state::State;
use crate::app::update::update;
use crate::conversation;
use crate::domain::Side;
use crate::domain::StreamEvent;
use crate::provider;
use crate::theme::Theme;
use crate::ui::{Canvas, ViewCache, paint};
use duel_core::store::{Files, Store, keep_votes};

/// ~60 frames a second at most: what the user does shows within a frame.
const FRAME: Duration = Duration::from_millis(16);
/// 10 frames a second at most while only streaming text changes the screen: a
/// couple of words a frame at a typical 20 tokens a second (the refresh rate of most
/// terminal tools), and two panes that stream cost under 1 % of a core; what the user
/// does is still drawn within `FRAME`.
const STREAM_FRAME: Duration = Duration::from_millis(100);
/// How often live timers refresh while an answer streams.
const TICK: Duration = Duration::from_millis(200);
/// Messages taken in one go before keys and the frame get their turn again.
const MAX_BURST: usize = 256;

/// The terminal events the app cares about; key releases and focus changes are not.
pub fn msg_from_event(event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => Some(Msg::Key(key)),
        Event::Paste(text) => Some(Msg::Paste(text)),
        Event::Mouse(mouse) => Some(Msg::Mouse(mouse)),
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}

/// A terminal on `backend` whose size is taken once and then from the resize events
/// (`run` resizes it), so a frame never asks the terminal its size (on a real one, a
/// file opened and an ioctl each time).
pub fn fixed_terminal<B: Backend>(backend: B) -> Result<Terminal<B>, B::Error> {
    let size = backend.size()?;
    Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, size.width, size.height)),
        },
    )
}

/// Runs the app until it quits or `input` ends, its votes and conversations going to
/// the data dir's files. Returns the final state.
pub async fn run<B: Backend + Frames>(
    terminal: &mut Terminal<B>,
    state: State,
    theme: Theme,
    input: impl Stream<Item = Msg> + Unpin,
) -> anyhow::Result<State>
where
    B::Error: Send + Sync + 'static,
{
    let store = Arc::new(Files::new(&state.data_dir));
    run_with(terminal, state, theme, input, store).await
}

/// [`run`], with votes and conversations going to `store` (votes it cannot take go
/// to the data dir's log, and the status says so).
pub async fn run_with<B: Backend + Frames>(
    terminal: &mut Terminal<B>,
    mut state: State,
    theme: Theme,
    input: impl Stream<Item = Msg> + Unpin,
    store: Arc<dyn Store>,
) -> anyhow::Result<State>
where
    B::Error: Send + Sync + 'static,
{
    let mut input = input.fuse();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut world = World {
        tx,
        data_dir: state.data_dir.clone(),
        store,
        providers: provider::Providers::default(),
        streams: [None, None],
        writes: Vec::new(),
        theme,
        clipboard: None,
    };
    let mut cache = ViewCache::default();
    // The fixed viewport's area: the terminal is not asked its size again.
    let mut canvas = Canvas::new(terminal.get_frame().area());
    terminal.hide_cursor()?;
    let mut dirty = true;
    let mut urgent = false;
    let mut last_draw: Option<Instant> = None;
    let mut pace = Pace::default();
    // On the frame clock too, so a timer's refresh wakes the loop with a frame's text.
    let mut tick = tokio::time::interval_at(tick_after(Instant::now()).into(), TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    while !state.quit {
        let due = last_draw.map_or(Instant::now(), |t| {
            if state.streaming() && !urgent {
                // On the frame clock, where the sides hand their text over.
                tick_after(t + pace.gap(true) - STREAM_FRAME)
            } else {
                t + FRAME
            }
        });
        let started = Instant::now();
        if dirty && started >= due {
            let hold = urgent && pace.hold(started);
            cache.hold_streaming(hold);
            let retained = canvas.retained();
            let painted = paint(canvas.scene(), &state, &world.theme, &mut cache, retained);
            state.screen = painted.screen;
            let backend = terminal.backend_mut();
            backend.begin_frame()?;
            canvas.show(backend, &painted.damage)?;
            backend.end_frame()?;
            dirty = false;
            urgent = false;
            let now = Instant::now();
            if !hold {
                pace.drawn(started, now);
            }
            last_draw = Some(now);
        }
        let streaming = state.streaming();
        let msg = tokio::select! {
            // Keys first: a side that floods never makes typing or Ctrl+Q wait.
            biased;
            msg = input.next() => msg.unwrap_or(Msg::Terminate),
            _ = tokio::time::sleep_until(due.into()), if dirty => continue,
            Some(msg) = rx.recv() => msg,
            _ = tick.tick(), if streaming => Msg::Tick,
        };
        urgent |= matches!(
            msg,
            Msg::Key(_) | Msg::Paste(_) | Msg::Mouse(_) | Msg::Resize(..)
        );
        if let Msg::Resize(width, height) = msg {
            // The terminal is cleared; the next frame paints all of it.
            terminal.resize(Rect::new(0, 0, width, height))?;
            canvas.resize(Rect::new(0, 0, width, height));
        }
        dirty |= handle(&mut state, msg, &mut world);
        // A burst of stream events becomes one frame; a flood of them still leaves
        // room for the next key and frame.
        for _ in 0..MAX_BURST {
            let Ok(msg) = rx.try_recv() else { break };
            dirty |= handle(&mut state, msg, &mut world);
        }
    }

    world.stop_all();
    world.finish_writes(&mut state, &mut rx).await;
    Ok(state)
}

/// A frame whose answers took longer than this to bring up to date paces the frames
/// after it; answers of ordinary size never come near it.
const EXPENSIVE: Duration = Duration::from_millis(4);

/// The pace of frames while answers stream, from what the last frame that brought
/// them up to date cost.
#[derive(Default)]
struct Pace {
    cost: Duration,
    at: Option<Instant>,
}

impl Pace {
    /// The pause after a frame: while answers stream, a frame that took long to draw
    /// buys a longer pause before the next, so drawing never takes more than a
    /// quarter of a core; what the user did (a key) is drawn at the next frame
    /// regardless.
    fn gap(&self, streaming: bool) -> Duration {
        if streaming {
            STREAM_FRAME.max(self.cost * 3)
        } else {
            FRAME
        }
    }

    /// Whether a key's frame at `now` draws the streaming answers as they were: when
    /// bringing them up to date is costly and was done within a few times its cost,
    /// so what the user typed is not held up behind them.
    fn hold(&self, now: Instant) -> bool {
        self.cost > EXPENSIVE && self.at.is_some_and(|at| now < at + self.cost * 4)
    }

    fn drawn(&mut self, started: Instant, ended: Instant) {
        self.cost = ended - started;
        self.at = Some(ended);
    }
}

/// A backend that can show a frame at once: the terminal holds what it receives
/// between the two calls and paints it in one go (synchronized output, DEC mode 2026),
/// so a pane never shows half a frame while text streams fast. Terminals without the
/// mode ignore it.
pub trait Frames {
    fn begin_frame(&mut self) -> std::io::Result<()>;
    fn end_frame(&mut self) -> std::io::Result<()>;
}

impl<W: std::io::Write> Frames for ratatui::backend::CrosstermBackend<W> {
    fn begin_frame(&mut self) -> std::io::Result<()> {
        crossterm::queue!(self, crossterm::terminal::BeginSynchronizedUpdate)
    }

    fn end_frame(&mut self) -> std::io::Result<()> {
        crossterm::execute!(self, crossterm::terminal::EndSynchronizedUpdate)
    }
}

impl Frames for ratatui::backend::TestBackend {
    fn begin_frame(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    fn end_frame(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Feeds one message to `update` and carries out its effects. True when the screen
/// may have changed.
fn handle(state: &mut State, msg: Msg, world: &mut World) -> bool {
    let redraw = !matches!(msg, Msg::Tick) || state.streaming();
    for effect in update(state, msg, Instant::now()) {
        world.execute(effect);
    }
    world.writes.retain(|w| !w.is_finished());
    redraw
}

/// What effects touch: the stream tasks, the store and the files.
struct World {
    tx: UnboundedSender<Msg>,
    data_dir: PathBuf,
    /// Where votes and conversations go.
    store: Arc<dyn Store>,
    /// Every model's provider, built once and kept: turns reuse their connections.
    providers: provider::Providers,
    streams: [Option<JoinHandle<()>>; 2],
    writes: Vec<JoinHandle<()>>,
    theme: Theme,
    /// The native clipboard, kept open: on X11 it serves the copied text while it lives.
    clipboard: Option<arboard::Clipboard>,
}

/// How long a side's finished answer may go on reading its body's end (the chunked
/// terminator) before the next request of that side is sent anyway.
const LINGER: Duration = Duration::from_millis(250);

/// Waits for `task` for at most `LINGER`, then drops it.
async fn finish_or_drop(task: JoinHandle<()>) {
    let abort = task.abort_handle();
    if tokio::time::timeout(LINGER, task).await.is_err() {
        abort.abort();
    }
}

impl World {
    fn execute(&mut self, effect: Effect) {
        match effect {
            Effect::Start {
                side,
                generation,
                model,
                request,
            } => {
                // The side's last stream may still be reading the end of its body,
                // which gives its connection back for this request: it gets a moment
                // to finish before it is dropped.
                let before = self.streams[side.index()].take();
                let provider = self.providers.get(&model);
                let tx = self.tx.clone();
                self.streams[side.index()] = Some(tokio::spawn(async move {
                    if let Some(before) = before {
                        finish_or_drop(before).await;
                    }
                    stream_side(provider, *request, side, generation, tx).await;
                }));
            }
            Effect::Stop { side } => self.stop(side),
            Effect::SaveVotes(records) => {
                let store = Arc::clone(&self.store);
                let dir = self.data_dir.clone();
                let tx = self.tx.clone();
                self.writes.push(tokio::task::spawn_blocking(move || {
                    let result = keep_votes(&*store, &dir, &records)
                        .map_err(|e| format!("{}: {e}", store.describe()));
                    let ids = records.iter().map(|r| r.id).collect();
                    let _ = tx.send(Msg::VotesSaved { ids, result });
                }));
            }
            Effect::Copy(text) => self.copy(&text),
            Effect::SetTheme(name) => {
                match crate::theme::load(&name, crate::config::config_dir().as_deref()) {
                    Ok(theme) => self.theme = theme,
                    Err(e) => {
                        let _ = self.tx.send(Msg::Problem(format!("theme {name}: {e}")));
                    }
                }
            }
            Effect::Attach(path) => {
                let dir = self.data_dir.clone();
                let tx = self.tx.clone();
                // Off the loop: a 20 MB file is read, hashed and copied meanwhile.
                drop(tokio::task::spawn_blocking(move || {
                    let result = crate::attachment::Store::new(&dir)
                        .attach(&expand_home(&path))
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Msg::Attached { path, result });
                }));
            }
            Effect::Lease { run, judge, passed } => {
                let store = Arc::clone(&self.store);
                let tx = self.tx.clone();
                self.writes.push(tokio::task::spawn_blocking(move || {
                    let result = match store.leases() {
                        Some(leases) => leases
                            .lease(&run, &judge, &passed)
                            .and_then(|pair| Ok((pair, leases.team(&run, &judge)?)))
                            .map_err(|e| e.to_string()),
                        None => Err(format!("{} shares no leases", store.describe())),
                    };
                    let _ = tx.send(Msg::Leased(result));
                }));
            }
            Effect::Release { run, pair, judge } => {
                let store = Arc::clone(&self.store);
                self.writes.push(tokio::task::spawn_blocking(move || {
                    // Not given back (the store gone): it comes back at the lease's end.
                    if let Some(leases) = store.leases() {
                        let _ = leases.release(&run, &pair, &judge);
                    }
                }));
            }
            Effect::ListDir(dir) => {
                let tx = self.tx.clone();
                drop(tokio::task::spawn_blocking(move || {
                    let entries = list_dir(&dir);
                    let _ = tx.send(Msg::Listed { dir, entries });
                }));
            }
            Effect::SaveConversation(file) => {
                let dir = self.data_dir.clone();
                let tx = self.tx.clone();
                self.writes.push(tokio::task::spawn_blocking(move || {
                    // A conversation is this machine's (resuming reads it here);
                    // `duel store push` copies it to a team's store.
                    let result = conversation::save(&dir, &file)
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Msg::ConversationSaved(result));
                }));
            }
        }
    }

    /// OSC 52 reaches the clipboard of the terminal (also over ssh); the native
    /// clipboard is used too where there is one.
    fn copy(&mut self, text: &str) {
        use base64::Engine;
        use std::io::{IsTerminal, Write};
        let mut out = std::io::stdout();
        if out.is_terminal() {
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            let _ = write!(out, "\x1b]52;c;{encoded}\x07");
            let _ = out.flush();
        }
        if self.clipboard.is_none() {
            self.clipboard = arboard::Clipboard::new().ok();
        }
        if let Some(clipboard) = &mut self.clipboard
            && let Err(e) = clipboard.set_text(text)
        {
            tracing::debug!(error = %e, "native clipboard unavailable");
        }
    }

    /// A confirmed vote must be on disk before duel exits, and the conversation file
    /// must know of it: waits for the pending writes and takes in their results as
    /// usual (a vote once written saves the conversation again, one more write to wait
    /// for), until nothing is left to write. `state.unsaved` then tells what could not be.
    async fn finish_writes(&mut self, state: &mut State, rx: &mut mpsc::UnboundedReceiver<Msg>) {
        while !self.writes.is_empty() {
            for write in std::mem::take(&mut self.writes) {
                let _ = write.await;
            }
            while let Ok(msg) = rx.try_recv() {
                if matches!(msg, Msg::VotesSaved { .. } | Msg::ConversationSaved(_)) {
                    handle(state, msg, self);
                }
            }
        }
    }

    /// Stopping a stream is dropping the task that owns it.
    fn stop(&mut self, side: Side) {
        if let Some(task) = self.streams[side.index()].take() {
            task.abort();
        }
    }

    fn stop_all(&mut self) {
        for side in Side::BOTH {
            self.stop(side);
        }
    }
}

/// `path` as typed, with a leading `~` the home folder.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

/// The most entries a folder offers the path line.
const MOST_ENTRIES: usize = 500;

/// The entries of the folder `dir` (as typed; `""` is the current folder), folders
/// first, then by name; hidden ones (a name beginning with `.`) are left out, and are
/// attached by typing their path whole. Each as it would be typed: `dir` then the
/// name, a folder ending in `/`.
fn list_dir(dir: &str) -> Vec<crate::app::msg::Entry> {
    let folder = if dir.is_empty() {
        PathBuf::from(".")
    } else {
        expand_home(dir)
    };
    let Ok(read) = std::fs::read_dir(&folder) else {
        return Vec::new();
    };
    let mut entries: Vec<(bool, String, Option<u64>)> = read
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if name.starts_with('.') {
                return None;
            }
            // Follows links: a link to a folder is a folder.
            let meta = std::fs::metadata(entry.path()).ok()?;
            Some((!meta.is_dir(), name, meta.is_file().then_some(meta.len())))
        })
        .collect();
    entries.sort();
    entries
        .into_iter()
        .take(MOST_ENTRIES)
        .map(|(file, name, bytes)| crate::app::msg::Entry {
            path: format!("{dir}{name}{}", if file { "" } else { "/" }),
            bytes,
        })
        .collect()
}

async fn stream_side(
    provider: Arc<dyn provider::Provider>,
    request: provider::ChatRequest,
    side: Side,
    generation: u64,
    tx: UnboundedSender<Msg>,
) {
    let (events_tx, events) = mpsc::unbounded_channel();
    // The text is drawn on the frame clock's ticks: a body read on them costs one
    // wake-up a frame, not one a token.
    let drive = provider::reading_on(*CLOCK, provider::stream(&*provider, &request, events_tx));
    let forward = forward(events, |event, pieces| {
        let _ = tx.send(Msg::Stream {
            side,
            generation,
            event,
            pieces,
        });
    });
    tokio::join!(drive, forward);
}

/// Hands a side's events on to the UI, waking it at most once between two ticks of
/// the frame clock, where the loop draws and the sides read: the first events of a
/// frame go on at once (so the first token is never held back), what arrives after
/// them in the same frame waits for the next tick and goes on with it, one message per
/// kind of text (a thousand tiny deltas would cost `update` and the channel one
/// each). An answer's end never waits.
async fn forward(
    mut events: mpsc::UnboundedReceiver<StreamEvent>,
    mut send: impl FnMut(StreamEvent, u64),
) {
    use tokio::time::Instant;
    let mut arrived = Vec::new();
    let mut last: Option<Instant> = None;
    while events.recv_many(&mut arrived, 4096).await > 0 {
        if let Some(next) = last.map(|at| Instant::from_std(tick_after(at.into_std())))
            && Instant::now() < next
            && !arrived.iter().any(ends)
        {
            tokio::time::sleep_until(next).await;
            while let Ok(event) = events.try_recv() {
                arrived.push(event);
            }
        }
        for (event, pieces) in coalesce(arrived.drain(..)) {
            send(event, pieces);
        }
        last = Some(Instant::now());
    }
}

/// The frame clock: it ticks every `STREAM_FRAME`. Both sides read and hand their
/// text over on its ticks and the loop draws on them, so a frame wakes the loop once,
/// not once a side and again for the frame.
static CLOCK: std::sync::LazyLock<provider::Ticks> =
    std::sync::LazyLock::new(|| provider::Ticks::new(STREAM_FRAME));

/// The frame clock's first tick after `t`.
fn tick_after(t: Instant) -> Instant {
    CLOCK.after(t)
}

/// The answer's end goes on at once.
fn ends(event: &StreamEvent) -> bool {
    matches!(event, StreamEvent::Finish(_) | StreamEvent::Error(_))
}

/// Joins runs of answer text (and of reasoning) into one event each, in order, with
/// how many events each stands for.
fn coalesce(events: impl IntoIterator<Item = StreamEvent>) -> Vec<(StreamEvent, u64)> {
    let mut out: Vec<(StreamEvent, u64)> = Vec::new();
    for event in events {
        match (out.last_mut(), event) {
            (Some((StreamEvent::Text(text), pieces)), StreamEvent::Text(more))
            | (Some((StreamEvent::Reasoning(text), pieces)), StreamEvent::Reasoning(more)) => {
                text.push_str(&more);
                *pieces += 1;
            }
            (_, event) => out.push((event, 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Finish, Usage};

    /// A provider that sends a token every millisecond, in paused time: the UI hears
    /// of them at most once a frame, whole and in order, the first at once.
    #[tokio::test(start_paused = true)]
    async fn the_ui_is_woken_at_most_once_a_frame_and_the_first_token_at_once() {
        let (tx, rx) = mpsc::unbounded_channel();
        let start = tokio::time::Instant::now();
        let producer = async move {
            for i in 0..200 {
                let _ = tx.send(StreamEvent::Text(format!("t{i} ")));
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let _ = tx.send(StreamEvent::Finish(Finish::Stop));
        };
        let mut sent: Vec<(Duration, StreamEvent, u64)> = Vec::new();
        let consumer = forward(rx, |event, pieces| {
            sent.push((start.elapsed(), event, pieces));
        });
        tokio::join!(producer, consumer);
        let text: String = sent
            .iter()
            .filter_map(|(_, e, _)| match e {
                StreamEvent::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        let whole: String = (0..200).map(|i| format!("t{i} ")).collect();
        assert_eq!(text, whole, "every token, in order");
        assert_eq!(sent.iter().map(|(_, _, p)| p).sum::<u64>(), 201);
        assert_eq!(sent[0].0, Duration::ZERO, "the first token at once");
        let texts: Vec<Duration> = sent
            .iter()
            .filter(|(_, e, _)| matches!(e, StreamEvent::Text(_)))
            .map(|(at, _, _)| *at)
            .collect();
        // 200 ms of tokens: about one message a frame, not one a token; after the
        // first, on the frame clock's ticks, a frame apart.
        assert!(
            texts.len() <= 200 / STREAM_FRAME.as_millis() as usize + 2,
            "{} messages",
            texts.len()
        );
        assert!(
            texts[1..].windows(2).all(|w| w[1] - w[0] >= STREAM_FRAME),
            "{texts:?}"
        );
        assert!(matches!(sent.last(), Some((_, StreamEvent::Finish(_), _))));
    }

    /// Streaming text is drawn at most once a `STREAM_FRAME`, slower after a costly
    /// frame; a key's frame holds costly streaming answers back only for a few times
    /// what bringing them up to date cost.
    #[test]
    fn frames_are_paced_by_what_the_last_one_cost_and_a_key_is_never_held_up() {
        let t0 = Instant::now();
        let mut pace = Pace::default();
        assert_eq!(pace.gap(false), FRAME);
        assert_eq!(pace.gap(true), STREAM_FRAME);
        assert!(!pace.hold(t0), "nothing drawn yet");

        pace.drawn(t0, t0 + Duration::from_millis(2));
        assert_eq!(
            pace.gap(true),
            STREAM_FRAME,
            "a cheap frame changes nothing"
        );
        assert!(!pace.hold(t0 + Duration::from_millis(3)));

        let ended = t0 + Duration::from_millis(40);
        pace.drawn(t0, ended);
        assert_eq!(pace.gap(true), Duration::from_millis(120));
        assert_eq!(pace.gap(false), FRAME, "what the user does is not slowed");
        assert!(pace.hold(ended + Duration::from_millis(10)));
        assert!(!pace.hold(ended + Duration::from_millis(170)));
    }

    #[test]
    fn coalesce_joins_runs_of_text_and_counts_the_pieces() {
        let text = |t: &str| StreamEvent::Text(t.into());
        let events = vec![
            text("a"),
            text("b"),
            StreamEvent::Reasoning("r".into()),
            StreamEvent::Reasoning("s".into()),
            text("c"),
            StreamEvent::Usage(Usage::default()),
            text("d"),
            StreamEvent::Finish(Finish::Stop),
        ];
        assert_eq!(
            coalesce(events),
            [
                (text("ab"), 2),
                (StreamEvent::Reasoning("rs".into()), 2),
                (text("c"), 1),
                (StreamEvent::Usage(Usage::default()), 1),
                (text("d"), 1),
                (StreamEvent::Finish(Finish::Stop), 1),
            ]
        );
    }

    /// The frame clock ticks a frame apart, whatever instant it is asked about, and
    /// never at the instant asked.
    #[test]
    fn the_frame_clock_ticks_a_frame_apart() {
        let t0 = Instant::now();
        let first = tick_after(t0);
        assert!(first > t0 && first - t0 <= STREAM_FRAME);
        assert_eq!(tick_after(first), first + STREAM_FRAME);
        for ms in [1, 7, 49, 50, 51, 333] {
            let t = t0 + Duration::from_millis(ms);
            let tick = tick_after(t);
            assert!(tick > t && tick - t <= STREAM_FRAME, "{ms} ms");
            assert_eq!(
                (tick - first).as_nanos() % STREAM_FRAME.as_nanos(),
                0,
                "{ms} ms"
            );
        }
        // Before the clock's start as well.
        let before = first - STREAM_FRAME * 2 - STREAM_FRAME / 5;
        assert_eq!(tick_after(before), first - STREAM_FRAME * 2);
    }
}
