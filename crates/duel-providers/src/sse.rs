//! Byte-safe SSE decoding for streamed answers.
//!
//! A guard sits in front of `sseer`'s event parser: it enforces the idle timeout and
//! the size limit, hands on only whole UTF-8 characters, and ends the byte stream with
//! a blank line so a last event without one is still dispatched. sseer scans with
//! memchr, each byte once, and hands out the data as slices of the received bytes.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sseer::errors::EventStreamError;
use sseer::event_stream::EventStream;

pub use sseer::event::Event;

use super::body::{BOM, Body, Read};
use super::error::{ErrorKind, ProviderError};

/// The largest single line or event accepted; a bigger one ends the stream as
/// malformed instead of growing memory without bound.
pub(crate) const MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// The SSE events in `bytes`. The stream yields at most one error, then ends:
/// `Timeout` when no byte arrived for `idle_timeout`, `Malformed` for an oversized
/// event or invalid UTF-8, `Network` when the transport failed.
pub fn events<S, E>(
    bytes: S,
    idle_timeout: Duration,
) -> impl Stream<Item = Result<Event, ProviderError>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::error::Error + 'static,
{
    let guard = Guard {
        body: Body::new(bytes, idle_timeout),
        size: EventSize::default(),
        utf8_tail: Vec::new(),
        invalid: None,
        bom_checked: false,
    };
    let guarded = futures_util::stream::unfold(guard, |mut guard| async move {
        let item = guard.next_chunk().await?;
        Some((item, guard))
    });
    // Nothing after an error: sseer would still hand out events it had buffered.
    let mut failed = false;
    EventStream::new(guarded)
        .map(|item| item.map_err(from_event_stream_error))
        .take_while(move |item| {
            let go = !failed;
            failed |= item.is_err();
            std::future::ready(go)
        })
}

fn from_event_stream_error(err: EventStreamError<ProviderError>) -> ProviderError {
    match err {
        EventStreamError::Transport(err) => err,
        EventStreamError::Utf8Error(err) => ProviderError::new(
            ErrorKind::Malformed,
            format!("the stream is not UTF-8: {err}"),
        ),
    }
}

struct Guard<S> {
    body: Body<S>,
    size: EventSize,
    /// The start of a UTF-8 character whose other bytes have not arrived yet.
    utf8_tail: Vec<u8>,
    /// Invalid UTF-8 met after valid text in the same read: reported once that text
    /// was handed on, so the answer keeps what arrived before it.
    invalid: Option<ProviderError>,
    /// Whether the first text was looked at for a BOM (only that one is stripped).
    bom_checked: bool,
}

impl<S, E> Guard<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::error::Error + 'static,
{
    async fn next_chunk(&mut self) -> Option<Result<Bytes, ProviderError>> {
        if let Some(err) = self.invalid.take() {
            return Some(Err(self.body.fail(err)));
        }
        Some(match self.body.read().await? {
            Err(err) => Err(err),
            Ok(Read::Chunk(chunk)) => self.accept(chunk).map_err(|err| self.body.fail(err)),
            Ok(Read::End) => {
                if !self.utf8_tail.is_empty() {
                    tracing::warn!("the stream ended inside a UTF-8 character");
                }
                // SSE drops a last event that has no blank line after it; answers
                // cut that way still show their last words.
                Ok(Bytes::from_static(b"\n\n"))
            }
        })
    }

