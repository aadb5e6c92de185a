//! What changed between two gradings of one submission (`grade --watch`): only the verdicts
//! that differ, each new failure with its feedback, and the totals before and after.

use super::escape;
use crate::outcome::Status;
use crate::result::{ExerciseResult, SubmissionResult};
use std::fmt::Write;

/// `before` is the previous whole result, `regraded` the result of the exercises graded
/// again, `after` the whole result once they are merged in.
pub fn render(
    before: &SubmissionResult,
    regraded: &SubmissionResult,
    after: &SubmissionResult,
) -> String {
    let mut out = String::new();
    for e in &regraded.exercises {
        let old = before
            .exercises
            .iter()
            .find(|o| o.id == e.id && o.source.is_some());
        exercise(&mut out, old, e);
    }
    let _ = writeln!(
        out,
        "Total: {}/{} → {}/{}",
        before.score, before.max_score, after.score, after.max_score
    );
    out
}

fn exercise(out: &mut String, old: Option<&ExerciseResult>, e: &ExerciseResult) {
    let Some(source) = e.source.as_deref().map(escape::text) else {
        let what = if old.is_some() {
            "no longer found"
        } else {
            "still not found"
        };
        let _ = writeln!(out, "{}: {what}", e.id);
        return;
    };
    match old {
        Some(o) => {
            let _ = writeln!(
                out,
                "{} ({source}): {}/{} → {}/{}",
                e.id, o.score, o.max_score, e.score, e.max_score
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{} ({source}): now found, {}/{}",
                e.id, e.score, e.max_score
            );
        }
    }
    let mut changed = 0;
    for s in &e.scenarios {
        let was = old.and_then(|o| o.scenarios.iter().find(|x| x.id == s.id));
        if was.is_some_and(|w| w.status == s.status) {
            continue;
        }
        changed += 1;
        let was = was.map_or("—".to_string(), |w| w.status.as_str().to_uppercase());
        let _ = writeln!(
            out,
            "  {:<32} {was} → {}  {}/{}",
            s.id,
            s.status.as_str().to_uppercase(),
            s.points,
            s.max_points
        );
        if s.status != Status::Pass {
            for line in s.feedback.lines().take(6) {
                let _ = writeln!(out, "      {}", escape::text(line));
            }
        }
    }
    if changed == 0 {
        let _ = writeln!(out, "  no verdict changed");
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use crate::outcome::Status;

    #[test]
    fn a_new_fault_is_shown_as_fault() {
        let after = sample::fault_and_build_failure();
        let mut before = after.clone();
        before.exercises[0].scenarios[1].status = Status::Pass;
        let regraded = crate::result::SubmissionResult {
            exercises: vec![after.exercises[0].clone()],
            ..after.clone()
        };
        let text = super::render(&before, &regraded, &after);
        assert!(
            text.contains(
                "  process.exit                     PASS → FAULT  0/1\n      grader fault:"
            ),
            "{text}"
        );
    }
}
