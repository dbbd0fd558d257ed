//! The parsing context and its typed field readers: each reads one key as the form it
//! must have (string, number in a range, env var name, headers, seconds, JSON) and
//! says what was expected, where, when it is not.

use std::ops::{Range, RangeInclusive};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, Source};
use super::suggest::did_you_mean;

pub(super) type Item<'i> = Spanned<DeValue<'i>>;

/// One file being read: its text, and the warnings found so far.
pub(super) struct Ctx<'a> {
    pub(super) src: Source<'a>,
    /// (byte offset, message), sorted by offset at the end so they read top to bottom.
    pub(super) warnings: Vec<(usize, String)>,
    /// Where the first `api_key` is written, for the file-permission warning.
    pub(super) api_key_at: Option<Range<usize>>,
    /// Each model price's currency and where it is written, checked against
    /// `[report]` once that is read.
    pub(super) price_currencies: Vec<(String, Range<usize>)>,
}

impl Ctx<'_> {
    pub(super) fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        self.src.error(span, message)
    }

    pub(super) fn warn(&mut self, span: Range<usize>, message: String) {
        let line = format!("{}: {message}", self.src.location(&span));
        self.warnings.push((span.start, line));
    }

    pub(super) fn expected(
        &self,
        item: &Item<'_>,
        what: &str,
        path: &str,
        like: &str,
    ) -> ConfigError {
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
    pub(super) fn bad_number(
        &self,
        item: &Item<'_>,
        what: &str,
        path: &str,
        like: &str,
    ) -> ConfigError {
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

    pub(super) fn unknown_keys(&mut self, table: &DeTable<'_>, prefix: &str, known: &[&str]) {
        for key in table.keys() {
            let name = key.get_ref().as_ref();
            if known.contains(&name) {
                continue;
            }
            let hint = did_you_mean(name, known)
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            self.warn(
                key.span(),
                format!("unknown key {} (ignored{hint})", join_path(prefix, name)),
            );
        }
    }

    /// A top-level table such as `[ui]`, if present.
    pub(super) fn section<'t, 'i>(
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

    pub(super) fn string<'t>(
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

    pub(super) fn number(
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

    pub(super) fn positive_int(
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

    /// A key whose value names an environment variable.
    pub(super) fn env_var_name(
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

    pub(super) fn headers(
        &self,
        item: &Item<'_>,
        path: &str,
    ) -> Result<Vec<(String, String)>, ConfigError> {
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

    pub(super) fn seconds(
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

    pub(super) fn json(
        &self,
        item: &Item<'_>,
        path: &str,
    ) -> Result<serde_json::Value, ConfigError> {
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
}

pub(super) fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

pub(super) fn as_i64(v: &DeValue<'_>) -> Option<i64> {
    let DeValue::Integer(i) = v else { return None };
    i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
}

pub(super) fn as_f64(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Integer(_) => as_i64(v).map(|n| n as f64),
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        _ => None,
    }
}

/// `prefix.key`, quoting a key that is not a bare TOML key.
pub(super) fn join_path(prefix: &str, key: &str) -> String {
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

pub(super) fn is_env_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The token characters of RFC 9110.
pub(super) fn is_header_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
