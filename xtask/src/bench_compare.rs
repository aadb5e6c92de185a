//! `cargo xtask bench --compare GIT-REF`: this grader against the one at GIT-REF, in one
//! session, because on a shared machine an absolute time means little and a ratio taken
//! side by side means more.
//!
//! GIT-REF is built in a temporary git worktree (removed after) with a target folder of its
//! own, `target/bench-compare/<ref>`, kept so that the next comparison builds incrementally.
//! Both `sysgrade` binaries then grade the submission, exercise by exercise and then whole,
//! `rounds` times. The two gradings of one exercise in one round run back to back, the order
//! alternating from one to the next, so that a change in the machine's load falls on both.
//!
//! Method: wall is a monotonic clock from spawn to exit. The harness's CPU is the grading
//! process's own (`utime + stime` in `/proc/<pid>/stat`, read while it is a zombie, before it
//! is reaped; clock ticks, usually 10 ms). A binary without phases cannot tell its
//! supervisors' CPU from its programs', so that share is not in the ratio.

use crate::bench_table::{self, Paired};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Builds both graders, grades alternately and prints the ratios.
pub fn run(reference: &str, dir: &Path, exercises: &[String], rounds: usize) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    let this = build_this(&root)?;
    let other = build_reference(&root, reference)?;
    let fixture = root.join(dir);
    let ids: Vec<String> = harness::cli::select(exercises)?
        .iter()
        .map(|e| e.id.to_string())
        .collect();
    let mut items: Vec<(String, Vec<String>)> = ids
        .iter()
        .map(|id| (id.clone(), vec![id.clone()]))
        .collect();
    items.push(("whole".into(), exercises.to_vec()));
    println!(
        "bench: {} graded by this tree and by {reference}, {rounds} round(s), alternately",
        dir.display()
    );
    let mut rows: Vec<Paired> = items
        .iter()
        .map(|(id, _)| Paired {
            id: id.clone(),
            ..Default::default()
        })
        .collect();
    for round in 0..rounds {
        for (i, ((_, selected), row)) in items.iter().zip(&mut rows).enumerate() {
            let this_first = (round + i) % 2 == 0;
            let (a, b) = if this_first {
                (&this, &other)
            } else {
                (&other, &this)
            };
            let first = grade(a, &fixture, selected)?;
            let second = grade(b, &fixture, selected)?;
            let (mine, theirs) = if this_first {
                (first, second)
            } else {
                (second, first)
            };
            row.wall.push((mine.wall, theirs.wall));
            row.harness_cpu.push((mine.cpu, theirs.cpu));
        }
        println!("round {} of {rounds} done", round + 1);
    }
    println!(
        "ratios this/{reference} over the rounds (below 1: this is faster); medians in seconds:"
    );
    print!("{}", bench_table::render_compare(&rows));
    Ok(())
}

/// This tree's `sysgrade`, built beside the running xtask.
fn build_this(root: &Path) -> anyhow::Result<PathBuf> {
    cargo_build(root, None)?;
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("the xtask binary has no folder")?;
    Ok(dir.join("sysgrade"))
}

/// `sysgrade` at `reference`, built in a temporary worktree into `target/bench-compare/<ref>`.
fn build_reference(root: &Path, reference: &str) -> anyhow::Result<PathBuf> {
    let target = root
        .join("target")
        .join("bench-compare")
        .join(safe_name(reference));
    std::fs::create_dir_all(&target)?;
    let tmp = tempfile::Builder::new()
        .prefix("worktree-")
        .tempdir_in(&target)?;
    let tree = tmp.path().join("tree");
    git(
        root,
        &["worktree", "add", "--detach", "--quiet"],
        &tree,
        reference,
    )?;
    let built = cargo_build(&tree, Some(&target));
    let removed = git(root, &["worktree", "remove", "--force"], &tree, "");
    built?;
    removed?;
    Ok(target.join("release").join("sysgrade"))
}

fn git(root: &Path, args: &[&str], tree: &Path, reference: &str) -> anyhow::Result<()> {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(root).args(args).arg(tree);
    if !reference.is_empty() {
        cmd.arg(reference);
    }
    let status = cmd.status().context("running git")?;
    anyhow::ensure!(status.success(), "git {} failed ({status})", args.join(" "));
    Ok(())
}

fn cargo_build(tree: &Path, target: Option<&Path>) -> anyhow::Result<()> {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // The release profile: what ships, and what the grader's own CPU is judged by.
    cmd.args(["build", "--release", "--quiet", "--package", "sysgrade"])
        .current_dir(tree);
    if let Some(target) = target {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    let status = cmd.status().context("running cargo build")?;
    anyhow::ensure!(status.success(), "cargo build in {} failed", tree.display());
    Ok(())
}

/// A git ref as a folder name: `origin/main` → `origin_main`.
pub fn safe_name(reference: &str) -> String {
    reference
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One grading's wall time and the grading process's own CPU (seconds).
struct Sample {
    wall: f64,
    cpu: f64,
}

fn grade(binary: &Path, fixture: &Path, ids: &[String]) -> anyhow::Result<Sample> {
    let mut cmd = Command::new(binary);
    cmd.arg("grade").arg(fixture);
    for id in ids {
        cmd.arg("--exercise").arg(id);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_remove(harness::sandbox::phases::VAR);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let pid = child.id() as i32;
    wait_exited(pid)?;
    let wall = start.elapsed().as_secs_f64();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = child.wait()?;
    anyhow::ensure!(
        matches!(status.code(), Some(0 | 1)),
        "{} grade {} ended with {status}",
        binary.display(),
        fixture.display()
    );
    let ticks = own_ticks(&stat).context("reading the grader's CPU time")?;
    let per_second = harness::sandbox::procfs::ticks_per_second() as f64;
    Ok(Sample {
        wall,
        cpu: ticks as f64 / per_second,
    })
}

/// Waits for `pid` to exit without reaping it (its `/proc` entry stays for `own_ticks`).
fn wait_exited(pid: i32) -> anyhow::Result<()> {
    loop {
        // SAFETY: waitid fills the siginfo we pass; WNOWAIT leaves the child to be reaped.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e.into());
        }
    }
}

/// `utime + stime` from a `/proc/<pid>/stat` line: the process's own CPU, in clock ticks.
pub fn own_ticks(stat: &str) -> Option<u64> {
    let rest: Vec<&str> = stat
        .get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .collect();
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ref_becomes_one_folder_name() {
        assert_eq!(safe_name("origin/main"), "origin_main");
        assert_eq!(safe_name("HEAD~3"), "HEAD_3");
        assert_eq!(safe_name("v1.2-rc"), "v1.2-rc");
    }

    #[test]
    fn own_ticks_read_past_a_command_with_spaces_and_parentheses() {
        let stat = "42 (a (b) c) Z 1 42 42 0 -1 4194560 100 0 0 0 7 5 30 20 20 0 1 0";
        assert_eq!(own_ticks(stat), Some(12));
        assert_eq!(own_ticks("42 (x) Z 1"), None);
    }
}
