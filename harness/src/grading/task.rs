//! One scenario of one submission: which check it runs, running it (repeatedly under
//! `--repeat`), and combining repeats into one verdict.

use super::settle::Raw;
use super::shared;
use crate::course::steps::DataScenario;
use crate::course::Course;
use crate::exercises::Exercise;
use crate::outcome::{Failure, Status, Verdict};
use crate::run::RunRecord;
use crate::sandbox::Guarantees;
use crate::scenario::{self, Ctx, RunRules, Scenario, SharedRun, Tool};
use crate::settings::Settings;
use crate::submission::Program;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A scenario's check: built in, or written as data in the course file.
#[derive(Clone, Copy)]
pub(super) enum Check<'a> {
    Builtin(&'static Scenario),
    Data(&'a DataScenario),
}

/// One scenario of a task: its place in the submission's list of scenarios, its public id
/// and its check.
pub(super) struct Slot<'a> {
    pub index: usize,
    pub id: String,
    pub check: Check<'a>,
}

/// What a task runs: one scenario, or several judged from one shared run.
pub(super) enum Unit<'a> {
    One(Slot<'a>),
    Shared {
        run: &'static dyn SharedRun,
        members: Vec<Slot<'a>>,
    },
}

/// One unit of work for a worker.
pub(super) struct Task<'a> {
    pub submission: usize,
    pub exercise: usize,
    pub unit: Unit<'a>,
    pub rules: RunRules,
    pub program: Program,
    pub root: PathBuf,
}

impl Task<'_> {
    /// The scenarios it settles, in order.
    pub fn slots(&self) -> &[Slot<'_>] {
        match &self.unit {
            Unit::One(slot) => std::slice::from_ref(slot),
            Unit::Shared { members, .. } => members,
        }
    }
}

/// A finished scenario: its raw verdict (policy comes later, in the results stage) and its
/// runs' records (for hygiene; a shared run's records go with its first member only).
pub(super) type Done = (Raw, Vec<RunRecord>);

/// The checks of one exercise: the catalogue's, then the course's own.
pub(super) fn checks<'c>(
    exercise: &'static Exercise,
    course: &'c Course,
) -> Vec<(String, Check<'c>)> {
    let builtin = exercise
        .scenarios
        .iter()
        .map(|s| (format!("{}.{}", exercise.id, s.id), Check::Builtin(s)));
    let data = course
        .scenarios
        .iter()
        .map(toml::Spanned::get_ref)
        .filter(|d| d.exercise() == exercise.id)
        .map(|d| (d.id.clone(), Check::Data(d)));
    builtin.chain(data).collect()
}

/// The units of work for `checks` (numbered from `first`): each scenario alone, except the
/// members of a shared run, which make one unit where the first of them stands.
pub(super) fn units<'c>(checks: Vec<(String, Check<'c>)>, first: usize) -> Vec<Unit<'c>> {
    let mut units: Vec<Unit<'c>> = Vec::new();
    for (n, (id, check)) in checks.into_iter().enumerate() {
        let slot = Slot {
            index: first + n,
            id,
            check,
        };
        let shared = match check {
            Check::Builtin(s) => s.shared,
            Check::Data(_) => None,
        };
        let Some(run) = shared else {
            units.push(Unit::One(slot));
            continue;
        };
        let same = |r: &&'static dyn SharedRun| std::ptr::addr_eq(*r, run);
        match units.iter_mut().find_map(|u| match u {
            Unit::Shared { run: r, members } if same(r) => Some(members),
            _ => None,
        }) {
            Some(members) => members.push(slot),
            None => units.push(Unit::Shared {
                run,
                members: vec![slot],
            }),
        }
    }
    units
}

/// Runs a task `repeat` times and combines each scenario's verdicts, in the order of
/// [`Task::slots`].
pub(super) fn run_repeated(
    settings: &Settings,
    guarantees: &Guarantees,
    repeat: u32,
    task: &Task,
    dir: &Path,
    work: &Path,
) -> Vec<Done> {
    let n = task.slots().len();
    let mut results: Vec<Vec<Raw>> = (0..n).map(|_| Vec::new()).collect();
    let mut records: Vec<Vec<RunRecord>> = (0..n).map(|_| Vec::new()).collect();
    for _ in 0..repeat.max(1) {
        let done = match &task.unit {
            Unit::One(slot) => vec![run_task(settings, guarantees, task, slot, dir, work)],
            Unit::Shared { run, members } => {
                shared::run(settings, guarantees, task, *run, members, dir, work)
            }
        };
        for (k, (result, recs)) in done.into_iter().enumerate() {
            results[k].push(result);
            records[k].extend(recs);
        }
    }
    results.into_iter().map(combine).zip(records).collect()
}

