//! All UI state, owned by one place: the run loop, changed only by `update`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use ratatui_textarea::{TextArea, WrapMode};
use uuid::Uuid;

use super::picker::Picker;
use crate::config::{Config, KeyStatus, Layout, ModelSpec, WireKind};
use crate::conversation::ConversationFile;
use crate::provider::{Finish, Message, ProviderError, Retry, Role, StreamEvent, Usage};
use crate::votes::{SideRecord, TokenEstimate, Vote, VoteRecord};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    A,
    B,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::A, Side::B];

    pub fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Side::A => "A",
            Side::B => "B",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Typing in the input box.
    Compose,
    /// Keys act on the panes (scroll, focus, vote).
    Browse,
}

/// Which model produced an answer, as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelRef {
    pub name: String,
    pub provider: String,
    pub model_id: String,
    pub demo: bool,
}

impl ModelRef {
    pub fn of(spec: &ModelSpec) -> Self {
        Self {
            name: spec.name.clone(),
            provider: spec.provider.clone(),
            model_id: spec.model_id.clone(),
            demo: spec.endpoint.kind == WireKind::Demo,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum AnswerState {
    /// Sent; nothing back yet.
    Waiting,
    Streaming,
    /// Ended by the model: stop, length or filtered.
    Done(Finish),
    Failed(ProviderError),
    /// Stopped by the user.
    Stopped,
}

/// One side's answer to one prompt.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub model: ModelRef,
    /// What this side sent before the prompt (system prompt first).
    pub history: Vec<Message>,
    /// The raw text as the model sent it (the display cleans it).
    pub text: String,
    pub reasoning: String,
    pub state: AnswerState,
    pub usage: Usage,
    /// Text deltas received, a token estimate when the provider reports no usage.
    pub deltas: u64,
    pub started: Instant,
    pub first_token: Option<Instant>,
    pub ended: Option<Instant>,
    /// The retry under way while no text has come yet (rate limit, server error).
    pub retry: Option<Retry>,
    /// Which stream feeds this answer; events of any other are stale.
    pub generation: u64,
    /// Bumped on every change the pane shows, so cached wrapping knows when to redo.
    pub version: u64,
}

impl Answer {
    pub fn new(model: ModelRef, history: Vec<Message>, generation: u64, now: Instant) -> Self {
        Self {
            model,
            history,
            text: String::new(),
            reasoning: String::new(),
            state: AnswerState::Waiting,
            usage: Usage::default(),
            deltas: 0,
            started: now,
            first_token: None,
            ended: None,
            retry: None,
            generation,
            version: 0,
        }
    }

    pub fn in_flight(&self) -> bool {
        matches!(self.state, AnswerState::Waiting | AnswerState::Streaming)
    }

    pub fn finish(&self) -> Finish {
        match &self.state {
            AnswerState::Done(f) => *f,
            AnswerState::Failed(_) => Finish::Error,
            // A record of an unfinished answer can only come from a stop.
            AnswerState::Stopped | AnswerState::Waiting | AnswerState::Streaming => {
                Finish::Cancelled
            }
        }
    }

    pub fn ttft(&self) -> Option<Duration> {
        self.first_token.map(|t| t - self.started)
    }

    /// Time from send to the end, or to `now` while streaming.
    pub fn elapsed(&self, now: Instant) -> Duration {
        self.ended
            .unwrap_or(now)
            .saturating_duration_since(self.started)
    }

    /// The provider's count of output tokens, where it covers what arrived: a count
    /// sent at the start of a stream (Anthropic's `message_start` says 1) is not yet
    /// the answer's, and one below the chunks received never is.
    pub fn reported_tokens(&self) -> Option<u64> {
        self.usage.output_tokens.filter(|&n| n >= self.deltas)
    }

    /// Output tokens, and whether the count is the provider's: else the number of
    /// text chunks streamed, an estimate (most servers send about a token a chunk).
    pub fn output_tokens(&self) -> (u64, bool) {
        match self.reported_tokens() {
            Some(n) => (n, true),
            None => (self.deltas, false),
        }
    }

    /// Output tokens per second of generation (after the first token).
    pub fn tokens_per_sec(&self, now: Instant) -> Option<f64> {
        let first = self.first_token?;
        let secs = self
            .ended
            .unwrap_or(now)
            .saturating_duration_since(first)
            .as_secs_f64();
        let (tokens, _) = self.output_tokens();
        (secs > 0.05 && tokens > 0).then(|| tokens as f64 / secs)
    }

    /// Takes in an event of this answer's stream, arrived at `now`; a text event may
    /// be `pieces` of the stream's deltas joined.
    pub fn apply(&mut self, event: StreamEvent, pieces: u64, now: Instant) {
        self.version += 1;
        match event {
            StreamEvent::Text(text) => {
                self.first_token.get_or_insert(now);
                self.state = AnswerState::Streaming;
                self.deltas += pieces;
                self.text.push_str(&text);
            }
            StreamEvent::Reasoning(text) => {
                self.first_token.get_or_insert(now);
                self.state = AnswerState::Streaming;
                self.reasoning.push_str(&text);
            }
            StreamEvent::Retry(retry) => self.retry = Some(retry),
            StreamEvent::Usage(usage) => {
                self.usage.input_tokens = usage.input_tokens.or(self.usage.input_tokens);
                self.usage.output_tokens = usage.output_tokens.or(self.usage.output_tokens);
            }
            StreamEvent::Finish(finish) => {
                self.state = match finish {
                    Finish::Cancelled => AnswerState::Stopped,
                    f => AnswerState::Done(f),
                };
                self.ended = Some(now);
            }
            StreamEvent::Error(error) => {
                self.state = AnswerState::Failed(error);
                self.ended = Some(now);
            }
        }
    }

    /// An answer as a saved conversation recorded it; its times are laid out from `base`.
    pub fn restore(record: &SideRecord, history: Vec<Message>, base: Instant) -> Self {
        let at = |ms: Option<u64>| ms.map(|ms| base + Duration::from_millis(ms));
        let state = match (record.finish, &record.error) {
            (Finish::Error, error) => AnswerState::Failed(ProviderError::from_display(
                error.as_deref().unwrap_or("the answer failed"),
            )),
            (Finish::Cancelled, _) => AnswerState::Stopped,
            (finish, _) => AnswerState::Done(finish),
        };
        Self {
            model: ModelRef {
                name: record.model.clone(),
                provider: record.provider.clone(),
                model_id: record.model_id.clone(),
                demo: record.provider == "demo",
            },
            history,
            text: record.answer.clone(),
            reasoning: record.reasoning.clone().unwrap_or_default(),
            state,
            usage: Usage {
                input_tokens: record.input_tokens,
                output_tokens: record.output_tokens,
            },
            deltas: record
                .output_tokens
                .or(record.output_tokens_estimate.as_ref().map(|e| e.tokens))
                .unwrap_or(0),
            started: base,
            first_token: at(record.ttft_ms),
            ended: at(record.total_ms).or(Some(base)),
            retry: None,
            generation: 0,
            version: 0,
        }
    }

    /// The side as the vote record and the conversation file store it.
    pub fn record(&self, with_history: bool) -> SideRecord {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        SideRecord {
            model: self.model.name.clone(),
            provider: self.model.provider.clone(),
            model_id: self.model.model_id.clone(),
            history: with_history.then(|| self.history.clone()),
            answer: self.text.clone(),
            reasoning: (!self.reasoning.is_empty()).then(|| self.reasoning.clone()),
            finish: self.finish(),
            error: match &self.state {
                AnswerState::Failed(e) => Some(e.to_string()),
                _ => None,
            },
            ttft_ms: self.ttft().map(ms),
            total_ms: self.ended.map(|end| ms(end - self.started)),
            input_tokens: self.usage.input_tokens,
            output_tokens: self.reported_tokens(),
            output_tokens_estimate: match self.reported_tokens() {
                None if self.deltas > 0 => Some(TokenEstimate::from_chunks(self.deltas)),
                _ => None,
            },
        }
    }
}

/// One prompt sent to both sides.
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    pub prompt: String,
    /// Which pair of answers this is: 1 for the first, one more per regenerate.
    pub attempt: u32,
    pub time: jiff::Timestamp,
    pub answers: [Answer; 2],
    pub vote: Option<Vote>,
}

impl Turn {
    pub fn answer(&self, side: Side) -> &Answer {
        &self.answers[side.index()]
    }

