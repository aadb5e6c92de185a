//! `sysgrade gradescope grade`, what `run_autograder` runs inside Gradescope's container:
//! grades `submission/` with `source/course.toml` (or every exercise) and always writes a
//! valid `results/results.json`, whatever happened:
//! - a grader fault (an `Error`, a panic outside a scenario): the scenarios already judged
//!   keep their scores; the rest are the grader's `fault`, and the output says so;
//! - the course's wall-clock budget running out: the results so far, and what was not reached;
//! - an empty submission: graded as such (every exercise not found).

use super::partial::{self, Stopped};
use super::Layout;
use crate::course::Course;
use crate::events::Event;
use crate::exercises::Exercise;
use crate::grading::{self, Audience, Request, Scope};
use crate::report::gradescope::{self as render, Context, Overrun};
use crate::result::{ScenarioResult, SubmissionResult};
use crate::sandbox::Guarantees;
use crate::settings::Settings;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The budget when the course sets none: nine minutes.
pub const DEFAULT_BUDGET_SECS: u64 = 540;

/// How the grading thread ended: results, or the grader's failure in words.
type Ended = Result<Vec<SubmissionResult>, String>;

/// Grades and writes `results.json`; returns the exit status (0 once the file is written).
pub fn run(layout: &Layout, settings: Settings) -> i32 {
    let started = Instant::now();
    let (result, mut ctx) = grade(layout, settings);
    ctx.execution_secs = Some(started.elapsed().as_secs_f64());
    let value = render::submission(&result, &ctx);
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    match crate::report::write_atomically(&layout.results_json(), &text) {
        Ok(()) => {
            crate::cli::emit(&crate::report::render(
                crate::report::Format::Human,
                std::slice::from_ref(&result),
                false,
            ));
            0
        }
        Err(e) => {
            eprintln!("error: writing {}: {e}", layout.results_json().display());
            2
        }
    }
}

/// The result to write and what the renderer must know besides.
fn grade(layout: &Layout, mut settings: Settings) -> (SubmissionResult, Context) {
    let course_file = layout.course();
    let course = if course_file.exists() {
        match Course::load(&course_file) {
            Ok(course) => course,
            Err(e) => return failed_before(layout, &settings, &e.to_string()),
        }
    } else {
        Course::default()
    };
    course.apply(&mut settings);
    settings.follow_cpu_quota();
    let submission = layout.submission();
    if let Err(e) = std::fs::create_dir_all(&submission) {
        return failed_before(layout, &settings, &format!("{}: {e}", submission.display()));
    }
    let guarantees = Guarantees::current(&settings.supervisor);
    let budget = Duration::from_secs(course.gradescope.budget_secs.unwrap_or(DEFAULT_BUDGET_SECS));
    let exercises = course.selected();
    let request = Request {
        submissions: vec![submission],
        exercises: exercises.clone(),
        course: course.clone(),
        repeat: 1,
        scope: Scope::Listed,
        audience: Audience::Staff,
    };
    let finished = Arc::new(Mutex::new(Vec::new()));
    let rx = start(settings.clone(), request, Arc::clone(&finished));
    let stopped = |why: String| Stopped {
        submission: layout.submission().display().to_string(),
        exercises: &exercises,
        course: &course,
        settings: &settings,
        guarantees: guarantees.clone(),
        why,
    };
    let taken = || {
        finished
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default()
    };
    match rx.recv_timeout(budget) {
        Ok(Ok(mut results)) if results.len() == 1 => (results.remove(0), Context::default()),
        Ok(Ok(results)) => fault(
            stopped(format!(
                "the grading returned {} results for one submission",
                results.len()
            )),
            taken(),
        ),
        Ok(Err(why)) => fault(stopped(why), taken()),
        Err(mpsc::RecvTimeoutError::Disconnected) => fault(
            stopped("the grading thread ended without results".into()),
            taken(),
        ),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let why = format!(
                "grading stopped at the course's time budget of {} s",
                budget.as_secs()
            );
            let (result, not_reached) = partial::assemble(&stopped(why), taken());
            let ctx = Context {
                overrun: Some(Overrun {
                    budget_secs: budget.as_secs(),
                    not_reached,
                }),
                ..Context::default()
            };
            (result, ctx)
        }
    }
}

/// Grades in a thread of its own; each settled scenario is kept in `finished` as it comes,
/// so a stopped grading still has them. A panic becomes the grader's failure in words.
fn start(
    settings: Settings,
    request: Request,
    finished: Arc<Mutex<Vec<ScenarioResult>>>,
) -> mpsc::Receiver<Ended> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut keep = |e: &Event| {
                if let Event::ScenarioFinished { result, .. } = e {
                    if let Ok(mut f) = finished.lock() {
                        f.push(result.clone());
                    }
                }
            };
            grading::grade(&settings, &request, &mut keep).map_err(|e| e.to_string())
        }))
        .unwrap_or_else(|_| {
            Err("the grading panicked (a bug in the harness; please report it)".into())
        });
        let _ = tx.send(ended);
    });
    rx
}

/// A grading stopped by the grader's own failure: what finished, the rest the grader's.
fn fault(stopped: Stopped, finished: Vec<ScenarioResult>) -> (SubmissionResult, Context) {
    let why = stopped.why.clone();
    let (result, _) = partial::assemble(&stopped, finished);
    (
        result,
        Context {
            fault: Some(why),
            ..Context::default()
        },
    )
}

/// The grader failed before grading began (an unreadable course file): nothing judged.
fn failed_before(layout: &Layout, settings: &Settings, why: &str) -> (SubmissionResult, Context) {
    let course = Course::default();
    let none: [&'static Exercise; 0] = [];
    fault(
        Stopped {
            submission: layout.submission().display().to_string(),
            exercises: &none,
            course: &course,
            settings,
            guarantees: Guarantees::default(),
            why: why.to_string(),
        },
        Vec::new(),
    )
}
