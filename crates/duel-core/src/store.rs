//! The seam between duel and where it keeps things (SPEC §12): one trait for what the
//! commands read and write — votes, runs, their answers and checks —
//! with the data dir's files as the default ([`Files`]). The PostgreSQL store a team
//! shares is the other implementation (the `duel-store` crate).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::eval::check::record::CheckRecord;
use crate::eval::run::{AnswerRecord, Run, RunInfo};
use crate::votes::VoteRecord;
use crate::votes::log::{self, Merged};

/// Why a store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached (a server down, a network away): what was to be
    /// written is kept locally instead, and `duel store push` sends it later.
    #[error("the store is unreachable: {0}")]
    Unreachable(String),
    /// The store answered, and said no (its schema, a permission, a constraint).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// What duel reads and writes, wherever it is kept. Every write returns once what it
/// wrote is durable: synced to disk, or committed.
pub trait Store: Send + Sync + fmt::Debug {
    /// Where it is, as the user may see it: a folder, or a URL without secrets.
    fn describe(&self) -> String;

    /// It is the data dir's own files (nowhere else to fall back to).
    fn is_local(&self) -> bool {
        false
    }

    /// Adds vote records; a record whose id is already there is not added again.
    fn append_votes(&self, records: &[VoteRecord]) -> Result<(), StoreError>;
    /// Every vote record: the demo's own with `demo`, else the real ones.
    fn votes(&self, demo: bool) -> Result<Merged, StoreError>;
    /// The (real) votes on the pairs of run `run`, in the order they were cast.
    fn votes_on_run(&self, run: &str) -> Result<Vec<VoteRecord>, StoreError> {
        let mut votes = self.votes(false)?.records;
        votes.retain(|v| v.run.as_deref() == Some(run));
        Ok(votes)
    }

    /// Keeps a run: what it is and its copy of the suite (again: no change).
    fn save_run(&self, info: &RunInfo, suite: &[u8]) -> Result<(), StoreError>;
    /// Every run, oldest first.
    fn runs(&self) -> Result<Vec<RunInfo>, StoreError>;
    /// A run and its copy of the suite.
    fn run(&self, id: &str) -> Result<Option<(RunInfo, Vec<u8>)>, StoreError>;
    /// Adds finished answers to a run (an answer already there is not added again).
    fn append_answers(&self, run: &str, answers: &[AnswerRecord]) -> Result<(), StoreError>;
    /// A run's answers, in the order they were added.
    fn answers(&self, run: &str) -> Result<Vec<AnswerRecord>, StoreError>;
    /// Adds graded checks to a run (one already there is not added again).
    fn append_checks(&self, run: &str, checks: &[CheckRecord]) -> Result<(), StoreError>;
    /// A run's checks, in the order they were added.
    fn checks(&self, run: &str) -> Result<Vec<CheckRecord>, StoreError>;

    /// Its leases, where reviewers share it; `None` for one person's files.
    fn leases(&self) -> Option<&dyn Leases> {
        None
    }
}

/// A run's pairs shared out among the reviewers of a team's store: each reviewer holds
/// one pair no one else does, until a vote, a skip, a quit or the lease's end.
pub trait Leases: Send + Sync {
    /// Offers a run's pairs (named by `PairKey::within_run`) for review, in order.
    fn offer(&self, run: &str, pairs: &[String]) -> Result<(), StoreError>;
    /// The next pair for `judge` (its own held one first), leaving out `passed`
    /// (skipped this session); `None`: nothing is free for this judge now.
    fn lease(
        &self,
        run: &str,
        judge: &str,
        passed: &[String],
    ) -> Result<Option<String>, StoreError>;
    /// Gives a pair back at once.
    fn release(&self, run: &str, pair: &str, judge: &str) -> Result<(), StoreError>;
    /// Who else reviews the run now, and what the team still owes it.
    fn team(&self, run: &str, judge: &str) -> Result<TeamProgress, StoreError>;
}

