//! `make_movie` (Subprocess/make_movie.py, with ../ByteImage/ByteImage.py): starts
//! `ffmpeg -f rawvideo -pixel_format rgba -video_size 400x400 -framerate 24 -i - -vcodec
//! mpeg4 -y movie.mp4` and writes 200 frames of random lines on white to its input.
//!
//! An `ffmpeg` shim first on PATH (a python3 script) records its arguments, pid and parents,
//! counts every byte it reads, feeds them to the real ffmpeg, waits for it and records the
//! count and ffmpeg's exit code. The start judged is the one reading standard input and
//! writing movie.mp4 (`ffmpeg -version` before it is not). Whether the program waited for
//! ffmpeg is known from waitpid: the run's supervisor (the subreaper) reaps only what the
//! program left behind — a shim the program waited for (itself, or through a shell it waited
//! for) never reaches it. (Whether ffmpeg was "still running" when the program exited
//! is a race when a program closes ffmpeg's input and exits without waiting; who reaped it is
//! not.) The real ffmpeg's messages go to a log the feedback quotes, since they vary with its
//! version. Every scenario lets ffmpeg finish before judging, even when the program did not
//! wait for it.

mod video;

use super::Exercise;
use crate::clock::Clock;
use crate::outcome::{Failure, Status, Verdict};
use crate::probe::{self, Records};
use crate::run::Exit;
use crate::run::ExpectExit;
use crate::run::{describe_exit, Run};
use crate::scenario::tools::{FFMPEG, FFPROBE};
use crate::scenario::{shared, Ctx, Launch, Scenario, Shared};
use crate::settings::which;
use crate::{ensure, fail};
use nix::sys::signal::Signal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub static EXERCISE: Exercise = Exercise {
    id: "make_movie",
    lecture: &["Subprocess/make_movie.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "piped",
            "exactly 200 × 400 × 400 × 4 bytes reach ffmpeg's input",
            piped,
        )
        .shared(&RUN)
        .needs(&[FFMPEG, FFPROBE]),
        Scenario::new(
            "video",
            "movie.mp4: MPEG-4, 400×400, 200 frames at 24 fps, lines on white",
            video,
        )
        .shared(&RUN)
        .needs(&[FFMPEG, FFPROBE]),
        Scenario::new(
            "waits",
            "ffmpeg's input closed and ffmpeg waited for before the program exits",
            waits,
        )
        .shared(&RUN)
        .needs(&[FFMPEG, FFPROBE]),
    ],
};

/// The ffmpeg shim (a python3 script; `@REAL@`, `@FFLOG@` and `@EXPECTED@` filled in).
const SHIM: &str = include_str!("make_movie/shim.py");

const FRAME_BYTES: u64 = video::WIDTH * video::HEIGHT * 4;
const EXPECTED_BYTES: u64 = video::FRAMES * FRAME_BYTES;
/// How long the program may take (the lecture's pure-Python drawing takes seconds).
const EXIT_WAIT: Duration = Duration::from_secs(90);
/// How long ffmpeg may take to finish once its input is closed (generous: a loaded machine
/// encodes slowly, and only a program that never closes ffmpeg's input waits this out).
const DRAIN_WAIT: Duration = Duration::from_secs(60);
/// How long everything may stand still after the last byte before it counts as a deadlock.
const STALL: Duration = Duration::from_secs(5);
/// How often the deadlock is looked for while waiting for the program.
const SLICE: Duration = Duration::from_millis(500);
const TOOL_WAIT: Duration = Duration::from_secs(60);

/// A run with the shim in place, ffmpeg finished.
struct Observed {
    run: Run,
    exit: Exit,
    /// The shim's start records (none when ffmpeg was not started through PATH).
    starts: Vec<Value>,
    /// The shim's done records.
    dones: Vec<Value>,
    log: PathBuf,
}

