//! `runs/<id>/checks.jsonl` (SPEC §9): one line per item, model and check, appended
//! and synced like the answers; the latest line for a key wins. What was graded is
//! graded again only when something it depends on changed: the check's definition,
//! the answer, or (for a rubric) the grader.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::rates::{self, ItemGrade, PairTest, PassRate};
use super::{Check, Kind, Outcome, Verdict, item_verdict};
use crate::eval::run::Run;
use crate::eval::run::{AnswerRecord, sha256_hex};
use crate::eval::suite::Item;

/// A run's checks summed up: per model the pass rate, per pair the paired test; what
/// `duel check` and `duel batch` print, and `duel stats --run RUN --checks` adds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChecksReport {
    pub run: String,
    /// Checks graded by the command that made the report.
    pub graded_now: usize,
    pub models: Vec<PassRate>,
    pub pairs: Vec<PairTest>,
    pub fail_under: Option<f64>,
    /// The models whose pass rate is under `fail_under`.
    pub below: Vec<String>,
    /// The pass rates within each suite category, where the items have categories.
    pub by_category: Vec<CategoryRates>,
}

/// The pass rates on one category's items.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CategoryRates {
    pub category: String,
    pub models: Vec<PassRate>,
}

impl ChecksReport {
    /// The pass rates of `run` from the checks graded so far; `below` names the models
    /// under `fail_under`.
    pub fn of(
        run: &Run,
        items: &[Item],
        graded_now: usize,
        fail_under: Option<f64>,
    ) -> std::io::Result<ChecksReport> {
        let (answers, _) = run.answers()?;
        let (records, _) = run.checks()?;
        let models = &run.info.models;
        let grades = item_grades(items, &answers, models, &records);
        let rates = rates::pass_rates(&grades, models);
        let below = match fail_under {
            Some(floor) => rates
                .iter()
                .filter(|m| m.rate.is_none_or(|rate| rate < floor))
                .map(|m| m.model.clone())
                .collect(),
            None => Vec::new(),
        };
        let categories: std::collections::BTreeSet<&str> = grades
            .iter()
            .filter_map(|g| g.category.as_deref())
            .collect();
        let by_category = categories
            .into_iter()
            .map(|category| {
                let within: Vec<ItemGrade> = grades
                    .iter()
                    .filter(|g| g.category.as_deref() == Some(category))
                    .cloned()
                    .collect();
                CategoryRates {
                    category: category.to_owned(),
                    models: rates::pass_rates(&within, models),
                }
            })
            .collect();
        Ok(ChecksReport {
            run: run.info.id.clone(),
            graded_now,
            pairs: rates::pair_tests(&grades, models),
            models: rates,
            fail_under,
            below,
            by_category,
        })
    }

    /// Whether a model is under the floor (exit 1, for CI).
    pub fn failed(&self) -> bool {
        !self.below.is_empty()
    }
}

/// One check graded on one answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckRecord {
    pub item: String,
    pub model: String,
    pub check: CheckRef,
    pub result: Verdict,
    pub score: f64,
    pub reason: String,
    /// The grader model of an `llm-rubric`; null for every other type.
    pub grader: Option<String>,
    /// The sha256 of the answer graded.
    pub answer_sha256: String,
    /// RFC 3339, UTC.
    pub time: String,
}

/// Which check of the item: its index in the item's list, its type, and the sha256 of
/// its definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckRef {
    pub index: usize,
    #[serde(rename = "type")]
    pub kind: String,
    pub digest: String,
}

impl CheckRecord {
    /// The record of `outcome` for check `index` of `item` on `answer`.
    pub fn new(
        task: &Task<'_>,
        outcome: Outcome,
        grader: Option<&str>,
        time: String,
    ) -> CheckRecord {
        CheckRecord {
            item: task.item.id.clone(),
            model: task.answer.side.model.clone(),
            check: CheckRef {
                index: task.index,
                kind: task.check.type_name(),
                digest: task.check.digest.clone(),
            },
            result: outcome.verdict,
            score: outcome.score,
            reason: outcome.reason,
            grader: matches!(task.check.kind, Kind::Rubric(_))
                .then(|| grader.map(str::to_owned))
                .flatten(),
            answer_sha256: task.answer_sha256.clone(),
            time,
        }
    }
}

/// One check to grade on one answer.
#[derive(Clone, Debug)]
pub struct Task<'a> {
    pub item: &'a Item,
    pub answer: &'a AnswerRecord,
    /// The answer's sha256, taken once for all its checks.
    pub answer_sha256: String,
    pub index: usize,
    pub check: &'a Check,
}

