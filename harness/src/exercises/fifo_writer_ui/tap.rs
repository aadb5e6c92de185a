//! [`Tap`]: the harness's read end of the writer's FIFO, made by the harness and held open for
//! the whole run (so the writer never blocks on the reader's timing), drained by a thread of
//! its own while inotify counts the writer's opens and closes. The first few bytes after a
//! mark are kept for judging, and so are the places where the stream rested (the pipe ran
//! dry): where opens do not delimit frames, those show their size. Waits use a condition
//! variable with a deadline.

use crate::clock::Clock;
use crate::ipc::fifo::{self, Reader};
use crate::ipc::watch::{Counts, PathWatch};
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

impl Seen {
    /// What came after `base`.
    pub fn since(&self, base: &Seen) -> Seen {
        Seen {
            bytes: self.bytes.saturating_sub(base.bytes),
            counts: Counts {
                opens: self.counts.opens.saturating_sub(base.counts.opens),
                closes_write: self
                    .counts
                    .closes_write
                    .saturating_sub(base.counts.closes_write),
                closes_read: self
                    .counts
                    .closes_read
                    .saturating_sub(base.counts.closes_read),
                overflow: self.counts.overflow,
            },
        }
    }
}

/// Most rests kept after a mark (a frame every 50 ms for a few seconds needs a hundred).
const MAX_RESTS: usize = 4096;

#[derive(Debug, Default)]
struct State {
    seen: Seen,
    kept: Vec<u8>,
    keep: usize,
    /// Byte counts (since the start) at which the pipe ran dry, since the last mark.
    rests: Vec<usize>,
}

struct Shared {
    state: Watched<State>,
    stop: AtomicBool,
    reader: Reader,
    watch: PathWatch,
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
        let watch = PathWatch::opens_and_closes(path).map_err(fault("watching the FIFO"))?;
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

    /// Takes in everything that came so far, then keeps the first `keep` bytes that come from
    /// now on (and the rests); returns what came before, the base of what follows.
    pub fn mark(&self, keep: usize) -> Seen {
        self.shared.state.update(|st| {
            take(&self.shared, st);
            st.kept.clear();
            st.keep = keep;
            st.rests.clear();
            st.seen
        })
    }

    /// The byte counts (since the start) at which the pipe ran dry since the last mark: the
    /// writer had paused there.
    pub fn rests(&self) -> Vec<usize> {
        self.shared.state.update(|st| {
            take(&self.shared, st);
            st.rests.clone()
        })
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
        self.collect_until(run, self.clock.deadline(within), |seen, _| done(seen))
    }

    /// Waits until `done` holds for what came and the rests since the mark, or `deadline`
    /// (real) passes, or the program ends; returns whether `done` held.
    pub fn collect_until(
        &self,
        run: &Run,
        deadline: Instant,
        done: impl Fn(&Seen, &[usize]) -> bool,
    ) -> bool {
        // Woken by news, or every 50 ms to notice a program that ended.
        let nap = Duration::from_millis(50);
        self.shared
            .state
            .until(deadline, nap, |st| {
                if done(&st.seen, &st.rests) {
                    Some(true)
                } else {
                    (!run.alive()).then_some(false)
                }
            })
            .unwrap_or(false)
    }

    /// The real deadline `within` (nominal) from now.
    pub fn deadline(&self, within: Duration) -> Instant {
        self.clock.deadline(within)
    }

    /// The grading's clock.
    pub fn clock(&self) -> Clock {
        self.clock
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
/// The pipe is read until it is empty, so where new bytes end the stream rested.
fn take(shared: &Shared, st: &mut State) {
    shared.watch.count(&mut st.seen.counts);
    let (n, _) = shared.reader.drain(&mut st.kept, st.keep);
    st.seen.bytes += n;
    if n > 0 && st.rests.len() < MAX_RESTS {
        st.rests.push(st.seen.bytes);
    }
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
