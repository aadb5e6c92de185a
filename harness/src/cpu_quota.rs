//! Deadlines that follow the container's CPU quota. A Gradescope container has half a vCPU
//! (cgroup v2 `cpu.max` of `50000 100000`); parallel runs sharing it get a fraction of a core
//! each, and a deadline meant for a core would time out a correct program. When the quota is
//! under the cores the grading would use, the time scale is stretched by their ratio.
//!
//! The grader's own cgroup comes from `/proc/self/cgroup` (the v2 line `0::/path`); each of
//! its ancestors' `cpu.max` limits it too, so the smallest quota among them applies. `max`
//! means no quota. On a cgroup v1 machine (or a hybrid one without the cpu controller in v2)
//! the quota is `cpu.cfs_quota_us` over `cpu.cfs_period_us` of the `cpu` controller's
//! hierarchy, `-1` meaning none.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where cgroup v2 is mounted: the unified hierarchy, or its place on a hybrid machine.
const MOUNTS: [&str; 2] = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"];

/// A time scale stretched for a CPU quota, as the report says it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stretch {
    /// The quota, in CPUs (`cpu.max` quota over period): 0.5 for half a vCPU.
    pub quota_cpus: f64,
    /// The cores the grading would use: its parallel runs, at most the CPUs it may run on.
    pub cores_used: usize,
    /// What the time scale was multiplied by (`cores_used / quota_cpus`, at least 1).
    pub factor: f64,
}

impl Stretch {
    /// The stretch for a quota and the cores a grading would use; `None` when the quota
    /// covers them (no stretch needed).
    pub fn for_quota(quota_cpus: f64, cores_used: usize) -> Option<Stretch> {
        let cores_used = cores_used.max(1);
        let factor = cores_used as f64 / quota_cpus;
        (quota_cpus > 0.0 && factor > 1.0).then_some(Stretch {
            quota_cpus,
            cores_used,
            factor,
        })
    }

    /// One line for a report header: `×4 for a CPU quota of 0.5 CPU shared by 2 parallel runs`.
    pub fn describe(&self) -> String {
        let runs = if self.cores_used == 1 {
            "run"
        } else {
            "parallel runs"
        };
        format!(
            "×{} for a CPU quota of {} CPU shared by {} {runs}",
            round(self.factor),
            round(self.quota_cpus),
            self.cores_used
        )
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The contents of a `cpu.max` file as CPUs: `Some(0.5)` for `50000 100000`, `None` for
/// `max …` (no quota) or anything unreadable.
pub fn parse_cpu_max(text: &str) -> Option<f64> {
    let mut words = text.split_whitespace();
    let quota = words.next()?;
    let period: f64 = words.next().map_or(Some(100_000.0), |p| p.parse().ok())?;
    if quota == "max" || period <= 0.0 {
        return None;
    }
    let quota: f64 = quota.parse().ok()?;
    (quota > 0.0).then_some(quota / period)
}

/// The grader's cgroup v2 path from the text of `/proc/self/cgroup` (its `0::` line).
pub fn parse_own_cgroup(text: &str) -> Option<PathBuf> {
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| PathBuf::from(p.trim()))
}

/// The smallest quota `quota_in` reads in the folder of `cgroup` or of one of its ancestors,
/// below `mount`: each of them limits the grader.
fn smallest_up_from(
    mount: &Path,
    cgroup: &Path,
    quota_in: impl Fn(&Path) -> Option<f64>,
) -> Option<f64> {
    let relative = cgroup.strip_prefix("/").unwrap_or(cgroup);
    relative
        .ancestors()
        .filter_map(|dir| quota_in(&mount.join(dir)))
        .reduce(f64::min)
}

/// The smallest quota of `cgroup` and its ancestors, read below `mount`.
pub fn quota_below(mount: &Path, cgroup: &Path) -> Option<f64> {
    smallest_up_from(mount, cgroup, |dir| {
        parse_cpu_max(&std::fs::read_to_string(dir.join("cpu.max")).ok()?)
    })
}

/// The grader's cgroup v1 path in the `cpu` controller's hierarchy (a line such as
/// `4:cpu,cpuacct:/docker/abc`).
pub fn parse_own_v1_cpu_cgroup(text: &str) -> Option<PathBuf> {
    text.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers
            .split(',')
            .any(|c| c == "cpu")
            .then(|| PathBuf::from(path.trim()))
    })
}

/// A cgroup v1 quota in CPUs from `cpu.cfs_quota_us` and `cpu.cfs_period_us`; `None` for
/// `-1` (no quota).
pub fn parse_cfs(quota: &str, period: &str) -> Option<f64> {
    let quota: f64 = quota.trim().parse().ok()?;
    let period: f64 = period.trim().parse().ok()?;
    (quota > 0.0 && period > 0.0).then_some(quota / period)
}

