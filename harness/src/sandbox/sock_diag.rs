//! The kernel's socket table asked through `NETLINK_SOCK_DIAG` (what `ss` uses): one
//! connection looked up by its addresses, or the listening sockets alone.
//!
//! Reading `/proc/<pid>/net/tcp` walks the whole connection hash of the machine (262,144
//! buckets on a 24 GiB one, shared by every network namespace) at each read call: about
//! 9 ms of CPU, measured, and polled while a server serves 30 clients. A lookup by addresses
//! is one hash probe, and a dump of listening sockets never touches that hash.
//!
//! A netlink socket answers for the network namespace it was made in: the run's supervisor
//! makes it there (`Command::DiagSocket`) when the run has a network of its own.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Mutex;
use std::time::Duration;

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const HEADER: usize = 16;
const REQUEST: usize = 56;
/// `inet_diag_msg`: family, state, timer, retrans, the socket id (48 bytes), expires,
/// queues, uid, inode.
const MESSAGE: usize = 72;
/// `TCP_LISTEN` in the kernel's numbering (`0A` in `/proc/net/tcp`).
pub const LISTEN: u8 = 10;
const ALL_STATES: u32 = 0xfff;
const LOOPBACK: [u8; 4] = [127, 0, 0, 1];

/// A socket as the kernel describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Diag {
    pub family: u8,
    /// The kernel's TCP state (1 ESTABLISHED, 6 TIME_WAIT, 10 LISTEN).
    pub state: u8,
    pub local_port: u16,
    pub remote_port: u16,
    /// 0 once no process holds the socket.
    pub inode: u32,
}

/// A `NETLINK_SOCK_DIAG` socket of one network namespace.
#[derive(Debug)]
pub struct SockDiag {
    fd: Mutex<OwnedFd>,
}

