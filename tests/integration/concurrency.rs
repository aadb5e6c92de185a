//! Two gradings at once: the IPC exercises use fixed names (port 65432 and 55555, the FIFOs,
//! the segment `imageMap`), so two copies of one submission graded side by side must get the
//! same verdicts as one graded alone; neither may see the other's server, FIFO or segment.

use crate::support::{self, Outcome};
use harness::grading::{grade, Request};
use harness::outcome::Status;
use harness::result::SubmissionResult;
use libtest_mimic::{Failed, Trial};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The exercises whose programs use fixed global names.
const FIXED_NAMES: &[&str] = &[
    "fifo_server",
    "fifo_client",
    "image_fifo",
    "shm_image",
    "shm_owner",
    "echo_server",
    "echo_client",
    "time_server",
];

pub fn trials() -> Vec<Trial> {
    vec![Trial::test(
        "concurrency::fixed_names_two_gradings_agree",
        two_gradings_agree,
    )]
}

/// Scenario id -> status.
fn verdicts(result: &SubmissionResult) -> BTreeMap<String, Status> {
    result
        .exercises
        .iter()
        .flat_map(|e| &e.scenarios)
        .map(|s| (s.id.clone(), s.status))
        .collect()
}

fn grade_all(dirs: Vec<PathBuf>) -> Result<Vec<SubmissionResult>, Failed> {
    let mut settings = support::settings();
    settings.jobs = 2;
    let exercises = FIXED_NAMES
        .iter()
        .map(|id| harness::exercises::get(id).ok_or_else(|| format!("unknown exercise {id}")))
        .collect::<Result<Vec<_>, _>>()?;
    let request = Request {
        submissions: dirs,
        exercises,
        ..Request::default()
    };
    Ok(grade(&settings, &request, &mut |_| {}).map_err(|e| e.to_string())?)
}

fn two_gradings_agree() -> Outcome {
    let source = support::root().join("fixtures/good-python");
    let scratch = tempfile::tempdir()?;
    let copies: Vec<PathBuf> = ["first", "second"]
        .iter()
        .map(|name| scratch.path().join(name))
        .collect();
    for copy in &copies {
        harness::sandbox::copy::copy_tree(&source, copy)?;
    }
    let alone = grade_all(vec![source])?;
    let together = grade_all(copies)?;
    let want = alone.first().map(verdicts).unwrap_or_default();
    if want.is_empty() || want.values().any(|s| *s != Status::Pass) {
        return Err(Failed::from(format!(
            "graded alone, good-python does not pass every scenario:\n{}",
            alone.iter().map(support::human).collect::<String>()
        )));
    }
    let mut wrong = Vec::new();
    for result in &together {
        let got = verdicts(result);
        for (id, status) in &want {
            let other = got.get(id).copied();
            if other != Some(*status) {
                let feedback = result
                    .exercises
                    .iter()
                    .flat_map(|e| &e.scenarios)
                    .find(|s| &s.id == id)
                    .map(|s| s.feedback.clone())
                    .unwrap_or_default();
                wrong.push(format!(
                    "{}: {id} was {} alone, {} side by side ({feedback})",
                    result.submission,
                    status.as_str(),
                    other.map_or("missing", Status::as_str)
                ));
            }
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(Failed::from(wrong.join("\n")))
    }
}
