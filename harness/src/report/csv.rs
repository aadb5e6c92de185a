//! A class gradebook: one row per student, a column per exercise, the total and the maximum.
//! Every field is quoted; a field that a spreadsheet would read as a formula (`=`, `+`, `-`,
//! `@`, tab, carriage return first) is prefixed with `'`.

use crate::result::SubmissionResult;
use std::collections::BTreeSet;

pub fn render(results: &[SubmissionResult]) -> String {
    let exercises: BTreeSet<&str> = results
        .iter()
        .flat_map(|r| r.exercises.iter().map(|e| e.id.as_str()))
        .collect();
    let ordered: Vec<&str> = crate::exercises::ALL
        .iter()
        .map(|e| e.id)
        .filter(|id| exercises.contains(id))
        .collect();
    let mut header = vec!["student".to_string()];
    header.extend(ordered.iter().map(|s| s.to_string()));
    header.extend(["total".to_string(), "max".to_string()]);
    let mut out = row(&header);
    for r in results {
        let mut fields = vec![super::junit::name_of(&r.submission)];
        for id in &ordered {
            fields.push(
                r.exercises
                    .iter()
                    .find(|e| e.id == *id)
                    .map_or_else(String::new, |e| e.score.to_string()),
            );
        }
        fields.push(r.score.to_string());
        fields.push(r.max_score.to_string());
        out.push_str(&row(&fields));
    }
    out
}

fn row(fields: &[String]) -> String {
    let cells: Vec<String> = fields.iter().map(|f| cell(f)).collect();
    format!("{}\r\n", cells.join(","))
}

/// One quoted, formula-safe field.
pub fn cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}
