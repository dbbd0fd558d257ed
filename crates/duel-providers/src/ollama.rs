//! The `ollama` wire kind: Ollama's native `/api/chat`, which streams NDJSON and
//! reports errors as `{"error":"…"}`, before or inside the stream.

use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::http::{self, Garbage};
use reqwest::Response;

use super::wire::{self, Failure, Outcome, Request, Wire};
use super::{ChatRequest, ErrorKind, Finish, ProviderError, Sink, Usage, ndjson};
use crate::attach;
use duel_core::config::Endpoint;

/// The API's name in messages that ask whether `base_url` is right.
const API: &str = "an Ollama server (/api/chat)";

pub struct Ollama {
    endpoint: Endpoint,
}

impl Ollama {
    pub fn new(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }
}

impl Wire for Ollama {
    const PATH: &'static str = "/api/chat";

    const ACCEPT: &'static str = "application/x-ndjson";
    // The stream is NDJSON whatever its content type says.
    const WHOLE_JSON: bool = false;

    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn body(&self, req: &ChatRequest) -> Value {
        request_body(req)
    }

    /// A local Ollama needs no key; one behind a proxy may be given one.
    fn headers(&self, request: Request) -> Result<Request, ProviderError> {
        wire::bearer(&self.endpoint, request)
    }

    /// Connection failures at Ollama's address almost always mean it is not running.
    fn unreachable(&self, err: ProviderError) -> ProviderError {
        if err.kind != ErrorKind::Network {
            return err;
        }
        err.with_hint(format!(
            "is Ollama running? (`ollama serve`) at {}",
            self.endpoint.base_url
        ))
    }

    fn failed(&self, failure: &Failure) -> ProviderError {
        let err = failure.classified(&self.endpoint, |status, body| {
            let message = http::error_fields(body).1;
            let kind = classify(Some(status), message.as_deref().unwrap_or(""));
            (kind, message)
        });
        self.with_hint(err, failure.model)
    }

    fn decode<'a>(&'a self, response: Response, model: &'a str, sink: &'a mut Sink) -> Outcome<'a> {
        Box::pin(self.decode_stream(response, model, sink))
    }
}

impl Ollama {
    async fn decode_stream(
        &self,
        response: reqwest::Response,
        model: &str,
        sink: &mut Sink,
    ) -> Result<Finish, ProviderError> {
        let mut lines = std::pin::pin!(ndjson::lines(
            sink.answer_body(response),
            self.endpoint.idle_timeout
        ));
        let mut chunks = 0usize;
        let mut garbage = Garbage::default();
        while let Some(line) = lines.next().await {
            let line = line?;
            let Some(chunk) = garbage.parse::<Chunk>(&line) else {
                continue;
            };
            chunks += 1;
            if let Some(error) = chunk.error {
                let message = match error {
                    Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
                    other => format!("the server sent an error in the stream: {other}"),
                };
                let err = ProviderError::new(classify(None, &message), message);
                return Err(self.with_hint(err, model));
            }
            if let Some(message) = chunk.message {
                sink.reasoning(message.thinking.as_deref().unwrap_or(""));
                sink.text(message.content.as_deref().unwrap_or(""));
            }
            if chunk.done {
                if chunk.prompt_eval_count.is_some() || chunk.eval_count.is_some() {
                    sink.usage(Usage {
                        input_tokens: chunk.prompt_eval_count,
                        output_tokens: chunk.eval_count,
                        ..Usage::default()
                    });
                }
                return Ok(done_reason(chunk.done_reason.as_deref()));
            }
        }
        if let Some(err) = http::not_the_api(chunks, &garbage, None, &self.endpoint, API) {
            return Err(err);
        }
        Err(http::ended_early(sink, "done:true"))
    }

    /// An unknown model is fixed by pulling it, not by checking a key or URL.
    fn with_hint(&self, err: ProviderError, model: &str) -> ProviderError {
        match err.kind {
            ErrorKind::NotFound => err.with_hint(format!("ollama pull {model}")),
            ErrorKind::ContextTooLong => err.with_hint(
                "start a new conversation, or raise num_ctx (extra options) for this model",
            ),
            _ => err,
        }
    }
}

