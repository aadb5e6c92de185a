//! What happened during a run, as timestamped entries: the program's lines and the harness's
//! own actions. Feedback quotes it; renderers escape it.

use serde::{Deserialize, Serialize};

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Stdout,
    Stderr,
    /// Something the harness did or saw: a signal sent, an exit, a file observed.
    Harness,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Stdout => "stdout",
            Source::Stderr => "stderr",
            Source::Harness => "harness",
        }
    }
}

/// One line of the transcript. `text` is the program's bytes decoded lossily; it is data and
/// is never interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Milliseconds since the run started.
    pub at_ms: u64,
    pub source: Source,
    pub text: String,
}
