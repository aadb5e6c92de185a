//! Landlock, for machines that refuse namespaces (a Docker container, a distribution that
//! restricts unprivileged user namespaces): the program may read the system and its view,
//! write its view and the shared scratch places (`/tmp`, `/var/tmp`, `/dev/shm`, `/run/lock`),
//! and nothing else. From ABI 6 on, signals and abstract unix sockets are scoped to the run,
//! so `kill(-1)` cannot reach the grader.
//!
//! Where the run shares the host's network but must not use it (`Sandbox::tcp_ports`), TCP
//! binds and connects are held to the exercise's ports (ABI 4+); a connect's implicit bind
//! to an ephemeral port is not a bind Landlock checks, so clients need no rule for it.
//!
//! The ruleset is made by the supervisor before it forks the program and enforced in the
//! child between fork and exec, with two plain system calls.

use super::protocol::{Sandbox, View};
use super::rootfs::{PRIVATE_DIRS, SYSTEM};
use ::landlock::{
    Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetError, Scope, ABI,
};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// The Landlock ABI this kernel offers, 0 when it has none (or it is disabled).
pub fn abi() -> u32 {
    version().unwrap_or(0)
}

/// The Landlock ABI this kernel offers, or why there is none: the kernel's own answer
/// (`ENOSYS`: not built in; `EOPNOTSUPP`: built in but not enabled at boot; `EPERM` or
/// another error: refused, as by a seccomp filter).
pub fn version() -> Result<u32, std::io::Error> {
    // SAFETY: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) only returns
    // the version.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32,
        )
    };
    match u32::try_from(v) {
        Ok(abi) => Ok(abi),
        Err(_) => Err(std::io::Error::last_os_error()),
    }
}

/// Whether this ABI scopes signals (and abstract unix sockets) to the sandbox.
pub fn scopes_signals(abi: u32) -> bool {
    abi >= 6
}

/// A ruleset ready to be enforced in the program's process.
#[derive(Debug)]
pub struct Prepared {
    fd: OwnedFd,
}

/// The first ABI with TCP rules.
pub const NET_ABI: u32 = 4;

/// Whether this ABI holds TCP binds and connects to given ports.
pub fn holds_tcp_ports(abi: u32) -> bool {
    abi >= NET_ABI
}

/// Makes the ruleset `sandbox` asks for: its view's files when it asks for Landlock, its
/// TCP ports when it has them.
pub fn prepare(sandbox: &Sandbox) -> Result<Prepared, String> {
    let err = |e: RulesetError| format!("landlock: {e}");
    let mut ruleset = Ruleset::default();
    if sandbox.landlock {
        ruleset = ruleset
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(AccessFs::from_all(ABI::V6))
            .map_err(err)?
            .scope(Scope::Signal | Scope::AbstractUnixSocket)
            .map_err(err)?;
    }
    if sandbox.tcp_ports.is_some() {
        if !holds_tcp_ports(abi()) {
            return Err(format!(
                "landlock: TCP rules need ABI {NET_ABI}, this kernel has {}",
                abi()
            ));
        }
        ruleset = ruleset
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessNet::from_all(ABI::V4))
            .map_err(err)?
            .set_compatibility(CompatLevel::BestEffort);
    }
    let mut ruleset = ruleset.create().map_err(err)?;
    if sandbox.landlock {
        for (path, access) in file_rules(&sandbox.view) {
            ruleset = ruleset.add_rule(rule(&path, access)?).map_err(err)?;
        }
    }
    for port in sandbox.tcp_ports.iter().flatten() {
        let access = AccessNet::BindTcp | AccessNet::ConnectTcp;
        ruleset = ruleset.add_rule(NetPort::new(*port, access)).map_err(err)?;
    }
    let fd: Option<OwnedFd> = ruleset.into();
    fd.map(|fd| Prepared { fd })
        .ok_or_else(|| "landlock: not supported by this kernel".to_string())
}

/// The paths of `view` and the system with what the program may do there (those that
/// exist).
fn file_rules(view: &View) -> Vec<(PathBuf, ::landlock::BitFlags<AccessFs>)> {
    let read = AccessFs::from_read(ABI::V6);
    let all = AccessFs::from_all(ABI::V6);
    let mut ro: Vec<PathBuf> = SYSTEM.iter().map(PathBuf::from).collect();
    ro.extend(["/proc", "/sys", "/dev"].map(PathBuf::from));
    ro.extend(view.ro.iter().cloned());
    let mut rw: Vec<PathBuf> = PRIVATE_DIRS.iter().map(PathBuf::from).collect();
    rw.extend(
        [
            "/dev/null",
            "/dev/zero",
            "/dev/full",
            "/dev/tty",
            "/dev/mqueue",
        ]
        .map(PathBuf::from),
    );
    rw.extend(view.rw.iter().cloned());
    let ro = ro.into_iter().map(|p| (p, read));
    let rw = rw.into_iter().map(|p| (p, all));
    ro.chain(rw).filter(|(p, _)| p.exists()).collect()
}

fn rule(
    path: &Path,
    access: ::landlock::BitFlags<AccessFs>,
) -> Result<::landlock::PathBeneath<::landlock::PathFd>, String> {
    let fd = ::landlock::PathFd::new(path).map_err(|e| format!("landlock: {e}"))?;
    let access = if path.is_dir() {
        access
    } else {
        access & AccessFs::from_file(ABI::V6)
    };
    Ok(::landlock::PathBeneath::new(fd, access))
}

impl Prepared {
    /// The ruleset's descriptor, for [`enforce`] in the program's process.
    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Enforces the ruleset `fd` on the calling process. Async-signal-safe: two system calls.
pub fn enforce(fd: RawFd) -> std::io::Result<()> {
    {
        // SAFETY: prctl and landlock_restrict_self with a ruleset descriptor we own.
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }
}
