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
    #[error("internal error: {0}")]
    Internal(String),
}
