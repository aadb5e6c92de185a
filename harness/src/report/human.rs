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
        _ => AnsiColor::Red,
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
    let g = &r.guarantees;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let _ = writeln!(
        out,
        "  guarantees: own uid per run: {}, own network: {}, own /tmp and /dev/shm: {}; time scale {}",
        yes_no(g.separate_uid),
        yes_no(g.private_network),
        yes_no(g.private_tmp),
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
    for e in &r.exercises {
        exercise(out, e, color);
    }
    let total = format!("Total: {}/{}", r.score, r.max_score);
    let _ = writeln!(out, "{}\n", paint(color, bold, &total));
}

fn exercise(out: &mut String, e: &ExerciseResult, color: bool) {
    let source = e
        .source
        .as_deref()
        .map(escape::text)
        .unwrap_or_else(|| "not found".into());
    let _ = writeln!(out, "\n  {} ({source})  {}/{}", e.id, e.score, e.max_score);
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
    let _ = writeln!(
        out,
        "    {label} {:<32} {}/{}",
        s.id, s.points, s.max_points
    );
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