/// Whether ffmpeg's arguments read its input from standard input (`-i -`, `-i pipe:`).
fn reads_stdin(argv: &[String]) -> bool {
    argv.windows(2)
        .any(|w| w[0] == "-i" && matches!(w[1].as_str(), "-" | "pipe:" | "pipe:0" | "/dev/stdin"))
}

/// Whether ffmpeg's arguments name movie.mp4 (in any folder) as a file.
fn writes_movie(argv: &[String]) -> bool {
    argv.iter().any(|a| {
        std::path::Path::new(a)
            .file_name()
            .is_some_and(|n| n == "movie.mp4")
    })
}

fn field(record: &Value, name: &str) -> i64 {
    record.get(name).and_then(Value::as_i64).unwrap_or(-1)
}

/// The last lines of ffmpeg's own messages, for feedback.
fn log_tail(log: &std::path::Path) -> String {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(2)..].join(" | ");
    if tail.is_empty() {
        String::new()
    } else {
        format!("; ffmpeg said: {}", crate::text::quote(&tail))
    }
}

fn observe(ctx: &mut Ctx) -> Result<Observed, Failure> {
    let real = which("ffmpeg")
        .ok_or_else(|| Failure::missing(&["ffmpeg"], "`ffmpeg` is not installed"))?;
    let records = Records::create(ctx, "ffmpeg")?;
    let log = records.dir().join("ffmpeg.log");
    let shim_dir = ctx.scratch().join("shim");
    std::fs::create_dir_all(&shim_dir)
        .map_err(|e| Failure::fault(format!("making the shim folder: {e}")))?;
    let body = SHIM
        .replace("@REAL@", &probe::py_str(&real.to_string_lossy()))
        .replace("@FFLOG@", &probe::py_str(&log.to_string_lossy()))
        .replace("@EXPECTED@", &EXPECTED_BYTES.to_string());
    let python = ctx.settings().python.clone();
    records.install(&shim_dir.join("ffmpeg"), &python, &body)?;
    let mut run = ctx.start(Launch::new().path_first(&shim_dir))?;
    let clock = ctx.clock();
    let exited = wait_program(&mut run, &records, clock);
    if let Err(f) = &exited {
        if f.status == Status::Timeout {
            // End the program so that ffmpeg gets end of input and finishes before hygiene.
            let _ = run.signal(Signal::SIGKILL);
        }
    }
    let (_, recs) = records.wait(DRAIN_WAIT, clock, |r| {
        probe::events(r, "start").len() <= probe::events(r, "done").len()
    });
    records.note_rejected(&run);
    let starts: Vec<Value> = probe::events(&recs, "start").into_iter().cloned().collect();
    let dones: Vec<Value> = probe::events(&recs, "done").into_iter().cloned().collect();
    let exit = exited?;
    Ok(Observed {
        run,
        exit,
        starts,
        dones,
        log,
    })
}

/// The most bytes the shims had counted.
fn most_bytes(records: &[Value]) -> i64 {
    ["progress", "done"]
        .iter()
        .flat_map(|e| probe::events(records, e))
        .map(|r| field(r, "bytes"))
        .max()
        .unwrap_or(0)
}

/// Waits for the program to exit. Once every byte has reached ffmpeg, neither it nor the
/// program ending within [`STALL`] is a deadlock (ffmpeg waiting for end of input, the
/// program waiting for ffmpeg): a timeout then, without waiting out [`EXIT_WAIT`].
fn wait_program(run: &mut Run, records: &Records, clock: Clock) -> Result<Exit, Failure> {
    let deadline = Instant::now() + clock.real(EXIT_WAIT);
    let mut complete_since: Option<Instant> = None;
    loop {
        match run.let_exit(SLICE) {
            Ok(exit) => return Ok(exit),
            Err(f) if f.status != Status::Timeout => return Err(f),
            Err(_) => {}
        }
        let recs = records.read();
        let done = !probe::events(&recs, "done").is_empty();
        if most_bytes(&recs) >= EXPECTED_BYTES as i64 && !done {
            let since = *complete_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= clock.real(STALL) {
                return Err(Failure::timeout(format!(
                    "all {EXPECTED_BYTES} bytes reached ffmpeg, but {} s later neither ffmpeg nor the program had finished: was ffmpeg's input ever closed? (ffmpeg waits for end of input while the program waits for ffmpeg)",
                    STALL.as_secs()
                )));
            }
        } else {
            complete_since = None;
        }
        if Instant::now() >= deadline {
            return Err(Failure::timeout(format!(
                "expected the program to exit within {} s; it was still running ({} bytes had reached ffmpeg)",
                EXIT_WAIT.as_secs(),
                most_bytes(&recs)
            )));
        }
    }
}

