//! A class of fixtures graded in one place and mode, each scenario compared with what its
//! `fixture.toml` declares for that mode (a `skip` it does not declare included); shared by
//! the trials that prove a scenario judges in every mode (`judged`, `procwatch`).

use super::{tail, Mode, Place};
use crate::fixtures;
use crate::support::Outcome;
use libtest_mimic::Failed;
use std::time::Duration;

/// What to grade: the fixtures, the exercises judged on them, the grader's extra variables.
pub struct Class<'a> {
    pub fixtures: &'a [&'a str],
    pub exercises: &'a [&'a str],
    pub env: &'a [(&'a str, &'a str)],
}

/// A check beyond the declared status, given the fixture's name, the scenario's id and its
/// JSON result (whose status already agrees); `Some` says what is wrong.
pub type Extra<'a> = &'a dyn Fn(&str, &str, &serde_json::Value) -> Option<String>;

/// Grades `class` as one class in `mode` and fails on every scenario that disagrees.
pub fn grade_and_compare(mode: Mode, class: &Class, limit: Duration, extra: Extra) -> Outcome {
    let place = Place::new(mode)?;
    let root = crate::support::root().join("fixtures");
    let mut expected = Vec::new();
    for name in class.fixtures {
        expected.push((*name, fixtures::read(&root.join(name))?));
        place.copy(&root.join(name), &format!("class/{name}"))?;
    }
    let mut cmd = place.sysgrade();
    cmd.envs(class.env.iter().copied())
        .args(["grade", "--class"])
        .arg(place.work.join("class"))
        .args(["--format", "json", "--quiet", "--jobs", "4"]);
    for exercise in class.exercises {
        cmd.args(["--exercise", exercise]);
    }
    let ran = place.run(cmd, limit)?;
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
        for exercise in class
            .exercises
            .iter()
            .filter(|e| fixture.exercises.iter().any(|f| f == *e))
        {
            let Some(e) = graded.iter().find(|e| e["id"] == *exercise) else {
                wrong.push(format!("{name}: exercise {exercise} not in the report"));
                continue;
            };
            for scenario in e["scenarios"].as_array().unwrap_or(&empty) {
                wrong.extend(check(name, fixture, scenario, mode, extra));
            }
        }
    }
    if wrong.is_empty() {
        return Ok(());
    }
    Err(Failed::from(format!(
        "{} mode, {} mismatch(es):\n{}\n\nstderr:\n{}",
        mode.name(),
        wrong.len(),
        wrong.join("\n"),
        tail(&ran.stderr, 2000)
    )))
}

/// What is wrong with one scenario's result: a status other than the declared one, or what
/// `extra` finds.
fn check(
    name: &str,
    fixture: &fixtures::FixtureToml,
    scenario: &serde_json::Value,
    mode: Mode,
    extra: Extra,
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
    extra(name, id, scenario).map(|why| format!("{name}: {id}: {why}"))
}

/// An [`Extra`] helper: `None` when the scenario's transcripts contain `needle`, else what
/// they say instead.
pub fn transcript_says(scenario: &serde_json::Value, needle: &str) -> Option<String> {
    let transcript = scenario["runs"].to_string();
    (!transcript.contains(needle)).then(|| {
        format!(
            "the transcript does not say {needle:?}: {}",
            tail(&transcript, 1500)
        )
    })
}
