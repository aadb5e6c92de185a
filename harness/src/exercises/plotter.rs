//! `plotter` (the student project's p5_hw8.py): a background thread reads numbers from
//! standard input into a shared value while the main thread animates a scrolling plot of it.
//!
//! What is on screen is judged from frame records: one JSON line per frame in the file named
//! by `SYSGRADE_PLOT_RECORD` (`{"t": …, "lines": [{"n": points, "x": last x, "y": last y}]}`).
//! Python programs get them from a matplotlib backend the harness supplies
//! (`MPLBACKEND=module://mpl_sysgrade_backend`, assets/mpl_sysgrade_backend.py), which drives
//! the figures' timers without a display; other programs write them themselves (the reference
//! does). The same scenarios decide for both.

mod frames;
mod judge;

use super::Exercise;
use crate::clock::Clock;
use crate::fail;
use crate::outcome::{Failure, Status, Verdict};
use crate::run::procfs;
use crate::run::transcript::Source;
use crate::run::Run;
use crate::scenario::{tools::MATPLOTLIB, Need};
use crate::scenario::{Ctx, Judged, Launch, Scenario, Shared};
use crate::text::{quote, re};
use frames::Frames;
use judge::{Animation, BadInput, Plotted, Without};
use std::time::{Duration, Instant};

/// A Python program using matplotlib is `skip` where it cannot be imported.
const NEEDS: &[Need] = &[Need::Module(MATPLOTLIB)];

pub static EXERCISE: Exercise = Exercise {
    id: "plotter",
    lecture: &[],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "animates",
            "at least 10 frames a second while input is idle",
            animates,
        )
        .shared(&RUN)
        .requires(NEEDS),
        Scenario::new("tracks", "a typed number is plotted within 1 s", tracks)
            .shared(&RUN)
            .requires(NEEDS),
        Scenario::new(
            "bad_input",
            "`abc` prints `Input must be a number.`; it keeps running and tracking",
            bad_input,
        )
        .shared(&RUN)
        .requires(NEEDS),
    ],
};

/// The matplotlib backend, written into a folder put on PYTHONPATH for the run.
const BACKEND: &str = include_str!("../../assets/mpl_sysgrade_backend.py");
const BACKEND_MODULE: &str = "mpl_sysgrade_backend";
/// The variable naming the frame record file.
pub const RECORD_VAR: &str = "SYSGRADE_PLOT_RECORD";
const INSTALL: &str = MATPLOTLIB.install;
/// Start-up (importing matplotlib) may be slow: the first frame may take this long.
const FIRST_FRAME: Duration = Duration::from_secs(10);
const WINDOW: Duration = Duration::from_secs(1);
const MIN_FRAMES: usize = 10;
const TRACK_WITHIN: Duration = Duration::from_secs(1);
/// Before typing, a person waits to see the plot move: this many intervals at a steady rate.
const STEADY: usize = 4;
/// Typing goes ahead anyway (and the transcript says so) when the plot has neither moved
/// steadily nor waited for input on its main thread this long after its first frame.
const READY_WITHIN: Duration = Duration::from_secs(3);
/// The size of the report's chart of the plotted value.
const CHART: (u32, u32) = (160, 80);
const MESSAGE: &str = r"must be a number|not a (valid )?number";

/// A started plotter and the frames it drew.
struct Plot {
    run: Run,
    frames: Frames,
    clock: Clock,
}

