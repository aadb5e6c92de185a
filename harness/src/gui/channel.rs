//! The socket between the harness and the driver inside a PyQt program: a unix socket in the
//! scenario's scratch folder that the grader listens on. [`Channel`] believes exactly one
//! connection: the first whose peer, as the kernel names it (`SO_PEERCRED`, translated into
//! the grader's pid namespace), is the run's program itself. The driver connects while Python
//! starts up, before any of the program's code runs; once it is believed the socket file is
//! removed, so nobody can connect again. Replies and events are JSON lines read by a thread
//! of the harness's own into a queue that waits use with a condition variable.

use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Most lines kept unread (a driver sends one per command, and a few events).
const MAX_QUEUED: usize = 1_000;
/// Connections held while the program's pid is not known yet.
const MAX_PENDING: usize = 16;

#[derive(Debug, Default)]
struct Inbox {
    /// Connections not yet judged, with their peer's pid.
    pending: Vec<(i32, UnixStream)>,
    /// Lines from the believed connection.
    lines: VecDeque<Value>,
    /// The believed connection reached end of file.
    closed: bool,
    /// Connections not believed, and why.
    rejected: Vec<String>,
}

#[derive(Debug, Default)]
struct Shared {
    inbox: Mutex<Inbox>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The harness's end of the driver socket.
#[derive(Debug)]
pub struct Channel {
    socket: PathBuf,
    shared: Arc<Shared>,
    writer: Option<UnixStream>,
}

impl Channel {
    /// Listens on `socket` (its folder must exist), connectable by any uid.
    pub fn listen(socket: &Path) -> std::io::Result<Channel> {
        let listener = UnixListener::bind(socket)?;
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o777))?;
        listener.set_nonblocking(true)?;
        let shared = Arc::new(Shared::default());
        let serving = shared.clone();
        std::thread::spawn(move || accept_loop(&listener, &serving));
        Ok(Channel {
            socket: socket.to_path_buf(),
            shared,
            writer: None,
        })
    }

    /// Believes the connection from `pid` (the program) once it arrives, until `deadline` or
    /// until `give_up` says so; then stops listening. False when none came.
    pub fn attach(&mut self, pid: i32, deadline: Instant, give_up: impl Fn() -> bool) -> bool {
        if self.writer.is_some() {
            return true;
        }
        let mut inbox = self.shared.lock();
        loop {
            if pid > 0 {
                if let Some(i) = inbox.pending.iter().position(|(p, _)| *p == pid) {
                    let (_, stream) = inbox.pending.remove(i);
                    let others: Vec<i32> = inbox.pending.drain(..).map(|(p, _)| p).collect();
                    for other in others {
                        inbox
                            .rejected
                            .push(format!("pid {other} is not the program"));
                    }
                    drop(inbox);
                    self.believe(stream);
                    return true;
                }
            }
            if give_up() {
                return false;
            }
            // Woken by a connection, or at least every 50 ms to ask `give_up` again.
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let nap = left.min(std::time::Duration::from_millis(50));
            inbox = match self.shared.changed.wait_timeout(inbox, nap) {
                Ok((guard, _)) => guard,
                Err(p) => p.into_inner().0,
            };
        }
    }

    fn believe(&mut self, stream: UnixStream) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = std::fs::remove_file(&self.socket);
        let _ = stream.set_nonblocking(false);
        if let Ok(reader) = stream.try_clone() {
            let shared = self.shared.clone();
            std::thread::spawn(move || receive(reader, &shared));
        }
        self.writer = Some(stream);
    }

    /// Sends one JSON line to the driver.
    pub fn send(&self, message: &Value) -> std::io::Result<()> {
        let mut stream = self
            .writer
            .as_ref()
            .ok_or_else(|| std::io::Error::other("no driver attached"))?;
        stream.write_all(format!("{message}\n").as_bytes())
    }

    /// Waits for the first queued line that `pick` accepts (removing it) until `deadline`.
    /// `Err(true)` when the driver's connection ended first, `Err(false)` at the deadline.
    pub fn wait(&self, deadline: Instant, pick: impl Fn(&Value) -> bool) -> Result<Value, bool> {
        let mut inbox = self.shared.lock();
        loop {
            if let Some(i) = inbox.lines.iter().position(&pick) {
                return inbox.lines.remove(i).ok_or(false);
            }
            if inbox.closed {
                return Err(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(false);
            }
            inbox = match self.shared.changed.wait_timeout(inbox, left) {
                Ok((guard, _)) => guard,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Why connections were not believed.
    pub fn rejected(&self) -> Vec<String> {
        self.shared.lock().rejected.clone()
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(s) = &self.writer {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Accepts connections (noting each peer's pid) until told to stop, checking every 50 ms.
fn accept_loop(listener: &UnixListener, shared: &Shared) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    use std::os::fd::AsFd;
    while !shared.stop.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(50u8)).unwrap_or(0) == 0 {
            continue;
        }
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        let pid = getsockopt(&stream, PeerCredentials).map_or(0, |c| c.pid());
        let mut inbox = shared.lock();
        if inbox.pending.len() < MAX_PENDING {
            inbox.pending.push((pid, stream));
        } else {
            inbox
                .rejected
                .push(format!("pid {pid}: too many connections"));
        }
        drop(inbox);
        shared.changed.notify_all();
    }
}

/// Reads the believed driver's lines until it closes.
fn receive(stream: UnixStream, shared: &Shared) {
    let reader = std::io::BufReader::new(stream);
    for line in reader.split(b'\n') {
        let Ok(line) = line else { break };
        let Ok(value) = serde_json::from_slice::<Value>(&line) else {
            continue;
        };
        let mut inbox = shared.lock();
        if inbox.lines.len() < MAX_QUEUED && value.is_object() {
            inbox.lines.push_back(value);
        }
        drop(inbox);
        shared.changed.notify_all();
    }
    shared.lock().closed = true;
    shared.changed.notify_all();
}
