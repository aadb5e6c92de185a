//! Shared runs: several scenarios of an exercise judged from one run of the program.
//!
//! Where scenarios observe the same behaviour of the same program (the movie, its bytes and
//! the waiting for ffmpeg; a counter, its children and their reaping), running the program
//! once per scenario only repeats the work. A [`Shared`] run says so in the exercise's table:
//! one `observe` makes an observation `O` (plain data: lines, times, process records, what a
//! tool said), and each member scenario's judge is a pure function of it, unit-tested from
//! hand-built values.
//!
//! Fairness rules, which the grader enforces:
//! - `observe` returns `Err` only for what every member's own run would meet the same way
//!   (the program could not start, it never printed its first line): the steps before the
//!   observation forks into the members' parts.
//! - A judge whose part of the run was cut short by something another member judges (a crash
//!   on the first number typed, before the bad input could be typed) returns
//!   [`Judged::Alone`]: that scenario gets a run of its own (its [`Scenario::check`](super::Scenario)),
//!   so it is never failed for another scenario's defect.
//! - Each member keeps its id, points, verdict and feedback; the run's records go to hygiene
//!   once.

use super::Ctx;
use crate::outcome::{Failure, Verdict};

/// What a member's judge makes of the shared observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    /// The scenario's verdict, from this observation.
    Verdict(Verdict),
    /// This observation cannot show it (its part of the run never came, `why`): it gets a run
    /// of its own.
    Alone(&'static str),
}

impl Judged {
    /// The verdict; where none could be given even from a run of its own, the grader's
    /// fault.
    pub fn verdict(self) -> Verdict {
        match self {
            Judged::Verdict(v) => v,
            Judged::Alone(why) => Err(Failure::fault(format!(
                "a scenario could not be judged from a run of its own: {why}"
            ))),
        }
    }
}

/// In tests: the verdict of a judge that must decide from the observation given.
#[cfg(test)]
pub fn decided(j: Judged) -> Verdict {
    match j {
        Judged::Verdict(v) => v,
        Judged::Alone(why) => panic!("expected a verdict, got a run of its own: {why}"),
    }
}

impl From<Verdict> for Judged {
    fn from(v: Verdict) -> Self {
        Judged::Verdict(v)
    }
}

/// A member's judge: a pure function of the observation.
pub type Judge<O> = fn(&O) -> Judged;

/// One run observed once, judged by several scenarios.
pub struct Shared<O: 'static> {
    /// Why these scenarios share a run, for the exercise's author and `explain`.
    pub why: &'static str,
    /// Starts the program and records what the members judge.
    pub observe: fn(&mut Ctx) -> Result<O, Failure>,
    /// Each member's short id and judge.
    pub judges: &'static [(&'static str, Judge<O>)],
}

impl<O> Shared<O> {
    /// The judge of member `id`.
    fn judge(&self, id: &str) -> Option<Judge<O>> {
        self.judges
            .iter()
            .find(|(j, _)| *j == id)
            .map(|(_, judge)| *judge)
    }
}

/// A shared run with its observation's type erased, as the scenario table holds it.
pub trait SharedRun: Sync {
    /// Why these scenarios share a run.
    fn why(&self) -> &'static str;
    /// The members' short ids.
    fn members(&self) -> Vec<&'static str>;
    /// Observes once and judges each of `ids` (short ids, members of this run), in order.
    /// `wrap` wraps each judge call (the grader catches a panicking judge there).
    fn judge_all(
        &self,
        ctx: &mut Ctx,
        ids: &[&str],
        wrap: &mut dyn FnMut(&str, &mut dyn FnMut() -> Judged) -> Judged,
    ) -> Result<Vec<Judged>, Failure>;
}

impl<O: 'static> SharedRun for Shared<O> {
    fn why(&self) -> &'static str {
        self.why
    }

    fn members(&self) -> Vec<&'static str> {
        self.judges.iter().map(|(id, _)| *id).collect()
    }

    fn judge_all(
        &self,
        ctx: &mut Ctx,
        ids: &[&str],
        wrap: &mut dyn FnMut(&str, &mut dyn FnMut() -> Judged) -> Judged,
    ) -> Result<Vec<Judged>, Failure> {
        let observed = (self.observe)(ctx)?;
        Ok(ids
            .iter()
            .map(|id| match self.judge(id) {
                Some(judge) => wrap(id, &mut || judge(&observed)),
                None => Judged::Verdict(Err(not_a_member(id))),
            })
            .collect())
    }
}

/// A member's run of its own when its judge needs nothing else: observe, then judge (used
/// as the member's `check`). A judge that cannot decide even from a run of its own is the
/// grader's fault.
pub fn alone<O>(shared: &Shared<O>, id: &str, ctx: &mut Ctx) -> Verdict {
    let judge = shared.judge(id).ok_or_else(|| not_a_member(id))?;
    judge(&(shared.observe)(ctx)?).verdict()
}

fn not_a_member(id: &str) -> Failure {
    Failure::fault(format!("{id} is not a member of its shared run"))
}
