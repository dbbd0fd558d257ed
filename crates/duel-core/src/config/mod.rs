//! Configuration: where it is found, the provider presets, and the resolved form the
//! rest of duel uses. Reading lives in `load.rs`, its errors in `error.rs`, the typed
//! field readers in `fields.rs`, the sections in `sections.rs`, and "did you mean" in
//! `suggest.rs`.

mod error;
mod fields;
mod load;
pub(crate) mod presets;
mod sections;
mod suggest;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::domain::ModelRef;

pub use error::ConfigError;
pub use error::line_col;
pub use load::{LoadOptions, load, load_from, parse_str};
pub use suggest::did_you_mean;

/// The starter config: `duel init` writes it, and with no config file its content
/// is what applies.
pub const EXAMPLE: &str = include_str!("../../../../config.example.toml");

#[derive(Clone, Debug)]
pub struct Config {
    /// The file this came from; `None` when the built-in defaults apply.
    pub path: Option<PathBuf>,
    pub ui: UiConfig,
    pub pair: Pair,
    pub arena: Arena,
    pub judge: JudgeConfig,
    pub check: CheckConfig,
    /// `[store]`: a PostgreSQL store for the team, else files in the data dir.
    pub store: StoreConfig,
    /// `[review]`: how a team shares a run's review on a store.
    pub review: ReviewConfig,
    /// `[report]`: the currency costs are shown in, and the rates into it.
    pub money: crate::cost::Money,
    /// Every usable model, in config order; names are unique.
    pub models: Vec<ModelSpec>,
    /// Non-fatal findings (unknown keys, …), shown before the TUI starts and in the status line.
    pub warnings: Vec<String>,
    /// Under `--demo`: the configured models it set aside, so a name of one of them is
    /// told apart from a typo.
    pub set_aside: Vec<String>,
}

impl Config {
    pub fn model(&self, name: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.name == name)
    }

    /// Every priced model's price, in the report currency.
    pub fn prices(&self) -> crate::cost::Prices {
        let priced = self
            .models
            .iter()
            .filter_map(|m| Some((m.name.as_str(), m.price.as_ref()?)));
        crate::cost::Prices::new(priced, &self.money)
    }

    /// The model `name`, given by `flag` (`--a`, `--with`, …), or what to tell the
    /// user: the models there are, or that `--demo` uses only its own.
    pub fn require_model(&self, flag: &str, name: &str) -> Result<&ModelSpec, String> {
        let names = || {
            self.models
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        self.model(name).ok_or_else(|| {
            if self.set_aside.iter().any(|m| m == name) {
                format!(
                    "{flag} {name:?}: --demo uses only the offline demo models ({}); drop --demo to use {name}",
                    names()
                )
            } else {
                format!(
                    "{flag} {name:?} does not name a configured model (models: {}); see `duel models`",
                    names()
                )
            }
        })
    }
}

/// `[judge]`: how `duel judge` asks a model for its verdict.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JudgeConfig {
    /// The pairwise prompt with `{prompt}`, `{answer_a}`, `{answer_b}` and
    /// `{reference}` in it; `None`: the built-in one.
    pub template: Option<String>,
}

/// `[check]`: how `duel check` and `duel batch` grade `llm-rubric` checks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckConfig {
    /// The model that grades them when no `--grader` is given; a configured model.
    pub grader: Option<String>,
}

/// `[store]`: where votes, runs, answers and checks go (SPEC §12).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreConfig {
    /// `postgres://user@host:port/db`, never with a password in it (that comes from
    /// `DUEL_STORE_PASSWORD` or `~/.pgpass`); `None`: files under the data dir.
    pub url: Option<String>,
}

/// `[review]`: leases on a store's pairs, so reviewers of one run never get the same
/// pair at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReviewConfig {
    /// How long a pair stays with a reviewer who neither votes nor skips it.
    pub lease_secs: u32,
    /// How many different reviewers each pair asks for (2: agreement between people).
    pub per_item: u32,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            lease_secs: 600,
            per_item: 1,
        }
    }
}

/// The placeholders a judge template must have: without one of them the judge would
/// not see what it judges.
pub const TEMPLATE_NEEDS: [&str; 3] = ["{prompt}", "{answer_a}", "{answer_b}"];

