//! Durability: a confirmed vote survives `kill -9`, two processes appending at once
//! never tear each other's lines, and a conversation file is never seen half-written.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common;
use common::tui::{Sandbox, Tui};
use duel::conversation::{self, ConversationFile, TurnRecord};
use duel::domain::Vote;
use duel::provider::Finish;
use duel::votes::{self, SideRecord, VoteRecord};

const WAIT: Duration = Duration::from_secs(15);

/// Set in the children of `two_processes_appending_at_once_keep_every_line`: the log
/// to write to, and the judge name that marks this writer's records.
const WRITER_LOG: &str = "DUEL_TEST_WRITER_LOG";
const WRITER_NAME: &str = "DUEL_TEST_WRITER_NAME";
const VOTES_PER_WRITER: u32 = 500;

fn side(model: &str, answer: &str) -> SideRecord {
    SideRecord {
        model: model.into(),
        provider: "mock".into(),
        model_id: model.into(),
        history: Some(Vec::new()),
        answer: answer.into(),
        reasoning: None,
        finish: Finish::Stop,
        error: None,
        ttft_ms: Some(10),
        total_ms: Some(20),
        input_tokens: Some(3),
        output_tokens: Some(4),
        output_tokens_estimate: None,
        cached_input_tokens: None,
        reasoning_tokens: None,
    }
}

fn record(judge: &str, turn: u32) -> VoteRecord {
    // A long answer makes each line span several pages, so a torn write would show.
    let answer = format!("{judge} turn {turn}: {}", "多行答案 ".repeat(400));
    VoteRecord {
        schema: 1,
        id: uuid::Uuid::new_v4(),
        time: "2026-11-23T18:53:46.123Z".into(),
        conversation: uuid::Uuid::new_v4(),
        turn,
        attempt: 1,
        vote: Vote::A,
        blind: false,
        judge: judge.into(),
        prompt: format!("prompt {turn}"),
        attachments: Vec::new(),
        a: side("alpha", &answer),
        b: side("beta", &answer),
        run: None,
        item: None,
        category: None,
        reason: None,
        verdicts: None,
    }
}

#[test]
fn a_vote_confirmed_on_screen_survives_kill_9() {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command(&["--demo"]);
    cmd.env("DUEL_DEMO_DELAY_MS", "1");
    let mut tui = Tui::spawn(cmd);
    tui.wait_for("offline demo", WAIT);
    tui.type_text("keep this vote");
    tui.send(b"\r");
    tui.wait_until("both demo answers done", WAIT, |s| {
        s.matches(" done ").count() == 2
    });
    tui.send(b"\x1b2"); // Alt+2: B is better
    tui.wait_for("vote saved", WAIT);
    // No chance to flush anything after the confirmation.
    tui.signal("KILL");
    tui.wait_exit(WAIT);

    let log = sandbox.data_dir().join(votes::log::DEMO_FILE_NAME);
    let text = std::fs::read_to_string(&log).expect("the vote log exists");
    assert!(text.ends_with('\n'), "the last line is whole: {text:?}");
    let (records, skipped) = votes::log::read(&log).expect("read the vote log");
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].vote, Vote::B);
    assert_eq!(records[0].prompt, "keep this vote");
    assert!(!records[0].a.answer.is_empty());

    // The conversation saved with the turn reads back whole too.
    let (saved, unreadable) = conversation::list(&sandbox.data_dir()).expect("list");
    assert!(unreadable.is_empty(), "{unreadable:?}");
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].id, records[0].conversation);
    assert_eq!(saved[0].turns[0].prompt, "keep this vote");
}

