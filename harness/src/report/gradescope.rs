//! Gradescope's `results.json`: the total score and one test per scenario with its name,
//! score, max_score, output and visibility. Hidden scenarios are `"hidden"` (staff only).

use crate::outcome::Status;
use crate::result::{ScenarioResult, SubmissionResult};
use serde_json::{json, Value};

pub fn render(results: &[SubmissionResult]) -> String {
    let value = match results {
        [one] => submission(one),
        many => Value::Array(many.iter().map(submission).collect()),
    };
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

fn submission(r: &SubmissionResult) -> Value {
    let tests: Vec<Value> = r
        .exercises
        .iter()
        .flat_map(|e| &e.scenarios)
        .map(test)
        .collect();
    let mut output = match r.not_graded {
        0 => format!("sysgrade: {}/{} points", r.score, r.max_score),
        _ => format!("sysgrade: {}/{} points graded", r.score, r.max_score),
    };
    for p in r.problems.iter().chain(&super::notes(r)) {
        output.push_str(&format!("\n{p}"));
    }
    json!({
        "score": r.score,
        "max_score": r.max_score,
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

/// One scenario as a Gradescope test. A `skip` judged nothing, so it is worth nothing here
/// (`max_score` 0) and carries no pass/fail status: the student loses no point for it.
fn test(s: &ScenarioResult) -> Value {
    let mut test = json!({
        "name": s.id,
        "score": s.points,
        "max_score": s.max_points,
        "output": super::detail(s),
        "visibility": if s.hidden { "hidden" } else { "visible" },
    });
    match s.status {
        Status::Skip => {
            test["max_score"] = json!(0);
            test["output"] = json!(format!("not graded (not lost): {}", super::detail(s)));
        }
        Status::Pass => test["status"] = json!("passed"),
        _ => test["status"] = json!("failed"),
    }
    test
}

#[cfg(test)]
mod tests {
    use super::super::sample;

    #[test]
    fn a_fault_is_named_the_graders_and_a_failed_build_the_students() {
        let v: serde_json::Value =
            serde_json::from_str(&super::render(&[sample::fault_and_build_failure()]))
                .expect("JSON");
        assert_eq!(
            v["output"],
            "sysgrade: 2/5 points\nprocess: grader fault\nsignals: did not build"
        );
        let exit = &v["tests"][1];
        assert_eq!(exit["name"], "process.exit");
        assert_eq!(exit["status"], "failed");
        assert_eq!(exit["output"], sample::FAULT);
    }
}
