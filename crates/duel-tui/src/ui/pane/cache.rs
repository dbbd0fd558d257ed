//! The view cache: each turn's wrapped lines per side, kept while the width and theme
//! stay the same; the answer still streaming renders only its last blocks again.

use std::time::Duration;

use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use uuid::Uuid;

use super::lines::{
    Look, PlainStream, earlier_lines, foot_lines, message_lines, prompt_lines, reasoning_style,
    tenths, thought_summary,
};

use crate::app::state::State;
use crate::theme::Theme;
use crate::ui::markdown::{Highlights, Streamed};
use crate::ui::wrap::wrap_text;
use duel_core::domain::{Message, Retry, Side, Turn};
use duel_core::text::sanitize;

/// Wrapped lines of each turn, per side. A finished turn is kept while its width and
/// theme stay the same; the answer still streaming only renders its last blocks again.
#[derive(Default)]
pub struct ViewCache {
    pub(super) panes: [PaneCache; 2],
    /// Highlighted code blocks, for both panes.
    pub(super) highlights: Highlights,
    /// What the last frame was laid out for, when it can be painted over in place.
    pub(in crate::ui) laid_out: Option<crate::ui::draw::FrameKey>,
}

impl ViewCache {
    /// The loop holds the answers still streaming for a frame a key asked for while
    /// bringing them up to date is costly (one enormous paragraph, a flood), so what
    /// the user typed shows at once; the next frame catches them up. The draw itself
    /// reads no clock.
    pub fn hold_streaming(&mut self, hold: bool) {
        for pane in &mut self.panes {
            pane.hold_streaming = hold;
        }
    }
}

#[derive(Default)]
pub(super) struct PaneCache {
    /// The conversation, width and theme every cached line was made for, and whether
    /// the turns begin with their prompt (a review shows it above the panes instead).
    conversation: Uuid,
    width: usize,
    theme: String,
    prompts: bool,
    turns: Vec<CachedTurn>,
    /// While set, an answer still streaming is drawn as it was last brought up to date.
    hold_streaming: bool,
    /// The line painted on each row of the pane's body (`None`: blank), and where the
    /// scrollbar's thumb was: a frame painted over the last paints only what differs.
    pub(super) shown: Vec<Option<Line<'static>>>,
    pub(super) bar: Option<(usize, usize)>,
}

/// One turn as a pane shows it: the prompt, which model answered (when that changed),
/// the reasoning, the answer, how it ended.
struct CachedTurn {
    key: TurnKey,
    /// The answering model's name, where the pane's model changed before this turn.
    label: Vec<Line<'static>>,
    /// The attempts a regenerate replaced, each with its vote, then the label of the
    /// attempt shown now; empty for a turn never regenerated.
    earlier: Vec<Line<'static>>,
    /// What `earlier` was drawn for: how many attempts, names hidden, reasoning shown.
    earlier_for: Option<(usize, bool, bool)>,
    /// Wrapped once: the prompt never changes, and a new width starts a new cache.
    prompt: Vec<Line<'static>>,
    /// The reasoning in full, while it streams or when unfolded.
    reasoning: PlainStream,
    /// After any reasoning: its one-line summary once folded, then a blank line.
    thought: Vec<Line<'static>>,
    answer: Streamed,
    /// How the answer ended, and the vote.
    foot: Vec<Line<'static>>,
}

/// Everything a cached turn's lines depend on besides the conversation, width and
/// theme of its pane cache: a stream's generation fixes its prompt and model, the
/// version counts what arrived since.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct TurnKey {
    pub(super) generation: u64,
    pub(super) version: u64,
    pub(super) voted: bool,
    pub(super) hidden: bool,
    pub(super) expand: bool,
    pub(super) labelled: bool,
    /// What is left of a retry's wait, in tenths of a second: its countdown shows.
    pub(super) retry_left: Option<Duration>,
}

impl PaneCache {
    /// The wrapped lines of every turn of `side`, redoing only what changed.
    pub(super) fn refresh(
        &mut self,
        state: &State,
        side: Side,
        look: Look,
        before: &[Message],
        theme: &Theme,
        highlights: &mut Highlights,
    ) {
        let Look { width, prompts } = look;
        if self.conversation != state.conversation
            || self.width != width
            || self.theme != theme.name
            || self.prompts != prompts
        {
            self.conversation = state.conversation;
            self.width = width;
            self.theme.clone_from(&theme.name);
            self.prompts = prompts;
            self.turns.clear();
        }
        let hidden = state.names_hidden();
        self.turns.truncate(state.turns.len());
        let conversation = before;
        let mut before = &state.side(side).model.name;
        for (i, turn) in state.turns.iter().enumerate() {
            let answer = turn.answer(side);
            let key = TurnKey {
                generation: answer.generation,
                version: answer.version,
                voted: turn.vote.is_some(),
                hidden,
                expand: state.expand_reasoning,
                labelled: !hidden && answer.model.name != *before,
                retry_left: answer.retry_left(state.now).map(|r| tenths(r.wait)),
            };
            before = &answer.model.name;
            // The conversation before the first prompt, where there is one (a review's).
            let context = if i == 0 { conversation } else { &[] };
            match self.turns.get_mut(i) {
                Some(cached) if cached.key == key => {}
                // Another stream: another prompt or model, so nothing of it is kept.
                Some(cached) if cached.key.generation != key.generation => {
                    *cached = CachedTurn::new(key, turn, side, look, context, theme, highlights);
                }
                // Held by the loop (see `ViewCache::hold_streaming`); the end of the
                // answer always shows at once.
                Some(_) if answer.in_flight() && self.hold_streaming => {}
                Some(cached) => cached.update(key, turn, side, width, theme, highlights),
                None => self.turns.push(CachedTurn::new(
                    key, turn, side, look, context, theme, highlights,
                )),
            }
        }
    }

