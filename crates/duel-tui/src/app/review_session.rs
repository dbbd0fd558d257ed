//! `duel review`: the state of a review session. The queue of a run's pairs this judge
//! has not voted on, which one is shown, and what became of each this session; the
//! shown pair is the state's one turn, so the panes draw it as they draw a chat.

use std::path::PathBuf;

use uuid::Uuid;

use super::state::{Mode, Scroll, SideState, State};
use duel_core::config::{Config, Endpoint, ModelSpec, WireKind};
use duel_core::domain::{Side, Turn, Vote};
use duel_core::eval::queue::{Entry, Queue};
use duel_core::votes::SideRecord;

/// What became of a pair of the queue this session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Not judged yet.
    Open,
    /// Passed over with `x`: it comes back when the queue comes round, and next time.
    Skipped,
    /// Voted; the record is on its way to disk (or kept in memory after a failed
    /// write, retried with the next vote and at quit). Not confirmed yet.
    Saving { vote: Vote, record: Uuid },
    /// Voted, and the vote is on disk.
    Voted(Vote),
}

impl Mark {
    /// Still waiting for a vote.
    pub fn open(self) -> bool {
        matches!(self, Mark::Open | Mark::Skipped)
    }
}

/// A review session.
#[derive(Clone, Debug)]
pub struct Review {
    pub queue: Queue,
    /// One per entry of the queue.
    pub marks: Vec<Mark>,
    /// The entry shown.
    pub cursor: usize,
    /// Reviewing with a team on a store: the pair shown is leased to this judge, and
    /// the next one comes from the store.
    pub team: Option<Team>,
}

/// A team review's side of the session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Team {
    /// The pair shown is held for this judge (until a vote, a skip or quit).
    pub holding: bool,
    /// Pairs skipped this session, not asked for again.
    pub passed: Vec<String>,
    pub progress: duel_core::store::TeamProgress,
    /// A lease was asked for and has not come back.
    pub asking: bool,
}

impl Review {
    pub fn new(queue: Queue) -> Self {
        let marks = vec![Mark::Open; queue.entries.len()];
        let cursor = queue.start.min(queue.entries.len().saturating_sub(1));
        Self {
            queue,
            marks,
            cursor,
            team: None,
        }
    }

    /// The pair shown, named as the store names it.
    pub fn current_pair(&self) -> Option<String> {
        self.current().map(|e| e.key.within_run())
    }

    /// The entry of the pair the store named.
    pub fn entry_of(&self, pair: &str) -> Option<usize> {
        self.queue
            .entries
            .iter()
            .position(|e| e.key.within_run() == pair)
    }

    /// The pair shown.
    pub fn current(&self) -> Option<&Entry> {
        self.queue.entries.get(self.cursor)
    }

    pub fn mark(&self) -> Mark {
        self.marks.get(self.cursor).copied().unwrap_or(Mark::Open)
    }

    /// Votes of this session that are on disk.
    pub fn voted_now(&self) -> usize {
        self.marks
            .iter()
            .filter(|m| matches!(m, Mark::Voted(_)))
            .count()
    }

    pub fn skipped(&self) -> usize {
        self.marks.iter().filter(|m| **m == Mark::Skipped).count()
    }

    /// Pairs of the queue still without a vote.
    pub fn left(&self) -> usize {
        self.marks.iter().filter(|m| m.open()).count()
    }

    /// Where the judge is: "item 37 of 200 · 36 voted (3 this session) · 12 skipped".
    pub fn progress(&self) -> String {
        let queue = &self.queue;
        let unit = if queue.several_pairs_per_item {
            "pair"
        } else {
            "item"
        };
        let at = self.current().map_or(0, |e| e.position + 1);
        let now = self.voted_now();
        let mut text = format!(
            "{unit} {at} of {} · {} voted ({now} this session) · {} skipped",
            queue.total,
            queue.voted + now,
            self.skipped()
        );
        if queue.waiting > 0 {
            text.push_str(&format!(" · {} waiting for answers", queue.waiting));
        }
        if let Some(team) = &self.team {
            let left = usize::try_from(team.progress.left).unwrap_or(0);
            text.push_str(&format!(
                " · team: {} left",
                duel_core::text::count(left, "vote", "votes")
            ));
            if !team.progress.others.is_empty() {
                text.push_str(&format!(
                    " · also reviewing: {}",
                    team.progress.others.join(", ")
                ));
            }
        }
        text
    }
}

impl State {
    /// A review session of `queue`: blind, one pair at a time, votes to its log.
    pub fn for_review(config: &Config, queue: Queue, data_dir: PathBuf, seed: Option<u64>) -> Self {
        let votes_file = queue.votes_file;
        let review = Review::new(queue);
        let pair = match review.current() {
            Some(entry) => entry
                .shown
                .each_ref()
                .map(|side| spec_for(&config.models, side)),
            None => [Side::A, Side::B].map(|side| placeholder(side.label(), "", side.label())),
        };
        let setup = super::state::Setup {
            blind: true,
            battle: None,
            seed,
        };
        let mut state = State::new(config, pair, data_dir, setup);
        // The real log, unless the run's answers came from the offline demo models.
        state.votes_file = votes_file;
        state.mode = Mode::Review;
        state.review = Some(review);
        state.show_pair();
        state
    }

    /// Puts the review's current pair on the panes: its prompt and answers as the one
    /// turn, the names hidden until its vote is on disk, both panes at the top.
    pub(crate) fn show_pair(&mut self) {
        let Some(review) = &self.review else { return };
        let Some(entry) = review.current() else {
            return;
        };
        let voted = match review.mark() {
            Mark::Voted(vote) => Some(vote),
            _ => None,
        };
        let conversation = entry.conversation;
        let prompt = entry.item.prompt().to_owned();
        let shown = entry.shown.clone();
        let specs = shown.each_ref().map(|side| spec_for(&self.models, side));
        let answers = shown.each_ref().map(|side| side.to_answer(None, self.now));
        self.conversation = conversation;
        self.blind = true;
        self.revealed = voted.is_some();
        self.sides = specs.map(SideState::new);
        for side in &mut self.sides {
            side.scroll = Scroll::Top(0);
        }
        self.focus = Side::A;
        let mut turn = Turn::new(prompt, self.wall_time(), answers);
        turn.vote = voted;
        self.turns = vec![turn];
    }
}

/// The configured model of that name, else one made from what the answer record says
/// (a model no longer configured still shows under its name).
fn spec_for(models: &[ModelSpec], side: &SideRecord) -> ModelSpec {
    models
        .iter()
        .find(|m| m.name == side.model)
        .cloned()
        .unwrap_or_else(|| placeholder(&side.model, &side.provider, &side.model_id))
}

fn placeholder(name: &str, provider: &str, model_id: &str) -> ModelSpec {
    ModelSpec::new(
        name,
        provider,
        model_id,
        Endpoint::new(WireKind::OpenAi, ""),
    )
}
