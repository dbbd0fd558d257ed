//! The `openai` wire kind: Chat Completions streaming, as spoken by OpenAI, DashScope
//! compatible mode, Qianfan v2, DeepSeek, Moonshot, Zhipu and Ollama's `/v1`.

use std::borrow::Cow;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::http::{self, Codes, Garbage, Text, error_fields, error_fields_of};
use reqwest::Response;

use super::wire::{self, Failure, Outcome, Request, Wire};
use super::{ChatRequest, ErrorKind, Finish, ProviderError, Sink, Usage, sse};
use crate::attach;
use duel_core::config::Endpoint;

/// The API's name in messages that ask whether `base_url` is right.
const API: &str = "an OpenAI-compatible endpoint";

pub struct OpenAi {
    endpoint: Endpoint,
}

impl OpenAi {
    pub fn new(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }
}

impl Wire for OpenAi {
    const PATH: &'static str = "/chat/completions";

    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn body(&self, req: &ChatRequest) -> Value {
        request_body(req)
    }

    fn headers(&self, request: Request) -> Result<Request, ProviderError> {
        wire::bearer(&self.endpoint, request)
    }

    fn failed(&self, failure: &Failure) -> ProviderError {
        failure.classified(&self.endpoint, classify_body)
    }

    /// A 200 with a JSON body: an error some gateways send this way, or a whole
    /// answer from a server that ignored `stream`.
    fn whole(&self, body: &str, model: &str, sink: &mut Sink) -> Result<Finish, ProviderError> {
        let value: Value = serde_json::from_str(body).map_err(|_| http::not_a_stream(body))?;
        if value.get("error").is_some_and(|e| !e.is_null()) {
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
        let choice = value.pointer("/choices/0");
        let text = |field: &str| {
            choice
                .and_then(|c| c.pointer(&format!("/message/{field}")))
                .and_then(Value::as_str)
        };
        sink.reasoning(
            text("reasoning_content")
                .or(text("reasoning"))
                .unwrap_or(""),
        );
        sink.text(text("content").unwrap_or(""));
        if let Some(usage) = value
            .get("usage")
            .and_then(|u| WireUsage::deserialize(u).ok())
        {
            sink.usage(usage.into());
        }
        let reason = choice
            .and_then(|c| c.get("finish_reason"))
            .and_then(Value::as_str);
        let finish = match reason {
            Some(reason) => finish_reason(reason)?,
            None => None,
        };
        Ok(finish.unwrap_or(Finish::Stop))
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
    // No default: a stream that never said why it finished did not finish.
    let mut finish = None;
    let mut chunks = 0usize;
    let mut garbage = Garbage::default();
    while let Some(event) = events.next().await {
        let event = event?;
        let data = event.data.trim();
        if data == "[DONE]" {
            // llama.cpp's server sends [DONE] without a finish_reason when another
            // request interrupts the running one: the answer is truncated.
            return finish.ok_or_else(|| http::ended_early(sink, "a finish_reason"));
        }
        let Some(chunk) = garbage.parse::<Chunk>(data) else {
            continue;
        };
        chunks += 1;
        if let Some(error) = &chunk.error {
            return Err(stream_error(error));
        }
        if let Some(reason) = chunk.decode(sink)? {
            finish = Some(reason);
        }
    }
    if let Some(err) = http::not_the_api(chunks, &garbage, Some(content_type), endpoint, API) {
        return Err(err);
    }
    Err(http::ended_early(sink, "[DONE]"))
}

/// The JSON body: the standard fields, with the model's extra fields beside them.
pub(crate) fn request_body(req: &ChatRequest) -> Value {
    let mut body: Map<String, Value> = req.extra.clone();
    body.insert("model".into(), json!(req.model_id));
    let messages: Vec<Value> = req
        .history_with_system()
        .iter()
        .map(|m| {
            if m.attachments.is_empty() {
                return json!({ "role": m.role, "content": m.content });
            }
            // The text, then each image as a `data:` URL.
            let mut content = vec![json!({ "type": "text", "text": m.content })];
            content.extend(m.attachments.iter().map(
                |a| json!({ "type": "image_url", "image_url": { "url": attach::data_url(a) } }),
            ));
            json!({ "role": m.role, "content": content })
        })
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(true));
    body.insert("stream_options".into(), json!({ "include_usage": true }));
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(n) = req.max_tokens {
        body.insert("max_tokens".into(), json!(n));
    }
    Value::Object(body)
}

/// One `data:` object of the stream. Every field is optional: providers differ in
/// what they leave out or set to null.
/// Text fields borrow from the event where they can (no escapes): one copy less per token.
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    #[serde(default, borrow)]
    finish_reason: Option<Cow<'a, str>>,
    /// Moonshot puts the usage inside the choice.
    #[serde(default)]
    usage: Option<WireUsage>,
    /// Qianfan's safety level: 2 and above mean the conversation must stop.
    #[serde(default)]
    flag: Option<i64>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Option<Text<'a>>,
    #[serde(default, borrow)]
    reasoning_content: Option<Text<'a>>,
    /// Ollama's `/v1` name for the reasoning text.
    #[serde(default, borrow)]
    reasoning: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    /// OpenAI, DashScope, Zhipu: `cached_tokens`.
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    /// OpenAI, DashScope, DeepSeek: `reasoning_tokens`.
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek's name for the cached input.
    #[serde(default)]
    prompt_cache_hit_tokens: Option<u64>,
    /// Moonshot's.
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Self {
        Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
            cached_input_tokens: u
                .prompt_tokens_details
                .and_then(|d| d.cached_tokens)
                .or(u.prompt_cache_hit_tokens)
                .or(u.cached_tokens),
            reasoning_tokens: u.completion_tokens_details.and_then(|d| d.reasoning_tokens),
        }
    }
}

