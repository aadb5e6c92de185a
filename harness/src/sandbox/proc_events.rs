//! Following a run's process tree as it happens: every fork, exec, exit and reaping of the
//! descendants of one process (a run's supervisor), with the kernel's own timestamps.
//!
//! Mechanism: the kernel's process events connector (netlink `NETLINK_CONNECTOR`, group
//! `CN_IDX_PROC`). The kernel multicasts one message per fork, exec and exit of every task
//! on the machine, so a child that lives a millisecond is seen like any other, without
//! touching the program (no ptrace stops, no changed parentage). It needs root
//! (`CAP_NET_ADMIN`) and a socket in the initial network namespace; [`ProcessWatch::subscribe`]
//! fails otherwise. The connector has no event for reaping: a zombie is the exited process
//! whose `/proc/<pid>` entry still exists, so the few pending zombies are polled until it
//! disappears.
//!
//! Without the connector (a container: another network or pid namespace), the run's
//! supervisor reports the same events through a seccomp filter ([`super::proc_calls`],
//! [`Tree::apply_reported`], [`ProcessWatch::reported`]).
//!
//! Robustness: a dedicated thread drains the socket (receive buffer of several megabytes);
//! should the kernel still drop messages (`ENOBUFS`) the tree says so ([`Tree::lost`]).
//! Memory is bounded ([`MAX_PROCS`] records), and dropping the [`ProcessWatch`] stops the thread.

mod netlink;

use super::protocol::{Exit, ProcEvent};
use crate::wait::Watched;
use netlink::{control, event_instant, for_each_event, open_socket, u32_at};
use netlink::{PROC_CN_MCAST_IGNORE, PROC_CN_MCAST_LISTEN};
use std::collections::{HashMap, HashSet};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most processes recorded per watch; later ones are counted in [`Tree::truncated`].
pub const MAX_PROCS: usize = 4096;
const MAX_EXECS: usize = 8;
const EV_NONE: u32 = 0;
const EV_FORK: u32 = 1;
const EV_EXEC: u32 = 2;
const EV_EXIT: u32 = 0x8000_0000;

/// One exec: when, and the command line it started (or `[comm]` if it was gone already).
#[derive(Debug, Clone, PartialEq)]
pub struct Exec {
    pub at: Instant,
    pub command: String,
}

/// One process below the watched root.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcRecord {
    pub pid: i32,
    pub parent: i32,
    pub forked: Instant,
    pub execs: Vec<Exec>,
    /// When it exited and how.
    pub exited: Option<(Instant, Exit)>,
    /// When its zombie disappeared (its parent, or the supervisor, reaped it).
    pub reaped: Option<Instant>,
}

/// What a watch has seen so far.
#[derive(Debug, Default)]
pub struct Tree {
    pub root: i32,
    /// In fork order.
    pub procs: Vec<ProcRecord>,
    /// The kernel dropped messages: the tree may miss events.
    pub lost: bool,
    /// Processes not recorded because of [`MAX_PROCS`].
    pub truncated: usize,
    members: HashSet<i32>,
    index: HashMap<i32, usize>,
}

impl Tree {
    /// The record of the process `pid` (its latest, should the pid have been reused).
    pub fn get(&self, pid: i32) -> Option<&ProcRecord> {
        self.index.get(&pid).map(|&i| &self.procs[i])
    }

    /// The processes whose parent at fork time was `pid`.
    pub fn children_of(&self, pid: i32) -> Vec<&ProcRecord> {
        self.procs.iter().filter(|p| p.parent == pid).collect()
    }

    fn fork(&mut self, parent: i32, child: i32, at: Instant) {
        if !self.members.contains(&parent) {
            return;
        }
        if self.procs.len() >= MAX_PROCS {
            self.truncated += 1;
            return;
        }
        self.members.insert(child);
        self.index.insert(child, self.procs.len());
        self.procs.push(ProcRecord {
            pid: child,
            parent,
            forked: at,
            execs: Vec::new(),
            exited: None,
            reaped: None,
        });
    }

