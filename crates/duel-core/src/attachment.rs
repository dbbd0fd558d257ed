//! Files attached to a prompt (SPEC §11): read and identified by their content, never
//! by their name alone; refused with a clear reason before anything is sent; kept once
//! in the data dir by their SHA-256, so a record names a file without holding it.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The paths attached before, one a line, in the attachments folder.
const RECENT_FILE: &str = "recent.txt";

/// The smallest whole PNG, a 1×1 image: for the tests of what takes an image.
#[cfg(any(test, feature = "test-support"))]
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The largest file duel attaches: 20 MB, what the vendors take for an image.
pub const MAX_BYTES: u64 = 20 * 1024 * 1024;

/// An attachment as records keep it: what it was, never its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The file's name, as attached (shown inert, like all text from outside).
    pub name: String,
    pub media_type: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What a wire kind does with an attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Image,
    Text,
    Pdf,
}

/// What a model takes in a prompt besides text: `[[models]] input` (SPEC §11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    Text,
    Image,
    /// PDF as a document of its own; a model without it gets the PDF's text.
    Pdf,
}

impl Input {
    pub const NAMES: &'static str = r#""text", "image", "pdf""#;

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "text" => Some(Input::Text),
            "image" => Some(Input::Image),
            "pdf" => Some(Input::Pdf),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Input::Text => "text",
            Input::Image => "image",
            Input::Pdf => "pdf",
        }
    }

    /// What a wire kind takes unless the model says otherwise: every kind takes
    /// images but the legacy ERNIE API; Anthropic and Gemini take PDF documents.
    pub fn defaults(kind: crate::config::WireKind) -> &'static [Input] {
        use crate::config::WireKind;
        match kind {
            WireKind::Anthropic | WireKind::Gemini => &[Input::Text, Input::Image, Input::Pdf],
            WireKind::OpenAi | WireKind::Ollama | WireKind::Demo => &[Input::Text, Input::Image],
            WireKind::Ernie => &[Input::Text],
        }
    }
}

impl Attachment {
    /// `chart.png · image/png · 412 KB`, the name shown inert: how a transcript or the
    /// review screen names it.
    pub fn described(&self) -> String {
        format!(
            "{} · {} · {}",
            crate::text::sanitize(&self.name),
            self.media_type,
            size(self.bytes)
        )
    }

    pub fn kind(&self) -> Kind {
        match self.media_type.as_str() {
            "application/pdf" => Kind::Pdf,
            t if t.starts_with("image/") => Kind::Image,
            _ => Kind::Text,
        }
    }
}

/// Why a file cannot be attached; each names the path.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("{path}: no such file")]
    Missing { path: String },
    #[error("{path}: a directory, not a file")]
    Directory { path: String },
    #[error("{path}: cannot be read: {source}")]
    Unreadable { path: String, source: io::Error },
    #[error("{path}: empty (0 bytes)")]
    Empty { path: String },
    #[error("{path}: {size} is over the limit of 20 MB")]
    TooLarge { path: String, size: String },
    #[error("{path}: neither an image (PNG, JPEG, WebP, GIF), a PDF nor UTF-8 text")]
    Unsupported { path: String },
    #[error("{path}: looks like {what} but is not a whole one (cut short or damaged)")]
    Damaged { path: String, what: &'static str },
    /// Read, but its copy in the data dir could not be written.
    #[error("{path}: not kept in the data dir: {source}")]
    NotKept { path: String, source: io::Error },
}

impl AttachError {
    /// Whether the file itself is at fault (not the data dir): the user's to fix.
    pub fn of_the_file(&self) -> bool {
        !matches!(self, AttachError::NotKept { .. })
    }
}

/// Reads `path` and identifies it: an image, a PDF or UTF-8 text, by its content.
pub fn read(path: &Path) -> Result<(Attachment, Vec<u8>), AttachError> {
    let shown = crate::text::sanitize(&path.display().to_string());
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => AttachError::Missing {
            path: shown.clone(),
        },
        _ => AttachError::Unreadable {
            path: shown.clone(),
            source: e,
        },
    })?;
    if meta.is_dir() {
        return Err(AttachError::Directory { path: shown });
    }
    if meta.len() > MAX_BYTES {
        return Err(AttachError::TooLarge {
            path: shown,
            size: size(meta.len()),
        });
    }
    let content = fs::read(path).map_err(|source| AttachError::Unreadable {
        path: shown.clone(),
        source,
    })?;
    if content.is_empty() {
        return Err(AttachError::Empty { path: shown });
    }
    let media_type = media_type(path, &content).ok_or_else(|| AttachError::Unsupported {
        path: shown.clone(),
    })?;
    if let Some(what) = damaged(media_type, &content) {
        return Err(AttachError::Damaged { path: shown, what });
    }
    let name = path
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    let attachment = Attachment {
        name,
        media_type: media_type.to_owned(),
        bytes: content.len() as u64,
        sha256: hex(&Sha256::digest(&content)),
    };
    Ok((attachment, content))
}

