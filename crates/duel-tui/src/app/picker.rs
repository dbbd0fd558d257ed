//! A fuzzy-filtered list to pick a model or a theme from, typed into and moved
//! through with the keyboard.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};

use super::keymap::Action;
use nucleo_matcher::{Config, Matcher, Utf32Str};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickerKind {
    /// A model for the focused pane.
    Model,
    /// A colour theme, previewed live.
    Theme,
    /// A file to attach (Ctrl+O): the query is the path typed, the items the entries
    /// of its folder and the files attached before.
    File,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PickerItem {
    pub name: String,
    /// Shown dim beside the name (provider, model id, …); also searched.
    pub detail: String,
    /// A problem to flag, e.g. the key that is missing.
    pub warning: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picker {
    pub kind: PickerKind,
    pub query: String,
    pub items: Vec<PickerItem>,
    /// Indices into `items` that match the query, best first.
    pub shown: Vec<usize>,
    /// Index into `shown`.
    pub selected: usize,
    /// What was in use when the picker opened (a theme preview reverts to it).
    pub original: String,
}

impl Picker {
    pub fn new(kind: PickerKind, items: Vec<PickerItem>, original: &str) -> Self {
        let selected = items.iter().position(|i| i.name == original).unwrap_or(0);
        let mut picker = Self {
            kind,
            query: String::new(),
            shown: (0..items.len()).collect(),
            items,
            selected: 0,
            original: original.to_owned(),
        };
        picker.selected = selected;
        picker
    }

    pub fn current(&self) -> Option<&PickerItem> {
        self.shown.get(self.selected).map(|&i| &self.items[i])
    }

    /// The query becomes `query`, the filter follows.
    pub(crate) fn set_query(&mut self, query: String) {
        self.query = query;
        self.filter();
    }

    /// New items (a folder listed), filtered by the query as it stands.
    pub(crate) fn set_items(&mut self, items: Vec<PickerItem>) {
        self.items = items;
        self.filter();
    }

    /// What every picker's keys share: moving, a page at a time, erasing, and any
    /// other character typed into the query.
    pub(crate) fn edit(&mut self, action: Option<Action>, key: &KeyEvent) {
        match action {
            Some(Action::PickerMoveUp) => self.move_by(-1),
            Some(Action::PickerMoveDown) => self.move_by(1),
            Some(Action::PickerPageUp) => self.move_by(-10),
            Some(Action::PickerPageDown) => self.move_by(10),
            Some(Action::PickerErase) => self.backspace(),
            Some(_) => {}
            None => match key.code {
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.type_char(c);
                }
                _ => {}
            },
        }
    }

    pub(crate) fn type_char(&mut self, c: char) {
        self.query.push(c);
        self.filter();
    }

    pub(crate) fn backspace(&mut self) {
        self.query.pop();
        self.filter();
    }

    pub(crate) fn move_by(&mut self, delta: isize) {
        if self.shown.is_empty() {
            return;
        }
        let last = self.shown.len() - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// Keeps the items that fuzzy-match the query, best match first.
    fn filter(&mut self) {
        // A path is matched by what follows its last `/`: the folder is what was listed.
        let query = match self.kind {
            PickerKind::File => self.query.rsplit('/').next().unwrap_or_default(),
            _ => self.query.as_str(),
        };
        let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut scored: Vec<(usize, u32)> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let haystack = match self.kind {
                    PickerKind::File => {
                        let name = item.name.trim_end_matches('/');
                        name.rsplit('/').next().unwrap_or(name).to_owned()
                    }
                    _ => format!("{} {}", item.name, item.detail),
                };
                let score = pattern.score(Utf32Str::new(&haystack, &mut buf), &mut matcher)?;
                Some((i, score))
            })
            .collect();
        // Best first; equal scores keep the configured order.
        scored.sort_by_key(|&(_, score)| std::cmp::Reverse(score));
        self.shown = scored.into_iter().map(|(i, _)| i).collect();
        self.selected = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, detail: &str) -> PickerItem {
        PickerItem {
            name: name.into(),
            detail: detail.into(),
            warning: None,
        }
    }

    fn picker() -> Picker {
        Picker::new(
            PickerKind::Model,
            vec![
                item("qwen-plus", "dashscope · qwen-plus"),
                item("ernie-4.5", "qianfan · ernie-4.5-turbo-128k"),
                item("deepseek-chat", "deepseek · deepseek-chat"),
                item("qwen3-local", "ollama · qwen3"),
            ],
            "ernie-4.5",
        )
    }

    fn names(p: &Picker) -> Vec<&str> {
        p.shown.iter().map(|&i| p.items[i].name.as_str()).collect()
    }

    #[test]
    fn opens_on_the_current_item_with_everything_shown() {
        let p = picker();
        assert_eq!(p.current().unwrap().name, "ernie-4.5");
        assert_eq!(p.shown.len(), 4);
    }

    #[test]
    fn typing_filters_fuzzily_and_backspace_widens_again() {
        let mut p = picker();
        for c in "qwn".chars() {
            p.type_char(c);
        }
        let shown = names(&p);
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown.contains(&"qwen-plus") && shown.contains(&"qwen3-local"));
        p.type_char('3');
        assert_eq!(names(&p), ["qwen3-local"]);
        p.backspace();
        p.backspace();
        p.backspace();
        p.backspace();
        assert_eq!(p.shown.len(), 4);
    }

    #[test]
    fn the_detail_is_searched_too() {
        let mut p = picker();
        for c in "ollama".chars() {
            p.type_char(c);
        }
        assert_eq!(names(&p), ["qwen3-local"]);
    }

    #[test]
    fn moving_stays_in_bounds() {
        let mut p = picker();
        p.move_by(10);
        assert_eq!(p.selected, 3);
        p.move_by(-10);
        assert_eq!(p.selected, 0);
        p.type_char('z');
        p.type_char('z');
        p.type_char('z');
        assert!(p.current().is_none());
        p.move_by(1);
    }
}
