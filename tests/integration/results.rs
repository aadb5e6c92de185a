//! `grade --results DIR` on a small class made from fixture copies (`process` and `env`): a
//! class run killed midway (SIGKILL once the first result file appears) resumes to the
//! gradebook of one uninterrupted run, with no result half-written; an unchanged re-run
//! grades nobody; a changed student, `--regrade` and a damaged result file are graded again,
//! and nothing else. In every mode (root, an ordinary user, the container's confinement), an
//! unchanged re-run grades nobody, and a student's program cannot write the results folder.

use crate::class::copy_variant;
use crate::modes::{Mode, Place};
use crate::support::{self, Outcome};
use harness::report::{self, Format};
use harness::result::SubmissionResult;
use harness::results_dir::{Store, Stored};
use libtest_mimic::{Failed, Trial};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![
        Trial::test("results::killed_run_resumes_to_one_runs_gradebook", resume),
        Trial::test("results::only_what_changed_is_graded_again", changes),
    ];
    trials.extend(Mode::ALL.map(|mode| {
        Trial::test(
            format!("results::in_every_mode::{}", mode.name()),
            move || in_mode(mode),
        )
    }));
    trials
}

/// (student, fixture): a full-marks program, a wrong exit status, a wrong `env`.
const QUICK: [(&str, &str); 3] = [
    ("ann", "good-python"),
    ("bob", "process-exit1"),
    ("cat", "env-truthiness"),
];

/// What one `grade --results` said and gave.
struct Graded {
    results: Vec<SubmissionResult>,
    reused: usize,
    graded: usize,
    partly: usize,
    stderr: String,
}

fn make_class(root: &Path, slow: bool) -> Result<PathBuf, Failed> {
    let class = root.join("class");
    for (name, fixture) in QUICK {
        copy_variant(fixture, &class.join(name))?;
    }
    if slow {
        // Silent until the scenario's deadline: still running when the others are stored.
        std::fs::create_dir_all(class.join("dan"))?;
        std::fs::write(
            class.join("dan/process.py"),
            "import time\ntime.sleep(600)\n",
        )?;
    }
    Ok(class)
}

fn args(class: &Path, results: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "grade",
        "--class",
        "--quiet",
        "--exercise",
        "process",
        "--exercise",
        "env",
        "--format",
        "json",
        "--results",
    ]
    .map(String::from)
    .to_vec();
    v.push(results.display().to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v.push(class.display().to_string());
    v
}

fn grade(class: &Path, results: &Path, extra: &[&str]) -> Result<Graded, Failed> {
    let out = support::sysgrade_within(Duration::from_secs(600))
        .args(args(class, results, extra))
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.code() == Some(2) {
        return Err(format!("grade exited 2: {stderr}").into());
    }
    let counts = regex::Regex::new(r"(\d+) reused, (\d+) graded, (\d+) regraded in part")?;
    let caps = counts
        .captures(&stderr)
        .ok_or_else(|| format!("no reused/graded counts in: {stderr}"))?;
    let n = |i: usize| caps[i].parse::<usize>().unwrap_or(usize::MAX);
    Ok(Graded {
        results: serde_json::from_slice(&out.stdout)?,
        reused: n(1),
        graded: n(2),
        partly: n(3),
        stderr,
    })
}

/// The gradebook, rows of students with a scenario skipped on an overloaded machine left
/// out (their verdicts were not judged, so two runs may differ there).
fn gradebook(results: &[SubmissionResult], skip: &[String]) -> String {
    let kept: Vec<SubmissionResult> = results
        .iter()
        .filter(|r| !skip.contains(&r.submission))
        .cloned()
        .collect();
    report::render(Format::Csv, &kept, false)
}

fn overloaded(results: &[SubmissionResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| support::overloaded(r))
        .map(|r| r.submission.clone())
        .collect()
}

/// The stored results that hold a verdict the machine decided (`skip`, `fault`): graded
/// again in part by design.
fn unjudged(dir: &Path) -> Result<usize, Failed> {
    let store = Store::open(dir)?;
    let mut n = 0;
    for (_, text) in store.reports()? {
        let r: SubmissionResult = serde_json::from_str(&text)?;
        n += usize::from(r.exercises.iter().flat_map(|e| &e.scenarios).any(|s| {
            matches!(
                s.status,
                harness::outcome::Status::Skip | harness::outcome::Status::Fault
            )
        }));
    }
    Ok(n)
}

fn result_files(dir: &Path) -> Result<Vec<String>, Failed> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    names.sort();
    Ok(names)
}

