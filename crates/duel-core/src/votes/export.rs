//! `duel export` (SPEC §6): the vote log as a preference dataset (`dpo`), as
//! FastChat battles (`arena`), or as a flat table (`csv`).

use std::io::{self, Write};

use serde::Serialize;

use super::style::{BoldCount, HeaderCount, ListCount, answer_tokens, markdown_counts};
use super::{SideRecord, VoteRecord, language};
use crate::domain::Vote;
use crate::domain::{Message, Role};

/// What an export writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON line per decisive vote (prompt / chosen / rejected, as TRL reads).
    Dpo,
    /// One JSON array of battles, as FastChat's leaderboard scripts read them.
    Arena,
    /// One row per vote with the scalar fields.
    Csv,
}

/// What an export wrote and what it left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub records: usize,
    /// `dpo`: ties and both-bad votes, which have no chosen side.
    pub undecided: usize,
    /// `dpo`: decisive votes where a side failed or was stopped (see [`whole`]).
    pub failed: usize,
}

/// Writes `records` in `format`. `dpo` writes only decisive votes, and of those only
/// the ones where both answers are whole unless `include_failed`; `arena` and `csv`
/// write every vote.
pub fn write(
    records: &[VoteRecord],
    format: Format,
    include_failed: bool,
    out: &mut impl Write,
) -> io::Result<Written> {
    let records_written = |records| Written {
        records,
        ..Written::default()
    };
    match format {
        Format::Dpo => write_dpo(records, include_failed, out),
        Format::Arena => write_arena(records, out).map(records_written),
        Format::Csv => write_csv(records, out).map(records_written),
    }
}

#[derive(Serialize)]
struct DpoLine {
    prompt: Vec<Message>,
    chosen: [Message; 1],
    rejected: [Message; 1],
}

fn dpo_line(record: &VoteRecord) -> Option<DpoLine> {
    let (chosen, rejected) = match record.vote {
        Vote::A => (&record.a, &record.b),
        Vote::B => (&record.b, &record.a),
        Vote::Tie | Vote::BothBad => return None,
    };
    // The chosen side's history (system included): what produced the chosen answer.
    let mut prompt = chosen.history.clone().unwrap_or_default();
    // The files of the prompt by reference, as everywhere (never their bytes).
    prompt.push(
        Message::new(Role::User, record.prompt.clone())
            .with_attachments(record.attachments.clone()),
    );
    let assistant = |side: &SideRecord| [Message::new(Role::Assistant, side.answer.clone())];
    Some(DpoLine {
        prompt,
        chosen: assistant(chosen),
        rejected: assistant(rejected),
    })
}

fn write_dpo(
    records: &[VoteRecord],
    include_failed: bool,
    out: &mut impl Write,
) -> io::Result<Written> {
    let mut written = Written::default();
    for record in records {
        let Some(line) = dpo_line(record) else {
            written.undecided += 1;
            continue;
        };
        if record.failed() && !include_failed {
            written.failed += 1;
            continue;
        }
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
        written.records += 1;
    }
    Ok(written)
}

/// One battle in FastChat's `clean_battle` shape.
#[derive(Serialize)]
struct ArenaBattle<'a> {
    question_id: String,
    model_a: &'a str,
    model_b: &'a str,
    winner: &'static str,
    judge: &'a str,
    conversation_a: Vec<Message>,
    conversation_b: Vec<Message>,
    turn: u32,
    anony: bool,
    /// The prompt's language, for FastChat's `--category chinese|english`.
    language: &'static str,
    /// `None` only for a record whose `time` is not RFC 3339.
    tstamp: Option<f64>,
    conv_metadata: ConvMetadata,
}

/// The style features FastChat's `--style-control` reads, of this turn's answer of
/// each side (FastChat sums over every turn; a vote here judges one turn).
#[derive(Serialize)]
struct ConvMetadata {
    sum_assistant_a_tokens: u64,
    header_count_a: HeaderCount,
    list_count_a: ListCount,
    bold_count_a: BoldCount,
    sum_assistant_b_tokens: u64,
    header_count_b: HeaderCount,
    list_count_b: ListCount,
    bold_count_b: BoldCount,
    turns: u32,
}

fn conv_metadata(record: &VoteRecord) -> ConvMetadata {
    let a = markdown_counts(&record.a.answer);
    let b = markdown_counts(&record.b.answer);
    ConvMetadata {
        sum_assistant_a_tokens: answer_tokens(&record.a),
        header_count_a: a.headers,
        list_count_a: a.lists,
        bold_count_a: a.bold,
        sum_assistant_b_tokens: answer_tokens(&record.b),
        header_count_b: b.headers,
        list_count_b: b.lists,
        bold_count_b: b.bold,
        turns: record.turn,
    }
}

