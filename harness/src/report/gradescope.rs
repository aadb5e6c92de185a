//! Gradescope's `results.json`, the one renderer behind `--format gradescope` and
//! `sysgrade gradescope grade`: the total, one test per scenario (name, number, tags, score,
//! max_score, status, visibility, output in Markdown), `execution_time`, and `extra_data` for
//! staff (grader version, sandbox rung, course file hash, faults).
//!
//! A course's hidden scenarios get the course's visibility (`after_due_date` by default;
//! `hidden` would also hide the student's total). A `fault` is the grader's: its test says so
//! plainly, and the detail goes to `extra_data`, never to the student as their failure.

use crate::outcome::Status;
use crate::result::{ScenarioResult, SubmissionResult};
use crate::run::transcript::Source;
use crate::sandbox::Guarantees;
use serde_json::{json, Value};
use std::fmt::Write;

/// What the grading knew beyond its results: how long it took, and whether it stopped early.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Wall-clock seconds of the grading; without it, the sum of the scenarios' durations.
    pub execution_secs: Option<f64>,
    /// A fault of the grader outside any scenario, which stopped the grading.
    pub fault: Option<String>,
    /// The grading stopped at the course's wall-clock budget.
    pub overrun: Option<Overrun>,
}

/// The budget a grading ran out of, and the scenarios it did not reach.
#[derive(Debug, Clone)]
pub struct Overrun {
    pub budget_secs: u64,
    pub not_reached: Vec<String>,
}

pub fn render(results: &[SubmissionResult]) -> String {
    let ctx = Context::default();
    let value = match results {
        [one] => submission(one, &ctx),
        many => Value::Array(many.iter().map(|r| submission(r, &ctx)).collect()),
    };
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// One submission's `results.json` as a value.
pub fn submission(r: &SubmissionResult, ctx: &Context) -> Value {
    let not_reached = ctx
        .overrun
        .as_ref()
        .map_or(&[][..], |o| o.not_reached.as_slice());
    let mut tests = Vec::new();
    for (e, exercise) in r.exercises.iter().enumerate() {
        for (n, s) in exercise.scenarios.iter().enumerate() {
            let number = format!("{}.{}", e + 1, n + 1);
            let reached = !not_reached.contains(&s.id);
            tests.push(test(r, s, &exercise.id, &number, reached));
        }
    }
    json!({
        "score": r.score,
        "execution_time": execution_secs(r, ctx),
        "output": output(r, ctx),
        "output_format": "md",
        "test_output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": extra_data(r, ctx),
        "tests": tests,
    })
}

fn execution_secs(r: &SubmissionResult, ctx: &Context) -> u64 {
    let secs = ctx.execution_secs.unwrap_or_else(|| {
        r.exercises
            .iter()
            .flat_map(|e| &e.scenarios)
            .map(|s| s.duration_ms as f64 / 1000.0)
            .sum()
    });
    secs.ceil().max(0.0) as u64
}

/// The top-level message: the total, then what kept anything from being judged, in words that
/// say whose problem it was.
fn output(r: &SubmissionResult, ctx: &Context) -> String {
    let mut out = match r.not_graded {
        0 => format!("**sysgrade: {}/{} points**", r.score, r.max_score),
        _ => format!("**sysgrade: {}/{} points graded**", r.score, r.max_score),
    };
    if let Some(o) = &ctx.overrun {
        let _ = write!(
            out,
            "\n\n**Grading stopped at the course's time budget of {} s.** {} tests were not reached: they are not judged, and no point is lost for them until your course staff regrade.",
            o.budget_secs,
            o.not_reached.len()
        );
    }
    let faults = faults(r, ctx).len();
    if ctx.fault.is_some() || faults > 0 {
        let _ = write!(
            out,
            "\n\n**The grader failed, not your program**{}. The tests it could judge keep their scores; your course staff can see what went wrong and will regrade.",
            match faults {
                0 => String::new(),
                n => format!(" ({n} tests not judged)"),
            }
        );
    }
    for p in r.problems.iter().chain(&super::notes(r)) {
        let _ = write!(out, "\n\n{}", super::markdown::md(p));
    }
    out
}

/// The scenarios the grader failed on (not counting those not reached).
fn faults<'a>(r: &'a SubmissionResult, ctx: &Context) -> Vec<&'a ScenarioResult> {
    let not_reached = ctx
        .overrun
        .as_ref()
        .map_or(&[][..], |o| o.not_reached.as_slice());
    r.exercises
        .iter()
        .flat_map(|e| &e.scenarios)
        .filter(|s| s.status == Status::Fault && !not_reached.contains(&s.id))
        .collect()
}

/// For staff: the grader, the sandbox, the course file, and every fault in full.
fn extra_data(r: &SubmissionResult, ctx: &Context) -> Value {
    let faults: Vec<Value> = faults(r, ctx)
        .iter()
        .map(|s| json!({ "test": s.id, "detail": s.feedback }))
        .collect();
    let mut extra = json!({
        "grader": "sysgrade",
        "version": env!("CARGO_PKG_VERSION"),
        "sandbox": { "rung": rung(&r.guarantees), "guarantees": r.guarantees },
        "course_sha256": r.setup.course_sha256,
        "time_scale": r.time_scale,
        "faults": faults,
    });
    if let Some(stretch) = &r.setup.cpu_quota {
        extra["cpu_quota"] = json!(stretch);
    }
    if let Some(fault) = &ctx.fault {
        extra["grader_fault"] = json!(fault);
    }
    if let Some(o) = &ctx.overrun {
        extra["overrun"] = json!({ "budget_secs": o.budget_secs, "not_reached": o.not_reached });
    }
    extra
}