/// An inotify watch on `dir` for files renamed into it or closed after writing.
fn watch(dir: &Path) -> Result<OwnedFd, Failed> {
    // SAFETY: plain system calls; the descriptor is owned at once.
    let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
    if fd < 0 {
        return Err(format!("inotify_init1: {}", std::io::Error::last_os_error()).into());
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    let mask = libc::IN_MOVED_TO | libc::IN_CLOSE_WRITE;
    if unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) } < 0 {
        return Err(format!("inotify_add_watch: {}", std::io::Error::last_os_error()).into());
    }
    Ok(fd)
}

/// Waits (on inotify events) until `dir` holds a result file; fails when `child` exits first.
fn await_first_result(fd: &OwnedFd, dir: &Path, child: &mut Child) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut buf = [0u8; 4096];
    while result_files(dir)?.is_empty() {
        if let Some(status) = child.try_wait()? {
            return Err(format!("the grader exited ({status}) before storing a result").into());
        }
        if Instant::now() > deadline {
            return Err("no result file within 300 s".into());
        }
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd; the wait is for an event (a second at most, to notice a
        // grader that died without storing anything).
        unsafe { libc::poll(&mut pfd, 1, 1000) };
        // Drain what came; the folder itself is what is checked.
        while unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    }
    Ok(())
}

