//! Where a run's time goes, for `cargo xtask bench --phases`. With `SYSGRADE_PHASES` naming a
//! file, the grader and its supervisors append one line per phase to it: `<name> <seconds>`.
//! Unset (every real grading), each hook is one cached look-up and nothing is written. Never
//! part of a report.
//!
//! The phases (wall seconds unless said):
//! - grader: `copy` (the submission into a scenario's folder), `copy.chown` (it and the home
//!   handed to the run's uid, per run), `start` (supervisor launched to program started),
//!   `connector` (a proc connector subscription), `proc_scan` (a walk of all of `/proc`, in
//!   grader or supervisor), `teardown` = `teardown.end` (ending what still runs, graces) +
//!   `teardown.scan` (leftover files and segments) + `teardown.finish` (supervisor's exit);
//! - supervisor: `supervisor.exec` (from the grader's spawn to `dispatch`, against the
//!   monotonic clock passed in `SYSGRADE_PHASES_T0`), `namespaces`, `namespaces.fork`
//!   (becoming pid 1 of the run), `private_root`, `landlock`, `spawn` (the program's start,
//!   seccomp tap included);
//! - CPU seconds at each supervisor's exit: `supervisor.cpu` (its own; the outer one of a pid
//!   namespace writes its own too) and `programs.cpu` (what it reaped).

use std::fs::File;
use std::io::Write;
use std::sync::OnceLock;
use std::time::Instant;

/// The file the lines go to.
pub const VAR: &str = "SYSGRADE_PHASES";
/// The monotonic time (ns) at which the grader started a supervisor.
pub const T0_VAR: &str = "SYSGRADE_PHASES_T0";

static TARGET: OnceLock<Option<File>> = OnceLock::new();

fn target() -> Option<&'static File> {
    TARGET
        .get_or_init(|| {
            let path = std::env::var_os(VAR)?;
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .ok()
        })
        .as_ref()
}

/// Whether phases are recorded. Opens the file: a supervisor calls this before it moves into
/// its private root, where the path no longer leads anywhere.
pub fn enabled() -> bool {
    target().is_some()
}

/// Appends `name seconds` (one write, so lines from several processes never interleave).
pub fn record(name: &str, secs: f64) {
    if let Some(mut file) = target() {
        let _ = file.write_all(format!("{name} {secs:.6}\n").as_bytes());
    }
}

/// Runs `f` and records how long it took as `name`.
pub fn time<T>(name: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let out = f();
    record(name, start.elapsed().as_secs_f64());
    out
}

/// The monotonic clock in nanoseconds, the same in every process of the machine.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the struct we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// In a supervisor: records `supervisor.exec`, the time since the grader started it.
pub fn exec_done() {
    let t0 = std::env::var(T0_VAR)
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    if let (true, Some(t0)) = (enabled(), t0) {
        record("supervisor.exec", now_ns().saturating_sub(t0) as f64 / 1e9);
    }
}

/// CPU seconds (user + sys) of `who` (`RUSAGE_SELF` or `RUSAGE_CHILDREN`).
pub fn cpu_seconds(who: i32) -> f64 {
    // SAFETY: getrusage fills the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut usage) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

/// At a supervisor's exit: its own CPU, and (when it is the one that reaped the program's
/// tree) the CPU of what it reaped.
pub fn supervisor_exit(reaped_programs: bool) {
    if enabled() {
        record("supervisor.cpu", cpu_seconds(libc::RUSAGE_SELF));
        if reaped_programs {
            record("programs.cpu", cpu_seconds(libc::RUSAGE_CHILDREN));
        }
    }
}
