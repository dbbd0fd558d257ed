//! `duel review`: the queue of a run's pairs driven through `update` (keys in,
//! effects out), the review screen as a snapshot, the command's messages, and the
//! real binary in a pseudo-terminal voting, skipping, quitting and coming back.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common;
use common::config::in_memory;
use common::runs::{Item, answer_text, make_run, make_run_of};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use duel::app::review_session::Mark;
use duel::app::state::{Mode, State, StatusKind};
use duel::app::{Effect, Msg, update};
use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::domain::{Role, Side, Vote};
use duel::eval::pairs::{PairKey, second_shown_first};
use duel::eval::queue::{Queue, load};
use duel::theme::Theme;
use duel::ui::{ViewCache, draw};
use duel::votes::{self, VoteRecord};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const RUN: &str = "pilot-20261129-100000";
const JUDGE: &str = "carol";

fn items() -> Vec<Item<'static>> {
    vec![
        Item {
            id: "q1",
            prompt: "What is 2+2?",
            category: Some("math"),
        },
        Item {
            id: "q2",
            prompt: "Name a prime above 10.",
            category: Some("math"),
        },
        Item {
            id: "q3",
            prompt: "Say hello in French.",
            category: None,
        },
        Item {
            id: "q4",
            prompt: "Write a haiku about rust.",
            category: Some("writing"),
        },
    ]
}

pub(crate) fn model(name: &str) -> ModelSpec {
    ModelSpec::new(
        name,
        "mylab",
        &format!("{name}-1"),
        Endpoint::new(WireKind::OpenAi, "http://127.0.0.1:9/v1"),
    )
}

fn queue(dir: &Path, judge: &str) -> Queue {
    load(dir, "last", judge).unwrap()
}

/// A review of the last run in `dir` by `judge`, as `duel review` starts it.
fn review(dir: &Path, judge: &str) -> State {
    let config = in_memory(vec![model("alpha"), model("beta")], judge);
    State::for_review(&config, queue(dir, judge), dir.to_owned(), Some(7))
}

fn key(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(
        state,
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        Instant::now(),
    )
}

pub(crate) fn press(state: &mut State, c: char) -> Vec<Effect> {
    key(state, KeyCode::Char(c))
}

