//! Tables: columns that share the pane's width, or a list when they cannot.

use pulldown_cmark::Alignment;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;

use super::Renderer;
use crate::ui::wrap::wrap_spans;
use duel_core::text::width as text_width;

/// A table column narrower than this could not hold a wide (CJK) character.
pub(super) const MIN_COLUMN: usize = 2;
/// A table is drawn only when each column can show this much of its longest word.
const READABLE_COLUMN: usize = 6;

#[derive(Default)]
pub(super) struct TableBuf {
    pub(super) aligns: Vec<Alignment>,
    pub(super) rows: Vec<Vec<Vec<Span<'static>>>>,
    pub(super) header_rows: usize,
}

impl Renderer<'_> {
    pub(super) fn table(&mut self, table: TableBuf) {
        let width = self.content_width();
        let columns = table
            .rows
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(0)
            .max(table.aligns.len());
        if columns == 0 {
            return;
        }
        let Some(widths) = column_widths(&table, columns, width) else {
            // Columns a few cells wide are harder to read than the rows spelled out.
            return self.table_as_list(table);
        };
        let border = self.dim();
        let rule = |left: &str, mid: &str, right: &str| {
            let mut s = String::from(left);
            for (c, w) in widths.iter().enumerate() {
                if c > 0 {
                    s.push_str(mid);
                }
                s.push_str(&"─".repeat(w + 2));
            }
            s.push_str(right);
            vec![Span::styled(s, border)]
        };
        let wrapped: Vec<Vec<Vec<Line<'static>>>> = table
            .rows
            .iter()
            .map(|row| {
                (0..columns)
                    .map(|c| match row.get(c) {
                        Some(cell) if cell.iter().map(Span::width).sum::<usize>() <= widths[c] => {
                            vec![Line::from(cell.clone())]
                        }
                        Some(cell) if !cell.is_empty() => wrap_spans(cell, widths[c]),
                        _ => Vec::new(),
                    })
                    .collect()
            })
            .collect();
        let body_wraps = wrapped
            .iter()
            .skip(table.header_rows)
            .any(|row| row.iter().any(|cell| cell.len() > 1));

        self.push_line(rule("┌", "┬", "┐"));
        for (r, row) in wrapped.into_iter().enumerate() {
            if r > 0 && (r == table.header_rows || (r > table.header_rows && body_wraps)) {
                // Rows that take several lines need a line between them to read apart.
                self.push_line(rule("├", "┼", "┤"));
            }
            let height = row.iter().map(Vec::len).max().unwrap_or(0).max(1);
            for i in 0..height {
                self.push_line(table_line(&row, i, &widths, &table.aligns, border));
            }
        }
        self.push_line(rule("└", "┴", "┘"));
    }

    /// A table too wide for even two cells per column: each row as "header: value" lines.
    fn table_as_list(&mut self, table: TableBuf) {
        let width = self.content_width();
        let (head, body) = table.rows.split_at(table.header_rows.min(table.rows.len()));
        let head = head.first();
        for (r, row) in body.iter().enumerate() {
            if r > 0 {
                let rule = "─".repeat(width);
                self.push_line(vec![Span::styled(rule, self.dim())]);
            }
            for (c, cell) in row.iter().enumerate() {
                let mut spans = Vec::new();
                if let Some(name) = head.and_then(|h| h.get(c)) {
                    spans.extend(name.iter().cloned());
                    spans.push(Span::styled(": ", self.dim()));
                }
                spans.extend(cell.iter().cloned());
                for line in wrap_spans(&spans, width) {
                    self.push_line(line.spans);
                }
            }
        }
        if body.is_empty() {
            for cell in head.into_iter().flatten() {
                for line in wrap_spans(cell, width) {
                    self.push_line(line.spans);
                }
            }
        }
    }
}

