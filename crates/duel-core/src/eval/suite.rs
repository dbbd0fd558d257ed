//! Prompt suites (SPEC §8): `.jsonl` (one object a line: `prompt` or `messages`,
//! optional `id`, `category`, `reference`, and the checks of SPEC §9: `assert`,
//! `threshold`; a first line `{"defaults": {"assert": [...]}}` gives every item its
//! checks), `.csv` (a header with a `prompt` column; `assert` is a JSON list, `expected`
//! a `contains` check; the other columns are kept) and `.txt` (one prompt a line, blank
//! lines ignored). Every bad line, a bad check too, is reported with its file and line
//! number before anything is sent.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::check::{Check, Checks};
use crate::attachment::{self, Store};
use crate::domain::{Message, Role};

/// One prompt of a suite.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The item's `id`, else its line number.
    pub id: String,
    /// What is sent: the user's prompt, or a whole conversation ending with one.
    pub messages: Vec<Message>,
    pub category: Option<String>,
    /// A reference answer, for a judge that compares against one.
    pub reference: Option<String>,
    /// Any other field (a CSV column, a JSONL key), kept as text.
    pub fields: BTreeMap<String, String>,
    /// The checks on each model's answer: the suite's defaults, then the item's own.
    pub checks: Checks,
    /// Where the files of its `attach` list were read from, in the order of its
    /// prompt's attachments: they are kept in the data dir before the item is asked.
    pub sources: Vec<PathBuf>,
}

impl Item {
    /// Keeps the files its prompt attaches in `store` (once each), read again from
    /// where the suite names them; a file changed since the suite was read is an
    /// error, not a different file sent under the same name.
    pub fn keep_files(&self, store: &Store) -> Result<(), String> {
        let attached = self.messages.last().map_or(&[][..], |m| &m.attachments[..]);
        for (attachment, source) in attached.iter().zip(&self.sources) {
            if store.path(&attachment.sha256).exists() {
                continue;
            }
            let (now, content) = attachment::read(source).map_err(|e| e.to_string())?;
            if now.sha256 != attachment.sha256 {
                return Err(format!(
                    "{}: changed since the suite was read",
                    source.display()
                ));
            }
            store
                .keep(attachment, &content)
                .map_err(|e| format!("{}: not kept in the data dir: {e}", attachment.name))?;
        }
        Ok(())
    }

    /// The characters its messages send, for an input count a server did not give.
    pub fn sent_chars(&self) -> usize {
        self.messages
            .iter()
            .map(|m| m.content.chars().count())
            .sum()
    }

    /// An item for tests: `id` asking "prompt {id}", nothing else.
    #[cfg(any(test, feature = "test-support"))]
    pub fn sample(id: &str) -> Self {
        Self {
            id: id.into(),
            messages: vec![Message::new(Role::User, format!("prompt {id}"))],
            category: None,
            reference: None,
            fields: BTreeMap::new(),
            checks: Checks::default(),
            sources: Vec::new(),
        }
    }

    /// The last user message: what the item asks.
    pub fn prompt(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map_or("", |m| m.content.as_str())
    }

    /// The item as a vote on a run's pair records it.
    pub fn run_item(&self) -> crate::votes::RunItem<'_> {
        crate::votes::RunItem {
            id: &self.id,
            category: self.category.as_deref(),
            prompt: self.prompt(),
            attachments: self
                .messages
                .iter()
                .rfind(|m| m.role == Role::User)
                .map_or(&[][..], |m| &m.attachments[..]),
        }
    }

    /// The conversation before the prompt: a system message and earlier turns.
    pub fn before_prompt(&self) -> &[Message] {
        let last_user = self.messages.iter().rposition(|m| m.role == Role::User);
        &self.messages[..last_user.unwrap_or(0)]
    }
}

/// A suite that did not load: every problem found, each with where it is.
#[derive(Debug, PartialEq)]
pub struct SuiteError {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
}

/// One problem: the line it is on (0 for the file as a whole) and what is wrong.
#[derive(Debug, PartialEq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

