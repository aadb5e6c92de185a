//! `modes::judged::<mode>`: the scenarios that once could not judge in some mode give their
//! declared verdicts there, never `skip` (as `same_verdicts` also requires of every fixture):
//! - `files.*`: sizes of files written and deleted at once, seen through the supervisor's
//!   removals (no fanotify as an ordinary user or in a container); the transcript of a
//!   failing `files.stat` says the supervisor saw all ten removals; `files.created` rests on
//!   what the kernel showed, never on the program's listing;
//! - `time_server.*` on servers without SO_REUSEADDR or with it set after `bind`, on the
//!   container's shared network as well.

use super::declared::{grade_and_compare, transcript_says, Class};
use super::{per_mode, Mode};
use crate::support::Outcome;
use libtest_mimic::Trial;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(900);

/// The fixtures, and the exercises judged on them here.
const GRADED: [&str; 8] = [
    "good-python",
    "files-250-chars",
    "files-keeps-tmp",
    "files-bare-size",
    "files-lowercase",
    "files-exists-status1",
    "time-server-no-reuseaddr",
    "time-server-reuseaddr-after-bind",
];
const EXERCISES: [&str; 2] = ["files", "time_server"];

pub fn trials() -> Vec<Trial> {
    per_mode("modes::judged", judged)
}

fn judged(mode: Mode) -> Outcome {
    let class = Class {
        fixtures: &GRADED,
        exercises: &EXERCISES,
        env: &[],
    };
    grade_and_compare(mode, &class, LIMIT, &stat_rests_on_removals)
}

/// A failing `files.stat` must rest on all ten removals the supervisor saw.
fn stat_rests_on_removals(_: &str, id: &str, scenario: &serde_json::Value) -> Option<String> {
    let failed = scenario["status"].as_str() == Some("fail");
    (id == "files.stat" && failed)
        .then(|| transcript_says(scenario, "the supervisor saw 10 file(s) removed from tmp/"))
        .flatten()
}
