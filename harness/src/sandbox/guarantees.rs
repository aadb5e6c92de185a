//! What the sandbox really gives on this machine, probed once per process: a trivial run asks
//! for every layer, and whatever the supervisor reports it could not set up is dropped. Runs
//! then ask only for what works, and the report header states it.

use super::protocol::{Exit, Facility, Limits, Network, Report, Sandbox, Spec, View};
use super::{identity, landlock};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The guarantees in force for the runs of this grader, for the report header.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq, Default)]
pub struct Guarantees {
    /// Programs run as an unprivileged uid of their own (the grader is root).
    pub separate_uid: bool,
    /// Each run has a network namespace of its own.
    pub private_network: bool,
    /// Each run has `/tmp`, `/var/tmp`, `/dev/shm` and `/run/lock` of its own.
    pub private_tmp: bool,
    /// Each run has pid, mount and IPC namespaces of its own: `kill(-1)` and `/proc` reach
    /// only its own processes.
    #[serde(default)]
    pub namespaces: bool,
    /// The namespaces hang off an unprivileged user namespace (the grader is not root).
    #[serde(default)]
    pub user_namespace: bool,
    /// A run sees only the system (read-only), its copy of the submission and its home: not
    /// the class folder nor other runs' copies (a private root, or Landlock).
    #[serde(default)]
    pub private_filesystem: bool,
    /// The Landlock ABI enforced on programs (0: Landlock not used).
    #[serde(default)]
    pub landlock_abi: u32,
    /// A program's `kill(-1)` cannot reach the grader or other runs (pid namespace, a uid of
    /// its own, or Landlock's signal scoping).
    #[serde(default)]
    pub signals_contained: bool,
}

impl Guarantees {
    /// Probed once per process, with `supervisor` as the supervisor binary.
    pub fn current(supervisor: &Path) -> Guarantees {
        static PROBED: std::sync::OnceLock<Guarantees> = std::sync::OnceLock::new();
        PROBED.get_or_init(|| probe(supervisor)).clone()
    }

    /// The sandbox a run asks for, given its view and whether it wants a private network.
    pub fn sandbox(&self, view: View, network: Network) -> Sandbox {
        let network = match network {
            Network::Private | Network::Join(_) if !self.private_network => Network::Host,
            other => other,
        };
        Sandbox {
            namespaces: self.namespaces,
            network,
            landlock: !self.namespaces && self.landlock_abi > 0,
            view,
        }
    }

    /// Leftovers in the shared scratch places can be told apart per run: each run has its
    /// own, or its own uid.
    pub fn attributable(&self) -> bool {
        self.private_tmp || self.separate_uid
    }
}

fn probe(supervisor: &Path) -> Guarantees {
    use std::os::unix::fs::PermissionsExt;
    let Ok(dir) = tempfile::Builder::new().prefix("sysgrade-probe-").tempdir() else {
        return Guarantees::default();
    };
    let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711));
    let lease = identity::lease();
    let view = View {
        rw: vec![dir.path().to_path_buf()],
        ro: Vec::new(),
    };
    let spec = |sandbox: Sandbox| Spec {
        program: PathBuf::from("/bin/true"),
        args: Vec::new(),
        cwd: dir.path().to_path_buf(),
        env: Vec::new(),
        identity: lease.as_ref().map(|l| (l.uid, l.gid)),
        limits: Limits::default(),
        wall_limit_ms: 10_000,
        sandbox,
        hold: false,
        observe_removals: false,
    };
    let mut g = Guarantees::default();
    let full = Sandbox {
        namespaces: true,
        network: Network::Private,
        landlock: false,
        view: view.clone(),
    };
    if let Some(seen) = trial(supervisor, &spec(full)) {
        let failed = |f: Facility| seen.problems.contains(&f);
        let layers = [
            Facility::UserNamespace,
            Facility::PidNamespace,
            Facility::MountNamespace,
            Facility::IpcNamespace,
            Facility::Filesystem,
        ];
        g.separate_uid = lease.is_some() && seen.exit == Some(Exit::Code(0));
        g.namespaces = seen.exit == Some(Exit::Code(0))
            && seen.own_pid.is_some()
            && seen.own_pid != seen.pid
            && !layers.iter().any(|f| failed(*f));
        g.private_network = g.namespaces && !failed(Facility::Network);
        g.private_tmp = g.namespaces;
        g.private_filesystem = g.namespaces;
        g.user_namespace = g.namespaces && !nix::unistd::geteuid().is_root();
    }
    if !g.namespaces && landlock::abi() > 0 {
        let confined = Sandbox {
            namespaces: false,
            network: Network::Host,
            landlock: true,
            view,
        };
        if let Some(seen) = trial(supervisor, &spec(confined)) {
            if seen.exit == Some(Exit::Code(0)) && !seen.problems.contains(&Facility::Landlock) {
                g.landlock_abi = landlock::abi();
                g.private_filesystem = true;
            }
        }
    }
    g.signals_contained =
        g.namespaces || g.separate_uid || landlock::scopes_signals(g.landlock_abi);
    g
}

/// What one probing run reported.
struct Seen {
    problems: Vec<Facility>,
    exit: Option<Exit>,
    pid: Option<i32>,
    own_pid: Option<i32>,
}

/// Runs `spec` under a fresh supervisor to its end and collects its reports.
fn trial(supervisor: &Path, spec: &Spec) -> Option<Seen> {
    use std::io::{BufRead, BufReader, Write};
    let launched = super::handle::start(supervisor, super::handle::Streams::null()).ok()?;
    let mut control = launched.control.try_clone().ok()?;
    writeln!(control, "{}", serde_json::to_string(spec).ok()?).ok()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let reader = BufReader::new(launched.control.try_clone().ok()?);
    let _ = launched
        .control
        .set_read_timeout(Some(Duration::from_secs(20)));
    let mut seen = Seen {
        problems: Vec::new(),
        exit: None,
        pid: None,
        own_pid: None,
    };
    for line in reader.lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<Report>(&line) {
            Ok(Report::Problem { facility, .. }) => seen.problems.push(facility),
            Ok(Report::Started { pid, own_pid }) => {
                seen.pid = Some(pid);
                seen.own_pid = Some(own_pid);
            }
            Ok(Report::Reaped {
                exit, main: true, ..
            }) => seen.exit = Some(exit),
            Ok(Report::Empty | Report::SpawnFailed { .. }) => break,
            _ => {}
        }
        if Instant::now() > deadline {
            break;
        }
    }
    let _ = super::protocol::Command::Quit.send(&control);
    launched.finish();
    Some(seen)
}
