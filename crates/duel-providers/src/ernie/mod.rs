//! The `ernie` wire kind: Baidu Qianfan's legacy "wenxinworkshop" chat API. An API key
//! and a secret key are traded for an access token; the answer streams as one SSE
//! `data:` line per sentence and ends at `is_end:true`; errors come as JSON with an
//! `error_code`, usually with HTTP 200.

use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

mod token;

use super::http::{self, Garbage};
use reqwest::Response;

use super::wire::{self, Failure, Outcome, Request, Wire};
use super::{
    ChatRequest, ErrorKind, Finish, Message, Provider, ProviderError, Role, Sink, Usage, ndjson,
};
use duel_core::config::Endpoint;

/// The env var names the `ernie` preset uses, for messages when the config names none.
const DEFAULT_AK_ENV: &str = "QIANFAN_AK";
const DEFAULT_SK_ENV: &str = "QIANFAN_SK";

/// The API's name in messages that ask whether `base_url` is right.
const API: &str = "Baidu's legacy ERNIE API";

/// The words of error codes 110 and 111, by which a refused token is told.
const TOKEN_REFUSED: &str = "the access token is invalid or expired";

pub struct Ernie {
    endpoint: Endpoint,
    client: reqwest::Client,
    /// Held while a token is fetched, so concurrent answers fetch it once.
    token: Mutex<Option<token::Token>>,
}

/// One chat attempt on a token: the ERNIE wire, for the shared request pipeline.
struct Chat<'a> {
    ernie: &'a Ernie,
    /// The chat URL, its query carrying the token.
    url: reqwest::Url,
}

impl Ernie {
    pub fn new(endpoint: Endpoint, client: reqwest::Client) -> Self {
        Self {
            endpoint,
            client,
            token: Mutex::new(None),
        }
    }

    fn base(&self) -> &str {
        self.endpoint.base_url.trim_end_matches('/')
    }

    fn ak_env(&self) -> &str {
        self.endpoint
            .api_key_env
            .as_deref()
            .unwrap_or(DEFAULT_AK_ENV)
    }

    fn sk_env(&self) -> &str {
        self.endpoint
            .secret_key_env
            .as_deref()
            .unwrap_or(DEFAULT_SK_ENV)
    }

    async fn run(&self, req: &ChatRequest, sink: &mut Sink) -> Result<Finish, ProviderError> {
        let keys = self.keys()?;
        let token = self.token(&keys).await?;
        match self.chat(req, &token, sink).await {
            // A refused token is worth one refresh, nothing else is.
            Err(err) if token_refused(&err) && !sink.answered() => {
                tracing::info!(message = %err.message, "ERNIE refused the access token; fetching a new one once");
                self.forget_token(&token).await;
                let token = self.token(&keys).await?;
                self.chat(req, &token, sink).await
            }
            result => result,
        }
    }

    async fn chat(
        &self,
        req: &ChatRequest,
        token: &str,
        sink: &mut Sink,
    ) -> Result<Finish, ProviderError> {
        let path = format!(
            "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{}",
            req.model_id.trim_matches('/')
        );
        let url = self.url(&path, &[("access_token", token)])?;
        let chat = Chat { ernie: self, url };
        wire::attempt(&chat, &self.client, req, sink).await
    }

    /// A 200 with a JSON body: an `error_code`, or a whole answer from a server that
    /// ignored `stream`.
    fn whole_body(
        &self,
        body: &str,
        model: &str,
        sink: &mut Sink,
    ) -> Result<Finish, ProviderError> {
        if let Some((code, message)) = code_of(body) {
            return Err(self.code_error(code, &message, model));
        }
        match serde_json::from_str::<Chunk>(body) {
            Ok(chunk) if chunk.result.is_some() => {
                let finish = self.decode_chunk(chunk, model, sink)?;
                Ok(finish.unwrap_or(Finish::Stop))
            }
            _ => Err(http::not_a_stream(body)),
        }
    }

