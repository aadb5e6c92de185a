//! The JSON report of the catalogue: one object per submission, an array for several.

use crate::result::SubmissionResult;

pub fn render(results: &[SubmissionResult]) -> String {
    let value = match results {
        [one] => serde_json::to_value(one),
        many => serde_json::to_value(many),
    };
    value
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the report: {e}\"}}"))
}
