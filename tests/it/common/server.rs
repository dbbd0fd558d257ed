//! A scriptable loopback HTTP/1.1 server for tests.
//!
//! It runs on its own thread with its own tokio runtime, so it serves sync tests,
//! async tests and other processes (a PTY test running the real binary) alike:
//!
//! ```ignore
//! let server = MockServer::start(vec![
//!     Reply::json(429, r#"{"error":{"message":"slow down"}}"#).with_header("retry-after", "0"),
//!     Reply::sse(&[openai_chunk("Hello"), "[DONE]".into()]),
//! ]);
//! // point a client at server.url() …
//! assert_eq!(server.requests().len(), 2);
//! ```
//!
//! Each connection carries one request; the n-th request gets `replies[n]` (the last
//! reply repeats). A reply is a status line and headers, then its steps; the body ends
//! when the server closes the connection. Dropping the server stops it and closes
//! every connection, hung ones included.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The pause between the events of [`Reply::sse`], so each arrives in its own read.
const SSE_GAP: Duration = Duration::from_millis(3);

/// The largest request head the server reads.
const MAX_HEAD: usize = 64 * 1024;

/// A running server; dropping it stops it.
pub struct MockServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// One request as the server received it.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// The request target, query included: `/v1/chat/completions?x=1`.
    pub path: String,
    /// Header names lowercased; a repeated header keeps its last value.
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// The client's port: requests on one connection share it.
    pub peer_port: u16,
    /// When the whole request had arrived.
    pub at: Instant,
}

impl Recorded {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body parsed as JSON (panics when it is not JSON: a test failure).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("the request body is JSON")
    }
}

/// What the server sends back for one request.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    /// Sent as given, after the status line; the server adds `connection: close`.
    pub headers: Vec<(String, String)>,
    pub steps: Vec<Step>,
}

/// One thing the server does while sending a body.
#[derive(Clone, Debug)]
pub enum Step {
    /// One TCP write, flushed at once (the socket has no Nagle delay).
    Write(Vec<u8>),
    Sleep(Duration),
    /// Keep the connection open and send nothing more until the server is dropped.
    Hang,
    /// Write these bytes again and again, as fast as the client reads, until it
    /// hangs up: a server that never stops.
    Flood(Vec<u8>),
}

impl Reply {
    /// A 200 `text/event-stream` reply: each string is sent as `data: {s}\n\n` in its
    /// own write, a few milliseconds apart.
    pub fn sse<S: AsRef<str>>(events: &[S]) -> Reply {
        let mut steps = Vec::new();
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                steps.push(Step::Sleep(SSE_GAP));
            }
            steps.push(Step::Write(sse_event(event.as_ref())));
        }
        Reply::raw(200, "text/event-stream", steps)
    }

    /// A reply with a JSON body, sent in one write.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::raw(
            status,
            "application/json",
            vec![Step::Write(body.as_bytes().to_vec())],
        )
    }

    /// A reply with any content type and scripted steps.
    pub fn raw(status: u16, content_type: &str, steps: Vec<Step>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            steps,
        }
    }

    /// The same reply with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// `data: {data}\n\n` as bytes.
pub fn sse_event(data: &str) -> Vec<u8> {
    format!("data: {data}\n\n").into_bytes()
}

/// An OpenAI stream chunk carrying answer text.
pub fn openai_chunk(content: &str) -> String {
    openai_delta(json!({ "content": content }))
}

/// An OpenAI-style chunk carrying reasoning in `reasoning_content` (DashScope,
/// DeepSeek, Moonshot, Zhipu).
pub fn openai_reasoning_chunk(reasoning: &str) -> String {
    openai_delta(json!({ "content": null, "reasoning_content": reasoning }))
}

/// Ollama's `/v1` reasoning chunk: the field is `reasoning`.
pub fn ollama_reasoning_chunk(reasoning: &str) -> String {
    openai_delta(json!({ "reasoning": reasoning }))
}

/// The chunk that ends the choice with a `finish_reason`.
pub fn openai_finish_chunk(reason: &str) -> String {
    json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "model": "mock",
        "choices": [{ "index": 0, "delta": {}, "finish_reason": reason }],
        "usage": null
    })
    .to_string()
}

