//! A batch run on disk (SPEC §8): `<data dir>/runs/<run id>/run.json` says what the
//! run is (name, suite and its sha256, models, settings, created), and
//! `answers.jsonl` holds one line per item and model, appended and synced to disk as
//! each answer finishes, so a run stopped at any moment resumes by asking only for
//! what is missing.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::suite::Item;
use crate::domain::Finish;
use crate::votes::SideRecord;
use crate::votes::log::{self, Skipped};

/// The folder of every run, in the data dir.
pub const RUNS_DIR: &str = "runs";
const INFO_FILE: &str = "run.json";
const ANSWERS_FILE: &str = "answers.jsonl";
const CHECKS_FILE: &str = "checks.jsonl";
/// The run's own copy of its suite, `suite.<ext>`: review, judge and resume read the
/// items from it, whatever became of the file the run was started from.
const SUITE_STEM: &str = "suite";

/// What a run is: `run.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: String,
    pub name: Option<String>,
    /// The suite as given on the command line.
    pub suite: PathBuf,
    /// The suite's content when the run began, so a resume can tell it changed.
    pub suite_sha256: String,
    pub models: Vec<String>,
    /// The settings the run was started with (concurrency, …), as given.
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// RFC 3339, UTC.
    pub created: String,
}

/// One finished answer: `answers.jsonl`, a line each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnswerRecord {
    pub item: String,
    /// The files the item's prompt attaches, by reference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
    #[serde(flatten)]
    pub side: SideRecord,
}

/// A run's folder.
#[derive(Clone, Debug)]
pub struct Run {
    dir: PathBuf,
    pub info: RunInfo,
}

impl Run {
    /// A run of the offline demo models: its votes go to the demo's own log.
    pub fn is_demo(&self) -> bool {
        self.info
            .models
            .iter()
            .all(|m| crate::config::DEMO_MODELS.contains(&m.as_str()))
    }

    /// Writes a new run's `run.json` (whole or not at all) in its own folder.
    pub fn create(data_dir: &Path, info: RunInfo) -> io::Result<Run> {
        let dir = data_dir.join(RUNS_DIR).join(&info.id);
        std::fs::create_dir_all(&dir)?;
        let json = serde_json::to_vec_pretty(&info).map_err(io::Error::other)?;
        let temp = dir.join(format!(".{INFO_FILE}.tmp"));
        std::fs::write(&temp, json)?;
        std::fs::File::open(&temp)?.sync_all()?;
        std::fs::rename(&temp, dir.join(INFO_FILE))?;
        Ok(Run { dir, info })
    }

    /// The run `id` of the data dir.
    pub fn open(data_dir: &Path, id: &str) -> io::Result<Run> {
        let dir = data_dir.join(RUNS_DIR).join(id);
        let bytes = std::fs::read(dir.join(INFO_FILE))?;
        let info = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
        Ok(Run { dir, info })
    }

