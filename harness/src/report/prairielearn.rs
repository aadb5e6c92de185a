//! PrairieLearn's external-grader `results.json`: `score` in [0, 1], `gradable`, a top-level
//! `message` and `output`, and one test per scenario (`name`, `points`, `max_points`,
//! `message`, `output`). The whole stays under PrairieLearn's 1 MB (see `fit`).
//!
//! Like Gradescope's format, a scenario that judged nothing (`skip`) is worth nothing here
//! (`max_points` 0) and says it was not graded. A fault of the grader is not the student's:
//! its test is worth nothing either and says plainly that the grader failed. `gradable` is
//! false when nothing at all was judged (an empty submission, no exercise found, every
//! scenario a fault or a skip), so PrairieLearn does not count the attempt.

mod fit;

use crate::outcome::Status;
use crate::result::{ProgramState, ScenarioResult, SubmissionResult};
use serde_json::{json, Value};

pub use fit::{BUDGET, LIMIT};

/// What a test whose scenario hit a fault of the grader says.
const GRADER_FAILED: &str = "not graded: the grader failed here, not your program. This test does not count against you; please tell your instructor.";

pub fn render(results: &[SubmissionResult]) -> String {
    let value = match results {
        [one] => submission(one),
        many => Value::Array(many.iter().map(submission).collect()),
    };
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// The results of a grading that produced none: the grader (or the machine) failed before any
/// submission was judged. Not gradable, so the attempt does not count.
pub fn grader_failed(why: &str) -> String {
    let mut value = json!({
        "gradable": false,
        "score": 0.0,
        "message": "The grader failed before it could judge your submission: a fault of the grader, not of your submission. This attempt does not count; please tell your instructor.",
        "output": format!("grader fault: {why}"),
        "tests": [],
    });
    fit::fit(&mut value, BUDGET);
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// Whether a scenario counts toward the score: it judged the program (not a `skip`), and the
/// grader did not fail at it (not a `fault`).
fn counts(s: &ScenarioResult) -> bool {
    !matches!(s.status, Status::Skip | Status::Fault)
}

/// Whether anything of the submission was judged: some exercise's program was there (or
/// failed to build, the student's) and some scenario of it counts.
pub fn gradable(r: &SubmissionResult) -> bool {
    r.exercises
        .iter()
        .filter(|e| e.program != ProgramState::Missing)
        .flat_map(|e| &e.scenarios)
        .any(counts)
}

/// The points earned and at stake in the scenarios that count.
fn points(r: &SubmissionResult) -> (u32, u32) {
    r.exercises
        .iter()
        .flat_map(|e| &e.scenarios)
        .filter(|s| counts(s))
        .fold((0, 0), |(p, m), s| (p + s.points, m + s.max_points))
}

fn submission(r: &SubmissionResult) -> Value {
    let gradable = gradable(r);
    let (earned, max) = points(r);
    let score = match (gradable, max) {
        (true, m) if m > 0 => f64::from(earned) / f64::from(m),
        _ => 0.0,
    };
    let mut value = json!({
        "gradable": gradable,
        "score": score,
        "message": message(r, gradable, earned, max),
        "output": output(r),
        "tests": r.exercises.iter().flat_map(|e| &e.scenarios).map(test).collect::<Vec<_>>(),
    });
    fit::fit(&mut value, BUDGET);
    value
}

/// The summary a student reads first: the points, or why nothing was graded, and the notes
/// (a fault of the grader, a failed build, points not graded).
fn message(r: &SubmissionResult, gradable: bool, earned: u32, max: u32) -> String {
    let mut lines = Vec::new();
    if gradable {
        lines.push(format!("sysgrade: {earned}/{max} points"));
    } else {
        lines.push(
            "Nothing in this submission could be graded, so this attempt does not count."
                .to_string(),
        );
        if r.problems.is_empty()
            && r.exercises
                .iter()
                .all(|e| e.program == ProgramState::Missing)
        {
            let looked: Vec<&str> = r
                .exercises
                .iter()
                .map(|e| e.id.as_str())
                .chain(r.not_found.iter().map(String::as_str))
                .collect();
            lines.push(format!(
                "No exercise was found among your files (looked for: {}).",
                looked.join(", ")
            ));
        }
    }
    lines.extend(r.problems.iter().cloned());
    let faults = r
        .exercises
        .iter()
        .flat_map(|e| &e.scenarios)
        .filter(|s| s.status == Status::Fault)
        .count();
    if faults > 0 {
        lines.push(format!(
            "The grader failed on {faults} test(s): a fault of the grader, not of your submission. Those tests are not counted; please tell your instructor."
        ));
    }
    lines.extend(
        super::notes(r)
            .into_iter()
            .filter(|n| !n.ends_with(": grader fault")),
    );
    lines.join("\n")
}

/// Each exercise's program and points, then its compiler warnings.
fn output(r: &SubmissionResult) -> String {
    let mut lines = Vec::new();
    for e in &r.exercises {
        let (earned, max) = e
            .scenarios
            .iter()
            .filter(|s| counts(s))
            .fold((0, 0), |(p, m), s| (p + s.points, m + s.max_points));
        let file = match (&e.source, e.program) {
            (_, ProgramState::Missing) | (None, _) => "not found".to_string(),
            (Some(f), ProgramState::BuildFailed) => format!("{f}, not built"),
            (Some(f), ProgramState::Ready) => f.clone(),
        };
        lines.push(format!("{} ({file}): {earned}/{max}", e.id));
        if let Some(w) = &e.warnings {
            lines.push(format!("compiler warnings:\n{w}"));
        }
    }
    lines.join("\n")
}

/// One scenario as a PrairieLearn test: the feedback as its message, the transcripts as its
/// output.
fn test(s: &ScenarioResult) -> Value {
    let (points, max_points, message) = match s.status {
        Status::Skip => (0, 0, format!("not graded (not lost): {}", s.feedback)),
        Status::Fault => (0, 0, format!("{GRADER_FAILED}\n{}", s.feedback)),
        Status::Pass => (s.points, s.max_points, format!("passed: {}", s.feedback)),
        other => (
            s.points,
            s.max_points,
            format!("{}: {}", other.as_str(), s.feedback),
        ),
    };
    json!({
        "name": s.id,
        "points": points,
        "max_points": max_points,
        "message": message,
        "output": transcripts(s),
    })
}

/// The runs' transcripts: [`super::detail`] is the feedback followed by them.
fn transcripts(s: &ScenarioResult) -> String {
    let detail = super::detail(s);
    detail
        .get(s.feedback.len()..)
        .unwrap_or_default()
        .trim_start_matches('\n')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use serde_json::Value;

    fn rendered(r: crate::result::SubmissionResult) -> Value {
        serde_json::from_str(&super::render(&[r])).expect("JSON")
    }

    #[test]
    fn a_fault_is_not_counted_and_is_named_the_graders() {
        let v = rendered(sample::fault_and_build_failure());
        // process.ids passed (1/1), process.exit was a fault (not counted), hygiene passed,
        // signals did not build (the student's: 0/2).
        assert_eq!(v["gradable"], true);
        assert_eq!(v["score"], 0.5);
        let exit = &v["tests"][1];
        assert_eq!(
            (exit["name"].as_str(), exit["max_points"].as_u64()),
            (Some("process.exit"), Some(0))
        );
        assert!(
            exit["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(super::GRADER_FAILED)),
            "{exit}"
        );
        let message = v["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("sysgrade: 2/4 points\n"), "{message}");
        assert!(message.contains("not of your submission"), "{message}");
        assert!(message.contains("signals: did not build"), "{message}");
        assert_eq!(
            v["tests"][3]["message"],
            format!("error: {}", sample::COMPILE)
        );
    }

    #[test]
    fn a_skip_is_worth_nothing_and_nothing_judged_is_not_gradable() {
        let v = rendered(sample::skipped_for_ffmpeg());
        assert_eq!(
            (v["gradable"].as_bool(), v["score"].as_f64()),
            (Some(true), Some(1.0))
        );
        assert_eq!(v["tests"][1]["max_points"], 0);
        assert!(v["tests"][1]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("not graded (not lost)")));
        let mut none = sample::skipped_for_ffmpeg();
        none.exercises[0].scenarios.truncate(2);
        let v = rendered(none.total());
        assert_eq!(
            (v["gradable"].as_bool(), v["score"].as_f64()),
            (Some(false), Some(0.0))
        );
    }

    #[test]
    fn an_empty_submission_is_not_gradable() {
        let empty = crate::result::SubmissionResult {
            exercises: Vec::new(),
            problems: vec!["the folder is empty".into()],
            ..sample::fault_and_build_failure()
        }
        .total();
        let v = rendered(empty);
        assert_eq!(v["gradable"], false);
        let message = v["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("does not count") && message.contains("the folder is empty"),
            "{message}"
        );
    }

    #[test]
    fn a_grading_that_failed_outright_is_not_gradable_and_says_whose_fault() {
        let v: Value = serde_json::from_str(&super::grader_failed("invalid course.toml: line 3"))
            .expect("JSON");
        assert_eq!(v["gradable"], false);
        assert!(v["message"]
            .as_str()
            .is_some_and(|m| m.contains("not of your submission")));
        assert_eq!(v["output"], "grader fault: invalid course.toml: line 3");
    }
}
