//! All UI state, owned by one place: the run loop, changed only by `update`.

use std::path::PathBuf;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use ratatui::layout::Rect;
use ratatui_textarea::{TextArea, WrapMode};
use uuid::Uuid;

use super::picker::Picker;
use duel_core::attachment::Attachment;
use duel_core::config::{Config, KeyStatus, Layout, ModelSpec, WireKind};
use duel_core::conversation::ConversationFile;
use duel_core::domain::{Attempt, Message, Role, Side, Turn};
use duel_core::votes::{SideRecord, VoteRecord};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Typing in the input box.
    Compose,
    /// Keys act on the panes (scroll, focus, vote).
    Browse,
    /// `duel review`: one blind pair of a run at a time; there is no input.
    Review,
}

/// A pane's scroll position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scroll {
    /// Stick to the bottom, following new text.
    #[default]
    Follow,
    /// The first visible line.
    Top(usize),
}

/// What the last frame laid out, as `draw` reports it: `update` reads it for the
/// page size and for what the mouse pointer is over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Screen {
    pub panes: [Viewport; 2],
}

/// What the last frame showed of a pane: where it is, and how much of its
/// transcript fits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Viewport {
    pub area: Rect,
    pub total_lines: usize,
    pub height: usize,
}

#[derive(Clone, Debug)]
pub struct SideState {
    pub model: ModelSpec,
    pub key: KeyStatus,
    pub scroll: Scroll,
}

impl SideState {
    pub fn new(model: ModelSpec) -> Self {
        let key = model.endpoint.key_status();
        Self {
            model,
            key,
            scroll: Scroll::Follow,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Success,
    Warning,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub kind: StatusKind,
    pub text: String,
}

/// How a session starts: blind or not, a battle pool, and the coin's seed.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// Hide the models' names until the vote (`--blind`, `ui.blind`).
    pub blind: bool,
    /// `--battle`: each conversation draws two distinct models from this pool.
    pub battle: Option<Battle>,
    /// A fixed seed for the coin and the draws (tests); `None` seeds from the OS.
    pub seed: Option<u64>,
}

/// The models `--battle` draws from, and their weights (`[arena] weights`).
#[derive(Clone, Debug)]
pub struct Battle {
    pub pool: Vec<ModelSpec>,
    pub weights: std::collections::BTreeMap<String, f64>,
}

impl Battle {
    /// Two distinct models, each pair drawn with probability proportional to the
    /// product of its models' weights (1 unless configured): uniform over pairs by default.
    pub fn draw(&self, rng: &mut StdRng) -> Option<[ModelSpec; 2]> {
        let weight = |m: &ModelSpec| self.weights.get(&m.name).copied().unwrap_or(1.0);
        let mut pairs = Vec::new();
        for (i, a) in self.pool.iter().enumerate() {
            for b in &self.pool[i + 1..] {
                pairs.push((weight(a) * weight(b), a, b));
            }
        }
        let total: f64 = pairs.iter().map(|(w, ..)| w).sum();
        if pairs.is_empty() || total <= 0.0 {
            return None;
        }
        let mut pick = rng.random_range(0.0..total);
        for (w, a, b) in &pairs {
            if pick < *w {
                return Some([(*a).clone(), (*b).clone()]);
            }
            pick -= w;
        }
        pairs.last().map(|(_, a, b)| [(*a).clone(), (*b).clone()])
    }
}

pub struct State {
    /// Every priced model's price, for the costs the panes show.
    pub prices: duel_core::cost::Prices,
    pub conversation: Uuid,
    pub created: jiff::Timestamp,
    pub turns: Vec<Turn>,
    pub sides: [SideState; 2],
    pub mode: Mode,
    pub focus: Side,
    pub layout: Layout,
    /// This conversation hides the names until the vote.
    pub blind: bool,
    /// Whether the next conversation is blind (`b` in browse mode toggles it).
    pub blind_next: bool,
    /// A vote in this blind conversation revealed the names.
    pub revealed: bool,
    pub battle: Option<Battle>,
    /// The coin and the battle draws.
    pub rng: StdRng,
    /// Where fresh ids come from (vote records, conversations): seeded like the coin,
    /// so `update` is a function of its inputs.
    pub ids: StdRng,
    /// The wall clock, read once before the loop.
    pub clock: Clock,
    /// Votes cast but not yet known to be on disk; one whose write failed is retried
    /// with the next vote and at quit, never dropped.
    pub unsaved: Vec<VoteRecord>,
    /// The ids among `unsaved` whose write is under way (never written twice).
    pub writing: Vec<Uuid>,
    /// Votes the store could not take, kept in the data dir's log for `duel store push`.
    pub kept_locally: usize,
    pub judge: String,
    pub data_dir: PathBuf,
    /// The vote log in the data dir: the demo's own for the offline demo models.
    pub votes_file: &'static str,
    pub input: TextArea<'static>,
    /// Files attached to the next prompt (Ctrl+O), shown as chips above it.
    pub attached: Vec<Attachment>,
    /// Paths attached before (in earlier sessions, then this one), newest last: the
    /// path line offers them.
    pub recent_paths: Vec<String>,
    /// Prompts sent, oldest first, for Up/Down recall.
    pub prompt_history: Vec<String>,
    /// Where Up/Down recall stands, and the draft it replaced.
    pub recall: Option<(usize, String)>,
    pub status: Option<Status>,
    pub show_help: bool,
    /// An open model or theme picker.
    pub picker: Option<Picker>,
    /// Every configured model, for the picker.
    pub models: Vec<ModelSpec>,
    /// Every theme name, for the picker.
    pub themes: Vec<String>,
    /// The theme in use.
    pub theme: String,
    /// Show reasoning in full even once the answer has started (`e`).
    pub expand_reasoning: bool,
    /// Scroll keys move both panes together (`S`).
    pub sync_scroll: bool,
    pub quit: bool,
    pub next_generation: u64,
    /// The latest moment `update` saw; the footer's live timers read it.
    pub now: Instant,
    /// The layout of the last frame.
    pub screen: Screen,
    /// `duel review`: the queue of a run's pairs, the one shown and what became of
    /// each; `None` in the chat.
    pub review: Option<super::review_session::Review>,
}

impl State {
    pub fn new(config: &Config, pair: [ModelSpec; 2], data_dir: PathBuf, setup: Setup) -> Self {
        let seeded = |offset: u64| match setup.seed {
            Some(seed) => StdRng::seed_from_u64(seed.wrapping_add(offset)),
            None => rand::make_rng(),
        };
        let now = Instant::now();
        let clock = Clock::new(now, jiff::Timestamp::now());
        let blind = setup.blind || setup.battle.is_some() || config.ui.blind;
        let demo = pair.iter().any(|m| m.endpoint.kind == WireKind::Demo);
        let mut state = Self {
            prices: config.prices(),
            conversation: Uuid::nil(),
            created: clock.wall(now),
            turns: Vec::new(),
            sides: pair.map(SideState::new),
            mode: Mode::Compose,
            focus: Side::A,
            layout: config.ui.layout,
            blind,
            blind_next: blind,
            revealed: false,
            battle: setup.battle,
            rng: seeded(0),
            ids: seeded(1),
            clock,
            unsaved: Vec::new(),
            writing: Vec::new(),
            kept_locally: 0,
            judge: config.arena.judge.clone(),
            data_dir,
            votes_file: if demo {
                duel_core::votes::log::DEMO_FILE_NAME
            } else {
                duel_core::votes::log::FILE_NAME
            },
            input: new_input(),
            attached: Vec::new(),
            recent_paths: Vec::new(),
            prompt_history: Vec::new(),
            recall: None,
            status: None,
            show_help: false,
            picker: None,
            models: config.models.clone(),
            themes: Vec::new(),
            theme: config.ui.theme.clone(),
            expand_reasoning: false,
            sync_scroll: false,
            quit: false,
            next_generation: 1,
            now,
            screen: Screen::default(),
            review: None,
        };
        state.begin_conversation();
        if let Some(first) = config.warnings.first() {
            let more = config.warnings.len() - 1;
            let text = if more > 0 {
                format!("config: {first} (+{more} more, printed at start-up)")
            } else {
                format!("config: {first}")
            };
            state.status = Some(Status {
                kind: StatusKind::Warning,
                text,
            });
        }
        state.warn_if_one_model();
        state
    }