#[derive(Clone, Debug, PartialEq)]
pub struct UiConfig {
    pub theme: String,
    pub layout: Layout,
    pub blind: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// A left, B right.
    #[default]
    Columns,
    /// A top, B bottom.
    Rows,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub a: String,
    pub b: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arena {
    /// Who votes: `[arena] judge`, else the login name.
    pub judge: String,
    pub weights: BTreeMap<String, f64>,
}

/// One `[[models]]` entry with `[defaults]` and its provider applied.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    /// The label shown and logged; unique.
    pub name: String,
    /// The preset or `[providers.NAME]` it uses.
    pub provider: String,
    /// The id sent to the API (for `kind = "ernie"`, the endpoint path).
    pub model_id: String,
    pub endpoint: Endpoint,
    pub system: Option<String>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    /// The most text (answer and reasoning) duel takes from one answer; `None` means
    /// `DEFAULT_MAX_ANSWER_BYTES`. A server that streams on past it is cut off.
    pub max_answer_bytes: Option<u32>,
    /// Extra top-level body fields passed through as given (e.g. `enable_thinking`).
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// The user's price per million tokens; `None`: the cost is unknown.
    pub price: Option<crate::cost::Price>,
    /// What it takes in a prompt (`input`); `None`: its wire kind's own set.
    pub input: Option<Vec<crate::attachment::Input>>,
}

impl ModelSpec {
    /// A model with no system prompt, sampling parameters or extra fields of its own.
    pub fn new(name: &str, provider: &str, model_id: &str, endpoint: Endpoint) -> Self {
        Self {
            name: name.to_owned(),
            provider: provider.to_owned(),
            model_id: model_id.to_owned(),
            endpoint,
            system: None,
            temperature: None,
            top_p: None,
            max_tokens: None,
            max_answer_bytes: None,
            extra: serde_json::Map::new(),
            price: None,
            input: None,
        }
    }

    /// Whether it takes `input` in a prompt.
    pub fn takes(&self, input: crate::attachment::Input) -> bool {
        match &self.input {
            Some(own) => own.contains(&input),
            None => crate::attachment::Input::defaults(self.endpoint.kind).contains(&input),
        }
    }

    /// Which model answers, as an answer and the vote log name it.
    pub fn model_ref(&self) -> ModelRef {
        ModelRef {
            name: self.name.clone(),
            provider: self.provider.clone(),
            model_id: self.model_id.clone(),
            demo: self.endpoint.kind == WireKind::Demo,
            system: self.system.clone(),
        }
    }
}

/// Where and how a provider is reached.
#[derive(Clone, PartialEq)]
pub struct Endpoint {
    pub kind: WireKind,
    pub base_url: String,
    /// Name of the env var holding the key; `None` when the provider needs none.
    pub api_key_env: Option<String>,
    /// A key written in the config file (discouraged); never logged or shown.
    pub api_key: Option<String>,
    /// `kind = "ernie"` only: the env var holding the secret key.
    pub secret_key_env: Option<String>,
    pub headers: Vec<(String, String)>,
    pub connect_timeout: Duration,
    /// No byte for this long ends the answer as a timeout.
    pub idle_timeout: Duration,
    /// `duel batch` and `duel judge`: at most this many requests a minute to the
    /// provider; `None`: no pacing.
    pub rpm: Option<u32>,
    /// `duel batch` and `duel judge`: at most this many requests to the provider at
    /// once; `None`: the command's `--concurrency` alone bounds them.
    pub concurrency: Option<u32>,
}

impl fmt::Debug for Endpoint {
    /// Like a derived Debug, but the key itself never appears.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("api_key_env", &self.api_key_env)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("secret_key_env", &self.secret_key_env)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("rpm", &self.rpm)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether a model can be used as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    /// The provider needs no key (Ollama, the demo models).
    NotNeeded,
    /// Written in the config file.
    InConfig,
    /// Set in this env var.
    Set(String),
    /// This env var (or these, for ERNIE) is not set.
    Missing(Vec<String>),
}

impl KeyStatus {
    pub fn usable(&self) -> bool {
        !matches!(self, KeyStatus::Missing(_))
    }

    /// A short description for `duel models`, never the key itself.
    pub fn describe(&self) -> String {
        match self {
            KeyStatus::NotNeeded => "not needed".into(),
            KeyStatus::InConfig => "set (config file)".into(),
            KeyStatus::Set(var) => format!("set ({var})"),
            KeyStatus::Missing(vars) => format!("missing: set {}", vars.join(" and ")),
        }
    }
}

impl Endpoint {
    /// An endpoint of `kind` at `base_url`: no key, no extra headers, default timeouts.
    pub fn new(kind: WireKind, base_url: impl Into<String>) -> Self {
        Self {
            kind,
            base_url: base_url.into(),
            api_key_env: None,
            api_key: None,
            secret_key_env: None,
            headers: Vec::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            rpm: None,
            concurrency: None,
        }
    }

    /// The API key: the config's own, else the env var's (an empty value counts as unset).
    pub fn api_key(&self) -> Option<String> {
        if let Some(key) = &self.api_key {
            return Some(key.clone());
        }
        let var = self.api_key_env.as_ref()?;
        std::env::var(var).ok().filter(|v| !v.trim().is_empty())
    }

