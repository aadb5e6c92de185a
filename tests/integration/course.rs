//! Course files: points, hidden scenarios (withheld from students, kept for staff), extra
//! scenarios written as data, aliases, and messages that name the line and the key.

use crate::support::{self, sysgrade, Outcome};
use libtest_mimic::{Failed, Trial};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "course::points_hidden_extra_and_aliases",
            points_hidden_extra,
        ),
        Trial::test("course::events_carry_settled_results", events_settled),
        Trial::test("course::invalid_file_names_line_and_key", invalid),
        Trial::test("course::example_course_grades_the_reference", example),
        Trial::test(
            "course::readme_example_runs_its_extra_scenario",
            readme_example,
        ),
        Trial::test("course::entries_outside_exercises_are_errors", outside),
        Trial::test("course::step_errors_name_the_step_line", step_line),
    ]
}

const COURSE: &str = r#"
name = "Systems 2026"
exercises = ["process"]
hidden = ["process.exit"]

[points]
"process.ids" = 3

[aliases]
process = ["my_ids.py"]

[[scenarios]]
id = "process.prints_group"
points = 2
steps = [
  { step = "expect", pattern = "group id\\D*\\d+", within = 5.0 },
  { step = "exit", status = "any", within = 5.0 },
]
"#;

fn scenario<'a>(v: &'a serde_json::Value, id: &str) -> Result<&'a serde_json::Value, Failed> {
    v["exercises"][0]["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["id"] == id)
        .ok_or_else(|| format!("no {id} in {v}").into())
}

/// A course file holding `text`, in a temporary folder of its own.
fn course_file(text: &str) -> Result<(tempfile::TempDir, PathBuf), Failed> {
    let tmp = tempfile::tempdir()?;
    let course = tmp.path().join("course.toml");
    std::fs::write(&course, text)?;
    Ok((tmp, course))
}

/// The exit-1 fixture's program in `dir/sub`, under the course's alias name.
fn aliased_submission(dir: &Path) -> Result<PathBuf, Failed> {
    let sub = dir.join("sub");
    std::fs::create_dir(&sub)?;
    std::fs::copy(
        support::root().join("fixtures/process-exit1/process.py"),
        sub.join("my_ids.py"),
    )?;
    Ok(sub)
}

fn points_hidden_extra() -> Outcome {
    let (tmp, course) = course_file(COURSE)?;
    let sub = aliased_submission(tmp.path())?;
    let run = |staff: bool| -> Result<serde_json::Value, Failed> {
        let mut cmd = sysgrade();
        cmd.args(["grade", "--quiet", "--format", "json", "--course"])
            .arg(&course)
            .arg(&sub);
        if staff {
            cmd.arg("--staff");
        }
        Ok(serde_json::from_slice(&cmd.output()?.stdout)?)
    };
    let student = run(false)?;
    let ids = scenario(&student, "process.ids")?;
    let extra = scenario(&student, "process.prints_group")?;
    let exit = scenario(&student, "process.exit")?;
    let checks = [
        (
            student["exercises"][0]["source"] == "my_ids.py",
            "found through the alias",
        ),
        (
            ids["points"] == 3 && ids["max_points"] == 3,
            "process.ids worth 3",
        ),
        (
            extra["status"] == "pass" && extra["points"] == 2,
            "the extra data scenario passes for 2",
        ),
        (
            exit["status"] == "fail" && exit["hidden"] == true,
            "process.exit fails, hidden",
        ),
        (
            exit["feedback"]
                .as_str()
                .is_some_and(|f| f.contains("withheld")),
            "hidden feedback withheld from students",
        ),
        (
            student["max_score"] == 7,
            "max score 3 + 1 + 2 + 1 (hygiene)",
        ),
    ];
    for (ok, what) in checks {
        if !ok {
            return Err(format!("{what}: {student}").into());
        }
    }
    let staff = run(true)?;
    if !scenario(&staff, "process.exit")?["feedback"]
        .as_str()
        .is_some_and(|f| f.contains("status 1"))
    {
        return Err(format!("staff view lacks the hidden feedback: {staff}").into());
    }
    Ok(())
}

/// Policy is applied before anything is emitted: each `ScenarioFinished` event carries the
/// result as the report has it (the course's points, the hidden flag, a student's withheld
/// feedback), not a raw verdict.
fn events_settled() -> Outcome {
    let course = harness::course::Course::parse(COURSE)?;
    let tmp = tempfile::tempdir()?;
    let sub = aliased_submission(tmp.path())?;
    let request = harness::grading::Request {
        submissions: vec![sub],
        exercises: course.selected(),
        course,
        ..Default::default()
    };
    let mut emitted = Vec::new();
    let results = harness::grading::grade(&support::settings(), &request, &mut |e| {
        if let harness::events::Event::ScenarioFinished { result, .. } = e {
            emitted.push(result.clone());
        }
    })?;
    let reported: Vec<_> = results[0]
        .exercises
        .iter()
        .flat_map(|e| &e.scenarios)
        .filter(|s| !s.id.ends_with(".hygiene"))
        .collect();
    if emitted.len() != reported.len() {
        return Err(format!("{} events for {} scenarios", emitted.len(), reported.len()).into());
    }
    for r in reported {
        let e = emitted
            .iter()
            .find(|e| e.id == r.id)
            .ok_or_else(|| format!("no event for {}", r.id))?;
        let same = (e.status, e.points, e.max_points, e.hidden, &e.feedback)
            == (r.status, r.points, r.max_points, r.hidden, &r.feedback);
        if !same {
            return Err(format!("event {e:?}\ndiffers from the report's {r:?}").into());
        }
    }
    let exit = emitted
        .iter()
        .find(|e| e.id == "process.exit")
        .ok_or("no process.exit event")?;
    let ids = emitted
        .iter()
        .find(|e| e.id == "process.ids")
        .ok_or("no process.ids event")?;
    if exit.feedback != harness::grading::WITHHELD || !exit.runs.is_empty() || ids.max_points != 3 {
        return Err(format!("events not settled: {exit:?} {ids:?}").into());
    }
    Ok(())
}