/// The media type of `content`: its magic bytes for images and PDF; UTF-8 text
/// otherwise, named by the file's extension where that names a text format.
fn media_type(path: &Path, content: &[u8]) -> Option<&'static str> {
    if let Some(found) = infer::get(content) {
        let t = found.mime_type();
        return match t {
            "image/png" | "image/jpeg" | "image/webp" | "image/gif" | "application/pdf" => Some(t),
            _ => None,
        };
    }
    std::str::from_utf8(content).ok()?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    Some(match ext.as_str() {
        "md" | "markdown" => "text/markdown",
        "csv" => "text/csv",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        _ => "text/plain",
    })
}

/// For an image or PDF cut short or damaged, what it looks like: the magic bytes are
/// there, the rest of the format's frame is not.
fn damaged(media_type: &str, c: &[u8]) -> Option<&'static str> {
    let whole = match media_type {
        // The header chunk first, the end chunk last.
        "image/png" => {
            c.len() >= 45 && &c[12..16] == b"IHDR" && &c[c.len() - 8..c.len() - 4] == b"IEND"
        }
        // Start and end of image.
        "image/jpeg" => c.len() >= 4 && c[c.len() - 2..] == [0xFF, 0xD9],
        // The trailer byte.
        "image/gif" => c.len() >= 14 && c[c.len() - 1] == 0x3B,
        // The RIFF size covers the file.
        "image/webp" => {
            c.len() >= 12 && u32::from_le_bytes([c[4], c[5], c[6], c[7]]) as usize + 8 == c.len()
        }
        "application/pdf" => c.windows(5).rev().take(1024).any(|w| w == b"%%EOF"),
        _ => true,
    };
    (!whole).then_some(match media_type {
        "image/png" => "a PNG image",
        "image/jpeg" => "a JPEG image",
        "image/gif" => "a GIF image",
        "image/webp" => "a WebP image",
        _ => "a PDF",
    })
}

