//! The command line of SPEC §1.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::votes::export::Format;
use crate::votes::rating::DEFAULT_ROUNDS;

#[derive(Debug, Parser)]
#[command(
    name = "duel",
    version,
    about = "Send every prompt to two language models at once, watch both answers stream side by side, and vote which is better.",
    after_help = "Run `duel --demo` to try the interface offline, with no API key."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    /// The model for pane A (a name from the config).
    #[arg(long = "a", value_name = "MODEL")]
    pub a: Option<String>,

    /// The model for pane B (a name from the config).
    #[arg(long = "b", value_name = "MODEL")]
    pub b: Option<String>,

    /// Two built-in offline demo models: no network, no keys; before a command, the
    /// demo's own votes, runs and conversations.
    #[arg(long)]
    pub demo: bool,

    /// Blind mode: the models are dealt to A and B by a coin and their names stay
    /// hidden until you vote.
    #[arg(long)]
    pub blind: bool,

    /// Reopen a saved conversation: `last` (the default) or an id from `duel history`
    /// (a unique prefix is enough).
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "last")]
    pub resume: Option<String>,

    /// A blind battle: two distinct models drawn at random from those whose key is set.
    #[arg(long, conflicts_with_all = ["a", "b"])]
    pub battle: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The command line, with what a command's own flags say (`duel stats --demo`)
    /// taken as if said before it (`duel --demo stats`), and an empty `DUEL_CONFIG=`
    /// or `DUEL_DATA_DIR=` taken as unset, as most tools take an empty variable.
    pub fn from_args() -> Cli {
        let mut cli = Cli::parse();
        cli.take_command_flags();
        let set = |path: Option<PathBuf>| path.filter(|p| !p.as_os_str().is_empty());
        cli.global.config = set(cli.global.config);
        cli.global.data_dir = set(cli.global.data_dir);
        cli
    }

    /// Each command lists only the flags that mean something to it; after parsing,
    /// they land where the rest of duel reads them.
    fn take_command_flags(&mut self) {
        let Cli {
            global,
            a,
            b,
            demo,
            command,
            ..
        } = self;
        let Some(command) = command else { return };
        let (config, data_dir, theme, sub_demo, pair) = match command {
            Command::Ask(x) => (Some(&x.config), None, None, Some(&x.demo), Some(&x.pair)),
            Command::Models(x) => (Some(&x.config), None, None, Some(&x.demo), None),
            Command::Stats(x) => (
                Some(&x.config),
                Some(&x.data_dir),
                Some(&x.theme),
                Some(&x.demo),
                None,
            ),
            Command::Export(x) => (
                Some(&x.config),
                Some(&x.data_dir),
                None,
                Some(&x.demo),
                None,
            ),
            Command::Init(x) => (Some(&x.config), None, None, None, None),
            Command::History(x) => (None, Some(&x.data_dir), None, Some(&x.demo), None),
            Command::Themes => (None, None, None, None, None),
            Command::Batch(x) => (
                Some(&x.config),
                Some(&x.data_dir),
                None,
                Some(&x.demo),
                Some(&x.pair),
            ),
            Command::Runs(x) => (
                Some(&x.config),
                Some(&x.data_dir),
                None,
                Some(&x.demo),
                None,
            ),
            Command::Review(x) => (
                Some(&x.config),
                Some(&x.data_dir),
                Some(&x.theme),
                Some(&x.demo),
                None,
            ),
            Command::Judge(x) => (
                Some(&x.config),
                Some(&x.data_dir),
                None,
                Some(&x.demo),
                None,
            ),
            Command::Check(x) => (
                Some(&x.config),
                Some(&x.data_dir),
                None,
                Some(&x.demo),
                None,
            ),
            Command::Report(x) => (
                Some(&x.config),
                Some(&x.data_dir),
                None,
                Some(&x.demo),
                None,
            ),
            Command::Store(x) => match &x.action {
                StoreAction::Init { config } | StoreAction::Status { config, .. } => {
                    (Some(config), None, None, None, None)
                }
                StoreAction::Push { config, data_dir } => {
                    (Some(config), Some(data_dir), None, None, None)
                }
            },
        };
        let take = |top: &mut Option<PathBuf>, sub: Option<&Option<PathBuf>>| {
            if let Some(Some(path)) = sub {
                *top = Some(path.clone());
            }
        };
        take(&mut global.config, config.map(|c| &c.config));
        take(&mut global.data_dir, data_dir.map(|d| &d.data_dir));
        if let Some(ThemeArg { theme: Some(name) }) = theme {
            global.theme = Some(name.clone());
        }
        *demo |= sub_demo.is_some_and(|d| d.demo);
        if let Some(pair) = pair {
            *a = pair.a.clone().or(a.take());
            *b = pair.b.clone().or(b.take());
        }
    }
}