impl Plot {
    /// Starts the program with the record file (and, for Python, the backend) in place.
    fn start(ctx: &mut Ctx) -> Result<Plot, Failure> {
        let mut launch = Launch::new();
        if ctx.program().is_python() && uses_matplotlib(ctx) {
            let (python, _) = ctx.program().command(&ctx.copy_root());
            if !crate::python::has_matplotlib(&python) {
                return Err(Failure::missing(&["matplotlib"], format!(
                    "{} cannot import matplotlib; install it with `{INSTALL}` (or `pip install matplotlib` for that interpreter)",
                    python.display()
                )));
            }
            let dir = ctx.scratch().join("mpl");
            std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(dir.join(format!("{BACKEND_MODULE}.py")), BACKEND))
                .map_err(|e| Failure::fault(format!("writing the backend: {e}")))?;
            launch = launch
                .env("MPLBACKEND", format!("module://{BACKEND_MODULE}"))
                .env("PYTHONPATH", dir.display().to_string());
        }
        let record = ctx.scratch().join("frames.jsonl");
        let frames = Frames::create(&record, ctx.identity())
            .map_err(|e| Failure::fault(format!("creating the frame record: {e}")))?;
        launch = launch.env(RECORD_VAR, record.display().to_string());
        let run = ctx.start(launch)?;
        Ok(Plot {
            run,
            frames,
            clock: ctx.clock(),
        })
    }

    /// Waits for the first frame.
    fn first_frame(&mut self) -> Result<(), Failure> {
        if self
            .frames
            .wait(&self.run, self.clock.real(FIRST_FRAME), |f| !f.is_empty())
        {
            return Ok(());
        }
        let what = format!(
            "expected a first frame within {} s (a matplotlib figure shown with plt.show(), or for other languages frame records written to ${RECORD_VAR})",
            FIRST_FRAME.as_secs()
        );
        Err(self.stopped(what.clone()).unwrap_or_else(|| {
            Failure::timeout(format!("{what}; it kept running without drawing"))
        }))
    }

    /// Waits until a person could type: the plot moves at its own steady rate (an animation
    /// that resets its value on its first tick has ticked), or the program waits for input on
    /// its main thread (it draws only when a number comes). Neither within [`READY_WITHIN`]:
    /// it types anyway and says so in the transcript.
    fn ready(&mut self) -> Result<(), Failure> {
        let pid = self.run.pid();
        let mut sign = None;
        self.frames
            .wait(&self.run, self.clock.real(READY_WITHIN), |frames| {
                sign = match frames::steady(frames, STEADY) {
                    Some(every) => Some(format!(
                        "the plot moves at a steady rate, a frame every {every:.3} s: typing, as a person would once it moves"
                    )),
                    None if crate::run::activity::main_thread_reads_stdin(pid) == Some(true) => Some(
                        "the program waits for standard input on its main thread: typing".into(),
                    ),
                    None => None,
                };
                sign.is_some()
            });
        let what = format!(
            "expected the plot to keep running after its first frame (for {} s)",
            READY_WITHIN.as_secs()
        );
        if let Some(f) = self.stopped(what) {
            return Err(f);
        }
        self.run.note(sign.unwrap_or_else(|| {
            format!(
                "the plot did not move at a steady rate within {} s of its first frame ({} frame(s) drawn): typing anyway",
                READY_WITHIN.as_secs(),
                self.frames.len()
            )
        }));
        Ok(())
    }

    /// A failure saying the program ended, if it did.
    fn stopped(&self, what: String) -> Option<Failure> {
        let exit = self.run.exit()?;
        let last = self.run.lines(Source::Stderr).pop();
        let said = last.map_or_else(String::new, |l| {
            format!(" (its last error line: {})", quote(&l))
        });
        Some(Failure::fail(format!(
            "{what}; the program {} first{said}",
            crate::run::describe_exit(exit)
        )))
    }

    /// Types `text` and waits for a frame whose line ends at `value`.
    fn track(&mut self, text: &str, value: f64) -> Result<(), Failure> {
        let from = self.frames.len();
        self.run.write_stdin(&format!("{text}\n"))?;
        let hit = |f: &[frames::Frame]| f[from.min(f.len())..].iter().any(|fr| fr.shows(value));
        if self
            .frames
            .wait(&self.run, self.clock.real(TRACK_WITHIN), hit)
        {
            return Ok(());
        }
        let what =
            format!("after typing {text}, expected the plotted line to reach {text} within 1 s");
        if let Some(f) = self.stopped(what.clone()) {
            return Err(f);
        }
        let drawn = self.frames.len().saturating_sub(from);
        if drawn == 0 {
            fail!("{what}; no frame was drawn at all in that time");
        }
        let last = self.frames.last_values();
        fail!("{what}; {drawn} frame(s) were drawn, the last one ending at {last}");
    }
}

