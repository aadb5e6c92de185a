//! Docker's default confinement, reproduced in Rust for the `modes::…container…` trials.
//!
//! This binary re-runs itself as `__sysgrade_confine PROGRAM ARGS…`: the fresh,
//! single-threaded process keeps only Docker's default capabilities (bounding, effective,
//! permitted and inheritable sets; none ambient), sets `no_new_privs`, installs a seccomp
//! filter refusing namespaces and mounts the way Docker's default profile does, and `exec`s
//! the program, which inherits all of it. When the tests are not root there are no
//! capabilities to drop: only `no_new_privs` and the filter apply.

use caps::{CapSet, Capability, CapsHashSet};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The hidden first argument that selects this mode.
const MODE: &str = "__sysgrade_confine";

/// Docker's default capabilities (moby's `oci/caps/defaults.go`).
pub const DOCKER_CAPS: [Capability; 14] = [
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FOWNER,
    Capability::CAP_FSETID,
    Capability::CAP_KILL,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_NET_RAW,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_MKNOD,
    Capability::CAP_AUDIT_WRITE,
    Capability::CAP_SETFCAP,
];

/// Syscalls answered with EPERM whatever their arguments: namespaces, mounts and the rest
/// of what Docker's default profile (moby's `profiles/seccomp/default.json`) allows only with
/// a capability its containers lack. Some of these the kernel itself grants without that
/// capability: `fanotify_init` for an unprivileged group reporting file handles (5.13+),
/// `pidfd_getfd` on a process of one's own uid. Docker refuses them all the same: fanotify_init
/// is allowed only with CAP_SYS_ADMIN, and `pidfd_getfd`, `kcmp` and `process_madvise` only
/// with CAP_SYS_PTRACE, `open_by_handle_at` only with CAP_DAC_READ_SEARCH.
const REFUSED: [i64; 18] = [
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_open_tree,
    libc::SYS_move_mount,
    libc::SYS_fsopen,
    libc::SYS_fsmount,
    libc::SYS_fsconfig,
    libc::SYS_keyctl,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_fanotify_init,
    libc::SYS_pidfd_getfd,
    libc::SYS_kcmp,
    libc::SYS_process_madvise,
    libc::SYS_open_by_handle_at,
];

/// `clone` is refused (EPERM) when its flags (argument 0 on x86-64) hold any of these.
const NAMESPACE_FLAGS: [libc::c_int; 7] = [
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWCGROUP,
];

/// `program ARGS…` confined: this test binary re-run in the hidden mode, which execs it.
pub fn command(program: impl Into<OsString>) -> Command {
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    let mut cmd = Command::new(exe);
    cmd.arg(MODE).arg(program.into());
    cmd
}

/// Call first in `main`: in the hidden mode, confines this process and execs the program
/// (never returns); otherwise returns at once.
pub fn dispatch() {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_none_or(|a| a != MODE) {
        return;
    }
    let Some(program) = args.get(2) else {
        eprintln!("usage: {MODE} PROGRAM [ARGS…]");
        std::process::exit(125);
    };
    if let Err(e) = confine() {
        eprintln!("{MODE}: {e}");
        std::process::exit(125);
    }
    let e = Command::new(program).args(&args[3..]).exec();
    eprintln!("{MODE}: exec {}: {e}", program.to_string_lossy());
    std::process::exit(127);
}

/// Capabilities (when root), `no_new_privs`, then the seccomp filters, in that order: the
/// filter refuses nothing the first two steps need, but they come first anyway.
fn confine() -> Result<(), String> {
    if is_root() {
        drop_capabilities()?;
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(format!("no_new_privs: {}", std::io::Error::last_os_error()));
    }
    for program in filters()? {
        seccompiler::apply_filter(&program).map_err(|e| format!("seccomp: {e}"))?;
    }
    Ok(())
}

/// Whether this process runs as root (effective uid 0).
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn drop_capabilities() -> Result<(), String> {
    let keep: CapsHashSet = DOCKER_CAPS.into_iter().collect();
    let bounding = caps::read(None, CapSet::Bounding).map_err(|e| format!("caps: {e}"))?;
    for cap in bounding.difference(&keep) {
        caps::drop(None, CapSet::Bounding, *cap).map_err(|e| format!("bounding {cap}: {e}"))?;
    }
    caps::clear(None, CapSet::Ambient).map_err(|e| format!("ambient: {e}"))?;
    for set in [CapSet::Effective, CapSet::Permitted, CapSet::Inheritable] {
        caps::set(None, set, &keep).map_err(|e| format!("{set:?}: {e}"))?;
    }
    Ok(())
}

/// Two filters, since one seccompiler filter has one action on a match: EPERM for
/// namespaces and mounts, ENOSYS for clone3 (so libc falls back to clone, which the first
/// filter can inspect). Stacked filters: the kernel applies the strictest answer.
fn filters() -> Result<Vec<BpfProgram>, String> {
    let arch = seccompiler::TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|e| format!("seccomp arch: {e}"))?;
    let err = |e: seccompiler::BackendError| format!("seccomp filter: {e}");
    let mut eperm: BTreeMap<i64, Vec<SeccompRule>> =
        REFUSED.iter().map(|nr| (*nr, Vec::new())).collect();
    let mut clone_rules = Vec::new();
    for flag in NAMESPACE_FLAGS {
        let flag = u64::from(flag.unsigned_abs());
        let cond = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(flag),
            flag,
        )
        .map_err(err)?;
        clone_rules.push(SeccompRule::new(vec![cond]).map_err(err)?);
    }
    eperm.insert(libc::SYS_clone, clone_rules);
    let nosys = BTreeMap::from([(libc::SYS_clone3, Vec::new())]);
    let mut programs = Vec::new();
    for (rules, errno) in [(eperm, libc::EPERM), (nosys, libc::ENOSYS)] {
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(errno.unsigned_abs()),
            arch,
        )
        .map_err(err)?;
        programs.push(BpfProgram::try_from(filter).map_err(err)?);
    }
    Ok(programs)
}