/// Everything the three scenarios judge, gathered from one run once ffmpeg has finished.
struct Movie {
    exit: Exit,
    starts: Vec<Value>,
    dones: Vec<Value>,
    /// The last lines of ffmpeg's own messages ("; ffmpeg said: …"), or "".
    log_tail: String,
    /// The program's own pid.
    own: i32,
    /// The pids the run's supervisor reaped (left behind by the program).
    reaped: Vec<i32>,
    /// Of the shims' pids and their ancestors, those still present after the program's tree
    /// finished.
    present: Vec<i32>,
    /// What movie.mp4 turned out to be.
    file: MovieFile,
}

/// movie.mp4 as ffprobe and a decoded frame show it.
#[derive(Debug, Clone, PartialEq)]
enum MovieFile {
    Missing,
    /// ffprobe could not read it (why).
    Unreadable(String),
    /// What is wrong with its stream ("a width of 300", …).
    Wrong(Vec<String>),
    /// The stream is right, the frame is not (why).
    BadFrame(String),
    Good,
    /// ffmpeg or ffprobe vanished from the grading machine.
    NoTools,
}

impl Movie {
    /// The start the scenarios judge: the one reading its input from `-` (standard input)
    /// and writing movie.mp4, as the lecture's command does; failing that one reading
    /// standard input; among equals the one that counted most bytes. Other starts (`ffmpeg
    /// -version`, a first try) are not judged. Fails when ffmpeg was never started through
    /// PATH.
    fn judged(&self) -> Result<&Value, Failure> {
        self.starts
            .iter()
            .max_by_key(|s| {
                let argv = probe::strings(s, "argv");
                let bytes = self.done(s).map_or(-1, |d| field(d, "bytes"));
                (reads_stdin(&argv) && writes_movie(&argv), reads_stdin(&argv), bytes)
            })
            .ok_or_else(|| {
                Failure::fail(format!(
                    "ffmpeg was never started through PATH (the program {}); run it as `ffmpeg`, found on PATH",
                    describe_exit(self.exit)
                ))
            })
    }

    /// The done record of `start`, if that ffmpeg finished.
    fn done(&self, start: &Value) -> Option<&Value> {
        let pid = field(start, "pid");
        self.dones.iter().find(|d| field(d, "pid") == pid)
    }

    /// The done record of `start`; a timeout when that ffmpeg never finished.
    fn finished(&self, start: &Value) -> Result<&Value, Failure> {
        self.done(start).ok_or_else(|| {
            Failure::timeout(format!(
                "ffmpeg did not finish within {} s after the program ended{}",
                DRAIN_WAIT.as_secs(),
                self.log_tail
            ))
        })
    }

    fn others(&self) -> String {
        match self.starts.len() {
            0 | 1 => String::new(),
            n => format!(
                " (ffmpeg was also started {} other time(s), not judged)",
                n - 1
            ),
        }
    }
}

/// The three scenarios judge one run: what reached ffmpeg, the movie it wrote, and who
/// waited for it.
static RUN: Shared<Movie> = Shared {
    why: "the bytes piped to ffmpeg, the movie it wrote and the waiting for it are one run's",
    observe: movie,
    judges: &[
        ("piped", |m| judge_piped(m).into()),
        ("video", |m| judge_video(m).into()),
        ("waits", |m| judge_waits(m).into()),
    ],
};

