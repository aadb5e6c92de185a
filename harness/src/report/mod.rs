//! Renderers: results in, text out. Renderers never run anything.
//!
//! **Architecture Invariant:** reports quote student output and never interpolate it: every
//! byte a program printed passes through the format's own escaping (`escape::text` for
//! terminals, XML escaping, serde for JSON, Markdown/HTML escaping, CSV quoting).

pub mod changes;
pub mod csv;
pub mod escape;
pub mod gradescope;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;

use crate::outcome::Status;
use crate::result::{ProgramState, ScenarioResult, SubmissionResult};
use crate::run::transcript::Source;
use std::fmt::Write;

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    Gradescope,
    Markdown,
    /// A gradebook: one row per student.
    Csv,
}

/// Renders `results` in `format`. `color` applies to the human format only.
pub fn render(format: Format, results: &[SubmissionResult], color: bool) -> String {
    match format {
        Format::Human => human::render(results, color),
        Format::Json => json::render(results),
        Format::Junit => junit::render(results),
        Format::Gradescope => gradescope::render(results),
        Format::Markdown => markdown::render(results),
        Format::Csv => csv::render(results),
    }
}

/// A scenario's feedback followed by its runs' transcripts, as plain (unescaped) text for
/// formats that carry one text per test.
pub fn detail(s: &ScenarioResult) -> String {
    let mut out = s.feedback.clone();
    for run in &s.runs {
        let _ = write!(out, "\n{} transcript:", run.label);
        for e in &run.transcript {
            let who = match e.source {
                Source::Harness => "  ::",
                Source::Stdout => "out|",
                Source::Stderr => "err|",
            };
            let _ = write!(out, "\n{:>8.3}s {who} {}", e.at_ms as f64 / 1000.0, e.text);
        }
    }
    out
}

/// What kept an exercise's scenarios from judging the program, one note per exercise it
/// concerns: `"<exercise>: grader fault"` (a fault of the grader, not of the student) or
/// `"<exercise>: did not build"` (the student's build failed).
pub fn notes(r: &SubmissionResult) -> Vec<String> {
    let mut out = Vec::new();
    for e in &r.exercises {
        if e.scenarios.iter().any(|s| s.status == Status::Fault) {
            out.push(format!("{}: grader fault", e.id));
        } else if e.program == ProgramState::BuildFailed {
            out.push(format!("{}: did not build", e.id));
        }
    }
    out
}

/// Results for the renderers' tests: `process` ran, one scenario hit a grader fault;
/// `signals` did not build (the student's `error`).
#[cfg(test)]
pub(crate) mod sample {
    use crate::outcome::Status;
    use crate::result::{ExerciseResult, ProgramState, ScenarioResult, SubmissionResult};

    pub const FAULT: &str =
        "grader fault: the scenario panicked (a bug in the harness; please report it)";
    pub const COMPILE: &str = "does not compile: signals.cpp:8:1: error: expected ';'";

    fn scenario(id: &str, status: Status, feedback: &str) -> ScenarioResult {
        let pass = status == Status::Pass;
        ScenarioResult {
            id: id.into(),
            status,
            points: u32::from(pass),
            max_points: 1,
            feedback: feedback.into(),
            duration_ms: 0,
            hidden: false,
            passes: None,
            runs: Vec::new(),
        }
    }

    pub fn fault_and_build_failure() -> SubmissionResult {
        let process = ExerciseResult {
            id: "process".into(),
            source: Some("process.py".into()),
            program: ProgramState::Ready,
            language: None,
            score: 0,
            max_score: 0,
            warnings: None,
            scenarios: vec![
                scenario("process.ids", Status::Pass, "printed its ids"),
                scenario("process.exit", Status::Fault, FAULT),
                scenario("process.hygiene", Status::Pass, "nothing left behind"),
            ],
        }
        .total();
        let signals = ExerciseResult {
            id: "signals".into(),
            source: Some("signals.cpp".into()),
            program: ProgramState::BuildFailed,
            language: None,
            score: 0,
            max_score: 0,
            warnings: None,
            scenarios: ["signals.prompt", "signals.hygiene"]
                .map(|id| scenario(id, Status::Error, COMPILE))
                .to_vec(),
        }
        .total();
        SubmissionResult {
            submission: "class/ada".into(),
            score: 0,
            max_score: 0,
            exercises: vec![process, signals],
            problems: Vec::new(),
            not_found: Vec::new(),
            course: None,
            guarantees: Default::default(),
            time_scale: 1.0,
        }
        .total()
    }
}
