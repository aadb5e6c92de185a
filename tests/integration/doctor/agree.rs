//! `doctor::<mode>`: doctor's claims against a grading of `fixtures/good-python` made right
//! after, in the same place and mode.
//!
//! - The guarantees doctor reports are the report header's, and each layer's `used` is what
//!   those guarantees say.
//! - Every missing layer says what was seen, why, and the fix.
//! - A scenario doctor says will be `skip` (for every program, or for a Python program using
//!   a missing module: good-python's programs all are Python and use them) is `skip`; one it
//!   says nothing about is not. One it says may be `skip` is either.
//! - The mode's own facts: root has a uid per run; an ordinary user has none and is told to
//!   use sudo; the container refuses namespaces because of its seccomp filter.

use super::{doctor_json, grade_json, Mode, Place};
use crate::support::{self, Outcome};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// The whole catalogue on one submission, with margin for a loaded machine.
const GRADE_LIMIT: Duration = Duration::from_secs(1200);

/// Scenarios whose `skip` nobody can predict: `plotter.animates` is `skip` when the machine
/// was too loaded to judge a frame rate (its feedback says so), which depends on the moment,
/// not on the machine's layers or tools.
const UNPREDICTABLE: [&str; 1] = ["plotter.animates"];

pub fn agree(mode: Mode) -> Outcome {
    let place = Place::new(mode)?;
    let sub = place.copy(&support::root().join("fixtures/good-python"), "good-python")?;
    let doctor = doctor_json(&place, None)?;
    let report = grade_json(&place, &sub, &["--jobs", "2"], None, GRADE_LIMIT)?;
    let mut wrong = Vec::new();
    if doctor["guarantees"] != report["guarantees"] {
        wrong.push(format!(
            "guarantees: doctor says {}, the grading's header {}",
            doctor["guarantees"], report["guarantees"]
        ));
    }
    let layers = layers(&doctor);
    wrong.extend(layers_match_guarantees(&layers, &report["guarantees"]));
    wrong.extend(missing_layers_explained(&layers));
    wrong.extend(mode_facts(mode, &layers));
    let (checked, mismatches) = skips_match(&doctor, &report);
    wrong.extend(mismatches);
    if checked < 80 {
        wrong.push(format!(
            "only {checked} scenarios were compared; expected the whole catalogue"
        ));
    }
    if wrong.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} mode, doctor and grading disagree:\n{}\n\ndoctor:\n{}",
        mode.name(),
        wrong.join("\n"),
        serde_json::to_string_pretty(&doctor).unwrap_or_default()
    )
    .into())
}

