//! `fork_exec` (the student project's p4_b_hw8.py): a counter printed every 0.5 s; at every
//! tenth iteration the program forks and the child execs `ls -l`.
//!
//! The process tree is followed as it happens through the kernel's process events
//! ([`crate::sandbox::proc_events`]): every fork, exec, exit and reaping, so a child that
//! lives a millisecond is judged like any other. The program's clock runs ten times faster
//! under libfaketime where it is installed (25 iterations take 1.25 s instead of 12.5 s); what
//! is checked is the same, and durations are reported in the program's own time.

mod observe;

use super::Exercise;
use crate::outcome::{Failure, Verdict};
use crate::sandbox::proc_events::ProcRecord;
use crate::sandbox::Layer;
use crate::scenario::{tools::FAKETIME, Need};
use crate::scenario::{Ctx, Scenario};
use crate::text::{quote, re};
use crate::{ensure, fail};
use observe::{factor, observe, Observed, PROBES};
use std::time::Duration;

/// The process tree is followed through the kernel's process events; libfaketime speeds it up.
const NEEDS: &[Need] = &[
    Need::Layer(Layer::ProcConnector),
    Need::Faster(
        FAKETIME,
        "its clock runs in real time: about 12 s instead of 1.5 s",
    ),
];

pub static EXERCISE: Exercise = Exercise {
    id: "fork_exec",
    lecture: &[],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    scenarios: &[
        Scenario::new(
            "counts",
            "the counter goes up by one, from one process only",
            counts,
        )
        .requires(NEEDS),
        Scenario::new(
            "children",
            "one child per ten iterations, each becoming `ls -l`",
            children,
        )
        .requires(NEEDS),
        Scenario::new(
            "reaped",
            "every finished child is reaped within 1 s",
            reaped,
        )
        .requires(NEEDS),
    ],
};

/// A finished child must be reaped within this much of the program's time.
const REAP_WITHIN: Duration = Duration::from_secs(1);
/// A line of `ls -l`'s long listing naming the first probe file.
const LISTING: &str = r"^[-dlcbps][-rwxsStT]{9}\S*\s+\d+\s.*\ssysgrade-probe-a\.txt$";

fn counts(ctx: &mut Ctx) -> Verdict {
    let obs = observe(ctx)?;
    let mut seen = std::collections::HashSet::new();
    let mut prev: Option<i64> = None;
    for &(value, _) in &obs.counters {
        if !seen.insert(value) {
            fail!(
                "printed {value} twice (again after {}): a second process runs the counter loop, like a child that did not exec `ls -l`",
                prev.unwrap_or(value)
            );
        }
        if let Some(p) = prev {
            ensure!(
                value == p + 1,
                "the counter went from {p} to {value}; expected it to go up by one"
            );
        }
        prev = Some(value);
    }
    let first = obs.counters.first().map_or(0, |(v, _)| *v);
    Ok(format!(
        "counted from {first} to {} by one, from one process",
        obs.last()
    ))
}

fn children(ctx: &mut Ctx) -> Verdict {
    let obs = observe(ctx)?;
    // Only the iterations before the last counter seen are judged (see `judged_children`).
    let last = obs.last();
    let kids = obs.judged_children();
    let mut tens: Vec<i64> = obs
        .counters
        .iter()
        .map(|(v, _)| *v)
        .filter(|v| *v > 0 && v % 10 == 0 && *v < last)
        .collect();
    tens.dedup();
    let at: Vec<String> = kids
        .iter()
        .map(|k| obs.counter_at(k.forked).to_string())
        .collect();
    ensure!(
        kids.len() == tens.len(),
        "forked {} child(ren) before counter {} (at counter {}); expected one per ten iterations: {} (at {})",
        kids.len(),
        last,
        list(&at),
        tens.len(),
        list(&tens.iter().map(i64::to_string).collect::<Vec<_>>())
    );
    for kid in &kids {
        check_child(&obs, kid)?;
    }
    let listing = re(LISTING);
    let listed = obs.stdout.iter().filter(|l| listing.is_match(l)).count();
    ensure!(
        listed >= kids.len(),
        "the folder's long listing (a line like \"-rw-r--r-- 1 … {}\") appeared {listed} time(s) for {} child(ren): each child should run `ls -l` in the program's folder",
        PROBES[0],
        kids.len()
    );
    Ok(format!(
        "{} child(ren), one per ten iterations (at counter{} {}); each became `ls -l` and listed the folder, none ran the counter loop",
        kids.len(),
        if tens.len() == 1 { "" } else { "s" },
        list(&tens.iter().map(i64::to_string).collect::<Vec<_>>())
    ))
}

