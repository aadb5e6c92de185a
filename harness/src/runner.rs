//! Grading: plan every submission, run every scenario on a pool of workers (emitting events),
//! collect the results. Nothing here formats output.
//!
//! **Architecture Invariant:** one student's crash, hang, flood or broken build never stops
//! the others: it becomes a finding in that scenario's result.

use crate::error::Error;
use crate::events::Event;
use crate::exercises::{Exercise, HYGIENE};
use crate::outcome::{Failure, Status};
use crate::plan::{self, Planned, Prepared};
use crate::result::{ExerciseResult, ScenarioResult, SubmissionResult};
use crate::run::RunRecord;
use crate::sandbox::Guarantees;
use crate::scenario::{self, Ctx, Scenario};
use crate::settings::Settings;
use crate::submission::Program;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// What to grade.
#[derive(Debug, Clone)]
pub struct Request {
    /// Submission folders, each named in reports as given here.
    pub submissions: Vec<PathBuf>,
    pub exercises: Vec<&'static Exercise>,
}

/// One scenario to run.
struct Task<'p> {
    submission: usize,
    exercise: usize,
    scenario: &'static Scenario,
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
    let tasks = tasks(&planned);
    on_event(&Event::Started {
        submissions: planned.len(),
        scenarios: tasks.len(),
    });
    let mut done: Vec<Option<Done>> = (0..tasks.len()).map(|_| None).collect();
    run_pool(settings, &tasks, work.path(), &mut |index, finished| {
        on_event(&Event::ScenarioFinished {
            submission: planned[tasks[index].submission].name.clone(),
            result: finished.0.clone(),
        });
        done[index] = Some(finished);
    });
    let mut results = Vec::new();
    for (s, p) in planned.iter().enumerate() {
        let mine: Vec<(&Task, Done)> = tasks
            .iter()
            .zip(done.iter_mut())
            .filter(|(t, _)| t.submission == s)
            .filter_map(|(t, d)| Some((t, d.take()?)))
            .collect();
        let result = assemble(settings, p, mine);
        on_event(&Event::SubmissionFinished {
            result: result.clone(),
        });
        results.push(result);
    }
    Ok(results)
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
                    plan::plan(settings, &name, root, &request.exercises, &build),
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

fn tasks(planned: &[Planned]) -> Vec<Task<'_>> {
    let mut out = Vec::new();
    for (s, p) in planned.iter().enumerate() {
        for (e, (exercise, prepared)) in p.exercises.iter().enumerate() {
            if let Prepared::Ready(program) = prepared {
                for scenario in exercise.scenarios {
                    out.push(Task {
                        submission: s,
                        exercise: e,
                        scenario,
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

fn run_pool(
    settings: &Settings,
    tasks: &[Task],
    work: &Path,
    on_done: &mut dyn FnMut(usize, Done),
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
                let dir = work
                    .join(format!("sub-{}", task.submission))
                    .join(format!("run-{i}"));
                let _ = tx.send((i, run_task(settings, task, &dir, work)));
            });
        }
        drop(tx);
        for (i, finished) in rx {
            on_done(i, finished);
        }
    });
}

fn run_task(settings: &Settings, task: &Task, dir: &Path, work: &Path) -> Done {
    let id = format!("{}.{}", task.exercise_id, task.scenario.id);
    let started = Instant::now();
    let (verdict, records) = run_scenario(settings, task, dir, work);
    let _ = std::fs::remove_dir_all(dir);
    let (status, feedback) = match verdict {
        Ok(observed) => (Status::Pass, observed),
        Err(f) => (f.status, f.message),
    };
    let result = ScenarioResult {
        id,
        status,
        points: u32::from(status == Status::Pass),
        max_points: 1,
        feedback,
        duration_ms: started.elapsed().as_millis() as u64,
        runs: if status == Status::Pass && !settings.keep_transcripts {
            Vec::new()
        } else {
            records.clone()
        },
    };
    (result, records)
}

fn run_scenario(
    settings: &Settings,
    task: &Task,
    dir: &Path,
    work: &Path,
) -> (Result<String, Failure>, Vec<RunRecord>) {
    let missing: Vec<String> = task
        .scenario
        .needs
        .iter()
        .filter(|t| !scenario::have(t))
        .map(|t| {
            format!(
                "`{}` is not installed (install it with `{}`)",
                t.command, t.install
            )
        })
        .collect();
    if !missing.is_empty() {
        return (Err(Failure::skip(missing.join("; "))), Vec::new());
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
    let check = task.scenario.check;
    let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&mut ctx)))
        .unwrap_or_else(|_| {
            Err(Failure::error(
                "grader fault: the scenario panicked (a bug in the harness; please report it)",
            ))
        });
    (verdict, ctx.take_records())
}

fn assemble(
    settings: &Settings,
    planned: &Planned,
    mut done: Vec<(&Task, Done)>,
) -> SubmissionResult {
    let mut exercises = Vec::new();
    for (e, (exercise, prepared)) in planned.exercises.iter().enumerate() {
        let mut scenarios = Vec::new();
        let hygiene_id = format!("{}.{HYGIENE}", exercise.id);
        let (source, language, warnings) = match prepared {
            Prepared::Ready(program) => {
                let mut records = Vec::new();
                for (task, (result, recs)) in done.iter_mut().filter(|(t, _)| t.exercise == e) {
                    records.push((
                        format!("{}.{}", task.exercise_id, task.scenario.id),
                        std::mem::take(recs),
                    ));
                    scenarios.push(result.clone());
                }
                let (status, feedback) = crate::hygiene::judge(&records);
                scenarios.push(verdict(hygiene_id, status, feedback));
                (
                    Some(program.found.source.display().to_string()),
                    Some(program.found.language),
                    program.warnings.clone(),
                )
            }
            Prepared::Missing(why) => {
                for s in exercise
                    .scenarios
                    .iter()
                    .map(|s| format!("{}.{}", exercise.id, s.id))
                    .chain([hygiene_id])
                {
                    scenarios.push(verdict(s, Status::Fail, why.clone()));
                }
                (None, None, None)
            }
            Prepared::Broken { source, failure } => {
                for s in exercise
                    .scenarios
                    .iter()
                    .map(|s| format!("{}.{}", exercise.id, s.id))
                    .chain([hygiene_id])
                {
                    scenarios.push(verdict(s, failure.status, failure.message.clone()));
                }
                (Some(source.clone()), None, None)
            }
        };
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
        guarantees: Guarantees::detect(),
        time_scale: settings.time_scale,
    }
    .total()
}

fn verdict(id: String, status: Status, feedback: String) -> ScenarioResult {
    ScenarioResult {
        id,
        status,
        points: u32::from(status == Status::Pass),
        max_points: 1,
        feedback,
        duration_ms: 0,
        runs: Vec::new(),
    }
}
