//! A request's attachments as a wire kind sends them (SPEC §11). Before a request is
//! sent: an image for a model that takes none is refused, naming the model; text files
//! (and PDFs where the model takes no documents) are put into the prompt as text, each
//! under a line naming the file. What is left, images and PDF documents, each kind
//! spells in its own parts with [`placeholder`] where the file's base64 goes; the body
//! is then sent as a stream that encodes each file from the data dir as it goes out,
//! so a 20 MB image is never held in memory as base64.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::LazyLock;

use base64::Engine;
use bytes::Bytes;
use duel_core::attachment::{Attachment, Input, Kind, Store};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::io::AsyncReadExt;

use crate::{ChatRequest, ErrorKind, ProviderError};

/// What a wire kind itself can carry, whatever a model's `input` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Carries {
    pub images: bool,
    pub documents: bool,
}

/// `req` ready for a wire kind: refused when it carries an image the model takes
/// none of; its text files (and its PDFs, where the model or the kind takes no
/// documents) folded into their messages' text. The messages keep only the
/// attachments the kind sends as parts of their own.
pub(crate) fn prepare(
    req: &ChatRequest,
    carries: Carries,
) -> Result<Cow<'_, ChatRequest>, ProviderError> {
    if !req.has_attachments() {
        return Ok(Cow::Borrowed(req));
    }
    let store = req.files.as_ref().ok_or_else(|| {
        ProviderError::new(
            ErrorKind::BadRequest,
            "the prompt has attachments but duel was not told where their files are kept",
        )
    })?;
    let images = carries.images && req.takes.contains(&Input::Image);
    let documents = carries.documents && req.takes.contains(&Input::Pdf);
    let mut out = req.clone();
    for message in &mut out.messages {
        let mut texts = Vec::new();
        let mut parts = Vec::new();
        for attachment in std::mem::take(&mut message.attachments) {
            match attachment.kind() {
                Kind::Image if images => parts.push(attachment),
                Kind::Image => return Err(refused(&req.model_name, &attachment)),
                Kind::Pdf if documents => parts.push(attachment),
                Kind::Pdf => texts.push(file_text(store, &attachment, pdf_text)?),
                Kind::Text => texts.push(file_text(store, &attachment, utf8_text)?),
            }
        }
        if !texts.is_empty() {
            texts.push(std::mem::take(&mut message.content));
            message.content = texts.join("\n\n");
        }
        message.attachments = parts;
    }
    Ok(Cow::Owned(out))
}

fn refused(model: &str, attachment: &Attachment) -> ProviderError {
    ProviderError::new(
        ErrorKind::BadRequest,
        format!(
            "{model} takes no images: {} was not sent",
            duel_core::text::sanitize(&attachment.name)
        ),
    )
    .with_hint(format!(
        r#"send it to a vision model, or set input = ["text", "image"] on {model} if it takes them"#
    ))
}

/// The file as text under a line naming it.
fn file_text(
    store: &Store,
    attachment: &Attachment,
    text_of: fn(Vec<u8>) -> Result<String, String>,
) -> Result<String, ProviderError> {
    let name = duel_core::text::sanitize(&attachment.name);
    let content = store
        .load(attachment)
        .map_err(|e| missing(&name, &e.to_string()))?;
    let text = text_of(content)
        .map_err(|e| ProviderError::new(ErrorKind::BadRequest, format!("{name}: {e}")))?;
    Ok(format!(
        "--- file: {name} ---\n{}\n--- end of {name} ---",
        text.trim_end()
    ))
}

fn missing(name: &str, why: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::BadRequest,
        format!("the attached file {name} cannot be read from the data dir: {why}"),
    )
    .with_hint("attach the file again")
}

fn utf8_text(content: Vec<u8>) -> Result<String, String> {
    String::from_utf8(content).map_err(|_| "not UTF-8 text".to_owned())
}

fn pdf_text(content: Vec<u8>) -> Result<String, String> {
    // The extractor is a third-party parser of untrusted files: a panic in it is a
    // PDF that cannot be read, not a crash.
    let text = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(&content))
        .map_err(|_| "the PDF's text cannot be read".to_owned())?
        .map_err(|e| format!("the PDF's text cannot be read: {e}"))?;
    if text.trim().is_empty() {
        return Err(
            "the PDF has no text to send (a scan?); send it to a model that takes PDF documents"
                .to_owned(),
        );
    }
    Ok(text)
}

/// A marker no prompt can hold: it has this process's random nonce in it.
static NONCE: LazyLock<String> = LazyLock::new(|| {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}", h.finish())
});

/// Where `attachment`'s bytes go, as base64, in a body a wire kind builds.
pub(crate) fn placeholder(attachment: &Attachment) -> String {
    format!("@duel-file-{}-{}@", *NONCE, attachment.sha256)
}

/// A `data:` URL of `attachment` (OpenAI's `image_url`).
pub(crate) fn data_url(attachment: &Attachment) -> String {
    format!(
        "data:{};base64,{}",
        attachment.media_type,
        placeholder(attachment)
    )
}

/// One piece of a body: JSON as serialized, or a file sent as base64.
enum Piece {
    Json(Bytes),
    File { path: PathBuf, len: u64 },
}

/// The body of `value` with each placeholder replaced by its file's base64, read from
/// the request's files as the body is sent, and its exact length (for
/// `Content-Length`).
pub(crate) fn body(
    value: &serde_json::Value,
    req: &ChatRequest,
) -> Result<(reqwest::Body, u64), ProviderError> {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let Some(store) = req.files.as_ref().filter(|_| req.has_attachments()) else {
        let len = json.len() as u64;
        return Ok((reqwest::Body::from(json), len));
    };
    let (pieces, len) = pieces(Bytes::from(json), store)?;
    Ok((reqwest::Body::wrap_stream(encoded(pieces)), len))
}