    async fn decode_stream(
        &self,
        response: reqwest::Response,
        model: &str,
        sink: &mut Sink,
    ) -> Result<Finish, ProviderError> {
        // Lines, not SSE events: an error may come as a bare JSON line, which an SSE
        // parser would drop. The errors lose the URL, which carries the token.
        let bytes = sink
            .answer_body(response)
            .map_err(reqwest::Error::without_url);
        let mut lines = std::pin::pin!(ndjson::lines(bytes, self.endpoint.idle_timeout));
        let mut finish = Finish::Stop;
        let mut chunks = 0usize;
        let mut garbage = Garbage::default();
        while let Some(line) = lines.next().await {
            let line = line?;
            let Some(payload) = payload(&line) else {
                continue;
            };
            let Some(chunk) = garbage.parse::<Chunk>(payload) else {
                continue;
            };
            chunks += 1;
            let is_end = chunk.is_end;
            if let Some(reason) = self.decode_chunk(chunk, model, sink)? {
                finish = reason;
                if reason == Finish::Filtered {
                    return Ok(finish);
                }
            }
            if is_end {
                return Ok(finish);
            }
        }
        if let Some(err) = http::not_the_api(chunks, &garbage, None, &self.endpoint, API) {
            return Err(err);
        }
        Err(http::ended_early(sink, "is_end"))
    }

    /// Passes one chunk's text and usage on; returns its finish reason, if any.
    fn decode_chunk(
        &self,
        chunk: Chunk,
        model: &str,
        sink: &mut Sink,
    ) -> Result<Option<Finish>, ProviderError> {
        if let Some(code) = chunk.error_code.filter(|&c| c != 0) {
            return Err(self.code_error(code, chunk.error_msg.as_deref().unwrap_or(""), model));
        }
        if chunk.need_clear_history {
            return Err(
                ProviderError::new(ErrorKind::Filtered, "the input was judged unsafe").with_hint(
                    "start a new conversation: ERNIE asks for this history to be cleared",
                ),
            );
        }
        // A flagged sentence is not shown: the filter stopped the answer there.
        if chunk.flag.is_some_and(|f| f >= 2) {
            return Ok(Some(Finish::Filtered));
        }
        if let Some(result) = &chunk.result {
            sink.text(result);
        }
        if let Some(usage) = chunk.usage {
            sink.usage(Usage {
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
                ..Usage::default()
            });
        }
        Ok(chunk.finish_reason.as_deref().and_then(finish_reason))
    }

    /// An `error_code` as an error in plain words, with a hint where one helps.
    fn code_error(&self, code: i64, provider_message: &str, model: &str) -> ProviderError {
        let (kind, words) = code_meaning(code);
        let message = match provider_message.trim() {
            "" => format!("{words} (error_code {code})"),
            said => format!("{words} (error_code {code}: {said})"),
        };
        self.with_hint(ProviderError::new(kind, message), model)
    }

    fn with_hint(&self, err: ProviderError, model: &str) -> ProviderError {
        let hint = match err.kind {
            ErrorKind::Auth => format!(
                "check {} and {} and that the Qianfan app may use this model",
                self.ak_env(),
                self.sk_env()
            ),
            ErrorKind::NotFound => format!(
                "is `{model}` an ERNIE endpoint path (like completions_pro) that {} serves?",
                self.endpoint.base_url
            ),
            ErrorKind::Quota => {
                "the daily limit resets tomorrow; or turn on paid service in the Qianfan console"
                    .into()
            }
            ErrorKind::ContextTooLong => {
                "start a new conversation or use a model with a larger context".into()
            }
            _ => return err,
        };
        err.with_hint(hint)
    }

    /// `{base_url}{path}?{query}`. The error never shows the URL: its query is secret.
    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<reqwest::Url, ProviderError> {
        reqwest::Url::parse_with_params(&format!("{}{path}", self.base()), query).map_err(|err| {
            ProviderError::new(
                ErrorKind::BadRequest,
                format!("base_url is not a valid URL: {err}"),
            )
            .with_hint(format!(
                "check base_url ({}) in the provider's config",
                self.endpoint.base_url
            ))
        })
    }
}

impl Provider for Ernie {
    fn attempt<'a>(&'a self, req: &'a ChatRequest, sink: &'a mut Sink) -> Outcome<'a> {
        Box::pin(async move {
            match self.run(req, sink).await {
                Ok(finish) => Ok(finish),
                Err(err) => Err(self.redact(err).await),
            }
        })
    }
}

