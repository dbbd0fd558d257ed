//! The request one side sends for one turn, as every wire kind reads it.

use crate::attachment::{Input, Store};
use crate::config::{DEFAULT_MAX_ANSWER_BYTES, ModelSpec};
use crate::domain::{Message, Role};

/// What one side sends for one turn. `messages` holds the user/assistant history and
/// ends with this turn's user prompt; the system prompt is kept apart because wire
/// kinds place it differently.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatRequest {
    pub model_id: String,
    pub system: Option<String>,
    pub messages: Vec<Message>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    /// Extra top-level body fields the model's config asks for (e.g. `enable_thinking`).
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// The most answer and reasoning text taken in; past it the stream is cut.
    pub max_answer_bytes: usize,
    /// The model's name, for a refusal that names it.
    pub model_name: String,
    /// What the model takes in a prompt besides text (`[[models]] input`).
    pub takes: Vec<Input>,
    /// Where the attachments' bytes are kept; `None` when no message has any.
    pub files: Option<Store>,
}

impl ChatRequest {
    /// The request a model's settings make for `messages`. A system message leading
    /// `messages` (a suite item's own) stands in for the model's system prompt: every
    /// wire kind sends the system prompt its own way, and some drop one left inside
    /// the turns.
    pub fn for_model(model: &ModelSpec, mut messages: Vec<Message>) -> Self {
        let system = if messages.first().is_some_and(|m| m.role == Role::System) {
            Some(messages.remove(0).content)
        } else {
            model.system.clone()
        };
        Self {
            model_id: model.model_id.clone(),
            system,
            messages,
            temperature: model.temperature,
            top_p: model.top_p,
            max_tokens: model.max_tokens,
            extra: model.extra.clone(),
            max_answer_bytes: model.max_answer_bytes.unwrap_or(DEFAULT_MAX_ANSWER_BYTES) as usize,
            model_name: model.name.clone(),
            takes: [Input::Text, Input::Image, Input::Pdf]
                .into_iter()
                .filter(|i| model.takes(*i))
                .collect(),
            files: None,
        }
    }

    /// The request with its attachments' bytes read from `files`.
    pub fn with_files(mut self, files: Store) -> Self {
        self.files = Some(files);
        self
    }

    /// Whether any message carries an attachment.
    pub fn has_attachments(&self) -> bool {
        self.messages.iter().any(|m| !m.attachments.is_empty())
    }

    /// The history as a vote record stores it: the system prompt first, then the turns.
    pub fn history_with_system(&self) -> Vec<Message> {
        let mut out = Vec::with_capacity(self.messages.len() + 1);
        if let Some(system) = &self.system {
            out.push(Message::new(Role::System, system.clone()));
        }
        out.extend(self.messages.iter().cloned());
        out
    }
}
