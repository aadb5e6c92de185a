//! Grading engines: PrairieLearn's external grader in a temporary `/grade` layout (root mode,
//! and under Docker's default confinement), `--partition auto` from Kubernetes' and GitLab's
//! variables, `--exit-status report`, and the Kubernetes and CI examples read as the engines
//! read them.

mod examples;
mod partition;

use crate::modes::{Mode, Place};
use crate::support::{self, Outcome};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![
        Trial::test("engines::prairielearn::good_python_full_marks", good_python),
        Trial::test(
            "engines::prairielearn::single_defect_partial",
            single_defect,
        ),
        Trial::test("engines::prairielearn::empty_not_gradable", empty),
        Trial::test("engines::prairielearn::grader_fault_said_so", grader_fault),
        Trial::test("engines::prairielearn::flood_cut_under_1mb", flood),
        Trial::test(
            "engines::prairielearn::bad_course_file_not_gradable",
            bad_course,
        ),
    ];
    trials.extend(partition::trials());
    trials.extend(examples::trials());
    trials
}

/// A PrairieLearn grading: its exit code, `results.json` parsed and its size.
struct Graded {
    code: Option<i32>,
    results: Value,
    size: usize,
    stderr: String,
}

impl Graded {
    fn fail(&self, what: &str) -> Failed {
        format!(
            "{what}\nexit {:?}\nresults: {}\nstderr:\n{}",
            self.code,
            crate::modes::tail(&self.results.to_string(), 3000),
            crate::modes::tail(&self.stderr, 3000)
        )
        .into()
    }

    /// Exit 0 and a score in [0, 1], as PrairieLearn needs to read the results at all.
    fn readable(&self) -> Result<f64, Failed> {
        let score = self.results["score"].as_f64();
        match score {
            Some(s) if self.code == Some(0) && (0.0..=1.0).contains(&s) => Ok(s),
            _ => Err(self.fail("not exit 0 with a score in [0, 1]")),
        }
    }

    /// The test named `id`.
    fn test(&self, id: &str) -> Result<&Value, Failed> {
        self.results["tests"]
            .as_array()
            .and_then(|all| all.iter().find(|t| t["name"] == id))
            .ok_or_else(|| self.fail(&format!("no test {id}")))
    }
}

/// The layout PrairieLearn mounts, under `grade`: `student/` with the fixture's program files
/// (none for `""`), `tests/course.toml` when a course is given, and no `results/` yet.
fn layout(grade: &Path, fixture: &str, course: Option<&str>) -> Result<(), Failed> {
    let student = grade.join("student");
    std::fs::create_dir_all(&student)?;
    std::fs::create_dir_all(grade.join("tests"))?;
    if let Some(text) = course {
        std::fs::write(grade.join("tests/course.toml"), text)?;
    }
    if fixture.is_empty() {
        return Ok(());
    }
    for entry in std::fs::read_dir(support::root().join("fixtures").join(fixture))?.flatten() {
        if entry.path().is_file() && entry.file_name() != "fixture.toml" {
            std::fs::copy(entry.path(), student.join(entry.file_name()))?;
        }
    }
    Ok(())
}

fn read_results(grade: &Path, code: Option<i32>, stderr: String) -> Result<Graded, Failed> {
    let file = grade.join("results/results.json");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("{}: {e}; exit {code:?}\nstderr:\n{stderr}", file.display()))?;
    let results = serde_json::from_str(&text)
        .map_err(|e| format!("results.json is not JSON ({e}); exit {code:?}"))?;
    Ok(Graded {
        code,
        results,
        size: text.len(),
        stderr,
    })
}

/// `sysgrade prairielearn --root <tmp>/grade` as root, with `env` added.
fn prairielearn(
    fixture: &str,
    course: Option<&str>,
    env: &[(&str, &str)],
) -> Result<Graded, Failed> {
    let tmp = tempfile::tempdir()?;
    let grade = tmp.path().join("grade");
    layout(&grade, fixture, course)?;
    run_as_root(&grade, env)
}

fn run_as_root(grade: &Path, env: &[(&str, &str)]) -> Result<Graded, Failed> {
    let out = support::sysgrade()
        .args(["prairielearn", "--quiet", "--root"])
        .arg(grade)
        .envs(env.iter().copied())
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    read_results(grade, out.status.code(), stderr)
}

/// The same under Docker's default confinement (no namespaces), in a place of its own.
fn prairielearn_confined(
    fixture: &str,
    course: Option<&str>,
    env: &[(&str, &str)],
) -> Result<Graded, Failed> {
    let place = Place::new(Mode::Container)?;
    let grade = place.work.join("grade");
    layout(&grade, fixture, course)?;
    let mut cmd = place.sysgrade();
    cmd.args(["prairielearn", "--quiet", "--root", "grade"])
        .envs(env.iter().copied());
    let ran = place.run(cmd, Duration::from_secs(300))?;
    read_results(&grade, ran.status.code(), ran.stderr)
}