/// How many problems an error lists before it says how many more there are.
const SHOWN: usize = 10;

impl fmt::Display for SuiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().take(SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match problem.line {
                0 => write!(f, "{}: {}", self.path.display(), problem.message)?,
                line => write!(f, "{}:{line}: {}", self.path.display(), problem.message)?,
            }
        }
        if self.problems.len() > SHOWN {
            write!(f, "\n… and {} more", self.problems.len() - SHOWN)?;
        }
        Ok(())
    }
}

impl std::error::Error for SuiteError {}

/// Reads the suite at `path`, its format told by its extension; the paths of its
/// checks and its `attach` lists are relative to its folder.
pub fn load(path: &Path) -> Result<Vec<Item>, SuiteError> {
    load_in(path, path.parent().unwrap_or(Path::new(".")))
}

/// Reads the suite at `path` with its relative paths taken from `dir` (a run's copy
/// of a suite reads its files where the suite itself was).
pub fn load_in(path: &Path, dir: &Path) -> Result<Vec<Item>, SuiteError> {
    let fail = |message: String| SuiteError {
        path: path.to_owned(),
        problems: vec![Problem { line: 0, message }],
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        SuiteError {
            path: path.to_owned(),
            problems: vec![Problem {
                line,
                message: "not UTF-8 text".into(),
            }],
        }
    })?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let (items, mut problems) = match extension.as_deref() {
        Some("jsonl") => parse_jsonl(&text, dir),
        Some("csv") => parse_csv(&text, dir),
        Some("txt") => (parse_txt(&text), Vec::new()),
        _ => {
            return Err(fail(
                "a suite is a .jsonl, .csv or .txt file (one prompt a line for .txt)".into(),
            ));
        }
    };
    let mut seen = HashSet::new();
    for (line, item) in &items {
        if !seen.insert(item.id.as_str()) {
            problems.push(Problem {
                line: *line,
                message: format!("id {:?} is already used by an earlier item", item.id),
            });
        }
    }
    if items.is_empty() && problems.is_empty() {
        problems.push(Problem {
            line: 0,
            message: "no prompts in it".into(),
        });
    }
    if problems.is_empty() {
        Ok(items.into_iter().map(|(_, item)| item).collect())
    } else {
        problems.sort_by_key(|p| p.line);
        Err(SuiteError {
            path: path.to_owned(),
            problems,
        })
    }
}

/// Items with the line each starts on.
type Parsed = (Vec<(usize, Item)>, Vec<Problem>);

fn parse_txt(text: &str) -> Vec<(usize, Item)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let item = Item {
                id: (i + 1).to_string(),
                messages: vec![Message::new(Role::User, line.trim_end())],
                category: None,
                reference: None,
                fields: BTreeMap::new(),
                checks: Checks::default(),
                sources: Vec::new(),
            };
            (i + 1, item)
        })
        .collect()
}

fn parse_jsonl(text: &str, dir: &Path) -> Parsed {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let mut defaults = Checks::default();
    let mut first = true;
    for (i, line) in text.lines().enumerate() {
        let line_number = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        if std::mem::take(&mut first)
            && let Some(found) = defaults_line(line)
        {
            match found.and_then(|value| checks_of(value, None, dir)) {
                Ok(checks) => defaults = checks,
                Err(message) => problems.push(Problem {
                    line: line_number,
                    message: format!("defaults: {message}"),
                }),
            }
            continue;
        }
        match jsonl_item(line, line_number, &defaults, dir) {
            Ok(item) => items.push((line_number, item)),
            Err(message) => problems.push(Problem {
                line: line_number,
                message,
            }),
        }
    }
    (items, problems)
}

