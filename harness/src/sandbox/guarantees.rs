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
    /// How a run's network is held.
    #[serde(default)]
    pub network: NetworkHold,
}

/// How a run's network is held, for the report header.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, PartialEq, Eq, Default)]
#[serde(tag = "held", rename_all = "snake_case")]
pub enum NetworkHold {
    /// A network namespace of its own: only its own loopback.
    PrivateNamespace,
    /// The host's network, but TCP only to the ports its exercise needs (Landlock's network
    /// rules) and no other socket family or type (the socket filter).
    TcpPorts { landlock_abi: u32 },
    /// The host's network, unrestricted.
    #[default]
    NotContained,
}

impl NetworkHold {
    /// In words, with the `ports` the graded exercises need.
    pub fn describe(self, ports: &[u16]) -> String {
        match self {
            NetworkHold::PrivateNamespace => "private network namespace".into(),
            NetworkHold::TcpPorts { landlock_abi } if ports.is_empty() => {
                format!("no TCP port at all (Landlock ABI {landlock_abi})")
            }
            NetworkHold::TcpPorts { landlock_abi } => {
                let list: Vec<String> = ports.iter().map(u16::to_string).collect();
                format!(
                    "TCP ports {} only (Landlock ABI {landlock_abi})",
                    list.join(", ")
                )
            }
            NetworkHold::NotContained => "not contained".into(),
        }
    }
}

impl Guarantees {
    /// Probed once per process, with `supervisor` as the supervisor binary.
    pub fn current(supervisor: &Path) -> Guarantees {
        Probe::current(supervisor).guarantees.clone()
    }

    /// The sandbox a run asks for, given its view, whether it wants a private network and
    /// the TCP ports it needs (held to those where it gets the host's network instead).
    pub fn sandbox(&self, view: View, network: Network, ports: &[u16]) -> Sandbox {
        let contained = network != Network::Host;
        let network = match network {
            Network::Private | Network::Join(_) if !self.private_network => Network::Host,
            other => other,
        };
        let held_to_ports = matches!(self.network, NetworkHold::TcpPorts { .. });
        Sandbox {
            namespaces: self.namespaces,
            network,
            landlock: !self.namespaces && self.landlock_abi > 0,
            view,
            tcp_ports: (contained && network == Network::Host && held_to_ports)
                .then(|| ports.to_vec()),
        }
    }

    /// Leftovers in the shared scratch places can be told apart per run: each run has its
    /// own, or its own uid.
    pub fn attributable(&self) -> bool {
        self.private_tmp || self.separate_uid
    }
}

/// What the probe saw: the guarantees, and the evidence each rests on. `grade` keeps the
/// guarantees; `sysgrade doctor` reads the evidence too, so both rest on the same runs.
#[derive(Debug, Clone)]
pub struct Probe {
    pub guarantees: Guarantees,
    /// The run that asked for every layer, or why it could not be made.
    pub full: Result<Seen, String>,
    /// The run confined by Landlock alone, when it was tried: namespaces did not hold and the
    /// kernel has Landlock.
    pub confined: Option<Result<Seen, String>>,
    /// The run held to no TCP port, with the socket filter, when it was tried: the network
    /// namespace did not hold and the kernel's Landlock has TCP rules.
    pub network_rules: Option<Result<Seen, String>>,
    /// The kernel's Landlock ABI, or why it offers none.
    pub landlock: Result<u32, String>,
    /// The grader is root (it then needs no user namespace, and leases uids).
    pub root: bool,
    /// A uid of the pool could be leased for the probe's runs.
    pub leased: bool,
}

/// What one probing run reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// Each layer the supervisor could not set up, with its message.
    pub problems: Vec<(Facility, String)>,
    /// How `/bin/true` ended, if it was seen to.
    pub exit: Option<Exit>,
    /// Why the program could not be started, if it could not.
    pub spawn_failed: Option<String>,
    /// The program's pid as the grader sees it, and as it sees itself.
    pub pid: Option<i32>,
    pub own_pid: Option<i32>,
}

impl Seen {
    /// The supervisor's message for `facility`, if it reported a problem with it.
    pub fn problem(&self, facility: Facility) -> Option<&str> {
        self.problems
            .iter()
            .find(|(f, _)| *f == facility)
            .map(|(_, e)| e.as_str())
    }

    /// The trivial program ran and exited with 0.
    pub fn succeeded(&self) -> bool {
        self.exit == Some(Exit::Code(0))
    }

    /// Every namespace and the private root held: the program ran, in a pid namespace of
    /// its own, and nothing was reported missing but (possibly) the network.
    pub fn namespaces_held(&self) -> bool {
        const LAYERS: [Facility; 5] = [
            Facility::UserNamespace,
            Facility::PidNamespace,
            Facility::MountNamespace,
            Facility::IpcNamespace,
            Facility::Filesystem,
        ];
        self.succeeded()
            && self.own_pid.is_some()
            && self.own_pid != self.pid
            && !LAYERS.iter().any(|f| self.problem(*f).is_some())
    }
}