    fn accept(&mut self, chunk: Bytes) -> Result<Bytes, ProviderError> {
        self.size.feed(&chunk)?;
        let bytes = if self.utf8_tail.is_empty() {
            chunk
        } else {
            let mut joined = std::mem::take(&mut self.utf8_tail);
            joined.extend_from_slice(&chunk);
            Bytes::from(joined)
        };
        let whole = match std::str::from_utf8(&bytes) {
            Ok(_) => bytes,
            // Only an unfinished character at the end: keep it for the next read.
            Err(err) if err.error_len().is_none() => {
                let whole = err.valid_up_to();
                self.utf8_tail = bytes[whole..].to_vec();
                bytes.slice(..whole)
            }
            Err(err) => {
                let invalid = ProviderError::new(
                    ErrorKind::Malformed,
                    format!("the stream is not UTF-8: {err}"),
                );
                if err.valid_up_to() == 0 {
                    return Err(invalid);
                }
                // The events before the bad byte still count; a blank line ends the
                // one it interrupted, which then fails to parse like any torn line.
                self.invalid = Some(invalid);
                let mut valid = bytes[..err.valid_up_to()].to_vec();
                valid.extend_from_slice(b"\n\n");
                Bytes::from(valid)
            }
        };
        Ok(self.strip_bom(whole))
    }

    /// The one BOM SSE allows is stripped here, so the parser never has to get it
    /// right (eventsource-stream, used before sseer, panicked on one); a second one
    /// (text, by the spec) is put behind a harmless blank line so that no parser takes
    /// it for the first.
    fn strip_bom(&mut self, text: Bytes) -> Bytes {
        if self.body.started() || text.is_empty() {
            return text;
        }
        let rest = if self.bom_checked {
            text
        } else {
            self.bom_checked = true;
            text.slice_ref(self.body.strip_bom(&text))
        };
        if rest.is_empty() {
            return rest;
        }
        self.body.start();
        if rest.starts_with(BOM) {
            return Bytes::from([b"\n".as_slice(), &rest].concat());
        }
        rest
    }
}

/// Counts the bytes of the current event (comments and field lines alike) so that
/// one that never ends cannot exhaust memory.
#[derive(Default)]
struct EventSize {
    event: usize,
    line_empty: bool,
    /// The last byte was CR, so an LF now completes a CRLF rather than ending a line.
    after_cr: bool,
}

impl EventSize {
    /// Counts the text between line breaks a run at a time (memchr finds the breaks),
    /// not byte by byte: this runs over every byte of every stream.
    fn feed(&mut self, bytes: &[u8]) -> Result<(), ProviderError> {
        let mut rest = bytes;
        while let Some(at) = memchr::memchr2(b'\n', b'\r', rest) {
            self.text(at)?;
            self.line_break(rest[at]);
            rest = &rest[at + 1..];
        }
        self.text(rest.len())
    }