/// How a team stands on a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TeamProgress {
    /// The other reviewers holding a pair right now, by name.
    pub others: Vec<String>,
    /// The votes the run's pairs still need from the team (each pair `per_item`).
    pub left: i64,
    /// The pairs offered for review.
    pub pairs: i64,
}

/// The default store: files in the data dir, as SPEC §2 lays them out. (Conversations
/// are always the data dir's: resuming reads them there; `duel store push` copies them
/// to a team's store.)
#[derive(Clone, Debug)]
pub struct Files {
    data_dir: PathBuf,
}

impl Files {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
        }
    }

    fn open_run(&self, id: &str) -> Result<Run, StoreError> {
        Ok(Run::open(&self.data_dir, id)?)
    }
}

impl Store for Files {
    fn describe(&self) -> String {
        self.data_dir.display().to_string()
    }

    fn is_local(&self) -> bool {
        true
    }

    fn append_votes(&self, records: &[VoteRecord]) -> Result<(), StoreError> {
        // The demo's votes have a log of their own.
        let (demo, real): (Vec<VoteRecord>, Vec<VoteRecord>) =
            records.iter().cloned().partition(VoteRecord::is_demo);
        for (records, demo) in [(real, false), (demo, true)] {
            if !records.is_empty() {
                log::append_all(&self.data_dir.join(log::file_name(demo)), &records)?;
            }
        }
        Ok(())
    }

    fn votes(&self, demo: bool) -> Result<Merged, StoreError> {
        let path = self.data_dir.join(log::file_name(demo));
        log::merge(&[path], false).map_err(|e| match e {
            log::MergeError::Read { source, .. } => StoreError::Io(source),
            other => StoreError::Io(io::Error::other(other.to_string())),
        })
    }

    fn save_run(&self, info: &RunInfo, suite: &[u8]) -> Result<(), StoreError> {
        if Run::open(&self.data_dir, &info.id).is_err() {
            Run::create(&self.data_dir, info.clone())?.keep_suite(suite)?;
        }
        Ok(())
    }

    fn runs(&self) -> Result<Vec<RunInfo>, StoreError> {
        Ok(Run::list(&self.data_dir)?
            .into_iter()
            .map(|run| run.info)
            .collect())
    }

    fn run(&self, id: &str) -> Result<Option<(RunInfo, Vec<u8>)>, StoreError> {
        match Run::open(&self.data_dir, id) {
            Ok(run) => {
                let suite = run.suite_copy()?;
                Ok(Some((run.info, suite)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn append_answers(&self, run: &str, answers: &[AnswerRecord]) -> Result<(), StoreError> {
        Ok(self.open_run(run)?.append_all(answers)?)
    }

    fn answers(&self, run: &str) -> Result<Vec<AnswerRecord>, StoreError> {
        Ok(self.open_run(run)?.answers()?.0)
    }

    fn append_checks(&self, run: &str, checks: &[CheckRecord]) -> Result<(), StoreError> {
        Ok(self.open_run(run)?.append_checks(checks)?)
    }

    fn checks(&self, run: &str) -> Result<Vec<CheckRecord>, StoreError> {
        Ok(self.open_run(run)?.checks()?.0)
    }
}

/// Where votes went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kept {
    /// Into the store (the data dir's log, when that is the store).
    Stored,
    /// The store could not take them: into the data dir's log instead, for `duel
    /// store push` to send later (by id, so never counted twice). Says why.
    Local(String),
}

/// Writes votes to `store`; when the store cannot take them (unreachable, or it said
/// no: a schema not made yet, a permission), to the data dir's log instead. Returns
/// once they are durable in one of the two: a vote is never only in memory because of
/// the store.
pub fn keep_votes(
    store: &dyn Store,
    data_dir: &Path,
    records: &[VoteRecord],
) -> Result<Kept, String> {
    match store.append_votes(records) {
        Ok(()) => Ok(Kept::Stored),
        Err(e) if store.is_local() => Err(e.to_string()),
        Err(why) => Files::new(data_dir)
            .append_votes(records)
            .map_err(|e| format!("the store: {why}; and the local log: {e}"))
            .map(|()| Kept::Local(why.to_string())),
    }
}
