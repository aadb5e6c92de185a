//! What `sysgrade doctor` found, as plain data: the probes fill it, the renderers only read
//! it. Serialized as is for `--format json`, whose fields are documented here and in
//! README.md; fields are only ever added.

use crate::sandbox::{Guarantees, Layer};
use serde::Serialize;
use std::path::PathBuf;

/// The version of the JSON object's shape.
pub const SCHEMA: u32 = 1;

/// Everything the doctor says about this machine.
#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    /// [`SCHEMA`].
    pub schema: u32,
    pub grader: Grader,
    /// The guarantees a grading here states in its report header (the same probe).
    pub guarantees: Guarantees,
    /// Every [`Layer`], in [`Layer::ALL`]'s order.
    pub layers: Vec<LayerFact>,
    /// Every optional tool, in `scenario::tools::ALL`'s order.
    pub tools: Vec<ToolFact>,
    /// Every exercise of the catalogue, in its order.
    pub exercises: Vec<ExerciseFact>,
    /// The one command that installs every missing tool; `None` when none is missing.
    pub install_command: Option<String>,
}

/// Who grades here.
#[derive(Debug, Clone, Serialize)]
pub struct Grader {
    pub uid: u32,
    pub root: bool,
    /// The kernel's release (`uname -r`).
    pub kernel: String,
    /// The interpreter Python programs run with.
    pub python: PathBuf,
}

/// One layer of the sandbox, or a kernel facility an exercise needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerFact {
    pub name: Layer,
    /// Whether this machine gives it; `None` when it is not needed here and was not
    /// probed (the user namespace when the grader is root).
    pub available: Option<bool>,
    /// Whether gradings here use it (a layer may be available and kept in reserve).
    pub used: bool,
    /// What was seen: what the layer gives, or the kernel's or supervisor's refusal.
    pub detail: String,
    /// The cause found on the machine, when it is missing.
    pub why: Option<String>,
    /// The exact fix, when there is one.
    pub fix: Option<String>,
}

/// One optional tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolFact {
    /// As [`crate::scenario::Tool::command`]: `ffmpeg`, `matplotlib`, `PyQt6.uic`.
    pub name: String,
    pub kind: ToolKind,
    pub found: bool,
    /// The command's or library's path, or the interpreter that imports the module.
    pub path: Option<PathBuf>,
    /// Its version line, where it is cheap to ask.
    pub version: Option<String>,
    /// The command that installs it here (for this interpreter, as this user).
    pub install: String,
    /// The exercises that rely on it.
    pub needed_by: Vec<String>,
    /// What happens without it.
    pub without: String,
}

/// How a tool is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    /// An executable on PATH.
    Command,
    /// A module the interpreter programs run with imports.
    Module,
    /// A library at a fixed path.
    Library,
}

/// One exercise: will it be fully judged here?
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExerciseFact {
    pub id: String,
    /// No scenario can be `skip` here for want of a tool or a layer.
    pub fully_judged: bool,
    pub skipped: Vec<SkipFact>,
    /// What is judged all the same, but differently (slower without a tool).
    pub notes: Vec<String>,
}

/// A scenario that will (or may) be `skip` here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkipFact {
    /// The public id, `exercise.scenario` (hygiene included).
    pub scenario: String,
    pub when: When,
    pub reason: String,
}

/// For which programs a scenario is `skip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// It may be `skip`, depending on what its run shows.
    Maybe,
    /// For a Python program that uses the missing module.
    Python,
    /// For every program.
    Always,
}

impl LayerFact {
    /// A layer that is not there.
    pub fn missing(name: Layer, detail: impl Into<String>) -> LayerFact {
        LayerFact {
            name,
            available: Some(false),
            used: false,
            detail: detail.into(),
            why: None,
            fix: None,
        }
    }

    /// A layer that is there; `used` says whether gradings use it.
    pub fn present(name: Layer, used: bool, detail: impl Into<String>) -> LayerFact {
        LayerFact {
            name,
            available: Some(true),
            used,
            detail: detail.into(),
            why: None,
            fix: None,
        }
    }

    /// With the cause and the fix found for it.
    pub fn because(mut self, why: Option<crate::doctor::why::Why>) -> LayerFact {
        if let Some(w) = why {
            self.why = Some(w.why);
            self.fix = w.fix;
        }
        self
    }
}