/// `json` cut at its placeholders, and the length of the body they make.
fn pieces(json: Bytes, store: &Store) -> Result<(Vec<Piece>, u64), ProviderError> {
    let marker = format!("@duel-file-{}-", *NONCE);
    let finder = memchr::memmem::Finder::new(marker.as_bytes());
    let mut pieces = Vec::new();
    let mut rest = 0;
    while let Some(found) = finder.find(&json[rest..]) {
        let start = rest + found;
        let sha_at = start + marker.len();
        let Some(sha) = json.get(sha_at..sha_at + 64) else {
            break;
        };
        let sha = String::from_utf8_lossy(sha).into_owned();
        pieces.push(Piece::Json(json.slice(rest..start)));
        let path = store.path(&sha);
        let len = std::fs::metadata(&path)
            .map_err(|e| missing(&short(&sha), &e.to_string()))?
            .len();
        pieces.push(Piece::File { path, len });
        // The marker, the SHA-256 and the closing `@`.
        rest = sha_at + 64 + 1;
    }
    pieces.push(Piece::Json(json.slice(rest..)));
    let len = pieces
        .iter()
        .map(|p| match p {
            Piece::Json(b) => b.len() as u64,
            Piece::File { len, .. } => len.div_ceil(3) * 4,
        })
        .sum();
    Ok((pieces, len))
}

fn short(sha: &str) -> String {
    format!("file {}", &sha[..sha.len().min(12)])
}

/// Bytes in, base64 out, a block at a time: 48 KiB read, 64 KiB sent.
const BLOCK: usize = 48 * 1024;

fn encoded(pieces: Vec<Piece>) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    stream::iter(pieces).flat_map(|piece| match piece {
        Piece::Json(bytes) => stream::once(async move { Ok(bytes) }).boxed(),
        Piece::File { path, .. } => file_base64(path).boxed(),
    })
}

fn file_base64(path: PathBuf) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    stream::unfold(Some((path, None::<tokio::fs::File>)), |state| async move {
        let (path, file) = state?;
        let mut file = match file {
            Some(file) => file,
            None => match tokio::fs::File::open(&path).await {
                Ok(file) => file,
                Err(e) => return Some((Err(e), None)),
            },
        };
        let mut block = vec![0; BLOCK];
        let mut filled = 0;
        // A whole block (a multiple of 3 bytes) unless the file ends: base64 pieces
        // then join without padding in between.
        while filled < BLOCK {
            match file.read(&mut block[filled..]).await {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => return Some((Err(e), None)),
            }
        }
        if filled == 0 {
            return None;
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(&block[..filled]);
        let next = (filled == BLOCK).then_some((path, Some(file)));
        Some((Ok(Bytes::from(encoded)), next))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use duel_core::domain::{Message, Role};

    use duel_core::attachment::TINY_PNG as PNG;

    fn kept(dir: &std::path::Path, name: &str, content: &[u8]) -> Attachment {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        Store::new(dir).attach(&path).unwrap()
    }

    fn request(
        dir: &std::path::Path,
        attachments: Vec<Attachment>,
        takes: Vec<Input>,
    ) -> ChatRequest {
        ChatRequest {
            model_id: "qwen-vl-max".into(),
            system: None,
            messages: vec![
                Message::new(Role::User, "what is in these?").with_attachments(attachments),
            ],
            temperature: None,
            top_p: None,
            max_tokens: None,
            extra: serde_json::Map::new(),
            max_answer_bytes: usize::MAX,
            model_name: "qwen-vl".into(),
            takes,
            files: Some(Store::new(dir)),
        }
    }

    #[tokio::test]
    async fn a_file_goes_out_as_base64_of_its_exact_bytes_and_length() {
        let dir = tempfile::tempdir().unwrap();
        // Not a multiple of a block: the blocks join without padding between them.
        let mut png = PNG.to_vec();
        png.splice(33..33, (0..BLOCK * 2 + 7).map(|i| (i % 251) as u8));
        let image = kept(dir.path(), "chart.png", &png);
        let store = Store::new(dir.path());
        let value = serde_json::json!({ "url": data_url(&image), "again": placeholder(&image) });
        let json = Bytes::from(serde_json::to_vec(&value).unwrap());
        let (pieces, len) = pieces(json, &store).unwrap();
        let sent: Vec<Bytes> = encoded(pieces).map(Result::unwrap).collect().await;
        let sent = sent.concat();
        assert_eq!(sent.len() as u64, len, "Content-Length is exact");
        let sent: serde_json::Value = serde_json::from_slice(&sent).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
        assert_eq!(sent["url"], format!("data:image/png;base64,{b64}"));
        assert_eq!(sent["again"], b64);
    }

    #[test]
    fn text_files_join_the_prompt_under_their_names_and_images_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let notes = kept(dir.path(), "notes.md", b"# Notes\nship it\n");
        let image = kept(dir.path(), "chart.png", PNG);
        let carries = Carries {
            images: true,
            documents: false,
        };

        let both = vec![notes, image.clone()];
        let req = request(dir.path(), both.clone(), vec![Input::Text, Input::Image]);
        let ready = prepare(&req, carries).unwrap();
        let m = &ready.messages[0];
        assert_eq!(
            m.content,
            "--- file: notes.md ---\n# Notes\nship it\n--- end of notes.md ---\n\nwhat is in these?"
        );
        assert_eq!(m.attachments, [image], "the image goes as a part");

        let req = request(dir.path(), both, vec![Input::Text]);
        let err = prepare(&req, carries).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert!(
            err.message
                .contains("qwen-vl takes no images: chart.png was not sent"),
            "{}",
            err.message
        );
    }
}
