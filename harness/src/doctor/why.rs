//! Why a layer is missing and how to get it back, from the facts about the machine: pure
//! functions over a [`Machine`], so each rule is tested with a hand-built one.

use super::machine::{Machine, CAP_NET_ADMIN, CAP_SYS_ADMIN};

/// A cause found on the machine, and its fix when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    pub why: String,
    pub fix: Option<String>,
}

fn why(why: impl Into<String>, fix: Option<String>) -> Option<Why> {
    Some(Why {
        why: why.into(),
        fix,
    })
}

/// The rung below namespaces, where it holds.
const LANDLOCK_RUNG: &str =
    "or accept the Landlock rung (files confined; /tmp and the network shared)";

/// Why namespaces were refused (the user namespace, or any other), `None` when nothing on
/// the machine explains it (the supervisor's message then says what the kernel said).
pub fn namespaces(m: &Machine) -> Option<Why> {
    if m.filtered() {
        return why(
            "a seccomp filter is on the grader (Seccomp: 2 in /proc/self/status), as a container's default profile, which refuses unshare, setns, mount and clone with new namespaces",
            Some(format!(
                "run the container with --security-opt seccomp=unconfined (or --cap-add SYS_ADMIN, which Docker's profile honours), {LANDLOCK_RUNG}"
            )),
        );
    }
    if m.root && !m.has(CAP_SYS_ADMIN) {
        return why(
            "the grader is root without CAP_SYS_ADMIN (a container's capability set)",
            Some(format!(
                "run the container with --cap-add SYS_ADMIN, {LANDLOCK_RUNG}"
            )),
        );
    }
    if m.root {
        return None;
    }
    if m.max_user_namespaces == Some(0) {
        return why(
            "user namespaces are disabled: user.max_user_namespaces is 0",
            Some(format!(
                "sudo sysctl -w user.max_user_namespaces=10000, or grade as root (sudo), {LANDLOCK_RUNG}"
            )),
        );
    }
    if m.unprivileged_userns_clone == Some(0) {
        return why(
            "only root may create user namespaces here: kernel.unprivileged_userns_clone is 0",
            Some(format!(
                "sudo sysctl -w kernel.unprivileged_userns_clone=1, or grade as root (sudo), {LANDLOCK_RUNG}"
            )),
        );
    }
    if m.apparmor_restrict_userns == Some(1) {
        return why(
            "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns is 1, as on Ubuntu 23.10+): one is created but holds no capabilities",
            Some(format!(
                "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or an AppArmor profile allowing userns for sysgrade), or grade as root (sudo), {LANDLOCK_RUNG}"
            )),
        );
    }
    None
}

/// Why runs cannot get a uid of their own.
pub fn uid_per_run(m: &Machine) -> Option<Why> {
    if m.root {
        return None;
    }
    why(
        format!(
            "a uid per run needs root: the grader switches each run to a uid of the pool 61000–61255, and runs as uid {} here",
            m.uid
        ),
        Some("grade as root: sudo sysgrade grade …".into()),
    )
}

/// Why fanotify's mount mark was refused.
pub fn fanotify(m: &Machine) -> Option<Why> {
    if m.root && !m.has(CAP_SYS_ADMIN) {
        return why(
            "fanotify on a mount needs CAP_SYS_ADMIN, which this root lacks (a container's capability set)",
            Some("run the container with --cap-add SYS_ADMIN (files.stat is judged by inotify meanwhile)".into()),
        );
    }
    if m.root {
        return None;
    }
    why(
        "fanotify on a mount, with a descriptor per event, needs CAP_SYS_ADMIN; unprivileged fanotify (Linux 5.13+) marks single inodes and reports no descriptor, so it cannot read a file deleted at once",
        Some("grade as root outside a container: sudo sysgrade grade …".into()),
    )
}

/// Why the process events connector was refused.
pub fn proc_connector(m: &Machine) -> Option<Why> {
    if !m.kernel_at_least(6, 6) && !m.has(CAP_NET_ADMIN) {
        return why(
            format!(
                "before Linux 6.6 the process events connector wants CAP_NET_ADMIN, and this is Linux {}",
                m.kernel
            ),
            Some(if m.root {
                "run the container with --cap-add NET_ADMIN".into()
            } else {
                "grade as root: sudo sysgrade grade …".into()
            }),
        );
    }
    if m.filtered() {
        return why(
            "the grader is confined (a seccomp filter: a container), and the connector answers only in the machine's initial network namespace",
            Some("run the container with --network host (or grade outside it)".into()),
        );
    }
    None
}

/// Why the kernel offers no Landlock, from its answer (`errno`).
pub fn landlock(m: &Machine, errno: Option<i32>) -> Option<Why> {
    match errno {
        Some(libc::ENOSYS) if m.filtered() => why(
            "the seccomp filter on the grader refuses Landlock's system calls (an older container profile)",
            Some("a newer container runtime (Docker 20.10+ allows Landlock), or --security-opt seccomp=unconfined".into()),
        ),
        Some(libc::ENOSYS) => why(
            format!("this kernel (Linux {}) has no Landlock: it came in Linux 5.13", m.kernel),
            Some("a kernel of 5.13 or later built with CONFIG_SECURITY_LANDLOCK".into()),
        ),
        Some(libc::EOPNOTSUPP) => why(
            "Landlock is built into this kernel but not enabled at boot",
            Some("add landlock to the kernel's lsm= boot parameter (see /sys/kernel/security/lsm)".into()),
        ),
        Some(libc::EPERM) if m.filtered() => why(
            "the seccomp filter on the grader refuses Landlock's system calls",
            Some("--security-opt seccomp=unconfined".into()),
        ),
        _ => None,
    }
}

