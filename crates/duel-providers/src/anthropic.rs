//! The `anthropic` wire kind: the Messages API, streamed as named SSE events.

use std::borrow::Cow;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::http::{self, Garbage, Text, error_fields, error_fields_of};
use reqwest::Response;

use super::wire::{Failure, Outcome, Request, Wire};
use super::{ChatRequest, ErrorKind, Finish, ProviderError, Role, Sink, Usage, sse};
use crate::attach;
use duel_core::attachment::Kind;
use duel_core::config::Endpoint;

/// The API version every request names; the event shapes below are this version's.
const API_VERSION: &str = "2023-06-01";

/// The Messages API requires `max_tokens`; this is sent when the model sets none.
const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The API's name in messages that ask whether `base_url` is right.
const API: &str = "the Anthropic Messages API";

pub struct Anthropic {
    endpoint: Endpoint,
}

impl Anthropic {
    pub fn new(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }
}

impl Wire for Anthropic {
    const PATH: &'static str = "/v1/messages";
    const CARRIES: attach::Carries = attach::Carries {
        images: true,
        documents: true,
    };

    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn body(&self, req: &ChatRequest) -> Value {
        request_body(req)
    }

    fn headers(&self, request: Request) -> Result<Request, ProviderError> {
        let request = request.header("anthropic-version", API_VERSION);
        Ok(match http::api_key(&self.endpoint)? {
            Some(key) => request.header("x-api-key", key),
            None => request,
        })
    }

    fn failed(&self, failure: &Failure) -> ProviderError {
        failure.classified(&self.endpoint, classify_body)
    }

    fn decode<'a>(
        &'a self,
        response: Response,
        _model: &'a str,
        sink: &'a mut Sink,
    ) -> Outcome<'a> {
        let content_type = http::content_type(&response).unwrap_or("none").to_owned();
        Box::pin(async move {
            decode(
                sink.answer_body(response),
                &content_type,
                &self.endpoint,
                sink,
            )
            .await
        })
    }

    /// A 200 with a JSON body: an error, or a whole message from a server (a proxy)
    /// that ignored `stream`.
    fn whole(&self, body: &str, model: &str, sink: &mut Sink) -> Result<Finish, ProviderError> {
        let value: Value = serde_json::from_str(body).map_err(|_| http::not_a_stream(body))?;
        if value.get("type").and_then(Value::as_str) == Some("error") {
            let (kind, message) = classify_body(200, body);
            return Err(http::http_error(
                &self.endpoint,
                200,
                kind,
                message,
                body,
                model,
            ));
        }
        let blocks = value.get("content").and_then(Value::as_array);
        for block in blocks.into_iter().flatten() {
            match block.get("type").and_then(Value::as_str) {
                Some("thinking") => sink.reasoning(str_at(block, "thinking")),
                Some("text") => sink.text(str_at(block, "text")),
                _ => {}
            }
        }
        let mut usage = Usage::default();
        if let Some(wire) = value.get("usage") {
            merge_usage(&mut usage, wire);
            sink.usage(usage);
        }
        Ok(value
            .get("stop_reason")
            .and_then(Value::as_str)
            .map_or(Finish::Stop, stop_reason))
    }
}

/// Decodes the event stream of an answer (the body of a 200) into `sink`. Public for
/// the decoder benchmark, which feeds it bytes without a server.
pub async fn decode<S, E>(
    body: S,
    content_type: &str,
    endpoint: &Endpoint,
    sink: &mut Sink,
) -> Result<Finish, ProviderError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::error::Error + 'static,
{
    let mut events = std::pin::pin!(sse::events(body, endpoint.idle_timeout));
    let mut state = State::default();
    let mut garbage = Garbage::default();
    while let Some(event) = events.next().await {
        let event = event?;
        let data = event.data.trim();
        if data.is_empty() {
            continue;
        }
        if state.block_delta(data, sink) {
            continue;
        }
        let Some(value) = garbage.parse::<Value>(data) else {
            continue;
        };
        if let Some(finish) = state.event(&event.event, &value, sink)? {
            return Ok(finish);
        }
    }
    if let Some(err) = http::not_the_api(state.events, &garbage, Some(content_type), endpoint, API)
    {
        return Err(err);
    }
    Err(http::ended_early(sink, "message_stop"))
}

