//! The human report: a line per scenario, the lost points explained with the transcript
//! lines that prove them, a total. Colours only when asked (on a terminal).

use super::escape;
use crate::outcome::Status;
use crate::result::{ExerciseResult, ScenarioResult, SubmissionResult};
use crate::run::transcript::Source;
use anstyle::{AnsiColor, Style};
use std::fmt::Write;

/// Transcript lines quoted under a lost point.
const QUOTED: usize = 8;

pub fn render(results: &[SubmissionResult], color: bool) -> String {
    let mut out = String::new();
    for r in results {
        submission(&mut out, r, color);
    }
    if results.len() > 1 {
        let passed = results.iter().filter(|r| r.all_passed()).count();
        let _ = writeln!(
            out,
            "{} submissions, {passed} with full marks",
            results.len()
        );
    }
    out
}

fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

fn status_style(status: Status) -> Style {
    let c = match status {
        Status::Pass => AnsiColor::Green,
        Status::Skip => AnsiColor::Yellow,
        Status::Flaky => AnsiColor::Magenta,
        Status::Fail | Status::Timeout | Status::Error | Status::Fault => AnsiColor::Red,
    };
    Style::new().fg_color(Some(c.into())).bold()
}

fn submission(out: &mut String, r: &SubmissionResult, color: bool) {
    let bold = Style::new().bold();
    let _ = writeln!(
        out,
        "{}",
        paint(
            color,
            bold,
            &format!("Grading {}", escape::text(&r.submission))
        )
    );
    if let Some(course) = &r.course {
        let _ = writeln!(out, "  course: {}", escape::text(course));
    }
    let stretch = r
        .setup
        .cpu_quota
        .map(|s| format!(" ({})", s.describe()))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  sandbox: {}; network: {}; time scale {}{stretch}",
        sandbox_line(&r.guarantees),
        network_line(r),
        r.time_scale
    );
    for p in &r.problems {
        let _ = writeln!(
            out,
            "  {} {}",
            paint(color, status_style(Status::Fail), "problem:"),
            escape::text(p)
        );
    }
    if !r.not_found.is_empty() {
        let _ = writeln!(
            out,
            "  not found, so not graded: {} (a course file or --exercise makes them count)",
            r.not_found.join(", ")
        );
    }
    for e in &r.exercises {
        exercise(out, e, color);
    }
    let total = match super::not_graded(r) {
        Some(rest) => format!("Total: {}/{} graded; {rest}", r.score, r.max_score),
        None => format!("Total: {}/{}", r.score, r.max_score),
    };
    let _ = writeln!(out, "{}\n", paint(color, bold, &total));
}

fn exercise(out: &mut String, e: &ExerciseResult, color: bool) {
    let source = e
        .source
        .as_deref()
        .map(escape::text)
        .unwrap_or_else(|| "not found".into());
    let ungraded = match e.not_graded {
        0 => String::new(),
        n => format!(" ({n} not graded)"),
    };
    let _ = writeln!(
        out,
        "\n  {} ({source})  {}/{}{ungraded}",
        e.id, e.score, e.max_score
    );
    if let Some(w) = &e.warnings {
        let _ = writeln!(out, "    compiler said:");
        for line in w.lines().take(10) {
            let _ = writeln!(out, "      | {}", escape::text(line));
        }
    }
    if let Some(first) = not_run(e) {
        let label = paint(
            color,
            status_style(first.status),
            &format!("{:<7}", first.status.as_str().to_uppercase()),
        );
        let ids: Vec<&str> = e.scenarios.iter().map(|s| s.id.as_str()).collect();
        let _ = writeln!(
            out,
            "    {label} all {} scenarios ({})",
            ids.len(),
            ids.join(", ")
        );
        for line in first.feedback.lines() {
            let _ = writeln!(out, "            {}", escape::text(line));
        }
        return;
    }
    for s in &e.scenarios {
        scenario(out, s, color);
    }
}

/// The one verdict of an exercise none of whose scenarios ran (not found, did not build).
fn not_run(e: &ExerciseResult) -> Option<&ScenarioResult> {
    let first = e.scenarios.first()?;
    let same = e
        .scenarios
        .iter()
        .all(|s| s.status == first.status && s.feedback == first.feedback && s.duration_ms == 0);
    (e.scenarios.len() > 1 && same && first.status != Status::Pass).then_some(first)
}

fn scenario(out: &mut String, s: &ScenarioResult, color: bool) {
    let label = paint(
        color,
        status_style(s.status),
        &format!("{:<7}", s.status.as_str().to_uppercase()),
    );
    // A skip judged nothing: its points are not graded, not lost.
    let points = match s.status {
        Status::Skip => format!("-/{} not graded", s.max_points),
        _ => format!("{}/{}", s.points, s.max_points),
    };
    let _ = writeln!(out, "    {label} {:<32} {points}", s.id);
    for line in s.feedback.lines() {
        let _ = writeln!(out, "            {}", escape::text(line));
    }
    if s.status == Status::Pass {
        return;
    }
    for run in &s.runs {
        let shown = run.transcript.len().min(QUOTED);
        let skipped = run.transcript.len() - shown;
        let _ = writeln!(
            out,
            "            {} transcript{}:",
            run.label,
            if skipped > 0 {
                format!(" (last {shown} of {} lines)", run.transcript.len())
            } else {
                String::new()
            }
        );
        for entry in &run.transcript[skipped..] {
            let who = match entry.source {
                Source::Harness => "  ::",
                Source::Stdout => "out|",
                Source::Stderr => "err|",
            };
            let _ = writeln!(
                out,
                "            {:>7.3}s {who} {}",
                entry.at_ms as f64 / 1000.0,
                escape::text(&entry.text)
            );
        }
    }
}

