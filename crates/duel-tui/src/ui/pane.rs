//! The two answer panes: every turn's wrapped lines, memoised per answer and width in
//! a `ViewCache`, so a frame costs what is visible plus what changed.

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState,
};
use uuid::Uuid;

use crate::app::state::{Scroll, SideState, State, Viewport};
use crate::theme::Theme;
use crate::ui::markdown::{Highlights, Streamed};
use crate::ui::wrap::{wrap_note, wrap_spans, wrap_text};
use duel_core::config::{KeyStatus, WireKind};
use duel_core::domain::{
    Answer, AnswerState, ErrorKind, Finish, Message, Retry, Role, Side, Turn, Vote,
};
use duel_core::text::{sanitize, truncate};

/// A turn update that takes longer than this is paced (see `PaneCache::refresh`);
/// answers of ordinary size never come near it.
const EXPENSIVE: Duration = Duration::from_millis(4);

/// Wrapped lines of each turn, per side. A finished turn is kept while its width and
/// theme stay the same; the answer still streaming only renders its last blocks again.
#[derive(Default)]
pub struct ViewCache {
    pub(super) panes: [PaneCache; 2],
    /// Highlighted code blocks, for both panes.
    pub(super) highlights: Highlights,
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
}

/// One turn as a pane shows it: the prompt, which model answered (when that changed),
/// the reasoning, the answer, how it ended.
struct CachedTurn {
    key: TurnKey,
    /// Before this moment a streaming answer is not rendered again (see `refresh`).
    next_update: Instant,
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
struct TurnKey {
    generation: u64,
    version: u64,
    voted: bool,
    hidden: bool,
    expand: bool,
    labelled: bool,
    /// What is left of a retry's wait, in tenths of a second: its countdown shows.
    retry_left: Option<Duration>,
}

impl PaneCache {
    /// The wrapped lines of every turn of `side`, redoing only what changed.
    fn refresh(
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
                // An answer still streaming that is costly to render (one enormous
                // paragraph, a flood) is brought up to date at most every few times
                // its cost, so the rest of each frame (the prompt being typed) is not
                // held up behind it; the end of the answer always shows at once.
                Some(cached) if answer.in_flight() && Instant::now() < cached.next_update => {}
                Some(cached) => {
                    let started = Instant::now();
                    cached.update(key, turn, side, width, theme, highlights);
                    let cost = started.elapsed();
                    if cost > EXPENSIVE {
                        cached.next_update = Instant::now() + cost * 4;
                    }
                }
                None => self.turns.push(CachedTurn::new(
                    key, turn, side, look, context, theme, highlights,
                )),
            }
        }
    }

    fn total_lines(&self) -> usize {
        self.turns.iter().map(CachedTurn::len).sum()
    }

    /// The lines from `top`, at most `height` of them.
    fn window(&self, top: usize, height: usize) -> Vec<Line<'static>> {
        let mut skip = top;
        let mut out = Vec::with_capacity(height);
        for turn in &self.turns {
            let len = turn.len();
            if skip >= len {
                skip -= len;
                continue;
            }
            out.extend(turn.lines().skip(skip).take(height - out.len()).cloned());
            if out.len() == height {
                break;
            }
            skip = 0;
        }
        out
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
            prompt.extend(prompt_lines(&turn.prompt, width, theme));
        }
        let mut cached = Self {
            key,
            next_update: Instant::now(),
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

/// A wait to the tenth of a second below it, so a countdown redraws ten times a second
/// at most.
fn tenths(wait: Duration) -> Duration {
    Duration::from_millis(u64::try_from(wait.as_millis() / 100 * 100).unwrap_or(u64::MAX))
}

fn reasoning_style(theme: &Theme) -> Style {
    Style::default()
        .fg(theme.reasoning)
        .add_modifier(Modifier::ITALIC)
}

/// Folded reasoning in one line: "▸ thought for 3 lines (e shows them)".
fn thought_summary(reasoning: &str) -> String {
    match reasoning.trim().lines().count() {
        1 => "▸ thought for 1 line (e shows it)".to_owned(),
        n => format!("▸ thought for {n} lines (e shows them)"),
    }
}

/// A regenerated turn's earlier attempts on `side`, each under its label with its
/// reasoning (folded unless expanded), answer, end and vote; then the label of the
/// attempt shown now.
fn earlier_lines(
    turn: &Turn,
    side: Side,
    key: TurnKey,
    width: usize,
    theme: &Theme,
    highlights: &mut Highlights,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if turn.earlier.is_empty() {
        return lines;
    }
    let label = |attempt: u32| {
        let style = Style::default().fg(theme.dim).add_modifier(Modifier::BOLD);
        wrap_text(&format!("┄ attempt {attempt} ┄"), style, width)
    };
    for earlier in &turn.earlier {
        lines.extend(label(earlier.attempt));
        let answer = &earlier.answers[side.index()];
        if !answer.reasoning.is_empty() {
            let dim = reasoning_style(theme);
            if key.expand {
                lines.extend(wrap_text(&sanitize(&answer.reasoning), dim, width));
            } else {
                lines.push(Line::styled(thought_summary(&answer.reasoning), dim));
            }
            lines.push(Line::default());
        }
        if !answer.text.is_empty() {
            let mut rendered = Streamed::default();
            rendered.update(&answer.text, width, theme, highlights);
            lines.extend(rendered.lines().cloned());
        }
        lines.extend(foot_lines(
            &earlier.answers,
            earlier.vote,
            None,
            side,
            key.hidden,
            width,
            theme,
        ));
    }
    lines.extend(label(turn.attempt));
    lines
}

/// How a pane lays its turns out: how wide, and whether each begins with its prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Look {
    width: usize,
    prompts: bool,
}

