//! `fifo_writer_ui` (ImageFIFO/createImageUI.py, with `form.ui`): a PyQt window whose Start
//! button `start_sim` starts a timer (`timer_duration` ms) that writes one frame per tick to
//! the FIFO, each through its own open; a second click stops it; changing `width` or `height`
//! writes `resize W H`.
//!
//! As for image_fifo, the harness makes `imagefifo`, keeps its read end open for the whole run
//! and counts the program's opens and closes with inotify ([`Tap`]); the window is driven
//! through the Qt driver (`crate::gui`). The period is set to 50 ms so a scenario stays short.
//!
//! One defect, one point: what came before the harness's first input (a frame written at
//! start-up) is `idle`'s alone, so every other scenario counts from a mark taken just before
//! its input; and only `frames` asks for one open per frame: `stop` and `resize` count frames
//! by bytes (the frame size is known), which a writer keeping one open for all frames shows as
//! well. Each scenario ends by closing the window in the run's teardown, unjudged.

mod tap;

use super::Exercise;
use crate::gui::writer_form::{self, real_secs, ARRIVE, QUIET, START};
use crate::gui::Gui;
use crate::outcome::{Failure, Verdict};
use crate::picture;
use crate::run::{secs, Run};
use crate::scenario::{tools::PYQT6_UIC, Need};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::{ensure, fail};
use serde_json::json;
use std::time::{Duration, Instant};
use tap::{Seen, Tap};

/// A Python program using PyQt6 and `uic` is `skip` where they cannot be imported.
const NEEDS: &[Need] = &[Need::Module(PYQT6_UIC)];

pub static EXERCISE: Exercise = Exercise {
    id: "fifo_writer_ui",
    lecture: &["ImageFIFO/createImageUI.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new("idle", "nothing is written to imagefifo before Start", idle).requires(NEEDS),
        Scenario::new(
            "frames",
            "after Start: 400×400 RGBA frames, one open each, lines on white, differing",
            frames,
        )
        .requires(NEEDS),
        Scenario::new("stop", "after the second click no more frames arrive", stop).requires(NEEDS),
        Scenario::new(
            "resize",
            "width 200 before Start sends `resize 200 400`; then 200×400 frames",
            resize,
        )
        .requires(NEEDS),
    ],
};

const FIFO: &str = "imagefifo";
const FRAMES: usize = 3;
/// A 400×400 RGBA frame, the form's default size.
const FULL: usize = 400 * 400 * 4;

/// A started writer with its FIFO tapped.
struct Writer {
    run: Run,
    gui: Gui,
    tap: Tap,
}

impl Writer {
    fn start(ctx: &mut Ctx) -> Result<Writer, Failure> {
        let tap = Tap::make(&ctx.workdir().join(FIFO), ctx.clock())?;
        let (run, gui) = Gui::start(ctx, Launch::new())?;
        Ok(Writer { run, gui, tap })
    }

    /// Just before the harness's input: lets a frame under way finish, keeps the first
    /// `keep` bytes from now on, and returns what came before (the base of what follows).
    fn mark(&self, keep: usize) -> Seen {
        self.tap.frame_done(&self.run, QUIET);
        self.tap.mark(keep)
    }

    /// What came after `base`, up to now.
    fn since(&self, base: &Seen) -> Seen {
        self.tap.seen().since(base)
    }

    /// Waits until `bytes` bytes came after `base`, within `deadline`; when they did.
    fn bytes_by(&mut self, base: &Seen, bytes: usize, deadline: Instant) -> Option<Instant> {
        self.tap
            .collect_until(&self.run, deadline, |s, _| s.since(base).bytes >= bytes)
            .then(Instant::now)
    }

    /// Once frames of `frame` bytes have come after `base`: one open each, judged when every
    /// open has closed (a frame under way is let finish first).
    fn one_open_each(&mut self, frame: usize, base: &Seen) -> Result<(), Failure> {
        self.tap.frame_done(&self.run, QUIET);
        let s = self.since(base);
        let frames = s.counts.closes_write;
        ensure!(
            s.counts.opens != s.counts.closes_write || s.bytes == frames * frame,
            "{} bytes came through {frames} open(s) of {FIFO}: expected one frame of {frame} bytes per open ({} bytes)",
            s.bytes,
            frames * frame
        );
        Ok(())
    }

    /// "; it exited with status 1 …" when the program ended, else "".
    fn ended(&mut self) -> String {
        self.tap.ended(&mut self.run)
    }
}

