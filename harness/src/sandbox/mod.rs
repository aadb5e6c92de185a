//! Process control for untrusted programs: the supervisor, its protocol, namespaces, limits,
//! identities, the pty, `/proc`, and copying submissions. All process control lives here.

pub mod copy;
pub mod identity;
pub mod limits;
pub mod names;
pub mod namespaces;
pub mod procfs;
pub mod protocol;
pub mod pty;
pub mod reach;
pub mod supervisor;

/// The guarantees in force for the runs of this grader, for the report header.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Guarantees {
    /// Programs run as an unprivileged uid of their own (the grader is root).
    pub separate_uid: bool,
    /// Each run has a network namespace of its own.
    pub private_network: bool,
    /// Each run has /tmp, /var/tmp and /dev/shm of its own.
    pub private_tmp: bool,
}

impl Guarantees {
    /// What this machine and this process allow.
    pub fn detect() -> Self {
        let root = identity::available();
        Guarantees {
            separate_uid: root,
            private_network: root,
            private_tmp: root,
        }
    }
}
