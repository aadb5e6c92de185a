//! A live program under test and the steps a scenario takes with it.
//!
//! Every step waits for an event with a deadline — a line, an idle state, an exit — and
//! records what it did in the transcript. Deadlines are nominal and multiplied by the run's
//! time scale. Dropping a [`Run`] tears it down: whatever is still running is ended, what it
//! left behind is recorded as hygiene findings, then removed.

mod evidence;
mod expect;
mod inspect;
mod launch;
mod leftovers;
pub mod oneshot;
mod output;
pub mod pictured;
mod scan;
mod state;
mod steps;
mod teardown;
pub mod transcript;

pub use expect::ExpectExit;
pub use leftovers::{Leftovers, RunRecord};
pub use pictured::{Picture, ProcessSpan};
pub use state::{Reaped, Removed};
pub use steps::Mark;

// What exercise code may see of the kernel's view of a run, named here so that exercise files
// never name the sandbox (ARCHITECTURE.md, invariants).
pub use crate::sandbox::activity;
pub use crate::sandbox::copy::entries as folder_entries;
pub use crate::sandbox::procfs;
pub use crate::sandbox::protocol::Exit;
pub use crate::sandbox::reach::Reach;

/// The processes of a run, as the kernel's connector or the run's supervisor reports them.
pub mod processes {
    pub use crate::sandbox::proc_events::{
        connector_available, Exec, Origin, ProcRecord, ProcessWatch, UNKNOWN,
    };
}

use crate::clock::Clock;
use crate::outcome::Failure;
use crate::sandbox::phases;
use crate::sandbox::protocol::Spec;
use launch::Launched;
use nix::sys::signal::Signal;
use state::{Shared, State};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use transcript::Source;

/// How long starting a program may take, nominal.
const START_WAIT: Duration = Duration::from_secs(30);

/// How the harness oversees one run besides the run itself: its clock, where its record goes,
/// what it is called, how it is ended.
#[derive(Debug, Clone)]
pub struct Oversight {
    pub clock: Clock,
    /// Files below this folder are the run's own (its copy, its home).
    pub own_root: PathBuf,
    /// Where finished runs deposit their transcript and leftovers.
    pub records: Arc<Mutex<Vec<RunRecord>>>,
    /// A label for the run in the transcript ("run 2").
    pub label: String,
    /// How a person ends the program; the teardown does the same before any SIGKILL.
    pub ending: Signal,
}

/// Set-up run inside a held run's namespaces before the program starts.
pub type Prepare<'a> = Box<dyn FnOnce(&Reach) -> Result<(), Failure> + 'a>;

/// Closes a program's window as a person would (for the teardown); `Err` says why it could
/// not be asked to.
pub type Closer = Box<dyn FnOnce() -> Result<(), String> + Send + Sync>;

/// A line found by `expect_line`, with its place in the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub index: usize,
    pub text: String,
}

/// A started program.
pub struct Run {
    shared: Arc<Shared>,
    launched: Option<Launched>,
    cursors: HashMap<Source, usize>,
    oversight: Oversight,
    spec: Spec,
    /// The shared scratch places before the run (for runs without private ones).
    shared_before: Vec<PathBuf>,
    allowed_shm: Vec<String>,
    /// How to close the program's window, for a program that has one.
    closer: Option<Closer>,
    /// The run network's TCP sockets, made at the first question (see `Reach::sockets`).
    sockets: std::sync::OnceLock<crate::sandbox::sock_diag::SocketTable>,
}