/// The latest answer of each (item, model).
fn latest(answers: &[AnswerRecord]) -> HashMap<(&str, &str), &AnswerRecord> {
    answers
        .iter()
        .map(|a| ((a.item.as_str(), a.side.model.as_str()), a))
        .collect()
}

/// The latest record of each (item, model, check index).
fn current(records: &[CheckRecord]) -> HashMap<(&str, &str, usize), &CheckRecord> {
    records
        .iter()
        .map(|r| ((r.item.as_str(), r.model.as_str(), r.check.index), r))
        .collect()
}

/// Whether `record` still stands for `task`: the same definition, the same answer.
fn stands(record: &CheckRecord, task: &Task<'_>) -> bool {
    record.check.digest == task.check.digest && record.answer_sha256 == task.answer_sha256
}

/// Every check of every item on the latest answer of each of `models`, in suite order.
fn tasks<'a>(
    items: &'a [Item],
    answers: &'a [AnswerRecord],
    models: &'a [String],
) -> Vec<Task<'a>> {
    let latest = latest(answers);
    items
        .iter()
        .flat_map(|item| models.iter().map(move |model| (item, model)))
        .filter_map(|(item, model)| Some((item, *latest.get(&(item.id.as_str(), model.as_str()))?)))
        .flat_map(|(item, answer)| tasks_of(item, answer))
        .collect()
}

/// Every check of `item` on `answer`.
pub fn tasks_of<'a>(item: &'a Item, answer: &'a AnswerRecord) -> Vec<Task<'a>> {
    let answer_sha256 = sha256_hex(answer.side.answer.as_bytes());
    item.checks
        .list
        .iter()
        .enumerate()
        .map(|(index, check)| Task {
            item,
            answer,
            answer_sha256: answer_sha256.clone(),
            index,
            check,
        })
        .collect()
}

/// The checks still to grade: those with no record that stands. `only` keeps the
/// checks of one type (`icontains`, `not-regex`, …).
pub fn to_grade<'a>(
    items: &'a [Item],
    answers: &'a [AnswerRecord],
    models: &'a [String],
    records: &[CheckRecord],
    grader: Option<&str>,
    only: Option<&str>,
) -> Vec<Task<'a>> {
    let current = current(records);
    tasks(items, answers, models)
        .into_iter()
        .filter(|t| only.is_none_or(|only| t.check.type_name() == only))
        .filter(|t| {
            let key = (t.item.id.as_str(), t.answer.side.model.as_str(), t.index);
            // A rubric stands only for the grader that graded it; a cost is graded
            // again every time, at today's prices (a corrected price corrects it).
            let rubric = matches!(t.check.kind, Kind::Rubric(_));
            let cost = matches!(t.check.kind, Kind::Cost(_));
            cost || current
                .get(&key)
                .is_none_or(|r| !stands(r, t) || rubric && r.grader.as_deref() != grader)
        })
        .collect()
}

