//! The `gemini` wire kind: `streamGenerateContent` with `alt=sse`.
//!
//! Gemini has no end marker: a chunk carrying `finishReason` is the signal and the
//! server then closes the stream. Errors after the 200 may arrive as raw, multi-line
//! JSON without `data:`; the SSE decoder skips such lines (they are unknown fields),
//! so the last bytes of the stream are kept aside and searched for an `{"error":…}`
//! object when the stream ends without a `finishReason`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::http::{self, Garbage};
use reqwest::Response;

use super::wire::{Failure, Outcome, Request, Wire};
use super::{ChatRequest, ErrorKind, Finish, ProviderError, Role, Sink, Usage, sse};
use crate::attach;
use duel_core::config::Endpoint;

/// How many of the stream's last bytes are kept to find a raw error object in.
const RAW_TAIL: usize = 64 * 1024;

/// The API's name in messages that ask whether `base_url` is right.
const API: &str = "the Gemini API";

pub struct Gemini {
    endpoint: Endpoint,
}

impl Gemini {
    pub fn new(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }
}

impl Wire for Gemini {
    const CARRIES: attach::Carries = attach::Carries {
        images: true,
        documents: true,
    };
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn url(&self, req: &ChatRequest) -> String {
        let base = self.endpoint.base_url.trim_end_matches('/');
        // Tolerate a base_url that already names the API version.
        let base = base.strip_suffix("/v1beta").unwrap_or(base);
        // The API's own model names read `models/gemini-…`; either form works here.
        let model = req.model_id.as_str();
        let model = model.strip_prefix("models/").unwrap_or(model);
        format!("{base}/v1beta/models/{model}:streamGenerateContent?alt=sse")
    }

    fn body(&self, req: &ChatRequest) -> Value {
        request_body(req)
    }

    fn headers(&self, request: Request) -> Result<Request, ProviderError> {
        Ok(match http::api_key(&self.endpoint)? {
            Some(key) => request.header("x-goog-api-key", key),
            None => request,
        })
    }

    fn failed(&self, failure: &Failure) -> ProviderError {
        let f = failure;
        self.body_error(f.status, f.body, f.model, f.retry_after)
    }

    /// A 200 with a JSON body: an error, or the whole answer as one chunk or as the
    /// array of chunks a server sends when `alt=sse` was ignored.
    fn whole(&self, body: &str, model: &str, sink: &mut Sink) -> Result<Finish, ProviderError> {
        let value: Value = serde_json::from_str(body).map_err(|_| http::not_a_stream(body))?;
        if value.get("error").is_some_and(Value::is_object) {
            return Err(self.body_error(200, body, model, None));
        }
        let mut state = State::default();
        match &value {
            Value::Array(chunks) => {
                for chunk in chunks {
                    state.chunk(chunk, sink)?;
                }
            }
            chunk => state.chunk(chunk, sink)?,
        }
        state.end(sink)
    }

    fn decode<'a>(
        &'a self,
        response: Response,
        _model: &'a str,
        sink: &'a mut Sink,
    ) -> Outcome<'a> {
        Box::pin(self.decode_stream(response, sink))
    }
}

impl Gemini {
    async fn decode_stream(
        &self,
        response: reqwest::Response,
        sink: &mut Sink,
    ) -> Result<Finish, ProviderError> {
        let content_type = http::content_type(&response).unwrap_or("none").to_owned();
        let raw = Arc::new(Mutex::new(Vec::new()));
        let tail = Arc::clone(&raw);
        let bytes = sink.answer_body(response).inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                keep_tail(&mut lock(&tail), chunk);
            }
        });
        let mut events = std::pin::pin!(sse::events(bytes, self.endpoint.idle_timeout));
        let mut state = State::default();
        let mut garbage = Garbage::default();
        while let Some(event) = events.next().await {
            let event = match event {
                Ok(event) => event,
                // The answer was complete; the server just did not close in time.
                Err(_) if state.finish.is_some() => break,
                Err(err) => return Err(self.raw_error(&lock(&raw)).unwrap_or(err)),
            };
            let data = event.data.trim();
            if data.is_empty() {
                continue;
            }
            if let Some(value) = garbage.parse::<Value>(data) {
                state.chunk(&value, sink)?;
            }
        }
        if state.finish.is_none() {
            if let Some(err) = self.raw_error(&lock(&raw)) {
                return Err(err);
            }
            if let Some(err) = http::not_the_api(
                state.chunks,
                &garbage,
                Some(&content_type),
                &self.endpoint,
                API,
            ) {
                return Err(err);
            }
        }
        state.end(sink)
    }

    /// An HTTP error: the kind from Google's status and reasons, the delay from
    /// `RetryInfo` or else `Retry-After`.
    fn body_error(
        &self,
        status: u16,
        body: &str,
        model: &str,
        retry_after: Option<Duration>,
    ) -> ProviderError {
        let value = serde_json::from_str::<Value>(body).unwrap_or(Value::Null);
        let google = GoogleError::of(&value);
        let kind = google.kind(Some(status));
        http::http_error(&self.endpoint, status, kind, google.message, body, model)
            .with_retry_after(google.retry_delay.or(retry_after))
    }

    /// An `{"error":…}` object among the raw lines of the stream, if there is one.
    fn raw_error(&self, tail: &[u8]) -> Option<ProviderError> {
        let value = find_error_object(tail)?;
        let google = GoogleError::of(&value);
        let kind = google.kind(None);
        let message = google
            .message
            .unwrap_or_else(|| "the provider sent an error in the stream".into());
        let mut err = ProviderError::new(kind, message).with_retry_after(google.retry_delay);
        if let Some(code) = google.code {
            err = err.with_status(code);
        }
        Some(match http::hint(&self.endpoint, kind, "") {
            Some(hint) if kind != ErrorKind::NotFound => err.with_hint(hint),
            _ => err,
        })
    }
}