/// Plain text wrapped as it streams: the lines before the last line break are kept.
#[derive(Default)]
struct PlainStream {
    /// Bytes of the text whose lines are in `done`, up to and with a line break.
    seen: usize,
    done: Vec<Line<'static>>,
    live: Vec<Line<'static>>,
}

impl PlainStream {
    fn update(&mut self, text: &str, style: Style, width: usize) {
        if text.len() < self.seen || !text.is_char_boundary(self.seen) {
            *self = Self::default();
        }
        if let Some(end) = text[self.seen..].rfind('\n').map(|i| self.seen + i) {
            self.done
                .extend(wrap_text(&sanitize(&text[self.seen..end]), style, width));
            self.seen = end + 1;
        }
        self.live = wrap_text(&sanitize(&text[self.seen..]), style, width);
    }

    fn len(&self) -> usize {
        self.done.len() + self.live.len()
    }

    fn lines(&self) -> impl Iterator<Item = &Line<'static>> {
        self.done.iter().chain(&self.live)
    }
}

/// The messages of a conversation before its prompt, each under its role, dimmed:
/// what a reviewed item says before the prompt its answers answer.
pub(super) fn message_lines(
    messages: &[Message],
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for message in messages {
        let role = match message.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        let head = Style::default().fg(theme.dim).add_modifier(Modifier::BOLD);
        let text = Style::default().fg(theme.dim);
        for (i, line) in sanitize(message.content.trim_end()).split('\n').enumerate() {
            let lead = if i == 0 {
                Span::styled(format!("{role}: "), head)
            } else {
                Span::raw("  ")
            };
            lines.extend(wrap_spans(
                &[lead, Span::styled(line.to_owned(), text)],
                width,
            ));
        }
    }
    lines
}

fn prompt_lines(prompt: &str, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let user = Style::default().fg(theme.user).add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    for (i, line) in sanitize(prompt).split('\n').enumerate() {
        let marker = if i == 0 { "› " } else { "  " };
        lines.extend(wrap_spans(
            &[
                Span::styled(marker, user),
                Span::styled(line.to_owned(), user),
            ],
            width,
        ));
    }
    lines.push(Line::default());
    lines
}

/// What follows an answer of a pair: how it ended (or the retry it waits for), and
/// the pair's vote.
fn foot_lines(
    answers: &[Answer; 2],
    vote: Option<Vote>,
    retry: Option<&Retry>,
    side: Side,
    hidden: bool,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let answer = &answers[side.index()];
    let mut lines = Vec::new();
    let note = |text: String, color| wrap_note(&text, Style::default().fg(color), width);
    match &answer.state {
        AnswerState::Waiting => match retry {
            Some(retry) => lines.extend(note(format!("↻ {retry}"), theme.warning)),
            None => lines.push(Line::styled(
                "… waiting for the first token",
                Style::default().fg(theme.dim),
            )),
        },
        AnswerState::Streaming => {}
        AnswerState::Done(Finish::Length) => lines.extend(note(
            "⚠ cut at the token limit (max_tokens)".into(),
            theme.warning,
        )),
        AnswerState::Done(Finish::Filtered) => lines.extend(note(
            "⚠ the provider's content filter ended this answer".into(),
            theme.warning,
        )),
        AnswerState::Done(_) => {}
        AnswerState::Failed(error) => {
            if !answer.text.is_empty() {
                lines.push(Line::default());
            }
            let bold = Style::default()
                .fg(theme.error)
                .add_modifier(Modifier::BOLD);
            if hidden {
                // The provider's message and hint could name the model: after the vote.
                let status = error
                    .status
                    .map(|s| format!(" (HTTP {s})"))
                    .unwrap_or_default();
                let text = format!("✗ {}{status}", error.kind.label());
                lines.extend(wrap_note(&text, bold, width));
                lines.extend(note(
                    "  details show after your vote (blind mode)".into(),
                    theme.dim,
                ));
            } else {
                let text = format!("✗ {}", sanitize(&error.to_string()));
                lines.extend(wrap_note(&text, bold, width));
                if let Some(hint) = &error.hint {
                    lines.extend(note(format!("  {}", sanitize(hint)), theme.warning));
                }
            }
        }
        AnswerState::Stopped => {
            lines.push(Line::styled("■ stopped", Style::default().fg(theme.dim)))
        }
    }
    if let Some(vote) = vote {
        // Wrapped: with the winner's name it may not fit a narrow pane.
        lines.extend(wrap_note(
            &format!("✓ voted: {}", describe_vote(vote, answers, hidden)),
            Style::default().fg(theme.vote).add_modifier(Modifier::BOLD),
            width,
        ));
    }
    lines.push(Line::default());
    lines
}