impl Wire for Chat<'_> {
    // The token is in the URL.
    const SECRET_URL: bool = true;
    // The legacy API takes text only.
    const CARRIES: crate::attach::Carries = crate::attach::Carries {
        images: false,
        documents: false,
    };

    fn endpoint(&self) -> &Endpoint {
        &self.ernie.endpoint
    }

    fn url(&self, _req: &ChatRequest) -> String {
        self.url.to_string()
    }

    fn body(&self, req: &ChatRequest) -> Value {
        request_body(req)
    }

    /// The token in the URL is the whole authentication.
    fn headers(&self, request: Request) -> Result<Request, ProviderError> {
        Ok(request)
    }

    fn failed(&self, failure: &Failure) -> ProviderError {
        let Failure {
            status,
            retry_after,
            body,
            model,
        } = *failure;
        let err = match code_of(body) {
            Some((code, message)) => self.ernie.code_error(code, &message, model),
            None => self.ernie.with_hint(
                ProviderError::new(http::status_kind(status), http::body_message(status, body)),
                model,
            ),
        };
        err.with_status(status).with_retry_after(retry_after)
    }

    /// The usual way ERNIE reports an error, even for a streamed request.
    fn whole(&self, body: &str, model: &str, sink: &mut Sink) -> Result<Finish, ProviderError> {
        self.ernie.whole_body(body, model, sink)
    }

    fn decode<'a>(&'a self, response: Response, model: &'a str, sink: &'a mut Sink) -> Outcome<'a> {
        Box::pin(self.ernie.decode_stream(response, model, sink))
    }
}

/// Whether ERNIE refused the access token (error codes 110 and 111).
fn token_refused(err: &ProviderError) -> bool {
    err.message.starts_with(TOKEN_REFUSED)
}

/// The JSON of a `data:` line, or of a bare JSON line (an in-stream error); `None`
/// for SSE comments and other fields.
fn payload(line: &str) -> Option<&str> {
    if let Some(data) = line.strip_prefix("data:") {
        return Some(data.strip_prefix(' ').unwrap_or(data));
    }
    if line.starts_with(':')
        || ["event:", "id:", "retry:"]
            .iter()
            .any(|f| line.starts_with(f))
    {
        return None;
    }
    Some(line)
}

/// An `{"error_code": N, "error_msg": "…"}` body's code and message.
fn code_of(body: &str) -> Option<(i64, String)> {
    let value: Value = serde_json::from_str(body).ok()?;
    let code = value.get("error_code")?.as_i64().filter(|&c| c != 0)?;
    let message = value
        .get("error_msg")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    Some((code, message))
}

/// What an `error_code` means, in plain words (PROVIDERS.md §2b).
fn code_meaning(code: i64) -> (ErrorKind, String) {
    let (kind, words) = match code {
        110 | 111 => (ErrorKind::Auth, TOKEN_REFUSED),
        17 => (
            ErrorKind::Quota,
            "the daily request limit was reached, or the service is not paid for",
        ),
        18 => (
            ErrorKind::RateLimit,
            "the requests-per-second limit was reached",
        ),
        4 => (
            ErrorKind::RateLimit,
            "the cluster's request limit was reached",
        ),
        336501 => (
            ErrorKind::RateLimit,
            "the requests-per-minute limit was reached",
        ),
        336502 => (
            ErrorKind::RateLimit,
            "the tokens-per-minute limit was reached",
        ),
        336100 => (ErrorKind::Server, "the service is under high load"),
        336000 => (ErrorKind::Server, "the service had an internal error"),
        336003 => (ErrorKind::BadRequest, "a request parameter was rejected"),
        336001 => (ErrorKind::BadRequest, "an argument was invalid"),
        336002 => (ErrorKind::BadRequest, "the request was not valid JSON"),
        13 => (ErrorKind::Auth, "getting a service token failed"),
        14 => (ErrorKind::Auth, "IAM certification failed"),
        6 => (ErrorKind::Auth, "the app has no permission for this model"),
        15 => (ErrorKind::NotFound, "the app does not exist"),
        336103 => (ErrorKind::ContextTooLong, "the prompt is too long"),
        _ => (ErrorKind::BadRequest, "the request failed"),
    };
    (kind, words.to_owned())
}