/// Runs the program with the shim, lets everything it started finish, and looks at
/// movie.mp4.
fn movie(ctx: &mut Ctx) -> Result<Movie, Failure> {
    let o = observe(ctx)?;
    if o.starts.is_empty() {
        // An ffmpeg run by its full path, or a library: the movie is judged all the same,
        // once whatever the program left running has finished.
        o.run.note(format!(
            "ffmpeg was not started through PATH (the program {}): movie.mp4 is judged as the program left it",
            describe_exit(o.exit)
        ));
        o.run.wait_tree_done(DRAIN_WAIT);
    } else {
        // ffmpeg (the shim) has finished; once it is reaped, by whom tells whether the
        // program waited: the supervisor reaps only what was left to be re-parented.
        o.run.wait_tree_done(Duration::from_secs(5));
    }
    let reaped: Vec<i32> = o.run.reaped().iter().map(|r| r.pid).collect();
    let reach = o.run.reach();
    let present = o
        .starts
        .iter()
        .flat_map(|s| std::iter::once(field(s, "pid") as i32).chain(ancestors(s)))
        .filter(|pid| reach.path(Path::new(&format!("/proc/{pid}"))).exists())
        .collect();
    let own = o.run.own_pid();
    // The run is torn down (what it left recorded) before the harness's own tools run as
    // the same user: where leftovers are known by their owner, a tool's teardown would
    // otherwise take the program's for its own.
    drop(o.run);
    let file = movie_file(ctx);
    Ok(Movie {
        exit: o.exit,
        log_tail: log_tail(&o.log),
        own,
        starts: o.starts,
        dones: o.dones,
        reaped,
        present,
        file,
    })
}

/// A start record's parents, nearest first.
fn ancestors(start: &Value) -> Vec<i32> {
    start
        .get("ancestors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_i64())
                .map(|p| p as i32)
                .collect()
        })
        .unwrap_or_default()
}

/// movie.mp4 as ffprobe (its stream) and ffmpeg (frame 100) show it, read in the sandbox.
fn movie_file(ctx: &Ctx) -> MovieFile {
    let movie = ctx.workdir().join("movie.mp4");
    if !movie.is_file() {
        return MovieFile::Missing;
    }
    let (Some(ffprobe), Some(ffmpeg)) = (which("ffprobe"), which("ffmpeg")) else {
        return MovieFile::NoTools;
    };
    match video::check_stream(ctx, &ffprobe, &movie, TOOL_WAIT) {
        Err(e) => MovieFile::Unreadable(e.to_string()),
        Ok(wrong) if !wrong.is_empty() => MovieFile::Wrong(wrong),
        Ok(_) => match video::check_frame(ctx, &ffmpeg, &movie, TOOL_WAIT) {
            Err(e) => MovieFile::BadFrame(e),
            Ok(()) => MovieFile::Good,
        },
    }
}

fn piped(ctx: &mut Ctx) -> Verdict {
    shared::alone(&RUN, "piped", ctx)
}

fn video(ctx: &mut Ctx) -> Verdict {
    shared::alone(&RUN, "video", ctx)
}

fn waits(ctx: &mut Ctx) -> Verdict {
    shared::alone(&RUN, "waits", ctx)
}

fn judge_piped(o: &Movie) -> Verdict {
    let start = o.judged()?;
    let bytes = field(o.finished(start)?, "bytes");
    let args = probe::strings(start, "argv").join(" ");
    if bytes != EXPECTED_BYTES as i64 {
        let frames = bytes.max(0) as u64 / FRAME_BYTES;
        let rest = bytes.max(0) as u64 % FRAME_BYTES;
        fail!(
            "{bytes} bytes reached `ffmpeg {args}` ({frames} whole frames{}); expected {} frames of 400×400 RGBA = {EXPECTED_BYTES} bytes (the program {}){}",
            if rest > 0 { format!(" and {rest} bytes") } else { String::new() },
            video::FRAMES,
            describe_exit(o.exit),
            o.others()
        );
    }
    Ok(format!(
        "{EXPECTED_BYTES} bytes (200 frames of 400×400 RGBA) reached `ffmpeg {args}`{}",
        o.others()
    ))
}

