//! Private network, `/tmp`, `/var/tmp` and `/dev/shm` for one run, so that fixed ports, file
//! and segment names of two runs at once never collide.
//!
//! Entered by the supervisor before it starts the program; the program inherits them. The
//! grader reaches the same namespaces through `/proc/<supervisor>/ns/net` and
//! `/proc/<supervisor>/root/dev/shm`.

use super::protocol::Spec;
use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use std::os::fd::AsRawFd;
use std::path::Path;

/// Enters the namespaces `spec` asks for, each independently. Every one that fails is
/// named in the returned problems, and leaves the run in the shared namespace of that kind.
pub fn enter(spec: &Spec) -> Vec<String> {
    let mut problems = Vec::new();
    if spec.private_network {
        let entered = match spec.join_network {
            Some(pid) => join_network(pid),
            None => unshare(CloneFlags::CLONE_NEWNET)
                .map_err(|e| format!("network namespace: {e}"))
                .and_then(|()| loopback_up().map_err(|e| format!("bringing loopback up: {e}"))),
        };
        problems.extend(entered.err());
    }
    if spec.private_tmp {
        problems.extend(private_tmp(&spec.own_root).err());
    }
    problems
}

/// Enters the network namespace of process `pid` (an earlier run's supervisor, still alive).
fn join_network(pid: i32) -> Result<(), String> {
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net"))
        .map_err(|e| format!("joining the network of pid {pid}: {e}"))?;
    nix::sched::setns(&ns, CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("joining the network of pid {pid}: {e}"))
}

/// Fresh tmpfs on /tmp, /var/tmp and /dev/shm in a mount namespace of our own, with
/// `own_root` (the grading folder, usually below /tmp) bound back at its path.
fn private_tmp(own_root: &Path) -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("mount namespace: {e}"))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("making mounts private: {e}"))?;
    let keep = std::fs::File::open(own_root)
        .map_err(|e| format!("opening {}: {e}", own_root.display()))?;
    for dir in ["/tmp", "/var/tmp", "/dev/shm"] {
        if Path::new(dir).is_dir() {
            mount(
                Some("tmpfs"),
                dir,
                Some("tmpfs"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                Some("mode=1777,size=512m"),
            )
            .map_err(|e| format!("private {dir}: {e}"))?;
        }
    }
    std::fs::create_dir_all(own_root)
        .map_err(|e| format!("recreating {}: {e}", own_root.display()))?;
    let fd_path = format!("/proc/self/fd/{}", keep.as_raw_fd());
    mount(
        Some(fd_path.as_str()),
        own_root,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| format!("binding {} back: {e}", own_root.display()))?;
    Ok(())
}

/// `ip link set lo up`, through the SIOCSIFFLAGS ioctl.
fn loopback_up() -> std::io::Result<()> {
    // SAFETY: a plain datagram socket used only for the interface ioctls, closed below.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo\0".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        let mut result = libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req);
        if result == 0 {
            req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            result = libc::ioctl(fd, libc::SIOCSIFFLAGS, &req);
        }
        let err = std::io::Error::last_os_error();
        libc::close(fd);
        if result != 0 {
            return Err(err);
        }
    }
    Ok(())
}
