//! Grading: plan every submission, run every scenario on a pool of workers, settle each
//! finished scenario into its result (the results stage, `settle.rs`), emit events, assemble
//! the submissions' results. Nothing here formats output.
//!
//! **Architecture Invariant:** one student's crash, hang, flood or broken build never stops
//! the others: it becomes a finding in that scenario's result.
//!
//! **Architecture Invariant:** policy is applied once, in the results stage, before anything
//! is emitted: every result in an event or in what `grade` returns is settled.

mod schedule;
mod settle;
mod shared;
mod task;

pub use settle::{Audience, WITHHELD};
pub use task::PANIC_HOOK;

use crate::course::Course;
use crate::error::Error;
use crate::events::Event;
use crate::exercises::{Exercise, HYGIENE};
use crate::outcome::Status;
use crate::plan::{Planned, Prepared};
use crate::result::{ExerciseResult, ProgramState, ScenarioResult, SubmissionResult};
use crate::run::RunRecord;
use crate::sandbox::Guarantees;
use crate::settings::Settings;
use schedule::{Message, Work};
use settle::{Policy, Raw};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::Instant;
use task::checks;

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
    pub scope: Scope,
    /// Who the results are for: students (the default) do not get hidden scenarios'
    /// feedback.
    pub audience: Audience,
}

/// Which of the requested exercises a result holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    /// All of them: one not handed in costs its points visibly (a course file, `--exercise`).
    #[default]
    Listed,
    /// Those found in the submission, or in any submission of a class; the others are named
    /// in `not_found` (a student checking a folder without a course file).
    Found,
}

/// A scenario's settled result and its runs' records (for hygiene).
type Settled = (ScenarioResult, Vec<RunRecord>);

/// One submission being collected: its plan, its scenarios and what has come back.
struct Collecting {
    planned: Arc<Planned>,
    tasks: Vec<(String, usize)>,
    done: Vec<Option<Settled>>,
}

impl Collecting {
    fn complete(&self) -> bool {
        self.done.iter().all(Option::is_some)
    }
}

/// Grades every submission of `request`, calling `on_event` as things happen.
pub fn grade(
    settings: &Settings,
    request: &Request,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Vec<SubmissionResult>, Error> {
    // Probed once, here; every layer below is handed the value.
    let guarantees = Guarantees::current(&settings.supervisor);
    let dir = tempfile::Builder::new()
        .prefix("sysgrade-")
        .tempdir_in(grading_base(&guarantees))
        .map_err(|source| Error::Io {
            what: "creating the grading folder".into(),
            source,
        })?;
    let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711));
    let started = Instant::now();
    let policy = Policy {
        course: &request.course,
        audience: request.audience,
        require_judged: request.course.require_tools,
    };
    let per_submission: usize = request
        .exercises
        .iter()
        .map(|e| checks(e, &request.course).len())
        .sum();
    on_event(&Event::Started {
        submissions: request.submissions.len(),
        scenarios: per_submission * request.submissions.len(),
    });
    let work = Work {
        settings,
        guarantees: &guarantees,
        submissions: &request.submissions,
        exercises: &request.exercises,
        course: &request.course,
        repeat: request.repeat.max(1),
        dir: dir.path(),
    };
    let mut collecting: Vec<Option<Collecting>> =
        (0..request.submissions.len()).map(|_| None).collect();
    let mut results: Vec<Option<SubmissionResult>> =
        (0..request.submissions.len()).map(|_| None).collect();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| schedule::dispatch(&work, tx));
        for message in rx {
            // The submission the message is about: only it can have become complete.
            let touched = match message {
                Message::Planned {
                    submission,
                    planned,
                    tasks,
                } => {
                    announce(&planned, tasks.len(), per_submission, on_event);
                    collecting[submission] = Some(Collecting {
                        planned,
                        done: (0..tasks.len()).map(|_| None).collect(),
                        tasks,
                    });
                    submission
                }
                Message::Started { submission, id } => {
                    on_event(&Event::ScenarioStarted {
                        submission: request.submissions[submission].display().to_string(),
                        id,
                    });
                    continue;
                }
                Message::Done {
                    submission,
                    index,
                    done: (raw, records),
                    at,
                } => {
                    let result = policy.settle(raw);
                    on_event(&Event::ScenarioFinished {
                        submission: request.submissions[submission].display().to_string(),
                        result: result.clone(),
                        at: at.saturating_duration_since(started),
                    });
                    if let Some(c) = collecting[submission].as_mut() {
                        c.done[index] = Some((result, records));
                    }
                    submission
                }
            };
            let slot = &mut collecting[touched];
            if let Some(mut c) = slot.take_if(|c| c.complete()) {
                let result = assemble(
                    settings,
                    &guarantees,
                    &policy,
                    &c.planned,
                    &c.tasks,
                    &mut c.done,
                );
                on_event(&Event::SubmissionFinished {
                    result: result.clone(),
                });
                results[touched] = Some(result);
            }
        }
    });
    let results: Vec<SubmissionResult> = results.into_iter().flatten().collect();
    Ok(scoped(results, request.scope))
}

