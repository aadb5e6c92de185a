//! `signal_catcher` (Processes/signal_test.py): reports SIGHUP and SIGINT by number and
//! keeps running; SIGTERM ends it.

use super::Exercise;
use crate::fail;
use crate::outcome::{Failure, Verdict};
use crate::run::transcript::Source;
use crate::run::Run;
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::re;
use nix::sys::signal::Signal;
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "signal_catcher",
    lecture: &["Processes/signal_test.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGTERM,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "sighup",
            "SIGHUP prints `got signal 1` and it keeps running",
            sighup,
        ),
        Scenario::new(
            "sigint",
            "SIGINT prints `got signal 2` and it keeps running",
            sigint,
        ),
        Scenario::new("sigterm", "SIGTERM ends it within 1 s", sigterm),
    ],
};

const WAIT: Duration = Duration::from_secs(2);
/// How long the `pid` line may take: no scenario is about a quick start.
const PATIENT: Duration = Duration::from_secs(10);

/// Starts the program and waits for its `pid N` line, its sign that it is ready, whatever
/// number it holds: no scenario of this exercise is about the number.
fn started(ctx: &mut Ctx) -> Result<Run, Failure> {
    let mut run = ctx.start(Launch::new())?;
    run.expect_described(Source::Stdout, &re(r"pid\D*\d+"), "a `pid N` line", PATIENT)?;
    Ok(run)
}

fn caught(ctx: &mut Ctx, sig: Signal) -> Verdict {
    let mut run = started(ctx)?;
    run.wait_idle(WAIT)?;
    // Only an answer printed after the signal counts, never a line printed before it.
    let sent = run.mark();
    run.signal(sig)?;
    let n = sig as i32;
    let pattern = re(r"got signal\D{0,3}(\d+)");
    let line = run.expect_stdout_since(sent, &pattern, Duration::from_secs(1))?;
    let got: i64 = pattern
        .captures(&line.text)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or(-1);
    if got != i64::from(n) {
        fail!(
            "{sig} is signal {n}, but it printed {}",
            crate::text::quote(&line.text)
        );
    }
    run.expect_still_running(WAIT, sig.as_str())?;
    Ok(format!("printed `got signal {n}` and kept running"))
}

fn sighup(ctx: &mut Ctx) -> Verdict {
    caught(ctx, Signal::SIGHUP)
}

fn sigint(ctx: &mut Ctx) -> Verdict {
    caught(ctx, Signal::SIGINT)
}

fn sigterm(ctx: &mut Ctx) -> Verdict {
    let mut run = started(ctx)?;
    run.expect_ended_by(Signal::SIGTERM, WAIT, Duration::from_secs(1))
}
