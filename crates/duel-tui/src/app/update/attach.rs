//! Files for the next prompt: the path line of Ctrl+O (its folder listed by the
//! world, `Msg::Listed`), the file read off the loop (`Msg::Attached`), the chips,
//! and taking the last one back.

use crossterm::event::KeyEvent;

use crate::app::keymap::Action;
use crate::app::msg::{Effect, Entry};
use crate::app::picker::{Picker, PickerItem, PickerKind};
use crate::app::state::{State, StatusKind};
use duel_core::attachment::{Attachment, size};
use duel_core::text::sanitize;

/// The folder part of a typed path, up to and with its last `/`; `""` for the
/// current folder.
pub(crate) fn dir_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..=i])
}

/// Opens the path line on the files attached before; the current folder is listed.
pub(super) fn open(state: &mut State) -> Vec<Effect> {
    let items = recent(state);
    state.picker = Some(Picker::new(PickerKind::File, items, ""));
    vec![Effect::ListDir(String::new())]
}

/// The paths attached in this session, newest first.
fn recent(state: &State) -> Vec<PickerItem> {
    state
        .recent_paths
        .iter()
        .rev()
        .map(|path| PickerItem {
            name: path.clone(),
            detail: "attached before".into(),
            warning: None,
        })
        .collect()
}

/// Keys on the path line: type a path, Tab completes it to the entry selected, Enter
/// attaches the file (or opens the folder) selected, or the path as typed.
pub(super) fn files_key(state: &mut State, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    let Some(picker) = state.picker.as_mut() else {
        return Vec::new();
    };
    let before = dir_of(&picker.query).to_owned();
    match action {
        Some(Action::PickerCancel) => {
            state.picker = None;
            return Vec::new();
        }
        Some(Action::FilesComplete) => {
            if let Some(item) = picker.current() {
                let path = item.name.clone();
                picker.set_query(path);
            }
        }
        Some(Action::FilesAttach) => match picker.current().map(|i| i.name.clone()) {
            Some(folder) if folder.ends_with('/') => picker.set_query(folder),
            chosen => {
                let path = chosen.unwrap_or_else(|| picker.query.clone());
                if path.trim().is_empty() {
                    return Vec::new();
                }
                state.picker = None;
                state.set_status(StatusKind::Info, format!("reading {}…", sanitize(&path)));
                return vec![Effect::Attach(path)];
            }
        },
        other => picker.edit(other, &key),
    }
    let dir = dir_of(&picker.query).to_owned();
    if dir == before {
        return Vec::new();
    }
    // Another folder: its entries replace the last one's when they come.
    picker.set_items(Vec::new());
    vec![Effect::ListDir(dir)]
}

/// A folder's entries for the path line, if it still shows that folder; the files
/// attached before come first in the current folder.
pub(super) fn on_listed(state: &mut State, dir: &str, entries: Vec<Entry>) {
    let recent = if dir.is_empty() {
        recent(state)
    } else {
        Vec::new()
    };
    let Some(picker) = state
        .picker
        .as_mut()
        .filter(|p| p.kind == PickerKind::File && dir_of(&p.query) == dir)
    else {
        return;
    };
    let listed = entries.into_iter().map(|entry| PickerItem {
        name: entry.path,
        detail: entry.bytes.map_or_else(|| "folder".to_owned(), size),
        warning: None,
    });
    picker.set_items(recent.into_iter().chain(listed).collect());
}

/// A file read and kept: a chip above the prompt; or why it could not be.
pub(super) fn on_attached(state: &mut State, path: String, result: Result<Attachment, String>) {
    match result {
        Ok(attachment) => {
            state.set_status(
                StatusKind::Info,
                format!(
                    "attached {} ({}): it goes to both models with the next prompt · Alt+Backspace on an empty prompt takes it back",
                    sanitize(&attachment.name),
                    size(attachment.bytes)
                ),
            );
            if !state.attached.contains(&attachment) {
                state.attached.push(attachment);
            }
            state.recent_paths.retain(|p| *p != path);
            state.recent_paths.push(path);
        }
        Err(why) => state.set_status(StatusKind::Error, format!("not attached: {why}")),
    }
}

/// Alt+Backspace: on an empty prompt, the last file attached is taken back; else the
/// key edits the prompt as usual.
pub(super) fn detach(state: &mut State, key: KeyEvent) {
    if !state.input_text().is_empty() {
        state.input.input(key);
        return;
    }
    match state.attached.pop() {
        Some(attachment) => state.set_status(
            StatusKind::Info,
            format!("{} taken back", sanitize(&attachment.name)),
        ),
        None => state.set_status(StatusKind::Info, "no file attached (Ctrl+O attaches one)"),
    }
}

/// The chips of the files attached to the next prompt: `📎 chart.png 412 KB`.
pub fn chips(attached: &[Attachment]) -> Vec<String> {
    attached
        .iter()
        .map(|a| format!("📎 {} {}", sanitize(&a.name), size(a.bytes)))
        .collect()
}
