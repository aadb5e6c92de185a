//! The process events of a run without the kernel's connector (`Spec::observe_processes`):
//! the supervisor follows the program's tree through the seccomp filter `removals` installs
//! between fork and exec, which then also turns these system calls into user notifications:
//!
//! - `clone`, `fork`, `vfork`, `clone3`: a parent about to fork (the time of a child's fork);
//! - `execve`, `execveat`: an exec about to happen, with its argument vector read from the
//!   caller's memory. It counts once it succeeded: the process runs another executable (or
//!   shows the new command line) afterwards; a later call of the same process, or its exit,
//!   with neither changed means it failed (`execvp` trying each folder of PATH);
//! - `exit_group`: an exit, with its code (the argument);
//! - `wait4`, `waitid`: before the caller reaps, its zombie children are read (`stat`'s
//!   exit code: a child killed by a signal makes no call of its own). A wait that would
//!   block is held until a child is a zombie or stopped (at most 5 s), then goes on: the
//!   kernel restarts a held call that a signal interrupts, as it would a blocked wait.
//!
//! A thread ([`poll`]) looks every few milliseconds for what makes no call: new children
//! of the processes known (the fork itself, timed by the parent's last `clone`, or by `stat`'s
//! start time), zombies, and zombies gone (reaped). The supervisor's own reaping of orphans
//! is fed in by its reaper ([`on_reaped`]). Every call continues unchanged
//! (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`) after a short pause. Pids are the program's own (the
//! supervisor's `/proc`); times are `CLOCK_MONOTONIC`. Each event is a `Report::Process`.
//!
//! Limits: a process ending through the last thread's `exit` (not `exit_group`) and reaped
//! within a poll is seen reaped without an exit; an exec of the very executable and command
//! line already running is not told from a failed one.

mod read;

use super::protocol::{Exit, ProcEvent, Report};
use super::supervisor::{send, Sender};
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The system calls watched, added to the removals' filter.
#[cfg(target_arch = "x86_64")]
pub const WATCHED: &[i64] = &[
    libc::SYS_clone,
    libc::SYS_fork,
    libc::SYS_vfork,
    libc::SYS_clone3,
    libc::SYS_execve,
    libc::SYS_execveat,
    libc::SYS_exit_group,
    libc::SYS_wait4,
    libc::SYS_waitid,
];
#[cfg(not(target_arch = "x86_64"))]
pub const WATCHED: &[i64] = &[
    libc::SYS_clone,
    libc::SYS_clone3,
    libc::SYS_execve,
    libc::SYS_execveat,
    libc::SYS_exit_group,
    libc::SYS_wait4,
    libc::SYS_waitid,
];

/// Most processes followed in one run.
const MAX_PROCS: usize = 4096;
/// Clone times kept per parent.
const MAX_CLONES: usize = 8;
/// How often the tree is looked at; less often when it is large.
const POLL: Duration = Duration::from_millis(2);
const POLL_LARGE: Duration = Duration::from_millis(20);
const LARGE: usize = 16;

static TRACKER: OnceLock<Tracker> = OnceLock::new();

struct Tracker {
    out: Sender,
    /// The supervisor, as the program's processes see it.
    root: i32,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    procs: HashMap<i32, Known>,
    /// When each process last asked to fork, oldest first.
    clones: HashMap<i32, VecDeque<u64>>,
}

#[derive(Default)]
struct Known {
    exited: bool,
    reaped: bool,
    start_ticks: u64,
    exec: Option<Pending>,
}

/// An exec asked for, not yet known to have succeeded.
struct Pending {
    at_ns: u64,
    argv: Option<String>,
    exe: Option<(u64, u64)>,
    cmdline: String,
}

/// Starts following the tree below this process (the supervisor, once the program is
/// started): the poller thread takes `ids` as its file-system identity, as the serving
/// thread does. Once per process.
pub fn start(out: Sender, ids: Option<(u32, u32)>) {
    let root = super::procfs::own_pid();
    let tracker = Tracker {
        out,
        root,
        state: Mutex::new(State::default()),
    };
    tracker.emit(ProcEvent::Root { pid: root });
    if TRACKER.set(tracker).is_err() {
        return;
    }
    std::thread::spawn(move || {
        super::tap::take_identity(ids);
        poll();
    });
}

fn with_state<R>(f: impl FnOnce(&Tracker, &mut State) -> R) -> Option<R> {
    let t = TRACKER.get()?;
    let mut st = t.state.lock().unwrap_or_else(|p| p.into_inner());
    Some(f(t, &mut st))
}

/// What to do with a watched call once it is recorded.
pub(super) enum Answer {
    Continue,
    /// A wait that would block: held until its caller has a child to reap, so that the
    /// child's exit is read before it is reaped ([`may_go`]).
    Hold(Held),
}

/// A wait held back.
pub(super) struct Held {
    pub id: u64,
    pid: i32,
    since: std::time::Instant,
}

/// A held wait goes on after this long at most (it then blocks in the kernel as usual).
const HOLD_MAX: Duration = Duration::from_secs(5);

