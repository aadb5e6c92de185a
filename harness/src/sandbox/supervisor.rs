//! The per-run supervisor: a helper process that owns one program's whole process tree.
//!
//! The grader re-runs its own binary with [`SUPERVISOR_ARG`]; that process becomes a child
//! subreaper, optionally enters fresh network and mount namespaces, starts the program in its
//! own session with limits and an unprivileged identity, and from then on is the only one that
//! reaps: every descendant, orphaned daemons included, ends up its child. Reaping in one place
//! per run means parallel runs never steal each other's exit statuses.
//!
//! **Architecture Invariant:** the supervisor never outlives its control socket: when the
//! grader goes away (or says `Quit`), everything the program started is killed and reaped.

use super::protocol::{
    Command, Exit, Facility, Report, Spec, CHANNEL_FD, CONTROL_FD, SUPERVISOR_ARG,
};
use super::{landlock, namespaces, phases, procfs, rootfs};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Call first thing in `main` of every binary that grades: when started as a supervisor this
/// never returns.
pub fn dispatch() {
    if std::env::args().nth(1).as_deref() == Some(SUPERVISOR_ARG) {
        super::phases::exec_done();
        let result = run();
        super::phases::supervisor_exit(true);
        let code = match result {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("sysgrade supervisor: {e}");
                3
            }
        };
        std::process::exit(code);
    }
}

/// The control socket, shared by the threads that report on it.
pub(super) type Sender = Arc<Mutex<UnixStream>>;

pub(super) fn send(out: &Sender, report: &Report) {
    if let (Ok(mut s), Ok(line)) = (out.lock(), serde_json::to_string(report)) {
        let _ = writeln!(s, "{line}");
    }
}

