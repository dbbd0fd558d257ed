//! The pure state machine: keys and stream events in, state and effects out.

use std::time::{Duration, Instant};

use crate::common;
use common::config::in_memory;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use duel::app::state::{Mode, Scroll, Setup, State, Viewport};
use duel::app::{Effect, Msg, update};
use duel::config::{Endpoint, Layout, ModelSpec, WireKind};
use duel::domain::{
    AnswerState, ErrorKind, Finish, ProviderError, Role, Side, StreamEvent, Usage, Vote,
};
use duel::votes::SideRecord;

fn model(name: &str) -> ModelSpec {
    let endpoint = Endpoint {
        api_key: Some("sk-test-not-a-real-key".into()),
        ..Endpoint::new(WireKind::OpenAi, "http://127.0.0.1:9/v1")
    };
    ModelSpec {
        system: Some("Be brief.".into()),
        temperature: Some(0.5),
        max_tokens: Some(100),
        ..ModelSpec::new(name, "mylab", &format!("{name}-id"), endpoint)
    }
}

fn state() -> State {
    let config = in_memory(vec![model("left"), model("right")], "tester");
    State::new(
        &config,
        [model("left"), model("right")],
        "/nonexistent".into(),
        Setup {
            seed: Some(7),
            ..Setup::default()
        },
    )
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn alt(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        update(state, key(KeyCode::Char(c)), Instant::now());
    }
}

/// Types and sends a prompt; returns the generations of the two streams started.
fn send(state: &mut State, prompt: &str) -> [u64; 2] {
    type_text(state, prompt);
    let effects = update(state, key(KeyCode::Enter), Instant::now());
    let gens: Vec<u64> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Start { generation, .. } => Some(*generation),
            _ => None,
        })
        .collect();
    assert_eq!(gens.len(), 2, "Enter starts both sides: {effects:?}");
    [gens[0], gens[1]]
}

fn event(state: &mut State, side: Side, generation: u64, event: StreamEvent) -> Vec<Effect> {
    let msg = Msg::Stream {
        side,
        generation,
        event,
        pieces: 1,
    };
    update(state, msg, Instant::now())
}

fn finish_both(state: &mut State, gens: [u64; 2]) {
    for side in Side::BOTH {
        event(
            state,
            side,
            gens[side.index()],
            StreamEvent::Text(format!("answer {}", side.label())),
        );
        event(
            state,
            side,
            gens[side.index()],
            StreamEvent::Finish(Finish::Stop),
        );
    }
}

#[test]
fn enter_sends_the_same_prompt_to_both_sides_with_their_settings() {
    let mut state = state();
    type_text(&mut state, "hello");
    let effects = update(&mut state, key(KeyCode::Enter), Instant::now());
    let starts: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Start {
                side,
                model,
                request,
                ..
            } => Some((*side, model.name.clone(), request.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(starts.len(), 2);
    assert_eq!(starts[0].0, Side::A);
    assert_eq!(starts[0].1, "left");
    assert_eq!(starts[1].1, "right");
    for (_, _, request) in &starts {
        assert_eq!(request.messages.len(), 1);
        assert_eq!(request.messages[0].role, Role::User);
        assert_eq!(request.messages[0].content, "hello");
        assert_eq!(request.system.as_deref(), Some("Be brief."));
        assert_eq!(request.max_tokens, Some(100));
    }
    assert_eq!(state.input_text(), "", "the input is cleared after sending");
    assert!(state.streaming());
}

#[test]
fn empty_input_sends_nothing() {
    let mut state = state();
    type_text(&mut state, "   ");
    assert!(update(&mut state, key(KeyCode::Enter), Instant::now()).is_empty());
    assert!(state.turns.is_empty());
}

#[test]
fn alt_enter_and_ctrl_j_add_a_line_instead_of_sending() {
    let mut state = state();
    type_text(&mut state, "one");
    let effects = update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)),
        Instant::now(),
    );
    assert!(effects.is_empty());
    type_text(&mut state, "two");
    update(&mut state, ctrl('j'), Instant::now());
    type_text(&mut state, "three");
    assert_eq!(state.input_text(), "one\ntwo\nthree");
}

#[test]
fn each_side_streams_independently_and_a_failure_stays_in_its_pane() {
    let mut state = state();
    let [ga, gb] = send(&mut state, "hi");
    event(&mut state, Side::A, ga, StreamEvent::Text("Hel".into()));
    event(
        &mut state,
        Side::B,
        gb,
        StreamEvent::Error(
            ProviderError::new(ErrorKind::Auth, "Incorrect API key").with_status(401),
        ),
    );
    event(&mut state, Side::A, ga, StreamEvent::Text("lo".into()));
    let turn = &state.turns[0];
    assert_eq!(turn.answer(Side::A).text, "Hello");
    assert_eq!(turn.answer(Side::A).state, AnswerState::Streaming);
    assert!(matches!(turn.answer(Side::B).state, AnswerState::Failed(_)));
    assert!(state.streaming(), "A is still streaming");

    let effects = event(&mut state, Side::A, ga, StreamEvent::Finish(Finish::Stop));
    assert!(!state.streaming());
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::SaveConversation(_))),
        "the conversation is saved when the turn ends"
    );
}

#[test]
fn usage_and_timing_are_recorded() {
    let mut state = state();
    let [ga, _] = send(&mut state, "hi");
    let start = state.turns[0].answer(Side::A).started;
    let at = |ms| start + Duration::from_millis(ms);
    update(
        &mut state,
        Msg::Stream {
            side: Side::A,
            generation: ga,
            event: StreamEvent::Text("x".into()),
            pieces: 1,
        },
        at(300),
    );
    update(
        &mut state,
        Msg::Stream {
            side: Side::A,
            generation: ga,
            event: StreamEvent::Usage(Usage {
                input_tokens: Some(7),
                output_tokens: Some(42),
                ..Default::default()
            }),
            pieces: 1,
        },
        at(900),
    );
    update(
        &mut state,
        Msg::Stream {
            side: Side::A,
            generation: ga,
            event: StreamEvent::Finish(Finish::Stop),
            pieces: 1,
        },
        at(1300),
    );
    let record = SideRecord::of(state.turns[0].answer(Side::A), None);
    assert_eq!(record.ttft_ms, Some(300));
    assert_eq!(record.total_ms, Some(1300));
    assert_eq!(record.input_tokens, Some(7));
    assert_eq!(record.output_tokens, Some(42));
    let rate = state.turns[0]
        .answer(Side::A)
        .tokens_per_sec(at(2000))
        .unwrap();
    assert!(
        (rate - 42.0).abs() < 0.01,
        "42 tokens in the second after the first: {rate}"
    );
}