    pub fn ended(&self) -> bool {
        self.answers.iter().all(|a| !a.in_flight())
    }
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

/// What the last frame showed of a pane, so scrolling knows the page size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Viewport {
    pub total_lines: usize,
    pub height: usize,
}

#[derive(Clone, Debug)]
pub struct SideState {
    pub model: ModelSpec,
    pub key: KeyStatus,
    pub scroll: Scroll,
    pub viewport: Viewport,
}

impl SideState {
    pub fn new(model: ModelSpec) -> Self {
        let key = model.endpoint.key_status();
        Self {
            model,
            key,
            scroll: Scroll::Follow,
            viewport: Viewport::default(),
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
    /// The pair the user chose, in config order; blind mode deals it to A and B by a coin.
    pub pair: [ModelSpec; 2],
    pub battle: Option<Battle>,
    /// The coin and the battle draws.
    pub rng: StdRng,
    /// Votes cast but not yet known to be on disk; one whose write failed is retried
    /// with the next vote and at quit, never dropped.
    pub unsaved: Vec<VoteRecord>,
    /// The ids among `unsaved` whose write is under way (never written twice).
    pub writing: Vec<Uuid>,
    pub judge: String,
    pub data_dir: PathBuf,
    /// The vote log in the data dir: the demo's own for the offline demo models.
    pub votes_file: &'static str,
    pub input: TextArea<'static>,
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
    /// Terminal size in cells (columns, rows).
    pub size: (u16, u16),
}

impl State {
    pub fn new(config: &Config, pair: [ModelSpec; 2], data_dir: PathBuf, setup: Setup) -> Self {
        let rng = match setup.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => rand::make_rng(),
        };
        let blind = setup.blind || setup.battle.is_some() || config.ui.blind;
        let demo = pair.iter().any(|m| m.endpoint.kind == WireKind::Demo);
        let mut state = Self {
            conversation: Uuid::new_v4(),
            created: jiff::Timestamp::now(),
            turns: Vec::new(),
            sides: pair.clone().map(SideState::new),
            mode: Mode::Compose,
            focus: Side::A,
            layout: config.ui.layout,
            blind,
            blind_next: blind,
            revealed: false,
            pair,
            battle: setup.battle,
            rng,
            unsaved: Vec::new(),
            writing: Vec::new(),
            judge: config.arena.judge.clone(),
            data_dir,
            votes_file: if demo {
                crate::votes::log::DEMO_FILE_NAME
            } else {
                crate::votes::log::FILE_NAME
            },
            input: new_input(),
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
            now: Instant::now(),
            size: (80, 24),
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
        state
    }

    /// Starts a fresh conversation: a new id, no turns; a battle draws a new pair, and
    /// blind mode deals the pair to A and B by a fair coin.
    pub fn begin_conversation(&mut self) {
        self.conversation = Uuid::new_v4();
        self.created = jiff::Timestamp::now();
        self.turns.clear();
        self.blind = self.blind_next;
        self.revealed = false;
        if let Some(pair) = self.battle.as_ref().and_then(|b| b.draw(&mut self.rng)) {
            self.pair = pair;
        }
        let [a, b] = self.pair.clone();
        let swap = self.blind && self.rng.random_bool(0.5);
        let (a, b) = if swap { (b, a) } else { (a, b) };
        self.sides = [SideState::new(a), SideState::new(b)];
    }

    /// Reopens a saved conversation: its id, turns and votes, blind as it was; the
    /// panes take the models of its last turn where config still has them. Returns
    /// what could not be restored as it was.
    pub fn resume(&mut self, file: ConversationFile) -> Vec<String> {
        let mut notes = Vec::new();
        let base = self.now;
        self.conversation = file.id;
        self.created = file
            .created
            .parse()
            .unwrap_or_else(|_| jiff::Timestamp::now());
        self.blind = file.blind;
        self.revealed = file.turns.iter().any(|t| t.vote.is_some());
        self.turns.clear();
        for record in &file.turns {
            let answers =
                [(Side::A, &record.a), (Side::B, &record.b)].map(|(side, side_record)| {
                    let mut history: Vec<Message> = self
                        .models
                        .iter()
                        .find(|m| m.name == side_record.model)
                        .and_then(|m| m.system.clone())
                        .map(|system| vec![Message::new(Role::System, system)])
                        .unwrap_or_default();
                    history.extend(self.history(side));
                    Answer::restore(side_record, history, base)
                });
            self.turns.push(Turn {
                prompt: record.prompt.clone(),
                attempt: record.attempt,
                time: record
                    .time
                    .parse()
                    .unwrap_or_else(|_| jiff::Timestamp::now()),
                answers,
                vote: record.vote,
            });
            if !self.prompt_history.contains(&record.prompt) {
                self.prompt_history.push(record.prompt.clone());
            }
        }
        if let Some(last) = file.turns.last() {
            for (side, name) in [(Side::A, &last.a.model), (Side::B, &last.b.model)] {
                match self.models.iter().find(|m| &m.name == name).cloned() {
                    Some(model) => *self.side_mut(side) = SideState::new(model),
                    None => notes.push(format!(
                        "{name} is no longer configured; pane {} goes on with {}",
                        side.label(),
                        self.side(side).model.name
                    )),
                }
            }
            self.pair = [Side::A, Side::B].map(|s| self.side(s).model.clone());
        }
        notes
    }

    /// Votes go to the demo's own log, apart from the real leaderboard.
    pub fn demo(&self) -> bool {
        self.votes_file == crate::votes::log::DEMO_FILE_NAME
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
    pub fn votable_turn(&self) -> Option<usize> {
        self.turns.iter().rposition(Turn::ended)
    }

    /// What `side` sends before a new prompt: its own earlier prompts and answers.
    /// A turn where the side produced no text at all is left out, so the model never
    /// sees a prompt without an answer.
    pub fn history(&self, side: Side) -> Vec<Message> {
        let mut out = Vec::new();
        for turn in &self.turns {
            let answer = turn.answer(side);
            if answer.text.is_empty() {
                continue;
            }
            out.push(Message::new(Role::User, turn.prompt.clone()));
            out.push(Message::new(Role::Assistant, answer.text.clone()));
        }
        out
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

pub fn new_input() -> TextArea<'static> {
    let mut input = TextArea::default();
    input.set_placeholder_text("Ask both models… (Enter sends, Alt+Enter adds a line)");
    input.set_wrap_mode(WrapMode::WordOrGlyph);
    input.set_cursor_line_style(ratatui::style::Style::default());
    input
}
