//! The command line shared by the `sysgrade` and `harness` binaries and `cargo xtask grade`:
//! `grade` (once, or `--watch`), `list`, `explain`, `merge`, `doctor` and `prairielearn`.
//!
//! Exit status: 0 when every graded scenario passed, 1 when any did not, 2 for a usage error
//! or a fault of the grader (a scenario whose status is `fault`, or an error of the CLI);
//! with `--exit-status report` (for grading engines), 0 whenever every report was written.

mod catalogue;
mod doctor;
pub mod exit;
mod gradescope;
mod output;
mod prairielearn;
mod watch;

use crate::class::{self, auto::PartitionArg, Partition};
use crate::course::Course;
use crate::exercises::{self, Exercise};
use crate::grading::{self, Audience, Request, Scope};
use crate::progress::Progress;
use crate::report::{self, Format};
use crate::result::SubmissionResult;
use crate::settings::Settings;
use std::path::PathBuf;

pub use output::emit;

#[derive(clap::Parser)]
#[command(
    name = "sysgrade",
    version,
    about = "Grade systems-programming submissions"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

// Parsed once per process: the size of `GradeArgs` costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(clap::Subcommand)]
enum Cmd {
    /// Grade submission folders (or a class: a folder of student folders).
    Grade(GradeArgs),
    /// List every exercise's scenario ids, each with what a correct program does.
    List,
    /// Explain an exercise: what a correct program does, each scenario and how it is checked.
    Explain {
        /// The exercise id, as `sysgrade list` shows it.
        exercise: String,
    },
    /// Join the JSON reports of class slices (`--partition`) into one report.
    Merge(MergeArgs),
    /// What this machine gives a grading: each sandbox layer, kernel facility and optional
    /// tool, why one is missing and how to fix it, which exercises will be fully judged.
    Doctor(doctor::DoctorArgs),
    /// PrairieLearn's external grader: grade /grade/student (with /grade/tests/course.toml)
    /// into /grade/results/results.json; exits 0 whenever the results were written.
    Prairielearn(prairielearn::PrairieLearnArgs),
    /// Gradescope: build autograder.zip, grade inside its container, replay it here.
    Gradescope {
        #[command(subcommand)]
        command: gradescope::Command,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// JSON reports (each one submission object or an array of them), or results folders
    /// (`grade --results DIR`: every result in DIR).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The merged report's format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
}

/// Runs `merge`; returns the process exit code (2 on unreadable or overlapping reports).
pub fn merge(args: &MergeArgs) -> i32 {
    let mut reports = Vec::new();
    for file in &args.files {
        if file.is_dir() {
            match crate::results_dir::Store::open(file).and_then(|s| s.reports()) {
                Ok(found) if found.is_empty() => {
                    eprintln!("error: {} holds no results", file.display());
                    return 2;
                }
                Ok(found) => reports.extend(found),
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            }
            continue;
        }
        match std::fs::read_to_string(file) {
            Ok(text) => reports.push((file.display().to_string(), text)),
            Err(e) => {
                eprintln!("error: reading {}: {e}", file.display());
                return 2;
            }
        }
    }
    match crate::merge::join(&reports) {
        Ok(all) if args.format == Format::Gradescope && all.len() > 1 => {
            eprintln!("error: {}", output::GRADESCOPE_ONE);
            2
        }
        Ok(all) => {
            emit(&report::render(args.format, &all, false));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// The whole command line of a grading binary; never returns.
pub fn main() -> ! {
    crate::sandbox::supervisor::dispatch();
    let cli = <Cli as clap::Parser>::parse();
    let code = match cli.command {
        Cmd::Grade(args) => grade(&args, Settings::from_env()),
        Cmd::Merge(args) => merge(&args),
        Cmd::List => catalogue::list(),
        Cmd::Explain { exercise } => catalogue::explain(&exercise),
        Cmd::Doctor(args) => doctor::run(&args, &Settings::from_env()),
        Cmd::Prairielearn(args) => prairielearn::run(&args, Settings::from_env()),
        Cmd::Gradescope { command } => gradescope::run(&command),
    };
    std::process::exit(code);
}

#[derive(Debug, Clone, clap::Args)]
pub struct GradeArgs {
    /// Submission folders to grade, or one class folder (one folder per student).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Treat the folder as a class even when detection says otherwise.
    #[arg(long)]
    pub class: bool,
    /// Grade only these exercises (repeatable); each counts even when not found.
    #[arg(long = "exercise", value_name = "ID")]
    pub exercises: Vec<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the report (in --format) to PATH; the terminal gets the human report. For
    /// gradescope and several submissions PATH is a folder: PATH/<student>/results.json.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// A course file: exercises, points, limits, hidden and extra scenarios, aliases.
    #[arg(long, value_name = "FILE")]
    pub course: Option<PathBuf>,
    /// Grade only slice K of N of a class (stable, by student folder name); `auto` reads the
    /// slice from the engine: JOB_COMPLETION_INDEX (Kubernetes, 0-based, with
    /// SYSGRADE_PARTITIONS or --partitions) or CI_NODE_INDEX/CI_NODE_TOTAL (GitLab).
    #[arg(long, value_name = "K/N|auto")]
    pub partition: Option<PartitionArg>,
    /// With --partition auto: the number of slices (a Kubernetes Job's completions).
    #[arg(long, value_name = "N", requires = "partition")]
    pub partitions: Option<u64>,
    /// What the exit status says: `verdicts` (1 when a student lost points) or `report` (0
    /// whenever every report was written, for grading engines; 2 for usage errors and faults
    /// of the grader, never 1).
    #[arg(long, value_enum, default_value = "verdicts", value_name = "WHAT")]
    pub exit_status: exit::ExitStatus,
    /// Run every scenario N times; a verdict that changes is reported as `flaky`.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub repeat: u32,
    /// Show hidden scenarios' feedback (staff view; always so for --format gradescope, which
    /// hides hidden tests from students itself).
    #[arg(long)]
    pub staff: bool,
    /// After grading, re-grade each exercise whose files change and show what changed.
    #[arg(long)]
    pub watch: bool,
    /// Scenarios run at once (default: what the machine and the isolation allow).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Multiply every deadline (slow machines); also SYSGRADE_TIME_SCALE.
    #[arg(long)]
    pub time_scale: Option<f64>,
    /// Official grading: a scenario that cannot be judged here (a tool is missing, the
    /// machine cannot observe it) is a fault of the grader (exit 2) instead of a `skip`. Also
    /// a course file's `require_tools = true`.
    #[arg(long)]
    pub require_tools: bool,
    /// No progress output on standard error.
    #[arg(long, short)]
    pub quiet: bool,
    /// Store each student's result in DIR as soon as it is done, and reuse the stored
    /// results whose submission, course file, exercises and grader are unchanged.
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// With --results: grade this exercise (for everyone) or this student again (repeatable).
    #[arg(long, value_name = "EXERCISE|STUDENT", requires = "results")]
    pub regrade: Vec<String>,
    /// Where cargo submissions are built (shared between gradings).
    #[arg(long, hide = true)]
    pub cargo_target_dir: Option<PathBuf>,
}

/// Runs `grade`; returns the process exit code.
pub fn grade(args: &GradeArgs, mut settings: Settings) -> i32 {
    match grade_inner(args, &mut settings) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", crate::error::one_line(&e));
            2
        }
    }
}

fn grade_inner(args: &GradeArgs, settings: &mut Settings) -> anyhow::Result<i32> {
    let mut course = match &args.course {
        Some(path) => Course::load(path)?,
        None => Course::default(),
    };
    course.require_tools |= args.require_tools;
    course.apply(settings);
    configure(args, settings)?;
    let partition = partition(args)?;
    settings.follow_cpu_quota();
    // Without a course file or --exercise, a folder is graded on what it holds. Slices of a
    // class (--partition) keep every exercise, so that they merge into one gradebook.
    let (exercises, scope) = match (&args.course, args.exercises.is_empty()) {
        (_, false) => (select(&args.exercises)?, Scope::Listed),
        (Some(_), true) => (course.selected(), Scope::Listed),
        (None, true) if partition.is_some() => (exercises::ALL.to_vec(), Scope::Listed),
        (None, true) => (exercises::ALL.to_vec(), Scope::Found),
    };
    let (submissions, class) = submissions(args, partition)?;
    let several = class || submissions.len() > 1;
    if args.format == Format::Gradescope && several && args.output.is_none() {
        anyhow::bail!("{}", output::GRADESCOPE_ONE);
    }
    let request = Request {
        submissions,
        exercises,
        course,
        repeat: args.repeat.max(1),
        scope,
        audience: audience(args),
    };
    if args.watch {
        anyhow::ensure!(
            args.results.is_none(),
            "--watch and --results do not go together: --watch grades again as files change"
        );
        anyhow::ensure!(
            !several,
            "--watch grades one submission folder, not {} (a class or several folders)",
            request.submissions.len()
        );
        return watch::run(settings, request);
    }
    let mut progress = Progress::new(args.quiet);
    let results = match &args.results {
        Some(dir) => {
            let options = crate::results_dir::Options {
                dir,
                regrade: &args.regrade,
                course_file: args.course.as_deref(),
            };
            let (results, summary) =
                crate::results_dir::grade(settings, &request, options, &mut |e| {
                    progress.on_event(e)
                })?;
            progress.finish();
            eprintln!("{summary}");
            results
        }
        None => {
            let results = grading::grade(settings, &request, &mut |e| progress.on_event(e))?;
            progress.finish();
            results
        }
    };
    let code = args.exit_status.code(exit_code(&results));
    output::deliver(args, results, several)?;
    Ok(code)
}

/// `grade`'s exit status for its results: 2 when any scenario is a fault of the grader (its
/// verdicts cannot all be trusted), else 1 when not all passed, else 0.
fn exit_code(results: &[SubmissionResult]) -> i32 {
    if results.iter().any(SubmissionResult::has_fault) {
        2
    } else if results.iter().all(SubmissionResult::all_passed) {
        0
    } else {
        1
    }
}

/// Who the results are for: staff with `--staff`, and for Gradescope, which gets every
/// scenario's feedback and hides the hidden ones from students itself; students otherwise.
fn audience(args: &GradeArgs) -> Audience {
    if args.staff || args.format == Format::Gradescope {
        Audience::Staff
    } else {
        Audience::Students
    }
}

fn configure(args: &GradeArgs, settings: &mut Settings) -> anyhow::Result<()> {
    if let Some(jobs) = args.jobs {
        anyhow::ensure!(jobs > 0, "--jobs must be at least 1");
        settings.jobs = jobs;
    }
    if let Some(scale) = args.time_scale {
        anyhow::ensure!(
            scale > 0.0 && scale.is_finite(),
            "--time-scale must be a positive number"
        );
        settings.time_scale = scale;
    }
    if args.cargo_target_dir.is_some() {
        settings.cargo_target_dir = args.cargo_target_dir.clone();
    }
    // The HTML report draws every scenario's runs, passed ones too.
    settings.keep_transcripts |= args.format == Format::Html;
    Ok(())
}

/// The slice of the class to grade, `--partition auto` resolved from the environment (and
/// said on standard error, for the job's log).
fn partition(args: &GradeArgs) -> anyhow::Result<Option<Partition>> {
    let var = |name: &str| std::env::var(name).ok();
    let resolved = class::auto::resolve(args.partition, args.partitions, &var)?;
    if let Some(r) = resolved
        .as_ref()
        .filter(|_| args.partition == Some(PartitionArg::Auto))
    {
        eprintln!(
            "grading slice {}/{} ({})",
            r.partition.k, r.partition.n, r.from
        );
    }
    Ok(resolved.map(|r| r.partition))
}

/// The folders to grade: the ones given, or a class's members (partitioned if asked); and
/// whether they are a class.
fn submissions(
    args: &GradeArgs,
    partition: Option<Partition>,
) -> anyhow::Result<(Vec<PathBuf>, bool)> {
    for dir in &args.dirs {
        crate::plan::check_folder(dir)?;
    }
    let class = match args.dirs.as_slice() {
        [one] if args.class || partition.is_some() || class::looks_like_class(one) => Some(one),
        _ => None,
    };
    let mut dirs = match class {
        Some(dir) => class::members(dir),
        None => args.dirs.clone(),
    };
    if let (Some(_), Some(results)) = (class, &args.results) {
        // A results folder kept in the class folder is no student.
        dirs.retain(|d| !crate::results_dir::same_folder(d, results));
    }
    anyhow::ensure!(
        !dirs.is_empty(),
        "the class folder {} holds no student folders",
        args.dirs[0].display()
    );
    if let Some(p) = partition {
        dirs.retain(|d| {
            p.holds(
                &d.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        });
    }
    Ok((dirs, class.is_some()))
}

/// The exercises named, or all of them; an unknown one gets the nearest known id.
pub fn select(ids: &[String]) -> Result<Vec<&'static Exercise>, crate::error::Error> {
    if ids.is_empty() {
        return Ok(exercises::ALL.to_vec());
    }
    ids.iter()
        .map(|id| {
            exercises::get(id).ok_or_else(|| crate::error::Error::UnknownExercise {
                id: id.clone(),
                hint: crate::suggest::did_you_mean(id, exercises::ALL.iter().map(|e| e.id)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{audience, exit_code, Cli, Cmd};
    use crate::grading::Audience;
    use crate::outcome::Status;
    use crate::result::{ExerciseResult, ScenarioResult, SubmissionResult};

    fn with(statuses: &[Status]) -> SubmissionResult {
        let scenarios = statuses
            .iter()
            .enumerate()
            .map(|(i, &status)| ScenarioResult {
                id: format!("process.s{i}"),
                status,
                points: 0,
                max_points: 1,
                feedback: String::new(),
                duration_ms: 0,
                hidden: false,
                passes: None,
                runs: Vec::new(),
                missing_tools: Vec::new(),
            })
            .collect();
        SubmissionResult {
            submission: "s".into(),
            score: 0,
            max_score: 0,
            not_graded: 0,
            missing_tools: Vec::new(),
            exercises: vec![ExerciseResult::bare(
                "process",
                Some("process.py".into()),
                scenarios,
            )],
            problems: Vec::new(),
            not_found: Vec::new(),
            course: None,
            guarantees: Default::default(),
            time_scale: 1.0,
            setup: Default::default(),
        }
    }

    #[test]
    fn a_grader_fault_exits_2_a_students_error_1_and_a_skip_is_no_lost_point() {
        assert_eq!(exit_code(&[with(&[Status::Pass, Status::Pass])]), 0);
        assert_eq!(exit_code(&[with(&[Status::Pass, Status::Error])]), 1);
        assert_eq!(exit_code(&[with(&[Status::Pass, Status::Skip])]), 0);
        assert_eq!(exit_code(&[with(&[Status::Fail, Status::Skip])]), 1);
        // Nothing judged at all is no pass.
        assert_eq!(exit_code(&[with(&[Status::Skip, Status::Skip])]), 1);
        assert_eq!(
            exit_code(&[with(&[Status::Pass]), with(&[Status::Error, Status::Fault])]),
            2
        );
    }

    #[test]
    fn staff_and_gradescope_get_hidden_feedback_students_do_not() {
        let audience_of = |line: &[&str]| {
            let cli = <Cli as clap::Parser>::parse_from(
                ["sysgrade", "grade"].iter().chain(line).chain(&["sub"]),
            );
            match cli.command {
                Cmd::Grade(args) => audience(&args),
                _ => unreachable!("a grade command"),
            }
        };
        assert_eq!(audience_of(&[]), Audience::Students);
        assert_eq!(audience_of(&["--format", "json"]), Audience::Students);
        assert_eq!(audience_of(&["--staff"]), Audience::Staff);
        assert_eq!(audience_of(&["--format", "gradescope"]), Audience::Staff);
    }
}
