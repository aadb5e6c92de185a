//! Joining JSON reports of class slices (`--partition K/N`) back into one class.

use crate::result::SubmissionResult;

/// Parses JSON reports (each one submission object or an array of them) and joins them,
/// sorted by submission. A submission in two reports is an error: the slices overlapped.
pub fn join(reports: &[(String, String)]) -> Result<Vec<SubmissionResult>, String> {
    let mut all: Vec<SubmissionResult> = Vec::new();
    for (name, text) in reports {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("{name} is not JSON: {e}"))?;
        let part: Result<Vec<SubmissionResult>, _> = match value {
            serde_json::Value::Array(_) => serde_json::from_value(value),
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
