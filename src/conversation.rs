//! Saved conversations: `<data dir>/conversations/<uuid>.json`, rewritten after each
//! turn by writing a temp file, syncing it and renaming it over the old one, so a
//! file is never half-written.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::votes::{SideRecord, Vote};

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
    pub time: String,
    pub prompt: String,
    pub vote: Option<Vote>,
    pub a: SideRecord,
    pub b: SideRecord,
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
    let temp = dir.join(format!(".{}.json.tmp", conversation.id));
    let mut file = File::create(&temp)?;
    file.write_all(&json)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp, &target)?;
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
