//! Grading: plan every submission, run every scenario on a pool of workers (emitting events),
//! collect the results. Nothing here formats output.
//!
//! **Architecture Invariant:** one student's crash, hang, flood or broken build never stops
//! the others: it becomes a finding in that scenario's result.

use crate::course::steps::DataScenario;
use crate::course::Course;
use crate::error::Error;
use crate::events::Event;
use crate::exercises::{Exercise, HYGIENE};
use crate::outcome::{Failure, Status};
use crate::plan::{self, Planned, Prepared};
use crate::result::{ExerciseResult, ScenarioResult, SubmissionResult};
use crate::run::RunRecord;
use crate::sandbox::Guarantees;
use crate::scenario::{self, Ctx, Scenario, Tool};
use crate::settings::Settings;
use crate::submission::Program;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// What to grade.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Submission folders, each named in reports as given here.
    pub submissions: Vec<PathBuf>,
    pub exercises: Vec<&'static Exercise>,
    /// Points, hidden and extra scenarios, aliases (the default: the catalogue's).
    pub course: Course,
    /// Run every scenario this many times; a verdict that changes is `flaky`.
    pub repeat: u32,
}

/// A scenario's check: built in, or written as data in the course file.
#[derive(Clone, Copy)]
enum Check<'a> {
    Builtin(&'static Scenario),
    Data(&'a DataScenario),
}

/// One scenario to run.
struct Task<'p> {
    submission: usize,
    exercise: usize,
    id: String,
    check: Check<'p>,
    exercise_id: &'static str,
    program: &'p Program,
    root: &'p Path,
}

/// A finished task: its result and its runs' records (for hygiene).
type Done = (ScenarioResult, Vec<RunRecord>);

/// Grades every submission of `request`, calling `on_event` as things happen.
pub fn grade(
    settings: &Settings,
    request: &Request,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Vec<SubmissionResult>, Error> {
    let work = tempfile::Builder::new()
        .prefix("sysgrade-")
        .tempdir()
        .map_err(|source| Error::Io {
            what: "creating the grading folder".into(),
            source,
        })?;
    let _ = std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o711));
    let planned = plan_all(settings, request, work.path())?;
    for p in &planned {
        for (exercise, prepared) in &p.exercises {
            let outcome = match prepared {
                Prepared::Ready(program) => format!("ready: {}", program.found.source.display()),
                Prepared::Missing(why) => why.clone(),
                Prepared::Broken { failure, .. } => failure.message.clone(),
            };
            on_event(&Event::Prepared {
                submission: p.name.clone(),
                exercise: exercise.id,
                outcome,
            });
        }
    }
    let tasks = tasks(&planned, &request.course);
    on_event(&Event::Started {
        submissions: planned.len(),
        scenarios: tasks.len(),
    });
    let mut done: Vec<Option<Done>> = (0..tasks.len()).map(|_| None).collect();
    let mut left: Vec<usize> = (0..planned.len())
        .map(|s| tasks.iter().filter(|t| t.submission == s).count())
        .collect();
    let mut results: Vec<Option<SubmissionResult>> = (0..planned.len()).map(|_| None).collect();
    let mut finish = |s: usize, done: &mut Vec<Option<Done>>, on_event: &mut dyn FnMut(&Event)| {
        let result = assemble(settings, &request.course, &planned[s], &tasks, done, s);
        on_event(&Event::SubmissionFinished {
            result: result.clone(),
        });
        results[s] = Some(result);
    };
    for s in (0..planned.len()).filter(|s| left[*s] == 0) {
        finish(s, &mut done, on_event);
    }
    run_pool(
        settings,
        request.repeat.max(1),
        &tasks,
        work.path(),
        &mut |update| match update {
            Update::Started(i) => on_event(&Event::ScenarioStarted {
                submission: planned[tasks[i].submission].name.clone(),
                id: tasks[i].id.clone(),
            }),
            Update::Done(i, finished) => {
                let s = tasks[i].submission;
                on_event(&Event::ScenarioFinished {
                    submission: planned[s].name.clone(),
                    result: finished.0.clone(),
                });
                done[i] = Some(finished);
                left[s] -= 1;
                if left[s] == 0 {
                    finish(s, &mut done, on_event);
                }
            }
        },
    );
    Ok(results.into_iter().flatten().collect())
}

