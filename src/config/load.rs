//! Reading and validating a config file. Every problem names the file, line and column
//! and the form that was expected; unknown keys are warnings, never failures.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs;
use std::io;
use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::presets::{PRESET_NAMES, preset};
use super::{
    Arena, Config, EXAMPLE, Endpoint, Layout, ModelSpec, Pair, UiConfig, WireKind, config_dir,
    login_name,
};

/// Where to look for the config file.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--config FILE` or `$DUEL_CONFIG`: this file and no other.
    pub explicit: Option<PathBuf>,
}

/// A config file that cannot be used: where, and what was expected.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub path: Option<PathBuf>,
    /// 1-based; 0 when the problem is the file as a whole (missing, unreadable).
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl ConfigError {
    /// A problem with the whole file rather than a place in it.
    fn file(path: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            path: Some(path.to_path_buf()),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = match &self.path {
            Some(p) => p.display().to_string(),
            None => "built-in config".to_owned(),
        };
        if self.line == 0 {
            write!(f, "{file}: {}", self.message)
        } else {
            write!(f, "{file}:{}:{}: {}", self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The config of `LoadOptions.explicit`, else `<config dir>/config.toml`, else the
/// built-in defaults.
pub fn load(opts: &LoadOptions) -> Result<Config, ConfigError> {
    load_from(opts.explicit.as_deref(), config_dir().as_deref())
}

/// `load` with the config dir given, so nothing depends on the environment.
pub fn load_from(
    explicit: Option<&Path>,
    config_dir: Option<&Path>,
) -> Result<Config, ConfigError> {
    if let Some(path) = explicit {
        return match fs::read(path) {
            Ok(bytes) => parse_bytes(&bytes, path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ConfigError::file(
                path,
                "no such config file (named by --config or $DUEL_CONFIG)",
            )),
            Err(e) => Err(ConfigError::file(path, format!("cannot read: {e}"))),
        };
    }
    let Some(path) = config_dir.map(|dir| dir.join("config.toml")) else {
        return parse_str(EXAMPLE, None);
    };
    match fs::read(&path) {
        Ok(bytes) => parse_bytes(&bytes, &path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => parse_str(EXAMPLE, None),
        Err(e) => Err(ConfigError::file(&path, format!("cannot read: {e}"))),
    }
}

fn parse_bytes(bytes: &[u8], path: &Path) -> Result<Config, ConfigError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_str(text, Some(path)),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, column) = line_col(valid, valid.len());
            Err(ConfigError {
                path: Some(path.to_path_buf()),
                line,
                column,
                message: "expected UTF-8 text (the file has bytes that are not)".into(),
            })
        }
    }
}

/// Parses and validates config text; `path` is only used in messages and for the
/// permission check of a written `api_key`.
pub fn parse_str(text: &str, path: Option<&Path>) -> Result<Config, ConfigError> {
    let src = Source { text, path };
    let root = DeTable::parse(text)
        .map_err(|e| src.error(e.span().unwrap_or(0..0), e.message().to_owned()))?;
    let mut ctx = Ctx {
        src,
        warnings: Vec::new(),
        api_key_at: None,
    };
    let root = root.get_ref();
    ctx.unknown_keys(root, "", ROOT_KEYS);

    let ui = ctx.ui(root)?;
    let providers = ctx.providers(root)?;
    let own_defaults = ctx.sampling(root, "defaults")?;

    let models = if root.contains_key("models") {
        ctx.models(root, own_defaults.as_ref(), &providers)?
    } else {
        // A file without [[models]] (say, only a theme) keeps the built-in model list.
        let example = DeTable::parse(EXAMPLE)
            .map_err(|e| Source::builtin().error(e.span().unwrap_or(0..0), e.message()))?;
        let mut builtin = Ctx {
            src: Source::builtin(),
            warnings: Vec::new(),
            api_key_at: None,
        };
        let defaults = match own_defaults {
            Some(own) => Some(own),
            None => builtin.sampling(example.get_ref(), "defaults")?,
        };
        builtin.models(example.get_ref(), defaults.as_ref(), &providers)?
    };

    let pair = ctx.pair(root, &models)?;
    let arena = ctx.arena(root, &models)?;
    if let (Some(span), Some(path)) = (ctx.api_key_at.clone(), path)
        && readable_by_others(path)
    {
        ctx.warn(
            span,
            "api_key is written in a file other users can read: run `chmod 600` on it, \
             or use api_key_env"
                .into(),
        );
    }

    let mut warnings = ctx.warnings;
    warnings.sort_by_key(|(offset, _)| *offset);
    Ok(Config {
        path: path.map(Path::to_path_buf),
        ui,
        pair,
        arena,
        models,
        warnings: warnings.into_iter().map(|(_, w)| w).collect(),
    })
}

const ROOT_KEYS: &[&str] = &["ui", "pair", "arena", "defaults", "models", "providers"];
const UI_KEYS: &[&str] = &["theme", "layout", "blind"];
const PAIR_KEYS: &[&str] = &["a", "b"];
const ARENA_KEYS: &[&str] = &["judge", "weights"];
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
];
const KINDS: &str = "openai, anthropic, gemini, ollama, ernie";