    /// Every run of the data dir, oldest first; folders that are not runs are passed over.
    pub fn list(data_dir: &Path) -> io::Result<Vec<Run>> {
        let entries = match std::fs::read_dir(data_dir.join(RUNS_DIR)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut runs: Vec<Run> = entries
            .flatten()
            .filter_map(|entry| {
                let id = entry.file_name().into_string().ok()?;
                Run::open(data_dir, &id).ok()
            })
            .collect();
        runs.sort_by(|a, b| a.info.created.cmp(&b.info.created));
        Ok(runs)
    }

    /// The run `wanted` names: `last` (the newest), a whole id, a run's `--name`, or an
    /// unambiguous id prefix. The error says what to type instead.
    pub fn find(data_dir: &Path, wanted: &str) -> Result<Run, String> {
        let mut runs = Run::list(data_dir)
            .map_err(|e| format!("reading the runs in {}: {e}", data_dir.display()))?;
        if runs.is_empty() {
            return Err(format!(
                "no runs in {} yet; start one with `duel batch SUITE`",
                data_dir.join(RUNS_DIR).display()
            ));
        }
        let infos: Vec<&RunInfo> = runs.iter().map(|r| &r.info).collect();
        let i = pick(&infos, wanted)?;
        Ok(runs.swap_remove(i))
    }

    /// Keeps a copy of the suite the run was started from (written whole or not at all).
    pub fn keep_suite(&self, bytes: &[u8]) -> io::Result<()> {
        let name = self.suite_copy_name();
        let temp = self.dir.join(format!(".{name}.tmp"));
        std::fs::write(&temp, bytes)?;
        std::fs::File::open(&temp)?.sync_all()?;
        std::fs::rename(&temp, self.dir.join(name))
    }

    /// The items of the run, from its copy of the suite; the files the suite names
    /// (checks' files, `attach` lists) are where the suite was.
    pub fn items(&self) -> Result<Vec<Item>, super::suite::SuiteError> {
        let copy = self.dir.join(self.suite_copy_name());
        match self.info.suite.parent() {
            Some(dir) if dir.is_dir() => super::suite::load_in(&copy, dir),
            _ => super::suite::load(&copy),
        }
    }

    /// The bytes of the run's copy of its suite.
    pub fn suite_copy(&self) -> io::Result<Vec<u8>> {
        std::fs::read(self.dir.join(self.suite_copy_name()))
    }

    fn suite_copy_name(&self) -> String {
        match self.info.suite.extension().and_then(|e| e.to_str()) {
            Some(ext) => format!("{SUITE_STEM}.{}", ext.to_ascii_lowercase()),
            None => SUITE_STEM.to_owned(),
        }
    }

    /// The run's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one finished answer; returns once it is on disk.
    pub fn append(&self, answer: &AnswerRecord) -> io::Result<()> {
        log::append_jsonl(&self.dir.join(ANSWERS_FILE), std::slice::from_ref(answer))
    }

    /// Appends finished answers in one write; returns once they are on disk.
    pub fn append_all(&self, answers: &[AnswerRecord]) -> io::Result<()> {
        log::append_jsonl(&self.dir.join(ANSWERS_FILE), answers)
    }

    /// Every answer recorded so far, and the lines that could not be read (a line
    /// torn by a kill is skipped, and its answer asked for again).
    pub fn answers(&self) -> io::Result<(Vec<AnswerRecord>, Vec<Skipped>)> {
        log::read_jsonl(&self.dir.join(ANSWERS_FILE))
    }

    /// Appends graded checks; returns once they are on disk.
    pub fn append_checks(&self, records: &[super::check::record::CheckRecord]) -> io::Result<()> {
        log::append_jsonl(&self.dir.join(CHECKS_FILE), records)
    }

    /// Every graded check so far (the latest line for a key wins), and the lines that
    /// could not be read (one torn by a kill is graded again).
    pub fn checks(&self) -> io::Result<(Vec<super::check::record::CheckRecord>, Vec<Skipped>)> {
        log::read_jsonl(&self.dir.join(CHECKS_FILE))
    }

    /// The (item, model) answers `items` still need: neither recorded nor recorded as
    /// finished. An answer that failed is asked for again; one cut at its length limit
    /// or stopped by a filter is an answer and kept.
    pub fn missing<'i>(&self, items: &'i [Item]) -> io::Result<Vec<(&'i Item, String)>> {
        let (answers, _) = self.answers()?;
        let done: HashSet<(&str, &str)> = answers
            .iter()
            .filter(|a| !matches!(a.side.finish, Finish::Error | Finish::Cancelled))
            .map(|a| (a.item.as_str(), a.side.model.as_str()))
            .collect();
        Ok(items
            .iter()
            .flat_map(|item| self.info.models.iter().map(move |model| (item, model)))
            .filter(|(item, model)| !done.contains(&(item.id.as_str(), model.as_str())))
            .map(|(item, model)| (item, model.clone()))
            .collect())
    }
}

/// Which of `runs` (oldest first) `wanted` names: `last` (the newest), a whole id, a
/// run's `--name` (the newest of that name), or an unambiguous id prefix. The error
/// says what to type instead.
pub fn pick(runs: &[&RunInfo], wanted: &str) -> Result<usize, String> {
    if wanted == "last" {
        return runs
            .len()
            .checked_sub(1)
            .ok_or_else(|| "there are no runs yet".to_owned());
    }
    if let Some(i) = runs.iter().position(|r| r.id == wanted) {
        return Ok(i);
    }
    let named: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].name.as_deref() == Some(wanted))
        .collect();
    let prefixed: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].id.starts_with(wanted))
        .collect();
    match (named.as_slice(), prefixed.as_slice()) {
        // The newest of that name: a name given twice means the latest run.
        (&[.., last], _) | (&[], &[last]) => Ok(last),
        (&[], &[]) => Err(format!("no run is named {wanted:?}; see `duel runs`")),
        (&[], many) => Err(format!(
            "{} runs start with {wanted:?}; give more of the id (see `duel runs`)",
            many.len()
        )),
    }
}