fn idle(ctx: &mut Ctx) -> Verdict {
    const WATCH: Duration = Duration::from_millis(500);
    let mut w = Writer::start(ctx)?;
    // For a pass the whole watch is the check (nothing for 0.5 s, with the window up); an
    // open, a byte or the program's end ends it early, a fail either way.
    w.tap
        .collect(&w.run, WATCH, |s| s.bytes > 0 || s.counts.opens > 0);
    // A frame under way is let finish, so the amount told does not depend on when the
    // harness looked.
    w.tap.frame_done(&w.run, QUIET);
    let s = w.tap.seen();
    ensure!(
        s.bytes == 0 && s.counts.opens == 0,
        "before Start was clicked it opened {FIFO} {} time(s) and wrote {} bytes: frames should only be written once Start is clicked",
        s.counts.opens,
        s.bytes
    );
    // Nothing written counts only while the window was up the whole time.
    if !w.run.alive() {
        let how = w.ended();
        fail!(
            "its window opened, then it ended within {} without Start being clicked{how}",
            secs(WATCH)
        );
    }
    Ok(format!(
        "nothing was written to {FIFO} in {} before Start, with the window up",
        secs(WATCH)
    ))
}

fn frames(ctx: &mut Ctx) -> Verdict {
    let mut w = Writer::start(ctx)?;
    let base = w.mark(FRAMES * FULL);
    writer_form::go(&mut w.gui, &mut w.run)?;
    let whole = w.tap.collect(&w.run, ARRIVE, |s| {
        let s = s.since(&base);
        s.counts.closes_write >= FRAMES && s.bytes >= FRAMES * FULL
    });
    if !whole {
        let s = w.since(&base);
        if s.bytes >= FRAMES * FULL {
            fail!(
                "after Start, at least {FRAMES} frames' worth of bytes ({FRAMES} × {FULL}) came through {} open(s) of {FIFO}, closed {} time(s) after writing: each frame needs its own open and close, since the viewer takes one frame per open, up to end of file",
                s.counts.opens,
                s.counts.closes_write
            );
        }
        let ended = w.ended();
        fail!(
            "expected {FRAMES} frames of {FULL} bytes, each through its own open of {FIFO}, within {} of Start; {} bytes came through {} open(s) and {} close(s) after writing{ended}",
            secs(ARRIVE),
            s.bytes,
            s.counts.opens,
            s.counts.closes_write
        );
    }
    w.one_open_each(FULL, &base)?;
    let kept = w.tap.kept();
    w.run.keep_frames("frame written", &kept, (400, 400), 4);
    let frames: Vec<&[u8]> = kept.chunks_exact(FULL).take(FRAMES).collect();
    for (i, frame) in frames.iter().enumerate() {
        let s = picture::stats(frame, 4);
        ensure!(
            s.opaque == 1.0,
            "frame {}: alpha is not 255 everywhere",
            i + 1
        );
        picture::lines_on_white(&s, &picture::EXACT)
            .map_err(|e| Failure::fail(format!("frame {} in mode 0: {e}", i + 1)))?;
    }
    for i in 1..frames.len() {
        ensure!(
            picture::difference(frames[i - 1], frames[i]) > 0.005,
            "frames {i} and {} are (nearly) the same: each tick should draw a new image",
            i + 1
        );
    }
    Ok(format!("after Start, {FRAMES} frames of 400×400 RGBA came through one open each: coloured lines on white, differing"))
}

fn stop(ctx: &mut Ctx) -> Verdict {
    let mut w = Writer::start(ctx)?;
    let base = w.mark(0);
    writer_form::go(&mut w.gui, &mut w.run)?;
    // Frames counted by bytes, however the writer opens the FIFO: two, so the timer is seen
    // running (and its period measured) before it is stopped.
    let deadline = w.tap.deadline(ARRIVE);
    let first = w.bytes_by(&base, FULL, deadline);
    let second = w.bytes_by(&base, 2 * FULL, deadline);
    let (Some(first), Some(second)) = (first, second) else {
        let came = w.since(&base).bytes / FULL;
        let ended = w.ended();
        fail!(
            "expected frames to keep coming after Start, to see the second click stop them; {came} whole frame(s) of {FULL} bytes came within {}{ended}",
            secs(ARRIVE)
        );
    };
    w.gui.click(&mut w.run, START)?;
    // A frame under way finishes first: the bytes reach a frame boundary.
    let settle = w.tap.deadline(Duration::from_secs(1));
    w.tap
        .collect_until(&w.run, settle, |s, _| s.since(&base).bytes % FULL == 0);
    let before = w.tap.seen();
    let quiet = writer_form::quiet_after_stop(w.tap.clock(), second - first);
    let until = Instant::now() + quiet;
    // For a pass the whole quiet period is the check; a byte, or the program's end, ends it
    // early with a fail.
    w.tap
        .collect_until(&w.run, until, |s, _| s.bytes > before.bytes);
    let more = w.tap.seen().since(&before).bytes;
    ensure!(
        more == 0,
        "after the second click on {START}, frames kept coming through {FIFO}: {} frame(s) within {}; the second click should stop the timer",
        more.div_ceil(FULL),
        real_secs(quiet)
    );
    ensure!(
        w.run.alive(),
        "after the second click on {START} it ended{}: the click should only stop the timer",
        w.ended()
    );
    Ok(format!(
        "frames came while the timer ran; after the second click nothing more came through {FIFO} for {}",
        real_secs(quiet)
    ))
}

