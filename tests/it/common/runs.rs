//! A batch run built on disk through the library, as `duel batch` would leave it: the
//! run's record, its copy of the suite, and one answer per item and model.

use std::path::Path;

use duel::domain::{Finish, Message, Role};
use duel::eval::run::{AnswerRecord, Run, RunInfo, sha256_hex};
use duel::votes::SideRecord;

/// One suite item: its id, prompt and category.
pub struct Item<'a> {
    pub id: &'a str,
    pub prompt: &'a str,
    pub category: Option<&'a str>,
}

/// What `model` answered to `item`: text that does not name the model.
pub fn answer_text(model: &str, item: &str) -> String {
    let n = model.len() % 2;
    if n == 0 {
        format!("The **short** answer to {item}.")
    } else {
        format!("A longer answer to {item}:\n\n- first point\n- second point")
    }
}

pub fn side(model: &str, item: &str) -> SideRecord {
    SideRecord {
        model: model.into(),
        provider: "mylab".into(),
        model_id: format!("{model}-1"),
        history: Some(vec![Message::new(Role::System, "Be brief.")]),
        answer: answer_text(model, item),
        reasoning: None,
        finish: Finish::Stop,
        error: None,
        ttft_ms: Some(300),
        total_ms: Some(1200),
        input_tokens: Some(12),
        output_tokens: Some(40),
        output_tokens_estimate: None,
        cached_input_tokens: None,
        reasoning_tokens: None,
    }
}

/// A run `id` named `pilot` over `items`, answered by every one of `models` (but for
/// the `(item, model)` answers in `missing`).
pub fn make_run(
    data_dir: &Path,
    id: &str,
    items: &[Item],
    models: &[&str],
    missing: &[(&str, &str)],
) -> Run {
    let suite: String = items
        .iter()
        .map(|item| {
            let mut line = serde_json::json!({"id": item.id, "prompt": item.prompt});
            if let Some(category) = item.category {
                line["category"] = category.into();
            }
            format!("{line}\n")
        })
        .collect();
    let ids: Vec<&str> = items.iter().map(|item| item.id).collect();
    make_run_of(data_dir, id, &suite, &ids, models, missing)
}

/// `make_run` over a suite given as its `.jsonl` text, whose items have these ids.
pub fn make_run_of(
    data_dir: &Path,
    id: &str,
    suite: &str,
    ids: &[&str],
    models: &[&str],
    missing: &[(&str, &str)],
) -> Run {
    let run = Run::create(
        data_dir,
        RunInfo {
            id: id.into(),
            name: Some("pilot".into()),
            suite: "suite.jsonl".into(),
            suite_sha256: sha256_hex(suite.as_bytes()),
            models: models.iter().map(|m| (*m).to_owned()).collect(),
            settings: Default::default(),
            created: "2026-11-29T10:00:00.000Z".into(),
        },
    )
    .expect("create the run");
    run.keep_suite(suite.as_bytes()).expect("keep the suite");
    for item in ids {
        for model in models {
            if missing.contains(&(*item, *model)) {
                continue;
            }
            run.append(&AnswerRecord {
                item: (*item).into(),
                attachments: Vec::new(),
                side: side(model, item),
            })
            .expect("append an answer");
        }
    }
    run
}