/// How the runs' network was held, with the ports of the exercises graded (an exercise
/// unknown to this build adds none).
fn network_line(r: &SubmissionResult) -> String {
    let mut ports: Vec<u16> = r
        .exercises
        .iter()
        .filter_map(|e| crate::exercises::get(&e.id))
        .flat_map(|e| e.ports.iter().copied())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    r.guarantees.network.describe(&ports)
}

/// The report header's account of the layers that held, probed at start-up.
pub fn sandbox_line(g: &crate::sandbox::Guarantees) -> String {
    let mut held = Vec::new();
    if g.namespaces {
        let user = if g.user_namespace { "user, " } else { "" };
        let net = if g.private_network { ", network" } else { "" };
        held.push(format!(
            "namespaces ({user}pid, mount, IPC{net}), a private root with its own /tmp, /var/tmp, /dev/shm and /run/lock"
        ));
    } else if g.landlock_abi > 0 {
        let scoped = if crate::sandbox::landlock::scopes_signals(g.landlock_abi) {
            ", signals scoped to the run"
        } else {
            ""
        };
        held.push(format!(
            "Landlock ABI {} (files: the system read-only, its own copy and home{scoped}); no namespaces here, so /tmp and the network are shared and runs of one exercise take turns",
            g.landlock_abi
        ));
    } else {
        held.push("no isolation layer held: a program may read other files of this user and signal the grader (see README, \"What a verdict rests on\")".to_string());
    }
    if g.separate_uid {
        held.push("a uid of its own per run".into());
    }
    if !g.signals_contained {
        held.push("kill(-1) can reach the grader".into());
    }
    held.join(", ")
}

#[cfg(test)]
mod tests {
    use super::sandbox_line;
    use crate::sandbox::Guarantees;

    #[test]
    fn a_fault_is_labelled_fault_and_a_failed_build_error() {
        let text = super::render(&[super::super::sample::fault_and_build_failure()], false);
        assert!(
            text.contains("    FAULT   process.exit                     0/1\n            grader fault: the scenario panicked"),
            "{text}"
        );
        assert!(
            text.contains("    ERROR   all 2 scenarios (signals.prompt, signals.hygiene)\n            does not compile:"),
            "{text}"
        );
    }

    #[test]
    fn the_header_says_how_the_network_was_held_with_the_exercises_ports() {
        use crate::sandbox::guarantees::NetworkHold;
        let mut r = super::super::sample::fault_and_build_failure();
        r.guarantees.network = NetworkHold::TcpPorts { landlock_abi: 7 };
        let text = super::render(std::slice::from_ref(&r), false);
        assert!(
            text.contains("; network: no TCP port at all (Landlock ABI 7); time scale"),
            "{text}"
        );
        r.exercises[0].id = "time_server".into();
        r.exercises[1].id = "echo_server".into();
        let text = super::render(std::slice::from_ref(&r), false);
        assert!(
            text.contains("; network: TCP ports 55555, 65432 only (Landlock ABI 7);"),
            "{text}"
        );
        r.guarantees.network = NetworkHold::PrivateNamespace;
        let text = super::render(&[r], false);
        assert!(
            text.contains("; network: private network namespace;"),
            "{text}"
        );
    }

    #[test]
    fn the_sandbox_line_names_what_held_in_each_mode() {
        let root = Guarantees {
            separate_uid: true,
            private_network: true,
            private_tmp: true,
            namespaces: true,
            private_filesystem: true,
            signals_contained: true,
            ..Guarantees::default()
        };
        assert_eq!(
            sandbox_line(&root),
            "namespaces (pid, mount, IPC, network), a private root with its own /tmp, /var/tmp, /dev/shm and /run/lock, a uid of its own per run"
        );
        let user = Guarantees {
            separate_uid: false,
            user_namespace: true,
            ..root.clone()
        };
        assert!(sandbox_line(&user).starts_with("namespaces (user, pid, mount, IPC, network)"));
        let container = Guarantees {
            separate_uid: true,
            landlock_abi: 7,
            private_filesystem: true,
            signals_contained: true,
            ..Guarantees::default()
        };
        assert!(sandbox_line(&container).starts_with("Landlock ABI 7 (files: the system read-only, its own copy and home, signals scoped to the run)"));
        let bare = Guarantees::default();
        assert!(sandbox_line(&bare).contains("no isolation layer held"));
        assert!(sandbox_line(&bare).ends_with("kill(-1) can reach the grader"));
    }
}
