//! `run` (Subprocess/run.py): prints `i=0` … `i=9`; with one integer argument N prints
//! `i=0` … `i=N-1` and `Using command line args` on standard error; a non-integer argument
//! is an error.

use super::Exercise;
use crate::outcome::{Failure, Verdict};
use crate::run::describe_exit;
use crate::run::transcript::Source;
use crate::run::ExpectExit;
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::{quote, re};
use crate::{ensure, fail};
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "run",
    lecture: &["Subprocess/run.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new("default", "no argument: i=0 … i=9, exit 0", default),
        Scenario::new(
            "with_arg",
            "argument 3: i=0 … i=2; argument 0: no i= line; exit 0 both times",
            with_arg,
        ),
        Scenario::new(
            "streams",
            "the i= lines on stdout, `Using command line args` on stderr only",
            streams,
        ),
        Scenario::new("bad_arg", "a non-integer argument: non-zero exit", bad_arg),
    ],
};

const WAIT: Duration = Duration::from_secs(5);
const COUNTER: &str = r"^\s*i\s*=\s*(-?\d+)\s*$";
const MESSAGE: &str = r"using command line arg";

/// The numbers of the `i=N` lines among `lines`.
fn counted(lines: &[String]) -> Vec<i64> {
    let pattern = re(COUNTER);
    lines
        .iter()
        .filter_map(|l| pattern.captures(l)?.get(1)?.as_str().parse().ok())
        .collect()
}

/// `i=0, i=1, i=2 (3 lines)`, or `no i= line`.
fn describe(numbers: &[i64]) -> String {
    if numbers.is_empty() {
        return "no i= line".into();
    }
    let shown: Vec<String> = numbers.iter().take(12).map(|n| format!("i={n}")).collect();
    let more = if numbers.len() > 12 { ", …" } else { "" };
    let plural = if numbers.len() == 1 { "" } else { "s" };
    format!(
        "{}{more} ({} line{plural})",
        shown.join(", "),
        numbers.len()
    )
}

/// Runs with `args` to its end, checks the `i=` lines and exit 0. The lines are counted on
/// both streams: which stream they belong on is `streams`' business alone.
fn counts(ctx: &mut Ctx, args: &[&str], n: i64) -> Result<(), Failure> {
    let launch = args.iter().fold(Launch::new(), |l, a| l.arg(*a));
    let mut run = ctx.start(launch)?;
    let exit = run.wait_exit(WAIT)?;
    let with = if args.is_empty() {
        "with no argument".to_string()
    } else {
        format!("with argument {}", args.join(" "))
    };
    let lines: Vec<String> = run
        .entries()
        .into_iter()
        .filter(|e| matches!(e.source, Source::Stdout | Source::Stderr))
        .map(|e| e.text)
        .collect();
    let got = counted(&lines);
    let want: Vec<i64> = (0..n).collect();
    if got != want {
        fail!(
            "{with} expected {}; it printed {}",
            describe(&want),
            describe(&got)
        );
    }
    ExpectExit::SUCCESS.check(exit, format!("{with} it printed the right lines but"))?;
    Ok(())
}

fn default(ctx: &mut Ctx) -> Verdict {
    counts(ctx, &[], 10)?;
    Ok("printed i=0 … i=9 and exited 0".into())
}

fn with_arg(ctx: &mut Ctx) -> Verdict {
    counts(ctx, &["3"], 3)?;
    counts(ctx, &["0"], 0)?;
    Ok("argument 3 printed i=0 … i=2, argument 0 printed no i= line; both exited 0".into())
}

fn streams(ctx: &mut Ctx) -> Verdict {
    let mut run = ctx.start(Launch::new().arg("3"))?;
    run.wait_exit(WAIT)?;
    let message = re(MESSAGE);
    let (out, err) = (run.lines(Source::Stdout), run.lines(Source::Stderr));
    if let Some(line) = out.iter().find(|l| message.is_match(l)) {
        fail!(
            "{} was printed on stdout; it belongs on stderr, apart from the i= lines",
            quote(line)
        );
    }
    ensure!(
        err.iter().any(|l| message.is_match(l)),
        "with an argument, expected `Using command line args` on stderr; stderr had {}",
        if err.is_empty() {
            "nothing".to_string()
        } else {
            quote(&err.join(" | "))
        }
    );
    let stray = counted(&err);
    ensure!(
        stray.is_empty(),
        "i= lines appeared on stderr ({}); they belong on stdout",
        describe(&stray)
    );
    ensure!(
        !counted(&out).is_empty(),
        "with the argument 3 no i= line appeared on stdout"
    );
    Ok("i= lines on stdout, `Using command line args` on stderr".into())
}

fn bad_arg(ctx: &mut Ctx) -> Verdict {
    let mut run = ctx.start(Launch::new().arg("three"))?;
    let exit = run.wait_exit(WAIT)?;
    ExpectExit::Nonzero.check(exit, "with the argument \"three\" (not an integer) it")?;
    Ok(format!(
        "with the argument \"three\" it {}",
        describe_exit(exit)
    ))
}
