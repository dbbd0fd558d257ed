//! Grading one answer against one check, for every type that needs nothing but the
//! answer; a `command` or an `llm-rubric` is handed back to run elsewhere.

use serde_json::Value;

use super::{Check, Kind, Outcome, Schema};
use crate::domain::Finish;
use crate::votes::SideRecord;

/// A check graded, or what it still needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Graded {
    Done(Outcome),
    /// Run this program (argv) with the answer on stdin; its exit code decides.
    Command(Vec<String>),
    /// Ask a grader model this rubric about the answer.
    Rubric(String),
}

/// Grades `answer` against `check`. `reference` is the item's reference answer;
/// `cost` the answer's cost in the report currency, where its model has a price.
/// An answer that failed or was stopped cannot be checked: every check is an error.
pub fn grade(
    check: &Check,
    answer: &SideRecord,
    reference: Option<&str>,
    cost: Option<f64>,
) -> Graded {
    if matches!(answer.finish, Finish::Error | Finish::Cancelled) {
        return Graded::Done(Outcome::error(format!(
            "the answer {}",
            if answer.finish == Finish::Error {
                "failed"
            } else {
                "was stopped"
            }
        )));
    }
    let text = answer.answer.as_str();
    let outcome = match &check.kind {
        Kind::Command(argv) => return Graded::Command(argv.clone()),
        Kind::Rubric(rubric) => return Graded::Rubric(rubric.clone()),
        // Models end answers with a line break they do not mean.
        Kind::Equals(value) => {
            let yes = text.trim() == value.trim();
            let verb = if yes { "equals" } else { "does not equal" };
            Outcome::of(yes, format!("the answer {verb} {value:?}"))
        }
        Kind::Contains(value) => found(text.contains(value.as_str()), value),
        Kind::IContains(value) => found(lower(text).contains(&lower(value)), value),
        Kind::StartsWith(value) => {
            let yes = text.trim_start().starts_with(value.as_str());
            let verb = if yes {
                "starts with"
            } else {
                "does not start with"
            };
            Outcome::of(yes, format!("the answer {verb} {value:?}"))
        }
        Kind::Regex(pattern) => match pattern.find(text) {
            Some(m) => Outcome::pass(1.0, format!("/{pattern}/ matches {:?}", clip(m.as_str()))),
            None => Outcome::fail(0.0, format!("/{pattern}/ matches nowhere")),
        },
        Kind::ContainsAny(values) => any(values, |v| text.contains(v.as_str())),
        Kind::IContainsAny(values) => {
            let text = lower(text);
            any(values, |v| text.contains(&lower(v)))
        }
        Kind::ContainsAll(values) => all(values, |v| text.contains(v.as_str())),
        Kind::IContainsAll(values) => {
            let text = lower(text);
            all(values, |v| text.contains(&lower(v)))
        }
        Kind::IsJson(schema) => match serde_json::from_str::<Value>(text.trim()) {
            Ok(value) => validated(&value, schema.as_ref(), "the answer is JSON"),
            Err(e) => Outcome::fail(0.0, format!("the answer is not JSON: {e}")),
        },
        Kind::ContainsJson(schema) => contains_json(text, schema.as_ref()),
        Kind::Finish(wanted) => {
            let finish = answer.finish.as_str();
            Outcome::of(
                finish == wanted,
                format!("the answer ended with {finish:?} (wanted {wanted:?})"),
            )
        }
        Kind::Latency(limit) => at_most(answer.total_ms, *limit, "ms in all"),
        Kind::Ttft(limit) => at_most(answer.ttft_ms, *limit, "ms to the first token"),
        Kind::MaxTokens(limit) => at_most(
            answer
                .output_tokens
                .or(answer.output_tokens_estimate.as_ref().map(|e| e.tokens)),
            *limit,
            "output tokens",
        ),
        Kind::Cost(limit) => match cost {
            Some(cost) => Outcome::of(
                cost <= *limit,
                format!("the answer cost {cost:.6} (at most {limit})"),
            ),
            None => Outcome::error("the model has no price, so its cost is unknown"),
        },
        Kind::Similar { value, threshold } => {
            match value.as_deref().or(reference) {
                None => Outcome::error("no value to compare with, and the item has no reference"),
                Some(wanted) => {
                    // Over characters, so CJK counts a character, not three bytes.
                    let similarity = strsim::normalized_levenshtein(text.trim(), wanted.trim());
                    let reason = format!("similarity {similarity:.2} (at least {threshold})");
                    if similarity >= *threshold {
                        Outcome::pass(similarity, reason)
                    } else {
                        Outcome::fail(similarity, reason)
                    }
                }
            }
        }
    };
    Graded::Done(check.settle(outcome))
}

impl Check {
    /// The outcome of this check from what its grading found (a `not-` check turns
    /// it round).
    pub fn settle(&self, outcome: Outcome) -> Outcome {
        if self.negated {
            outcome.negated()
        } else {
            outcome
        }
    }
}

