//! Grader-wide settings: the time scale, parallelism, limits, and where tools are.

use crate::sandbox::protocol::Limits;
use std::path::PathBuf;

/// The environment variable that multiplies every deadline (for slow machines).
pub const TIME_SCALE_VAR: &str = "SYSGRADE_TIME_SCALE";

#[derive(Debug, Clone)]
pub struct Settings {
    /// Every deadline is multiplied by this.
    pub time_scale: f64,
    /// Scenarios run at once.
    pub jobs: usize,
    /// The binary to re-run as a supervisor (one that calls `supervisor::dispatch` first).
    pub supervisor: PathBuf,
    /// The Python interpreter for `.py` programs.
    pub python: PathBuf,
    pub limits: Limits,
    /// Bytes of output kept per stream before a program counts as flooding.
    pub output_cap: u64,
    /// Wall-clock limit of one run, nominal seconds.
    pub run_wall_limit_secs: u64,
    /// Where cargo submissions are built (shared, so repeated gradings reuse the build).
    pub cargo_target_dir: Option<PathBuf>,
    /// Wall-clock limit of one build, nominal seconds.
    pub build_limit_secs: u64,
    /// Keep run transcripts for passing scenarios too (snapshots, `--verbose`).
    pub keep_transcripts: bool,
}

impl Settings {
    /// Defaults, with the supervisor being the current executable.
    pub fn from_env() -> Settings {
        let time_scale = std::env::var(TIME_SCALE_VAR)
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| *v > 0.0)
            .unwrap_or(1.0);
        Settings {
            time_scale,
            jobs: default_jobs(),
            supervisor: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe")),
            python: default_python(),
            limits: Limits::default(),
            output_cap: 1 << 20,
            run_wall_limit_secs: 60,
            cargo_target_dir: None,
            build_limit_secs: 300,
            keep_transcripts: false,
        }
    }
}

/// One run per core; twice that when runs are isolated (most scenarios sleep or wait, and
/// isolated runs cannot disturb each other's ports, files or processes).
pub fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    if crate::sandbox::identity::available() {
        cores * 2
    } else {
        cores
    }
}

/// `/usr/bin/python3` when programs run as another uid (an interpreter under /root would be
/// out of its reach), else the first `python3` on PATH.
fn default_python() -> PathBuf {
    let system = PathBuf::from("/usr/bin/python3");
    if crate::sandbox::identity::available() && system.exists() {
        return system;
    }
    which("python3").unwrap_or(system)
}

/// The first executable called `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
