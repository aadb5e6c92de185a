//! What a run keeps for the pictures of a report: its processes over time ([`ProcessSpan`],
//! from the process tree it followed) and a few scaled-down images ([`Picture`]).
//! Public JSON: `runs[].processes` and `runs[].pictures` (documented in the README).

use super::Run;
use crate::sandbox::proc_events::Tree;
use crate::sandbox::protocol::Exit;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Most processes kept per run (a fork bomb keeps its first ones).
pub const MAX_SPANS: usize = 64;
/// Most pictures kept per run.
pub const MAX_PICTURES: usize = 4;

/// One process of a run's tree, in milliseconds since the run started (the transcript's
/// clock). `None`: it had not happened when the run stopped following the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSpan {
    /// As the program's processes see it.
    pub pid: i32,
    /// Its parent at fork time.
    pub parent: i32,
    /// The command line of its last exec; absent when it never exec'd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    pub forked_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exited_ms: Option<u64>,
    /// When its zombie went (reaped by its parent or, at the end, by the harness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaped_ms: Option<u64>,
    /// `{"code": n}` or `{"signal": n}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<Exit>,
}

/// An image the run produced or was shown, scaled down, as a PNG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Picture {
    /// What it is ("frame received", "frame sent").
    pub label: String,
    pub width: u32,
    pub height: u32,
    pub png_base64: String,
}

/// `pixels` (`channels` bytes a pixel, row by row) as a [`Picture`] for a record that already
/// holds `held` of them; `None` beyond [`MAX_PICTURES`] (or when it cannot be encoded).
pub fn picture_if_room(
    held: usize,
    label: &str,
    (width, height): (u32, u32),
    pixels: &[u8],
    channels: usize,
) -> Option<Picture> {
    if held >= MAX_PICTURES {
        return None;
    }
    crate::picture::thumbnail(label, width, height, pixels, channels)
}

/// The processes of `tree` (at most [`MAX_SPANS`]), timed from `started`.
pub fn spans(tree: &Tree, started: Instant) -> Vec<ProcessSpan> {
    let ms = |at: Instant| at.saturating_duration_since(started).as_millis() as u64;
    tree.procs
        .iter()
        .take(MAX_SPANS)
        .map(|p| ProcessSpan {
            pid: p.pid,
            parent: p.parent,
            command: p.execs.last().map(|e| e.command.clone()),
            forked_ms: ms(p.forked),
            exec_ms: p.execs.last().map(|e| ms(e.at)),
            exited_ms: p.exited.map(|(at, _)| ms(at)),
            reaped_ms: p.reaped.map(ms),
            exit: p.exited.map(|(_, exit)| exit),
        })
        .collect()
}

impl Run {
    /// Keeps `tree`'s processes for the run's record (a tree the scenario followed itself;
    /// the supervisor's own tree is kept at the teardown without asking).
    pub fn keep_processes(&self, tree: &Tree) {
        let spans = spans(tree, self.shared.started);
        self.shared.update(|st| st.spans = spans);
    }

    /// Keeps an image for the run's record, scaled down (see [`crate::picture::thumbnail`]);
    /// `pixels` is `channels` bytes a pixel, row by row. Beyond [`MAX_PICTURES`] it is dropped.
    pub fn keep_picture(
        &self,
        label: &str,
        width: u32,
        height: u32,
        pixels: &[u8],
        channels: usize,
    ) {
        let held = self.shared.lock().pictures.len();
        if let Some(p) = picture_if_room(held, label, (width, height), pixels, channels) {
            self.shared.update(|st| st.pictures.push(p));
        }
    }

    /// Keeps the whole frames at the start of `bytes` (each `width`×`height`, `channels`
    /// bytes a pixel), labelled "`label` 1", "`label` 2"…, up to [`MAX_PICTURES`].
    pub fn keep_frames(&self, label: &str, bytes: &[u8], size: (u32, u32), channels: usize) {
        let frame = size.0 as usize * size.1 as usize * channels;
        for (i, f) in bytes
            .chunks_exact(frame.max(1))
            .take(MAX_PICTURES)
            .enumerate()
        {
            self.keep_picture(&format!("{label} {}", i + 1), size.0, size.1, f, channels);
        }
    }

    /// The processes for the record: those kept, else the supervisor's tree when the run
    /// followed it.
    pub(super) fn process_spans(&self) -> Vec<ProcessSpan> {
        let kept = self.shared.lock().spans.clone();
        if !kept.is_empty() || !self.spec.observe_processes {
            return kept;
        }
        let tree = self.shared.lock().processes.clone();
        let tree = tree.lock();
        spans(&tree, self.shared.started)
    }
}