#[test]
fn tokens_count_live_for_a_stream_whose_usage_comes_first_and_last() {
    // Anthropic: message_start says output_tokens 1, message_delta the total at the end.
    let mut state = state();
    let [ga, gb] = send(&mut state, "hi");
    let usage = |output| {
        StreamEvent::Usage(Usage {
            input_tokens: Some(5),
            output_tokens: Some(output),
            ..Default::default()
        })
    };
    event(&mut state, Side::A, ga, usage(1));
    for piece in ["one ", "two ", "three ", "four"] {
        event(&mut state, Side::A, ga, StreamEvent::Text(piece.into()));
    }
    let answer = state.turns[0].answer(Side::A);
    assert_eq!(answer.output_tokens(), (4, false), "counted live, marked ≈");
    event(&mut state, Side::A, ga, usage(9));
    event(&mut state, Side::A, ga, StreamEvent::Finish(Finish::Stop));
    let answer = state.turns[0].answer(Side::A);
    assert_eq!(
        answer.output_tokens(),
        (9, true),
        "the provider's total at the end"
    );
    let record = SideRecord::of(answer, None);
    assert_eq!(record.output_tokens, Some(9));
    assert_eq!(record.output_tokens_estimate, None);

    // A server that sends no usage: the record keeps null and says what it estimated.
    for piece in ["a", "b", "c"] {
        event(&mut state, Side::B, gb, StreamEvent::Text(piece.into()));
    }
    event(&mut state, Side::B, gb, StreamEvent::Finish(Finish::Stop));
    let answer = state.turns[0].answer(Side::B);
    assert_eq!(answer.output_tokens(), (3, false));
    let record = SideRecord::of(answer, None);
    assert_eq!(record.output_tokens, None);
    assert_eq!(
        record.output_tokens_estimate,
        Some(duel::votes::TokenEstimate::from_chunks(3))
    );
}

#[test]
fn a_note_on_the_last_action_clears_on_the_next() {
    let mut state = state();
    let gens = send(&mut state, "first");
    finish_both(&mut state, gens);
    update(&mut state, alt('1'), Instant::now());
    update(&mut state, alt('1'), Instant::now());
    assert!(
        state
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("already voted")
    );
    type_text(&mut state, "n");
    assert_eq!(state.status, None, "the next key clears it");

    // "regenerating …" is over once both answers have ended.
    update(&mut state, key(KeyCode::Esc), Instant::now());
    update(&mut state, key(KeyCode::Char('r')), Instant::now());
    assert!(state.status.as_ref().unwrap().text.contains("regenerating"));
    let gens = state.turns[0].answers.each_ref().map(|a| a.generation);
    finish_both(&mut state, gens);
    assert_eq!(state.status, None);
}

#[test]
fn ctrl_c_clears_a_draft_before_it_quits() {
    let mut state = state();
    type_text(&mut state, "a long prompt I do not want to lose");
    update(&mut state, ctrl('c'), Instant::now());
    assert!(!state.quit, "the first Ctrl+C only clears the draft");
    assert_eq!(state.input_text(), "");
    assert!(
        state
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("Ctrl+C again quits")
    );
    update(&mut state, key(KeyCode::Up), Instant::now());
    assert_eq!(state.input_text(), "a long prompt I do not want to lose");
    update(&mut state, ctrl('c'), Instant::now());
    assert!(!state.quit);
    update(&mut state, ctrl('c'), Instant::now());
    assert!(state.quit, "an empty draft: Ctrl+C quits");
}

#[test]
fn a_retry_shows_in_the_pane_until_text_comes() {
    let mut state = state();
    let [ga, _] = send(&mut state, "hi");
    let retry = duel::provider::Retry {
        kind: ErrorKind::RateLimit,
        status: Some(429),
        wait: Duration::from_secs(2),
        attempt: 1,
        of: 2,
    };
    event(&mut state, Side::A, ga, StreamEvent::Retry(retry.clone()));
    assert_eq!(state.turns[0].answer(Side::A).retry, Some(retry.clone()));
    assert_eq!(
        retry.to_string(),
        "rate limited (HTTP 429), retrying in 2 s (2 of 3)"
    );
}

#[test]
fn esc_stops_streaming_and_keeps_partial_text_and_late_events_are_ignored() {
    let mut state = state();
    let [ga, gb] = send(&mut state, "hi");
    event(&mut state, Side::A, ga, StreamEvent::Text("partial".into()));
    let effects = update(&mut state, key(KeyCode::Esc), Instant::now());
    assert_eq!(
        effects
            .iter()
            .filter(|e| matches!(e, Effect::Stop { .. }))
            .count(),
        2
    );
    assert_eq!(state.mode, Mode::Compose, "Esc while streaming only stops");
    assert_eq!(state.turns[0].answer(Side::A).state, AnswerState::Stopped);
    assert_eq!(state.turns[0].answer(Side::A).text, "partial");
    event(&mut state, Side::B, gb, StreamEvent::Text("late".into()));
    assert_eq!(
        state.turns[0].answer(Side::B).text,
        "",
        "a stopped stream's events are stale"
    );
    assert_eq!(state.turns[0].answer(Side::A).finish(), Finish::Cancelled);

    update(&mut state, key(KeyCode::Esc), Instant::now());
    assert_eq!(
        state.mode,
        Mode::Browse,
        "Esc with nothing streaming enters browse"
    );
}

#[test]
fn ctrl_c_stops_then_quits() {
    let mut state = state();
    send(&mut state, "hi");
    update(&mut state, ctrl('c'), Instant::now());
    assert!(!state.quit && !state.streaming());
    update(&mut state, ctrl('c'), Instant::now());
    assert!(state.quit);
}

#[test]
fn ctrl_q_quits_and_stops_streams() {
    let mut state = state();
    send(&mut state, "hi");
    let effects = update(&mut state, ctrl('q'), Instant::now());
    assert!(state.quit);
    assert_eq!(
        effects
            .iter()
            .filter(|e| matches!(e, Effect::Stop { .. }))
            .count(),
        2
    );
}

#[test]
fn a_vote_goes_to_the_latest_finished_turn_once() {
    let mut state = state();
    assert!(
        update(&mut state, alt('1'), Instant::now()).is_empty(),
        "nothing to vote on"
    );

    let gens = send(&mut state, "first");
    assert!(
        update(&mut state, alt('1'), Instant::now()).is_empty(),
        "not while streaming"
    );
    finish_both(&mut state, gens);

    let record = voted(&update(&mut state, alt('2'), Instant::now()));
    assert_eq!(record.vote, Vote::B);
    assert!(!record.blind);
    assert_eq!(record.turn, 1);
    assert_eq!(record.judge, "tester");
    assert_eq!(record.prompt, "first");
    assert_eq!(record.conversation, state.conversation);
    assert_eq!(record.a.model, "left");
    assert_eq!(record.a.model_id, "left-id");
    assert_eq!(record.a.answer, "answer A");
    assert_eq!(record.b.finish, Finish::Stop);
    let history = record.a.history.as_ref().unwrap();
    assert_eq!(
        history.len(),
        1,
        "only the system prompt came before turn 1"
    );
    assert_eq!(history[0].role, Role::System);

    let again = update(&mut state, alt('1'), Instant::now());
    assert!(again.is_empty());
    assert!(
        state
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("already voted")
    );
}

/// The one record a vote's write carries.
fn voted(effects: &[Effect]) -> duel::votes::VoteRecord {
    let [Effect::SaveVotes(records)] = effects else {
        panic!("one vote write expected: {effects:?}");
    };
    let [record] = records.as_slice() else {
        panic!("one record expected: {records:?}");
    };
    record.clone()
}

/// The ids of the records a vote's write effect carries.
fn written_ids(effects: &[Effect]) -> Vec<uuid::Uuid> {
    effects
        .iter()
        .flat_map(|e| match e {
            Effect::SaveVotes(records) => records.iter().map(|r| r.id).collect(),
            _ => Vec::new(),
        })
        .collect()
}

