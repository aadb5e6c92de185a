//! `sysgrade doctor [--format human|json]`: prints what this machine gives a grading. Exit
//! status 0 when the report was produced, whatever it says is missing; 2 on the doctor's own
//! errors.

use super::emit;
use crate::settings::Settings;
use std::io::IsTerminal;

#[derive(Debug, Clone, clap::Args)]
pub struct DoctorArgs {
    #[arg(long, value_enum, default_value = "human")]
    pub format: DoctorFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DoctorFormat {
    /// Sections, one line per layer and tool, the cause and fix under each missing one.
    Human,
    /// The same facts as one JSON object (documented in README.md).
    Json,
}

/// Runs `doctor`; returns the process exit code.
pub fn run(args: &DoctorArgs, settings: &Settings) -> i32 {
    let facts = crate::doctor::gather(settings);
    let text = match args.format {
        DoctorFormat::Human => Ok(crate::doctor::human::render(
            &facts,
            std::io::stdout().is_terminal(),
        )),
        DoctorFormat::Json => crate::doctor::json::render(&facts),
    };
    match text {
        Ok(text) => {
            emit(&text);
            0
        }
        Err(e) => {
            eprintln!("error: rendering the doctor's report: {e}");
            2
        }
    }
}
