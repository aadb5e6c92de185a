//! Hostile programs graded in every mode (`modes::hostile_<what>::<mode>`): `kill(-1)`, a
//! reader of other students' files found through /proc, files dropped in shared folders, a
//! daemon that keeps writing. The grader must report normally and nothing may escape.
//!
//! Fixtures that name files carry a placeholder marker; each trial's copy gets a unique one,
//! so that trials running at once (and earlier gradings) never mix.

use super::{per_mode, tail, verdicts, Mode, Place};
use crate::fixtures;
use crate::support::{self, Outcome};
use harness::sandbox::procfs;
use libtest_mimic::{Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Generous: one exercise, a handful of runs.
const LIMIT: Duration = Duration::from_secs(300);

pub fn trials() -> Vec<Trial> {
    let mut trials = per_mode("modes::hostile_kill_all", kill_all);
    trials.extend(per_mode("modes::hostile_class_reader", class_reader));
    trials.extend(per_mode("modes::hostile_tmp_writer", tmp_writer));
    trials.extend(per_mode("modes::hostile_daemon_writer", daemon_writer));
    trials
}

fn fixture(name: &str) -> PathBuf {
    support::root().join("fixtures").join(name)
}

/// A marker no other grading uses: `<placeholder>-<mode>-<pid>-<nanos>`.
fn unique(placeholder: &str, mode: Mode) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{placeholder}-{}-{}-{nanos}",
        mode.name(),
        std::process::id()
    )
}

/// Copies fixture `name` into the place and puts `marker` in place of its placeholder (the
/// fixture's name, quoted, in `process.py`).
fn copy_marked(place: &Place, name: &str, marker: &str) -> Result<PathBuf, Failed> {
    let dir = place.copy(&fixture(name), name)?;
    let program = dir.join("process.py");
    let text = std::fs::read_to_string(&program)?;
    let placeholder = format!("\"sysgrade-{name}\"");
    if !text.contains(&placeholder) {
        return Err(format!("{name}/process.py lacks the placeholder {placeholder}").into());
    }
    std::fs::write(
        &program,
        text.replace(&placeholder, &format!("\"{marker}\"")),
    )?;
    Ok(dir)
}

/// Grades `dir` on `process` (JSON on stdout); the problems found with the grading itself
/// and its verdicts against `fixture.toml`, and the report.
fn grade_process(place: &Place, dir: &Path, name: &str) -> Result<(Vec<String>, String), Failed> {
    let mut cmd = place.sysgrade();
    cmd.args([
        "grade",
        "--quiet",
        "--exercise",
        "process",
        "--format",
        "json",
    ])
    .arg(dir);
    let ran = place.run(cmd, LIMIT)?;
    eprintln!(
        "note: {name} graded in {} mode in {:.1} s",
        place.mode.name(),
        ran.secs
    );
    let mut problems = Vec::new();
    problems.extend(
        ran.exited_normally(place.mode)
            .err()
            .map(|e| format!("{e:?}")),
    );
    match ran.json(place.mode, &ran.stdout) {
        Ok(report) => {
            let expect = fixtures::read(&fixture(name))?;
            for one in &report {
                problems.extend(verdicts::mismatches(name, &expect, one, place.mode));
            }
        }
        Err(e) => problems.push(e),
    }
    Ok((problems, ran.stdout))
}

/// A trial on a fixture whose placeholder is replaced by a unique marker, graded on `process`.
struct Marked {
    place: Place,
    marker: String,
    /// Found so far (see [`grade_process`]).
    problems: Vec<String>,
    report: String,
}

fn grade_marked(mode: Mode, name: &str) -> Result<Marked, Failed> {
    let place = Place::new(mode)?;
    let marker = unique(&format!("sysgrade-{name}"), mode);
    let dir = copy_marked(&place, name, &marker)?;
    let (problems, report) = grade_process(&place, &dir, name)?;
    Ok(Marked {
        place,
        marker,
        problems,
        report,
    })
}

impl Marked {
    /// Files with the marker in their name (see [`find_named`]).
    fn left(&self) -> Vec<PathBuf> {
        find_named(&self.place, &self.marker)
    }

