//! What [`super`] reads of a process: its `stat` fields (through `procfs`), its children, the argument vector of
//! an exec it is about to make, the identity of its executable, and clocks.

use std::os::unix::fs::MetadataExt;

/// A process's `/proc/<pid>/stat`, read by the one parser of [`procfs`](super::super::procfs).
pub use super::super::procfs::{stat, ProcInfo as Stat};

/// The process (thread group) a thread belongs to.
pub fn tgid(tid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    super::super::procfs::status_value(&status, "Tgid")?
        .parse()
        .ok()
}

/// The children of every thread of `pid`.
pub fn children(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(
            list.split_whitespace()
                .filter_map(|c| c.parse::<i32>().ok()),
        );
    }
    out
}

/// The device and inode of the executable `pid` runs, `None` once it is gone.
pub fn exe(pid: i32) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(format!("/proc/{pid}/exe")).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// Most arguments read from an exec's argument vector.
const MAX_ARGS: usize = 64;

/// The argument vector at `address` in thread `tid`'s memory, joined by spaces as
/// `procfs::cmdline` joins a command line (empty arguments left out).
pub fn argv(tid: i32, address: u64) -> Option<String> {
    use std::os::unix::fs::FileExt;
    let mem = std::fs::File::open(format!("/proc/{tid}/mem")).ok()?;
    let mut parts = Vec::new();
    for i in 0..MAX_ARGS as u64 {
        let mut word = [0u8; 8];
        if mem.read_at(&mut word, address + 8 * i).ok()? != 8 {
            return None;
        }
        let at = u64::from_ne_bytes(word);
        if at == 0 {
            break;
        }
        let arg = super::super::removals::read_cstring(&mem, at, 4096)?;
        if !arg.is_empty() {
            parts.push(String::from_utf8_lossy(&arg).into_owned());
        }
    }
    Some(parts.join(" "))
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    if unsafe { libc::clock_gettime(clock, &mut t) } != 0 {
        return 0;
    }
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// Now, on `CLOCK_MONOTONIC` (what the grader turns into an `Instant`).
pub fn now_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// Nanoseconds per clock tick of `stat`'s times.
pub fn tick_ns() -> u64 {
    1_000_000_000 / super::super::procfs::ticks_per_second()
}

/// A `stat` start time (ticks since boot, `CLOCK_BOOTTIME`) on `CLOCK_MONOTONIC`.
pub fn start_ns(start_ticks: u64) -> u64 {
    let (boot, mono) = (clock_ns(libc::CLOCK_BOOTTIME), now_ns());
    let ago = boot.saturating_sub(start_ticks.saturating_mul(tick_ns()));
    mono.saturating_sub(ago)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_time_is_in_the_past() {
        let me = stat(std::process::id() as i32).expect("own stat");
        assert!(start_ns(me.start_ticks) <= now_ns());
        assert!(exe(std::process::id() as i32).is_some());
    }
}
