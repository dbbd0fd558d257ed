//! duel's entry point: parse the command line, load config and theme (errors are
//! printed before the terminal is touched), then run the TUI or a command.

use std::io::{IsTerminal, stdout};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    EventStream,
};
use crossterm::execute;
use crossterm::terminal::EndSynchronizedUpdate;
use futures_util::{Stream, StreamExt, stream};

use duel::app::state::{Battle, Setup};
use duel::app::{Msg, State};
use duel::cli::{Cli, Command};
use duel::config::{self, Config, LoadOptions, ModelSpec};
use duel::run;
use duel::text::count;
use duel::{commands, conversation, eval, say, theme};

/// Exit code for usage and config errors (SPEC §1).
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::from_args();
    // These need no config, provider or key: only the data dir, which config cannot move.
    match &cli.command {
        Some(Command::Init(_)) => return finish(commands::init(cli.global.config.clone())),
        Some(Command::Stats(args)) => {
            return finish(commands::stats(
                args,
                &config::data_dir(cli.global.data_dir.clone()),
                &cli.global,
                cli.demo,
            ));
        }
        Some(Command::Export(args)) => {
            return finish(commands::export(
                args,
                &config::data_dir(cli.global.data_dir),
                cli.demo,
            ));
        }
        Some(Command::History(args)) => {
            return finish(commands::history(
                &config::data_dir(cli.global.data_dir),
                args,
                cli.demo,
            ));
        }
        Some(Command::Themes) => return finish(commands::themes()),
        Some(Command::Runs(args)) => {
            return finish(commands::runs(
                args,
                &config::data_dir(cli.global.data_dir),
                cli.demo,
            ));
        }
        _ => {}
    }

    let mut config = match config::load(&LoadOptions {
        explicit: cli.global.config.clone(),
    }) {
        Ok(config) => config,
        Err(e) => {
            say!("{e}");
            return ExitCode::from(USAGE);
        }
    };
    for warning in &config.warnings {
        say!("warning: {warning}");
    }
    if cli.demo {
        config = config::demo_config(&config);
    }
    let data_dir = config::data_dir(cli.global.data_dir.clone());
    let _log = init_logging(&data_dir);
    // A review shows a run's models, whatever the pair in config.
    if let Some(Command::Review(args)) = &cli.command {
        return review(&cli, &config, &args.run, data_dir);
    }

    // A conversation reopens with the models that wrote it, unless --a/--b say otherwise.
    let resumed = match (&cli.command, &cli.resume) {
        (None, Some(wanted)) => match resumable(&config, &data_dir, wanted, &cli) {
            Ok(file) => Some(file),
            Err(e) => {
                say!("--resume: {e}");
                return ExitCode::from(USAGE);
            }
        },
        _ => None,
    };
    let written_by = resumed
        .as_ref()
        .and_then(conversation::ConversationFile::models);
    let (a, b) = match pair(
        &config,
        cli.a.as_deref().or(written_by.map(|[a, _]| a)),
        cli.b.as_deref().or(written_by.map(|[_, b]| b)),
    ) {
        Ok(pair) => pair,
        Err(e) => {
            say!("{e}");
            return ExitCode::from(USAGE);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return finish(Err(e.into())),
    };
    match &cli.command {
        Some(Command::Ask(args)) => finish(runtime.block_on(commands::ask(&a, &b, args))),
        Some(Command::Models(args)) => finish(runtime.block_on(commands::models(&config, args))),
        Some(Command::Judge(args)) => {
            finish(runtime.block_on(commands::judge(&config, args, &data_dir)))
        }
        Some(Command::Batch(args)) => finish(runtime.block_on(commands::batch(
            &config,
            args,
            [&a, &b],
            cli.a.is_some() || cli.b.is_some(),
            &data_dir,
        ))),
        // Handled above, before the config is read.
        Some(
            Command::Init(_)
            | Command::Stats(_)
            | Command::Export(_)
            | Command::History(_)
            | Command::Themes
            | Command::Runs(_)
            | Command::Review(_),
        ) => ExitCode::SUCCESS,
        None => start_tui(&cli, &config, [a, b], resumed, data_dir, &runtime),
    }
}

/// Loads the theme, sets up blind mode, a battle or a resumed conversation, and runs
/// the TUI.
fn start_tui(
    cli: &Cli,
    config: &Config,
    pair: [ModelSpec; 2],
    resumed: Option<conversation::ConversationFile>,
    data_dir: PathBuf,
    runtime: &tokio::runtime::Runtime,
) -> ExitCode {
    let (theme_name, theme) = match load_theme(cli, config) {
        Ok(theme) => theme,
        Err(code) => return code,
    };
    let battle = if cli.battle {
        match battle_pool(config) {
            Ok(pool) => Some(pool),
            Err(e) => {
                say!("{e}");
                return ExitCode::from(USAGE);
            }
        }
    } else {
        None
    };
    let setup = Setup {
        blind: cli.blind,
        battle,
        seed: None,
    };
    let mut state = State::new(config, pair.clone(), data_dir, setup);
    state.theme = theme_name;
    if let Some(file) = resumed {
        state.resume(file, pair);
    }
    state.themes = theme::list(config::config_dir().as_deref())
        .into_iter()
        .map(|t| t.name)
        .collect();
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        say!(
            "the chat needs a terminal (standard input and output are not one); for scripts use `duel ask`"
        );
        return ExitCode::from(USAGE);
    }
    finish(runtime.block_on(tui(state, theme)))
}