    /// The same model on both sides compares it with itself: says so in the status
    /// (without its name while names are hidden).
    pub(crate) fn warn_if_one_model(&mut self) -> bool {
        let [a, b] = &self.sides;
        if a.model.name != b.model.name {
            return false;
        }
        let text = if self.names_hidden() {
            "the same model on both sides: its answers are compared with its own".to_owned()
        } else {
            format!(
                "the same model ({}) on both sides: its answers are compared with its own",
                a.model.name
            )
        };
        self.set_status(StatusKind::Warning, text);
        true
    }

    /// Starts a fresh conversation: a new id, no turns; a battle draws a new pair, and
    /// blind mode deals the pair to A and B by a fair coin.
    pub(crate) fn begin_conversation(&mut self) {
        self.conversation = self.fresh_id();
        self.created = self.wall_time();
        self.turns.clear();
        self.blind = self.blind_next;
        self.revealed = false;
        let [a, b] = match self.battle.as_ref().and_then(|b| b.draw(&mut self.rng)) {
            Some(pair) => pair,
            None => self.sides.clone().map(|side| side.model),
        };
        let swap = self.blind && self.rng.random_bool(0.5);
        let (a, b) = if swap { (b, a) } else { (a, b) };
        self.sides = [SideState::new(a), SideState::new(b)];
    }

