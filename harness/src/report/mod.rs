//! Renderers: results in, text out. Renderers never run anything.
//!
//! **Architecture Invariant:** reports quote student output and never interpolate it: every
//! byte a program printed passes through a format's own escaping ([`escape`] for text).

pub mod escape;
pub mod human;
pub mod json;

use crate::result::SubmissionResult;

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Renders `results` in `format`. `color` applies to the human format only.
pub fn render(format: Format, results: &[SubmissionResult], color: bool) -> String {
    match format {
        Format::Human => human::render(results, color),
        Format::Json => json::render(results),
    }
}
