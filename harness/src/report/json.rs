//! The JSON report of the catalogue: one object per submission, an array for several.
//! Fields come in the order of the result types (`submission` first).

use crate::result::SubmissionResult;

pub fn render(results: &[SubmissionResult]) -> String {
    let text = match results {
        [one] => serde_json::to_string_pretty(one),
        many => serde_json::to_string_pretty(many),
    };
    text.unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the report: {e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::super::sample;

    #[test]
    fn a_fault_and_the_program_states_are_spelled_out() {
        let text = super::render(&[sample::fault_and_build_failure()]);
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let process = &v["exercises"][0];
        let signals = &v["exercises"][1];
        assert_eq!(process["program"], "ready");
        assert_eq!(process["scenarios"][1]["status"], "fault");
        assert_eq!(signals["program"], "build_failed");
        assert_eq!(signals["scenarios"][0]["status"], "error");
        let back: crate::result::SubmissionResult = serde_json::from_str(&text).expect("loads");
        assert_eq!(
            back.exercises[1].program,
            crate::result::ProgramState::BuildFailed
        );
    }
}