impl Run {
    /// Starts `spec` under a supervisor. A program that cannot be started is a `Failure`
    /// with status `error`; a supervisor that cannot be started, or ends or stalls before
    /// starting it, one with status `fault`.
    pub fn start(
        supervisor: &Path,
        spec: Spec,
        output_cap: u64,
        oversight: Oversight,
        prepare: Option<Prepare<'_>>,
    ) -> Result<Run, Failure> {
        // Only a run with neither namespaces nor a uid of its own is told apart by comparison.
        let shared_before = if spec.sandbox.namespaces || spec.identity.is_some() {
            Vec::new()
        } else {
            scan::shared_entries(&mut scan::Unscanned::default())
        };
        let begun = Instant::now();
        let launched = launch::launch(supervisor, &spec, output_cap)?;
        let shared = launched.shared.clone();
        let run = Run {
            shared,
            launched: Some(launched),
            cursors: HashMap::new(),
            oversight,
            spec,
            shared_before,
            allowed_shm: Vec::new(),
            closer: None,
            sockets: std::sync::OnceLock::new(),
        };
        // Generous and scaled: on a loaded machine starting a supervisor and its namespaces
        // can take seconds, and that must never be blamed on the program.
        let deadline = run.oversight.clock.deadline(START_WAIT);
        if run.spec.hold {
            run.prepare_and_go(deadline, prepare)?;
        }
        let command = run.describe_command();
        let started = run.shared.wait_for(deadline, |st| {
            // The program itself could not be started (the student's side: an executable
            // that is not one, an interpreter line naming nothing).
            if let Some(e) = &st.spawn_error {
                return Some(Err(Failure::error(format!(
                    "could not start {command}: {e}"
                ))));
            }
            if st.supervisor_gone {
                return Some(Err(Failure::fault(format!(
                    "could not start {command}: the supervisor ended before starting the program"
                ))));
            }
            st.main_pid.map(Ok)
        });
        match started {
            Some(Ok(pid)) => {
                phases::record("start", begun.elapsed().as_secs_f64());
                let at = run.shared.lock().started_at_ms.unwrap_or(0);
                let own = run.own_pid();
                let pid = if own > 0 { own } else { pid };
                run.shared
                    .note_start(at, format!("started {} (pid {pid})", run.describe_command()));
                Ok(run)
            }
            Some(Err(f)) => Err(f),
            None => Err(Failure::fault(format!(
                "the supervisor did not start the program within {} (the machine may be overloaded)",
                secs(START_WAIT)
            ))),
        }
    }

    /// After the supervisor set up the namespaces: runs `prepare` in them, then says `Go`.
    fn prepare_and_go(
        &self,
        deadline: Instant,
        prepare: Option<Prepare<'_>>,
    ) -> Result<(), Failure> {
        let ready = self.shared.wait_for(deadline, |st| {
            st.supervisor_pid
                .map(Some)
                .or(st.supervisor_gone.then_some(None))
        });
        if ready.flatten().is_none() {
            return Err(Failure::fault("the supervisor did not get ready"));
        }
        if let Some(prepare) = prepare {
            prepare(&self.reach())?;
        }
        if let Some(l) = &self.launched {
            let _ = crate::sandbox::protocol::Command::Go.send(&l.handle.control);
        }
        Ok(())
    }

    /// The run network's TCP sockets (asked once made; see `Reach::sockets`).
    pub fn sockets(&self) -> &crate::sandbox::sock_diag::SocketTable {
        self.sockets.get_or_init(|| self.reach().sockets())
    }

    /// The run's namespaces, for the harness's own sockets and shared memory.
    pub fn reach(&self) -> Reach {
        use crate::sandbox::protocol::Network;
        Reach {
            supervisor: self.supervisor_pid().unwrap_or(-1),
            private_network: self.spec.sandbox.network != Network::Host,
            private_tmp: self.spec.sandbox.namespaces,
            sockets: self.launched.as_ref().and_then(|l| {
                let control = l.handle.control.try_clone().ok()?;
                Some((Arc::new(control), l.channel.clone()))
            }),
        }
    }

    fn describe_command(&self) -> String {
        let name = self
            .spec
            .program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut words = vec![name];
        words.extend(self.spec.args.iter().map(|a| {
            if a.contains(' ') || a.is_empty() {
                format!("{a:?}")
            } else {
                a.clone()
            }
        }));
        words.join(" ")
    }

    /// The program's pid as the grader sees it (for `/proc` and signals); 0 before it
    /// started, never a value that `kill` would read as a group or everyone.
    pub fn pid(&self) -> i32 {
        self.shared.lock().main_pid.filter(|p| *p > 0).unwrap_or(0)
    }

    /// The program's pid as it sees itself: what it prints as its pid.
    pub fn own_pid(&self) -> i32 {
        self.shared.lock().own_pid.filter(|p| *p > 0).unwrap_or(0)
    }