/// The layers by name.
fn layers(doctor: &Value) -> BTreeMap<String, Value> {
    doctor["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| (l["name"].as_str().unwrap_or("?").to_string(), l.clone()))
        .collect()
}

/// Each layer's `used` is what the guarantees of the grading say.
fn layers_match_guarantees(layers: &BTreeMap<String, Value>, g: &Value) -> Vec<String> {
    let flag = |k: &str| g[k].as_bool().unwrap_or(false);
    let abi = g["landlock_abi"].as_u64().unwrap_or(0);
    let expected = [
        ("user_namespace", flag("user_namespace")),
        ("pid_namespace", flag("namespaces")),
        ("mount_namespace", flag("namespaces")),
        ("ipc_namespace", flag("namespaces")),
        ("private_root", flag("namespaces")),
        ("network_namespace", flag("private_network")),
        ("landlock", abi > 0),
        ("signal_scoping", abi >= 6),
        ("network_rules", g["network"]["held"] == "tcp_ports"),
        ("uid_per_run", flag("separate_uid")),
    ];
    let mut wrong = Vec::new();
    if layers.len() != 12 {
        wrong.push(format!("expected 12 layers, doctor lists {}", layers.len()));
    }
    for (name, used) in expected {
        let said = layers.get(name).and_then(|l| l["used"].as_bool());
        if said != Some(used) {
            wrong.push(format!(
                "{name}: doctor says used = {said:?}, the guarantees say {used}"
            ));
        }
    }
    wrong
}

/// Every missing layer says what was seen, why, and the fix.
fn missing_layers_explained(layers: &BTreeMap<String, Value>) -> Vec<String> {
    layers
        .iter()
        .filter(|(_, l)| l["available"] == Value::Bool(false))
        .filter_map(|(name, l)| {
            let has = |k: &str| l[k].as_str().is_some_and(|s| !s.trim().is_empty());
            (!(has("detail") && has("why") && has("fix")))
                .then(|| format!("{name} is missing without detail, why and fix: {l}"))
        })
        .collect()
}

/// What each mode must show on this machine (CI's: user namespaces allowed, Landlock 6+).
fn mode_facts(mode: Mode, layers: &BTreeMap<String, Value>) -> Vec<String> {
    let l = |name: &str| layers.get(name).cloned().unwrap_or(Value::Null);
    let text = |name: &str, k: &str| l(name)[k].as_str().unwrap_or("").to_string();
    let mut wrong = Vec::new();
    let mut claim = |ok: bool, what: &str| {
        if !ok {
            wrong.push(format!("{} mode: expected {what}", mode.name()));
        }
    };
    match mode {
        Mode::Root if crate::confine::is_root() => {
            claim(l("uid_per_run")["used"] == true, "a uid per run");
            claim(
                l("user_namespace")["available"].is_null(),
                "no user namespace needed",
            );
            claim(l("fanotify")["used"] == true, "fanotify used");
        }
        Mode::Root | Mode::User => {
            claim(l("uid_per_run")["available"] == false, "no uid per run");
            claim(
                text("uid_per_run", "fix").contains("sudo"),
                "the fix for a uid per run to be sudo",
            );
            claim(
                l("fanotify")["available"] == false,
                "fanotify refused to an ordinary user",
            );
        }
        Mode::Container => {
            claim(
                l("pid_namespace")["available"] == false,
                "the pid namespace refused",
            );
            claim(
                text("pid_namespace", "why").contains("seccomp"),
                "the seccomp filter named as the cause",
            );
            claim(l("fanotify")["used"] == false, "fanotify unused");
            claim(l("landlock")["used"] == true, "Landlock used instead");
        }
    }
    wrong
}

/// Doctor's skips against the statuses of the report: how many scenarios were compared, and
/// each disagreement.
fn skips_match(doctor: &Value, report: &Value) -> (usize, Vec<String>) {
    let mut predicted: BTreeMap<String, (String, String)> = BTreeMap::new();
    for e in doctor["exercises"].as_array().into_iter().flatten() {
        for s in e["skipped"].as_array().into_iter().flatten() {
            predicted.insert(
                s["scenario"].as_str().unwrap_or("?").to_string(),
                (
                    s["when"].as_str().unwrap_or("?").to_string(),
                    s["reason"].as_str().unwrap_or("").to_string(),
                ),
            );
        }
    }
    let known: Vec<&str> = doctor["exercises"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["id"].as_str())
        .collect();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for e in report["exercises"].as_array().into_iter().flatten() {
        let id = e["id"].as_str().unwrap_or("?");
        if !known.contains(&id) {
            wrong.push(format!("{id}: graded, but not in doctor's exercises"));
        }
        for s in e["scenarios"].as_array().into_iter().flatten() {
            checked += 1;
            let sid = s["id"].as_str().unwrap_or("?");
            let skip = s["status"] == "skip";
            let feedback = s["feedback"].as_str().unwrap_or("");
            match predicted.get(sid).map(|(w, r)| (w.as_str(), r)) {
                Some(("maybe", _)) => {
                    eprintln!(
                        "note: {sid}: doctor said it may be skip; it was {}",
                        s["status"]
                    );
                }
                Some((_, reason)) if !skip => wrong.push(format!(
                    "{sid}: doctor said skip ({reason}); the grading said {}",
                    s["status"]
                )),
                None if skip && !UNPREDICTABLE.contains(&sid) => wrong.push(format!(
                    "{sid}: skip ({feedback}), which doctor did not foresee"
                )),
                _ => {}
            }
        }
    }
    (checked, wrong)
}