    pub fn key_status(&self) -> KeyStatus {
        if self.api_key.is_some() {
            return KeyStatus::InConfig;
        }
        let mut vars: Vec<&String> = self.api_key_env.iter().collect();
        vars.extend(self.secret_key_env.iter());
        if vars.is_empty() {
            return KeyStatus::NotNeeded;
        }
        let missing: Vec<String> = vars
            .iter()
            .filter(|v| std::env::var(v).map_or(true, |val| val.trim().is_empty()))
            .map(|v| v.to_string())
            .collect();
        if missing.is_empty() {
            KeyStatus::Set(
                vars.iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(" + "),
            )
        } else {
            KeyStatus::Missing(missing)
        }
    }
}

/// The wire format a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireKind {
    OpenAi,
    Anthropic,
    Gemini,
    Ollama,
    Ernie,
    /// The built-in offline demo models of `duel --demo`.
    Demo,
}

impl WireKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WireKind::OpenAi => "openai",
            WireKind::Anthropic => "anthropic",
            WireKind::Gemini => "gemini",
            WireKind::Ollama => "ollama",
            WireKind::Ernie => "ernie",
            WireKind::Demo => "demo",
        }
    }

    /// The kinds a config file may name (`demo` is built in only).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "openai" => WireKind::OpenAi,
            "anthropic" => WireKind::Anthropic,
            "gemini" => WireKind::Gemini,
            "ollama" => WireKind::Ollama,
            "ernie" => WireKind::Ernie,
            _ => return None,
        })
    }
}

/// Where config files live: `$XDG_CONFIG_HOME/duel` or `~/.config/duel` (also on
/// macOS), falling back to the `directories` crate's.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(xdg).join("duel"));
    }
    if let Some(home) = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()) {
        return Some(home.join(".config").join("duel"));
    }
    directories::ProjectDirs::from("", "", "duel").map(|p| p.config_dir().to_path_buf())
}

/// The data dir: `--data-dir` > `$DUEL_DATA_DIR` (both arrive here as `explicit`) >
/// the `directories` data dir.
pub fn data_dir(explicit: Option<PathBuf>) -> PathBuf {
    explicit
        .or_else(|| {
            directories::ProjectDirs::from("", "", "duel").map(|p| p.data_dir().to_path_buf())
        })
        .unwrap_or_else(|| PathBuf::from(".duel"))
}

/// The login name, for `judge` when config names none: `USER`, `LOGNAME` or
/// `USERNAME`, else the account's own name (as `whoami` prints it).
pub(crate) fn login_name() -> String {
    login_name_from(|v| std::env::var(v).ok(), || whoami::username().ok())
}

fn login_name_from(
    var: impl Fn(&str) -> Option<String>,
    account: impl FnOnce() -> Option<String>,
) -> String {
    let present = |s: &String| !s.trim().is_empty();
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| var(v).filter(present))
        .or_else(|| account().filter(present))
        .unwrap_or_else(|| "unknown".into())
}

/// The most text one answer may hold unless its model says otherwise: 2 MiB, four
/// times the longest answer (with reasoning) any model sends today, so only a server
/// that never stops reaches it.
pub(crate) const DEFAULT_MAX_ANSWER_BYTES: u32 = 2 * 1024 * 1024;

/// The names of the two offline demo models of `duel --demo` (provider `demo`).
pub(crate) const DEMO_MODELS: [&str; 2] = ["demo-brisk", "demo-thoughtful"];

/// How to call duel again in a hint: with `--demo` for the demo's own data, which
/// the same command without it would not find.
pub fn duel_command(demo: bool) -> &'static str {
    if demo { "duel --demo" } else { "duel" }
}

/// The two offline demo models of `duel --demo`.
pub fn demo_config(base: &Config) -> Config {
    let demo =
        |name: &str| ModelSpec::new(name, "demo", name, Endpoint::new(WireKind::Demo, "offline"));
    let [a, b] = DEMO_MODELS;
    Config {
        pair: Pair {
            a: a.into(),
            b: b.into(),
        },
        models: vec![demo(a), demo(b)],
        set_aside: base.models.iter().map(|m| m.name.clone()).collect(),
        ..base.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_judge_falls_back_to_the_account_name_without_user_or_logname() {
        let none = |_: &str| None;
        assert_eq!(login_name_from(none, || Some("dana".into())), "dana");
        let logname = |v: &str| (v == "LOGNAME").then(|| "lee".to_owned());
        assert_eq!(login_name_from(logname, || Some("dana".into())), "lee");
        let blank = |_: &str| Some(" ".to_owned());
        assert_eq!(login_name_from(blank, || None), "unknown");
        // This machine's account has a name, as `whoami` prints it.
        assert!(!whoami::username().expect("an account name").is_empty());
    }
}
