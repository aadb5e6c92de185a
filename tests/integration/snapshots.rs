//! insta snapshots in `snapshots/`: the reference binaries' normalised output per scenario,
//! and the human report of every non-hostile fixture (verdicts and feedback; transcripts,
//! whose interleaving depends on timing, are left out). `cargo xtask snapshots` regenerates.

use crate::support::{self, Outcome};
use harness::result::SubmissionResult;
use harness::run::transcript::Source;
use libtest_mimic::Trial;
use std::fmt::Write;

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
    for name in ["good-python", "good-cpp", "lecture-layout", "mapped"] {
        trials.push(Trial::test(
            format!("snapshot::report::{name}"),
            move || report(name),
        ));
    }
    trials
}

fn reference(id: &str) -> Outcome {
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
                let lines: Vec<&str> = run
                    .transcript
                    .iter()
                    .filter(|e| e.source == source)
                    .map(|e| e.text.as_str())
                    .collect();
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

fn report(name: &str) -> Outcome {
    let dir = support::root().join("fixtures").join(name);
    let ids: Vec<&str> = harness::exercises::ALL
        .iter()
        .filter(|e| !e.scenarios.is_empty())
        .map(|e| e.id)
        .collect();
    let result = support::grade_dir(&support::settings(), &dir, &ids)?;
    let text = without_transcripts(&support::redact(&support::human(&result)));
    support::insta_settings().bind(|| insta::assert_snapshot!(format!("report__{name}"), text));
    Ok(())
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
