//! `votes.jsonl`: appended one line per vote, with one write under an exclusive file
//! lock and synced to disk before the vote is confirmed; read back tolerantly.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::VoteRecord;

pub const FILE_NAME: &str = "votes.jsonl";

/// Where votes on the offline demo models go, so the real leaderboard never sees them.
pub const DEMO_FILE_NAME: &str = "demo-votes.jsonl";

/// The log a command reads and writes: the demo's own under `--demo`.
pub fn file_name(demo: bool) -> &'static str {
    if demo { DEMO_FILE_NAME } else { FILE_NAME }
}

/// Appends `record` as one line. Returns only once the line is on disk.
pub fn append(path: &Path, record: &VoteRecord) -> io::Result<()> {
    append_all(path, std::slice::from_ref(record))
}

/// Appends `records`, one line each, with a single write. Returns only once they are
/// on disk.
pub fn append_all(path: &Path, records: &[VoteRecord]) -> io::Result<()> {
    append_jsonl(path, records)
}

/// Appends `records` to a JSON-lines file as one write under an exclusive lock, synced
/// to disk before it returns; a line torn by an earlier crash is ended first, and a
/// write that fails part way is taken back. The vote log and a run's answers use it.
pub fn append_jsonl<T: Serialize>(path: &Path, records: &[T]) -> io::Result<()> {
    let mut lines = Vec::new();
    for record in records {
        serde_json::to_writer(&mut lines, record).map_err(io::Error::other)?;
        lines.push(b'\n');
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    // Two duel processes voting at once must never interleave their lines.
    file.lock()?;
    let length = file.metadata()?.len();
    let result = ends_torn(&mut file)
        .and_then(|torn| {
            // A crash mid-write left half a line: end it, or this vote would join it
            // and be unreadable too.
            if torn {
                lines.insert(0, b'\n');
            }
            file.write_all(&lines)
        })
        .and_then(|()| file.sync_data());
    if result.is_err() {
        // A short write (a full disk) must not leave a fragment with later votes
        // after it: back to the length before, under the same lock.
        let _ = file.set_len(length).and_then(|()| file.sync_data());
    }
    file.unlock()?;
    result
}

/// Whether the file's last byte is something other than a newline.
fn ends_torn(file: &mut File) -> io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// A line that could not be read as a vote record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub line: usize,
    pub reason: String,
}

/// Every readable record of the log, and the lines that were skipped (torn or
/// corrupt lines never stop a reader). A missing file is an empty log.
pub fn read(path: &Path) -> io::Result<(Vec<VoteRecord>, Vec<Skipped>)> {
    read_jsonl(path)
}

/// The records of one or more logs, merged (SPEC §6: logs pooled from a team are
/// de-duplicated by record id).
#[derive(Debug, Default)]
pub struct Merged {
    /// Each record id once, the first copy met (logs in the order given).
    pub records: Vec<VoteRecord>,
    /// The unreadable lines, with the log each is in.
    pub skipped: Vec<(PathBuf, Skipped)>,
    /// Copies of a record already met in an earlier log (or earlier in the same one).
    pub duplicates: usize,
}

/// Why logs could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A log named by the user is not there: most likely a typo.
    #[error("{}: no such vote log", .0.display())]
    Missing(PathBuf),
    #[error("reading {}", path.display())]
    Read { path: PathBuf, source: io::Error },
}

/// Reads and merges `paths`. A missing log is an empty one, unless `named` (the user
/// named it, so it is most likely a typo).
pub fn merge(paths: &[PathBuf], named: bool) -> Result<Merged, MergeError> {
    let mut merged = Merged::default();
    let mut seen = HashSet::new();
    for path in paths {
        if named && !path.exists() {
            return Err(MergeError::Missing(path.clone()));
        }
        let (records, skipped) = read(path).map_err(|source| MergeError::Read {
            path: path.clone(),
            source,
        })?;
        merged
            .skipped
            .extend(skipped.into_iter().map(|s| (path.clone(), s)));
        for record in records {
            if seen.insert(record.id) {
                merged.records.push(record);
            } else {
                merged.duplicates += 1;
            }
        }
    }
    Ok(merged)
}

