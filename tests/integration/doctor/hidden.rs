//! `doctor::hidden_tool`: a PATH without ffmpeg and ffprobe (a folder of links to everything
//! else in /usr/local/bin and /usr/bin, where `which` looks). Doctor must name both with
//! their install command, list make_movie's scenarios as skip and put ffmpeg in the one
//! install command; a grading of make_movie with the same PATH then skips exactly those.

use super::{doctor, doctor_json, grade_json, Mode, Place};
use crate::support::{self, Outcome};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const HIDDEN: [&str; 2] = ["ffmpeg", "ffprobe"];
const INSTALL: &str = "apt-get install -y ffmpeg";

pub fn hidden_tool() -> Outcome {
    let place = Place::new(Mode::Root)?;
    let path = path_without(&place.work.join("path"), &HIDDEN)?;
    let facts = doctor_json(&place, Some(&path))?;
    let mut wrong = Vec::new();
    for name in HIDDEN {
        let tool = facts["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["name"] == name);
        match tool {
            Some(t)
                if t["found"] == false
                    && t["install"].as_str().is_some_and(|i| i.ends_with(INSTALL)) => {}
            other => wrong.push(format!(
                "{name}: expected not found, installed with `{INSTALL}`; doctor says {other:?}"
            )),
        }
    }
    if !facts["install_command"]
        .as_str()
        .is_some_and(|c| c.contains("apt-get install -y") && c.contains(" ffmpeg"))
    {
        wrong.push(format!(
            "install_command lacks ffmpeg: {}",
            facts["install_command"]
        ));
    }
    let movie = facts["exercises"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["id"] == "make_movie")
        .cloned()
        .unwrap_or(Value::Null);
    // Each scenario for want of ffmpeg, with its install command; hygiene for want of a run.
    let skipped: Vec<&str> = movie["skipped"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["when"] == "always")
        .filter(|s| {
            s["scenario"] == "make_movie.hygiene"
                || s["reason"].as_str().is_some_and(|r| r.contains(INSTALL))
        })
        .filter_map(|s| s["scenario"].as_str())
        .collect();
    let expected = [
        "make_movie.piped",
        "make_movie.video",
        "make_movie.waits",
        "make_movie.hygiene",
    ];
    if movie["fully_judged"] != false || skipped != expected {
        wrong.push(format!(
            "make_movie: expected {expected:?} skip for ffmpeg; doctor says {movie}"
        ));
    }
    let human = doctor(&place, "human", Some(&path))?;
    // As an ordinary user the install command starts with sudo.
    let has = |start: &str, end: &str| {
        human
            .lines()
            .any(|l| l.starts_with(start) && l.ends_with(end))
    };
    if !has("  NO ffmpeg ", "make_movie: its scenarios are skip")
        || !has("      install: ", INSTALL)
    {
        wrong.push(format!(
            "the human report lacks ffmpeg's line or `install: {INSTALL}`"
        ));
    }
    if !human.contains("make_movie: piped, video, waits, hygiene skip") {
        wrong.push("the human report does not list make_movie's skipped scenarios".into());
    }
    wrong.extend(grading_agrees(&place, &path)?);
    if wrong.is_empty() {
        return Ok(());
    }
    Err(format!("{}\n\nhuman report:\n{human}", wrong.join("\n")).into())
}

/// make_movie graded with the same PATH: every scenario doctor named is skip, with the
/// install command in its feedback.
fn grading_agrees(place: &Place, path: &Path) -> Result<Vec<String>, libtest_mimic::Failed> {
    let sub = place.copy(&support::root().join("fixtures/good-python"), "good-python")?;
    let report = grade_json(
        place,
        &sub,
        &["--exercise", "make_movie"],
        Some(path),
        Duration::from_secs(300),
    )?;
    let mut wrong = Vec::new();
    let scenarios = report["exercises"][0]["scenarios"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if scenarios.len() != 4 {
        wrong.push(format!(
            "expected make_movie's four verdicts, got {}",
            scenarios.len()
        ));
    }
    for s in &scenarios {
        let feedback = s["feedback"].as_str().unwrap_or("");
        let hygiene = s["id"] == "make_movie.hygiene";
        if s["status"] != "skip" || !(hygiene || feedback.contains(INSTALL)) {
            wrong.push(format!(
                "grading with ffmpeg hidden: {} is {} ({feedback})",
                s["id"], s["status"]
            ));
        }
    }
    Ok(wrong)
}

/// A folder of links to every command of /usr/local/bin and /usr/bin but `hidden`.
fn path_without(dir: &Path, hidden: &[&str]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    for from in ["/usr/local/bin", "/usr/bin"] {
        for entry in std::fs::read_dir(from)?.flatten() {
            let name = entry.file_name();
            let link = dir.join(&name);
            if hidden.iter().any(|h| name == *h) || link.symlink_metadata().is_ok() {
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), link)?;
        }
    }
    Ok(dir.to_path_buf())
}
