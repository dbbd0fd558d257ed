//! A streamed response body read a chunk at a time: what the SSE reader and the line
//! reader share. It applies the idle timeout, hands out at most one error and nothing
//! after it or after the end, and knows whether the stream's text has started (the
//! one BOM a stream may carry comes before that).

use std::pin::Pin;
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