/// A fresh `NETLINK_SOCK_DIAG` socket in this process's network namespace.
pub fn socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) with constant arguments; the descriptor is owned at once.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a descriptor just made, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl SockDiag {
    /// Wraps a `NETLINK_SOCK_DIAG` socket (see [`socket`]); answers wait at most [`ANSWER`].
    pub fn new(fd: OwnedFd) -> io::Result<SockDiag> {
        let timeout = nix::sys::time::TimeVal::new(ANSWER.as_secs() as _, 0);
        nix::sys::socket::setsockopt(&fd, nix::sys::socket::sockopt::ReceiveTimeout, &timeout)?;
        Ok(SockDiag { fd: Mutex::new(fd) })
    }

    /// The TCP connection from 127.0.0.1:`local` to 127.0.0.1:`remote`, if the kernel still
    /// has it (in any state but LISTEN, TIME_WAIT included). One hash probe; dual-stack
    /// sockets on `::` are found too.
    pub fn connection(&self, local: u16, remote: u16) -> io::Result<Option<Diag>> {
        let request = request(libc::AF_INET as u8, ALL_STATES, Some((local, remote)));
        let found = self.ask(&request, NLM_F_REQUEST)?;
        // Without the connection the kernel answers with the socket listening on the port.
        Ok(found
            .into_iter()
            .find(|d| d.state != LISTEN && d.local_port == local && d.remote_port == remote))
    }

    /// The TCP sockets listening on `port`, IPv4 and IPv6.
    pub fn listeners(&self, port: u16) -> io::Result<Vec<Diag>> {
        let mut found = Vec::new();
        for family in [libc::AF_INET, libc::AF_INET6] {
            let request = request(family as u8, 1 << LISTEN, None);
            let answer = self.ask(&request, NLM_F_REQUEST | NLM_F_DUMP)?;
            found.extend(answer.into_iter().filter(|d| d.local_port == port));
        }
        Ok(found)
    }

    /// The TCP sockets on local `port` of the IPv4 table, or of the IPv6 one when the IPv4
    /// table has none (a server on `::`), as `/proc/net/tcp` would list them.
    pub fn on_port(&self, port: u16) -> io::Result<Vec<Diag>> {
        for family in [libc::AF_INET, libc::AF_INET6] {
            let request = request(family as u8, ALL_STATES, None);
            let found: Vec<Diag> = self
                .ask(&request, NLM_F_REQUEST | NLM_F_DUMP)?
                .into_iter()
                .filter(|d| d.local_port == port)
                .collect();
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    /// Sends one request and collects the sockets of the answer (all parts of a dump).
    fn ask(&self, body: &[u8; REQUEST], flags: u16) -> io::Result<Vec<Diag>> {
        let fd = self
            .fd
            .lock()
            .map_err(|_| io::Error::other("sock_diag socket poisoned"))?;
        let mut message = Vec::with_capacity(HEADER + REQUEST);
        message.extend_from_slice(&((HEADER + REQUEST) as u32).to_ne_bytes());
        message.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        message.extend_from_slice(&flags.to_ne_bytes());
        message.extend_from_slice(&1u32.to_ne_bytes());
        message.extend_from_slice(&0u32.to_ne_bytes());
        message.extend_from_slice(body);
        // SAFETY: send(2) of a buffer we own, on a descriptor we hold.
        let sent = unsafe { libc::send(fd.as_raw_fd(), message.as_ptr().cast(), message.len(), 0) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        let dump = flags & NLM_F_DUMP != 0;
        let mut found = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: recv(2) into a buffer we own, on a descriptor we hold.
            let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            match parse(&buf[..n as usize], &mut found)? {
                Parsed::Done => return Ok(found),
                Parsed::More if !dump => return Ok(found),
                Parsed::More => {}
            }
        }
    }
}

/// An `inet_diag_req_v2` for TCP: `family`, the `states` wanted (a bit per state), and for
/// a lookup the local and remote ports on 127.0.0.1.
fn request(family: u8, states: u32, ports: Option<(u16, u16)>) -> [u8; REQUEST] {
    let mut r = [0u8; REQUEST];
    r[0] = family;
    r[1] = libc::IPPROTO_TCP as u8;
    r[4..8].copy_from_slice(&states.to_ne_bytes());
    if let Some((local, remote)) = ports {
        r[8..10].copy_from_slice(&local.to_be_bytes());
        r[10..12].copy_from_slice(&remote.to_be_bytes());
        r[12..16].copy_from_slice(&LOOPBACK);
        r[28..32].copy_from_slice(&LOOPBACK);
    }
    // No cookie to match (INET_DIAG_NOCOOKIE).
    r[48..56].copy_from_slice(&[0xff; 8]);
    r
}

enum Parsed {
    /// The end of a dump, or an error answer.
    Done,
    More,
}

/// Reads the netlink messages in `buf` into `found`. An error answer of "no such socket" is
/// an empty answer; any other is the error.
fn parse(buf: &[u8], found: &mut Vec<Diag>) -> io::Result<Parsed> {
    let mut at = 0;
    while at + HEADER <= buf.len() {
        let u32_at = |i: usize| u32::from_ne_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        let len = u32_at(at) as usize;
        let kind = u16::from_ne_bytes([buf[at + 4], buf[at + 5]]);
        if len < HEADER || at + len > buf.len() {
            return Err(io::Error::other("a malformed sock_diag answer"));
        }
        let body = &buf[at + HEADER..at + len];
        match kind {
            NLMSG_DONE => return Ok(Parsed::Done),
            NLMSG_ERROR => {
                let code = body
                    .get(..4)
                    .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                return match -code {
                    0 | libc::ENOENT => Ok(Parsed::Done),
                    errno => Err(io::Error::from_raw_os_error(errno)),
                };
            }
            SOCK_DIAG_BY_FAMILY if body.len() >= MESSAGE => found.push(Diag {
                family: body[0],
                state: body[1],
                local_port: u16::from_be_bytes([body[4], body[5]]),
                remote_port: u16::from_be_bytes([body[6], body[7]]),
                inode: u32::from_ne_bytes([body[68], body[69], body[70], body[71]]),
            }),
            _ => {}
        }
        at += (len + 3) & !3;
    }
    Ok(Parsed::More)
}

/// How long one answer may take (the socket's receive timeout).
pub const ANSWER: Duration = Duration::from_secs(2);

/// The TCP sockets of one network namespace, asked through `NETLINK_SOCK_DIAG` where the
/// kernel answers, else read from `/proc/<who>/net/tcp` and `tcp6` (every question falls back
/// on its own, here and nowhere else).
#[derive(Debug)]
pub struct SocketTable {
    diag: Option<SockDiag>,
    /// The process whose `/proc/<who>/net/` is read without netlink (a pid or `self`).
    who: String,
}

impl SocketTable {
    /// The table seen through `diag` (when there is one), else through `/proc/<who>/net/`.
    pub fn new(diag: Option<SockDiag>, who: impl std::fmt::Display) -> SocketTable {
        SocketTable {
            diag,
            who: who.to_string(),
        }
    }

    /// This process's own network.
    pub fn here() -> SocketTable {
        SocketTable::new(socket().and_then(SockDiag::new).ok(), "self")
    }

    /// See [`SockDiag::on_port`].
    pub fn on_port(&self, port: u16) -> Vec<Diag> {
        if let Some(found) = self.diag.as_ref().and_then(|d| d.on_port(port).ok()) {
            return found;
        }
        ["tcp", "tcp6"]
            .iter()
            .map(|table| self.read(table, |s| s.local_port == port))
            .find(|found| !found.is_empty())
            .unwrap_or_default()
    }

    /// The TCP sockets listening on `port`, IPv4 and IPv6.
    pub fn listeners(&self, port: u16) -> Vec<Diag> {
        if let Some(found) = self.diag.as_ref().and_then(|d| d.listeners(port).ok()) {
            return found;
        }
        ["tcp", "tcp6"]
            .iter()
            .flat_map(|table| self.read(table, |s| s.state == LISTEN && s.local_port == port))
            .collect()
    }

    /// Whether a TCP socket listens on `port`.
    pub fn listening(&self, port: u16) -> bool {
        !self.listeners(port).is_empty()
    }

    /// See [`SockDiag::connection`]; without netlink the IPv4 table is read first (a server
    /// on `::`, whose side is in the IPv6 table, is the rarer case).
    pub fn connection(&self, local: u16, remote: u16) -> Option<Diag> {
        if let Some(found) = self
            .diag
            .as_ref()
            .and_then(|d| d.connection(local, remote).ok())
        {
            return found;
        }
        ["tcp", "tcp6"].iter().find_map(|table| {
            self.read(table, |s| s.local_port == local && s.remote_port == remote)
                .into_iter()
                .next()
        })
    }

    /// The rows of `/proc/<who>/net/<table>` that `keep` accepts.
    fn read(&self, table: &str, keep: impl Fn(&Diag) -> bool) -> Vec<Diag> {
        super::procfs::tcp_sockets(&self.who, table)
            .into_iter()
            .filter_map(|row| {
                Some(Diag {
                    family: if table == "tcp6" {
                        libc::AF_INET6 as u8
                    } else {
                        libc::AF_INET as u8
                    },
                    state: u8::from_str_radix(&row.state, 16).ok()?,
                    local_port: row.local_port,
                    remote_port: row.remote_port,
                    inode: row.inode.parse().ok()?,
                })
            })
            .filter(|d| keep(d))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    fn diag() -> SockDiag {
        SockDiag::new(socket().expect("a sock_diag socket")).expect("set up")
    }

    /// A listener and one connection to it, seen as `/proc/net/tcp` shows them.
    #[test]
    fn finds_a_listener_and_a_connection_by_its_ports() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let d = diag();
        assert_eq!(d.listeners(port).unwrap().len(), 1);
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_served, _) = listener.accept().unwrap();
        let peer = client.local_addr().unwrap().port();
        let server_side = d
            .connection(port, peer)
            .unwrap()
            .expect("the server's side");
        assert_eq!(server_side.state, 1);
        assert_ne!(server_side.inode, 0);
        assert_eq!(d.connection(port, peer.wrapping_add(1)).unwrap(), None);
        let states: Vec<u8> = d.on_port(port).unwrap().iter().map(|s| s.state).collect();
        assert!(
            states.contains(&LISTEN) && states.contains(&1),
            "{states:?}"
        );
        drop(listener);
        assert!(d.listeners(port).unwrap().is_empty());
    }

    /// Without netlink the table reads `/proc/self/net/tcp`, and sees the same.
    #[test]
    fn the_proc_fallback_sees_what_netlink_sees() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_served, _) = listener.accept().unwrap();
        let peer = client.local_addr().unwrap().port();
        let netlink = SocketTable::here();
        let proc = SocketTable::new(None, "self");
        assert!(netlink.listening(port) && proc.listening(port));
        assert_eq!(netlink.connection(port, peer), proc.connection(port, peer));
        let states = |t: &SocketTable| {
            let mut s: Vec<u8> = t.on_port(port).iter().map(|d| d.state).collect();
            s.sort_unstable();
            s
        };
        assert_eq!(states(&netlink), states(&proc));
    }

    #[test]
    fn a_dual_stack_listener_is_seen() {
        let Ok(listener) = TcpListener::bind("[::]:0") else {
            return; // no IPv6 here
        };
        let port = listener.local_addr().unwrap().port();
        assert!(!diag().listeners(port).unwrap().is_empty());
    }
}
