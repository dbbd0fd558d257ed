//! The live progress of `duel batch` and `duel judge` on stderr: a bar per lane (a
//! model answering, a judge judging) with done / total, failures, tokens, elapsed and
//! ETA when stderr is a terminal; otherwise one plain line per finished group (an
//! item's answers, a pair's two verdicts), which reads well in a log.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::text::sanitize;

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
        let shown = if std::io::stderr().is_terminal() {
            Self::bars(&lanes)
        } else {
            Shown::Lines
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

    fn bars(lanes: &[Lane]) -> Shown {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        let width = lanes
            .iter()
            .map(|l| crate::text::width(&l.name))
            .max()
            .unwrap_or(0);
        let template = format!(
            "{{prefix:{width}}} {{bar:28.cyan/blue}} {{pos:>5}}/{{len:5}} {{msg}} · {{elapsed_precise}} · ETA {{eta}}"
        );
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("█▉▊▋▌▍▎▏ ");
        let bars = lanes
            .iter()
            .map(|lane| {
                let bar = multi.add(ProgressBar::new(lane.total));
                bar.set_style(style.clone());
                bar.set_prefix(sanitize(&lane.name));
                bar.set_position(lane.done);
                bar.set_message("failed 0 · 0 tok");
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
                bar.set_message(format!("failed {} · {} tok", lane.failed, lane.tokens));
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
