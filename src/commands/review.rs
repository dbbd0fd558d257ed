//! `duel review [RUN]`: the TUI on a run's pairs this judge has not voted on, one at
//! a time, blind; then what became of the session.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::{UsageError, terminal_theme, unsaved_votes};
use crate::app::State;
use crate::cli::Cli;
use crate::config::Config;
use crate::eval::queue::{self, LoadError};
use crate::text::{count, sanitize};
use crate::{say, terminal};

/// A run that is not there, or has nothing left to review, is said before the screen
/// changes.
pub fn review(cli: &Cli, config: &Config, wanted: &str, data_dir: PathBuf) -> anyhow::Result<u8> {
    let queue = match queue::load(&data_dir, wanted, &config.arena.judge) {
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
    let runtime = terminal::runtime()?;
    let votes_path = data_dir.join(queue.votes_file);
    let mut state = State::for_review(config, queue, data_dir, None);
    state.theme = theme_name;
    let state = runtime.block_on(terminal::on_terminal(state, theme))?;
    if let Some(code) = unsaved_votes(&state, &votes_path) {
        return code;
    }
    if let Some(review) = &state.review {
        let run = &review.queue.run;
        let now = review.voted_now();
        if now > 0 {
            say!(
                "{} this session, saved to {}",
                count(now, "vote", "votes"),
                votes_path.display()
            );
        }
        let duel = review.queue.duel();
        match review.left() {
            0 => say!(
                "all {} pairs of run {run} have your vote; see `{duel} stats --run {run}`",
                review.queue.total
            ),
            1 => {
                say!("1 pair of run {run} still waits for your vote: `{duel} review {run}` goes on")
            }
            left => say!(
                "{left} pairs of run {run} still wait for your vote: `{duel} review {run}` goes on"
            ),
        }
        if let Some(waiting) = review.queue.waiting_note() {
            say!("{waiting}");
        }
    }
    Ok(terminal::exit_code())
}
