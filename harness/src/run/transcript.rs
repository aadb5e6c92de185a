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

/// A deadline the harness waited against: what it expected, from when, by when, and when the
/// wait ended, met or not (not met before `by_ms`: the program ended or its output closed
/// first). Verdicts that say "expected … within N s" rest on these; the HTML report draws them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// What was awaited, in the feedback's words ("a line matching /…/ on stdout").
    pub what: String,
    /// Milliseconds since the run started, as `Entry::at_ms`.
    pub from_ms: u64,
    pub by_ms: u64,
    pub ended_ms: u64,
    pub met: bool,
}
