//! Process control for untrusted programs: the supervisor, its protocol, namespaces, limits,
//! identities, the pty, `/proc`, and copying submissions. All process control lives here.

pub mod copy;
pub mod identity;
pub mod limits;
pub mod names;
pub mod namespaces;
pub mod proc_events;
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
    /// What runs really get on this machine, probed once per process: a trivial run is
    /// started with every guarantee asked for, and whatever the supervisor could not set up
    /// (no root, or a container without the capabilities) is dropped. Runs then ask only for
    /// what works, and the report header states it.
    pub fn current(settings: &crate::settings::Settings) -> Guarantees {
        static PROBED: std::sync::OnceLock<Guarantees> = std::sync::OnceLock::new();
        PROBED.get_or_init(|| probe(settings)).clone()
    }

    fn none() -> Guarantees {
        Guarantees {
            separate_uid: false,
            private_network: false,
            private_tmp: false,
        }
    }
}

fn probe(settings: &crate::settings::Settings) -> Guarantees {
    use std::os::unix::fs::PermissionsExt;
    if !identity::available() {
        return Guarantees::none();
    }
    let Ok(dir) = tempfile::Builder::new().prefix("sysgrade-probe-").tempdir() else {
        return Guarantees::none();
    };
    let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711));
    let lease = identity::lease();
    let spec = protocol::Spec {
        program: std::path::PathBuf::from("/bin/true"),
        args: Vec::new(),
        cwd: dir.path().to_path_buf(),
        env: Vec::new(),
        identity: lease.as_ref().map(|l| (l.uid, l.gid)),
        limits: settings.limits,
        wall_limit_ms: 10_000,
        private_network: true,
        private_tmp: true,
        own_root: dir.path().to_path_buf(),
        hold: false,
        join_network: None,
    };
    let limit = std::time::Duration::from_secs(10);
    match crate::run::oneshot::run_to_end(settings, spec, limit, dir.path()) {
        Ok(Ok(done)) => {
            let failed = |word: &str| done.problems.iter().any(|p| p.contains(word));
            Guarantees {
                separate_uid: lease.is_some() && done.exit == Some(protocol::Exit::Code(0)),
                private_network: !failed("network") && !failed("loopback"),
                private_tmp: !failed("mount") && !failed("private /") && !failed("binding"),
            }
        }
        _ => Guarantees::none(),
    }
}
