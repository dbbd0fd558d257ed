//! The `openai` wire kind: Chat Completions streaming, as spoken by OpenAI, DashScope
//! compatible mode, Qianfan v2, DeepSeek, Moonshot, Zhipu and Ollama's `/v1`.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::{describe, root_cause};
use super::{ChatRequest, ErrorKind, Finish, Provider, ProviderError, Sink, Usage, sse};
use crate::config::Endpoint;

/// How much of an error body is read; the message is near the start.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// How much of a non-JSON error body is shown.
const MAX_SHOWN_BODY: usize = 300;

pub struct OpenAi {
    endpoint: Endpoint,
    client: reqwest::Client,
}

impl OpenAi {
    pub fn new(endpoint: Endpoint) -> Self {
        let client = super::http_client(&endpoint);
        Self { endpoint, client }
    }

    fn url(&self) -> String {
        format!(
            "{}/chat/completions",
            self.endpoint.base_url.trim_end_matches('/')
        )
    }

    async fn run(&self, req: &ChatRequest, sink: &mut Sink) -> Result<Finish, ProviderError> {
        let key = self.endpoint.api_key();
        if key.is_none()
            && let Some(var) = &self.endpoint.api_key_env
        {
            return Err(missing_key(var));
        }

        let mut request = self
            .client
            .post(self.url())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .json(&request_body(req));
        for (name, value) in &self.endpoint.headers {
            request = request.header(name, value);
        }
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }

        let idle = self.endpoint.idle_timeout;
        let response = match tokio::time::timeout(idle, request.send()).await {
            Err(_elapsed) => {
                return Err(ProviderError::new(
                    ErrorKind::Timeout,
                    format!("no response within {} s", idle.as_secs_f64()),
                )
                .with_hint(format!(
                    "{} accepted the connection but did not answer",
                    self.endpoint.base_url
                )));
            }
            Ok(Err(err)) => return Err(self.send_error(&err)),
            Ok(Ok(response)) => response,
        };

