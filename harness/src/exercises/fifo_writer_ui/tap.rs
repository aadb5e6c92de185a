//! [`Tap`]: the harness's read end of the writer's FIFO, made by the harness and held open for
//! the whole run (so the writer never blocks on the reader's timing), drained by a thread of
//! its own while inotify counts the writer's opens and closes. The first few bytes are kept
//! for judging; waits use a condition variable with a deadline.

use crate::clock::Clock;
use crate::ipc::fifo::{self, Reader};
use crate::ipc::watch::{Counts, Watch};
use crate::ipc::{self, wait_ready};
use crate::outcome::Failure;
use crate::run::Run;
use crate::wait::Watched;
use nix::poll::PollFlags;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What came so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seen {
    pub bytes: usize,
    pub counts: Counts,
}

#[derive(Debug, Default)]
struct State {
    seen: Seen,
    kept: Vec<u8>,
    keep: usize,
}

struct Shared {
    state: Watched<State>,
    stop: AtomicBool,
    reader: Reader,
    watch: Watch,
}

pub struct Tap {
    shared: Arc<Shared>,
    clock: Clock,
}

impl Tap {
    /// Makes the FIFO at `path`, opens its read end (before the program starts) and starts
    /// draining it.
    pub fn make(path: &Path, clock: Clock) -> Result<Tap, Failure> {
        let fault =
            |what: &'static str| move |e: std::io::Error| Failure::fault(format!("{what}: {e}"));
        fifo::make(path).map_err(fault("making the FIFO"))?;
        let reader = Reader::open(path, true).map_err(fault("opening the FIFO"))?;
        reader.grow(1 << 20);
        // Watched after the harness's own open: every event is the program's.
        let watch = Watch::opens_and_closes(path).map_err(fault("watching the FIFO"))?;
        let shared = Arc::new(Shared {
            state: Watched::default(),
            stop: AtomicBool::new(false),
            reader,
            watch,
        });
        let draining = shared.clone();
        std::thread::spawn(move || drain(&draining));
        Ok(Tap { shared, clock })
    }

    /// Keeps the first `bytes` bytes that come (counting what is kept already).
    pub fn keep(&self, bytes: usize) {
        self.shared.state.lock().keep = bytes;
    }

    pub fn kept(&self) -> Vec<u8> {
        self.shared.state.lock().kept.clone()
    }

    /// What came so far, up to this moment: the inotify queue and the pipe are read now, so
    /// every open and close the program made before this call is counted.
    pub fn seen(&self) -> Seen {
        self.shared.state.update(|st| {
            take(&self.shared, st);
            st.seen
        })
    }

    /// Waits until `done` holds or `within` (nominal) passes, or the program ends; returns
    /// whether `done` held.
    pub fn collect(&self, run: &Run, within: Duration, done: impl Fn(&Seen) -> bool) -> bool {
        let deadline = self.clock.deadline(within);
        // Woken by news, or every 50 ms to notice a program that ended.
        let nap = Duration::from_millis(50);
        self.shared
            .state
            .until(deadline, nap, |st| {
                if done(&st.seen) {
                    Some(true)
                } else {
                    (!run.alive()).then_some(false)
                }
            })
            .unwrap_or(false)
    }

    /// Lets a frame under way finish (every open closed), waiting at most `within`.
    pub fn frame_done(&self, run: &Run, within: Duration) {
        self.collect(run, within, |s| s.counts.opens == s.counts.closes_write);
    }

    /// "; it exited with status 1 …" when the program ended, else "".
    pub fn ended(&self, run: &mut Run) -> String {
        ipc::ended(run).map_or_else(String::new, |how| format!("; {how}"))
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

/// Reads events first, then bytes (a close seen has all its bytes in the pipe), holding the
/// state lock so a reader of [`Tap::seen`] never misses events taken but not yet counted.
fn take(shared: &Shared, st: &mut State) {
    shared.watch.count(&mut st.seen.counts);
    let (n, _) = shared.reader.drain(&mut st.kept, st.keep);
    st.seen.bytes += n;
}

/// Takes in what comes until the tap is dropped.
fn drain(shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        let far = Instant::now() + Duration::from_secs(1);
        let fds = [shared.reader.fd(), shared.watch.fd()];
        wait_ready(&fds, PollFlags::POLLIN, far, Duration::from_millis(50));
        shared.state.update(|st| take(shared, st));
    }
}
