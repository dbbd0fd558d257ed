//! HTTP plumbing every wire kind shares: sending with the endpoint's timeouts, reading
//! an error body, and turning a status plus the provider's code and message into a
//! classified error with a hint.

use std::borrow::Cow;
use std::time::Duration;

use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::Value;

use super::error::{describe, root_cause};
use super::{ErrorKind, MAX_RETRY_WAIT, ProviderError, Sink};
use duel_core::config::Endpoint;

/// How much of an error body is read; the message is near the start.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// How much of a non-JSON error body is shown.
const MAX_SHOWN_BODY: usize = 300;

/// The endpoint's key; `MissingKey` when it names an env var that is not set.
pub fn api_key(endpoint: &Endpoint) -> Result<Option<String>, ProviderError> {
    let key = endpoint.api_key();
    if key.is_none()
        && let Some(var) = &endpoint.api_key_env
    {
        return Err(missing_key(var));
    }
    Ok(key)
}

fn missing_key(var: &str) -> ProviderError {
    ProviderError::new(ErrorKind::MissingKey, format!("set {var}")).with_hint(format!(
        "export {var}=… (or try `duel --demo`, which works offline)"
    ))
}

/// The request with the endpoint's own extra headers added.
pub(crate) fn with_endpoint_headers(
    mut request: reqwest::RequestBuilder,
    endpoint: &Endpoint,
) -> reqwest::RequestBuilder {
    for (name, value) in &endpoint.headers {
        request = request.header(name, value);
    }
    request
}

/// Sends the request and waits for the response head for at most the idle timeout.
/// A URL that carries a secret (`secret_url`, ERNIE's token) is left out of errors.
pub async fn send(
    endpoint: &Endpoint,
    request: reqwest::RequestBuilder,
    secret_url: bool,
) -> Result<reqwest::Response, ProviderError> {
    let idle = endpoint.idle_timeout;
    match tokio::time::timeout(idle, request.send()).await {
        Err(_elapsed) => Err(ProviderError::new(
            ErrorKind::Timeout,
            format!("no response within {} s", idle.as_secs_f64()),
        )
        .with_hint(format!(
            "{} accepted the connection but did not answer",
            endpoint.base_url
        ))),
        Ok(Err(err)) if secret_url => Err(send_error(endpoint, &err.without_url())),
        Ok(Err(err)) => Err(send_error(endpoint, &err)),
        Ok(Ok(response)) => not_redirected(endpoint, response),
    }
}

/// A redirect as an error that says where to (the host only: the rest may carry a
/// token) and that the base URL is the likely fault. The client follows none.
fn not_redirected(
    endpoint: &Endpoint,
    response: reqwest::Response,
) -> Result<reqwest::Response, ProviderError> {
    let status = response.status();
    if !status.is_redirection() {
        return Ok(response);
    }
    let host = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| response.url().join(l).ok())
        .and_then(|url| url.host_str().map(str::to_owned));
    let to = host.map_or_else(String::new, |host| format!(" to {host}"));
    Err(ProviderError::new(
        ErrorKind::Redirected,
        format!("the server redirected the request{to}"),
    )
    .with_status(status.as_u16())
    .with_hint(format!(
        "the base URL may be wrong: check base_url ({}) in the provider's config; duel does not follow redirects",
        endpoint.base_url
    )))
}

