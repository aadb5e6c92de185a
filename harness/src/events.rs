//! Events emitted while grading, in the order things happen. Reporters (a progress
//! line, a live log) subscribe; the final report is rendered from the collected results.
//! Results in events are settled: the course's points, the hidden flag and the audience's
//! withholding are applied before anything is emitted (see `grading::settle`).

use crate::result::{ScenarioResult, SubmissionResult};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Event {
    /// Grading begins: how many submissions and scenarios there are.
    Started {
        submissions: usize,
        scenarios: usize,
    },
    /// One exercise of one submission is ready to run (or found missing, or failed to build).
    Prepared {
        submission: String,
        exercise: &'static str,
        outcome: String,
    },
    /// A submission is planned: `scenarios` of the `expected` will run (the others belong to
    /// exercises not found or not built).
    Planned {
        submission: String,
        scenarios: usize,
        expected: usize,
    },
    ScenarioStarted {
        submission: String,
        id: String,
    },
    /// A scenario finished: its final result, as reports will show it.
    ScenarioFinished {
        submission: String,
        result: ScenarioResult,
        /// When it finished, since grading started (`Started`).
        at: Duration,
    },
    SubmissionFinished {
        result: SubmissionResult,
    },
}