fn run() -> std::io::Result<()> {
    // SAFETY: the grader passes the control socket as descriptor 3 and nothing else owns it.
    let control = unsafe { UnixStream::from_raw_fd(CONTROL_FD) };
    set_cloexec(CONTROL_FD);
    set_cloexec(CHANNEL_FD);
    let mut reader = BufReader::new(control.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let spec: Spec = serde_json::from_str(&line).map_err(std::io::Error::other)?;

    // Still single-threaded: namespaces first, then (with a pid namespace) the fork that
    // makes this process pid 1 of the run.
    let entered = phases::time("namespaces", || namespaces::enter(&spec));
    if entered.pid {
        phases::time("namespaces.fork", namespaces::become_init)?;
    }
    let out: Sender = Arc::new(Mutex::new(control));
    let mut problems = entered.problems;
    nix::sys::prctl::set_child_subreaper(true).map_err(std::io::Error::other)?;
    let view = &spec.sandbox.view;
    let host_proc = attempt(entered.mount, Facility::Filesystem, &mut problems, || {
        phases::time("private_root", || rootfs::enter(view))
    });
    let sandbox = &spec.sandbox;
    let ruleset = attempt(
        sandbox.landlock || sandbox.tcp_ports.is_some(),
        if sandbox.landlock {
            Facility::Landlock
        } else {
            Facility::NetworkRules
        },
        &mut problems,
        || phases::time("landlock", || landlock::prepare(sandbox)),
    );
    for (facility, error) in problems {
        send(&out, &Report::Problem { facility, error });
    }
    let host = HostProc::new(host_proc);
    send(
        &out,
        &Report::Ready {
            pid: host.own.unwrap_or(std::process::id() as i32),
        },
    );
    if spec.hold && !wait_for_go(&mut reader, &out) {
        return Ok(());
    }

    if entered.pid {
        namespaces::scatter_pids();
    }
    let started = Instant::now();
    let spawned = phases::time("spawn", || {
        super::spawn::spawn(&spec, ruleset.as_ref(), &out)
    });
    let main_pid = match spawned {
        Ok(pid) => pid,
        Err(e) => {
            send(
                &out,
                &Report::SpawnFailed {
                    error: e.to_string(),
                },
            );
            // std reaped the child whose exec failed: nothing is below us, and the grader's
            // teardown need not wait for the tree to empty.
            send(&out, &Report::Empty);
            wait_for_quit(&mut reader);
            return Ok(());
        }
    };
    release_stdio();
    // In a pid namespace the program's own pid means another process (or none) to the
    // grader: never report it as the grader's. Unknown is 0, which the grader never signals.
    let pid = if entered.pid {
        (0..100)
            .find_map(|_| {
                host.pid_of_child(main_pid).or_else(|| {
                    std::thread::yield_now();
                    None
                })
            })
            .unwrap_or(0)
    } else {
        main_pid
    };
    send(
        &out,
        &Report::Started {
            pid,
            own_pid: main_pid,
        },
    );
    let main = Arc::new(AtomicI32::new(main_pid));
    spawn_reaper(out.clone(), main.clone(), started);
    control_loop(
        &mut reader,
        &out,
        started + Duration::from_millis(spec.wall_limit_ms),
    );
    kill_all();
    // Give the reaper a moment to collect what was killed, then go.
    let deadline = Instant::now() + Duration::from_secs(2);
    let me = procfs::own_pid();
    while !procfs::descendants(me).is_empty() && Instant::now() < deadline {
        std::thread::yield_now();
        let _ = nix::poll::poll(&mut [], nix::poll::PollTimeout::from(5u8));
    }
    Ok(())
}

/// The grader's `/proc`, kept open across the move into the private root: the pids the
/// grader knows processes by.
struct HostProc {
    dir: Option<std::os::fd::OwnedFd>,
    /// This process's pid as the grader sees it.
    own: Option<i32>,
}

impl HostProc {
    fn new(dir: Option<std::os::fd::OwnedFd>) -> HostProc {
        let mut host = HostProc { dir, own: None };
        host.own = host.path("self").and_then(|p| procfs::pid_in_link(&p));
        host
    }

    fn path(&self, rest: &str) -> Option<std::path::PathBuf> {
        use std::os::fd::AsRawFd;
        let fd = self.dir.as_ref()?.as_raw_fd();
        Some(std::path::PathBuf::from(format!(
            "/proc/self/fd/{fd}/{rest}"
        )))
    }

    /// The grader's pid of our child `own` (its pid in our namespace): the child whose
    /// `NSpid` ends with `own`.
    fn pid_of_child(&self, own: i32) -> Option<i32> {
        let me = self.own?;
        let children =
            std::fs::read_to_string(self.path(&format!("{me}/task/{me}/children"))?).ok()?;
        children
            .split_whitespace()
            .filter_map(|c| c.parse::<i32>().ok())
            .find(|pid| {
                let status = self
                    .path(&format!("{pid}/status"))
                    .and_then(|p| std::fs::read_to_string(p).ok())
                    .unwrap_or_default();
                super::procfs::status_value(&status, "NSpid")
                    .and_then(|v| v.split_whitespace().last())
                    .and_then(|n| n.parse::<i32>().ok())
                    == Some(own)
            })
    }
}

/// `set_up()` when `wanted`. What fails is noted as `facility`'s problem, and the run goes on
/// without it.
fn attempt<T>(
    wanted: bool,
    facility: Facility,
    problems: &mut Vec<(Facility, String)>,
    set_up: impl FnOnce() -> Result<T, String>,
) -> Option<T> {
    if !wanted {
        return None;
    }
    set_up().map_err(|e| problems.push((facility, e))).ok()
}

fn set_cloexec(fd: i32) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
    }
}

/// Points the supervisor's own standard streams at /dev/null, so that end of output on the
/// grader's side means the program's tree closed them.
pub(super) fn release_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        use std::os::fd::AsRawFd;
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which we own.
            unsafe {
                libc::dup2(null.as_raw_fd(), fd);
            }
        }
    }
}

