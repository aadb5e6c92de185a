//! Gradescope: `autograder.zip` (`package`), the grading inside its container (`grade`, run
//! by the zip's `run_autograder`), and a replay of what Gradescope does on this machine
//! (`replay`) whose `results.json` is checked against Gradescope's documented fields
//! (`validate`).
//!
//! Gradescope unpacks the zip into `/autograder/source`, copies the student's files into
//! `/autograder/submission`, runs `/autograder/run_autograder` as root and reads
//! `/autograder/results/results.json`; a missing or malformed file is "The autograder failed
//! to execute correctly". So the grading always writes a valid file, whatever happened.

pub mod apt;
pub mod grade;
pub mod package;
pub mod partial;
pub mod replay;
pub mod scripts;
pub mod validate;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Overrides the autograder root (`/autograder`), for the replay.
pub const ROOT_VAR: &str = "SYSGRADE_AUTOGRADER_ROOT";

/// Gradescope's root inside its container.
pub const DEFAULT_ROOT: &str = "/autograder";

/// The course file's name inside the zip (and so in `source/`).
pub const COURSE_FILE: &str = "course.toml";

/// The binary's name inside the zip.
pub const BINARY: &str = "sysgrade";

/// Who sees a test on Gradescope, and when.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Staff only; on Gradescope this also hides the student's total.
    Hidden,
    /// Once the due date has passed: the default for a course's hidden scenarios.
    #[default]
    AfterDueDate,
    /// Once the grades are published.
    AfterPublished,
    Visible,
}

impl Visibility {
    /// Gradescope's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Hidden => "hidden",
            Visibility::AfterDueDate => "after_due_date",
            Visibility::AfterPublished => "after_published",
            Visibility::Visible => "visible",
        }
    }

    pub fn is_default(&self) -> bool {
        *self == Visibility::default()
    }
}

/// The folders of an autograder root.
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    /// `$SYSGRADE_AUTOGRADER_ROOT`, else `/autograder`.
    pub fn from_env() -> Layout {
        let root = std::env::var_os(ROOT_VAR)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_ROOT), PathBuf::from);
        Layout { root }
    }

    pub fn at(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
        }
    }

    /// Where the zip is unpacked: the binary, the course file, the scripts.
    pub fn source(&self) -> PathBuf {
        self.root.join("source")
    }

    pub fn submission(&self) -> PathBuf {
        self.root.join("submission")
    }

    pub fn results(&self) -> PathBuf {
        self.root.join("results")
    }

    pub fn results_json(&self) -> PathBuf {
        self.results().join("results.json")
    }

    pub fn course(&self) -> PathBuf {
        self.source().join(COURSE_FILE)
    }
}
