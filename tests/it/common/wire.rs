//! Each wire kind's dialect, for the conformance table (`wire_kinds.rs`) and the fault
//! matrix: how a kind's server frames text, ends an answer, says an error, and what
//! the kind's request must look like. A row of the table asks a dialect for the
//! pieces it needs; what is peculiar to one kind (ERNIE's token, Gemini's
//! `retryDelay`, Anthropic's `message_stop`, Ollama's NDJSON) is said here, once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use duel::config::{ModelSpec, WireKind};
use duel::provider::{ErrorKind, Finish};
use serde_json::{Value, json};

use super::server::{
    MockServer, Recorded, Reply, Step, ollama_reasoning_chunk, openai_chunk, openai_finish_chunk,
    openai_reasoning_chunk, openai_usage_chunk, sse_event,
};

/// The key written in a config (the kinds that take one).
pub const KEY: &str = "sk-wire-test-not-a-real-key";
/// ERNIE's API key, secret key and the access token they are traded for.
pub const ERNIE_AK: &str = "ernieAkNotReal0123";
pub const ERNIE_SK: &str = "ernieSkNotReal4567";
pub const ERNIE_TOKEN: &str = "24.tokNotReal89abcdef.2592000.1700000000.282335-12345678";
/// ERNIE's model path, and the env vars its keys are read from.
pub const ERNIE_PATH: &str = "completions_pro";
pub const ERNIE_AK_VAR: &str = "DUEL_TEST_WIRE_ERNIE_AK";
pub const ERNIE_SK_VAR: &str = "DUEL_TEST_WIRE_ERNIE_SK";

/// One wire kind's dialect.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wire(pub WireKind);

/// A reply in the kind's error shape, what the error must be classified as, and its
/// message (`None`: the row does not look at the words).
pub struct Failure {
    pub reply: Reply,
    pub kind: ErrorKind,
    pub status: Option<u16>,
    pub message: Option<String>,
}

/// A whole answer the server sends at once, and what must come of it.
pub struct Whole {
    pub reply: Reply,
    pub text: &'static str,
    pub reasoning: &'static str,
    pub finish: Finish,
}

/// What a request must carry: its path, headers (`None`: must be absent) and body.
pub struct Expected {
    pub path: String,
    pub headers: Vec<(&'static str, Option<String>)>,
    pub body: Value,
}

fn set_env() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: set once, before any provider reads them; no test writes them again.
    ONCE.call_once(|| unsafe {
        for kind in super::models::KINDS {
            std::env::set_var(Wire(kind).key_var(), KEY);
        }
        std::env::set_var(ERNIE_AK_VAR, ERNIE_AK);
        std::env::set_var(ERNIE_SK_VAR, ERNIE_SK);
    });
}

