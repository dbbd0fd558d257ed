//! `duel batch`: every item of a prompt suite answered by every model of the run, each
//! answer on disk the moment it finishes, so that a run stopped at any point resumes
//! by asking only for what is missing.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use super::UsageError;
use super::progress::{Finished, Lane, Progress};
use crate::attachment::Store;
use crate::cli::BatchArgs;
use crate::config::{Config, ModelSpec};
use crate::cost::Prices;
use crate::eval::batch::{self, Request, Retries};
use crate::eval::check::Kind;
use crate::eval::check::record::{ChecksReport, to_grade};
use crate::eval::outcomes::{ModelSummary, Outcomes};
use crate::eval::run::{AnswerRecord, Run, RunInfo, sha256_hex};
use crate::eval::suite::{self, Item};
use crate::votes::SideRecord;
use crate::votes::record::timestamp;

/// A run ready to go: its items, its models, and the answers it still needs.
struct Plan {
    run: Run,
    items: Vec<Item>,
    models: Vec<ModelSpec>,
    /// (item, model) indices still to ask, item by item.
    jobs: Vec<(usize, usize)>,
    /// Whether an existing run is being resumed.
    resumed: bool,
    tally: Outcomes,
    /// Checks graded as the answers came in.
    checked: usize,
}

/// `duel batch SUITE` / `duel batch --resume RUN`. `pair` is the TUI's pair (from
/// `--a`/`--b` or `[pair]`), used when `--models` is not given.
pub async fn batch(
    config: &Config,
    args: &BatchArgs,
    pair: [&ModelSpec; 2],
    pair_flags: bool,
    data_dir: &Path,
) -> anyhow::Result<u8> {
    if pair_flags && !args.models.is_empty() {
        return Err(UsageError("give either --a/--b or --models, not both".into()).into());
    }
    // A grader that cannot be used says so before anything is asked.
    let grader = super::check::grader(config, args.grader.as_deref())?;
    let mut plan = match &args.resume {
        Some(wanted) => resume(config, wanted, data_dir)?,
        None => new_or_same(config, args, pair, data_dir)?,
    };
    // The files the items attach are kept in the data dir before anything is asked:
    // the requests send them from there, and the run's records name them by SHA-256.
    let store = Store::new(data_dir);
    for item in &plan.items {
        item.keep_files(&store)
            .map_err(|e| anyhow::anyhow!("item {}: {e}", item.id))?;
    }
    plan.announce();
    let started = Instant::now();
    let mut progress = plan.progress();
    let requests = plan.jobs.iter().map(|&(item, model)| Request {
        key: item,
        model,
        messages: plan.items[item].messages.clone(),
        files: Some(store.clone()),
    });
    let running = batch::start(
        &plan.models,
        requests,
        args.concurrency as usize,
        Retries::default(),
    );
    let prices = config.prices();
    let team = crate::store::team(config, plan.run.is_demo())?;
    let mut sharing = team.clone().map(|store| Sharing::start(store, &plan.run));
    let (asked, mut stopped) = plan
        .collect(running, &mut progress, &prices, sharing.as_mut())
        .await?;
    progress.finish();
    if let (Some(grader), false) = (&grader, stopped) {
        tokio::select! {
            graded = plan.grade_rubrics(grader, &prices) => plan.checked += graded?,
            () = super::interrupted() => stopped = true,
        }
    }
    // The team's reviewers find the run in the store, done or stopped.
    crate::store::share_run(team.as_deref(), &plan.run);
    let rubrics_left = grader.is_none()
        && plan.items.iter().any(|i| {
            i.checks
                .list
                .iter()
                .any(|c| matches!(c.kind, Kind::Rubric(_)))
        });

    let Plan {
        run,
        items,
        models,
        tally,
        checked,
        ..
    } = plan;
    // The pass rates, where the suite has checks.
    let checks = if items.iter().any(|i| !i.checks.list.is_empty()) {
        Some(ChecksReport::of(&run, &items, checked, args.fail_under)?)
    } else {
        None
    };
    let id = &run.info.id;
    let summary = Summary {
        run: id,
        name: run.info.name.as_deref(),
        suite: &run.info.suite.display().to_string(),
        items: items.len(),
        asked,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        stopped,
        demo: run.is_demo(),
        models: tally.summaries(models.iter().map(|m| m.name.as_str()), &prices),
        checks,
        rubrics_left,
        currency: prices.currency.as_deref(),
        prices: &prices,
    };
    print_summary(&summary, args.json)?;
    let missing = summary
        .models
        .iter()
        .map(|m| items.len() - m.answered)
        .sum::<usize>();
    if stopped {
        crate::say!(
            "stopped: {} kept; `{} batch --resume {id}` asks for the {missing} still missing",
            crate::text::count(asked, "answer", "answers"),
            crate::config::duel_command(run.is_demo())
        );
        return Ok(130);
    }
    let below = summary.checks.as_ref().is_some_and(ChecksReport::failed);
    Ok(u8::from(missing > 0 || below))
}

