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
    /// A network namespace of its own, with loopback up.
    pub private_network: bool,
    /// A mount namespace with private tmpfs on `/tmp`, `/var/tmp` and `/dev/shm` (the
    /// grading folder `own_root` stays visible at its path).
    pub private_tmp: bool,
    /// The grading folder (holds the program's copy): kept reachable inside a private /tmp.
    #[serde(default)]
    pub own_root: PathBuf,
    /// After `Ready`, wait for `Go` before starting the program, so the grader can set up
    /// things inside the run's namespaces first.
    #[serde(default)]
    pub hold: bool,
    /// With `private_network`: join the network namespace of this live process (the
    /// supervisor of an earlier run) instead of making a new one, so that a restarted program
    /// meets what the earlier run left there (connections in TIME_WAIT).
    #[serde(default)]
    pub join_network: Option<i32>,
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
    /// Kill everything left and exit.
    Quit,
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
    /// Namespaces are set up; `pid` is the supervisor's own.
    Ready {
        pid: i32,
    },
    Started {
        pid: i32,
    },
    SpawnFailed {
        error: String,
    },
    /// A descendant was reaped, `at_ms` after the program started.
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
    /// Setting something up failed (namespaces, limits).
    Problem {
        error: String,
    },
}