/// Why signals are not scoped to the run: the kernel's Landlock ABI is older than 6.
pub fn signal_scoping(m: &Machine, abi: u32) -> Option<Why> {
    why(
        format!(
            "Landlock ABI {abi} (Linux {}): scoping signals and abstract sockets came with ABI 6 (Linux 6.12)",
            m.kernel
        ),
        Some("a kernel of 6.12 or later; meanwhile grade as root, where a uid per run keeps kill(-1) in the run".into()),
    )
}

/// Why a run's network is not held to its ports: the kernel's Landlock ABI is older than 4.
pub fn network_rules(m: &Machine, abi: u32) -> Option<Why> {
    why(
        format!(
            "Landlock ABI {abi} (Linux {}): TCP port rules came with ABI 4 (Linux 6.7), and namespaces are refused here",
            m.kernel
        ),
        Some("a kernel of 6.7 or later; or allow namespaces (as root outside a container, or a container with --security-opt seccomp=unconfined) for a network namespace per run".into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn user() -> Machine {
        Machine {
            uid: 1000,
            root: false,
            kernel: "6.8.0-45-generic".into(),
            seccomp: Some(0),
            capabilities: Some(0),
            apparmor_restrict_userns: None,
            max_user_namespaces: Some(63_000),
            unprivileged_userns_clone: None,
        }
    }

    fn root() -> Machine {
        Machine {
            uid: 0,
            root: true,
            capabilities: Some(0x1ff_ffff_ffff),
            ..user()
        }
    }

    /// Docker's default: root, a seccomp filter, Docker's capabilities (no SYS_ADMIN).
    fn container() -> Machine {
        Machine {
            seccomp: Some(2),
            capabilities: Some(0xa80_425fb),
            ..root()
        }
    }

    #[rstest]
    #[case::ubuntu(Machine { apparmor_restrict_userns: Some(1), ..user() }, "apparmor_restrict_unprivileged_userns", "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0")]
    #[case::disabled(Machine { max_user_namespaces: Some(0), ..user() }, "max_user_namespaces is 0", "sudo sysctl -w user.max_user_namespaces=")]
    #[case::debian(Machine { unprivileged_userns_clone: Some(0), ..user() }, "unprivileged_userns_clone is 0", "sudo sysctl -w kernel.unprivileged_userns_clone=1")]
    #[case::docker(container(), "Seccomp: 2", "--security-opt seccomp=unconfined")]
    #[case::no_sys_admin(Machine { capabilities: Some(0xa80_425fb), ..root() }, "without CAP_SYS_ADMIN", "--cap-add SYS_ADMIN")]
    fn refused_namespaces_are_explained(
        #[case] m: Machine,
        #[case] cause: &str,
        #[case] fix: &str,
    ) {
        let w = namespaces(&m).expect("a cause");
        assert!(w.why.contains(cause), "{}", w.why);
        let f = w.fix.expect("a fix");
        assert!(f.contains(fix), "{f}");
        assert!(f.contains("Landlock rung"), "{f}");
    }

    #[rstest]
    #[case::user(user())]
    #[case::root(root())]
    fn nothing_is_made_up_when_the_machine_explains_nothing(#[case] m: Machine) {
        assert_eq!(namespaces(&m), None);
        assert_eq!(proc_connector(&m), None);
    }

    #[test]
    fn a_seccomp_filter_comes_before_the_sysctls() {
        let m = Machine {
            apparmor_restrict_userns: Some(1),
            ..container()
        };
        assert!(namespaces(&m).is_some_and(|w| w.why.contains("seccomp")));
    }

    #[test]
    fn a_uid_per_run_needs_root() {
        let w = uid_per_run(&user()).expect("a cause");
        assert!(w.why.contains("uid 1000") && w.fix.is_some_and(|f| f.contains("sudo")));
        assert_eq!(uid_per_run(&root()), None);
        assert_eq!(uid_per_run(&container()), None);
    }

    #[rstest]
    #[case::user(user(), "CAP_SYS_ADMIN", "grade as root")]
    #[case::container(container(), "lacks", "--cap-add SYS_ADMIN")]
    fn fanotify_refusals_are_explained(#[case] m: Machine, #[case] cause: &str, #[case] fix: &str) {
        let w = fanotify(&m).expect("a cause");
        assert!(w.why.contains(cause), "{}", w.why);
        assert!(w.fix.is_some_and(|f| f.contains(fix)));
        assert_eq!(fanotify(&root()), None);
    }

    #[test]
    fn an_old_kernel_wants_net_admin_for_process_events() {
        let old = Machine {
            kernel: "6.1.0-28-amd64".into(),
            ..user()
        };
        let w = proc_connector(&old).expect("a cause");
        assert!(w.why.contains("6.6") && w.fix.is_some_and(|f| f.contains("sudo")));
        let old_root = Machine {
            kernel: "6.1.0".into(),
            ..root()
        };
        assert_eq!(proc_connector(&old_root), None, "root holds CAP_NET_ADMIN");
    }

    #[rstest]
    #[case::not_built(user(), libc::ENOSYS, "5.13")]
    #[case::not_enabled(user(), libc::EOPNOTSUPP, "lsm=")]
    #[case::filtered(container(), libc::ENOSYS, "seccomp")]
    fn a_missing_landlock_is_explained(#[case] m: Machine, #[case] errno: i32, #[case] hint: &str) {
        let w = landlock(&m, Some(errno)).expect("a cause");
        assert!(
            w.why.contains(hint) || w.fix.as_deref().is_some_and(|f| f.contains(hint)),
            "{w:?}"
        );
    }

    #[test]
    fn signal_scoping_names_the_abi_it_needs() {
        let w = signal_scoping(&user(), 4);
        assert!(w.is_some_and(|w| w.why.contains("ABI 4") && w.why.contains("6.12")));
    }
}