/// Whether a held wait may go on: its caller has a zombie or stopped child, or none left
/// (the zombies' exits are recorded first), or it was held [`HOLD_MAX`].
pub(super) fn may_go(h: &Held) -> bool {
    h.since.elapsed() >= HOLD_MAX
        || with_state(|t, st| {
            t.look_at_children(st, h.pid);
            ready_to_reap(h.pid)
        })
        .unwrap_or(true)
}

/// Whether a wait of `pid` returns at once: a child is a zombie or stopped, or none is left.
fn ready_to_reap(pid: i32) -> bool {
    let children = read::children(pid);
    children.is_empty()
        || children.iter().any(|c| {
            read::stat(*c).is_none_or(|s| s.is_zombie() || s.state == 'T' || s.state == 't')
        })
}

/// One watched call, before it continues.
pub(super) fn on_call(req: &libc::seccomp_notif) -> Answer {
    let tid = req.pid as i32;
    let Some(pid) = read::tgid(tid) else {
        return Answer::Continue;
    };
    let (nr, args) = (i64::from(req.data.nr), req.data.args);
    let blocking = match nr {
        libc::SYS_wait4 => args[2] & libc::WNOHANG as u64 == 0,
        libc::SYS_waitid => args[3] & libc::WNOHANG as u64 == 0,
        _ => false,
    };
    let recorded = with_state(|t, st| {
        if !t.known(st, pid) {
            return false;
        }
        let now = read::now_ns();
        t.settle_exec(st, pid, true);
        match nr {
            libc::SYS_execve | libc::SYS_execveat => {
                let address = if nr == libc::SYS_execve {
                    args[1]
                } else {
                    args[2]
                };
                let pending = Pending {
                    at_ns: now,
                    argv: read::argv(tid, address),
                    exe: read::exe(pid),
                    cmdline: super::procfs::cmdline(pid),
                };
                if let Some(k) = st.procs.get_mut(&pid) {
                    k.exec = Some(pending);
                }
            }
            libc::SYS_exit_group => t.exit(st, pid, Exit::Code((args[0] & 0xff) as i32), now),
            libc::SYS_wait4 | libc::SYS_waitid => t.look_at_children(st, pid),
            _ => {
                let clones = st.clones.entry(pid).or_default();
                if clones.len() >= MAX_CLONES {
                    clones.pop_front();
                }
                clones.push_back(now);
            }
        }
        true
    });
    if recorded == Some(true) && blocking && !ready_to_reap(pid) {
        return Answer::Hold(Held {
            id: req.id,
            pid,
            since: std::time::Instant::now(),
        });
    }
    Answer::Continue
}

/// Whether the filter can be installed and served here: `/bin/true` started with it, as a
/// run's program is (for `sysgrade doctor`).
pub fn probe() -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let tap = super::tap::Tap::new(super::tap::Watching {
        removals: false,
        processes: true,
    })?;
    let installer = tap.installer();
    let (reports, _kept) =
        std::os::unix::net::UnixStream::pair().map_err(|e| format!("a socket pair: {e}"))?;
    let serving = tap.serve(std::sync::Arc::new(Mutex::new(reports)), None);
    let mut cmd = std::process::Command::new("/bin/true");
    // SAFETY: the installer makes async-signal-safe calls only (prctl, seccomp, sendmsg).
    unsafe {
        cmd.pre_exec(move || {
            installer.install();
            Ok(())
        });
    }
    let child = cmd.spawn();
    let confirmed = serving.confirm();
    let mut child = child.map_err(|e| format!("starting /bin/true: {e}"))?;
    let _ = child.wait();
    confirmed
}

/// A process the supervisor reaped (`pid` in its own namespace).
pub fn on_reaped(pid: i32, exit: Exit) {
    with_state(|t, st| {
        let now = read::now_ns();
        t.exit(st, pid, exit, now);
        t.reaped(st, pid, now);
    });
}

/// Looks at the tree every [`POLL`] for as long as the supervisor lives.
fn poll() {
    loop {
        let mut large = false;
        with_state(|t, st| {
            t.look(st);
            large = st.procs.values().filter(|k| !k.reaped).count() > LARGE;
        });
        std::thread::sleep(if large { POLL_LARGE } else { POLL });
    }
}

impl Tracker {
    fn emit(&self, event: ProcEvent) {
        send(&self.out, &Report::Process { event });
    }

    /// Whether `pid` is the program or one of its descendants, recording it (and its fork)
    /// the first time.
    fn known(&self, st: &mut State, pid: i32) -> bool {
        self.learn(st, pid, 0)
    }

    fn learn(&self, st: &mut State, pid: i32, depth: usize) -> bool {
        if st.procs.contains_key(&pid) {
            return true;
        }
        if pid == self.root || depth > 64 || st.procs.len() >= MAX_PROCS {
            return false;
        }
        let Some(stat) = read::stat(pid) else {
            return false;
        };
        if stat.ppid != self.root && !self.learn(st, stat.ppid, depth + 1) {
            return false;
        }
        let at_ns = fork_time(st, stat.ppid, read::start_ns(stat.start_ticks));
        st.procs.insert(
            pid,
            Known {
                start_ticks: stat.start_ticks,
                ..Known::default()
            },
        );
        self.emit(ProcEvent::Fork {
            pid,
            parent: stat.ppid,
            at_ns,
        });
        true
    }

