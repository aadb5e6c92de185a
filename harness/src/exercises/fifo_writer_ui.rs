//! `fifo_writer_ui` (ImageFIFO/createImageUI.py, with `form.ui`): a PyQt window whose Start
//! button `start_sim` starts a timer (`timer_duration` ms) that writes one frame per tick to
//! the FIFO, each through its own open; a second click stops it; changing `width` or `height`
//! writes `resize W H`.
//!
//! As for image_fifo, the harness makes `imagefifo`, keeps its read end open for the whole run
//! and counts the program's opens and closes with inotify ([`Tap`]); the window is driven
//! through the Qt driver (`crate::gui`). The period is set to 50 ms so a scenario stays short.

mod tap;

use super::Exercise;
use crate::gui::writer_form::{self, ARRIVE, QUIET, START};
use crate::gui::Gui;
use crate::outcome::{Failure, Verdict};
use crate::picture;
use crate::run::{secs, Run};
use crate::scenario::{tools::PYQT6_UIC, Need};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::{ensure, fail};
use serde_json::json;
use std::time::Duration;
use tap::Tap;

/// A Python program using PyQt6 and `uic` is `skip` where they cannot be imported.
const NEEDS: &[Need] = &[Need::Module(PYQT6_UIC)];

pub static EXERCISE: Exercise = Exercise {
    id: "fifo_writer_ui",
    lecture: &["ImageFIFO/createImageUI.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
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

    /// Waits for `n` whole frames of `frame` bytes after the first `skip` bytes and closes.
    fn expect_frames(
        &mut self,
        n: usize,
        frame: usize,
        skip: usize,
        closes: usize,
    ) -> Result<(), Failure> {
        let want = skip + n * frame;
        let got = self.tap.collect(&self.run, ARRIVE, |s| {
            s.counts.closes_write >= closes + n && s.bytes >= want
        });
        if got {
            return Ok(());
        }
        let s = self.tap.seen();
        fail!(
            "expected {n} frames of {frame} bytes, each through its own open of {FIFO}, within {} of Start; {} bytes came through {} open(s) and {} close(s) after writing{}",
            secs(ARRIVE),
            s.bytes.saturating_sub(skip),
            s.counts.opens,
            s.counts.closes_write.saturating_sub(closes),
            self.tap.ended(&mut self.run)
        )
    }

    /// One open per frame: every close so far carried exactly one frame.
    fn one_open_each(&mut self, frame: usize, skip: usize, closes: usize) -> Result<(), Failure> {
        // Let a frame under way finish, so bytes and closes can be compared.
        self.tap.frame_done(&self.run, QUIET);
        let s = self.tap.seen();
        let frames = s.counts.closes_write.saturating_sub(closes);
        let bytes = s.bytes.saturating_sub(skip);
        ensure!(
            s.counts.opens != s.counts.closes_write || bytes == frames * frame,
            "{bytes} bytes came through {frames} open(s) of {FIFO}: expected one frame of {frame} bytes per open ({} bytes)",
            frames * frame
        );
        Ok(())
    }

    fn close(mut self) -> Result<(), Failure> {
        self.gui.close(&mut self.run).map(drop)
    }
}

fn idle(ctx: &mut Ctx) -> Verdict {
    let w = Writer::start(ctx)?;
    w.tap.collect(&w.run, Duration::from_millis(500), |s| {
        s.bytes > 0 || s.counts.opens > 0
    });
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
    w.close()?;
    Ok(format!(
        "nothing was written to {FIFO} in 0.5 s before Start"
    ))
}

fn frames(ctx: &mut Ctx) -> Verdict {
    const FRAME: usize = 400 * 400 * 4;
    let mut w = Writer::start(ctx)?;
    w.tap.keep(FRAMES * FRAME);
    writer_form::go(&mut w.gui, &mut w.run)?;
    w.expect_frames(FRAMES, FRAME, 0, 0)?;
    w.one_open_each(FRAME, 0, 0)?;
    let kept = w.tap.kept();
    let frames: Vec<&[u8]> = kept.chunks_exact(FRAME).take(FRAMES).collect();
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
    w.close()?;
    Ok(format!("after Start, {FRAMES} frames of 400×400 RGBA came through one open each: coloured lines on white, differing"))
}

fn stop(ctx: &mut Ctx) -> Verdict {
    let mut w = Writer::start(ctx)?;
    writer_form::go(&mut w.gui, &mut w.run)?;
    w.expect_frames(1, 400 * 400 * 4, 0, 0)?;
    w.gui.click(&mut w.run, START)?;
    // A frame under way finishes first.
    w.tap.frame_done(&w.run, Duration::from_secs(1));
    let before = w.tap.seen();
    let quiet = writer_form::quiet_after_stop();
    w.tap
        .collect(&w.run, quiet, |s| s.counts.opens > before.counts.opens);
    let after = w.tap.seen();
    ensure!(
        after.counts.opens == before.counts.opens,
        "after the second click on {START}, {FIFO} was opened {} more time(s) within {}: the second click should stop the timer",
        after.counts.opens.saturating_sub(before.counts.opens),
        secs(quiet)
    );
    w.close()?;
    Ok(format!(
        "after the second click nothing more came through {FIFO} for {}",
        secs(quiet)
    ))
}

fn resize(ctx: &mut Ctx) -> Verdict {
    const FRAME: usize = 200 * 400 * 4;
    let mut w = Writer::start(ctx)?;
    w.tap.keep(64);
    w.gui.set(&mut w.run, "width", json!(200))?;
    let came = w
        .tap
        .collect(&w.run, ARRIVE, |s| s.counts.closes_write >= 1);
    let message = String::from_utf8_lossy(&w.tap.kept())
        .trim_matches(['\0', '\n', ' '])
        .to_string();
    ensure!(
        came,
        "after width was set to 200, expected `resize 200 400` through its own open of {FIFO} within {}; {} bytes came through {} open(s)",
        secs(ARRIVE),
        w.tap.seen().bytes,
        w.tap.seen().counts.opens
    );
    ensure!(
        message.split_whitespace().collect::<Vec<_>>() == ["resize", "200", "400"],
        "after width was set to 200 it wrote {} ({} bytes); expected `resize 200 400`",
        crate::text::quote(&message),
        w.tap.seen().bytes
    );
    let skip = w.tap.seen().bytes;
    writer_form::go(&mut w.gui, &mut w.run)?;
    w.expect_frames(2, FRAME, skip, 1)?;
    w.one_open_each(FRAME, skip, 1)?;
    w.close()?;
    Ok(
        "width 200 sent `resize 200 400` through its own open; the frames after Start were 200×400"
            .into(),
    )
}