fn finish_reason(reason: &str) -> Option<Finish> {
    Some(match reason {
        "" | "null" => return None,
        "normal" | "stop" | "function_call" => Finish::Stop,
        "length" => Finish::Length,
        "content_filter" => Finish::Filtered,
        other => {
            tracing::debug!(reason = other, "unknown finish_reason, taken as stop");
            Finish::Stop
        }
    })
}

/// One streamed object. Every field is optional; an error object carries only
/// `error_code` and `error_msg`.
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    is_end: bool,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    need_clear_history: bool,
    #[serde(default)]
    flag: Option<i64>,
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    error_msg: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

/// The JSON body: the system prompt top-level, a history ERNIE accepts, its own
/// parameter names and ranges, and the model's extra fields.
pub(crate) fn request_body(req: &ChatRequest) -> Value {
    let (system, messages) = valid_history(req);
    let mut body: Map<String, Value> = req.extra.clone();
    body.insert("messages".into(), json!(messages));
    if let Some(system) = system {
        body.insert("system".into(), json!(system));
    }
    body.insert("stream".into(), json!(true));
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(clamp_temperature(t)));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(n) = req.max_tokens {
        body.insert("max_output_tokens".into(), json!(n));
    }
    Value::Object(body)
}

/// ERNIE accepts a temperature in (0, 1]: 0 is rejected.
fn clamp_temperature(t: f64) -> f64 {
    if t.is_nan() || t <= 0.0 {
        0.01
    } else {
        t.min(1.0)
    }
}

