//! `sysgrade prairielearn`: PrairieLearn's external grader. It grades `<root>/student` with
//! `<root>/tests/course.toml` (without one, on the exercises found, as `grade` does without a
//! course file) and writes `<root>/results/results.json` atomically. PrairieLearn reads the
//! results only when the grader exits 0, so it exits 0 whenever it wrote them: also for a
//! fault of the grader (said so in the results, not gradable when nothing was judged) and for
//! an empty submission (not gradable). 2 only when the results could not be written.

use crate::course::Course;
use crate::exercises;
use crate::grading::{self, Audience, Request, Scope};
use crate::progress::Progress;
use crate::report::{self, prairielearn, Format};
use crate::result::SubmissionResult;
use crate::settings::Settings;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct PrairieLearnArgs {
    /// The folder PrairieLearn mounts: `student/` (the submission), `tests/` (optionally
    /// `course.toml`), `results/` (where `results.json` is written).
    #[arg(long, value_name = "DIR", default_value = "/grade")]
    pub root: PathBuf,
    /// No progress output on standard error.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `prairielearn`; returns the process exit code.
pub fn run(args: &PrairieLearnArgs, mut settings: Settings) -> i32 {
    let text = match grade(args, &mut settings) {
        Ok(results) => report::render(Format::Prairielearn, &results, false),
        Err(e) => {
            let why = crate::error::one_line(&e);
            eprintln!("error: {why}");
            prairielearn::grader_failed(&why)
        }
    };
    let file = args.root.join("results").join("results.json");
    match report::write_atomically(&file, &text) {
        Ok(()) => {
            eprintln!("wrote {}", file.display());
            0
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", file.display());
            2
        }
    }
}

/// Grades the student's folder for students' eyes (hidden scenarios' feedback withheld).
fn grade(
    args: &PrairieLearnArgs,
    settings: &mut Settings,
) -> anyhow::Result<Vec<SubmissionResult>> {
    let course_file = args.root.join("tests").join("course.toml");
    let (course, exercises, scope) = if course_file.exists() {
        let course = Course::load(&course_file)?;
        let selected = course.selected();
        (course, selected, Scope::Listed)
    } else {
        (Course::default(), exercises::ALL.to_vec(), Scope::Found)
    };
    course.apply(settings);
    let request = Request {
        submissions: vec![args.root.join("student")],
        exercises,
        course,
        repeat: 1,
        scope,
        audience: Audience::Students,
    };
    let mut progress = Progress::new(args.quiet);
    let results = grading::grade(settings, &request, &mut |e| progress.on_event(e))?;
    progress.finish();
    Ok(results)
}
