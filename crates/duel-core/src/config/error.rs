//! The error a config file can cause, and where in the text it is: file, line and
//! column, so a bad config is printed before the TUI starts and found at once.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::EXAMPLE;

#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub path: Option<PathBuf>,
    /// 1-based; 0 when the problem is the file as a whole (missing, unreadable).
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl ConfigError {
    /// A problem with the whole file rather than a place in it.
    pub(super) fn file(path: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            path: Some(path.to_path_buf()),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = match &self.path {
            Some(p) => p.display().to_string(),
            None => "built-in config".to_owned(),
        };
        if self.line == 0 {
            write!(f, "{file}: {}", self.message)
        } else {
            write!(f, "{file}:{}:{}: {}", self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The text being parsed and the name it goes by in messages.
#[derive(Clone, Copy)]
pub(super) struct Source<'a> {
    pub(super) text: &'a str,
    pub(super) path: Option<&'a Path>,
}

impl<'a> Source<'a> {
    pub(super) fn builtin() -> Source<'static> {
        Source {
            text: EXAMPLE,
            path: None,
        }
    }

    pub(super) fn error(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, column) = line_col(self.text, span.start);
        ConfigError {
            path: self.path.map(Path::to_path_buf),
            line,
            column,
            message: message.into(),
        }
    }

    pub(super) fn location(&self, span: &Range<usize>) -> String {
        let (line, column) = line_col(self.text, span.start);
        match self.path {
            Some(p) => format!("{}:{line}:{column}", p.display()),
            None => format!("built-in config:{line}:{column}"),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(line_col("a = \"通义\"\nb", 11), (1, 8));
        assert_eq!(line_col("a\nb", 2), (2, 1));
        assert_eq!(line_col("", 5), (1, 1));
    }
}
