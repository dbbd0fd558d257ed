//! `duel judge RUN --with MODEL`: a configured model judges every pair of a run in
//! both orders. Each answer of the judge goes to the run's `judgments.jsonl` as it
//! arrives; once both orders of a pair have a verdict, one vote goes to the vote log
//! (a verdict that flips with the order is a tie). A stopped judging resumes where it
//! stopped, asking only for the orders still without a verdict.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use super::UsageError;
use super::progress::{Finished, Lane, Progress};
use crate::cli::JudgeArgs;
use crate::config::{Config, TEMPLATE_NEEDS, duel_command};
use crate::domain::{Message, Role, Vote};
use crate::eval::agreement::{Verdict, both_orders};
use crate::eval::batch::{self, Done, Request, Retries};
use crate::eval::judge::{self, DEFAULT_TEMPLATE, Judgment, MAX_UNPARSED};
use crate::eval::pairs::{self, Pair};
use crate::eval::run::Run;
use crate::text::count;
use crate::votes::log;
use crate::votes::record::{SCHEMA, timestamp};
use crate::votes::{SideRecord, VoteRecord};

/// What this command did, printed at the end (`--json`: as JSON).
#[derive(Debug, Default, Serialize)]
struct Summary {
    run: String,
    judge: String,
    /// Pairs the run has ready to judge.
    pairs: usize,
    /// Pairs with this judge's vote, before and after this command.
    judged_before: usize,
    judged: usize,
    /// Requests sent to the judge by this command.
    asked: usize,
    /// Among the votes this command wrote: verdicts per model (wins), ties, and ties
    /// that came from a verdict flipping with the order.
    wins: BTreeMap<String, usize>,
    ties: usize,
    flipped: usize,
    /// Answers of the judge that held no verdict (each such order is asked once more).
    unparsed: usize,
    /// Pairs given up: an order twice without a verdict.
    given_up: usize,
    /// Requests that failed (asked again by the next `duel judge`).
    failed: usize,
    /// Pairs still waiting for an answer from `duel batch`.
    waiting: usize,
    stopped: bool,
    /// A run of the offline demo models (its votes go to the demo's log).
    demo: bool,
}

/// `duel judge`.
pub async fn judge(config: &Config, args: &JudgeArgs, data_dir: &Path) -> anyhow::Result<u8> {
    let model = config
        .require_model("--with", &args.with)
        .cloned()
        .map_err(UsageError)?;
    super::keys_set([&model])?;
    let template = template(config, args)?;
    let run = Run::find(data_dir, &args.run).map_err(UsageError)?;
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
    let votes_path = data_dir.join(pairs::votes_file(&found.ready));
    let (votes, _) =
        log::read(&votes_path).with_context(|| format!("reading {}", votes_path.display()))?;
    let voted = pairs::voted_by(&votes, &judge_name);
    drop(votes);
    let said = judge::record(run.dir(), &id, &judge_name)
        .with_context(|| format!("reading the judgments of run {id}"))?;

    let mut summary = Summary {
        run: id.clone(),
        judge: judge_name.clone(),
        pairs: found.ready.len(),
        waiting: found.waiting,
        demo: run.is_demo(),
        ..Summary::default()
    };
    // Each pair still to vote on, with what is known of its two orders.
    let mut open: Vec<Open> = Vec::new();
    for pair in found.ready {
        let key = pair.key(&id);
        if voted.contains(&key) {
            summary.judged_before += 1;
            continue;
        }
        let known = [1u8, 2].map(|order| said.verdicts.get(&(key.clone(), order)).cloned());
        let tries = [1u8, 2].map(|order| {
            said.unparsed
                .get(&(key.clone(), order))
                .copied()
                .unwrap_or(0)
        });
        if tries.iter().any(|&n| n >= MAX_UNPARSED) && known.iter().any(Option::is_none) {
            summary.given_up += 1;
            continue;
        }
        open.push(Open { pair, known, tries });
    }
    summary.judged = summary.judged_before;

    let mut judging = Judging {
        judge: judge_name.clone(),
        run: id.clone(),
        votes_path,
        judgments_path: judge::judgments_path(run.dir()),
        open,
        summary,
    };
    // Pairs judged in both orders before a stop get their vote without a request.
    for i in 0..judging.open.len() {
        if judging.open[i].known.iter().all(Option::is_some) {
            judging.cast(i)?;
        }
    }
    judging.open.retain(|o| o.known.iter().any(Option::is_none));

    let started = Instant::now();
    let mut round: Vec<(usize, u8)> = judging
        .open
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            (1u8..=2)
                .filter(move |&order| o.known[usize::from(order - 1)].is_none())
                .map(move |order| (i, order))
        })
        .collect();
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
    let mut sizes = std::collections::HashMap::new();
    for &(i, _) in &round {
        *sizes.entry(i).or_insert(0) += 1;
    }
    let mut progress = Progress::new(
        vec![Lane {
            name: judge_name.clone(),
            total: round.len() as u64,
            done: 0,
        }],
        sizes,
    );
    let stop = super::interrupted();
    tokio::pin!(stop);
    // A second round asks again the orders whose first answer held no verdict.
    while !round.is_empty() && !judging.summary.stopped {
        let requests: Vec<Request<(usize, u8)>> = round
            .iter()
            .map(|&(i, order)| Request {
                key: (i, order),
                model: 0,
                messages: vec![Message::new(
                    Role::User,
                    judge::prompt(&template, &judging.open[i].pair, order),
                )],
            })
            .collect();
        let mut again = Vec::new();
        let mut running = batch::start(
            std::slice::from_ref(&model),
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
            again.extend(judging.take(done, &mut progress)?);
        }
        drop(running);
        round = again;
    }
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

