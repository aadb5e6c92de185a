//! `env` (Env/env.cpp, Env/env.py): refuses to run without ENV_STARTUP, prints it otherwise.

use super::Exercise;
use crate::outcome::Verdict;
use crate::run::transcript::Source;
use crate::run::ExpectExit;
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::quote;
use crate::{ensure, fail};
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "env",
    lecture: &["Env/env.cpp", "Env/env.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "unset",
            "without ENV_STARTUP: a message naming it, non-zero exit",
            unset,
        ),
        Scenario::new("set", "with ENV_STARTUP a path: prints it, exit 0", set),
        Scenario::new(
            "spaces_unicode",
            "a value with spaces and UTF-8 printed verbatim",
            spaces_unicode,
        ),
        Scenario::new("empty", "an empty value counts as set: exit 0", empty),
    ],
};

const VAR: &str = "ENV_STARTUP";
const WAIT: Duration = Duration::from_secs(5);

fn unset(ctx: &mut Ctx) -> Verdict {
    let mut run = ctx.start(Launch::new().unset(VAR))?;
    let exit = run.wait_exit(WAIT)?;
    ExpectExit::Nonzero.check(exit, format!("with {VAR} unset it"))?;
    let mut lines = run.lines(Source::Stdout);
    lines.extend(run.lines(Source::Stderr));
    ensure!(
        lines.iter().any(|l| l.contains(VAR)),
        "it {} but printed no message naming {VAR}",
        crate::run::describe_exit(exit)
    );
    Ok(format!(
        "named {VAR} and {}",
        crate::run::describe_exit(exit)
    ))
}

/// Runs with ENV_STARTUP=`value` and checks the value is printed verbatim and exit is 0.
fn prints(ctx: &mut Ctx, value: &str) -> Verdict {
    let mut run = ctx.start(Launch::new().env(VAR, value))?;
    let exit = run.wait_exit(WAIT)?;
    // The description asks for the value printed, on either stream (as for the message).
    let mut lines = run.lines(Source::Stdout);
    lines.extend(run.lines(Source::Stderr));
    if !value.is_empty() && !lines.iter().any(|l| l.contains(value)) {
        let shown: Vec<String> = lines.iter().take(5).map(|l| quote(l)).collect();
        fail!(
            "expected the value {} printed verbatim; its output was {}",
            quote(value),
            shown.join(", ")
        );
    }
    ExpectExit::SUCCESS.check(exit, format!("with {VAR}={} it", quote(value)))?;
    Ok(format!("printed {} and exited 0", quote(value)))
}

fn set(ctx: &mut Ctx) -> Verdict {
    let value = ctx.workdir().display().to_string();
    prints(ctx, &value)
}

fn spaces_unicode(ctx: &mut Ctx) -> Verdict {
    prints(ctx, "/srv/Grüße aus Köln/日本語 ✓")
}

fn empty(ctx: &mut Ctx) -> Verdict {
    prints(ctx, "")
}