fn lower(text: &str) -> String {
    text.to_lowercase()
}

fn found(yes: bool, value: &str) -> Outcome {
    Outcome::of(
        yes,
        if yes {
            format!("the answer contains {value:?}")
        } else {
            format!("the answer lacks {value:?}")
        },
    )
}

fn any(values: &[String], has: impl Fn(&String) -> bool) -> Outcome {
    match values.iter().find(|v| has(v)) {
        Some(v) => Outcome::pass(1.0, format!("the answer contains {v:?}")),
        None => Outcome::fail(0.0, format!("the answer contains none of {values:?}")),
    }
}

fn all(values: &[String], has: impl Fn(&String) -> bool) -> Outcome {
    let missing: Vec<&String> = values.iter().filter(|v| !has(v)).collect();
    if missing.is_empty() {
        Outcome::pass(1.0, "the answer contains every one")
    } else {
        Outcome::fail(0.0, format!("the answer lacks {missing:?}"))
    }
}

fn at_most(measured: Option<u64>, limit: u64, unit: &str) -> Outcome {
    match measured {
        Some(n) => Outcome::of(n <= limit, format!("{n} {unit} (at most {limit})")),
        None => Outcome::error(format!("the answer's record has no {unit}")),
    }
}

fn validated(value: &Value, schema: Option<&Schema>, found: &str) -> Outcome {
    let Some(Schema(validator)) = schema else {
        return Outcome::pass(1.0, found);
    };
    match validator.iter_errors(value).next() {
        None => Outcome::pass(1.0, format!("{found} and fits the schema")),
        Some(e) => Outcome::fail(
            0.0,
            format!("{found} but not the schema: {e} (at {})", e.instance_path()),
        ),
    }
}

/// How many places a JSON value may start at before the search gives up: an answer
/// of brackets in prose stays cheap.
const JSON_STARTS: usize = 200;

/// The first JSON object or array in the text (in a code fence or not) that fits the
/// schema, else the first one at all.
fn contains_json(text: &str, schema: Option<&Schema>) -> Outcome {
    let mut first_misfit = None;
    let starts = text
        .char_indices()
        .filter(|(_, c)| *c == '{' || *c == '[')
        .take(JSON_STARTS);
    for (at, _) in starts {
        let mut values = serde_json::Deserializer::from_str(&text[at..]).into_iter::<Value>();
        let Some(Ok(value)) = values.next() else {
            continue;
        };
        let outcome = validated(&value, schema, "the answer contains JSON");
        if outcome.verdict == super::Verdict::Pass {
            return outcome;
        }
        first_misfit.get_or_insert(outcome);
    }
    first_misfit.unwrap_or_else(|| Outcome::fail(0.0, "the answer contains no JSON"))
}

