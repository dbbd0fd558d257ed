//! The two answer panes: every turn's wrapped lines, memoised per answer and width in
//! a `ViewCache`, so a frame costs what is visible plus what changed.

mod cache;
mod lines;

pub use cache::ViewCache;
use lines::Look;
pub(crate) use lines::message_lines;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{
    Block, BorderType, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState,
};

use crate::app::state::{Scroll, SideState, State, Viewport};
use crate::theme::Theme;
use crate::ui::wrap::wrap_text;
use duel_core::config::{KeyStatus, WireKind};
use duel_core::domain::{Answer, AnswerState, ErrorKind, Message, Side};
use duel_core::text::{sanitize, truncate};

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
    let block = frame_of(state, side, theme, area);
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
    // Each line by reference, a row each: they are wrapped to fit already.
    for (y, line) in (inner.y..inner.bottom()).zip(cache.lines_from(top)) {
        frame.render_widget(line, Rect::new(inner.x, y, inner.width, 1));
    }
    if total > height {
        draw_scrollbar(frame, inner, theme, bottom_top, top);
    }
    Viewport {
        area,
        total_lines: total,
        height,
    }
}

/// The pane's frame: the model (or Model A/B while names are hidden) and a live
/// state badge on top, the latest answer's figures below, thick when focused.
fn frame_of<'a>(state: &State, side: Side, theme: &Theme, area: Rect) -> Block<'a> {
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
    block
}

/// The scrollbar at the pane's right edge: where `top` is among `bottom_top` + 1
/// first lines.
fn draw_scrollbar(frame: &mut Frame, inner: Rect, theme: &Theme, bottom_top: usize, top: usize) {
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
