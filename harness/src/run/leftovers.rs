//! What a run left behind ([`Leftovers`]) and the lasting trace of a run ([`RunRecord`]), as
//! the teardown records them for hygiene.

use super::transcript::Entry;
use serde::Serialize;

/// What a run left behind. Each entry is a plain description that names the thing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Leftovers {
    pub processes: Vec<String>,
    pub zombies: Vec<String>,
    pub files: Vec<String>,
    pub shm: Vec<String>,
    /// Files and segments found after the harness had to kill a program whose window's
    /// closing did not end it: named and removed, but not counted, since the kill may have
    /// kept it from cleaning them up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excused: Vec<String>,
}

impl Leftovers {
    /// No finding (what is excused aside).
    pub fn is_empty(&self) -> bool {
        self.processes.is_empty()
            && self.zombies.is_empty()
            && self.files.is_empty()
            && self.shm.is_empty()
    }

    /// Moves the files and segments found to `excused`: the harness killed the program.
    pub(super) fn excuse(&mut self) {
        let files = self.files.drain(..).map(|f| format!("file {f}"));
        let shm = self
            .shm
            .drain(..)
            .map(|s| format!("shared memory segment {s}"));
        self.excused = files.chain(shm).collect();
    }

    /// All findings, one description each.
    pub fn all(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(
            self.processes
                .iter()
                .map(|p| format!("process still running: {p}")),
        );
        out.extend(
            self.zombies
                .iter()
                .map(|z| format!("zombie never reaped: {z}")),
        );
        out.extend(
            self.files
                .iter()
                .map(|f| format!("file left outside its folder: {f}")),
        );
        out.extend(
            self.shm
                .iter()
                .map(|s| format!("shared memory segment left: {s}")),
        );
        out
    }
}

/// The lasting trace of one run.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct RunRecord {
    pub label: String,
    pub transcript: Vec<Entry>,
    pub leftovers: Leftovers,
    /// The program itself started (a run whose program could not be started left nothing,
    /// and shows nothing about what it leaves).
    #[serde(default)]
    pub started: bool,
    /// Places the teardown could not look in for leftovers, each with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unscanned: Vec<String>,
    /// The run's processes over time, when it followed them (at most 64).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<super::ProcessSpan>,
    /// A few images of the run, scaled down (image exercises).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pictures: Vec<super::Picture>,
    /// The deadlines the harness waited against (at most 64).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deadlines: Vec<super::transcript::Deadline>,
}
