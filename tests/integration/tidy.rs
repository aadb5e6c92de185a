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
        Trial::test("tidy::layers_import_downwards_only", layering),
    ]
}

/// Code lines (not comments) of the Rust files below `dir` that contain `word`, as
/// `path:line: text`.
fn naming(dir: &std::path::Path, word: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for (n, line) in text.lines().enumerate() {
                    if !line.trim_start().starts_with("//") && line.contains(word) {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    found
}

/// The scenario layer's boundaries (ARCHITECTURE.md, invariants): exercise files name no
/// sandbox type (they meet the run, the scenario, IPC and GUI words); the scenario layer
/// never imports the exercises.
fn layering() -> Outcome {
    let src = support::root().join("harness").join("src");
    let mut wrong = naming(&src.join("exercises"), "sandbox::");
    wrong.extend(naming(&src.join("scenario"), "exercises::"));
    let scenario = src.join("scenario.rs");
    let text = std::fs::read_to_string(&scenario).map_err(|e| Failed::from(e.to_string()))?;
    wrong.extend(
        text.lines()
            .filter(|l| !l.trim_start().starts_with("//") && l.contains("exercises::"))
            .map(|l| format!("{}: {}", scenario.display(), l.trim())),
    );
    if wrong.is_empty() {
        return Ok(());
    }
    Err(format!("layers imported upwards:\n{}", wrong.join("\n")).into())
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
