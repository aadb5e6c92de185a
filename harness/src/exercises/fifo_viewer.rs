//! `fifo_viewer` (ImageFIFO/DisplayPixmap.py): a PyQt window that makes the FIFO `imagefifo`
//! and shows what arrives through it, one frame per open, on a background thread; `resize W H`
//! changes the frame size; closing the window removes the FIFO.
//!
//! The harness drives the window through its Qt driver (`crate::gui`), writes each message
//! through an open of its own, waits for the viewer to close its end before the next one (so
//! two messages never merge), and compares the pixels the label shows with the frame sent.
//! One defect, one point: that `imagefifo` is a FIFO is `fifo`'s (and the frames' that go
//! through it), not `close`'s, which judges only its removal; the colour order is `shows`',
//! not `resize`'s. `fifo` closes the window and expects the exit; `shows` and `resize` end by
//! closing it in the run's teardown, unjudged.

use super::Exercise;
use crate::clock::Clock;
use crate::gui::{pictures, Gui, Rgba};
use crate::ipc::fifo::{self, open_writer, write_within};
use crate::ipc::watch::{self, Counts, PathWatch};
use crate::ipc::{self};
use crate::outcome::{Failure, Verdict};
use crate::run::{secs, Run};
use crate::scenario::{tools::PYQT6, Need};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::{ensure, fail};
use std::path::PathBuf;
use std::time::Duration;

/// A Python program using PyQt6 is `skip` where it cannot be imported.
const NEEDS: &[Need] = &[Need::Module(PYQT6)];

pub static EXERCISE: Exercise = Exercise {
    id: "fifo_viewer",
    lecture: &["ImageFIFO/DisplayPixmap.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "fifo",
            "imagefifo appears in its folder and is a FIFO",
            fifo,
        )
        .shared(&RUN)
        .requires(NEEDS),
        Scenario::new(
            "shows",
            "three frames, each through its own open, are each shown within 1 s",
            shows,
        )
        .shared(&RUN)
        .requires(NEEDS),
        Scenario::new(
            "resize",
            "after `resize 200 100`, a 200×100 frame is shown at 200×100",
            resize,
        )
        .shared(&RUN)
        .requires(NEEDS),
        Scenario::new("close", "closing the window removes imagefifo", close)
            .shared(&RUN)
            .requires(NEEDS),
    ],
};

mod shared;

use shared::RUN;

const FIFO: &str = "imagefifo";
/// After the window is up, for the FIFO to appear.
const APPEAR: Duration = Duration::from_secs(5);
/// For the viewer to open the FIFO for a message, and to take it in.
const TAKE: Duration = Duration::from_secs(2);
const SHOW: Duration = Duration::from_secs(1);

/// A viewer whose window is up and whose FIFO exists.
struct Viewer {
    run: Run,
    gui: Gui,
    path: PathBuf,
    clock: Clock,
}

/// What a scenario needs of `imagefifo` before it goes on.
#[derive(Clone, Copy, PartialEq)]
enum Awaits {
    /// A FIFO: frames go through it.
    Fifo,
    /// Only that it exists: `close` is about its removal, whatever it is.
    Exists,
}

impl Viewer {
    fn start(ctx: &mut Ctx, need: Awaits) -> Result<Viewer, Failure> {
        let (mut run, gui) = Gui::start(ctx, Launch::new())?;
        let path = ctx.workdir().join(FIFO);
        let clock = ctx.clock();
        let deadline = clock.deadline(APPEAR);
        let found = watch::wait_for_entry(&ctx.workdir(), FIFO, deadline, || !run.alive())
            .map_err(|e| Failure::fault(format!("watching the folder: {e}")))?;
        if !found {
            let how = ipc::ended(&mut run).unwrap_or_else(|| "it kept running".into());
            fail!(
                "expected {FIFO} in the program's folder within {} of its window opening; {how} without making it (os.mkfifo)",
                secs(APPEAR)
            );
        }
        if !fifo::is_fifo(&path) {
            let what = fifo::describe(&path).unwrap_or_else(|| "gone".into());
            ensure!(
                need == Awaits::Exists,
                "{FIFO} is {what}, not a FIFO: make it with os.mkfifo"
            );
            run.note(format!("{FIFO} is {what}, not a FIFO (`fifo` judges that)"));
        }
        Ok(Viewer {
            run,
            gui,
            path,
            clock,
        })
    }