impl Plan {
    /// Grades the run's `llm-rubric` checks not graded yet by `grader`, once every
    /// answer is in: through the batch runner, paced by the grader's provider like any
    /// request. Returns how many were graded.
    async fn grade_rubrics(&self, grader: &ModelSpec, prices: &Prices) -> anyhow::Result<usize> {
        let id = &self.run.info.id;
        let (answers, _) = self
            .run
            .answers()
            .with_context(|| format!("reading the answers of run {id}"))?;
        let (records, _) = self
            .run
            .checks()
            .with_context(|| format!("reading the checks of run {id}"))?;
        let todo = to_grade(
            &self.items,
            &answers,
            &self.run.info.models,
            &records,
            Some(&grader.name),
            Some("llm-rubric"),
        );
        if todo.is_empty() {
            return Ok(0);
        }
        crate::say!(
            "grading {} with {}",
            crate::text::count(todo.len(), "llm-rubric check", "llm-rubric checks"),
            grader.name
        );
        super::check::grade_and_keep(&self.run, &todo, Some(grader), false, prices).await
    }

    /// What is about to be asked, on stderr.
    fn announce(&self) {
        let id = &self.run.info.id;
        let all = self.items.len() * self.models.len();
        if self.resumed {
            crate::say!(
                "resuming run {id}: {} of {all} answers are missing",
                self.jobs.len()
            );
        } else {
            crate::say!(
                "run {id}: {} items × {} models = {} answers",
                self.items.len(),
                self.models.len(),
                self.jobs.len()
            );
        }
    }

