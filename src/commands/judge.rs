//! `duel judge RUN --with MODEL`: a configured model judges every pair of a run in
//! both orders. Each answer of the judge goes to the run's `judgments.jsonl` as it
//! arrives; once both orders of a pair have a verdict, one vote goes to the vote log
//! (a verdict that flips with the order is a tie). A stopped judging resumes where it
//! stopped, asking only for the orders still without a verdict.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use super::UsageError;
use super::progress::{Finished, Lane, Progress};
use crate::attachment::{Attachment, Input, Kind, Store};
use crate::cli::JudgeArgs;
use crate::config::{Config, ModelSpec, TEMPLATE_NEEDS, duel_command};
use crate::domain::{Message, Role};
use crate::eval::batch::{self, Done, Request, Retries};
use crate::eval::judge::{self, Answered, DEFAULT_TEMPLATE, Judging, Order, Summary};
use crate::eval::pairs;
use crate::text::count;
use crate::votes::{SideRecord, Stamp, log};

/// `duel judge`.
pub async fn judge(config: &Config, args: &JudgeArgs, data_dir: &Path) -> anyhow::Result<u8> {
    let model = config
        .require_model("--with", &args.with)
        .cloned()
        .map_err(UsageError)?;
    super::keys_set([&model])?;
    let template = template(config, args)?;
    let team = crate::store::team(config, false)?;
    let run = crate::store::find_run(team.as_deref(), data_dir, &args.run).map_err(UsageError)?;
    // A demo run's votes stay in the data dir.
    let team = team.filter(|_| !run.is_demo());
    let items = run
        .items()
        .map_err(|e| UsageError(format!("run {}: {e}", run.info.id)))?;
    let found = pairs::pairs(&run, &items)
        .with_context(|| format!("reading the answers of run {}", run.info.id))?;
    let judge_name = format!("llm:{}", model.name);
    if run.info.models.contains(&model.name) {
        crate::say!(
            "note: {} judges its own answers; a model judge tends to favour its own (self-enhancement bias), so a third model is the fairer judge",
            model.name
        );
    }
    let id = run.info.id.clone();
    let files = Files {
        votes: data_dir.join(pairs::votes_file(&found.ready)),
        data_dir: data_dir.to_path_buf(),
        team: team.clone(),
        judgments: judge::judgments_path(run.dir()),
        attachments: Store::new(data_dir),
    };
    let votes = match &team {
        Some(store) => store.votes_on_run(&id)?,
        None => {
            log::read(&files.votes)
                .with_context(|| format!("reading {}", files.votes.display()))?
                .0
        }
    };
    let voted = pairs::voted_by(&votes, &judge_name);
    drop(votes);
    let said = judge::record(run.dir(), &id, &judge_name)
        .with_context(|| format!("reading the judgments of run {id}"))?;

    let mut judging = Judging::new(&judge_name, &id, found.ready, &voted, &said);
    judging.summary.waiting = found.waiting;
    judging.summary.demo = run.is_demo();
    // Pairs judged in both orders before a stop get their vote without a request.
    for i in judging.decided() {
        files.vote(&mut judging, i)?;
    }
    let round = judging.first_round();

    let started = Instant::now();
    crate::say!(
        "{judge_name} judges run {id}: {} in both orders, {}{}",
        count(judging.open.len(), "pair", "pairs"),
        count(round.len(), "request", "requests"),
        if judging.summary.judged_before > 0 {
            format!(" ({} judged before)", judging.summary.judged_before)
        } else {
            String::new()
        }
    );
    let mut progress = progress(&judge_name, &round);
    ask(
        &model,
        &template,
        args,
        &mut judging,
        round,
        &files,
        &mut progress,
    )
    .await?;
    progress.finish();
    let summary = judging.summary;
    print(&summary, args.json, started)?;
    if summary.stopped {
        crate::say!(
            "stopped: every verdict so far is kept; the same command goes on where it stopped"
        );
        return Ok(130);
    }
    Ok(u8::from(summary.failed > 0 || summary.given_up > 0))
}