impl Wire {
    pub fn name(self) -> &'static str {
        self.0.as_str()
    }

    /// The env var holding the key in the rows that read it from the environment.
    pub fn key_var(self) -> String {
        match self.0 {
            WireKind::Ernie => ERNIE_AK_VAR.to_owned(),
            kind => format!("DUEL_TEST_WIRE_KEY_{}", kind.as_str().to_uppercase()),
        }
    }

    /// Whether the kind can go without a key (a local server).
    pub fn key_optional(self) -> bool {
        matches!(
            self.0,
            WireKind::OpenAi | WireKind::Gemini | WireKind::Ollama
        )
    }

    pub fn model_id(self) -> &'static str {
        match self.0 {
            WireKind::OpenAi | WireKind::Demo => "mock-model-1",
            WireKind::Anthropic => "claude-mock-1",
            WireKind::Gemini => "gemini-mock-1",
            WireKind::Ollama => "qwen3:8b",
            WireKind::Ernie => ERNIE_PATH,
        }
    }

    /// The base URL a config names for a server at `url`.
    pub fn base(self, url: &str) -> String {
        match self.0 {
            WireKind::OpenAi => format!("{url}/v1"),
            _ => url.to_owned(),
        }
    }

    /// The model talking to `url`, its key written in the config (ERNIE's in env vars).
    pub fn model(self, url: &str) -> ModelSpec {
        set_env();
        let key = match self.0 {
            WireKind::OpenAi | WireKind::Anthropic | WireKind::Gemini => Some(KEY),
            _ => None,
        };
        let mut endpoint = super::models::endpoint(self.0, self.base(url), key);
        if self.0 == WireKind::Ernie {
            endpoint.api_key_env = Some(ERNIE_AK_VAR.into());
            endpoint.secret_key_env = Some(ERNIE_SK_VAR.into());
        }
        super::models::model(self.name(), self.model_id(), endpoint)
    }

    /// The secrets that must never show in an event, an error or a hint.
    pub fn secrets(self) -> &'static [&'static str] {
        match self.0 {
            WireKind::Ernie => &[ERNIE_AK, ERNIE_SK, ERNIE_TOKEN],
            _ => &[KEY],
        }
    }

    /// A server that answers the kind's chat requests with `chat`, in order (the last
    /// repeats); ERNIE's token requests get a token wherever they come.
    pub fn serve(self, chat: Vec<Reply>) -> MockServer {
        self.serving(chat, false)
    }

    /// `serve`, keeping each connection open for the next request.
    pub fn serve_keep_alive(self, chat: Vec<Reply>) -> MockServer {
        self.serving(chat, true)
    }

    fn serving(self, chat: Vec<Reply>, keep_alive: bool) -> MockServer {
        assert!(!chat.is_empty());
        let chats = Arc::new(AtomicUsize::new(0));
        let token = ernie_token_reply(ERNIE_TOKEN);
        MockServer::respond_with(
            move |request, _| {
                if is_token_request(request) {
                    return token.clone();
                }
                let n = chats.fetch_add(1, Ordering::SeqCst);
                chat[n.min(chat.len() - 1)].clone()
            },
            keep_alive,
        )
    }

    /// The chat requests a server received (ERNIE's token requests left out).
    pub fn chat_requests(self, server: &MockServer) -> Vec<Recorded> {
        server
            .requests()
            .into_iter()
            .filter(|r| !is_token_request(r))
            .collect()
    }

    pub fn content_type(self) -> &'static str {
        match self.0 {
            WireKind::Ollama => "application/x-ndjson",
            _ => "text/event-stream",
        }
    }

    /// A 200 stream that sends each of `writes` in its own write, a few ms apart.
    pub fn stream(self, writes: Vec<Vec<u8>>) -> Reply {
        let mut steps = Vec::new();
        for (i, bytes) in writes.into_iter().enumerate() {
            if i > 0 {
                steps.push(Step::Sleep(Duration::from_millis(2)));
            }
            steps.push(Step::Write(bytes));
        }
        Reply::raw(200, self.content_type(), steps)
    }

    /// `payload` framed as one event or line of the kind's stream.
    pub fn frame(self, payload: &str) -> Vec<u8> {
        match self.0 {
            WireKind::Gemini => format!("data: {payload}\r\n\r\n").into_bytes(),
            WireKind::Ollama => format!("{payload}\n").into_bytes(),
            _ => sse_event(payload),
        }
    }

    /// What comes before the first text (Anthropic's message and block start).
    pub fn opening(self, input: u64) -> Vec<Vec<u8>> {
        match self.0 {
            WireKind::Anthropic => vec![
                anthropic::message_start(input),
                anthropic::block_start(0, "text"),
                anthropic::ping(),
            ],
            _ => Vec::new(),
        }
    }

    /// One piece of answer text.
    pub fn text(self, piece: &str) -> Vec<u8> {
        match self.0 {
            WireKind::OpenAi | WireKind::Demo => sse_event(&openai_chunk(piece)),
            WireKind::Anthropic => anthropic::text_delta(0, piece),
            WireKind::Gemini => self.frame(&gemini::text_chunk(piece).to_string()),
            WireKind::Ollama => self.frame(&ollama::chunk(piece)),
            WireKind::Ernie => self.frame(&ernie::chunk(0, piece, false, 1, 1)),
        }
    }

    /// The finish reason of a plain stop.
    pub fn stop(self) -> &'static str {
        match self.0 {
            WireKind::Anthropic => "end_turn",
            WireKind::Gemini => "STOP",
            WireKind::Ernie => "normal",
            _ => "stop",
        }
    }

    /// How the kind ends an answer with `reason`, reporting the usage (Anthropic's
    /// input tokens come in its opening).
    pub fn end(self, reason: &str, input: u64, output: u64) -> Vec<Vec<u8>> {
        match self.0 {
            WireKind::OpenAi | WireKind::Demo => vec![
                sse_event(&openai_finish_chunk(reason)),
                sse_event(&openai_usage_chunk(input, output)),
                sse_event("[DONE]"),
            ],
            WireKind::Anthropic => vec![
                anthropic::block_stop(0),
                anthropic::message_delta(reason, output),
                anthropic::message_stop(),
            ],
            WireKind::Gemini => vec![
                self.frame(
                    &gemini::chunk(&[], Some(reason), Some(gemini::usage(input, output, None)))
                        .to_string(),
                ),
            ],
            WireKind::Ollama => vec![self.frame(&ollama::done(reason, input, output))],
            WireKind::Ernie => {
                let mut end: Value =
                    serde_json::from_str(&ernie::chunk(1, "", true, input, output)).unwrap();
                end["finish_reason"] = json!(reason);
                vec![self.frame(&end.to_string())]
            }
        }
    }

    /// A whole answer of `pieces` that stops, with the usage.
    pub fn answer(self, pieces: &[&str], input: u64, output: u64) -> Vec<Vec<u8>> {
        let mut writes = self.opening(input);
        writes.extend(pieces.iter().map(|p| self.text(p)));
        writes.extend(self.end(self.stop(), input, output));
        writes
    }

    /// `answer` as a reply.
    pub fn success(self, pieces: &[&str]) -> Reply {
        self.stream(self.answer(pieces, 3, 2))
    }

    /// The kind's finish reasons other than a plain stop, and what each must become.
    pub fn finishes(self) -> &'static [(&'static str, Finish)] {
        match self.0 {
            WireKind::OpenAi | WireKind::Demo => &[
                ("length", Finish::Length),
                ("content_filter", Finish::Filtered),
                ("sensitive", Finish::Filtered),
            ],
            WireKind::Anthropic => &[
                ("max_tokens", Finish::Length),
                ("stop_sequence", Finish::Stop),
                ("refusal", Finish::Filtered),
                ("model_context_window_exceeded", Finish::Length),
            ],
            WireKind::Gemini => &[
                ("MAX_TOKENS", Finish::Length),
                ("SAFETY", Finish::Filtered),
                ("RECITATION", Finish::Filtered),
                ("PROHIBITED_CONTENT", Finish::Filtered),
                ("OTHER", Finish::Stop),
            ],
            WireKind::Ollama => &[("length", Finish::Length)],
            WireKind::Ernie => &[
                ("length", Finish::Length),
                ("content_filter", Finish::Filtered),
            ],
        }
    }

    /// An answer that reasons "Let me think." before it says "Answer.", reporting 8
    /// tokens in and 42 out; `None` for a kind that streams no reasoning.
    pub fn reasoning_answer(self) -> Option<Vec<Vec<u8>>> {
        Some(match self.0 {
            // DashScope's `reasoning_content`, then Ollama /v1's `reasoning`.
            WireKind::OpenAi | WireKind::Demo => vec![
                sse_event(&openai_reasoning_chunk("Let me ")),
                sse_event(&ollama_reasoning_chunk("think.")),
                sse_event(&openai_chunk("Answer.")),
                sse_event(&openai_finish_chunk("stop")),
                sse_event(&openai_usage_chunk(8, 42)),
                sse_event("[DONE]"),
            ],
            // A signature delta is not text of any kind.
            WireKind::Anthropic => vec![
                anthropic::message_start(8),
                anthropic::block_start(0, "thinking"),
                anthropic::delta(0, json!({"type": "thinking_delta", "thinking": "Let me "})),
                anthropic::delta(0, json!({"type": "thinking_delta", "thinking": "think."})),
                anthropic::delta(
                    0,
                    json!({"type": "signature_delta", "signature": "EqQBCgIYAhIM"}),
                ),
                anthropic::block_stop(0),
                anthropic::block_start(1, "text"),
                anthropic::text_delta(1, "Answer."),
                anthropic::block_stop(1),
                anthropic::message_delta("end_turn", 42),
                anthropic::message_stop(),
            ],
            // Thought parts, one chunk mixing a thought and text; thought tokens count
            // as output (2 + 40).
            WireKind::Gemini => [
                gemini::chunk(
                    &[("Let me ", true)],
                    None,
                    Some(gemini::usage(8, 0, Some(40))),
                ),
                gemini::chunk(&[("think.", true), ("Ans", false)], None, None),
                gemini::chunk(
                    &[("wer.", false)],
                    Some("STOP"),
                    Some(gemini::usage(8, 2, Some(40))),
                ),
            ]
            .iter()
            .map(|c| self.frame(&c.to_string()))
            .collect(),
            WireKind::Ollama => vec![
                self.frame(&ollama::thinking("Let me ")),
                self.frame(&ollama::thinking("think.")),
                self.frame(&ollama::chunk("Answer.")),
                self.frame(&ollama::done("stop", 8, 42)),
            ],
            WireKind::Ernie => return None,
        })
    }

    /// Lines a stream may carry that are not the kind's JSON, to be skipped.
    pub fn junk(self) -> Vec<Vec<u8>> {
        match self.0 {
            WireKind::Anthropic => vec![
                b"event: content_block_delta\ndata: {not json\n\n".to_vec(),
                b"data: <html>\n\n".to_vec(),
            ],
            // Comments, an id line and a line that is no field at all.
            WireKind::Ernie => vec![
                b": keep-alive\n\n".to_vec(),
                sse_event("{not json"),
                b"id: 7\n".to_vec(),
                b"<html>\n\n".to_vec(),
            ],
            _ => vec![self.frame("{not json"), self.frame("<html>")],
        }
    }

    /// The end marker a cut stream lacks, as its error names it.
    pub fn end_marker(self) -> &'static str {
        match self.0 {
            WireKind::OpenAi | WireKind::Demo => "[DONE]",
            WireKind::Anthropic => "message_stop",
            WireKind::Gemini => "finishReason",
            WireKind::Ollama => "done",
            WireKind::Ernie => "is_end",
        }
    }

    /// The end marker without a finish reason, after text, and the error's words;
    /// `None` for a kind whose end is the finish reason itself.
    pub fn end_without_reason(self) -> Option<(Vec<Vec<u8>>, &'static str)> {
        match self.0 {
            // llama.cpp's server, when another request interrupts the running one.
            WireKind::OpenAi => Some((
                vec![sse_event("[DONE]")],
                "the stream ended before a finish_reason",
            )),
            WireKind::Anthropic => Some((
                vec![anthropic::block_stop(0), anthropic::message_stop()],
                "the stream ended before a stop_reason",
            )),
            _ => None,
        }
    }

    /// What a server may send before it closes without any answer.
    pub fn preamble(self) -> Vec<Vec<u8>> {
        match self.0 {
            WireKind::OpenAi => vec![sse_event("[DONE]")],
            WireKind::Anthropic => vec![anthropic::message_start(5), anthropic::ping()],
            _ => Vec::new(),
        }
    }

    /// An error inside the stream, after text: its bytes, and what it must become.
    pub fn stream_errors(self) -> Vec<(Vec<u8>, ErrorKind, &'static str)> {
        match self.0 {
            WireKind::OpenAi | WireKind::Demo => vec![(
                sse_event(
                    r#"{"error":{"message":"Output data may contain inappropriate content.","type":"data_inspection_failed","code":"data_inspection_failed"}}"#,
                ),
                ErrorKind::Filtered,
                "Output data may contain inappropriate content.",
            )],
            WireKind::Anthropic => vec![(
                anthropic::stream_error("overloaded_error", "Overloaded"),
                ErrorKind::Server,
                "Overloaded",
            )],
            WireKind::Gemini => vec![
                // Multi-line JSON without `data:`, as Gemini sends a mid-stream error.
                (
                    b"{\n  \"error\": {\n    \"code\": 500,\n    \"message\": \"An internal error has occurred.\",\n    \"status\": \"INTERNAL\"\n  }\n}\n".to_vec(),
                    ErrorKind::Server,
                    "An internal error has occurred.",
                ),
                (
                    self.frame(r#"{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}"#),
                    ErrorKind::Server,
                    "overloaded",
                ),
            ],
            WireKind::Ollama => vec![(
                self.frame(
                    r#"{"error":"an error was encountered while running the model: unexpected EOF"}"#,
                ),
                ErrorKind::Server,
                "an error was encountered while running the model: unexpected EOF",
            )],
            // A bare line, not a `data:` one.
            WireKind::Ernie => vec![(
                format!("{}\n", ernie::error_body(336000, "Internal error")).into_bytes(),
                ErrorKind::Server,
                "336000",
            )],
        }
    }

    /// An error inside the stream before any text that is worth sending again; `None`
    /// for a kind whose in-stream errors never are.
    pub fn retried_stream_error(self) -> Option<Vec<Vec<u8>>> {
        match self.0 {
            WireKind::Anthropic => Some(vec![
                anthropic::message_start(5),
                anthropic::ping(),
                anthropic::stream_error("overloaded_error", "Overloaded"),
            ]),
            WireKind::Ernie => {
                Some(vec![self.frame(&ernie::error_body(
                    336501,
                    "Rate limit reached for RPM",
                ))])
            }
            WireKind::Gemini => Some(vec![self.frame(
                r#"{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}"#,
            )]),
            WireKind::Ollama => Some(vec![self.frame(r#"{"error":"server busy"}"#)]),
            _ => None,
        }
    }

    /// The kind's reply to a key it does not know (ERNIE's comes from its token
    /// endpoint, so it is all the server says).
    pub fn bad_key(self) -> Failure {
        let (status, body, message) = match self.0 {
            WireKind::OpenAi | WireKind::Demo => (
                401,
                r#"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"},"request_id":"r-1"}"#.to_owned(),
                "Incorrect API key provided.",
            ),
            WireKind::Anthropic => (
                401,
                anthropic::error_body("authentication_error", "invalid x-api-key"),
                "invalid x-api-key",
            ),
            // Gemini says 400, not 401.
            WireKind::Gemini => (
                400,
                gemini::error_body(
                    400,
                    "INVALID_ARGUMENT",
                    "API key not valid. Please pass a valid API key.",
                    json!([{
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"}
                    }]),
                ),
                "API key not valid. Please pass a valid API key.",
            ),
            WireKind::Ollama => (401, r#"{"error":"unauthorized"}"#.to_owned(), "unauthorized"),
            WireKind::Ernie => (
                401,
                r#"{"error":"invalid_client","error_description":"unknown client id"}"#.to_owned(),
                "the token endpoint refused the keys: unknown client id (invalid_client)",
            ),
        };
        Failure {
            reply: Reply::json(status, &body),
            kind: ErrorKind::Auth,
            status: Some(status),
            message: Some(message.to_owned()),
        }
    }

    /// Whether `request` carries the key `KEY` the way the kind sends it.
    pub fn sent_key(self, request: &Recorded) -> bool {
        let bearer = format!("Bearer {KEY}");
        match self.0 {
            WireKind::OpenAi | WireKind::Ollama | WireKind::Demo => {
                request.header("authorization") == Some(bearer.as_str())
            }
            WireKind::Anthropic => request.header("x-api-key") == Some(KEY),
            WireKind::Gemini => request.header("x-goog-api-key") == Some(KEY),
            WireKind::Ernie => request
                .path
                .contains(&format!("client_id={ERNIE_AK}&client_secret={ERNIE_SK}")),
        }
    }

    /// A rate limit that asks for no wait (Gemini's in its body's `retryDelay`, which
    /// wins over the header; ERNIE's as error code 18 in a 200, with no wait named),
    /// and the wait the retry must announce under `FAST_RETRY`'s backoff.
    pub fn rate_limited(self) -> (Reply, Option<u16>, Duration) {
        let limited = |body: &str| Reply::json(429, body).with_header("retry-after", "0");
        match self.0 {
            WireKind::OpenAi | WireKind::Demo => (
                limited(
                    r#"{"error":{"message":"Requests rate limit exceeded","code":"Throttling.RateQuota"}}"#,
                ),
                Some(429),
                Duration::ZERO,
            ),
            WireKind::Anthropic => (
                limited(&anthropic::error_body(
                    "rate_limit_error",
                    "Number of requests has exceeded your rate limit",
                )),
                Some(429),
                Duration::ZERO,
            ),
            // Waiting the header's 60 s would fail the row.
            WireKind::Gemini => (
                Reply::json(
                    429,
                    &gemini::error_body(
                        429,
                        "RESOURCE_EXHAUSTED",
                        "You exceeded your current quota, please check your plan and billing details.",
                        json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.02s"}]),
                    ),
                )
                .with_header("retry-after", "60"),
                Some(429),
                Duration::from_millis(20),
            ),
            WireKind::Ollama => (
                limited(r#"{"error":"too many requests"}"#),
                Some(429),
                Duration::ZERO,
            ),
            WireKind::Ernie => (
                ernie::error_reply(18, "Open api qps request limit reached"),
                None,
                super::events::FAST_RETRY.first_backoff,
            ),
        }
    }

    /// A server error, retried until the retries run out.
    pub fn server_error(self) -> Failure {
        let (reply, status, message) = match self.0 {
            WireKind::OpenAi | WireKind::Demo => (
                Reply::json(
                    500,
                    r#"{"error":{"message":"internal error","type":"api_error"}}"#,
                ),
                Some(500),
                "internal error",
            ),
            WireKind::Anthropic => (
                Reply::json(
                    529,
                    &anthropic::error_body("overloaded_error", "Overloaded"),
                ),
                Some(529),
                "Overloaded",
            ),
            WireKind::Gemini => (
                Reply::json(
                    503,
                    &gemini::error_body(
                        503,
                        "UNAVAILABLE",
                        "The model is overloaded. Please try again later.",
                        json!([]),
                    ),
                ),
                Some(503),
                "The model is overloaded. Please try again later.",
            ),
            WireKind::Ollama => (
                Reply::json(500, r#"{"error":"llama runner process has terminated"}"#),
                Some(500),
                "llama runner process has terminated",
            ),
            WireKind::Ernie => (
                ernie::error_reply(336100, "system is busy, please retry later"),
                None,
                "the service is under high load (error_code 336100: system is busy, please retry later)",
            ),
        };
        Failure {
            reply,
            kind: ErrorKind::Server,
            status,
            message: Some(message.to_owned()),
        }
    }

    /// Failures before any text that are sent again, one retry each.
    pub fn retried(self) -> Vec<Reply> {
        let mut retried = vec![self.server_error().reply];
        retried.extend(match self.0 {
            WireKind::Anthropic => vec![Reply::json(
                500,
                &anthropic::error_body("api_error", "Internal server error"),
            )],
            // A full queue.
            WireKind::Ollama => vec![Reply::json(
                503,
                r#"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#,
            )],
            WireKind::Ernie => vec![Reply::raw(
                502,
                "text/html",
                vec![Step::Write(b"<html>Bad Gateway</html>".to_vec())],
            )],
            _ => vec![],
        });
        retried
    }

    /// The kind's "no such model", and what its hint must contain.
    pub fn not_found(self, url: &str) -> (Failure, Vec<String>) {
        let named = vec![self.model_id().to_owned(), url.to_owned()];
        let (reply, status, message, hint) = match self.0 {
            WireKind::OpenAi | WireKind::Demo => (
                Reply::json(
                    404,
                    r#"{"error":{"message":"The model `mock-model-1` does not exist","code":"model_not_found"}}"#,
                ),
                Some(404),
                "The model `mock-model-1` does not exist",
                named,
            ),
            WireKind::Anthropic => (
                Reply::json(404, &anthropic::error_body("not_found_error", "model: x")),
                Some(404),
                "model: x",
                named,
            ),
            WireKind::Gemini => (
                Reply::json(
                    404,
                    &gemini::error_body(
                        404,
                        "NOT_FOUND",
                        "models/gemini-mock-1 is not found for API version v1beta",
                        json!([]),
                    ),
                ),
                Some(404),
                "models/gemini-mock-1 is not found for API version v1beta",
                named,
            ),
            WireKind::Ollama => (
                Reply::json(404, r#"{"error":"model 'qwen3:8b' not found"}"#),
                Some(404),
                "model 'qwen3:8b' not found",
                vec!["ollama pull qwen3:8b".to_owned()],
            ),
            WireKind::Ernie => (
                ernie::error_reply(15, "msg"),
                None,
                "the app does not exist (error_code 15: msg)",
                vec![],
            ),
        };
        let failure = Failure {
            reply,
            kind: ErrorKind::NotFound,
            status,
            message: Some(message.to_owned()),
        };
        (failure, hint)
    }

    /// Other errors of the kind that no retry can fix, each classified.
    pub fn refusals(self) -> Vec<Failure> {
        let json = |status: u16, body: &str, kind: ErrorKind, message: &str| Failure {
            reply: Reply::json(status, body),
            kind,
            status: Some(status),
            message: Some(message.to_owned()),
        };
        match self.0 {
            WireKind::OpenAi | WireKind::Demo => vec![
                json(
                    400,
                    r#"{"error":{"message":"This model's maximum context length is 8192 tokens.","code":"context_length_exceeded"}}"#,
                    ErrorKind::ContextTooLong,
                    "This model's maximum context length is 8192 tokens.",
                ),
                json(
                    429,
                    r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
                    ErrorKind::Quota,
                    "You exceeded your current quota",
                ),
                // DashScope's arrears: an error with status 200 is still an error.
                json(
                    200,
                    r#"{"error":{"message":"Access denied, please make sure your account is in good standing.","code":"Arrearage"}}"#,
                    ErrorKind::Quota,
                    "Access denied, please make sure your account is in good standing.",
                ),
            ],
            WireKind::Anthropic => [
                (403, "permission_error", "no access", ErrorKind::Auth),
                (
                    400,
                    "invalid_request_error",
                    "prompt is too long: 210000 tokens > 200000 maximum",
                    ErrorKind::ContextTooLong,
                ),
                (
                    413,
                    "request_too_large",
                    "Request exceeds the maximum size",
                    ErrorKind::ContextTooLong,
                ),
                (400, "billing_error", "add credits", ErrorKind::Quota),
            ]
            .into_iter()
            .map(|(status, kind, message, expected)| {
                json(
                    status,
                    &anthropic::error_body(kind, message),
                    expected,
                    message,
                )
            })
            .collect(),
            WireKind::Gemini => [
                (
                    400,
                    "INVALID_ARGUMENT",
                    "Invalid JSON payload received.",
                    ErrorKind::BadRequest,
                ),
                (
                    400,
                    "INVALID_ARGUMENT",
                    "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
                    ErrorKind::ContextTooLong,
                ),
                (
                    403,
                    "PERMISSION_DENIED",
                    "Method doesn't allow unregistered callers.",
                    ErrorKind::Auth,
                ),
            ]
            .into_iter()
            .map(|(code, status, message, expected)| {
                json(
                    code,
                    &gemini::error_body(code, status, message, json!([])),
                    expected,
                    message,
                )
            })
            .collect(),
            WireKind::Ollama => vec![json(
                400,
                r#"{"error":"\"llama3.2\" does not support thinking"}"#,
                ErrorKind::BadRequest,
                "\"llama3.2\" does not support thinking",
            )],
            // Codes in a 200: quota, bad request, too long, unknown model, auth, and
            // a code duel does not know.
            WireKind::Ernie => [
                (
                    17,
                    ErrorKind::Quota,
                    "the daily request limit was reached, or the service is not paid for",
                ),
                (
                    336003,
                    ErrorKind::BadRequest,
                    "a request parameter was rejected",
                ),
                (336103, ErrorKind::ContextTooLong, "the prompt is too long"),
                (
                    6,
                    ErrorKind::Auth,
                    "the app has no permission for this model",
                ),
                (424242, ErrorKind::BadRequest, "the request failed"),
            ]
            .into_iter()
            .map(|(code, kind, words)| Failure {
                reply: ernie::error_reply(code, "msg"),
                kind,
                status: None,
                message: Some(format!("{words} (error_code {code}: msg)")),
            })
            .collect(),
        }
    }

    /// A whole answer in one JSON body, for the kinds that accept one.
    pub fn whole(self) -> Option<Whole> {
        match self.0 {
            WireKind::OpenAi => Some(Whole {
                reply: Reply::json(
                    200,
                    r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"all at once"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
                ),
                text: "all at once",
                reasoning: "",
                finish: Finish::Stop,
            }),
            WireKind::Anthropic => Some(Whole {
                reply: Reply::json(
                    200,
                    &json!({
                        "id": "msg_mock", "type": "message", "role": "assistant", "model": "claude-mock-1",
                        "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "all at once"}],
                        "stop_reason": "max_tokens",
                        "usage": {"input_tokens": 3, "output_tokens": 2}
                    })
                    .to_string(),
                ),
                text: "all at once",
                reasoning: "hmm",
                finish: Finish::Length,
            }),
            // A streamed JSON array, as Gemini sends without `alt=sse`.
            WireKind::Gemini => Some(Whole {
                reply: Reply::json(
                    200,
                    &json!([
                        gemini::text_chunk("all "),
                        gemini::chunk(&[("at once", false)], Some("STOP"), Some(gemini::usage(3, 2, None)))
                    ])
                    .to_string(),
                ),
                text: "all at once",
                reasoning: "",
                finish: Finish::Stop,
            }),
            _ => None,
        }
    }

    /// Extra settings of the kind's own, for the request row.
    pub fn extra(self) -> Vec<(&'static str, Value)> {
        match self.0 {
            WireKind::OpenAi | WireKind::Demo => vec![("enable_thinking", json!(false))],
            WireKind::Anthropic => vec![(
                "thinking",
                json!({"type": "enabled", "budget_tokens": 2048}),
            )],
            WireKind::Gemini => vec![
                (
                    "generationConfig",
                    json!({"thinkingConfig": {"includeThoughts": true, "thinkingBudget": 1024}}),
                ),
                (
                    "safetySettings",
                    json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]),
                ),
            ],
            WireKind::Ollama => vec![("think", json!(true))],
            WireKind::Ernie => vec![("penalty_score", json!(1.0))],
        }
    }

    /// The request for 你好 / 你好！ / 继续 with the system prompt "You are terse.",
    /// temperature 0.25, top_p 0.9, 256 tokens at most, the `extra` settings and a
    /// header `x-duel-test: yes` in the config.
    pub fn full_request(self) -> Expected {
        let history = || {
            json!([
                {"role": "user", "content": "你好"},
                {"role": "assistant", "content": "你好！"},
                {"role": "user", "content": "继续"}
            ])
        };
        let with_system = || {
            json!([
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "你好"},
                {"role": "assistant", "content": "你好！"},
                {"role": "user", "content": "继续"}
            ])
        };
        let test_header = ("x-duel-test", Some("yes".to_owned()));
        match self.0 {
            WireKind::OpenAi | WireKind::Demo => Expected {
                path: "/v1/chat/completions".into(),
                headers: vec![
                    ("authorization", Some(format!("Bearer {KEY}"))),
                    test_header,
                ],
                body: json!({
                    "model": "mock-model-1",
                    "messages": with_system(),
                    "stream": true,
                    "stream_options": {"include_usage": true},
                    "temperature": 0.25,
                    "top_p": 0.9,
                    "max_tokens": 256,
                    "enable_thinking": false
                }),
            },
            WireKind::Anthropic => Expected {
                path: "/v1/messages".into(),
                headers: vec![
                    ("x-api-key", Some(KEY.to_owned())),
                    ("anthropic-version", Some("2023-06-01".to_owned())),
                    ("authorization", None),
                    test_header,
                ],
                body: json!({
                    "model": "claude-mock-1",
                    "max_tokens": 256,
                    "system": "You are terse.",
                    "messages": history(),
                    "stream": true,
                    "temperature": 0.25,
                    "top_p": 0.9,
                    "thinking": {"type": "enabled", "budget_tokens": 2048}
                }),
            },
            WireKind::Gemini => Expected {
                path: "/v1beta/models/gemini-mock-1:streamGenerateContent?alt=sse".into(),
                headers: vec![
                    ("x-goog-api-key", Some(KEY.to_owned())),
                    ("authorization", None),
                    test_header,
                ],
                body: json!({
                    "systemInstruction": {"parts": [{"text": "You are terse."}]},
                    "contents": [
                        {"role": "user", "parts": [{"text": "你好"}]},
                        {"role": "model", "parts": [{"text": "你好！"}]},
                        {"role": "user", "parts": [{"text": "继续"}]}
                    ],
                    "generationConfig": {
                        "temperature": 0.25,
                        "topP": 0.9,
                        "maxOutputTokens": 256,
                        "thinkingConfig": {"includeThoughts": true, "thinkingBudget": 1024}
                    },
                    "safetySettings": [
                        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}
                    ]
                }),
            },
            WireKind::Ollama => Expected {
                path: "/api/chat".into(),
                headers: vec![("authorization", None), test_header],
                body: json!({
                    "model": "qwen3:8b",
                    "messages": with_system(),
                    "stream": true,
                    "options": {"temperature": 0.25, "top_p": 0.9, "num_predict": 256},
                    "think": true
                }),
            },
            // The system prompt is a field of its own.
            WireKind::Ernie => Expected {
                path: ernie::chat_path(ERNIE_TOKEN),
                headers: vec![("authorization", None), test_header],
                body: json!({
                    "messages": history(),
                    "system": "You are terse.",
                    "stream": true,
                    "temperature": 0.25,
                    "top_p": 0.9,
                    "max_output_tokens": 256,
                    "penalty_score": 1.0
                }),
            },
        }
    }

    /// The request for "hi" with nothing set, and no key where none is needed.
    pub fn minimal_request(self) -> Expected {
        let hi = || json!([{"role": "user", "content": "hi"}]);
        match self.0 {
            WireKind::OpenAi | WireKind::Demo => Expected {
                path: "/v1/chat/completions".into(),
                headers: vec![("authorization", None)],
                body: json!({
                    "model": "mock-model-1",
                    "messages": hi(),
                    "stream": true,
                    "stream_options": {"include_usage": true}
                }),
            },
            // `max_tokens` is required: 4096 when the model names none.
            WireKind::Anthropic => Expected {
                path: "/v1/messages".into(),
                headers: vec![("x-api-key", Some(KEY.to_owned()))],
                body: json!({
                    "model": "claude-mock-1",
                    "max_tokens": 4096,
                    "messages": hi(),
                    "stream": true
                }),
            },
            WireKind::Gemini => Expected {
                path: "/v1beta/models/gemini-mock-1:streamGenerateContent?alt=sse".into(),
                headers: vec![("x-goog-api-key", None)],
                body: json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
            },
            WireKind::Ollama => Expected {
                path: "/api/chat".into(),
                headers: vec![("authorization", None)],
                body: json!({"model": "qwen3:8b", "messages": hi(), "stream": true}),
            },
            WireKind::Ernie => Expected {
                path: ernie::chat_path(ERNIE_TOKEN),
                headers: vec![("authorization", None)],
                body: json!({"messages": hi(), "stream": true}),
            },
        }
    }

    /// What the error must say of a 200 that is a web page, not a stream: the SSE
    /// kinds name its content type, the line kinds find no JSON in it.
    pub fn not_a_stream(self) -> &'static str {
        match self.0 {
            WireKind::Ollama | WireKind::Ernie => {
                "none of the 1 lines in the stream was a JSON chunk"
            }
            _ => "text/html",
        }
    }

    /// What a refused connection's hint must say besides the base URL.
    pub fn refused_hint(self) -> &'static [&'static str] {
        match self.0 {
            WireKind::Ollama => &["is Ollama running?", "ollama serve"],
            _ => &[],
        }
    }
}

fn is_token_request(request: &Recorded) -> bool {
    request.path.starts_with("/oauth/2.0/token?")
}

/// ERNIE's token endpoint handing out `token`.
pub fn ernie_token_reply(token: &str) -> Reply {
    Reply::json(
        200,
        &json!({
            "refresh_token": "25.refreshNotReal.315360000.2005000000.282335-12345678",
            "expires_in": 2592000,
            "session_key": "9mzdDZXu3dENnotreal",
            "access_token": token,
            "scope": "public brain_all_scope wenxinworkshop_mgr",
            "session_secret": "notreal"
        })
        .to_string(),
    )
}

/// Anthropic's named events (PROVIDERS.md §6).
pub mod anthropic {
    use serde_json::{Value, json};

    /// One named event: `event: {name}` then `data: {data}` and a blank line.
    pub fn event(name: &str, data: Value) -> Vec<u8> {
        format!("event: {name}\ndata: {data}\n\n").into_bytes()
    }

    pub fn message_start(input: u64) -> Vec<u8> {
        event(
            "message_start",
            json!({"type": "message_start", "message": {
                "id": "msg_mock", "type": "message", "role": "assistant", "content": [],
                "model": "claude-mock-1", "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": input, "output_tokens": 1}
            }}),
        )
    }

    pub fn block_start(index: u32, kind: &str) -> Vec<u8> {
        let block = match kind {
            "thinking" => json!({"type": "thinking", "thinking": ""}),
            _ => json!({"type": "text", "text": ""}),
        };
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": block}),
        )
    }

    pub fn delta(index: u32, delta: Value) -> Vec<u8> {
        event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index, "delta": delta}),
        )
    }

    pub fn text_delta(index: u32, text: &str) -> Vec<u8> {
        delta(index, json!({"type": "text_delta", "text": text}))
    }

    pub fn block_stop(index: u32) -> Vec<u8> {
        event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        )
    }

    pub fn message_delta(stop_reason: &str, output: u64) -> Vec<u8> {
        event(
            "message_delta",
            json!({"type": "message_delta",
                   "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                   "usage": {"output_tokens": output}}),
        )
    }

    pub fn message_stop() -> Vec<u8> {
        event("message_stop", json!({"type": "message_stop"}))
    }

    pub fn ping() -> Vec<u8> {
        event("ping", json!({"type": "ping"}))
    }

    pub fn stream_error(kind: &str, message: &str) -> Vec<u8> {
        event(
            "error",
            json!({"type": "error", "error": {"type": kind, "message": message}}),
        )
    }

    pub fn error_body(kind: &str, message: &str) -> String {
        json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_mock"})
            .to_string()
    }
}

/// Gemini's chunks (PROVIDERS.md §7).
pub mod gemini {
    use serde_json::{Value, json};

    /// One chunk: `parts` as (text, is_thought), an optional finishReason and usage.
    pub fn chunk(parts: &[(&str, bool)], finish: Option<&str>, usage: Option<Value>) -> Value {
        let parts: Vec<Value> = parts
            .iter()
            .map(|(text, thought)| {
                if *thought {
                    json!({"text": text, "thought": true})
                } else {
                    json!({"text": text})
                }
            })
            .collect();
        let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
        if let Some(reason) = finish {
            candidate["finishReason"] = json!(reason);
        }
        let mut chunk = json!({
            "candidates": [candidate],
            "modelVersion": "gemini-mock-1",
            "responseId": "resp-mock"
        });
        if let Some(usage) = usage {
            chunk["usageMetadata"] = usage;
        }
        chunk
    }

    pub fn text_chunk(text: &str) -> Value {
        chunk(&[(text, false)], None, None)
    }

    pub fn usage(prompt: u64, candidates: u64, thoughts: Option<u64>) -> Value {
        let mut usage = json!({
            "promptTokenCount": prompt,
            "candidatesTokenCount": candidates,
            "totalTokenCount": prompt + candidates + thoughts.unwrap_or(0)
        });
        if let Some(thoughts) = thoughts {
            usage["thoughtsTokenCount"] = json!(thoughts);
        }
        usage
    }

    pub fn error_body(code: u16, status: &str, message: &str, details: Value) -> String {
        json!({"error": {"code": code, "message": message, "status": status, "details": details}})
            .to_string()
    }
}

/// Ollama's native lines (PROVIDERS.md §5a).
pub mod ollama {
    use serde_json::json;

    pub const MODEL: &str = "qwen3:8b";

    pub fn chunk(content: &str) -> String {
        json!({
            "model": MODEL,
            "created_at": "2026-08-04T08:52:19.385406455-07:00",
            "message": {"role": "assistant", "content": content},
            "done": false
        })
        .to_string()
    }

    pub fn thinking(text: &str) -> String {
        json!({
            "model": MODEL,
            "created_at": "2026-08-04T08:52:19.385406455-07:00",
            "message": {"role": "assistant", "content": "", "thinking": text},
            "done": false
        })
        .to_string()
    }

    pub fn done(reason: &str, prompt: u64, eval: u64) -> String {
        json!({
            "model": MODEL,
            "created_at": "2026-08-04T08:52:20.1-07:00",
            "message": {"role": "assistant", "content": ""},
            "done": true,
            "done_reason": reason,
            "total_duration": 4883583458u64,
            "load_duration": 1334875,
            "prompt_eval_count": prompt,
            "prompt_eval_duration": 342546000,
            "eval_count": eval,
            "eval_duration": 4535599000u64
        })
        .to_string()
    }
}

/// ERNIE's legacy sentences and in-band errors (PROVIDERS.md §2b).
pub mod ernie {
    use serde_json::json;

    use super::super::server::Reply;

    pub fn chunk(
        sentence: u64,
        result: &str,
        is_end: bool,
        prompt: u64,
        completion: u64,
    ) -> String {
        json!({
            "id": "as-vb0m37ti8y",
            "object": "chat.completion",
            "created": 1709089502,
            "sentence_id": sentence,
            "is_end": is_end,
            "is_truncated": false,
            "result": result,
            "need_clear_history": false,
            "finish_reason": "normal",
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion
            }
        })
        .to_string()
    }

    pub fn error_body(code: i64, message: &str) -> String {
        json!({"error_code": code, "error_msg": message, "id": "as-err0r"}).to_string()
    }

    /// The in-band error: HTTP 200 with a JSON body, even for a streamed request.
    pub fn error_reply(code: i64, message: &str) -> Reply {
        Reply::json(200, &error_body(code, message))
    }

    pub fn chat_path(token: &str) -> String {
        format!(
            "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{}?access_token={token}",
            super::ERNIE_PATH
        )
    }
}
