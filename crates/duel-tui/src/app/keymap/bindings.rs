//! The table itself: every binding of every mode, with its hint and its help line.

use crossterm::event::{KeyCode, KeyModifiers};

use duel_core::domain::Vote;

use super::{Action, Hint, Key, KeyMode, When};

/// Keys that do one action in one mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Binding {
    pub mode: KeyMode,
    pub keys: &'static [Key],
    pub action: Action,
    /// When the keys do this (Esc stops while answers stream, else browses).
    pub active: When,
    pub hint: Option<Hint>,
    /// What the help says the keys do; empty to share the row of the binding before,
    /// as `j` shares `k`'s "scroll a line".
    pub help: &'static str,
}

const fn bind(mode: KeyMode, keys: &'static [Key], action: Action, help: &'static str) -> Binding {
    Binding {
        mode,
        keys,
        action,
        active: When::Always,
        hint: None,
        help,
    }
}

impl Binding {
    const fn hint(mut self, keys: &'static str, what: &'static str, when: When) -> Self {
        self.hint = Some(Hint {
            keys,
            what,
            when,
            pinned: false,
            votes: matches!(self.action, Action::Vote(_)),
        });
        self
    }

    const fn pinned(mut self, keys: &'static str, what: &'static str) -> Self {
        self.hint = Some(Hint {
            keys,
            what,
            when: When::Always,
            pinned: true,
            votes: false,
        });
        self
    }

    const fn only(mut self, when: When) -> Self {
        self.active = when;
        self
    }
}

use Action as A;
use KeyCode as C;
use KeyMode::{Browse, Compose, Files, Help, Picker, Review};

const fn plain(c: char) -> Key {
    Key::Plain(C::Char(c))
}

/// Browse mode says Ctrl+C's three meanings on one row.
const CTRL_C: &str = "stop, else clear draft or quit";

const ALT_DIGITS: Key = Key::VoteDigits(KeyModifiers::ALT);
const DIGITS: Key = Key::VoteDigits(KeyModifiers::NONE);

