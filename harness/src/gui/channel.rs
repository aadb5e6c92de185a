//! The socket between the harness and the driver inside a PyQt program: a unix socket in the
//! scenario's scratch folder that the grader listens on. [`Channel`] believes exactly one
//! connection: the first whose peer, as the kernel names it (`SO_PEERCRED`, translated into
//! the grader's pid namespace), is the run's program itself. The driver connects while Python
//! starts up, before any of the program's code runs; once it is believed the socket file is
//! removed, so nobody can connect again. Replies and events are JSON lines read by a thread
//! of the harness's own into a queue that waits use with a condition variable.

use crate::peer::{self, Listener};
use crate::wait::Watched;
use serde_json::Value;
use std::collections::VecDeque;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// The harness's end of the driver socket.
#[derive(Debug)]
pub struct Channel {
    socket: PathBuf,
    inbox: Arc<Watched<Inbox>>,
    listener: Listener,
    writer: Option<UnixStream>,
}

impl Channel {
    /// Listens on `socket` (its folder must exist), connectable by any uid.
    pub fn listen(socket: &Path) -> std::io::Result<Channel> {
        let inbox = Arc::new(Watched::default());
        let serving = inbox.clone();
        let listener = Listener::bind(socket, move |stream| accepted(stream, &serving))?;
        Ok(Channel {
            socket: socket.to_path_buf(),
            inbox,
            listener,
            writer: None,
        })
    }

    /// Believes the connection from `pid` (the program) once it arrives, until `deadline` or
    /// until `give_up` says so; then stops listening. False when none came.
    pub fn attach(&mut self, pid: i32, deadline: Instant, give_up: impl Fn() -> bool) -> bool {
        if self.writer.is_some() {
            return true;
        }
        // Woken by a connection, or at least every 50 ms to ask `give_up` again.
        let nap = Duration::from_millis(50);
        let believed = self.inbox.until(deadline, nap, |inbox| {
            if pid > 0 {
                if let Some(i) = inbox.pending.iter().position(|(p, _)| *p == pid) {
                    let (_, stream) = inbox.pending.remove(i);
                    let others: Vec<i32> = inbox.pending.drain(..).map(|(p, _)| p).collect();
                    for other in others {
                        inbox
                            .rejected
                            .push(format!("pid {other} is not the program"));
                    }
                    return Some(Some(stream));
                }
            }
            give_up().then_some(None)
        });
        let Some(stream) = believed.ok().flatten() else {
            return false;
        };
        self.believe(stream);
        true
    }

    fn believe(&mut self, stream: UnixStream) {
        self.listener.stop();
        let _ = std::fs::remove_file(&self.socket);
        if let Ok(reader) = stream.try_clone() {
            let inbox = self.inbox.clone();
            std::thread::spawn(move || receive(reader, &inbox));
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

    /// A closer for the run's teardown: asks the driver to close every window, on a
    /// descriptor of its own, so it works after the [`Channel`] is gone. Its answer is not
    /// awaited: the teardown awaits the program's exit.
    pub fn closer(&self) -> Option<crate::run::Closer> {
        let stream = self.writer.as_ref()?.try_clone().ok()?;
        Some(Box::new(move || {
            let mut stream = stream;
            stream
                .write_all(b"{\"cmd\": \"close\", \"id\": \"teardown\"}\n")
                .map_err(|e| format!("its driver's connection: {e}"))
        }))
    }

    /// Waits for the first queued line that `pick` accepts (removing it) until `deadline`.
    /// `Err(true)` when the driver's connection ended first, `Err(false)` at the deadline.
    pub fn wait(&self, deadline: Instant, pick: impl Fn(&Value) -> bool) -> Result<Value, bool> {
        self.inbox
            .until(deadline, Duration::MAX, |inbox| {
                if let Some(i) = inbox.lines.iter().position(&pick) {
                    return Some(inbox.lines.remove(i).ok_or(false));
                }
                inbox.closed.then_some(Err(true))
            })
            .unwrap_or(Err(false))
    }

    /// Why connections were not believed.
    pub fn rejected(&self) -> Vec<String> {
        self.inbox.lock().rejected.clone()
    }
}

impl Drop for Channel {
    /// The connection itself stays open while a closer or the reading thread holds it: it
    /// ends with the program, which the run's teardown ends.
    fn drop(&mut self) {
        self.listener.stop();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Holds a new connection with its peer's pid until [`Channel::attach`] judges it.
fn accepted(stream: UnixStream, inbox: &Watched<Inbox>) {
    let pid = peer::pid(&stream).unwrap_or(0);
    inbox.update(|inbox| {
        if inbox.pending.len() < MAX_PENDING {
            inbox.pending.push((pid, stream));
        } else {
            inbox
                .rejected
                .push(format!("pid {pid}: too many connections"));
        }
    });
}

/// Reads the believed driver's lines until it closes.
fn receive(stream: UnixStream, inbox: &Watched<Inbox>) {
    peer::read_objects(stream, |value| {
        inbox.update(|inbox| {
            if inbox.lines.len() < MAX_QUEUED {
                inbox.lines.push_back(value);
            }
        });
    });
    inbox.update(|inbox| inbox.closed = true);
}
