//! Reading and validating a config file. Every problem names the file, line and column
//! and the form that was expected; unknown keys are warnings, never failures.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use toml::de::DeTable;

use super::error::{ConfigError, Source, line_col};
use super::fields::Ctx;
use super::sections::ROOT_KEYS;
use super::{Config, EXAMPLE, config_dir};

/// Where to look for the config file.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--config FILE` or `$DUEL_CONFIG`: this file and no other.
    pub explicit: Option<PathBuf>,
}

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
        price_currencies: Vec::new(),
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
            price_currencies: Vec::new(),
        };
        let defaults = match own_defaults {
            Some(own) => Some(own),
            None => builtin.sampling(example.get_ref(), "defaults")?,
        };
        builtin.models(example.get_ref(), defaults.as_ref(), &providers)?
    };

    let pair = ctx.pair(root, &models)?;
    let arena = ctx.arena(root, &models)?;
    let judge = ctx.judge(root)?;
    let check = ctx.check(root, &models)?;
    let money = ctx.report(root)?;
    let store = ctx.store(root)?;
    let review = ctx.review(root)?;
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
        judge,
        check,
        store,
        review,
        money,
        models,
        warnings: warnings.into_iter().map(|(_, w)| w).collect(),
        set_aside: Vec::new(),
    })
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
    use crate::config::presets::{PRESET_NAMES, preset};
    use crate::config::{
        DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, Layout, Pair, WireKind, login_name,
    };
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::time::Duration;

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

    /// What a model takes in a prompt: its wire kind's set unless `input` says; a name
    /// that is no input points at itself.
    #[test]
    fn input_overrides_what_a_kind_takes_and_a_wrong_one_is_pointed_at() {
        use crate::attachment::Input;
        let c = ok(TWO);
        // dashscope speaks OpenAI's wire, which takes images but no PDF documents.
        assert!(c.models[0].takes(Input::Image));
        assert!(!c.models[0].takes(Input::Pdf));
        let c = ok(&format!("{TWO}input = [\"text\"]\n"));
        assert!(!c.models[1].takes(Input::Image));
        assert!(
            c.models[0].takes(Input::Image),
            "only the model that says so"
        );
        let c = ok(&format!("{TWO}input = [\"text\", \"image\", \"pdf\"]\n"));
        assert!(c.models[1].takes(Input::Pdf));

        let e = err(&format!("{TWO}input = [\"text\", \"video\"]\n"));
        assert_err(
            &e,
            10,
            18,
            &["models[2].input", r#""text", "image", "pdf""#],
        );
        let e = err(&format!("{TWO}input = \"image\"\n"));
        assert_err(&e, 10, 9, &["models[2].input", "an array of strings"]);
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
    fn a_store_url_and_review_leases_and_what_is_refused_of_them() {
        let c = ok(&format!(
            "[store]\nurl = \"postgres://duel@db.internal:5432/duel\"\n[review]\nlease_secs = 120\nper_item = 2\n{TWO}"
        ));
        assert_eq!(
            c.store.url.as_deref(),
            Some("postgres://duel@db.internal:5432/duel")
        );
        assert_eq!((c.review.lease_secs, c.review.per_item), (120, 2));
        let c = ok(TWO);
        assert_eq!(
            (
                c.store.url.as_deref(),
                c.review.lease_secs,
                c.review.per_item
            ),
            (None, 600, 1)
        );

        // A password in the URL is refused where it stands, and never echoed.
        let e = err(&format!(
            "[store]\nurl = \"postgres://duel:hunter2-planted@db:5432/duel\"\n{TWO}"
        ));
        assert_err(
            &e,
            2,
            7,
            &["store.url has a password in it", "DUEL_STORE_PASSWORD"],
        );
        assert!(!e.to_string().contains("hunter2-planted"), "{e}");
        let e = err(&format!("[store]\nurl = \"mysql://db/duel\"\n{TWO}"));
        assert_err(&e, 2, 7, &["store.url must be a PostgreSQL URL"]);
        let e = err(&format!("[review]\nper_item = 0\n{TWO}"));
        assert_err(&e, 2, 12, &["review.per_item"]);
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
    fn a_provider_s_pace_for_batch_and_judge() {
        let c = ok(r#"
[providers.dashscope]
rpm = 60
concurrency = 8

[[models]]
name = "qwen-plus"
provider = "dashscope"
"#);
        let ep = &c.model("qwen-plus").unwrap().endpoint;
        assert_eq!((ep.rpm, ep.concurrency), (Some(60), Some(8)));
        assert_eq!(
            ok("[[models]]\nname = \"m\"\nprovider = \"openai\"\n")
                .model("m")
                .unwrap()
                .endpoint
                .rpm,
            None,
            "no pacing unless asked"
        );
        let e = err("[providers.openai]\nrpm = 0\n");
        assert_err(&e, 2, 7, &["providers.openai.rpm", "above 0", "60"]);
        let e = err("[providers.openai]\nconcurrency = \"lots\"\n");
        assert_err(&e, 2, 15, &["providers.openai.concurrency", "whole number"]);
    }

    #[test]
    fn prices_are_read_with_their_currency_and_bad_ones_point_at_the_value() {
        let priced = |qwen: &str, ernie: &str, report: &str| {
            format!(
                "{report}\n[[models]]\nname = \"qwen-plus\"\nprovider = \"dashscope\"\nprice = {qwen}\n\n[[models]]\nname = \"ernie-4.5\"\nprovider = \"qianfan\"\nprice = {ernie}\n"
            )
        };
        let cny = r#"{ input = 0.8, output = 2.0, cached_input = 0.16, currency = "CNY" }"#;
        let c = ok(&priced(
            cny,
            r#"{ input = 4, output = 16, currency = "CNY" }"#,
            "",
        ));
        let price = c.models[0].price.as_ref().unwrap();
        assert_eq!(
            (price.input, price.output, price.cached_input),
            (0.8, 2.0, Some(0.16))
        );
        assert_eq!(
            c.money.currency.as_deref(),
            Some("CNY"),
            "the one currency both share"
        );
        assert!(c.prices().knows("ernie-4.5"));
        // No price at all: no currency, every cost unknown.
        assert_eq!(ok(TWO).money.currency, None);
        assert!(!ok(TWO).prices().knows("qwen-plus"));

        let usd = r#"{ input = 0.15, output = 0.6, currency = "USD" }"#;
        // Two currencies and no [report] currency: which one to show is the user's call.
        let e = err(&priced(cny, usd, ""));
        assert_err(&e, 10, 50, &["priced in CNY and USD", "[report] currency"]);
        // A report currency, but no rate for USD.
        let e = err(&priced(cny, usd, "[report]\ncurrency = \"CNY\"\n"));
        assert_err(&e, 12, 50, &["needs a rate into CNY", "rates = { USD"]);
        let c = ok(&priced(
            cny,
            usd,
            "[report]\ncurrency = \"CNY\"\nrates = { USD = 7.12 }\n",
        ));
        assert_eq!(c.money.rate("USD"), Some(7.12));
        // A negative price, a currency that is no code, a price without output.
        let e = err(&priced(
            r#"{ input = -1, output = 2, currency = "CNY" }"#,
            cny,
            "",
        ));
        assert_err(&e, 5, 19, &["models[1].price.input", "0 or more", "-1"]);
        let e = err(&priced(
            r#"{ input = 1, output = 2, currency = "yuan" }"#,
            cny,
            "",
        ));
        assert_err(&e, 5, 45, &["\"yuan\" is no currency code"]);
        let e = err(&priced(r#"{ input = 1, currency = "CNY" }"#, cny, ""));
        assert_err(&e, 5, 9, &["needs input and output"]);
        let e = err(&priced(cny, cny, "[report]\nrates = { USD = 0 }\n"));
        assert_err(&e, 2, 17, &["report.rates.USD", "above 0"]);
    }

    /// The example prices in the starter config, uncommented with its `[report]`,
    /// are a valid config: three models priced, USD converted into CNY.
    #[test]
    fn the_example_prices_read_once_uncommented() {
        let text: String = EXAMPLE
            .lines()
            .map(|line| {
                let open = ["# price = ", "# [report]", "# currency = ", "# rates = "];
                match open.iter().find(|p| line.starts_with(*p)) {
                    Some(_) => &line[2..],
                    None => line,
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = parse_str(&text, None).unwrap_or_else(|e| panic!("{e}"));
        let prices = c.prices();
        assert_eq!(prices.currency.as_deref(), Some("CNY"));
        for model in ["qwen-plus", "gpt-4o-mini", "claude-sonnet-4-5"] {
            assert!(prices.knows(model), "{model}");
        }
        assert!(!prices.knows("ernie-4.5"));
    }

    #[test]
    fn a_check_grader_names_a_configured_model() {
        let c = ok(&format!("[check]\ngrader = \"ernie-4.5\"\n{TWO}"));
        assert_eq!(c.check.grader.as_deref(), Some("ernie-4.5"));
        assert_eq!(ok(TWO).check.grader, None);
        let e = err(&format!("[check]\ngrader = \"gpt-5\"\n{TWO}"));
        assert_err(
            &e,
            2,
            10,
            &["[check] grader", "gpt-5", "qwen-plus, ernie-4.5"],
        );
    }

    #[test]
    fn a_judge_template_must_show_the_judge_the_prompt_and_both_answers() {
        let c = ok(
            "[judge]\ntemplate = \"Q: {prompt}\\nA: {answer_a}\\nB: {answer_b}\\nRef: {reference}\"\n",
        );
        assert!(c.judge.template.unwrap().contains("{reference}"));
        assert_eq!(ok("").judge.template, None, "the built-in template");
        let e = err("[judge]\ntemplate = \"Which is better, {answer_a} or {answer_b}?\"\n");
        assert_err(&e, 2, 12, &["judge.template", "{prompt}"]);
        let c = ok("[judge]\ntemplat = \"x\"\n");
        assert!(
            c.warnings.iter().any(|w| w.contains("templat")),
            "{:?}",
            c.warnings
        );
    }
}
