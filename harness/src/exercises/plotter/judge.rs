//! The plotter's judges: pure functions of what a run showed, so that one run can be judged
//! by all three scenarios (and each judge is tested from hand-built values).

use crate::outcome::{Failure, Status, Verdict, OVERLOADED};
use crate::scenario::Judged;
use crate::text::quote;
use crate::{ensure, fail};

/// What `animates` expects, as its feedback states it.
pub const ANIMATES: &str =
    "expected at least 10 frames in the 1 s after the first one while standard input was idle";

/// The plot watched while nothing was typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Animation {
    /// At least ten frames within the second.
    Enough,
    /// The program ended meanwhile (the failure says how).
    Stopped(Failure),
    /// Fewer than two frames in the second.
    Stalled { got: usize },
    /// It drew, slowly: frames in three seconds, their rate, and the share of that time the
    /// program waited for a CPU.
    Slow {
        drawn: usize,
        rate: f64,
        starved: f64,
    },
}

/// What followed typing `abc`.
#[derive(Debug, Clone, PartialEq)]
pub struct BadInput {
    /// Whether `Input must be a number.` came (the step's failure if not).
    pub message: Result<(), Failure>,
    /// Standard error's lines since typing it.
    pub said: Vec<String>,
    /// What a Python traceback among them shows ("it raised … instead …").
    pub raised: Option<String>,
    /// How the program ended after answering, if it did.
    pub ended: Option<String>,
    /// Whether `7`, typed next, was plotted.
    pub seven: Result<(), Failure>,
}

/// Whether the plotted line reached `7` in a run without `abc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Without {
    /// No such run was made (yet).
    NotRun,
    /// Made: `Some(plotted)`, or `None` when it could not get that far.
    Ran(Option<bool>),
}

/// One run for all three: the animation, then `5` and `2`, then (when those were plotted)
/// `abc` and `7` (`Err` when `abc` could not be typed).
pub struct Plotted {
    pub animation: Animation,
    pub tracking: Result<(), Failure>,
    pub bad: Option<Result<BadInput, Failure>>,
}

pub fn animates(a: &Animation) -> Verdict {
    match a {
        Animation::Enough => Ok("kept drawing while input was idle: 10 frames within 1 s".into()),
        Animation::Stopped(f) => Err(f.clone()),
        Animation::Stalled { got } => fail!(
            "{ANIMATES}; it drew {got}: the animation stalls while nothing is typed (read input on a background thread, not on the main thread that drives the animation)"
        ),
        Animation::Slow { drawn, rate, .. } if *rate >= 10.0 => Ok(format!(
            "kept drawing while input was idle: {drawn} frames in 3 s (a busy machine slowed the first second)"
        )),
        Animation::Slow { drawn, starved, .. } if *starved > 0.2 => Err(Failure::skip(format!(
            "{OVERLOADED}: the program drew {drawn} frames in 3 s but spent {:.0}% of that time waiting for a CPU, so its frame rate says nothing about it (grade again on a quieter machine, or with --time-scale)",
            starved * 100.0
        ))),
        Animation::Slow { drawn, rate, .. } => fail!(
            "{ANIMATES}; it drew {drawn} in 3 s ({rate:.1} a second) although the machine had a CPU free for it: draw more often (an interval of 10–50 ms)"
        ),
    }
}

pub fn tracks(tracking: &Result<(), Failure>) -> Verdict {
    tracking.clone()?;
    Ok("the plotted value followed the input: it reached 5, then 2, each within 1 s".into())
}

/// `bad_input`'s verdict; [`Judged::Alone`] when `7` was not plotted after `abc` and no run
/// without `abc` has told whether `abc` is what stopped the tracking.
pub fn bad_input(seen: &BadInput, without: Without) -> Judged {
    match answered(seen) {
        Err(f) => Judged::Verdict(Err(f)),
        Ok(()) => match (&seen.seven, without) {
            (Ok(()), _) => Judged::Verdict(Ok("`abc` was answered with `Input must be a number.` on standard error; it kept running and then plotted 7".into())),
            (Err(_), Without::NotRun) => Judged::Alone("a run without `abc` must tell whether `abc` stopped the tracking"),
            // Not plotted without `abc` either: that is `tracks`' finding, not this one's.
            (Err(_), Without::Ran(Some(false))) => Judged::Verdict(Ok("`abc` was answered with `Input must be a number.` on standard error and it kept running; `7` typed next was not plotted, but in a run without `abc` it was not plotted either, so that is plotter.tracks' finding, not this one's".into())),
            (Err(lost), Without::Ran(_)) => Judged::Verdict(Err(Failure::fail(format!(
                "after `abc` was answered: {}",
                lost.message
            )))),
        },
    }
}

