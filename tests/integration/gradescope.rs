//! `gradescope::…`: `autograder.zip` built by `sysgrade gradescope package`, replayed by
//! `sysgrade gradescope run` under Docker's default confinement (container mode): full marks
//! for good-python, the right test failing with Markdown output for a single defect, an empty
//! submission, an injected grader fault, and a program that tries to rewrite results.json
//! and read source/. Every results.json is checked against Gradescope's documented fields,
//! and every replay exits 0. The scripts pass `sh -n` and shellcheck.
//!
//! The packed binary is `SYSGRADE_STATIC_BIN` when set (CI builds it), else the tests'
//! dynamic build with `--allow-dynamic`: a replay on this machine, which has its glibc.

use crate::modes::{tail, Mode, Place};
use crate::support::{self, skip_without, Outcome};
use harness::engines::gradescope::{scripts, validate};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(600);
/// In the course file: a program that read it would print this.
const SECRET: &str = "sysgrade-course-secret-5e1f";

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("gradescope::scripts_pass_sh_n_and_shellcheck", scripts_lint),
        Trial::test("gradescope::good_python_full_marks", good_python),
        Trial::test(
            "gradescope::single_defect_fails_the_right_test",
            single_defect,
        ),
        Trial::test("gradescope::empty_submission", empty),
        Trial::test("gradescope::grader_fault_is_the_graders", grader_fault),
        Trial::test(
            "gradescope::hostile_reaches_neither_results_nor_source",
            hostile,
        ),
    ]
}

