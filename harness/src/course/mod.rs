//! `course.toml`: a course's own choices on top of the catalogue — which exercises, points
//! per scenario, limits, hidden scenarios, extra scenarios written as data, and file-name
//! aliases. Without a course file the catalogue's defaults apply.
//!
//! ```toml
//! name = "Systems Programming 2026"
//! exercises = ["signals", "env"]            # default: every exercise
//! hidden = ["signals.prompt"]               # feedback for staff only
//! [points]
//! "signals.sigint_survives" = 2             # default: 1 per scenario
//! [aliases]
//! signals = ["week3/sig.cpp", "handler.py"] # tried before the usual names
//! [limits]
//! time_scale = 1.5
//! run_wall_limit_secs = 60
//! cpu_seconds = 30
//! output_cap_bytes = 1048576
//! [gradescope]                              # `sysgrade gradescope` only
//! hidden_visibility = "after_due_date"      # or hidden, after_published, visible
//! budget_secs = 540                         # grading stops here, results so far are kept
//! [[scenarios]]                             # extra scenarios (see steps.rs)
//! id = "signals.sigterm_ends"
//! steps = [ { step = "expect", pattern = "\\d+" }, { step = "signal", signal = "SIGTERM" },
//!           { step = "exit", status = "SIGTERM", within = 1.0 } ]
//! ```

mod check;
pub mod steps;

use crate::error::Error;
use crate::exercises;
use crate::settings::Settings;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Course {
    /// Shown in every report's header.
    pub name: Option<String>,
    /// Keys and ids keep their place in the file, so that errors name their own line.
    pub exercises: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub points: BTreeMap<Spanned<String>, u32>,
    #[serde(default)]
    pub hidden: BTreeSet<Spanned<String>>,
    #[serde(default)]
    pub aliases: BTreeMap<Spanned<String>, Vec<PathBuf>>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub scenarios: Vec<Spanned<steps::DataScenario>>,
    /// Official grading: every scenario must be judged, and one that cannot be (a tool is
    /// missing, the machine cannot observe it) is a fault of the grader (`--require-tools`).
    #[serde(default)]
    pub require_tools: bool,
    /// How `sysgrade gradescope` shows hidden scenarios, and its wall-clock budget.
    #[serde(default)]
    pub gradescope: Gradescope,
    /// The SHA-256 of the file's bytes (hex), when read from a file: reports carry it, so
    /// staff can tell which course file a result was graded with.
    #[serde(skip)]
    pub sha256: Option<String>,
}

/// The course's `[gradescope]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gradescope {
    /// The visibility of hidden scenarios' tests (default `after_due_date`).
    #[serde(default)]
    pub hidden_visibility: crate::engines::gradescope::Visibility,
    /// The whole grading's wall-clock budget in seconds: past it, the results so far are
    /// written and what was not reached is named (default: `grade::DEFAULT_BUDGET_SECS`).
    pub budget_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub time_scale: Option<f64>,
    pub run_wall_limit_secs: Option<u64>,
    pub cpu_seconds: Option<u64>,
    pub output_cap_bytes: Option<u64>,
}

impl Course {
    /// Reads and checks `path`; every mistake names the line and the key, and a mistyped
    /// name gets the nearest valid one.
    pub fn load(path: &Path) -> Result<Course, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            what: format!("reading {}", path.display()),
            source,
        })?;
        let mut course = Course::parse(&text).map_err(|message| Error::InvalidConfig {
            file: path.to_path_buf(),
            message,
        })?;
        course.sha256 = Some(sha256_hex(text.as_bytes()));
        Ok(course)
    }

    /// Parses and checks the text of a course file.
    pub fn parse(text: &str) -> Result<Course, String> {
        let course: Course = toml::from_str(text).map_err(|e| check::serde_message(&e))?;
        course.check(text)?;
        Ok(course)
    }

    /// Every scenario id this course grades: the catalogue's (hygiene included) and its own.
    pub fn scenario_ids(&self) -> Vec<String> {
        let mut ids = exercises::scenario_ids();
        ids.extend(self.scenarios.iter().map(|s| s.get_ref().id.clone()));
        ids
    }

    /// Points a scenario is worth.
    pub fn points_for(&self, id: &str) -> u32 {
        self.points
            .get(id)
            .copied()
            .or_else(|| {
                self.scenarios
                    .iter()
                    .find(|s| s.get_ref().id == id)
                    .and_then(|s| s.get_ref().points)
            })
            .unwrap_or(1)
    }

    pub fn is_hidden(&self, id: &str) -> bool {
        self.hidden.contains(id)
            || self
                .scenarios
                .iter()
                .any(|s| s.get_ref().id == id && s.get_ref().hidden)
    }

    /// The course's limits applied to `settings`.
    pub fn apply(&self, settings: &mut Settings) {
        if let Some(t) = self.limits.time_scale {
            settings.time_scale = t;
        }
        if let Some(w) = self.limits.run_wall_limit_secs {
            settings.run_wall_limit_secs = w;
        }
        if let Some(c) = self.limits.cpu_seconds {
            settings.limits.cpu_seconds = c;
        }
        if let Some(o) = self.limits.output_cap_bytes {
            settings.output_cap = o;
        }
    }

    /// The exercises to grade: the course's list, else every exercise.
    pub fn selected(&self) -> Vec<&'static exercises::Exercise> {
        match &self.exercises {
            Some(ids) => ids
                .iter()
                .filter_map(|id| exercises::get(id.get_ref()))
                .collect(),
            None => exercises::ALL.to_vec(),
        }
    }
}

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Course, Error> {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write");
        Course::load(file.path())
    }

    #[test]
    fn unknown_scenario_ids_are_named_with_their_line() {
        let err = load("name = \"x\"\n[points]\n\"signals.nope\" = 2\n")
            .expect_err("invalid")
            .to_string();
        assert!(
            err.contains("line 3") && err.contains("signals.nope"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = load("nmae = \"x\"\n").expect_err("invalid").to_string();
        assert!(err.contains("nmae") && err.contains("line 1"), "{err}");
    }

    #[test]
    fn points_and_hidden_apply() {
        let c = load("hidden = [\"signals.prompt\"]\n[points]\n\"signals.sigint_survives\" = 3\n")
            .expect("valid");
        assert_eq!(c.points_for("signals.sigint_survives"), 3);
        assert_eq!(c.points_for("signals.prompt"), 1);
        assert!(c.is_hidden("signals.prompt"));
    }

    #[test]
    fn the_gradescope_table_chooses_a_visibility_and_a_budget_and_the_file_is_hashed() {
        use crate::engines::gradescope::Visibility;
        let c = load("[gradescope]\nhidden_visibility = \"after_published\"\nbudget_secs = 60\n")
            .expect("valid");
        assert_eq!(c.gradescope.hidden_visibility, Visibility::AfterPublished);
        assert_eq!(c.gradescope.budget_secs, Some(60));
        assert_eq!(c.sha256.as_deref().map(str::len), Some(64));
        let default = load("").expect("valid");
        assert_eq!(
            default.gradescope.hidden_visibility,
            Visibility::AfterDueDate
        );
        let err = load("[gradescope]\nhidden_visibility = \"secret\"\n")
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("secret") && err.contains("line 2"), "{err}");
    }
}
