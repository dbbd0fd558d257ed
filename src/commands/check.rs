//! `duel check RUN`: grades a run's stored answers against its suite's checks (SPEC
//! §9) without asking the models again. Only what changed is graded again (a check's
//! definition, the answer, a rubric's grader); graded checks are appended to the
//! run's `checks.jsonl` and synced (see `grade_and_keep`), so a check killed midway
//! grades only what is missing next time. Then the pass rates: per model with a Wilson
//! interval, per pair the exact McNemar test.

use std::io::{self, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::io::AsyncWriteExt;

use super::{UsageError, print_json, print_rows};
use crate::cli::CheckArgs;
use crate::config::{Config, ModelSpec};
use crate::cost::Prices;
use crate::domain::{Message, Role};
use crate::eval::batch::{self, Request, Retries};
use crate::eval::check::rates::PairTest;
use crate::eval::check::record::{self, CategoryRates, CheckRecord, ChecksReport, Task};
use crate::eval::check::{Graded, Kind, Outcome, grade};
use crate::eval::run::Run;
use crate::text::{count, sanitize};

/// How long a `command` check may run before it is killed and counted an error.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);

/// How many graded checks are written in one go at most: what the answer alone
/// decides is graded in microseconds, and one synced write per check cost more than
/// the grading.
const WRITE_EVERY: usize = 256;

/// Grades `tasks` in order and keeps every record on disk: checks graded in place are
/// written together (at most `WRITE_EVERY` at once), and everything graded is written
/// before a program or a grader is asked, so a kill loses at most what was graded
/// since the last write, never a grader's answer. A rubric without a grader is an
/// error, or with `leave_rubrics` left for a `duel check --grader` to grade. Returns
/// how many were graded.
pub async fn grade_and_keep(
    run: &Run,
    tasks: &[Task<'_>],
    grader: Option<&ModelSpec>,
    leave_rubrics: bool,
    prices: &Prices,
) -> anyhow::Result<usize> {
    let write = |records: &mut Vec<CheckRecord>| {
        let written = run
            .append_checks(records)
            .with_context(|| format!("writing the checks of run {}", run.info.id));
        records.clear();
        written
    };
    let grader_name = grader.map(|g| g.name.as_str());
    let record = |task: &Task<'_>, outcome| {
        CheckRecord::new(
            task,
            outcome,
            grader_name,
            jiff::Timestamp::now().to_string(),
        )
    };
    let mut graded = 0;
    let mut pending = Vec::new();
    let mut rubrics = Vec::new();
    for task in tasks {
        let slow = match (&task.check.kind, grader) {
            (Kind::Rubric(_), None) if leave_rubrics => continue,
            // Asked of the grader below, paced like any request.
            (Kind::Rubric(rubric), Some(_)) => {
                rubrics.push((task, rubric.as_str()));
                continue;
            }
            (Kind::Command(_), _) => true,
            _ => false,
        };
        if slow || pending.len() >= WRITE_EVERY {
            write(&mut pending)?;
        }
        pending.push(record(task, outcome(task, prices).await));
        if slow {
            write(&mut pending)?;
        }
        graded += 1;
    }
    write(&mut pending)?;
    if let Some(grader) = grader {
        graded += ask_grader(grader, &rubrics, |task, outcome| {
            write(&mut vec![record(task, task.check.settle(outcome))])
        })
        .await?;
    }
    Ok(graded)
}

/// The pass rates as a table: a header, then a row per model (text and the page).
pub fn rows(report: &ChecksReport) -> Vec<Vec<String>> {
    let mut table = vec![
        [
            "MODEL",
            "PASSED",
            "RATE",
            "95% CI",
            "SCORE",
            "ERRORS",
            "FAILED CHECKS",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for m in &report.models {
        table.push(vec![
            sanitize(&m.model),
            format!("{}/{}", m.passed, m.graded),
            m.rate.map_or("—".into(), percent),
            m.interval.map_or("—".into(), |(low, high)| {
                format!("{}–{}", percent(low), percent(high))
            }),
            m.score.map_or("—".into(), |s| format!("{s:.2}")),
            m.errors.to_string(),
            m.failures
                .iter()
                .map(|(kind, n)| format!("{kind} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    table
}

/// What the paired test says of two models, in one sentence.
pub fn pair_sentence(pair: &PairTest) -> String {
    format!(
        "{} vs {}: on {} graded for both, only {} passed {}, only {} passed {}; McNemar exact p = {:.3}{}",
        sanitize(&pair.a),
        sanitize(&pair.b),
        count(pair.items as usize, "item", "items"),
        sanitize(&pair.a),
        pair.only_a,
        sanitize(&pair.b),
        pair.only_b,
        pair.p_value,
        if pair.p_value < 0.05 {
            " (a real difference)"
        } else {
            " (could be chance)"
        }
    )
}

/// One category's pass rates on a line.
pub fn category_line(category: &CategoryRates) -> String {
    let rates: Vec<String> = category
        .models
        .iter()
        .map(|m| format!("{} {}/{}", sanitize(&m.model), m.passed, m.graded))
        .collect();
    format!("{}: {}", sanitize(&category.category), rates.join(" · "))
}

/// The model that grades `llm-rubric` checks: `--grader`, else `[check] grader`
/// (which `--demo` sets aside with the other configured models). Its key must be set.
pub fn grader(config: &Config, flag: Option<&str>) -> Result<Option<ModelSpec>, UsageError> {
    let (from, name) = match (flag, &config.check.grader) {
        (Some(name), _) => ("--grader", name),
        (None, Some(name)) if !config.set_aside.contains(name) => {
            ("[check] grader =", name.as_str())
        }
        _ => return Ok(None),
    };
    let model = config
        .require_model(from, name)
        .cloned()
        .map_err(UsageError)?;
    super::keys_set([&model])?;
    Ok(Some(model))
}

/// How many rubric requests go to the grader at once at most (its provider's `rpm`
/// and `concurrency` apply as well).
const GRADER_CONCURRENCY: usize = 4;

/// Asks `grader` for each rubric's verdict through the batch runner (paced by the
/// grader's `rpm` and `concurrency`, retried like any request), in two rounds: a
/// reply without a JSON verdict is asked once more, then it is an error, never a
/// pass. Each verdict is handed to `keep` as it comes. Returns how many were graded.
async fn ask_grader(
    grader: &ModelSpec,
    rubrics: &[(&Task<'_>, &str)],
    mut keep: impl FnMut(&Task<'_>, Outcome) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let mut open: Vec<usize> = (0..rubrics.len()).collect();
    let mut graded = 0;
    for last_round in [false, true] {
        if open.is_empty() {
            break;
        }
        let requests = open.iter().map(|&i| {
            let (task, rubric) = rubrics[i];
            Request {
                key: i,
                model: 0,
                messages: vec![Message::new(Role::User, rubric_prompt(task, rubric))],
                files: None,
            }
        });
        let mut running = batch::start(
            std::slice::from_ref(grader),
            requests,
            GRADER_CONCURRENCY,
            Retries::default(),
        );
        let mut again = Vec::new();
        while let Some(done) = running.done.recv().await {
            let task = rubrics[done.key].0;
            let outcome = match (&done.answer.state, parse_verdict(&done.answer.text)) {
                (crate::domain::AnswerState::Failed(e), _) => {
                    Outcome::error(format!("the grader failed: {e}"))
                }
                (_, Some(outcome)) => outcome,
                (_, None) if !last_round => {
                    again.push(done.key);
                    continue;
                }
                (_, None) => Outcome::error(format!(
                    "the grader answered no verdict twice: {:?}",
                    sanitize(&done.answer.text.chars().take(80).collect::<String>())
                )),
            };
            keep(task, outcome)?;
            graded += 1;
        }
        again.sort_unstable();
        open = again;
    }
    Ok(graded)
}

/// `duel check`.
pub async fn check(config: &Config, args: &CheckArgs, data_dir: &Path) -> anyhow::Result<u8> {
    let grader = grader(config, args.grader.as_deref())?;
    if let Some(only) = &args.only {
        let name = only.strip_prefix("not-").unwrap_or(only);
        if !crate::eval::check::TYPES.contains(&name) {
            return Err(UsageError(format!(
                "--only {only:?} is no check type; duel knows {}",
                crate::eval::check::TYPES.join(", ")
            ))
            .into());
        }
    }
    let team = crate::store::team(config, false)?;
    let run = crate::store::find_run(team.as_deref(), data_dir, &args.run).map_err(UsageError)?;
    let id = run.info.id.clone();
    let items = run
        .items()
        .map_err(|e| UsageError(format!("run {id}: {e}")))?;
    let (answers, _) = run
        .answers()
        .with_context(|| format!("reading the answers of run {id}"))?;
    let (records, _) = run
        .checks()
        .with_context(|| format!("reading the checks of run {id}"))?;
    let models = run.info.models.clone();
    let grader_name = grader.as_ref().map(|g| g.name.as_str());
    let todo = record::to_grade(
        &items,
        &answers,
        &models,
        &records,
        grader_name,
        args.only.as_deref(),
    );
    crate::say!(
        "checking run {id}: {} to grade{}",
        count(todo.len(), "check", "checks"),
        if records.is_empty() {
            String::new()
        } else {
            " (the rest graded before)".to_owned()
        }
    );
    let graded_now = grade_and_keep(&run, &todo, grader.as_ref(), false, &config.prices()).await?;
    crate::store::share_run(team.as_deref(), &run);
    let report = ChecksReport::of(&run, &items, graded_now, args.fail_under)?;
    if args.json {
        print_json(&report)?;
    } else {
        print_report(&mut io::stdout().lock(), &report)?;
    }
    Ok(u8::from(report.failed()))
}

/// One check's outcome, graded here or by a program; a rubric without a grader is an
/// error.
async fn outcome(task: &Task<'_>, prices: &Prices) -> Outcome {
    let side = &task.answer.side;
    let cost = prices
        .of_side(side, || task.item.sent_chars())
        .map(|c| c.amount);
    let graded = grade(task.check, side, task.item.reference.as_deref(), cost);
    let outcome = match graded {
        Graded::Done(outcome) => return outcome,
        Graded::Command(argv) => command(&argv, task).await,
        Graded::Rubric(_) => Outcome::error("an llm-rubric check needs a grader: --grader MODEL"),
    };
    task.check.settle(outcome)
}

/// Runs `argv` (no shell) with the answer on stdin and the item's id, the model and
/// the reference in its environment; exit 0 passes. Killed after 30 s.
async fn command(argv: &[String], task: &Task<'_>) -> Outcome {
    command_within(argv, task, COMMAND_LIMIT).await
}

async fn command_within(argv: &[String], task: &Task<'_>, limit: Duration) -> Outcome {
    let Some((program, args)) = argv.split_first() else {
        return Outcome::error("the command is empty");
    };
    let spawned = tokio::process::Command::new(program)
        .args(args)
        .env("DUEL_ITEM", &task.item.id)
        .env("DUEL_MODEL", &task.answer.side.model)
        .env(
            "DUEL_REFERENCE",
            task.item.reference.as_deref().unwrap_or_default(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return Outcome::error(format!("cannot run {program}: {e}")),
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A program that does not read its input is no error.
        let _ = stdin.write_all(task.answer.side.answer.as_bytes()).await;
    }
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Err(_) => Outcome::error(format!(
            "{program} ran longer than {} s and was killed",
            limit.as_secs()
        )),
        Ok(Err(e)) => Outcome::error(format!("{program}: {e}")),
        Ok(Ok(output)) if output.status.success() => {
            Outcome::pass(1.0, format!("{program} exited 0"))
        }
        Ok(Ok(output)) => {
            let said = String::from_utf8_lossy(&output.stderr);
            let said = sanitize(said.lines().next().unwrap_or_default());
            match output.status.code() {
                Some(code) => Outcome::fail(0.0, format!("{program} exited {code}: {said}")),
                None => Outcome::error(format!("{program} was ended by a signal")),
            }
        }
    }
}

/// What the grader is asked about one answer.
fn rubric_prompt(task: &Task<'_>, rubric: &str) -> String {
    format!(
        "You grade one answer against a rubric.\n\n[Question]\n{}\n\n[Answer]\n{}\n\n[Rubric]\n{rubric}\n\n\
         Reply with one JSON object and nothing else: {{\"pass\": true or false, \"score\": a number from 0 to 1, \"reason\": \"one sentence\"}}",
        task.item.prompt(),
        task.answer.side.answer,
    )
}

/// The first JSON object in `reply` with a boolean `pass`.
fn parse_verdict(reply: &str) -> Option<Outcome> {
    let starts = reply.char_indices().filter(|(_, c)| *c == '{');
    for (at, _) in starts {
        let mut values =
            serde_json::Deserializer::from_str(&reply[at..]).into_iter::<serde_json::Value>();
        let Some(Ok(value)) = values.next() else {
            continue;
        };
        let Some(pass) = value.get("pass").and_then(serde_json::Value::as_bool) else {
            continue;
        };
        let score = value
            .get("score")
            .and_then(serde_json::Value::as_f64)
            .filter(|s| (0.0..=1.0).contains(s))
            .unwrap_or(if pass { 1.0 } else { 0.0 });
        let reason = value
            .get("reason")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        return Some(if pass {
            Outcome::pass(score, reason)
        } else {
            Outcome::fail(score, reason)
        });
    }
    None
}

fn percent(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// The pass rates as a table, each pair's test, and the floor.
pub fn print_report(out: &mut impl Write, report: &ChecksReport) -> io::Result<()> {
    print_rows(out, &rows(report))?;
    let columns = super::stats::columns();
    for pair in &report.pairs {
        let line = format!("\n{}\n", pair_sentence(pair));
        write!(out, "{}", super::stats::wrap_prose(&line, columns))?;
    }
    if !report.by_category.is_empty() {
        writeln!(out)?;
    }
    for category in &report.by_category {
        writeln!(out, "{}", category_line(category))?;
    }
    if let Some(floor) = report.fail_under {
        match report.below.as_slice() {
            [] => writeln!(out, "\nevery model passes at least {}", percent(floor))?,
            below => writeln!(
                out,
                "\nbelow {}: {} (exit 1)",
                percent(floor),
                below
                    .iter()
                    .map(|m| sanitize(m))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::check::{Check, Checks, Verdict};
    use crate::eval::run::AnswerRecord;
    use crate::eval::suite::Item;
    use crate::votes::SideRecord;

    #[test]
    fn a_rubric_reply_is_read_where_it_has_a_verdict_and_garbage_is_none() {
        let pass = parse_verdict("Sure! {\"pass\": true, \"score\": 0.9, \"reason\": \"polite\"}")
            .unwrap();
        assert_eq!((pass.verdict, pass.score), (Verdict::Pass, 0.9));
        let fail = parse_verdict("```json\n{\"pass\": false, \"reason\": \"rude\"}\n```").unwrap();
        assert_eq!((fail.verdict, fail.score), (Verdict::Fail, 0.0));
        assert_eq!(parse_verdict("I think it passes."), None);
        assert_eq!(parse_verdict("{\"verdict\": \"pass\"}"), None);
        assert_eq!(parse_verdict("{\"pass\": \"yes\"}"), None);
    }

    /// An item with one command check, and an answer to it.
    fn task_parts(text: &str) -> (Item, AnswerRecord) {
        let check = Check::parse(
            &serde_json::json!({"type": "command", "value": ["x"]}),
            Path::new("."),
        )
        .unwrap();
        let item = Item {
            checks: Checks {
                list: vec![check],
                threshold: None,
            },
            reference: Some("ref".into()),
            ..Item::sample("q1")
        };
        let answer = AnswerRecord {
            item: "q1".into(),
            attachments: Vec::new(),
            side: SideRecord::sample("qwen", text, crate::domain::Finish::Stop),
        };
        (item, answer)
    }

    #[tokio::test]
    async fn a_command_reads_the_answer_and_its_exit_code_decides() {
        let (item, answer) = task_parts("Canberra");
        let tasks = record::tasks_of(&item, &answer);
        let task = &tasks[0];
        let sh = |script: &str| vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()];
        let grep = command(
            &sh(
                "grep -q Canberra && test \"$DUEL_ITEM/$DUEL_MODEL/$DUEL_REFERENCE\" = q1/qwen/ref",
            ),
            task,
        )
        .await;
        assert_eq!(grep.verdict, Verdict::Pass, "{}", grep.reason);
        let fail = command(&sh("echo no Sydney >&2; exit 3"), task).await;
        assert_eq!(fail.verdict, Verdict::Fail);
        assert!(
            fail.reason.contains("exited 3: no Sydney"),
            "{}",
            fail.reason
        );
        let missing = command(&["duel-no-such-program".to_owned()], task).await;
        assert_eq!(missing.verdict, Verdict::Error);
    }

    #[tokio::test]
    async fn a_command_that_hangs_is_killed_and_is_an_error() {
        let (item, answer) = task_parts("x");
        let tasks = record::tasks_of(&item, &answer);
        let task = &tasks[0];
        let started = std::time::Instant::now();
        let hung = command_within(
            &["sleep".into(), "30".into()],
            task,
            Duration::from_millis(300),
        )
        .await;
        assert_eq!(hung.verdict, Verdict::Error);
        assert!(hung.reason.contains("killed"), "{}", hung.reason);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