/// The `{"defaults": {...}}` a `.jsonl` suite may begin with: `None` for an item.
fn defaults_line(line: &str) -> Option<Result<Value, String>> {
    let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(line) else {
        return None;
    };
    let defaults = object.remove("defaults")?;
    if !object.is_empty() {
        return Some(Err(
            "a defaults line holds \"defaults\" alone; put the item on a line of its own".into(),
        ));
    }
    Some(match defaults {
        Value::Object(mut fields) => {
            let assert = fields.remove("assert").unwrap_or(Value::Array(Vec::new()));
            match fields.keys().next() {
                Some(other) => Err(format!(
                    "{other:?} is not a default duel knows (\"assert\")"
                )),
                None => Ok(assert),
            }
        }
        _ => Err("\"defaults\" must be an object like {\"assert\": [...]}".into()),
    })
}

/// An `assert` list and an item's `threshold`, after the suite's `defaults`.
fn checks_of(assert: Value, threshold: Option<Value>, dir: &Path) -> Result<Checks, String> {
    let Value::Array(list) = assert else {
        return Err("\"assert\" must be a list of checks".into());
    };
    let list = list
        .iter()
        .enumerate()
        .map(|(i, check)| Check::parse(check, dir).map_err(|e| format!("check {}: {e}", i + 1)))
        .collect::<Result<Vec<Check>, String>>()?;
    let threshold = match threshold {
        None | Some(Value::Null) => None,
        Some(t) => Some(t.as_f64().filter(|t| (0.0..=1.0).contains(t)).ok_or(
            "\"threshold\" must be a number from 0 to 1: the weighted score the item needs",
        )?),
    };
    Ok(Checks { list, threshold })
}

/// The suite's default checks, then the item's own.
fn with_defaults(defaults: &Checks, own: Checks) -> Checks {
    Checks {
        list: defaults.list.iter().cloned().chain(own.list).collect(),
        threshold: own.threshold.or(defaults.threshold),
    }
}

fn jsonl_item(
    line: &str,
    line_number: usize,
    defaults: &Checks,
    dir: &Path,
) -> Result<Item, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut object) = value else {
        return Err("expected an object with a \"prompt\" or \"messages\"".into());
    };
    let assert = object.remove("assert").unwrap_or(Value::Array(Vec::new()));
    let checks = with_defaults(
        defaults,
        checks_of(assert, object.remove("threshold"), dir)?,
    );
    let messages = match (object.remove("prompt"), object.remove("messages")) {
        (Some(_), Some(_)) => return Err("has both \"prompt\" and \"messages\"; keep one".into()),
        (Some(Value::String(prompt)), None) if !prompt.trim().is_empty() => {
            vec![Message::new(Role::User, prompt)]
        }
        (Some(Value::String(_)), None) => return Err("\"prompt\" is empty".into()),
        (Some(_), None) => return Err("\"prompt\" must be a string".into()),
        (None, Some(messages)) => conversation(messages)?,
        (None, None) => return Err("needs a \"prompt\" string or a \"messages\" list".into()),
    };
    let id = match object.remove("id") {
        None | Some(Value::Null) => line_number.to_string(),
        Some(Value::String(id)) if !id.is_empty() => id,
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err("\"id\" must be a non-empty string or a number".into()),
    };
    let mut text_field = |key: &str| match object.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("\"{key}\" must be a string")),
    };
    let category = text_field("category")?;
    let reference = text_field("reference")?;
    let attach = match object.remove("attach") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(paths)) => paths
            .iter()
            .map(|p| p.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()
            .ok_or("\"attach\" must be a list of paths (relative to the suite)")?,
        Some(_) => return Err("\"attach\" must be a list of paths (relative to the suite)".into()),
    };
    let (messages, sources) = attached(messages, &attach, dir)?;
    let fields = object
        .into_iter()
        .map(|(key, value)| match value {
            Value::String(s) => (key, s),
            other => (key, other.to_string()),
        })
        .collect();
    Ok(Item {
        id,
        messages,
        category,
        reference,
        fields,
        checks,
        sources,
    })
}