impl Chunk<'_> {
    /// Passes the chunk's text and usage on; returns its finish reason, if any.
    fn decode(self, sink: &mut Sink) -> Result<Option<Finish>, ProviderError> {
        let mut usage = self.usage;
        let mut finish = None;
        if let Some(choice) = self.choices.and_then(|c| c.into_iter().next()) {
            if let Some(delta) = choice.delta {
                if let Some(reasoning) = delta.reasoning_content.or(delta.reasoning) {
                    sink.reasoning(&reasoning.0);
                }
                if let Some(content) = delta.content {
                    sink.text(&content.0);
                }
            }
            usage = usage.or(choice.usage);
            if let Some(reason) = choice.finish_reason {
                finish = finish_reason(&reason)?;
            }
            if choice.flag.is_some_and(|flag| flag >= 2) {
                finish = Some(Finish::Filtered);
            }
        }
        if let Some(usage) = usage {
            sink.usage(usage.into());
        }
        Ok(finish)
    }
}

/// What a `finish_reason` means; `None` for "not finished yet".
fn finish_reason(reason: &str) -> Result<Option<Finish>, ProviderError> {
    Ok(Some(match reason {
        "" | "null" => return Ok(None),
        "stop" | "tool_calls" | "function_call" => Finish::Stop,
        "length" | "model_context_window_exceeded" => Finish::Length,
        "content_filter" | "sensitive" => Finish::Filtered,
        // Zhipu: the model failed while answering.
        "network_error" => {
            return Err(ProviderError::new(
                ErrorKind::Server,
                "the provider stopped the answer (finish_reason: network_error)",
            ));
        }
        // DeepSeek: the answer was cut for lack of capacity; a new request may succeed.
        "insufficient_system_resource" => {
            return Err(ProviderError::new(
                ErrorKind::Server,
                "the provider ran out of capacity and cut the answer (finish_reason: insufficient_system_resource)",
            )
            .with_hint("send the prompt again"));
        }
        other => {
            tracing::debug!(reason = other, "unknown finish_reason, taken as stop");
            Finish::Stop
        }
    }))
}