        let status = response.status();
        if !status.is_success() {
            let retry_after = retry_after(response.headers());
            let body = read_error_body(response, idle).await;
            return Err(self
                .http_error(status.as_u16(), &body, &req.model_id)
                .with_retry_after(retry_after));
        }
        if is_json(&response) {
            let body = read_error_body(response, idle).await;
            return self.whole_answer(&body, &req.model_id, sink);
        }
        self.decode_stream(response, sink).await
    }

    async fn decode_stream(
        &self,
        response: reqwest::Response,
        sink: &mut Sink,
    ) -> Result<Finish, ProviderError> {
        let content_type = content_type(&response).unwrap_or("none").to_owned();
        let mut events = std::pin::pin!(sse::events(
            response.bytes_stream(),
            self.endpoint.idle_timeout
        ));
        let mut finish = Finish::Stop;
        let mut chunks = 0usize;
        let mut garbage = 0usize;
        while let Some(event) = events.next().await {
            let event = event?;
            let data = event.data.trim();
            if data == "[DONE]" {
                return Ok(finish);
            }
            let chunk: Chunk = match serde_json::from_str(data) {
                Ok(chunk) => chunk,
                Err(err) => {
                    garbage += 1;
                    tracing::warn!(
                        garbage,
                        %err,
                        line = %shorten(data, 120),
                        "skipping a stream line that is not a JSON chunk"
                    );
                    continue;
                }
            };
            chunks += 1;
            if let Some(error) = &chunk.error {
                return Err(stream_error(error));
            }
            if let Some(reason) = chunk.decode(sink)? {
                finish = reason;
            }
        }
        // A page that is not SSE at all (a login portal, a wrong base_url) has no events.
        if chunks == 0 && garbage == 0 && !content_type.starts_with("text/event-stream") {
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("expected an event stream, got content type {content_type}"),
            )
            .with_hint(format!(
                "is {} an OpenAI-compatible endpoint?",
                self.endpoint.base_url
            )));
        }
        if chunks == 0 && garbage > 0 {
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("none of the {garbage} lines in the stream was a JSON chunk"),
            )
            .with_hint(format!(
                "is {} an OpenAI-compatible endpoint?",
                self.endpoint.base_url
            )));
        }
        Err(ProviderError::new(
            ErrorKind::CutOff,
            "the stream ended before [DONE]",
        ))
    }

    /// A 200 with a JSON body: an error some gateways send this way, or a whole
    /// answer from a server that ignored `stream`.
    fn whole_answer(
        &self,
        body: &str,
        model: &str,
        sink: &mut Sink,
    ) -> Result<Finish, ProviderError> {
        let value: Value = serde_json::from_str(body).map_err(|_| {
            ProviderError::new(
                ErrorKind::Malformed,
                format!(
                    "expected a stream, got: {}",
                    shorten(body.trim(), MAX_SHOWN_BODY)
                ),
            )
        })?;
        if value.get("error").is_some_and(|e| !e.is_null()) {
            return Err(self.http_error(200, body, model));
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

    fn send_error(&self, err: &reqwest::Error) -> ProviderError {
        let base = &self.endpoint.base_url;
        if err.is_builder() {
            return ProviderError::new(ErrorKind::BadRequest, describe(err))
                .with_hint("check base_url and headers in the provider's config");
        }
        let message = if err.is_timeout() {
            format!(
                "could not connect within {} s",
                self.endpoint.connect_timeout.as_secs_f64()
            )
        } else if err.is_connect() {
            format!("could not connect: {}", root_cause(err))
        } else {
            describe(err)
        };
        ProviderError::new(ErrorKind::Network, message).with_hint(format!(
            "could not reach {base}; check the address and your network"
        ))
    }

    fn http_error(&self, status: u16, body: &str, model: &str) -> ProviderError {
        let (code, message) = error_fields(body);
        let message = message.unwrap_or_else(|| {
            let body = body.trim();
            if body.is_empty() {
                format!("HTTP {status} with an empty body")
            } else {
                shorten(body, MAX_SHOWN_BODY)
            }
        });
        let kind = classify(Some(status), &code, &message);
        let err = ProviderError::new(kind, message).with_status(status);
        match self.hint(kind, model) {
            Some(hint) => err.with_hint(hint),
            None => err,
        }
    }

    fn hint(&self, kind: ErrorKind, model: &str) -> Option<String> {
        let base = &self.endpoint.base_url;
        Some(match kind {
            ErrorKind::Auth => match (&self.endpoint.api_key, &self.endpoint.api_key_env) {
                (Some(_), _) => format!("check the api_key in the config file (for {base})"),
                (None, Some(var)) => format!("check {var}: {base} refused the key"),
                (None, None) => format!("{base} wants a key: set api_key_env in the config"),
            },
            ErrorKind::NotFound => {
                format!("is `{model}` a model that {base} serves? check the model id and base_url")
            }
            ErrorKind::Quota => "top up the account or pick another model".into(),
            ErrorKind::ContextTooLong => {
                "start a new conversation or use a model with a larger context".into()
            }
            _ => return None,
        })
    }
}

impl Provider for OpenAi {
    fn attempt<'a>(
        &'a self,
        req: &'a ChatRequest,
        sink: &'a mut Sink,
    ) -> BoxFuture<'a, Result<Finish, ProviderError>> {
        Box::pin(self.run(req, sink))
    }
}

fn missing_key(var: &str) -> ProviderError {
    ProviderError::new(ErrorKind::MissingKey, format!("no API key: set {var}")).with_hint(format!(
        "export {var}=… (or try `duel --demo`, which works offline)"
    ))
}

/// The JSON body: the standard fields, with the model's extra fields beside them.
pub fn request_body(req: &ChatRequest) -> Value {
    let mut body: Map<String, Value> = req.extra.clone();
    body.insert("model".into(), json!(req.model_id));
    body.insert("messages".into(), json!(req.history_with_system()));
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
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
    /// Moonshot puts the usage inside the choice.
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    /// Ollama's `/v1` name for the reasoning text.
    #[serde(default)]
    reasoning: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Self {
        Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
        }
    }
}

impl Chunk {
    /// Passes the chunk's text and usage on; returns its finish reason, if any.
    fn decode(self, sink: &mut Sink) -> Result<Option<Finish>, ProviderError> {
        let mut usage = self.usage;
        let mut finish = None;
        if let Some(choice) = self.choices.and_then(|c| c.into_iter().next()) {
            if let Some(delta) = choice.delta {
                if let Some(reasoning) = delta.reasoning_content.or(delta.reasoning) {
                    sink.reasoning(&reasoning);
                }
                if let Some(content) = delta.content {
                    sink.text(&content);
                }
            }
            usage = usage.or(choice.usage);
            if let Some(reason) = choice.finish_reason {
                finish = finish_reason(&reason)?;
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
        other => {
            tracing::debug!(reason = other, "unknown finish_reason, taken as stop");
            Finish::Stop
        }
    }))
}