/// The JSON body. The model's extra fields sit at the top level; an extra
/// `generationConfig` (e.g. with `thinkingConfig`) is merged with the generated one,
/// whose own settings win where both name the same key.
pub(crate) fn request_body(req: &ChatRequest) -> Value {
    let mut body: Map<String, Value> = req.extra.clone();
    let mut config = match body.remove("generationConfig") {
        Some(Value::Object(config)) => config,
        Some(other) => {
            body.insert("generationConfig".into(), other);
            Map::new()
        }
        None => Map::new(),
    };
    if let Some(t) = req.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        config.insert("topP".into(), json!(p));
    }
    if let Some(n) = req.max_tokens {
        config.insert("maxOutputTokens".into(), json!(n));
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    if let Some(system) = &req.system {
        body.insert(
            "systemInstruction".into(),
            json!({ "parts": [{ "text": system }] }),
        );
    }
    let contents: Vec<Value> = req
        .messages
        .iter()
        .filter_map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "model",
                // The system prompt travels in `systemInstruction`.
                Role::System => return None,
            };
            let mut parts: Vec<Value> = m
                .attachments
                .iter()
                .map(|a| {
                    json!({ "inline_data": {
                        "mime_type": a.media_type,
                        "data": attach::placeholder(a),
                    }})
                })
                .collect();
            parts.push(json!({ "text": m.content }));
            Some(json!({ "role": role, "parts": parts }))
        })
        .collect();
    body.insert("contents".into(), Value::Array(contents));
    Value::Object(body)
}

/// What the stream has told so far.
#[derive(Default)]
struct State {
    chunks: usize,
    /// Whether any answer text (not reasoning) arrived.
    answered: bool,
    /// The finish and Gemini's own name for it.
    finish: Option<(Finish, String)>,
    usage: Usage,
}

impl State {
    fn chunk(&mut self, value: &Value, sink: &mut Sink) -> Result<(), ProviderError> {
        self.chunks += 1;
        if value.get("error").is_some_and(Value::is_object) {
            let google = GoogleError::of(value);
            let message = google
                .message
                .clone()
                .unwrap_or_else(|| "the provider sent an error in the stream".into());
            return Err(ProviderError::new(google.kind(None), message));
        }
        if let Some(usage) = value.get("usageMetadata") {
            let count = |field: &str| usage.get(field).and_then(Value::as_u64);
            if let Some(input) = count("promptTokenCount") {
                self.usage.input_tokens = Some(input);
            }
            let (answer, thoughts) = (count("candidatesTokenCount"), count("thoughtsTokenCount"));
            if answer.is_some() || thoughts.is_some() {
                self.usage.output_tokens = Some(answer.unwrap_or(0) + thoughts.unwrap_or(0));
            }
            if let Some(cached) = count("cachedContentTokenCount") {
                self.usage.cached_input_tokens = Some(cached);
            }
            if let Some(thoughts) = thoughts {
                self.usage.reasoning_tokens = Some(thoughts);
            }
            sink.usage(self.usage);
        }
        let Some(candidate) = value.pointer("/candidates/0") else {
            if let Some(reason) = value
                .pointer("/promptFeedback/blockReason")
                .and_then(Value::as_str)
            {
                return Err(ProviderError::new(
                    ErrorKind::Filtered,
                    format!("prompt blocked: {reason}"),
                )
                .with_hint("Gemini's safety filter refused the prompt; rephrase it"));
            }
            return Ok(());
        };
        let parts = candidate
            .pointer("/content/parts")
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            let text = part.get("text").and_then(Value::as_str).unwrap_or("");
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                sink.reasoning(text);
            } else if !text.is_empty() {
                self.answered = true;
                sink.text(text);
            }
        }
        if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str)
            && let Some(finish) = finish_reason(reason)
        {
            self.finish = Some((finish, reason.to_owned()));
        }
        Ok(())
    }

    /// How the answer ended, once the stream is over.
    fn end(self, sink: &Sink) -> Result<Finish, ProviderError> {
        match self.finish {
            // A blocked answer with nothing shown: say why in the pane.
            Some((Finish::Filtered, reason)) if !self.answered => Err(ProviderError::new(
                ErrorKind::Filtered,
                format!("answer blocked: {reason}"),
            )),
            Some((finish, _)) => Ok(finish),
            None => Err(http::ended_early(sink, "a finishReason")),
        }
    }
}