/// Whether `abc` was answered with the message and the program kept running.
fn answered(seen: &BadInput) -> Result<(), Failure> {
    if let Err(f) = &seen.message {
        if let Some(raised) = &seen.raised {
            fail!("after typing abc, expected `Input must be a number.` on standard error; {raised}: catch what the conversion raises (try/except around it), print the message and read on");
        }
        match seen.said.iter().rev().find(|l| !l.trim().is_empty()) {
            Some(line) if f.status == Status::Timeout => fail!(
                "after typing abc, expected `Input must be a number.` on standard error; it printed {} instead",
                quote(line)
            ),
            _ => return Err(f.clone()),
        }
    }
    ensure!(
        seen.ended.is_none(),
        "after typing abc it printed the message but then {}",
        seen.ended.as_deref().unwrap_or("stopped")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered_then(seven: Result<(), Failure>) -> BadInput {
        BadInput {
            message: Ok(()),
            said: vec!["Input must be a number.".into()],
            raised: None,
            ended: None,
            seven,
        }
    }

    use crate::scenario::shared::decided as verdict;

    #[test]
    fn a_slow_animation_on_a_starved_machine_is_skipped_not_failed() {
        let slow = |starved| Animation::Slow {
            drawn: 9,
            rate: 3.0,
            starved,
        };
        assert_eq!(animates(&slow(0.5)).unwrap_err().status, Status::Skip);
        assert_eq!(animates(&slow(0.0)).unwrap_err().status, Status::Fail);
        assert!(animates(&Animation::Enough).is_ok());
        let stalled = animates(&Animation::Stalled { got: 1 }).unwrap_err();
        assert!(
            stalled.message.contains("background thread"),
            "{}",
            stalled.message
        );
    }

    #[test]
    fn tracking_quotes_the_step_that_failed() {
        let f = tracks(&Err(Failure::fail("after typing 5, no frame"))).unwrap_err();
        assert_eq!(f.message, "after typing 5, no frame");
        assert!(tracks(&Ok(())).is_ok());
    }

    #[test]
    fn seven_not_plotted_needs_a_run_without_abc_before_a_verdict() {
        let seen = answered_then(Err(Failure::fail("7 not reached")));
        assert!(matches!(
            bad_input(&seen, Without::NotRun),
            Judged::Alone(_)
        ));
        assert!(verdict(bad_input(&seen, Without::Ran(Some(false)))).is_ok());
        let lost = verdict(bad_input(&seen, Without::Ran(Some(true)))).unwrap_err();
        assert_eq!(lost.message, "after `abc` was answered: 7 not reached");
        assert!(verdict(bad_input(&seen, Without::Ran(None))).is_err());
    }

    #[test]
    fn a_traceback_instead_of_the_message_is_named() {
        let seen = BadInput {
            message: Err(Failure::timeout("no message")),
            said: vec!["ValueError: could not convert".into()],
            raised: Some("it raised `ValueError` instead".into()),
            ended: None,
            seven: Ok(()),
        };
        let f = verdict(bad_input(&seen, Without::NotRun)).unwrap_err();
        assert!(f.message.contains("try/except"), "{}", f.message);
    }

    #[test]
    fn ending_after_the_message_fails() {
        let mut seen = answered_then(Ok(()));
        seen.ended = Some("exited with status 1".into());
        let f = verdict(bad_input(&seen, Without::NotRun)).unwrap_err();
        assert!(
            f.message.ends_with("but then exited with status 1"),
            "{}",
            f.message
        );
    }
}