/// One child: it must exec `ls -l` and fork nothing itself.
fn check_child(obs: &Observed, kid: &ProcRecord) -> Result<(), Failure> {
    let forked_at = obs.counter_at(kid.forked);
    let Some(exec) = kid.execs.first() else {
        let state = match kid.exited {
            Some((_, exit)) => format!("it {}", crate::run::describe_exit(exit)),
            None => "it was still running".to_string(),
        };
        fail!(
            "the child forked at counter {forked_at} (pid {}) never called exec ({state}): it ran the parent's code, the counter loop, instead of becoming `ls -l`",
            kid.pid
        );
    };
    let words: Vec<&str> = exec.command.split_whitespace().collect();
    let program = words
        .first()
        .map_or("", |w| w.rsplit('/').next().unwrap_or(w));
    let long = words
        .get(1..)
        .unwrap_or(&[])
        .iter()
        .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('l'));
    // Only the name is known when the child was gone before its command line was read.
    let only_comm = program == "[ls]" || exec.command == crate::sandbox::proc_events::UNKNOWN;
    ensure!(
        (program == "ls" && long) || only_comm,
        "the child forked at counter {forked_at} (pid {}) became {}; expected `ls -l`",
        kid.pid,
        quote(&exec.command)
    );
    if let Some(grandchild) = obs.procs.iter().find(|p| p.parent == kid.pid) {
        fail!(
            "the child forked at counter {forked_at} forked again ({}): only the counting process should fork",
            obs.name(grandchild)
        );
    }
    Ok(())
}

fn reaped(ctx: &mut Ctx) -> Verdict {
    let obs = observe(ctx)?;
    let kids = obs.judged_children();
    ensure!(
        !kids.is_empty(),
        "it never forked up to counter {}: there was no child to reap",
        obs.last()
    );
    let limit = ctx.clock().real(REAP_WITHIN.div_f64(obs.speed));
    let mut late = Vec::new();
    let mut finished = 0;
    for kid in &kids {
        let Some((exited, _)) = kid.exited else {
            continue;
        };
        finished += 1;
        let end = kid.reaped.unwrap_or(obs.until);
        let waited = end.saturating_duration_since(exited);
        // Counter lines printed meanwhile: the program's own clock, immune to load.
        let (from, to) = (obs.ms(exited), obs.ms(end));
        let lines = obs
            .counters
            .iter()
            .filter(|(_, t)| (*t as i64) > from && (*t as i64) < to)
            .count();
        if waited > limit && lines >= 2 {
            let secs = waited.as_secs_f64() * obs.speed;
            late.push(match kid.reaped {
                Some(_) => format!("{} stayed a zombie for {secs:.1} s", obs.name(kid)),
                None => format!(
                    "{} was still a zombie {secs:.1} s after it ended",
                    obs.name(kid)
                ),
            });
        }
    }
    if !late.is_empty() {
        let clock = if obs.speed > 1.0 {
            format!(
                " (the program's time; its clock ran {}x fast)",
                factor(obs.speed)
            )
        } else {
            String::new()
        };
        fail!(
            "{}{clock}; every finished child must be reaped within 1 s: {}",
            late.join("; "),
            advice(obs.python)
        );
    }
    if finished == 0 {
        return Ok(format!(
            "no child had finished by counter {}, so none needed reaping",
            obs.last()
        ));
    }
    Ok(format!(
        "every finished child ({finished}) was reaped within 1 s"
    ))
}

fn advice(python: bool) -> &'static str {
    if python {
        "call os.waitpid(-1, os.WNOHANG) in the loop until it returns (0, 0), or reap in a SIGCHLD handler (signal.signal(signal.SIGCHLD, handler) calling os.waitpid)"
    } else {
        "call waitpid(-1, &status, WNOHANG) in the loop until it returns 0, or reap in a SIGCHLD handler that calls waitpid"
    }
}

/// "10 and 20", "10, 20 and 30", "none".
fn list(items: &[String]) -> String {
    match items {
        [] => "none".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
