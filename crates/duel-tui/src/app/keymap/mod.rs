//! Every key binding, in one table: `update` looks keys up here, and the help popup,
//! the footer hints and the picker's hints are drawn from it. A key can work only by
//! being in the table, and everything in the table is documented.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::Mode;
use duel_core::domain::Vote;

/// Where the keys go: the input, the panes, or an open picker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMode {
    Compose,
    Browse,
    Picker,
    /// The help is open: any key closes it, and only these act as well.
    Help,
    /// `duel review`: one blind pair of a run at a time.
    Review,
    /// The path line of Ctrl+O: a file to attach to the next prompt.
    Files,
}

impl From<Mode> for KeyMode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Compose => KeyMode::Compose,
            Mode::Browse => KeyMode::Browse,
            Mode::Review => KeyMode::Review,
        }
    }
}

/// What a key does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Send,
    NewLine,
    /// Stop the answers under way; what arrived stays.
    Stop,
    /// From the input to the panes.
    Browse,
    /// Back to the input from browse mode.
    Compose,
    /// Ctrl+C while nothing streams: clear the draft, else quit.
    ClearOrQuit,
    Quit,
    Vote(Vote),
    FocusOther,
    FocusA,
    FocusB,
    LineUp,
    LineDown,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Earlier prompts, from the first (or last) input line.
    RecallOlder,
    RecallNewer,
    ModelPicker,
    ThemePicker,
    NewConversation,
    Regenerate,
    Swap,
    Copy,
    ToggleLayout,
    ToggleBlind,
    ToggleReasoning,
    ToggleSync,
    Help,
    PickerMoveUp,
    PickerMoveDown,
    PickerPageUp,
    PickerPageDown,
    PickerErase,
    PickerPick,
    PickerCancel,
    /// Review: on to the next pair without a vote.
    NextPair,
    /// Review: back to the pair before.
    PreviousPair,
    /// Review: pass this pair for now; it comes back.
    SkipPair,
    /// Open the path line to attach a file to the next prompt.
    AttachFile,
    /// On an empty prompt: take back the last file attached.
    Detach,
    /// The path line: complete the path to the entry selected.
    FilesComplete,
    /// The path line: attach the file (or open the folder) selected or typed.
    FilesAttach,
}

/// One key, as a binding names it. A character matches whatever Shift it took to
/// type it (`G`, `?`); every other modifier must be exactly as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Plain(KeyCode),
    Ctrl(char),
    Alt(KeyCode),
    Shift(KeyCode),
    /// The digits 1 to 4, for the four votes, with these modifiers.
    VoteDigits(KeyModifiers),
}

impl Key {
    /// The action's argument this key carries (which vote), if it matches `event`.
    fn matches(self, event: &KeyEvent) -> Option<Option<Vote>> {
        // Shift is part of typing `G` or `?`, and terminals send Shift+Tab as BackTab
        // with Shift set.
        let mods = match event.code {
            KeyCode::Char(_) | KeyCode::BackTab => event.modifiers - KeyModifiers::SHIFT,
            _ => event.modifiers,
        };
        let (code, want) = match self {
            Key::Plain(code) => (code, KeyModifiers::NONE),
            Key::Ctrl(c) => (KeyCode::Char(c), KeyModifiers::CONTROL),
            Key::Alt(code) => (code, KeyModifiers::ALT),
            Key::Shift(code) => (code, KeyModifiers::SHIFT),
            Key::VoteDigits(want) => {
                return match event.code {
                    KeyCode::Char(c) if mods == want => Vote::from_digit(c).map(Some),
                    _ => None,
                };
            }
        };
        (event.code == code && mods == want).then_some(None)
    }
}

