//! `duel` with no command: the chat. Everything that can be wrong (the pair, the
//! theme, a conversation to resume, a battle's pool, no terminal) is said before the
//! screen changes.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::{UsageError, pair, saved_to, terminal_theme, unsaved_votes};
use crate::app::State;
use crate::app::state::{Battle, Setup};
use crate::cli::Cli;
use crate::config::{self, Config, ModelSpec};
use crate::text::count;
use crate::{conversation, say, terminal, theme};

/// How many files attached in earlier sessions the path line offers.
const RECENT_PATHS: usize = 20;

/// The chat: the pair from `--a`/`--b`, else the models that wrote a resumed
/// conversation, else `[pair]`; blind mode, a battle, or a conversation reopened.
pub fn chat(cli: &Cli, config: &Config, data_dir: PathBuf) -> anyhow::Result<u8> {
    let resumed = match &cli.resume {
        Some(wanted) => Some(
            resumable(config, &data_dir, wanted, cli)
                .map_err(|e| UsageError(format!("--resume: {e}")))?,
        ),
        None => None,
    };
    let written_by = resumed
        .as_ref()
        .and_then(conversation::ConversationFile::models);
    let pair = pair(
        config,
        cli.a.as_deref().or(written_by.map(|[a, _]| a)),
        cli.b.as_deref().or(written_by.map(|[_, b]| b)),
    )?;
    let (theme_name, theme) = terminal_theme(cli, config)?;
    let battle = if cli.battle {
        Some(battle_pool(config).map_err(UsageError)?)
    } else {
        None
    };
    let setup = Setup {
        blind: cli.blind,
        battle,
        seed: None,
    };
    let mut state = State::new(config, pair.clone(), data_dir, setup);
    // The path line (Ctrl+O) offers the files attached in earlier sessions.
    state.recent_paths = crate::attachment::Store::new(&state.data_dir).recent(RECENT_PATHS);
    state.theme = theme_name;
    if let Some(file) = resumed {
        state.resume(file, pair);
    }
    state.themes = theme::list(config::config_dir().as_deref())
        .into_iter()
        .map(|t| t.name)
        .collect();
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(UsageError(
            "the chat needs a terminal (standard input and output are not one); for scripts use `duel ask`".into(),
        )
        .into());
    }
    let store = crate::store::open(config, &state.data_dir, cli.demo)?;
    terminal::runtime()?.block_on(tui(state, theme, store))
}

/// Runs the chat on the real terminal and always gives the terminal back; then says
/// where the votes went.
async fn tui(
    state: State,
    theme: theme::Theme,
    store: std::sync::Arc<dyn duel_core::store::Store>,
) -> anyhow::Result<u8> {
    let votes_path = state.data_dir.join(state.votes_file);
    let saved_to = saved_to(&*store, &votes_path);
    let state = terminal::on_terminal(state, theme, store).await?;
    if let Some(code) = unsaved_votes(&state, &votes_path) {
        return code;
    }
    let voted: usize = state.turns.iter().map(crate::domain::Turn::votes).sum();
    if voted > 0 {
        say!(
            "{} in the last conversation, saved to {saved_to}",
            count(voted, "vote", "votes"),
        );
    }
    super::kept_locally(&state, &votes_path);
    Ok(terminal::exit_code())
}

/// The saved conversation `wanted` names, if duel can go on with it here: a demo
/// conversation only under `--demo` and a real one only without it (else the demo's
/// answers would be sent to real models as their history, or the other way round),
/// and only while the models that wrote it are configured.
fn resumable(
    config: &Config,
    data_dir: &Path,
    wanted: &str,
    cli: &Cli,
) -> Result<conversation::ConversationFile, String> {
    let demo = cli.demo;
    let file = conversation::find(data_dir, wanted, demo)?;
    let id = file.id.to_string();
    let short = id.get(..8).unwrap_or(&id);
    match (file.is_demo(), demo) {
        (true, false) => {
            return Err(format!(
                "conversation {short} is with the offline demo models; reopen it with `duel --demo --resume {short}`"
            ));
        }
        (false, true) => {
            return Err(format!(
                "conversation {short} is not with the demo models; reopen it without --demo: `duel --resume {short}`"
            ));
        }
        _ => {}
    }
    if let Some([a, b]) = file.models() {
        // A side that --a or --b gives goes on with that model instead.
        let missing: Vec<&str> = [(a, &cli.a), (b, &cli.b)]
            .into_iter()
            .filter(|(name, chosen)| chosen.is_none() && config.model(name).is_none())
            .map(|(name, _)| name)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "conversation {short} was written by {} (A) and {} (B); {} not configured any more (see `duel models`); add {} to the config, or go on with other models: --a MODEL --b MODEL",
                crate::text::sanitize(a),
                crate::text::sanitize(b),
                match missing.as_slice() {
                    [one] => format!("{} is", crate::text::sanitize(one)),
                    _ => "neither is".to_owned(),
                },
                if missing.len() == 1 { "it" } else { "them" },
            ));
        }
    }
    Ok(file)
}

/// The models `--battle` may draw: those whose key is set or that need none.
fn battle_pool(config: &Config) -> Result<Battle, String> {
    let pool: Vec<ModelSpec> = config
        .models
        .iter()
        .filter(|m| m.endpoint.key_status().usable())
        .cloned()
        .collect();
    if pool.len() < 2 {
        return Err(format!(
            "--battle needs at least two models whose key is set; {} found (see `duel models`, or try `duel --demo --battle`)",
            pool.len()
        ));
    }
    Ok(Battle {
        pool,
        weights: config.arena.weights.clone(),
    })
}
