//! The command line: plain messages and the documented exit statuses for bad input.

use crate::support::{self, sysgrade, Outcome};
use libtest_mimic::{Failed, Trial};
use predicates::prelude::*;
use std::os::unix::fs::PermissionsExt;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("cli::missing_folder", missing_folder),
        Trial::test("cli::not_a_folder", not_a_folder),
        Trial::test("cli::empty_folder", empty_folder),
        Trial::test("cli::binary_junk", binary_junk),
        Trial::test("cli::unknown_exercise", unknown_exercise),
        Trial::test("cli::json_shape", json_shape),
        Trial::test("cli::full_marks_exit_zero", full_marks_exit_zero),
        Trial::test("cli::grader_fault_exits_2", grader_fault_exits_2),
        Trial::test(
            "cli::build_failure_is_an_error_exit_1",
            build_failure_exits_1,
        ),
        Trial::test("cli::list_names_every_catalogue_id", list_ids),
        Trial::test(
            "cli::a_missing_tool_is_not_a_lost_point",
            missing_tool_not_lost,
        ),
        Trial::test("cli::require_tools_makes_a_skip_a_fault", require_tools),
        Trial::test("cli::ci_examples_report_and_stop_on_2", ci_examples),
    ]
}

fn check(assert: Result<(), predicates::reflection::Case<'_>>) -> Outcome {
    assert.map_err(|c| Failed::from(format!("{c:?}")))
}