/// The system prompt and a history ERNIE accepts (else error 336003): user and
/// assistant alternate, starting and ending with user, so the count is odd. Turns of
/// the same role are joined, empty turns dropped, and a leading or trailing
/// assistant turn dropped; system messages join the system prompt.
fn valid_history(req: &ChatRequest) -> (Option<String>, Vec<Message>) {
    let mut system: Vec<&str> = req
        .system
        .iter()
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
        .collect();
    let mut messages: Vec<Message> = Vec::with_capacity(req.messages.len());
    for message in &req.messages {
        if message.content.trim().is_empty() {
            continue;
        }
        if message.role == Role::System {
            system.push(&message.content);
            continue;
        }
        match messages.last_mut() {
            Some(last) if last.role == message.role => {
                last.content.push_str("\n\n");
                last.content.push_str(&message.content);
            }
            None if message.role == Role::Assistant => {}
            _ => messages.push(message.clone()),
        }
    }
    if messages.last().is_some_and(|m| m.role == Role::Assistant) {
        messages.pop();
    }
    let system = (!system.is_empty()).then(|| system.join("\n\n"));
    (system, messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            model_id: "completions_pro".into(),
            system: None,
            messages,
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

    fn roles(messages: &[Message]) -> Vec<Role> {
        messages.iter().map(|m| m.role).collect()
    }

    #[test]
    fn history_alternates_and_starts_and_ends_with_user() {
        use Role::{Assistant as A, User as U};
        let m = |role, text: &str| Message::new(role, text);
        let cases = [
            vec![m(U, "q")],
            vec![m(A, "hello"), m(U, "q")],
            vec![m(U, "a"), m(U, "b"), m(A, "x"), m(A, "y"), m(U, "c")],
            vec![m(U, "a"), m(A, ""), m(U, "b")],
            vec![m(U, "a"), m(A, "x"), m(U, "b"), m(A, "dangling")],
            vec![m(A, "x"), m(A, "y"), m(U, "a"), m(A, "z"), m(U, "b")],
        ];
        for messages in cases {
            let (_, out) = valid_history(&req(messages.clone()));
            assert!(out.len() % 2 == 1, "odd count for {messages:?}: {out:?}");
            for (i, m) in out.iter().enumerate() {
                let expected = if i % 2 == 0 { U } else { A };
                assert_eq!(m.role, expected, "{messages:?} → {out:?}");
            }
        }
        let (_, out) = valid_history(&req(vec![
            m(U, "a"),
            m(U, "b"),
            m(A, "x"),
            m(A, "y"),
            m(U, "c"),
        ]));
        assert_eq!(
            out,
            [m(U, "a\n\nb"), m(A, "x\n\ny"), m(U, "c")],
            "same-role turns are joined"
        );
        let (_, out) = valid_history(&req(vec![m(U, "a"), m(A, ""), m(U, "b")]));
        assert_eq!(roles(&out), [U]);
        assert_eq!(out[0].content, "a\n\nb");
    }

    #[test]
    fn system_messages_join_the_system_field() {
        let mut r = req(vec![
            Message::new(Role::System, "also this"),
            Message::new(Role::User, "q"),
        ]);
        r.system = Some("be brief".into());
        let (system, messages) = valid_history(&r);
        assert_eq!(system.as_deref(), Some("be brief\n\nalso this"));
        assert_eq!(roles(&messages), [Role::User]);
    }

    #[test]
    fn temperature_is_clamped_into_its_range() {
        assert_eq!(clamp_temperature(0.0), 0.01);
        assert_eq!(clamp_temperature(-1.0), 0.01);
        assert_eq!(clamp_temperature(0.005), 0.005);
        assert_eq!(clamp_temperature(0.7), 0.7);
        assert_eq!(clamp_temperature(1.0), 1.0);
        assert_eq!(clamp_temperature(1.5), 1.0);
        assert_eq!(clamp_temperature(f64::NAN), 0.01);
    }

    #[test]
    fn body_uses_ernie_names_and_never_a_system_message() {
        let mut r = req(vec![Message::new(Role::User, "你好")]);
        r.system = Some("你是助手".into());
        r.temperature = Some(2.0);
        r.top_p = Some(0.8);
        r.max_tokens = Some(1024);
        r.extra.insert("penalty_score".into(), json!(1.0));
        assert_eq!(
            request_body(&r),
            json!({
                "messages": [{"role": "user", "content": "你好"}],
                "system": "你是助手",
                "stream": true,
                "temperature": 1.0,
                "top_p": 0.8,
                "max_output_tokens": 1024,
                "penalty_score": 1.0
            })
        );
    }

    #[test]
    fn maps_every_documented_error_code() {
        let kind = |code| code_meaning(code).0;
        assert_eq!(kind(110), ErrorKind::Auth);
        assert_eq!(kind(111), ErrorKind::Auth);
        assert_eq!(kind(17), ErrorKind::Quota);
        for code in [18, 4, 336501, 336502] {
            assert_eq!(kind(code), ErrorKind::RateLimit, "{code}");
        }
        assert_eq!(kind(336100), ErrorKind::Server);
        assert_eq!(kind(336000), ErrorKind::Server);
        for code in [336003, 336001, 336002, 999_999] {
            assert_eq!(kind(code), ErrorKind::BadRequest, "{code}");
        }
        for code in [13, 14, 6] {
            assert_eq!(kind(code), ErrorKind::Auth, "{code}");
        }
        assert_eq!(kind(15), ErrorKind::NotFound);
        assert_eq!(kind(336103), ErrorKind::ContextTooLong);
    }

    #[test]
    fn reads_error_bodies() {
        assert_eq!(
            code_of(r#"{"error_code":18,"error_msg":"Open api qps request limit reached"}"#),
            Some((18, "Open api qps request limit reached".into()))
        );
        assert_eq!(code_of(r#"{"error_code":0}"#), None);
        assert_eq!(code_of(r#"{"result":"hi"}"#), None);
        assert_eq!(code_of("<html>"), None);
    }

    #[test]
    fn finds_the_payload_of_a_line() {
        assert_eq!(payload(r#"data: {"a":1}"#), Some(r#"{"a":1}"#));
        assert_eq!(payload(r#"data:{"a":1}"#), Some(r#"{"a":1}"#));
        assert_eq!(
            payload(r#"{"error_code":18}"#),
            Some(r#"{"error_code":18}"#)
        );
        assert_eq!(payload(": keep-alive"), None);
        assert_eq!(payload("id: 3"), None);
        assert_eq!(payload("event: message"), None);
    }

    #[test]
    fn maps_finish_reasons() {
        assert_eq!(finish_reason("normal"), Some(Finish::Stop));
        assert_eq!(finish_reason("stop"), Some(Finish::Stop));
        assert_eq!(finish_reason("length"), Some(Finish::Length));
        assert_eq!(finish_reason("content_filter"), Some(Finish::Filtered));
        assert_eq!(finish_reason(""), None);
    }
}
