//! `fifo_server` (SimpleFiFo/server.py): makes the FIFO `mypipe` in its folder, reads each
//! writer to end of file and reports it, then opens again for the next; SIGINT or SIGHUP
//! removes the FIFO and exits 0. The harness is the writer, with real FIFOs.

use super::Exercise;
use crate::clock::Clock;
use crate::ipc::fifo;
use crate::ipc::watch::{self, Counts, PathWatch};
use crate::outcome::{Failure, Verdict};
use crate::run::ExpectExit;
use crate::run::{describe_exit, secs, Run};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::{quote, re};
use crate::{ensure, ipc};
use nix::sys::signal::Signal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "fifo_server",
    lecture: &["SimpleFiFo/server.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new("fifo", "mypipe appears within 2 s and is a FIFO", made),
        Scenario::new(
            "reads",
            "two writers of 100 lines each are read and reported (mypipe already there)",
            reads,
        ),
        Scenario::new("sigint", "SIGINT removes mypipe, exit status 0", sigint),
        Scenario::new("sighup", "SIGHUP removes mypipe, exit status 0", sighup),
    ],
};

const FIFO: &str = "mypipe";
const APPEAR: Duration = Duration::from_secs(2);
/// For scenarios not about start-up time.
const PATIENT: Duration = Duration::from_secs(10);
const ANSWER: Duration = Duration::from_secs(2);

fn grader_fault(what: &str) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |e| Failure::fault(format!("{what}: {e}"))
}

/// Waits for `mypipe` to appear in the program's folder and checks that it is a FIFO.
fn wait_fifo(ctx: &Ctx, run: &mut Run, within: Duration) -> Result<PathBuf, Failure> {
    let dir = ctx.workdir();
    let deadline = ctx.within(within);
    let found = watch::wait_for_entry(&dir, FIFO, deadline, || !run.alive())
        .map_err(grader_fault("watching the program's folder"))?;
    let path = dir.join(FIFO);
    if !found {
        let elsewhere = ipc::elsewhere::hint(run, &path);
        return Err(ipc::ended_first_or_timeout(
            run,
            |how| {
                format!(
                "expected it to make the FIFO {FIFO} in its folder; {how} without making it{elsewhere}"
            )
            },
            || {
                format!(
                "expected the FIFO {FIFO} in its folder within {}; it did not appear{elsewhere}",
                secs(within)
            )
            },
        ));
    }
    match fifo::describe(&path) {
        Some(kind) if kind == "a FIFO" => Ok(path),
        Some(kind) => Err(Failure::fail(format!(
            "{FIFO} is {kind}, not a FIFO (make it with mkfifo)"
        ))),
        None => Err(Failure::fail(format!(
            "{FIFO} appeared and vanished again at once"
        ))),
    }
}

fn made(ctx: &mut Ctx) -> Verdict {
    let mut run = ctx.start(Launch::new())?;
    wait_fifo(ctx, &mut run, APPEAR)?;
    ipc::let_finish(&run);
    Ok(format!("{FIFO} appeared in its folder and is a FIFO"))
}

/// A pattern for the report of a writer of `bytes` bytes whose last line was `last`:
/// `read 290`, or the data itself.
fn report_pattern(bytes: usize, last: usize) -> regex::Regex {
    re(&format!(
        r"read\D{{0,40}}\b{bytes}\b|(^|[^0-9]){last}(\\n)?['\x22]?\)?\s*$"
    ))
}

