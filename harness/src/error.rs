//! The grader's own faults. A student's crash, hang or flood is never one of these: it is a
//! finding inside a result.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the supervisor {path}: {source}")]
    Supervisor {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("submission folder {0} does not exist")]
    MissingFolder(PathBuf),
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
    #[error("unknown exercise `{id}`{hint}; `sysgrade list` shows every exercise")]
    UnknownExercise { id: String, hint: String },
    #[error("invalid {file}: {message}")]
    InvalidConfig { file: PathBuf, message: String },
    /// A command line that cannot be carried out as given.
    #[error("{0}")]
    Usage(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// An error and its causes on one line, for a person: "reading x.toml: No such file or
/// directory (os error 2)". A cause that the message above it already ends with is not
/// repeated (an `Error::Io` shows its source in its own message).
pub fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_said_once() {
        let io = std::io::Error::from_raw_os_error(2);
        let e = anyhow::Error::from(Error::Io {
            what: "reading /nonexistent.toml".into(),
            source: io,
        });
        assert_eq!(
            one_line(&e),
            "reading /nonexistent.toml: No such file or directory (os error 2)"
        );
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(one_line(&e), "outer: inner");
    }
}