/// The usage-only chunk of `stream_options.include_usage`: empty `choices`.
pub fn openai_usage_chunk(input: u64, output: u64) -> String {
    json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "model": "mock",
        "choices": [],
        "usage": {
            "prompt_tokens": input,
            "completion_tokens": output,
            "total_tokens": input + output
        }
    })
    .to_string()
}

/// A whole OpenAI stream for `text`: one chunk per piece, a stop, usage, `[DONE]`.
pub fn openai_stream(pieces: &[&str], input: u64, output: u64) -> Vec<String> {
    let mut events: Vec<String> = pieces.iter().map(|p| openai_chunk(p)).collect();
    events.push(openai_finish_chunk("stop"));
    events.push(openai_usage_chunk(input, output));
    events.push("[DONE]".into());
    events
}

fn openai_delta(delta: serde_json::Value) -> String {
    json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "model": "mock",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": null }],
        "usage": null
    })
    .to_string()
}

impl MockServer {
    /// Starts serving on `127.0.0.1` at a free port. `replies` must not be empty.
    /// Each connection takes one request and is closed after its reply.
    pub fn start(replies: Vec<Reply>) -> MockServer {
        Self::serving(replies, false)
    }

    /// Like `start`, but a connection stays open for request after request, as a
    /// real server's does: each reply goes out chunked, its terminator in a write of
    /// its own after a pause (its sleeps, hangs and floods are left out).
    pub fn keep_alive(replies: Vec<Reply>) -> MockServer {
        Self::serving(replies, true)
    }

    /// A server whose reply to each request is `reply(request, index)`: it can answer
    /// by what was asked (a batch test's items arrive in any order).
    pub fn respond(
        reply: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> MockServer {
        Self::serving_with(Arc::new(reply), false)
    }

    /// `respond`, keeping each connection open for the next request if `keep_alive`.
    pub fn respond_with(
        reply: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
        keep_alive: bool,
    ) -> MockServer {
        Self::serving_with(Arc::new(reply), keep_alive)
    }

    fn serving(replies: Vec<Reply>, keep_alive: bool) -> MockServer {
        assert!(!replies.is_empty(), "MockServer needs at least one reply");
        let by_order =
            move |_: &Recorded, index: usize| replies[index.min(replies.len() - 1)].clone();
        Self::serving_with(Arc::new(by_order), keep_alive)
    }

    fn serving_with(replies: Responder, keep_alive: bool) -> MockServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let addr = listener.local_addr().expect("the listener's address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (shutdown, stop) = oneshot::channel();
        let recorded = Arc::clone(&requests);
        let thread = std::thread::Builder::new()
            .name(format!("mock-server-{}", addr.port()))
            .spawn(move || serve(listener, replies, recorded, stop, keep_alive))
            .expect("spawn the server thread");
        MockServer {
            addr,
            requests,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.requests).clone()
    }

    /// Waits until at least `count` requests arrived; false if `timeout` passed first.
    pub fn wait_for_requests(&self, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while lock(&self.requests).len() < count {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A poisoned lock only means another test thread panicked; the list is still usable.
fn lock(requests: &Mutex<Vec<Recorded>>) -> std::sync::MutexGuard<'_, Vec<Recorded>> {
    requests
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Chooses the reply to a request, given its index in arrival order.
type Responder = Arc<dyn Fn(&Recorded, usize) -> Reply + Send + Sync>;

fn serve(
    listener: std::net::TcpListener,
    replies: Responder,
    requests: Arc<Mutex<Vec<Recorded>>>,
    mut stop: oneshot::Receiver<()>,
    keep_alive: bool,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build the server's runtime");
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener).expect("register the listener");
        loop {
            tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => {
                    let Ok((socket, peer)) = accepted else { continue };
                    let (replies, requests) = (Arc::clone(&replies), Arc::clone(&requests));
                    tokio::spawn(handle(socket, peer.port(), replies, requests, keep_alive));
                }
            }
        }
    });
    // Dropping the runtime drops every connection task, closing hung connections.
}

async fn handle(
    mut socket: TcpStream,
    peer_port: u16,
    replies: Responder,
    requests: Arc<Mutex<Vec<Recorded>>>,
    keep_alive: bool,
) {
    let _ = socket.set_nodelay(true);
    while let Some(mut request) = read_request(&mut socket).await {
        request.peer_port = peer_port;
        let index = {
            let mut requests = lock(&requests);
            requests.push(request.clone());
            requests.len() - 1
        };
        let reply = &replies(&request, index);
        if !keep_alive {
            let _ = send(&mut socket, reply).await;
            return;
        }
        if send_whole(&mut socket, reply).await.is_err() {
            return;
        }
    }
}

