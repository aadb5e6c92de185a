//! `make_movie` (Subprocess/make_movie.py, with ../ByteImage/ByteImage.py): starts
//! `ffmpeg -f rawvideo -pixel_format rgba -video_size 400x400 -framerate 24 -i - -vcodec
//! mpeg4 -y movie.mp4` and writes 200 frames of random lines on white to its input.
//!
//! An `ffmpeg` shim first on PATH (a python3 script) records its arguments and pid, counts
//! every byte it reads, feeds them to the real ffmpeg, waits for it and records the count and
//! ffmpeg's exit code. Whether the program waited for ffmpeg is known from waitpid: the run's
//! supervisor (the subreaper) reaps only what the program left behind — a shim the program
//! waited for never reaches it. (Whether ffmpeg was "still running" when the program exited
//! is a race when a program closes ffmpeg's input and exits without waiting; who reaped it is
//! not.) The real ffmpeg's messages go to a log the feedback quotes, since they vary with its
//! version. Every scenario lets ffmpeg finish before judging, even when the program did not
//! wait for it.

mod video;

use super::Exercise;
use crate::clock::Clock;
use crate::outcome::{Failure, Status, Verdict};
use crate::probe::{self, Records};
use crate::run::ExpectExit;
use crate::run::{describe_exit, Run};
use crate::sandbox::protocol::Exit;
use crate::scenario::tools::{FFMPEG, FFPROBE};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::settings::which;
use crate::{ensure, fail};
use nix::sys::signal::Signal;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub static EXERCISE: Exercise = Exercise {
    id: "make_movie",
    lecture: &["Subprocess/make_movie.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    scenarios: &[
        Scenario::new(
            "piped",
            "exactly 200 × 400 × 400 × 4 bytes reach ffmpeg's input",
            piped,
        )
        .needs(&[FFMPEG, FFPROBE]),
        Scenario::new(
            "video",
            "movie.mp4: MPEG-4, 400×400, 200 frames at 24 fps, lines on white",
            video,
        )
        .needs(&[FFMPEG, FFPROBE]),
        Scenario::new(
            "waits",
            "ffmpeg's input closed and ffmpeg waited for before the program exits",
            waits,
        )
        .needs(&[FFMPEG, FFPROBE]),
    ],
};

const SHIM: &str = r#"# ffmpeg shim of the grading harness: counts what reaches ffmpeg, then hands it all on
import subprocess, sys
REAL, FFLOG, EXPECTED = @REAL@, @FFLOG@, @EXPECTED@
note(event="start", argv=sys.argv[1:], ppid=os.getppid())
with open(FFLOG, "ab") as log:
    real = subprocess.Popen([REAL] + sys.argv[1:], stdin=subprocess.PIPE, stderr=log)
out, count, broken = real.stdin.fileno(), 0, False
while True:
    try:
        chunk = os.read(0, 1 << 16)
    except OSError:
        break
    if not chunk:
        break
    total = count + len(chunk)
    if total >> 24 != count >> 24 or count < EXPECTED <= total:
        note(event="progress", bytes=total)
    count += len(chunk)
    view = memoryview(chunk)
    while view and not broken:
        try:
            view = view[os.write(out, view):]
        except OSError:
            broken = True
try:
    real.stdin.close()
except OSError:
    pass
