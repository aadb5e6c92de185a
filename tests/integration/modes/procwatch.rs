//! `modes::procwatch::<mode>`: `fork_exec` judged without the kernel's process events
//! connector (`SYSGRADE_PROC_EVENTS=seccomp`: the run's supervisor follows the processes
//! through its seccomp filter), as in a real container where the connector does not answer.
//! Every fork_exec fixture gives its declared verdicts, never `skip`, and the transcripts of
//! the failures say the supervisor was the source.

use super::declared::transcript_says;
use super::declared::{grade_and_compare, Class};
use super::{per_mode, Mode};
use crate::support::Outcome;
use libtest_mimic::Trial;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(900);

/// fork_exec's fixtures, one defect each, and passing programs in Python and C++.
const GRADED: [&str; 6] = [
    "good-python",
    "good-cpp",
    "fork-exec-dies-before-exec",
    "fork-exec-every-fifth",
    "fork-exec-no-exec",
    "fork-exec-no-wait",
];
/// What a transcript says when the supervisor followed the processes.
const SOURCE: &str = "following its processes through the supervisor's seccomp notifications";

pub fn trials() -> Vec<Trial> {
    per_mode("modes::procwatch", procwatch)
}

fn procwatch(mode: Mode) -> Outcome {
    let class = Class {
        fixtures: &GRADED,
        exercises: &["fork_exec"],
        env: &[("SYSGRADE_PROC_EVENTS", "seccomp")],
    };
    grade_and_compare(mode, &class, LIMIT, &names_the_supervisor)
}

/// A failure's transcript says the supervisor was the source, and its runs carry the
/// processes followed (`runs[].processes`, for the HTML report) (passing scenarios keep no
/// transcript; hygiene follows no process).
fn names_the_supervisor(_: &str, id: &str, scenario: &serde_json::Value) -> Option<String> {
    let failed = scenario["status"].as_str() == Some("fail");
    if !failed || id == "fork_exec.hygiene" {
        return None;
    }
    let runs = scenario["runs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let followed = runs
        .iter()
        .any(|r| r["processes"].as_array().is_some_and(|p| !p.is_empty()));
    if !followed {
        return Some(format!("{id}: no `processes` in its runs"));
    }
    transcript_says(scenario, SOURCE)
}
