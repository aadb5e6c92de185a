//! `shm_writer_ui` (ImageSharedMemory/createImageUI.py, with `form.ui`): a PyQt window that
//! attaches to the existing segment `imageMap`; `start_sim` toggles a timer (`timer_duration`
//! ms) and each tick draws an image into the segment in the mode of `mode` (0 lines on white,
//! 1 checker, 2 random pixels). The viewer owns the segment: closing the window leaves it.
//!
//! The harness makes the segment (zeros) in the run's private /dev/shm before the program
//! starts and watches its content through a descriptor of its own (polled: shared memory
//! raises no event). The period is set to 50 ms so a scenario stays short. What was drawn
//! before Start is `idle`'s alone: `writes` and `stop` look for changes from the content at
//! Start. Each scenario but `kept` ends by closing the window in the run's teardown, unjudged.

use super::Exercise;
use crate::clock::Clock;
use crate::gui::writer_form::{self, real_secs, ARRIVE, START};
use crate::gui::{pictures, Gui};
use crate::ipc::segment::{self, ImageSegment};
use crate::ipc::watch::{Counts, PathWatch};
use crate::ipc::{self, IMAGE_BYTES as SIZE, IMAGE_SEGMENT, IMAGE_SEGMENT as SEGMENT};
use crate::outcome::{Failure, Verdict};
use crate::picture;
use crate::run::{secs, Run};
use crate::scenario::{tools::PYQT6_UIC, Need};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::{ensure, fail};
use serde_json::json;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

/// A Python program using PyQt6 and `uic` is `skip` where they cannot be imported.
const NEEDS: &[Need] = &[Need::Module(PYQT6_UIC)];