/// What the services behind the OpenAI kind say in their error codes and messages.
/// OpenAI's own codes come first; the presets that copy its wire add theirs.
const CODES: Codes = Codes {
    always: &[
        (
            ErrorKind::Quota,
            &[
                "insufficient_quota",
                // DashScope: an unpaid bill, a used-up quota.
                "arrearage",
                "allocationquota",
                // DeepSeek.
                "insufficient balance",
                // Zhipu: the account is in arrears (sent as a 429).
                "1113",
            ],
        ),
        (
            ErrorKind::Filtered,
            &[
                "content_filter",
                // DashScope, in its native and compatible-mode spellings.
                "data_inspection_failed",
                "datainspectionfailed",
                "inappropriate content",
                // Zhipu: unsafe content.
                "1301",
            ],
        ),
        (
            ErrorKind::ContextTooLong,
            &[
                "context_length_exceeded",
                // Qianfan v2.
                "tokens_too_long",
                "characters_too_long",
                // DashScope.
                "range of input length",
            ],
        ),
    ],
    in_stream: &[
        (ErrorKind::RateLimit, &["rate_limit", "throttling"]),
        (ErrorKind::Auth, &["invalid_api_key", "authentication"]),
    ],
};

/// The kind of an OpenAI-compatible failure.
pub(crate) fn classify(status: Option<u16>, code: &str, message: &str) -> ErrorKind {
    http::classify(status, code, message, &CODES)
}

/// An `{"error": …}` object inside a 200 stream.
fn stream_error(error: &Value) -> ProviderError {
    let (code, message) = error_fields_of(&json!({ "error": error }));
    let message = message.unwrap_or_else(|| "the provider sent an error in the stream".into());
    ProviderError::new(classify(None, &code, &message), message)
}