impl Probe {
    /// Probed once per process, with `supervisor` as the supervisor binary.
    pub fn current(supervisor: &Path) -> &'static Probe {
        static PROBED: std::sync::OnceLock<Probe> = std::sync::OnceLock::new();
        PROBED.get_or_init(|| probe(supervisor))
    }

    /// The guarantees this evidence supports.
    pub fn derive(&self) -> Guarantees {
        let mut g = Guarantees::default();
        if let Ok(seen) = &self.full {
            g.separate_uid = self.leased && seen.succeeded();
            g.namespaces = seen.namespaces_held();
            g.private_network = g.namespaces && seen.problem(Facility::Network).is_none();
            g.private_tmp = g.namespaces;
            g.private_filesystem = g.namespaces;
            g.user_namespace = g.namespaces && !self.root;
        }
        let abi = self.landlock.as_ref().map_or(0, |a| *a);
        if let Some(Ok(seen)) = &self.confined {
            if !g.namespaces && seen.succeeded() && seen.problem(Facility::Landlock).is_none() {
                g.landlock_abi = abi;
                g.private_filesystem = true;
            }
        }
        g.signals_contained =
            g.namespaces || g.separate_uid || landlock::scopes_signals(g.landlock_abi);
        g.network = if g.private_network {
            NetworkHold::PrivateNamespace
        } else if self.network_rules_held() {
            NetworkHold::TcpPorts { landlock_abi: abi }
        } else {
            NetworkHold::NotContained
        };
        g
    }

    /// The run held to TCP ports started, ran and reported nothing missing.
    pub fn network_rules_held(&self) -> bool {
        matches!(&self.network_rules, Some(Ok(seen)) if seen.succeeded()
            && seen.problem(Facility::NetworkRules).is_none())
    }
}

fn probe(supervisor: &Path) -> Probe {
    use std::os::unix::fs::PermissionsExt;
    let root = nix::unistd::geteuid().is_root();
    let landlock = landlock::version().map_err(|e| e.to_string());
    let dir = match tempfile::Builder::new().prefix("sysgrade-probe-").tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            return Probe {
                guarantees: Guarantees::default(),
                full: Err(format!("making a folder for the probe: {e}")),
                confined: None,
                network_rules: None,
                landlock,
                root,
                leased: false,
            }
        }
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
        observe_processes: false,
    };
    let full = trial(
        supervisor,
        &spec(Sandbox {
            namespaces: true,
            network: Network::Private,
            landlock: false,
            view: view.clone(),
            tcp_ports: None,
        }),
    );
    let namespaces = full.as_ref().is_ok_and(Seen::namespaces_held);
    let private_network = namespaces
        && full
            .as_ref()
            .is_ok_and(|seen| seen.problem(Facility::Network).is_none());
    let abi = landlock.as_ref().map_or(0, |abi| *abi);
    let confined = (!namespaces && abi > 0).then(|| {
        trial(
            supervisor,
            &spec(Sandbox {
                namespaces: false,
                network: Network::Host,
                landlock: true,
                view: view.clone(),
                tcp_ports: None,
            }),
        )
    });
    let network_rules = (!private_network && landlock::holds_tcp_ports(abi)).then(|| {
        trial(
            supervisor,
            &spec(Sandbox {
                namespaces,
                network: Network::Host,
                landlock: false,
                view,
                tcp_ports: Some(Vec::new()),
            }),
        )
    });
    let mut probe = Probe {
        guarantees: Guarantees::default(),
        full,
        confined,
        network_rules,
        landlock,
        root,
        leased: lease.is_some(),
    };
    probe.guarantees = probe.derive();
    probe
}