/// An `{"error": …}` object inside a 200 stream.
fn stream_error(error: &Value) -> ProviderError {
    let (code, message) = error_fields_of(&json!({ "error": error }));
    let message = message.unwrap_or_else(|| "the provider sent an error in the stream".into());
    ProviderError::new(classify(None, &code, &message), message)
}

/// The error code (or type) and message of an error body, in any of the shapes
/// providers use: `{"error":{"code","type","message"}}`, `{"code","message"}`,
/// `{"error":"…"}`.
fn error_fields(body: &str) -> (String, Option<String>) {
    match serde_json::from_str::<Value>(body) {
        Ok(value) => error_fields_of(&value),
        Err(_) => (String::new(), None),
    }
}

fn error_fields_of(value: &Value) -> (String, Option<String>) {
    let error = value
        .get("error")
        .filter(|e| e.is_object())
        .unwrap_or(value);
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let code = [error.get("code"), error.get("type")]
        .into_iter()
        .filter_map(text)
        .collect::<Vec<_>>()
        .join(" ");
    let message = text(error.get("message"))
        .or_else(|| text(value.get("message")))
        .or_else(|| text(value.get("error")));
    (code, message)
}

/// The kind of a failure, from the HTTP status (when there was one), the provider's
/// code and its message.
fn classify(status: Option<u16>, code: &str, message: &str) -> ErrorKind {
    let code = code.to_ascii_lowercase();
    let message = message.to_ascii_lowercase();
    let says = |needles: &[&str]| {
        needles
            .iter()
            .any(|n| code.contains(n) || message.contains(n))
    };
    if says(&[
        "insufficient_quota",
        "arrearage",
        "allocationquota",
        "insufficient balance",
    ]) || code.split_whitespace().any(|c| c == "1113")
        || status == Some(402)
    {
        return ErrorKind::Quota;
    }
    if says(&[
        "data_inspection_failed",
        "datainspectionfailed",
        "content_filter",
        "inappropriate content",
    ]) || code.split_whitespace().any(|c| c == "1301")
    {
        return ErrorKind::Filtered;
    }
    if says(&[
        "context_length_exceeded",
        "tokens_too_long",
        "characters_too_long",
        "range of input length",
    ]) {
        return ErrorKind::ContextTooLong;
    }
    match status {
        Some(401 | 403) => ErrorKind::Auth,
        Some(404) => ErrorKind::NotFound,
        Some(413) => ErrorKind::ContextTooLong,
        Some(429) => ErrorKind::RateLimit,
        Some(s) if s >= 500 => ErrorKind::Server,
        Some(_) => ErrorKind::BadRequest,
        // In a stream: only the code tells.
        None if says(&["rate_limit", "throttling"]) => ErrorKind::RateLimit,
        None if says(&["invalid_api_key", "authentication"]) => ErrorKind::Auth,
        None => ErrorKind::Server,
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by these providers).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

fn content_type(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn is_json(response: &reqwest::Response) -> bool {
    content_type(response).is_some_and(|ct| ct.starts_with("application/json"))
}

/// The start of a body, read with the idle timeout; whatever arrived is kept if the
/// read fails midway.
async fn read_error_body(response: reqwest::Response, idle: Duration) -> String {
    let mut body = Vec::new();
    let mut bytes = response.bytes_stream();
    while body.len() < MAX_ERROR_BODY {
        match tokio::time::timeout(idle, bytes.next()).await {
            Ok(Some(Ok(chunk))) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(MAX_ERROR_BODY);
    String::from_utf8_lossy(&body).into_owned()
}

/// `text` cut to at most `max` characters, marked with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{Message, Role};

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

    #[test]
    fn finds_the_message_in_any_error_shape() {
        assert_eq!(
            error_fields(
                r#"{"error":{"message":"Incorrect API key provided.","code":"invalid_api_key"}}"#
            )
            .1,
            Some("Incorrect API key provided.".into())
        );
        assert_eq!(
            error_fields(r#"{"code":"InvalidApiKey","message":"Invalid API-key provided."}"#).1,
            Some("Invalid API-key provided.".into())
        );
        assert_eq!(
            error_fields(r#"{"error":"model 'x' not found"}"#).1,
            Some("model 'x' not found".into())
        );
        assert_eq!(error_fields("<html>Bad Gateway</html>").1, None);
    }

    #[test]
    fn reads_retry_after_seconds() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "7".parse().expect("a header value"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT"
                .parse()
                .expect("a header value"),
        );
        assert_eq!(retry_after(&headers), None);
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
    fn shortens_on_character_boundaries() {
        assert_eq!(shorten("你好世界", 2), "你好…");
        assert_eq!(shorten("abc", 3), "abc");
    }
}
