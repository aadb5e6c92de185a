//! Every fixture under `fixtures/`, graded on the exercises its `fixture.toml` names; every
//! scenario's status must be the one it declares (pass when not listed).

use crate::snapshots;
use crate::support::{self, Outcome};
use harness::outcome::Status;
use libtest_mimic::Trial;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureToml {
    #[allow(dead_code)]
    pub description: String,
    pub exercises: Vec<String>,
    #[serde(default)]
    pub expect: BTreeMap<String, Status>,
    /// Per mode (`root`, `user`, `container`), the verdicts that differ there from
    /// `[expect]`, with the kernel's reason in a comment: `[modes.container]`.
    #[serde(default)]
    pub modes: BTreeMap<String, BTreeMap<String, Status>>,
}

impl FixtureToml {
    /// The status `id` must get in `mode` (`root`, `user`, `container`): the mode's own
    /// declaration, else `[expect]`'s, else pass.
    pub fn expected(&self, mode: &str, id: &str) -> Status {
        self.modes
            .get(mode)
            .and_then(|m| m.get(id))
            .or_else(|| self.expect.get(id))
            .copied()
            .unwrap_or(Status::Pass)
    }

    /// Every scenario id the fixture declares, in any mode.
    pub fn declared(&self) -> impl Iterator<Item = &String> {
        self.expect
            .keys()
            .chain(self.modes.values().flat_map(|m| m.keys()))
    }
}

/// The fixture folders (those with a `fixture.toml`), sorted.
pub fn dirs() -> std::io::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(support::root().join("fixtures"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("fixture.toml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for dir in dirs().unwrap_or_default() {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match read(&dir) {
            Ok(fixture) => {
                let fixture = std::sync::Arc::new(fixture);
                for exercise in fixture.exercises.clone() {
                    let (dir, fixture) = (dir.clone(), fixture.clone());
                    trials.push(Trial::test(
                        format!("fixtures::{name}::{exercise}"),
                        move || check(&dir, &exercise, &fixture),
                    ));
                }
            }
            Err(e) => trials.push(Trial::test(
                format!("fixtures::{name}::fixture_toml"),
                move || Err(e.clone().into()),
            )),
        }
    }
    trials
}

/// Reads and checks `dir/fixture.toml` (every `[expect]` key a known scenario id).
pub fn read(dir: &Path) -> Result<FixtureToml, String> {
    let text = std::fs::read_to_string(dir.join("fixture.toml")).map_err(|e| e.to_string())?;
    let fixture: FixtureToml =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", dir.display()))?;
    let known = harness::exercises::scenario_ids();
    for id in fixture.declared() {
        if !known.contains(id) {
            return Err(format!(
                "{}: unknown scenario id `{id}` in [expect] or [modes]",
                dir.display()
            ));
        }
    }
    if let Some(mode) = fixture.modes.keys().find(|m| !MODES.contains(&m.as_str())) {
        return Err(format!(
            "{}: unknown mode `{mode}` in [modes] (the modes are {MODES:?})",
            dir.display()
        ));
    }
    Ok(fixture)
}

/// The modes a fixture's verdicts may be declared for (see `modes.rs`).
pub const MODES: [&str; 3] = ["root", "user", "container"];

/// The mode these trials grade in: the test's own user, root in CI.
fn own_mode() -> &'static str {
    if crate::confine::is_root() {
        "root"
    } else {
        "user"
    }
}

fn check(dir: &Path, exercise: &str, fixture: &FixtureToml) -> Outcome {
    let result = support::grade_dir(&support::settings(), dir, &[exercise])?;
    let mut wrong = Vec::new();
    let seen: Vec<&str> = result
        .exercises
        .iter()
        .flat_map(|e| &e.scenarios)
        .map(|s| s.id.as_str())
        .collect();
    for id in fixture.declared() {
        if id.starts_with(&format!("{exercise}.")) && !seen.contains(&id.as_str()) {
            wrong.push(format!(
                "{id}: declared in fixture.toml, but not in the results"
            ));
        }
    }
    for s in result.exercises.iter().flat_map(|e| &e.scenarios) {
        let want = fixture.expected(own_mode(), &s.id);
        if s.status == Status::Skip
            && want != Status::Skip
            && (support::overloaded_skip(s) || !support::tools_required())
        {
            eprintln!(
                "note: {} skipped here ({}); CI sets {} and fails on this",
                s.id,
                s.feedback,
                support::REQUIRE_TOOLS
            );
            continue;
        }
        if s.status != want {
            wrong.push(format!(
                "{}: expected {}, got {} ({})",
                s.id,
                want.as_str(),
                s.status.as_str(),
                s.feedback
            ));
        }
    }
    support::judged(&wrong, &result)?;
    pin_feedback(dir, exercise, &result);
    Ok(())
}

/// Pins what a student reads: the redacted human report of a single-defect fixture (without
/// transcripts, whose interleaving depends on timing) as an insta snapshot, so a change in
/// feedback is reviewed like a change in the reference. Reports with a skipped scenario (a
/// tool missing here) are not compared.
fn pin_feedback(dir: &Path, exercise: &str, result: &harness::result::SubmissionResult) {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.starts_with("hostile-") || snapshots::COMPLETE.contains(&name.as_str()) {
        return;
    }
    let skipped = result
        .exercises
        .iter()
        .flat_map(|e| &e.scenarios)
        .any(|s| s.status == Status::Skip);
    // Feedback recorded with the exercise's tools (faketime's "its clock ran 10x fast") is
    // not compared on a machine without them.
    if skipped || !matches!(snapshots::lacks_tools(exercise), Ok(false)) {
        return;
    }
    let text = snapshots::report_text(result);
    support::insta_settings()
        .bind(|| insta::assert_snapshot!(format!("feedback__{name}__{exercise}"), text));
}
