//! The results stage: the one place where policy is applied. A finished scenario (its raw
//! verdict, as a worker ran it or as planning decided it) becomes its final
//! [`ScenarioResult`]: points and max points from the course, the hidden flag and, when the
//! audience is students, hidden feedback withheld. Everything downstream (events, the
//! assembled [`SubmissionResult`](crate::result::SubmissionResult), renderers, the CLI) only
//! reads settled results.

use crate::course::Course;
use crate::outcome::Status;
use crate::result::ScenarioResult;
use crate::run::RunRecord;

/// Who the results are for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Audience {
    /// Everything, hidden scenarios' feedback and transcripts included (`--staff`, and
    /// Gradescope, which hides hidden tests from students itself).
    Staff,
    /// Hidden scenarios keep their verdict and points, but not their feedback or transcripts.
    #[default]
    Students,
}

/// What a student sees of a hidden scenario's feedback.
pub const WITHHELD: &str = "(hidden scenario: feedback withheld)";

/// A scenario's verdict before policy: what running it (or planning its exercise) found.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    /// `exercise.scenario`.
    pub id: String,
    pub status: Status,
    pub feedback: String,
    pub duration_ms: u64,
    /// Under `--repeat`: how many of the repeats passed.
    pub passes: Option<u32>,
    /// Transcripts kept for the report (runs that did not pass, or all with
    /// `keep_transcripts`).
    pub runs: Vec<RunRecord>,
    /// A skip's missing tools (see [`Failure::missing`](crate::outcome::Failure::missing)).
    pub missing_tools: Vec<String>,
}

impl Raw {
    /// A verdict that took no time and kept no transcripts (hygiene, an exercise not run).
    pub fn new(id: String, status: Status, feedback: String) -> Self {
        Raw {
            id,
            status,
            feedback,
            duration_ms: 0,
            passes: None,
            runs: Vec::new(),
            missing_tools: Vec::new(),
        }
    }
}

/// The policy of one grading: the course's points and hidden ids, for an audience.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy<'a> {
    pub course: &'a Course,
    pub audience: Audience,
    /// Every scenario must be judged (`--require-tools`, a course's `require_tools`): a
    /// `skip` becomes a `fault` of the grader, so that no student is graded on part of the
    /// exercises by accident.
    pub require_judged: bool,
}

impl Policy<'_> {
    /// The final result of a finished scenario.
    pub fn settle(&self, raw: Raw) -> ScenarioResult {
        let raw = self.required(raw);
        let max_points = self.course.points_for(&raw.id);
        let hidden = self.course.is_hidden(&raw.id);
        let withheld = hidden && self.audience == Audience::Students;
        ScenarioResult {
            points: if raw.status == Status::Pass {
                max_points
            } else {
                0
            },
            max_points,
            hidden,
            feedback: if withheld {
                WITHHELD.into()
            } else {
                raw.feedback
            },
            runs: if withheld { Vec::new() } else { raw.runs },
            id: raw.id,
            status: raw.status,
            duration_ms: raw.duration_ms,
            passes: raw.passes,
            missing_tools: raw.missing_tools,
        }
    }

    /// `raw`, a `skip` turned into a `fault` when every scenario must be judged.
    fn required(&self, mut raw: Raw) -> Raw {
        if self.require_judged && raw.status == Status::Skip {
            raw.status = Status::Fault;
            raw.feedback = format!(
                "grader fault: not judged, and this grading requires every scenario to be (--require-tools): {}",
                raw.feedback
            );
        }
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course() -> Course {
        Course::parse("hidden = [\"process.exit\"]\n[points]\n\"process.exit\" = 3\n")
            .expect("a valid course")
    }

    fn raw(id: &str, status: Status) -> Raw {
        Raw {
            duration_ms: 12,
            runs: vec![RunRecord {
                label: "run 1".into(),
                started: true,
                ..Default::default()
            }],
            ..Raw::new(id.into(), status, "exited with status 1".into())
        }
    }

    #[test]
    fn points_come_from_the_course_and_only_a_pass_earns_them() {
        let course = course();
        let policy = Policy {
            course: &course,
            audience: Audience::Staff,
            require_judged: false,
        };
        let pass = policy.settle(raw("process.exit", Status::Pass));
        assert_eq!((pass.points, pass.max_points, pass.hidden), (3, 3, true));
        let fail = policy.settle(raw("process.ids", Status::Fail));
        assert_eq!((fail.points, fail.max_points, fail.hidden), (0, 1, false));
        assert_eq!(fail.duration_ms, 12);
    }

    #[test]
    fn a_skip_is_a_grader_fault_when_every_scenario_must_be_judged() {
        let course = course();
        let settle = |require_judged, status| {
            let mut raw = raw("make_movie.video", status);
            raw.feedback = "`ffmpeg` is not installed".into();
            raw.missing_tools = vec!["ffmpeg".into()];
            Policy {
                course: &course,
                audience: Audience::Students,
                require_judged,
            }
            .settle(raw)
        };
        let skipped = settle(false, Status::Skip);
        assert_eq!(skipped.status, Status::Skip);
        assert_eq!(skipped.missing_tools, ["ffmpeg"]);
        let required = settle(true, Status::Skip);
        assert_eq!(required.status, Status::Fault);
        assert!(
            required.feedback.starts_with("grader fault: ")
                && required.feedback.contains("--require-tools")
                && required.feedback.ends_with("`ffmpeg` is not installed"),
            "{}",
            required.feedback
        );
        assert_eq!(settle(true, Status::Fail).status, Status::Fail);
    }

    #[test]
    fn students_get_hidden_feedback_withheld_and_staff_get_it_all() {
        let course = course();
        let settle = |audience, id| {
            Policy {
                course: &course,
                audience,
                require_judged: false,
            }
            .settle(raw(id, Status::Fail))
        };
        let student = settle(Audience::Students, "process.exit");
        assert_eq!(student.feedback, WITHHELD);
        assert!(student.runs.is_empty() && student.hidden);
        let staff = settle(Audience::Staff, "process.exit");
        assert_eq!(staff.feedback, "exited with status 1");
        assert_eq!(staff.runs.len(), 1);
        let visible = settle(Audience::Students, "process.ids");
        assert_eq!(visible.feedback, "exited with status 1");
        assert_eq!(visible.runs.len(), 1);
    }
}
