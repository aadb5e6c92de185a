//! `procloop` (Processes/procloop.cpp): prints its pid in an endless, sleeping loop until
//! killed.

use super::Exercise;
use crate::ensure;
use crate::outcome::{Failure, Verdict};
use crate::run::transcript::Source;
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::re;
use nix::sys::signal::Signal;
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "procloop",
    lecture: &["Processes/procloop.cpp"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGTERM,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new("first_line", "prints its true pid within 2 s", first_line),
        Scenario::new(
            "keeps_running",
            "stays alive without spinning",
            keeps_running,
        ),
        Scenario::new("killed", "SIGTERM ends it within 1 s", killed),
    ],
};

/// More lines than this in the 1 s window are worth a note (the lecture's loop prints one
/// per 10 s); the verdict rests on the CPU demand, as described.
const MANY_LINES_PER_WINDOW: usize = 5;

const PID_LINE: &str = r"process id\D*(\d+)";

/// How long scenarios other than `first_line` wait for the first line: a slow start costs
/// `first_line` only.
const PATIENT: Duration = Duration::from_secs(10);

fn first_line(ctx: &mut Ctx) -> Verdict {
    let mut run = ctx.start(Launch::new())?;
    let pid = i64::from(run.own_pid());
    let pid = run.expect_number(&re(PID_LINE), "process id", pid, Duration::from_secs(2))?;
    Ok(format!("first line holds the true pid {pid}"))
}

/// Waits (patiently) for the first pid line, whatever number it holds: the number is
/// `first_line`'s business.
fn started(run: &mut crate::run::Run) -> Result<(), Failure> {
    run.expect_described(
        Source::Stdout,
        &re(PID_LINE),
        "a `process id` line",
        PATIENT,
    )
    .map(|_| ())
}

fn keeps_running(ctx: &mut Ctx) -> Verdict {
    let mut run = ctx.start(Launch::new())?;
    started(&mut run)?;
    let lines_before = run.lines(Source::Stdout).len();
    // Watched for 1 s: for a pass the watch is the check (alive and asleep all along). It
    // ends early only when the program exits, which fails it whenever it comes.
    let share = run.cpu_share(Duration::from_secs(1))?;
    let printed = run.lines(Source::Stdout).len() - lines_before;
    ensure!(
        share < 0.5,
        "asked for {:.0}% of a core over 1 s after its first line: it spins instead of sleeping",
        share * 100.0
    );
    ensure!(
        run.alive(),
        "it stopped running after its first line ({})",
        run.exit()
            .map(crate::run::describe_exit)
            .unwrap_or_default()
    );
    let note = if printed > MANY_LINES_PER_WINDOW || run.flooded() {
        format!(" (note: it printed more than {MANY_LINES_PER_WINDOW} lines in that second; the lecture's loop prints one per 10 s)")
    } else {
        String::new()
    };
    Ok(format!(
        "alive, {:.0}% of a core over 1 s{note}",
        share * 100.0
    ))
}

fn killed(ctx: &mut Ctx) -> Verdict {
    let mut run = ctx.start(Launch::new())?;
    started(&mut run)?;
    run.expect_ended_by(
        Signal::SIGTERM,
        Duration::from_secs(2),
        Duration::from_secs(1),
    )
}
