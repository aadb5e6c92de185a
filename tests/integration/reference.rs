//! The reference crate, graded as a submission, scores full marks on every exercise that
//! has scenarios.

use crate::support::{self, Outcome};
use harness::outcome::Status;
use libtest_mimic::Trial;

pub fn trials() -> Vec<Trial> {
    harness::exercises::ALL
        .iter()
        .filter(|e| !e.scenarios.is_empty())
        .map(|e| Trial::test(format!("reference::{}", e.id), move || check(e.id)))
        .collect()
}

fn check(id: &str) -> Outcome {
    let result = support::grade_dir(
        &support::settings(),
        &support::root().join("reference"),
        &[id],
    )?;
    let failed: Vec<String> = result
        .exercises
        .iter()
        .flat_map(|e| &e.scenarios)
        .filter(|s| s.status != Status::Pass)
        .filter(|s| s.status != Status::Skip || support::tools_required())
        .map(|s| format!("{}: {} ({})", s.id, s.status.as_str(), s.feedback))
        .collect();
    support::judged(&failed, &result)
}