/// The JSON body. Sampling settings go in `options`, merged into any `options` the
/// model's extra fields already carry (e.g. `num_ctx`); other extra fields (e.g.
/// `think`) stay at the top level.
pub(crate) fn request_body(req: &ChatRequest) -> Value {
    let mut body: Map<String, Value> = req.extra.clone();
    body.insert("model".into(), json!(req.model_id));
    let messages: Vec<Value> = req
        .history_with_system()
        .iter()
        .map(|m| {
            let mut message = json!({ "role": m.role, "content": m.content });
            if !m.attachments.is_empty() {
                let images: Vec<String> = m.attachments.iter().map(attach::placeholder).collect();
                message["images"] = json!(images);
            }
            message
        })
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(true));
    let mut options = match body.remove("options") {
        Some(Value::Object(options)) => options,
        _ => Map::new(),
    };
    if let Some(t) = req.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        options.insert("top_p".into(), json!(p));
    }
    if let Some(n) = req.max_tokens {
        options.insert("num_predict".into(), json!(n));
    }
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
    }
    Value::Object(body)
}

/// One NDJSON line. Every field is optional: the last line carries the counts, an
/// error line only `error`.
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    message: Option<ChunkMessage>,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    done_reason: Option<String>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
    #[serde(default)]
    eval_count: Option<u64>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct ChunkMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
}

fn done_reason(reason: Option<&str>) -> Finish {
    match reason {
        Some("length") => Finish::Length,
        // `load` / `unload` come from requests that only (un)load a model.
        Some("stop" | "load" | "unload") | None => Finish::Stop,
        Some(other) => {
            tracing::debug!(reason = other, "unknown done_reason, taken as stop");
            Finish::Stop
        }
    }
}

/// The kind of an Ollama error from its status (none inside a stream) and message.
fn classify(status: Option<u16>, message: &str) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    // "model 'x' not found", or in older builds "…, try pulling it first".
    if lower.contains("not found") || lower.contains("try pulling") {
        return ErrorKind::NotFound;
    }
    // Past that, a message is read for the OpenAI kind's words: those of a proxy
    // in front of Ollama, or Ollama's own `/v1`.
    super::openai::classify(status, "", message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, Role};

    fn req() -> ChatRequest {
        ChatRequest {
            model_id: "qwen3".into(),
            system: None,
            messages: vec![Message::new(Role::User, "hi")],
            temperature: None,
            top_p: None,
            max_tokens: None,
            extra: Map::new(),
            max_answer_bytes: usize::MAX,
            model_name: "test".into(),
            takes: vec![duel_core::attachment::Input::Text],
            files: None,
        }
    }

    #[test]
    fn body_leaves_out_options_that_are_not_set() {
        assert_eq!(
            request_body(&req()),
            json!({
                "model": "qwen3",
                "messages": [{"role": "user", "content": "hi"}],
                "stream": true
            })
        );
    }

    #[test]
    fn body_merges_sampling_into_extra_options() {
        let mut req = req();
        req.top_p = Some(0.9);
        req.extra.insert("options".into(), json!({"num_ctx": 8192}));
        req.extra.insert("think".into(), json!(true));
        assert_eq!(
            request_body(&req),
            json!({
                "model": "qwen3",
                "messages": [{"role": "user", "content": "hi"}],
                "stream": true,
                "think": true,
                "options": {"num_ctx": 8192, "top_p": 0.9}
            })
        );
    }

    #[test]
    fn maps_done_reasons() {
        assert_eq!(done_reason(Some("stop")), Finish::Stop);
        assert_eq!(done_reason(Some("length")), Finish::Length);
        assert_eq!(done_reason(Some("load")), Finish::Stop);
        assert_eq!(done_reason(Some("unload")), Finish::Stop);
        assert_eq!(done_reason(None), Finish::Stop);
    }

    #[test]
    fn classifies_ollama_errors() {
        assert_eq!(
            classify(Some(404), "model 'x' not found"),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify(None, "model 'x' not found, try pulling it first"),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify(Some(400), "\"gemma\" does not support thinking"),
            ErrorKind::BadRequest
        );
        assert_eq!(classify(Some(500), "boom"), ErrorKind::Server);
        assert_eq!(classify(Some(503), "server busy"), ErrorKind::Server);
        assert_eq!(
            classify(None, "an error was encountered while running the model"),
            ErrorKind::Server
        );
    }
}
