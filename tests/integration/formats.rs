//! Every report format, from the same results: hostile program output stays inert in each,
//! each validates (JUnit against its schema, Gradescope's fields, CSV through Python's csv
//! module), and each has an insta snapshot.

use crate::class::csv_rows;
use crate::support::{self, Outcome};
use harness::report::{self, Format};
use harness::result::SubmissionResult;
use libtest_mimic::{Failed, Trial};
use std::io::Write;
use std::process::{Command, Stdio};

const FORMATS: [(&str, Format); 7] = [
    ("human", Format::Human),
    ("json", Format::Json),
    ("junit", Format::Junit),
    ("gradescope", Format::Gradescope),
    ("markdown", Format::Markdown),
    ("csv", Format::Csv),
    ("prairielearn", Format::Prairielearn),
];

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![
        Trial::test("formats::hostile_output_is_inert_everywhere", hostile),
        Trial::test("formats::junit_validates_against_its_schema", junit_schema),
        Trial::test("formats::gradescope_has_its_fields", gradescope_fields),
    ];
    for (name, format) in FORMATS {
        trials.push(Trial::test(
            format!("snapshot::format::{name}"),
            move || snapshot(name, format),
        ));
    }
    trials
}

/// Runs `python3 -c code` with `input` on stdin; its stdout.
pub fn python(code: &str, input: &str) -> Result<String, Failed> {
    let mut child = Command::new("python3")
        .args(["-c", code])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(input.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(format!("python3 failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The hostile fixture, copied into a folder whose name is itself a spreadsheet formula.
fn hostile_result() -> Result<(tempfile::TempDir, SubmissionResult), Failed> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("=HYPERLINK(\"x\")");
    std::fs::create_dir(&dir)?;
    std::fs::copy(
        support::root().join("fixtures/hostile-output/process.py"),
        dir.join("process.py"),
    )?;
    let result = support::grade_dir(&support::settings(), &dir, &["process"])?;
    Ok((tmp, result))
}

fn hostile() -> Outcome {
    let (_tmp, result) = hostile_result()?;
    let results = [result];
    let render = |f| report::render(f, &results, false);

    let human = render(Format::Human);
    for line in human
        .lines()
        .filter(|l| l.contains("PASS    process.exit") || l.contains("Total: 99/99"))
    {
        if !line.contains("out|") {
            return Err(
                format!("forged line not marked as program output: {line:?}\n{human}").into(),
            );
        }
    }
    if human.contains('\x1b') || human.contains('\r') || human.contains('\u{202e}') {
        return Err("terminal control characters reached the human report".into());
    }

    let json: serde_json::Value = serde_json::from_str(&render(Format::Json))?;
    let statuses: Vec<&str> = json["exercises"][0]["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["status"].as_str())
        .collect();
    if statuses != ["pass", "fail", "pass"] || json["score"] != 2 {
        return Err(format!(
            "json verdicts changed by program output: {statuses:?} score {}",
            json["score"]
        )
        .into());
    }

    let junit = render(Format::Junit);
    let names = python(
        "import sys, xml.etree.ElementTree as ET\nroot = ET.fromstring(sys.stdin.read())\nprint(','.join(t.get('name') for t in root.iter('testcase')))",
        &junit,
    )?;
    if names.trim() != "process.ids,process.exit,process.hygiene" {
        return Err(format!("junit testcases: {names}").into());
    }

    let markdown = render(Format::Markdown);
    if markdown.contains("<script>") || markdown.contains("[click](") || markdown.contains('\x1b') {
        return Err(
            format!("markup from program output reached the markdown report:\n{markdown}").into(),
        );
    }

    let rows = csv_rows(&render(Format::Csv))?;
    if rows.len() != 2 || !rows[1][0].starts_with("'=") {
        return Err(format!("csv rows not formula-safe: {rows:?}").into());
    }

    let gs: serde_json::Value = serde_json::from_str(&render(Format::Gradescope))?;
    if gs["score"] != 2 || gs["tests"].as_array().map(Vec::len) != Some(3) {
        return Err(format!("gradescope verdicts changed: {gs}").into());
    }
    let pl: serde_json::Value = serde_json::from_str(&render(Format::Prairielearn))?;
    if pl["score"].as_f64() != Some(2.0 / 3.0) || pl["tests"].as_array().map(Vec::len) != Some(3) {
        return Err(format!("prairielearn verdicts changed: {pl}").into());
    }
    Ok(())
}

fn junit_schema() -> Outcome {
    if support::skip_without("xmllint", "apt-get install -y libxml2-utils")? {
        return Ok(());
    }
    let (tmp, result) = hostile_result()?;
    let file = tmp.path().join("report.xml");
    std::fs::write(&file, report::render(Format::Junit, &[result], false))?;
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(support::root().join("tests/data/junit.xsd"))
        .arg(&file)
        .output()?;
    if !out.status.success() {
        return Err(format!("xmllint: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

fn gradescope_fields() -> Outcome {
    let result = support::process_exit1()?;
    let gs: serde_json::Value =
        serde_json::from_str(&report::render(Format::Gradescope, &[result], false))?;
    if !gs["score"].is_number() || !gs["tests"].is_array() {
        return Err(format!("top level lacks score or tests: {gs}").into());
    }
    for t in gs["tests"].as_array().into_iter().flatten() {
        let ok = t["name"].is_string()
            && t["score"].is_number()
            && t["max_score"].is_number()
            && t["output"].is_string()
            && ["hidden", "after_due_date", "after_published", "visible"]
                .contains(&t["visibility"].as_str().unwrap_or(""));
        if !ok {
            return Err(format!("test entry lacks Gradescope's fields: {t}").into());
        }
    }
    Ok(())
}

fn snapshot(name: &str, format: Format) -> Outcome {
    let result = support::process_exit1()?;
    let text = report::render(format, &[result], false);
    let mut settings = support::insta_settings();
    settings.add_filter(
        r#""(duration_ms|at_ms|from_ms|by_ms|ended_ms)": \d+"#,
        r#""$1": [MS]"#,
    );
    settings.add_filter(r#"time="\d+\.\d+""#, r#"time="[S]""#);
    settings.add_filter(
        r#""(own_uid|private_network|private_tmp|separate_uid|namespaces|user_namespace|private_filesystem|signals_contained)": (true|false)"#,
        r#""$1": [BOOL]"#,
    );
    settings.add_filter(r#""landlock_abi": \d+"#, r#""landlock_abi": [N]"#);
    // How the network was held: its shape depends on the mode.
    settings.add_filter(r#""network": \{[^}]*\}"#, r#""network": [NETWORK]"#);
    settings.add_filter(r#""execution_time": \d+"#, r#""execution_time": [S]"#);
    settings.add_filter(r#""rung": "\w+""#, r#""rung": [RUNG]"#);
    settings.bind(|| insta::assert_snapshot!(format!("format__{name}"), text));
    Ok(())
}