#[test]
fn the_status_line_confirms_only_after_the_write() {
    let mut state = state();
    let gens = send(&mut state, "q");
    finish_both(&mut state, gens);
    let effects = update(&mut state, alt('3'), Instant::now());
    assert!(!state.status.as_ref().unwrap().text.contains("saved:"));
    let ids = written_ids(&effects);
    update(
        &mut state,
        Msg::VotesSaved {
            ids,
            result: Ok(duel::store::Kept::Stored),
        },
        Instant::now(),
    );
    assert!(
        state
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("vote saved: a tie")
    );
    assert!(state.unsaved.is_empty());
}

#[test]
fn a_vote_that_could_not_be_written_is_kept_and_written_with_the_next() {
    let mut state = state();
    let gens = send(&mut state, "one");
    finish_both(&mut state, gens);
    let first = written_ids(&update(&mut state, alt('1'), Instant::now()));
    update(
        &mut state,
        Msg::VotesSaved {
            ids: first.clone(),
            result: Err("read-only file system".into()),
        },
        Instant::now(),
    );
    assert!(state.status.as_ref().unwrap().text.contains("NOT saved"));
    assert_eq!(state.turns[0].vote, Some(Vote::A), "the vote stays cast");
    assert_eq!(state.unsaved.len(), 1);

    let gens = send(&mut state, "two");
    finish_both(&mut state, gens);
    let both = written_ids(&update(&mut state, alt('2'), Instant::now()));
    assert_eq!(both.len(), 2, "the kept vote goes along with the new one");
    assert_eq!(both[0], first[0]);
    update(
        &mut state,
        Msg::VotesSaved {
            ids: both,
            result: Ok(duel::store::Kept::Stored),
        },
        Instant::now(),
    );
    assert!(state.unsaved.is_empty());
}

#[test]
fn quitting_writes_votes_that_are_still_unsaved() {
    let mut state = state();
    let gens = send(&mut state, "one");
    finish_both(&mut state, gens);
    let ids = written_ids(&update(&mut state, alt('1'), Instant::now()));
    update(
        &mut state,
        Msg::VotesSaved {
            ids: ids.clone(),
            result: Err("disk full".into()),
        },
        Instant::now(),
    );
    let effects = update(&mut state, ctrl('q'), Instant::now());
    assert_eq!(written_ids(&effects), ids);
}

#[test]
fn digits_vote_in_browse_mode_and_type_in_compose_mode() {
    let mut state = state();
    let gens = send(&mut state, "q");
    finish_both(&mut state, gens);
    assert!(update(&mut state, key(KeyCode::Char('4')), Instant::now()).is_empty());
    assert_eq!(state.input_text(), "4");
    update(&mut state, key(KeyCode::Backspace), Instant::now());
    update(&mut state, key(KeyCode::Esc), Instant::now());
    let effects = update(&mut state, key(KeyCode::Char('4')), Instant::now());
    assert!(matches!(&effects[..], [Effect::SaveVotes(r)] if r[0].vote == Vote::BothBad));
}

#[test]
fn a_vote_on_an_earlier_turn_when_the_latest_is_still_streaming() {
    let mut state = state();
    let gens = send(&mut state, "one");
    finish_both(&mut state, gens);
    send(&mut state, "two");
    let effects = update(&mut state, alt('1'), Instant::now());
    assert!(matches!(&effects[..], [Effect::SaveVotes(r)] if r[0].turn == 1));
}

#[test]
fn each_side_keeps_its_own_history() {
    let mut state = state();
    let gens = send(&mut state, "one");
    finish_both(&mut state, gens);
    let effects = {
        type_text(&mut state, "two");
        update(&mut state, key(KeyCode::Enter), Instant::now())
    };
    for effect in &effects {
        if let Effect::Start { side, request, .. } = effect {
            let contents: Vec<&str> = request
                .messages
                .iter()
                .map(|m| m.content.as_str())
                .collect();
            let own = format!("answer {}", side.label());
            assert_eq!(contents, ["one", own.as_str(), "two"]);
        }
    }
}

#[test]
fn a_side_that_answered_nothing_leaves_the_turn_out_of_its_history() {
    let mut state = state();
    let [ga, gb] = send(&mut state, "one");
    event(&mut state, Side::A, ga, StreamEvent::Text("yes".into()));
    event(&mut state, Side::A, ga, StreamEvent::Finish(Finish::Stop));
    event(
        &mut state,
        Side::B,
        gb,
        StreamEvent::Error(ProviderError::new(ErrorKind::Server, "boom")),
    );
    assert_eq!(state.history(Side::A).len(), 2);
    assert!(state.history(Side::B).is_empty());
}

#[test]
fn sending_while_streaming_is_refused() {
    let mut state = state();
    send(&mut state, "one");
    type_text(&mut state, "two");
    assert!(update(&mut state, key(KeyCode::Enter), Instant::now()).is_empty());
    assert_eq!(state.turns.len(), 1);
    assert_eq!(state.input_text(), "two", "the draft is kept");
}

#[test]
fn tab_and_h_l_move_the_focus() {
    let mut state = state();
    assert_eq!(state.focus, Side::A);
    update(&mut state, key(KeyCode::Tab), Instant::now());
    assert_eq!(state.focus, Side::B);
    update(&mut state, key(KeyCode::Esc), Instant::now());
    update(&mut state, key(KeyCode::Char('h')), Instant::now());
    assert_eq!(state.focus, Side::A);
    update(&mut state, key(KeyCode::Char('l')), Instant::now());
    assert_eq!(state.focus, Side::B);
}

#[test]
fn scrolling_pages_up_and_follows_again_at_the_bottom() {
    let mut state = state();
    state.screen.panes[0] = Viewport {
        total_lines: 100,
        height: 20,
        ..Viewport::default()
    };
    update(&mut state, key(KeyCode::PageUp), Instant::now());
    assert_eq!(state.sides[0].scroll, Scroll::Top(62));
    update(&mut state, key(KeyCode::Esc), Instant::now());
    update(&mut state, key(KeyCode::Char('k')), Instant::now());
    assert_eq!(state.sides[0].scroll, Scroll::Top(61));
    update(&mut state, key(KeyCode::Char('g')), Instant::now());
    assert_eq!(state.sides[0].scroll, Scroll::Top(0));
    update(&mut state, key(KeyCode::Char('G')), Instant::now());
    assert_eq!(state.sides[0].scroll, Scroll::Follow);
    update(&mut state, key(KeyCode::PageUp), Instant::now());
    update(&mut state, key(KeyCode::PageDown), Instant::now());
    assert_eq!(state.sides[0].scroll, Scroll::Follow);
    assert_eq!(
        state.sides[1].scroll,
        Scroll::Follow,
        "only the focused pane scrolls"
    );
}

#[test]
fn up_and_down_recall_earlier_prompts() {
    let mut state = state();
    let gens = send(&mut state, "first");
    finish_both(&mut state, gens);
    let gens = send(&mut state, "second");
    finish_both(&mut state, gens);
    type_text(&mut state, "draft");
    update(&mut state, key(KeyCode::Up), Instant::now());
    assert_eq!(state.input_text(), "second");
    update(&mut state, key(KeyCode::Up), Instant::now());
    assert_eq!(state.input_text(), "first");
    update(&mut state, key(KeyCode::Up), Instant::now());
    assert_eq!(state.input_text(), "first");
    update(&mut state, key(KeyCode::Down), Instant::now());
    update(&mut state, key(KeyCode::Down), Instant::now());
    assert_eq!(state.input_text(), "draft");
}

