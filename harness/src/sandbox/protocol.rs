//! The messages between the grader and a run's supervisor: JSON lines over a socket pair.
//!
//! The grader writes one [`Spec`] and then [`Command`]s; the supervisor answers with
//! [`Report`]s. Keeping this a plain data module lets both sides evolve independently.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The argument that turns a grader binary into a supervisor (see `supervisor::dispatch`).
pub const SUPERVISOR_ARG: &str = "__sysgrade_supervise";
/// The descriptor the control socket arrives on in the supervisor.
pub const CONTROL_FD: i32 = 3;
/// The descriptor of the socket channel (descriptors passed to the grader).
pub const CHANNEL_FD: i32 = 4;

/// Everything the supervisor needs to start one program.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    /// Run as this uid/gid (only honoured when the supervisor is root).
    pub identity: Option<(u32, u32)>,
    pub limits: Limits,
    /// Everything is killed once the program has run this long.
    pub wall_limit_ms: u64,
    /// How the run is confined: namespaces, its view of the file system, Landlock.
    pub sandbox: Sandbox,
    /// After `Ready`, wait for `Go` before starting the program, so the grader can set up
    /// things inside the run's namespaces first.
    #[serde(default)]
    pub hold: bool,
    /// Report every regular file the program's tree removes, with its size and first bytes,
    /// as it was just before the removal (see `sandbox::removals`).
    #[serde(default)]
    pub observe_removals: bool,
    /// Report every fork, exec, exit and reaping in the program's tree, seen through the same
    /// seccomp filter (see `sandbox::proc_calls`): the process events without the kernel's
    /// connector.
    #[serde(default)]
    pub observe_processes: bool,
}

/// The confinement of one run. Each layer is asked for only where the probe found it works
/// (see `sandbox::Guarantees`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Sandbox {
    /// Fresh pid, mount and IPC namespaces (after a user namespace when the grader is not
    /// root), and a private root file system: the system read-only, `view` and private
    /// `/tmp`, `/var/tmp`, `/dev/shm` and `/run/lock`. The program is pid 2 under the
    /// supervisor's pid 1.
    pub namespaces: bool,
    /// The network the program sees.
    pub network: Network,
    /// Landlock rules matching `view` (with `/tmp` and friends writable), and signals and
    /// abstract sockets scoped to the run where the kernel can: for machines that refuse
    /// namespaces (containers, restricted user namespaces).
    pub landlock: bool,
    /// The paths the program may see besides the system.
    pub view: View,
    /// Where the run shares the host's network but must not use it: the only TCP ports it
    /// may bind and connect to (Landlock's network rules), every other socket family and
    /// type refused (`sandbox::netfilter`). `None`: not restricted.
    #[serde(default)]
    pub tcp_ports: Option<Vec<u16>>,
}

/// Which network a run gets.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// The machine's own (builds that fetch crates; machines without namespaces).
    #[default]
    Host,
    /// A network namespace of its own, with loopback up.
    Private,
    /// The network (and user) namespace of this live process, the supervisor of an earlier
    /// run, so that a restarted program meets what that run left (connections in TIME_WAIT).
    Join(i32),
}

/// Paths bound into the run's root at the same place, or allowed by Landlock.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct View {
    /// Read-write: the run's copy of the submission, its home.
    pub rw: Vec<PathBuf>,
    /// Read-only: the built program, an interpreter outside the system folders, shims.
    pub ro: Vec<PathBuf>,
}

/// Resource limits applied to the program (and inherited by all it starts).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Limits {
    pub cpu_seconds: u64,
    pub processes: u64,
    pub file_size_bytes: u64,
    pub open_files: u64,
    pub address_space_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu_seconds: 60,
            processes: 128,
            file_size_bytes: 512 << 20,
            open_files: 256,
            address_space_bytes: 4 << 30,
        }
    }
}

