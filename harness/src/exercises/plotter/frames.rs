//! The plotter's frame records, read as they are written: one JSON line per frame drawn, in
//! a file the harness creates for the run. inotify wakes the reader when the file grows.

use crate::run::Run;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// Frames kept; a program drawing more than this (hours at 100 frames/s) is judged on these.
const MAX_FRAMES: usize = 200_000;
/// Longest record line kept.
const MAX_LINE: usize = 64 * 1024;

/// One frame: when the harness saw it, and the last y value of each plotted line.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub seen: Instant,
    pub ys: Vec<Option<f64>>,
}

impl Frame {
    /// Whether one of its lines ends at `value`.
    pub fn shows(&self, value: f64) -> bool {
        self.ys.iter().flatten().any(|y| (y - value).abs() < 1e-9)
    }
}

/// The record file and the frames read from it so far.
pub struct Frames {
    file: File,
    inotify: Inotify,
    partial: Vec<u8>,
    frames: Vec<Frame>,
}

impl Frames {
    /// Creates an empty record at `path`, writable by `owner` (the run's uid/gid).
    pub fn create(path: &Path, owner: Option<(u32, u32)>) -> std::io::Result<Frames> {
        File::create(path)?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
        }
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        inotify.add_watch(path, AddWatchFlags::IN_MODIFY)?;
        Ok(Frames {
            file: File::open(path)?,
            inotify,
            partial: Vec::new(),
            frames: Vec::new(),
        })
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// The last frame's line ends, for messages: "0", "0 and 5", "nothing (no line)".
    pub fn last_values(&self) -> String {
        let Some(last) = self.frames.last() else {
            return "nothing (no frame)".into();
        };
        let values: Vec<String> = last
            .ys
            .iter()
            .map(|y| y.map_or_else(|| "no point".to_string(), |y| format!("{y}")))
            .collect();
        match values.as_slice() {
            [] => "nothing (no line)".into(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        }
    }

    /// Reads frames until `done` holds for them, `within` passes, or the program ends.
    pub fn wait(
        &mut self,
        run: &Run,
        within: Duration,
        mut done: impl FnMut(&[Frame]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + within;
        loop {
            self.read_new();
            if done(&self.frames) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !run.alive() {
                self.read_new();
                return done(&self.frames);
            }
            let ms = left.min(Duration::from_millis(100)).as_millis().max(1) as u16;
            let mut fds = [PollFd::new(self.inotify.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::from(ms));
            let _ = self.inotify.read_events();
        }
    }

    fn read_new(&mut self) {
        let mut buf = vec![0u8; 256 * 1024];
        for _ in 0..16 {
            let n = match self.file.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let seen = Instant::now();
            self.partial.extend_from_slice(&buf[..n]);
            while let Some(pos) = self.partial.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.partial.drain(..=pos).collect();
                if let Some(frame) = parse(&line, seen) {
                    if self.frames.len() < MAX_FRAMES {
                        self.frames.push(frame);
                    }
                }
            }
            if self.partial.len() > MAX_LINE {
                self.partial.clear();
            }
        }
    }
}

fn parse(line: &[u8], seen: Instant) -> Option<Frame> {
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    let ys = value
        .get("lines")?
        .as_array()?
        .iter()
        .map(|l| l.get("y").and_then(serde_json::Value::as_f64))
        .collect();
    Some(Frame { seen, ys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_frame_record() {
        let line = br#"{"t": 1.5, "lines": [{"n": 3, "x": 0.2, "y": 5.0}, {"n": 0, "x": null, "y": null}], "frame": 7}"#;
        let frame = parse(line, Instant::now()).expect("a frame");
        assert_eq!(frame.ys, vec![Some(5.0), None]);
        assert!(frame.shows(5.0));
        assert!(!frame.shows(0.0));
        assert!(parse(b"not json", Instant::now()).is_none());
    }
}
