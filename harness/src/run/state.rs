//! The state of one live run, shared between the reader threads and the scenario: a mutex
//! and a condition variable, so every wait is a wait for an event with a deadline.

use super::transcript::{Deadline, Entry, Source};
use crate::sandbox::protocol::{Exit, ListenerOptions};
use crate::wait::Watched;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

/// Longest line kept; longer lines are split.
pub const MAX_LINE: usize = 4096;
/// Most removed files kept (`Spec::observe_removals`); later ones are not recorded.
pub const MAX_REMOVED: usize = 1000;
/// Deadlines kept per run: a scenario waits a handful of times; a loop of waits is cut.
pub const MAX_DEADLINES: usize = 64;

/// Per-stream bookkeeping.
#[derive(Debug, Default)]
pub struct StreamState {
    /// Bytes of a line not yet ended by a newline (a prompt).
    pub partial: Vec<u8>,
    /// When bytes were last added to `partial`.
    pub partial_at_ms: u64,
    pub total_bytes: u64,
    pub stored_bytes: u64,
    pub eof: bool,
}

/// A process reaped by the supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    pub pid: i32,
    pub exit: Exit,
    pub at_ms: u64,
}

/// A regular file the program removed, as it was just before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub path: std::path::PathBuf,
    pub size: u64,
    /// Its first bytes (at most 4 KiB).
    pub head: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct State {
    pub entries: Vec<Entry>,
    pub stdout: StreamState,
    pub stderr: StreamState,
    /// Set once a stream went over the output cap.
    pub flooded: Option<Source>,
    pub supervisor_pid: Option<i32>,
    /// The program's pid as the grader sees it (for `/proc` and signals).
    pub main_pid: Option<i32>,
    /// The program's pid as it sees itself (in its run's pid namespace).
    pub own_pid: Option<i32>,
    /// When the supervisor reported the program started.
    pub started_at_ms: Option<u64>,
    pub spawn_error: Option<String>,
    pub main_exit: Option<Reaped>,
    pub reaped: Vec<Reaped>,
    /// Nothing of the program's tree is left.
    pub empty: bool,
    pub wall_limit: bool,
    pub killed_all: bool,
    /// The control socket closed: the supervisor is gone.
    pub supervisor_gone: bool,
    /// The supervisor's answers about listening sockets, by port (the latest last).
    pub listeners: Vec<(u16, Result<ListenerOptions, String>)>,
    /// Files the program removed (`Spec::observe_removals`), in order.
    pub removed: Vec<Removed>,
    /// Why the supervisor could not observe removals, when it could not.
    pub removals_problem: Option<String>,
    /// The program's process tree as the supervisor reports it (`Spec::observe_processes`).
    pub processes: std::sync::Arc<Watched<crate::sandbox::proc_events::Tree>>,
    /// Why the supervisor could not observe the processes, when it could not.
    pub processes_problem: Option<String>,
    /// Processes kept for the record (`Run::keep_processes`).
    pub spans: Vec<super::pictured::ProcessSpan>,
    /// Images kept for the record (`Run::keep_picture`).
    pub pictures: Vec<super::pictured::Picture>,
    /// The deadlines waited against, the first [`MAX_DEADLINES`].
    pub deadlines: Vec<Deadline>,
}

impl State {
    /// The state of the stream `source` (stdout for the harness's own notes).
    pub fn stream(&self, source: Source) -> &StreamState {
        match source {
            Source::Stderr => &self.stderr,
            _ => &self.stdout,
        }
    }
}

/// The shared state, watched: every change wakes the waiters.
#[derive(Debug)]
pub struct Shared {
    state: Watched<State>,
    pub started: Instant,
    pub output_cap: u64,
}

