//! Gradescope's `results.json`: the total score and one test per scenario with its name,
//! score, max_score, output and visibility. Hidden scenarios are `"hidden"` (staff only).

use crate::result::SubmissionResult;
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
        .map(|s| {
            json!({
                "name": s.id,
                "score": s.points,
                "max_score": s.max_points,
                "status": if s.status == crate::outcome::Status::Pass { "passed" } else { "failed" },
                "output": super::detail(s),
                "visibility": if s.hidden { "hidden" } else { "visible" },
            })
        })
        .collect();
    let mut output = format!("sysgrade: {}/{} points", r.score, r.max_score);
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