/// A size as people read it: `412 KB`, `3.1 MB`.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{} KB", b.div_ceil(1024)),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// `<data dir>/attachments`: each attached file once, named by its SHA-256, so a
/// conversation resumed or exported sends the same bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(data_dir: &Path) -> Self {
        Store {
            dir: data_dir.join("attachments"),
        }
    }

    /// Where the file with `sha256` is kept.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256)
    }

    /// Keeps `content` under `attachment.sha256`, once: written to a temporary file,
    /// synced, then renamed into place, so a kill never leaves half a file under the
    /// name.
    pub fn keep(&self, attachment: &Attachment, content: &[u8]) -> io::Result<PathBuf> {
        let path = self.path(&attachment.sha256);
        if path.exists() {
            return Ok(path);
        }
        fs::create_dir_all(&self.dir)?;
        let part = self.dir.join(format!(
            ".{}.{}.part",
            attachment.sha256,
            std::process::id()
        ));
        let mut file = fs::File::create(&part)?;
        file.write_all(content)?;
        file.sync_all()?;
        fs::rename(&part, &path)?;
        Ok(path)
    }

    /// Attaches the file at `path`: read and identified ([`read`]), kept here, and
    /// remembered for the path line of later sessions.
    pub fn attach(&self, path: &Path) -> Result<Attachment, AttachError> {
        let (attachment, content) = read(path)?;
        self.keep(&attachment, &content)
            .map_err(|source| AttachError::NotKept {
                path: crate::text::sanitize(&path.display().to_string()),
                source,
            })?;
        if let Ok(absolute) = std::path::absolute(path) {
            // A suggestion, not a record: a line that cannot be written costs nothing.
            let _ = self.remember(&absolute);
        }
        Ok(attachment)
    }

    /// Notes that `path` was attached, for the path line of later sessions: a line of
    /// `recent.txt` in the attachments folder (a convenience, not a record: a line
    /// lost to a crash costs a suggestion).
    pub fn remember(&self, path: &Path) -> io::Result<()> {
        let Some(line) = path.to_str().filter(|p| !p.contains('\n')) else {
            return Ok(());
        };
        fs::create_dir_all(&self.dir)?;
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(RECENT_FILE))?;
        writeln!(file, "{line}")
    }

    /// The paths attached in earlier sessions that are still files, oldest first, at
    /// most `most` of them, each once.
    pub fn recent(&self, most: usize) -> Vec<String> {
        let text = fs::read_to_string(self.dir.join(RECENT_FILE)).unwrap_or_default();
        let mut out: Vec<String> = Vec::new();
        for line in text.lines().rev() {
            if out.len() == most {
                break;
            }
            if !out.iter().any(|p| p == line) && Path::new(line).is_file() {
                out.push(line.to_owned());
            }
        }
        out.reverse();
        out
    }

    /// The kept file's content, checked against its SHA-256.
    pub fn load(&self, attachment: &Attachment) -> io::Result<Vec<u8>> {
        let content = fs::read(self.path(&attachment.sha256))?;
        if hex(&Sha256::digest(&content)) != attachment.sha256 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the kept copy of {} does not match its SHA-256",
                    crate::text::sanitize(&attachment.name)
                ),
            ));
        }
        Ok(content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::TINY_PNG as PNG;

    fn file(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn a_file_is_known_by_its_content_not_its_name() {
        let dir = tempfile::tempdir().unwrap();
        // A PNG named .txt is a PNG; text named .png is not an image.
        let (png, content) = read(&file(dir.path(), "chart.txt", PNG)).unwrap();
        assert_eq!(
            (png.media_type.as_str(), png.kind()),
            ("image/png", Kind::Image)
        );
        assert_eq!(png.bytes, PNG.len() as u64);
        assert_eq!(content, PNG);
        assert_eq!(png.name, "chart.txt");
        let (text, _) = read(&file(dir.path(), "fake.png", "合同第一条".as_bytes())).unwrap();
        assert_eq!(
            (text.media_type.as_str(), text.kind()),
            ("text/plain", Kind::Text)
        );
        let (md, _) = read(&file(dir.path(), "spec.md", b"# Spec")).unwrap();
        assert_eq!(md.media_type, "text/markdown");
        // SHA-256 of "# Spec".
        assert_eq!(md.sha256.len(), 64);
    }

    #[test]
    fn what_cannot_be_attached_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let err = |path: &Path| read(path).unwrap_err().to_string();
        assert!(err(&dir.path().join("nope.png")).ends_with("nope.png: no such file"));
        assert!(err(dir.path()).ends_with(": a directory, not a file"));
        assert!(err(&file(dir.path(), "empty.txt", b"")).ends_with("empty.txt: empty (0 bytes)"));
        let cut = &PNG[..40];
        assert!(err(&file(dir.path(), "cut.png", cut)).ends_with(
            "cut.png: looks like a PNG image but is not a whole one (cut short or damaged)"
        ));
        let binary = [0u8, 159, 146, 150, 0, 1, 2, 3];
        assert!(err(&file(dir.path(), "blob.bin", &binary)).contains("neither an image"));
        let big = fs::File::create(dir.path().join("big.txt")).unwrap();
        big.set_len(MAX_BYTES + 1).unwrap();
        assert!(err(&dir.path().join("big.txt")).ends_with("20.0 MB is over the limit of 20 MB"));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_and_a_name_with_escapes_are_errors_shown_inert() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::os::unix::fs::symlink(dir.path().join("b"), &a).unwrap();
        std::os::unix::fs::symlink(&a, dir.path().join("b")).unwrap();
        let e = read(&a).unwrap_err().to_string();
        assert!(e.contains("cannot be read"), "{e}");
        let evil = dir.path().join("x\u{1b}[31m.txt");
        let e = read(&evil).unwrap_err().to_string();
        assert!(!e.contains('\u{1b}'), "{e:?}");
    }

    #[test]
    fn a_kept_file_is_written_once_and_read_back_checked() {
        let dir = tempfile::tempdir().unwrap();
        let (png, content) = read(&file(dir.path(), "chart.png", PNG)).unwrap();
        let store = Store::new(&dir.path().join("data"));
        let kept = store.keep(&png, &content).unwrap();
        assert_eq!(kept, dir.path().join("data/attachments").join(&png.sha256));
        assert_eq!(store.keep(&png, &content).unwrap(), kept, "once");
        assert_eq!(store.load(&png).unwrap(), PNG);
        fs::write(&kept, b"tampered").unwrap();
        assert!(store.load(&png).is_err());
    }

    /// The path line of a later session offers what was attached before: newest last,
    /// each once, only what is still a file.
    #[test]
    fn attached_paths_are_remembered_for_later_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(store.recent(5).is_empty());
        let a = file(dir.path(), "a.txt", b"a");
        let b = file(dir.path(), "b.txt", b"b");
        let gone = dir.path().join("gone.txt");
        for path in [&a, &gone, &b, &a] {
            store.remember(path).unwrap();
        }
        let shown = |p: &PathBuf| p.to_str().unwrap().to_owned();
        assert_eq!(store.recent(5), [shown(&b), shown(&a)]);
        assert_eq!(store.recent(1), [shown(&a)]);
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size(900), "900 B");
        assert_eq!(size(412 * 1024), "412 KB");
        assert_eq!(size(3 * 1024 * 1024 + 100_000), "3.1 MB");
    }
}
