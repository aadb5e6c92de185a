//! Markdown for a GitHub step summary or a merge-request comment: a table per submission and
//! the lost points. Program text is escaped so it cannot add markup, links or HTML.

use crate::outcome::Status;
use crate::result::SubmissionResult;
use std::fmt::Write;

/// Transcript lines quoted under a lost point.
const QUOTED: usize = 6;

pub fn render(results: &[SubmissionResult]) -> String {
    let mut out = String::new();
    for r in results {
        let _ = writeln!(
            out,
            "## sysgrade: {} — {}/{}\n",
            md(&r.submission),
            r.score,
            r.max_score
        );
        for p in &r.problems {
            let _ = writeln!(out, "> **problem:** {}\n", md(p));
        }
        out.push_str("| exercise | source | score |\n|---|---|---|\n");
        for e in &r.exercises {
            let mark = if e.score == e.max_score { "✅" } else { "❌" };
            let source = e
                .source
                .as_deref()
                .map(md)
                .unwrap_or_else(|| "not found".into());
            let _ = writeln!(
                out,
                "| {mark} {} | {source} | {}/{} |",
                md(&e.id),
                e.score,
                e.max_score
            );
        }
        let lost: Vec<_> = r
            .exercises
            .iter()
            .flat_map(|e| &e.scenarios)
            .filter(|s| s.status != Status::Pass)
            .collect();
        if !lost.is_empty() {
            out.push_str("\n<details><summary>Lost points</summary>\n\n");
            for s in lost {
                let feedback = if s.hidden {
                    "(hidden scenario)".to_string()
                } else {
                    md(&s.feedback)
                };
                let _ = writeln!(
                    out,
                    "- **{}** ({}): {}",
                    md(&s.id),
                    s.status.as_str(),
                    feedback.replace('\n', "<br>")
                );
                if !s.hidden {
                    quote_transcripts(&mut out, s);
                }
            }
            out.push_str("\n</details>\n");
        }
        out.push('\n');
    }
    out
}

/// The last lines of each run's transcript, as a nested list.
fn quote_transcripts(out: &mut String, s: &crate::result::ScenarioResult) {
    for run in &s.runs {
        let tail = run.transcript.len().saturating_sub(QUOTED);
        for e in &run.transcript[tail..] {
            let _ = writeln!(
                out,
                "  - {} {}: {}",
                md(&run.label),
                e.source.label(),
                md(&e.text)
            );
        }
    }
}

/// Escapes Markdown and HTML: punctuation that could start markup gets a backslash, angle
/// brackets and ampersands become entities, control characters become visible escapes.
pub fn md(text: &str) -> String {
    let text = super::escape::text(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '!'
            | '|' | '~' | '=' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}