/// `--theme` over `ui.theme`; an unknown theme is a usage error, said before the
/// terminal is touched.
fn load_theme(cli: &Cli, config: &Config) -> Result<(String, theme::Theme), ExitCode> {
    let name = cli.global.theme.as_deref().unwrap_or(&config.ui.theme);
    match theme::load(name, config::config_dir().as_deref()) {
        Ok(theme) => Ok((name.to_owned(), theme)),
        Err(e) => {
            say!("{e}");
            Err(ExitCode::from(USAGE))
        }
    }
}

/// `duel review [RUN]`: the TUI on the run's pairs this judge has not voted on. A run
/// that is not there, or has nothing left to review, is said before the screen changes.
fn review(cli: &Cli, config: &Config, wanted: &str, data_dir: PathBuf) -> ExitCode {
    let queue = match eval::review::load(&data_dir, wanted, &config.arena.judge) {
        Ok(queue) => queue,
        Err(e @ eval::review::LoadError::Usage(_)) => {
            say!("review: {e}");
            return ExitCode::from(USAGE);
        }
        Err(e) => {
            say!("review: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(text) = queue.nothing_left() {
        println!("{}", duel::text::sanitize(&text));
        return ExitCode::SUCCESS;
    }
    let (theme_name, theme) = match load_theme(cli, config) {
        Ok(theme) => theme,
        Err(code) => return code,
    };
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        say!("duel review needs a terminal (standard input and output are not one)");
        return ExitCode::from(USAGE);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return finish(Err(e.into())),
    };
    let votes_path = data_dir.join(queue.votes_file);
    let mut state = State::for_review(config, queue, data_dir, None);
    state.theme = theme_name;
    let state = match runtime.block_on(on_terminal(state, theme)) {
        Ok(state) => state,
        Err(e) => return finish(Err(e)),
    };
    if let Some(code) = unsaved_votes(&state, &votes_path) {
        return finish(code);
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
    ExitCode::from(exit_code())
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
    let file = if wanted == "last" {
        // The latest of this mode's conversations: `duel --demo --resume` the demo's.
        let (all, _) = conversation::list(data_dir)
            .map_err(|e| format!("reading saved conversations: {e}"))?;
        all.into_iter()
            .find(|c| c.is_demo() == demo)
            .ok_or_else(|| {
                format!(
                    "no saved {}conversations in {}",
                    if demo { "demo " } else { "" },
                    data_dir.join(conversation::DIR_NAME).display()
                )
            })?
    } else {
        conversation::find(data_dir, wanted)?
    };
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
                duel::text::sanitize(a),
                duel::text::sanitize(b),
                match missing.as_slice() {
                    [one] => format!("{} is", duel::text::sanitize(one)),
                    _ => "neither is".to_owned(),
                },
                if missing.len() == 1 { "it" } else { "them" },
            ));
        }
    }
    Ok(file)
}