    fn text(&mut self, len: usize) -> Result<(), ProviderError> {
        if len == 0 {
            return Ok(());
        }
        self.after_cr = false;
        self.line_empty = false;
        self.event += len;
        if self.event > MAX_EVENT_BYTES {
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                format!(
                    "an event in the stream is larger than {} MiB",
                    MAX_EVENT_BYTES / (1024 * 1024)
                ),
            ));
        }
        Ok(())
    }

    fn line_break(&mut self, byte: u8) {
        if byte == b'\n' && self.after_cr {
            // The LF of a CRLF: the line already ended at the CR.
            self.after_cr = false;
            return;
        }
        // A break right after a break is a blank line: the event ends.
        if self.line_empty {
            self.event = 0;
        }
        self.line_empty = true;
        self.after_cr = byte == b'\r';
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::convert::Infallible;

    use futures_util::stream;

    use super::*;

    const IDLE: Duration = Duration::from_secs(5);

    /// `parts` as a response body that arrives one part per read.
    pub(crate) fn chunks(
        parts: &[&[u8]],
    ) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
        let parts: Vec<Result<Bytes, Infallible>> = parts
            .iter()
            .map(|p| Ok(Bytes::copy_from_slice(p)))
            .collect();
        stream::iter(parts)
    }

    async fn collect(parts: &[&[u8]]) -> Vec<Result<Event, ProviderError>> {
        events(chunks(parts), IDLE).collect().await
    }

    async fn data(parts: &[&[u8]]) -> Vec<String> {
        collect(parts)
            .await
            .into_iter()
            .map(|e| match e {
                Ok(event) => event.data.to_string(),
                Err(err) => panic!("unexpected error: {err}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn splits_events_on_blank_lines() {
        assert_eq!(data(&[b"data: one\n\ndata: two\n\n"]).await, ["one", "two"]);
    }

    #[tokio::test]
    async fn keeps_a_chinese_character_cut_between_reads() {
        let text = "data: 你好世界\n\n".as_bytes();
        // "你" is bytes 6..9: cut after its first and after its second byte.
        assert_eq!(
            data(&[&text[..7], &text[7..8], &text[8..]]).await,
            ["你好世界"]
        );
        // Every possible single cut.
        for cut in 1..text.len() {
            assert_eq!(
                data(&[&text[..cut], &text[cut..]]).await,
                ["你好世界"],
                "cut {cut}"
            );
        }
    }

    #[tokio::test]
    async fn accepts_crlf_lf_and_cr_line_endings() {
        assert_eq!(data(&[b"data: a\r\n\r\ndata: b\r\n\r\n"]).await, ["a", "b"]);
        assert_eq!(data(&[b"data: a\r\rdata: b\r\r"]).await, ["a", "b"]);
        assert_eq!(
            data(&[b"data: a\n\ndata: b\r\n\r\ndata: c\r\r"]).await,
            ["a", "b", "c"]
        );
    }

    #[tokio::test]
    async fn joins_a_crlf_split_between_reads() {
        assert_eq!(
            data(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\ndata: c\r\n\r\n"]).await,
            ["a\nb", "c"]
        );
    }

    #[tokio::test]
    async fn ignores_comment_lines() {
        assert_eq!(
            data(&[b": keep-alive\n\n:HTTP_STATUS/200\ndata: x\n\n: keep-alive\n\n"]).await,
            ["x"]
        );
    }

    #[tokio::test]
    async fn joins_multi_line_data_with_newlines() {
        assert_eq!(data(&[b"data: a\ndata: b\ndata:c\n\n"]).await, ["a\nb\nc"]);
    }

    #[tokio::test]
    async fn strips_one_optional_space_after_data() {
        assert_eq!(
            data(&[b"data:{\"a\":1}\n\ndata: {\"a\":2}\n\ndata:  x\n\n"]).await,
            ["{\"a\":1}", "{\"a\":2}", " x"]
        );
    }

    #[tokio::test]
    async fn flushes_a_last_event_without_a_blank_line() {
        assert_eq!(data(&[b"data: a\n\ndata: last"]).await, ["a", "last"]);
        assert_eq!(data(&[b"data: last\n"]).await, ["last"]);
        assert_eq!(data(&[b"data: last\r"]).await, ["last"]);
    }

    #[tokio::test]
    async fn strips_a_leading_bom_even_when_split() {
        assert_eq!(data(&[b"\xEF\xBB\xBFdata: a\n\n"]).await, ["a"]);
        assert_eq!(data(&[b"\xEF", b"\xBB", b"\xBFdata: a\n\n"]).await, ["a"]);
    }

    #[tokio::test]
    async fn a_second_bom_does_not_panic() {
        // Found by tests/fuzz_decoders.rs in the parser used before (eventsource-stream
        // sliced inside the BOM); kept for any parser.
        for parts in [
            &[b"\xEF\xBB\xBF\xEF\xBB\xBF".as_slice()][..],
            &[b"\xEF\xBB\xBF", b"\xEF\xBB\xBFdata: a\n\ndata: b\n\n"],
            &[b"\xEF\xBB\xBF\xEF\xBB", b"\xBF\n\ndata: b\n\n"],
        ] {
            let items = collect(parts).await;
            assert!(items.iter().all(Result::is_ok), "{items:?}");
        }
        // Only one BOM is stripped: the second makes the first field name unknown.
        assert_eq!(
            data(&[b"\xEF\xBB\xBF", b"\xEF\xBB\xBFdata: a\n\ndata: b\n\n"]).await,
            ["b"]
        );
    }

    #[tokio::test]
    async fn keeps_event_names() {
        let events = collect(&[b"event: error\ndata: {}\n\n"]).await;
        let event = events[0].as_ref().expect("an event");
        assert_eq!((&*event.event, &*event.data), ("error", "{}"));
    }

    #[tokio::test]
    async fn times_out_when_no_byte_arrives() {
        let bytes = chunks(&[b"data: a\n\n"]).chain(stream::pending());
        let started = std::time::Instant::now();
        let items: Vec<_> = events(bytes, Duration::from_millis(50)).collect().await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().map(|e| &*e.data), Ok("a"));
        let err = items[1].as_ref().expect_err("a timeout");
        assert_eq!(err.kind, ErrorKind::Timeout);
        assert!(err.message.contains("0.05 s"), "{}", err.message);
    }

    #[tokio::test]
    async fn comments_keep_the_stream_alive() {
        // Five keep-alives 30 ms apart outlast a 50 ms idle timeout in total, not per gap.
        let keep_alive = stream::iter(0..5).then(|_| async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            Ok::<_, Infallible>(Bytes::from_static(b": keep-alive\n\n"))
        });
        let bytes = keep_alive.chain(chunks(&[b"data: done\n\n"]));
        let items: Vec<_> = events(bytes, Duration::from_millis(50)).collect().await;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].as_ref().map(|e| &*e.data), Ok("done"));
    }

    #[tokio::test]
    async fn ends_with_malformed_when_an_event_is_too_large() {
        let mib = vec![b'a'; 1024 * 1024];
        let parts: Vec<&[u8]> = std::iter::once(&b"data: "[..])
            .chain(std::iter::repeat_n(&mib[..], 9))
            .collect();
        let items = collect(&parts).await;
        let err = items
            .last()
            .expect("an item")
            .as_ref()
            .expect_err("an error");
        assert_eq!(err.kind, ErrorKind::Malformed);
        assert!(err.message.contains("8 MiB"), "{}", err.message);
    }

    #[tokio::test]
    async fn counts_many_small_lines_as_one_event() {
        let line = [b"data: ".as_slice(), &vec![b'a'; 1024 * 1024], b"\n"].concat();
        let parts: Vec<&[u8]> = std::iter::repeat_n(&line[..], 9).collect();
        let err = collect(&parts)
            .await
            .pop()
            .expect("an item")
            .expect_err("an error");
        assert_eq!(err.kind, ErrorKind::Malformed);
    }

    #[tokio::test]
    async fn resets_the_size_at_each_blank_line() {
        let event = [b"data: ".as_slice(), &vec![b'a'; 1024 * 1024], b"\r\n\r\n"].concat();
        let parts: Vec<&[u8]> = std::iter::repeat_n(&event[..], 9).collect();
        let items = collect(&parts).await;
        assert_eq!(items.len(), 9);
        assert!(items.iter().all(Result::is_ok));
    }

    #[tokio::test]
    async fn rejects_invalid_utf8() {
        let err = collect(&[b"data: \xFF\xFE\n\n"])
            .await
            .pop()
            .expect("an item");
        assert_eq!(err.expect_err("an error").kind, ErrorKind::Malformed);
    }

    #[tokio::test]
    async fn invalid_utf8_after_text_keeps_the_events_before_it() {
        let items = collect(&[b"data: first\n\ndata: second\n\ndata: th\xFFird\n\n"]).await;
        let data: Vec<&str> = items
            .iter()
            .filter_map(|i| i.as_ref().ok())
            .map(|e| &*e.data)
            .collect();
        assert_eq!(data, ["first", "second", "th"]);
        let err = items
            .last()
            .expect("an item")
            .as_ref()
            .expect_err("an error");
        assert_eq!(err.kind, ErrorKind::Malformed);
    }

    #[tokio::test]
    async fn reports_a_transport_error_as_network() {
        let bytes = stream::iter(vec![
            Ok(Bytes::from_static(b"data: a\n\n")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let items: Vec<_> = events(bytes, IDLE).collect().await;
        assert_eq!(items.len(), 2);
        let err = items[1].as_ref().expect_err("an error");
        assert_eq!(err.kind, ErrorKind::Network);
        assert!(err.message.contains("connection reset"));
    }
}