fn judge_video(o: &Movie) -> Verdict {
    let code = match o.judged() {
        Ok(start) => field(o.finished(start)?, "code"),
        Err(_) => 0,
    };
    let ffmpeg_exit = if o.starts.is_empty() {
        "ffmpeg was not started through PATH".to_string()
    } else {
        format!("ffmpeg exited with {code}")
    };
    let wrong = match &o.file {
        MovieFile::Missing => fail!(
            "no movie.mp4 in the program's folder after ffmpeg finished ({ffmpeg_exit}){}",
            o.log_tail
        ),
        MovieFile::NoTools => {
            return Err(Failure::missing(
                &["ffmpeg", "ffprobe"],
                "`ffmpeg` and `ffprobe` are needed",
            ))
        }
        MovieFile::Unreadable(e) => fail!("movie.mp4 could not be read: {e}"),
        MovieFile::Wrong(wrong) => wrong,
        MovieFile::BadFrame(e) => {
            fail!("movie.mp4 is MPEG-4, 400×400, 200 frames at 24 fps, but {e}")
        }
        MovieFile::Good => {
            return Ok(format!(
                "movie.mp4 is MPEG-4, 400×400, 200 frames at 24 fps; frame 100 shows coloured lines on white{}",
                if o.starts.is_empty() {
                    " (ffmpeg was not started through PATH; the movie was judged all the same)"
                } else {
                    ""
                }
            ))
        }
    };
    fail!(
        "movie.mp4 has {}{}{}",
        wrong.join(", "),
        if ExpectExit::SUCCESS.accepts(o.exit) {
            String::new()
        } else {
            format!(" (the program {})", describe_exit(o.exit))
        },
        if code != 0 { o.log_tail.as_str() } else { "" }
    )
}

fn judge_waits(o: &Movie) -> Verdict {
    let start = o.judged()?;
    let shim = field(start, "pid") as i32;
    // Each process between the program and ffmpeg (a shell) must have been waited for in
    // the same way as ffmpeg itself.
    if o.reaped.contains(&shim) {
        fail!(
            "the program never waited for ffmpeg: it exited without reaping it, so ffmpeg (still running, or a zombie) was re-parented. Close ffmpeg's input, then wait for it (e.g. `pipe.stdin.close()` then `pipe.wait()`)"
        );
    }
    let own = o.own;
    let chain = ancestors(start);
    let Some(at) = chain.iter().position(|p| *p == own) else {
        fail!(
            "ffmpeg (pid {shim}) was not started by the program (pid {own}) or by a process it waits for: its parents were {}",
            pids(&chain)
        );
    };
    if let Some(left) = chain[..at].iter().find(|p| o.reaped.contains(p)) {
        fail!(
            "ffmpeg was started through pid {left}, which waited for it, but the program never waited for pid {left}: it exited first, and pid {left} was re-parented. Wait for the process that runs ffmpeg (e.g. `pipe.wait()`)"
        );
    }
    let gone = |pid: &i32| !o.present.contains(pid);
    ensure!(
        gone(&shim) && chain[..at].iter().all(gone),
        "ffmpeg (pid {shim}) was still there 5 s after the program ended"
    );
    let through = match &chain[..at] {
        [] => String::new(),
        between => format!(" (through {})", pids(between)),
    };
    Ok(format!(
        "the program closed ffmpeg's input and waited for it to finish before exiting{through}"
    ))
}

/// "pid 12, pid 15 and pid 3", "unknown".
fn pids(chain: &[i32]) -> String {
    let named: Vec<String> = chain.iter().map(|p| format!("pid {p}")).collect();
    match named.as_slice() {
        [] => "unknown".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests;
