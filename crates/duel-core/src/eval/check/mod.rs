//! Checks on answers (SPEC §9): is the answer right, beside which one people prefer.
//! A suite item's `assert` list names them with promptfoo's types, so a promptfoo
//! user feels at home. This module holds what a check is (parsed and validated when
//! the suite loads, so a bad one is a suite error with its line) and grades the
//! checks that need nothing but the answer; `command` and `llm-rubric` run elsewhere
//! (a program, a grader model) and come back as an [`Outcome`] like the rest.

mod grade;
pub mod rates;
pub mod record;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use grade::{Graded, grade};

/// How a check ended. `Error` (it could not run: a grader that failed, an unknown
/// price, a missing program) is never a pass or a fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Error,
}

/// One check's result on one answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    /// 0 to 1: 1 for a pass, 0 for a fail, a rubric's or similarity's own score.
    pub score: f64,
    /// Why, in a line.
    pub reason: String,
}

impl Outcome {
    pub fn pass(score: f64, reason: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Pass,
            score,
            reason: reason.into(),
        }
    }

    pub fn fail(score: f64, reason: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Fail,
            score,
            reason: reason.into(),
        }
    }

    pub fn error(reason: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Error,
            score: 0.0,
            reason: reason.into(),
        }
    }

    /// Passes when `ok`, with the reason either way.
    fn of(ok: bool, reason: String) -> Self {
        if ok {
            Self::pass(1.0, reason)
        } else {
            Self::fail(0.0, reason)
        }
    }

    /// The outcome of a `not-` check: a pass becomes a fail and the other way round;
    /// an error stays one.
    fn negated(self) -> Self {
        match self.verdict {
            Verdict::Pass => Self::fail(1.0 - self.score, format!("not: {}", self.reason)),
            Verdict::Fail => Self::pass(1.0 - self.score, format!("not: {}", self.reason)),
            Verdict::Error => self,
        }
    }
}

/// One check, as the suite wrote it and as duel runs it.
#[derive(Clone)]
pub struct Check {
    pub kind: Kind,
    /// Written with `not-` before its type.
    pub negated: bool,
    /// Its share of the item's weighted score (default 1).
    pub weight: f64,
    /// The definition as written: what it shows as.
    pub definition: Value,
    /// The hex sha256 of the definition: a check whose definition changed is graded
    /// again, one that did not is not.
    pub digest: String,
}

/// What a check looks at.
#[derive(Clone)]
pub enum Kind {
    Equals(String),
    Contains(String),
    IContains(String),
    StartsWith(String),
    Regex(regex::Regex),
    ContainsAny(Vec<String>),
    ContainsAll(Vec<String>),
    IContainsAny(Vec<String>),
    IContainsAll(Vec<String>),
    /// The answer is JSON (contains JSON), valid against the schema where one is given.
    IsJson(Option<Schema>),
    ContainsJson(Option<Schema>),
    /// The answer's finish reason, as the record spells it.
    Finish(String),
    /// Total milliseconds at most.
    Latency(u64),
    /// Milliseconds to the first token at most.
    Ttft(u64),
    MaxTokens(u64),
    /// The answer's cost at most, in the report currency.
    Cost(f64),
    /// Character-level similarity to `value` (else the item's reference) at least
    /// `threshold`.
    Similar {
        value: Option<String>,
        threshold: f64,
    },
    /// A program (argv, no shell) reading the answer on stdin; passes when it exits 0.
    Command(Vec<String>),
    /// A grader model's verdict on the rubric.
    Rubric(String),
}

/// A compiled JSON Schema, shared by every answer it checks.
#[derive(Clone)]
pub struct Schema(Arc<jsonschema::Validator>);

impl Check {
    /// Its type as written, `not-` included: `icontains`, `not-regex`, `llm-rubric`.
    pub fn type_name(&self) -> String {
        let name = match &self.kind {
            Kind::Equals(_) => "equals",
            Kind::Contains(_) => "contains",
            Kind::IContains(_) => "icontains",
            Kind::StartsWith(_) => "starts-with",
            Kind::Regex(_) => "regex",
            Kind::ContainsAny(_) => "contains-any",
            Kind::ContainsAll(_) => "contains-all",
            Kind::IContainsAny(_) => "icontains-any",
            Kind::IContainsAll(_) => "icontains-all",
            Kind::IsJson(_) => "is-json",
            Kind::ContainsJson(_) => "contains-json",
            Kind::Finish(_) => "finish",
            Kind::Latency(_) => "latency",
            Kind::Ttft(_) => "ttft",
            Kind::MaxTokens(_) => "max-tokens",
            Kind::Cost(_) => "cost",
            Kind::Similar { .. } => "similar",
            Kind::Command(_) => "command",
            Kind::Rubric(_) => "llm-rubric",
        };
        if self.negated {
            format!("not-{name}")
        } else {
            name.to_owned()
        }
    }