fn winner(vote: Vote) -> &'static str {
    match vote {
        Vote::A => "model_a",
        Vote::B => "model_b",
        Vote::Tie => "tie",
        Vote::BothBad => "tie (bothbad)",
    }
}

/// Unix seconds, with the milliseconds, of an RFC 3339 time.
fn unix_seconds(time: &str) -> Option<f64> {
    let at: jiff::Timestamp = time.parse().ok()?;
    Some(at.as_millisecond() as f64 / 1000.0)
}

/// The side's whole conversation up to this answer, without the system prompt:
/// FastChat's battle conversations hold only user and assistant turns.
fn conversation(side: &SideRecord, record: &VoteRecord) -> Vec<Message> {
    let mut messages: Vec<Message> = side
        .history
        .iter()
        .flatten()
        .filter(|m| m.role != Role::System)
        .cloned()
        .collect();
    messages.push(
        Message::new(Role::User, record.prompt.clone())
            .with_attachments(record.attachments.clone()),
    );
    messages.push(Message::new(Role::Assistant, side.answer.clone()));
    messages
}

fn arena_battle(record: &VoteRecord) -> ArenaBattle<'_> {
    ArenaBattle {
        // A run's item is one question, whoever judged it.
        question_id: match (&record.run, &record.item) {
            (Some(run), Some(item)) => format!("{run}/{item}"),
            _ => record.id.to_string(),
        },
        model_a: &record.a.model,
        model_b: &record.b.model,
        winner: winner(record.vote),
        judge: &record.judge,
        conversation_a: conversation(&record.a, record),
        conversation_b: conversation(&record.b, record),
        turn: record.turn,
        anony: record.blind,
        language: language::detect(&record.prompt),
        tstamp: unix_seconds(&record.time),
        conv_metadata: conv_metadata(record),
    }
}

fn write_arena(records: &[VoteRecord], out: &mut impl Write) -> io::Result<usize> {
    // One battle per line inside the array: valid JSON that still diffs and greps well.
    write!(out, "[")?;
    for (i, record) in records.iter().enumerate() {
        write!(out, "{}", if i == 0 { "\n" } else { ",\n" })?;
        serde_json::to_writer(&mut *out, &arena_battle(record))?;
    }
    writeln!(out, "{}]", if records.is_empty() { "" } else { "\n" })?;
    Ok(records.len())
}

const SIDE_COLUMNS: [&str; 8] = [
    "model",
    "provider",
    "model_id",
    "finish",
    "ttft_ms",
    "total_ms",
    "input_tokens",
    "output_tokens",
];

/// After both sides' columns, so scripts that read the columns by position still work.
const ERROR_COLUMNS: [&str; 2] = ["error_a", "error_b"];

/// The CSV header: the record's scalar fields, each side's with `_a`/`_b`, the two
/// sides' errors, then the prompt.
fn csv_header() -> Vec<String> {
    let mut header: Vec<String> = [
        "id",
        "time",
        "conversation",
        "turn",
        "attempt",
        "vote",
        "blind",
        "judge",
    ]
    .map(String::from)
    .to_vec();
    for suffix in ["a", "b"] {
        header.extend(SIDE_COLUMNS.iter().map(|c| format!("{c}_{suffix}")));
    }
    header.extend(ERROR_COLUMNS.map(String::from));
    header.push("prompt".into());
    header.extend(EVAL_COLUMNS.map(String::from));
    header
}

/// A batch run's fields, last (after the prompt) so that older columns keep their
/// places; empty for a chat vote. Then the names of the files sent with the prompt
/// (`; ` between them).
const EVAL_COLUMNS: [&str; 6] = [
    "run",
    "item",
    "category",
    "reason",
    "verdicts",
    "attachments",
];

fn side_cells(side: &SideRecord) -> [String; 8] {
    let number = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    [
        side.model.clone(),
        side.provider.clone(),
        side.model_id.clone(),
        side.finish.as_str().to_owned(),
        number(side.ttft_ms),
        number(side.total_ms),
        number(side.input_tokens),
        number(side.output_tokens),
    ]
}

fn vote_name(vote: Vote) -> &'static str {
    match vote {
        Vote::A => "a",
        Vote::B => "b",
        Vote::Tie => "tie",
        Vote::BothBad => "both_bad",
    }
}