/// Grades the reference crate with the course file `course` (and the arguments `more`): the
/// JSON report, and sysgrade's exit status.
fn grade_reference(
    course: &Path,
    more: &[&str],
) -> Result<(serde_json::Value, Option<i32>), Failed> {
    let out = sysgrade()
        .args(["grade", "--quiet", "--format", "json", "--cargo-target-dir"])
        .arg(support::root().join("target/graded"))
        .args(more)
        .arg("--course")
        .arg(course)
        .arg(support::root().join("reference"))
        .output()?;
    let v = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&out.stderr)))?;
    Ok((v, out.status.code()))
}

/// The example courses' extra scenario, `signal_catcher.double_hup`, in a JSON report.
fn double_hup(report: &serde_json::Value) -> Option<&serde_json::Value> {
    report["exercises"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["scenarios"].as_array().into_iter().flatten())
        .find(|s| s["id"] == "signal_catcher.double_hup")
}

/// The README's example course, on the reference crate: full marks, extra scenario included.
fn example() -> Outcome {
    let course = support::root().join("examples/course.toml");
    let (v, code) = grade_reference(&course, &[])?;
    let extra = double_hup(&v);
    if v["score"] != v["max_score"] || extra.is_none_or(|s| s["points"] != 2) || code != Some(0) {
        return Err(format!("the example course on the reference: {v}").into());
    }
    Ok(())
}

/// `sysgrade grade --course COURSE DIR`, which must refuse the course (status 2).
fn refused(course: &Path, dir: &Path) -> assert_cmd::assert::Assert {
    sysgrade()
        .args(["grade", "--course"])
        .arg(course)
        .arg(dir)
        .assert()
        .code(2)
}

fn invalid() -> Outcome {
    let (_tmp, course) = course_file("name = \"x\"\n\n[points]\n\"signals.sigint_survive\" = 2\n")?;
    let dir = support::root().join("fixtures/good-python");
    refused(&course, &dir).stderr(
        predicate::str::contains("line 4").and(predicate::str::contains("signals.sigint_survive")),
    );
    std::fs::write(&course, "[limits]\ntime_scal = 2\n")?;
    refused(&course, &dir)
        .stderr(predicate::str::contains("time_scal").and(predicate::str::contains("line 2")));
    Ok(())
}

/// The course example in README.md, read out of README.md itself.
fn readme_course() -> Result<String, Failed> {
    let readme = std::fs::read_to_string(support::root().join("README.md"))?;
    let section = readme
        .split("### The course file")
        .nth(1)
        .ok_or("README.md has no \"### The course file\" section")?;
    let block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .ok_or("the course file section has no toml block")?;
    Ok(block.to_string())
}

/// README's example course, on the reference: it parses, and its extra scenario runs and
/// passes (signal_catcher must be in its `exercises`).
fn readme_example() -> Outcome {
    let (_tmp, course) = course_file(&readme_course()?)?;
    let (v, _) = grade_reference(&course, &["--exercise", "signal_catcher"])?;
    if double_hup(&v).is_none_or(|s| s["status"] != "pass" || s["points"] != 2) {
        return Err(format!("README's course on the reference: {v}").into());
    }
    Ok(())
}

fn outside() -> Outcome {
    let (_tmp, course) = course_file(
        "exercises = [\"signals\"]\n\n[[scenarios]]\nid = \"signal_catcher.double_hup\"\nsteps = [ { step = \"expect\", pattern = \"pid\" } ]\n",
    )?;
    refused(&course, &support::root().join("fixtures/good-python")).stderr(
        predicate::str::contains("line 3")
            .and(predicate::str::contains("signal_catcher.double_hup"))
            .and(predicate::str::contains("not in `exercises`")),
    );
    Ok(())
}

fn step_line() -> Outcome {
    let tmp = tempfile::tempdir()?;
    let course = tmp.path().join("course.toml");
    let dir = support::root().join("fixtures/good-python");
    let head = "hidden = [\"signals.extra\"]\n\n[[scenarios]]\nid = \"signals.extra\"\nsteps = [\n  { step = \"expect\", pattern = \"pid\" },\n";
    for (step, needles) in [
        (
            "  { step = \"expect\", pattern = \"got (\" },\n",
            vec!["line 7", "`got (`"],
        ),
        (
            "  { step = \"signal\", signal = \"SIGHPU\" },\n",
            vec!["line 7", "did you mean `SIGHUP`?"],
        ),
    ] {
        std::fs::write(&course, format!("{head}{step}]\n"))?;
        let out = sysgrade()
            .args(["grade", "--course"])
            .arg(&course)
            .arg(&dir)
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(2)
            || stderr.contains("(?i)")
            || !needles.iter().all(|n| stderr.contains(n))
        {
            return Err(format!("{step}: {:?} {stderr}", out.status.code()).into());
        }
    }
    Ok(())
}
