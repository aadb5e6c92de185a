//! Report shapes for a class and a course: distinct CSV cells and a note column, Markdown's
//! class summary with collapsed details, one Gradescope `results.json` per student, JUnit's
//! compile-error message, and the course's name in every header.

use crate::class::csv_rows;
use crate::formats::python;
use crate::support::{self, Outcome};
use harness::outcome::Status;
use harness::report::{self, Format};
use harness::result::SubmissionResult;
use libtest_mimic::{Failed, Trial};
use predicates::prelude::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("formats::csv_cells_keep_the_cases_apart", csv_cells),
        Trial::test("formats::course_name_in_every_header", course_name),
        Trial::test("formats::junit_compile_error_message", junit_compile_error),
        Trial::test("formats::gradescope_one_file_per_student", gradescope_each),
        Trial::test("snapshot::format::markdown_class", markdown_class),
    ]
}

/// Four students from one graded result: handed in (2/3), not handed in, a real 0, and an
/// empty folder.
fn class() -> Result<Vec<SubmissionResult>, Failed> {
    let graded = support::process_exit1()?;
    let named = |name: &str| {
        let mut r = graded.clone();
        r.submission = format!("class/{name}");
        r
    };
    let handed_in = named("ada");
    let mut missing = named("bob");
    missing.exercises[0].source = None;
    for s in &mut missing.exercises[0].scenarios {
        s.status = Status::Fail;
        s.points = 0;
        s.feedback = "no program for `process` found".into();
        s.runs.clear();
    }
    let mut zero = named("cy");
    for s in &mut zero.exercises[0].scenarios {
        s.status = Status::Fail;
        s.points = 0;
    }
    let mut empty = missing.clone();
    empty.submission = "class/dee".into();
    empty.problems = vec!["the folder is empty".into()];
    Ok([handed_in, missing, zero, empty]
        .into_iter()
        .map(|r| {
            let mut e = r;
            e.exercises = e.exercises.into_iter().map(|x| x.total()).collect();
            e.total()
        })
        .collect())
}

fn csv_cells() -> Outcome {
    let rows = csv_rows(&report::render(Format::Csv, &class()?, false))?;
    let want = [
        vec!["student", "process", "total", "max", "note"],
        vec!["ada", "2", "2", "3", ""],
        vec!["bob", "", "0", "3", ""],
        vec!["cy", "0", "0", "3", ""],
        vec!["dee", "", "0", "3", "the folder is empty"],
    ];
    if rows != want {
        return Err(format!("csv rows {rows:?}").into());
    }
    Ok(())
}

fn course_name() -> Outcome {
    let mut results = class()?;
    for r in &mut results {
        r.course = Some("Systems 2026".into());
    }
    let render = |f| report::render(f, &results, false);
    let checks = [
        (
            "human",
            render(Format::Human).contains("\n  course: Systems 2026\n"),
        ),
        (
            "markdown",
            render(Format::Markdown).starts_with("# sysgrade: Systems 2026\n"),
        ),
        (
            "junit",
            render(Format::Junit).contains("<testsuites name=\"Systems 2026\""),
        ),
        (
            "csv",
            render(Format::Csv).starts_with("\"student (Systems 2026)\","),
        ),
    ];
    for (format, ok) in checks {
        if !ok {
            return Err(
                format!("{format} lacks the course name:\n{}", render(Format::Junit)).into(),
            );
        }
    }
    Ok(())
}

fn junit_compile_error() -> Outcome {
    let result = support::grade_fixture("build-compile-error", &["signals"])?;
    let junit = report::render(Format::Junit, &[result], false);
    // The student's failed build is a failure of type `build`; `<error>` is the grader's.
    let messages = python(
        "import sys, xml.etree.ElementTree as ET\nroot = ET.fromstring(sys.stdin.read())\nassert not list(root.iter('error'))\nprint('\\n'.join(e.get('message') for e in root.iter('failure') if e.get('type') == 'build'))",
        &junit,
    )?;
    let first = messages.lines().next().unwrap_or_default();
    if !first.contains("error:") || first.contains("failed (") || first.contains("g++") {
        return Err(format!("message is not the first compiler error: {first:?}").into());
    }
    Ok(())
}

fn gradescope_each() -> Outcome {
    let tmp = tempfile::tempdir()?;
    for name in ["ada", "bob"] {
        let dir = tmp.path().join("class").join(name);
        std::fs::create_dir_all(&dir)?;
        std::fs::copy(
            support::root().join("fixtures/process-exit1/process.py"),
            dir.join("process.py"),
        )?;
    }
    let class = tmp.path().join("class");
    support::sysgrade()
        .args(["grade", "-q", "--class", "--format", "gradescope"])
        .arg(&class)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--output DIR"));
    let out = tmp.path().join("gs");
    support::sysgrade()
        .args([
            "grade",
            "-q",
            "--class",
            "--format",
            "gradescope",
            "--output",
        ])
        .arg(&out)
        .arg(&class)
        .assert()
        .code(1);
    for name in ["ada", "bob"] {
        let text = std::fs::read_to_string(out.join(name).join("results.json"))?;
        let v: serde_json::Value = serde_json::from_str(&text)?;
        if v["score"] != 2 || !v["tests"].is_array() {
            return Err(format!("{name}/results.json: {v}").into());
        }
    }
    Ok(())
}

fn markdown_class() -> Outcome {
    let text = report::render(Format::Markdown, &class()?, false);
    let summary = text.find("| student | process | total |");
    let details = text.find("<details><summary>class/ada: 2/3</summary>");
    if summary.is_none() || details.is_none() || summary > details {
        return Err(format!("no summary table above the details:\n{text}").into());
    }
    support::insta_settings().bind(|| insta::assert_snapshot!("format__markdown_class", text));
    Ok(())
}
