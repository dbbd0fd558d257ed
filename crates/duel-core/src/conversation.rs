//! Saved conversations: `<data dir>/conversations/<uuid>.json`, rewritten after each
//! turn by writing a temp file, syncing it and renaming it over the old one, so a
//! file is never half-written.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::Vote;
use crate::votes::SideRecord;

pub const DIR_NAME: &str = "conversations";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationFile {
    pub schema: u32,
    pub id: Uuid,
    /// RFC 3339, UTC.
    pub created: String,
    pub updated: String,
    pub blind: bool,
    pub turns: Vec<TurnRecord>,
}

/// One prompt and both answers. The sides carry no `history`: it is the turns before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TurnRecord {
    pub turn: u32,
    /// The pair of answers shown (1 = first; each regenerate adds one).
    #[serde(default = "crate::votes::record::first_attempt")]
    pub attempt: u32,
    pub time: String,
    pub prompt: String,
    /// The files sent with the prompt, by reference (their bytes are in the data
    /// dir's attachments, so a resumed conversation sends the same ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
    pub vote: Option<Vote>,
    pub a: SideRecord,
    pub b: SideRecord,
    /// The pairs of answers a regenerate replaced, oldest first, each with its vote
    /// (files from before regenerates were kept have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<AttemptRecord>,
}

/// An earlier pair of answers to a turn's prompt, and its vote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub attempt: u32,
    pub vote: Option<Vote>,
    pub a: SideRecord,
    pub b: SideRecord,
}

impl TurnRecord {
    /// The votes cast on this turn, one per voted attempt.
    pub fn votes(&self) -> usize {
        self.earlier.iter().filter(|a| a.vote.is_some()).count() + usize::from(self.vote.is_some())
    }
}

impl ConversationFile {
    /// A conversation with the offline demo models, which reopens only under `--demo`.
    pub fn is_demo(&self) -> bool {
        self.turns.iter().any(|t| t.a.is_demo() || t.b.is_demo())
    }

    /// The models that wrote the latest turn, A's then B's.
    pub fn models(&self) -> Option<[&str; 2]> {
        let last = self.turns.last()?;
        Some([&last.a.model, &last.b.model])
    }
}

pub fn path(data_dir: &Path, id: Uuid) -> PathBuf {
    data_dir.join(DIR_NAME).join(format!("{id}.json"))
}

/// Writes the conversation atomically: readers see the old file or the new one.
pub fn save(data_dir: &Path, conversation: &ConversationFile) -> io::Result<PathBuf> {
    let target = path(data_dir, conversation.id);
    let dir = data_dir.join(DIR_NAME);
    fs::create_dir_all(&dir)?;
    let json = serde_json::to_vec_pretty(conversation).map_err(io::Error::other)?;
    // A temp name of its own per save: two processes saving one conversation (resumed
    // twice) must not write into, or rename away, each other's temp file.
    let temp = dir.join(format!(".{}.{}.json.tmp", conversation.id, Uuid::new_v4()));
    let written = File::create(&temp).and_then(|mut file| {
        file.write_all(&json)?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| fs::rename(&temp, &target)) {
        // Unique names would otherwise pile up, one per failed save.
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    // The rename itself is durable only once the directory is synced.
    if let Ok(dir) = File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(target)
}

pub fn load(path: &Path) -> io::Result<ConversationFile> {
    let bytes = fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// A saved file that could not be read, and why.
pub(crate) type Unreadable = (PathBuf, String);

/// Every saved conversation that reads, newest first, and the files that did not.
pub fn list(data_dir: &Path) -> io::Result<(Vec<ConversationFile>, Vec<Unreadable>)> {
    let dir = data_dir.join(DIR_NAME);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    let mut broken = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let is_saved = path.extension().is_some_and(|x| x == "json")
            && !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !is_saved {
            continue;
        }
        match load(&path) {
            Ok(conversation) => found.push(conversation),
            Err(e) => broken.push((path, e.to_string())),
        }
    }
    // RFC 3339 UTC strings sort by time.
    found.sort_by(|a, b| b.updated.cmp(&a.updated));
    Ok((found, broken))
}

/// The conversation `--resume` names: `last` (the latest with the demo models when
/// `demo`, else the latest without), a whole id, or an unambiguous prefix.
pub fn find(data_dir: &Path, wanted: &str, demo: bool) -> Result<ConversationFile, String> {
    let (all, broken) = list(data_dir).map_err(|e| format!("reading saved conversations: {e}"))?;
    let none = |kind: &str| {
        format!(
            "no saved {kind}conversations in {}",
            data_dir.join(DIR_NAME).display()
        )
    };
    if wanted == "last" {
        let kind = if demo { "demo " } else { "" };
        return all
            .into_iter()
            .find(|c| c.is_demo() == demo)
            .ok_or_else(|| none(kind));
    }
    if all.is_empty() && broken.is_empty() {
        return Err(none(""));
    }
    let mut matches: Vec<ConversationFile> = all
        .into_iter()
        .filter(|c| c.id.to_string().starts_with(&wanted.to_lowercase()))
        .collect();
    // A file of that id that exists but cannot be read says why, not "no such id".
    let unreadable = broken.iter().find(|(path, _)| {
        path.file_stem()
            .is_some_and(|stem| stem.to_string_lossy().starts_with(&wanted.to_lowercase()))
    });
    match (matches.len(), unreadable) {
        (1, _) => Ok(matches.remove(0)),
        (0, Some((path, error))) => Err(format!("{} cannot be read: {error}", path.display())),
        (0, None) => Err(format!(
            "no saved conversation has an id starting with {wanted:?}; see `duel history`"
        )),
        (n, _) => Err(format!(
            "{n} saved conversations start with {wanted:?}; give more of the id"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_replaces_the_file_whole_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut conversation = ConversationFile {
            schema: 1,
            id: Uuid::new_v4(),
            created: "2026-11-23T18:00:00.000Z".into(),
            updated: "2026-11-23T18:00:00.000Z".into(),
            blind: false,
            turns: Vec::new(),
        };
        let path = save(dir.path(), &conversation).unwrap();
        conversation.updated = "2026-11-23T18:05:00.000Z".into();
        save(dir.path(), &conversation).unwrap();
        assert_eq!(load(&path).unwrap(), conversation);
        let names: Vec<_> = fs::read_dir(dir.path().join(DIR_NAME))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            [std::ffi::OsString::from(format!(
                "{}.json",
                conversation.id
            ))]
        );
    }
}
