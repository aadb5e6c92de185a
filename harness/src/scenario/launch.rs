//! `Launch`: how a scenario starts one run of the program (arguments, environment, shims,
//! a shared network).

use crate::run::Run;
use std::path::PathBuf;

/// How to start one run of the program.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub args: Vec<String>,
    /// Variables set on top of the standard environment (or instead of it, see `bare_env`).
    pub env: Vec<(String, String)>,
    /// Variables removed from the standard environment.
    pub unset: Vec<String>,
    /// Only `env`, none of the standard variables.
    pub bare_env: bool,
    /// Folders put first on PATH (shims).
    pub path_first: Vec<PathBuf>,
    /// Share the network namespace of this live supervisor (see [`Launch::network_of`]).
    pub join_network: Option<i32>,
    /// Have the supervisor report every file the program removes, read just before (see
    /// [`Launch::observe_removals`]).
    pub observe_removals: bool,
    /// Have the supervisor report every fork, exec, exit and reaping of the program's tree
    /// (see [`Launch::observe_processes`]).
    pub observe_processes: bool,
}

impl Launch {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    pub fn unset(mut self, k: impl Into<String>) -> Self {
        self.unset.push(k.into());
        self
    }
    pub fn bare_env(mut self) -> Self {
        self.bare_env = true;
        self
    }
    /// Puts `dir` first on PATH (a shim such as a counting `ffmpeg`).
    pub fn path_first(mut self, dir: impl Into<PathBuf>) -> Self {
        self.path_first.push(dir.into());
        self
    }
    /// Runs in the network of `earlier` (kept alive, though its program may be ended) instead
    /// of a fresh one: a restarted server meets the connections it left in TIME_WAIT.
    pub fn network_of(mut self, earlier: &Run) -> Self {
        self.join_network = earlier.supervisor_pid();
        self
    }
    /// Each regular file the program's tree removes is read just before it goes, its size
    /// and first bytes reported (`Run::removed`): a file written and deleted at once is seen
    /// as it was, in every mode, without fanotify.
    pub fn observe_removals(mut self) -> Self {
        self.observe_removals = true;
        self
    }
    /// Every fork, exec, exit and reaping in the program's tree is reported by the supervisor
    /// (`Run::process_tree`): the process events without the kernel's connector, in every
    /// mode.
    pub fn observe_processes(mut self) -> Self {
        self.observe_processes = true;
        self
    }
}
