//! A streamed response body read a chunk at a time: what the SSE reader and the line
//! reader share. It applies the idle timeout, hands out at most one error and nothing
//! after it or after the end, and knows whether the stream's text has started (the
//! one BOM a stream may carry comes before that).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt, Stream, StreamExt};

use super::error::{ErrorKind, ProviderError, describe};

/// The byte order mark a stream may begin with.
pub(crate) const BOM: &[u8] = "\u{feff}".as_bytes();

/// What one read of the body gave.
pub(crate) enum Read {
    Chunk(Bytes),
    /// The body is complete; nothing more will be read.
    End,
}

/// A clock that ticks every `every` from a fixed instant: where a paced body's reads
/// fall, so that the reads of both sides and the frame that shows them share one
/// wake-up.
#[derive(Clone, Copy, Debug)]
pub struct Ticks {
    epoch: std::time::Instant,
    every: Duration,
}

impl Ticks {
    /// A clock ticking every `every` (at least a microsecond) from now.
    pub fn new(every: Duration) -> Self {
        Self {
            epoch: std::time::Instant::now(),
            every: every.max(Duration::from_micros(1)),
        }
    }

    pub fn every(&self) -> Duration {
        self.every
    }

    /// The clock's first tick after `t` (never `t` itself).
    pub fn after(&self, t: std::time::Instant) -> std::time::Instant {
        let every = self.every.as_nanos();
        let phase = if t >= self.epoch {
            (t - self.epoch).as_nanos() % every
        } else {
            (every - (self.epoch - t).as_nanos() % every) % every
        };
        t + Duration::from_nanos(u64::try_from(every - phase).unwrap_or(u64::MAX))
    }
}

tokio::task_local! {
    /// The clock a body whose text has started is read on while it trickles, where
    /// the reader asked for one (see [`reading_on`]).
    static READ_TICKS: Ticks;
}

/// Runs `fut` with its bodies read on the ticks of `ticks` while they trickle: a body
/// that has nothing new is looked at again on the next tick, not woken for each
/// piece, and what the server sends meanwhile waits in the socket and comes in then;
/// a server that flushes every token costs a read a tick, not one a token. The first
/// text and everything before it are read at once, and so is a body that arrives
/// faster than it is read (a flood: its next piece is always there already), and a
/// body quiet for two ticks is waited for again (its next piece read at once). For a
/// reader that shows the text on those ticks (the TUI's frames); the time an answer
/// ends is then known to within a tick.
pub async fn reading_on<F: std::future::Future>(ticks: Ticks, fut: F) -> F::Output {
    READ_TICKS.scope(ticks, fut).await
}

pub(crate) struct Body<S> {
    bytes: Pin<Box<S>>,
    idle_timeout: Duration,
    /// Whether any text was handed on (a BOM is only stripped before that).
    started: bool,
    ended: bool,
    /// When the last piece came in.
    last: Option<tokio::time::Instant>,
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
            last: None,
        }
    }

    /// The next chunk, or the end; `None` once the body ended or failed. No byte for
    /// the idle timeout is a `Timeout`, a broken transport a `Network` error.
    pub(crate) async fn read(&mut self) -> Option<Result<Read, ProviderError>> {
        if self.ended {
            return None;
        }
        let ticks = READ_TICKS.try_with(|t| *t).ok();
        let next = loop {
            // A piece already there is taken at once.
            if let Some(next) = self.ready(ticks.is_some()).await {
                break Ok(next);
            }
            let now = tokio::time::Instant::now();
            // Trickling: the next look is on the clock's next tick.
            if let (Some(ticks), true, Some(last)) = (ticks, self.started, self.last)
                && now - last < ticks.every() * 2
            {
                let tick = ticks.after(now.into_std());
                tokio::time::sleep_until(tick.into()).await;
                continue;
            }
            // Else the read waits for the next piece.
            break tokio::time::timeout(self.idle_timeout, self.bytes.next()).await;
        };
        let read = match next {
            Err(_elapsed) => Err(idle_timeout_error(self.idle_timeout)),
            Ok(Some(Ok(chunk))) => Ok(Read::Chunk(chunk)),
            Ok(Some(Err(err))) => Err(ProviderError::new(
                ErrorKind::Network,
                format!("the connection broke: {}", describe(&err)),
            )),
            Ok(None) => Ok(Read::End),
        };
        self.ended = !matches!(read, Ok(Read::Chunk(_)));
        self.last = Some(tokio::time::Instant::now());
        Some(read)
    }

    /// The next piece if it is here already. A paced body first lets the connection
    /// hand over what it has received (it does so from its own task, a piece at a
    /// time): a piece still missing then means the body is caught up with the server.
    async fn ready(&mut self, paced: bool) -> Option<Option<Result<Bytes, E>>> {
        if let Some(next) = self.bytes.next().now_or_never() {
            return Some(next);
        }
        if !paced {
            return None;
        }
        tokio::task::yield_now().await;
        self.bytes.next().now_or_never()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Pieces a server flushes a millisecond apart, in paused time; counts the times the
    /// reader found none there.
    fn trickle(
        pieces: usize,
        waits: Arc<AtomicUsize>,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            for i in 0..pieces {
                let _ = tx.send(Bytes::from(format!("{i} ")));
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        futures_util::stream::poll_fn(move |cx| match rx.poll_recv(cx) {
            Poll::Pending => {
                waits.fetch_add(1, Ordering::SeqCst);
                Poll::Pending
            }
            Poll::Ready(piece) => Poll::Ready(piece.map(Ok)),
        })
    }

    /// Reads the whole body; the text, and when the first and the last piece came in.
    async fn read_all(
        mut body: Body<impl Stream<Item = Result<Bytes, std::io::Error>>>,
    ) -> (String, Duration, Duration) {
        let start = tokio::time::Instant::now();
        let (mut text, mut first) = (String::new(), None);
        while let Some(Ok(Read::Chunk(chunk))) = body.read().await {
            body.start();
            first.get_or_insert(start.elapsed());
            text.push_str(std::str::from_utf8(&chunk).unwrap_or_default());
        }
        (text, first.unwrap_or_default(), start.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn a_paced_body_is_read_on_the_ticks_and_loses_nothing() {
        let whole: String = (0..300).map(|i| format!("{i} ")).collect();
        let gap = Duration::from_millis(33);

        let waits = Arc::new(AtomicUsize::new(0));
        let body = Body::new(trickle(300, waits.clone()), Duration::from_secs(5));
        let (text, first, _) = read_all(body).await;
        assert_eq!(text, whole);
        assert_eq!(first, Duration::ZERO);
        let unpaced = waits.load(Ordering::SeqCst);
        assert!(
            unpaced >= 290,
            "without a gap, a wake-up a piece: {unpaced}"
        );

        let waits = Arc::new(AtomicUsize::new(0));
        let body = Body::new(trickle(300, waits.clone()), Duration::from_secs(5));
        let (text, first, took) = reading_on(Ticks::new(gap), read_all(body)).await;
        assert_eq!(text, whole, "every piece, in order");
        assert_eq!(first, Duration::ZERO, "the first piece at once");
        assert!(took <= Duration::from_millis(300) + gap * 2, "{took:?}");
        let paced = waits.load(Ordering::SeqCst);
        // 300 ms of pieces: a few polls that find nothing a gap (the one before the
        // wait, the one after the hand-over, the wait), not one a piece.
        assert!(paced <= 4 * (300 / 33 + 1), "{paced} polls found nothing");
        assert!(paced * 6 < unpaced, "{paced} against {unpaced}");
    }
}
