//! `process` (Processes/process.cpp): prints its process id, user id and group id, exits 0.

use super::Exercise;
use crate::outcome::Verdict;
use crate::run::transcript::Source;
use crate::run::ExpectExit;
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::re;
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "process",
    lecture: &["Processes/process.cpp"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new("ids", "prints its real pid, uid and gid", ids),
        Scenario::new("exit", "exits with status 0", exit),
    ],
};

fn ids(ctx: &mut Ctx) -> Verdict {
    let mut run = ctx.start(Launch::new())?;
    let want = [
        ("process id", run.own_pid() as i64),
        ("user id", run.uid() as i64),
        ("group id", run.gid() as i64),
    ];
    let mut seen = Vec::new();
    for (label, expected) in want {
        run.rewind(Source::Stdout);
        let pattern = re(&format!(r"{label}\D*(\d+)"));
        let hint = if label == "process id" {
            " (getppid() instead of getpid()?)"
        } else {
            " (a hard-coded number?)"
        };
        let got = run
            .expect_number(&pattern, label, expected, Duration::from_secs(5))
            .map_err(|f| f.hint(hint))?;
        seen.push(format!("{label} {got}"));
    }
    Ok(format!("{} all true", seen.join(", ")))
}

fn exit(ctx: &mut Ctx) -> Verdict {
    let mut run = ctx.start(Launch::new())?;
    let status = run.wait_exit(Duration::from_secs(5))?;
    ExpectExit::SUCCESS.check_alone(status)?;
    Ok("exit status 0".into())
}
