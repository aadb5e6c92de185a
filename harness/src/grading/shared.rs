//! Running a shared run: one observation, each member judged from it, and a run of its own
//! for each member the shared run could not show (see [`crate::scenario::shared`]).

use super::task::{self, Check, Done, Slot, Task};
use crate::outcome::Verdict;
use crate::run::RunRecord;
use crate::sandbox::Guarantees;
use crate::scenario::{Judged, SharedRun};
use crate::settings::Settings;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Instant;

/// Runs `run` once for `members` (in `dir`), then each member the run could not show on its
/// own: one [`Done`] per member, in order.
pub(super) fn run(
    settings: &Settings,
    guarantees: &Guarantees,
    task: &Task,
    run: &'static dyn SharedRun,
    members: &[Slot],
    dir: &Path,
    work: &Path,
) -> Vec<Done> {
    let started = Instant::now();
    let mut verdicts: Vec<Option<Verdict>> = members.iter().map(|_| None).collect();
    let mut active = Vec::new();
    for (k, slot) in members.iter().enumerate() {
        match slot.check {
            Check::Builtin(s) => match task::missing_tools(s.needs) {
                Some(skip) => verdicts[k] = Some(Err(skip)),
                None => active.push(k),
            },
            Check::Data(_) => active.push(k),
        }
    }
    let records = if active.is_empty() {
        Vec::new()
    } else {
        observe(
            settings,
            guarantees,
            task,
            run,
            members,
            &active,
            &mut verdicts,
            dir,
            work,
        )
    };
    let shared_ms = started.elapsed();
    let records = label(records, members, &active);
    let mut done = Vec::new();
    for (k, slot) in members.iter().enumerate() {
        let alone_started = Instant::now();
        let (verdict, own) = match verdicts[k].take() {
            Some(v) => (v, Vec::new()),
            None => {
                let alone = std::path::PathBuf::from(format!("{}-alone-{k}", dir.display()));
                task::run_scenario(settings, guarantees, task, slot, &alone, work)
            }
        };
        let shared: &[RunRecord] = if active.contains(&k) { &records } else { &[] };
        let judged_from: Vec<RunRecord> = shared.iter().chain(&own).cloned().collect();
        let mut result = task::raw(settings, &slot.id, verdict, alone_started, &judged_from);
        result.duration_ms += shared_ms.as_millis() as u64;
        // The shared run's records count for hygiene once, with the first member that ran.
        let for_hygiene = if active.first() == Some(&k) {
            judged_from
        } else {
            own
        };
        done.push((result, for_hygiene));
    }
    done
}

/// Observes once and judges the `active` members, filling their verdicts (those left `None`
/// get a run of their own); the shared run's records.
#[allow(clippy::too_many_arguments)]
fn observe(
    settings: &Settings,
    guarantees: &Guarantees,
    task: &Task,
    run: &'static dyn SharedRun,
    members: &[Slot],
    active: &[usize],
    verdicts: &mut [Option<Verdict>],
    dir: &Path,
    work: &Path,
) -> Vec<RunRecord> {
    let mut ctx = match task::context(settings, guarantees, task, dir, work) {
        Ok(ctx) => ctx,
        Err(f) => {
            for &k in active {
                verdicts[k] = Some(Err(f.clone()));
            }
            return Vec::new();
        }
    };
    let ids: Vec<&str> = active.iter().map(|&k| short(&members[k].id)).collect();
    let exercise = task.rules.exercise;
    let mut wrap = |id: &str, judge: &mut dyn FnMut() -> Judged| {
        task::guarded(&format!("{exercise}.{id}"), judge, |f| {
            Judged::Verdict(Err(f))
        })
    };
    let judged = catch_unwind(AssertUnwindSafe(|| {
        run.judge_all(&mut ctx, &ids, &mut wrap)
    }));
    let judged = match judged {
        Ok(Ok(judged)) => judged,
        // What every member's own run would meet the same way (see `Shared::observe`).
        Ok(Err(f)) => ids
            .iter()
            .map(|_| Judged::Verdict(Err(f.clone())))
            .collect(),
        Err(_) => ids
            .iter()
            .map(|_| Judged::Verdict(Err(task::panicked())))
            .collect(),
    };
    for (&k, j) in active.iter().zip(judged) {
        if let Judged::Verdict(v) = j {
            verdicts[k] = Some(v);
        }
    }
    ctx.take_records()
}

/// A scenario's short id (`counts` of `fork_exec.counts`), as its shared run names it.
fn short(id: &str) -> &str {
    id.rsplit('.').next().unwrap_or(id)
}

/// What a shared run's label says after its run number.
const SHARED_BY: &str = ", shared by ";

/// Whether `record` is of a run several scenarios shared.
pub(super) fn is_shared(record: &RunRecord) -> bool {
    record.label.contains(SHARED_BY)
}

/// The shared run's records, each label naming the scenarios judged from it.
fn label(mut records: Vec<RunRecord>, members: &[Slot], active: &[usize]) -> Vec<RunRecord> {
    if active.len() < 2 {
        return records;
    }
    let names: Vec<&str> = active.iter().map(|&k| short(&members[k].id)).collect();
    for r in &mut records {
        r.label = format!("{}{SHARED_BY}{}", r.label, names.join(", "));
    }
    records
}