// The flags a command may take after its name. Only the top-level flags read the
// environment, so a variable never overrides a flag given before the command.

#[derive(Debug, Args)]
pub struct ConfigArg {
    /// The config file to use instead of the default location (env DUEL_CONFIG).
    #[arg(long, value_name = "FILE", value_parser = path)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DataDirArg {
    /// Where votes, conversations and runs are kept (env DUEL_DATA_DIR).
    #[arg(long, value_name = "DIR", value_parser = path)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ThemeArg {
    /// The colour theme (overrides `ui.theme`).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArg {
    /// The offline demo's own models and data (votes in demo-votes.jsonl), apart
    /// from the real ones.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct PairArgs {
    /// The model for side A (a name from the config).
    #[arg(long = "a", value_name = "MODEL")]
    pub a: Option<String>,

    /// The model for side B (a name from the config).
    #[arg(long = "b", value_name = "MODEL")]
    pub b: Option<String>,
}

/// A path as given; clap's own parser refuses an empty one, which here means unset.
fn path(value: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(value))
}

#[derive(Debug, Args)]
pub struct Global {
    /// The config file to use instead of the default location.
    #[arg(long, value_name = "FILE", env = "DUEL_CONFIG", value_parser = path)]
    pub config: Option<PathBuf>,

    /// Where votes, conversations and runs are kept.
    #[arg(long, value_name = "DIR", env = "DUEL_DATA_DIR", value_parser = path)]
    pub data_dir: Option<PathBuf>,

    /// The colour theme (overrides `ui.theme`).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask both models without the TUI; print both answers when done.
    Ask(AskArgs),
    /// List the configured models and whether their keys are set.
    Models(ModelsArgs),
    /// The leaderboard from the vote log(s): Bradley–Terry ratings with 95% intervals.
    Stats(StatsArgs),
    /// The votes as a preference dataset (dpo), FastChat battles (arena) or a table (csv).
    Export(ExportArgs),
    /// Write the commented starter config to the config path (never overwrites).
    Init(InitArgs),
    /// Saved conversations, newest first: id, time, the two models, first prompt.
    History(HistoryArgs),
    /// Built-in and user themes.
    Themes,
    /// Answer every item of a prompt suite with two models (or every model of
    /// --models) into a run, each answer saved as it finishes; resumable.
    Batch(BatchArgs),
    /// Batch runs: id, name, suite, models, items, answered, failed, votes.
    Runs(RunsArgs),
    /// Vote on a batch run's pairs, blind, one pair at a time: those you have not
    /// voted on yet, resuming where you stopped.
    Review(ReviewArgs),
    /// Have a configured model judge every pair of a run, in both orders; its votes
    /// go to the vote log as `llm:MODEL`.
    Judge(JudgeArgs),
    /// Grade a run's stored answers against its suite's checks (`assert`), without
    /// asking the models again: pass rates with 95% intervals, and per pair whether the
    /// difference is real.
    Check(CheckArgs),
    /// Which one? A run on one screen: preference (people and each model judge),
    /// checks, cost, speed and failures per model; per pair how sure and the cost
    /// ratio; and what the evidence supports, in plain words.
    Report(ReportArgs),
    /// The team's PostgreSQL store (`[store] url`): create or upgrade its schema, copy
    /// this machine's votes, conversations and runs into it, or see what it holds.
    Store(StoreArgs),
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub action: StoreAction,
}

