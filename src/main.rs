//! duel's entry point: parse the command line, load config (errors are said before
//! the terminal is touched), and run the one command asked for, or the chat.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use duel_core::store::Store;

use duel::cli::{Cli, Command};
use duel::config::{self, Config, LoadOptions};
use duel::{commands, say};

/// Exit code for usage and config errors (SPEC §1).
const USAGE: u8 = 2;

fn main() -> ExitCode {
    finish(dispatch(&Cli::from_args()))
}

/// Every command, and the chat when none is named. Those that read only the data dir
/// need no config, provider or key; the others load config first (a broken one exits
/// 2, naming file, line and column) and log when `DUEL_LOG` asks.
fn dispatch(cli: &Cli) -> anyhow::Result<u8> {
    let data_dir = config::data_dir(cli.global.data_dir.clone());
    let runtime = || tokio::runtime::Runtime::new();
    match &cli.command {
        Some(Command::Init(_)) => commands::init(cli.global.config.clone()),
        Some(Command::Stats(args)) => commands::stats(
            args,
            &data_dir,
            &cli.global,
            cli.demo,
            &prices(cli),
            team_store(cli)?,
        ),
        Some(Command::Export(args)) => {
            commands::export(args, &data_dir, cli.demo, team_store(cli)?)
        }
        Some(Command::History(args)) => commands::history(&data_dir, args, cli.demo),
        Some(Command::Themes) => commands::themes(),
        Some(Command::Runs(args)) => {
            commands::runs(args, &data_dir, cli.demo, &prices(cli), team_store(cli)?)
        }
        Some(Command::Ask(args)) => {
            let (config, _log) = setup(cli, &data_dir)?;
            let [a, b] = commands::pair(&config, cli.a.as_deref(), cli.b.as_deref())?;
            runtime()?.block_on(commands::ask(&a, &b, args, &config.prices(), &data_dir))
        }
        Some(Command::Models(args)) => {
            let (config, _log) = setup(cli, &data_dir)?;
            runtime()?.block_on(commands::models(&config, args))
        }
        Some(Command::Batch(args)) => {
            let (config, _log) = setup(cli, &data_dir)?;
            let [a, b] = commands::pair(&config, cli.a.as_deref(), cli.b.as_deref())?;
            let chosen = cli.a.is_some() || cli.b.is_some();
            runtime()?.block_on(commands::batch(&config, args, [&a, &b], chosen, &data_dir))
        }
        Some(Command::Judge(args)) => {
            let (config, _log) = setup(cli, &data_dir)?;
            runtime()?.block_on(commands::judge(&config, args, &data_dir))
        }
        Some(Command::Report(args)) => {
            commands::report(args, &data_dir, &cli.global, &prices(cli), team_store(cli)?)
        }
        Some(Command::Check(args)) => {
            let (config, _log) = setup(cli, &data_dir)?;
            runtime()?.block_on(commands::check(&config, args, &data_dir))
        }
        Some(Command::Review(args)) => {
            let (config, _log) = setup(cli, &data_dir)?;
            commands::review(cli, &config, &args.run, data_dir)
        }
        Some(Command::Store(args)) => {
            let (config, _log) = setup(cli, &data_dir)?;
            commands::store(&config, &args.action, &data_dir)
        }
        None => {
            let (config, _log) = setup(cli, &data_dir)?;
            commands::chat(cli, &config, data_dir)
        }
    }
}

/// The config (the demo's under `--demo`), its warnings said, and logging started
/// when asked; the guard keeps the log writing until the command ends.
/// The configured prices, for the commands that need no config but show costs with
/// one (`stats`, `runs`); none under `--demo` (its models have no price) or when the
/// config cannot be read (the command that needs it says why).
fn prices(cli: &Cli) -> duel::cost::Prices {
    config::load(&LoadOptions {
        explicit: cli.global.config.clone(),
    })
    .ok()
    .filter(|_| !cli.demo)
    .map(|c| c.prices())
    .unwrap_or_default()
}

/// The team's store of the config, for the commands that need no config but read
/// votes (`stats`, `export`, `report`); none under `--demo`, without `[store]`, or
/// when the config cannot be read (they read the data dir's files then).
fn team_store(cli: &Cli) -> anyhow::Result<Option<Arc<dyn Store>>> {
    match config::load(&LoadOptions {
        explicit: cli.global.config.clone(),
    }) {
        Ok(config) => Ok(duel::store::team(&config, cli.demo)?),
        Err(_) => Ok(None),
    }
}

fn setup(
    cli: &Cli,
    data_dir: &Path,
) -> anyhow::Result<(Config, Option<tracing_appender::non_blocking::WorkerGuard>)> {
    let config = config::load(&LoadOptions {
        explicit: cli.global.config.clone(),
    })
    .map_err(|e| commands::UsageError(e.to_string()))?;
    for warning in &config.warnings {
        say!("warning: {warning}");
    }
    let config = if cli.demo {
        config::demo_config(&config)
    } else {
        config
    };
    Ok((config, init_logging(data_dir)))
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
