//! The `<exercise>.hygiene` verdict, from the leftovers of every run of the exercise.

use crate::outcome::Status;
use crate::run::RunRecord;

/// Whether all runs were clean, and the findings naming each leftover with its scenario.
/// Only runs whose program started count, and a clean verdict needs every place looked in:
/// a run that could not be scanned somewhere makes it `skip`, naming the places.
pub fn judge(records: &[(String, Vec<RunRecord>)]) -> (Status, String) {
    let mut findings = Vec::new();
    let mut excused = Vec::new();
    let mut unscanned = Vec::new();
    let (mut runs, mut never_started) = (0, 0);
    for (scenario, recs) in records {
        for rec in recs {
            if !rec.started {
                never_started += 1;
                continue;
            }
            runs += 1;
            for finding in rec.leftovers.all() {
                findings.push(format!("{scenario} ({}): {finding}", rec.label));
            }
            for left in &rec.leftovers.excused {
                excused.push(format!("{scenario} ({}): {left}", rec.label));
            }
            for place in &rec.unscanned {
                unscanned.push(format!("{scenario} ({}): {place}", rec.label));
            }
        }
    }
    if runs == 0 {
        return if never_started > 0 {
            (
                Status::Error,
                format!("the program never started (in {never_started} attempt(s)), so nothing shows what it leaves behind; the scenarios say why it could not start"),
            )
        } else {
            (
                Status::Skip,
                "no run took place (the exercise's scenarios were skipped), so there is nothing to judge".into(),
            )
        };
    }
    // What a program left when the harness had to kill it is named, never blamed.
    let excused = if excused.is_empty() {
        String::new()
    } else {
        format!(
            " (not counted, since the harness killed the program when closing its window did not end it: {})",
            excused.join("; ")
        )
    };
    if !findings.is_empty() {
        return (Status::Fail, left_behind(&findings, &excused));
    }
    if !unscanned.is_empty() {
        return (
            Status::Skip,
            format!(
                "nothing was found left behind after {runs} run(s), but the harness could not look everywhere, so it cannot call them clean: {}",
                shown(&unscanned)
            ),
        );
    }
    (
        Status::Pass,
        format!("nothing left behind after {runs} run(s){excused}"),
    )
}

/// The failing feedback: the findings (the first twelve) and what was excused.
fn left_behind(findings: &[String], excused: &str) -> String {
    format!(
        "left behind (and removed by the harness): {}{excused}",
        shown(findings)
    )
}

/// The first twelve of `items`, then how many more.
fn shown(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(12)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    let more = items.len().saturating_sub(12);
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_ran_is_a_skip_not_a_pass() {
        let (status, feedback) = judge(&[("plotter.animates".into(), Vec::new())]);
        assert_eq!(status, Status::Skip);
        assert!(feedback.contains("no run took place"));
    }

    fn started(label: &str) -> RunRecord {
        RunRecord {
            label: label.into(),
            started: true,
            ..Default::default()
        }
    }

    #[test]
    fn what_a_kill_left_is_named_not_blamed() {
        let mut rec = started("run 1");
        rec.leftovers.excused = vec!["file /tmp/viewer.log".into()];
        let (status, feedback) = judge(&[("fifo_viewer.shows".into(), vec![rec])]);
        assert_eq!(status, Status::Pass);
        assert!(feedback.contains("not counted"), "{feedback}");
        assert!(feedback.contains("/tmp/viewer.log"), "{feedback}");
    }

    #[test]
    fn a_program_that_never_started_is_not_clean() {
        let never = RunRecord {
            label: "run 1".into(),
            ..Default::default()
        };
        let (status, feedback) = judge(&[("env.set".into(), vec![never.clone(), never])]);
        assert_eq!(status, Status::Error);
        assert!(
            feedback.contains("never started (in 2 attempt(s))"),
            "{feedback}"
        );
    }

    #[test]
    fn only_runs_that_started_are_counted() {
        let never = RunRecord {
            label: "run 1".into(),
            ..Default::default()
        };
        let (status, feedback) = judge(&[
            ("env.set".into(), vec![never]),
            ("env.empty".into(), vec![started("run 1")]),
        ]);
        assert_eq!(status, Status::Pass);
        assert!(feedback.contains("after 1 run(s)"), "{feedback}");
    }

    #[test]
    fn a_place_not_looked_in_makes_it_a_skip_naming_the_place() {
        let mut rec = started("run 2");
        rec.unscanned = vec!["/tmp (Permission denied (os error 13))".into()];
        let (status, feedback) = judge(&[("files.stat".into(), vec![started("run 1"), rec])]);
        assert_eq!(status, Status::Skip);
        assert!(
            feedback.contains("files.stat (run 2): /tmp (Permission denied"),
            "{feedback}"
        );
    }

    #[test]
    fn a_leftover_fails_even_where_another_place_was_not_looked_in() {
        let mut rec = started("run 1");
        rec.leftovers.files = vec!["/tmp/log.txt".into()];
        rec.unscanned = vec!["/var/tmp (Permission denied (os error 13))".into()];
        let (status, feedback) = judge(&[("files.stat".into(), vec![rec])]);
        assert_eq!(status, Status::Fail);
        assert!(feedback.contains("/tmp/log.txt"), "{feedback}");
    }
}
