//! inotify for scenarios: waiting for a name to appear in a folder, and counting how often a
//! FIFO is opened and closed (each open of a FIFO, by any process, is an event on its inode).

use nix::poll::PollFlags;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// One inotify instance watching one path.
pub struct PathWatch {
    inotify: Inotify,
}

/// Opens and closes seen on a watched file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub opens: usize,
    /// Closes of descriptors opened for writing.
    pub closes_write: usize,
    /// Closes of descriptors opened for reading only.
    pub closes_read: usize,
    /// The kernel's event queue overflowed: the counts are a lower bound.
    pub overflow: bool,
}

impl PathWatch {
    /// Watches `path` for the events in `mask`.
    pub fn new(path: &Path, mask: AddWatchFlags) -> std::io::Result<Self> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        inotify.add_watch(path, mask)?;
        Ok(PathWatch { inotify })
    }

    /// Watches a FIFO (or any file) for opens and closes.
    pub fn opens_and_closes(path: &Path) -> std::io::Result<Self> {
        Self::new(
            path,
            AddWatchFlags::IN_OPEN
                | AddWatchFlags::IN_CLOSE_WRITE
                | AddWatchFlags::IN_CLOSE_NOWRITE,
        )
    }

    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inotify.as_fd()
    }

    /// Adds the events queued now to `counts` (never blocks).
    pub fn count(&self, counts: &mut Counts) {
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            for e in events {
                counts.opens += usize::from(e.mask.contains(AddWatchFlags::IN_OPEN));
                counts.closes_write += usize::from(e.mask.contains(AddWatchFlags::IN_CLOSE_WRITE));
                counts.closes_read += usize::from(e.mask.contains(AddWatchFlags::IN_CLOSE_NOWRITE));
                counts.overflow |= e.mask.contains(AddWatchFlags::IN_Q_OVERFLOW);
            }
        }
    }

    /// The names that events queued now are about (a watched folder's entries created or
    /// moved in), in order; never blocks.
    pub fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            names.extend(
                events
                    .into_iter()
                    .filter_map(|e| Some(e.name?.to_string_lossy().into_owned())),
            );
        }
        names
    }

    /// Waits for the next event (or the deadline) and adds what came to `counts`; true if
    /// something came.
    pub fn wait(&self, deadline: Instant, counts: &mut Counts) -> bool {
        let ready = super::wait_ready(&[self.fd()], PollFlags::POLLIN, deadline, Duration::MAX);
        let before = *counts;
        self.count(counts);
        ready.first().is_some_and(|r| !r.is_empty()) && *counts != before
    }
}

/// Waits until `dir/name` exists (any kind of file), up to `deadline`, woken by inotify
/// events on `dir`; also returns early when `give_up` says so (the program ended). True when
/// it exists.
pub fn wait_for_entry(
    dir: &Path,
    name: &str,
    deadline: Instant,
    mut give_up: impl FnMut() -> bool,
) -> std::io::Result<bool> {
    let watch = PathWatch::new(
        dir,
        AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO | AddWatchFlags::IN_ATTRIB,
    )?;
    let path = dir.join(name);
    loop {
        if std::fs::symlink_metadata(&path).is_ok() {
            return Ok(true);
        }
        if Instant::now() >= deadline || give_up() {
            return Ok(false);
        }
        // Wake at least every 50 ms to notice a program that ended without creating it.
        let cap = deadline.min(Instant::now() + Duration::from_millis(50));
        watch.wait(cap, &mut Counts::default());
    }
}