/// A failed send: a bad request builder, or a connection that could not be made.
fn send_error(endpoint: &Endpoint, err: &reqwest::Error) -> ProviderError {
    let base = &endpoint.base_url;
    if err.is_builder() {
        return ProviderError::new(ErrorKind::BadRequest, describe(err))
            .with_hint("check base_url and headers in the provider's config");
    }
    let message = if err.is_timeout() {
        format!(
            "could not connect within {} s",
            endpoint.connect_timeout.as_secs_f64()
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

/// An error for an HTTP status: the provider's message (or the start of the body),
/// the status and a hint for the kind.
pub(crate) fn http_error(
    endpoint: &Endpoint,
    status: u16,
    kind: ErrorKind,
    message: Option<String>,
    body: &str,
    model: &str,
) -> ProviderError {
    let message = message.unwrap_or_else(|| body_message(status, body));
    let err = ProviderError::new(kind, redact_key(endpoint, &message)).with_status(status);
    match hint(endpoint, kind, model) {
        Some(hint) => err.with_hint(hint),
        None => err,
    }
}

/// `text` with the endpoint's key cut out: some providers and proxies echo the key in
/// their error message, which would carry it to the screen, the logs and the votes.
fn redact_key(endpoint: &Endpoint, text: &str) -> String {
    match endpoint.api_key() {
        Some(key) if key.trim().len() >= 4 => text.replace(key.trim(), "…"),
        _ => text.to_owned(),
    }
}

/// What to show when the body has no message field.
pub(crate) fn body_message(status: u16, body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        format!("HTTP {status} with an empty body")
    } else {
        shorten(body, MAX_SHOWN_BODY)
    }
}

/// What the user can do about a kind of failure. Names the env var, never the key.
pub fn hint(endpoint: &Endpoint, kind: ErrorKind, model: &str) -> Option<String> {
    let base = &endpoint.base_url;
    Some(match kind {
        ErrorKind::Auth => match (&endpoint.api_key, &endpoint.api_key_env) {
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

/// The error code (or type) and message of an error body, in any of the shapes
/// providers use: `{"error":{"code","type","message"}}`, `{"code","message"}`,
/// `{"error":"…"}`.
pub(crate) fn error_fields(body: &str) -> (String, Option<String>) {
    match serde_json::from_str::<Value>(body) {
        Ok(value) => error_fields_of(&value),
        Err(_) => (String::new(), None),
    }
}

pub(crate) fn error_fields_of(value: &Value) -> (String, Option<String>) {
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

/// The words in an error's code or message that tell its kind, kind by kind in the
/// order they are checked. A word of digits is a whole code (Zhipu's `1113`), never
/// part of a number in the message.
pub(crate) type Words = [(ErrorKind, &'static [&'static str])];

/// What a wire kind (or the services behind it) says in its error codes and messages.
pub(crate) struct Codes {
    /// Checked first, whatever the status.
    pub always: &'static Words,
    /// Checked in a stream, where no status tells.
    pub in_stream: &'static Words,
}

/// The kind of a failure, from the HTTP status (when there was one), the provider's
/// code and its message, read with the kind's `codes`.
pub(crate) fn classify(status: Option<u16>, code: &str, message: &str, codes: &Codes) -> ErrorKind {
    // A bill to pay, whatever else the body says.
    if status == Some(402) {
        return ErrorKind::Quota;
    }
    let code = code.to_ascii_lowercase();
    let message = message.to_ascii_lowercase();
    let said = |words: &Words| {
        words.iter().find_map(|(kind, words)| {
            words
                .iter()
                .any(|word| says(&code, &message, word))
                .then_some(*kind)
        })
    };
    if let Some(kind) = said(codes.always) {
        return kind;
    }
    match status {
        Some(status) => status_kind(status),
        None => said(codes.in_stream).unwrap_or(ErrorKind::Server),
    }
}

/// Whether the lowercased `code` or `message` holds `word`.
fn says(code: &str, message: &str, word: &str) -> bool {
    if word.bytes().all(|b| b.is_ascii_digit()) {
        return code.split_whitespace().any(|c| c == word);
    }
    code.contains(word) || message.contains(word)
}

/// The kind an HTTP status means on its own, when the body says nothing more precise.
pub(crate) fn status_kind(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Auth,
        402 => ErrorKind::Quota,
        404 => ErrorKind::NotFound,
        413 => ErrorKind::ContextTooLong,
        429 => ErrorKind::RateLimit,
        s if s >= 500 => ErrorKind::Server,
        _ => ErrorKind::BadRequest,
    }
}

/// `Retry-After`: seconds, or an HTTP date. Whatever a server writes there, the wait
/// is at most `MAX_RETRY_WAIT` and unreadable values are ignored.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<f64>() {
        return wait_of_secs(secs);
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let secs = at.duration_since(jiff::Timestamp::now()).as_secs_f64();
    wait_of_secs(secs.max(0.0))
}

/// A server's wait in seconds as a `Duration`, clamped to `MAX_RETRY_WAIT`; `None`
/// for a negative or not-a-number value.
pub(crate) fn wait_of_secs(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(secs.min(MAX_RETRY_WAIT.as_secs_f64())).ok()
}

pub fn content_type(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

pub(crate) fn is_json(response: &reqwest::Response) -> bool {
    content_type(response).is_some_and(|ct| ct.starts_with("application/json"))
}

/// The start of a body, read with the idle timeout; whatever arrived is kept if the
/// read fails midway.
pub(crate) async fn read_error_body(response: reqwest::Response, idle: Duration) -> String {
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

/// Counts and logs stream lines that are not JSON, so a stray line is skipped but a
/// stream of nothing else is reported.
#[derive(Default)]
pub(crate) struct Garbage {
    pub lines: usize,
}

impl Garbage {
    /// `data` as a `T`, or `None` when it is not one: then it is counted and skipped.
    pub fn parse<'a, T: Deserialize<'a>>(&mut self, data: &'a str) -> Option<T> {
        match serde_json::from_str(data) {
            Ok(value) => Some(value),
            Err(err) => {
                self.skip(&err, data);
                None
            }
        }
    }

    fn skip(&mut self, err: &serde_json::Error, data: &str) {
        self.lines += 1;
        tracing::warn!(
            garbage = self.lines,
            %err,
            line = %shorten(data, 120),
            "skipping a stream line that is not a JSON chunk"
        );
    }

    /// The error for a stream in which no line was JSON.
    fn only_garbage(&self, endpoint: &Endpoint, expected: &str) -> ProviderError {
        ProviderError::new(
            ErrorKind::Malformed,
            format!(
                "none of the {} lines in the stream was a JSON chunk",
                self.lines
            ),
        )
        .with_hint(format!("is {} {expected}?", endpoint.base_url))
    }
}

/// A text field of a streamed event: borrows from the event unless it holds escapes
/// (serde borrows a `Cow` only at the top of a field, not inside an `Option`).
#[derive(Deserialize)]
#[serde(transparent)]
pub struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// The error for a 200 whose JSON body was neither an error nor an answer.
pub(crate) fn not_a_stream(body: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Malformed,
        format!(
            "expected a stream, got: {}",
            shorten(body.trim(), MAX_SHOWN_BODY)
        ),
    )
}

/// How a stream that ended without its end marker failed: cut off when some answer
/// had arrived (`marker` names the end it never saw), else in plain words that
/// nothing came at all (servers do this when the prompt overflows the context).
pub(crate) fn ended_early(sink: &Sink, marker: &str) -> ProviderError {
    if sink.answered() {
        ProviderError::new(
            ErrorKind::CutOff,
            format!("the stream ended before {marker}"),
        )
    } else {
        ProviderError::new(
            ErrorKind::NoAnswer,
            "the server closed the stream without sending anything; the prompt may be longer than the model's context",
        )
        .with_hint("shorten the prompt, or start a new conversation")
    }
}

/// Why a stream that never reached its end failed, when it was not a stream of the
/// API at all: no line of it was JSON (`garbage`), or it had no events and was not an
/// event stream (`content_type`, for the SSE kinds). `None`: it was cut early.
pub(crate) fn not_the_api(
    chunks: usize,
    garbage: &Garbage,
    content_type: Option<&str>,
    endpoint: &Endpoint,
    api: &str,
) -> Option<ProviderError> {
    if chunks > 0 {
        return None;
    }
    if garbage.lines > 0 {
        return Some(garbage.only_garbage(endpoint, api));
    }
    // A page that is not SSE at all (a login portal, a wrong base_url) has no events.
    content_type
        .filter(|ct| !ct.starts_with("text/event-stream"))
        .map(|ct| not_an_event_stream(ct, endpoint, api))
}

/// The error for a 200 that is not an event stream at all (a login portal, a wrong
/// `base_url`); `expected` names the API, as in `only_garbage`.
fn not_an_event_stream(content_type: &str, endpoint: &Endpoint, expected: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Malformed,
        format!("expected an event stream, got content type {content_type}"),
    )
    .with_hint(format!("is {} {expected}?", endpoint.base_url))
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

    #[test]
    fn retry_after_is_read_defensively_and_clamped() {
        let wait = |value: &str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(
                reqwest::header::RETRY_AFTER,
                reqwest::header::HeaderValue::from_str(value).unwrap(),
            );
            retry_after(&headers)
        };
        assert_eq!(retry_after(&reqwest::header::HeaderMap::new()), None);
        assert_eq!(wait("2"), Some(Duration::from_secs(2)));
        assert_eq!(wait(" 0.5 "), Some(Duration::from_millis(500)));
        for huge in ["99999999999999999999", "1e300", "inf", "86400"] {
            assert_eq!(wait(huge), Some(MAX_RETRY_WAIT), "{huge}");
        }
        for junk in ["-1", "NaN", "soon", "", "-inf"] {
            assert_eq!(wait(junk), None, "{junk:?}");
        }
        // The HTTP-date form: a date past is no wait, one far ahead the cap.
        assert_eq!(wait("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(wait("Fri, 31 Dec 2100 23:59:59 GMT"), Some(MAX_RETRY_WAIT));
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
    fn shortens_on_character_boundaries() {
        assert_eq!(shorten("你好世界", 2), "你好…");
        assert_eq!(shorten("abc", 3), "abc");
    }
}
