//! Byte-safe line decoding for NDJSON streams (Ollama native) and for line-oriented
//! streams that must see every line (legacy ERNIE).
//!
//! Bytes are buffered and split on `\n` bytes; a line is decoded as UTF-8 only when it
//! is whole, so a character cut between two reads arrives intact. The same idle
//! timeout and size limit as the SSE decoder apply.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;

use super::body::{Body, Read};
use super::error::{ErrorKind, ProviderError};
use super::sse::MAX_EVENT_BYTES;

/// The non-blank lines in `bytes`, without their `\n` or `\r\n`. A last line without a
/// newline is still yielded at the end. The stream yields at most one error, then
/// ends: `Timeout` when no byte arrived for `idle_timeout`, `Malformed` for an
/// oversized line or invalid UTF-8, `Network` when the transport failed.
pub fn lines<S, E>(
    bytes: S,
    idle_timeout: Duration,
) -> impl Stream<Item = Result<String, ProviderError>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::error::Error + 'static,
{
    let reader = LineReader {
        body: Body::new(bytes, idle_timeout),
        buf: BytesMut::new(),
        scanned: 0,
    };
    futures_util::stream::unfold(reader, |mut reader| async move {
        let item = reader.next_line().await?;
        Some((item, reader))
    })
}

struct LineReader<S> {
    body: Body<S>,
    buf: BytesMut,
    /// How much of `buf` is known to hold no `\n`, so each byte is searched once.
    scanned: usize,
}

impl<S, E> LineReader<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::error::Error + 'static,
{
    async fn next_line(&mut self) -> Option<Result<String, ProviderError>> {
        loop {
            if self.body.ended() {
                return None;
            }
            if let Some(at) = memchr::memchr(b'\n', &self.buf[self.scanned..]) {
                let line = self.buf.split_to(self.scanned + at + 1);
                self.scanned = 0;
                match self.decode(&line[..line.len() - 1]) {
                    Ok(None) => continue,
                    Ok(Some(text)) => return Some(Ok(text)),
                    Err(err) => return Some(Err(self.body.fail(err))),
                }
            }
            self.scanned = self.buf.len();
            if self.buf.len() > MAX_EVENT_BYTES {
                return Some(Err(self.body.fail(too_large())));
            }
            match self.body.read().await? {
                Err(err) => return Some(Err(err)),
                Ok(Read::Chunk(chunk)) => self.buf.extend_from_slice(&chunk),
                Ok(Read::End) => {
                    // A last line without a newline is still a line.
                    let rest = std::mem::take(&mut self.buf);
                    return self.decode(&rest).transpose();
                }
            }
        }
    }

    /// A whole line as text; `None` for a blank one.
    fn decode(&mut self, line: &[u8]) -> Result<Option<String>, ProviderError> {
        if line.len() > MAX_EVENT_BYTES {
            return Err(too_large());
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line).map_err(|err| {
            ProviderError::new(
                ErrorKind::Malformed,
                format!("the stream is not UTF-8: {err}"),
            )
        })?;
        let text = &text[text.len() - self.body.strip_bom(text.as_bytes()).len()..];
        if text.trim().is_empty() {
            return Ok(None);
        }
        self.body.start();
        Ok(Some(text.to_owned()))
    }
}

fn too_large() -> ProviderError {
    ProviderError::new(
        ErrorKind::Malformed,
        format!(
            "a line in the stream is larger than {} MiB",
            MAX_EVENT_BYTES / (1024 * 1024)
        ),
    )
}

#[cfg(test)]
mod tests {
    use futures_util::{StreamExt, stream};

    use super::super::sse::tests::chunks;
    use super::*;

    const IDLE: Duration = Duration::from_secs(5);

    async fn collect(parts: &[&[u8]]) -> Vec<Result<String, ProviderError>> {
        lines(chunks(parts), IDLE).collect().await
    }

    async fn text(parts: &[&[u8]]) -> Vec<String> {
        collect(parts)
            .await
            .into_iter()
            .map(|l| l.unwrap_or_else(|err| panic!("unexpected error: {err}")))
            .collect()
    }

