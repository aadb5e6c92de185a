//! Descriptors from a run's supervisor to the grader: TCP sockets made inside the run's
//! network namespace, so that the grader's own clients and servers (a client of a student's
//! server, a server for a student's client) live there, even where the grader may not enter
//! that namespace itself (it belongs to a user namespace, and the grader is multi-threaded).
//!
//! The grader asks with `Command::TcpSocket` (or `DiagSocket`) on the control socket; the supervisor answers on
//! the channel (descriptor 4) with one byte and, on success, the socket as `SCM_RIGHTS`.

use super::protocol::CHANNEL_FD;
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Supervisor side: makes a TCP socket and sends it (see [`send_socket`]).
pub fn send_tcp_socket(ipv6: bool) {
    let domain = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: socket(2) with constant arguments; the descriptor is owned below.
    let fd = unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    send_socket((fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) }));
}

/// Supervisor side: sends `socket` (a byte `0` without one, when it could not be made).
pub fn send_socket(socket: Option<OwnedFd>) {
    let fds: Vec<RawFd> = socket.iter().map(AsRawFd::as_raw_fd).collect();
    let byte = [u8::from(socket.is_some())];
    let iov = [IoSlice::new(&byte)];
    let cmsgs = [ControlMessage::ScmRights(&fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &cmsgs };
    let _ = sendmsg::<()>(CHANNEL_FD, &iov, cmsgs, MsgFlags::empty(), None);
}

/// Grader side: waits (at most `within`) for the supervisor's answer.
pub fn receive(channel: &UnixStream, within: Duration) -> std::io::Result<OwnedFd> {
    channel.set_read_timeout(Some(within))?;
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        channel.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(std::io::Error::from)?;
    if msg.bytes == 0 {
        return Err(std::io::Error::other("the run's supervisor is gone"));
    }
    let mut received = None;
    for cmsg in msg.cmsgs().map_err(std::io::Error::from)? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            for fd in fds {
                // SAFETY: a descriptor just received, owned by nobody else.
                let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                received.get_or_insert(owned);
            }
        }
    }
    received.ok_or_else(|| std::io::Error::other("the supervisor could not make a socket"))
}