/// Whether the program's source mentions matplotlib (then it needs it installed).
fn uses_matplotlib(ctx: &Ctx) -> bool {
    let source = ctx.copy_root().join(&ctx.program().found.source);
    std::fs::read_to_string(source).is_ok_and(|s| s.contains("matplotlib"))
}

fn animates(ctx: &mut Ctx) -> Verdict {
    let mut plot = Plot::start(ctx)?;
    plot.first_frame()?;
    judge::animates(&watch_animation(&mut plot))
}

/// Watches the plot while nothing is typed: [`MIN_FRAMES`] within a second, or, when it
/// draws only slowly, two seconds more and how long it waited for a CPU.
fn watch_animation(plot: &mut Plot) -> Animation {
    let from = plot.frames.len();
    let waited_before = procfs::run_queue_wait_ns(plot.run.pid()).unwrap_or(0);
    let started = Instant::now();
    let window = plot.clock.real(WINDOW);
    if plot
        .frames
        .wait(&plot.run, window, |f| f.len() >= from + MIN_FRAMES)
    {
        return Animation::Enough;
    }
    if let Some(f) = plot.stopped(judge::ANIMATES.to_string()) {
        return Animation::Stopped(f);
    }
    let got = plot.frames.len() - from;
    if got < 2 {
        return Animation::Stalled { got };
    }
    // It draws, only slowly: a machine too busy to run it, or a slow program? Look
    // longer, and at how long the program waited for a CPU.
    plot.frames.wait(&plot.run, window * 2, |_| false);
    let drawn = plot.frames.len() - from;
    let rate = drawn as f64 / started.elapsed().as_secs_f64();
    let waited = procfs::run_queue_wait_ns(plot.run.pid())
        .unwrap_or(0)
        .saturating_sub(waited_before);
    let starved = waited as f64 / 1e9 / started.elapsed().as_secs_f64();
    Animation::Slow {
        drawn,
        rate,
        starved,
    }
}

fn tracks(ctx: &mut Ctx) -> Verdict {
    let mut plot = Plot::start(ctx)?;
    plot.first_frame()?;
    judge::tracks(&track_two(&mut plot))
}

/// Waits until a person would type, then types `5` and `2`, each to be plotted.
fn track_two(plot: &mut Plot) -> Result<(), Failure> {
    plot.ready()?;
    // Whole numbers only, as the description has it (fractions and negative numbers would
    // be a scenario of their own).
    plot.track("5", 5.0)?;
    plot.track("2", 2.0)
}

fn bad_input(ctx: &mut Ctx) -> Verdict {
    let mut plot = Plot::start(ctx)?;
    plot.first_frame()?;
    plot.ready()?;
    let seen = type_bad_input(&mut plot)?;
    match judge::bad_input(&seen, Without::NotRun) {
        Judged::Verdict(v) => v,
        Judged::Alone(_) => {
            // Whether it is the bad input that stopped the tracking: a run without it
            // tells. A program that plots no number at all loses `tracks` for that, not
            // this scenario as well.
            plot.run.finish();
            let without = Without::Ran(tracks_without_bad_input(ctx));
            judge::bad_input(&seen, without).verdict()
        }
    }
}

