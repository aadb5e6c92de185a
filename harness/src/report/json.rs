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
