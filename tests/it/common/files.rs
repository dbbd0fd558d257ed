//! Files to attach, made whole by the test: a PNG, a PDF with a line of text, a text
//! file; each kept in a data dir's attachments as `duel` keeps them.

use std::path::Path;

use duel::attachment::{Attachment, Store};

/// The smallest whole PNG: a 1×1 image.
pub use duel::attachment::TINY_PNG as PNG;

/// A one-page PDF whose page says `line` (Helvetica, ASCII only), with a correct
/// cross-reference table.
pub fn pdf(line: &str) -> Vec<u8> {
    let content = format!("BT /F1 24 Tf 72 700 Td ({line}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// `content` written as `dir/name`, then attached: kept in `dir` as a data dir.
pub fn kept(dir: &Path, name: &str, content: &[u8]) -> Attachment {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write the file");
    Store::new(dir).attach(&path).expect("a file duel attaches")
}