/// Every binding of every mode. The footer shows a mode's hints in this order, as
/// many as fit; the help lists a mode's bindings in this order.
pub(super) const BINDINGS: &[Binding] = &[
    // Compose: typing in the input. Keys not listed here are typed.
    bind(Compose, &[Key::Plain(C::Esc)], A::Stop, "stop the answers")
        .only(When::Streaming)
        .hint("Esc", "stop", When::Streaming),
    bind(Compose, &[Key::Plain(C::Enter)], A::Send, "send to both").hint(
        "Enter",
        "send",
        When::Idle,
    ),
    bind(
        Compose,
        &[Key::Alt(C::Enter), Key::Shift(C::Enter), Key::Ctrl('j')],
        A::NewLine,
        "new line",
    )
    .hint("Alt+Enter", "newline", When::Idle),
    bind(
        Compose,
        &[ALT_DIGITS],
        A::Vote(Vote::A),
        "vote A / B / tie / both bad",
    )
    .hint("Alt+1-4", "vote", When::Idle),
    bind(
        Compose,
        &[Key::Plain(C::Tab), Key::Plain(C::BackTab)],
        A::FocusOther,
        "focus the other pane",
    )
    .hint("Tab", "focus", When::Always),
    bind(
        Compose,
        &[Key::Plain(C::PageUp)],
        A::PageUp,
        "scroll a page",
    ),
    bind(Compose, &[Key::Plain(C::PageDown)], A::PageDown, "").hint(
        "PgUp/PgDn",
        "scroll",
        When::Streaming,
    ),
    bind(
        Compose,
        &[Key::Plain(C::Up)],
        A::RecallOlder,
        "earlier / later prompts",
    ),
    bind(Compose, &[Key::Plain(C::Down)], A::RecallNewer, ""),
    bind(
        Compose,
        &[Key::Ctrl('p')],
        A::ModelPicker,
        "pick this pane's model",
    )
    .hint("Ctrl+P", "model", When::Idle),
    bind(
        Compose,
        &[Key::Ctrl('o')],
        A::AttachFile,
        "attach a file to the next prompt",
    )
    .hint("Ctrl+O", "attach", When::Idle),
    bind(
        Compose,
        &[Key::Alt(C::Backspace), Key::Ctrl('h')],
        A::Detach,
        "drop the last file attached (empty prompt)",
    ),
    bind(
        Compose,
        &[Key::Plain(C::Esc)],
        A::Browse,
        "browse the panes",
    )
    .only(When::Idle)
    .hint("Esc", "browse", When::Idle),
    bind(Compose, &[Key::Ctrl('c')], A::Stop, "stop the answers").only(When::Streaming),
    bind(
        Compose,
        &[Key::Ctrl('c')],
        A::ClearOrQuit,
        "clear the draft, else quit",
    )
    .only(When::Idle),
    bind(
        Compose,
        &[Key::Ctrl('n')],
        A::NewConversation,
        "new conversation",
    ),
    bind(Compose, &[Key::Plain(C::F(1))], A::Help, "this help").pinned("F1", "help"),
    bind(Compose, &[Key::Ctrl('q')], A::Quit, "quit").pinned("Ctrl+Q", "quit"),
    // Browse: keys act on the panes.
    bind(
        Browse,
        &[Key::Plain(C::Esc), Key::Plain(C::Enter), plain('i')],
        A::Compose,
        "back to compose",
    )
    .hint("Esc/Enter", "compose", When::Streaming),
    bind(
        Browse,
        &[DIGITS, ALT_DIGITS],
        A::Vote(Vote::A),
        "vote A / B / tie / both bad",
    )
    .hint("1-4", "vote", When::Idle),
    bind(
        Browse,
        &[plain('k'), Key::Plain(C::Up)],
        A::LineUp,
        "scroll a line",
    ),
    bind(Browse, &[plain('j'), Key::Plain(C::Down)], A::LineDown, "").hint(
        "j/k",
        "scroll",
        When::Always,
    ),
    bind(
        Browse,
        &[plain('h'), Key::Plain(C::Left)],
        A::FocusA,
        "focus pane A / B",
    ),
    bind(Browse, &[plain('l'), Key::Plain(C::Right)], A::FocusB, "").hint(
        "h/l",
        "focus",
        When::Always,
    ),
    bind(Browse, &[Key::Ctrl('c')], A::Stop, CTRL_C)
        .only(When::Streaming)
        .hint("Ctrl+C", "stop", When::Streaming),
    bind(Browse, &[Key::Ctrl('c')], A::ClearOrQuit, CTRL_C).only(When::Idle),
    bind(
        Browse,
        &[Key::Plain(C::Tab), Key::Plain(C::BackTab)],
        A::FocusOther,
        "focus the other pane",
    ),
    bind(Browse, &[Key::Plain(C::PageUp)], A::PageUp, "scroll a page"),
    bind(Browse, &[Key::Plain(C::PageDown)], A::PageDown, ""),
    bind(
        Browse,
        &[plain('g'), Key::Plain(C::Home)],
        A::Top,
        "top / bottom (follow)",
    ),
    bind(Browse, &[plain('G'), Key::Plain(C::End)], A::Bottom, ""),
    bind(
        Browse,
        &[plain('m'), Key::Ctrl('p')],
        A::ModelPicker,
        "pick this pane's model",
    )
    .hint("m", "model", When::Idle),
    bind(Browse, &[plain('s')], A::Swap, "swap the two models").hint("s", "swap", When::Idle),
    bind(
        Browse,
        &[plain('r')],
        A::Regenerate,
        "regenerate the last turn",
    )
    .hint("r", "regen", When::Idle),
    bind(Browse, &[plain('y')], A::Copy, "copy this pane's answer").hint("y", "copy", When::Idle),
    bind(
        Browse,
        &[plain('n'), Key::Ctrl('n')],
        A::NewConversation,
        "new conversation",
    )
    .hint("n", "new", When::Idle),
    bind(
        Browse,
        &[plain('b')],
        A::ToggleBlind,
        "blind for the next conversation",
    ),
    bind(
        Browse,
        &[plain('L')],
        A::ToggleLayout,
        "side by side / stacked",
    ),
    bind(
        Browse,
        &[plain('t')],
        A::ThemePicker,
        "theme (live preview)",
    ),
    bind(
        Browse,
        &[plain('e')],
        A::ToggleReasoning,
        "show / fold reasoning",
    ),
    bind(
        Browse,
        &[plain('S')],
        A::ToggleSync,
        "scroll both panes together",
    ),
    bind(
        Browse,
        &[plain('?'), Key::Plain(C::F(1))],
        A::Help,
        "this help",
    )
    .pinned("?", "help"),
    bind(Browse, &[plain('q'), Key::Ctrl('q')], A::Quit, "quit").pinned("q", "quit"),
    // An open picker. Other characters type into its filter.
    bind(
        Picker,
        &[Key::Plain(C::Up), Key::Ctrl('p')],
        A::PickerMoveUp,
        "move up",
    ),
    bind(
        Picker,
        &[Key::Plain(C::Down), Key::Plain(C::Tab), Key::Ctrl('n')],
        A::PickerMoveDown,
        "",
    )
    .hint("↑/↓", "move", When::Always),
    bind(
        Picker,
        &[Key::Plain(C::PageUp)],
        A::PickerPageUp,
        "move a page",
    ),
    bind(Picker, &[Key::Plain(C::PageDown)], A::PickerPageDown, ""),
    bind(
        Picker,
        &[Key::Plain(C::Backspace)],
        A::PickerErase,
        "erase a filter character",
    ),
    bind(Picker, &[Key::Plain(C::Enter)], A::PickerPick, "pick").hint(
        "Enter",
        "pick",
        When::Always,
    ),
    bind(Picker, &[Key::Plain(C::Esc)], A::PickerCancel, "cancel").hint(
        "Esc",
        "cancel",
        When::Always,
    ),
    bind(Picker, &[Key::Ctrl('c'), Key::Ctrl('q')], A::Quit, "quit"),
    // The path line of Ctrl+O. Other characters type the path.
    bind(
        Files,
        &[Key::Plain(C::Up), Key::Ctrl('p')],
        A::PickerMoveUp,
        "move up",
    ),
    bind(
        Files,
        &[Key::Plain(C::Down), Key::Ctrl('n')],
        A::PickerMoveDown,
        "",
    )
    .hint("↑/↓", "move", When::Always),
    bind(
        Files,
        &[Key::Plain(C::Tab)],
        A::FilesComplete,
        "complete the path",
    )
    .hint("Tab", "complete", When::Always),
    bind(
        Files,
        &[Key::Plain(C::Enter)],
        A::FilesAttach,
        "attach the file (or open the folder)",
    )
    .hint("Enter", "attach", When::Always),
    bind(
        Files,
        &[Key::Plain(C::Backspace)],
        A::PickerErase,
        "erase a character",
    ),
    bind(Files, &[Key::Plain(C::Esc)], A::PickerCancel, "cancel").hint(
        "Esc",
        "cancel",
        When::Always,
    ),
    bind(Files, &[Key::Ctrl('c'), Key::Ctrl('q')], A::Quit, "quit"),
    bind(Help, &[Key::Ctrl('q')], A::Quit, "quit"),
    bind(Help, &[Key::Ctrl('c')], A::Stop, "stop the answers").only(When::Streaming),
    bind(
        Help,
        &[Key::Ctrl('c')],
        A::ClearOrQuit,
        "clear the draft, else quit",
    )
    .only(When::Idle),
    // Review: one blind pair of a run at a time (`duel review`). Nothing streams.
    bind(
        Review,
        &[DIGITS, ALT_DIGITS],
        A::Vote(Vote::A),
        "vote A / B / tie / both bad",
    )
    .hint("1-4", "vote", When::Always),
    bind(
        Review,
        &[plain('n'), Key::Plain(C::Enter)],
        A::NextPair,
        "next pair without your vote",
    )
    .hint("n", "next", When::Always),
    bind(Review, &[plain('p')], A::PreviousPair, "previous pair").hint("p", "prev", When::Always),
    bind(Review, &[plain('x')], A::SkipPair, "skip (it comes back)").hint(
        "x",
        "skip",
        When::Always,
    ),
    bind(
        Review,
        &[plain('k'), Key::Plain(C::Up)],
        A::LineUp,
        "scroll a line",
    ),
    bind(Review, &[plain('j'), Key::Plain(C::Down)], A::LineDown, "").hint(
        "j/k",
        "scroll",
        When::Always,
    ),
    bind(
        Review,
        &[plain('h'), Key::Plain(C::Left)],
        A::FocusA,
        "focus pane A / B",
    ),
    bind(Review, &[plain('l'), Key::Plain(C::Right)], A::FocusB, "").hint(
        "h/l",
        "focus",
        When::Always,
    ),
    bind(
        Review,
        &[Key::Plain(C::Tab), Key::Plain(C::BackTab)],
        A::FocusOther,
        "focus the other pane",
    ),
    bind(Review, &[Key::Plain(C::PageUp)], A::PageUp, "scroll a page"),
    bind(Review, &[Key::Plain(C::PageDown)], A::PageDown, ""),
    bind(
        Review,
        &[plain('g'), Key::Plain(C::Home)],
        A::Top,
        "top / bottom",
    ),
    bind(Review, &[plain('G'), Key::Plain(C::End)], A::Bottom, ""),
    bind(
        Review,
        &[plain('S')],
        A::ToggleSync,
        "scroll both panes together",
    )
    .hint("S", "sync", When::Always),
    bind(
        Review,
        &[plain('e')],
        A::ToggleReasoning,
        "show / fold reasoning",
    ),
    bind(
        Review,
        &[plain('L')],
        A::ToggleLayout,
        "side by side / stacked",
    ),
    bind(Review, &[plain('y')], A::Copy, "copy this pane's answer"),
    bind(
        Review,
        &[plain('?'), Key::Plain(C::F(1))],
        A::Help,
        "this help",
    )
    .pinned("?", "help"),
    bind(
        Review,
        &[plain('q'), Key::Ctrl('q'), Key::Ctrl('c')],
        A::Quit,
        "quit (your votes are saved)",
    )
    .pinned("q", "quit"),
];
