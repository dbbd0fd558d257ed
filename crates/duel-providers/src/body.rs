//! A streamed response body read a chunk at a time: what the SSE reader and the line
//! reader share. It applies the idle timeout, hands out at most one error and nothing
//! after it or after the end, and knows whether the stream's text has started (the
//! one BOM a stream may carry comes before that).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::error::{ErrorKind, ProviderError, describe};

/// The byte order mark a stream may begin with.
pub(crate) const BOM: &[u8] = "\u{feff}".as_bytes();

/// What one read of the body gave.
pub(crate) enum Read {
    Chunk(Bytes),
    /// The body is complete; nothing more will be read.
    End,
}

pub(crate) struct Body<S> {
    bytes: Pin<Box<S>>,
    idle_timeout: Duration,
    /// Whether any text was handed on (a BOM is only stripped before that).
    started: bool,
    ended: bool,
}

impl<S, E> Body<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::error::Error + 'static,
{
    pub(crate) fn new(bytes: S, idle_timeout: Duration) -> Self {
        Self {
            bytes: Box::pin(bytes),
            idle_timeout,
            started: false,
            ended: false,
        }
    }

    /// The next chunk, or the end; `None` once the body ended or failed. No byte for
    /// the idle timeout is a `Timeout`, a broken transport a `Network` error.
    pub(crate) async fn read(&mut self) -> Option<Result<Read, ProviderError>> {
        if self.ended {
            return None;
        }
        let read = match tokio::time::timeout(self.idle_timeout, self.bytes.next()).await {
            Err(_elapsed) => Err(idle_timeout_error(self.idle_timeout)),
            Ok(Some(Ok(chunk))) => Ok(Read::Chunk(chunk)),
            Ok(Some(Err(err))) => Err(ProviderError::new(
                ErrorKind::Network,
                format!("the connection broke: {}", describe(&err)),
            )),
            Ok(None) => Ok(Read::End),
        };
        self.ended = !matches!(read, Ok(Read::Chunk(_)));
        Some(read)
    }

    /// Ends the body with `err`, the last thing its reader hands out.
    pub(crate) fn fail(&mut self, err: ProviderError) -> ProviderError {
        self.ended = true;
        err
    }

    pub(crate) fn ended(&self) -> bool {
        self.ended
    }

    pub(crate) fn started(&self) -> bool {
        self.started
    }

    /// Text was handed on: from now on a BOM is text.
    pub(crate) fn start(&mut self) {
        self.started = true;
    }

    /// `text` without a leading BOM while the stream's text has not started.
    pub(crate) fn strip_bom<'t>(&self, text: &'t [u8]) -> &'t [u8] {
        if self.started {
            return text;
        }
        text.strip_prefix(BOM).unwrap_or(text)
    }
}

fn idle_timeout_error(idle: Duration) -> ProviderError {
    ProviderError::new(
        ErrorKind::Timeout,
        format!("no data arrived for {} s", idle.as_secs_f64()),
    )
    .with_hint("the provider went silent; raise idle_timeout_secs if this model thinks for long")
}

/// How long, and how much, the rest of an answer's body is read before the connection
/// is given up: a server that holds the body open, or streams on past the end marker,
/// costs a second and 64 KiB at most.
const REST_WAIT: Duration = Duration::from_secs(1);
const REST_BYTES: usize = 64 * 1024;

type Boxed = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

/// A response body that the wire kind's decoder reads through one handle while the
/// other ([`Rest`]) keeps it alive after the decoder is done with it.
pub(crate) fn shared(
    bytes: impl Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
) -> (Shared, Rest) {
    let inner: Arc<Mutex<Option<Boxed>>> = Arc::new(Mutex::new(Some(Box::pin(bytes))));
    (Shared(Arc::clone(&inner)), Rest(inner))
}

/// The decoder's handle on a shared body.
pub(crate) struct Shared(Arc<Mutex<Option<Boxed>>>);

impl Stream for Shared {
    type Item = Result<Bytes, reqwest::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut inner = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match inner.as_mut() {
            Some(bytes) => bytes.as_mut().poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}

/// What the decoder left of a body.
pub(crate) struct Rest(Arc<Mutex<Option<Boxed>>>);

impl Rest {
    /// Reads the body to its end (at most `REST_WAIT` and `REST_BYTES`), so the
    /// connection it came on can carry the next request.
    pub(crate) async fn read_to_end(self) {
        let taken = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let Some(mut bytes) = taken else { return };
        let mut read = 0;
        let drained = tokio::time::timeout(REST_WAIT, async {
            while let Some(Ok(chunk)) = bytes.next().await {
                read += chunk.len();
                if read > REST_BYTES {
                    break;
                }
            }
        });
        let _ = drained.await;
    }
}
