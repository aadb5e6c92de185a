//! What a scenario or a course step expects of a program's exit, and the failure that says
//! what it saw instead. No scenario compares an [`Exit`] by hand.

use super::describe_exit;
use crate::outcome::Failure;
use crate::sandbox::protocol::Exit;
use nix::sys::signal::Signal;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectExit {
    /// This exit status.
    Code(i32),
    /// Any status but 0 (an error reported by the program).
    Nonzero,
    /// Killed by this signal.
    Signalled(Signal),
    /// Whatever it is.
    Any,
}

impl ExpectExit {
    /// Status 0: the usual expectation.
    pub const SUCCESS: ExpectExit = ExpectExit::Code(0);

    /// Reads a course file's `status`: a number, `nonzero`, `any` or a signal (`SIGTERM`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "nonzero" => Some(ExpectExit::Nonzero),
            "any" => Some(ExpectExit::Any),
            _ => s.parse::<i32>().ok().map(ExpectExit::Code).or_else(|| {
                s.to_uppercase()
                    .parse::<Signal>()
                    .ok()
                    .map(ExpectExit::Signalled)
            }),
        }
    }

    pub fn accepts(self, exit: Exit) -> bool {
        match self {
            ExpectExit::Code(c) => exit == Exit::Code(c),
            ExpectExit::Nonzero => exit != Exit::Code(0),
            ExpectExit::Signalled(s) => exit == Exit::Signal(s as i32),
            ExpectExit::Any => true,
        }
    }

    /// Fails with "`{it}` exited with status 1 (expected status 0)" when `exit` is not
    /// what was expected; `it` says when and who ("after SIGINT it removed the FIFO but").
    pub fn check(self, exit: Exit, it: impl fmt::Display) -> Result<(), Failure> {
        if self.accepts(exit) {
            return Ok(());
        }
        Err(Failure::fail(match self {
            ExpectExit::Nonzero => format!("{it} {}; expected {self}", describe_exit(exit)),
            _ => format!("{it} {} (expected {self})", describe_exit(exit)),
        }))
    }

    /// Fails with "expected exit status 0; the program exited with status 1": for a check
    /// whose whole point is the exit.
    pub fn check_alone(self, exit: Exit) -> Result<(), Failure> {
        if self.accepts(exit) {
            return Ok(());
        }
        let want = match self {
            ExpectExit::Code(c) => format!("exit status {c}"),
            other => other.to_string(),
        };
        Err(Failure::fail(format!(
            "expected {want}; the program {}",
            describe_exit(exit)
        )))
    }
}

impl fmt::Display for ExpectExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectExit::Code(c) => write!(f, "status {c}"),
            ExpectExit::Nonzero => f.write_str("a non-zero status"),
            ExpectExit::Signalled(s) => write!(f, "death by {s}"),
            ExpectExit::Any => f.write_str("any status"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("0", Some(ExpectExit::Code(0)))]
    #[case("3", Some(ExpectExit::Code(3)))]
    #[case("nonzero", Some(ExpectExit::Nonzero))]
    #[case("any", Some(ExpectExit::Any))]
    #[case("sigterm", Some(ExpectExit::Signalled(Signal::SIGTERM)))]
    #[case("TERM", None)]
    #[case("", None)]
    fn parses_course_statuses(#[case] text: &str, #[case] want: Option<ExpectExit>) {
        assert_eq!(ExpectExit::parse(text), want);
    }

    #[rstest]
    #[case(ExpectExit::SUCCESS, Exit::Code(0), true)]
    #[case(ExpectExit::SUCCESS, Exit::Code(1), false)]
    #[case(ExpectExit::SUCCESS, Exit::Signal(9), false)]
    #[case(ExpectExit::Nonzero, Exit::Code(0), false)]
    #[case(ExpectExit::Nonzero, Exit::Signal(9), true)]
    #[case(ExpectExit::Signalled(Signal::SIGTERM), Exit::Signal(15), true)]
    #[case(ExpectExit::Signalled(Signal::SIGTERM), Exit::Code(0), false)]
    #[case(ExpectExit::Any, Exit::Signal(6), true)]
    fn accepts(#[case] want: ExpectExit, #[case] exit: Exit, #[case] ok: bool) {
        assert_eq!(want.accepts(exit), ok);
    }

    #[test]
    fn failures_say_what_was_seen_and_expected() {
        let f = ExpectExit::SUCCESS
            .check(Exit::Code(1), "after SIGINT it")
            .unwrap_err();
        assert_eq!(
            f.message,
            "after SIGINT it exited with status 1 (expected status 0)"
        );
        let f = ExpectExit::Nonzero
            .check(Exit::Code(0), "without X it")
            .unwrap_err();
        assert_eq!(
            f.message,
            "without X it exited with status 0; expected a non-zero status"
        );
        let f = ExpectExit::SUCCESS.check_alone(Exit::Code(1)).unwrap_err();
        assert_eq!(
            f.message,
            "expected exit status 0; the program exited with status 1"
        );
    }
}