    /// Writes `bytes` as one message (one open and close), then waits until the viewer has
    /// closed its end, so the next message is read on its own.
    fn send(&mut self, bytes: &[u8], what: &str) -> Result<(), Failure> {
        let fault = |e: std::io::Error| Failure::fault(format!("{e}"));
        let watch = PathWatch::opens_and_closes(&self.path).map_err(fault)?;
        let deadline = self.clock.deadline(TAKE);
        let run = &self.run;
        let Some(file) = open_writer(&self.path, deadline, || !run.alive()).map_err(fault)? else {
            let how = ipc::ended(&mut self.run).unwrap_or_else(|| "it kept running".into());
            fail!(
                "expected the viewer to open {FIFO} for reading (for {what}) within {}; {how} without opening it",
                secs(TAKE)
            );
        };
        let written = write_within(&file, bytes, deadline);
        drop(file);
        ensure!(
            written == bytes.len(),
            "the viewer took only {written} of the {} bytes of {what} within {}: read to end of file on each open",
            bytes.len(),
            secs(TAKE)
        );
        self.run.note(format!(
            "wrote {what} ({} bytes) through one open of {FIFO}",
            bytes.len()
        ));
        let mut counts = Counts::default();
        while counts.closes_read == 0 && watch.wait(deadline, &mut counts) {}
        if counts.closes_read == 0 {
            self.run.note(format!(
                "the viewer did not close {FIFO} within {} after {what}",
                secs(TAKE)
            ));
        }
        Ok(())
    }

    fn frame(&mut self, frame: &Rgba, what: &str) -> Result<(), Failure> {
        self.send(&frame.bytes, what)?;
        self.gui
            .shows(&mut self.run, None, frame, SHOW)
            .map_err(|f| f.context(format!("after {what}")))
    }
}

fn fifo(ctx: &mut Ctx) -> Verdict {
    let mut viewer = Viewer::start(ctx, Awaits::Fifo)?;
    viewer.gui.close(&mut viewer.run)?;
    Ok(format!("{FIFO} appeared in its folder as a FIFO"))
}

fn shows(ctx: &mut Ctx) -> Verdict {
    let mut viewer = Viewer::start(ctx, Awaits::Fifo)?;
    show_three(&mut viewer)?;
    Ok(SHOWN.into())
}

const SHOWN: &str =
    "three 400×400 frames, each through its own open, were each shown within 1 s, pixel for pixel";

/// Sends three 400×400 frames, each to be shown.
fn show_three(viewer: &mut Viewer) -> Result<(), Failure> {
    for k in 0..3 {
        let frame = pictures::test_frame(k, 400, 400);
        viewer.frame(&frame, &format!("frame {} of 400×400", k + 1))?;
    }
    Ok(())
}

fn resize(ctx: &mut Ctx) -> Verdict {
    let mut viewer = Viewer::start(ctx, Awaits::Fifo)?;
    resized(resize_then_show(&mut viewer))
}

/// Sends `resize 200 100` and a 200×100 frame: whether it was shown with red and blue
/// swapped (the colour order is `shows`' to judge: here the size and the pixels are).
fn resize_then_show(viewer: &mut Viewer) -> Result<bool, Failure> {
    viewer.send(b"resize 200 100", "`resize 200 100`")?;
    let frame = pictures::test_frame(5, 200, 100);
    let what = "a 200×100 frame after `resize 200 100`";
    viewer.send(&frame.bytes, what)?;
    viewer
        .gui
        .shows_in_either_order(&mut viewer.run, None, &frame, SHOW)
        .map_err(|f| f.context(format!("after {what}")))
}

fn resized(shown: Result<bool, Failure>) -> Verdict {
    let note = if shown? {
        ", pixel for pixel but for red and blue swapped (which `shows` judges)"
    } else {
        ", pixel for pixel"
    };
    Ok(format!(
        "after `resize 200 100` a 200×100 frame was shown at 200×100{note}"
    ))
}

fn close(ctx: &mut Ctx) -> Verdict {
    let mut viewer = Viewer::start(ctx, Awaits::Exists)?;
    let ended = viewer.gui.close_and_wait(&mut viewer.run, TAKE)?;
    closed(ended, std::fs::symlink_metadata(&viewer.path).is_ok())
}

fn closed(ended: bool, left: bool) -> Verdict {
    let how = if ended {
        "after the window was closed and the program ended"
    } else {
        "after the window was closed (it kept running)"
    };
    ensure!(
        !left,
        "{how}, {FIFO} was still there: remove it when the window closes (closeEvent, os.unlink)"
    );
    Ok(format!(
        "{FIFO} existed while the window was open; closing the window removed it"
    ))
}
