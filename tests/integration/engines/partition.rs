//! `--partition auto` as a Kubernetes Indexed Job and GitLab's `parallel:` set it, and the
//! refusals; `--exit-status report`.
//!
//! The slices are checked on a class of empty student folders graded on `process`: nothing
//! runs, and which students a slice holds is the whole question.

use crate::support::{self, Outcome};
use harness::class::Partition;
use libtest_mimic::{Failed, Trial};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("engines::partition_auto::kubernetes", kubernetes),
        Trial::test("engines::partition_auto::gitlab", gitlab),
        Trial::test("engines::partition_auto::refused", refused),
        Trial::test("engines::exit_status::report", exit_status_report),
    ]
}

/// Every variable `--partition auto` reads: removed first, so the trial's own environment (a
/// CI runner's) cannot choose the slice.
const VARIABLES: [&str; 4] = [
    "JOB_COMPLETION_INDEX",
    "SYSGRADE_PARTITIONS",
    "CI_NODE_INDEX",
    "CI_NODE_TOTAL",
];

const STUDENTS: usize = 8;

fn class() -> Result<tempfile::TempDir, Failed> {
    let tmp = tempfile::tempdir()?;
    for i in 0..STUDENTS {
        std::fs::create_dir_all(tmp.path().join("class").join(format!("student{i:02}")))?;
    }
    Ok(tmp)
}

/// `sysgrade grade class --partition auto ARGS…` with `env` set (and nothing else of
/// [`VARIABLES`]), its JSON report in `out`.
fn auto(tmp: &Path, env: &[(&str, String)], args: &[&str], out: &str) -> Result<Output, Failed> {
    let mut cmd = support::sysgrade();
    for v in VARIABLES {
        cmd.env_remove(v);
    }
    Ok(cmd
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args([
            "grade",
            "--quiet",
            "--exercise",
            "process",
            "--format",
            "json",
        ])
        .args(["--partition", "auto", "--exit-status", "report", "--output"])
        .arg(tmp.join(out))
        .args(args)
        .arg(tmp.join("class"))
        .output()?)
}

/// The student folders a JSON report holds, by name.
fn graded(file: &Path) -> Result<BTreeSet<String>, Failed> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    let all = match v {
        serde_json::Value::Array(all) => all,
        one => vec![one],
    };
    Ok(all
        .iter()
        .filter_map(|r| r["submission"].as_str())
        .filter_map(|s| Path::new(s).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect())
}

/// What slice `k` of `n` holds, as `--partition k/n` has it.
fn slice(k: u64, n: u64) -> BTreeSet<String> {
    (0..STUDENTS)
        .map(|i| format!("student{i:02}"))
        .filter(|name| Partition { k, n }.holds(name))
        .collect()
}

