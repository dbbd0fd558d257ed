//! The model and theme pickers.

use std::time::Instant;

use crossterm::event::KeyEvent;

use super::browse::assign;
use crate::app::keymap::Action;
use crate::app::msg::Effect;
use crate::app::picker::{Picker, PickerItem, PickerKind};
use crate::app::state::{State, StatusKind};
use duel_core::config::KeyStatus;

pub(super) fn open_model_picker(state: &mut State) {
    let items = state
        .models
        .iter()
        .map(|m| PickerItem {
            name: m.name.clone(),
            detail: format!("{} · {}", m.provider, m.model_id),
            warning: match m.endpoint.key_status() {
                KeyStatus::Missing(vars) => Some(format!("set {}", vars.join(" and "))),
                _ => None,
            },
        })
        .collect();
    // In blind mode the picker must not tell which model a pane holds.
    let current = if state.names_hidden() {
        String::new()
    } else {
        state.side(state.focus).model.name.clone()
    };
    state.picker = Some(Picker::new(PickerKind::Model, items, &current));
}

pub(super) fn open_theme_picker(state: &mut State) {
    let items = state
        .themes
        .iter()
        .map(|name| PickerItem {
            name: name.clone(),
            detail: String::new(),
            warning: None,
        })
        .collect();
    state.picker = Some(Picker::new(PickerKind::Theme, items, &state.theme));
}

/// Keys while a picker is open: type to filter, arrows to move, Enter picks, Esc cancels.
pub(super) fn picker_key(
    state: &mut State,
    key: KeyEvent,
    action: Option<Action>,
    now: Instant,
) -> Vec<Effect> {
    let Some(picker) = state.picker.as_mut() else {
        return Vec::new();
    };
    match action {
        Some(Action::PickerCancel) => {
            let picker = state.picker.take();
            if let Some(p) = picker.filter(|p| p.kind == PickerKind::Theme) {
                state.theme = p.original.clone();
                return vec![Effect::SetTheme(p.original)];
            }
            return Vec::new();
        }
        Some(Action::PickerPick) => {
            let chosen = picker.current().map(|i| i.name.clone());
            let kind = picker.kind;
            state.picker = None;
            let Some(name) = chosen else {
                return Vec::new();
            };
            return match kind {
                PickerKind::Model => pick_model(state, &name, now),
                PickerKind::Theme => {
                    // Nothing writes the config file: say how to keep the theme.
                    state.set_status(
                        StatusKind::Info,
                        format!(
                            "theme {name} for this session only; to keep it, set theme = \"{name}\" under [ui] in the config file"
                        ),
                    );
                    Vec::new()
                }
                // The path line has keys of its own (`attach::files_key`).
                PickerKind::File => Vec::new(),
            };
        }
        // Every other key moves, erases or types into the filter.
        other => picker.edit(other, &key),
    }
    // Moving through themes previews each one.
    match (
        &state.picker,
        state.picker.as_ref().and_then(Picker::current),
    ) {
        (Some(p), Some(item)) if p.kind == PickerKind::Theme && item.name != state.theme => {
            state.theme = item.name.clone();
            vec![Effect::SetTheme(item.name.clone())]
        }
        _ => Vec::new(),
    }
}

pub(super) fn pick_model(state: &mut State, name: &str, now: Instant) -> Vec<Effect> {
    let Some(model) = state.models.iter().find(|m| m.name == name).cloned() else {
        return Vec::new();
    };
    if state.streaming() {
        state.set_status(
            StatusKind::Warning,
            "still answering: Esc stops, then pick a model",
        );
        return Vec::new();
    }
    let side = state.focus;
    let effects = assign(state, side, model, now);
    if state.warn_if_one_model() {
        return effects;
    }
    if !state.blind {
        state.set_status(
            StatusKind::Info,
            format!("{}: {name} answers from the next prompt on", side.label()),
        );
    }
    effects
}
