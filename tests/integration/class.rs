//! Grading a class: a generated class of 100 submissions gives the gradebook row by row that
//! each submission gets alone; partitions merged give the same gradebook as one run; class
//! folders are detected; `--repeat` reports pass counts.

use crate::formats::python;
use crate::support::{self, Outcome};
use assert_cmd::Command;
use harness::grading::{grade, Request};
use harness::report::{self, Format};
use libtest_mimic::{Failed, Trial};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const EXERCISES: [&str; 3] = ["process", "env", "environ"];
/// Fixture variants a generated class is made of (an empty folder too).
const VARIANTS: [&str; 7] = [
    "good-python",
    "good-cpp",
    "process-exit1",
    "process-hardcoded",
    "env-truthiness",
    "environ-fixed-list",
    "",
];

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("class::gradebook_row_by_row", gradebook),
        Trial::test("class::partition_merge_round_trip", partition_merge),
        Trial::test("class::detected_and_lecture_layout_is_not", detection),
        Trial::test("class::repeat_reports_pass_counts", repeat),
    ]
}

/// Copies the program files of fixture `variant` into `dir`.
pub(crate) fn copy_variant(variant: &str, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if variant.is_empty() {
        return Ok(());
    }
    for entry in std::fs::read_dir(support::root().join("fixtures").join(variant))?.flatten() {
        if entry.path().is_file() && entry.file_name() != "fixture.toml" {
            std::fs::copy(entry.path(), dir.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// A class of `n` students cycling through the variants; returns (folder, variant per student).
/// A generated class: its folder and (student, variant) per student.
type Class = (tempfile::TempDir, Vec<(String, &'static str)>);

fn make_class(n: usize) -> Result<Class, Failed> {
    let tmp = tempfile::tempdir()?;
    let mut students = Vec::new();
    for i in 0..n {
        let variant = VARIANTS[i % VARIANTS.len()];
        let name = format!("student{i:03}");
        copy_variant(variant, &tmp.path().join(&name))?;
        students.push((name, variant));
    }
    Ok((tmp, students))
}

fn exercises() -> Vec<&'static harness::exercises::Exercise> {
    EXERCISES
        .iter()
        .filter_map(|id| harness::exercises::get(id))
        .collect()
}

/// `csv` read by Python's csv module: its rows of cells.
pub(crate) fn csv_rows(csv: &str) -> Result<Vec<Vec<String>>, Failed> {
    let json = python(
        "import csv, sys, json\nprint(json.dumps(list(csv.reader(sys.stdin))))",
        csv,
    )?;
    Ok(serde_json::from_str(&json)?)
}

fn gradebook() -> Outcome {
    let settings = harness::Settings {
        cargo_target_dir: support::settings().cargo_target_dir,
        ..harness::Settings::from_env()
    };
    // Each variant graded alone: the expected row.
    let mut expected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for variant in VARIANTS {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("alone");
        copy_variant(variant, &dir)?;
        let request = Request {
            submissions: vec![dir],
            exercises: exercises(),
            ..Request::default()
        };
        let alone = grade(&settings, &request, &mut |_| {}).map_err(|e| e.to_string())?;
        let rows = csv_rows(&report::render(Format::Csv, &alone, false))?;
        expected.insert(variant, rows[1][1..].to_vec());
    }
    let (tmp, students) = make_class(100)?;
    let submissions: Vec<PathBuf> = students
        .iter()
        .map(|(name, _)| tmp.path().join(name))
        .collect();
    let request = Request {
        submissions,
        exercises: exercises(),
        ..Request::default()
    };
    let results = grade(&settings, &request, &mut |_| {}).map_err(|e| e.to_string())?;
    let rows = csv_rows(&report::render(Format::Csv, &results, false))?;
    let header: Vec<&str> = [
        "student", "process", "env", "environ", "total", "max", "note",
    ]
    .to_vec();
    if rows[0] != header {
        return Err(format!("header {:?}", rows[0]).into());
    }
    if rows.len() != 101 {
        return Err(format!("{} rows for 100 students", rows.len() - 1).into());
    }
    for ((name, variant), row) in students.iter().zip(&rows[1..]) {
        if row[0] != *name || row[1..] != expected[variant][..] {
            return Err(format!(
                "row {row:?} for {name} ({variant}) should be {:?}",
                expected[variant]
            )
            .into());
        }
    }
    Ok(())
}

/// A whole class takes longer than one student.
fn sysgrade() -> Command {
    support::sysgrade_within(std::time::Duration::from_secs(600))
}

fn partition_merge() -> Outcome {
    let (tmp, _) = make_class(12)?;
    let out = tmp.path().join("out");
    std::fs::create_dir(&out)?;
    let class = tmp.path().join("class");
    std::fs::create_dir(&class)?;
    for e in std::fs::read_dir(tmp.path())?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("student"))
    {
        std::fs::rename(e.path(), class.join(e.file_name()))?;
    }
    let args = |extra: &[&str], file: &str| {
        let mut v: Vec<String> = vec![
            "grade".into(),
            "--class".into(),
            "--quiet".into(),
            "--format".into(),
            "json".into(),
        ];
        v.extend(
            EXERCISES
                .iter()
                .flat_map(|e| ["--exercise".to_string(), e.to_string()]),
        );
        v.extend(extra.iter().map(|s| s.to_string()));
        v.extend([
            "--output".to_string(),
            out.join(file).display().to_string(),
            class.display().to_string(),
        ]);
        v
    };
    sysgrade().args(args(&[], "whole.json")).assert().code(1);
    let mut parts = Vec::new();
    for k in 1..=3 {
        let file = format!("part{k}.json");
        sysgrade()
            .args(args(&["--partition", &format!("{k}/3")], &file))
            .output()?;
        parts.push((file.clone(), std::fs::read_to_string(out.join(&file))?));
    }
    let merged = harness::merge::join(&parts)?;
    let whole = harness::merge::join(&[(
        "whole".into(),
        std::fs::read_to_string(out.join("whole.json"))?,
    )])?;
    let (a, b) = (
        report::render(Format::Csv, &merged, false),
        report::render(Format::Csv, &whole, false),
    );
    if a != b || whole.len() != 12 {
        return Err(format!("merged gradebook differs from one run:\n{a}\nvs\n{b}").into());
    }
    Ok(())
}

fn detection() -> Outcome {
    let (tmp, _) = make_class(3)?;
    let out = sysgrade()
        .args([
            "grade",
            "--quiet",
            "--format",
            "csv",
            "--exercise",
            "process",
        ])
        .arg(tmp.path())
        .output()?;
    let rows = csv_rows(&String::from_utf8_lossy(&out.stdout))?;
    if rows.len() != 4 {
        return Err(format!("a class of 3 was not graded as a class: {rows:?}").into());
    }
    if harness::class::looks_like_class(&support::root().join("fixtures/lecture-layout")) {
        return Err("the lecture layout was taken for a class".into());
    }
    Ok(())
}

fn repeat() -> Outcome {
    let dir = support::root().join("fixtures/process-exit1");
    let out = sysgrade()
        .args([
            "grade",
            "--quiet",
            "--repeat",
            "2",
            "--format",
            "json",
            "--exercise",
            "process",
        ])
        .arg(dir)
        .output()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let passes: Vec<(String, u64)> = v["exercises"][0]["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| Some((s["id"].as_str()?.to_string(), s["passes"].as_u64()?)))
        .collect();
    let want = vec![
        ("process.ids".to_string(), 2),
        ("process.exit".to_string(), 0),
    ];
    if passes != want {
        return Err(format!("pass counts {passes:?}, want {want:?}").into());
    }
    Ok(())
}
