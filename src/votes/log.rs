//! `votes.jsonl`: appended one line per vote, with one write under an exclusive file
//! lock and synced to disk before the vote is confirmed; read back tolerantly.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use super::VoteRecord;

pub const FILE_NAME: &str = "votes.jsonl";

/// Appends `record` as one line. Returns only once the line is on disk.
pub fn append(path: &Path, record: &VoteRecord) -> io::Result<()> {
    let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
    line.push(b'\n');
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    // Two duel processes voting at once must never interleave their lines.
    file.lock()?;
    let result = file.write_all(&line).and_then(|()| file.sync_data());
    file.unlock()?;
    result
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
        match serde_json::from_slice::<VoteRecord>(&line) {
            Ok(record) => records.push(record),
            Err(e) => skipped.push(Skipped {
                line: i + 1,
                reason: e.to_string(),
            }),
        }
    }
    Ok((records, skipped))
}
