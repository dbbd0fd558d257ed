//! What a turn looks like as lines: the prompt, earlier attempts, the reasoning folded
//! or whole, the answer, and the notes under it (errors, retries, the vote).

use std::time::Duration;

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::cache::TurnKey;

use crate::theme::Theme;
use crate::ui::markdown::{Highlights, Streamed};
use crate::ui::wrap::{wrap_note, wrap_spans, wrap_text};
use duel_core::attachment::Attachment;
use duel_core::domain::{Answer, AnswerState, Finish, Message, Retry, Role, Side, Turn, Vote};
use duel_core::text::sanitize;

/// A wait to the tenth of a second below it, so a countdown redraws ten times a second
/// at most.
pub(super) fn tenths(wait: Duration) -> Duration {
    Duration::from_millis(u64::try_from(wait.as_millis() / 100 * 100).unwrap_or(u64::MAX))
}

pub(super) fn reasoning_style(theme: &Theme) -> Style {
    Style::default()
        .fg(theme.reasoning)
        .add_modifier(Modifier::ITALIC)
}

/// Folded reasoning in one line: "▸ thought for 3 lines (e shows them)".
pub(super) fn thought_summary(reasoning: &str) -> String {
    match reasoning.trim().lines().count() {
        1 => "▸ thought for 1 line (e shows it)".to_owned(),
        n => format!("▸ thought for {n} lines (e shows them)"),
    }
}

/// A regenerated turn's earlier attempts on `side`, each under its label with its
/// reasoning (folded unless expanded), answer, end and vote; then the label of the
/// attempt shown now.
pub(super) fn earlier_lines(
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
pub(super) struct Look {
    pub(super) width: usize,
    pub(super) prompts: bool,
}

/// Plain text wrapped as it streams: the lines before the last line break are kept.
#[derive(Default)]
pub(super) struct PlainStream {
    /// Bytes of the text whose lines are in `done`, up to and with a line break.
    seen: usize,
    done: Vec<Line<'static>>,
    live: Vec<Line<'static>>,
}

impl PlainStream {
    pub(super) fn update(&mut self, text: &str, style: Style, width: usize) {
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

    pub(super) fn len(&self) -> usize {
        self.done.len() + self.live.len()
    }

    pub(super) fn lines(&self) -> impl Iterator<Item = &Line<'static>> {
        self.done.iter().chain(&self.live)
    }
}

/// The messages of a conversation before its prompt, each under its role, dimmed:
/// what a reviewed item says before the prompt its answers answer.
pub(crate) fn message_lines(
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

/// A turn's prompt, then the files that went with it, named (images are not drawn).
pub(super) fn prompt_lines(
    prompt: &str,
    attachments: &[Attachment],
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
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
    let dim = Style::default().fg(theme.dim);
    for attachment in attachments {
        let named = format!("  📎 {}", attachment.described());
        lines.extend(wrap_text(&named, dim, width));
    }
    lines.push(Line::default());
    lines
}

/// What follows an answer of a pair: how it ended (or the retry it waits for), and
/// the pair's vote.
pub(super) fn foot_lines(
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