/// Grader to supervisor, after the spec.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Start the program (after a `hold`).
    Go,
    /// Kill every descendant and reap them all.
    KillAll,
    /// Make a TCP socket in the run's network and send it back over the socket channel
    /// (descriptor 4): the grader's own clients and servers live in the run's network even
    /// when it may not enter it (a user namespace it does not own).
    TcpSocket { ipv6: bool },
    /// Make a `NETLINK_SOCK_DIAG` socket in the run's network and send it back the same way:
    /// the grader asks the run's socket table through it.
    DiagSocket,
    /// Read the options of the socket listening on TCP `port` in the run's network, held by
    /// one of the run's processes (answered with `Report::Listener`).
    ListenerOptions { port: u16 },
    /// Kill everything left and exit.
    Quit,
}

impl Command {
    /// Sends the command to a supervisor over its control socket: one JSON line.
    pub fn send(&self, control: &std::os::unix::net::UnixStream) -> std::io::Result<()> {
        use std::io::Write;
        let line = serde_json::to_string(self).map_err(std::io::Error::other)?;
        (&*control).write_all(format!("{line}\n").as_bytes())
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// Supervisor to grader.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum Report {
    /// Namespaces are set up; `pid` is the supervisor's own, as the grader sees it.
    Ready {
        pid: i32,
    },
    /// The program started: `pid` as the grader sees it, `own_pid` as the program sees
    /// itself (in its pid namespace).
    Started {
        pid: i32,
        own_pid: i32,
    },
    SpawnFailed {
        error: String,
    },
    /// A descendant was reaped, `at_ms` after the program started (`pid` as the program's
    /// processes see it).
    Reaped {
        pid: i32,
        exit: Exit,
        main: bool,
        at_ms: u64,
    },
    /// No descendant is left, alive or zombie.
    Empty,
    /// The wall-clock limit ran out and everything was killed.
    WallLimit,
    /// A `KillAll` finished; `killed` processes were signalled.
    KilledAll {
        killed: usize,
    },
    /// The answer to `Command::ListenerOptions`: the options, or why they could not be read.
    Listener {
        port: u16,
        options: Result<ListenerOptions, String>,
    },
    /// A regular file the program's tree was about to remove (`Spec::observe_removals`),
    /// read just before the removal: its path, size and first bytes.
    Removed {
        path: PathBuf,
        size: u64,
        head: Vec<u8>,
    },
    /// A process event of the program's tree (`Spec::observe_processes`).
    Process {
        event: ProcEvent,
    },
    /// Setting something up failed; the run goes on without it.
    Problem {
        facility: Facility,
        error: String,
    },
}

/// One fork, exec, exit or reaping seen by the supervisor (`Spec::observe_processes`). Pids
/// are as the program's processes see them; `at_ns` is `CLOCK_MONOTONIC`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum ProcEvent {
    /// The supervisor, whose descendants are followed (sent first).
    Root {
        pid: i32,
    },
    /// `pid` appeared below `parent` (the supervisor, for the program itself).
    Fork {
        pid: i32,
        parent: i32,
        at_ns: u64,
    },
    /// `pid` became `command`.
    Exec {
        pid: i32,
        command: String,
        at_ns: u64,
    },
    Exit {
        pid: i32,
        exit: Exit,
        at_ns: u64,
    },
    /// Its zombie is gone: its parent, or the supervisor, reaped it.
    Reaped {
        pid: i32,
        at_ns: u64,
    },
}

/// A listening TCP socket as its holder set it up, read by the supervisor.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct ListenerOptions {
    /// The process holding it, as the run's processes see it, and the descriptor.
    pub holder: i32,
    pub fd: i32,
    pub reuse_addr: bool,
    pub reuse_port: bool,
}

/// A layer of the sandbox, as named in a [`Report::Problem`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Facility {
    UserNamespace,
    PidNamespace,
    MountNamespace,
    IpcNamespace,
    Network,
    Filesystem,
    Landlock,
    /// Observing what the program removes (`Spec::observe_removals`).
    Removals,
    /// The TCP ports and socket families of a run without a network of its own
    /// (`Sandbox::tcp_ports`).
    NetworkRules,
    /// Observing the program's processes (`Spec::observe_processes`).
    Processes,
}
