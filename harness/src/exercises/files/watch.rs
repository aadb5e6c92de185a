//! Watching the program's `tmp/` while it runs.
//!
//! inotify on the program's folder (set up before the start) sees `tmp/` appear and go; a
//! second watch on `tmp/` itself, added as soon as it appears (and a scan of it then, since
//! files made before the watch would be missed), sees files created and deleted. A program
//! can create, write, list and delete ten files in a millisecond, faster than any watcher
//! reacts, so when the run has a mount namespace of its own (the grader is root) fanotify is
//! marked on that run's own mount of the grading folder before the program starts: every
//! close after writing is queued with an open descriptor of the file, whose size and bytes
//! are read from the file itself even after the program deleted it. Without fanotify, sizes
//! are read at close-after-write (best effort).

use crate::sandbox::reach::Reach;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, InotifyEvent, WatchDescriptor};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// At most this many bytes of a file are kept.
const KEEP: usize = 4096;

/// One file as written: its size after the program closed it, and its first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub size: u64,
    pub bytes: Option<Vec<u8>>,
}

/// What the watch saw of `tmp/`.
#[derive(Debug, Default)]
pub struct Seen {
    pub tmp_created: bool,
    pub tmp_removed: bool,
    /// Names created (or moved) into `tmp/`.
    pub created: BTreeSet<String>,
    /// Files of `tmp/` closed after writing.
    pub written: BTreeMap<String, Written>,
    /// Names deleted (or moved) out of `tmp/`.
    pub deleted: BTreeSet<String>,
    /// Sizes come from fanotify descriptors (exact), not from a late stat.
    pub exact: bool,
}

impl Seen {
    /// Every name seen in `tmp/` one way or another.
    pub fn names(&self) -> BTreeSet<String> {
        self.created
            .iter()
            .chain(self.written.keys())
            .cloned()
            .collect()
    }
}

/// A watch set up before the program starts.
pub struct Watch {
    inotify: Inotify,
    fanotify: Option<OwnedFd>,
    dir: PathBuf,
    tmp: PathBuf,
    dir_wd: WatchDescriptor,
    tmp_wd: Option<WatchDescriptor>,
    seen: Seen,
}

/// A watch running on its own thread.
pub struct Running {
    stop: Arc<AtomicBool>,
    wake: Option<OwnedFd>,
    thread: JoinHandle<Seen>,
}

fn dir_mask() -> AddWatchFlags {
    AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_CLOSE_WRITE
}