fn resize(ctx: &mut Ctx) -> Verdict {
    const FRAME: usize = 200 * 400 * 4;
    let mut w = Writer::start(ctx)?;
    let base = w.mark(64);
    w.gui.set(&mut w.run, "width", json!(200))?;
    let came = w
        .tap
        .collect(&w.run, ARRIVE, |s| s.since(&base).counts.closes_write >= 1);
    let message = String::from_utf8_lossy(&w.tap.kept())
        .trim_matches(['\0', '\n', ' '])
        .to_string();
    let s = w.since(&base);
    ensure!(
        came,
        "after width was set to 200, expected `resize 200 400` through its own open of {FIFO} within {}; {} bytes came through {} open(s)",
        secs(ARRIVE),
        s.bytes,
        s.counts.opens
    );
    ensure!(
        message.split_whitespace().collect::<Vec<_>>() == ["resize", "200", "400"],
        "after width was set to 200 it wrote {} ({} bytes); expected `resize 200 400`",
        crate::text::quote(&message),
        s.bytes
    );
    let base = w.mark(0);
    writer_form::go(&mut w.gui, &mut w.run)?;
    let how = frames_sized(&mut w, 2, FRAME, &base)?;
    Ok(format!(
        "width 200 sent `resize 200 400` through its own open; the frames after Start were 200×400 ({how})"
    ))
}

/// Whether the `n` frames after `base` are `frame` bytes each (not [`FULL`]): told by the
/// bytes of each open where each frame has its own, else by where the stream of a single open
/// rested (a whole number of frames of `frame` bytes that is not one of [`FULL`]).
fn frames_sized(w: &mut Writer, n: usize, frame: usize, base: &Seen) -> Result<String, Failure> {
    let deadline = w.tap.deadline(ARRIVE);
    let rested = |s: &Seen, rests: &[usize]| {
        s.counts.closes_write == 0
            && s.bytes >= n * frame
            && rests.iter().any(|r| {
                let r = r.saturating_sub(base.bytes);
                r > 0 && r % frame == 0 && r % FULL != 0
            })
    };
    let done = w.tap.collect_until(&w.run, deadline, |s, rests| {
        let s = s.since(base);
        (s.counts.closes_write >= n && s.bytes >= n * frame) || rested(&s, rests)
    });
    let s = w.since(base);
    if done && s.counts.closes_write == 0 {
        return Ok(format!(
            "through one open, the stream pausing after whole frames of {frame} bytes"
        ));
    }
    if done {
        w.tap.frame_done(&w.run, QUIET);
        let s = w.since(base);
        ensure!(
            s.counts.opens != s.counts.closes_write || s.bytes == s.counts.closes_write * frame,
            "after Start, {} bytes came through {} open(s) of {FIFO}: expected frames of 200×400×4 = {frame} bytes each ({} bytes)",
            s.bytes,
            s.counts.closes_write,
            s.counts.closes_write * frame
        );
        return Ok(format!("{frame} bytes per open"));
    }
    if s.bytes >= n * frame && s.counts.closes_write == 0 {
        let rests: Vec<String> = w
            .tap
            .rests()
            .iter()
            .map(|r| r.saturating_sub(base.bytes))
            .filter(|r| *r > 0)
            .take(4)
            .map(|r| r.to_string())
            .collect();
        let whole = w
            .tap
            .rests()
            .iter()
            .all(|r| r.saturating_sub(base.bytes) % FULL == 0);
        let what = if whole {
            format!("only after whole 400×400×4 = {FULL}-byte frames")
        } else {
            format!("after {} bytes", rests.join(", "))
        };
        fail!(
            "after Start, frames came through one open of {FIFO}, and the stream paused {what}, never after a 200×400×4 = {frame}-byte frame: after `resize 200 400`, the frames should be 200×400"
        );
    }
    let ended = w.ended();
    fail!(
        "expected {n} frames of {frame} bytes within {} of Start; {} bytes came through {} open(s) and {} close(s) after writing{ended}",
        secs(ARRIVE),
        s.bytes,
        s.counts.opens,
        s.counts.closes_write
    )
}