    /// Reads one entry of an `assert` list. `dir` is the suite's folder, where a
    /// `file:` schema is looked for.
    pub fn parse(definition: &Value, dir: &Path) -> Result<Check, String> {
        let Value::Object(fields) = definition else {
            return Err(format!(
                "a check is an object with a \"type\", not {definition}"
            ));
        };
        let known = ["type", "value", "threshold", "weight"];
        if let Some(other) = fields.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!(
                "check field {other:?} is not one duel knows ({})",
                known.join(", ")
            ));
        }
        let Some(Value::String(written)) = fields.get("type") else {
            return Err("a check needs a \"type\" string".into());
        };
        let (negated, name) = match written.strip_prefix("not-") {
            Some(name) => (true, name),
            None => (false, written.as_str()),
        };
        let value = fields.get("value");
        let threshold = fields.get("threshold");
        let weight = match fields.get("weight") {
            None => 1.0,
            Some(w) => w
                .as_f64()
                .filter(|w| w.is_finite() && *w >= 0.0)
                .ok_or_else(|| format!("{written}: \"weight\" must be a number ≥ 0"))?,
        };
        if !TYPES.contains(&name) {
            return Err(format!(
                "unknown check type {name:?}; duel knows {} (each may have not- before it)",
                TYPES.join(", ")
            ));
        }
        let kind = kind(name, value, threshold, dir).map_err(|e| format!("{written}: {e}"))?;
        Ok(Check {
            kind,
            negated,
            weight,
            definition: definition.clone(),
            digest: crate::eval::run::sha256_hex(definition.to_string().as_bytes()),
        })
    }
}

/// Every type a check may have, for the message that names an unknown one.
pub const TYPES: &[&str] = &[
    "equals",
    "contains",
    "icontains",
    "starts-with",
    "regex",
    "contains-any",
    "contains-all",
    "icontains-any",
    "icontains-all",
    "is-json",
    "contains-json",
    "finish",
    "latency",
    "ttft",
    "max-tokens",
    "cost",
    "similar",
    "command",
    "llm-rubric",
];

fn kind(
    name: &str,
    value: Option<&Value>,
    threshold: Option<&Value>,
    dir: &Path,
) -> Result<Kind, String> {
    let text = || match value {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err("\"value\" must be a non-empty string".to_owned()),
    };
    let list = || match value {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| "\"value\" must be a list of strings".to_owned()),
        _ => Err("\"value\" must be a non-empty list of strings".to_owned()),
    };
    let limit = || {
        threshold
            .and_then(Value::as_u64)
            .ok_or_else(|| "\"threshold\" must be a whole number ≥ 0".to_owned())
    };
    Ok(match name {
        "equals" => Kind::Equals(text()?),
        "contains" => Kind::Contains(text()?),
        "icontains" => Kind::IContains(text()?),
        "starts-with" => Kind::StartsWith(text()?),
        // The regex crate's message spans lines (the pattern, a caret); its last says why.
        "regex" => Kind::Regex(regex::Regex::new(&text()?).map_err(|e| {
            let why = e.to_string();
            let why = why
                .lines()
                .last()
                .unwrap_or_default()
                .trim_start_matches("error: ");
            format!("not a valid regex: {why}")
        })?),
        "contains-any" => Kind::ContainsAny(list()?),
        "contains-all" => Kind::ContainsAll(list()?),
        "icontains-any" => Kind::IContainsAny(list()?),
        "icontains-all" => Kind::IContainsAll(list()?),
        "is-json" => Kind::IsJson(schema(value, dir)?),
        "contains-json" => Kind::ContainsJson(schema(value, dir)?),
        "finish" => Kind::Finish(match value {
            None => "stop".to_owned(),
            Some(Value::String(s))
                if ["stop", "length", "filtered", "error", "cancelled"].contains(&s.as_str()) =>
            {
                s.clone()
            }
            Some(other) => {
                return Err(format!(
                    "\"value\" is a finish reason (stop, length, filtered, error, cancelled), not {other}"
                ));
            }
        }),
        "latency" => Kind::Latency(limit()?),
        "ttft" => Kind::Ttft(limit()?),
        "max-tokens" => Kind::MaxTokens(limit()?),
        "cost" => Kind::Cost(
            threshold
                .and_then(Value::as_f64)
                .filter(|t| t.is_finite() && *t >= 0.0)
                .ok_or("\"threshold\" must be a number ≥ 0")?,
        ),
        "similar" => Kind::Similar {
            value: match value {
                None => None,
                Some(_) => Some(text()?),
            },
            threshold: match threshold {
                None => 0.8,
                Some(t) => t
                    .as_f64()
                    .filter(|t| (0.0..=1.0).contains(t))
                    .ok_or("\"threshold\" must be a number from 0 to 1")?,
            },
        },
        "command" => match value {
            Some(Value::Array(argv)) if !argv.is_empty() => Kind::Command(
                argv.iter()
                    .map(|a| a.as_str().map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
                    .ok_or("\"value\" must be a list of strings: the program and its arguments")?,
            ),
            _ => {
                return Err(
                    "\"value\" must be a list: the program and its arguments (no shell)".into(),
                );
            }
        },
        "llm-rubric" => Kind::Rubric(text()?),
        other => return Err(format!("unknown check type {other:?}")),
    })
}