/// Writer `n`: opens `path` once the server reads it, writes `text`, closes. Once open, the
/// events `watch` holds so far are dropped: what came before this writer (a server's probe
/// open and close of the FIFO) says nothing about when the server is done with it.
fn write_once(
    run: &mut Run,
    watch: &PathWatch,
    path: &Path,
    text: &str,
    n: usize,
    clock: Clock,
) -> Result<(), Failure> {
    let deadline = clock.deadline(PATIENT);
    let file = fifo::open_writer(path, deadline, || !run.alive())
        .map_err(grader_fault("opening mypipe for writing"))?;
    let Some(mut file) = file else {
        let elsewhere = ipc::elsewhere::hint(run, path);
        return Err(ipc::ended_first_or_timeout(
            run,
            |how| format!("writer {n} waited for the program to open {FIFO} for reading; {how}"),
            || {
                format!(
                "writer {n} waited {} for the program to open {FIFO} for reading; it never did{elsewhere}",
                secs(PATIENT),
            )
            },
        ));
    };
    watch.count(&mut Counts::default());
    run.note(format!(
        "writer {n} opened {FIFO}, writes {} bytes and closes it",
        text.len()
    ));
    file.write_all(text.as_bytes())
        .map_err(|e| Failure::fail(format!("writer {n} could not write to {FIFO}: {e}")))
}

fn reads(ctx: &mut Ctx) -> Verdict {
    let clock = ctx.clock();
    let path = ctx.workdir().join(FIFO);
    fifo::make(&path).map_err(grader_fault("making mypipe"))?;
    let watch = PathWatch::opens_and_closes(&path).map_err(grader_fault("watching mypipe"))?;
    let mut run = ctx.start(Launch::new())?;
    let mut reports = Vec::new();
    for (n, first) in [(1usize, 0usize), (2, 100)] {
        if n == 2 {
            // Writer 2 comes once the server closed its read end of writer 1: data written
            // into a read end about to be closed would be lost. A server that keeps its read
            // end open is not waited for past the deadline.
            let deadline = clock.deadline(ANSWER);
            let mut counts = Counts::default();
            while counts.closes_read == 0 && watch.wait(deadline, &mut counts) {}
        }
        let text: String = (first..first + 100).map(|i| format!("{i}\n")).collect();
        write_once(&mut run, &watch, &path, &text, n, clock)?;
        let what = format!(
            "a report of writer {n} (`read {}`, or its data ending in {})",
            text.len(),
            first + 99
        );
        let line = run
            .expect_described(
                crate::run::transcript::Source::Stdout,
                &report_pattern(text.len(), first + 99),
                &what,
                ANSWER,
            )
            .map_err(|f| {
                let state = if n == 2 {
                    format!("writer 1 was reported as {}; ", quote(&reports.join("")))
                } else {
                    String::new()
                };
                let message = format!("{state}{}", f.message);
                Failure { message, ..f }
            })?;
        reports.push(line.text);
    }
    Ok(format!(
        "both writers (100 lines each, {FIFO} already there at start) were read: reported as {} and {}",
        quote(&reports[0]),
        quote(&reports[1])
    ))
}

/// Waits for the FIFO, sends `sig` once the server blocks, expects it removed and status 0.
fn stops(ctx: &mut Ctx, sig: Signal) -> Verdict {
    let mut run = ctx.start(Launch::new())?;
    let path = wait_fifo(ctx, &mut run, PATIENT)?;
    run.signal_when_idle(sig, ANSWER)?;
    let exit = run.expect_exit_after(
        ANSWER,
        sig.as_str(),
        &format!("it should remove {FIFO} and exit"),
    )?;
    ensure!(
        fifo::describe(&path).is_none(),
        "after {sig} it {}, but {FIFO} is still there: remove the FIFO before exiting",
        describe_exit(exit)
    );
    ExpectExit::SUCCESS
        .check(exit, format!("after {sig} it removed {FIFO} but"))
        .map_err(|f| f.hint(ipc::last_stderr(&run)))?;
    Ok(format!("{sig} removed {FIFO}; exit status 0"))
}

fn sigint(ctx: &mut Ctx) -> Verdict {
    stops(ctx, Signal::SIGINT)
}

fn sighup(ctx: &mut Ctx) -> Verdict {
    stops(ctx, Signal::SIGHUP)
}