fn plan_all(settings: &Settings, request: &Request, work: &Path) -> Result<Vec<Planned>, Error> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..settings.jobs.clamp(1, request.submissions.len().max(1)) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(root) = request.submissions.get(i) else {
                    break;
                };
                let name = root.display().to_string();
                let build = work.join(format!("sub-{i}")).join("build");
                let _ = tx.send((
                    i,
                    plan::plan(
                        settings,
                        &name,
                        root,
                        &request.exercises,
                        &build,
                        &request.course,
                    ),
                ));
            });
        }
    });
    drop(tx);
    let mut planned: Vec<(usize, Planned)> = Vec::new();
    for (i, p) in rx {
        planned.push((i, p?));
    }
    planned.sort_by_key(|(i, _)| *i);
    Ok(planned.into_iter().map(|(_, p)| p).collect())
}

/// The checks of one exercise: the catalogue's, then the course's own.
fn checks<'c>(exercise: &'static Exercise, course: &'c Course) -> Vec<(String, Check<'c>)> {
    let builtin = exercise
        .scenarios
        .iter()
        .map(|s| (format!("{}.{}", exercise.id, s.id), Check::Builtin(s)));
    let data = course
        .scenarios
        .iter()
        .filter(|d| d.exercise() == exercise.id)
        .map(|d| (d.id.clone(), Check::Data(d)));
    builtin.chain(data).collect()
}

fn tasks<'p>(planned: &'p [Planned], course: &'p Course) -> Vec<Task<'p>> {
    let mut out = Vec::new();
    for (s, p) in planned.iter().enumerate() {
        for (e, (exercise, prepared)) in p.exercises.iter().enumerate() {
            if let Prepared::Ready(program) = prepared {
                for (id, check) in checks(exercise, course) {
                    out.push(Task {
                        submission: s,
                        exercise: e,
                        id,
                        check,
                        exercise_id: exercise.id,
                        program,
                        root: &p.root,
                    });
                }
            }
        }
    }
    out
}

enum Update {
    Started(usize),
    Done(usize, Done),
}

fn run_pool(
    settings: &Settings,
    repeat: u32,
    tasks: &[Task],
    work: &Path,
    on_update: &mut dyn FnMut(Update),
) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..settings.jobs.max(1).min(tasks.len().max(1)) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(task) = tasks.get(i) else { break };
                let _ = tx.send(Update::Started(i));
                let dir = work
                    .join(format!("sub-{}", task.submission))
                    .join(format!("run-{i}"));
                let _ = tx.send(Update::Done(
                    i,
                    run_repeated(settings, repeat, task, &dir, work),
                ));
            });
        }
        drop(tx);
        for update in rx {
            on_update(update);
        }
    });
}

/// Runs a task `repeat` times and combines the verdicts.
fn run_repeated(settings: &Settings, repeat: u32, task: &Task, dir: &Path, work: &Path) -> Done {
    let mut results = Vec::new();
    let mut records = Vec::new();
    for _ in 0..repeat.max(1) {
        let (result, recs) = run_task(settings, task, dir, work);
        results.push(result);
        records.extend(recs);
    }
    (combine(results), records)
}

/// One verdict from repeats: the common one when they agree (with the pass count when there
/// were several), else `flaky`, quoting a run that did not pass.
pub fn combine(mut results: Vec<ScenarioResult>) -> ScenarioResult {
    let repeats = results.len() as u32;
    let passes = results.iter().filter(|r| r.status == Status::Pass).count() as u32;
    let agree = results.windows(2).all(|w| w[0].status == w[1].status);
    let failing = results.iter().position(|r| r.status != Status::Pass);
    let mut first = results.swap_remove(if agree { 0 } else { failing.unwrap_or(0) });
    if repeats > 1 {
        first.passes = Some(passes);
    }
    if !agree {
        first.feedback = format!(
            "flaky: passed {passes} of {repeats} runs; a run that did not pass said: {}",
            first.feedback
        );
        first.status = Status::Flaky;
    }
    first
}

fn run_task(settings: &Settings, task: &Task, dir: &Path, work: &Path) -> Done {
    let started = Instant::now();
    let (verdict, records) = run_scenario(settings, task, dir, work);
    let _ = std::fs::remove_dir_all(dir);
    let (status, feedback) = match verdict {
        Ok(observed) => (Status::Pass, observed),
        Err(f) => (f.status, f.message),
    };
    let mut result = verdict_of(task.id.clone(), status, feedback);
    result.duration_ms = started.elapsed().as_millis() as u64;
    if status != Status::Pass || settings.keep_transcripts {
        result.runs = records.clone();
    }
    (result, records)
}

fn missing_tools(needs: &[Tool]) -> Option<Failure> {
    let missing: Vec<String> = needs
        .iter()
        .filter(|t| !scenario::have(t))
        .map(|t| {
            format!(
                "`{}` is not installed (install it with `{}`)",
                t.command, t.install
            )
        })
        .collect();
    (!missing.is_empty()).then(|| Failure::skip(missing.join("; ")))
}

