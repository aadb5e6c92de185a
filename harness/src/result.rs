//! Results as data: what the renderers read. Field names are the JSON report's, a public
//! interface (see the catalogue): fields may be added, never renamed.

use crate::outcome::Status;
use crate::run::RunRecord;
use crate::sandbox::Guarantees;
use crate::submission::Language;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// `exercise.scenario`.
    pub id: String,
    pub status: Status,
    pub points: u32,
    pub max_points: u32,
    /// What was expected and what happened (or, on a pass, what was observed).
    pub feedback: String,
    pub duration_ms: u64,
    /// A course's hidden scenario: its feedback is for staff only (withheld from students'
    /// results in the results stage, `grading::settle`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// Under `--repeat`: how many of the repeats passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passes: Option<u32>,
    /// Transcripts of the runs, kept for scenarios that did not pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<RunRecord>,
    /// A `skip` for want of tools on the grading machine: which (`ffmpeg`, `matplotlib`,
    /// `PyQt6`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_tools: Vec<String>,
}

/// What became of an exercise's program before any scenario ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramState {
    /// Found and built (or runnable as it is): its scenarios ran.
    #[default]
    Ready,
    /// Not found in the submission.
    Missing,
    /// Found but not built: every scenario carries the build's verdict (`error` for the
    /// student's failed build, `fault` when the grader could not build it).
    BuildFailed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExerciseResult {
    pub id: String,
    /// The program's file, relative to the submission; `null` when not found.
    pub source: Option<String>,
    /// Ready, missing or not built. Absent from reports written before it existed: there
    /// `merge` infers it (see `merge::upgrade`), elsewhere it reads as ready.
    #[serde(default)]
    pub program: ProgramState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    pub score: u32,
    /// The points of the scenarios judged: a `skip` (nothing judged) is not counted.
    pub max_score: u32,
    /// The points of the scenarios not judged (`skip`): not lost, not counted in `max_score`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_graded: u32,
    /// Compiler warnings, trimmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<String>,
    pub scenarios: Vec<ScenarioResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmissionResult {
    /// The folder as given.
    pub submission: String,
    pub score: u32,
    /// The points of the scenarios judged: a `skip` (nothing judged) is not counted.
    pub max_score: u32,
    /// The points of the scenarios not judged (`skip`): not lost, not counted in `max_score`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_graded: u32,
    /// The tools whose absence left scenarios not judged, sorted (`sysgrade doctor` says how
    /// to install them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_tools: Vec<String>,
    pub exercises: Vec<ExerciseResult>,
    /// Problems with the submission as a whole (an empty folder, no exercise found).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Graded without a course file: the exercises looked for and not found, so not graded
    /// (they are absent from `exercises` and from the total).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_found: Vec<String>,
    /// The course file's `name`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course: Option<String>,
    /// What the verdicts rest on.
    pub guarantees: Guarantees,
    pub time_scale: f64,
    /// How the grading was set up beyond the time scale (flattened: top-level JSON fields).
    #[serde(flatten)]
    pub setup: Setup,
}

/// How a grading was set up: the course file it used, a stretch for the CPU quota, and where
/// hidden scenarios show on Gradescope. Each is absent from the JSON when not set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    /// The SHA-256 of the course file (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_sha256: Option<String>,
    /// The time scale was stretched for the container's CPU quota (cgroup `cpu.max`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<crate::cpu_quota::Stretch>,
    /// The course's visibility for hidden scenarios' Gradescope tests.
    #[serde(
        default,
        skip_serializing_if = "crate::engines::gradescope::Visibility::is_default"
    )]
    pub hidden_visibility: crate::engines::gradescope::Visibility,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl ExerciseResult {
    /// An exercise known only by its id, its program's file and these scenarios; the totals
    /// are zero until [`ExerciseResult::total`].
    pub fn bare(id: &str, source: Option<String>, scenarios: Vec<ScenarioResult>) -> Self {
        ExerciseResult {
            id: id.to_string(),
            source,
            program: ProgramState::default(),
            language: None,
            score: 0,
            max_score: 0,
            not_graded: 0,
            warnings: None,
            scenarios,
        }
    }

    /// Sums the points: earned, judged (`max_score`) and not judged (`not_graded`).
    pub fn total(mut self) -> Self {
        let (skipped, judged): (Vec<_>, Vec<_>) = self
            .scenarios
            .iter()
            .partition(|s| s.status == Status::Skip);
        self.score = self.scenarios.iter().map(|s| s.points).sum();
        self.max_score = judged.iter().map(|s| s.max_points).sum();
        self.not_graded = skipped.iter().map(|s| s.max_points).sum();
        self
    }
}

impl SubmissionResult {
    /// Sums the exercises' points and gathers the tools whose absence left points not graded.
    pub fn total(mut self) -> Self {
        self.score = self.exercises.iter().map(|e| e.score).sum();
        self.max_score = self.exercises.iter().map(|e| e.max_score).sum();
        self.not_graded = self.exercises.iter().map(|e| e.not_graded).sum();
        let tools: std::collections::BTreeSet<&String> = self
            .exercises
            .iter()
            .flat_map(|e| &e.scenarios)
            .flat_map(|s| &s.missing_tools)
            .collect();
        self.missing_tools = tools.into_iter().cloned().collect();
        self
    }

    /// Keeps only the exercises in `found`; the others move to `not_found`.
    pub fn keep_only(mut self, found: &std::collections::BTreeSet<String>) -> Self {
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut self.exercises)
            .into_iter()
            .partition(|e| found.contains(&e.id));
        self.exercises = kept;
        self.not_found = dropped.into_iter().map(|e| e.id).collect();
        self.total()
    }

    /// Whether any scenario hit a fault of the grader (`grade` then exits with 2).
    pub fn has_fault(&self) -> bool {
        self.exercises
            .iter()
            .flat_map(|e| &e.scenarios)
            .any(|s| s.status == Status::Fault)
    }

    /// Whether every scenario judged passed, and at least one was: a `skip` (nothing
    /// judged) is neither a pass nor a lost point, but nothing judged at all is no pass.
    pub fn all_passed(&self) -> bool {
        let mut judged = self
            .exercises
            .iter()
            .flat_map(|e| &e.scenarios)
            .filter(|s| s.status != Status::Skip)
            .peekable();
        self.problems.is_empty()
            && judged.peek().is_some()
            && judged.all(|s| s.status == Status::Pass)
    }
}
