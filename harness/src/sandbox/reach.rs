//! Reaching into a run from the grader: its network (TCP sockets made inside it by the run's
//! supervisor), its `/dev/shm` and its private file system (through `/proc/<supervisor>/root`).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A handle on one run's namespaces. Without private namespaces it is the host's.
#[derive(Debug, Clone)]
pub struct Reach {
    /// The run's supervisor (pid 1 of the run, where it has a pid namespace), as the grader
    /// sees it.
    pub supervisor: i32,
    pub private_network: bool,
    pub private_tmp: bool,
    /// Where to ask for sockets: the control socket and the channel they arrive on.
    pub sockets: Option<(Arc<UnixStream>, Arc<Mutex<UnixStream>>)>,
}

impl Reach {
    /// A TCP listener on `addr` inside the run's network.
    pub fn tcp_listener(&self, addr: SocketAddr) -> std::io::Result<TcpListener> {
        if !self.private_network {
            return TcpListener::bind(addr);
        }
        let fd = self.socket(addr.is_ipv6())?;
        let opt = nix::sys::socket::sockopt::ReuseAddr;
        nix::sys::socket::setsockopt(&fd, opt, &true)?;
        nix::sys::socket::bind(
            fd.as_raw_fd(),
            &nix::sys::socket::SockaddrStorage::from(addr),
        )?;
        nix::sys::socket::listen(&fd, nix::sys::socket::Backlog::new(128)?)?;
        Ok(TcpListener::from(fd))
    }

    /// A TCP connection to `addr` inside the run's network, within `timeout`.
    pub fn tcp_connect(&self, addr: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
        if !self.private_network {
            return TcpStream::connect_timeout(&addr, timeout);
        }
        let fd = self.socket(addr.is_ipv6())?;
        connect_within(&fd, addr, timeout)?;
        Ok(TcpStream::from(fd))
    }

    /// A TCP connection to `addr` from the local address `from` (a port an earlier
    /// connection used: its SYN replaces what that connection left in TIME_WAIT).
    pub fn tcp_connect_from(
        &self,
        addr: SocketAddr,
        from: SocketAddr,
        timeout: Duration,
    ) -> std::io::Result<TcpStream> {
        use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, SockaddrStorage};
        let fd = if self.private_network {
            self.socket(addr.is_ipv6())?
        } else {
            let family = if addr.is_ipv6() {
                AddressFamily::Inet6
            } else {
                AddressFamily::Inet
            };
            socket::socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?
        };
        socket::setsockopt(&fd, socket::sockopt::ReuseAddr, &true)?;
        socket::bind(fd.as_raw_fd(), &SockaddrStorage::from(from))?;
        connect_within(&fd, addr, timeout)?;
        Ok(TcpStream::from(fd))
    }

    /// The run network's TCP sockets: through a `NETLINK_SOCK_DIAG` socket made in it (by
    /// the supervisor where the network is the run's own), else its `/proc/<supervisor>/net/`.
    pub fn sockets(&self) -> super::sock_diag::SocketTable {
        let fd = if self.private_network {
            self.ask(&super::protocol::Command::DiagSocket)
        } else {
            super::sock_diag::socket()
        };
        let diag = fd.and_then(super::sock_diag::SockDiag::new).ok();
        super::sock_diag::SocketTable::new(diag, self.supervisor)
    }

    /// A fresh TCP socket from the run's supervisor.
    fn socket(&self, ipv6: bool) -> std::io::Result<OwnedFd> {
        self.ask(&super::protocol::Command::TcpSocket { ipv6 })
    }

    /// Asks the run's supervisor for a socket made inside the run's network.
    fn ask(&self, command: &super::protocol::Command) -> std::io::Result<OwnedFd> {
        let (control, channel) = self
            .sockets
            .as_ref()
            .ok_or_else(|| std::io::Error::other("no way into the run's network"))?;
        let channel = channel
            .lock()
            .map_err(|_| std::io::Error::other("socket channel poisoned"))?;
        command.send(control)?;
        super::channel::receive(&channel, Duration::from_secs(10))
    }

    /// The path of shared memory segment `name` as the run sees it (`shm_open("/name")`).
    pub fn shm_path(&self, name: &str) -> PathBuf {
        self.path(&Path::new("/dev/shm").join(name.trim_start_matches('/')))
    }

    /// Where the grader finds the run's `path` (absolute): inside its private root, or the
    /// same path when it shares the grader's file system.
    pub fn path(&self, path: &Path) -> PathBuf {
        if self.private_tmp {
            let rel = path.strip_prefix("/").unwrap_or(path);
            PathBuf::from(format!("/proc/{}/root", self.supervisor)).join(rel)
        } else {
            path.to_path_buf()
        }
    }

    /// Creates segment `name` of `size` zero bytes for the run's uid/gid (mode 0666 when the
    /// identity is the grader's own).
    pub fn create_shm(
        &self,
        name: &str,
        size: u64,
        owner: Option<(u32, u32)>,
    ) -> std::io::Result<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.shm_path(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)?;
        file.set_len(size)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid))?;
        }
        Ok(path)
    }
}

/// `connect` with a deadline, on a blocking socket.
fn connect_within(fd: &OwnedFd, addr: SocketAddr, timeout: Duration) -> std::io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    let target = nix::sys::socket::SockaddrStorage::from(addr);
    match nix::sys::socket::connect(fd.as_raw_fd(), &target) {
        Ok(()) => {}
        Err(nix::errno::Errno::EINPROGRESS) => {
            let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
            let wait = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
            if poll(&mut fds, wait)? == 0 {
                return Err(std::io::ErrorKind::TimedOut.into());
            }
            let err = nix::sys::socket::getsockopt(fd, nix::sys::socket::sockopt::SocketError)?;
            if err != 0 {
                return Err(std::io::Error::from_raw_os_error(err));
            }
        }
        Err(e) => return Err(e.into()),
    }
    fcntl(fd, FcntlArg::F_SETFL(flags))?;
    Ok(())
}