#[test]
fn a_vote_cut_short_by_a_full_disk_leaves_no_fragment_in_the_log() {
    let sandbox = Sandbox::new();
    let log = sandbox.data_dir().join(votes::log::DEMO_FILE_NAME);
    for turn in 1..=3 {
        votes::log::append(&log, &record("earlier", turn)).expect("prefill");
    }
    let before = std::fs::read(&log).expect("the log");
    // Room for about a kilobyte more: a vote on the demo's answers is several.
    let limit = (before.len() as u64 / 512 + 3) * 512;
    let mut cmd = sandbox.command_on_a_small_disk(limit, &["--demo"]);
    cmd.env("DUEL_DEMO_DELAY_MS", "1");
    let mut tui = Tui::spawn(cmd);
    tui.wait_for("offline demo", WAIT);
    tui.type_text("a vote the disk cannot hold");
    tui.send(b"\r");
    tui.wait_until("both demo answers done", WAIT, |s| {
        s.matches(" done ").count() == 2
    });
    tui.send(b"\x1b1");
    tui.wait_for("vote NOT saved yet", WAIT);
    // The log is as it was: whole records only, nothing torn in the middle.
    let now = std::fs::read(&log).expect("the log");
    assert!(
        now == before,
        "{} bytes before, {} now",
        before.len(),
        now.len()
    );
    tui.send(b"\x11");
    assert_eq!(
        tui.wait_exit(WAIT),
        1,
        "the vote is kept: printed, not lost"
    );
    // The retry at quit failed the same way, cleanly.
    let after = std::fs::read(&log).expect("the log");
    assert!(
        after == before,
        "{} bytes before, {} after",
        before.len(),
        after.len()
    );
    let (records, skipped) = votes::log::read(&log).expect("read");
    assert_eq!((records.len(), skipped.len()), (3, 0));
}

/// The writer half of the two-process test; does nothing unless run as its child.
#[test]
fn vote_writer_child() {
    let (Some(log), Some(name)) = (
        std::env::var_os(WRITER_LOG),
        std::env::var(WRITER_NAME).ok(),
    ) else {
        return;
    };
    let log = PathBuf::from(log);
    // Both writers start together, once the parent has spawned them both.
    let go = log.with_extension("go");
    let deadline = Instant::now() + WAIT;
    while !go.exists() {
        assert!(Instant::now() < deadline, "no go signal");
        std::thread::sleep(Duration::from_millis(1));
    }
    for turn in 1..=VOTES_PER_WRITER {
        votes::log::append(&log, &record(&name, turn)).expect("append a vote");
    }
}

fn spawn_writer(log: &Path, name: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "durability::vote_writer_child",
            "--test-threads=1",
            "--quiet",
        ])
        .env(WRITER_LOG, log)
        .env(WRITER_NAME, name)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn a writer process")
}

#[test]
fn two_processes_appending_at_once_keep_every_line() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let log = dir.path().join(votes::log::FILE_NAME);
    let mut writers = [spawn_writer(&log, "first"), spawn_writer(&log, "second")];
    std::fs::write(log.with_extension("go"), b"").expect("start the writers");
    for writer in &mut writers {
        let status = writer.wait().expect("wait for a writer");
        assert!(status.success(), "a writer failed: {status}");
    }

    let text = std::fs::read_to_string(&log).expect("read the log");
    assert_eq!(text.lines().count(), 2 * VOTES_PER_WRITER as usize);
    let (records, skipped) = votes::log::read(&log).expect("read the log");
    assert!(skipped.is_empty(), "torn lines: {skipped:?}");
    assert_eq!(records.len(), 2 * VOTES_PER_WRITER as usize);
    for name in ["first", "second"] {
        let turns: Vec<u32> = records
            .iter()
            .filter(|r| r.judge == name)
            .map(|r| r.turn)
            .collect();
        // Each writer's own lines stay in its order.
        assert_eq!(turns, (1..=VOTES_PER_WRITER).collect::<Vec<_>>(), "{name}");
    }
    let switches = records
        .windows(2)
        .filter(|w| w[0].judge != w[1].judge)
        .count();
    println!("the writers took turns {switches} times");
    for r in &records {
        assert_eq!(
            r,
            &VoteRecord {
                id: r.id,
                conversation: r.conversation,
                ..record(&r.judge, r.turn)
            }
        );
    }
}

