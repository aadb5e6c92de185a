//! The harness's side of inter-process communication with a program under test: FIFOs it
//! reads or writes, files it watches with inotify, TCP peers inside the run's network, and
//! parsing what crossed (a `ctime` date).
//!
//! Every wait here is for an event with a deadline (data on a descriptor, an inotify event,
//! a connection); where the kernel offers no event (a FIFO reader blocked in `open`, a port
//! starting to listen) the state is polled with a short, growing pause, up to a deadline.

pub mod ctime;
pub mod elsewhere;
pub mod fifo;
pub mod net;
pub mod segment;
pub mod watch;

/// fanotify's mount marks (which see every file a run makes on a mount).
pub use crate::sandbox::fanotify;

use crate::clock::Clock;
use crate::outcome::Failure;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

/// The lecture's POSIX shared memory segment (`/dev/shm/imageMap`), for the shm exercises.
pub const IMAGE_SEGMENT: &str = "imageMap";
/// Bytes in the segment: one 400×400 RGBA image.
pub const IMAGE_BYTES: usize = 400 * 400 * 4;

/// Waits until one of `fds` is ready for `events`, at most until `deadline` (and at most
/// `cap`, so a caller can look at other state now and then). Returns each descriptor's ready
/// flags (empty when none is ready).
pub fn wait_ready(
    fds: &[BorrowedFd<'_>],
    events: PollFlags,
    deadline: Instant,
    cap: Duration,
) -> Vec<PollFlags> {
    let left = deadline.saturating_duration_since(Instant::now()).min(cap);
    let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
    let mut polled: Vec<PollFd> = fds.iter().map(|fd| PollFd::new(*fd, events)).collect();
    match nix::poll::poll(&mut polled, PollTimeout::from(ms)) {
        Ok(_) => polled
            .iter()
            .map(|p| p.revents().unwrap_or(PollFlags::empty()))
            .collect(),
        Err(_) => vec![PollFlags::empty(); fds.len()],
    }
}

/// Polls `ready` with a growing pause (1 ms up to 20 ms) until it returns `Some` or the
/// deadline passes: for states the kernel gives no event for.
pub fn poll_state<T>(deadline: Instant, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(v) = ready() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// The last line the program printed on standard error, quoted, for feedback ("" if none).
pub fn last_stderr(run: &crate::run::Run) -> String {
    run.lines(crate::run::transcript::Source::Stderr)
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| {
            format!(
                "; its last line on standard error: {}",
                crate::text::quote(l)
            )
        })
        .unwrap_or_default()
}

/// The failure of a wait that ended without what it awaited: a `fail` saying how the program
/// ended (`ended(how)`) when it ended first, else a `timeout` (`silent()`): a program that
/// died is told so, never that it was slow.
pub fn ended_first_or_timeout(
    run: &mut crate::run::Run,
    ended_first: impl FnOnce(&str) -> String,
    silent: impl FnOnce() -> String,
) -> Failure {
    match ended(run) {
        Some(how) => Failure::fail(ended_first(&how)),
        None => Failure::timeout(silent()),
    }
}

/// "it exited with status 1; its last line on standard error: …", for a run that ended
/// (a program seen dead in /proc is given a moment for its exit to be reported).
pub fn ended(run: &mut crate::run::Run) -> Option<String> {
    if run.exit().is_none() && !run.alive() {
        let _ = run.let_exit(Duration::from_secs(2));
    }
    run.exit()
        .map(|e| format!("it {}{}", crate::run::describe_exit(e), last_stderr(run)))
}

/// Lets a program that is still running finish what it is doing (a line it prints after
/// serving a client) before the harness ends it: waits until it blocks, briefly.
pub fn let_finish(run: &crate::run::Run) {
    let _ = run.let_block(Duration::from_secs(2));
}

/// Waits (polling /proc) until the program and every process it started are blocked: a
/// program still starting a helper (Python's resource tracker, spawned when a segment is
/// made) is not ready for a signal yet. False when that did not happen by the deadline, or
/// at once when the program has ended (an ended program never settles).
pub fn wait_all_blocked(run: &crate::run::Run, within: Duration, clock: Clock) -> bool {
    use crate::sandbox::procfs;
    let main = run.pid();
    poll_state(clock.deadline(within), || {
        let blocked = |p: &procfs::ProcInfo| p.state == 'S' || p.is_zombie();
        match procfs::read(main) {
            Some(p) if p.state == 'S' => procfs::descendants(main)
                .iter()
                .all(blocked)
                .then_some(true),
            Some(p) if !p.is_zombie() => None,
            _ => Some(false),
        }
    })
    .unwrap_or(false)
}
