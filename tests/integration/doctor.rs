//! `doctor::…`: `sysgrade doctor` is right, as `grade` then proves.
//!
//! - `doctor::<mode>` (root, user, container): doctor's JSON in a [`Place`], then a grading
//!   of `fixtures/good-python` in the same place and mode; every claim is checked against
//!   what the grading did (agree.rs).
//! - `doctor::hidden_tool`: with ffmpeg and ffprobe off PATH, doctor names them with their
//!   install command and lists make_movie's scenarios as skip, as a grading then does
//!   (hidden.rs).

mod agree;
mod hidden;

use crate::modes::{tail, Mode, Place};
use libtest_mimic::{Failed, Trial};
use std::process::Command;
use std::time::Duration;

/// Doctor probes for a few seconds; a loaded machine gets a wide margin.
const DOCTOR_LIMIT: Duration = Duration::from_secs(180);

pub fn trials() -> Vec<Trial> {
    let mut trials: Vec<Trial> = Mode::ALL
        .into_iter()
        .map(|mode| {
            Trial::test(format!("doctor::{}", mode.name()), move || {
                agree::agree(mode)
            })
        })
        .collect();
    trials.push(Trial::test("doctor::hidden_tool", hidden::hidden_tool));
    trials
}

/// `sysgrade doctor --format FORMAT` in `place`, with `path` as PATH when given: its standard
/// output, once it exited with 0.
fn doctor(place: &Place, format: &str, path: Option<&std::path::Path>) -> Result<String, Failed> {
    let mut cmd: Command = place.sysgrade();
    cmd.args(["doctor", "--format", format]);
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    let ran = place.run(cmd, DOCTOR_LIMIT)?;
    if ran.status.code() != Some(0) {
        return Err(format!(
            "{} mode: sysgrade doctor ended with {}\nstdout:\n{}\nstderr:\n{}",
            place.mode.name(),
            ran.status,
            tail(&ran.stdout, 3000),
            tail(&ran.stderr, 3000)
        )
        .into());
    }
    Ok(ran.stdout)
}

/// `sysgrade doctor --format json` in `place`, parsed.
fn doctor_json(place: &Place, path: Option<&std::path::Path>) -> Result<serde_json::Value, Failed> {
    let text = doctor(place, "json", path)?;
    serde_json::from_str(&text)
        .map_err(|e| format!("doctor's JSON does not parse: {e}\n{}", tail(&text, 3000)).into())
}

/// A grading of `dir` in `place` as JSON (`args` added), with `path` as PATH when given:
/// the one submission's object.
fn grade_json(
    place: &Place,
    dir: &std::path::Path,
    args: &[&str],
    path: Option<&std::path::Path>,
    limit: Duration,
) -> Result<serde_json::Value, Failed> {
    let mut cmd = place.sysgrade();
    cmd.arg("grade")
        .arg(dir)
        .args(["--format", "json", "--quiet"])
        .args(args);
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    let ran = place.run(cmd, limit)?;
    ran.exited_normally(place.mode)?;
    let mut all = ran.json(place.mode, &ran.stdout)?;
    match all.pop() {
        Some(one) if all.is_empty() => Ok(one),
        _ => Err(format!(
            "expected one submission in the report\n{}",
            tail(&ran.stdout, 2000)
        )
        .into()),
    }
}