/// A judging under way: the pairs still open, where their verdicts and votes go, and
/// what has happened so far.
struct Judging {
    judge: String,
    run: String,
    votes_path: PathBuf,
    judgments_path: PathBuf,
    open: Vec<Open>,
    summary: Summary,
}

impl Judging {
    /// Takes in one answer of the judge: keeps it in `judgments.jsonl`, and votes once
    /// both orders of its pair have a verdict. Returns the order to ask once more when
    /// the answer held no verdict for the first time.
    fn take(
        &mut self,
        done: Done<(usize, u8)>,
        progress: &mut Progress,
    ) -> anyhow::Result<Option<(usize, u8)>> {
        self.summary.asked += 1;
        let (i, order) = done.key;
        let side = SideRecord::of(&done.answer, None);
        let verdict = match side.error {
            None => Verdict::parse(&side.answer),
            Some(_) => None,
        };
        let o = &mut self.open[i];
        let judgment = Judgment {
            judge: self.judge.clone(),
            item: o.pair.item.id.clone(),
            models: o.pair.models.clone(),
            order,
            verdict: verdict.map(|v| judge::spell(v).to_owned()),
            text: side.answer.clone(),
            finish: side.finish,
            error: side.error.clone(),
            time: timestamp(jiff::Timestamp::now()),
        };
        log::append_jsonl(&self.judgments_path, std::slice::from_ref(&judgment))
            .with_context(|| format!("writing to {}", self.judgments_path.display()))?;
        let slot = usize::from(order - 1);
        let words = match (verdict, &side.error) {
            (Some(v), _) => {
                o.known[slot] = Some((v, side.answer.clone()));
                format!("order {order}: [[{}]]", judge::spell(v))
            }
            (None, Some(e)) => {
                self.summary.failed += 1;
                format!("order {order} failed: {e}")
            }
            (None, None) => {
                self.summary.unparsed += 1;
                o.tries[slot] += 1;
                if o.tries[slot] < MAX_UNPARSED {
                    return Ok(Some((i, order)));
                }
                // Counted once per pair, when its first order is given up.
                if o.tries[1 - slot] < MAX_UNPARSED {
                    self.summary.given_up += 1;
                }
                format!("order {order}: no verdict, given up")
            }
        };
        let label = format!(
            "item {} ({} vs {})",
            o.pair.item.id, o.pair.models[0], o.pair.models[1]
        );
        progress.finished(Finished {
            lane: 0,
            group: i,
            label: &label,
            summary: words,
            failed: verdict.is_none(),
            tokens: side.output_tokens.unwrap_or_default(),
        });
        if o.known.iter().all(Option::is_some) {
            self.cast(i)?;
        }
        Ok(None)
    }

    /// Writes the vote of open pair `i`, judged in both orders.
    fn cast(&mut self, i: usize) -> anyhow::Result<()> {
        let open = &self.open[i];
        let record = vote_record(open, &self.judge, &self.run)?;
        log::append(&self.votes_path, &record)
            .with_context(|| format!("writing a vote to {}", self.votes_path.display()))?;
        tally(&mut self.summary, &record, &open.pair);
        self.summary.judged += 1;
        Ok(())
    }
}

/// A pair still to vote on: its two orders' verdicts so far (with the judge's text),
/// and how many answers of each held no verdict.
struct Open {
    pair: Pair,
    known: [Option<(Verdict, String)>; 2],
    tries: [usize; 2],
}

/// The vote of a pair judged in both orders: `a` is the pair's first model, shown as
/// A in the first order.
fn vote_record(open: &Open, judge: &str, run: &str) -> anyhow::Result<VoteRecord> {
    let [Some((first, text)), Some((second, _))] = &open.known else {
        anyhow::bail!("a pair was voted on before both orders had a verdict");
    };
    let vote = match both_orders(*first, *second) {
        Verdict::A => Vote::A,
        Verdict::B => Vote::B,
        Verdict::Tie => Vote::Tie,
    };
    let pair = &open.pair;
    Ok(VoteRecord {
        schema: SCHEMA,
        id: uuid::Uuid::new_v4(),
        time: timestamp(jiff::Timestamp::now()),
        conversation: uuid::Uuid::new_v4(),
        turn: 1,
        attempt: 1,
        vote,
        // The judge never sees which model wrote which answer.
        blind: true,
        judge: judge.to_owned(),
        prompt: pair.item.prompt().to_owned(),
        a: pair.answers[0].clone(),
        b: pair.answers[1].clone(),
        run: Some(run.to_owned()),
        item: Some(pair.item.id.clone()),
        category: pair.item.category.clone(),
        reason: Some(judge::reason(text)),
        verdicts: Some(vec![
            judge::spell(*first).to_owned(),
            judge::spell(*second).to_owned(),
        ]),
    })
}

fn tally(summary: &mut Summary, record: &VoteRecord, pair: &Pair) {
    match record.vote {
        Vote::A => *summary.wins.entry(pair.models[0].clone()).or_default() += 1,
        Vote::B => *summary.wins.entry(pair.models[1].clone()).or_default() += 1,
        Vote::Tie | Vote::BothBad => {
            summary.ties += 1;
            let flipped = record
                .verdicts
                .as_ref()
                .is_some_and(|v| v.iter().any(|s| s != "C"));
            summary.flipped += usize::from(flipped);
        }
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
