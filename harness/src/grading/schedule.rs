//! The worker pool: building and running overlap.
//!
//! Workers plan (discover and build) the next submission whenever fewer scenarios are queued
//! than there are workers, and run queued scenarios otherwise. CPU-bound builds thus fill
//! the time that sleep-bound scenarios leave idle, instead of all builds running first.
//! Everything a worker learns goes to the caller's thread as a [`Message`].

use super::task::{self, Done, Task};
use crate::course::Course;
use crate::exercises::Exercise;
use crate::plan::{self, Planned, Prepared};
use crate::sandbox::Guarantees;
use crate::settings::Settings;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

/// What workers report.
pub(super) enum Message {
    /// A submission is planned; `tasks` lists its scenarios (id, exercise index) in order.
    Planned {
        submission: usize,
        planned: Arc<Planned>,
        tasks: Vec<(String, usize)>,
    },
    Started {
        submission: usize,
        id: String,
    },
    Done {
        submission: usize,
        index: usize,
        done: Done,
        /// When the scenario finished.
        at: Instant,
    },
}

/// What the pool works on.
pub(super) struct Work<'a> {
    pub settings: &'a Settings,
    /// What the sandbox gives on this machine, probed once by `grade`.
    pub guarantees: &'a Guarantees,
    pub submissions: &'a [PathBuf],
    pub exercises: &'a [&'static Exercise],
    pub course: &'a Course,
    pub repeat: u32,
    pub dir: &'a Path,
}

struct Queue<'a> {
    next_plan: usize,
    planning: usize,
    ready: VecDeque<Box<Task<'a>>>,
}

enum Job<'a> {
    Plan(usize),
    Run(Box<Task<'a>>),
    Stop,
}

/// Runs the pool to completion, sending every [`Message`] to `tx`.
pub(super) fn dispatch(work: &Work, tx: Sender<Message>) {
    let queue = Mutex::new(Queue {
        next_plan: 0,
        planning: 0,
        ready: VecDeque::new(),
    });
    let wake = Condvar::new();
    let jobs = work.settings.jobs.max(1);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (queue, wake) = (&queue, &wake);
            scope.spawn(move || worker(work, jobs, queue, wake, &tx));
        }
    });
}

fn next_job<'a>(work: &Work, jobs: usize, queue: &Mutex<Queue<'a>>, wake: &Condvar) -> Job<'a> {
    let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if q.ready.len() < jobs && q.next_plan < work.submissions.len() {
            q.next_plan += 1;
            q.planning += 1;
            return Job::Plan(q.next_plan - 1);
        }
        if let Some(task) = q.ready.pop_front() {
            return Job::Run(task);
        }
        if q.planning == 0 && q.next_plan >= work.submissions.len() {
            return Job::Stop;
        }
        q = wake.wait(q).unwrap_or_else(|p| p.into_inner());
    }
}

fn worker<'a>(
    work: &Work<'a>,
    jobs: usize,
    queue: &Mutex<Queue<'a>>,
    wake: &Condvar,
    tx: &Sender<Message>,
) {
    loop {
        match next_job(work, jobs, queue, wake) {
            Job::Plan(s) => {
                let planned = Arc::new(plan_one(work, s));
                let tasks = tasks_for(s, &planned, work.course);
                let mut listed: Vec<(usize, String, usize)> = tasks
                    .iter()
                    .flat_map(|t| {
                        let e = t.exercise;
                        t.slots().iter().map(move |s| (s.index, s.id.clone(), e))
                    })
                    .collect();
                listed.sort_by_key(|(index, _, _)| *index);
                let listed = listed.into_iter().map(|(_, id, e)| (id, e)).collect();
                let _ = tx.send(Message::Planned {
                    submission: s,
                    planned,
                    tasks: listed,
                });
                let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
                q.ready.extend(tasks.into_iter().map(Box::new));
                q.planning -= 1;
                drop(q);
                wake.notify_all();
            }
            Job::Run(task) => {
                for slot in task.slots() {
                    let _ = tx.send(Message::Started {
                        submission: task.submission,
                        id: slot.id.clone(),
                    });
                }
                let first = task.slots().first().map_or(0, |s| s.index);
                let dir = work
                    .dir
                    .join(format!("sub-{}", task.submission))
                    .join(format!("run-{first}"));
                let done = task::run_repeated(
                    work.settings,
                    work.guarantees,
                    work.repeat,
                    &task,
                    &dir,
                    work.dir,
                );
                let at = Instant::now();
                for (slot, done) in task.slots().iter().zip(done) {
                    let _ = tx.send(Message::Done {
                        submission: task.submission,
                        index: slot.index,
                        done,
                        at,
                    });
                }
            }
            Job::Stop => return,
        }
    }
}

/// Plans submission `s`; a fault of the grader while doing so becomes a problem of that
/// submission, so the others go on.
fn plan_one(work: &Work, s: usize) -> Planned {
    let root = &work.submissions[s];
    let name = root.display().to_string();
    let build = work.dir.join(format!("sub-{s}")).join("build");
    plan::plan(
        work.settings,
        work.guarantees,
        &name,
        root,
        work.exercises,
        &build,
        work.course,
    )
    .unwrap_or_else(|e| Planned {
        name,
        root: root.clone(),
        problems: vec![format!("not graded: {e}")],
        exercises: work
            .exercises
            .iter()
            .map(|x| (*x, Prepared::Missing(format!("not graded: {e}"))))
            .collect(),
    })
}

fn tasks_for<'c>(s: usize, planned: &Planned, course: &'c Course) -> Vec<Task<'c>> {
    let mut out = Vec::new();
    let mut first = 0;
    for (e, (exercise, prepared)) in planned.exercises.iter().enumerate() {
        if let Prepared::Ready(program) = prepared {
            let checks = task::checks(exercise, course);
            let count = checks.len();
            for unit in task::units(checks, first) {
                out.push(Task {
                    submission: s,
                    exercise: e,
                    unit,
                    rules: exercise.rules(),
                    program: (**program).clone(),
                    root: planned.root.clone(),
                });
            }
            first += count;
        }
    }
    out
}