/// A vote in words, naming the model that wrote the winning answer where names show.
fn describe_vote(vote: Vote, answers: &[Answer; 2], hidden: bool) -> String {
    let winner = match vote {
        Vote::A => Side::A,
        Vote::B => Side::B,
        Vote::Tie | Vote::BothBad => return vote.describe().to_owned(),
    };
    if hidden {
        return vote.describe().to_owned();
    }
    format!(
        "{} ({}) is better",
        winner.label(),
        sanitize(&answers[winner.index()].model.name)
    )
}

fn pane_title(state: &State, side: Side) -> String {
    let spec = &state.side(side).model;
    if state.names_hidden() {
        return format!("Model {}", side.label());
    }
    let name = sanitize(&spec.name);
    if spec.endpoint.kind == WireKind::Demo {
        format!("{} · {name} (offline demo)", side.label())
    } else {
        format!("{} · {name}", side.label())
    }
}

pub(super) fn draw_pane(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    side: Side,
    theme: &Theme,
    cache: &mut ViewCache,
    prompts: Option<&[Message]>,
) -> Viewport {
    let ViewCache { panes, highlights } = cache;
    let cache = &mut panes[side.index()];
    let focused = state.focus == side;
    let accent = match side {
        Side::A => theme.pane_a,
        Side::B => theme.pane_b,
    };
    let latest = state.turns.last().map(|t| t.answer(side));
    let (badge, badge_color) = match latest.map(|a| (&a.state, a.retry.is_some())) {
        None => ("ready", theme.dim),
        Some((AnswerState::Waiting, true)) => ("retrying", theme.warning),
        Some((AnswerState::Waiting, false)) => ("waiting", theme.warning),
        Some((AnswerState::Streaming, _)) => ("streaming", theme.success),
        Some((AnswerState::Done(_), _)) => ("done", theme.success),
        Some((AnswerState::Failed(e), _)) if e.kind == ErrorKind::CutOff => {
            ("cut off", theme.error)
        }
        Some((AnswerState::Failed(e), _)) if e.kind == ErrorKind::NoAnswer => {
            ("no answer", theme.error)
        }
        Some((AnswerState::Failed(_), _)) => ("error", theme.error),
        Some((AnswerState::Stopped, _)) => ("stopped", theme.dim),
    };
    let max_title = usize::from(area.width).saturating_sub(badge.len() + 8);
    let mut block = Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(Style::default().fg(if focused {
            theme.border_focused
        } else {
            theme.border
        }))
        .title(Line::styled(
            format!(" {} ", truncate(&pane_title(state, side), max_title)),
            Style::default().fg(accent).add_modifier(Modifier::BOLD),
        ))
        .title(
            Line::styled(format!(" {badge} "), Style::default().fg(badge_color))
                .alignment(Alignment::Right),
        );
    if let Some(answer) = latest {
        block = block.title_bottom(
            Line::styled(
                format!(
                    " {} ",
                    footer(answer, state.now, usize::from(area.width).saturating_sub(4))
                ),
                Style::default().fg(theme.dim),
            )
            .alignment(Alignment::Right),
        );
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let height = usize::from(inner.height);
    // One column stays free for the scrollbar.
    let width = usize::from(inner.width.saturating_sub(1)).max(1);
    if state.turns.is_empty() {
        let text = if state.names_hidden() {
            blind_welcome(state, width, theme)
        } else {
            welcome(state.side(side), width, theme)
        };
        frame.render_widget(Paragraph::new(text), inner);
        return Viewport {
            area,
            total_lines: 0,
            height,
        };
    }
    let look = Look {
        width,
        prompts: prompts.is_some(),
    };
    let before = prompts.unwrap_or_default();
    cache.refresh(state, side, look, before, theme, highlights);
    let total = cache.total_lines();
    let bottom_top = total.saturating_sub(height);
    let top = match state.side(side).scroll {
        Scroll::Follow => bottom_top,
        Scroll::Top(top) => top.min(bottom_top),
    };
    frame.render_widget(Paragraph::new(cache.window(top, height)), inner);
    if total > height {
        let mut bar = ScrollbarState::new(bottom_top).position(top);
        frame.render_stateful_widget(
            Scrollbar::new(ScrollbarOrientation::VerticalRight)
                .begin_symbol(None)
                .end_symbol(None)
                .track_symbol(Some("│"))
                .thumb_symbol("┃")
                .track_style(Style::default().fg(theme.border))
                .thumb_style(Style::default().fg(theme.dim)),
            inner,
            &mut bar,
        );
    }
    Viewport {
        area,
        total_lines: total,
        height,
    }
}

/// An empty pane in blind mode says nothing that could tell the models apart.
fn blind_welcome(state: &State, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let what = if state.battle.is_some() {
        "Battle: two models drawn at random"
    } else {
        "Blind mode: the two models were dealt to A and B by a coin"
    };
    wrap_text(
        &format!(
            "{what}; their names stay hidden until you vote.\n\nType a prompt below and press Enter."
        ),
        Style::default().fg(theme.dim),
        width,
    )
}

/// What an empty pane says: how to start, or which key is missing.
fn welcome(side: &SideState, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let dim = Style::default().fg(theme.dim);
    let warn = Style::default().fg(theme.warning);
    let text = match &side.key {
        KeyStatus::Missing(vars) => {
            let exports: Vec<String> = vars.iter().map(|v| format!("  export {v}=…")).collect();
            return [
                wrap_text(
                    &format!(
                        "{} needs an API key: {} is not set.",
                        sanitize(&side.model.name),
                        sanitize(&vars.join(" and "))
                    ),
                    warn,
                    width,
                ),
                vec![Line::default()],
                wrap_text(
                    &format!("Set it and start duel again:\n{}", exports.join("\n")),
                    dim,
                    width,
                ),
                vec![Line::default()],
                wrap_text("Or try the interface offline: duel --demo", dim, width),
            ]
            .concat();
        }
        _ if side.model.endpoint.kind == WireKind::Demo => format!(
            "{} is a built-in offline demo, not a real model: nothing is sent anywhere.\n\n\
             Type a prompt below and press Enter. Votes go to the demo's own log ({}), \
             never into duel stats.",
            side.model.name,
            duel_core::votes::log::DEMO_FILE_NAME
        ),
        _ => format!(
            "{} via {} ({}).\n\nType a prompt below and press Enter: both models answer at once.",
            side.model.model_id, side.model.provider, side.model.endpoint.base_url
        ),
    };
    wrap_text(&sanitize(&text), dim, width)
}

/// The latest answer's figures, in the longest form that fits `room` cells.
fn footer(answer: &Answer, now: std::time::Instant, room: usize) -> String {
    let ttft = answer.ttft().map(|d| d.as_millis());
    let (tokens, exact) = answer.output_tokens();
    let approx = if exact { "" } else { "≈" };
    let rate = answer.tokens_per_sec(now);
    let total = answer.elapsed(now).as_secs_f64();
    let ttft_long = ttft.map_or_else(|| "—".into(), |ms| format!("{ms} ms"));
    let rate_long = rate.map_or_else(|| "—".into(), |r| format!("{r:.1}"));
    let long =
        format!("TTFT {ttft_long} · {approx}{tokens} tok · {rate_long} tok/s · {total:.1} s");
    if duel_core::text::width(&long) <= room {
        return long;
    }
    let rate_short = rate.map_or_else(|| "—".into(), |r| format!("{r:.0}"));
    let short = format!(
        "{} · {approx}{tokens}t · {rate_short}/s · {total:.1}s",
        ttft.map_or_else(|| "—".into(), |ms| format!("{ms}ms"))
    );
    if duel_core::text::width(&short) <= room {
        return short;
    }
    format!("{approx}{tokens}t · {total:.1}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_wrapped_as_it_streams_matches_wrapping_it_whole() {
        let text = "First, the question asks\nabout 所有权 and borrowing.\n\nThen \u{1b}[2J a long line that has to wrap over the pane's edge\r\nend";
        let style = Style::default();
        for width in [5, 12, 40] {
            let mut streamed = PlainStream::default();
            for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                streamed.update(&text[..end], style, width);
                let whole = wrap_text(&sanitize(&text[..end]), style, width);
                let lines: Vec<_> = streamed.lines().cloned().collect();
                assert_eq!(lines, whole, "{:?} at width {width}", &text[..end]);
            }
            // Another text (shorter) starts over.
            streamed.update("new", style, width);
            assert_eq!(streamed.len(), 1);
        }
    }
}
