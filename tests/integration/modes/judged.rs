//! `modes::judged::<mode>`: the scenarios that once could not judge in some mode give their
//! declared verdicts there, never `skip` (as `same_verdicts` also requires of every fixture):
//! - `files.*`: sizes of files written and deleted at once, seen through the supervisor's
//!   removals (no fanotify as an ordinary user or in a container); the transcript of a
//!   failing `files.stat` says the supervisor saw all ten removals; `files.created` rests on
//!   what the kernel showed, never on the program's listing;
//! - `time_server.*` on servers without SO_REUSEADDR or with it set after `bind`, on the
//!   container's shared network as well.

use super::{tail, Mode, Place};
use crate::fixtures;
use crate::support::Outcome;
use harness::outcome::Status;
use libtest_mimic::{Failed, Trial};
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
    Mode::ALL
        .into_iter()
        .map(|mode| {
            Trial::test(format!("modes::judged::{}", mode.name()), move || {
                judged(mode)
            })
        })
        .collect()
}

fn judged(mode: Mode) -> Outcome {
    let place = Place::new(mode)?;
    let root = crate::support::root().join("fixtures");
    let mut expected = Vec::new();
    for name in GRADED {
        expected.push((name, fixtures::read(&root.join(name))?));
        place.copy(&root.join(name), &format!("class/{name}"))?;
    }
    let mut cmd = place.sysgrade();
    cmd.args(["grade", "--class"])
        .arg(place.work.join("class"))
        .args(["--format", "json", "--quiet", "--jobs", "4"]);
    for exercise in EXERCISES {
        cmd.args(["--exercise", exercise]);
    }
    let ran = place.run(cmd, LIMIT)?;
    let mut wrong = Vec::new();
    wrong.extend(ran.exited_normally(mode).err());
    let report = ran.json(mode, &ran.stdout)?;
    for (name, fixture) in &expected {
        let entry = report.iter().find(|s| {
            s["submission"]
                .as_str()
                .is_some_and(|p| p.ends_with(&format!("/{name}")))
        });
        let Some(entry) = entry else {
            wrong.push(format!("{name}: not in the report"));
            continue;
        };
        let empty = Vec::new();
        let graded = entry["exercises"].as_array().unwrap_or(&empty);
        for exercise in EXERCISES
            .iter()
            .filter(|e| fixture.exercises.iter().any(|f| f == *e))
        {
            let Some(e) = graded.iter().find(|e| e["id"] == *exercise) else {
                wrong.push(format!("{name}: exercise {exercise} not in the report"));
                continue;
            };
            for scenario in e["scenarios"].as_array().unwrap_or(&empty) {
                wrong.extend(check(name, fixture, scenario, mode));
            }
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(Failed::from(format!(
            "{} mode, {} mismatch(es):\n{}\n\nstderr:\n{}",
            mode.name(),
            wrong.len(),
            wrong.join("\n"),
            tail(&ran.stderr, 2000)
        )))
    }
}

/// What is wrong with one scenario's result: a status other than the declared one (a skip
/// included), or a failing `files.stat` that does not rest on all ten removals.
fn check(
    name: &str,
    fixture: &fixtures::FixtureToml,
    scenario: &serde_json::Value,
    mode: Mode,
) -> Option<String> {
    let id = scenario["id"].as_str().unwrap_or("?");
    let got = scenario["status"].as_str().unwrap_or("?");
    let feedback = scenario["feedback"].as_str().unwrap_or("");
    let want = fixture.expected(mode.name(), id);
    if got != want.as_str() {
        return Some(format!(
            "{name}: {id}: expected {}, got {got} ({feedback})",
            want.as_str()
        ));
    }
    if id == "files.stat" && want == Status::Fail {
        let transcript = scenario["runs"].to_string();
        let all = "the supervisor saw 10 file(s) removed from tmp/";
        if !transcript.contains(all) {
            return Some(format!(
                "{name}: {id}: the transcript does not say {all:?}: {}",
                tail(&transcript, 1500)
            ));
        }
    }
    None
}