#[test]
fn new_conversation_starts_empty_with_a_new_id() {
    let mut state = state();
    let gens = send(&mut state, "one");
    finish_both(&mut state, gens);
    let before = state.conversation;
    update(&mut state, ctrl('n'), Instant::now());
    assert!(state.turns.is_empty());
    assert_ne!(state.conversation, before);
}

#[test]
fn paste_inserts_text_without_sending() {
    let mut state = state();
    let effects = update(
        &mut state,
        Msg::Paste("line one\r\nline two\n".into()),
        Instant::now(),
    );
    assert!(effects.is_empty());
    assert_eq!(state.input_text(), "line one\nline two\n");
}

#[test]
fn help_opens_with_f1_and_any_key_closes_it() {
    let mut state = state();
    update(&mut state, key(KeyCode::F(1)), Instant::now());
    assert!(state.show_help);
    update(&mut state, key(KeyCode::Char('x')), Instant::now());
    assert!(!state.show_help);
    assert_eq!(state.input_text(), "", "the closing key is not typed");
}

fn blind_state(seed: u64) -> State {
    let mut config = in_memory(vec![model("left"), model("right")], "tester");
    config.ui.blind = true;
    State::new(
        &config,
        [model("left"), model("right")],
        "/nonexistent".into(),
        Setup {
            seed: Some(seed),
            ..Setup::default()
        },
    )
}

#[test]
fn blind_mode_deals_the_pair_by_a_fair_coin() {
    let mut state = blind_state(42);
    let rounds: usize = 4000;
    let mut left_on_a: usize = 0;
    for _ in 0..rounds {
        update(&mut state, ctrl('n'), Instant::now());
        if state.side(Side::A).model.name == "left" {
            left_on_a += 1;
        }
        let names = [
            state.side(Side::A).model.name.clone(),
            state.side(Side::B).model.name.clone(),
        ];
        assert_ne!(names[0], names[1], "both models stay in the pair");
    }
    // Within four standard deviations of a fair coin (σ = √(n/4) ≈ 31.6).
    let expected = rounds / 2;
    assert!(
        left_on_a.abs_diff(expected) < 127,
        "left was on A in {left_on_a} of {rounds} conversations"
    );
}

#[test]
fn a_blind_vote_is_recorded_as_blind_and_reveals_the_names() {
    let mut state = blind_state(1);
    assert!(state.names_hidden());
    let gens = send(&mut state, "q");
    finish_both(&mut state, gens);
    let record = voted(&update(&mut state, alt('1'), Instant::now()));
    assert!(record.blind);
    assert!(!state.names_hidden(), "the vote reveals the names");
    let ids = vec![record.id];
    update(
        &mut state,
        Msg::VotesSaved {
            ids,
            result: Ok(duel::store::Kept::Stored),
        },
        Instant::now(),
    );
    let status = &state.status.as_ref().unwrap().text;
    assert!(
        status.contains("A was") && status.contains("left") && status.contains("right"),
        "{status}"
    );

    // A later vote in the same conversation was cast with the names known.
    let gens = send(&mut state, "again");
    finish_both(&mut state, gens);
    assert!(!voted(&update(&mut state, alt('2'), Instant::now())).blind);

    // The next conversation is blind again.
    update(&mut state, ctrl('n'), Instant::now());
    assert!(state.names_hidden());
}

#[test]
fn b_toggles_blind_mode_at_once_on_an_empty_conversation_else_for_the_next() {
    let mut state = state();
    update(&mut state, key(KeyCode::Esc), Instant::now());
    update(&mut state, key(KeyCode::Char('b')), Instant::now());
    assert!(state.names_hidden(), "nothing asked yet: blind at once");
    update(&mut state, key(KeyCode::Char('b')), Instant::now());
    assert!(!state.names_hidden());

    update(&mut state, key(KeyCode::Enter), Instant::now());
    let gens = send(&mut state, "q");
    finish_both(&mut state, gens);
    update(&mut state, key(KeyCode::Esc), Instant::now());
    update(&mut state, key(KeyCode::Char('b')), Instant::now());
    assert!(!state.names_hidden(), "this conversation stays as it began");
    update(&mut state, key(KeyCode::Char('n')), Instant::now());
    assert!(state.names_hidden(), "the next one is blind");
}

#[test]
fn a_battle_draws_two_distinct_models_uniformly_over_pairs() {
    use duel::app::state::Battle;
    let config = in_memory(vec![model("m1"), model("m2"), model("m3")], "t");
    let battle = Battle {
        pool: config.models.clone(),
        weights: Default::default(),
    };
    let mut state = State::new(
        &config,
        [model("m1"), model("m2")],
        "/nonexistent".into(),
        Setup {
            battle: Some(battle),
            seed: Some(9),
            ..Setup::default()
        },
    );
    assert!(state.names_hidden(), "a battle is blind");
    let mut counts = std::collections::BTreeMap::new();
    let rounds: usize = 3000;
    for _ in 0..rounds {
        update(&mut state, ctrl('n'), Instant::now());
        let mut pair = [
            state.side(Side::A).model.name.clone(),
            state.side(Side::B).model.name.clone(),
        ];
        assert_ne!(pair[0], pair[1]);
        pair.sort();
        *counts.entry(pair.join("+")).or_insert(0usize) += 1;
    }
    assert_eq!(counts.len(), 3, "every pair is drawn: {counts:?}");
    for (pair, n) in &counts {
        // Each pair 1/3 of the time, within about four standard deviations (σ ≈ 26).
        assert!(
            n.abs_diff(rounds / 3) < 105,
            "{pair} drawn {n} times of {rounds}"
        );
    }
}

