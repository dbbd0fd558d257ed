//! The review queue of a run (`duel review`, SPEC §8): the pairs one judge has not
//! voted on yet, in the run's order, each dealt to A and B by the pair's own coin, and
//! where the judge stopped last time.

use std::path::Path;

use sha2::Digest;
use uuid::Uuid;

use super::pairs::{Pair, PairKey, pairs, second_shown_first, voted_by};
use super::run::Run;
use super::suite::Item;
use crate::votes::{SideRecord, VoteRecord};

/// One pair to review, as the judge sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The pair's place among the run's ready pairs, from 0.
    pub position: usize,
    pub item: Item,
    pub key: PairKey,
    /// The two answers as shown: A first.
    pub shown: [SideRecord; 2],
    /// The conversation id its vote is logged under: the same for this judge and
    /// pair every time, so (conversation, turn, attempt) names one judgement.
    pub conversation: Uuid,
}

/// What a judge has left to review in a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Queue {
    /// The run's id, as vote records name it.
    pub run: String,
    /// The run's `--name`, if it has one.
    pub name: Option<String>,
    pub judge: String,
    /// Pairs of the run whose two answers are in.
    pub total: usize,
    /// Of those, the pairs this judge had voted on before.
    pub voted: usize,
    /// Pairs still missing an answer.
    pub waiting: usize,
    /// The pairs without this judge's vote, in the run's order.
    pub entries: Vec<Entry>,
    /// The entry to show first: the first after the pair the judge voted on last
    /// (where the last session stopped), else the first.
    pub start: usize,
    /// The run compares more than two models, so an item has several pairs.
    pub several_pairs_per_item: bool,
    /// The vote log in the data dir its votes go to (see `pairs::votes_file`).
    pub votes_file: &'static str,
}

impl Queue {
    /// Builds the queue of `judge` from the run's ready pairs and the vote log's records.
    pub fn new(
        run: &Run,
        ready: Vec<Pair>,
        waiting: usize,
        records: &[VoteRecord],
        judge: &str,
    ) -> Self {
        let id = run.info.id.as_str();
        let votes_file = super::pairs::votes_file(&ready);
        let done = voted_by(records, judge);
        let total = ready.len();
        let last = records
            .iter()
            .rev()
            .filter(|r| r.judge == judge && r.run.as_deref() == Some(id))
            .find_map(PairKey::of);
        let mut last_position = None;
        let mut entries = Vec::new();
        for (position, pair) in ready.into_iter().enumerate() {
            let key = pair.key(id);
            if last.as_ref() == Some(&key) {
                last_position = Some(position);
            }
            if done.contains(&key) {
                continue;
            }
            let [first, second] = pair.answers;
            let shown = if second_shown_first(&key, judge) {
                [second, first]
            } else {
                [first, second]
            };
            entries.push(Entry {
                position,
                conversation: conversation_id(&key, judge),
                item: pair.item,
                key,
                shown,
            });
        }
        let start = last_position
            .and_then(|last| entries.iter().position(|e| e.position > last))
            .unwrap_or(0);
        Self {
            run: id.to_owned(),
            name: run.info.name.clone(),
            judge: judge.to_owned(),
            voted: total - entries.len(),
            total,
            waiting,
            entries,
            start,
            several_pairs_per_item: run.info.models.len() > 2,
            votes_file,
        }
    }

