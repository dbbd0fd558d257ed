//! The screen the loop keeps between frames: the scene (the last frame, painted over
//! in place: a frame paints only what may have changed) and what the terminal shows.
//! A frame sends the terminal the cells that differ in the rows it painted, so a token
//! costs the rows it changed, not a whole screen of cells compared.

use std::ops::Range;

use ratatui::backend::Backend;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;

/// The rows of the screen a frame painted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    top: u16,
    rows: Vec<bool>,
}

impl Damage {
    /// Nothing painted yet.
    pub fn none(area: Rect) -> Self {
        Self {
            top: area.y,
            rows: vec![false; usize::from(area.height)],
        }
    }

    /// The whole screen painted.
    pub fn all(area: Rect) -> Self {
        Self {
            top: area.y,
            rows: vec![true; usize::from(area.height)],
        }
    }

    /// Marks the rows `rows` (screen coordinates) as painted.
    pub(crate) fn rows(&mut self, rows: Range<u16>) {
        let from = usize::from(rows.start.saturating_sub(self.top)).min(self.rows.len());
        let to = usize::from(rows.end.saturating_sub(self.top)).min(self.rows.len());
        self.rows[from..to].fill(true);
    }

    /// How many rows were painted.
    pub fn count(&self) -> usize {
        self.rows.iter().filter(|&&painted| painted).count()
    }

    /// The runs of painted rows, as offsets from the top of the screen.
    fn bands(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            let start = at + self.rows[at..].iter().position(|&p| p)?;
            let len = self.rows[start..].iter().take_while(|&&p| p).count();
            at = start + len;
            Some(start..at)
        })
    }
}

/// The last frame painted and what the terminal shows, cell for cell.
pub struct Canvas {
    scene: Buffer,
    shown: Buffer,
    retained: bool,
}

impl Canvas {
    /// A canvas for a cleared terminal of `area`.
    pub fn new(area: Rect) -> Self {
        Self {
            scene: Buffer::empty(area),
            shown: Buffer::empty(area),
            retained: false,
        }
    }

    /// After the terminal was resized and cleared: the next frame paints everything.
    pub fn resize(&mut self, area: Rect) {
        *self = Self::new(area);
    }

    /// Where the next frame is painted.
    pub fn scene(&mut self) -> &mut Buffer {
        &mut self.scene
    }

    /// Whether the scene holds the last frame, so the next may paint only what changed.
    pub fn retained(&self) -> bool {
        self.retained
    }

    /// Sends the terminal what differs in the rows `damage` names, and remembers it as
    /// shown. ratatui's own diff decides what to send, wide characters and all.
    pub fn show<B: Backend>(&mut self, backend: &mut B, damage: &Damage) -> Result<(), B::Error> {
        let area = self.scene.area;
        let width = usize::from(area.width);
        for band in damage.bands() {
            let cells = band.start * width..band.end * width;
            if cells.len() == self.scene.content.len() {
                backend.draw(updates(&self.shown, &self.scene).into_iter())?;
                self.shown.content.clone_from(&self.scene.content);
                continue;
            }
            let rows = Rect {
                y: area.y + band.start as u16,
                height: band.len() as u16,
                ..area
            };
            let before = Buffer {
                area: rows,
                content: self.shown.content[cells.clone()].to_vec(),
            };
            let after = Buffer {
                area: rows,
                content: self.scene.content[cells.clone()].to_vec(),
            };
            backend.draw(updates(&before, &after).into_iter())?;
            self.shown.content.splice(cells, after.content);
        }
        self.retained = true;
        backend.flush()
    }
}

/// The cells to send to bring the terminal from `before` to `after`: ratatui's diff,
/// and where a narrower character replaces a wide one, the cells the wide one covered
/// too. A terminal blanks them when the new character is written, in its colours and
/// underline, so they are written again as they should be.
fn updates<'a>(before: &Buffer, after: &'a Buffer) -> Vec<(u16, u16, &'a Cell)> {
    let mut updates = before.diff(after);
    let mut covered = Vec::new();
    for &(x, y, cell) in &updates {
        let was = before[(x, y)].symbol();
        // A wide character takes more than one byte.
        if was.len() == 1 {
            continue;
        }
        let (was, now) = (
            duel_core::text::width(was),
            duel_core::text::width(cell.symbol()).max(1),
        );
        for dx in now..was {
            let x = x + dx as u16;
            if x < after.area.right() {
                covered.push((x, y, &after[(x, y)]));
            }
        }
    }
    if !covered.is_empty() {
        updates.extend(covered);
        updates.sort_by_key(|&(x, y, _)| (y, x));
        updates.dedup_by_key(|&mut (x, y, _)| (x, y));
    }
    updates
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::style::{Modifier, Style};

    #[test]
    fn bands_are_the_runs_of_painted_rows() {
        let mut damage = Damage::none(Rect::new(0, 2, 10, 8));
        damage.rows(2..3);
        damage.rows(5..7);
        damage.rows(9..40);
        let bands: Vec<_> = damage.bands().collect();
        assert_eq!(bands, vec![0..1, 3..5, 7..8]);
        assert_eq!(damage.count(), 4);
        assert_eq!(Damage::none(Rect::new(0, 0, 3, 3)).bands().count(), 0);
    }

    /// Rows left out of the damage are not sent, even where the scene changed: the
    /// painter names every row it touched.
    #[test]
    fn only_the_painted_rows_reach_the_terminal() {
        let area = Rect::new(0, 0, 6, 3);
        let mut backend = TestBackend::new(6, 3);
        let mut canvas = Canvas::new(area);
        assert!(!canvas.retained());
        canvas.scene().set_string(0, 0, "top", Style::default());
        canvas.scene().set_string(0, 2, "low", Style::default());
        let mut damage = Damage::none(area);
        damage.rows(2..3);
        canvas.show(&mut backend, &damage).unwrap();
        backend.assert_buffer_lines(["      ", "      ", "low   "]);
        assert!(canvas.retained());
        canvas.show(&mut backend, &Damage::all(area)).unwrap();
        backend.assert_buffer_lines(["top   ", "      ", "low   "]);
    }

    /// `有` then `d` over its first half: the cell `有` covered is sent as well, blank,
    /// so a terminal that blanked it in the underlined `d`'s style shows it plain.
    #[test]
    fn a_narrow_character_over_a_wide_one_sends_the_cell_it_covered() {
        let area = Rect::new(0, 0, 4, 1);
        let mut canvas = Canvas::new(area);
        let mut backend = TestBackend::new(4, 1);
        canvas.scene().set_string(0, 0, "有", Style::default());
        canvas.show(&mut backend, &Damage::all(area)).unwrap();
        canvas.scene().content.fill(Cell::EMPTY);
        let underlined = Style::default().add_modifier(Modifier::UNDERLINED);
        canvas.scene().set_string(0, 0, "d", underlined);
        let sent = updates(&canvas.shown, &canvas.scene);
        let sent: Vec<_> = sent.iter().map(|&(x, _, c)| (x, c.symbol())).collect();
        assert_eq!(sent, vec![(0, "d"), (1, " ")]);
    }
}
