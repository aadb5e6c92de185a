//! A live program under test and the steps a scenario takes with it.
//!
//! Every step waits for an event with a deadline — a line, an idle state, an exit — and
//! records what it did in the transcript. Deadlines are nominal and multiplied by the run's
//! time scale. Dropping a [`Run`] tears it down: whatever is still running is ended, what it
//! left behind is recorded as hygiene findings, then removed.

mod launch;
pub mod oneshot;
mod output;
mod state;
mod teardown;
pub mod transcript;

pub use state::Reaped;
pub use teardown::{Leftovers, RunRecord};

use crate::error::Error;
use crate::outcome::Failure;
use crate::sandbox::procfs;
use crate::sandbox::protocol::{Exit, Spec};
use crate::sandbox::reach::Reach;
use launch::Launched;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use regex::Regex;
use state::{Shared, State};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use transcript::{Entry, Source};

/// What the teardown needs to know besides the run itself.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub time_scale: f64,
    /// Files below this folder are the run's own (its copy, its home).
    pub own_root: PathBuf,
    /// Where finished runs deposit their transcript and leftovers.
    pub records: Arc<Mutex<Vec<RunRecord>>>,
    /// A label for the run in the transcript ("run 2").
    pub label: String,
}

/// Set-up run inside a held run's namespaces before the program starts.
pub type Prepare<'a> = Box<dyn FnOnce(&Reach) -> Result<(), Failure> + 'a>;

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
    ctx: RunContext,
    spec: Spec,
    shm_before: Vec<String>,
    allowed_shm: Vec<String>,
}

