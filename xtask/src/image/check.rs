//! `cargo xtask image --check`: `fixtures/good-python` graded inside the image, as a CI job
//! or a Kubernetes pod would run it. Each way of running must give full marks on everything
//! judged, and skip only what `sysgrade doctor`, run in the same container, said it would.

use anyhow::Context;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// One way of running the container: its name and podman's extra options.
struct Confinement {
    name: &'static str,
    options: &'static [&'static str],
}

const CONFINEMENTS: [Confinement; 2] = [
    Confinement {
        name: "default (own network namespace, default seccomp profile, no CAP_SYS_ADMIN)",
        options: &[],
    },
    Confinement {
        name: "--network host",
        options: &["--network", "host"],
    },
];

pub fn run(root: &Path, tag: &str) -> anyhow::Result<()> {
    let fixture = root.join("fixtures/good-python");
    for confinement in &CONFINEMENTS {
        let started = std::time::Instant::now();
        let doctor = json(&podman(
            tag,
            confinement,
            &fixture,
            &["doctor", "--format", "json"],
        )?)?;
        let graded = json(&podman(
            tag,
            confinement,
            &fixture,
            &["grade", "/submission", "--format", "json"],
        )?)?;
        let summary = judge(&doctor, &graded)
            .map_err(|e| anyhow::anyhow!("image check, {}: {e}", confinement.name))?;
        println!(
            "image check, {}: {summary} ({:.0} s)",
            confinement.name,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// podman's options for this machine: global ones (`runc` where cgroups are not the unified
/// hierarchy, which crun refuses), and `run`'s (rlimits no higher than an unprivileged root
/// may set).
fn machine_options() -> (Vec<&'static str>, [&'static str; 4]) {
    let unified = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let global = if !unified && harness::settings::which("runc").is_some() {
        vec!["--runtime", "runc"]
    } else {
        Vec::new()
    };
    let limits = [
        "--ulimit",
        "nofile=4096:4096",
        "--ulimit",
        "nproc=8192:8192",
    ];
    (global, limits)
}

/// Runs `args` in a fresh container of `tag` with the fixture at /submission; its stdout.
fn podman(
    tag: &str,
    confinement: &Confinement,
    fixture: &Path,
    args: &[&str],
) -> anyhow::Result<String> {
    let (global, limits) = machine_options();
    let mut cmd = Command::new("podman");
    cmd.args(global)
        .args(["run", "--rm"])
        .args(limits)
        .args(confinement.options)
        .arg("-v")
        .arg(format!("{}:/submission:ro", fixture.display()))
        .arg(tag)
        .args(args);
    let out = cmd.output().context("running podman")?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(
        !stdout.trim().is_empty(),
        "`sysgrade {}` printed nothing ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(stdout)
}

fn json(text: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text).context("reading sysgrade's JSON")
}

/// Full marks on everything judged, and exactly the skips the doctor foretold.
fn judge(doctor: &Value, graded: &Value) -> Result<String, String> {
    let foretold: Vec<String> = doctor["exercises"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["skipped"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["scenario"].as_str().map(String::from))
        .collect();
    let mut judged = 0;
    let mut skipped = Vec::new();
    let mut lost = Vec::new();
    for scenario in scenarios(graded) {
        let id = scenario["id"].as_str().unwrap_or("?").to_string();
        match scenario["status"].as_str() {
            Some("pass") => judged += 1,
            Some("skip") => skipped.push(id),
            other => lost.push(format!("{id}: {}", other.unwrap_or("?"))),
        }
    }
    if !lost.is_empty() {
        return Err(format!("not passed: {}", lost.join(", ")));
    }
    if judged == 0 {
        return Err("nothing was judged".into());
    }
    let unforetold: Vec<&String> = skipped.iter().filter(|id| !foretold.contains(id)).collect();
    if !unforetold.is_empty() {
        return Err(format!(
            "skipped, though the doctor did not say so: {unforetold:?}"
        ));
    }
    Ok(format!(
        "{judged} scenarios passed; skipped as the doctor said: {}",
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join(", ")
        }
    ))
}

fn scenarios(graded: &Value) -> Vec<Value> {
    graded["exercises"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["scenarios"].as_array().cloned().unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graded(statuses: &[(&str, &str)]) -> Value {
        let scenarios: Vec<Value> = statuses
            .iter()
            .map(|(id, status)| json!({"id": id, "status": status}))
            .collect();
        json!({"exercises": [{"scenarios": scenarios}]})
    }

    fn doctor(skipped: &[&str]) -> Value {
        let skipped: Vec<Value> = skipped.iter().map(|s| json!({"scenario": s})).collect();
        json!({"exercises": [{"id": "fork_exec", "skipped": skipped}]})
    }

    #[test]
    fn a_foretold_skip_is_accepted_and_named() {
        let g = graded(&[("process.ids", "pass"), ("fork_exec.counts", "skip")]);
        let said = judge(&doctor(&["fork_exec.counts"]), &g).unwrap();
        assert!(said.contains("fork_exec.counts"), "{said}");
    }

    #[test]
    fn a_fail_an_unforetold_skip_or_nothing_judged_is_refused() {
        let d = doctor(&[]);
        assert!(judge(&d, &graded(&[("process.ids", "fail")])).is_err());
        assert!(judge(
            &d,
            &graded(&[("a.b", "pass"), ("fork_exec.counts", "skip")])
        )
        .is_err());
        assert!(judge(&d, &graded(&[("fork_exec.counts", "skip")])).is_err());
    }
}