    /// Applies one event the supervisor saw (`Spec::observe_processes`; pids as the
    /// program's processes see them).
    pub fn apply_reported(&mut self, event: &ProcEvent) {
        let at = |ns: u64| event_instant(ns);
        match *event {
            ProcEvent::Root { pid } => {
                self.root = pid;
                self.members.insert(pid);
            }
            ProcEvent::Fork { pid, parent, at_ns } => self.fork(parent, pid, at(at_ns)),
            ProcEvent::Exec {
                pid,
                ref command,
                at_ns,
            } => {
                if let Some(p) = self.record_mut(pid) {
                    if p.execs.len() < MAX_EXECS {
                        let command = command.clone();
                        p.execs.push(Exec {
                            at: at(at_ns),
                            command,
                        });
                    }
                }
            }
            ProcEvent::Exit { pid, exit, at_ns } => {
                self.members.remove(&pid);
                if let Some(p) = self.record_mut(pid) {
                    p.exited = Some((at(at_ns), exit));
                }
            }
            ProcEvent::Reaped { pid, at_ns } => {
                if let Some(p) = self.record_mut(pid) {
                    p.reaped = Some(at(at_ns));
                }
            }
        }
    }

    fn record_mut(&mut self, pid: i32) -> Option<&mut ProcRecord> {
        let i = *self.index.get(&pid)?;
        self.procs.get_mut(i)
    }

    fn zombies(&self) -> Vec<i32> {
        self.procs
            .iter()
            .filter(|p| p.exited.is_some() && p.reaped.is_none())
            .map(|p| p.pid)
            .collect()
    }
}

/// Where a [`ProcessWatch`]'s events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The kernel's process events connector (pids as the grader sees them).
    Connector,
    /// The run's supervisor, through its seccomp filter (`sandbox::proc_calls`; pids as the
    /// program sees them).
    Supervisor,
}

/// A live subscription to the process events of one root's descendants.
pub struct ProcessWatch {
    inner: Arc<Watched<Tree>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    origin: Origin,
}

impl ProcessWatch {
    /// The tree a run's supervisor reports (`Run::process_tree`).
    pub fn reported(inner: Arc<Watched<Tree>>) -> ProcessWatch {
        ProcessWatch {
            inner,
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
            origin: Origin::Supervisor,
        }
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Subscribes to process events and follows every process `root` forks from now on.
    /// Returns once the kernel confirmed the subscription, so nothing forked after this
    /// call is missed.
    pub fn subscribe(root: i32) -> io::Result<ProcessWatch> {
        super::phases::time("connector", || Self::subscribe_now(root))
    }

    fn subscribe_now(root: i32) -> io::Result<ProcessWatch> {
        let sock = open_socket()?;
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let tag = (std::process::id() << 12) ^ NEXT.fetch_add(1, Ordering::SeqCst);
        control(&sock, PROC_CN_MCAST_LISTEN, tag)?;
        let mut tree = Tree {
            root,
            ..Tree::default()
        };
        tree.members.insert(root);
        let inner = Arc::new(Watched::new(tree));
        let (acked, stop) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let thread = {
            let (inner, acked, stop) = (inner.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || read_loop(&sock, &inner, tag, &acked, &stop))
        };
        let watch = ProcessWatch {
            inner,
            stop,
            thread: Some(thread),
            origin: Origin::Connector,
        };
        let confirmed = watch.wait_for(Instant::now() + Duration::from_secs(3), |_| {
            acked.load(Ordering::SeqCst).then_some(())
        });
        match confirmed {
            Some(()) => Ok(watch),
            None => Err(io::Error::other(
                "the kernel did not confirm the process events subscription",
            )),
        }
    }

    /// Locks the tree as seen so far.
    pub fn tree(&self) -> MutexGuard<'_, Tree> {
        self.inner.lock()
    }

    /// Waits until `done` returns `Some` or the deadline passes (`None`).
    pub fn wait_for<T>(
        &self,
        deadline: Instant,
        mut done: impl FnMut(&Tree) -> Option<T>,
    ) -> Option<T> {
        let nap = Duration::from_millis(100);
        self.inner.until(deadline, nap, |t| done(t)).ok()
    }
}

