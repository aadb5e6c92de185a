//! `shm_owner` (the viewer side of the lecture's ImageSharedMemory): creates the POSIX shared
//! memory segment `imageMap` of 400×400×4 bytes and waits; SIGINT or SIGHUP unlinks it and
//! exits 0. It is ready once the segment exists (seen in the run's private /dev/shm).

use super::Exercise;
use crate::ipc::{self, IMAGE_BYTES as SIZE, IMAGE_SEGMENT, IMAGE_SEGMENT as SEGMENT};
use crate::outcome::{Failure, Verdict};
use crate::run::ExpectExit;
use crate::run::{describe_exit, secs, Run};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::{ensure, fail};
use nix::sys::signal::Signal;
use std::path::PathBuf;
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "shm_owner",
    lecture: &[],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[IMAGE_SEGMENT],
    scenarios: &[
        Scenario::new(
            "created",
            "imageMap exists with 640000 bytes while it runs",
            created,
        ),
        Scenario::new(
            "unlinked",
            "after SIGINT imageMap is gone and the exit status is 0",
            unlinked,
        ),
    ],
};

const PATIENT: Duration = Duration::from_secs(10);
/// Between creating a segment and giving it its size.
const SIZING: Duration = Duration::from_secs(1);
const ANSWER: Duration = Duration::from_secs(2);

/// Starts the program and waits for the segment to exist (polled: no event reaches the
/// harness from the run's /dev/shm).
fn ready(ctx: &mut Ctx) -> Result<(Run, PathBuf), Failure> {
    let mut run = ctx.start(Launch::new())?;
    let path = run.reach().shm_path(SEGMENT);
    let deadline = ctx.within(PATIENT);
    let found = ipc::poll_state(deadline, || {
        if path.exists() {
            Some(true)
        } else {
            (!run.alive()).then_some(false)
        }
    });
    if found != Some(true) {
        return Err(ipc::ended_first_or_timeout(
            &mut run,
            |how| format!("expected it to create the segment {SEGMENT}; {how} without creating it"),
            || {
                format!(
                    "expected the segment {SEGMENT} within {}; it did not appear",
                    secs(PATIENT)
                )
            },
        ));
    }
    Ok((run, path))
}

fn size(path: &PathBuf) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

fn created(ctx: &mut Ctx) -> Verdict {
    let (mut run, path) = ready(ctx)?;
    let deadline = ctx.within(SIZING);
    let sized = ipc::poll_state(deadline, || {
        (size(&path) == Some(SIZE as u64)).then_some(())
    });
    if sized.is_none() {
        match size(&path) {
            Some(n) => fail!(
                "{SEGMENT} exists with {n} bytes; expected 400 × 400 × 4 = {SIZE} (an RGBA image)"
            ),
            None => fail!("{SEGMENT} appeared and vanished again while the program ran"),
        }
    }
    ensure!(
        run.alive(),
        "{SEGMENT} was made with {SIZE} bytes, but then {}; it should wait for a signal",
        ipc::ended(&mut run).unwrap_or_default()
    );
    ipc::wait_all_blocked(&run, ANSWER, ctx.clock());
    end_politely(&mut run, &path);
    Ok(format!("{SEGMENT} exists with {SIZE} bytes while it runs"))
}

/// Ends the program the way it is meant to end (SIGINT), so that killing it does not leave
/// the segment; what it leaves anyway is `unlinked`'s business, not this scenario's.
fn end_politely(run: &mut Run, path: &PathBuf) {
    if run.signal_when_idle(Signal::SIGINT, ANSWER).is_ok() {
        let _ = run.let_exit(ANSWER);
        run.wait_tree_done(Duration::from_secs(5));
    }
    if path.exists() {
        let _ = std::fs::remove_file(path);
        run.allow_shm(SEGMENT);
    }
}

fn unlinked(ctx: &mut Ctx) -> Verdict {
    let (mut run, path) = ready(ctx)?;
    ipc::wait_all_blocked(&run, ANSWER, ctx.clock());
    run.signal_when_idle(Signal::SIGINT, ANSWER)?;
    let exit = run.expect_exit_after(
        ANSWER,
        "SIGINT",
        &format!("it should unlink {SEGMENT} and exit"),
    )?;
    // Helpers (a Python resource tracker) may still be finishing.
    run.wait_tree_done(Duration::from_secs(5));
    ensure!(
        !path.exists(),
        "after SIGINT it {}, but {SEGMENT} is still there: unlink the segment (shm_unlink, SharedMemory.unlink()) before exiting",
        describe_exit(exit)
    );
    ExpectExit::SUCCESS
        .check(exit, format!("after SIGINT it unlinked {SEGMENT} but"))
        .map_err(|f| f.hint(ipc::last_stderr(&run)))?;
    Ok(format!("SIGINT unlinked {SEGMENT}; exit status 0"))
}