/// RFC 4180 as the `csv` crate writes it: a cell with a comma, quote or line break is
/// quoted, quotes doubled; lines end with `\n`.
fn write_csv(records: &[VoteRecord], out: &mut impl Write) -> io::Result<usize> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(csv_header())?;
    for r in records {
        let mut cells = vec![
            r.id.to_string(),
            r.time.clone(),
            r.conversation.to_string(),
            r.turn.to_string(),
            r.attempt.to_string(),
            vote_name(r.vote).to_owned(),
            r.blind.to_string(),
            r.judge.clone(),
        ];
        cells.extend(side_cells(&r.a));
        cells.extend(side_cells(&r.b));
        cells.extend([&r.a, &r.b].map(|side| side.error.clone().unwrap_or_default()));
        cells.push(r.prompt.clone());
        cells.extend(
            [&r.run, &r.item, &r.category, &r.reason].map(|v| v.clone().unwrap_or_default()),
        );
        cells.push(
            r.verdicts
                .as_ref()
                .map(|v| v.iter().map(|v| v.letter()).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
        );
        cells.push(
            r.attachments
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        );
        csv.write_record(&cells)?;
    }
    csv.flush()?;
    Ok(records.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Finish;
    use crate::domain::Verdict;

    fn side(model: &str, answer: &str, history: Vec<Message>) -> SideRecord {
        SideRecord {
            model: model.into(),
            provider: "dashscope".into(),
            model_id: format!("{model}-id"),
            history: Some(history),
            answer: answer.into(),
            reasoning: None,
            finish: Finish::Stop,
            error: None,
            ttft_ms: Some(312),
            total_ms: None,
            input_tokens: Some(20),
            output_tokens: Some(512),
            output_tokens_estimate: None,
            cached_input_tokens: None,
            reasoning_tokens: None,
        }
    }

    fn record(vote: Vote) -> VoteRecord {
        let history = |answer: &str| {
            vec![
                Message::new(Role::System, "be brief"),
                Message::new(Role::User, "first"),
                Message::new(Role::Assistant, answer),
            ]
        };
        VoteRecord {
            schema: 1,
            id: uuid::Uuid::new_v4(),
            time: "2026-11-23T18:53:46.123Z".into(),
            conversation: uuid::Uuid::new_v4(),
            turn: 2,
            attempt: 1,
            vote,
            blind: true,
            judge: "alice".into(),
            prompt: "second, with \"quotes\"\nand a line".into(),
            attachments: Vec::new(),
            a: side("qwen-plus", "answer A", history("first A")),
            b: side("ernie-4.5", "answer B", history("first B")),
            run: None,
            item: None,
            category: None,
            reason: None,
            verdicts: None,
        }
    }

    fn export(records: &[VoteRecord], format: Format) -> (usize, String) {
        let mut out = Vec::new();
        let written = write(records, format, false, &mut out).unwrap();
        (written.records, String::from_utf8(out).unwrap())
    }

    #[test]
    fn dpo_has_decisive_votes_with_the_chosen_sides_history() {
        let records = [Vote::A, Vote::Tie, Vote::B, Vote::BothBad].map(record);
        let (n, text) = export(&records, Format::Dpo);
        assert_eq!(n, 2);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let first = &lines[0];
        assert_eq!(first.as_object().unwrap().len(), 3);
        assert_eq!(
            first["prompt"],
            serde_json::json!([
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "first A"},
                {"role": "user", "content": "second, with \"quotes\"\nand a line"},
            ])
        );
        assert_eq!(
            first["chosen"],
            serde_json::json!([{"role": "assistant", "content": "answer A"}])
        );
        assert_eq!(
            first["rejected"],
            serde_json::json!([{"role": "assistant", "content": "answer B"}])
        );
        // A vote for B: B's history and answer are chosen.
        assert_eq!(lines[1]["prompt"][2]["content"], "first B");
        assert_eq!(lines[1]["chosen"][0]["content"], "answer B");
        assert_eq!(lines[1]["rejected"][0]["content"], "answer A");
    }

    #[test]
    fn dpo_leaves_out_votes_where_a_side_failed_or_was_stopped() {
        let failed = |finish: Finish, error: Option<&str>| {
            let mut r = record(Vote::A);
            r.b.finish = finish;
            r.b.error = error.map(String::from);
            r
        };
        let mut cut_short = record(Vote::B);
        cut_short.b.finish = Finish::Length;
        let mut errored_but_stopped = record(Vote::B);
        errored_but_stopped.a.error = Some("stream broke".into());
        let records = [
            failed(Finish::Error, Some("HTTP 500")),
            failed(Finish::Cancelled, None),
            failed(Finish::Filtered, None),
            errored_but_stopped,
            cut_short,
            record(Vote::Tie),
            record(Vote::A),
        ];
        let mut out = Vec::new();
        let written = write(&records, Format::Dpo, false, &mut out).unwrap();
        assert_eq!(
            written,
            Written {
                records: 2,
                undecided: 1,
                failed: 4,
            }
        );
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);

        let mut out = Vec::new();
        let written = write(&records, Format::Dpo, true, &mut out).unwrap();
        assert_eq!((written.records, written.failed), (6, 0));
        let first: serde_json::Value =
            serde_json::from_str(std::str::from_utf8(&out).unwrap().lines().next().unwrap())
                .unwrap();
        assert_eq!(first["rejected"][0]["content"], "answer B");
    }

    #[test]
    fn arena_is_one_array_of_fastchat_battles() {
        let records = [Vote::A, Vote::B, Vote::Tie, Vote::BothBad].map(record);
        let (n, text) = export(&records, Format::Arena);
        assert_eq!(n, 4);
        let battles: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        let winners: Vec<&str> = battles
            .iter()
            .map(|b| b["winner"].as_str().unwrap())
            .collect();
        assert_eq!(winners, ["model_a", "model_b", "tie", "tie (bothbad)"]);
        let b = &battles[0];
        assert_eq!(b["model_a"], "qwen-plus");
        assert_eq!(b["model_b"], "ernie-4.5");
        assert_eq!(b["turn"], 2);
        assert_eq!(b["anony"], true);
        assert_eq!(b["judge"], "alice");
        assert_eq!(b["question_id"], records[0].id.to_string());
        assert_eq!(b["tstamp"].as_f64(), Some(1_795_460_026.123));
        assert_eq!(
            b["conversation_a"],
            serde_json::json!([
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "first A"},
                {"role": "user", "content": "second, with \"quotes\"\nand a line"},
                {"role": "assistant", "content": "answer A"},
            ])
        );
        assert_eq!(b["conversation_b"][3]["content"], "answer B");
        assert_eq!(b["language"], "English");
        assert_eq!(b["conv_metadata"]["sum_assistant_a_tokens"], 512);
        assert_eq!(b["conv_metadata"]["turns"], 2);
        let (_, empty) = export(&[], Format::Arena);
        assert_eq!(
            serde_json::from_str::<Vec<serde_json::Value>>(&empty).unwrap(),
            Vec::<serde_json::Value>::new()
        );
    }

    #[test]
    fn arena_battles_carry_fastchats_language_and_style_features() {
        let mut r = record(Vote::A);
        r.prompt = "用三句话介绍一下长城".into();
        r.a.answer = "## 长城\n\n1. **秦朝**开始修建\n2. 明朝重修\n\n```\n# 注释\n- x\n```".into();
        r.a.output_tokens = None;
        r.b.answer = "# Great Wall\n- one\n- two\n  - __three__".into();
        let (_, text) = export(&[r], Format::Arena);
        let battles: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(battles[0]["language"], "Chinese");
        let no_headers = |level: &str| {
            let mut headers =
                serde_json::json!({"h1": 0, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0});
            if !level.is_empty() {
                headers[level] = 1.into();
            }
            headers
        };
        assert_eq!(
            battles[0]["conv_metadata"],
            serde_json::json!({
                // No reported count: 14 ideographs, and 32 other characters (the
                // Markdown, spaces, breaks and fences) make 8.
                "sum_assistant_a_tokens": 22,
                "header_count_a": no_headers("h2"),
                "list_count_a": {"ordered": 2, "unordered": 0},
                "bold_count_a": {"**": 1, "__": 0},
                "sum_assistant_b_tokens": 512,
                "header_count_b": no_headers("h1"),
                "list_count_b": {"ordered": 0, "unordered": 3},
                "bold_count_b": {"**": 0, "__": 1},
                "turns": 2,
            })
        );
    }

    #[test]
    fn unix_seconds_reads_rfc3339() {
        assert_eq!(unix_seconds("1970-01-01T00:00:01.500Z"), Some(1.5));
        assert_eq!(unix_seconds("yesterday"), None);
    }

    /// A small RFC 4180 reader, enough to check what the writer wrote.
    fn parse_csv(text: &str) -> Vec<Vec<String>> {
        let mut rows = vec![];
        let (mut row, mut cell) = (vec![], String::new());
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => cell.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut cell)),
                (false, '\n') => {
                    row.push(std::mem::take(&mut cell));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => cell.push(c),
            }
        }
        rows
    }

    #[test]
    fn a_run_s_vote_keeps_its_item_as_the_question_and_its_judge_s_fields() {
        let mut r = record(Vote::A);
        r.run = Some("suite-20261129-031421".into());
        r.item = Some("math-2".into());
        r.category = Some("reasoning".into());
        r.reason = Some("A shows its steps.".into());
        r.verdicts = Some(vec![Verdict::A, Verdict::B]);
        let (_, text) = export(std::slice::from_ref(&r), Format::Arena);
        let battles: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(battles[0]["question_id"], "suite-20261129-031421/math-2");
        let (_, text) = export(&[r], Format::Csv);
        let rows = parse_csv(&text);
        let tail: Vec<&str> = rows[1]
            .iter()
            .rev()
            .take(6)
            .rev()
            .map(String::as_str)
            .collect();
        assert_eq!(
            tail,
            [
                "suite-20261129-031421",
                "math-2",
                "reasoning",
                "A shows its steps.",
                "A B",
                ""
            ]
        );
    }

    /// The files of a prompt: named in the CSV, by reference in the user message of
    /// arena battles and of dpo prompts, never their content.
    #[test]
    fn exports_name_a_prompt_s_files_by_reference() {
        let mut r = record(Vote::A);
        let file = |name: &str, media_type: &str| crate::attachment::Attachment {
            name: name.into(),
            media_type: media_type.into(),
            bytes: 10,
            sha256: "ab".repeat(32),
        };
        r.attachments = vec![
            file("chart.png", "image/png"),
            file("spec.md", "text/markdown"),
        ];
        let (_, text) = export(std::slice::from_ref(&r), Format::Csv);
        let rows = parse_csv(&text);
        assert_eq!(
            rows[1].last().map(String::as_str),
            Some("chart.png; spec.md")
        );
        let reference = serde_json::json!({
            "name": "chart.png", "media_type": "image/png", "bytes": 10, "sha256": "ab".repeat(32)
        });
        let (_, text) = export(std::slice::from_ref(&r), Format::Arena);
        let battles: serde_json::Value = serde_json::from_str(&text).unwrap();
        let user = &battles[0]["conversation_a"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .nth(1)
            .unwrap();
        assert_eq!(user["attachments"][0], reference);
        let (_, text) = export(&[r], Format::Dpo);
        let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        let prompt = line["prompt"].as_array().unwrap().last().unwrap();
        assert_eq!(prompt["attachments"][0], reference);
        assert_eq!(prompt["attachments"][1]["name"], "spec.md");
    }

    #[test]
    fn csv_has_a_header_and_quotes_what_needs_it() {
        let mut r = record(Vote::BothBad);
        r.prompt = "a, b \"c\"\nd".into();
        r.b.finish = Finish::Error;
        r.b.error = Some("HTTP 429: rate limited, retry later".into());
        let (n, text) = export(&[r.clone()], Format::Csv);
        assert_eq!(n, 1);
        assert!(text.contains("\"a, b \"\"c\"\"\nd\""), "{text}");
        let rows = parse_csv(&text);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].join(","),
            "id,time,conversation,turn,attempt,vote,blind,judge,\
             model_a,provider_a,model_id_a,finish_a,ttft_ms_a,total_ms_a,input_tokens_a,output_tokens_a,\
             model_b,provider_b,model_id_b,finish_b,ttft_ms_b,total_ms_b,input_tokens_b,output_tokens_b,\
             error_a,error_b,prompt,run,item,category,reason,verdicts,attachments"
        );
        let row: std::collections::HashMap<&str, &str> = rows[0]
            .iter()
            .map(String::as_str)
            .zip(rows[1].iter().map(String::as_str))
            .collect();
        assert_eq!(row["id"], r.id.to_string());
        assert_eq!(row["time"], "2026-11-23T18:53:46.123Z");
        assert_eq!(row["turn"], "2");
        assert_eq!(row["vote"], "both_bad");
        assert_eq!(row["blind"], "true");
        assert_eq!(row["model_b"], "ernie-4.5");
        assert_eq!(row["model_id_a"], "qwen-plus-id");
        assert_eq!(row["finish_a"], "stop");
        assert_eq!(row["ttft_ms_a"], "312");
        assert_eq!(row["total_ms_a"], "");
        assert_eq!(row["output_tokens_b"], "512");
        assert_eq!(row["finish_b"], "error");
        assert_eq!(row["error_a"], "");
        assert_eq!(row["error_b"], "HTTP 429: rate limited, retry later");
        assert_eq!(row["prompt"], "a, b \"c\"\nd");
    }
}
