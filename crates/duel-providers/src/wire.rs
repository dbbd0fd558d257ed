//! The one request pipeline of the HTTP wire kinds. A kind says only what is its own
//! (where the request goes, its body and headers, what an error body means, how its
//! answer is decoded); `attempt` sends it and routes the response the same way for
//! every kind: an error status, a whole JSON answer, or a stream.

use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::Response;
use serde_json::Value;

use super::http;
use super::{ChatRequest, ErrorKind, Finish, Provider, ProviderError, Sink};
use crate::attach::{self, Carries};
use duel_core::config::Endpoint;

/// A request being built.
pub type Request = reqwest::RequestBuilder;

/// The end of an attempt: how the answer finished, or the error that ended it.
pub type Outcome<'a> = BoxFuture<'a, Result<Finish, ProviderError>>;

/// A response with a non-success status, its body read.
pub struct Failure<'a> {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: &'a str,
    pub model: &'a str,
}

impl Failure<'_> {
    /// The error, classified by the kind's `classify` from the status and the body;
    /// `Retry-After` is kept for the retry driver.
    pub(crate) fn classified(
        &self,
        endpoint: &Endpoint,
        classify: impl FnOnce(u16, &str) -> (ErrorKind, Option<String>),
    ) -> ProviderError {
        let (kind, message) = classify(self.status, self.body);
        http::http_error(endpoint, self.status, kind, message, self.body, self.model)
            .with_retry_after(self.retry_after)
    }
}

/// What differs between the HTTP wire kinds.
pub trait Wire: Send + Sync {
    /// The media type the answer is asked for in.
    const ACCEPT: &'static str = "text/event-stream";
    /// Whether a 200 with a JSON body is read as a whole answer (or an error) rather
    /// than as the stream.
    const WHOLE_JSON: bool = true;
    /// Whether the URL carries a secret (ERNIE's token): errors then leave it out.
    const SECRET_URL: bool = false;

    /// What the kind can send besides text: images, and PDFs as documents of their own
    /// (a PDF otherwise goes as its text).
    const CARRIES: Carries = Carries {
        images: true,
        documents: false,
    };

    /// Where the request goes, after the endpoint's `base_url`.
    const PATH: &'static str = "";

    fn endpoint(&self) -> &Endpoint;

    /// The request's URL: `base_url` and `PATH`, unless the kind puts more in it.
    fn url(&self, _req: &ChatRequest) -> String {
        let base = self.endpoint().base_url.trim_end_matches('/');
        format!("{base}{}", Self::PATH)
    }

    fn body(&self, req: &ChatRequest) -> Value;

    /// The request with the key, and any header of the API's own, added; `MissingKey`
    /// when the key's env var is not set.
    fn headers(&self, request: Request) -> Result<Request, ProviderError>;

    /// A failed send, as the kind explains it (Ollama: is it running?).
    fn unreachable(&self, err: ProviderError) -> ProviderError {
        err
    }

    /// The error of a non-success response.
    fn failed(&self, failure: &Failure) -> ProviderError;

    /// A 200 with a JSON body: an error some servers send this way, or a whole answer
    /// from a server that ignored `stream`.
    fn whole(&self, body: &str, _model: &str, _sink: &mut Sink) -> Result<Finish, ProviderError> {
        Err(http::not_a_stream(body))
    }

    /// Decodes the streamed answer into `sink`.
    fn decode<'a>(&'a self, response: Response, model: &'a str, sink: &'a mut Sink) -> Outcome<'a>;
}

/// Sends one attempt of `req` the way `wire` spells it and decodes what comes back.
pub async fn attempt<W: Wire>(
    wire: &W,
    client: &reqwest::Client,
    req: &ChatRequest,
    sink: &mut Sink,
) -> Result<Finish, ProviderError> {
    let endpoint = wire.endpoint();
    // Refused here, before anything is sent, when it has an image the model takes none of.
    let req = &*attach::prepare(req, W::CARRIES)?;
    let (body, length) = attach::body(&wire.body(req), req)?;
    let request = client
        .post(wire.url(req))
        .header(reqwest::header::ACCEPT, W::ACCEPT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::CONTENT_LENGTH, length)
        .body(body);
    let request = wire.headers(http::with_endpoint_headers(request, endpoint))?;
    let response = http::send(endpoint, request, W::SECRET_URL)
        .await
        .map_err(|err| wire.unreachable(err))?;
    let idle = endpoint.idle_timeout;
    if !response.status().is_success() {
        let status = response.status().as_u16();
        let retry_after = http::retry_after(response.headers());
        let body = http::read_error_body(response, idle).await;
        return Err(wire.failed(&Failure {
            status,
            retry_after,
            body: &body,
            model: &req.model_id,
        }));
    }
    if W::WHOLE_JSON && http::is_json(&response) {
        let body = http::read_error_body(response, idle).await;
        return wire.whole(&body, &req.model_id, sink);
    }
    wire.decode(response, &req.model_id, sink).await
}

/// A wire kind with the client it sends on: a provider.
pub(crate) struct Http<W> {
    wire: W,
    client: reqwest::Client,
}

impl<W> Http<W> {
    pub fn new(wire: W, client: reqwest::Client) -> Self {
        Self { wire, client }
    }
}

impl<W: Wire> Provider for Http<W> {
    fn attempt<'a>(&'a self, req: &'a ChatRequest, sink: &'a mut Sink) -> Outcome<'a> {
        Box::pin(attempt(&self.wire, &self.client, req, sink))
    }
}

/// The key as a bearer token, when the endpoint has one (OpenAI-compatible, Ollama).
pub(crate) fn bearer(endpoint: &Endpoint, request: Request) -> Result<Request, ProviderError> {
    Ok(match http::api_key(endpoint)? {
        Some(key) => request.bearer_auth(key),
        None => request,
    })
}