    /// A lane per model, each starting from what the run already has; an item's group
    /// waits for its answers still to ask.
    fn progress(&self) -> Progress {
        let total = self.items.len() as u64;
        let lanes = self
            .models
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let left = self.jobs.iter().filter(|&&(_, j)| j == i).count() as u64;
                Lane {
                    name: m.name.clone(),
                    total,
                    done: total - left,
                }
            })
            .collect();
        let sizes = self
            .jobs
            .iter()
            .fold(HashMap::new(), |mut sizes, (item, _)| {
                *sizes.entry(*item).or_insert(0) += 1;
                sizes
            });
        Progress::new(lanes, sizes)
    }

    /// Takes in each answer as it finishes: appended to the run and synced, shown,
    /// counted. Ends when every answer is in or at Ctrl+C; says how many were asked
    /// and whether it was stopped.
    async fn collect(
        &mut self,
        mut running: batch::Running<usize>,
        progress: &mut Progress,
        prices: &Prices,
        mut sharing: Option<&mut Sharing>,
    ) -> anyhow::Result<(usize, bool)> {
        let mut asked = 0usize;
        // Made once: a signal that comes while an answer is being written still counts.
        let stop = super::interrupted();
        tokio::pin!(stop);
        loop {
            let done = tokio::select! {
                done = running.done.recv() => done,
                () = &mut stop => return Ok((asked, true)),
            };
            let Some(done) = done else {
                return Ok((asked, false));
            };
            let side = SideRecord::of(&done.answer, Some(done.history));
            let item = &self.items[done.key];
            let record = AnswerRecord {
                item: item.id.clone(),
                attachments: item.run_item().attachments.to_vec(),
                side: side.clone(),
            };
            self.run
                .append(&record)
                .with_context(|| {
                    format!(
                        "writing an answer to {}; every answer written before is kept: `{} batch --resume {}` goes on",
                        self.run.dir().display(),
                        crate::config::duel_command(self.run.is_demo()),
                        self.run.info.id
                    )
                })?;
            if let Some(sharing) = sharing.as_deref_mut() {
                sharing.add(&self.run, record);
            }
            asked += 1;
            // Its checks, as it is saved (rubrics wait for every answer, below).
            let answer = AnswerRecord {
                item: item.id.clone(),
                attachments: Vec::new(),
                side: side.clone(),
            };
            let tasks = crate::eval::check::record::tasks_of(item, &answer);
            self.checked +=
                super::check::grade_and_keep(&self.run, &tasks, None, true, prices).await?;
            progress.finished(Finished {
                lane: done.model,
                group: done.key,
                label: &format!("item {}", item.id),
                summary: match &prices.currency {
                    // What the answer cost, where its model has a price.
                    Some(_) => {
                        let cost = prices.show(prices.of_side(&side, || item.sent_chars()));
                        format!("{} {cost}", super::summary::one_line(&side))
                    }
                    None => super::summary::one_line(&side),
                },
                failed: side.error.is_some(),
                tokens: side.output_tokens.unwrap_or_default(),
            });
            self.tally.add(item, &side);
        }
    }
}

/// A batch's answers on their way to the team's store as they come, so reviewers can
/// start before the batch ends: a statement per [`Sharing::EVERY`] answers or
/// [`Sharing::WAIT`], never a round trip each. The run's folder stays the record a
/// resume reads; a store that cannot take them is said once and tried again at the
/// end (`share_run`), and `duel store push` can always copy the run later.
struct Sharing {
    store: std::sync::Arc<dyn duel_core::store::Store>,
    pending: Vec<AnswerRecord>,
    since: Instant,
    down: bool,
}

impl Sharing {
    const EVERY: usize = 200;
    const WAIT: std::time::Duration = std::time::Duration::from_secs(2);

    /// Puts the run itself in the store first, so reviewers find it.
    fn start(store: std::sync::Arc<dyn duel_core::store::Store>, run: &Run) -> Self {
        let mut sharing = Self {
            store,
            pending: Vec::new(),
            since: Instant::now(),
            down: false,
        };
        let saved = run
            .suite_copy()
            .map_err(duel_core::store::StoreError::from)
            .and_then(|suite| sharing.store.save_run(&run.info, &suite));
        sharing.said(run, saved);
        sharing
    }

    fn add(&mut self, run: &Run, answer: AnswerRecord) {
        self.pending.push(answer);
        if self.pending.len() >= Self::EVERY || self.since.elapsed() >= Self::WAIT {
            self.flush(run);
        }
    }

    fn flush(&mut self, run: &Run) {
        if self.down || self.pending.is_empty() {
            return;
        }
        let sent = self.store.append_answers(&run.info.id, &self.pending);
        if sent.is_ok() {
            self.pending.clear();
        }
        self.since = Instant::now();
        self.said(run, sent);
    }

    fn said(&mut self, run: &Run, result: Result<(), duel_core::store::StoreError>) {
        if let Err(e) = result {
            self.down = true;
            crate::say!(
                "warning: answers of run {} stay in the data dir for now: {e}",
                run.info.id
            );
        }
    }
}