fn said(out: &Output) -> String {
    format!(
        "exit {:?}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Each of `n` jobs (`env_of(index)`) grades exactly its slice; together they grade everyone
/// once. `extra` is added to the command line.
fn covers(n: u64, env_of: &dyn Fn(u64) -> Vec<(&'static str, String)>, extra: &[&str]) -> Outcome {
    let tmp = class()?;
    let mut everyone = BTreeSet::new();
    for k in 1..=n {
        let file = format!("slice-{k}.json");
        let out = auto(tmp.path(), &env_of(k), extra, &file)?;
        let got = graded(&tmp.path().join(&file)).map_err(|e| format!("{e:?}\n{}", said(&out)))?;
        if out.status.code() != Some(0) || got != slice(k, n) {
            return Err(format!(
                "slice {k}/{n}: graded {got:?}, want {:?}\n{}",
                slice(k, n),
                said(&out)
            )
            .into());
        }
        everyone.extend(got);
    }
    if everyone.len() != STUDENTS {
        return Err(format!("the slices graded {everyone:?}, not all {STUDENTS}").into());
    }
    Ok(())
}

/// `JOB_COMPLETION_INDEX` (0-based), the total from `SYSGRADE_PARTITIONS` or `--partitions`.
fn kubernetes() -> Outcome {
    covers(
        3,
        &|k| {
            vec![
                ("JOB_COMPLETION_INDEX", (k - 1).to_string()),
                ("SYSGRADE_PARTITIONS", "3".into()),
            ]
        },
        &[],
    )?;
    covers(
        2,
        &|k| vec![("JOB_COMPLETION_INDEX", (k - 1).to_string())],
        &["--partitions", "2"],
    )
}

/// `CI_NODE_INDEX` (1-based) and `CI_NODE_TOTAL`.
fn gitlab() -> Outcome {
    covers(
        3,
        &|k| {
            vec![
                ("CI_NODE_INDEX", k.to_string()),
                ("CI_NODE_TOTAL", "3".into()),
            ]
        },
        &[],
    )
}

/// A refusal's case: the variables set, the arguments added, what stderr must say.
type Refusal = (
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
    &'static str,
);

/// No variable, half of GitLab's, an index past the total, totals that disagree: exit 2,
/// the variables named, no report.
fn refused() -> Outcome {
    let tmp = class()?;
    let cases: [Refusal; 4] = [
        (&[], &[], "none of JOB_COMPLETION_INDEX (Kubernetes Indexed Job, with SYSGRADE_PARTITIONS or --partitions N), or CI_NODE_INDEX and CI_NODE_TOTAL (GitLab parallel) is set"),
        (&[("CI_NODE_INDEX", "2")], &[], "CI_NODE_INDEX and CI_NODE_TOTAL go together, but only CI_NODE_INDEX is set"),
        (&[("JOB_COMPLETION_INDEX", "3"), ("SYSGRADE_PARTITIONS", "3")], &[], "JOB_COMPLETION_INDEX=3, SYSGRADE_PARTITIONS=3 is no slice"),
        (&[("JOB_COMPLETION_INDEX", "0"), ("SYSGRADE_PARTITIONS", "3")], &["--partitions", "4"], "SYSGRADE_PARTITIONS=3 but --partitions 4"),
    ];
    for (i, (env, extra, want)) in cases.into_iter().enumerate() {
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let file = format!("refused-{i}.json");
        let out = auto(tmp.path(), &env, extra, &file)?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(2) || !stderr.contains(want) || tmp.path().join(&file).exists()
        {
            return Err(format!(
                "{env:?} {extra:?}: want exit 2 saying {want:?}, no report\n{}",
                said(&out)
            )
            .into());
        }
    }
    Ok(())
}

/// A student losing points: exit 1 by default, 0 with `--exit-status report` and the report
/// written; a usage error and a fault of the grader exit 2 all the same.
fn exit_status_report() -> Outcome {
    let tmp = tempfile::tempdir()?;
    let fixture = support::root().join("fixtures/process-exit1");
    let grade = |extra: &[&str], file: &str, panic: Option<&str>| -> Result<Output, Failed> {
        let mut cmd = support::sysgrade();
        if let Some(id) = panic {
            cmd.env(harness::grading::PANIC_HOOK, id);
        }
        Ok(cmd
            .args([
                "grade",
                "--quiet",
                "--exercise",
                "process",
                "--format",
                "json",
            ])
            .args(extra)
            .arg("--output")
            .arg(tmp.path().join(file))
            .arg(&fixture)
            .output()?)
    };
    let lost = |file: &str| -> Result<bool, Failed> {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(tmp.path().join(file))?)?;
        Ok(v["exercises"][0]["scenarios"][1]["status"] == "fail")
    };
    let default = grade(&[], "default.json", None)?;
    if default.status.code() != Some(1) || !lost("default.json")? {
        return Err(format!("without --exit-status: want 1\n{}", said(&default)).into());
    }
    let report = grade(&["--exit-status", "report"], "report.json", None)?;
    if report.status.code() != Some(0) || !lost("report.json")? {
        return Err(format!(
            "--exit-status report: want 0 and the report\n{}",
            said(&report)
        )
        .into());
    }
    let fault = grade(
        &["--exit-status", "report"],
        "fault.json",
        Some("process.ids"),
    )?;
    if fault.status.code() != Some(2) || !tmp.path().join("fault.json").exists() {
        return Err(format!(
            "--exit-status report, a grader fault: want 2 and the report\n{}",
            said(&fault)
        )
        .into());
    }
    let usage = grade(
        &["--exit-status", "report", "--jobs", "0"],
        "usage.json",
        None,
    )?;
    if usage.status.code() != Some(2) {
        return Err(format!(
            "--exit-status report, a usage error: want 2\n{}",
            said(&usage)
        )
        .into());
    }
    Ok(())
}
