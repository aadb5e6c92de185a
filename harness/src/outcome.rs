//! Verdict vocabulary shared by the run steps, the scenarios and the results.

use serde::{Deserialize, Serialize};

/// A scenario's status, as the JSON report spells it.
///
/// `error` and `fault` keep apart whose problem it was: `error` is the student's (the program
/// could not be built or started), `fault` the grader's own (a bug in the harness, a tool or
/// a supervisor that could not start, a machine too busy to observe). Only `fault` makes
/// `grade` exit with 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// The program did the wrong thing.
    Fail,
    /// The program stayed silent past a deadline.
    Timeout,
    /// The program could not be built or started.
    Error,
    /// Nothing was judged: a tool the scenario needs is missing, or the machine was too loaded.
    Skip,
    /// Under `--repeat`: the verdict changed between repeats.
    Flaky,
    /// A fault of the grader itself, not of the student.
    Fault,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Timeout => "timeout",
            Status::Error => "error",
            Status::Skip => "skip",
            Status::Flaky => "flaky",
            Status::Fault => "fault",
        }
    }
}

/// Why a step or a scenario did not pass: the status it earns and what was expected versus
/// what happened, in one or two plain sentences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: Status,
    pub message: String,
    /// For a `skip` because a tool is missing: the tools, as `sysgrade doctor` names them
    /// (`ffmpeg`, `matplotlib`, `PyQt6`).
    pub missing_tools: Vec<String>,
}

impl Failure {
    /// The same failure, its message led by `context` ("SIGINT #2: …").
    pub fn context(self, context: impl std::fmt::Display) -> Self {
        Failure {
            message: format!("{context}: {}", self.message),
            ..self
        }
    }

    /// The same failure, its message followed by `hint` (" (getppid() instead of …?)").
    pub fn hint(self, hint: impl std::fmt::Display) -> Self {
        Failure {
            message: format!("{}{hint}", self.message),
            ..self
        }
    }

    pub fn fail(message: impl Into<String>) -> Self {
        Failure {
            status: Status::Fail,
            message: message.into(),
            missing_tools: Vec::new(),
        }
    }
    pub fn timeout(message: impl Into<String>) -> Self {
        Failure {
            status: Status::Timeout,
            message: message.into(),
            missing_tools: Vec::new(),
        }
    }
    /// The student's program could not be built or started.
    pub fn error(message: impl Into<String>) -> Self {
        Failure {
            status: Status::Error,
            message: message.into(),
            missing_tools: Vec::new(),
        }
    }
    /// A fault of the grader, not of the student: the message is led by `grader fault: `, so
    /// that it says so plainly.
    pub fn fault(message: impl std::fmt::Display) -> Self {
        Failure {
            status: Status::Fault,
            message: format!("grader fault: {message}"),
            missing_tools: Vec::new(),
        }
    }
    /// Nothing judged because `tools` are missing on this machine; `message` says which and
    /// how to install them.
    pub fn missing(tools: &[&str], message: impl Into<String>) -> Self {
        Failure {
            missing_tools: tools.iter().map(|t| t.to_string()).collect(),
            ..Failure::skip(message)
        }
    }
    pub fn skip(message: impl Into<String>) -> Self {
        Failure {
            status: Status::Skip,
            message: message.into(),
            missing_tools: Vec::new(),
        }
    }
}

impl From<crate::error::Error> for Failure {
    /// The grader's own error, where a verdict is due: its fault, never the student's.
    fn from(e: crate::error::Error) -> Self {
        Failure::fault(e)
    }
}

/// How a skip's feedback opens when the machine was too busy to judge (not a missing tool).
pub const OVERLOADED: &str = "the machine was overloaded";

/// Whether `feedback` is that of a skip because the machine was too busy to judge.
pub fn overloaded(feedback: &str) -> bool {
    feedback.starts_with(OVERLOADED)
}

/// What a scenario function returns: `Ok` with what was observed, or the failure.
pub type Verdict = Result<String, Failure>;

/// Returns early from a scenario with a `fail` status.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::outcome::Failure::fail(format!($($arg)*)))
    };
}

/// Fails the scenario unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        let holds: bool = $cond;
        if !holds {
            $crate::fail!($($arg)*);
        }
    };
}