/// Whether the kernel's connector confirms a subscription here, asked once per process
/// (`Err` holds its refusal).
pub fn connector_available() -> Result<(), String> {
    static ANSWER: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    ANSWER
        .get_or_init(|| {
            ProcessWatch::subscribe(std::process::id() as i32)
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .clone()
}

impl Drop for ProcessWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_loop(
    sock: &OwnedFd,
    inner: &Watched<Tree>,
    tag: u32,
    acked: &AtomicBool,
    stop: &AtomicBool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::SeqCst) {
        let zombies = inner.lock().zombies();
        let wait_ms: u16 = if zombies.is_empty() { 50 } else { 2 };
        let mut fds = [nix::poll::PollFd::new(
            sock.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(wait_ms));
        loop {
            // SAFETY: recv into a buffer we own, non-blocking socket.
            let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                match io::Error::last_os_error().raw_os_error() {
                    Some(libc::ENOBUFS) => {
                        // Noted without a wake-up: the waiters look again anyway.
                        inner.lock().lost = true;
                        continue;
                    }
                    Some(libc::EINTR) => continue,
                    _ => break,
                }
            }
            let received = &buf[..n as usize];
            inner.update(|tree| {
                for_each_event(received, |what, ts, data, ack| {
                    if what == EV_NONE {
                        // The answer to a subscription: ack.err, and our tag plus one.
                        if u32_at(data, 0) == 0 && ack == tag.wrapping_add(1) {
                            acked.store(true, Ordering::SeqCst);
                        }
                    } else {
                        apply(tree, what, event_instant(ts), data);
                    }
                })
            });
        }
        check_reaped(inner);
    }
    // Balances the listener count on kernels that do not track it per socket.
    let _ = control(sock, PROC_CN_MCAST_IGNORE, tag);
}

/// Applies one fork, exec or exit event (`data` is the event's union, in 32-bit words).
fn apply(tree: &mut Tree, what: u32, at: Instant, data: &[u8]) {
    let word = |i: usize| u32_at(data, 4 * i);
    match what {
        EV_FORK => {
            let (parent_tgid, child_pid, child_tgid) =
                (word(1) as i32, word(2) as i32, word(3) as i32);
            if child_pid == child_tgid {
                tree.fork(parent_tgid, child_pid, at);
            }
        }
        EV_EXEC => {
            let tgid = word(1) as i32;
            let command = describe(tgid);
            if let Some(p) = tree.record_mut(tgid) {
                if p.execs.len() < MAX_EXECS {
                    p.execs.push(Exec { at, command });
                }
            }
        }
        EV_EXIT => {
            let (pid, tgid, code) = (word(0) as i32, word(1) as i32, word(2));
            if pid != tgid {
                return;
            }
            // An exited process forks no more; its pid may come back as a stranger.
            tree.members.remove(&pid);
            if let Some(p) = tree.record_mut(pid) {
                let exit = if code & 0x7f != 0 {
                    Exit::Signal((code & 0x7f) as i32)
                } else {
                    Exit::Code(((code >> 8) & 0xff) as i32)
                };
                p.exited = Some((at, exit));
            }
        }
        _ => {}
    }
}

/// What an exec became when the process was gone before it could be read.
pub const UNKNOWN: &str = "[?]";

/// A freshly exec'd process's command line, `[comm]` when only its zombie is left, or
/// [`UNKNOWN`].
fn describe(pid: i32) -> String {
    let cmd = super::procfs::cmdline(pid);
    if !cmd.is_empty() {
        return cmd.chars().take(200).collect();
    }
    match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => format!("[{}]", comm.trim()),
        // Exited and reaped before it could be read: it left no name behind.
        Err(_) => UNKNOWN.to_string(),
    }
}

/// Marks zombies whose /proc entry is gone (or belongs to a new process) as reaped.
fn check_reaped(inner: &Watched<Tree>) {
    let zombies = inner.lock().zombies();
    if zombies.is_empty() {
        return;
    }
    let now = Instant::now();
    let gone: Vec<i32> = zombies
        .into_iter()
        .filter(|pid| super::procfs::read(*pid).is_none_or(|p| !p.is_zombie()))
        .collect();
    if gone.is_empty() {
        return;
    }
    inner.update(|tree| {
        for pid in gone {
            if let Some(p) = tree.record_mut(pid) {
                p.reaped = Some(now);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_short_lived_child() {
        // Needs root in the initial network namespace; elsewhere there is nothing to test.
        let Ok(watch) = ProcessWatch::subscribe(std::process::id() as i32) else {
            return;
        };
        let Ok(child) = std::process::Command::new("/bin/sleep").arg("0.1").spawn() else {
            return;
        };
        let pid = child.id() as i32;
        let mut child = child;
        let _ = child.wait();
        let seen = watch.wait_for(Instant::now() + Duration::from_secs(5), |t| {
            t.get(pid).filter(|p| p.reaped.is_some()).cloned()
        });
        let record = seen.expect("fork, exec, exit and reaping of sleep were seen");
        assert_eq!(record.parent, std::process::id() as i32);
        assert!(record.execs.iter().any(|e| e.command == "/bin/sleep 0.1"));
        assert_eq!(record.exited.map(|(_, e)| e), Some(Exit::Code(0)));
    }

    #[test]
    fn reads_words_safely() {
        assert_eq!(u32_at(&[1, 0, 0, 0], 0), 1);
        assert_eq!(u32_at(&[1, 0], 0), 0);
        assert_eq!(netlink::u64_at(&[], 4), 0);
    }
}
