//! The live progress of `duel batch` and `duel judge` on stderr: a bar per lane (a
//! model answering, a judge judging) with done / total, failures, tokens, elapsed and
//! ETA when stderr is a terminal; otherwise one plain line per finished group (an
//! item's answers, a pair's two verdicts), which reads well in a log.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{
    HumanDuration, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle,
};

use crate::text::sanitize;

/// A lane's failures and tokens so far: `0 failed · 302 tok`.
fn lane_message(lane: &LaneState) -> String {
    format!("{} failed · {} tok", lane.failed, lane.tokens)
}

/// One lane's start: its name, how many it will have done when finished, and how
/// many of those were done before this command began.
pub struct Lane {
    pub name: String,
    pub total: u64,
    pub done: u64,
}

/// One finished request of a group.
pub struct Finished<'a> {
    pub lane: usize,
    /// The group it belongs to (an item, a pair) and that group's label.
    pub group: usize,
    pub label: &'a str,
    /// The line's words for it: `qwen-plus ok 512 tok 1.2 s`, `… failed: …`.
    pub summary: String,
    pub failed: bool,
    pub tokens: u64,
}

pub struct Progress {
    shown: Shown,
    lanes: Vec<LaneState>,
    /// Requests still to finish, per group, and the words so far.
    open: HashMap<usize, (usize, Vec<String>)>,
    groups_total: usize,
    groups_done: usize,
}

enum Shown {
    Bars {
        _multi: MultiProgress,
        bars: Vec<ProgressBar>,
    },
    Lines,
}

#[derive(Default)]
struct LaneState {
    failed: u64,
    tokens: u64,
}

impl Progress {
    /// `sizes`: how many requests each group waits for, by group.
    pub fn new(lanes: Vec<Lane>, sizes: HashMap<usize, usize>) -> Self {
        let target = std::io::stderr()
            .is_terminal()
            .then(|| ProgressDrawTarget::stderr_with_hz(8));
        Self::on(target, lanes, sizes)
    }

    /// Bars on `target`, else plain lines.
    fn on(
        target: Option<ProgressDrawTarget>,
        lanes: Vec<Lane>,
        sizes: HashMap<usize, usize>,
    ) -> Self {
        let shown = match target {
            Some(target) => Self::bars(&lanes, target),
            None => Shown::Lines,
        };
        Progress {
            shown,
            lanes: lanes.iter().map(|_| LaneState::default()).collect(),
            groups_total: sizes.len(),
            groups_done: 0,
            open: sizes
                .into_iter()
                .map(|(g, n)| (g, (n, Vec::new())))
                .collect(),
        }
    }

