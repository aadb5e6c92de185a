//! Watching the program's `tmp/` while it runs.
//!
//! inotify on the program's folder (set up before the start) sees `tmp/` appear and go; a
//! second watch on `tmp/` itself, added as soon as it appears (and a scan of it then, since
//! files made before the watch would be missed), sees files created and deleted. A program
//! can create, write, list and delete ten files in a millisecond, faster than any watcher
//! reacts, so inotify alone is best effort. Two kernel facilities make it exact:
//! - the run's supervisor sees every file the program removes, just before it goes
//!   (`sandbox::removals`: a seccomp user notification on `unlink`, in every mode), and what
//!   is still in `tmp/` when the program has ended is read then;
//! - when the run has a mount namespace of its own and the grader is root, fanotify is marked
//!   on that run's own mount of the grading folder before the program starts: every close
//!   after writing is queued with an open descriptor of the file, whose size and bytes are
//!   read from the file itself even after the program deleted it. An unprivileged fanotify
//!   group cannot do this: it may only mark inodes (not `tmp/`, made later by the program)
//!   and gets file handles instead of descriptors, which only CAP_DAC_READ_SEARCH may open.

use crate::run::Reach;
use crate::run::Removed;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, InotifyEvent, WatchDescriptor};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
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
    /// Every file's content was seen, not only what inotify caught in time: fanotify
    /// descriptors, or the removals the supervisor saw (see [`Seen::add_removed`]).
    pub exact: bool,
    /// Sizes come from fanotify descriptors (at each close after writing).
    pub fanotify: bool,
    /// Why the content of a file removed at once could be missed (when `exact` is false).
    pub inexact_because: Vec<String>,
}

impl Seen {
    /// Adds what the supervisor saw of the files removed from `tmp` (`observed`: whether it
    /// sees every removal, or why not), then what `tmp` still holds now that the program has
    /// ended: together, every file that was ever there, as it was last.
    pub fn add_removed(&mut self, removed: &[Removed], tmp: &Path, observed: Result<(), String>) {
        for r in removed {
            let (Some(parent), Some(name)) = (r.path.parent(), r.path.file_name()) else {
                continue;
            };
            if parent != tmp {
                continue;
            }
            let name = name.to_string_lossy().into_owned();
            self.created.insert(name.clone());
            self.deleted.insert(name.clone());
            if !(self.fanotify && self.written.contains_key(&name)) {
                let bytes = Some(r.head.clone());
                self.written.insert(
                    name,
                    Written {
                        size: r.size,
                        bytes,
                    },
                );
            }
        }
        if let Ok(entries) = std::fs::read_dir(tmp) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(written) = open_regular(&entry.path()).as_ref().and_then(describe) {
                    self.created.insert(name.clone());
                    if !(self.fanotify && self.written.contains_key(&name)) {
                        self.written.insert(name, written);
                    }
                }
            }
        }
        match observed {
            Ok(()) => self.exact = true,
            Err(why) => self
                .inexact_because
                .push(format!("the supervisor could not watch removals ({why})")),
        }
    }

    /// Every name seen in `tmp/` one way or another (a name deleted from it was there).
    pub fn names(&self) -> BTreeSet<String> {
        self.created
            .iter()
            .chain(&self.deleted)
            .chain(self.written.keys())
            .cloned()
            .collect()
    }
}

/// A watch set up before the program starts.
pub struct FileWatch {
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

impl FileWatch {
    /// Watches `dir` (and `dir/tmp` if it is there already).
    pub fn new(dir: &Path) -> nix::Result<FileWatch> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        let dir_wd = inotify.add_watch(dir, dir_mask())?;
        let mut watch = FileWatch {
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
            self.seen.inexact_because.push(
                "fanotify needs the run's own mount, and runs share the machine's here".into(),
            );
            return;
        }
        let path = format!("/proc/{}/root{}", reach.supervisor, self.dir.display());
        match crate::ipc::fanotify::on_mount(&path) {
            Ok(fd) => self.fanotify = Some(fd),
            Err(e) => self.seen.inexact_because.push(format!(
                "fanotify with file descriptors needs CAP_SYS_ADMIN ({e})"
            )),
        }
        self.seen.fanotify = self.fanotify.is_some();
        self.seen.exact = self.seen.fanotify;
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
            for (path, written) in super::fanotify::read(fa) {
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
            if m.contains(AddWatchFlags::IN_CLOSE_WRITE) && !self.seen.fanotify {
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
            if !self.seen.fanotify {
                self.look_at(&name);
            }
        }
    }

    /// Best effort without fanotify: the size and bytes of `tmp/name` now.
    fn look_at(&mut self, name: &str) {
        if let Some(written) = open_regular(&self.tmp.join(name))
            .as_ref()
            .and_then(describe)
        {
            self.seen.written.insert(name.to_string(), written);
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

/// `path` opened for reading if it is a regular file: never following a link, never waiting
/// (a FIFO the program made would block an ordinary open).
fn open_regular(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .ok()?;
    file.metadata().ok()?.is_file().then_some(file)
}

/// The size and first bytes of an open file.
pub(super) fn describe(file: &File) -> Option<Written> {
    let size = file.metadata().ok()?.len();
    let mut buf = vec![0u8; KEEP.min(size as usize)];
    let bytes = file.read_exact_at(&mut buf, 0).ok().map(|()| buf);
    Some(Written { size, bytes })
}
