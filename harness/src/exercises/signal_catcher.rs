//! `signal_catcher` (Processes/signal_test.py): reports SIGHUP and SIGINT by number and
//! keeps running; SIGTERM ends it.

use super::Exercise;
use crate::fail;
use crate::outcome::{Failure, Verdict};
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

fn started(ctx: &mut Ctx) -> Result<Run, Failure> {
    let mut run = ctx.start(Launch::new())?;
    let pid = i64::from(run.own_pid());
    run.expect_number(&re(r"pid\D*(\d+)"), "pid", pid, WAIT)?;
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
    run.wait_idle(WAIT)
        .map_err(|f| Failure::fail(format!("after {sig}: {}", f.message)))?;
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
