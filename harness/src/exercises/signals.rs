//! `signals` (Processes/signal.cpp): counts loop iterations; SIGINT is answered and survived,
//! SIGHUP reports the count and exits 0.

use super::Exercise;
use crate::outcome::{Failure, Verdict};
use crate::run::transcript::Source;
use crate::run::ExpectExit;
use crate::run::{Mark, Run};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::{number, re};
use crate::{ensure, fail};
use nix::sys::signal::Signal;
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "signals",
    lecture: &["Processes/signal.cpp"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGHUP,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "sigint_survives",
            "three SIGINTs answered, still alive",
            sigint_survives,
        ),
        Scenario::new(
            "sighup_count",
            "SIGHUP reports the number of pid lines and exits 0",
            sighup_count,
        ),
        Scenario::new(
            "prompt",
            "each SIGINT is answered before the loop goes on",
            prompt,
        ),
    ],
};

const ANSWER: &str = r"interr?upting";
const WAIT: Duration = Duration::from_secs(2);
const ANSWER_WITHIN: Duration = Duration::from_secs(1);
/// How long the first pid line may take: no scenario is about a quick start, so a slow one
/// costs nothing.
const PATIENT: Duration = Duration::from_secs(10);

/// Starts the program and waits (patiently) for its first pid line.
fn started(ctx: &mut Ctx) -> Result<Run, Failure> {
    let mut run = ctx.start(Launch::new())?;
    let pid_line = number(run.own_pid());
    let what = format!("a line holding its pid {}", run.own_pid());
    run.expect_described(Source::Stdout, &pid_line, &what, PATIENT)?;
    Ok(run)
}

/// Sends SIGINT number `n` once the program sleeps, and waits for its answer: a line that
/// came after the signal (an answer of several lines to an earlier SIGINT is not this one's).
fn interrupt(run: &mut Run, n: usize) -> Result<(Mark, crate::run::Line), Failure> {
    run.wait_idle(WAIT)?;
    let sent = run.mark();
    run.signal(Signal::SIGINT)?;
    run.expect_stdout_since(sent, &re(ANSWER), ANSWER_WITHIN)
        .map(|line| (sent, line))
        .map_err(|f| f.context(format!("SIGINT #{n}")))
}

fn sigint_survives(ctx: &mut Ctx) -> Verdict {
    let mut run = started(ctx)?;
    for n in 1..=3 {
        interrupt(&mut run, n)?;
    }
    run.expect_still_running(WAIT, "three SIGINTs")?;
    Ok("three SIGINTs answered; still running".into())
}

fn prompt(ctx: &mut Ctx) -> Verdict {
    let mut run = started(ctx)?;
    let pid_line = number(run.own_pid());
    for n in 1..=3 {
        let (sent, answer) = interrupt(&mut run, n)?;
        let between = run.entries_between(sent, &answer);
        let early = between
            .iter()
            .find(|e| e.source == Source::Stdout && pid_line.is_match(&e.text));
        if let Some(e) = early {
            fail!(
                "SIGINT #{n} was answered only after the loop printed another pid line ({}): the handler should answer while the loop sleeps",
                crate::text::quote(&e.text)
            );
        }
    }
    Ok("each SIGINT answered before the loop went on".into())
}

fn sighup_count(ctx: &mut Ctx) -> Verdict {
    let mut run = started(ctx)?;
    run.wait_idle(WAIT)?;
    // Only an answer printed after SIGHUP counts, never a line printed before it.
    let sent = run.mark();
    run.signal(Signal::SIGHUP)?;
    let pattern = re(r"here is my number\s?(\d+)");
    let answer = run.expect_stdout_since(sent, &pattern, ANSWER_WITHIN)?;
    let reported: i64 = pattern
        .captures(&answer.text)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or(-1);
    let pid_line = number(run.own_pid());
    let printed = run
        .entries_before(&answer)
        .iter()
        .filter(|e| e.source == Source::Stdout && pid_line.is_match(&e.text))
        .count() as i64;
    ensure!(
        reported == printed,
        "reported number {reported}, but it printed {printed} pid line(s)"
    );
    let exit = run.wait_exit(ANSWER_WITHIN)?;
    ExpectExit::SUCCESS.check(
        exit,
        format!("reported {reported} correctly, but after SIGHUP it"),
    )?;
    Ok(format!(
        "reported {reported} = pid lines printed, exit status 0"
    ))
}