/// A matched piece short enough for a reason.
fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::super::Verdict;
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn answer(text: &str) -> SideRecord {
        SideRecord {
            ttft_ms: Some(300),
            total_ms: Some(5_000),
            output_tokens: Some(120),
            ..SideRecord::sample("qwen-plus", text, Finish::Stop)
        }
    }

    fn verdict(definition: Value, text: &str) -> Verdict {
        let check = Check::parse(&definition, Path::new(".")).unwrap();
        match grade(&check, &answer(text), Some("ownership"), None) {
            Graded::Done(outcome) => outcome.verdict,
            other => panic!("{other:?}"),
        }
    }

    use Verdict::{Error, Fail, Pass};

    /// Each type on an answer that passes, one that fails, and one it cannot check.
    #[test]
    fn every_check_passes_fails_and_cannot_run_where_it_should() {
        let canberra = "The capital of Australia is Canberra.\n";
        for (definition, text, want) in [
            (json!({"type": "equals", "value": "4"}), "4\n", Pass),
            (json!({"type": "equals", "value": "4"}), "four", Fail),
            (
                json!({"type": "contains", "value": "Canberra"}),
                canberra,
                Pass,
            ),
            (
                json!({"type": "contains", "value": "canberra"}),
                canberra,
                Fail,
            ),
            (
                json!({"type": "icontains", "value": "CANBERRA"}),
                canberra,
                Pass,
            ),
            (
                json!({"type": "not-icontains", "value": "sydney"}),
                canberra,
                Pass,
            ),
            (
                json!({"type": "not-icontains", "value": "canberra"}),
                canberra,
                Fail,
            ),
            (
                json!({"type": "starts-with", "value": "The"}),
                canberra,
                Pass,
            ),
            (
                json!({"type": "starts-with", "value": "Canberra"}),
                canberra,
                Fail,
            ),
            (
                json!({"type": "regex", "value": "\\bCan\\w+"}),
                canberra,
                Pass,
            ),
            (json!({"type": "not-regex", "value": "\\d"}), canberra, Pass),
            (
                json!({"type": "contains-any", "value": ["Sydney", "Canberra"]}),
                canberra,
                Pass,
            ),
            (
                json!({"type": "contains-any", "value": ["Sydney", "Perth"]}),
                canberra,
                Fail,
            ),
            (
                json!({"type": "icontains-all", "value": ["australia", "canberra"]}),
                canberra,
                Pass,
            ),
            (
                json!({"type": "contains-all", "value": ["Australia", "Perth"]}),
                canberra,
                Fail,
            ),
            (json!({"type": "is-json"}), " {\"a\": 1} ", Pass),
            (json!({"type": "is-json"}), "Here: {\"a\": 1}", Fail),
            (
                json!({"type": "contains-json"}),
                "Here:\n```json\n{\"a\": 1}\n```",
                Pass,
            ),
            (json!({"type": "contains-json"}), "no braces {here", Fail),
            (json!({"type": "finish"}), canberra, Pass),
            (json!({"type": "finish", "value": "length"}), canberra, Fail),
            (
                json!({"type": "latency", "threshold": 8000}),
                canberra,
                Pass,
            ),
            (
                json!({"type": "latency", "threshold": 4000}),
                canberra,
                Fail,
            ),
            (json!({"type": "ttft", "threshold": 200}), canberra, Fail),
            (
                json!({"type": "max-tokens", "threshold": 120}),
                canberra,
                Pass,
            ),
            (
                json!({"type": "max-tokens", "threshold": 100}),
                canberra,
                Fail,
            ),
            (json!({"type": "cost", "threshold": 1}), canberra, Error),
            (json!({"type": "not-cost", "threshold": 1}), canberra, Error),
            (json!({"type": "similar"}), "ownershp", Pass),
            (
                json!({"type": "similar", "value": "borrowing"}),
                "ownership",
                Fail,
            ),
        ] {
            assert_eq!(
                verdict(definition.clone(), text),
                want,
                "{definition} on {text:?}"
            );
        }
    }

    #[test]
    fn json_is_checked_against_its_schema() {
        let schema = json!({"type": "object", "required": ["city"],
            "properties": {"city": {"type": "string"}}});
        let is_json = json!({"type": "is-json", "value": schema});
        assert_eq!(verdict(is_json.clone(), r#"{"city": "Canberra"}"#), Pass);
        assert_eq!(verdict(is_json.clone(), r#"{"city": 7}"#), Fail);
        assert_eq!(verdict(is_json, r#"{"town": "x"}"#), Fail);
        // The first value that fits counts, wherever it stands.
        let contains = json!({"type": "contains-json", "value": schema});
        assert_eq!(
            verdict(contains.clone(), r#"[1] then {"city": "Canberra"}"#),
            Pass
        );
        assert_eq!(verdict(contains, r#"[1] then {"town": 2}"#), Fail);
    }

    #[test]
    fn similarity_counts_characters_so_cjk_is_fair() {
        let check = Check::parse(
            &json!({"type": "similar", "value": "所有权是核心", "threshold": 0.8}),
            Path::new("."),
        )
        .unwrap();
        // Two characters of six differ: 4/6, counted in characters (a CJK character is
        // one edit, not three bytes).
        let Graded::Done(outcome) = grade(&check, &answer("所有权是关键"), None, None) else {
            panic!()
        };
        assert_eq!(outcome.verdict, Fail);
        assert!(
            (outcome.score - 4.0 / 6.0).abs() < 1e-9,
            "{}",
            outcome.score
        );
        let Graded::Done(outcome) = grade(&check, &answer("所有权是核心。"), None, None)
        else {
            panic!()
        };
        assert_eq!(outcome.verdict, Pass);
    }

    #[test]
    fn a_similar_check_without_a_value_or_a_reference_cannot_run() {
        let check = Check::parse(&json!({"type": "similar"}), Path::new(".")).unwrap();
        let Graded::Done(outcome) = grade(&check, &answer("x"), None, None) else {
            panic!()
        };
        assert_eq!(outcome.verdict, Error);
    }

    #[test]
    fn a_failed_answer_cannot_be_checked_and_programs_and_graders_are_handed_back() {
        let check =
            Check::parse(&json!({"type": "contains", "value": "x"}), Path::new(".")).unwrap();
        let failed = SideRecord::sample("qwen-plus", "x", Finish::Error);
        let Graded::Done(outcome) = grade(&check, &failed, None, None) else {
            panic!()
        };
        assert_eq!(outcome.verdict, Error);
        let command = Check::parse(
            &json!({"type": "command", "value": ["true"]}),
            Path::new("."),
        )
        .unwrap();
        assert_eq!(
            grade(&command, &answer("x"), None, None),
            Graded::Command(vec!["true".into()])
        );
        let rubric = Check::parse(
            &json!({"type": "llm-rubric", "value": "polite"}),
            Path::new("."),
        )
        .unwrap();
        assert_eq!(
            grade(&rubric, &answer("x"), None, None),
            Graded::Rubric("polite".into())
        );
    }
}
