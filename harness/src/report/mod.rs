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

use crate::result::{ScenarioResult, SubmissionResult};
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