/// What a `finishReason` means; `None` for "not finished".
fn finish_reason(reason: &str) -> Option<Finish> {
    Some(match reason {
        "" | "FINISH_REASON_UNSPECIFIED" => return None,
        "STOP" => Finish::Stop,
        "MAX_TOKENS" => Finish::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY"
        | "LANGUAGE" => Finish::Filtered,
        other => {
            tracing::debug!(reason = other, "finishReason taken as stop");
            Finish::Stop
        }
    })
}

/// The parts of Google's error shape:
/// `{"error":{"code","message","status","details":[{"reason"}|{"retryDelay"}]}}`.
struct GoogleError {
    code: Option<u16>,
    message: Option<String>,
    status: String,
    reasons: Vec<String>,
    retry_delay: Option<Duration>,
}

impl GoogleError {
    fn of(value: &Value) -> Self {
        let error = value.get("error").unwrap_or(&Value::Null);
        let details = error.get("details").and_then(Value::as_array);
        let details = || details.into_iter().flatten();
        Self {
            code: error
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok()),
            message: error
                .get("message")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_owned),
            status: error
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            reasons: details()
                .filter_map(|d| d.get("reason").and_then(Value::as_str))
                .map(str::to_owned)
                .collect(),
            retry_delay: details()
                .filter_map(|d| d.get("retryDelay").and_then(Value::as_str))
                .find_map(parse_delay),
        }
    }

    /// The kind from Google's status names first, the HTTP status (or the body's
    /// code) second.
    fn kind(&self, http_status: Option<u16>) -> ErrorKind {
        let message = self.message.as_deref().unwrap_or("").to_ascii_lowercase();
        // A bad key is a 400 INVALID_ARGUMENT on Gemini, told apart only by its reason.
        if self
            .reasons
            .iter()
            .any(|r| r.starts_with("API_KEY_") || r == "ACCESS_TOKEN_EXPIRED")
            || message.contains("api key not valid")
        {
            return ErrorKind::Auth;
        }
        match self.status.as_str() {
            "UNAUTHENTICATED" | "PERMISSION_DENIED" => ErrorKind::Auth,
            "NOT_FOUND" => ErrorKind::NotFound,
            "RESOURCE_EXHAUSTED" => ErrorKind::RateLimit,
            "INTERNAL" | "UNAVAILABLE" | "DEADLINE_EXCEEDED" | "UNKNOWN" => ErrorKind::Server,
            _ if [
                "exceeds the maximum number of tokens",
                "input token count",
                "too long",
                "too many tokens",
            ]
            .iter()
            .any(|n| message.contains(n)) =>
            {
                ErrorKind::ContextTooLong
            }
            "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::BadRequest,
            _ => http_status
                .or(self.code)
                .map_or(ErrorKind::Server, http::status_kind),
        }
    }
}

/// A protobuf duration as JSON spells it: "41s", "0.5s".
fn parse_delay(text: &str) -> Option<Duration> {
    http::wait_of_secs(text.trim().strip_suffix('s')?.parse().ok()?)
}

/// Appends `chunk`, keeping only the last `RAW_TAIL` bytes (plus one chunk's slack).
fn keep_tail(tail: &mut Vec<u8>, chunk: &[u8]) {
    tail.extend_from_slice(chunk);
    if tail.len() > 2 * RAW_TAIL {
        let cut = tail.len() - RAW_TAIL;
        tail.drain(..cut);
    }
}

