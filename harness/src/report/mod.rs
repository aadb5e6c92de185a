//! Renderers: results in, text out. Renderers never run anything.
//!
//! **Architecture Invariant:** reports quote student output and never interpolate it: every
//! byte a program printed passes through the format's own escaping (`escape::text` for
//! terminals, XML escaping, serde for JSON, Markdown/HTML escaping, CSV quoting).

pub mod changes;
pub mod csv;
pub mod escape;
pub mod gradescope;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod prairielearn;

use crate::outcome::Status;
use crate::result::{ProgramState, ScenarioResult, SubmissionResult};
use crate::run::transcript::Source;
use std::fmt::Write;

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    Gradescope,
    Markdown,
    /// A gradebook: one row per student.
    Csv,
    /// PrairieLearn's external-grader results.json (score in [0, 1], under 1 MB).
    Prairielearn,
    /// One self-contained HTML page: timelines, processes, pictures; a class overview.
    Html,
}

/// Renders `results` in `format`. `color` applies to the human format only.
pub fn render(format: Format, results: &[SubmissionResult], color: bool) -> String {
    match format {
        Format::Human => human::render(results, color),
        Format::Json => json::render(results),
        Format::Junit => junit::render(results),
        Format::Gradescope => gradescope::render(results),
        Format::Markdown => markdown::render(results),
        Format::Csv => csv::render(results),
        Format::Prairielearn => prairielearn::render(results),
        Format::Html => html::render(results),
    }
}

/// A scenario's feedback followed by its runs' transcripts, as plain (unescaped) text for
/// formats that carry one text per test.
pub fn detail(s: &ScenarioResult) -> String {
    let mut out = s.feedback.clone();
    for run in &s.runs {
        let _ = write!(out, "\n{} transcript:", run.label);
        for e in &run.transcript {
            let who = match e.source {
                Source::Harness => "  ::",
                Source::Stdout => "out|",
                Source::Stderr => "err|",
            };
            let _ = write!(out, "\n{:>8.3}s {who} {}", e.at_ms as f64 / 1000.0, e.text);
        }
    }
    out
}

/// What kept scenarios from judging the program: one note per exercise it concerns,
/// `"<exercise>: grader fault"` (a fault of the grader, not of the student) or
/// `"<exercise>: did not build"` (the student's build failed), then the points not graded
/// (see [`not_graded`]).
pub fn notes(r: &SubmissionResult) -> Vec<String> {
    let mut out = Vec::new();
    for e in &r.exercises {
        if e.scenarios.iter().any(|s| s.status == Status::Fault) {
            out.push(format!("{}: grader fault", e.id));
        } else if e.program == ProgramState::BuildFailed {
            out.push(format!("{}: did not build", e.id));
        }
    }
    out.extend(not_graded(r));
    out
}

/// The points left out of the total because nothing judged them (`skip`), and why:
/// `27 points not graded (tools missing: ffmpeg, matplotlib, PyQt6; run `sysgrade doctor`)`.
/// `None` when every scenario was judged.
pub fn not_graded(r: &SubmissionResult) -> Option<String> {
    if r.not_graded == 0 {
        return None;
    }
    let n = r.not_graded;
    let points = if n == 1 { "point" } else { "points" };
    let why = if r.missing_tools.is_empty() {
        "this machine could not observe them: see each skip".to_string()
    } else {
        format!("tools missing: {}", r.missing_tools.join(", "))
    };
    Some(format!(
        "{n} {points} not graded ({why}; run `sysgrade doctor`)"
    ))
}