fn spawn_reaper(out: Sender, main: Arc<AtomicI32>, started: Instant) {
    std::thread::spawn(move || loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::__WALL)) {
            Ok(status) => {
                let (pid, exit) = match status {
                    WaitStatus::Exited(pid, code) => (pid, Exit::Code(code)),
                    WaitStatus::Signaled(pid, sig, _) => (pid, Exit::Signal(sig as i32)),
                    _ => continue,
                };
                super::proc_calls::on_reaped(pid.as_raw(), exit);
                let is_main = pid.as_raw() == main.load(Ordering::SeqCst);
                let at_ms = started.elapsed().as_millis() as u64;
                send(
                    &out,
                    &Report::Reaped {
                        pid: pid.as_raw(),
                        exit,
                        main: is_main,
                        at_ms,
                    },
                );
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => {
                // ECHILD: nothing is left below us, alive or zombie; nothing can appear again.
                send(&out, &Report::Empty);
                return;
            }
        }
    });
}

/// Serves commands until `Quit`, end of the control socket, or the wall-clock limit.
fn control_loop(reader: &mut BufReader<UnixStream>, out: &Sender, deadline: Instant) {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            kill_all();
            send(out, &Report::WallLimit);
            return wait_for_quit(reader);
        }
        let _ = reader.get_ref().set_read_timeout(Some(left));
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) => return,
            Ok(_) => match serde_json::from_str::<Command>(&line) {
                Ok(Command::KillAll) => {
                    let killed = kill_all();
                    send(out, &Report::KilledAll { killed });
                }
                Ok(Command::Quit) | Err(_) => return,
                Ok(other) => answer(&other, out),
            },
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Answers the grader's questions (a socket made in the run's network, a listener's
/// options); other commands are the caller's.
fn answer(cmd: &Command, out: &Sender) {
    match cmd {
        Command::TcpSocket { ipv6 } => super::channel::send_tcp_socket(*ipv6),
        Command::DiagSocket => super::channel::send_socket(super::sock_diag::socket().ok()),
        Command::ListenerOptions { port } => {
            let options = super::listener::inspect(*port);
            send(
                out,
                &Report::Listener {
                    port: *port,
                    options,
                },
            );
        }
        Command::Go | Command::KillAll | Command::Quit => {}
    }
}

/// Waits for `Go`; false when the grader quit or went away instead.
fn wait_for_go(reader: &mut BufReader<UnixStream>, out: &Sender) -> bool {
    let mut line = String::new();
    while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
        match serde_json::from_str::<Command>(&line) {
            Ok(Command::Go) => return true,
            Ok(Command::Quit) => return false,
            Ok(other) => answer(&other, out),
            Err(_) => {}
        }
        line.clear();
    }
    false
}

fn wait_for_quit(reader: &mut BufReader<UnixStream>) {
    let _ = reader.get_ref().set_read_timeout(None);
    let mut line = String::new();
    while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
        if matches!(serde_json::from_str::<Command>(&line), Ok(Command::Quit)) {
            return;
        }
        if matches!(serde_json::from_str::<Command>(&line), Ok(Command::KillAll)) {
            kill_all();
        }
        line.clear();
    }
}

/// Stops then kills every live descendant, repeating until none is left alive (a forking
/// program can add children between two scans). Returns how many were signalled.
pub fn kill_all() -> usize {
    let me = procfs::own_pid();
    let mut killed = 0;
    for _ in 0..50 {
        let alive: Vec<i32> = procfs::descendants(me)
            .into_iter()
            .filter(|p| !p.is_zombie())
            .map(|p| p.pid)
            .collect();
        if alive.is_empty() {
            break;
        }
        for pid in &alive {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGSTOP);
        }
        for pid in &alive {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        }
        killed += alive.len();
        let _ = nix::poll::poll(&mut [], nix::poll::PollTimeout::from(2u8));
    }
    killed
}
