//! `fork_exec` (the student project's p4_b_hw8.py): a counter printed every 0.5 s; at every
//! tenth iteration the program forks and the child execs `ls -l`.
//!
//! The process tree is followed as it happens through the kernel's process events
//! ([`crate::sandbox::proc_events`]), or, where the connector does not answer (a container),
//! through the run's supervisor ([`crate::sandbox::proc_calls`]): every fork, exec, exit and
//! reaping, so a child that lives a millisecond is judged like any other. The program's clock runs ten times faster
//! under libfaketime where it is installed (25 iterations take 1.25 s instead of 12.5 s); what
//! is checked is the same, and durations are reported in the program's own time.

mod check;
mod ending;
mod observe;

use super::Exercise;
use crate::outcome::Verdict;
use crate::scenario::Layer;
use crate::scenario::{tools::FAKETIME, Need};
use crate::scenario::{Ctx, Scenario, Shared};
use crate::text::re;
use crate::{ensure, fail};
use ending::Follow;
use observe::{factor, observe, Observed, PROBES};
use std::time::Duration;

/// The process tree is followed through the process events (the kernel's connector, or the
/// supervisor's seccomp filter); libfaketime speeds it up.
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
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "counts",
            "the counter goes up by one, from one process only",
            counts,
        )
        .shared(&RUN)
        .requires(NEEDS),
        Scenario::new(
            "children",
            "one child per ten iterations, each becoming `ls -l`",
            children,
        )
        .shared(&RUN)
        .requires(NEEDS),
        Scenario::new(
            "reaped",
            "every finished child is reaped within 1 s",
            reaped,
        )
        .shared(&RUN)
        .requires(NEEDS),
    ],
};

/// The three scenarios judge one run's counter and process tree. `counts` and `children`
/// judge it as it stood when the counting ended, before the harness ended a child to see it
/// reaped (`reaped` alone needs that).
static RUN: Shared<Observed> = Shared {
    why:
        "the counter, the children it forks and their reaping are one run's lines and process tree",
    observe: |ctx| observe(ctx, Follow::EndingAChild),
    judges: &[
        ("counts", |o| judge_counts(&o.as_counted()).into()),
        ("children", |o| judge_children(&o.as_counted()).into()),
        ("reaped", |o| judge_reaped(o).into()),
    ],
};

/// A finished child must be reaped within this much of the program's time.
const REAP_WITHIN: Duration = Duration::from_secs(1);
/// A line of `ls -l`'s long listing naming the first probe file.
const LISTING: &str = r"^[-dlcbps][-rwxsStT]{9}\S*\s+\d+\s.*\ssysgrade-probe-a\.txt$";

fn counts(ctx: &mut Ctx) -> Verdict {
    judge_counts(&observe(ctx, Follow::Only)?)
}

fn judge_counts(obs: &Observed) -> Verdict {
    let mut seen = std::collections::HashSet::new();
    let mut prev: Option<i64> = None;
    for &(value, at) in &obs.counters {
        if let Some(p) = prev {
            // No second process could have printed it: the counter itself went back.
            ensure!(
                value > p || obs.copies_at(at) > 0,
                "the counter went from {p} back to {value}{}: it should go up by one each iteration, without starting again",
                after_fork(obs, at)
            );
        }
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

/// " right after it forked at counter 10" when the line printed at `at` (transcript ms) is
/// the first after a fork.
fn after_fork(obs: &Observed, at: u64) -> String {
    let before = obs.counters.iter().take_while(|(_, t)| *t < at).count();
    obs.children()
        .into_iter()
        .filter(|k| obs.ms(k.forked) < at as i64)
        .filter(|k| obs.line_at(k.forked).is_some_and(|i| i + 1 >= before))
        .map(|k| {
            format!(
                " right after it forked at counter {}",
                obs.counter_at(k.forked)
            )
        })
        .next()
        .unwrap_or_default()
}

fn children(ctx: &mut Ctx) -> Verdict {
    judge_children(&observe(ctx, Follow::Only)?)
}

fn judge_children(obs: &Observed) -> Verdict {
    let kids = obs.judged_children();
    let at: Vec<i64> = kids.iter().map(|k| obs.counter_at(k.forked)).collect();
    let tens = check::tens(&obs.counters);
    let expected = if tens.is_empty() {
        "expected a child at every tenth iteration, but the counter never showed one (10, 20, …)"
            .to_string()
    } else {
        format!(
            "expected one per ten iterations: {} (at {})",
            tens.len(),
            numbers(&tens)
        )
    };
    ensure!(
        !kids.is_empty(),
        "forked no child in {} iterations (counter {} to {}); {expected}{}",
        obs.counters.len(),
        obs.counters.first().map_or(0, |(v, _)| *v),
        obs.last(),
        check::restarted(obs)
    );
    ensure!(
        kids.len() == tens.len(),
        "forked {} child(ren) before counter {} (at counter {}); expected one per ten iterations: {} (at {})",
        kids.len(),
        obs.last(),
        numbers(&at),
        tens.len(),
        numbers(&tens)
    );
    check::children(obs, &kids)?;
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
        numbers(&tens)
    ))
}

