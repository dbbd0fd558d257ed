//! A conversation's turns: one prompt, two sides, two answers, at most one vote.

use std::time::{Duration, Instant};

use super::{Finish, ProviderError, Retry, StreamEvent, Usage, Vote};

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

/// Which model produced an answer, as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelRef {
    pub name: String,
    pub provider: String,
    pub model_id: String,
    pub demo: bool,
    /// The system prompt it was sent before the conversation.
    pub system: Option<String>,
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
    /// When that retry is sent: its wait counts down to this.
    pub retry_at: Option<Instant>,
    /// Which stream feeds this answer; events of any other are stale.
    pub generation: u64,
    /// Bumped on every change the pane shows, so cached wrapping knows when to redo.
    pub version: u64,
}

impl Answer {
    pub fn new(model: ModelRef, generation: u64, now: Instant) -> Self {
        Self {
            model,
            text: String::new(),
            reasoning: String::new(),
            state: AnswerState::Waiting,
            usage: Usage::default(),
            deltas: 0,
            started: now,
            first_token: None,
            ended: None,
            retry: None,
            retry_at: None,
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
    pub(crate) fn reported_tokens(&self) -> Option<u64> {
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

    /// The retry under way with its wait counted down to `now`: what is left of it.
    pub fn retry_left(&self, now: Instant) -> Option<Retry> {
        let retry = self.retry.clone()?;
        let wait = self
            .retry_at
            .map_or(retry.wait, |at| at.saturating_duration_since(now));
        Some(Retry { wait, ..retry })
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
            StreamEvent::Retry(retry) => {
                self.retry_at = Some(now + retry.wait);
                self.retry = Some(retry);
            }
            StreamEvent::Usage(usage) => {
                let kept = self.usage;
                self.usage = Usage {
                    input_tokens: usage.input_tokens.or(kept.input_tokens),
                    output_tokens: usage.output_tokens.or(kept.output_tokens),
                    cached_input_tokens: usage.cached_input_tokens.or(kept.cached_input_tokens),
                    reasoning_tokens: usage.reasoning_tokens.or(kept.reasoning_tokens),
                };
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
}

/// One prompt sent to both sides: the pair of answers it has now and its vote, and
/// the pairs a regenerate replaced, each with the vote it got.
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    pub prompt: String,
    /// The files sent with the prompt, by reference.
    pub attachments: Vec<crate::attachment::Attachment>,
    /// Which pair of answers this is: 1 for the first, one more per regenerate.
    pub attempt: u32,
    pub time: jiff::Timestamp,
    pub answers: [Answer; 2],
    pub vote: Option<Vote>,
    /// The earlier pairs of answers to this prompt, oldest first. Only the latest
    /// pair goes on in the sides' histories; every pair keeps its vote.
    pub earlier: Vec<Attempt>,
}

/// A pair of answers to a turn's prompt that a regenerate replaced, and its vote.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub attempt: u32,
    pub answers: [Answer; 2],
    pub vote: Option<Vote>,
}

impl Turn {
    /// A turn's first pair of answers, not voted yet.
    pub fn new(prompt: String, time: jiff::Timestamp, answers: [Answer; 2]) -> Self {
        Self {
            prompt,
            attachments: Vec::new(),
            attempt: 1,
            time,
            answers,
            vote: None,
            earlier: Vec::new(),
        }
    }

    /// The turn with `attachments` sent with its prompt.
    pub fn with_attachments(mut self, attachments: Vec<crate::attachment::Attachment>) -> Self {
        self.attachments = attachments;
        self
    }

    pub fn answer(&self, side: Side) -> &Answer {
        &self.answers[side.index()]
    }

    pub fn ended(&self) -> bool {
        self.answers.iter().all(|a| !a.in_flight())
    }

    /// The turn with `answers` as its next attempt: the pair it had so far, with its
    /// vote, goes to the earlier ones.
    pub fn regenerated(mut self, answers: [Answer; 2]) -> Self {
        let previous = std::mem::replace(&mut self.answers, answers);
        self.earlier.push(Attempt {
            attempt: self.attempt,
            answers: previous,
            vote: self.vote.take(),
        });
        self.attempt += 1;
        self
    }

    /// The votes cast on this turn, one per voted attempt.
    pub fn votes(&self) -> usize {
        self.earlier.iter().filter(|a| a.vote.is_some()).count() + usize::from(self.vote.is_some())
    }
}
