//! Static checks on the repository's own promises, fast and tool-free:
//! - the scenario ids (a public interface) are exactly those of `scenario-ids.txt`;
//! - every scenario id is failed by at least one fixture and passed by another, as their
//!   `fixture.toml` files declare (the fixture trials prove each declaration).

use crate::fixtures::{self, read, FixtureToml};
use crate::support::{self, Outcome};
use harness::exercises::{self, HYGIENE};
use harness::outcome::Status;
use libtest_mimic::{Failed, Trial};
use std::collections::{BTreeMap, BTreeSet};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("tidy::scenario_ids_are_the_published_ones", published_ids),
        Trial::test(
            "tidy::every_scenario_has_a_failing_and_a_passing_fixture",
            both_ways,
        ),
    ]
}

/// The published list, one `exercise.scenario` per line (hygiene ids are implied).
pub fn published() -> Result<BTreeSet<String>, Failed> {
    let path = support::root().join("scenario-ids.txt");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failed::from(format!("reading {}: {e}", path.display())))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

fn published_ids() -> Outcome {
    let listed = published()?;
    let registered: BTreeSet<String> = exercises::scenario_ids()
        .into_iter()
        .filter(|id| !id.ends_with(&format!(".{HYGIENE}")))
        .collect();
    let missing: Vec<&String> = listed.difference(&registered).collect();
    let extra: Vec<&String> = registered.difference(&listed).collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    Err(format!(
        "scenario ids differ from scenario-ids.txt (a public interface: a change needs a CHANGELOG entry and an update of the list)\n  published but not implemented: {missing:?}\n  implemented but not published: {extra:?}"
    )
    .into())
}

fn both_ways() -> Outcome {
    let mut failed_by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut passed_by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, fixture) in all_fixtures()? {
        for exercise in &fixture.exercises {
            for id in exercises::scenario_ids()
                .into_iter()
                .filter(|id| id.starts_with(&format!("{exercise}.")))
            {
                let want = fixture.expect.get(&id).copied().unwrap_or(Status::Pass);
                let side = if want == Status::Pass {
                    &mut passed_by
                } else {
                    &mut failed_by
                };
                side.entry(id).or_default().push(name.clone());
            }
        }
    }
    let mut gaps = Vec::new();
    for id in exercises::scenario_ids() {
        if !failed_by.contains_key(&id) {
            gaps.push(format!("{id}: no fixture fails it"));
        }
        if !passed_by.contains_key(&id) {
            gaps.push(format!("{id}: no fixture passes it"));
        }
    }
    if gaps.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "every scenario must be proved by a single-defect fixture that fails it and one that passes it:\n{}",
            gaps.join("\n")
        )
        .into())
    }
}

fn all_fixtures() -> Result<Vec<(String, FixtureToml)>, Failed> {
    let dirs = fixtures::dirs().map_err(|e| {
        let dir = support::root().join("fixtures");
        Failed::from(format!("reading {}: {e}", dir.display()))
    })?;
    let mut out = Vec::new();
    for path in dirs {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((name, read(&path).map_err(Failed::from)?));
    }
    Ok(out)
}