#[test]
fn battle_weights_favour_a_model() {
    use duel::app::state::Battle;
    use rand::SeedableRng;
    let battle = Battle {
        pool: vec![model("m1"), model("m2"), model("m3")],
        weights: [("m1".to_string(), 4.0)].into_iter().collect(),
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let rounds = 3000;
    let with_m1 = (0..rounds)
        .filter(|_| {
            battle
                .draw(&mut rng)
                .unwrap()
                .iter()
                .any(|m| m.name == "m1")
        })
        .count();
    // Pair weights 4, 4, 1: m1 is in 8/9 of the draws.
    let expected = rounds * 8 / 9;
    assert!(
        with_m1.abs_diff(expected) < 70,
        "m1 in {with_m1} of {rounds}"
    );
}

fn browse(state: &mut State) {
    if state.mode != Mode::Browse {
        update(state, key(KeyCode::Esc), Instant::now());
    }
    assert_eq!(state.mode, Mode::Browse);
}

#[test]
fn r_regenerates_the_last_turn_on_both_sides() {
    let mut state = state();
    let gens = send(&mut state, "once more");
    finish_both(&mut state, gens);
    browse(&mut state);
    let effects = update(&mut state, key(KeyCode::Char('r')), Instant::now());
    let prompts: Vec<String> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Start { request, .. } => Some(request.messages.last().unwrap().content.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(prompts, ["once more", "once more"]);
    assert_eq!(state.turns.len(), 1, "the turn is replaced, not added");
    assert!(state.turns[0].answer(Side::A).in_flight());
}

#[test]
fn a_regenerated_turn_is_a_new_pair_with_its_own_vote() {
    let mut state = state();
    let gens = send(&mut state, "first");
    finish_both(&mut state, gens);
    let gens = send(&mut state, "second");
    finish_both(&mut state, gens);
    let first = voted(&update(&mut state, alt('1'), Instant::now()));
    assert_eq!((first.turn, first.attempt), (2, 1));

    browse(&mut state);
    update(&mut state, key(KeyCode::Char('r')), Instant::now());
    assert_eq!(state.turns[1].attempt, 2);
    assert_eq!(
        state.turns[1].vote, None,
        "the new answers are not voted yet"
    );
    let gens = state.turns[1].answers.each_ref().map(|a| a.generation);
    finish_both(&mut state, gens);
    let second = voted(&update(&mut state, key(KeyCode::Char('2')), Instant::now()));
    assert_eq!(
        (second.conversation, second.turn, second.attempt),
        (first.conversation, 2, 2)
    );
    assert!(
        update(&mut state, key(KeyCode::Char('1')), Instant::now()).is_empty(),
        "one vote per attempt"
    );

    // Regenerating again counts on; the conversation file keeps the attempt.
    update(&mut state, key(KeyCode::Char('r')), Instant::now());
    assert_eq!(state.turns[1].attempt, 3);
    let gens = state.turns[1].answers.each_ref().map(|a| a.generation);
    let effects = event(
        &mut state,
        Side::A,
        gens[0],
        StreamEvent::Finish(Finish::Stop),
    );
    assert!(effects.is_empty());
    let effects = event(
        &mut state,
        Side::B,
        gens[1],
        StreamEvent::Finish(Finish::Stop),
    );
    let [Effect::SaveConversation(file)] = effects.as_slice() else {
        panic!("the ended turn is saved: {effects:?}");
    };
    assert_eq!(
        file.turns.iter().map(|t| t.attempt).collect::<Vec<_>>(),
        [1, 3]
    );
}

#[test]
fn s_swaps_the_models_and_each_pane_keeps_its_history() {
    let mut state = state();
    let gens = send(&mut state, "one");
    finish_both(&mut state, gens);
    browse(&mut state);
    update(&mut state, key(KeyCode::Char('s')), Instant::now());
    assert_eq!(state.side(Side::A).model.name, "right");
    assert_eq!(state.side(Side::B).model.name, "left");
    update(&mut state, key(KeyCode::Enter), Instant::now());
    type_text(&mut state, "two");
    let effects = update(&mut state, key(KeyCode::Enter), Instant::now());
    for effect in &effects {
        if let Effect::Start {
            side,
            model,
            request,
            ..
        } = effect
        {
            let expected = if *side == Side::A { "right" } else { "left" };
            assert_eq!(model.name, expected);
            // Pane A's history is still pane A's answers.
            let own = format!("answer {}", side.label());
            assert_eq!(request.messages[1].content, own);
        }
    }
    // The record names the model that produced each answer.
    let [ga, gb] = [
        state.turns[1].answer(Side::A).generation,
        state.turns[1].answer(Side::B).generation,
    ];
    finish_both(&mut state, [ga, gb]);
    let record = voted(&update(&mut state, alt('1'), Instant::now()));
    assert_eq!(record.turn, 2);
    assert_eq!(record.a.model, "right");
}

#[test]
fn l_toggles_the_layout() {
    let mut state = state();
    browse(&mut state);
    update(&mut state, key(KeyCode::Char('L')), Instant::now());
    assert_eq!(state.layout, Layout::Rows);
    update(&mut state, key(KeyCode::Char('L')), Instant::now());
    assert_eq!(state.layout, Layout::Columns);
}

#[test]
fn y_copies_the_focused_answer() {
    let mut state = state();
    let gens = send(&mut state, "q");
    finish_both(&mut state, gens);
    browse(&mut state);
    update(&mut state, key(KeyCode::Char('l')), Instant::now());
    let effects = update(&mut state, key(KeyCode::Char('y')), Instant::now());
    assert!(matches!(&effects[..], [Effect::Copy(text)] if text == "answer B"));
}

#[test]
fn the_model_picker_filters_and_assigns_to_the_focused_pane() {
    let mut state = state();
    update(&mut state, ctrl('p'), Instant::now());
    let picker = state.picker.as_ref().expect("Ctrl+P opens the picker");
    assert_eq!(
        picker.current().unwrap().name,
        "left",
        "it opens on the pane's model"
    );
    type_text(&mut state, "righ");
    assert_eq!(
        state.picker.as_ref().unwrap().current().unwrap().name,
        "right"
    );
    assert_eq!(
        state.input_text(),
        "",
        "typing goes to the picker, not the input"
    );
    update(&mut state, key(KeyCode::Enter), Instant::now());
    assert!(state.picker.is_none());
    assert_eq!(state.side(Side::A).model.name, "right");
    let effects = {
        type_text(&mut state, "hi");
        update(&mut state, key(KeyCode::Enter), Instant::now())
    };
    assert!(
        effects.iter().any(
            |e| matches!(e, Effect::Start { side: Side::A, model, .. } if model.name == "right")
        )
    );
}

#[test]
fn esc_closes_the_picker_without_changes() {
    let mut state = state();
    browse(&mut state);
    update(&mut state, key(KeyCode::Char('m')), Instant::now());
    update(&mut state, key(KeyCode::Down), Instant::now());
    update(&mut state, key(KeyCode::Esc), Instant::now());
    assert!(state.picker.is_none());
    assert_eq!(state.side(Side::A).model.name, "left");
}

#[test]
fn the_theme_picker_previews_live_and_esc_reverts() {
    let mut state = state();
    state.themes = vec!["default".into(), "light".into(), "nord".into()];
    browse(&mut state);
    update(&mut state, key(KeyCode::Char('t')), Instant::now());
    let effects = update(&mut state, key(KeyCode::Down), Instant::now());
    assert!(matches!(&effects[..], [Effect::SetTheme(name)] if name == "light"));
    let effects = update(&mut state, key(KeyCode::Esc), Instant::now());
    assert!(matches!(&effects[..], [Effect::SetTheme(name)] if name == "default"));
    assert_eq!(state.theme, "default");

    update(&mut state, key(KeyCode::Char('t')), Instant::now());
    type_text(&mut state, "nord");
    update(&mut state, key(KeyCode::Enter), Instant::now());
    assert_eq!(state.theme, "nord");
}

#[test]
fn picking_a_model_in_blind_mode_starts_a_new_conversation() {
    let mut state = blind_state(3);
    let gens = send(&mut state, "q");
    finish_both(&mut state, gens);
    let before = state.conversation;
    update(&mut state, ctrl('p'), Instant::now());
    assert_eq!(
        state.picker.as_ref().unwrap().selected,
        0,
        "the picker does not point at the pane's model"
    );
    update(&mut state, key(KeyCode::Enter), Instant::now());
    assert_ne!(state.conversation, before);
    assert!(state.turns.is_empty());
    assert!(state.names_hidden());
}

#[test]
fn the_mouse_wheel_scrolls_the_pane_under_the_pointer() {
    use crossterm::event::{MouseEvent, MouseEventKind};
    use ratatui::layout::Rect;
    let mut state = state();
    // As the last frame laid out a 100×30 screen: A on the left, B on the right.
    state.screen.panes = [
        Viewport {
            area: Rect::new(0, 0, 50, 25),
            ..Viewport::default()
        },
        Viewport {
            area: Rect::new(50, 0, 50, 25),
            total_lines: 100,
            height: 20,
        },
    ];
    let wheel = Msg::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollUp,
        column: 75,
        row: 5,
        modifiers: KeyModifiers::NONE,
    });
    update(&mut state, wheel, Instant::now());
    assert_eq!(state.focus, Side::B);
    assert_eq!(state.sides[1].scroll, Scroll::Top(77));
}