    /// The supervisor's pid: its namespaces are the run's.
    pub fn supervisor_pid(&self) -> Option<i32> {
        self.shared.lock().supervisor_pid
    }

    /// The program's working directory.
    pub fn dir(&self) -> &Path {
        &self.spec.cwd
    }

    /// The uid the program runs as.
    pub fn uid(&self) -> u32 {
        self.spec
            .identity
            .map_or_else(|| nix::unistd::getuid().as_raw(), |(u, _)| u)
    }

    /// The gid the program runs as.
    pub fn gid(&self) -> u32 {
        self.spec
            .identity
            .map_or_else(|| nix::unistd::getgid().as_raw(), |(_, g)| g)
    }

    fn deadline(&self, within: Duration) -> Instant {
        self.oversight.clock.deadline(within)
    }

    /// Adds a note of the harness's own to the transcript.
    pub fn note(&self, text: impl Into<String>) {
        self.shared.note(text);
    }

    /// Accepts a shared memory segment named `name` as something the program may leave.
    pub fn allow_shm(&mut self, name: &str) {
        self.allowed_shm.push(name.to_string());
    }

    /// Says how to close the program's window: the teardown then ends it that way, as a
    /// person would, before any signal.
    pub fn set_closer(&mut self, closer: Closer) {
        self.closer = Some(closer);
    }

    /// Ends the run now (the same as dropping it).
    pub fn finish(self) {}
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(launched) = self.launched.take() {
            let record = phases::time("teardown", || teardown::teardown(self, launched));
            if let Ok(mut records) = self.oversight.records.lock() {
                records.push(record);
            }
        }
    }
}

/// Formats a nominal duration for messages: `1 s`, `0.5 s`.
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

/// What a wait was for: a line (an answer in other words is "nothing matching"), or the
/// program's end or state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaited {
    Line,
    End,
}

/// Turns "what was expected" into a failure that says what happened instead.
fn explain(st: &State, expected: String, timed_out: bool, awaited: Awaited) -> Failure {
    if let (Some(source), None) = (st.flooded, st.main_exit) {
        return Failure::fail(format!(
            "{expected}; the program flooded {} (more than {} bytes) and was cut off",
            source.label(),
            st.stdout.stored_bytes.max(st.stderr.stored_bytes)
        ));
    }
    if let Some(r) = st.main_exit {
        return Failure::fail(format!(
            "{expected}; the program {} first",
            describe_exit(r.exit)
        ));
    }
    if st.wall_limit {
        return Failure::timeout(format!("{expected}; the run hit its wall-clock limit"));
    }
    if timed_out {
        // What the kernel shows it doing: blocked reading its input, sleeping, spinning.
        let doing = st
            .main_pid
            .and_then(crate::sandbox::activity::of)
            .map(|a| format!(" ({})", a.describe()))
            .unwrap_or_default();
        let matching = match awaited {
            Awaited::Line => " with nothing matching",
            Awaited::End => "",
        };
        return Failure::timeout(format!("{expected}; it was still running{doing}{matching}"));
    }
    Failure::fail(format!("{expected}; its output ended without one"))
}

/// "exited with status 1", "was killed by SIGTERM".
pub fn describe_exit(exit: Exit) -> String {
    match exit {
        Exit::Code(c) => format!("exited with status {c}"),
        Exit::Signal(s) => match Signal::try_from(s) {
            Ok(sig) => format!("was killed by {sig}"),
            Err(_) => format!("was killed by signal {s}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Exit::Code(0), "exited with status 0")]
    #[case(Exit::Code(78), "exited with status 78")]
    #[case(Exit::Signal(2), "was killed by SIGINT")]
    #[case(Exit::Signal(9), "was killed by SIGKILL")]
    #[case(Exit::Signal(64), "was killed by signal 64")]
    fn exits_are_described_in_words(#[case] exit: Exit, #[case] words: &str) {
        assert_eq!(describe_exit(exit), words);
    }

    #[rstest]
    #[case(Duration::from_secs(1), "1 s")]
    #[case(Duration::from_millis(500), "0.5 s")]
    #[case(Duration::from_millis(1500), "1.5 s")]
    fn durations_read_naturally(#[case] d: Duration, #[case] text: &str) {
        assert_eq!(secs(d), text);
    }
}