impl fmt::Display for Key {
    /// As the help spells it: `Ctrl+P`, `Alt+Enter`, `PgUp`, `1..4`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Plain(code) => write_code(f, *code),
            Key::Ctrl(c) => write!(f, "Ctrl+{}", c.to_ascii_uppercase()),
            Key::Alt(code) => {
                f.write_str("Alt+")?;
                write_code(f, *code)
            }
            Key::Shift(code) => {
                f.write_str("Shift+")?;
                write_code(f, *code)
            }
            Key::VoteDigits(mods) if mods.contains(KeyModifiers::ALT) => f.write_str("Alt+1..4"),
            Key::VoteDigits(_) => f.write_str("1..4"),
        }
    }
}

fn write_code(f: &mut fmt::Formatter<'_>, code: KeyCode) -> fmt::Result {
    match code {
        KeyCode::Char(c) => write!(f, "{c}"),
        KeyCode::F(n) => write!(f, "F{n}"),
        KeyCode::Enter => f.write_str("Enter"),
        KeyCode::Esc => f.write_str("Esc"),
        KeyCode::Tab => f.write_str("Tab"),
        KeyCode::BackTab => f.write_str("Shift+Tab"),
        KeyCode::Backspace => f.write_str("Backspace"),
        KeyCode::PageUp => f.write_str("PgUp"),
        KeyCode::PageDown => f.write_str("PgDn"),
        KeyCode::Up => f.write_str("↑"),
        KeyCode::Down => f.write_str("↓"),
        KeyCode::Left => f.write_str("←"),
        KeyCode::Right => f.write_str("→"),
        KeyCode::Home => f.write_str("Home"),
        KeyCode::End => f.write_str("End"),
        other => write!(f, "{other:?}"),
    }
}

/// When a binding acts, or its hint shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    Always,
    /// While an answer streams.
    Streaming,
    /// While nothing streams.
    Idle,
}

impl When {
    fn holds(self, streaming: bool) -> bool {
        match self {
            When::Always => true,
            When::Streaming => streaming,
            When::Idle => !streaming,
        }
    }
}

/// A binding's entry in the footer: its keys in short and what they do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hint {
    pub keys: &'static str,
    pub what: &'static str,
    pub when: When,
    /// Help and quit: shown at the right end, never cut for room.
    pub pinned: bool,
    /// The keys cast the four votes: where room allows, the footer says what each
    /// digit means (`spelled_out`).
    pub votes: bool,
}

impl Hint {
    /// The hint as the footer shows it: "Alt+1-4 vote".
    pub fn short(&self) -> String {
        format!("{} {}", self.keys, self.what)
    }

    /// A vote hint with each digit spelled out, for a footer with the room:
    /// "Alt+1-4 vote: 1 A · 2 B · 3 tie · 4 both bad". `None` for any other hint.
    pub fn spelled_out(&self) -> Option<String> {
        let digits = Vote::ALL.map(|v| format!("{} {}", v.digit(), v.short()));
        self.votes
            .then(|| format!("{}: {}", self.short(), digits.join(" · ")))
    }
}

mod bindings;

use bindings::BINDINGS;

/// What `key` does in `mode` now, if anything.
pub fn action(mode: KeyMode, key: &KeyEvent, streaming: bool) -> Option<Action> {
    BINDINGS
        .iter()
        .filter(|b| b.mode == mode && b.active.holds(streaming))
        .find_map(|b| {
            b.keys.iter().find_map(|k| {
                k.matches(key).map(|vote| match (b.action, vote) {
                    (Action::Vote(_), Some(vote)) => Action::Vote(vote),
                    (action, _) => action,
                })
            })
        })
}

/// The footer's hints for `mode` now, in order: those that may be cut for room,
/// then the pinned ones.
pub fn hints(mode: KeyMode, streaming: bool) -> (Vec<Hint>, Vec<Hint>) {
    BINDINGS
        .iter()
        .filter(|b| b.mode == mode)
        .filter_map(|b| b.hint)
        .filter(|h| h.when.holds(streaming))
        .partition(|h| !h.pinned)
}