#[test]
fn e_expands_and_folds_reasoning() {
    let mut state = state();
    browse(&mut state);
    update(&mut state, key(KeyCode::Char('e')), Instant::now());
    assert!(state.expand_reasoning);
}

#[test]
fn sync_scroll_moves_both_panes_together() {
    let mut state = state();
    for pane in &mut state.screen.panes {
        *pane = Viewport {
            total_lines: 100,
            height: 20,
            ..Viewport::default()
        };
    }
    browse(&mut state);
    update(&mut state, key(KeyCode::Char('S')), Instant::now());
    assert!(state.sync_scroll);
    update(&mut state, key(KeyCode::Char('k')), Instant::now());
    assert_eq!(state.sides[0].scroll, Scroll::Top(79));
    assert_eq!(state.sides[1].scroll, Scroll::Top(79));
    update(&mut state, key(KeyCode::Char('g')), Instant::now());
    assert_eq!(state.sides[1].scroll, Scroll::Top(0));
    update(&mut state, key(KeyCode::Char('S')), Instant::now());
    update(&mut state, key(KeyCode::Char('G')), Instant::now());
    assert_eq!(state.sides[0].scroll, Scroll::Follow);
    assert_eq!(
        state.sides[1].scroll,
        Scroll::Top(0),
        "sync off: only the focused pane"
    );
}

#[test]
fn a_vote_being_written_is_not_written_again_at_quit() {
    let mut state = state();
    let gens = send(&mut state, "one");
    finish_both(&mut state, gens);
    let ids = written_ids(&update(&mut state, alt('1'), Instant::now()));
    assert_eq!(ids.len(), 1);
    // Quit before the write reported back: the run loop waits for it instead.
    let effects = update(&mut state, ctrl('q'), Instant::now());
    assert!(written_ids(&effects).is_empty(), "{effects:?}");
}

#[test]
fn update_is_a_function_of_its_inputs() {
    // Two runs fed the same messages at the same moments, from the same seed and the
    // same wall clock, write the same records: ids, times and all.
    let start = Instant::now();
    let wall: jiff::Timestamp = "2026-11-29T10:00:00Z".parse().unwrap();
    let run = || {
        let mut state = state();
        // What State::new read from the clocks, set alike for both runs.
        state.clock = duel::app::state::Clock::new(start, wall);
        state.created = wall;
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut effects = Vec::new();
        for (i, c) in "hello".chars().enumerate() {
            update(&mut state, key(KeyCode::Char(c)), at(i as u64));
        }
        effects.extend(update(&mut state, key(KeyCode::Enter), at(10)));
        for side in Side::BOTH {
            let generation = state.turns[0].answer(side).generation;
            for (ms, event) in [
                (400, StreamEvent::Text(format!("answer {}", side.label()))),
                (900, StreamEvent::Finish(Finish::Stop)),
            ] {
                let msg = Msg::Stream {
                    side,
                    generation,
                    event,
                    pieces: 1,
                };
                effects.extend(update(&mut state, msg, at(ms)));
            }
        }
        update(&mut state, key(KeyCode::Esc), at(1000));
        effects.extend(update(&mut state, key(KeyCode::Char('1')), at(61_000)));
        effects.extend(update(&mut state, ctrl('n'), at(62_000)));
        (format!("{effects:?}"), state.conversation)
    };
    let (first, conversation) = run();
    // Any clock read inside update would now show as a different time.
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(run(), (first.clone(), conversation));
    assert!(
        first.contains("2026-11-29T10:01:01"),
        "the vote's time is the wall clock at the vote: {first}"
    );
}

#[test]
fn in_browse_mode_only_the_keys_the_help_lists_do_anything() {
    use duel::app::keymap::{self, KeyMode};
    let mut codes: Vec<KeyCode> = (' '..='~').map(KeyCode::Char).collect();
    codes.extend([
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Backspace,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::Delete,
        KeyCode::F(1),
        KeyCode::F(2),
    ]);
    let look = |state: &State| {
        format!(
            "{:?} {:?} {:?} {} {} {} {} {} {} {} {:?} {:?}",
            state.mode,
            state.focus,
            state.layout,
            state.show_help,
            state.picker.is_some(),
            state.blind_next,
            state.expand_reasoning,
            state.sync_scroll,
            state.quit,
            state.turns.len(),
            state.status,
            state.sides.each_ref().map(|s| s.scroll),
        )
    };
    for code in codes {
        for mods in [
            KeyModifiers::NONE,
            KeyModifiers::SHIFT,
            KeyModifiers::ALT,
            KeyModifiers::CONTROL,
        ] {
            let mut state = state();
            let gens = send(&mut state, "hi");
            finish_both(&mut state, gens);
            for side in Side::BOTH {
                state.screen.panes[side.index()] = Viewport {
                    total_lines: 100,
                    height: 10,
                    ..Viewport::default()
                };
            }
            update(&mut state, key(KeyCode::Esc), Instant::now());
            assert_eq!(state.mode, Mode::Browse);
            let before = look(&state);
            let press = KeyEvent::new(code, mods);
            let effects = update(&mut state, Msg::Key(press), Instant::now());
            let did_something = !effects.is_empty() || look(&state) != before;
            let bound = keymap::action(KeyMode::Browse, &press, false).is_some();
            assert!(
                bound || !did_something,
                "{press:?} does something but the keymap (and so the help) lacks it"
            );
        }
    }
}

#[test]
fn a_vote_records_exactly_what_each_side_was_sent_before_its_prompt() {
    // The record's history is derived from the turns, not copied into every answer:
    // it must still equal the request each side sent, regenerated turns included.
    let mut state = state();
    let gens = send(&mut state, "one");
    finish_both(&mut state, gens);
    type_text(&mut state, "two");
    let sent = update(&mut state, key(KeyCode::Enter), Instant::now());
    let gens = state.turns[1].answers.each_ref().map(|a| a.generation);
    finish_both(&mut state, gens);
    update(&mut state, key(KeyCode::Esc), Instant::now());
    let regenerated = update(&mut state, key(KeyCode::Char('r')), Instant::now());
    let gens = state.turns[1].answers.each_ref().map(|a| a.generation);
    finish_both(&mut state, gens);
    let record = voted(&update(&mut state, key(KeyCode::Char('1')), Instant::now()));
    assert_eq!(record.attempt, 2);
    for effects in [&sent, &regenerated] {
        for effect in effects {
            let Effect::Start { side, request, .. } = effect else {
                continue;
            };
            let side_record = match side {
                Side::A => &record.a,
                Side::B => &record.b,
            };
            let mut before = request.history_with_system();
            assert_eq!(before.pop().map(|m| m.content), Some("two".to_owned()));
            assert_eq!(side_record.history.as_ref(), Some(&before), "{side:?}");
        }
    }
}