    /// Removes what the trial found left, so it does not outlive the trial.
    fn clean(&self) {
        for path in self.left() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn verdict(mode: Mode, problems: Vec<String>) -> Outcome {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{} mode:\n{}", mode.name(), problems.join("\n")).into())
    }
}

/// `kill(-1, SIGKILL)` from a graded program: the grader still reports, and a process of
/// the grader's own uid that has nothing to do with grading survives.
fn kill_all(mode: Mode) -> Outcome {
    let place = Place::new(mode)?;
    let dir = place.copy(&fixture("hostile-kill-all"), "hostile-kill-all")?;
    let mut sleep = Command::new("/bin/sleep");
    sleep.arg("60");
    place.prepare(&mut sleep);
    let mut sentinel = sleep.spawn()?;
    let graded = grade_process(&place, &dir, "hostile-kill-all");
    let alive = sentinel.try_wait()?.is_none();
    let _ = sentinel.kill();
    let _ = sentinel.wait();
    let (mut problems, _) = graded?;
    if !alive {
        problems.push(format!(
            "a sleep of the grader's uid {} (not part of grading) was killed",
            place.uid()
        ));
    }
    verdict(mode, problems)
}

/// Two students, alice reading through /proc: bob's secret must not reach alice's report.
///
/// The class lives below /home when it can, as a teacher's would: below /tmp, a grader that
/// gives each run a private /tmp would hide it by accident, not by design.
fn class_reader(mode: Mode) -> Outcome {
    let home = Path::new("/home");
    let place = match Place::new_in(mode, home) {
        Ok(place) => place,
        Err(e) => {
            eprintln!("note: no class folder below /home ({e:?}): using the temporary folder");
            Place::new(mode)?
        }
    };
    let secret = unique("sysgrade-secret-of-bob", mode);
    let class = place.work.join("class");
    place.copy(&fixture("hostile-proc-reader"), "class/alice")?;
    let bob = place.copy(&fixture("good-python"), "class/bob")?;
    for entry in std::fs::read_dir(&bob)? {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n != "process.py") {
            std::fs::remove_file(path)?;
        }
    }
    std::fs::write(bob.join("secret.txt"), format!("{secret}\n"))?;
    let json_file = place.home.join("report.json");
    let mut cmd = place.sysgrade();
    cmd.args(["grade", "--quiet", "--exercise", "process", "--class"])
        .arg(&class)
        .args(["--format", "json", "--output"])
        .arg(&json_file);
    let ran = place.run(cmd, LIMIT)?;
    eprintln!(
        "note: class graded in {} mode in {:.1} s",
        mode.name(),
        ran.secs
    );
    let mut problems = Vec::new();
    problems.extend(ran.exited_normally(mode).err());
    let text = std::fs::read_to_string(&json_file).unwrap_or_default();
    let report = ran.json(mode, &text)?;
    let alice = report.iter().find(|s| {
        s["submission"]
            .as_str()
            .is_some_and(|p| Path::new(p).ends_with("alice"))
    });
    let Some(alice) = alice else {
        return Err(format!(
            "{} mode: no entry for alice in\n{}",
            mode.name(),
            tail(&text, 2000)
        )
        .into());
    };
    let alice = alice.to_string();
    if !alice.contains("proc-reader: read ") {
        problems.push(
            "alice's transcript (her last line) is not in the report: nothing was checked".into(),
        );
    }
    if alice.contains(&secret) {
        problems.push(format!("bob's secret {secret} is in alice's JSON report"));
    }
    if ran.stdout.contains(&secret) {
        problems.push(format!("bob's secret {secret} is in the human report"));
    }
    verdict(mode, problems)
}

/// Files dropped in the shared temporary folders and in HOME: reported, and gone.
fn tmp_writer(mode: Mode) -> Outcome {
    let mut trial = grade_marked(mode, "hostile-tmp-writer")?;
    let marker = &trial.marker;
    if !trial.report.contains(&format!("/tmp/{marker}-tmp")) {
        trial.problems.push(format!(
            "the report does not name /tmp/{marker}-tmp as a leftover"
        ));
    }
    let left = trial.left();
    if !left.is_empty() {
        trial
            .problems
            .push(format!("marker files left on the machine: {left:?}"));
    }
    trial.clean();
    verdict(mode, trial.problems)
}

/// A setsid daemon that keeps writing: once grading is over it is dead and its /tmp file
/// is gone.
fn daemon_writer(mode: Mode) -> Outcome {
    let trial = grade_marked(mode, "hostile-daemon-writer")?;
    let (marker, mut problems) = (&trial.marker, trial.problems.clone());
    let alive = marked_processes(marker);
    if !alive.is_empty() {
        problems.push(format!("the daemon outlived grading: pids {alive:?}"));
    }
    for pid in &alive {
        // SAFETY: kill by pid of the daemon this trial's grading started.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    let tmp_file = Path::new("/tmp").join(format!("{marker}-tmp"));
    if tmp_file.exists() {
        problems.push(format!("{} exists after grading", tmp_file.display()));
    }
    let others: Vec<PathBuf> = trial
        .left()
        .into_iter()
        .filter(|p| *p != tmp_file)
        .collect();
    if !others.is_empty() {
        problems.push(format!(
            "other marker files left on the machine: {others:?}"
        ));
    }
    // SIGKILL is delivered asynchronously: let the daemon die before removing its files.
    let deadline = Instant::now() + Duration::from_secs(3);
    while !marked_processes(marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    trial.clean();
    verdict(mode, problems)
}

/// Live processes whose command line or environment holds `marker`.
fn marked_processes(marker: &str) -> Vec<i32> {
    let needle = marker.as_bytes();
    procfs::all()
        .into_iter()
        .filter(|p| !p.is_zombie())
        .map(|p| p.pid)
        .filter(|pid| {
            ["cmdline", "environ"].iter().any(|f| {
                std::fs::read(format!("/proc/{pid}/{f}"))
                    .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            })
        })
        .collect()
}

/// Files whose name holds `marker` under the shared temporary folders and the grader's
/// HOME (4 levels deep, symbolic links not followed).
fn find_named(place: &Place, marker: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut budget = 500_000usize;
    let roots = ["/tmp", "/var/tmp", "/dev/shm", "/run/lock"].map(PathBuf::from);
    let mut stack: Vec<(PathBuf, u32)> = roots.into_iter().map(|r| (r, 0)).collect();
    stack.push((place.home.clone(), 0));
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                return found;
            }
            let path = entry.path();
            if entry.file_name().to_string_lossy().contains(marker) {
                found.push(path.clone());
            }
            if depth < 4 && entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((path, depth + 1));
            }
        }
    }
    found
}
