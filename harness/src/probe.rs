//! Helper programs the harness puts in a program's way — a probe standing in for a program it
//! runs (`./run.py`), a shim first on PATH (`ffmpeg`) — and the records they leave behind.
//!
//! The helpers are small python3 scripts. They append one JSON object per line to a records
//! file in a folder of the scenario's scratch that the run's uid may write, so what they saw
//! (their arguments, pids, byte counts, start and end times on the monotonic clock) is known
//! from the processes themselves, not guessed from the program's output. Waiting for a record
//! is waiting for an inotify event on that folder, with a deadline.

use crate::outcome::Failure;
use crate::scenario::Ctx;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use serde_json::Value;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The JSON-lines file helper scripts append to.
#[derive(Debug, Clone)]
pub struct Records {
    dir: PathBuf,
    file: PathBuf,
}

impl Records {
    /// A fresh folder `name` in the scenario's scratch, writable by the run's uid, that will
    /// hold `records.jsonl`.
    pub fn create(ctx: &Ctx, name: &str) -> Result<Records, Failure> {
        let dir = ctx.scratch().join(name);
        let fault =
            |e: std::io::Error| Failure::error(format!("grader fault: preparing {name}: {e}"));
        std::fs::create_dir_all(&dir).map_err(fault)?;
        if let Some((uid, gid)) = ctx.identity() {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(fault)?;
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).map_err(fault)?;
        Ok(Records {
            file: dir.join("records.jsonl"),
            dir,
        })
    }

    /// The folder (helpers may keep other files there, such as a log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The records file the helpers append to.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Every record so far, in order; a line that is not a JSON object is skipped.
    pub fn read(&self) -> Vec<Value> {
        std::fs::read(&self.file)
            .map(|bytes| {
                String::from_utf8_lossy(&bytes)
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .filter(Value::is_object)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits until `done` holds for the records or `within` (nominal, multiplied by `scale`)
    /// passes; returns whether it held and the records as last read.
    pub fn wait(
        &self,
        within: Duration,
        scale: f64,
        done: impl Fn(&[Value]) -> bool,
    ) -> (bool, Vec<Value>) {
        let deadline = Instant::now() + within.mul_f64(scale);
        let watch = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok();
        if let Some(w) = &watch {
            let mask = AddWatchFlags::IN_MODIFY
                | AddWatchFlags::IN_CLOSE_WRITE
                | AddWatchFlags::IN_CREATE
                | AddWatchFlags::IN_MOVED_TO;
            let _ = w.add_watch(&self.dir, mask);
        }
        loop {
            let records = self.read();
            if done(&records) {
                return (true, records);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return (false, records);
            }
            // The inotify event is the wake-up; the cap only guards against a missed one.
            let nap = left.min(Duration::from_millis(250));
            match &watch {
                Some(w) => {
                    let timeout = PollTimeout::try_from(nap).unwrap_or(PollTimeout::ZERO);
                    let mut fds = [PollFd::new(w.as_fd(), PollFlags::POLLIN)];
                    if poll(&mut fds, timeout).unwrap_or(0) > 0 {
                        while w.read_events().is_ok_and(|e| !e.is_empty()) {}
                    }
                }
                None => std::thread::sleep(nap.min(Duration::from_millis(20))),
            }
        }
    }
}

/// Writes the python3 script `body` to `path` with `python` as its interpreter line, mode
/// 0755, replacing whatever was there.
pub fn install_script(path: &Path, python: &Path, body: &str) -> Result<(), Failure> {
    let fault = |e: std::io::Error| {
        Failure::error(format!(
            "grader fault: installing {}: {e}",
            path.file_name().unwrap_or_default().to_string_lossy()
        ))
    };
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.is_dir() {
            std::fs::remove_dir_all(path).map_err(fault)?;
        } else {
            std::fs::remove_file(path).map_err(fault)?;
        }
    }
    let text = format!("#!{}\n{body}", python.display());
    std::fs::write(path, text).map_err(fault)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(fault)
}

/// `text` as a Python string literal (JSON string syntax is valid Python).
pub fn py_str(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "''".into())
}

/// The records whose `event` field is `event`.
pub fn events<'a>(records: &'a [Value], event: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r.get("event").and_then(Value::as_str) == Some(event))
        .collect()
}

/// A record's string-list field (`argv`), empty when absent or malformed.
pub fn strings(record: &Value, field: &str) -> Vec<String> {
    record
        .get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
