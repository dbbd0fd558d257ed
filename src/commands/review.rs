//! `duel review [RUN]`: the TUI on a run's pairs this judge has not voted on, one at
//! a time, blind; then what became of the session. On a team's store the pairs are
//! leased: each reviewer gets pairs no one else holds.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{UsageError, saved_to, terminal_theme, unsaved_votes};
use crate::app::State;
use crate::app::review_session::Team;
use crate::cli::Cli;
use crate::config::Config;
use crate::eval::queue::{self, LoadError, Queue};
use crate::text::{count, sanitize};
use crate::{say, terminal};
use duel_core::store::{Leases, Store};

/// A run that is not there, or has nothing left to review, is said before the screen
/// changes.
pub fn review(cli: &Cli, config: &Config, wanted: &str, data_dir: PathBuf) -> anyhow::Result<u8> {
    let store = crate::store::open(config, &data_dir, cli.demo)?;
    let judge = &config.arena.judge;
    let loaded = match store.leases() {
        None => queue::load(&data_dir, wanted, judge),
        Some(_) => team_queue(&*store, &data_dir, wanted, judge),
    };
    let mut queue = match loaded {
        Ok(queue) => queue,
        Err(e @ LoadError::Usage(_)) => return Err(UsageError(format!("review: {e}")).into()),
        Err(e) => anyhow::bail!("review: {e}"),
    };
    if let Some(text) = queue.nothing_left() {
        println!("{}", sanitize(&text));
        return Ok(0);
    }
    let (theme_name, theme) = terminal_theme(cli, config)?;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(UsageError(
            "duel review needs a terminal (standard input and output are not one)".into(),
        )
        .into());
    }
    // On a store, the first pair shown is one leased to this judge.
    let team = match store.leases() {
        None => None,
        Some(leases) => match first_lease(leases, &mut queue, judge)? {
            Ok(team) => Some(team),
            Err(text) => {
                println!("{}", sanitize(&text));
                return Ok(0);
            }
        },
    };
    let runtime = terminal::runtime()?;
    let votes_path = data_dir.join(queue.votes_file);
    let saved_to = saved_to(&*store, &votes_path);
    let mut state = State::for_review(config, queue, data_dir, None);
    if let Some(review) = &mut state.review {
        review.team = team;
    }
    state.theme = theme_name;
    let state = runtime.block_on(terminal::on_terminal(state, theme, Arc::clone(&store)))?;
    give_back(&*store, &state, judge);
    if let Some(code) = unsaved_votes(&state, &votes_path) {
        return code;
    }
    super::kept_locally(&state, &votes_path);
    if let Some(review) = &state.review {
        let run = &review.queue.run;
        let now = review.voted_now();
        if now > 0 {
            say!(
                "{} this session, saved to {saved_to}",
                count(now, "vote", "votes")
            );
        }
        let duel = review.queue.duel();
        if let (Some(leases), Some(_)) = (store.leases(), &review.team) {
            match leases.team(run, judge) {
                Ok(team) if team.left == 0 => {
                    say!(
                        "the team has voted on every pair of run {run}; see `{duel} stats --run {run}`"
                    );
                }
                Ok(team) => say!(
                    "{} of run {run} still wanted from the team: `{duel} review {run}` goes on",
                    count(usize::try_from(team.left).unwrap_or(0), "vote", "votes")
                ),
                Err(e) => say!("the store: {e}"),
            }
        } else {
            match review.left() {
                0 => say!(
                    "all {} pairs of run {run} have your vote; see `{duel} stats --run {run}`",
                    review.queue.total
                ),
                1 => {
                    say!(
                        "1 pair of run {run} still waits for your vote: `{duel} review {run}` goes on"
                    )
                }
                left => say!(
                    "{left} pairs of run {run} still wait for your vote: `{duel} review {run}` goes on"
                ),
            }
        }
        if let Some(waiting) = review.queue.waiting_note() {
            say!("{waiting}");
        }
    }
    Ok(terminal::exit_code())
}

/// The queue of a run on a team's store: the run copied into the data dir, the
/// judge's votes from the store, and the run's pairs offered for review.
fn team_queue(
    store: &dyn Store,
    data_dir: &Path,
    wanted: &str,
    judge: &str,
) -> Result<Queue, LoadError> {
    let run = crate::store::find_run(Some(store), data_dir, wanted).map_err(LoadError::Usage)?;
    let queue = queue::for_run(&run, judge, |_| {
        store.votes_on_run(&run.info.id).map_err(|e| e.to_string())
    })?;
    if let Some(leases) = store.leases() {
        // Every ready pair, voted or not, in the run's order: the store hands them out.
        let items = run.items().map_err(|e| LoadError::Failed(e.to_string()))?;
        let found = duel_core::eval::pairs::pairs(&run, &items)
            .map_err(|e| LoadError::Failed(e.to_string()))?;
        let names: Vec<String> = found
            .ready
            .iter()
            .map(|p| p.key(&run.info.id).within_run())
            .collect();
        leases
            .offer(&run.info.id, &names)
            .map_err(|e| LoadError::Failed(e.to_string()))?;
    }
    Ok(queue)
}

/// Leases the judge's first pair and puts it first; `Err(text)`: none is free now.
fn first_lease(
    leases: &dyn Leases,
    queue: &mut Queue,
    judge: &str,
) -> anyhow::Result<Result<Team, String>> {
    let run = queue.run.clone();
    let mut passed = Vec::new();
    loop {
        let pair = leases.lease(&run, judge, &passed)?;
        let progress = leases.team(&run, judge)?;
        let Some(pair) = pair else {
            let held = if progress.others.is_empty() {
                String::new()
            } else {
                format!("; {} hold pairs now", progress.others.join(", "))
            };
            return Ok(Err(format!(
                "no pair of run {run} is free for you now: {} wanted from the team{held}; try again later",
                count(usize::try_from(progress.left).unwrap_or(0), "vote", "votes")
            )));
        };
        match queue
            .entries
            .iter()
            .position(|e| e.key.within_run() == pair)
        {
            Some(i) => {
                queue.start = i;
                return Ok(Ok(Team {
                    holding: true,
                    passed,
                    progress,
                    asking: false,
                }));
            }
            None => {
                // A pair this machine has no answers for: back to the store.
                leases.release(&run, &pair, judge)?;
                passed.push(pair);
            }
        }
    }
}

/// A pair still held at quit goes back to the store for others at once.
fn give_back(store: &dyn Store, state: &State, judge: &str) {
    let (Some(leases), Some(review)) = (store.leases(), &state.review) else {
        return;
    };
    if review.team.as_ref().is_some_and(|t| t.holding)
        && review.mark().open()
        && let Some(pair) = review.current_pair()
    {
        let _ = leases.release(&review.queue.run, &pair, judge);
    }
}