/// A new run of `args.suite`, or the latest run of the same suite content, models and
/// name when it still misses answers: the same command again goes on where it stopped.
fn new_or_same(
    config: &Config,
    args: &BatchArgs,
    pair: [&ModelSpec; 2],
    data_dir: &Path,
) -> anyhow::Result<Plan> {
    let Some(path) = &args.suite else {
        return Err(UsageError("give a suite file, or --resume RUN".into()).into());
    };
    let models = models_to_ask(config, args, pair)?;
    super::keys_set(&models)?;
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError(format!("{}: cannot read the suite: {e}", path.display())))?;
    let items = suite::load(path).map_err(|e| UsageError(e.to_string()))?;
    let sha = sha256_hex(&bytes);
    let names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();

    let same = Run::list(data_dir)
        .with_context(|| format!("reading the runs in {}", data_dir.display()))?
        .into_iter()
        .rev()
        .find(|r| r.info.suite_sha256 == sha && r.info.models == names && r.info.name == args.name);
    if let Some(run) = same {
        let plan = plan(run, items, models, true)?;
        if plan.jobs.is_empty() {
            let id = &plan.run.info.id;
            return Err(UsageError(format!(
                "run {id} already has every answer of this suite from these models; look at it with `{duel} review {id}` or `{duel} judge {id} --with MODEL`, or start another with --name",
                duel = crate::config::duel_command(plan.run.is_demo())
            ))
            .into());
        }
        return Ok(plan);
    }

    let settings = settings(args, &models);
    let now = jiff::Timestamp::now();
    let info = RunInfo {
        id: fresh_id(data_dir, path, now),
        name: args.name.clone(),
        suite: path.clone(),
        suite_sha256: sha,
        models: names,
        settings,
        created: timestamp(now),
    };
    let run = Run::create(data_dir, info)
        .and_then(|run| run.keep_suite(&bytes).map(|()| run))
        .with_context(|| format!("creating the run in {}", data_dir.display()))?;
    plan(run, items, models, false)
}

/// The pair, or every model of `--models`: at least two, each once.
fn models_to_ask(
    config: &Config,
    args: &BatchArgs,
    pair: [&ModelSpec; 2],
) -> anyhow::Result<Vec<ModelSpec>> {
    let models: Vec<ModelSpec> = if args.models.is_empty() {
        pair.into_iter().cloned().collect()
    } else {
        args.models
            .iter()
            .map(|name| model(config, name, "--models"))
            .collect::<Result<_, _>>()?
    };
    if models.len() < 2 {
        return Err(UsageError("--models needs at least two models".into()).into());
    }
    for (i, m) in models.iter().enumerate() {
        if models[..i].iter().any(|other| other.name == m.name) {
            return Err(UsageError(format!(
                "{} is named twice: a batch compares different models",
                m.name
            ))
            .into());
        }
    }
    Ok(models)
}

/// What `run.json` keeps of how the run was asked: the concurrency, and each model's
/// provider, id and sampling settings.
fn settings(args: &BatchArgs, models: &[ModelSpec]) -> serde_json::Map<String, serde_json::Value> {
    let mut settings = serde_json::Map::new();
    settings.insert("concurrency".into(), args.concurrency.into());
    for m in models {
        settings.insert(
            m.name.clone(),
            serde_json::json!({
                "provider": m.provider,
                "model_id": m.model_id,
                "system": m.system,
                "temperature": m.temperature,
                "top_p": m.top_p,
                "max_tokens": m.max_tokens,
            }),
        );
    }
    settings
}

/// `--resume RUN`: the run's own items and models.
fn resume(config: &Config, wanted: &str, data_dir: &Path) -> anyhow::Result<Plan> {
    let run = Run::find(data_dir, wanted).map_err(|e| UsageError(format!("--resume: {e}")))?;
    let items = run
        .items()
        .map_err(|e| UsageError(format!("run {}: {e}", run.info.id)))?;
    let models = run
        .info
        .models
        .iter()
        .map(|name| model(config, name, &format!("run {}", run.info.id)))
        .collect::<Result<Vec<_>, _>>()?;
    super::keys_set(&models)?;
    if let Ok(bytes) = std::fs::read(&run.info.suite)
        && sha256_hex(&bytes) != run.info.suite_sha256
    {
        crate::say!(
            "note: {} changed since run {} began; the run goes on with its own copy",
            run.info.suite.display(),
            run.info.id
        );
    }
    plan(run, items, models, true)
}