/// A poisoned lock only means a panic elsewhere; the bytes are still usable.
fn lock(raw: &Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
    raw.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The first `{"error":{…}}` object in the lines of `raw` that are not SSE fields.
fn find_error_object(raw: &[u8]) -> Option<Value> {
    let text = String::from_utf8_lossy(raw);
    let loose = text
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| {
            !(line.is_empty()
                || line.starts_with(':')
                || ["data:", "event:", "id:", "retry:"]
                    .iter()
                    .any(|field| line.starts_with(field)))
        })
        .collect::<Vec<_>>()
        .join("\n");
    // Only a few starts are tried: the error object is the first brace of these lines.
    loose.match_indices('{').take(16).find_map(|(at, _)| {
        let mut values = serde_json::Deserializer::from_str(&loose[at..]).into_iter::<Value>();
        match values.next() {
            Some(Ok(value)) if value.get("error").is_some_and(Value::is_object) => Some(value),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    fn req() -> ChatRequest {
        ChatRequest {
            model_id: "gemini-2.5-flash".into(),
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
    fn merges_an_extra_generation_config_into_the_generated_one() {
        let mut req = req();
        req.temperature = Some(0.7);
        req.max_tokens = Some(100);
        req.extra.insert(
            "generationConfig".into(),
            json!({"thinkingConfig": {"includeThoughts": true}, "temperature": 1.5}),
        );
        req.extra
            .insert("safetySettings".into(), json!([{"category": "X"}]));
        assert_eq!(
            request_body(&req),
            json!({
                "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                "generationConfig": {
                    "temperature": 0.7,
                    "maxOutputTokens": 100,
                    "thinkingConfig": {"includeThoughts": true}
                },
                "safetySettings": [{"category": "X"}]
            })
        );
    }

    #[test]
    fn leaves_out_an_empty_generation_config() {
        assert_eq!(
            request_body(&req()),
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
        );
    }

    #[test]
    fn classifies_google_errors() {
        let kind = |status: u16, body: Value| GoogleError::of(&body).kind(Some(status));
        let error = |code: u16, status: &str, message: &str| json!({"error": {"code": code, "status": status, "message": message}});
        assert_eq!(
            kind(
                400,
                json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
                    "message": "API key not valid. Please pass a valid API key.",
                    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                 "reason": "API_KEY_INVALID"}]}})
            ),
            ErrorKind::Auth
        );
        assert_eq!(
            kind(400, error(400, "INVALID_ARGUMENT", "Invalid JSON payload")),
            ErrorKind::BadRequest
        );
        assert_eq!(
            kind(
                400,
                error(
                    400,
                    "INVALID_ARGUMENT",
                    "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
                )
            ),
            ErrorKind::ContextTooLong
        );
        assert_eq!(
            kind(403, error(403, "PERMISSION_DENIED", "no")),
            ErrorKind::Auth
        );
        assert_eq!(
            kind(404, error(404, "NOT_FOUND", "models/x is not found")),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(429, error(429, "RESOURCE_EXHAUSTED", "quota")),
            ErrorKind::RateLimit
        );
        assert_eq!(
            kind(503, error(503, "UNAVAILABLE", "overloaded")),
            ErrorKind::Server
        );
        assert_eq!(kind(502, Value::Null), ErrorKind::Server);
    }

    #[test]
    fn reads_retry_info_delays() {
        let body = json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "21s"}
        ]}});
        assert_eq!(
            GoogleError::of(&body).retry_delay,
            Some(Duration::from_secs(21))
        );
        // Past the 30 s any wait is capped at, even one no Duration can hold.
        assert_eq!(parse_delay("41s"), Some(super::super::MAX_RETRY_WAIT));
        assert_eq!(parse_delay("1e30s"), Some(super::super::MAX_RETRY_WAIT));
        assert_eq!(parse_delay("0.5s"), Some(Duration::from_millis(500)));
        assert_eq!(parse_delay("soon"), None);
    }

    #[test]
    fn finds_a_raw_error_object_between_data_lines() {
        let raw = b"data: {\"candidates\":[]}\r\n\r\n{\n  \"error\": {\n    \"code\": 503,\n    \"message\": \"The model is overloaded.\",\n    \"status\": \"UNAVAILABLE\"\n  }\n}\n";
        let value = find_error_object(raw).expect("an error object");
        assert_eq!(value.pointer("/error/code"), Some(&json!(503)));
        assert_eq!(find_error_object(b"data: {\"error\":{}}\n\n"), None);
    }

    #[test]
    fn keeps_only_the_tail() {
        let mut tail = Vec::new();
        for _ in 0..5 {
            keep_tail(&mut tail, &[b'a'; RAW_TAIL]);
        }
        assert!(tail.len() <= 2 * RAW_TAIL);
    }
}