/// A JSON Schema given inline (an object) or as `"file:NAME"` beside the suite.
fn schema(value: Option<&Value>, dir: &Path) -> Result<Option<Schema>, String> {
    let schema = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(_)) => value.cloned().unwrap_or_default(),
        Some(Value::String(s)) => {
            let Some(name) = s.strip_prefix("file:") else {
                return Err(
                    "\"value\" is a JSON Schema: an object, or \"file:NAME\" beside the suite"
                        .into(),
                );
            };
            let path = dir.join(name);
            let bytes = std::fs::read(&path)
                .map_err(|e| format!("cannot read the schema {}: {e}", path.display()))?;
            serde_json::from_slice(&bytes)
                .map_err(|e| format!("the schema {} is not JSON: {e}", path.display()))?
        }
        Some(other) => {
            return Err(format!(
                "\"value\" is a JSON Schema (an object, or \"file:NAME\"), not {other}"
            ));
        }
    };
    let validator =
        jsonschema::validator_for(&schema).map_err(|e| format!("not a valid JSON Schema: {e}"))?;
    Ok(Some(Schema(Arc::new(validator))))
}

impl PartialEq for Check {
    fn eq(&self, other: &Self) -> bool {
        self.definition == other.definition
    }
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Check({})", self.definition)
    }
}

/// An item's checks and what it takes to pass it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checks {
    pub list: Vec<Check>,
    /// The weighted score the item needs; `None`: every check must pass.
    pub threshold: Option<f64>,
}