/// The records a vote asks to write.
fn records(effects: &[Effect]) -> Vec<VoteRecord> {
    effects
        .iter()
        .flat_map(|e| match e {
            Effect::SaveVotes(records) => records.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// Does what the run loop does with a vote's effects: appends the records to the
/// log in `dir` and reports them written.
fn write(state: &mut State, dir: &Path, effects: &[Effect]) -> Vec<VoteRecord> {
    let records = records(effects);
    assert!(!records.is_empty(), "a write was asked for: {effects:?}");
    for record in &records {
        votes::log::append(&dir.join("votes.jsonl"), record).unwrap();
    }
    let ids = records.iter().map(|r| r.id).collect();
    update(
        state,
        Msg::VotesSaved {
            ids,
            result: Ok(duel::store::Kept::Stored),
        },
        Instant::now(),
    );
    records
}

fn progress(state: &State) -> String {
    state.review.as_ref().unwrap().progress()
}

pub(crate) fn shown_item(state: &State) -> String {
    state
        .review
        .as_ref()
        .unwrap()
        .current()
        .unwrap()
        .item
        .id
        .clone()
}

fn status(state: &State) -> String {
    state
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

fn run_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    make_run(dir.path(), RUN, &items(), &["alpha", "beta"], &[]);
    dir
}

#[test]
fn x_skips_n_and_p_move_and_the_queue_comes_round_to_the_skipped() {
    let dir = run_dir();
    let mut state = review(dir.path(), JUDGE);
    assert_eq!(state.mode, Mode::Review);
    assert_eq!(shown_item(&state), "q1");
    assert_eq!(
        progress(&state),
        "item 1 of 4 · 0 voted (0 this session) · 0 skipped"
    );

    assert!(press(&mut state, 'x').is_empty());
    assert_eq!(shown_item(&state), "q2");
    assert_eq!(
        progress(&state),
        "item 2 of 4 · 0 voted (0 this session) · 1 skipped"
    );
    press(&mut state, 'n');
    assert_eq!(shown_item(&state), "q3");
    press(&mut state, 'p');
    assert_eq!(shown_item(&state), "q2");
    press(&mut state, 'p');
    assert_eq!(
        shown_item(&state),
        "q1",
        "p goes back to a skipped pair too"
    );
    press(&mut state, 'p');
    assert_eq!(shown_item(&state), "q1");
    assert!(status(&state).contains("first pair"));

    // Vote on q2 and q3; n passes over voted pairs and comes round to q1.
    press(&mut state, 'n');
    let effects = press(&mut state, '1');
    write(&mut state, dir.path(), &effects);
    key(&mut state, KeyCode::Enter);
    assert_eq!(shown_item(&state), "q3");
    let effects = press(&mut state, '3');
    write(&mut state, dir.path(), &effects);
    press(&mut state, 'n');
    assert_eq!(shown_item(&state), "q4");
    assert_eq!(
        progress(&state),
        "item 4 of 4 · 2 voted (2 this session) · 1 skipped"
    );
    press(&mut state, 'n');
    assert_eq!(shown_item(&state), "q1", "round again to the skipped one");
    assert!(status(&state).contains("round again"), "{}", status(&state));
    press(&mut state, 'n');
    assert_eq!(shown_item(&state), "q4");

    // The last two voted: nothing is left, and n says so.
    let effects = press(&mut state, '2');
    write(&mut state, dir.path(), &effects);
    assert!(status(&state).contains("· n next"));
    press(&mut state, 'n');
    let effects = press(&mut state, '4');
    write(&mut state, dir.path(), &effects);
    assert!(
        status(&state).contains(&format!("every pair of run {RUN} has your vote")),
        "{}",
        status(&state)
    );
    press(&mut state, 'n');
    assert!(status(&state).contains("every pair"));
    assert_eq!(
        progress(&state),
        "item 1 of 4 · 4 voted (4 this session) · 0 skipped"
    );
}

#[test]
fn a_vote_is_logged_with_the_run_the_item_and_the_sides_as_shown() {
    let dir = run_dir();
    let mut state = review(dir.path(), JUDGE);
    let effects = press(&mut state, '1');
    let written = write(&mut state, dir.path(), &effects);
    assert_eq!(written.len(), 1);

    let (logged, skipped) = votes::log::read(&dir.path().join("votes.jsonl")).unwrap();
    assert!(skipped.is_empty());
    assert_eq!(logged, written);
    let record = &logged[0];
    let flipped = second_shown_first(&PairKey::new(RUN, "q1", "alpha", "beta"), JUDGE);
    let (a, b) = if flipped {
        ("beta", "alpha")
    } else {
        ("alpha", "beta")
    };
    assert_eq!(record.vote, Vote::A);
    assert_eq!(record.run.as_deref(), Some(RUN));
    assert_eq!(record.item.as_deref(), Some("q1"));
    assert_eq!(record.category.as_deref(), Some("math"));
    assert!(record.blind);
    assert_eq!(record.judge, JUDGE);
    assert_eq!(record.prompt, "What is 2+2?");
    assert_eq!((record.turn, record.attempt), (1, 1));
    assert_eq!((record.a.model.as_str(), record.b.model.as_str()), (a, b));
    assert_eq!(record.a.answer, answer_text(a, "q1"));
    assert_eq!(record.a.model_id, format!("{a}-1"));
    assert_eq!(record.a.ttft_ms, Some(300));
    let history = record.a.history.as_ref().unwrap();
    assert_eq!(history[0].role, Role::System, "the answer record's history");
    assert_eq!(
        record.conversation,
        state.review.as_ref().unwrap().queue.entries[0].conversation
    );

    // An item without a category leaves the field out.
    press(&mut state, 'n');
    press(&mut state, 'n');
    assert_eq!(shown_item(&state), "q3");
    let effects = press(&mut state, '4');
    let record = &write(&mut state, dir.path(), &effects)[0];
    assert_eq!(record.vote, Vote::BothBad);
    assert_eq!(record.category, None);
    let line = serde_json::to_value(record).unwrap();
    assert!(line.get("category").is_none());
    assert_eq!(line["run"], RUN);
    assert_eq!(line["item"], "q3");
}

#[test]
fn names_show_only_once_the_vote_is_on_disk_and_a_second_vote_is_refused() {
    let dir = run_dir();
    let mut state = review(dir.path(), JUDGE);
    assert!(state.names_hidden());
    let effects = press(&mut state, '2');
    let cast = records(&effects);
    assert_eq!(cast.len(), 1);
    assert!(state.names_hidden(), "not revealed before the write");
    assert!(status(&state).starts_with("saving vote"));
    assert!(state.turns[0].vote.is_none());

    // The write fails: the vote is kept, not confirmed, and cannot be cast again.
    update(
        &mut state,
        Msg::VotesSaved {
            ids: vec![cast[0].id],
            result: Err("disk full".into()),
        },
        Instant::now(),
    );
    assert_eq!(state.status.as_ref().unwrap().kind, StatusKind::Error);
    assert!(state.names_hidden());
    assert!(press(&mut state, '1').is_empty());
    assert!(
        status(&state).contains("already voted"),
        "{}",
        status(&state)
    );

    // The next vote takes the kept one along; both are confirmed at once.
    press(&mut state, 'n');
    let effects = press(&mut state, '1');
    let both = records(&effects);
    assert_eq!(both.len(), 2);
    press(&mut state, 'p');
    assert!(state.names_hidden());
    write(&mut state, dir.path(), &effects);
    assert!(!state.names_hidden(), "the pair shown is revealed");
    let (a, b) = (
        state.side(Side::A).model.name.clone(),
        state.side(Side::B).model.name.clone(),
    );
    assert_eq!(
        status(&state),
        format!("✓ vote saved: B is better — A was {a}, B was {b} · n next")
    );
    assert_eq!(state.turns[0].vote, Some(Vote::B));
    let review = state.review.as_ref().unwrap();
    assert_eq!(
        review.marks[..2],
        [Mark::Voted(Vote::B), Mark::Voted(Vote::A)]
    );
    assert!(press(&mut state, '3').is_empty());
    assert!(status(&state).contains("already voted"));
}

#[test]
fn quitting_writes_a_vote_still_kept_in_memory() {
    let dir = run_dir();
    let mut state = review(dir.path(), JUDGE);
    let cast = records(&press(&mut state, '1'));
    update(
        &mut state,
        Msg::VotesSaved {
            ids: vec![cast[0].id],
            result: Err("disk full".into()),
        },
        Instant::now(),
    );
    let effects = press(&mut state, 'q');
    assert!(state.quit);
    assert_eq!(records(&effects), cast);
}

#[test]
fn coming_back_leaves_out_the_voted_pairs_and_resumes_after_the_last() {
    let dir = run_dir();
    let mut state = review(dir.path(), JUDGE);
    press(&mut state, 'x');
    let effects = press(&mut state, '1');
    write(&mut state, dir.path(), &effects);
    press(&mut state, 'n');
    let effects = press(&mut state, '2');
    write(&mut state, dir.path(), &effects);
    press(&mut state, 'q');

    let again = review(dir.path(), JUDGE);
    let queue = &again.review.as_ref().unwrap().queue;
    let ids: Vec<&str> = queue.entries.iter().map(|e| e.item.id.as_str()).collect();
    assert_eq!(
        ids,
        ["q1", "q4"],
        "voted pairs are left out; the skipped one is back"
    );
    assert_eq!(shown_item(&again), "q4", "after the last pair voted on");
    assert_eq!(
        progress(&again),
        "item 4 of 4 · 2 voted (0 this session) · 0 skipped"
    );
    // Another judge has everything still to do.
    assert_eq!(queue_len(dir.path(), "dave"), 4);
}

fn queue_len(dir: &Path, judge: &str) -> usize {
    queue(dir, judge).entries.len()
}

#[test]
fn the_pairs_coin_decides_which_answer_pane_a_shows() {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<String> = (1..=12).map(|i| format!("i{i}")).collect();
    let items: Vec<Item> = many
        .iter()
        .map(|id| Item {
            id,
            prompt: "same prompt",
            category: None,
        })
        .collect();
    make_run(dir.path(), RUN, &items, &["alpha", "beta"], &[]);
    let mut state = review(dir.path(), JUDGE);
    let mut seen = Vec::new();
    for id in &many {
        assert_eq!(&shown_item(&state), id);
        let flipped = second_shown_first(&PairKey::new(RUN, id, "alpha", "beta"), JUDGE);
        let a = if flipped { "beta" } else { "alpha" };
        assert_eq!(state.turns[0].answer(Side::A).text, answer_text(a, id));
        assert_eq!(state.side(Side::A).model.name, a);
        seen.push(flipped);
        press(&mut state, 'n');
    }
    assert!(seen.contains(&true) && seen.contains(&false), "{seen:?}");
}

#[test]
fn chat_keys_do_nothing_in_a_review() {
    let dir = run_dir();
    let mut state = review(dir.path(), JUDGE);
    for c in ['r', 'm', 's', 'b', 'i', 't', 'a'] {
        assert!(press(&mut state, c).is_empty(), "{c}");
    }
    key(&mut state, KeyCode::Esc);
    update(&mut state, Msg::Paste("pasted".into()), Instant::now());
    assert_eq!(state.mode, Mode::Review);
    assert!(state.picker.is_none());
    assert!(state.input_text().is_empty());
    assert_eq!(state.turns.len(), 1);
    assert_eq!(shown_item(&state), "q1");
    // The review's own keys of browse mode work: help, sync, layout.
    press(&mut state, '?');
    assert!(state.show_help);
    press(&mut state, 'S');
    assert!(
        !state.sync_scroll,
        "the key that closed the help did only that"
    );
    press(&mut state, 'S');
    assert!(state.sync_scroll);
}

pub(crate) fn render(state: &mut State, cache: &mut ViewCache, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let theme = Theme::default();
    terminal
        .draw(|frame| state.screen = draw(frame, state, &theme, cache))
        .unwrap();
    terminal.backend().to_string()
}

#[test]
fn the_review_screen() {
    let dir = tempfile::tempdir().unwrap();
    let long = "Compare these two sorting algorithms for a list of a million integers \
                that is almost sorted already, and say which you would pick and why.\n\
                Consider memory use.\nConsider stability.\nConsider the worst case \u{1b}[2J.\n\
                Consider the constant factors.\nAnd finally the code size.";
    let items = [
        Item {
            id: "sort-1",
            prompt: long,
            category: Some("coding"),
        },
        Item {
            id: "short",
            prompt: "2+2?",
            category: None,
        },
    ];
    make_run(dir.path(), RUN, &items, &["alpha", "beta"], &[]);
    let mut state = review(dir.path(), JUDGE);
    let mut cache = ViewCache::default();
    let before = render(&mut state, &mut cache, 80, 24);
    assert!(
        !before.contains("alpha") && !before.contains("beta"),
        "{before}"
    );
    assert!(before.contains("␛[2J"), "the prompt is inert: {before}");
    insta::assert_snapshot!("review_before_the_vote", before);

    press(&mut state, 'n');
    let effects = press(&mut state, '1');
    write(&mut state, dir.path(), &effects);
    let after = render(&mut state, &mut cache, 80, 16);
    insta::assert_snapshot!("review_after_the_vote", after);
}

#[test]
fn the_command_says_what_is_wrong_or_done_before_the_screen_changes() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let (code, _, stderr) = common::cli::run(&mut common::cli::duel(home.path(), &["review"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("duel batch"), "{stderr}");

    make_run(&data, RUN, &items(), &["alpha", "beta"], &[("q4", "beta")]);
    let (code, _, stderr) =
        common::cli::run(&mut common::cli::duel(home.path(), &["review", "nope"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("no run is named \"nope\""), "{stderr}");

    // Every ready pair voted on by this judge: a message, exit 0, no screen.
    let config = home.path().join("config.toml");
    std::fs::write(&config, format!("[arena]\njudge = \"{JUDGE}\"\n")).unwrap();
    let mut state = review(&data, JUDGE);
    for _ in 0..3 {
        let effects = press(&mut state, '1');
        write(&mut state, &data, &effects);
        press(&mut state, 'n');
    }
    let (code, stdout, stderr) = common::cli::run(&mut common::cli::duel(
        home.path(),
        &["--config", config.to_str().unwrap(), "review", "pilot"],
    ));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "all 3 pairs of run {RUN} have your vote ({JUDGE}); see `duel stats --run {RUN}`\n\
             1 pair waits for answers: `duel batch --resume {RUN}`\n"
        )
    );
    assert!(!stdout.contains('\u{1b}'), "the screen was never touched");

    // Pairs left, but no terminal: a usage error.
    let (code, _, stderr) = common::cli::run(&mut common::cli::duel(home.path(), &["review"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("needs a terminal"), "{stderr}");
}

const WAIT: Duration = Duration::from_secs(15);

#[test]
fn review_in_a_terminal_votes_skips_quits_and_resumes() {
    let sandbox = common::tui::Sandbox::new();
    let config = sandbox.write_config("[arena]\njudge = \"pty-judge\"\n");
    let config = config.to_str().unwrap();
    make_run(&sandbox.data_dir(), RUN, &items(), &["alpha", "beta"], &[]);
    let log = sandbox.data_dir().join("votes.jsonl");

    let mut tui = common::tui::Tui::spawn(sandbox.command(&["--config", config, "review"]));
    tui.wait_for("item 1 of 4 · 0 voted (0 this session) · 0 skipped", WAIT);
    tui.wait_for("What is 2+2?", WAIT);
    tui.wait_for("REVIEW", WAIT);
    let screen = tui.screen();
    assert!(
        !screen.contains("alpha") && !screen.contains("beta"),
        "names hidden before the vote:\n{screen}"
    );
    assert!(screen.contains("Model A") && screen.contains("Model B"));

    tui.send(b"x");
    tui.wait_for("item 2 of 4 · 0 voted (0 this session) · 1 skipped", WAIT);
    tui.send(b"1");
    tui.wait_for("✓ vote saved: A is better", WAIT);
    tui.wait_for("✓ voted: A (", WAIT);
    tui.send(b"n");
    tui.wait_for("item 3 of 4 · 1 voted (1 this session) · 1 skipped", WAIT);
    tui.send(b"2");
    tui.wait_for("✓ vote saved: B is better", WAIT);
    tui.send(b"q");
    assert_eq!(tui.wait_exit(WAIT), 0);
    tui.with_screen(|screen| assert!(!screen.alternate_screen(), "the terminal is restored"));

    let (records, skipped) = votes::log::read(&log).unwrap();
    assert!(skipped.is_empty());
    assert_eq!(records.len(), 2, "{records:?}");
    let items: Vec<&str> = records.iter().filter_map(|r| r.item.as_deref()).collect();
    assert_eq!(items, ["q2", "q3"]);
    for (record, vote) in records.iter().zip([Vote::A, Vote::B]) {
        assert_eq!(record.vote, vote);
        assert_eq!(record.run.as_deref(), Some(RUN));
        assert!(record.blind);
        assert_eq!(record.judge, "pty-judge");
        let key = PairKey::new(RUN, record.item.as_deref().unwrap(), "alpha", "beta");
        let a = if second_shown_first(&key, "pty-judge") {
            "beta"
        } else {
            "alpha"
        };
        assert_eq!(record.a.model, a, "A as shown");
    }

    // Back again: the voted pairs are gone, it goes on after the last one, and the
    // skipped one comes round.
    let mut tui = common::tui::Tui::spawn(sandbox.command(&["--config", config, "review"]));
    tui.wait_for("item 4 of 4 · 2 voted (0 this session) · 0 skipped", WAIT);
    tui.wait_for("Write a haiku about rust.", WAIT);
    tui.send(b"n");
    tui.wait_for("item 1 of 4 · 2 voted (0 this session) · 0 skipped", WAIT);
    tui.send(b"n");
    tui.wait_for("item 4 of 4", WAIT);
    tui.send(b"\x11"); // Ctrl+Q
    assert_eq!(tui.wait_exit(WAIT), 0);
    assert_eq!(votes::log::read(&log).unwrap().0.len(), 2);
}

#[test]
fn the_help_lists_the_review_keys_and_not_the_chat_s() {
    let dir = run_dir();
    let mut state = review(dir.path(), JUDGE);
    let mut cache = ViewCache::default();
    press(&mut state, '?');
    for width in [80, 140] {
        let screen = render(&mut state, &mut cache, width, 24);
        for words in [
            "review: one blind pair at a time",
            "vote A / B / tie / both bad",
            "next pair without your vote",
            "previous pair",
            "skip (it comes back)",
            "scroll both panes together",
            "quit (your votes are saved)",
        ] {
            assert!(screen.contains(words), "{words:?} at {width}:\n{screen}");
        }
        assert!(!screen.contains("regenerate"), "{screen}");
        assert!(!screen.contains("compose"), "{screen}");
    }
}

#[test]
fn a_review_shows_the_whole_conversation_the_item_asks_about() {
    let dir = tempfile::tempdir().unwrap();
    let suite = concat!(
        r#"{"id": "trip", "messages": [{"role": "system", "content": "You plan trips."}, "#,
        r#"{"role": "user", "content": "Plan a trip to Kyoto."}, "#,
        r#"{"role": "assistant", "content": "Gladly: when do you travel?"}, "#,
        r#"{"role": "user", "content": "In April, for five days."}]}"#,
        "\n"
    );
    make_run_of(dir.path(), RUN, suite, &["trip"], &["alpha", "beta"], &[]);
    for (width, height) in [(80, 24), (120, 35)] {
        let mut state = review(dir.path(), JUDGE);
        let mut cache = ViewCache::default();
        let screen = render(&mut state, &mut cache, width, height);
        for said in [
            "Plan a trip to Kyoto.",
            "Gladly: when do you travel?",
            "In April, for five days.",
        ] {
            assert!(
                screen.contains(said),
                "{width}×{height}: {said:?} missing:\n{screen}"
            );
        }
        let earlier = screen.find("Gladly").unwrap();
        assert!(
            earlier < screen.find("In April").unwrap(),
            "in order:\n{screen}"
        );
    }
}

#[test]
fn a_long_conversation_is_folded_above_and_whole_in_the_panes() {
    let dir = tempfile::tempdir().unwrap();
    let mut messages = Vec::new();
    for i in 1..=6 {
        messages.push(serde_json::json!({"role": "user",
            "content": format!("Question {i}, asked at some length.\nWith a second line.\nAnd a third.")}));
        messages.push(serde_json::json!({"role": "assistant",
            "content": format!("Answer {i}.\nIt goes on.\nAnd on.")}));
    }
    messages.push(serde_json::json!({"role": "user", "content": "And the last question?"}));
    let suite = format!(
        "{}\n",
        serde_json::json!({"id": "long", "messages": messages})
    );
    make_run_of(dir.path(), RUN, &suite, &["long"], &["alpha", "beta"], &[]);
    let mut state = review(dir.path(), JUDGE);
    let mut cache = ViewCache::default();
    let screen = render(&mut state, &mut cache, 80, 24);
    assert!(screen.contains("And the last question?"), "{screen}");
    assert!(
        screen.contains("earlier messages"),
        "the fold says so:\n{screen}"
    );
    // The panes begin with the whole conversation, scrolled to its top.
    assert!(
        screen.contains("user: Question 1, asked at some"),
        "{screen}"
    );
    // Scrolling the pane down reaches every message.
    let mut seen = screen.clone();
    for _ in 0..20 {
        key(&mut state, KeyCode::PageDown);
        seen.push_str(&render(&mut state, &mut cache, 80, 24));
    }
    for i in 1..=6 {
        assert!(
            seen.contains(&format!("Answer {i}.")),
            "answer {i} never shows:\n{seen}"
        );
    }
}

/// An item with a file: the review screen names it under the prompt, and the vote
/// record keeps it by reference.
#[test]
fn a_reviewed_item_names_its_files_and_its_vote_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart.png");
    std::fs::write(&chart, common::files::PNG).unwrap();
    let line = serde_json::json!({
        "id": "q1",
        "prompt": "What is in the picture?",
        "attach": [chart.to_str().unwrap()],
    });
    make_run_of(
        dir.path(),
        RUN,
        &format!("{line}\n"),
        &["q1"],
        &["alpha", "beta"],
        &[],
    );
    let mut state = review(dir.path(), JUDGE);
    let mut cache = ViewCache::default();
    let screen = render(&mut state, &mut cache, 100, 30);
    assert!(
        screen.contains("📎 chart.png · image/png · 67 B"),
        "{screen}"
    );
    let effects = press(&mut state, '1');
    let written = write(&mut state, dir.path(), &effects);
    assert_eq!(written[0].attachments[0].name, "chart.png");
    assert_eq!(written[0].attachments[0].bytes, 67);
}