impl Merged {
    /// Leaves out the votes on the offline demo models, which older versions wrote to
    /// the default log (now they go to [`DEMO_FILE_NAME`]); returns how many.
    pub fn without_demo(&mut self) -> usize {
        let before = self.records.len();
        self.records.retain(|r| !r.is_demo());
        before - self.records.len()
    }
}

/// Every line of a JSON-lines file that reads as a `T`, and the lines skipped.
pub(crate) fn read_jsonl<T: DeserializeOwned>(path: &Path) -> io::Result<(Vec<T>, Vec<Skipped>)> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(e),
    };
    let mut records = Vec::new();
    let mut skipped = Vec::new();
    for (i, line) in BufReader::new(file).split(b'\n').enumerate() {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<T>(&line) {
            Ok(record) => records.push(record),
            Err(e) => skipped.push(Skipped {
                line: i + 1,
                reason: e.to_string(),
            }),
        }
    }
    Ok((records, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Finish;
    use crate::domain::Vote;
    use crate::votes::SideRecord;

    fn side(model: &str) -> SideRecord {
        SideRecord {
            model: model.into(),
            provider: "dashscope".into(),
            model_id: model.into(),
            history: Some(Vec::new()),
            answer: "多行\n答案 with \"quotes\"".into(),
            reasoning: None,
            finish: Finish::Stop,
            error: None,
            ttft_ms: Some(312),
            total_ms: Some(4200),
            input_tokens: Some(20),
            output_tokens: Some(512),
            output_tokens_estimate: None,
            cached_input_tokens: None,
            reasoning_tokens: None,
        }
    }

    fn record(turn: u32) -> VoteRecord {
        VoteRecord {
            schema: 1,
            id: uuid::Uuid::new_v4(),
            time: "2026-11-23T18:53:46.123Z".into(),
            conversation: uuid::Uuid::new_v4(),
            turn,
            attempt: 1,
            vote: Vote::BothBad,
            blind: false,
            judge: "alice".into(),
            prompt: "p".into(),
            attachments: Vec::new(),
            a: side("qwen-plus"),
            b: side("ernie-4.5"),
            run: None,
            item: None,
            category: None,
            reason: None,
            verdicts: None,
        }
    }

    #[test]
    fn a_record_round_trips_with_the_spec_field_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(FILE_NAME);
        let original = record(1);
        append(&path, &original).unwrap();
        let line = fs::read_to_string(&path).unwrap();
        assert_eq!(line.lines().count(), 1);
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        for key in [
            "schema",
            "id",
            "time",
            "conversation",
            "turn",
            "vote",
            "blind",
            "judge",
            "prompt",
            "a",
            "b",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["vote"], "both_bad");
        for key in [
            "model",
            "provider",
            "model_id",
            "history",
            "answer",
            "reasoning",
            "finish",
            "error",
            "ttft_ms",
            "total_ms",
            "input_tokens",
            "output_tokens",
        ] {
            assert!(json["a"].get(key).is_some(), "missing a.{key}");
        }
        let (records, skipped) = read(&path).unwrap();
        assert_eq!(records, vec![original]);
        assert!(skipped.is_empty());
    }

    #[test]
    fn a_torn_or_corrupt_line_is_skipped_with_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        append(&path, &record(1)).unwrap();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"not json\n").unwrap();
        drop(file);
        append(&path, &record(3)).unwrap();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"schema":1,"id":"#).unwrap();
        drop(file);
        let (records, skipped) = read(&path).unwrap();
        assert_eq!(records.iter().map(|r| r.turn).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(skipped.iter().map(|s| s.line).collect::<Vec<_>>(), [2, 4]);
    }

    #[test]
    fn a_missing_log_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let (records, skipped) = read(&dir.path().join(FILE_NAME)).unwrap();
        assert!(records.is_empty() && skipped.is_empty());
    }

    #[test]
    fn concurrent_writers_never_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for turn in 0..50 {
                        append(&path, &record(turn)).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let (records, skipped) = read(&path).unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(records.len(), 200);
    }
}