/// Results for the renderers' tests: `process` ran, one scenario hit a grader fault;
/// `signals` did not build (the student's `error`).
/// Writes a results file for an engine that reads it (Gradescope, PrairieLearn): through a
/// temporary file in the same folder, synced, made readable by all and renamed over `file`, so
/// a reader never sees half of it. Makes the folder if needed.
pub fn write_atomically(file: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt;
    let dir = file.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".results-")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.persist(file).map(drop).map_err(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    fn skipped_points_are_left_out_of_the_total_and_named_with_their_tools() {
        let r = sample::skipped_for_ffmpeg();
        assert_eq!((r.score, r.max_score, r.not_graded), (1, 1, 3));
        assert_eq!(r.missing_tools, ["ffmpeg", "ffprobe"]);
        assert_eq!(
            super::not_graded(&r).as_deref(),
            Some("3 points not graded (tools missing: ffmpeg, ffprobe; run `sysgrade doctor`)")
        );
        assert!(r.all_passed());
        let graded = sample::fault_and_build_failure();
        assert_eq!((graded.not_graded, super::not_graded(&graded)), (0, None));
    }

    #[test]
    fn every_format_says_what_was_not_graded() {
        use super::{render, Format};
        let r = [sample::skipped_for_ffmpeg()];
        let human = render(Format::Human, &r, false);
        assert!(
            human.contains("Total: 1/1 graded; 3 points not graded (tools missing: ffmpeg, ffprobe; run `sysgrade doctor`)"),
            "{human}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(Format::Json, &r, false)).expect("JSON");
        assert_eq!(json["max_score"], 1);
        assert_eq!(json["not_graded"], 3);
        assert_eq!(
            json["missing_tools"],
            serde_json::json!(["ffmpeg", "ffprobe"])
        );
        let csv = render(Format::Csv, &r, false);
        assert!(csv.contains("\"1\",\"1\",\"3 points not graded"), "{csv}");
        let md = render(Format::Markdown, &r, false);
        assert!(md.contains("**1/1** (3 not graded)"), "{md}");
        assert!(
            md.contains("**Not graded**") && !md.contains("**Lost points**"),
            "{md}"
        );
        let junit = render(Format::Junit, &r, false);
        assert!(junit.contains("skipped=\"2\""), "{junit}");
        let gs: serde_json::Value =
            serde_json::from_str(&render(Format::Gradescope, &r, false)).expect("JSON");
        assert_eq!(gs["tests"][1]["max_score"], 0);
        assert!(gs["tests"][1].get("status").is_none());
        assert!(gs["output"]
            .as_str()
            .is_some_and(|o| o.contains("3 points not graded")));
    }
}

#[cfg(test)]
pub(crate) mod sample {
    use crate::outcome::Status;
    use crate::result::{ExerciseResult, ProgramState, ScenarioResult, SubmissionResult};

    pub const FAULT: &str =
        "grader fault: the scenario panicked (a bug in the harness; please report it)";
    pub const COMPILE: &str = "does not compile: signals.cpp:8:1: error: expected ';'";

    fn scenario(id: &str, status: Status, feedback: &str) -> ScenarioResult {
        let pass = status == Status::Pass;
        ScenarioResult {
            id: id.into(),
            status,
            points: u32::from(pass),
            max_points: 1,
            feedback: feedback.into(),
            duration_ms: 0,
            hidden: false,
            passes: None,
            runs: Vec::new(),
            missing_tools: Vec::new(),
        }
    }

    /// `make_movie` handed in on a machine without ffmpeg: two scenarios not graded (the
    /// second worth 2), one passed.
    pub fn skipped_for_ffmpeg() -> SubmissionResult {
        let skipped = |id: &str, max_points| ScenarioResult {
            max_points,
            missing_tools: vec!["ffmpeg".into(), "ffprobe".into()],
            ..scenario(id, Status::Skip, "`ffmpeg` is not installed")
        };
        let movie = ExerciseResult {
            id: "make_movie".into(),
            source: Some("make_movie.py".into()),
            program: ProgramState::Ready,
            language: None,
            score: 0,
            max_score: 0,
            not_graded: 0,
            warnings: None,
            scenarios: vec![
                skipped("make_movie.video", 1),
                skipped("make_movie.frames", 2),
                scenario("make_movie.hygiene", Status::Pass, "nothing left behind"),
            ],
        }
        .total();
        SubmissionResult {
            exercises: vec![movie],
            ..fault_and_build_failure()
        }
        .total()
    }

    pub fn fault_and_build_failure() -> SubmissionResult {
        let process = ExerciseResult {
            id: "process".into(),
            source: Some("process.py".into()),
            program: ProgramState::Ready,
            language: None,
            score: 0,
            max_score: 0,
            not_graded: 0,
            warnings: None,
            scenarios: vec![
                scenario("process.ids", Status::Pass, "printed its ids"),
                scenario("process.exit", Status::Fault, FAULT),
                scenario("process.hygiene", Status::Pass, "nothing left behind"),
            ],
        }
        .total();
        let signals = ExerciseResult {
            id: "signals".into(),
            source: Some("signals.cpp".into()),
            program: ProgramState::BuildFailed,
            language: None,
            score: 0,
            max_score: 0,
            not_graded: 0,
            warnings: None,
            scenarios: ["signals.prompt", "signals.hygiene"]
                .map(|id| scenario(id, Status::Error, COMPILE))
                .to_vec(),
        }
        .total();
        SubmissionResult {
            submission: "class/ada".into(),
            score: 0,
            max_score: 0,
            not_graded: 0,
            missing_tools: Vec::new(),
            exercises: vec![process, signals],
            problems: Vec::new(),
            not_found: Vec::new(),
            course: None,
            guarantees: Default::default(),
            time_scale: 1.0,
            setup: Default::default(),
        }
        .total()
    }
}