/// Runs `spec` under a fresh supervisor to its end and collects its reports.
fn trial(supervisor: &Path, spec: &Spec) -> Result<Seen, String> {
    use std::io::{BufRead, BufReader, Write};
    let failed = |what: &str| {
        let what = what.to_string();
        move |e: std::io::Error| format!("{what}: {e}")
    };
    let launched = super::handle::start(supervisor, super::handle::Streams::null())
        .map_err(failed("starting the supervisor"))?;
    let mut control = launched
        .control
        .try_clone()
        .map_err(failed("the control socket"))?;
    let line = serde_json::to_string(spec).map_err(|e| format!("the run's spec: {e}"))?;
    writeln!(control, "{line}").map_err(failed("sending the run's spec"))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let reader = BufReader::new(
        launched
            .control
            .try_clone()
            .map_err(failed("the control socket"))?,
    );
    let _ = launched
        .control
        .set_read_timeout(Some(Duration::from_secs(20)));
    let mut seen = Seen::default();
    for line in reader.lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<Report>(&line) {
            Ok(Report::Problem { facility, error }) => seen.problems.push((facility, error)),
            Ok(Report::Started { pid, own_pid }) => {
                seen.pid = Some(pid);
                seen.own_pid = Some(own_pid);
            }
            Ok(Report::Reaped {
                exit, main: true, ..
            }) => seen.exit = Some(exit),
            Ok(Report::SpawnFailed { error }) => {
                seen.spawn_failed = Some(error);
                break;
            }
            Ok(Report::Empty) => break,
            _ => {}
        }
        if Instant::now() > deadline {
            break;
        }
    }
    let _ = super::protocol::Command::Quit.send(&control);
    launched.finish();
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(root: bool, full: Seen, confined: Option<Seen>) -> Probe {
        Probe {
            guarantees: Guarantees::default(),
            full: Ok(full),
            confined: confined.map(Ok),
            network_rules: None,
            landlock: Ok(7),
            root,
            leased: root,
        }
    }

    fn ran(problems: &[Facility]) -> Seen {
        Seen {
            problems: problems
                .iter()
                .map(|f| (*f, format!("{f:?}: refused")))
                .collect(),
            exit: Some(Exit::Code(0)),
            spawn_failed: None,
            pid: Some(4242),
            own_pid: Some(if problems.contains(&Facility::PidNamespace) {
                4242
            } else {
                2
            }),
        }
    }

    #[test]
    fn root_with_every_layer_keeps_them_all() {
        let g = probe(true, ran(&[]), None).derive();
        assert!(g.namespaces && g.private_network && g.separate_uid && g.signals_contained);
        assert!(!g.user_namespace);
        assert_eq!(g.landlock_abi, 0);
    }

    #[test]
    fn a_container_falls_back_to_landlock() {
        let refused = [
            Facility::Network,
            Facility::IpcNamespace,
            Facility::MountNamespace,
            Facility::PidNamespace,
        ];
        let g = probe(true, ran(&refused), Some(ran(&[]))).derive();
        assert!(!g.namespaces && !g.private_network && !g.private_tmp);
        assert_eq!(g.landlock_abi, 7);
        assert!(g.private_filesystem && g.separate_uid && g.signals_contained);
    }

    #[test]
    fn a_container_holds_the_network_to_the_exercise_ports() {
        let refused = [Facility::Network, Facility::PidNamespace];
        let p = Probe {
            network_rules: Some(Ok(ran(&[]))),
            ..probe(true, ran(&refused), Some(ran(&[])))
        };
        let g = p.derive();
        assert_eq!(g.network, NetworkHold::TcpPorts { landlock_abi: 7 });
        let view = View::default();
        let run = g.sandbox(view.clone(), Network::Private, &[65432]);
        assert_eq!(run.network, Network::Host);
        assert_eq!(run.tcp_ports, Some(vec![65432]));
        assert!(run.landlock);
        let cargo = g.sandbox(view, Network::Host, &[65432]);
        assert_eq!(
            cargo.tcp_ports, None,
            "a build that fetches crates keeps the network"
        );
        assert_eq!(
            g.network.describe(&[55555, 65432]),
            "TCP ports 55555, 65432 only (Landlock ABI 7)"
        );
    }

    #[test]
    fn network_rules_that_failed_leave_the_network_not_contained() {
        let refused = [Facility::Network, Facility::PidNamespace];
        let p = Probe {
            network_rules: Some(Ok(ran(&[Facility::NetworkRules]))),
            ..probe(true, ran(&refused), Some(ran(&[])))
        };
        let g = p.derive();
        assert_eq!(g.network, NetworkHold::NotContained);
        assert_eq!(g.network.describe(&[65432]), "not contained");
        let run = g.sandbox(View::default(), Network::Private, &[65432]);
        assert_eq!(run.tcp_ports, None);
    }

    #[test]
    fn a_private_network_needs_no_port_rules() {
        let g = probe(true, ran(&[]), None).derive();
        assert_eq!(g.network, NetworkHold::PrivateNamespace);
        let run = g.sandbox(View::default(), Network::Private, &[65432]);
        assert_eq!((run.network, run.tcp_ports), (Network::Private, None));
    }

    #[test]
    fn a_refused_network_keeps_the_other_namespaces() {
        let g = probe(false, ran(&[Facility::Network]), None).derive();
        assert!(g.namespaces && g.user_namespace && !g.private_network);
        assert!(!g.separate_uid);
    }

    #[test]
    fn a_probe_that_could_not_run_promises_nothing() {
        let p = Probe {
            full: Err("starting the supervisor: denied".into()),
            ..probe(true, Seen::default(), None)
        };
        assert_eq!(p.derive(), Guarantees::default());
    }
}
