//! The facts about this machine that explain a missing layer: who the grader is, the
//! kernel, a seccomp filter, capabilities, and the switches distributions use to restrict
//! user namespaces. Read once from `/proc`; hand-built in tests.

use crate::sandbox::procfs::status_value;

/// `CAP_NET_ADMIN`'s bit in the capability sets.
pub const CAP_NET_ADMIN: u32 = 12;
/// `CAP_SYS_ADMIN`'s bit.
pub const CAP_SYS_ADMIN: u32 = 21;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Machine {
    pub uid: u32,
    pub root: bool,
    /// `/proc/sys/kernel/osrelease`, e.g. `6.18.0-1-amd64`.
    pub kernel: String,
    /// `Seccomp:` of `/proc/self/status`: 0 none, 1 strict, 2 a filter.
    pub seccomp: Option<u32>,
    /// `CapEff:` of `/proc/self/status`.
    pub capabilities: Option<u64>,
    /// `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu 23.10+).
    pub apparmor_restrict_userns: Option<u64>,
    /// `user.max_user_namespaces`.
    pub max_user_namespaces: Option<u64>,
    /// `kernel.unprivileged_userns_clone` (Debian's older kernels).
    pub unprivileged_userns_clone: Option<u64>,
}

impl Machine {
    /// This process's view of the machine.
    pub fn read() -> Machine {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let uid = nix::unistd::geteuid();
        Machine {
            uid: uid.as_raw(),
            root: uid.is_root(),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|k| k.trim().to_string())
                .unwrap_or_default(),
            seccomp: status_value(&status, "Seccomp").and_then(|v| v.trim().parse().ok()),
            capabilities: status_value(&status, "CapEff")
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok()),
            apparmor_restrict_userns: sysctl("kernel/apparmor_restrict_unprivileged_userns"),
            max_user_namespaces: sysctl("user/max_user_namespaces"),
            unprivileged_userns_clone: sysctl("kernel/unprivileged_userns_clone"),
        }
    }

    /// A seccomp filter is on this process (and so on the grader's runs).
    pub fn filtered(&self) -> bool {
        self.seccomp == Some(2)
    }

    /// The capability `bit` is in effect (unknown counts as not).
    pub fn has(&self, bit: u32) -> bool {
        self.capabilities.is_some_and(|c| c & (1 << bit) != 0)
    }

    /// The kernel is at least `major.minor` (an unreadable release counts as not).
    pub fn kernel_at_least(&self, major: u32, minor: u32) -> bool {
        let mut parts = self
            .kernel
            .split(|c: char| !c.is_ascii_digit())
            .map(|p| p.parse::<u32>().ok());
        match (parts.next().flatten(), parts.next().flatten()) {
            (Some(a), Some(b)) => (a, b) >= (major, minor),
            _ => false,
        }
    }
}

/// A number under `/proc/sys`, if the file exists.
fn sysctl(name: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/sys/{name}"))
        .ok()
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_versions_compare_by_number() {
        let m = |k: &str| Machine {
            kernel: k.into(),
            ..Machine::default()
        };
        assert!(m("6.18.0-1-amd64").kernel_at_least(6, 6));
        assert!(!m("6.1.0-28-amd64").kernel_at_least(6, 6));
        assert!(m("10.0").kernel_at_least(6, 12));
        assert!(!m("").kernel_at_least(5, 13));
    }

    #[test]
    fn this_machine_is_read() {
        let m = Machine::read();
        assert!(!m.kernel.is_empty());
        assert_eq!(m.root, m.uid == 0);
        assert!(m.seccomp.is_some(), "Seccomp: is in /proc/self/status");
    }
}