    pub(super) fn total_lines(&self) -> usize {
        self.turns.iter().map(CachedTurn::len).sum()
    }

    /// The lines from `top` on.
    pub(super) fn lines_from(&self, top: usize) -> impl Iterator<Item = &Line<'static>> {
        // Whole turns above `top` are passed by their length, not line by line.
        let mut skip = top;
        let first = self
            .turns
            .iter()
            .position(|turn| {
                let len = turn.len();
                if skip < len {
                    return true;
                }
                skip -= len;
                false
            })
            .unwrap_or(self.turns.len());
        self.turns[first..]
            .iter()
            .flat_map(CachedTurn::lines)
            .skip(skip)
    }
}

impl CachedTurn {
    fn new(
        key: TurnKey,
        turn: &Turn,
        side: Side,
        look: Look,
        before: &[Message],
        theme: &Theme,
        highlights: &mut Highlights,
    ) -> Self {
        let width = look.width;
        let mut prompt = Vec::new();
        if look.prompts {
            prompt.extend(message_lines(before, width, theme));
            if !before.is_empty() {
                prompt.push(Line::default());
            }
            prompt.extend(prompt_lines(&turn.prompt, &turn.attachments, width, theme));
        }
        let mut cached = Self {
            key,
            prompt,
            label: Vec::new(),
            earlier: Vec::new(),
            earlier_for: None,
            reasoning: PlainStream::default(),
            thought: Vec::new(),
            answer: Streamed::default(),
            foot: Vec::new(),
        };
        cached.update(key, turn, side, width, theme, highlights);
        cached
    }

    fn len(&self) -> usize {
        self.prompt.len()
            + self.label.len()
            + self.earlier.len()
            + self.reasoning.len()
            + self.thought.len()
            + self.answer.len()
            + self.foot.len()
    }

    fn lines(&self) -> impl Iterator<Item = &Line<'static>> {
        self.prompt
            .iter()
            .chain(&self.label)
            .chain(&self.earlier)
            .chain(self.reasoning.lines())
            .chain(&self.thought)
            .chain(self.answer.lines())
            .chain(&self.foot)
    }

    /// Brings the turn up to date; the reasoning and the answer only take in what
    /// arrived since the last call (the same stream: `refresh` starts anew for another).
    fn update(
        &mut self,
        key: TurnKey,
        turn: &Turn,
        side: Side,
        width: usize,
        theme: &Theme,
        highlights: &mut Highlights,
    ) {
        self.key = key;
        let answer = turn.answer(side);
        self.label = if key.labelled {
            let style = Style::default().fg(theme.dim).add_modifier(Modifier::BOLD);
            wrap_text(
                &format!("┄ {} answers ┄", sanitize(&answer.model.name)),
                style,
                width,
            )
        } else {
            Vec::new()
        };
        // Finished answers: drawn again only when what they show changes.
        let earlier_for = (turn.earlier.len(), key.hidden, key.expand);
        if self.earlier_for != Some(earlier_for) {
            self.earlier = earlier_lines(turn, side, key, width, theme, highlights);
            self.earlier_for = Some(earlier_for);
        }
        self.thought.clear();
        let dim = reasoning_style(theme);
        // Once the answer starts, the reasoning folds to one line (unless expanded).
        let thought = !answer.reasoning.is_empty();
        let unfolded = thought && (answer.text.is_empty() || key.expand);
        if unfolded {
            self.reasoning.update(&answer.reasoning, dim, width);
        } else {
            self.reasoning = PlainStream::default();
        }
        if thought && !unfolded {
            self.thought
                .push(Line::styled(thought_summary(&answer.reasoning), dim));
        }
        if thought {
            self.thought.push(Line::default());
        }

        if answer.text.is_empty() {
            self.answer.reset();
        } else {
            self.answer.update(&answer.text, width, theme, highlights);
        }
        let retry = answer.retry.clone().map(|retry| Retry {
            wait: key.retry_left.unwrap_or(retry.wait),
            ..retry
        });
        self.foot = foot_lines(
            &turn.answers,
            turn.vote,
            retry.as_ref(),
            side,
            key.hidden,
            width,
            theme,
        );
    }
}
