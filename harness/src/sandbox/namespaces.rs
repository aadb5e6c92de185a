//! Namespaces for one run: user (when the grader is not root), pid, mount, IPC and network.
//!
//! Entered by the supervisor first thing, while it is still single-threaded. With a pid
//! namespace the supervisor then forks: the child is pid 1 of the new namespace and carries
//! on as the supervisor proper (it builds the private root, starts the program as pid 2 and
//! reaps), while the parent only waits for it and passes its exit on. Killing pid 1 of a pid
//! namespace kills everything in it, so nothing a run starts can outlive its supervisor.

use super::protocol::{Facility, Network, Spec};
use nix::sched::{setns, unshare, CloneFlags};
use std::fs::File;

/// What entering the namespaces gave.
#[derive(Debug, Default)]
pub struct Entered {
    /// The program will get a pid namespace of its own (the caller must [`become_init`]).
    pub pid: bool,
    /// A mount namespace of our own: the private root can be built.
    pub mount: bool,
    /// Every layer that was asked for and could not be set up.
    pub problems: Vec<(Facility, String)>,
}

/// Enters the namespaces `spec` asks for, each independently: one that fails is reported and
/// the run goes on in the grader's namespace of that kind.
pub fn enter(spec: &Spec) -> Entered {
    let mut out = Entered::default();
    let sandbox = &spec.sandbox;
    if !sandbox.namespaces && sandbox.network == Network::Host {
        return out;
    }
    let join = match sandbox.network {
        Network::Join(pid) => Some(pid),
        _ => None,
    };
    let root = nix::unistd::geteuid().is_root();
    if !root {
        if let Err(e) = own_user_namespace(join) {
            out.problems.push((Facility::UserNamespace, e));
            return out;
        }
    }
    match sandbox.network {
        Network::Host => {}
        Network::Private => {
            let made = unshare(CloneFlags::CLONE_NEWNET)
                .map_err(|e| format!("network namespace: {e}"))
                .and_then(|()| loopback_up().map_err(|e| format!("bringing loopback up: {e}")));
            if let Err(e) = made {
                out.problems.push((Facility::Network, e));
            } else {
                tune_network();
            }
        }
        Network::Join(pid) => {
            if let Err(e) = join_ns(pid, "net", CloneFlags::CLONE_NEWNET) {
                out.problems.push((Facility::Network, e));
            }
        }
    }
    if !sandbox.namespaces {
        return out;
    }
    for (flag, facility, what) in [
        (CloneFlags::CLONE_NEWIPC, Facility::IpcNamespace, "IPC"),
        (CloneFlags::CLONE_NEWNS, Facility::MountNamespace, "mount"),
        (CloneFlags::CLONE_NEWPID, Facility::PidNamespace, "pid"),
    ] {
        match unshare(flag) {
            Ok(()) => match facility {
                Facility::MountNamespace => out.mount = true,
                Facility::PidNamespace => out.pid = true,
                _ => {}
            },
            Err(e) => out
                .problems
                .push((facility, format!("{what} namespace: {e}"))),
        }
    }
    out
}

/// Without root: a user namespace of our own (or the one of the run we join the network
/// of), in which the supervisor holds the capabilities it needs to set the run up. The
/// program keeps the grader's uid and gid, mapped to themselves, and loses those
/// capabilities when it is executed.
fn own_user_namespace(join: Option<i32>) -> Result<(), String> {
    if let Some(pid) = join {
        return join_ns(pid, "user", CloneFlags::CLONE_NEWUSER);
    }
    let uid = nix::unistd::geteuid().as_raw();
    let gid = nix::unistd::getegid().as_raw();
    unshare(CloneFlags::CLONE_NEWUSER).map_err(|e| format!("user namespace: {e}"))?;
    let write = |file: &str, text: String| {
        std::fs::write(format!("/proc/self/{file}"), text)
            .map_err(|e| format!("user namespace ({file}): {e}"))
    };
    write("setgroups", "deny".into())?;
    write("uid_map", format!("{uid} {uid} 1"))?;
    write("gid_map", format!("{gid} {gid} 1"))
}

fn join_ns(pid: i32, kind: &str, flag: CloneFlags) -> Result<(), String> {
    let what = || format!("joining the {kind} namespace of pid {pid}");
    let ns =
        File::open(format!("/proc/{pid}/ns/{kind}")).map_err(|e| format!("{}: {e}", what()))?;
    setns(&ns, flag).map_err(|e| format!("{}: {e}", what()))
}

/// In a fresh network namespace (never the host's): SYN cookies off. With them on, a silent
/// client of a listener whose backlog overflows (p7_hw6.py's backlog is one) can wait
/// forever: the ACK answering a cookie is dropped while the accept queue is full and nothing
/// resends it. Without them the kernel retries, and every client is served within seconds.
fn tune_network() {
    let _ = std::fs::write("/proc/sys/net/ipv4/tcp_syncookies", "0");
}

/// Forks so that the rest of the supervisor runs as pid 1 of the new pid namespace. Returns
/// in the child only; the parent waits for it and exits with its status. The child dies with
/// the parent (and so, as pid 1, takes the whole run with it).
pub fn become_init() -> std::io::Result<()> {
    // SAFETY: the supervisor is single-threaded here (namespaces are entered before any
    // thread is started), so the child may run arbitrary code.
    match unsafe { nix::unistd::fork() }.map_err(std::io::Error::from)? {
        nix::unistd::ForkResult::Child => {
            // (Its parent is outside its pid namespace, so `getppid` says 0 and cannot tell
            // whether the parent is already gone; then the control socket is, and the
            // supervisor ends as soon as it reads it.)
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(std::io::Error::from)?;
            Ok(())
        }
        nix::unistd::ForkResult::Parent { child } => wait_and_pass_on(child),
    }
}

/// The outer supervisor's whole life after the fork: it lets go of the control socket and the
/// program's streams (so their end means what it should) and waits for pid 1.
fn wait_and_pass_on(child: nix::unistd::Pid) -> ! {
    use nix::sys::wait::{waitpid, WaitStatus};
    // SAFETY: closing descriptors the child holds its own copies of.
    unsafe {
        libc::close(super::protocol::CONTROL_FD);
        libc::close(super::protocol::CHANNEL_FD);
    }
    super::supervisor::release_stdio();
    let code = loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => break code,
            Ok(WaitStatus::Signaled(..)) => break 4,
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break 4,
        }
    };
    super::phases::supervisor_exit(false);
    std::process::exit(code)
}

/// As pid 1 of the run's pid namespace, before the program starts: makes the next pid a
/// random one between 1000 and 31000 instead of 2. A tiny pid is a poor witness (a line
/// "Got signal 2" would hold pid 2, and a hard-coded 2 would pass for `getpid()`); a random
/// one looks like the pids programs meet anywhere else. Best effort.
pub fn scatter_pids() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let next = 1000 + (nanos ^ (nanos >> 11)) % 30_000;
    let _ = std::fs::write("/proc/sys/kernel/ns_last_pid", (next - 1).to_string());
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
        // The request's type is the libc's own (glibc: unsigned long, musl: int).
        let mut result = libc::ioctl(fd, libc::SIOCGIFFLAGS as _, &mut req);
        if result == 0 {
            req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            result = libc::ioctl(fd, libc::SIOCSIFFLAGS as _, &req);
        }
        let err = std::io::Error::last_os_error();
        libc::close(fd);
        if result != 0 {
            return Err(err);
        }
    }
    Ok(())
}
