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

/// One frame: when the harness saw it, when the program drew it (its record's `t`, seconds
/// on the program's monotonic clock, when given), and the last y value of each plotted line.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub seen: Instant,
    pub t: Option<f64>,
    pub ys: Vec<Option<f64>>,
}

/// The interval of a plot moving at its own steady rate: the median of the last `n` intervals
/// between frames, when there are `n` after the first frame (drawn before an animation's
/// timer starts) and none is more than twice another. Times are the program's own (`t`) when
/// every frame gives one, else when the harness saw them.
pub fn steady(frames: &[Frame], n: usize) -> Option<f64> {
    let moving = frames.get(1..)?;
    let recent = moving.get(moving.len().checked_sub(n + 1)?..)?;
    let own: Option<Vec<f64>> = recent.iter().map(|f| f.t).collect();
    let times = own.unwrap_or_else(|| {
        let start = recent[0].seen;
        recent
            .iter()
            .map(|f| f.seen.saturating_duration_since(start).as_secs_f64())
            .collect()
    });
    let mut gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_by(f64::total_cmp);
    let (shortest, longest) = (*gaps.first()?, *gaps.last()?);
    (shortest > 0.0 && longest <= 2.0 * shortest).then(|| gaps[gaps.len() / 2])
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

    /// A `width`×`height` RGBA chart of each line's last value over the frames' arrival times
    /// (blue), with a red line at each value typed, for the report's pictures.
    pub fn chart(&self, typed: &[f64], width: u32, height: u32) -> Vec<u8> {
        chart(&self.frames, typed, width, height)
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
    let t = value.get("t").and_then(serde_json::Value::as_f64);
    Some(Frame { seen, t, ys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_frame_record() {
        let line = br#"{"t": 1.5, "lines": [{"n": 3, "x": 0.2, "y": 5.0}, {"n": 0, "x": null, "y": null}], "frame": 7}"#;
        let frame = parse(line, Instant::now()).expect("a frame");
        assert_eq!(frame.ys, vec![Some(5.0), None]);
        assert_eq!(frame.t, Some(1.5));
        assert!(frame.shows(5.0));
        assert!(!frame.shows(0.0));
        assert!(parse(b"not json", Instant::now()).is_none());
    }

    fn at(t: f64) -> Frame {
        Frame {
            seen: Instant::now(),
            t: Some(t),
            ys: vec![Some(0.0)],
        }
    }

    #[test]
    fn steady_needs_n_even_intervals_after_the_first_frame() {
        // The first frame (before the timer runs) comes 0.5 s before the next: not counted.
        let frames: Vec<Frame> = [0.0, 0.5, 0.52, 0.54, 0.56, 0.58].map(at).into();
        assert_eq!(steady(&frames, 4).map(|s| (s * 1000.0).round()), Some(20.0));
        assert_eq!(steady(&frames[..5], 4), None);
        // A pause among the last intervals: not yet steady.
        let paused: Vec<Frame> = [0.0, 0.5, 0.52, 0.64, 0.66, 0.68].map(at).into();
        assert_eq!(steady(&paused, 4), None);
        // Frames drawn at the same instant are no rate.
        let stuck: Vec<Frame> = [0.0, 0.5, 0.5, 0.5, 0.5, 0.5].map(at).into();
        assert_eq!(steady(&stuck, 4), None);
    }
}

/// See [`Frames::chart`]. Frames are spaced evenly in the order they came (a typed value's
/// step shows however quickly it was drawn); a value's change is joined by a vertical line.
fn chart(frames: &[Frame], typed: &[f64], width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width.max(2) as usize, height.max(2) as usize);
    let mut px = [255u8; 4].repeat(w * h);
    // Every line's last value: which line is the data is the program's choice.
    let drawn: Vec<(usize, f64)> = frames
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.ys.iter().flatten().map(move |y| (i, *y)))
        .collect();
    if drawn.is_empty() {
        return px;
    }
    let values = drawn.iter().map(|p| p.1).chain(typed.iter().copied());
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if hi - lo < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let row = |v: f64| ((hi - v) / (hi - lo) * (h - 1) as f64).round() as usize;
    let last = frames.len().saturating_sub(1).max(1) as f64;
    let column = |i: usize| (i as f64 / last * (w - 1) as f64).round() as usize;
    let mut put = |x: usize, y: usize, c: [u8; 4]| {
        let i = (y.min(h - 1) * w + x.min(w - 1)) * 4;
        px[i..i + 4].copy_from_slice(&c);
    };
    for &v in typed {
        for x in (0..w).step_by(2) {
            put(x, row(v), [220, 30, 30, 255]);
        }
    }
    const BLUE: [u8; 4] = [30, 60, 200, 255];
    for pair in drawn.windows(2) {
        let ((i, a), (j, b)) = (pair[0], pair[1]);
        put(column(i), row(a), BLUE);
        if j == i + 1 {
            let (top, bottom) = (row(a).min(row(b)), row(a).max(row(b)));
            for y in top..=bottom {
                put(column(j), y, BLUE);
            }
        }
    }
    if let Some(&(i, v)) = drawn.last() {
        put(column(i), row(v), BLUE);
    }
    px
}

#[cfg(test)]
mod chart_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_value_is_drawn_over_time_against_the_values_typed() {
        let t0 = Instant::now();
        let frame = |ms: u64, y: f64| Frame {
            seen: t0 + Duration::from_millis(ms),
            t: None,
            ys: vec![Some(y)],
        };
        let frames = vec![frame(0, 0.0), frame(500, 5.0), frame(1000, 2.0)];
        let px = chart(&frames, &[5.0, 2.0], 11, 6);
        let at = |x: usize, y: usize| &px[(y * 11 + x) * 4..(y * 11 + x) * 4 + 3];
        // 5 is the top row, 0 the bottom one: the first point bottom left, the step up to 5
        // in the middle column, the last point (2) right; the red line of 5 across the top.
        assert_eq!(at(0, 5), [30, 60, 200]);
        assert_eq!(at(5, 0), [30, 60, 200]);
        assert_eq!(at(5, 3), [30, 60, 200]);
        assert_eq!(at(10, 2), [30, 60, 200]);
        assert_eq!(at(2, 0), [220, 30, 30]);
        assert_eq!(px.len(), 11 * 6 * 4);
    }
}