/// How long a keep-alive reply waits before its chunked terminator, as real servers
/// do when they flush the last event and end the body in a write of its own.
pub const TERMINATOR_PAUSE: Duration = Duration::from_millis(30);

/// A reply as real servers stream one, leaving the connection open: chunked, each
/// write its own chunk, and the terminator in a write of its own after a pause (its
/// sleeps, hangs and floods are left out).
async fn send_whole(socket: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("transfer-encoding: chunked\r\n\r\n");
    socket.write_all(head.as_bytes()).await?;
    socket.flush().await?;
    for step in &reply.steps {
        if let Step::Write(bytes) = step
            && !bytes.is_empty()
        {
            let mut chunk = format!("{:x}\r\n", bytes.len()).into_bytes();
            chunk.extend_from_slice(bytes);
            chunk.extend_from_slice(b"\r\n");
            socket.write_all(&chunk).await?;
            socket.flush().await?;
        }
    }
    tokio::time::sleep(TERMINATOR_PAUSE).await;
    socket.write_all(b"0\r\n\r\n").await?;
    socket.flush().await
}

async fn send(socket: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("connection: close\r\n\r\n");
    socket.write_all(head.as_bytes()).await?;
    socket.flush().await?;
    for step in &reply.steps {
        match step {
            Step::Write(bytes) => {
                socket.write_all(bytes).await?;
                socket.flush().await?;
            }
            Step::Sleep(pause) => tokio::time::sleep(*pause).await,
            Step::Hang => std::future::pending::<()>().await,
            Step::Flood(bytes) => loop {
                socket.write_all(bytes).await?;
            },
        }
    }
    socket.shutdown().await
}

/// Reads one request: the head, then a `content-length` body (chunked request
/// bodies are not supported; reqwest sends JSON with a length).
async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split_whitespace();
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf.split_off(head_end + 4);
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        peer_port: 0,
        at: Instant::now(),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A loopback address nothing listens on (port 1), for connection-refused tests. A
/// freshly freed ephemeral port could be taken by another test's server meanwhile.
pub const REFUSED: &str = "http://127.0.0.1:1";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::{MockServer, Reply, Step};

    #[test]
    fn the_mock_server_serves_sync_clients_and_closes_hung_connections_on_drop() {
        use std::io::{Read, Write};

        let server = MockServer::start(vec![
            Reply::json(201, r#"{"ok":true}"#).with_header("x-test", "yes"),
            Reply::raw(
                200,
                "text/plain",
                vec![Step::Write(b"partial".to_vec()), Step::Hang],
            ),
        ]);
        let address = server.url().trim_start_matches("http://").to_owned();
        let request = |body: &str| {
            let mut socket = std::net::TcpStream::connect(&address).expect("connect");
            let head = format!(
                "POST /v1/x?y=1 HTTP/1.1\r\nHost: test\r\nX-Mixed-Case: V\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(head.as_bytes()).expect("write");
            socket
        };

        let mut first = request("{\"a\":1}");
        let mut reply = String::new();
        first.read_to_string(&mut reply).expect("read to close");
        assert!(reply.starts_with("HTTP/1.1 201 "), "{reply}");
        assert!(reply.contains("x-test: yes\r\n") && reply.ends_with("\r\n\r\n{\"ok\":true}"));

        let mut hung = request("second");
        hung.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("set a read timeout");
        let mut head = [0u8; 512];
        let n = hung.read(&mut head).expect("the head arrives");
        assert!(n > 0);
        assert!(server.wait_for_requests(2, Duration::from_secs(1)));

        let recorded = server.requests();
        assert_eq!(recorded[0].method, "POST");
        assert_eq!(recorded[0].path, "/v1/x?y=1");
        assert_eq!(recorded[0].header("x-mixed-case"), Some("V"));
        assert_eq!(recorded[0].json(), json!({"a": 1}));
        assert_eq!(recorded[1].body, "second");

        drop(server);
        let mut rest = Vec::new();
        let closed = hung.read_to_end(&mut rest);
        assert!(
            closed.is_ok(),
            "dropping the server closes the hung connection: {closed:?}"
        );
    }
}
