//! The screen the loop keeps between frames: the scene (the last frame, painted over
//! in place: a frame paints only what may have changed) and what the terminal shows.
//! A frame sends the terminal the cells that differ in the rows it painted, so a token
//! costs the rows it changed, not a whole screen of cells compared.

use std::ops::Range;

use ratatui::backend::Backend;
use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
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
    /// The cells a frame sends, and the cells it brings `shown` up to date in; kept,
    /// so a frame allocates nothing.
    sends: Vec<usize>,
    copies: Vec<usize>,
}

impl Canvas {
    /// A canvas for a cleared terminal of `area`.
    pub fn new(area: Rect) -> Self {
        Self {
            scene: Buffer::empty(area),
            shown: Buffer::empty(area),
            retained: false,
            sends: Vec::new(),
            copies: Vec::new(),
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
    /// shown. The caller flushes, once a frame (with the frame's end marker, so a
    /// frame is one write).
    pub fn show<B: Backend>(&mut self, backend: &mut B, damage: &Damage) -> Result<(), B::Error> {
        let area = self.scene.area;
        let width = usize::from(area.width);
        self.sends.clear();
        self.copies.clear();
        for row in damage.bands().flatten() {
            let cells = row * width..(row + 1) * width;
            diff_row(
                &self.shown.content[cells.clone()],
                &self.scene.content[cells],
                row * width,
                &mut self.sends,
                &mut self.copies,
            );
        }
        let scene = &self.scene;
        backend.draw(self.sends.iter().map(|&i| {
            let (x, y) = (i % width, i / width);
            (area.x + x as u16, area.y + y as u16, &scene.content[i])
        }))?;
        for &i in &self.copies {
            self.shown.content[i].clone_from(&self.scene.content[i]);
        }
        self.retained = true;
        Ok(())
    }
}

/// What ratatui's own diff (`BufferDiff`) sends to bring a row of the terminal from
/// `prev` to `next`, compared in place: the indices (plus `base`) of the cells to send
/// go to `sends`, and of every cell that may differ to `copies`. Where a narrower
/// character replaces a wide one, the cells the wide one covered are sent too, always:
/// a terminal blanks them when the new character is written, in its colours and
/// underline (ratatui does so only where the old character's background or underline
/// would show).
fn diff_row(
    prev: &[Cell],
    next: &[Cell],
    base: usize,
    sends: &mut Vec<usize>,
    copies: &mut Vec<usize>,
) {
    let len = next.len().min(prev.len());
    // Cells up to here are sent whatever they hold: a wide character covered them.
    let mut covered = 0;
    let mut pos = 0;
    while pos < len {
        let i = pos;
        pos += 1;
        let (now, was) = (&next[i], &prev[i]);
        if is_skip(now) {
            copies.push(base + i);
            continue;
        }
        let width = usize::from(now.cell_width());
        let unchanged = now == was && now.diff_option != CellDiffOption::AlwaysUpdate;
        if unchanged && i >= covered {
            // The cells it covers are not compared: they may differ unseen.
            let end = (pos + width.saturating_sub(1)).min(len);
            copies.extend((pos..end).map(|j| base + j));
            pos = end;
            continue;
        }
        sends.push(base + i);
        copies.push(base + i);
        if matches!(now.diff_option, CellDiffOption::ForcedWidth(_)) {
            let end = (pos + width.saturating_sub(1)).min(len);
            copies.extend((pos..end).map(|j| base + j));
            pos = end;
            continue;
        }
        covered = covered.max(i + usize::from(was.cell_width()));
        if width > 1 && now.symbol().contains('\u{FE0F}') {
            // An emoji with VS16, whose trailing cells some terminals leave as they
            // were: sent where they changed.
            let mut end = (i + width).min(len);
            while pos < end {
                let j = pos;
                pos += usize::from(next[j].cell_width()).max(1);
                end = end.max(pos).min(len);
                if !is_skip(&next[j]) && prev[j].symbol() != next[j].symbol() {
                    sends.push(base + j);
                }
                copies.extend((j..pos.min(len)).map(|k| base + k));
            }
            pos = end;
        } else {
            let end = (pos + width.saturating_sub(1)).min(len);
            copies.extend((pos..end).map(|j| base + j));
            pos = end;
        }
    }
}

#[allow(deprecated)] // ratatui's diff still honours the old flag
fn is_skip(cell: &Cell) -> bool {
    matches!(cell.diff_option, CellDiffOption::Skip)
        || (cell.skip && matches!(cell.diff_option, CellDiffOption::None))
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
        let row = |text: &str, style: Style| {
            let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
            buf.set_string(0, 0, text, style);
            buf.content
        };
        let underlined = Style::default().add_modifier(Modifier::UNDERLINED);
        let (mut sends, mut copies) = (Vec::new(), Vec::new());
        diff_row(
            &row("有", Style::default()),
            &row("d", underlined),
            0,
            &mut sends,
            &mut copies,
        );
        assert_eq!(sends, vec![0, 1]);
    }

    /// Away from that case, a row sends exactly what ratatui's diff of the whole
    /// buffers sends: wide characters, emoji with VS16, styles.
    #[test]
    fn a_row_sends_what_ratatui_sends() {
        let pieces = ["a", "b", "有", "👍", "❤\u{FE0F}", " ", "xy"];
        let styles = [
            Style::default(),
            Style::default().add_modifier(Modifier::BOLD),
            Style::default().bg(ratatui::style::Color::Blue),
        ];
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..2000 {
            let mut rows = Vec::new();
            for _ in 0..2 {
                let mut buf = Buffer::empty(Rect::new(0, 0, 12, 1));
                let mut x = 0;
                while x < 12 {
                    let piece = pieces[next() % pieces.len()];
                    let (end, _) =
                        buf.set_stringn(x, 0, piece, 12 - usize::from(x), styles[next() % 3]);
                    x = end.max(x + 1);
                }
                rows.push(buf);
            }
            let (prev, now) = (&rows[0], &rows[1]);
            let (mut sends, mut copies) = (Vec::new(), Vec::new());
            diff_row(&prev.content, &now.content, 0, &mut sends, &mut copies);
            let theirs: Vec<usize> = prev
                .diff(now)
                .iter()
                .map(|&(x, _, _)| usize::from(x))
                .collect();
            // Ours: theirs, and cells theirs leaves: ones a wide character covered, and
            // changed ones it steps over (an emoji's trailing cell right after a
            // covered one).
            let show = |b: &Buffer| {
                b.content
                    .iter()
                    .map(|c| format!("{}{:?}{:?}", c.symbol(), c.bg, c.modifier))
                    .collect::<Vec<_>>()
            };
            assert!(
                theirs.iter().all(|x| sends.contains(x)),
                "{theirs:?} {sends:?}\n{:?}\n{:?}",
                show(prev),
                show(now)
            );
            for x in sends.iter().filter(|x| !theirs.contains(x)) {
                let covered = (0..*x).rev().any(|w| {
                    usize::from(prev.content[w].cell_width()) > x - w
                        && usize::from(now.content[w].cell_width()) <= x - w
                }) || prev.content[*x] != now.content[*x];
                assert!(
                    covered,
                    "{x} sent, ratatui would not ({theirs:?} {sends:?}):\n{:?}\n{:?}",
                    show(prev),
                    show(now)
                );
            }
            // What is copied makes the row shown equal to the row painted.
            let mut shown = prev.content.clone();
            for &i in &copies {
                shown[i] = now.content[i].clone();
            }
            assert_eq!(shown, now.content);
        }
    }
}
