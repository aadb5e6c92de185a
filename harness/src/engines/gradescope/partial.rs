//! A result assembled from what a stopped grading had settled: each scenario that finished
//! keeps its verdict, and every one that did not is a `fault` (the grader's, never the
//! student's) saying why it was not judged. Used when the course's budget ran out or the
//! grader failed outside a scenario.

use crate::course::Course;
use crate::exercises::{Exercise, HYGIENE};
use crate::outcome::Status;
use crate::result::{ExerciseResult, ScenarioResult, Setup, SubmissionResult};
use crate::sandbox::Guarantees;
use crate::settings::Settings;

/// What the result is made of besides the finished scenarios.
pub struct Stopped<'a> {
    pub submission: String,
    pub exercises: &'a [&'static Exercise],
    pub course: &'a Course,
    pub settings: &'a Settings,
    pub guarantees: Guarantees,
    /// Why the rest was not judged (the feedback of each scenario not reached).
    pub why: String,
}

/// The result, and the ids of the scenarios not reached.
pub fn assemble(
    stopped: &Stopped,
    finished: Vec<ScenarioResult>,
) -> (SubmissionResult, Vec<String>) {
    let mut not_reached = Vec::new();
    let mut exercises = Vec::new();
    for exercise in stopped.exercises {
        let mut scenarios = Vec::new();
        for id in ids(exercise, stopped.course) {
            match finished.iter().find(|s| s.id == id) {
                Some(done) => scenarios.push(done.clone()),
                None => {
                    scenarios.push(unreached(&id, stopped));
                    not_reached.push(id);
                }
            }
        }
        exercises.push(ExerciseResult::bare(exercise.id, None, scenarios).total());
    }
    let result = SubmissionResult {
        submission: stopped.submission.clone(),
        score: 0,
        max_score: 0,
        not_graded: 0,
        missing_tools: Vec::new(),
        exercises,
        problems: Vec::new(),
        not_found: Vec::new(),
        course: stopped.course.name.clone(),
        guarantees: stopped.guarantees.clone(),
        time_scale: stopped.settings.time_scale,
        setup: Setup {
            course_sha256: stopped.course.sha256.clone(),
            cpu_quota: stopped.settings.cpu_quota,
            hidden_visibility: stopped.course.gradescope.hidden_visibility,
        },
    }
    .total();
    (result, not_reached)
}

/// An exercise's scenario ids in the order grading reports them: the catalogue's, the
/// course's own, then hygiene.
fn ids(exercise: &Exercise, course: &Course) -> Vec<String> {
    let prefix = format!("{}.", exercise.id);
    exercise
        .scenarios
        .iter()
        .map(|s| format!("{prefix}{}", s.id))
        .chain(
            course
                .scenarios
                .iter()
                .map(|s| s.get_ref().id.clone())
                .filter(|id| id.starts_with(&prefix)),
        )
        .chain(std::iter::once(format!("{prefix}{HYGIENE}")))
        .collect()
}

fn unreached(id: &str, stopped: &Stopped) -> ScenarioResult {
    ScenarioResult {
        id: id.to_string(),
        status: Status::Fault,
        points: 0,
        max_points: stopped.course.points_for(id),
        feedback: format!("grader fault: not judged: {}", stopped.why),
        duration_ms: 0,
        hidden: stopped.course.is_hidden(id),
        passes: None,
        runs: Vec::new(),
        missing_tools: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercises;

    #[test]
    fn finished_scenarios_keep_their_verdict_and_the_rest_are_the_graders() {
        let course = Course::default();
        let settings = Settings::from_env();
        let process = exercises::get("process").expect("process");
        let list = [process];
        let stopped = Stopped {
            submission: "submission".into(),
            exercises: &list,
            course: &course,
            settings: &settings,
            guarantees: Guarantees::default(),
            why: "the course's time budget ran out".into(),
        };
        let first = format!("process.{}", process.scenarios[0].id);
        let done = ScenarioResult {
            id: first.clone(),
            status: Status::Pass,
            points: 1,
            max_points: 1,
            feedback: "ok".into(),
            duration_ms: 5,
            hidden: false,
            passes: None,
            runs: Vec::new(),
            missing_tools: Vec::new(),
        };
        let (result, not_reached) = assemble(&stopped, vec![done]);
        assert_eq!(result.score, 1);
        assert_eq!(not_reached.len(), process.scenarios.len());
        assert!(!not_reached.contains(&first));
        assert_eq!(
            not_reached.last().map(String::as_str),
            Some("process.hygiene")
        );
        let rest = &result.exercises[0].scenarios[1];
        assert_eq!(rest.status, Status::Fault);
        assert!(rest.feedback.starts_with("grader fault: not judged"));
    }
}