type Item<'i> = Spanned<DeValue<'i>>;

/// The text being parsed and the name it goes by in messages.
#[derive(Clone, Copy)]
struct Source<'a> {
    text: &'a str,
    path: Option<&'a Path>,
}

impl<'a> Source<'a> {
    fn builtin() -> Source<'static> {
        Source {
            text: EXAMPLE,
            path: None,
        }
    }

    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, column) = line_col(self.text, span.start);
        ConfigError {
            path: self.path.map(Path::to_path_buf),
            line,
            column,
            message: message.into(),
        }
    }

    fn location(&self, span: &Range<usize>) -> String {
        let (line, column) = line_col(self.text, span.start);
        match self.path {
            Some(p) => format!("{}:{line}:{column}", p.display()),
            None => format!("built-in config:{line}:{column}"),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// `[defaults]` or a model's own sampling settings.
#[derive(Clone, Debug, Default)]
struct Sampling {
    system: Option<String>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    max_tokens: Option<u32>,
    max_answer_bytes: Option<u32>,
}

struct Ctx<'a> {
    src: Source<'a>,
    /// (byte offset, message), sorted by offset at the end so they read top to bottom.
    warnings: Vec<(usize, String)>,
    /// Where the first `api_key` is written, for the file-permission warning.
    api_key_at: Option<Range<usize>>,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        self.src.error(span, message)
    }

    fn warn(&mut self, span: Range<usize>, message: String) {
        let line = format!("{}: {message}", self.src.location(&span));
        self.warnings.push((span.start, line));
    }

    fn expected(&self, item: &Item<'_>, what: &str, path: &str, like: &str) -> ConfigError {
        self.err(
            item.span(),
            format!(
                "expected {what} for {path}, like {like} (found {})",
                with_article(item.get_ref().type_str())
            ),
        )
    }

    /// Like `expected`, but a number of the right type with a wrong value is quoted
    /// (numbers are never secrets; strings may be).
    fn bad_number(&self, item: &Item<'_>, what: &str, path: &str, like: &str) -> ConfigError {
        match item.get_ref() {
            DeValue::Integer(_) | DeValue::Float(_) => {
                let shown = self.src.text.get(item.span()).unwrap_or("?");
                self.err(
                    item.span(),
                    format!("{path} = {shown}: expected {what}, like {like}"),
                )
            }
            _ => self.expected(item, what, path, like),
        }
    }

    fn unknown_keys(&mut self, table: &DeTable<'_>, prefix: &str, known: &[&str]) {
        for key in table.keys() {
            let name = key.get_ref().as_ref();
            if known.contains(&name) {
                continue;
            }
            let hint = closest(name, known)
                .map(|k| format!("; did you mean {k}?"))
                .unwrap_or_default();
            self.warn(
                key.span(),
                format!("unknown key {} (ignored{hint})", join_path(prefix, name)),
            );
        }
    }

    /// A top-level table such as `[ui]`, if present.
    fn section<'t, 'i>(
        &self,
        root: &'t DeTable<'i>,
        name: &str,
    ) -> Result<Option<&'t DeTable<'i>>, ConfigError> {
        match root.get(name) {
            None => Ok(None),
            Some(item) => match item.get_ref() {
                DeValue::Table(t) => Ok(Some(t)),
                _ => Err(self.expected(item, "a table", name, &format!("[{name}]"))),
            },
        }
    }

    fn string<'t>(
        &self,
        table: &'t DeTable<'_>,
        key: &str,
        path: &str,
        like: &str,
    ) -> Result<Option<(&'t str, Range<usize>)>, ConfigError> {
        let Some(item) = table.get(key) else {
            return Ok(None);
        };
        match item.get_ref().as_str() {
            Some(s) => Ok(Some((s, item.span()))),
            None => Err(self.expected(item, "a string", &join_path(path, key), like)),
        }
    }

    fn number(
        &self,
        table: &DeTable<'_>,
        key: &str,
        path: &str,
        range: RangeInclusive<f64>,
        like: &str,
    ) -> Result<Option<f64>, ConfigError> {
        let Some(item) = table.get(key) else {
            return Ok(None);
        };
        let full = join_path(path, key);
        let what = format!("a number from {} to {}", range.start(), range.end());
        match as_f64(item.get_ref()) {
            Some(n) if range.contains(&n) => Ok(Some(n)),
            Some(n) => Err(self.err(
                item.span(),
                format!("{full} = {n} is out of range: expected {what}, like {like}"),
            )),
            None => Err(self.expected(item, &what, &full, like)),
        }
    }

    fn positive_int(
        &self,
        table: &DeTable<'_>,
        key: &str,
        path: &str,
        like: &str,
    ) -> Result<Option<u32>, ConfigError> {
        let Some(item) = table.get(key) else {
            return Ok(None);
        };
        match as_i64(item.get_ref()).map(u32::try_from) {
            Some(Ok(n)) if n > 0 => Ok(Some(n)),
            _ => Err(self.bad_number(item, "a whole number above 0", &join_path(path, key), like)),
        }
    }

    fn ui(&mut self, root: &DeTable<'_>) -> Result<UiConfig, ConfigError> {
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

    fn sampling(
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

    fn providers(&mut self, root: &DeTable<'_>) -> Result<BTreeMap<String, Endpoint>, ConfigError> {
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

    /// A key whose value names an environment variable.
    fn env_var_name(
        &self,
        t: &DeTable<'_>,
        key: &str,
        path: &str,
        like: &str,
    ) -> Result<Option<String>, ConfigError> {
        let Some(item) = t.get(key) else {
            return Ok(None);
        };
        let full = join_path(path, key);
        match item.get_ref().as_str() {
            Some(var) if is_env_var_name(var) => Ok(Some(var.to_owned())),
            // Never echo the value: it may be the key itself, pasted in the wrong place.
            Some(_) => Err(self.err(
                item.span(),
                format!(
                    r#"expected the name of an environment variable for {full}, like "{like}" (to write the key itself, use api_key)"#
                ),
            )),
            None => Err(self.expected(item, "a string", &full, &format!(r#""{like}""#))),
        }
    }

    fn headers(&self, item: &Item<'_>, path: &str) -> Result<Vec<(String, String)>, ConfigError> {
        let like = r#"{ "X-Org" = "my-team" }"#;
        let DeValue::Table(t) = item.get_ref() else {
            return Err(self.expected(item, "a table of strings", path, like));
        };
        let mut out = Vec::new();
        for (key, value) in t.iter() {
            let name = key.get_ref().as_ref();
            if name.is_empty() || !name.bytes().all(is_header_name_byte) {
                return Err(self.err(
                    key.span(),
                    format!(r#"{path}: "{name}" is not an HTTP header name, like "X-Org""#),
                ));
            }
            let full = join_path(path, name);
            // Header values may carry credentials: messages name the header, never the value.
            match value.get_ref().as_str() {
                Some(v) if !v.contains(['\r', '\n']) => out.push((name.to_owned(), v.to_owned())),
                Some(_) => {
                    return Err(self.err(
                        value.span(),
                        format!("{full} must be one line (no line breaks)"),
                    ));
                }
                None => return Err(self.expected(value, "a string", &full, r#""my-team""#)),
            }
        }
        Ok(out)
    }

    fn seconds(
        &self,
        t: &DeTable<'_>,
        key: &str,
        path: &str,
        like: &str,
    ) -> Result<Option<Duration>, ConfigError> {
        let Some(item) = t.get(key) else {
            return Ok(None);
        };
        match as_f64(item.get_ref()) {
            Some(s) if s > 0.0 && s <= 86_400.0 => Ok(Some(Duration::from_secs_f64(s))),
            _ => Err(self.bad_number(
                item,
                "a number of seconds above 0 and at most 86400",
                &join_path(path, key),
                like,
            )),
        }
    }

    fn models(
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
            });
        }
        Ok(out)
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
        let hint = closest(name, &known)
            .map(|k| format!(r#"; did you mean "{k}"?"#))
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

    fn json(&self, item: &Item<'_>, path: &str) -> Result<serde_json::Value, ConfigError> {
        use serde_json::Value;
        Ok(match item.get_ref() {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(d) => Value::String(d.to_string()),
            DeValue::Integer(_) => match as_i64(item.get_ref()) {
                Some(n) => Value::from(n),
                None => {
                    return Err(self.err(item.span(), format!("{path}: the integer is too large")));
                }
            },
            DeValue::Float(_) => as_f64(item.get_ref())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| {
                    self.err(
                        item.span(),
                        format!("{path}: expected a finite number, like 0.5"),
                    )
                })?,
            DeValue::Array(a) => Value::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, v)| self.json(v, &format!("{path}[{}]", i + 1)))
                    .collect::<Result<_, _>>()?,
            ),
            DeValue::Table(t) => Value::Object(
                t.iter()
                    .map(|(k, v)| {
                        let name = k.get_ref().as_ref();
                        Ok((name.to_owned(), self.json(v, &join_path(path, name))?))
                    })
                    .collect::<Result<_, ConfigError>>()?,
            ),
        })
    }

    fn pair(&mut self, root: &DeTable<'_>, models: &[ModelSpec]) -> Result<Pair, ConfigError> {
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

    fn arena(&mut self, root: &DeTable<'_>, models: &[ModelSpec]) -> Result<Arena, ConfigError> {
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

fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

fn as_i64(v: &DeValue<'_>) -> Option<i64> {
    let DeValue::Integer(i) = v else { return None };
    i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
}

fn as_f64(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Integer(_) => as_i64(v).map(|n| n as f64),
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        _ => None,
    }
}

/// `prefix.key`, quoting a key that is not a bare TOML key.
fn join_path(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

fn is_env_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The token characters of RFC 9110.
fn is_header_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The known name nearest to a misspelt one, if it is close enough to be a typo.
pub(crate) fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.min(k.len() / 3 + 1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT};
    use serde_json::json;

    const TWO: &str = r#"
[[models]]
name = "qwen-plus"
provider = "dashscope"

[[models]]
name = "ernie-4.5"
provider = "qianfan"
model = "ernie-4.5-turbo-128k"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        parse_str(text, Some(Path::new("config.toml")))
    }

    fn ok(text: &str) -> Config {
        parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(text: &str) -> ConfigError {
        match parse(text) {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e,
        }
    }

    /// Asserts position and that the message contains every fragment.
    fn assert_err(e: &ConfigError, line: usize, column: usize, fragments: &[&str]) {
        assert_eq!((e.line, e.column), (line, column), "{e}");
        for f in fragments {
            assert!(e.message.contains(f), "{e:?} lacks {f:?}");
        }
    }

    #[test]
    fn the_example_parses_with_no_warnings() {
        let c = parse_str(EXAMPLE, None).unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.path, None);
        assert_eq!(
            c.pair,
            Pair {
                a: "qwen-plus".into(),
                b: "ernie-4.5".into()
            }
        );
        assert_eq!(c.ui.theme, "default");
        assert_eq!(c.ui.layout, Layout::Columns);
        assert!(!c.ui.blind);
        let ernie = c.model("ernie-4.5").unwrap();
        assert_eq!(ernie.provider, "qianfan");
        assert_eq!(ernie.model_id, "ernie-4.5-turbo-128k");
        assert_eq!(ernie.temperature, Some(0.7));
        assert_eq!(ernie.max_tokens, Some(2048));
        assert_eq!(
            ernie.system.as_deref(),
            Some("You are a helpful assistant.")
        );
        // Every preset has a working entry.
        for p in PRESET_NAMES {
            assert!(
                c.models.iter().any(|m| m.provider == *p),
                "no model uses {p}"
            );
        }
        let legacy = c.models.iter().find(|m| m.provider == "ernie").unwrap();
        assert_eq!(legacy.model_id, "completions_pro");
        assert_eq!(c.model("qwen3-local").unwrap().model_id, "qwen3");
    }

    #[test]
    fn the_example_commented_lines_are_valid_too() {
        // Uncommenting every `# key = value` line must still parse (the docs are real).
        fn is_setting(line: &str) -> bool {
            let code = line.split('#').next().unwrap_or_default().trim_end();
            let header = code.starts_with('[') && code.ends_with(']');
            let assignment = code
                .split_once(" = ")
                .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            header || assignment
        }
        let uncommented: String = EXAMPLE
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if is_setting(rest) => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n")
            .replace("api_key = \"...\"", "api_key = \"sk-not-a-key\"");
        let c = parse_str(&uncommented, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let mine = c.model("my-model").unwrap();
        assert_eq!(mine.endpoint.base_url, "http://127.0.0.1:8000/v1");
        assert_eq!(mine.temperature, Some(0.2));
        assert_eq!(mine.extra.get("seed"), Some(&json!(42)));
        assert_eq!(c.arena.judge, "alice");
        assert_eq!(
            c.model("qwen3-local").unwrap().endpoint.base_url,
            "http://gpu-box:11434"
        );
    }

    #[test]
    fn no_file_means_the_built_in_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let c = load_from(None, Some(dir.path())).unwrap();
        assert_eq!(c.path, None);
        assert_eq!(c.pair.a, "qwen-plus");
        let c = load_from(None, None).unwrap();
        assert_eq!(c.path, None);
    }

    #[test]
    fn the_config_dir_file_and_an_explicit_path_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join("config.toml");
        fs::write(&default, format!("[ui]\nlayout = \"rows\"\n{TWO}")).unwrap();
        let c = load_from(None, Some(dir.path())).unwrap();
        assert_eq!(c.path.as_deref(), Some(default.as_path()));
        assert_eq!(c.ui.layout, Layout::Rows);

        let explicit = dir.path().join("other.toml");
        fs::write(&explicit, format!("[ui]\nblind = true\n{TWO}")).unwrap();
        let c = load_from(Some(&explicit), Some(dir.path())).unwrap();
        assert_eq!(c.path.as_deref(), Some(explicit.as_path()));
        assert!(c.ui.blind);
        assert_eq!(c.ui.layout, Layout::Columns);
    }

    #[test]
    fn an_explicit_path_that_does_not_exist_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let e = load_from(Some(&missing), Some(dir.path())).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(missing.as_path()));
        assert_eq!((e.line, e.column), (0, 0));
        assert!(e.message.contains("no such config file"), "{e}");
        assert_eq!(
            e.to_string(),
            format!("{}: {}", missing.display(), e.message)
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_names_the_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, b"[ui]\ntheme = \"d\xffx\"\n").unwrap();
        let e = load_from(Some(&path), None).unwrap_err();
        assert_err(&e, 2, 11, &["UTF-8"]);
    }

    #[test]
    fn the_answer_size_limit_is_set_in_defaults_or_per_model() {
        let c = ok(r#"
[defaults]
max_answer_bytes = 65536

[[models]]
name = "a"
provider = "openai"

[[models]]
name = "b"
provider = "openai"
max_answer_bytes = 1048576
"#);
        let limit = |name: &str| c.model(name).unwrap().max_answer_bytes;
        assert_eq!((limit("a"), limit("b")), (Some(65536), Some(1_048_576)));
        let e = err("[defaults]\nmax_answer_bytes = -1\n");
        assert_err(
            &e,
            2,
            20,
            &["defaults.max_answer_bytes = -1: expected a whole number above 0"],
        );
    }

    #[test]
    fn defaults_apply_and_per_model_settings_win() {
        let c = ok(r#"
[defaults]
system = "Be brief."
temperature = 0.5
max_tokens = 1000
top_p = 0.8

[[models]]
name = "a"
provider = "openai"

[[models]]
name = "b"
provider = "openai"
temperature = 1
max_tokens = 50
top_p = 1
system = "Be long."

[[models]]
name = "c"
provider = "openai"
system = ""
"#);
        let a = c.model("a").unwrap();
        assert_eq!(
            (a.system.as_deref(), a.temperature, a.max_tokens, a.top_p),
            (Some("Be brief."), Some(0.5), Some(1000), Some(0.8))
        );
        assert_eq!(a.model_id, "a", "model defaults to the name");
        let b = c.model("b").unwrap();
        assert_eq!(
            (b.system.as_deref(), b.temperature, b.max_tokens, b.top_p),
            (Some("Be long."), Some(1.0), Some(50), Some(1.0))
        );
        assert_eq!(
            c.model("c").unwrap().system,
            None,
            "empty system turns it off"
        );
        assert_eq!(
            c.pair,
            Pair {
                a: "a".into(),
                b: "b".into()
            },
            "default pair: the first two"
        );
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn without_defaults_nothing_is_set() {
        let c = ok(TWO);
        let q = c.model("qwen-plus").unwrap();
        assert_eq!(
            (q.temperature, q.max_tokens, q.top_p, q.system.clone()),
            (None, None, None, None)
        );
        assert_eq!(c.arena.judge, login_name());
        assert!(c.arena.weights.is_empty());
    }

    #[test]
    fn a_file_without_models_keeps_the_built_in_ones() {
        let c = ok(
            "[ui]\ntheme = \"light\"\n[defaults]\ntemperature = 0.1\n[providers.dashscope]\nbase_url = \"https://proxy.example/v1\"\n",
        );
        assert_eq!(c.ui.theme, "light");
        assert_eq!(c.pair.a, "qwen-plus");
        let q = c.model("qwen-plus").unwrap();
        assert_eq!(q.temperature, Some(0.1));
        assert_eq!(
            q.max_tokens, None,
            "the file's [defaults] replace the built-in ones"
        );
        assert_eq!(q.endpoint.base_url, "https://proxy.example/v1");
    }

    #[test]
    fn a_provider_table_named_like_a_preset_overrides_only_its_fields() {
        let c = ok(&format!(
            "[providers.dashscope]\nbase_url = \"https://gw.example/compatible-mode/v1/\"\nidle_timeout_secs = 300\nheaders = {{ \"X-Org\" = \"team\" }}\n{TWO}"
        ));
        let ep = &c.model("qwen-plus").unwrap().endpoint;
        assert_eq!(ep.kind, WireKind::OpenAi);
        assert_eq!(
            ep.base_url, "https://gw.example/compatible-mode/v1",
            "trailing slash trimmed"
        );
        assert_eq!(ep.api_key_env.as_deref(), Some("DASHSCOPE_API_KEY"));
        assert_eq!(ep.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(ep.idle_timeout, Duration::from_secs(300));
        assert_eq!(ep.headers, vec![("X-Org".to_owned(), "team".to_owned())]);
        // The other preset is untouched.
        assert_eq!(
            c.model("ernie-4.5").unwrap().endpoint,
            preset("qianfan").unwrap()
        );
    }

    #[test]
    fn a_new_provider() {
        let c = ok(r#"
[providers.mylab]
kind = "openai"
base_url = "http://127.0.0.1:8000/v1/"
api_key_env = "MYLAB_KEY"
connect_timeout_secs = 3

[providers.baidu-old]
kind = "ernie"
base_url = "https://aip.baidubce.com"
api_key_env = "MY_AK"
secret_key_env = "MY_SK"

[[models]]
name = "local"
provider = "mylab"

[[models]]
name = "legacy"
provider = "baidu-old"
model = "completions_pro"
"#);
        let ep = &c.model("local").unwrap().endpoint;
        assert_eq!(ep.base_url, "http://127.0.0.1:8000/v1");
        assert_eq!(ep.api_key_env.as_deref(), Some("MYLAB_KEY"));
        assert_eq!(ep.connect_timeout, Duration::from_secs(3));
        assert_eq!(ep.idle_timeout, DEFAULT_IDLE_TIMEOUT);
        assert_eq!(ep.secret_key_env, None);
        let legacy = &c.model("legacy").unwrap().endpoint;
        assert_eq!(legacy.kind, WireKind::Ernie);
        assert_eq!(legacy.secret_key_env.as_deref(), Some("MY_SK"));
    }

    #[test]
    fn a_new_provider_needs_kind_and_base_url() {
        let e = err(&format!("[providers.mylab]\nkind = \"openai\"\n{TWO}"));
        assert_err(
            &e,
            1,
            12,
            &["[providers.mylab] is not a preset, so it needs base_url, like"],
        );
        let e = err(&format!("[providers.mylab]\nheaders = {{}}\n{TWO}"));
        assert_err(
            &e,
            1,
            12,
            &["needs kind and base_url", "(presets: dashscope,"],
        );
    }

    #[test]
    fn a_new_ernie_provider_needs_a_secret_key_env() {
        let e = err(&format!(
            "[providers.old]\nkind = \"ernie\"\nbase_url = \"https://aip.baidubce.com\"\napi_key_env = \"AK\"\n{TWO}"
        ));
        assert_err(&e, 1, 12, &["secret_key_env"]);
    }

    #[test]
    fn changing_a_presets_kind_drops_its_ernie_secret() {
        let c = ok(&format!(
            "[providers.ernie]\nkind = \"openai\"\n{TWO}[[models]]\nname = \"e\"\nprovider = \"ernie\"\n"
        ));
        let ep = &c.model("e").unwrap().endpoint;
        assert_eq!(ep.kind, WireKind::OpenAi);
        assert_eq!(ep.secret_key_env, None);
        assert_eq!(ep.api_key_env.as_deref(), Some("QIANFAN_AK"));
    }

    #[test]
    fn passthrough_keys_and_extra_go_into_the_body() {
        let c = ok(r#"
[[models]]
name = "qwen3"
provider = "dashscope"
enable_thinking = true
thinking_budget = 4_096
reasoning_effort = "low"
extra = { seed = 42, stop = ["\n\n"], penalty = 0.5 }

[[models]]
name = "claude"
provider = "anthropic"
thinking = { type = "enabled", budget_tokens = 2048 }
"#);
        let q = &c.model("qwen3").unwrap().extra;
        assert_eq!(
            serde_json::Value::Object(q.clone()),
            json!({"enable_thinking": true, "thinking_budget": 4096, "reasoning_effort": "low",
                   "seed": 42, "stop": ["\n\n"], "penalty": 0.5})
        );
        let claude = &c.model("claude").unwrap().extra;
        assert_eq!(
            claude["thinking"],
            json!({"type": "enabled", "budget_tokens": 2048})
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn a_syntax_error_has_tomls_message_and_place() {
        let e = err("[ui]\ntheme = \"default\nlayout = \"rows\"\n");
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("string"), "{e}");
        let e = err("[ui]\nblind = yes\n");
        assert_err(&e, 2, 9, &["quoted"]);
        let e = err("[ui]\nblind = true\n[ui]\n");
        assert_err(&e, 3, 2, &["duplicate key"]);
        assert_eq!(e.to_string(), format!("config.toml:3:2: {}", e.message));
    }

    #[test]
    fn a_wrong_type_names_the_key_and_the_expected_form() {
        let text = format!("{TWO}\n[[models]]\nname = \"x\"\n  provider = 3\n");
        let e = err(&text);
        assert_err(
            &e,
            13,
            14,
            &[r#"expected a string for models[3].provider, like "dashscope""#],
        );
        assert_eq!(
            e.to_string(),
            r#"config.toml:13:14: expected a string for models[3].provider, like "dashscope" (found an integer)"#
        );
        let e = err("[ui]\nblind = \"yes\"\n");
        assert_err(&e, 2, 9, &["expected true or false for ui.blind"]);
        let e = err("ui = 3\n");
        assert_err(&e, 1, 6, &["expected a table for ui, like [ui]"]);
        let e = err("[ui]\nlayout = \"grid\"\n");
        assert_err(&e, 2, 10, &[r#"expected "columns" or "rows""#]);
        let e = err(&format!(
            "{TWO}[[models]]\nname = \"m\"\nprovider = \"openai\"\nmax_tokens = 2.5\n"
        ));
        assert_err(
            &e,
            13,
            14,
            &["models[3].max_tokens = 2.5: expected a whole number above 0, like 2048"],
        );
    }

    #[test]
    fn an_unknown_provider_lists_the_presets() {
        let e = err("[[models]]\nname = \"q\"\nprovider = \"dashscop\"\n");
        assert_err(
            &e,
            3,
            12,
            &[
                r#"unknown provider "dashscop""#,
                r#"(presets: dashscope, dashscope-intl, qianfan, ernie,"#,
                r#"ollama; or define [providers.dashscop]); did you mean "dashscope"?"#,
            ],
        );
    }

    #[test]
    fn an_unknown_kind_lists_the_kinds() {
        let e = err(&format!(
            "{TWO}\n[providers.mylab]\nkind = \"opena\"\nbase_url = \"http://x\"\n"
        ));
        assert_err(
            &e,
            12,
            8,
            &[r#"unknown kind "opena" (expected one of openai, anthropic, gemini, ollama, ernie)"#],
        );
    }

    #[test]
    fn a_duplicate_model_name_points_at_both() {
        let e = err(&format!(
            "{TWO}\n[[models]]\nname = \"qwen-plus\"\nprovider = \"openai\"\n"
        ));
        assert_err(
            &e,
            12,
            8,
            &[r#"duplicate model name "qwen-plus" (first defined at line 3)"#],
        );
    }

    #[test]
    fn a_model_needs_a_name_and_a_provider() {
        let e = err("[[models]]\nprovider = \"openai\"\n");
        assert_err(&e, 1, 1, &["models[1] needs a name"]);
        let e = err("[[models]]\nname = \"x\"\n");
        assert_err(&e, 1, 1, &["needs a provider"]);
        let e = err("models = []\n");
        assert_err(&e, 1, 10, &["no models configured"]);
    }

    #[test]
    fn the_pair_must_name_configured_models() {
        let e = err(&format!("[pair]\na = \"nope\"\n{TWO}"));
        assert_err(
            &e,
            2,
            5,
            &[r#"[pair] a = "nope" does not name a model (models: qwen-plus, ernie-4.5)"#],
        );
        let c = ok(&format!("[pair]\nb = \"qwen-plus\"\n{TWO}"));
        assert_eq!(
            c.pair,
            Pair {
                a: "qwen-plus".into(),
                b: "qwen-plus".into()
            }
        );
    }

    #[test]
    fn out_of_range_numbers_are_errors() {
        let e = err(&format!("{TWO}temperature = 2.5\n"));
        assert_err(
            &e,
            10,
            15,
            &[
                "models[2].temperature = 2.5 is out of range: expected a number from 0 to 2, like 0.7",
            ],
        );
        let e = err("[defaults]\ntop_p = 1.5\n");
        assert_err(&e, 2, 9, &["defaults.top_p"]);
        let e = err("[defaults]\nmax_tokens = 0\n");
        assert_err(
            &e,
            2,
            14,
            &["defaults.max_tokens = 0: expected a whole number above 0"],
        );
        let e = err("[defaults]\ntemperature = nan\n");
        assert_err(&e, 2, 15, &["defaults.temperature"]);
        let e = err(&format!(
            "[providers.openai]\nidle_timeout_secs = -1\n{TWO}"
        ));
        assert_err(
            &e,
            2,
            21,
            &["providers.openai.idle_timeout_secs = -1: expected a number of seconds"],
        );
    }

    #[test]
    fn unknown_keys_are_warnings_in_file_order() {
        let c = ok(&format!(
            "colour = 1\n[ui]\ncolour = \"red\"\nthem = \"x\"\n[arena]\nweights = {{ \"qwen-plus\" = 2, ghost = 1.0 }}\n{TWO}tempurature = 1\nfoo.bar = 2\n"
        ));
        assert_eq!(
            c.warnings,
            vec![
                "config.toml:1:1: unknown key colour (ignored)".to_owned(),
                "config.toml:3:1: unknown key ui.colour (ignored)".to_owned(),
                "config.toml:4:1: unknown key ui.them (ignored; did you mean theme?)".to_owned(),
                r#"config.toml:6:30: arena.weights.ghost: no model is named "ghost" (ignored)"#
                    .to_owned(),
                "config.toml:16:1: unknown key models[2].tempurature (ignored; did you mean temperature?)"
                    .to_owned(),
                "config.toml:17:1: unknown key models[2].foo (ignored)".to_owned(),
            ]
        );
        assert_eq!(
            c.arena.weights,
            BTreeMap::from([("qwen-plus".to_owned(), 2.0)])
        );
        assert_eq!(c.model("ernie-4.5").unwrap().temperature, None);
    }

    #[test]
    fn bad_weights_and_judge() {
        let e = err(&format!(
            "[arena]\nweights = {{ \"qwen-plus\" = 0 }}\n{TWO}"
        ));
        assert_err(
            &e,
            2,
            27,
            &[r#"arena.weights.qwen-plus = 0: expected a number above 0, like 2.0"#],
        );
        let e = err(&format!("[arena]\njudge = \" \"\n{TWO}"));
        assert_err(&e, 2, 9, &["arena.judge"]);
        let c = ok(&format!("[arena]\njudge = \"bob\"\n{TWO}"));
        assert_eq!(c.arena.judge, "bob");
    }

    #[test]
    fn an_api_key_never_appears_in_messages_or_debug() {
        let secret = "sk-TOPSECRET123";
        let c = ok(&format!(
            "[providers.openai]\napi_key = \"{secret}\"\nheaders = {{ Authorization = \"Bearer {secret}\" }}\n{TWO}"
        ));
        assert_eq!(c.model("qwen-plus").unwrap().endpoint.api_key, None);
        let debug = format!("{c:?}");
        assert!(!debug.contains(secret), "{debug}");

        // A key pasted where the env var name goes is refused without being echoed.
        let e = err(&format!(
            "[providers.openai]\napi_key_env = \"{secret}-x\"\n{TWO}"
        ));
        assert_err(&e, 2, 15, &["name of an environment variable"]);
        assert!(!e.to_string().contains(secret));
        let e = err(&format!("[providers.openai]\napi_key = 12345\n{TWO}"));
        assert!(!e.to_string().contains("12345"));
        let e = err(&format!(
            "[providers.openai]\napi_key = \"{secret}\nx = 1\n"
        ));
        assert!(!e.to_string().contains(secret), "{e}");
        let e = err(&format!(
            "[providers.openai]\nheaders = {{ X = \"{secret}\\n\" }}\n{TWO}"
        ));
        assert!(!e.to_string().contains(secret), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn an_api_key_in_a_readable_file_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let secret = "sk-TOPSECRET123";
        fs::write(
            &path,
            format!("{TWO}\n[providers.openai]\napi_key = \"{secret}\"\n"),
        )
        .unwrap();

        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let c = load_from(Some(&path), None).unwrap();
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].ends_with(
            ":12:11: api_key is written in a file other users can read: run `chmod 600` on it, or use api_key_env"
        ));
        assert!(!c.warnings[0].contains(secret));

        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let c = load_from(Some(&path), None).unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let key = c.models.iter().find(|m| m.provider == "openai");
        assert!(key.is_none(), "no model uses it here");
    }

    #[test]
    fn bad_provider_fields() {
        let e = err(&format!(
            "[providers.mylab]\nkind = \"openai\"\nbase_url = \"127.0.0.1:8000\"\n{TWO}"
        ));
        assert_err(
            &e,
            3,
            12,
            &["http:// or https:// URL for providers.mylab.base_url"],
        );
        let e = err(&format!(
            "[providers.openai]\nheaders = {{ \"Bad Header\" = \"x\" }}\n{TWO}"
        ));
        assert_err(&e, 2, 13, &["not an HTTP header name"]);
        let e = err(&format!(
            "[providers.openai]\nheaders = \"X-Org: x\"\n{TWO}"
        ));
        assert_err(
            &e,
            2,
            11,
            &["expected a table of strings for providers.openai.headers"],
        );
        let c = ok(&format!(
            "[providers.openai]\nsecret_key_env = \"SK\"\n{TWO}"
        ));
        assert_eq!(
            c.warnings,
            vec![
                r#"config.toml:2:1: providers.openai.secret_key_env is only used by kind = "ernie" (ignored)"#
            ]
        );
    }

    #[test]
    fn paths_quote_keys_that_are_not_bare() {
        assert_eq!(
            join_path("arena.weights", "qwen-max"),
            "arena.weights.qwen-max"
        );
        assert_eq!(
            join_path("arena.weights", "qwen 2.5"),
            r#"arena.weights."qwen 2.5""#
        );
        assert_eq!(join_path("", "ui"), "ui");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(line_col("a = \"通义\"\nb", 11), (1, 8));
        assert_eq!(line_col("a\nb", 2), (2, 1));
        assert_eq!(line_col("", 5), (1, 1));
    }
}