/// Votes and writes the vote (as the run loop does); returns the effects that follow
/// the write (the conversation's save).
fn vote_and_save(state: &mut State, msg: Msg) -> Vec<Effect> {
    let ids = written_ids(&update(state, msg, Instant::now()));
    assert!(!ids.is_empty(), "a vote was cast");
    update(
        state,
        Msg::VotesSaved {
            ids,
            result: Ok(duel::store::Kept::Stored),
        },
        Instant::now(),
    )
}

/// The conversation a save effect writes, as the JSON of its file.
fn saved_json(effects: &[Effect]) -> serde_json::Value {
    let Some(file) = effects.iter().find_map(|e| match e {
        Effect::SaveConversation(file) => Some(file),
        _ => None,
    }) else {
        panic!("the conversation is saved: {effects:?}");
    };
    serde_json::to_value(file.as_ref()).unwrap()
}

/// Every vote a conversation file holds, wherever it keeps them.
fn votes_in(json: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![json];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(vote)) = map.get("vote") {
                    out.push(vote.clone());
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    out.sort();
    out
}

#[test]
fn a_regenerate_keeps_the_earlier_attempts_vote_in_the_file_and_on_resume() {
    let mut state = state();
    let gens = send(&mut state, "first");
    finish_both(&mut state, gens);
    vote_and_save(&mut state, alt('1'));
    let status = state.status.clone().unwrap().text;
    assert!(status.contains("A is better (turn 1)"), "{status}");

    browse(&mut state);
    update(&mut state, key(KeyCode::Char('r')), Instant::now());
    let gens = state.turns[0].answers.each_ref().map(|a| a.generation);
    finish_both(&mut state, gens);
    let effects = vote_and_save(&mut state, key(KeyCode::Char('2')));
    let status = state.status.clone().unwrap().text;
    assert!(
        status.contains("B is better (turn 1, attempt 2)"),
        "the status names the attempt: {status}"
    );
    let json = saved_json(&effects);
    assert_eq!(votes_in(&json), ["a", "b"], "{json:#}");
    update(&mut state, key(KeyCode::Char('1')), Instant::now());
    let status = state.status.clone().unwrap().text;
    assert_eq!(status, "already voted on turn 1, attempt 2");

    // Resumed, the conversation still holds both votes, and saves them again.
    let file: duel::conversation::ConversationFile = serde_json::from_value(json).unwrap();
    let mut resumed = state_resumed(file);
    let gens = send(&mut resumed, "second");
    let effects = finish_after(&mut resumed, gens);
    assert_eq!(votes_in(&saved_json(&effects)), ["a", "b"]);
}

/// A fresh state with `file` resumed.
fn state_resumed(file: duel::conversation::ConversationFile) -> State {
    let mut state = state();
    let pair = state.sides.clone().map(|side| side.model);
    state.resume(file, pair);
    state
}

/// Ends both answers; the effects of the last event (the save).
fn finish_after(state: &mut State, gens: [u64; 2]) -> Vec<Effect> {
    event(state, Side::A, gens[0], StreamEvent::Finish(Finish::Stop));
    event(state, Side::B, gens[1], StreamEvent::Finish(Finish::Stop))
}

#[test]
fn a_conversation_file_from_before_attempts_were_kept_still_resumes() {
    let side = |model: &str| {
        serde_json::json!({"model": model, "provider": "mylab", "model_id": model,
            "answer": "hi", "reasoning": null, "finish": "stop", "error": null,
            "ttft_ms": 10, "total_ms": 20, "input_tokens": 1, "output_tokens": 1})
    };
    let json = serde_json::json!({
        "schema": 1, "id": "5a1e0c2b-0000-4000-8000-000000000001",
        "created": "2026-11-23T18:00:00.000Z", "updated": "2026-11-23T18:00:00.000Z",
        "blind": false,
        "turns": [{"turn": 1, "time": "2026-11-23T18:00:00.000Z", "prompt": "old",
                   "vote": "tie", "a": side("left"), "b": side("right")}]
    });
    let file: duel::conversation::ConversationFile = serde_json::from_value(json).unwrap();
    let state = state_resumed(file);
    assert_eq!(state.turns[0].vote, Some(Vote::Tie));
    assert_eq!(state.turns[0].attempt, 1);
}

#[test]
fn the_same_model_on_both_sides_is_warned_about() {
    let config = in_memory(vec![model("left"), model("right")], "tester");
    let same = State::new(
        &config,
        [model("left"), model("left")],
        "/nonexistent".into(),
        Setup::default(),
    );
    let status = same.status.clone().unwrap();
    assert!(
        status.text.contains("the same model (left) on both sides"),
        "{status:?}"
    );

    // Picking B's model for A says so too.
    let mut state = state();
    update(&mut state, ctrl('p'), Instant::now());
    type_text(&mut state, "right");
    update(&mut state, key(KeyCode::Enter), Instant::now());
    assert_eq!(state.side(Side::A).model.name, "right");
    let text = state.status.clone().unwrap().text;
    assert!(
        text.contains("the same model (right) on both sides"),
        "{text}"
    );
}

#[test]
fn a_picked_theme_says_it_is_for_this_session_only() {
    let mut state = state();
    state.themes = vec!["default".into(), "nord".into()];
    browse(&mut state);
    update(&mut state, key(KeyCode::Char('t')), Instant::now());
    type_text(&mut state, "nord");
    update(&mut state, key(KeyCode::Enter), Instant::now());
    assert_eq!(state.theme, "nord");
    let text = state.status.clone().unwrap().text;
    assert!(
        text.contains("theme nord for this session only") && text.contains("theme = \"nord\""),
        "{text}"
    );
}

// ---- Attachments: Ctrl+O, the chips, taking one back ----------------------------

fn attachment(name: &str, media_type: &str, bytes: u64) -> duel::attachment::Attachment {
    duel::attachment::Attachment {
        name: name.into(),
        media_type: media_type.into(),
        bytes,
        sha256: format!("{:064x}", bytes),
    }
}

fn entry(path: &str, bytes: Option<u64>) -> duel::app::msg::Entry {
    duel::app::msg::Entry {
        path: path.into(),
        bytes,
    }
}