/// Each item's grade for each model from the records that stand (a rubric's, whoever
/// graded it last); an item with a check not graded yet, or one that could not run,
/// is left ungraded.
pub fn item_grades(
    items: &[Item],
    answers: &[AnswerRecord],
    models: &[String],
    records: &[CheckRecord],
) -> Vec<ItemGrade> {
    let current = current(records);
    let latest = latest(answers);
    let mut grades = Vec::new();
    for item in items.iter().filter(|i| !i.checks.list.is_empty()) {
        for model in models {
            let Some(answer) = latest.get(&(item.id.as_str(), model.as_str())) else {
                continue;
            };
            let outcomes: Vec<Option<Outcome>> = tasks_of(item, answer)
                .iter()
                .map(|task| {
                    let record = current.get(&(item.id.as_str(), model.as_str(), task.index))?;
                    stands(record, task).then(|| Outcome {
                        verdict: record.result,
                        score: record.score,
                        reason: record.reason.clone(),
                    })
                })
                .collect();
            let all: Option<Vec<&Outcome>> = outcomes.iter().map(Option::as_ref).collect();
            let verdict = all.and_then(|all| item_verdict(&item.checks, &all));
            let failed = item
                .checks
                .list
                .iter()
                .zip(&outcomes)
                .filter(|(_, o)| o.as_ref().is_some_and(|o| o.verdict == Verdict::Fail))
                .map(|(c, _)| c.type_name())
                .collect();
            grades.push(ItemGrade {
                item: item.id.clone(),
                model: model.clone(),
                category: item.category.clone(),
                passed: verdict.map(|(passed, _)| passed),
                score: verdict.map_or(0.0, |(_, score)| score),
                failed,
            });
        }
    }
    grades
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Finish;
    use crate::eval::check::{Checks, grade, grade::Graded};
    use crate::votes::SideRecord;
    use serde_json::json;
    use std::path::Path;

    fn item(id: &str, checks: &[serde_json::Value]) -> Item {
        Item {
            checks: Checks {
                list: checks
                    .iter()
                    .map(|c| Check::parse(c, Path::new(".")).unwrap())
                    .collect(),
                threshold: None,
            },
            ..Item::sample(id)
        }
    }

    fn answer(item: &str, model: &str, text: &str) -> AnswerRecord {
        AnswerRecord {
            item: item.into(),
            attachments: Vec::new(),
            side: SideRecord::sample(model, text, Finish::Stop),
        }
    }

    /// Grades every task as `duel check` does for the pure types.
    fn grade_all(tasks: &[Task<'_>]) -> Vec<CheckRecord> {
        tasks
            .iter()
            .map(|t| {
                let Graded::Done(outcome) = grade(t.check, &t.answer.side, None, None) else {
                    panic!("a pure check")
                };
                CheckRecord::new(t, outcome, None, "2026-12-07T00:00:00Z".into())
            })
            .collect()
    }

    #[test]
    fn only_what_changed_is_graded_again() {
        let models = ["qwen".to_owned(), "ernie".to_owned()];
        let items = [item(
            "cap",
            &[json!({"type": "icontains", "value": "canberra"})],
        )];
        let mut answers = vec![
            answer("cap", "qwen", "Canberra."),
            answer("cap", "ernie", "Sydney."),
        ];
        let todo = to_grade(&items, &answers, &models, &[], None, None);
        assert_eq!(todo.len(), 2);
        let mut records = grade_all(&todo);
        assert!(to_grade(&items, &answers, &models, &records, None, None).is_empty());

        // A new answer from one model: only it is graded again.
        answers.push(answer("cap", "ernie", "It is Canberra."));
        let todo = to_grade(&items, &answers, &models, &records, None, None);
        assert_eq!(todo.len(), 1);
        assert_eq!(todo[0].answer.side.model, "ernie");
        records.extend(grade_all(&todo));

        // A changed definition: both again.
        let items = [item(
            "cap",
            &[json!({"type": "contains", "value": "Canberra"})],
        )];
        assert_eq!(
            to_grade(&items, &answers, &models, &records, None, None).len(),
            2
        );
    }

    #[test]
    fn items_are_graded_from_the_records_that_stand() {
        let models = ["qwen".to_owned(), "ernie".to_owned()];
        let items = [
            item("cap", &[json!({"type": "icontains", "value": "canberra"})]),
            item(
                "two",
                &[
                    json!({"type": "equals", "value": "4"}),
                    json!({"type": "cost", "threshold": 1}),
                ],
            ),
            item("none", &[]),
        ];
        let answers = vec![
            answer("cap", "qwen", "Canberra."),
            answer("cap", "ernie", "Sydney."),
            answer("two", "qwen", "4"),
        ];
        let records = grade_all(&to_grade(&items, &answers, &models, &[], None, None));
        let grades = item_grades(&items, &answers, &models, &records);
        let of = |item: &str, model: &str| {
            grades
                .iter()
                .find(|g| g.item == item && g.model == model)
                .map(|g| g.passed)
        };
        assert_eq!(of("cap", "qwen"), Some(Some(true)));
        assert_eq!(of("cap", "ernie"), Some(Some(false)));
        // A cost check without a price cannot run: the item is not graded.
        assert_eq!(of("two", "qwen"), Some(None));
        assert_eq!(of("two", "ernie"), None, "no answer, no grade");
        assert_eq!(of("none", "qwen"), None, "no checks, no grade");
    }

    #[test]
    fn a_check_line_is_the_spec_s_shape() {
        let items = [item(
            "cap",
            &[json!({"type": "not-icontains", "value": "sydney"})],
        )];
        let answers = [answer("cap", "qwen", "Canberra.")];
        let models = ["qwen".to_owned()];
        let record = &grade_all(&to_grade(&items, &answers, &models, &[], None, None))[0];
        let line = serde_json::to_value(record).unwrap();
        assert_eq!(line["item"], "cap");
        assert_eq!(line["model"], "qwen");
        assert_eq!(line["check"]["index"], 0);
        assert_eq!(line["check"]["type"], "not-icontains");
        assert_eq!(line["result"], "pass");
        assert_eq!(line["score"], 1.0);
        assert!(line["grader"].is_null());
        assert!(line["time"].is_string());
    }
}