    #[tokio::test]
    async fn splits_on_newlines_across_reads() {
        assert_eq!(
            text(&[b"{\"a\":1}\n{\"a\"", b":2}\n", b"{\"a\":3}\n"]).await,
            [r#"{"a":1}"#, r#"{"a":2}"#, r#"{"a":3}"#]
        );
    }

    #[tokio::test]
    async fn keeps_a_chinese_character_cut_between_reads() {
        let bytes = "{\"t\":\"你好世界\"}\n".as_bytes();
        for cut in 1..bytes.len() {
            assert_eq!(
                text(&[&bytes[..cut], &bytes[cut..]]).await,
                ["{\"t\":\"你好世界\"}"],
                "cut {cut}"
            );
        }
        // One byte per read.
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(text(&singles).await, ["{\"t\":\"你好世界\"}"]);
    }

    #[tokio::test]
    async fn tolerates_crlf_even_when_split() {
        assert_eq!(text(&[b"a\r\nb\r", b"\nc\r\n"]).await, ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn flushes_a_last_line_without_a_newline() {
        assert_eq!(text(&[b"a\nlast"]).await, ["a", "last"]);
        assert_eq!(text(&[b"a\nlast\r"]).await, ["a", "last"]);
    }

    #[tokio::test]
    async fn skips_blank_lines_and_a_leading_bom() {
        assert_eq!(
            text(&[b"\xEF\xBB", b"\xBFa\n\n  \r\n\nb\n"]).await,
            ["a", "b"]
        );
        assert!(text(&[b""]).await.is_empty());
    }

    #[tokio::test]
    async fn rejects_invalid_utf8_in_a_whole_line() {
        let items = collect(&[b"ok\n\xFF\xFE\nnever\n"]).await;
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_deref(), Ok("ok"));
        let err = items[1].as_ref().expect_err("an error");
        assert_eq!(err.kind, ErrorKind::Malformed);
    }

    #[tokio::test]
    async fn times_out_when_no_byte_arrives() {
        let bytes = chunks(&[b"a\npart"]).chain(stream::pending());
        let started = std::time::Instant::now();
        let items: Vec<_> = lines(bytes, Duration::from_millis(50)).collect().await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_deref(), Ok("a"));
        let err = items[1].as_ref().expect_err("a timeout");
        assert_eq!(err.kind, ErrorKind::Timeout);
        assert!(err.message.contains("0.05 s"), "{}", err.message);
    }

    #[tokio::test]
    async fn ends_with_malformed_when_a_line_is_too_large() {
        let mib = vec![b'a'; 1024 * 1024];
        let parts: Vec<&[u8]> = std::iter::repeat_n(&mib[..], 9).collect();
        let err = collect(&parts)
            .await
            .pop()
            .expect("an item")
            .expect_err("an error");
        assert_eq!(err.kind, ErrorKind::Malformed);
        assert!(err.message.contains("8 MiB"), "{}", err.message);
        // Too large even when it arrives in one read with its newline.
        let one = [vec![b'a'; MAX_EVENT_BYTES + 1], b"\n".to_vec()].concat();
        let err = collect(&[&one]).await.pop().expect("an item");
        assert_eq!(err.expect_err("an error").kind, ErrorKind::Malformed);
    }

    #[tokio::test]
    async fn many_lines_of_a_megabyte_are_fine() {
        let line = [vec![b'a'; 1024 * 1024], b"\n".to_vec()].concat();
        let parts: Vec<&[u8]> = std::iter::repeat_n(&line[..], 9).collect();
        let items = collect(&parts).await;
        assert_eq!(items.len(), 9);
        assert!(items.iter().all(Result::is_ok));
    }

    #[tokio::test]
    async fn reports_a_transport_error_as_network() {
        let bytes = stream::iter(vec![
            Ok(Bytes::from_static(b"a\n")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let items: Vec<_> = lines(bytes, IDLE).collect().await;
        assert_eq!(items.len(), 2);
        let err = items[1].as_ref().expect_err("an error");
        assert_eq!(err.kind, ErrorKind::Network);
        assert!(err.message.contains("connection reset"));
    }
}
