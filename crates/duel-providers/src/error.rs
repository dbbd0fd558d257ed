//! Reading transport errors: the useful words are often deep in the source chain.

pub use duel_core::domain::{ErrorKind, ProviderError};

/// An error and its sources on one line: transport errors hide the useful part
/// ("connection refused") in their source chain.
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// The innermost source of an error: for a failed connect, the OS's own words
/// ("Connection refused (os error 111)").
pub(crate) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