impl Shared {
    pub fn new(output_cap: u64) -> Self {
        Shared {
            state: Watched::default(),
            started: Instant::now(),
            output_cap,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Applies `f` under the lock and wakes every waiter.
    pub fn update(&self, f: impl FnOnce(&mut State)) {
        self.state.update(f)
    }

    /// The start and the end, in the transcript's milliseconds, of a wait ending at `deadline`.
    pub fn deadline_span(&self, deadline: Instant) -> (u64, u64) {
        let from = self.now_ms();
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_millis() as u64;
        (from, from + left)
    }

    /// Records a wait for `what` over `span` (see [`Shared::deadline_span`]), met now or not.
    pub fn note_deadline(&self, what: impl Into<String>, span: (u64, u64), met: bool) {
        let ended_ms = self.now_ms();
        let what = what.into();
        self.update(|st| {
            if st.deadlines.len() < MAX_DEADLINES {
                st.deadlines.push(Deadline {
                    what,
                    from_ms: span.0,
                    by_ms: span.1,
                    ended_ms,
                    met,
                });
            }
        });
    }

    /// Adds a harness note to the transcript.
    pub fn note(&self, text: impl Into<String>) {
        let at_ms = self.now_ms();
        let text = text.into();
        self.update(|st| {
            st.entries.push(Entry {
                at_ms,
                source: Source::Harness,
                text,
            })
        });
    }

    /// Adds a harness note stamped `at_ms`, in time order among the entries.
    pub fn note_at(&self, at_ms: u64, text: impl Into<String>) {
        self.insert_note(at_ms, text.into(), |e| e.at_ms > at_ms);
    }

    /// Notes the program's start: before anything it printed, even when its first lines
    /// reached the grader (on their own threads) before the supervisor's report did.
    pub fn note_start(&self, at_ms: u64, text: impl Into<String>) {
        self.insert_note(at_ms, text.into(), |e| {
            e.at_ms > at_ms || e.source != Source::Harness
        });
    }

    /// Inserts a harness note before the first entry `before` accepts, stamped no later than
    /// that entry, so the transcript stays in time order.
    fn insert_note(&self, at_ms: u64, text: String, before: impl Fn(&Entry) -> bool) {
        self.update(|st| {
            let pos = st
                .entries
                .iter()
                .position(before)
                .unwrap_or(st.entries.len());
            let at_ms = st.entries.get(pos).map_or(at_ms, |e| e.at_ms.min(at_ms));
            st.entries.insert(
                pos,
                Entry {
                    at_ms,
                    source: Source::Harness,
                    text,
                },
            );
        });
    }

    /// Waits until `done` returns `Some`, or the deadline passes (`None`).
    pub fn wait_for<T>(
        &self,
        deadline: Instant,
        mut done: impl FnMut(&State) -> Option<T>,
    ) -> Option<T> {
        let nap = Duration::from_millis(250);
        self.state.until(deadline, nap, |st| done(st)).ok()
    }

    /// Waits until the program has ended (its exit reported, or the supervisor gone), at most
    /// until `deadline`: true when it ended. Woken by the report itself, never by polling.
    pub fn ended_by(&self, deadline: Instant) -> bool {
        self.wait_for(deadline, |st| {
            (st.main_exit.is_some() || st.supervisor_gone).then_some(())
        })
        .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A watch that only a running program can pass ends with the exit report, long before
    /// its deadline; without one it lasts until the deadline.
    #[test]
    fn a_watch_ends_when_the_exit_is_reported() {
        let shared = Arc::new(Shared::new(1024));
        let reporter = shared.clone();
        let t = std::thread::spawn(move || {
            reporter.update(|st| {
                st.main_exit = Some(Reaped {
                    pid: 7,
                    exit: Exit::Code(0),
                    at_ms: 1,
                })
            })
        });
        let far = Instant::now() + Duration::from_secs(60);
        assert!(shared.ended_by(far));
        t.join().unwrap();
        let quiet = Shared::new(1024);
        assert!(!quiet.ended_by(Instant::now() + Duration::from_millis(20)));
    }

    fn push(shared: &Shared, at_ms: u64, source: Source, text: &str) {
        shared.update(|st| {
            st.entries.push(Entry {
                at_ms,
                source,
                text: text.into(),
            })
        });
    }

    /// Output that reached the grader before the supervisor's "started" report still comes
    /// after the start in the transcript.
    #[test]
    fn the_start_comes_before_anything_printed() {
        let shared = Shared::new(1024);
        push(&shared, 3, Source::Harness, "prepared");
        push(&shared, 5, Source::Stdout, "Process id: 12");
        push(&shared, 5, Source::Stdout, "User id: 0");
        shared.note_start(6, "started process");
        let st = shared.lock();
        let texts: Vec<&str> = st.entries.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "prepared",
                "started process",
                "Process id: 12",
                "User id: 0"
            ]
        );
        assert!(st.entries.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    }
}