/// The JSON body: the model's extra fields (e.g. `thinking`) beside the standard ones,
/// the system prompt at the top level, and only user/assistant turns in `messages`.
pub(crate) fn request_body(req: &ChatRequest) -> Value {
    let mut body: Map<String, Value> = req.extra.clone();
    body.insert("model".into(), json!(req.model_id));
    body.insert(
        "max_tokens".into(),
        json!(req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    if let Some(system) = &req.system {
        body.insert("system".into(), json!(system));
    }
    let messages: Vec<Value> = req
        .messages
        .iter()
        .filter_map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
                // The API has no system role inside `messages`; it is top-level above.
                Role::System => return None,
            };
            if m.attachments.is_empty() {
                return Some(json!({ "role": role, "content": m.content }));
            }
            // Images and documents first, then the text (as Anthropic advises).
            let mut content: Vec<Value> = m
                .attachments
                .iter()
                .map(|a| {
                    let block = if a.kind() == Kind::Pdf {
                        "document"
                    } else {
                        "image"
                    };
                    json!({
                        "type": block,
                        "source": {
                            "type": "base64",
                            "media_type": a.media_type,
                            "data": attach::placeholder(a),
                        },
                    })
                })
                .collect();
            content.push(json!({ "type": "text", "text": m.content }));
            Some(json!({ "role": role, "content": content }))
        })
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(true));
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    Value::Object(body)
}

/// What the stream has told so far.
#[derive(Default)]
struct State {
    /// JSON events seen, of any type.
    events: usize,
    usage: Usage,
    finish: Option<Finish>,
}

impl State {
    /// Handles `data` when it is a `text_delta` or `thinking_delta`; false for any
    /// other event, which `event` then reads.
    fn block_delta(&mut self, data: &str, sink: &mut Sink) -> bool {
        let Ok(event) = serde_json::from_str::<BlockDelta>(data) else {
            return false;
        };
        if event.kind != "content_block_delta" {
            return false;
        }
        match (&*event.delta.kind, event.delta.text, event.delta.thinking) {
            ("text_delta", Some(text), _) => sink.text(&text.0),
            ("thinking_delta", _, Some(thinking)) => sink.reasoning(&thinking.0),
            _ => return false,
        }
        self.events += 1;
        true
    }

    /// Handles one event; returns the finish once `message_stop` arrives.
    fn event(
        &mut self,
        name: &str,
        value: &Value,
        sink: &mut Sink,
    ) -> Result<Option<Finish>, ProviderError> {
        self.events += 1;
        // The type is repeated inside the data; the event name is the fallback.
        let kind = value.get("type").and_then(Value::as_str).unwrap_or(name);
        match kind {
            "message_start" => {
                if let Some(usage) = value.pointer("/message/usage") {
                    merge_usage(&mut self.usage, usage);
                    sink.usage(self.usage);
                }
            }
            "content_block_start" => {
                // A block may open with text already in it (usually empty).
                let block = value.get("content_block").unwrap_or(&Value::Null);
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => sink.text(str_at(block, "text")),
                    Some("thinking") => sink.reasoning(str_at(block, "thinking")),
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = value.get("delta").unwrap_or(&Value::Null);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => sink.text(str_at(delta, "text")),
                    Some("thinking_delta") => sink.reasoning(str_at(delta, "thinking")),
                    // signature_delta, input_json_delta, citations_delta: nothing to show.
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(reason) = value.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.finish = Some(stop_reason(reason));
                }
                if let Some(usage) = value.get("usage") {
                    merge_usage(&mut self.usage, usage);
                    sink.usage(self.usage);
                }
            }
            // A stop without a stop_reason before it did not say the answer ended.
            "message_stop" => {
                return self
                    .finish
                    .map(Some)
                    .ok_or_else(|| http::ended_early(sink, "a stop_reason"));
            }
            "error" => return Err(stream_error(value)),
            "content_block_stop" | "ping" => {}
            other => tracing::debug!(event = other, "ignoring an unknown stream event"),
        }
        Ok(None)
    }
}

/// The event nearly every token comes in (answer or thinking), read without building
/// a JSON tree; its text borrows from the event unless it holds escapes.
#[derive(Deserialize)]
struct BlockDelta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    delta: DeltaBody<'a>,
}

#[derive(Deserialize)]
struct DeltaBody<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    text: Option<Text<'a>>,
    #[serde(default, borrow)]
    thinking: Option<Text<'a>>,
}

/// Takes the token counts an event carries; `message_delta` counts are cumulative,
/// so a later count replaces an earlier one.
fn merge_usage(usage: &mut Usage, wire: &Value) {
    let count = |field: &str| wire.get(field).and_then(Value::as_u64);
    if let Some(input) = count("input_tokens") {
        // Written to the cache is billed as input (Anthropic adds a premium duel does
        // not model); read from it, at the cached price.
        let read = count("cache_read_input_tokens");
        let cached = count("cache_creation_input_tokens").unwrap_or(0) + read.unwrap_or(0);
        usage.input_tokens = Some(input + cached);
        if read.is_some() {
            usage.cached_input_tokens = read;
        }
    }
    if let Some(output) = count("output_tokens") {
        usage.output_tokens = Some(output);
    }
}

fn str_at<'v>(value: &'v Value, field: &str) -> &'v str {
    value.get(field).and_then(Value::as_str).unwrap_or("")
}

/// How a `stop_reason` ends the answer.
fn stop_reason(reason: &str) -> Finish {
    match reason {
        "end_turn" | "stop_sequence" | "tool_use" | "pause_turn" => Finish::Stop,
        "max_tokens" | "model_context_window_exceeded" => Finish::Length,
        "refusal" => Finish::Filtered,
        other => {
            tracing::debug!(reason = other, "unknown stop_reason, taken as stop");
            Finish::Stop
        }
    }
}