/// One verdict from repeats: the common one when they agree (with the pass count when there
/// were several), else `flaky`, quoting a run that did not pass. A fault of the grader in any
/// repeat is the verdict: the program is not called flaky for the grader's fault.
pub(super) fn combine(mut results: Vec<Raw>) -> Raw {
    // A repeat the machine was too busy to judge gives no verdict: it neither passes nor
    // makes the others flaky, unless no repeat judged at all.
    let judged = |r: &Raw| !(r.status == Status::Skip && crate::outcome::overloaded(&r.feedback));
    if results.iter().any(judged) {
        results.retain(judged);
    }
    let repeats = results.len() as u32;
    let passes = results.iter().filter(|r| r.status == Status::Pass).count() as u32;
    let fault = results.iter().position(|r| r.status == Status::Fault);
    let agree = fault.is_some() || results.windows(2).all(|w| w[0].status == w[1].status);
    let failing = results.iter().position(|r| r.status != Status::Pass);
    let chosen = match fault {
        Some(f) => f,
        None if agree => 0,
        None => failing.unwrap_or(0),
    };
    let mut first = results.swap_remove(chosen);
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

fn run_task(
    settings: &Settings,
    guarantees: &Guarantees,
    task: &Task,
    slot: &Slot,
    dir: &Path,
    work: &Path,
) -> Done {
    let started = Instant::now();
    // The scenario's folder is gone by now: `Ctx` removes it when dropped.
    let (verdict, records) = run_scenario(settings, guarantees, task, slot, dir, work);
    let result = raw(settings, &slot.id, verdict, started, &records);
    (result, records)
}

/// A scenario's raw result from its verdict, the time since `started` and the records of
/// the runs it was judged from (kept when it did not pass, or when transcripts are kept).
pub(super) fn raw(
    settings: &Settings,
    id: &str,
    verdict: Verdict,
    started: Instant,
    records: &[RunRecord],
) -> Raw {
    let (status, feedback, missing_tools) = match verdict {
        Ok(observed) => (Status::Pass, observed, Vec::new()),
        Err(f) => (f.status, f.message, f.missing_tools),
    };
    let mut result = Raw::new(id.to_string(), status, feedback);
    result.missing_tools = missing_tools;
    result.duration_ms = started.elapsed().as_millis() as u64;
    if status != Status::Pass || settings.keep_transcripts {
        result.runs = records.to_vec();
    }
    result
}

pub(super) fn missing_tools(needs: &[Tool]) -> Option<Failure> {
    let absent: Vec<&Tool> = needs.iter().filter(|t| !scenario::have(t)).collect();
    let names: Vec<&str> = absent.iter().map(|t| t.command).collect();
    let missing: Vec<String> = absent
        .iter()
        .map(|t| {
            format!(
                "`{}` is not installed (install it with `{}`)",
                t.command, t.install
            )
        })
        .collect();
    (!missing.is_empty()).then(|| Failure::missing(&names, missing.join("; ")))
}

/// A hook for the integration tests, which must see a bug in the harness become a `fault`
/// (and `grade` exit with 2): the scenarios named in this variable (comma-separated ids)
/// panic as soon as they start. Only the grader's own environment can set it.
pub const PANIC_HOOK: &str = "__SYSGRADE_TEST_PANIC";

fn panic_injected(id: &str) -> bool {
    std::env::var(PANIC_HOOK).is_ok_and(|ids| ids.split(',').any(|x| x.trim() == id))
}

/// Runs `check` for scenario `id` (panicking first when the test hook names it); a panic,
/// a bug in the harness, becomes that scenario's fault through `fault`.
pub(super) fn guarded<T>(
    id: &str,
    check: impl FnOnce() -> T,
    fault: impl FnOnce(Failure) -> T,
) -> T {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if panic_injected(id) {
            panic!("{PANIC_HOOK} names {id}");
        }
        check()
    }))
    .unwrap_or_else(|_| fault(panicked()))
}

/// The fault of a scenario whose check panicked.
pub(super) fn panicked() -> Failure {
    Failure::fault("the scenario panicked (a bug in the harness; please report it)")
}

/// The scenario's context in `dir` (a copy of the submission, a lease); the grader's fault
/// when it cannot be made (what was made by then is removed).
pub(super) fn context<'a>(
    settings: &'a Settings,
    guarantees: &'a Guarantees,
    task: &'a Task,
    dir: &Path,
    work: &Path,
) -> Result<Ctx<'a>, Failure> {
    Ctx::new(
        settings,
        guarantees,
        &task.program,
        task.rules,
        &task.root,
        dir,
        work,
    )
    .map_err(|e| {
        // What `Ctx::new` made before it failed; a `Ctx` removes its own.
        let _ = std::fs::remove_dir_all(dir);
        Failure::fault(e)
    })
}

/// Runs one scenario on its own in `dir`: its verdict and its runs' records.
pub(super) fn run_scenario(
    settings: &Settings,
    guarantees: &Guarantees,
    task: &Task,
    slot: &Slot,
    dir: &Path,
    work: &Path,
) -> (Verdict, Vec<RunRecord>) {
    if let Check::Builtin(s) = slot.check {
        if let Some(skip) = missing_tools(s.needs) {
            return (Err(skip), Vec::new());
        }
    }
    let mut ctx = match context(settings, guarantees, task, dir, work) {
        Ok(ctx) => ctx,
        Err(f) => return (Err(f), Vec::new()),
    };
    let verdict = guarded(
        &slot.id,
        || match slot.check {
            Check::Builtin(s) => (s.check)(&mut ctx),
            Check::Data(d) => d.run(&mut ctx),
        },
        Err,
    );
    (verdict, ctx.take_records())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(status: Status) -> Raw {
        Raw::new("x.y".into(), status, format!("{status:?}"))
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

    #[test]
    fn a_repeat_too_busy_to_judge_does_not_vote() {
        let busy = Raw::new(
            "x.y".into(),
            Status::Skip,
            "the machine was overloaded: …".into(),
        );
        let r = combine(vec![with(Status::Pass), busy.clone(), with(Status::Pass)]);
        assert_eq!((r.status, r.passes), (Status::Pass, Some(2)));
        let r = combine(vec![busy.clone(), busy]);
        assert_eq!(r.status, Status::Skip);
    }

    #[test]
    fn a_fault_in_any_repeat_is_the_verdict_not_flaky() {
        let r = combine(vec![
            with(Status::Pass),
            with(Status::Fault),
            with(Status::Fail),
        ]);
        assert_eq!((r.status, r.passes), (Status::Fault, Some(1)));
        assert_eq!(r.feedback, "Fault");
    }
}