code = real.wait()
note(event="done", bytes=count, code=code)
sys.exit(code)
"#;

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
    /// The shim's start records.
    starts: Vec<Value>,
    /// The shim's done record (of the first start).
    done: Value,
    log: PathBuf,
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
    let exit = exited?;
    ensure!(
        !starts.is_empty(),
        "ffmpeg was never started through PATH (the program {}); run it as `ffmpeg`, found on PATH",
        describe_exit(exit)
    );
    let pid = field(&starts[0], "pid");
    let done = probe::events(&recs, "done")
        .into_iter()
        .find(|d| field(d, "pid") == pid)
        .cloned()
        .ok_or_else(|| {
            Failure::timeout(format!(
                "ffmpeg did not finish within {} s after the program ended{}",
                DRAIN_WAIT.as_secs(),
                log_tail(&log)
            ))
        })?;
    Ok(Observed {
        run,
        exit,
        starts,
        done,
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
        match run.wait_exit(SLICE) {
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

fn piped(ctx: &mut Ctx) -> Verdict {
    let o = observe(ctx)?;
    ensure!(
        o.starts.len() == 1,
        "ffmpeg was started {} times; expected once",
        o.starts.len()
    );
    let bytes = field(&o.done, "bytes");
    if bytes != EXPECTED_BYTES as i64 {
        let frames = bytes.max(0) as u64 / FRAME_BYTES;
        let rest = bytes.max(0) as u64 % FRAME_BYTES;
        fail!(
            "{bytes} bytes reached ffmpeg ({frames} whole frames{}); expected {} frames of 400×400 RGBA = {EXPECTED_BYTES} bytes (the program {})",
            if rest > 0 { format!(" and {rest} bytes") } else { String::new() },
            video::FRAMES,
            describe_exit(o.exit)
        );
    }
    let args = probe::strings(&o.starts[0], "argv").join(" ");
    Ok(format!(
        "{EXPECTED_BYTES} bytes (200 frames of 400×400 RGBA) reached `ffmpeg {args}`"
    ))
}

fn video(ctx: &mut Ctx) -> Verdict {
    let o = observe(ctx)?;
    let code = field(&o.done, "code");
    let movie = ctx.workdir().join("movie.mp4");
    ensure!(
        movie.is_file(),
        "no movie.mp4 in the program's folder after ffmpeg finished (ffmpeg exited with {code}){}",
        log_tail(&o.log)
    );
    let (ffprobe, ffmpeg) = match (which("ffprobe"), which("ffmpeg")) {
        (Some(p), Some(m)) => (p, m),
        _ => {
            return Err(Failure::missing(
                &["ffmpeg", "ffprobe"],
                "`ffmpeg` and `ffprobe` are needed",
            ))
        }
    };
    let limit = TOOL_WAIT;
    let wrong = video::check_stream(ctx, &ffprobe, &movie, limit)
        .map_err(|e| Failure::fail(format!("movie.mp4 could not be read: {e}")))?;
    ensure!(
        wrong.is_empty(),
        "movie.mp4 has {}{}{}",
        wrong.join(", "),
        if ExpectExit::SUCCESS.accepts(o.exit) {
            String::new()
        } else {
            format!(" (the program {})", describe_exit(o.exit))
        },
        if code != 0 {
            log_tail(&o.log)
        } else {
            String::new()
        }
    );
    video::check_frame(ctx, &ffmpeg, &movie, limit).map_err(|e| {
        Failure::fail(format!(
            "movie.mp4 is MPEG-4, 400×400, 200 frames at 24 fps, but {e}"
        ))
    })?;
    Ok("movie.mp4 is MPEG-4, 400×400, 200 frames at 24 fps; frame 100 shows coloured lines on white".into())
}

fn waits(ctx: &mut Ctx) -> Verdict {
    let o = observe(ctx)?;
    let shim = field(&o.starts[0], "pid") as i32;
    // ffmpeg (the shim) has finished; once it is reaped, by whom tells whether the program
    // waited: the supervisor reaps only what the program left to be re-parented.
    o.run.wait_tree_done(Duration::from_secs(5));
    let by_supervisor = o.run.reaped().iter().any(|r| r.pid == shim);
    if by_supervisor {
        fail!(
            "the program never waited for ffmpeg: it exited without reaping it, so ffmpeg (still running, or a zombie) was re-parented. Close ffmpeg's input, then wait for it (e.g. `pipe.stdin.close()` then `pipe.wait()`)"
        );
    }
    ensure!(
        !o.run
            .reach()
            .path(std::path::Path::new(&format!("/proc/{shim}")))
            .exists(),
        "ffmpeg (pid {shim}) was still there 5 s after the program ended"
    );
    Ok("the program closed ffmpeg's input and waited for it to finish before exiting".into())
}