impl Run {
    /// Starts `spec` under a supervisor. A program that cannot be started is a `Failure`
    /// (status error); a supervisor that cannot be started is the grader's `Error`.
    pub fn start(
        supervisor: &Path,
        spec: Spec,
        output_cap: u64,
        ctx: RunContext,
        prepare: Option<Prepare<'_>>,
    ) -> Result<Result<Run, Failure>, Error> {
        let shm_before = teardown::shm_names();
        let launched = launch::launch(supervisor, &spec, output_cap)?;
        let shared = launched.shared.clone();
        let run = Run {
            shared,
            launched: Some(launched),
            cursors: HashMap::new(),
            ctx,
            spec,
            shm_before,
            allowed_shm: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        if run.spec.hold {
            if let Err(f) = run.prepare_and_go(deadline, prepare) {
                return Ok(Err(f));
            }
        }
        let started = run.shared.wait_for(deadline, |st| {
            if let Some(e) = &st.spawn_error {
                return Some(Err(e.clone()));
            }
            if st.supervisor_gone {
                return Some(Err(
                    "the supervisor ended before starting the program".into()
                ));
            }
            st.main_pid.map(Ok)
        });
        match started {
            Some(Ok(pid)) => {
                let at = run.shared.lock().started_at_ms.unwrap_or(0);
                run.shared.note_at(
                    at,
                    format!("started {} (pid {pid})", run.describe_command()),
                );
                Ok(Ok(run))
            }
            Some(Err(e)) => Ok(Err(Failure::error(format!(
                "could not start {}: {e}",
                run.describe_command()
            )))),
            None => Ok(Err(Failure::error(
                "the supervisor did not start the program within 10 s",
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
            return Err(Failure::error(
                "grader fault: the supervisor did not get ready",
            ));
        }
        if let Some(prepare) = prepare {
            prepare(&self.reach())?;
        }
        if let Some(l) = &self.launched {
            let _ = writeln!(&l.control, "{}", serde_json::json!({"cmd": "go"}));
        }
        Ok(())
    }

    /// The run's namespaces, for the harness's own sockets and shared memory.
    pub fn reach(&self) -> Reach {
        Reach {
            supervisor: self.supervisor_pid().unwrap_or(-1),
            private_network: self.spec.private_network,
            private_tmp: self.spec.private_tmp,
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

    /// What the supervisor reported it could not set up.
    pub fn problems(&self) -> Vec<String> {
        self.shared.lock().problems.clone()
    }

    /// The program's pid (the process the supervisor started).
    pub fn pid(&self) -> i32 {
        self.shared.lock().main_pid.unwrap_or(-1)
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
        Instant::now() + within.mul_f64(self.ctx.time_scale)
    }

    /// Adds a note of the harness's own to the transcript.
    pub fn note(&self, text: impl Into<String>) {
        self.shared.note(text);
    }

    /// Waits for the next line on `source` matching `re` (after the last one matched there).
    pub fn expect_line(
        &mut self,
        source: Source,
        re: &Regex,
        within: Duration,
    ) -> Result<Line, Failure> {
        let what = format!(
            "a line matching /{}/",
            re.as_str().trim_start_matches("(?i)")
        );
        self.expect_described(source, re, &what, within)
    }

    /// [`Run::expect_line`], with `what` describing the line in failure messages.
    pub fn expect_described(
        &mut self,
        source: Source,
        re: &Regex,
        what: &str,
        within: Duration,
    ) -> Result<Line, Failure> {
        let from = self.cursors.get(&source).copied().unwrap_or(0);
        let deadline = self.deadline(within);
        let found = self.shared.wait_for(deadline, |st| {
            let hit = st.entries[from..]
                .iter()
                .position(|e| e.source == source && re.is_match(&e.text))
                .map(|i| (from + i, st.entries[from + i].text.clone()));
            if hit.is_some() {
                return Some(hit);
            }
            let stream_done = match source {
                Source::Stderr => st.stderr.eof,
                _ => st.stdout.eof,
            };
            (st.flooded.is_some() || stream_done || st.supervisor_gone).then_some(None)
        });
        match found {
            Some(Some((index, text))) => {
                self.cursors.insert(source, index + 1);
                Ok(Line { index, text })
            }
            other => {
                let st = self.shared.lock();
                let what = format!(
                    "expected {what} on {} within {}",
                    source.label(),
                    secs(within)
                );
                Err(explain(&st, what, other.is_none()))
            }
        }
    }

    /// Like [`Run::expect_line`] on standard output.
    pub fn expect_stdout(&mut self, re: &Regex, within: Duration) -> Result<Line, Failure> {
        self.expect_line(Source::Stdout, re, within)
    }

    /// Waits for a stdout line matching `re` and checks that its first capture group is the
    /// number `expected`; `what` names the number in messages ("process id").
    pub fn expect_number(
        &mut self,
        re: &Regex,
        what: &str,
        expected: i64,
        within: Duration,
    ) -> Result<i64, Failure> {
        let line = self.expect_stdout(re, within)?;
        let got = re
            .captures(&line.text)
            .and_then(|c| c.get(1)?.as_str().parse::<i64>().ok());
        match got {
            Some(n) if n == expected => Ok(n),
            Some(n) => Err(Failure::fail(format!(
                "printed {what} {n}, but it is {expected}"
            ))),
            None => Err(Failure::fail(format!(
                "printed {} with no number for {what}",
                crate::text::quote(&line.text)
            ))),
        }
    }

    /// Makes the next `expect_line` on `source` search from the first line again.
    pub fn rewind(&mut self, source: Source) {
        self.cursors.remove(&source);
    }

    /// How many transcript entries there are so far (an index for later comparisons).
    pub fn mark(&self) -> usize {
        self.shared.lock().entries.len()
    }

    /// Lines the program printed on `source` so far.
    pub fn lines(&self, source: Source) -> Vec<String> {
        self.shared
            .lock()
            .entries
            .iter()
            .filter(|e| e.source == source)
            .map(|e| e.text.clone())
            .collect()
    }

    /// The transcript so far.
    pub fn entries(&self) -> Vec<Entry> {
        self.shared.lock().entries.clone()
    }

    /// How the program ended, if it has.
    pub fn exit(&self) -> Option<Exit> {
        self.shared.lock().main_exit.map(|r| r.exit)
    }

    /// The processes the supervisor reaped so far, the program among them: orphans that
    /// were re-parented to it. A child the program waited for itself never appears here.
    pub fn reaped(&self) -> Vec<Reaped> {
        self.shared.lock().reaped.clone()
    }

    /// Whether the program is still running (not yet reaped and not a zombie).
    pub fn alive(&self) -> bool {
        if self.exit().is_some() {
            return false;
        }
        procfs::read(self.pid()).is_some_and(|p| !p.is_zombie())
    }

    /// Waits until the program has ended.
    pub fn wait_exit(&mut self, within: Duration) -> Result<Exit, Failure> {
        let deadline = self.deadline(within);
        let done = self.shared.wait_for(deadline, |st| {
            if let Some(r) = st.main_exit {
                return Some(Some(r.exit));
            }
            st.supervisor_gone.then_some(None)
        });
        match done {
            Some(Some(exit)) => {
                self.drain();
                Ok(exit)
            }
            other => {
                let st = self.shared.lock();
                Err(explain(
                    &st,
                    format!("expected the program to exit within {}", secs(within)),
                    other.is_none(),
                ))
            }
        }
    }

    /// Waits until nothing of the program's tree is left, descendants included (a Python
    /// resource tracker finishing its clean-up); false when something still runs at the end.
    pub fn wait_tree_done(&self, within: Duration) -> bool {
        let deadline = self.deadline(within);
        self.shared
            .wait_for(deadline, |st| {
                (st.empty || st.supervisor_gone).then_some(())
            })
            .is_some()
    }

    /// After the program exited: waits (briefly) until its output streams reach end of file,
    /// so every line it printed is in the transcript. A child still holding the terminal
    /// keeps them open; then the wait ends at its deadline.
    fn drain(&self) {
        let deadline = self.deadline(Duration::from_secs(1));
        let _ = self.shared.wait_for(deadline, |st| {
            (st.stdout.eof && st.stderr.eof).then_some(())
        });
    }

    /// Sends `sig` once the program blocks, or anyway when it does not block within
    /// `within` (a busy program must still be signalled; the transcript says so).
    pub fn signal_soon(&self, sig: Signal, within: Duration) -> Result<(), Failure> {
        if let Err(f) = self.wait_idle(within) {
            if f.status != crate::outcome::Status::Timeout {
                return Err(f);
            }
            self.note(format!(
                "the program never blocked within {}: signalling it while it runs",
                secs(within)
            ));
        }
        self.signal(sig)
    }

    /// Waits until the program is blocked (state `S` in /proc): asleep, reading, waiting.
    /// There is no event for this, so /proc is polled, at first every millisecond.
    pub fn wait_idle(&self, within: Duration) -> Result<(), Failure> {
        let deadline = self.deadline(within);
        let pid = self.pid();
        let mut pause = Duration::from_micros(500);
        loop {
            match procfs::read(pid) {
                Some(p) if p.state == 'S' => return Ok(()),
                Some(p) if !p.is_zombie() => {}
                _ => {
                    let st = self.shared.lock();
                    return Err(explain(
                        &st,
                        "expected the program to be running".into(),
                        false,
                    ));
                }
            }
            if Instant::now() >= deadline {
                return Err(Failure::timeout(format!(
                    "expected the program to block (sleep or wait) within {}; it kept running",
                    secs(within)
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// Sends `sig` to the program, recording it in the transcript.
    pub fn signal(&self, sig: Signal) -> Result<(), Failure> {
        let pid = self.pid();
        self.shared.note(format!("sent {sig} to pid {pid}"));
        kill(Pid::from_raw(pid), sig)
            .map_err(|e| Failure::fail(format!("could not send {sig}: {e} (the program is gone)")))
    }

    /// Waits until the program is blocked, then sends `sig`: a signal never lands between a
    /// print and the bookkeeping that follows it.
    pub fn signal_when_idle(&self, sig: Signal, within: Duration) -> Result<(), Failure> {
        self.wait_idle(within)?;
        self.signal(sig)
    }

    /// How much of one core the program asked for over `window` (0.0–1.0, more with threads):
    /// time running plus time waiting in the run queue, from /proc schedstat. A spinning
    /// program scores about 1.0 however loaded the machine is; a sleeping one about 0.
    /// Falls back to CPU time used where schedstat is missing.
    pub fn cpu_share(&self, window: Duration) -> Result<f64, Failure> {
        let pid = self.pid();
        let gone = || Failure::fail("the program ended while its CPU use was being measured");
        let sample = || -> Option<f64> {
            let p = procfs::read(pid).filter(|p| !p.is_zombie())?;
            match procfs::cpu_demand_ns(pid) {
                Some(ns) => Some(ns as f64 / 1e9),
                None => Some(p.cpu_ticks as f64 / procfs::ticks_per_second() as f64),
            }
        };
        let before = sample().ok_or_else(gone)?;
        let t0 = Instant::now();
        std::thread::sleep(window.mul_f64(self.ctx.time_scale));
        let after = sample().ok_or_else(gone)?;
        Ok((after - before).max(0.0) / t0.elapsed().as_secs_f64())
    }

    /// Whether the program's output went over the cap.
    pub fn flooded(&self) -> bool {
        self.shared.lock().flooded.is_some()
    }

    /// Writes `text` to the program's standard input.
    pub fn write_stdin(&mut self, text: &str) -> Result<(), Failure> {
        self.shared.note(format!("typed {text:?}"));
        let stdin = self.launched.as_mut().and_then(|l| l.stdin.as_mut());
        let Some(stdin) = stdin else {
            return Err(Failure::fail("standard input is already closed"));
        };
        stdin
            .write_all(text.as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| {
                Failure::fail(format!(
                    "could not write to standard input: {e} (the program stopped reading)"
                ))
            })
    }

    /// Closes the program's standard input (end of file).
    pub fn close_stdin(&mut self) {
        if let Some(l) = self.launched.as_mut() {
            if l.stdin.take().is_some() {
                self.shared.note("closed standard input");
            }
        }
    }

    /// Accepts a shared memory segment named `name` as something the program may leave.
    pub fn allow_shm(&mut self, name: &str) {
        self.allowed_shm.push(name.to_string());
    }

    /// Ends the run now (the same as dropping it).
    pub fn finish(self) {}
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(launched) = self.launched.take() {
            let record = teardown::teardown(self, launched);
            if let Ok(mut records) = self.ctx.records.lock() {
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

/// Turns "what was expected" into a failure that says what happened instead.
fn explain(st: &State, expected: String, timed_out: bool) -> Failure {
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
        return Failure::timeout(format!(
            "{expected}; it was still running with nothing matching"
        ));
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
