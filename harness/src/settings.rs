//! Grader-wide settings: the time scale, parallelism, limits, and where tools are.

use crate::sandbox::protocol::Limits;
use std::path::PathBuf;

/// The environment variable that multiplies every deadline (for slow machines).
pub const TIME_SCALE_VAR: &str = "SYSGRADE_TIME_SCALE";

/// The environment variable that chooses where `fork_exec` takes a run's process events
/// from: `connector`, `seccomp` or `auto` (the default).
pub const PROC_EVENTS_VAR: &str = "SYSGRADE_PROC_EVENTS";

/// Where a run's process events come from (`SYSGRADE_PROC_EVENTS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProcEvents {
    /// The kernel's connector where it answers, the supervisor's seccomp filter otherwise.
    #[default]
    Auto,
    /// The kernel's connector only (`skip` where it does not answer).
    Connector,
    /// The supervisor's seccomp filter, even where the connector answers.
    Seccomp,
}

impl ProcEvents {
    /// `auto`, `connector` or `seccomp`.
    pub fn parse(text: &str) -> Option<ProcEvents> {
        match text.trim() {
            "auto" | "" => Some(ProcEvents::Auto),
            "connector" => Some(ProcEvents::Connector),
            "seccomp" => Some(ProcEvents::Seccomp),
            _ => None,
        }
    }
}

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
    /// How `time_scale` was stretched for the CPU quota ([`Settings::follow_cpu_quota`]).
    pub cpu_quota: Option<crate::cpu_quota::Stretch>,
    /// Where `fork_exec` takes the process events from.
    pub proc_events: ProcEvents,
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
            supervisor: own_binary(),
            python: default_python(),
            limits: Limits::default(),
            output_cap: 1 << 20,
            run_wall_limit_secs: 60,
            cargo_target_dir: None,
            build_limit_secs: 300,
            keep_transcripts: false,
            proc_events: std::env::var(PROC_EVENTS_VAR)
                .ok()
                .and_then(|v| ProcEvents::parse(&v))
                .unwrap_or_default(),
            cpu_quota: None,
        }
    }

    /// Stretches the time scale for this process's CPU quota (cgroup `cpu.max`) when it is
    /// under the cores the grading would use (`jobs`, at most the CPUs allowed). Call once,
    /// after the time scale and `jobs` are settled.
    pub fn follow_cpu_quota(&mut self) {
        self.follow_quota(crate::cpu_quota::current());
    }

    /// [`Settings::follow_cpu_quota`] for a quota given in CPUs (`None`: no quota).
    pub fn follow_quota(&mut self, quota_cpus: Option<f64>) {
        let used = self.jobs.min(crate::cpu_quota::cpus_allowed());
        self.cpu_quota = quota_cpus.and_then(|q| crate::cpu_quota::Stretch::for_quota(q, used));
        if let Some(stretch) = self.cpu_quota {
            self.time_scale *= stretch.factor;
        }
    }
}

/// This binary, to be re-run as a supervisor: `/proc/self/exe`, which names the running image
/// even once a rebuild has replaced the file (a lecturer rebuilding while a class grades).
fn own_binary() -> PathBuf {
    let proc = PathBuf::from("/proc/self/exe");
    if proc.exists() {
        proc
    } else {
        std::env::current_exe().unwrap_or(proc)
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
/// out of its reach), else the first `python3` on PATH, resolved to the interpreter itself (a
/// pyenv shim is a script that needs pyenv, which a run does not see).
fn default_python() -> PathBuf {
    let system = PathBuf::from("/usr/bin/python3");
    if crate::sandbox::identity::available() && system.exists() {
        return system;
    }
    let found = which("python3").unwrap_or(system);
    if in_system(&found) {
        return found;
    }
    python_says(&found, "sys.executable")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .unwrap_or(found)
}

/// Whether `path` lies in the system folders every run sees read-only.
fn in_system(path: &std::path::Path) -> bool {
    crate::sandbox::rootfs::SYSTEM
        .iter()
        .any(|dir| path.starts_with(dir))
}

/// Runs `python -c print(<expr>)` and returns its one line.
fn python_says(python: &std::path::Path, expr: &str) -> Option<String> {
    let out = std::process::Command::new(python)
        .args(["-I", "-c", &format!("import sys; print({expr})")])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    out.status.success().then(|| text.trim().to_string())
}

/// The folders an interpreter outside the system folders needs to see (its installation,
/// and a virtual environment's), read-only; nothing for a system interpreter.
pub fn interpreter_roots(interpreter: &std::path::Path) -> Vec<PathBuf> {
    static ROOTS: std::sync::Mutex<Vec<(PathBuf, Vec<PathBuf>)>> =
        std::sync::Mutex::new(Vec::new());
    if in_system(interpreter) {
        return Vec::new();
    }
    let Ok(mut known) = ROOTS.lock() else {
        return Vec::new();
    };
    if let Some((_, roots)) = known.iter().find(|(i, _)| i == interpreter) {
        return roots.clone();
    }
    let mut roots: Vec<PathBuf> = ["sys.base_prefix", "sys.prefix"]
        .iter()
        .filter_map(|e| python_says(interpreter, e))
        .map(PathBuf::from)
        .filter(|p| p.is_dir() && !in_system(p))
        .collect();
    roots.extend(interpreter.parent().map(std::path::Path::to_path_buf));
    roots.sort();
    roots.dedup();
    known.push((interpreter.to_path_buf(), roots.clone()));
    roots
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