fn scripts_lint() -> Outcome {
    let dir = tempfile::tempdir()?;
    let files = [
        ("setup.sh", scripts::setup_sh(&["ffmpeg".into()])),
        ("run_autograder", scripts::run_autograder()),
    ];
    for (name, text) in &files {
        let path = dir.path().join(name);
        std::fs::write(&path, text)?;
        let out = std::process::Command::new("sh")
            .arg("-n")
            .arg(&path)
            .output()?;
        if !out.status.success() {
            return Err(format!("sh -n {name}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
    }
    if skip_without("shellcheck", "apt-get install -y shellcheck")? {
        return Ok(());
    }
    let broken = dir.path().join("broken.sh");
    std::fs::write(&broken, "#!/bin/sh\nrm -rf $1/tmp\n")?;
    let shellcheck = |p: &Path| std::process::Command::new("shellcheck").arg(p).output();
    if shellcheck(&broken)?.status.success() {
        return Err("shellcheck passed a broken script: it checked nothing".into());
    }
    for (name, _) in &files {
        let out = shellcheck(&dir.path().join(name))?;
        if !out.status.success() {
            return Err(format!(
                "shellcheck {name}:\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
            .into());
        }
    }
    Ok(())
}

/// One replay's outcome: results.json as a value, and what `gradescope run` printed.
struct Replayed {
    results: Value,
    stdout: String,
}

/// Packs `course`, replays it on `submission` (a folder in the place) in container mode with
/// `env`, and checks exit 0 and a valid results.json.
fn replay(
    course: &str,
    submission: &Path,
    env: &[(&str, &str)],
    place: &Place,
    root: &Path,
) -> Result<Replayed, Failed> {
    std::fs::write(place.work.join("course.toml"), course)?;
    let mut pack = place.sysgrade();
    pack.args([
        "gradescope",
        "package",
        "--course",
        "course.toml",
        "-o",
        "autograder.zip",
    ]);
    match std::env::var_os("SYSGRADE_STATIC_BIN") {
        Some(bin) => pack.arg("--binary").arg(bin),
        None => pack.arg("--allow-dynamic"),
    };
    let packed = place.run(pack, LIMIT)?;
    if packed.status.code() != Some(0) {
        return Err(format!("package: {}\n{}", packed.status, tail(&packed.stderr, 2000)).into());
    }
    let mut run = place.sysgrade();
    run.args(["gradescope", "run", "autograder.zip"])
        .arg(submission)
        .arg("--root")
        .arg(root);
    for (k, v) in env {
        run.env(k, v);
    }
    let ran = place.run(run, LIMIT)?;
    let text = std::fs::read_to_string(root.join("results/results.json")).map_err(|e| {
        format!(
            "no results.json ({e}); replay said:\n{}\n{}",
            ran.stdout,
            tail(&ran.stderr, 2000)
        )
    })?;
    let problems = validate::problems(&text);
    if ran.status.code() != Some(0) || !problems.is_empty() {
        return Err(format!(
            "replay exited {}; problems {problems:?}\nstdout:\n{}\nstderr:\n{}",
            ran.status,
            ran.stdout,
            tail(&ran.stderr, 2000)
        )
        .into());
    }
    Ok(Replayed {
        results: serde_json::from_str(&text)?,
        stdout: ran.stdout,
    })
}

/// A replay root outside every scratch place (a run may write those under Landlock).
fn replay_root() -> Result<tempfile::TempDir, Failed> {
    let base = PathBuf::from("/var/cache/sysgrade");
    std::fs::create_dir_all(&base)?;
    Ok(tempfile::Builder::new()
        .prefix("gs-trial-")
        .tempdir_in(base)?)
}

fn container() -> Result<Option<Place>, Failed> {
    if !crate::confine::is_root() {
        support::skip_missing(
            "root",
            "the container-mode replay runs as root, as Gradescope does",
        )?;
        return Ok(None);
    }
    Ok(Some(Place::new(Mode::Container)?))
}

fn test<'a>(v: &'a Value, name: &str) -> Result<&'a Value, Failed> {
    v["tests"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == name))
        .ok_or_else(|| format!("no test {name} in {v}").into())
}

const TWO: &str = "exercises = [\"process\", \"signals\"]\n";

fn good_python() -> Outcome {
    let Some(place) = container()? else {
        return Ok(());
    };
    let sub = place.copy(&support::root().join("fixtures/good-python"), "good-python")?;
    let root = replay_root()?;
    let r = replay(TWO, &sub, &[], &place, root.path())?;
    let tests = r.results["tests"].as_array().cloned().unwrap_or_default();
    let max: f64 = tests.iter().filter_map(|t| t["max_score"].as_f64()).sum();
    if tests.is_empty()
        || r.results["score"].as_f64() != Some(max)
        || tests.iter().any(|t| t["status"] != "passed")
    {
        return Err(format!("not full marks: {}", r.results).into());
    }
    Ok(())
}

fn single_defect() -> Outcome {
    let Some(place) = container()? else {
        return Ok(());
    };
    let sub = place.copy(
        &support::root().join("fixtures/process-exit1"),
        "process-exit1",
    )?;
    let root = replay_root()?;
    let course = "exercises = [\"process\"]\nhidden = [\"process.exit\"]\n";
    let r = replay(course, &sub, &[], &place, root.path())?;
    let exit = test(&r.results, "process.exit")?;
    let output = exit["output"].as_str().unwrap_or("");
    let others_pass = r.results["tests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["name"] != "process.exit")
        .all(|t| t["status"] == "passed");
    if exit["status"] != "failed"
        || !others_pass
        || exit["visibility"] != "after_due_date"
        || r.results["output_format"] != "md"
        || !output.contains("**run 1 transcript**\n\n```text\n")
    {
        return Err(format!(
            "process.exit alone should fail, in Markdown:\n{}",
            r.results
        )
        .into());
    }
    Ok(())
}

fn empty() -> Outcome {
    let Some(place) = container()? else {
        return Ok(());
    };
    let sub = place.work.join("empty");
    std::fs::create_dir(&sub)?;
    let root = replay_root()?;
    let r = replay(TWO, &sub, &[], &place, root.path())?;
    let output = r.results["output"].as_str().unwrap_or("");
    if r.results["score"] != 0 || !output.contains("empty") {
        return Err(format!("an empty submission: {}\n{}", r.results, r.stdout).into());
    }
    Ok(())
}

fn grader_fault() -> Outcome {
    let Some(place) = container()? else {
        return Ok(());
    };
    let sub = place.copy(&support::root().join("fixtures/good-python"), "good-python")?;
    let root = replay_root()?;
    let env = [(harness::grading::PANIC_HOOK, "process.exit")];
    let r = replay(TWO, &sub, &env, &place, root.path())?;
    let exit = test(&r.results, "process.exit")?;
    let ids = test(&r.results, "process.ids")?;
    let output = r.results["output"].as_str().unwrap_or("");
    if !exit["status"].is_null()
        || !exit["output"]
            .as_str()
            .unwrap_or("")
            .contains("not your program")
        || !output.contains("The grader failed, not your program")
        || ids["status"] != "passed"
        || ids["score"] != 1
        || r.results["extra_data"]["faults"][0]["test"] != "process.exit"
    {
        return Err(format!(
            "the fault should be the grader's, the rest judged:\n{}",
            r.results
        )
        .into());
    }
    Ok(())
}

/// Tries to forge results.json and to read the course file and list source/, printing what
/// it managed; exits 1 so that its transcript is kept in process.exit's output.
const HOSTILE: &str = r#"import os, sys
results, course = open("gradescope-paths.txt").read().split()
try:
    with open(results, "w") as f:
        f.write('{"score": 999, "tests": []}')
    print("FORGED results.json")
except Exception as e:
    print("cannot write results:", type(e).__name__)
try:
    print("READ course:", open(course).read())
except Exception as e:
    print("cannot read course:", type(e).__name__)
try:
    print("LISTED source:", os.listdir(os.path.dirname(course)))
except Exception as e:
    print("cannot list source:", type(e).__name__)
sys.exit(1)
"#;

fn hostile() -> Outcome {
    let Some(place) = container()? else {
        return Ok(());
    };
    let sub = place.work.join("hostile");
    std::fs::create_dir(&sub)?;
    std::fs::write(sub.join("process.py"), HOSTILE)?;
    let root = replay_root()?;
    let results = root.path().join("results/results.json");
    let course = root.path().join("source/course.toml");
    std::fs::write(
        sub.join("gradescope-paths.txt"),
        format!("{}\n{}\n", results.display(), course.display()),
    )?;
    let course_text = format!("# {SECRET}\nexercises = [\"process\"]\n");
    let r = replay(&course_text, &sub, &[], &place, root.path())?;
    let text = serde_json::to_string(&r.results)?;
    let exit = test(&r.results, "process.exit")?["output"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let tried = [
        "cannot write results",
        "cannot read course",
        "cannot list source",
    ]
    .iter()
    .all(|t| exit.contains(t));
    if r.results["score"] == 999
        || text.contains(SECRET)
        || text.contains("FORGED")
        || text.contains("LISTED")
        || !tried
    {
        return Err(format!(
            "the program reached results/ or source/ (or did not try):\n{exit}\n{text}"
        )
        .into());
    }
    Ok(())
}