    /// Reopens a saved conversation: its id, turns and votes, blind as it was, with
    /// `pair` in panes A and B as given (no coin: the turns say who was where).
    pub fn resume(&mut self, file: ConversationFile, pair: [ModelSpec; 2]) {
        self.sides = pair.map(SideState::new);
        let base = self.now;
        self.conversation = file.id;
        self.created = file.created.parse().unwrap_or_else(|_| self.wall_time());
        self.blind = file.blind;
        self.revealed = file.turns.iter().any(|t| t.votes() > 0);
        self.turns.clear();
        let answers = |a: &SideRecord, b: &SideRecord| {
            [a, b].map(|side_record| {
                let system = self
                    .models
                    .iter()
                    .find(|m| m.name == side_record.model)
                    .and_then(|m| m.system.clone());
                side_record.to_answer(system, base)
            })
        };
        let mut turns = Vec::with_capacity(file.turns.len());
        for record in &file.turns {
            turns.push(Turn {
                prompt: record.prompt.clone(),
                attachments: record.attachments.clone(),
                attempt: record.attempt,
                time: record.time.parse().unwrap_or_else(|_| self.wall_time()),
                answers: answers(&record.a, &record.b),
                vote: record.vote,
                earlier: record
                    .earlier
                    .iter()
                    .map(|e| Attempt {
                        attempt: e.attempt,
                        answers: answers(&e.a, &e.b),
                        vote: e.vote,
                    })
                    .collect(),
            });
        }
        self.turns = turns;
        for record in &file.turns {
            if !self.prompt_history.contains(&record.prompt) {
                self.prompt_history.push(record.prompt.clone());
            }
        }
        self.warn_if_one_model();
    }

    /// A new id, from the state's own generator.
    pub(crate) fn fresh_id(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.ids.random()).into_uuid()
    }

    /// The wall-clock time of `self.now`.
    pub(crate) fn wall_time(&self) -> jiff::Timestamp {
        self.clock.wall(self.now)
    }

    /// Votes go to the demo's own log, apart from the real leaderboard.
    pub fn demo(&self) -> bool {
        self.votes_file == duel_core::votes::log::DEMO_FILE_NAME
    }

    /// True while the names must not show: a blind conversation before its vote.
    pub fn names_hidden(&self) -> bool {
        self.blind && !self.revealed
    }

    pub fn side(&self, side: Side) -> &SideState {
        &self.sides[side.index()]
    }

    pub fn side_mut(&mut self, side: Side) -> &mut SideState {
        &mut self.sides[side.index()]
    }

    pub fn streaming(&self) -> bool {
        self.turns.last().is_some_and(|t| !t.ended())
    }

    /// The latest turn whose two answers have both ended: the one a vote goes to.
    pub(crate) fn votable_turn(&self) -> Option<usize> {
        self.turns.iter().rposition(Turn::ended)
    }

    /// What `side` sends before a new prompt: its own earlier prompts and answers.
    pub fn history(&self, side: Side) -> Vec<Message> {
        self.history_before(self.turns.len(), side)
    }

    /// What `side` sent before the prompt of turn `index`: its earlier prompts and
    /// answers. A turn where the side produced no text at all is left out, so the
    /// model never sees a prompt without an answer.
    fn history_before(&self, index: usize, side: Side) -> Vec<Message> {
        let mut out = Vec::new();
        for turn in self.turns.iter().take(index) {
            let answer = turn.answer(side);
            if answer.text.is_empty() {
                continue;
            }
            out.push(
                Message::new(Role::User, turn.prompt.clone())
                    .with_attachments(turn.attachments.clone()),
            );
            out.push(Message::new(Role::Assistant, answer.text.clone()));
        }
        out
    }

    /// Everything the answer of turn `index` on `side` was sent before its prompt, as
    /// the vote record keeps it: the system prompt first, then the history.
    pub(crate) fn sent_before(&self, index: usize, side: Side) -> Vec<Message> {
        let system = self
            .turns
            .get(index)
            .and_then(|turn| turn.answer(side).model.system.clone());
        system
            .map(|system| Message::new(Role::System, system))
            .into_iter()
            .chain(self.history_before(index, side))
            .collect()
    }

    pub fn set_status(&mut self, kind: StatusKind, text: impl Into<String>) {
        self.status = Some(Status {
            kind,
            text: text.into(),
        });
    }

    /// The input box's text.
    pub fn input_text(&self) -> String {
        self.input.lines().join("\n")
    }
}

/// The wall clock, read once: later moments are laid out from it by the monotonic
/// clock, so `update` never reads a clock of its own.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    at: Instant,
    wall: jiff::Timestamp,
}

impl Clock {
    /// `wall` is the time at `at`.
    pub fn new(at: Instant, wall: jiff::Timestamp) -> Self {
        Self { at, wall }
    }

    /// The wall-clock time at `now`.
    pub fn wall(&self, now: Instant) -> jiff::Timestamp {
        self.wall
            .checked_add(now.saturating_duration_since(self.at))
            .unwrap_or(self.wall)
    }
}

pub(crate) fn new_input() -> TextArea<'static> {
    let mut input = TextArea::default();
    input.set_placeholder_text("Ask both models… (Enter sends, Alt+Enter adds a line)");
    input.set_wrap_mode(WrapMode::WordOrGlyph);
    input.set_cursor_line_style(ratatui::style::Style::default());
    input
}