const PROCESS_ENV: &str = "exercises = [\"process\", \"env\"]\n";
const PROCESS: &str = "exercises = [\"process\"]\n";

/// good-python under the container's confinement: full marks, every test its points.
fn good_python() -> Outcome {
    let g = prairielearn_confined("good-python", Some(PROCESS_ENV), &[])?;
    let tests = g.results["tests"].as_array().map_or(0, Vec::len);
    if g.readable()? != 1.0 || g.results["gradable"] != true || tests < 4 {
        return Err(g.fail("good-python should be gradable with score 1"));
    }
    Ok(())
}

/// process-exit1: process.exit lost (with what was expected and seen), the rest kept.
fn single_defect() -> Outcome {
    let g = prairielearn("process-exit1", Some(PROCESS), &[])?;
    let score = g.readable()?;
    let exit = g.test("process.exit")?;
    let message = exit["message"].as_str().unwrap_or_default();
    if !(score > 0.0 && score < 1.0)
        || exit["points"] != 0
        || exit["max_points"] != 1
        || !message.contains("expected exit status 0")
        || g.test("process.ids")?["points"] != 1
    {
        return Err(g.fail("process-exit1 should lose process.exit only"));
    }
    Ok(())
}

/// An empty folder, with and without a course file: not gradable, and said why.
fn empty() -> Outcome {
    for course in [Some(PROCESS), None] {
        let g = prairielearn("", course, &[])?;
        g.readable()?;
        let message = g.results["message"].as_str().unwrap_or_default();
        if g.results["gradable"] != false || !message.contains("does not count") {
            return Err(g.fail(&format!(
                "an empty submission (course {course:?}) should not be gradable"
            )));
        }
    }
    Ok(())
}

/// A scenario that panics (confined): exit 0, the grader named at fault, not counted.
fn grader_fault() -> Outcome {
    let hook = [(harness::grading::PANIC_HOOK, "process.exit")];
    let g = prairielearn_confined("good-python", Some(PROCESS), &hook)?;
    g.readable()?;
    let exit = g.test("process.exit")?;
    let said = |v: &Value, what: &str| v.as_str().is_some_and(|m| m.contains(what));
    if !said(&exit["message"], "the grader failed here, not your program")
        || exit["max_points"] != 0
        || !said(&g.results["message"], "not of your submission")
        || g.results["gradable"] != true
    {
        return Err(g.fail("a grader fault should be said to be the grader's"));
    }
    Ok(())
}

/// `process` that prints its ids, then 2 MB of lines full of control characters (six bytes
/// each in JSON), then exits 1. Unlike `hostile-flood`, whose output in its one second depends
/// on the machine's speed, all of it is read before the exit is judged: `process.exit`'s
/// transcript holds the 1 MiB kept of the stream whatever the load.
const FLOOD: &str = r#"import os, sys
print(f"Process id: {os.getpid()}\nUser id: {os.getuid()}\nGroup id: {os.getgid()}", flush=True)
line = "flood " + "\x01" * 40 + "\n"
for _ in range(200):
    sys.stdout.write(line * 250)
sys.stdout.flush()
sys.exit(1)
"#;

/// A program printing megabytes: results under 1 MB, the cut said where and on top.
fn flood() -> Outcome {
    let tmp = tempfile::tempdir()?;
    let grade = tmp.path().join("grade");
    layout(&grade, "", Some(PROCESS))?;
    std::fs::write(grade.join("student/process.py"), FLOOD)?;
    let g = run_as_root(&grade, &[])?;
    g.readable()?;
    let cut = "bytes cut here to keep the results under PrairieLearn's 1 MB";
    let output = g.test("process.exit")?["output"]
        .as_str()
        .unwrap_or_default();
    let message = g.results["message"].as_str().unwrap_or_default();
    if g.size >= 1_000_000 || !output.contains(cut) || !message.contains("under 1 MB") {
        return Err(g.fail(&format!("{} bytes, the cut not said", g.size)));
    }
    Ok(())
}

/// A course file that does not load: results all the same (exit 0), not gradable, the
/// grader's fault.
fn bad_course() -> Outcome {
    let g = prairielearn("good-python", Some("exercises = [\"no_such\"]\n"), &[])?;
    g.readable()?;
    let message = g.results["message"].as_str().unwrap_or_default();
    if g.results["gradable"] != false || !message.contains("not of your submission") {
        return Err(g.fail("a bad course file should give not-gradable results"));
    }
    Ok(())
}