/// The hex sha256 of a suite's bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, created: &str) -> RunInfo {
        RunInfo {
            id: id.into(),
            name: Some("pilot".into()),
            suite: "suite.jsonl".into(),
            suite_sha256: sha256_hex(b"{\"prompt\":\"x\"}\n"),
            models: vec!["qwen-plus".into(), "ernie-4.5".into()],
            settings: serde_json::Map::new(),
            created: created.into(),
        }
    }

    fn item(id: &str) -> Item {
        Item::sample(id)
    }

    fn answer(item: &str, model: &str, finish: Finish) -> AnswerRecord {
        AnswerRecord {
            item: item.into(),
            attachments: Vec::new(),
            side: SideRecord {
                ttft_ms: Some(10),
                total_ms: Some(20),
                ..SideRecord::sample(model, "a", finish)
            },
        }
    }

    #[test]
    fn a_run_resumes_with_only_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let run = Run::create(dir.path(), info("r1", "2026-11-29T10:00:00.000Z")).unwrap();
        let items = [item("1"), item("2")];
        assert_eq!(run.missing(&items).unwrap().len(), 4);
        run.append(&answer("1", "qwen-plus", Finish::Stop)).unwrap();
        run.append(&answer("1", "ernie-4.5", Finish::Error))
            .unwrap();
        run.append(&answer("2", "ernie-4.5", Finish::Length))
            .unwrap();
        // A kill mid-write leaves half a line: skipped, never fatal.
        let path = dir.path().join(RUNS_DIR).join("r1").join(ANSWERS_FILE);
        let mut torn = std::fs::read(&path).unwrap();
        torn.extend_from_slice(b"{\"item\":\"2\",\"mod");
        std::fs::write(&path, torn).unwrap();

        let reopened = Run::open(dir.path(), "r1").unwrap();
        assert_eq!(reopened.info, run.info);
        let missing: Vec<(String, String)> = reopened
            .missing(&items)
            .unwrap()
            .into_iter()
            .map(|(item, model)| (item.id.clone(), model))
            .collect();
        assert_eq!(
            missing,
            [
                ("1".to_owned(), "ernie-4.5".to_owned()),
                ("2".to_owned(), "qwen-plus".to_owned())
            ],
            "a failed answer is asked again; a cut one is kept"
        );
        // The next answer after the torn line is whole.
        reopened
            .append(&answer("2", "qwen-plus", Finish::Stop))
            .unwrap();
        let (answers, skipped) = reopened.answers().unwrap();
        assert_eq!(answers.len(), 4);
        assert_eq!(skipped.len(), 1);
        assert_eq!(reopened.missing(&items).unwrap().len(), 1);
    }

    #[test]
    fn an_answer_line_is_the_spec_s_side_fields_with_item_and_model() {
        let line = serde_json::to_value(answer("7", "qwen-plus", Finish::Stop)).unwrap();
        assert_eq!(line["item"], "7");
        assert_eq!(line["model"], "qwen-plus");
        assert_eq!(line["finish"], "stop");
        assert_eq!(line["ttft_ms"], 10);
    }

    #[test]
    fn runs_are_listed_oldest_first_and_stray_folders_ignored() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Run::list(dir.path()).unwrap().is_empty());
        Run::create(dir.path(), info("b", "2026-11-29T11:00:00.000Z")).unwrap();
        Run::create(dir.path(), info("a", "2026-11-29T10:00:00.000Z")).unwrap();
        std::fs::create_dir_all(dir.path().join(RUNS_DIR).join("junk")).unwrap();
        let ids: Vec<String> = Run::list(dir.path())
            .unwrap()
            .into_iter()
            .map(|r| r.info.id)
            .collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn a_run_reads_its_items_from_its_own_copy_of_the_suite() {
        let dir = tempfile::tempdir().unwrap();
        let run = Run::create(dir.path(), info("r", "2026-11-29T10:00:00.000Z")).unwrap();
        run.keep_suite(b"{\"id\":\"q1\",\"prompt\":\"hello\"}\n")
            .unwrap();
        let items = Run::open(dir.path(), "r").unwrap().items().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!((items[0].id.as_str(), items[0].prompt()), ("q1", "hello"));
    }

    #[test]
    fn a_run_is_found_by_last_id_prefix_or_name() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            Run::find(dir.path(), "last")
                .unwrap_err()
                .contains("duel batch")
        );
        Run::create(
            dir.path(),
            info("qa-20261129-100000", "2026-11-29T10:00:00.000Z"),
        )
        .unwrap();
        Run::create(
            dir.path(),
            info("qa-20261129-110000", "2026-11-29T11:00:00.000Z"),
        )
        .unwrap();
        let id = |wanted: &str| Run::find(dir.path(), wanted).map(|r| r.info.id);
        assert_eq!(id("last").unwrap(), "qa-20261129-110000");
        assert_eq!(id("qa-20261129-10").unwrap(), "qa-20261129-100000");
        assert_eq!(
            id("pilot").unwrap(),
            "qa-20261129-110000",
            "the newest of a name"
        );
        assert!(id("qa-").unwrap_err().contains("2 runs"));
        assert!(id("nope").unwrap_err().contains("duel runs"));
    }

    #[test]
    fn the_suite_digest_is_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
