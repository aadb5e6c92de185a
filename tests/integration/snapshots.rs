//! insta snapshots in `snapshots/`: the reference binaries' normalised output per scenario,
//! and the human report of the complete fixtures (verdicts and feedback; transcripts, whose
//! interleaving depends on timing, are left out). `cargo xtask snapshots` regenerates.
//!
//! An exercise whose output depends on an optional tool (ffmpeg, faketime, matplotlib) has
//! snapshots of its own, taken only where the tool is installed: skipped with a note on a
//! fresh machine, required in CI (`SYSGRADE_REQUIRE_TOOLS`), like every other tool gate.

use crate::support::{self, Outcome};
use harness::result::SubmissionResult;
use harness::run::transcript::Source;
use libtest_mimic::Trial;
use std::fmt::Write;

/// The complete fixtures: their whole human report is a snapshot of its own.
pub const COMPLETE: [&str; 4] = ["good-python", "good-cpp", "lecture-layout", "mapped"];

pub fn trials() -> Vec<Trial> {
    let mut trials: Vec<Trial> = harness::exercises::ALL
        .iter()
        .filter(|e| !e.scenarios.is_empty())
        .map(|e| {
            Trial::test(format!("snapshot::reference::{}", e.id), move || {
                reference(e.id)
            })
        })
        .collect();
    for name in COMPLETE {
        trials.push(Trial::test(
            format!("snapshot::report::{name}"),
            move || report(name, None),
        ));
        for e in harness::exercises::ALL
            .iter()
            .filter(|e| !tools(e.id).is_empty())
        {
            trials.push(Trial::test(
                format!("snapshot::report::{name}::{}", e.id),
                move || report(name, Some(e.id)),
            ));
        }
    }
    trials
}

/// The optional tools an exercise's output depends on: (command, install).
fn tools(exercise: &str) -> &'static [(&'static str, &'static str)] {
    match exercise {
        "make_movie" => &[
            ("ffmpeg", "apt-get install -y ffmpeg"),
            ("ffprobe", "apt-get install -y ffmpeg"),
        ],
        "fork_exec" => &[("faketime", "apt-get install -y faketime")],
        "plotter" => &[("matplotlib", "apt-get install -y python3-matplotlib")],
        "fifo_viewer" | "fifo_writer_ui" | "shm_viewer" | "shm_writer_ui" => {
            &[("PyQt6", "apt-get install -y python3-pyqt6 pyqt6-dev-tools")]
        }
        _ => &[],
    }
}

/// `Ok(true)` when a tool `exercise` needs is missing here (noted; an error in CI).
pub fn lacks_tools(exercise: &str) -> Result<bool, libtest_mimic::Failed> {
    for (tool, install) in tools(exercise) {
        // The harness's own questions, of the interpreter programs run with.
        let missing = if *tool == "matplotlib" {
            !harness::python::has_matplotlib(&support::settings().python)
        } else if *tool == "PyQt6" {
            !harness::python::has_pyqt(&support::settings().python, "PyQt6", true)
        } else {
            harness::settings::which(tool).is_none()
        };
        if missing && support::skip_missing(tool, install)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn reference(id: &str) -> Outcome {
    if lacks_tools(id)? {
        return Ok(());
    }
    let mut settings = support::settings();
    settings.keep_transcripts = true;
    let result = support::grade_dir(&settings, &support::root().join("reference"), &[id])?;
    let text = program_output(&result);
    support::insta_settings().bind(|| insta::assert_snapshot!(format!("reference__{id}"), text));
    Ok(())
}

/// Per scenario and run: what the harness did, what the program printed on each stream.
fn program_output(result: &SubmissionResult) -> String {
    let mut out = String::new();
    for s in result.exercises.iter().flat_map(|e| &e.scenarios) {
        let _ = writeln!(out, "== {} ({})", s.id, s.status.as_str());
        for run in &s.runs {
            for source in [Source::Harness, Source::Stdout, Source::Stderr] {
                let mut lines: Vec<&str> = run
                    .transcript
                    .iter()
                    .filter(|e| e.source == source)
                    .map(|e| e.text.as_str())
                    .collect();
                // When the program exited relative to the harness's last step (closing its
                // input, say) depends on timing: its exit is listed last.
                lines.sort_by_key(|l| l.starts_with("the program "));
                if !lines.is_empty() {
                    let _ = writeln!(out, "  {} {}:", run.label, source.label());
                    for line in lines {
                        let _ = writeln!(out, "    {line}");
                    }
                }
            }
        }
    }
    out
}

/// The report of fixture `name`: on the exercises that need no optional tool, or on `only`.
fn report(name: &str, only: Option<&'static str>) -> Outcome {
    let dir = support::root().join("fixtures").join(name);
    let ids: Vec<&str> = match only {
        Some(id) if lacks_tools(id)? => return Ok(()),
        Some(id) => vec![id],
        None => harness::exercises::ALL
            .iter()
            .filter(|e| !e.scenarios.is_empty() && tools(e.id).is_empty())
            .map(|e| e.id)
            .collect(),
    };
    let result = support::grade_dir(&support::settings(), &dir, &ids)?;
    if support::overloaded(&result) {
        eprintln!(
            "note: the machine was too loaded to judge a scenario of {name}: report not compared"
        );
        return Ok(());
    }
    let text = report_text(&result);
    let snapshot = match only {
        Some(id) => format!("report__{name}__{id}"),
        None => format!("report__{name}"),
    };
    support::insta_settings().bind(|| insta::assert_snapshot!(snapshot, text));
    Ok(())
}

/// The redacted human report of `result`, without transcripts (whose interleaving depends
/// on timing).
pub fn report_text(result: &SubmissionResult) -> String {
    without_transcripts(&support::redact(&support::human(result)))
}

fn without_transcripts(report: &str) -> String {
    report
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with("[T] ") || (t.starts_with("run ") && t.contains("transcript")))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}
