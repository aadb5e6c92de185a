//! Joining the JSON reports of class slices (`--partition K/N`) back into one class.

use crate::result::SubmissionResult;
use serde_json::Value;

/// Parses JSON reports (each one submission object or an array of them) and joins them,
/// sorted by submission. A submission in two reports is an error: the slices overlapped.
pub fn join(reports: &[(String, String)]) -> Result<Vec<SubmissionResult>, String> {
    let mut all: Vec<SubmissionResult> = Vec::new();
    for (name, text) in reports {
        let mut value: Value =
            serde_json::from_str(text).map_err(|e| format!("{name} is not JSON: {e}"))?;
        upgrade(&mut value);
        let part: Result<Vec<SubmissionResult>, _> = match value {
            Value::Array(_) => serde_json::from_value(value),
            other => serde_json::from_value(other).map(|one| vec![one]),
        };
        all.extend(part.map_err(|e| format!("{name} is not a sysgrade JSON report: {e}"))?);
    }
    all.sort_by(|a, b| a.submission.cmp(&b.submission));
    if let Some(w) = all.windows(2).find(|w| w[0].submission == w[1].submission) {
        return Err(format!(
            "{} appears in two reports: were the slices overlapping?",
            w[0].submission
        ));
    }
    Ok(all)
}

/// Fills in what reports written by older versions lack: an exercise's `program`, inferred
/// from what the report holds. No source means it was not found; a hygiene verdict of
/// `error` or `fault` means it was not built (hygiene of a program that ran is never either).
fn upgrade(report: &mut Value) {
    let submissions = match report {
        Value::Array(many) => many.iter_mut().collect(),
        one => vec![one],
    };
    for submission in submissions {
        let Some(Value::Array(exercises)) = submission.get_mut("exercises") else {
            continue;
        };
        for exercise in exercises.iter_mut().filter_map(Value::as_object_mut) {
            if exercise.contains_key("program") {
                continue;
            }
            let hygiene = format!(".{}", crate::exercises::HYGIENE);
            let not_built = exercise
                .get("scenarios")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|s| s["id"].as_str().is_some_and(|id| id.ends_with(&hygiene)))
                .any(|s| matches!(s["status"].as_str(), Some("error" | "fault")));
            let program = if exercise.get("source").is_none_or(Value::is_null) {
                "missing"
            } else if not_built {
                "build_failed"
            } else {
                "ready"
            };
            exercise.insert("program".into(), program.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::ProgramState;

    #[test]
    fn reports_without_program_states_are_inferred() {
        let old = r#"{"submission": "s", "score": 0, "max_score": 0,
            "time_scale": 1.0,
            "guarantees": {"separate_uid": false, "private_network": false, "private_tmp": false},
            "exercises": [
              {"id": "process", "source": null, "score": 0, "max_score": 0,
               "scenarios": [{"id": "process.hygiene", "status": "fail", "points": 0,
                              "max_points": 1, "feedback": "", "duration_ms": 0}]},
              {"id": "signals", "source": "signals.cpp", "score": 0, "max_score": 0,
               "scenarios": [{"id": "signals.hygiene", "status": "error", "points": 0,
                              "max_points": 1, "feedback": "does not compile", "duration_ms": 0}]},
              {"id": "env", "source": "env.py", "score": 1, "max_score": 1,
               "scenarios": [{"id": "env.hygiene", "status": "pass", "points": 1,
                              "max_points": 1, "feedback": "", "duration_ms": 3}]},
              {"id": "environ", "source": null, "program": "ready", "score": 0, "max_score": 0,
               "scenarios": []}
            ]}"#;
        let joined = join(&[("old.json".into(), old.into())]).expect("loads");
        let states: Vec<ProgramState> = joined[0].exercises.iter().map(|e| e.program).collect();
        assert_eq!(
            states,
            [
                ProgramState::Missing,
                ProgramState::BuildFailed,
                ProgramState::Ready,
                // Present: taken as written.
                ProgramState::Ready,
            ]
        );
    }
}