pub static EXERCISE: Exercise = Exercise {
    id: "shm_writer_ui",
    lecture: &["ImageSharedMemory/createImageUI.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[IMAGE_SEGMENT],
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
    /// The program's opens of the segment, watched from before it started (after the
    /// harness's own open): the sign that it attached.
    opens: Option<PathWatch>,
    counts: Counts,
}

impl Writer {
    fn start(ctx: &mut Ctx) -> Result<Writer, Failure> {
        let mut made = ImageSegment::new(ctx)?;
        let mut opens = None;
        let (mut run, gui) = Gui::start_prepared(ctx, Launch::new(), |reach| {
            made.make(reach)?;
            // inotify needs no right over the program (reading its /proc entries does,
            // which a confined root lacks).
            opens = PathWatch::opens_and_closes(&reach.shm_path(SEGMENT)).ok();
            Ok(())
        })?;
        let segment = made.adopt(&mut run)?;
        Ok(Writer {
            _forget: Forget(run.reach().shm_path(SEGMENT)),
            run,
            gui,
            segment,
            clock: ctx.clock(),
            opens,
            counts: Counts::default(),
        })
    }

    fn image(&self) -> Vec<u8> {
        let mut image = vec![0u8; SIZE];
        let _ = self.segment.read_exact_at(&mut image, 0);
        image
    }

    /// Polls the segment until `ok` holds for its content or `deadline`; the last content
    /// read otherwise. The watch ends early once nothing of the program is left: the content
    /// is final then, so what it holds is the answer (read once more after the end).
    fn until_at(&self, deadline: Instant, ok: impl Fn(&[u8]) -> bool) -> Result<Vec<u8>, Vec<u8>> {
        let mut last = Vec::new();
        let found = ipc::poll_state(deadline, || {
            let gone = self.run.tree_ended();
            last = self.image();
            if ok(&last) {
                Some(Ok(last.clone()))
            } else {
                gone.then_some(Err(()))
            }
        });
        match found {
            Some(Ok(image)) => Ok(image),
            _ => Err(last),
        }
    }

    /// [`Writer::until_at`] within `within` (nominal) from now.
    fn until(&self, within: Duration, ok: impl Fn(&[u8]) -> bool) -> Result<Vec<u8>, Vec<u8>> {
        self.until_at(self.clock.deadline(within), ok)
    }

    /// Whether the program opened the segment (shm_open): it attached to it. `None` when the
    /// harness could not watch it.
    fn attached(&mut self) -> Option<bool> {
        let watch = self.opens.as_ref()?;
        watch.count(&mut self.counts);
        Some(self.counts.opens > 0)
    }

    /// Closes the window, waits for the program and its helpers to end (ending it with
    /// SIGTERM when closing did not); whether the segment is left.
    fn close_kept(mut self) -> Result<bool, Failure> {
        if !self.gui.close_and_wait(&mut self.run, HELPERS)? {
            self.run
                .note("the harness ends it with SIGTERM, to see what its end leaves");
            let _ = self.run.signal(nix::sys::signal::Signal::SIGTERM);
            self.run.wait_tree_done(HELPERS);
        }
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

/// Whether two images differ (by more than a stray pixel).
fn differ(a: &[u8], b: &[u8]) -> bool {
    picture::difference(a, b) > 0.005
}

fn idle(ctx: &mut Ctx) -> Verdict {
    const WATCH: Duration = Duration::from_millis(500);
    let mut w = Writer::start(ctx)?;
    // For a pass the whole watch is the check (untouched for 0.5 s, with the window up); it
    // ends early once the segment is touched or the program is gone, a fail either way.
    let touched = w.until(WATCH, |i| i.iter().any(|b| *b != 0));
    if let Ok(image) = touched {
        let changed = image.iter().filter(|b| **b != 0).count();
        fail!("before Start was clicked, {changed} bytes of {SEGMENT} were written: draw only once Start is clicked");
    }
    // Untouched counts only while the window was up the whole time.
    if let Some(how) = ipc::ended(&mut w.run) {
        fail!(
            "its window opened, then {how} within {} without Start being clicked",
            secs(WATCH)
        );
    }
    Ok(format!(
        "{SEGMENT} stayed untouched for {} before Start, with the window up",
        secs(WATCH)
    ))
}

fn writes(ctx: &mut Ctx) -> Verdict {
    let mut w = Writer::start(ctx)?;
    let at_start = w.image();
    writer_form::go(&mut w.gui, &mut w.run)?;
    let first = w
        .until(ARRIVE, |i| differ(i, &at_start) && lines(i).is_ok())
        .inspect(|image| w.run.keep_picture("imageMap in mode 0", 400, 400, image, 4))
        .map_err(|last| {
            w.run.keep_picture("imageMap in mode 0", 400, 400, &last, 4);
            let why = lines(&last).err().unwrap_or_else(|| {
                "it held what it held when Start was clicked".to_string()
            });
            Failure::fail(format!(
                "within {} of Start in mode 0, expected coloured lines on white in {SEGMENT}; {why}",
                secs(ARRIVE)
            ))
        })?;
    w.until(ARRIVE, |i| differ(i, &first) && lines(i).is_ok())
        .map_err(|_| Failure::fail(format!("after its first image, {SEGMENT} did not change to new lines on white within {}: each tick should draw a new image", secs(ARRIVE))))?;
    w.gui.set(&mut w.run, "mode", json!(1))?;
    w.until(ARRIVE, |i| pictures::checker(i, 400).is_ok())
        .inspect(|image| w.run.keep_picture("imageMap in mode 1", 400, 400, image, 4))
        .map_err(|last| {
            w.run.keep_picture("imageMap in mode 1", 400, 400, &last, 4);
            let why = pictures::checker(&last, 400).err().unwrap_or_default();
            Failure::fail(format!(
                "within {} of setting mode to 1, expected a checker in {SEGMENT}; {why}",
                secs(ARRIVE)
            ))
        })?;
    Ok(format!(
        "after Start {SEGMENT} held changing lines on white, then a checker in mode 1"
    ))
}

fn stop(ctx: &mut Ctx) -> Verdict {
    let mut w = Writer::start(ctx)?;
    let at_start = w.image();
    writer_form::go(&mut w.gui, &mut w.run)?;
    // Two changes after Start: the timer is seen running, and its period measured.
    let deadline = w.clock.deadline(ARRIVE);
    let first = w.until_at(deadline, |i| differ(i, &at_start));
    let first_at = Instant::now();
    let second = first
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|a| w.until_at(deadline, |i| differ(i, a)));
    if second.is_err() {
        let ended = ipc::ended(&mut w.run).map_or_else(String::new, |how| format!("; {how}"));
        fail!(
            "expected {SEGMENT} to keep changing after Start, to see the second click stop it; it changed {} within {}{ended}",
            if first.is_ok() { "once" } else { "never" },
            secs(ARRIVE)
        );
    }
    let period = first_at.elapsed();
    w.gui.click(&mut w.run, START)?;
    let still = w.image();
    let quiet = writer_form::quiet_after_stop(w.clock, period);
    // For a pass the whole quiet period is the check; a change, or the program's end, ends it
    // early with a fail.
    ensure!(
        w.until_at(Instant::now() + quiet, |i| i != still.as_slice()).is_err(),
        "after the second click on {START}, {SEGMENT} kept changing within {}: the second click should stop the timer",
        real_secs(quiet)
    );
    if let Some(how) = ipc::ended(&mut w.run) {
        fail!("after the second click on {START}, {how}: the click should only stop the timer");
    }
    Ok(format!(
        "{SEGMENT} changed while the timer ran; after the second click it stayed the same for {}",
        real_secs(quiet)
    ))
}

fn kept(ctx: &mut Ctx) -> Verdict {
    let python = ctx.program().is_python();
    let mut w = Writer::start(ctx)?;
    // What closing leaves can only be seen on a segment the program attached to: at
    // start-up, or else once Start is clicked.
    let Some(attached) = w.attached() else {
        return Err(Failure::fault(format!(
            "could not watch {SEGMENT} for the program's opens"
        )));
    };
    if !attached {
        writer_form::go(&mut w.gui, &mut w.run)?;
        let deadline = w.clock.deadline(ARRIVE);
        if ipc::poll_state(deadline, || w.attached().filter(|a| *a)).is_none() {
            fail!(
                "it never opened {SEGMENT}, with the window up and within {} of Start: a writer attaches to the viewer's segment",
                secs(ARRIVE)
            );
        }
    }
    if !w.close_kept()? {
        let why = segment::left_hint(python);
        fail!("after the window was closed and the program ended, {SEGMENT} was gone: the writer must leave it for the viewer.{why}");
    }
    Ok(format!(
        "it opened {SEGMENT}, which was still there after the window was closed and it ended"
    ))
}
