//! JUnit XML: the course's name on `testsuites`, one testsuite per exercise (of each submission), one testcase per scenario,
//! feedback and transcript as the failure text. Everything from a program is XML-escaped, and
//! characters XML 1.0 cannot hold at all are shown as `\u{..}`.

use super::escape;
use crate::outcome::Status;
use crate::result::{ExerciseResult, ProgramState, ScenarioResult, SubmissionResult};
use std::fmt::Write;

pub fn render(results: &[SubmissionResult]) -> String {
    let all = results
        .iter()
        .flat_map(|r| r.exercises.iter().flat_map(|e| &e.scenarios));
    let (tests, failures, errors, skipped) = counts(all);
    let name = match results.iter().find_map(|r| r.course.as_deref()) {
        Some(course) => xml(course),
        None => "sysgrade".to_string(),
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">");
    for r in results {
        let student = name_of(&r.submission);
        for e in &r.exercises {
            let (tests, failures, errors, skipped) = counts(e.scenarios.iter());
            let time: u64 = e.scenarios.iter().map(|s| s.duration_ms).sum();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{:.3}\">",
                xml(&format!("{student}/{}", e.id)),
                time as f64 / 1000.0
            );
            for s in &e.scenarios {
                testcase(&mut out, &student, e, s);
            }
            out.push_str("  </testsuite>\n");
        }
    }
    out.push_str("</testsuites>\n");
    out
}

/// The folder name of a submission path (its last component).
pub fn name_of(submission: &str) -> String {
    std::path::Path::new(submission)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| submission.to_string())
}

fn counts<'a>(scenarios: impl Iterator<Item = &'a ScenarioResult>) -> (usize, usize, usize, usize) {
    let mut c = (0, 0, 0, 0);
    for s in scenarios {
        c.0 += 1;
        match s.status {
            // The student's: a wrong program, or one that could not be built or started.
            Status::Fail | Status::Timeout | Status::Flaky | Status::Error => c.1 += 1,
            // The grader's own.
            Status::Fault => c.2 += 1,
            Status::Skip => c.3 += 1,
            Status::Pass => {}
        }
    }
    c
}

/// A testcase: a grader fault is JUnit's `<error>` (the test itself broke, type
/// `grader-fault`); everything the student's program earned is a `<failure>`, typed by its
/// status, or `build` for a program that did not build.
fn testcase(out: &mut String, student: &str, exercise: &ExerciseResult, s: &ScenarioResult) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
        xml(&s.id),
        xml(&format!("{student}.{}", exercise.id)),
        s.duration_ms as f64 / 1000.0
    );
    let first = s.feedback.lines().next().unwrap_or("");
    let body = super::detail(s);
    match s.status {
        Status::Pass => out.push_str(" />\n"),
        Status::Skip => {
            let _ = writeln!(
                out,
                ">\n      <skipped message=\"{}\" />\n    </testcase>",
                xml(first)
            );
        }
        Status::Fault => {
            let _ = writeln!(
                out,
                ">\n      <error message=\"{}\" type=\"grader-fault\">{}</error>\n    </testcase>",
                xml(first),
                xml(&body)
            );
        }
        status => {
            let kind = match (status, exercise.program) {
                (Status::Error, ProgramState::BuildFailed) => "build",
                (status, _) => status.as_str(),
            };
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\" type=\"{kind}\">{}</failure>\n    </testcase>",
                xml(first),
                xml(&body)
            );
        }
    }
}

/// Escapes text for an XML attribute or element.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {
                out.push_str(&escape::text(&c.to_string()))
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
    fn a_fault_is_an_error_and_a_failed_build_a_failure() {
        let text = super::render(&[sample::fault_and_build_failure()]);
        for needle in [
            r#"<testsuites name="sysgrade" tests="5" failures="2" errors="1" skipped="0">"#,
            r#"<testsuite name="ada/process" tests="3" failures="0" errors="1" skipped="0""#,
            r#"<error message="grader fault: the scenario panicked (a bug in the harness; please report it)" type="grader-fault">"#,
            r#"<failure message="does not compile: signals.cpp:8:1: error: expected &apos;;&apos;" type="build">"#,
        ] {
            assert!(text.contains(needle), "{needle:?} not in:\n{text}");
        }
        assert_eq!(text.matches("<error ").count(), 1, "{text}");
    }
}