    /// How to call duel for this run's votes: with `--demo` for a demo run's.
    pub fn duel(&self) -> &'static str {
        crate::config::duel_command(self.votes_file == crate::votes::log::DEMO_FILE_NAME)
    }

    /// The run as the user names it: its name, else its id.
    pub fn run_label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.run)
    }

    /// Why there is nothing to review, when there is nothing: for the terminal, before
    /// the screen would change.
    pub fn nothing_left(&self) -> Option<String> {
        if !self.entries.is_empty() {
            return None;
        }
        let run = &self.run;
        let mut text = if self.total == 0 {
            format!("run {run} has no pair with both answers yet")
        } else {
            format!(
                "all {} pairs of run {run} have your vote ({}); see `{} stats --run {run}`",
                self.total,
                self.judge,
                self.duel()
            )
        };
        if let Some(waiting) = self.waiting_note() {
            text.push('\n');
            text.push_str(&waiting);
        }
        Some(text)
    }

    /// "3 pairs wait for answers: `duel batch --resume RUN`", when some do.
    pub fn waiting_note(&self) -> Option<String> {
        let run = &self.run;
        match self.waiting {
            0 => None,
            1 => Some(format!(
                "1 pair waits for answers: `{} batch --resume {run}`",
                self.duel()
            )),
            n => Some(format!(
                "{n} pairs wait for answers: `{} batch --resume {run}`",
                self.duel()
            )),
        }
    }
}

/// Reads the queue of `judge` for the run `wanted` names (`last`, an id, a name or an
/// id prefix), with the votes of its vote log.
pub fn load(data_dir: &Path, wanted: &str, judge: &str) -> Result<Queue, LoadError> {
    let run = Run::find(data_dir, wanted).map_err(LoadError::Usage)?;
    for_run(&run, judge, |votes_file| {
        let votes_path = data_dir.join(votes_file);
        crate::votes::log::read(&votes_path)
            .map(|(records, _)| records)
            .map_err(|e| format!("{}: {e}", votes_path.display()))
    })
}

/// The queue of `judge` for `run`, with the votes `votes` reads for the run's log
/// (the data dir's, or a team's store).
pub fn for_run(
    run: &Run,
    judge: &str,
    votes: impl FnOnce(&'static str) -> Result<Vec<VoteRecord>, String>,
) -> Result<Queue, LoadError> {
    let items = run.items().map_err(|e| {
        LoadError::Failed(format!("run {}: its copy of the suite: {e}", run.info.id))
    })?;
    let found = pairs(run, &items)
        .map_err(|e| LoadError::Failed(format!("run {}: reading its answers: {e}", run.info.id)))?;
    let records = votes(super::pairs::votes_file(&found.ready)).map_err(LoadError::Failed)?;
    Ok(Queue::new(run, found.ready, found.waiting, &records, judge))
}

/// Why a queue could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The run named is not there (exit 2).
    Usage(String),
    /// It is there but could not be read (exit 1).
    Failed(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Usage(text) | LoadError::Failed(text) => f.write_str(text),
        }
    }
}