/// The smallest cgroup v1 quota of `cgroup` and its ancestors, read below `mount`.
pub fn v1_quota_below(mount: &Path, cgroup: &Path) -> Option<f64> {
    smallest_up_from(mount, cgroup, |dir| {
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
        parse_cfs(&read("cpu.cfs_quota_us")?, &read("cpu.cfs_period_us")?)
    })
}

/// Where the v1 `cpu` controller may be mounted.
const V1_MOUNTS: [&str; 2] = ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"];

/// This process's CPU quota in CPUs, `None` when there is none (or no readable cgroup).
pub fn current() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let v2 = parse_own_cgroup(&text).into_iter().flat_map(|cgroup| {
        MOUNTS
            .iter()
            .filter_map(move |m| quota_below(Path::new(m), &cgroup))
    });
    let v1 = parse_own_v1_cpu_cgroup(&text)
        .into_iter()
        .flat_map(|cgroup| {
            V1_MOUNTS
                .iter()
                .filter_map(move |m| v1_quota_below(Path::new(m), &cgroup))
        });
    v2.chain(v1).reduce(f64::min)
}

/// The CPUs this process may run on (its affinity mask), at least 1.
pub fn cpus_allowed() -> usize {
    nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map(|set| {
            (0..nix::sched::CpuSet::count())
                .filter(|&i| set.is_set(i).unwrap_or(false))
                .count()
        })
        .unwrap_or(1)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_v1_quota_and_its_controller_line() {
        assert_eq!(parse_cfs("50000\n", "100000\n"), Some(0.5));
        assert_eq!(parse_cfs("-1", "100000"), None);
        let text = "9:name=systemd:/\n2:cpuacct:/\n1:cpu,cpuacct:/docker/abc\n0::/\n";
        assert_eq!(
            parse_own_v1_cpu_cgroup(text),
            Some(PathBuf::from("/docker/abc"))
        );
        assert_eq!(parse_own_v1_cpu_cgroup("0::/user.slice\n"), None);
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("docker/abc");
        std::fs::create_dir_all(&inner).unwrap();
        for (d, q) in [(dir.path().join("docker"), "-1"), (inner, "25000")] {
            std::fs::write(d.join("cpu.cfs_quota_us"), q).unwrap();
            std::fs::write(d.join("cpu.cfs_period_us"), "100000").unwrap();
        }
        assert_eq!(
            v1_quota_below(dir.path(), Path::new("/docker/abc")),
            Some(0.25)
        );
    }

    #[test]
    fn cpu_max_reads_a_quota_and_max_means_none() {
        assert_eq!(parse_cpu_max("50000 100000\n"), Some(0.5));
        assert_eq!(parse_cpu_max("200000 100000"), Some(2.0));
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max(""), None);
        assert_eq!(parse_cpu_max("junk 100000"), None);
        assert_eq!(parse_cpu_max("50000 0"), None);
    }

    #[test]
    fn the_own_cgroup_is_the_v2_line() {
        let hybrid = "12:cpu,cpuacct:/docker/abc\n0::/docker/abc\n";
        assert_eq!(parse_own_cgroup(hybrid), Some(PathBuf::from("/docker/abc")));
        assert_eq!(parse_own_cgroup("0::/\n"), Some(PathBuf::from("/")));
        assert_eq!(parse_own_cgroup("4:pids:/user.slice\n"), None);
    }

    #[test]
    fn an_ancestors_quota_limits_too_and_the_smallest_wins() {
        let mount = tempfile::tempdir().expect("temp dir");
        let leaf = mount.path().join("a/b");
        std::fs::create_dir_all(&leaf).expect("mkdir");
        std::fs::write(mount.path().join("cpu.max"), "max 100000\n").expect("write");
        std::fs::write(mount.path().join("a/cpu.max"), "50000 100000\n").expect("write");
        std::fs::write(leaf.join("cpu.max"), "150000 100000\n").expect("write");
        assert_eq!(quota_below(mount.path(), Path::new("/a/b")), Some(0.5));
        assert_eq!(quota_below(mount.path(), Path::new("/")), None);
        assert_eq!(quota_below(mount.path(), Path::new("/elsewhere")), None);
    }

    #[test]
    fn half_a_cpu_for_two_runs_stretches_four_times_and_enough_cpu_not_at_all() {
        let s = Stretch::for_quota(0.5, 2).expect("a stretch");
        assert_eq!(s.factor, 4.0);
        assert_eq!(
            s.describe(),
            "×4 for a CPU quota of 0.5 CPU shared by 2 parallel runs"
        );
        assert_eq!(Stretch::for_quota(0.5, 0).map(|s| s.factor), Some(2.0));
        assert_eq!(Stretch::for_quota(2.0, 2), None);
        assert_eq!(Stretch::for_quota(4.0, 2), None);
    }
}