/// The judge's request for a pair: the item's files go with it where the judge takes
/// them (images to a judge that sees them; text files and PDFs as for any model); an
/// image it cannot see is named before the judging prompt instead, so it knows the
/// answers may speak of something it was not shown.
fn judge_message(judge: &ModelSpec, pair: &pairs::Pair, text: String) -> Message {
    let files = pair.item.run_item().attachments;
    let (seen, unseen): (Vec<Attachment>, Vec<Attachment>) = files
        .iter()
        .cloned()
        .partition(|a| a.kind() != Kind::Image || judge.takes(Input::Image));
    let text = if unseen.is_empty() {
        text
    } else {
        let names: Vec<&str> = unseen.iter().map(|a| a.name.as_str()).collect();
        format!(
            "[The user's prompt came with {} you cannot see: {}. Judge the answers on what you can check.]\n\n{text}",
            if unseen.len() == 1 {
                "an image"
            } else {
                "images"
            },
            names.join(", ")
        )
    };
    Message::new(Role::User, text).with_attachments(seen)
}

/// One lane for the judge, each pair's group waiting for the orders still to ask.
fn progress(judge_name: &str, round: &[(usize, Order)]) -> Progress {
    let mut sizes = std::collections::HashMap::new();
    for &(i, _) in round {
        *sizes.entry(i).or_insert(0) += 1;
    }
    Progress::new(
        vec![Lane {
            name: judge_name.to_owned(),
            total: round.len() as u64,
            done: 0,
        }],
        sizes,
    )
}

/// Asks the judge for every order of `round`, taking in each answer as it comes; a
/// second round asks again the orders whose first answer held no verdict. Ctrl+C
/// stops it, with `summary.stopped` set.
async fn ask(
    model: &ModelSpec,
    template: &str,
    args: &JudgeArgs,
    judging: &mut Judging,
    mut round: Vec<(usize, Order)>,
    files: &Files,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    let stop = super::interrupted();
    tokio::pin!(stop);
    while !round.is_empty() && !judging.summary.stopped {
        let requests: Vec<Request<(usize, Order)>> = round
            .iter()
            .map(|&(i, order)| {
                let pair = &judging.open[i].pair;
                let text = judge::prompt(template, pair, order);
                Request {
                    key: (i, order),
                    model: 0,
                    messages: vec![judge_message(model, pair, text)],
                    files: Some(files.attachments.clone()),
                }
            })
            .collect();
        let mut again = Vec::new();
        let mut running = batch::start(
            std::slice::from_ref(model),
            requests,
            args.concurrency as usize,
            Retries::default(),
        );
        loop {
            let done = tokio::select! {
                done = running.done.recv() => done,
                () = &mut stop => { judging.summary.stopped = true; break }
            };
            let Some(done) = done else { break };
            again.extend(files.take(judging, done, progress)?);
        }
        round = again;
    }
    Ok(())
}

/// Where a judging's verdicts and votes go.
struct Files {
    votes: PathBuf,
    data_dir: PathBuf,
    /// The team's store its votes go to, when there is one.
    team: Option<std::sync::Arc<dyn duel_core::store::Store>>,
    judgments: PathBuf,
    /// Where the files of the items' prompts are kept.
    attachments: Store,
}

impl Files {
    /// Takes in one answer of the judge: keeps it in `judgments.jsonl`, and votes once
    /// both orders of its pair have a verdict. Returns the order to ask once more when
    /// the answer held no verdict for the first time.
    fn take(
        &self,
        judging: &mut Judging,
        done: Done<(usize, Order)>,
        progress: &mut Progress,
    ) -> anyhow::Result<Option<(usize, Order)>> {
        let (i, order) = done.key;
        let side = SideRecord::of(&done.answer, None);
        let took = judging.take(i, order, &side, jiff::Timestamp::now());
        log::append_jsonl(&self.judgments, std::slice::from_ref(&took.judgment))
            .with_context(|| format!("writing to {}", self.judgments.display()))?;
        let words = match &took.answered {
            Answered::Verdict(v) => format!("order {order}: {}", v.mark()),
            Answered::Failed(e) => format!("order {order} failed: {e}"),
            Answered::AskAgain => return Ok(Some((i, order))),
            Answered::GivenUp => format!("order {order}: no verdict, given up"),
        };
        let pair = &judging.open[i].pair;
        let label = format!(
            "item {} ({} vs {})",
            pair.item.id, pair.models[0], pair.models[1]
        );
        progress.finished(Finished {
            lane: 0,
            group: i,
            label: &label,
            summary: words,
            failed: !matches!(took.answered, Answered::Verdict(_)),
            tokens: side.output_tokens.unwrap_or_default(),
        });
        if took.decided {
            self.vote(judging, i)?;
        }
        Ok(None)
    }