/// Whether an item passed, from its checks' outcomes (in the order of its list):
/// `None` while any check could not run, else the verdict with the weighted score.
pub fn item_verdict(checks: &Checks, outcomes: &[&Outcome]) -> Option<(bool, f64)> {
    if outcomes.iter().any(|o| o.verdict == Verdict::Error) || outcomes.is_empty() {
        return None;
    }
    let total: f64 = checks.list.iter().map(|c| c.weight).sum();
    let scored: f64 = checks
        .list
        .iter()
        .zip(outcomes)
        .map(|(c, o)| c.weight * o.score)
        .sum();
    let score = if total > 0.0 { scored / total } else { 1.0 };
    let passed = match checks.threshold {
        Some(threshold) => score >= threshold,
        None => outcomes.iter().all(|o| o.verdict == Verdict::Pass),
    };
    Some((passed, score))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(definition: Value) -> Result<Check, String> {
        Check::parse(&definition, Path::new("."))
    }

    #[test]
    fn every_type_parses_and_names_itself_as_written() {
        for (definition, name) in [
            (
                json!({"type": "icontains", "value": "Canberra"}),
                "icontains",
            ),
            (
                json!({"type": "not-icontains", "value": "Sydney", "weight": 0.5}),
                "not-icontains",
            ),
            (json!({"type": "regex", "value": "^\\d+$"}), "regex"),
            (
                json!({"type": "contains-any", "value": ["a", "b"]}),
                "contains-any",
            ),
            (json!({"type": "is-json"}), "is-json"),
            (
                json!({"type": "contains-json", "value": {"type": "object"}}),
                "contains-json",
            ),
            (json!({"type": "finish"}), "finish"),
            (json!({"type": "latency", "threshold": 8000}), "latency"),
            (json!({"type": "ttft", "threshold": 500}), "ttft"),
            (
                json!({"type": "max-tokens", "threshold": 200}),
                "max-tokens",
            ),
            (json!({"type": "cost", "threshold": 0.01}), "cost"),
            (
                json!({"type": "similar", "value": "所有权", "threshold": 0.5}),
                "similar",
            ),
            (
                json!({"type": "command", "value": ["python3", "check.py"]}),
                "command",
            ),
            (
                json!({"type": "llm-rubric", "value": "is polite"}),
                "llm-rubric",
            ),
        ] {
            let check = parse(definition.clone()).unwrap();
            assert_eq!(check.type_name(), name, "{definition}");
        }
        assert_eq!(
            parse(json!({"type": "not-icontains", "value": "x", "weight": 0.5}))
                .unwrap()
                .weight,
            0.5
        );
    }

    #[test]
    fn a_bad_check_says_what_is_wrong_with_it() {
        for (definition, says) in [
            (
                json!({"type": "contians", "value": "x"}),
                "unknown check type \"contians\"",
            ),
            (
                json!({"type": "regex", "value": "(unclosed"}),
                "regex: not a valid regex",
            ),
            (
                json!({"type": "contains"}),
                "\"value\" must be a non-empty string",
            ),
            (
                json!({"type": "latency"}),
                "\"threshold\" must be a whole number",
            ),
            (json!({"type": "similar", "threshold": 2}), "from 0 to 1"),
            (json!({"type": "command", "value": "rm -rf /"}), "no shell"),
            (
                json!({"type": "is-json", "value": "file:missing.json"}),
                "cannot read the schema",
            ),
            (
                json!({"type": "is-json", "value": {"type": 12}}),
                "not a valid JSON Schema",
            ),
            (
                json!({"type": "finish", "value": "done"}),
                "is a finish reason",
            ),
            (
                json!({"type": "contains", "value": "x", "wieght": 2}),
                "\"wieght\" is not one",
            ),
            (
                json!({"type": "contains", "value": "x", "weight": -1}),
                "weight",
            ),
            (json!("contains"), "a check is an object"),
        ] {
            let err = parse(definition.clone()).unwrap_err();
            assert!(err.contains(says), "{definition}: {err}");
        }
    }

    #[test]
    fn a_schema_file_is_read_beside_the_suite() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.json"), r#"{"type": "object"}"#).unwrap();
        let check = Check::parse(
            &json!({"type": "is-json", "value": "file:s.json"}),
            dir.path(),
        )
        .unwrap();
        assert!(matches!(check.kind, Kind::IsJson(Some(_))));
    }

    #[test]
    fn an_item_passes_on_every_check_or_on_its_weighted_threshold() {
        let checks = |threshold| Checks {
            list: vec![
                parse(json!({"type": "contains", "value": "a", "weight": 3})).unwrap(),
                parse(json!({"type": "contains", "value": "b"})).unwrap(),
            ],
            threshold,
        };
        let (pass, fail) = (Outcome::pass(1.0, ""), Outcome::fail(0.0, ""));
        assert_eq!(
            item_verdict(&checks(None), &[&pass, &fail]),
            Some((false, 0.75))
        );
        assert_eq!(
            item_verdict(&checks(None), &[&pass, &pass]),
            Some((true, 1.0))
        );
        assert_eq!(
            item_verdict(&checks(Some(0.7)), &[&pass, &fail]),
            Some((true, 0.75))
        );
        assert_eq!(
            item_verdict(&checks(Some(0.8)), &[&pass, &fail]),
            Some((false, 0.75))
        );
        // A check that could not run leaves the item ungraded: never a pass or a fail.
        let error = Outcome::error("no price");
        assert_eq!(item_verdict(&checks(Some(0.1)), &[&pass, &error]), None);
    }
}
