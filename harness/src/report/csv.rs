//! A class gradebook: one row per student, a column per exercise, the total, the maximum and
//! a note. Cells keep the cases apart: a score (a real 0 stays `0`), empty for an exercise not
//! handed in, and the note for problems with the folder as a whole, an exercise that did not
//! build (the student's) and a grader fault (not the student's). The course's name heads
//! the student column. Every field is quoted; a field that a spreadsheet would read as a
//! formula (`=`, `+`, `-`, `@`, tab, carriage return first) is prefixed with `'`.

use crate::result::SubmissionResult;
use std::collections::BTreeSet;

pub fn render(results: &[SubmissionResult]) -> String {
    let ordered = columns(results);
    let student = match results.iter().find_map(|r| r.course.as_deref()) {
        Some(course) => format!("student ({course})"),
        None => "student".to_string(),
    };
    let mut header = vec![student];
    header.extend(ordered.iter().map(|s| s.to_string()));
    header.extend(["total", "max", "note"].map(String::from));
    let mut out = row(&header);
    for r in results {
        let mut fields = vec![super::junit::name_of(&r.submission)];
        for id in &ordered {
            fields.push(
                r.exercises
                    .iter()
                    .find(|e| e.id == *id && e.source.is_some())
                    .map_or_else(String::new, |e| e.score.to_string()),
            );
        }
        fields.push(r.score.to_string());
        fields.push(r.max_score.to_string());
        let mut note = r.problems.clone();
        note.extend(super::notes(r));
        fields.push(note.join("; "));
        out.push_str(&row(&fields));
    }
    out
}

/// The exercises any result holds, in catalogue order.
pub(super) fn columns(results: &[SubmissionResult]) -> Vec<&'static str> {
    let held: BTreeSet<&str> = results
        .iter()
        .flat_map(|r| r.exercises.iter().map(|e| e.id.as_str()))
        .collect();
    crate::exercises::ALL
        .iter()
        .map(|e| e.id)
        .filter(|id| held.contains(id))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::super::sample;

    #[test]
    fn the_note_tells_a_grader_fault_from_a_failed_build() {
        let mut r = sample::fault_and_build_failure();
        r.problems = vec!["a problem".into()];
        let text = super::render(&[r]);
        let row = text.lines().nth(1).expect("a row");
        assert_eq!(
            row,
            r#""ada","2","0","2","5","a problem; process: grader fault; signals: did not build""#
        );
    }
}
