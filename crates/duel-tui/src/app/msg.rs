//! What can happen to the app (`Msg`) and what the app asks the world to do (`Effect`).

use crossterm::event::{KeyEvent, MouseEvent};
use uuid::Uuid;

use duel_core::attachment::Attachment;
use duel_core::config::ModelSpec;
use duel_core::conversation::ConversationFile;
use duel_core::domain::Side;
use duel_core::domain::StreamEvent;
use duel_core::request::ChatRequest;
use duel_core::votes::VoteRecord;

#[derive(Clone, Debug)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// Something a side's stream reported; `generation` tells which stream.
    /// `pieces` is how many of the stream's own events it stands for: text that
    /// arrived in a burst comes joined, and the token estimate counts the pieces.
    Stream {
        side: Side,
        generation: u64,
        event: StreamEvent,
        pieces: u64,
    },
    /// Vote records (by id) reached the disk, or failed to.
    VotesSaved {
        ids: Vec<Uuid>,
        /// Where they went: the store, or the local log when the store was unreachable.
        result: Result<duel_core::store::Kept, String>,
    },
    ConversationSaved(Result<(), String>),
    /// The store leased this reviewer the pair named (or none is free now), and how
    /// the team stands; or could not be asked.
    Leased(Result<(Option<String>, duel_core::store::TeamProgress), String>),
    /// Time passed (live timers while streaming).
    Tick,
    /// SIGTERM or similar: leave cleanly.
    Terminate,
    /// Something the user should know that went wrong outside `update` (e.g. a theme
    /// that would not load).
    Problem(String),
    /// A file of Ctrl+O was read and kept in the data dir, or could not be (why, with
    /// its path); `path` as the user typed it.
    Attached {
        path: String,
        result: Result<Attachment, String>,
    },
    /// The entries of the folder `dir` (as typed, `""` for the current one), for the
    /// path line: each as it would be typed, folders ending in `/`.
    Listed {
        dir: String,
        entries: Vec<Entry>,
    },
}

/// A folder's entry, for the path line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// As typed: the folder typed, then the name; a folder ends in `/`.
    pub path: String,
    /// Its size; `None` for a folder.
    pub bytes: Option<u64>,
}

#[derive(Debug)]
pub enum Effect {
    /// Start streaming `request` to `model`; its events come back tagged with `generation`.
    Start {
        side: Side,
        generation: u64,
        model: Box<ModelSpec>,
        request: Box<ChatRequest>,
    },
    /// Drop the stream feeding `side`.
    Stop {
        side: Side,
    },
    /// Append to the vote log in one write and report back with `Msg::VotesSaved`.
    SaveVotes(Vec<VoteRecord>),
    SaveConversation(Box<ConversationFile>),
    /// Put this text on the clipboard (OSC 52, and the native one where there is one).
    Copy(String),
    /// Draw with this theme from now on (the theme picker previews each one it passes).
    SetTheme(String),
    /// Read the file at `path` (as typed: `~` is the home folder), keep it in the
    /// data dir and report back with `Msg::Attached`; off the loop, so a large file
    /// never holds the screen up.
    Attach(String),
    /// List the folder `dir` (as typed) and report back with `Msg::Listed`.
    ListDir(String),
    /// A team review: ask the store for the next pair for `judge`, leaving out
    /// `passed`; report back with `Msg::Leased`.
    Lease {
        run: String,
        judge: String,
        passed: Vec<String>,
    },
    /// A team review: give `pair` back for others to take.
    Release {
        run: String,
        pair: String,
        judge: String,
    },
}