/// Types `abc` and records the answer, whether the program kept running, and whether it
/// then plotted `7`. A failure to type is the `Err` (the program's input closed).
fn type_bad_input(plot: &mut Plot) -> Result<BadInput, Failure> {
    let before = plot.run.lines(Source::Stderr).len();
    plot.run.write_stdin("abc\n")?;
    let message = plot
        .run
        .expect_described(
            Source::Stderr,
            &re(MESSAGE),
            "`Input must be a number.`",
            TRACK_WITHIN,
        )
        .map(|_| ());
    let said = plot.run.lines(Source::Stderr).split_off(before);
    let raised = raised(&said, &plot.run);
    // Only an answered `abc` is followed: whether it kept running, then whether `7` is plotted.
    let answered = message.is_ok();
    let ended = (answered && !plot.run.alive()).then(|| {
        plot.run
            .exit()
            .map_or_else(|| "stopped".to_string(), crate::run::describe_exit)
    });
    let seven = if answered && ended.is_none() {
        plot.track("7", 7.0)
    } else {
        Ok(())
    };
    Ok(BadInput {
        message,
        said,
        raised,
        ended,
        seven,
    })
}

/// One run for all three scenarios: the plot watched while nothing is typed, then `5` and
/// `2` typed, then `abc` and `7`.
fn plotted(ctx: &mut Ctx) -> Result<Plotted, Failure> {
    let mut plot = Plot::start(ctx)?;
    plot.first_frame()?;
    let animation = watch_animation(&mut plot);
    let tracking = track_two(&mut plot);
    let bad = match &tracking {
        Ok(()) => Some(type_bad_input(&mut plot)),
        Err(_) => None,
    };
    // For the HTML report: the plotted value over time against the values typed.
    let chart = plot.frames.chart(&[5.0, 2.0, 7.0], CHART.0, CHART.1);
    plot.run.keep_picture(
        "plotted value over time (blue), values typed (red)",
        CHART.0,
        CHART.1,
        &chart,
        4,
    );
    Ok(Plotted {
        animation,
        tracking,
        bad,
    })
}

/// The three scenarios share one run: each part is typed after the one before it.
/// `bad_input` gets a run of its own when tracking failed there (a crash on the first
/// number typed leaves nothing to type `abc` into).
static RUN: Shared<Plotted> = Shared {
    why: "the animation, the tracking and the bad input are one plotter's run, typed in turn",
    observe: plotted,
    judges: &[
        ("animates", |p| judge::animates(&p.animation).into()),
        ("tracks", |p| judge::tracks(&p.tracking).into()),
        ("bad_input", |p| match &p.bad {
            None => Judged::Alone("the tracking before it failed"),
            Some(Err(f)) => Judged::Verdict(Err(f.clone())),
            // Tracking worked in this very run: `abc` is what stopped it, if anything.
            Some(Ok(seen)) => judge::bad_input(seen, Without::Ran(Some(true))),
        }),
    ],
};

/// A second run, typing `7` with no `abc` before it: whether the plotted line reaches 7
/// (`None` when the run could not get that far).
fn tracks_without_bad_input(ctx: &mut Ctx) -> Option<bool> {
    let mut plot = Plot::start(ctx).ok()?;
    plot.run
        .note("a run without `abc`, to tell whether `abc` is what stopped the tracking");
    plot.first_frame().ok()?;
    plot.ready().ok()?;
    match plot.track("7", 7.0) {
        Ok(()) => Some(true),
        Err(f) if f.status == Status::Fail => Some(false),
        Err(_) => None,
    }
}

/// What a Python traceback among `said` shows: the exception, and whether the program or only
/// its input thread ended.
fn raised(said: &[String], run: &Run) -> Option<String> {
    let start = said
        .iter()
        .position(|l| l.starts_with("Traceback (most recent call last)"))?;
    let error = said[start..]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with(' '))?;
    let thread = start
        .checked_sub(1)
        .map(|i| said[i].as_str())
        .filter(|l| l.starts_with("Exception in thread"));
    let ended = match (run.exit(), thread) {
        (Some(exit), _) => format!("; the program {}", crate::run::describe_exit(exit)),
        (None, Some(_)) => {
            "; the thread reading input ended (the program kept running, but nothing typed is read any more)".to_string()
        }
        (None, None) => String::new(),
    };
    Some(format!(
        "it raised {} instead (a traceback on standard error){ended}",
        quote(error.trim())
    ))
}