impl Watch {
    /// Watches `dir` (and `dir/tmp` if it is there already).
    pub fn new(dir: &Path) -> nix::Result<Watch> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        let dir_wd = inotify.add_watch(dir, dir_mask())?;
        let mut watch = Watch {
            inotify,
            fanotify: None,
            dir: dir.to_path_buf(),
            tmp: dir.join("tmp"),
            dir_wd,
            tmp_wd: None,
            seen: Seen::default(),
        };
        if watch.tmp.is_dir() {
            watch.watch_tmp();
        }
        Ok(watch)
    }

    /// Marks the run's own mount of the folder with fanotify (before the program starts).
    /// Without a private mount namespace, or when refused, sizes stay best effort.
    pub fn mark_mount(&mut self, reach: &Reach) {
        if !reach.private_tmp {
            return;
        }
        let path = format!("/proc/{}/root{}", reach.supervisor, self.dir.display());
        self.fanotify = crate::sandbox::fanotify::on_mount(&path).ok();
        self.seen.exact = self.fanotify.is_some();
    }

    /// Starts reading events on a thread of its own.
    pub fn spawn(mut self) -> Running {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        // A pipe whose write end `finish` closes wakes the thread at once.
        let (wake, wake_tx) = match nix::unistd::pipe() {
            Ok((r, w)) => (Some(r), Some(w)),
            Err(_) => (None, None),
        };
        let thread = std::thread::spawn(move || {
            loop {
                let stopping = flag.load(Ordering::SeqCst);
                self.wait_readable(wake.as_ref(), if stopping { 0 } else { 50 });
                self.drain();
                if stopping {
                    break;
                }
            }
            self.seen
        });
        Running {
            stop,
            wake: wake_tx,
            thread,
        }
    }

    fn wait_readable(&self, wake: Option<&OwnedFd>, ms: u16) {
        let mut fds = vec![PollFd::new(self.inotify.as_fd(), PollFlags::POLLIN)];
        if let Some(fa) = &self.fanotify {
            fds.push(PollFd::new(fa.as_fd(), PollFlags::POLLIN));
        }
        if let Some(w) = wake {
            fds.push(PollFd::new(w.as_fd(), PollFlags::POLLIN));
        }
        let _ = poll(&mut fds, PollTimeout::from(ms));
    }

    fn drain(&mut self) {
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            for event in events {
                self.on_inotify(&event);
            }
        }
        if let Some(fa) = &self.fanotify {
            for (path, written) in read_fanotify(fa) {
                if let Some(name) = self.tmp_name(&path) {
                    self.seen.created.insert(name.clone());
                    self.seen.written.insert(name, written);
                }
            }
        }
    }

    fn on_inotify(&mut self, event: &InotifyEvent) {
        let Some(name) = event
            .name
            .as_ref()
            .map(|n| n.to_string_lossy().into_owned())
        else {
            if Some(event.wd) == self.tmp_wd && event.mask.contains(AddWatchFlags::IN_IGNORED) {
                self.tmp_wd = None;
            }
            return;
        };
        let m = event.mask;
        let arrived = m.intersects(AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO);
        let left = m.intersects(AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVED_FROM);
        if event.wd == self.dir_wd && name == "tmp" {
            if arrived && m.contains(AddWatchFlags::IN_ISDIR) {
                self.seen.tmp_created = true;
                self.watch_tmp();
            }
            if left {
                self.seen.tmp_removed = true;
            }
        } else if Some(event.wd) == self.tmp_wd {
            if arrived {
                self.seen.created.insert(name.clone());
            }
            if left {
                self.seen.deleted.insert(name.clone());
            }
            if m.contains(AddWatchFlags::IN_CLOSE_WRITE) && !self.seen.exact {
                self.look_at(&name);
            }
        }
    }

    /// Adds the watch on `tmp/`, then records what it already holds.
    fn watch_tmp(&mut self) {
        let mask = dir_mask() | AddWatchFlags::IN_ONLYDIR;
        self.tmp_wd = self.inotify.add_watch(&self.tmp, mask).ok();
        let Ok(entries) = std::fs::read_dir(&self.tmp) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            self.seen.created.insert(name.clone());
            if !self.seen.exact {
                self.look_at(&name);
            }
        }
    }

    /// Best effort without fanotify: the size and bytes of `tmp/name` now.
    fn look_at(&mut self, name: &str) {
        if let Ok(file) = File::open(self.tmp.join(name)) {
            if let Some(written) = describe(&file) {
                self.seen.written.insert(name.to_string(), written);
            }
        }
    }

    /// The name of a file directly in `tmp/`, from a descriptor's path. A path on a mount
    /// outside the grader's namespace reads relative to that mount's root, so the path's
    /// folder is matched as a tail of `tmp/`'s own path.
    fn tmp_name(&self, path: &Path) -> Option<String> {
        let name = path.file_name()?.to_string_lossy().into_owned();
        let parent = path.parent()?.strip_prefix("/").ok()?;
        (parent.components().count() >= 2 && self.tmp.ends_with(parent)).then_some(name)
    }
}

impl Running {
    /// Stops the watch after reading every event queued so far (call once the program has
    /// ended: its events are all queued by then).
    pub fn finish(self) -> Seen {
        self.stop.store(true, Ordering::SeqCst);
        drop(self.wake);
        self.thread.join().unwrap_or_default()
    }
}

/// The size and first bytes of an open file.
fn describe(file: &File) -> Option<Written> {
    let size = file.metadata().ok()?.len();
    let mut buf = vec![0u8; KEEP.min(size as usize)];
    let bytes = file.read_exact_at(&mut buf, 0).ok().map(|()| buf);
    Some(Written { size, bytes })
}

/// Every queued fanotify event: the file's path (as the descriptor names it, without a
/// ` (deleted)` suffix) and what it holds.
fn read_fanotify(fa: &OwnedFd) -> Vec<(PathBuf, Written)> {
    use std::os::fd::AsRawFd;
    let meta_len = std::mem::size_of::<libc::fanotify_event_metadata>();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: reading into a buffer we own, at most its length.
        let n = unsafe { libc::read(fa.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        let mut at = 0usize;
        while at + meta_len <= n as usize {
            // SAFETY: the kernel wrote whole events; read_unaligned copes with alignment.
            let meta: libc::fanotify_event_metadata =
                unsafe { std::ptr::read_unaligned(buf[at..].as_ptr().cast()) };
            if (meta.event_len as usize) < meta_len {
                break;
            }
            at += meta.event_len as usize;
            if meta.fd < 0 {
                continue;
            }
            // SAFETY: the event's descriptor is ours to close.
            let file = File::from(unsafe { OwnedFd::from_raw_fd(meta.fd) });
            let link = std::fs::read_link(format!("/proc/self/fd/{}", meta.fd));
            if let (Ok(link), Some(written)) = (link, describe(&file)) {
                let text = link.to_string_lossy();
                let path = text.strip_suffix(" (deleted)").unwrap_or(&text);
                out.push((PathBuf::from(path), written));
            }
        }
    }
    out
}
