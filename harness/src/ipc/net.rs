//! TCP inside a run's network namespace: whether a port listens (asked of the run's socket
//! table, `Run::sockets`), clients made in the namespace, reading with deadlines, resetting a
//! connection, and naming the processes that hold a port.

use crate::clock::Clock;
use crate::outcome::Failure;
use crate::run::{secs, Run};
use crate::sandbox::procfs;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// TCP states in `/proc/net/tcp`.
pub const ESTABLISHED: &str = "01";
pub const LISTEN: &str = "0A";
pub const TIME_WAIT: &str = "06";

/// The states of the TCP sockets on local `port` in the run's network: those of the IPv4
/// table, or of the IPv6 one when the IPv4 table has none (a server on `::`), in
/// `/proc/net/tcp`'s notation.
pub fn states(run: &Run, port: u16) -> Vec<String> {
    run.sockets()
        .on_port(port)
        .iter()
        .map(|s| format!("{:02X}", s.state))
        .collect()
}

/// Whether something listens on `port` in the run's network. Polled: asked of the kernel's
/// listening sockets alone, never a walk of every connection of the machine.
pub fn listening(run: &Run, port: u16) -> bool {
    run.sockets().listening(port)
}

/// Waits until something listens on `port` in the run's network (polled: there is no event
/// for it). A program that ends first, or never listens, is the failure returned.
pub fn wait_listening(
    run: &mut Run,
    port: u16,
    within: Duration,
    clock: Clock,
) -> Result<(), Failure> {
    let deadline = clock.deadline(within);
    let done = super::poll_state(deadline, || {
        if listening(run, port) {
            Some(true)
        } else {
            (!run.alive()).then_some(false)
        }
    });
    match done {
        Some(true) => Ok(()),
        _ => match super::ended(run) {
            Some(how) => Err(Failure::fail(format!(
                "it never listened on port {port}: {how}"
            ))),
            None => Err(Failure::timeout(format!(
                "expected it to listen on port {port} within {}; nothing listened there",
                secs(within)
            ))),
        },
    }
}

/// Connects to 127.0.0.1:`port` from inside the run's network.
pub fn connect(run: &Run, port: u16, within: Duration) -> std::io::Result<TcpStream> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    run.reach().tcp_connect(addr, within)
}

/// Connects to 127.0.0.1:`port` from local port `from`, the port of an earlier connection
/// whose other side waits in TIME_WAIT: the kernel lets the new SYN replace it (and, with
/// nothing listening, the exchange that refuses the connection ends it too). Either way
/// nothing of the earlier connection is left.
pub fn connect_from(
    run: &Run,
    port: u16,
    from: u16,
    within: Duration,
) -> std::io::Result<TcpStream> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let local = SocketAddr::from(([127, 0, 0, 1], from));
    run.reach().tcp_connect_from(addr, local, within)
}

/// Closes a client's connection to `port` after the server ended its side, so that nothing
/// is left in TIME_WAIT: the side that closes first waits there (up to 60 s), which is the
/// server's, and on a network shared by runs it would keep the next run of a server without
/// SO_REUSEADDR from binding. When the server's side is orphaned (the server closed its
/// descriptor: its `/proc/net/tcp` entry has inode 0), a reset ends it at once, as the kernel
/// does for any reset a closed connection receives. A server that shut its side down first
/// usually closes a moment later, and is given until `deadline` (polled: no event says so);
/// one still holding its socket then gets an orderly close, since a reset could fail its
/// next call.
pub fn close_leaving_nothing(run: &Run, port: u16, stream: TcpStream, deadline: Instant) {
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let orphaned = super::poll_state(deadline, || {
        (server_side(run, port, local.port()) == Some(0)).then_some(())
    });
    if orphaned.is_some() {
        let _ = reset(stream);
    }
}

/// The inode of the server's side of the connection from local `port` to the client's `peer`
/// port in the run's network (0 once no process holds it), if it is still there. Polled: one
/// lookup by addresses.
fn server_side(run: &Run, port: u16, peer: u16) -> Option<u32> {
    run.sockets().connection(port, peer).map(|s| s.inode)
}

/// Reads from `stream` until end of file, `enough` says the data is complete, or
/// `deadline`. Returns the bytes and whether end of file came. A reset is end of file too.
pub fn read_until(
    stream: &mut TcpStream,
    deadline: Instant,
    mut enough: impl FnMut(&[u8]) -> bool,
) -> (Vec<u8>, bool) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if enough(&data) {
            return (data, false);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return (data, false);
        }
        match stream.read(&mut buf) {
            Ok(0) => return (data, true),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (data, false)
            }
            Err(_) => return (data, true),
        }
    }
}

/// Reads until end of file or `deadline`.
pub fn read_to_eof(stream: &mut TcpStream, deadline: Instant) -> (Vec<u8>, bool) {
    read_until(stream, deadline, |_| false)
}

/// Sends `data` and reads the reply until it has `reply_len` bytes, end of file or the
/// deadline; then closes the sending side and waits (briefly) for the peer's close.
pub fn exchange(
    stream: &mut TcpStream,
    data: &[u8],
    reply_len: usize,
    deadline: Instant,
) -> std::io::Result<Vec<u8>> {
    stream.write_all(data)?;
    let (reply, _) = read_until(stream, deadline, |got| got.len() >= reply_len);
    Ok(reply)
}

/// Closes the sending side and waits until the peer closes too (or the deadline).
pub fn finish(stream: &mut TcpStream, deadline: Instant) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = read_to_eof(stream, deadline);
}

/// Closes `stream` with a reset (SO_LINGER 0) instead of an orderly close.
pub fn reset(stream: TcpStream) -> std::io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    nix::sys::socket::setsockopt(&stream, nix::sys::socket::sockopt::Linger, &linger)?;
    drop(stream);
    Ok(())
}

/// The run's processes that listen on `port`, described ("pid 12 (python3 server.py)").
pub fn holders(run: &Run, port: u16) -> Vec<String> {
    let sup = run.supervisor_pid().unwrap_or(-1);
    procfs::descendants(sup)
        .into_iter()
        .filter(|p| !p.is_zombie() && procfs::listening_ports(p.pid).contains(&port))
        .map(|p| {
            let cmd = procfs::cmdline(p.pid);
            format!(
                "pid {} ({})",
                p.pid,
                if cmd.is_empty() { p.comm } else { cmd }
            )
        })
        .collect()
}

/// `Ok` when nothing listens on `port` any more; else what still holds it.
pub fn released(run: &Run, port: u16) -> Result<(), Failure> {
    if !listening(run, port) {
        return Ok(());
    }
    let who = holders(run, port);
    Err(Failure::fail(if who.is_empty() {
        format!("the program ended, but port {port} still listens")
    } else {
        format!(
            "the program ended, but port {port} still listens, held by {}",
            who.join(", ")
        )
    }))
}