/// An `event: error` inside a 200 stream.
fn stream_error(value: &Value) -> ProviderError {
    let (code, message) = error_fields_of(value);
    let message = message.unwrap_or_else(|| "the provider sent an error in the stream".into());
    ProviderError::new(classify(None, &code, &message), message)
}

/// The kind and message of an error body, `{"type":"error","error":{"type","message"}}`.
fn classify_body(status: u16, body: &str) -> (ErrorKind, Option<String>) {
    let (code, message) = error_fields(body);
    let kind = classify(Some(status), &code, message.as_deref().unwrap_or(""));
    (kind, message)
}

/// The kind of a failure from its error type, falling back to the HTTP status.
fn classify(status: Option<u16>, error_type: &str, message: &str) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    if lower.contains("prompt is too long") {
        return ErrorKind::ContextTooLong;
    }
    if lower.contains("credit balance is too low") {
        return ErrorKind::Quota;
    }
    match error_type {
        "authentication_error" | "permission_error" => ErrorKind::Auth,
        "not_found_error" => ErrorKind::NotFound,
        "request_too_large" => ErrorKind::ContextTooLong,
        "rate_limit_error" => ErrorKind::RateLimit,
        "billing_error" => ErrorKind::Quota,
        "overloaded_error" | "api_error" | "timeout_error" => ErrorKind::Server,
        "invalid_request_error" => ErrorKind::BadRequest,
        _ => status.map_or(ErrorKind::Server, http::status_kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    #[test]
    fn body_has_top_level_system_and_required_max_tokens() {
        let mut extra = Map::new();
        extra.insert(
            "thinking".into(),
            json!({"type": "enabled", "budget_tokens": 2048}),
        );
        let req = ChatRequest {
            model_id: "claude-sonnet-4-5".into(),
            system: Some("be brief".into()),
            messages: vec![
                Message::new(Role::User, "hi"),
                Message::new(Role::Assistant, "hello"),
                Message::new(Role::User, "go on"),
            ],
            temperature: Some(0.5),
            top_p: None,
            max_tokens: None,
            extra,
            max_answer_bytes: usize::MAX,
            model_name: "test".into(),
            takes: vec![duel_core::attachment::Input::Text],
            files: None,
        };
        assert_eq!(
            request_body(&req),
            json!({
                "model": "claude-sonnet-4-5",
                "max_tokens": 4096,
                "system": "be brief",
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"},
                    {"role": "user", "content": "go on"}
                ],
                "stream": true,
                "temperature": 0.5,
                "thinking": {"type": "enabled", "budget_tokens": 2048}
            })
        );
    }

    #[test]
    fn classifies_error_types() {
        let kind = |status, body: &str| classify_body(status, body).0;
        let body = |t: &str, m: &str| {
            format!(r#"{{"type":"error","error":{{"type":"{t}","message":"{m}"}}}}"#)
        };
        assert_eq!(
            kind(401, &body("authentication_error", "invalid x-api-key")),
            ErrorKind::Auth
        );
        assert_eq!(kind(403, &body("permission_error", "no")), ErrorKind::Auth);
        assert_eq!(
            kind(404, &body("not_found_error", "model: x")),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(
                400,
                &body(
                    "invalid_request_error",
                    "prompt is too long: 210000 tokens > 200000 maximum"
                )
            ),
            ErrorKind::ContextTooLong
        );
        assert_eq!(
            kind(413, &body("request_too_large", "too big")),
            ErrorKind::ContextTooLong
        );
        assert_eq!(
            kind(429, &body("rate_limit_error", "slow")),
            ErrorKind::RateLimit
        );
        assert_eq!(
            kind(529, &body("overloaded_error", "Overloaded")),
            ErrorKind::Server
        );
        assert_eq!(kind(500, &body("api_error", "oops")), ErrorKind::Server);
        assert_eq!(kind(402, &body("billing_error", "pay")), ErrorKind::Quota);
        assert_eq!(
            kind(
                400,
                &body(
                    "invalid_request_error",
                    "Your credit balance is too low to access the Anthropic API."
                )
            ),
            ErrorKind::Quota
        );
        assert_eq!(kind(529, "<html>overloaded</html>"), ErrorKind::Server);
        assert_eq!(
            kind(400, &body("invalid_request_error", "bad")),
            ErrorKind::BadRequest
        );
    }

    #[test]
    fn maps_stop_reasons() {
        assert_eq!(stop_reason("end_turn"), Finish::Stop);
        assert_eq!(stop_reason("stop_sequence"), Finish::Stop);
        assert_eq!(stop_reason("max_tokens"), Finish::Length);
        assert_eq!(stop_reason("model_context_window_exceeded"), Finish::Length);
        assert_eq!(stop_reason("refusal"), Finish::Filtered);
    }
}
