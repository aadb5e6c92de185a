//! `fifo_client` (SimpleFiFo/client.py): makes `mypipe` if it is missing and writes `0\n` …
//! `99\n` into it. The harness is the reader, with a real FIFO, checking the bytes exactly.

use super::Exercise;
use crate::clock::Clock;
use crate::ipc;
use crate::ipc::fifo::{self, Reader};
use crate::ipc::watch;
use crate::outcome::{Failure, Verdict};
use crate::run::activity::{self, Activity};
use crate::run::{secs, Run};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::quote;
use crate::{ensure, fail};
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "fifo_client",
    lecture: &["SimpleFiFo/client.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "lines",
            "the reader gets exactly 0…99, one per line, then end of file",
            lines,
        ),
        Scenario::new(
            "creates",
            "with no FIFO it makes one and waits for a reader",
            creates,
        ),
    ],
};

const FIFO: &str = "mypipe";
const PATIENT: Duration = Duration::from_secs(10);
/// How long a client waiting for a reader may take to show it, and to write once one came.
const RELEASE: Duration = Duration::from_secs(2);

fn grader_fault(what: &str) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |e| Failure::fault(format!("{what}: {e}"))
}

/// What a reader that got `data` (and end of file or not) saw, compared with 0…99.
fn judge(data: &[u8], eof: bool) -> Result<(), String> {
    let want: String = (0..100).map(|i| format!("{i}\n")).collect();
    let text = String::from_utf8_lossy(data);
    if text == want && eof {
        return Ok(());
    }
    let got: Vec<&str> = text.split_inclusive('\n').collect();
    let expected: Vec<String> = (0..100).map(|i| format!("{i}\n")).collect();
    if let Some(i) = (0..got.len().min(100)).find(|&i| got[i] != expected[i]) {
        return Err(format!(
            "line {} was {}, expected {} ({} line(s) in all)",
            i + 1,
            quote(got[i]),
            quote(&expected[i]),
            got.len()
        ));
    }
    if got.len() < 100 {
        return Err(format!(
            "got only {} of the 100 lines ({} bytes), {}",
            got.len(),
            data.len(),
            if eof {
                "then end of file"
            } else {
                "then nothing more"
            }
        ));
    }
    if got.len() > 100 {
        return Err(format!(
            "after the 100 lines came more: {}",
            quote(&got[100..].concat())
        ));
    }
    Err("got the 100 lines, but the FIFO was not closed after them (no end of file)".into())
}

fn lines(ctx: &mut Ctx) -> Verdict {
    let path = ctx.workdir().join(FIFO);
    fifo::make(&path).map_err(grader_fault("making mypipe"))?;
    // Open before the start: the program's open never waits for the harness.
    let reader = Reader::open(&path, false).map_err(grader_fault("opening mypipe"))?;
    let mut run = ctx.start(Launch::new())?;
    let deadline = ctx.within(PATIENT);
    let (data, eof) = reader.read_to_eof(deadline);
    if data.is_empty() && !eof {
        return Err(ipc::ended_first_or_timeout(
            &mut run,
            |how| format!("expected 100 lines through {FIFO}; {how} without writing any"),
            || {
                format!(
                    "expected 100 lines through {FIFO} within {}; nothing came",
                    secs(PATIENT)
                )
            },
        ));
    }
    judge(&data, eof).map_err(|e| Failure::fail(format!("through {FIFO}: {e}")))?;
    let _ = run.let_exit(Duration::from_secs(2));
    Ok(format!(
        "read exactly 0…99 ({} bytes) through {FIFO}, then end of file",
        data.len()
    ))
}

/// Lets a client blocked on the FIFO finish: reads what it writes, until its end or
/// [`RELEASE`]. Returns how many bytes came.
fn release(run: &mut Run, path: &std::path::Path, clock: Clock) -> usize {
    let got = match Reader::open(path, false) {
        Ok(reader) => reader.read_to_eof(clock.deadline(RELEASE)).0.len(),
        Err(_) => 0,
    };
    let _ = run.let_exit(RELEASE);
    got
}

/// Whether the kernel shows the program blocked opening a FIFO for writing (waiting for a
/// reader) within [`RELEASE`]; false at once when it ends.
fn opening_for_writing(run: &Run, clock: Clock) -> bool {
    let seen = ipc::poll_state(clock.deadline(RELEASE), || {
        if !run.alive() {
            return Some(false);
        }
        let opening = activity::of(run.pid());
        matches!(opening, Some(Activity::OpeningFifo(w)) if w != Some(false)).then_some(true)
    });
    seen.unwrap_or(false)
}

fn creates(ctx: &mut Ctx) -> Verdict {
    let clock = ctx.clock();
    let mut run = ctx.start(Launch::new())?;
    let dir = ctx.workdir();
    let found = watch::wait_for_entry(&dir, FIFO, clock.deadline(PATIENT), || !run.alive())
        .map_err(grader_fault("watching the program's folder"))?;
    let path = dir.join(FIFO);
    if !found {
        let elsewhere = ipc::elsewhere::hint(&run, &path);
        return Err(ipc::ended_first_or_timeout(
            &mut run,
            |how| {
                format!(
                "with no {FIFO} present it should make one in its folder; {how} without making it{elsewhere}"
            )
            },
            || {
                format!(
                "with no {FIFO} present it should make one in its folder; none appeared within {}{elsewhere}",
                secs(PATIENT)
            )
            },
        ));
    }
    match fifo::describe(&path) {
        Some(kind) if kind == "a FIFO" => {}
        Some(kind) => {
            // A program writing into its regular file may still be at it: the size is told
            // once it has ended, so that it does not depend on when the harness looked.
            let _ = run.let_exit(Duration::from_secs(2));
            let kind = fifo::describe(&path).unwrap_or(kind);
            fail!("it made {FIFO} as {kind}, not as a FIFO (make it with mkfifo before opening it)")
        }
        None => fail!("{FIFO} appeared and vanished again"),
    }
    // Waiting for a reader is being blocked in the FIFO's open (the kernel shows it), or,
    // where the kernel does not show it, writing as soon as a reader opens it. Asleep or in
    // pause() is neither.
    let shown = opening_for_writing(&run, clock);
    ensure!(
        run.alive(),
        "it made the FIFO but did not wait for a reader: {}",
        ipc::ended(&mut run).unwrap_or_else(|| "it ended".into())
    );
    if shown {
        release(&mut run, &path, clock);
        return Ok(format!(
            "made {FIFO} as a FIFO and waited for a reader (blocked opening it for writing)"
        ));
    }
    let doing = run.doing();
    let wrote = release(&mut run, &path, clock);
    ensure!(
        wrote > 0,
        "it made the FIFO but did not wait for a reader{doing}: once the harness opened {FIFO} for reading, nothing came within {} (open it for writing right after making it; that open waits for the reader)",
        secs(RELEASE)
    );
    run.note(format!(
        "the kernel did not show it blocked in the FIFO's open{doing}, but {wrote} bytes came once the harness opened it for reading"
    ));
    Ok(format!(
        "made {FIFO} as a FIFO and waited for a reader: it wrote once one opened it"
    ))
}