fn missing_folder() -> Outcome {
    sysgrade()
        .args(["grade", "/nonexistent/sub"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"));
    Ok(())
}

fn not_a_folder() -> Outcome {
    let file = tempfile::NamedTempFile::new()?;
    sysgrade()
        .arg("grade")
        .arg(file.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a folder"));
    Ok(())
}

fn empty_folder() -> Outcome {
    let dir = tempfile::tempdir()?;
    sysgrade()
        .args(["grade", "--exercise", "process"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("the folder is empty"));
    Ok(())
}

fn binary_junk() -> Outcome {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("data.bin"), [0u8, 159, 146, 150, 255, 0, 1])?;
    let junk = dir.path().join("signals");
    std::fs::write(&junk, [0xdeu8, 0xad, 0xbe, 0xef, 0, 0, 0xff, 0x10])?;
    std::fs::set_permissions(&junk, std::fs::Permissions::from_mode(0o755))?;
    let out = sysgrade()
        .args(["grade", "--exercise", "signals", "--exercise", "process"])
        .arg(dir.path())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    check(
        predicate::eq(Some(1))
            .find_case(false, &out.status.code())
            .map_or(Ok(()), Err),
    )?;
    for needle in [
        "found signals, but it is not a program",
        "no program for `process` found",
    ] {
        if !stdout.contains(needle) {
            return Err(format!("report lacks {needle:?}:\n{stdout}").into());
        }
    }
    Ok(())
}

fn unknown_exercise() -> Outcome {
    let dir = support::root().join("fixtures/good-python");
    sysgrade()
        .args(["grade", "--exercise", "nope"])
        .arg(dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown exercise `nope`"));
    Ok(())
}

fn json_shape() -> Outcome {
    let dir = support::root().join("fixtures/process-exit1");
    let out = sysgrade()
        .args(["grade", "--format", "json", "--exercise", "process"])
        .arg(&dir)
        .output()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    for key in ["submission", "score", "max_score", "exercises"] {
        v.get(key).ok_or_else(|| format!("missing {key}"))?;
    }
    let ex = &v["exercises"][0];
    for key in ["id", "source", "score", "max_score", "scenarios"] {
        ex.get(key)
            .ok_or_else(|| format!("missing exercises[].{key}"))?;
    }
    let sc = &ex["scenarios"][0];
    for key in [
        "id",
        "status",
        "points",
        "max_points",
        "feedback",
        "duration_ms",
    ] {
        sc.get(key)
            .ok_or_else(|| format!("missing scenarios[].{key}"))?;
    }
    let statuses: Vec<&str> = ex["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["status"].as_str())
        .collect();
    if statuses != ["pass", "fail", "pass"] || out.status.code() != Some(1) {
        return Err(format!(
            "unexpected statuses {statuses:?} / exit {:?}",
            out.status.code()
        )
        .into());
    }
    Ok(())
}

fn full_marks_exit_zero() -> Outcome {
    let dir = support::root().join("fixtures/good-python");
    sysgrade()
        .args(["grade", "--exercise", "process", "--exercise", "env"])
        .arg(dir)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Total: 8/8"));
    Ok(())
}

/// The statuses of the first exercise's scenarios in a JSON report, and its `program`.
fn verdicts(json: &[u8]) -> Result<(Vec<(String, String)>, String), Failed> {
    let v: serde_json::Value = serde_json::from_slice(json)?;
    let ex = &v["exercises"][0];
    let statuses = ex["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or_default().to_string(),
                s["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Ok((statuses, ex["program"].as_str().unwrap_or_default().into()))
}

/// A bug in the harness (a scenario that panics, injected through the test hook) is the
/// grader's `fault`, said so in the feedback, and `grade` exits with 2.
fn grader_fault_exits_2() -> Outcome {
    let dir = support::root().join("fixtures/good-python");
    let out = sysgrade()
        .env(harness::grading::PANIC_HOOK, "process.exit")
        .args(["grade", "-q", "--format", "json", "--exercise", "process"])
        .arg(&dir)
        .output()?;
    let (statuses, program) = verdicts(&out.stdout)?;
    let want = [
        ("process.ids", "pass"),
        ("process.exit", "fault"),
        ("process.hygiene", "pass"),
    ];
    let same = statuses
        .iter()
        .map(|(i, s)| (i.as_str(), s.as_str()))
        .eq(want);
    if !same || program != "ready" || out.status.code() != Some(2) {
        return Err(format!(
            "statuses {statuses:?}, program {program:?}, exit {:?}",
            out.status.code()
        )
        .into());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let feedback = v["exercises"][0]["scenarios"][1]["feedback"]
        .as_str()
        .unwrap_or_default();
    if !feedback.starts_with("grader fault: ") || !feedback.contains("a bug in the harness") {
        return Err(format!("the feedback does not blame the grader: {feedback:?}").into());
    }
    Ok(())
}

/// A student's program that does not compile is `error` (not the grader's `fault`), its
/// `program` is `build_failed`, and `grade` exits with 1.
fn build_failure_exits_1() -> Outcome {
    let dir = support::root().join("fixtures/build-compile-error");
    let out = sysgrade()
        .args(["grade", "-q", "--format", "json", "--exercise", "signals"])
        .arg(&dir)
        .output()?;
    let (statuses, program) = verdicts(&out.stdout)?;
    if statuses.is_empty()
        || statuses.iter().any(|(_, s)| s != "error")
        || program != "build_failed"
        || out.status.code() != Some(1)
    {
        return Err(format!(
            "statuses {statuses:?}, program {program:?}, exit {:?}",
            out.status.code()
        )
        .into());
    }
    Ok(())
}

fn list_ids() -> Outcome {
    let out = sysgrade().arg("list").output()?;
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    for id in crate::tidy::published()? {
        if !listed
            .lines()
            .any(|l| l.split_whitespace().next() == Some(id.as_str()))
        {
            return Err(format!("published id {id} is not listed by `sysgrade list`").into());
        }
    }
    Ok(())
}

/// The CI examples' grade step, as written up to its end, with the grader replaced by a
/// command exiting 1 or 2: 1 (lost points) goes on, 2 (bad course file) stops the job.
fn ci_examples() -> Outcome {
    for file in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(support::root().join("examples/ci").join(file))?;
        let step = grade_step(&text).ok_or_else(|| format!("{file}: no grade step"))?;
        if step.contains("||") {
            return Err(format!("{file}: the grade step hides its status: `{step}`").into());
        }
        if !step.contains("--exit-status report") {
            return Err(
                format!("{file}: the grade step lacks `--exit-status report`: `{step}`").into(),
            );
        }
        // Status 1 never comes with `--exit-status report`; 2 must stop the job, as a plain
        // command in a `sh -e` script does.
        for (status, go_on) in [(0, true), (2, false)] {
            let script = format!("(exit {status})\necho went-on");
            let out = std::process::Command::new("sh")
                .args(["-e", "-c", &script])
                .output()?;
            let went_on = String::from_utf8_lossy(&out.stdout).contains("went-on");
            if went_on != go_on {
                return Err(format!("{file}: after status {status}: went on = {went_on}").into());
            }
        }
    }
    Ok(())
}

/// The `sysgrade … grade` command of a CI file, with its continuation lines (more indented:
/// a shell's `\\` or a YAML plain scalar folded over lines) joined.
fn grade_step(text: &str) -> Option<String> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.contains("sysgrade grade") && !l.contains("sysgrade\" grade"));
    let first = lines.next()?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut step = first.trim().trim_end_matches('\\').to_string();
    for line in lines.take_while(|l| indent(l) > indent(first) && !l.trim().is_empty()) {
        step.push(' ');
        step.push_str(line.trim().trim_end_matches('\\'));
    }
    Some(step)
}

/// `sysgrade grade fixtures/good-python` on `process` and `make_movie` with ffmpeg and
/// ffprobe off the PATH, with `extra` arguments.
fn grade_without_ffmpeg(extra: &[&str]) -> Result<std::process::Output, Failed> {
    let (_dir, path) = support::path_without(&["ffmpeg", "ffprobe"])?;
    let dir = support::root().join("fixtures/good-python");
    Ok(sysgrade()
        .args(["grade", "--exercise", "process", "--exercise", "make_movie"])
        .args(extra)
        .arg(dir)
        .env("PATH", path)
        .output()?)
}

/// Without ffmpeg, make_movie's scenarios are `skip`: left out of the total, named with the
/// tools, and the grading of what was judged (all passed) exits 0.
fn missing_tool_not_lost() -> Outcome {
    let out = grade_without_ffmpeg(&[])?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let total = stdout.lines().find(|l| l.contains("Total:")).unwrap_or("");
    let expected =
        "graded; 4 points not graded (tools missing: ffmpeg, ffprobe; run `sysgrade doctor`)";
    if out.status.code() != Some(0)
        || !total.starts_with("Total: 3/3 ")
        || !total.ends_with(expected)
    {
        return Err(format!(
            "expected exit 0 and `Total: 3/3 {expected}`, got exit {:?} and {total:?}\n{stdout}",
            out.status.code()
        )
        .into());
    }
    let json = grade_without_ffmpeg(&["--format", "json", "--quiet"])?;
    let v: serde_json::Value = serde_json::from_slice(&json.stdout)?;
    let shape = (
        &v["score"],
        &v["max_score"],
        &v["not_graded"],
        &v["missing_tools"],
    );
    if shape
        != (
            &3.into(),
            &3.into(),
            &4.into(),
            &serde_json::json!(["ffmpeg", "ffprobe"]),
        )
    {
        return Err(format!("unexpected JSON totals {shape:?}").into());
    }
    Ok(())
}

/// `--require-tools`: the same grading exits 2, each skip a grader fault naming the tool.
fn require_tools() -> Outcome {
    let out = grade_without_ffmpeg(&["--require-tools", "--format", "json", "--quiet"])?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let movie = v["exercises"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["id"] == "make_movie"))
        .ok_or("no make_movie in the report")?;
    let faults: Vec<&str> = movie["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["status"] == "fault")
        .filter_map(|s| s["feedback"].as_str())
        .collect();
    let named = faults
        .iter()
        .any(|f| f.contains("`ffmpeg` is not installed"));
    if out.status.code() != Some(2)
        || faults.len() < 4
        || !named
        || v["not_graded"] != serde_json::Value::Null
    {
        return Err(format!(
            "expected exit 2 and make_movie's scenarios as faults naming ffmpeg; got exit {:?}, faults {faults:?}",
            out.status.code()
        )
        .into());
    }
    Ok(())
}