/// The sandbox's rung, in one word: `namespaces`, `landlock` or `none`.
pub fn rung(g: &Guarantees) -> &'static str {
    if g.namespaces {
        "namespaces"
    } else if g.landlock_abi > 0 {
        "landlock"
    } else {
        "none"
    }
}

/// One scenario as a Gradescope test. A `skip` judged nothing, so it is worth nothing here
/// (`max_score` 0) and carries no status: the student loses no point for it. A `fault`
/// carries no status either, and says the grader failed.
fn test(
    r: &SubmissionResult,
    s: &ScenarioResult,
    exercise: &str,
    number: &str,
    reached: bool,
) -> Value {
    let visibility = if s.hidden {
        r.setup.hidden_visibility.as_str()
    } else {
        "visible"
    };
    let mut test = json!({
        "name": s.id,
        "number": number,
        "tags": [exercise],
        "score": s.points,
        "max_score": s.max_points,
        "output": markdown(s),
        "visibility": visibility,
    });
    match s.status {
        Status::Skip => {
            test["max_score"] = json!(0);
            test["output"] = json!(format!("Not graded (no point lost): {}", markdown(s)));
        }
        Status::Fault if !reached => {
            test["output"] = json!("**Not reached**: grading stopped at the course's time budget before this test. It is not judged; your course staff will regrade.");
        }
        Status::Fault => {
            test["output"] = json!("**The grader failed here, not your program.** This test is not judged; your course staff can see what went wrong and will regrade.");
        }
        Status::Pass => test["status"] = json!("passed"),
        _ => test["status"] = json!("failed"),
    }
    test
}

/// A scenario's feedback as Markdown paragraphs, then each run's transcript in a code block.
pub fn markdown(s: &ScenarioResult) -> String {
    let mut out = s
        .feedback
        .lines()
        .map(super::markdown::md)
        .collect::<Vec<_>>()
        .join("  \n");
    for run in &s.runs {
        let lines: Vec<String> = run
            .transcript
            .iter()
            .map(|e| {
                let who = match e.source {
                    Source::Harness => "  ::",
                    Source::Stdout => "out|",
                    Source::Stderr => "err|",
                };
                format!(
                    "{:>8.3}s {who} {}",
                    e.at_ms as f64 / 1000.0,
                    super::escape::text(&e.text)
                )
            })
            .collect();
        let body = lines.join("\n");
        let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
        let _ = write!(
            out,
            "\n\n**{} transcript**\n\n{fence}text\n{body}\n{fence}",
            super::markdown::md(&run.label)
        );
    }
    out
}

/// The longest run of backticks in `text`: a fence one longer cannot be closed by it.
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::{Context, Overrun};

    fn render_one(r: &crate::result::SubmissionResult, ctx: &Context) -> serde_json::Value {
        super::submission(r, ctx)
    }

    #[test]
    fn a_fault_is_named_the_graders_and_a_failed_build_the_students() {
        let v = render_one(&sample::fault_and_build_failure(), &Context::default());
        let output = v["output"].as_str().expect("output");
        assert!(output.starts_with("**sysgrade: 2/5 points**"), "{output}");
        assert!(
            output.contains("The grader failed, not your program"),
            "{output}"
        );
        assert!(output.contains("signals: did not build"), "{output}");
        let exit = &v["tests"][1];
        assert_eq!(exit["name"], "process.exit");
        assert_eq!(exit["status"], serde_json::Value::Null);
        assert!(exit["output"]
            .as_str()
            .is_some_and(|o| o.contains("not your program")));
        assert_eq!(v["extra_data"]["faults"][0]["test"], "process.exit");
        assert_eq!(v["extra_data"]["faults"][0]["detail"], sample::FAULT);
        assert_eq!(v["tests"][1]["tags"][0], "process");
        assert_eq!(v["tests"][1]["number"], "1.2");
        assert_eq!(v["output_format"], "md");
    }

    #[test]
    fn hidden_scenarios_take_the_courses_visibility() {
        use crate::engines::gradescope::Visibility;
        let mut r = sample::fault_and_build_failure();
        r.exercises[0].scenarios[0].hidden = true;
        let v = render_one(&r, &Context::default());
        assert_eq!(v["tests"][0]["visibility"], "after_due_date");
        assert_eq!(v["tests"][1]["visibility"], "visible");
        r.setup.hidden_visibility = Visibility::Hidden;
        assert_eq!(
            render_one(&r, &Context::default())["tests"][0]["visibility"],
            "hidden"
        );
    }

    #[test]
    fn an_overrun_names_what_was_not_reached() {
        let r = sample::fault_and_build_failure();
        let ctx = Context {
            execution_secs: Some(12.2),
            fault: None,
            overrun: Some(Overrun {
                budget_secs: 10,
                not_reached: vec!["process.exit".into()],
            }),
        };
        let v = render_one(&r, &ctx);
        assert_eq!(v["execution_time"], 13);
        assert!(v["tests"][1]["output"]
            .as_str()
            .is_some_and(|o| o.starts_with("**Not reached**")));
        assert_eq!(v["extra_data"]["overrun"]["not_reached"][0], "process.exit");
        assert!(v["output"]
            .as_str()
            .is_some_and(|o| o.contains("time budget of 10 s")));
    }

    #[test]
    fn a_transcript_cannot_close_its_code_block() {
        assert_eq!(super::longest_backtick_run("a ``` b ````` c"), 5);
        assert_eq!(super::longest_backtick_run("none"), 0);
    }
}
