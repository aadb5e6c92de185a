//! Seeing a child reaped when none finished by itself: the children of a program whose
//! children run on (a child that never exec'd runs the counter loop) show nothing about
//! reaping. The harness then ends one of them, as a person might with `kill`, and follows a
//! few more counter lines to see whether the program reaps it (`fork_exec.reaped`).

use super::check::new_iterations;
use super::observe::{next_counter, transcript_ms, COUNTER, NEXT};
use crate::run::processes::{Origin, ProcessWatch};
use crate::run::procfs;
use crate::run::Run;
use crate::text::re;
use nix::sys::signal::Signal;
use std::time::Instant;

/// After the harness ended a child to see it reaped: iterations followed at most.
const AFTER_ENDING: usize = 4;

/// What to do beyond following the program for its iterations.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// Nothing: end the program.
    Only,
    /// When no child forked during the observation has finished by itself (and so none could
    /// be seen reaped), end one that still runs and follow a few more counter lines, to see
    /// whether the program reaps it.
    EndingAChild,
}

/// A direct child of `main`, forked before the last counter line, still running and never
/// reaped; `None` when one of them was reaped already (reaping was seen) or none runs.
pub fn still_running_child(
    watch: &ProcessWatch,
    main: i32,
    counters: &[(i64, u64)],
    clock: (Instant, u64),
    speed: f64,
) -> Option<i32> {
    let tree = watch.tree();
    let last_line = counters.last().map_or(0, |(_, t)| *t) as i64;
    // As `Observed::judged_children` has it: forked before the last line was printed.
    let before_last = |at: Instant| transcript_ms(clock, at) + ((125.0 / speed) as i64) < last_line;
    let kids: Vec<_> = tree
        .children_of(main)
        .into_iter()
        .filter(|k| before_last(k.forked))
        .collect();
    if kids.iter().any(|k| k.exited.is_some()) {
        return None;
    }
    kids.first().map(|k| k.pid)
}

/// Ends the child `pid` (SIGKILL) and reads counter lines until it is reaped, or for
/// [`AFTER_ENDING`] iterations (at most eight times as many lines). Lines that do not come
/// end the following quietly: the observation itself is complete.
pub fn end_child(run: &mut Run, watch: &ProcessWatch, pid: i32, at: i64) -> Vec<(i64, u64)> {
    run.note(format!(
        "no child had finished by counter {at}: the harness ended pid {pid} (still running) with SIGKILL, to see whether the program reaps it"
    ));
    let Some(target) = grader_pid(run, watch, pid) else {
        return Vec::new();
    };
    if nix::sys::signal::kill(nix::unistd::Pid::from_raw(target), Signal::SIGKILL).is_err() {
        return Vec::new();
    }
    let pattern = re(COUNTER);
    let mut after: Vec<(i64, u64)> = Vec::new();
    // Iterations, not lines: copies of the program (children running the loop) print the
    // same values.
    let iterations = |after: &[(i64, u64)]| new_iterations(after.iter().map(|(v, _)| *v), at);
    for _ in 0..8 * AFTER_ENDING {
        if iterations(&after) >= AFTER_ENDING {
            break;
        }
        let reaped = watch.tree().get(pid).is_some_and(|p| p.reaped.is_some());
        if reaped {
            break;
        }
        match next_counter(run, &pattern, NEXT) {
            Ok(Some(c)) => after.push(c),
            Ok(None) => {}
            Err(_) => break,
        }
    }
    after
}

/// The pid the grader signals `pid` of the watch's tree by: the same for the connector; for
/// the supervisor's tree (the program's own pids), the run's process whose innermost `NSpid`
/// is `pid`.
fn grader_pid(run: &Run, watch: &ProcessWatch, pid: i32) -> Option<i32> {
    if watch.origin() == Origin::Connector {
        return Some(pid);
    }
    let supervisor = run.supervisor_pid()?;
    procfs::descendants(supervisor)
        .into_iter()
        .map(|p| p.pid)
        .find(|candidate| {
            let status = std::fs::read_to_string(format!("/proc/{candidate}/status"));
            let status = status.unwrap_or_default();
            procfs::status_value(&status, "NSpid")
                .and_then(|v| v.split_whitespace().last())
                .and_then(|n| n.parse::<i32>().ok())
                == Some(pid)
        })
}