fn reaped(ctx: &mut Ctx) -> Verdict {
    judge_reaped(&observe(ctx, Follow::EndingAChild)?)
}

fn judge_reaped(obs: &Observed) -> Verdict {
    let kids = obs.judged_children();
    ensure!(
        !kids.is_empty(),
        "it never forked up to counter {}: with no child, nothing shows that it reaps its children (fork a child at every tenth iteration, and wait for it)",
        obs.last()
    );
    let limit = obs.scale.real(REAP_WITHIN.div_f64(obs.speed));
    let lines: Vec<(i64, u64)> = obs.counters.iter().chain(&obs.after).copied().collect();
    let mut late = Vec::new();
    let mut seen_reaped = 0;
    for kid in &kids {
        let Some((exited, _)) = kid.exited else {
            continue;
        };
        let end = kid.reaped.unwrap_or(obs.until);
        let waited = end.saturating_duration_since(exited);
        // Iterations meanwhile: the program's own clock, immune to load.
        let (from, to) = (obs.ms(exited), obs.ms(end));
        let reached = lines
            .iter()
            .filter(|(_, t)| (*t as i64) <= from)
            .map(|(v, _)| *v)
            .max()
            .unwrap_or(0);
        let meanwhile = check::new_iterations(
            lines
                .iter()
                .filter(|(_, t)| (*t as i64) > from && (*t as i64) < to)
                .map(|(v, _)| *v),
            reached,
        );
        // Copies of the program (children running the loop) print the values too, some
        // ahead of the parent: each may lead it by an iteration.
        let lead = obs.copies_at(from.max(0) as u64);
        if waited > limit && meanwhile >= 2 + lead {
            let secs = waited.as_secs_f64() * obs.speed;
            late.push(match kid.reaped {
                Some(_) => format!("{} stayed a zombie for {secs:.1} s", obs.name(kid)),
                None => format!(
                    "{} was still a zombie {secs:.1} s after it ended",
                    obs.name(kid)
                ),
            });
        } else if kid.reaped.is_some() {
            seen_reaped += 1;
        }
    }
    let ended = obs.ended.map_or_else(String::new, |(pid, at)| {
        format!(" (no child had finished by itself by counter {at}: the harness ended pid {pid} to see it reaped)")
    });
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
            "{}{clock}{ended}; every finished child must be reaped within 1 s: {}",
            late.join("; "),
            advice(obs.python)
        );
    }
    // A pass needs a reaping seen: children that never finish show nothing about it.
    ensure!(
        seen_reaped > 0,
        "no child was seen reaped: of the {} child(ren) forked before counter {}, none had finished by then{ended}",
        kids.len(),
        obs.last()
    );
    Ok(format!(
        "every finished child ({seen_reaped}) was reaped within 1 s{ended}"
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
fn numbers(items: &[i64]) -> String {
    list(&items.iter().map(i64::to_string).collect::<Vec<_>>())
}

/// "a and b", "a, b and c", "none".
fn list(items: &[String]) -> String {
    match items {
        [] => "none".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests;