fn resume() -> Outcome {
    let tmp = tempfile::tempdir()?;
    let class = make_class(tmp.path(), true)?;
    let whole = grade(&class, &tmp.path().join("whole"), &[])?;
    let killed = tmp.path().join("killed");
    std::fs::create_dir(&killed)?;
    let fd = watch(&killed)?;
    let mut child = Command::new(support::SYSGRADE)
        .args(args(&class, &killed, &[]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let waited = await_first_result(&fd, &killed, &mut child);
    child.kill()?;
    child.wait()?;
    waited?;
    let stored = result_files(&killed)?;
    if stored.len() >= 4 || stored.contains(&"dan.json".to_string()) {
        return Err(format!("the run finished before it was killed: {stored:?}").into());
    }
    let store = Store::open(&killed)?;
    for name in &stored {
        let student = name.trim_end_matches(".json");
        if !matches!(store.read(student), Stored::Found(..)) {
            return Err(format!("{name} was left half-written by the kill").into());
        }
    }
    let resumed = grade(&class, &killed, &[])?;
    if resumed.graded != 4 - stored.len() || resumed.reused + resumed.partly != stored.len() {
        return Err(format!(
            "after a kill with {stored:?} stored, the re-run said: {}",
            resumed.stderr
        )
        .into());
    }
    let mut skip = overloaded(&whole.results);
    skip.extend(overloaded(&resumed.results));
    let (a, b) = (
        gradebook(&whole.results, &skip),
        gradebook(&resumed.results, &skip),
    );
    if a != b || resumed.results.len() != 4 {
        return Err(format!("resumed gradebook\n{b}\ndiffers from one run's\n{a}").into());
    }
    let merged = support::sysgrade()
        .args(["merge", "--format", "csv"])
        .arg(&killed)
        .output()?;
    let merged = String::from_utf8_lossy(&merged.stdout).into_owned();
    if merged != gradebook(&resumed.results, &[]) {
        return Err(format!("merge of the results folder gave\n{merged}").into());
    }
    let again = grade(&class, &killed, &[])?;
    let expected_partly = unjudged(&killed)?;
    if again.graded != 0 || again.partly != expected_partly || again.reused + again.partly != 4 {
        return Err(format!("an unchanged re-run: {}", again.stderr).into());
    }
    Ok(())
}

/// Checks a re-run's counts: `graded` in full, the rest reused (or regraded in part when
/// their stored verdicts hold a skip or fault, or when `partly` is forced).
fn expect(g: &Graded, graded: usize, partly: Option<usize>, what: &str) -> Outcome {
    let rest = QUICK.len() - graded;
    let ok = g.graded == graded
        && match partly {
            Some(p) => g.partly == p && g.reused == rest - p,
            None => g.reused + g.partly == rest,
        };
    if ok {
        Ok(())
    } else {
        Err(format!("{what}: {}", g.stderr).into())
    }
}

fn changes() -> Outcome {
    let tmp = tempfile::tempdir()?;
    let class = make_class(tmp.path(), false)?;
    let dir = tmp.path().join("results");
    expect(&grade(&class, &dir, &[])?, 3, Some(0), "a first run")?;
    let unchanged = grade(&class, &dir, &[])?;
    expect(&unchanged, 0, Some(unjudged(&dir)?), "an unchanged re-run")?;
    std::fs::write(
        class.join("cat/env.py"),
        std::fs::read_to_string(class.join("cat/env.py"))? + "\n# changed\n",
    )?;
    expect(&grade(&class, &dir, &[])?, 1, None, "cat's env.py changed")?;
    let forced = grade(&class, &dir, &["--regrade", "env"])?;
    expect(&forced, 0, Some(3), "--regrade env")?;
    expect(
        &grade(&class, &dir, &["--regrade", "bob"])?,
        1,
        None,
        "--regrade bob",
    )?;
    // A damaged file (half of itself) and a temporary file a killed grader left.
    let ann = dir.join("ann.json");
    let text = std::fs::read_to_string(&ann)?;
    std::fs::write(&ann, &text[..text.len() / 2])?;
    let stray = dir.join(".sysgrade-tmp-left.part");
    std::fs::write(&stray, "{")?;
    let repaired = grade(&class, &dir, &[])?;
    expect(&repaired, 1, None, "ann.json damaged")?;
    if !repaired.stderr.contains("not trusted") || stray.exists() {
        return Err(format!("damage not said, or stray left: {}", repaired.stderr).into());
    }
    if !matches!(Store::open(&dir)?.read("ann"), Stored::Found(..)) {
        return Err("ann.json was not rewritten whole".into());
    }
    let unknown = support::sysgrade()
        .args(args(&class, &dir, &["--regrade", "ennv"]))
        .output()?;
    let said = String::from_utf8_lossy(&unknown.stderr);
    if unknown.status.code() != Some(2) || !said.contains("did you mean `env`") {
        return Err(format!("--regrade ennv: {said}").into());
    }
    Ok(())
}

/// A program that tries to forge a result in the results folder (by its absolute path), then
/// does what `process` asks.
fn forger(results: &Path) -> String {
    format!(
        "import os\nfor name in ('ann.json', 'eve-was-here.json'):\n    try:\n        \
         open(os.path.join({dir:?}, name), 'w').write('{{}}')\n    except OSError:\n        \
         pass\nprint(f'Process id is {{os.getpid()}}')\nprint(f'User id is {{os.getuid()}}')\n\
         print(f'Group id is {{os.getgid()}}')\n",
        dir = results.display().to_string()
    )
}

fn in_mode(mode: Mode) -> Outcome {
    let place = Place::new(mode)?;
    for (name, fixture) in QUICK {
        place.copy(
            &support::root().join("fixtures").join(fixture),
            &format!("class/{name}"),
        )?;
    }
    let results = place.work.join("results");
    let eve = place.work.join("class/eve");
    std::fs::write(eve.join("process.py"), forger(&results)).or_else(|_| {
        std::fs::create_dir_all(&eve)?;
        std::fs::write(eve.join("process.py"), forger(&results))
    })?;
    if let Some((uid, gid)) = place.ids {
        std::os::unix::fs::chown(&eve, Some(uid), Some(gid))?;
        std::os::unix::fs::chown(eve.join("process.py"), Some(uid), Some(gid))?;
    }
    let run = || -> Result<(String, String), Failed> {
        let mut cmd = place.sysgrade();
        cmd.args(args(&place.work.join("class"), &results, &[]));
        let ran = place.run(cmd, Duration::from_secs(600))?;
        ran.exited_normally(mode)?;
        Ok((ran.stdout, ran.stderr))
    };
    let (first, said) = run()?;
    let (again, said_again) = run()?;
    let stored = result_files(&results)?;
    let want: Vec<String> = ["ann", "bob", "cat", "eve"]
        .map(|n| format!("{n}.json"))
        .to_vec();
    let counts = "0 reused, 4 graded, 0 regraded in part";
    let reused = format!("{} reused, 0 graded", 4 - unjudged(&results)?);
    let mut wrong = Vec::new();
    if stored != want {
        wrong.push(format!("the results folder holds {stored:?}, not {want:?}"));
    }
    if !said.contains(counts) || !said_again.contains(&reused) {
        wrong.push(format!("first run: {said}\nre-run: {said_again}"));
    }
    if !matches!(Store::open(&results)?.read("ann"), Stored::Found(..)) {
        wrong.push("ann.json is not a stored result: a program wrote it".into());
    }
    let (a, b): (Vec<SubmissionResult>, Vec<SubmissionResult>) =
        (serde_json::from_str(&first)?, serde_json::from_str(&again)?);
    // The forger ran to its end (so it did try): its ids are right.
    let eve_ran = a.iter().filter(|r| r.submission.ends_with("eve")).any(|r| {
        r.exercises
            .iter()
            .flat_map(|e| &e.scenarios)
            .any(|s| s.id == "process.ids" && s.status == harness::outcome::Status::Pass)
    });
    if !eve_ran {
        wrong.push(format!(
            "the forging program did not run as expected:\n{first}"
        ));
    }
    let skip = [overloaded(&a), overloaded(&b)].concat();
    if gradebook(&a, &skip) != gradebook(&b, &skip) {
        wrong.push("the re-run's gradebook differs from the first run's".into());
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("{} mode: {}", mode.name(), wrong.join("\n")).into())
    }
}