    /// Writes the vote of open pair `i`, judged in both orders.
    fn vote(&self, judging: &mut Judging, i: usize) -> anyhow::Result<()> {
        let record = judging
            .vote(i, uuid::Uuid::new_v4(), Stamp::now())
            .context("a pair was voted on before both orders had a verdict")?;
        let Some(store) = &self.team else {
            log::append(&self.votes, &record)
                .with_context(|| format!("writing a vote to {}", self.votes.display()))?;
            return Ok(());
        };
        let kept =
            crate::store::keep_votes(&**store, &self.data_dir, std::slice::from_ref(&record))
                .map_err(|e| anyhow::anyhow!("writing a vote: {e}"))?;
        if let crate::store::Kept::Local(why) = kept {
            crate::say!(
                "warning: a vote went to {}, not to the store ({why}); `duel store push` sends it",
                self.votes.display()
            );
        }
        Ok(())
    }
}

/// `--template FILE`, else `[judge] template`, else the built-in one.
fn template(config: &Config, args: &JudgeArgs) -> Result<String, UsageError> {
    let Some(path) = &args.template else {
        return Ok(config
            .judge
            .template
            .clone()
            .unwrap_or_else(|| DEFAULT_TEMPLATE.to_owned()));
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("--template {}: {e}", path.display())))?;
    let missing: Vec<&str> = TEMPLATE_NEEDS
        .into_iter()
        .filter(|p| !text.contains(p))
        .collect();
    if !missing.is_empty() {
        return Err(UsageError(format!(
            "--template {}: lacks {}: the judge must see the prompt and both answers",
            path.display(),
            missing.join(", ")
        )));
    }
    Ok(text)
}

fn print(summary: &Summary, json: bool, started: Instant) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, summary)?;
        return writeln!(out);
    }
    writeln!(
        out,
        "{} judged {} of {} of run {} ({} this time, {} in {:.1} s)",
        summary.judge,
        summary.judged,
        count(summary.pairs, "pair", "pairs"),
        summary.run,
        summary.judged - summary.judged_before,
        count(summary.asked, "request", "requests"),
        started.elapsed().as_secs_f64()
    )?;
    let wins: Vec<String> = summary
        .wins
        .iter()
        .map(|(m, n)| format!("{m} {n}"))
        .collect();
    if !wins.is_empty() || summary.ties > 0 {
        writeln!(
            out,
            "this time: {} · ties {} ({} of them from a verdict that flipped with the order)",
            if wins.is_empty() {
                "no wins".to_owned()
            } else {
                wins.join(" · ")
            },
            summary.ties,
            summary.flipped
        )?;
    }
    if summary.unparsed > 0 || summary.given_up > 0 {
        writeln!(
            out,
            "{} held no [[A]]/[[B]]/[[C]] verdict; {} given up after asking twice (see judgments.jsonl in the run's folder)",
            count(summary.unparsed, "answer", "answers"),
            count(summary.given_up, "pair", "pairs")
        )?;
    }
    if summary.failed > 0 {
        writeln!(
            out,
            "{} failed: run the same command again to ask again",
            count(summary.failed, "request", "requests")
        )?;
    }
    if summary.waiting > 0 {
        writeln!(
            out,
            "pairs still waiting for an answer: {}; `{} batch --resume {}`",
            summary.waiting,
            duel_command(summary.demo),
            summary.run
        )?;
    }
    writeln!(
        out,
        "next: `{1} stats --run {0}` for the leaderboard, `{1} stats --run {0} --agreement` to compare judges",
        summary.run,
        duel_command(summary.demo)
    )?;
    out.flush()
}