fn run_scenario(
    settings: &Settings,
    task: &Task,
    dir: &Path,
    work: &Path,
) -> (Result<String, Failure>, Vec<RunRecord>) {
    if let Check::Builtin(s) = task.check {
        if let Some(skip) = missing_tools(s.needs) {
            return (Err(skip), Vec::new());
        }
    }
    let mut ctx = match Ctx::new(
        settings,
        task.program,
        task.exercise_id,
        task.root,
        dir,
        work,
    ) {
        Ok(ctx) => ctx,
        Err(e) => {
            return (
                Err(Failure::error(format!("grader fault: {e}"))),
                Vec::new(),
            )
        }
    };
    let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match task.check {
        Check::Builtin(s) => (s.check)(&mut ctx),
        Check::Data(d) => d.run(&mut ctx),
    }))
    .unwrap_or_else(|_| {
        Err(Failure::error(
            "grader fault: the scenario panicked (a bug in the harness; please report it)",
        ))
    });
    (verdict, ctx.take_records())
}

fn assemble(
    settings: &Settings,
    course: &Course,
    planned: &Planned,
    tasks: &[Task],
    done: &mut [Option<Done>],
    s: usize,
) -> SubmissionResult {
    let mut exercises = Vec::new();
    for (e, (exercise, prepared)) in planned.exercises.iter().enumerate() {
        let mut ids: Vec<String> = checks(exercise, course)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.push(format!("{}.{HYGIENE}", exercise.id));
        let mut scenarios = Vec::new();
        let (source, language, warnings) = match prepared {
            Prepared::Ready(program) => {
                let mut records = Vec::new();
                for (task, slot) in tasks
                    .iter()
                    .zip(done.iter_mut())
                    .filter(|(t, _)| t.submission == s && t.exercise == e)
                {
                    if let Some((result, recs)) = slot.take() {
                        records.push((task.id.clone(), recs));
                        scenarios.push(result);
                    }
                }
                let (status, feedback) = crate::hygiene::judge(&records);
                scenarios.push(verdict_of(
                    format!("{}.{HYGIENE}", exercise.id),
                    status,
                    feedback,
                ));
                let source = program.found.source.display().to_string();
                let source = match &program.found.bin {
                    Some(bin) => format!("{source} (bin {bin})"),
                    None => source,
                };
                (
                    Some(source),
                    Some(program.found.language),
                    program.warnings.clone(),
                )
            }
            Prepared::Missing(why) => {
                scenarios.extend(
                    ids.iter()
                        .map(|id| verdict_of(id.clone(), Status::Fail, why.clone())),
                );
                (None, None, None)
            }
            Prepared::Broken { source, failure } => {
                scenarios.extend(
                    ids.iter()
                        .map(|id| verdict_of(id.clone(), failure.status, failure.message.clone())),
                );
                (Some(source.clone()), None, None)
            }
        };
        for sc in &mut scenarios {
            sc.max_points = course.points_for(&sc.id);
            sc.points = if sc.status == Status::Pass {
                sc.max_points
            } else {
                0
            };
            sc.hidden = course.is_hidden(&sc.id);
        }
        exercises.push(
            ExerciseResult {
                id: exercise.id.to_string(),
                source,
                language,
                score: 0,
                max_score: 0,
                warnings,
                scenarios,
            }
            .total(),
        );
    }
    SubmissionResult {
        submission: planned.name.clone(),
        score: 0,
        max_score: 0,
        exercises,
        problems: planned.problems.clone(),
        guarantees: Guarantees::current(settings),
        time_scale: settings.time_scale,
    }
    .total()
}

pub(crate) fn verdict_of(id: String, status: Status, feedback: String) -> ScenarioResult {
    ScenarioResult {
        id,
        status,
        points: u32::from(status == Status::Pass),
        max_points: 1,
        feedback,
        duration_ms: 0,
        hidden: false,
        passes: None,
        runs: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(status: Status) -> ScenarioResult {
        verdict_of("x.y".into(), status, format!("{status:?}"))
    }

    #[test]
    fn repeats_that_agree_keep_their_status() {
        let r = combine(vec![
            with(Status::Pass),
            with(Status::Pass),
            with(Status::Pass),
        ]);
        assert_eq!((r.status, r.passes), (Status::Pass, Some(3)));
    }

    #[test]
    fn repeats_that_differ_are_flaky_and_quote_a_failure() {
        let r = combine(vec![
            with(Status::Pass),
            with(Status::Fail),
            with(Status::Pass),
        ]);
        assert_eq!((r.status, r.passes), (Status::Flaky, Some(2)));
        assert!(
            r.feedback.contains("passed 2 of 3") && r.feedback.ends_with("Fail"),
            "{}",
            r.feedback
        );
    }
}