#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Create the schema, or upgrade it to this duel's version; again: no change.
    Init {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Copy the data dir's votes, conversations and runs (with their answers and
    /// checks) into the store, by id: pushing twice changes nothing.
    Push {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        data_dir: DataDirArg,
    },
    /// The store's URL (without secrets), its schema version and what it holds.
    Status {
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run: `last`, an id, a prefix of one, or a run's name.
    #[arg(value_name = "RUN", default_value = "last")]
    pub run: String,

    /// Only the items (and votes) of this category.
    #[arg(long, value_name = "C")]
    pub category: Option<String>,

    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,

    /// Also write the report as a self-contained web page (no network needed).
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub data_dir: DataDirArg,

    #[command(flatten)]
    pub demo: DemoArg,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The run: `last`, an id, a prefix of one, or a run's name.
    #[arg(value_name = "RUN", default_value = "last")]
    pub run: String,

    /// The model that grades `llm-rubric` checks (a name from the config; default:
    /// `[check] grader`).
    #[arg(long, value_name = "MODEL")]
    pub grader: Option<String>,

    /// Grade only the checks of this type (`icontains`, `not-regex`, `llm-rubric`, …).
    #[arg(long, value_name = "TYPE")]
    pub only: Option<String>,

    /// Exit 1 when any model's pass rate is below RATE (0 to 1), for CI.
    #[arg(long, value_name = "RATE", value_parser = rate)]
    pub fail_under: Option<f64>,

    /// Print the pass rates as JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub data_dir: DataDirArg,

    #[command(flatten)]
    pub demo: DemoArg,
}

/// A pass rate from 0 to 1.
fn rate(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| format!("{text:?} is not a rate from 0 to 1 (0.8 means 80%)"))
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// The run: `last`, an id, a prefix of one, or a run's name.
    #[arg(value_name = "RUN")]
    pub run: String,

    /// The model that judges (a name from the config).
    #[arg(long = "with", value_name = "MODEL")]
    pub with: String,

    /// The pairwise prompt, with {prompt}, {answer_a}, {answer_b} and {reference}
    /// (default: `[judge] template`, else the built-in one the README shows).
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,

    /// At most this many requests to the judge at once (its provider's `rpm` and
    /// `concurrency` apply as well).
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub data_dir: DataDirArg,

    #[command(flatten)]
    pub demo: DemoArg,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The prompt suite: .jsonl (`prompt` or `messages`, optional `id`, `category`,
    /// `reference`), .csv (a `prompt` column) or .txt (one prompt a line).
    #[arg(value_name = "SUITE", required_unless_present = "resume")]
    pub suite: Option<PathBuf>,

    /// Ask only for the answers this run is still missing (`last`, an id, a prefix or
    /// a run's name).
    #[arg(long, value_name = "RUN", conflicts_with_all = ["suite", "models", "name"])]
    pub resume: Option<String>,

    /// Every model of this list answers every item (at least two; comma-separated),
    /// instead of the pair of --a/--b or [pair].
    #[arg(long, value_name = "M1,M2,…", value_delimiter = ',')]
    pub models: Vec<String>,

    /// At most this many requests in flight at once (each provider's own `rpm` and
    /// `concurrency` from config apply as well).
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,

    /// A name for the run (`duel runs` shows it; `duel review NAME` finds it).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The model that grades the suite's `llm-rubric` checks once every answer is in
    /// (default: `[check] grader`).
    #[arg(long, value_name = "MODEL")]
    pub grader: Option<String>,

    /// Exit 1 when any model's pass rate on the suite's checks is below RATE (0 to 1).
    #[arg(long, value_name = "RATE", value_parser = rate)]
    pub fail_under: Option<f64>,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub data_dir: DataDirArg,

    #[command(flatten)]
    pub demo: DemoArg,

    #[command(flatten)]
    pub pair: PairArgs,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub data_dir: DataDirArg,

    #[command(flatten)]
    pub demo: DemoArg,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The run: `last` (the newest), its id, an id prefix, or its name.
    #[arg(value_name = "RUN", default_value = "last")]
    pub run: String,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub data_dir: DataDirArg,

    #[command(flatten)]
    pub theme: ThemeArg,

    #[command(flatten)]
    pub demo: DemoArg,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,

    /// Write the answers exactly as the models sent them, escape sequences and all
    /// (by default control characters are shown inert, even into a file).
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,

    /// The prompt; `-` reads it from standard input.
    #[arg(value_name = "PROMPT")]
    pub prompt: String,

    /// A file to send with the prompt to both models (repeatable): an image (PNG,
    /// JPEG, WebP, GIF), a PDF or a text file, at most 20 MB.
    #[arg(long, value_name = "PATH")]
    pub attach: Vec<PathBuf>,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub demo: DemoArg,

    #[command(flatten)]
    pub pair: PairArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub data_dir: DataDirArg,

    #[command(flatten)]
    pub demo: DemoArg,
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Send a tiny request to each model and report ok or the error, with latency.
    #[arg(long)]
    pub check: bool,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub demo: DemoArg,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Vote logs to read and merge (duplicates by record id count once); default: the
    /// data dir's votes.jsonl (demo-votes.jsonl under --demo).
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,

    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Bootstrap rounds for the 95% intervals.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ROUNDS,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub bootstrap: u32,

    /// Add the pairwise win-fraction table.
    #[arg(long)]
    pub matrix: bool,

    /// Only the votes of this judge.
    #[arg(long, value_name = "NAME")]
    pub judge: Option<String>,

    /// Only votes cast in blind mode.
    #[arg(long)]
    pub blind_only: bool,

    /// Only the votes on this run's pairs: `last`, an id, a name or an id prefix (a run
    /// id from another machine's log is matched as it is).
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,

    /// Only the votes of this category: a suite item's `category`, or the prompt's
    /// language (`chinese`, `english`, `other`).
    #[arg(long, value_name = "C")]
    pub category: Option<String>,

    /// One compact leaderboard per category (suite categories and prompt languages).
    #[arg(long)]
    pub by_category: bool,

    /// With --run: the run's checks beside its votes (pass rates with 95% intervals,
    /// and per pair whether the difference is real).
    #[arg(long, requires = "run")]
    pub checks: bool,

    /// How likely A is better than B, and how many more votes between them would
    /// settle it (default: the top two models).
    #[arg(long, value_name = "A,B", value_delimiter = ',', num_args = 1)]
    pub pair: Vec<String>,

    /// Add how far the judges agree on the pairs they share (Cohen's kappa), and each
    /// model judge's position consistency and taste for longer answers.
    #[arg(long)]
    pub agreement: bool,

    /// Add a chart of the ratings and their 95% intervals (in the theme's colours on a
    /// terminal, plain text when piped).
    #[arg(long)]
    pub plot: bool,

    /// Also write one self-contained HTML page to FILE: leaderboard, intervals, the win
    /// matrix as a heat map and position bias, for sharing (opens without a network).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Add the ratings with style held equal (LMArena's style control: answer length,
    /// headers, list items and bold as extra features) and what each style feature is
    /// worth.
    #[arg(long)]
    pub style_control: bool,

    /// Keep votes where a side failed, was stopped or was filtered (left out of every
    /// figure by default, as `export --format dpo` does).
    #[arg(long)]
    pub include_failed: bool,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub data_dir: DataDirArg,

    #[command(flatten)]
    pub theme: ThemeArg,

    #[command(flatten)]
    pub demo: DemoArg,
}

/// `--format`'s choices: the export formats by their names on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    // Plain comments: doc comments here would turn `--help` into a long list.
    Dpo,
    Arena,
    Csv,
}

impl From<ExportFormat> for Format {
    fn from(format: ExportFormat) -> Format {
        match format {
            ExportFormat::Dpo => Format::Dpo,
            ExportFormat::Arena => Format::Arena,
            ExportFormat::Csv => Format::Csv,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Vote logs to read and merge (duplicates by record id count once); default: the
    /// data dir's votes.jsonl (demo-votes.jsonl under --demo).
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,

    /// dpo: TRL preference pairs (JSON lines); arena: FastChat battles (a JSON array);
    /// csv: one row per vote.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: ExportFormat,

    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Only votes cast in blind mode.
    #[arg(long)]
    pub blind_only: bool,

    /// dpo: keep votes where a side failed or was stopped (left out by default).
    #[arg(long)]
    pub include_failed: bool,

    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub data_dir: DataDirArg,

    #[command(flatten)]
    pub demo: DemoArg,
}
