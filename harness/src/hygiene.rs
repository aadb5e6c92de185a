//! The `<exercise>.hygiene` verdict, from the leftovers of every run of the exercise.

use crate::outcome::Status;
use crate::run::RunRecord;

/// Whether all runs were clean, and the findings naming each leftover with its scenario.
pub fn judge(records: &[(String, Vec<RunRecord>)]) -> (Status, String) {
    let mut findings = Vec::new();
    let mut excused = Vec::new();
    let mut runs = 0;
    for (scenario, recs) in records {
        for rec in recs {
            runs += 1;
            for finding in rec.leftovers.all() {
                findings.push(format!("{scenario} ({}): {finding}", rec.label));
            }
            for left in &rec.leftovers.excused {
                excused.push(format!("{scenario} ({}): {left}", rec.label));
            }
        }
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
    if runs == 0 {
        return (
            Status::Skip,
            "no run took place (the exercise's scenarios were skipped), so there is nothing to judge"
                .into(),
        );
    }
    if findings.is_empty() {
        (
            Status::Pass,
            format!("nothing left behind after {runs} run(s){excused}"),
        )
    } else {
        let shown: Vec<String> = findings.iter().take(12).cloned().collect();
        let more = findings.len().saturating_sub(12);
        let mut text = format!(
            "left behind (and removed by the harness): {}",
            shown.join("; ")
        );
        if more > 0 {
            text.push_str(&format!("; and {more} more"));
        }
        text.push_str(&excused);
        (Status::Fail, text)
    }
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

    #[test]
    fn what_a_kill_left_is_named_not_blamed() {
        let mut rec = RunRecord {
            label: "run 1".into(),
            transcript: Vec::new(),
            leftovers: Default::default(),
        };
        rec.leftovers.excused = vec!["file /tmp/viewer.log".into()];
        let (status, feedback) = judge(&[("fifo_viewer.shows".into(), vec![rec])]);
        assert_eq!(status, Status::Pass);
        assert!(feedback.contains("not counted"), "{feedback}");
        assert!(feedback.contains("/tmp/viewer.log"), "{feedback}");
    }
}
