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
use crate::run::{secs, Exit, Run};
use crate::scenario::{tools::PYQT6, Need};
use crate::scenario::{Ctx, Judged, Launch, Scenario, Shared};
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
        .shared(&RUN)
        .requires(NEEDS),
        Scenario::new(
            "shows",
            "an image written into imageMap is shown within 1 s",
            shows,
        )
        .shared(&RUN)
        .requires(NEEDS),
        Scenario::new("close", "closing the window unlinks imageMap", close)
            .shared(&RUN)
            .requires(NEEDS),
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
    Ok(CREATED.into())
}

const CREATED: &str = "imageMap existed with 640000 bytes while the window was open";
const SHOWN: &str = "two images written into imageMap were each shown within 1 s, pixel for pixel";

fn shows(ctx: &mut Ctx) -> Verdict {
    // A 400×400 image is written into it: the size comes first.
    let mut viewer = Viewer::start(ctx, Awaits::Size)?;
    show_two(&mut viewer)?;
    Ok(SHOWN.into())
}

/// Writes two images into the segment, each to be shown.
fn show_two(viewer: &mut Viewer) -> Result<(), Failure> {
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
    Ok(())
}

fn close(ctx: &mut Ctx) -> Verdict {
    let mut viewer = Viewer::start(ctx, Awaits::Exists)?;
    let ended = viewer.gui.close_and_wait(&mut viewer.run, HELPERS)?;
    unlinked(ended, viewer.path.exists())
}

fn unlinked(ended: bool, left: bool) -> Verdict {
    let how = if ended {
        "after the window was closed and the program ended"
    } else {
        "after the window was closed (it kept running)"
    };
    ensure!(
        !left,
        "{how}, {SEGMENT} still existed: the viewer owns the segment and unlinks it when its window closes (shm.close(); shm.unlink())"
    );
    Ok(format!(
        "{SEGMENT} existed while the window was open; closing the window unlinked it"
    ))
}

/// What one viewer's run showed: its start (the segment with its size), the two images,
/// and the closing (done once the images were shown).
struct Viewed {
    started: Result<(), Failure>,
    shows: Option<Result<(), Failure>>,
    /// The exit after the close, whether it and its helpers ended, whether the segment was
    /// left.
    closed: Option<(Result<Exit, Failure>, bool, bool)>,
}

/// One window for all three; `close` and `created` (which both close it) are judged from it
/// only when the images were shown as a correct viewer shows them, else in runs of their own.
static RUN: Shared<Viewed> = Shared {
    why: "the segment, the images shown and the closing are one viewer's window, in turn",
    observe: view,
    judges: &[
        ("created", |v| match (&v.started, &v.closed) {
            (Err(f), _) => Judged::Verdict(Err(f.clone())),
            (Ok(()), Some((exit, _, _))) => exit.clone().map(|_| CREATED.to_string()).into(),
            (Ok(()), None) => Judged::Alone("the images before the closing were not shown"),
        }),
        ("shows", |v| match (&v.started, &v.shows) {
            (Err(f), _) => Judged::Verdict(Err(f.clone())),
            (Ok(()), Some(r)) => r.clone().map(|()| SHOWN.to_string()).into(),
            (Ok(()), None) => Judged::Alone("no image was written"),
        }),
        ("close", |v| match &v.closed {
            Some((_, ended, left)) => unlinked(*ended, *left).into(),
            None => Judged::Alone("the window was not closed in this run"),
        }),
    ],
};

fn view(ctx: &mut Ctx) -> Result<Viewed, Failure> {
    let mut viewer = match Viewer::start(ctx, Awaits::Size) {
        Ok(v) => v,
        // `close` needs the segment only to exist: it gets a run of its own.
        Err(f) => {
            return Ok(Viewed {
                started: Err(f),
                shows: None,
                closed: None,
            })
        }
    };
    let shows = show_two(&mut viewer);
    let closed = shows.is_ok().then(|| {
        let (exit, ended) = viewer.gui.close_and_settle(&mut viewer.run, HELPERS);
        (exit, ended, viewer.path.exists())
    });
    Ok(Viewed {
        started: Ok(()),
        shows: Some(shows),
        closed,
    })
}

#[cfg(test)]
mod judges {
    use super::*;

    use crate::scenario::shared::decided as verdict;

    fn correct() -> Viewed {
        Viewed {
            started: Ok(()),
            shows: Some(Ok(())),
            closed: Some((Ok(Exit::Code(0)), true, false)),
        }
    }

    #[test]
    fn a_correct_viewer_passes_all_three() {
        let v = correct();
        for (id, judge) in RUN.judges {
            assert!(verdict(judge(&v)).is_ok(), "{id}");
        }
    }

    #[test]
    fn an_image_not_shown_fails_shows_and_the_closing_scenarios_run_alone() {
        let v = Viewed {
            shows: Some(Err(Failure::fail("image 1 not shown"))),
            closed: None,
            ..correct()
        };
        assert!(verdict((RUN.judges[1].1)(&v)).is_err());
        assert!(matches!((RUN.judges[0].1)(&v), Judged::Alone(_)));
        assert!(matches!((RUN.judges[2].1)(&v), Judged::Alone(_)));
    }

    #[test]
    fn a_segment_of_the_wrong_size_fails_created_and_shows_while_close_runs_alone() {
        let v = Viewed {
            started: Err(Failure::fail("imageMap has 100 bytes")),
            shows: None,
            closed: None,
        };
        assert!(verdict((RUN.judges[0].1)(&v)).is_err());
        assert!(verdict((RUN.judges[1].1)(&v)).is_err());
        assert!(matches!((RUN.judges[2].1)(&v), Judged::Alone(_)));
    }

    #[test]
    fn a_segment_left_after_closing_fails_close_only() {
        let v = Viewed {
            closed: Some((Ok(Exit::Code(0)), true, true)),
            ..correct()
        };
        assert!(verdict((RUN.judges[2].1)(&v)).is_err());
        assert!(verdict((RUN.judges[0].1)(&v)).is_ok());
    }
}
