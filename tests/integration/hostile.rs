//! Programs that attack the grader: floods, daemons, fork loops, and the grader itself being
//! killed. Each is graded (fail or timeout with a clear message) and cleaned up, nothing
//! outlives grading, and the grader stays bounded.

use crate::support::{self, Outcome};
use harness::sandbox::identity::{BASE, POOL};
use harness::sandbox::procfs;
use libtest_mimic::{Failed, Trial};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("hostile::flood_keeps_grader_memory_bounded", flood_memory),
        Trial::test("hostile::nothing_outlives_grading", nothing_outlives),
        Trial::test("hostile::killing_the_grader_kills_its_runs", grader_killed),
    ]
}

fn sysgrade() -> Command {
    Command::new(support::SYSGRADE)
}

/// Grades the flooding fixture and reads the peak memory of the grader and its descendants.
/// The grader is started by a small python3 that reports `RUSAGE_CHILDREN`: a process forked
/// straight from this (large, multi-threaded) test binary would carry the test's own resident
/// pages into its peak until it execs, which Linux keeps in `ru_maxrss`.
const PEAK_OF_CHILDREN: &str = "import resource, subprocess, sys\n\
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], 'wb'))\n\
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";

fn flood_memory() -> Outcome {
    let dir = support::root().join("fixtures/hostile-flood");
    let report = tempfile::NamedTempFile::new()?;
    let out = Command::new("python3")
        .args(["-c", PEAK_OF_CHILDREN])
        .arg(report.path())
        .arg(support::SYSGRADE)
        .args(["grade", "--quiet", "--exercise", "procloop"])
        .arg(&dir)
        .output()?;
    let peak_kib: i64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("reading the peak ({e}): {:?}", out))?;
    let stdout = std::fs::read_to_string(report.path())?;
    let named = ["flood", "spins", "loops without sleeping"]
        .iter()
        .any(|w| stdout.contains(w));
    if !named {
        return Err(Failed::from(format!(
            "the report does not name the flood:\n{stdout}"
        )));
    }
    let peak_mib = peak_kib / 1024;
    if peak_mib > 200 {
        return Err(Failed::from(format!(
            "peak memory of the grader (or a child) was {peak_mib} MiB"
        )));
    }
    Ok(())
}

/// Processes adopted by init that ran `program`: escaped from their supervisor. As root they
/// carry a run identity; otherwise runs keep the grader's uid.
fn escaped(program: &str) -> Vec<procfs::ProcInfo> {
    // SAFETY: geteuid has no preconditions.
    let mine = unsafe { libc::geteuid() };
    procfs::all()
        .into_iter()
        .filter(|p| p.ppid == 1 && !p.is_zombie())
        .filter(|p| {
            if harness::sandbox::identity::available() {
                (BASE..BASE + POOL).contains(&p.uid)
            } else {
                p.uid == mine && procfs::cmdline(p.pid).contains(program)
            }
        })
        .collect()
}

/// A setsid double-forked daemon and a fork loop: both graded, both gone afterwards.
fn nothing_outlives() -> Outcome {
    for (fixture, exercise, program) in [
        ("hostile-daemon", "process", "process.py"),
        ("hostile-fork-loop", "procloop", "procloop.py"),
    ] {
        let out = sysgrade()
            .args(["grade", "--quiet", "--exercise", exercise])
            .arg(support::root().join("fixtures").join(fixture))
            .output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !stdout.contains("process still running") {
            return Err(format!("{fixture}: the leftover was not reported:\n{stdout}").into());
        }
        let left = escaped(program);
        if !left.is_empty() {
            return Err(format!("{fixture}: processes outlived grading: {left:?}").into());
        }
    }
    Ok(())
}

/// SIGKILL to the grader mid-run: every supervisor sees its control socket close and kills
/// its run; nothing of the runs is left.
fn grader_killed() -> Outcome {
    let mut child = sysgrade()
        .args([
            "grade",
            "--quiet",
            "--exercise",
            "procloop",
            "--exercise",
            "signals",
        ])
        .arg(support::root().join("fixtures/good-python"))
        .stdout(Stdio::null())
        .spawn()?;
    let grader = child.id() as i32;
    let deadline = Instant::now() + Duration::from_secs(60);
    // Wait until runs are under way: a supervisor with a program below it.
    let runs = loop {
        let tree = procfs::descendants(grader);
        if tree.iter().any(|p| p.ppid != grader) {
            break tree;
        }
        if Instant::now() > deadline || child.try_wait()?.is_some() {
            return Err("no run started".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill()?;
    child.wait()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive: Vec<i32> = runs
            .iter()
            .filter(|p| procfs::read(p.pid).is_some_and(|q| !q.is_zombie() && q.comm == p.comm))
            .map(|p| p.pid)
            .collect();
        if alive.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("still alive 10 s after the grader was killed: {alive:?}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