#[test]
fn a_conversation_file_is_never_seen_half_written() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data_dir = dir.path().to_path_buf();
    let id = uuid::Uuid::new_v4();
    let path = conversation::path(&data_dir, id);
    let mut file = ConversationFile {
        schema: 1,
        id,
        created: "2026-11-23T18:53:46Z".into(),
        updated: "2026-11-23T18:53:46Z".into(),
        blind: false,
        turns: Vec::new(),
    };
    conversation::save(&data_dir, &file).expect("first save");

    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let done = Arc::clone(&done);
        let path = path.clone();
        std::thread::spawn(move || {
            let mut reads = 0u32;
            let mut longest = 0;
            while !done.load(Ordering::Acquire) {
                let loaded = conversation::load(&path)
                    .unwrap_or_else(|e| panic!("read {reads} failed: {e}"));
                assert_eq!(loaded.id, id);
                longest = longest.max(loaded.turns.len());
                reads += 1;
            }
            (reads, longest)
        })
    };

    let deadline = Instant::now() + Duration::from_secs(20);
    for turn in 1..=60u32 {
        let answer = format!("answer {turn} {}", "长".repeat(2000));
        file.turns.push(TurnRecord {
            turn,
            attempt: 1,
            time: "2026-11-23T18:53:47Z".into(),
            prompt: format!("prompt {turn}"),
            attachments: Vec::new(),
            vote: Some(Vote::Tie),
            a: side("alpha", &answer),
            b: side("beta", &answer),
            earlier: Vec::new(),
        });
        conversation::save(&data_dir, &file).expect("save");
        assert!(Instant::now() < deadline, "saving is too slow");
    }
    done.store(true, Ordering::Release);
    let (reads, longest) = reader.join().expect("every read parsed");
    assert!(reads > 0);
    assert!(longest <= 60);
    assert_eq!(conversation::load(&path).expect("final").turns.len(), 60);
    // No temp file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(data_dir.join(conversation::DIR_NAME))
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_vote_appended_after_a_torn_line_is_still_whole() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let log = dir.path().join(votes::log::FILE_NAME);
    votes::log::append(&log, &record("before", 1)).expect("append");
    // What a crash in the middle of a write leaves behind: half a line, no newline.
    let whole = serde_json::to_string(&record("torn", 2)).expect("json");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open the log");
    std::io::Write::write_all(&mut file, &whole.as_bytes()[..whole.len() / 2])
        .expect("write half a line");
    drop(file);

    votes::log::append(&log, &record("after", 3)).expect("append after the torn line");
    let (records, skipped) = votes::log::read(&log).expect("read the log");
    let judges: Vec<&str> = records.iter().map(|r| r.judge.as_str()).collect();
    assert_eq!(judges, ["before", "after"]);
    assert_eq!(
        skipped.len(),
        1,
        "only the torn line is skipped: {skipped:?}"
    );
    assert_eq!(skipped[0].line, 2);
}

/// The same conversation saved by two writers at once (one resumed in two terminals):
/// every read still parses, and the file ends as one writer's whole save.
#[test]
fn two_writers_saving_one_conversation_never_tear_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data_dir = dir.path().to_path_buf();
    let id = uuid::Uuid::new_v4();
    let path = conversation::path(&data_dir, id);
    let file_with = |turns: u32, who: &str| ConversationFile {
        schema: 1,
        id,
        created: "2026-11-23T18:53:46Z".into(),
        updated: "2026-11-23T18:53:46Z".into(),
        blind: false,
        turns: (1..=turns)
            .map(|turn| {
                let answer = format!("{who} {turn} {}", "长".repeat(3000));
                TurnRecord {
                    turn,
                    attempt: 1,
                    time: "2026-11-23T18:53:47Z".into(),
                    prompt: format!("prompt {turn}"),
                    attachments: Vec::new(),
                    vote: None,
                    a: side("alpha", &answer),
                    b: side("beta", &answer),
                    earlier: Vec::new(),
                }
            })
            .collect(),
    };
    conversation::save(&data_dir, &file_with(1, "first")).expect("first save");

    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let done = Arc::clone(&done);
        let path = path.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::Acquire) {
                conversation::load(&path).unwrap_or_else(|e| panic!("a torn read: {e}"));
            }
        })
    };
    let writers: Vec<_> = [("first", 8), ("second", 5)]
        .into_iter()
        .map(|(who, turns)| {
            let data_dir = data_dir.clone();
            let file = file_with(turns, who);
            std::thread::spawn(move || {
                for _ in 0..40 {
                    conversation::save(&data_dir, &file).expect("save");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("a writer");
    }
    done.store(true, Ordering::Release);
    reader.join().expect("every read parsed");
    let last = conversation::load(&path).expect("the final file");
    assert!(
        last == file_with(8, "first") || last == file_with(5, "second"),
        "the final file is one writer's whole save"
    );
}
