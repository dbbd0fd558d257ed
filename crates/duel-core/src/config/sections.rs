//! The sections of a config file: `[ui]`, `[defaults]`, `[providers.*]`,
//! `[[models]]`, `[pair]`, `[arena]`, `[judge]` and `[check]`, each read into its
//! resolved form.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, line_col};
use super::fields::{Ctx, as_f64, join_path};
use super::presets::{PRESET_NAMES, preset};
use super::suggest::did_you_mean_quoted;
use crate::attachment::Input;
use crate::cost::{Money, Price, is_currency_code};

use super::{
    Arena, CheckConfig, Endpoint, JudgeConfig, Layout, ModelSpec, Pair, ReviewConfig, StoreConfig,
    TEMPLATE_NEEDS, UiConfig, WireKind, login_name,
};

pub(super) const ROOT_KEYS: &[&str] = &[
    "ui",
    "pair",
    "arena",
    "judge",
    "check",
    "report",
    "store",
    "review",
    "defaults",
    "models",
    "providers",
];
const UI_KEYS: &[&str] = &["theme", "layout", "blind"];
const PAIR_KEYS: &[&str] = &["a", "b"];
const ARENA_KEYS: &[&str] = &["judge", "weights"];
const JUDGE_KEYS: &[&str] = &["template"];
const CHECK_KEYS: &[&str] = &["grader"];
const STORE_KEYS: &[&str] = &["url"];
const REVIEW_KEYS: &[&str] = &["lease_secs", "per_item"];
const REPORT_KEYS: &[&str] = &["currency", "rates"];
const PRICE_KEYS: &[&str] = &["input", "output", "cached_input", "reasoning", "currency"];
const SAMPLING_KEYS: &[&str] = &[
    "system",
    "temperature",
    "max_tokens",
    "top_p",
    "max_answer_bytes",
];
/// Keys of a model that go into the request body as written.
const PASSTHROUGH_KEYS: &[&str] = &[
    "enable_thinking",
    "thinking_budget",
    "thinking",
    "reasoning_effort",
];
const MODEL_KEYS: &[&str] = &[
    "name",
    "provider",
    "model",
    "system",
    "temperature",
    "max_tokens",
    "top_p",
    "max_answer_bytes",
    "extra",
    "price",
    "input",
    "enable_thinking",
    "thinking_budget",
    "thinking",
    "reasoning_effort",
];
const PROVIDER_KEYS: &[&str] = &[
    "kind",
    "base_url",
    "api_key_env",
    "api_key",
    "headers",
    "connect_timeout_secs",
    "idle_timeout_secs",
    "secret_key_env",
    "rpm",
    "concurrency",
];
const KINDS: &str = "openai, anthropic, gemini, ollama, ernie";

/// `[defaults]` or a model's own sampling settings.
#[derive(Clone, Debug, Default)]
pub(super) struct Sampling {
    system: Option<String>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    max_tokens: Option<u32>,
    max_answer_bytes: Option<u32>,
}