/// The footer hint of `action`'s binding in `mode`, if it has one.
pub fn hint_of(mode: KeyMode, action: Action) -> Option<Hint> {
    BINDINGS
        .iter()
        .find(|b| b.mode == mode && b.action == action)
        .and_then(|b| b.hint)
}

/// One row of the help: the keys, and what they do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelpRow {
    pub keys: String,
    pub what: &'static str,
}

/// The help for `mode`, in table order: bindings with the same words share a row
/// (Esc and Ctrl+C both stop; a key is said once), and a binding without words
/// joins the row before (`k` and `j` scroll a line).
pub fn help(mode: KeyMode) -> Vec<HelpRow> {
    let mut rows: Vec<HelpRow> = Vec::new();
    for binding in BINDINGS.iter().filter(|b| b.mode == mode) {
        let keys = binding
            .keys
            .iter()
            .map(Key::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if binding.help.is_empty() {
            if let Some(row) = rows.last_mut() {
                row.keys = format!("{} / {keys}", row.keys);
            }
        } else if let Some(row) = rows.iter_mut().find(|r| r.what == binding.help) {
            for key in binding.keys.iter().map(Key::to_string) {
                if !row.keys.split(", ").any(|k| k == key) {
                    row.keys = format!("{}, {key}", row.keys);
                }
            }
        } else {
            rows.push(HelpRow {
                keys,
                what: binding.help,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeyCode as C;
    use KeyMode::{Browse, Compose, Files, Help, Picker, Review};

    const MODES: [KeyMode; 6] = [Compose, Browse, Picker, Help, Review, Files];

    /// Every key event a binding could name, in a few spellings.
    fn events() -> Vec<KeyEvent> {
        let mut codes: Vec<KeyCode> = (' '..='~').map(KeyCode::Char).collect();
        codes.extend([
            C::Enter,
            C::Esc,
            C::Tab,
            C::BackTab,
            C::Backspace,
            C::Up,
            C::Down,
            C::Left,
            C::Right,
            C::PageUp,
            C::PageDown,
            C::Home,
            C::End,
            C::F(1),
        ]);
        let mods = [
            KeyModifiers::NONE,
            KeyModifiers::SHIFT,
            KeyModifiers::ALT,
            KeyModifiers::CONTROL,
        ];
        codes
            .into_iter()
            .flat_map(|code| mods.map(|m| KeyEvent::new(code, m)))
            .collect()
    }

    #[test]
    fn no_key_means_two_things_at_once() {
        for mode in MODES {
            for streaming in [false, true] {
                for event in events() {
                    let matching: Vec<Action> = BINDINGS
                        .iter()
                        .filter(|b| b.mode == mode && b.active.holds(streaming))
                        .filter(|b| b.keys.iter().any(|k| k.matches(&event).is_some()))
                        .map(|b| b.action)
                        .collect();
                    assert!(
                        matching.len() <= 1,
                        "{event:?} in {mode:?} (streaming {streaming}): {matching:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_key_of_compose_browse_and_review_is_in_the_help() {
        for mode in [Compose, Browse, Review] {
            let help = help(mode);
            for binding in BINDINGS.iter().filter(|b| b.mode == mode) {
                for key in binding.keys {
                    let label = key.to_string();
                    assert!(
                        help.iter()
                            .any(|row| row.keys.split([',', '/']).any(|k| k.trim() == label)),
                        "{label} ({:?}) is missing from the {mode:?} help: {help:?}",
                        binding.action
                    );
                }
            }
            assert!(help.iter().all(|row| !row.what.is_empty()));
        }
    }

    #[test]
    fn the_help_of_each_mode_fits_a_24_line_terminal() {
        // A border above and below, the mode's heading, and the rows.
        for mode in [Compose, Browse, Review] {
            let rows = help(mode).len();
            assert!(rows + 3 <= 24, "{mode:?} has {rows} rows");
        }
    }

    #[test]
    fn every_hint_names_keys_bound_in_its_mode() {
        for binding in BINDINGS {
            let Some(hint) = binding.hint else { continue };
            for label in hint.keys.split('/') {
                let label = label.replace("1-4", "1..4");
                let bound = BINDINGS
                    .iter()
                    .filter(|b| b.mode == binding.mode)
                    .flat_map(|b| b.keys)
                    .any(|k| k.to_string() == label);
                assert!(bound, "hint {:?} in {:?}", hint.keys, binding.mode);
            }
        }
    }

    #[test]
    fn the_digits_vote_and_shift_types_a_capital() {
        let key = |code, mods| KeyEvent::new(code, mods);
        let shift = KeyModifiers::SHIFT;
        assert_eq!(
            action(Browse, &key(C::Char('3'), KeyModifiers::NONE), false),
            Some(Action::Vote(Vote::Tie))
        );
        assert_eq!(
            action(Compose, &key(C::Char('4'), KeyModifiers::ALT), false),
            Some(Action::Vote(Vote::BothBad))
        );
        assert_eq!(
            action(Compose, &key(C::Char('4'), KeyModifiers::NONE), false),
            None
        );
        assert_eq!(
            action(Browse, &key(C::Char('G'), shift), false),
            Some(Action::Bottom)
        );
        assert_eq!(
            action(Browse, &key(C::BackTab, shift), false),
            Some(Action::FocusOther)
        );
        assert_eq!(
            action(Compose, &key(C::Esc, KeyModifiers::NONE), true),
            Some(Action::Stop)
        );
        assert_eq!(
            action(Compose, &key(C::Esc, KeyModifiers::NONE), false),
            Some(Action::Browse)
        );
    }

    #[test]
    fn the_footer_pins_help_and_quit() {
        let (cut, pinned) = hints(Compose, false);
        let line = |hints: &[Hint]| {
            hints
                .iter()
                .map(|h| format!("{} {}", h.keys, h.what))
                .collect::<Vec<_>>()
                .join(" · ")
        };
        assert_eq!(
            line(&cut),
            "Enter send · Alt+Enter newline · Alt+1-4 vote · Tab focus · Ctrl+P model · Ctrl+O attach · Esc browse"
        );
        assert_eq!(line(&pinned), "F1 help · Ctrl+Q quit");
        let (cut, pinned) = hints(Browse, true);
        assert_eq!(
            line(&cut),
            "Esc/Enter compose · j/k scroll · h/l focus · Ctrl+C stop"
        );
        assert_eq!(line(&pinned), "? help · q quit");
        let (cut, pinned) = hints(Review, false);
        assert_eq!(
            line(&cut),
            "1-4 vote · n next · p prev · x skip · j/k scroll · h/l focus · S sync"
        );
        assert_eq!(line(&pinned), "? help · q quit");
    }

    #[test]
    fn a_review_votes_moves_and_quits_and_types_nothing() {
        let key = |c| KeyEvent::new(C::Char(c), KeyModifiers::NONE);
        assert_eq!(
            action(Review, &key('2'), false),
            Some(Action::Vote(Vote::B))
        );
        assert_eq!(
            action(
                Review,
                &KeyEvent::new(C::Char('4'), KeyModifiers::ALT),
                false
            ),
            Some(Action::Vote(Vote::BothBad))
        );
        assert_eq!(action(Review, &key('n'), false), Some(Action::NextPair));
        assert_eq!(
            action(Review, &KeyEvent::new(C::Enter, KeyModifiers::NONE), false),
            Some(Action::NextPair)
        );
        assert_eq!(action(Review, &key('p'), false), Some(Action::PreviousPair));
        assert_eq!(action(Review, &key('x'), false), Some(Action::SkipPair));
        assert_eq!(
            action(
                Review,
                &KeyEvent::new(C::Char('c'), KeyModifiers::CONTROL),
                false
            ),
            Some(Action::Quit)
        );
        // The chat's own keys are not a review's.
        for c in ['r', 's', 'm', 'b', 't', 'i'] {
            assert_eq!(action(Review, &key(c), false), None, "{c}");
        }
    }
}