/// The results as `scope` keeps them: all the exercises (`Listed`), or those some submission
/// holds (`Found`; the others are named in `not_found`).
pub fn scoped(results: Vec<SubmissionResult>, scope: Scope) -> Vec<SubmissionResult> {
    match scope {
        Scope::Listed => results,
        Scope::Found => {
            let found: std::collections::BTreeSet<String> = results
                .iter()
                .flat_map(|r| r.exercises.iter().filter(|e| e.source.is_some()))
                .map(|e| e.id.clone())
                .collect();
            results.into_iter().map(|r| r.keep_only(&found)).collect()
        }
    }
}

/// Where the grading folder (every run's copy of its submission) lives. Runs with a private
/// root see none of it; under Landlock they may use the shared `/tmp`, so there it lives
/// elsewhere: below `/var/cache` for root, the user's cache folder otherwise.
fn grading_base(g: &Guarantees) -> PathBuf {
    let tmp = std::env::temp_dir();
    if g.private_tmp {
        return tmp;
    }
    let base = if nix::unistd::geteuid().is_root() {
        PathBuf::from("/var/cache/sysgrade")
    } else {
        match std::env::var_os("XDG_CACHE_HOME").or_else(|| std::env::var_os("HOME")) {
            Some(dir) if std::env::var_os("XDG_CACHE_HOME").is_some() => {
                PathBuf::from(dir).join("sysgrade")
            }
            Some(home) => PathBuf::from(home).join(".cache/sysgrade"),
            None => return tmp,
        }
    };
    match std::fs::create_dir_all(&base) {
        Ok(()) => {
            let _ = std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o711));
            base
        }
        Err(_) => tmp,
    }
}

/// Events for a planned submission: each exercise's outcome, and its runnable scenarios.
fn announce(planned: &Planned, runnable: usize, expected: usize, on_event: &mut dyn FnMut(&Event)) {
    for (exercise, prepared) in &planned.exercises {
        let outcome = match prepared {
            Prepared::Ready(program) => format!("ready: {}", program.found.source.display()),
            Prepared::Missing(why) => why.clone(),
            Prepared::Broken { failure, .. } => failure.message.clone(),
        };
        on_event(&Event::Prepared {
            submission: planned.name.clone(),
            exercise: exercise.id,
            outcome,
        });
    }
    on_event(&Event::Planned {
        submission: planned.name.clone(),
        scenarios: runnable,
        expected,
    });
}

/// A submission's result from its settled scenarios; the verdicts no scenario run gave
/// (hygiene, exercises missing or not built) are settled here, through the same stage.
fn assemble(
    settings: &Settings,
    guarantees: &Guarantees,
    policy: &Policy,
    planned: &Planned,
    tasks: &[(String, usize)],
    done: &mut [Option<Settled>],
) -> SubmissionResult {
    let mut exercises = Vec::new();
    for (e, (exercise, prepared)) in planned.exercises.iter().enumerate() {
        let mut ids: Vec<String> = checks(exercise, policy.course)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.push(format!("{}.{HYGIENE}", exercise.id));
        let mut scenarios = Vec::new();
        let (source, language, warnings, program) = match prepared {
            Prepared::Ready(program) => {
                let mut records = Vec::new();
                for ((id, _), slot) in tasks
                    .iter()
                    .zip(done.iter_mut())
                    .filter(|((_, x), _)| *x == e)
                {
                    if let Some((result, recs)) = slot.take() {
                        // A shared run's records are named by the exercise, their labels
                        // by the scenarios that shared them.
                        let (shared, own): (Vec<RunRecord>, Vec<RunRecord>) =
                            recs.into_iter().partition(shared::is_shared);
                        if !shared.is_empty() {
                            records.push((exercise.id.to_string(), shared));
                        }
                        records.push((id.clone(), own));
                        scenarios.push(result);
                    }
                }
                let (status, feedback) = crate::hygiene::judge(&records);
                scenarios.push(policy.settle(Raw::new(
                    format!("{}.{HYGIENE}", exercise.id),
                    status,
                    feedback,
                )));
                let source = program.found.source.display().to_string();
                let source = match &program.found.bin {
                    Some(bin) => format!("{source} (bin {bin})"),
                    None => source,
                };
                (
                    Some(source),
                    Some(program.found.language),
                    program.warnings.clone(),
                    ProgramState::Ready,
                )
            }
            Prepared::Missing(why) => {
                scenarios.extend(
                    ids.iter()
                        .map(|id| policy.settle(Raw::new(id.clone(), Status::Fail, why.clone()))),
                );
                (None, None, None, ProgramState::Missing)
            }
            Prepared::Broken { source, failure } => {
                scenarios.extend(ids.iter().map(|id| {
                    policy.settle(Raw::new(
                        id.clone(),
                        failure.status,
                        failure.message.clone(),
                    ))
                }));
                (Some(source.clone()), None, None, ProgramState::BuildFailed)
            }
        };
        exercises.push(
            ExerciseResult {
                id: exercise.id.to_string(),
                source,
                program,
                language,
                score: 0,
                max_score: 0,
                not_graded: 0,
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
        not_graded: 0,
        missing_tools: Vec::new(),
        exercises,
        problems: planned.problems.clone(),
        not_found: Vec::new(),
        course: policy.course.name.clone(),
        guarantees: guarantees.clone(),
        time_scale: settings.time_scale,
        setup: crate::result::Setup {
            course_sha256: policy.course.sha256.clone(),
            cpu_quota: settings.cpu_quota,
            hidden_visibility: policy.course.gradescope.hidden_visibility,
        },
    }
    .total()
}
