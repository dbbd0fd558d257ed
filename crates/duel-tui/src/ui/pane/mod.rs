//! The two answer panes: every turn's wrapped lines, memoised per answer and width in
//! a `ViewCache`, so a frame costs what is visible plus what changed.

mod cache;
mod lines;

pub use cache::ViewCache;
use lines::Look;
pub(crate) use lines::message_lines;

use crate::ui::Paint;
use crate::ui::canvas::Damage;
use crate::ui::draw::{fill, ground};
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{
    Block, BorderType, Borders, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState,
};

use crate::app::state::{Scroll, SideState, State, Viewport};
use crate::theme::Theme;
use crate::ui::wrap::wrap_text;
use duel_core::config::{KeyStatus, WireKind};
use duel_core::cost::{Cost, Tokens};
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

/// Paints a pane. With `damage`, over the last frame's pane: the block's edges whole
/// (titles, badge and figures change), then only the body rows whose line differs
/// from the one painted there, and the scrollbar if it moved; each row painted is
/// named in `damage`. Without, on a blank ground.
#[allow(clippy::too_many_arguments)]
pub(super) fn draw_pane(
    buf: &mut Buffer,
    area: Rect,
    state: &State,
    side: Side,
    theme: &Theme,
    cache: &mut ViewCache,
    prompts: Option<&[Message]>,
    mut damage: Option<&mut Damage>,
) -> Viewport {
    let ViewCache {
        panes, highlights, ..
    } = cache;
    let cache = &mut panes[side.index()];
    let edges = edges_of(state, side, theme, area);
    let block = edges.block();
    let inner = block.inner(area);
    let ground = ground(theme);
    match damage.as_deref_mut() {
        // Over the last frame: its top and bottom rows, where titles and figures
        // change; the sides are as they were (the same area, focus and theme).
        Some(damage) if area.height >= 4 => {
            let top = Rect { height: 1, ..area };
            let bottom = Rect {
                y: area.bottom() - 1,
                ..top
            };
            for row in [top, bottom] {
                fill(buf, row, &ground);
                damage.rows(row.top()..row.bottom());
            }
            edges.paint_top_and_bottom(buf, area);
        }
        Some(damage) => {
            fill(buf, area, &ground);
            damage.rows(area.top()..area.bottom());
            buf.render_widget(block, area);
        }
        None => buf.render_widget(block, area),
    }

    let height = usize::from(inner.height);
    // One column stays free for the scrollbar.
    let width = usize::from(inner.width.saturating_sub(1)).max(1);
    if state.turns.is_empty() {
        let text = if state.names_hidden() {
            blind_welcome(state, width, theme)
        } else {
            welcome(state.side(side), width, theme)
        };
        if let Some(damage) = damage {
            fill(buf, inner, &ground);
            damage.rows(inner.top()..inner.bottom());
        }
        buf.render_widget(Paragraph::new(text), inner);
        cache.shown.clear();
        cache.bar = None;
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
    let bar = (total > height).then_some((bottom_top, top));
    // Over the last frame, a row is painted again only where its line changed: a token
    // that lengthens the last line costs that row. (A line's style reaches into the
    // scrollbar's column, so a moved scrollbar paints every row.)
    let known = damage.is_some() && cache.shown.len() == height && bar == cache.bar;
    if let (Some(damage), false) = (damage.as_deref_mut(), known) {
        fill(buf, inner, &ground);
        damage.rows(inner.top()..inner.bottom());
    }
    let mut shown = std::mem::take(&mut cache.shown);
    shown.resize(height, None);
    let mut lines = cache.lines_from(top);
    // Each line by reference, a row each: they are wrapped to fit already.
    for (y, shown) in (inner.y..inner.bottom()).zip(shown.iter_mut()) {
        let line = lines.next();
        if known && shown.as_ref() == line {
            continue;
        }
        let row = Rect::new(inner.x, y, inner.width, 1);
        if let (Some(damage), true) = (damage.as_deref_mut(), known) {
            fill(buf, row, &ground);
            damage.rows(y..y + 1);
        }
        if let Some(line) = line {
            buf.render_widget(line, row);
        }
        *shown = line.cloned();
    }
    drop(lines);
    cache.shown = shown;
    if bar.is_some() {
        draw_scrollbar(buf, inner, theme, bottom_top, top);
    }
    cache.bar = bar;
    Viewport {
        area,
        total_lines: total,
        height,
    }
}

/// The pane's frame: the model (or Model A/B while names are hidden) and a live
/// state badge on top, the latest answer's figures below, thick when focused.
struct Edges<'a> {
    border_type: BorderType,
    border_style: Style,
    title: Line<'a>,
    badge: Line<'a>,
    footer: Option<Line<'a>>,
}