/// Each column's width in a table `width` cells wide: whole words first, then the rest
/// in proportion to what each column lacks; none when the columns would be too narrow
/// to read.
fn column_widths(table: &TableBuf, columns: usize, width: usize) -> Option<Vec<usize>> {
    // Widest content and widest unbreakable word per column.
    let mut natural = vec![1; columns];
    let mut word = vec![1; columns];
    for row in &table.rows {
        for (c, cell) in row.iter().enumerate() {
            let w: usize = cell.iter().map(Span::width).sum();
            natural[c] = natural[c].max(w);
            word[c] = word[c].max(longest_word(cell));
        }
    }
    // Each column costs "│ " before and " " after it, plus the closing "│".
    let frame = 3 * columns + 1;
    let readable: usize = word.iter().map(|&w| w.min(READABLE_COLUMN)).sum();
    if width < frame + readable.max(MIN_COLUMN * columns) {
        return None;
    }
    let room = width - frame;
    Some(if word.iter().sum::<usize>() <= room {
        let extra: Vec<usize> = natural.iter().zip(&word).map(|(n, w)| n - w).collect();
        let more = fit_columns(&extra, room - word.iter().sum::<usize>(), 0);
        word.iter().zip(more).map(|(w, m)| w + m).collect()
    } else {
        fit_columns(&word, room, MIN_COLUMN)
    })
}

/// Line `i` of a table row whose cells are wrapped: each cell aligned in its column
/// between the borders.
fn table_line(
    row: &[Vec<Line<'static>>],
    i: usize,
    widths: &[usize],
    aligns: &[Alignment],
    border: Style,
) -> Vec<Span<'static>> {
    let mut spans = Vec::with_capacity(3 * row.len() + 1);
    for (c, cell) in row.iter().enumerate() {
        spans.push(Span::styled(if c == 0 { "│ " } else { " │ " }, border));
        let line = cell.get(i);
        let used = line.map_or(0, Line::width);
        let gap = widths[c] - used.min(widths[c]);
        let (before, after) = match aligns.get(c) {
            Some(Alignment::Right) => (gap, 0),
            Some(Alignment::Center) => (gap / 2, gap - gap / 2),
            _ => (0, gap),
        };
        if before > 0 {
            spans.push(Span::raw(" ".repeat(before)));
        }
        if let Some(line) = line {
            spans.extend(line.spans.iter().cloned());
        }
        if after > 0 {
            spans.push(Span::raw(" ".repeat(after)));
        }
    }
    spans.push(Span::styled(" │", border));
    spans
}

/// The widest run of a cell that cannot break: a word, or one wide character.
pub(super) fn longest_word(cell: &[Span<'_>]) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for g in cell.iter().flat_map(|s| s.content.graphemes(true)) {
        let w = text_width(g);
        if g == " " || w > 1 {
            longest = longest.max(run).max(w);
            run = 0;
        } else {
            run += w;
        }
    }
    longest.max(run)
}

/// Column widths for `room` cells: narrow columns keep their width, wide ones share
/// the rest in proportion to their content, none below `min` (or its content).
/// Needs `room >= min * natural.len()`.
pub(super) fn fit_columns(natural: &[usize], room: usize, min: usize) -> Vec<usize> {
    if natural.iter().sum::<usize>() <= room {
        return natural.to_vec();
    }
    let floor = |c: usize| natural[c].min(min);
    let mut widths = natural.to_vec();
    let mut open: Vec<usize> = (0..natural.len()).collect();
    let mut left = room;
    loop {
        let share = left / open.len().max(1);
        let (small, wide): (Vec<usize>, Vec<usize>) =
            open.iter().partition(|&&c| natural[c] <= share);
        if small.is_empty() {
            let total: usize = wide.iter().map(|&c| natural[c]).sum();
            for &c in &wide {
                widths[c] = (natural[c] * left / total.max(1)).max(floor(c));
            }
            let mut used: usize = wide.iter().map(|&c| widths[c]).sum();
            // Rounding: take back from the widest, hand out to the most shortchanged.
            while used > left {
                let Some(&c) = wide
                    .iter()
                    .filter(|&&c| widths[c] > floor(c))
                    .max_by_key(|&&c| widths[c])
                else {
                    break;
                };
                widths[c] -= 1;
                used -= 1;
            }
            while used < left {
                let Some(&c) = wide
                    .iter()
                    .filter(|&&c| widths[c] < natural[c])
                    .max_by_key(|&&c| natural[c] - widths[c])
                else {
                    break;
                };
                widths[c] += 1;
                used += 1;
            }
            return widths;
        }
        for &c in &small {
            left -= natural[c];
        }
        open = wide;
        if open.is_empty() {
            return widths;
        }
    }
}
