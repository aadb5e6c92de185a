//! The `grade` command, shared by the `harness` binary and `cargo xtask grade`.
//!
//! Exit status: 0 when every graded scenario passed, 1 when any did not, 2 for a usage error
//! or a fault of the grader.

use crate::exercises::{self, Exercise};
use crate::report::{self, Format};
use crate::runner::{self, Request};
use crate::settings::Settings;
use std::io::IsTerminal;
use std::path::PathBuf;

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

#[derive(clap::Subcommand)]
enum Cmd {
    /// Grade submission folders.
    Grade(GradeArgs),
    /// List every exercise and scenario id.
    List,
}

/// The whole command line of a grading binary; never returns.
pub fn main() -> ! {
    crate::sandbox::supervisor::dispatch();
    let cli = <Cli as clap::Parser>::parse();
    let code = match cli.command {
        Cmd::Grade(args) => grade(&args, Settings::from_env()),
        Cmd::List => {
            for id in exercises::scenario_ids() {
                println!("{id}");
            }
            0
        }
    };
    std::process::exit(code);
}

#[derive(Debug, Clone, clap::Args)]
pub struct GradeArgs {
    /// Submission folders to grade.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Grade only these exercises (repeatable).
    #[arg(long = "exercise", value_name = "ID")]
    pub exercises: Vec<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Scenarios run at once (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Multiply every deadline (slow machines); also SYSGRADE_TIME_SCALE.
    #[arg(long)]
    pub time_scale: Option<f64>,
    /// Where cargo submissions are built (shared between gradings).
    #[arg(long, hide = true)]
    pub cargo_target_dir: Option<PathBuf>,
}

/// Runs `grade`; returns the process exit code.
pub fn grade(args: &GradeArgs, mut settings: Settings) -> i32 {
    match grade_inner(args, &mut settings) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    }
}

fn grade_inner(args: &GradeArgs, settings: &mut Settings) -> anyhow::Result<i32> {
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
    let request = Request {
        submissions: args.dirs.clone(),
        exercises: select(&args.exercises)?,
    };
    for dir in &request.submissions {
        crate::plan::check_folder(dir)?;
    }
    let results = runner::grade(settings, &request, &mut |_| {})?;
    let color = args.format == Format::Human && std::io::stdout().is_terminal();
    print!("{}", report::render(args.format, &results, color));
    Ok(if results.iter().all(|r| r.all_passed()) {
        0
    } else {
        1
    })
}

/// The exercises named, or all of them.
pub fn select(ids: &[String]) -> Result<Vec<&'static Exercise>, crate::error::Error> {
    if ids.is_empty() {
        return Ok(exercises::ALL.to_vec());
    }
    ids.iter()
        .map(|id| {
            exercises::get(id).ok_or_else(|| {
                let known: Vec<&str> = exercises::ALL.iter().map(|e| e.id).collect();
                crate::error::Error::UnknownExercise(id.clone(), known.join(", "))
            })
        })
        .collect()
}
