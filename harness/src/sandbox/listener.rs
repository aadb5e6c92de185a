//! The options a program gave its listening TCP socket, read by the run's supervisor
//! (`Command::ListenerOptions`): whether a server set SO_REUSEADDR is a fact of its socket,
//! not something to infer from a bind that failed on a shared network.
//!
//! The socket is found by its inode (the kernel's LISTEN entry for the port in the run's
//! network) among the descriptors of the supervisor's descendants, duplicated with
//! `pidfd_getfd` and asked with `getsockopt`; the duplicate is closed at once. `pidfd_getfd`
//! needs ptrace access to the holder: the supervisor has it as root, and as the program's own
//! uid in a user namespace (it is the program's parent, so Yama's `ptrace_scope=1` allows it
//! too). Docker's default seccomp profile refuses `pidfd_getfd` without CAP_SYS_PTRACE, and
//! root in such a container cannot even list another uid's descriptors: there the answer is
//! the kernel's refusal, and the caller judges by other means.

use super::procfs;
use super::protocol::ListenerOptions;
use std::os::fd::{FromRawFd, OwnedFd};

/// The options of the socket listening on `port`, held by one of this process's
/// descendants, or why they could not be read.
pub fn inspect(port: u16) -> Result<ListenerOptions, String> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return Err(format!("nothing listens on port {port}"));
    }
    let mut refused = None;
    for p in procfs::descendants(procfs::own_pid()) {
        if p.is_zombie() {
            continue;
        }
        let fds = match std::fs::read_dir(format!("/proc/{}/fd", p.pid)) {
            Ok(dir) => dir,
            Err(e) => {
                refused.get_or_insert(format!("listing the descriptors of pid {}: {e}", p.pid));
                continue;
            }
        };
        for entry in fds.flatten() {
            let target = match std::fs::read_link(entry.path()) {
                Ok(target) => target,
                Err(e) => {
                    let what = format!("reading the descriptors of pid {}: {e}", p.pid);
                    refused.get_or_insert(what);
                    continue;
                }
            };
            let target = target.to_string_lossy().into_owned();
            let inode = target
                .strip_prefix("socket:[")
                .and_then(|t| t.strip_suffix(']'));
            if !inode.is_some_and(|i| inodes.iter().any(|n| n == i)) {
                continue;
            }
            let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            return read_options(p.pid, fd);
        }
    }
    Err(refused.unwrap_or_else(|| {
        format!("no process of the run holds the socket listening on port {port}")
    }))
}

/// The inodes of the sockets listening on `port` in this process's network.
fn listening_inodes(port: u16) -> Vec<String> {
    super::sock_diag::SocketTable::here()
        .listeners(port)
        .iter()
        .map(|d| d.inode.to_string())
        .collect()
}

/// Duplicates descriptor `fd` of process `pid` and reads its reuse options.
fn read_options(pid: i32, fd: i32) -> Result<ListenerOptions, String> {
    let os = std::io::Error::last_os_error;
    // SAFETY: pidfd_open and pidfd_getfd with plain integer arguments; each descriptor
    // returned is owned at once and closed when dropped.
    let socket = unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, pid, 0);
        if pidfd < 0 {
            return Err(format!("pidfd_open({pid}): {}", os()));
        }
        let pidfd = OwnedFd::from_raw_fd(pidfd as i32);
        use std::os::fd::AsRawFd;
        let dup = libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0);
        if dup < 0 {
            return Err(format!(
                "pidfd_getfd(descriptor {fd} of pid {pid}): {}",
                os()
            ));
        }
        OwnedFd::from_raw_fd(dup as i32)
    };
    use nix::sys::socket::{getsockopt, sockopt};
    let get = |what: &str, e: nix::Error| format!("getsockopt({what}): {e}");
    Ok(ListenerOptions {
        holder: pid,
        fd,
        reuse_addr: getsockopt(&socket, sockopt::ReuseAddr).map_err(|e| get("SO_REUSEADDR", e))?,
        reuse_port: getsockopt(&socket, sockopt::ReusePort).map_err(|e| get("SO_REUSEPORT", e))?,
    })
}