/// The kind and message of an error body in any of the OpenAI-like shapes.
fn classify_body(status: u16, body: &str) -> (ErrorKind, Option<String>) {
    let (code, message) = error_fields(body);
    let shown = message
        .clone()
        .unwrap_or_else(|| http::body_message(status, body));
    (classify(Some(status), &code, &shown), message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, Role};

    #[test]
    fn plain_deltas_borrow_from_the_event_and_escaped_ones_are_decoded() {
        let delta = |json: &'static str| {
            let chunk: Chunk<'static> = serde_json::from_str(json).expect("a chunk");
            let choice = chunk.choices.and_then(|c| c.into_iter().next());
            choice
                .and_then(|c| c.delta)
                .and_then(|d| d.content)
                .map(|t| t.0)
        };
        let plain = delta(r#"{"choices":[{"delta":{"content":"plain"}}]}"#);
        assert!(matches!(plain, Some(Cow::Borrowed("plain"))));
        let escaped = delta(r#"{"choices":[{"delta":{"content":"a\nb"}}]}"#);
        assert_eq!(escaped.as_deref(), Some("a\nb"));
    }

    #[test]
    fn body_puts_system_first_and_extra_fields_at_top_level() {
        let mut extra = Map::new();
        extra.insert("enable_thinking".into(), json!(true));
        let req = ChatRequest {
            model_id: "qwen-plus".into(),
            system: Some("be brief".into()),
            messages: vec![Message::new(Role::User, "hi")],
            temperature: Some(0.5),
            top_p: None,
            max_tokens: Some(64),
            extra,
            max_answer_bytes: usize::MAX,
            model_name: "test".into(),
            takes: vec![duel_core::attachment::Input::Text],
            files: None,
        };
        assert_eq!(
            request_body(&req),
            json!({
                "model": "qwen-plus",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "hi"}
                ],
                "stream": true,
                "stream_options": {"include_usage": true},
                "temperature": 0.5,
                "max_tokens": 64,
                "enable_thinking": true
            })
        );
    }

    /// Cached input and reasoning tokens, in each dialect's own fields.
    #[test]
    fn usage_reads_cached_and_reasoning_tokens_where_the_dialect_sends_them() {
        let usage =
            |json: &str| Usage::from(serde_json::from_str::<WireUsage>(json).expect("usage"));
        // OpenAI, DashScope compatible mode, Zhipu.
        let openai = usage(
            r#"{"prompt_tokens":100,"completion_tokens":50,"prompt_tokens_details":{"cached_tokens":80},"completion_tokens_details":{"reasoning_tokens":30}}"#,
        );
        assert_eq!(
            (
                openai.input_tokens,
                openai.output_tokens,
                openai.cached_input_tokens,
                openai.reasoning_tokens
            ),
            (Some(100), Some(50), Some(80), Some(30))
        );
        // DeepSeek: prompt_tokens = hit + miss.
        let deepseek = usage(
            r#"{"prompt_tokens":100,"completion_tokens":5,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}"#,
        );
        assert_eq!(deepseek.cached_input_tokens, Some(64));
        // Moonshot.
        let moonshot = usage(r#"{"prompt_tokens":39,"completion_tokens":211,"cached_tokens":20}"#);
        assert_eq!(moonshot.cached_input_tokens, Some(20));
        // A server that says nothing of either.
        let plain = usage(r#"{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}"#);
        assert_eq!(
            (plain.cached_input_tokens, plain.reasoning_tokens),
            (None, None)
        );
    }

    #[test]
    fn maps_finish_reasons() {
        assert_eq!(finish_reason("stop").ok(), Some(Some(Finish::Stop)));
        assert_eq!(finish_reason("length").ok(), Some(Some(Finish::Length)));
        assert_eq!(
            finish_reason("content_filter").ok(),
            Some(Some(Finish::Filtered))
        );
        assert_eq!(
            finish_reason("sensitive").ok(),
            Some(Some(Finish::Filtered))
        );
        assert_eq!(finish_reason("null").ok(), Some(None));
        assert!(finish_reason("network_error").is_err());
    }

    #[test]
    fn classifies_provider_codes() {
        let kind = |status, body: &str| {
            let (code, message) = error_fields(body);
            classify(status, &code, &message.unwrap_or_default())
        };
        let openai = |code: &str| format!(r#"{{"error":{{"message":"m","code":"{code}"}}}}"#);
        assert_eq!(kind(Some(401), &openai("invalid_api_key")), ErrorKind::Auth);
        assert_eq!(
            kind(Some(429), &openai("insufficient_quota")),
            ErrorKind::Quota
        );
        assert_eq!(
            kind(Some(429), &openai("rate_limit_exceeded")),
            ErrorKind::RateLimit
        );
        assert_eq!(
            kind(Some(400), &openai("context_length_exceeded")),
            ErrorKind::ContextTooLong
        );
        assert_eq!(
            kind(Some(400), &openai("tokens_too_long")),
            ErrorKind::ContextTooLong
        );
        assert_eq!(
            kind(Some(400), &openai("invalid_argument")),
            ErrorKind::BadRequest
        );
        assert_eq!(
            kind(Some(404), &openai("model_not_found")),
            ErrorKind::NotFound
        );
        assert_eq!(kind(Some(503), &openai("overloaded")), ErrorKind::Server);
        assert_eq!(kind(Some(402), "{}"), ErrorKind::Quota);
        // DashScope native shapes, flat.
        assert_eq!(
            kind(
                Some(400),
                r#"{"code":"Arrearage","message":"Access denied"}"#
            ),
            ErrorKind::Quota
        );
        assert_eq!(
            kind(
                Some(400),
                r#"{"code":"DataInspectionFailed","message":"Input data may contain inappropriate content."}"#
            ),
            ErrorKind::Filtered
        );
        assert_eq!(
            kind(
                Some(400),
                r#"{"code":"InvalidParameter","message":"Range of input length should be [1, 30720]"}"#
            ),
            ErrorKind::ContextTooLong
        );
        // Zhipu: numeric business codes; 1113 (arrears) arrives as a 429.
        assert_eq!(
            kind(
                Some(429),
                r#"{"error":{"code":"1113","message":"余额不足"}}"#
            ),
            ErrorKind::Quota
        );
        assert_eq!(
            kind(None, &openai("data_inspection_failed")),
            ErrorKind::Filtered
        );
        assert_eq!(kind(None, &openai("server_error")), ErrorKind::Server);
    }
}
