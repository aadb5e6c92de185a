//! Shared runs (one run, many verdicts): each exercise that shares a run grades a passing
//! fixture from one run, every member judged from it; and a member whose part of the run
//! another member's defect cut short gets a run of its own, losing nothing for it.

use crate::support::{self, Outcome};
use harness::outcome::Status;
use harness::result::{ExerciseResult, SubmissionResult};
use libtest_mimic::{Failed, Trial};

const SHARED: &str = "shared by";

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![Trial::test(
        "shared::fallback::plotter_crash_on_number_loses_tracks_only",
        fallback_plotter,
    )];
    // A viewer whose defect comes before the closing: the scenarios after it are judged
    // from windows of their own and pass.
    for (fixture, exercise, failing, alone) in [
        (
            "fifo-viewer-no-resize",
            "fifo_viewer",
            "fifo_viewer.resize",
            &["fifo_viewer.fifo", "fifo_viewer.close"][..],
        ),
        (
            "shm-viewer-wrong-size",
            "shm_viewer",
            "shm_viewer.created",
            &["shm_viewer.close"][..],
        ),
    ] {
        trials.push(Trial::test(
            format!("shared::fallback::{fixture}"),
            move || fallback_viewer(fixture, exercise, failing, alone),
        ));
    }
    for (exercise, tool) in [
        ("files", None),
        ("run_process", None),
        ("fork_exec", None),
        ("image_fifo", None),
        ("make_movie", Some(("ffmpeg", "apt-get install ffmpeg"))),
        ("plotter", None),
        ("fifo_viewer", None),
        ("shm_viewer", None),
    ] {
        trials.push(Trial::test(
            format!("shared::one_run::{exercise}"),
            move || one_run(exercise, tool),
        ));
    }
    trials
}

fn grade(fixture: &str, exercise: &str) -> Result<SubmissionResult, Failed> {
    let mut settings = support::settings();
    settings.keep_transcripts = true;
    let dir = support::root().join("fixtures").join(fixture);
    support::grade_dir(&settings, &dir, &[exercise]).map_err(Failed::from)
}

fn exercise<'r>(result: &'r SubmissionResult, id: &str) -> Result<&'r ExerciseResult, Failed> {
    result
        .exercises
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(|| Failed::from(format!("no {id} in the result")))
}

/// Every scenario of `exercise` in good-python passes; the members of its shared run are
/// judged from the same one run (its transcript's label names them all), and hygiene looked
/// at that run and at one run per scenario that does not share.
fn one_run(id: &str, tool: Option<(&str, &str)>) -> Outcome {
    if let Some((tool, install)) = tool {
        if support::skip_without(tool, install)? {
            return Ok(());
        }
    }
    let table = harness::exercises::get(id).ok_or_else(|| Failed::from(format!("no {id}")))?;
    let shares = |short: &str| {
        table
            .scenarios
            .iter()
            .any(|s| s.id == short && s.shared.is_some())
    };
    let result = grade("good-python", id)?;
    if support::overloaded(&result) {
        return Ok(());
    }
    let e = exercise(&result, id)?;
    let mut wrong = Vec::new();
    let mut labels = std::collections::BTreeSet::new();
    let mut alone = 0;
    for s in e.scenarios.iter().filter(|s| !s.id.ends_with(".hygiene")) {
        if s.status == Status::Skip && !s.missing_tools.is_empty() && !support::tools_required() {
            return Ok(());
        }
        if s.status != Status::Pass {
            wrong.push(format!("{}: {:?}, expected pass", s.id, s.status));
        }
        let short = s.id.rsplit('.').next().unwrap_or(&s.id);
        if !shares(short) {
            alone += 1;
            continue;
        }
        match s.runs.as_slice() {
            [run] if run.label.contains(SHARED) => {
                labels.insert(run.label.clone());
            }
            runs => wrong.push(format!(
                "{}: judged from {:?}, expected one shared run",
                s.id,
                runs.iter().map(|r| &r.label).collect::<Vec<_>>()
            )),
        }
    }
    if labels.len() != 1 {
        wrong.push(format!("the scenarios name different runs: {labels:?}"));
    }
    let runs = format!("after {} run(s)", 1 + alone);
    let hygiene = e.scenarios.iter().find(|s| s.id.ends_with(".hygiene"));
    if !hygiene.is_some_and(|h| h.status == Status::Pass && h.feedback.contains(&runs)) {
        wrong.push(format!(
            "hygiene, expected {runs}: {:?}",
            hygiene.map(|h| &h.feedback)
        ));
    }
    support::judged(&wrong, &result)
}

/// A plotter that crashes on the first number typed: `tracks` fails in the shared run; the
/// bad input could not be typed there, so `bad_input` is judged from runs of its own and
/// passes (its own run shows numbers are never plotted, with or without `abc`).
fn fallback_plotter() -> Outcome {
    let result = grade("plotter-crash-on-number", "plotter")?;
    if support::overloaded(&result) {
        return Ok(());
    }
    let e = exercise(&result, "plotter")?;
    let find = |id: &str| e.scenarios.iter().find(|s| s.id == id);
    let mut wrong = Vec::new();
    match find("plotter.tracks") {
        Some(s) if s.status == Status::Fail && s.runs.iter().all(|r| r.label.contains(SHARED)) => {}
        other => wrong.push(format!(
            "tracks: expected a fail from the shared run alone, got {:?}",
            other.map(|s| (
                s.status,
                s.runs.iter().map(|r| &r.label).collect::<Vec<_>>()
            ))
        )),
    }
    match find("plotter.bad_input") {
        Some(s)
            if s.status == Status::Pass
                && s.runs.iter().any(|r| r.label.contains(SHARED))
                && s.runs.iter().any(|r| !r.label.contains(SHARED)) => {}
        other => wrong.push(format!(
            "bad_input: expected a pass from a run of its own after the shared run, got {:?}",
            other.map(|s| (
                s.status,
                s.runs.iter().map(|r| &r.label).collect::<Vec<_>>()
            ))
        )),
    }
    support::judged(&wrong, &result)
}

/// `failing` fails from the shared run; each of `alone` passes from a run of its own (its
/// records hold a run not shared), since the shared run stopped before its part.
fn fallback_viewer(fixture: &str, id: &str, failing: &str, alone: &[&str]) -> Outcome {
    let result = grade(fixture, id)?;
    let e = exercise(&result, id)?;
    if e.scenarios.iter().any(|s| s.status == Status::Skip) && !support::tools_required() {
        return Ok(());
    }
    let find = |id: &str| e.scenarios.iter().find(|s| s.id == id);
    let mut wrong = Vec::new();
    match find(failing) {
        Some(s) if s.status == Status::Fail && s.runs.iter().all(|r| r.label.contains(SHARED)) => {}
        other => wrong.push(format!(
            "{failing}: expected a fail from the shared run alone, got {:?}",
            other.map(|s| (
                s.status,
                s.runs.iter().map(|r| &r.label).collect::<Vec<_>>()
            ))
        )),
    }
    for id in alone {
        match find(id) {
            Some(s)
                if s.status == Status::Pass && s.runs.iter().any(|r| !r.label.contains(SHARED)) => {
            }
            other => wrong.push(format!(
                "{id}: expected a pass from a run of its own, got {:?}",
                other.map(|s| (
                    s.status,
                    s.runs.iter().map(|r| &r.label).collect::<Vec<_>>()
                ))
            )),
        }
    }
    support::judged(&wrong, &result)
}