    /// One line a lane: everything but the bar takes a fixed room and the bar what is
    /// left, so the line fits the terminal (80 columns too) and never wraps. The ETA
    /// shows once this command has an answer of the lane to reckon from.
    fn bars(lanes: &[Lane], target: ProgressDrawTarget) -> Shown {
        let multi = MultiProgress::with_draw_target(target);
        let width = lanes
            .iter()
            .map(|l| crate::text::width(&l.name))
            .max()
            .unwrap_or(0);
        let template = format!(
            "{{prefix:{width}}} {{wide_bar:.cyan/blue}} {{pos:>3}}/{{len}} · {{msg}} · {{elapsed}}{{eta_once_known}}"
        );
        let bars = lanes
            .iter()
            .map(|lane| {
                let start = lane.done;
                let style = ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("█▉▊▋▌▍▎▏ ")
                    .with_key(
                        "eta_once_known",
                        move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                            if state.pos() > start {
                                let _ = write!(out, " · ETA {:#}", HumanDuration(state.eta()));
                            }
                        },
                    );
                let bar = multi.add(ProgressBar::new(lane.total));
                bar.set_style(style);
                bar.set_prefix(sanitize(&lane.name));
                bar.set_position(lane.done);
                bar.set_message(lane_message(&LaneState::default()));
                bar.reset_eta();
                bar.enable_steady_tick(Duration::from_millis(250));
                bar
            })
            .collect();
        Shown::Bars {
            _multi: multi,
            bars,
        }
    }

    /// Takes in one finished request.
    pub fn finished(&mut self, done: Finished<'_>) {
        let lane = &mut self.lanes[done.lane];
        lane.failed += u64::from(done.failed);
        lane.tokens += done.tokens;
        match &self.shown {
            Shown::Bars { bars, .. } => {
                let bar = &bars[done.lane];
                bar.inc(1);
                bar.set_message(lane_message(lane));
            }
            Shown::Lines => {
                let Some((left, words)) = self.open.get_mut(&done.group) else {
                    return;
                };
                words.push(done.summary);
                *left = left.saturating_sub(1);
                if *left == 0 {
                    self.groups_done += 1;
                    eprintln!(
                        "[{}/{}] {}: {}",
                        self.groups_done,
                        self.groups_total,
                        sanitize(done.label),
                        sanitize(&words.join(" · "))
                    );
                    self.open.remove(&done.group);
                }
            }
        }
    }

    /// Clears the bars, leaving the screen to the summary.
    pub fn finish(self) {
        if let Shown::Bars { bars, .. } = &self.shown {
            for bar in bars {
                bar.finish_and_clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use indicatif::InMemoryTerm;

    use super::*;

    fn lanes() -> Vec<Lane> {
        ["demo-brisk", "demo-thoughtful"]
            .map(|name| Lane {
                name: name.into(),
                total: 8,
                done: 0,
            })
            .into()
    }

    fn finished(lane: usize, group: usize) -> Finished<'static> {
        Finished {
            lane,
            group,
            label: "item",
            summary: String::new(),
            failed: false,
            tokens: 150,
        }
    }

    /// The screen of an 80-column terminal the bars were drawn on.
    fn screen(term: &InMemoryTerm) -> Vec<String> {
        term.contents().lines().map(str::to_owned).collect()
    }

    #[test]
    fn at_80_columns_a_bar_is_one_line_and_no_eta_shows_before_an_answer() {
        let term = InMemoryTerm::new(10, 80);
        let sizes = (0..8).map(|g| (g, 2)).collect();
        let mut progress = Progress::on(
            Some(ProgressDrawTarget::term_like(Box::new(term.clone()))),
            lanes(),
            sizes,
        );
        let Shown::Bars { bars, .. } = &progress.shown else {
            panic!("bars on a terminal");
        };
        // indicatif limits how often it draws: tick until both lanes are drawn (on a
        // loaded machine the second tick can come within the limit).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        bars.iter().for_each(ProgressBar::tick);
        let mut lines = screen(&term);
        while lines.len() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
            bars.iter().for_each(ProgressBar::tick);
            lines = screen(&term);
        }
        assert_eq!(lines.len(), 2, "one line a lane: {lines:#?}");
        assert!(lines[0].starts_with("demo-brisk "), "{lines:#?}");
        assert!(lines[1].starts_with("demo-thoughtful "), "{lines:#?}");
        assert!(
            lines.iter().all(|l| l.contains("0/8 · 0 failed · 0 tok")),
            "{lines:#?}"
        );
        assert!(
            !lines.iter().any(|l| l.contains("ETA")),
            "no ETA yet: {lines:#?}"
        );

        progress.finished(finished(0, 0));
        let Shown::Bars { bars, .. } = &progress.shown else {
            panic!("bars on a terminal");
        };
        bars.iter().for_each(ProgressBar::tick);
        let lines = screen(&term);
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(
            lines[0].contains("1/8 · 0 failed · 150 tok") && lines[0].contains("ETA"),
            "{lines:#?}"
        );
        assert!(!lines[1].contains("ETA"), "{lines:#?}");
        assert!(
            lines.iter().all(|l| crate::text::width(l) <= 80),
            "{lines:#?}"
        );
    }
}