/// Ctrl+O opens the path line and asks for the current folder; typing a folder asks
/// for it; Tab completes to the entry selected; Enter on a folder opens it, on a file
/// asks the world to read it. Nothing here touches the disk.
#[test]
fn ctrl_o_opens_a_path_line_that_completes_and_attaches_through_effects() {
    let mut s = state();
    let effects = update(&mut s, ctrl('o'), Instant::now());
    assert!(
        matches!(&effects[..], [Effect::ListDir(dir)] if dir.is_empty()),
        "{effects:?}"
    );
    update(
        &mut s,
        Msg::Listed {
            dir: String::new(),
            entries: vec![entry("docs/", None), entry("chart.png", Some(412 * 1024))],
        },
        Instant::now(),
    );
    let picker = s.picker.as_ref().expect("the path line is open");
    assert_eq!(picker.items.len(), 2);
    assert_eq!(picker.items[1].detail, "412 KB");

    // Typing filters the folder's entries by name.
    type_text(&mut s, "cha");
    let picker = s.picker.as_ref().expect("open");
    assert_eq!(picker.current().map(|i| i.name.as_str()), Some("chart.png"));
    // Erase back, pick the folder: Enter opens it and asks for its entries.
    for _ in 0..3 {
        update(&mut s, key(KeyCode::Backspace), Instant::now());
    }
    let effects = update(&mut s, key(KeyCode::Enter), Instant::now());
    assert!(
        matches!(&effects[..], [Effect::ListDir(dir)] if dir == "docs/"),
        "{effects:?}"
    );
    assert_eq!(s.picker.as_ref().expect("open").query, "docs/");
    // A listing of a folder no longer shown is dropped.
    update(
        &mut s,
        Msg::Listed {
            dir: String::new(),
            entries: vec![entry("stale.png", Some(1))],
        },
        Instant::now(),
    );
    assert!(s.picker.as_ref().expect("open").items.is_empty());
    update(
        &mut s,
        Msg::Listed {
            dir: "docs/".into(),
            entries: vec![entry("docs/spec.pdf", Some(2048))],
        },
        Instant::now(),
    );
    type_text(&mut s, "sp");
    let effects = update(&mut s, key(KeyCode::Tab), Instant::now());
    assert!(effects.is_empty());
    assert_eq!(s.picker.as_ref().expect("open").query, "docs/spec.pdf");
    let effects = update(&mut s, key(KeyCode::Enter), Instant::now());
    assert!(
        matches!(&effects[..], [Effect::Attach(path)] if path == "docs/spec.pdf"),
        "{effects:?}"
    );
    assert!(s.picker.is_none(), "the path line closes");

    // A path no entry matches is attached as typed; Esc closes without a word.
    update(&mut s, ctrl('o'), Instant::now());
    type_text(&mut s, "~/x.md");
    let effects = update(&mut s, key(KeyCode::Enter), Instant::now());
    assert!(
        matches!(&effects[..], [Effect::Attach(path)] if path == "~/x.md"),
        "{effects:?}"
    );
    update(&mut s, ctrl('o'), Instant::now());
    assert!(update(&mut s, key(KeyCode::Esc), Instant::now()).is_empty());
    assert!(s.picker.is_none());
}

/// A file read goes on a chip; the next prompt takes it to both sides (with where its
/// bytes are), the turn and its vote record keep it by reference, and the chips are
/// gone. Alt+Backspace on an empty prompt takes the last one back; on a prompt it
/// edits the prompt.
#[test]
fn an_attached_file_goes_with_the_next_prompt_to_both_sides_and_into_the_vote() {
    let mut s = state();
    let chart = attachment("chart.png", "image/png", 412 * 1024);
    let notes = attachment("notes.md", "text/markdown", 10);
    attached(&mut s, &chart);
    attached(&mut s, &notes);
    assert_eq!(s.attached, [chart.clone(), notes.clone()]);
    assert_eq!(
        duel::app::update::attach::chips(&s.attached),
        ["📎 chart.png 412 KB", "📎 notes.md 10 B"]
    );
    // Taken back on an empty prompt, the newest first.
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::ALT)),
        Instant::now(),
    );
    assert_eq!(s.attached, std::slice::from_ref(&chart));
    // Alt+Backspace in a prompt edits it (a word back) and keeps the files.
    type_text(&mut s, "what is this");
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::ALT)),
        Instant::now(),
    );
    assert_eq!(s.input_text(), "what is ");
    assert_eq!(s.attached, std::slice::from_ref(&chart));

    // A file that could not be read says why and adds nothing.
    update(
        &mut s,
        Msg::Attached {
            path: "gone.png".into(),
            result: Err("gone.png: no such file".into()),
        },
        Instant::now(),
    );
    assert_eq!(s.attached, std::slice::from_ref(&chart));
    assert!(
        s.status
            .as_ref()
            .is_some_and(|st| st.text.contains("gone.png: no such file"))
    );

    type_text(&mut s, "that");
    let effects = update(&mut s, key(KeyCode::Enter), Instant::now());
    let started: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Start {
                request,
                generation,
                ..
            } => Some((request, *generation)),
            _ => None,
        })
        .collect();
    assert_eq!(started.len(), 2);
    let gens = [started[0].1, started[1].1];
    for (request, _) in started {
        let prompt = request.messages.last().expect("the prompt");
        assert_eq!(prompt.content, "what is that");
        assert_eq!(prompt.attachments, std::slice::from_ref(&chart));
        assert!(
            request.files.is_some(),
            "the request knows where the bytes are"
        );
    }
    assert!(s.attached.is_empty(), "the chips go with the prompt");
    assert_eq!(s.turns[0].attachments, std::slice::from_ref(&chart));

    finish_both(&mut s, gens);
    let effects = update(&mut s, alt('1'), Instant::now());
    assert_eq!(voted(&effects).attachments, [chart]);
}

/// The saved conversation keeps a turn's files by reference; resumed, the next
/// prompt sends them again with the history (the same SHA-256, so the same bytes from
/// the data dir), and a regenerate sends them again with the prompt.
#[test]
fn a_resumed_conversation_sends_its_files_again_with_the_history() {
    let mut s = state();
    let chart = attachment("chart.png", "image/png", 2048);
    attached(&mut s, &chart);
    let gens = send(&mut s, "what is this?");
    let effects = finish_after_text(&mut s, gens);
    let json = saved_json(&effects);
    assert_eq!(json["turns"][0]["attachments"][0]["sha256"], chart.sha256);
    assert!(
        !json.to_string().contains("base64"),
        "references only, never content"
    );

    let file: duel::conversation::ConversationFile = serde_json::from_value(json).unwrap();
    let mut resumed = state_resumed(file);
    type_text(&mut resumed, "and now?");
    let effects = update(&mut resumed, key(KeyCode::Enter), Instant::now());
    let requests: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Start { request, .. } => Some(request),
            _ => None,
        })
        .collect();
    assert_eq!(requests.len(), 2, "both sides: {effects:?}");
    for request in requests {
        let first = &request.messages[0];
        assert_eq!(first.content, "what is this?");
        assert_eq!(first.attachments, std::slice::from_ref(&chart));
        assert!(request.messages.last().unwrap().attachments.is_empty());
    }

    // A regenerate of a turn with files sends them again.
    let mut s = state();
    attached(&mut s, &chart);
    let gens = send(&mut s, "what is this?");
    finish_both(&mut s, gens);
    browse(&mut s);
    let effects = update(&mut s, key(KeyCode::Char('r')), Instant::now());
    let again = effects.iter().find_map(|e| match e {
        Effect::Start { request, .. } => Some(request),
        _ => None,
    });
    let prompt = again.expect("regenerated").messages.last().unwrap();
    assert_eq!(prompt.attachments, std::slice::from_ref(&chart));
}

/// The world's report that `file` was read and kept, typed as its name.
fn attached(state: &mut State, file: &duel::attachment::Attachment) {
    update(
        state,
        Msg::Attached {
            path: file.name.clone(),
            result: Ok(file.clone()),
        },
        Instant::now(),
    );
}

/// Both answers get text and end; the effects of the last event (the save).
fn finish_after_text(state: &mut State, gens: [u64; 2]) -> Vec<Effect> {
    event(state, Side::A, gens[0], StreamEvent::Text("a dot".into()));
    event(state, Side::B, gens[1], StreamEvent::Text("a pixel".into()));
    finish_after(state, gens)
}