impl Ctx<'_> {
    pub(super) fn ui(&mut self, root: &DeTable<'_>) -> Result<UiConfig, ConfigError> {
        let Some(t) = self.section(root, "ui")? else {
            return Ok(UiConfig {
                theme: "default".into(),
                layout: Layout::Columns,
                blind: false,
            });
        };
        self.unknown_keys(t, "ui", UI_KEYS);
        let theme = match self.string(t, "theme", "ui", r#""default""#)? {
            Some(("", span)) => {
                return Err(self.err(
                    span,
                    r#"expected a theme name for ui.theme, like "default""#,
                ));
            }
            Some((name, _)) => name.to_owned(),
            None => "default".to_owned(),
        };
        let layout = match self.string(t, "layout", "ui", r#""columns""#)? {
            None | Some(("columns", _)) => Layout::Columns,
            Some(("rows", _)) => Layout::Rows,
            Some((other, span)) => {
                return Err(self.err(
                    span,
                    format!(r#"ui.layout = "{other}": expected "columns" or "rows""#),
                ));
            }
        };
        let blind = match t.get("blind") {
            None => false,
            Some(item) => item
                .get_ref()
                .as_bool()
                .ok_or_else(|| self.expected(item, "true or false", "ui.blind", "false"))?,
        };
        Ok(UiConfig {
            theme,
            layout,
            blind,
        })
    }

    /// `[defaults]` (path "defaults") or a model's own settings (path "models[N]").
    fn sampling_of(&self, t: &DeTable<'_>, path: &str) -> Result<Sampling, ConfigError> {
        Ok(Sampling {
            system: self
                .string(t, "system", path, r#""You are a helpful assistant.""#)?
                .map(|(s, _)| s.to_owned()),
            temperature: self.number(t, "temperature", path, 0.0..=2.0, "0.7")?,
            top_p: self.number(t, "top_p", path, 0.0..=1.0, "0.9")?,
            max_tokens: self.positive_int(t, "max_tokens", path, "2048")?,
            max_answer_bytes: self.positive_int(t, "max_answer_bytes", path, "2097152")?,
        })
    }

    pub(super) fn sampling(
        &mut self,
        root: &DeTable<'_>,
        name: &str,
    ) -> Result<Option<Sampling>, ConfigError> {
        let Some(t) = self.section(root, name)? else {
            return Ok(None);
        };
        self.unknown_keys(t, name, SAMPLING_KEYS);
        self.sampling_of(t, name).map(Some)
    }

    pub(super) fn providers(
        &mut self,
        root: &DeTable<'_>,
    ) -> Result<BTreeMap<String, Endpoint>, ConfigError> {
        let mut out = BTreeMap::new();
        let Some(t) = self.section(root, "providers")? else {
            return Ok(out);
        };
        for (key, item) in t.iter() {
            let name = key.get_ref().as_ref();
            let path = join_path("providers", name);
            let DeValue::Table(pt) = item.get_ref() else {
                return Err(self.expected(item, "a table", &path, &format!("[{path}]")));
            };
            let endpoint = self.provider(name, &path, key.span(), pt)?;
            out.insert(name.to_owned(), endpoint);
        }
        Ok(out)
    }

    /// One `[providers.NAME]` table over its preset: each key read, checked and placed in
    /// turn (with its line and column on error), so it is as long as the list of keys.
    fn provider(
        &mut self,
        name: &str,
        path: &str,
        at: Range<usize>,
        t: &DeTable<'_>,
    ) -> Result<Endpoint, ConfigError> {
        self.unknown_keys(t, path, PROVIDER_KEYS);
        let kind = match self.string(t, "kind", path, r#""openai""#)? {
            None => None,
            Some((s, span)) => Some(WireKind::parse(s).ok_or_else(|| {
                self.err(
                    span,
                    format!(r#"unknown kind "{s}" (expected one of {KINDS})"#),
                )
            })?),
        };
        let base_url = match self.string(t, "base_url", path, r#""http://127.0.0.1:8000/v1""#)? {
            None => None,
            Some((url, span)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(self.err(
                        span,
                        format!(
                            r#"expected an http:// or https:// URL for {path}.base_url, like "http://127.0.0.1:8000/v1""#
                        ),
                    ));
                }
                Some(url.trim_end_matches('/').to_owned())
            }
        };

        let mut ep = match (preset(name), kind, base_url.clone()) {
            (Some(ep), _, _) => ep,
            (None, Some(kind), Some(base_url)) => Endpoint::new(kind, base_url),
            (None, kind, _) => {
                let missing = match kind {
                    Some(_) => r#"base_url, like base_url = "http://127.0.0.1:8000/v1""#,
                    None if base_url.is_some() => r#"kind, like kind = "openai""#,
                    None => {
                        r#"kind and base_url, like kind = "openai" and base_url = "http://127.0.0.1:8000/v1""#
                    }
                };
                return Err(self.err(
                    at,
                    format!(
                        "[{path}] is not a preset, so it needs {missing} (presets: {})",
                        PRESET_NAMES.join(", ")
                    ),
                ));
            }
        };
        if let Some(kind) = kind {
            ep.kind = kind;
        }
        if let Some(url) = base_url {
            ep.base_url = url;
        }
        if let Some(var) = self.env_var_name(t, "api_key_env", path, "MYLAB_KEY")? {
            ep.api_key_env = Some(var);
        }
        if let Some(item) = t.get("api_key") {
            // The message names the type only: the value may be a key.
            let key = item.get_ref().as_str().ok_or_else(|| {
                self.err(
                    item.span(),
                    format!(
                        r#"expected a string for {path}.api_key (better: api_key_env = "MYLAB_KEY")"#
                    ),
                )
            })?;
            if !key.trim().is_empty() {
                ep.api_key = Some(key.to_owned());
                self.api_key_at.get_or_insert(item.span());
            }
        }
        let secret = self.env_var_name(t, "secret_key_env", path, "QIANFAN_SK")?;
        if let Some(var) = secret.clone() {
            ep.secret_key_env = Some(var);
        }
        if let Some(item) = t.get("headers") {
            ep.headers = self.headers(item, &format!("{path}.headers"))?;
        }
        if let Some(d) = self.seconds(t, "connect_timeout_secs", path, "10")? {
            ep.connect_timeout = d;
        }
        if let Some(d) = self.seconds(t, "idle_timeout_secs", path, "120")? {
            ep.idle_timeout = d;
        }
        if let Some(rpm) = self.positive_int(t, "rpm", path, "60")? {
            ep.rpm = Some(rpm);
        }
        if let Some(n) = self.positive_int(t, "concurrency", path, "8")? {
            ep.concurrency = Some(n);
        }

        if ep.kind == WireKind::Ernie {
            if ep.secret_key_env.is_none() {
                return Err(self.err(
                    at,
                    format!(
                        r#"[{path}] has kind = "ernie", which needs secret_key_env, like secret_key_env = "QIANFAN_SK""#
                    ),
                ));
            }
        } else {
            if let (Some(_), Some(key)) = (secret, t.get_key_value("secret_key_env")) {
                self.warn(
                    key.0.span(),
                    format!(r#"{path}.secret_key_env is only used by kind = "ernie" (ignored)"#),
                );
            }
            // A preset's secret key (ERNIE's) means nothing to another wire format.
            ep.secret_key_env = None;
        }
        Ok(ep)
    }

    /// Every `[[models]]` entry, each key read and checked in turn (with its line and
    /// column on error); as long as the list of a model's keys.
    pub(super) fn models(
        &mut self,
        root: &DeTable<'_>,
        defaults: Option<&Sampling>,
        providers: &BTreeMap<String, Endpoint>,
    ) -> Result<Vec<ModelSpec>, ConfigError> {
        let like = "[[models]] with name and provider";
        let entries = match root.get("models") {
            None => return Err(self.err(0..0, format!("no models configured: add {like}"))),
            Some(item) => match item.get_ref() {
                DeValue::Array(a) if !a.is_empty() => a,
                DeValue::Array(_) => {
                    return Err(self.err(item.span(), format!("no models configured: add {like}")));
                }
                _ => return Err(self.expected(item, "an array of tables", "models", like)),
            },
        };
        let defaults = defaults.cloned().unwrap_or_default();
        let mut first_line: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let path = format!("models[{}]", i + 1);
            let DeValue::Table(t) = entry.get_ref() else {
                return Err(self.expected(
                    entry,
                    "a table",
                    &path,
                    r#"{ name = "qwen-plus", provider = "dashscope" }"#,
                ));
            };
            self.unknown_keys(t, &path, MODEL_KEYS);
            let (name, name_span) = match self.string(t, "name", &path, r#""qwen-plus""#)? {
                Some((name, span)) if !name.trim().is_empty() => (name, span),
                Some((_, span)) => {
                    return Err(self.err(
                        span,
                        format!(r#"expected a non-empty name for {path}.name, like "qwen-plus""#),
                    ));
                }
                None => {
                    return Err(self.err(
                        entry.span(),
                        format!(r#"{path} needs a name, like name = "qwen-plus""#),
                    ));
                }
            };
            let line = line_col(self.src.text, name_span.start).0;
            if let Some(first) = first_line.get(name) {
                return Err(self.err(
                    name_span,
                    format!(r#"duplicate model name "{name}" (first defined at line {first})"#),
                ));
            }
            first_line.insert(name.to_owned(), line);

            let (provider, provider_span) =
                match self.string(t, "provider", &path, r#""dashscope""#)? {
                    Some(p) => p,
                    None => {
                        return Err(self.err(
                            entry.span(),
                            format!(
                                r#"{path} ("{name}") needs a provider, like provider = "dashscope""#
                            ),
                        ));
                    }
                };
            let endpoint = providers
                .get(provider)
                .cloned()
                .or_else(|| preset(provider))
                .ok_or_else(|| self.unknown_provider(provider, provider_span, providers))?;
            let model_id = match self.string(t, "model", &path, r#""qwen-plus""#)? {
                Some((id, _)) => id.to_owned(),
                None => name.to_owned(),
            };
            let own = self.sampling_of(t, &path)?;
            let extra = self.extra(t, &path)?;
            let price = self.price(t, &path)?;
            let input = self.input(t, &path)?;
            out.push(ModelSpec {
                name: name.to_owned(),
                provider: provider.to_owned(),
                model_id,
                endpoint,
                // `system = ""` turns off a system prompt from [defaults].
                system: own
                    .system
                    .or(defaults.system.clone())
                    .filter(|s| !s.is_empty()),
                temperature: own.temperature.or(defaults.temperature),
                top_p: own.top_p.or(defaults.top_p),
                max_tokens: own.max_tokens.or(defaults.max_tokens),
                max_answer_bytes: own.max_answer_bytes.or(defaults.max_answer_bytes),
                extra,
                price,
                input,
            });
        }
        Ok(out)
    }

    /// A model's `input = ["text", "image"]`: what it takes in a prompt, overriding
    /// its wire kind's own set.
    fn input(&self, t: &DeTable<'_>, path: &str) -> Result<Option<Vec<Input>>, ConfigError> {
        let Some(item) = t.get("input") else {
            return Ok(None);
        };
        let full = join_path(path, "input");
        let like = r#"["text", "image"]"#;
        let DeValue::Array(names) = item.get_ref() else {
            return Err(self.expected(item, "an array of strings", &full, like));
        };
        let mut input = Vec::with_capacity(names.len());
        for name in names {
            let known = name.get_ref().as_str().and_then(Input::parse);
            let Some(one) = known else {
                return Err(self.err(
                    name.span(),
                    format!("{full}: expected one of {}, like {like}", Input::NAMES),
                ));
            };
            if !input.contains(&one) {
                input.push(one);
            }
        }
        Ok(Some(input))
    }

    fn unknown_provider(
        &self,
        name: &str,
        span: Range<usize>,
        providers: &BTreeMap<String, Endpoint>,
    ) -> ConfigError {
        let own: Vec<&str> = providers
            .keys()
            .map(String::as_str)
            .filter(|p| preset(p).is_none())
            .collect();
        let mut known: Vec<&str> = PRESET_NAMES.to_vec();
        known.extend(&own);
        let hint = did_you_mean_quoted(name, &known)
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        let own = if own.is_empty() {
            String::new()
        } else {
            format!("; defined: {}", own.join(", "))
        };
        self.err(
            span,
            format!(
                r#"unknown provider "{name}" (presets: {}{own}; or define [providers.{name}]){hint}"#,
                PRESET_NAMES.join(", ")
            ),
        )
    }

    /// The passthrough keys and the `extra` table, as JSON for the request body.
    fn extra(
        &self,
        t: &DeTable<'_>,
        path: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ConfigError> {
        let mut out = serde_json::Map::new();
        for key in PASSTHROUGH_KEYS {
            if let Some(item) = t.get(*key) {
                out.insert((*key).to_owned(), self.json(item, &join_path(path, key))?);
            }
        }
        if let Some(item) = t.get("extra") {
            let full = join_path(path, "extra");
            let DeValue::Table(extra) = item.get_ref() else {
                return Err(self.expected(item, "a table", &full, "{ seed = 42 }"));
            };
            for (key, value) in extra.iter() {
                let name = key.get_ref().as_ref();
                out.insert(name.to_owned(), self.json(value, &join_path(&full, name))?);
            }
        }
        Ok(out)
    }

    pub(super) fn pair(
        &mut self,
        root: &DeTable<'_>,
        models: &[ModelSpec],
    ) -> Result<Pair, ConfigError> {
        let first = models.first().map(|m| m.name.clone()).unwrap_or_default();
        // With one model, both panes use it (the same model twice shows sampling spread).
        let second = models
            .get(1)
            .map_or_else(|| first.clone(), |m| m.name.clone());
        let Some(t) = self.section(root, "pair")? else {
            return Ok(Pair {
                a: first,
                b: second,
            });
        };
        self.unknown_keys(t, "pair", PAIR_KEYS);
        let side = |key: &str, default: String| -> Result<String, ConfigError> {
            match self.string(t, key, "pair", r#""qwen-plus""#)? {
                None => Ok(default),
                Some((name, _)) if models.iter().any(|m| m.name == name) => Ok(name.to_owned()),
                Some((name, span)) => Err(self.err(
                    span,
                    format!(
                        r#"[pair] {key} = "{name}" does not name a model (models: {})"#,
                        models
                            .iter()
                            .map(|m| m.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
        };
        Ok(Pair {
            a: side("a", first)?,
            b: side("b", second)?,
        })
    }

    pub(super) fn arena(
        &mut self,
        root: &DeTable<'_>,
        models: &[ModelSpec],
    ) -> Result<Arena, ConfigError> {
        let Some(t) = self.section(root, "arena")? else {
            return Ok(Arena {
                judge: login_name(),
                weights: BTreeMap::new(),
            });
        };
        self.unknown_keys(t, "arena", ARENA_KEYS);
        let judge = match self.string(t, "judge", "arena", r#""alice""#)? {
            None => login_name(),
            Some((name, span)) if name.trim().is_empty() => {
                return Err(self.err(
                    span,
                    r#"expected a non-empty name for arena.judge, like "alice""#,
                ));
            }
            Some((name, _)) => name.trim().to_owned(),
        };
        let mut weights = BTreeMap::new();
        if let Some(item) = t.get("weights") {
            let like = r#"{ "qwen-plus" = 2.0 }"#;
            let DeValue::Table(w) = item.get_ref() else {
                return Err(self.expected(item, "a table of numbers", "arena.weights", like));
            };
            for (key, value) in w.iter() {
                let name = key.get_ref().as_ref();
                let full = join_path("arena.weights", name);
                let weight = match as_f64(value.get_ref()) {
                    Some(x) if x.is_finite() && x > 0.0 => x,
                    _ => return Err(self.bad_number(value, "a number above 0", &full, "2.0")),
                };
                if models.iter().any(|m| m.name == name) {
                    weights.insert(name.to_owned(), weight);
                } else {
                    self.warn(
                        key.span(),
                        format!("{full}: no model is named \"{name}\" (ignored)"),
                    );
                }
            }
        }
        Ok(Arena { judge, weights })
    }
}

impl Ctx<'_> {
    /// `[judge]`: a template must name the prompt and both answers.
    pub(super) fn judge(&mut self, root: &DeTable<'_>) -> Result<JudgeConfig, ConfigError> {
        let Some(t) = self.section(root, "judge")? else {
            return Ok(JudgeConfig::default());
        };
        self.unknown_keys(t, "judge", JUDGE_KEYS);
        let like = r#""Which answer is better? {prompt} {answer_a} {answer_b} …""#;
        let Some((template, span)) = self.string(t, "template", "judge", like)? else {
            return Ok(JudgeConfig::default());
        };
        let missing: Vec<&str> = TEMPLATE_NEEDS
            .into_iter()
            .filter(|p| !template.contains(p))
            .collect();
        if !missing.is_empty() {
            return Err(self.err(
                span,
                format!(
                    "judge.template lacks {}: the judge must see the prompt and both answers",
                    missing.join(", ")
                ),
            ));
        }
        Ok(JudgeConfig {
            template: Some(template.to_owned()),
        })
    }

    pub(super) fn check(
        &mut self,
        root: &DeTable<'_>,
        models: &[ModelSpec],
    ) -> Result<CheckConfig, ConfigError> {
        let Some(t) = self.section(root, "check")? else {
            return Ok(CheckConfig::default());
        };
        self.unknown_keys(t, "check", CHECK_KEYS);
        match self.string(t, "grader", "check", r#""qwen-max""#)? {
            None => Ok(CheckConfig::default()),
            Some((name, _)) if models.iter().any(|m| m.name == name) => Ok(CheckConfig {
                grader: Some(name.to_owned()),
            }),
            Some((name, span)) => Err(self.err(
                span,
                format!(
                    r#"[check] grader = "{name}" does not name a model (models: {})"#,
                    models
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// `[store] url`: a `postgres://` URL without a password in it.
    pub(super) fn store(&mut self, root: &DeTable<'_>) -> Result<StoreConfig, ConfigError> {
        let Some(t) = self.section(root, "store")? else {
            return Ok(StoreConfig::default());
        };
        self.unknown_keys(t, "store", STORE_KEYS);
        let like = r#""postgres://duel@db.internal:5432/duel""#;
        let Some((url, span)) = self.string(t, "url", "store", like)? else {
            return Ok(StoreConfig::default());
        };
        let Some(rest) = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
        else {
            return Err(self.err(
                span,
                format!("store.url must be a PostgreSQL URL, like {like}"),
            ));
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if let Some((user_info, _)) = authority.rsplit_once('@')
            && user_info.contains(':')
        {
            // Never echo it: the point is that it should not be written down.
            return Err(self.err(
                span,
                "store.url has a password in it: take it out and set DUEL_STORE_PASSWORD \
                 (or put it in ~/.pgpass)"
                    .to_owned(),
            ));
        }
        Ok(StoreConfig {
            url: Some(url.to_owned()),
        })
    }

    /// `[review] lease_secs` and `per_item`.
    pub(super) fn review(&mut self, root: &DeTable<'_>) -> Result<ReviewConfig, ConfigError> {
        let mut review = ReviewConfig::default();
        let Some(t) = self.section(root, "review")? else {
            return Ok(review);
        };
        self.unknown_keys(t, "review", REVIEW_KEYS);
        if let Some(secs) = self.positive_int(t, "lease_secs", "review", "600")? {
            review.lease_secs = secs;
        }
        if let Some(n) = self.positive_int(t, "per_item", "review", "2")? {
            review.per_item = n;
        }
        Ok(review)
    }

    /// A model's `price = { input, output, cached_input?, reasoning?, currency }`, per
    /// million tokens; every amount 0 or more, the currency three capital letters.
    fn price(&mut self, t: &DeTable<'_>, path: &str) -> Result<Option<Price>, ConfigError> {
        let Some(item) = t.get("price") else {
            return Ok(None);
        };
        let full = join_path(path, "price");
        let like = r#"{ input = 0.8, output = 2.0, currency = "CNY" }"#;
        let DeValue::Table(p) = item.get_ref() else {
            return Err(self.expected(item, "a table", &full, like));
        };
        self.unknown_keys(p, &full, PRICE_KEYS);
        let amount = |key: &str| -> Result<Option<f64>, ConfigError> {
            let Some(value) = p.get(key) else {
                return Ok(None);
            };
            match as_f64(value.get_ref()) {
                Some(n) if n >= 0.0 && n.is_finite() => Ok(Some(n)),
                _ => Err(self.bad_number(
                    value,
                    "a price per million tokens, 0 or more",
                    &join_path(&full, key),
                    "0.8",
                )),
            }
        };
        let (Some(input), Some(output)) = (amount("input")?, amount("output")?) else {
            return Err(self.err(
                item.span(),
                format!("{full} needs input and output (per million tokens), like {like}"),
            ));
        };
        let (cached_input, reasoning) = (amount("cached_input")?, amount("reasoning")?);
        let Some((currency, span)) = self.string(p, "currency", &full, r#""CNY""#)? else {
            return Err(self.err(item.span(), format!("{full} needs a currency, like {like}")));
        };
        if !is_currency_code(currency) {
            return Err(self.err(
                span,
                format!(
                    r#"{full}.currency = "{currency}" is no currency code: expected three capital letters, like "CNY" or "USD""#
                ),
            ));
        }
        self.price_currencies.push((currency.to_owned(), span));
        Ok(Some(Price {
            input,
            output,
            cached_input,
            reasoning,
            currency: currency.to_owned(),
        }))
    }

    /// `[report]`: the currency every cost is shown in (default: the one currency the
    /// priced models share) and the user's rates into it. A price in any other
    /// currency needs a rate.
    pub(super) fn report(&mut self, root: &DeTable<'_>) -> Result<Money, ConfigError> {
        let mut money = Money::default();
        if let Some(t) = self.section(root, "report")? {
            self.unknown_keys(t, "report", REPORT_KEYS);
            if let Some((currency, span)) = self.string(t, "currency", "report", r#""CNY""#)? {
                if !is_currency_code(currency) {
                    return Err(self.err(
                        span,
                        format!(
                            r#"report.currency = "{currency}" is no currency code: expected three capital letters, like "CNY""#
                        ),
                    ));
                }
                money.currency = Some(currency.to_owned());
            }
            if let Some(item) = t.get("rates") {
                let like = "{ USD = 7.12 }";
                let DeValue::Table(rates) = item.get_ref() else {
                    return Err(self.expected(item, "a table", "report.rates", like));
                };
                for (key, value) in rates.iter() {
                    let code = key.get_ref().as_ref();
                    let path = join_path("report.rates", code);
                    if !is_currency_code(code) {
                        return Err(self.err(
                            key.span(),
                            format!("{path}: {code:?} is no currency code: expected three capital letters, like USD"),
                        ));
                    }
                    match as_f64(value.get_ref()) {
                        Some(rate) if rate > 0.0 && rate.is_finite() => {
                            money.rates.insert(code.to_owned(), rate);
                        }
                        _ => {
                            return Err(self.bad_number(
                                value,
                                "a rate above 0 (units of the report currency for one of this one)",
                                &path,
                                "7.12",
                            ));
                        }
                    }
                }
            }
        }
        let priced = std::mem::take(&mut self.price_currencies);
        if money.currency.is_none() {
            let mut currencies = priced.iter().map(|(c, _)| c.as_str());
            let first = currencies.next();
            if let Some((other, span)) = priced.iter().find(|(c, _)| Some(c.as_str()) != first) {
                return Err(self.err(
                    span.clone(),
                    format!(
                        r#"models are priced in {} and {other}: set the currency costs are shown in, like [report] currency = "{}" with rates = {{ {other} = … }}"#,
                        first.unwrap_or_default(),
                        first.unwrap_or_default()
                    ),
                ));
            }
            money.currency = first.map(str::to_owned);
        }
        if let Some(report) = money.currency.clone() {
            for (currency, span) in &priced {
                if money.rate(currency).is_none() {
                    return Err(self.err(
                        span.clone(),
                        format!(
                            "a price in {currency} needs a rate into {report}: add [report] rates = {{ {currency} = … }} ({report} for 1 {currency})"
                        ),
                    ));
                }
            }
        }
        Ok(money)
    }
}