/// The pair to compare: `--a`/`--b` over `[pair]`; names must be configured models.
fn pair(
    config: &Config,
    a: Option<&str>,
    b: Option<&str>,
) -> Result<(ModelSpec, ModelSpec), String> {
    let find = |flag: &str, name: &str| config.find_model(flag, name).cloned();
    Ok((
        find("--a", a.unwrap_or(&config.pair.a))?,
        find("--b", b.unwrap_or(&config.pair.b))?,
    ))
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

/// The exit code of a command: a usage error is 2; a reader that closed the pipe
/// early (`duel history | head -1`) ends the output quietly, as Unix tools do.
fn finish(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            say!("{e:#}");
            if e.is::<commands::UsageError>() {
                ExitCode::from(USAGE)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let kind = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| cause.downcast_ref::<serde_json::Error>()?.io_error_kind());
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// Runs the chat on the real terminal and always gives the terminal back.
async fn tui(state: State, theme: theme::Theme) -> anyhow::Result<u8> {
    let votes_path = state.data_dir.join(state.votes_file);
    let state = on_terminal(state, theme).await?;
    if let Some(code) = unsaved_votes(&state, &votes_path) {
        return code;
    }
    let voted: usize = state.turns.iter().map(duel::domain::Turn::votes).sum();
    if voted > 0 {
        say!(
            "{} in the last conversation, saved to {}",
            count(voted, "vote", "votes"),
            votes_path.display()
        );
    }
    Ok(exit_code())
}

/// 130 when SIGINT ended the TUI, as shells expect; else 0.
fn exit_code() -> u8 {
    if INTERRUPTED.load(Ordering::SeqCst) {
        130
    } else {
        0
    }
}

/// Votes that could not be written are never silently dropped: they go to stderr, to
/// keep, and duel exits 1.
fn unsaved_votes(state: &State, votes_path: &Path) -> Option<anyhow::Result<u8>> {
    if state.unsaved.is_empty() {
        return None;
    }
    say!(
        "{} could not be written to {}; here they are, one JSON line each:",
        count(state.unsaved.len(), "vote", "votes"),
        votes_path.display()
    );
    for record in &state.unsaved {
        match serde_json::to_string(record) {
            Ok(line) => eprintln!("{line}"),
            Err(e) => return Some(Err(e.into())),
        }
    }
    Some(Ok(1))
}

/// Runs the app on the real terminal and always gives the terminal back.
async fn on_terminal(state: State, theme: theme::Theme) -> anyhow::Result<State> {
    let crash_path = state.data_dir.join(CRASH_FILE);
    let mut terminal = ratatui::init();
    // Replaces ratatui's hook, which restores the terminal but then lets the default
    // hook print a backtrace — over the panes, when the panic is in a task the app
    // would survive. A bug anywhere ends duel: terminal first, then one line.
    std::panic::set_hook(Box::new(move |info| crash(info, &crash_path)));
    let _ = execute!(stdout(), EnableBracketedPaste, EnableMouseCapture);
    match std::env::var("DUEL_DEBUG_PANIC").as_deref() {
        // Hidden switches for the terminal-restore tests: a panic on the main thread,
        // or in a task while the screen is up.
        #[allow(clippy::panic)]
        Ok("task") => {
            tokio::spawn(async {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                panic!("DUEL_DEBUG_PANIC is set");
            });
        }
        #[allow(clippy::panic)]
        Ok(_) => panic!("DUEL_DEBUG_PANIC is set"),
        Err(_) => {}
    }

    let keys = EventStream::new()
        .filter_map(|event| async move { event.ok().and_then(run::msg_from_event) });
    let result = run::run(
        &mut terminal,
        state,
        theme,
        stream::select(keys, terminations()).boxed(),
    )
    .await;

    restore_terminal();
    result
}

/// Where a panic's details go: the data dir, beside the logs.
const CRASH_FILE: &str = "duel-crash.log";

/// Ends a frame in progress, turns bracketed paste and the mouse off, shows the
/// cursor, leaves raw mode and the alternate screen.
fn restore_terminal() {
    let _ = execute!(
        stdout(),
        EndSynchronizedUpdate,
        DisableBracketedPaste,
        DisableMouseCapture,
        crossterm::cursor::Show
    );
    ratatui::restore();
}

/// A bug ends duel: the terminal first, then one line, the details in the crash file.
fn crash(info: &std::panic::PanicHookInfo, path: &Path) -> ! {
    restore_terminal();
    let report = crash_report(info);
    tracing::error!("{report}");
    let kept = std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).and_then(|()| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        std::io::Write::write_all(&mut file, report.as_bytes())
    });
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    match kept {
        Ok(()) => say!(
            "internal error, sorry: {message}; details in {}",
            path.display()
        ),
        Err(_) => say!("internal error, sorry: {message}"),
    }
    std::process::exit(101);
}

/// A panic, where it happened and the stack, for the crash file.
fn crash_report(info: &std::panic::PanicHookInfo) -> String {
    format!(
        "{} duel {}: {info}\n{}\n",
        jiff::Timestamp::now(),
        env!("CARGO_PKG_VERSION"),
        std::backtrace::Backtrace::force_capture()
    )
}

/// Set when SIGINT ended the TUI: duel then exits 130, as shells expect.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// SIGTERM, SIGHUP and SIGINT (`kill -INT`; in raw mode Ctrl+C is a key) end the app
/// the same way as Ctrl+Q: cleanly, terminal restored, votes on disk.
fn terminations() -> impl Stream<Item = Msg> + Send {
    use tokio::signal::unix::{SignalKind, signal};
    let signals = [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
    ]
    .into_iter()
    .filter_map(|kind| Some((kind, signal(kind).ok()?)));
    stream::select_all(signals.map(|(kind, sig)| {
        stream::unfold(sig, move |mut sig| async move {
            sig.recv().await?;
            if kind == SignalKind::interrupt() {
                INTERRUPTED.store(true, Ordering::SeqCst);
            }
            Some((Msg::Terminate, sig))
        })
        .boxed()
    }))
}

/// Logs go to `<data dir>/duel.log`, only when `DUEL_LOG` or `RUST_LOG` asks.
fn init_logging(data_dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = std::env::var("DUEL_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()?;
    // The appender's own constructor panics on a file it cannot create.
    let path = data_dir.join("duel.log");
    let file = std::fs::create_dir_all(data_dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
    });
    let file = match file {
        Ok(file) => file,
        Err(e) => {
            say!(
                "warning: logging is off: cannot write {}: {e}",
                path.display()
            );
            return None;
        }
    };
    let (writer, guard) = tracing_appender::non_blocking(file);
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(writer)
        .with_ansi(false)
        .init();
    Some(guard)
}
