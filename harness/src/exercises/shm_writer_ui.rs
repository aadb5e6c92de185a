//! `shm_writer_ui` (ImageSharedMemory/createImageUI.py, with `form.ui`): a PyQt window that
//! attaches to the existing segment `imageMap`; `start_sim` toggles a timer (`timer_duration`
//! ms) and each tick draws an image into the segment in the mode of `mode` (0 lines on white,
//! 1 checker, 2 random pixels). The viewer owns the segment: closing the window leaves it.
//!
//! The harness makes the segment (zeros) in the run's private /dev/shm before the program
//! starts and watches its content through a descriptor of its own (polled: shared memory
//! raises no event). The period is set to 50 ms so a scenario stays short.

use super::Exercise;
use crate::clock::Clock;
use crate::gui::writer_form::{self, ARRIVE, START};
use crate::gui::{pictures, Gui};
use crate::ipc::segment::{self, ImageSegment};
use crate::ipc::{self, IMAGE_BYTES as SIZE, IMAGE_SEGMENT as SEGMENT};
use crate::outcome::{Failure, Verdict};
use crate::picture;
use crate::run::{secs, Run};
use crate::scenario::{tools::PYQT6_UIC, Need};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::{ensure, fail};
use serde_json::json;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::Duration;

/// A Python program using PyQt6 and `uic` is `skip` where they cannot be imported.
const NEEDS: &[Need] = &[Need::Module(PYQT6_UIC)];

pub static EXERCISE: Exercise = Exercise {
    id: "shm_writer_ui",
    lecture: &["ImageSharedMemory/createImageUI.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    scenarios: &[
        Scenario::new("idle", "imageMap is untouched before Start", idle).requires(NEEDS),
        Scenario::new(
            "writes",
            "after Start: lines on white changing per tick (mode 0), a checker in mode 1",
            writes,
        )
        .requires(NEEDS),
        Scenario::new(
            "stop",
            "after the second click imageMap stops changing",
            stop,
        )
        .requires(NEEDS),
        Scenario::new("kept", "closing the window leaves imageMap in place", kept).requires(NEEDS),
    ],
};

const HELPERS: Duration = Duration::from_secs(5);

struct Writer {
    /// First field, so it is dropped before the run is torn down.
    _forget: Forget,
    run: Run,
    gui: Gui,
    segment: File,
    clock: Clock,
}

impl Writer {
    fn start(ctx: &mut Ctx) -> Result<Writer, Failure> {
        let mut made = ImageSegment::claim(ctx)?;
        let (mut run, gui) = Gui::start_prepared(ctx, Launch::new(), |reach| made.make(reach))?;
        let segment = made.adopt(&mut run)?;
        Ok(Writer {
            _forget: Forget(run.reach().shm_path(SEGMENT)),
            run,
            gui,
            segment,
            clock: ctx.clock(),
        })
    }

    fn image(&self) -> Vec<u8> {
        let mut image = vec![0u8; SIZE];
        let _ = self.segment.read_exact_at(&mut image, 0);
        image
    }

    /// Polls the segment until `ok` holds for its content; the last content read otherwise.
    fn until(&self, within: Duration, ok: impl Fn(&[u8]) -> bool) -> Result<Vec<u8>, Vec<u8>> {
        let mut last = Vec::new();
        let found = ipc::poll_state(self.clock.deadline(within), || {
            last = self.image();
            ok(&last).then(|| last.clone())
        });
        found.ok_or(last)
    }

    /// Closes the window and waits for the exit (the segment is removed when `self` goes).
    fn close(mut self) -> Result<(), Failure> {
        self.gui.close(&mut self.run).map(drop)
    }

    /// Closes the window, waits for the program and its helpers; whether the segment is left.
    fn close_kept(mut self) -> Result<bool, Failure> {
        self.gui.close(&mut self.run)?;
        self.run.wait_tree_done(HELPERS);
        Ok(self.run.reach().shm_path(SEGMENT).exists())
    }
}

/// Removes the harness's segment before the run ends, whatever the verdict: where runs share
/// the host's /dev/shm it would outlive the run and count as a leftover.
struct Forget(std::path::PathBuf);

impl Drop for Forget {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn lines(image: &[u8]) -> Result<(), String> {
    picture::lines_on_white(&picture::stats(image, 4), &picture::EXACT)
}

fn idle(ctx: &mut Ctx) -> Verdict {
    let w = Writer::start(ctx)?;
    let touched = w.until(Duration::from_millis(500), |i| i.iter().any(|b| *b != 0));
    if let Ok(image) = touched {
        let changed = image.iter().filter(|b| **b != 0).count();
        fail!("before Start was clicked, {changed} bytes of {SEGMENT} were written: draw only once Start is clicked");
    }
    w.close()?;
    Ok(format!("{SEGMENT} stayed untouched for 0.5 s before Start"))
}

fn writes(ctx: &mut Ctx) -> Verdict {
    let mut w = Writer::start(ctx)?;
    writer_form::go(&mut w.gui, &mut w.run)?;
    let first = w.until(ARRIVE, |i| lines(i).is_ok()).map_err(|last| {
        let why = lines(&last).err().unwrap_or_default();
        Failure::fail(format!(
            "within {} of Start in mode 0, expected coloured lines on white in {SEGMENT}; {why}",
            secs(ARRIVE)
        ))
    })?;
    w.until(ARRIVE, |i| picture::difference(i, &first) > 0.005 && lines(i).is_ok())
        .map_err(|_| Failure::fail(format!("after its first image, {SEGMENT} did not change to new lines on white within {}: each tick should draw a new image", secs(ARRIVE))))?;
    w.gui.set(&mut w.run, "mode", json!(1))?;
    w.until(ARRIVE, |i| pictures::checker(i, 400).is_ok())
        .map_err(|last| {
            let why = pictures::checker(&last, 400).err().unwrap_or_default();
            Failure::fail(format!(
                "within {} of setting mode to 1, expected a checker in {SEGMENT}; {why}",
                secs(ARRIVE)
            ))
        })?;
    w.close()?;
    Ok(format!(
        "after Start {SEGMENT} held changing lines on white, then a checker in mode 1"
    ))
}

fn stop(ctx: &mut Ctx) -> Verdict {
    let mut w = Writer::start(ctx)?;
    writer_form::go(&mut w.gui, &mut w.run)?;
    w.until(ARRIVE, |i| i.iter().any(|b| *b != 0))
        .map_err(|_| {
            Failure::fail(format!(
                "nothing was drawn into {SEGMENT} within {} of Start",
                secs(ARRIVE)
            ))
        })?;
    w.gui.click(&mut w.run, START)?;
    let still = w.image();
    let quiet = writer_form::quiet_after_stop();
    ensure!(
        w.until(quiet, |i| i != still.as_slice()).is_err(),
        "after the second click on {START}, {SEGMENT} kept changing: the second click should stop the timer"
    );
    w.close()?;
    Ok(format!(
        "after the second click {SEGMENT} stayed the same for {}",
        secs(quiet)
    ))
}

fn kept(ctx: &mut Ctx) -> Verdict {
    let python = ctx.program().is_python();
    let w = Writer::start(ctx)?;
    if !w.close_kept()? {
        let why = segment::left_hint(python);
        fail!("after the window was closed and the program ended, {SEGMENT} was gone: the writer must leave it for the viewer.{why}");
    }
    Ok(format!(
        "{SEGMENT} was still there after the window was closed"
    ))
}