/// A name-based id (UUID version 8) from the pair and the judge: the same every time.
fn conversation_id(key: &PairKey, judge: &str) -> Uuid {
    let seed = format!(
        "duel review\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{judge}",
        key.run, key.item, key.models[0], key.models[1]
    );
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Finish, Message, Role, Vote};
    use crate::eval::run::{AnswerRecord, RunInfo};

    fn side(model: &str, item: &str) -> SideRecord {
        SideRecord {
            history: Some(vec![Message::new(Role::System, "Be brief.")]),
            ..SideRecord::sample(model, &format!("{model} on {item}"), Finish::Stop)
        }
    }

    /// A run of `items` answered by x and y (item 9 only by x).
    fn run(dir: &Path, items: usize) -> Run {
        let run = Run::create(
            dir,
            RunInfo {
                id: "r1".into(),
                name: Some("pilot".into()),
                suite: "s.txt".into(),
                suite_sha256: String::new(),
                models: vec!["x".into(), "y".into()],
                settings: Default::default(),
                created: "2026-11-29T10:00:00.000Z".into(),
            },
        )
        .unwrap();
        let suite: String = (1..=items).map(|i| format!("prompt {i}\n")).collect();
        run.keep_suite(suite.as_bytes()).unwrap();
        for i in 1..=items {
            for model in ["x", "y"] {
                if i == 9 && model == "y" {
                    continue;
                }
                let item = i.to_string();
                run.append(&AnswerRecord {
                    side: side(model, &item),
                    item,
                    attachments: Vec::new(),
                })
                .unwrap();
            }
        }
        run
    }

    fn vote(judge: &str, item: &str, a: &str, b: &str) -> VoteRecord {
        VoteRecord {
            schema: 1,
            id: Uuid::nil(),
            time: "2026-11-29T11:00:00.000Z".into(),
            conversation: Uuid::nil(),
            turn: 1,
            attempt: 1,
            vote: Vote::A,
            blind: true,
            judge: judge.into(),
            prompt: String::new(),
            attachments: Vec::new(),
            a: side(a, item),
            b: side(b, item),
            run: Some("r1".into()),
            item: Some(item.into()),
            category: None,
            reason: None,
            verdicts: None,
        }
    }

    fn queue(run: &Run, records: &[VoteRecord], judge: &str) -> Queue {
        let items = run.items().unwrap();
        let found = pairs(run, &items).unwrap();
        Queue::new(run, found.ready, found.waiting, records, judge)
    }

    fn ids(queue: &Queue) -> Vec<&str> {
        queue.entries.iter().map(|e| e.item.id.as_str()).collect()
    }

    #[test]
    fn the_judges_own_votes_leave_the_queue_and_it_resumes_after_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let run = run(dir.path(), 5);
        let fresh = queue(&run, &[], "alice");
        assert_eq!(ids(&fresh), ["1", "2", "3", "4", "5"]);
        assert_eq!((fresh.total, fresh.voted, fresh.start), (5, 0, 0));

        // Alice voted on 2 and then 4 (either model shown first); Bob on 5; a chat
        // vote has no run and counts for nothing here.
        let mut chat = vote("alice", "1", "x", "y");
        chat.run = None;
        let records = [
            vote("alice", "2", "x", "y"),
            vote("bob", "5", "y", "x"),
            vote("alice", "4", "y", "x"),
            chat,
        ];
        let resumed = queue(&run, &records, "alice");
        assert_eq!(ids(&resumed), ["1", "3", "5"]);
        assert_eq!((resumed.total, resumed.voted), (5, 2));
        assert_eq!(
            resumed.entries[resumed.start].item.id, "5",
            "the first pair after the last one voted on"
        );
        assert_eq!(ids(&queue(&run, &records, "bob")), ["1", "2", "3", "4"]);
    }

    #[test]
    fn the_pairs_coin_decides_which_model_is_a() {
        let dir = tempfile::tempdir().unwrap();
        let run = run(dir.path(), 8);
        let queue = queue(&run, &[], "alice");
        let mut firsts = Vec::new();
        for entry in &queue.entries {
            let flipped = second_shown_first(&entry.key, "alice");
            let a = if flipped { "y" } else { "x" };
            assert_eq!(entry.shown[0].model, a, "item {}", entry.item.id);
            assert_eq!(entry.shown[0].answer, format!("{a} on {}", entry.item.id));
            assert_ne!(entry.shown[0].model, entry.shown[1].model);
            firsts.push(a);
        }
        assert!(firsts.contains(&"x") && firsts.contains(&"y"), "{firsts:?}");
        // The same each time, and another judge gets a coin of their own.
        assert_eq!(queue, self::queue(&run, &[], "alice"));
        assert_ne!(
            queue.entries[0].conversation,
            self::queue(&run, &[], "bob").entries[0].conversation
        );
    }

    #[test]
    fn nothing_left_says_what_to_do_next() {
        let dir = tempfile::tempdir().unwrap();
        let run = run(dir.path(), 9);
        let records: Vec<VoteRecord> = (1..=8)
            .map(|i| vote("alice", &i.to_string(), "x", "y"))
            .collect();
        let done = queue(&run, &records, "alice");
        assert_eq!((done.total, done.waiting), (8, 1));
        let text = done.nothing_left().unwrap();
        assert!(
            text.contains("all 8 pairs of run r1 have your vote"),
            "{text}"
        );
        assert!(text.contains("duel stats --run r1"), "{text}");
        assert!(text.contains("1 pair waits for answers: `duel batch --resume r1`"));
        assert_eq!(queue(&run, &records[1..], "alice").nothing_left(), None);
    }
}
