//! `modes::procwatch::<mode>`: `fork_exec` judged without the kernel's process events
//! connector (`SYSGRADE_PROC_EVENTS=seccomp`: the run's supervisor follows the processes
//! through its seccomp filter), as in a real container where the connector does not answer.
//! Every fork_exec fixture gives its declared verdicts, never `skip`, and the transcripts of
//! the failures say the supervisor was the source.

use super::{tail, Mode, Place};
use crate::fixtures;
use crate::support::Outcome;
use libtest_mimic::{Failed, Trial};
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
    Mode::ALL
        .into_iter()
        .map(|mode| {
            Trial::test(format!("modes::procwatch::{}", mode.name()), move || {
                procwatch(mode)
            })
        })
        .collect()
}

fn procwatch(mode: Mode) -> Outcome {
    let place = Place::new(mode)?;
    let root = crate::support::root().join("fixtures");
    let mut expected = Vec::new();
    for name in GRADED {
        expected.push((name, fixtures::read(&root.join(name))?));
        place.copy(&root.join(name), &format!("class/{name}"))?;
    }
    let mut cmd = place.sysgrade();
    cmd.env("SYSGRADE_PROC_EVENTS", "seccomp")
        .args(["grade", "--class"])
        .arg(place.work.join("class"))
        .args(["--format", "json", "--quiet", "--jobs", "4"])
        .args(["--exercise", "fork_exec"]);
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
        let exercise = entry.and_then(|e| {
            e["exercises"]
                .as_array()?
                .iter()
                .find(|x| x["id"] == "fork_exec")
        });
        let Some(exercise) = exercise else {
            wrong.push(format!("{name}: fork_exec not in the report"));
            continue;
        };
        let empty = Vec::new();
        for scenario in exercise["scenarios"].as_array().unwrap_or(&empty) {
            wrong.extend(check(name, fixture, scenario, mode));
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
/// included), or a failing scenario whose transcript does not name the supervisor as the
/// source (passing ones keep no transcript).
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
    let transcript = scenario["runs"].to_string();
    if got == "fail" && id != "fork_exec.hygiene" && !transcript.contains(SOURCE) {
        return Some(format!(
            "{name}: {id}: the transcript does not say {SOURCE:?}: {}",
            tail(&transcript, 1500)
        ));
    }
    None
}
