//! The review screen (`duel review`): the item's prompt on top under the progress
//! line, the two answers in the panes as the chat draws them, the status line last.

use crate::ui::Paint;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout as Split, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Paragraph};

use crate::app::review_session::Review;
use crate::app::state::{Screen, State};
use crate::theme::Theme;
use crate::ui::pane::{ViewCache, draw_pane, message_lines};
use crate::ui::popup::draw_help;
use crate::ui::status::{draw_status, status_height};
use crate::ui::wrap::wrap_text;
use duel_core::config::Layout;
use duel_core::domain::{Role, Side};
use duel_core::text::{count, sanitize, truncate};

pub(super) fn draw_review(
    buf: &mut Buffer,
    area: Rect,
    state: &State,
    review: &Review,
    theme: &Theme,
    cache: &mut ViewCache,
) -> Screen {
    let room = usize::from(area.width.saturating_sub(2)).max(1);
    let (prompt, clipped) = prompt_lines(review, theme, room, usize::from(area.height));
    let [top, panes, status] = Split::vertical([
        Constraint::Length(u16::try_from(prompt.len() + 2).unwrap_or(u16::MAX)),
        Constraint::Min(3),
        Constraint::Length(status_height(state, theme, area.width)),
    ])
    .areas(area);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(theme.border))
        .title(Line::styled(
            format!(" {} ", truncate(&review.progress(), room.saturating_sub(2))),
            Style::default()
                .fg(theme.heading)
                .add_modifier(Modifier::BOLD),
        ))
        .title_bottom(
            Line::styled(
                format!(" {} ", truncate(&about(review), room.saturating_sub(2))),
                Style::default().fg(theme.dim),
            )
            .right_aligned(),
        );
    buf.render_widget(Paragraph::new(prompt).block(block), top);

    let halves = match state.layout {
        Layout::Columns => Split::horizontal([Constraint::Ratio(1, 2); 2]),
        Layout::Rows => Split::vertical([Constraint::Ratio(1, 2); 2]),
    };
    let areas: [Rect; 2] = halves.areas(panes);
    // The panes begin with the conversation and its prompt only where the box above
    // could not hold it all.
    let before = review.current().map_or(&[][..], |e| e.item.before_prompt());
    let panes = Side::BOTH.map(|side| {
        draw_pane(
            buf,
            areas[side.index()],
            state,
            side,
            theme,
            cache,
            clipped.then_some(before),
            None,
        )
    });
    draw_status(buf, status, state, theme);
    if state.show_help {
        draw_help(buf, area, state, theme);
    }
    Screen { panes }
}

/// The conversation and its prompt wrapped to `room`, at most a quarter of the
/// screen's `height` (a third with a conversation before the prompt). Longer, the
/// earlier messages fold to a line and a long prompt is cut with a line saying how
/// much more there is: each pane then begins with all of it, to scroll. True when
/// anything was left out.
fn prompt_lines(
    review: &Review,
    theme: &Theme,
    room: usize,
    height: usize,
) -> (Vec<Line<'static>>, bool) {
    let entry = review.current();
    let before = entry.map_or(&[][..], |e| e.item.before_prompt());
    let prompt = entry.map_or("", |e| e.item.prompt());
    let style = Style::default().fg(theme.user).add_modifier(Modifier::BOLD);
    let note = Style::default()
        .fg(theme.dim)
        .add_modifier(Modifier::ITALIC);
    // After earlier messages the prompt is the last user message, and says so.
    let prompt = if before.is_empty() {
        prompt.trim_end().to_owned()
    } else {
        format!("user: {}", prompt.trim_end())
    };
    let mut prompt = wrap_text(&sanitize(&prompt), style, room);
    // The files that went with the prompt, named.
    let files = entry.map_or(&[][..], |e| e.item.run_item().attachments);
    for file in files {
        let named = format!("📎 {}", file.described());
        prompt.extend(wrap_text(&named, Style::default().fg(theme.dim), room));
    }
    let mut lines = message_lines(before, room, theme);
    let share = if before.is_empty() { 4 } else { 3 };
    let most = (height.saturating_sub(1) / share).max(1);
    if lines.len() + prompt.len() <= most {
        lines.append(&mut prompt);
        return (lines, false);
    }
    lines.clear();
    if !before.is_empty() {
        lines.push(Line::styled(
            truncate(
                &format!(
                    "▸ {} folded: each pane begins with the whole conversation",
                    count(before.len(), "earlier message", "earlier messages")
                ),
                room,
            ),
            note,
        ));
    }
    let rows = most.saturating_sub(lines.len()).max(1);
    if prompt.len() > rows {
        let keep = rows - 1;
        let more = prompt.len() - keep;
        prompt.truncate(keep);
        prompt.push(Line::styled(
            truncate(
                &format!(
                    "… {}: each pane begins with the whole prompt",
                    count(more, "more line", "more lines")
                ),
                room,
            ),
            note,
        ));
    }
    lines.append(&mut prompt);
    (lines, true)
}

/// Which run and item the pair is of: "run pilot · item q-37 · coding".
fn about(review: &Review) -> String {
    let mut text = format!("run {}", review.queue.run_label());
    if let Some(entry) = review.current() {
        text.push_str(&format!(" · item {}", entry.item.id));
        if let Some(category) = &entry.item.category {
            text.push_str(&format!(" · {category}"));
        }
        let earlier = entry
            .item
            .before_prompt()
            .iter()
            .filter(|m| m.role != Role::System)
            .count();
        if earlier > 0 {
            text.push_str(&format!(
                " · after {}",
                count(earlier, "earlier message", "earlier messages")
            ));
        }
    }
    sanitize(&text).replace('\n', " ")
}
