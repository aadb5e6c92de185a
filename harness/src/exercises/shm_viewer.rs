//! `shm_viewer` (ImageSharedMemory/DisplayPixmap.py): a PyQt window that creates the shared
//! memory segment `imageMap` (width×height×4 bytes), shows its content as an RGBA image,
//! redrawing on a timer, and unlinks the segment when the window closes.
//!
//! The harness finds the segment in the run's private /dev/shm, writes images into it through
//! its own descriptor and compares the pixels the label shows (through `crate::gui`). Its size
//! is `created`'s (and `shows`', which writes a 400×400 image into it); `close` judges only its
//! removal. `created` closes the window and expects the exit; the others end by closing it in
//! the run's teardown, unjudged.

use super::Exercise;
use crate::gui::{pictures, Gui, Rgba};
use crate::ipc::{self, IMAGE_BYTES as SIZE, IMAGE_SEGMENT, IMAGE_SEGMENT as SEGMENT};
use crate::outcome::{Failure, Verdict};
use crate::run::{secs, Run};
use crate::scenario::{tools::PYQT6, Need};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::{ensure, fail};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::Duration;

/// A Python program using PyQt6 is `skip` where it cannot be imported.
const NEEDS: &[Need] = &[Need::Module(PYQT6)];

pub static EXERCISE: Exercise = Exercise {
    id: "shm_viewer",
    lecture: &["ImageSharedMemory/DisplayPixmap.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[IMAGE_SEGMENT],
    scenarios: &[
        Scenario::new(
            "created",
            "imageMap exists with 400×400×4 bytes while the window is open",
            created,
        )
        .requires(NEEDS),
        Scenario::new(
            "shows",
            "an image written into imageMap is shown within 1 s",
            shows,
        )
        .requires(NEEDS),
        Scenario::new("close", "closing the window unlinks imageMap", close).requires(NEEDS),
    ],
};

/// After the window is up, for the segment to appear with its size.
const APPEAR: Duration = Duration::from_secs(2);
const SHOW: Duration = Duration::from_secs(1);
/// For descendants (Python's resource tracker) to finish after the program.
const HELPERS: Duration = Duration::from_secs(5);

struct Viewer {
    run: Run,
    gui: Gui,
    path: PathBuf,
}

/// What a scenario needs of the segment before it goes on.
#[derive(Clone, Copy, PartialEq)]
enum Awaits {
    /// 400×400×4 bytes: an image is read from it or written into it.
    Size,
    /// Only that it exists: `close` is about its removal, whatever its size.
    Exists,
}

impl Viewer {
    /// Starts the viewer and waits for its segment (polled: no event reaches the harness
    /// from the run's /dev/shm).
    fn start(ctx: &mut Ctx, need: Awaits) -> Result<Viewer, Failure> {
        let (mut run, gui) = Gui::start(ctx, Launch::new())?;
        let path = run.reach().shm_path(SEGMENT);
        let deadline = ctx.within(APPEAR);
        let size = || std::fs::metadata(&path).ok().map(|m| m.len());
        let ready = |n: Option<u64>| match need {
            Awaits::Size => n == Some(SIZE as u64),
            Awaits::Exists => n.is_some(),
        };
        let found = ipc::poll_state(deadline, || ready(size()).then_some(()));
        match (found, size()) {
            (Some(()), Some(n)) if n != SIZE as u64 => run.note(format!(
                "{SEGMENT} has {n} bytes (400×400×4 = {SIZE} expected; `created` judges that)"
            )),
            (Some(()), _) => {}
            (None, Some(n)) => fail!(
                "{SEGMENT} has {n} bytes while the window is open; expected 400×400×4 = {SIZE}"
            ),
            (None, None) => {
                let how = ipc::ended(&mut run).unwrap_or_else(|| "it kept running".into());
                fail!(
                    "expected the segment {SEGMENT} within {} of the window opening; {how} without creating it",
                    secs(APPEAR)
                )
            }
        }
        Ok(Viewer { run, gui, path })
    }
}

fn created(ctx: &mut Ctx) -> Verdict {
    let mut viewer = Viewer::start(ctx, Awaits::Size)?;
    viewer.gui.close(&mut viewer.run)?;
    Ok(format!(
        "{SEGMENT} existed with {SIZE} bytes while the window was open"
    ))
}

fn shows(ctx: &mut Ctx) -> Verdict {
    // A 400×400 image is written into it: the size comes first.
    let mut viewer = Viewer::start(ctx, Awaits::Size)?;
    let segment = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&viewer.path)
        .map_err(|e| Failure::fail(format!("could not open {SEGMENT} to write an image: {e}")))?;
    for k in 0..2 {
        let image: Rgba = pictures::test_frame(k + 7, 400, 400);
        segment
            .write_all_at(&image.bytes, 0)
            .map_err(|e| Failure::fail(format!("could not write into {SEGMENT}: {e}")))?;
        viewer
            .run
            .note(format!("wrote image {} into {SEGMENT}", k + 1));
        viewer
            .gui
            .shows(&mut viewer.run, None, &image, SHOW)
            .map_err(|f| f.context(format!("after image {} was written into {SEGMENT}", k + 1)))?;
    }
    Ok(format!(
        "two images written into {SEGMENT} were each shown within 1 s, pixel for pixel"
    ))
}

fn close(ctx: &mut Ctx) -> Verdict {
    let mut viewer = Viewer::start(ctx, Awaits::Exists)?;
    let ended = viewer.gui.close_and_wait(&mut viewer.run, HELPERS)?;
    let how = if ended {
        "after the window was closed and the program ended"
    } else {
        "after the window was closed (it kept running)"
    };
    ensure!(
        !viewer.path.exists(),
        "{how}, {SEGMENT} still existed: the viewer owns the segment and unlinks it when its window closes (shm.close(); shm.unlink())"
    );
    Ok(format!(
        "{SEGMENT} existed while the window was open; closing the window unlinked it"
    ))
}