/// `messages` with the files of `attach` (paths relative to the suite's folder `dir`)
/// on the last user message, read and checked now; and where each was read from.
fn attached(
    mut messages: Vec<Message>,
    attach: &[String],
    dir: &Path,
) -> Result<(Vec<Message>, Vec<PathBuf>), String> {
    let mut sources = Vec::with_capacity(attach.len());
    let mut attachments = Vec::with_capacity(attach.len());
    for path in attach.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let source = dir.join(path);
        let (attachment, _) = attachment::read(&source).map_err(|e| format!("attach: {e}"))?;
        attachments.push(attachment);
        sources.push(source);
    }
    if let Some(last) = messages.last_mut() {
        last.attachments.extend(attachments);
    }
    Ok((messages, sources))
}

/// A `messages` list: user and assistant turns (a system message first at most),
/// ending with the user's.
fn conversation(value: Value) -> Result<Vec<Message>, String> {
    let messages: Vec<Message> = serde_json::from_value(value).map_err(|e| {
        format!("\"messages\" must be a list of {{\"role\", \"content\"}} objects: {e}")
    })?;
    if messages.last().is_none_or(|m| m.role != Role::User) {
        return Err("\"messages\" must end with a user message".into());
    }
    if messages.iter().skip(1).any(|m| m.role == Role::System) {
        return Err("a system message may only come first in \"messages\"".into());
    }
    Ok(messages)
}

fn parse_csv(text: &str, dir: &Path) -> Parsed {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(header) => header.iter().map(|h| h.trim().to_owned()).collect(),
        Err(e) => {
            problems.push(Problem {
                line: 1,
                message: format!("cannot read the header: {e}"),
            });
            return (items, problems);
        }
    };
    let Some(prompt_column) = header.iter().position(|h| h == "prompt") else {
        problems.push(Problem {
            line: 1,
            message: format!(
                "the header needs a \"prompt\" column; it has {}",
                header.join(", ")
            ),
        });
        return (items, problems);
    };
    let column = |name: &str| header.iter().position(|h| h == name);
    let (id_column, category_column, reference_column) =
        (column("id"), column("category"), column("reference"));
    let (assert_column, expected_column) = (column("assert"), column("expected"));
    let attach_column = column("attach");
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                problems.push(Problem {
                    line,
                    message: format!("not a CSV row like the header: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cell = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::to_owned)
                .filter(|s| !s.is_empty())
        };
        let Some(prompt) = cell(Some(prompt_column)).filter(|p| !p.trim().is_empty()) else {
            problems.push(Problem {
                line,
                message: "the prompt cell is empty".into(),
            });
            continue;
        };
        let fields = header
            .iter()
            .zip(record.iter())
            .enumerate()
            .filter(|(i, _)| {
                ![
                    Some(prompt_column),
                    id_column,
                    category_column,
                    reference_column,
                    assert_column,
                    expected_column,
                    attach_column,
                ]
                .contains(&Some(*i))
            })
            .map(|(_, (name, value))| (name.clone(), value.to_owned()))
            .collect();
        let checks = match csv_checks(cell(assert_column), cell(expected_column), dir) {
            Ok(checks) => checks,
            Err(message) => {
                problems.push(Problem { line, message });
                continue;
            }
        };
        // `;` between the paths of a row's files.
        let attach: Vec<String> = cell(attach_column)
            .map(|c| c.split(';').map(str::to_owned).collect())
            .unwrap_or_default();
        let (messages, sources) =
            match attached(vec![Message::new(Role::User, prompt)], &attach, dir) {
                Ok(attached) => attached,
                Err(message) => {
                    problems.push(Problem { line, message });
                    continue;
                }
            };
        let item = Item {
            id: cell(id_column).unwrap_or_else(|| line.to_string()),
            messages,
            category: cell(category_column),
            reference: cell(reference_column),
            fields,
            checks,
            sources,
        };
        items.push((line, item));
    }
    (items, problems)
}