    /// Decides a pending exec of `pid`: it succeeded when the process now runs another
    /// executable or shows another command line; with `last` (a later call, an exit), it
    /// failed otherwise.
    fn settle_exec(&self, st: &mut State, pid: i32, last: bool) {
        let Some(k) = st.procs.get_mut(&pid) else {
            return;
        };
        let Some(p) = &k.exec else { return };
        let cmdline = super::procfs::cmdline(pid);
        let changed = read::exe(pid).is_some_and(|e| Some(e) != p.exe)
            || (!cmdline.is_empty() && cmdline != p.cmdline);
        if !changed && !last {
            return;
        }
        let Some(p) = k.exec.take() else { return };
        if changed {
            let command = if cmdline.is_empty() {
                p.argv
                    .unwrap_or_else(|| super::proc_events::UNKNOWN.to_string())
            } else {
                cmdline
            };
            let command = command.chars().take(200).collect();
            self.emit(ProcEvent::Exec {
                pid,
                command,
                at_ns: p.at_ns,
            });
        }
    }

    fn exit(&self, st: &mut State, pid: i32, exit: Exit, at_ns: u64) {
        self.settle_exec(st, pid, true);
        if let Some(k) = st.procs.get_mut(&pid).filter(|k| !k.exited) {
            k.exited = true;
            self.emit(ProcEvent::Exit { pid, exit, at_ns });
        }
    }

    fn reaped(&self, st: &mut State, pid: i32, at_ns: u64) {
        if let Some(k) = st.procs.get_mut(&pid).filter(|k| !k.reaped) {
            k.reaped = true;
            k.exec = None;
            st.clones.remove(&pid);
            self.emit(ProcEvent::Reaped { pid, at_ns });
        }
    }

    /// Learns `pid`'s children, and the exits of those that are zombies.
    fn look_at_children(&self, st: &mut State, pid: i32) {
        for child in read::children(pid) {
            if !self.known(st, child) {
                continue;
            }
            if let Some(stat) = read::stat(child).filter(read::Stat::is_zombie) {
                self.exit(st, child, wait_status(stat.exit_code), read::now_ns());
            }
        }
    }

    /// One look at the whole tree: new children, execs done, zombies, zombies gone.
    fn look(&self, st: &mut State) {
        for child in read::children(self.root) {
            self.known(st, child);
        }
        let live: Vec<(i32, u64)> = st
            .procs
            .iter()
            .filter(|(_, k)| !k.reaped)
            .map(|(pid, k)| (*pid, k.start_ticks))
            .collect();
        for (pid, start) in live {
            let now = read::now_ns();
            match read::stat(pid).filter(|s| s.start_ticks == start) {
                None => {
                    self.settle_exec(st, pid, true);
                    self.reaped(st, pid, now);
                }
                Some(stat) if stat.is_zombie() => {
                    self.exit(st, pid, wait_status(stat.exit_code), now);
                }
                Some(_) => {
                    self.settle_exec(st, pid, false);
                    self.look_at_children(st, pid);
                }
            }
        }
    }
}

/// A wait status (`stat`'s exit code) as an [`Exit`].
fn wait_status(code: i32) -> Exit {
    if code & 0x7f != 0 {
        Exit::Signal(code & 0x7f)
    } else {
        Exit::Code((code >> 8) & 0xff)
    }
}

/// When a child of `parent` that started at `start_ns` (to a clock tick) was forked: the
/// parent's last request to fork before then, or the start time itself.
fn fork_time(st: &mut State, parent: i32, start_ns: u64) -> u64 {
    let tick = read::tick_ns();
    let Some(clones) = st.clones.get_mut(&parent) else {
        return start_ns;
    };
    let fits = |c: &u64| *c + tick >= start_ns && *c <= start_ns + tick;
    match clones.iter().rposition(fits) {
        Some(i) => clones.remove(i).unwrap_or(start_ns),
        None => start_ns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_statuses() {
        assert_eq!(wait_status(0), Exit::Code(0));
        assert_eq!(wait_status(3 << 8), Exit::Code(3));
        assert_eq!(wait_status(9), Exit::Signal(9));
        assert_eq!(wait_status(6 | 0x80), Exit::Signal(6));
    }

    #[test]
    fn a_fork_is_timed_by_the_parents_last_clone_before_its_start() {
        let tick = read::tick_ns();
        let mut st = State::default();
        st.clones
            .insert(7, VecDeque::from([1_000 * tick, 2_000 * tick + 5]));
        assert_eq!(fork_time(&mut st, 7, 2_000 * tick), 2_000 * tick + 5);
        // Used once: the next child of the same parent takes the earlier one, if it fits.
        assert_eq!(fork_time(&mut st, 7, 2_000 * tick), 2_000 * tick);
        assert_eq!(fork_time(&mut st, 7, 1_000 * tick), 1_000 * tick);
        assert_eq!(fork_time(&mut st, 8, 5), 5);
    }
}
