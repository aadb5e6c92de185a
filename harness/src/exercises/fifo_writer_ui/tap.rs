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
use nix::poll::PollFlags;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
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
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
    reader: Reader,
    watch: Watch,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
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
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
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
        self.shared.lock().keep = bytes;
    }

    pub fn kept(&self) -> Vec<u8> {
        self.shared.lock().kept.clone()
    }

    /// What came so far, up to this moment: the inotify queue and the pipe are read now, so
    /// every open and close the program made before this call is counted.
    pub fn seen(&self) -> Seen {
        let mut st = self.shared.lock();
        take(&self.shared, &mut st);
        st.seen
    }

    /// Waits until `done` holds or `within` (nominal) passes, or the program ends; returns
    /// whether `done` held.
    pub fn collect(&self, run: &Run, within: Duration, done: impl Fn(&Seen) -> bool) -> bool {
        let deadline = self.clock.deadline(within);
        // Woken by news, or every 50 ms to notice a program that ended.
        let nap = Duration::from_millis(50);
        let state = self.shared.lock();
        crate::wait::until(state, &self.shared.changed, deadline, nap, |st| {
            if done(&st.seen) {
                Some(true)
            } else {
                (!run.alive()).then_some(false)
            }
        })
        .unwrap_or(false)
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
fn take(shared: &Shared, st: &mut State) -> bool {
    let mut counts = Counts::default();
    shared.watch.count(&mut counts);
    let room = st.keep.saturating_sub(st.kept.len());
    let mut kept = Vec::new();
    let (n, _) = shared.reader.drain(&mut kept, room);
    st.seen.bytes += n;
    st.seen.counts.opens += counts.opens;
    st.seen.counts.closes_write += counts.closes_write;
    st.seen.counts.closes_read += counts.closes_read;
    st.seen.counts.overflow |= counts.overflow;
    st.kept.extend_from_slice(&kept);
    n > 0 || counts != Counts::default()
}

/// Takes in what comes until the tap is dropped.
fn drain(shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        let far = Instant::now() + Duration::from_secs(1);
        let fds = [shared.reader.fd(), shared.watch.fd()];
        wait_ready(&fds, PollFlags::POLLIN, far, Duration::from_millis(50));
        let news = take(shared, &mut shared.lock());
        if news {
            shared.changed.notify_all();
        }
    }
}