/// A CSV row's checks: its `assert` cell (a JSON list), then its `expected` cell as
/// a `contains` check.
fn csv_checks(
    assert: Option<String>,
    expected: Option<String>,
    dir: &Path,
) -> Result<Checks, String> {
    let mut list = match assert {
        Some(cell) => serde_json::from_str(&cell)
            .map_err(|e| format!("the assert cell is not a JSON list of checks: {e}"))?,
        None => Value::Array(Vec::new()),
    };
    if let (Some(expected), Value::Array(checks)) = (expected, &mut list) {
        checks.push(serde_json::json!({"type": "contains", "value": expected}));
    }
    checks_of(list, None, dir).map_err(|e| format!("assert: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn a_jsonl_suite_reads_prompts_conversations_and_their_fields() {
        let (_dir, path) = suite(
            "s.jsonl",
            concat!(
                "{\"prompt\": \"Explain ownership\", \"category\": \"code\", \"lang\": \"en\"}\n",
                "\n",
                "{\"id\": \"q7\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},",
                " {\"role\": \"user\", \"content\": \"你好\"}], \"reference\": \"您好\"}\n",
                "{\"id\": 12, \"prompt\": \"third\", \"score\": 3}\n",
            ),
        );
        let items = load(&path).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].id, "1", "the line number when there is no id");
        assert_eq!(items[0].prompt(), "Explain ownership");
        assert_eq!(items[0].category.as_deref(), Some("code"));
        assert_eq!(items[0].fields["lang"], "en");
        assert_eq!(items[1].id, "q7");
        assert_eq!(items[1].messages.len(), 2);
        assert_eq!(items[1].prompt(), "你好");
        assert_eq!(items[1].reference.as_deref(), Some("您好"));
        assert_eq!(items[2].id, "12");
        assert_eq!(items[2].fields["score"], "3");
    }

    #[test]
    fn items_carry_their_checks_after_the_suite_s_defaults() {
        let (_dir, path) = suite(
            "s.jsonl",
            concat!(
                "{\"defaults\": {\"assert\": [{\"type\": \"latency\", \"threshold\": 8000}]}}\n",
                "{\"id\": \"cap\", \"prompt\": \"Capital of Australia?\", \"assert\": [",
                "{\"type\": \"icontains\", \"value\": \"Canberra\"},",
                "{\"type\": \"not-icontains\", \"value\": \"Sydney\", \"weight\": 0.5}], \"threshold\": 0.6}\n",
                "{\"prompt\": \"no checks of its own\"}\n",
            ),
        );
        let items = load(&path).unwrap();
        assert_eq!(items.len(), 2, "the defaults line is no item");
        let names = |item: &Item| -> Vec<String> {
            item.checks.list.iter().map(Check::type_name).collect()
        };
        assert_eq!(names(&items[0]), ["latency", "icontains", "not-icontains"]);
        assert_eq!(items[0].checks.threshold, Some(0.6));
        assert!(
            items[0].fields.is_empty(),
            "assert and threshold are not fields"
        );
        assert_eq!(names(&items[1]), ["latency"]);
        assert_eq!(items[1].id, "3", "ids still count the defaults line");
    }

    #[test]
    fn a_csv_suite_takes_an_assert_list_and_an_expected_answer() {
        let (_dir, path) = suite(
            "s.csv",
            "prompt,expected,assert\n\"2+2?\",4,\"[{\"\"type\"\": \"\"max-tokens\"\", \"\"threshold\"\": 50}]\"\nhello,,\n",
        );
        let items = load(&path).unwrap();
        let names: Vec<String> = items[0].checks.list.iter().map(Check::type_name).collect();
        assert_eq!(names, ["max-tokens", "contains"]);
        assert!(items[1].checks.list.is_empty());
        assert!(items[0].fields.is_empty());
    }

    #[test]
    fn a_bad_check_is_a_suite_error_with_its_line() {
        let (_dir, path) = suite(
            "s.jsonl",
            concat!(
                "{\"prompt\": \"fine\", \"assert\": [{\"type\": \"contains\", \"value\": \"x\"}]}\n",
                "{\"prompt\": \"a\", \"assert\": [{\"type\": \"regex\", \"value\": \"(\"}]}\n",
                "{\"prompt\": \"b\", \"assert\": [{\"type\": \"is-json\", \"value\": \"file:none.json\"}]}\n",
                "{\"prompt\": \"c\", \"assert\": [{\"type\": \"contians\", \"value\": \"x\"}]}\n",
                "{\"prompt\": \"d\", \"threshold\": 3}\n",
            ),
        );
        let err = load(&path).unwrap_err().to_string();
        let file = path.display().to_string();
        assert!(
            err.contains(&format!("{file}:2: check 1: regex: not a valid regex")),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "{file}:3: check 1: is-json: cannot read the schema"
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "{file}:4: check 1: unknown check type \"contians\""
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!("{file}:5: \"threshold\" must be")),
            "{err}"
        );
        assert!(!err.contains(":1:"), "{err}");
    }

    #[test]
    fn every_bad_jsonl_line_is_named_with_its_number() {
        let (_dir, path) = suite(
            "bad.jsonl",
            concat!(
                "{\"prompt\": \"fine\"}\n",
                "{\"prompt\": 3}\n",
                "not json\n",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}\n",
                "{\"prompt\": \"dup\", \"id\": \"1\"}\n",
                "[1, 2]\n",
            ),
        );
        let err = load(&path).unwrap_err();
        let lines: Vec<usize> = err.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6]);
        let shown = err.to_string();
        assert!(
            shown.contains("bad.jsonl:2: \"prompt\" must be a string"),
            "{shown}"
        );
        assert!(shown.contains("bad.jsonl:4: \"messages\" must end with a user message"));
        assert!(
            shown.contains("bad.jsonl:5: id \"1\" is already used"),
            "{shown}"
        );
    }

    #[test]
    fn a_csv_suite_keeps_its_other_columns_and_names_bad_rows() {
        let (_dir, path) = suite(
            "s.csv",
            "id,prompt,category,notes\na1,\"Hello, world\",greeting,first\n,\"Two\nlines\",,\n",
        );
        let items = load(&path).unwrap();
        assert_eq!(items[0].id, "a1");
        assert_eq!(items[0].prompt(), "Hello, world");
        assert_eq!(items[0].category.as_deref(), Some("greeting"));
        assert_eq!(items[0].fields["notes"], "first");
        assert_eq!(items[1].prompt(), "Two\nlines");
        assert_eq!(items[1].id, "3", "no id: the line the row starts on");
        assert_eq!(items[1].category, None);

        let (_dir, path) = suite("bad.csv", "prompt,x\nfine,1\n,2\nshort\n");
        let err = load(&path).unwrap_err();
        let lines: Vec<usize> = err.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4], "{err}");

        let (_dir, path) = suite("nohead.csv", "question,answer\na,b\n");
        assert!(
            load(&path)
                .unwrap_err()
                .to_string()
                .contains("needs a \"prompt\" column")
        );
    }

    #[test]
    fn a_txt_suite_is_one_prompt_a_line() {
        let (_dir, path) = suite("s.txt", "first prompt\n\n  \nsecond 中文\n");
        let items = load(&path).unwrap();
        let got: Vec<(&str, &str)> = items.iter().map(|i| (i.id.as_str(), i.prompt())).collect();
        assert_eq!(got, [("1", "first prompt"), ("4", "second 中文")]);
    }

    #[test]
    fn an_empty_or_unknown_suite_says_so() {
        let (_dir, path) = suite("empty.txt", "\n\n");
        assert!(load(&path).unwrap_err().to_string().contains("no prompts"));
        let (_dir, path) = suite("s.yaml", "prompt: x\n");
        assert!(
            load(&path)
                .unwrap_err()
                .to_string()
                .contains(".jsonl, .csv or .txt")
        );
        let (_dir, path) = suite("bin.txt", "ok\n\u{0}\u{0}\n");
        assert!(load(&path).is_ok(), "NUL is text to a suite");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.txt");
        std::fs::write(&path, b"fine\ncaf\xe9\n").unwrap();
        let err = load(&path).unwrap_err();
        assert_eq!(err.problems[0].line, 2);
    }
}
