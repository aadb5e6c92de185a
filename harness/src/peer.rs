//! Unix sockets the grader listens on for processes inside a run: the PyQt driver
//! (`gui::channel`) and the harness's probes and shims (`probe`). A [`Listener`] accepts in a
//! thread of its own; who a connection comes from is what the kernel says ([`pid`]:
//! `SO_PEERCRED`, translated into the grader's pid namespace), never what the process says, and
//! whether it is believed is the caller's judgement. A believed connection sends JSON objects,
//! one per line ([`read_objects`]).

use serde_json::Value;
use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The accepting end of a socket; accepting stops when it is dropped (or [`Listener::stop`]).
#[derive(Debug)]
pub struct Listener {
    stop: Arc<AtomicBool>,
}

impl Listener {
    /// Listens on `socket` (its folder must exist), connectable by any uid, and hands each
    /// connection, blocking, to `accepted` in the accepting thread.
    pub fn bind(
        socket: &Path,
        accepted: impl FnMut(UnixStream) + Send + 'static,
    ) -> std::io::Result<Listener> {
        let listener = UnixListener::bind(socket)?;
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o777))?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        std::thread::spawn(move || accept_loop(&listener, &stopping, accepted));
        Ok(Listener { stop })
    }

    /// Accepts no more connections (within 50 ms).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Accepts connections until told to stop, checking every 50 ms.
fn accept_loop(listener: &UnixListener, stop: &AtomicBool, mut accepted: impl FnMut(UnixStream)) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    while !stop.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(50u8)).unwrap_or(0) == 0 {
            continue;
        }
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        let _ = stream.set_nonblocking(false);
        accepted(stream);
    }
}

/// The pid of the process at the other end of `stream`, as the kernel names it, in the
/// grader's pid namespace.
pub fn pid(stream: &UnixStream) -> nix::Result<i32> {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    getsockopt(stream, PeerCredentials).map(|c| c.pid())
}

/// Reads `stream` until it ends (or fails), handing `each` every line that is a JSON object;
/// other lines are passed over.
pub fn read_objects(stream: UnixStream, mut each: impl FnMut(Value)) {
    let reader = std::io::BufReader::new(stream);
    for line in reader.split(b'\n') {
        let Ok(line) = line else { break };
        let Ok(value) = serde_json::from_slice::<Value>(&line) else {
            continue;
        };
        if value.is_object() {
            each(value);
        }
    }
}
