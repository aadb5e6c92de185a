//! One viewer for all four scenarios: the window comes up with its FIFO, three frames are
//! shown, then a resize and a smaller frame, then the window is closed. A later part is
//! judged from this run only when everything before it went as a correct viewer's would;
//! otherwise its scenario gets a run of its own, so that one defect costs one point.

use super::{closed, resize_then_show, resized, show_three, Awaits, Viewer, FIFO, SHOWN, TAKE};
use crate::ipc::fifo;
use crate::outcome::{Failure, Verdict};
use crate::run::Exit;
use crate::scenario::{Ctx, Judged, Shared};

/// What one viewer's run showed.
pub struct Viewed {
    /// What `imagefifo` was instead of a FIFO (no frame could go through it).
    pub not_fifo: Option<String>,
    /// The three frames.
    pub shows: Option<Result<(), Failure>>,
    /// The resize and its frame (whether red and blue were swapped); tried once the frames
    /// were shown.
    pub resize: Option<Result<bool, Failure>>,
    /// Closing the window; done once everything before went well.
    pub closed: Option<Closed>,
}

/// The window closed as a user would.
pub struct Closed {
    /// The program's exit after the close (the failure `fifo` gives when it kept running).
    pub exit: Result<Exit, Failure>,
    /// Whether it ended and whatever it started did too.
    pub ended: bool,
    /// Whether `imagefifo` was still there afterwards.
    pub left: bool,
}

pub static RUN: Shared<Viewed> = Shared {
    why: "the FIFO, the frames, the resize and the closing are one viewer's window, in turn",
    observe: view,
    judges: &[
        ("fifo", judge_fifo),
        ("shows", judge_shows),
        ("resize", judge_resize),
        ("close", judge_close),
    ],
};

fn view(ctx: &mut Ctx) -> Result<Viewed, Failure> {
    let mut viewer = Viewer::start(ctx, Awaits::Exists)?;
    let not_fifo = (!fifo::is_fifo(&viewer.path))
        .then(|| fifo::describe(&viewer.path).unwrap_or_else(|| "gone".into()));
    let mut seen = Viewed {
        not_fifo,
        shows: None,
        resize: None,
        closed: None,
    };
    if seen.not_fifo.is_some() {
        seen.closed = Some(close(&mut viewer));
        return Ok(seen);
    }
    let shows = show_three(&mut viewer);
    let went_well = shows.is_ok();
    seen.shows = Some(shows);
    if went_well {
        let resize = resize_then_show(&mut viewer);
        let went_well = resize.is_ok();
        seen.resize = Some(resize);
        if went_well {
            seen.closed = Some(close(&mut viewer));
        }
    }
    Ok(seen)
}

fn close(viewer: &mut Viewer) -> Closed {
    let (exit, ended) = viewer.gui.close_and_settle(&mut viewer.run, TAKE);
    Closed {
        exit,
        ended,
        left: std::fs::symlink_metadata(&viewer.path).is_ok(),
    }
}

/// The failure a scenario sending frames meets when `imagefifo` is no FIFO.
fn no_fifo(what: &str) -> Verdict {
    Err(Failure::fail(format!(
        "{FIFO} is {what}, not a FIFO: make it with os.mkfifo"
    )))
}

fn judge_fifo(v: &Viewed) -> Judged {
    if let Some(what) = &v.not_fifo {
        return no_fifo(what).into();
    }
    match &v.closed {
        None => Judged::Alone("the frames before the closing did not go as a correct viewer's"),
        Some(c) => c
            .exit
            .clone()
            .map(|_| format!("{FIFO} appeared in its folder as a FIFO"))
            .into(),
    }
}

fn judge_shows(v: &Viewed) -> Judged {
    match (&v.not_fifo, &v.shows) {
        (Some(what), _) => no_fifo(what).into(),
        (None, Some(r)) => r.clone().map(|()| SHOWN.to_string()).into(),
        (None, None) => Judged::Alone("the frames were not sent"),
    }
}

fn judge_resize(v: &Viewed) -> Judged {
    match (&v.not_fifo, &v.resize) {
        (Some(what), _) => no_fifo(what).into(),
        (None, Some(r)) => resized(r.clone()).into(),
        (None, None) => Judged::Alone("the frames before the resize were not all shown"),
    }
}

fn judge_close(v: &Viewed) -> Judged {
    match &v.closed {
        Some(c) => closed(c.ended, c.left).into(),
        None => Judged::Alone("the frames before the closing did not go as a correct viewer's"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn correct() -> Viewed {
        Viewed {
            not_fifo: None,
            shows: Some(Ok(())),
            resize: Some(Ok(false)),
            closed: Some(Closed {
                exit: Ok(Exit::Code(0)),
                ended: true,
                left: false,
            }),
        }
    }

    use crate::scenario::shared::decided as verdict;

    #[test]
    fn a_correct_viewer_passes_all_four() {
        let v = correct();
        for (id, judge) in RUN.judges {
            assert!(verdict(judge(&v)).is_ok(), "{id}");
        }
    }

    #[test]
    fn a_frame_not_shown_fails_shows_and_the_rest_get_runs_of_their_own() {
        let v = Viewed {
            shows: Some(Err(Failure::fail("frame 2 not shown"))),
            resize: None,
            closed: None,
            ..correct()
        };
        assert_eq!(
            verdict(judge_shows(&v)).unwrap_err().message,
            "frame 2 not shown"
        );
        for judge in [judge_fifo, judge_resize, judge_close] {
            assert!(matches!(judge(&v), Judged::Alone(_)));
        }
    }

    #[test]
    fn a_regular_file_fails_fifo_shows_and_resize_but_close_is_judged() {
        let v = Viewed {
            not_fifo: Some("a regular file".into()),
            shows: None,
            resize: None,
            ..correct()
        };
        for judge in [judge_fifo, judge_shows, judge_resize] {
            let f = verdict(judge(&v)).unwrap_err();
            assert!(
                f.message.ends_with("not a FIFO: make it with os.mkfifo"),
                "{}",
                f.message
            );
        }
        assert!(verdict(judge_close(&v)).is_ok());
    }

    #[test]
    fn a_fifo_left_after_closing_fails_close_only() {
        let mut v = correct();
        if let Some(c) = v.closed.as_mut() {
            c.left = true;
        }
        assert!(verdict(judge_close(&v)).is_err());
        assert!(verdict(judge_fifo(&v)).is_ok());
    }
}