impl<'a> Edges<'a> {
    /// The whole frame.
    fn block(&self) -> Block<'a> {
        let block = self
            .bordered(Borders::ALL)
            .title(self.title.clone())
            .title(self.badge.clone());
        match &self.footer {
            Some(footer) => block.title_bottom(footer.clone()),
            None => block,
        }
    }

    /// Only its top and bottom rows (and the sides beside the rows next to them), as
    /// `block` paints them: two blocks two rows high, open where they meet, so the rows
    /// between are not styled cell by cell.
    fn paint_top_and_bottom(&self, buf: &mut Buffer, area: Rect) {
        let top = self
            .bordered(Borders::TOP | Borders::LEFT | Borders::RIGHT)
            .title(self.title.clone())
            .title(self.badge.clone());
        buf.render_widget(top, Rect { height: 2, ..area });
        let mut bottom = self.bordered(Borders::BOTTOM | Borders::LEFT | Borders::RIGHT);
        if let Some(footer) = &self.footer {
            bottom = bottom.title_bottom(footer.clone());
        }
        let rows = Rect {
            y: area.bottom() - 2,
            height: 2,
            ..area
        };
        buf.render_widget(bottom, rows);
    }

    fn bordered(&self, borders: Borders) -> Block<'a> {
        Block::new()
            .borders(borders)
            .border_type(self.border_type)
            .border_style(self.border_style)
    }
}

fn edges_of<'a>(state: &State, side: Side, theme: &Theme, area: Rect) -> Edges<'a> {
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
    Edges {
        border_type: if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        },
        border_style: Style::default().fg(if focused {
            theme.border_focused
        } else {
            theme.border
        }),
        title: Line::styled(
            format!(" {} ", truncate(&pane_title(state, side), max_title)),
            Style::default().fg(accent).add_modifier(Modifier::BOLD),
        ),
        badge: Line::styled(format!(" {badge} "), Style::default().fg(badge_color))
            .alignment(Alignment::Right),
        footer: latest.map(|answer| {
            Line::styled(
                format!(
                    " {} ",
                    footer(
                        answer,
                        state.now,
                        usize::from(area.width).saturating_sub(4),
                        costs(state, side).as_ref()
                    )
                ),
                Style::default().fg(theme.dim),
            )
            .alignment(Alignment::Right)
        }),
    }
}

/// The scrollbar at the pane's right edge: where `top` is among `bottom_top` + 1
/// first lines.
fn draw_scrollbar(buf: &mut Buffer, inner: Rect, theme: &Theme, bottom_top: usize, top: usize) {
    let mut bar = ScrollbarState::new(bottom_top).position(top);
    buf.render_stateful_widget(
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
/// What the latest answer of `side` cost and what the side's answers in this
/// conversation cost so far, as shown; `None` where no model has a price, and while
/// the names are hidden (a price tells models apart).
fn costs(state: &State, side: Side) -> Option<(String, String)> {
    let prices = &state.prices;
    if prices.currency.is_none() || state.names_hidden() {
        return None;
    }
    let cost_of = |turn: &duel_core::domain::Turn| {
        let answer = turn.answer(side);
        // The prompt is counted only for a server that sent no input count.
        let tokens = Tokens::of_answer(answer, || turn.prompt.chars().count());
        prices.cost(&answer.model.name, &tokens)
    };
    let latest = cost_of(state.turns.last()?);
    let so_far = Cost::sum(state.turns.iter().map(cost_of));
    Some((prices.show(latest), prices.show(so_far)))
}

fn footer(
    answer: &Answer,
    now: std::time::Instant,
    room: usize,
    costs: Option<&(String, String)>,
) -> String {
    let ttft = answer.ttft().map(|d| d.as_millis());
    let (tokens, exact) = answer.output_tokens();
    let approx = if exact { "" } else { "≈" };
    let rate = answer.tokens_per_sec(now);
    let total = answer.elapsed(now).as_secs_f64();
    let ttft_long = ttft.map_or_else(|| "—".into(), |ms| format!("{ms} ms"));
    let rate_long = rate.map_or_else(|| "—".into(), |r| format!("{r:.1}"));
    let mut long =
        format!("TTFT {ttft_long} · {approx}{tokens} tok · {rate_long} tok/s · {total:.1} s");
    if let Some((latest, so_far)) = costs {
        long += &format!(" · {latest} (conversation {so_far})");
    }
    if duel_core::text::width(&long) <= room {
        return long;
    }
    let rate_short = rate.map_or_else(|| "—".into(), |r| format!("{r:.0}"));
    let short = format!(
        "{} · {approx}{tokens}t · {rate_short}/s · {total:.1}s",
        ttft.map_or_else(|| "—".into(), |ms| format!("{ms}ms"))
    );
    if let Some((latest, _)) = costs {
        let with_cost = format!("{short} · {latest}");
        if duel_core::text::width(&with_cost) <= room {
            return with_cost;
        }
    }
    if duel_core::text::width(&short) <= room {
        return short;
    }
    format!("{approx}{tokens}t · {total:.1}s")
}