fn plan(run: Run, items: Vec<Item>, models: Vec<ModelSpec>, resumed: bool) -> anyhow::Result<Plan> {
    let (answers, skipped) = run
        .answers()
        .with_context(|| format!("reading the answers of run {}", run.info.id))?;
    if !skipped.is_empty() {
        crate::say!(
            "note: {} in run {} (a write cut short); those answers are asked again",
            crate::text::count(skipped.len(), "unreadable line", "unreadable lines"),
            run.info.id
        );
    }
    let tally = Outcomes::of(&items, &answers);
    let index: HashMap<&str, usize> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let item_index: HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.id.as_str(), i))
        .collect();
    let jobs = run
        .missing(&items)
        .with_context(|| format!("reading the answers of run {}", run.info.id))?
        .into_iter()
        .filter_map(|(item, model)| {
            Some((item_index[item.id.as_str()], *index.get(model.as_str())?))
        })
        .collect();
    Ok(Plan {
        run,
        items,
        models,
        jobs,
        resumed,
        tally,
        checked: 0,
    })
}

fn model(config: &Config, name: &str, whose: &str) -> Result<ModelSpec, UsageError> {
    config
        .require_model(whose, name)
        .cloned()
        .map_err(UsageError)
}

/// `<suite name>-<yyyymmdd-hhmmss>`, made unique in the data dir.
fn fresh_id(data_dir: &Path, suite: &Path, now: jiff::Timestamp) -> String {
    let stem: String = suite
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(24)
        .collect();
    let stem = stem.trim_matches('-');
    let stem = if stem.is_empty() { "run" } else { stem };
    let base = format!("{stem}-{}", now.strftime("%Y%m%d-%H%M%S"));
    let runs = data_dir.join(crate::eval::run::RUNS_DIR);
    (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|id| !runs.join(id).exists())
        .unwrap_or(base)
}

/// What `duel batch` prints at the end, and `--json` prints as JSON.
#[derive(Serialize)]
struct Summary<'a> {
    run: &'a str,
    name: Option<&'a str>,
    suite: &'a str,
    items: usize,
    /// Answers asked for by this command.
    asked: usize,
    elapsed_ms: u64,
    /// Stopped by Ctrl+C before the end.
    stopped: bool,
    /// A run of the offline demo models (its votes go to the demo's log).
    demo: bool,
    models: Vec<ModelSummary>,
    /// The suite's checks on the run's answers, where it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<ChecksReport>,
    /// The suite has `llm-rubric` checks and no grader was given to grade them.
    #[serde(skip)]
    rubrics_left: bool,
    /// The currency the models' `cost` is in, where any has a price.
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<&'a str>,
    #[serde(skip)]
    prices: &'a Prices,
}

fn print_summary(summary: &Summary<'_>, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, summary)?;
        return writeln!(out);
    }
    writeln!(
        out,
        "run {} · {} · {} · {} asked in {:.1} s",
        summary.run,
        summary.suite,
        crate::text::count(summary.items, "item", "items"),
        crate::text::count(summary.asked, "answer", "answers"),
        summary.elapsed_ms as f64 / 1000.0
    )?;
    super::summary::print_table(&mut out, &summary.models, summary.items, summary.prices)?;
    if let Some(checks) = &summary.checks {
        if summary.rubrics_left {
            writeln!(
                out,
                "\nchecks (llm-rubric checks wait for a grader: `{} check {} --grader MODEL`, or `[check] grader` in the config):",
                crate::config::duel_command(summary.demo),
                summary.run
            )?;
        } else {
            writeln!(out, "\nchecks:")?;
        }
        super::check::print_report(&mut out, checks)?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "next: `{1} review {0}` to vote blind, `{1} judge {0} --with MODEL` for a model judge, `{1} stats --run {0}`",
        summary.run,
        crate::config::duel_command(summary.demo)
    )?;
    out.flush()
}
