//! Markdown for a GitHub step summary or a merge-request comment: one summary table on top
//! (student × exercise, totals), then each student's exercises and lost points, collapsed in
//! `<details>`. Program text is escaped so it cannot add markup, links or HTML.

use crate::outcome::Status;
use crate::result::SubmissionResult;
use std::fmt::Write;

/// Transcript lines quoted under a lost point.
const QUOTED: usize = 6;

pub fn render(results: &[SubmissionResult]) -> String {
    let mut out = match results.iter().find_map(|r| r.course.as_deref()) {
        Some(course) => format!("# sysgrade: {}\n\n", md(course)),
        None => "# sysgrade\n\n".to_string(),
    };
    summary(&mut out, results);
    for r in results {
        details(&mut out, r);
    }
    out
}

/// The class at a glance: a row per student, a column per exercise, the total.
fn summary(out: &mut String, results: &[SubmissionResult]) {
    let columns = super::csv::columns(results);
    out.push_str("| student |");
    for id in &columns {
        let _ = write!(out, " {} |", md(id));
    }
    out.push_str(" total |\n|---|");
    out.push_str(&"---|".repeat(columns.len() + 1));
    out.push('\n');
    for r in results {
        let _ = write!(out, "| {} |", md(&super::junit::name_of(&r.submission)));
        for id in &columns {
            match r
                .exercises
                .iter()
                .find(|e| e.id == *id && e.source.is_some())
            {
                Some(e) => {
                    let _ = write!(out, " {}/{} |", e.score, e.max_score);
                }
                None => out.push_str(" — |"),
            }
        }
        let note = if r.problems.is_empty() { "" } else { " ⚠" };
        let ungraded = match r.not_graded {
            0 => String::new(),
            n => format!(" ({n} not graded)"),
        };
        let _ = writeln!(out, " **{}/{}**{ungraded}{note} |", r.score, r.max_score);
    }
    out.push('\n');
}

/// One student's exercises and lost points, collapsed.
fn details(out: &mut String, r: &SubmissionResult) {
    let ungraded = match r.not_graded {
        0 => String::new(),
        n => format!(" graded, {n} not graded"),
    };
    let _ = writeln!(
        out,
        "<details><summary>{}: {}/{}{ungraded}</summary>\n",
        md(&r.submission),
        r.score,
        r.max_score
    );
    for p in &r.problems {
        let _ = writeln!(out, "> **problem:** {}\n", md(p));
    }
    for n in super::notes(r) {
        let _ = writeln!(out, "> **note:** {}\n", md(&n));
    }
    if !r.not_found.is_empty() {
        let _ = writeln!(
            out,
            "Not found, so not graded: {}\n",
            md(&r.not_found.join(", "))
        );
    }
    out.push_str("| exercise | source | score |\n|---|---|---|\n");
    for e in &r.exercises {
        let mark = match (e.score == e.max_score, e.max_score) {
            (true, 0) if e.not_graded > 0 => "⏭️",
            (true, _) => "✅",
            (false, _) => "❌",
        };
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
        .filter(|s| !matches!(s.status, Status::Pass | Status::Skip))
        .collect();
    if !lost.is_empty() {
        out.push_str("\n**Lost points**\n\n");
        for s in lost {
            let _ = writeln!(
                out,
                "- **{}** ({}): {}",
                md(&s.id),
                s.status.as_str(),
                md(&s.feedback).replace('\n', "<br>")
            );
            quote_transcripts(out, s);
        }
    }
    let skipped: Vec<_> = r
        .exercises
        .iter()
        .flat_map(|e| &e.scenarios)
        .filter(|s| s.status == Status::Skip)
        .collect();
    if !skipped.is_empty() {
        out.push_str("\n**Not graded** (not lost: left out of the total)\n\n");
        for s in skipped {
            let _ = writeln!(
                out,
                "- **{}**: {}",
                md(&s.id),
                md(&s.feedback).replace('\n', "<br>")
            );
        }
    }
    out.push_str("\n</details>\n\n");
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

#[cfg(test)]
mod tests {
    use super::super::sample;

    #[test]
    fn a_fault_is_marked_apart_from_a_failed_build() {
        let text = super::render(&[sample::fault_and_build_failure()]);
        for needle in [
            "> **note:** process: grader fault\n",
            "> **note:** signals: did not build\n",
            "- **process.exit** (fault): grader fault: the scenario panicked",
            "- **signals.prompt** (error): does not compile:",
        ] {
            assert!(text.contains(needle), "{needle:?} not in:\n{text}");
        }
    }
}
